//! Property tests for the reader and the incremental-update writer.
//!
//! * Generated documents read back with the pages the spec asked for, and an in-memory
//!   copy of the bytes reads back object for object the same.
//! * An incremental update adding arbitrary objects re-reads with those objects visible
//!   (and only in the new revision), the original bytes an unchanged prefix, and every
//!   earlier object as it was.
//! * Arbitrary bytes never panic the reader or the object parser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;

use bidkit_crypto::hash::HashAlgorithm;
use bidkit_pdf::generate::{DocumentSpec, write_document};
use bidkit_pdf::{IncrementalUpdate, Limits, PdfFile, XrefEntry, syntax};
use lopdf::{Dictionary, Object, ObjectId, Stream, StringFormat};
use proptest::prelude::*;

/// Values compared as the PDF means them: a string's bytes whatever its notation, a
/// whole real as an integer.
fn normalize(o: Object) -> Object {
    match o {
        Object::String(b, _) => Object::String(b, StringFormat::Literal),
        Object::Real(r) if r.fract() == 0.0 && r.abs() < 1e15 => Object::Integer(r as i64),
        Object::Array(items) => Object::Array(items.into_iter().map(normalize).collect()),
        Object::Dictionary(d) => Object::Dictionary(normalize_dict(d)),
        Object::Stream(s) => {
            let mut n = Stream::new(normalize_dict(s.dict), s.content);
            n.allows_compression = false;
            n.start_position = None;
            Object::Stream(n)
        }
        other => other,
    }
}

fn normalize_dict(d: Dictionary) -> Dictionary {
    let mut out = Dictionary::new();
    for (k, v) in d {
        out.set(k, normalize(v));
    }
    out
}

fn name() -> impl Strategy<Value = Vec<u8>> {
    // Regular characters, and some that a writer must escape.
    prop::collection::vec(
        prop::sample::select(b"AZaz09._-#/()<>[]{}% \x7f\xe4".to_vec()),
        1..8,
    )
}

fn leaf() -> impl Strategy<Value = Object> {
    prop_oneof![
        Just(Object::Null),
        any::<bool>().prop_map(Object::Boolean),
        any::<i32>().prop_map(|i| Object::Integer(i64::from(i))),
        any::<i16>().prop_map(|i| Object::Real(f32::from(i) / 4.0)),
        name().prop_map(Object::Name),
        prop::collection::vec(any::<u8>(), 0..24)
            .prop_map(|b| Object::String(b, StringFormat::Literal)),
        prop::collection::vec(any::<u8>(), 0..24)
            .prop_map(|b| Object::String(b, StringFormat::Hexadecimal)),
        (1u32..50, 0u16..3).prop_map(|(n, g)| Object::Reference((n, g))),
    ]
}

fn value() -> impl Strategy<Value = Object> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Object::Array),
            prop::collection::vec((name(), inner), 0..6).prop_map(|kv| {
                let mut d = Dictionary::new();
                for (k, v) in kv {
                    d.set(k, v);
                }
                Object::Dictionary(d)
            }),
        ]
    })
}

/// A top-level object: any value, or a stream with a small dictionary.
fn top_object() -> impl Strategy<Value = Object> {
    prop_oneof![
        3 => value(),
        1 => (
            prop::collection::vec((name(), leaf()), 0..4),
            prop::collection::vec(any::<u8>(), 0..200)
        )
            .prop_map(|(kv, content)| {
                let mut d = Dictionary::new();
                for (k, v) in kv {
                    if k != b"Length" && k != b"Filter" && k != b"DecodeParms" {
                        d.set(k, v);
                    }
                }
                Object::Stream(Stream::new(d, content))
            }),
    ]
}

/// Every object some cross-reference section of `file` declares in use, as of the
/// latest revision.
fn declared_ids(file: &PdfFile) -> Vec<ObjectId> {
    let mut ids = std::collections::BTreeSet::new();
    for r in file.revisions() {
        for (n, e) in &r.entries {
            match e {
                XrefEntry::InFile { generation, .. } => ids.insert((*n, *generation)),
                XrefEntry::InStream { .. } => ids.insert((*n, 0)),
                XrefEntry::Free => false,
            };
        }
    }
    ids.into_iter().collect()
}

fn spec_strategy() -> impl Strategy<Value = DocumentSpec> {
    (
        1u32..5,
        (100.0f64..1200.0, 100.0f64..1200.0),
        0u32..4,
        prop::collection::vec((1u32..5, 0i32..4), 0..3),
        any::<u64>(),
    )
        .prop_map(|(pages, size, lines, rot, seed)| {
            let mut spec = DocumentSpec::a4(pages);
            spec.page_size = size;
            spec.body_lines_per_page = lines;
            spec.rotations = rot
                .into_iter()
                .filter(|(p, _)| *p <= pages)
                .map(|(p, q)| (p, q * 90))
                .collect();
            spec.seed = seed;
            spec
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// (a) A generated document has the pages its spec asked for, and a copy of its bytes
    /// read from memory holds the same objects.
    #[test]
    fn generated_documents_round_trip(spec in spec_strategy()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.pdf");
        let generated = write_document(&spec, &path).unwrap();
        let file = PdfFile::open(&path, Limits::DEFAULT).unwrap();
        let pages = file.pages().unwrap();
        prop_assert_eq!(pages.len() as u32, spec.pages);
        prop_assert_eq!(generated.pages, spec.pages);
        prop_assert_eq!(file.len(), generated.file_size);
        for page in &pages {
            let b = page.media_box;
            prop_assert!((b.width() - spec.page_size.0).abs() < 0.01);
            prop_assert!((b.height() - spec.page_size.1).abs() < 0.01);
            let rotate = spec
                .rotations
                .iter()
                .rev()
                .find(|(p, _)| *p as usize == page.index + 1)
                .map_or(0, |(_, d)| *d);
            prop_assert_eq!(page.rotate.rem_euclid(360), rotate.rem_euclid(360));
        }

        let mut copy = Vec::new();
        file.copy_range(0, file.len(), &mut copy).unwrap();
        prop_assert_eq!(&copy, &std::fs::read(&path).unwrap());
        let mem = PdfFile::from_bytes(copy, Limits::DEFAULT).unwrap();
        prop_assert_eq!(mem.pages().unwrap().len(), pages.len());
        let ids = declared_ids(&file);
        prop_assert!(ids.len() >= 3);
        for id in ids {
            let a = normalize(file.object(id).unwrap());
            let b = normalize(mem.object(id).unwrap());
            prop_assert_eq!(a, b, "object {:?}", id);
        }
    }

    /// (b) An incremental update with arbitrary new objects: the original is a prefix,
    /// the new objects read back equal (in the new revision only), the old ones unchanged.
    #[test]
    fn incremental_update_adds_objects(
        objects in prop::collection::vec(top_object(), 1..6),
        stream_xref in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let input = if stream_xref {
            // A cross-reference stream document (the update writes one too).
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fuzz/corpus/pdf_open_verify/objstm.pdf")
        } else {
            let p = dir.path().join("in.pdf");
            write_document(&DocumentSpec::a4(2), &p).unwrap();
            p
        };
        let original = std::fs::read(&input).unwrap();
        let file = PdfFile::open(&input, Limits::DEFAULT).unwrap();
        let old_ids = declared_ids(&file);
        let old_pages = file.pages().unwrap().len();
        let mut update = IncrementalUpdate::new(&file);
        let mut added = Vec::new();
        for o in &objects {
            let id = update.allocate();
            update.put(id, o.clone());
            added.push((id, o.clone()));
        }
        let out = dir.path().join("out.pdf");
        update.write(&out, HashAlgorithm::Sm3).unwrap().commit().unwrap();

        let bytes = std::fs::read(&out).unwrap();
        prop_assert!(bytes.len() > original.len());
        prop_assert!(bytes.starts_with(&original), "the original is not a prefix");
        let updated = PdfFile::open(&out, Limits::DEFAULT).unwrap();
        let n = file.revisions().len();
        prop_assert_eq!(updated.revisions().len(), n + 1);
        prop_assert_eq!(updated.revisions()[n - 1].end, original.len() as u64);
        prop_assert_eq!(updated.pages().unwrap().len(), old_pages);
        for (id, o) in added {
            let read = updated.object(id).unwrap();
            prop_assert_eq!(normalize(read), normalize(o), "object {:?}", id);
            prop_assert!(updated.object_at(n - 1, id).unwrap().is_none());
        }
        for id in old_ids {
            let a = normalize(file.object(id).unwrap());
            let b = normalize(updated.object(id).unwrap());
            prop_assert_eq!(a, b, "old object {:?}", id);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// (c) Arbitrary bytes, bare or dressed as a PDF, never panic the reader or the
    /// object parser.
    #[test]
    fn arbitrary_bytes_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..600),
        dress in any::<bool>(),
        startxref in 0usize..700,
    ) {
        let limits = Limits::DEFAULT;
        let _ = syntax::parse_object(&body, &limits);
        let _ = syntax::parse_indirect(&body, 0, &limits);
        let data = if dress {
            let mut d = b"%PDF-1.7\n".to_vec();
            d.extend_from_slice(&body);
            d.extend_from_slice(format!("\nstartxref\n{startxref}\n%%EOF\n").as_bytes());
            d
        } else {
            body
        };
        if let Ok(file) = PdfFile::from_bytes(data, limits) {
            let _ = file.catalog();
            if let Ok(pages) = file.pages() {
                for p in &pages {
                    let _ = file.page_resources(p);
                }
            }
        }
    }

    /// (c) Object syntax: arbitrary token soup never panics the parser.
    #[test]
    fn token_soup_never_panics(
        tokens in prop::collection::vec(
            prop::sample::select(vec![
                "<<", ">>", "[", "]", "(", ")", "\\", "/N", "/#41", "/#", "1", "-2", "3.5",
                ".", "+", "0 R", " ", "\n", "%c\n", "<4142>", "<", ">", "true", "null",
                "obj", "endobj", "stream\n", "endstream", "{", "}",
            ]),
            0..80,
        ),
    ) {
        let data = tokens.concat();
        let limits = Limits::DEFAULT;
        let _ = syntax::parse_object(data.as_bytes(), &limits);
        let mut framed = b"1 0 obj ".to_vec();
        framed.extend_from_slice(data.as_bytes());
        let _ = syntax::parse_indirect(&framed, 0, &limits);
    }
}
