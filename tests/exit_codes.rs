//! Exit codes: the child's code, 128+N for a signal death, 126/127 for a command
//! that cannot run, `-e`/`INIT_REMAP_EXIT` remapping, and the optional `--`.

mod common;

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Finished, Init, Mode, TempDir, py};

/// `init -- sh -c SCRIPT` in `mode`, run to the end.
fn sh(mode: Mode, script: &str) -> common::Finished {
    Init::new(mode).args(["--", "sh", "-c", script]).run()
}

#[test]
fn the_childs_exit_code_is_inits_exit_code() {
    for mode in Mode::ALL {
        for code in [
            0, 1, 2, 3, 42, 64, 100, 125, 126, 127, 128, 129, 143, 200, 254, 255,
        ] {
            sh(mode, &format!("exit {code}"))
                .assert_code(code)
                .assert_quiet();
        }
    }
}

#[test]
fn a_child_killed_by_signal_n_gives_128_plus_n() {
    let dir = TempDir::new("signal-deaths");
    for mode in Mode::ALL {
        for (name, number) in [
            ("HUP", libc::SIGHUP),
            ("INT", libc::SIGINT),
            ("KILL", libc::SIGKILL),
            ("USR1", libc::SIGUSR1),
            ("SEGV", libc::SIGSEGV),
            ("USR2", libc::SIGUSR2),
            ("PIPE", libc::SIGPIPE),
            ("ALRM", libc::SIGALRM),
            ("TERM", libc::SIGTERM),
        ] {
            // The shell kills itself; no core file (cwd is a temp dir anyway).
            Init::new(mode)
                .current_dir(dir.path())
                .args(["--", "sh", "-c", &format!("ulimit -c 0; kill -s {name} $$")])
                .run()
                .assert_code(128 + number);
        }
    }
}

#[test]
fn a_missing_command_exits_127_and_says_which() {
    let dir = TempDir::new("not-found");
    let missing = dir.join("no-such-program");
    let missing = missing.to_str().unwrap();
    for mode in Mode::ALL {
        for command in [missing, "no-such-command-on-path-4711"] {
            let run = Init::new(mode).args(["--", command, "arg"]).run();
            run.assert_code(127);
            let name = command.rsplit('/').next().unwrap();
            if !run.stderr.contains(name) {
                run.fail(&format!("stderr should name the command {name:?}"));
            }
        }
    }
}

/// Asserts one stderr line, from init, that contains every one of `words`.
#[track_caller]
fn assert_one_line_saying(run: &Finished, words: &[&str]) {
    let lines = run.stderr_lines();
    if lines.len() != 1
        || !lines[0].starts_with("init: ")
        || words.iter().any(|w| !lines[0].contains(w))
    {
        run.fail(&format!("expected one line from init saying {words:?}"));
    }
}

#[test]
fn a_script_whose_interpreter_is_missing_exits_127_and_names_the_interpreter() {
    let dir = TempDir::new("bad-interpreter");
    let script = dir.write("script", "#!/nonexistent/interpreter -x\necho hi\n", 0o755);
    for mode in Mode::ALL {
        let run = Init::new(mode).arg("--").arg(&script).run();
        run.assert_code(127);
        assert_one_line_saying(&run, &["script", "#! interpreter /nonexistent/interpreter"]);
        // Found on PATH, the same: not "command not found" (the file is there).
        let run = Init::new(mode)
            .env("PATH", dir.path())
            .args(["--", "script"])
            .run();
        run.assert_code(127);
        assert_one_line_saying(
            &run,
            &["'script'", "#! interpreter /nonexistent/interpreter"],
        );
        if run.stderr.contains("not found: ") {
            run.fail("a script found on PATH is not a command that was not found");
        }
    }
}

#[test]
fn a_binary_whose_dynamic_loader_is_missing_exits_127_and_says_so() {
    // A copy of a dynamically linked binary whose PT_INTERP names a loader that does not
    // exist (same length, so the ELF stays valid): exec says ENOENT about the loader.
    let dir = TempDir::new("bad-loader");
    let original = fs::read("/bin/true").expect("read /bin/true");
    let interp = loader_of(&original);
    let missing: String = interp
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 1 { 'X' } else { c })
        .collect();
    let at = original
        .windows(interp.len())
        .position(|w| w == interp.as_bytes())
        .expect("the loader's path in /bin/true");
    let mut patched = original.clone();
    patched[at..at + interp.len()].copy_from_slice(missing.as_bytes());
    let binary = dir.join("no-loader");
    fs::write(&binary, patched).expect("write the copy");
    fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).expect("chmod");
    for mode in Mode::ALL {
        let run = Init::new(mode).arg("--").arg(&binary).run();
        run.assert_code(127);
        assert_one_line_saying(&run, &["no-loader", "dynamic loader"]);
    }
}

/// The dynamic loader an ELF file names (its PT_INTERP): the first of the usual paths
/// found in its bytes.
fn loader_of(elf: &[u8]) -> String {
    for name in [
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/ld-linux-aarch64.so.1",
        "/lib/ld-linux.so.2",
    ] {
        if elf.windows(name.len()).any(|w| w == name.as_bytes()) {
            return name.to_string();
        }
    }
    panic!("/bin/true names no loader this test knows: is it static?");
}

#[test]
fn a_command_that_is_not_executable_exits_126() {
    let dir = TempDir::new("not-executable");
    let no_x_bit = dir.write("no-x-bit", "#!/bin/sh\necho hi\n", 0o644);
    let no_shebang = dir.write("no-shebang", "echo this must not run\n", 0o755);
    let directory = dir.join("a-directory");
    std::fs::create_dir(&directory).unwrap();
    for mode in Mode::ALL {
        for command in [&no_x_bit, &no_shebang, &directory] {
            let run = Init::new(mode).arg("--").arg(command).run();
            run.assert_code(126);
            if run.stdout.contains("must not run") {
                run.fail("init ran a text file without #! through a shell");
            }
            let name = command.file_name().unwrap().to_str().unwrap();
            if !run.stderr.contains(name) {
                run.fail(&format!("stderr should name the command {name:?}"));
            }
        }
    }
}

#[test]
fn remap_exit_turns_a_sigterm_death_into_success() {
    for mode in Mode::ALL {
        for (remap, expected) in [(None, 143), (Some("143"), 0), (Some("1"), 143)] {
            let mut init = Init::new(mode);
            if let Some(code) = remap {
                init = init.args(["-e", code]);
            }
            let run = init
                .arg("--")
                .args(py("signals.py", &["--die-on", "TERM"]))
                .spawn();
            run.wait_ready("");
            run.signal(libc::SIGTERM);
            run.wait().assert_code(expected);
        }
    }
}

#[test]
fn remap_exit_turns_a_listed_code_into_zero_and_leaves_others() {
    for mode in Mode::ALL {
        for (flags, script, expected) in [
            (&["-e", "3"][..], "exit 3", 0),
            (&["-e", "4"][..], "exit 3", 3),
            (&["-e", "1", "-e", "3"][..], "exit 3", 0),
            (&["-e", "1", "-e", "3"][..], "exit 1", 0),
            (&["--remap-exit", "3"][..], "exit 3", 0),
            (&["-e", "3"][..], "exit 0", 0),
        ] {
            Init::new(mode)
                .args(flags)
                .args(["--", "sh", "-c", script])
                .run()
                .assert_code(expected);
        }
    }
}

#[test]
fn init_remap_exit_is_a_comma_list() {
    for mode in Mode::ALL {
        for (script, expected) in [("exit 3", 0), ("exit 143", 0), ("exit 4", 4)] {
            Init::new(mode)
                .env("INIT_REMAP_EXIT", "3,143")
                .args(["--", "sh", "-c", script])
                .run()
                .assert_code(expected);
        }
    }
}

#[test]
fn a_remap_exit_flag_replaces_the_init_remap_exit_list() {
    for mode in Mode::ALL {
        // -e 4 is given, so INIT_REMAP_EXIT=3 is not read: 3 stays 3.
        Init::new(mode)
            .env("INIT_REMAP_EXIT", "3")
            .args(["-e", "4", "--", "sh", "-c", "exit 3"])
            .run()
            .assert_code(3);
        // ... and not even parsed.
        Init::new(mode)
            .env("INIT_REMAP_EXIT", "not,a,list")
            .args(["-e", "4", "--", "sh", "-c", "exit 4"])
            .run()
            .assert_code(0);
    }
}

#[test]
fn the_double_dash_is_optional() {
    for mode in Mode::ALL {
        let run = Init::new(mode).args(["echo", "hi"]).run();
        run.assert_code(0).assert_quiet();
        if run.stdout != "hi\n" {
            run.fail("expected `hi` on stdout");
        }
        Init::new(mode)
            .args(["sh", "-c", "exit 3"])
            .run()
            .assert_code(3);
    }
}

#[test]
fn words_after_the_command_belong_to_the_command() {
    for mode in Mode::ALL {
        for args in [
            &["printf", "%s,", "-t", "5", "--bogus", "-v", "--", "-e"][..],
            &[
                "--", "printf", "%s,", "-t", "5", "--bogus", "-v", "--", "-e",
            ][..],
        ] {
            let run = Init::new(mode).args(args).run();
            run.assert_code(0);
            if run.stdout != "-t,5,--bogus,-v,--,-e," {
                run.fail("the command's own options must reach it untouched");
            }
        }
    }
}

#[test]
fn ls_dash_l_after_the_double_dash_gets_its_dash_l() {
    let dir = TempDir::new("ls");
    dir.write("some-file", "x", 0o640);
    for mode in Mode::ALL {
        let run = Init::new(mode)
            .args(["--", "ls", "-l"])
            .arg(dir.path())
            .run();
        run.assert_code(0);
        // Long format: permissions, then the name.
        if !run
            .stdout
            .lines()
            .any(|l| l.starts_with("-rw-r-----") && l.ends_with("some-file"))
        {
            run.fail("expected `ls -l` long format");
        }
    }
}

#[test]
fn an_argument_list_too_long_for_the_command_exits_126() {
    // init is handed the command's arguments by an exec that succeeded, so they fit; but
    // the kernel also counts the file name each exec is given, and a command found on
    // PATH in a deep directory is exec'd with its full path: the child's exec needs
    // `delta` bytes more than init's own did (the directory, less init's path as file
    // name and argv[0] and the "--"). Under RLIMIT_STACK 1 MiB the room for strings and
    // pointers is a quarter of that (execve(2)); the arguments fill it to `delta / 2`
    // below the limit, so init's exec fits and the child's does not (E2BIG).
    const STACK: usize = 1 << 20;
    let room = STACK / 4;
    let tmp = TempDir::new("e2big");
    let mut deep = tmp.path().to_path_buf();
    while deep.as_os_str().len() < 3300 {
        deep.push("d".repeat(200));
    }
    fs::create_dir_all(&deep).expect("create the deep directory");
    let truth = ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .expect("a `true` binary");
    std::os::unix::fs::symlink(truth, deep.join("x")).expect("symlink x -> true");

    let init = common::init_bin();
    let init_len = init.as_os_str().len();
    let delta = deep.as_os_str().len() as isize - 2 * init_len as isize - 2 - 16;
    assert!(
        delta > 1000,
        "init's path is too long for this test: {}",
        init.display()
    );
    // The environment init gets: the harness drops INIT_*, TINI_* and LOG_FORMAT, and
    // PATH is the deep directory.
    let path_entry = format!("PATH={}", deep.display());
    let env_bytes: usize = std::env::vars_os()
        .filter(|(k, _)| {
            let k = k.as_bytes();
            !(k.starts_with(b"INIT_")
                || k.starts_with(b"TINI_")
                || k == b"LOG_FORMAT"
                || k == b"PATH")
        })
        .map(|(k, v)| k.len() + v.len() + 2 + 8)
        .sum::<usize>()
        + path_entry.len()
        + 1
        + 8;
    // init's exec: its path (file name), then argv: init, "--", "x", the fillers.
    let fixed = 2 * (init_len + 1) + 3 + 2 + 3 * 8 + 8 + env_bytes;
    let fillers = |total: usize| -> Vec<String> {
        let mut args = Vec::new();
        let mut used = fixed;
        while used + 4096 + 1 + 8 <= total {
            args.push("a".repeat(4096));
            used += 4096 + 1 + 8;
        }
        args.push("b".repeat(total - used - 1 - 8));
        args
    };
    let half = delta as usize / 2;
    let run = |args: &[String]| {
        Init::new(Mode::Subreaper)
            .wrap(["prlimit".to_string(), format!("--stack={STACK}")])
            .env("PATH", &deep)
            .args(["--", "x"])
            .args(args)
            .run()
    };
    // `delta / 2` below the room: init starts, the child's exec fails.
    let too_long = run(&fillers(room - half));
    too_long.assert_code(126);
    assert_one_line_saying(&too_long, &["'x'", "Argument list too long"]);
    // The control: `delta` fewer bytes, and the same command runs (exit 0 from `true`),
    // so the 126 above came from the length alone.
    run(&fillers(room - half - delta as usize))
        .assert_code(0)
        .assert_quiet();
}

#[test]
fn an_explicit_subreaper_the_kernel_refuses_exits_1_and_starts_nothing() {
    // The control: asked for nothing, init makes itself a subreaper on its own, and a
    // refusal is only a warning; the command runs.
    let run = Init::new(Mode::Subreaper)
        .wrap(common::refusing_prctl(&["--subreaper"]))
        .args(["--", "sh", "-c", "echo ran; exit 3"])
        .run();
    run.assert_code(3);
    assert_one_line_saying(&run, &["WARN", "prctl(PR_SET_CHILD_SUBREAPER)"]);
    // Asked for explicitly (-s, INIT_SUBREAPER; TINI_SUBREAPER in tests/config_env.rs):
    // init's own failure, before anything starts.
    let asks = [
        Init::new(Mode::Subreaper).arg("-s"),
        Init::new(Mode::Subreaper).arg("--subreaper"),
        Init::new(Mode::Subreaper).env("INIT_SUBREAPER", "1"),
        Init::new(Mode::Subreaper).env("INIT_SUBREAPER", "yes"),
    ];
    for init in asks {
        let init = init.wrap(common::refusing_prctl(&["--subreaper"]));
        let run = init.args(["--", "sh", "-c", "echo ran; exit 3"]).run();
        run.assert_code(1);
        assert_one_line_saying(&run, &["ERROR", "prctl(PR_SET_CHILD_SUBREAPER)"]);
        if run.stdout.contains("ran") {
            run.fail("the command ran although init could not set itself up");
        }
    }
}

#[test]
fn a_parent_death_signal_the_kernel_refuses_exits_1_and_starts_nothing() {
    for mode in Mode::ALL {
        for (flags, var) in [(&["-p", "USR2"][..], None), (&[][..], Some("USR2"))] {
            let mut init = Init::new(mode).wrap(common::refusing_prctl(&["--pdeathsig", "12"]));
            if let Some(value) = var {
                init = init.env("INIT_PDEATHSIG", value);
            }
            let run = init
                .args(flags)
                .args(["--", "sh", "-c", "echo ran; exit 3"])
                .run();
            run.assert_code(1);
            assert_one_line_saying(&run, &["ERROR", "PR_SET_PDEATHSIG", "SIGUSR2"]);
            if run.stdout.contains("ran") {
                run.fail("the command ran although init could not set itself up");
            }
        }
        // The control: another signal is not refused, and the command runs.
        Init::new(mode)
            .wrap(common::refusing_prctl(&["--pdeathsig", "12"]))
            .args(["-p", "USR1", "--", "sh", "-c", "exit 3"])
            .run()
            .assert_code(3)
            .assert_quiet();
    }
}
