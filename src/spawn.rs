//! fork/exec of the main child: its own process group, the terminal's foreground when
//! stdin is a tty, the signal mask and ignored set init was started with, and 126/127.
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
        exists: bool,
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
                exists,
            } => {
                let err = io::Error::from_raw_os_error(*errno);
                match *errno {
                    libc::ENOENT if *exists => write!(
                        f,
                        "cannot run '{program}': its #! interpreter was not found ({err})"
                    ),
                    libc::ENOENT | libc::ENOTDIR => {
                        write!(f, "command not found: '{program}' ({err})")
                    }
                    libc::ENOEXEC => write!(
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
fn exec_first(paths: &[CString], argv: &[*const libc::c_char]) -> i32 {
    let mut denied = false;
    for path in paths {
        // SAFETY: `path` is NUL-terminated, `argv` is a NULL-terminated array of
        // pointers to NUL-terminated strings that outlive this call, and `environ`
        // is the process environment, unchanged since start.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), environ) };
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
    let err = match signals::restore_in_child(inherited) {
        Ok(()) => exec_first(paths, argv),
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

/// Starts the command; returns its pid once `exec` has succeeded.
pub fn spawn(command: &[OsString], inherited: &Inherited) -> Result<i32, SpawnError> {
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

    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(|e| SpawnError::Os {
        call: "pipe2",
        err: e.into(),
    })?;
    // SAFETY: init is single-threaded, and the child runs only async-signal-safe code
    // (exec_child) before exec or _exit.
    let pid = match unsafe { fork() } {
        Ok(ForkResult::Child) => exec_child(&paths, &argv, inherited, foreground, &write_end),
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
    let exists = program.as_bytes().contains(&b'/') && std::fs::metadata(program).is_ok();
    Err(SpawnError::Exec {
        program: program.to_string_lossy().into_owned(),
        errno,
        exists,
    })
}

/// Keeps init's own files away from the child and from fds 0-2.
///
/// A closed stdin, stdout or stderr gets a close-on-exec /dev/null placeholder so that no
/// file init opens later lands on it (and the child still sees it closed); every other
/// inherited descriptor is marked close-on-exec, so the child gets 0, 1 and 2 only.
pub fn prepare_fds() {
    for fd in 0..3 {
        // SAFETY: fcntl(F_GETFD) on any integer is memory-safe.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            // SAFETY: the path is a NUL-terminated literal; open returns the lowest free fd,
            // which is `fd` because the lower ones are open.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        }
    }
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes descriptor flags.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    if rc == 0 {
        return;
    }
    // Kernels before 5.11: walk /proc/self/fd.
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd >= 3)
        .collect();
    for fd in fds {
        // SAFETY: setting FD_CLOEXEC on a descriptor number is memory-safe.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
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
    fn exit_codes_follow_the_errno() {
        let e = |errno| {
            SpawnError::Exec {
                program: "x".into(),
                errno,
                exists: false,
            }
            .exit_code()
        };
        assert_eq!(e(libc::ENOENT), 127);
        assert_eq!(e(libc::EACCES), 126);
        assert_eq!(e(libc::ENOEXEC), 126);
        assert_eq!(e(libc::E2BIG), 126);
    }
}
