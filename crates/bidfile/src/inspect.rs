//! `bidkit bid inspect`: show a bid file's header and check its integrity without the
//! content key.

use std::fmt;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::BidFileError;
use crate::container::{self, Layout, SignatureCheck};
use crate::header::Header;

/// The overall result of an inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Structure, header signature, signer and payload hash are all as they should be.
    Intact,
    /// A bid file, but damaged or tampered with (see the problems).
    Damaged,
    /// Not readable as a bid file at all: I/O error, not a bid file, unknown version.
    Unreadable,
}

impl Verdict {
    /// The process exit code: 0 intact, 1 damaged or tampered, 2 unreadable.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Intact => 0,
            Verdict::Damaged => 1,
            Verdict::Unreadable => 2,
        }
    }
}

/// Everything an inspection found.
#[derive(Clone, Debug, Serialize)]
pub struct InspectReport {
    /// The file inspected.
    pub path: PathBuf,
    /// Intact, damaged or unreadable.
    pub verdict: Verdict,
    /// One sentence per problem found (empty when intact).
    pub problems: Vec<String>,
    /// The header, when it could be decoded.
    pub header: Option<Header>,
    /// The header signature check, when the signature block could be decoded.
    pub signature: Option<SignatureCheck>,
    /// Where the parts are, when header and signature block could be read.
    pub layout: Option<Layout>,
    /// Whether every chunk is present with its announced length (and nothing follows).
    pub structure_ok: Option<bool>,
    /// Whether the payload's hash equals the signed ciphertext hash (`None` when the
    /// payload could not be hashed, e.g. truncated).
    pub ciphertext_hash_ok: Option<bool>,
}

impl InspectReport {
    /// The process exit code: 0 intact, 1 damaged or tampered, 2 unreadable.
    pub fn exit_code(&self) -> i32 {
        self.verdict.exit_code()
    }

    fn unreadable(path: &Path, error: &BidFileError) -> Self {
        InspectReport {
            path: path.to_path_buf(),
            verdict: Verdict::Unreadable,
            problems: vec![error.to_string()],
            header: None,
            signature: None,
            layout: None,
            structure_ok: None,
            ciphertext_hash_ok: None,
        }
    }
}

/// Inspect `path` without decrypting: the preamble and header decode, the header
/// signature verifies and is the bidder's (signing certificate, valid at creation), the
/// file has exactly the chunks the header announces, and the payload hashes to the
/// signed ciphertext hash. Reads the whole file once, in constant memory.
///
/// Never fails: an unreadable file gives [`Verdict::Unreadable`].
pub fn inspect(path: &Path) -> InspectReport {
    let (prefix, file_len) = match container::read_prefix(path) {
        Ok(p) => p,
        Err(e) => {
            let mut report = InspectReport::unreadable(path, &e);
            if e.is_damage() {
                report.verdict = Verdict::Damaged;
            }
            return report;
        }
    };
    let mut report = InspectReport {
        path: path.to_path_buf(),
        verdict: Verdict::Intact,
        problems: Vec::new(),
        header: None,
        signature: None,
        layout: None,
        structure_ok: None,
        ciphertext_hash_ok: None,
    };
    let header = prefix.header;
    let mut file = prefix.file;
    match prefix.signature {
        Err(e) => report.problems.push(e.to_string()),
        Ok((signature, padding)) => {
            let check = SignatureCheck::new(&header, &signature);
            report.problems.extend(check.problems(&header));
            report.signature = Some(check);
            let layout =
                container::layout(&header, prefix.header_len, &signature, padding, file_len);
            report.layout = Some(layout);
            let structure = container::check_length(path, &header, &layout);
            report.structure_ok = Some(structure.is_ok());
            let hashable = match structure {
                Ok(()) => true,
                Err(e @ BidFileError::TrailingData { .. }) => {
                    report.problems.push(e.to_string());
                    true
                }
                Err(e) => {
                    report.problems.push(e.to_string());
                    false
                }
            };
            if hashable {
                match hash_payload(&mut file, &header, &layout, path) {
                    Ok(h) => {
                        let ok = h == header.payload().ciphertext_hash;
                        report.ciphertext_hash_ok = Some(ok);
                        if !ok {
                            report.problems.push(format!(
                                "the payload of {} does not match the signed ciphertext hash: chunks were altered, reordered or replaced",
                                path.display()
                            ));
                        }
                    }
                    Err(e) => {
                        report.problems.push(e.to_string());
                        if !e.is_damage() {
                            report.verdict = Verdict::Unreadable;
                        }
                    }
                }
            }
        }
    }
    report.header = Some(header);
    if !report.problems.is_empty() && report.verdict == Verdict::Intact {
        report.verdict = Verdict::Damaged;
    }
    report
}

fn hash_payload(
    file: &mut std::fs::File,
    header: &Header,
    layout: &Layout,
    path: &Path,
) -> crate::Result<[u8; 32]> {
    file.seek(SeekFrom::Start(layout.payload_offset))
        .map_err(|e| BidFileError::io("read", path, e))?;
    let mut hasher = header.suite().hash().hasher();
    let mut remaining = layout.payload_len;
    let mut buf = vec![0u8; 256 * 1024];
    while remaining > 0 {
        let want = usize::try_from(remaining.min(buf.len() as u64)).unwrap_or(buf.len());
        let chunk = buf.get_mut(..want).unwrap_or_default();
        match file.read(chunk) {
            Ok(0) => {
                return Err(BidFileError::Truncated {
                    path: path.to_path_buf(),
                    what: "the payload (the file shrank while it was read)".into(),
                    expected: layout.expected_len(),
                    actual: layout.expected_len() - remaining,
                });
            }
            Ok(n) => {
                hasher.update(chunk.get(..n).unwrap_or_default());
                remaining -= n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(BidFileError::io("read", path, e)),
        }
    }
    Ok(hasher.finalize())
}

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "bid file: {}", self.path.display())?;
        if let Some(h) = &self.header {
            let d = h.draft();
            let p = h.payload();
            writeln!(f, "format:       BIDKIT-BID v{}", crate::FORMAT_VERSION)?;
            writeln!(
                f,
                "suite:        {} ({}, {})",
                h.suite(),
                h.suite().aead(),
                h.suite().hash()
            )?;
            writeln!(f, "tender:       {}", h.tender_id())?;
            writeln!(f, "bidder:       {} ({})", h.bidder().name, h.bidder().uscc)?;
            writeln!(f, "created:      {}", bidkit_pki::fmt_time(d.created_at()))?;
            writeln!(f, "file id:      {}", hex::encode(d.file_id()))?;
            writeln!(
                f,
                "content:      {} bytes, {}",
                p.content_size,
                d.content_type()
            )?;
            writeln!(f, "content hash: {}", hex::encode(p.content_hash))?;
            writeln!(
                f,
                "chunks:       {} of {} bytes",
                p.chunk_count,
                d.chunk_size()
            )?;
            writeln!(f, "payload hash: {}", hex::encode(p.ciphertext_hash))?;
            for r in h.recipients() {
                writeln!(
                    f,
                    "recipient:    {} {} (serial {}, wrapped key {} bytes)",
                    r.role.as_str(),
                    r.subject,
                    r.certificate_serial,
                    r.wrapped_key.len()
                )?;
            }
        }
        if let Some(s) = &self.signature {
            writeln!(
                f,
                "signed by:    {} (serial {}): signature {}",
                s.signer_subject,
                s.signer_serial,
                if s.valid { "valid" } else { "INVALID" }
            )?;
        }
        match self.ciphertext_hash_ok {
            Some(true) => writeln!(f, "payload:      matches the signed hash")?,
            Some(false) => writeln!(f, "payload:      DOES NOT match the signed hash")?,
            None => {}
        }
        let verdict = match self.verdict {
            Verdict::Intact => "intact",
            Verdict::Damaged => "DAMAGED OR TAMPERED",
            Verdict::Unreadable => "UNREADABLE",
        };
        writeln!(f, "verdict:      {verdict}")?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}
