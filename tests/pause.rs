//! Pause mode (`-P` / `--pause`): the PID 1 of a pod sandbox. It starts nothing, reaps
//! every orphan that comes to it, sleeps otherwise, and on TERM, INT or QUIT stops
//! whatever is left in its namespace (TERM+CONT, grace period, SIGKILL) and exits 0.
//! Processes are entered into its PID namespace with nsenter, as a runtime's `exec` or
//! a pod's other containers are, and orphan themselves there.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Init, Mode, Running, poll_until, proc_tree};
use libc::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

/// Runs `script` with sh inside the PID (and mount, for /proc) namespace of the run's
/// init, and waits for that sh to return (whatever it started in the background stays,
/// orphaned to init). Output goes to /dev/null: the orphans would hold a pipe open.
fn enter(run: &Running, script: &str) {
    let status = common::nsenter(run.init_pid(), &["-p", "-m"])
        .args(["--", "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| run.fail(&format!("cannot run nsenter: {e}")));
    if !status.success() {
        run.fail(&format!("nsenter sh -c {script:?} failed: {status:?}"));
    }
}

/// `init --pause EXTRA...` as PID 1, once it has blocked its signals: a pause process
/// has no child whose readiness would show that init is ready.
fn pause(extra: &[&str]) -> Running {
    let run = Init::new(Mode::Pid1).arg("--pause").args(extra).spawn();
    run.wait_signals_blocked();
    run
}

/// Pids (host view) of everything below init that runs `comm`.
fn below(run: &Running, comm: &str) -> Vec<i32> {
    run.processes_below_init()
        .into_iter()
        .filter(|p| p.comm == comm && p.state != 'Z')
        .map(|p| p.pid)
        .collect()
}

#[test]
fn pause_reaps_the_orphans_that_come_to_it_and_stops_the_rest_on_term() {
    let run = pause(&["-t", "5s"]);
    // Orphans: a short sleep that exits on its own, and a long one that is left.
    enter(&run, "sleep 300 & sleep 0.5 & exit 0");
    let init = run.init_pid();
    let adopted = poll_until(common::TIMEOUT, || {
        proc_tree()
            .values()
            .any(|p| p.ppid == init && p.comm == "sleep" && p.state != 'Z')
    });
    if !adopted {
        run.fail("the background sleeps should have been re-parented to init");
    }
    // The short one exits and must be reaped: gone, not left a zombie.
    let reaped = poll_until(common::TIMEOUT, || {
        run.processes_below_init()
            .iter()
            .filter(|p| p.comm == "sleep")
            .count()
            == 1
    });
    if !reaped || !run.zombies_below_init().is_empty() {
        run.fail("the orphan that exited should have been reaped at once");
    }
    let started = Instant::now();
    run.signal(SIGTERM);
    let done = run.wait();
    done.assert_code(0).assert_quiet();
    // The long sleep died of the TERM, not of a SIGKILL 5 s later.
    if started.elapsed() > Duration::from_secs(3) {
        done.fail("the sleep should have stopped on SIGTERM, well before the grace period");
    }
}

#[test]
fn pause_sigkills_what_ignores_term_after_the_grace_period_and_still_exits_0() {
    let run = pause(&["-t", "1s"]);
    enter(&run, "sh -c 'trap \"\" TERM; sleep 300' & exit 0");
    if !poll_until(common::TIMEOUT, || below(&run, "sleep").len() == 1) {
        run.fail("the stubborn tree should be running");
    }
    // The sleep's pid in init's namespace, as init's warning must name it.
    let sleep = common::proc_info(below(&run, "sleep")[0])
        .unwrap_or_else(|| run.fail("the sleep vanished"))
        .ns_pid;
    let started = Instant::now();
    run.signal(SIGTERM);
    let done = run.wait();
    let took = started.elapsed();
    done.assert_code(0);
    if took < Duration::from_millis(900) || took > Duration::from_secs(4) {
        done.fail(&format!(
            "a TERM-ignoring orphan should be killed after the 1 s grace period (took {took:?})"
        ));
    }
    // It names what it killed (pid and command), which only /proc can tell: the line
    // without names says "every process left" instead.
    let warning = done
        .stderr
        .lines()
        .find(|l| l.contains("sending SIGKILL to"))
        .unwrap_or_else(|| done.fail("no SIGKILL warning"));
    if !warning.contains(&format!("{sleep} (sleep)")) {
        done.fail(&format!(
            "the SIGKILL warning should name the sleep it killed: `{sleep} (sleep)`"
        ));
    }
}

#[test]
fn pause_stops_on_int_and_quit_too_but_not_on_hup() {
    for sig in [SIGINT, SIGQUIT] {
        let mut run = pause(&["-vv"]);
        // HUP first: not a stop signal for a pause process. Once init has logged that
        // it handled it, it must still be running.
        run.signal(SIGHUP);
        let handled = poll_until(common::TIMEOUT, || {
            run.stderr().contains("nothing to forward SIGHUP to")
        });
        if !handled {
            run.fail("init should have handled the SIGHUP");
        }
        if run.try_status().is_some() {
            run.fail("SIGHUP must not end a pause process");
        }
        run.signal(sig);
        run.wait().assert_code(0);
    }
}

#[test]
fn pause_with_nothing_left_exits_at_once() {
    let run = pause(&[]);
    let started = Instant::now();
    run.signal(SIGTERM);
    let done = run.wait();
    done.assert_code(0).assert_quiet();
    if started.elapsed() > Duration::from_secs(2) {
        done.fail("with nothing to stop, TERM should end pause at once");
    }
}

#[test]
fn pause_never_wakes_while_idle() {
    let run = pause(&["-t", "30s"]);
    enter(&run, "sleep 300 & exit 0");
    let init = run.init_pid();
    // Let the orphan's re-parenting settle, then watch for two seconds.
    std::thread::sleep(Duration::from_millis(300));
    run.assert_not_scheduled(init, Duration::from_secs(2), 0, "an idle pause process");
    run.signal(SIGTERM);
    run.wait().assert_code(0);
}

#[test]
fn pause_as_a_subreaper_exits_0_on_term() {
    let run = Init::new(Mode::Subreaper).arg("-P").spawn();
    run.signal(SIGTERM);
    run.wait().assert_code(0).assert_quiet();
}

#[test]
fn pause_with_a_command_is_a_usage_error_and_starts_nothing() {
    for argv in [
        &["--pause", "touch", "started"][..],
        &["-P", "--", "touch", "started"][..],
    ] {
        let dir = common::TempDir::new("pause-usage");
        let run = Init::new(Mode::Subreaper)
            .current_dir(dir.path())
            .args(argv)
            .run();
        run.assert_code(2);
        if run.stderr.lines().count() != 1 || !run.stderr.contains("--pause takes no COMMAND") {
            run.fail("one line naming --pause");
        }
        if dir.join("started").exists() {
            run.fail("nothing may be started");
        }
    }
    let run = Init::new(Mode::Subreaper)
        .env("INIT_PAUSE", "1")
        .args(["touch", "x"])
        .run();
    run.assert_code(2);
    if !run.stderr.contains("INIT_PAUSE") {
        run.fail("the error should name INIT_PAUSE");
    }
}

#[test]
fn init_pause_variable_makes_a_pause_process() {
    let run = Init::new(Mode::Pid1).env("INIT_PAUSE", "on").spawn();
    enter(&run, "sleep 300 & exit 0");
    run.signal(SIGTERM);
    run.wait().assert_code(0).assert_quiet();
}
