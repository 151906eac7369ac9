//! HTTP probe: one `GET` over HTTP/1.1, healthy on a 2xx or 3xx status.
//!
//! Only the response head is read (status line and headers, parsed with httparse), at
//! most [`MAX_HEAD`] bytes, every read and write bounded by the probe deadline. 1xx
//! informational responses (100 Continue, 103 Early Hints) are skipped.

use super::Deadline;
use super::net;
use super::url::{Host, Target};
use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream};

/// The most response bytes read before giving up: a head this large is unhealthy.
const MAX_HEAD: usize = 8 * 1024;

/// Sends the request and checks the status.
pub fn probe(target: &Target, deadline: &Deadline) -> Result<(), String> {
    let mut stream = net::connect(target, deadline)?;
    write_all(&mut stream, request(target).as_bytes(), deadline)?;
    let code = read_status(&mut stream, deadline)?;
    if (200..400).contains(&code) {
        Ok(())
    } else {
        Err(format!("status {code}"))
    }
}

/// The request: `GET PATH HTTP/1.1` with Host, User-Agent and `Connection: close`.
fn request(target: &Target) -> String {
    let host = match &target.host {
        Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
        Host::Ip(ip) => ip.to_string(),
        Host::Name(name) => name.clone(),
    };
    let port = match target.port {
        80 => String::new(),
        port => format!(":{port}"),
    };
    format!(
        "GET {} HTTP/1.1\r\nHost: {host}{port}\r\nUser-Agent: init-probe\r\nConnection: close\r\n\r\n",
        target.path
    )
}

fn write_all(stream: &mut TcpStream, mut buf: &[u8], deadline: &Deadline) -> Result<(), String> {
    while !buf.is_empty() {
        let Some(left) = deadline.remaining() else {
            return Err(deadline.timed_out());
        };
        stream
            .set_write_timeout(Some(left))
            .map_err(|err| deadline.describe("write", &err))?;
        match stream.write(buf) {
            Ok(0) => return Err("connection closed while sending the request".into()),
            Ok(n) => buf = buf.get(n..).unwrap_or_default(),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(deadline.describe("write", &err)),
        }
    }
    Ok(())
}

/// Reads until the end of the final response head and returns its status code.
fn read_status(stream: &mut TcpStream, deadline: &Deadline) -> Result<u16, String> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut len = 0; // bytes received
    let mut start = 0; // start of the current response head (after skipped 1xx heads)
    loop {
        let Some(left) = deadline.remaining() else {
            return Err(deadline.timed_out());
        };
        let space = match buf.get_mut(len..) {
            Some(space) if !space.is_empty() => space,
            _ => return Err(format!("response head larger than {} KiB", MAX_HEAD / 1024)),
        };
        stream
            .set_read_timeout(Some(left))
            .map_err(|err| deadline.describe("read", &err))?;
        let n = match stream.read(space) {
            Ok(0) if len == 0 => return Err("connection closed without a response".into()),
            Ok(0) => return Err("connection closed before the end of the response head".into()),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(deadline.describe("read", &err)),
        };
        len = len.saturating_add(n).min(buf.len());
        while let Some((code, head_len)) = parse_head(buf.get(start..len).unwrap_or_default())? {
            if (100..200).contains(&code) && code != 101 {
                start = start.saturating_add(head_len).min(len);
            } else {
                return Ok(code);
            }
        }
    }
}

/// Parses one response head: `Ok(None)` while incomplete, else its status code and
/// length. A reply that is not HTTP is an error.
fn parse_head(buf: &[u8]) -> Result<Option<(u16, usize)>, String> {
    // Every header line takes at least 3 bytes ("a:\n"), so this never runs out.
    let mut headers = vec![httparse::EMPTY_HEADER; (buf.len() / 3).saturating_add(1)];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(None),
        Ok(httparse::Status::Complete(head_len)) => match response.code {
            Some(code) => Ok(Some((code, head_len))),
            None => Err("not an HTTP response (no status)".into()),
        },
        Err(err) => Err(format!("not an HTTP response ({err})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::url::Scheme;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn target(host: Host, port: u16, path: &str) -> Target {
        Target {
            scheme: Scheme::Http,
            host,
            port,
            path: path.into(),
            url: String::new(),
        }
    }

    #[test]
    fn request_format() {
        let t = target(
            Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            8000,
            "/health?x=1",
        );
        assert_eq!(
            request(&t),
            "GET /health?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: init-probe\r\nConnection: close\r\n\r\n"
        );
        let t = target(Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)), 8000, "/");
        assert!(request(&t).contains("\r\nHost: [::1]:8000\r\n"));
        let t = target(Host::Name("web".into()), 80, "/");
        assert!(request(&t).contains("\r\nHost: web\r\n"));
    }

    #[test]
    fn parse_heads() {
        assert_eq!(parse_head(b""), Ok(None));
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nA: b\r\n"), Ok(None));
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\n\r\nbody"),
            Ok(Some((200, 19)))
        );
        assert_eq!(parse_head(b"HTTP/1.0 503\r\n\r\n"), Ok(Some((503, 16))));
        assert_eq!(
            parse_head(b"HTTP/1.1 204 No Content\nA:\n\n"),
            Ok(Some((204, 28)))
        );
        assert!(parse_head(b"SSH-2.0-OpenSSH_9.6\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 2x0 OK\r\n\r\n").is_err());
        // Many tiny headers never exceed the header array.
        let mut many = b"HTTP/1.1 200 OK\n".to_vec();
        for _ in 0..2000 {
            many.extend_from_slice(b"a:\n");
        }
        many.push(b'\n');
        assert_eq!(parse_head(&many), Ok(Some((200, many.len()))));
    }
}
