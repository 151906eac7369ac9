//! Configuration from the environment and tini compatibility: `INIT_*` variables,
//! "a flag beats its variable" (the variable is then not read at all), tini's
//! `TINI_*` variables (set means on) and tini's flags.

mod common;

use common::{Init, Mode, py};
use libc::{SIGTERM, SIGUSR1};

#[test]
fn tini_flags_are_accepted() {
    for mode in Mode::ALL {
        Init::new(mode)
            .args(["-s", "-g", "-p", "SIGKILL", "-w", "-v", "-e", "3"])
            .args(["--", "sh", "-c", "exit 3"])
            .run()
            .assert_code(0);
    }
}

#[test]
fn tini_variables_are_accepted() {
    for mode in Mode::ALL {
        for (var, value) in [
            ("TINI_SUBREAPER", "1"),
            ("TINI_SUBREAPER", ""),
            ("TINI_KILL_PROCESS_GROUP", "1"),
            ("TINI_KILL_PROCESS_GROUP", "anything"),
            ("TINI_VERBOSITY", "1"),
            ("TINI_VERBOSITY", "0"),
        ] {
            Init::new(mode)
                .env(var, value)
                .args(["--", "sh", "-c", "exit 4"])
                .run()
                .assert_code(4);
        }
    }
}

#[test]
fn a_set_tini_kill_process_group_means_on_whatever_its_value() {
    // tini's rule: the variable being set turns the feature on.
    for value in ["1", "0", ""] {
        let grandchild = py("signals.py", &["--tag", "grandchild"]);
        let mut child = py("signals.py", &["--"]);
        child.extend(grandchild);
        let run = Init::new(Mode::Subreaper)
            .env("TINI_KILL_PROCESS_GROUP", value)
            .arg("--")
            .args(child)
            .spawn();
        run.wait_ready("");
        run.wait_ready("grandchild");
        run.signal(SIGUSR1);
        run.wait_for_signal("grandchild", SIGUSR1);
        run.signal(SIGTERM);
        run.wait().assert_code(0);
    }
}

#[test]
fn a_flag_means_its_bad_variable_is_not_read() {
    for mode in Mode::ALL {
        for (var, value, flags) in [
            ("INIT_PGROUP", "maybe", &["-g"][..]),
            ("INIT_SUBREAPER", "maybe", &["-s"][..]),
            ("INIT_WARN_ON_REAP", "maybe", &["-w"][..]),
            ("INIT_GRACE_PERIOD", "bogus", &["-t", "1s"][..]),
            (
                "INIT_PRE_STOP_DELAY",
                "bogus",
                &["--pre-stop-delay", "0"][..],
            ),
            ("INIT_PDEATHSIG", "NOSUCHSIG", &["-p", "KILL"][..]),
            ("INIT_REWRITE", "not-a-rewrite", &["-r", "USR1:USR2"][..]),
            ("INIT_REMAP_EXIT", "x,y", &["-e", "9"][..]),
            ("INIT_LOG_FORMAT", "xml", &["--log-format", "text"][..]),
        ] {
            Init::new(mode)
                .env(var, value)
                .args(flags)
                .args(["--", "sh", "-c", "exit 5"])
                .run()
                .assert_code(5)
                .assert_quiet();
        }
    }
}

#[test]
fn init_subreaper_and_pdeathsig_variables_are_accepted() {
    for mode in Mode::ALL {
        for (var, value) in [
            ("INIT_SUBREAPER", "1"),
            ("INIT_SUBREAPER", "yes"),
            ("INIT_PDEATHSIG", "SIGKILL"),
            ("INIT_PDEATHSIG", "term"),
            ("INIT_PDEATHSIG", "10"),
        ] {
            Init::new(mode)
                .env(var, value)
                .args(["--", "sh", "-c", "exit 6"])
                .run()
                .assert_code(6)
                .assert_quiet();
        }
    }
}
