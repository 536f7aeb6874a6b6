//! Stream filters with caps: FlateDecode (with PNG and TIFF predictors), ASCIIHexDecode,
//! ASCII85Decode and RunLengthDecode. Every decoder stops at
//! [`Limits::max_stream_decoded`] bytes ([`PdfError::LimitExceeded`]: deflate bombs).
//! Image codecs (DCT, JPX, JBIG2, CCITT) and LZW are never decoded here:
//! [`PdfError::UnsupportedFilter`].

use std::io::Read;

use lopdf::{Dictionary, Object};

use crate::{Limits, PdfError, Result};

/// Most filters one stream may chain.
const MAX_FILTERS: usize = 8;

/// The filters of a stream dictionary with their parameters, in order. `/Filter` and
/// `/DecodeParms` must be direct (the reader resolves references before calling).
pub fn filter_chain(dict: &Dictionary) -> Result<Vec<(Vec<u8>, Option<Dictionary>)>> {
    let filters: Vec<Vec<u8>> = match dict.get(b"Filter") {
        Err(_) | Ok(Object::Null) => Vec::new(),
        Ok(Object::Name(n)) => vec![n.clone()],
        Ok(Object::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Object::Name(n) => out.push(n.clone()),
                    _ => return Err(PdfError::malformed(None, "/Filter array holds a non-name")),
                }
            }
            out
        }
        Ok(_) => {
            return Err(PdfError::malformed(
                None,
                "/Filter is neither a name nor an array",
            ));
        }
    };
    if filters.len() > MAX_FILTERS {
        return Err(PdfError::LimitExceeded {
            what: "number of stream filters",
            limit: MAX_FILTERS as u64,
        });
    }
    let params: Vec<Option<Dictionary>> = match dict.get(b"DecodeParms").or(dict.get(b"DP")) {
        Err(_) | Ok(Object::Null) => Vec::new(),
        Ok(Object::Dictionary(d)) => vec![Some(d.clone())],
        Ok(Object::Array(items)) => items
            .iter()
            .map(|item| match item {
                Object::Dictionary(d) => Some(d.clone()),
                _ => None,
            })
            .collect(),
        Ok(_) => Vec::new(),
    };
    Ok(filters
        .into_iter()
        .enumerate()
        .map(|(i, f)| (f, params.get(i).cloned().flatten()))
        .collect())
}

/// Whether `name` is an image codec we never decode (DCT, JPX, JBIG2, CCITT).
pub fn is_image_filter(name: &[u8]) -> bool {
    matches!(
        name,
        b"DCTDecode" | b"DCT" | b"JPXDecode" | b"JBIG2Decode" | b"CCITTFaxDecode" | b"CCF"
    )
}

/// Decode `raw` through the filters `dict` names, capped by `limits`.
pub fn decode(dict: &Dictionary, raw: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let chain = filter_chain(dict)?;
    let mut data: Option<Vec<u8>> = None;
    for (name, params) in &chain {
        let input = data.as_deref().unwrap_or(raw);
        data = Some(decode_one(name, params.as_ref(), input, limits)?);
    }
    match data {
        Some(d) => Ok(d),
        None => {
            if raw.len() as u64 > limits.max_stream_decoded {
                return Err(too_large(limits));
            }
            Ok(raw.to_vec())
        }
    }
}

fn too_large(limits: &Limits) -> PdfError {
    PdfError::LimitExceeded {
        what: "decoded stream size",
        limit: limits.max_stream_decoded,
    }
}

/// Decode one filter.
pub fn decode_one(
    name: &[u8],
    params: Option<&Dictionary>,
    input: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>> {
    match name {
        b"FlateDecode" | b"Fl" => {
            let out = inflate(input, limits)?;
            predict(out, params)
        }
        b"ASCIIHexDecode" | b"AHx" => ascii_hex(input, limits),
        b"ASCII85Decode" | b"A85" => ascii85(input, limits),
        b"RunLengthDecode" | b"RL" => run_length(input, limits),
        other => Err(PdfError::UnsupportedFilter(
            String::from_utf8_lossy(other).into_owned(),
        )),
    }
}

/// zlib inflate, at most `max_stream_decoded` bytes. Corrupt data after some output is
/// tolerated (what was decoded is kept), as other readers do.
pub fn inflate(input: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let cap = limits.max_stream_decoded;
    let mut out = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(input).take(cap.saturating_add(1));
    match decoder.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) => {
            if out.is_empty() {
                return Err(PdfError::malformed(
                    None,
                    format!("corrupt Flate data: {e}"),
                ));
            }
            tracing::debug!("corrupt Flate data after {} bytes: {e}", out.len());
        }
    }
    if out.len() as u64 > cap {
        return Err(too_large(limits));
    }
    Ok(out)
}

fn int_param(params: Option<&Dictionary>, key: &[u8], default: i64) -> i64 {
    match params.and_then(|p| p.get(key).ok()) {
        Some(Object::Integer(v)) => *v,
        _ => default,
    }
}

/// Undo a PNG (10–15) or TIFF (2) predictor.
pub fn predict(data: Vec<u8>, params: Option<&Dictionary>) -> Result<Vec<u8>> {
    let predictor = int_param(params, b"Predictor", 1);
    if predictor <= 1 {
        return Ok(data);
    }
    let colors = int_param(params, b"Colors", 1);
    let bpc = int_param(params, b"BitsPerComponent", 8);
    let columns = int_param(params, b"Columns", 1);
    if !(1..=32).contains(&colors)
        || ![1, 2, 4, 8, 16].contains(&bpc)
        || !(1..=1 << 24).contains(&columns)
    {
        return Err(PdfError::malformed(None, "invalid predictor parameters"));
    }
    // All three are small positive numbers now: no overflow.
    let bits_per_pixel = (colors * bpc) as usize;
    let bpp = bits_per_pixel.div_ceil(8).max(1);
    let row = (bits_per_pixel * columns as usize).div_ceil(8);
    match predictor {
        2 => {
            if bpc != 8 {
                return Err(PdfError::UnsupportedFilter(format!(
                    "TIFF predictor with {bpc} bits per component"
                )));
            }
            let mut out = data;
            for line in out.chunks_mut(row) {
                for i in bpp..line.len() {
                    let left = line.get(i - bpp).copied().unwrap_or(0);
                    if let Some(b) = line.get_mut(i) {
                        *b = b.wrapping_add(left);
                    }
                }
            }
            Ok(out)
        }
        10..=15 => png_unpredict(&data, row, bpp),
        _ => Err(PdfError::UnsupportedFilter(format!(
            "predictor {predictor}"
        ))),
    }
}

fn png_unpredict(data: &[u8], row: usize, bpp: usize) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    let mut cur = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        let Some((&kind, line)) = chunk.split_first() else {
            break;
        };
        if line.len() < row {
            // A short final row: keep what there is, unfiltered as far as possible.
            cur.iter_mut().for_each(|b| *b = 0);
        }
        for i in 0..row {
            let x = line.get(i).copied().unwrap_or(0);
            let a = if i >= bpp {
                cur.get(i - bpp).copied().unwrap_or(0)
            } else {
                0
            };
            let b = prev.get(i).copied().unwrap_or(0);
            let c = if i >= bpp {
                prev.get(i - bpp).copied().unwrap_or(0)
            } else {
                0
            };
            let v = match kind {
                0 => x,
                1 => x.wrapping_add(a),
                2 => x.wrapping_add(b),
                3 => x.wrapping_add(((u16::from(a) + u16::from(b)) / 2) as u8),
                4 => x.wrapping_add(paeth(a, b, c)),
                _ => {
                    return Err(PdfError::malformed(
                        None,
                        format!("invalid PNG filter type {kind}"),
                    ));
                }
            };
            if let Some(slot) = cur.get_mut(i) {
                *slot = v;
            }
        }
        out.extend_from_slice(cur.get(..line.len().min(row)).unwrap_or_default());
        std::mem::swap(&mut prev, &mut cur);
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let pa = (p - i16::from(a)).abs();
    let pb = (p - i16::from(b)).abs();
    let pc = (p - i16::from(c)).abs();
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn push_capped(out: &mut Vec<u8>, b: u8, limits: &Limits) -> Result<()> {
    if out.len() as u64 >= limits.max_stream_decoded {
        return Err(too_large(limits));
    }
    out.push(b);
    Ok(())
}

fn ascii_hex(input: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 2);
    let mut high: Option<u8> = None;
    for &c in input {
        if c == b'>' {
            break;
        }
        if crate::syntax::is_whitespace(c) {
            continue;
        }
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(PdfError::malformed(None, "invalid ASCIIHex data")),
        };
        match high.take() {
            Some(h) => push_capped(&mut out, h << 4 | v, limits)?,
            None => high = Some(v),
        }
    }
    if let Some(h) = high {
        push_capped(&mut out, h << 4, limits)?;
    }
    Ok(out)
}

fn ascii85(input: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut group = [0u8; 5];
    let mut n = 0usize;
    let body = input.strip_prefix(b"<~").unwrap_or(input);
    for &c in body {
        match c {
            b'~' => break,
            b'z' if n == 0 => {
                for _ in 0..4 {
                    push_capped(&mut out, 0, limits)?;
                }
            }
            b'!'..=b'u' => {
                if let Some(slot) = group.get_mut(n) {
                    *slot = c - b'!';
                }
                n += 1;
                if n == 5 {
                    let v = group.iter().fold(0u64, |acc, d| acc * 85 + u64::from(*d));
                    if v > u64::from(u32::MAX) {
                        return Err(PdfError::malformed(None, "invalid ASCII85 group"));
                    }
                    for b in (v as u32).to_be_bytes() {
                        push_capped(&mut out, b, limits)?;
                    }
                    n = 0;
                }
            }
            c if crate::syntax::is_whitespace(c) => {}
            _ => return Err(PdfError::malformed(None, "invalid ASCII85 data")),
        }
    }
    if n == 1 {
        return Err(PdfError::malformed(None, "invalid ASCII85 final group"));
    }
    if n > 1 {
        for slot in group.iter_mut().skip(n) {
            *slot = 84;
        }
        let v = group.iter().fold(0u64, |acc, d| acc * 85 + u64::from(*d));
        let bytes = ((v.min(u64::from(u32::MAX))) as u32).to_be_bytes();
        for b in bytes.iter().take(n - 1) {
            push_capped(&mut out, *b, limits)?;
        }
    }
    Ok(out)
}

fn run_length(input: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(&len) = input.get(i) {
        i += 1;
        match len {
            128 => break,
            0..=127 => {
                let n = usize::from(len) + 1;
                let Some(lit) = input.get(i..i + n) else {
                    return Err(PdfError::malformed(None, "truncated RunLength data"));
                };
                for b in lit {
                    push_capped(&mut out, *b, limits)?;
                }
                i += n;
            }
            _ => {
                let Some(&b) = input.get(i) else {
                    return Err(PdfError::malformed(None, "truncated RunLength data"));
                };
                i += 1;
                for _ in 0..(257 - usize::from(len)) {
                    push_capped(&mut out, b, limits)?;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Write;

    use super::*;

    #[test]
    fn flate_bomb_is_capped() {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 1 << 20]).unwrap();
        let small = enc.finish().unwrap();
        let limits = Limits {
            max_stream_decoded: 1000,
            ..Limits::DEFAULT
        };
        assert!(matches!(
            inflate(&small, &limits),
            Err(PdfError::LimitExceeded { .. })
        ));
        assert_eq!(inflate(&small, &Limits::DEFAULT).unwrap().len(), 1 << 20);
    }

    #[test]
    fn png_up() {
        // Two rows of 3 bytes, "up" filter.
        let data = vec![2, 1, 2, 3, 2, 1, 1, 1];
        let mut p = Dictionary::new();
        p.set("Predictor", 12);
        p.set("Columns", 3);
        assert_eq!(predict(data, Some(&p)).unwrap(), vec![1, 2, 3, 2, 3, 4]);
    }

    #[test]
    fn ascii() {
        assert_eq!(ascii_hex(b"41 42 4>", &Limits::DEFAULT).unwrap(), b"AB@");
        assert_eq!(ascii85(b"87cURDZ~>", &Limits::DEFAULT).unwrap(), b"Hello");
        assert_eq!(
            run_length(&[1, b'a', b'b', 254, b'c', 128], &Limits::DEFAULT).unwrap(),
            b"abccc"
        );
    }
}
