//! Probe networking: name resolution and TCP connect, both bounded by the deadline.

use super::Deadline;
use super::url::{Host, Target};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;

/// Connects to the target, trying each resolved address in turn within the deadline.
/// With several addresses, each attempt gets an equal share of the time left, so one
/// black-holed address cannot starve the others.
pub fn connect(target: &Target, deadline: &Deadline) -> Result<TcpStream, String> {
    let addrs = match &target.host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, target.port)],
        Host::Name(name) => resolve(name, target.port, deadline)?,
    };
    let named = matches!(target.host, Host::Name(_));
    let mut last = String::from("no address to connect to");
    for (i, addr) in addrs.iter().enumerate() {
        let Some(left) = deadline.remaining() else {
            return Err(deadline.timed_out());
        };
        let tries_left = u32::try_from(addrs.len().saturating_sub(i))
            .unwrap_or(u32::MAX)
            .max(1);
        let share = left.checked_div(tries_left).unwrap_or(left);
        let budget = if share.is_zero() { left } else { share };
        match TcpStream::connect_timeout(addr, budget) {
            Ok(stream) => return Ok(stream),
            Err(err) => {
                last = deadline.describe("connect", &err);
                if named {
                    last = format!("{last} ({addr})");
                }
            }
        }
    }
    Err(last)
}

/// Resolves a host name with `ToSocketAddrs`. getaddrinfo cannot be given a timeout,
/// so it runs on a helper thread and the wait for its answer is bounded instead (a
/// probe is a one-shot process: a resolver still stuck then ends with it).
fn resolve(name: &str, port: u16, deadline: &Deadline) -> Result<Vec<SocketAddr>, String> {
    let Some(left) = deadline.remaining() else {
        return Err(deadline.timed_out());
    };
    let (tx, rx) = mpsc::channel();
    let owned = name.to_owned();
    thread::Builder::new()
        .name("probe-resolve".into())
        .spawn(move || {
            let result = (owned.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            let _ = tx.send(result);
        })
        .map_err(|err| format!("cannot start the resolver thread: {err}"))?;
    match rx.recv_timeout(left) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(format!("cannot resolve {name:?}: no addresses")),
        Ok(Err(err)) => Err(format!("cannot resolve {name:?}: {err}")),
        Err(RecvTimeoutError::Timeout) => {
            Err(format!("{} resolving {name:?}", deadline.timed_out()))
        }
        Err(RecvTimeoutError::Disconnected) => Err(format!("cannot resolve {name:?}")),
    }
}
