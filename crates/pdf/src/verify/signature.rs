//! Finding the signatures of a document and checking each one: the dictionary, the byte
//! ranges (coverage), the CMS container against the streamed digest of the ranges, the
//! certificate chain, and the stamps (widgets) the signature covers.

use std::collections::{HashMap, HashSet};

use bidkit_pki::{KeyPurpose, verify_chain};
use lopdf::{Dictionary, Object, ObjectId};
use time::OffsetDateTime;

use super::objects::{
    MAX_WALK, acroform_at, array_of, as_dict, catalog_at, dict_of, get_resolved, has_name, id_str,
    name_of, number, resolve_at, text_string,
};
use super::report::{ChainStatus, SignerInfo, StampReport, TimestampReport};
use super::{TrustChoice, VerifyOptions};
use crate::geometry::pt_to_mm;
use crate::{PageInfo, PdfFile, Rect};

/// Largest `/Contents` accepted, in bytes of DER (a signature with a long chain and a
/// timestamp is far below this).
pub(crate) const MAX_CONTENTS: usize = 4 * 1024 * 1024;

/// `/SubFilter` values Bidkit verifies.
const SUB_FILTERS: [&str; 2] = ["adbe.pkcs7.detached", "ETSI.CAdES.detached"];

/// A signature field found in the AcroForm of some revision.
#[derive(Clone, Debug)]
pub(crate) struct FoundSignature {
    pub field_id: ObjectId,
    pub field: Dictionary,
    pub name: String,
    /// The first revision whose AcroForm lists the field with a `/V`.
    pub revision: usize,
    pub sig_id: Option<ObjectId>,
}

/// Every signature field (with a `/V`) of every revision, in the order they appear.
pub(crate) fn find_signatures(file: &PdfFile) -> Vec<FoundSignature> {
    let mut found: Vec<FoundSignature> = Vec::new();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    for rev in 0..file.revisions().len() {
        for (field_id, field, name) in signature_fields_at(file, rev) {
            if !seen.insert(field_id) {
                continue;
            }
            let sig_id = match field.get(b"V") {
                Ok(Object::Reference(id)) => Some(*id),
                _ => None,
            };
            found.push(FoundSignature {
                field_id,
                field,
                name,
                revision: rev,
                sig_id,
            });
        }
    }
    found
}

/// The signature fields (`/FT /Sig`, possibly inherited, with a `/V`) listed in the
/// AcroForm as of `rev`, with their fully qualified names.
pub(crate) fn signature_fields_at(
    file: &PdfFile,
    rev: usize,
) -> Vec<(ObjectId, Dictionary, String)> {
    let mut out = Vec::new();
    let Some((_, catalog)) = catalog_at(file, rev) else {
        return out;
    };
    let Some((_, acroform)) = acroform_at(file, rev, &catalog) else {
        return out;
    };
    let Some(fields) = get_resolved(file, rev, &acroform, b"Fields").and_then(|f| match f {
        Object::Array(a) => Some(a),
        _ => None,
    }) else {
        return out;
    };
    // (reference, parent's qualified name, inherited /FT)
    let mut stack: Vec<(Object, String, Option<String>)> = fields
        .into_iter()
        .rev()
        .map(|f| (f, String::new(), None))
        .collect();
    let mut visited: HashSet<ObjectId> = HashSet::new();
    while let Some((obj, parent, inherited_ft)) = stack.pop() {
        if visited.len() > MAX_WALK {
            break;
        }
        let Object::Reference(id) = obj else { continue };
        if !visited.insert(id) {
            continue;
        }
        let Some(dict) = dict_of(file, rev, &obj) else {
            continue;
        };
        let partial = dict.get(b"T").ok().and_then(text_string);
        let name = match (&partial, parent.is_empty()) {
            (Some(t), true) => t.clone(),
            (Some(t), false) => format!("{parent}.{t}"),
            (None, _) => parent.clone(),
        };
        let ft = dict.get(b"FT").ok().and_then(name_of).or(inherited_ft);
        if ft.as_deref() == Some("Sig") && dict.has(b"V") {
            out.push((id, dict, name));
            continue;
        }
        if let Some(kids) = get_resolved(file, rev, &dict, b"Kids").and_then(|k| match k {
            Object::Array(a) => Some(a),
            _ => None,
        }) {
            for kid in kids.into_iter().rev() {
                stack.push((kid, name.clone(), ft.clone()));
            }
        }
    }
    out
}

/// What checking one signature's dictionary, ranges and container found.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub sub_filter: Option<String>,
    pub claimed_time: Option<String>,
    pub name: Option<String>,
    pub byte_range: Option<Vec<i64>>,
    pub covers_whole_revision: bool,
    pub covers_whole_file: bool,
    pub signer: Option<SignerInfo>,
    pub signing_time: Option<OffsetDateTime>,
    pub algorithm: Option<String>,
    pub digest_algorithm: Option<String>,
    pub integrity: Option<bidkit_cms::SignatureCheck>,
    pub chain: Option<ChainStatus>,
    pub timestamp: Option<TimestampReport>,
    pub container: Option<String>,
    /// Why the signature is invalid (every problem found, `; `-separated).
    pub invalid: Option<String>,
}

impl Checked {
    /// Record a problem (each one once, in the order found).
    fn fail(&mut self, reason: impl Into<String>) {
        let reason = reason.into();
        match &mut self.invalid {
            None => self.invalid = Some(reason),
            Some(all) if !all.contains(&reason) => {
                all.push_str("; ");
                all.push_str(&reason);
            }
            Some(_) => {}
        }
    }
}

/// Check one signature. Never fails: every problem is recorded in [`Checked::invalid`].
pub(crate) fn check(file: &PdfFile, found: &FoundSignature, options: &VerifyOptions) -> Checked {
    let mut out = Checked::default();
    let rev = found.revision;
    let Some(sig) = found
        .field
        .get(b"V")
        .ok()
        .and_then(|v| dict_of(file, rev, v))
    else {
        out.fail("the field's /V is not a signature dictionary");
        return out;
    };
    out.sub_filter = sig.get(b"SubFilter").ok().and_then(name_of);
    out.claimed_time = sig.get(b"M").ok().and_then(text_string);
    out.name = sig.get(b"Name").ok().and_then(text_string);

    // /ByteRange: four direct non-negative integers.
    let range = match sig
        .get(b"ByteRange")
        .ok()
        .and_then(|v| resolve_at(file, rev, v))
    {
        None => {
            out.fail("the signature dictionary has no /ByteRange");
            None
        }
        Some(Object::Array(items)) => {
            let ints: Option<Vec<i64>> = items
                .iter()
                .map(|o| match o {
                    Object::Integer(i) => Some(*i),
                    _ => None,
                })
                .collect();
            match ints {
                Some(v) => {
                    out.byte_range = Some(v.clone());
                    Some(v)
                }
                None => {
                    out.fail("/ByteRange holds something other than integers");
                    None
                }
            }
        }
        Some(_) => {
            out.fail("/ByteRange is not an array");
            None
        }
    };

    // /Contents: a hex string of bounded size.
    let contents = match sig.get(b"Contents").ok() {
        None => {
            out.fail("the signature dictionary has no /Contents");
            None
        }
        Some(Object::String(bytes, lopdf::StringFormat::Hexadecimal)) => {
            if bytes.len() > MAX_CONTENTS {
                out.fail(format!(
                    "/Contents is {} bytes, more than the {MAX_CONTENTS} accepted",
                    bytes.len()
                ));
                None
            } else {
                Some(bytes.clone())
            }
        }
        Some(Object::String(..)) => {
            out.fail("/Contents is not a hex string");
            None
        }
        Some(_) => {
            out.fail("/Contents is not a string");
            None
        }
    };

    match out.sub_filter.as_deref() {
        Some(f) if SUB_FILTERS.contains(&f) => {}
        Some(f) => out.fail(format!(
            "unsupported /SubFilter /{f} (expected adbe.pkcs7.detached or ETSI.CAdES.detached)"
        )),
        None => out.fail("the signature dictionary has no /SubFilter"),
    }

    let ranges = match (&range, &contents) {
        (Some(r), Some(c)) => coverage(file, rev, r, c, &mut out),
        _ => None,
    };

    // The CMS container, the streamed digest, the chain.
    let Some(contents) = contents else {
        return out;
    };
    let parsed = match bidkit_cms::parse(&contents) {
        Ok(p) => p,
        Err(e) => {
            if let Some(ses) =
                first_tlv(&contents).and_then(|der| bidkit_ses::SesSignature::from_der(der).ok())
            {
                check_ses(file, &ses, ranges, options, &mut out);
            } else {
                out.fail(format!(
                    "/Contents is not a readable CMS signature ({e}), nor a GB/T 38540 SES_Signature"
                ));
            }
            return out;
        }
    };
    out.container = Some(CONTAINER_CMS.into());
    out.signer = Some(SignerInfo {
        subject: parsed.signer.subject_display(),
        serial: parsed.signer.serial_hex(),
        issuer: parsed.signer.issuer_display(),
        suite: parsed.signer.suite().as_str().to_owned(),
        not_before: parsed.signer.not_before(),
        not_after: parsed.signer.not_after(),
    });
    out.signing_time = parsed.signing_time;
    if let Some(token) = &parsed.timestamp_token {
        check_timestamp(token, parsed.digest_algorithm, &parsed.signature, &mut out);
    }
    out.algorithm = Some(parsed.suite.signature().to_string());
    out.digest_algorithm = Some(parsed.digest_algorithm.name().to_owned());

    if let Some([(a, b), (c, d)]) = ranges {
        let mut hasher = parsed.digest_algorithm.hasher();
        let streamed = file
            .copy_range(a, a + b, &mut hasher)
            .and_then(|()| file.copy_range(c, c + d, &mut hasher));
        match streamed {
            Ok(()) => {
                let digest = hasher.finalize();
                let check = parsed.verify(&digest);
                if !check.is_valid() {
                    let mut why = Vec::new();
                    if !check.digest_matches {
                        why.push("the signed bytes were changed (digest mismatch)".to_owned());
                    }
                    if !check.signature_valid {
                        why.push("the signature does not verify".to_owned());
                    }
                    if check.signing_certificate_matches == Some(false) {
                        why.push(
                            "the signing-certificate attribute names another certificate"
                                .to_owned(),
                        );
                    }
                    if why.is_empty() {
                        why.extend(check.problems.iter().cloned());
                    }
                    out.fail(why.join("; "));
                }
                out.integrity = Some(check);
            }
            Err(e) => out.fail(format!("the signed byte ranges could not be read: {e}")),
        }
    }

    out.chain = Some(match &options.trust {
        TrustChoice::IntegrityOnly => ChainStatus::NotChecked,
        TrustChoice::Roots(store) => {
            let at = options
                .at
                .or(parsed.signing_time)
                .unwrap_or_else(OffsetDateTime::now_utc);
            let intermediates: Vec<_> = parsed
                .certificates
                .iter()
                .filter(|c| *c != &parsed.signer)
                .cloned()
                .collect();
            match verify_chain(
                &parsed.signer,
                &intermediates,
                store,
                at,
                Some(KeyPurpose::Signing),
            ) {
                Ok(chain) => ChainStatus::Trusted {
                    path: chain
                        .certificates()
                        .iter()
                        .map(|c| format!("{} [{}]", c.subject_display(), c.serial_hex()))
                        .collect(),
                    at,
                },
                Err(e) => ChainStatus::Untrusted {
                    reason: e.to_string(),
                },
            }
        }
    });
    out
}

/// Check an RFC 3161 signature time-stamp `token` over `signature` and record it (or why
/// it is not valid).
fn check_timestamp(
    token: &[u8],
    hash: bidkit_crypto::hash::HashAlgorithm,
    signature: &[u8],
    out: &mut Checked,
) {
    let imprint = bidkit_cms::tsa::signature_imprint(hash, signature);
    match bidkit_cms::tsa::verify_token(token, &imprint) {
        Ok(info) => {
            out.timestamp = Some(TimestampReport {
                time: info.time,
                serial: info.serial,
                authority: info.tsa_subject,
            })
        }
        Err(e) => out.fail(format!("the signature time-stamp is not valid: {e}")),
    }
}

/// [`SignatureReport::container`](super::SignatureReport::container) for CMS.
const CONTAINER_CMS: &str = "CMS SignedData";
/// … and for GB/T 38540.
const CONTAINER_SES: &str = "SES_Signature (GB/T 38540)";

/// The first DER element of `bytes` (`/Contents` is zero-padded after it).
fn first_tlv(bytes: &[u8]) -> Option<&[u8]> {
    let first = *bytes.get(1)?;
    let (header, len) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len = bytes
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (2 + n, len)
    };
    bytes.get(..header.checked_add(len)?)
}

/// Check a GB/T 38540 `SES_Signature`: the seal record, the signer's binding to it, the
/// signature value and `dataHash` against the streamed byte ranges (pinned to the
/// seal's own maker), then, with trust roots, the maker's and the signer's chains.
fn check_ses(
    file: &PdfFile,
    ses: &bidkit_ses::SesSignature,
    ranges: Option<[(u64, u64); 2]>,
    options: &VerifyOptions,
    out: &mut Checked,
) {
    out.container = Some(CONTAINER_SES.into());
    let signer = match ses.signer_certificate() {
        Ok(c) => c,
        Err(e) => {
            out.fail(format!("the SES_Signature's signer certificate: {e}"));
            return;
        }
    };
    let suite = signer.suite();
    let hash = suite.hash();
    out.signer = Some(SignerInfo {
        subject: signer.subject_display(),
        serial: signer.serial_hex(),
        issuer: signer.issuer_display(),
        suite: suite.as_str().to_owned(),
        not_before: signer.not_before(),
        not_after: signer.not_after(),
    });
    let time_info = ses.tbs().time_info;
    out.signing_time = Some(time_info);
    out.algorithm = Some(suite.signature().to_string());
    out.digest_algorithm = Some(hash.name().to_owned());
    if let Some(token) = ses.time_stamp() {
        check_timestamp(token, hash, ses.signature_value(), out);
    }
    let Some([(a, b), (c, d)]) = ranges else {
        return;
    };
    let mut hasher = hash.hasher();
    if let Err(e) = file
        .copy_range(a, a + b, &mut hasher)
        .and_then(|()| file.copy_range(c, c + d, &mut hasher))
    {
        out.fail(format!("the signed byte ranges could not be read: {e}"));
        return;
    }
    let digest = hasher.finalize();
    let maker = match ses.tbs().eseal.maker_certificate() {
        Ok(m) => m,
        Err(e) => {
            out.fail(format!("the seal record's maker certificate: {e}"));
            return;
        }
    };
    let intact = ses.verify(&digest, &bidkit_ses::SealTrust::Maker(&maker));
    let digest_matches = !matches!(intact, Err(bidkit_ses::SesError::DataHashMismatch));
    let mut problems = Vec::new();
    if let Err(e) = &intact {
        problems.push(e.to_string());
        out.fail(if digest_matches {
            format!("the SES_Signature does not verify: {e}")
        } else {
            "the signed bytes were changed (digest mismatch)".to_owned()
        });
    }
    out.integrity = Some(bidkit_cms::SignatureCheck {
        digest_matches,
        signature_valid: intact.is_ok(),
        signing_certificate_matches: None,
        content_type_matches: true,
        problems,
    });
    out.chain = Some(match &options.trust {
        TrustChoice::IntegrityOnly => ChainStatus::NotChecked,
        TrustChoice::Roots(store) => {
            match ses.verify(&digest, &bidkit_ses::SealTrust::Roots(store)) {
                Ok(v) => match v.chain {
                    Some(chain) => ChainStatus::Trusted {
                        path: chain
                            .certificates()
                            .iter()
                            .map(|c| format!("{} [{}]", c.subject_display(), c.serial_hex()))
                            .collect(),
                        at: time_info,
                    },
                    None => ChainStatus::NotChecked,
                },
                Err(e) => ChainStatus::Untrusted {
                    reason: e.to_string(),
                },
            }
        }
    });
}

/// Check the byte ranges against the file and the revision; returns the two ranges as
/// `(start, length)` when they are safe to hash (inside the file, in order).
fn coverage(
    file: &PdfFile,
    rev: usize,
    range: &[i64],
    contents: &[u8],
    out: &mut Checked,
) -> Option<[(u64, u64); 2]> {
    let &[a, b, c, d] = range else {
        out.fail(format!(
            "/ByteRange has {} numbers instead of 4",
            range.len()
        ));
        return None;
    };
    let (Ok(a), Ok(b), Ok(c), Ok(d)) = (
        u64::try_from(a),
        u64::try_from(b),
        u64::try_from(c),
        u64::try_from(d),
    ) else {
        out.fail("/ByteRange holds a negative number");
        return None;
    };
    let (Some(gap_start), Some(end)) = (a.checked_add(b), c.checked_add(d)) else {
        out.fail("/ByteRange overflows");
        return None;
    };
    if gap_start > c {
        out.fail("the two /ByteRange ranges overlap");
        return None;
    }
    if end > file.len() {
        out.fail(format!(
            "/ByteRange extends to byte {end}, past the end of the file ({} bytes)",
            file.len()
        ));
        return None;
    }
    let ranges = [(a, b), (c, d)];
    let mut problems = Vec::new();
    if a != 0 {
        problems.push(format!("the first range starts at byte {a}, not 0"));
    }
    // The gap must be exactly this signature's /Contents as a hex string.
    let gap_len = c - gap_start;
    let max_gap = (MAX_CONTENTS as u64) * 2 + 2;
    if gap_len > max_gap {
        problems.push(format!(
            "the gap between the ranges is {gap_len} bytes, too large"
        ));
    } else {
        match file.read_bytes(gap_start, gap_len as usize) {
            Ok(gap) if gap_is_contents(&gap, contents) => {}
            Ok(_) => problems.push(
                "the gap between the ranges is not exactly this signature's /Contents".to_owned(),
            ),
            Err(e) => problems.push(format!("the gap between the ranges cannot be read: {e}")),
        }
    }
    let revision_end = file.revisions().get(rev).map(|r| r.end);
    let ends_revision = revision_end.is_some_and(|r| ends_at(file, end, r));
    if !ends_revision {
        problems.push(format!(
            "the second range ends at byte {end}, but the signature's revision {rev} ends at byte {}",
            revision_end.unwrap_or(0)
        ));
    }
    out.covers_whole_revision = problems.is_empty();
    out.covers_whole_file = problems.is_empty() && ends_at(file, end, file.len());
    if !problems.is_empty() {
        out.fail(format!(
            "the byte ranges do not cover the whole revision: {}",
            problems.join("; ")
        ));
    }
    Some(ranges)
}

/// Whether a signed range ending at `end` covers everything up to `target` but trailing
/// end-of-line bytes.
fn ends_at(file: &PdfFile, end: u64, target: u64) -> bool {
    if end == target {
        return true;
    }
    if end > target || target - end > 2 {
        return false;
    }
    file.read_bytes(end, (target - end) as usize)
        .is_ok_and(|tail| tail.iter().all(|b| matches!(b, b'\r' | b'\n')))
}

/// Whether `gap` is `<hex>` and the hex is `contents` (upper or lower case).
fn gap_is_contents(gap: &[u8], contents: &[u8]) -> bool {
    let Some(hex) = gap.strip_prefix(b"<").and_then(|g| g.strip_suffix(b">")) else {
        return false;
    };
    if hex.len() != contents.len() * 2 {
        return false;
    }
    hex.chunks(2).zip(contents).all(|(pair, byte)| match pair {
        [h, l] => match (hex_val(*h), hex_val(*l)) {
            (Some(h), Some(l)) => (h << 4 | l) == *byte,
            _ => false,
        },
        _ => false,
    })
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The widgets of a signature field as of `rev`: its `/Kids`, and the field itself when
/// it has a `/Rect` (a field merged with its single widget).
pub(crate) fn widgets_of(
    file: &PdfFile,
    rev: usize,
    field_id: ObjectId,
    field: &Dictionary,
) -> Vec<(ObjectId, Dictionary)> {
    let mut out = Vec::new();
    if field.has(b"Rect") || has_name(field, b"Subtype", b"Widget") {
        out.push((field_id, field.clone()));
    }
    if let Some(kids) = get_resolved(file, rev, field, b"Kids").and_then(|k| match k {
        Object::Array(a) => Some(a),
        _ => None,
    }) {
        for kid in kids.iter().take(MAX_WALK) {
            if let (Object::Reference(id), Some(d)) = (kid, dict_of(file, rev, kid)) {
                out.push((*id, d));
            }
        }
    }
    out
}

/// The stamps of a signature: each widget's page (in `pages`, as of `rev`), rectangle
/// and whether its appearance draws an image.
pub(crate) fn stamps(
    file: &PdfFile,
    rev: usize,
    found: &FoundSignature,
    pages: &[PageInfo],
) -> Vec<StampReport> {
    let page_of: HashMap<ObjectId, usize> = pages.iter().map(|p| (p.id, p.index + 1)).collect();
    widgets_of(file, rev, found.field_id, &found.field)
        .into_iter()
        .map(|(id, w)| {
            let page = match w.get(b"P") {
                Ok(Object::Reference(p)) => page_of.get(p).copied(),
                _ => None,
            }
            .or_else(|| page_listing(file, rev, pages, id));
            let rect = get_resolved(file, rev, &w, b"Rect")
                .and_then(|r| match r {
                    Object::Array(a) => Some(a),
                    _ => None,
                })
                .and_then(|a| {
                    let n: Option<Vec<f64>> = a.iter().map(number).collect();
                    match n?.as_slice() {
                        [x0, y0, x1, y1] => Some(Rect::new(*x0, *y0, *x1, *y1)),
                        _ => None,
                    }
                });
            StampReport {
                widget: id_str(id),
                page,
                rect_pt: rect,
                rect_mm: rect.map(|r| Rect {
                    x0: pt_to_mm(r.x0),
                    y0: pt_to_mm(r.y0),
                    x1: pt_to_mm(r.x1),
                    y1: pt_to_mm(r.y1),
                }),
                image: appearance_has_image(file, rev, &w),
            }
        })
        .collect()
}

/// The 1-based number of the page whose `/Annots` lists `widget`.
fn page_listing(file: &PdfFile, rev: usize, pages: &[PageInfo], widget: ObjectId) -> Option<usize> {
    pages.iter().find_map(|p| {
        let annots = array_of(file, rev, p.dict.get(b"Annots").ok()?)?;
        annots
            .iter()
            .any(|a| matches!(a, Object::Reference(id) if *id == widget))
            .then_some(p.index + 1)
    })
}

/// Whether the widget's normal appearance draws an image XObject (directly or through
/// nested form XObjects).
fn appearance_has_image(file: &PdfFile, rev: usize, widget: &Dictionary) -> bool {
    let Some(ap) = get_resolved(file, rev, widget, b"AP") else {
        return false;
    };
    let Some(normal) = as_dict(&ap).and_then(|d| d.get(b"N").ok()).cloned() else {
        return false;
    };
    let mut stack = vec![normal];
    let mut seen = 0usize;
    while let Some(obj) = stack.pop() {
        seen += 1;
        if seen > 256 {
            return false;
        }
        let Some(value) = resolve_at(file, rev, &obj) else {
            continue;
        };
        match value {
            Object::Stream(s) => {
                if has_name(&s.dict, b"Subtype", b"Image") {
                    return true;
                }
                let xobjects = get_resolved(file, rev, &s.dict, b"Resources")
                    .and_then(|r| as_dict(&r).and_then(|d| d.get(b"XObject").ok()).cloned())
                    .and_then(|x| dict_of(file, rev, &x));
                if let Some(x) = xobjects {
                    stack.extend(x.iter().map(|(_, v)| v.clone()));
                }
            }
            // An appearance dictionary of states (`/N << /On … /Off … >>`).
            Object::Dictionary(d) => stack.extend(d.iter().map(|(_, v)| v.clone())),
            _ => {}
        }
    }
    false
}
