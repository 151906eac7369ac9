//! Why the container ended: the `-v` summary line, and the termination message written at
//! exit (Kubernetes' terminationMessagePath: `kubectl describe pod` shows it).
//!
//! Composing is pure and tested apart; writing never blocks and never fails the exit: a
//! FIFO nobody reads, a full disk or a path that cannot be opened costs one warning line.

use std::ffi::CString;
use std::time::Duration;

use tracing::{info, warn};

use crate::config::{Config, DEFAULT_TERMINATION_LOG, TerminationLog, show_duration};
use crate::exit_code::ChildEnd;
use crate::shutdown;
use crate::supervise::{GraceEnd, Outcome};

/// Kubernetes reads at most this much of the termination message.
pub const MAX_MESSAGE: usize = 4096;

/// At the end of a supervised run: the summary line (`-v`) and the termination message.
pub fn finish(cfg: &Config, outcome: &Outcome, code: i32) {
    summarise(cfg, outcome, code);
    write_message(&cfg.termination_log, &compose(cfg, outcome, code));
}

/// The command could not be started: the termination message says why.
pub fn not_started(cfg: &Config, why: &str, code: i32) {
    let text = format!("cannot start the command: {why}\nexit code {code}\n");
    write_message(&cfg.termination_log, &text);
}

/// How the main child ended, in a few words (`main child killed by SIGKILL`).
fn ended(cfg: &Config, end: ChildEnd) -> String {
    if cfg.pause {
        "pause process stopped".to_owned()
    } else {
        format!("main child {end}")
    }
}

/// `exit code 0 (143 remapped by -e)`.
fn exit_text(outcome: &Outcome, code: i32) -> String {
    let raw = crate::exit_code::exit_code(outcome.end, &[]);
    if raw != code {
        format!("exit code {code} ({raw} remapped by -e)")
    } else {
        format!("exit code {code}")
    }
}

fn summarise(cfg: &Config, outcome: &Outcome, code: i32) {
    let who = ended(cfg, outcome.end);
    let oom = match outcome.oom_kills {
        Some(n) if n > 0 => format!("; {n} OOM kill{}", if n == 1 { "" } else { "s" }),
        _ => String::new(),
    };
    let exit = exit_text(outcome, code);
    let Some(took) = outcome.shutdown_took else {
        info!(
            oom_kills = outcome.oom_kills,
            exit_code = code,
            "{who}; no other process was left{oom}; {exit}"
        );
        return;
    };
    let killed = match &outcome.grace_end {
        None => "no SIGKILL needed".to_owned(),
        Some(GraceEnd::Unnamed) => "SIGKILL needed".to_owned(),
        Some(GraceEnd::Named(procs)) => format!("SIGKILL needed for {}", procs.len()),
    };
    info!(
        stopped = outcome.stopped,
        sigkill = outcome.grace_end.is_some(),
        elapsed_ms = took.as_millis() as u64,
        oom_kills = outcome.oom_kills,
        exit_code = code,
        "shutdown complete: {who}; {} stopped; {killed}; {} after shutdown began{oom}; {exit}",
        match outcome.stopped {
            1 => "1 process".to_owned(),
            n => format!("{n} processes"),
        },
        show_duration(took)
    );
}

/// The termination message: a few lines, at most `MAX_MESSAGE` bytes.
pub fn compose(cfg: &Config, outcome: &Outcome, code: i32) -> String {
    compose_with(cfg.pause, cfg.grace_period, outcome, code)
}

fn compose_with(pause: bool, grace: Duration, outcome: &Outcome, code: i32) -> String {
    let mut text = if pause {
        "pause process stopped".to_owned()
    } else {
        format!("main child {}", outcome.end)
    };
    let grace = show_duration(grace);
    if let Some(kill) = &outcome.main_oom {
        text.push_str(&format!(": {}", kill.describe()));
    } else if outcome.grace_end.is_some() && outcome.end == ChildEnd::Signaled(libc::SIGKILL) {
        text.push_str(&format!(": the grace period of {grace} ran out"));
    }
    text.push('\n');
    match &outcome.grace_end {
        Some(GraceEnd::Named(procs)) => text.push_str(&format!(
            "grace period of {grace} ran out: SIGKILL sent to {}\n",
            shutdown::describe(procs)
        )),
        Some(GraceEnd::Unnamed) => text.push_str(&format!(
            "grace period of {grace} ran out: SIGKILL sent to every process left (not named: \
             /proc does not show them)\n"
        )),
        None => {}
    }
    if let Some(n) = outcome.oom_kills.filter(|&n| n > 0) {
        text.push_str(&format!(
            "OOM kills in the container's memory cgroup: {n}\n"
        ));
    }
    text.push_str(&exit_text(outcome, code));
    text.push('\n');
    cut(text, MAX_MESSAGE)
}

/// At most `max` bytes, cut at a character boundary with `...` when it is longer.
fn cut(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max.saturating_sub(4);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str("...\n");
    text
}

/// Writes `text` to the termination log, if there is one. Never blocks (O_NONBLOCK: a
/// FIFO without a reader fails at once), never creates the default path.
fn write_message(target: &TerminationLog, text: &str) {
    let (path, explicit) = match target {
        TerminationLog::Off => return,
        TerminationLog::Default => (DEFAULT_TERMINATION_LOG, false),
        TerminationLog::Path(path) => (path.as_str(), true),
    };
    let Ok(cpath) = CString::new(path) else {
        warn!("cannot write the termination log {path:?}: the path holds a NUL byte");
        return;
    };
    // SAFETY: `cpath` is a live NUL-terminated string.
    if !explicit && unsafe { libc::access(cpath.as_ptr(), libc::W_OK) } != 0 {
        return;
    }
    if let Err(e) = write_file(&cpath, explicit, text.as_bytes()) {
        warn!("cannot write the termination log {path}: {e}");
    }
}

fn write_file(path: &CString, create: bool, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let flags = libc::O_WRONLY
        | libc::O_NONBLOCK
        | libc::O_CLOEXEC
        | libc::O_NOCTTY
        | if create { libc::O_CREAT } else { 0 };
    // SAFETY: `path` is a live NUL-terminated string; the mode is a plain number.
    let fd = unsafe { libc::open(path.as_ptr(), flags, 0o644 as libc::c_uint) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: open returned a new descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: an all-zero stat is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a live, writable stat.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // A regular file gets this report only; a FIFO or device is just written to.
    // SAFETY: ftruncate on a descriptor we own.
    if st.st_mode & libc::S_IFMT == libc::S_IFREG
        && unsafe { libc::ftruncate(fd.as_raw_fd(), 0) } != 0
    {
        return Err(std::io::Error::last_os_error());
    }
    loop {
        // SAFETY: the pointer and length describe the live `bytes` slice.
        let n = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        if n == bytes.len() as isize {
            return Ok(());
        }
        if n >= 0 {
            return Err(std::io::Error::other(format!(
                "wrote {n} of {} bytes",
                bytes.len()
            )));
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memcg::OomKill;
    use crate::shutdown::Proc;

    fn outcome(end: ChildEnd) -> Outcome {
        Outcome {
            end,
            main_oom: None,
            grace_end: None,
            stopped: 0,
            shutdown_took: None,
            oom_kills: None,
        }
    }

    const TEN: Duration = Duration::from_secs(10);

    #[test]
    fn a_clean_exit_says_the_code() {
        let text = compose_with(false, TEN, &outcome(ChildEnd::Exited(3)), 3);
        assert_eq!(text, "main child exited with code 3\nexit code 3\n");
    }

    #[test]
    fn an_oom_kill_is_named_with_its_limit_and_counter() {
        let mut o = outcome(ChildEnd::Signaled(9));
        o.main_oom = Some(OomKill {
            before: 0,
            after: 1,
            group_kills: 0,
            limit: Some(48 << 20),
        });
        o.oom_kills = Some(1);
        let text = compose_with(false, TEN, &o, 137);
        assert_eq!(
            text,
            "main child killed by SIGKILL: the kernel's OOM killer (memory limit 48 MiB, \
             oom_kill 0 -> 1)\nOOM kills in the container's memory cgroup: 1\nexit code 137\n"
        );
    }

    #[test]
    fn a_grace_period_that_ran_out_names_what_was_killed() {
        let mut o = outcome(ChildEnd::Signaled(9));
        o.grace_end = Some(GraceEnd::Named(vec![
            Proc {
                pid: 7,
                ppid: 1,
                name: "python3".into(),
            },
            Proc {
                pid: 12,
                ppid: 7,
                name: "sleep".into(),
            },
        ]));
        o.oom_kills = Some(0);
        let text = compose_with(false, TEN, &o, 137);
        assert_eq!(
            text,
            "main child killed by SIGKILL: the grace period of 10s ran out\n\
             grace period of 10s ran out: SIGKILL sent to 2 processes: 7 (python3), 12 (sleep)\n\
             exit code 137\n"
        );
        o.grace_end = Some(GraceEnd::Unnamed);
        assert!(compose_with(false, TEN, &o, 137).contains("every process left (not named"));
    }

    #[test]
    fn a_remapped_code_says_so() {
        let text = compose_with(false, TEN, &outcome(ChildEnd::Signaled(15)), 0);
        assert_eq!(
            text,
            "main child killed by SIGTERM\nexit code 0 (143 remapped by -e)\n"
        );
        let text = compose_with(true, TEN, &outcome(ChildEnd::Exited(0)), 0);
        assert_eq!(text, "pause process stopped\nexit code 0\n");
    }

    #[test]
    fn the_message_fits_kubernetes_limit() {
        let mut o = outcome(ChildEnd::Signaled(9));
        o.main_oom = Some(OomKill {
            before: 0,
            after: 1,
            group_kills: 0,
            limit: None,
        });
        assert!(compose_with(false, TEN, &o, 137).len() < MAX_MESSAGE);
        let long = cut("é".repeat(5000), MAX_MESSAGE);
        assert!(
            long.len() <= MAX_MESSAGE && long.ends_with("...\n"),
            "{}",
            long.len()
        );
    }

    #[test]
    fn writing_replaces_a_file_and_never_creates_the_default() {
        let dir = std::env::temp_dir().join(format!("pidone-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("termination-log");
        std::fs::write(&path, "an older, longer report\n").unwrap();
        let target = TerminationLog::Path(path.to_string_lossy().into_owned());
        write_message(&target, "exit code 0\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "exit code 0\n");
        // An explicit path is created.
        let new = dir.join("new");
        write_message(
            &TerminationLog::Path(new.to_string_lossy().into_owned()),
            "x\n",
        );
        assert_eq!(std::fs::read_to_string(&new).unwrap(), "x\n");
        // A FIFO nobody reads fails at once instead of blocking.
        let fifo = CString::new(dir.join("fifo").to_string_lossy().as_bytes()).unwrap();
        // SAFETY: a live NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let err = write_file(&fifo, false, b"x\n").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENXIO));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
