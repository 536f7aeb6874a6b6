//! Small, non-panicking helpers over [`lopdf::Object`] values read from a [`PdfFile`] at
//! a given revision.

use lopdf::{Dictionary, Object, ObjectId};

use crate::PdfFile;
use crate::file::XrefEntry;

/// Most references followed when walking a tree of objects (appearances, fields).
pub(crate) const MAX_WALK: usize = 10_000;

/// `12 0 R`.
pub(crate) fn id_str(id: ObjectId) -> String {
    format!("{} {} R", id.0, id.1)
}

/// The object `id` as of `rev`; read errors are `None`.
pub(crate) fn get_at(file: &PdfFile, rev: usize, id: ObjectId) -> Option<Object> {
    file.object_at(rev, id).ok().flatten()
}

/// Follow references (bounded by the reader) as of `rev`; errors and dangling references
/// are `None`.
pub(crate) fn resolve_at(file: &PdfFile, rev: usize, obj: &Object) -> Option<Object> {
    match obj {
        Object::Reference(_) => match file.resolve_at(rev, obj) {
            Ok(Object::Null) | Err(_) => None,
            Ok(Object::Reference(_)) => None,
            Ok(o) => Some(o),
        },
        o => Some(o.clone()),
    }
}

/// A dictionary value (a stream's dictionary counts), as of `rev`.
pub(crate) fn dict_of(file: &PdfFile, rev: usize, obj: &Object) -> Option<Dictionary> {
    match resolve_at(file, rev, obj)? {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(s.dict),
        _ => None,
    }
}

/// The dictionary of `obj` without resolving (a stream's dictionary counts).
pub(crate) fn as_dict(obj: &Object) -> Option<&Dictionary> {
    match obj {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

/// An array value, as of `rev`.
pub(crate) fn array_of(file: &PdfFile, rev: usize, obj: &Object) -> Option<Vec<Object>> {
    match resolve_at(file, rev, obj)? {
        Object::Array(a) => Some(a),
        _ => None,
    }
}

/// The value of `key` in `dict`, resolved as of `rev`.
pub(crate) fn get_resolved(
    file: &PdfFile,
    rev: usize,
    dict: &Dictionary,
    key: &[u8],
) -> Option<Object> {
    resolve_at(file, rev, dict.get(key).ok()?)
}

/// A name value (`/Sig` → `Sig`).
pub(crate) fn name_of(obj: &Object) -> Option<String> {
    match obj {
        Object::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
        _ => None,
    }
}

/// Whether `dict[key]` is the name `value`.
pub(crate) fn has_name(dict: &Dictionary, key: &[u8], value: &[u8]) -> bool {
    matches!(dict.get(key), Ok(Object::Name(n)) if n.as_slice() == value)
}

/// A number (integer or real).
pub(crate) fn number(obj: &Object) -> Option<f64> {
    match obj {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

/// A PDF text string (UTF-16BE with a byte order mark, UTF-8 with one, or
/// PDFDocEncoding approximated as Latin-1).
pub(crate) fn text_string(obj: &Object) -> Option<String> {
    let Object::String(bytes, _) = obj else {
        return None;
    };
    Some(decode_text(bytes))
}

fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| match c {
                [a, b] => u16::from_be_bytes([*a, *b]),
                [a] => u16::from(*a) << 8,
                _ => 0,
            })
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// The generation of the newest definition of object `num` in revisions before
/// `before` (`None`: never defined, or freed last).
pub(crate) fn generation_before(file: &PdfFile, before: usize, num: u32) -> Option<u16> {
    file.revisions()
        .get(..before)?
        .iter()
        .rev()
        .find_map(|r| r.entries.get(&num))
        .and_then(|e| match e {
            XrefEntry::Free => None,
            XrefEntry::InFile { generation, .. } => Some(*generation),
            XrefEntry::InStream { .. } => Some(0),
        })
}

/// Whether two objects are the same value (a stream's position in the file does not
/// count).
pub(crate) fn same_object(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Stream(x), Object::Stream(y)) => x.dict == y.dict && x.content == y.content,
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_object(p, q))
        }
        (Object::Dictionary(x), Object::Dictionary(y)) => same_dict(x, y),
        (x, y) => x == y,
    }
}

/// Whether two dictionaries hold the same keys and values (order does not count).
pub(crate) fn same_dict(a: &Dictionary, b: &Dictionary) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_ok_and(|w| same_object(v, w)))
}

/// The keys whose values differ between two dictionaries: `/Key changed`, `/Key added`,
/// `/Key removed`, skipping `skip`.
pub(crate) fn dict_differences(a: &Dictionary, b: &Dictionary, skip: &[&[u8]]) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in a.iter() {
        if skip.contains(&k.as_slice()) {
            continue;
        }
        let key = String::from_utf8_lossy(k);
        match b.get(k) {
            Ok(w) if same_object(v, w) => {}
            Ok(_) => out.push(format!("/{key} changed")),
            Err(_) => out.push(format!("/{key} removed")),
        }
    }
    for (k, _) in b.iter() {
        if skip.contains(&k.as_slice()) || a.has(k) {
            continue;
        }
        out.push(format!("/{} added", String::from_utf8_lossy(k)));
    }
    out
}

/// Every reference directly inside `obj` (not following them), skipping the values of
/// `skip_keys` in dictionaries.
pub(crate) fn references_in(obj: &Object, skip_keys: &[&[u8]], out: &mut Vec<ObjectId>) {
    let mut stack: Vec<&Object> = vec![obj];
    let mut seen = 0usize;
    while let Some(o) = stack.pop() {
        seen += 1;
        if seen > MAX_WALK {
            return;
        }
        match o {
            Object::Reference(id) => out.push(*id),
            Object::Array(a) => stack.extend(a.iter()),
            Object::Dictionary(d) => push_dict(d, skip_keys, &mut stack),
            Object::Stream(s) => push_dict(&s.dict, skip_keys, &mut stack),
            _ => {}
        }
    }
}

fn push_dict<'a>(d: &'a Dictionary, skip_keys: &[&[u8]], stack: &mut Vec<&'a Object>) {
    for (k, v) in d.iter() {
        if !skip_keys.contains(&k.as_slice()) {
            stack.push(v);
        }
    }
}

/// The document catalog's id and dictionary as of `rev` (the trailer's `/Root`, from
/// this revision's trailer or the newest earlier one that has it).
pub(crate) fn catalog_at(file: &PdfFile, rev: usize) -> Option<(ObjectId, Dictionary)> {
    let root =
        file.revisions()
            .get(..=rev)?
            .iter()
            .rev()
            .find_map(|r| match r.trailer.get(b"Root") {
                Ok(Object::Reference(id)) => Some(*id),
                _ => None,
            })?;
    let dict = dict_of(file, rev, &Object::Reference(root))?;
    Some((root, dict))
}

/// The AcroForm as of `rev`: its id (when indirect) and dictionary.
pub(crate) fn acroform_at(
    file: &PdfFile,
    rev: usize,
    catalog: &Dictionary,
) -> Option<(Option<ObjectId>, Dictionary)> {
    let value = catalog.get(b"AcroForm").ok()?;
    let id = match value {
        Object::Reference(id) => Some(*id),
        _ => None,
    };
    Some((id, dict_of(file, rev, value)?))
}
