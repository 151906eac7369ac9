//! Terminals: when init runs on a terminal, the child's process group is the
//! terminal's foreground group, so Ctrl-C reaches the child straight from the
//! kernel, and the child's death by SIGINT is exit 130.
//!
//! `tests/fixtures/pty_driver.py` gives init a fresh pty as its controlling
//! terminal and types Ctrl-C once the child says it is ready.

mod common;

use common::{Init, Mode, py};

#[test]
fn ctrl_c_on_the_terminal_reaches_the_child() {
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .wrap(py("pty_driver.py", &["--timeout", "20", "--"]))
            .arg("--")
            .args(py("signals.py", &["--die-on", "INT"]))
            .run();
        run.assert_code(130);
        // Sent by the terminal (the kernel, pid 0), not forwarded by init: the child
        // is in the foreground group.
        // (The terminal echoes the Ctrl-C as `^C` just before.)
        if !run
            .stdout
            .lines()
            .any(|l| l.ends_with("got 2 SIGINT from 0"))
        {
            run.fail("the child should get SIGINT from the terminal itself");
        }
        if !run.stdout.contains("pty_driver: exit 130") {
            run.fail("init should exit 130 after its child died of SIGINT");
        }
    }
}

#[test]
fn a_child_on_a_terminal_reads_its_input() {
    // The foreground group may read the terminal: no SIGTTIN stops the child.
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .wrap(py(
                "pty_driver.py",
                &["--timeout", "20", "--type", "hello\n", "--"],
            ))
            .args([
                "--",
                "sh",
                "-c",
                "echo ready; read line; echo \"read: $line\"; exit 3",
            ])
            .run();
        run.assert_code(3);
        if !run.stdout.lines().any(|l| l == "read: hello") {
            run.fail("the child should read the line typed on its terminal");
        }
    }
}
