//! Logs: quiet by default, `-v` levels, and `--log-format json` (or
//! `INIT_LOG_FORMAT`, then `LOG_FORMAT`) printing one JSON object per line.

mod common;

use common::{Finished, Init, Mode, py};
use libc::{SIGTERM, SIGUSR1};

/// Checks every stderr line is a JSON log object (tests/fixtures/json_lines.py).
fn assert_json_lines(run: &Finished) {
    let (status, report) = common::run_helper(&py("json_lines.py", &[]), &run.stderr);
    if !status.success() {
        run.fail(&format!("stderr is not JSON log lines: {}", report.trim()));
    }
}

/// Checks stderr has log lines and none of them is JSON.
fn assert_text_lines(run: &Finished) {
    let lines = run.stderr_lines();
    if lines.is_empty() {
        run.fail("expected log lines at this verbosity");
    }
    if lines.iter().any(|l| l.trim_start().starts_with('{')) {
        run.fail("expected text log lines, not JSON");
    }
}

fn exit_0(init: Init) -> Finished {
    let run = init.args(["--", "sh", "-c", "exit 0"]).run();
    run.assert_code(0);
    run
}

#[test]
fn init_is_quiet_by_default() {
    for mode in Mode::ALL {
        let run = Init::new(mode).args(["sh", "-c", "echo hi"]).run();
        run.assert_code(0).assert_quiet();
        if run.stdout != "hi\n" {
            run.fail("the child's stdout should pass through untouched");
        }
        // Forwarding signals and a clean shutdown are not news either.
        let run = Init::new(mode)
            .arg("--")
            .args(py("signals.py", &[]))
            .spawn();
        run.wait_ready("");
        run.signal(SIGUSR1);
        run.wait_for_signal("", SIGUSR1);
        run.signal(SIGTERM);
        run.wait().assert_code(0).assert_quiet();
    }
}

#[test]
fn verbose_flags_and_variables_turn_logs_on() {
    for mode in Mode::ALL {
        for init in [
            Init::new(mode).arg("-vv"),
            Init::new(mode).arg("-vvv"),
            Init::new(mode).env("INIT_VERBOSITY", "2"),
            Init::new(mode).env("TINI_VERBOSITY", "3"),
        ] {
            assert_text_lines(&exit_0(init));
        }
        exit_0(Init::new(mode).env("INIT_VERBOSITY", "0")).assert_quiet();
    }
}

#[test]
fn a_verbosity_flag_means_init_verbosity_is_not_read() {
    assert_text_lines(&exit_0(
        Init::new(Mode::Subreaper)
            .env("INIT_VERBOSITY", "loud")
            .arg("-vv"),
    ));
}

#[test]
fn json_log_lines_parse() {
    for mode in Mode::ALL {
        for init in [
            Init::new(mode).args(["--log-format", "json", "-vv"]),
            Init::new(mode).args(["--log-format=json", "-vvv"]),
            Init::new(mode).env("LOG_FORMAT", "json").arg("-vv"),
            Init::new(mode).env("INIT_LOG_FORMAT", "json").arg("-vv"),
            Init::new(mode)
                .env("INIT_LOG_FORMAT", "json")
                .env("LOG_FORMAT", "text")
                .arg("-vv"),
            // The flag wins, and the bad variable is not even read.
            Init::new(mode)
                .env("INIT_LOG_FORMAT", "xml")
                .args(["--log-format", "json", "-vv"]),
        ] {
            assert_json_lines(&exit_0(init));
        }
    }
}

#[test]
fn json_logs_of_a_busier_run_parse() {
    // Orphans reaped with -w and a signal forwarded: warnings and debug lines too.
    let run = Init::new(Mode::Subreaper)
        .args(["--log-format", "json", "-vvv", "-w", "--"])
        .args(py("orphans.py", &["--count", "5"]))
        .spawn();
    run.wait_ready("");
    run.signal(SIGTERM);
    let done = run.wait();
    done.assert_code(0);
    assert_json_lines(&done);
}

#[test]
fn text_wins_where_it_is_asked_for() {
    for init in [
        Init::new(Mode::Subreaper)
            .env("INIT_LOG_FORMAT", "text")
            .env("LOG_FORMAT", "json")
            .arg("-vv"),
        Init::new(Mode::Subreaper)
            .env("LOG_FORMAT", "json")
            .args(["--log-format", "text", "-vv"]),
        // LOG_FORMAT belongs to the application too: an unknown value means text.
        Init::new(Mode::Subreaper)
            .env("LOG_FORMAT", "logfmt")
            .arg("-vv"),
    ] {
        assert_text_lines(&exit_0(init));
    }
}
