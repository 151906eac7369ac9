//! Inputs for the property tests that live beside the parsers they test (`config.rs`,
//! `cli.rs`, `signals.rs`, `probe/url.rs`, each in a `mod proptests` at its end): case
//! counts, strings near every parser's grammar, environments, and the check that
//! `config::resolve` gives a valid configuration or a usage error. No test lives here.

use std::collections::HashMap;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;

use crate::cli::Args;
use crate::config::{self, UsageError};
use crate::signals;

/// Modest case counts (the suite runs on 2 cores) and no regression files in `src/`.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Words near the grammar of every parser: digits, units, signal names, separators,
/// whitespace, non-ASCII and control characters.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    "", "0", "1", "9", "15", "64", "65", "255", "256", "-1", "+", "-", ".", "..", ":", ",",
    "=", "/", "?", "#", "@", "[", "]", "{", "}", "$", "${", ":-", " ", "\t", "\n", "\0",
    "é", "\u{202e}", "ms", "s", "m", "h", "sec", "e3", "inf", "NaN", "SIG", "TERM", "term",
    "KILL", "STOP", "USR1", "RTMIN", "RTMAX", "+3", "-1", "RT", "yes", "No", "ON", "true",
    "http", "tcp", "https", "://", "[::1]", "127.0.0.1", "localhost", "80", "65535",
    "65536", "99999999999999999999999999999999999999999", "0.5", "1500", "--", "-t", "-vvv",
    "--grace-period", "--probe",
];

/// A string glued from grammar pieces and arbitrary characters.
pub fn fuzzy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => select(PIECES).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[0-9]{1,40}",
    ];
    vec(piece, 0..8).prop_map(|p| p.concat())
}

/// Fuzzy strings and fully arbitrary ones.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => fuzzy(), 1 => any::<String>()]
}

/// A usage error message fits on one line (the contract: one line on stderr).
pub fn one_line(msg: &str) -> bool {
    !msg.is_empty() && !msg.contains('\n') && !msg.contains('\r')
}

/// `HashMap` lookups as the environment function `resolve` and `parse_url` take.
pub fn lookup(map: &HashMap<String, String>) -> impl Fn(&str) -> Option<String> + '_ {
    |key| map.get(key).cloned()
}

/// Every variable `resolve` reads, plus PORT for URLs.
const VARS: &[&str] = &[
    "INIT_GRACE_PERIOD",
    "INIT_PRE_STOP_DELAY",
    "INIT_PROBE_TIMEOUT",
    "INIT_REWRITE",
    "INIT_REMAP_EXIT",
    "INIT_PGROUP",
    "TINI_KILL_PROCESS_GROUP",
    "INIT_SUBREAPER",
    "TINI_SUBREAPER",
    "INIT_WARN_ON_REAP",
    "INIT_PAUSE",
    "INIT_PDEATHSIG",
    "INIT_VERBOSITY",
    "TINI_VERBOSITY",
    "INIT_LOG_FORMAT",
    "LOG_FORMAT",
    "PORT",
];

/// Plausible-to-hostile values for those variables.
fn env_value() -> impl Strategy<Value = String> {
    let good = select(
        &[
            "",
            "0",
            "1",
            "3",
            "10s",
            "1500ms",
            "yes",
            "off",
            "json",
            "text",
            "TERM:QUIT",
            "USR1:0,HUP:USR2",
            "143,1",
            "SIGKILL",
            "8000",
        ][..],
    )
    .prop_map(str::to_owned);
    prop_oneof![2 => good, 2 => fuzzy(), 1 => any::<String>()]
}

pub fn env_map() -> impl Strategy<Value = HashMap<String, String>> {
    btree_map(select(VARS).prop_map(str::to_owned), env_value(), 0..8)
        .prop_map(|m| m.into_iter().collect())
}

/// `resolve` returns a valid configuration or a usage error.
pub fn check_resolve(args: Args, env: &HashMap<String, String>) -> Result<(), TestCaseError> {
    match config::resolve(args, &lookup(env)) {
        Ok(cfg) => {
            prop_assert!(cfg.verbosity <= 3);
            for &(from, to) in &cfg.rewrite {
                prop_assert!(signals::is_catchable(from));
                prop_assert!(to.is_none_or(|t| (1..=signals::SIGMAX).contains(&t)));
            }
            if let Some(sig) = cfg.pdeathsig {
                prop_assert!((1..=signals::SIGMAX).contains(&sig));
            }
            prop_assert_eq!(cfg.probe.is_some() || cfg.pause, cfg.command.is_empty());
        }
        Err(UsageError(msg)) => prop_assert!(!msg.is_empty()),
    }
    Ok(())
}
