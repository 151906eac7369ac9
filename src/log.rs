//! The tracing subscriber: one line per event on stderr, as text or JSON, written so that
//! it can never block init (see `Sink`).
//!
//! Written against `tracing-core` directly rather than `tracing-subscriber`: init logs
//! events only (no spans), and this costs a few KiB where the fmt and json layers cost
//! ~160 KiB (docs/design.md). Every write error is ignored: a closed, broken or stalled
//! stderr must never hurt PID 1; what could not be written is counted and reported.

use std::fmt::{self, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes. Blocking: only for
/// `--help`, `--version` and `--license` on stdout, never for the supervisor's logs.
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

/// How init's own lines reach stderr without ever blocking, whatever fd 2 is, and without
/// touching the open file the child shares (its blocking mode must stay as it was).
enum Sink {
    /// A pipe or FIFO (Docker, podman, Kubernetes, a shell pipeline): the line is written
    /// into a private pipe and moved into fd 2 with `splice(SPLICE_F_NONBLOCK)`, which
    /// moves the whole buffer or fails with EAGAIN when fd 2's pipe is full. Works
    /// without /proc and for a non-root init on a pipe owned by root, which cannot reopen
    /// `/proc/self/fd/2` (EACCES).
    Pipe { read: OwnedFd, write: OwnedFd },
    /// A terminal or other character device, reopened through `/proc/self/fd/2` as a
    /// non-blocking description of init's own.
    Reopened(OwnedFd),
    /// A socket: `send(MSG_DONTWAIT)` on fd 2.
    Socket,
    /// A terminal init could not reopen: written only when poll(2) says it has room.
    Polled,
    /// A regular file or block device (or nothing at all): a write cannot stall.
    Direct,
}

/// Lines longer than this are cut: one pipe buffer moves atomically, and no line of
/// init's comes near it.
const MAX_LINE: usize = 4096;

/// Set once fd 2 reported EPIPE: nobody reads it any more, and every further write would
/// only raise another SIGPIPE (which the loop would log again).
static BROKEN: AtomicBool = AtomicBool::new(false);
/// Lines dropped since the last one that got through.
static DROPPED: AtomicUsize = AtomicUsize::new(0);
/// A terminal or stream socket took part of a line: start the next one on a new line.
static TORN: AtomicBool = AtomicBool::new(false);
static SINK: OnceLock<Sink> = OnceLock::new();

enum Sent {
    All,
    /// Nothing written: it would have blocked (or failed): drop the line.
    None,
    /// Part written (a terminal or stream socket took what it had room for).
    Part,
    Broken,
}

impl Sink {
    fn open() -> Sink {
        // SAFETY: an all-zero stat is a valid value of this plain C struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `st` is a live, writable stat.
        if unsafe { libc::fstat(libc::STDERR_FILENO, &mut st) } != 0 {
            return Sink::Direct;
        }
        match st.st_mode & libc::S_IFMT {
            libc::S_IFIFO => {
                let mut fds = [0; 2];
                // SAFETY: `fds` has room for the two descriptors pipe2 writes.
                if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0
                {
                    return Sink::Polled;
                }
                // SAFETY: pipe2 returned two new descriptors that nothing else owns.
                let (read, write) =
                    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
                Sink::Pipe { read, write }
            }
            libc::S_IFSOCK => Sink::Socket,
            libc::S_IFCHR => {
                // O_NOCTTY: reopening a terminal must not make it init's controlling one.
                // SAFETY: the path is a NUL-terminated literal.
                let fd = unsafe {
                    libc::open(
                        c"/proc/self/fd/2".as_ptr(),
                        libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
                    )
                };
                if fd < 0 {
                    return Sink::Polled;
                }
                // SAFETY: open returned a new descriptor that nothing else owns.
                Sink::Reopened(unsafe { OwnedFd::from_raw_fd(fd) })
            }
            _ => Sink::Direct,
        }
    }

    fn send(&self, line: &[u8]) -> Sent {
        loop {
            let n = match self {
                Sink::Pipe { read, write } => return splice_line(read, write, line),
                Sink::Reopened(fd) => raw_write(fd.as_raw_fd(), line),
                Sink::Direct => raw_write(libc::STDERR_FILENO, line),
                Sink::Socket => {
                    // SAFETY: the pointer and length describe the live `line` slice.
                    unsafe {
                        libc::send(
                            libc::STDERR_FILENO,
                            line.as_ptr().cast(),
                            line.len(),
                            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                        )
                    }
                }
                Sink::Polled => {
                    let mut pfd = libc::pollfd {
                        fd: libc::STDERR_FILENO,
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: `pfd` is a live pollfd; a zero timeout never sleeps.
                    if unsafe { libc::poll(&mut pfd, 1, 0) } != 1
                        || pfd.revents & libc::POLLOUT == 0
                    {
                        return Sent::None;
                    }
                    raw_write(libc::STDERR_FILENO, line)
                }
            };
            return match usize::try_from(n) {
                Ok(n) if n == line.len() => Sent::All,
                Ok(0) => Sent::None,
                Ok(_) => Sent::Part,
                Err(_) => match std::io::Error::last_os_error().raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EPIPE) => Sent::Broken,
                    _ => Sent::None,
                },
            };
        }
    }
}

fn raw_write(fd: libc::c_int, bytes: &[u8]) -> isize {
    // SAFETY: the pointer and length describe the live `bytes` slice.
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) }
}

/// Moves `line` into fd 2's pipe through the private pipe: all of it, or nothing.
fn splice_line(read: &OwnedFd, write: &OwnedFd, line: &[u8]) -> Sent {
    // The private pipe is empty (every path below leaves it so), and a write of at most
    // one page into an empty pipe is one buffer, which splice moves whole or not at all.
    if raw_write(write.as_raw_fd(), line) != line.len() as isize {
        discard(read);
        return Sent::None;
    }
    let sent = loop {
        // SAFETY: plain descriptors and null offsets (both ends are pipes).
        let n = unsafe {
            libc::splice(
                read.as_raw_fd(),
                std::ptr::null_mut(),
                libc::STDERR_FILENO,
                std::ptr::null_mut(),
                line.len(),
                libc::SPLICE_F_NONBLOCK,
            )
        };
        break match usize::try_from(n) {
            Ok(n) if n == line.len() => Sent::All,
            Ok(0) => Sent::None,
            Ok(_) => Sent::Part,
            Err(_) => match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EPIPE) => Sent::Broken,
                _ => Sent::None,
            },
        };
    };
    discard(read);
    sent
}

/// Empties the private pipe (a line that could not be moved is dropped).
fn discard(read: &OwnedFd) {
    let mut buf = [0u8; 512];
    // SAFETY: `buf` is a live, writable buffer of its length; the fd is non-blocking.
    while unsafe { libc::read(read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

/// Writes one line to stderr without ever blocking. A line that cannot be written at once
/// is dropped and counted; the next line that gets through says how many were lost.
pub fn write_stderr(line: &[u8]) {
    write_line(LogFormat::Text, line);
}

fn write_line(format: LogFormat, line: &[u8]) {
    if BROKEN.load(Ordering::Relaxed) {
        return;
    }
    let sink = SINK.get_or_init(Sink::open);
    let dropped = DROPPED.load(Ordering::Relaxed);
    let mut out = Vec::with_capacity(line.len() + 96);
    if TORN.load(Ordering::Relaxed) {
        out.push(b'\n');
    }
    if dropped > 0 {
        out.extend_from_slice(dropped_notice(format, dropped, SystemTime::now()).as_bytes());
    }
    let room = MAX_LINE.saturating_sub(out.len());
    match line.get(..room) {
        Some(cut) if cut.len() < line.len() => {
            out.extend_from_slice(cut.get(..cut.len().saturating_sub(4)).unwrap_or_default());
            out.extend_from_slice(b"...\n");
        }
        _ => out.extend_from_slice(line),
    }
    match sink.send(&out) {
        Sent::All => {
            DROPPED.store(0, Ordering::Relaxed);
            TORN.store(false, Ordering::Relaxed);
        }
        Sent::None => {
            DROPPED.store(dropped + 1, Ordering::Relaxed);
        }
        Sent::Part => {
            DROPPED.store(dropped + 1, Ordering::Relaxed);
            TORN.store(true, Ordering::Relaxed);
        }
        Sent::Broken => BROKEN.store(true, Ordering::Relaxed),
    }
}

/// `init: WARN 3 log lines dropped: stderr was not writable`, in the log's format.
fn dropped_notice(format: LogFormat, n: usize, now: SystemTime) -> String {
    let message = format!(
        "{n} log line{} dropped: stderr was not writable",
        if n == 1 { "" } else { "s" }
    );
    match format {
        LogFormat::Text => format!("init: WARN {message}\n"),
        LogFormat::Json => {
            let mut line = json_head(now, "WARN");
            json_string(&mut line, &message);
            let _ = writeln!(line, ",\"dropped\":{n}}}");
            line
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
        if self.format == LogFormat::Json {
            let _ = write!(self.rest, ",\"{}\":", field.name());
            json_string(self.rest, &format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
            return;
        }
        if self.format == LogFormat::Json {
            let _ = write!(self.rest, ",\"{}\":", field.name());
            json_string(self.rest, value);
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
        if self.format == LogFormat::Json {
            let _ = write!(self.rest, ",\"{}\":{value}", field.name());
        }
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

/// `{"timestamp":"...","level":"WARN","target":"init","message":` (the message follows).
fn json_head(now: SystemTime, level: &str) -> String {
    format!(
        "{{\"timestamp\":\"{}\",\"level\":\"{level}\",\"target\":\"init\",\"message\":",
        timestamp(now)
    )
}

/// Text: `init: LEVEL message` (the message says everything once). JSON: the message and
/// every field, for machines.
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
        LogFormat::Text => format!("init: {level} {message}\n"),
        LogFormat::Json => {
            let mut line = json_head(now, level.as_str());
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
        write_line(self.format, line.as_bytes());
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
