//! Watches init's memory cgroup for the kernel's OOM kills, so that a SIGKILL can be
//! named for what it was.
//!
//! Found once at start from `/proc/self/cgroup` and `/proc/self/mountinfo`: cgroup v2's
//! `memory.events` (`oom_kill`, `oom_group_kill`) or cgroup v1's `memory.oom_control`
//! (`oom_kill`). Where neither can be read the watcher is off, silently: never an error.
//!
//! The counters are read only at events: when a process init reaps died of SIGKILL, and
//! when the kernel says the file changed. That event source is an inotify watch on v2's
//! `memory.events` (the kernel notifies on every counter change), or on v1 an eventfd
//! registered through `cgroup.event_control` for `memory.oom_control` (signalled when
//! the cgroup runs out of memory, just before the kill). Either is one descriptor the
//! supervisor polls beside its signalfd: no timer, no signal a user could send, zero
//! wake-ups while idle. A rise the event shows is first left for a reap to claim (the
//! victim may be a process init reaps, dying a moment after the count), and reported as
//! a kill of a process init does not reap (an app server's worker) `SETTLE` later.

use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a counted OOM kill waits for a reap to claim it before it is reported as a
/// kill of a process init does not reap. Well inside the promised second.
const SETTLE: Duration = Duration::from_millis(500);

/// A limit at or above this is "no limit" (v1 reports PAGE_COUNTER_MAX pages in bytes).
const UNLIMITED: u64 = 1 << 62;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The OOM counters of one read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Processes the OOM killer killed (v2 `oom_kill`, v1 `oom_kill`).
    pub kill: u64,
    /// Whole-cgroup kills (v2 `oom_group_kill`; 0 on v1).
    pub group: u64,
    /// Times the cgroup hit its limit and the OOM killer was invoked (v2 `oom`).
    pub oom: u64,
}

/// One report of OOM kills: the counter before and after, and the limit in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OomKill {
    pub before: u64,
    pub after: u64,
    pub group_kills: u64,
    pub limit: Option<u64>,
}

impl OomKill {
    /// `the kernel's OOM killer (memory limit 48 MiB, oom_kill 0 -> 1)`.
    pub fn describe(&self) -> String {
        let limit = match self.limit {
            Some(bytes) => format!("memory limit {}", show_bytes(bytes)),
            None => "no memory limit found on init's cgroup".to_owned(),
        };
        let group = if self.group_kills > 0 {
            format!(", oom_group_kill +{}", self.group_kills)
        } else {
            String::new()
        };
        format!(
            "the kernel's OOM killer ({limit}, oom_kill {} -> {}{group})",
            self.before, self.after
        )
    }
}

/// The memory cgroup init runs in, and what of its OOM counters is accounted for.
pub struct MemCg {
    version: Version,
    dir: PathBuf,
    /// The top of the cgroup file system as init sees it: limits are looked up to here.
    top: PathBuf,
    /// The counters when init started.
    start: Counters,
    /// The counters as far as they are reported (or claimed by a reap).
    seen: Counters,
    /// The event source: inotify (v2) or eventfd (v1); `None` when it could not be set up.
    event: Option<OwnedFd>,
    /// v1: `memory.oom_control`, held open for the eventfd registration.
    _control: Option<OwnedFd>,
    /// A rise shown by the event source and not claimed yet is reported at this instant.
    pending: Option<Instant>,
}

impl MemCg {
    /// Finds init's memory cgroup and notes its counters; `None` when there is none to read.
    pub fn open() -> Option<MemCg> {
        let cgroup = fs::read_to_string("/proc/self/cgroup").ok()?;
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
        let (version, top, dir) = locate(&cgroup, &mountinfo)?;
        let start = read_counters(version, &dir)?;
        let (event, control) = match version {
            Version::V2 => (watch_v2(&dir), None),
            Version::V1 => watch_v1(&dir).map_or((None, None), |(e, c)| (Some(e), Some(c))),
        };
        Some(MemCg {
            version,
            dir,
            top,
            start,
            seen: start,
            event,
            _control: control,
            pending: None,
        })
    }

    pub fn version(&self) -> Version {
        self.version
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether OOM kills of processes init does not reap are watched (an event source).
    pub fn watching(&self) -> bool {
        self.event.is_some()
    }

    /// The descriptor to poll for counter changes.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.event.as_ref().map(|fd| fd.as_fd())
    }

    /// When a counted kill that no reap claimed is due to be reported.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending
    }

    /// The event descriptor is readable: consume it, and if the OOM killer ran, give a
    /// reap `SETTLE` to claim the kill before it is reported.
    pub fn on_event(&mut self) {
        if let Some(fd) = &self.event {
            drain(fd);
        }
        // v1's eventfd means the OOM killer was invoked (the kill may follow a moment
        // later); v2 notifies every counter change, memory.high and memory.max too.
        self.look(self.version == Version::V1);
    }

    /// Without an event source (v1 with a read-only cgroup mount, as container runtimes
    /// give it), the counters are looked at whenever init wakes anyway: a kill of a
    /// process init does not reap is then reported at the next wake, not as it happens.
    pub fn on_wake(&mut self) {
        if self.event.is_none() {
            self.look(false);
        }
    }

    fn look(&mut self, oom_invoked: bool) {
        let Some(now) = read_counters(self.version, &self.dir) else {
            return;
        };
        let rose = oom_invoked || now.kill > self.seen.kill || now.oom > self.seen.oom;
        self.seen.oom = now.oom;
        if rose && self.pending.is_none() {
            self.pending = Some(Instant::now() + SETTLE);
        }
    }

    /// A process init reaped died of SIGKILL: if an OOM kill was counted that nothing
    /// claimed yet, it is this one.
    pub fn claim(&mut self) -> Option<OomKill> {
        let now = read_counters(self.version, &self.dir)?;
        if now.kill <= self.seen.kill {
            return None;
        }
        let kill = OomKill {
            before: self.seen.kill,
            after: now.kill,
            group_kills: now.group.saturating_sub(self.seen.group),
            limit: self.limit(),
        };
        self.seen.kill += 1;
        self.seen.group = now.group;
        if self.seen.kill >= now.kill {
            self.pending = None;
        }
        Some(kill)
    }

    /// The settle time passed: kills counted and not claimed by a reap were of processes
    /// init does not reap.
    pub fn on_deadline(&mut self) -> Option<OomKill> {
        self.pending = None;
        let now = read_counters(self.version, &self.dir)?;
        if now.kill <= self.seen.kill {
            return None;
        }
        let kill = OomKill {
            before: self.seen.kill,
            after: now.kill,
            group_kills: now.group.saturating_sub(self.seen.group),
            limit: self.limit(),
        };
        self.seen = now;
        Some(kill)
    }

    /// OOM kills counted since init started.
    pub fn total(&self) -> u64 {
        let now = read_counters(self.version, &self.dir).unwrap_or(self.seen);
        now.kill.saturating_sub(self.start.kill)
    }

    /// The tightest memory limit from init's cgroup up to the top init can see.
    pub fn limit(&self) -> Option<u64> {
        let file = match self.version {
            Version::V1 => "memory.limit_in_bytes",
            Version::V2 => "memory.max",
        };
        let mut best: Option<u64> = None;
        let mut dir = self.dir.as_path();
        loop {
            if let Some(limit) = fs::read_to_string(dir.join(file))
                .ok()
                .and_then(|s| parse_limit(&s))
            {
                best = Some(best.map_or(limit, |b| b.min(limit)));
            }
            if dir == self.top {
                return best;
            }
            match dir.parent() {
                Some(parent) if parent.starts_with(&self.top) => dir = parent,
                _ => return best,
            }
        }
    }
}

fn read_counters(version: Version, dir: &Path) -> Option<Counters> {
    match version {
        Version::V2 => parse_events(&fs::read_to_string(dir.join("memory.events")).ok()?),
        Version::V1 => parse_oom_control(&fs::read_to_string(dir.join("memory.oom_control")).ok()?),
    }
}

/// v2: an inotify watch on `memory.events` (modify events on every counter change).
fn watch_v2(dir: &Path) -> Option<OwnedFd> {
    let path = cstring(&dir.join("memory.events"))?;
    // SAFETY: inotify_init1 takes flags only.
    let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `path` is a live NUL-terminated string.
    let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), libc::IN_MODIFY) };
    (wd >= 0).then_some(fd)
}

/// v1: an eventfd the kernel signals when the cgroup runs out of memory, registered by
/// writing "<eventfd> <fd of memory.oom_control>" to `cgroup.event_control`. Needs that
/// file writable (a read-only cgroup mount refuses it: then only reaps are checked).
fn watch_v1(dir: &Path) -> Option<(OwnedFd, OwnedFd)> {
    let control = fs::File::open(dir.join("memory.oom_control")).ok()?;
    // SAFETY: eventfd takes an initial value and flags only.
    let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if efd < 0 {
        return None;
    }
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    let efd = unsafe { OwnedFd::from_raw_fd(efd) };
    let control = OwnedFd::from(control);
    let line = format!("{} {}", efd.as_raw_fd(), control.as_raw_fd());
    fs::write(dir.join("cgroup.event_control"), line).ok()?;
    Some((efd, control))
}

/// Empties an inotify or eventfd descriptor (non-blocking).
fn drain(fd: &OwnedFd) {
    let mut buf = [0u8; 1024];
    loop {
        // SAFETY: `buf` is a live, writable buffer of its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            continue;
        }
        if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return;
    }
}

fn cstring(path: &Path) -> Option<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes()).ok()
}

/// Which memory cgroup init is in: (version, the cgroup file system's top as mounted here,
/// init's cgroup directory). v1's memory hierarchy is preferred when both are mounted
/// (hybrid hosts), since v2 then has no memory controller.
fn locate(cgroup: &str, mountinfo: &str) -> Option<(Version, PathBuf, PathBuf)> {
    let mounts: Vec<Mount> = mountinfo.lines().filter_map(parse_mount).collect();
    for line in cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if controllers.split(',').any(|c| c == "memory") {
            let found = mounts
                .iter()
                .filter(|m| m.fstype == "cgroup" && m.memory)
                .find_map(|m| {
                    m.dir_of(path)
                        .map(|dir| (Version::V1, m.point.clone(), dir))
                });
            if found.is_some() {
                return found;
            }
        }
    }
    let path = cgroup.lines().find_map(|line| line.strip_prefix("0::"))?;
    mounts
        .iter()
        .filter(|m| m.fstype == "cgroup2")
        .find_map(|m| {
            m.dir_of(path)
                .map(|dir| (Version::V2, m.point.clone(), dir))
        })
        .filter(|(_, _, dir)| dir.join("memory.events").exists())
}

/// A cgroup mount from `/proc/self/mountinfo`.
#[derive(Debug, PartialEq, Eq)]
struct Mount {
    /// The directory of the hierarchy mounted here (`/` unless a sub-tree was mounted).
    root: String,
    point: PathBuf,
    fstype: String,
    /// v1: the memory controller is on this hierarchy.
    memory: bool,
}

impl Mount {
    /// Where cgroup `path` (as `/proc/self/cgroup` names it) is under this mount.
    fn dir_of(&self, path: &str) -> Option<PathBuf> {
        let root = self.root.trim_end_matches('/');
        let rest = path.strip_prefix(root)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let rest = rest.trim_start_matches('/');
        Some(if rest.is_empty() {
            self.point.clone()
        } else {
            self.point.join(rest)
        })
    }
}

/// One mountinfo line: `ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER`.
fn parse_mount(line: &str) -> Option<Mount> {
    let (left, right) = line.split_once(" - ")?;
    let mut l = left.split(' ');
    let root = unescape(l.nth(3)?);
    let point = PathBuf::from(unescape(l.next()?));
    let mut r = right.split(' ');
    let fstype = r.next()?.to_owned();
    if fstype != "cgroup" && fstype != "cgroup2" {
        return None;
    }
    let memory = r
        .nth(1)
        .is_some_and(|opts| opts.split(',').any(|o| o == "memory"));
    Some(Mount {
        root,
        point,
        fstype,
        memory,
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&c, tail)) = rest.split_first() {
        match tail.get(..3) {
            Some(d) if c == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                rest = tail.get(3..).unwrap_or_default();
            }
            _ => {
                out.push(c);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `key value` lines.
fn field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

/// v2 `memory.events`: `low`, `high`, `max`, `oom`, `oom_kill`, `oom_group_kill` (5.17+).
fn parse_events(text: &str) -> Option<Counters> {
    Some(Counters {
        kill: field(text, "oom_kill")?,
        group: field(text, "oom_group_kill").unwrap_or(0),
        oom: field(text, "oom").unwrap_or(0),
    })
}

/// v1 `memory.oom_control`: `oom_kill_disable`, `under_oom`, `oom_kill` (4.13+).
fn parse_oom_control(text: &str) -> Option<Counters> {
    Some(Counters {
        kill: field(text, "oom_kill")?,
        ..Counters::default()
    })
}

/// `memory.max` (`max` or bytes) or `memory.limit_in_bytes` (bytes; huge when unlimited).
fn parse_limit(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().filter(|&n| n < UNLIMITED)
}

/// `48 MiB`, `2 GiB`, `1536 KiB`, `1000 bytes`: whole units only (no float formatting).
pub fn show_bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    for (unit, size) in [("GiB", KIB * KIB * KIB), ("MiB", KIB * KIB), ("KiB", KIB)] {
        if n >= size && n % size == 0 {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO_V1: &str = "\
22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 22 0:24 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
30 26 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
33 26 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
";

    const CGROUP_V1: &str = "\
12:memory:/user.slice/test
4:cpu,cpuacct:/user.slice
0::/user.slice/user-0.slice
";

    #[test]
    fn v1_memory_hierarchy_is_found_from_mountinfo_and_proc_self_cgroup() {
        let (version, top, dir) = locate(CGROUP_V1, MOUNTINFO_V1).expect("found");
        assert_eq!(version, Version::V1);
        assert_eq!(top, PathBuf::from("/sys/fs/cgroup/memory"));
        assert_eq!(dir, PathBuf::from("/sys/fs/cgroup/memory/user.slice/test"));
    }

    #[test]
    fn a_container_mount_of_its_own_subtree_maps_to_the_mount_point() {
        // Docker on v1 without a cgroup namespace: /proc/self/cgroup names the host path,
        // and the mount's root is that same directory.
        let mountinfo = "\
700 690 0:31 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
";
        let cgroup = "9:memory:/docker/abc\n";
        let (_, top, dir) = locate(cgroup, mountinfo).expect("found");
        assert_eq!(dir, PathBuf::from("/sys/fs/cgroup/memory"));
        assert_eq!(top, dir);
        // A path outside the mounted sub-tree is not under this mount.
        assert_eq!(locate("9:memory:/docker/abcd\n", mountinfo), None);
        assert_eq!(locate("9:memory:/other\n", mountinfo), None);
    }

    #[test]
    fn v2_needs_memory_events_in_the_cgroup() {
        let dir = std::env::temp_dir().join(format!("pidone-memcg-{}", std::process::id()));
        let sub = dir.join("pod/app");
        fs::create_dir_all(&sub).unwrap();
        let mountinfo = format!(
            "40 30 0:26 / {} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
            dir.display()
        );
        // No memory.events (no memory controller there): off.
        assert_eq!(locate("0::/pod/app\n", &mountinfo), None);
        fs::write(sub.join("memory.events"), "oom_kill 0\n").unwrap();
        let (version, top, found) = locate("0::/pod/app\n", &mountinfo).expect("found");
        assert_eq!((version, top, found), (Version::V2, dir.clone(), sub));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn nothing_mounted_means_off() {
        assert_eq!(
            locate("0::/\n", "22 28 0:21 / /sys rw - sysfs sysfs rw\n"),
            None
        );
        assert_eq!(locate("", MOUNTINFO_V1), None);
    }

    #[test]
    fn mount_points_with_escaped_characters_are_unescaped() {
        let m = parse_mount("1 2 0:3 / /a\\040b\\134c rw - cgroup2 none rw").expect("mount");
        assert_eq!(m.point, PathBuf::from("/a b\\c"));
        assert_eq!(unescape("\\04"), "\\04");
    }

    #[test]
    fn counters_parse_as_the_kernel_lays_them_out() {
        let v2 = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(
            parse_events(v2),
            Some(Counters {
                kill: 1,
                group: 0,
                oom: 2
            })
        );
        // Kernels before 5.17 have no oom_group_kill.
        assert_eq!(parse_events("oom 0\noom_kill 3\n").map(|c| c.kill), Some(3));
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n";
        assert_eq!(parse_oom_control(v1).map(|c| c.kill), Some(4));
        // Kernels before 4.13 do not count kills: nothing to go by.
        assert_eq!(parse_oom_control("oom_kill_disable 0\nunder_oom 0\n"), None);
        assert_eq!(parse_events("oom_killer 1\n"), None);
    }

    #[test]
    fn limits_read_as_the_kernel_writes_them() {
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("50331648\n"), Some(48 << 20));
        assert_eq!(parse_limit("9223372036854771712\n"), None);
        assert_eq!(show_bytes(48 << 20), "48 MiB");
        assert_eq!(show_bytes(2 << 30), "2 GiB");
        assert_eq!(show_bytes(1536 << 10), "1536 KiB");
        assert_eq!(show_bytes(1000), "1000 bytes");
    }

    #[test]
    fn a_kill_is_described_with_limit_and_counter() {
        let k = OomKill {
            before: 0,
            after: 1,
            group_kills: 0,
            limit: Some(48 << 20),
        };
        assert_eq!(
            k.describe(),
            "the kernel's OOM killer (memory limit 48 MiB, oom_kill 0 -> 1)"
        );
        let k = OomKill {
            limit: None,
            group_kills: 1,
            ..k
        };
        assert!(
            k.describe().contains("no memory limit found"),
            "{}",
            k.describe()
        );
        assert!(
            k.describe().ends_with("oom_group_kill +1)"),
            "{}",
            k.describe()
        );
    }

    /// A cgroup laid out as the kernel does, in a temporary directory.
    fn fake(version: Version, kill: u64) -> (MemCg, PathBuf) {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let top =
            std::env::temp_dir().join(format!("pidone-memcg-fake-{}-{n}", std::process::id()));
        let dir = top.join("app");
        fs::create_dir_all(&dir).unwrap();
        let cg = MemCg {
            version,
            dir: dir.clone(),
            top: top.clone(),
            start: Counters::default(),
            seen: Counters::default(),
            event: None,
            _control: None,
            pending: None,
        };
        set(&cg, kill, 0);
        (cg, top)
    }

    fn set(cg: &MemCg, kill: u64, group: u64) {
        match cg.version {
            Version::V2 => fs::write(
                cg.dir.join("memory.events"),
                format!(
                    "low 0\nhigh 0\nmax 3\noom {kill}\noom_kill {kill}\noom_group_kill {group}\n"
                ),
            ),
            Version::V1 => fs::write(
                cg.dir.join("memory.oom_control"),
                format!("oom_kill_disable 0\nunder_oom 0\noom_kill {kill}\n"),
            ),
        }
        .unwrap();
    }

    #[test]
    fn a_reap_claims_one_counted_kill_at_a_time_and_no_more() {
        for version in [Version::V1, Version::V2] {
            let (mut cg, top) = fake(version, 0);
            // No kill counted: a SIGKILL from anyone else is not an OOM kill.
            assert_eq!(cg.claim(), None);
            set(&cg, 2, 0);
            let first = cg.claim().expect("first kill");
            assert_eq!((first.before, first.after), (0, 2));
            let second = cg.claim().expect("second kill");
            assert_eq!((second.before, second.after), (1, 2));
            assert_eq!(cg.claim(), None);
            assert_eq!(cg.on_deadline(), None);
            assert_eq!(cg.total(), 2);
            let _ = fs::remove_dir_all(top);
        }
    }

    #[test]
    fn kills_no_reap_claimed_are_reported_at_the_deadline() {
        let (mut cg, top) = fake(Version::V2, 0);
        set(&cg, 1, 0);
        cg.on_event();
        let due = cg.deadline().expect("a rise waits for a reap");
        assert!(due > Instant::now() && due <= Instant::now() + SETTLE);
        let kill = cg.on_deadline().expect("reported");
        assert_eq!((kill.before, kill.after), (0, 1));
        assert_eq!(cg.deadline(), None);
        // A later SIGKILL death is not this kill again.
        assert_eq!(cg.claim(), None);
        let _ = fs::remove_dir_all(top);
    }

    #[test]
    fn without_an_event_source_a_wake_looks_and_with_one_it_does_not() {
        let (mut cg, top) = fake(Version::V1, 0);
        set(&cg, 1, 0);
        cg.on_wake();
        assert!(cg.deadline().is_some(), "a wake should notice the rise");
        assert_eq!(cg.on_deadline().map(|k| k.after), Some(1));
        set(&cg, 2, 0);
        // With an event source the event, not any wake, is what looks.
        cg.event = Some(OwnedFd::from(fs::File::open("/dev/null").unwrap()));
        cg.on_wake();
        assert_eq!(cg.deadline(), None);
        let _ = fs::remove_dir_all(top);
    }

    #[test]
    fn v2_events_without_an_oom_set_no_deadline() {
        let (mut cg, top) = fake(Version::V2, 0);
        // memory.high / memory.max events change the file too.
        fs::write(
            cg.dir.join("memory.events"),
            "low 0\nhigh 40\nmax 7\noom 0\noom_kill 0\noom_group_kill 0\n",
        )
        .unwrap();
        cg.on_event();
        assert_eq!(cg.deadline(), None);
        let _ = fs::remove_dir_all(top);
    }

    #[test]
    fn the_tightest_limit_up_the_tree_is_named() {
        let (cg, top) = fake(Version::V2, 0);
        fs::write(cg.dir.join("memory.max"), "max\n").unwrap();
        fs::write(top.join("memory.max"), "100663296\n").unwrap();
        assert_eq!(cg.limit(), Some(96 << 20));
        fs::write(cg.dir.join("memory.max"), "50331648\n").unwrap();
        assert_eq!(cg.limit(), Some(48 << 20));
        let _ = fs::remove_dir_all(top);
    }
}
