//! Property tests: every parser of user input (durations, signals, rewrites, exit codes,
//! booleans, the environment, argv, probe URLs) returns a value or a clear error on any
//! input, and never panics. PID 1 parses before it supervises, so a panic here is a crash.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;

use crate::cli::{self, Args, Parsed};
use crate::config::{self, UsageError};
use crate::probe::{Scheme, parse_url};
use crate::signals;

/// Modest case counts (the suite runs on 2 cores) and no regression files in `src/`.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Words near the grammar of every parser: digits, units, signal names, separators,
/// whitespace, non-ASCII and control characters.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    "", "0", "1", "9", "15", "64", "65", "255", "256", "-1", "+", "-", ".", "..", ":", ",",
    "=", "/", "?", "#", "@", "[", "]", "{", "}", "$", "${", ":-", " ", "\t", "\n", "\0",
    "é", "\u{202e}", "ms", "s", "m", "h", "sec", "e3", "inf", "NaN", "SIG", "TERM", "term",
    "KILL", "STOP", "USR1", "RTMIN", "RTMAX", "+3", "-1", "RT", "yes", "No", "ON", "true",
    "http", "tcp", "https", "://", "[::1]", "127.0.0.1", "localhost", "80", "65535",
    "65536", "99999999999999999999999999999999999999999", "0.5", "1500", "--", "-t", "-vvv",
    "--grace-period", "--probe",
];

/// A string glued from grammar pieces and arbitrary characters.
fn fuzzy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => select(PIECES).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[0-9]{1,40}",
    ];
    vec(piece, 0..8).prop_map(|p| p.concat())
}

/// Fuzzy strings and fully arbitrary ones.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => fuzzy(), 1 => any::<String>()]
}

/// A usage error message fits on one line (the contract: one line on stderr).
fn one_line(msg: &str) -> bool {
    !msg.is_empty() && !msg.contains('\n') && !msg.contains('\r')
}

/// `HashMap` lookups as the environment function `resolve` and `parse_url` take.
fn lookup(map: &HashMap<String, String>) -> impl Fn(&str) -> Option<String> + '_ {
    |key| map.get(key).cloned()
}

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
    fn signal_names_never_panic_and_stay_in_range(s in text()) {
        if let Some(n) = signals::parse(&s) {
            prop_assert!((1..=signals::SIGMAX).contains(&n), "{s:?} -> {n}");
        }
    }

    #[test]
    fn signal_numbers_and_names_round_trip(n in 1..=signals::SIGMAX, lower in any::<bool>(), sig_prefix in any::<bool>()) {
        prop_assert_eq!(signals::parse(&n.to_string()), Some(n));
        // The C libraries' reserved signals (32, 33) have no name, only a number.
        let name = signals::name(n);
        if let Some(bare) = name.strip_prefix("SIG") {
            let spelled = if sig_prefix { name.clone() } else { bare.to_owned() };
            let spelled = if lower { spelled.to_ascii_lowercase() } else { spelled };
            prop_assert_eq!(signals::parse(&spelled), Some(n), "{}", spelled);
        }
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

    #[test]
    fn probe_urls_never_panic(s in url_like(), env in env_map()) {
        match parse_url(&s, &lookup(&env)) {
            Ok(t) => {
                prop_assert!(t.port != 0);
                prop_assert!(t.url.bytes().all(|b| b.is_ascii_graphic()), "{:?}", t.url);
                match t.scheme {
                    Scheme::Http => prop_assert!(t.path.starts_with('/'), "{:?}", t.path),
                    Scheme::Tcp => prop_assert!(t.path.is_empty()),
                }
            }
            Err(e) => prop_assert!(one_line(&e.to_string()), "{e}"),
        }
    }

    #[test]
    fn well_formed_probe_urls_parse(
        http in any::<bool>(),
        host in prop_oneof![
            "[a-z][a-z0-9-]{0,20}(\\.[a-z0-9-]{1,10}){0,3}",
            any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
            any::<[u16; 8]>().prop_map(|s| format!("[{}]", std::net::Ipv6Addr::from(s))),
        ],
        port in 1..=u16::MAX,
        path in "(/[A-Za-z0-9._~%!*'()+,;=:@-]{0,12}){0,4}(\\?[a-z0-9=&]{0,10})?",
    ) {
        let url = if http {
            format!("http://{host}:{port}{path}")
        } else {
            format!("tcp://{host}:{port}")
        };
        let t = parse_url(&url, &|_| None);
        prop_assert!(t.is_ok(), "{url}: {t:?}");
        let t = t.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(t.port, port);
        prop_assert_eq!(t.url, url);
    }
}

/// Probe URLs: a scheme-ish head, then fuzz with `$VAR` references.
fn url_like() -> impl Strategy<Value = String> {
    let head = select(
        &[
            "http://", "tcp://", "HTTP://", "https://", "", "x://", "http:/",
        ][..],
    );
    let var = select(
        &[
            "$PORT",
            "${PORT}",
            "${UNSET:-80}",
            "$UNSET",
            "${",
            "$$",
            "${1x}",
            "$",
        ][..],
    );
    let piece = prop_oneof![2 => fuzzy(), 1 => var.prop_map(str::to_owned)];
    (head, vec(piece, 0..5)).prop_map(|(h, rest)| format!("{h}{}", rest.concat()))
}

/// Every variable `resolve` reads, plus PORT for URLs.
const VARS: &[&str] = &[
    "INIT_GRACE_PERIOD",
    "INIT_PRE_STOP_DELAY",
    "INIT_PROBE_TIMEOUT",
    "INIT_REWRITE",
    "INIT_REMAP_EXIT",
    "INIT_PGROUP",
    "TINI_KILL_PROCESS_GROUP",
    "INIT_SUBREAPER",
    "TINI_SUBREAPER",
    "INIT_WARN_ON_REAP",
    "INIT_PAUSE",
    "INIT_PDEATHSIG",
    "INIT_VERBOSITY",
    "TINI_VERBOSITY",
    "INIT_LOG_FORMAT",
    "LOG_FORMAT",
    "PORT",
];

/// Plausible-to-hostile values for those variables.
fn env_value() -> impl Strategy<Value = String> {
    let good = select(
        &[
            "",
            "0",
            "1",
            "3",
            "10s",
            "1500ms",
            "yes",
            "off",
            "json",
            "text",
            "TERM:QUIT",
            "USR1:0,HUP:USR2",
            "143,1",
            "SIGKILL",
            "8000",
        ][..],
    )
    .prop_map(str::to_owned);
    prop_oneof![2 => good, 2 => fuzzy(), 1 => any::<String>()]
}

fn env_map() -> impl Strategy<Value = HashMap<String, String>> {
    btree_map(select(VARS).prop_map(str::to_owned), env_value(), 0..8)
        .prop_map(|m| m.into_iter().collect())
}

/// Argv words: options of init, their values, command words and raw bytes (not UTF-8).
fn argv_word() -> impl Strategy<Value = OsString> {
    let option = select(
        &[
            "-t",
            "-t5s",
            "--grace-period",
            "--grace-period=1s",
            "--pre-stop-delay",
            "-r",
            "--rewrite=TERM:QUIT",
            "-g",
            "-s",
            "-p",
            "-pKILL",
            "-e",
            "-e143",
            "-w",
            "-v",
            "-vvv",
            "--log-format",
            "--log-format=json",
            "--probe",
            "--probe-timeout",
            "-h",
            "--help",
            "-V",
            "--version",
            "-P",
            "--pause",
            "-l",
            "--license",
            "-pRTMIN+2",
            "--",
            "-",
            "--bogus",
            "-x",
            "--pgroup=1",
            "-gst",
        ][..],
    )
    .prop_map(OsString::from);
    prop_oneof![
        3 => option,
        2 => fuzzy().prop_map(OsString::from),
        1 => (select(&["-", "--"][..]), fuzzy()).prop_map(|(d, s)| OsString::from(format!("{d}{s}"))),
        1 => vec(any::<u8>(), 0..6).prop_map(|b| {
            OsString::from_vec(b.into_iter().filter(|&c| c != 0).collect())
        }),
    ]
}

fn argv() -> impl Strategy<Value = Vec<OsString>> {
    vec(argv_word(), 0..10).prop_map(|words| {
        let mut argv = vec![OsString::from("init")];
        argv.extend(words);
        argv
    })
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn argv_and_environment_never_panic(argv in argv(), env in env_map()) {
        match cli::parse(argv) {
            Ok(Parsed::Run(args)) => check_resolve(*args, &env)?,
            Ok(Parsed::Help | Parsed::Version | Parsed::License) => {}
            Err(msg) => prop_assert!(!msg.is_empty()),
        }
    }

    #[test]
    fn argv_errors_are_one_line(argv in argv()) {
        if let Err(msg) = cli::parse(argv) {
            prop_assert!(one_line(&msg), "{msg:?}");
        }
    }

    #[test]
    fn everything_after_the_command_belongs_to_it(
        flags in vec(select(&["-g", "-s", "-w", "-v", "-t1s", "--pgroup"][..]), 0..4),
        command in "[a-z/][a-z0-9/._]{0,10}",
        rest in vec(argv_word(), 0..8),
        dashdash in any::<bool>(),
    ) {
        let mut argv = vec![OsString::from("init")];
        argv.extend(flags.iter().map(OsString::from));
        if dashdash {
            argv.push("--".into());
        }
        let mut want = vec![OsString::from(&command)];
        want.extend(rest.iter().cloned());
        argv.extend(want.iter().cloned());
        match cli::parse(argv.clone()) {
            Ok(Parsed::Run(args)) => prop_assert_eq!(&args.command, &want, "{:?}", argv),
            other => prop_assert!(false, "{argv:?}: {other:?}"),
        }
    }

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
}

proptest! {
    #![proptest_config(config(500))]

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

/// `resolve` returns a valid configuration or a usage error.
fn check_resolve(args: Args, env: &HashMap<String, String>) -> Result<(), TestCaseError> {
    match config::resolve(args, &lookup(env)) {
        Ok(cfg) => {
            prop_assert!(cfg.verbosity <= 3);
            for &(from, to) in &cfg.rewrite {
                prop_assert!(signals::is_catchable(from));
                prop_assert!(to.is_none_or(|t| (1..=signals::SIGMAX).contains(&t)));
            }
            if let Some(sig) = cfg.pdeathsig {
                prop_assert!((1..=signals::SIGMAX).contains(&sig));
            }
            prop_assert_eq!(cfg.probe.is_some(), cfg.command.is_empty());
        }
        Err(UsageError(msg)) => prop_assert!(!msg.is_empty()),
    }
    Ok(())
}
