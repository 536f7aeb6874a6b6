#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sealing: every placement mode, successive operations, revoke, bad input — checked
//! with external oracles (qpdf, poppler's pdfsig and pdftoppm, OpenSSL, pyHanko) and
//! our own verifier.

mod support;

use std::path::{Path, PathBuf};

use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pdf::generate::{DocumentSpec, KeywordLine, write_document};
use bidkit_pdf::picture::SealPicture;
use bidkit_pdf::placement::{Occurrence, PagePosition, Parity, Placement};
use bidkit_pdf::revoke::{revoke_last, signature_fields};
use bidkit_pdf::sign::{SealJob, SealOutcome, seal_with};
use bidkit_pdf::verify::{TrustChoice, VerifyOptions, verify_file};
use bidkit_pdf::{Limits, PdfError, PdfFile};
use bidkit_pki::{Certificate, CertificateAuthority, KeyPurpose, Subject, TrustStore};
use time::OffsetDateTime;

const KEYWORD: &str = "投标人（盖章）";

struct Signer {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    key: PrivateKey,
    chain: Vec<Certificate>,
    root: Certificate,
}

impl Signer {
    fn new(suite: Suite) -> Signer {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc() - time::Duration::minutes(5);
        let mut ca =
            CertificateAuthority::open_or_create(&dir.path().join("ca"), suite, now).unwrap();
        let key = PrivateKey::generate(suite).unwrap();
        let subject = Subject::Organisation {
            name: "某某建设有限公司".into(),
            uscc: "91350100M000100Y43".into(),
        };
        let cert = ca
            .issue(&subject, KeyPurpose::Signing, &key.public_key(), now)
            .unwrap();
        let root = ca.root().clone();
        Signer {
            dir: dir.path().to_path_buf(),
            _dir: dir,
            key,
            chain: vec![cert, root.clone()],
            root,
        }
    }

    fn trust(&self) -> VerifyOptions {
        let mut store = TrustStore::new();
        store.add_root(self.root.clone()).unwrap();
        VerifyOptions::new(TrustChoice::Roots(store))
    }

    fn seal(
        &self,
        input: &Path,
        output: &Path,
        placement: Placement,
    ) -> Result<SealOutcome, PdfError> {
        let job = SealJob::new(
            input,
            output,
            picture(),
            "某某建设有限公司公章",
            placement,
            self.chain[0].clone(),
            OffsetDateTime::now_utc(),
        );
        seal_with(&job, &self.key, &self.chain)
    }
}

/// A 42 mm round 公章 from bidkit-seal's template.
fn picture() -> SealPicture {
    let font = bidkit_seal::SealFont::discover(None).expect("a CJK font (fonts-noto-cjk)");
    let image =
        bidkit_seal::SealTemplate::Round(bidkit_seal::RoundSeal::official("某某建设有限公司"))
            .render(&font, &bidkit_seal::RenderOptions::default())
            .unwrap();
    SealPicture::from_png(&image.png, None).unwrap()
}

fn document(dir: &Path, name: &str, pages: u32, keyword_pages: &[u32]) -> PathBuf {
    let path = dir.join(name);
    let mut spec = DocumentSpec::a4(pages);
    for &page in keyword_pages {
        spec.keywords.push(KeywordLine {
            page,
            x: 330.0,
            y: 200.0,
            font_size: 12.0,
            text: KEYWORD.into(),
        });
    }
    write_document(&spec, &path).unwrap();
    path
}

fn digest(path: &Path) -> [u8; 32] {
    bidkit_crypto::hash::HashAlgorithm::Sha256.digest(&std::fs::read(path).unwrap())
}

fn is_red(px: [u8; 3]) -> bool {
    px[0] > 150 && px[1] < 120 && px[2] < 120
}

fn mm(v: f64) -> f64 {
    v * 72.0 / 25.4
}

/// A signature whose stamps sit on several pages (one field, one widget per stamp) as the
/// oracles can judge it. pyHanko validates it fully. Debian 12's poppler (22.12) reads a pure
/// widget kid that carries the spec-required `/Parent` as a child *field* and so lists each
/// stamp as an unsigned field instead of validating the signature (later poppler releases treat
/// such kids as widgets); pdfsig is asserted to see every stamp and nothing invalid.
fn assert_multi_stamp_signature(out: &Path, s: &Signer, fields: usize) {
    let pdfsig = support::pdfsig(out);
    assert!(!pdfsig.contains("Signature is Invalid"), "{pdfsig}");
    assert!(pdfsig.contains("Bidkit-Seal-"), "{pdfsig}");
    if let Some(v) = support::pyhanko_validate(out, Some(&s.dir.join("ca/root.pem"))) {
        let sigs = v["signatures"].as_array().unwrap();
        assert_eq!(sigs.len(), fields, "{v}");
        for sig in sigs {
            assert_eq!(sig["intact"], true, "{v}");
            assert_eq!(sig["valid"], true, "{v}");
            assert_eq!(
                sig["docmdp_ok"], true,
                "pyHanko saw illegal modifications: {v}"
            );
        }
        assert_eq!(sigs[fields - 1]["coverage"], "ENTIRE_FILE", "{v}");
    }
}

#[test]
fn page_mode_nist_is_valid_for_qpdf_pdfsig_pyhanko_and_renders_in_place() {
    let s = Signer::new(Suite::Nist);
    let input = document(&s.dir, "in.pdf", 3, &[]);
    let before = digest(&input);
    let out = s.dir.join("out.pdf");
    let at = PagePosition {
        x_mm: 100.0,
        y_mm: 150.0,
    };
    let outcome = s
        .seal(
            &input,
            &out,
            Placement::Page {
                page: 2,
                at: Some(at),
            },
        )
        .unwrap();
    assert_eq!(outcome.stamps.len(), 1);
    assert_eq!(digest(&input), before, "the input was modified");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_ne!(
            mode & 0o044,
            0,
            "the sealed copy is readable like any new file: {mode:o}"
        );
    }
    support::qpdf_check(&out).unwrap();
    let pdfsig = support::pdfsig(&out);
    assert!(pdfsig.contains("Signature is Valid"), "{pdfsig}");
    assert!(pdfsig.contains("Total document signed"), "{pdfsig}");
    // The seal's rim is red where it should be (the centre holds the star), page 2 only.
    let (cx, cy) = (mm(100.0), 841.89 - mm(150.0));
    let rim = (cx, cy + mm(20.2));
    assert!(
        is_red(support::pixel_at(&out, 2, rim.0, rim.1)),
        "no red rim on page 2"
    );
    assert!(
        !is_red(support::pixel_at(&out, 1, rim.0, rim.1)),
        "a seal on page 1"
    );
    let report = verify_file(&out, &s.trust()).unwrap();
    assert_eq!(report.exit_code(), 0, "{}", report.to_text());
    if let Some(v) = support::pyhanko_validate(&out, Some(&s.dir.join("ca/root.pem"))) {
        let sigs = v["signatures"].as_array().unwrap();
        assert_eq!(sigs.len(), 1, "{v}");
        assert_eq!(sigs[0]["intact"], true, "{v}");
        assert_eq!(sigs[0]["valid"], true, "{v}");
    }
}

#[test]
fn gm_signature_verifies_with_openssl_over_the_signed_attributes() {
    let s = Signer::new(Suite::Gm);
    let input = document(&s.dir, "in.pdf", 2, &[]);
    let out = s.dir.join("out.pdf");
    s.seal(&input, &out, Placement::Page { page: 1, at: None })
        .unwrap();
    support::qpdf_check(&out).unwrap();
    let file = PdfFile::open(&out, Limits::DEFAULT).unwrap();
    let fields = signature_fields(&file).unwrap();
    assert_eq!(fields.len(), 1);
    let sig = file.object(fields[0].1).unwrap();
    let contents = sig
        .as_dict()
        .unwrap()
        .get(b"Contents")
        .unwrap()
        .as_str()
        .unwrap()
        .to_vec();
    let parsed = bidkit_cms::parse(&contents).unwrap();
    let attrs = s.dir.join("attrs.der");
    let sigfile = s.dir.join("sig.der");
    let cert = s.dir.join("signer.pem");
    std::fs::write(&attrs, &parsed.signed_attributes).unwrap();
    std::fs::write(&sigfile, &parsed.signature).unwrap();
    std::fs::write(&cert, s.chain[0].to_pem()).unwrap();
    let status = std::process::Command::new("openssl")
        .args(["pkeyutl", "-verify", "-certin", "-inkey"])
        .arg(&cert)
        .args([
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
            "-in",
        ])
        .arg(&attrs)
        .arg("-sigfile")
        .arg(&sigfile)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let report = verify_file(&out, &s.trust()).unwrap();
    assert_eq!(report.exit_code(), 0, "{}", report.to_text());
}

#[test]
fn all_pages_store_the_picture_once_and_cover_every_stamp() {
    let s = Signer::new(Suite::Nist);
    let input = document(&s.dir, "in.pdf", 5, &[]);
    let out = s.dir.join("out.pdf");
    let outcome = s
        .seal(&input, &out, Placement::AllPages { at: None })
        .unwrap();
    assert_eq!(outcome.stamps.len(), 5);
    support::qpdf_check(&out).unwrap();
    let file = PdfFile::open(&out, Limits::DEFAULT).unwrap();
    let newest = file.revisions().last().unwrap();
    let images = newest
        .entries
        .keys()
        .filter_map(|id| file.object((*id, 0)).ok())
        .filter(|o| {
            o.as_stream()
                .ok()
                .and_then(|st| st.dict.get(b"Subtype").ok())
                .and_then(|n| n.as_name().ok())
                == Some(b"Image".as_slice())
        })
        .count();
    assert_eq!(images, 2, "one image and its soft mask, however many pages");
    let report = verify_file(&out, &s.trust()).unwrap();
    assert_eq!(report.exit_code(), 0, "{}", report.to_text());
    assert_eq!(report.signatures[0].stamps.len(), 5);
    for page in 1..=5 {
        let (cx, cy) = (595.276 - mm(40.0), mm(50.0));
        assert!(
            is_red(support::pixel_at(&out, page, cx, cy + mm(20.2))),
            "page {page}"
        );
    }
    assert_multi_stamp_signature(&out, &s, 1);
}

#[test]
fn range_mode_stamps_only_the_range() {
    let s = Signer::new(Suite::Gm);
    let input = document(&s.dir, "in.pdf", 6, &[]);
    let out = s.dir.join("out.pdf");
    let outcome = s
        .seal(
            &input,
            &out,
            Placement::Range {
                first: 2,
                last: 4,
                at: None,
            },
        )
        .unwrap();
    let pages: Vec<usize> = outcome.stamps.iter().map(|st| st.page_index + 1).collect();
    assert_eq!(pages, vec![2, 3, 4]);
    support::qpdf_check(&out).unwrap();
    let (cx, cy) = (595.276 - mm(40.0), mm(50.0) + mm(20.2));
    assert!(!is_red(support::pixel_at(&out, 1, cx, cy)));
    assert!(is_red(support::pixel_at(&out, 3, cx, cy)));
    assert!(!is_red(support::pixel_at(&out, 5, cx, cy)));
    assert_eq!(verify_file(&out, &s.trust()).unwrap().exit_code(), 0);
}

#[test]
fn seam_seal_slices_sit_on_the_right_edge() {
    let s = Signer::new(Suite::Nist);
    let input = document(&s.dir, "in.pdf", 4, &[]);
    let out = s.dir.join("out.pdf");
    let outcome = s
        .seal(
            &input,
            &out,
            Placement::Seam {
                pages: None,
                parity: Parity::All,
                max_slices: 12,
                y_mm: None,
            },
        )
        .unwrap();
    assert_eq!(outcome.stamps.len(), 4);
    support::qpdf_check(&out).unwrap();
    // Each page shows a quarter of the seal (10.5 mm wide) at its right edge, centred
    // vertically; the rim crosses the top of every slice's strip on the middle pages.
    for (i, st) in outcome.stamps.iter().enumerate() {
        assert!(
            (st.rect.x1 - 595.276).abs() < 0.01,
            "slice {i} not on the edge"
        );
        assert!((st.width_mm - 10.5).abs() < 0.01);
    }
    let top_of_rim = 841.89 / 2.0 + mm(20.2);
    assert!(
        is_red(support::pixel_at(&out, 2, 595.276 - 2.0, top_of_rim)),
        "page 2 slice"
    );
    assert!(
        !is_red(support::pixel_at(&out, 2, 595.276 - mm(15.0), top_of_rim)),
        "slice too wide"
    );
    let report = verify_file(&out, &s.trust()).unwrap();
    assert_eq!(report.exit_code(), 0, "{}", report.to_text());
    assert_multi_stamp_signature(&out, &s, 1);
}

#[test]
fn keyword_mode_centres_the_seal_on_each_occurrence() {
    let s = Signer::new(Suite::Gm);
    let input = document(&s.dir, "in.pdf", 4, &[2, 4]);
    let out = s.dir.join("out.pdf");
    let kw = |occurrence| Placement::Keyword {
        keyword: KEYWORD.into(),
        occurrence,
        offset_mm: (0.0, 0.0),
    };
    let outcome = s.seal(&input, &out, kw(Occurrence::All)).unwrap();
    let pages: Vec<usize> = outcome.stamps.iter().map(|st| st.page_index + 1).collect();
    assert_eq!(pages, vec![2, 4]);
    // The keyword line was drawn at x 330 (12 pt, 7 full-width characters), baseline 200.
    let (kx, ky) = (330.0 + 42.0, 200.0 + 12.0 * (0.88 - 0.12) / 2.0);
    let (cx, cy) = outcome.stamps[0].rect.centre();
    assert!(
        (cx - kx).abs() < 3.0 && (cy - ky).abs() < 3.0,
        "centre {cx},{cy} vs {kx},{ky}"
    );
    support::qpdf_check(&out).unwrap();
    assert!(is_red(support::pixel_at(&out, 4, cx, cy + mm(20.2))));
    let last = s.dir.join("last.pdf");
    let outcome = s.seal(&input, &last, kw(Occurrence::Last)).unwrap();
    assert_eq!(outcome.stamps.len(), 1);
    assert_eq!(outcome.stamps[0].page_index, 3);
    let missing = s.seal(
        &input,
        &s.dir.join("none.pdf"),
        Placement::Keyword {
            keyword: "不存在的词".into(),
            occurrence: Occurrence::All,
            offset_mm: (0.0, 0.0),
        },
    );
    assert!(matches!(
        missing.unwrap_err().root(),
        PdfError::KeywordNotFound { .. }
    ));
    assert!(!s.dir.join("none.pdf").exists());
}

#[test]
fn three_successive_operations_keep_every_signature_valid_then_revoke_removes_the_last() {
    let s = Signer::new(Suite::Nist);
    let input = document(&s.dir, "in.pdf", 4, &[4]);
    let one = s.dir.join("one.pdf");
    let two = s.dir.join("two.pdf");
    let three = s.dir.join("three.pdf");
    s.seal(&input, &one, Placement::Page { page: 1, at: None })
        .unwrap();
    s.seal(
        &one,
        &two,
        Placement::Seam {
            pages: None,
            parity: Parity::All,
            max_slices: 12,
            y_mm: None,
        },
    )
    .unwrap();
    s.seal(
        &two,
        &three,
        Placement::Keyword {
            keyword: KEYWORD.into(),
            occurrence: Occurrence::First,
            offset_mm: (0.0, 0.0),
        },
    )
    .unwrap();
    support::qpdf_check(&three).unwrap();
    let report = verify_file(&three, &s.trust()).unwrap();
    assert_eq!(report.signatures.len(), 3);
    assert_eq!(report.exit_code(), 0, "{}", report.to_text());
    // The first and the last operation place one stamp each: poppler validates them, and the
    // last covers the whole file. The seam in between is judged by pyHanko below.
    let pdfsig = support::pdfsig(&three);
    assert_eq!(pdfsig.matches("Signature is Valid").count(), 2, "{pdfsig}");
    assert_eq!(
        pdfsig.matches("Total document signed").count(),
        1,
        "{pdfsig}"
    );
    assert!(!pdfsig.contains("Signature is Invalid"), "{pdfsig}");
    if let Some(v) = support::pyhanko_validate(&three, Some(&s.dir.join("ca/root.pem"))) {
        let sigs = v["signatures"].as_array().unwrap();
        assert_eq!(sigs.len(), 3, "{v}");
        for sig in sigs {
            assert_eq!(sig["intact"], true, "{v}");
            assert_eq!(sig["valid"], true, "{v}");
            assert_eq!(
                sig["docmdp_ok"], true,
                "pyHanko saw illegal modifications: {v}"
            );
        }
    }
    // Revoke: back to the exact bytes of the second document.
    let revoked = s.dir.join("revoked.pdf");
    let outcome = revoke_last(&three, &revoked, None, Limits::DEFAULT).unwrap();
    assert_eq!(outcome.removed.signatures, 3);
    assert_eq!(
        std::fs::read(&revoked).unwrap(),
        std::fs::read(&two).unwrap()
    );
    assert_eq!(verify_file(&revoked, &s.trust()).unwrap().exit_code(), 0);
    // The first seal is covered by the later ones: refused, nothing written.
    let refused = revoke_last(
        &three,
        &s.dir.join("bad.pdf"),
        Some("Bidkit-Seal-1"),
        Limits::DEFAULT,
    );
    assert!(matches!(
        refused.unwrap_err().root(),
        PdfError::NotAllowed(_)
    ));
    assert!(!s.dir.join("bad.pdf").exists());
    // An unsealed document has nothing to revoke.
    assert!(revoke_last(&input, &s.dir.join("x.pdf"), None, Limits::DEFAULT).is_err());
}

#[test]
fn bad_requests_are_clear_errors_and_write_nothing() {
    let s = Signer::new(Suite::Gm);
    let input = document(&s.dir, "in.pdf", 2, &[]);
    let out = s.dir.join("out.pdf");
    let e = s
        .seal(&input, &out, Placement::Page { page: 5, at: None })
        .unwrap_err();
    assert!(
        matches!(e.root(), PdfError::PageOutOfRange { page: 5, pages: 2 }),
        "{e}"
    );
    assert!(
        e.to_string().contains("in.pdf"),
        "the error names the file: {e}"
    );
    let e = s
        .seal(
            &input,
            &out,
            Placement::Page {
                page: 1,
                at: Some(PagePosition {
                    x_mm: 500.0,
                    y_mm: 10.0,
                }),
            },
        )
        .unwrap_err();
    assert!(matches!(e.root(), PdfError::InvalidOption { .. }), "{e}");
    let e = s
        .seal(&input, &input, Placement::Page { page: 1, at: None })
        .unwrap_err();
    assert!(matches!(e.root(), PdfError::InvalidOption { .. }), "{e}");
    let junk = s.dir.join("junk.pdf");
    std::fs::write(&junk, b"%PDF-1.7\nthis is not a pdf").unwrap();
    assert!(
        s.seal(&junk, &out, Placement::Page { page: 1, at: None })
            .is_err()
    );
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&s.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}
