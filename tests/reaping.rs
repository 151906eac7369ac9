//! Reaping: orphans are adopted by init (as PID 1, or as a child subreaper) and
//! reaped as soon as they exit; no zombie is left; `-w` warns for each one.

mod common;

use std::time::Duration;

use common::{Init, Mode, Running, py};
use libc::SIGTERM;

/// `init FLAGS -- orphans.py ARGS`, waited until the fixture made its orphans.
fn orphans(init: Init, args: &[&str]) -> Running {
    let run = init.arg("--").args(py("orphans.py", args)).spawn();
    run.wait_for_line("`orphans: N`", Duration::from_secs(90), |l| {
        l.starts_with("orphans: ")
    });
    run.wait_ready("");
    run
}

#[test]
fn two_thousand_orphans_are_reaped_and_no_zombie_is_left() {
    for mode in Mode::ALL {
        let run = orphans(Init::new(mode), &["--count", "2000"]);
        let clean = common::poll_until(Duration::from_secs(10), || {
            run.zombies_below_init().is_empty()
        });
        if !clean {
            let zombies = run.zombies_below_init();
            run.fail(&format!(
                "{} zombies are still below init 10 s after the orphans exited, e.g. {:?}",
                zombies.len(),
                zombies.first()
            ));
        }
        run.signal(SIGTERM);
        run.wait().assert_code(0).assert_quiet();
    }
}

#[test]
fn an_orphan_is_adopted_by_init() {
    // As PID 1 by the kernel's rule; otherwise because init is a child subreaper.
    for mode in Mode::ALL {
        let run = orphans(Init::new(mode), &["--daemons", "1"]);
        let ns_pid = run.wait_pid_line("daemon");
        let daemon = run.host_pid(ns_pid);
        let parent = common::proc_info(daemon).map(|p| p.ppid);
        if parent != Some(run.init_pid()) {
            run.fail(&format!(
                "the orphan's parent is {parent:?}, not init ({})",
                run.init_pid()
            ));
        }
        run.signal(SIGTERM);
        // The orphan (`sleep`) obeys the shutdown's TERM: no grace period needed.
        let done = run.wait();
        done.assert_code(0).assert_quiet();
        if done.elapsed >= Duration::from_secs(8) {
            done.fail("init waited for the grace period although the orphan obeyed TERM");
        }
    }
}

#[test]
fn warn_on_reap_logs_a_warning_for_each_orphan() {
    for mode in Mode::ALL {
        for init in [
            Init::new(mode).arg("-w"),
            Init::new(mode).arg("--warn-on-reap"),
            Init::new(mode).env("INIT_WARN_ON_REAP", "1"),
        ] {
            let run = orphans(init, &["--count", "3"]);
            let reaped = common::poll_until(Duration::from_secs(10), || {
                run.zombies_below_init().is_empty()
            });
            if !reaped {
                run.fail("the 3 orphans were not reaped");
            }
            run.signal(SIGTERM);
            let done = run.wait();
            done.assert_code(0);
            let warnings = done
                .stderr_lines()
                .into_iter()
                .filter(|l| l.to_uppercase().contains("WARN"))
                .count();
            if warnings < 3 {
                done.fail(&format!(
                    "expected a warning per orphan (3), got {warnings}"
                ));
            }
        }
    }
}

#[test]
fn without_warn_on_reap_reaping_orphans_is_silent() {
    for mode in Mode::ALL {
        let run = orphans(Init::new(mode), &["--count", "3"]);
        run.signal(SIGTERM);
        run.wait().assert_code(0).assert_quiet();
    }
}

#[test]
fn init_started_with_sigchld_ignored_still_learns_how_its_child_ended() {
    // A parent (a shell's `trap '' CHLD`, a runtime) may start init with SIGCHLD ignored.
    // Then the kernel reaps init's children itself and waitpid never reports them: init
    // must set SIGCHLD back to its default first, or it never sees its child exit and
    // never exits. The child still gets SIGCHLD ignored, as init was started with it.
    let ignore_chld = vec![
        common::python().as_os_str().to_owned(),
        "-c".into(),
        "import os, signal, sys\n\
         signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n\
         os.execvp(sys.argv[1], sys.argv[1:])"
            .into(),
    ];
    // The child reports its ignored set, leaves an orphan (as PID 1's or the
    // subreaper's to reap) and exits 3.
    let child = "import os, sys, time\n\
                 print([l for l in open('/proc/self/status') if l.startswith('SigIgn:')][0].strip())\n\
                 sys.stdout.flush()\n\
                 if os.fork() == 0:\n\
                 \x20   time.sleep(0.2)\n\
                 \x20   os._exit(0)\n\
                 sys.exit(3)";
    // As a plain process, and as PID 1 (the wrapper inside the namespace, so that unshare
    // itself keeps SIGCHLD and waits for init as usual).
    let setups = [
        Init::new(Mode::Subreaper).wrap(&ignore_chld),
        Init::new(Mode::Subreaper)
            .wrap(common::namespace_prefix())
            .wrap(&ignore_chld),
    ];
    for init in setups {
        let done = init
            .arg("--")
            .arg(common::python())
            .args(["-c", child])
            .run();
        done.assert_code(3);
        let ignored = done
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap_or_else(|| done.fail("no SigIgn line from the child"));
        if ignored & 1 << (libc::SIGCHLD - 1) == 0 {
            done.fail("the child should get SIGCHLD ignored, as init was started with it");
        }
    }
}
