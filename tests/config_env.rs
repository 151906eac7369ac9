//! Configuration from the environment and tini compatibility: `INIT_*` variables,
//! "a flag beats its variable" (the variable is then not read at all), tini's
//! `TINI_*` variables (set means on) and tini's flags.

mod common;

use common::{Finished, Init, Mode, py};
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

/// The warning init gives when it is neither PID 1 nor a subreaper.
const NOT_A_SUBREAPER: &str =
    "not PID 1 and not a subreaper: orphaned grandchildren will not be reaped by init";

/// Runs `orphans.py` (three orphans that exit at once, one `sleep` daemon) under init
/// as a plain process with `-vv` and `env`; says whether the daemon was adopted by init
/// and how many orphans init reaped: its `-vv` line per reaped orphan, so 4 (the three,
/// and the daemon at shutdown) when init is a subreaper.
fn orphans_under(env: &[(&str, &str)]) -> (bool, usize, Finished) {
    let mut init = Init::new(Mode::Subreaper).arg("-vv");
    for (key, value) in env {
        init = init.env(key, value);
    }
    let run = init
        .arg("--")
        .args(py("orphans.py", &["--count", "3", "--daemons", "1"]))
        .spawn();
    // Not PID 1 and no namespace: the fixture's pids are host pids.
    let daemon = run.wait_pid_line("daemon");
    run.watch_pid(daemon);
    run.wait_ready("");
    let init_pid = run.init_pid();
    // The daemon's parent exited before `daemon (pid: N)` was printed: it has been
    // re-parented by now, to init or to whoever else takes orphans.
    let parent = common::proc_info(daemon)
        .unwrap_or_else(|| run.fail("the daemon is gone"))
        .ppid;
    // Let the three quick orphans be reaped (by init, if they are its).
    let adopted = parent == init_pid;
    if adopted {
        let reaped = common::poll_until(common::TIMEOUT, || {
            run.stderr().matches("reaped an orphan").count() >= 3
        });
        if !reaped {
            run.fail("init adopted the daemon but did not reap the three quick orphans");
        }
    }
    run.signal(SIGTERM);
    let done = run.wait();
    done.assert_code(0);
    let reaped = done.stderr.matches("reaped an orphan").count();
    (adopted, reaped, done)
}

#[test]
fn init_subreaper_0_warns_and_orphans_are_no_longer_inits() {
    // The control first: by default, not PID 1, init is a subreaper.
    let (adopted, reaped, done) = orphans_under(&[]);
    if !adopted || reaped != 4 || done.stderr.contains(NOT_A_SUBREAPER) {
        done.fail(&format!(
            "by default init should adopt and reap orphans without a warning (adopted: \
             {adopted}, reaped: {reaped})"
        ));
    }
    for value in ["0", "off", "no", "false"] {
        let (adopted, reaped, done) = orphans_under(&[("INIT_SUBREAPER", value)]);
        let warnings: Vec<&str> = done
            .stderr_lines()
            .into_iter()
            .filter(|l| l.starts_with("init: WARN ") && l.contains(NOT_A_SUBREAPER))
            .collect();
        if warnings.len() != 1 {
            done.fail(&format!(
                "INIT_SUBREAPER={value}: expected one `init: WARN {NOT_A_SUBREAPER}` line"
            ));
        }
        if adopted || reaped != 0 {
            done.fail(&format!(
                "INIT_SUBREAPER={value}: orphans should not come to init (adopted: \
                 {adopted}, reaped: {reaped})"
            ));
        }
    }
    // As PID 1 the kernel gives init the orphans anyway: nothing to warn about.
    Init::new(Mode::Pid1)
        .env("INIT_SUBREAPER", "0")
        .args(["--", "sh", "-c", "exit 0"])
        .run()
        .assert_code(0)
        .assert_quiet();
}

#[test]
fn tini_subreaper_is_an_explicit_request_whatever_its_value_and_init_subreaper_beats_it() {
    // Not PID 1, init is a subreaper anyway, so TINI_SUBREAPER cannot change what it does;
    // it makes the subreaper an explicit request, as tini's -s does: set, with any value
    // (tini's rule), and a kernel that refuses it is init's failure (exit 1, nothing
    // started) instead of a warning. The refusal shows the request: prctl(2) refuses it
    // here (tests/fixtures/deny_prctl.py).
    for value in ["1", "0", "", "no"] {
        let done = Init::new(Mode::Subreaper)
            .wrap(common::refusing_prctl(&["--subreaper"]))
            .env("TINI_SUBREAPER", value)
            .args(["--", "sh", "-c", "echo ran; exit 3"])
            .run();
        done.assert_code(1);
        let lines = done.stderr_lines();
        if lines.len() != 1 || !lines[0].contains("ERROR prctl(PR_SET_CHILD_SUBREAPER)") {
            done.fail(&format!(
                "TINI_SUBREAPER={value:?}: expected one error line naming the prctl"
            ));
        }
        if done.stdout.contains("ran") {
            done.fail("the command ran although init could not set itself up");
        }
    }
    // The control: unset, the same refusal is only a warning and the command runs.
    let done = Init::new(Mode::Subreaper)
        .wrap(common::refusing_prctl(&["--subreaper"]))
        .args(["--", "sh", "-c", "exit 3"])
        .run();
    done.assert_code(3);
    // INIT_SUBREAPER=0 beats it: no subreaper is asked for, none is tried, orphans are
    // not init's (the warning says so).
    let done = Init::new(Mode::Subreaper)
        .wrap(common::refusing_prctl(&["--subreaper"]))
        .env("TINI_SUBREAPER", "1")
        .env("INIT_SUBREAPER", "0")
        .args(["--", "sh", "-c", "exit 3"])
        .run();
    done.assert_code(3);
    if done.stderr_lines() != [format!("init: WARN {NOT_A_SUBREAPER}")] {
        done.fail("INIT_SUBREAPER=0 should beat TINI_SUBREAPER=1: no prctl, one warning");
    }
    let (adopted, reaped, done) =
        orphans_under(&[("TINI_SUBREAPER", "1"), ("INIT_SUBREAPER", "0")]);
    if adopted || reaped != 0 {
        done.fail(&format!(
            "INIT_SUBREAPER=0 should beat TINI_SUBREAPER=1 (adopted: {adopted}, reaped: \
             {reaped})"
        ));
    }
}

/// The levels of init's own log lines (`init: LEVEL ...`) in a run that forwards USR1
/// and shuts down on TERM, in the order first seen.
fn levels_logged(init: Init) -> (Vec<String>, Finished) {
    let run = init.arg("--").args(py("signals.py", &[])).spawn();
    run.wait_ready("");
    run.signal(SIGUSR1);
    run.wait_for_signal("", SIGUSR1);
    run.signal(SIGTERM);
    let done = run.wait();
    done.assert_code(0);
    let mut levels: Vec<String> = Vec::new();
    for line in done.stderr.lines() {
        if let Some(level) = line
            .strip_prefix("init: ")
            .and_then(|r| r.split(' ').next())
        {
            if !levels.iter().any(|l| l == level) {
                levels.push(level.to_string());
            }
        }
    }
    levels.sort();
    (levels, done)
}

/// Environment variables for one run.
type Env = &'static [(&'static str, &'static str)];

#[test]
fn tini_verbosity_sets_the_log_level_and_init_verbosity_beats_it() {
    // A run with a forward (a DEBUG line), a shutdown (an INFO line) and signals
    // received (a TRACE line each).
    let cases: [(Env, &[&str]); 7] = [
        (&[("TINI_VERBOSITY", "0")], &[]),
        (&[("TINI_VERBOSITY", "1")], &["INFO"]),
        (&[("TINI_VERBOSITY", "2")], &["DEBUG", "INFO"]),
        (&[("TINI_VERBOSITY", "3")], &["DEBUG", "INFO", "TRACE"]),
        // tini's rule: what is not a number counts as 0.
        (&[("TINI_VERBOSITY", "loud")], &[]),
        (&[("TINI_VERBOSITY", "2"), ("INIT_VERBOSITY", "0")], &[]),
        (
            &[("TINI_VERBOSITY", "0"), ("INIT_VERBOSITY", "1")],
            &["INFO"],
        ),
    ];
    for mode in Mode::ALL {
        for (env, want) in cases {
            let mut init = Init::new(mode);
            for (key, value) in env {
                init = init.env(key, value);
            }
            let (levels, done) = levels_logged(init);
            if levels != want {
                done.fail(&format!(
                    "{mode:?} {env:?}: expected init's log levels {want:?}, got {levels:?}"
                ));
            }
        }
    }
    // A flag beats both.
    let (levels, done) = levels_logged(
        Init::new(Mode::Subreaper)
            .env("TINI_VERBOSITY", "2")
            .arg("-v"),
    );
    if levels != ["INFO"] {
        done.fail(&format!(
            "-v with TINI_VERBOSITY=2: expected INFO only, got {levels:?}"
        ));
    }
}
