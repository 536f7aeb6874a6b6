//! The PDF object parser (ISO 32000-1 §7.2–7.3): bytes to [`lopdf::Object`], with a
//! nesting-depth cap. It never panics, whatever the input.
//!
//! The parser works on a byte slice that may be a *window* onto a larger file: when the
//! slice ends before the object does, it reports [`ParseError::Incomplete`] so that the
//! caller can read a larger window and try again. When the slice is the whole input
//! (`complete`), its end is the end of the data.
//!
//! Stream data is not read here: [`parse_indirect`] stops after the `stream` keyword and
//! its end-of-line and returns where the data starts ([`Indirect::Stream`]); the reader
//! then reads `/Length` bytes (or searches for `endstream`) from the file itself.

use lopdf::{Dictionary, Object, ObjectId, StringFormat};

use crate::{Limits, PdfError};

/// Why parsing stopped.
#[derive(Debug)]
pub enum ParseError {
    /// The slice ended before the object did (only when the slice is not `complete`).
    Incomplete,
    /// The bytes are not a valid object (or a cap was reached).
    Invalid(PdfError),
}

impl From<PdfError> for ParseError {
    fn from(e: PdfError) -> Self {
        ParseError::Invalid(e)
    }
}

impl ParseError {
    /// As a [`PdfError`]: an incomplete object is a malformed one ("unexpected end").
    pub fn into_pdf_error(self, at: u64) -> PdfError {
        match self {
            ParseError::Incomplete => PdfError::malformed(at, "unexpected end of data"),
            ParseError::Invalid(e) => e,
        }
    }
}

type PResult<T> = std::result::Result<T, ParseError>;

/// An indirect object as parsed from `N G obj …`.
#[derive(Debug, Clone, PartialEq)]
pub enum Indirect {
    /// A complete object (not a stream).
    Object(ObjectId, Object),
    /// A stream: its dictionary, and where its data starts (an offset into the slice, plus
    /// the `base` the caller gave).
    Stream(ObjectId, Dictionary, u64),
}

/// PDF white-space characters (§7.2.2, table 1).
pub fn is_whitespace(b: u8) -> bool {
    matches!(b, 0x00 | 0x09 | 0x0A | 0x0C | 0x0D | 0x20)
}

/// PDF delimiter characters (§7.2.2, table 2).
pub fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// A character that is neither white space nor a delimiter.
pub fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

/// A cursor over a slice of PDF bytes.
#[derive(Debug)]
pub struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    complete: bool,
    max_depth: usize,
}

impl<'a> Parser<'a> {
    /// A parser over `data`, whose first byte is at file offset `base` (for error
    /// messages). `complete`: `data` is the whole input (its end ends a token).
    pub fn new(data: &'a [u8], base: u64, complete: bool, limits: &Limits) -> Parser<'a> {
        Parser {
            data,
            pos: 0,
            base,
            complete,
            max_depth: limits.max_depth,
        }
    }

    /// The current position within the slice.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Move to `pos` within the slice (clamped to its end).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.data.len());
    }

    /// The file offset of the current position.
    pub fn offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.data.get(self.pos.saturating_add(n)).copied()
    }

    fn bad<T>(&self, reason: impl Into<String>) -> PResult<T> {
        Err(ParseError::Invalid(PdfError::malformed(
            self.offset(),
            reason,
        )))
    }

    /// The end of the slice was reached: incomplete, unless the slice is everything.
    fn end<T>(&self) -> PResult<T> {
        if self.complete {
            self.bad("unexpected end of data")
        } else {
            Err(ParseError::Incomplete)
        }
    }

    /// Skip white space and comments. Never fails; at the end of the slice it stops.
    pub fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\r' || c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Like [`Parser::skip_ws`], but reports [`ParseError::Incomplete`] when the slice
    /// ends (a token must follow).
    fn skip_ws_need(&mut self) -> PResult<u8> {
        self.skip_ws();
        match self.peek() {
            Some(b) => Ok(b),
            None => self.end(),
        }
    }

    /// A run of regular characters starting at the current position (a number, keyword
    /// or `R`). At the end of an incomplete slice the token may continue: incomplete.
    fn regular_token(&mut self) -> PResult<&'a [u8]> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !is_regular(b) {
                break;
            }
            self.pos += 1;
        }
        if self.pos >= self.data.len() && !self.complete {
            return Err(ParseError::Incomplete);
        }
        Ok(self.data.get(start..self.pos).unwrap_or_default())
    }

    /// Whether the next token is exactly `keyword` (consumed if so).
    pub fn keyword(&mut self, keyword: &[u8]) -> PResult<bool> {
        let save = self.pos;
        self.skip_ws();
        if self.peek().is_none() {
            self.pos = save;
            return self.end();
        }
        match self.peek() {
            Some(b) if is_regular(b) => {}
            _ => {
                self.pos = save;
                return Ok(false);
            }
        }
        let token = self.regular_token()?;
        if token == keyword {
            Ok(true)
        } else {
            self.pos = save;
            Ok(false)
        }
    }

    /// A non-negative integer token (for object numbers, xref fields).
    pub fn unsigned(&mut self) -> PResult<Option<u64>> {
        let save = self.pos;
        self.skip_ws();
        if self.peek().is_none() {
            self.pos = save;
            return self.end();
        }
        match self.peek() {
            Some(b) if b.is_ascii_digit() => {}
            _ => {
                self.pos = save;
                return Ok(None);
            }
        }
        let token = self.regular_token()?;
        if !token.iter().all(u8::is_ascii_digit) {
            self.pos = save;
            return Ok(None);
        }
        let mut value: u64 = 0;
        for d in token {
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
            {
                Some(v) => v,
                None => {
                    self.pos = save;
                    return Ok(None);
                }
            };
        }
        Ok(Some(value))
    }

    /// One direct object (references `N G R` included).
    pub fn object(&mut self) -> PResult<Object> {
        self.value(0)
    }

    fn value(&mut self, depth: usize) -> PResult<Object> {
        let b = self.skip_ws_need()?;
        match b {
            b'/' => self.name().map(Object::Name),
            b'(' => self.literal_string(),
            b'[' => {
                let depth = self.enter(depth)?;
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    let c = self.skip_ws_need()?;
                    if c == b']' {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.value(depth)?);
                }
                Ok(Object::Array(items))
            }
            b'<' => {
                if self.peek_at(1) == Some(b'<') {
                    let depth = self.enter(depth)?;
                    self.dictionary(depth).map(Object::Dictionary)
                } else if self.peek_at(1).is_none() {
                    self.end()
                } else {
                    self.hex_string()
                }
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.number(),
            b')' | b'>' | b']' | b'{' | b'}' => self.bad(format!("unexpected '{}'", b as char)),
            _ => {
                let at = self.offset();
                let token = self.regular_token()?;
                match token {
                    b"true" => Ok(Object::Boolean(true)),
                    b"false" => Ok(Object::Boolean(false)),
                    b"null" => Ok(Object::Null),
                    other => Err(ParseError::Invalid(PdfError::malformed(
                        at,
                        format!(
                            "unexpected keyword {:?}",
                            String::from_utf8_lossy(
                                other.get(..other.len().min(32)).unwrap_or_default()
                            )
                        ),
                    ))),
                }
            }
        }
    }

    fn enter(&self, depth: usize) -> PResult<usize> {
        let depth = depth + 1;
        if depth > self.max_depth {
            return Err(ParseError::Invalid(PdfError::LimitExceeded {
                what: "nesting depth of arrays and dictionaries",
                limit: self.max_depth as u64,
            }));
        }
        Ok(depth)
    }

    /// A dictionary at `<<` (the depth already counted).
    fn dictionary(&mut self, depth: usize) -> PResult<Dictionary> {
        self.pos += 2;
        let mut dict = Dictionary::new();
        loop {
            let c = self.skip_ws_need()?;
            if c == b'>' {
                match self.peek_at(1) {
                    Some(b'>') => {
                        self.pos += 2;
                        return Ok(dict);
                    }
                    None => return self.end(),
                    Some(_) => return self.bad("'>' in a dictionary"),
                }
            }
            if c != b'/' {
                return self.bad("a dictionary key must be a name");
            }
            let key = self.name()?;
            let v = self.skip_ws_need()?;
            // A key without a value before `>>` reads as null (lenient).
            let value = if v == b'>' && self.peek_at(1) == Some(b'>') {
                Object::Null
            } else {
                self.value(depth)?
            };
            dict.set(key, value);
        }
    }

    /// A name at `/`.
    fn name(&mut self) -> PResult<Vec<u8>> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => {
                    if self.complete {
                        return Ok(out);
                    }
                    return Err(ParseError::Incomplete);
                }
                Some(b) if !is_regular(b) => return Ok(out),
                Some(b'#') => {
                    let h = self.peek_at(1).and_then(hex_value);
                    let l = self.peek_at(2).and_then(hex_value);
                    match (h, l) {
                        (Some(h), Some(l)) => {
                            out.push(h << 4 | l);
                            self.pos += 3;
                        }
                        _ => {
                            if !self.complete && self.pos + 2 >= self.data.len() {
                                return Err(ParseError::Incomplete);
                            }
                            out.push(b'#');
                            self.pos += 1;
                        }
                    }
                }
                Some(b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// A literal string at `(`.
    fn literal_string(&mut self) -> PResult<Object> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut depth = 0usize;
        loop {
            let Some(b) = self.peek() else {
                return self.end();
            };
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    if depth == 0 {
                        return Ok(Object::String(out, StringFormat::Literal));
                    }
                    depth -= 1;
                    out.push(b);
                }
                b'\r' => {
                    // An end-of-line marker reads as a line feed.
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return self.end();
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0C),
                        b'(' | b')' | b'\\' => out.push(e),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xFF) as u8);
                        }
                        // An unknown escape: the backslash is ignored.
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
    }

    /// A hexadecimal string at `<`.
    fn hex_string(&mut self) -> PResult<Object> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let Some(b) = self.peek() else {
                return self.end();
            };
            self.pos += 1;
            if b == b'>' {
                if let Some(h) = high {
                    out.push(h << 4);
                }
                return Ok(Object::String(out, StringFormat::Hexadecimal));
            }
            if is_whitespace(b) {
                continue;
            }
            let Some(v) = hex_value(b) else {
                self.pos -= 1;
                return self.bad("invalid character in a hexadecimal string");
            };
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
        }
    }

    /// A number; an integer followed by `G R` is a reference.
    fn number(&mut self) -> PResult<Object> {
        let at = self.offset();
        let token = self.regular_token()?;
        let is_int = token
            .iter()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || (i == 0 && (*c == b'+' || *c == b'-')))
            && token.iter().any(u8::is_ascii_digit);
        let text = std::str::from_utf8(token).unwrap_or("");
        if is_int {
            let Ok(value) = text.parse::<i64>() else {
                // Too large for an integer: read it as a real.
                return match text.parse::<f64>() {
                    Ok(v) => Ok(Object::Real(v as f32)),
                    Err(_) => Err(ParseError::Invalid(PdfError::malformed(
                        at,
                        "invalid number",
                    ))),
                };
            };
            if value >= 0
                && token.first().is_some_and(u8::is_ascii_digit)
                && let Some(r) = self.reference_tail(value)?
            {
                return Ok(r);
            }
            return Ok(Object::Integer(value));
        }
        // A real: sign, digits, one point, digits (at least one digit).
        let body = text.strip_prefix(['+', '-']).unwrap_or(text);
        let dots = body.bytes().filter(|c| *c == b'.').count();
        if dots != 1
            || !body.bytes().all(|c| c.is_ascii_digit() || c == b'.')
            || !body.bytes().any(|c| c.is_ascii_digit())
        {
            // Tolerate a lone sign or point as zero (some writers emit `-` or `.`).
            if !body.bytes().any(|c| c.is_ascii_digit()) && token.len() <= 2 {
                return Ok(Object::Integer(0));
            }
            return Err(ParseError::Invalid(PdfError::malformed(
                at,
                "invalid number",
            )));
        }
        let normalised = format!("{}0{}0", if text.starts_with('-') { "-" } else { "" }, body);
        match normalised.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Object::Real(v as f32)),
            _ => Err(ParseError::Invalid(PdfError::malformed(
                at,
                "invalid number",
            ))),
        }
    }

    /// After an integer `n`: `G R` makes a reference (else the position is restored).
    fn reference_tail(&mut self, n: i64) -> PResult<Option<Object>> {
        let save = self.pos;
        self.skip_ws();
        match self.peek() {
            None => {
                self.pos = save;
                if self.complete {
                    return Ok(None);
                }
                return Err(ParseError::Incomplete);
            }
            Some(b) if b.is_ascii_digit() => {}
            Some(_) => {
                self.pos = save;
                return Ok(None);
            }
        }
        let token = match self.regular_token() {
            Ok(t) => t,
            Err(e) => {
                self.pos = save;
                return Err(e);
            }
        };
        let generation = if token.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(token)
                .ok()
                .and_then(|t| t.parse::<u16>().ok())
        } else {
            None
        };
        let Some(generation) = generation else {
            self.pos = save;
            return Ok(None);
        };
        self.skip_ws();
        match (self.peek(), self.peek_at(1)) {
            (None, _) => {
                self.pos = save;
                if self.complete {
                    return Ok(None);
                }
                Err(ParseError::Incomplete)
            }
            (Some(b'R'), next) => {
                if next.is_none() && !self.complete {
                    self.pos = save;
                    return Err(ParseError::Incomplete);
                }
                if next.is_none_or(|c| !is_regular(c)) {
                    self.pos += 1;
                    let Ok(number) = u32::try_from(n) else {
                        return self.bad("object number out of range");
                    };
                    Ok(Some(Object::Reference((number, generation))))
                } else {
                    self.pos = save;
                    Ok(None)
                }
            }
            _ => {
                self.pos = save;
                Ok(None)
            }
        }
    }

    /// `N G obj` at the current position.
    pub fn object_header(&mut self) -> PResult<ObjectId> {
        let at = self.offset();
        let number = self.unsigned()?;
        let generation = self.unsigned()?;
        let obj = self.keyword(b"obj")?;
        match (number, generation, obj) {
            (Some(n), Some(g), true) => {
                let (Ok(n), Ok(g)) = (u32::try_from(n), u16::try_from(g)) else {
                    return Err(ParseError::Invalid(PdfError::malformed(
                        at,
                        "object number or generation out of range",
                    )));
                };
                Ok((n, g))
            }
            _ => Err(ParseError::Invalid(PdfError::malformed(
                at,
                "expected an object header `N G obj`",
            ))),
        }
    }

    /// `N G obj <object> [stream…] endobj` at the current position. A stream's data is not
    /// read: its start offset is returned.
    pub fn indirect(&mut self) -> PResult<Indirect> {
        let id = self.object_header()?;
        let object = self.object()?;
        self.skip_ws();
        if self.peek().is_none() {
            if self.complete {
                return Ok(Indirect::Object(id, object));
            }
            return Err(ParseError::Incomplete);
        }
        if self.keyword(b"stream")? {
            let Object::Dictionary(dict) = object else {
                return self.bad("`stream` after an object that is not a dictionary");
            };
            // The keyword is followed by CRLF or LF (tolerated: spaces first, a lone CR).
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.pos += 1;
            }
            match self.peek() {
                Some(b'\r') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'\n') => self.pos += 1,
                        None if !self.complete => return Err(ParseError::Incomplete),
                        _ => {}
                    }
                }
                Some(b'\n') => self.pos += 1,
                None if !self.complete => return Err(ParseError::Incomplete),
                _ => {}
            }
            return Ok(Indirect::Stream(id, dict, self.offset()));
        }
        // `endobj` is expected; its absence is tolerated.
        let _ = self.keyword(b"endobj");
        Ok(Indirect::Object(id, object))
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parse one direct object from the whole of `data` (trailing bytes are ignored).
pub fn parse_object(data: &[u8], limits: &Limits) -> Result<Object, PdfError> {
    let mut p = Parser::new(data, 0, true, limits);
    p.object().map_err(|e| e.into_pdf_error(0))
}

/// Parse an indirect object from the whole of `data`, whose first byte is at file offset
/// `base`.
pub fn parse_indirect(data: &[u8], base: u64, limits: &Limits) -> Result<Indirect, PdfError> {
    let mut p = Parser::new(data, base, true, limits);
    p.indirect().map_err(|e| e.into_pdf_error(base))
}

/// Find `needle` in `haystack` (first occurrence).
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Find `needle` in `haystack` (last occurrence).
pub fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn p(s: &str) -> Object {
        parse_object(s.as_bytes(), &Limits::DEFAULT).unwrap()
    }

    #[test]
    fn basics() {
        assert_eq!(p("null"), Object::Null);
        assert_eq!(p("true"), Object::Boolean(true));
        assert_eq!(p("-12"), Object::Integer(-12));
        assert_eq!(p("-.5"), Object::Real(-0.5));
        assert_eq!(p("5."), Object::Real(5.0));
        assert_eq!(p("12 0 R"), Object::Reference((12, 0)));
        assert_eq!(
            p("[1 2 R 3]"),
            Object::Array(vec![Object::Reference((1, 2)), Object::Integer(3)])
        );
        assert_eq!(p("/A#20B"), Object::Name(b"A B".to_vec()));
        assert_eq!(
            p("(a(b)\\)\\101\\\nc)"),
            Object::String(b"a(b))Ac".to_vec(), StringFormat::Literal)
        );
        assert_eq!(
            p("<41 4>"),
            Object::String(b"A@".to_vec(), StringFormat::Hexadecimal)
        );
        let d = p("<</Type/Page/Kids[1 0 R]/X<</Y 1>>>>");
        let Object::Dictionary(d) = d else { panic!() };
        assert_eq!(d.get(b"Type").unwrap(), &Object::Name(b"Page".to_vec()));
    }

    #[test]
    fn incomplete_windows() {
        for s in ["12 0", "[1 2", "<</A 1", "(abc", "123", "/Nam"] {
            let mut parser = Parser::new(s.as_bytes(), 0, false, &Limits::DEFAULT);
            assert!(
                matches!(parser.object(), Err(ParseError::Incomplete)),
                "{s}"
            );
        }
    }

    #[test]
    fn indirect_stream() {
        let data = b"7 0 obj\n<</Length 3>>\nstream\r\nabc\nendstream\nendobj\n";
        match parse_indirect(data, 100, &Limits::DEFAULT).unwrap() {
            Indirect::Stream(id, _, at) => {
                assert_eq!(id, (7, 0));
                assert_eq!(at, 100 + 30);
            }
            other => panic!("{other:?}"),
        }
    }
}
