//! The CJK font of generated pages: found like the seal crate finds its font, used through
//! glyph ids, and embedded at the end as a subset (Type0 / CIDFontType0 with an OpenType
//! `/FontFile3`, Identity-H, `/ToUnicode`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lopdf::{Dictionary, Object, Stream};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use crate::error::{Result, TenderError};

/// The environment variable naming a font file to use before the well-known locations (the
/// same one the seal crate reads).
pub const FONT_ENV_VAR: &str = bidkit_seal::FONT_ENV_VAR;

/// Where CJK text fonts are installed on common systems, best first: regular weights
/// (body text), serif before sans. OpenType with CFF outlines or TrueType both work.
pub const WELL_KNOWN_FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-serif-cjk-fonts/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
];

/// A loaded CJK font face and the glyphs used so far.
pub(crate) struct PdfFont {
    data: Vec<u8>,
    index: u32,
    path: PathBuf,
    /// PostScript name (e.g. `NotoSerifCJKsc-Regular`).
    ps_name: String,
    /// Family (e.g. `Noto Serif CJK SC`).
    family: String,
    upem: f32,
    ascent: i16,
    descent: i16,
    cap_height: i16,
    bbox: [i16; 4],
    /// Original glyph id of each char, cached.
    cmap: BTreeMap<char, u16>,
    /// Advance of original glyphs, font units.
    advances: BTreeMap<u16, u16>,
    remapper: GlyphRemapper,
    /// New glyph id → the text it stands for (ToUnicode).
    unicode: BTreeMap<u16, char>,
    /// New glyph id → advance, font units.
    widths: BTreeMap<u16, u16>,
}

impl PdfFont {
    /// Find a font: `configured`, then [`FONT_ENV_VAR`], then the bundled fonts of an
    /// installed Bidkit ([`bidkit_seal::bundled_font_paths`]), then [`WELL_KNOWN_FONT_PATHS`].
    pub(crate) fn discover(configured: Option<&Path>) -> Result<PdfFont> {
        let env = std::env::var_os(FONT_ENV_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let mut tried = Vec::new();
        let candidates = configured
            .map(Path::to_path_buf)
            .into_iter()
            .chain(env)
            .chain(bidkit_seal::bundled_font_paths(&[
                "NotoSerifCJK-Regular.ttc",
                "NotoSerifCJK-Bold.ttc",
            ]))
            .chain(WELL_KNOWN_FONT_PATHS.iter().map(PathBuf::from));
        for path in candidates {
            if path.is_file() {
                return PdfFont::load(&path);
            }
            tried.push(path.display().to_string());
        }
        Err(TenderError::Font {
            path: PathBuf::from(tried.join(", ")),
            reason: format!(
                "no CJK font found; install fonts-noto-cjk or set {FONT_ENV_VAR} to a .ttc/.otf/.ttf with Chinese glyphs"
            ),
        })
    }

    /// Load a font file, choosing the Simplified Chinese face of a collection.
    pub(crate) fn load(path: &Path) -> Result<PdfFont> {
        let data = std::fs::read(path).map_err(|e| TenderError::io(path, "reading", e))?;
        let bad = |reason: String| TenderError::Font {
            path: path.to_path_buf(),
            reason,
        };
        let (index, family) = bidkit_seal::chinese_face(&data, '标').map_err(bad)?;
        let face = Face::parse(&data, index).map_err(|e| bad(e.to_string()))?;
        let ps_name = name(&face, ttf_parser::name_id::POST_SCRIPT_NAME)
            .map(|n| {
                n.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
            })
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "BidkitCJK".into());
        let upem = f32::from(face.units_per_em().max(1));
        let bb = face.global_bounding_box();
        let ascent = face.ascender();
        let descent = face.descender();
        let cap_height = face.capital_height().unwrap_or(ascent);
        let mut font = PdfFont {
            data,
            index,
            path: path.to_path_buf(),
            ps_name,
            family,
            upem,
            ascent,
            descent,
            cap_height,
            bbox: [bb.x_min, bb.y_min, bb.x_max, bb.y_max],
            cmap: BTreeMap::new(),
            advances: BTreeMap::new(),
            remapper: GlyphRemapper::new(),
            unicode: BTreeMap::new(),
            widths: BTreeMap::new(),
        };
        // .notdef keeps id 0 with its width.
        let notdef = font.advance_of(0);
        font.widths.insert(0, notdef);
        Ok(font)
    }

    /// The family name of the face in use.
    pub(crate) fn family(&self) -> &str {
        &self.family
    }

    /// The font file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn face(&self) -> Option<Face<'_>> {
        Face::parse(&self.data, self.index).ok()
    }

    fn advance_of(&mut self, gid: u16) -> u16 {
        if let Some(a) = self.advances.get(&gid) {
            return *a;
        }
        let a = self
            .face()
            .and_then(|f| f.glyph_hor_advance(GlyphId(gid)))
            .unwrap_or(self.upem as u16);
        self.advances.insert(gid, a);
        a
    }

    /// The original glyph of `ch` (`None`: the font lacks it).
    fn glyph_of(&mut self, ch: char) -> Option<u16> {
        if let Some(g) = self.cmap.get(&ch) {
            return (*g != 0).then_some(*g);
        }
        let g = self
            .face()
            .and_then(|f| f.glyph_index(ch))
            .map(|g| g.0)
            .unwrap_or(0);
        self.cmap.insert(ch, g);
        (g != 0).then_some(g)
    }

    /// The character actually drawn for `ch`: itself, or a stand-in when the font lacks it
    /// (`?`, or a space for white space).
    pub(crate) fn drawable(&mut self, ch: char) -> char {
        if self.glyph_of(ch).is_some() {
            ch
        } else if ch.is_whitespace() {
            ' '
        } else {
            '?'
        }
    }

    /// Advance width of `ch` at `size` points (a character the font lacks measures as its
    /// stand-in).
    pub(crate) fn width(&mut self, ch: char, size: f32) -> f32 {
        let ch = self.drawable(ch);
        let gid = self.glyph_of(ch).unwrap_or(0);
        f32::from(self.advance_of(gid)) * size / self.upem
    }

    /// Width of a string at `size` points.
    pub(crate) fn text_width(&mut self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.width(c, size)).sum()
    }

    /// The hex string of new glyph ids drawing `text` (`<0001000A…>`), marking the glyphs
    /// as used.
    pub(crate) fn encode(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() * 4 + 2);
        out.push('<');
        for ch in text.chars() {
            let ch = self.drawable(ch);
            let old = self.glyph_of(ch).unwrap_or(0);
            let new = self.remapper.remap(old);
            if !self.widths.contains_key(&new) {
                let adv = self.advance_of(old);
                self.widths.insert(new, adv);
            }
            self.unicode.entry(new).or_insert(ch);
            out.push_str(&format!("{new:04X}"));
        }
        out.push('>');
        out
    }

    /// The font objects, once every page is written: (Type0 font dict, descendant CID
    /// font dict, font descriptor, font file stream, ToUnicode stream), wired with the ids
    /// given (`ids` = [type0, cidfont, descriptor, fontfile, tounicode]).
    pub(crate) fn objects(&self, ids: [u32; 5]) -> Result<Vec<(u32, Object)>> {
        let bad = |reason: String| TenderError::Font {
            path: self.path.clone(),
            reason,
        };
        let subset = subsetter::subset(&self.data, self.index, &self.remapper)
            .map_err(|e| bad(format!("subsetting failed: {e}")))?;
        let cff = self
            .face()
            .map(|f| f.tables().cff.is_some())
            .unwrap_or(true);
        // Tag: six capitals from a hash of the glyph set.
        let digest = crate::util::sha256_hex(
            &self
                .remapper
                .remapped_gids()
                .flat_map(u16::to_be_bytes)
                .collect::<Vec<u8>>(),
        );
        let tag: String = digest
            .bytes()
            .take(6)
            .map(|b| char::from(b'A' + (b % 26)))
            .collect();
        let base = format!("{tag}+{}", self.ps_name);
        let scale = 1000.0 / self.upem;
        let s = |v: i16| Object::Integer((f32::from(v) * scale).round() as i64);

        let font_file = {
            let mut dict = Dictionary::new();
            if cff {
                dict.set("Subtype", Object::Name(b"OpenType".to_vec()));
            }
            Stream::new(dict, subset)
        };
        let font_file = compress(font_file);

        let mut descriptor = Dictionary::new();
        descriptor.set("Type", Object::Name(b"FontDescriptor".to_vec()));
        descriptor.set("FontName", Object::Name(base.clone().into_bytes()));
        descriptor.set("Flags", Object::Integer(4));
        descriptor.set(
            "FontBBox",
            Object::Array(self.bbox.iter().map(|v| s(*v)).collect()),
        );
        descriptor.set("ItalicAngle", Object::Integer(0));
        descriptor.set("Ascent", s(self.ascent));
        descriptor.set("Descent", s(self.descent));
        descriptor.set("CapHeight", s(self.cap_height));
        descriptor.set("StemV", Object::Integer(80));
        descriptor.set(
            if cff { "FontFile3" } else { "FontFile2" },
            Object::Reference((ids[3], 0)),
        );

        // /W: runs of consecutive glyph ids.
        let mut w: Vec<Object> = Vec::new();
        let mut run: Option<(u16, Vec<Object>)> = None;
        let mut prev: Option<u16> = None;
        for (gid, adv) in &self.widths {
            let width = Object::Integer((f32::from(*adv) * scale).round() as i64);
            match (&mut run, prev) {
                (Some((_, ws)), Some(p)) if p.checked_add(1) == Some(*gid) => ws.push(width),
                _ => {
                    if let Some((start, ws)) = run.take() {
                        w.push(Object::Integer(i64::from(start)));
                        w.push(Object::Array(ws));
                    }
                    run = Some((*gid, vec![width]));
                }
            }
            prev = Some(*gid);
        }
        if let Some((start, ws)) = run {
            w.push(Object::Integer(i64::from(start)));
            w.push(Object::Array(ws));
        }

        let mut cid = Dictionary::new();
        cid.set("Type", Object::Name(b"Font".to_vec()));
        cid.set(
            "Subtype",
            Object::Name(if cff {
                b"CIDFontType0".to_vec()
            } else {
                b"CIDFontType2".to_vec()
            }),
        );
        cid.set("BaseFont", Object::Name(base.clone().into_bytes()));
        let mut info = Dictionary::new();
        info.set("Registry", Object::string_literal("Adobe"));
        info.set("Ordering", Object::string_literal("Identity"));
        info.set("Supplement", Object::Integer(0));
        cid.set("CIDSystemInfo", Object::Dictionary(info));
        cid.set("FontDescriptor", Object::Reference((ids[2], 0)));
        cid.set("DW", Object::Integer(1000));
        cid.set("W", Object::Array(w));
        if !cff {
            cid.set("CIDToGIDMap", Object::Name(b"Identity".to_vec()));
        }

        let mut type0 = Dictionary::new();
        type0.set("Type", Object::Name(b"Font".to_vec()));
        type0.set("Subtype", Object::Name(b"Type0".to_vec()));
        type0.set("BaseFont", Object::Name(base.into_bytes()));
        type0.set("Encoding", Object::Name(b"Identity-H".to_vec()));
        type0.set(
            "DescendantFonts",
            Object::Array(vec![Object::Reference((ids[1], 0))]),
        );
        type0.set("ToUnicode", Object::Reference((ids[4], 0)));

        let to_unicode = compress(Stream::new(
            Dictionary::new(),
            self.to_unicode().into_bytes(),
        ));
        Ok(vec![
            (ids[0], Object::Dictionary(type0)),
            (ids[1], Object::Dictionary(cid)),
            (ids[2], Object::Dictionary(descriptor)),
            (ids[3], Object::Stream(font_file)),
            (ids[4], Object::Stream(to_unicode)),
        ])
    }

    fn to_unicode(&self) -> String {
        let mut s = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        let entries: Vec<(&u16, &char)> = self.unicode.iter().collect();
        for chunk in entries.chunks(100) {
            s.push_str(&format!("{} beginbfchar\n", chunk.len()));
            for (gid, ch) in chunk {
                let mut units = [0u16; 2];
                let hex: String = ch
                    .encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("{u:04X}"))
                    .collect();
                s.push_str(&format!("<{gid:04X}> <{hex}>\n"));
            }
            s.push_str("endbfchar\n");
        }
        s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        s
    }
}

fn name(face: &Face<'_>, id: u16) -> Option<String> {
    face.names()
        .into_iter()
        .filter(|n| n.name_id == id && n.is_unicode())
        .find_map(|n| n.to_string())
}

/// Flate-compress a stream's content and set its filter.
pub(crate) fn compress(mut stream: Stream) -> Stream {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    if enc.write_all(&stream.content).is_ok()
        && let Ok(data) = enc.finish()
    {
        stream
            .dict
            .set("Filter", Object::Name(b"FlateDecode".to_vec()));
        stream.set_content(data);
    }
    stream
}
