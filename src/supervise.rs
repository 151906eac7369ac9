//! The one event loop: Running -> (Holding) -> Stopping{deadline} -> Killing.
//!
//! init sleeps in `rt_sigtimedwait` with every signal blocked; the only timeout is the
//! next deadline of the current phase, so an idle init never wakes. After every wake it
//! drains all exited children before deciding anything.
//!
//! Pause mode (`--pause`) is the same loop without a main child: it reaps whatever comes
//! to it, and TERM, INT or QUIT enter the same Stopping and Killing phases.

use std::time::{Duration, Instant};

use tracing::{debug, error, info, trace, warn};

use crate::config::{Config, show_duration};
use crate::exit_code::ChildEnd;
use crate::pid1::Role;
use crate::signals::{self, Received};
use crate::{reap, shutdown};

/// First re-sweep interval of the kill phase (a subreaper's /proc walk can miss a process
/// forked during it); doubles up to `KILL_SWEEP_MAX`.
const KILL_SWEEP_FIRST: Duration = Duration::from_millis(100);
const KILL_SWEEP_MAX: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Forwarding signals; no deadline.
    Running,
    /// `--pre-stop-delay`: the first SIGTERM (as `held`) waits until `until`.
    Holding { until: Instant, held: i32 },
    /// Shutdown started: whatever is left at `until` gets SIGKILL.
    Stopping { until: Instant },
    /// SIGKILL sent; waiting for the last children, re-sweeping at `next`.
    Killing { next: Instant, every: Duration },
}

impl Phase {
    fn deadline(self) -> Option<Instant> {
        match self {
            Phase::Running => None,
            Phase::Holding { until, .. } | Phase::Stopping { until } => Some(until),
            Phase::Killing { next, .. } => Some(next),
        }
    }
}

struct Supervisor<'a> {
    cfg: &'a Config,
    role: Role,
    /// The main child while it runs; `None` once reaped, so its pid is never signalled
    /// again (it may belong to another process by then).
    child: Option<i32>,
    /// The main child's end once reaped (in pause mode: exit 0 once asked to stop).
    end: Option<ChildEnd>,
    phase: Phase,
    /// When shutdown began: the first TERM, INT or QUIT, or the main child's exit.
    stop_began: Option<Instant>,
    /// Processes reaped since shutdown began.
    stopped: usize,
    /// How many processes were still running when the grace period ended (`Some(0)`
    /// when /proc could not tell); `None` while no SIGKILL was needed.
    sigkilled: Option<usize>,
}

/// Supervises `child` (none in pause mode) until it and every other process init started
/// or adopted is gone; returns how the main child ended (exit 0 for a pause process).
pub fn run(cfg: &Config, role: Role, child: Option<i32>) -> ChildEnd {
    let mut sup = Supervisor {
        cfg,
        role,
        child,
        end: None,
        phase: Phase::Running,
        stop_began: None,
        stopped: 0,
        sigkilled: None,
    };
    if cfg.pause {
        info!("pause: reaping orphans until TERM, INT or QUIT");
    }
    loop {
        let drained = reap::drain(sup.child, cfg.warn_on_reap);
        if sup.stop_began.is_some() {
            sup.stopped += drained.reaped;
        }
        if let Some(end) = drained.main {
            sup.main_exited(end, drained.none_left);
        }
        if let (Some(end), true) = (sup.end, drained.none_left) {
            sup.summarise(end);
            return end;
        }
        let timeout = sup
            .phase
            .deadline()
            .map(|d| d.saturating_duration_since(Instant::now()));
        match signals::wait(timeout) {
            Ok(Some(sig)) => sup.on_signal(sig),
            Ok(None) => sup.on_deadline(),
            Err(e) => {
                // Cannot happen with valid arguments; never spin on it.
                error!("rt_sigtimedwait failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

impl Supervisor<'_> {
    fn main_exited(&mut self, end: ChildEnd, none_left: bool) {
        self.child = None;
        self.end = Some(end);
        if none_left {
            return;
        }
        self.stop_began.get_or_insert_with(Instant::now);
        // Stragglers: TERM them and give them the grace period (or what is left of it).
        let sent = self.signal_all(libc::SIGTERM);
        match self.phase {
            Phase::Running | Phase::Holding { .. } => {
                let until = Instant::now() + self.cfg.grace_period;
                info!(
                    processes = sent,
                    "main child exited; stopping the processes left, grace period {}",
                    show_duration(self.cfg.grace_period)
                );
                self.phase = Phase::Stopping { until };
            }
            Phase::Stopping { .. } | Phase::Killing { .. } => {}
        }
    }

    fn on_signal(&mut self, sig: Received) {
        trace!(
            from = sig.pid,
            code = sig.code,
            "received {}",
            signals::name(sig.signo)
        );
        if sig.signo == libc::SIGCHLD {
            return;
        }
        if sig.is_self_inflicted(self.role.pid) {
            debug!(
                "ignoring {} raised by init itself",
                signals::name(sig.signo)
            );
            return;
        }
        let Some(target) = self.cfg.forward_as(sig.signo) else {
            debug!("dropping {} (rewrite to 0)", signals::name(sig.signo));
            return;
        };
        let starts_shutdown = matches!(sig.signo, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT);
        if starts_shutdown {
            self.stop_began.get_or_insert_with(Instant::now);
        }
        if self.cfg.pause {
            self.on_signal_paused(sig.signo, starts_shutdown);
            return;
        }
        match self.phase {
            Phase::Running
                if sig.signo == libc::SIGTERM
                    && !self.cfg.pre_stop_delay.is_zero()
                    && self.child.is_some() =>
            {
                info!(
                    "holding SIGTERM for the pre-stop delay of {}",
                    show_duration(self.cfg.pre_stop_delay)
                );
                self.phase = Phase::Holding {
                    until: Instant::now() + self.cfg.pre_stop_delay,
                    held: target,
                };
            }
            Phase::Running if starts_shutdown => {
                self.forward(target, true);
                self.start_grace();
            }
            Phase::Holding { held, .. } if matches!(sig.signo, libc::SIGTERM | libc::SIGINT) => {
                info!("{} ends the pre-stop delay", signals::name(sig.signo));
                self.forward(held, true);
                if sig.signo == libc::SIGINT {
                    self.forward(target, true);
                }
                self.start_grace();
            }
            Phase::Running | Phase::Holding { .. } => self.forward(target, false),
            Phase::Stopping { .. } | Phase::Killing { .. } => self.forward(target, true),
        }
    }

    /// Pause mode has nobody to forward to: TERM, INT or QUIT stop everything left.
    fn on_signal_paused(&mut self, signo: i32, starts_shutdown: bool) {
        if !(starts_shutdown && self.phase == Phase::Running) {
            debug!("pause: nothing to forward {} to", signals::name(signo));
            return;
        }
        self.end = Some(ChildEnd::Exited(0));
        let sent = self.signal_all(libc::SIGTERM);
        info!(
            processes = sent,
            "{} ends the pause: stopping every process left",
            signals::name(signo)
        );
        self.start_grace();
    }

    fn on_deadline(&mut self) {
        match self.phase {
            Phase::Running => {}
            Phase::Holding { held, .. } => {
                self.forward(held, true);
                self.start_grace();
            }
            Phase::Stopping { .. } => {
                // Name what ignored SIGTERM, so that a slow stop can be traced in the logs.
                match shutdown::survivors(self.role) {
                    Some(left) => {
                        self.sigkilled = Some(left.len());
                        warn!(
                            processes = left.len(),
                            "grace period of {} is over: sending SIGKILL to {}",
                            show_duration(self.cfg.grace_period),
                            shutdown::describe(&left)
                        );
                    }
                    None => {
                        self.sigkilled = Some(0);
                        warn!(
                            "grace period of {} is over: sending SIGKILL to every process left \
                             (/proc does not show this PID namespace, so they cannot be named)",
                            show_duration(self.cfg.grace_period)
                        );
                    }
                }
                self.signal_all(libc::SIGKILL);
                self.phase = Phase::Killing {
                    next: Instant::now() + KILL_SWEEP_FIRST,
                    every: KILL_SWEEP_FIRST,
                };
            }
            Phase::Killing { every, .. } => {
                let left = self.signal_all(libc::SIGKILL);
                debug!(processes = left, "SIGKILL sweep");
                let every = (every * 2).min(KILL_SWEEP_MAX);
                self.phase = Phase::Killing {
                    next: Instant::now() + every,
                    every,
                };
            }
        }
    }

    /// One line at the end: how the main child ended, what shutdown had to stop, whether
    /// SIGKILL was needed, and how long it took from the first SIGTERM.
    fn summarise(&self, end: ChildEnd) {
        let Some(began) = self.stop_began else {
            info!("main child {end}; no other process was left");
            return;
        };
        let who = if self.cfg.pause {
            "pause process stopped".to_owned()
        } else {
            format!("main child {end}")
        };
        let elapsed = began.elapsed();
        let killed = match self.sigkilled {
            None => "no SIGKILL needed".to_owned(),
            Some(0) => "SIGKILL needed".to_owned(),
            Some(n) => format!("SIGKILL needed for {n}"),
        };
        info!(
            stopped = self.stopped,
            sigkill = self.sigkilled.is_some(),
            elapsed_ms = elapsed.as_millis() as u64,
            "shutdown complete: {who}; {} stopped; {killed}; {} after shutdown began",
            match self.stopped {
                1 => "1 process".to_owned(),
                n => format!("{n} processes"),
            },
            show_duration(elapsed)
        );
    }

    fn start_grace(&mut self) {
        info!(
            "shutdown started: grace period {}",
            show_duration(self.cfg.grace_period)
        );
        self.phase = Phase::Stopping {
            until: Instant::now() + self.cfg.grace_period,
        };
    }

    /// Forwards `sig` to the main child (or its process group with `-g`). During shutdown
    /// a TERM, INT or QUIT (as forwarded, after `--rewrite`) is followed by SIGCONT, so
    /// that a stopped process can act on it.
    fn forward(&self, sig: i32, shutting_down: bool) {
        let Some(pid) = self.child else {
            debug!("main child gone: not forwarding {}", signals::name(sig));
            return;
        };
        self.send(pid, sig);
        if shutting_down && matches!(sig, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT) {
            self.send(pid, libc::SIGCONT);
        }
    }

    fn send(&self, pid: i32, sig: i32) {
        if self.cfg.pgroup {
            // The child's own group has its pid as id; if the group is gone, the child.
            match signals::kill(-pid, sig) {
                Ok(()) => {
                    debug!(
                        pgid = pid,
                        "forwarded {} to the process group",
                        signals::name(sig)
                    );
                    return;
                }
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => warn!(
                    pgid = pid,
                    "kill(-{pid}, {}) failed: {e}",
                    signals::name(sig)
                ),
            }
        }
        match signals::kill(pid, sig) {
            Ok(()) => debug!(pid, "forwarded {}", signals::name(sig)),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => debug!(pid, "child already gone"),
            Err(e) => warn!(pid, "kill({pid}, {}) failed: {e}", signals::name(sig)),
        }
    }

    /// Signals every process left; a SIGTERM is followed by SIGCONT.
    fn signal_all(&self, sig: i32) -> usize {
        let sent = shutdown::signal_all(self.role, sig);
        if sig == libc::SIGTERM {
            shutdown::signal_all(self.role, libc::SIGCONT);
        }
        sent
    }
}
