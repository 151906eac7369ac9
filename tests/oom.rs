//! OOM kills are named: init, in a memory cgroup the test makes with a small limit (cgroup
//! v1's memory controller on these hosts, v2 where that is what is mounted), names the
//! kernel's OOM killer when a process it reaps dies of it, reports a kill of a process it
//! does not reap within a second, writes it into the termination message, and never calls
//! a SIGKILL from anyone else an OOM kill.
//!
//! Real OOM kills: a Python child allocates past the limit. Every cgroup is removed again.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::{Finished, Init, MemCgroup, Mode, TempDir, python};

/// The limit of every test cgroup: 48 MiB, as in the podman run.
const LIMIT: u64 = 48 << 20;
const LIMIT_TEXT: &str = "memory limit 48 MiB";

/// Allocates (and touches) 200 MiB: past the limit.
const HOG: &str = "bytearray(200 << 20)";

fn hog() -> Vec<String> {
    vec![
        python().to_string_lossy().into_owned(),
        "-c".into(),
        HOG.into(),
    ]
}

fn init_lines(done: &Finished) -> Vec<&str> {
    done.stderr
        .lines()
        .filter(|l| l.starts_with("init: "))
        .collect()
}

#[test]
fn a_main_child_the_oom_killer_kills_is_named_with_the_limit_in_log_and_report() {
    for mode in Mode::ALL {
        let Some(cg) = MemCgroup::new(LIMIT) else {
            return;
        };
        let dir = TempDir::new("oom-report");
        let report = dir.join("termination-log");
        let done = Init::new(mode)
            .wrap(cg.wrap())
            .arg("--termination-log")
            .arg(&report)
            .arg("--")
            .args(hog())
            .run();
        done.assert_code(137);
        let want = format!(
            "init: WARN main child killed by SIGKILL: the kernel's OOM killer ({LIMIT_TEXT}, \
             oom_kill 0 -> 1)"
        );
        if !init_lines(&done).contains(&want.as_str()) {
            done.fail(&format!("expected the line {want:?}"));
        }
        let text = fs::read_to_string(&report).unwrap_or_default();
        let first = want.trim_start_matches("init: WARN ");
        if text
            != format!("{first}\nOOM kills in the container's memory cgroup: 1\nexit code 137\n")
        {
            done.fail(&format!(
                "the termination message should name the OOM kill: {text:?}"
            ));
        }
    }
}

#[test]
fn a_sigkill_from_anyone_else_is_never_called_an_oom_kill() {
    for mode in Mode::ALL {
        let Some(cg) = MemCgroup::new(LIMIT) else {
            return;
        };
        let dir = TempDir::new("oom-control");
        let report = dir.join("termination-log");
        let run = Init::new(mode)
            .wrap(cg.wrap())
            .args(["-v", "--termination-log"])
            .arg(&report)
            .args(["--", "sh", "-c", "echo ready; exec sleep 60"])
            .spawn();
        run.wait_for_line("`ready`", common::TIMEOUT, |l| l == "ready");
        let sleep = run.wait_for_comm("sleep");
        run.signal_pid(sleep, libc::SIGKILL);
        let done = run.wait();
        done.assert_code(137);
        if done.stderr.contains("OOM") {
            done.fail("a SIGKILL sent with kill(2) was called an OOM kill");
        }
        let text = fs::read_to_string(&report).unwrap_or_default();
        if text != "main child killed by SIGKILL\nexit code 137\n" {
            done.fail(&format!("unexpected termination message {text:?}"));
        }
    }
}

#[test]
fn an_oom_killed_orphan_init_reaps_is_named() {
    let Some(cg) = MemCgroup::new(LIMIT) else {
        return;
    };
    // The hog is orphaned at once (its parent, a subshell, exits) and comes to init.
    let script = format!(
        "('{}' -c '{HOG}' &); echo started; sleep 30",
        python().display()
    );
    let run = Init::new(Mode::Pid1)
        .wrap(cg.wrap())
        .args(["-t", "1s", "--", "sh", "-c", &script])
        .spawn();
    let line = run.wait_for_stderr_line("init's line on the orphan", common::TIMEOUT, |l| {
        l.starts_with("init: WARN process ") && l.contains("killed by SIGKILL")
    });
    let want =
        format!("killed by SIGKILL: the kernel's OOM killer ({LIMIT_TEXT}, oom_kill 0 -> 1)");
    if !line.ends_with(&want) {
        run.fail(&format!("the orphan's OOM kill should be named: {line:?}"));
    }
    run.signal(libc::SIGTERM);
    run.wait().assert_code(143);
}

#[test]
fn an_oom_kill_of_a_process_init_does_not_reap_is_reported_within_a_second() {
    for mode in Mode::ALL {
        let Some(cg) = MemCgroup::new(LIMIT) else {
            return;
        };
        // The hog is the shell's child: the shell reaps it (as gunicorn does its workers),
        // says so, and lives on.
        let script = format!(
            "'{}' -c '{HOG}'; echo \"hog exited $?\"; trap 'exit 0' TERM; while :; do sleep 1; done",
            python().display()
        );
        let run = Init::new(mode)
            .wrap(cg.wrap())
            .args(["-v", "--", "sh", "-c", &script])
            .spawn();
        run.wait_for_line("`hog exited ...`", common::TIMEOUT, |l| {
            l.starts_with("hog exited ")
        });
        let killed = Instant::now();
        let line = run.wait_for_stderr_line("init's OOM line", Duration::from_secs(5), |l| {
            l.contains("OOM killer")
        });
        let after = killed.elapsed();
        let want = format!(
            "init: WARN a process not reaped by init (e.g. an app server's worker) killed by \
             the kernel's OOM killer ({LIMIT_TEXT}, oom_kill 0 -> 1)"
        );
        if line != want || after > Duration::from_secs(1) {
            run.fail(&format!(
                "expected {want:?} within 1 s of the kill, got {line:?} after {after:?}"
            ));
        }
        if !run.stdout().contains("hog exited 137") {
            run.fail("the hog should have died of SIGKILL");
        }
        run.signal(libc::SIGTERM);
        let done = run.wait();
        done.assert_code(0);
        let summary = init_lines(&done)
            .into_iter()
            .find(|l| l.contains("shutdown complete"))
            .unwrap_or_else(|| done.fail("no summary line"));
        if !summary.contains("; 1 OOM kill;") {
            done.fail("the summary should count the OOM kill");
        }
    }
}

#[test]
fn oom_kills_are_fields_of_the_json_lines() {
    let Some(cg) = MemCgroup::new(LIMIT) else {
        return;
    };
    let done = Init::new(Mode::Subreaper)
        .wrap(cg.wrap())
        .args(["-v", "--log-format", "json", "--"])
        .args(hog())
        .run();
    done.assert_code(137);
    let oom = done
        .stderr
        .lines()
        .find(|l| l.contains("OOM killer"))
        .unwrap_or_else(|| done.fail("no JSON line on the OOM kill"));
    if !oom.contains("\"level\":\"WARN\"") || !oom.contains("\"oom_kill\":1") {
        done.fail(&format!("the OOM line should carry the counter: {oom}"));
    }
    let summary = done
        .stderr
        .lines()
        .find(|l| l.contains("no other process was left"))
        .unwrap_or_else(|| done.fail("no JSON summary line"));
    if !summary.contains("\"oom_kills\":1") || !summary.contains("\"exit_code\":137") {
        done.fail(&format!(
            "the summary should carry oom_kills and exit_code: {summary}"
        ));
    }
}
