//! Black-box tests of the bid-file commands with the phone: `bidkit bid encrypt` (two
//! scans), `decrypt` (one scan), `submit` (one scan) in one process and
//! `bidkit phone scan` in another, over the tool's embedded relay; then
//! `bid inspect` and `bid verify-statement` on the results and on a tampered receipt.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const PIN: &str = "123456";
const TENDER: &str = "ZB-2026-007";

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    /// A phone enrolled for one person (the bidder), gm suite.
    fn enrolled() -> Home {
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
        ]);
        home
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

    /// Run a tool command that shows `scans` QR codes one after the other
    /// (`--qr-out`), answer each with `bidkit phone scan --pin`, and return the tool's
    /// exit code, its JSON (`--json`) or its stdout and stderr (text mode), and the
    /// phone's JSON for each scan.
    fn with_scans(&self, tool_args: &[&str], scans: usize, json: bool) -> Tool {
        let qr = self.path("qr.png");
        let _ = std::fs::remove_file(&qr);
        let mut args = Vec::new();
        if json {
            args.push("--json");
        }
        args.extend_from_slice(tool_args);
        // One frame per session (60 s rotation step): a code rotated between reading
        // the file and the phone joining would look like the next session's.
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
        let mut phone = Vec::new();
        // The code last scanned: the next session writes its own to the same file, so
        // the next scan waits for different contents.
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
            let out = self.run(&["phone", "scan", s(&this), "--pin", PIN]);
            let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            assert!(
                out.status.success(),
                "scan {}: {v}\n{}",
                n + 1,
                String::from_utf8_lossy(&out.stderr)
            );
            phone.push(v);
            scanned = Some(code);
        }
        finish(child, phone)
    }
}

struct Tool {
    code: i32,
    stdout: String,
    stderr: String,
    phone: Vec<Value>,
}

impl Tool {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "tool stdout is not JSON ({e}): {}\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

fn finish(child: Child, phone: Vec<Value>) -> Tool {
    let out = child.wait_with_output().unwrap();
    Tool {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        phone,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A payload of `len` bytes that is not all alike (standing in for the sealed PDF).
fn payload(path: &Path, len: usize) -> Vec<u8> {
    let bytes: Vec<u8> = (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[1])
        .collect();
    std::fs::write(path, &bytes).unwrap();
    bytes
}

#[test]
fn encrypt_inspect_decrypt_submit_and_verify_by_scan() {
    let home = Home::enrolled();
    let sealed = home.path("sealed.pdf");
    let plain = payload(&sealed, 200_000);
    let bid = home.path("bid.bid");

    // Encrypt, in text mode: two scans, steps and progress on stderr.
    let tool = home.with_scans(
        &[
            "bid",
            "encrypt",
            s(&sealed),
            "-o",
            s(&bid),
            "--tender-id",
            TENDER,
            "--chunk-size",
            "65536",
        ],
        2,
        false,
    );
    assert_eq!(tool.code, 0, "{}\n{}", tool.stdout, tool.stderr);
    assert!(tool.stdout.contains("bid.bid"), "{}", tool.stdout);
    assert!(tool.stdout.contains(TENDER), "{}", tool.stdout);
    for expected in ["scan 1 of 2", "scan 2 of 2", "200000 / 200000 bytes (100%)"] {
        assert!(
            tool.stderr.contains(expected),
            "{expected}: {}",
            tool.stderr
        );
    }
    assert_eq!(tool.phone[0]["outcome"], "approved", "{}", tool.phone[0]);
    assert_eq!(tool.phone[1]["outcome"], "approved", "{}", tool.phone[1]);
    assert!(bid.is_file());

    let inspected = home.ok(&["bid", "inspect", s(&bid)]);
    assert_eq!(inspected["verdict"], "intact", "{inspected}");

    // Decrypt by one scan: the same bytes back.
    let out = home.path("out.pdf");
    let tool = home.with_scans(&["bid", "decrypt", s(&bid), "-o", s(&out)], 1, true);
    assert_eq!(tool.code, 0, "{}\n{}", tool.stdout, tool.stderr);
    let report = tool.json();
    assert_eq!(report["tender_id"], TENDER);
    assert_eq!(report["chunks"], 4);
    assert_eq!(report["recipient"]["role"], "bidder");
    assert_eq!(std::fs::read(&out).unwrap(), plain);
    // JSON mode: no step or progress lines.
    assert!(!tool.stderr.contains("bytes ("), "{}", tool.stderr);

    // Submit: a signed receipt that verifies, also against the bid file.
    let receipt = home.path("receipt.json");
    let tool = home.with_scans(&["bid", "submit", s(&bid), "-o", s(&receipt)], 1, true);
    assert_eq!(tool.code, 0, "{}\n{}", tool.stdout, tool.stderr);
    assert_eq!(tool.json()["kind"], "submission-receipt");
    let verified = home.ok(&["bid", "verify-statement", s(&receipt), "--bid", s(&bid)]);
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(verified["bid_file_matches"], true, "{verified}");

    // Against another file: invalid, exit 1.
    let other = home.run(&["bid", "verify-statement", s(&receipt), "--bid", s(&sealed)]);
    assert_eq!(other.status.code(), Some(1));

    // A byte of the signed statement flipped: invalid, exit 1.
    let mut json: Value = serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    let mut der = hex_decode(json["signed_der"].as_str().unwrap());
    let at = der.len() / 3;
    der[at] ^= 0x01;
    json["signed_der"] = hex_encode(&der).into();
    let tampered = home.path("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    let out = home.run(&["bid", "verify-statement", s(&tampered)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["code"], "statement-invalid", "{v}");
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A bid project (tender package → `bid init` with a quoted price) encrypted from its
/// directory with `--pdf`: the payload is a bid package; `bid decrypt` extracts it
/// into a directory (bid.pdf, manifest.json, attachments/) and reports the price.
#[test]
fn a_project_is_encrypted_as_a_bid_package_and_extracted_by_scan() {
    let home = Home::enrolled();
    let document = home.path("招标文件.pdf");
    bidkit_pdf::generate::a4_document_with_keywords(&document, 1, &[1], "招标").unwrap();
    let tender = home.path("tender");
    home.ok(&[
        "tender",
        "new",
        "--document",
        s(&document),
        "--out",
        s(&tender),
        "--tender-id",
        TENDER,
    ]);
    let project = home.path("project");
    home.ok(&[
        "bid",
        "init",
        s(&project),
        "--tender",
        s(&tender),
        "--bidder",
        "北京某某建设有限公司",
        "--uscc",
        "91110000MA01ABCD2Q",
        "--quoted-price",
        "9876543.21",
    ]);
    let sealed = home.path("sealed.pdf");
    let plain = payload(&sealed, 120_000);
    let attachment = home.path("业绩.txt");
    std::fs::write(&attachment, "业绩证明").unwrap();
    let bid = home.path("bid.bid");
    let tool = home.with_scans(
        &[
            "bid",
            "encrypt",
            s(&project),
            "--pdf",
            s(&sealed),
            "--attach",
            s(&attachment),
            "-o",
            s(&bid),
        ],
        2,
        false,
    );
    assert_eq!(tool.code, 0, "{}\n{}", tool.stdout, tool.stderr);
    assert!(tool.stdout.contains("9876543.21"), "{}", tool.stdout);
    assert!(tool.stdout.contains(TENDER), "{}", tool.stdout);
    let inspected = home.ok(&["bid", "inspect", s(&bid)]);
    assert_eq!(inspected["verdict"], "intact", "{inspected}");
    assert!(
        inspected
            .to_string()
            .contains("application/vnd.bidkit.bid-package+tar"),
        "{inspected}"
    );

    let out = home.path("opened");
    let tool = home.with_scans(&["bid", "decrypt", s(&bid), "-o", s(&out)], 1, true);
    assert_eq!(tool.code, 0, "{}\n{}", tool.stdout, tool.stderr);
    let report = tool.json();
    assert_eq!(
        report["manifest"]["bid"]["quoted_price"], "9876543.21",
        "{report}"
    );
    assert_eq!(report["manifest"]["bid"]["tender_id"], TENDER, "{report}");
    assert_eq!(std::fs::read(out.join("bid.pdf")).unwrap(), plain);
    assert_eq!(
        std::fs::read(out.join("attachments/业绩.txt")).unwrap(),
        "业绩证明".as_bytes()
    );
    assert!(out.join("manifest.json").is_file());

    // A project whose checklist never ran, without --pdf: refused before any scan.
    let out = home.run(&["bid", "encrypt", s(&project), "-o", s(&home.path("x.bid"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("bid check"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!home.path("x.bid").exists());
}

/// A package whose member climbs out with `..`, encrypted and signed by the bidder
/// (as a hostile bidder could): `bid decrypt` refuses it after decryption and leaves
/// nothing — no output, no temporary file, nothing outside.
#[test]
fn a_hostile_package_is_refused_by_decrypt_and_leaves_nothing() {
    let home = Home::enrolled();
    let pdf: &[u8] = b"%PDF-1.7 hostile";
    let sha: String = {
        // The manifest names the PDF's SHA-256; computed by the bidfile crate's
        // helper (the NIST suite's hash is SHA-256).
        let p = home.path("p.pdf");
        std::fs::write(&p, pdf).unwrap();
        let h = bidkit_bidfile::hash_file(&p, bidkit_crypto::Suite::Nist).unwrap();
        std::fs::remove_file(&p).unwrap();
        hex_encode(&h)
    };
    let manifest = serde_json::json!({
        "schema": "bidkit.bid-package/1",
        "bid": {
            "schema": "bidkit.bid/1",
            "tender_id": TENDER,
            "tender_sha256": "ab".repeat(32),
            "bidder": {"name": "某公司", "uscc": "91110000MA01ABCD2Q"},
            "quoted_price": "100",
            "sections": {},
            "created": "2026-12-01T00:00:00Z"
        },
        "pdf": {"name": "bid.pdf", "size": pdf.len(), "sha256": sha},
        "attachments": [{"name": "attachments/../../evil.pdf", "size": pdf.len(), "sha256": sha}]
    });
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let mut tar = Vec::new();
    for (name, data) in [
        (&b"manifest.json"[..], manifest.as_slice()),
        (&b"bid.pdf"[..], pdf),
        (&b"attachments/../../evil.pdf"[..], pdf),
    ] {
        let mut h = ::tar::Header::new_ustar();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(::tar::EntryType::Regular);
        h.set_cksum();
        tar.extend_from_slice(h.as_bytes());
        tar.extend_from_slice(data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.extend_from_slice(&[0u8; 1024]);
    let input = home.path("hostile.tar");
    std::fs::write(&input, &tar).unwrap();
    let bid = home.path("bid.bid");
    let tool = home.with_scans(
        &[
            "bid",
            "encrypt",
            s(&input),
            "-o",
            s(&bid),
            "--tender-id",
            TENDER,
            "--content-type",
            "application/vnd.bidkit.bid-package+tar",
        ],
        2,
        true,
    );
    assert_eq!(tool.code, 0, "{}\n{}", tool.stdout, tool.stderr);
    let sub = home.path("sub");
    std::fs::create_dir(&sub).unwrap();
    let before: Vec<_> = std::fs::read_dir(home.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let tool = home.with_scans(
        &["bid", "decrypt", s(&bid), "-o", s(&sub.join("out"))],
        1,
        true,
    );
    assert_eq!(tool.code, 1, "{}\n{}", tool.stdout, tool.stderr);
    assert!(
        tool.stdout.contains("bid-package-invalid"),
        "{}",
        tool.stdout
    );
    assert!(tool.stdout.contains(".."), "{}", tool.stdout);
    assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 0);
    let after: Vec<_> = std::fs::read_dir(home.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| !n.to_string_lossy().starts_with("qr"))
        .collect();
    assert_eq!(
        after.len(),
        before
            .iter()
            .filter(|n| !n.to_string_lossy().starts_with("qr"))
            .count()
    );
    assert!(!home.path("evil.pdf").exists());
    assert_eq!(std::fs::read(&input).unwrap(), tar);
}
