#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The tender package: the template validates and round-trips; every validation rule
//! refuses what it should, naming the file and the reason.

use std::path::Path;

use bidkit_tender::{NamedPage, PageRef, SealPlace, TENDER_SCHEMA, TenderError, TenderPackage};
use time::OffsetDateTime;

fn template() -> TenderPackage {
    TenderPackage::new_template(OffsetDateTime::now_utc())
}

/// The JSON of the template with `edit` applied to its `serde_json::Value`.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v = serde_json::to_value(template()).unwrap();
    edit(&mut v);
    serde_json::to_vec_pretty(&v).unwrap()
}

fn problems_of(bytes: &[u8]) -> String {
    let err = TenderPackage::from_json(Path::new("tender.json"), bytes).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("tender.json: "), "names the file: {text}");
    text
}

#[test]
fn template_validates_and_round_trips() {
    let t = template();
    assert_eq!(t.schema, TENDER_SCHEMA);
    assert!(t.problems().is_empty(), "{:?}", t.problems());
    let json = serde_json::to_vec_pretty(&t).unwrap();
    let back = TenderPackage::from_json(Path::new("tender.json"), &json).unwrap();
    assert_eq!(back, t);
    assert!(t.deadline <= t.opening);
    assert_eq!(t.sections[1].title, "技术标");
    assert!(matches!(
        t.seals[1].at,
        SealPlace::Page(PageRef::Named(NamedPage::Last))
    ));
}

#[test]
fn places_parse_in_all_forms() {
    let bytes = edited(|v| {
        v["seals"] = serde_json::json!([
            { "id": "a", "kind": "official", "at": { "keyword": "投标人（盖章）" } },
            { "id": "b", "kind": "contract", "at": { "page": 3 } },
            { "id": "c", "kind": "finance", "at": { "page": "last" }, "required": false },
            { "id": "d", "kind": "official", "at": { "seam": true } },
            { "id": "e", "kind": "handwritten", "at": { "page": "first" } },
            { "id": "f", "kind": "legal-representative", "at": { "page": 1 } },
            { "id": "g", "kind": "personal-name", "at": { "page": 2 } }
        ]);
    });
    let t = TenderPackage::from_json(Path::new("tender.json"), &bytes).unwrap();
    assert_eq!(t.seals.len(), 7);
    assert_eq!(t.seals[1].at, SealPlace::Page(PageRef::Number(3)));
    assert!(!t.seals[2].required);
    assert!(t.seals[0].required, "required defaults to true");
}

#[test]
fn unknown_schema_version() {
    let bytes = edited(|v| v["schema"] = "bidkit.tender/2".into());
    let err = TenderPackage::from_json(Path::new("tender.json"), &bytes).unwrap_err();
    assert!(matches!(err, TenderError::UnknownSchema { .. }), "{err}");
    assert!(err.to_string().contains("bidkit.tender/2"), "{err}");
    let bytes = edited(|v| {
        v.as_object_mut().unwrap().remove("schema");
    });
    assert!(problems_of(&bytes).contains("unknown schema \"\""));
}

#[test]
fn duplicate_section_ids() {
    let bytes = edited(|v| v["sections"][1]["id"] = "business".into());
    let text = problems_of(&bytes);
    assert!(
        text.contains("section 2 (技术标): duplicate section id \"business\""),
        "{text}"
    );
}

#[test]
fn deadline_after_opening() {
    let bytes = edited(|v| {
        v["deadline"] = "2026-12-01T10:00:00+08:00".into();
        v["opening"] = "2026-12-01T09:30:00+08:00".into();
    });
    let text = problems_of(&bytes);
    assert!(
        text.contains("the deadline 2026-12-01T10:00:00+08:00 is after the opening time"),
        "{text}"
    );
}

#[test]
fn bad_time_is_a_json_error_with_position() {
    let bytes = edited(|v| v["deadline"] = "next tuesday".into());
    let err = TenderPackage::from_json(Path::new("tender.json"), &bytes).unwrap_err();
    assert!(matches!(err, TenderError::Json { .. }), "{err}");
    assert!(err.to_string().contains("line"), "{err}");
}

#[test]
fn empty_title() {
    let bytes = edited(|v| v["sections"][0]["title"] = "  ".into());
    assert!(problems_of(&bytes).contains("section 1: the title is empty"));
    let bytes = edited(|v| v["project"]["name"] = "".into());
    assert!(problems_of(&bytes).contains("project.name is empty"));
}

#[test]
fn unsupported_type() {
    let bytes = edited(|v| v["sections"][1]["accept"] = serde_json::json!(["pdf", "docx"]));
    let text = problems_of(&bytes);
    assert!(
        text.contains(
            "section 2 (技术标): accepted type \"docx\" is not supported; use pdf, jpeg, png, txt or md"
        ),
        "{text}"
    );
    let bytes = edited(|v| v["sections"][1]["accept"] = serde_json::json!([]));
    assert!(problems_of(&bytes).contains("section 2 (技术标): accepts no file type"));
}

type Edit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn other_rules() {
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| v["sections"] = serde_json::json!([])),
            "there are no sections",
        ),
        (
            Box::new(|v| v["sections"][0]["id"] = "商务".into()),
            "id \"商务\" must be 1 to 64 ASCII",
        ),
        (
            Box::new(|v| v["sections"][0]["max_size_mb"] = 0.into()),
            "max_size_mb 0 must be between 1 and 4096",
        ),
        (
            Box::new(|v| v["seals"][0]["at"] = serde_json::json!({"keyword": ""})),
            "the keyword is empty",
        ),
        (
            Box::new(|v| v["seals"][0]["at"] = serde_json::json!({"page": 0})),
            "page numbers start at 1",
        ),
        (
            Box::new(|v| v["seals"][0]["at"] = serde_json::json!({"seam": false})),
            "places the seal nowhere",
        ),
        (
            Box::new(|v| v["seals"][1]["id"] = "official-signature-line".into()),
            "duplicate seal id",
        ),
        (
            Box::new(|v| v["quoted_price"]["max"] = "12,000".into()),
            "quoted_price.max \"12,000\"",
        ),
        (
            Box::new(|v| v["quoted_price"]["currency"] = "rmb".into()),
            "ISO 4217",
        ),
        (
            Box::new(|v| v["agent"]["uscc"] = "123".into()),
            "agent.uscc \"123\"",
        ),
        (
            Box::new(|v| v["tender_id"] = "".into()),
            "tender_id is empty",
        ),
        (
            Box::new(|v| v["document"] = serde_json::json!({"file": "../x.pdf", "sha256": "00"})),
            "document.file \"../x.pdf\" must be a file name",
        ),
    ];
    for (edit, expected) in cases {
        let bytes = edited(edit);
        let text = problems_of(&bytes);
        assert!(text.contains(expected), "expected {expected:?} in {text}");
    }
}

#[test]
fn unknown_fields_and_kinds_are_refused() {
    let bytes = edited(|v| v["sections"][0]["acept"] = serde_json::json!(["pdf"]));
    let err = TenderPackage::from_json(Path::new("tender.json"), &bytes).unwrap_err();
    assert!(err.to_string().contains("unknown field `acept`"), "{err}");
    let bytes = edited(|v| v["seals"][0]["kind"] = "company".into());
    let err = TenderPackage::from_json(Path::new("tender.json"), &bytes).unwrap_err();
    assert!(
        err.to_string().contains("unknown variant `company`"),
        "{err}"
    );
}

#[test]
fn all_problems_are_reported_together() {
    let bytes = edited(|v| {
        v["sections"][0]["title"] = "".into();
        v["sections"][2]["accept"] = serde_json::json!(["exe"]);
    });
    let text = problems_of(&bytes);
    assert!(
        text.contains("the title is empty") && text.contains("\"exe\""),
        "{text}"
    );
}

#[test]
fn package_directory_with_document() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("招标文件.pdf");
    bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(2), &doc).unwrap();
    let pkg_dir = dir.path().join("TENDER");
    let written = template().write_package(&pkg_dir, Some(&doc)).unwrap();
    let d = written.package.document.clone().unwrap();
    assert_eq!(d.file, "招标文件.pdf");
    let loaded = TenderPackage::load(&pkg_dir).unwrap();
    assert_eq!(loaded.sha256, written.sha256);
    assert_eq!(loaded.package, written.package);

    // The document replaced: refused, naming it.
    std::fs::write(pkg_dir.join("招标文件.pdf"), b"%PDF-1.4\n%%EOF\n").unwrap();
    let err = TenderPackage::load(&pkg_dir).unwrap_err().to_string();
    assert!(
        err.contains("tender.json") && err.contains("changed or replaced"),
        "{err}"
    );
    std::fs::remove_file(pkg_dir.join("招标文件.pdf")).unwrap();
    let err = TenderPackage::load(&pkg_dir).unwrap_err().to_string();
    assert!(err.contains("is not in the package directory"), "{err}");

    // A tender document that is not a PDF.
    let png = dir.path().join("x.pdf");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n0000").unwrap();
    let err = template()
        .write_package(&dir.path().join("T2"), Some(&png))
        .unwrap_err();
    assert!(err.to_string().contains("x.pdf"), "{err}");
}

/// A bid project keeps the requirements but not the tender document they name: it opens
/// all the same (regression: `BidProject::open` looked for the document in the project).
#[test]
fn project_of_a_package_with_document_opens() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("招标文件.pdf");
    bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(1), &doc).unwrap();
    let tender = template()
        .write_package(&dir.path().join("TENDER"), Some(&doc))
        .unwrap();
    let bid_dir = dir.path().join("BID");
    let bidder = bidkit_tender::Bidder {
        name: "某某建设集团有限公司".into(),
        uscc: "91350100M000100Y43".into(),
    };
    bidkit_tender::BidProject::init(&tender, &bid_dir, bidder).unwrap();
    assert!(!bid_dir.join("招标文件.pdf").exists());
    let project = bidkit_tender::BidProject::open(&bid_dir).unwrap();
    assert!(project.follows(&tender));
    assert_eq!(project.tender().package.document, tender.package.document);
}

#[test]
fn invalid_package_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = template();
    t.sections[0].title.clear();
    assert!(t.write_package(dir.path(), None).is_err());
    assert!(!dir.path().join("tender.json").exists());
}
