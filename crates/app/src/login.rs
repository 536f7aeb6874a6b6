//! Log in by scan (扫码登录), tool side: open a session on a relay (the embedded one by
//! default), show the rotating QR code, wait for the phone, show the verification
//! code, send a fresh challenge, and verify the answer: the certificate chain against
//! the trusted roots and the signature over the challenge bound to this session.
//!
//! The caller sees progress through a [`LoginObserver`]: every new QR frame (the CLI
//! rewrites its PNG, the app redraws), phones the relay turned away (a stale
//! screenshot, a second phone), the verification code once a phone joined.

use std::path::PathBuf;
use std::time::Duration;

use bidkit_crypto::Suite;
use bidkit_pki::{Certificate, Subject, TrustStore};
use bidkit_protocol::message::{LoginRequest, LoginResponse, Message, verify_login_signature};
use bidkit_protocol::{Purpose, QrPolicy};
use bidkit_relay::ClientError;
use bidkit_relay::clock::SharedClock;
use serde::Serialize;

use crate::AppError;
use crate::session::{
    Joined, SessionRelay, SessionSpec, check_timeout, date_time, load_trust, system_clock,
    verify_signer,
};

pub use crate::session::{
    QrFrame, RelayChoice, SessionObserver as LoginObserver, Silent, TrustRoots, home_trust,
};

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
    /// The wall clock (QR frames, certificate validity).
    pub clock: SharedClock,
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
            clock: system_clock(),
        }
    }
}

/// "Bidkit on `<host name>`".
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

/// Log in by scan: see the module documentation.
pub async fn login(
    opts: &LoginOptions,
    observer: &mut dyn LoginObserver,
) -> Result<LoginIdentity, AppError> {
    check_timeout(opts.timeout)?;
    // Load the trust roots first: no QR code is shown that could not be checked.
    let trust = load_trust(&opts.trust, &opts.home, opts.suite, date_time(&opts.clock))?;
    let spec = SessionSpec {
        suite: opts.suite,
        purpose: Purpose::Login,
        timeout: opts.timeout,
        qr_policy: opts.qr_policy,
        clock: opts.clock.clone(),
    };
    spec.client_config()?;
    let relay = SessionRelay::start(&opts.relay).await?;
    let result = async {
        let joined = relay.join(&spec, observer).await?;
        run(opts, joined, &trust).await
    }
    .await;
    relay.close().await;
    result
}

async fn run(
    opts: &LoginOptions,
    mut joined: Joined,
    trust: &TrustStore,
) -> Result<LoginIdentity, AppError> {
    let challenge = bidkit_crypto::rng::random_array::<32>()?.to_vec();
    let request = Message::LoginRequest(LoginRequest {
        challenge: challenge.clone(),
        requester: opts.requester.clone(),
    });
    let answer = match joined.conn.request(&request).await {
        Ok(answer) => answer,
        Err(e @ ClientError::Refused { .. }) => {
            let _ = joined
                .conn
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
            let _ = joined.conn.fail("unexpected-message", &message).await;
            return Err(AppError::LoginInvalid { reason: message });
        }
    };
    let verified = match verify(
        &joined,
        &response,
        &challenge,
        trust,
        date_time(&opts.clock),
    ) {
        Ok(v) => v,
        Err(e) => {
            let _ = joined.conn.fail(e.code(), &e.to_string()).await;
            return Err(e);
        }
    };
    joined.note_late_rejections();
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
    let Joined {
        conn,
        verification_code,
        relay,
        session_id,
        rejected,
    } = joined;
    let identity = LoginIdentity {
        person,
        organisation,
        subject: verified.leaf.subject_display(),
        certificate_serial: verified.leaf.serial_hex(),
        issuer: verified.leaf.issuer_display(),
        certificate_not_after: bidkit_pki::fmt_time(verified.leaf.not_after()),
        certificate_pem: verified.leaf.to_pem(),
        suite: opts.suite,
        verification_code,
        relay,
        session_id,
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
    joined: &Joined,
    response: &LoginResponse,
    challenge: &[u8],
    trust: &TrustStore,
    now: time::OffsetDateTime,
) -> Result<Verified, AppError> {
    let (leaf, _) =
        verify_signer(&response.certificate_chain, None, trust, now).map_err(|e| match e {
            AppError::AnswerInvalid { reason } => AppError::LoginInvalid { reason },
            other => other,
        })?;
    let channel = joined.conn.channel();
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
