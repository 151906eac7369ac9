//! The release's wheels, .debs and crate, installed and checked as users would install
//! them: runs `scripts/package-test` on the release directory the binary under test
//! comes from (`$INIT_BIN`'s directory; `scripts/test` sets `INIT_BIN` to
//! `target/dist/pidone-amd64`, written by `scripts/release`) and requires it to pass.
//! Without a release directory there (no `SHA256SUMS` beside `$INIT_BIN`) the test
//! cannot run its scenario: it fails, unless `INIT_TEST_ALLOW_SKIP=1`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Init, Mode, init_bin};

/// A cold run makes the tools venv (a few downloads) and builds the crate once for
/// `cargo publish --dry-run`; a warm one takes under a minute.
const LIMIT: Duration = Duration::from_secs(10 * 60);

#[test]
fn wheels_debs_and_crate_install_and_work_as_users_would_install_them() {
    let bin = init_bin();
    let Some(dist) = bin.parent().filter(|d| d.join("SHA256SUMS").is_file()) else {
        common::skip(&format!(
            "{} is not in a release directory (no SHA256SUMS beside it): run \
             `scripts/release --out DIR` and set INIT_BIN=DIR/pidone-amd64, as scripts/test does",
            bin.display()
        ));
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/package-test");
    let done = Init::new(Mode::Subreaper)
        .program(&script)
        .arg(dist)
        .spawn()
        .wait_timeout(LIMIT);
    done.assert_code(0);
    if !done
        .stdout
        .contains("package-test: the wheels, .debs and crate of")
    {
        done.fail("the script exited 0 without its closing line");
    }
}
