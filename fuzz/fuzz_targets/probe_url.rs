//! Fuzzes probe URLs with `$VAR` / `${VAR:-default}` expansion (`probe::parse_url`).
//! Input: the URL on the first line, then `NAME=value` lines for the environment.
//! Checks: no panic; errors are one line; an accepted URL gives a request line and a
//! Host header that cannot be split or smuggled (graphic ASCII only, path starting
//! with `/`, port not 0).
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

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (url, env_part) = text.split_once('\n').unwrap_or((&text, ""));
    let env: HashMap<&str, &str> = env_part.lines().filter_map(|l| l.split_once('=')).collect();
    let lookup = |k: &str| env.get(k).map(|v| v.to_string());
    match probe::parse_url(url, &lookup) {
        Ok(t) => {
            assert_ne!(t.port, 0);
            assert!(t.url.bytes().all(|b| b.is_ascii_graphic()), "{t:?}");
            if t.scheme == probe::Scheme::Http {
                assert!(t.path.starts_with('/'), "{t:?}");
                assert!(t.path.bytes().all(|b| b.is_ascii_graphic()), "{t:?}");
            } else {
                assert!(t.path.is_empty(), "{t:?}");
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n') && !msg.contains('\r'), "{msg:?}");
        }
    }
});
