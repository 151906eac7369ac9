//! The exit-code policy: one pure function from how the main child ended to init's code.

/// Codes of init's own failures (see the README's exit-code table).
pub const USAGE: i32 = 2;
pub const FAILURE: i32 = 1;
pub const NOT_EXECUTABLE: i32 = 126;
pub const NOT_FOUND: i32 = 127;

/// How the main child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEnd {
    Exited(i32),
    Signaled(i32),
}

impl std::fmt::Display for ChildEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ChildEnd::Exited(code) => write!(f, "exited with code {code}"),
            ChildEnd::Signaled(sig) => write!(f, "killed by {}", crate::signals::name(sig)),
        }
    }
}

/// The child's code, or 128+N for signal N, then 0 if that code is listed in `remap`.
pub fn exit_code(end: ChildEnd, remap: &[u8]) -> i32 {
    let code = match end {
        ChildEnd::Exited(code) => code & 0xff,
        ChildEnd::Signaled(sig) => (128 + sig) & 0xff,
    };
    if remap.iter().any(|&c| i32::from(c) == code) {
        0
    } else {
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_normal_exit_keeps_its_code() {
        for code in [0, 1, 2, 42, 126, 127, 255] {
            assert_eq!(exit_code(ChildEnd::Exited(code), &[]), code);
        }
    }

    #[test]
    fn death_by_signal_n_is_128_plus_n() {
        assert_eq!(exit_code(ChildEnd::Signaled(15), &[]), 143);
        assert_eq!(exit_code(ChildEnd::Signaled(9), &[]), 137);
        assert_eq!(exit_code(ChildEnd::Signaled(2), &[]), 130);
    }

    #[test]
    fn listed_codes_become_zero_including_signal_codes() {
        assert_eq!(exit_code(ChildEnd::Signaled(15), &[143]), 0);
        assert_eq!(exit_code(ChildEnd::Exited(3), &[1, 3]), 0);
        assert_eq!(exit_code(ChildEnd::Exited(4), &[1, 3]), 4);
        assert_eq!(exit_code(ChildEnd::Signaled(9), &[143]), 137);
    }
}
