//! Black-box tests of `bidkit phone seal make|list`: templates, a scanned photo, a
//! handwritten signature, each recorded with a GB/T 38540 seal record that verifies;
//! a photo without a seal is a clear error with exit status 1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const USCC: &str = "91110000600037341L";
const BOSS_ID: &str = "11010519491231002X";
const BOSS_PHONE: &str = "13800000001";

struct Cli {
    home: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn raw(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_bidkit"))
            .args(args)
            .env("BIDKIT_HOME", self.home.path())
            .env("BIDKIT_INSECURE_FAST_KDF", "1")
            .env_remove("BIDKIT_PIN")
            .env_remove("BIDKIT_PHONE")
            .env_remove("BIDKIT_NOW")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.raw(&all);
        assert!(
            out.status.success(),
            "bidkit {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Whether a CJK font is installed (templates need one).
fn have_font() -> bool {
    bidkit_seal::SealFont::discover(None).is_ok()
}

fn enrol(cli: &Cli) {
    cli.ok(&[
        "phone",
        "enrol",
        "--phone",
        "boss",
        "--name",
        "张三",
        "--id-number",
        BOSS_ID,
        "--phone-number",
        BOSS_PHONE,
        "--pin",
        "123456",
        "--org",
        "北京某某建设有限公司",
        "--uscc",
        USCC,
    ]);
}

/// An RGB PNG `w` × `h` drawn by `px(x, y)`.
fn png(path: &Path, w: u32, h: u32, px: impl Fn(u32, u32) -> [u8; 3]) {
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            data.extend_from_slice(&px(x, y));
        }
    }
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
}

/// A photo of a red seal on off-white paper: a ring and a filled star-ish centre.
fn red_circle_photo(path: &Path) {
    png(path, 400, 400, |x, y| {
        let (dx, dy) = (x as f32 - 200.0, y as f32 - 200.0);
        let r = (dx * dx + dy * dy).sqrt();
        if (140.0..=156.0).contains(&r) || r < 40.0 || (dy.abs() < 6.0 && r < 120.0) {
            [205, 30, 40]
        } else {
            [246, 244, 238]
        }
    });
}

#[test]
fn make_seals_four_ways_and_list_them_with_verified_records() {
    let cli = Cli::new();
    enrol(&cli);
    let mut expected = Vec::new();

    if have_font() {
        // A round 公章 of the organisation, with a preview.
        let preview = cli.path("official.png");
        let official = cli.ok(&[
            "phone",
            "seal",
            "make",
            "--phone",
            "boss",
            "--template",
            "round",
            "--kind",
            "official",
            "--org",
            USCC,
            "--code",
            "1101050012345",
            "--preview",
            s(&preview),
            "--dpi",
            "300",
        ]);
        assert_eq!(official["seal"]["kind"], "official");
        assert_eq!(official["seal"]["name"], "北京某某建设有限公司公章");
        assert_eq!(official["size_mm"]["width"], 42.0);
        assert_eq!(official["eseal_valid"], true, "{official}");
        assert_eq!(official["source"], "template:round");
        assert!(std::fs::read(&preview).unwrap().starts_with(b"\x89PNG"));
        expected.push((official["seal"]["id"].clone(), "official", 42.0));

        // A square 人名章 of the signed-in person.
        let name = cli.ok(&[
            "phone",
            "seal",
            "make",
            "--phone",
            "boss",
            "--template",
            "name",
            "--dpi",
            "300",
        ]);
        assert_eq!(name["seal"]["kind"], "personal-name");
        assert_eq!(name["seal"]["name"], "张三人名章");
        assert_eq!(name["size_mm"]["width"], 18.0);
        assert_eq!(name["eseal_valid"], true, "{name}");
        expected.push((name["seal"]["id"].clone(), "personal-name", 18.0));
    } else {
        eprintln!("no CJK font installed: skipping the template seals");
    }

    // A seal scanned from a photo: the organisation's contract seal, 40 mm.
    let photo = cli.path("photo.png");
    red_circle_photo(&photo);
    let scanned = cli.ok(&[
        "phone",
        "seal",
        "make",
        "--phone",
        "boss",
        "--scan",
        s(&photo),
        "--kind",
        "contract",
        "--org",
        USCC,
        "--size-mm",
        "40",
        "--dpi",
        "300",
    ]);
    assert_eq!(scanned["seal"]["kind"], "contract");
    assert_eq!(scanned["source"], "scan");
    assert_eq!(scanned["eseal_valid"], true, "{scanned}");
    let w = scanned["size_mm"]["width"].as_f64().unwrap();
    assert!((40.0..44.0).contains(&w), "{scanned}");
    expected.push((scanned["seal"]["id"].clone(), "contract", w));

    // A handwritten signature from strokes (both point forms).
    let strokes = cli.path("strokes.json");
    std::fs::write(
        &strokes,
        r#"{"strokes": [
              [[0, 5, 0.2], [6, 0, 0.6], [12, 8, 0.9], [18, 2, 0.5]],
              [{"x": 20, "y": 6, "pressure": 0.4}, {"x": 30, "y": 4}]
           ], "color": "blue"}"#,
    )
    .unwrap();
    let signed = cli.ok(&[
        "phone",
        "seal",
        "make",
        "--phone",
        "boss",
        "--strokes",
        s(&strokes),
        "--dpi",
        "300",
    ]);
    assert_eq!(signed["seal"]["kind"], "handwritten");
    assert_eq!(signed["eseal_valid"], true, "{signed}");
    let sw = signed["size_mm"]["width"].as_f64().unwrap();
    assert!(sw > 30.0 && sw < 40.0, "{signed}");
    expected.push((signed["seal"]["id"].clone(), "handwritten", sw));

    // The list shows them all, each with a verified record and its size.
    let list = cli.ok(&["phone", "seal", "list", "--phone", "boss"]);
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), expected.len(), "{list}");
    for (id, kind, width) in &expected {
        let row = rows.iter().find(|r| &r["seal"]["id"] == id).unwrap();
        assert_eq!(row["seal"]["kind"], *kind);
        assert_eq!(row["eseal_valid"], true, "{row}");
        assert!(row["eseal_error"].is_null());
        assert!(row["eseal_maker"].is_string());
        assert_eq!(row["usable"], true);
        let got = row["size_mm"]["width"].as_f64().unwrap();
        assert!((got - width).abs() < 0.02, "{row}");
    }

    // The text form says the record verifies.
    let out = cli.raw(&["phone", "seal", "list", "--phone", "boss"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SESeal): verifies"), "{text}");
    assert!(text.contains("handwritten"), "{text}");
}

#[test]
fn a_photo_without_a_seal_is_a_clear_error() {
    let cli = Cli::new();
    enrol(&cli);
    let photo = cli.path("blue.png");
    // A page of blue handwriting-ish lines on white: no red ink.
    png(&photo, 300, 200, |x, y| {
        if y % 20 < 2 && x > 20 && x < 280 {
            [30, 40, 160]
        } else {
            [250, 250, 250]
        }
    });
    let out = cli.raw(&[
        "phone",
        "seal",
        "make",
        "--phone",
        "boss",
        "--scan",
        s(&photo),
        "--org",
        USCC,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bidkit: error:"), "{err}");
    assert!(err.contains("blue.png"), "{err}");
    assert!(err.to_lowercase().contains("no usable seal"), "{err}");
    // Nothing was recorded.
    let list = cli.ok(&["phone", "seal", "list", "--phone", "boss"]);
    assert_eq!(list, Value::Array(vec![]));
}

#[test]
fn bad_combinations_are_refused() {
    let cli = Cli::new();
    enrol(&cli);
    let strokes = cli.path("s.json");
    std::fs::write(&strokes, "[[[0,0,0.5],[5,5,0.5]]]").unwrap();
    // Strokes make handwritten signatures only.
    let out = cli.raw(&[
        "phone",
        "seal",
        "make",
        "--phone",
        "boss",
        "--strokes",
        s(&strokes),
        "--kind",
        "official",
    ]);
    assert_eq!(out.status.code(), Some(1));
    // An organisation seal needs --org.
    let out = cli.raw(&[
        "phone",
        "seal",
        "make",
        "--phone",
        "boss",
        "--template",
        "round",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--org"));
    // A malformed strokes file names itself.
    std::fs::write(&strokes, "{\"strokes\": 5}").unwrap();
    let out = cli.raw(&[
        "phone",
        "seal",
        "make",
        "--phone",
        "boss",
        "--strokes",
        s(&strokes),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("s.json"));
    // A bare list of strokes works.
    std::fs::write(&strokes, "[[[0,0,0.5],[5,5,0.5]]]").unwrap();
    let v = cli.ok(&[
        "phone",
        "seal",
        "make",
        "--phone",
        "boss",
        "--strokes",
        s(&strokes),
    ]);
    assert_eq!(v["eseal_valid"], true);
}
