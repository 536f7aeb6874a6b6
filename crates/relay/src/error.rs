use std::time::Duration;

use bidkit_protocol::message::RefuseReason;
use bidkit_protocol::{ProtocolError, Role};

use crate::api::SessionState;

/// What the relay refuses, with a stable machine code and an HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// No such session (never opened, or its record has been purged).
    #[error("unknown session")]
    UnknownSession,
    /// A session with this id already exists.
    #[error("a session with this id already exists")]
    SessionExists,
    /// A phone already joined this session; a session takes exactly one phone.
    #[error("another phone already joined this session")]
    AlreadyJoined,
    /// The session was finished or cancelled.
    #[error("the session is {state}")]
    SessionClosed {
        /// Its state.
        state: SessionState,
    },
    /// The session's join window or lifetime is over.
    #[error("the session has expired")]
    SessionExpired,
    /// Messages can only flow once a phone joined.
    #[error("no phone has joined this session yet")]
    NotJoined,
    /// The bearer token is missing or does not belong to this session.
    #[error("missing or wrong session token")]
    Unauthorized,
    /// The caller's side may not do this (e.g. the phone marking the session done).
    #[error("the {0} may not do this")]
    Forbidden(Role),
    /// The phone's hello was refused: a stale, expired or forged QR frame, or a
    /// malformed hello.
    #[error(transparent)]
    Join(#[from] ProtocolError),
    /// The message is larger than the relay accepts.
    #[error("message too large: {len} bytes, at most {max}")]
    MessageTooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The receiver has too many unread messages.
    #[error("too many undelivered messages in this session")]
    QueueFull,
    /// Too many requests from this address.
    #[error("too many requests from this address; retry later")]
    RateLimited,
    /// The relay holds as many sessions as it may.
    #[error("the relay is at its session limit; retry later")]
    TooManySessions,
    /// The request is malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The session store failed (e.g. Redis unreachable).
    #[error("session store unavailable: {0}")]
    Store(String),
    /// Binding or serving failed.
    #[error("relay I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl RelayError {
    /// A stable machine code (protocol errors keep their own code).
    pub fn code(&self) -> &'static str {
        match self {
            RelayError::UnknownSession => "unknown-session",
            RelayError::SessionExists => "session-exists",
            RelayError::AlreadyJoined => "already-joined",
            RelayError::SessionClosed { .. } => "session-closed",
            RelayError::SessionExpired => "session-expired",
            RelayError::NotJoined => "not-joined",
            RelayError::Unauthorized => "unauthorized",
            RelayError::Forbidden(_) => "forbidden",
            RelayError::Join(e) => e.code(),
            RelayError::MessageTooLarge { .. } => "message-too-large",
            RelayError::QueueFull => "queue-full",
            RelayError::RateLimited => "rate-limited",
            RelayError::TooManySessions => "too-many-sessions",
            RelayError::BadRequest(_) => "bad-request",
            RelayError::Store(_) => "store-unavailable",
            RelayError::Io(_) => "io",
        }
    }

    /// The HTTP status the relay answers with.
    pub fn status(&self) -> u16 {
        match self {
            RelayError::UnknownSession => 404,
            RelayError::SessionExists
            | RelayError::AlreadyJoined
            | RelayError::SessionClosed { .. }
            | RelayError::NotJoined => 409,
            RelayError::SessionExpired => 410,
            RelayError::Unauthorized => 401,
            RelayError::Forbidden(_) => 403,
            RelayError::Join(e) => match e {
                ProtocolError::QrStale { .. } | ProtocolError::QrExpired { .. } => 410,
                ProtocolError::QrBadMac => 403,
                _ => 400,
            },
            RelayError::MessageTooLarge { .. } => 413,
            RelayError::QueueFull | RelayError::RateLimited => 429,
            RelayError::TooManySessions | RelayError::Store(_) => 503,
            RelayError::BadRequest(_) => 400,
            RelayError::Io(_) => 500,
        }
    }
}

/// What went wrong for a tool or a phone talking through the relay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The relay refused the request (its code and message, e.g. `already-joined`,
    /// `qr-stale`, `message-too-large`).
    #[error("relay refused ({code}): {message}")]
    Relay {
        /// HTTP status.
        status: u16,
        /// The relay's machine code.
        code: String,
        /// The relay's message.
        message: String,
    },
    /// The relay could not be reached in time.
    #[error("cannot reach the relay at {url}: {reason}")]
    Unreachable {
        /// The relay's address.
        url: String,
        /// Why.
        reason: String,
    },
    /// The protocol refused something (a bad QR code, a replay, a flipped byte …).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// No phone joined before the QR code's join window closed.
    #[error("no phone joined before the QR code expired")]
    NoPhone,
    /// The phone joined but never answered the request.
    #[error("the phone never answered (waited {} s)", .waited.as_secs())]
    PhoneNeverAnswered {
        /// How long the tool waited.
        waited: Duration,
    },
    /// The tool never sent its request or its final word.
    #[error("the tool never answered (waited {} s)", .waited.as_secs())]
    ToolNeverAnswered {
        /// How long the phone waited.
        waited: Duration,
    },
    /// The phone refused the request.
    #[error("the phone refused ({reason}): {message}")]
    Refused {
        /// Why.
        reason: RefuseReason,
        /// The phone's message.
        message: String,
    },
    /// The tool turned the phone's join away (its code says why, e.g. `swapped-key`
    /// or `qr-stale`).
    #[error("the tool rejected this phone's join ({code})")]
    JoinRejected {
        /// The tool's machine code.
        code: String,
    },
    /// The other side cancelled the session.
    #[error("the session was cancelled by the {}{}", .by.map(|r| r.as_str()).unwrap_or("other side"), .reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Cancelled {
        /// Who cancelled.
        by: Option<Role>,
        /// The reason or code given.
        reason: Option<String>,
    },
    /// The session expired at the relay.
    #[error("the session has expired")]
    Expired,
    /// The tool already closed the session as done.
    #[error("the session is already finished")]
    SessionDone,
    /// The other side reported an error.
    #[error("the {from} reported an error ({code}): {message}")]
    Remote {
        /// Who reported it.
        from: Role,
        /// Its machine code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The other side sent a valid message that does not fit here.
    #[error("unexpected {kind} from the {from}")]
    Unexpected {
        /// The message's type.
        kind: &'static str,
        /// Who sent it.
        from: Role,
    },
    /// The connection to the relay failed in a way retrying did not fix.
    #[error("relay transport error: {0}")]
    Transport(String),
}

impl ClientError {
    /// A stable machine code.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Relay { code, .. } => code,
            ClientError::Unreachable { .. } => "relay-unreachable",
            ClientError::Protocol(e) => e.code(),
            ClientError::NoPhone => "no-phone",
            ClientError::PhoneNeverAnswered { .. } => "phone-timeout",
            ClientError::ToolNeverAnswered { .. } => "tool-timeout",
            ClientError::Refused { .. } => "refused",
            ClientError::JoinRejected { .. } => "join-rejected",
            ClientError::Cancelled { .. } => "cancelled",
            ClientError::Expired => "session-expired",
            ClientError::SessionDone => "session-done",
            ClientError::Remote { .. } => "remote-error",
            ClientError::Unexpected { .. } => "unexpected-message",
            ClientError::Transport(_) => "transport",
        }
    }
}
