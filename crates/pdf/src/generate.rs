//! Synthetic documents for tests, demos and benchmarks.
//!
//! [`write_document`] writes a PDF **streaming**: object by object straight to the file,
//! with its own cross-reference table, so a 200 MB document costs no more memory than a
//! 2 page one. The output passes `qpdf --check`; its Chinese text is extractable by pdfium
//! and poppler and renders in poppler (with `poppler-data` installed).
//!
//! Fonts are not embedded: Latin text uses Helvetica (WinAnsi, with explicit widths),
//! everything else the standard CJK font `STSong-Light` (Type0, `/UniGB-UCS2-H`, a
//! `CIDFontType0` descendant of `Adobe-GB1-5`, every glyph 1000 units wide) with a
//! `/ToUnicode` CMap, so extraction is exact. Because every advance width is known, the
//! generator reports exactly where it drew each keyword line ([`DrawnText`]).
//!
//! Optional padding makes large files: an incompressible (pseudo-random, unfiltered)
//! image XObject per page, listed in the page's resources but never painted.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{PdfError, Rect, Result};

/// A4 in points (210 × 297 mm).
pub const A4: (f64, f64) = (595.276, 841.89);

/// Ascent of the CJK font, in thousandths of the font size (its `/FontDescriptor`).
pub const CJK_ASCENT: f64 = 880.0;
/// Descent of the CJK font, in thousandths of the font size (negative: below the baseline).
pub const CJK_DESCENT: f64 = -120.0;
/// Ascent of Helvetica as pdfium measures its characters' loose boxes (the metrics of its
/// built-in substitute, not the AFM's 718), thousandths of the font size.
pub const LATIN_ASCENT: f64 = 945.0;
/// Descent of Helvetica as pdfium measures it (AFM: −207), thousandths of the font size.
pub const LATIN_DESCENT: f64 = -224.0;

/// Width of one row of a padding image, bytes (the image is DeviceGray, 8 bits).
const PAD_ROW: u64 = 4096;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentSpec {
    /// Number of pages (at least 1).
    pub pages: u32,
    /// Page width and height in points (the `/MediaBox` is `[0 0 w h]`); see [`A4`].
    pub page_size: (f64, f64),
    /// Heading drawn at the top of every page, followed by the page number.
    pub title: String,
    /// Lines of filler body text (Chinese and Latin) under the heading, stopping at the
    /// bottom margin.
    pub body_lines_per_page: u32,
    /// Extra lines drawn at known positions (e.g. `投标人（盖章）` where a seal goes).
    pub keywords: Vec<KeywordLine>,
    /// Pages given a `/Rotate`: (1-based page, degrees, a multiple of 90).
    pub rotations: Vec<(u32, i32)>,
    /// Bytes of incompressible padding per page (rounded up to a multiple of 4096), to
    /// reach a target file size: 0 for none.
    pub padding_bytes_per_page: u64,
    /// Seed of the padding's pseudo-random bytes and of the document `/ID`.
    pub seed: u64,
}

impl DocumentSpec {
    /// `pages` A4 pages with a heading and 30 body lines, no keywords, no padding.
    pub fn a4(pages: u32) -> DocumentSpec {
        DocumentSpec {
            pages,
            page_size: A4,
            title: "投标文件 Bid document".into(),
            body_lines_per_page: 30,
            keywords: Vec::new(),
            rotations: Vec::new(),
            padding_bytes_per_page: 0,
            seed: 1,
        }
    }

    /// Padding per page so that the whole file is about `total_bytes` long.
    pub fn with_target_size(mut self, total_bytes: u64) -> DocumentSpec {
        let pages = u64::from(self.pages.max(1));
        // ~3 KB of text, fonts and cross-reference per page besides the padding.
        self.padding_bytes_per_page = (total_bytes / pages).saturating_sub(3000);
        self
    }
}

/// A line of text drawn at a known place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeywordLine {
    /// The page, 1-based.
    pub page: u32,
    /// Left end of the baseline, points from the page's left edge.
    pub x: f64,
    /// The baseline, points from the page's bottom edge.
    pub y: f64,
    /// Font size in points.
    pub font_size: f64,
    /// The text.
    pub text: String,
}

/// Where a [`KeywordLine`] was drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawnText {
    /// The page, 1-based.
    pub page: u32,
    /// The text's box: advance widths × each font's ascent–descent (what pdfium's loose
    /// character boxes give), user space of the unrotated page, points.
    pub rect: Rect,
    /// The text.
    pub text: String,
}

impl DrawnText {
    /// The page, 0-based (as in [`crate::text::TextHit`]).
    pub fn page_index(&self) -> usize {
        self.page.saturating_sub(1) as usize
    }
}

/// What [`write_document`] wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeneratedDocument {
    /// Number of pages.
    pub pages: u32,
    /// Page width and height, points.
    pub page_size: (f64, f64),
    /// Each keyword line, in the order of the spec.
    pub keywords: Vec<DrawnText>,
    /// Size of the file, bytes.
    pub file_size: u64,
}

/// `pages` A4 pages with `keyword` drawn once on each page listed in `keyword_pages`
/// (1-based; a page listed twice gets it twice, 80 pt apart, and so on), at the lower
/// right where a signature block would be, 12 pt.
pub fn a4_document_with_keywords(
    path: &Path,
    pages: u32,
    keyword_pages: &[u32],
    keyword: &str,
) -> Result<GeneratedDocument> {
    let mut spec = DocumentSpec::a4(pages);
    let mut seen: Vec<(u32, u32)> = Vec::new();
    for &page in keyword_pages {
        let n = match seen.iter_mut().find(|(p, _)| *p == page) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((page, 0));
                0
            }
        };
        spec.keywords.push(KeywordLine {
            page,
            x: 330.0,
            y: 200.0 - 80.0 * f64::from(n),
            font_size: 12.0,
            text: keyword.to_string(),
        });
    }
    write_document(&spec, path)
}

/// Write the document `spec` describes to `path` (through a temporary file in the same
/// directory, renamed into place when complete).
pub fn write_document(spec: &DocumentSpec, path: &Path) -> Result<GeneratedDocument> {
    validate(spec)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = crate::update::output_temp_file(dir)
        .map_err(|e| PdfError::io("creating a temporary file", e).in_file(path))?;
    let file = tmp
        .reopen()
        .map_err(|e| PdfError::io("opening the temporary file", e).in_file(path))?;
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 16, file),
        pos: 0,
        offsets: Vec::new(),
    };
    let keywords = write_all(spec, &mut w).map_err(|e| e.in_file(path))?;
    let file_size = w.pos;
    let file = w
        .out
        .into_inner()
        .map_err(|e| PdfError::io("writing", e.into_error()).in_file(path))?;
    file.sync_all()
        .map_err(|e| PdfError::io("flushing", e).in_file(path))?;
    drop(file);
    tmp.persist(path).map_err(|e| {
        PdfError::io("renaming the temporary file into place", e.error).in_file(path)
    })?;
    Ok(GeneratedDocument {
        pages: spec.pages,
        page_size: spec.page_size,
        keywords,
        file_size,
    })
}

fn invalid(option: &'static str, reason: impl Into<String>) -> PdfError {
    PdfError::InvalidOption {
        option,
        reason: reason.into(),
    }
}

fn validate(spec: &DocumentSpec) -> Result<()> {
    if spec.pages == 0 {
        return Err(invalid("pages", "a document needs at least one page"));
    }
    let (w, h) = spec.page_size;
    let ok = |v: f64| v.is_finite() && (3.0..=14_400.0).contains(&v);
    if !ok(w) || !ok(h) {
        return Err(invalid(
            "page size",
            format!("{w} × {h} pt: each side must be 3 to 14400 points"),
        ));
    }
    for k in &spec.keywords {
        if k.page == 0 || k.page > spec.pages {
            return Err(PdfError::PageOutOfRange {
                page: k.page,
                pages: spec.pages,
            });
        }
        if !(k.font_size.is_finite() && k.font_size > 0.0 && k.font_size < 10_000.0) {
            return Err(invalid("font size", format!("{} pt", k.font_size)));
        }
        if !(k.x.is_finite() && k.y.is_finite()) {
            return Err(invalid("keyword position", "not a finite number"));
        }
    }
    for &(page, deg) in &spec.rotations {
        if page == 0 || page > spec.pages {
            return Err(PdfError::PageOutOfRange {
                page,
                pages: spec.pages,
            });
        }
        if deg % 90 != 0 {
            return Err(invalid("rotation", format!("{deg}°: not a multiple of 90")));
        }
    }
    Ok(())
}

/// A file writer that knows its position and records object offsets.
struct Writer {
    out: BufWriter<File>,
    pos: u64,
    offsets: Vec<u64>,
}

impl Writer {
    fn bytes(&mut self, b: &[u8]) -> Result<()> {
        self.out
            .write_all(b)
            .map_err(|e| PdfError::io(format!("writing at byte {}", self.pos), e))?;
        self.pos += b.len() as u64;
        Ok(())
    }

    /// Start object `id` (objects are written in order 1, 2, 3, …).
    fn begin(&mut self, id: u32) -> Result<()> {
        debug_assert_eq!(self.offsets.len() + 1, id as usize);
        self.offsets.push(self.pos);
        self.bytes(format!("{id} 0 obj\n").as_bytes())
    }

    fn object(&mut self, id: u32, body: &str) -> Result<()> {
        self.begin(id)?;
        self.bytes(body.as_bytes())?;
        self.bytes(b"\nendobj\n")
    }

    fn stream(&mut self, id: u32, dict_entries: &str, data: &[u8]) -> Result<()> {
        self.begin(id)?;
        self.bytes(format!("<< {dict_entries} /Length {} >>\nstream\n", data.len()).as_bytes())?;
        self.bytes(data)?;
        self.bytes(b"\nendstream\nendobj\n")
    }
}

// Object numbers: fixed ones first, then per page.
const CATALOG: u32 = 1;
const PAGES: u32 = 2;
const FONT_LATIN: u32 = 3;
const FONT_CJK: u32 = 4;
const FONT_CID: u32 = 5;
const FONT_DESCRIPTOR: u32 = 6;
const TO_UNICODE: u32 = 7;
const INFO: u32 = 8;
const FIRST_PAGE_OBJ: u32 = 9;

fn write_all(spec: &DocumentSpec, w: &mut Writer) -> Result<Vec<DrawnText>> {
    let padded = spec.padding_bytes_per_page > 0;
    let stride: u32 = if padded { 3 } else { 2 };
    let page_obj = |i: u32| FIRST_PAGE_OBJ + stride * i;
    let too_many = || invalid("pages", "too many pages for one file");
    let size = spec
        .pages
        .checked_mul(stride)
        .and_then(|n| n.checked_add(FIRST_PAGE_OBJ))
        .ok_or_else(too_many)?;

    w.bytes(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")?;
    w.object(CATALOG, "<< /Type /Catalog /Pages 2 0 R >>")?;
    let mut kids = String::with_capacity(spec.pages as usize * 10);
    for i in 0..spec.pages {
        let _ = write!(kids, "{} 0 R ", page_obj(i));
    }
    w.object(
        PAGES,
        &format!("<< /Type /Pages /Count {} /Kids [ {kids}] >>", spec.pages),
    )?;
    let widths: Vec<String> = (32u8..=126)
        .map(|c| helvetica_width(c).to_string())
        .collect();
    w.object(
        FONT_LATIN,
        &format!(
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding \
             /FirstChar 32 /LastChar 126 /Widths [{}] >>",
            widths.join(" ")
        ),
    )?;
    w.object(
        FONT_CJK,
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H \
         /DescendantFonts [5 0 R] /ToUnicode 7 0 R >>",
    )?;
    w.object(
        FONT_CID,
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 5 >> \
         /FontDescriptor 6 0 R /DW 1000 >>",
    )?;
    w.object(
        FONT_DESCRIPTOR,
        &format!(
            "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 \
             /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent {CJK_ASCENT} \
             /Descent {CJK_DESCENT} /CapHeight 880 /StemV 93 >>"
        ),
    )?;
    w.stream(TO_UNICODE, "", to_unicode_cmap().as_bytes())?;
    w.object(
        INFO,
        &format!(
            "<< /Producer (Bidkit synthetic document generator) /Title {} >>",
            utf16_string(&spec.title)
        ),
    )?;

    let mut drawn = Vec::new();
    let (pw, ph) = spec.page_size;
    for i in 0..spec.pages {
        let page = i + 1;
        let id = page_obj(i);
        let rotate = spec
            .rotations
            .iter()
            .rev()
            .find(|(p, _)| *p == page)
            .map(|(_, d)| d.rem_euclid(360))
            .unwrap_or(0);
        let pad_entry = if padded {
            format!(" /XObject << /Pad {} 0 R >>", id + 2)
        } else {
            String::new()
        };
        w.object(
            id,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}]{} /Contents {} 0 R \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >>{pad_entry} >> >>",
                num(pw),
                num(ph),
                if rotate == 0 {
                    String::new()
                } else {
                    format!(" /Rotate {rotate}")
                },
                id + 1
            ),
        )?;
        let mut content = String::new();
        page_content(spec, page, &mut content, &mut drawn);
        w.stream(id + 1, "", content.as_bytes())?;
        if padded {
            write_padding(
                w,
                id + 2,
                spec.padding_bytes_per_page,
                spec.seed ^ u64::from(page),
            )?;
        }
    }

    // Cross-reference table and trailer.
    let xref_at = w.pos;
    let mut xref = String::with_capacity(40 + 20 * w.offsets.len());
    let _ = write!(xref, "xref\n0 {size}\n0000000000 65535 f \n");
    let offsets = std::mem::take(&mut w.offsets);
    if offsets.len() + 1 != size as usize {
        return Err(PdfError::Malformed {
            at: None,
            reason: format!(
                "generator wrote {} objects, expected {}",
                offsets.len(),
                size - 1
            ),
        });
    }
    w.bytes(xref.as_bytes())?;
    let mut chunk = String::with_capacity(20 * 1024);
    for off in offsets {
        let _ = writeln!(chunk, "{off:010} 00000 n ");
        if chunk.len() >= 20 * 1000 {
            w.bytes(chunk.as_bytes())?;
            chunk.clear();
        }
    }
    w.bytes(chunk.as_bytes())?;
    let id = format!(
        "{:016x}{:016x}",
        spec.seed,
        splitmix(spec.seed ^ u64::from(spec.pages))
    );
    w.bytes(
        format!(
            "trailer\n<< /Size {size} /Root 1 0 R /Info 8 0 R /ID [<{id}> <{id}>] >>\n\
             startxref\n{xref_at}\n%%EOF\n"
        )
        .as_bytes(),
    )?;
    w.out
        .flush()
        .map_err(|e| PdfError::io("flushing the output", e))?;
    Ok(drawn)
}

/// The filler text of line `l` of page `p`.
fn body_line(p: u32, l: u32) -> String {
    const ZH: [&str; 4] = [
        "本项目投标文件正文，内容仅用于测试。",
        "技术方案与商务条款详见附件。",
        "报价单位：人民币元；工期：九十日历天。",
        "我方承诺遵守招标文件的全部要求。",
    ];
    format!(
        "{p}.{l} {} Lorem ipsum dolor sit amet, section {p}-{l}.",
        ZH[(p as usize + l as usize) % ZH.len()]
    )
}

fn page_content(spec: &DocumentSpec, page: u32, out: &mut String, drawn: &mut Vec<DrawnText>) {
    let (_, ph) = spec.page_size;
    let margin = 56.0_f64.min(spec.page_size.0 / 8.0);
    out.push_str("0 g\n");
    let title = format!("{} — 第 {page} 页 / Page {page}", spec.title);
    let y = ph - margin - 18.0;
    draw_line(out, &title, margin, y, 16.0);
    let leading = 16.0;
    let mut y = y - 30.0;
    for l in 1..=spec.body_lines_per_page {
        if y < margin {
            break;
        }
        draw_line(out, &body_line(page, l), margin, y, 10.5);
        y -= leading;
    }
    for k in spec.keywords.iter().filter(|k| k.page == page) {
        let rect = draw_line(out, &k.text, k.x, k.y, k.font_size);
        drawn.push(DrawnText {
            page,
            rect,
            text: k.text.clone(),
        });
    }
}

/// Draw `text` with its left baseline end at (x, y): runs of ASCII in Helvetica, the
/// rest in the CJK font. Returns the text's box.
fn draw_line(out: &mut String, text: &str, x: f64, y: f64, size: f64) -> Rect {
    let mut cx = x;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut runs: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let latin = (' '..='~').contains(&c);
        // Outside the Basic Multilingual Plane: UCS-2 cannot say it.
        let c = if u32::from(c) > 0xFFFF { '?' } else { c };
        let latin = latin || c == '?';
        match runs.last_mut() {
            Some((l, s)) if *l == latin => s.push(c),
            _ => runs.push((latin, c.to_string())),
        }
    }
    out.push_str("BT\n");
    for (latin, run) in runs {
        let (font, advance, asc, desc, shown) = if latin {
            let adv: u32 = run.bytes().map(helvetica_width).sum();
            (
                "F1",
                f64::from(adv),
                LATIN_ASCENT,
                LATIN_DESCENT,
                pdf_literal(&run),
            )
        } else {
            let mut hex = String::with_capacity(run.len() * 5 + 2);
            hex.push('<');
            let mut n = 0u32;
            for c in run.chars() {
                let _ = write!(hex, "{:04X}", u32::from(c));
                n += 1;
            }
            hex.push('>');
            ("F2", 1000.0 * f64::from(n), CJK_ASCENT, CJK_DESCENT, hex)
        };
        let _ = writeln!(
            out,
            "/{font} {} Tf 1 0 0 1 {} {} Tm {shown} Tj",
            num(size),
            num(cx),
            num(y)
        );
        cx += advance * size / 1000.0;
        lo = lo.min(y + desc * size / 1000.0);
        hi = hi.max(y + asc * size / 1000.0);
    }
    out.push_str("ET\n");
    if lo > hi {
        (lo, hi) = (y, y);
    }
    Rect::new(x, lo, cx, hi)
}

/// A number as PDF writes it (at most 4 decimals, no exponent).
fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// A literal string with `(`, `)` and `\` escaped (ASCII only).
fn pdf_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('(');
    for c in s.chars() {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(')');
    out
}

/// A text string in UTF-16BE with a byte-order mark, as hex.
fn utf16_string(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for u in s.encode_utf16() {
        let _ = write!(out, "{u:04X}");
    }
    out.push('>');
    out
}

/// The `/ToUnicode` CMap of the CJK font: 2-byte codes are UCS-2, so code = Unicode.
fn to_unicode_cmap() -> String {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Bidkit-UCS2-ToUnicode def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // Ranges may only vary in the last byte; surrogates (D8–DF) are not characters.
    let highs: Vec<u32> = (0u32..=0xFF)
        .filter(|h| !(0xD8..=0xDF).contains(h))
        .collect();
    for chunk in highs.chunks(100) {
        let _ = writeln!(s, "{} beginbfrange", chunk.len());
        for h in chunk {
            let _ = writeln!(s, "<{h:02X}00> <{h:02X}FF> <{h:02X}00>");
        }
        s.push_str("endbfrange\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An unfiltered DeviceGray image of pseudo-random bytes (`bytes` rounded up to whole
/// rows), streamed out in 64 KB pieces.
fn write_padding(w: &mut Writer, id: u32, bytes: u64, seed: u64) -> Result<()> {
    let rows = bytes.div_ceil(PAD_ROW);
    let len = rows * PAD_ROW;
    w.begin(id)?;
    w.bytes(
        format!(
            "<< /Type /XObject /Subtype /Image /Width {PAD_ROW} /Height {rows} \
             /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {len} >>\nstream\n"
        )
        .as_bytes(),
    )?;
    let mut state = splitmix(seed) | 1;
    let mut buf = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let v = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        w.bytes(&buf[..n])?;
        left -= n as u64;
    }
    w.bytes(b"\nendstream\nendobj\n")
}

/// Helvetica's advance width of the WinAnsi character `c` (32–126), thousandths of an em.
fn helvetica_width(c: u8) -> u32 {
    const W: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
        278, // 32–47
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584,
        556, // 48–63
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
        778, // 64–79
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
        556, // 80–95
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
        556, // 96–111
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334,
        584, // 112–126
    ];
    c.checked_sub(32)
        .and_then(|i| W.get(usize::from(i)))
        .map_or(556, |&w| u32::from(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain() {
        assert_eq!(num(595.276), "595.276");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(-0.00001), "0");
    }

    #[test]
    fn cjk_line_box_is_em_wide() {
        let mut s = String::new();
        let r = draw_line(&mut s, "投标人（盖章）", 100.0, 200.0, 10.0);
        assert!((r.width() - 70.0).abs() < 1e-9);
        assert!((r.y0 - 198.8).abs() < 1e-9 && (r.y1 - 208.8).abs() < 1e-9);
        assert!(s.contains("<629568074EBAFF0876D67AE0FF09>"));
    }
}
