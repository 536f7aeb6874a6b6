//! Bidkit's tool-to-phone protocol: what the QR code says, how the two ends agree on
//! keys through a relay they do not trust, and the typed messages they exchange.
//!
//! This crate owns the bytes: the rotating QR payload ([`QrPayload`], [`QrVerifier`]),
//! the handshake ([`ToolHandshake`], [`PhoneHandshake`], [`JoinHello`]), the sealed
//! record layer ([`Channel`]) and the messages ([`Message`]). It does **no I/O**: no
//! sockets, no files, no clock (every time is passed in as a [`Timestamp`]), so every
//! rule can be tested without waiting. The relay server and the network clients live
//! in `bidkit-relay`; certificates are checked by the PKI crate; keys are used by the
//! keystore. This crate must never log or print secrets: every type holding key
//! material redacts itself in `Debug` and wipes itself on drop.
//!
//! # At a glance
//!
//! * **QR code**: `BK1:` + base32 of 87 bytes for an `IP:port` relay (144 characters,
//!   QR version 6-M, alphanumeric mode). It carries the suite, purpose, relay address,
//!   session id, the tool's ephemeral public key, the QR secret `s`, the issue time,
//!   the time step `t` and `HMAC(k_qr, t)` truncated to 8 bytes. The frame changes
//!   every 2 s; the relay and the tool accept frames at most 3 steps old and none
//!   after the 120 s join window ([`QrPolicy`]). See [`qr`].
//! * **Handshake**: ephemeral ECDH (SM2 curve or P-256) keyed with the QR secret the
//!   relay never sees, directional AEAD keys (SM4-GCM or AES-256-GCM) from HKDF-SM3 or
//!   HKDF-SHA-256, key confirmation, and a 6-digit [`VerificationCode`] protected by a
//!   commitment so a man in the middle cannot make two codes agree. See [`handshake`].
//! * **Records**: per-direction sequence numbers in the nonce and in the associated
//!   data with the session id; exactly the next record is accepted. See [`record`].
//! * **Messages**: JSON inside the AEAD, one request type per [`Purpose`]. See
//!   [`message`].
//! * **Errors**: [`ProtocolError`], each variant with a stable [`ProtocolError::code`].
//! * **Fuzzing**: [`fuzz::parse_untrusted`] runs every parser on arbitrary bytes.
//!
//! The full description with rationale is in `docs/protocol.md`.

mod b64;
mod error;
mod types;

pub mod fuzz;
pub mod handshake;
pub mod message;
pub mod qr;
pub mod record;

pub use error::ProtocolError;
pub use handshake::{JoinHello, PhoneHandshake, ToolHandshake};
pub use message::{Message, SecretBytes};
pub use qr::{QrPayload, QrVerifier};
pub use record::Channel;
pub use types::{Purpose, QrPolicy, RelayAddress, Role, SessionId, Timestamp};

pub use bidkit_crypto::Suite;

/// The protocol version this build speaks (in the QR prefix and every frame).
pub const PROTOCOL_VERSION: u8 = 1;

/// The largest message (its JSON) a record may carry: 512 KiB, enough for a sign
/// request of several hundred items.
pub const MAX_MESSAGE_LEN: usize = 512 * 1024;

/// The short code both screens show so the holder can check that the phone talks to
/// the tool in front of them: six decimal digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerificationCode(u32);

impl VerificationCode {
    fn from_u64(v: u64) -> Self {
        // 2^64 mod 10^6 bias is below 10^-13.
        VerificationCode(u32::try_from(v % 1_000_000).unwrap_or(0))
    }

    /// The code as a number below 1 000 000.
    pub fn value(self) -> u32 {
        self.0
    }

    /// The six digits, zero-padded (`"048213"`).
    pub fn digits(self) -> String {
        format!("{:06}", self.0)
    }

    /// Whether `text` names this code (spaces and dashes ignored), as typed by a
    /// person or passed to `--expect-code`.
    pub fn matches(self, text: &str) -> bool {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        digits == self.digits()
    }
}

impl std::fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl std::fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerificationCode({:06})", self.0)
    }
}
