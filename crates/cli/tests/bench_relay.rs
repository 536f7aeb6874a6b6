//! Smoke test of `bidkit bench relay`: a few sessions through relay nodes started as
//! `bidkit relay serve` child processes (the full benchmark is run by hand, in
//! release, and its figures are in docs/cli-relay.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str]) -> Value {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bidkit"))
        .args(["--json", "bench", "relay"])
        .args(args)
        .env("BIDKIT_HOME", home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bench relay {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check(report: &Value, sessions: u64, nodes: usize) {
    assert_eq!(report["sessions"], sessions);
    assert_eq!(report["failures"], 0, "{report}");
    assert_eq!(report["hop"]["count"], 2 * sessions);
    assert!(report["hop"]["p99_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(report["relay_in_child_processes"], true);
    let nodes_seen = report["node_memory"].as_array().unwrap();
    assert_eq!(nodes_seen.len(), nodes);
    for n in nodes_seen {
        assert!(n["peak_rss_mb"].as_f64().unwrap() > 1.0, "{n}");
    }
    // Below the full size, the targets are not judged.
    assert!(report["targets_met"].is_null());
}

#[test]
fn one_node_in_memory() {
    let report = bench(&["--sessions", "50", "--rate", "500"]);
    check(&report, 50, 1);
    assert_eq!(report["store"], "memory");
}

#[test]
fn three_nodes_on_one_redis() {
    if !["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server is not installed (apt-get install -y redis-server)"
        );
        eprintln!("\n*** SKIPPING Redis test: redis-server is not installed ***\n");
        return;
    }
    let report = bench(&["--sessions", "30", "--nodes", "3", "--rate", "500"]);
    check(&report, 30, 3);
    assert_eq!(report["store"], "redis");
    assert!(report["redis_peak_mb"].as_f64().unwrap() > 0.0);
}
