//! The one event loop: Running -> (Holding) -> Stopping{deadline} -> Killing.
//!
//! init sleeps in ppoll(2) on its signalfd (every signal is blocked and queued there) and,
//! when the memory cgroup can be watched, on that watch; the only timeout is the next
//! deadline, so an idle init never wakes. After every wake it drains all exited children
//! before deciding anything.
//!
//! Pause mode (`--pause`) is the same loop without a main child: it reaps whatever comes
//! to it, and TERM, INT or QUIT enter the same Stopping and Killing phases.

use std::time::{Duration, Instant};

use tracing::{debug, error, info, trace, warn};

use crate::config::{Config, show_duration};
use crate::exit_code::ChildEnd;
use crate::memcg::{MemCg, OomKill, Version};
use crate::pid1::Role;
use crate::reap;
use crate::reap::Drained;
use crate::shutdown::{self, Proc, Swept};
use crate::signals::{self, Received, SignalFd, Woke};

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

/// What the grace period's end found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraceEnd {
    /// These processes were still running and got SIGKILL.
    Named(Vec<Proc>),
    /// /proc could not tell what was left; SIGKILL went to whatever init could reach.
    Unnamed,
}

/// How supervision ended: what the exit report and the summary line say.
#[derive(Debug)]
pub struct Outcome {
    /// The main child's end (a pause process: exit 0).
    pub end: ChildEnd,
    /// The kernel's OOM killer killed the main child.
    pub main_oom: Option<OomKill>,
    /// The grace period ran out (SIGKILL was needed), and what it found.
    pub grace_end: Option<GraceEnd>,
    /// Processes reaped after shutdown began.
    pub stopped: usize,
    /// Time from the start of shutdown to the last reap; `None` when no shutdown ran.
    pub shutdown_took: Option<Duration>,
    /// OOM kills counted in init's memory cgroup since init started; `None` when it
    /// cannot be read.
    pub oom_kills: Option<u64>,
}

struct Supervisor<'a> {
    cfg: &'a Config,
    role: Role,
    /// The main child while it runs; `None` once reaped, so its pid is never signalled
    /// again (it may belong to another process by then).
    child: Option<i32>,
    /// The main child's process group (its pid; init made it): what a subreaper that
    /// cannot read /proc can still signal, while any of its members lives.
    group: Option<i32>,
    /// The main child's end once reaped (in pause mode: exit 0 once asked to stop).
    end: Option<ChildEnd>,
    phase: Phase,
    /// When shutdown began: the first TERM, INT or QUIT, or the main child's exit.
    stop_began: Option<Instant>,
    /// Processes reaped since shutdown began.
    stopped: usize,
    grace_end: Option<GraceEnd>,
    memcg: Option<MemCg>,
    main_oom: Option<OomKill>,
    /// The "cannot see the processes left" warning was given.
    warned_blind: bool,
}

/// Supervises `child` (none in pause mode) until it and every other process init started
/// or adopted is gone; returns how it ended.
pub fn run(
    cfg: &Config,
    role: Role,
    child: Option<i32>,
    signals: &SignalFd,
    memcg: Option<MemCg>,
) -> Outcome {
    let mut sup = Supervisor {
        cfg,
        role,
        child,
        group: child,
        end: None,
        phase: Phase::Running,
        stop_began: None,
        stopped: 0,
        grace_end: None,
        memcg,
        main_oom: None,
        warned_blind: false,
    };
    if cfg.pause {
        info!("pause: reaping orphans until TERM, INT or QUIT");
    }
    if let Some(m) = &sup.memcg {
        debug!(
            "memory cgroup {} {}: OOM kills of processes init reaps are named{}",
            match m.version() {
                Version::V1 => "v1",
                Version::V2 => "v2",
            },
            m.dir().display(),
            if m.watching() {
                ", others reported as they happen"
            } else {
                "; no event source (cgroup.event_control not writable): others are \
                 reported when init next wakes"
            }
        );
    }
    loop {
        let drained = reap::drain(sup.child, cfg.warn_on_reap);
        sup.reaped(&drained);
        if let (Some(end), true) = (sup.end, drained.none_left) {
            return sup.outcome(end);
        }
        let deadline = match (
            sup.phase.deadline(),
            sup.memcg.as_ref().and_then(MemCg::deadline),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let watch = sup.memcg.as_ref().and_then(MemCg::fd);
        let woke = signals.wait(watch, timeout);
        if let Some(memcg) = sup.memcg.as_mut() {
            memcg.on_wake();
        }
        match woke {
            Ok(Woke::Signal(sig)) => sup.on_signal(sig),
            Ok(Woke::Fd) => {
                if let Some(memcg) = sup.memcg.as_mut() {
                    memcg.on_event();
                }
            }
            Ok(Woke::Timeout) => sup.on_timeout(),
            Ok(Woke::Nothing) => {}
            Err(e) => {
                // Cannot happen with valid arguments; never spin on it.
                error!("ppoll on the signalfd failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

impl Supervisor<'_> {
    /// What a drain found: processes stopped, OOM kills named, the main child's end.
    fn reaped(&mut self, drained: &Drained) {
        if self.stop_began.is_some() {
            self.stopped += drained.reaped;
        }
        for &pid in &drained.sigkilled {
            if let Some(kill) = self.claim_oom() {
                warn!(
                    pid,
                    oom_kill = kill.after,
                    "process {pid} killed by SIGKILL: {}",
                    kill.describe()
                );
            }
        }
        let Some(end) = drained.main else {
            return;
        };
        if end == ChildEnd::Signaled(libc::SIGKILL) {
            if let Some(kill) = self.claim_oom() {
                warn!(
                    oom_kill = kill.after,
                    "main child killed by SIGKILL: {}",
                    kill.describe()
                );
                self.main_oom = Some(kill);
            }
        }
        self.main_exited(end, drained.none_left);
    }

    fn claim_oom(&mut self) -> Option<OomKill> {
        self.memcg.as_mut().and_then(MemCg::claim)
    }

    fn outcome(&self, end: ChildEnd) -> Outcome {
        Outcome {
            end,
            main_oom: self.main_oom.clone(),
            grace_end: self.grace_end.clone(),
            stopped: self.stopped,
            shutdown_took: self.stop_began.map(|t| t.elapsed()),
            oom_kills: self.memcg.as_ref().map(MemCg::total),
        }
    }

    fn main_exited(&mut self, end: ChildEnd, none_left: bool) {
        self.child = None;
        self.end = Some(end);
        if none_left {
            return;
        }
        self.stop_began.get_or_insert_with(Instant::now);
        // Stragglers: TERM them and give them the grace period (or what is left of it).
        let swept = self.signal_all(&[libc::SIGTERM, libc::SIGCONT]);
        match self.phase {
            Phase::Running | Phase::Holding { .. } => {
                let until = Instant::now() + self.cfg.grace_period;
                info!(
                    processes = swept.seen.as_ref().map(Vec::len),
                    "main child exited; stopping {}, grace period {}",
                    left(&swept),
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
            "received {} from pid {} (si_code {})",
            signals::name(sig.signo),
            sig.pid,
            sig.code
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
        let starts_shutdown = is_stop(sig.signo);
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
                self.forward(target);
                self.start_grace();
            }
            // A second TERM, or an INT or QUIT, ends the hold: the held TERM goes first,
            // then the INT or QUIT itself.
            Phase::Holding { held, .. } if starts_shutdown => {
                info!("{} ends the pre-stop delay", signals::name(sig.signo));
                self.forward(held);
                if sig.signo != libc::SIGTERM {
                    self.forward(target);
                }
                self.start_grace();
            }
            _ => self.forward(target),
        }
    }

    /// Pause mode has nobody to forward to: TERM, INT or QUIT stop everything left.
    fn on_signal_paused(&mut self, signo: i32, starts_shutdown: bool) {
        if !(starts_shutdown && self.phase == Phase::Running) {
            debug!("pause: nothing to forward {} to", signals::name(signo));
            return;
        }
        self.end = Some(ChildEnd::Exited(0));
        let swept = self.signal_all(&[libc::SIGTERM, libc::SIGCONT]);
        info!(
            processes = swept.seen.as_ref().map(Vec::len),
            "{} ends the pause: stopping {}",
            signals::name(signo),
            left(&swept)
        );
        self.start_grace();
    }

    /// A deadline passed: the OOM watch's, the phase's, or both.
    fn on_timeout(&mut self) {
        let now = Instant::now();
        if let Some(memcg) = self.memcg.as_mut() {
            if memcg.deadline().is_some_and(|d| d <= now) {
                if let Some(kill) = memcg.on_deadline() {
                    let n = kill.after - kill.before;
                    warn!(
                        oom_kill = kill.after,
                        oom_kills = memcg.total(),
                        "{} not reaped by init (e.g. an app server's worker) killed by {}",
                        if n == 1 {
                            "a process".to_owned()
                        } else {
                            format!("{n} processes")
                        },
                        kill.describe()
                    );
                }
            }
        }
        if self.phase.deadline().is_some_and(|d| d <= now) {
            self.on_deadline();
        }
    }

    fn on_deadline(&mut self) {
        match self.phase {
            Phase::Running => {}
            Phase::Holding { held, .. } => {
                self.forward(held);
                self.start_grace();
            }
            Phase::Stopping { .. } => {
                // The SIGKILL goes first; then the warning names what it hit, so that a
                // slow stop can be traced in the logs and a stalled stderr delays nothing.
                let swept = self.signal_all(&[libc::SIGKILL]);
                let grace = show_duration(self.cfg.grace_period);
                match &swept.seen {
                    Some(procs) => warn!(
                        processes = procs.len(),
                        "grace period of {grace} is over: sending SIGKILL to {}",
                        shutdown::describe(procs)
                    ),
                    None => warn!(
                        "grace period of {grace} is over: sending SIGKILL to every process left \
                         (/proc does not show this PID namespace, so they cannot be named)"
                    ),
                }
                self.grace_end = Some(swept.seen.map_or(GraceEnd::Unnamed, GraceEnd::Named));
                self.phase = Phase::Killing {
                    next: Instant::now() + KILL_SWEEP_FIRST,
                    every: KILL_SWEEP_FIRST,
                };
            }
            Phase::Killing { every, .. } => {
                let swept = self.signal_all(&[libc::SIGKILL]);
                debug!(
                    "SIGKILL sweep: {}",
                    swept
                        .seen
                        .as_deref()
                        .map_or_else(|| "not named".to_owned(), shutdown::describe)
                );
                let every = (every * 2).min(KILL_SWEEP_MAX);
                self.phase = Phase::Killing {
                    next: Instant::now() + every,
                    every,
                };
            }
        }
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
    fn forward(&self, sig: i32) {
        let Some(pid) = self.child else {
            debug!("main child gone: not forwarding {}", signals::name(sig));
            return;
        };
        self.send(pid, sig);
        if self.stop_began.is_some() && is_stop(sig) {
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
                        "forwarded {} to the process group {pid}",
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
            Ok(()) => debug!(pid, "forwarded {} to {pid}", signals::name(sig)),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                debug!(pid, "main child {pid} already gone")
            }
            Err(e) => warn!(pid, "kill({pid}, {}) failed: {e}", signals::name(sig)),
        }
    }

    /// Sends `sigs` to every process left. A subreaper that cannot see them (no /proc, or
    /// one of another PID namespace) says so once and reaches the main child's group.
    fn signal_all(&mut self, sigs: &[i32]) -> Swept {
        let swept = shutdown::signal_all(self.role, self.group, sigs);
        if swept.seen.is_none() && !self.role.is_pid1 && !self.warned_blind {
            self.warned_blind = true;
            match self.group {
                Some(pgid) => warn!(
                    "cannot list the processes left (/proc is not mounted or shows another \
                     PID namespace): signalling the main child's process group {pgid}; \
                     processes outside it cannot be stopped by init"
                ),
                None => warn!(
                    "cannot list the processes left (/proc is not mounted or shows another \
                     PID namespace): they cannot be stopped by init"
                ),
            }
        }
        swept
    }
}

/// The signals that start a shutdown and are followed by SIGCONT during one.
fn is_stop(sig: i32) -> bool {
    matches!(sig, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT)
}

/// `the processes left (2 processes: 8 (sleep), 9 (sleep))`, without the list when /proc
/// cannot tell.
fn left(swept: &Swept) -> String {
    match &swept.seen {
        Some(procs) if !procs.is_empty() => {
            format!("the processes left ({})", shutdown::describe(procs))
        }
        _ => "the processes left".to_owned(),
    }
}
