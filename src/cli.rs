//! Command-line grammar only: flags, help text and the environment variables each one
//! falls back to. Values stay raw strings here; `config` validates them.
//!
//! A small getopt-style parser rather than clap: clap cost 108 KiB of a binary whose
//! budget is catatonit's 699 KB, for seventeen flags (see the README's design notes).
//! Grammar, as tini's: short flags cluster (`-vvv`, `-gs`) and take a value attached or
//! as the next word (`-t5s`, `-t 5s`); long flags take `--flag=value` or `--flag value`;
//! `--` or the first word that is not an option starts COMMAND, and every word after it
//! belongs to COMMAND, even words that look like options.

use std::ffi::OsString;

pub const HELP: &str = "\
pidone: a tiny init for containers (/init in an image). Runs COMMAND as its child,
forwards signals, reaps zombies and shuts the whole tree down cleanly.

Usage: pidone [OPTIONS] [--] COMMAND [ARGS]...
       pidone -P | --pause [OPTIONS]
       pidone --probe URL [--probe-timeout DUR]

Options (environment variable used when the flag is absent):
  -t, --grace-period DUR   time stopping processes get before SIGKILL [10s]
                           (INIT_GRACE_PERIOD)
      --pre-stop-delay DUR hold the first SIGTERM this long before forwarding it [0]
                           (INIT_PRE_STOP_DELAY)
  -r, --rewrite FROM:TO    forward signal FROM as TO; TO 0 drops FROM; repeatable
                           (INIT_REWRITE, comma list)
  -g, --pgroup             forward signals to the child's process group
                           (INIT_PGROUP, TINI_KILL_PROCESS_GROUP)
  -s, --subreaper          be a child subreaper; automatic when not PID 1
                           (INIT_SUBREAPER, TINI_SUBREAPER)
  -p, --pdeathsig SIG      signal init receives when its parent dies (INIT_PDEATHSIG)
  -e, --remap-exit CODE    report exit code CODE as 0; repeatable
                           (INIT_REMAP_EXIT, comma list)
  -w, --warn-on-reap       log a warning for each orphan zombie reaped (INIT_WARN_ON_REAP)
  -v                       more logs: -v info, -vv debug, -vvv trace
                           (INIT_VERBOSITY, TINI_VERBOSITY: 0-3)
      --log-format FORMAT  text or json (INIT_LOG_FORMAT, then LOG_FORMAT)
      --termination-log PATH
                           write why the container ended to PATH at exit; empty: off
                           [/dev/termination-log if writable] (INIT_TERMINATION_LOG)
  -P, --pause              no command: a pod's pause process; reaps orphans, stops
                           everything left on TERM, INT or QUIT (INIT_PAUSE)
      --probe URL          one health probe: http://HOST:PORT/PATH or tcp://HOST:PORT
      --probe-timeout DUR  deadline for the whole probe [3s] (INIT_PROBE_TIMEOUT)
  -h, --help               print this help
  -V, --version            print the version
  -l, --license            print the license

DUR: 1500ms, 10s, 2m or seconds (10, 0.5). SIG: TERM, SIGTERM, term, 15, RTMIN+2.
Booleans in INIT_*: 1/true/yes/on or 0/false/no/off; TINI_* variables: set means on.

Exit codes: the child's code; 128+N when signal N killed it; 0 for codes listed with -e;
126 command not executable; 127 command not found; 2 usage error; 1 init's own failure.
Probe: 0 healthy, 1 unhealthy, 2 bad URL.
";

/// Raw parsed flags, before the environment and validation.
#[derive(Debug, Default)]
pub struct Args {
    pub grace_period: Option<String>,
    pub pre_stop_delay: Option<String>,
    pub rewrite: Vec<String>,
    pub pgroup: bool,
    pub subreaper: bool,
    pub pdeathsig: Option<String>,
    pub remap_exit: Vec<String>,
    pub warn_on_reap: bool,
    pub verbose: u8,
    pub log_format: Option<String>,
    pub termination_log: Option<String>,
    pub pause: bool,
    pub probe: Option<String>,
    pub probe_timeout: Option<String>,
    pub command: Vec<OsString>,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Args>),
    Help,
    Version,
    License,
}

/// Every flag: short letter, long name, whether it takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flag {
    GracePeriod,
    PreStopDelay,
    Rewrite,
    Pgroup,
    Subreaper,
    Pdeathsig,
    RemapExit,
    WarnOnReap,
    Verbose,
    LogFormat,
    TerminationLog,
    Pause,
    Probe,
    ProbeTimeout,
    Help,
    Version,
    License,
}

const FLAGS: [(Option<char>, &str, Flag, bool); 17] = [
    (Some('t'), "grace-period", Flag::GracePeriod, true),
    (None, "pre-stop-delay", Flag::PreStopDelay, true),
    (Some('r'), "rewrite", Flag::Rewrite, true),
    (Some('g'), "pgroup", Flag::Pgroup, false),
    (Some('s'), "subreaper", Flag::Subreaper, false),
    (Some('p'), "pdeathsig", Flag::Pdeathsig, true),
    (Some('e'), "remap-exit", Flag::RemapExit, true),
    (Some('w'), "warn-on-reap", Flag::WarnOnReap, false),
    (Some('v'), "verbose", Flag::Verbose, false),
    (None, "log-format", Flag::LogFormat, true),
    (None, "termination-log", Flag::TerminationLog, true),
    (Some('P'), "pause", Flag::Pause, false),
    (None, "probe", Flag::Probe, true),
    (None, "probe-timeout", Flag::ProbeTimeout, true),
    (Some('h'), "help", Flag::Help, false),
    (Some('V'), "version", Flag::Version, false),
    (Some('l'), "license", Flag::License, false),
];

fn display_name(flag: Flag) -> String {
    FLAGS
        .iter()
        .find(|f| f.2 == flag)
        .map_or_else(String::new, |&(_, long, _, _)| format!("--{long}"))
}

/// Parses argv (including argv[0]). Errors are one line without the `init: ` prefix.
pub fn parse(argv: Vec<OsString>) -> Result<Parsed, String> {
    let mut args = Args::default();
    let mut words = argv.into_iter().skip(1);
    while let Some(word) = words.next() {
        let Some(text) = word.to_str() else {
            // Not UTF-8: cannot be one of our flags, so it is the command.
            args.command.push(word);
            break;
        };
        if text == "--" {
            break;
        }
        let found: Vec<(Flag, bool, Option<String>, String)> =
            if let Some(long) = text.strip_prefix("--") {
                let (name, attached) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (long, None),
                };
                let &(_, _, flag, takes) = FLAGS
                    .iter()
                    .find(|f| f.1 == name)
                    .ok_or_else(|| format!("unknown option '--{}'", name.escape_debug()))?;
                if !takes && attached.is_some() {
                    return Err(format!("option '--{}' takes no value", name.escape_debug()));
                }
                vec![(flag, takes, attached, format!("--{name}"))]
            } else if let Some(cluster) = text.strip_prefix('-').filter(|c| !c.is_empty()) {
                let mut out = Vec::new();
                for (i, c) in cluster.char_indices() {
                    let &(_, _, flag, takes) = FLAGS
                        .iter()
                        .find(|f| f.0 == Some(c))
                        .ok_or_else(|| format!("unknown option '-{}'", c.escape_debug()))?;
                    if takes {
                        let rest = cluster
                            .get(i + c.len_utf8()..)
                            .filter(|r| !r.is_empty())
                            .map(str::to_owned);
                        out.push((flag, true, rest, format!("-{c}")));
                        break;
                    }
                    out.push((flag, false, None, format!("-{c}")));
                }
                out
            } else {
                args.command.push(word);
                break;
            };
        for (flag, takes, attached, shown) in found {
            let value = if takes {
                match attached {
                    Some(v) => Some(v),
                    None => Some(
                        words
                            .next()
                            .map(|v| v.to_string_lossy().into_owned())
                            .ok_or_else(|| {
                                format!("option '{shown}' ({}) needs a value", display_name(flag))
                            })?,
                    ),
                }
            } else {
                None
            };
            let value = value.unwrap_or_default();
            match flag {
                Flag::GracePeriod => args.grace_period = Some(value),
                Flag::PreStopDelay => args.pre_stop_delay = Some(value),
                Flag::Rewrite => args.rewrite.push(value),
                Flag::Pgroup => args.pgroup = true,
                Flag::Subreaper => args.subreaper = true,
                Flag::Pdeathsig => args.pdeathsig = Some(value),
                Flag::RemapExit => args.remap_exit.push(value),
                Flag::WarnOnReap => args.warn_on_reap = true,
                Flag::Verbose => args.verbose = args.verbose.saturating_add(1),
                Flag::LogFormat => args.log_format = Some(value),
                Flag::TerminationLog => args.termination_log = Some(value),
                Flag::Pause => args.pause = true,
                Flag::Probe => args.probe = Some(value),
                Flag::ProbeTimeout => args.probe_timeout = Some(value),
                Flag::Help => return Ok(Parsed::Help),
                Flag::Version => return Ok(Parsed::Version),
                Flag::License => return Ok(Parsed::License),
            }
        }
    }
    args.command.extend(words);
    Ok(Parsed::Run(Box::new(args)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(list: &[&str]) -> Result<Args, String> {
        let mut argv = vec![OsString::from("init")];
        argv.extend(list.iter().map(OsString::from));
        match parse(argv)? {
            Parsed::Run(a) => Ok(*a),
            other => Err(format!("{other:?}")),
        }
    }

    fn cmd(a: &Args) -> Vec<&str> {
        a.command.iter().filter_map(|s| s.to_str()).collect()
    }

    #[test]
    fn short_flags_cluster_and_take_attached_or_next_values() {
        let a = run(&["-vvgs", "-t5s", "-e", "143", "-e143", "-pSIGKILL", "true"]).expect("parses");
        assert_eq!(a.verbose, 2);
        assert!(a.pgroup && a.subreaper);
        assert_eq!(a.grace_period.as_deref(), Some("5s"));
        assert_eq!(a.remap_exit, ["143", "143"]);
        assert_eq!(a.pdeathsig.as_deref(), Some("SIGKILL"));
        assert_eq!(cmd(&a), ["true"]);
        let a = run(&["-gt", "1s", "x"]).expect("parses");
        assert!(a.pgroup);
        assert_eq!(a.grace_period.as_deref(), Some("1s"));
    }

    #[test]
    fn long_flags_take_equals_or_next_values() {
        let a = run(&[
            "--grace-period=2s",
            "--rewrite",
            "TERM:QUIT",
            "--pgroup",
            "--log-format",
            "json",
            "x",
        ])
        .expect("parses");
        assert_eq!(a.grace_period.as_deref(), Some("2s"));
        assert_eq!(a.rewrite, ["TERM:QUIT"]);
        assert!(a.pgroup);
        assert_eq!(a.log_format.as_deref(), Some("json"));
    }

    #[test]
    fn everything_after_the_command_belongs_to_it() {
        let a = run(&["-g", "ls", "-l", "--", "-t", "x"]).expect("parses");
        assert_eq!(cmd(&a), ["ls", "-l", "--", "-t", "x"]);
        let a = run(&["--", "-weird", "-g"]).expect("parses");
        assert_eq!(cmd(&a), ["-weird", "-g"]);
        assert!(!a.pgroup);
        let a = run(&["--", "--help"]).expect("parses");
        assert_eq!(cmd(&a), ["--help"]);
        let a = run(&["-", "x"]).expect("parses");
        assert_eq!(cmd(&a), ["-", "x"]);
    }

    #[test]
    fn unknown_flags_and_missing_values_are_errors() {
        assert!(run(&["--bogus", "x"]).unwrap_err().contains("--bogus"));
        assert!(run(&["-x", "true"]).unwrap_err().contains("-x"));
        assert!(run(&["-t"]).unwrap_err().contains("--grace-period"));
        assert!(run(&["--pgroup=1", "x"]).is_err());
        assert!(run(&["-vz"]).is_err());
    }

    #[test]
    fn help_and_version_win() {
        assert!(matches!(
            parse(["init", "-h"].map(OsString::from).to_vec()),
            Ok(Parsed::Help)
        ));
        assert!(matches!(
            parse(["init", "-v", "--version"].map(OsString::from).to_vec()),
            Ok(Parsed::Version)
        ));
        assert!(matches!(
            parse(["init", "-l"].map(OsString::from).to_vec()),
            Ok(Parsed::License)
        ));
        assert!(matches!(
            parse(["init", "-g", "--license"].map(OsString::from).to_vec()),
            Ok(Parsed::License)
        ));
    }

    #[test]
    fn pause_is_a_switch_that_clusters() {
        let a = run(&["-P"]).expect("parses");
        assert!(a.pause && a.command.is_empty());
        let a = run(&["-Pv", "--pause"]).expect("parses");
        assert!(a.pause);
        assert_eq!(a.verbose, 1);
        assert!(run(&["--pause=1"]).is_err());
    }

    #[test]
    fn no_words_means_no_command() {
        assert!(run(&[]).expect("parses").command.is_empty());
    }
}

/// Property tests: any argv (options, values, words that only look like options, bytes
/// that are not UTF-8) parses to a run, --help/--version/--license or a one-line error,
/// never a panic; everything after the command belongs to it. The inputs come from
/// `crate::proptests`.
#[cfg(test)]
mod proptests {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::select;

    use crate::cli::{self, Parsed};
    use crate::proptests::{check_resolve, config, env_map, fuzzy, one_line};

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
}
