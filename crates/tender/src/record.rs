//! The opening record (开标记录) as a PDF: the tender, when it was opened, and for every
//! bid its bidder, state (opened, withdrawn, not opened), quoted price, submission time,
//! bid-file hash and the verification of its seals and signatures — laid out in the
//! builder's embedded subset CJK font, with `第 N 页 / 共 M 页` footers, written
//! through a temporary file renamed into place. Its text is real text (a `ToUnicode`
//! map), so `pdftotext` reads it back.
//!
//! What to put in it is the caller's (the opening use case); this module only lays
//! out and writes.

use std::path::{Path, PathBuf};

use lopdf::{Dictionary, Object, Stream};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TenderError};
use crate::font::{PdfFont, compress};
use crate::layout::{MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, PAGE_H, PAGE_W, wrap};
use crate::util;
use crate::writer::PdfWriter;

const FONT: &str = "BKF";
const TITLE_SIZE: f32 = 18.0;
const HEAD_SIZE: f32 = 12.0;
const BODY_SIZE: f32 = 10.0;
const SMALL_SIZE: f32 = 8.5;
const FOOTER_SIZE: f32 = 9.0;

/// What the opening record says.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OpeningRecord {
    /// The tender (招标编号).
    pub tender_id: String,
    /// The project's name, when known.
    pub project_name: Option<String>,
    /// When the bids were opened, as displayed.
    pub opened_at: String,
    /// Who opened them (the tender agent), when known.
    pub agent: Option<String>,
    /// Every bid, in the order listed.
    pub bids: Vec<RecordBid>,
    /// Free lines at the end (e.g. problems found).
    pub notes: Vec<String>,
}

/// One bid in the opening record.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RecordBid {
    /// The bidder's name.
    pub bidder_name: String,
    /// The bidder's unified social credit code.
    pub bidder_uscc: String,
    /// What happened to it, as displayed (e.g. `已开启 / opened`, `已撤标 / withdrawn`).
    pub state: String,
    /// The quoted price (投标报价), when known.
    pub quoted_price: Option<String>,
    /// When it was submitted, as displayed.
    pub submitted_at: Option<String>,
    /// The bid file's hash (hex).
    pub file_hash: Option<String>,
    /// The verification of its seals and signatures, one line each.
    pub verification: Vec<String>,
}

/// The written record.
#[derive(Clone, Debug, Serialize)]
pub struct RecordReport {
    /// The PDF.
    pub output: PathBuf,
    /// Pages.
    pub pages: u32,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the file (hex).
    pub sha256: String,
    /// The font family embedded (subset).
    pub font_family: String,
}

/// One line placed on a page.
struct Line {
    x: f32,
    y: f32,
    size: f32,
    text: String,
}

/// Lay out and write `record` to `out` (replaced only when complete), in the CJK font
/// `font` (default: [`crate::FONT_ENV_VAR`], then well-known system fonts).
pub fn write_opening_record(
    record: &OpeningRecord,
    out: &Path,
    font: Option<&Path>,
) -> Result<RecordReport> {
    let mut font = PdfFont::discover(font)?;
    let pages = lay_out(record, &mut font);
    let total = u32::try_from(pages.len()).unwrap_or(u32::MAX);

    let tmp = util::temp_beside(out)?;
    let file = tmp
        .reopen()
        .map_err(|e| TenderError::io(out, "opening the temporary file", e))?;
    let mut w = PdfWriter::new(file, out)?;
    let catalog = w.alloc();
    let pages_id = w.alloc();
    let font_ids = [w.alloc(), w.alloc(), w.alloc(), w.alloc(), w.alloc()];
    let info = w.alloc();
    let page_ids: Vec<u32> = pages.iter().map(|_| w.alloc()).collect();

    for (n, (lines, pid)) in pages.iter().zip(&page_ids).enumerate() {
        let mut ops = String::from("0 g\n");
        for l in lines {
            let hex = font.encode(&l.text);
            ops.push_str(&format!(
                "BT /{FONT} {} Tf 1 0 0 1 {:.2} {:.2} Tm {hex} Tj ET\n",
                l.size, l.x, l.y
            ));
        }
        let footer = format!("第 {} 页 / 共 {total} 页", n + 1);
        let fw = font.text_width(&footer, FOOTER_SIZE);
        let hex = font.encode(&footer);
        ops.push_str(&format!(
            "BT /{FONT} {FOOTER_SIZE} Tf 1 0 0 1 {:.2} 30 Tm {hex} Tj ET\n",
            (PAGE_W - fw) / 2.0
        ));
        let contents = w.alloc();
        w.write(
            contents,
            &Object::Stream(compress(Stream::new(Dictionary::new(), ops.into_bytes()))),
        )?;
        let mut fonts = Dictionary::new();
        fonts.set(FONT, Object::Reference((font_ids[0], 0)));
        let mut res = Dictionary::new();
        res.set("Font", Object::Dictionary(fonts));
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference((pages_id, 0)));
        page.set(
            "MediaBox",
            Object::Array(vec![
                Object::Integer(0),
                Object::Integer(0),
                Object::Real(PAGE_W),
                Object::Real(PAGE_H),
            ]),
        );
        page.set("Resources", Object::Dictionary(res));
        page.set("Contents", Object::Reference((contents, 0)));
        w.write(*pid, &Object::Dictionary(page))?;
    }
    for (id, obj) in font.objects(font_ids)? {
        w.write(id, &obj)?;
    }
    let mut tree = Dictionary::new();
    tree.set("Type", Object::Name(b"Pages".to_vec()));
    tree.set(
        "Kids",
        Object::Array(
            page_ids
                .iter()
                .map(|p| Object::Reference((*p, 0)))
                .collect(),
        ),
    );
    tree.set("Count", Object::Integer(i64::from(total)));
    w.write(pages_id, &Object::Dictionary(tree))?;
    let mut cat = Dictionary::new();
    cat.set("Type", Object::Name(b"Catalog".to_vec()));
    cat.set("Pages", Object::Reference((pages_id, 0)));
    cat.set("Lang", Object::string_literal("zh-CN"));
    w.write(catalog, &Object::Dictionary(cat))?;
    let mut inf = Dictionary::new();
    inf.set(
        "Title",
        lopdf::text_string(&format!("开标记录 {}", record.tender_id)),
    );
    inf.set("Subject", lopdf::text_string(&record.tender_id));
    inf.set("Creator", Object::string_literal("Bidkit"));
    inf.set(
        "Producer",
        Object::string_literal(format!("Bidkit {}", env!("CARGO_PKG_VERSION"))),
    );
    w.write(info, &Object::Dictionary(inf))?;
    let seed = util::sha256_hex(
        format!(
            "opening-record|{}|{}|{}",
            record.tender_id,
            record.opened_at,
            record.bids.len()
        )
        .as_bytes(),
    );
    let id_bytes = hex::decode(seed.get(..32).unwrap_or_default()).unwrap_or_default();
    drop(w.finish(catalog, info, &id_bytes)?);
    util::persist(tmp, out)?;
    let (sha256, size) = util::sha256_file(out, None)?;
    Ok(RecordReport {
        output: out.to_path_buf(),
        pages: total,
        size,
        sha256,
        font_family: font.family().to_owned(),
    })
}

/// Place the record's lines on A4 pages (at least one).
fn lay_out(record: &OpeningRecord, font: &mut PdfFont) -> Vec<Vec<Line>> {
    let mut p = Pager::new();
    let width = PAGE_W - 2.0 * MARGIN_X;

    let title = "开标记录";
    let tw = font.text_width(title, TITLE_SIZE);
    p.line((PAGE_W - tw) / 2.0, TITLE_SIZE, title.to_owned());
    p.gap(4.0);
    let sub = "Opening record";
    let sw = font.text_width(sub, BODY_SIZE);
    p.line((PAGE_W - sw) / 2.0, BODY_SIZE, sub.to_owned());
    p.gap(10.0);

    let mut head = vec![format!("招标编号 / tender: {}", record.tender_id)];
    if let Some(name) = &record.project_name {
        head.push(format!("项目名称 / project: {name}"));
    }
    head.push(format!("开标时间 / opened: {}", record.opened_at));
    if let Some(agent) = &record.agent {
        head.push(format!("招标代理 / agent: {agent}"));
    }
    head.push(format!("投标文件 / bids: {}", record.bids.len()));
    for h in head {
        p.wrapped(font, MARGIN_X, HEAD_SIZE, width, &h);
    }
    p.gap(8.0);

    for (i, b) in record.bids.iter().enumerate() {
        // Keep a bid's first lines together.
        p.need(BODY_SIZE * 1.6 * 4.0);
        p.wrapped(
            font,
            MARGIN_X,
            HEAD_SIZE,
            width,
            &format!("{}. {}（{}）", i + 1, b.bidder_name, b.bidder_uscc),
        );
        let indent = MARGIN_X + 16.0;
        let inner = width - 16.0;
        let mut lines = vec![
            format!("状态 / state: {}", b.state),
            format!(
                "投标报价 / quoted price: {}",
                b.quoted_price.as_deref().unwrap_or("—")
            ),
            format!(
                "递交时间 / submitted: {}",
                b.submitted_at.as_deref().unwrap_or("—")
            ),
        ];
        lines.push(format!(
            "文件哈希 / bid-file hash: {}",
            b.file_hash.as_deref().unwrap_or("—")
        ));
        for l in &lines {
            let size = if l.starts_with("文件哈希") {
                SMALL_SIZE
            } else {
                BODY_SIZE
            };
            p.wrapped(font, indent, size, inner, l);
        }
        if b.verification.is_empty() {
            p.wrapped(font, indent, BODY_SIZE, inner, "签章验证 / verification: —");
        } else {
            for (k, v) in b.verification.iter().enumerate() {
                let text = if k == 0 {
                    format!("签章验证 / verification: {v}")
                } else {
                    format!("  {v}")
                };
                p.wrapped(font, indent, BODY_SIZE, inner, &text);
            }
        }
        p.gap(8.0);
    }

    if !record.notes.is_empty() {
        p.wrapped(font, MARGIN_X, HEAD_SIZE, width, "说明 / notes");
        for n in &record.notes {
            p.wrapped(font, MARGIN_X + 16.0, BODY_SIZE, width - 16.0, n);
        }
        p.gap(8.0);
    }
    p.need(BODY_SIZE * 1.6 * 3.0);
    p.wrapped(
        font,
        MARGIN_X,
        BODY_SIZE,
        width,
        "投标人确认 / bidders' confirmation: ________________",
    );
    p.wrapped(
        font,
        MARGIN_X,
        BODY_SIZE,
        width,
        "招标代理机构（盖章） / tender agent (seal): ________________",
    );
    p.finish()
}

/// Lines flowing down A4 pages between the margins.
struct Pager {
    pages: Vec<Vec<Line>>,
    page: Vec<Line>,
    y: f32,
}

impl Pager {
    fn new() -> Pager {
        Pager {
            pages: Vec::new(),
            page: Vec::new(),
            y: PAGE_H - MARGIN_TOP,
        }
    }

    fn break_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.page));
        self.y = PAGE_H - MARGIN_TOP;
    }

    /// Start a new page unless `height` points are left on this one.
    fn need(&mut self, height: f32) {
        if self.y - height < MARGIN_BOTTOM && !self.page.is_empty() {
            self.break_page();
        }
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    fn line(&mut self, x: f32, size: f32, text: String) {
        let lead = size * 1.6;
        if self.y - lead < MARGIN_BOTTOM {
            self.break_page();
        }
        self.y -= lead;
        if !text.trim().is_empty() {
            self.page.push(Line {
                x,
                y: self.y + (lead - size) / 2.0,
                size,
                text,
            });
        }
    }

    fn wrapped(&mut self, font: &mut PdfFont, x: f32, size: f32, width: f32, text: &str) {
        for l in wrap(font, text, size, width, false) {
            self.line(x, size, l);
        }
    }

    fn finish(mut self) -> Vec<Vec<Line>> {
        if !self.page.is_empty() || self.pages.is_empty() {
            self.pages.push(self.page);
        }
        self.pages
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn record(bids: usize) -> OpeningRecord {
        OpeningRecord {
            tender_id: "ZB-2026-001".into(),
            project_name: Some("某某办公楼改造工程".into()),
            opened_at: "2026-12-03T10:00:00Z".into(),
            agent: None,
            bids: (0..bids)
                .map(|i| RecordBid {
                    bidder_name: format!("北京某某建设有限公司{i}"),
                    bidder_uscc: "91110000MA01ABCD2Q".into(),
                    state: "已开启 / opened".into(),
                    quoted_price: (i % 2 == 0).then(|| "9876543.21 CNY".into()),
                    submitted_at: Some("2026-12-01T09:00:00Z".into()),
                    file_hash: Some("ab".repeat(32)),
                    verification: vec!["VALID — 1 of 1 valid".into()],
                })
                .collect(),
            notes: vec!["无 / none".into()],
        }
    }

    #[test]
    fn a_long_record_flows_onto_more_pages_and_a_short_one_fits_one() {
        let Ok(mut font) = PdfFont::discover(None) else {
            return; // No CJK font on this machine: the CLI test covers the output.
        };
        assert_eq!(lay_out(&record(2), &mut font).len(), 1);
        let pages = lay_out(&record(40), &mut font);
        assert!(pages.len() > 3, "{}", pages.len());
        for page in &pages {
            for l in page {
                assert!(
                    l.y >= MARGIN_BOTTOM - 1.0 && l.y <= PAGE_H - MARGIN_TOP,
                    "{}",
                    l.y
                );
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("record.pdf");
        let report = write_opening_record(&record(3), &out, None).unwrap();
        assert_eq!(report.pages, 1);
        let doc = lopdf::Document::load(&out).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        // Only the record is left in the directory (no temporary file).
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
