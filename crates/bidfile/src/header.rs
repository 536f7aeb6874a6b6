//! The bid-file header: its fields, its DER encoding, and the bytes the bidder signs.
//!
//! ```text
//! BidFileHeader ::= SEQUENCE {
//!     context   EnvelopeContext,   -- fixed before encryption; its hash is every chunk's AAD
//!     payload   PayloadSummary }   -- known after encryption
//!
//! EnvelopeContext ::= SEQUENCE {
//!     formatVersion  INTEGER,                 -- 1
//!     suite          UTF8String,              -- "gm" | "nist"
//!     fileId         OCTET STRING (SIZE(16)), -- random; bytes 0..7 are the nonce prefix
//!     tenderId       UTF8String,
//!     bidder         Bidder,
//!     createdAt      GeneralizedTime,         -- UTC, whole seconds
//!     chunkSize      INTEGER,
//!     contentType    UTF8String,              -- what the plaintext payload is
//!     recipients     SEQUENCE SIZE (1..64) OF Recipient }
//!
//! Bidder ::= SEQUENCE { name UTF8String, uscc UTF8String }
//!
//! Recipient ::= SEQUENCE {
//!     role               UTF8String,          -- "bidder" | "extra"
//!     certificateSerial  UTF8String,          -- lowercase hex, no leading zeros
//!     subject            UTF8String,          -- as displayed
//!     certificateHash    OCTET STRING,        -- suite hash of the certificate DER
//!     wrappedKey         OCTET STRING }       -- SM2 (GM/T 0009 DER) or ECIES P-256
//!
//! PayloadSummary ::= SEQUENCE {
//!     contentSize     INTEGER,                -- plaintext bytes
//!     contentHash     OCTET STRING,           -- suite hash of the plaintext
//!     chunkCount      INTEGER,                -- max(1, ceil(contentSize / chunkSize))
//!     ciphertextHash  OCTET STRING }          -- suite hash of the payload section as stored
//! ```

use std::path::Path;

use bidkit_crypto::Suite;
use bidkit_crypto::aead::NONCE_LEN;
use bidkit_pki::{Certificate, KeyPurpose, OffsetDateTime};
use der::asn1::{GeneralizedTime, OctetString};
use der::{Decode, Encode, Sequence};
use serde::Serialize;

use crate::key::ContentKey;
use crate::{
    BidFileError, DEFAULT_CHUNK_SIZE, FORMAT_VERSION, MAGIC, MAX_CHUNK_SIZE, MAX_RECIPIENTS,
    MIN_CHUNK_SIZE, Result,
};

/// Length of the random file id.
pub const FILE_ID_LEN: usize = 16;
/// Length of the nonce prefix taken from the file id.
pub const NONCE_PREFIX_LEN: usize = 7;
/// The content type used when the caller does not name one.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

const MAX_TEXT: usize = 512;
const MAX_WRAPPED_KEY: usize = 1024;

/// Who submits the bid.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Bidder {
    /// Registered name (e.g. `北京某某建设有限公司`).
    pub name: String,
    /// Unified social credit code (统一社会信用代码); for a natural-person bidder, the
    /// ID number. Compared with the signing certificate's subject identifier.
    pub uscc: String,
}

impl Bidder {
    /// The bidder named by a holder certificate's subject.
    pub fn from_certificate(cert: &Certificate) -> Result<Self> {
        let subject = cert.subject()?;
        Ok(Bidder {
            name: subject.name().to_owned(),
            uscc: subject.identifier().to_owned(),
        })
    }
}

/// Why a recipient can open the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientRole {
    /// The bidder's own encryption certificate (decrypts at the opening by scan).
    Bidder,
    /// An additional recipient (for example an escrow certificate of the platform).
    Extra,
}

impl RecipientRole {
    /// The name stored in the header.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientRole::Bidder => "bidder",
            RecipientRole::Extra => "extra",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "bidder" => Some(RecipientRole::Bidder),
            "extra" => Some(RecipientRole::Extra),
            _ => None,
        }
    }
}

/// One holder of the content key: an encryption certificate and the content key wrapped
/// to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recipient {
    /// Bidder or extra recipient.
    pub role: RecipientRole,
    /// The encryption certificate's serial (lowercase hex, as [`Certificate::serial_hex`]).
    pub certificate_serial: String,
    /// The certificate's subject as displayed.
    pub subject: String,
    /// The suite hash of the certificate's DER.
    #[serde(serialize_with = "crate::hex_bytes")]
    pub certificate_hash: [u8; 32],
    /// The content key wrapped to the certificate's key: SM2 ciphertext in the
    /// GM/T 0009 DER form (GM), or `E ‖ AES-256-GCM(key) ‖ tag` ECIES (NIST).
    #[serde(serialize_with = "crate::hex_bytes")]
    pub wrapped_key: Vec<u8>,
}

impl Recipient {
    /// Wrap `key` to `cert`, which must be an encryption certificate of the key's suite.
    pub fn wrap(role: RecipientRole, cert: &Certificate, key: &ContentKey) -> Result<Self> {
        let unusable = |reason: String| BidFileError::UnusableRecipient {
            serial: cert.serial_hex(),
            subject: cert.subject_display(),
            reason,
        };
        if cert.suite() != key.suite() {
            return Err(unusable(format!(
                "it is a {} certificate and the bid file is {}",
                cert.suite(),
                key.suite()
            )));
        }
        if cert.purpose() != Some(KeyPurpose::Encryption) {
            return Err(unusable(
                "it is not an encryption certificate (key usage keyEncipherment)".into(),
            ));
        }
        let public = cert.public_key()?;
        let wrapped_key = bidkit_crypto::wrap::wrap(&public, key.as_bytes())?;
        Ok(Recipient {
            role,
            certificate_serial: cert.serial_hex(),
            subject: cert.subject_display(),
            certificate_hash: key.suite().hash().digest(cert.to_der()),
            wrapped_key,
        })
    }

    /// Whether `cert` is this recipient's certificate (same DER hash).
    pub fn is_for(&self, suite: Suite, cert: &Certificate) -> bool {
        suite.hash().digest(cert.to_der()) == self.certificate_hash
    }
}

/// The part of the header fixed before encryption: everything except the payload
/// summary. Its DER hash is the associated data of every chunk, so none of it can be
/// changed without every chunk failing authentication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeaderDraft {
    suite: Suite,
    #[serde(serialize_with = "crate::hex_bytes")]
    file_id: [u8; FILE_ID_LEN],
    tender_id: String,
    bidder: Bidder,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    chunk_size: u32,
    content_type: String,
    recipients: Vec<Recipient>,
}

impl HeaderDraft {
    /// A draft for `tender_id` by `bidder`, created at `created_at` (truncated to whole
    /// seconds), with a fresh random file id, the default chunk size (1 MiB), content
    /// type `application/octet-stream` and no recipients yet.
    pub fn new(
        suite: Suite,
        tender_id: &str,
        bidder: Bidder,
        created_at: OffsetDateTime,
    ) -> Result<Self> {
        check_text("tender id", tender_id)?;
        check_text("bidder name", &bidder.name)?;
        check_text("bidder USCC", &bidder.uscc)?;
        let created_at = created_at
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .map_err(|e| BidFileError::InvalidInput {
                what: "creation time",
                reason: e.to_string(),
            })?;
        // Must be representable as a GeneralizedTime.
        to_generalized(created_at)?;
        Ok(HeaderDraft {
            suite,
            file_id: bidkit_crypto::rng::random_array()?,
            tender_id: tender_id.to_owned(),
            bidder,
            created_at,
            chunk_size: DEFAULT_CHUNK_SIZE,
            content_type: DEFAULT_CONTENT_TYPE.to_owned(),
            recipients: Vec::new(),
        })
    }

    /// Use chunks of `chunk_size` bytes of plaintext (between [`MIN_CHUNK_SIZE`] and
    /// [`MAX_CHUNK_SIZE`]).
    pub fn with_chunk_size(mut self, chunk_size: u32) -> Result<Self> {
        check_chunk_size(chunk_size).map_err(|reason| BidFileError::InvalidInput {
            what: "chunk size",
            reason,
        })?;
        self.chunk_size = chunk_size;
        Ok(self)
    }

    /// Name what the plaintext payload is (a media type such as `application/zip`).
    pub fn with_content_type(mut self, content_type: &str) -> Result<Self> {
        check_text("content type", content_type)?;
        self.content_type = content_type.to_owned();
        Ok(self)
    }

    /// Wrap `key` to `cert` and add it as a recipient. Each certificate may appear once.
    pub fn add_recipient(
        &mut self,
        role: RecipientRole,
        cert: &Certificate,
        key: &ContentKey,
    ) -> Result<&mut Self> {
        if key.suite() != self.suite {
            return Err(BidFileError::BadContentKey {
                suite: self.suite,
                reason: format!("the content key is for the {} suite", key.suite()),
            });
        }
        let recipient = Recipient::wrap(role, cert, key)?;
        self.push_recipient(recipient)
    }

    /// Add a recipient whose key was wrapped elsewhere. The wrapped key is not checked
    /// here (it cannot be without the private key).
    pub fn push_recipient(&mut self, recipient: Recipient) -> Result<&mut Self> {
        if self.recipients.len() >= MAX_RECIPIENTS {
            return Err(BidFileError::InvalidInput {
                what: "recipients",
                reason: format!("at most {MAX_RECIPIENTS} recipients"),
            });
        }
        if self
            .recipients
            .iter()
            .any(|r| r.certificate_hash == recipient.certificate_hash)
        {
            return Err(BidFileError::InvalidInput {
                what: "recipients",
                reason: format!(
                    "certificate {} is already a recipient",
                    recipient.certificate_serial
                ),
            });
        }
        check_recipient(&recipient).map_err(|reason| BidFileError::InvalidInput {
            what: "recipient",
            reason,
        })?;
        self.recipients.push(recipient);
        Ok(self)
    }

    /// The algorithm suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The random file id (its first 7 bytes prefix every chunk nonce).
    pub fn file_id(&self) -> &[u8; FILE_ID_LEN] {
        &self.file_id
    }

    /// The tender this bid is for.
    pub fn tender_id(&self) -> &str {
        &self.tender_id
    }

    /// Who submits the bid.
    pub fn bidder(&self) -> &Bidder {
        &self.bidder
    }

    /// When the bid file was made (UTC, whole seconds).
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// Plaintext bytes per chunk (the last chunk may be shorter).
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// What the plaintext payload is.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The recipients, in order.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// The recipient whose certificate has serial `serial` (any case, leading zeros
    /// ignored).
    pub fn recipient(&self, serial: &str) -> Option<&Recipient> {
        let wanted = normalise_serial(serial);
        self.recipients
            .iter()
            .find(|r| normalise_serial(&r.certificate_serial) == wanted)
    }

    /// The 12-byte nonce of chunk `index`: `fileId[0..7] ‖ index (u32, big-endian) ‖
    /// final flag (0x01 on the last chunk, 0x00 otherwise)`.
    pub fn chunk_nonce(&self, index: u32, last: bool) -> [u8; NONCE_LEN] {
        chunk_nonce(&self.file_id, index, last)
    }

    /// DER of the `EnvelopeContext`.
    pub fn context_der(&self) -> Result<Vec<u8>> {
        self.to_asn1()?.to_der().map_err(encode_error)
    }

    /// The associated data of every chunk: the suite hash of [`HeaderDraft::context_der`].
    pub fn chunk_aad(&self) -> Result<[u8; 32]> {
        Ok(self.suite.hash().digest(&self.context_der()?))
    }

    /// The largest header DER this draft can give, whatever the payload size (used to
    /// reserve room for the header before the payload is written).
    pub(crate) fn max_header_len(&self) -> Result<usize> {
        let worst = HeaderAsn1 {
            context: self.to_asn1()?,
            payload: PayloadAsn1 {
                content_size: u64::MAX,
                content_hash: octets(&[0xff; 32])?,
                chunk_count: u64::MAX,
                ciphertext_hash: octets(&[0xff; 32])?,
            },
        };
        Ok(worst.to_der().map_err(encode_error)?.len())
    }

    pub(crate) fn check_complete(&self) -> Result<()> {
        if self.recipients.is_empty() {
            return Err(BidFileError::InvalidInput {
                what: "recipients",
                reason:
                    "a bid file needs at least one recipient (the bidder's encryption certificate)"
                        .into(),
            });
        }
        Ok(())
    }

    fn to_asn1(&self) -> Result<ContextAsn1> {
        Ok(ContextAsn1 {
            format_version: FORMAT_VERSION,
            suite: self.suite.as_str().to_owned(),
            file_id: octets(&self.file_id)?,
            tender_id: self.tender_id.clone(),
            bidder: BidderAsn1 {
                name: self.bidder.name.clone(),
                uscc: self.bidder.uscc.clone(),
            },
            created_at: to_generalized(self.created_at)?,
            chunk_size: self.chunk_size,
            content_type: self.content_type.clone(),
            recipients: self
                .recipients
                .iter()
                .map(|r| {
                    Ok(RecipientAsn1 {
                        role: r.role.as_str().to_owned(),
                        certificate_serial: r.certificate_serial.clone(),
                        subject: r.subject.clone(),
                        certificate_hash: octets(&r.certificate_hash)?,
                        wrapped_key: octets(&r.wrapped_key)?,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    fn from_asn1(a: ContextAsn1) -> std::result::Result<Self, String> {
        if a.format_version != FORMAT_VERSION {
            return Err(format!(
                "header format version {} (expected {FORMAT_VERSION})",
                a.format_version
            ));
        }
        let suite = match a.suite.as_str() {
            "gm" => Suite::Gm,
            "nist" => Suite::Nist,
            other => return Err(format!("unknown suite {other:?}")),
        };
        let file_id: [u8; FILE_ID_LEN] = a
            .file_id
            .as_bytes()
            .try_into()
            .map_err(|_| format!("the file id is not {FILE_ID_LEN} bytes"))?;
        for (what, text) in [
            ("tender id", &a.tender_id),
            ("bidder name", &a.bidder.name),
            ("bidder USCC", &a.bidder.uscc),
            ("content type", &a.content_type),
        ] {
            text_problem(what, text).map_or(Ok(()), Err)?;
        }
        check_chunk_size(a.chunk_size)?;
        if a.recipients.is_empty() || a.recipients.len() > MAX_RECIPIENTS {
            return Err(format!(
                "{} recipients (1 to {MAX_RECIPIENTS} allowed)",
                a.recipients.len()
            ));
        }
        let mut recipients = Vec::with_capacity(a.recipients.len());
        for (i, r) in a.recipients.into_iter().enumerate() {
            let role = RecipientRole::parse(&r.role)
                .ok_or_else(|| format!("recipient {i}: unknown role {:?}", r.role))?;
            let certificate_hash: [u8; 32] = r
                .certificate_hash
                .as_bytes()
                .try_into()
                .map_err(|_| format!("recipient {i}: the certificate hash is not 32 bytes"))?;
            let recipient = Recipient {
                role,
                certificate_serial: r.certificate_serial,
                subject: r.subject,
                certificate_hash,
                wrapped_key: r.wrapped_key.as_bytes().to_vec(),
            };
            check_recipient(&recipient).map_err(|e| format!("recipient {i}: {e}"))?;
            recipients.push(recipient);
        }
        Ok(HeaderDraft {
            suite,
            file_id,
            tender_id: a.tender_id,
            bidder: Bidder {
                name: a.bidder.name,
                uscc: a.bidder.uscc,
            },
            created_at: from_generalized(a.created_at)?,
            chunk_size: a.chunk_size,
            content_type: a.content_type,
            recipients,
        })
    }
}

/// The part of the header known after encryption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PayloadSummary {
    /// Plaintext bytes.
    pub content_size: u64,
    /// Suite hash (SM3 / SHA-256) of the plaintext.
    #[serde(serialize_with = "crate::hex_bytes")]
    pub content_hash: [u8; 32],
    /// Number of chunks: `max(1, ceil(content_size / chunk_size))`.
    pub chunk_count: u64,
    /// Suite hash of the payload section exactly as stored (every chunk's ciphertext
    /// and tag, in order). Lets anyone check the payload without the key.
    #[serde(serialize_with = "crate::hex_bytes")]
    pub ciphertext_hash: [u8; 32],
}

/// A complete header: the draft and the payload summary, with its exact DER.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Header {
    #[serde(flatten)]
    draft: HeaderDraft,
    payload: PayloadSummary,
    #[serde(skip)]
    der: Vec<u8>,
}

impl Header {
    /// Assemble a header from its two parts (the encryptor does this; tools and tests
    /// may too — a header is only trusted once signed).
    pub fn new(draft: HeaderDraft, payload: PayloadSummary) -> Result<Self> {
        if chunk_count_for(payload.content_size, draft.chunk_size) != Some(payload.chunk_count) {
            return Err(BidFileError::InvalidInput {
                what: "payload summary",
                reason: format!(
                    "{} chunks do not fit {} bytes in chunks of {}",
                    payload.chunk_count, payload.content_size, draft.chunk_size
                ),
            });
        }
        let asn1 = HeaderAsn1 {
            context: draft.to_asn1()?,
            payload: PayloadAsn1 {
                content_size: payload.content_size,
                content_hash: octets(&payload.content_hash)?,
                chunk_count: payload.chunk_count,
                ciphertext_hash: octets(&payload.ciphertext_hash)?,
            },
        };
        let der = asn1.to_der().map_err(encode_error)?;
        if der.len() > crate::MAX_HEADER_LEN as usize {
            return Err(BidFileError::InvalidInput {
                what: "header",
                reason: format!(
                    "{} bytes, more than the {} allowed",
                    der.len(),
                    crate::MAX_HEADER_LEN
                ),
            });
        }
        Ok(Header {
            draft,
            payload,
            der,
        })
    }

    /// Decode a header from its DER (`path` names the file in errors). The encoding
    /// must be exactly canonical: decoding and re-encoding gives the same bytes.
    pub fn from_der(der: &[u8], path: &Path) -> Result<Self> {
        let malformed = |reason: String| BidFileError::MalformedHeader {
            path: path.to_path_buf(),
            reason,
        };
        let asn1 = HeaderAsn1::from_der(der).map_err(|e| malformed(format!("DER: {e}")))?;
        let reencoded = asn1.to_der().map_err(|e| malformed(format!("DER: {e}")))?;
        if reencoded != der {
            return Err(malformed("the DER is not in canonical form".into()));
        }
        let content_hash: [u8; 32] = asn1
            .payload
            .content_hash
            .as_bytes()
            .try_into()
            .map_err(|_| malformed("the content hash is not 32 bytes".into()))?;
        let ciphertext_hash: [u8; 32] = asn1
            .payload
            .ciphertext_hash
            .as_bytes()
            .try_into()
            .map_err(|_| malformed("the ciphertext hash is not 32 bytes".into()))?;
        let draft = HeaderDraft::from_asn1(asn1.context).map_err(malformed)?;
        let payload = PayloadSummary {
            content_size: asn1.payload.content_size,
            content_hash,
            chunk_count: asn1.payload.chunk_count,
            ciphertext_hash,
        };
        let expected = chunk_count_for(payload.content_size, draft.chunk_size)
            .ok_or_else(|| malformed("the content size needs more than 2^32 chunks".into()))?;
        if payload.chunk_count != expected {
            return Err(malformed(format!(
                "{} chunks announced, but {} bytes in chunks of {} make {expected}",
                payload.chunk_count, payload.content_size, draft.chunk_size
            )));
        }
        Ok(Header {
            draft,
            payload,
            der: der.to_vec(),
        })
    }

    /// The fields fixed before encryption.
    pub fn draft(&self) -> &HeaderDraft {
        &self.draft
    }

    /// The fields known after encryption.
    pub fn payload(&self) -> &PayloadSummary {
        &self.payload
    }

    /// The algorithm suite.
    pub fn suite(&self) -> Suite {
        self.draft.suite
    }

    /// The tender this bid is for.
    pub fn tender_id(&self) -> &str {
        &self.draft.tender_id
    }

    /// Who submits the bid.
    pub fn bidder(&self) -> &Bidder {
        &self.draft.bidder
    }

    /// The recipients, in order.
    pub fn recipients(&self) -> &[Recipient] {
        &self.draft.recipients
    }

    /// The exact DER of the header as stored in the file.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The bytes the bidder signs with `signer`'s key: every byte of the file before
    /// the signature length, i.e. `BIDKIT-BID\0 ‖ version ‖ header length (u32 BE) ‖
    /// header DER ‖ certificate length (u32 BE) ‖ signer certificate DER`.
    pub fn to_be_signed(&self, signer: &Certificate) -> Vec<u8> {
        let cert = signer.to_der();
        let mut out = Vec::with_capacity(crate::PREAMBLE_LEN + self.der.len() + 4 + cert.len());
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&len32(self.der.len()).to_be_bytes());
        out.extend_from_slice(&self.der);
        out.extend_from_slice(&len32(cert.len()).to_be_bytes());
        out.extend_from_slice(cert);
        out
    }

    /// Bytes of the payload section: `content_size + 16 × chunk_count`.
    pub fn payload_len(&self) -> u64 {
        self.payload
            .content_size
            .saturating_add(self.payload.chunk_count.saturating_mul(TAG))
    }

    /// Plaintext length of chunk `index` (its stored record is 16 bytes longer).
    pub fn chunk_plaintext_len(&self, index: u64) -> u64 {
        let cs = u64::from(self.draft.chunk_size);
        let last = self.payload.chunk_count.saturating_sub(1);
        if index < last {
            cs
        } else {
            self.payload
                .content_size
                .saturating_sub(last.saturating_mul(cs))
        }
    }
}

const TAG: u64 = bidkit_crypto::aead::TAG_LEN as u64;

/// A length as the format's `u32`; lengths are bounded far below by the limits checked
/// when writing and reading, so saturation never happens for a valid file.
pub(crate) fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `max(1, ceil(size / chunk))`, or `None` past 2^32 chunks (the nonce's 32-bit index).
pub(crate) fn chunk_count_for(size: u64, chunk_size: u32) -> Option<u64> {
    let cs = u64::from(chunk_size.max(1));
    let n = size.div_ceil(cs).max(1);
    (n <= crate::MAX_CHUNKS).then_some(n)
}

pub(crate) fn chunk_nonce(file_id: &[u8; FILE_ID_LEN], index: u32, last: bool) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..NONCE_PREFIX_LEN].copy_from_slice(&file_id[..NONCE_PREFIX_LEN]);
    nonce[NONCE_PREFIX_LEN..NONCE_LEN - 1].copy_from_slice(&index.to_be_bytes());
    nonce[NONCE_LEN - 1] = u8::from(last);
    nonce
}

/// Serial numbers compare as lowercase hex without leading zeros or separators.
pub(crate) fn normalise_serial(serial: &str) -> String {
    let s: String = serial
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let s = s.trim_start_matches('0');
    if s.is_empty() { "00".into() } else { s.into() }
}

fn check_chunk_size(chunk_size: u32) -> std::result::Result<(), String> {
    if (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        Ok(())
    } else {
        Err(format!(
            "chunk size {chunk_size} is outside {MIN_CHUNK_SIZE}..={MAX_CHUNK_SIZE} bytes"
        ))
    }
}

fn check_recipient(r: &Recipient) -> std::result::Result<(), String> {
    if let Some(p) = text_problem("certificate serial", &r.certificate_serial) {
        return Err(p);
    }
    if !r.certificate_serial.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "certificate serial {:?} is not hexadecimal",
            r.certificate_serial
        ));
    }
    if let Some(p) = text_problem("recipient subject", &r.subject) {
        return Err(p);
    }
    if r.wrapped_key.is_empty() || r.wrapped_key.len() > MAX_WRAPPED_KEY {
        return Err(format!(
            "a wrapped key of {} bytes (1 to {MAX_WRAPPED_KEY} allowed)",
            r.wrapped_key.len()
        ));
    }
    Ok(())
}

fn text_problem(what: &str, text: &str) -> Option<String> {
    if text.trim().is_empty() {
        Some(format!("the {what} is empty"))
    } else if text.chars().count() > MAX_TEXT {
        Some(format!("the {what} is longer than {MAX_TEXT} characters"))
    } else if text.chars().any(char::is_control) {
        Some(format!("the {what} contains control characters"))
    } else {
        None
    }
}

fn check_text(what: &'static str, text: &str) -> Result<()> {
    match text_problem(what, text) {
        None => Ok(()),
        Some(reason) => Err(BidFileError::InvalidInput { what, reason }),
    }
}

fn octets(bytes: &[u8]) -> Result<OctetString> {
    OctetString::new(bytes).map_err(encode_error)
}

fn encode_error(e: der::Error) -> BidFileError {
    BidFileError::InvalidInput {
        what: "header",
        reason: format!("cannot be encoded: {e}"),
    }
}

pub(crate) fn to_generalized(t: OffsetDateTime) -> Result<GeneralizedTime> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| BidFileError::InvalidInput {
        what: "time",
        reason: format!("{t} is before 1970"),
    })?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs)).map_err(|e| {
        BidFileError::InvalidInput {
            what: "time",
            reason: format!("{t} cannot be written as a GeneralizedTime: {e}"),
        }
    })
}

pub(crate) fn from_generalized(t: GeneralizedTime) -> std::result::Result<OffsetDateTime, String> {
    let secs = i64::try_from(t.to_unix_duration().as_secs())
        .map_err(|_| "the time is out of range".to_owned())?;
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| format!("the time is out of range: {e}"))
}

#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct HeaderAsn1 {
    context: ContextAsn1,
    payload: PayloadAsn1,
}

#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct ContextAsn1 {
    format_version: u8,
    suite: String,
    file_id: OctetString,
    tender_id: String,
    bidder: BidderAsn1,
    created_at: GeneralizedTime,
    chunk_size: u32,
    content_type: String,
    recipients: Vec<RecipientAsn1>,
}

#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct BidderAsn1 {
    name: String,
    uscc: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct RecipientAsn1 {
    role: String,
    certificate_serial: String,
    subject: String,
    certificate_hash: OctetString,
    wrapped_key: OctetString,
}

#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct PayloadAsn1 {
    content_size: u64,
    content_hash: OctetString,
    chunk_count: u64,
    ciphertext_hash: OctetString,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn nonce_layout() {
        let id = [0xAB; FILE_ID_LEN];
        let n = chunk_nonce(&id, 0x0102_0304, true);
        assert_eq!(hex::encode(n), "ababababababab0102030401");
        let n = chunk_nonce(&id, 7, false);
        assert_eq!(&n[..7], &[0xAB; 7]);
        assert_eq!(&n[7..11], &[0, 0, 0, 7]);
        assert_eq!(n[11], 0);
    }

    #[test]
    fn chunk_counts() {
        assert_eq!(chunk_count_for(0, 16), Some(1));
        assert_eq!(chunk_count_for(1, 16), Some(1));
        assert_eq!(chunk_count_for(16, 16), Some(1));
        assert_eq!(chunk_count_for(17, 16), Some(2));
        assert_eq!(chunk_count_for(u64::MAX, 16), None);
    }

    #[test]
    fn serials_normalise() {
        assert_eq!(normalise_serial("0x00AB:cd"), "abcd");
        assert_eq!(normalise_serial("000"), "00");
    }
}
