//! Real uvicorn and gunicorn (sync and uvicorn workers) with init as PID 1 of a fresh
//! PID namespace, serving `examples/app/app.py` (the app Containerfile.example packages).
//!
//! The servers come from the venv that `scripts/setup-venv` makes: `$INIT_TEST_VENV`, else
//! `<repo>/.venv`. Without it every test here fails and says so; none is skipped.
//! Every wait polls with a deadline; dropping a run SIGKILLs its whole tree.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use common::{Init, Mode, Running, poll_until, proc_info, proc_tree, venv_bin};

/// Deadline for an app server to start answering (a cold Python start on a loaded
/// 2-core machine).
const START: Duration = Duration::from_secs(30);
/// Deadline for gunicorn to act on a signal (its master wakes at least once a second).
const REACT: Duration = Duration::from_secs(15);

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/app")
}

/// A port that was free a moment ago: another test may take it before the server
/// binds it, so [`start_on_a_free_port`] retries.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// Starts `build(port)` on a free port and waits until the server says it bound that
/// port (`listening(port)` is its log line, on stderr) and then answers `/health`. A
/// port taken between [`free_port`] and the server's bind (the server says `address
/// already in use`) means another try on a new port, so the server answering is ours.
fn start_on_a_free_port(
    build: impl Fn(u16) -> Init,
    listening: impl Fn(u16) -> String,
) -> (Running, u16) {
    const IN_USE: [&str; 2] = ["address already in use", "Connection in use"];
    for _ in 0..5 {
        let port = free_port();
        let mut run = build(port).spawn();
        let line = listening(port);
        let deadline = Instant::now() + START;
        loop {
            let stderr = run.stderr();
            if stderr.contains(&line) {
                wait_serving(&mut run, port);
                return (run, port);
            }
            if IN_USE.iter().any(|m| stderr.contains(m)) {
                break; // dropping the run kills it; try another port
            }
            if run.try_status().is_some() {
                run.fail(&format!("init exited before the server bound port {port}"));
            }
            if Instant::now() > deadline {
                run.fail(&format!("the server did not log `{line}` within {START:?}"));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("five free ports in a row were taken before the server could bind them");
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// One `GET path` over a fresh connection: the status code, or why there is none.
fn get(port: u16, path: &str, timeout: Duration) -> Result<u16, String> {
    let mut stream = TcpStream::connect_timeout(&addr(port), Duration::from_secs(2))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("write: {e}"))?;
    let mut reply = Vec::new();
    stream
        .read_to_end(&mut reply)
        .map_err(|e| format!("read: {e}"))?;
    let reply = String::from_utf8_lossy(&reply);
    let status = reply
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| reply.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    status.ok_or_else(|| format!("no HTTP status in reply {reply:?}"))
}

/// `GET path` on a thread, so that the test can act while the request is in flight.
fn get_in_background(port: u16, path: &str) -> thread::JoinHandle<Result<u16, String>> {
    let path = path.to_string();
    thread::spawn(move || get(port, &path, Duration::from_secs(60)))
}

/// Is a new TCP connection to `port` refused?
fn refused(port: u16) -> bool {
    matches!(
        TcpStream::connect_timeout(&addr(port), Duration::from_millis(500)),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused
    )
}

/// `init --probe URL`'s exit code (the probe's own 2s deadline; the harness's beyond it).
fn probe(url: &str) -> i32 {
    Init::new(Mode::Subreaper)
        .args(["--probe", url, "--probe-timeout", "2s"])
        .run()
        .code()
}

fn health_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/health")
}

/// Waits until the app answers `/health` with 200; fails with the run's output if it
/// does not within [`START`] or init exits first.
fn wait_serving(run: &mut Running, port: u16) {
    let deadline = Instant::now() + START;
    loop {
        if get(port, "/health", Duration::from_secs(5)) == Ok(200) {
            return;
        }
        if run.try_status().is_some() {
            run.fail(&format!("init exited before the app served on port {port}"));
        }
        if Instant::now() > deadline {
            run.fail(&format!(
                "the app did not serve on port {port} within {START:?}"
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the app's log line saying a slow request has started (it is in flight).
fn wait_slow_started(run: &Running) {
    run.wait_for_line("the app's `slow request started`", START, |l| {
        l.contains("slow request started")
    });
}

/// Starts `uvicorn app:app` under init (PID 1) with `init_args` before `--`.
fn start_uvicorn(init_args: &[&str], uvicorn_args: &[&str]) -> (Running, u16) {
    start_on_a_free_port(
        |port| {
            Init::new(Mode::Pid1)
                .args(init_args)
                .arg("--")
                .arg(venv_bin("uvicorn"))
                .args(["app:app", "--app-dir"])
                .arg(app_dir())
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(uvicorn_args)
        },
        |port| format!("Uvicorn running on http://127.0.0.1:{port} "),
    )
}

#[test]
fn uvicorn_finishes_the_request_in_flight_refuses_new_ones_and_init_exits_143() {
    let (run, port) = start_uvicorn(&["-t", "10s"], &[]);
    assert_eq!(
        probe(&health_url(port)),
        0,
        "probe while uvicorn serves should be healthy"
    );

    let slow = get_in_background(port, "/slow?seconds=4");
    wait_slow_started(&run);
    let term = Instant::now();
    run.signal(libc::SIGTERM);

    // uvicorn closes its listening socket at once, while it finishes the slow request.
    let closed = poll_until(Duration::from_secs(3), || refused(port));
    assert!(
        closed,
        "new connections were still accepted 3s after SIGTERM"
    );
    assert!(
        !slow.is_finished(),
        "the slow request ended before the listener closed"
    );
    assert_eq!(
        probe(&health_url(port)),
        1,
        "probe after shutdown started should be unhealthy"
    );

    let reply = slow.join().expect("slow request thread");
    let done = run.wait_timeout(Duration::from_secs(20));
    assert_eq!(
        reply,
        Ok(200),
        "the request in flight at SIGTERM should complete; init said:\n{}",
        done.stderr
    );
    // uvicorn re-raises the SIGTERM it handled once it has shut down: 128 + 15.
    done.assert_code(143);
    let after_term = term.elapsed();
    if after_term >= Duration::from_secs(10) {
        done.fail(&format!(
            "init exited {after_term:?} after SIGTERM: not within the 10s grace period"
        ));
    }
}

#[test]
fn uvicorn_exit_143_is_reported_as_0_with_remap_exit() {
    let (run, _port) = start_uvicorn(&["-e", "143", "-t", "10s"], &[]);
    run.signal(libc::SIGTERM);
    run.wait_timeout(Duration::from_secs(20)).assert_code(0);
}

/// uvicorn's `--timeout-graceful-shutdown 1` ends before init's 10s grace period: uvicorn
/// cancels the request (500) and exits by itself; init never SIGKILLs.
#[test]
fn uvicorn_graceful_timeout_shorter_than_the_grace_period_wins() {
    let (run, port) = start_uvicorn(&["-t", "10s"], &["--timeout-graceful-shutdown", "1"]);
    let slow = get_in_background(port, "/slow?seconds=30");
    wait_slow_started(&run);
    let term = Instant::now();
    run.signal(libc::SIGTERM);
    let reply = slow.join().expect("slow request thread");
    let done = run.wait_timeout(Duration::from_secs(20));
    let after_term = term.elapsed();
    done.assert_code(143);
    // About 1.2s on an idle machine; the bound is init's grace period, generous for a
    // loaded one.
    if after_term >= Duration::from_secs(10) {
        done.fail(&format!(
            "exited {after_term:?} after SIGTERM; uvicorn's 1s timeout should have ended it \
             before init's 10s grace period"
        ));
    }
    if init_lines(&done.stderr).any(|l| l.contains("sending SIGKILL")) {
        done.fail("init sent SIGKILL although uvicorn stopped by itself");
    }
    assert_eq!(
        reply,
        Ok(500),
        "uvicorn answers 500 for the request it cancels at its timeout"
    );
}

/// init's `-t 2s` ends before uvicorn's `--timeout-graceful-shutdown 30`: init SIGKILLs
/// uvicorn at 2s (exit 137) and the request in flight gets no reply.
#[test]
fn grace_period_shorter_than_uvicorn_graceful_timeout_wins() {
    let (run, port) = start_uvicorn(&["-t", "2s"], &["--timeout-graceful-shutdown", "30"]);
    let slow = get_in_background(port, "/slow?seconds=30");
    wait_slow_started(&run);
    let term = Instant::now();
    run.signal(libc::SIGTERM);
    let done = run.wait_timeout(Duration::from_secs(20));
    let after_term = term.elapsed();
    done.assert_code(137);
    if after_term < Duration::from_millis(1900) || after_term >= Duration::from_secs(8) {
        done.fail(&format!(
            "exited {after_term:?} after SIGTERM; expected the SIGKILL at the 2s grace period"
        ));
    }
    let reply = slow.join().expect("slow request thread");
    assert!(
        reply.is_err(),
        "the request killed with uvicorn should get no reply, got {reply:?}"
    );
}

/// init's own log lines in a run's stderr (text format: `init: LEVEL message`).
fn init_lines(stderr: &str) -> impl Iterator<Item = &str> {
    stderr.lines().filter(|l| l.starts_with("init:"))
}

/// Live (non-zombie) children of `pid`, by host pid, sorted.
fn children(pid: i32) -> Vec<i32> {
    let mut kids: Vec<i32> = proc_tree()
        .values()
        .filter(|p| p.ppid == pid && p.state != 'Z')
        .map(|p| p.pid)
        .collect();
    kids.sort_unstable();
    kids
}

/// Does this gunicorn have `--no-control-socket` (gunicorn >= 25)?
fn gunicorn_has_no_control_socket() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        let out = Command::new(venv_bin("gunicorn"))
            .arg("--help")
            .stdin(Stdio::null())
            .output()
            .expect("run gunicorn --help");
        String::from_utf8_lossy(&out.stdout).contains("--no-control-socket")
    })
}

/// Polls until the master has `want` workers that satisfy `ok`; returns them.
fn wait_workers(run: &Running, master: i32, what: &str, ok: impl Fn(&[i32]) -> bool) -> Vec<i32> {
    let deadline = Instant::now() + REACT;
    loop {
        let workers = children(master);
        if ok(&workers) {
            return workers;
        }
        if Instant::now() > deadline {
            run.fail(&format!(
                "timed out after {REACT:?} waiting for {what}; workers now: {workers:?}"
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// One gunicorn master with `--workers 2` under init: TTIN, TTOU, HUP, USR1, an OOM-style
/// SIGKILL of a worker, then SIGTERM with a request in flight.
fn gunicorn_follows_signals_through_init(worker_class: &str, app: &str) {
    let (run, port) = start_on_a_free_port(
        |port| {
            let init = Init::new(Mode::Pid1)
                .args(["-v", "-t", "15s", "--"])
                .arg(venv_bin("gunicorn"))
                .args([app, "--chdir"])
                .arg(app_dir())
                .args(["--bind", &format!("127.0.0.1:{port}")])
                .args(["--workers", "2", "--worker-class", worker_class])
                .args(["--graceful-timeout", "10", "--log-level", "info"]);
            if gunicorn_has_no_control_socket() {
                init.arg("--no-control-socket")
            } else {
                init
            }
        },
        |port| format!("Listening at: http://127.0.0.1:{port} "),
    );
    assert_eq!(
        probe(&health_url(port)),
        0,
        "probe while gunicorn serves should be healthy"
    );

    let init_pid = run.init_pid();
    let masters = children(init_pid);
    let &[master] = masters.as_slice() else {
        run.fail(&format!(
            "expected init to have one child, the gunicorn master; it has {masters:?}"
        ));
    };
    let two = wait_workers(&run, master, "2 workers", |w| w.len() == 2);

    run.signal(libc::SIGTTIN);
    let three = wait_workers(&run, master, "a 3rd worker after TTIN", |w| {
        w.len() == 3 && two.iter().all(|p| w.contains(p))
    });

    run.signal(libc::SIGTTOU);
    let after_ttou = wait_workers(&run, master, "2 workers after TTOU", |w| {
        w.len() == 2 && w.iter().all(|p| three.contains(p))
    });

    run.signal(libc::SIGHUP);
    let after_hup = wait_workers(&run, master, "2 new workers after HUP", |w| {
        w.len() == 2 && w.iter().all(|p| !after_ttou.contains(p))
    });

    run.signal(libc::SIGUSR1);
    let usr1_seen = poll_until(REACT, || run.stderr().contains("Handling signal: usr1"));
    if !usr1_seen {
        run.fail("the gunicorn master did not log `Handling signal: usr1`");
    }
    let workers = children(master);
    if workers != after_hup {
        run.fail(&format!(
            "USR1 (reopen logs) should keep the workers {after_hup:?}, now {workers:?}"
        ));
    }

    // What the OOM killer does: SIGKILL one worker, from outside.
    let victim = after_hup[0];
    let victim_start = proc_info(victim)
        .unwrap_or_else(|| run.fail(&format!("worker {victim} vanished")))
        .start_time;
    run.signal_pid(victim, libc::SIGKILL);
    let replaced = wait_workers(&run, master, "the killed worker replaced", |w| {
        w.len() == 2 && !w.contains(&victim)
    });
    let reaped = poll_until(REACT, || {
        proc_info(victim).is_none_or(|p| p.start_time != victim_start)
    });
    if !reaped {
        run.fail(&format!(
            "the SIGKILLed worker {victim} was not reaped (state {:?})",
            proc_info(victim).map(|p| p.state)
        ));
    }
    if get(port, "/", Duration::from_secs(10)) != Ok(200) {
        run.fail("gunicorn stopped serving after a worker was replaced");
    }

    // SIGTERM with a request in flight: new connections are no longer served, the worker
    // finishes the request, every worker exits, then the master exits 0. (Not always
    // "refused": a sync worker shares the listening socket and holds it open until it
    // has finished its request, so a new connection waits in the backlog, unanswered.)
    let slow = get_in_background(port, "/slow?seconds=3");
    wait_slow_started(&run);
    let mut all = replaced.clone();
    all.push(master);
    let starts: Vec<(i32, u64)> = all
        .iter()
        .filter_map(|&p| proc_info(p).map(|i| (p, i.start_time)))
        .collect();
    let term = Instant::now();
    run.signal(libc::SIGTERM);
    let unserved = poll_until(Duration::from_secs(3), || {
        get(port, "/health", Duration::from_secs(1)).is_err()
    });
    let after_term_probe = probe(&health_url(port));
    let reply = slow.join().expect("slow request thread");
    let done = run.wait_timeout(Duration::from_secs(30));
    let after_term = term.elapsed();
    done.assert_code(0);
    if !unserved || after_term_probe != 1 {
        done.fail(&format!(
            "after SIGTERM: new requests unanswered within 3s: {unserved}; probe exit code \
             {after_term_probe} (expected 1, unhealthy)"
        ));
    }
    if reply != Ok(200) {
        done.fail(&format!(
            "the request in flight at SIGTERM should complete with 200, got {reply:?}"
        ));
    }
    // gunicorn stopped its workers itself: init (with -v) reports stragglers it had to
    // stop when the main child exits, and SIGKILLs only after the grace period. First
    // make sure init's -v lines are there to be read at all.
    if !init_lines(&done.stderr).any(|l| l.contains("shutdown started")) {
        done.fail("no `init: ... shutdown started` line from init -v: has its log format changed?");
    }
    if init_lines(&done.stderr)
        .any(|l| l.contains("stopping the processes left") || l.contains("sending SIGKILL"))
    {
        done.fail("gunicorn left processes behind for init to stop");
    }
    // The worker's SIGKILL came from kill(2), not the kernel's OOM killer.
    if init_lines(&done.stderr).any(|l| l.contains("OOM")) {
        done.fail("init called a SIGKILL sent with kill(2) an OOM kill");
    }
    if after_term >= Duration::from_secs(15) {
        done.fail(&format!(
            "exited {after_term:?} after SIGTERM: not within the grace period"
        ));
    }
    for (pid, start) in starts {
        if proc_info(pid).is_some_and(|p| p.start_time == start) {
            done.fail(&format!("gunicorn process {pid} outlived init"));
        }
    }
}

#[test]
fn gunicorn_sync_workers_follow_ttin_ttou_hup_usr1_oom_kill_and_term() {
    gunicorn_follows_signals_through_init("sync", "app:wsgi");
}

#[test]
fn gunicorn_uvicorn_workers_follow_ttin_ttou_hup_usr1_oom_kill_and_term() {
    gunicorn_follows_signals_through_init("uvicorn_worker.UvicornWorker", "app:app");
}

/// A gunicorn worker the kernel's OOM killer kills (a request allocates past the
/// container's memory limit): gunicorn's master reaps it and starts another, and init,
/// which never sees that worker die, still reports the OOM kill within a second, with the
/// limit and the counter. The master survives and stops cleanly on TERM.
#[test]
fn an_oom_killed_gunicorn_worker_is_reported_by_init_and_the_master_survives() {
    let Some(cg) = common::MemCgroup::new(160 << 20) else {
        return;
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (run, port) = start_on_a_free_port(
        |port| {
            let init = Init::new(Mode::Pid1)
                .wrap(cg.wrap())
                .args(["-v", "--"])
                .arg(venv_bin("gunicorn"))
                .args(["hog_app:app", "--chdir"])
                .arg(&fixtures)
                .args(["--bind", &format!("127.0.0.1:{port}")])
                .args(["--workers", "2", "--log-level", "info"]);
            if gunicorn_has_no_control_socket() {
                init.arg("--no-control-socket")
            } else {
                init
            }
        },
        |port| format!("Listening at: http://127.0.0.1:{port} "),
    );
    let master = match children(run.init_pid()).as_slice() {
        &[master] => master,
        other => run.fail(&format!(
            "expected one child of init, the master: {other:?}"
        )),
    };
    let before = wait_workers(&run, master, "2 workers", |w| w.len() == 2);
    let reply = get(port, "/hog", Duration::from_secs(20));
    let failed = Instant::now();
    if reply.is_ok() {
        run.fail(&format!(
            "the /hog request should lose its worker, got {reply:?}"
        ));
    }
    let line = run.wait_for_stderr_line("init's OOM line", Duration::from_secs(5), |l| {
        l.starts_with("init: ") && l.contains("OOM killer")
    });
    let after = failed.elapsed();
    if !line.starts_with("init: WARN a process not reaped by init")
        || !line.ends_with("(memory limit 160 MiB, oom_kill 0 -> 1)")
        || after > Duration::from_secs(1)
    {
        run.fail(&format!(
            "init should report the worker's OOM kill within 1 s: {line:?} after {after:?}"
        ));
    }
    let now = wait_workers(&run, master, "the killed worker replaced", |w| {
        w.len() == 2 && w.iter().any(|p| !before.contains(p))
    });
    if now.iter().filter(|p| before.contains(p)).count() != 1 {
        run.fail(&format!(
            "exactly one worker should have died: {before:?} -> {now:?}"
        ));
    }
    if get(port, "/", Duration::from_secs(10)) != Ok(200) {
        run.fail("the master should serve again after the OOM kill");
    }
    run.signal(libc::SIGTERM);
    let done = run.wait_timeout(Duration::from_secs(30));
    done.assert_code(0);
    let summary = init_lines(&done.stderr)
        .find(|l| l.contains("shutdown complete"))
        .unwrap_or_else(|| done.fail("no summary line"));
    if !summary.contains("; 1 OOM kill;") {
        done.fail("the summary should count the OOM kill");
    }
}
