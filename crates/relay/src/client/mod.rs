//! The tool-side and phone-side clients: they run the protocol's handshake over a
//! relay and exchange typed messages, with timeouts that end in typed errors.
//!
//! Tool side (e.g. `bidkit login`):
//!
//! ```no_run
//! # async fn demo() -> Result<(), bidkit_relay::ClientError> {
//! use bidkit_protocol::message::{LoginRequest, Message};
//! use bidkit_protocol::{Purpose, Suite, Timestamp};
//! use bidkit_relay::{ClientConfig, EmbeddedRelay, ToolSession};
//!
//! let relay = EmbeddedRelay::start().await.map_err(|e| bidkit_relay::ClientError::Transport(e.to_string()))?;
//! let session = ToolSession::open(relay.relay_address(), Suite::Gm, Purpose::Login, ClientConfig::default()).await?;
//! // Show `session.qr_text(now)` and refresh it every `session.qr_step()`.
//! let qr = session.qr_source();
//! let show = tokio::spawn(async move {
//!     loop {
//!         if let Ok(text) = qr.text(Timestamp::now()) { println!("{text}"); } else { break }
//!         tokio::time::sleep(qr.step()).await;
//!     }
//! });
//! let mut conn = session.wait_for_phone().await?;
//! show.abort();
//! println!("verification code {}", conn.verification_code());
//! let answer = conn
//!     .request(&Message::LoginRequest(LoginRequest { challenge: vec![0; 32], requester: "Bidkit".into() }))
//!     .await?;
//! conn.finish(true, "logged in").await?;
//! # drop(answer); Ok(()) }
//! ```
//!
//! Phone side (e.g. `bidkit phone scan qr.png`):
//!
//! ```no_run
//! # async fn demo(qr_text: &str) -> Result<(), bidkit_relay::ClientError> {
//! use bidkit_protocol::message::RefuseReason;
//! use bidkit_relay::{ClientConfig, PhoneScan};
//!
//! let scan = PhoneScan::new(qr_text, ClientConfig::default())?;
//! let mut conn = scan.join().await?;
//! println!("verification code {}", conn.verification_code());
//! let request = conn.next_request().await?;
//! for line in request.summary() { println!("{line}"); }
//! // … ask for the PIN, sign with the keystore, then:
//! conn.refuse(RefuseReason::UserRefused, "not today").await?;
//! # Ok(()) }
//! ```

mod transport;

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use bidkit_protocol::message::{Cancel, ErrorReport, Finished, Refusal, RefuseReason};
use bidkit_protocol::{
    Channel, Message, PhoneHandshake, Purpose, QrPayload, QrPolicy, RelayAddress, Role, SessionId,
    Suite, Timestamp, ToolHandshake, VerificationCode,
};

use crate::api::{CreateSession, Created, Joined, SessionState, Status};
use crate::clock::{SharedClock, SystemClock};
use crate::error::ClientError;

use self::transport::{Http, Inbound, Mailbox};

/// How a client receives: WebSocket (falling back to long poll when the relay or a
/// proxy refuses the upgrade), or long poll only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// WebSocket first, long poll as the fallback.
    WebSocket,
    /// Long poll only.
    LongPoll,
}

/// Client timing and behaviour.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The wall clock (QR rotation and the tool's freshness check use it).
    pub clock: SharedClock,
    /// How to receive.
    pub transport: Transport,
    /// The QR timing a tool opens sessions with; the phone uses its skew allowance.
    pub policy: QrPolicy,
    /// How long the tool waits for the phone's answer to a request (the holder reads
    /// the request and types a PIN).
    pub answer_timeout: Duration,
    /// How long the phone waits for the tool (its accept, request or final word).
    pub peer_timeout: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Timeout of opening a TCP or WebSocket connection.
    pub connect_timeout: Duration,
    /// How long an unreachable relay is retried (e.g. a node restarting).
    pub retry_for: Duration,
    /// How long one long poll waits at the relay.
    pub long_poll_wait: Duration,
    /// An HTTP client to share between sessions (its connection pool and limits),
    /// e.g. for a process that runs thousands of sessions; `None` builds one per
    /// session with `connect_timeout`.
    pub http_client: Option<reqwest::Client>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            clock: Arc::new(SystemClock),
            transport: Transport::WebSocket,
            policy: QrPolicy::DEFAULT,
            answer_timeout: Duration::from_secs(180),
            peer_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            retry_for: Duration::from_secs(15),
            long_poll_wait: Duration::from_secs(20),
            http_client: None,
        }
    }
}

fn now(config: &ClientConfig) -> Timestamp {
    config.clock.now()
}

/// Produces the current QR text of a session; cheap to clone into a refresh task.
#[derive(Clone)]
pub struct QrSource {
    handshake: Arc<ToolHandshake>,
    step: Duration,
}

impl std::fmt::Debug for QrSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrSource")
            .field("session_id", &self.handshake.session_id())
            .finish_non_exhaustive()
    }
}

impl QrSource {
    /// The QR text to show at `now`; `qr-expired` after the join window.
    pub fn text(&self, now: Timestamp) -> Result<String, ClientError> {
        Ok(self.handshake.qr_text(now)?)
    }

    /// The QR frame at `now`.
    pub fn payload(&self, now: Timestamp) -> Result<QrPayload, ClientError> {
        Ok(self.handshake.qr(now)?)
    }

    /// How often the code changes (re-render at least this often).
    pub fn step(&self) -> Duration {
        self.step
    }
}

/// A session the tool opened, waiting for a phone.
pub struct ToolSession {
    handshake: Arc<ToolHandshake>,
    mailbox: Mailbox,
    relay: RelayAddress,
    status: Status,
}

impl std::fmt::Debug for ToolSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSession")
            .field("session_id", &self.handshake.session_id())
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl ToolSession {
    /// Open a session for `purpose` on the relay at `relay`.
    pub async fn open(
        relay: RelayAddress,
        suite: Suite,
        purpose: Purpose,
        config: ClientConfig,
    ) -> Result<Self, ClientError> {
        Self::open_via(relay.clone(), relay, suite, purpose, config).await
    }

    /// Open a session through the relay at `connect`, telling the phone (in the QR
    /// code) to reach the same relay service at `advertise`: for relay nodes behind
    /// one public name, or a tool that reaches the relay by an internal address.
    pub async fn open_via(
        connect: RelayAddress,
        advertise: RelayAddress,
        suite: Suite,
        purpose: Purpose,
        config: ClientConfig,
    ) -> Result<Self, ClientError> {
        let config = Arc::new(config);
        let relay = advertise;
        let handshake =
            ToolHandshake::new(suite, purpose, relay.clone(), config.policy, now(&config))?;
        let http = Http::new(&connect, config)?;
        let created: Created = http
            .post_json(
                "/v1/sessions",
                None,
                &CreateSession {
                    verifier: handshake.verifier().clone(),
                },
            )
            .await?;
        let mailbox = Mailbox::new(http, handshake.session_id(), created.tool_token, Role::Tool);
        Ok(ToolSession {
            handshake: Arc::new(handshake),
            mailbox,
            relay,
            status: created.status,
        })
    }

    /// The session's routing id.
    pub fn session_id(&self) -> SessionId {
        self.handshake.session_id()
    }

    /// The session's purpose.
    pub fn purpose(&self) -> Purpose {
        self.handshake.purpose()
    }

    /// The relay address in its QR code.
    pub fn relay(&self) -> &RelayAddress {
        &self.relay
    }

    /// When the QR code stops working.
    pub fn join_deadline(&self) -> Timestamp {
        self.status.join_deadline
    }

    /// The QR text to show at `now`.
    pub fn qr_text(&self, now: Timestamp) -> Result<String, ClientError> {
        Ok(self.handshake.qr_text(now)?)
    }

    /// How often the QR code changes.
    pub fn qr_step(&self) -> Duration {
        Duration::from_secs(u64::from(self.handshake.verifier().policy.step_secs))
    }

    /// A handle that renders the current QR text, for a refresh task.
    pub fn qr_source(&self) -> QrSource {
        QrSource {
            handshake: self.handshake.clone(),
            step: self.qr_step(),
        }
    }

    /// Wait until a phone joins (or the join window closes: [`ClientError::NoPhone`]),
    /// check its hello and send the accept. A hello that fails (stale frame, swapped
    /// key …) cancels the session with the error's code, so the phone learns why.
    pub async fn wait_for_phone(self) -> Result<ToolConnection, ClientError> {
        self.wait_for_phone_observed(&mut |_| {}).await
    }

    /// [`ToolSession::wait_for_phone`], calling `on_status` with every new status the
    /// relay reports while waiting — for example a phone turned away at the join
    /// ([`Status::rejected_joins`], [`Status::last_rejected_join`]: a stale or forged
    /// QR code, a second phone), which the tool's screen should mention.
    pub async fn wait_for_phone_observed(
        mut self,
        on_status: &mut (dyn FnMut(&Status) + Send),
    ) -> Result<ToolConnection, ClientError> {
        let config = self.mailbox.http.config().clone();
        let left = self.status.join_deadline.since(now(&config));
        // A little slack past the deadline so the relay's own "expired" arrives first.
        let deadline = Instant::now() + left + Duration::from_secs(2);
        let hello = match self.mailbox.next_observed(deadline, on_status).await? {
            Some(Inbound::Record(hello)) => hello,
            Some(Inbound::Closed(status)) => {
                return Err(closed_error(&status, Role::Tool, Phase::WaitingForJoin));
            }
            None => {
                let _ = self.mailbox.cancel(Some("no-phone")).await;
                return Err(ClientError::NoPhone);
            }
        };
        match self.handshake.accept(&hello, now(&config)) {
            Ok((channel, accept)) => {
                self.mailbox.post(&accept).await?;
                Ok(ToolConnection {
                    channel,
                    mailbox: self.mailbox,
                })
            }
            Err(e) => {
                let _ = self.mailbox.cancel(Some(e.code())).await;
                Err(ClientError::Protocol(e))
            }
        }
    }

    /// Give up before a phone joined.
    pub async fn cancel(self) -> Result<(), ClientError> {
        self.mailbox.cancel(Some("cancelled")).await.map(|_| ())
    }
}

/// Where in its life a session was when the relay reported it closed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The tool waiting for a phone.
    WaitingForJoin,
    /// The phone waiting for the tool's accept.
    Joining,
    /// Both ends connected.
    Established,
}

fn closed_error(status: &Status, me: Role, phase: Phase) -> ClientError {
    match status.state {
        SessionState::Expired if phase == Phase::WaitingForJoin => ClientError::NoPhone,
        SessionState::Expired => ClientError::Expired,
        SessionState::Cancelled => {
            let by_peer = status.cancelled_by == Some(me.peer());
            match &status.cancel_code {
                Some(code) if phase == Phase::Joining && by_peer && code != "cancelled" => {
                    ClientError::JoinRejected { code: code.clone() }
                }
                _ => ClientError::Cancelled {
                    by: status.cancelled_by,
                    reason: status.cancel_code.clone(),
                },
            }
        }
        SessionState::Done => ClientError::SessionDone,
        SessionState::Waiting | SessionState::Joined => {
            ClientError::Transport(format!("unexpected state {}", status.state))
        }
    }
}

/// Receive the next message within `timeout`; typed errors for the other side's
/// cancel, error report, silence or a closed session.
async fn receive(
    channel: &mut Channel,
    mailbox: &mut Mailbox,
    timeout: Duration,
) -> Result<Message, ClientError> {
    let me = mailbox.role();
    let deadline = Instant::now() + timeout;
    match mailbox.next(deadline).await? {
        Some(Inbound::Record(record)) => {
            let message = channel.open(&record)?;
            match message {
                Message::Cancel(Cancel { reason }) => Err(ClientError::Cancelled {
                    by: Some(me.peer()),
                    reason: Some(reason),
                }),
                Message::Error(ErrorReport { code, message }) => Err(ClientError::Remote {
                    from: me.peer(),
                    code,
                    message,
                }),
                other => Ok(other),
            }
        }
        Some(Inbound::Closed(status)) => Err(closed_error(&status, me, Phase::Established)),
        None => Err(match me {
            Role::Tool => ClientError::PhoneNeverAnswered { waited: timeout },
            Role::Phone => ClientError::ToolNeverAnswered { waited: timeout },
        }),
    }
}

/// The tool's end of an established session.
pub struct ToolConnection {
    channel: Channel,
    mailbox: Mailbox,
}

impl std::fmt::Debug for ToolConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolConnection")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl ToolConnection {
    /// The code to show next to the phone's.
    pub fn verification_code(&self) -> VerificationCode {
        self.channel.verification_code()
    }

    /// The session's routing id.
    pub fn session_id(&self) -> SessionId {
        self.channel.session_id()
    }

    /// The established channel (transcript hash for login binding, purpose …).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Seal and send one message.
    pub async fn send(&mut self, message: &Message) -> Result<(), ClientError> {
        let record = self.channel.seal(message)?;
        self.mailbox.post(&record).await.map(|_| ())
    }

    /// Receive the phone's next message within `timeout`
    /// ([`ClientError::PhoneNeverAnswered`] after it).
    pub async fn receive(&mut self, timeout: Duration) -> Result<Message, ClientError> {
        receive(&mut self.channel, &mut self.mailbox, timeout).await
    }

    /// Send a request and wait for the answer (up to the configured
    /// `answer_timeout`). A refusal is [`ClientError::Refused`].
    pub async fn request(&mut self, request: &Message) -> Result<Message, ClientError> {
        self.send(request).await?;
        let timeout = self.mailbox.http.config().answer_timeout;
        match self.receive(timeout).await {
            Ok(Message::Refuse(Refusal { reason, message })) => {
                Err(ClientError::Refused { reason, message })
            }
            Err(e @ ClientError::PhoneNeverAnswered { .. }) => {
                let _ = self.mailbox.cancel(Some("phone-timeout")).await;
                Err(e)
            }
            other => other,
        }
    }

    /// Tell the phone the outcome and close the session as done.
    pub async fn finish(mut self, ok: bool, message: &str) -> Result<(), ClientError> {
        self.send(&Message::Finished(Finished {
            ok,
            message: message.to_owned(),
        }))
        .await?;
        self.mailbox.done().await.map(|_| ())
    }

    /// Report an error to the phone (e.g. a certificate that does not validate) and
    /// cancel the session.
    pub async fn fail(mut self, code: &str, message: &str) -> Result<(), ClientError> {
        let _ = self
            .send(&Message::Error(ErrorReport {
                code: code.to_owned(),
                message: message.to_owned(),
            }))
            .await;
        self.mailbox.cancel(Some("cancelled")).await.map(|_| ())
    }

    /// Cancel: a sealed `Cancel` to the phone, then the relay state.
    pub async fn cancel(mut self, reason: &str) -> Result<(), ClientError> {
        let _ = self
            .send(&Message::Cancel(Cancel {
                reason: reason.to_owned(),
            }))
            .await;
        self.mailbox.cancel(Some("cancelled")).await.map(|_| ())
    }

    /// The relay's view of the session.
    pub async fn status(&self) -> Result<Status, ClientError> {
        self.mailbox.status().await
    }

    /// The last status the relay pushed or returned while receiving (no request).
    pub fn last_status(&self) -> Option<&Status> {
        self.mailbox.last_status()
    }
}

/// A scanned QR code, checked and ready to join.
pub struct PhoneScan {
    qr: QrPayload,
    http: Http,
}

impl std::fmt::Debug for PhoneScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneScan")
            .field("qr", &self.qr)
            .finish_non_exhaustive()
    }
}

impl PhoneScan {
    /// Parse the scanned text and pre-check its age against the phone's clock.
    pub fn new(qr_text: &str, config: ClientConfig) -> Result<Self, ClientError> {
        let qr = QrPayload::parse(qr_text)?;
        qr.check_fresh(now(&config), &config.policy)?;
        let http = Http::new(&qr.relay, Arc::new(config))?;
        Ok(PhoneScan { qr, http })
    }

    /// What the session is for.
    pub fn purpose(&self) -> Purpose {
        self.qr.purpose
    }

    /// The relay named in the code.
    pub fn relay(&self) -> &RelayAddress {
        &self.qr.relay
    }

    /// The session's routing id.
    pub fn session_id(&self) -> SessionId {
        self.qr.session_id
    }

    /// The parsed QR frame.
    pub fn payload(&self) -> &QrPayload {
        &self.qr
    }

    /// Join: post the hello, wait for the tool's accept (key confirmation), derive the
    /// verification code. A relay refusal (`already-joined`, `qr-stale` …) is
    /// [`ClientError::Relay`]; the tool turning the hello away is
    /// [`ClientError::JoinRejected`].
    pub async fn join(self) -> Result<PhoneConnection, ClientError> {
        let (hello, pending) = PhoneHandshake::start(&self.qr)?;
        let path = format!("/v1/sessions/{}/join", self.qr.session_id.to_hex());
        let joined: Joined = self.http.post_bytes(&path, None, &hello).await?;
        let timeout = self.http.config().peer_timeout;
        let mut mailbox = Mailbox::new(
            self.http,
            self.qr.session_id,
            joined.phone_token,
            Role::Phone,
        );
        let deadline = Instant::now() + timeout;
        match mailbox.next(deadline).await? {
            Some(Inbound::Record(accept)) => {
                let channel = pending.finish(&accept)?;
                Ok(PhoneConnection { channel, mailbox })
            }
            Some(Inbound::Closed(status)) => {
                Err(closed_error(&status, Role::Phone, Phase::Joining))
            }
            None => Err(ClientError::ToolNeverAnswered { waited: timeout }),
        }
    }
}

/// The phone's end of an established session.
pub struct PhoneConnection {
    channel: Channel,
    mailbox: Mailbox,
}

impl std::fmt::Debug for PhoneConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneConnection")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl PhoneConnection {
    /// The code to compare with the tool's screen.
    pub fn verification_code(&self) -> VerificationCode {
        self.channel.verification_code()
    }

    /// What the session is for.
    pub fn purpose(&self) -> Purpose {
        self.channel.purpose()
    }

    /// The established channel (its transcript hash goes into the login signature).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Wait for the tool's request (up to `peer_timeout`).
    pub async fn next_request(&mut self) -> Result<Message, ClientError> {
        let timeout = self.mailbox.http.config().peer_timeout;
        let message = self.receive(timeout).await?;
        if message.is_request() {
            Ok(message)
        } else {
            Err(ClientError::Unexpected {
                kind: message.kind(),
                from: Role::Tool,
            })
        }
    }

    /// Receive the tool's next message within `timeout`.
    pub async fn receive(&mut self, timeout: Duration) -> Result<Message, ClientError> {
        receive(&mut self.channel, &mut self.mailbox, timeout).await
    }

    /// Seal and send one message.
    pub async fn send(&mut self, message: &Message) -> Result<(), ClientError> {
        let record = self.channel.seal(message)?;
        self.mailbox.post(&record).await.map(|_| ())
    }

    /// Answer the request.
    pub async fn respond(&mut self, response: &Message) -> Result<(), ClientError> {
        self.send(response).await
    }

    /// Decline the request.
    pub async fn refuse(&mut self, reason: RefuseReason, message: &str) -> Result<(), ClientError> {
        self.send(&Message::Refuse(Refusal {
            reason,
            message: message.to_owned(),
        }))
        .await
    }

    /// Wait for the tool's final word (up to `peer_timeout`). A session closed as
    /// done without one counts as finished.
    pub async fn wait_finished(&mut self) -> Result<Finished, ClientError> {
        let timeout = self.mailbox.http.config().peer_timeout;
        match self.receive(timeout).await {
            Ok(Message::Finished(f)) => Ok(f),
            Ok(other) => Err(ClientError::Unexpected {
                kind: other.kind(),
                from: Role::Tool,
            }),
            Err(ClientError::SessionDone) => Ok(Finished {
                ok: true,
                message: String::new(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Cancel: a sealed `Cancel` to the tool, then the relay state.
    pub async fn cancel(mut self, reason: &str) -> Result<(), ClientError> {
        let _ = self
            .send(&Message::Cancel(Cancel {
                reason: reason.to_owned(),
            }))
            .await;
        self.mailbox.cancel(Some("cancelled")).await.map(|_| ())
    }

    /// The relay's view of the session.
    pub async fn status(&self) -> Result<Status, ClientError> {
        self.mailbox.status().await
    }
}
