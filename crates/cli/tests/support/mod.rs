//! Outside tools the CLI tests check outputs with (qpdf, pdftotext …), shared by the test
//! binaries that `mod support;` it.

#![allow(clippy::unwrap_used, dead_code)]

use std::process::Command;

/// Whether an outside tool is installed. Missing: a failure under
/// `BIDKIT_REQUIRE_ORACLES=1`, else a note and a skip.
pub fn oracle(name: &str) -> bool {
    let usable = Command::new(name)
        .arg("-v")
        .output()
        .or_else(|_| Command::new(name).arg("--version").output())
        .is_ok();
    if !usable {
        let required =
            std::env::var("BIDKIT_REQUIRE_ORACLES").is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "{name} is required (BIDKIT_REQUIRE_ORACLES=1) but not installed"
        );
        eprintln!("note: {name} is not installed; skipping its check");
    }
    usable
}

/// Run `cmd args`: whether it succeeded, and its stdout then stderr.
pub fn tool(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(cmd).args(args).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}
