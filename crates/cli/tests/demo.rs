//! `bidkit demo` end to end, in both suites: it exits 0, runs every step of the story
//! in order with the phone scans each needs, keeps every artifact under its stable
//! name, and the artifacts are what the steps claim — checked by the verifier, the
//! bid-file inspector, the statement verifier, the opening-record verifier (the
//! bidder's confirmation) and, when installed, qpdf and pdftotext. The bid file's
//! payload is a bid package whose manifest carries the quoted price the opening
//! record shows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{oracle, tool};

/// The steps and the scans each takes, in order.
const STEPS: &[(&str, u64)] = &[
    ("relay", 0),
    ("bidder-phone", 0),
    ("agent-phone", 0),
    ("tender", 0),
    ("bid-build", 0),
    ("seal-keyword", 1),
    ("seal-page", 1),
    ("seal-seam", 1),
    ("check", 0),
    ("encrypt", 2),
    ("submit", 1),
    ("opening-status", 0),
    ("decrypt", 1),
    ("verify", 0),
    ("opening-record", 0),
    ("confirm-record", 1),
    ("seal-record", 1),
    ("records", 0),
];

/// The bidder's quoted price, in the project, the package's manifest and the record.
const QUOTED_PRICE: &str = "9876543.21";

/// The bidder's confirmation of the opening record, named as `bidkit open confirm`
/// names it (after the bidder's 统一社会信用代码).
const CONFIRMATION: &str = "opening-record.confirm-91110000MA0000001L.json";

/// Files every run leaves in `--out`.
const ARTIFACTS: &[&str] = &[
    "tender/tender.json",
    "bid.pdf",
    "bid-sealed-keyword.pdf",
    "bid-sealed-page.pdf",
    "bid-sealed.pdf",
    "bid-checklist.json",
    "bids/bid.bid",
    "bids/bid-receipt.json",
    "opening-status.json",
    "materials/price-breakdown.csv",
    "opened/bid/manifest.json",
    "opened/bid/bid.pdf",
    "opened/bid/attachments/price-breakdown.csv",
    "opened/bid-verification.json",
    "opening-record.pdf",
    CONFIRMATION,
    "opening-record-sealed.pdf",
    "ca-root.pem",
    "bidder-org-signing.pem",
    "bidder-org-encryption.pem",
    "bidder-person-signing.pem",
    "agent-org-signing.pem",
    "bidder-usage-records.json",
    "agent-usage-records.json",
];

fn bidkit(home: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bidkit"))
        .arg("--json")
        .args(args)
        .env("BIDKIT_HOME", home)
        .env_remove("BIDKIT_TSA_URL")
        .env_remove("BIDKIT_PHONE")
        .env_remove("BIDKIT_PIN")
        .env_remove("BIDKIT_NOW")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bidkit {args:?}: stdout is not JSON ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn demo(suite: &str) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let out = dir.path().join("demo");
    let s = |p: &Path| p.to_str().unwrap().to_owned();

    let (code, report, stderr) = bidkit(&home, &["demo", "--suite", suite, "--out", &s(&out)]);
    assert_eq!(code, 0, "demo failed: {report}\n{stderr}");

    // Every step, in order, with its scans; each printed as it ran.
    let steps = report["steps"].as_array().unwrap();
    let got: Vec<(&str, u64)> = steps
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["scans"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, STEPS, "{report:#}");
    for (n, (id, _)) in STEPS.iter().enumerate() {
        assert!(
            stderr.contains(&format!("[{:>2}] {id}", n + 1)),
            "step {id} not printed:\n{stderr}"
        );
    }
    assert_eq!(report["suite"], suite);
    assert!(
        report["relay"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{report}"
    );

    // Every artifact listed exists, and the stable names are there.
    let artifacts: Vec<&str> = report["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in &artifacts {
        assert!(out.join(a).is_file(), "listed artifact {a} is missing");
    }
    for a in ARTIFACTS {
        assert!(artifacts.contains(a), "{a} not listed: {artifacts:?}");
    }
    assert_eq!(report["quoted_price"], QUOTED_PRICE, "{report:#}");
    assert_eq!(report["confirmation"], CONFIRMATION, "{report:#}");

    // The bid file's payload was the bid package: the decrypted bid.pdf is the sealed
    // one byte for byte, the manifest carries the quoted price and the PDF's hash, the
    // attachment came through unchanged; and all three seals verify.
    assert_eq!(
        std::fs::read(out.join("opened/bid/bid.pdf")).unwrap(),
        std::fs::read(out.join("bid-sealed.pdf")).unwrap()
    );
    assert_eq!(
        std::fs::read(out.join("opened/bid/attachments/price-breakdown.csv")).unwrap(),
        std::fs::read(out.join("materials/price-breakdown.csv")).unwrap()
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("opened/bid/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest["bid"]["quoted_price"], QUOTED_PRICE,
        "{manifest:#}"
    );
    assert_eq!(
        manifest["bid"]["tender_id"], "ZB-2026-DEMO-0001",
        "{manifest:#}"
    );
    assert_eq!(manifest["pdf"]["name"], "bid.pdf", "{manifest:#}");
    assert_eq!(
        manifest["attachments"][0]["name"], "attachments/price-breakdown.csv",
        "{manifest:#}"
    );
    let ca = out.join("ca-root.pem");
    let (code, v, _) = bidkit(
        &home,
        &[
            "verify",
            &s(&out.join("opened/bid/bid.pdf")),
            "--trust",
            &s(&ca),
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    let sigs = v["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 3, "{v:#}");
    let stamps: usize = sigs
        .iter()
        .map(|s| s["stamps"].as_array().unwrap().len())
        .sum();
    assert!(stamps >= 3, "{v:#}");
    let (code, v, _) = bidkit(
        &home,
        &[
            "verify",
            &s(&out.join("opening-record-sealed.pdf")),
            "--trust",
            &s(&ca),
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert!(
        v["signatures"][0]["signer"]["subject"]
            .as_str()
            .unwrap()
            .contains("某某招标代理有限公司"),
        "{v:#}"
    );

    // The bidder's confirmation verifies, against the record as confirmed and against
    // the record the agent sealed afterwards (an incremental update keeps the
    // confirmed bytes).
    let confirmation = out.join(CONFIRMATION);
    let (code, v, _) = bidkit(
        &home,
        &[
            "open",
            "verify-record",
            &s(&out.join("opening-record.pdf")),
            "--trust",
            &s(&ca),
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["sealed"], false, "{v:#}");
    let confirmations = v["confirmations"].as_array().unwrap();
    assert_eq!(confirmations.len(), 1, "{v:#}");
    assert_eq!(confirmations[0]["valid"], true, "{v:#}");
    assert_eq!(
        confirmations[0]["bidder_name"], "示例建设工程有限公司",
        "{v:#}"
    );
    let (code, v, _) = bidkit(
        &home,
        &[
            "open",
            "verify-record",
            &s(&out.join("opening-record-sealed.pdf")),
            "--confirmation",
            &s(&confirmation),
            "--trust",
            &s(&ca),
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["sealed"], true, "{v:#}");
    assert_eq!(v["seal"]["valid"], true, "{v:#}");
    assert_eq!(v["confirmations"][0]["valid"], true, "{v:#}");
    let confirmed: Value = serde_json::from_slice(&std::fs::read(&confirmation).unwrap()).unwrap();
    let statement = &confirmed["statement"];
    assert_eq!(statement["tender_id"], "ZB-2026-DEMO-0001", "{confirmed:#}");
    assert_eq!(
        statement["record_file"], "opening-record.pdf",
        "{confirmed:#}"
    );
    assert_eq!(
        statement["record_size"].as_u64().unwrap(),
        std::fs::metadata(out.join("opening-record.pdf"))
            .unwrap()
            .len(),
        "{confirmed:#}"
    );
    assert!(
        statement["lines"].as_array().unwrap().iter().any(|l| l
            .as_str()
            .unwrap()
            .ends_with(&format!("quoted price: {QUOTED_PRICE}"))),
        "{confirmed:#}"
    );

    // The bid file is intact without the key; the receipt verifies against it.
    let (code, v, _) = bidkit(&home, &["bid", "inspect", &s(&out.join("bids/bid.bid"))]);
    assert_eq!(code, 0, "{v:#}");
    assert!(
        v.to_string()
            .contains("application/vnd.bidkit.bid-package+tar"),
        "the payload is not a bid package: {v:#}"
    );
    let (code, v, _) = bidkit(
        &home,
        &[
            "bid",
            "verify-statement",
            &s(&out.join("bids/bid-receipt.json")),
            "--bid",
            &s(&out.join("bids/bid.bid")),
            "--trust",
            &s(&ca),
        ],
    );
    assert_eq!(code, 0, "{v:#}");

    // The checklist passed and names the sealed document.
    let checklist: Value =
        serde_json::from_slice(&std::fs::read(out.join("bid-checklist.json")).unwrap()).unwrap();
    assert!(
        checklist["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "ok"),
        "{checklist:#}"
    );

    // Outside oracles, when installed.
    if oracle("qpdf") {
        for pdf in [
            "bid.pdf",
            "bid-sealed.pdf",
            "opening-record.pdf",
            "opening-record-sealed.pdf",
        ] {
            let (ok, msg) = tool("qpdf", &["--check", &s(&out.join(pdf))]);
            assert!(ok, "qpdf --check {pdf}: {msg}");
        }
    }
    if oracle("pdftotext") {
        let (ok, text) = tool(
            "pdftotext",
            &[&s(&out.join("opening-record-sealed.pdf")), "-"],
        );
        assert!(ok, "{text}");
        for needle in [
            "开标记录",
            "示例建设工程有限公司",
            "ZB-2026-DEMO-0001",
            QUOTED_PRICE,
        ] {
            assert!(text.contains(needle), "{needle} not in the record:\n{text}");
        }
    }

    // A second run into the same directory is refused, and changes nothing.
    let before = std::fs::read(out.join("bids/bid.bid")).unwrap();
    let (code, v, _) = bidkit(&home, &["demo", "--suite", suite, "--out", &s(&out)]);
    assert_ne!(code, 0, "{v}");
    assert!(
        v["error"].to_string().contains("already holds a demo"),
        "{v}"
    );
    assert_eq!(std::fs::read(out.join("bids/bid.bid")).unwrap(), before);
}

#[test]
fn demo_gm() {
    demo("gm");
}

#[test]
fn demo_nist() {
    demo("nist");
}
