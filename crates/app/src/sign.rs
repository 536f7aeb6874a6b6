//! Get prepared messages signed by the phone (签章, tool side): open a `sign` session on
//! a relay, show the QR code, wait for the phone, send one [`SignRequest`] (every item
//! under one approval and one PIN), and verify the answer before handing it back:
//!
//! * one signature per item, with the item's id, in the order of the request;
//! * the signer's certificate is the expected one, when the caller names it (the PDF
//!   pipeline puts the signer's certificate into the CMS signed attributes before
//!   asking, so another certificate is [`AppError::SignerMismatch`]);
//! * the certificate chains to the trust roots at the clock's now, for signing;
//! * each signature verifies over the item's `prepared` bytes with the certificate's
//!   key (SM2 with the default id, or ECDSA P-256 with SHA-256).
//!
//! Two ways to call it:
//!
//! * [`request_signatures`] (and [`request_signatures_blocking`]): the items are
//!   prepared already (for a signer the caller knows, e.g. from logging in);
//! * [`SignSession`]: staged, in one session — [`SignSession::open`], then
//!   [`SignSession::ask_signer`] (the phone names the certificate it will sign with,
//!   for the seal; no key, no PIN; the chain is verified), then the caller prepares
//!   the items for that certificate (the CMS signed attributes carry its hash), then
//!   [`SignSession::sign`] (the answer must come from that same certificate) or
//!   [`SignSession::cancel`].
//!
//! A refusal on the phone is [`AppError::Refused`] with the phone's reason (`code()`:
//! `user-refused`, `wrong-pin`, `digest-mismatch` …). An answer that does not verify
//! is reported to the phone too (it sees the tool's code) and nothing of it is
//! returned.

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use bidkit_crypto::Suite;
use bidkit_pki::{Certificate, TrustStore};
use bidkit_protocol::message::{Message, SignItem, SignRequest, SignerRequest};
use bidkit_protocol::{Purpose, QrPolicy};
use bidkit_relay::ClientError;
use bidkit_relay::clock::SharedClock;
use time::OffsetDateTime;

use crate::AppError;
use crate::session::{
    Joined, RelayChoice, SessionObserver, SessionRelay, SessionSpec, TrustRoots, check_timeout,
    date_time, describe, load_trust, reject, system_clock, verify_signer,
};

/// How to ask the phone for signatures (or approvals).
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// The home directory (for [`TrustRoots::HomeCa`]).
    pub home: PathBuf,
    /// The relay.
    pub relay: RelayChoice,
    /// Algorithm suite of the session (and of the home CA used as trust root).
    pub suite: Suite,
    /// Trust roots for the phone's certificate.
    pub trust: TrustRoots,
    /// How long the QR code works and how long the phone may take to answer once it
    /// joined (each; at most 600 s).
    pub timeout: Duration,
    /// QR timing (rotation step, accepted age); the join window comes from `timeout`.
    pub qr_policy: QrPolicy,
    /// The wall clock (QR frames, certificate validity).
    pub clock: SharedClock,
}

impl SignOptions {
    /// Defaults: embedded relay, trust the home's emulated CA, 120 s, system clock.
    pub fn new(home: impl Into<PathBuf>, suite: Suite) -> Self {
        SignOptions {
            home: home.into(),
            relay: RelayChoice::Embedded,
            suite,
            trust: TrustRoots::HomeCa,
            timeout: Duration::from_secs(120),
            qr_policy: QrPolicy::DEFAULT,
            clock: system_clock(),
        }
    }
}

/// Signatures from the phone, verified.
#[derive(Clone, Debug)]
pub struct SignedItems {
    /// The signer's certificate path as verified: the signer's certificate first,
    /// then any intermediates, ending at the trusted root.
    pub chain: Vec<Certificate>,
    /// `(item id, DER signature over the item's prepared bytes)`, in request order.
    pub signatures: Vec<(String, Vec<u8>)>,
    /// The verification code both screens showed.
    pub verification_code: String,
    /// The session id (hex).
    pub session_id: String,
    /// The relay the session went through.
    pub relay: String,
    /// Joins the relay turned away during the session (their codes).
    pub rejected_joins: Vec<String>,
}

impl SignedItems {
    /// The signer's certificate (the first of [`SignedItems::chain`]).
    pub fn signer(&self) -> Option<&Certificate> {
        self.chain.first()
    }

    /// The signature of the item `id`.
    pub fn signature(&self, id: &str) -> Option<&[u8]> {
        self.signatures
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, s)| s.as_slice())
    }
}

/// Ask the phone to sign `items` (one approval, one PIN) and verify its answer: see
/// the module documentation. `expected_signer`: the certificate the items were
/// prepared for, if any.
pub async fn request_signatures(
    opts: &SignOptions,
    items: Vec<SignItem>,
    expected_signer: Option<&Certificate>,
    observer: &mut dyn SessionObserver,
) -> Result<SignedItems, AppError> {
    check_items(&items)?;
    SignSession::open(opts, observer)
        .await?
        .sign(items, expected_signer, observer)
        .await
}

/// A sign session with a phone that joined, for the staged flow: see the module
/// documentation. Dropping it without [`SignSession::sign`] or
/// [`SignSession::cancel`] stops an embedded relay at once; the phone then gives up
/// on its own.
#[derive(Debug)]
pub struct SignSession {
    asking: Asking,
    signer: Vec<Certificate>,
}

impl SignSession {
    /// Load the trust roots, start the relay, show the QR code and wait for the
    /// phone to join a `sign` session.
    pub async fn open(
        opts: &SignOptions,
        observer: &mut dyn SessionObserver,
    ) -> Result<SignSession, AppError> {
        Ok(SignSession {
            asking: Asking::start(opts, Purpose::Sign, observer).await?,
            signer: Vec::new(),
        })
    }

    /// Ask the phone which certificate will sign (for `seal`, by name, when the
    /// signature applies one: an organisation's seal signs with the organisation's
    /// certificate). No key is used and no PIN asked. The chain is verified (trust
    /// roots, signing purpose, at the clock's now); [`SignSession::sign`] then
    /// accepts signatures from this certificate only. On an error the session is
    /// over (the phone is told) and the relay closed.
    pub async fn ask_signer(
        self,
        seal: Option<&str>,
        observer: &mut dyn SessionObserver,
    ) -> Result<SignSession, AppError> {
        let request = Message::SignerRequest(SignerRequest {
            seal: seal.map(str::to_owned),
        });
        let (asking, signer) = self
            .asking
            .ask(&request, CANCELLED, observer, |answer, trust, now| {
                let response = match answer {
                    Message::SignerResponse(r) => r,
                    other => {
                        return Err(AppError::AnswerInvalid {
                            reason: format!(
                                "expected the signer's certificate, got {}",
                                other.kind()
                            ),
                        });
                    }
                };
                let (_, path) = verify_signer(&response.certificate_chain, None, trust, now)?;
                Ok(path.certificates().to_vec())
            })
            .await?;
        Ok(SignSession { asking, signer })
    }

    /// The certificate the phone named in [`SignSession::ask_signer`], verified.
    pub fn signer(&self) -> Option<&Certificate> {
        self.signer.first()
    }

    /// Its verified path (the signer first, ending at the trusted root); empty before
    /// [`SignSession::ask_signer`].
    pub fn signer_chain(&self) -> &[Certificate] {
        &self.signer
    }

    /// The verification code both screens show.
    pub fn verification_code(&self) -> &str {
        &self.asking.joined.verification_code
    }

    /// The session id (hex).
    pub fn session_id(&self) -> &str {
        &self.asking.joined.session_id
    }

    /// Send the items (one approval, one PIN), verify the answer (see the module
    /// documentation; the signer must be `expected_signer` when given, and the
    /// certificate named by [`SignSession::ask_signer`] when it was asked), tell the
    /// phone the outcome and close the relay.
    pub async fn sign(
        self,
        items: Vec<SignItem>,
        expected_signer: Option<&Certificate>,
        observer: &mut dyn SessionObserver,
    ) -> Result<SignedItems, AppError> {
        let SignSession { asking, signer } = self;
        if let Err(e) = check_items(&items) {
            asking.cancel("invalid-request").await;
            return Err(e);
        }
        let named = signer.first();
        let expected = match (expected_signer, named) {
            (Some(e), Some(n)) if e.to_der() != n.to_der() => {
                let err = AppError::SignerMismatch {
                    expected: describe(e),
                    got: describe(n),
                };
                asking.cancel(err.code()).await;
                return Err(err);
            }
            (Some(e), _) => Some(e),
            (None, n) => n,
        };
        let request = Message::SignRequest(SignRequest {
            items: items.clone(),
        });
        let (asking, (chain, signatures)) = asking
            .ask(&request, CANCELLED, observer, |answer, trust, now| {
                verify_signatures(answer, &items, expected, trust, now)
            })
            .await?;
        let message = format!(
            "已签名 / {} item(s) signed with certificate {}",
            signatures.len(),
            chain.first().map(|c| c.serial_hex()).unwrap_or_default()
        );
        let session = asking.finish(&message).await?;
        Ok(SignedItems {
            chain,
            signatures,
            verification_code: session.verification_code,
            session_id: session.session_id,
            relay: session.relay,
            rejected_joins: session.rejected_joins,
        })
    }

    /// Give up (e.g. preparing the documents failed): the phone is told `reason` and
    /// the relay closed.
    pub async fn cancel(self, reason: &str) {
        self.asking.cancel(reason).await;
    }
}

const CANCELLED: &str = "签章已取消 / signing cancelled: the phone refused";

/// [`request_signatures`] for callers without an async runtime: runs it on a runtime
/// of its own. Called from inside a runtime it refuses
/// ([`AppError::InvalidOption`]); use the async function there.
pub fn request_signatures_blocking(
    opts: &SignOptions,
    items: Vec<SignItem>,
    expected_signer: Option<&Certificate>,
    observer: &mut dyn SessionObserver,
) -> Result<SignedItems, AppError> {
    block_on(request_signatures(opts, items, expected_signer, observer))?
}

/// Run `future` on a runtime of its own (not from inside a runtime).
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, AppError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(AppError::InvalidOption {
            option: "runtime",
            reason: "the blocking form was called inside an async runtime; await the async form"
                .into(),
        });
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::InvalidOption {
            option: "runtime",
            reason: format!("cannot start the async runtime: {e}"),
        })?;
    Ok(runtime.block_on(future))
}

/// Something to sign, and ids to find the signatures by.
fn check_items(items: &[SignItem]) -> Result<(), AppError> {
    if items.is_empty() {
        return Err(AppError::InvalidOption {
            option: "items",
            reason: "nothing to sign".into(),
        });
    }
    let mut ids = HashSet::new();
    for item in items {
        if !ids.insert(item.id.as_str()) {
            return Err(AppError::InvalidOption {
                option: "items",
                reason: format!("two items have the id {:?}", item.id),
            });
        }
    }
    Ok(())
}

type Signatures = (Vec<Certificate>, Vec<(String, Vec<u8>)>);

/// Check a sign response against the request: see the module documentation.
fn verify_signatures(
    answer: Message,
    items: &[SignItem],
    expected: Option<&Certificate>,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<Signatures, AppError> {
    let response = match answer {
        Message::SignResponse(r) => r,
        other => {
            return Err(AppError::AnswerInvalid {
                reason: format!("expected a sign response, got {}", other.kind()),
            });
        }
    };
    if response.signatures.len() != items.len() {
        return Err(AppError::AnswerInvalid {
            reason: format!(
                "{} item(s) were sent, {} signature(s) came back",
                items.len(),
                response.signatures.len()
            ),
        });
    }
    if let Some((i, (item, sig))) = items
        .iter()
        .zip(&response.signatures)
        .enumerate()
        .find(|(_, (item, sig))| item.id != sig.id)
    {
        return Err(AppError::AnswerInvalid {
            reason: format!(
                "signature {} is for {:?}, expected {:?}",
                i + 1,
                sig.id,
                item.id
            ),
        });
    }
    let (leaf, path) = verify_signer(&response.certificate_chain, expected, trust, now)?;
    let key = leaf.public_key()?;
    let mut signatures = Vec::with_capacity(items.len());
    for (item, sig) in items.iter().zip(response.signatures) {
        key.verify(&item.prepared, &sig.signature)
            .map_err(|e| AppError::SignatureInvalid {
                item: item.id.clone(),
                reason: e.to_string(),
            })?;
        signatures.push((sig.id, sig.signature));
    }
    Ok((path.certificates().to_vec(), signatures))
}

/// The session a request went through.
#[derive(Clone, Debug)]
pub(crate) struct SessionInfo {
    pub(crate) verification_code: String,
    pub(crate) session_id: String,
    pub(crate) relay: String,
    pub(crate) rejected_joins: Vec<String>,
}

/// A session with a phone that joined, for requests whose answers are verified
/// against the trust roots. Every way out closes the relay.
#[derive(Debug)]
pub(crate) struct Asking {
    relay: SessionRelay,
    joined: Joined,
    trust: TrustStore,
    clock: SharedClock,
}

impl Asking {
    /// Load the trust roots (first: no QR code is shown whose answer could not be
    /// checked), start the relay, show the QR code, wait for the phone.
    pub(crate) async fn start(
        opts: &SignOptions,
        purpose: Purpose,
        observer: &mut dyn SessionObserver,
    ) -> Result<Asking, AppError> {
        check_timeout(opts.timeout)?;
        let trust = load_trust(&opts.trust, &opts.home, opts.suite, date_time(&opts.clock))?;
        let spec = SessionSpec {
            suite: opts.suite,
            purpose,
            timeout: opts.timeout,
            qr_policy: opts.qr_policy,
            clock: opts.clock.clone(),
        };
        spec.client_config()?;
        let relay = SessionRelay::start(&opts.relay).await?;
        match relay.join(&spec, observer).await {
            Ok(joined) => Ok(Asking {
                relay,
                joined,
                trust,
                clock: opts.clock.clone(),
            }),
            Err(e) => {
                relay.close().await;
                Err(e)
            }
        }
    }

    /// Send `request`, wait for the answer and `verify` it. On any error the session
    /// is over: a refusal gets `cancelled` as the tool's final word, an answer that
    /// does not verify is reported to the phone with the error's code; the relay is
    /// closed.
    pub(crate) async fn ask<T>(
        mut self,
        request: &Message,
        cancelled: &str,
        observer: &mut dyn SessionObserver,
        verify: impl FnOnce(Message, &TrustStore, OffsetDateTime) -> Result<T, AppError>,
    ) -> Result<(Asking, T), AppError> {
        observer.request_sent(&request.summary());
        let answer = match self.joined.conn.request(request).await {
            Ok(answer) => answer,
            Err(e) => {
                let refused = matches!(e, ClientError::Refused { .. });
                if refused {
                    let _ = self.joined.conn.finish(false, cancelled).await;
                }
                self.relay.close().await;
                return Err(e.into());
            }
        };
        match verify(answer, &self.trust, date_time(&self.clock)) {
            Ok(v) => Ok((self, v)),
            Err(e) => {
                reject(self.joined.conn, &e).await;
                self.relay.close().await;
                Err(e)
            }
        }
    }

    /// Done: the phone reads `message` as the tool's final word; the relay is closed.
    pub(crate) async fn finish(mut self, message: &str) -> Result<SessionInfo, AppError> {
        self.joined.note_late_rejections();
        let Joined {
            conn,
            verification_code,
            relay,
            session_id,
            rejected,
        } = self.joined;
        let finished = conn.finish(true, message).await;
        self.relay.close().await;
        finished?;
        Ok(SessionInfo {
            verification_code,
            session_id,
            relay,
            rejected_joins: rejected,
        })
    }

    /// Give up: the phone is told `reason`; the relay is closed.
    pub(crate) async fn cancel(self, reason: &str) {
        let _ = self.joined.conn.cancel(reason).await;
        self.relay.close().await;
    }
}

/// One request to the phone over a `purpose` session, answered, verified and
/// finished with `done`'s message (see [`Asking`]).
pub(crate) async fn exchange<T>(
    opts: &SignOptions,
    purpose: Purpose,
    request: &Message,
    observer: &mut dyn SessionObserver,
    cancelled: &str,
    verify: impl FnOnce(Message, &TrustStore, OffsetDateTime) -> Result<T, AppError>,
    done: impl FnOnce(&T) -> String,
) -> Result<(T, SessionInfo), AppError> {
    let asking = Asking::start(opts, purpose, observer).await?;
    let (asking, verified) = asking.ask(request, cancelled, observer, verify).await?;
    let session = asking.finish(&done(&verified)).await?;
    Ok((verified, session))
}
