#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The incremental-update writer: qpdf accepts the output, the original is a prefix and
//! untouched, the signature hole and digest are consistent.

use std::path::{Path, PathBuf};
use std::process::Command;

use bidkit_crypto::hash::HashAlgorithm;
use bidkit_pdf::{IncrementalUpdate, Limits, PdfFile};
use lopdf::{Dictionary, Document, Object, Stream};

fn make_pdf(path: &Path, pages: usize) {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for i in 0..pages {
        let content = doc.add_object(Stream::new(
            Dictionary::new(),
            format!("BT /F1 12 Tf 72 720 Td (page {i}) Tj ET").into_bytes(),
        ));
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference(pages_id));
        page.set("Contents", Object::Reference(content));
        if i == 1 {
            page.set(
                "MediaBox",
                Object::Array(vec![0.into(), 0.into(), 300.5.into(), 400.into()]),
            );
        }
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let mut pages_dict = Dictionary::new();
    pages_dict.set("Type", Object::Name(b"Pages".to_vec()));
    pages_dict.set("Count", pages as i64);
    pages_dict.set("Kids", Object::Array(kids));
    pages_dict.set(
        "MediaBox",
        Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()]),
    );
    doc.objects.insert(pages_id, Object::Dictionary(pages_dict));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let root = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(root));
    doc.save(path).unwrap();
}

fn qpdf(args: &[&str]) -> std::process::Output {
    Command::new("qpdf").args(args).output().unwrap()
}

fn qpdf_check(path: &Path) {
    let out = qpdf(&["--check", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "qpdf --check failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn originals(dir: &Path) -> Vec<PathBuf> {
    let classic = dir.join("classic.pdf");
    make_pdf(&classic, 3);
    let streams = dir.join("streams.pdf");
    let out = qpdf(&[
        "--object-streams=generate",
        "--compress-streams=y",
        classic.to_str().unwrap(),
        streams.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    vec![classic, streams]
}

fn update_catalog(file: &PdfFile, out: &Path) -> (lopdf::ObjectId, u64) {
    let mut update = IncrementalUpdate::new(file);
    let extra = update.allocate();
    update.put(
        extra,
        Object::String(b"hello".to_vec(), lopdf::StringFormat::Literal),
    );
    let (root_id, mut catalog) = file.catalog().unwrap();
    catalog.set("BidkitNote", Object::Reference(extra));
    update.put(root_id, Object::Dictionary(catalog));
    let prepared = update.write(out, HashAlgorithm::Sha256).unwrap();
    assert!(!out.exists(), "nothing at the output before commit");
    assert_eq!(prepared.byte_range(), [0; 4]);
    prepared.commit().unwrap();
    (extra, file.len())
}

#[test]
fn unsigned_update_passes_qpdf_and_keeps_the_original() {
    let dir = tempfile::tempdir().unwrap();
    for original in originals(dir.path()) {
        let before = std::fs::read(&original).unwrap();
        let file = PdfFile::open(&original, Limits::DEFAULT).unwrap();
        let out = original.with_extension("upd.pdf");
        let (extra, len) = update_catalog(&file, &out);
        assert_eq!(std::fs::read(&original).unwrap(), before, "input unchanged");
        let written = std::fs::read(&out).unwrap();
        assert!(written.starts_with(&before), "original is a prefix");
        qpdf_check(&out);
        let reopened = PdfFile::open(&out, Limits::DEFAULT).unwrap();
        assert_eq!(reopened.revisions().len(), 2);
        // The end of revision 0 is after its `%%EOF` and the end-of-line (which the writer
        // adds when the original lacks one).
        let end0 = reopened.revisions()[0].end;
        assert!(
            end0 == len || (end0 == len + 1 && written[len as usize] == b'\n'),
            "{end0} vs {len}"
        );
        assert_eq!(reopened.revisions()[1].end, written.len() as u64);
        assert_eq!(reopened.revisions()[1].kind, file.revisions()[0].kind);
        assert_eq!(
            reopened.object(extra).unwrap(),
            Object::String(b"hello".to_vec(), lopdf::StringFormat::Literal)
        );
        assert!(reopened.object_at(0, extra).unwrap().is_none());
        assert!(reopened.catalog().unwrap().1.has(b"BidkitNote"));
        assert_eq!(reopened.pages().unwrap().len(), 3);
    }
}

#[test]
fn signature_placeholder_and_embed() {
    let dir = tempfile::tempdir().unwrap();
    for original in originals(dir.path()) {
        for hash in [HashAlgorithm::Sm3, HashAlgorithm::Sha256] {
            let file = PdfFile::open(&original, Limits::DEFAULT).unwrap();
            let out = original.with_extension(format!("{hash}.signed.pdf"));
            let mut update = IncrementalUpdate::new(&file);
            let sig = update.allocate();
            let mut d = Dictionary::new();
            d.set("Type", Object::Name(b"Sig".to_vec()));
            d.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
            d.set("SubFilter", Object::Name(b"adbe.pkcs7.detached".to_vec()));
            update.put_signature(sig, d, 64);
            let prepared = update.write(&out, hash).unwrap();
            let [zero, a, b, c] = prepared.byte_range();
            assert_eq!(zero, 0);
            // Too long is refused (and a dropped output leaves nothing behind).
            assert!(prepared.embed(&[0xAB; 65]).is_err());
            assert!(!out.exists());
            assert_eq!(
                std::fs::read_dir(dir.path()).unwrap().count(),
                2 + count_outputs(dir.path()),
                "no temp left"
            );

            let file = PdfFile::open(&original, Limits::DEFAULT).unwrap();
            let mut update = IncrementalUpdate::new(&file);
            let sig = update.allocate();
            let mut d = Dictionary::new();
            d.set("Type", Object::Name(b"Sig".to_vec()));
            d.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
            d.set("SubFilter", Object::Name(b"adbe.pkcs7.detached".to_vec()));
            update.put_signature(sig, d, 64);
            let prepared = update.write(&out, hash).unwrap();
            assert_eq!(prepared.byte_range(), [0, a, b, c]);
            let digest = prepared.digest().to_vec();
            let path = prepared.embed(&[0xAB; 10]).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(bytes[a as usize], b'<');
            assert_eq!(bytes[b as usize - 1], b'>');
            assert_eq!(c, bytes.len() as u64 - b);
            assert_eq!(b - a, 2 + 128);
            let mut h = hash.hasher();
            h.update(&bytes[..a as usize]);
            h.update(&bytes[b as usize..]);
            assert_eq!(h.finalize().to_vec(), digest);
            let inner = &bytes[a as usize + 1..b as usize - 1];
            assert!(inner.starts_with(b"ABABABABABABABABABAB0000"));
            qpdf_check(&path);
            let reopened = PdfFile::open(&path, Limits::DEFAULT).unwrap();
            let Object::Dictionary(sd) = reopened.object(sig).unwrap() else {
                panic!()
            };
            let Object::Array(br) = sd.get(b"ByteRange").unwrap() else {
                panic!()
            };
            assert_eq!(
                br,
                &vec![
                    Object::Integer(0),
                    Object::Integer(a as i64),
                    Object::Integer(b as i64),
                    Object::Integer(c as i64)
                ]
            );
            let Object::String(contents, _) = sd.get(b"Contents").unwrap() else {
                panic!()
            };
            assert_eq!(&contents[..10], &[0xAB; 10]);
            assert_eq!(contents.len(), 64);
        }
    }
}

fn count_outputs(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            let n = n.to_string_lossy();
            n.ends_with(".pdf") && n != "classic.pdf" && n != "streams.pdf"
        })
        .count()
}
