//! Black-box tests of sealing with the phone: `bidkit seal` in one process and
//! `bidkit phone scan` in another (over the seal process's embedded relay), then
//! `bidkit verify` on the result and on tampered copies, and `bidkit revoke-seal`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const USCC: &str = "91110000600037341L";
const PIN: &str = "123456";
const KEYWORD: &str = "投标人（盖章）";

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    /// A phone enrolled with an organisation, and the organisation's round 公章.
    fn with_seal() -> (Home, String) {
        let home = Home {
            dir: tempfile::tempdir().unwrap(),
        };
        home.ok(&[
            "phone",
            "enrol",
            "--name",
            "张三",
            "--id-number",
            "11010519491231002X",
            "--phone-number",
            "13800000001",
            "--pin",
            PIN,
            "--org",
            "北京某某建设有限公司",
            "--uscc",
            USCC,
        ]);
        let seal = home.ok(&[
            "phone",
            "seal",
            "make",
            "--template",
            "round",
            "--kind",
            "official",
            "--org",
            USCC,
        ]);
        let id = seal["seal"]["id"].as_i64().unwrap().to_string();
        (home, id)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bidkit"));
        c.args(args)
            .env("BIDKIT_HOME", self.dir.path())
            .env_remove("BIDKIT_TSA_URL")
            .env("BIDKIT_INSECURE_FAST_KDF", "1")
            .env_remove("BIDKIT_PIN")
            .env_remove("BIDKIT_PHONE")
            .env_remove("BIDKIT_NOW")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.command(&all).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "bidkit {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Run a tool command that shows a QR code (`--qr-out`), answer it with
    /// `bidkit phone scan`, and return the tool's exit code and JSON.
    fn with_scan(&self, tool_args: &[&str], scan_args: &[&str]) -> (i32, Value, Value) {
        let qr = self.path("qr.png");
        let _ = std::fs::remove_file(&qr);
        let mut args = vec!["--json"];
        args.extend_from_slice(tool_args);
        args.extend_from_slice(&["--qr-out", qr.to_str().unwrap(), "--timeout", "60"]);
        let child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !qr.exists() {
            assert!(Instant::now() < deadline, "no QR code appeared");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut scan = vec!["phone", "scan", qr.to_str().unwrap()];
        scan.extend_from_slice(scan_args);
        let phone = self.run(&scan);
        let phone_json: Value = serde_json::from_slice(&phone.stdout).unwrap_or(Value::Null);
        let (code, tool) = finish(child);
        (code, tool, phone_json)
    }
}

fn finish(child: Child) -> (i32, Value) {
    let out = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "tool stdout is not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn document(home: &Home, pages: u32) -> PathBuf {
    let path = home.path("bid.pdf");
    bidkit_pdf::generate::a4_document_with_keywords(&path, pages, &[pages], KEYWORD).unwrap();
    path
}

#[test]
fn seal_by_keyword_with_the_phone_then_verify_and_detect_tampering() {
    let (home, seal) = Home::with_seal();
    let input = document(&home, 3);
    let before = std::fs::read(&input).unwrap();
    let out = home.path("sealed.pdf");
    let (code, tool, phone) = home.with_scan(
        &[
            "seal",
            s(&input),
            "-o",
            s(&out),
            "--seal",
            &seal,
            "--mode",
            "keyword",
            "--keyword",
            KEYWORD,
        ],
        &["--pin", PIN],
    );
    assert_eq!(code, 0, "{tool}\nphone: {phone}");
    assert_eq!(tool["documents"][0]["stamps"].as_array().unwrap().len(), 1);
    assert_eq!(tool["documents"][0]["stamps"][0]["page_index"], 2);
    assert_eq!(phone["outcome"], "approved", "{phone}");
    assert_eq!(std::fs::read(&input).unwrap(), before, "the input changed");

    let report = home.run(&["verify", s(&out)]);
    assert_eq!(
        report.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&report.stdout)
    );
    let v: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(v["signatures"].as_array().unwrap().len(), 1);

    // A byte changed inside the signed range: invalid, exit 1.
    let mut bytes = std::fs::read(&out).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x20;
    let tampered = home.path("tampered.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    assert_eq!(home.run(&["verify", s(&tampered)]).status.code(), Some(1));
    // Not a PDF at all: exit 2, with a message naming the file.
    let junk = home.path("junk.pdf");
    std::fs::write(&junk, b"hello").unwrap();
    let out_junk = home.run(&["verify", s(&junk)]);
    assert_eq!(out_junk.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out_junk.stderr).contains("junk.pdf"));
}

#[test]
fn seam_seal_then_revoke_it_with_the_phone() {
    let (home, seal) = Home::with_seal();
    let input = document(&home, 4);
    let first = home.path("first.pdf");
    let (code, tool, _) = home.with_scan(
        &[
            "seal",
            s(&input),
            "-o",
            s(&first),
            "--seal",
            &seal,
            "--mode",
            "page",
            "--page",
            "4",
            "--at",
            "150,230",
        ],
        &["--pin", PIN],
    );
    assert_eq!(code, 0, "{tool}");
    let second = home.path("second.pdf");
    let (code, tool, _) = home.with_scan(
        &[
            "seal",
            s(&first),
            "-o",
            s(&second),
            "--seal",
            &seal,
            "--mode",
            "seam",
        ],
        &["--pin", PIN],
    );
    assert_eq!(code, 0, "{tool}");
    assert_eq!(tool["documents"][0]["stamps"].as_array().unwrap().len(), 4);
    assert_eq!(home.run(&["verify", s(&second)]).status.code(), Some(0));

    // The holder refuses: nothing is written.
    let refused = home.path("refused.pdf");
    let (code, _, _) = home.with_scan(
        &["revoke-seal", s(&second), "-o", s(&refused)],
        &["--refuse"],
    );
    assert_eq!(code, 1);
    assert!(!refused.exists());

    let revoked = home.path("revoked.pdf");
    let (code, tool, _) = home.with_scan(
        &["revoke-seal", s(&second), "-o", s(&revoked)],
        &["--pin", PIN],
    );
    assert_eq!(code, 0, "{tool}");
    assert_eq!(tool["removed"]["field_name"], "Bidkit-Seal-2");
    assert_eq!(
        std::fs::read(&revoked).unwrap(),
        std::fs::read(&first).unwrap()
    );
    assert_eq!(home.run(&["verify", s(&revoked)]).status.code(), Some(0));
}

#[test]
fn bad_requests_fail_before_any_qr_code() {
    let (home, seal) = Home::with_seal();
    let input = document(&home, 2);
    let out = home.path("x.pdf");
    let qr = home.path("qr.png");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--mode", "page", "--page", "9"],
        vec!["--mode", "keyword", "--keyword", "不存在"],
        vec!["--mode", "range", "--pages", "2-7"],
    ];
    for extra in cases {
        let mut args = vec![
            "seal",
            s(&input),
            "-o",
            s(&out),
            "--seal",
            &seal,
            "--qr-out",
            s(&qr),
        ];
        args.extend_from_slice(&extra);
        let o = home.run(&args);
        assert_eq!(o.status.code(), Some(1), "{extra:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("bid.pdf"), "{extra:?}: {err}");
        assert!(!qr.exists(), "a QR code was shown for {extra:?}");
        assert!(!out.exists());
    }
    let o = home.run(&["seal", s(&input), "-o", s(&out), "--seal", "999"]);
    assert_eq!(o.status.code(), Some(1));
}

/// Kills a server child when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn seal_with_a_time_stamp_authority_and_the_verifier_reports_it() {
    use std::io::{BufRead as _, BufReader};
    let (home, seal) = Home::with_seal();
    let mut child = home
        .command(&["--json", "tsa", "serve", "--suite", "gm"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let started: Value = serde_json::from_str(&line).expect(&line);
    let url = started["url"].as_str().unwrap().to_owned();

    let input = document(&home, 2);
    let out = home.path("stamped.pdf");
    let (code, tool, phone) = home.with_scan(
        &[
            "seal",
            s(&input),
            "-o",
            s(&out),
            "--seal",
            &seal,
            "--tsa",
            &url,
        ],
        &["--pin", PIN],
    );
    assert_eq!(code, 0, "{tool}\nphone: {phone}");
    assert_eq!(tool["timestamp_authority"], url.as_str());
    let report = home.run(&["verify", s(&out)]);
    let v: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report.status.code(), Some(0), "{v}");
    let ts = &v["signatures"][0]["timestamp"];
    assert!(ts["time"].is_string(), "{v}");
    assert!(!ts["authority"].as_str().unwrap().is_empty(), "{v}");

    // A dead authority: the seal fails with the TSA's error code and writes nothing.
    let dead = home.path("dead.pdf");
    let (code, tool, _) = home.with_scan(
        &[
            "seal",
            s(&input),
            "-o",
            s(&dead),
            "--seal",
            &seal,
            "--tsa",
            "http://127.0.0.1:9/tsa",
        ],
        &["--pin", PIN],
    );
    assert_eq!(code, 1, "{tool}");
    assert!(
        tool["error"]["code"].as_str().unwrap().starts_with("tsa-"),
        "{tool}"
    );
    assert!(!dead.exists());
}

#[test]
fn ses_signature_in_contents_verifies_and_detects_tampering() {
    let (home, seal) = Home::with_seal();
    let input = document(&home, 2);
    let out = home.path("ses.pdf");
    let (code, tool, phone) = home.with_scan(
        &[
            "seal",
            s(&input),
            "-o",
            s(&out),
            "--seal",
            &seal,
            "--mode",
            "all",
            "--ses",
        ],
        &["--pin", PIN],
    );
    assert_eq!(code, 0, "{tool}\nphone: {phone}");
    let report = home.run(&["verify", s(&out)]);
    let v: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report.status.code(), Some(0), "{v}");
    let sig = &v["signatures"][0];
    assert_eq!(sig["container"], "SES_Signature (GB/T 38540)", "{v}");
    assert_eq!(sig["stamps"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(sig["chain"]["status"], "trusted", "{v}");

    // The same bytes with one signed byte changed: the SES dataHash no longer matches.
    let mut bytes = std::fs::read(&out).unwrap();
    // (Inside the first signed range: the SES container itself is most of the file,
    // seal picture included.)
    let at = 2000;
    bytes[at] ^= 0x01;
    let tampered = home.path("ses-tampered.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    let bad = home.run(&["verify", s(&tampered)]);
    let v: Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(bad.status.code(), Some(1), "{v}");
    assert_eq!(
        v["signatures"][0]["integrity"]["digest_matches"], false,
        "{v}"
    );
}
