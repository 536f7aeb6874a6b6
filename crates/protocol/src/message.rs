//! The typed messages carried inside sealed records.
//!
//! Messages are JSON objects with a `"type"` tag (for example
//! `{"type":"sign-request","items":[…]}`); byte fields are base64 strings. JSON was
//! chosen over a compact binary form because messages are small and rare (one per
//! user action, a certificate chain is the largest common field), every phone
//! platform parses it natively, unknown fields can be added without a version bump,
//! and a failing test prints something a person can read. Size is bounded by
//! [`crate::MAX_MESSAGE_LEN`] before parsing; everything is inside the AEAD, so the
//! relay never sees any of it.

use std::fmt;

use bidkit_crypto::{HashAlgorithm, PublicKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::{ProtocolError, Purpose, Role, SessionId};

/// Bytes that must not outlive their use (an unwrapped content key): wiped on drop,
/// never printed.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretBytes(#[serde(with = "crate::b64")] Vec<u8>);

impl SecretBytes {
    /// Wrap `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }

    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes, redacted)", self.0.len())
    }
}

/// Every message of the protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Message {
    /// Tool → phone: prove who you are.
    LoginRequest(LoginRequest),
    /// Phone → tool: certificate chain and a signature over the session-bound challenge.
    LoginResponse(LoginResponse),
    /// Tool → phone: sign these prepared messages (one approval, one PIN for all).
    SignRequest(SignRequest),
    /// Phone → tool: one signature per item, in order.
    SignResponse(SignResponse),
    /// Tool → phone, in a sign session before the [`SignRequest`]: which certificate
    /// will sign (no key is used).
    SignerRequest(SignerRequest),
    /// Phone → tool: the signing certificate chain.
    SignerResponse(SignerResponse),
    /// Tool → phone: send your encryption certificate.
    EncryptionCertRequest(EncryptionCertRequest),
    /// Phone → tool: the encryption certificate.
    EncryptionCertResponse(EncryptionCertResponse),
    /// Tool → phone: unwrap these wrapped content keys.
    UnwrapRequest(UnwrapRequest),
    /// Phone → tool: the unwrapped keys (protected by the session's AEAD).
    UnwrapResponse(UnwrapResponse),
    /// Tool → phone: approve revoking a seal (撤章).
    RevokeSealRequest(RevokeSealRequest),
    /// Tool → phone: approve submitting a bid.
    SubmitRequest(SubmitRequest),
    /// Tool → phone: approve withdrawing a bid (撤标).
    WithdrawRequest(WithdrawRequest),
    /// Tool → phone: confirm the bid-opening result.
    ConfirmOpeningRequest(ConfirmOpeningRequest),
    /// Phone → tool: a signed approval of a revoke, submit, withdraw or confirm request.
    Approval(Approval),
    /// Phone → tool: the holder declined (or the phone could not proceed).
    Refuse(Refusal),
    /// Either side: the session is abandoned.
    Cancel(Cancel),
    /// Either side: a typed failure report.
    Error(ErrorReport),
    /// Tool → phone: the tool's final word on the response (accepted or not).
    Finished(Finished),
}

/// Tool → phone login request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// A fresh random challenge (32 bytes).
    #[serde(with = "crate::b64")]
    pub challenge: Vec<u8>,
    /// Who asks, as shown on the phone (e.g. "Bidkit on DESKTOP-1").
    pub requester: String,
}

/// Phone → tool login proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Signing certificate chain, DER, leaf first.
    #[serde(with = "crate::b64::list")]
    pub certificate_chain: Vec<Vec<u8>>,
    /// Signature (DER) over [`login_signed_data`] with the leaf's key.
    #[serde(with = "crate::b64")]
    pub signature: Vec<u8>,
}

/// Where a seal goes, as the phone shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SealPlacement {
    /// The seal's name (e.g. "某某公司公章").
    pub seal: String,
    /// 1-based page number.
    pub page: u32,
    /// Distance of the seal's centre from the page's left edge, in millimetres.
    pub x_mm: f32,
    /// Distance of the seal's centre from the page's top edge, in millimetres.
    pub y_mm: f32,
    /// How the place was chosen.
    pub mode: PlacementMode,
}

/// How a seal's place was chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PlacementMode {
    /// Placed by position on one page.
    Position,
    /// Placed where a keyword was found.
    Keyword {
        /// The keyword.
        keyword: String,
    },
    /// One slice of a seam seal (骑缝章).
    Seam {
        /// 1-based slice number.
        slice: u32,
        /// Number of slices.
        slices: u32,
    },
    /// Part of a page-range or all-pages batch.
    Batch,
}

/// The document a sign item belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentInfo {
    /// File or document name.
    pub name: String,
    /// Number of pages.
    pub page_count: u32,
}

/// One prepared message to sign, with what the phone must show before the PIN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignItem {
    /// Caller's id for the item (echoed in the response).
    pub id: String,
    /// The document.
    pub document: DocumentInfo,
    /// Every seal this signature places, and where.
    pub seals: Vec<SealPlacement>,
    /// The hash algorithm of `document_digest`.
    pub digest_algorithm: HashAlgorithm,
    /// The document digest (the hash of the signed byte ranges).
    #[serde(with = "crate::b64")]
    pub document_digest: Vec<u8>,
    /// The exact bytes to sign (e.g. the DER of the CMS signed attributes, which
    /// contain `document_digest`).
    #[serde(with = "crate::b64")]
    pub prepared: Vec<u8>,
}

impl SignItem {
    /// The fingerprint the phone shows: the first 8 bytes of the document digest in
    /// upper-case hex groups (`3F2A-9C01-77D0-12AB`). Computed, never sent, so it
    /// cannot disagree with the digest.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.document_digest)
    }

    /// Whether the prepared message contains the document digest (true for CMS
    /// signed attributes, whose `messageDigest` carries it). A phone refuses an item
    /// whose shown digest is not what it signs.
    pub fn digest_is_bound(&self) -> bool {
        let d = &self.document_digest;
        !d.is_empty() && self.prepared.windows(d.len()).any(|w| w == d.as_slice())
    }
}

/// The fingerprint of a digest as people compare it (`3F2A-9C01-77D0-12AB`).
pub fn fingerprint(digest: &[u8]) -> String {
    digest
        .iter()
        .take(8)
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|c| c.iter().map(|b| format!("{b:02X}")).collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Tool → phone: sign these prepared messages under one approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignRequest {
    /// The items, signed in order.
    pub items: Vec<SignItem>,
}

/// One signature of a [`SignResponse`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSignature {
    /// The item's id.
    pub id: String,
    /// DER signature over the item's prepared bytes.
    #[serde(with = "crate::b64")]
    pub signature: Vec<u8>,
}

/// Phone → tool: every item signed (all or nothing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignResponse {
    /// Signing certificate chain, DER, leaf first.
    #[serde(with = "crate::b64::list")]
    pub certificate_chain: Vec<Vec<u8>>,
    /// One signature per request item, in order.
    pub signatures: Vec<ItemSignature>,
}

/// Tool → phone, in a sign session: name the certificate that will sign, before the
/// documents are prepared. CMS signed attributes carry the signer certificate's hash
/// (ESS signing-certificate-v2, RFC 5035), so the tool must know it before it builds
/// what the phone signs. No key is used and no PIN is asked; the phone shows the
/// [`SignRequest`] that follows before any PIN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerRequest {
    /// The seal the signature will apply (by name), if any: the phone answers with the
    /// certificate it uses for that seal.
    pub seal: Option<String>,
}

/// Phone → tool: the certificate chain that will sign (DER, leaf first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerResponse {
    /// Signing certificate chain, DER, leaf first.
    #[serde(with = "crate::b64::list")]
    pub certificate_chain: Vec<Vec<u8>>,
}

/// Tool → phone: send the encryption certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionCertRequest {
    /// Why, as shown on the phone (e.g. the bid's name).
    pub reason: String,
}

/// Phone → tool: the encryption certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionCertResponse {
    /// The encryption certificate, DER.
    #[serde(with = "crate::b64")]
    pub encryption_certificate: Vec<u8>,
    /// The signing certificate chain, DER, leaf first (identifies the holder).
    #[serde(with = "crate::b64::list")]
    pub signing_chain: Vec<Vec<u8>>,
}

/// One wrapped content key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnwrapItem {
    /// Caller's id for the item.
    pub id: String,
    /// What it opens, as shown on the phone (bid file name).
    pub label: String,
    /// The tender it belongs to.
    pub tender: String,
    /// The wrapped key (SM2 or ECIES ciphertext to the encryption certificate).
    #[serde(with = "crate::b64")]
    pub wrapped_key: Vec<u8>,
}

/// Tool → phone: unwrap these keys. Only the wrapped keys travel, never the bid file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnwrapRequest {
    /// The keys.
    pub items: Vec<UnwrapItem>,
}

/// One unwrapped key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnwrappedKey {
    /// The item's id.
    pub id: String,
    /// The content key (protected in transit by the session's AEAD).
    pub key: SecretBytes,
}

/// Phone → tool: the unwrapped keys, in request order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnwrapResponse {
    /// The keys.
    pub keys: Vec<UnwrappedKey>,
}

/// Tool → phone: approve revoking a seal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeSealRequest {
    /// The document the seal is on.
    pub document: String,
    /// The seal's name.
    pub seal: String,
    /// Why.
    pub reason: String,
    /// The exact statement to sign.
    #[serde(with = "crate::b64")]
    pub prepared: Vec<u8>,
}

/// Tool → phone: approve submitting a bid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRequest {
    /// Tender name.
    pub tender: String,
    /// Tender project code.
    pub project_code: String,
    /// The bid file's name.
    pub bid_file: String,
    /// Digest of the bid file (shown as a fingerprint).
    #[serde(with = "crate::b64")]
    pub file_digest: Vec<u8>,
    /// The exact statement to sign.
    #[serde(with = "crate::b64")]
    pub prepared: Vec<u8>,
}

/// Tool → phone: approve withdrawing a bid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawRequest {
    /// Tender name.
    pub tender: String,
    /// Tender project code.
    pub project_code: String,
    /// Why.
    pub reason: String,
    /// The exact statement to sign.
    #[serde(with = "crate::b64")]
    pub prepared: Vec<u8>,
}

/// Tool → phone: confirm the opening record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmOpeningRequest {
    /// Tender name.
    pub tender: String,
    /// Tender project code.
    pub project_code: String,
    /// Digest of the opening record (shown as a fingerprint).
    #[serde(with = "crate::b64")]
    pub record_digest: Vec<u8>,
    /// The record's lines as the phone shows them.
    pub lines: Vec<String>,
    /// The exact statement to sign.
    #[serde(with = "crate::b64")]
    pub prepared: Vec<u8>,
}

/// Phone → tool: a signed approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Signing certificate chain, DER, leaf first.
    #[serde(with = "crate::b64::list")]
    pub certificate_chain: Vec<Vec<u8>>,
    /// DER signature over the request's prepared statement.
    #[serde(with = "crate::b64")]
    pub signature: Vec<u8>,
}

/// Why the phone declined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RefuseReason {
    /// The holder pressed "refuse".
    UserRefused,
    /// The verification code on the phone differs from the tool's.
    CodeMismatch,
    /// The PIN was wrong.
    WrongPin,
    /// The PIN is locked after too many wrong attempts.
    PinLocked,
    /// The holder is not authorised to use the seal or certificate.
    NotAuthorised,
    /// The certificate has expired or was revoked.
    CertificateInvalid,
    /// What the phone was asked to show does not match what it would sign.
    DigestMismatch,
    /// Anything else (see the message).
    Other,
}

impl RefuseReason {
    /// Stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            RefuseReason::UserRefused => "user-refused",
            RefuseReason::CodeMismatch => "code-mismatch",
            RefuseReason::WrongPin => "wrong-pin",
            RefuseReason::PinLocked => "pin-locked",
            RefuseReason::NotAuthorised => "not-authorised",
            RefuseReason::CertificateInvalid => "certificate-invalid",
            RefuseReason::DigestMismatch => "digest-mismatch",
            RefuseReason::Other => "other",
        }
    }
}

impl fmt::Display for RefuseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Phone → tool: declined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Why.
    pub reason: RefuseReason,
    /// A message for people.
    pub message: String,
}

/// Either side: abandoned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    /// Why.
    pub reason: String,
}

/// Either side: a typed failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// Stable machine code (e.g. a [`ProtocolError::code`]).
    pub code: String,
    /// A message for people.
    pub message: String,
}

/// Tool → phone: the outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    /// Whether the tool accepted the response.
    pub ok: bool,
    /// A message for people (e.g. "logged in as 张三").
    pub message: String,
}

/// Which side may send a message, and in which sessions.
enum Allowed {
    Tool(Purpose),
    Phone(&'static [Purpose]),
    ToolAny,
    Either,
}

const STATEMENT_PURPOSES: &[Purpose] = &[
    Purpose::RevokeSeal,
    Purpose::Submit,
    Purpose::Withdraw,
    Purpose::ConfirmOpening,
];

impl Message {
    /// The message's `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::LoginRequest(_) => "login-request",
            Message::LoginResponse(_) => "login-response",
            Message::SignRequest(_) => "sign-request",
            Message::SignResponse(_) => "sign-response",
            Message::SignerRequest(_) => "signer-request",
            Message::SignerResponse(_) => "signer-response",
            Message::EncryptionCertRequest(_) => "encryption-cert-request",
            Message::EncryptionCertResponse(_) => "encryption-cert-response",
            Message::UnwrapRequest(_) => "unwrap-request",
            Message::UnwrapResponse(_) => "unwrap-response",
            Message::RevokeSealRequest(_) => "revoke-seal-request",
            Message::SubmitRequest(_) => "submit-request",
            Message::WithdrawRequest(_) => "withdraw-request",
            Message::ConfirmOpeningRequest(_) => "confirm-opening-request",
            Message::Approval(_) => "approval",
            Message::Refuse(_) => "refuse",
            Message::Cancel(_) => "cancel",
            Message::Error(_) => "error",
            Message::Finished(_) => "finished",
        }
    }

    fn allowed(&self) -> Allowed {
        match self {
            Message::LoginRequest(_) => Allowed::Tool(Purpose::Login),
            Message::SignRequest(_) | Message::SignerRequest(_) => Allowed::Tool(Purpose::Sign),
            Message::EncryptionCertRequest(_) => Allowed::Tool(Purpose::GetEncryptionCert),
            Message::UnwrapRequest(_) => Allowed::Tool(Purpose::Unwrap),
            Message::RevokeSealRequest(_) => Allowed::Tool(Purpose::RevokeSeal),
            Message::SubmitRequest(_) => Allowed::Tool(Purpose::Submit),
            Message::WithdrawRequest(_) => Allowed::Tool(Purpose::Withdraw),
            Message::ConfirmOpeningRequest(_) => Allowed::Tool(Purpose::ConfirmOpening),
            Message::LoginResponse(_) => Allowed::Phone(&[Purpose::Login]),
            Message::SignResponse(_) | Message::SignerResponse(_) => {
                Allowed::Phone(&[Purpose::Sign])
            }
            Message::EncryptionCertResponse(_) => Allowed::Phone(&[Purpose::GetEncryptionCert]),
            Message::UnwrapResponse(_) => Allowed::Phone(&[Purpose::Unwrap]),
            Message::Approval(_) => Allowed::Phone(STATEMENT_PURPOSES),
            Message::Refuse(_) => Allowed::Phone(&Purpose::ALL),
            Message::Finished(_) => Allowed::ToolAny,
            Message::Cancel(_) | Message::Error(_) => Allowed::Either,
        }
    }

    /// Check that `from` may send this message in a `purpose` session.
    pub fn check_allowed(&self, from: Role, purpose: Purpose) -> Result<(), ProtocolError> {
        let ok = match (self.allowed(), from) {
            (Allowed::Tool(p), Role::Tool) => p == purpose,
            (Allowed::Phone(ps), Role::Phone) => ps.contains(&purpose),
            (Allowed::ToolAny, Role::Tool) | (Allowed::Either, _) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(ProtocolError::UnexpectedMessage {
                kind: self.kind(),
                from,
                purpose,
            })
        }
    }

    /// Whether this is the request that opens a `purpose` session's exchange.
    pub fn is_request(&self) -> bool {
        matches!(self.allowed(), Allowed::Tool(_))
    }

    /// Serialize to JSON bytes.
    pub fn to_json(&self) -> Result<Vec<u8>, ProtocolError> {
        serde_json::to_vec(self).map_err(|e| ProtocolError::MalformedMessage {
            reason: e.to_string(),
        })
    }

    /// Parse JSON bytes (at most [`crate::MAX_MESSAGE_LEN`]).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        if bytes.len() > crate::MAX_MESSAGE_LEN {
            return Err(ProtocolError::Oversized {
                len: bytes.len(),
                max: crate::MAX_MESSAGE_LEN,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| ProtocolError::MalformedMessage {
            reason: format!("line {} column {}: {}", e.line(), e.column(), classify(&e)),
        })
    }

    /// What the phone shows before asking for the PIN, one line each (English;
    /// front ends may render the structured fields themselves instead).
    pub fn summary(&self) -> Vec<String> {
        match self {
            Message::LoginRequest(r) => vec![format!("Log in to {}", r.requester)],
            Message::SignRequest(r) => {
                let mut lines = vec![format!("Sign {} item(s)", r.items.len())];
                for item in &r.items {
                    lines.push(format!(
                        "{} ({} pages), digest {} {}",
                        item.document.name,
                        item.document.page_count,
                        item.digest_algorithm,
                        item.fingerprint()
                    ));
                    for s in &item.seals {
                        let how = match &s.mode {
                            PlacementMode::Position => "position".to_owned(),
                            PlacementMode::Keyword { keyword } => format!("keyword {keyword:?}"),
                            PlacementMode::Seam { slice, slices } => {
                                format!("seam slice {slice}/{slices}")
                            }
                            PlacementMode::Batch => "batch".to_owned(),
                        };
                        lines.push(format!(
                            "  {} on page {} at ({:.1} mm, {:.1} mm), by {how}",
                            s.seal, s.page, s.x_mm, s.y_mm
                        ));
                    }
                }
                lines
            }
            Message::SignerRequest(r) => vec![match &r.seal {
                Some(seal) => format!("Which certificate signs with seal {seal}"),
                None => "Which certificate signs".to_owned(),
            }],
            Message::EncryptionCertRequest(r) => {
                vec![format!("Send the encryption certificate for {}", r.reason)]
            }
            Message::UnwrapRequest(r) => {
                let mut lines = vec![format!("Decrypt {} bid file key(s)", r.items.len())];
                lines.extend(
                    r.items
                        .iter()
                        .map(|i| format!("{} ({})", i.label, i.tender)),
                );
                lines
            }
            Message::RevokeSealRequest(r) => vec![format!(
                "Revoke seal {} on {}: {}",
                r.seal, r.document, r.reason
            )],
            Message::SubmitRequest(r) => vec![format!(
                "Submit {} to {} ({}), digest {}",
                r.bid_file,
                r.tender,
                r.project_code,
                fingerprint(&r.file_digest)
            )],
            Message::WithdrawRequest(r) => vec![format!(
                "Withdraw the bid for {} ({}): {}",
                r.tender, r.project_code, r.reason
            )],
            Message::ConfirmOpeningRequest(r) => {
                let mut lines = vec![format!(
                    "Confirm the opening record of {} ({}), digest {}",
                    r.tender,
                    r.project_code,
                    fingerprint(&r.record_digest)
                )];
                lines.extend(r.lines.iter().cloned());
                lines
            }
            other => vec![other.kind().to_owned()],
        }
    }
}

fn classify(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "read error",
        Category::Syntax => "not JSON",
        Category::Data => "wrong fields or unknown message type",
        Category::Eof => "truncated",
    }
}

/// The exact bytes a phone signs to log in: a domain label, the session id, the
/// handshake transcript hash and the tool's challenge. Because the transcript hash
/// is in it, a login signature made for one session is useless in any other.
pub fn login_signed_data(
    session_id: &SessionId,
    transcript: &[u8; 32],
    challenge: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 16 + 32 + challenge.len());
    out.extend_from_slice(b"bidkit/v1/login\0");
    out.extend_from_slice(&session_id.0);
    out.extend_from_slice(transcript);
    out.extend_from_slice(challenge);
    out
}

/// Check a login proof's signature with the leaf certificate's public key (the
/// caller extracts it and validates the chain with the PKI).
pub fn verify_login_signature(
    leaf_key: &PublicKey,
    session_id: &SessionId,
    transcript: &[u8; 32],
    challenge: &[u8],
    signature: &[u8],
) -> Result<(), ProtocolError> {
    leaf_key
        .verify(
            &login_signed_data(session_id, transcript, challenge),
            signature,
        )
        .map_err(ProtocolError::from)
}
