//! Bid files with the bidder's phone (投标文件加密、递交、撤标、解密), tool side.
//!
//! Four use cases over the relay, each built on the sessions of [`crate::sign`]:
//!
//! * [`encrypt_bid`] — two scans, because a session answers one kind of request (see
//!   [`Purpose`]): first a `get-encryption-cert` session
//!   ([`EncryptionCertRequest`] → the phone's encryption certificate and its signing
//!   certificate, both checked against the trust roots and required to name the same
//!   holder); the payload is then encrypted to that certificate (plus any extra
//!   recipients) with [`bidkit_bidfile::Encryptor`], streamed to an unnamed output
//!   with progress reported; then a `sign` session
//!   ([`SignRequest`](bidkit_protocol::message::SignRequest) with one item,
//!   the header's to-be-signed bytes, whose shown digest is the payload's content
//!   hash) must come back signed by that same signing certificate before the file
//!   gets its name. A refusal or a failed check at any step leaves nothing behind.
//! * [`submit_bid`] / [`withdraw_bid`] — one scan each: a `submit`
//!   ([`SubmitRequest`]) or `withdraw` ([`WithdrawRequest`]) session whose prepared
//!   statement is a [`Receipt`] / [`Withdrawal`] about the bid file (its whole-file
//!   hash, id, tender, bidder, time); the phone's approval must be by the bid file's
//!   header signer, chain to the trust roots and verify; the signed statement is
//!   written as a JSON file ([`StatementFile`]). [`verify_statement`] checks such a
//!   file (signature, signer, chain, the readable part against the signed DER, and
//!   optionally that it is about a given bid file).
//! * [`decrypt_bid`] — one scan: the bid file is opened and its header signer checked
//!   (signature, bidder, chain) before any QR code is shown; only the wrapped content
//!   key of the chosen recipient travels to the phone, in an `unwrap` session
//!   ([`UnwrapRequest`]), and comes back sealed by the session; the payload is then
//!   decrypted streaming into an unnamed file that gets its name only when every
//!   chunk authenticated and the hashes match the signed header.
//!
//! Progress (steps and bytes) goes to a [`BidObserver`], which is also the session's
//! [`SessionObserver`] (QR frames, verification code).

use std::path::{Path, PathBuf};

use bidkit_bidfile::{
    BidFileError, BidFileRef, Bidder, ContentKey, Decryptor, Encryptor, HeaderDraft, Progress,
    Receipt, RecipientRole, Signed, Statement, Withdrawal,
};
use bidkit_crypto::Suite;
use bidkit_pki::{Certificate, KeyPurpose, TrustStore, verify_chain};
use bidkit_protocol::Purpose;
use bidkit_protocol::message::{
    DocumentInfo, EncryptionCertRequest, Message, SignItem, SubmitRequest, UnwrapItem,
    UnwrapRequest, WithdrawRequest,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::AppError;
pub use crate::error::bid_file_code;
use crate::package::{self, Attachment, PackageLimits, PackageManifest};
use crate::session::{SessionObserver, Silent, date_time, describe, load_trust, verify_signer};
use crate::sign::{SignOptions, block_on, exchange, request_signatures};

/// The steps of the bid-file use cases, in the order they happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BidStep {
    /// Scan 1 of 2 (encrypt): the phone sends its encryption certificate.
    FetchEncryptionCertificate,
    /// The payload is being encrypted (progress follows).
    Encrypting,
    /// Scan 2 of 2 (encrypt): the phone signs the header.
    SignHeader,
    /// The bid file got its name.
    Written,
    /// The bid file is opened and its signer checked (decrypt, submit, withdraw).
    Opening,
    /// The phone unwraps the content key (decrypt).
    Unwrapping,
    /// The payload is being decrypted (progress follows).
    Decrypting,
    /// The phone approves a submission receipt or a withdrawal.
    Statement,
}

/// What the tool's screen shows during a bid-file use case: the session (QR frames,
/// verification code, the request sent) and the steps and progress. Every method has
/// a default that does nothing.
pub trait BidObserver: SessionObserver {
    /// A step begins; `detail` says what, for people.
    fn step(&mut self, step: BidStep, detail: &str) {
        let _ = (step, detail);
    }
    /// Bytes encrypted or decrypted so far (after every chunk).
    fn progress(&mut self, progress: &Progress) {
        let _ = progress;
    }
}

impl BidObserver for Silent {}

/// The session a phone step went through.
#[derive(Clone, Debug, Serialize)]
pub struct SessionSummary {
    /// What the session was for.
    pub purpose: Purpose,
    /// The verification code both screens showed.
    pub verification_code: String,
    /// The session id (hex).
    pub session_id: String,
    /// The relay.
    pub relay: String,
}

/// One recipient of a bid file, for reports.
#[derive(Clone, Debug, Serialize)]
pub struct RecipientSummary {
    /// `bidder` or `extra`.
    pub role: RecipientRole,
    /// The encryption certificate's serial (hex).
    pub serial: String,
    /// Its subject as displayed.
    pub subject: String,
}

// ---------------------------------------------------------------------------------
// Encrypt

/// What to encrypt, for whom, and how to reach the phone.
#[derive(Clone, Debug)]
pub struct EncryptOptions {
    /// Relay, trust roots (for the phone's certificates and the extra recipients),
    /// suite, timeout, clock.
    pub sign: SignOptions,
    /// The payload (the sealed bid PDF or a package); only read.
    pub input: PathBuf,
    /// The bid file to write (replaced only when complete and signed).
    pub output: PathBuf,
    /// The tender this bid is for.
    pub tender_id: String,
    /// What the payload is (a media type); `None`: `application/pdf` for a `.pdf`
    /// input, else `application/octet-stream`.
    pub content_type: Option<String>,
    /// Plaintext bytes per chunk; `None`: the format's default (1 MiB).
    pub chunk_size: Option<u32>,
    /// PEM files of extra recipients' encryption certificates (e.g. a platform's
    /// escrow certificate); each must chain to the trust roots.
    pub extra_recipients: Vec<PathBuf>,
    /// The bid project's manifest (`bid.json`, schema `bidkit.bid/1`); `Some`: the
    /// payload is a bid package ([`crate::package`]) of `input` (the sealed PDF), this
    /// manifest with the PDF's hash, and `attachments`, with content type
    /// [`crate::package::CONTENT_TYPE`]. `None` (the default): `input` is the payload
    /// as it is.
    pub manifest: Option<PathBuf>,
    /// Files to add to the package under `attachments/` (only with `manifest`).
    pub attachments: Vec<PathBuf>,
}

impl EncryptOptions {
    /// Encrypt `input` into `output` for `tender_id` with the defaults of `sign`.
    pub fn new(
        sign: SignOptions,
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        tender_id: &str,
    ) -> Self {
        EncryptOptions {
            sign,
            input: input.into(),
            output: output.into(),
            tender_id: tender_id.to_owned(),
            content_type: None,
            chunk_size: None,
            extra_recipients: Vec::new(),
            manifest: None,
            attachments: Vec::new(),
        }
    }
}

/// The bid file made by [`encrypt_bid`].
#[derive(Clone, Debug, Serialize)]
pub struct EncryptReport {
    /// The bid file.
    pub file: PathBuf,
    /// Its length in bytes.
    pub file_len: u64,
    /// The payload it holds.
    pub input: PathBuf,
    /// The suite.
    pub suite: Suite,
    /// The tender.
    pub tender_id: String,
    /// The bidder (from the signing certificate).
    pub bidder: Bidder,
    /// The file id (hex).
    pub file_id: String,
    /// When the header says the file was made (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Plaintext bytes.
    pub content_size: u64,
    /// Suite hash of the plaintext (hex).
    pub content_hash: String,
    /// Suite hash of the stored ciphertext (hex).
    pub ciphertext_hash: String,
    /// Chunks.
    pub chunks: u64,
    /// Who can open it.
    pub recipients: Vec<RecipientSummary>,
    /// The header signer's certificate serial (hex).
    pub signer_serial: String,
    /// The header signer as its certificate names it.
    pub signer: String,
    /// The two sessions: the encryption certificate, then the header signature.
    pub sessions: Vec<SessionSummary>,
    /// The manifest of the bid package encrypted (`None`: a plain payload).
    pub manifest: Option<PackageManifest>,
}

/// Make a bid file with the bidder's phone: see the module documentation.
///
/// Everything that can be checked without the phone is checked first (the input is
/// readable and is not the output, the extra recipients load and chain, the trust
/// roots load). Nothing appears at `opts.output` unless the phone's header signature
/// verified under its verified signing certificate.
pub async fn encrypt_bid(
    opts: &EncryptOptions,
    observer: &mut dyn BidObserver,
) -> Result<EncryptReport, AppError> {
    let suite = opts.sign.suite;
    let now = date_time(&opts.sign.clock);
    let trust = load_trust(&opts.sign.trust, &opts.sign.home, suite, now)?;
    let input_len = std::fs::metadata(&opts.input)
        .map_err(|source| AppError::Io {
            path: opts.input.clone(),
            source,
        })?
        .len();
    if opts.input == opts.output {
        return Err(AppError::InvalidOption {
            option: "output",
            reason: format!(
                "{} is the input; inputs are never overwritten",
                opts.output.display()
            ),
        });
    }
    let extras = opts
        .extra_recipients
        .iter()
        .map(|p| load_extra_recipient(p, suite, &trust, now))
        .collect::<Result<Vec<_>, _>>()?;
    // Fail on a bad tender id, chunk size or content type before any scan.
    draft_for(opts, suite, placeholder_bidder(), now)?;
    // A bid package is made (and checked) before any scan too, into a temporary file
    // beside the output that is gone when this returns.
    let package = match &opts.manifest {
        None => {
            if !opts.attachments.is_empty() {
                return Err(AppError::InvalidOption {
                    option: "attachments",
                    reason: "attachments travel in a bid package: name the manifest too".into(),
                });
            }
            None
        }
        Some(path) => Some(make_package(opts, path).await?),
    };
    let payload_path = package
        .as_ref()
        .map(|(tmp, _)| tmp.path().to_path_buf())
        .unwrap_or_else(|| opts.input.clone());
    let input_len = match &package {
        Some((tmp, _)) => tmp
            .as_file()
            .metadata()
            .map_err(|source| AppError::Io {
                path: tmp.path().to_path_buf(),
                source,
            })?
            .len(),
        None => input_len,
    };

    // Scan 1: the encryption certificate (and the signing certificate naming the
    // holder), both verified.
    observer.step(
        BidStep::FetchEncryptionCertificate,
        "扫码获取加密证书 / scan 1 of 2: the phone sends its encryption certificate",
    );
    let reason = format!("{} ({})", opts.tender_id, file_name(&opts.input));
    let request = Message::EncryptionCertRequest(EncryptionCertRequest { reason });
    let ((enc, signing), first) = exchange(
        &opts.sign,
        Purpose::GetEncryptionCert,
        &request,
        observer,
        "加密已取消 / encryption cancelled: the phone refused",
        |answer, trust, now| verify_encryption_certificate(answer, suite, trust, now),
        |(enc, _)| {
            format!(
                "已收到加密证书 / encryption certificate {} received",
                enc.serial_hex()
            )
        },
    )
    .await?;
    let sessions = vec![SessionSummary {
        purpose: Purpose::GetEncryptionCert,
        verification_code: first.verification_code,
        session_id: first.session_id,
        relay: first.relay,
    }];

    // Encrypt to it (and the extras) into the still unnamed output.
    let bidder = Bidder::from_certificate(&signing)?;
    let mut draft = draft_for(opts, suite, bidder, now)?;
    let key = ContentKey::generate(suite)?;
    draft.add_recipient(RecipientRole::Bidder, &enc, &key)?;
    for extra in &extras {
        draft.add_recipient(RecipientRole::Extra, extra, &key)?;
    }
    let encryptor = Encryptor::new(draft, key)?.with_signer(&signing)?;
    observer.step(
        BidStep::Encrypting,
        &format!(
            "加密 / encrypting {} ({input_len} bytes)",
            opts.input.display()
        ),
    );
    let output = opts.output.clone();
    let prepared = run_blocking(observer, move |progress| {
        encryptor.encrypt_file(&payload_path, &output, progress)
    })
    .await?;
    let manifest = package.map(|(tmp, manifest)| {
        drop(tmp);
        manifest
    });

    // Scan 2: the header signature, by the signing certificate of scan 1.
    observer.step(
        BidStep::SignHeader,
        "扫码签名 / scan 2 of 2: the phone signs the bid-file header",
    );
    let header = prepared.header().clone();
    let item = SignItem {
        id: HEADER_ITEM.into(),
        document: DocumentInfo {
            name: format!("投标文件 / bid file {}", file_name(&opts.output)),
            page_count: 0,
        },
        seals: Vec::new(),
        digest_algorithm: suite.hash(),
        document_digest: header.payload().content_hash.to_vec(),
        prepared: prepared.to_be_signed(&signing),
    };
    let signed = request_signatures(&opts.sign, vec![item], Some(&signing), observer).await?;
    let signature = signed
        .signature(HEADER_ITEM)
        .ok_or_else(|| AppError::AnswerInvalid {
            reason: "the phone's answer has no header signature".into(),
        })?
        .to_vec();
    let outcome = {
        let signing = signing.clone();
        tokio::task::spawn_blocking(move || prepared.finish(&signing, &signature))
            .await
            .map_err(join_error)??
    };
    observer.step(
        BidStep::Written,
        &format!(
            "已写入 / {} written ({} bytes)",
            outcome.path.display(),
            outcome.file_len
        ),
    );
    let mut sessions = sessions;
    sessions.push(SessionSummary {
        purpose: Purpose::Sign,
        verification_code: signed.verification_code,
        session_id: signed.session_id,
        relay: signed.relay,
    });
    let header = &outcome.header;
    let payload = header.payload();
    Ok(EncryptReport {
        file: outcome.path.clone(),
        file_len: outcome.file_len,
        input: opts.input.clone(),
        suite,
        tender_id: header.tender_id().to_owned(),
        bidder: header.bidder().clone(),
        file_id: hex::encode(header.draft().file_id()),
        created_at: header.draft().created_at(),
        content_size: payload.content_size,
        content_hash: hex::encode(payload.content_hash),
        ciphertext_hash: hex::encode(payload.ciphertext_hash),
        chunks: payload.chunk_count,
        recipients: recipients_of(header.recipients()),
        signer_serial: signing.serial_hex(),
        signer: signing.subject_display(),
        sessions,
        manifest,
    })
}

/// Package `opts.input` with the manifest at `manifest` and the attachments into a
/// temporary file beside the output (on a blocking thread); the manifest must be for
/// `opts.tender_id`.
async fn make_package(
    opts: &EncryptOptions,
    manifest: &Path,
) -> Result<(tempfile::NamedTempFile, PackageManifest), AppError> {
    let bid = package::read_bid_manifest(manifest)?;
    if bid.tender_id != opts.tender_id {
        return Err(AppError::InvalidOption {
            option: "manifest",
            reason: format!(
                "{} is for tender {:?}, the bid file for {:?}",
                manifest.display(),
                bid.tender_id,
                opts.tender_id
            ),
        });
    }
    if opts
        .content_type
        .as_deref()
        .is_some_and(|t| t != package::CONTENT_TYPE)
    {
        return Err(AppError::InvalidOption {
            option: "content type",
            reason: format!("a bid package's content type is {}", package::CONTENT_TYPE),
        });
    }
    let attachments = opts
        .attachments
        .iter()
        .map(|p| Attachment::from_path(p))
        .collect::<Result<Vec<_>, _>>()?;
    let dir = opts
        .output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let input = opts.input.clone();
    tokio::task::spawn_blocking(move || {
        let mut tmp = tempfile::Builder::new()
            .prefix(".bid-package.")
            .suffix(".tar.bidkit-partial")
            .tempfile_in(&dir)
            .map_err(|source| AppError::Io {
                path: dir.clone(),
                source,
            })?;
        let path = tmp.path().to_path_buf();
        let manifest = package::pack(&input, &bid, &attachments, tmp.as_file_mut(), &path)?;
        Ok((tmp, manifest))
    })
    .await
    .map_err(join_error)?
}

const HEADER_ITEM: &str = "bid-file-header";

fn placeholder_bidder() -> Bidder {
    Bidder {
        name: "bidder".into(),
        uscc: "0".into(),
    }
}

fn draft_for(
    opts: &EncryptOptions,
    suite: Suite,
    bidder: Bidder,
    now: OffsetDateTime,
) -> Result<HeaderDraft, AppError> {
    let mut draft = HeaderDraft::new(suite, &opts.tender_id, bidder, now)?;
    if let Some(size) = opts.chunk_size {
        draft = draft.with_chunk_size(size)?;
    }
    let content_type = match &opts.content_type {
        _ if opts.manifest.is_some() => crate::package::CONTENT_TYPE.to_owned(),
        Some(t) => t.clone(),
        None => {
            let pdf = opts
                .input
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
            if pdf {
                "application/pdf".into()
            } else {
                bidkit_bidfile::DEFAULT_CONTENT_TYPE.into()
            }
        }
    };
    Ok(draft.with_content_type(&content_type)?)
}

/// An extra recipient's encryption certificate from a PEM file, checked: the suite,
/// the encryption purpose and the chain to the trust roots at `now`.
fn load_extra_recipient(
    path: &Path,
    suite: Suite,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<Certificate, AppError> {
    let bad = |reason: String| AppError::InvalidOption {
        option: "extra recipient",
        reason: format!("{}: {reason}", path.display()),
    };
    let pem = std::fs::read_to_string(path).map_err(|source| AppError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let cert = Certificate::from_pem(&pem).map_err(|e| bad(e.to_string()))?;
    if cert.suite() != suite {
        return Err(bad(format!(
            "certificate {} is a {} certificate and the bid file is {suite}",
            describe(&cert),
            cert.suite()
        )));
    }
    verify_chain(&cert, &[], trust, now, Some(KeyPurpose::Encryption))
        .map_err(|e| bad(format!("certificate {}: {e}", describe(&cert))))?;
    Ok(cert)
}

/// Check the phone's answer to an [`EncryptionCertRequest`]: an encryption
/// certificate of the suite chaining to the trust roots, a signing certificate
/// chaining to them too, and both naming the same holder. Returns both.
fn verify_encryption_certificate(
    answer: Message,
    suite: Suite,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<(Certificate, Certificate), AppError> {
    let response = match answer {
        Message::EncryptionCertResponse(r) => r,
        other => {
            return Err(AppError::AnswerInvalid {
                reason: format!("expected the encryption certificate, got {}", other.kind()),
            });
        }
    };
    let enc = Certificate::from_der(&response.encryption_certificate)?;
    if enc.suite() != suite {
        return Err(AppError::AnswerInvalid {
            reason: format!(
                "the encryption certificate {} is {}, the session is {suite}",
                describe(&enc),
                enc.suite()
            ),
        });
    }
    verify_chain(&enc, &[], trust, now, Some(KeyPurpose::Encryption))?;
    let (signing, _) = verify_signer(&response.signing_chain, None, trust, now)?;
    let holder =
        |c: &Certificate| -> Result<String, AppError> { Ok(c.subject()?.identifier().to_owned()) };
    if holder(&enc)? != holder(&signing)? {
        return Err(AppError::AnswerInvalid {
            reason: format!(
                "the encryption certificate {} and the signing certificate {} name different holders",
                describe(&enc),
                describe(&signing)
            ),
        });
    }
    Ok((enc, signing))
}

// ---------------------------------------------------------------------------------
// Decrypt

/// Which bid file to decrypt, where to, and how to reach the phone.
#[derive(Clone, Debug)]
pub struct DecryptOptions {
    /// Relay, trust roots (for the header signer), suite, timeout, clock. The suite
    /// must be the bid file's.
    pub sign: SignOptions,
    /// The bid file (only read).
    pub input: PathBuf,
    /// Where the payload goes (named only when every chunk authenticated).
    pub output: PathBuf,
    /// The recipient whose phone scans, by encryption-certificate serial; `None`: the
    /// bidder's own recipient entry.
    pub recipient: Option<String>,
    /// Size limits for a bid-package payload (default: [`PackageLimits::default`]).
    pub package_limits: PackageLimits,
}

impl DecryptOptions {
    /// Decrypt `input` into `output` by the bidder's phone, with the defaults of
    /// `sign`.
    pub fn new(sign: SignOptions, input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        DecryptOptions {
            sign,
            input: input.into(),
            output: output.into(),
            recipient: None,
            package_limits: PackageLimits::default(),
        }
    }
}

/// What [`decrypt_bid`] opened and produced.
#[derive(Clone, Debug, Serialize)]
pub struct DecryptReport {
    /// The bid file.
    pub bid_file: PathBuf,
    /// The decrypted payload.
    pub output: PathBuf,
    /// The suite.
    pub suite: Suite,
    /// The tender.
    pub tender_id: String,
    /// Who submitted (the header's bidder, who signed it).
    pub bidder: Bidder,
    /// When the header says the file was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// What the payload is.
    pub content_type: String,
    /// Plaintext bytes.
    pub content_size: u64,
    /// Suite hash of the plaintext (hex; equal to the signed header's).
    pub content_hash: String,
    /// Suite hash of the stored ciphertext (hex).
    pub ciphertext_hash: String,
    /// Chunks authenticated.
    pub chunks: u64,
    /// The bid file's length.
    pub file_len: u64,
    /// The header signer's certificate serial (hex).
    pub signer_serial: String,
    /// The header signer as its certificate names it.
    pub signer: String,
    /// The header signer's verified path, as displayed (signer first, root last).
    pub signer_chain: Vec<String>,
    /// The recipient whose key the phone unwrapped.
    pub recipient: RecipientSummary,
    /// The unwrap session.
    pub session: SessionSummary,
    /// When the payload is a bid package: its manifest (the quoted price, tender,
    /// bidder, the PDF's hash), checked; `output` is then the directory it was
    /// extracted into.
    pub manifest: Option<PackageManifest>,
    /// The decrypted bid document: `output` itself for a plain payload, the package's
    /// `bid.pdf` for a package.
    pub pdf: PathBuf,
}

/// Open a bid file by scan: see the module documentation. The header signer is
/// checked (signature, the bidder's signing certificate valid at creation, the chain
/// to the trust roots at the clock's now) before any QR code is shown; a file that
/// fails is [`AppError::BidSigner`] and is not decrypted.
pub async fn decrypt_bid(
    opts: &DecryptOptions,
    observer: &mut dyn BidObserver,
) -> Result<DecryptReport, AppError> {
    let now = date_time(&opts.sign.clock);
    observer.step(
        BidStep::Opening,
        &format!("打开 / opening {}", opts.input.display()),
    );
    let input = opts.input.clone();
    let opened = tokio::task::spawn_blocking(move || Decryptor::open(&input))
        .await
        .map_err(join_error)??;
    let suite = opened.header().suite();
    if suite != opts.sign.suite {
        return Err(AppError::InvalidOption {
            option: "suite",
            reason: format!(
                "{} is a {suite} bid file; the session would be {}",
                opts.input.display(),
                opts.sign.suite
            ),
        });
    }
    let trust = load_trust(&opts.sign.trust, &opts.sign.home, suite, now)?;
    let signer_chain = check_header_signer(&opened, &opts.input, &trust, now)?;
    let recipient = match &opts.recipient {
        Some(serial) => opened.recipient(serial)?.clone(),
        None => opened
            .header()
            .recipients()
            .iter()
            .find(|r| r.role == RecipientRole::Bidder)
            .cloned()
            .ok_or_else(|| AppError::InvalidOption {
                option: "recipient",
                reason: format!(
                    "{} has no bidder recipient; name one by serial",
                    opts.input.display()
                ),
            })?,
    };
    let header = opened.header().clone();
    let is_package = header.draft().content_type() == package::CONTENT_TYPE;
    if is_package {
        // A package goes into a new directory: refuse an unusable one before the scan.
        package::check_destination(&opts.output)?;
    }
    let file_len = opened.layout().file_len;
    let (signer_serial, signer) = (
        opened.signer().serial_hex(),
        opened.signer().subject_display(),
    );
    observer.step(
        BidStep::Opening,
        &format!(
            "投标人 / bidder {} ({}), made {}, {} bytes, signed by {}",
            header.bidder().name,
            header.bidder().uscc,
            bidkit_pki::fmt_time(header.draft().created_at()),
            header.payload().content_size,
            signer_chain.first().map(String::as_str).unwrap_or_default()
        ),
    );

    // The only thing that travels: the wrapped content key.
    observer.step(
        BidStep::Unwrapping,
        &format!(
            "扫码解密 / scan: the phone of {} unwraps the content key",
            recipient.subject
        ),
    );
    let request = Message::UnwrapRequest(UnwrapRequest {
        items: vec![UnwrapItem {
            id: UNWRAP_ITEM.into(),
            label: file_name(&opts.input),
            tender: header.tender_id().to_owned(),
            wrapped_key: recipient.wrapped_key.clone(),
        }],
    });
    let (key, session) = exchange(
        &opts.sign,
        Purpose::Unwrap,
        &request,
        observer,
        "解密已取消 / decryption cancelled: the phone refused",
        |answer, _, _| content_key_of(answer, suite),
        |_| "已收到内容密钥 / content key received; decrypting on the tool".into(),
    )
    .await?;

    observer.step(
        BidStep::Decrypting,
        &format!(
            "解密 / decrypting into {} ({} bytes)",
            opts.output.display(),
            header.payload().content_size
        ),
    );
    // A package is decrypted into a temporary directory beside the output, then
    // checked and extracted; the directory (and the decrypted archive) is gone when
    // this returns, whatever happens.
    let work = if is_package {
        let dir = opts
            .output
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Some(
            tempfile::Builder::new()
                .prefix(".bid-package.")
                .suffix(".bidkit-partial")
                .tempdir_in(&dir)
                .map_err(|source| AppError::Io { path: dir, source })?,
        )
    } else {
        None
    };
    let output = match &work {
        Some(w) => w.path().join(package::PAYLOAD_FILE),
        None => opts.output.clone(),
    };
    let outcome = run_blocking(observer, move |progress| {
        opened.decrypt_to(&output, &key, progress)
    })
    .await?;
    let (manifest, pdf) = match work {
        None => (None, outcome.path.clone()),
        Some(work) => {
            observer.step(
                BidStep::Decrypting,
                &format!(
                    "检查并解包 / checking and extracting the bid package into {}",
                    opts.output.display()
                ),
            );
            let (archive, dest, limits) = (
                outcome.path.clone(),
                opts.output.clone(),
                opts.package_limits,
            );
            let bid_file = opts.input.clone();
            let manifest = tokio::task::spawn_blocking(move || {
                let r = package::extract(&archive, &dest, &limits);
                drop(work);
                // Name the bid file, not the temporary archive (gone by now).
                r.map_err(|e| match e {
                    AppError::BidPackage { reason, .. } => AppError::BidPackage {
                        path: bid_file,
                        reason,
                    },
                    other => other,
                })
            })
            .await
            .map_err(join_error)??;
            (Some(manifest), opts.output.join(package::PDF_MEMBER))
        }
    };
    let payload = header.payload();
    Ok(DecryptReport {
        bid_file: opts.input.clone(),
        output: if manifest.is_some() {
            opts.output.clone()
        } else {
            outcome.path
        },
        suite,
        tender_id: header.tender_id().to_owned(),
        bidder: header.bidder().clone(),
        created_at: header.draft().created_at(),
        content_type: header.draft().content_type().to_owned(),
        content_size: outcome.content_size,
        content_hash: hex::encode(outcome.content_hash),
        ciphertext_hash: hex::encode(payload.ciphertext_hash),
        chunks: outcome.chunks,
        file_len,
        signer_serial,
        signer,
        signer_chain,
        recipient: RecipientSummary {
            role: recipient.role,
            serial: recipient.certificate_serial.clone(),
            subject: recipient.subject.clone(),
        },
        session: SessionSummary {
            purpose: Purpose::Unwrap,
            verification_code: session.verification_code,
            session_id: session.session_id,
            relay: session.relay,
        },
        manifest,
        pdf,
    })
}

const UNWRAP_ITEM: &str = "bid-file";

/// The header signer of an opened bid file, checked: the signature, the bidder's
/// signing certificate valid at creation, and the chain to `trust` at `now`. Returns
/// the verified path as displayed.
fn check_header_signer(
    opened: &Decryptor,
    path: &Path,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<Vec<String>, AppError> {
    let problems = opened.problems();
    if !opened.signature_check().is_acceptable() || !problems.is_empty() {
        return Err(AppError::BidSigner {
            path: path.to_path_buf(),
            reason: problems.join("; "),
        });
    }
    let verified = opened
        .verify_signer_chain(trust, now)
        .map_err(|e| AppError::BidSigner {
            path: path.to_path_buf(),
            reason: format!("signer {}: {e}", describe(opened.signer())),
        })?;
    Ok(verified.certificates().iter().map(describe).collect())
}

/// The content key in the phone's answer to the unwrap request.
fn content_key_of(answer: Message, suite: Suite) -> Result<ContentKey, AppError> {
    let response = match answer {
        Message::UnwrapResponse(r) => r,
        other => {
            return Err(AppError::AnswerInvalid {
                reason: format!("expected the unwrapped key, got {}", other.kind()),
            });
        }
    };
    match response.keys.as_slice() {
        [one] if one.id == UNWRAP_ITEM => {
            ContentKey::from_bytes(suite, one.key.expose()).map_err(|e| AppError::AnswerInvalid {
                reason: format!("the unwrapped key: {e}"),
            })
        }
        keys => Err(AppError::AnswerInvalid {
            reason: format!(
                "one key ({UNWRAP_ITEM:?}) was asked for, {} came back ({})",
                keys.len(),
                keys.iter()
                    .map(|k| format!("{:?}", k.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

// ---------------------------------------------------------------------------------
// Submit and withdraw

/// Which bid file to submit, where the receipt goes, and how to reach the phone.
#[derive(Clone, Debug)]
pub struct SubmitOptions {
    /// Relay, trust roots, suite (the bid file's), timeout, clock (the submission
    /// time).
    pub sign: SignOptions,
    /// The bid file (only read).
    pub bid_file: PathBuf,
    /// Where the signed receipt (JSON) goes.
    pub output: PathBuf,
    /// The tender's name as the phone shows it; `None`: the bid file's tender id.
    pub tender_name: Option<String>,
    /// The tender's project code as the phone shows it; `None`: the tender id.
    pub project_code: Option<String>,
}

impl SubmitOptions {
    /// Submit `bid_file`, receipt to `output`, with the defaults of `sign`.
    pub fn new(
        sign: SignOptions,
        bid_file: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
    ) -> Self {
        SubmitOptions {
            sign,
            bid_file: bid_file.into(),
            output: output.into(),
            tender_name: None,
            project_code: None,
        }
    }
}

/// Which bid file to withdraw, why, where the statement goes.
#[derive(Clone, Debug)]
pub struct WithdrawOptions {
    /// The bid file, the output (the signed withdrawal, JSON), the session.
    pub submit: SubmitOptions,
    /// Why (shown on the phone and signed; may be empty).
    pub reason: String,
}

/// Which statement a [`StatementFile`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatementKind {
    /// A submission receipt (递交回执).
    SubmissionReceipt,
    /// A withdrawal (撤标).
    Withdrawal,
}

impl StatementKind {
    fn what(self) -> &'static str {
        match self {
            StatementKind::SubmissionReceipt => Receipt::WHAT,
            StatementKind::Withdrawal => Withdrawal::WHAT,
        }
    }
}

/// The JSON file a signed statement is written as: the statement in readable form
/// and the signed DER (`SignedStatement`, hex), which is what counts —
/// [`verify_statement`] checks the readable part against it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatementFile {
    /// Always [`StatementFile::FORMAT`].
    pub format: String,
    /// What it is.
    pub kind: StatementKind,
    /// The statement as JSON (fields of [`Receipt`] or [`Withdrawal`]).
    pub statement: serde_json::Value,
    /// The signer's certificate serial (hex).
    pub signer_serial: String,
    /// The signer as the certificate names it.
    pub signer: String,
    /// The DER of the signed statement, hex.
    pub signed_der: String,
}

impl StatementFile {
    /// The `format` of every statement file.
    pub const FORMAT: &'static str = "bidkit-bid-statement/1";
}

/// A signed submission receipt or withdrawal, written.
#[derive(Clone, Debug, Serialize)]
pub struct StatementReport {
    /// The statement file (JSON).
    pub file: PathBuf,
    /// What it is.
    pub kind: StatementKind,
    /// The bid file it is about.
    pub bid_file: PathBuf,
    /// Suite hash of the whole bid file (hex).
    pub bid_file_hash: String,
    /// The tender.
    pub tender_id: String,
    /// The bidder.
    pub bidder: Bidder,
    /// When (RFC 3339): submitted or withdrawn.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The signer's certificate serial (hex).
    pub signer_serial: String,
    /// The signer as the certificate names it.
    pub signer: String,
    /// The session.
    pub session: SessionSummary,
}

/// Submit a bid file: the phone approves a signed [`Receipt`] (the `submit` scan),
/// written to `opts.output` as a [`StatementFile`]. The approval must come from the
/// bid file's header signer; see the module documentation.
pub async fn submit_bid(
    opts: &SubmitOptions,
    observer: &mut dyn BidObserver,
) -> Result<StatementReport, AppError> {
    let (bid_ref, signer) = open_for_statement(opts, observer).await?;
    let now = date_time(&opts.sign.clock);
    let receipt = Receipt::new(bid_ref.clone(), now);
    let prepared = receipt.to_be_signed()?;
    let request = Message::SubmitRequest(SubmitRequest {
        tender: tender_name(opts, &bid_ref),
        project_code: project_code(opts, &bid_ref),
        bid_file: file_name(&opts.bid_file),
        file_digest: bid_ref.bid_file_hash.to_vec(),
        prepared: prepared.clone(),
    });
    let at = receipt.submitted_at;
    state(
        opts,
        observer,
        Purpose::Submit,
        request,
        receipt,
        &prepared,
        &signer,
        StatementKind::SubmissionReceipt,
        at,
    )
    .await
}

/// Withdraw a bid file (撤标): the phone approves a signed [`Withdrawal`] (the
/// `withdraw` scan), written as a [`StatementFile`]; see [`submit_bid`].
pub async fn withdraw_bid(
    opts: &WithdrawOptions,
    observer: &mut dyn BidObserver,
) -> Result<StatementReport, AppError> {
    let submit = &opts.submit;
    let (bid_ref, signer) = open_for_statement(submit, observer).await?;
    let now = date_time(&submit.sign.clock);
    let withdrawal = Withdrawal::new(bid_ref.clone(), &opts.reason, now);
    let prepared = withdrawal.to_be_signed()?;
    let request = Message::WithdrawRequest(WithdrawRequest {
        tender: tender_name(submit, &bid_ref),
        project_code: project_code(submit, &bid_ref),
        reason: opts.reason.clone(),
        prepared: prepared.clone(),
    });
    let at = withdrawal.withdrawn_at;
    state(
        submit,
        observer,
        Purpose::Withdraw,
        request,
        withdrawal,
        &prepared,
        &signer,
        StatementKind::Withdrawal,
        at,
    )
    .await
}

fn tender_name(opts: &SubmitOptions, r: &BidFileRef) -> String {
    opts.tender_name
        .clone()
        .unwrap_or_else(|| r.tender_id.clone())
}

fn project_code(opts: &SubmitOptions, r: &BidFileRef) -> String {
    opts.project_code
        .clone()
        .unwrap_or_else(|| r.tender_id.clone())
}

/// Open the bid file, check its header signer (signature, bidder, chain), hash it
/// whole. Returns what the statement is about and the certificate that must sign it.
async fn open_for_statement(
    opts: &SubmitOptions,
    observer: &mut dyn BidObserver,
) -> Result<(BidFileRef, Certificate), AppError> {
    observer.step(
        BidStep::Opening,
        &format!("打开 / opening {}", opts.bid_file.display()),
    );
    let path = opts.bid_file.clone();
    let (opened, bid_ref) = tokio::task::spawn_blocking(move || {
        let opened = Decryptor::open(&path)?;
        let bid_ref = BidFileRef::of_file(&path)?;
        Ok::<_, BidFileError>((opened, bid_ref))
    })
    .await
    .map_err(join_error)??;
    if bid_ref.suite != opts.sign.suite {
        return Err(AppError::InvalidOption {
            option: "suite",
            reason: format!(
                "{} is a {} bid file; the session would be {}",
                opts.bid_file.display(),
                bid_ref.suite,
                opts.sign.suite
            ),
        });
    }
    let now = date_time(&opts.sign.clock);
    let trust = load_trust(&opts.sign.trust, &opts.sign.home, bid_ref.suite, now)?;
    check_header_signer(&opened, &opts.bid_file, &trust, now)?;
    Ok((bid_ref, opened.signer().clone()))
}

/// Send the statement request, verify the approval (by `signer`, chained, over
/// `prepared`), attach it and write the statement file.
#[allow(clippy::too_many_arguments)]
async fn state<T: Statement + Serialize>(
    opts: &SubmitOptions,
    observer: &mut dyn BidObserver,
    purpose: Purpose,
    request: Message,
    statement: T,
    prepared: &[u8],
    signer: &Certificate,
    kind: StatementKind,
    at: OffsetDateTime,
) -> Result<StatementReport, AppError> {
    observer.step(
        BidStep::Statement,
        &format!(
            "扫码确认 / scan: the phone approves the {} of {}",
            kind.what(),
            opts.bid_file.display()
        ),
    );
    let what = kind.what();
    let ((leaf, signature), session) = exchange(
        &opts.sign,
        purpose,
        &request,
        observer,
        "已取消 / cancelled: the phone refused",
        |answer, trust, now| verify_approval(answer, prepared, signer, trust, now),
        |(leaf, _)| {
            format!(
                "已签署 / {what} signed with certificate {}",
                leaf.serial_hex()
            )
        },
    )
    .await?;
    let signed = statement.with_signature(&leaf, &signature)?;
    let file = statement_file(&signed, kind)?;
    let json = serde_json::to_vec_pretty(&file).map_err(|e| AppError::BidStatement {
        path: opts.output.clone(),
        what,
        reason: format!("cannot encode: {e}"),
    })?;
    crate::qr::write_atomically(&opts.output, &json)?;
    let subject = signed.statement().subject();
    Ok(StatementReport {
        file: opts.output.clone(),
        kind,
        bid_file: opts.bid_file.clone(),
        bid_file_hash: hex::encode(subject.bid_file_hash),
        tender_id: subject.tender_id.clone(),
        bidder: subject.bidder.clone(),
        at,
        signer_serial: leaf.serial_hex(),
        signer: leaf.subject_display(),
        session: SessionSummary {
            purpose,
            verification_code: session.verification_code,
            session_id: session.session_id,
            relay: session.relay,
        },
    })
}

/// Check a statement approval: an [`Message::Approval`] by `expected`, chaining to
/// `trust` at `now`, whose signature verifies over `prepared`.
fn verify_approval(
    answer: Message,
    prepared: &[u8],
    expected: &Certificate,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<(Certificate, Vec<u8>), AppError> {
    let approval = match answer {
        Message::Approval(a) => a,
        other => {
            return Err(AppError::AnswerInvalid {
                reason: format!("expected an approval, got {}", other.kind()),
            });
        }
    };
    let (leaf, _) = verify_signer(&approval.certificate_chain, Some(expected), trust, now)?;
    leaf.public_key()?
        .verify(prepared, &approval.signature)
        .map_err(|e| AppError::SignatureInvalid {
            item: "approval".into(),
            reason: e.to_string(),
        })?;
    Ok((leaf, approval.signature))
}

fn statement_file<T: Statement + Serialize>(
    signed: &Signed<T>,
    kind: StatementKind,
) -> Result<StatementFile, AppError> {
    let cert = signed.certificate();
    Ok(StatementFile {
        format: StatementFile::FORMAT.into(),
        kind,
        statement: serde_json::to_value(signed.statement()).map_err(|e| {
            AppError::InvalidOption {
                option: "statement",
                reason: format!("cannot encode the {}: {e}", kind.what()),
            }
        })?,
        signer_serial: cert.serial_hex(),
        signer: cert.subject_display(),
        signed_der: hex::encode(signed.to_der()?),
    })
}

/// A statement file that verified.
#[derive(Clone, Debug, Serialize)]
pub struct StatementVerification {
    /// The statement file.
    pub file: PathBuf,
    /// What it is.
    pub kind: StatementKind,
    /// The statement as signed (fields of [`Receipt`] or [`Withdrawal`]).
    pub statement: serde_json::Value,
    /// The signer's certificate serial (hex).
    pub signer_serial: String,
    /// The signer as the certificate names it.
    pub signer: String,
    /// The signer's verified path, as displayed (signer first, root last).
    pub signer_chain: Vec<String>,
    /// Whether the given bid file is the one the statement is about (`None`: none
    /// given). A mismatch is an error, so this is `Some(true)` or `None`.
    pub bid_file_matches: Option<bool>,
}

/// Verify a submission receipt or withdrawal file: it decodes, the signature verifies
/// under the certificate in it, which is the bidder's signing certificate of the
/// statement's suite and chains to `trust` at `now`; its readable part is exactly
/// the signed statement; and, when `bid_file` is given, that file's whole-file hash
/// is the one stated. Anything else is [`AppError::BidStatement`].
pub fn verify_statement(
    path: &Path,
    bid_file: Option<&Path>,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<StatementVerification, AppError> {
    let bytes = std::fs::read(path).map_err(|source| AppError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |what: &'static str, reason: String| AppError::BidStatement {
        path: path.to_path_buf(),
        what,
        reason,
    };
    let file: StatementFile = serde_json::from_slice(&bytes)
        .map_err(|e| invalid("statement", format!("not a Bidkit statement file: {e}")))?;
    if file.format != StatementFile::FORMAT {
        return Err(invalid(
            "statement",
            format!(
                "format {:?} (expected {:?})",
                file.format,
                StatementFile::FORMAT
            ),
        ));
    }
    match file.kind {
        StatementKind::SubmissionReceipt => {
            check_statement::<Receipt>(path, &file, bid_file, trust, now)
        }
        StatementKind::Withdrawal => {
            check_statement::<Withdrawal>(path, &file, bid_file, trust, now)
        }
    }
}

fn check_statement<T: Statement + Serialize>(
    path: &Path,
    file: &StatementFile,
    bid_file: Option<&Path>,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<StatementVerification, AppError> {
    let what = file.kind.what();
    let invalid = |reason: String| AppError::BidStatement {
        path: path.to_path_buf(),
        what,
        reason,
    };
    let der = hex::decode(file.signed_der.trim())
        .map_err(|e| invalid(format!("the signed DER is not hex: {e}")))?;
    let signed = Signed::<T>::from_der(&der).map_err(|e| invalid(e.to_string()))?;
    let signed_json = serde_json::to_value(signed.statement())
        .map_err(|e| invalid(format!("cannot encode the signed statement: {e}")))?;
    if signed_json != file.statement {
        return Err(invalid(format!(
            "its readable part differs from what was signed ({})",
            differing_fields(&file.statement, &signed_json).join(", ")
        )));
    }
    let cert = signed.certificate();
    if file.signer_serial != cert.serial_hex() {
        return Err(invalid(format!(
            "it names signer {} but was signed by certificate {}",
            file.signer_serial,
            cert.serial_hex()
        )));
    }
    let chain = verify_chain(cert, &[], trust, now, Some(KeyPurpose::Signing))
        .map_err(|e| invalid(format!("signer {}: {e}", describe(cert))))?;
    let bid_file_matches = match bid_file {
        None => None,
        Some(bid) => {
            let subject = signed.statement().subject();
            if !subject.matches_file(bid)? {
                return Err(invalid(format!(
                    "it is not about {} (its hash differs from the stated {})",
                    bid.display(),
                    hex::encode(subject.bid_file_hash)
                )));
            }
            Some(true)
        }
    };
    Ok(StatementVerification {
        file: path.to_path_buf(),
        kind: file.kind,
        statement: signed_json,
        signer_serial: cert.serial_hex(),
        signer: cert.subject_display(),
        signer_chain: chain.certificates().iter().map(describe).collect(),
        bid_file_matches,
    })
}

/// The top-level fields in which two JSON objects differ.
fn differing_fields(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| k.to_string())
                .collect()
        }
        _ => vec!["the whole statement".into()],
    }
}

// ---------------------------------------------------------------------------------
// Blocking forms

/// [`encrypt_bid`] for callers without an async runtime (see
/// [`crate::sign::request_signatures_blocking`]).
pub fn encrypt_bid_blocking(
    opts: &EncryptOptions,
    observer: &mut dyn BidObserver,
) -> Result<EncryptReport, AppError> {
    block_on(encrypt_bid(opts, observer))?
}

/// [`decrypt_bid`] for callers without an async runtime.
pub fn decrypt_bid_blocking(
    opts: &DecryptOptions,
    observer: &mut dyn BidObserver,
) -> Result<DecryptReport, AppError> {
    block_on(decrypt_bid(opts, observer))?
}

/// [`submit_bid`] for callers without an async runtime.
pub fn submit_bid_blocking(
    opts: &SubmitOptions,
    observer: &mut dyn BidObserver,
) -> Result<StatementReport, AppError> {
    block_on(submit_bid(opts, observer))?
}

/// [`withdraw_bid`] for callers without an async runtime.
pub fn withdraw_bid_blocking(
    opts: &WithdrawOptions,
    observer: &mut dyn BidObserver,
) -> Result<StatementReport, AppError> {
    block_on(withdraw_bid(opts, observer))?
}

// ---------------------------------------------------------------------------------
// Shared

fn recipients_of(recipients: &[bidkit_bidfile::Recipient]) -> Vec<RecipientSummary> {
    recipients
        .iter()
        .map(|r| RecipientSummary {
            role: r.role,
            serial: r.certificate_serial.clone(),
            subject: r.subject.clone(),
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn join_error(e: tokio::task::JoinError) -> AppError {
    AppError::BidFile(BidFileError::Internal(format!(
        "the file task stopped: {e}"
    )))
}

/// Run long file work on a blocking thread, passing its progress to `observer` as it
/// comes.
async fn run_blocking<T: Send + 'static>(
    observer: &mut dyn BidObserver,
    work: impl FnOnce(&mut dyn FnMut(Progress)) -> Result<T, BidFileError> + Send + 'static,
) -> Result<T, AppError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
    let handle = tokio::task::spawn_blocking(move || {
        let mut report = move |p: Progress| {
            let _ = tx.send(p);
        };
        work(&mut report)
    });
    // The channel closes when the work is done (its sender is dropped with it).
    while let Some(p) = rx.recv().await {
        observer.progress(&p);
    }
    Ok(handle.await.map_err(join_error)??)
}
