//! pidone, `/init` in an image: a tiny PID 1 for containers. The path reads top to bottom:
//! configure -> block signals -> watch the memory cgroup -> spawn -> supervise (shutdown
//! included) -> exit code -> report why it ended.
//!
//! `no_main`: Rust's runtime start-up would set SIGPIPE to ignored and reopen closed
//! stdio on /dev/null before `main`, and the child must get both exactly as init got them.
#![cfg_attr(not(test), no_main)]
// Unit tests run under libtest's own main, which leaves the entry path unused there.
#![cfg_attr(test, allow(dead_code))]
// PID 1 must not panic: no unwrap, expect, panic or unchecked indexing outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod cli;
mod config;
mod exit_code;
mod log;
mod memcg;
mod pid1;
mod probe;
#[cfg(test)]
mod proptests;
mod reap;
mod report;
mod shutdown;
mod signals;
mod spawn;
mod supervise;

use std::ffi::OsString;

use tracing::error;

use crate::exit_code::{FAILURE, USAGE};

/// The C entry point: collects argv and exits with `run`'s code.
#[cfg(not(test))]
// SAFETY: `main` is the one symbol of that name in the binary (no_main), with the C
// signature the C runtime calls.
#[unsafe(no_mangle)]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStringExt;
    let mut args = Vec::new();
    for i in 0..usize::try_from(argc).unwrap_or(0) {
        // SAFETY: the C runtime passes `argc` valid pointers to NUL-terminated strings.
        let arg = unsafe { *argv.add(i) };
        if arg.is_null() {
            break;
        }
        // SAFETY: `arg` is a non-null, NUL-terminated string from the kernel.
        args.push(OsString::from_vec(
            unsafe { CStr::from_ptr(arg) }.to_bytes().to_vec(),
        ));
    }
    run(args)
}

/// `--version`: one line in the form Docker's daemon parses for `docker info`
/// (`<anything> - git.<commit>`); the commit is embedded by build.rs.
const VERSION: &str = concat!(
    "pidone ",
    env!("CARGO_PKG_VERSION"),
    " - git.",
    env!("INIT_GIT_COMMIT"),
    "\n"
);

/// `--license`: the license a binary shipped into other people's images carries.
const LICENSE: &str = include_str!("../LICENSE");

fn env(key: &str) -> Option<String> {
    std::env::var_os(key).map(|v| v.to_string_lossy().into_owned())
}

fn run(argv: Vec<OsString>) -> i32 {
    // Before anything is opened or written: no file of init's may land on a closed 0-2.
    spawn::prepare_fds();
    let args = match cli::parse(argv) {
        Ok(cli::Parsed::Run(args)) => *args,
        Ok(cli::Parsed::Help) => return print_stdout(cli::HELP),
        Ok(cli::Parsed::Version) => return print_stdout(VERSION),
        Ok(cli::Parsed::License) => return print_stdout(LICENSE),
        Err(e) => return usage_error(&format!("{e} (see --help)")),
    };
    let cfg = match config::resolve(args, &env) {
        Ok(cfg) => cfg,
        Err(e) => return usage_error(&e.to_string()),
    };
    if let Some(url) = &cfg.probe {
        signals::ignore(libc::SIGPIPE);
        return probe::run(url, cfg.probe_timeout);
    }
    log::init(cfg.verbosity, cfg.log_format);

    // From here on every signal is queued for the loop; init may no longer die of one.
    let (inherited, signalfd) =
        match signals::block_all().and_then(|i| Ok((i, signals::signalfd()?))) {
            Ok(both) => both,
            Err(e) => {
                error!("blocking signals (rt_sigprocmask, signalfd) failed: {e}");
                return FAILURE;
            }
        };
    let role = pid1::role();
    if pid1::setup(&cfg, role).is_err() {
        return FAILURE;
    }
    let memcg = memcg::MemCg::open();
    // A pause process starts nothing; otherwise the command is the main child.
    let child = if cfg.pause {
        None
    } else {
        match spawn::spawn(&cfg.command, &inherited, role.pid) {
            Ok(pid) => Some(pid),
            Err(e) => {
                error!("{e}");
                report::not_started(&cfg, &e.to_string(), e.exit_code());
                return e.exit_code();
            }
        }
    };
    let outcome = supervise::run(&cfg, role, child, &signalfd, memcg);
    let code = exit_code::exit_code(outcome.end, &cfg.remap_exit);
    report::finish(&cfg, &outcome, code);
    code
}

/// One line on stderr, exit 2. Signals are not blocked yet, so SIGPIPE is ignored first:
/// a broken stderr must not turn 2 into 141 (no child is started after this).
fn usage_error(message: &str) -> i32 {
    signals::ignore(libc::SIGPIPE);
    log::write_stderr(format!("init: {message}\n").as_bytes());
    USAGE
}

/// Prints `text` for --help and --version; exit 0 even if stdout is closed or broken.
fn print_stdout(text: &str) -> i32 {
    signals::ignore(libc::SIGPIPE);
    let _ = log::write_all(libc::STDOUT_FILENO, text.as_bytes());
    0
}
