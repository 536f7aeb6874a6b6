#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The synthetic-document generator: valid for qpdf, Chinese text extractable by poppler,
//! large files streamed; and the pyHanko oracle scripts run on its output.

mod support;

use bidkit_pdf::generate::{DocumentSpec, a4_document_with_keywords, write_document};
use support::Oracle;

#[test]
fn passes_qpdf_and_poppler_extracts_the_chinese_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.pdf");
    let doc = a4_document_with_keywords(&path, 4, &[2, 4, 4], "投标人（盖章）").unwrap();
    assert_eq!(doc.keywords.len(), 3);
    assert_eq!(doc.file_size, std::fs::metadata(&path).unwrap().len());
    support::qpdf_check(&path).unwrap();
    if let Some(text) = support::pdftotext(&path) {
        assert_eq!(text.matches("投标人（盖章）").count(), 3, "{text}");
        assert!(text.contains("第 3 页"), "{text}");
    }
}

#[test]
fn bad_specs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.pdf");
    assert!(write_document(&DocumentSpec::a4(0), &path).is_err());
    assert!(a4_document_with_keywords(&path, 2, &[3], "x").is_err());
    assert!(!path.exists());
}

#[test]
fn fifty_megabytes_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.pdf");
    let spec = DocumentSpec::a4(20).with_target_size(50_000_000);
    let t = std::time::Instant::now();
    let doc = write_document(&spec, &path).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(doc.file_size, size);
    assert!((49_000_000..51_000_000).contains(&size), "{size}");
    eprintln!("50 MB written in {:?}", t.elapsed());
    support::qpdf_check(&path).unwrap();
}

#[test]
fn pyhanko_oracles_work_on_unsigned_and_pyhanko_signed_files() {
    if support::skip_without(&[Oracle::PyHanko, Oracle::Openssl]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    a4_document_with_keywords(&input, 3, &[2], "投标人（盖章）").unwrap();
    let v = support::pyhanko_validate(&input, None).unwrap();
    assert_eq!(v["signatures"].as_array().unwrap().len(), 0, "{v}");

    let (key, cert) = support::openssl_p256_self_signed(dir.path(), "Bidkit test").unwrap();
    let image = dir.path().join("stamp.png");
    std::fs::write(&image, support::red_ring_png(200)).unwrap();
    let out = dir.path().join("signed.pdf");
    let signed = support::pyhanko_sign(
        &input,
        &out,
        &key,
        &cert,
        &image,
        2,
        [330.0, 150.0, 450.0, 270.0],
        "Sig1",
    )
    .unwrap();
    assert!(signed.seconds > 0.0);
    support::qpdf_check(&out).unwrap();
    let v = support::pyhanko_validate(&out, Some(&cert)).unwrap();
    let sigs = v["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 1, "{v}");
    assert_eq!(sigs[0]["intact"], true, "{v}");
    assert_eq!(sigs[0]["valid"], true, "{v}");
    assert_eq!(sigs[0]["trusted"], true, "{v}");
    assert_eq!(sigs[0]["coverage"], "ENTIRE_FILE", "{v}");
    assert_eq!(sigs[0]["bottom_line"], true, "{v}");
    if support::available(Oracle::Pdfsig) {
        let s = support::pdfsig(&out);
        assert!(s.contains("Signature is Valid"), "{s}");
        assert!(s.contains("Total document signed"), "{s}");
    }
    if support::available(Oracle::Pdftoppm) {
        // The ring (centred in the box, pyHanko leaves margins) is red on its right side.
        let px = support::pixel_at(&out, 2, 440.5, 210.0);
        assert!(px[0] > 150 && px[1] < 120, "{px:?}");
    }
}
