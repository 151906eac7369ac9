//! Fuzzes the probe's HTTP response handling end to end: `probe::run` against a local
//! server that answers every request with the fuzz input (written in pieces whose size
//! the first byte picks, so heads split across reads), then closes.
//! Checks: no panic, no hang (the probe's 2 s deadline bounds it), and the exit code is
//! 0 or 1 (a reply is healthy or unhealthy, never a bad URL).
#![no_main]
#![allow(dead_code)]

#[path = "../../src/cli.rs"]
mod cli;
#[path = "../../src/config.rs"]
mod config;
#[path = "../../src/probe/mod.rs"]
mod probe;
#[path = "../../src/signals.rs"]
mod signals;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

struct Server {
    url: String,
    reply: Arc<Mutex<Vec<u8>>>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        // SAFETY: called once, before any other thread of ours writes to a socket.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!(
            "http://{}/health",
            listener.local_addr().expect("local addr")
        );
        let reply = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&reply);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_nodelay(true);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let data = shared.lock().map(|d| d.clone()).unwrap_or_default();
                let (step, body) = match data.split_first() {
                    Some((&b, rest)) => (usize::from(b % 64) + 1, rest),
                    None => (1, &data[..]),
                };
                for piece in body.chunks(step.max(1)) {
                    if conn.write_all(piece).is_err() {
                        break;
                    }
                }
                let _ = conn.shutdown(Shutdown::Write);
            }
        });
        Server { url, reply }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = server();
    *s.reply.lock().expect("reply lock") = data.to_vec();
    let code = probe::run(&s.url, Duration::from_secs(2));
    assert!(code == 0 || code == 1, "exit code {code} for a reply");
});
