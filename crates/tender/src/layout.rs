//! Plain layout of text and Markdown on A4 pages: headings bigger, paragraphs wrapped to
//! the page width (Chinese breaks between any two characters, Latin between words, closing
//! punctuation never starts a line), new pages as needed.

use crate::font::PdfFont;

/// A4 width, points.
pub(crate) const PAGE_W: f32 = 595.276;
/// A4 height, points.
pub(crate) const PAGE_H: f32 = 841.89;
/// Left and right margins, points (25 mm).
pub(crate) const MARGIN_X: f32 = 70.87;
/// Top margin, points.
pub(crate) const MARGIN_TOP: f32 = 72.0;
/// Bottom margin (the footer sits below it), points.
pub(crate) const MARGIN_BOTTOM: f32 = 72.0;
/// Body text size, points.
pub(crate) const BODY_SIZE: f32 = 11.0;

/// One line placed on a page.
#[derive(Debug, Clone)]
pub(crate) struct PlacedLine {
    pub x: f32,
    /// Baseline, from the page's bottom.
    pub y: f32,
    pub size: f32,
    pub text: String,
}

/// A laid-out page.
pub(crate) type TextPage = Vec<PlacedLine>;

struct Block {
    size: f32,
    /// Space above the block (skipped at the top of a page).
    before: f32,
    after: f32,
    indent: f32,
    /// Hanging indent of continuation lines (list items).
    hang: f32,
    text: String,
    /// Preformatted: wrap, but keep spaces.
    pre: bool,
}

/// Characters that must not start a line (避头).
const NO_START: &str = "，。、；：？！）》」』】〕〉”’,.;:?!)]}%…—·～";

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FFF | 0x3000..=0x303F | 0x3040..=0x30FF | 0x3100..=0x31FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Clean a line: tabs to spaces, other control characters dropped, a BOM dropped.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '\u{feff}')
        .flat_map(|c| {
            let v: Vec<char> = if c == '\t' {
                vec![' '; 4]
            } else if c.is_control() {
                vec![]
            } else {
                vec![c]
            };
            v
        })
        .collect()
}

/// Strip inline Markdown emphasis and code markers.
fn inline_md(s: &str) -> String {
    s.replace("**", "").replace("__", "").replace('`', "")
}

fn blocks_markdown(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para = String::new();
    let mut in_code = false;
    let flush = |para: &mut String, out: &mut Vec<Block>| {
        if !para.trim().is_empty() {
            out.push(Block {
                size: BODY_SIZE,
                before: 4.0,
                after: 4.0,
                indent: 0.0,
                hang: 0.0,
                text: inline_md(para.trim()),
                pre: false,
            });
        }
        para.clear();
    };
    for raw in text.lines() {
        let line = clean(raw);
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            flush(&mut para, &mut out);
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push(Block {
                size: 10.0,
                before: 0.0,
                after: 0.0,
                indent: 12.0,
                hang: 0.0,
                text: line.clone(),
                pre: true,
            });
            continue;
        }
        if trimmed.is_empty() {
            flush(&mut para, &mut out);
            continue;
        }
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            flush(&mut para, &mut out);
            let size = match hashes {
                1 => 20.0,
                2 => 16.0,
                3 => 14.0,
                _ => 12.0,
            };
            out.push(Block {
                size,
                before: size * 0.8,
                after: size * 0.4,
                indent: 0.0,
                hang: 0.0,
                text: inline_md(trimmed[hashes..].trim().trim_end_matches('#').trim()),
                pre: false,
            });
            continue;
        }
        if trimmed.chars().all(|c| c == '-' || c == '*' || c == '_') && trimmed.len() >= 3 {
            flush(&mut para, &mut out);
            continue;
        }
        let bullet = ["- ", "* ", "+ "].iter().find(|b| trimmed.starts_with(**b));
        let numbered = {
            let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
            digits > 0
                && (trimmed[digits..].starts_with(". ") || trimmed[digits..].starts_with("、"))
        };
        if bullet.is_some() || numbered || trimmed.starts_with('|') || trimmed.starts_with('>') {
            flush(&mut para, &mut out);
            let text = match bullet {
                Some(b) => format!("• {}", &trimmed[b.len()..]),
                None => trimmed.trim_start_matches('>').trim_start().to_owned(),
            };
            out.push(Block {
                size: BODY_SIZE,
                before: 1.0,
                after: 1.0,
                indent: 12.0,
                hang: if bullet.is_some() { 9.0 } else { 0.0 },
                text: inline_md(&text),
                pre: trimmed.starts_with('|'),
            });
            continue;
        }
        // Paragraph text: join lines, with a space only between Latin words.
        if let (Some(last), Some(first)) = (para.chars().last(), trimmed.chars().next())
            && !(is_cjk(last) || is_cjk(first))
        {
            para.push(' ');
        }
        para.push_str(trimmed);
    }
    flush(&mut para, &mut out);
    out
}

fn blocks_plain(text: &str) -> Vec<Block> {
    text.lines()
        .map(|raw| Block {
            size: BODY_SIZE,
            before: 0.0,
            after: 0.0,
            indent: 0.0,
            hang: 0.0,
            text: clean(raw).trim_end().to_owned(),
            pre: true,
        })
        .collect()
}

/// Wrap `text` to `width` points at `size`.
pub(crate) fn wrap(
    font: &mut PdfFont,
    text: &str,
    size: f32,
    width: f32,
    pre: bool,
) -> Vec<String> {
    // Units: a CJK character, a space, or a run of other characters (a word).
    let mut units: Vec<String> = Vec::new();
    for c in text.chars() {
        let word = !is_cjk(c) && c != ' ' && !NO_START.contains(c);
        match units.last_mut() {
            Some(last)
                if word
                    && last
                        .chars()
                        .last()
                        .is_some_and(|l| !is_cjk(l) && l != ' ' && !NO_START.contains(l)) =>
            {
                last.push(c)
            }
            _ => units.push(c.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0.0f32;
    for unit in units {
        let uw = font.text_width(&unit, size);
        if w + uw <= width || line.is_empty() && uw <= width {
            line.push_str(&unit);
            w += uw;
            continue;
        }
        if unit == " " {
            lines.push(std::mem::take(&mut line));
            w = 0.0;
            continue;
        }
        if unit.chars().count() == 1
            && unit.chars().all(|c| NO_START.contains(c))
            && !line.is_empty()
        {
            // Hang closing punctuation rather than start a line with it.
            line.push_str(&unit);
            lines.push(std::mem::take(&mut line));
            w = 0.0;
            continue;
        }
        if uw > width {
            // A word wider than the line: break it anywhere.
            for c in unit.chars() {
                let cw = font.width(c, size);
                if w + cw > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    w = 0.0;
                }
                line.push(c);
                w += cw;
            }
            continue;
        }
        lines.push(std::mem::take(&mut line));
        line.push_str(&unit);
        w = uw;
    }
    lines.push(line);
    if !pre {
        for l in &mut lines {
            *l = l.trim_end().to_owned();
        }
        // A line starting with a space after a break loses it.
        for l in lines.iter_mut().skip(1) {
            *l = l.trim_start().to_owned();
        }
    }
    lines
}

/// Lay out a text or Markdown file into pages (at least one).
pub(crate) fn layout(font: &mut PdfFont, text: &str, markdown: bool) -> Vec<TextPage> {
    let blocks = if markdown {
        blocks_markdown(text)
    } else {
        blocks_plain(text)
    };
    let top = PAGE_H - MARGIN_TOP;
    let bottom = MARGIN_BOTTOM;
    let full = PAGE_W - 2.0 * MARGIN_X;
    let mut pages: Vec<TextPage> = Vec::new();
    let mut page: TextPage = Vec::new();
    let mut y = top;
    for b in blocks {
        if !page.is_empty() {
            y -= b.before;
        }
        let lead = b.size * 1.6;
        let width = full - b.indent;
        let lines = wrap(font, &b.text, b.size, width - b.hang, b.pre);
        for (i, text) in lines.into_iter().enumerate() {
            if y - lead < bottom {
                pages.push(std::mem::take(&mut page));
                y = top;
            }
            let x = MARGIN_X + b.indent + if i > 0 { b.hang } else { 0.0 };
            y -= lead;
            if !text.trim().is_empty() {
                page.push(PlacedLine {
                    x,
                    y: y + (lead - b.size) / 2.0,
                    size: b.size,
                    text,
                });
            }
        }
        y -= b.after;
    }
    if !page.is_empty() || pages.is_empty() {
        pages.push(page);
    }
    pages
}
