#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The lazy reader on lopdf-made PDFs and their qpdf conversions (object streams,
//! linearized).

use std::process::Command;

use bidkit_pdf::{Limits, PdfFile, Rect};
use lopdf::{Dictionary, Document, Object, Stream};

fn make_pdf(path: &std::path::Path) {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for i in 0..3 {
        let content = doc.add_object(Stream::new(
            Dictionary::new(),
            format!("BT (p{i}) Tj ET").into_bytes(),
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
            page.set("Rotate", 90);
        }
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Count", 3);
    pages.set("Kids", Object::Array(kids));
    pages.set(
        "MediaBox",
        Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()]),
    );
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let root = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(root));
    doc.save(path).unwrap();
}

#[test]
fn classic_object_streams_and_linearized() {
    let dir = tempfile::tempdir().unwrap();
    let classic = dir.path().join("c.pdf");
    make_pdf(&classic);
    let streams = dir.path().join("s.pdf");
    let linear = dir.path().join("l.pdf");
    for (out, args) in [
        (
            &streams,
            vec!["--object-streams=generate", "--compress-streams=y"],
        ),
        (&linear, vec!["--linearize"]),
    ] {
        let st = Command::new("qpdf")
            .args(&args)
            .arg(&classic)
            .arg(out)
            .status()
            .unwrap();
        assert!(st.success());
    }
    for path in [&classic, &streams, &linear] {
        let f = PdfFile::open(path, Limits::DEFAULT).unwrap();
        assert_eq!(f.revisions().len(), 1, "{}", path.display());
        assert_eq!(f.revisions()[0].end, f.len());
        let pages = f.pages().unwrap();
        assert_eq!(pages.len(), 3);
        assert_eq!(pages[0].media_box, Rect::new(0.0, 0.0, 595.0, 842.0));
        assert_eq!(pages[1].media_box, Rect::new(0.0, 0.0, 300.5, 400.0));
        assert_eq!(pages[1].rotate, 90);
        for p in &pages {
            let Object::Reference(c) = p.dict.get(b"Contents").unwrap() else {
                panic!()
            };
            let Object::Stream(s) = f.object(*c).unwrap() else {
                panic!()
            };
            let data = f.stream_data(&s).unwrap();
            assert!(
                data.starts_with(b"BT"),
                "{}",
                String::from_utf8_lossy(&data)
            );
        }
        // Every declared object resolves.
        for n in f.revisions()[0].entries.keys() {
            f.object_at(0, (*n, 0)).unwrap();
        }
    }
    let s = PdfFile::open(&streams, Limits::DEFAULT).unwrap();
    assert_eq!(s.revisions()[0].kind, bidkit_pdf::file::XrefKind::Stream);
    assert!(
        s.revisions()[0]
            .entries
            .values()
            .any(|e| matches!(e, bidkit_pdf::XrefEntry::InStream { .. }))
    );
}
