//! QR codes as people and cameras see them: render a QR text to PNG, SVG or the
//! terminal, and read the text back from a PNG (what the emulated phone's camera does).
//!
//! Rendering uses the `qrcode` crate at error correction level M (a Bidkit QR text of
//! 144 characters is a version 6 symbol, 41 × 41 modules); the PNG encoder is `png`,
//! the decoder `rqrr` on a greyscale image decoded with `png`. No `image` crate.

use std::io::Cursor;
use std::path::Path;

use qrcode::{Color, EcLevel, QrCode};

use crate::AppError;

/// Quiet zone around the symbol, in modules (ISO/IEC 18004 asks for 4).
const QUIET: usize = 4;
/// Pixels per module in PNG output.
const SCALE: usize = 8;
/// Largest PNG accepted for decoding (bytes of the file).
const MAX_PNG_FILE: usize = 32 * 1024 * 1024;
/// Largest decoded image (bytes of pixels) the decoder may allocate.
const MAX_PNG_PIXELS: usize = 64 * 1024 * 1024;

/// An encoded QR symbol: its modules, dark or light.
#[derive(Clone, Debug)]
pub struct QrImage {
    width: usize,
    dark: Vec<bool>,
    version: i16,
}

impl QrImage {
    /// Encode `text` at error correction level M.
    pub fn encode(text: &str) -> Result<Self, AppError> {
        let code =
            QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| {
                AppError::QrImage {
                    what: "QR text".into(),
                    reason: format!("cannot be encoded as a QR code: {e}"),
                }
            })?;
        let version = match code.version() {
            qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
        };
        Ok(QrImage {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
            version,
        })
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The QR version (1–40).
    pub fn version(&self) -> i16 {
        self.version
    }

    /// Whether the module at (`x`, `y`) is dark; outside the symbol (the quiet zone) is
    /// light.
    fn is_dark(&self, x: isize, y: isize) -> bool {
        let w = self.width as isize;
        if x < 0 || y < 0 || x >= w || y >= w {
            return false;
        }
        self.dark
            .get((y * w + x) as usize)
            .copied()
            .unwrap_or(false)
    }

    /// A greyscale PNG: 8 pixels per module, a 4-module quiet zone.
    pub fn to_png(&self) -> Result<Vec<u8>, AppError> {
        let side = (self.width + 2 * QUIET) * SCALE;
        let mut pixels = vec![255u8; side * side];
        for y in 0..side {
            for x in 0..side {
                let mx = (x / SCALE) as isize - QUIET as isize;
                let my = (y / SCALE) as isize - QUIET as isize;
                if self.is_dark(mx, my) {
                    pixels[y * side + x] = 0;
                }
            }
        }
        let side32 = u32::try_from(side).map_err(|_| png_err("the symbol is too large"))?;
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, side32, side32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().map_err(|e| png_err(&e.to_string()))?;
            writer
                .write_image_data(&pixels)
                .map_err(|e| png_err(&e.to_string()))?;
            writer.finish().map_err(|e| png_err(&e.to_string()))?;
        }
        Ok(out)
    }

    /// An SVG document: one path of unit squares, a 4-module quiet zone, crisp edges.
    pub fn to_svg(&self) -> String {
        let side = self.width + 2 * QUIET;
        let mut path = String::new();
        for y in 0..self.width {
            for x in 0..self.width {
                if self.is_dark(x as isize, y as isize) {
                    path.push_str(&format!("M{} {}h1v1h-1z", x + QUIET, y + QUIET));
                }
            }
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\">\n\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\n\
             <path fill=\"#000\" d=\"{path}\"/>\n\
             </svg>\n",
            px = side * SCALE
        )
    }

    /// The symbol in Unicode half blocks, two module rows per text line, with a
    /// 2-module quiet zone. Light modules are drawn as blocks, so on a dark terminal
    /// the code reads as dark-on-light, as a camera expects.
    pub fn to_terminal(&self) -> String {
        const Q: isize = 2;
        let w = self.width as isize;
        let mut out = String::new();
        let mut y = -Q;
        while y < w + Q {
            for x in -Q..w + Q {
                let top = !self.is_dark(x, y);
                let bottom = y + 1 < w + Q && !self.is_dark(x, y + 1);
                out.push(match (top, bottom) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            out.push('\n');
            y += 2;
        }
        out
    }
}

fn png_err(reason: &str) -> AppError {
    AppError::QrImage {
        what: "QR PNG".into(),
        reason: reason.to_owned(),
    }
}

/// Read the QR code in a PNG image and return its text.
pub fn decode_png(bytes: &[u8], what: &str) -> Result<String, AppError> {
    let err = |reason: String| AppError::QrImage {
        what: what.to_owned(),
        reason,
    };
    if bytes.len() > MAX_PNG_FILE {
        return Err(err(format!(
            "{} bytes is too large for a QR image (at most {MAX_PNG_FILE})",
            bytes.len()
        )));
    }
    let (w, h, grey) = png_to_grey(bytes).map_err(|e| err(format!("not a readable PNG: {e}")))?;
    // The decoder works on untrusted pixels; a panic in it must not take the process
    // down with it.
    let decoded = std::panic::catch_unwind(move || {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            grey.get(y * w + x).copied().unwrap_or(255)
        });
        let grids = img.detect_grids();
        let mut last_err = None;
        for g in grids {
            match g.decode() {
                Ok((_, text)) => return Ok(text),
                Err(e) => last_err = Some(e.to_string()),
            }
        }
        Err(last_err.unwrap_or_else(|| "no QR code found in the image".to_owned()))
    });
    match decoded {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(reason)) => Err(err(reason)),
        Err(_) => Err(err("the QR decoder failed on this image".into())),
    }
}

/// Decode a PNG into 8-bit luminance (alpha composited over white).
fn png_to_grey(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), png::DecodingError> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: MAX_PNG_PIXELS,
        },
    );
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info()?;
    let size = reader
        .output_buffer_size()
        .ok_or(png::DecodingError::LimitsExceeded)?;
    if size > MAX_PNG_PIXELS {
        return Err(png::DecodingError::LimitsExceeded);
    }
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => 1,
    };
    let line = info.line_size;
    let mut grey = Vec::with_capacity(w * h);
    for y in 0..h {
        let row = buf.get(y * line..y * line + w * channels).unwrap_or(&[]);
        for px in row.chunks_exact(channels) {
            let (luma, alpha) = match *px {
                [g] => (u32::from(g), 255),
                [g, a] => (u32::from(g), u32::from(a)),
                [r, g, b] => (luma(r, g, b), 255),
                [r, g, b, a] => (luma(r, g, b), u32::from(a)),
                _ => (255, 255),
            };
            let over_white = (luma * alpha + 255 * (255 - alpha)) / 255;
            grey.push(u8::try_from(over_white).unwrap_or(255));
        }
    }
    if grey.len() != w * h {
        return Err(png::DecodingError::LimitsExceeded);
    }
    Ok((w, h, grey))
}

fn luma(r: u8, g: u8, b: u8) -> u32 {
    (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000
}

/// What `bidkit phone scan` was given, as QR text: the text itself (`BK1:…`), or a
/// PNG image of the code, or a text file holding it.
pub fn read_scan_input(arg: &str) -> Result<String, AppError> {
    let trimmed = arg.trim();
    if trimmed
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(bidkit_protocol::qr::QR_PREFIX))
    {
        return Ok(trimmed.to_owned());
    }
    let path = Path::new(arg);
    let bytes = std::fs::read(path).map_err(|source| AppError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return decode_png(&bytes, &path.display().to_string());
    }
    match std::str::from_utf8(&bytes) {
        Ok(text)
            if text
                .trim_start()
                .starts_with(bidkit_protocol::qr::QR_PREFIX) =>
        {
            Ok(text.trim().to_owned())
        }
        _ => Err(AppError::QrImage {
            what: path.display().to_string(),
            reason: "neither a PNG image of a QR code nor a Bidkit QR text (BK1:…)".into(),
        }),
    }
}

/// Write `bytes` to `path` through a temporary file in the same directory and a
/// rename, so a reader (a phone scanning from another process) always sees a whole
/// image, the old one or the new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let io = |source| AppError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let name = path.file_name().ok_or_else(|| AppError::InvalidOption {
        option: "output file",
        reason: format!("{} is not a file name", path.display()),
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TEXT: &str = "BK1:AEATJ7XNZ4LRU5LWQM6GYA3SVUJNEVUFEOXSFQDLMCQYGFJYJZRQE2FNFCO2KCM3ZIZTDAYHR6QKHYWZWTHHQF6WSIRSHMKJQ47LW3J4YMTAZSRFJ6ZPYAAAAAAEBQTZ4GEAAAH74AAABIAQ";

    #[test]
    fn png_round_trips_through_the_decoder() {
        let img = QrImage::encode(TEXT).unwrap();
        let png = img.to_png().unwrap();
        assert_eq!(decode_png(&png, "test").unwrap(), TEXT);
    }

    #[test]
    fn svg_and_terminal_have_the_symbol() {
        let img = QrImage::encode(TEXT).unwrap();
        let svg = img.to_svg();
        assert!(svg.starts_with("<?xml") && svg.contains("<path"));
        let term = img.to_terminal();
        let lines: Vec<&str> = term.lines().collect();
        assert_eq!(lines.len(), (img.width() + 4).div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == img.width() + 4));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let e = decode_png(b"\x89PNG\r\n\x1a\nnot really", "x.png").unwrap_err();
        assert_eq!(e.code(), "qr-unreadable");
        assert!(e.to_string().starts_with("x.png: "));
        let blank = QrImage {
            width: 21,
            dark: vec![false; 21 * 21],
            version: 1,
        }
        .to_png()
        .unwrap();
        let e = decode_png(&blank, "blank.png").unwrap_err();
        assert!(e.to_string().contains("no QR code"), "{e}");
    }
}
