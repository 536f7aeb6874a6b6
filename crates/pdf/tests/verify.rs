//! The verifier against signed documents and tampered copies of them, in both suites.
//!
//! Signed documents are made here with the incremental-update writer, the CMS builder and
//! a test CA: one signature field merged with one widget on a page, whose appearance
//! draws a small image XObject — the shape of a Bidkit stamp, reduced to the minimum.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use bidkit_crypto::hash::HashAlgorithm;
use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pdf::verify::{
    ChainStatus, ChangeClass, DocumentVerdict, SignatureVerdict, TrustChoice, VerificationReport,
    VerifyOptions, verify_file,
};
use bidkit_pdf::{IncrementalUpdate, Limits, PdfFile};
use bidkit_pki::{Certificate, CertificateAuthority, KeyPurpose, Subject};
use lopdf::{Dictionary, Object, Stream, dictionary};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-03-01 08:00:00 UTC);

fn signing_time() -> OffsetDateTime {
    T0 + time::Duration::days(10)
}

/// A test CA in `home/ca/<suite>` and a signer certified by it.
struct Signer {
    suite: Suite,
    key: PrivateKey,
    cert: Certificate,
    root: Certificate,
}

fn signer(home: &Path, suite: Suite) -> Signer {
    let mut ca =
        CertificateAuthority::open_or_create(&home.join("ca").join(suite.as_str()), suite, T0)
            .unwrap();
    let key = PrivateKey::for_tests(suite, "verify-signer");
    let subject = Subject::Organisation {
        name: "北京某某建设有限公司".into(),
        uscc: "91110000600037341L".into(),
    };
    let cert = ca
        .issue(&subject, KeyPurpose::Signing, &key.public_key(), T0)
        .unwrap();
    Signer {
        suite,
        key,
        cert,
        root: ca.root().clone(),
    }
}

/// A plain document with `pages` pages of text.
fn base_pdf(path: &Path, pages: usize) {
    let mut doc = lopdf::Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let mut kids = Vec::new();
    for i in 0..pages {
        let content = format!("BT /F1 24 Tf 72 700 Td (Hello page {}) Tj ET", i + 1);
        let cid = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
        let pid = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => cid,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        });
        kids.push(Object::Reference(pid));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => pages as i64,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.save(path).unwrap();
}

/// Sign `input` into `output` with one stamp on `page` (0-based), as field `name`
/// (the field is its own single widget; the page's `/Annots` stays as it is, or
/// becomes a direct array).
fn sign(input: &Path, output: &Path, s: &Signer, name: &str, page: usize) {
    sign_on(input, output, s, name, &[page], false);
}

/// Sign with one stamp per page of `pages`. With `kids`, the field has one `/Kids`
/// widget per page and pages without an indirect `/Annots` array get a new one; without,
/// `pages` must hold one page and the field is its own widget. With `kids` the
/// `/SubFilter` is `ETSI.CAdES.detached`, else `adbe.pkcs7.detached`.
fn sign_on(input: &Path, output: &Path, s: &Signer, name: &str, pages: &[usize], kids: bool) {
    let file = PdfFile::open(input, Limits::DEFAULT).unwrap();
    let all_pages = file.pages().unwrap();
    let (root_id, catalog) = file.catalog().unwrap();
    let mut up = IncrementalUpdate::new(&file);
    let field_id = up.allocate();
    let sig_id = up.allocate();
    let ap_id = up.allocate();
    let image_id = up.allocate();

    // The seal picture: a 1×1 red image; the appearance draws it across the box. One
    // picture and one appearance, however many stamps.
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 1, "Height" => 1,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
        },
        vec![255, 0, 0],
    );
    up.put(image_id, Object::Stream(image));
    let ap = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 100.into(), 100.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
        },
        b"q 100 0 0 100 0 0 cm /Im0 Do Q".to_vec(),
    );
    up.put(ap_id, Object::Stream(ap));
    let widget = |page: lopdf::ObjectId| {
        dictionary! {
            "Type" => "Annot", "Subtype" => "Widget", "F" => 4, "P" => page,
            "Rect" => vec![100.into(), 100.into(), 200.into(), 200.into()],
            "AP" => dictionary! { "N" => ap_id },
        }
    };
    let mut field = dictionary! {
        "FT" => "Sig",
        "T" => Object::string_literal(name),
        "V" => sig_id,
    };
    let mut placed = Vec::new();
    if kids {
        let mut kid_refs = Vec::new();
        for &p in pages {
            let kid = up.allocate();
            let mut w = widget(all_pages[p].id);
            w.set("Parent", field_id);
            up.put(kid, Object::Dictionary(w));
            kid_refs.push(Object::Reference(kid));
            placed.push((p, kid));
        }
        field.set("Kids", kid_refs);
    } else {
        assert_eq!(pages.len(), 1);
        field.extend(&widget(all_pages[pages[0]].id));
        placed.push((pages[0], field_id));
    }
    up.put(field_id, Object::Dictionary(field));

    // The pages gain the widgets.
    for (p, widget_id) in placed {
        let info = &all_pages[p];
        match info.dict.get(b"Annots") {
            Ok(Object::Reference(annots_id)) => {
                let Object::Array(mut annots) = file.object(*annots_id).unwrap() else {
                    panic!("/Annots is not an array")
                };
                annots.push(Object::Reference(widget_id));
                up.put(*annots_id, Object::Array(annots));
            }
            other => {
                let mut annots = match other {
                    Ok(Object::Array(a)) => a.clone(),
                    _ => Vec::new(),
                };
                annots.push(Object::Reference(widget_id));
                let mut page_dict = info.dict.clone();
                if kids {
                    let annots_id = up.allocate();
                    up.put(annots_id, Object::Array(annots));
                    page_dict.set("Annots", annots_id);
                } else {
                    page_dict.set("Annots", annots);
                }
                up.put(info.id, Object::Dictionary(page_dict));
            }
        }
    }

    // The AcroForm gains the field.
    match catalog.get(b"AcroForm") {
        Ok(Object::Reference(form_id)) => {
            let Object::Dictionary(mut form) = file.object(*form_id).unwrap() else {
                panic!("AcroForm is not a dictionary")
            };
            let mut fields = match form.get(b"Fields") {
                Ok(Object::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            fields.push(Object::Reference(field_id));
            form.set("Fields", fields);
            form.set("SigFlags", 3);
            up.put(*form_id, Object::Dictionary(form));
        }
        _ => {
            let form_id = up.allocate();
            up.put(
                form_id,
                Object::Dictionary(dictionary! {
                    "Fields" => vec![Object::Reference(field_id)], "SigFlags" => 3,
                }),
            );
            let mut catalog = catalog.clone();
            catalog.set("AcroForm", form_id);
            up.put(root_id, Object::Dictionary(catalog));
        }
    }

    let sub_filter = if kids {
        "ETSI.CAdES.detached"
    } else {
        "adbe.pkcs7.detached"
    };
    let sig = dictionary! {
        "Type" => "Sig", "Filter" => "Adobe.PPKLite", "SubFilter" => sub_filter,
        "M" => Object::string_literal("D:20260311080000Z"),
        "Name" => Object::string_literal("verify test"),
    };
    up.put_signature(sig_id, sig, 8192);
    let prepared = up.write(output, s.suite.hash()).unwrap();
    let attrs =
        bidkit_cms::SignedAttributes::new(s.suite, prepared.digest(), &s.cert, signing_time())
            .unwrap();
    let signature = s.key.sign(attrs.to_be_signed()).unwrap();
    let der =
        bidkit_cms::assemble(&attrs, &signature, &[s.cert.clone(), s.root.clone()], None).unwrap();
    prepared.embed(&der).unwrap();
}

fn trust(home: &Path) -> VerifyOptions {
    VerifyOptions::new(TrustChoice::from_home_and_pems(Some(home), &[]).unwrap())
}

fn verify(path: &Path, options: &VerifyOptions) -> VerificationReport {
    let report = verify_file(path, options).unwrap();
    // The report always renders and serialises.
    assert!(!report.to_text().is_empty());
    serde_json::to_string(&report).unwrap();
    report
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    signer: Signer,
    signed: PathBuf,
}

/// A two-page document signed once, with a stamp on page 1.
fn signed_once(suite: Suite) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let home = path.join("home");
    let signer = signer(&home, suite);
    let base = path.join("base.pdf");
    base_pdf(&base, 2);
    let signed = path.join("signed.pdf");
    sign(&base, &signed, &signer, "Bidkit-1", 0);
    Fixture {
        _dir: dir,
        dir: path,
        home,
        signer,
        signed,
    }
}

fn byte_range(path: &Path) -> [u64; 4] {
    let report = verify_file(path, &VerifyOptions::integrity_only()).unwrap();
    let br = report
        .signatures
        .last()
        .unwrap()
        .byte_range
        .clone()
        .unwrap();
    [br[0] as u64, br[1] as u64, br[2] as u64, br[3] as u64]
}

fn tampered(fx: &Fixture, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(&fx.signed).unwrap();
    edit(&mut bytes);
    let out = fx.dir.join(name);
    std::fs::write(&out, bytes).unwrap();
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn assert_invalid(report: &VerificationReport, why: &str) {
    assert_eq!(report.exit_code(), 1, "{}", report.to_text());
    let sig = &report.signatures[0];
    match &sig.verdict {
        SignatureVerdict::Invalid { reason } => {
            assert!(
                reason.contains(why),
                "expected {why:?} in {reason:?}\n{}",
                report.to_text()
            );
        }
        other => panic!(
            "expected invalid ({why}), got {other:?}\n{}",
            report.to_text()
        ),
    }
}

#[test]
fn one_signature_valid_and_trusted() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        let report = verify(&fx.signed, &trust(&fx.home));
        assert_eq!(report.exit_code(), 0, "{}", report.to_text());
        assert_eq!(report.verdict, DocumentVerdict::Valid);
        assert_eq!(report.revisions.len(), 2);
        let sig = &report.signatures[0];
        assert_eq!(sig.field, "Bidkit-1");
        assert_eq!(sig.revision, 1);
        assert_eq!(sig.verdict, SignatureVerdict::Valid);
        assert!(sig.covers_whole_revision && sig.covers_whole_file);
        assert_eq!(sig.sub_filter.as_deref(), Some("adbe.pkcs7.detached"));
        let expected_alg = match suite {
            Suite::Gm => "SM2-with-SM3",
            Suite::Nist => "ECDSA-P256-with-SHA256",
        };
        assert_eq!(sig.algorithm.as_deref(), Some(expected_alg));
        let signer = sig.signer.as_ref().unwrap();
        assert_eq!(signer.serial, fx.signer.cert.serial_hex());
        assert!(signer.subject.contains("北京某某建设有限公司"));
        assert_eq!(sig.signing_time, Some(signing_time()));
        let integrity = sig.integrity.as_ref().unwrap();
        assert!(integrity.digest_matches && integrity.signature_valid);
        assert!(matches!(&sig.chain, ChainStatus::Trusted { path, .. } if path.len() == 2));
        assert_eq!(sig.stamps.len(), 1);
        let stamp = &sig.stamps[0];
        assert_eq!(stamp.page, Some(1));
        let rect = stamp.rect_pt.unwrap();
        assert_eq!(
            (rect.x0, rect.y0, rect.x1, rect.y1),
            (100.0, 100.0, 200.0, 200.0)
        );
        let mm = stamp.rect_mm.unwrap();
        assert!((mm.width() - 35.277).abs() < 0.01, "{mm:?}");
        assert!(stamp.image);
        assert!(sig.changes_after.is_empty());
        assert!(report.to_text().contains("VALID"));
    }
}

#[test]
fn an_untrusted_root_fails_unless_integrity_only() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        // Another home's CA: same names but a different key.
        let other = fx.dir.join("other-home");
        signer(&other, suite);
        let report = verify(&fx.signed, &trust(&other));
        assert_eq!(report.exit_code(), 1, "{}", report.to_text());
        let sig = &report.signatures[0];
        assert!(
            matches!(sig.chain, ChainStatus::Untrusted { .. }),
            "{:?}",
            sig.chain
        );
        assert!(matches!(sig.verdict, SignatureVerdict::Untrusted { .. }));
        assert!(sig.integrity.as_ref().unwrap().is_valid());

        let report = verify(&fx.signed, &VerifyOptions::integrity_only());
        assert_eq!(report.exit_code(), 0, "{}", report.to_text());
        assert!(report.integrity_only);
        assert_eq!(report.signatures[0].chain, ChainStatus::NotChecked);

        // The root given as a --trust PEM works like the home.
        let pem = fx.dir.join("root.pem");
        std::fs::write(&pem, fx.signer.root.to_pem()).unwrap();
        let opts = VerifyOptions::new(TrustChoice::from_home_and_pems(None, &[pem]).unwrap());
        assert_eq!(verify(&fx.signed, &opts).exit_code(), 0);
    }
}

#[test]
fn a_home_without_a_ca_is_an_error_not_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let err = TrustChoice::from_home_and_pems(Some(dir.path()), &[]).unwrap_err();
    assert!(err.to_string().contains("no trust root"), "{err}");
}

#[test]
fn two_successive_signatures_are_both_valid() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        let twice = fx.dir.join("twice.pdf");
        sign(&fx.signed, &twice, &fx.signer, "Bidkit-2", 1);
        let thrice = fx.dir.join("thrice.pdf");
        sign(&twice, &thrice, &fx.signer, "Bidkit-3", 0);
        let report = verify(&thrice, &trust(&fx.home));
        assert_eq!(report.exit_code(), 0, "{}", report.to_text());
        assert_eq!(report.signatures.len(), 3);
        let [first, second, third] = &report.signatures[..] else {
            unreachable!()
        };
        assert_eq!((first.revision, second.revision, third.revision), (1, 2, 3));
        assert!(first.covers_whole_revision && !first.covers_whole_file);
        assert!(second.covers_whole_revision && !second.covers_whole_file);
        assert!(third.covers_whole_revision && third.covers_whole_file);
        assert_eq!(second.stamps[0].page, Some(2));
        assert_eq!(first.changes_after.len(), 2);
        assert_eq!(second.changes_after.len(), 1);
        for rev in &first.changes_after {
            assert!(!rev.changes.is_empty());
            for c in &rev.changes {
                assert_eq!(c.class, ChangeClass::Allowed, "{c:?}");
            }
        }
        for sig in &report.signatures {
            assert_eq!(sig.verdict, SignatureVerdict::Valid);
        }
    }
}

#[test]
fn stamps_as_kids_on_several_pages_and_indirect_annots_are_allowed_later() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        // Second operation: one field, a widget on each page, new indirect /Annots arrays.
        let second = fx.dir.join("kids.pdf");
        sign_on(&fx.signed, &second, &fx.signer, "Bidkit-2", &[0, 1], true);
        // Third: page 1's /Annots is now an indirect array, replaced as an object.
        let third = fx.dir.join("kids-then-one.pdf");
        sign(&second, &third, &fx.signer, "Bidkit-3", 0);
        let report = verify(&third, &trust(&fx.home));
        assert_eq!(report.exit_code(), 0, "{}", report.to_text());
        let [first, kids, last] = &report.signatures[..] else {
            panic!("{}", report.to_text())
        };
        assert_eq!(kids.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
        let pages: Vec<_> = kids.stamps.iter().map(|s| s.page).collect();
        assert_eq!(pages, [Some(1), Some(2)]);
        assert!(kids.stamps.iter().all(|s| s.image));
        assert_eq!(last.stamps[0].page, Some(1));
        assert_eq!(first.changes_after.len(), 2);
        for rev in &first.changes_after {
            for c in &rev.changes {
                assert_eq!(c.class, ChangeClass::Allowed, "{c:?}");
            }
        }
        // A widget added to a page without a signature field is not allowed.
        let file = PdfFile::open(&third, Limits::DEFAULT).unwrap();
        let page = file.pages().unwrap()[1].clone();
        let Ok(Object::Reference(annots_id)) = page.dict.get(b"Annots") else {
            panic!("page 2 has no indirect /Annots")
        };
        let Object::Array(mut annots) = file.object(*annots_id).unwrap() else {
            panic!()
        };
        let mut up = IncrementalUpdate::new(&file);
        let note = up.allocate();
        up.put(
            note,
            Object::Dictionary(dictionary! {
                "Type" => "Annot", "Subtype" => "FreeText", "P" => page.id,
                "Rect" => vec![0.into(), 0.into(), 300.into(), 50.into()],
                "Contents" => Object::string_literal("Price: 1 yuan"),
            }),
        );
        annots.push(Object::Reference(note));
        up.put(*annots_id, Object::Array(annots));
        let annotated = fx.dir.join("annotated.pdf");
        up.write(&annotated, HashAlgorithm::Sha256)
            .unwrap()
            .commit()
            .unwrap();
        drop(file);
        let report = verify(&annotated, &trust(&fx.home));
        assert_eq!(report.exit_code(), 1);
        for sig in &report.signatures {
            let SignatureVerdict::ModifiedAfter { changes } = &sig.verdict else {
                panic!("{:?}", sig.verdict)
            };
            assert!(
                changes.iter().any(|c| c.contains("annotations of page 2")),
                "{changes:?}"
            );
            assert!(
                changes
                    .iter()
                    .any(|c| c.contains(&format!("{} 0 R", note.0))),
                "{changes:?}"
            );
        }
    }
}

#[test]
fn a_byte_flipped_in_the_first_range_is_invalid() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        let copy = tampered(&fx, "flip1.pdf", |b| {
            let at = find(b, b"Hello page 1").unwrap();
            b[at] = b'J';
        });
        let report = verify(&copy, &trust(&fx.home));
        assert_invalid(&report, "digest mismatch");
        let sig = &report.signatures[0];
        assert!(!sig.integrity.as_ref().unwrap().digest_matches);
        assert!(sig.covers_whole_revision);
    }
}

#[test]
fn a_byte_flipped_in_the_second_range_is_invalid() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        let [_, _, c, _] = byte_range(&fx.signed);
        let copy = tampered(&fx, "flip2.pdf", |b| {
            // The end-of-line before the last `startxref`: still a valid PDF.
            let at = rfind(b, b"startxref").unwrap() - 1;
            assert!(at as u64 > c);
            b[at] = if b[at] == b'\n' { b'\r' } else { b'\n' };
        });
        let report = verify(&copy, &trust(&fx.home));
        assert_invalid(&report, "digest mismatch");
    }
}

#[test]
fn a_byte_flipped_inside_contents_is_invalid() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        let [_, b, _, _] = byte_range(&fx.signed);
        let copy = tampered(&fx, "flip-contents.pdf", |bytes| {
            // Somewhere in the DER (past the outer headers, before the zero padding).
            let at = b as usize + 1 + 200;
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        });
        let report = verify(&copy, &trust(&fx.home));
        assert_eq!(report.exit_code(), 1, "{}", report.to_text());
        assert!(
            matches!(
                report.signatures[0].verdict,
                SignatureVerdict::Invalid { .. }
            ),
            "{}",
            report.to_text()
        );
    }
}

/// Append a revision to `input` that replaces page 1's content stream.
fn append_content_change(input: &Path, output: &Path) -> (u32, u16) {
    let file = PdfFile::open(input, Limits::DEFAULT).unwrap();
    let page = file.pages().unwrap()[0].clone();
    let Ok(Object::Reference(content_id)) = page.dict.get(b"Contents") else {
        panic!("no indirect /Contents")
    };
    let mut up = IncrementalUpdate::new(&file);
    let evil = b"BT /F1 24 Tf 72 700 Td (Price: 1 yuan) Tj ET".to_vec();
    up.put(
        *content_id,
        Object::Stream(Stream::new(
            dictionary! { "Length" => evil.len() as i64 },
            evil,
        )),
    );
    up.write(output, HashAlgorithm::Sha256)
        .unwrap()
        .commit()
        .unwrap();
    *content_id
}

#[test]
fn a_redefined_content_stream_after_signing_is_reported() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        let modified = fx.dir.join("modified.pdf");
        let content_id = append_content_change(&fx.signed, &modified);
        let report = verify(&modified, &trust(&fx.home));
        assert_eq!(report.exit_code(), 1, "{}", report.to_text());
        let sig = &report.signatures[0];
        // The signature itself is intact; what follows it is not allowed.
        assert!(sig.integrity.as_ref().unwrap().is_valid());
        assert!(sig.covers_whole_revision && !sig.covers_whole_file);
        let SignatureVerdict::ModifiedAfter { changes } = &sig.verdict else {
            panic!("expected modified-after, got {:?}", sig.verdict)
        };
        let object = format!("{} {} R", content_id.0, content_id.1);
        assert!(
            changes
                .iter()
                .any(|c| c.contains(&object) && c.contains("page 1 content stream replaced")),
            "{changes:?}"
        );
        assert_eq!(sig.changes_after.len(), 1);
        assert!(report.to_text().contains("page 1 content stream replaced"));
    }
}

#[test]
fn text_added_to_a_page_after_signing_is_reported() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        let file = PdfFile::open(&fx.signed, Limits::DEFAULT).unwrap();
        let page = file.pages().unwrap()[1].clone();
        let mut up = IncrementalUpdate::new(&file);
        let extra = up.allocate();
        let text = b"BT /F1 12 Tf 72 72 Td (Added later) Tj ET".to_vec();
        up.put(
            extra,
            Object::Stream(Stream::new(
                dictionary! { "Length" => text.len() as i64 },
                text,
            )),
        );
        let mut dict = page.dict.clone();
        let old = dict.get(b"Contents").unwrap().clone();
        dict.set("Contents", vec![old, Object::Reference(extra)]);
        up.put(page.id, Object::Dictionary(dict));
        let out = fx.dir.join("added.pdf");
        up.write(&out, HashAlgorithm::Sha256)
            .unwrap()
            .commit()
            .unwrap();
        drop(file);

        let report = verify(&out, &trust(&fx.home));
        assert_eq!(report.exit_code(), 1);
        let rev = &report.signatures[0].changes_after[0];
        let disallowed: Vec<_> = rev.disallowed().collect();
        assert!(
            disallowed
                .iter()
                .any(|c| c.description.contains("page 2") && c.description.contains("/Contents")),
            "{disallowed:?}"
        );
        assert!(
            disallowed
                .iter()
                .any(|c| c.object == format!("{} 0 R", extra.0)),
            "{disallowed:?}"
        );
    }
}

/// Rewrite the `/ByteRange [...]` text in place (same length).
fn rewrite_byte_range(bytes: &mut [u8], new: [u64; 4]) {
    let at = find(bytes, b"/ByteRange").unwrap();
    let open = at + bytes[at..].iter().position(|&c| c == b'[').unwrap();
    let close = open + bytes[open..].iter().position(|&c| c == b']').unwrap();
    let text = format!("[{} {} {} {}", new[0], new[1], new[2], new[3]);
    let width = close - open;
    assert!(text.len() <= width, "no room for {text}");
    let padded = format!("{text:<width$}");
    bytes[open..close].copy_from_slice(padded.as_bytes());
}

#[test]
fn an_altered_byte_range_is_invalid() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        let [a, b, c, d] = byte_range(&fx.signed);
        // Shifted: the gap no longer is the /Contents string.
        let copy = tampered(&fx, "shifted.pdf", |bytes| {
            rewrite_byte_range(bytes, [a, b + 1, c, d]);
        });
        let report = verify(&copy, &trust(&fx.home));
        assert_invalid(&report, "not exactly this signature's /Contents");
        assert!(!report.signatures[0].covers_whole_revision);

        // Not starting at 0.
        let copy = tampered(&fx, "late-start.pdf", |bytes| {
            rewrite_byte_range(bytes, [a + 10, b - 10, c, d]);
        });
        assert_invalid(&verify(&copy, &trust(&fx.home)), "not 0");

        // Ending short of the revision.
        let copy = tampered(&fx, "short.pdf", |bytes| {
            rewrite_byte_range(bytes, [a, b, c, d - 20]);
        });
        assert_invalid(&verify(&copy, &trust(&fx.home)), "ends at byte");

        // Past the end of the file, overlapping: invalid, no panic.
        let copy = tampered(&fx, "past-end.pdf", |bytes| {
            rewrite_byte_range(bytes, [a, b, c, d + 1000]);
        });
        assert_invalid(&verify(&copy, &trust(&fx.home)), "past the end");
        let copy = tampered(&fx, "overlap.pdf", |bytes| {
            rewrite_byte_range(bytes, [a, c + 5, c, d]);
        });
        assert_invalid(&verify(&copy, &trust(&fx.home)), "overlap");
    }
}

#[test]
fn removed_byte_range_or_contents_is_invalid() {
    for suite in Suite::ALL {
        let fx = signed_once(suite);
        let copy = tampered(&fx, "no-contents.pdf", |bytes| {
            let at = rfind(bytes, b"/Contents <")
                .or_else(|| rfind(bytes, b"/Contents<"))
                .unwrap();
            bytes[at + 8] = b'Z';
        });
        assert_invalid(&verify(&copy, &trust(&fx.home)), "no /Contents");

        let copy = tampered(&fx, "no-byterange.pdf", |bytes| {
            let at = find(bytes, b"/ByteRange").unwrap();
            bytes[at + 9] = b'X';
        });
        assert_invalid(&verify(&copy, &trust(&fx.home)), "no /ByteRange");
    }
}

/// Add a signature field whose `/V` is `sig` (written as is, no placeholder) and commit.
fn add_fake_signature(input: &Path, output: &Path, sig: Object) {
    let file = PdfFile::open(input, Limits::DEFAULT).unwrap();
    let page = file.pages().unwrap()[0].clone();
    let (root_id, catalog) = file.catalog().unwrap();
    let mut up = IncrementalUpdate::new(&file);
    let field_id = up.allocate();
    let sig_id = up.allocate();
    up.put(sig_id, sig);
    up.put(
        field_id,
        Object::Dictionary(dictionary! {
            "Type" => "Annot", "Subtype" => "Widget", "FT" => "Sig",
            "T" => Object::string_literal("Hostile"), "V" => sig_id, "P" => page.id,
            "Rect" => vec![0.into(), 0.into(), 0.into(), 0.into()],
        }),
    );
    let form_id = up.allocate();
    up.put(
        form_id,
        Object::Dictionary(dictionary! { "Fields" => vec![Object::Reference(field_id)] }),
    );
    let mut catalog = catalog.clone();
    catalog.set("AcroForm", form_id);
    up.put(root_id, Object::Dictionary(catalog));
    up.write(output, HashAlgorithm::Sha256)
        .unwrap()
        .commit()
        .unwrap();
}

#[test]
fn hostile_signature_dictionaries_are_invalid_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.pdf");
    base_pdf(&base, 1);
    let sig = |br: Object, contents: Object| {
        Object::Dictionary(dictionary! {
            "Type" => "Sig", "Filter" => "Adobe.PPKLite", "SubFilter" => "adbe.pkcs7.detached",
            "ByteRange" => br, "Contents" => contents,
        })
    };
    let ints = |v: &[i64]| Object::Array(v.iter().map(|&i| Object::Integer(i)).collect());
    let hex = |b: Vec<u8>| Object::String(b, lopdf::StringFormat::Hexadecimal);
    let cases: Vec<(&str, Object, &str)> = vec![
        (
            "negative",
            sig(ints(&[0, -5, 10, 20]), hex(vec![0x30, 0])),
            "negative",
        ),
        (
            "reals",
            sig(
                Object::Array(vec![0.into(), Object::Real(1.5), 10.into(), 20.into()]),
                hex(vec![0x30]),
            ),
            "other than integers",
        ),
        (
            "three",
            sig(ints(&[0, 10, 20]), hex(vec![0x30])),
            "instead of 4",
        ),
        (
            "huge-range",
            sig(ints(&[0, 10, 20, i64::MAX]), hex(vec![0x30])),
            "past the end",
        ),
        (
            "literal",
            sig(
                ints(&[0, 10, 20, 30]),
                Object::String(b"0000".to_vec(), lopdf::StringFormat::Literal),
            ),
            "not a hex string",
        ),
        (
            "huge-contents",
            sig(ints(&[0, 10, 20, 30]), hex(vec![0; 5 * 1024 * 1024])),
            "more than",
        ),
        (
            "not-cms",
            sig(ints(&[0, 10, 20, 30]), hex(vec![1, 2, 3, 4])),
            "not a readable CMS signature",
        ),
        (
            "not-a-dict",
            Object::Integer(42),
            "not a signature dictionary",
        ),
        (
            "byte-range-not-array",
            sig(Object::Integer(7), hex(vec![0x30])),
            "not an array",
        ),
    ];
    for (name, dict, why) in cases {
        let out = dir.path().join(format!("{name}.pdf"));
        add_fake_signature(&base, &out, dict);
        let report = verify(&out, &VerifyOptions::integrity_only());
        assert_eq!(report.signatures.len(), 1, "{name}");
        assert_invalid(&report, why);
    }
}

#[test]
fn a_truncated_file_is_an_error_or_a_failing_report() {
    let fx = signed_once(Suite::Gm);
    let bytes = std::fs::read(&fx.signed).unwrap();
    let half = fx.dir.join("half.pdf");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    match verify_file(&half, &trust(&fx.home)) {
        Err(e) => assert!(e.to_string().contains("half.pdf"), "{e}"),
        Ok(report) => assert_eq!(report.exit_code(), 1, "{}", report.to_text()),
    }
    let missing = fx.dir.join("missing.pdf");
    assert!(verify_file(&missing, &trust(&fx.home)).is_err());
}

#[test]
fn a_document_without_signatures_is_not_valid() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("plain.pdf");
    base_pdf(&base, 1);
    let report = verify(&base, &VerifyOptions::integrity_only());
    assert_eq!(report.verdict, DocumentVerdict::NoSignatures);
    assert_eq!(report.exit_code(), 1);
    assert!(report.signatures.is_empty());
    assert!(report.to_text().contains("NO SIGNATURES"));
}

#[test]
fn the_report_serialises_as_json() {
    let fx = signed_once(Suite::Nist);
    let report = verify(&fx.signed, &trust(&fx.home));
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(json["verdict"]["status"], "valid");
    let sig = &json["signatures"][0];
    assert_eq!(sig["field"], "Bidkit-1");
    assert_eq!(sig["verdict"]["status"], "valid");
    assert_eq!(sig["chain"]["status"], "trusted");
    assert_eq!(sig["covers_whole_revision"], true);
    assert_eq!(sig["stamps"][0]["page"], 1);
    assert!(sig["byte_range"].as_array().unwrap().len() == 4);
}
