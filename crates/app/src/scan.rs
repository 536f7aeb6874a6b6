//! The emulated phone scans a QR code (扫一扫): join the session, show the request and
//! the verification code, let the holder (or the script) decide — an interactive holder
//! through [`ScanObserver::consent`], with the PIN, once the full request is shown — and
//! answer with the keystore — sign a login challenge, sign a list of prepared messages under one
//! approval and one PIN (with a seal), send the encryption certificate, unwrap content
//! keys (the keys go back sealed by the session), or approve a revoke / submit /
//! withdraw / opening confirmation with a signature.
//!
//! Every key use goes through the keystore, so every one lands in the usage records
//! with its result. A refusal (the holder's, a wrong PIN, a locked PIN, a code that
//! does not match, a certificate or grant that is no longer valid) is sent to the tool
//! with its typed reason before this function returns; nothing is signed or
//! decrypted then.

use std::sync::Arc;
use std::time::Duration;

use bidkit_keystore::{
    CertSelector, ContinuousSession, KeystoreError, Operation, Phone, PhoneSigner, Unlock,
};
use bidkit_protocol::message::{
    Approval, EncryptionCertResponse, Finished, ItemSignature, LoginResponse, Message,
    RefuseReason, SecretBytes, SignResponse, SignerRequest, SignerResponse, UnwrapResponse,
    UnwrappedKey, login_signed_data,
};
use bidkit_protocol::{Purpose, Suite};
use bidkit_relay::{ClientConfig, ClientError, PhoneConnection, PhoneScan};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::AppError;

/// What the emulated holder does when the request is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Decision {
    /// Follow the phone's scripted outcomes (`bidkit phone script`); with none queued,
    /// approve.
    #[default]
    Scripted,
    /// Approve and enter the PIN (a queued scripted outcome still applies).
    Approve,
    /// Tap "refuse" before any PIN: no key is used.
    Refuse,
}

/// Whether the holder compares the verification codes.
#[derive(Clone, Debug, Default)]
pub enum ExpectCode {
    /// No comparison.
    #[default]
    None,
    /// Refuse unless the phone's code is this one (as read off the tool's screen).
    Code(String),
    /// Ask the observer ([`ScanObserver::code_on_tool_screen`]) once the phone knows
    /// its own code.
    Ask,
}

/// How the holder unlocks the key.
pub enum ScanUnlock {
    /// The certificate PIN.
    Pin(Zeroizing<String>),
    /// An open continuous signing session (no PIN).
    Session(Arc<ContinuousSession>),
    /// None given: fine for refusing; approving fails with a clear message.
    None,
}

impl std::fmt::Debug for ScanUnlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanUnlock::Pin(_) => f.write_str("Pin(<redacted>)"),
            ScanUnlock::Session(s) => write!(f, "Session({})", s.serial()),
            ScanUnlock::None => f.write_str("None"),
        }
    }
}

/// What to scan and how to answer.
#[derive(Debug)]
pub struct ScanOptions {
    /// The scanned QR text (`BK1:…`).
    pub qr_text: String,
    /// The certificate to use; `None`: for a seal, its organisation's certificate,
    /// else the person certificate (of the session's suite).
    pub cert: Option<CertSelector>,
    /// PIN or continuous session.
    pub unlock: ScanUnlock,
    /// Approve, refuse, or follow the script.
    pub decision: Decision,
    /// Compare the verification code.
    pub expect_code: ExpectCode,
    /// The seal to apply to a sign request; `None`: the seal the request names (by
    /// name, among the seals this holder may see), if any.
    pub seal: Option<i64>,
    /// Platform name for the usage records (default: the phone's).
    pub platform: Option<String>,
    /// How long the phone waits for the tool (its accept, request, final word).
    pub wait: Duration,
}

impl ScanOptions {
    /// Scan `qr_text`, follow the script, PIN `pin`, wait up to 60 s for the tool.
    pub fn new(qr_text: impl Into<String>, unlock: ScanUnlock) -> Self {
        ScanOptions {
            qr_text: qr_text.into(),
            cert: None,
            unlock,
            decision: Decision::Scripted,
            expect_code: ExpectCode::None,
            seal: None,
            platform: None,
            wait: Duration::from_secs(60),
        }
    }
}

/// What the phone's screen shows. Every method has a default that does nothing.
pub trait ScanObserver: Send {
    /// Joined: the session's purpose, the relay, and the code to compare.
    fn joined(&mut self, purpose: Purpose, relay: &str, code: &str) {
        let _ = (purpose, relay, code);
    }
    /// The request, as shown before the PIN.
    fn request(&mut self, summary: &[String]) {
        let _ = summary;
    }
    /// For [`ExpectCode::Ask`]: the code on the tool's screen, as the holder reads it
    /// (may block); `None` skips the comparison.
    fn code_on_tool_screen(&mut self) -> Option<String> {
        None
    }
    /// The holder's consent, asked once the code and the full request have been shown
    /// (for a sign session, after the signer certificate was sent and the real request's
    /// summary passed to [`ScanObserver::request`]) and just before the key is used (may
    /// block, e.g. while the holder types the PIN). `None` (the default) keeps
    /// [`ScanOptions::decision`] and [`ScanOptions::unlock`].
    fn consent(&mut self) -> Option<Consent> {
        None
    }
}

/// The holder's answer to [`ScanObserver::consent`].
pub enum Consent {
    /// Approve and unlock the key with this (it replaces [`ScanOptions::unlock`]).
    Approve(ScanUnlock),
    /// Refuse: the tool is told `user-refused`; no key is used.
    Refuse,
    /// The code on the tool's screen is not the phone's: refused with `code-mismatch`
    /// (as a failed [`ExpectCode`] comparison); no key is used.
    CodesDiffer,
}

impl std::fmt::Debug for Consent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Consent::Approve(unlock) => write!(f, "Approve({unlock:?})"),
            Consent::Refuse => f.write_str("Refuse"),
            Consent::CodesDiffer => f.write_str("CodesDiffer"),
        }
    }
}

/// An observer that shows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl ScanObserver for Quiet {}

/// How a scan ended (when it did not fail).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanOutcome {
    /// Approved and answered; the tool accepted.
    Approved,
    /// The holder refused (as told, or as scripted); the tool was told.
    Refused,
    /// The holder never answered (a scripted timeout); the tool gave up.
    NoAnswer,
}

/// The phone's report of one scan.
#[derive(Clone, Debug, Serialize)]
pub struct ScanReport {
    /// The phone (its name in the home).
    pub phone: String,
    /// The session's purpose.
    pub purpose: Purpose,
    /// The relay.
    pub relay: String,
    /// The session id (hex).
    pub session_id: String,
    /// The verification code the phone showed.
    pub verification_code: String,
    /// The request as shown.
    pub request: Vec<String>,
    /// How it ended.
    pub outcome: ScanOutcome,
    /// What the phone did, for people.
    pub detail: String,
    /// The certificate used, if a key was used.
    pub certificate_serial: Option<String>,
    /// The refusal sent, if refused.
    pub refusal: Option<RefuseReason>,
    /// The tool's final word, if it arrived.
    pub tool_message: Option<String>,
}

/// Scan and answer: see the module documentation.
pub async fn scan(
    phone: Arc<Phone>,
    opts: ScanOptions,
    observer: &mut dyn ScanObserver,
) -> Result<ScanReport, AppError> {
    let config = ClientConfig {
        peer_timeout: opts.wait,
        ..ClientConfig::default()
    };
    let scan = PhoneScan::new(&opts.qr_text, config)?;
    let suite = scan.payload().suite;
    let relay = scan.relay().to_string();
    let mut conn = scan.join().await?;
    let code = conn.verification_code().digits();
    observer.joined(conn.purpose(), &relay, &code);
    let request = conn.next_request().await?;
    let summary = request.summary();
    observer.request(&summary);
    let mut report = ScanReport {
        phone: phone.name().to_owned(),
        purpose: conn.purpose(),
        relay,
        session_id: conn.channel().session_id().to_hex(),
        verification_code: code.clone(),
        request: summary,
        outcome: ScanOutcome::Refused,
        detail: String::new(),
        certificate_serial: None,
        refusal: None,
        tool_message: None,
    };

    // 1. Compare the codes: a mismatch means this phone talks to another tool.
    let expected = match &opts.expect_code {
        ExpectCode::None => None,
        ExpectCode::Code(c) => Some(c.clone()),
        ExpectCode::Ask => observer.code_on_tool_screen(),
    };
    if let Some(expected) = expected
        && !conn.verification_code().matches(&expected)
    {
        return Err(codes_differ(&mut conn, code, expected.trim()).await);
    }

    // 2. The holder's decision before any PIN.
    if opts.decision == Decision::Refuse {
        return refused_by_holder(&mut conn, report).await;
    }

    let ctx = Answering {
        suite,
        cert: opts.cert.clone(),
        seal: opts.seal,
        platform: opts.platform.clone(),
        session_id: conn.channel().session_id(),
        transcript: *conn.channel().transcript_hash(),
    };

    // 3. A sign session may first ask which certificate will sign (public: no key, no
    //    PIN); the documents are prepared for it and the sign request follows.
    let mut request = request;
    if let Message::SignerRequest(r) = &request {
        let keystore = phone.clone();
        let (r, ctx_cert, ctx_seal) = (r.clone(), ctx.cert.clone(), ctx.seal);
        let chain = tokio::task::spawn_blocking(move || {
            signer_chain(&keystore, &r, ctx_cert, ctx_seal, suite)
        })
        .await
        .map_err(|e| AppError::InvalidOption {
            option: "scan",
            reason: format!("the keystore task failed: {e}"),
        })?;
        match chain {
            Ok(chain) => {
                conn.respond(&Message::SignerResponse(SignerResponse {
                    certificate_chain: chain,
                }))
                .await?;
                request = conn.next_request().await?;
                report.request = request.summary();
                observer.request(&report.request);
            }
            Err(Failure::Refuse {
                reason,
                message,
                error,
            }) => {
                refuse(&mut conn, reason, &message).await?;
                report.tool_message = final_word(&mut conn).await.ok().map(|f| f.message);
                return match error {
                    None => {
                        report.refusal = Some(reason);
                        report.detail = message;
                        Ok(report)
                    }
                    Some(e) => Err(e),
                };
            }
            Err(Failure::NoAnswer(e)) => return Err(AppError::Keystore(e)),
        }
    }

    // The holder has seen the code and the full request: ask for consent (and the PIN).
    let unlock = match observer.consent() {
        None => opts.unlock,
        Some(Consent::Approve(unlock)) => unlock,
        Some(Consent::Refuse) => return refused_by_holder(&mut conn, report).await,
        Some(Consent::CodesDiffer) => {
            return Err(codes_differ(&mut conn, report.verification_code, "-").await);
        }
    };

    // 4. Use the keystore (blocking: SQLite and the PIN key derivation).
    let keystore = phone.clone();
    let answered = tokio::task::spawn_blocking(move || answer(&keystore, &request, &ctx, &unlock))
        .await
        .map_err(|e| AppError::InvalidOption {
            option: "scan",
            reason: format!("the keystore task failed: {e}"),
        })?;
    match answered {
        Ok(Answer {
            response,
            serial,
            detail,
        }) => {
            conn.respond(&response).await?;
            report.certificate_serial = Some(serial);
            report.detail = detail;
            let finished = match final_word(&mut conn).await {
                Ok(f) => f,
                Err(ClientError::Remote { code, message, .. }) => {
                    return Err(AppError::ToolRejected { code, message });
                }
                Err(e) => return Err(e.into()),
            };
            if !finished.ok {
                return Err(AppError::ToolRejected {
                    code: "not-accepted".into(),
                    message: finished.message,
                });
            }
            report.outcome = ScanOutcome::Approved;
            report.tool_message = Some(finished.message);
            Ok(report)
        }
        Err(Failure::NoAnswer(e)) => {
            // The emulated holder never answers: stay silent until the tool gives up.
            report.outcome = ScanOutcome::NoAnswer;
            report.detail = format!("{e}; the phone stayed silent");
            match conn.receive(opts.wait).await {
                Err(ClientError::Cancelled { reason, .. }) => {
                    report.tool_message = Some(format!(
                        "the tool gave up ({})",
                        reason.unwrap_or_else(|| "cancelled".into())
                    ));
                }
                Err(ClientError::ToolNeverAnswered { .. }) => {
                    let _ = conn.cancel("no-answer").await;
                    report.tool_message =
                        Some("the tool was still waiting; the phone closed the request".into());
                }
                Err(other) => report.tool_message = Some(other.to_string()),
                Ok(m) => report.tool_message = Some(format!("the tool sent {}", m.kind())),
            }
            Ok(report)
        }
        Err(Failure::Refuse {
            reason,
            message,
            error,
        }) => {
            refuse(&mut conn, reason, &message).await?;
            let tool = final_word(&mut conn).await.ok().map(|f| f.message);
            match error {
                // The holder (or the script) refused: that is an answer, not a failure.
                None => {
                    report.refusal = Some(reason);
                    report.detail = message;
                    report.tool_message = tool;
                    Ok(report)
                }
                Some(e) => Err(e),
            }
        }
    }
}

/// The holder refused before any key use: tell the tool (`user-refused`) and report it.
async fn refused_by_holder(
    conn: &mut PhoneConnection,
    mut report: ScanReport,
) -> Result<ScanReport, AppError> {
    let message = "用户拒绝 / the holder refused on the phone";
    refuse(conn, RefuseReason::UserRefused, message).await?;
    report.refusal = Some(RefuseReason::UserRefused);
    report.detail = "refused before any PIN; no key was used".into();
    report.tool_message = final_word(conn).await.ok().map(|f| f.message);
    Ok(report)
}

/// The phone's code `code` is not the tool's (`expected`): refuse with `code-mismatch`
/// and return the error to report.
async fn codes_differ(conn: &mut PhoneConnection, code: String, expected: &str) -> AppError {
    let err = AppError::CodeMismatch {
        phone: code,
        expected: expected.to_owned(),
    };
    if let Err(e) = refuse(conn, RefuseReason::CodeMismatch, &err.to_string()).await {
        return e;
    }
    let _ = final_word(conn).await;
    err
}

async fn refuse(
    conn: &mut PhoneConnection,
    reason: RefuseReason,
    message: &str,
) -> Result<(), AppError> {
    conn.refuse(reason, message).await.map_err(AppError::from)
}

async fn final_word(conn: &mut PhoneConnection) -> Result<Finished, ClientError> {
    conn.wait_finished().await
}

/// What the keystore step needs from the session.
struct Answering {
    suite: Suite,
    cert: Option<CertSelector>,
    seal: Option<i64>,
    platform: Option<String>,
    session_id: bidkit_protocol::SessionId,
    transcript: [u8; 32],
}

struct Answer {
    response: Message,
    serial: String,
    detail: String,
}

enum Failure {
    /// Refuse with this reason; `error` is what this side reports (`None`: the holder
    /// chose to refuse).
    Refuse {
        reason: RefuseReason,
        message: String,
        error: Option<AppError>,
    },
    /// The (scripted) holder never answers.
    NoAnswer(KeystoreError),
}

impl From<KeystoreError> for Failure {
    fn from(e: KeystoreError) -> Self {
        let reason = match &e {
            KeystoreError::Refused { .. } => {
                return Failure::Refuse {
                    reason: RefuseReason::UserRefused,
                    message: "用户拒绝 / the holder refused on the phone".into(),
                    error: None,
                };
            }
            KeystoreError::TimedOut { .. } => return Failure::NoAnswer(e),
            KeystoreError::PinWrong { .. } => RefuseReason::WrongPin,
            KeystoreError::PinLocked { .. } => RefuseReason::PinLocked,
            KeystoreError::NotAuthorised { .. }
            | KeystoreError::NotAdmin { .. }
            | KeystoreError::GrantExpired { .. }
            | KeystoreError::GrantNotYetValid { .. }
            | KeystoreError::GrantWithdrawn { .. }
            | KeystoreError::SealVoided { .. }
            | KeystoreError::SealNotValid { .. } => RefuseReason::NotAuthorised,
            KeystoreError::CertificateExpired { .. }
            | KeystoreError::CertificateNotYetValid { .. }
            | KeystoreError::CertificateSuperseded { .. }
            | KeystoreError::CertificateRevoked { .. }
            | KeystoreError::DeviceUnbound { .. } => RefuseReason::CertificateInvalid,
            _ => RefuseReason::Other,
        };
        Failure::Refuse {
            reason,
            message: e.to_string(),
            error: Some(AppError::Keystore(e)),
        }
    }
}

fn refusal(reason: RefuseReason, message: String) -> Failure {
    Failure::Refuse {
        error: Some(AppError::Refused {
            reason,
            message: message.clone(),
        }),
        reason,
        message,
    }
}

/// Answer `request` with the keystore (runs on a blocking thread).
fn answer(
    phone: &Phone,
    request: &Message,
    ctx: &Answering,
    unlock: &ScanUnlock,
) -> Result<Answer, Failure> {
    if matches!(unlock, ScanUnlock::None) {
        return Err(refusal(
            RefuseReason::Other,
            "no PIN was entered on the phone (pass --pin or set BIDKIT_PIN)".into(),
        ));
    }
    let platform = ctx
        .platform
        .clone()
        .unwrap_or_else(|| phone.config().platform().to_owned());
    let person = || ctx.cert.clone().unwrap_or(CertSelector::Person);
    match request {
        Message::LoginRequest(r) => {
            let signer = signer(phone, &person(), ctx, unlock)?
                .for_operation(Operation::Login)
                .with_platform(&platform);
            let data = login_signed_data(&ctx.session_id, &ctx.transcript, &r.challenge);
            let signature = one(signer.sign_all(&[&data])?)?;
            let serial = signer.serial();
            Ok(Answer {
                response: Message::LoginResponse(LoginResponse {
                    certificate_chain: vec![signer.certificate().to_der().to_vec()],
                    signature,
                }),
                detail: format!(
                    "signed the login challenge with certificate {serial} ({})",
                    signer.certificate().subject_display()
                ),
                serial,
            })
        }
        Message::SignRequest(r) => {
            if r.items.is_empty() {
                return Err(refusal(
                    RefuseReason::Other,
                    "the request lists nothing to sign".into(),
                ));
            }
            if let Some(bad) = r.items.iter().find(|i| !i.digest_is_bound()) {
                return Err(refusal(
                    RefuseReason::DigestMismatch,
                    format!(
                        "item {:?} ({}): the digest shown ({}) is not in what would be signed",
                        bad.id,
                        bad.document.name,
                        bad.fingerprint()
                    ),
                ));
            }
            let seal = resolve_seal(phone, r, ctx.seal)?;
            let cert = match (&ctx.cert, &seal) {
                (Some(c), _) => c.clone(),
                (None, Some((_, Some(uscc)))) => CertSelector::Organisation(uscc.clone()),
                (None, _) => CertSelector::Person,
            };
            let mut signer = signer(phone, &cert, ctx, unlock)?.with_platform(&platform);
            if let Some((seal_id, _)) = seal {
                signer = signer.with_seal(seal_id);
            }
            let messages: Vec<&[u8]> = r.items.iter().map(|i| i.prepared.as_slice()).collect();
            // One request: one approval, one PIN, one usage record for the whole list.
            let signatures = signer.sign_all(&messages)?;
            let serial = signer.serial();
            Ok(Answer {
                response: Message::SignResponse(SignResponse {
                    certificate_chain: vec![signer.certificate().to_der().to_vec()],
                    signatures: r
                        .items
                        .iter()
                        .zip(signatures)
                        .map(|(i, signature)| ItemSignature {
                            id: i.id.clone(),
                            signature,
                        })
                        .collect(),
                }),
                detail: format!(
                    "signed {} item(s) with certificate {serial}{}",
                    r.items.len(),
                    seal.map(|(id, _)| format!(", seal #{id}"))
                        .unwrap_or_default()
                ),
                serial,
            })
        }
        Message::EncryptionCertRequest(r) => {
            let cert = person();
            let suite = suite_for(&cert, ctx.suite);
            phone.confirm(
                &cert,
                suite,
                unlock_of(unlock),
                Operation::Encrypt,
                Some(&platform),
                &r.reason,
            )?;
            let enc = phone.encryption_certificate(&cert, suite)?;
            let sign = phone.signing_certificate(&cert, suite)?;
            Ok(Answer {
                response: Message::EncryptionCertResponse(EncryptionCertResponse {
                    encryption_certificate: enc.to_der().to_vec(),
                    signing_chain: vec![sign.to_der().to_vec()],
                }),
                detail: format!("sent encryption certificate {}", enc.serial_hex()),
                serial: enc.serial_hex(),
            })
        }
        Message::UnwrapRequest(r) => {
            let cert = person();
            let suite = suite_for(&cert, ctx.suite);
            let mut keys = Vec::with_capacity(r.items.len());
            for item in &r.items {
                let key = phone.unwrap_key(
                    &cert,
                    suite,
                    unlock_of(unlock),
                    &item.wrapped_key,
                    Some(&platform),
                )?;
                keys.push(UnwrappedKey {
                    id: item.id.clone(),
                    key: SecretBytes::new(key.to_vec()),
                });
            }
            let serial = phone.encryption_certificate(&cert, suite)?.serial_hex();
            Ok(Answer {
                response: Message::UnwrapResponse(UnwrapResponse { keys }),
                detail: format!(
                    "unwrapped {} content key(s) with encryption certificate {serial}; they go back sealed by the session",
                    r.items.len()
                ),
                serial,
            })
        }
        Message::RevokeSealRequest(r) => {
            // Revoking names the seal: it must be one this holder may use, and its
            // organisation's certificate signs (unless one was named).
            let (seal_id, org) = match ctx.seal {
                Some(id) => seal_by_id(phone, id)?,
                None => seal_by_name(phone, &r.seal)?,
            };
            let cert = match (&ctx.cert, org) {
                (Some(c), _) => c.clone(),
                (None, Some(uscc)) => CertSelector::Organisation(uscc),
                (None, None) => CertSelector::Person,
            };
            let signer = signer(phone, &cert, ctx, unlock)?
                .with_seal(seal_id)
                .for_operation(Operation::RevokeSeal)
                .with_platform(&platform);
            let signature = one(signer.sign_all(&[&r.prepared])?)?;
            let serial = signer.serial();
            Ok(Answer {
                response: Message::Approval(Approval {
                    certificate_chain: vec![signer.certificate().to_der().to_vec()],
                    signature,
                }),
                detail: format!(
                    "approved revoking seal #{seal_id} ({}) with certificate {serial}",
                    r.seal
                ),
                serial,
            })
        }
        Message::SubmitRequest(r) => approve(
            phone,
            &person(),
            ctx,
            unlock,
            &platform,
            Operation::SubmitBid,
            &r.prepared,
        ),
        Message::WithdrawRequest(r) => approve(
            phone,
            &person(),
            ctx,
            unlock,
            &platform,
            Operation::WithdrawBid,
            &r.prepared,
        ),
        Message::ConfirmOpeningRequest(r) => approve(
            phone,
            &person(),
            ctx,
            unlock,
            &platform,
            Operation::ConfirmOpening,
            &r.prepared,
        ),
        other => Err(refusal(
            RefuseReason::Other,
            format!("this phone does not answer {}", other.kind()),
        )),
    }
}

/// A signed approval of a statement (revoke seal, submit, withdraw, confirm opening).
fn approve(
    phone: &Phone,
    cert: &CertSelector,
    ctx: &Answering,
    unlock: &ScanUnlock,
    platform: &str,
    operation: Operation,
    prepared: &[u8],
) -> Result<Answer, Failure> {
    let signer = signer(phone, cert, ctx, unlock)?
        .for_operation(operation)
        .with_platform(platform);
    let signature = one(signer.sign_all(&[prepared])?)?;
    let serial = signer.serial();
    Ok(Answer {
        response: Message::Approval(Approval {
            certificate_chain: vec![signer.certificate().to_der().to_vec()],
            signature,
        }),
        detail: format!("approved ({operation}) with certificate {serial}"),
        serial,
    })
}

/// `person` and organisation selectors pick the session's suite; a serial or id is
/// exact.
fn suite_for(cert: &CertSelector, suite: Suite) -> Option<Suite> {
    match cert {
        CertSelector::Person | CertSelector::Organisation(_) => Some(suite),
        CertSelector::Serial(_) | CertSelector::Id(_) => None,
    }
}

fn unlock_of(unlock: &ScanUnlock) -> Unlock<'_> {
    match unlock {
        ScanUnlock::Pin(pin) => Unlock::Pin(pin.as_str()),
        ScanUnlock::Session(s) => Unlock::Session(s),
        // `answer` refuses before any key use without an unlock.
        ScanUnlock::None => Unlock::Pin(""),
    }
}

fn signer<'p>(
    phone: &'p Phone,
    cert: &CertSelector,
    ctx: &Answering,
    unlock: &'p ScanUnlock,
) -> Result<PhoneSigner<'p>, Failure> {
    match unlock {
        ScanUnlock::Session(s) => Ok(phone.session_signer(s)?),
        ScanUnlock::Pin(pin) => Ok(phone.signer(cert, suite_for(cert, ctx.suite), pin)?),
        ScanUnlock::None => Err(refusal(
            RefuseReason::Other,
            "no PIN was entered on the phone".into(),
        )),
    }
}

fn one(mut signatures: Vec<Vec<u8>>) -> Result<Vec<u8>, Failure> {
    signatures.pop().ok_or_else(|| {
        refusal(
            RefuseReason::Other,
            "the keystore produced no signature".into(),
        )
    })
}

/// The signing certificate (DER, as the only element of the chain the phone holds) a
/// sign request for `r.seal` will use: the certificate given, or for an organisation
/// seal that organisation's certificate, else the person's.
fn signer_chain(
    phone: &Phone,
    r: &SignerRequest,
    given_cert: Option<CertSelector>,
    given_seal: Option<i64>,
    suite: Suite,
) -> Result<Vec<Vec<u8>>, Failure> {
    let seal = match (given_seal, &r.seal) {
        (Some(id), _) => Some(seal_by_id(phone, id)?),
        (None, Some(name)) => Some(seal_by_name(phone, name)?),
        (None, None) => None,
    };
    let selector = match (given_cert, &seal) {
        (Some(c), _) => c,
        (None, Some((_, Some(uscc)))) => CertSelector::Organisation(uscc.clone()),
        (None, _) => CertSelector::Person,
    };
    let cert = phone.signing_certificate(&selector, Some(suite))?;
    Ok(vec![cert.to_der().to_vec()])
}

/// The seal a sign request applies: the one given, or the one the items name (by name
/// among the seals this holder sees). Returns its id and its organisation's code.
fn resolve_seal(
    phone: &Phone,
    r: &bidkit_protocol::message::SignRequest,
    given: Option<i64>,
) -> Result<Option<(i64, Option<String>)>, Failure> {
    if let Some(id) = given {
        return seal_by_id(phone, id).map(Some);
    }
    let mut names: Vec<&str> = r
        .items
        .iter()
        .flat_map(|i| i.seals.iter().map(|s| s.seal.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [] => Ok(None),
        [name] => seal_by_name(phone, name).map(Some),
        many => Err(refusal(
            RefuseReason::Other,
            format!(
                "the request places {} different seals ({}); one request applies one seal",
                many.len(),
                many.join(", ")
            ),
        )),
    }
}

/// A seal this holder sees, by id: its id and its organisation's code.
fn seal_by_id(phone: &Phone, id: i64) -> Result<(i64, Option<String>), Failure> {
    let org = phone
        .seals()?
        .into_iter()
        .find(|v| v.seal.id == id)
        .and_then(|v| v.seal.organisation.map(|o| o.uscc));
    Ok((id, org))
}

/// The one seal named `name` among those this holder sees.
fn seal_by_name(phone: &Phone, name: &str) -> Result<(i64, Option<String>), Failure> {
    let seals = phone.seals()?;
    let found: Vec<_> = seals.iter().filter(|v| v.seal.name == name).collect();
    match found.as_slice() {
        [one] => Ok((
            one.seal.id,
            one.seal.organisation.as_ref().map(|o| o.uscc.clone()),
        )),
        [] => Err(refusal(
            RefuseReason::NotAuthorised,
            format!("this holder has no seal named {name:?}"),
        )),
        _ => Err(refusal(
            RefuseReason::Other,
            format!("several seals are named {name:?}; name one with --seal"),
        )),
    }
}
