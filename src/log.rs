//! The tracing subscriber: one line per event on stderr, as text or JSON.
//!
//! Written against `tracing-core` directly rather than `tracing-subscriber`: init logs
//! events only (no spans), and this costs a few KiB where the fmt and json layers cost
//! ~160 KiB of a binary whose whole budget is tini's 708 KB. Writes go straight to fd 2
//! and every error is ignored: a closed or broken stderr must never hurt PID 1.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use crate::config::LogFormat;

struct Logger {
    max: LevelFilter,
    format: LogFormat,
}

/// Installs the logger. `verbosity` 0 = warnings and errors, 1 info, 2 debug, 3 trace.
pub fn init(verbosity: u8, format: LogFormat) {
    let max = match verbosity {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    // A second call (never made) would fail harmlessly; nothing to report.
    let _ = tracing::subscriber::set_global_default(Logger { max, format });
}

/// Set once a write to stderr failed with EPIPE: nobody reads it any more, and every
/// further write would only raise another SIGPIPE (which the loop would log again).
static STDERR_BROKEN: AtomicBool = AtomicBool::new(false);

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes.
pub fn write_all(fd: libc::c_int, bytes: &[u8]) -> std::io::Result<()> {
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: the pointer and length describe the live `rest` slice.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        match usize::try_from(n) {
            Ok(n) if n > 0 => rest = rest.get(n..).unwrap_or_default(),
            Ok(_) => return Err(std::io::ErrorKind::WriteZero.into()),
            Err(_) => {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EINTR) {
                    return Err(err);
                }
            }
        }
    }
    Ok(())
}

/// Writes `line` to fd 2, ignoring every error.
pub fn write_stderr(line: &[u8]) {
    if STDERR_BROKEN.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = write_all(libc::STDERR_FILENO, line) {
        if e.raw_os_error() == Some(libc::EPIPE) {
            STDERR_BROKEN.store(true, Ordering::Relaxed);
        }
    }
}

/// Collects an event's message and fields.
struct Fields<'a> {
    format: LogFormat,
    message: String,
    rest: &'a mut String,
}

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
            return;
        }
        match self.format {
            LogFormat::Text => {
                let _ = write!(self.rest, " {}={value:?}", field.name());
            }
            LogFormat::Json => {
                let _ = write!(self.rest, ",\"{}\":", field.name());
                json_string(self.rest, &format!("{value:?}"));
            }
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
            return;
        }
        match self.format {
            LogFormat::Text => {
                let _ = write!(self.rest, " {}={value}", field.name());
            }
            LogFormat::Json => {
                let _ = write!(self.rest, ",\"{}\":", field.name());
                json_string(self.rest, value);
            }
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.number(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.number(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.number(field, value);
    }

    /// init logs no floats; the default would format through `Debug`, which links ~16 KB
    /// of float formatting into the binary. Whole units are enough should one appear.
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.number(field, value as i64);
    }
}

impl Fields<'_> {
    fn number(&mut self, field: &Field, value: impl fmt::Display) {
        let _ = match self.format {
            LogFormat::Text => write!(self.rest, " {}={value}", field.name()),
            LogFormat::Json => write!(self.rest, ",\"{}\":{value}", field.name()),
        };
    }
}

/// Appends `s` as a JSON string literal.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-23T11:19:49.123Z`.
fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

fn format_event(format: LogFormat, level: &Level, event: &Event<'_>, now: SystemTime) -> String {
    let mut rest = String::new();
    let mut fields = Fields {
        format,
        message: String::new(),
        rest: &mut rest,
    };
    event.record(&mut fields);
    let message = fields.message;
    match format {
        LogFormat::Text => format!("init: {level} {message}{rest}\n"),
        LogFormat::Json => {
            let mut line = format!(
                "{{\"timestamp\":\"{}\",\"level\":\"{level}\",\"target\":\"init\",\"message\":",
                timestamp(now)
            );
            json_string(&mut line, &message);
            line.push_str(&rest);
            line.push_str("}\n");
            line
        }
    }
}

impl Subscriber for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= &self.max
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max)
    }

    /// init opens no spans; one id serves should a dependency ever open one. (No 64-bit
    /// atomic counter: ARMv5TE, Debian's armel baseline, has none.)
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let line = format_event(
            self.format,
            event.metadata().level(),
            event,
            SystemTime::now(),
        );
        write_stderr(line.as_bytes());
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_432_789_123);
        assert_eq!(timestamp(t), "2026-11-23T11:19:49.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        json_string(&mut s, "a\"b\\c\nd\u{1}");
        assert_eq!(s, r#""a\"b\\c\nd\u0001""#);
    }
}
