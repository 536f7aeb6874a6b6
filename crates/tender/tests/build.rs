#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A bid project from init to built PDF: a PDF section, a JPEG, a PNG and a Markdown
//! section in Chinese. The output is checked with qpdf, poppler and lopdf.

use std::path::{Path, PathBuf};
use std::process::Command;

use bidkit_tender::{
    BidProject, Bidder, BuildOptions, BuildReport, LoadedTender, Stage, TenderError, TenderPackage,
};
use lopdf::Document;
use time::OffsetDateTime;

const USCC: &str = "91350100M000100Y43";
const MD: &str = "# 技术方案\n\n本项目采用装配式混凝土结构，施工组织分为三个阶段。\
第一阶段完成基础工程，第二阶段完成主体结构，第三阶段完成装饰装修与验收。\
为保证工期，我们将投入两台塔吊、三个施工班组，并实行每日例会制度。\
This paragraph mixes English words so that Latin wrapping is exercised as well.\n\n\
## 质量保证\n\n- 严格执行国家标准；\n- 每道工序三检制度。\n\n";

fn tool(name: &str) -> bool {
    Command::new(name).arg("--version").output().is_ok()
        || Command::new(name).arg("-v").output().is_ok()
}

fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(cmd).args(args).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn tender(dir: &Path) -> LoadedTender {
    let mut t = TenderPackage::new_template(OffsetDateTime::now_utc());
    t.project.name = "某市第一中学教学楼建设工程".into();
    t.write_package(&dir.join("TENDER"), None).unwrap()
}

fn png_file(path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), 40, 30);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().unwrap();
    let mut data = Vec::new();
    for y in 0..30u32 {
        for x in 0..40u32 {
            data.extend_from_slice(&[
                (x * 6) as u8,
                (y * 8) as u8,
                90,
                if x < 20 { 255 } else { 128 },
            ]);
        }
    }
    w.write_image_data(&data).unwrap();
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan.jpg")
}

struct Built {
    _dir: tempfile::TempDir,
    project: BidProject,
    out: PathBuf,
    report: BuildReport,
    tender: LoadedTender,
}

fn build_sample() -> Built {
    let dir = tempfile::tempdir().unwrap();
    let tender = tender(dir.path());
    let mut project = BidProject::init(
        &tender,
        &dir.path().join("BID"),
        Bidder {
            name: "某某建设集团有限公司".into(),
            uscc: USCC.into(),
        },
    )
    .unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let pdf = src.join("营业执照及资质证书.pdf");
    let mut spec = bidkit_pdf::generate::DocumentSpec::a4(3);
    spec.rotations = vec![(2, 90)];
    bidkit_pdf::generate::write_document(&spec, &pdf).unwrap();
    let before = std::fs::read(&pdf).unwrap();
    let png = src.join("业绩证明.png");
    png_file(&png);
    let md = src.join("技术方案.md");
    std::fs::write(&md, MD.repeat(12)).unwrap();
    let price = src.join("报价一览表.pdf");
    bidkit_pdf::generate::write_document(&bidkit_pdf::generate::DocumentSpec::a4(1), &price)
        .unwrap();

    project.add("business", &pdf).unwrap();
    project.add("business", &fixture()).unwrap();
    project.add("business", &png).unwrap();
    project.add("technical", &md).unwrap();
    project.add("price", &price).unwrap();
    project.set_quoted_price(Some("9876543.21")).unwrap();

    let out = dir.path().join("out").join("投标文件.pdf");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut stages = Vec::new();
    let report = project
        .build(&out, &BuildOptions::default(), &mut |p| {
            stages.push(p.stage)
        })
        .unwrap();
    if let Some(keep) = std::env::var_os("BIDKIT_TEST_KEEP") {
        std::fs::copy(&out, Path::new(&keep).join("built.pdf")).unwrap();
    }
    assert_eq!(stages.first(), Some(&Stage::Planning));
    assert_eq!(stages.last(), Some(&Stage::Done));
    assert_eq!(
        std::fs::read(&pdf).unwrap(),
        before,
        "inputs are never modified"
    );
    // Reopened from disk, the project remembers its files and the build.
    let reopened = BidProject::open(project.dir()).unwrap();
    assert_eq!(
        reopened.manifest().built.as_ref().unwrap().sha256,
        report.sha256
    );
    assert_eq!(
        reopened.manifest().quoted_price.as_deref(),
        Some("9876543.21")
    );
    Built {
        _dir: dir,
        project,
        out,
        report,
        tender,
    }
}

#[test]
fn built_pdf_structure() {
    let b = build_sample();
    let r = &b.report;
    // cover + TOC + business (3 + 1 + 1) + technical (n) + price (1)
    assert_eq!(r.toc_pages, 1);
    assert_eq!(r.sections.len(), 3);
    assert_eq!(r.sections[0].title, "商务标");
    assert_eq!(r.sections[0].first_page, 3);
    assert_eq!(r.sections[0].pages, 5);
    assert_eq!(r.sections[1].first_page, 8);
    let md_pages = r.sections[1].pages;
    assert!(
        md_pages >= 2,
        "the long Markdown section spans pages: {md_pages}"
    );
    assert_eq!(r.sections[2].first_page, 8 + md_pages);
    assert_eq!(r.pages, 2 + 5 + md_pages + 1);
    assert!(r.font_family.contains("CJK"), "{}", r.font_family);

    // Bookmarks read back with lopdf: titles and target pages match the sections.
    let doc = Document::load(&b.out).unwrap();
    let pages = doc.get_pages(); // page number (1-based) -> object id
    assert_eq!(pages.len() as u32, r.pages);
    let page_no = |id: lopdf::ObjectId| pages.iter().find(|(_, v)| **v == id).map(|(k, _)| *k);
    let catalog = doc.catalog().unwrap();
    let outlines = doc
        .get_dictionary(catalog.get(b"Outlines").unwrap().as_reference().unwrap())
        .unwrap();
    let mut next = outlines
        .get(b"First")
        .ok()
        .and_then(|o| o.as_reference().ok());
    let mut found = Vec::new();
    while let Some(id) = next {
        let item = doc.get_dictionary(id).unwrap();
        let title = lopdf::decode_text_string(item.get(b"Title").unwrap()).unwrap();
        let dest = item.get(b"Dest").unwrap().as_array().unwrap();
        let target = page_no(dest[0].as_reference().unwrap()).unwrap();
        found.push((title, target));
        next = item.get(b"Next").ok().and_then(|o| o.as_reference().ok());
    }
    let expected: Vec<(String, u32)> = r
        .sections
        .iter()
        .map(|s| (s.title.clone(), s.first_page))
        .collect();
    assert_eq!(found, expected);

    // The rotated source page kept its /Rotate; the imported pages carry their content.
    let p4 = doc.get_dictionary(pages[&4]).unwrap();
    assert_eq!(p4.get(b"Rotate").unwrap().as_i64().unwrap(), 90);
    // The image pages draw an image XObject; the PNG has a soft mask (half transparent).
    let xobjects = |n: u32| {
        let page = doc.get_dictionary(pages[&n]).unwrap();
        let res = page.get(b"Resources").unwrap().as_dict().unwrap();
        let xo = res.get(b"XObject").unwrap().as_dict().unwrap();
        doc.get_object(xo.get(b"Im0").unwrap().as_reference().unwrap())
            .unwrap()
            .as_stream()
            .unwrap()
            .clone()
    };
    let jpeg = xobjects(6);
    assert_eq!(
        jpeg.dict.get(b"Filter").unwrap().as_name().unwrap(),
        b"DCTDecode"
    );
    assert_eq!(
        jpeg.content,
        std::fs::read(fixture()).unwrap(),
        "JPEG embedded as is"
    );
    let png = xobjects(7);
    assert_eq!(
        png.dict.get(b"Filter").unwrap().as_name().unwrap(),
        b"FlateDecode"
    );
    assert!(png.dict.get(b"SMask").is_ok());
    assert_eq!(png.dict.get(b"Width").unwrap().as_i64().unwrap(), 40);
}

#[test]
fn built_pdf_passes_external_tools() {
    let b = build_sample();
    let out = b.out.to_str().unwrap();
    let r = &b.report;

    if tool("qpdf") {
        let (ok, text) = run("qpdf", &["--check", out]);
        assert!(ok, "qpdf --check failed: {text}");
        assert!(
            text.contains("No syntax or stream encoding errors"),
            "{text}"
        );
    } else {
        eprintln!("qpdf not installed: skipped");
    }

    if tool("pdfinfo") {
        let (ok, text) = run("pdfinfo", &[out]);
        assert!(ok, "{text}");
        let pages: u32 = text
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(
            pages, r.pages,
            "pdfinfo page count = cover + TOC + sections"
        );
    }

    if tool("pdffonts") {
        let (ok, text) = run("pdffonts", &[out]);
        assert!(ok, "{text}");
        let line = text
            .lines()
            .find(|l| l.contains("CJK"))
            .unwrap_or_else(|| panic!("no CJK font listed: {text}"));
        // name type encoding emb sub uni object ID
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert!(
            cols[0].len() > 7 && cols[0].as_bytes()[6] == b'+',
            "subset tag: {line}"
        );
        assert!(line.contains("Identity-H"), "{line}");
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            &["yes", "yes", "yes"],
            "emb sub uni: {line}"
        );
    }

    if tool("pdftotext") {
        let (ok, all) = run("pdftotext", &["-enc", "UTF-8", out, "-"]);
        assert!(ok, "{all}");
        let (_, cover) = run(
            "pdftotext",
            &["-enc", "UTF-8", "-f", "1", "-l", "1", out, "-"],
        );
        for want in [
            "投标文件",
            "某市第一中学教学楼建设工程",
            "某某建设集团有限公司",
            "投标人（盖章）",
            USCC,
        ] {
            assert!(cover.contains(want), "cover lacks {want:?}: {cover}");
        }
        let (_, toc) = run(
            "pdftotext",
            &["-enc", "UTF-8", "-f", "2", "-l", "2", out, "-"],
        );
        assert!(toc.contains("目录"), "{toc}");
        for s in &r.sections {
            assert!(toc.contains(&s.title), "TOC lacks {}: {toc}", s.title);
            // The entry's page number is on the TOC line of the section.
            let line = toc.lines().find(|l| l.contains(&s.title)).unwrap();
            assert!(
                line.trim_end().ends_with(&s.first_page.to_string()),
                "TOC line {line:?} should end with page {}",
                s.first_page
            );
        }
        assert!(toc.contains("营业执照及资质证书"), "{toc}");
        // Footers: every page but the cover.
        assert!(!cover.contains("第 1 页"), "no footer on the cover");
        for n in 2..=r.pages {
            let (_, page) = run(
                "pdftotext",
                &[
                    "-enc",
                    "UTF-8",
                    "-f",
                    &n.to_string(),
                    "-l",
                    &n.to_string(),
                    out,
                    "-",
                ],
            );
            let want = format!("第 {n} 页 / 共 {} 页", r.pages);
            assert!(page.contains(&want), "page {n} lacks {want:?}: {page}");
        }
        // The Markdown section's text, wrapped but whole.
        let md_first = r.sections[1].first_page.to_string();
        let (_, tech) = run(
            "pdftotext",
            &["-enc", "UTF-8", "-f", &md_first, "-l", &md_first, out, "-"],
        );
        assert!(
            tech.contains("技术方案") && tech.contains("质量保证"),
            "{tech}"
        );
        assert!(tech.contains("装配式混凝土结构"), "{tech}");
        assert!(all.contains("Latin wrapping"), "Latin words stay whole");
    }
}

#[test]
fn file_that_is_not_what_it_claims() {
    let dir = tempfile::tempdir().unwrap();
    let tender = tender(dir.path());
    let mut project = BidProject::init(
        &tender,
        &dir.path().join("BID"),
        Bidder {
            name: "某某公司".into(),
            uscc: USCC.into(),
        },
    )
    .unwrap();
    let fake = dir.path().join("资质.pdf");
    std::fs::copy(fixture(), &fake).unwrap();
    let err = project.add("business", &fake).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, TenderError::BadFile { .. }), "{text}");
    assert!(
        text.contains("资质.pdf")
            && text.contains("named as a PDF document (.pdf) but its content is a JPEG image"),
        "{text}"
    );

    let docx = dir.path().join("方案.docx");
    std::fs::write(
        &docx,
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xff\xfe",
    )
    .unwrap();
    let text = project.add("technical", &docx).unwrap_err().to_string();
    assert!(text.contains("方案.docx") && text.contains("ZIP"), "{text}");

    let txt = dir.path().join("说明.txt");
    std::fs::write(&txt, [0xE4u8, 0xB8, 0xAD, 0xFF, 0x41]).unwrap();
    let text = project.add("technical", &txt).unwrap_err().to_string();
    assert!(
        text.contains("说明.txt") && text.contains("invalid UTF-8 at byte 3"),
        "{text}"
    );

    // A real JPEG in a PDF-only section: right type, but not accepted there.
    let text = project.add("price", &fixture()).unwrap_err().to_string();
    assert!(text.contains("accepts only pdf"), "{text}");

    // A truncated PDF.
    let cut = dir.path().join("cut.pdf");
    std::fs::write(&cut, b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog").unwrap();
    let text = project.add("price", &cut).unwrap_err().to_string();
    assert!(text.contains("cut.pdf"), "{text}");

    // Unknown section.
    let text = project.add("nope", &fixture()).unwrap_err().to_string();
    assert!(
        text.contains("no section \"nope\"") && text.contains("business (商务标)"),
        "{text}"
    );

    // Nothing was added by the failures; building has nothing to do.
    assert!(project.manifest().sections.is_empty());
    let out = dir.path().join("x.pdf");
    let err = project
        .build(&out, &BuildOptions::default(), &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("nothing to build"), "{err}");
    assert!(!out.exists());
}

#[test]
fn changed_file_is_refused_at_build_and_bad_bidder_at_init() {
    let dir = tempfile::tempdir().unwrap();
    let tender = tender(dir.path());
    let bad = BidProject::init(
        &tender,
        &dir.path().join("X"),
        Bidder {
            name: "".into(),
            uscc: "91350100M000100Y44".into(),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        bad.contains("name is empty") && bad.contains("unified social credit code"),
        "{bad}"
    );

    let mut project = BidProject::init(
        &tender,
        &dir.path().join("BID"),
        Bidder {
            name: "某某公司".into(),
            uscc: USCC.into(),
        },
    )
    .unwrap();
    let md = dir.path().join("a.md");
    std::fs::write(&md, "# 标题\n正文").unwrap();
    let added = project.add("technical", &md).unwrap();
    std::fs::write(project.file_path(&added), "# 改了\n").unwrap();
    let out = dir.path().join("x.pdf");
    let err = project
        .build(&out, &BuildOptions::default(), &mut |_| {})
        .unwrap_err();
    assert!(
        err.to_string().contains("changed since it was added"),
        "{err}"
    );
    assert!(!out.exists(), "no partial output");
    let err = project.set_quoted_price(Some("99999999.00")).unwrap_err();
    assert!(err.to_string().contains("above the ceiling"), "{err}");
}

#[test]
fn checklist_on_unsealed_build() {
    let b = build_sample();
    let opts = bidkit_pdf::verify::VerifyOptions::integrity_only();
    let mut list = bidkit_tender::check(&b.tender, Some(&b.project), Some(&b.out), &opts).unwrap();
    assert!(!list.passed());
    use bidkit_tender::{ItemKind, ItemStatus};
    let status = |kind: ItemKind, id: &str| {
        list.items
            .iter()
            .find(|i| i.kind == kind && i.id == id)
            .unwrap_or_else(|| panic!("no item {id}: {list:#?}"))
            .status
    };
    assert_eq!(status(ItemKind::Section, "business"), ItemStatus::Ok);
    assert_eq!(status(ItemKind::Section, "technical"), ItemStatus::Ok);
    assert_eq!(
        status(ItemKind::Section, "qualification"),
        ItemStatus::Ok,
        "optional"
    );
    assert_eq!(status(ItemKind::QuotedPrice, "price"), ItemStatus::Ok);
    assert_eq!(status(ItemKind::Document, "build"), ItemStatus::Ok);
    assert_eq!(status(ItemKind::Document, "integrity"), ItemStatus::Missing);
    assert_eq!(
        status(ItemKind::Seal, "official-signature-line"),
        ItemStatus::Missing
    );
    assert_eq!(
        status(ItemKind::Seal, "legal-representative-last-page"),
        ItemStatus::Missing
    );
    assert_eq!(
        status(ItemKind::Seal, "official-seam"),
        ItemStatus::Ok,
        "optional seal"
    );
    let missing: Vec<&str> = list.failures().map(|i| i.id.as_str()).collect();
    assert_eq!(
        missing,
        [
            "integrity",
            "official-signature-line",
            "legal-representative-last-page"
        ]
    );
    assert!(!list.may_proceed());

    // Without the PDF: seals missing for want of a document; a project without the price.
    let l2 = bidkit_tender::check(&b.tender, Some(&b.project), None, &opts).unwrap();
    assert!(!l2.passed());
    // PDF only: sections from its bookmarks.
    let l3 = bidkit_tender::check(&b.tender, None, Some(&b.out), &opts).unwrap();
    assert!(
        l3.items
            .iter()
            .any(|i| i.id == "technical" && i.status == ItemStatus::Ok)
    );

    // The override is recorded in the JSON and read back.
    assert!(list.set_override("", "x").is_err());
    list.set_override("张三（项目经理）", "盖章在开标前现场补办")
        .unwrap();
    assert!(list.may_proceed() && !list.passed());
    let path = b.project.dir().join("checklist.json");
    list.save(&path).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["override"]["who"], "张三（项目经理）");
    assert!(json["override"]["at"].is_string());
    let back = bidkit_tender::Checklist::load(&path).unwrap();
    assert_eq!(back, list);
    assert!(list.to_text().contains("[MISSING]"));
}

#[test]
fn checklist_missing_required_section() {
    let dir = tempfile::tempdir().unwrap();
    let tender = tender(dir.path());
    let mut project = BidProject::init(
        &tender,
        &dir.path().join("BID"),
        Bidder {
            name: "某某公司".into(),
            uscc: USCC.into(),
        },
    )
    .unwrap();
    let md = dir.path().join("a.md");
    std::fs::write(&md, "# 标题\n正文").unwrap();
    project.add("technical", &md).unwrap();
    let opts = bidkit_pdf::verify::VerifyOptions::integrity_only();
    let list = bidkit_tender::check(&tender, Some(&project), None, &opts).unwrap();
    let failing: Vec<&str> = list.failures().map(|i| i.id.as_str()).collect();
    assert!(
        failing.contains(&"business") && failing.contains(&"price"),
        "{failing:?}"
    );
    assert!(!failing.contains(&"technical"));
    assert!(!failing.contains(&"qualification"));
}
