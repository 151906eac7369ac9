//! Fuzzes argv and the INIT_* environment: `cli::parse` then `config::resolve`, the path
//! every start of init takes. Input: argv words separated by NUL, then (after the first
//! 0x01 byte) `NAME=value` lines for the environment.
//! Checks: no panic; every usage error is one line (the contract: one clear line).
#![no_main]
#![allow(dead_code)]

#[path = "../../src/cli.rs"]
mod cli;
#[path = "../../src/config.rs"]
mod config;
#[path = "../../src/signals.rs"]
mod signals;

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (argv_part, env_part) = match data.iter().position(|&b| b == 1) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut argv = vec![OsString::from("init")];
    if !argv_part.is_empty() {
        argv.extend(
            argv_part
                .split(|&b| b == 0)
                .map(|w| OsString::from_vec(w.to_vec())),
        );
    }
    let env: HashMap<String, String> = String::from_utf8_lossy(env_part)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let lookup = |k: &str| env.get(k).cloned();
    match cli::parse(argv) {
        Ok(cli::Parsed::Run(args)) => {
            if let Err(e) = config::resolve(*args, &lookup) {
                let msg = e.to_string();
                assert!(!msg.contains('\n'), "usage error spans lines: {msg:?}");
            }
        }
        Ok(_) => {}
        Err(msg) => assert!(!msg.contains('\n'), "argv error spans lines: {msg:?}"),
    }
    // The value parsers on their own, with the whole input as one value.
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = config::parse_duration(&text) {
        // What init logs reads back as the same duration, to the millisecond it shows.
        let shown = config::show_duration(d);
        let ms = std::time::Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(0));
        if d.as_millis() <= u128::from(u64::MAX) {
            assert_eq!(
                config::parse_duration(&shown),
                Ok(ms),
                "{text:?} shown as {shown:?}"
            );
        }
    }
    if let Some(sig) = signals::parse(&text) {
        assert!((1..=signals::SIGMAX).contains(&sig), "{text:?} -> {sig}");
    }
    let _ = config::parse_rewrite(&text);
    let _ = config::parse_exit_code(&text);
    let _ = config::parse_bool(&text);
});
