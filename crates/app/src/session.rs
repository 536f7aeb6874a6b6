//! What every tool-side use case over the relay shares: start the relay (the embedded
//! one by default), open a session for a [`Purpose`], show the rotating QR code, report
//! phones the relay turns away, wait for the phone, show the verification code, and,
//! on the way out, let an embedded relay linger so the phone reads the final word.
//!
//! A use case ([`crate::login`], [`crate::sign`], [`crate::revoke`]) loads what it
//! checks the answer against first (no QR code is shown that could not be checked),
//! then:
//!
//! ```text
//! let relay = SessionRelay::start(&choice).await?;
//! let result = async {
//!     let joined = relay.join(&spec, observer).await?;
//!     // send the request on joined.conn, verify, finish or fail
//! }.await;
//! relay.close().await;
//! ```
//!
//! The trust roots the phone's certificates are checked against are chosen here too
//! ([`TrustRoots`], [`home_trust`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bidkit_crypto::Suite;
use bidkit_pki::{
    Certificate, CertificateAuthority, KeyPurpose, TrustStore, VerifiedChain, verify_chain,
};
use bidkit_protocol::{Purpose, QrPolicy, RelayAddress, Timestamp};
use bidkit_relay::clock::SharedClock;
use bidkit_relay::{
    AnyStore, ClientConfig, ClientError, EmbeddedRelay, MemoryStore, RelayConfig, Store as _,
    SystemClock, ToolConnection, ToolSession,
};
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

/// What the tool's screen shows while a session runs (log in, sign, revoke …). Every
/// method has a default that does nothing.
pub trait SessionObserver: Send {
    /// The session is open on `relay` (`embedded`: in this process).
    fn session_opened(&mut self, relay: &RelayAddress, embedded: bool) {
        let _ = (relay, embedded);
    }
    /// A new QR frame to show (the first one, then one per rotation step). An error
    /// (e.g. the PNG cannot be written) ends the session.
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
    /// The request went to the phone, which shows `summary`; the tool now waits for
    /// the holder's approval (and PIN). Not called when logging in.
    fn request_sent(&mut self, summary: &[String]) {
        let _ = summary;
    }
}

/// An observer that shows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl SessionObserver for Silent {}

/// The system clock as a shared handle (the default of every use case's options).
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// `clock`'s now as a date and time (for certificate validity).
pub(crate) fn date_time(clock: &SharedClock) -> OffsetDateTime {
    let millis = i128::from(clock.now().as_millis());
    OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// How one session is opened.
#[derive(Clone, Debug)]
pub struct SessionSpec {
    /// Algorithm suite of the session.
    pub suite: Suite,
    /// What the session is for (the phone only answers requests of this purpose).
    pub purpose: Purpose,
    /// How long the QR code works and how long the phone may take to answer once it
    /// joined (each; 1–600 s).
    pub timeout: Duration,
    /// QR timing (rotation step, accepted age); the join window comes from `timeout`.
    pub qr_policy: QrPolicy,
    /// The wall clock (QR frames, expiry).
    pub clock: SharedClock,
}

impl SessionSpec {
    /// The relay client's configuration, after checking the timeout and the QR policy.
    pub fn client_config(&self) -> Result<ClientConfig, AppError> {
        let timeout_secs = check_timeout(self.timeout)?;
        let policy = QrPolicy {
            join_window_secs: u32::try_from(timeout_secs).unwrap_or(600),
            ..self.qr_policy
        };
        policy.validate()?;
        Ok(ClientConfig {
            clock: self.clock.clone(),
            policy,
            answer_timeout: self.timeout,
            ..ClientConfig::default()
        })
    }
}

/// Check a session timeout (1–600 s); returns it in seconds.
pub fn check_timeout(timeout: Duration) -> Result<u64, AppError> {
    let secs = timeout.as_secs();
    if !(1..=600).contains(&secs) {
        return Err(AppError::InvalidOption {
            option: "timeout",
            reason: format!("{secs} s: must be 1–600 s"),
        });
    }
    Ok(secs)
}

/// A phone joined the session.
#[derive(Debug)]
pub struct Joined {
    /// The connection to the phone (send the request, then finish or fail).
    pub conn: ToolConnection,
    /// The verification code both screens show.
    pub verification_code: String,
    /// The relay the session goes through.
    pub relay: String,
    /// The session id (hex).
    pub session_id: String,
    /// The codes of the joins the relay turned away before this phone (`qr-stale` …).
    pub rejected: Vec<String>,
}

impl Joined {
    /// Add the joins the relay turned away since the phone joined (as the relay's last
    /// status reports them).
    pub fn note_late_rejections(&mut self) {
        if let Some(s) = self.conn.last_status()
            && s.rejected_joins as usize > self.rejected.len()
            && let Some(last) = &s.last_rejected_join
        {
            self.rejected.push(last.clone());
        }
    }
}

/// After the session is done, how long an embedded relay keeps serving at most so
/// the phone can read the tool's final word.
const EMBEDDED_LINGER: Duration = Duration::from_secs(2);

/// The relay a session goes through: started in this process, or a remote one.
pub struct SessionRelay {
    embedded: Option<(EmbeddedRelay, MemoryStore)>,
    connect: RelayAddress,
    advertise: RelayAddress,
}

impl std::fmt::Debug for SessionRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRelay")
            .field("embedded", &self.embedded.is_some())
            .field("connect", &self.connect)
            .field("advertise", &self.advertise)
            .finish()
    }
}

impl SessionRelay {
    /// Start the embedded relay, or note the remote one's addresses.
    pub async fn start(choice: &RelayChoice) -> Result<Self, AppError> {
        Ok(match choice {
            RelayChoice::Embedded => {
                let store = MemoryStore::default();
                let relay = EmbeddedRelay::start_with(
                    AnyStore::Memory(store.clone()),
                    RelayConfig::default(),
                )
                .await?;
                let addr = relay.relay_address();
                SessionRelay {
                    embedded: Some((relay, store)),
                    connect: addr.clone(),
                    advertise: addr,
                }
            }
            RelayChoice::Remote { connect, advertise } => SessionRelay {
                embedded: None,
                connect: connect.clone(),
                advertise: advertise.clone().unwrap_or_else(|| connect.clone()),
            },
        })
    }

    /// Whether the relay runs in this process.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Open a session as `spec` says, show the QR code (redrawn at each rotation step)
    /// and the phones the relay turns away through `observer`, and wait for a phone.
    /// [`AppError::NoPhone`] when none joined in time.
    pub async fn join(
        &self,
        spec: &SessionSpec,
        observer: &mut dyn SessionObserver,
    ) -> Result<Joined, AppError> {
        let config = spec.client_config()?;
        let session = ToolSession::open_via(
            self.connect.clone(),
            self.advertise.clone(),
            spec.suite,
            spec.purpose,
            config,
        )
        .await?;
        observer.session_opened(session.relay(), self.is_embedded());
        let relay = session.relay().to_string();
        let qr = session.qr_source();
        let join_deadline = session.join_deadline();

        // Wait for the phone while redrawing the QR code at each step and reporting
        // phones the relay turns away.
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
                    if let Ok(text) = qr.text(spec.clock.now())
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
        let conn = match joined {
            Ok(conn) => conn,
            Err(ClientError::NoPhone) => {
                return Err(AppError::NoPhone {
                    waited: spec.timeout,
                    rejected,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let verification_code = conn.verification_code().digits();
        observer.phone_joined(&verification_code);
        Ok(Joined {
            session_id: conn.session_id().to_hex(),
            conn,
            verification_code,
            relay,
            rejected,
        })
    }

    /// Done: an embedded relay keeps serving (at most a moment) until the phone has
    /// read the final word, then stops. A remote relay is left alone.
    pub async fn close(self) {
        if let Some((relay, store)) = self.embedded {
            let until = tokio::time::Instant::now() + EMBEDDED_LINGER;
            while !store.hub().is_empty() && tokio::time::Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = relay.shutdown().await;
        }
    }
}

/// Load the trust store `trust` names (for the home's emulated CA of `suite`, with
/// its CRL as of `now`).
pub fn load_trust(
    trust: &TrustRoots,
    home: &Path,
    suite: Suite,
    now: OffsetDateTime,
) -> Result<TrustStore, AppError> {
    match trust {
        TrustRoots::HomeCa => home_trust_at(home, suite, now),
        TrustRoots::Roots(roots) => {
            if roots.is_empty() {
                return Err(AppError::InvalidOption {
                    option: "trust roots",
                    reason: "none given".into(),
                });
            }
            let mut store = TrustStore::new();
            for r in roots {
                store.add_root(r.clone())?;
            }
            Ok(store)
        }
    }
}

/// The trust store of the home's emulated CA of `suite` (root and current CRL).
pub fn home_trust(home: &Path, suite: Suite) -> Result<TrustStore, AppError> {
    home_trust_at(home, suite, OffsetDateTime::now_utc())
}

/// The trust store of the home's emulated CA of `suite` (root and its CRL as of
/// `now`).
pub fn home_trust_at(
    home: &Path,
    suite: Suite,
    now: OffsetDateTime,
) -> Result<TrustStore, AppError> {
    let dir: PathBuf = home.join("ca").join(suite.as_str());
    if !CertificateAuthority::exists(&dir) {
        return Err(AppError::NoTrustRoot { path: dir, suite });
    }
    let ca = CertificateAuthority::open(&dir, suite)?;
    Ok(ca.trust_store(now)?)
}

/// A signer's certificate chain as the phone sent it (leaf first), checked: the leaf
/// is `expected` when one is given ([`AppError::SignerMismatch`] otherwise), and the
/// chain leads to a trusted root at `now` for signing.
pub(crate) fn verify_signer(
    chain_der: &[Vec<u8>],
    expected: Option<&Certificate>,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<(Certificate, VerifiedChain), AppError> {
    let (leaf_der, rest) = chain_der
        .split_first()
        .ok_or_else(|| AppError::AnswerInvalid {
            reason: "the phone sent no certificate".into(),
        })?;
    let leaf = Certificate::from_der(leaf_der)?;
    if let Some(expected) = expected
        && expected.to_der() != leaf.to_der()
    {
        return Err(AppError::SignerMismatch {
            expected: describe(expected),
            got: describe(&leaf),
        });
    }
    let intermediates = rest
        .iter()
        .map(|d| Certificate::from_der(d))
        .collect::<Result<Vec<_>, _>>()?;
    let verified = verify_chain(&leaf, &intermediates, trust, now, Some(KeyPurpose::Signing))?;
    Ok((leaf, verified))
}

/// A certificate for people: serial and subject.
pub(crate) fn describe(cert: &Certificate) -> String {
    format!("{} ({})", cert.serial_hex(), cert.subject_display())
}

/// Tell the phone why its answer was not accepted and close the session (best effort:
/// the error is what the caller reports).
pub(crate) async fn reject(conn: ToolConnection, error: &AppError) {
    let _ = conn.fail(error.code(), &error.to_string()).await;
}
