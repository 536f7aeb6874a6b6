#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hostile input gives typed errors, never a panic or a hang.

use bidkit_pdf::{Limits, PdfError, PdfFile};

/// A one-page PDF with `extra` objects (numbered from 4) and `trailer_extra` in the trailer.
fn pdf(extra: &[&str], trailer_extra: &str) -> Vec<u8> {
    let mut objs = vec![
        "<</Type/Catalog/Pages 2 0 R>>".to_string(),
        "<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 595 842]>>".to_string(),
        "<</Type/Page/Parent 2 0 R>>".to_string(),
    ];
    objs.extend(extra.iter().map(|s| s.to_string()));
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {}/Root 1 0 R{trailer_extra}>>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn open(bytes: Vec<u8>) -> Result<PdfFile, PdfError> {
    PdfFile::from_bytes(bytes, Limits::DEFAULT)
}

#[test]
fn valid_baseline_opens() {
    let f = open(pdf(&[], "")).unwrap();
    assert_eq!(f.pages().unwrap().len(), 1);
}

#[test]
fn not_a_pdf_truncated_and_bad_startxref() {
    assert_eq!(
        open(b"hello world".to_vec()).unwrap_err().code(),
        "pdf_malformed"
    );
    let good = pdf(&[], "");
    for cut in (0..good.len()).step_by(7) {
        // Must not panic; most truncations are errors.
        let _ = open(good[..cut].to_vec()).and_then(|f| f.pages());
    }
    let mut no_sx = good.clone();
    let at = no_sx.windows(9).rposition(|w| w == b"startxref").unwrap();
    no_sx.truncate(at);
    assert_eq!(open(no_sx).unwrap_err().code(), "pdf_malformed");
    let past = String::from_utf8(good.clone()).unwrap();
    let i = past.rfind("startxref\n").unwrap();
    let past = format!("{}startxref\n999999\n%%EOF\n", &past[..i]);
    assert_eq!(open(past.into_bytes()).unwrap_err().code(), "pdf_malformed");
}

#[test]
fn encrypted_is_refused() {
    let e = open(pdf(&["<</Filter/Standard>>"], "/Encrypt 4 0 R")).unwrap_err();
    assert!(matches!(e.root(), PdfError::Encrypted));
}

#[test]
fn reference_loop_and_deep_nesting() {
    let f = open(pdf(&["5 0 R", "4 0 R"], "")).unwrap();
    let e = f.resolve(&lopdf::Object::Reference((4, 0))).unwrap_err();
    assert!(matches!(e.root(), PdfError::LimitExceeded { .. }));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let f = open(pdf(&[&deep], "")).unwrap();
    let e = f.object((4, 0)).unwrap_err();
    assert!(matches!(e.root(), PdfError::LimitExceeded { .. }), "{e}");
}

#[test]
fn page_tree_loop() {
    let mut bytes = pdf(&[], "");
    let s = String::from_utf8(bytes.clone()).unwrap();
    // The page becomes a Pages node whose kid is its ancestor (same length edit).
    let s = s.replace("<</Type/Page/Parent 2 0 R>>", "<</Kids[2 0 R]/Type/Pages>>");
    assert_eq!(s.len(), bytes.len());
    bytes = s.into_bytes();
    let f = open(bytes).unwrap();
    assert_eq!(f.pages().unwrap_err().code(), "pdf_malformed");
}

#[test]
fn deflate_bomb_is_capped() {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![b'A'; 1 << 20]).unwrap();
    let data = enc.finish().unwrap();
    let mut body = format!("<</Length {}/Filter/FlateDecode>>\nstream\n", data.len()).into_bytes();
    body.extend_from_slice(&data);
    body.extend_from_slice(b"\nendstream");
    // Built by hand because the body is binary.
    let mut out = b"%PDF-1.7\n".to_vec();
    let o1 = out.len();
    out.extend_from_slice(b"1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n");
    let o2 = out.len();
    out.extend_from_slice(b"2 0 obj\n");
    out.extend_from_slice(&body);
    out.extend_from_slice(b"\nendobj\n");
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 3\n0000000000 65535 f\r\n{o1:010} 00000 n\r\n{o2:010} 00000 n\r\ntrailer\n<</Size 3/Root 1 0 R>>\nstartxref\n{x}\n%%EOF\n").as_bytes());
    let limits = Limits {
        max_stream_decoded: 64 * 1024,
        ..Limits::DEFAULT
    };
    let f = PdfFile::from_bytes(out, limits).unwrap();
    let lopdf::Object::Stream(s) = f.object((2, 0)).unwrap() else {
        panic!()
    };
    let e = f.stream_data(&s).unwrap_err();
    assert!(matches!(e.root(), PdfError::LimitExceeded { .. }));
}

#[test]
fn absurd_xref_stream_widths() {
    let mut out = b"%PDF-1.7\n".to_vec();
    let x = out.len();
    out.extend_from_slice(
        b"1 0 obj\n<</Type/XRef/Size 1/W[255 255 255]/Length 0>>\nstream\n\nendstream\nendobj\n",
    );
    out.extend_from_slice(format!("startxref\n{x}\n%%EOF\n").as_bytes());
    assert_eq!(open(out).unwrap_err().code(), "pdf_malformed");
}

#[test]
fn prev_loop() {
    let s = String::from_utf8(pdf(&[], "")).unwrap();
    let x: usize = s[s.rfind("startxref\n").unwrap() + 10..]
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let s = s.replace("/Root 1 0 R>>", &format!("/Root 1 0 R/Prev {x}>>"));
    assert_eq!(open(s.into_bytes()).unwrap_err().code(), "pdf_malformed");
}
