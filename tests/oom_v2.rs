//! OOM kills named on cgroup v2, which these hosts do not mount: a real kernel (Debian's,
//! booted by `scripts/vm amd64` under qemu) mounts cgroup2, enables the memory controller,
//! makes a cgroup with `memory.max` 48 MiB and runs init in it
//! (`tests/fixtures/oom_v2.sh`). Shown there: the main child's OOM kill named in the log
//! and the termination message, a kill of a process init does not reap reported within a
//! second (before the shell's own line a second after the kill), and a SIGKILL from
//! anyone else not called an OOM kill.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TempDir, init_bin};

/// The lines of one `== CASE` section of the VM's output.
fn section<'a>(out: &'a str, case: &str) -> Vec<&'a str> {
    out.lines()
        .skip_while(|l| *l != format!("== {case}"))
        .skip(1)
        .take_while(|l| *l != format!("== {case} done"))
        .collect()
}

#[test]
fn oom_kills_are_named_on_cgroup_v2_in_a_real_kernel() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = TempDir::new("oom-v2");
    let hog = dir.join("hog");
    let built = Command::new("rustc")
        .args([
            "-O",
            "--edition",
            "2021",
            "--target",
            "x86_64-unknown-linux-musl",
        ])
        .args(["-C", "linker=rust-lld", "-C", "strip=symbols", "-o"])
        .arg(&hog)
        .arg(root.join("tests/fixtures/hog.rs"))
        .status()
        .expect("run rustc");
    assert!(built.success(), "building the static hog failed");
    let mut add_init = std::ffi::OsString::from(init_bin());
    add_init.push(":/bin/pidone");
    let mut add_hog = std::ffi::OsString::from(&hog);
    add_hog.push(":/bin/hog");
    let out = Command::new(root.join("scripts/vm"))
        .args(["amd64", "--timeout", "400", "--mem", "512", "--add"])
        .arg(add_init)
        .arg("--add")
        .arg(add_hog)
        .arg("--")
        .arg(root.join("tests/fixtures/oom_v2.sh"))
        .output()
        .expect("run scripts/vm");
    let text = String::from_utf8_lossy(&out.stdout);
    let report = || {
        format!(
            "scripts/vm exited {:?}\nstdout:\n{text}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    };
    assert!(
        text.contains("cgroup 0::/app"),
        "the payload did not run in its cgroup v2: {}",
        report()
    );

    let main = section(&text, "main");
    let named = "main child killed by SIGKILL: the kernel's OOM killer (memory limit 48 MiB, \
                 oom_kill 0 -> 1)";
    assert!(
        main.contains(&format!("init: WARN {named}").as_str())
            && main.contains(&"exit 137")
            && main.contains(&format!("message: {named}").as_str())
            && main.contains(&"message: exit code 137"),
        "main child: {}",
        report()
    );

    let worker = section(&text, "worker");
    let line = worker
        .iter()
        .position(|l| l.contains("OOM killer"))
        .unwrap_or_else(|| panic!("no OOM line for the worker: {}", report()));
    let later = worker.iter().position(|l| *l == "a second later");
    assert!(
        worker[line]
            == "init: WARN a process not reaped by init (e.g. an app server's worker) killed \
                by the kernel's OOM killer (memory limit 48 MiB, oom_kill 1 -> 2)"
            && worker.contains(&"hog exited 137")
            && later.is_some_and(|l| line < l)
            && worker.contains(&"exit 5"),
        "worker (reported within a second, before `a second later`): {}",
        report()
    );
    assert!(
        worker.iter().any(|l| l.contains("1 OOM kill; exit code 5")),
        "the summary should count the OOM kill: {}",
        report()
    );

    let control = section(&text, "control");
    assert!(
        control.contains(&"exit 137")
            && control.contains(&"message: main child killed by SIGKILL")
            && !control.iter().any(|l| l.contains("OOM")),
        "a SIGKILL from the process itself is not an OOM kill: {}",
        report()
    );
    assert!(out.status.success(), "{}", report());
}
