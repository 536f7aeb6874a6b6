//! Reading the container's fixed parts: preamble, header, signature block, and where
//! the payload must end.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use bidkit_pki::{Certificate, KeyPurpose};
use serde::Serialize;

use crate::header::{Header, len32};
use crate::{
    BidFileError, FORMAT_VERSION, MAGIC, MAX_CERTIFICATE_LEN, MAX_HEADER_LEN, MAX_PADDING_LEN,
    MAX_SIGNATURE_LEN, PREAMBLE_LEN, Result,
};

/// The signer's certificate and detached signature stored after the header.
///
/// The signature covers every byte of the file before the signature length: preamble,
/// header and the signer certificate ([`Header::to_be_signed`]), so the certificate
/// cannot be swapped or altered either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderSignature {
    /// The signer's certificate (its DER exactly as stored).
    pub certificate: Certificate,
    /// The DER signature `SEQUENCE { r, s }`: SM2-with-SM3 (id `1234567812345678`) in
    /// GM, ECDSA-P256-SHA256 in NIST.
    pub signature: Vec<u8>,
}

/// What checking the header signature found. The signature is only acceptable when
/// every flag is true.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    /// The signature verifies over the header under the certificate's key (and the
    /// certificate is of the header's suite).
    pub valid: bool,
    /// The signer certificate's serial (hex).
    pub signer_serial: String,
    /// The signer certificate's subject.
    pub signer_subject: String,
    /// The certificate's subject identifier (USCC / ID number) is the header's bidder's.
    pub signer_is_bidder: bool,
    /// The certificate is a signing certificate (not the encryption one).
    pub signing_certificate: bool,
    /// The certificate was valid at the header's creation time.
    pub valid_at_creation: bool,
}

impl SignatureCheck {
    /// Check `signature` against `header`.
    pub fn new(header: &Header, signature: &HeaderSignature) -> Self {
        let cert = &signature.certificate;
        let valid = cert.suite() == header.suite()
            && cert.public_key().ok().is_some_and(|k| {
                k.verify(&header.to_be_signed(cert), &signature.signature)
                    .is_ok()
            });
        let signer_is_bidder = cert
            .subject()
            .ok()
            .is_some_and(|s| s.identifier() == header.bidder().uscc);
        SignatureCheck {
            valid,
            signer_serial: cert.serial_hex(),
            signer_subject: cert.subject_display(),
            signer_is_bidder,
            signing_certificate: cert.purpose() == Some(KeyPurpose::Signing),
            valid_at_creation: cert.is_valid_at(header.draft().created_at()),
        }
    }

    /// Whether every flag is set.
    pub fn is_acceptable(&self) -> bool {
        self.valid && self.signer_is_bidder && self.signing_certificate && self.valid_at_creation
    }

    /// One sentence per flag that is not set.
    pub fn problems(&self, header: &Header) -> Vec<String> {
        let signer = format!("{} (serial {})", self.signer_subject, self.signer_serial);
        let mut out = Vec::new();
        if !self.valid {
            out.push(format!(
                "the header signature does not verify under the signer certificate {signer}: the header was altered after signing"
            ));
        }
        if !self.signer_is_bidder {
            out.push(format!(
                "the header is signed by {signer}, not by the bidder {} ({})",
                header.bidder().name,
                header.bidder().uscc
            ));
        }
        if !self.signing_certificate {
            out.push(format!(
                "the signer certificate {signer} is not a signing certificate"
            ));
        }
        if !self.valid_at_creation {
            out.push(format!(
                "the signer certificate {signer} was not valid when the bid file was made ({})",
                bidkit_pki::fmt_time(header.draft().created_at())
            ));
        }
        out
    }
}

/// Byte offsets of a bid file's parts, as announced by its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Layout {
    /// The file's length.
    pub file_len: u64,
    /// Length of the header DER.
    pub header_len: u32,
    /// Length of the signer certificate DER.
    pub certificate_len: u32,
    /// Length of the signature DER.
    pub signature_len: u32,
    /// Zero bytes between the signature and the payload.
    pub padding_len: u32,
    /// Where the first chunk starts.
    pub payload_offset: u64,
    /// Bytes the payload section must have (`content_size + 16 × chunk_count`).
    pub payload_len: u64,
}

impl Layout {
    /// Where the file must end.
    pub fn expected_len(&self) -> u64 {
        self.payload_offset.saturating_add(self.payload_len)
    }
}

/// The parsed fixed parts of a bid file, positioned at its payload.
pub(crate) struct Prefix {
    pub file: File,
    pub header: Header,
    /// The signature and the padding length, or why they cannot be read.
    pub signature: Result<(HeaderSignature, u32)>,
    pub header_len: u32,
}

/// Where the parts of a file with this header and signature are.
pub(crate) fn layout(
    header: &Header,
    header_len: u32,
    signature: &HeaderSignature,
    padding_len: u32,
    file_len: u64,
) -> Layout {
    let certificate_len = len32(signature.certificate.to_der().len());
    let signature_len = len32(signature.signature.len());
    Layout {
        file_len,
        header_len,
        certificate_len,
        signature_len,
        padding_len,
        payload_offset: PREAMBLE_LEN as u64
            + u64::from(header_len)
            + 4
            + u64::from(certificate_len)
            + 4
            + u64::from(signature_len)
            + 4
            + u64::from(padding_len),
        payload_len: header.payload_len(),
    }
}

pub(crate) fn open_file(path: &Path) -> Result<(File, u64)> {
    let file = File::open(path).map_err(|e| BidFileError::io("open", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| BidFileError::io("read", path, e))?;
    if !meta.is_file() {
        return Err(BidFileError::io(
            "read",
            path,
            std::io::Error::other("not a regular file"),
        ));
    }
    Ok((file, meta.len()))
}

/// Read preamble, header, certificate and signature. Errors: I/O, not a bid file,
/// version, truncated or damaged header. A damaged certificate or signature is returned inside
/// [`Prefix::signature`] so the header can still be shown.
pub(crate) fn read_prefix(path: &Path) -> Result<(Prefix, u64)> {
    let (mut file, file_len) = open_file(path)?;
    let mut preamble = [0u8; PREAMBLE_LEN];
    let got = read_up_to(&mut file, &mut preamble, path)?;
    let magic_len = MAGIC.len();
    if got < magic_len || preamble.get(..magic_len) != Some(&MAGIC[..]) {
        // A prefix of the magic is a truncated bid file; anything else is not one.
        if got < magic_len && got > 0 && preamble.get(..got) == MAGIC.get(..got) {
            return Err(truncated(
                path,
                "the preamble",
                PREAMBLE_LEN as u64,
                file_len,
            ));
        }
        return Err(BidFileError::NotABidFile {
            path: path.to_path_buf(),
        });
    }
    let version = preamble[magic_len];
    if got > magic_len && version != FORMAT_VERSION {
        return Err(BidFileError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
            supported: FORMAT_VERSION,
        });
    }
    if got < PREAMBLE_LEN {
        return Err(truncated(
            path,
            "the preamble",
            PREAMBLE_LEN as u64,
            file_len,
        ));
    }
    let header_len = be32(&preamble[PREAMBLE_LEN - 4..]);
    if header_len == 0 || header_len > MAX_HEADER_LEN {
        return Err(BidFileError::MalformedHeader {
            path: path.to_path_buf(),
            reason: format!("header length {header_len} (1 to {MAX_HEADER_LEN} allowed)"),
        });
    }
    let header_end = PREAMBLE_LEN as u64 + u64::from(header_len);
    let mut der = vec![0u8; header_len as usize];
    if read_up_to(&mut file, &mut der, path)? < der.len() {
        return Err(truncated(path, "the header", header_end, file_len));
    }
    let header = Header::from_der(&der, path)?;
    let signature = read_signature(&mut file, path, header_end, file_len);
    Ok((
        Prefix {
            file,
            header,
            signature,
            header_len,
        },
        file_len,
    ))
}

fn read_signature(
    file: &mut File,
    path: &Path,
    header_end: u64,
    file_len: u64,
) -> Result<(HeaderSignature, u32)> {
    let damaged = |reason: String| BidFileError::MalformedSignature {
        path: path.to_path_buf(),
        reason,
    };
    let cert_der = read_field(
        file,
        path,
        "the signer certificate",
        1,
        MAX_CERTIFICATE_LEN,
        header_end,
        file_len,
    )?;
    let cert_end = header_end + 4 + cert_der.len() as u64;
    let certificate = Certificate::from_der(&cert_der)
        .map_err(|e| damaged(format!("signer certificate: {e}")))?;
    let signature = read_field(
        file,
        path,
        "the header signature",
        1,
        MAX_SIGNATURE_LEN,
        cert_end,
        file_len,
    )?;
    let sig_end = cert_end + 4 + signature.len() as u64;
    let padding = read_field(
        file,
        path,
        "the padding",
        0,
        MAX_PADDING_LEN,
        sig_end,
        file_len,
    )?;
    if padding.iter().any(|b| *b != 0) {
        return Err(damaged(
            "the padding before the payload is not all zero".into(),
        ));
    }
    Ok((
        HeaderSignature {
            certificate,
            signature,
        },
        len32(padding.len()),
    ))
}

/// A `u32` big-endian length (`min` to `max`) then that many bytes, starting at
/// `start`.
#[allow(clippy::too_many_arguments)]
fn read_field(
    file: &mut File,
    path: &Path,
    what: &str,
    min: u32,
    max: u32,
    start: u64,
    file_len: u64,
) -> Result<Vec<u8>> {
    let mut len = [0u8; 4];
    if read_up_to(file, &mut len, path)? < 4 {
        return Err(truncated(
            path,
            &format!("the length of {what}"),
            start + 4,
            file_len,
        ));
    }
    let n = be32(&len);
    if n < min || n > max {
        return Err(BidFileError::MalformedSignature {
            path: path.to_path_buf(),
            reason: format!("{what} has length {n} ({min} to {max} allowed)"),
        });
    }
    let mut bytes = vec![0u8; n as usize];
    if read_up_to(file, &mut bytes, path)? < bytes.len() {
        return Err(truncated(path, what, start + 4 + u64::from(n), file_len));
    }
    Ok(bytes)
}

/// Compare the file's length with what the header announces: `Ok` when equal, a
/// truncation error naming the first incomplete chunk, or trailing data.
pub(crate) fn check_length(path: &Path, header: &Header, layout: &Layout) -> Result<()> {
    let expected = layout.expected_len();
    if layout.file_len == expected {
        return Ok(());
    }
    if layout.file_len > expected {
        return Err(BidFileError::TrailingData {
            path: path.to_path_buf(),
            extra: layout.file_len - expected,
        });
    }
    // The chunk the file ends in: every chunk but the last is `chunk size + 16` bytes.
    let count = header.payload().chunk_count;
    let record = u64::from(header.draft().chunk_size()) + crate::TAG_LEN_U64;
    let present = layout.file_len.saturating_sub(layout.payload_offset);
    let index = (present / record).min(count.saturating_sub(1));
    let end = if index + 1 < count {
        layout
            .payload_offset
            .saturating_add((index + 1).saturating_mul(record))
    } else {
        expected
    };
    Err(truncated(
        path,
        &format!("chunk {index} of {count}"),
        end,
        layout.file_len,
    ))
}

fn truncated(path: &Path, what: &str, expected: u64, actual: u64) -> BidFileError {
    BidFileError::Truncated {
        path: PathBuf::from(path),
        what: what.to_owned(),
        expected,
        actual,
    }
}

fn be32(bytes: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    for (dst, src) in b.iter_mut().zip(bytes) {
        *dst = *src;
    }
    u32::from_be_bytes(b)
}

/// Read until `buf` is full or the file ends; return how many bytes were read.
fn read_up_to(file: &mut File, buf: &mut [u8], path: &Path) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = buf.get_mut(filled..).unwrap_or_default();
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(BidFileError::io("read", path, e)),
        }
    }
    Ok(filled)
}
