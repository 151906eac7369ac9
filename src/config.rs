//! Pure: raw arguments + environment -> a validated `Config`.
//!
//! A flag beats its environment variables, which are then not read at all. A bad value in
//! a flag or an `INIT_*` variable is a usage error naming the option and the value.

use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

use crate::cli::Args;
use crate::signals;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the exit report goes (`--termination-log`, `INIT_TERMINATION_LOG`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TerminationLog {
    /// `/dev/termination-log` when it exists and is writable (Kubernetes mounts it).
    Default,
    /// This path, created if missing.
    Path(String),
    /// Set to the empty string: no report at all.
    Off,
}

/// Kubernetes' default terminationMessagePath.
pub const DEFAULT_TERMINATION_LOG: &str = "/dev/termination-log";

/// Forwarding table: signal FROM is forwarded as TO; TO `None` drops it.
pub type Rewrite = Vec<(i32, Option<i32>)>;

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub grace_period: Duration,
    pub pre_stop_delay: Duration,
    pub rewrite: Rewrite,
    pub pgroup: bool,
    /// `None`: automatic (on when not PID 1).
    pub subreaper: Option<bool>,
    pub pdeathsig: Option<i32>,
    pub remap_exit: Vec<u8>,
    pub warn_on_reap: bool,
    pub verbosity: u8,
    pub log_format: LogFormat,
    pub termination_log: TerminationLog,
    /// `--pause`: no command; reap, and stop everything on TERM, INT or QUIT.
    pub pause: bool,
    pub probe: Option<String>,
    pub probe_timeout: Duration,
    pub command: Vec<OsString>,
}

/// A usage error: which option (flag or variable), which value, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid(option: &str, value: &str, why: &str) -> UsageError {
    // Escaped, so that a value with a newline still makes a one-line error.
    UsageError(format!(
        "invalid value '{}' for {option}: {why}",
        value.escape_debug()
    ))
}

/// Where a setting came from, for error messages.
struct Source<'a> {
    option: &'a str,
    value: String,
}

/// The flag's value if given, else the first environment variable that is set.
fn pick<'a>(
    flag: Option<&str>,
    flag_name: &'a str,
    vars: &[&'a str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Source<'a>> {
    if let Some(v) = flag {
        return Some(Source {
            option: flag_name,
            value: v.to_owned(),
        });
    }
    vars.iter()
        .find_map(|var| env(var).map(|value| Source { option: var, value }))
}

/// `1500ms`, `10s`, `2m`, `1h`, or bare seconds (`10`, `0.5`). Fixed-point, to the
/// nanosecond: no floating point (which would also cost the binary ~10 KiB).
pub fn parse_duration(s: &str) -> Result<Duration, &'static str> {
    const FORM: &str = "expected a duration like 1500ms, 10s, 2m or a number of seconds";
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    // Nanoseconds per unit.
    let scale: u128 = match unit {
        "" | "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(FORM),
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return Err(FORM);
    }
    let too_big = "duration out of range";
    let int: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| too_big)?
    };
    // Fraction digits beyond the nanosecond of the largest unit cannot matter.
    let frac = frac.get(..frac.len().min(24)).unwrap_or(frac);
    let frac_value: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| FORM)?
    };
    let frac_scale = 10u128.checked_pow(frac.len() as u32).ok_or(too_big)?;
    let nanos = int
        .checked_mul(scale)
        .and_then(|n| n.checked_add(frac_value.checked_mul(scale)? / frac_scale))
        .ok_or(too_big)?;
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| too_big)?;
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// `10s`, `1500ms`: for logs, without pulling in float formatting.
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn duration(src: Option<Source<'_>>, default: Duration) -> Result<Duration, UsageError> {
    match src {
        None => Ok(default),
        Some(s) => parse_duration(&s.value).map_err(|why| invalid(s.option, &s.value, why)),
    }
}

fn signal(option: &str, value: &str) -> Result<i32, UsageError> {
    signals::parse(value)
        .ok_or_else(|| invalid(option, value, "unknown signal (use TERM, SIGTERM or 15)"))
}

/// One `FROM:TO` rewrite; TO `0` drops FROM.
pub fn parse_rewrite(item: &str) -> Result<(i32, Option<i32>), &'static str> {
    let (from, to) = item
        .split_once(':')
        .ok_or("expected FROM:TO, e.g. TERM:QUIT or USR1:0")?;
    let from = signals::parse(from).ok_or("unknown signal FROM")?;
    if !signals::is_catchable(from) {
        return Err("FROM must be a signal init can receive (not KILL or STOP)");
    }
    if to.trim() == "0" {
        return Ok((from, None));
    }
    let to = signals::parse(to).ok_or("unknown signal TO")?;
    Ok((from, Some(to)))
}

/// An exit code from 0 to 255.
pub fn parse_exit_code(item: &str) -> Result<u8, &'static str> {
    let t = item.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected an exit code from 0 to 255");
    }
    t.parse::<u8>()
        .map_err(|_| "expected an exit code from 0 to 255")
}

/// `INIT_*` booleans: 1/true/yes/on or 0/false/no/off.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A repeatable flag, or the comma list in its variable.
fn list<T>(
    flags: &[String],
    flag_name: &str,
    var: &str,
    env: &dyn Fn(&str) -> Option<String>,
    parse: fn(&str) -> Result<T, &'static str>,
) -> Result<Vec<T>, UsageError> {
    if !flags.is_empty() {
        return flags
            .iter()
            .map(|v| parse(v).map_err(|why| invalid(flag_name, v, why)))
            .collect();
    }
    let Some(value) = env(var) else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| parse(item).map_err(|why| invalid(var, item.trim(), why)))
        .collect()
}

/// A switch: the flag, else the strict `INIT_*` variable, else tini's variable (set = on).
fn switch(
    flag: bool,
    var: &str,
    tini_var: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<bool>, UsageError> {
    if flag {
        return Ok(Some(true));
    }
    if let Some(v) = env(var) {
        return parse_bool(&v)
            .map(Some)
            .ok_or_else(|| invalid(var, &v, "expected 1/true/yes/on or 0/false/no/off"));
    }
    Ok(tini_var.and_then(env).map(|_| true))
}

fn log_format(
    flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<LogFormat, UsageError> {
    let parse = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
        "text" => Some(LogFormat::Text),
        "json" => Some(LogFormat::Json),
        _ => None,
    };
    if let Some(src) = pick(flag, "--log-format", &["INIT_LOG_FORMAT"], env) {
        return parse(&src.value)
            .ok_or_else(|| invalid(src.option, &src.value, "expected text or json"));
    }
    // LOG_FORMAT belongs to the application too: a value init does not know means text.
    Ok(env("LOG_FORMAT")
        .and_then(|v| parse(&v))
        .unwrap_or(LogFormat::Text))
}

fn verbosity(count: u8, env: &dyn Fn(&str) -> Option<String>) -> Result<u8, UsageError> {
    if count > 0 {
        return Ok(count.min(3));
    }
    if let Some(v) = env("INIT_VERBOSITY") {
        return match v.trim().parse::<u8>() {
            Ok(n) if n <= 3 => Ok(n),
            _ => Err(invalid("INIT_VERBOSITY", &v, "expected 0, 1, 2 or 3")),
        };
    }
    // tini's rule: a number, anything else counts as 0.
    Ok(env("TINI_VERBOSITY")
        .map(|v| v.trim().parse::<u8>().unwrap_or(0).min(3))
        .unwrap_or(0))
}

/// Resolves parsed flags and the environment into a validated configuration.
pub fn resolve(args: Args, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, UsageError> {
    let grace_period = duration(
        pick(
            args.grace_period.as_deref(),
            "--grace-period",
            &["INIT_GRACE_PERIOD"],
            env,
        ),
        Duration::from_secs(10),
    )?;
    let pre_stop_delay = duration(
        pick(
            args.pre_stop_delay.as_deref(),
            "--pre-stop-delay",
            &["INIT_PRE_STOP_DELAY"],
            env,
        ),
        Duration::ZERO,
    )?;
    let probe_timeout = duration(
        pick(
            args.probe_timeout.as_deref(),
            "--probe-timeout",
            &["INIT_PROBE_TIMEOUT"],
            env,
        ),
        Duration::from_secs(3),
    )?;
    let rewrite = list(
        &args.rewrite,
        "--rewrite",
        "INIT_REWRITE",
        env,
        parse_rewrite,
    )?;
    let remap_exit = list(
        &args.remap_exit,
        "--remap-exit",
        "INIT_REMAP_EXIT",
        env,
        parse_exit_code,
    )?;
    let pgroup = switch(
        args.pgroup,
        "INIT_PGROUP",
        Some("TINI_KILL_PROCESS_GROUP"),
        env,
    )?
    .unwrap_or(false);
    let subreaper = switch(
        args.subreaper,
        "INIT_SUBREAPER",
        Some("TINI_SUBREAPER"),
        env,
    )?;
    let warn_on_reap = switch(args.warn_on_reap, "INIT_WARN_ON_REAP", None, env)?.unwrap_or(false);
    let pdeathsig = match pick(
        args.pdeathsig.as_deref(),
        "--pdeathsig",
        &["INIT_PDEATHSIG"],
        env,
    ) {
        None => None,
        Some(s) => Some(signal(s.option, &s.value)?),
    };
    let verbosity = verbosity(args.verbose, env)?;
    let log_format = log_format(args.log_format.as_deref(), env)?;
    let pause = switch(args.pause, "INIT_PAUSE", None, env)?.unwrap_or(false);
    let termination_log = match pick(
        args.termination_log.as_deref(),
        "--termination-log",
        &["INIT_TERMINATION_LOG"],
        env,
    ) {
        None => TerminationLog::Default,
        Some(s) if s.value.is_empty() => TerminationLog::Off,
        Some(s) => TerminationLog::Path(s.value),
    };

    if args.probe.is_some() && !args.command.is_empty() {
        return Err(UsageError("--probe takes no COMMAND".into()));
    }
    if args.probe.is_some() && args.pause {
        return Err(UsageError("--probe and --pause exclude each other".into()));
    }
    // INIT_PAUSE from the environment yields to an explicit probe.
    let pause = pause && args.probe.is_none();
    if pause && !args.command.is_empty() {
        let option = if args.pause { "--pause" } else { "INIT_PAUSE" };
        return Err(UsageError(format!(
            "{option} takes no COMMAND (a pause process runs nothing)"
        )));
    }
    if args.probe.is_none() && !pause && args.command.is_empty() {
        return Err(UsageError(
            "missing COMMAND (usage: init [OPTIONS] [--] COMMAND [ARGS]..., or init --pause)"
                .into(),
        ));
    }
    Ok(Config {
        grace_period,
        pre_stop_delay,
        rewrite,
        pgroup,
        subreaper,
        pdeathsig,
        remap_exit,
        warn_on_reap,
        verbosity,
        log_format,
        termination_log,
        pause,
        probe: args.probe,
        probe_timeout,
        command: args.command,
    })
}

impl Config {
    /// What signal `sig` is forwarded as; `None` when the rewrite table drops it.
    pub fn forward_as(&self, sig: i32) -> Option<i32> {
        self.rewrite
            .iter()
            .rev()
            .find(|(from, _)| *from == sig)
            .map_or(Some(sig), |&(_, to)| to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn args(list: &[&str]) -> Args {
        let mut argv = vec![OsString::from("init")];
        argv.extend(list.iter().map(OsString::from));
        match crate::cli::parse(argv) {
            Ok(crate::cli::Parsed::Run(args)) => *args,
            other => panic!("test argv must parse: {other:?}"),
        }
    }

    fn resolve_with(list: &[&str], vars: &[(&str, &str)]) -> Result<Config, UsageError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve(args(list), &|k| map.get(k).cloned())
    }

    #[test]
    fn durations_take_every_documented_form() {
        let table = [
            ("1500ms", 1500),
            ("10s", 10_000),
            ("2m", 120_000),
            ("10", 10_000),
            ("0.5", 500),
            ("0", 0),
            ("0s", 0),
            ("1.5s", 1500),
            ("1h", 3_600_000),
            (".5", 500),
            ("2.", 2000),
            ("0.001s", 1),
            ("0.25", 250),
        ];
        for (s, ms) in table {
            assert_eq!(parse_duration(s), Ok(Duration::from_millis(ms)), "{s}");
        }
    }

    #[test]
    fn sub_millisecond_fractions_are_kept_to_the_nanosecond() {
        assert_eq!(parse_duration("1.5ms"), Ok(Duration::from_micros(1500)));
        assert_eq!(parse_duration("0.000000001"), Ok(Duration::from_nanos(1)));
        assert_eq!(
            parse_duration("0.1234567891234"),
            Ok(Duration::from_nanos(123_456_789))
        );
    }

    #[test]
    fn bad_durations_are_rejected() {
        for s in [
            "",
            "s",
            "abc",
            "-1",
            "1x",
            "10 s",
            "1.2.3",
            ".",
            "inf",
            "nan",
            "1e3",
            "10sec",
            "99999999999999999999999h",
        ] {
            assert!(parse_duration(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn rewrites_map_and_drop() {
        assert_eq!(parse_rewrite("TERM:QUIT"), Ok((15, Some(3))));
        assert_eq!(parse_rewrite("SIGUSR1:0"), Ok((10, None)));
        assert_eq!(parse_rewrite("10:12"), Ok((10, Some(12))));
        for bad in [
            "TERM",
            "TERM:",
            ":QUIT",
            "KILL:TERM",
            "TERM:BOGUS",
            "X:Y",
            "TERM:QUIT:HUP",
        ] {
            assert!(parse_rewrite(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exit_codes_are_0_to_255() {
        assert_eq!(parse_exit_code("0"), Ok(0));
        assert_eq!(parse_exit_code("143"), Ok(143));
        assert_eq!(parse_exit_code("255"), Ok(255));
        for bad in ["256", "-1", "", "x", "1.0", "+1"] {
            assert!(parse_exit_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn booleans_are_strict() {
        for t in ["1", "true", "YES", "on"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["0", "false", "No", "off"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        for bad in ["", "maybe", "2", "y"] {
            assert_eq!(parse_bool(bad), None);
        }
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = resolve_with(&["--", "true"], &[]).expect("valid");
        assert_eq!(c.grace_period, Duration::from_secs(10));
        assert_eq!(c.pre_stop_delay, Duration::ZERO);
        assert_eq!(c.probe_timeout, Duration::from_secs(3));
        assert!(!c.pgroup && !c.warn_on_reap && c.subreaper.is_none() && c.rewrite.is_empty());
        assert_eq!(c.verbosity, 0);
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn environment_fills_in_when_flags_are_absent() {
        let c = resolve_with(
            &["true"],
            &[
                ("INIT_GRACE_PERIOD", "2s"),
                ("INIT_REWRITE", "USR1:USR2, HUP:0"),
                ("INIT_REMAP_EXIT", "143,1"),
                ("INIT_PGROUP", "yes"),
                ("INIT_VERBOSITY", "2"),
                ("INIT_LOG_FORMAT", "json"),
                ("INIT_PDEATHSIG", "SIGKILL"),
            ],
        )
        .expect("valid");
        assert_eq!(c.grace_period, Duration::from_secs(2));
        assert_eq!(c.rewrite, vec![(10, Some(12)), (1, None)]);
        assert_eq!(c.remap_exit, vec![143, 1]);
        assert!(c.pgroup);
        assert_eq!(c.verbosity, 2);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.pdeathsig, Some(9));
    }

    #[test]
    fn a_flag_beats_its_variable_which_is_then_not_read() {
        let c = resolve_with(
            &["-t", "1s", "-e", "3", "true"],
            &[("INIT_GRACE_PERIOD", "bogus"), ("INIT_REMAP_EXIT", "nope")],
        )
        .expect("valid");
        assert_eq!(c.grace_period, Duration::from_secs(1));
        assert_eq!(c.remap_exit, vec![3]);
    }

    #[test]
    fn tini_variables_mean_on_when_set() {
        let c = resolve_with(
            &["true"],
            &[
                ("TINI_SUBREAPER", ""),
                ("TINI_KILL_PROCESS_GROUP", "0"),
                ("TINI_VERBOSITY", "3"),
            ],
        )
        .expect("valid");
        assert_eq!(c.subreaper, Some(true));
        assert!(c.pgroup);
        assert_eq!(c.verbosity, 3);
    }

    #[test]
    fn init_variables_beat_tini_variables() {
        let c = resolve_with(
            &["true"],
            &[("INIT_PGROUP", "off"), ("TINI_KILL_PROCESS_GROUP", "1")],
        )
        .expect("valid");
        assert!(!c.pgroup);
    }

    #[test]
    fn log_format_shared_variable_is_lenient_but_ours_is_strict() {
        assert_eq!(
            resolve_with(&["true"], &[("LOG_FORMAT", "logfmt")]).map(|c| c.log_format),
            Ok(LogFormat::Text)
        );
        assert_eq!(
            resolve_with(&["true"], &[("LOG_FORMAT", "json")]).map(|c| c.log_format),
            Ok(LogFormat::Json)
        );
        assert!(resolve_with(&["true"], &[("INIT_LOG_FORMAT", "logfmt")]).is_err());
        assert!(resolve_with(&["--log-format", "xml", "true"], &[]).is_err());
        assert_eq!(
            resolve_with(
                &["--log-format", "text", "true"],
                &[("INIT_LOG_FORMAT", "xml")]
            )
            .map(|c| c.log_format),
            Ok(LogFormat::Text)
        );
    }

    #[test]
    fn usage_errors_name_the_option_and_the_value() {
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
        let cases: [Case; 8] = [
            (&["-t", "soon", "true"], &[], "--grace-period"),
            (
                &["true"],
                &[("INIT_PRE_STOP_DELAY", "1y")],
                "INIT_PRE_STOP_DELAY",
            ),
            (&["-p", "SIGBOGUS", "true"], &[], "--pdeathsig"),
            (&["-r", "TERM", "true"], &[], "--rewrite"),
            (&["-e", "300", "true"], &[], "--remap-exit"),
            (&["true"], &[("INIT_PGROUP", "maybe")], "INIT_PGROUP"),
            (&["true"], &[("INIT_VERBOSITY", "7")], "INIT_VERBOSITY"),
            (
                &["true"],
                &[("INIT_PROBE_TIMEOUT", "x")],
                "INIT_PROBE_TIMEOUT",
            ),
        ];
        for (argv, vars, option) in cases {
            let err = resolve_with(argv, vars).expect_err("must fail");
            assert!(err.0.contains(option), "{err} should name {option}");
            assert!(!err.0.contains('\n'), "{err} must be one line");
        }
    }

    #[test]
    fn a_command_is_required_unless_probing() {
        assert!(
            resolve(
                Args {
                    command: vec![],
                    ..args(&["x"])
                },
                &|_| None
            )
            .is_err()
        );
        assert!(resolve_with(&["--probe", "tcp://127.0.0.1:1"], &[]).is_ok());
        assert!(resolve_with(&["--probe", "tcp://127.0.0.1:1", "true"], &[]).is_err());
    }

    #[test]
    fn pause_needs_no_command_and_refuses_one() {
        let c = resolve_with(&["-P"], &[]).expect("valid");
        assert!(c.pause && c.command.is_empty());
        let c = resolve_with(&[], &[("INIT_PAUSE", "yes")]).expect("valid");
        assert!(c.pause);
        let e = resolve_with(&["--pause", "sleep", "1"], &[]).expect_err("usage error");
        assert!(e.0.contains("--pause takes no COMMAND"), "{e}");
        let e = resolve_with(&["sleep", "1"], &[("INIT_PAUSE", "1")]).expect_err("usage error");
        assert!(e.0.contains("INIT_PAUSE takes no COMMAND"), "{e}");
        assert!(
            !resolve_with(&["true"], &[("INIT_PAUSE", "0")])
                .expect("valid")
                .pause
        );
        assert!(resolve_with(&["true"], &[("INIT_PAUSE", "maybe")]).is_err());
        assert!(resolve_with(&["-P", "--probe", "tcp://127.0.0.1:1"], &[]).is_err());
        let c = resolve_with(&["--probe", "tcp://127.0.0.1:1"], &[("INIT_PAUSE", "1")])
            .expect("an explicit probe wins over INIT_PAUSE");
        assert!(!c.pause && c.probe.is_some());
    }

    #[test]
    fn the_last_rewrite_of_a_signal_wins_and_zero_drops() {
        let c = resolve_with(
            &["-r", "USR1:USR2", "-r", "HUP:0", "-r", "USR1:WINCH", "true"],
            &[],
        )
        .expect("valid");
        assert_eq!(c.forward_as(libc::SIGUSR1), Some(libc::SIGWINCH));
        assert_eq!(c.forward_as(libc::SIGHUP), None);
        assert_eq!(c.forward_as(libc::SIGTERM), Some(libc::SIGTERM));
    }
}

/// Property tests: every parser of a flag or variable returns a value or a one-line error
/// on any input, and never panics (PID 1 parses before it supervises); `resolve` gives a
/// valid configuration or a usage error. The inputs come from `crate::proptests`.
#[cfg(test)]
mod proptests {
    use std::collections::HashMap;
    use std::ffi::OsString;

    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::{Args, UsageError};
    use crate::config;
    use crate::proptests::{check_resolve, config, env_map, lookup, one_line, text};
    use crate::signals;

    proptest! {
        #![proptest_config(config(1000))]

        #[test]
        fn durations_never_panic(s in text()) {
            match config::parse_duration(&s) {
                Ok(d) => prop_assert!(d.as_secs() < u64::MAX),
                Err(why) => prop_assert!(one_line(why)),
            }
        }

        #[test]
        fn whole_durations_are_exact(n in any::<u32>(), unit in select(&["", "s", "ms", "m", "h"][..])) {
            let nanos_per_unit: u128 = match unit {
                "" | "s" => 1_000_000_000,
                "ms" => 1_000_000,
                "m" => 60_000_000_000,
                _ => 3_600_000_000_000,
            };
            let d = config::parse_duration(&format!("{n}{unit}"));
            prop_assert_eq!(d.map(|d| d.as_nanos()), Ok(u128::from(n) * nanos_per_unit));
        }

        #[test]
        fn fractional_seconds_are_exact_to_the_nanosecond(secs in 0u64..1_000_000, frac in "[0-9]{1,9}") {
            let want = u128::from(secs) * 1_000_000_000
                + frac.parse::<u128>().unwrap_or(0) * 10u128.pow(9 - frac.len() as u32);
            let d = config::parse_duration(&format!(" {secs}.{frac}s "));
            prop_assert_eq!(d.map(|d| d.as_nanos()), Ok(want));
        }

        #[test]
        fn huge_durations_are_an_error_not_a_panic(digits in "[1-9][0-9]{25,60}", unit in select(&["", "s", "ms", "m", "h"][..])) {
            let s = format!("{digits}{unit}");
            prop_assert!(config::parse_duration(&s).is_err(), "{}", s);
        }

        #[test]
        fn rewrites_never_panic(s in text()) {
            match config::parse_rewrite(&s) {
                Ok((from, to)) => {
                    prop_assert!(signals::is_catchable(from), "{s:?}: FROM {from}");
                    if let Some(to) = to {
                        prop_assert!((1..=signals::SIGMAX).contains(&to), "{s:?}: TO {to}");
                    }
                }
                Err(why) => prop_assert!(one_line(why)),
            }
        }

        #[test]
        fn rewrites_of_catchable_signals_parse(from in 1..=signals::SIGMAX, to in 0..=signals::SIGMAX) {
            let parsed = config::parse_rewrite(&format!("{from}:{to}"));
            if signals::is_catchable(from) {
                prop_assert_eq!(parsed, Ok((from, (to != 0).then_some(to))));
            } else {
                prop_assert!(parsed.is_err());
            }
        }

        #[test]
        fn exit_codes_never_panic(s in text()) {
            match config::parse_exit_code(&s) {
                Ok(code) => prop_assert_eq!(s.trim().parse::<u32>().ok(), Some(u32::from(code))),
                Err(why) => prop_assert!(one_line(why)),
            }
        }

        #[test]
        fn exit_codes_are_exactly_0_to_255(n in any::<u64>()) {
            let parsed = config::parse_exit_code(&n.to_string());
            if n <= 255 {
                prop_assert_eq!(parsed, Ok(n as u8));
            } else {
                prop_assert!(parsed.is_err());
            }
        }

        #[test]
        fn booleans_never_panic(s in text()) {
            let want = match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Some(true),
                "0" | "false" | "no" | "off" => Some(false),
                _ => None,
            };
            prop_assert_eq!(config::parse_bool(&s), want);
        }
    }

    proptest! {
        #![proptest_config(config(500))]

        #[test]
        fn environment_never_panics(env in env_map(), probe in any::<bool>()) {
            let args = Args {
                command: if probe { vec![] } else { vec![OsString::from("true")] },
                probe: probe.then(|| "tcp://127.0.0.1:1".to_owned()),
                ..Args::default()
            };
            check_resolve(args, &env)?;
        }

        #[test]
        fn flag_values_never_panic(
            values in vec(text(), 8),
            lists in vec(vec(text(), 0..3), 2),
            verbose in any::<u8>(),
        ) {
            let v = |i: usize| values.get(i).cloned();
            let args = Args {
                grace_period: v(0),
                pre_stop_delay: v(1),
                pdeathsig: v(2),
                log_format: v(3),
                probe_timeout: v(4),
                rewrite: lists.first().cloned().unwrap_or_default(),
                remap_exit: lists.get(1).cloned().unwrap_or_default(),
                verbose,
                command: vec![OsString::from("true")],
                ..Args::default()
            };
            check_resolve(args, &HashMap::new())?;
        }

        /// The contract: a bad value is "one line on stderr naming the option and the value",
        /// whatever bytes the value holds (a newline in a variable must not split the line).
        #[test]
        fn usage_errors_are_one_line_whatever_the_value(env in env_map(), value in text(), flag in any::<bool>()) {
            let args = Args {
                grace_period: flag.then(|| value.clone()),
                command: vec![OsString::from("true")],
                ..Args::default()
            };
            if let Err(UsageError(msg)) = config::resolve(args, &lookup(&env)) {
                prop_assert!(one_line(&msg), "{msg:?}");
            }
        }
    }
}
