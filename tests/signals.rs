//! Signal forwarding: every catchable signal init receives reaches the child;
//! `--rewrite` maps or drops; `-g` reaches the whole process group (and without it
//! a grandchild is not signalled); `-p` delivers a signal when init's parent dies.

mod common;

use common::{Init, Mode, Running, py, signal_name};

use libc::{
    SIGABRT, SIGALRM, SIGBUS, SIGCONT, SIGFPE, SIGHUP, SIGILL, SIGINT, SIGIO, SIGPIPE, SIGPWR,
    SIGQUIT, SIGSEGV, SIGSYS, SIGTERM, SIGTRAP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGUSR1,
    SIGUSR2, SIGWINCH,
};

/// Signals that do not start shutdown, plus a real-time one.
fn non_stopping_signals() -> Vec<i32> {
    vec![
        SIGHUP,
        SIGUSR1,
        SIGUSR2,
        SIGWINCH,
        SIGTTIN,
        SIGTTOU,
        SIGTSTP,
        SIGCONT,
        SIGALRM,
        SIGURG,
        SIGIO,
        SIGPWR,
        SIGPIPE,
        libc::SIGRTMIN() + 3,
    ]
}

/// `init FLAGS -- signals.py RECORDER_ARGS`, waited until ready.
fn recorder(mode: Mode, flags: &[&str], recorder_args: &[&str]) -> Running {
    let run = Init::new(mode)
        .args(flags)
        .arg("--")
        .args(py("signals.py", recorder_args))
        .spawn();
    run.wait_ready("");
    run
}

/// The child plus a grandchild recorder in the child's process group.
fn child_and_grandchild(init: Init) -> Running {
    let grandchild = py("signals.py", &["--tag", "grandchild"]);
    let mut child = py("signals.py", &["--"]);
    child.extend(grandchild);
    let run = init.arg("--").args(child).spawn();
    run.wait_ready("");
    run.wait_ready("grandchild");
    run
}

fn assert_never_seen(run: &common::Finished, tag: &str, sig: i32) {
    if run.signals_seen(tag).contains(&sig) {
        run.fail(&format!(
            "{} must not have reached {}",
            signal_name(sig),
            if tag.is_empty() { "the child" } else { tag }
        ));
    }
}

#[test]
fn every_forwardable_signal_reaches_the_child() {
    for mode in Mode::ALL {
        let run = recorder(mode, &[], &[]);
        for sig in non_stopping_signals() {
            run.signal(sig);
            run.wait_for_signal("", sig);
        }
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0).assert_quiet();
    }
}

/// A shutdown signal sent to init reaches the child, which exits 0 on it; init is quiet.
fn shutdown_signal_is_forwarded(sig: i32) {
    for mode in Mode::ALL {
        let run = recorder(mode, &[], &[]);
        run.signal(sig);
        run.wait_for_signal("", sig);
        run.wait().assert_code(0).assert_quiet();
    }
}

#[test]
fn sigterm_is_forwarded_to_the_child() {
    shutdown_signal_is_forwarded(SIGTERM);
}

#[test]
fn sigint_is_forwarded_to_the_child() {
    shutdown_signal_is_forwarded(SIGINT);
}

#[test]
fn sigquit_is_forwarded_to_the_child() {
    shutdown_signal_is_forwarded(SIGQUIT);
}

#[test]
fn rewrite_forwards_usr1_as_usr2() {
    for mode in Mode::ALL {
        let run = recorder(mode, &["-r", "USR1:USR2"], &[]);
        run.signal(SIGUSR1);
        run.wait_for_signal("", SIGUSR2);
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0);
        assert_never_seen(&done, "", SIGUSR1);
    }
}

#[test]
fn rewrite_accepts_names_in_any_case_and_numbers() {
    for flags in [&["-r", "sigusr1:12"][..], &["--rewrite", "10:SIGUSR2"][..]] {
        let run = recorder(Mode::Subreaper, flags, &[]);
        run.signal(SIGUSR1);
        run.wait_for_signal("", SIGUSR2);
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0);
        assert_never_seen(&done, "", SIGUSR1);
    }
}

#[test]
fn rewrite_to_zero_drops_the_signal() {
    for mode in Mode::ALL {
        let run = recorder(mode, &["-r", "USR1:0"], &[]);
        run.signal(SIGUSR1);
        // The barrier: had init forwarded USR1, the child would have it by now.
        run.settle("");
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0);
        assert_never_seen(&done, "", SIGUSR1);
    }
}

#[test]
fn init_rewrite_is_a_comma_list() {
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .env("INIT_REWRITE", "USR1:USR2,HUP:0")
            .arg("--")
            .args(py("signals.py", &[]))
            .spawn();
        run.wait_ready("");
        run.signal(SIGUSR1);
        run.wait_for_signal("", SIGUSR2);
        run.signal(SIGHUP);
        run.signal(SIGWINCH);
        run.wait_for_signal("", SIGWINCH);
        run.settle("");
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0);
        assert_never_seen(&done, "", SIGUSR1);
        assert_never_seen(&done, "", SIGHUP);
    }
}

#[test]
fn a_rewrite_flag_replaces_the_init_rewrite_list() {
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .env("INIT_REWRITE", "USR1:0")
            .args(["-r", "HUP:USR2", "--"])
            .args(py("signals.py", &[]))
            .spawn();
        run.wait_ready("");
        run.signal(SIGHUP);
        run.wait_for_signal("", SIGUSR2);
        // INIT_REWRITE was not read, so USR1 is not dropped.
        run.signal(SIGUSR1);
        run.wait_for_signal("", SIGUSR1);
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0);
        assert_never_seen(&done, "", SIGHUP);
    }
}

#[test]
fn a_dropped_sigterm_does_not_start_shutdown() {
    for mode in Mode::ALL {
        let mut run = recorder(mode, &["-r", "TERM:0", "-t", "1s"], &[]);
        run.signal(SIGTERM);
        // The barrier: had init forwarded the TERM, the child would have it by now.
        run.settle("");
        if run.signals_seen("").contains(&SIGTERM) {
            run.fail("the dropped SIGTERM reached the child");
        }
        // Had TERM started shutdown without forwarding it, the 1 s grace period would
        // end in SIGKILL: watch 1.5 s for that.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        if run.try_status().is_some() {
            run.fail("init ended although its only TERM was dropped");
        }
        run.signal(SIGINT);
        let done = run.wait();
        done.assert_code(0);
        assert_never_seen(&done, "", SIGTERM);
    }
}

#[test]
fn pgroup_forwards_to_the_grandchild_too() {
    for mode in Mode::ALL {
        let run = child_and_grandchild(Init::new(mode).arg("-g"));
        run.signal(SIGUSR1);
        run.wait_for_signal("", SIGUSR1);
        run.wait_for_signal("grandchild", SIGUSR1);
        run.signal(SIGHUP);
        run.wait_for_signal("", SIGHUP);
        run.wait_for_signal("grandchild", SIGHUP);
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0).assert_quiet();
    }
}

#[test]
fn without_pgroup_the_grandchild_is_not_signalled() {
    for mode in Mode::ALL {
        let run = child_and_grandchild(Init::new(mode));
        run.signal(SIGUSR1);
        run.wait_for_signal("", SIGUSR1);
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0);
        // The grandchild was alive and listening all along: the shutdown's TERM
        // reached it after the child exited.
        if !done.signals_seen("grandchild").contains(&SIGTERM) {
            done.fail("the grandchild should get the shutdown's SIGTERM");
        }
        assert_never_seen(&done, "grandchild", SIGUSR1);
    }
}

#[test]
fn pgroup_from_the_environment_reaches_the_grandchild() {
    for (var, value) in [
        ("INIT_PGROUP", "1"),
        ("INIT_PGROUP", "yes"),
        ("TINI_KILL_PROCESS_GROUP", "1"),
    ] {
        let run = child_and_grandchild(Init::new(Mode::Subreaper).env(var, value));
        run.signal(SIGUSR1);
        run.wait_for_signal("", SIGUSR1);
        run.wait_for_signal("grandchild", SIGUSR1);
        run.signal(SIGTERM);
        run.wait().assert_code(0);
    }
}

#[test]
fn init_pgroup_off_leaves_the_grandchild_alone() {
    let run = child_and_grandchild(Init::new(Mode::Subreaper).env("INIT_PGROUP", "off"));
    run.signal(SIGUSR1);
    run.wait_for_signal("", SIGUSR1);
    run.signal(SIGTERM);
    let done = run.wait();
    done.assert_code(0);
    assert_never_seen(&done, "grandchild", SIGUSR1);
}

#[test]
fn pdeathsig_is_delivered_and_forwarded_when_inits_parent_dies() {
    // With the flag and with INIT_PDEATHSIG, standard and real-time signals (RTMIN is
    // 34 as glibc counts, whatever C library init links).
    let rtmin = libc::SIGRTMIN();
    let ways: [(&[&str], Option<&str>, i32); 6] = [
        (&["-p", "USR1"], None, SIGUSR1),
        (&[], Some("USR1"), SIGUSR1),
        (&["-p", "40"], None, 40),
        (&["-p", "RTMIN+6"], None, rtmin + 6),
        (&["-p", "SIGRTMAX-1"], None, libc::SIGRTMAX() - 1),
        (&[], Some("RTMIN+3"), rtmin + 3),
    ];
    for (mode, (flags, var, sig)) in Mode::ALL.into_iter().flat_map(|m| ways.map(|w| (m, w))) {
        let mut init = Init::new(mode).args(flags);
        if let Some(value) = var {
            init = init.env("INIT_PDEATHSIG", value);
        }
        if mode == Mode::Subreaper {
            // A parent to kill: sh runs init in the foreground (not exec'd).
            init = init.wrap(["sh", "-c", "\"$@\"; exit $?", "sh"]);
        }
        // As PID 1, init's parent is unshare, the started process itself.
        let mut run = init.arg("--").args(py("signals.py", &[])).spawn();
        run.wait_ready("");
        let init_pid = run.init_pid();
        run.kill_root();
        run.wait_for_signal("", sig);
        run.signal_pid(init_pid, SIGTERM);
        run.wait_for_signal("", SIGTERM);
        let gone = common::poll_until(common::TIMEOUT, || {
            common::proc_info(init_pid).is_none_or(|p| p.state == 'Z')
        });
        if !gone {
            run.fail("init did not exit after its child did");
        }
        if !run.stderr().is_empty() {
            run.fail("a parent-death signal should be set up quietly");
        }
    }
}

#[test]
fn sigchld_sent_to_init_is_not_forwarded() {
    for mode in Mode::ALL {
        let run = recorder(mode, &[], &[]);
        run.signal(libc::SIGCHLD);
        // The barrier: had init forwarded CHLD, the child would have it by now.
        run.settle("");
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0);
        assert_never_seen(&done, "", libc::SIGCHLD);
    }
}

#[test]
fn the_child_runs_in_its_own_process_group() {
    let script = "import os; print('pid %d pgid %d' % (os.getpid(), os.getpgrp()))";
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .arg("--")
            .arg(common::python())
            .args(["-c", script])
            .run();
        run.assert_code(0);
        let words: Vec<&str> = run.stdout.split_whitespace().collect();
        if words.len() != 4 || words[1] != words[3] {
            run.fail("the child should lead a process group of its own");
        }
    }
}

#[test]
fn the_barrier_sees_every_signal_init_forwarded_before_it() {
    // The control for the tests above that show a signal was NOT forwarded (dropped by
    // a rewrite, CHLD, a dropped TERM): the same send and barrier, and a signal init
    // does forward is always recorded by the time the barrier returns, whatever its
    // number, without waiting for it.
    for mode in Mode::ALL {
        let run = recorder(mode, &[], &[]);
        for sig in non_stopping_signals() {
            run.signal(sig);
            run.settle("");
            if !run.signals_seen("").contains(&sig) {
                run.fail(&format!(
                    "{} was not recorded by the time the barrier returned",
                    signal_name(sig)
                ));
            }
        }
        run.signal(SIGTERM);
        run.wait().assert_code(0);
    }
}

#[test]
fn fault_signals_and_abrt_sent_by_another_process_are_forwarded() {
    // Only faults the kernel raises in init itself are not forwarded; the same signals
    // sent with kill(2) are, and init survives them.
    for mode in Mode::ALL {
        let mut run = recorder(mode, &[], &[]);
        for sig in [SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGSYS] {
            run.signal(sig);
            run.wait_for_signal("", sig);
        }
        if let Some(status) = run.try_status() {
            run.fail(&format!("init ended after the fault signals: {status}"));
        }
        run.signal(SIGTERM);
        run.wait().assert_code(0).assert_quiet();
    }
}

/// The name init's log gives a standard signal (`SIGUSR1`).
fn log_name(sig: i32) -> &'static str {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| s.as_str())
        .unwrap_or_else(|_| panic!("{sig} is not a standard signal"))
}

#[test]
fn with_vv_init_logs_one_line_per_forwarded_signal() {
    // A real-time signal first, the standard ones after it: init handles them in the
    // order sent (each is waited for), so once the last one's line is written, every
    // earlier one's is too.
    let rt = libc::SIGRTMIN() + 3;
    let standard: Vec<i32> = non_stopping_signals()
        .into_iter()
        .filter(|&s| s < libc::SIGRTMIN())
        .collect();
    let last = *standard.last().expect("standard signals");
    // With -g the line says `forwarded SIGX to the process group`.
    let runs: [(&[&str], bool); 3] = [(&["-vv"], true), (&["-vv", "-g"], true), (&["-v"], false)];
    for (verbosity, logged) in runs {
        for mode in Mode::ALL {
            let run = recorder(mode, verbosity, &[]);
            for &sig in std::iter::once(&rt).chain(&standard) {
                run.signal(sig);
                run.wait_for_signal("", sig);
            }
            if logged {
                let line = format!("forwarded {}", log_name(last));
                run.wait_for_stderr_line(&format!("`{line}`"), common::TIMEOUT, |l| {
                    l.contains(&line)
                });
            }
            let log = run.stderr();
            run.signal(SIGTERM);
            let done = run.wait();
            done.assert_code(0);
            let count = |needle: &str| {
                log.lines()
                    .filter(|l| l.starts_with("init: DEBUG ") && l.contains(needle))
                    .count()
            };
            let mut wrong = Vec::new();
            for &sig in &standard {
                let n = count(&format!("forwarded {} ", log_name(sig)));
                if n != usize::from(logged) {
                    wrong.push(format!("{}: {n} lines", log_name(sig)));
                }
            }
            // init names real-time signals as glibc counts them (RTMIN is 34), whatever C
            // library it links: the same name this glibc test gives it.
            let n = count(&format!("forwarded {} ", signal_name(rt)));
            if n != usize::from(logged) {
                wrong.push(format!("{}: {n} lines", signal_name(rt)));
            }
            if !wrong.is_empty() {
                done.fail(&format!(
                    "{mode:?} {verbosity:?}: expected {} `init: DEBUG forwarded SIG...` line \
                     per signal sent, got {wrong:?}",
                    usize::from(logged)
                ));
            }
        }
    }
}
