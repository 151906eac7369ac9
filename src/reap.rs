//! Drains every exited child with `waitpid(-1, WNOHANG)`; one SIGCHLD may stand for many.

use std::io;

use tracing::{debug, error, warn};

use crate::exit_code::ChildEnd;

/// What one drain found.
#[derive(Debug, Default)]
pub struct Drained {
    /// How the main child ended, if it was reaped in this drain.
    pub main: Option<ChildEnd>,
    /// No child is left at all (ECHILD): nothing init started or adopted still runs.
    pub none_left: bool,
    /// How many processes were reaped, the main child included.
    pub reaped: usize,
    /// Other processes reaped that died of SIGKILL (an OOM kill is one), by pid.
    pub sigkilled: Vec<i32>,
}

/// Reaps every child that has exited, noting the main child's end.
pub fn drain(main_pid: Option<i32>, warn_on_reap: bool) -> Drained {
    let mut out = Drained::default();
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a live local the kernel writes the wait status into.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            let end = if libc::WIFEXITED(status) {
                ChildEnd::Exited(libc::WEXITSTATUS(status))
            } else if libc::WIFSIGNALED(status) {
                ChildEnd::Signaled(libc::WTERMSIG(status))
            } else {
                continue;
            };
            out.reaped += 1;
            if Some(pid) == main_pid {
                debug!(pid, "main child (pid {pid}) {end}");
                out.main = Some(end);
                continue;
            }
            if end == ChildEnd::Signaled(libc::SIGKILL) {
                out.sigkilled.push(pid);
            }
            if warn_on_reap {
                warn!(pid, "reaped a zombie (pid {pid}, {end})");
            } else {
                debug!(pid, "reaped an orphan (pid {pid}, {end})");
            }
            continue;
        }
        if pid == 0 {
            return out;
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ECHILD) => {
                out.none_left = true;
                return out;
            }
            _ => {
                error!("waitpid(-1, WNOHANG) failed: {err}");
                return out;
            }
        }
    }
}
