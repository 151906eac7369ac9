//! A socket-activated server for scripts/runtime-test, built static (musl) into the test
//! image. It follows sd_listen_fds(3) strictly, as gunicorn and uvicorn do: it uses fd 3
//! only when `LISTEN_PID` is its own pid and `LISTEN_FDS` is 1; otherwise it refuses, with
//! one line on stderr, and exits 1. When activated it accepts one connection on fd 3,
//! answers `accepted by pid N on fd 3`, and exits 0.
use std::io::Write;
use std::net::TcpListener;
use std::os::fd::FromRawFd;
use std::process::exit;

fn main() {
    let pid = std::process::id();
    let listen_pid = std::env::var("LISTEN_PID").unwrap_or_default();
    let listen_fds = std::env::var("LISTEN_FDS").unwrap_or_default();
    if listen_pid != pid.to_string() || listen_fds != "1" {
        eprintln!(
            "sdlisten: not socket-activated: LISTEN_PID={listen_pid:?} (my pid is {pid}), \
             LISTEN_FDS={listen_fds:?}"
        );
        exit(1);
    }
    // SAFETY: sd_listen_fds(3): with LISTEN_PID naming this process and LISTEN_FDS=1,
    // fd 3 was handed to this process to own; nothing else in it uses fd 3.
    let listener = unsafe { TcpListener::from_raw_fd(3) };
    match listener.accept() {
        Ok((mut conn, _)) => {
            let reply = format!("accepted by pid {pid} on fd 3\n");
            if let Err(e) = conn.write_all(reply.as_bytes()) {
                eprintln!("sdlisten: write: {e}");
                exit(1);
            }
            print!("{reply}");
        }
        Err(e) => {
            eprintln!("sdlisten: accept on fd 3: {e}");
            exit(1);
        }
    }
}
