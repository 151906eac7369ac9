//! A subreaper that cannot see the processes left (no /proc mounted, or a /proc of
//! another PID namespace) still stops them: it falls back to the main child's process
//! group, which init made and which needs no /proc, and says what it could not do.
//! (It used to log `sending SIGKILL to 0 processes` and wait for whatever was left: a
//! `sleep 30` left by the main child kept it 30 s.)

mod common;

use std::time::{Duration, Instant};

use common::{Finished, Init, Mode};

/// The main child leaves a `sleep 30` in its process group, which ignores SIGTERM (the
/// ignored disposition is inherited), and exits: only the grace period's SIGKILL ends it.
const LEAVES_A_STUBBORN_SLEEP: &str = "trap '' TERM; sleep 30 & echo started";

fn blind(wrap: &[&str]) -> Finished {
    let run = Init::new(Mode::Subreaper)
        .wrap(wrap)
        .args(["-v", "-t", "1s", "--", "sh", "-c", LEAVES_A_STUBBORN_SLEEP])
        .spawn();
    run.wait_for_line("`started`", common::TIMEOUT, |l| l == "started");
    let started = Instant::now();
    let done = run.wait_timeout(Duration::from_secs(20));
    let took = started.elapsed();
    done.assert_code(0);
    if took > Duration::from_secs(4) {
        done.fail(&format!(
            "init waited {took:?} for a process it could not see (grace period 1 s)"
        ));
    }
    if !done.stderr.contains(
        "cannot list the processes left (/proc is not mounted or shows another PID \
         namespace): signalling the main child's process group",
    ) {
        done.fail("init should say that it could not see the processes left");
    }
    if !done
        .stderr
        .contains("grace period of 1s is over: sending SIGKILL to every process left")
    {
        done.fail("the grace period's SIGKILL should go to what init could reach");
    }
    done
}

#[test]
fn a_subreaper_without_proc_stops_the_main_childs_group() {
    blind(&[
        "unshare",
        "--mount",
        "sh",
        "-c",
        "umount -l /proc && exec \"$@\"",
        "sh",
    ]);
}

#[test]
fn a_subreaper_seeing_another_namespaces_proc_stops_the_main_childs_group() {
    // init is pid 2 of a new PID namespace whose /proc was not remounted: /proc/self is
    // the host's pid, not init's.
    let done = blind(&[
        "unshare",
        "--pid",
        "--fork",
        "sh",
        "-c",
        "\"$@\"; echo \"init exited $?\"",
        "sh",
    ]);
    if !done.stdout.contains("init exited 0") {
        done.fail("init should have exited 0 inside the namespace");
    }
}
