//! Black-box tests of `bidkit tender …` and `bidkit bid …`: a tender package made and
//! checked, a bid project filled with a PDF, a PNG and Markdown, built (checked with qpdf
//! and pdftotext), checked against the tender (missing seals, override recorded), and
//! `bid inspect` on junk, on a real bid file and on a tampered copy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::{oracle, tool};

const USCC: &str = "91110000600037341L";
const BIDDER: &str = "北京某某建设有限公司";
const MD: &str = "# 技术方案\n\n本项目采用装配式混凝土结构，施工组织分为三个阶段。\n\n\
## 质量保证\n\n- 严格执行国家标准；\n- 每道工序三检制度。\n";

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
            .env("BIDKIT_HOME", self.path("home"))
            .env_remove("BIDKIT_NOW")
            .stdin(Stdio::null());
        c
    }

    /// Run with `--json`.
    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.command(&all).output().unwrap()
    }

    /// Run with `--json`, expecting exit `code`; returns stdout as JSON and stderr.
    fn expect(&self, code: i32, args: &[&str]) -> (Value, String) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "bidkit {args:?}: stdout {} stderr {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (json, stderr)
    }

    fn ok(&self, args: &[&str]) -> Value {
        self.expect(0, args).0
    }

    /// Run in text mode, expecting exit `code`; returns stdout and stderr.
    fn text(&self, code: i32, args: &[&str]) -> (String, String) {
        let out = self.command(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "bidkit {args:?}: {stdout} {stderr}"
        );
        (stdout, stderr)
    }

    /// A tender document PDF.
    fn document(&self) -> PathBuf {
        let path = self.path("招标文件.pdf");
        if !path.exists() {
            bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(2), &path)
                .unwrap();
        }
        path
    }

    /// A tender package from the example spec; returns its directory.
    fn tender(&self) -> PathBuf {
        let spec = self.path("spec.json");
        if !spec.exists() {
            self.ok(&["tender", "new", "--example", s(&spec)]);
        }
        let pkg = self.path("TENDER");
        self.ok(&[
            "tender",
            "new",
            "--spec",
            s(&spec),
            "--document",
            s(&self.document()),
            "--out",
            s(&pkg),
        ]);
        pkg
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn png_file(path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), 40, 30);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().unwrap();
    let data: Vec<u8> = (0..40 * 30 * 3).map(|i| (i % 251) as u8).collect();
    w.write_image_data(&data).unwrap();
}

#[test]
fn tender_new_then_check() {
    let home = Home::new();
    let spec = home.path("spec.json");
    let example = home.ok(&["tender", "new", "--example", s(&spec)]);
    assert_eq!(example["requirements"]["schema"], "bidkit.tender/1");
    let written: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    assert!(written.get("document").is_none(), "{written}");
    // The example is not overwritten.
    home.expect(1, &["tender", "new", "--example", s(&spec)]);

    let pkg = home.tender();
    let doc_hash = sha256_hex(&home.document());
    let checked = home.ok(&["tender", "check", s(&pkg)]);
    assert_eq!(checked["valid"], true);
    assert_eq!(checked["requirements"]["document"]["file"], "招标文件.pdf");
    assert_eq!(checked["requirements"]["document"]["sha256"], doc_hash);
    assert!(pkg.join("招标文件.pdf").is_file());
    let (text, _) = home.text(0, &["tender", "check", s(&pkg)]);
    for want in [
        "valid",
        "商务标",
        "技术标",
        "投标人（盖章）",
        "ZB-2026-0001",
    ] {
        assert!(text.contains(want), "lacks {want:?}: {text}");
    }

    // Flags instead of a spec (the example requirements, overridden).
    let pkg2 = home.path("TENDER2");
    let made = home.ok(&[
        "tender",
        "new",
        "--out",
        s(&pkg2),
        "--document",
        s(&home.document()),
        "--tender-id",
        "ZB-2026-0099",
        "--project-name",
        "某某道路改造工程",
        "--deadline",
        "2030-01-15T09:30:00+08:00",
        "--suite",
        "nist",
    ]);
    assert_eq!(made["requirements"]["tender_id"], "ZB-2026-0099");
    assert_eq!(made["requirements"]["suite"], "nist");
    assert_eq!(made["requirements"]["project"]["name"], "某某道路改造工程");
    assert_eq!(
        made["requirements"]["opening"],
        made["requirements"]["deadline"]
    );

    // A replaced tender document makes the package invalid.
    std::fs::write(pkg2.join("招标文件.pdf"), b"%PDF-1.7\nsomething else\n").unwrap();
    let (bad, _) = home.expect(1, &["tender", "check", s(&pkg2)]);
    assert_eq!(bad["valid"], false);
    let problems = bad["problems"].to_string();
    assert!(problems.contains("changed or replaced"), "{problems}");

    // Not a package at all.
    let (_, err) = home.expect(1, &["tender", "check", s(&home.path("nowhere"))]);
    assert!(err.contains("not found"), "{err}");
}

/// SHA-256 of a file, lowercase hex (through the crypto crate).
fn sha256_hex(path: &Path) -> String {
    let digest = bidkit_crypto::Suite::Nist
        .hash()
        .digest(&std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn invalid_spec_names_every_problem() {
    let home = Home::new();
    let spec = home.path("spec.json");
    home.ok(&["tender", "new", "--example", s(&spec)]);
    let mut v: Value = serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    v["sections"][0]["accept"] = serde_json::json!(["pdf", "docx"]);
    v["opening"] = Value::String("2020-01-01T00:00:00Z".into());
    v["seals"][0]["at"] = serde_json::json!({ "page": 0 });
    let bad = home.path("bad.json");
    std::fs::write(&bad, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let pkg = home.path("TENDER");
    let (json, err) = home.expect(
        1,
        &[
            "tender",
            "new",
            "--spec",
            s(&bad),
            "--document",
            s(&home.document()),
            "--out",
            s(&pkg),
        ],
    );
    for want in [
        "bad.json",
        "\"docx\"",
        "after the opening time",
        "page numbers start at 1",
    ] {
        assert!(err.contains(want), "lacks {want:?}: {err}");
    }
    assert_eq!(json["error"]["code"], "error");
    assert!(!pkg.join("tender.json").exists(), "nothing written");

    // The same requirements as a package's tender.json: `tender check` lists them.
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::copy(&bad, pkg.join("tender.json")).unwrap();
    let (json, _) = home.expect(1, &["tender", "check", s(&pkg)]);
    assert_eq!(json["valid"], false);
    assert_eq!(json["problems"].as_array().unwrap().len(), 3, "{json}");
    let (text, _) = home.text(1, &["tender", "check", s(&pkg)]);
    assert!(text.contains("INVALID") && text.contains("docx"), "{text}");

    // A spec that is not JSON of the schema.
    std::fs::write(&bad, br#"{"schema": "bidkit.tender/9"}"#).unwrap();
    let (_, err) = home.expect(
        1,
        &[
            "tender",
            "new",
            "--spec",
            s(&bad),
            "--document",
            s(&home.document()),
            "--out",
            s(&pkg),
        ],
    );
    assert!(err.contains("bidkit.tender/9"), "{err}");
    // A tender document that is not a PDF.
    let fake = home.path("fake.pdf");
    std::fs::write(&fake, "not a pdf at all\n").unwrap();
    let (_, err) = home.expect(
        1,
        &[
            "tender",
            "new",
            "--spec",
            s(&spec),
            "--document",
            s(&fake),
            "--out",
            s(&home.path("T3")),
        ],
    );
    assert!(err.contains("fake.pdf"), "{err}");
}

#[test]
fn bid_init_add_build_check() {
    let home = Home::new();
    let pkg = home.tender();
    let bid = home.path("BID");
    let init = home.ok(&[
        "bid",
        "init",
        s(&bid),
        "--tender",
        s(&pkg),
        "--bidder",
        BIDDER,
        "--uscc",
        USCC,
    ]);
    assert_eq!(init["manifest"]["bidder"]["uscc"], USCC);
    assert!(bid.join("bid.json").is_file() && bid.join("tender.json").is_file());
    // A second init in the same place is refused.
    home.expect(
        1,
        &[
            "bid",
            "init",
            s(&bid),
            "--tender",
            s(&pkg),
            "--bidder",
            BIDDER,
            "--uscc",
            USCC,
        ],
    );
    // A bad USCC is refused.
    let (_, err) = home.expect(
        1,
        &[
            "bid",
            "init",
            s(&home.path("BID2")),
            "--tender",
            s(&pkg),
            "--bidder",
            BIDDER,
            "--uscc",
            "123",
        ],
    );
    assert!(err.contains("unified social credit code"), "{err}");

    let src = home.path("src");
    std::fs::create_dir_all(&src).unwrap();
    let licence = src.join("营业执照.pdf");
    bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(3), &licence)
        .unwrap();
    let png = src.join("业绩证明.png");
    png_file(&png);
    let md = src.join("技术方案.md");
    std::fs::write(&md, MD.repeat(5)).unwrap();
    let quote = src.join("报价一览表.pdf");
    bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(1), &quote)
        .unwrap();

    let added = home.ok(&[
        "bid",
        "add",
        s(&bid),
        "--section",
        "business",
        s(&licence),
        s(&png),
    ]);
    assert_eq!(added["files"], 2);
    assert_eq!(added["added"][0]["type"], "pdf");
    assert_eq!(added["added"][1]["type"], "png");
    home.ok(&["bid", "add", s(&bid), "--section", "technical", s(&md)]);
    home.ok(&["bid", "add", s(&bid), "--section", "price", s(&quote)]);
    home.ok(&["bid", "price", s(&bid), "9876543.21"]);

    // A file that is not what it claims, and one the section does not accept.
    let fake = src.join("资质.pdf");
    std::fs::write(&fake, "这其实是一段文字。\n").unwrap();
    let (_, err) = home.expect(
        1,
        &["bid", "add", s(&bid), "--section", "technical", s(&fake)],
    );
    assert!(
        err.contains("资质.pdf") && err.contains("named as a PDF document"),
        "{err}"
    );
    let (_, err) = home.expect(1, &["bid", "add", s(&bid), "--section", "price", s(&png)]);
    assert!(err.contains("accepts only pdf"), "{err}");
    let (_, err) = home.expect(1, &["bid", "add", s(&bid), "--section", "nope", s(&md)]);
    assert!(err.contains("no section \"nope\""), "{err}");

    // Build, in text mode: progress on stderr, the report on stdout.
    let out = home.path("out").join("投标文件.pdf");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let (text, progress) = home.text(0, &["bid", "build", s(&bid), "-o", s(&out)]);
    assert!(progress.contains("writing: page"), "{progress}");
    assert!(progress.contains("done:"), "{progress}");
    for want in ["商务标", "技术标", "bookmarks: 7", "SHA-256"] {
        assert!(text.contains(want), "lacks {want:?}: {text}");
    }
    // And with --json (no progress lines).
    let built = home.ok(&["bid", "build", s(&bid), "-o", s(&out)]);
    let sections = built["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 3, "{built}");
    assert_eq!(sections[0]["id"], "business");
    assert_eq!(sections[0]["pages"], 4, "3 PDF pages + 1 image");
    assert_eq!(
        sections[0]["first_page"], 3,
        "after the cover and one TOC page"
    );
    assert_eq!(built["bookmarks"], 7);
    assert_eq!(
        built["pages"].as_u64().unwrap(),
        2 + 4 + sections[1]["pages"].as_u64().unwrap() + 1
    );
    assert_eq!(built["sha256"].as_str().unwrap().len(), 64);

    if oracle("qpdf") {
        let (ok, msg) = tool("qpdf", &["--check", s(&out)]);
        assert!(ok, "qpdf --check: {msg}");
    }
    if oracle("pdftotext") {
        let (ok, cover) = tool(
            "pdftotext",
            &["-enc", "UTF-8", "-f", "1", "-l", "1", s(&out), "-"],
        );
        assert!(ok, "{cover}");
        for want in ["投标文件", "某市第一中学教学楼建设工程", BIDDER, USCC] {
            assert!(cover.contains(want), "cover lacks {want:?}: {cover}");
        }
        let (_, toc) = tool(
            "pdftotext",
            &["-enc", "UTF-8", "-f", "2", "-l", "2", s(&out), "-"],
        );
        for want in ["目录", "商务标", "技术标", "报价（经济标）", "营业执照"] {
            assert!(toc.contains(want), "TOC lacks {want:?}: {toc}");
        }
    }

    // The unsealed build: the seals are missing, exit 1; the checklist is recorded.
    // A home without an emulated CA has no trust root: said, with the way out.
    let (err, _) = home.expect(1, &["bid", "check", s(&bid), "--sealed", s(&out)]);
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("--integrity-only"), "{message}");
    let (list, _) = home.expect(
        1,
        &[
            "bid",
            "check",
            s(&bid),
            "--sealed",
            s(&out),
            "--integrity-only",
        ],
    );
    assert_eq!(list["passed"], false);
    assert_eq!(list["may_proceed"], false);
    let items = list["items"].as_array().unwrap();
    let seal = items
        .iter()
        .find(|i| i["id"] == "official-signature-line")
        .unwrap();
    assert_eq!(seal["kind"], "seal");
    assert_eq!(seal["status"], "missing");
    for id in ["business", "technical", "price"] {
        let item = items.iter().find(|i| i["id"] == id).unwrap();
        assert_eq!(item["status"], "ok", "{item}");
    }
    let price = items.iter().find(|i| i["kind"] == "quoted_price").unwrap();
    assert_eq!(price["status"], "ok", "{price}");
    assert!(list.get("override").is_none());
    assert!(bid.join("checklist.json").is_file());
    // Without --sealed, the last build is checked.
    let (text, _) = home.text(1, &["bid", "check", s(&bid), "--integrity-only"]);
    assert!(
        text.contains("MISSING") && text.contains("Document checked:"),
        "{text}"
    );

    // With an override: exit 0, recorded in the JSON and in checklist.json.
    let reason = "盖章在开标前现场补办";
    let (list, _) = home.expect(
        0,
        &[
            "bid",
            "check",
            s(&bid),
            "--sealed",
            s(&out),
            "--override",
            reason,
            "--integrity-only",
        ],
    );
    assert_eq!(list["passed"], false);
    assert_eq!(list["may_proceed"], true);
    assert_eq!(list["override"]["why"], reason);
    assert_eq!(list["override"]["who"], BIDDER);
    let saved: Value =
        serde_json::from_slice(&std::fs::read(bid.join("checklist.json")).unwrap()).unwrap();
    assert_eq!(saved["override"]["why"], reason);
    assert_eq!(saved["schema"], "bidkit.checklist/1");
}

#[test]
fn bid_inspect_junk_intact_and_tampered() {
    let home = Home::new();
    // Junk: unreadable, exit 2.
    let junk = home.path("junk.bid");
    std::fs::write(&junk, b"this is not a bid file at all").unwrap();
    let (report, _) = home.expect(2, &["bid", "inspect", s(&junk)]);
    assert_eq!(report["verdict"], "unreadable");
    home.expect(2, &["bid", "inspect", s(&home.path("missing.bid"))]);

    // A real bid file, made with the library.
    let file = make_bid_file(home.dir.path());
    let (report, _) = home.expect(0, &["bid", "inspect", s(&file)]);
    assert_eq!(report["verdict"], "intact", "{report}");
    assert!(report["problems"].as_array().unwrap().is_empty());
    let (text, _) = home.text(0, &["bid", "inspect", s(&file)]);
    for want in [
        "ZB-2026-0042",
        BIDDER,
        USCC,
        "recipient:",
        "verdict:      intact",
    ] {
        assert!(text.contains(want), "lacks {want:?}: {text}");
    }

    // One byte flipped in the payload: damaged, exit 1; the input was only read.
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() - 20;
    bytes[at] ^= 0x01;
    let tampered = home.path("tampered.bid");
    std::fs::write(&tampered, &bytes).unwrap();
    let (report, _) = home.expect(1, &["bid", "inspect", s(&tampered)]);
    assert_eq!(report["verdict"], "damaged");
    assert_eq!(report["ciphertext_hash_ok"], false);
    let (text, _) = home.text(1, &["bid", "inspect", s(&tampered)]);
    assert!(text.contains("DAMAGED"), "{text}");
}

/// A GM bid file for the bidder, signed with a local test key under a test CA.
fn make_bid_file(dir: &Path) -> PathBuf {
    use bidkit_bidfile::{Bidder, ContentKey, Encryptor, HeaderDraft, RecipientRole};
    use bidkit_crypto::{PrivateKey, Suite};
    use bidkit_pki::{CertificateAuthority, Subject};

    let t0 = time::macros::datetime!(2026-03-01 08:00:00 UTC);
    let created = time::macros::datetime!(2026-03-02 09:30:00 UTC);
    let suite = Suite::Gm;
    let mut ca = CertificateAuthority::open_or_create(&dir.join("ca"), suite, t0).unwrap();
    let signing_key = PrivateKey::for_tests(suite, "bidder/sign");
    let encryption_key = PrivateKey::for_tests(suite, "bidder/enc");
    let dual = ca
        .issue_dual(
            &Subject::Organisation {
                name: BIDDER.into(),
                uscc: USCC.into(),
            },
            &signing_key.public_key(),
            &encryption_key.public_key(),
            t0,
        )
        .unwrap();
    let key = ContentKey::generate(suite).unwrap();
    let mut draft = HeaderDraft::new(
        suite,
        "ZB-2026-0042",
        Bidder::from_certificate(&dual.signing).unwrap(),
        created,
    )
    .unwrap()
    .with_chunk_size(4096)
    .unwrap();
    draft
        .add_recipient(RecipientRole::Bidder, &dual.encryption, &key)
        .unwrap();
    let input = dir.join("payload.bin");
    std::fs::write(&input, vec![0x5a; 10_000]).unwrap();
    let out = dir.join("bid.bkb");
    Encryptor::new(draft, key)
        .unwrap()
        .encrypt_file(&input, &out, |_| {})
        .unwrap()
        .sign_with(&signing_key, &dual.signing)
        .unwrap();
    out
}
