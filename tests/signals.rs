//! Signal forwarding: every catchable signal init receives reaches the child;
//! `--rewrite` maps or drops; `-g` reaches the whole process group (and without it
//! a grandchild is not signalled); `-p` delivers a signal when init's parent dies.

mod common;

use common::{Init, Mode, Running, py, signal_name};

use libc::{
    SIGALRM, SIGCONT, SIGHUP, SIGINT, SIGIO, SIGPIPE, SIGPWR, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN,
    SIGTTOU, SIGURG, SIGUSR1, SIGUSR2, SIGWINCH,
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

#[test]
fn sigterm_is_forwarded_to_the_child() {
    for mode in Mode::ALL {
        let run = recorder(mode, &[], &[]);
        run.signal(SIGTERM);
        run.wait_for_signal("", SIGTERM);
        run.wait().assert_code(0).assert_quiet();
    }
}

#[test]
fn sigint_is_forwarded_to_the_child() {
    for mode in Mode::ALL {
        let run = recorder(mode, &[], &[]);
        run.signal(SIGINT);
        run.wait_for_signal("", SIGINT);
        run.wait().assert_code(0).assert_quiet();
    }
}

#[test]
fn sigquit_is_forwarded_to_the_child() {
    for mode in Mode::ALL {
        let run = recorder(mode, &[], &[]);
        run.signal(SIGQUIT);
        run.wait_for_signal("", SIGQUIT);
        run.wait().assert_code(0).assert_quiet();
    }
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
        // A marker sent after USR1: once it arrived, USR1 had its chance.
        run.signal(SIGHUP);
        run.wait_for_signal("", SIGHUP);
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
        run.signal(SIGHUP);
        run.wait_for_signal("", SIGHUP);
        // Had TERM started shutdown, the child would have it by now, or be killed
        // once the 1 s grace period ends.
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
    for mode in Mode::ALL {
        let mut init = Init::new(mode);
        if mode == Mode::Subreaper {
            // A parent to kill: sh runs init in the foreground (not exec'd).
            init = init.wrap(["sh", "-c", "\"$@\"; exit $?", "sh"]);
        }
        // As PID 1, init's parent is unshare, the started process itself.
        let mut run = init
            .args(["-p", "USR1", "--"])
            .args(py("signals.py", &[]))
            .spawn();
        run.wait_ready("");
        let init_pid = run.init_pid();
        run.kill_root();
        run.wait_for_signal("", SIGUSR1);
        run.signal_pid(init_pid, SIGTERM);
        run.wait_for_signal("", SIGTERM);
        let gone = common::poll_until(common::TIMEOUT, || {
            common::proc_info(init_pid).is_none_or(|p| p.state == 'Z')
        });
        if !gone {
            run.fail("init did not exit after its child did");
        }
    }
}

#[test]
fn sigchld_sent_to_init_is_not_forwarded() {
    for mode in Mode::ALL {
        let run = recorder(mode, &[], &[]);
        run.signal(libc::SIGCHLD);
        // A marker sent after CHLD: once it arrived, CHLD had its chance.
        run.signal(SIGHUP);
        run.wait_for_signal("", SIGHUP);
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
