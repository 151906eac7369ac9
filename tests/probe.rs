//! Integration tests for `init --probe URL`: the real binary against real local servers.
//!
//! Each probe runs through the shared harness (`common`): `$INIT_BIN` or the crate's
//! binary, its own session, the test's `INIT_*` variables removed, a deadline that fails
//! with a full report. Server threads end by [`LIMIT`] or at the end of the test.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use common::{ClosedPort, Finished, Init, Mode};

/// Upper bound on any wait of a server thread.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `init --probe URL [--probe-timeout T]` with extra environment variables.
fn probe_env(url: &str, timeout: Option<&str>, envs: &[(&str, &str)]) -> Finished {
    let mut init = Init::new(Mode::Subreaper).args(["--probe", url]);
    if let Some(timeout) = timeout {
        init = init.args(["--probe-timeout", timeout]);
    }
    for (key, value) in envs {
        init = init.env(key, value);
    }
    init.run()
}

fn probe(url: &str, timeout: Option<&str>) -> Finished {
    probe_env(url, timeout, &[])
}

#[track_caller]
fn assert_healthy(o: &Finished) {
    o.assert_code(0);
    if !o.stdout.is_empty() || !o.stderr.is_empty() {
        o.fail("a healthy probe prints nothing");
    }
}

/// Exit `code` with exactly one `init: probe: ` line on stderr containing `needle`.
#[track_caller]
fn assert_fails(o: &Finished, code: i32, needle: &str) {
    o.assert_code(code);
    let one_line = o.stderr.ends_with('\n') && o.stderr.lines().count() == 1;
    if !o.stdout.is_empty() || !one_line || !o.stderr.starts_with("init: probe: ") {
        o.fail("expected nothing on stdout and one `init: probe: ` line on stderr");
    }
    if !o.stderr.contains(needle) {
        o.fail(&format!("expected {needle:?} on stderr"));
    }
}

#[track_caller]
fn assert_unhealthy(o: &Finished, needle: &str) {
    assert_fails(o, 1, needle);
}

#[track_caller]
fn assert_bad_url(o: &Finished, needle: &str) {
    assert_fails(o, 2, needle);
}

/// Asserts the probe took about `timeout` (the deadline was honoured, not cut short).
#[track_caller]
fn assert_took_about(o: &Finished, timeout: Duration) {
    let slack = Duration::from_millis(2500);
    assert!(
        o.elapsed >= timeout.saturating_sub(Duration::from_millis(100))
            && o.elapsed < timeout + slack,
        "took {:?}, timeout {timeout:?}: {o:?}",
        o.elapsed
    );
}

/// Asserts the probe finished well before its deadline.
#[track_caller]
fn assert_quick(o: &Finished) {
    assert!(
        o.elapsed < Duration::from_secs(2),
        "took {:?}: {o:?}",
        o.elapsed
    );
}

/// One accepted connection, handed to a server's handler.
struct Conn {
    stream: TcpStream,
    requests: mpsc::Sender<String>,
    done: mpsc::Receiver<()>,
}

impl Conn {
    /// Reads the request head (bounded) and reports it to the test.
    fn read_request(&mut self) {
        let _ = self.stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let _ = self
            .requests
            .send(String::from_utf8_lossy(&req).into_owned());
    }

    fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Waits `d`; false when the test is over (stop early).
    fn pause(&self, d: Duration) -> bool {
        matches!(self.done.recv_timeout(d), Err(RecvTimeoutError::Timeout))
    }

    /// Keeps the connection open until the test is over.
    fn hold(&self) {
        let _ = self.done.recv_timeout(LIMIT);
    }
}

/// A server thread answering one connection with a handler; dropping it ends the thread.
struct Server {
    port: u16,
    requests: mpsc::Receiver<String>,
    _done: mpsc::Sender<()>,
}

impl Server {
    fn request(&self) -> String {
        self.requests
            .recv_timeout(Duration::from_secs(5))
            .expect("the server got a request")
    }
}

fn serve_on(listener: TcpListener, handler: impl FnOnce(&mut Conn) + Send + 'static) -> Server {
    let port = listener.local_addr().expect("local addr").port();
    let (req_tx, req_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    thread::spawn(move || {
        let start = Instant::now();
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if start.elapsed() > LIMIT => return,
                Err(_) => {
                    if let Err(TryRecvError::Disconnected) = done_rx.try_recv() {
                        return;
                    }
                    thread::sleep(Duration::from_millis(2));
                }
            }
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
        let mut conn = Conn {
            stream,
            requests: req_tx,
            done: done_rx,
        };
        handler(&mut conn);
    });
    Server {
        port,
        requests: req_rx,
        _done: done_tx,
    }
}

fn serve(handler: impl FnOnce(&mut Conn) + Send + 'static) -> Server {
    serve_on(
        TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1"),
        handler,
    )
}

/// A server that reads the request, answers `reply` and closes.
fn reply(reply: &'static str) -> Server {
    serve(move |c| {
        c.read_request();
        c.send(reply.as_bytes());
    })
}

fn status(code: u16) -> (Server, String) {
    let head: &'static str = match code {
        200 => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        204 => "HTTP/1.1 204 No Content\r\n\r\n",
        301 => {
            "HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n"
        }
        404 => "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
        500 => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
        503 => "HTTP/1.1 503 Service Unavailable\r\n\r\n",
        _ => unreachable!(),
    };
    let server = reply(head);
    let url = format!("http://127.0.0.1:{}/health", server.port);
    (server, url)
}

#[test]
fn http_200_is_healthy_and_sends_the_documented_request() {
    let server = reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let port = server.port;
    let o = probe(&format!("http://127.0.0.1:{port}/health?full=1#frag"), None);
    assert_healthy(&o);
    assert_quick(&o);
    assert_eq!(
        server.request(),
        format!(
            "GET /health?full=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: init-probe\r\nConnection: close\r\n\r\n"
        )
    );
}

#[test]
fn http_default_path_is_slash() {
    let server = reply("HTTP/1.1 200 OK\r\n\r\n");
    assert_healthy(&probe(&format!("http://127.0.0.1:{}", server.port), None));
    assert!(server.request().starts_with("GET / HTTP/1.1\r\n"));
}

#[test]
fn http_204_and_301_are_healthy() {
    for code in [204, 301] {
        let (server, url) = status(code);
        assert_healthy(&probe(&url, None));
        drop(server);
    }
}

#[test]
fn http_404_is_unhealthy() {
    let (_server, url) = status(404);
    let o = probe(&url, None);
    assert_unhealthy(&o, "status 404");
    assert_eq!(o.stderr, format!("init: probe: {url}: status 404\n"));
}

#[test]
fn http_500_and_503_are_unhealthy() {
    for code in [500, 503] {
        let (_server, url) = status(code);
        let o = probe(&url, None);
        assert_eq!(
            o.stderr,
            format!("init: probe: {url}: status {code}\n"),
            "{o:?}"
        );
        assert_unhealthy(&o, &format!("status {code}"));
    }
}

#[test]
fn http_1_0_server_is_fine() {
    let server = reply("HTTP/1.0 200 OK\r\n\r\n");
    assert_healthy(&probe(&format!("http://127.0.0.1:{}/", server.port), None));
}

#[test]
fn informational_responses_are_skipped() {
    let server = reply(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    );
    assert_healthy(&probe(&format!("http://127.0.0.1:{}/", server.port), None));
    let server = reply("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\n\r\n");
    assert_unhealthy(
        &probe(&format!("http://127.0.0.1:{}/", server.port), None),
        "status 500",
    );
}

#[test]
fn connection_refused_is_unhealthy() {
    let closed = ClosedPort::new();
    let url = format!("http://127.0.0.1:{}/health", closed.port());
    let o = probe(&url, None);
    assert_eq!(
        o.stderr,
        format!("init: probe: {url}: connection refused\n")
    );
    assert_unhealthy(&o, "connection refused");
    assert_quick(&o);
}

#[test]
fn accepts_but_never_answers_times_out() {
    let server = serve(|c| {
        c.read_request();
        c.hold();
    });
    let url = format!("http://127.0.0.1:{}/health", server.port);
    let o = probe(&url, Some("1s"));
    assert_eq!(
        o.stderr,
        format!("init: probe: {url}: timed out after 1s\n")
    );
    assert_unhealthy(&o, "timed out after 1s");
    assert_took_about(&o, Duration::from_secs(1));
    assert!(server.request().starts_with("GET /health HTTP/1.1\r\n"));
}

#[test]
fn never_accepted_connection_times_out() {
    // The kernel completes the handshake from the backlog; nobody ever reads.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let o = probe(&format!("http://127.0.0.1:{port}/"), Some("1s"));
    assert_unhealthy(&o, "timed out after 1s");
    assert_took_about(&o, Duration::from_secs(1));
    drop(listener);
}

#[test]
fn default_timeout_is_3s() {
    let server = serve(|c| {
        c.read_request();
        c.hold();
    });
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), None);
    assert_unhealthy(&o, "timed out after 3s");
    assert_took_about(&o, Duration::from_secs(3));
}

#[test]
fn sub_second_timeout() {
    let server = serve(|c| {
        c.read_request();
        c.hold();
    });
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), Some("500ms"));
    assert_unhealthy(&o, "timed out after 500ms");
    assert_took_about(&o, Duration::from_millis(500));
}

#[test]
fn init_probe_timeout_environment_variable() {
    let server = serve(|c| {
        c.read_request();
        c.hold();
    });
    let url = format!("http://127.0.0.1:{}/", server.port);
    let o = probe_env(&url, None, &[("INIT_PROBE_TIMEOUT", "1s")]);
    assert_unhealthy(&o, "timed out after 1s");
    assert_took_about(&o, Duration::from_secs(1));
}

#[test]
fn garbage_reply_is_unhealthy() {
    let server = serve(|c| {
        c.read_request();
        c.send(b"SSH-2.0-OpenSSH_9.6\r\n");
        c.hold(); // and keep the connection open: the verdict must not wait for it
    });
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), Some("5s"));
    assert_unhealthy(&o, "not an HTTP response");
    assert_quick(&o);

    let server = reply("\x00\x01\x02\x7f\u{fffd} binary\r\n\r\n");
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), None);
    assert_unhealthy(&o, "not an HTTP response");
}

#[test]
fn closed_without_reply_is_unhealthy() {
    let server = serve(|c| c.read_request());
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), None);
    assert_unhealthy(&o, "connection closed without a response");
    assert_quick(&o);
}

#[test]
fn truncated_head_is_unhealthy() {
    let server = reply("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n");
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), None);
    assert_unhealthy(&o, "before the end of the response head");
    assert_quick(&o);
}

#[test]
fn slow_headers_within_the_deadline_are_honoured() {
    let server = serve(|c| {
        c.read_request();
        if !c.send(b"HTTP/1.1 200 OK\r\n") {
            return;
        }
        for i in 0..10 {
            if !c.pause(Duration::from_millis(100))
                || !c.send(format!("X-Slow-{i}: yes\r\n").as_bytes())
            {
                return;
            }
        }
        c.send(b"\r\n");
        c.hold();
    });
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), Some("5s"));
    assert_healthy(&o);
    // It waited for the end of the head (about 1 s) and no longer.
    assert!(o.elapsed >= Duration::from_millis(900), "{o:?}");
    assert!(o.elapsed < Duration::from_secs(4), "{o:?}");
}

#[test]
fn slow_headers_are_cut_at_the_deadline() {
    // A byte every 100 ms: each read succeeds, so only a whole-probe deadline stops it.
    let server = serve(|c| {
        c.read_request();
        if !c.send(b"HTTP/1.1 200 OK\r\n") {
            return;
        }
        for b in b"X-Trickle: ".iter().chain([b'a'; 200].iter()).cycle() {
            if !c.pause(Duration::from_millis(100)) || !c.send(&[*b]) {
                return;
            }
        }
    });
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), Some("1s"));
    assert_unhealthy(&o, "timed out after 1s");
    assert_took_about(&o, Duration::from_secs(1));
}

#[test]
fn huge_head_is_unhealthy_not_a_hang() {
    let server = serve(|c| {
        c.read_request();
        if !c.send(b"HTTP/1.1 200 OK\r\n") {
            return;
        }
        let line = format!("X-Pad: {}\r\n", "a".repeat(100));
        for _ in 0..2000 {
            if !c.send(line.as_bytes()) {
                return;
            }
        }
        c.hold();
    });
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), Some("5s"));
    assert_unhealthy(&o, "larger than 8 KiB");
    assert_quick(&o);
}

#[test]
fn body_is_not_waited_for() {
    // The server promises a big body and never closes: the status line decides.
    let server = serve(|c| {
        c.read_request();
        c.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial body");
        c.hold();
    });
    let o = probe(&format!("http://127.0.0.1:{}/", server.port), Some("5s"));
    assert_healthy(&o);
    assert_quick(&o);
}

#[test]
fn tcp_open_is_healthy() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let o = probe(&format!("tcp://127.0.0.1:{port}"), None);
    assert_healthy(&o);
    assert_quick(&o);
    drop(listener);
}

#[test]
fn tcp_closed_is_unhealthy() {
    let closed = ClosedPort::new();
    let url = format!("tcp://127.0.0.1:{}", closed.port());
    let o = probe(&url, None);
    assert_eq!(
        o.stderr,
        format!("init: probe: {url}: connection refused\n")
    );
    assert_unhealthy(&o, "connection refused");
    assert_quick(&o);
}

#[test]
fn ipv6_literal() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        common::skip("no IPv6 loopback (cannot bind [::1]:0)");
        return;
    };
    let server = serve_on(listener, |c| {
        c.read_request();
        c.send(b"HTTP/1.1 200 OK\r\n\r\n");
    });
    let port = server.port;
    assert_healthy(&probe(&format!("http://[::1]:{port}/ready"), None));
    assert!(
        server
            .request()
            .contains(&format!("\r\nHost: [::1]:{port}\r\n"))
    );

    let listener = TcpListener::bind("[::1]:0").expect("bind [::1]");
    let port = listener.local_addr().expect("addr").port();
    assert_healthy(&probe(&format!("tcp://[::1]:{port}"), None));
    let closed = ClosedPort::on(std::net::Ipv6Addr::LOCALHOST.into()).expect("bind [::1]:0");
    assert_unhealthy(
        &probe(&format!("tcp://[::1]:{}", closed.port()), None),
        "connection refused",
    );
}

#[test]
fn host_name_is_resolved() {
    let v4_localhost = ("localhost", 1)
        .to_socket_addrs()
        .map(|mut addrs| addrs.any(|a| a.ip() == Ipv4Addr::LOCALHOST))
        .unwrap_or(false);
    if !v4_localhost {
        common::skip("localhost does not resolve to 127.0.0.1 here");
        return;
    }
    // If localhost also resolves to ::1 (nothing listens there), that address is
    // refused and the next one is tried.
    let (server, _) = status(200);
    let port = server.port;
    assert_healthy(&probe(&format!("http://localhost:{port}/health"), None));
    assert!(
        server
            .request()
            .contains(&format!("\r\nHost: localhost:{port}\r\n"))
    );

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    assert_healthy(&probe(&format!("tcp://localhost:{port}"), None));
}

#[test]
fn unresolvable_host_is_unhealthy_within_the_deadline() {
    // `.invalid` never resolves (RFC 2606); without network the lookup may hang instead.
    let o = probe("http://no-such-host.invalid:8000/", Some("2s"));
    o.assert_code(1);
    assert!(
        o.stderr.contains("cannot resolve \"no-such-host.invalid\"")
            || o.stderr.contains("timed out after 2s"),
        "{o:?}"
    );
    assert_unhealthy(&o, "no-such-host.invalid");
    assert!(o.elapsed < Duration::from_millis(4500), "{o:?}");
}

#[test]
fn variables_are_expanded_from_the_environment() {
    let (server, _) = status(200);
    let port = server.port.to_string();
    let o = probe_env(
        "http://127.0.0.1:${INIT_TEST_PORT}/health",
        None,
        &[("INIT_TEST_PORT", &port)],
    );
    assert_healthy(&o);
    assert!(server.request().starts_with("GET /health HTTP/1.1\r\n"));

    let (server, _) = status(200);
    let port = server.port.to_string();
    let o = probe_env(
        "http://$INIT_TEST_HOST:$INIT_TEST_PORT/$INIT_TEST_PATH",
        None,
        &[
            ("INIT_TEST_HOST", "127.0.0.1"),
            ("INIT_TEST_PORT", &port),
            ("INIT_TEST_PATH", "ready"),
        ],
    );
    assert_healthy(&o);
    assert!(server.request().starts_with("GET /ready HTTP/1.1\r\n"));

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    assert_healthy(&probe_env(
        "tcp://127.0.0.1:$PORT",
        None,
        &[("PORT", &port)],
    ));
}

#[test]
fn expanded_url_is_named_when_unhealthy() {
    let (server, url) = status(500);
    let port = server.port.to_string();
    let o = probe_env(
        "http://127.0.0.1:${INIT_TEST_PORT}/health",
        None,
        &[("INIT_TEST_PORT", &port)],
    );
    assert_eq!(
        o.stderr,
        format!("init: probe: {url}: status 500\n"),
        "{o:?}"
    );
    assert_unhealthy(&o, "status 500");
}

#[test]
fn unset_variable_is_exit_2_naming_it() {
    for url in [
        "http://127.0.0.1:${INIT_TEST_UNSET_VAR}/health",
        "tcp://127.0.0.1:$INIT_TEST_UNSET_VAR",
    ] {
        let o = probe(url, None);
        assert_bad_url(&o, "INIT_TEST_UNSET_VAR");
        assert!(o.stderr.contains("not set"), "{o:?}");
        assert_quick(&o);
    }
}

#[test]
fn bad_or_unsupported_urls_are_exit_2_naming_them() {
    for (url, needle) in [
        ("https://127.0.0.1/health", "unsupported"),
        ("ftp://127.0.0.1/", "unsupported"),
        ("127.0.0.1:8000", "bad URL"),
        ("http://127.0.0.1:99999/", "out of range"),
        ("http://127.0.0.1:http/", "bad port"),
        ("http:///health", "missing host"),
        ("tcp://127.0.0.1", "missing port"),
        ("http://::1:8000/", "brackets"),
        ("http://[::1/", "]"),
        ("http://127.0.0.1:8000/a b", "spaces"),
    ] {
        let o = probe(url, None);
        assert_bad_url(&o, needle);
        assert!(
            o.stderr.contains(&format!("{url:?}")),
            "names the URL: {o:?}"
        );
        assert_quick(&o);
    }
}

#[test]
fn a_zero_timeout_always_times_out() {
    // Even against a server that answers at once and an open TCP port; the control
    // with a real timeout shows both are healthy.
    let (server, url) = status(200);
    let o = probe(&url, Some("0"));
    assert_eq!(
        o.stderr,
        format!("init: probe: {url}: timed out after 0s\n"),
        "{o:?}"
    );
    assert_unhealthy(&o, "timed out after 0s");
    assert_quick(&o);
    drop(server);
    let (_server, url) = status(200);
    assert_healthy(&probe(&url, Some("5s")));

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let tcp = format!(
        "tcp://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    for zero in ["0", "0s", "0ms"] {
        let o = probe(&tcp, Some(zero));
        assert_unhealthy(&o, "timed out after 0s");
        assert_quick(&o);
    }
    let o = probe_env(&tcp, None, &[("INIT_PROBE_TIMEOUT", "0")]);
    assert_unhealthy(&o, "timed out after 0s");
    assert_healthy(&probe(&tcp, Some("5s")));
}
