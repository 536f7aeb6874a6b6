//! Log in by scan (扫码登录), tool side: open a session on a relay (the embedded one by
//! default), show the rotating QR code, wait for the phone, show the verification
//! code, send a fresh challenge, and verify the answer: the certificate chain against
//! the trusted roots and the signature over the challenge bound to this session.
//!
//! The caller sees progress through a [`LoginObserver`]: every new QR frame (the CLI
//! rewrites its PNG, the app redraws), phones the relay turned away (a stale
//! screenshot, a second phone), the verification code once a phone joined.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bidkit_crypto::Suite;
use bidkit_pki::{
    Certificate, CertificateAuthority, KeyPurpose, Subject, TrustStore, verify_chain,
};
use bidkit_protocol::message::{LoginRequest, LoginResponse, Message, verify_login_signature};
use bidkit_protocol::{Purpose, QrPolicy, RelayAddress, Timestamp};
use bidkit_relay::{
    AnyStore, ClientConfig, ClientError, EmbeddedRelay, MemoryStore, RelayConfig, Store as _,
    ToolConnection, ToolSession,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::AppError;
use crate::error::rejection_hint;

/// Which relay the session goes through.
#[derive(Clone, Debug)]
pub enum RelayChoice {
    /// Start a relay in this process on a loopback port (the default; nothing to
    /// install). The phone must run on this machine.
    Embedded,
    /// A running relay (`bidkit relay serve`).
    Remote {
        /// Where the tool reaches it.
        connect: RelayAddress,
        /// The address put in the QR code, when the phone reaches the relay service by
        /// another address (another node, a public name); `None`: `connect`.
        advertise: Option<RelayAddress>,
    },
}

/// What the phone's certificate is checked against.
#[derive(Clone, Debug)]
pub enum TrustRoots {
    /// The emulated CA of the home directory (`$home/ca/<suite>`), with its CRL.
    HomeCa,
    /// These root certificates.
    Roots(Vec<Certificate>),
}

/// How to log in.
#[derive(Clone, Debug)]
pub struct LoginOptions {
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
    /// Who asks, as the phone shows it ("Bidkit on DESKTOP-1").
    pub requester: String,
    /// QR timing (rotation step, accepted age); the join window comes from `timeout`.
    pub qr_policy: QrPolicy,
}

impl LoginOptions {
    /// Defaults: embedded relay, trust the home's emulated CA, 120 s.
    pub fn new(home: impl Into<PathBuf>, suite: Suite) -> Self {
        LoginOptions {
            home: home.into(),
            relay: RelayChoice::Embedded,
            suite,
            trust: TrustRoots::HomeCa,
            timeout: Duration::from_secs(120),
            requester: default_requester(),
            qr_policy: QrPolicy::DEFAULT,
        }
    }
}

/// "Bidkit on <host name>".
pub fn default_requester() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "this computer".to_owned());
    format!("Bidkit 投标工具 on {host}")
}

/// One frame of the rotating QR code.
#[derive(Clone, Debug)]
pub struct QrFrame<'a> {
    /// The text to encode (`BK1:…`).
    pub text: &'a str,
    /// How often the frame changes.
    pub step: Duration,
    /// When the code stops working.
    pub join_deadline: Timestamp,
}

/// What the tool's screen shows while logging in. Every method has a default that
/// does nothing.
pub trait LoginObserver: Send {
    /// The session is open on `relay` (`embedded`: in this process).
    fn session_opened(&mut self, relay: &RelayAddress, embedded: bool) {
        let _ = (relay, embedded);
    }
    /// A new QR frame to show (the first one, then one per rotation step). An error
    /// (e.g. the PNG cannot be written) ends the login.
    fn qr_frame(&mut self, frame: &QrFrame<'_>) -> Result<(), AppError> {
        let _ = frame;
        Ok(())
    }
    /// The relay turned a phone away (`code`: `qr-stale`, `qr-bad-mac`,
    /// `already-joined` …); `total` so far. The session goes on.
    fn join_rejected(&mut self, code: &str, hint: &str, total: u32) {
        let _ = (code, hint, total);
    }
    /// A phone joined; show `code` so the holder can compare it with the phone's.
    fn phone_joined(&mut self, code: &str) {
        let _ = code;
    }
}

/// An observer that shows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl LoginObserver for Silent {}

/// A person, as their certificate names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonIdentity {
    /// Full name.
    pub name: String,
    /// Identity card number.
    pub id_number: String,
}

/// An organisation, as its certificate names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrganisationIdentity {
    /// Registered name.
    pub name: String,
    /// Unified social credit code.
    pub uscc: String,
}

/// Who logged in, verified.
#[derive(Clone, Debug, Serialize)]
pub struct LoginIdentity {
    /// The person, when the phone proved a person certificate.
    pub person: Option<PersonIdentity>,
    /// The organisation, when the phone proved an organisation certificate.
    pub organisation: Option<OrganisationIdentity>,
    /// The certificate's subject as text.
    pub subject: String,
    /// The signing certificate's serial (hex).
    pub certificate_serial: String,
    /// Its issuer.
    pub issuer: String,
    /// End of its validity (RFC 3339).
    pub certificate_not_after: String,
    /// The certificate as PEM.
    pub certificate_pem: String,
    /// The suite of the session.
    pub suite: Suite,
    /// The verification code both screens showed.
    pub verification_code: String,
    /// The relay the session went through.
    pub relay: String,
    /// The session id (hex).
    pub session_id: String,
    /// Joins the relay turned away during the session (their codes).
    pub rejected_joins: Vec<String>,
}

/// After the session is done, how long an embedded relay keeps serving at most so
/// the phone can read the tool's final word.
const EMBEDDED_LINGER: Duration = Duration::from_secs(2);

/// Log in by scan: see the module documentation.
pub async fn login(
    opts: &LoginOptions,
    observer: &mut dyn LoginObserver,
) -> Result<LoginIdentity, AppError> {
    let timeout_secs = opts.timeout.as_secs();
    if !(1..=600).contains(&timeout_secs) {
        return Err(AppError::InvalidOption {
            option: "timeout",
            reason: format!("{timeout_secs} s: must be 1–600 s"),
        });
    }
    // Load the trust roots first: no QR code is shown that could not be checked.
    let trust = load_trust(opts)?;
    let policy = QrPolicy {
        join_window_secs: u32::try_from(timeout_secs).unwrap_or(600),
        ..opts.qr_policy
    };
    policy.validate()?;
    let config = ClientConfig {
        policy,
        answer_timeout: opts.timeout,
        ..ClientConfig::default()
    };
    let (embedded, store, connect, advertise) = match &opts.relay {
        RelayChoice::Embedded => {
            let store = MemoryStore::default();
            let relay =
                EmbeddedRelay::start_with(AnyStore::Memory(store.clone()), RelayConfig::default())
                    .await?;
            let addr = relay.relay_address();
            (Some(relay), Some(store), addr.clone(), addr)
        }
        RelayChoice::Remote { connect, advertise } => (
            None,
            None,
            connect.clone(),
            advertise.clone().unwrap_or_else(|| connect.clone()),
        ),
    };
    let result = run(
        opts,
        observer,
        &trust,
        config,
        connect,
        advertise,
        embedded.is_some(),
    )
    .await;
    if let (Some(relay), Some(store)) = (embedded, store) {
        // Let the phone read the final word before the relay goes away with us.
        let until = tokio::time::Instant::now() + EMBEDDED_LINGER;
        while !store.hub().is_empty() && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = relay.shutdown().await;
    }
    result
}

async fn run(
    opts: &LoginOptions,
    observer: &mut dyn LoginObserver,
    trust: &TrustStore,
    config: ClientConfig,
    connect: RelayAddress,
    advertise: RelayAddress,
    embedded: bool,
) -> Result<LoginIdentity, AppError> {
    let session =
        ToolSession::open_via(connect, advertise, opts.suite, Purpose::Login, config).await?;
    observer.session_opened(session.relay(), embedded);
    let relay = session.relay().to_string();
    let qr = session.qr_source();
    let join_deadline = session.join_deadline();

    // Wait for the phone while redrawing the QR code at each step and reporting phones
    // the relay turns away.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u32, String)>();
    let mut seen = 0u32;
    let mut on_status = move |s: &bidkit_relay::api::Status| {
        if s.rejected_joins > seen {
            seen = s.rejected_joins;
            let code = s.last_rejected_join.clone().unwrap_or_default();
            let _ = tx.send((s.rejected_joins, code));
        }
    };
    let waiting = session.wait_for_phone_observed(&mut on_status);
    tokio::pin!(waiting);
    let mut rejected = Vec::new();
    let mut shown = String::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let joined = loop {
        tokio::select! {
            joined = &mut waiting => break joined,
            Some((total, code)) = rx.recv() => {
                observer.join_rejected(&code, rejection_hint(&code), total);
                rejected.push(code);
            }
            _ = tick.tick() => {
                if let Ok(text) = qr.text(Timestamp::now())
                    && text != shown
                {
                    observer.qr_frame(&QrFrame { text: &text, step: qr.step(), join_deadline })?;
                    shown = text;
                }
            }
        }
    };
    while let Ok((total, code)) = rx.try_recv() {
        observer.join_rejected(&code, rejection_hint(&code), total);
        rejected.push(code);
    }
    let mut conn = match joined {
        Ok(conn) => conn,
        Err(ClientError::NoPhone) => {
            return Err(AppError::NoPhone {
                waited: opts.timeout,
                rejected,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let code = conn.verification_code().digits();
    observer.phone_joined(&code);

    let challenge = bidkit_crypto::rng::random_array::<32>()?.to_vec();
    let request = Message::LoginRequest(LoginRequest {
        challenge: challenge.clone(),
        requester: opts.requester.clone(),
    });
    let answer = match conn.request(&request).await {
        Ok(answer) => answer,
        Err(e @ ClientError::Refused { .. }) => {
            let _ = conn
                .finish(false, "登录已取消 / login cancelled: the phone refused")
                .await;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let response = match answer {
        Message::LoginResponse(r) => r,
        other => {
            let message = format!("expected a login response, got {}", other.kind());
            let _ = conn.fail("unexpected-message", &message).await;
            return Err(AppError::LoginInvalid { reason: message });
        }
    };
    let verified = match verify(&conn, &response, &challenge, trust) {
        Ok(v) => v,
        Err(e) => {
            let _ = conn.fail(e.code(), &e.to_string()).await;
            return Err(e);
        }
    };
    if let Some(s) = conn.last_status()
        && s.rejected_joins as usize > rejected.len()
        && let Some(last) = &s.last_rejected_join
    {
        rejected.push(last.clone());
    }
    let holder = verified.subject.name().to_owned();
    let (person, organisation) = match &verified.subject {
        Subject::Person { name, id_number } => (
            Some(PersonIdentity {
                name: name.clone(),
                id_number: id_number.clone(),
            }),
            None,
        ),
        Subject::Organisation { name, uscc } => (
            None,
            Some(OrganisationIdentity {
                name: name.clone(),
                uscc: uscc.clone(),
            }),
        ),
    };
    let identity = LoginIdentity {
        person,
        organisation,
        subject: verified.leaf.subject_display(),
        certificate_serial: verified.leaf.serial_hex(),
        issuer: verified.leaf.issuer_display(),
        certificate_not_after: bidkit_pki::fmt_time(verified.leaf.not_after()),
        certificate_pem: verified.leaf.to_pem(),
        suite: opts.suite,
        verification_code: code,
        relay,
        session_id: conn.session_id().to_hex(),
        rejected_joins: rejected,
    };
    conn.finish(
        true,
        &format!(
            "已登录 / logged in as {holder} (certificate {})",
            identity.certificate_serial
        ),
    )
    .await?;
    Ok(identity)
}

struct Verified {
    leaf: Certificate,
    subject: Subject,
}

/// Check the phone's login proof: chain to a trusted root for signing, signature over
/// the challenge bound to this session's transcript.
fn verify(
    conn: &ToolConnection,
    response: &LoginResponse,
    challenge: &[u8],
    trust: &TrustStore,
) -> Result<Verified, AppError> {
    let (leaf_der, rest) =
        response
            .certificate_chain
            .split_first()
            .ok_or_else(|| AppError::LoginInvalid {
                reason: "the phone sent no certificate".into(),
            })?;
    let leaf = Certificate::from_der(leaf_der)?;
    let intermediates = rest
        .iter()
        .map(|d| Certificate::from_der(d))
        .collect::<Result<Vec<_>, _>>()?;
    verify_chain(
        &leaf,
        &intermediates,
        trust,
        OffsetDateTime::now_utc(),
        Some(KeyPurpose::Signing),
    )?;
    let channel = conn.channel();
    verify_login_signature(
        &leaf.public_key()?,
        &channel.session_id(),
        channel.transcript_hash(),
        challenge,
        &response.signature,
    )
    .map_err(|e| AppError::LoginInvalid {
        reason: format!("the signature over the challenge does not verify ({e})"),
    })?;
    let subject = leaf.subject()?;
    Ok(Verified { leaf, subject })
}

fn load_trust(opts: &LoginOptions) -> Result<TrustStore, AppError> {
    match &opts.trust {
        TrustRoots::HomeCa => home_trust(&opts.home, opts.suite),
        TrustRoots::Roots(roots) => {
            if roots.is_empty() {
                return Err(AppError::InvalidOption {
                    option: "trust roots",
                    reason: "none given".into(),
                });
            }
            let mut trust = TrustStore::new();
            for r in roots {
                trust.add_root(r.clone())?;
            }
            Ok(trust)
        }
    }
}

/// The trust store of the home's emulated CA of `suite` (root and current CRL).
pub fn home_trust(home: &Path, suite: Suite) -> Result<TrustStore, AppError> {
    let dir = home.join("ca").join(suite.as_str());
    if !CertificateAuthority::exists(&dir) {
        return Err(AppError::NoTrustRoot { path: dir, suite });
    }
    let ca = CertificateAuthority::open(&dir, suite)?;
    Ok(ca.trust_store(OffsetDateTime::now_utc())?)
}
