//! fork/exec of the main child: its own process group, the terminal's foreground when
//! stdin is a tty, the signal mask and ignored set init was started with, every
//! descriptor init was started with, socket activation's `LISTEN_PID`, and 126/127.
//!
//! The command is resolved and exec'd by init itself (no `execvp`): the C library's
//! `execvp` runs `/bin/sh` on a file without `#!`, and init never runs a shell.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use nix::fcntl::OFlag;
use nix::unistd::{ForkResult, Pid, fork, pipe2, setpgid};

use crate::exit_code::{NOT_EXECUTABLE, NOT_FOUND};
use crate::signals::{self, Inherited};

// SAFETY: `environ` is the C runtime's environment array; init never modifies the
// environment, so the pointer stays valid and is only read (in the forked child).
unsafe extern "C" {
    static environ: *const *const libc::c_char;
}

/// Why the command could not be started.
#[derive(Debug)]
pub enum SpawnError {
    /// exec failed with this errno (ENOENT -> 127, anything else -> 126).
    Exec {
        program: String,
        errno: i32,
        /// With ENOENT: the file that exists although exec said "no such file" (the
        /// program itself, or the one found on `PATH`), and what it names as its
        /// interpreter: the kernel's ENOENT is then about the interpreter.
        found: Option<Found>,
    },
    /// An argument held a NUL byte (impossible from a real argv) or no command was given.
    BadCommand,
    /// fork or pipe failed: init's own failure.
    Os { call: &'static str, err: io::Error },
}

impl SpawnError {
    /// The documented exit code for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            SpawnError::Exec { errno, .. } if *errno == libc::ENOENT || *errno == libc::ENOTDIR => {
                NOT_FOUND
            }
            SpawnError::Exec { .. } => NOT_EXECUTABLE,
            SpawnError::BadCommand => crate::exit_code::USAGE,
            SpawnError::Os { .. } => crate::exit_code::FAILURE,
        }
    }
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpawnError::Exec {
                program,
                errno,
                found,
            } => {
                let err = io::Error::from_raw_os_error(*errno);
                match (*errno, found) {
                    (libc::ENOENT, Some(found)) => {
                        write!(f, "cannot run '{program}'")?;
                        if found.path != *program {
                            write!(f, " ({})", found.path)?;
                        }
                        match &found.interpreter {
                            Some(interp) => {
                                write!(f, ": its #! interpreter {interp} was not found ({err})")
                            }
                            None => write!(
                                f,
                                ": its interpreter (the dynamic loader it names) was not found ({err})"
                            ),
                        }
                    }
                    (libc::ENOENT | libc::ENOTDIR, _) => {
                        write!(f, "command not found: '{program}' ({err})")
                    }
                    (libc::ENOEXEC, _) => write!(
                        f,
                        "cannot run '{program}': not an executable format, and init runs no shell ({err})"
                    ),
                    _ => write!(f, "cannot run '{program}': {err}"),
                }
            }
            SpawnError::BadCommand => write!(f, "invalid command"),
            SpawnError::Os { call, err } => write!(f, "{call} failed: {err}"),
        }
    }
}

/// A program file that exists, although exec answered ENOENT for it.
#[derive(Debug)]
pub struct Found {
    /// Its path, as exec was given it.
    pub path: String,
    /// The interpreter its `#!` line names; `None` for a binary (whose dynamic loader
    /// is then what is missing).
    pub interpreter: Option<String>,
}

impl Found {
    /// The first of `paths` that is a regular file, and the `#!` interpreter it names.
    fn first(paths: &[CString]) -> Option<Found> {
        use std::io::Read;
        paths.iter().find_map(|path| {
            let path = std::path::Path::new(std::ffi::OsStr::from_bytes(path.as_bytes()));
            let mut file = std::fs::File::open(path).ok()?;
            if !file.metadata().ok()?.is_file() {
                return None;
            }
            let mut head = [0u8; 256];
            let n = file.read(&mut head).unwrap_or(0);
            let head = head.get(..n).unwrap_or_default();
            let interpreter = head.strip_prefix(b"#!").map(|line| {
                let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
                let word = line
                    .split(|&b| b == b' ' || b == b'\t')
                    .find(|w| !w.is_empty())
                    .unwrap_or_default();
                String::from_utf8_lossy(word).into_owned()
            });
            Some(Found {
                path: path.to_string_lossy().into_owned(),
                interpreter,
            })
        })
    }
}

/// The child's environment: init's own, except that a `LISTEN_PID` naming init (systemd
/// socket activation: the sockets are meant for whoever runs the service) is rewritten to
/// the child's pid, which exists only after fork. Everything is allocated before fork;
/// the child only writes its pid's digits into `listen_pid`, async-signal-safe.
struct ChildEnv {
    /// NULL-terminated pointers: `environ`'s own entries, and `listen_pid` in place of
    /// the entry it replaces.
    envp: Vec<*const libc::c_char>,
    /// `LISTEN_PID=` and room for any pid; `None` when nothing is rewritten.
    listen_pid: Option<Box<[u8; LISTEN_PID_BUF]>>,
}

const LISTEN_PID_PREFIX: &[u8] = b"LISTEN_PID=";
/// The prefix, up to 10 digits of a pid and the NUL.
const LISTEN_PID_BUF: usize = 32;

impl ChildEnv {
    fn new(own_pid: i32) -> ChildEnv {
        let mut envp = Vec::new();
        let mut listen_pid = None;
        let ours = std::env::var_os("LISTEN_PID")
            .and_then(|v| v.to_str()?.trim().parse::<i32>().ok())
            .is_some_and(|pid| pid == own_pid);
        // SAFETY: `environ` is the process environment, a NULL-terminated array of
        // NUL-terminated strings that init never modifies.
        let mut entry = unsafe { environ };
        while !entry.is_null() {
            // SAFETY: `entry` points into the environ array, before its terminating NULL.
            let ptr = unsafe { *entry };
            if ptr.is_null() {
                break;
            }
            // SAFETY: `ptr` is a NUL-terminated environment string.
            let bytes = unsafe { std::ffi::CStr::from_ptr(ptr) }.to_bytes();
            if ours && bytes.starts_with(LISTEN_PID_PREFIX) {
                let buf = listen_pid.get_or_insert_with(|| {
                    let mut buf = Box::new([0u8; LISTEN_PID_BUF]);
                    if let Some(head) = buf.get_mut(..LISTEN_PID_PREFIX.len()) {
                        head.copy_from_slice(LISTEN_PID_PREFIX);
                    }
                    buf
                });
                envp.push(buf.as_ptr().cast());
            } else if !(ours && bytes.starts_with(b"LISTEN_PIDFDID=")) {
                // LISTEN_PIDFDID (systemd 254+) identifies init's pidfd: the child could
                // never match it, so with LISTEN_PID rewritten it is left out.
                envp.push(ptr);
            }
            // SAFETY: the array continues up to and including its NULL terminator.
            entry = unsafe { entry.add(1) };
        }
        envp.push(std::ptr::null());
        ChildEnv { envp, listen_pid }
    }

    /// In the forked child: writes `getpid()` into the `LISTEN_PID=` entry.
    /// Async-signal-safe: one system call and arithmetic on memory allocated before fork.
    fn set_child_pid(&mut self) {
        let Some(buf) = self.listen_pid.as_mut() else {
            return;
        };
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        write_decimal(buf.as_mut_slice(), LISTEN_PID_PREFIX.len(), pid);
    }
}

/// Writes `n` (non-negative) in decimal at `at` in `buf`, then a NUL. No allocation.
fn write_decimal(buf: &mut [u8], at: usize, n: i32) {
    let mut digits = [0u8; 10];
    let mut len = 0;
    let mut rest = n.unsigned_abs();
    loop {
        if let Some(d) = digits.get_mut(len) {
            *d = b'0' + (rest % 10) as u8;
        }
        len += 1;
        rest /= 10;
        if rest == 0 || len == digits.len() {
            break;
        }
    }
    let mut pos = at;
    for i in (0..len).rev() {
        if let (Some(dst), Some(&d)) = (buf.get_mut(pos), digits.get(i)) {
            *dst = d;
        }
        pos += 1;
    }
    if let Some(nul) = buf.get_mut(pos) {
        *nul = 0;
    }
}

/// Where to look for the program, in order, as `execvp` would.
fn candidates(program: &OsString) -> Vec<CString> {
    let bytes = program.as_bytes();
    if bytes.contains(&b'/') {
        return CString::new(bytes).into_iter().collect();
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| {
        OsString::from("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    });
    path.as_bytes()
        .split(|&b| b == b':')
        .filter_map(|dir| {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let mut full = dir.to_vec();
            full.push(b'/');
            full.extend_from_slice(bytes);
            CString::new(full).ok()
        })
        .collect()
}

fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

/// Tries each candidate path as `execvp` would; returns the errno to report (only
/// returns if every exec failed): EACCES if any candidate was denied and none ran.
fn exec_first(
    paths: &[CString],
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> i32 {
    let mut denied = false;
    for path in paths {
        // SAFETY: `path` is NUL-terminated; `argv` and `envp` are NULL-terminated arrays
        // of pointers to NUL-terminated strings that outlive this call.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        match errno() {
            libc::EACCES => denied = true,
            libc::ENOENT | libc::ENOTDIR => {}
            e => return e,
        }
    }
    if denied { libc::EACCES } else { libc::ENOENT }
}

/// Runs in the forked child: async-signal-safe only (no allocation, no locks, no logs).
fn exec_child(
    paths: &[CString],
    argv: &[*const libc::c_char],
    env: &mut ChildEnv,
    inherited: &Inherited,
    foreground: bool,
    report: &OwnedFd,
) -> ! {
    // Signals are still all blocked (inherited from init), so tcsetpgrp from a
    // background group cannot stop us with SIGTTOU.
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    if foreground {
        // SAFETY: tcsetpgrp/getpgrp have no memory-safety preconditions.
        unsafe { libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp()) };
    }
    env.set_child_pid();
    let err = match signals::restore_in_child(inherited) {
        Ok(()) => exec_first(paths, argv, &env.envp),
        Err(e) => e.raw_os_error().unwrap_or(libc::EINVAL),
    };
    let bytes = err.to_ne_bytes();
    // SAFETY: writes 4 bytes from a live local to the report pipe; _exit never returns.
    unsafe {
        libc::write(report.as_raw_fd(), bytes.as_ptr().cast(), bytes.len());
        libc::_exit(if err == libc::ENOENT {
            NOT_FOUND
        } else {
            NOT_EXECUTABLE
        })
    }
}

/// Starts the command; returns its pid once `exec` has succeeded. `own_pid` is init's,
/// for socket activation's `LISTEN_PID`.
pub fn spawn(command: &[OsString], inherited: &Inherited, own_pid: i32) -> Result<i32, SpawnError> {
    let program = command.first().ok_or(SpawnError::BadCommand)?;
    let paths = candidates(program);
    let args: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.clone().into_vec()))
        .collect::<Result<_, _>>()
        .map_err(|_| SpawnError::BadCommand)?;
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: isatty has no memory-safety preconditions.
    let foreground = unsafe { libc::isatty(libc::STDIN_FILENO) } == 1;
    let mut env = ChildEnv::new(own_pid);

    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(|e| SpawnError::Os {
        call: "pipe2",
        err: e.into(),
    })?;
    // SAFETY: init is single-threaded, and the child runs only async-signal-safe code
    // (exec_child) before exec or _exit.
    let pid = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            exec_child(&paths, &argv, &mut env, inherited, foreground, &write_end)
        }
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => {
            return Err(SpawnError::Os {
                call: "fork",
                err: e.into(),
            });
        }
    };
    drop(write_end);
    // Also from this side, so that forwarding to the group works before the child runs.
    let _ = setpgid(pid, pid);

    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < buf.len() {
        let Some(dst) = buf.get_mut(got..) else { break };
        match nix::unistd::read(&read_end, dst) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    if got < buf.len() {
        return Ok(pid.as_raw());
    }
    // exec failed: the child is exiting; reap it so that it leaves no zombie.
    loop {
        let mut status = 0;
        // SAFETY: `status` is a live local.
        let rc = unsafe { libc::waitpid(pid.as_raw(), &mut status, 0) };
        if rc >= 0 || errno() != libc::EINTR {
            break;
        }
    }
    let errno = i32::from_ne_bytes(buf);
    // ENOENT although a candidate exists: its interpreter is missing (exec_first reports
    // ENOENT only when every candidate gave ENOENT or ENOTDIR).
    let found = if errno == libc::ENOENT {
        Found::first(&paths)
    } else {
        None
    };
    Err(SpawnError::Exec {
        program: program.to_string_lossy().into_owned(),
        errno,
        found,
    })
}

/// Keeps fds 0-2 out of init's own use.
///
/// A closed stdin, stdout or stderr gets a close-on-exec /dev/null placeholder, so that
/// no file init opens later lands on it and the child still finds it closed. Every other
/// descriptor init was started with is left as it is: the child inherits it unchanged
/// (podman `--preserve-fds`, socket activation, a supervisor's pipe), while everything
/// init opens itself is close-on-exec (Rust's std and `pipe2(O_CLOEXEC)`).
pub fn prepare_fds() {
    for fd in 0..3 {
        // SAFETY: fcntl(F_GETFD) on any integer is memory-safe.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            // SAFETY: the path is a NUL-terminated literal; open returns the lowest free fd,
            // which is `fd` because the lower ones are open.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_with_a_slash_is_used_as_is() {
        assert_eq!(
            candidates(&OsString::from("./x")),
            vec![CString::new("./x").unwrap_or_default()]
        );
    }

    #[test]
    fn pids_are_written_in_decimal_with_a_nul() {
        for (pid, text) in [(0, "0"), (7, "7"), (1234, "1234"), (i32::MAX, "2147483647")] {
            let mut buf = [b'x'; LISTEN_PID_BUF];
            write_decimal(&mut buf, 3, pid);
            let end = 3 + text.len();
            assert_eq!(&buf[3..end], text.as_bytes(), "{pid}");
            assert_eq!(buf[end], 0);
            assert_eq!(&buf[..3], b"xxx");
        }
    }

    #[test]
    fn exit_codes_follow_the_errno() {
        let e = |errno| {
            SpawnError::Exec {
                program: "x".into(),
                errno,
                found: None,
            }
            .exit_code()
        };
        assert_eq!(e(libc::ENOENT), 127);
        assert_eq!(e(libc::EACCES), 126);
        assert_eq!(e(libc::ENOEXEC), 126);
        assert_eq!(e(libc::E2BIG), 126);
    }
}
