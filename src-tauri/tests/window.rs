//! The real app, not a mock: the built `bidkit-desktop` binary opens its window under Xvfb
//! (see `scripts/dev/smoke-desktop`, which does the work).
//!
//! Skipped when Xvfb or xdotool is missing (run `scripts/setup`), unless
//! `BIDKIT_REQUIRE_SMOKE=1` (set by `scripts/test`), which turns the skip into a failure.
//! `BIDKIT_SKIP_SMOKE=1` skips it outright.

use std::path::Path;
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn window_appears_under_xvfb() {
    if std::env::var("BIDKIT_SKIP_SMOKE").as_deref() == Ok("1") {
        eprintln!("skipped: BIDKIT_SKIP_SMOKE=1");
        return;
    }
    let missing: Vec<&str> = ["xvfb-run", "xdotool"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if !missing.is_empty() {
        let msg = format!("{} not installed (run scripts/setup)", missing.join(", "));
        assert!(
            std::env::var("BIDKIT_REQUIRE_SMOKE").as_deref() != Ok("1"),
            "{msg}"
        );
        eprintln!("skipped: {msg}");
        return;
    }

    let bin = env!("CARGO_BIN_EXE_bidkit-desktop");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/dev/smoke-desktop");
    let out = Command::new("bash")
        .arg(&script)
        .arg(bin)
        .output()
        .expect("run scripts/dev/smoke-desktop");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "the desktop app did not show its window:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("smoke: ok"), "{stdout}");
}
