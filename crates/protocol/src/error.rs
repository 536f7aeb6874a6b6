use crate::{Purpose, Role};

/// Why a QR payload, a handshake frame or a record was refused.
///
/// Every variant has a stable machine code ([`ProtocolError::code`]) that both sides
/// can show and that the relay reuses in its JSON errors. Messages never contain key
/// material or plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The text is not a Bidkit QR payload or its fields do not parse.
    #[error("not a valid Bidkit QR code: {reason}")]
    QrMalformed {
        /// What was wrong.
        reason: String,
    },
    /// The session's join window is over (or the code was issued in the future): the
    /// QR code is dead and a new session is needed.
    #[error("the QR code has expired: {reason}")]
    QrExpired {
        /// What made it expire.
        reason: String,
    },
    /// The QR frame was rotated out: it is older than the accepted number of time
    /// steps (a forwarded or photographed code). Scan the code on the screen again.
    #[error(
        "the QR code is stale: it was shown {age_secs} s ago (at most {max_age_secs} s is accepted); scan the current code"
    )]
    QrStale {
        /// How old the scanned frame is, in seconds.
        age_secs: u64,
        /// The oldest frame still accepted, in seconds.
        max_age_secs: u64,
    },
    /// The rotating code of the QR frame does not verify (altered or forged frame).
    #[error("the QR code's rotating code does not verify (altered or forged QR code)")]
    QrBadMac,
    /// The other side speaks a protocol version this build does not.
    #[error("protocol version mismatch: got version {got}, this build speaks version {supported}")]
    VersionMismatch {
        /// The version found.
        got: u8,
        /// The version this build supports.
        supported: u8,
    },
    /// The QR code names a purpose this build does not know.
    #[error("unknown purpose {0} in the QR code")]
    UnknownPurpose(u8),
    /// The QR code or hello names an algorithm suite this build does not know.
    #[error("unknown algorithm suite {0}")]
    UnknownSuite(u8),
    /// A frame belongs to another session than the one it was delivered to.
    #[error("the message belongs to another session")]
    WrongSession,
    /// A record with an already-used sequence number (a replay).
    #[error(
        "replayed message: sequence number {seq} was already received (next expected {expected})"
    )]
    Replay {
        /// Sequence number of the record.
        seq: u64,
        /// The next sequence number the receiver expects.
        expected: u64,
    },
    /// A record arrived ahead of its turn (a message was dropped or reordered).
    #[error("message out of order: got sequence number {seq}, expected {expected}")]
    OutOfOrder {
        /// Sequence number of the record.
        seq: u64,
        /// The next sequence number the receiver expects.
        expected: u64,
    },
    /// A record came from the wrong direction (for example a frame reflected back to
    /// its sender).
    #[error("message from the wrong direction (a reflected frame)")]
    WrongDirection,
    /// Authenticated decryption failed: a byte of the record was changed in transit.
    #[error("message authentication failed: the message was altered in transit")]
    BadMac,
    /// The key confirmation failed: an ephemeral key was swapped on the way (a
    /// man in the middle on the relay), or the phone scanned another session's code.
    #[error(
        "key confirmation failed: the ephemeral key was swapped in transit or the QR code belongs to another session"
    )]
    SwappedKey,
    /// A message or frame is larger than the protocol allows.
    #[error("message too large: {len} bytes, at most {max} allowed")]
    Oversized {
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A binary frame is truncated or its header is invalid.
    #[error("malformed {what}: {reason}")]
    MalformedFrame {
        /// Which frame.
        what: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A decrypted message is not valid protocol JSON (or names an unknown type).
    #[error("malformed message: {reason}")]
    MalformedMessage {
        /// The parser's explanation (no message content).
        reason: String,
    },
    /// A well-formed message that this session may not carry: the wrong request for
    /// the session's purpose, or a request sent by the phone.
    #[error("{kind} is not allowed from the {from} in a {purpose} session")]
    UnexpectedMessage {
        /// The message type.
        kind: &'static str,
        /// Who sent it.
        from: Role,
        /// The session's purpose.
        purpose: Purpose,
    },
    /// A cryptographic primitive failed (random source, bad point …).
    #[error(transparent)]
    Crypto(#[from] bidkit_crypto::CryptoError),
}

impl ProtocolError {
    /// A stable, lowercase, dash-separated machine code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::QrMalformed { .. } => "qr-malformed",
            ProtocolError::QrExpired { .. } => "qr-expired",
            ProtocolError::QrStale { .. } => "qr-stale",
            ProtocolError::QrBadMac => "qr-bad-mac",
            ProtocolError::VersionMismatch { .. } => "version-mismatch",
            ProtocolError::UnknownPurpose(_) => "unknown-purpose",
            ProtocolError::UnknownSuite(_) => "unknown-suite",
            ProtocolError::WrongSession => "wrong-session",
            ProtocolError::Replay { .. } => "replay",
            ProtocolError::OutOfOrder { .. } => "out-of-order",
            ProtocolError::WrongDirection => "wrong-direction",
            ProtocolError::BadMac => "bad-mac",
            ProtocolError::SwappedKey => "swapped-key",
            ProtocolError::Oversized { .. } => "oversized",
            ProtocolError::MalformedFrame { .. } => "malformed-frame",
            ProtocolError::MalformedMessage { .. } => "malformed-message",
            ProtocolError::UnexpectedMessage { .. } => "unexpected-message",
            ProtocolError::Crypto(_) => "crypto",
        }
    }

    pub(crate) fn frame(what: &'static str, reason: impl Into<String>) -> Self {
        ProtocolError::MalformedFrame {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn qr(reason: impl Into<String>) -> Self {
        ProtocolError::QrMalformed {
            reason: reason.into(),
        }
    }
}
