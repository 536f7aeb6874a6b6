//! A minimal DER writer and a bounds-checked TLV reader (X.690).
//!
//! Hand-written rather than going through `der`'s typed `SET OF`, because a CMS
//! signature needs byte-exact control: the signed attributes must be the very bytes the
//! signer saw (RFC 5652 §5.4), and `der` re-sorts a `SET OF` it decodes, which would
//! change the bytes of a container made by another product.

use const_oid::ObjectIdentifier;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::{CmsError, Result};

/// Universal tags (X.690 §8).
pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;

/// Context-specific constructed `[n]`.
pub(crate) const fn context(n: u8) -> u8 {
    0xA0 | n
}

/// Context-specific primitive `[n]`.
pub(crate) const fn context_primitive(n: u8) -> u8 {
    0x80 | n
}

fn malformed(what: &str, reason: impl std::fmt::Display) -> CmsError {
    CmsError::Malformed(format!("{what}: {reason}"))
}

// ---------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------

/// DER length octets (X.690 §10.1: definite form, minimal).
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

/// One TLV.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A constructed TLV whose content is the concatenation of `parts`.
pub(crate) fn constructed(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// `SEQUENCE { parts… }`.
pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    constructed(SEQUENCE, parts)
}

/// `SET OF` in DER order: the element encodings sorted as octet strings (X.690 §11.6).
pub(crate) fn set_of(mut items: Vec<Vec<u8>>) -> Vec<u8> {
    items.sort();
    tlv(SET, &items.concat())
}

/// `OBJECT IDENTIFIER`.
pub(crate) fn oid(oid: &ObjectIdentifier) -> Vec<u8> {
    tlv(OID, oid.as_bytes())
}

/// `AlgorithmIdentifier { algorithm, parameters absent }` (RFC 5280 §4.1.1.2).
pub(crate) fn algorithm(id: &ObjectIdentifier) -> Vec<u8> {
    sequence(&[&oid(id)])
}

/// `OCTET STRING`.
pub(crate) fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, bytes)
}

/// A non-negative `INTEGER` from its unsigned big-endian magnitude (X.690 §8.3).
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let trimmed = magnitude.get(skip..).unwrap_or_default();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    match trimmed.first() {
        None => content.push(0),
        Some(b) if *b >= 0x80 => {
            content.push(0);
            content.extend_from_slice(trimmed);
        }
        Some(_) => content.extend_from_slice(trimmed),
    }
    tlv(INTEGER, &content)
}

/// A small non-negative `INTEGER`.
pub(crate) fn small_integer(n: u64) -> Vec<u8> {
    unsigned_integer(&n.to_be_bytes())
}

/// A time as RFC 5652 §11.3 / RFC 5280 §4.1.2.5 want it: `UTCTime` for 1950–2049,
/// `GeneralizedTime` otherwise, whole seconds, `Z`.
pub(crate) fn time(t: OffsetDateTime) -> Result<Vec<u8>> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year();
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if (1950..2050).contains(&year) {
        Ok(tlv(UTC_TIME, format!("{:02}{rest}", year % 100).as_bytes()))
    } else if (0..=9999).contains(&year) {
        Ok(tlv(GENERALIZED_TIME, format!("{year:04}{rest}").as_bytes()))
    } else {
        Err(CmsError::InvalidInput(format!(
            "time {t} cannot be encoded"
        )))
    }
}

/// `GeneralizedTime` with whole seconds (RFC 3161 §2.4.2 `genTime`).
pub(crate) fn generalized_time(t: OffsetDateTime) -> Result<Vec<u8>> {
    let t = t.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&t.year()) {
        return Err(CmsError::InvalidInput(format!(
            "time {t} cannot be encoded"
        )));
    }
    Ok(tlv(
        GENERALIZED_TIME,
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
        .as_bytes(),
    ))
}

// ---------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------

/// One decoded TLV: its tag, its content octets and the whole encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    pub raw: &'a [u8],
}

/// Split one TLV off the front of `input`.
pub(crate) fn read_tlv<'a>(input: &'a [u8], what: &str) -> Result<(Tlv<'a>, &'a [u8])> {
    let (&tag, after_tag) = input
        .split_first()
        .ok_or_else(|| malformed(what, "unexpected end of data"))?;
    if tag & 0x1f == 0x1f {
        return Err(malformed(what, "high-number tags are not used by CMS"));
    }
    let (&first, after_len0) = after_tag
        .split_first()
        .ok_or_else(|| malformed(what, "missing length"))?;
    let (len, after_len) = if first < 0x80 {
        (usize::from(first), after_len0)
    } else if first == 0x80 {
        return Err(malformed(
            what,
            "indefinite length (BER) is not allowed in DER",
        ));
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return Err(malformed(what, "length field too long"));
        }
        let bytes = after_len0
            .get(..n)
            .ok_or_else(|| malformed(what, "truncated length"))?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, after_len0.get(n..).unwrap_or_default())
    };
    let value = after_len
        .get(..len)
        .ok_or_else(|| malformed(what, format!("truncated ({len} bytes announced)")))?;
    let header_len = input.len() - after_len.len();
    let raw = input
        .get(..header_len + len)
        .ok_or_else(|| malformed(what, "truncated"))?;
    let rest = after_len.get(len..).unwrap_or_default();
    Ok((Tlv { tag, value, raw }, rest))
}

/// Parse exactly one TLV spanning all of `input`.
pub(crate) fn read_single<'a>(input: &'a [u8], what: &str) -> Result<Tlv<'a>> {
    let (t, rest) = read_tlv(input, what)?;
    if !rest.is_empty() {
        return Err(malformed(what, "trailing data"));
    }
    Ok(t)
}

/// A cursor over the elements of a constructed value.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Read the content octets of `tlv`.
    pub fn new(content: &'a [u8], what: &'static str) -> Self {
        Reader {
            rest: content,
            what,
        }
    }

    /// The next element, whatever it is.
    pub fn next_any(&mut self) -> Result<Tlv<'a>> {
        let (t, rest) = read_tlv(self.rest, self.what)?;
        self.rest = rest;
        Ok(t)
    }

    /// The next element, which must have `tag`.
    pub fn next(&mut self, tag: u8, field: &str) -> Result<Tlv<'a>> {
        let t = self
            .next_any()
            .map_err(|_| malformed(self.what, format!("{field} is missing or cut short")))?;
        if t.tag != tag {
            return Err(malformed(
                self.what,
                format!("{field}: expected tag 0x{tag:02x}, found 0x{:02x}", t.tag),
            ));
        }
        Ok(t)
    }

    /// The next element if it has `tag`.
    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>> {
        if self.rest.first() == Some(&tag) {
            self.next_any().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Whether every element has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// All remaining elements.
    pub fn all(mut self) -> Result<Vec<Tlv<'a>>> {
        let mut out = Vec::new();
        while !self.is_empty() {
            out.push(self.next_any()?);
        }
        Ok(out)
    }
}

impl<'a> Tlv<'a> {
    /// A reader over this constructed value's elements.
    pub fn reader(&self, what: &'static str) -> Reader<'a> {
        Reader::new(self.value, what)
    }

    /// This value as an `OBJECT IDENTIFIER`.
    pub fn oid(&self, what: &str) -> Result<ObjectIdentifier> {
        if self.tag != OID {
            return Err(malformed(what, "expected an OBJECT IDENTIFIER"));
        }
        ObjectIdentifier::from_bytes(self.value)
            .map_err(|e| malformed(what, format!("bad OBJECT IDENTIFIER ({e})")))
    }

    /// This value as a small non-negative `INTEGER`.
    pub fn small_integer(&self, what: &str) -> Result<u64> {
        if self.tag != INTEGER || self.value.is_empty() || self.value.len() > 8 {
            return Err(malformed(what, "expected a small INTEGER"));
        }
        if self.value.first().is_some_and(|b| *b >= 0x80) {
            return Err(malformed(what, "negative INTEGER"));
        }
        Ok(self
            .value
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// This value as a `UTCTime` or `GeneralizedTime`.
    pub fn time(&self, what: &str) -> Result<OffsetDateTime> {
        let text =
            std::str::from_utf8(self.value).map_err(|_| malformed(what, "time is not ASCII"))?;
        let parsed = match self.tag {
            UTC_TIME => parse_utc_time(text),
            GENERALIZED_TIME => parse_generalized_time(text),
            _ => None,
        };
        parsed.ok_or_else(|| malformed(what, format!("unreadable time {text:?}")))
    }
}

fn digits(text: &str, range: std::ops::Range<usize>) -> Option<u32> {
    let s = text.get(range)?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn build_time(year: i32, month: u32, day: u32, h: u32, m: u32, s: u32) -> Option<OffsetDateTime> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(h).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(s).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// `YYMMDDHHMM[SS]Z` (X.680 §47; RFC 5280 §4.1.2.5.1 for the century rule).
fn parse_utc_time(text: &str) -> Option<OffsetDateTime> {
    let body = text.strip_suffix('Z')?;
    let yy = digits(body, 0..2)?;
    let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
    let seconds = match body.len() {
        10 => 0,
        12 => digits(body, 10..12)?,
        _ => return None,
    };
    build_time(
        i32::try_from(year).ok()?,
        digits(body, 2..4)?,
        digits(body, 4..6)?,
        digits(body, 6..8)?,
        digits(body, 8..10)?,
        seconds,
    )
}

/// `YYYYMMDDHHMMSS[.fff]Z` (X.680 §46; RFC 3161 §2.4.2 allows fractions).
fn parse_generalized_time(text: &str) -> Option<OffsetDateTime> {
    let body = text.strip_suffix('Z')?;
    let (main, fraction) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    if main.len() != 14 {
        return None;
    }
    let t = build_time(
        i32::try_from(digits(main, 0..4)?).ok()?,
        digits(main, 4..6)?,
        digits(main, 6..8)?,
        digits(main, 8..10)?,
        digits(main, 10..12)?,
        digits(main, 12..14)?,
    )?;
    match fraction {
        None => Some(t),
        Some(f) => {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let nanos: u32 = format!("{f:0<9}").parse().ok()?;
            Some(t + time::Duration::nanoseconds(i64::from(nanos)))
        }
    }
}

/// Check that `der` is a DER ECDSA/SM2 signature `SEQUENCE { r INTEGER, s INTEGER }`
/// with positive, minimally encoded integers of at most 256 bits (SEC 1 §C.8,
/// GM/T 0009-2012 §7.3).
pub(crate) fn check_signature_der(der: &[u8]) -> Result<()> {
    let what = "signature";
    let seq = read_single(der, what)?;
    if seq.tag != SEQUENCE {
        return Err(malformed(what, "not a DER SEQUENCE { r, s }"));
    }
    let mut r = seq.reader(what);
    for name in ["r", "s"] {
        let int = r.next(INTEGER, name)?;
        let v = int.value;
        let ok = match v {
            [] => false,
            [0] => false,
            [0, second, ..] => *second >= 0x80 && v.len() <= 33,
            [first, ..] => *first < 0x80 && v.len() <= 32,
        };
        if !ok {
            return Err(malformed(
                what,
                format!("{name} is not a positive, minimally encoded 256-bit INTEGER"),
            ));
        }
    }
    if !r.is_empty() {
        return Err(malformed(what, "data after r and s"));
    }
    Ok(())
}

/// The issuer `Name` (whole TLV) and serial `INTEGER` (whole TLV) of a certificate, as
/// encoded in it (RFC 5280 §4.1).
pub(crate) fn certificate_issuer_serial(cert_der: &[u8]) -> Result<(&[u8], &[u8])> {
    let what = "certificate";
    let cert = read_single(cert_der, what)?;
    let mut c = cert.reader(what);
    let tbs = c.next(SEQUENCE, "tbsCertificate")?;
    let mut t = tbs.reader(what);
    let _version = t.optional(context(0))?;
    let serial = t.next(INTEGER, "serialNumber")?;
    let _signature = t.next(SEQUENCE, "signature")?;
    let issuer = t.next(SEQUENCE, "issuer")?;
    Ok((issuer.raw, serial.raw))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lengths_are_minimal() {
        assert_eq!(tlv(0x04, &[0; 3])[..2], [0x04, 3]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn integers() {
        assert_eq!(small_integer(1), [2, 1, 1]);
        assert_eq!(small_integer(0), [2, 1, 0]);
        assert_eq!(unsigned_integer(&[0, 0x80]), [2, 2, 0, 0x80]);
    }

    #[test]
    fn times_round_trip() {
        let t = time::macros::datetime!(2026-03-01 08:00:05 UTC);
        let enc = time(t).unwrap();
        assert_eq!(enc[0], UTC_TIME);
        assert_eq!(&enc[2..], b"260301080005Z");
        assert_eq!(read_single(&enc, "t").unwrap().time("t").unwrap(), t);
        let late = time::macros::datetime!(2051-01-01 00:00:00 UTC);
        let enc = time(late).unwrap();
        assert_eq!(enc[0], GENERALIZED_TIME);
        assert_eq!(read_single(&enc, "t").unwrap().time("t").unwrap(), late);
        let frac = tlv(GENERALIZED_TIME, b"20260301080005.25Z");
        assert_eq!(
            read_single(&frac, "t").unwrap().time("t").unwrap(),
            t + time::Duration::milliseconds(250)
        );
    }

    #[test]
    fn set_of_sorts_by_encoding() {
        let set = set_of(vec![vec![0x30, 2, 6, 0], vec![0x30, 1, 5]]);
        assert_eq!(set, [0x31, 7, 0x30, 1, 5, 0x30, 2, 6, 0]);
    }

    #[test]
    fn reader_rejects_truncation() {
        assert!(read_tlv(&[0x30, 0x05, 1, 2], "x").is_err());
        assert!(read_tlv(&[0x30, 0x80, 0, 0], "x").is_err());
        assert!(read_tlv(&[0x30, 0x85, 1, 1, 1, 1, 1], "x").is_err());
        assert!(read_tlv(&[], "x").is_err());
    }
}
