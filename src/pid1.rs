//! PID-1 duties that are not the loop: child subreaper and parent-death signal.

use std::io;

use nix::sys::prctl;
use nix::unistd::{getpid, getppid};
use tracing::{debug, error, warn};

use crate::config::Config;
use crate::signals;

/// What role init plays, decided once at start.
#[derive(Clone, Copy, Debug)]
pub struct Role {
    pub pid: i32,
    pub is_pid1: bool,
}

pub fn role() -> Role {
    let pid = getpid().as_raw();
    Role {
        pid,
        is_pid1: pid == 1,
    }
}

/// Makes init a child subreaper when asked, or automatically when it is not PID 1, and
/// arms the parent-death signal. Fails only when an explicitly requested duty fails.
pub fn setup(cfg: &Config, role: Role) -> io::Result<()> {
    let want_subreaper = cfg.subreaper.unwrap_or(!role.is_pid1);
    if want_subreaper && !role.is_pid1 {
        match prctl::set_child_subreaper(true) {
            Ok(()) => debug!("registered as a child subreaper"),
            Err(e) if cfg.subreaper == Some(true) => {
                error!("prctl(PR_SET_CHILD_SUBREAPER) failed: {e}");
                return Err(e.into());
            }
            Err(e) => warn!(
                "prctl(PR_SET_CHILD_SUBREAPER) failed, orphans will not be reaped by init: {e}"
            ),
        }
    } else if !role.is_pid1 {
        warn!("not PID 1 and not a subreaper: orphaned grandchildren will not be reaped by init");
    }
    if let Some(sig) = cfg.pdeathsig {
        let parent = getppid();
        // The raw prctl: nix's `Signal` has no real-time signals, and `-p RTMIN+6` is valid.
        // SAFETY: PR_SET_PDEATHSIG takes a signal number by value; no memory is passed.
        let rc = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            error!(
                "prctl(PR_SET_PDEATHSIG, {}) failed: {e}",
                signals::name(sig)
            );
            return Err(e);
        }
        // The parent may have died before the prctl: then nobody would send it.
        if getppid() != parent {
            let _ = signals::kill(role.pid, sig);
        }
    }
    Ok(())
}
