//! A slow stop explains itself: when the grace period ends, the SIGKILL warning names
//! what was still running (pid and command name, the first few and a count), in text
//! and JSON; and one info line sums the shutdown up (how the main child ended, how many
//! processes were stopped, whether SIGKILL was needed, how long it took).

mod common;

use std::time::Duration;

use common::{Finished, Init, Mode, Running, poll_until};
use libc::SIGTERM;

/// A main child (sh) and `sleepers` sleeps below it, all ignoring SIGTERM.
fn stubborn(mode: Mode, sleepers: usize, extra: &[&str]) -> Running {
    let script = format!(
        "trap '' TERM; for i in $(seq {sleepers}); do sleep 300 & done; echo started; wait"
    );
    let run = Init::new(mode)
        .args(["-t", "1s"])
        .args(extra)
        .args(["--", "sh", "-c", &script])
        .spawn();
    wait_for_sleeps(&run, sleepers);
    run
}

/// Waits for the `started` line and for `n` live sleeps below init.
fn wait_for_sleeps(run: &Running, n: usize) {
    run.wait_for_line("`started`", common::TIMEOUT, |l| l == "started");
    let all_up = poll_until(common::TIMEOUT, || {
        run.processes_below_init()
            .iter()
            .filter(|p| p.comm == "sleep" && p.state != 'Z')
            .count()
            == n
    });
    if !all_up {
        run.fail("the sleeps should be running");
    }
}

/// The first stderr line containing `needle`; fails with `missing` when there is none.
fn stderr_line<'a>(done: &'a Finished, needle: &str, missing: &str) -> &'a str {
    done.stderr
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| done.fail(missing))
}

fn kill_line(done: &Finished) -> &str {
    stderr_line(done, "sending SIGKILL", "no SIGKILL warning")
}

#[test]
fn the_sigkill_warning_names_every_process_left() {
    for mode in Mode::ALL {
        let run = stubborn(mode, 2, &[]);
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(137);
        let line = kill_line(&done);
        let sh = line.matches(" (sh)").count();
        let sleep = line.matches(" (sleep)").count();
        if !line.contains("3 processes: ") || sh != 1 || sleep != 2 {
            done.fail("the warning should name the sh and both sleeps, with their pids");
        }
        // Quiet by default: that warning is the only line.
        if done.stderr.lines().count() != 1 {
            done.fail("only the SIGKILL warning should be printed by default");
        }
    }
}

#[test]
fn many_processes_are_named_up_to_a_few_and_counted() {
    let run = stubborn(Mode::Pid1, 20, &[]);
    run.signal(SIGTERM);
    let done = run.wait();
    done.assert_code(137);
    let line = kill_line(&done);
    if !line.contains("21 processes: ") || !line.contains(" and 13 more") {
        done.fail("21 processes: 8 named, then `and 13 more`");
    }
    if line.matches(" (sleep)").count() + line.matches(" (sh)").count() != 8 {
        done.fail("exactly 8 processes should be named");
    }
}

#[test]
fn the_sigkill_warning_in_json_carries_the_count_and_the_names() {
    let run = stubborn(Mode::Subreaper, 2, &["--log-format", "json"]);
    run.signal(SIGTERM);
    let done = run.wait();
    done.assert_code(137);
    let line = kill_line(&done);
    let ok = line.starts_with('{')
        && line.ends_with('}')
        && line.contains("\"level\":\"WARN\"")
        && line.contains("\"processes\":3")
        && line.contains("(sleep)")
        && line.contains("(sh)");
    if !ok {
        done.fail("one JSON object with level WARN, processes 3 and the names");
    }
    let checked = common::run_helper(&common::py("json_lines.py", &[]), &done.stderr);
    if !checked.0.success() {
        done.fail(&format!("stderr is not JSON lines: {}", checked.1));
    }
}

fn summary(done: &Finished) -> &str {
    stderr_line(done, "shutdown complete", "no shutdown summary with -v")
}

#[test]
fn the_summary_says_sigkill_was_needed_and_how_long_it_took() {
    for mode in Mode::ALL {
        let run = stubborn(mode, 2, &["-v"]);
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(137);
        let line = summary(&done);
        if !line
            .contains("main child killed by SIGKILL; 3 processes stopped; SIGKILL needed for 3;")
        {
            done.fail("the summary should say how the main child ended and what was killed");
        }
        let ms = elapsed_ms(line);
        if !(1000..5000).contains(&ms) {
            done.fail(&format!(
                "elapsed_ms should cover the 1 s grace period, got {ms}"
            ));
        }
    }
}

#[test]
fn the_summary_of_a_clean_stop_needs_no_sigkill() {
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .args([
                "-v",
                "--",
                "sh",
                "-c",
                "sleep 300 & sleep 300 & echo started; wait",
            ])
            .spawn();
        wait_for_sleeps(&run, 2);
        run.signal(SIGTERM);
        let done = run.wait_timeout(Duration::from_secs(10));
        done.assert_code(143);
        let line = summary(&done);
        if !line.contains("main child killed by SIGTERM;") || !line.contains("; no SIGKILL needed;")
        {
            done.fail("a clean stop should say so");
        }
        // The sh and its two sleeps all ended after the TERM.
        if !line.contains("; 3 processes stopped;") {
            done.fail("three processes were stopped");
        }
    }
}

#[test]
fn a_child_that_exits_alone_gets_a_one_line_summary_too() {
    let done = Init::new(Mode::Subreaper).args(["-v", "--", "true"]).run();
    done.assert_code(0);
    if !done
        .stderr
        .contains("main child exited with code 0; no other process was left")
    {
        done.fail("the end should be summarised");
    }
}

/// The time in `... 1004ms after shutdown began` (or `2s after`), in milliseconds.
fn elapsed_ms(line: &str) -> u64 {
    let before = line
        .split(" after shutdown began")
        .next()
        .unwrap_or_default();
    let word = before.rsplit(' ').next().unwrap_or_default();
    let parse = |n: &str| n.parse::<u64>().ok();
    word.strip_suffix("ms")
        .and_then(parse)
        .or_else(|| word.strip_suffix('s').and_then(parse).map(|s| s * 1000))
        .unwrap_or(u64::MAX)
}
