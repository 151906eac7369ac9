//! The termination message (Kubernetes' terminationMessagePath): at exit init writes why
//! the container ended to `--termination-log PATH` / `INIT_TERMINATION_LOG` (by default
//! `/dev/termination-log` when it exists and is writable; the real-runtime checks cover
//! that). Writing it never changes the exit code and never blocks: a FIFO nobody reads or
//! a path that cannot be written costs one warning line.

mod common;

use std::ffi::CString;
use std::fs;
use std::time::{Duration, Instant};

use common::{Init, Mode, TempDir, py};

fn message(path: &std::path::Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn a_grace_period_that_ran_out_is_reported_with_what_was_killed() {
    for mode in Mode::ALL {
        let dir = TempDir::new("termlog-grace");
        let path = dir.join("message");
        let run = Init::new(mode)
            .args(["-t", "1s", "--termination-log"])
            .arg(&path)
            .arg("--")
            .args(py("signals.py", &["--exit-on", ""]))
            .spawn();
        run.wait_ready("");
        run.signal(libc::SIGTERM);
        let done = run.wait();
        done.assert_code(137);
        let text = message(&path);
        let lines: Vec<&str> = text.lines().collect();
        let ok = lines.len() == 3
            && lines[0] == "main child killed by SIGKILL: the grace period of 1s ran out"
            && lines[1].starts_with("grace period of 1s ran out: SIGKILL sent to 1 process: ")
            && lines[1].ends_with(" (python3)")
            && lines[2] == "exit code 137";
        if !ok {
            done.fail(&format!("unexpected termination message: {text:?}"));
        }
    }
}

#[test]
fn a_remapped_exit_code_is_reported_in_the_message_and_the_summary() {
    let dir = TempDir::new("termlog-remap");
    let path = dir.join("message");
    let run = Init::new(Mode::Subreaper)
        .args(["-v", "-e", "143", "--termination-log"])
        .arg(&path)
        .args(["--", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    run.wait_for_line("`ready`", common::TIMEOUT, |l| l == "ready");
    run.wait_for_comm("sleep");
    run.signal(libc::SIGTERM);
    let done = run.wait();
    done.assert_code(0);
    let text = message(&path);
    if text != "main child killed by SIGTERM\nexit code 0 (143 remapped by -e)\n" {
        done.fail(&format!("unexpected termination message: {text:?}"));
    }
    let summary = done
        .stderr
        .lines()
        .find(|l| l.contains("main child killed by SIGTERM"))
        .unwrap_or_else(|| done.fail("no summary line"));
    if !summary.ends_with("; exit code 0 (143 remapped by -e)") {
        done.fail("the -v summary should say that -e turned 143 into 0");
    }
}

#[test]
fn a_command_that_cannot_start_is_reported() {
    let dir = TempDir::new("termlog-notfound");
    let path = dir.join("message");
    let done = Init::new(Mode::Subreaper)
        .env("INIT_TERMINATION_LOG", &path)
        .args(["--", "no-such-command-here"])
        .run();
    done.assert_code(127);
    let text = message(&path);
    if !text.starts_with("cannot start the command: command not found: 'no-such-command-here'")
        || !text.ends_with("\nexit code 127\n")
    {
        done.fail(&format!("unexpected termination message: {text:?}"));
    }
}

#[test]
fn a_pause_process_reports_that_it_was_stopped() {
    let dir = TempDir::new("termlog-pause");
    let path = dir.join("message");
    let run = Init::new(Mode::Pid1)
        .args(["-v", "--pause", "--termination-log"])
        .arg(&path)
        .spawn();
    run.wait_for_stderr_line("the pause line", common::TIMEOUT, |l| {
        l.contains("pause: reaping orphans")
    });
    run.signal(libc::SIGTERM);
    run.wait().assert_code(0);
    assert_eq!(message(&path), "pause process stopped\nexit code 0\n");
}

#[test]
fn an_empty_setting_turns_the_message_off() {
    let dir = TempDir::new("termlog-off");
    let path = dir.join("message");
    // The flag (empty) beats the variable.
    let done = Init::new(Mode::Subreaper)
        .env("INIT_TERMINATION_LOG", &path)
        .args(["--termination-log", "", "--", "true"])
        .run();
    done.assert_code(0).assert_quiet();
    if path.exists() {
        done.fail("--termination-log '' should write nothing");
    }
}

#[test]
fn a_fifo_nobody_reads_neither_blocks_nor_changes_the_exit_code() {
    let dir = TempDir::new("termlog-fifo");
    let fifo = dir.join("fifo");
    let c = CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
    // SAFETY: a live NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let started = Instant::now();
    let done = Init::new(Mode::Subreaper)
        .args(["--termination-log"])
        .arg(&fifo)
        .args(["--", "sh", "-c", "exit 3"])
        .run();
    done.assert_code(3);
    if started.elapsed() > Duration::from_secs(5) {
        done.fail("writing the termination message held init up");
    }
    let warnings: Vec<&str> = done.stderr.lines().collect();
    if warnings.len() != 1
        || !warnings[0].starts_with("init: WARN cannot write the termination log ")
    {
        done.fail("one warning line should say the message could not be written");
    }
}

#[test]
fn a_path_that_cannot_be_written_is_one_warning() {
    let dir = TempDir::new("termlog-bad");
    for path in [dir.join("missing-dir/message"), dir.path().to_path_buf()] {
        let done = Init::new(Mode::Subreaper)
            .args(["--termination-log"])
            .arg(&path)
            .args(["--", "sh", "-c", "exit 4"])
            .run();
        done.assert_code(4);
        let lines: Vec<&str> = done.stderr.lines().collect();
        if lines.len() != 1 || !lines[0].contains("cannot write the termination log") {
            done.fail("one warning line should say the message could not be written");
        }
    }
}
