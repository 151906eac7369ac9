//! Health probe (`init --probe URL`): one HTTP/1.1 GET or one TCP connect, then exit.
//!
//! - `http://HOST[:PORT][/PATH]`: exit 0 on a 2xx/3xx status, 1 otherwise (refused,
//!   timeout, other status, garbage or oversized reply).
//! - `tcp://HOST:PORT`: exit 0 when the connection opens, 1 otherwise.
//! - A bad or unsupported URL, or an unset `$VAR` in it, is exit 2.
//!
//! One deadline bounds the whole probe (name resolution, connect, write, read). On
//! failure exactly one line goes to stderr, prefixed `init: probe: `. This runs as a
//! one-shot command, never inside the supervisor loop.

mod http;
mod net;
mod url;

pub use url::{Scheme, Target, parse_url};

use std::io::{self, Write};
use std::time::{Duration, Instant};

/// Exit code: the probe succeeded.
const HEALTHY: i32 = 0;
/// Exit code: the service did not answer as expected.
const UNHEALTHY: i32 = 1;
/// Exit code: the URL is bad, unsupported, or names an unset variable.
const BAD_URL: i32 = 2;

/// Runs one probe of `url` (after `$VAR` expansion from the environment), bounded by
/// `timeout`, and returns the exit code: 0 healthy, 1 unhealthy, 2 bad URL.
pub fn run(url: &str, timeout: Duration) -> i32 {
    let deadline = Deadline::after(timeout);
    let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    let target = match parse_url(url, &env) {
        Ok(target) => target,
        Err(err) => {
            say(format_args!("{err}"));
            return BAD_URL;
        }
    };
    match probe(&target, &deadline) {
        Ok(()) => HEALTHY,
        Err(why) => {
            say(format_args!("{}: {why}", target.url));
            UNHEALTHY
        }
    }
}

/// Probes a parsed target; `Err` carries the one-line reason it is unhealthy.
fn probe(target: &Target, deadline: &Deadline) -> Result<(), String> {
    match target.scheme {
        Scheme::Tcp => net::connect(target, deadline).map(drop),
        Scheme::Http => http::probe(target, deadline),
    }
}

/// Writes one `init: probe: ...` line to stderr; a failing stderr is ignored.
fn say(msg: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "init: probe: {msg}");
}

/// The single deadline shared by every step of a probe.
struct Deadline {
    at: Instant,
    timeout: Duration,
}

impl Deadline {
    fn after(timeout: Duration) -> Self {
        let now = Instant::now();
        // An absurdly long timeout must not overflow `Instant`: cap it at a year.
        let at = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
            .unwrap_or(now);
        Deadline { at, timeout }
    }

    /// Time left, or `None` once the deadline has passed (never `Some(0)`, which
    /// socket timeouts reject).
    fn remaining(&self) -> Option<Duration> {
        let left = self.at.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    fn timed_out(&self) -> String {
        if self.timeout.is_zero() {
            return "timed out after 0s".into();
        }
        format!(
            "timed out after {}",
            crate::config::show_duration(self.timeout)
        ) // "3s", "1500ms"
    }

    /// Describes an I/O error of the step `what` ("connect", "write", "read").
    fn describe(&self, what: &str, err: &io::Error) -> String {
        match err.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => self.timed_out(),
            io::ErrorKind::ConnectionRefused => "connection refused".into(),
            io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
            io::ErrorKind::HostUnreachable => "host unreachable".into(),
            io::ErrorKind::NetworkUnreachable => "network unreachable".into(),
            _ => format!("{what} failed: {err}"),
        }
    }
}
