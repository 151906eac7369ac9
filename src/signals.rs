//! The only place that touches the signal mask, dispositions and the signalfd.
//!
//! Signal sets are the kernel's 64-bit masks (bit `n-1` is signal `n`) and every call is
//! the raw system call, so that the C library's internal signals (32-34) are blocked and
//! forwarded like any other instead of being filtered out or killing init.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Highest signal number (the kernel's `_NSIG`) on every architecture init builds for.
pub const SIGMAX: i32 = 64;

/// `RTMIN` in signal names: 34, as glibc, bash's `kill -l`, util-linux and Docker count
/// (the kernel's first real-time signal is 32; glibc keeps 32 and 33 for itself). musl,
/// which this static binary links, keeps 35 as well, so `libc::SIGRTMIN()` would say 35
/// here and `RTMIN+6` would mean another signal to init than to the glibc app it runs.
pub const RTMIN: i32 = 34;
/// `RTMAX`: the kernel's last signal.
pub const RTMAX: i32 = SIGMAX;

/// A kernel signal set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);
    /// Every signal; the kernel silently ignores KILL and STOP in a mask.
    pub const FULL: SigSet = SigSet(u64::MAX);

    pub fn contains(self, sig: i32) -> bool {
        (1..=SIGMAX).contains(&sig) && self.0 & (1u64 << (sig - 1)) != 0
    }

    pub fn insert(&mut self, sig: i32) {
        if (1..=SIGMAX).contains(&sig) {
            self.0 |= 1u64 << (sig - 1);
        }
    }
}

/// The signal state init was started with: what its child gets back.
#[derive(Clone, Copy, Debug)]
pub struct Inherited {
    pub mask: SigSet,
    pub ignored: SigSet,
}

/// Kernel `struct sigaction` of the architectures that define SA_RESTORER (x86_64,
/// aarch64, i386, arm, powerpc64, s390x): three `unsigned long`s, then the mask. The mask
/// is the kernel's `unsigned long sig[64 / BITS]`, so on 32-bit targets it sits at offset
/// 12 with 4-byte alignment (a `u64` field could be padded to offset 16 where `u64` is
/// 8-aligned). riscv64 has no `sa_restorer`. s390x (checked against Linux 6.1's headers):
/// `include/linux/signal_types.h` puts handler, flags, restorer (its `asm/signal.h`
/// defines `__ARCH_HAS_SA_RESTORER`), then `sigset_t`, one `unsigned long` as `_NSIG` is
/// 64; big-endian changes nothing, as the mask is one native word. Other architectures
/// (mips: flags first and 128 signals) are refused at compile time until their layout is
/// checked.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "x86",
    target_arch = "arm",
    target_arch = "powerpc64",
    target_arch = "riscv64",
    target_arch = "s390x"
)))]
compile_error!(
    "check the kernel's struct sigaction and _NSIG for this architecture (src/signals.rs)"
);

#[repr(C)]
struct KernelSigaction {
    handler: libc::c_ulong,
    flags: libc::c_ulong,
    #[cfg(not(target_arch = "riscv64"))]
    restorer: libc::c_ulong,
    mask: [libc::c_ulong; KSIGSET_SIZE / std::mem::size_of::<libc::c_ulong>()],
}

const KSIGSET_SIZE: libc::size_t = 8;

fn sigprocmask(how: libc::c_int, set: Option<SigSet>) -> io::Result<SigSet> {
    let mut old: u64 = 0;
    let new = set.map(|s| s.0);
    let new_ptr = new.as_ref().map_or(std::ptr::null(), |s| s as *const u64);
    // SAFETY: rt_sigprocmask reads 8 bytes from `new_ptr` (null or a live u64) and writes
    // 8 bytes to `old`, a live local; the size argument is the kernel's sigset size.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            how,
            new_ptr,
            &mut old as *mut u64,
            KSIGSET_SIZE,
        )
    };
    if rc == 0 {
        Ok(SigSet(old))
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads the disposition of `sig`, or sets it to SIG_IGN / SIG_DFL.
fn sigaction_raw(sig: i32, set: Option<libc::sighandler_t>) -> io::Result<libc::sighandler_t> {
    let new = set.map(|handler| KernelSigaction {
        handler: handler as libc::c_ulong,
        flags: 0,
        #[cfg(not(target_arch = "riscv64"))]
        restorer: 0,
        mask: [0; KSIGSET_SIZE / std::mem::size_of::<libc::c_ulong>()],
    });
    let new_ptr = new
        .as_ref()
        .map_or(std::ptr::null(), |a| a as *const KernelSigaction);
    let mut old = KernelSigaction {
        handler: 0,
        flags: 0,
        #[cfg(not(target_arch = "riscv64"))]
        restorer: 0,
        mask: [0; KSIGSET_SIZE / std::mem::size_of::<libc::c_ulong>()],
    };
    // SAFETY: rt_sigaction reads a kernel sigaction from `new_ptr` (null or a live local)
    // and writes one to `old`, a live local of the kernel's layout. Only SIG_IGN and
    // SIG_DFL are ever installed, which need no restorer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            new_ptr,
            &mut old as *mut KernelSigaction,
            KSIGSET_SIZE,
        )
    };
    if rc == 0 {
        Ok(old.handler as libc::sighandler_t)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Blocks every signal and returns the mask and ignored set init was started with.
///
/// Fault signals are blocked too: a fault the kernel raises is forced through (unblocked
/// and reset to the default action), so a real crash still crashes, while a SIGSEGV that
/// another process sends with kill(2) is queued and forwarded like any other signal.
/// SIGCHLD is reset to its default if it was ignored, or children would reap themselves.
pub fn block_all() -> io::Result<Inherited> {
    let mask = sigprocmask(libc::SIG_SETMASK, Some(SigSet::FULL))?;
    let mut ignored = SigSet::EMPTY;
    for sig in 1..=SIGMAX {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        if let Ok(handler) = sigaction_raw(sig, None) {
            if handler == libc::SIG_IGN {
                ignored.insert(sig);
            }
        }
    }
    if ignored.contains(libc::SIGCHLD) {
        sigaction_raw(libc::SIGCHLD, Some(libc::SIG_DFL))?;
    }
    Ok(Inherited { mask, ignored })
}

/// Ignores `sig` (the probe ignores SIGPIPE: a closed stderr must not turn 1 into 141).
pub fn ignore(sig: i32) {
    let _ = sigaction_raw(sig, Some(libc::SIG_IGN));
}

/// In the forked child, before exec: give back the ignored set and the mask init was
/// started with. Async-signal-safe: two raw system calls per signal, no allocation.
pub fn restore_in_child(inherited: &Inherited) -> io::Result<()> {
    for sig in 1..=SIGMAX {
        if inherited.ignored.contains(sig) {
            sigaction_raw(sig, Some(libc::SIG_IGN))?;
        }
    }
    sigprocmask(libc::SIG_SETMASK, Some(inherited.mask))?;
    Ok(())
}

/// One received signal and who sent it.
#[derive(Clone, Copy, Debug)]
pub struct Received {
    pub signo: i32,
    /// `si_code`: <= 0 when a process sent it (kill, sigqueue, tgkill), > 0 from the kernel.
    pub code: i32,
    /// `si_pid` of the sender (meaningful when `code <= 0` or for SIGCHLD).
    pub pid: i32,
}

impl Received {
    /// A signal the kernel raised because of init itself, which is not forwarded: a
    /// SIGPIPE from writing the log to a closed pipe arrives as SI_USER from our own pid,
    /// and a fault (SEGV, BUS, FPE, ILL, TRAP, SYS) carries a positive fault code. Signals
    /// the terminal driver sends (SI_KERNEL: WINCH, INT, HUP) are foreign and forwarded.
    pub fn is_self_inflicted(&self, own_pid: i32) -> bool {
        const FAULTS: [i32; 6] = [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGFPE,
            libc::SIGILL,
            libc::SIGTRAP,
            libc::SIGSYS,
        ];
        if self.code <= 0 {
            self.pid == own_pid
        } else {
            FAULTS.contains(&self.signo) && self.code != libc::SI_KERNEL
        }
    }
}

/// A signalfd over every signal: where the loop collects what `block_all` queues.
pub struct SignalFd(OwnedFd);

/// Opens a close-on-exec, non-blocking signalfd for every signal (after `block_all`).
/// The raw system call takes the kernel's 64-bit mask, so that 32-34 are included.
pub fn signalfd() -> io::Result<SignalFd> {
    let set = SigSet::FULL.0;
    // SAFETY: signalfd4 reads KSIGSET_SIZE bytes from `set`, a live local; -1 asks for a
    // new descriptor.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_signalfd4,
            -1,
            &set as *const u64,
            KSIGSET_SIZE,
            libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    Ok(SignalFd(unsafe { OwnedFd::from_raw_fd(rc as RawFd) }))
}

/// What woke the loop.
#[derive(Clone, Copy, Debug)]
pub enum Woke {
    Signal(Received),
    /// The other descriptor `wait` watched became readable.
    Fd,
    /// The timeout expired.
    Timeout,
    /// Nothing to act on (an interrupted wait, a signal already taken): look again.
    Nothing,
}

impl SignalFd {
    /// Sleeps until a signal is queued, `other` (if any) is readable, or `timeout` passes
    /// (never, when `None`). Signals come first when both are ready.
    pub fn wait(
        &self,
        other: Option<BorrowedFd<'_>>,
        timeout: Option<Duration>,
    ) -> io::Result<Woke> {
        let mut fds = [
            libc::pollfd {
                fd: self.0.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: other.map_or(-1, |fd| fd.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let ts = timeout.map(|d| libc::timespec {
            // A year is as good as forever; keeps the value in range of any time_t.
            tv_sec: d.as_secs().min(365 * 86_400) as _,
            tv_nsec: d.subsec_nanos() as _,
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `fds` is a live array of two pollfds (a negative fd is skipped), the
        // timespec is a live local or null, and no signal mask is passed.
        let rc = unsafe { libc::ppoll(fds.as_mut_ptr(), 2, ts_ptr, std::ptr::null()) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            return match err.raw_os_error() {
                Some(libc::EINTR) => Ok(Woke::Nothing),
                _ => Err(err),
            };
        }
        if rc == 0 {
            return Ok(Woke::Timeout);
        }
        if fds[0].revents & libc::POLLIN != 0 {
            return self.read();
        }
        if fds[1].revents != 0 {
            return Ok(Woke::Fd);
        }
        Ok(Woke::Nothing)
    }

    /// Takes one queued signal.
    fn read(&self) -> io::Result<Woke> {
        // SAFETY: an all-zero signalfd_siginfo is a valid value of this plain C struct.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        loop {
            // SAFETY: `info` is a live, writable signalfd_siginfo of `size` bytes.
            let n = unsafe {
                libc::read(
                    self.0.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if n == size as isize {
                return Ok(Woke::Signal(Received {
                    signo: info.ssi_signo as i32,
                    code: info.ssi_code,
                    pid: info.ssi_pid as i32,
                }));
            }
            if n >= 0 {
                return Ok(Woke::Nothing);
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(Woke::Nothing),
                _ => return Err(err),
            }
        }
    }
}

/// Sends `sig` to `pid` (a pid, `-pgid`, or -1). Errors are returned, not logged.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) has no memory-safety preconditions.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

const NAMES: [(&str, i32); 34] = [
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGPOLL),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// Parses `TERM`, `SIGTERM`, `term`, `15`, `RTMIN+3`, `SIGRTMAX-1`.
pub fn parse(s: &str) -> Option<i32> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i32>().ok().filter(|n| (1..=SIGMAX).contains(n));
    }
    let upper = t.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, n)) = NAMES.iter().find(|(nm, _)| *nm == name) {
        return Some(n);
    }
    let offset = |rest: &str, sign: char| -> Option<i32> {
        if rest.is_empty() {
            return Some(0);
        }
        let digits = rest.strip_prefix(sign)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i32>().ok()
    };
    let n = if let Some(rest) = name.strip_prefix("RTMIN") {
        RTMIN.checked_add(offset(rest, '+')?)?
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        RTMAX.checked_sub(offset(rest, '-')?)?
    } else {
        return None;
    };
    (RTMIN..=RTMAX).contains(&n).then_some(n)
}

/// `SIGTERM`, `SIGRTMIN+3`, or `signal 33` for the C libraries' reserved ones.
pub fn name(sig: i32) -> String {
    if let Some((nm, _)) = NAMES
        .iter()
        .find(|&&(nm, n)| n == sig && nm != "IOT" && nm != "CLD" && nm != "POLL")
    {
        return format!("SIG{nm}");
    }
    if (RTMIN..=SIGMAX).contains(&sig) {
        return format!("SIGRTMIN+{}", sig - RTMIN);
    }
    // The C libraries' reserved signals (32, 33) have no name.
    format!("signal {sig}")
}

/// Signals a process can catch: everything but KILL and STOP.
pub fn is_catchable(sig: i32) -> bool {
    (1..=SIGMAX).contains(&sig) && sig != libc::SIGKILL && sig != libc::SIGSTOP
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_parse_in_every_spelling() {
        for s in ["TERM", "SIGTERM", "term", "sigterm", "15", " TERM "] {
            assert_eq!(parse(s), Some(libc::SIGTERM), "{s}");
        }
        assert_eq!(parse("HUP"), Some(1));
        assert_eq!(parse("ttin"), Some(libc::SIGTTIN));
        assert_eq!(parse("SIGWINCH"), Some(libc::SIGWINCH));
        assert_eq!(parse("9"), Some(9));
        assert_eq!(parse("64"), Some(64));
    }

    #[test]
    fn realtime_signals_count_from_34_as_glibc_and_docker_do() {
        // Whatever C library init links (musl says 35), RTMIN means 34, the number the
        // app (glibc), `kill -l` and Docker use.
        assert_eq!(parse("RTMIN"), Some(34));
        assert_eq!(parse("SIGRTMIN+2"), Some(36));
        assert_eq!(parse("RTMIN+6"), Some(40));
        assert_eq!(parse("rtmax-1"), Some(63));
        assert_eq!(parse("RTMAX"), Some(64));
        assert_eq!(name(40), "SIGRTMIN+6");
        assert_eq!(name(33), "signal 33");
        assert_eq!(parse("RTMAX+1"), None);
        assert_eq!(parse("RTMIN+100"), None);
        assert_eq!(parse("RTMIN-1"), None);
    }

    #[test]
    fn bad_signal_names_are_rejected() {
        for s in [
            "",
            "0",
            "65",
            "-1",
            "SIG",
            "TERMX",
            "1.5",
            "+15",
            "RTMIN+",
            "RTMIN+x",
            "99999999999",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for sig in 1..=31 {
            assert_eq!(parse(&name(sig)), Some(sig), "{sig}");
        }
        assert_eq!(name(libc::SIGTERM), "SIGTERM");
        assert_eq!(parse(&name(RTMIN + 1)), Some(RTMIN + 1));
    }

    #[test]
    fn sigset_holds_every_signal_number() {
        let mut s = SigSet::EMPTY;
        s.insert(1);
        s.insert(64);
        s.insert(0);
        s.insert(65);
        assert!(s.contains(1) && s.contains(64) && !s.contains(2) && !s.contains(0));
        assert_eq!(s.0, 1 | (1 << 63));
    }

    #[test]
    fn only_foreign_signals_are_forwarded() {
        let own = 1;
        let from_kill = Received {
            signo: libc::SIGPIPE,
            code: libc::SI_USER,
            pid: 42,
        };
        let own_pipe = Received {
            signo: libc::SIGPIPE,
            code: libc::SI_USER,
            pid: own,
        };
        let kernel = Received {
            signo: libc::SIGSEGV,
            code: 1,
            pid: 0,
        };
        let tty_winch = Received {
            signo: libc::SIGWINCH,
            code: libc::SI_KERNEL,
            pid: 0,
        };
        assert!(!tty_winch.is_self_inflicted(own));
        let from_outside_ns = Received {
            signo: libc::SIGTERM,
            code: libc::SI_USER,
            pid: 0,
        };
        assert!(!from_kill.is_self_inflicted(own));
        assert!(own_pipe.is_self_inflicted(own));
        assert!(kernel.is_self_inflicted(own));
        assert!(!from_outside_ns.is_self_inflicted(own));
    }

    const ULONG: usize = std::mem::size_of::<libc::c_ulong>();

    #[test]
    fn kernel_sigaction_has_the_kernels_layout() {
        // handler, flags, restorer (not on riscv64), then the 8-byte mask with the
        // alignment of a long.
        let longs = if cfg!(target_arch = "riscv64") { 2 } else { 3 };
        assert_eq!(std::mem::offset_of!(KernelSigaction, mask), longs * ULONG);
        assert_eq!(std::mem::size_of::<KernelSigaction>(), longs * ULONG + 8);
        #[cfg(target_arch = "x86")]
        {
            // i386's struct sigaction: mask at 12, 20 bytes (no padding before the mask).
            assert_eq!(std::mem::offset_of!(KernelSigaction, mask), 12);
            assert_eq!(std::mem::size_of::<KernelSigaction>(), 20);
        }
    }

    #[test]
    fn rt_sigaction_round_trips_flags_and_both_mask_words() {
        // Signal 40 (a real-time signal no test and no C library uses), set to SIG_IGN with
        // a mask that has bits in both 32-bit words; read back through the struct and as
        // raw bytes, so a field at the wrong offset shows.
        let sig = 40;
        let mask: u64 = (1 << 1) | (1 << 35) | (1 << 62);
        let mut words = [0 as libc::c_ulong; KSIGSET_SIZE / ULONG];
        for (i, w) in words.iter_mut().enumerate() {
            *w = (mask >> (i * ULONG * 8)) as libc::c_ulong;
        }
        let new = KernelSigaction {
            handler: libc::SIG_IGN as libc::c_ulong,
            flags: libc::SA_RESTART as libc::c_ulong,
            #[cfg(not(target_arch = "riscv64"))]
            restorer: 0,
            mask: words,
        };
        let mut old = [0u8; 64];
        // SAFETY: `new` is a live KernelSigaction; `old` has room for the kernel's struct
        // (at most 32 bytes) and more.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &new as *const KernelSigaction,
                std::ptr::null_mut::<u8>(),
                KSIGSET_SIZE,
            )
        };
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        // SAFETY: as above; the new action is null (read only).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                std::ptr::null::<KernelSigaction>(),
                old.as_mut_ptr(),
                KSIGSET_SIZE,
            )
        };
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        // The kernel's offsets, not the struct's: handler, flags, restorer (0), mask.
        let mask_at = if cfg!(target_arch = "riscv64") { 2 } else { 3 } * ULONG;
        if !cfg!(target_arch = "riscv64") {
            assert_eq!(
                old[2 * ULONG..3 * ULONG],
                [0; ULONG],
                "restorer: {old:02x?}"
            );
        }
        let got = u64::from_ne_bytes(old[mask_at..mask_at + 8].try_into().unwrap());
        assert_eq!(got, mask, "mask at offset {mask_at}: {old:02x?}");
        let mut flags = [0u8; ULONG];
        flags.copy_from_slice(&old[ULONG..2 * ULONG]);
        assert_eq!(
            libc::c_ulong::from_ne_bytes(flags),
            libc::SA_RESTART as libc::c_ulong
        );
        assert_eq!(
            sigaction_raw(sig, Some(libc::SIG_DFL)).unwrap(),
            libc::SIG_IGN
        );
        assert_eq!(sigaction_raw(sig, None).unwrap(), libc::SIG_DFL);
    }
}

/// Property tests: signal names and numbers parse to a signal in range or to nothing, on
/// any input, and every name init prints parses back. The inputs come from
/// `crate::proptests`.
#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use crate::proptests::{config, text};
    use crate::signals;

    proptest! {
        #![proptest_config(config(1000))]

        #[test]
        fn signal_names_never_panic_and_stay_in_range(s in text()) {
            if let Some(n) = signals::parse(&s) {
                prop_assert!((1..=signals::SIGMAX).contains(&n), "{s:?} -> {n}");
            }
        }

        #[test]
        fn signal_numbers_and_names_round_trip(n in 1..=signals::SIGMAX, lower in any::<bool>(), sig_prefix in any::<bool>()) {
            prop_assert_eq!(signals::parse(&n.to_string()), Some(n));
            // The C libraries' reserved signals (32, 33) have no name, only a number.
            let name = signals::name(n);
            if let Some(bare) = name.strip_prefix("SIG") {
                let spelled = if sig_prefix { name.clone() } else { bare.to_owned() };
                let spelled = if lower { spelled.to_ascii_lowercase() } else { spelled };
                prop_assert_eq!(signals::parse(&spelled), Some(n), "{}", spelled);
            }
        }
    }
}
