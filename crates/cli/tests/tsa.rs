//! `bidkit tsa serve` as a child process prints its URL (one JSON line with --json);
//! `bidkit tsa stamp FILE --url URL --out TOKEN` against it succeeds, prints the time,
//! serial and TSA, and writes a token that verifies for the file's hash; a stamp
//! against a dead URL fails with `tsa-unreachable`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use bidkit_crypto::HashAlgorithm;

fn bidkit(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bidkit"));
    c.env("BIDKIT_HOME", home)
        .env_remove("BIDKIT_TSA_URL")
        .env("BIDKIT_LOG", "warn");
    c
}

/// Kills the server child when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(home: &std::path::Path, suite: &str) -> (Server, String) {
    let mut child = bidkit(home)
        .args(["--json", "tsa", "serve", "--suite", suite])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let started: serde_json::Value = serde_json::from_str(&line).expect(&line);
    let url = started["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(started["suite"], suite);
    (server, url)
}

#[test]
fn stamp_against_a_served_tsa() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("bid.pdf");
    std::fs::write(&file, b"%PDF-1.7 not really, but bytes to stamp").unwrap();

    for (suite, hash, algorithm) in [
        ("gm", "sm3", HashAlgorithm::Sm3),
        ("nist", "sha256", HashAlgorithm::Sha256),
    ] {
        let (_server, url) = serve(home.path(), suite);
        let token_path = home.path().join(format!("{suite}.tsr"));
        let out = bidkit(home.path())
            .args(["--json", "tsa", "stamp"])
            .arg(&file)
            .args(["--url", &url, "--hash", hash, "--out"])
            .arg(&token_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["url"], url.as_str());
        assert_eq!(report["emulated"], false);
        assert_eq!(report["suite"], suite);
        assert!(!report["serial"].as_str().unwrap().is_empty());
        assert!(
            report["tsa"].as_str().unwrap().contains("Emulated TSA"),
            "{report}"
        );
        let time = time::OffsetDateTime::parse(
            report["time"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert!((time - time::OffsetDateTime::now_utc()).abs() < time::Duration::seconds(30));

        let imprint = algorithm.digest(&std::fs::read(&file).unwrap());
        assert_eq!(report["imprint"], hex(&imprint));
        let token = std::fs::read(&token_path).unwrap();
        let info = bidkit_app::tsa::verify_token(&token, &imprint).unwrap();
        assert_eq!(info.serial, report["serial"].as_str().unwrap());
    }

    // Text output names time, serial and TSA.
    let (_server, url) = serve(home.path(), "gm");
    let out = bidkit(home.path())
        .args(["tsa", "stamp"])
        .arg(&file)
        .args(["--url", &url])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for label in ["time:", "serial:", "TSA:", "SM3"] {
        assert!(text.contains(label), "{label}: {text}");
    }
}

#[test]
fn stamp_against_nobody_fails_with_a_code() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    let closed = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let out = bidkit(home.path())
        .args(["--json", "tsa", "stamp"])
        .arg(&file)
        .args(["--url", &url, "--timeout", "5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["error"]["code"], "tsa-unreachable", "{report}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
