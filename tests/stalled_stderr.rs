//! Nothing init writes can delay a deadline. With stderr a pipe whose reader is stopped,
//! a terminal stopped with Ctrl-S or never read, or a socket nobody reads, and a child
//! that ignores SIGTERM: init still sends the SIGKILL when the grace period ends, exits
//! 137 on time and leaves nothing behind; the child's stderr stays exactly as it was
//! (blocking: its own writes still block); a line init could not write is dropped whole,
//! and the next line that gets through says how many were lost.

mod common;

use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Init, Mode, ProcInfo, Running, TempDir, is_root, py, still_exists};
use libc::{SIGCONT, SIGHUP, SIGSTOP, SIGTERM, SIGUSR1};

/// The grace period of every run here.
const GRACE: Duration = Duration::from_secs(1);
/// How late the exit may come after the grace period (a loaded 2-core machine).
const SLACK: Duration = Duration::from_millis(1500);

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: pipe2 returned two new descriptors that nothing else owns.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A reader of `read` (a `cat` into a file) that is stopped at once: a stalled log
/// shipper. [`Reader::resume`] lets it read again; [`Reader::finish`] returns all it read.
struct Reader {
    cat: Child,
    out: std::path::PathBuf,
    _dir: TempDir,
}

impl Reader {
    fn stopped(read: OwnedFd) -> Reader {
        let dir = TempDir::new("stalled-reader");
        let out = dir.join("read");
        let cat = Command::new("cat")
            .stdin(Stdio::from(read))
            .stdout(fs::File::create(&out).expect("create the reader's file"))
            .spawn()
            .expect("start cat");
        assert!(common::kill(cat.id() as i32, SIGSTOP), "stop the reader");
        Reader {
            cat,
            out,
            _dir: dir,
        }
    }

    fn resume(&self) {
        assert!(
            common::kill(self.cat.id() as i32, SIGCONT),
            "resume the reader"
        );
    }

    fn read_so_far(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.out).unwrap_or_default()).into_owned()
    }

    /// Resumes the reader, waits for its end of file (every writer gone), and returns
    /// what it read.
    fn finish(mut self) -> String {
        self.resume();
        let deadline = Instant::now() + common::TIMEOUT;
        while self.cat.try_wait().ok().flatten().is_none() {
            assert!(
                Instant::now() < deadline,
                "the reader never saw end of file"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.read_so_far()
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.cat.kill();
        let _ = self.cat.wait();
    }
}

/// Init with `-vv` (a line for every forwarded signal), `-t 1s`, and `stall.py` as the
/// child, on `stderr`; returns once the child's own stderr writes block.
fn stalled(mode: Mode, stderr: OwnedFd) -> Running {
    let run = Init::new(mode)
        .args(["-vv", "-t", "1s", "--"])
        .args(py("stall.py", &[]))
        .stderr_to(stderr)
        .spawn();
    let line = run.wait_for_line("`blocked ...` from the child", common::TIMEOUT, |l| {
        l.starts_with("blocked ")
    });
    if !line.contains("nonblock=False") {
        run.fail("the child's stderr must be blocking, as it was given");
    }
    run
}

/// Sends USR1 while stderr is stalled (init forwards it and tries to log that), checks
/// that the child's stderr is still blocking afterwards, then TERM: the child ignores
/// it, and init must SIGKILL it when the grace period ends and exit 137 on time, with
/// nothing left behind.
fn stops_on_time(run: Running) {
    run.signal(SIGUSR1);
    let line = run.wait_for_line("`usr1 ...` from the child", common::TIMEOUT, |l| {
        l.starts_with("usr1 ")
    });
    if !line.contains("nonblock=False") {
        run.fail("init changed the blocking mode of the stderr it shares with the child");
    }
    stop_on_time(run);
}

/// TERM, which the child ignores: init must SIGKILL it when the grace period ends and
/// exit 137 on time, with nothing left behind.
fn stop_on_time(run: Running) {
    let tree: Vec<ProcInfo> = run.processes_below_init();
    if tree.is_empty() {
        run.fail("no process below init to stop");
    }
    let term = Instant::now();
    run.signal(SIGTERM);
    let done = run.wait_timeout(GRACE + SLACK + Duration::from_secs(10));
    let took = term.elapsed();
    done.assert_code(137);
    if took < GRACE || took > GRACE + SLACK {
        done.fail(&format!(
            "init exited {took:?} after SIGTERM: the grace period is {GRACE:?} (allowed: up \
             to {SLACK:?} more)"
        ));
    }
    for p in tree {
        if still_exists(p.pid, p.start_time) {
            done.fail(&format!("process {} ({}) outlived init", p.pid, p.comm));
        }
    }
}

#[test]
fn a_stopped_pipe_reader_delays_neither_the_sigkill_nor_the_exit() {
    for mode in Mode::ALL {
        let (read, write) = pipe();
        let reader = Reader::stopped(read);
        stops_on_time(stalled(mode, write));
        drop(reader);
    }
}

#[test]
fn lines_lost_to_a_stalled_pipe_are_dropped_whole_and_counted_in_the_next() {
    let (read, write) = pipe();
    let reader = Reader::stopped(read);
    let run = stalled(Mode::Pid1, write);
    run.signal(SIGUSR1);
    run.wait_for_line("`usr1 ...` from the child", common::TIMEOUT, |l| {
        l.starts_with("usr1 ")
    });
    // init logs `forwarded SIGUSR1` right after the kill the child saw; once init sleeps
    // in ppoll again, that line has been tried (and dropped: the pipe is full).
    wait_asleep(&run);
    reader.resume();
    run.wait_for_line("`resumed` from the child", common::TIMEOUT, |l| {
        l == "resumed"
    });
    run.signal(SIGHUP);
    run.wait_for_line("`hup` from the child", common::TIMEOUT, |l| l == "hup");
    let seen = common::poll_until(common::TIMEOUT, || {
        reader.read_so_far().contains("forwarded SIGHUP")
    });
    if !seen {
        run.fail(&format!(
            "init's `forwarded SIGHUP` line never reached the resumed reader; it read: {}",
            tail(&reader.read_so_far())
        ));
    }
    run.signal(SIGTERM);
    let done = run.wait_timeout(GRACE + SLACK + Duration::from_secs(10));
    done.assert_code(137);
    let text = reader.finish();
    // Every line is whole: one of the child's, or one of init's.
    for line in text.lines() {
        let childs = line.len() == 3999 && line.bytes().all(|b| b == b'x');
        if !childs && !line.starts_with("init: ") {
            done.fail(&format!(
                "a torn or mixed line reached the reader: {line:?}"
            ));
        }
    }
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("init: ")).collect();
    if lines.iter().any(|l| l.contains("forwarded SIGUSR1")) {
        done.fail(&format!(
            "the line logged while the pipe was full should have been dropped: {lines:?}"
        ));
    }
    let hup = lines
        .iter()
        .position(|l| l.contains("forwarded SIGHUP"))
        .unwrap_or_else(|| done.fail("no `forwarded SIGHUP` line"));
    let notice = hup.checked_sub(1).and_then(|i| lines.get(i)).copied();
    if notice != Some("init: WARN 1 log line dropped: stderr was not writable") {
        done.fail(&format!(
            "the first line through after the stall should say one line was dropped; init's \
             lines: {lines:?}"
        ));
    }
}

/// A pseudo-terminal: (master, slave).
fn pty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors; the name, termios and winsize are null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two new descriptors that nothing else owns.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

#[test]
fn a_terminal_stopped_with_ctrl_s_delays_neither_the_sigkill_nor_the_exit() {
    for mode in Mode::ALL {
        let (master, slave) = pty();
        // Ctrl-S typed at the terminal (IXON is on by default): output stops.
        // SAFETY: writes one byte from a live buffer.
        assert_eq!(
            unsafe { libc::write(master.as_raw_fd(), b"\x13".as_ptr().cast(), 1) },
            1
        );
        stops_on_time(stalled(mode, slave));
        drop(master);
    }
}

#[test]
fn a_terminal_nobody_reads_delays_neither_the_sigkill_nor_the_exit() {
    for mode in Mode::ALL {
        let (master, slave) = pty();
        stops_on_time(stalled(mode, slave));
        drop(master);
    }
}

#[test]
fn a_socket_nobody_reads_delays_neither_the_sigkill_nor_the_exit() {
    for mode in Mode::ALL {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors socketpair writes.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        assert_eq!(rc, 0);
        // SAFETY: socketpair returned two new descriptors that nothing else owns.
        let (ours, theirs) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        stops_on_time(stalled(mode, theirs));
        drop(ours);
    }
}

/// A non-root init may not reopen a pipe root created (`/proc/self/fd/2` is refused with
/// EACCES), as with Docker's and podman's pipes and `USER 65532`: its writes must not
/// block either. The pipe is full before init starts; the child is a shell.
#[test]
fn a_nonroot_init_on_a_full_root_owned_pipe_still_stops_on_time() {
    if !is_root() {
        common::skip("only root can run init as uid 65532 on a pipe root owns");
        return;
    }
    let dir = TempDir::new("nonroot-stall");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.join("init");
    fs::copy(common::init_bin(), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let setpriv = [
        "setpriv",
        "--reuid=65532",
        "--regid=65532",
        "--clear-groups",
    ];
    // A plain non-root process (a subreaper), and the PID 1 of a non-root user's
    // container (its own user and PID namespaces).
    let userns_pid1 = [
        "unshare",
        "--user",
        "--map-current-user",
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
    ];
    for wrap in [&setpriv[..], &[&setpriv[..], &userns_pid1[..]].concat()] {
        let (read, write) = pipe();
        let _reader = Reader::stopped(read);
        fill(&write);
        let run = Init::new(Mode::Subreaper)
            .wrap(wrap)
            .program(&bin)
            .args(["-vv", "-t", "1s", "--", "sh", "-c"])
            .arg("trap '' TERM; trap 'echo hup' HUP; echo ready; while :; do sleep 1; done")
            .stderr_to(write)
            .spawn();
        run.wait_for_line("`ready`", common::TIMEOUT, |l| l == "ready");
        // A forwarded signal init logs (and must drop) before the stop.
        run.signal(SIGHUP);
        run.wait_for_line("`hup`", common::TIMEOUT, |l| l == "hup");
        stop_on_time(run);
    }
}

/// Fills a pipe until a write would block.
fn fill(write: &OwnedFd) {
    let fd = write.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above; the pipe is ours alone at this point.
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    let chunk = [b'x'; 4096];
    // SAFETY: writes from a live buffer of its length.
    while unsafe { libc::write(fd, chunk.as_ptr().cast(), chunk.len()) } > 0 {}
    // SAFETY: as above: the description goes back to blocking, as a runtime gives it.
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags) };
}

/// Waits until init sleeps in ppoll(2) (`/proc/PID/syscall` names the call it blocks in).
fn wait_asleep(run: &Running) {
    let pid = run.init_pid();
    let ok = common::poll_until(common::TIMEOUT, || {
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/syscall")) else {
            return false;
        };
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let sleeping = stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('S'));
        sleeping && text.split_whitespace().next() == Some(&libc::SYS_ppoll.to_string())
    });
    if !ok {
        run.fail("init never went back to sleep in ppoll");
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("init")).collect();
    format!("{:?}", &lines[lines.len().saturating_sub(5)..])
}
