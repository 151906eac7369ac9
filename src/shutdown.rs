//! Signals every process that is left: the whole PID namespace with `kill(-1)` when init
//! is PID 1, and every descendant found in /proc when it is a subreaper. When /proc cannot
//! tell (not mounted, or it shows another PID namespace), a subreaper falls back to what
//! needs no /proc: the main child's process group, which init created.

use std::fs;
use std::io;

use tracing::{debug, warn};

use crate::pid1::Role;
use crate::signals;

/// What one sweep reached.
#[derive(Debug)]
pub struct Swept {
    /// The processes /proc showed just before the signals (pid, command name), or `None`
    /// when /proc could not tell.
    pub seen: Option<Vec<Proc>>,
}

/// Sends each of `sigs` in turn to every process left, after one look at /proc.
/// `group` is the main child's process group, the fallback of a subreaper that cannot
/// read /proc.
pub fn signal_all(role: Role, group: Option<i32>, sigs: &[i32]) -> Swept {
    let seen = survivors(role);
    for &sig in sigs {
        if role.is_pid1 {
            match signals::kill(-1, sig) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => warn!("kill(-1, {}) failed: {e}", signals::name(sig)),
            }
            continue;
        }
        let Some(procs) = &seen else {
            if let Some(pgid) = group {
                match signals::kill(-pgid, sig) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                    Err(e) => debug!("kill(-{pgid}, {}) failed: {e}", signals::name(sig)),
                }
            }
            continue;
        };
        for p in procs {
            match signals::kill(p.pid, sig) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => debug!("kill({}, {}) failed: {e}", p.pid, signals::name(sig)),
            }
        }
    }
    Swept { seen }
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

fn descendants_of(root: i32, mut rest: Vec<Proc>) -> Vec<Proc> {
    // Each process found is taken out of `rest`, so a flat tree (the common case: every
    // process a child of init) costs one pass. No HashMap and no sort: their code (and
    // the map's random seeding) would cost the binary more than this whole function.
    let mut out: Vec<Proc> = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        let mut i = 0;
        while let Some(p) = rest.get(i) {
            if p.ppid == parent {
                let kid = rest.swap_remove(i);
                queue.push(kid.pid);
                out.push(kid);
            } else {
                i += 1;
            }
        }
    }
    out
}

/// The processes a shutdown still has to stop: every other process of the namespace when
/// init is PID 1, its descendants otherwise. `None` when /proc cannot tell (not mounted,
/// or it shows another PID namespace than init's own).
pub fn survivors(role: Role) -> Option<Vec<Proc>> {
    // /proc/self names init's pid in the namespace /proc was mounted for.
    let own = fs::read_link("/proc/self").ok()?;
    if own.to_str()? != role.pid.to_string() {
        return None;
    }
    let all = live_processes().ok()?;
    if role.is_pid1 {
        // In /proc's order, which is by pid.
        return Some(all.into_iter().filter(|p| p.pid != role.pid).collect());
    }
    // Parents before children: the process that was asked to stop comes first.
    Some(descendants_of(role.pid, all))
}

/// How many processes are named in a log line before the rest is only counted.
const NAMED: usize = 8;

/// `3 processes: 12 (python3), 15 (sleep), 16 (sleep)`, the first few named; `no process`.
pub fn describe(procs: &[Proc]) -> String {
    let mut text = match procs.len() {
        0 => return "no process".to_owned(),
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
        assert_eq!(describe(&procs(0)), "no process");
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
    fn descendants_come_parents_first() {
        let p = |pid, ppid| Proc {
            pid,
            ppid,
            name: String::new(),
        };
        let all = vec![p(5, 3), p(3, 1), p(4, 1), p(9, 2), p(6, 5)];
        let found: Vec<i32> = descendants_of(1, all).iter().map(|p| p.pid).collect();
        let at = |pid| found.iter().position(|&p| p == pid).unwrap();
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(at(3) < at(5) && at(5) < at(6), "{found:?}");
        assert!(!found.contains(&9));
    }
}
