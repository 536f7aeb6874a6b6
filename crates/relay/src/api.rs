//! The relay's HTTP API: paths, JSON bodies and states, shared by server and clients.
//!
//! | method and path | who | body | answer |
//! | --- | --- | --- | --- |
//! | `POST /v1/sessions` | tool | [`CreateSession`] (JSON) | 201 [`Created`] |
//! | `POST /v1/sessions/{sid}/join` | phone | the hello frame (bytes) | 200 [`Joined`] |
//! | `GET /v1/sessions/{sid}` | both | – | [`Status`] |
//! | `POST /v1/sessions/{sid}/messages` | both | one record (bytes) | 202 [`Posted`] |
//! | `GET /v1/sessions/{sid}/messages?after=N&wait_ms=M` | both | – | [`Inbox`] (long poll) |
//! | `GET /v1/sessions/{sid}/ws?after=N` | both | WebSocket | [`WsEvent`] frames |
//! | `POST /v1/sessions/{sid}/cancel` | both | [`CancelBody`] (JSON, optional) | [`Status`] |
//! | `POST /v1/sessions/{sid}/done` | tool | – | [`Status`] |
//! | `GET /healthz` | anyone | – | `ok` |
//!
//! Everything after `create` and `join` needs `Authorization: Bearer <token>`; the
//! token says which side is calling. Errors are `{"code": …, "message": …}`
//! ([`ErrorBody`]) with the codes of [`crate::RelayError::code`].

use serde::{Deserialize, Serialize};

use bidkit_protocol::{QrVerifier, Role, SessionId, Timestamp};

/// Where a session stands; both sides see the same state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    /// Opened by the tool, no phone yet.
    Waiting,
    /// One phone joined; messages flow.
    Joined,
    /// The tool finished the session.
    Done,
    /// The join window or the session's lifetime is over.
    Expired,
    /// One side cancelled.
    Cancelled,
}

impl SessionState {
    /// Whether no more messages can be posted.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            SessionState::Done | SessionState::Expired | SessionState::Cancelled
        )
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Waiting => "waiting",
            SessionState::Joined => "joined",
            SessionState::Done => "done",
            SessionState::Expired => "expired",
            SessionState::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /v1/sessions`: what the tool registers. Only the routing id and the rotating
/// code's verifier: nothing that helps to derive the session keys.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateSession {
    /// The QR verifier (session id, `k_qr`, issue time, policy).
    pub verifier: QrVerifier,
}

/// Answer to `create`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Created {
    /// The tool's bearer token.
    pub tool_token: String,
    /// The session's status.
    pub status: Status,
}

/// Answer to `join`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Joined {
    /// The phone's bearer token.
    pub phone_token: String,
    /// The session's status.
    pub status: Status,
}

/// A session's state as both sides see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The session.
    pub session_id: SessionId,
    /// Its state.
    pub state: SessionState,
    /// Who cancelled, when cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<Role>,
    /// The machine code given with the cancel (e.g. `swapped-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_code: Option<String>,
    /// When the join window closes.
    pub join_deadline: Timestamp,
    /// When the session ends regardless.
    pub expires_at: Timestamp,
    /// How many phones the relay turned away at the join (stale or forged QR frames,
    /// a second phone): the tool shows it, since the refused phone cannot tell it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rejected_joins: u32,
    /// The error code of the last join turned away (`qr-stale`, `already-joined` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rejected_join: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Answer to a posted message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Posted {
    /// The message's index in its queue (1, 2, …).
    pub index: u64,
}

/// One queued message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// Its index in the queue.
    pub index: u64,
    /// The record, base64.
    #[serde(with = "b64")]
    pub data: Vec<u8>,
}

/// Answer to a long poll: the state and every message after `after`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Inbox {
    /// The session's status.
    pub status: Status,
    /// Messages in order (possibly none when the wait ran out).
    pub messages: Vec<Envelope>,
}

/// `POST …/cancel` body.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CancelBody {
    /// A machine code saying why (e.g. a protocol error code); at most 64 characters.
    #[serde(default)]
    pub code: Option<String>,
}

/// A WebSocket text frame from the relay. Records themselves arrive as binary frames:
/// 8 bytes of big-endian index, then the record.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum WsEvent {
    /// The session's state (sent first and on every change).
    State(Status),
    /// An error (the socket closes after it).
    Error(ErrorBody),
}

/// A WebSocket text frame to the relay: acknowledge every message up to `ack`, so the
/// relay can drop them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WsAck {
    /// Highest index processed.
    pub ack: u64,
}

/// An error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine code.
    pub code: String,
    /// A message for people.
    pub message: String,
}

mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("bad base64: {e}")))
    }
}
