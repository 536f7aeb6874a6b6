//! Bidkit's relay: a blind message router between the desktop tool and the phone,
//! and the clients that run the protocol over it.
//!
//! This crate owns the network side of issue 3:
//!
//! * the **server** ([`serve`], [`EmbeddedRelay`]): axum + tokio, HTTP and WebSocket
//!   with a long-poll fallback; sessions with typed states (waiting, joined, done,
//!   expired, cancelled) visible to both sides; exactly one phone per session; TTLs,
//!   message-size and queue limits, per-address rate limits, a session cap;
//! * the **stores** ([`store`]): in memory, or in Redis so any number of nodes serve
//!   the same sessions and a node restart loses nothing;
//! * the **clients** ([`ToolSession`] / [`ToolConnection`], [`PhoneScan`] /
//!   [`PhoneConnection`]): open, show the rotating QR code, join, handshake, and
//!   exchange typed [`bidkit_protocol::Message`]s with typed timeouts ("the phone never
//!   answered").
//!
//! What the relay must **not** do: it never sees keys or plaintext (the protocol
//! crate seals everything; the QR secret never reaches it), never logs a payload, and
//! keeps nothing beyond a session's TTL: queued records are dropped when acknowledged
//! and purged with their session. It sees the session id, the QR verifier (which
//! checks the rotating code and nothing else), the phone's hello (public key and key
//! confirmation) and opaque records with their sizes and timing.
//!
//! The HTTP API is described in [`api`]; the protocol in `bidkit-protocol` and
//! `docs/protocol.md`.

pub mod api;
mod client;
pub mod clock;
mod error;
mod server;
pub mod store;

pub use client::{
    ClientConfig, PhoneConnection, PhoneScan, QrSource, ToolConnection, ToolSession, Transport,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ClientError, RelayError};
pub use server::{EmbeddedRelay, RateLimit, RelayConfig, serve};
pub use store::{AnyStore, MemoryStore, RedisStore, Store};
