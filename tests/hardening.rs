//! Hardening: faults, storms, hostile input and non-root runs. PID 1 never dies by
//! accident: orphan and signal storms, closed or broken stdio, uid 65532, fork and exec
//! failures, huge argv and environment, self-stopping children, escaping process trees
//! and PID reuse. Every wait has a deadline and every run is killed with its whole tree
//! when dropped (see `common`).

mod common;

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{
    Finished, Init, Mode, NONROOT, NonrootFiles, Running, TIMEOUT, TempDir, as_nonroot, poll_until,
    proc_info, python, status_field,
};
use libc::{SIGCONT, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

/// A fixture in `tests/fixtures/hardening/`.
fn fx(name: &str) -> PathBuf {
    common::fixture(&format!("hardening/{name}"))
}

/// `[python, tests/fixtures/hardening/NAME, ARGS...]`.
fn hpy(name: &str, args: &[&str]) -> Vec<OsString> {
    common::py(&format!("hardening/{name}"), args)
}

/// Waits for `KIND (pid: N)` and returns the host pid, watched so Drop kills it.
fn host_pid_of(run: &Running, kind: &str) -> i32 {
    let pid = run.host_pid(run.wait_pid_line(kind));
    run.watch_pid(pid);
    pid
}

fn vm_rss_kib(run: &Running, pid: i32) -> u64 {
    status_field(pid, "VmRSS")
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| run.fail(&format!("no VmRSS for init ({pid})")))
}

/// Asserts that none of `pids` (host pids, with the start time they had) still exists.
fn assert_all_gone(done: &Finished, pids: &[(&str, i32, u64)]) {
    let left: Vec<String> = pids
        .iter()
        .filter(|(_, pid, start)| common::still_exists(*pid, *start))
        .map(|(kind, pid, _)| format!("{kind} ({pid})"))
        .collect();
    if !left.is_empty() {
        done.fail(&format!("still running after init exited: {left:?}"));
    }
}

fn start_time(run: &Running, pid: i32) -> u64 {
    proc_info(pid)
        .map(|p| p.start_time)
        .unwrap_or_else(|| run.fail(&format!("process {pid} vanished")))
}

/// Run as PID 1 of a fresh namespace, `sh` runs init (which is pid 2 there: not PID 1,
/// so a child subreaper), then prints `left: STAT` for every process still in the
/// namespace once init has exited, and exits with init's code. Only builtins run after
/// init, so the listing sees exactly what init left behind.
const LIST_LEFTOVERS: &str = r#""$@"; code=$?
for d in /proc/[0-9]*; do
  [ "${d#/proc/}" = 1 ] && continue
  read -r stat < "$d/stat" && echo "left: $stat"
done
exit $code"#;

/// How a test runs init.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    /// PID 1 of a fresh PID namespace (the harness's `Mode::Pid1`).
    Pid1,
    /// Pid 2 under a listing `sh` in a fresh PID namespace: a subreaper, and whatever it
    /// leaves behind is reported (see [`LIST_LEFTOVERS`]).
    SubreaperInNamespace,
}

impl Setup {
    const ALL: [Setup; 2] = [Setup::Pid1, Setup::SubreaperInNamespace];

    fn init(self) -> Init {
        match self {
            Setup::Pid1 => Init::new(Mode::Pid1),
            Setup::SubreaperInNamespace => Init::new(Mode::Subreaper)
                .wrap(common::namespace_prefix())
                .wrap(["sh", "-c", LIST_LEFTOVERS, "sh"]),
        }
    }
}

/// Fails when the listing `sh` of [`Setup::SubreaperInNamespace`] saw leftovers.
fn assert_nothing_left(done: &Finished) {
    let left: Vec<&str> = done
        .stdout
        .lines()
        .filter(|l| l.starts_with("left: "))
        .collect();
    if !left.is_empty() {
        done.fail(&format!(
            "init exited but left {} process(es) in its namespace: {left:?}",
            left.len()
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Storms
// ---------------------------------------------------------------------------------------

#[test]
fn ten_thousand_orphans_arriving_under_a_signal_storm_are_all_reaped_and_init_survives() {
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .arg("--")
            .args(hpy("storm.py", &["--orphans", "10000", "--workers", "4"]))
            .spawn();
        run.wait_pid_line("armed");
        let init = run.init_pid();
        let done_forking = AtomicBool::new(false);
        let sent = AtomicUsize::new(0);
        thread::scope(|s| {
            s.spawn(|| {
                while !done_forking.load(Ordering::SeqCst) {
                    common::kill(init, SIGUSR1);
                    sent.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(2));
                }
            });
            run.wait_for_line("`orphans: 10000`", Duration::from_secs(120), |l| {
                l.starts_with("orphans: ")
            });
            done_forking.store(true, Ordering::SeqCst);
        });
        let main = run.host_pid(run.wait_pid_line("ready"));
        // Every orphan is reaped: nothing but the main child is left below init.
        let clean = poll_until(Duration::from_secs(30), || {
            run.processes_below_init().iter().all(|p| p.pid == main)
        });
        if !clean {
            let below = run.processes_below_init();
            let zombies = below.iter().filter(|p| p.state == 'Z').count();
            run.fail(&format!(
                "30 s after the storm {} processes ({zombies} zombies) are still below \
                 init besides the main child, e.g. {:?}",
                below.len() - 1,
                below.iter().find(|p| p.pid != main)
            ));
        }
        let mut run = run;
        if let Some(status) = run.try_status() {
            run.fail(&format!("init died during the storm: {status}"));
        }
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0).assert_quiet();
        let usr1: usize = done
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("usr1: ")?.parse().ok())
            .unwrap_or_else(|| done.fail("no `usr1: N` line"));
        if usr1 == 0 {
            done.fail(&format!(
                "the main child received none of the {} SIGUSR1 sent to init during the storm",
                sent.load(Ordering::SeqCst)
            ));
        }
    }
}

#[test]
fn a_signal_storm_keeps_reaching_the_child_without_growing_init_and_term_still_shuts_down() {
    // The child's own child churns: it leaves a short-lived orphan for init every few ms.
    let churn = "while :; do (true &); sleep 0.005; done";
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .args(["-t", "20s", "--"])
            .args(common::py(
                "signals.py",
                &["--exit-on", "TERM", "--", "sh", "-c", churn],
            ))
            .spawn();
        run.wait_ready("");
        let init = run.init_pid();
        let churner = run.host_pid(run.wait_pid_line("spawned"));
        let churner_start = start_time(&run, churner);
        // Warm up, so that whatever init allocates once is allocated before measuring.
        for _ in 0..200 {
            common::kill(init, SIGUSR1);
            common::kill(init, SIGHUP);
        }
        let seen = |run: &Running, sig| run.signals_seen("").contains(&sig);
        if !poll_until(TIMEOUT, || seen(&run, SIGUSR1) && seen(&run, SIGHUP)) {
            run.fail("the child did not receive SIGUSR1 and SIGHUP during the warm-up");
        }
        thread::sleep(Duration::from_millis(200));
        let before = vm_rss_kib(&run, init);
        let received_before = run.signals_seen("").len();

        for i in 0..10_000 {
            common::kill(init, if i % 2 == 0 { SIGUSR1 } else { SIGHUP });
            if i % 500 == 0 {
                thread::sleep(Duration::from_millis(1));
            }
        }
        // The child still gets what comes after the storm.
        common::kill(init, SIGUSR2);
        run.wait_for_signal("", SIGUSR2);
        let after = vm_rss_kib(&run, init);
        let during: Vec<i32> = run.signals_seen("").split_off(received_before);
        if !(during.contains(&SIGUSR1) && during.contains(&SIGHUP)) {
            run.fail(&format!(
                "during a storm of 10000 SIGUSR1 and SIGHUP the child received {during:?}"
            ));
        }
        // Standard signals coalesce, so the child sees fewer; init must not keep any.
        if after > before + 128 {
            run.fail(&format!(
                "init's VmRSS grew from {before} KiB to {after} KiB over 10000 signals"
            ));
        }

        let stop = Instant::now();
        run.signal(SIGTERM);
        let done = run.wait();
        let took = stop.elapsed();
        done.assert_code(0).assert_quiet();
        if took > Duration::from_secs(10) {
            done.fail(&format!(
                "shutdown after the storm took {took:?} (grace period 20 s): the churning \
                 shell should have died of the shutdown's SIGTERM"
            ));
        }
        if common::still_exists(churner, churner_start) {
            done.fail("the churning shell outlived init");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Closed and broken stdio
// ---------------------------------------------------------------------------------------

/// Reads the report file until a line satisfies `pred`, or fails the run.
fn wait_report(run: &Running, file: &Path, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let found = poll_until(TIMEOUT, || {
        fs::read_to_string(file).is_ok_and(|t| t.lines().any(&pred))
    });
    let text = fs::read_to_string(file).unwrap_or_default();
    match text.lines().find(|l| pred(l)) {
        Some(line) if found => line.to_string(),
        _ => run.fail(&format!(
            "timed out waiting for {what}; report file:\n{text}"
        )),
    }
}

/// CPU time (user + system, in clock ticks) `pid` has used so far.
fn cpu_ticks(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    // fields[0] is field 3 of proc(5); utime and stime are fields 14 and 15.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Fails unless `pid` stays (nearly) idle for half a second; fails too when `/proc` cannot
/// tell, so that a check which could not look never passes.
fn assert_idle(run: &Running, pid: i32, what: &str) {
    let ticks = || {
        cpu_ticks(pid).unwrap_or_else(|| {
            run.fail(&format!(
                "{what}: cannot read init's CPU time in /proc/{pid}/stat"
            ))
        })
    };
    let before = ticks();
    thread::sleep(Duration::from_millis(500));
    let after = ticks();
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100);
    let ms = (after - before) * 1000 / hz.max(1);
    if ms > 150 {
        run.fail(&format!(
            "{what}: init used {ms} ms of CPU in 500 ms with nothing to do (a busy loop)"
        ));
    }
}

/// `exit code N` or `killed by SIGNAME`.
fn describe_status(done: &Finished) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (done.status.code(), done.status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("killed by {}", common::signal_name(sig)),
        _ => format!("{}", done.status),
    }
}

#[test]
fn with_stdio_closed_or_stderr_a_broken_pipe_forwarding_reaping_and_exit_codes_are_unchanged() {
    // -v and -vvv make init log (shutdown; every forward, reap and ignored signal), so
    // it writes to the closed or broken stderr; a write to a broken pipe raises SIGPIPE.
    let cases = [
        ("0=closed,1=closed,2=closed", "-vvv"),
        ("0=closed,1=closed,2=broken", "-v"),
        ("0=closed,1=closed,2=broken", "-vvv"),
    ];
    for mode in Mode::ALL {
        for (spec, verbosity) in cases {
            let what = format!("{mode:?}, {spec}, {verbosity}");
            let tmp = TempDir::new("stdio");
            let report = tmp.join("report");
            let report_str = report.to_string_lossy().into_owned();
            let run = Init::new(mode)
                .program(python())
                .arg(fx("stdio.py"))
                .args([spec, "--"])
                .arg(common::init_bin())
                .args([verbosity, "--"])
                .args(hpy(
                    "report.py",
                    &[&report_str, "--orphans", "20", "--exit-code", "7"],
                ))
                .spawn();
            let fds = wait_report(&run, &report, "`fds: ...`", |l| l.starts_with("fds: "));
            let want = if spec.ends_with("broken") {
                "fds: 0=closed 1=closed 2=pipe"
            } else {
                "fds: 0=closed 1=closed 2=closed"
            };
            if fds != want {
                run.fail(&format!(
                    "{what}: the child should see its stdio as init got it: {want:?}, got {fds:?}"
                ));
            }
            wait_report(&run, &report, "`orphans: 20`", |l| l == "orphans: 20");
            // stdio.py execs into init: find it by the binary's name.
            let init = run.wait_for_comm(
                &common::init_bin()
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            assert_idle(&run, init, &what);
            common::kill(init, SIGUSR1);
            wait_report(&run, &report, "`got 10 SIGUSR1`", |l| {
                l.starts_with("got 10 ")
            });
            let clean = poll_until(TIMEOUT, || {
                let tree = common::proc_tree();
                !common::descendants(&tree, &[init])
                    .iter()
                    .any(|pid| tree.get(pid).is_some_and(|p| p.state == 'Z'))
            });
            if !clean {
                run.fail(&format!("{what}: zombies are left below init"));
            }
            common::kill(init, SIGTERM);
            let done = run.wait();
            if done.status.code() != Some(7) {
                done.fail(&format!(
                    "{what}: expected exit code 7 (the child's), got {}; report file:\n{}",
                    describe_status(&done),
                    fs::read_to_string(&report).unwrap_or_default()
                ));
            }
        }
    }
}

#[test]
fn usage_errors_help_and_version_survive_closed_and_broken_stdio() {
    // (stdio spec, init's arguments, expected exit code)
    let cases: [(&str, &[&str], i32); 8] = [
        ("0=closed,1=closed,2=closed", &["--bogus"], 2),
        ("0=closed,1=closed,2=closed", &["--version"], 0),
        ("2=broken", &["--bogus"], 2),
        ("2=broken", &["-t", "soon", "true"], 2),
        ("1=broken", &["--version"], 0),
        ("1=broken", &["--help"], 0),
        ("2=broken", &["--", "/nonexistent/hardening-cmd"], 127),
        ("2=broken", &["--probe", "bogus://x"], 2),
    ];
    let mut wrong = Vec::new();
    for (spec, args, want) in cases {
        let done = Init::new(Mode::Subreaper)
            .program(python())
            .arg(fx("stdio.py"))
            .args([spec, "--"])
            .arg(common::init_bin())
            .args(args)
            .run();
        if done.status.code() != Some(want) {
            wrong.push(format!(
                "init {} with {spec}: expected exit code {want}, got {}",
                args.join(" "),
                describe_status(&done)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "init must not die of SIGPIPE or change its exit code when stdio is closed or a \
         broken pipe:\n  {}",
        wrong.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------
// Non-root
// ---------------------------------------------------------------------------------------

#[test]
fn as_uid_65532_the_grace_period_teardown_kills_every_process_as_pid1_and_as_a_plain_process() {
    let Some(nonroot) = as_nonroot() else { return };
    let files = NonrootFiles::new(&[fx("tree.sh")]);
    for userns in [true, false] {
        let mut wrap = nonroot.clone();
        if userns {
            wrap.extend(common::rootless_namespace_prefix());
        }
        let run = Init::new(Mode::Subreaper)
            .program(files.init())
            .wrap(&wrap)
            .args(["-t", "1s", "--", "sh"])
            .arg(files.join("tree.sh"))
            .spawn();
        let session = host_pid_of(&run, "session");
        let daemon = host_pid_of(&run, "daemon");
        run.wait_pid_line("ready");
        let init = run.init_pid();
        let uid = status_field(init, "Uid").unwrap_or_default();
        if uid.split_whitespace().next() != Some(NONROOT.to_string().as_str()) {
            run.fail(&format!(
                "init should run as uid {NONROOT}, /proc says Uid: {uid}"
            ));
        }
        let ns_pid = status_field(init, "NSpid")
            .and_then(|v| v.split_whitespace().last()?.parse::<i32>().ok());
        if userns != (ns_pid == Some(1)) {
            run.fail(&format!(
                "init's namespace pid is {ns_pid:?} (userns run: {userns})"
            ));
        }
        let pids = [
            ("session", session, start_time(&run, session)),
            ("daemon", daemon, start_time(&run, daemon)),
        ];
        let stop = Instant::now();
        run.signal(SIGTERM);
        let done = run.wait_timeout(Duration::from_secs(20));
        let took = stop.elapsed();
        done.assert_code(128 + SIGTERM);
        assert_all_gone(&done, &pids);
        if took < Duration::from_millis(900) || took > Duration::from_secs(10) {
            done.fail(&format!(
                "shutdown took {took:?}: the TERM-ignoring processes should have been \
                 SIGKILLed when the 1 s grace period ended"
            ));
        }
    }
}

#[test]
fn as_uid_65532_pid1_kills_what_it_may_and_still_exits_beside_a_root_process_it_may_not() {
    let Some(nonroot) = as_nonroot() else { return };
    // PID 1 of a PID namespace (no user namespace) running as 65532; root then enters
    // the namespace with a `sleep` that init's kill(-1) cannot reach (EPERM), and that is
    // not init's child. init must still kill its own tree, reap it and exit.
    let files = NonrootFiles::new(&[fx("tree.sh")]);
    let mut wrap = common::namespace_prefix().to_vec();
    wrap.extend(nonroot);
    let run = Init::new(Mode::Subreaper)
        .program(files.init())
        .wrap(&wrap)
        .args(["-t", "1s", "--", "sh"])
        .arg(files.join("tree.sh"))
        .spawn();
    let session = host_pid_of(&run, "session");
    let daemon = host_pid_of(&run, "daemon");
    run.wait_pid_line("ready");
    let init = run.init_pid();
    let mut nsenter = common::nsenter(init, &["--pid"])
        .args(["--", "sleep", "1000"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("start nsenter");
    run.watch_pid(nsenter.id() as i32);
    let found = poll_until(TIMEOUT, || {
        common::proc_tree()
            .values()
            .any(|p| p.ppid == nsenter.id() as i32 && p.comm == "sleep")
    });
    let Some(intruder) = common::proc_tree()
        .values()
        .find(|p| p.ppid == nsenter.id() as i32 && p.comm == "sleep")
        .map(|p| p.pid)
        .filter(|_| found)
    else {
        let _ = nsenter.kill();
        let _ = nsenter.wait();
        run.fail("nsenter did not start `sleep` in init's namespace");
    };
    run.watch_pid(intruder);
    let pids = [
        ("session", session, start_time(&run, session)),
        ("daemon", daemon, start_time(&run, daemon)),
    ];
    let stop = Instant::now();
    run.signal(SIGTERM);
    let done = run.wait_timeout(Duration::from_secs(20));
    let took = stop.elapsed();
    // The root `sleep` dies with the namespace once its PID 1 (init) has exited.
    let nsenter_done = poll_until(TIMEOUT, || nsenter.try_wait().ok().flatten().is_some());
    if !nsenter_done {
        let _ = nsenter.kill();
        let _ = nsenter.wait();
    }
    done.assert_code(128 + SIGTERM);
    assert_all_gone(&done, &pids);
    if took < Duration::from_millis(900) || took > Duration::from_secs(10) {
        done.fail(&format!(
            "shutdown took {took:?}: init should SIGKILL its own TERM-ignoring processes \
             when the 1 s grace period ends and exit, whatever it may not kill"
        ));
    }
    if !nsenter_done {
        done.fail("the root process in init's namespace outlived init's exit");
    }
}

#[test]
fn when_fork_fails_init_exits_1_with_one_clear_line_and_starts_nothing() {
    // RLIMIT_NPROC counts the processes of the real uid; root ignores it, uid 65532 does
    // not: with a limit of 1, init itself uses it up.
    let Some(nonroot) = as_nonroot() else { return };
    let files = NonrootFiles::new(&[fx("tree.sh")]);
    for userns in [false, true] {
        let mut wrap = nonroot.clone();
        if userns {
            wrap.extend(common::rootless_namespace_prefix());
        }
        wrap.extend(["prlimit".into(), "--nproc=1".into()]);
        let done = Init::new(Mode::Subreaper)
            .program(files.init())
            .wrap(&wrap)
            .args(["--", "sh", "-c", "echo child ran"])
            .run();
        done.assert_code(1);
        let lines = done.stderr_lines();
        if lines.len() != 1 || !lines[0].contains("fork") {
            done.fail("expected exactly one stderr line naming fork");
        }
        if done.stdout.contains("child ran") {
            done.fail("the command ran although fork failed");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Exec failures
// ---------------------------------------------------------------------------------------

#[test]
fn exec_failures_exit_126_or_127_with_one_line_and_leave_nothing() {
    let tmp = TempDir::new("exec");
    let no_interp = tmp.write("no-interp", "#!/nonexistent/interpreter\necho hi\n", 0o755);
    let no_shebang = tmp.write("no-shebang", "echo hi\n", 0o755);
    let empty = tmp.write("empty", "", 0o755);
    let not_exec = tmp.write("not-exec", "#!/bin/sh\necho hi\n", 0o644);
    let through_file = no_shebang.join("x");
    let dir = tmp.path().to_path_buf();
    let p = |path: &Path| path.to_string_lossy().into_owned();
    // (command, expected code); the one line on stderr must name the command.
    let cases: Vec<(String, i32)> = vec![
        ("/nonexistent/hardening-cmd".into(), 127), // ENOENT
        ("no-such-command-hardening".into(), 127),  // not on PATH
        (p(&no_interp), 127),                       // #! interpreter missing
        (p(&through_file), 127),                    // ENOTDIR
        (p(&no_shebang), 126),                      // ENOEXEC: init runs no shell
        (p(&empty), 126),                           // ENOEXEC
        (p(&not_exec), 126),                        // EACCES
        (p(&dir), 126),                             // EACCES: a directory
    ];
    for setup in Setup::ALL {
        for (cmd, want) in &cases {
            let done = setup.init().args(["--", cmd.as_str()]).run();
            done.assert_code(*want);
            let lines = done.stderr_lines();
            if lines.len() != 1 || !lines[0].contains(cmd.as_str()) {
                done.fail(&format!(
                    "{setup:?}: expected one stderr line naming {cmd:?}"
                ));
            }
            if done.elapsed > Duration::from_secs(10) {
                done.fail("an exec failure should end at once");
            }
            assert_nothing_left(&done);
        }
    }
}

#[test]
fn as_uid_65532_a_command_it_may_not_run_is_126_and_the_run_ends_cleanly() {
    let Some(nonroot) = as_nonroot() else { return };
    let files = NonrootFiles::new(&[]);
    let secret = files.dir().write("secret", "#!/bin/sh\necho ran\n", 0o700);
    let locked = files.dir().join("locked");
    fs::create_dir(&locked).expect("mkdir locked");
    let inside = files
        .dir()
        .write("locked/prog", "#!/bin/sh\necho ran\n", 0o755);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o700)).expect("chmod locked");
    for userns in [false, true] {
        for (cmd, want) in [(&secret, 126), (&inside, 126)] {
            let mut wrap = nonroot.clone();
            if userns {
                wrap.extend(common::rootless_namespace_prefix());
            }
            let done = Init::new(Mode::Subreaper)
                .program(files.init())
                .wrap(&wrap)
                .arg("--")
                .arg(cmd)
                .run();
            done.assert_code(want);
            let lines = done.stderr_lines();
            if lines.len() != 1 || !lines[0].contains("ermission denied") {
                done.fail("expected one stderr line saying permission denied");
            }
            if done.stdout.contains("ran") {
                done.fail("the command ran");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------

/// Words that init would take as its own options, were they before the command.
const OPTION_LIKE: [&str; 16] = [
    "-t",
    "0",
    "--grace-period=1ms",
    "--",
    "-h",
    "--help",
    "-V",
    "--version",
    "--probe",
    "tcp://127.0.0.1:1",
    "-vvv",
    "-e",
    "1",
    "-g",
    "--bogus",
    "-",
];

#[test]
fn argv_and_environment_close_to_arg_max_reach_the_child_byte_for_byte() {
    // The kernel allows a quarter of the stack limit, at most 6 MiB, for the strings and
    // pointers of argv and the environment together.
    // SAFETY: sysconf has no memory-safety preconditions.
    let arg_max = usize::try_from(unsafe { libc::sysconf(libc::_SC_ARG_MAX) })
        .unwrap_or(0)
        .min(6 << 20);
    assert!(arg_max >= 128 * 1024, "ARG_MAX is {arg_max}");
    let inherited: usize = std::env::vars_os()
        .map(|(k, v)| k.len() + v.len() + 2 + 8)
        .sum();
    // What is left for our strings and their pointers, less 16 KiB for the fixed words
    // (unshare's, init's path, the fixture's): over 99% of ARG_MAX is used.
    let budget = arg_max - inherited - 16 * 1024;
    let big = 100_000; // under MAX_ARG_STRLEN (128 KiB)

    let mut env: Vec<(String, String)> = Vec::new();
    let mut env_bytes = 0;
    while env_bytes + big + 32 < budget * 45 / 100 {
        let key = format!("HARDENING_BIG_{}", env.len());
        let value: String = (0..big).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        env_bytes += key.len() + value.len() + 2 + 8;
        env.push((key, value));
    }
    let mut args: Vec<String> = OPTION_LIKE.iter().map(|s| s.to_string()).collect();
    for i in 0..3000 {
        args.push(format!("w{i}"));
    }
    let used = |args: &[String]| args.iter().map(|a| a.len() + 1 + 8).sum::<usize>();
    while used(&args) + big + 9 < budget - env_bytes {
        args.push(format!("{}:{}", args.len(), "y".repeat(big)));
    }
    let rest = (budget - env_bytes).saturating_sub(used(&args) + 9);
    args.push("z".repeat(rest.min(big)));
    let total = inherited + env_bytes + used(&args);

    for (mode, dashdash) in [(Mode::Pid1, false), (Mode::Subreaper, true)] {
        let tmp = TempDir::new("argmax");
        let mut init = Init::new(mode);
        if dashdash {
            init = init.arg("--");
        }
        let mut cmd = hpy("dump.py", &[&tmp.path().to_string_lossy(), "3"]);
        cmd.extend(args.iter().map(OsString::from));
        init = init.args(cmd);
        for (k, v) in &env {
            init = init.env(k, v);
        }
        let done = init.run();
        if done.status.code() != Some(3) {
            panic!(
                "{mode:?}: expected the child's exit code 3 with {total} of ARG_MAX {arg_max} \
                 bytes used, got {}; stderr: {}",
                done.status,
                done.stderr.chars().take(2000).collect::<String>()
            );
        }
        let got_argv = fs::read(tmp.join("argv")).expect("argv dump");
        let want_argv = args.join("\0").into_bytes();
        if got_argv != want_argv {
            let at = got_argv
                .iter()
                .zip(&want_argv)
                .position(|(a, b)| a != b)
                .unwrap_or(got_argv.len().min(want_argv.len()));
            panic!(
                "{mode:?}: the child's argv differs from what followed the command at byte \
                 {at} (got {} bytes, want {})",
                got_argv.len(),
                want_argv.len()
            );
        }
        let got_env = fs::read(tmp.join("env")).expect("env dump");
        let entries: Vec<&[u8]> = got_env.split(|&b| b == 0).collect();
        for (k, v) in &env {
            let want = format!("{k}={v}");
            if !entries.contains(&want.as_bytes()) {
                panic!(
                    "{mode:?}: {k} ({} bytes) did not reach the child intact",
                    v.len()
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Children that stop, leave their group or daemonize
// ---------------------------------------------------------------------------------------

fn wait_stopped(run: &Running, pid: i32) {
    if !poll_until(TIMEOUT, || proc_info(pid).is_some_and(|p| p.state == 'T')) {
        run.fail("the main child did not stop itself");
    }
}

#[test]
fn a_main_child_that_stops_itself_is_continued_and_still_shuts_down() {
    for mode in Mode::ALL {
        // Continued by a SIGCONT sent to init, then stopped by TERM as usual.
        for sig in ["STOP", "TSTP"] {
            let run = Init::new(mode)
                .args(["-t", "30s", "--"])
                .args(hpy("stopper.py", &[sig, "--exit-code", "5"]))
                .spawn();
            let main = run.host_pid(run.wait_ready(""));
            wait_stopped(&run, main);
            run.signal(SIGCONT);
            run.wait_for_line("`continued`", TIMEOUT, |l| l == "continued");
            run.signal(SIGTERM);
            let done = run.wait();
            done.assert_code(5);
        }
        // Still stopped when TERM arrives: init's SIGCONT after the TERM lets it act at
        // once, well before the 30 s grace period.
        for sig in ["STOP", "TSTP"] {
            let run = Init::new(mode)
                .args(["-t", "30s", "--"])
                .args(hpy("stopper.py", &[sig, "--exit-code", "5"]))
                .spawn();
            let main = run.host_pid(run.wait_ready(""));
            wait_stopped(&run, main);
            let stop = Instant::now();
            run.signal(SIGTERM);
            let done = run.wait();
            done.assert_code(5);
            if stop.elapsed() > Duration::from_secs(10) {
                done.fail("a stopped main child should be continued after the shutdown's TERM");
            }
            if !done.stdout.lines().any(|l| l == "continued") || done.signals_seen("") != [SIGTERM]
            {
                done.fail("expected `continued`, then exactly one TERM");
            }
        }
    }
}

#[test]
fn setsid_children_new_process_groups_and_daemons_are_torn_down_at_shutdown() {
    for setup in Setup::ALL {
        for pgroup in [false, true] {
            let mut init = setup.init().args(["-t", "1s"]);
            let mut fixture_args = vec!["--exit-code", "3"];
            if pgroup {
                // -g, and the main child's own group is gone: init falls back to the child.
                init = init.arg("-g");
                fixture_args.push("--leave-group");
            }
            let run = init.arg("--").args(hpy("tree.py", &fixture_args)).spawn();
            let mut pids = Vec::new();
            for kind in ["session", "pgroup", "daemon"] {
                let pid = host_pid_of(&run, kind);
                pids.push((kind, pid, start_time(&run, pid)));
            }
            run.wait_ready("");
            let stop = Instant::now();
            run.signal(SIGTERM);
            let done = run.wait();
            let took = stop.elapsed();
            done.assert_code(3);
            if done.signals_seen("") != [SIGTERM] {
                done.fail(&format!(
                    "{setup:?} -g {pgroup}: the main child should get exactly one TERM"
                ));
            }
            assert_all_gone(&done, &pids);
            if setup == Setup::SubreaperInNamespace {
                assert_nothing_left(&done);
            }
            if took < Duration::from_millis(900) || took > Duration::from_secs(10) {
                done.fail(&format!(
                    "{setup:?}: shutdown took {took:?}; the TERM-ignoring processes should \
                     be SIGKILLed when the 1 s grace period ends"
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// PID reuse
// ---------------------------------------------------------------------------------------

#[test]
fn a_later_orphan_that_gets_the_main_childs_old_pid_is_never_taken_for_it() {
    // The fixture makes an orphan P of init get the main child's pid (ns_last_pid) after
    // the main child exited 42. Signals sent to init must not reach P, and init must exit
    // 42 (the main child's code), not 99 (P's): a confused init fails either way.
    for setup in Setup::ALL {
        let run = setup
            .init()
            .args(["-vv", "-t", "20s", "--"])
            .args(hpy("pidreuse.py", &["--window", "20"]))
            .spawn();
        let main = run.wait_ready("");
        run.signal(SIGUSR2); // the main child exits 42
        let line = run.wait_for_line("`reused (pid: N)`", TIMEOUT, |l| {
            l.starts_with("reused (pid: ") || l.starts_with("reuse failed")
        });
        if line != format!("reused (pid: {main})") {
            run.fail(&format!(
                "{setup:?}: the fixture could not give the main child's pid {main} to a \
                 new process: {line}"
            ));
        }
        let reused = run.host_pid(main);
        // One signal at a time, each until init's -vv line says it handled it (and did
        // not forward it); then release P with a signal from outside the namespace
        // (which it tells apart by si_pid 0).
        const NOT_FORWARDED: &str = "main child gone: not forwarding";
        for sig in [SIGUSR1, SIGHUP, SIGWINCH, SIGUSR2, SIGINT, SIGTERM] {
            let before = run.stderr().matches(NOT_FORWARDED).count();
            run.signal(sig);
            if !poll_until(TIMEOUT, || {
                run.stderr().matches(NOT_FORWARDED).count() > before
            }) {
                run.fail(&format!(
                    "{setup:?}: no `{NOT_FORWARDED} {}` line from init",
                    common::signal_name(sig)
                ));
            }
        }
        common::kill(reused, SIGUSR1);
        let done = run.wait();
        let leaked: Vec<&str> = done
            .stdout
            .lines()
            .filter(|l| l.starts_with("P got "))
            .collect();
        if !leaked.is_empty() {
            done.fail(&format!(
                "{setup:?}: signals sent to init after the main child exited reached the \
                 new process that reused its pid {main}: {leaked:?}"
            ));
        }
        if done.stdout.contains("P timed out") {
            done.fail("the process that reused the pid was not released by the test");
        }
        done.assert_code(42);
        if setup == Setup::SubreaperInNamespace {
            assert_nothing_left(&done);
        }
    }
}
