//! Usage errors: a bad flag, value or `INIT_*` variable, or no command, exits 2 with
//! one line on stderr naming the option and the value, and starts no child.
//! Also `--help` and `--version`.

mod common;

use common::{Init, Mode, TempDir};

/// One bad invocation: flags before the command, environment, the words the one
/// stderr line must contain, and a list of which at least one must appear (the
/// option's names).
struct Case {
    /// What is wrong, to pick the case by and to name it in a failure.
    name: &'static str,
    flags: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    must_contain: &'static [&'static str],
    names: &'static [&'static str],
}

const BAD: &[Case] = &[
    Case {
        name: "unknown long flag",
        flags: &["--bogus"],
        env: &[],
        must_contain: &["--bogus"],
        names: &[],
    },
    Case {
        name: "unknown short flag",
        flags: &["-x"],
        env: &[],
        must_contain: &["-x"],
        names: &[],
    },
    Case {
        name: "bad -t",
        flags: &["-t", "5parsecs"],
        env: &[],
        must_contain: &["5parsecs"],
        names: &["-t", "grace"],
    },
    Case {
        name: "bad --grace-period=",
        flags: &["--grace-period=soon"],
        env: &[],
        must_contain: &["soon"],
        names: &["-t", "grace"],
    },
    Case {
        name: "bad --pre-stop-delay",
        flags: &["--pre-stop-delay", "1h30"],
        env: &[],
        must_contain: &["1h30"],
        names: &["pre-stop"],
    },
    Case {
        name: "bad -p",
        flags: &["-p", "SIGFOO"],
        env: &[],
        must_contain: &["SIGFOO"],
        names: &["-p", "pdeathsig"],
    },
    Case {
        name: "-r without TO",
        flags: &["-r", "USR1"],
        env: &[],
        must_contain: &["USR1"],
        names: &["-r", "rewrite"],
    },
    Case {
        name: "-r with a bad TO",
        flags: &["-r", "USR1:NOPE"],
        env: &[],
        must_contain: &["NOPE"],
        names: &["-r", "rewrite"],
    },
    Case {
        name: "-r with a bad FROM",
        flags: &["-r", "BOGUS:TERM"],
        env: &[],
        must_contain: &["BOGUS"],
        names: &["-r", "rewrite"],
    },
    Case {
        name: "-e out of range",
        flags: &["-e", "256"],
        env: &[],
        must_contain: &["256"],
        names: &["-e", "remap"],
    },
    Case {
        name: "-e not a number",
        flags: &["-e", "abc"],
        env: &[],
        must_contain: &["abc"],
        names: &["-e", "remap"],
    },
    Case {
        name: "bad --log-format",
        flags: &["--log-format", "xml"],
        env: &[],
        must_contain: &["xml"],
        names: &["log-format"],
    },
    Case {
        name: "bad INIT_PGROUP",
        flags: &[],
        env: &[("INIT_PGROUP", "maybe")],
        must_contain: &["maybe", "INIT_PGROUP"],
        names: &[],
    },
    Case {
        name: "bad INIT_SUBREAPER",
        flags: &[],
        env: &[("INIT_SUBREAPER", "2")],
        must_contain: &["INIT_SUBREAPER"],
        names: &[],
    },
    Case {
        name: "bad INIT_WARN_ON_REAP",
        flags: &[],
        env: &[("INIT_WARN_ON_REAP", "sometimes")],
        must_contain: &["sometimes", "INIT_WARN_ON_REAP"],
        names: &[],
    },
    Case {
        name: "bad INIT_GRACE_PERIOD",
        flags: &[],
        env: &[("INIT_GRACE_PERIOD", "forever")],
        must_contain: &["forever", "INIT_GRACE_PERIOD"],
        names: &[],
    },
    Case {
        name: "bad INIT_PRE_STOP_DELAY",
        flags: &[],
        env: &[("INIT_PRE_STOP_DELAY", "later")],
        must_contain: &["later", "INIT_PRE_STOP_DELAY"],
        names: &[],
    },
    Case {
        name: "bad INIT_REWRITE",
        flags: &[],
        env: &[("INIT_REWRITE", "USR1:USR2,HUP")],
        must_contain: &["INIT_REWRITE"],
        names: &[],
    },
    Case {
        name: "bad INIT_REMAP_EXIT",
        flags: &[],
        env: &[("INIT_REMAP_EXIT", "3,x")],
        must_contain: &["INIT_REMAP_EXIT"],
        names: &[],
    },
    Case {
        name: "bad INIT_PDEATHSIG",
        flags: &[],
        env: &[("INIT_PDEATHSIG", "NOPE")],
        must_contain: &["NOPE", "INIT_PDEATHSIG"],
        names: &[],
    },
    Case {
        name: "bad INIT_VERBOSITY",
        flags: &[],
        env: &[("INIT_VERBOSITY", "loud")],
        must_contain: &["loud", "INIT_VERBOSITY"],
        names: &[],
    },
    Case {
        name: "bad INIT_LOG_FORMAT",
        flags: &[],
        env: &[("INIT_LOG_FORMAT", "xml")],
        must_contain: &["xml", "INIT_LOG_FORMAT"],
        names: &[],
    },
];

/// Runs one case with `touch MARK` as the command and checks the usage-error rules.
fn check(mode: Mode, case: &Case) {
    let dir = TempDir::new("usage");
    let mark = dir.join("child-started");
    let mut init = Init::new(mode).args(case.flags);
    for (key, value) in case.env {
        init = init.env(key, value);
    }
    let run = init.arg("--").arg("touch").arg(&mark).run();
    if run.status.code() != Some(2) {
        run.fail(&format!(
            "{}: expected exit code 2 (usage error)",
            case.name
        ));
    }
    if mark.exists() {
        run.fail("a usage error must start no child");
    }
    let lines = run.stderr_lines();
    if lines.len() != 1 {
        run.fail(&format!(
            "a usage error is one line on stderr, got {}",
            lines.len()
        ));
    }
    for word in case.must_contain {
        if !run.stderr.contains(word) {
            run.fail(&format!("the error line should contain {word:?}"));
        }
    }
    if !case.names.is_empty() && !case.names.iter().any(|n| run.stderr.contains(n)) {
        run.fail(&format!(
            "the error line should name the option (one of {:?})",
            case.names
        ));
    }
    if !run.stdout.is_empty() {
        run.fail("nothing belongs on stdout");
    }
}

#[test]
fn a_bad_flag_or_value_is_a_usage_error_that_starts_no_child() {
    for case in BAD {
        check(Mode::Subreaper, case);
    }
}

#[test]
fn a_usage_error_as_pid_1_is_the_same() {
    for name in [
        "unknown long flag",
        "unknown short flag",
        "bad -t",
        "bad --grace-period=",
        "bad INIT_PGROUP",
    ] {
        check(Mode::Pid1, case(name));
    }
}

/// The case called `name` in [`BAD`].
fn case(name: &str) -> &'static Case {
    BAD.iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no usage case called {name:?}"))
}

#[test]
fn no_command_is_a_usage_error() {
    for mode in Mode::ALL {
        for args in [&[][..], &["--"][..], &["-t", "1s"][..], &["-g", "--"][..]] {
            let run = Init::new(mode).args(args).run();
            run.assert_code(2);
            if run.stderr_lines().len() != 1 {
                run.fail("a usage error is one line on stderr");
            }
        }
    }
}

#[test]
fn good_values_in_every_documented_form_are_accepted() {
    for flags in [
        &["-t", "1500ms"][..],
        &["-t", "10s"][..],
        &["-t", "2m"][..],
        &["-t", "10"][..],
        &["-t", "0.5"][..],
        &["-t", "0"][..],
        &["--grace-period", "3s"][..],
        &["--pre-stop-delay", "0"][..],
        &["-p", "TERM"][..],
        &["-p", "SIGTERM"][..],
        &["-p", "term"][..],
        &["-p", "15"][..],
        &["--pdeathsig", "SIGKILL"][..],
        &["-r", "USR1:USR2", "-r", "sigHUP:0", "-r", "12:10"][..],
        &["--rewrite", "WINCH:0"][..],
        &["-e", "0", "-e", "255"][..],
        &["--log-format", "text"][..],
        &["--log-format", "json"][..],
        &["-s", "-g", "-w", "-vvv"][..],
        &["--subreaper", "--pgroup", "--warn-on-reap"][..],
    ] {
        Init::new(Mode::Subreaper)
            .args(flags)
            .args(["--", "sh", "-c", "exit 0"])
            .run()
            .assert_code(0);
    }
}

#[test]
fn booleans_in_init_variables_take_every_documented_spelling() {
    for var in ["INIT_PGROUP", "INIT_SUBREAPER", "INIT_WARN_ON_REAP"] {
        for value in ["1", "true", "yes", "on", "0", "false", "no", "off"] {
            Init::new(Mode::Subreaper)
                .env(var, value)
                .args(["--", "sh", "-c", "exit 0"])
                .run()
                .assert_code(0);
        }
    }
}

#[test]
fn an_unknown_log_format_variable_is_ignored() {
    // LOG_FORMAT is shared with the application: a value init does not know is
    // not an error, and text (quiet by default) is used.
    for mode in Mode::ALL {
        Init::new(mode)
            .env("LOG_FORMAT", "logfmt")
            .args(["--", "sh", "-c", "exit 0"])
            .run()
            .assert_code(0)
            .assert_quiet();
    }
}

#[test]
fn help_and_version_print_to_stdout_and_exit_zero() {
    let dir = TempDir::new("help");
    let mark = dir.join("child-started");
    for flag in ["--help", "--version"] {
        let run = Init::new(Mode::Subreaper)
            .arg(flag)
            .arg("--")
            .arg("touch")
            .arg(&mark)
            .run();
        run.assert_code(0);
        if run.stdout.trim().is_empty() {
            run.fail("expected output on stdout");
        }
        if mark.exists() {
            run.fail("--help/--version must start no child");
        }
    }
    let help = Init::new(Mode::Subreaper).arg("--help").run();
    for option in [
        "--grace-period",
        "--pre-stop-delay",
        "--rewrite",
        "--pgroup",
        "--probe",
    ] {
        if !help.stdout.contains(option) {
            help.fail(&format!("--help should mention {option}"));
        }
    }
}
