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

/// Every live (non-zombie) descendant of `root`, parents before children.
pub fn descendants(root: i32) -> io::Result<Vec<i32>> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
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
        if let Some((state, ppid)) = parse_stat(&stat) {
            if state != 'Z' && state != 'X' {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        if let Some(kids) = children.remove(&parent) {
            out.extend_from_slice(&kids);
            queue.extend(kids);
        }
    }
    Ok(out)
}

/// State and parent pid from `/proc/PID/stat`; the command name may hold spaces and ')'.
fn parse_stat(stat: &str) -> Option<(char, i32)> {
    let after = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = after.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        assert_eq!(parse_stat("42 (sleep) S 7 42 42 0 -1"), Some(('S', 7)));
        assert_eq!(parse_stat("42 (a) b) (c) Z 1 42 42"), Some(('Z', 1)));
        assert_eq!(parse_stat("garbage"), None);
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
