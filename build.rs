//! Embeds the source commit for `--version` (`pidone 0.3.0 - git.<commit>`, the form
//! Docker's daemon parses for `docker info`). The commit comes from, in order:
//! `INIT_GIT_COMMIT` (for builds whose context has no `.git`, e.g. a container build),
//! `git rev-parse HEAD` in the source tree, the `.cargo_vcs_info.json` that `cargo
//! package` writes into a crate tarball, else `unknown`. It is cut to 12 hex digits so
//! that every route to the same commit builds the same bytes.

use std::path::Path;
use std::process::Command;

const LEN: usize = 12;

fn main() {
    println!("cargo:rerun-if-env-changed=INIT_GIT_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let commit = from_env()
        .or_else(|| from_git(Path::new(&dir)))
        .or_else(|| from_vcs_info(Path::new(&dir)))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=INIT_GIT_COMMIT={commit}");
}

/// Lower-case hex, cut to `LEN`; anything else is not a commit.
fn clean(s: &str) -> Option<String> {
    let s = s.trim();
    (s.len() >= 7 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| s.chars().take(LEN).collect::<String>().to_ascii_lowercase())
}

fn from_env() -> Option<String> {
    clean(&std::env::var("INIT_GIT_COMMIT").ok()?)
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn from_git(dir: &Path) -> Option<String> {
    // Only a repository whose top is this crate: not some enclosing repository.
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    let commit = clean(&git(dir, &["rev-parse", "HEAD"])?)?;
    // Rebuild when HEAD moves: watch HEAD, the branch it names, and packed-refs.
    let mut watch = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(branch);
    }
    for name in watch {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    Some(commit)
}

fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let after = text.get(text.find("\"sha1\"")? + 6..)?;
    let start = after.find('"')? + 1;
    let rest = after.get(start..)?;
    clean(rest.get(..rest.find('"')?)?)
}
