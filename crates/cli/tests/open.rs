//! Black-box tests of the opening hall (`bidkit open status | decrypt | verify`) with
//! two bidders' phones over the tool's embedded relay: bidder A seals a document
//! (`bidkit seal`), encrypts and submits it; bidder B encrypts an unsealed document,
//! submits, then withdraws. Before decryption `open status` shows both, the receipts,
//! the withdrawal and integrity; a tampered copy and another tender are refused; A's
//! bid opens by A's scan and its seal verifies; B's withdrawn bid does not open;
//! `open verify` checks the opened bids again and notices a changed PDF.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{oracle, tool};

const PIN: &str = "123456";
const TENDER: &str = "ZB-2026-042";
const ORG_USCC: &str = "91110000MA01ABCD2Q";
const KEYWORD: &str = "投标人";
const QUOTED_PRICE: &str = "9876543.21";

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
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

    fn json(&self, args: &[&str]) -> (i32, Value) {
        let out = self.run(args);
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "bidkit {args:?}: stdout is not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), v)
    }

    fn ok(&self, args: &[&str]) -> Value {
        let (code, v) = self.json(args);
        assert_eq!(code, 0, "bidkit {args:?}: {v}");
        v
    }

    /// Run a tool command (`--json`) that shows `scans` QR codes one after the other,
    /// answer each with `bidkit phone scan --phone PHONE`; the tool's exit code and
    /// JSON.
    fn with_scans(&self, phone: &str, tool_args: &[&str], scans: usize) -> (i32, Value) {
        let qr = self.path("qr.png");
        let _ = std::fs::remove_file(&qr);
        let mut args = vec!["--json"];
        args.extend_from_slice(tool_args);
        args.extend_from_slice(&[
            "--qr-out",
            qr.to_str().unwrap(),
            "--timeout",
            "60",
            "--qr-step",
            "60",
        ]);
        let child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut scanned: Option<Vec<u8>> = None;
        for n in 0..scans {
            let deadline = Instant::now() + Duration::from_secs(60);
            let code = loop {
                if let Ok(bytes) = std::fs::read(&qr)
                    && scanned.as_ref() != Some(&bytes)
                {
                    break bytes;
                }
                assert!(Instant::now() < deadline, "no QR code {} appeared", n + 1);
                std::thread::sleep(Duration::from_millis(50));
            };
            let this = self.path(&format!("qr-{}.png", n + 1));
            std::fs::write(&this, &code).unwrap();
            let out = self.run(&["phone", "scan", s(&this), "--phone", phone, "--pin", PIN]);
            assert!(
                out.status.success(),
                "scan {}: {}\n{}",
                n + 1,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            scanned = Some(code);
        }
        let out = child.wait_with_output().unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "tool stdout is not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), v)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn status_decrypt_by_scan_and_verify_in_the_opening_hall() {
    let home = Home::new();
    // Bidder A: a person of an organisation with its round 公章.
    home.ok(&[
        "phone",
        "enrol",
        "--phone",
        "a",
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
        ORG_USCC,
    ]);
    let seal = home.ok(&[
        "phone",
        "seal",
        "make",
        "--phone",
        "a",
        "--template",
        "round",
        "--kind",
        "official",
        "--org",
        ORG_USCC,
    ]);
    let seal = seal["seal"]["id"].as_i64().unwrap().to_string();
    // Bidder B: a person.
    home.ok(&[
        "phone",
        "enrol",
        "--phone",
        "b",
        "--name",
        "李四",
        "--id-number",
        "110105194912310038",
        "--phone-number",
        "13800000002",
        "--pin",
        PIN,
    ]);

    // A seals a document by keyword; B's stays unsealed.
    let doc_a = home.path("a.pdf");
    bidkit_pdf::generate::a4_document_with_keywords(&doc_a, 2, &[2], KEYWORD).unwrap();
    let sealed_a = home.path("a-sealed.pdf");
    let (code, v) = home.with_scans(
        "a",
        &[
            "seal",
            s(&doc_a),
            "-o",
            s(&sealed_a),
            "--seal",
            &seal,
            "--mode",
            "keyword",
            "--keyword",
            KEYWORD,
        ],
        1,
    );
    assert_eq!(code, 0, "{v}");
    let doc_b = home.path("b.pdf");
    bidkit_pdf::generate::a4_document_with_keywords(&doc_b, 1, &[1], KEYWORD).unwrap();

    // Both encrypt (two scans each) into the tender's directory and submit.
    let bids = home.path("bids");
    std::fs::create_dir(&bids).unwrap();
    // A's payload is a bid package: the sealed PDF with the project's manifest (its
    // quoted price); B's is the bare PDF.
    let manifest_a = home.path("bid.json");
    std::fs::write(
        &manifest_a,
        serde_json::to_vec_pretty(&serde_json::json!({
            "schema": "bidkit.bid/1",
            "tender_id": TENDER,
            "tender_sha256": "ab".repeat(32),
            "bidder": {"name": "北京某某建设有限公司", "uscc": ORG_USCC},
            "quoted_price": QUOTED_PRICE,
            "sections": {},
            "created": "2026-12-01T00:00:00Z"
        }))
        .unwrap(),
    )
    .unwrap();
    let mut uscc = Vec::new();
    for (phone, input) in [("a", &sealed_a), ("b", &doc_b)] {
        let bid = bids.join(format!("{phone}.bid"));
        let mut args = vec![
            "bid",
            "encrypt",
            s(input),
            "-o",
            s(&bid),
            "--tender-id",
            TENDER,
        ];
        if phone == "a" {
            args.extend_from_slice(&["--manifest", s(&manifest_a)]);
        }
        let (code, v) = home.with_scans(phone, &args, 2);
        assert_eq!(code, 0, "{v}");
        uscc.push(v["bidder"]["uscc"].as_str().unwrap().to_owned());
        let receipt = bids.join(format!("{phone}-receipt.json"));
        let (code, v) = home.with_scans(phone, &["bid", "submit", s(&bid), "-o", s(&receipt)], 1);
        assert_eq!(code, 0, "{v}");
    }
    assert_ne!(uscc[0], uscc[1]);
    // Other JSON beside the bids is ignored.
    std::fs::write(bids.join("notes.json"), b"{\"hello\": 1}").unwrap();

    // Before any decryption: both intact, signed, submitted.
    let status = home.ok(&["open", "status", s(&bids)]);
    assert_eq!(status["tender_id"], TENDER, "{status}");
    let list = status["bids"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{status}");
    for (b, uscc) in list.iter().zip(&uscc) {
        assert_eq!(b["bidder"]["uscc"], uscc.as_str(), "{b}");
        assert_eq!(b["integrity"], "intact", "{b}");
        assert_eq!(b["tender_matches"], true, "{b}");
        assert_eq!(b["withdrawn"], false, "{b}");
        assert!(b["submitted_at"].is_string(), "{b}");
        assert_eq!(b["signer"]["signature_valid"], true, "{b}");
        assert!(b["signer"]["chain_problem"].is_null(), "{b}");
        assert_eq!(b["problems"].as_array().unwrap().len(), 0, "{b}");
    }
    assert_eq!(status["unmatched_statements"].as_array().unwrap().len(), 0);
    // Text mode: a table naming both bidders.
    let text = home
        .command(&["open", "status", s(&bids)])
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    for expected in [uscc[0].as_str(), uscc[1].as_str(), "intact", TENDER] {
        assert!(text.contains(expected), "{expected}: {text}");
    }

    // Another tender: exit 1, each bid named as for another tender.
    let (code, v) = home.json(&["open", "status", s(&bids), "--tender-id", "ZB-OTHER"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["bids"][0]["tender_matches"], false, "{v}");

    // A tampered copy (a flipped payload bit): damaged, exit 1; the receipt no longer
    // matches it.
    let tampered = home.path("tampered");
    std::fs::create_dir(&tampered).unwrap();
    let mut bytes = std::fs::read(bids.join("a.bid")).unwrap();
    let at = bytes.len() - 40;
    bytes[at] ^= 0x01;
    std::fs::write(tampered.join("a.bid"), &bytes).unwrap();
    std::fs::copy(bids.join("a-receipt.json"), tampered.join("a-receipt.json")).unwrap();
    let (code, v) = home.json(&["open", "status", s(&tampered)]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["bids"][0]["integrity"], "damaged", "{v}");
    assert!(v["bids"][0]["submitted_at"].is_null(), "{v}");
    assert_eq!(
        v["unmatched_statements"].as_array().unwrap().len(),
        1,
        "{v}"
    );
    // Decrypting it is refused before any QR code.
    let out = home.run(&[
        "open",
        "decrypt",
        s(&tampered),
        "--bidder",
        &uscc[0],
        "-o",
        s(&home.path("never")),
        "--qr-out",
        s(&home.path("never.png")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!home.path("never.png").exists());

    // B withdraws (one scan): status shows it, exit still 0 (A is sound).
    let (code, v) = home.with_scans(
        "b",
        &[
            "bid",
            "withdraw",
            s(&bids.join("b.bid")),
            "-o",
            s(&bids.join("b-withdrawal.json")),
            "--reason",
            "报价有误",
        ],
        1,
    );
    assert_eq!(code, 0, "{v}");
    let status = home.ok(&["open", "status", s(&bids)]);
    assert_eq!(status["bids"][1]["withdrawn"], true, "{status}");
    assert_eq!(status["bids"][0]["withdrawn"], false, "{status}");

    // Opening: A's bid by A's scan; the seal verifies.
    let opened = home.path("opened");
    let (code, v) = home.with_scans(
        "a",
        &[
            "open",
            "decrypt",
            s(&bids),
            "--bidder",
            &uscc[0],
            "-o",
            s(&opened),
        ],
        1,
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["valid"], true, "{v}");
    assert_eq!(v["summary"]["signatures"], 1, "{v}");
    assert_eq!(
        v["decrypt"]["manifest"]["bid"]["quoted_price"], QUOTED_PRICE,
        "{v}"
    );
    // A bid package is extracted into USCC/.
    let pdf = opened.join(&uscc[0]).join("bid.pdf");
    assert_eq!(
        std::fs::read(&pdf).unwrap(),
        std::fs::read(&sealed_a).unwrap()
    );
    // B's withdrawn bid does not open (no QR code shown).
    let out = home.run(&[
        "open",
        "decrypt",
        s(&bids),
        "--bidder",
        &uscc[1],
        "-o",
        s(&opened),
        "--qr-out",
        s(&home.path("never.png")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("withdr"));
    assert!(!home.path("never.png").exists());

    // Verify the opened bids again: valid; then a changed PDF is noticed.
    let v = home.ok(&["open", "verify", s(&opened)]);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["bids"].as_array().unwrap().len(), 1, "{v}");

    // The opening record (开标记录): A opened and valid, B withdrawn; a real PDF whose
    // text reads back.
    let record = home.path("开标记录.pdf");
    let v = home.ok(&[
        "open",
        "record",
        s(&opened),
        "--bids",
        s(&bids),
        "-o",
        s(&record),
        "--project",
        "某市第一中学教学楼建设工程",
    ]);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["record"]["bids"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(
        v["record"]["bids"][0]["bidder_uscc"],
        uscc[0].as_str(),
        "{v}"
    );
    assert_eq!(v["record"]["bids"][1]["state"], "已撤标 / withdrawn", "{v}");
    assert_eq!(v["record"]["bids"][0]["quoted_price"], QUOTED_PRICE, "{v}");
    assert!(record.is_file());
    if oracle("qpdf") {
        let (ok, msg) = tool("qpdf", &["--check", s(&record)]);
        assert!(ok, "qpdf --check: {msg}");
    }
    if oracle("pdftotext") {
        let (ok, text) = tool("pdftotext", &["-enc", "UTF-8", s(&record), "-"]);
        assert!(ok, "{text}");
        let hash = status["bids"][0]["bid_file_hash"].as_str().unwrap();
        for want in [
            "开标记录",
            TENDER,
            "某市第一中学教学楼建设工程",
            "北京某某建设有限公司",
            uscc[0].as_str(),
            "李四",
            "已撤标",
            "有效",
            QUOTED_PRICE,
            "投标包清单",
            &hash[..32],
        ] {
            // Long lines wrap, at any CJK character.
            let flat = text.replace('\n', "");
            assert!(flat.contains(want), "the record lacks {want:?}: {text}");
        }
    }

    // Bidders confirm the record by scan. B's phone cannot confirm for A: refused,
    // nothing written.
    let confirmation = home.path(&format!("开标记录.confirm-{}.json", uscc[0]));
    let qr = home.path("qr.png");
    let _ = std::fs::remove_file(&qr);
    let mut tool = home
        .command(&[
            "--json",
            "open",
            "confirm",
            s(&record),
            "--bidder",
            &uscc[0],
            "--qr-out",
            s(&qr),
            "--timeout",
            "60",
            "--qr-step",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !qr.exists() {
        assert!(Instant::now() < deadline, "no QR code");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    let wrong_qr = home.path("wrong-qr.png");
    std::fs::copy(&qr, &wrong_qr).unwrap();
    let _ = home.run(&["phone", "scan", s(&wrong_qr), "--phone", "b", "--pin", PIN]);
    let status = tool.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(!confirmation.exists());
    // A confirms: the phone is shown A's row, with the price.
    let (code, v) = home.with_scans(
        "a",
        &["open", "confirm", s(&record), "--bidder", &uscc[0]],
        1,
    );
    assert_eq!(code, 0, "{v}");
    assert!(confirmation.is_file(), "{v}");
    assert!(
        v["statement"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains(QUOTED_PRICE)),
        "{v}"
    );
    // verify-record: A confirmed, B not (yet); not sealed.
    let v = home.ok(&["open", "verify-record", s(&record)]);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["sealed"], false, "{v}");
    assert_eq!(
        v["confirmations"][0]["bidder_uscc"],
        uscc[0].as_str(),
        "{v}"
    );
    assert_eq!(v["not_confirmed"].as_array().unwrap().len(), 1, "{v}");
    let text = home
        .command(&["open", "verify-record", s(&record)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("已确认 / confirmed by"), "{text}");
    // A changed record is not the one confirmed.
    let changed = home.path("开标记录-changed.pdf");
    let mut bytes = std::fs::read(&record).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&changed, &bytes).unwrap();
    let (code, v) = home.json(&[
        "open",
        "verify-record",
        s(&changed),
        "--confirmation",
        s(&confirmation),
    ]);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["confirmations"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("not the record that was confirmed"),
        "{v}"
    );

    // The agent seals the record (here with A's 公章 standing in for the agent's) by
    // keyword; the sealed record verifies.
    let sealed_record = home.path("开标记录-sealed.pdf");
    let (code, v) = home.with_scans(
        "a",
        &[
            "seal",
            s(&record),
            "-o",
            s(&sealed_record),
            "--seal",
            &seal,
            "--mode",
            "keyword",
            "--keyword",
            "招标代理机构",
        ],
        1,
    );
    assert_eq!(code, 0, "{v}");
    let (code, v) = home.json(&["verify", s(&sealed_record)]);
    assert_eq!(code, 0, "{v}");
    // The sealed record is still the one A confirmed, and its seal verifies.
    let v = home.ok(&[
        "open",
        "verify-record",
        s(&sealed_record),
        "--data",
        s(&home.path("开标记录.record.json")),
    ]);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["sealed"], true, "{v}");
    assert_eq!(v["confirmations"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["confirmations"][0]["valid"], true, "{v}");

    // An empty directory: no bid, exit 1.
    let empty = home.path("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, v) = home.json(&["open", "status", s(&empty)]);
    assert_eq!(code, 1, "{v}");

    let mut bytes = std::fs::read(&pdf).unwrap();
    bytes.extend_from_slice(b"\n% appended\n");
    std::fs::write(&pdf, &bytes).unwrap();
    let (code, v) = home.json(&["open", "verify", s(&opened)]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["bids"][0]["content_unchanged"], false, "{v}");
}
