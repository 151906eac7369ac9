//! Shared harness for init's integration tests: real process trees, real PID 1.
//!
//! Every test file that needs it says `mod common;`. What it gives:
//!
//! - [`Init`]: a builder for one run of the binary under test, either as PID 1 of a
//!   fresh PID namespace ([`Mode::Pid1`], through `unshare --pid --fork --mount-proc`,
//!   plus `--user --map-root-user` when not root) or as a plain process
//!   ([`Mode::Subreaper`]). A `wrap` prefix (a shell that traps signals, a pty
//!   driver, ...) can run in front of it.
//! - [`Running`]: a live run. Output is collected by reader threads; every wait
//!   polls with a deadline ([`TIMEOUT`] unless told) and, when the deadline passes,
//!   panics with the command, status, stdout and stderr. Dropping it SIGKILLs the
//!   whole process tree (init, everything below it, and any pid handed to
//!   [`Running::watch_pid`]), so no test leaves a process behind, pass or fail.
//!   Each run starts in a session of its own, so even a process that escaped
//!   init's tree (re-parented to the host's PID 1) is found by its session id.
//! - [`Finished`]: exit status, output and elapsed time of a run that ended, with
//!   assertions that print everything on failure.
//! - [`proc_tree`] / [`ProcInfo`]: a snapshot of `/proc` (pid, ppid, session, state,
//!   comm, start time, innermost namespace pid) to look for zombies and leftovers.
//! - Synchronising on what is observable, never on sleeps: [`Running::wait_for_line`]
//!   and [`Running::wait_for_stderr_line`] (e.g. init's `-v` lines),
//!   [`Running::wait_pid_line`], and [`Running::settle`], a barrier (a real-time
//!   [`marker`] signal) after which every standard signal sent before it has been
//!   handled by init and recorded by the child if init forwarded it: the way to show
//!   that a signal was *not* forwarded. [`Running::signal`] first waits until init has
//!   blocked its signals ([`signals_blocked`]): an earlier SIGTERM would kill a plain
//!   init, or be dropped by a namespace's PID 1.
//! - [`Running::assert_not_scheduled`] ([`context_switches`]): no wake-ups while idle.
//! - Other users and namespaces: [`as_nonroot`] and [`NonrootFiles`] (uid 65532),
//!   [`rootless_namespace_prefix`] (a rootless container's user and PID namespaces),
//!   [`nsenter`] (into a run's namespaces), [`refusing_prctl`] (a seccomp filter that
//!   makes prctl refuse the subreaper or a parent-death signal).
//! - [`skip`]: a test that cannot run its scenario on this machine fails, unless
//!   `INIT_TEST_ALLOW_SKIP=1` ([`ALLOW_SKIP`]); then it prints `SKIPPED` past the capture.
//! - [`ClosedPort`]: a port that refuses connections and that nobody else can take.
//! - [`MemCgroup`]: a memory cgroup with a small limit (real OOM kills), removed on drop.
//!
//! The binary under test is `$INIT_BIN` when set, else the crate's `init`. Fixture
//! programs live in `tests/fixtures/` and run under the real `python3` from `PATH`
//! (resolved once, so a pyenv shim does not sit between init and the fixture):
//! `signals.py` (the signal recorder: `ready (pid: N)`, then `got N NAME from PID`
//! per signal), `orphans.py` (orphans and daemons for init to adopt), `fds.py`
//! (inherited descriptors), `pty_driver.py` (a terminal and a user typing Ctrl-C),
//! `json_lines.py` (checks JSON log lines) and `deny_prctl.py` (the seccomp filter). Each says how to use it at its top.
//! The `INIT_*`, `TINI_*` and `LOG_FORMAT` variables of the test's own environment
//! are removed from every run, so only what a test sets is seen.
#![allow(dead_code)] // each test crate uses its own part of the harness

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Default deadline for any single wait. Generous: the suite runs tests in parallel
/// on a 2-core machine.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How often waits poll.
const POLL: Duration = Duration::from_millis(10);

/// How init is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// PID 1 of a fresh PID namespace (`unshare --pid --fork --mount-proc`).
    Pid1,
    /// A plain child of the test: not PID 1, so init is a child subreaper.
    Subreaper,
}

impl Mode {
    /// Both modes, for tests that must hold in each.
    pub const ALL: [Mode; 2] = [Mode::Pid1, Mode::Subreaper];
}

/// The binary under test: `$INIT_BIN`, else the crate's `init`.
pub fn init_bin() -> PathBuf {
    match std::env::var_os("INIT_BIN") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_pidone")),
    }
}

/// A fixture program in `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    assert!(path.exists(), "fixture {} is missing", path.display());
    path
}

/// The real python3 interpreter (not a shim), resolved once from `PATH`.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run python3 from PATH: {e}"));
        assert!(
            out.status.success(),
            "python3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// `[python, tests/fixtures/NAME, ARGS...]`: a fixture as a command line.
pub fn py(name: &str, args: &[&str]) -> Vec<OsString> {
    let mut cmd = vec![python().into(), fixture(name).into()];
    cmd.extend(args.iter().map(OsString::from));
    cmd
}

/// `unshare` with a new PID namespace whose PID 1 is the next program, a `/proc` of its
/// own, and that PID 1 killed when unshare dies.
const UNSHARE_PID: [&str; 5] = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"];

/// Words in front of a run that make prctl(2) refuse what `flags` name, with EINVAL, for
/// everything below: `["--subreaper"]`, `["--pdeathsig", "12"]` (see
/// `tests/fixtures/deny_prctl.py`, a seccomp filter).
pub fn refusing_prctl(flags: &[&str]) -> Vec<OsString> {
    let mut words = py("deny_prctl.py", flags);
    words.push("--".into());
    words
}

/// The `unshare` prefix that makes the next program PID 1 of a new PID namespace.
///
/// Checked once by running `true` through it. When it does not work (not root and no
/// unprivileged user namespaces) every PID-1 test fails here with the reason; PID-1
/// behaviour is never skipped silently.
pub fn namespace_prefix() -> &'static [OsString] {
    static PREFIX: OnceLock<Result<Vec<OsString>, String>> = OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let base = UNSHARE_PID;
        let user = ["--user", "--map-root-user"];
        let root = nix::unistd::geteuid().is_root();
        let mut tries: Vec<Vec<&str>> = vec![base.to_vec(), [&base[..], &user[..]].concat()];
        if !root {
            tries.reverse();
        }
        let mut errors = String::new();
        for args in tries {
            match Command::new(args[0])
                .args(&args[1..])
                .arg("true")
                .stdin(Stdio::null())
                .output()
            {
                Ok(out) if out.status.success() => {
                    return Ok(args.into_iter().map(OsString::from).collect());
                }
                Ok(out) => {
                    let _ = writeln!(
                        errors,
                        "  `{} true`: {}: {}",
                        args.join(" "),
                        out.status,
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                }
                Err(e) => {
                    let _ = writeln!(errors, "  `{} true`: {e}", args.join(" "));
                }
            }
        }
        Err(errors)
    });
    match prefix {
        Ok(args) => args,
        Err(errors) => panic!(
            "cannot run init as PID 1 of a new PID namespace; these PID-1 tests need \
             `unshare` with root or unprivileged user namespaces:\n{errors}"
        ),
    }
}

/// A rootless container's namespaces: a new user namespace that maps only the current
/// uid (so a non-root user stays that uid, without capabilities), and in it a PID
/// namespace whose PID 1 is the next program.
pub fn rootless_namespace_prefix() -> Vec<OsString> {
    let mut words: Vec<OsString> = vec![UNSHARE_PID[0].into(), "--user".into()];
    words.push("--map-current-user".into());
    words.extend(UNSHARE_PID[1..].iter().map(OsString::from));
    words
}

/// The unprivileged uid (and gid) of distroless `nonroot` images.
pub const NONROOT: u32 = 65532;

/// Words that run the rest as uid/gid [`NONROOT`] with no supplementary groups. Only root
/// can switch users: otherwise the scenario cannot run here, and this returns `None`
/// after [`skip`] (which fails the test unless skips are allowed).
#[track_caller]
pub fn as_nonroot() -> Option<Vec<OsString>> {
    if !is_root() {
        skip(&format!("only root can run init as uid {NONROOT}"));
        return None;
    }
    Some(vec![
        "setpriv".into(),
        format!("--reuid={NONROOT}").into(),
        format!("--regid={NONROOT}").into(),
        "--clear-groups".into(),
    ])
}

/// The binary under test (as `init`) and the given files copied to a 0755 directory that
/// uid [`NONROOT`] can read and execute, whatever the permissions of `target/` and of the
/// checkout.
pub struct NonrootFiles {
    dir: TempDir,
}

impl NonrootFiles {
    pub fn new(extra: &[PathBuf]) -> NonrootFiles {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("nonroot");
        let mode = |path: &Path, bits| {
            fs::set_permissions(path, fs::Permissions::from_mode(bits))
                .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()))
        };
        mode(dir.path(), 0o755);
        let mut files = vec![(init_bin(), "init".to_string())];
        for path in extra {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            files.push((path.clone(), name.unwrap_or_default()));
        }
        for (from, to) in files {
            fs::copy(&from, dir.join(&to))
                .unwrap_or_else(|e| panic!("copy {} to {to}: {e}", from.display()));
            mode(&dir.join(&to), 0o755);
        }
        NonrootFiles { dir }
    }

    /// The copy of the binary under test.
    pub fn init(&self) -> PathBuf {
        self.dir.join("init")
    }

    /// A copied file, by name.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn dir(&self) -> &TempDir {
        &self.dir
    }
}

/// `nsenter` into the namespaces of `target` (a host pid) named by `flags` (`-p`, `-m`,
/// ...), ready for `.args(["--", program, ...])`. When `target` lives in another user
/// namespace (unshare's `--map-root-user` as non-root), that one is entered too, keeping
/// our credentials.
pub fn nsenter(target: i32, flags: &[&str]) -> Command {
    let mut cmd = Command::new("nsenter");
    cmd.arg("-t").arg(target.to_string()).args(flags);
    let userns = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/user")).ok();
    if userns("self") != userns(&target.to_string()) {
        cmd.args(["-U", "--preserve-credentials"]);
    }
    cmd
}

/// `program` as found on the test process's own `PATH` (unchanged when it holds a slash
/// or is not found there).
fn on_path(program: &OsStr) -> PathBuf {
    if program.as_bytes().contains(&b'/') {
        return PathBuf::from(program);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(program))
}

/// A unique, empty temporary directory, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("init-test-{}-{}-{label}", std::process::id(), n));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("create temp dir {}: {e}", path.display()));
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `content` to `name` with the given permission bits; returns its path.
    pub fn write(&self, name: &str, content: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.join(name);
        fs::write(&path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A builder for one run of init (or, with [`Init::program`], of another program
/// in exactly the same surroundings, as a baseline).
#[derive(Clone, Debug)]
pub struct Init {
    mode: Mode,
    wrapper: Vec<OsString>,
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin_null: bool,
    cwd: Option<PathBuf>,
    /// A descriptor to give the run as stderr instead of the collected pipe.
    stderr_fd: Option<Arc<std::os::fd::OwnedFd>>,
}

impl Init {
    pub fn new(mode: Mode) -> Init {
        Init {
            mode,
            wrapper: Vec::new(),
            program: init_bin(),
            args: Vec::new(),
            env: Vec::new(),
            stdin_null: true,
            cwd: None,
            stderr_fd: None,
        }
    }

    /// Gives the run `fd` as its stderr (a stalled pipe, a pty, a socket) instead of the
    /// pipe the harness reads; [`Running::stderr`] is then empty.
    pub fn stderr_to(mut self, fd: std::os::fd::OwnedFd) -> Init {
        self.stderr_fd = Some(Arc::new(fd));
        self
    }

    /// Runs `program` instead of init (same wrapper, namespace, env): a baseline.
    pub fn program(mut self, program: impl AsRef<Path>) -> Init {
        self.program = program.as_ref().to_path_buf();
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Init {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Init
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Init {
        self.env
            .push((key.into(), Some(value.as_ref().to_os_string())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Init {
        self.env.push((key.into(), None));
        self
    }

    /// Runs `prefix...` in front of the (unshare and) init command line; the prefix
    /// must run or exec the rest, e.g. `bash -c '...; exec "$@"' bash`.
    pub fn wrap<I, S>(mut self, prefix: I) -> Init
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.wrapper
            .extend(prefix.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Gives the run the test's own stdin instead of `/dev/null`.
    pub fn inherit_stdin(mut self) -> Init {
        self.stdin_null = false;
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Init {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    fn argv(&self) -> Vec<OsString> {
        let mut argv = self.wrapper.clone();
        if self.mode == Mode::Pid1 {
            argv.extend(namespace_prefix().iter().cloned());
        }
        argv.push(self.program.clone().into());
        argv.extend(self.args.iter().cloned());
        argv
    }

    fn describe(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.env {
            match value {
                Some(v) => {
                    let _ = write!(out, "{}={} ", key.to_string_lossy(), quote(v));
                }
                None => {
                    let _ = write!(out, "-u {} ", key.to_string_lossy());
                }
            }
        }
        let words: Vec<String> = self.argv().iter().map(|a| quote(a)).collect();
        out + &words.join(" ")
    }

    /// Starts the run; it is killed with everything below it when dropped.
    pub fn spawn(self) -> Running {
        let argv = self.argv();
        // The first word is found on the test's own PATH: a PATH the test sets is for
        // init and its command, not for the wrapper or unshare in front of them.
        let mut cmd = Command::new(on_path(&argv[0]));
        cmd.args(&argv[1..])
            .stdin(if self.stdin_null {
                Stdio::null()
            } else {
                Stdio::inherit()
            })
            .stdout(Stdio::piped())
            .stderr(match &self.stderr_fd {
                Some(fd) => Stdio::from(fd.try_clone().expect("dup the stderr fd")),
                None => Stdio::piped(),
            });
        for (key, _) in std::env::vars_os() {
            let k = key.as_bytes();
            if k.starts_with(b"INIT_") || k.starts_with(b"TINI_") || k == b"LOG_FORMAT" {
                cmd.env_remove(&key);
            }
        }
        for (key, value) in &self.env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        // SAFETY: setsid and prctl are async-signal-safe and touch no memory of
        // ours. The new session marks every process of the run, even an orphan a
        // broken init lets escape to the host's PID 1, so Drop can find and kill it.
        // PDEATHSIG makes the kernel SIGKILL the run if the test thread dies without
        // running Drop (e.g. the test binary is killed). Descriptors above 2 that the
        // test process itself inherited (from a shell, a CI agent) are made
        // close-on-exec: init passes on everything it is given, so a run starts with
        // 0-2 only and the descriptors a test hands over on purpose. Signals the test
        // process was started with ignored (`nohup` ignores HUP, a shell's background
        // job INT and QUIT) are set back to default: init passes its ignored set on to
        // the child, and a run must not depend on how the test runner was started
        // (std already resets the mask and SIGPIPE). signal(2) is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 1u32 << 2);
                for sig in 1..libc::SIGRTMIN() {
                    if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                        libc::signal(sig, libc::SIG_DFL);
                    }
                }
                Ok(())
            });
        }
        let description = self.describe();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{description}`: {e}"));
        let stdout = Output::collect(child.stdout.take().expect("stdout is piped"));
        let stderr = match child.stderr.take() {
            Some(pipe) => Output::collect(pipe),
            None => Output::collect(std::io::empty()),
        };
        let comm: Vec<u8> = self
            .program
            .file_name()
            .map(|n| n.as_bytes().iter().take(15).copied().collect())
            .unwrap_or_default();
        Running {
            root: child.id() as i32,
            child,
            mode: self.mode,
            description,
            stdout,
            stderr,
            started: Instant::now(),
            program_comm: String::from_utf8_lossy(&comm).into_owned(),
            init_pid: OnceLock::new(),
            signals_ready: OnceLock::new(),
            watched: Mutex::new(Vec::new()),
            status: None,
        }
    }

    /// Starts the run and waits (up to [`TIMEOUT`]) for it to end.
    #[track_caller]
    pub fn run(self) -> Finished {
        self.spawn().wait()
    }
}

/// Bytes read from one of the run's pipes by a background thread.
struct Output {
    buf: Arc<Mutex<Vec<u8>>>,
    eof: Arc<AtomicBool>,
}

impl Output {
    fn collect(mut pipe: impl Read + Send + 'static) -> Output {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let eof = Arc::new(AtomicBool::new(false));
        let (b, e) = (buf.clone(), eof.clone());
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => b.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
            e.store(true, Ordering::SeqCst);
        });
        Output { buf, eof }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    fn at_eof(&self) -> bool {
        self.eof.load(Ordering::SeqCst)
    }
}

/// A live run. Dropping it kills the whole tree.
pub struct Running {
    child: Child,
    root: i32,
    mode: Mode,
    description: String,
    stdout: Output,
    stderr: Output,
    started: Instant,
    program_comm: String,
    init_pid: OnceLock<i32>,
    signals_ready: OnceLock<()>,
    watched: Mutex<Vec<(i32, u64)>>,
    status: Option<ExitStatus>,
}

impl Running {
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The pid of the process the test started (unshare, a wrapper, or init itself).
    pub fn root_pid(&self) -> i32 {
        self.root
    }

    /// Init's pid as the test sees it (the host PID namespace). In subreaper mode
    /// without a wrapper that is the started process; otherwise the shallowest
    /// descendant running the program (unshare's forked child, once it has exec'd).
    #[track_caller]
    pub fn init_pid(&self) -> i32 {
        *self.init_pid.get_or_init(|| {
            let deadline = Instant::now() + TIMEOUT;
            loop {
                if let Some(pid) = self.find_program() {
                    return pid;
                }
                if Instant::now() > deadline {
                    self.fail(&format!(
                        "no process running `{}` appeared below pid {}",
                        self.program_comm, self.root
                    ));
                }
                thread::sleep(POLL);
            }
        })
    }

    fn find_program(&self) -> Option<i32> {
        self.find_comm(&self.program_comm)
    }

    fn find_comm(&self, comm: &str) -> Option<i32> {
        let tree = proc_tree();
        let mut level = vec![self.root];
        while !level.is_empty() {
            for &pid in &level {
                if let Some(p) = tree.get(&pid) {
                    if p.comm == comm && p.state != 'Z' {
                        return Some(pid);
                    }
                }
            }
            level = tree
                .values()
                .filter(|p| level.contains(&p.ppid))
                .map(|p| p.pid)
                .collect();
        }
        None
    }

    /// Waits until init has blocked its signals (see [`signals_blocked`]): from then on a
    /// signal sent to it is queued for its loop. Before that, a SIGTERM kills a plain init
    /// (default action) and is dropped by a namespace's PID 1 (which the kernel protects
    /// from signals it has no handler for), so a test that signals init early would see
    /// either. [`Running::signal`] calls this before its first signal; a test that signals
    /// init some other way (e.g. [`kill`] in a storm) calls it first.
    #[track_caller]
    pub fn wait_signals_blocked(&self) {
        let pid = self.init_pid();
        self.signals_ready.get_or_init(|| {
            if !poll_until(TIMEOUT, || signals_blocked(pid)) {
                self.fail(&format!(
                    "init ({pid}) did not block its signals within {TIMEOUT:?} (SigBlk: {:?}, \
                     wchan: {:?})",
                    status_field(pid, "SigBlk"),
                    fs::read_to_string(format!("/proc/{pid}/wchan")).ok()
                ));
            }
        });
    }

    /// Fails unless `pid` (init, in the host's view) is scheduled at most `allowed` times
    /// while `watch` passes: an idle init has no timer and polls nothing. Fails too when
    /// `/proc` cannot tell (a check that cannot look must not pass).
    #[track_caller]
    pub fn assert_not_scheduled(&self, pid: i32, watch: Duration, allowed: u64, what: &str) {
        let before = context_switches(pid)
            .unwrap_or_else(|| self.fail(&format!("{what}: no context switch counts for {pid}")));
        thread::sleep(watch);
        let after = context_switches(pid)
            .unwrap_or_else(|| self.fail(&format!("{what}: no context switch counts for {pid}")));
        if after > before + allowed {
            self.fail(&format!(
                "{what}: init was scheduled {} times in {watch:?} with nothing to do \
                 (at most {allowed} allowed)",
                after - before
            ));
        }
    }

    /// Sends `sig` to init (not to unshare or a wrapper), once init has blocked its
    /// signals ([`Running::wait_signals_blocked`]).
    #[track_caller]
    pub fn signal(&self, sig: i32) {
        self.wait_signals_blocked();
        let pid = self.init_pid();
        // SAFETY: kill(2) has no memory-safety preconditions; pid is init's.
        if unsafe { libc::kill(pid, sig) } != 0 {
            let err = std::io::Error::last_os_error();
            self.fail(&format!("kill({pid}, {sig}) failed: {err}"));
        }
    }

    /// Sends `sig` to an arbitrary pid of the tree (host pid).
    #[track_caller]
    pub fn signal_pid(&self, pid: i32, sig: i32) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        if unsafe { libc::kill(pid, sig) } != 0 {
            let err = std::io::Error::last_os_error();
            self.fail(&format!("kill({pid}, {sig}) failed: {err}"));
        }
    }

    /// Kills the started process (unshare or a wrapper) with SIGKILL and reaps it,
    /// leaving what runs below it alive (watched, so Drop still cleans up).
    pub fn kill_root(&mut self) {
        let init = self.init_pid();
        self.watch_pid(init);
        let _ = self.child.kill();
        self.status = self.child.wait().ok();
    }

    /// Makes Drop kill `pid` (host pid) too, if it is still the same process.
    pub fn watch_pid(&self, pid: i32) {
        if let Some(p) = proc_info(pid) {
            self.watched.lock().unwrap().push((pid, p.start_time));
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.text()
    }

    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Waits until a stdout line satisfies `pred`; returns it. `what` says what is
    /// awaited in the failure message.
    #[track_caller]
    pub fn wait_for_line(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        self.wait_for_output_line(&self.stdout, "stdout", what, timeout, pred)
    }

    /// Waits until a stderr line (init's log, or the child's own stderr) satisfies
    /// `pred`; returns it. E.g. init's `-v` line `holding SIGTERM for the pre-stop delay`.
    #[track_caller]
    pub fn wait_for_stderr_line(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        self.wait_for_output_line(&self.stderr, "stderr", what, timeout, pred)
    }

    #[track_caller]
    fn wait_for_output_line(
        &self,
        output: &Output,
        name: &str,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let find = |pred: &dyn Fn(&str) -> bool| {
            output
                .text()
                .lines()
                .map(|l| l.trim_end_matches('\r'))
                .find(|l| pred(l))
                .map(str::to_string)
        };
        loop {
            if let Some(line) = find(&pred) {
                return line;
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "timed out after {timeout:?} waiting for {what} on {name}"
                ));
            }
            if output.at_eof() {
                // Nothing more will come; give a last read a moment, then give up.
                thread::sleep(POLL);
                if let Some(line) = find(&pred) {
                    return line;
                }
                self.fail(&format!("{name} closed while waiting for {what}"));
            }
            thread::sleep(POLL);
        }
    }

    /// Waits for the fixture line `KIND (pid: N)` (e.g. `daemon (pid: 12)`) and
    /// returns N, the pid as the fixture sees it (its own PID namespace).
    #[track_caller]
    pub fn wait_pid_line(&self, kind: &str) -> i32 {
        let prefix = format!("{kind} (pid: ");
        let line = self.wait_for_line(&format!("`{prefix}N)`"), TIMEOUT, |l| {
            l.starts_with(&prefix)
        });
        parse_pid(&line, &prefix).unwrap_or_else(|| self.fail(&format!("bad line {line:?}")))
    }

    /// Sends the [`marker`] signal to init and waits until `tag` has recorded it (once
    /// more than before). Because the kernel hands a process its lowest-numbered pending
    /// signal first and the marker is real-time (above every standard signal), this is a
    /// barrier: every standard signal sent to init before this call has been taken by
    /// init, handled, and, if init forwarded it, recorded by `tag` by the time this
    /// returns. Use it to show that a signal was NOT forwarded (dropped, CHLD, held).
    #[track_caller]
    pub fn settle(&self, tag: &str) {
        let marker = marker();
        let count = |run: &Running| {
            run.signals_seen(tag)
                .iter()
                .filter(|&&s| s == marker)
                .count()
        };
        let before = count(self);
        self.signal(marker);
        let deadline = Instant::now() + TIMEOUT;
        while count(self) <= before {
            if Instant::now() > deadline {
                self.fail(&format!(
                    "timed out after {TIMEOUT:?} waiting for {} to record the marker {}",
                    if tag.is_empty() { "the child" } else { tag },
                    signal_name(marker)
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// The host pid of the shallowest live process at or below the started one whose
    /// `comm` is `comm` (cut to 15 bytes, as the kernel does), once one appears: e.g.
    /// init when a wrapper or fixture execs into it, so [`Running::init_pid`] (which looks
    /// for the started program's name) cannot find it.
    #[track_caller]
    pub fn wait_for_comm(&self, comm: &str) -> i32 {
        let comm: String = comm.chars().take(15).collect();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(pid) = self.find_comm(&comm) {
                return pid;
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "no process running `{comm}` appeared below pid {}",
                    self.root
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// Waits for the fixture line `[TAG ]ready (pid: N)` and returns N (the pid in
    /// the fixture's own PID namespace). `tag` "" is the untagged main child.
    #[track_caller]
    pub fn wait_ready(&self, tag: &str) -> i32 {
        let prefix = tagged(tag, "ready (pid: ");
        let line = self.wait_for_line(&format!("`{prefix}N)`"), TIMEOUT, |l| {
            l.starts_with(&prefix)
        });
        parse_pid(&line, &prefix).unwrap_or_else(|| self.fail(&format!("bad line {line:?}")))
    }

    /// Waits for the recorder line saying `tag` got signal `sig`.
    #[track_caller]
    pub fn wait_for_signal(&self, tag: &str, sig: i32) {
        let prefix = tagged(tag, &format!("got {sig} "));
        self.wait_for_line(
            &format!("`{prefix}...` ({} received)", signal_name(sig)),
            TIMEOUT,
            |l| l.starts_with(&prefix),
        );
    }

    /// Signals `tag` has recorded so far, in order.
    pub fn signals_seen(&self, tag: &str) -> Vec<i32> {
        recorded_signals(&self.stdout(), tag)
    }

    /// The host pid of the process below this run whose innermost namespace pid is
    /// `ns_pid` (what a fixture prints), e.g. to look it up in `/proc`.
    #[track_caller]
    pub fn host_pid(&self, ns_pid: i32) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let tree = proc_tree();
            let below = descendants(&tree, &[self.root, self.init_pid()]);
            if let Some(p) = below
                .iter()
                .filter_map(|pid| tree.get(pid))
                .find(|p| p.ns_pid == ns_pid)
            {
                return p.pid;
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "no process with namespace pid {ns_pid} below init"
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// Live processes (not zombies) below init, from the test's point of view.
    pub fn processes_below_init(&self) -> Vec<ProcInfo> {
        let tree = proc_tree();
        descendants(&tree, &[self.init_pid()])
            .into_iter()
            .filter_map(|pid| tree.get(&pid).cloned())
            .collect()
    }

    /// Zombies below init right now (children init has not reaped yet, and theirs).
    pub fn zombies_below_init(&self) -> Vec<ProcInfo> {
        self.processes_below_init()
            .into_iter()
            .filter(|p| p.state == 'Z')
            .collect()
    }

    /// Non-blocking: has the started process ended?
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits up to [`TIMEOUT`] for the run to end.
    #[track_caller]
    pub fn wait(self) -> Finished {
        self.wait_timeout(TIMEOUT)
    }

    /// Waits up to `timeout` for the run to end; on timeout kills it and panics with
    /// everything known.
    #[track_caller]
    pub fn wait_timeout(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.try_status() {
                break status;
            }
            if Instant::now() > deadline {
                self.fail(&format!("did not exit within {timeout:?}"));
            }
            thread::sleep(POLL);
        };
        let elapsed = self.started.elapsed();
        // The pipes close when the last writer is gone; a process that outlived init
        // holds them open, so do not wait for that forever.
        let pipes = Instant::now() + Duration::from_secs(2);
        while !(self.stdout.at_eof() && self.stderr.at_eof()) && Instant::now() < pipes {
            thread::sleep(POLL);
        }
        Finished {
            status,
            stdout: self.stdout(),
            stderr: self.stderr(),
            description: self.description.clone(),
            elapsed,
        }
    }

    /// Panics with `msg`, the command line, status, stdout and stderr.
    #[track_caller]
    pub fn fail(&self, msg: &str) -> ! {
        let status = match self.status {
            Some(s) => format!("{s}"),
            None => "still running".to_string(),
        };
        panic!(
            "{}",
            report(
                msg,
                &self.description,
                &status,
                self.started.elapsed(),
                &self.stdout(),
                &self.stderr()
            )
        );
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let watched: Vec<i32> = {
            let list = self.watched.lock().unwrap_or_else(|e| e.into_inner());
            list.iter()
                .filter(|(pid, start)| proc_info(*pid).is_some_and(|p| p.start_time == *start))
                .map(|(pid, _)| *pid)
                .collect()
        };
        let mut roots = vec![self.root];
        roots.extend(watched.iter().copied());
        // Kill until nothing live is left below the roots or in the run's session
        // (the root's pid): a subreaper init adopts what its killed children leave,
        // and what escaped it still carries the session id, so repeat.
        for _ in 0..200 {
            let tree = proc_tree();
            let mut live: Vec<i32> = descendants(&tree, &roots);
            live.extend(
                tree.values()
                    .filter(|p| p.session == self.root && !roots.contains(&p.pid))
                    .map(|p| p.pid),
            );
            live.retain(|pid| tree.get(pid).is_some_and(|p| p.state != 'Z'));
            if live.is_empty() {
                break;
            }
            for pid in live {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            thread::sleep(Duration::from_millis(2));
        }
        for pid in watched {
            // SAFETY: as above; pid was checked to be the same process just now.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A run that has ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub description: String,
    /// From spawn to exit.
    pub elapsed: Duration,
}

impl Finished {
    /// The exit code; fails the test when the run was killed by a signal instead.
    #[track_caller]
    pub fn code(&self) -> i32 {
        match self.status.code() {
            Some(code) => code,
            None => self.fail(&format!(
                "expected an exit code, but the run was killed by signal {:?}",
                self.status.signal()
            )),
        }
    }

    /// Asserts the exit code is `expected`.
    #[track_caller]
    pub fn assert_code(&self, expected: i32) -> &Finished {
        let code = self.code();
        if code != expected {
            self.fail(&format!("expected exit code {expected}, got {code}"));
        }
        self
    }

    /// Asserts stderr is empty (init is quiet by default).
    #[track_caller]
    pub fn assert_quiet(&self) -> &Finished {
        if !self.stderr.is_empty() {
            self.fail("expected nothing on stderr");
        }
        self
    }

    /// Non-empty stderr lines.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Signals `tag` recorded (see `tests/fixtures/signals.py`), in order.
    pub fn signals_seen(&self, tag: &str) -> Vec<i32> {
        recorded_signals(&self.stdout, tag)
    }

    /// Panics with `msg` and everything about the run.
    #[track_caller]
    pub fn fail(&self, msg: &str) -> ! {
        panic!(
            "{}",
            report(
                msg,
                &self.description,
                &format!("{}", self.status),
                self.elapsed,
                &self.stdout,
                &self.stderr
            )
        );
    }
}

/// The ripgrep-style failure report.
fn report(
    msg: &str,
    command: &str,
    status: &str,
    elapsed: Duration,
    stdout: &str,
    stderr: &str,
) -> String {
    format!(
        "\n\n{msg}\n\ncommand: {command}\nstatus: {status}\nelapsed: {elapsed:?}\n\n\
         stdout:\n{}\nstderr:\n{}\n",
        indent(stdout),
        indent(stderr)
    )
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    <empty>\n".to_string();
    }
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Shell-quotes a word for the failure report.
fn quote(word: &OsStr) -> String {
    let s = word.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn tagged(tag: &str, rest: &str) -> String {
    if tag.is_empty() {
        rest.to_string()
    } else {
        format!("{tag} {rest}")
    }
}

fn parse_pid(line: &str, prefix: &str) -> Option<i32> {
    line.strip_prefix(prefix)?.strip_suffix(')')?.parse().ok()
}

fn recorded_signals(stdout: &str, tag: &str) -> Vec<i32> {
    let prefix = tagged(tag, "got ");
    stdout
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix(&prefix))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect()
}

/// A readable name for a signal number, for messages.
pub fn signal_name(sig: i32) -> String {
    let rtmin = libc::SIGRTMIN();
    if (rtmin..=libc::SIGRTMAX()).contains(&sig) {
        return format!("SIGRTMIN+{}", sig - rtmin);
    }
    match nix::sys::signal::Signal::try_from(sig) {
        Ok(s) => s.as_str().to_string(),
        Err(_) => format!("signal {sig}"),
    }
}

/// One process, as read from `/proc/PID/stat` and `/proc/PID/status`.
#[derive(Clone, Debug)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    /// Session id (host pid of the session leader).
    pub session: i32,
    /// `R`, `S`, `Z`, ...
    pub state: char,
    pub comm: String,
    /// Clock ticks since boot; with `pid`, identifies a process across pid reuse.
    pub start_time: u64,
    /// The pid in the process's innermost PID namespace (last `NSpid` field).
    pub ns_pid: i32,
}

/// One process's info, if it exists.
pub fn proc_info(pid: i32) -> Option<ProcInfo> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // fields[0] is field 3 (state) of proc(5); starttime is field 22.
    let state = fields.first()?.chars().next()?;
    let ppid = fields.get(1)?.parse().ok()?;
    let session = fields.get(3)?.parse().ok()?;
    let start_time = fields.get(19)?.parse().ok()?;
    let ns_pid = fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .and_then(|l| l.split_whitespace().last()?.parse().ok())
        })
        .unwrap_or(pid);
    Some(ProcInfo {
        pid,
        ppid,
        session,
        state,
        comm,
        start_time,
        ns_pid,
    })
}

/// Every process visible in `/proc`, by pid.
pub fn proc_tree() -> HashMap<i32, ProcInfo> {
    let mut map = HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for entry in dir.flatten() {
            if let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
                if let Some(info) = proc_info(pid) {
                    map.insert(pid, info);
                }
            }
        }
    }
    map
}

/// All descendants of `roots` in `tree` (not the roots themselves), deepest last.
pub fn descendants(tree: &HashMap<i32, ProcInfo>, roots: &[i32]) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in tree.values() {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut seen: HashSet<i32> = roots.iter().copied().collect();
    let mut out = Vec::new();
    let mut queue: Vec<i32> = roots.to_vec();
    while let Some(pid) = queue.pop() {
        for &c in children.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
            if seen.insert(c) {
                out.push(c);
                queue.push(c);
            }
        }
    }
    out
}

/// Is `pid` (host pid) still a live process that started at `start_time`?
/// A zombie counts as alive: it has not been reaped.
pub fn still_exists(pid: i32, start_time: u64) -> bool {
    proc_info(pid).is_some_and(|p| p.start_time == start_time)
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; returns whether it held.
pub fn poll_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(POLL);
    }
}

/// Runs `argv` (not init) to completion with `input` on stdin; for small helpers
/// such as `tests/fixtures/json_lines.py`. Panics if it cannot start or hangs.
pub fn run_helper(argv: &[OsString], input: &str) -> (ExitStatus, String) {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {argv:?}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("write helper stdin");
    let out = Output::collect(child.stdout.take().expect("stdout is piped"));
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            poll_until(Duration::from_secs(2), || out.at_eof());
            return (status, out.text());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("helper {argv:?} did not exit within {TIMEOUT:?}");
        }
        thread::sleep(POLL);
    }
}

/// The signal [`Running::settle`] sends as a barrier: real-time, so the kernel hands it
/// to a process only after every standard signal pending there, and forwarded by init
/// like any other.
pub fn marker() -> i32 {
    libc::SIGRTMIN() + 7
}

/// Is the test running as root?
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Set to `1` to let tests skip scenarios this machine cannot run (no root, no IPv6
/// loopback, no container builder). Unset, such a test fails and says why: a green run
/// never hides a scenario it did not run. CI (root, apt) must not set it.
pub const ALLOW_SKIP: &str = "INIT_TEST_ALLOW_SKIP";

/// Called by a test that cannot run its scenario here (`reason` says why); the test
/// returns right after. Fails the test unless [`ALLOW_SKIP`] is `1`; when it is, writes
/// `SKIPPED <test>: <reason>` straight to the terminal (past the harness's capture),
/// so the skip is seen in the run's output.
#[track_caller]
pub fn skip(reason: &str) {
    let test = thread::current().name().unwrap_or("this test").to_string();
    if std::env::var_os(ALLOW_SKIP).is_some_and(|v| v == "1") {
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
        return;
    }
    panic!(
        "{test} cannot run its scenario on this machine: {reason}\n(set {ALLOW_SKIP}=1 to \
         skip such tests; they are then reported as SKIPPED on stderr)"
    );
}

/// A field of `/proc/PID/status` (`VmRSS`, `Uid`, `NSpid`, `SigPnd`, ...), trimmed.
pub fn status_field(pid: i32, field: &str) -> Option<String> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

/// Has `pid` blocked every catchable standard signal, i.e. is a signal sent to it now
/// queued for its loop rather than acted on by default? The readiness of init (and of
/// tini, dumb-init, catatonit) before a test may signal it.
///
/// `SigBlk` in `/proc/PID/status` shows that once init has blocked its signals, except
/// while init sleeps in `rt_sigtimedwait`: the kernel then unblocks the waited-for set for
/// the duration of the sleep, and `SigBlk` reads 0 as before start-up. That sleep is told
/// apart by `/proc/PID/wchan` (`do_sigtimedwait`), which is only ever reached after the
/// signals were blocked. (A loop that waits on a signalfd keeps `SigBlk` full.)
pub fn signals_blocked(pid: i32) -> bool {
    let standard: u64 = (1..32)
        .filter(|&s| s != libc::SIGKILL && s != libc::SIGSTOP)
        .fold(0, |m, s| m | 1 << (s - 1));
    let blocked = status_field(pid, "SigBlk").and_then(|v| u64::from_str_radix(&v, 16).ok());
    if blocked.is_some_and(|b| b & standard == standard) {
        return true;
    }
    fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.contains("sigtimedwait"))
}

/// How many times all of `pid`'s threads have been scheduled off the CPU so far
/// (`voluntary_ctxt_switches` + `nonvoluntary_ctxt_switches` of every task); `None` when
/// `/proc` cannot tell.
pub fn context_switches(pid: i32) -> Option<u64> {
    let mut total = 0;
    let mut tasks = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let status = fs::read_to_string(task.path().join("status")).ok()?;
        let fields: Vec<u64> = status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().last()?.parse().ok())
            .collect();
        if fields.len() != 2 {
            return None;
        }
        total += fields.iter().sum::<u64>();
        tasks += 1;
    }
    (tasks > 0).then_some(total)
}

/// A TCP port on 127.0.0.1 that refuses connections for as long as this lives: a socket
/// bound to it but not listening. Unlike binding port 0 and closing the socket, no other
/// test (or server) can take the port meanwhile.
pub struct ClosedPort {
    _socket: std::os::fd::OwnedFd,
    port: u16,
}

impl ClosedPort {
    /// On 127.0.0.1.
    #[track_caller]
    pub fn new() -> ClosedPort {
        ClosedPort::on(std::net::Ipv4Addr::LOCALHOST.into())
            .unwrap_or_else(|e| panic!("a closed port on 127.0.0.1: {e}"))
    }

    /// On `ip` (e.g. `::1`); an error when the address cannot be bound here.
    pub fn on(ip: std::net::IpAddr) -> std::io::Result<ClosedPort> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let family = if ip.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        // SAFETY: socket(2) takes no pointers; the result is checked before use.
        let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns; OwnedFd closes it.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: an all-zero sockaddr_storage is valid; it is large enough for either
        // address family, and only the family's own fields are set.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = match ip {
            std::net::IpAddr::V4(v4) => {
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
                let sin = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in) };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_addr.s_addr = u32::from(v4).to_be();
                std::mem::size_of::<libc::sockaddr_in>()
            }
            std::net::IpAddr::V6(v6) => {
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
                let sin6 = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in6) };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_addr.s6_addr = v6.octets();
                std::mem::size_of::<libc::sockaddr_in6>()
            }
        } as libc::socklen_t;
        let addr = &mut storage as *mut _ as *mut libc::sockaddr;
        // SAFETY: addr points to `len` valid bytes for bind and to the whole storage for
        // getsockname, which writes at most `len` (set to the storage's size) bytes.
        unsafe {
            if libc::bind(socket.as_raw_fd(), addr, len) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            if libc::getsockname(socket.as_raw_fd(), addr, &mut len) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        // sin_port and sin6_port sit at the same offset, right after the family.
        // SAFETY: storage was filled in by getsockname for this family.
        let port = unsafe { (*(&storage as *const _ as *const libc::sockaddr_in)).sin_port };
        Ok(ClosedPort {
            _socket: socket,
            port: u16::from_be(port),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Sends `sig` to `pid` (a host pid) and says whether kill(2) succeeded; for loops that
/// must not stop at a process that is already gone (e.g. a signal storm).
pub fn kill(pid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// The venv `scripts/setup-venv` makes (`$INIT_TEST_VENV`, else `<repo>/.venv`).
/// The venv with uvicorn, gunicorn and uvicorn-worker; fails the test when it is missing.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let dir = match std::env::var_os("INIT_TEST_VENV") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"),
        };
        let python = dir.join("bin/python");
        let ok = Command::new(&python)
            .args(["-c", "import uvicorn, gunicorn, uvicorn_worker"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "no venv with uvicorn, gunicorn and uvicorn-worker at {}: run scripts/setup-venv \
             (or point INIT_TEST_VENV at one)",
            dir.display()
        );
        dir
    })
}

pub fn venv_bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

/// A memory cgroup of the test's own with a small limit; removed on drop.
pub struct MemCgroup {
    dir: PathBuf,
}

impl MemCgroup {
    /// A child cgroup of the memory controller (v1) or of the unified hierarchy (v2,
    /// with `+memory` enabled in the root's `cgroup.subtree_control`), limited to `limit`.
    /// `None` (after [`common::skip`]) when this machine has no writable memory cgroup.
    pub fn new(limit: u64) -> Option<MemCgroup> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "pidone-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let v1 = Path::new("/sys/fs/cgroup/memory");
        let v2 = Path::new("/sys/fs/cgroup");
        let made = if v1.join("memory.limit_in_bytes").exists() {
            let dir = v1.join(&name);
            fs::create_dir(&dir)
                .and_then(|()| fs::write(dir.join("memory.limit_in_bytes"), limit.to_string()))
                .map(|()| dir)
        } else if v2.join("cgroup.controllers").exists() {
            let _ = fs::write(v2.join("cgroup.subtree_control"), "+memory");
            let dir = v2.join(&name);
            fs::create_dir(&dir)
                .and_then(|()| fs::write(dir.join("memory.max"), limit.to_string()))
                .and_then(|()| fs::write(dir.join("memory.swap.max"), "0").or(Ok(())))
                .map(|()| dir)
        } else {
            Err(std::io::Error::other("no memory cgroup mounted"))
        };
        match made {
            Ok(dir) => Some(MemCgroup { dir }),
            Err(e) => {
                skip(&format!("cannot make a memory cgroup with a limit: {e}"));
                None
            }
        }
    }

    /// Words that move the rest of the command line into this cgroup, then run it.
    pub fn wrap(&self) -> Vec<String> {
        vec![
            "sh".into(),
            "-c".into(),
            format!(
                "echo $$ > {}/cgroup.procs && exec \"$@\"",
                self.dir.display()
            ),
            "sh".into(),
        ]
    }
}

impl Drop for MemCgroup {
    fn drop(&mut self) {
        // Whatever is left in it is killed; then the (empty) directory can go.
        let deadline = Instant::now() + Duration::from_secs(10);
        while fs::remove_dir(&self.dir).is_err() && Instant::now() < deadline {
            let procs = fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.trim().parse().ok()) {
                kill(pid, libc::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
