//! What a runtime hands init besides argv reaches the app as it would without init:
//! inherited descriptors (podman `--preserve-fds`, a supervisor's pipe), systemd socket
//! activation (`LISTEN_PID`, `LISTEN_FDS`, the sockets), and the identity runtimes read
//! (`--version` as Docker's daemon parses it, `--license`). `-p` with real-time signals
//! is in tests/signals.rs, beside the other parent-death cases.

mod common;

use std::ffi::OsString;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Init, Mode, Running, TempDir, fixture, py, python, venv_bin};
use libc::SIGTERM;

fn words(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

#[test]
fn an_inherited_descriptor_is_the_same_open_file_for_the_child() {
    for mode in Mode::ALL {
        let dir = TempDir::new("fd-same-file");
        let file = dir.join("out");
        let wrapper = words(&[
            "bash",
            "-c",
            r#"exec 7>>"$OUT"; echo from-wrapper >&7; exec "$@""#,
            "bash",
        ]);
        let run = Init::new(mode)
            .env("OUT", &file)
            .wrap(&wrapper)
            .args(["--", "sh", "-c", "echo from-child >&7"])
            .run();
        run.assert_code(0).assert_quiet();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text != "from-wrapper\nfrom-child\n" {
            run.fail(&format!(
                "the child should write through the fd 7 init was given (file holds {text:?})"
            ));
        }
    }
}

#[test]
fn a_descriptor_the_runtime_marked_close_on_exec_stays_closed() {
    // Control for "unchanged": init must not clear FD_CLOEXEC either. Python's
    // os.open gives a close-on-exec descriptor, which exec drops, with or without init.
    let script = "import os, sys; fd = os.open('/dev/null', os.O_RDONLY); \
                  os.dup2(fd, 8, inheritable=False); os.execvp(sys.argv[1], sys.argv[1:])";
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .wrap([python().as_os_str(), "-c".as_ref(), script.as_ref()])
            .arg("--")
            .args(py("fds.py", &[]))
            .run();
        run.assert_code(0);
        if run.stdout != "fds: 0 1 2\n" {
            run.fail("a close-on-exec fd 8 should not reach the child");
        }
    }
}

/// Starts init (or `program`) under the socket-activation wrapper; returns the run and
/// the activated port.
fn activated(mode: Mode, listen_pid: &str, extra: &[&str], child: Vec<OsString>) -> (Running, u16) {
    let mut wrapper = vec![
        python().as_os_str().to_owned(),
        fixture("listen_wrapper.py").into_os_string(),
        "--listen-pid".into(),
    ];
    // As PID 1, init is pid 1 of its namespace: that is the LISTEN_PID that names it.
    let value = match (listen_pid, mode) {
        ("init", Mode::Pid1) => "1",
        ("init", Mode::Subreaper) => "self",
        (other, _) => other,
    };
    wrapper.push(value.into());
    wrapper.extend(extra.iter().map(OsString::from));
    wrapper.push("--".into());
    let run = Init::new(mode).wrap(&wrapper).arg("--").args(child).spawn();
    let line = run.wait_for_line("`port N`", common::TIMEOUT, |l| l.starts_with("port "));
    let port = line
        .trim_start_matches("port ")
        .parse()
        .unwrap_or_else(|_| run.fail(&format!("bad port line {line:?}")));
    (run, port)
}

/// Connects to the activated socket and reads one line, within a deadline.
fn fetch(port: u16) -> Result<String, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .map_err(|e| format!("read: {e}"))?;
    Ok(text)
}

fn env_line(run: &common::Finished) -> &str {
    run.stdout
        .lines()
        .find(|l| l.starts_with("env "))
        .unwrap_or_else(|| run.fail("the child printed no `env` line"))
}

#[test]
fn socket_activation_names_the_child_and_it_accepts_on_the_socket() {
    for mode in Mode::ALL {
        let (run, port) = activated(mode, "init", &[], py("activated.py", &[]));
        let answer = fetch(port).unwrap_or_else(|e| run.fail(&e));
        let done = run.wait();
        done.assert_code(0).assert_quiet();
        let env = env_line(&done);
        let pid = env
            .split_whitespace()
            .find_map(|w| w.strip_prefix("pid="))
            .unwrap_or_default();
        if !env.contains(&format!("LISTEN_PID={pid} "))
            || !env.contains("LISTEN_FDS=1 LISTEN_FDNAMES=web ")
        {
            done.fail("the child should see its own pid in LISTEN_PID, fds and names unchanged");
        }
        if answer != format!("hello from {pid}\n") || !done.stdout.contains("served\n") {
            done.fail(&format!(
                "the child should accept the connection on fd 3 (got {answer:?})"
            ));
        }
    }
}

#[test]
fn a_listen_pid_naming_another_process_is_passed_on_untouched() {
    for mode in Mode::ALL {
        let (run, _port) = activated(
            mode,
            "999999",
            &["--pidfdid", "42"],
            py("activated.py", &[]),
        );
        let done = run.wait();
        done.assert_code(3);
        let env = env_line(&done);
        if !env.contains("LISTEN_PID=999999 LISTEN_FDS=1 LISTEN_FDNAMES=web LISTEN_PIDFDID=42") {
            done.fail("LISTEN_PID and LISTEN_PIDFDID for someone else must pass unchanged");
        }
    }
}

#[test]
fn no_listen_pid_is_ever_added() {
    for mode in Mode::ALL {
        let (run, _port) = activated(mode, "none", &[], py("activated.py", &[]));
        let done = run.wait();
        done.assert_code(3);
        if !env_line(&done).contains("LISTEN_PID=- LISTEN_FDS=1") {
            done.fail("init must not invent a LISTEN_PID");
        }
    }
}

#[test]
fn listen_pidfdid_of_init_is_dropped_with_the_rewrite() {
    // systemd 254+ also names init's pidfd; the child can never match it, and
    // sd_listen_fds would refuse the sockets if it were passed on.
    let (run, port) = activated(
        Mode::Subreaper,
        "init",
        &["--pidfdid", "12345"],
        py("activated.py", &[]),
    );
    fetch(port).unwrap_or_else(|e| run.fail(&e));
    let done = run.wait();
    done.assert_code(0);
    if !env_line(&done).ends_with("LISTEN_PIDFDID=-") {
        done.fail("LISTEN_PIDFDID naming init should not reach the child");
    }
}

/// One `GET /` over the activated socket: the status line, within a deadline.
fn http_get(port: u16) -> Result<String, String> {
    use std::io::Write;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .map_err(|e| format!("read: {e}"))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

#[test]
fn gunicorn_serves_on_the_socket_systemd_activated_for_init() {
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/app");
    let gunicorn = |mode| {
        activated(
            mode,
            "init",
            &[],
            vec![
                venv_bin("gunicorn").into_os_string(),
                "--chdir".into(),
                app.clone().into_os_string(),
                "--workers".into(),
                "1".into(),
                "--no-control-socket".into(),
                // A bind of its own that must NOT be used: with the activated socket
                // gunicorn listens on fd 3 only.
                "--bind".into(),
                "127.0.0.1:1".into(),
                "app:wsgi".into(),
            ],
        )
    };
    for mode in Mode::ALL {
        let (run, port) = gunicorn(mode);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            match http_get(port) {
                Ok(line) if !line.is_empty() => break line,
                other if Instant::now() > deadline => {
                    run.fail(&format!("gunicorn never answered on fd 3: {other:?}"))
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        if !status.starts_with("HTTP/1.1 200") {
            run.fail(&format!("gunicorn answered {status:?}"));
        }
        run.signal(SIGTERM);
        let done = run.wait();
        done.assert_code(0);
        if done.stderr.contains("127.0.0.1:1") {
            done.fail("gunicorn should not have bound its own address");
        }
    }
}

/// moby's `parseInitVersion` (daemon/info_unix.go), as `docker info` runs it on
/// `INIT --version`: (version, commit), or an error for an unknown format.
fn parse_init_version(v: &str) -> Result<(String, String), String> {
    let parts: Vec<&str> = v.split(" - ").collect();
    let mut commit = String::new();
    let mut version = String::new();
    if parts.len() >= 2 {
        let git: Vec<&str> = parts[1].trim().split('.').collect();
        if git.len() == 2 && git[0] == "git" {
            commit = git[1].to_owned();
        }
    }
    let first = parts[0].trim();
    if let Some(rest) = first.strip_prefix("tini version ") {
        version = rest.to_owned();
    }
    if version.is_empty() && commit.is_empty() {
        return Err(format!("unknown output format: {v}"));
    }
    Ok((version, commit))
}

#[test]
fn version_is_one_line_that_dockers_daemon_parses() {
    let run = Init::new(Mode::Subreaper).arg("--version").run();
    run.assert_code(0).assert_quiet();
    let line = run.stdout.strip_suffix('\n').unwrap_or_default();
    if line.contains('\n')
        || !line.starts_with(&format!("pidone {} - git.", env!("CARGO_PKG_VERSION")))
    {
        run.fail("--version should be one line `pidone X.Y.Z - git.COMMIT`");
    }
    let (_, commit) = parse_init_version(line).unwrap_or_else(|e| run.fail(&e));
    let hex = commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit());
    if !(hex || commit == "unknown") {
        run.fail(&format!(
            "the commit should be 12 hex digits, got {commit:?}"
        ));
    }
    // Control: the parser refuses what init printed before this was fixed.
    assert!(parse_init_version("init 0.1.0").is_err());
    assert_eq!(
        parse_init_version("tini version 0.19.0 - git.de40ad0"),
        Ok(("0.19.0".into(), "de40ad0".into()))
    );
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    // Only meaningful when the binary was built from this checkout's HEAD.
    let head = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(head) = head else {
        panic!("this test needs the git checkout the binary was built from");
    };
    let run = Init::new(Mode::Subreaper).arg("-V").run();
    run.assert_code(0);
    let want = format!(" - git.{}\n", &head[..12]);
    if !run.stdout.ends_with(&want) {
        run.fail(&format!(
            "--version should end with {want:?} (INIT_BIN built from another commit?)"
        ));
    }
}

#[test]
fn license_prints_the_license_file() {
    let license = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("LICENSE"))
        .expect("LICENSE at the repository root");
    assert!(license.starts_with("MIT License"));
    for flag in ["-l", "--license"] {
        let run = Init::new(Mode::Subreaper).arg(flag).run();
        run.assert_code(0).assert_quiet();
        if run.stdout != license {
            run.fail("the license printed should be the LICENSE file");
        }
    }
}
