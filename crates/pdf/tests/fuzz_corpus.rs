//! The fuzz entry point ([`bidkit_pdf::fuzz::open_and_verify`]) over the seed corpus of
//! `fuzz/corpus/pdf_open_verify` and thousands of deterministic mutations of it: byte
//! flips, truncations, inserted junk, deleted and duplicated ranges, and shifted numbers
//! (`startxref`, cross-reference offsets, `/Prev`, `/Length`, `/Size`). No case may
//! panic or take long; the unmodified seeds must open, walk and verify.
//!
//! The seeds are made by `regenerate_seeds` (ignored; run it with `--ignored` to rewrite
//! them): a minimal classic document, an incremental update of it, an object-stream /
//! cross-reference-stream document with a PNG predictor, a GM-signed copy of that, a
//! NIST-signed document modified after signing, and a generated two-page document.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bidkit_pdf::fuzz::{exercise, open_and_verify};
use bidkit_pdf::verify::{DocumentVerdict, SignatureVerdict};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/pdf_open_verify")
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn seeds_open_walk_and_verify() {
    let seeds = seeds();
    assert!(seeds.len() >= 5, "too few seeds: {}", seeds.len());
    for (name, data) in &seeds {
        open_and_verify(data);
        let ex = exercise(data).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(ex.revisions >= 1, "{name}");
        assert!(ex.pages.is_some_and(|p| p >= 1), "{name}: {:?}", ex.pages);
        assert!(ex.objects >= 3, "{name}: {} objects", ex.objects);
        assert!(ex.streams >= 1, "{name}: {} streams", ex.streams);
        assert_eq!(ex.report.revisions.len(), ex.revisions, "{name}");
        match name.as_str() {
            "incremental.pdf" | "signed_updated.pdf" => assert!(ex.revisions >= 2, "{name}"),
            _ => {}
        }
        if name.starts_with("signed") {
            assert_eq!(ex.report.signatures.len(), 1, "{name}");
        } else {
            assert!(ex.report.signatures.is_empty(), "{name}");
            assert_eq!(ex.report.verdict, DocumentVerdict::NoSignatures, "{name}");
        }
        if name == "signed.pdf" {
            assert_eq!(ex.report.verdict, DocumentVerdict::Valid, "{name}");
        }
        if name == "signed_updated.pdf" {
            assert!(
                matches!(
                    ex.report.signatures[0].verdict,
                    SignatureVerdict::ModifiedAfter { .. }
                ),
                "{name}: {:?}",
                ex.report.signatures[0].verdict
            );
        }
    }
}

/// splitmix64: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// PDF fragments that steer the parser into its less travelled paths.
const JUNK: &[&[u8]] = &[
    b"<<",
    b">>",
    b"[",
    b"]",
    b"(",
    b")",
    b"\\",
    b"0 0 R",
    b"1 0 R",
    b"99999 0 R",
    b" obj ",
    b"endobj",
    b"stream\r\n",
    b"endstream",
    b"xref\n0 1\n",
    b"trailer",
    b"startxref\n0\n%%EOF\n",
    b"%%EOF",
    b"/Length 999999999",
    b"/Filter/FlateDecode",
    b"/Filter[/ASCIIHexDecode/FlateDecode]",
    b"/DecodeParms<</Predictor 15/Columns 0>>",
    b"/Prev 0",
    b"/Type/ObjStm/N 99/First 0",
    b"-2147483649",
    b"1e308",
    b"<FEFF",
    b"%",
    b"\0",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    b"<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
];

/// Spans of the decimal numbers following each `key` (after whitespace).
fn numbers_after(data: &[u8], key: &[u8]) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = data
        .get(from..)
        .and_then(|d| d.windows(key.len()).position(|w| w == key))
    {
        let mut s = from + i + key.len();
        while s < data.len() && data[s].is_ascii_whitespace() {
            s += 1;
        }
        let mut e = s;
        while e < data.len() && data[e].is_ascii_digit() && e - s < 19 {
            e += 1;
        }
        if e > s {
            let v = std::str::from_utf8(&data[s..e]).unwrap().parse().unwrap();
            out.push((s, e, v));
        }
        from += i + key.len();
    }
    out
}

/// Spans of classic cross-reference entries' 10-digit offsets.
fn xref_entry_offsets(data: &[u8]) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    for (i, w) in data.windows(18).enumerate() {
        if w[..10].iter().all(u8::is_ascii_digit) && &w[10..18] == b" 00000 n" {
            let v = std::str::from_utf8(&w[..10]).unwrap().parse().unwrap();
            out.push((i, i + 10, v));
        }
    }
    out
}

fn replace(data: &[u8], start: usize, end: usize, with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + with.len());
    out.extend_from_slice(&data[..start]);
    out.extend_from_slice(with);
    out.extend_from_slice(&data[end..]);
    out
}

/// Deterministic mutations of `seed`, with a label each.
fn mutations(seed: &[u8], rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let n = seed.len();
    // Larger seeds (the signed ones: each case hashes and checks a signature) get fewer
    // random mutations.
    let k = if n > 4096 { 2 } else { 1 };
    // Truncations: every offset near the end (where the xref and trailer are), then
    // spread over the whole file.
    for cut in n.saturating_sub(120)..n {
        out.push((format!("truncate {cut}"), seed[..cut].to_vec()));
    }
    for k in 0..60 {
        let cut = n * k / 60;
        out.push((format!("truncate {cut}"), seed[..cut].to_vec()));
    }
    // Byte flips: single bits, whole bytes, and a burst.
    for _ in 0..240 / k {
        let mut m = seed.to_vec();
        let at = rng.below(n);
        let how = rng.below(3);
        match how {
            0 => m[at] ^= 1 << rng.below(8),
            1 => m[at] = rng.next() as u8,
            _ => {
                for b in m.iter_mut().skip(at).take(1 + rng.below(16)) {
                    *b = rng.next() as u8;
                }
            }
        }
        out.push((format!("flip {how} at {at}"), m));
    }
    // Inserted junk and deleted or duplicated ranges.
    for _ in 0..160 / k {
        let at = rng.below(n + 1);
        let junk = JUNK[rng.below(JUNK.len())];
        out.push((
            format!("insert {:?} at {at}", String::from_utf8_lossy(junk)),
            replace(seed, at, at, junk),
        ));
    }
    for _ in 0..40 / k {
        let at = rng.below(n);
        let len = 1 + rng.below(64.min(n - at));
        out.push((
            format!("delete {at}+{len}"),
            replace(seed, at, at + len, b""),
        ));
        let dup = seed[at..at + len].to_vec();
        out.push((format!("duplicate {at}+{len}"), replace(seed, at, at, &dup)));
    }
    // Shifted numbers: startxref, cross-reference entries, /Prev, /Length, /Size, /N.
    let mut spans = Vec::new();
    for key in [
        &b"startxref"[..],
        b"/Prev",
        b"/Length",
        b"/Size",
        b"/N",
        b"/First",
        b"/Count",
    ] {
        spans.extend(numbers_after(seed, key));
    }
    spans.extend(xref_entry_offsets(seed));
    for (s, e, v) in spans {
        for delta in [-100i64, -9, -1, 1, 9, 100, 1 << 40] {
            let shifted = (v as i64).saturating_add(delta).max(0);
            let text = if e - s == 10 {
                format!("{shifted:010}")
            } else {
                shifted.to_string()
            };
            out.push((
                format!("number {v} at {s} {delta:+}"),
                replace(seed, s, e, text.as_bytes()),
            ));
        }
        out.push((format!("number {v} at {s} negative"), {
            replace(seed, s, s, b"-")
        }));
    }
    out
}

#[test]
fn mutations_never_panic() {
    let t0 = Instant::now();
    let mut rng = Rng(0x5eed_b1d7_0000_0004);
    let mut cases = 0usize;
    let mut opened = 0usize;
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for (name, seed) in seeds() {
        let t_seed = Instant::now();
        let before = cases;
        for (label, data) in mutations(&seed, &mut rng) {
            cases += 1;
            let t = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| exercise(&data).is_ok()));
            let took = t.elapsed();
            if took > slowest.0 {
                slowest = (took, format!("{name}: {label}"));
            }
            match result {
                Ok(true) => opened += 1,
                Ok(false) => {}
                Err(_) => failures.push(format!("{name}: {label}")),
            }
        }
        eprintln!(
            "{name}: {} cases in {:.2?}",
            cases - before,
            t_seed.elapsed()
        );
    }
    eprintln!(
        "{cases} cases ({opened} opened) in {:.2?}; slowest {:.2?} ({})",
        t0.elapsed(),
        slowest.0,
        slowest.1
    );
    assert!(failures.is_empty(), "panicked on: {failures:#?}");
    assert!(cases >= 3_000, "{cases} cases");
    // The mutations are not all rejected outright (they reach the walker and verifier).
    assert!(opened * 4 >= cases, "{opened} of {cases} opened");
}

// ---- the seeds ----

mod make {
    use super::*;
    use bidkit_crypto::{PrivateKey, Suite};
    use bidkit_pdf::generate::{DocumentSpec, write_document};
    use bidkit_pdf::{IncrementalUpdate, Limits, PdfFile};
    use bidkit_pki::{CertificateAuthority, KeyPurpose, Subject};
    use lopdf::{Dictionary, Object, Stream, dictionary};
    use time::macros::datetime;

    /// A classic document: objects, an `xref` table, a trailer.
    pub fn classic() -> Vec<u8> {
        let content = b"BT /F1 24 Tf 72 700 Td (Hello) Tj ET";
        let objs = [
            "<</Type/Catalog/Pages 2 0 R>>".to_string(),
            "<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 595 842]>>".to_string(),
            "<</Type/Page/Parent 2 0 R/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>"
                .to_string(),
            format!(
                "<</Length {}>>\nstream\n{}\nendstream",
                content.len(),
                std::str::from_utf8(content).unwrap()
            ),
            "<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>".to_string(),
        ];
        let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f\r\n", objs.len() + 1).as_bytes(),
        );
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<</Size {}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n",
                objs.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// PDF 1.5: catalog, pages and page in a compressed object stream; a
    /// cross-reference stream with `/W [1 2 1]`, deflated with PNG "Up" prediction.
    pub fn object_streams() -> Vec<u8> {
        let content = deflate(b"BT /F1 24 Tf 72 700 Td (Object streams) Tj ET");
        let inner = [
            (1u32, "<</Type/Catalog/Pages 2 0 R>>"),
            (
                2,
                "<</Type/Pages/Kids[3 0 R]/Count 1/MediaBox[0 0 595 842]>>",
            ),
            (
                3,
                "<</Type/Page/Parent 2 0 R/Contents 4 0 R/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Courier>>>>>>>>",
            ),
        ];
        let mut header = String::new();
        let mut body = String::new();
        for (n, o) in inner {
            header.push_str(&format!("{n} {} ", body.len()));
            body.push_str(o);
            body.push('\n');
        }
        let objstm = deflate(format!("{header}{body}").as_bytes());

        let mut out = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let content_at = out.len();
        out.extend_from_slice(
            format!(
                "4 0 obj\n<</Length {}/Filter/FlateDecode>>\nstream\n",
                content.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&content);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        let objstm_at = out.len();
        out.extend_from_slice(
            format!(
                "5 0 obj\n<</Type/ObjStm/N 3/First {}/Length {}/Filter/FlateDecode>>\nstream\n",
                header.len(),
                objstm.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&objstm);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        let xref_at = out.len();
        // Rows: type, field 2 (2 bytes), field 3 (1 byte).
        let row = |t: u8, f2: usize, f3: u8| -> [u8; 4] {
            let f2 = u16::try_from(f2).unwrap().to_be_bytes();
            [t, f2[0], f2[1], f3]
        };
        let rows = [
            row(0, 0, 255),
            row(2, 5, 0),
            row(2, 5, 1),
            row(2, 5, 2),
            row(1, content_at, 0),
            row(1, objstm_at, 0),
            row(1, xref_at, 0),
        ];
        let mut predicted = Vec::new();
        let mut prev = [0u8; 4];
        for r in rows {
            predicted.push(2); // PNG Up
            for (b, p) in r.iter().zip(prev) {
                predicted.push(b.wrapping_sub(p));
            }
            prev = r;
        }
        let xref = deflate(&predicted);
        out.extend_from_slice(
            format!(
                "6 0 obj\n<</Type/XRef/Size 7/W[1 2 1]/Root 1 0 R/Length {}/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 4>>>>\nstream\n",
                xref.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&xref);
        out.extend_from_slice(
            format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
        );
        out
    }

    /// An incremental update of `input` into `output`: a new content stream for the first
    /// page and an `/Info` dictionary.
    pub fn update(input: &Path, output: &Path) {
        let file = PdfFile::open(input, Limits::DEFAULT).unwrap();
        let page = file.pages().unwrap().remove(0);
        let mut up = IncrementalUpdate::new(&file);
        let content = up.allocate();
        up.put(
            content,
            Object::Stream(Stream::new(
                Dictionary::new(),
                b"BT /F1 12 Tf 72 100 Td (Added later) Tj ET".to_vec(),
            )),
        );
        let mut page_dict = page.dict.clone();
        let old = page_dict.get(b"Contents").unwrap().clone();
        page_dict.set("Contents", vec![old, Object::Reference(content)]);
        up.put(page.id, Object::Dictionary(page_dict));
        let prepared = up
            .write(output, bidkit_crypto::hash::HashAlgorithm::Sm3)
            .unwrap();
        prepared.commit().unwrap();
    }

    /// Sign `input` into `output` (one invisible-size widget on the first page).
    pub fn sign(input: &Path, output: &Path, home: &Path, suite: Suite) {
        let t0 = datetime!(2026-03-01 08:00:00 UTC);
        let mut ca =
            CertificateAuthority::open_or_create(&home.join(suite.as_str()), suite, t0).unwrap();
        let key = PrivateKey::for_tests(suite, "fuzz-seed-signer");
        let subject = Subject::Organisation {
            name: "北京某某建设有限公司".into(),
            uscc: "91110000600037341L".into(),
        };
        let cert = ca
            .issue(&subject, KeyPurpose::Signing, &key.public_key(), t0)
            .unwrap();

        let file = PdfFile::open(input, Limits::DEFAULT).unwrap();
        let page = file.pages().unwrap().remove(0);
        let (root_id, catalog) = file.catalog().unwrap();
        let mut up = IncrementalUpdate::new(&file);
        let field_id = up.allocate();
        let sig_id = up.allocate();
        let ap_id = up.allocate();
        up.put(
            ap_id,
            Object::Stream(Stream::new(
                dictionary! {
                    "Type" => "XObject", "Subtype" => "Form",
                    "BBox" => vec![0.into(), 0.into(), 100.into(), 100.into()],
                },
                b"1 0 0 rg 0 0 100 100 re f".to_vec(),
            )),
        );
        up.put(
            field_id,
            Object::Dictionary(dictionary! {
                "FT" => "Sig", "T" => Object::string_literal("seal1"), "V" => sig_id,
                "Type" => "Annot", "Subtype" => "Widget", "F" => 4, "P" => page.id,
                "Rect" => vec![100.into(), 100.into(), 200.into(), 200.into()],
                "AP" => dictionary! { "N" => ap_id },
            }),
        );
        let mut page_dict = page.dict.clone();
        page_dict.set("Annots", vec![Object::Reference(field_id)]);
        up.put(page.id, Object::Dictionary(page_dict));
        let mut catalog = catalog.clone();
        catalog.set(
            "AcroForm",
            dictionary! { "Fields" => vec![Object::Reference(field_id)], "SigFlags" => 3 },
        );
        up.put(root_id, Object::Dictionary(catalog));
        let sig = dictionary! {
            "Type" => "Sig", "Filter" => "Adobe.PPKLite", "SubFilter" => "adbe.pkcs7.detached",
            "M" => Object::string_literal("D:20260311080000Z"),
        };
        up.put_signature(sig_id, sig, 3072);
        let prepared = up.write(output, suite.hash()).unwrap();
        let t = t0 + time::Duration::days(10);
        let attrs = bidkit_cms::SignedAttributes::new(suite, prepared.digest(), &cert, t).unwrap();
        let signature = key.sign(attrs.to_be_signed()).unwrap();
        let der = bidkit_cms::assemble(&attrs, &signature, &[cert], None).unwrap();
        prepared.embed(&der).unwrap();
    }

    pub fn generated(output: &Path) {
        let mut spec = DocumentSpec::a4(2);
        spec.body_lines_per_page = 2;
        spec.rotations = vec![(2, 90)];
        write_document(&spec, output).unwrap();
    }
}

/// Rewrite the seed corpus (`cargo test -p bidkit-pdf --test fuzz_corpus -- --ignored`).
#[test]
#[ignore = "rewrites fuzz/corpus/pdf_open_verify"]
fn regenerate_seeds() {
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.join(name);

    std::fs::write(at("minimal.pdf"), make::classic()).unwrap();
    make::update(&at("minimal.pdf"), &at("incremental.pdf"));
    std::fs::write(at("objstm.pdf"), make::object_streams()).unwrap();
    make::sign(
        &at("objstm.pdf"),
        &at("signed.pdf"),
        tmp.path(),
        bidkit_crypto::Suite::Gm,
    );
    let signed_nist = tmp.path().join("signed_nist.pdf");
    make::sign(
        &at("minimal.pdf"),
        &signed_nist,
        tmp.path(),
        bidkit_crypto::Suite::Nist,
    );
    make::update(&signed_nist, &at("signed_updated.pdf"));
    make::generated(&at("generated.pdf"));
}
