//! Containerfile.example, built and run by a real builder: runs `scripts/container-test`
//! and requires it to pass. Without a usable builder (no docker engine, no podman, and
//! not root with apt to install podman) the script fails, unless `INIT_TEST_ALLOW_SKIP=1`:
//! then it prints `SKIP: <reason>` and this test reports it through `common::skip`.
//! scripts/test runs this file on its own, after the rest of the suite, so that an image
//! build does not load the machine under the timing-bound tests.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{ALLOW_SKIP, Init, Mode, poll_until};

/// A cold run makes four stand-in base images and compiles init inside the build;
/// later runs reuse the images and the build cache.
const LIMIT: Duration = Duration::from_secs(30 * 60);

#[test]
fn containerfile_example_builds_runs_healthy_as_nonroot_and_stops_cleanly() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/container-test");
    // The harness removes the test's INIT_* variables; this one is the script's.
    let mut init = Init::new(Mode::Subreaper).program(&script);
    if let Some(value) = std::env::var_os(ALLOW_SKIP) {
        init = init.env(ALLOW_SKIP, value);
    }
    // Its own session: when the deadline passes, everything it started is killed.
    let mut run = init.spawn();
    if !poll_until(LIMIT, || run.try_status().is_some()) {
        // TERM first, so that its cleanup removes the containers it started.
        run.signal_pid(run.root_pid(), libc::SIGTERM);
        poll_until(Duration::from_secs(10), || run.try_status().is_some());
        run.fail(&format!("did not finish within {LIMIT:?}"));
    }
    let done = run.wait();
    done.assert_code(0);
    if let Some(reason) = done.stdout.lines().find(|l| l.starts_with("SKIP:")) {
        // The script skips only when allowed; say so the harness's way.
        common::skip(reason);
        return;
    }
    if !done.stdout.contains("Containerfile.example verified") {
        done.fail("the script exited 0 without verifying anything");
    }
    if !done
        .stdout
        .contains("the wheel (Containerfile.from-wheel) and the .deb verified")
    {
        done.fail("the script exited 0 without verifying the wheel and the .deb");
    }
}

#[test]
fn the_kubernetes_guide_shows_the_manifest_that_container_test_runs() {
    // docs/kubernetes.md prints examples/kubernetes/pod.yaml (without its comments);
    // scripts/container-test runs that file with podman kube play. They must not drift.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read =
        |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("read {p}: {e}"));
    let file: Vec<String> = read("examples/kubernetes/pod.yaml")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let guide = read("docs/kubernetes.md");
    let shown: Vec<String> = guide
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("docs/kubernetes.md has no yaml block"))
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(
        file == shown,
        "docs/kubernetes.md's manifest differs from examples/kubernetes/pod.yaml:\n{}\n---\n{}",
        shown.join("\n"),
        file.join("\n")
    );
}
