//! The builder: one PDF from a bid project — cover, table of contents, every section's
//! files (PDF pages imported, images one per page, text laid out), bookmarks, and page
//! numbers in the footer — written object by object to a temporary file that is renamed
//! into place when complete.
//!
//! Two passes: the first opens each file once to count its pages (text is laid out then),
//! so the table of contents knows where each section starts; the second writes. Source
//! PDFs are read through the lazy reader one at a time, and each copied object is written
//! as soon as it is read, so memory does not grow with the size of the inputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bidkit_pdf::{PdfFile, Rect};
use lopdf::{Dictionary, Object, ObjectId, Stream};
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{Result, TenderError};
use crate::font::{PdfFont, compress};
use crate::image::JpegInfo;
use crate::layout::{self, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, PAGE_H, PAGE_W, TextPage};
use crate::package::FileType;
use crate::project::{BidProject, BuiltRecord};
use crate::util;
use crate::writer::PdfWriter;

/// Largest text or Markdown section file, bytes.
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// The font resource name used on every page.
const FONT: &str = "BKF";
/// Table-of-contents entries on the first TOC page (under the title) and on later ones.
const TOC_FIRST: usize = 22;
const TOC_NEXT: usize = 26;
const TOC_LEAD: f32 = 26.0;
const FOOTER_SIZE: f32 = 9.0;

/// How to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The CJK font file (default: [`crate::font::FONT_ENV_VAR`], then the well-known
    /// locations).
    pub font: Option<PathBuf>,
    /// The date on the cover (default: today in Beijing time).
    pub date: Option<time::Date>,
}

/// Where a build is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Opening each file to count its pages.
    Planning,
    /// Writing pages.
    Writing,
    /// Subsetting and embedding the font, writing bookmarks.
    Finishing,
    /// The file is in place.
    Done,
}

/// A progress report.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// The stage.
    pub stage: Stage,
    /// Pages written so far.
    pub pages_done: u32,
    /// Pages the document will have (0 while planning).
    pub pages_total: u32,
    /// The section file being read, if any (relative to the project).
    pub file: Option<String>,
}

/// One file as placed in the built document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuiltFile {
    /// The name it was added under.
    pub name: String,
    /// Its first page in the built document, 1-based.
    pub first_page: u32,
    /// How many pages it takes.
    pub pages: u32,
}

/// One section as placed in the built document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuiltSection {
    /// Section id.
    pub id: String,
    /// Section title (the bookmark's and the TOC entry's text).
    pub title: String,
    /// Its first page, 1-based (what the TOC and the bookmark point at).
    pub first_page: u32,
    /// How many pages it takes.
    pub pages: u32,
    /// Its files in order.
    pub files: Vec<BuiltFile>,
}

/// What a build produced.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    /// The PDF written.
    pub output: PathBuf,
    /// Total pages (cover + table of contents + sections).
    pub pages: u32,
    /// Pages of the table of contents (it starts on page 2).
    pub toc_pages: u32,
    /// Each section that has files, in the tender's order.
    pub sections: Vec<BuiltSection>,
    /// The font family embedded (subset).
    pub font_family: String,
    /// The font file it came from.
    pub font_file: PathBuf,
    /// SHA-256 of the output.
    pub sha256: String,
    /// Size of the output, bytes.
    pub size: u64,
}

enum Source {
    Pdf(u32),
    Jpeg(JpegInfo),
    Png,
    Text(Vec<TextPage>),
}

struct PlannedFile {
    name: String,
    path: PathBuf,
    rel: String,
    source: Source,
    first_page: u32,
    pages: u32,
}

struct PlannedSection {
    id: String,
    title: String,
    first_page: u32,
    pages: u32,
    files: Vec<PlannedFile>,
}

impl BidProject {
    /// Build the bid document to `out` (through a temporary file beside it, renamed when
    /// complete; nothing is left behind on error). Every section file is checked against
    /// what was added (hash) and the section's accepted types first. Records the build
    /// (hash, pages) in `bid.json` so the checklist can tell the sealed PDF is this build.
    pub fn build(
        &mut self,
        out: &Path,
        options: &BuildOptions,
        on_progress: &mut dyn FnMut(&Progress),
    ) -> Result<BuildReport> {
        let mut font = match &options.font {
            Some(p) => PdfFont::load(p)?,
            None => PdfFont::discover(None)?,
        };
        let mut sections = self.plan(&mut font, on_progress)?;
        if sections.is_empty() {
            return Err(TenderError::project(
                &self.manifest_path(),
                "nothing to build: no section has files yet (add some with `bidkit bid add`)",
            ));
        }
        let entries: usize = sections.iter().map(|s| 1 + s.files.len()).sum();
        let toc_pages = if entries <= TOC_FIRST {
            1
        } else {
            1 + (entries - TOC_FIRST).div_ceil(TOC_NEXT)
        } as u32;
        let mut next = 2 + toc_pages;
        for s in &mut sections {
            s.first_page = next;
            for f in &mut s.files {
                f.first_page = next;
                next += f.pages;
            }
            s.pages = next - s.first_page;
        }
        let total = next - 1;

        let tmp = util::temp_beside(out)?;
        let file = tmp
            .reopen()
            .map_err(|e| TenderError::io(out, "opening the temporary file", e))?;
        let mut w = PdfWriter::new(file, out)?;
        let catalog = w.alloc();
        let pages_id = w.alloc();
        let font_ids = [w.alloc(), w.alloc(), w.alloc(), w.alloc(), w.alloc()];
        let info = w.alloc();
        let outlines = w.alloc();
        let page_ids: Vec<u32> = (0..total).map(|_| w.alloc()).collect();
        let mut ctx = Ctx {
            w,
            font: &mut font,
            pages_id,
            font_id: font_ids[0],
            page_ids: &page_ids,
            total,
            done: 0,
        };
        let report = |ctx: &Ctx, file: Option<String>, cb: &mut dyn FnMut(&Progress)| {
            cb(&Progress {
                stage: Stage::Writing,
                pages_done: ctx.done,
                pages_total: total,
                file,
            })
        };

        // Cover and table of contents.
        let date = options.date.unwrap_or_else(|| {
            let beijing = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
            OffsetDateTime::now_utc().to_offset(beijing).date()
        });
        let cover = self.cover(ctx.font, date);
        ctx.generated_page(cover, None, Vec::new(), false)?;
        report(&ctx, None, on_progress);
        let mut toc: Vec<(u32, String, u32)> = Vec::new();
        for (i, s) in sections.iter().enumerate() {
            toc.push((0, format!("{}. {}", i + 1, s.title), s.first_page));
            for f in &s.files {
                toc.push((1, f.name.clone(), f.first_page));
            }
        }
        let mut rest = toc.as_slice();
        for p in 0..toc_pages {
            let take = if p == 0 { TOC_FIRST } else { TOC_NEXT }.min(rest.len());
            let (now, later) = rest.split_at(take);
            rest = later;
            let (ops, annots) = toc_page(ctx.font, p == 0, now, &page_ids);
            ctx.generated_page(ops, None, annots, true)?;
            report(&ctx, None, on_progress);
        }

        // Sections.
        for s in &sections {
            for f in &s.files {
                match &f.source {
                    Source::Pdf(_) => {
                        let pdf = PdfFile::open(&f.path, bidkit_pdf::Limits::DEFAULT)
                            .map_err(|e| TenderError::pdf(&f.path, e))?;
                        let pages = pdf.pages().map_err(|e| TenderError::pdf(&f.path, e))?;
                        let mut imp = Importer {
                            file: &pdf,
                            path: &f.path,
                            map: HashMap::new(),
                            queue: Vec::new(),
                        };
                        for page in &pages {
                            ctx.imported_page(&mut imp, page)?;
                            report(&ctx, Some(f.rel.clone()), on_progress);
                        }
                    }
                    Source::Jpeg(info) => {
                        let img = crate::image::jpeg_xobject(&f.path, info)?;
                        ctx.image_page(img, None, info.width, info.height)?;
                        report(&ctx, Some(f.rel.clone()), on_progress);
                    }
                    Source::Png => {
                        let (img, mask, iw, ih) = crate::image::png_xobjects(&f.path)?;
                        ctx.image_page(img, mask, iw, ih)?;
                        report(&ctx, Some(f.rel.clone()), on_progress);
                    }
                    Source::Text(pages) => {
                        for page in pages {
                            let mut ops = String::new();
                            for line in page {
                                text_op(&mut ops, ctx.font, line.x, line.y, line.size, &line.text);
                            }
                            ctx.generated_page(ops, None, Vec::new(), true)?;
                            report(&ctx, Some(f.rel.clone()), on_progress);
                        }
                    }
                }
            }
        }
        on_progress(&Progress {
            stage: Stage::Finishing,
            pages_done: ctx.done,
            pages_total: total,
            file: None,
        });
        let Ctx { mut w, .. } = ctx;

        // Bookmarks: one per section, one child per file.
        let mut items: Vec<(u32, Vec<u32>)> = Vec::new();
        for s in &sections {
            let id = w.alloc();
            let kids = s.files.iter().map(|_| w.alloc()).collect();
            items.push((id, kids));
        }
        let dest = |page: u32| {
            let pid = page_ids
                .get(page as usize - 1)
                .copied()
                .unwrap_or(page_ids[0]);
            Object::Array(vec![
                Object::Reference((pid, 0)),
                Object::Name(b"Fit".to_vec()),
            ])
        };
        for (i, (s, (id, kids))) in sections.iter().zip(&items).enumerate() {
            let mut d = Dictionary::new();
            d.set("Title", lopdf::text_string(&s.title));
            d.set("Parent", Object::Reference((outlines, 0)));
            d.set("Dest", dest(s.first_page));
            if i > 0 {
                d.set("Prev", Object::Reference((items[i - 1].0, 0)));
            }
            if let Some(next) = items.get(i + 1) {
                d.set("Next", Object::Reference((next.0, 0)));
            }
            if let (Some(first), Some(last)) = (kids.first(), kids.last()) {
                d.set("First", Object::Reference((*first, 0)));
                d.set("Last", Object::Reference((*last, 0)));
                d.set("Count", Object::Integer(-(kids.len() as i64)));
            }
            w.write(*id, &Object::Dictionary(d))?;
            for (j, (f, kid)) in s.files.iter().zip(kids).enumerate() {
                let mut d = Dictionary::new();
                d.set("Title", lopdf::text_string(&f.name));
                d.set("Parent", Object::Reference((*id, 0)));
                d.set("Dest", dest(f.first_page));
                if j > 0 {
                    d.set("Prev", Object::Reference((kids[j - 1], 0)));
                }
                if let Some(next) = kids.get(j + 1) {
                    d.set("Next", Object::Reference((*next, 0)));
                }
                w.write(*kid, &Object::Dictionary(d))?;
            }
        }
        let mut o = Dictionary::new();
        o.set("Type", Object::Name(b"Outlines".to_vec()));
        if let (Some(first), Some(last)) = (items.first(), items.last()) {
            o.set("First", Object::Reference((first.0, 0)));
            o.set("Last", Object::Reference((last.0, 0)));
            o.set("Count", Object::Integer(items.len() as i64));
        }
        w.write(outlines, &Object::Dictionary(o))?;

        // Font, page tree, catalog, info.
        for (id, obj) in font.objects(font_ids)? {
            w.write(id, &obj)?;
        }
        let mut pages = Dictionary::new();
        pages.set("Type", Object::Name(b"Pages".to_vec()));
        pages.set(
            "Kids",
            Object::Array(
                page_ids
                    .iter()
                    .map(|p| Object::Reference((*p, 0)))
                    .collect(),
            ),
        );
        pages.set("Count", Object::Integer(i64::from(total)));
        w.write(pages_id, &Object::Dictionary(pages))?;
        let mut cat = Dictionary::new();
        cat.set("Type", Object::Name(b"Catalog".to_vec()));
        cat.set("Pages", Object::Reference((pages_id, 0)));
        cat.set("Outlines", Object::Reference((outlines, 0)));
        cat.set("PageMode", Object::Name(b"UseOutlines".to_vec()));
        cat.set("Lang", Object::string_literal("zh-CN"));
        w.write(catalog, &Object::Dictionary(cat))?;
        let pkg = &self.tender().package;
        let now = OffsetDateTime::now_utc();
        let mut inf = Dictionary::new();
        inf.set(
            "Title",
            lopdf::text_string(&format!("{} 投标文件", pkg.project.name)),
        );
        inf.set("Author", lopdf::text_string(&self.manifest().bidder.name));
        inf.set(
            "Subject",
            lopdf::text_string(&format!("{} {}", pkg.tender_id, pkg.project.number)),
        );
        inf.set("Creator", Object::string_literal("Bidkit"));
        inf.set(
            "Producer",
            Object::string_literal(format!("Bidkit {}", env!("CARGO_PKG_VERSION"))),
        );
        inf.set(
            "CreationDate",
            Object::string_literal(format!(
                "D:{:04}{:02}{:02}{:02}{:02}{:02}Z",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            )),
        );
        w.write(info, &Object::Dictionary(inf))?;
        let id_seed = util::sha256_hex(
            format!(
                "{}|{}|{}|{}",
                self.manifest().tender_id,
                self.manifest().bidder.uscc,
                now.unix_timestamp_nanos(),
                total
            )
            .as_bytes(),
        );
        let id_bytes = hex::decode(&id_seed[..32]).unwrap_or_default();
        let file = w.finish(catalog, info, &id_bytes)?;
        drop(file);
        util::persist(tmp, out)?;
        let (sha256, size) = util::sha256_file(out, None)?;
        self.record_build(BuiltRecord {
            file: out.display().to_string(),
            sha256: sha256.clone(),
            size,
            pages: total,
            at: now,
        })?;
        on_progress(&Progress {
            stage: Stage::Done,
            pages_done: total,
            pages_total: total,
            file: None,
        });
        Ok(BuildReport {
            output: out.to_path_buf(),
            pages: total,
            toc_pages,
            sections: sections
                .iter()
                .map(|s| BuiltSection {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    first_page: s.first_page,
                    pages: s.pages,
                    files: s
                        .files
                        .iter()
                        .map(|f| BuiltFile {
                            name: f.name.clone(),
                            first_page: f.first_page,
                            pages: f.pages,
                        })
                        .collect(),
                })
                .collect(),
            font_family: font.family().to_owned(),
            font_file: font.path().to_path_buf(),
            sha256,
            size,
        })
    }

    fn plan(
        &self,
        font: &mut PdfFont,
        on_progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<PlannedSection>> {
        let mut out = Vec::new();
        for section in &self.tender().package.sections {
            let Some(files) = self.manifest().sections.get(&section.id) else {
                continue;
            };
            if files.is_empty() {
                continue;
            }
            let mut planned = Vec::new();
            for f in files {
                on_progress(&Progress {
                    stage: Stage::Planning,
                    pages_done: 0,
                    pages_total: 0,
                    file: Some(f.file.clone()),
                });
                let path = self.verify_file(f)?;
                let t = crate::project::check_content(&path, section)?;
                let source = match t {
                    FileType::Pdf => {
                        let pdf = PdfFile::open(&path, bidkit_pdf::Limits::DEFAULT)
                            .map_err(|e| TenderError::pdf(&path, e))?;
                        let n = pdf.pages().map_err(|e| TenderError::pdf(&path, e))?.len();
                        Source::Pdf(n as u32)
                    }
                    FileType::Jpeg => Source::Jpeg(crate::image::jpeg_info(&path)?),
                    FileType::Png => {
                        crate::image::png_size(&path)?;
                        Source::Png
                    }
                    FileType::Txt | FileType::Md => {
                        let bytes = util::read(&path)?;
                        let text = String::from_utf8(bytes).map_err(|e| {
                            TenderError::bad_file(&path, format!("not UTF-8 text: {e}"))
                        })?;
                        Source::Text(layout::layout(font, &text, t == FileType::Md))
                    }
                };
                let pages = match &source {
                    Source::Pdf(n) => *n,
                    Source::Jpeg(_) | Source::Png => 1,
                    Source::Text(p) => p.len() as u32,
                };
                let name = Path::new(&f.original_name)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| f.original_name.clone());
                planned.push(PlannedFile {
                    name,
                    path,
                    rel: f.file.clone(),
                    source,
                    first_page: 0,
                    pages,
                });
            }
            out.push(PlannedSection {
                id: section.id.clone(),
                title: section.title.clone(),
                first_page: 0,
                pages: 0,
                files: planned,
            });
        }
        Ok(out)
    }

    fn cover(&self, font: &mut PdfFont, date: time::Date) -> String {
        let pkg = &self.tender().package;
        let m = self.manifest();
        let mut ops = String::new();
        centered(&mut ops, font, 640.0, 36.0, "投标文件");
        let mut y = 540.0;
        for line in layout::wrap(font, &pkg.project.name, 22.0, 420.0, false) {
            centered(&mut ops, font, y, 22.0, &line);
            y -= 32.0;
        }
        y -= 10.0;
        centered(
            &mut ops,
            font,
            y,
            13.0,
            &format!("项目编号：{}", pkg.project.number),
        );
        centered(
            &mut ops,
            font,
            y - 24.0,
            13.0,
            &format!("招标编号：{}", pkg.tender_id),
        );
        let x = 120.0;
        let mut y = 300.0;
        let mut line = |ops: &mut String, font: &mut PdfFont, text: &str| {
            for (i, l) in layout::wrap(font, text, 14.0, PAGE_W - x - MARGIN_X, false)
                .iter()
                .enumerate()
            {
                text_op(ops, font, x + if i > 0 { 28.0 } else { 0.0 }, y, 14.0, l);
                y -= 24.0;
            }
            y -= 12.0;
        };
        line(
            &mut ops,
            font,
            &format!("投标人（盖章）：{}", m.bidder.name),
        );
        line(
            &mut ops,
            font,
            &format!("统一社会信用代码：{}", m.bidder.uscc),
        );
        line(&mut ops, font, "法定代表人或其委托代理人（签字）：");
        line(
            &mut ops,
            font,
            &format!(
                "日期：{}年{}月{}日",
                date.year(),
                u8::from(date.month()),
                date.day()
            ),
        );
        ops
    }
}

/// Append a line of text in the page font.
fn text_op(ops: &mut String, font: &mut PdfFont, x: f32, y: f32, size: f32, text: &str) {
    let hex = font.encode(text);
    ops.push_str(&format!(
        "BT /{FONT} {size} Tf 1 0 0 1 {x:.2} {y:.2} Tm {hex} Tj ET\n"
    ));
}

fn centered(ops: &mut String, font: &mut PdfFont, y: f32, size: f32, text: &str) {
    let w = font.text_width(text, size);
    text_op(ops, font, (PAGE_W - w) / 2.0, y, size, text);
}

/// One page of the table of contents: (content, link annotations).
fn toc_page(
    font: &mut PdfFont,
    first: bool,
    entries: &[(u32, String, u32)],
    page_ids: &[u32],
) -> (String, Vec<Object>) {
    let mut ops = String::new();
    let mut annots = Vec::new();
    let mut y = PAGE_H - MARGIN_TOP - 10.0;
    if first {
        centered(&mut ops, font, y - 12.0, 22.0, "目录");
        y -= 60.0;
    }
    let right = PAGE_W - MARGIN_X;
    for (level, title, page) in entries {
        let (size, x) = if *level == 0 {
            (13.0, MARGIN_X)
        } else {
            (10.5, MARGIN_X + 24.0)
        };
        let num = page.to_string();
        let num_w = font.text_width(&num, size);
        let dot_w = font.width('.', size).max(1.0);
        let max_title = right - x - num_w - 6.0 * dot_w;
        let mut t = String::new();
        let mut tw = 0.0;
        for c in title.chars() {
            let cw = font.width(c, size);
            if tw + cw > max_title {
                t.push('…');
                tw += font.width('…', size);
                break;
            }
            t.push(c);
            tw += cw;
        }
        let gap = right - num_w - (x + tw);
        let dots = ((gap - 2.0 * dot_w) / dot_w).max(0.0).floor() as usize;
        let line = format!("{t} {}", ".".repeat(dots.saturating_sub(1)));
        text_op(&mut ops, font, x, y, size, &line);
        text_op(&mut ops, font, right - num_w, y, size, &num);
        if let Some(pid) = page_ids.get((*page as usize).saturating_sub(1)) {
            let mut a = Dictionary::new();
            a.set("Type", Object::Name(b"Annot".to_vec()));
            a.set("Subtype", Object::Name(b"Link".to_vec()));
            a.set(
                "Rect",
                Object::Array(
                    [x, y - 4.0, right, y + size]
                        .iter()
                        .map(|v| Object::Real(*v))
                        .collect(),
                ),
            );
            a.set(
                "Border",
                Object::Array(vec![
                    Object::Integer(0),
                    Object::Integer(0),
                    Object::Integer(0),
                ]),
            );
            a.set(
                "Dest",
                Object::Array(vec![
                    Object::Reference((*pid, 0)),
                    Object::Name(b"Fit".to_vec()),
                ]),
            );
            annots.push(Object::Dictionary(a));
        }
        y -= TOC_LEAD;
    }
    (ops, annots)
}

struct Ctx<'a> {
    w: PdfWriter,
    font: &'a mut PdfFont,
    pages_id: u32,
    font_id: u32,
    page_ids: &'a [u32],
    total: u32,
    done: u32,
}

impl Ctx<'_> {
    fn next_page_id(&self) -> Result<u32> {
        self.page_ids
            .get(self.done as usize)
            .copied()
            .ok_or_else(|| {
                TenderError::project(
                    Path::new("build"),
                    "internal: more pages than planned (a source file changed while building?)",
                )
            })
    }

    fn font_resources(&self) -> Dictionary {
        let mut f = Dictionary::new();
        f.set(FONT, Object::Reference((self.font_id, 0)));
        f
    }

    /// The footer (`第 N 页 / 共 M 页`) of the page being written, centred at the bottom
    /// of `box_` as the reader sees it (honouring `/Rotate`).
    fn footer(&mut self, box_: Rect, rotate: i32) -> String {
        let n = self.done + 1;
        let text = format!("第 {n} 页 / 共 {} 页", self.total);
        let w = self.font.text_width(&text, FOOTER_SIZE);
        let hex = self.font.encode(&text);
        let (x0, y0, x1, y1) = (
            box_.x0 as f32,
            box_.y0 as f32,
            box_.x1 as f32,
            box_.y1 as f32,
        );
        let d = 30.0;
        let (a, b, c, dd, e, f) = match rotate.rem_euclid(360) {
            90 => (0.0, 1.0, -1.0, 0.0, x1 - d, (y0 + y1) / 2.0 - w / 2.0),
            180 => (-1.0, 0.0, 0.0, -1.0, (x0 + x1) / 2.0 + w / 2.0, y1 - d),
            270 => (0.0, -1.0, 1.0, 0.0, x0 + d, (y0 + y1) / 2.0 + w / 2.0),
            _ => (1.0, 0.0, 0.0, 1.0, (x0 + x1) / 2.0 - w / 2.0, y0 + d),
        };
        format!(
            "q 0 g BT /{FONT} {FOOTER_SIZE} Tf {a} {b} {c} {dd} {e:.2} {f:.2} Tm {hex} Tj ET Q\n"
        )
    }

    fn content_stream(&mut self, ops: Vec<u8>) -> Result<u32> {
        let id = self.w.alloc();
        let s = compress(Stream::new(Dictionary::new(), ops));
        self.w.write(id, &Object::Stream(s))?;
        Ok(id)
    }

    /// A generated A4 page: `ops`, then the footer unless it is the cover.
    fn generated_page(
        &mut self,
        mut ops: String,
        xobjects: Option<Dictionary>,
        annots: Vec<Object>,
        footer: bool,
    ) -> Result<()> {
        let pid = self.next_page_id()?;
        if footer {
            let a4 = Rect::new(0.0, 0.0, f64::from(PAGE_W), f64::from(PAGE_H));
            ops.push_str(&self.footer(a4, 0));
        }
        let contents = self.content_stream(ops.into_bytes())?;
        let mut res = Dictionary::new();
        res.set("Font", Object::Dictionary(self.font_resources()));
        if let Some(x) = xobjects {
            res.set("XObject", Object::Dictionary(x));
        }
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference((self.pages_id, 0)));
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
        if !annots.is_empty() {
            page.set("Annots", Object::Array(annots));
        }
        self.w.write(pid, &Object::Dictionary(page))?;
        self.done += 1;
        Ok(())
    }

    /// An image alone on an A4 page: natural size at 96 dpi, shrunk to fit the margins,
    /// centred.
    fn image_page(&mut self, image: Stream, mask: Option<Stream>, iw: u32, ih: u32) -> Result<()> {
        let mut image = image;
        if let Some(mask) = mask {
            let mid = self.w.alloc();
            self.w.write(mid, &Object::Stream(mask))?;
            image.dict.set("SMask", Object::Reference((mid, 0)));
        }
        let id = self.w.alloc();
        self.w.write(id, &Object::Stream(image))?;
        let box_w = PAGE_W - 2.0 * MARGIN_X;
        let box_h = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM;
        let (nw, nh) = (iw as f32 * 0.75, ih as f32 * 0.75);
        let scale = (box_w / nw).min(box_h / nh).min(1.0);
        let (w, h) = (nw * scale, nh * scale);
        let x = (PAGE_W - w) / 2.0;
        let y = MARGIN_BOTTOM + (box_h - h) / 2.0;
        let ops = format!("q {w:.3} 0 0 {h:.3} {x:.3} {y:.3} cm /Im0 Do Q\n");
        let mut xo = Dictionary::new();
        xo.set("Im0", Object::Reference((id, 0)));
        self.generated_page(ops, Some(xo), Vec::new(), true)
    }

    /// A page of a source PDF, its objects copied, wrapped in `q … Q`, with the footer.
    fn imported_page(&mut self, imp: &mut Importer<'_>, page: &bidkit_pdf::PageInfo) -> Result<()> {
        let pid = self.next_page_id()?;
        let resources = imp
            .file
            .page_resources(page)
            .map_err(|e| TenderError::pdf(imp.path, e))?
            .unwrap_or_default();
        let mut res = match imp.copy(&mut self.w, &Object::Dictionary(resources)) {
            Object::Dictionary(d) => d,
            _ => Dictionary::new(),
        };
        // The font dictionary, inline, with our font under a name the page does not use.
        let mut fonts = match res.get(b"Font") {
            Ok(Object::Dictionary(d)) => d.clone(),
            Ok(Object::Reference(id)) => imp.inline(&mut self.w, *id)?,
            _ => Dictionary::new(),
        };
        let mut name = FONT.to_owned();
        let mut k = 0;
        while fonts.has(name.as_bytes()) {
            k += 1;
            name = format!("{FONT}{k}");
        }
        fonts.set(name.as_bytes(), Object::Reference((self.font_id, 0)));
        res.set("Font", Object::Dictionary(fonts));

        let mut contents = vec![Object::Reference((
            self.content_stream(b"q\n".to_vec())?,
            0,
        ))];
        match page.dict.get(b"Contents") {
            Ok(Object::Array(items)) => {
                for item in items {
                    contents.push(imp.copy(&mut self.w, item));
                }
            }
            Ok(other @ Object::Reference(_)) => contents.push(imp.copy(&mut self.w, other)),
            _ => {}
        }
        let footer = self
            .footer(page.crop_box, page.rotate)
            .replace(&format!("/{FONT} "), &format!("/{name} "));
        contents.push(Object::Reference((
            self.content_stream(format!("\nQ\n{footer}").into_bytes())?,
            0,
        )));
        imp.drain(&mut self.w)?;

        let rect = |r: &Rect| {
            Object::Array(
                [r.x0, r.y0, r.x1, r.y1]
                    .iter()
                    .map(|v| Object::Real(*v as f32))
                    .collect(),
            )
        };
        let mut d = Dictionary::new();
        d.set("Type", Object::Name(b"Page".to_vec()));
        d.set("Parent", Object::Reference((self.pages_id, 0)));
        d.set("MediaBox", rect(&page.media_box));
        if page.crop_box != page.media_box {
            d.set("CropBox", rect(&page.crop_box));
        }
        if page.rotate.rem_euclid(360) != 0 {
            d.set(
                "Rotate",
                Object::Integer(i64::from(page.rotate.rem_euclid(360))),
            );
        }
        d.set("Resources", Object::Dictionary(res));
        d.set("Contents", Object::Array(contents));
        for key in [&b"Group"[..], b"UserUnit"] {
            if let Ok(v) = page.dict.get(key) {
                let v = imp.copy(&mut self.w, v);
                d.set(key, v);
            }
        }
        imp.drain(&mut self.w)?;
        self.w.write(pid, &Object::Dictionary(d))?;
        self.done += 1;
        Ok(())
    }
}

/// Copies objects of one source PDF into the output, each once.
struct Importer<'a> {
    file: &'a PdfFile,
    path: &'a Path,
    map: HashMap<ObjectId, u32>,
    queue: Vec<(ObjectId, u32)>,
}

impl Importer<'_> {
    /// `obj` with its references renumbered into the output (referenced objects are
    /// queued for [`Self::drain`]). `/Parent` entries are dropped: nothing copied may pull
    /// in the source's page tree.
    fn copy(&mut self, w: &mut PdfWriter, obj: &Object) -> Object {
        match obj {
            Object::Reference(id) => {
                let new = match self.map.get(id) {
                    Some(n) => *n,
                    None => {
                        let n = w.alloc();
                        self.map.insert(*id, n);
                        self.queue.push((*id, n));
                        n
                    }
                };
                Object::Reference((new, 0))
            }
            Object::Array(items) => Object::Array(items.iter().map(|i| self.copy(w, i)).collect()),
            Object::Dictionary(d) => Object::Dictionary(self.copy_dict(w, d)),
            Object::Stream(s) => {
                let mut dict = self.copy_dict(w, &s.dict);
                dict.set("Length", Object::Integer(s.content.len() as i64));
                Object::Stream(Stream::new(dict, s.content.clone()).with_compression(false))
            }
            other => other.clone(),
        }
    }

    fn copy_dict(&mut self, w: &mut PdfWriter, d: &Dictionary) -> Dictionary {
        let mut out = Dictionary::new();
        for (k, v) in d.iter() {
            if k.as_slice() == b"Parent" {
                continue;
            }
            let v = self.copy(w, v);
            out.set(k.clone(), v);
        }
        out
    }

    /// The dictionary object `id`, copied inline (not as a separate object).
    fn inline(&mut self, w: &mut PdfWriter, id: ObjectId) -> Result<Dictionary> {
        match self.fetch(id)? {
            Object::Dictionary(d) => Ok(self.copy_dict(w, &d)),
            _ => Ok(Dictionary::new()),
        }
    }

    fn fetch(&self, id: ObjectId) -> Result<Object> {
        let latest = self.file.revisions().len().saturating_sub(1);
        Ok(self
            .file
            .object_at(latest, id)
            .map_err(|e| TenderError::pdf(self.path, e))?
            .unwrap_or(Object::Null))
    }

    /// Write every queued object (and what they refer to).
    fn drain(&mut self, w: &mut PdfWriter) -> Result<()> {
        while let Some((old, new)) = self.queue.pop() {
            let obj = self.fetch(old)?;
            let is_page = match &obj {
                Object::Dictionary(d) => is_page_node(d),
                Object::Stream(s) => is_page_node(&s.dict),
                _ => false,
            };
            let copied = if is_page {
                Object::Null
            } else {
                self.copy(w, &obj)
            };
            w.write(new, &copied)?;
        }
        Ok(())
    }
}

fn is_page_node(d: &Dictionary) -> bool {
    matches!(d.get(b"Type"), Ok(Object::Name(n)) if n.as_slice() == b"Page" || n.as_slice() == b"Pages")
}
