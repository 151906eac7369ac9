//! What the child inherits: the signal mask and ignored set init was started with
//! (not init's own blocked set), stdin/stdout/stderr as they are (closed stays
//! closed), and no other file descriptor. A closed or broken stdio does not hurt init.

mod common;

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use common::{Init, Mode, py, python};
use libc::{SIGTERM, SIGUSR1};

/// Reads the child's own `SigBlk` and `SigIgn`: grep is exec'd directly (python
/// would change its ignored set).
const GREP: [&str; 3] = ["grep", "-E", "^Sig(Blk|Ign):"];

/// The `Sig(Blk|Ign)` lines a program sees when started through `wrapper` in `mode`,
/// with init in between or (baseline) without.
fn masks(mode: Mode, wrapper: &[OsString], through_init: bool) -> (String, common::Finished) {
    let init = Init::new(mode).wrap(wrapper);
    let run = if through_init {
        init.arg("--").args(GREP).arg("/proc/self/status").run()
    } else {
        init.program(GREP[0])
            .args(&GREP[1..])
            .arg("/proc/self/status")
            .run()
    };
    run.assert_code(0);
    (run.stdout.clone(), run)
}

/// The hex mask on the `NAME:` line of `/proc/PID/status` output.
fn mask(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or_else(|| panic!("no {name} line in {status:?}"))
}

/// The `SigBlk`/`SigIgn` bit of a signal.
fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

fn words(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

#[test]
fn the_child_starts_with_the_ignored_signals_init_was_started_with() {
    let wrapper = words(&["bash", "-c", r#"trap "" USR1 HUP; exec "$@""#, "bash"]);
    for mode in Mode::ALL {
        let (expected, baseline) = masks(mode, &wrapper, false);
        let wanted = bit(libc::SIGUSR1) | bit(libc::SIGHUP);
        if mask(&expected, "SigIgn:") & wanted != wanted {
            baseline.fail("baseline: USR1 and HUP should be ignored (the wrapper is broken)");
        }
        let (seen, run) = masks(mode, &wrapper, true);
        if seen != expected {
            run.fail(&format!("the child should start with\n{expected}"));
        }
    }
}

#[test]
fn the_child_starts_with_the_signal_mask_init_was_started_with() {
    let block = "import os, signal, sys\n\
                 signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n\
                 signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2, signal.SIGWINCH])\n\
                 os.execvp(sys.argv[1], sys.argv[1:])";
    let wrapper = vec![python().into(), "-c".into(), block.into()];
    for mode in Mode::ALL {
        let (expected, baseline) = masks(mode, &wrapper, false);
        let wanted = bit(libc::SIGUSR2) | bit(libc::SIGWINCH);
        if mask(&expected, "SigBlk:") & wanted != wanted {
            baseline.fail("baseline: USR2 and WINCH should be blocked (the wrapper is broken)");
        }
        let (seen, run) = masks(mode, &wrapper, true);
        if seen != expected {
            run.fail(&format!("the child should start with\n{expected}"));
        }
    }
}

#[test]
fn the_child_starts_with_what_init_got_when_nothing_is_special() {
    for mode in Mode::ALL {
        let (expected, _) = masks(mode, &[], false);
        let (seen, run) = masks(mode, &[], true);
        if seen != expected {
            run.fail(&format!("the child should start with\n{expected}"));
        }
    }
}

#[test]
fn the_child_inherits_every_descriptor_init_was_started_with_and_none_of_inits_own() {
    let wrapper = words(&[
        "bash",
        "-c",
        r#"exec 7</dev/null 9>/dev/null; exec "$@""#,
        "bash",
    ]);
    for mode in Mode::ALL {
        // Baseline: without init the fixture sees fds 7 and 9 too.
        let mut fds = py("fds.py", &[]);
        let program = fds.remove(0);
        let baseline = Init::new(mode)
            .wrap(&wrapper)
            .program(&program)
            .args(&fds)
            .run();
        baseline.assert_code(0);
        if baseline.stdout != "fds: 0 1 2 7 9\n" {
            baseline.fail("baseline: the fixture should see fds 0 1 2 7 9 (the wrapper is broken)");
        }
        // Through init: the same list, so nothing of init's own (its exec-status pipe,
        // /proc reads) leaks, and nothing it was given is held back.
        let run = Init::new(mode)
            .wrap(&wrapper)
            .arg("--")
            .args(py("fds.py", &[]))
            .run();
        run.assert_code(0).assert_quiet();
        if run.stdout != baseline.stdout {
            run.fail("the child should inherit exactly the descriptors init was started with");
        }
    }
}

#[test]
fn a_closed_stdin_stays_closed_for_the_child() {
    let wrapper = words(&["bash", "-c", r#"exec 0<&-; exec "$@""#, "bash"]);
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .wrap(&wrapper)
            .arg("--")
            .args(py("fds.py", &[]))
            .run();
        run.assert_code(0).assert_quiet();
        if run.stdout != "fds: 1 2\n" {
            run.fail("the child should find fd 0 closed, as init did");
        }
    }
}

#[test]
fn a_closed_stdout_stays_closed_for_the_child() {
    let wrapper = words(&["bash", "-c", r#"exec 1>&-; exec "$@""#, "bash"]);
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .wrap(&wrapper)
            .arg("--")
            .args(py("fds.py", &[]))
            .run();
        run.assert_code(0);
        // fds.py writes to stderr when stdout is closed.
        if run.stderr != "fds: 0 2\n" {
            run.fail("the child should find fd 1 closed, as init did (and init stay quiet)");
        }
    }
}

#[test]
fn closed_stdin_stdout_and_stderr_do_not_hurt_init() {
    for closing in ["exec 0<&- 1>&- 2>&-", "exec 1>&- 2>&-", "exec 2>&-"] {
        let script = format!(r#"{closing}; exec "$@""#);
        for mode in Mode::ALL {
            for verbosity in [&[][..], &["-vvv"][..]] {
                Init::new(mode)
                    .wrap(["bash", "-c", &script, "bash"])
                    .args(verbosity)
                    .args(["--", "sh", "-c", "exit 7"])
                    .run()
                    .assert_code(7);
            }
        }
    }
}

#[test]
fn a_log_pipe_without_reader_does_not_hurt_init_nor_send_the_child_sigpipe() {
    // stderr is a pipe whose read end is closed, and init starts with SIGPIPE at its
    // default: writing logs (-vvv) must neither kill init nor be forwarded.
    let broken = "import os, signal, sys\n\
                  r, w = os.pipe()\n\
                  os.dup2(w, 2)\n\
                  os.close(r)\n\
                  os.close(w)\n\
                  signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n\
                  os.execvp(sys.argv[1], sys.argv[1:])";
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .wrap([python().as_os_str(), OsStr::new("-c"), OsStr::new(broken)])
            .args(["-vvv", "--"])
            .args(py("signals.py", &[]))
            .spawn();
        run.wait_ready("");
        run.signal(SIGUSR1);
        run.wait_for_signal("", SIGUSR1);
        run.signal(SIGTERM);
        let done = run.wait_timeout(Duration::from_secs(10));
        done.assert_code(0);
        if done.signals_seen("").contains(&libc::SIGPIPE) {
            done.fail("init forwarded the SIGPIPE it got from writing its own log");
        }
    }
}
