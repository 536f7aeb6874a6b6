//! Images as PDF image XObjects: JPEG embedded as it is (`/DCTDecode`), PNG decoded and
//! re-encoded with Flate (alpha as a soft mask).

use std::io::{Read, Write};
use std::path::Path;

use lopdf::{Dictionary, Object, Stream};

use crate::error::{Result, TenderError};

/// Most pixels of one image (a 600 dpi A3 scan is ~70 million).
pub const MAX_IMAGE_PIXELS: u64 = 150_000_000;

/// What a JPEG's frame header says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JpegInfo {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    /// An Adobe APP14 marker (CMYK JPEGs from Adobe software are stored inverted).
    pub adobe: bool,
}

/// Read a JPEG's markers up to its frame header (SOFn).
pub(crate) fn jpeg_info(path: &Path) -> Result<JpegInfo> {
    let bad = |why: &str| TenderError::bad_file(path, format!("damaged JPEG: {why}"));
    let file = std::fs::File::open(path).map_err(|e| TenderError::io(path, "opening", e))?;
    let mut r = std::io::BufReader::new(file);
    let byte = |r: &mut std::io::BufReader<std::fs::File>| -> Result<u8> {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)
            .map_err(|_| bad("it ends before its frame header"))?;
        Ok(b[0])
    };
    if byte(&mut r)? != 0xFF || byte(&mut r)? != 0xD8 {
        return Err(bad("no start-of-image marker"));
    }
    let mut adobe = false;
    for _ in 0..10_000 {
        let mut m = byte(&mut r)?;
        if m != 0xFF {
            return Err(bad("a marker was expected"));
        }
        while m == 0xFF {
            m = byte(&mut r)?;
        }
        if m == 0xD8 || (0xD0..=0xD7).contains(&m) || m == 0x01 {
            continue;
        }
        if m == 0xD9 || m == 0xDA {
            return Err(bad("no frame header before the image data"));
        }
        let len = u16::from_be_bytes([byte(&mut r)?, byte(&mut r)?]);
        if len < 2 {
            return Err(bad("a segment length is below 2"));
        }
        let mut seg = vec![0u8; usize::from(len) - 2];
        r.read_exact(&mut seg)
            .map_err(|_| bad("a segment is cut short"))?;
        let sof = matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC);
        if m == 0xEE && seg.starts_with(b"Adobe") {
            adobe = true;
        }
        if sof {
            if seg.len() < 6 {
                return Err(bad("the frame header is too short"));
            }
            let precision = seg[0];
            let height = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
            let width = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
            let components = seg[5];
            if precision != 8 {
                return Err(bad(&format!(
                    "{precision}-bit samples are not supported in PDF"
                )));
            }
            if width == 0 || height == 0 {
                return Err(bad("zero width or height"));
            }
            if !matches!(components, 1 | 3 | 4) {
                return Err(bad(&format!("{components} colour components")));
            }
            if m == 0xC3 || m == 0xC7 || m == 0xCB || m == 0xCF {
                return Err(bad("lossless JPEG is not supported by PDF readers"));
            }
            return Ok(JpegInfo {
                width,
                height,
                components,
                adobe,
            });
        }
    }
    Err(bad("too many segments"))
}

/// PNG dimensions from its header.
pub(crate) fn png_size(path: &Path) -> Result<(u32, u32)> {
    let file = std::fs::File::open(path).map_err(|e| TenderError::io(path, "opening", e))?;
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let reader = decoder
        .read_info()
        .map_err(|e| TenderError::bad_file(path, format!("damaged PNG: {e}")))?;
    let info = reader.info();
    check_pixels(path, info.width, info.height)?;
    Ok((info.width, info.height))
}

fn check_pixels(path: &Path, w: u32, h: u32) -> Result<()> {
    if u64::from(w) * u64::from(h) > MAX_IMAGE_PIXELS {
        return Err(TenderError::bad_file(
            path,
            format!("the image is {w}×{h} pixels, more than {MAX_IMAGE_PIXELS}; scale it down"),
        ));
    }
    Ok(())
}

/// The image XObject(s) of a JPEG: the file's bytes as they are.
pub(crate) fn jpeg_xobject(path: &Path, info: &JpegInfo) -> Result<Stream> {
    check_pixels(path, info.width, info.height)?;
    let data = std::fs::read(path).map_err(|e| TenderError::io(path, "reading", e))?;
    let mut d = Dictionary::new();
    d.set("Type", Object::Name(b"XObject".to_vec()));
    d.set("Subtype", Object::Name(b"Image".to_vec()));
    d.set("Width", Object::Integer(i64::from(info.width)));
    d.set("Height", Object::Integer(i64::from(info.height)));
    d.set("BitsPerComponent", Object::Integer(8));
    let cs: &[u8] = match info.components {
        1 => b"DeviceGray",
        4 => b"DeviceCMYK",
        _ => b"DeviceRGB",
    };
    d.set("ColorSpace", Object::Name(cs.to_vec()));
    if info.components == 4 && info.adobe {
        d.set(
            "Decode",
            Object::Array(
                [1, 0, 1, 0, 1, 0, 1, 0]
                    .iter()
                    .map(|v| Object::Integer(*v))
                    .collect(),
            ),
        );
    }
    d.set("Filter", Object::Name(b"DCTDecode".to_vec()));
    Ok(Stream::new(d, data).with_compression(false))
}

/// A PNG decoded row by row into a Flate-compressed image and, when it has alpha, a
/// Flate-compressed soft mask: (image, mask, width, height).
pub(crate) fn png_xobjects(path: &Path) -> Result<(Stream, Option<Stream>, u32, u32)> {
    let bad = |e: png::DecodingError| TenderError::bad_file(path, format!("damaged PNG: {e}"));
    let file = std::fs::File::open(path).map_err(|e| TenderError::io(path, "opening", e))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(bad)?;
    let (w, h) = (reader.info().width, reader.info().height);
    check_pixels(path, w, h)?;
    let (color, _) = reader.output_color_type();
    let (channels, has_alpha) = match color {
        png::ColorType::Grayscale => (1usize, false),
        png::ColorType::GrayscaleAlpha => (1, true),
        png::ColorType::Rgb => (3, false),
        png::ColorType::Rgba => (3, true),
        png::ColorType::Indexed => {
            return Err(TenderError::bad_file(
                path,
                "palette PNG could not be expanded",
            ));
        }
    };
    let step = channels + usize::from(has_alpha);
    let mut img = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let mut mask = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let mut color_row = Vec::with_capacity(w as usize * channels);
    let mut alpha_row = Vec::with_capacity(w as usize);
    let mut opaque = true;
    let write_err = |e: std::io::Error| TenderError::io(path, "compressing the image", e);
    let mut rows = 0u32;
    while let Some(row) = reader.next_row().map_err(bad)? {
        let data = row.data();
        color_row.clear();
        alpha_row.clear();
        if has_alpha {
            for px in data.chunks_exact(step) {
                color_row.extend_from_slice(&px[..channels]);
                let a = px[channels];
                opaque &= a == 255;
                alpha_row.push(a);
            }
            img.write_all(&color_row).map_err(write_err)?;
            mask.write_all(&alpha_row).map_err(write_err)?;
        } else {
            img.write_all(data).map_err(write_err)?;
        }
        rows += 1;
    }
    if rows != h {
        return Err(TenderError::bad_file(path, "damaged PNG: it ends early"));
    }
    let dict = |cs: &[u8]| {
        let mut d = Dictionary::new();
        d.set("Type", Object::Name(b"XObject".to_vec()));
        d.set("Subtype", Object::Name(b"Image".to_vec()));
        d.set("Width", Object::Integer(i64::from(w)));
        d.set("Height", Object::Integer(i64::from(h)));
        d.set("BitsPerComponent", Object::Integer(8));
        d.set("ColorSpace", Object::Name(cs.to_vec()));
        d.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        d
    };
    let image = Stream::new(
        dict(if channels == 1 {
            b"DeviceGray"
        } else {
            b"DeviceRGB"
        }),
        img.finish().map_err(write_err)?,
    )
    .with_compression(false);
    let mask = if has_alpha && !opaque {
        Some(
            Stream::new(dict(b"DeviceGray"), mask.finish().map_err(write_err)?)
                .with_compression(false),
        )
    } else {
        None
    };
    Ok((image, mask, w, h))
}
