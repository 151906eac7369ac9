//! Probe networking: name resolution and TCP connect, both bounded by the deadline.

use super::Deadline;
use super::url::{Host, Target};
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
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
/// so it runs on a helper thread and only the wait for its answer is bounded (a probe is
/// a one-shot process: a resolver still stuck at the deadline ends with it).
fn resolve(name: &str, port: u16, deadline: &Deadline) -> Result<Vec<SocketAddr>, String> {
    let Some(left) = deadline.remaining() else {
        return Err(deadline.timed_out());
    };
    let answer: Arc<Answer> = Arc::default();
    let theirs = Arc::clone(&answer);
    let owned = name.to_owned();
    thread::Builder::new()
        .name("probe-resolve".into())
        .spawn(move || {
            let result = (owned.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            let (slot, ready) = &*theirs;
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
            ready.notify_one();
        })
        .map_err(|err| format!("cannot start the resolver thread: {err}"))?;
    let (slot, ready) = &*answer;
    let guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    let (mut guard, _) = ready
        .wait_timeout_while(guard, left, |result| result.is_none())
        .unwrap_or_else(PoisonError::into_inner);
    match guard.take() {
        Some(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Some(Ok(_)) => Err(format!("cannot resolve {name:?}: no addresses")),
        Some(Err(err)) => Err(format!("cannot resolve {name:?}: {err}")),
        None => Err(format!("{} resolving {name:?}", deadline.timed_out())),
    }
}

/// The resolver thread's result, and the signal that it is there.
type Answer = (Mutex<Option<io::Result<Vec<SocketAddr>>>>, Condvar);
