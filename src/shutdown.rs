//! Signals every process that is left: the whole PID namespace with `kill(-1)` when init
//! is PID 1, and every descendant found in /proc when it is a subreaper.

use std::collections::HashMap;
use std::fs;
use std::io;

use tracing::{debug, warn};

use crate::pid1::Role;
use crate::signals;

/// Sends `sig` to every process left; returns how many were signalled (for PID 1: 1 when
/// any process received it, 0 when none is left).
pub fn signal_all(role: Role, sig: i32) -> usize {
    if role.is_pid1 {
        return match signals::kill(-1, sig) {
            Ok(()) => 1,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => 0,
            Err(e) => {
                warn!("kill(-1, {}) failed: {e}", signals::name(sig));
                0
            }
        };
    }
    let pids = match descendants(role.pid) {
        Ok(pids) => pids,
        Err(e) => {
            warn!("cannot list descendants in /proc: {e}");
            return 0;
        }
    };
    let mut sent = 0;
    for pid in pids {
        match signals::kill(pid, sig) {
            Ok(()) => sent += 1,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => debug!(pid, "kill({}) failed: {e}", signals::name(sig)),
        }
    }
    sent
}

/// One live process, as /proc shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    /// The command name (`comm`, at most 15 bytes).
    pub name: String,
}

/// Every live (non-zombie) process in /proc.
fn live_processes() -> io::Result<Vec<Proc>> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        // A process may exit between readdir and read: skip it.
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((name, state, ppid)) = parse_stat(&stat) {
            if state != 'Z' && state != 'X' {
                out.push(Proc {
                    pid,
                    ppid,
                    name: name.to_owned(),
                });
            }
        }
    }
    Ok(out)
}

/// Every live (non-zombie) descendant of `root`, parents before children.
pub fn descendants(root: i32) -> io::Result<Vec<i32>> {
    Ok(descendants_of(root, live_processes()?)
        .into_iter()
        .map(|p| p.pid)
        .collect())
}

fn descendants_of(root: i32, all: Vec<Proc>) -> Vec<Proc> {
    let mut children: HashMap<i32, Vec<Proc>> = HashMap::new();
    for p in all {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        if let Some(kids) = children.remove(&parent) {
            queue.extend(kids.iter().map(|k| k.pid));
            out.extend(kids);
        }
    }
    out
}

/// The processes a shutdown still has to stop: every other process of the namespace when
/// init is PID 1, its descendants otherwise. `None` when /proc cannot tell (not mounted,
/// or it shows another PID namespace than init's own).
pub fn survivors(role: Role) -> Option<Vec<Proc>> {
    if role.is_pid1 {
        // /proc/self names init's pid in the namespace /proc was mounted for.
        let own = fs::read_link("/proc/self").ok()?;
        if own.to_str()? != role.pid.to_string() {
            return None;
        }
        // In /proc's order, which is by pid.
        let mut all = live_processes().ok()?;
        all.retain(|p| p.pid != role.pid);
        return Some(all);
    }
    // Parents before children: the process that was asked to stop comes first.
    Some(descendants_of(role.pid, live_processes().ok()?))
}

/// How many processes are named in a log line before the rest is only counted.
const NAMED: usize = 8;

/// `3 processes: 12 (python3), 15 (sleep), 16 (sleep)`, the first few named.
pub fn describe(procs: &[Proc]) -> String {
    let mut text = match procs.len() {
        1 => "1 process: ".to_owned(),
        n => format!("{n} processes: "),
    };
    for (i, p) in procs.iter().take(NAMED).enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&format!("{} ({})", p.pid, p.name));
    }
    if procs.len() > NAMED {
        text.push_str(&format!(" and {} more", procs.len() - NAMED));
    }
    text
}

/// Command name, state and parent pid from `/proc/PID/stat`; the name may hold spaces
/// and ')'.
fn parse_stat(stat: &str) -> Option<(&str, char, i32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?;
    let after = stat.get(close + 1..)?;
    let mut fields = after.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((name, state, ppid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        assert_eq!(
            parse_stat("42 (sleep) S 7 42 42 0 -1"),
            Some(("sleep", 'S', 7))
        );
        assert_eq!(
            parse_stat("42 (a) b) (c) Z 1 42 42"),
            Some(("a) b) (c", 'Z', 1))
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn a_description_names_the_first_few_and_counts_the_rest() {
        let procs = |n: i32| -> Vec<Proc> {
            (1..=n)
                .map(|pid| Proc {
                    pid: pid + 10,
                    ppid: 1,
                    name: format!("p{pid}"),
                })
                .collect()
        };
        assert_eq!(describe(&procs(1)), "1 process: 11 (p1)");
        assert_eq!(describe(&procs(2)), "2 processes: 11 (p1), 12 (p2)");
        let many = describe(&procs(20));
        assert!(many.starts_with("20 processes: 11 (p1), 12 (p2)"), "{many}");
        assert!(many.ends_with("18 (p8) and 12 more"), "{many}");
    }

    #[test]
    fn survivors_of_a_subreaper_are_its_descendants() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let role = Role {
            pid: std::process::id() as i32,
            is_pid1: false,
        };
        let found = survivors(role).expect("read /proc");
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            found
                .iter()
                .any(|p| p.pid == child.id() as i32 && p.name == "sleep"),
            "{found:?}"
        );
    }

    #[test]
    fn our_own_children_are_descendants() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let found = descendants(std::process::id() as i32).expect("read /proc");
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&(child.id() as i32)));
    }
}
