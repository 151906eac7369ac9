//! init in real runtimes' init slot: runs `scripts/runtime-test` (podman `--init-path`
//! and containers.conf `init_path`, a pod whose infra container runs `init --pause`,
//! socket activation through podman, Docker's daemon.json `init-path` and `docker info`)
//! and fails on any FAIL line or a non-zero exit. The binary under test is `$INIT_BIN`
//! (it must be static: it runs inside a busybox image), else the script builds the
//! crate's x86_64 musl release binary.
//!
//! A SKIP (a runtime or tool missing on this machine) fails the test too, with the
//! reasons, unless `INIT_TEST_ALLOW_SKIP=1` is set: then each skip is printed on stderr
//! past the harness's capture. CI (root with apt) installs everything and must not skip.
//! scripts/test runs this file on its own, after the rest of the suite, so that the
//! container engines do not load the machine under the timing-bound tests.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A cold run (images, a private dockerd, about twenty containers) takes about a minute;
/// installing podman and docker.io with apt can add a few.
const LIMIT: Duration = Duration::from_secs(15 * 60);

#[test]
fn real_runtimes_podman_and_docker_run_init_as_their_init() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/runtime-test");
    let mut child = Command::new(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a timeout ends the engines' clients too (the
        // script's trap then removes containers and stops its dockerd).
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
    let readers: Vec<_> = [
        Box::new(child.stdout.take().expect("piped")) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().expect("piped")),
    ]
    .into_iter()
    .map(|mut pipe| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    })
    .collect();

    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let pgid = child.id() as i32;
            // SAFETY: kill(2) has no memory-safety preconditions; the group is the
            // script's own (process_group(0) above).
            unsafe { libc::kill(-pgid, libc::SIGTERM) };
            thread::sleep(Duration::from_secs(20));
            // SAFETY: as above.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(200));
    };
    let mut output = readers.into_iter().map(|r| r.join().unwrap_or_default());
    let (stdout, stderr) = (output.next().unwrap(), output.next().unwrap());
    let report = format!(
        "{}: {}\n\nstdout:\n{stdout}\nstderr:\n{stderr}",
        script.display(),
        match status {
            Some(s) => s.to_string(),
            None => format!("did not finish within {LIMIT:?}"),
        }
    );

    let lines =
        |prefix: &str| -> Vec<&str> { stdout.lines().filter(|l| l.starts_with(prefix)).collect() };
    let (passes, fails, skips) = (lines("PASS: "), lines("FAIL: "), lines("SKIP: "));
    assert!(
        fails.is_empty(),
        "{} check(s) failed\n{report}",
        fails.len()
    );
    assert!(status.is_some_and(|s| s.success()), "{report}");
    let summary = format!("{} passed, 0 failed, {} skipped", passes.len(), skips.len());
    assert!(
        stdout.lines().any(|l| l == summary),
        "the script's closing line does not match its checks (expected \"{summary}\")\n{report}"
    );
    if !skips.is_empty() {
        let allowed = std::env::var("INIT_TEST_ALLOW_SKIP").is_ok_and(|v| v == "1");
        assert!(
            allowed,
            "{} runtime check(s) skipped (set INIT_TEST_ALLOW_SKIP=1 to accept that on a \
             machine without the runtimes):\n{}\n\n{report}",
            skips.len(),
            skips.join("\n")
        );
        // Straight to stderr, past the test harness's capture: a skip must be seen.
        for skip in &skips {
            let _ = writeln!(std::io::stderr(), "tests/runtimes.rs: {skip}");
        }
    }
    // Every check's line, for `--nocapture` (scripts/test shows them).
    print!("{stdout}");
    assert!(
        !passes.is_empty() || !skips.is_empty(),
        "the script exited 0 without checking anything\n{report}"
    );
}
