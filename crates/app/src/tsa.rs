//! RFC 3161 time stamps over HTTP: a client that asks a time-stamping authority (TSA)
//! for a token and checks it, and an emulated TSA service so that the whole thing runs
//! on one machine.
//!
//! * [`request_timestamp`] / [`fetch_timestamp`] / [`timestamp_blocking`]: build a
//!   `TimeStampReq` (random 64-bit nonce, `certReq TRUE`), POST it as
//!   `application/timestamp-query` (RFC 3161 §3.4), insist on an
//!   `application/timestamp-reply`, read the `PKIStatusInfo`, and check that the token
//!   echoes the nonce, stamps the requested imprint with the requested hash and
//!   verifies with the TSA certificate it carries ([`bidkit_cms::tsa::verify_token`]).
//!   Whether that certificate chains to a trusted root is the verifier's business.
//! * [`TsaIdentity`]: the emulated TSA's key and certificate, issued by the home's
//!   emulated CA (`$BIDKIT_HOME/ca/<suite>/`) and kept in `$BIDKIT_HOME/tsa/<suite>/`.
//! * [`serve_tsa`] / [`EmbeddedTsa`]: an HTTP server answering `POST /` and
//!   `POST /tsa` with [`bidkit_cms::tsa::EmulatedTsa`] at the current time.
//!
//! Test material only: the TSA key is stored **unencrypted** (like the CA root), and
//! its certificate is a *signing* certificate of the test CA. The CA cannot issue the
//! critical `id-kp-timeStamping` extended key usage RFC 3161 §2.3 asks for, so
//! `openssl ts -verify` and strict verifiers refuse these tokens' TSA certificate
//! ([`TimestampInfo::time_stamping_purpose`] is `false`).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bidkit_cms::CmsError;
use bidkit_cms::tsa::{EmulatedTsa, TimestampRequest, parse_response};
pub use bidkit_cms::tsa::{TimestampInfo, signature_imprint, verify_token};
use bidkit_crypto::{HashAlgorithm, PrivateKey, Suite};
use bidkit_pki::{Certificate, CertificateAuthority, KeyPurpose, Subject};
use der::asn1::{AnyRef, BitStringRef, OctetString, Utf8StringRef};
use der::{Decode, Tag, Tagged};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::AppError;

/// The media type of a `TimeStampReq` (RFC 3161 §3.4).
pub const QUERY_CONTENT_TYPE: &str = "application/timestamp-query";
/// The media type of a `TimeStampResp` (RFC 3161 §3.4).
pub const REPLY_CONTENT_TYPE: &str = "application/timestamp-reply";
/// The largest request body the emulated TSA reads (a request is ~100 bytes).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The largest response the client reads (a token with a certificate is ~1–3 KiB).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// A sensible default timeout for one time-stamp request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a time stamp could not be obtained or the emulated TSA could not run. Each has
/// a stable code ([`TsaError::code`]), which is also [`AppError::code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaError {
    /// The TSA URL is not an `http://` URL this build can use.
    #[error("invalid TSA URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be built (an imprint that is not 32 bytes …).
    #[error("cannot build the time-stamp request: {0}")]
    Request(String),
    /// The TSA could not be reached (connection refused, DNS, reset …).
    #[error("the TSA at {url} cannot be reached: {reason}")]
    Unreachable {
        /// The TSA URL.
        url: String,
        /// The transport's explanation.
        reason: String,
    },
    /// The TSA did not answer in time.
    #[error("the TSA at {url} did not answer within {} ms", .waited.as_millis())]
    Timeout {
        /// The TSA URL.
        url: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// The TSA answered with an HTTP error status.
    #[error("the TSA at {url} answered HTTP {status}{}", body_note(.body))]
    Http {
        /// The TSA URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the body, if it was text.
        body: String,
    },
    /// The TSA's answer is not an `application/timestamp-reply`.
    #[error("the TSA at {url} answered {content_type:?}, not {REPLY_CONTENT_TYPE} (RFC 3161 §3.4)")]
    ContentType {
        /// The TSA URL.
        url: String,
        /// The content type it sent (empty if none).
        content_type: String,
    },
    /// The answer is not a readable `TimeStampResp`.
    #[error("the TSA's answer is not a valid RFC 3161 TimeStampResp: {0}")]
    Malformed(String),
    /// The TSA refused to stamp (`rejection`, `waiting`, revocation states).
    #[error("the TSA refused the time stamp: status {status} ({status_name}){}{}", list_note("failInfo", .fail_info), text_note(.text))]
    Rejected {
        /// `PKIStatus` (2 = rejection, 3 = waiting, 4, 5 = revocation).
        status: u32,
        /// Its RFC 3161 name.
        status_name: &'static str,
        /// `statusString`, joined.
        text: String,
        /// The `failInfo` bits set, by name (`badAlg`, `badDataFormat` …).
        fail_info: Vec<&'static str>,
    },
    /// The token does not echo the request's nonce: a replayed or misrouted answer.
    #[error(
        "the time-stamp token's nonce {got} is not the request's {sent}: a replayed or misrouted answer"
    )]
    NonceMismatch {
        /// The nonce sent (hex).
        sent: String,
        /// The nonce in the token (hex, or `none`).
        got: String,
    },
    /// The token stamps another hash or another imprint than the one asked for.
    #[error("the time-stamp token stamps something else: {0}")]
    ImprintMismatch(String),
    /// The token does not verify (signature, signing-certificate attribute, content).
    #[error("the time-stamp token is not valid: {0}")]
    InvalidToken(String),
    /// The emulated TSA could not listen or stopped with an error.
    #[error("the emulated TSA server failed: {0}")]
    Server(#[source] std::io::Error),
}

fn body_note(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

fn list_note(label: &str, items: &[&str]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(", {label} {}", items.join(", "))
    }
}

fn text_note(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text:?}")
    }
}

impl TsaError {
    /// A stable machine code (`tsa-unreachable`, `tsa-rejected` …).
    pub fn code(&self) -> &'static str {
        match self {
            TsaError::BadUrl { .. } => "tsa-bad-url",
            TsaError::Request(_) => "tsa-request",
            TsaError::Unreachable { .. } => "tsa-unreachable",
            TsaError::Timeout { .. } => "tsa-timeout",
            TsaError::Http { .. } => "tsa-http-error",
            TsaError::ContentType { .. } => "tsa-bad-content-type",
            TsaError::Malformed(_) => "tsa-malformed",
            TsaError::Rejected { .. } => "tsa-rejected",
            TsaError::NonceMismatch { .. } => "tsa-nonce-mismatch",
            TsaError::ImprintMismatch(_) => "tsa-imprint-mismatch",
            TsaError::InvalidToken(_) => "tsa-invalid-token",
            TsaError::Server(_) => "tsa-server",
        }
    }
}

impl From<TsaError> for AppError {
    fn from(e: TsaError) -> Self {
        AppError::Timestamp(e)
    }
}

// ---------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------

/// A verified time-stamp token and what it says.
#[derive(Clone, Debug)]
pub struct Timestamp {
    /// The `TimeStampToken` (DER `ContentInfo`), ready for
    /// `bidkit_cms::assemble(…, Some(&token))`.
    pub token: Vec<u8>,
    /// Time, serial, TSA certificate, policy …
    pub info: TimestampInfo,
}

/// Ask the TSA at `url` to stamp `imprint` (a 32-byte `hash` digest) and return the
/// checked `TimeStampToken` (DER). For a PDF signature timestamp the imprint is
/// `bidkit_cms::tsa::signature_imprint(hash, signature)`.
///
/// `timeout` bounds the whole exchange. See [`fetch_timestamp`] for the checks.
pub async fn request_timestamp(
    url: &str,
    hash: HashAlgorithm,
    imprint: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, AppError> {
    Ok(fetch_timestamp(url, hash, imprint, timeout).await?.token)
}

/// [`request_timestamp`] for synchronous callers: runs the exchange on its own thread
/// and runtime, so it may be called from anywhere (also from inside a tokio runtime,
/// which it then blocks for up to `timeout`).
pub fn timestamp_blocking(
    url: &str,
    hash: HashAlgorithm,
    imprint: &[u8],
    timeout: Duration,
) -> Result<Timestamp, AppError> {
    let url = url.to_owned();
    let imprint = imprint.to_vec();
    let worker = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AppError::Timestamp(TsaError::Request(format!("no runtime: {e}"))))?;
        rt.block_on(fetch_timestamp(&url, hash, &imprint, timeout))
    });
    worker.join().unwrap_or_else(|_| {
        Err(AppError::Timestamp(TsaError::Request(
            "the time-stamp thread stopped unexpectedly".into(),
        )))
    })
}

/// Ask the TSA at `url` to stamp `imprint` and return the token with what it says.
///
/// The request carries a random 64-bit nonce and `certReq TRUE`. The answer must be
/// HTTP 2xx with content type `application/timestamp-reply` (RFC 3161 §3.4), at most
/// [`MAX_RESPONSE_BYTES`]; its status `granted` or `grantedWithMods` (otherwise
/// [`TsaError::Rejected`] with the status, its text and failInfo); the token's
/// `TSTInfo` must echo the nonce ([`TsaError::NonceMismatch`]) and stamp `imprint`
/// with `hash` ([`TsaError::ImprintMismatch`]); and the token must verify with the
/// TSA certificate it carries ([`TsaError::InvalidToken`]).
pub async fn fetch_timestamp(
    url: &str,
    hash: HashAlgorithm,
    imprint: &[u8],
    timeout: Duration,
) -> Result<Timestamp, AppError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| TsaError::BadUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "http" => {}
        "https" => {
            return Err(TsaError::BadUrl {
                url: url.to_owned(),
                reason: "this build has no TLS; use the TSA's http:// address (the token is \
                         signed, so TLS adds nothing to its integrity)"
                    .into(),
            }
            .into());
        }
        other => {
            return Err(TsaError::BadUrl {
                url: url.to_owned(),
                reason: format!("scheme {other:?}: expected http"),
            }
            .into());
        }
    }

    let nonce = random_nonce()?;
    let request = TimestampRequest::with_nonce(hash, imprint, Some(&nonce))
        .map_err(|e| TsaError::Request(e.to_string()))?;
    let body =
        match tokio::time::timeout(timeout, post_query(parsed, request.to_der(), timeout)).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(TsaError::Timeout {
                    url: url.to_owned(),
                    waited: timeout,
                }
                .into());
            }
        };
    check_response(&body, hash, imprint, &nonce).map_err(AppError::from)
}

/// Check a DER `TimeStampResp` against the request that was sent: status, nonce,
/// imprint, token signature. Returns the token and what it says.
pub fn check_response(
    response: &[u8],
    hash: HashAlgorithm,
    imprint: &[u8],
    nonce: &[u8],
) -> Result<Timestamp, TsaError> {
    read_status(response)?;
    let token = parse_response(response).map_err(|e| TsaError::Malformed(cms_reason(e)))?;
    let tst = read_tst_info(&token)?;
    let sent = strip_zeros(nonce);
    match tst.nonce.as_deref().map(strip_zeros) {
        Some(got) if got == sent => {}
        got => {
            return Err(TsaError::NonceMismatch {
                sent: hex::encode(sent),
                got: got.map_or_else(|| "none".to_owned(), hex::encode),
            });
        }
    }
    if tst.imprint != imprint {
        return Err(TsaError::ImprintMismatch(format!(
            "the token's imprint is {}, the request's {}",
            hex::encode(&tst.imprint),
            hex::encode(imprint)
        )));
    }
    let info = verify_token(&token, imprint).map_err(|e| TsaError::InvalidToken(cms_reason(e)))?;
    if info.hash_algorithm != hash {
        return Err(TsaError::ImprintMismatch(format!(
            "the token stamps a {} imprint, the request asked {hash}",
            info.hash_algorithm
        )));
    }
    Ok(Timestamp { token, info })
}

fn cms_reason(e: CmsError) -> String {
    match e {
        CmsError::InvalidTimestamp(reason) => reason,
        other => other.to_string(),
    }
}

fn random_nonce() -> Result<[u8; 8], AppError> {
    let mut nonce = bidkit_crypto::rng::random_array::<8>()?;
    // A non-zero leading byte: the nonce keeps its 8 bytes in any encoding.
    if nonce[0] == 0 {
        nonce[0] = 1;
    }
    Ok(nonce)
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    bytes.get(skip..).unwrap_or_default()
}

async fn post_query(
    url: reqwest::Url,
    query: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, TsaError> {
    let shown = url.to_string();
    let client = reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .build()
        .map_err(|e| TsaError::Unreachable {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
    let transport = |e: reqwest::Error| {
        if e.is_timeout() {
            TsaError::Timeout {
                url: shown.clone(),
                waited: timeout,
            }
        } else {
            TsaError::Unreachable {
                url: shown.clone(),
                reason: error_chain(&e),
            }
        }
    };
    let mut response = client
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, QUERY_CONTENT_TYPE)
        .header(reqwest::header::ACCEPT, REPLY_CONTENT_TYPE)
        .body(query.to_vec())
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(TsaError::Malformed(format!(
                "the answer is larger than {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let snippet: String = if content_type.starts_with("text/") || content_type.is_empty() {
            text.trim().chars().take(200).collect()
        } else {
            String::new()
        };
        return Err(TsaError::Http {
            url: shown,
            status: status.as_u16(),
            body: snippet,
        });
    }
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    // `application/timestamp-response` is the name of pre-RFC drafts, still sent by a
    // few old servers.
    if media != REPLY_CONTENT_TYPE && media != "application/timestamp-response" {
        return Err(TsaError::ContentType {
            url: shown,
            content_type,
        });
    }
    Ok(body)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Read `TimeStampResp.status` (RFC 3161 §2.4.2) and fail with its status, text and
/// failInfo unless it is `granted` (0) or `grantedWithMods` (1).
fn read_status(response: &[u8]) -> Result<(), TsaError> {
    let malformed = |e: der::Error| TsaError::Malformed(format!("TimeStampResp: {e}"));
    let resp = Vec::<AnyRef<'_>>::from_der(response).map_err(malformed)?;
    let status_info = resp
        .first()
        .ok_or_else(|| TsaError::Malformed("TimeStampResp: no status".into()))?
        .decode_as::<Vec<AnyRef<'_>>>()
        .map_err(malformed)?;
    let mut fields = status_info.iter();
    let status = fields
        .next()
        .ok_or_else(|| TsaError::Malformed("PKIStatusInfo: no status".into()))?
        .decode_as::<u32>()
        .map_err(malformed)?;
    if status <= 1 {
        return Ok(());
    }
    let mut text = Vec::new();
    let mut fail_info = Vec::new();
    for field in fields {
        match field.tag() {
            Tag::Sequence => {
                // statusString: PKIFreeText ::= SEQUENCE OF UTF8String
                if let Ok(strings) = field.decode_as::<Vec<Utf8StringRef<'_>>>() {
                    text.extend(strings.iter().map(|s| s.as_str().to_owned()));
                }
            }
            Tag::BitString => {
                if let Ok(bits) = field.decode_as::<BitStringRef<'_>>() {
                    fail_info = FAIL_INFO
                        .iter()
                        .filter(|(bit, _)| bits.get(*bit) == Some(true))
                        .map(|(_, name)| *name)
                        .collect();
                }
            }
            _ => {}
        }
    }
    Err(TsaError::Rejected {
        status,
        status_name: match status {
            2 => "rejection",
            3 => "waiting",
            4 => "revocationWarning",
            5 => "revocationNotification",
            _ => "unknown",
        },
        text: text.join("; "),
        fail_info,
    })
}

/// `PKIFailureInfo` bits (RFC 3161 §2.4.2).
const FAIL_INFO: [(usize, &str); 8] = [
    (0, "badAlg"),
    (2, "badRequest"),
    (5, "badDataFormat"),
    (14, "timeNotAvailable"),
    (15, "unacceptedPolicy"),
    (16, "unacceptedExtension"),
    (17, "addInfoNotAvailable"),
    (25, "systemFailure"),
];

/// What the client checks in `TSTInfo` before the signature.
struct TstFields {
    imprint: Vec<u8>,
    nonce: Option<Vec<u8>>,
}

/// Read the message imprint and nonce of the token's `TSTInfo` (RFC 3161 §2.4.2):
/// `SEQUENCE { version, policy, messageImprint, serialNumber, genTime, accuracy
/// OPTIONAL, ordering DEFAULT FALSE, nonce INTEGER OPTIONAL, … }`.
fn read_tst_info(token: &[u8]) -> Result<TstFields, TsaError> {
    let malformed = |e: der::Error| TsaError::Malformed(format!("TimeStampToken: {e}"));
    let content_info = cms::content_info::ContentInfo::from_der(token).map_err(malformed)?;
    let signed = content_info
        .content
        .decode_as::<cms::signed_data::SignedData>()
        .map_err(malformed)?;
    let econtent = signed
        .encap_content_info
        .econtent
        .ok_or_else(|| TsaError::Malformed("the token carries no TSTInfo".into()))?;
    let tst = econtent.decode_as::<OctetString>().map_err(malformed)?;
    let fields = Vec::<AnyRef<'_>>::from_der(tst.as_bytes()).map_err(malformed)?;
    let imprint = fields
        .get(2)
        .filter(|f| f.tag() == Tag::Sequence)
        .ok_or_else(|| TsaError::Malformed("TSTInfo: no messageImprint".into()))?
        .decode_as::<Vec<AnyRef<'_>>>()
        .map_err(malformed)?
        .get(1)
        .ok_or_else(|| TsaError::Malformed("TSTInfo: no hashedMessage".into()))?
        .decode_as::<OctetString>()
        .map_err(malformed)?
        .as_bytes()
        .to_vec();
    // After genTime (index 4): the only INTEGER among the optional fields is the nonce.
    let nonce = fields
        .iter()
        .skip(5)
        .find(|f| f.tag() == Tag::Integer)
        .map(|f| f.value().to_vec());
    Ok(TstFields { imprint, nonce })
}

// ---------------------------------------------------------------------------------
// The emulated TSA
// ---------------------------------------------------------------------------------

const TSA_STATE_FILE: &str = "tsa.json";
const TSA_CERT_FILE: &str = "tsa.pem";
const TSA_CHAIN_FILE: &str = "chain.pem";
const TSA_STATE_FORMAT: u32 = 1;
/// Reissue the TSA certificate when it has less than this left.
const RENEW_MARGIN: time::Duration = time::Duration::days(7);

/// What `$home/tsa/<suite>/tsa.json` holds.
#[derive(Serialize, Deserialize)]
struct TsaState {
    format: u32,
    suite: Suite,
    /// The private scalar, hex. Unencrypted: test material, like the CA root.
    key: String,
    certificate: Certificate,
}

/// The emulated TSA's key and certificate, issued by the home's emulated test CA.
pub struct TsaIdentity {
    dir: PathBuf,
    key: PrivateKey,
    certificate: Certificate,
    root: Certificate,
}

impl std::fmt::Debug for TsaIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsaIdentity")
            .field("dir", &self.dir)
            .field("certificate", &self.certificate.subject_display())
            .field("serial", &self.certificate.serial_hex())
            .finish_non_exhaustive()
    }
}

/// The emulated TSA's holder name for `suite`.
fn tsa_subject(suite: Suite) -> Subject {
    let label = match suite {
        Suite::Gm => "GM",
        Suite::Nist => "NIST",
    };
    Subject::Organisation {
        name: format!("Bidkit Emulated TSA ({label}) — NOT FOR PRODUCTION"),
        uscc: "BIDKIT-TEST-TSA".into(),
    }
}

impl TsaIdentity {
    /// The directory of the `suite` TSA in `home`: `home/tsa/<suite>`.
    pub fn dir_in(home: &Path, suite: Suite) -> PathBuf {
        home.join("tsa").join(suite.as_str())
    }

    /// Open the `suite` TSA of `home`, creating it on first use: a fresh key, and a
    /// certificate from the home's emulated CA (`home/ca/<suite>`, created if missing).
    ///
    /// The certificate is reissued (same key) when it expires within a week or the CA
    /// root changed. It is a *signing* certificate (`digitalSignature,
    /// nonRepudiation`): the test CA cannot issue the `id-kp-timeStamping` EKU.
    /// Files: `tsa.json` (key **unencrypted**, test material; mode 0600 on Unix),
    /// `tsa.pem` (certificate), `chain.pem` (certificate and root).
    pub fn open_or_create(
        home: &Path,
        suite: Suite,
        now: OffsetDateTime,
    ) -> Result<Self, AppError> {
        let dir = Self::dir_in(home, suite);
        let ca_dir = home.join("ca").join(suite.as_str());
        let mut ca = CertificateAuthority::open_or_create(&ca_dir, suite, now)?;
        let root = ca.root().clone();
        let state_path = dir.join(TSA_STATE_FILE);

        let stored = match std::fs::read(&state_path) {
            Ok(bytes) => Some(parse_state(&state_path, &bytes, suite)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(AppError::Io {
                    path: state_path,
                    source,
                });
            }
        };
        let (key, existing) = match stored {
            Some((key, cert)) => (key, Some(cert)),
            None => (PrivateKey::generate(suite)?, None),
        };
        let usable = existing.filter(|cert| {
            cert.suite() == suite
                && cert.public_key().ok().as_ref() == Some(&key.public_key())
                && cert.not_before() <= now
                && cert.not_after() > now + RENEW_MARGIN
                && cert.verify_signature(&root).is_ok()
        });
        let certificate = match usable {
            Some(cert) => cert,
            None => {
                let cert = ca.issue(
                    &tsa_subject(suite),
                    KeyPurpose::Signing,
                    &key.public_key(),
                    now,
                )?;
                write_state(&dir, &key, &cert, suite)?;
                cert
            }
        };
        let identity = TsaIdentity {
            dir,
            key,
            certificate,
            root,
        };
        identity.write_pems()?;
        Ok(identity)
    }

    /// An identity from a key and its certificate (tests, or a TSA key kept elsewhere).
    pub fn from_parts(
        key: PrivateKey,
        certificate: Certificate,
        root: Certificate,
    ) -> Result<Self, AppError> {
        if certificate.public_key()? != key.public_key() {
            return Err(AppError::InvalidOption {
                option: "TSA key",
                reason: "the key is not the certificate's".into(),
            });
        }
        Ok(TsaIdentity {
            dir: PathBuf::new(),
            key,
            certificate,
            root,
        })
    }

    /// Where its files are (empty for [`TsaIdentity::from_parts`]).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The suite of its key and tokens.
    pub fn suite(&self) -> Suite {
        self.certificate.suite()
    }

    /// The TSA certificate (carried in every token).
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The root of the CA that issued it (to check the chain of its tokens).
    pub fn root(&self) -> &Certificate {
        &self.root
    }

    /// Answer a DER `TimeStampReq` at `at` with a DER `TimeStampResp`
    /// ([`EmulatedTsa::respond`]: `granted` with a token, or `rejection` for a request
    /// it cannot read).
    pub fn respond(&self, request: &[u8], at: OffsetDateTime) -> Result<Vec<u8>, TsaError> {
        EmulatedTsa::new(&self.key, self.certificate.clone())
            .respond(request, at)
            .map_err(|e| TsaError::Server(std::io::Error::other(e.to_string())))
    }

    fn write_pems(&self) -> Result<(), AppError> {
        if self.dir.as_os_str().is_empty() {
            return Ok(());
        }
        let cert = self.certificate.to_pem();
        write_file(&self.dir.join(TSA_CERT_FILE), cert.as_bytes(), false)?;
        let chain = format!("{cert}{}", self.root.to_pem());
        write_file(&self.dir.join(TSA_CHAIN_FILE), chain.as_bytes(), false)
    }
}

fn parse_state(
    path: &Path,
    bytes: &[u8],
    suite: Suite,
) -> Result<(PrivateKey, Certificate), AppError> {
    let bad = |reason: String| AppError::InvalidOption {
        option: "TSA state",
        reason: format!("{}: {reason}", path.display()),
    };
    let state: TsaState = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    if state.format != TSA_STATE_FORMAT {
        return Err(bad(format!("unknown format {}", state.format)));
    }
    if state.suite != suite {
        return Err(bad(format!("holds a {} TSA, not {suite}", state.suite)));
    }
    let scalar = zeroize::Zeroizing::new(hex::decode(&state.key).map_err(|e| bad(e.to_string()))?);
    let key = PrivateKey::from_bytes(suite, &scalar)?;
    Ok((key, state.certificate))
}

fn write_state(
    dir: &Path,
    key: &PrivateKey,
    cert: &Certificate,
    suite: Suite,
) -> Result<(), AppError> {
    let state = TsaState {
        format: TSA_STATE_FORMAT,
        suite,
        key: hex::encode(key.to_bytes().as_slice()),
        certificate: cert.clone(),
    };
    let json = zeroize::Zeroizing::new(serde_json::to_vec_pretty(&state).map_err(|e| {
        AppError::InvalidOption {
            option: "TSA state",
            reason: e.to_string(),
        }
    })?);
    let mut state = state;
    zeroize::Zeroize::zeroize(&mut state.key);
    write_file(&dir.join(TSA_STATE_FILE), &json, true)
}

/// Write through a temporary file and a rename; `secret` files are 0600 on Unix.
fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), AppError> {
    use std::io::Write as _;
    let io = |source| AppError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let result = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// The HTTP routes of the emulated TSA: `POST /` and `POST /tsa`.
pub fn tsa_router(tsa: Arc<TsaIdentity>) -> Router {
    Router::new()
        .route("/", post(answer))
        .route("/tsa", post(answer))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(tsa)
}

async fn answer(State(tsa): State<Arc<TsaIdentity>>, headers: HeaderMap, body: Bytes) -> Response {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media != QUERY_CONTENT_TYPE {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("expected Content-Type: {QUERY_CONTENT_TYPE} (RFC 3161 §3.4)\n"),
        )
            .into_response();
    }
    match tsa.respond(&body, OffsetDateTime::now_utc()) {
        Ok(reply) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(REPLY_CONTENT_TYPE),
            )],
            reply,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("emulated TSA: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the TSA could not sign\n",
            )
                .into_response()
        }
    }
}

/// Serve the emulated TSA on `listener` until `shutdown` completes.
///
/// `POST /` and `POST /tsa` with `Content-Type: application/timestamp-query` (body at
/// most [`MAX_REQUEST_BYTES`], else 413) get an `application/timestamp-reply` stamped
/// with the current time; another content type gets 415.
pub async fn serve_tsa(
    listener: TcpListener,
    tsa: TsaIdentity,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    axum::serve(listener, tsa_router(Arc::new(tsa)))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(TsaError::Server)?;
    Ok(())
}

/// The emulated TSA running inside this process on a loopback port (tests, the demo).
/// Stops on [`EmbeddedTsa::shutdown`] or when dropped.
#[derive(Debug)]
pub struct EmbeddedTsa {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), AppError>>>,
}

impl EmbeddedTsa {
    /// Start on `127.0.0.1:0` (needs a tokio runtime).
    pub async fn start(tsa: TsaIdentity) -> Result<Self, AppError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(TsaError::Server)?;
        let addr = listener.local_addr().map_err(TsaError::Server)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_tsa(listener, tsa, async move {
            let _ = rx.await;
        }));
        Ok(EmbeddedTsa {
            addr,
            stop: Some(tx),
            task: Some(task),
        })
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its URL (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stop and wait until the server has finished.
    pub async fn shutdown(mut self) -> Result<(), AppError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| TsaError::Server(std::io::Error::other(e.to_string())))?,
            None => Ok(()),
        }
    }
}

impl Drop for EmbeddedTsa {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
