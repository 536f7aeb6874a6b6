//! Bidkit's use cases, shared by the `bidkit` CLI and the desktop app.
//!
//! Each use case takes plain parameters and returns a serialisable report; the CLI
//! prints it, the Tauri layer hands it to the UI. Nothing here parses flags, draws
//! UI or knows about Tauri.
//!
//! * [`login`]: log in by scan, tool side (embedded or remote relay, rotating QR code,
//!   verification code, certificate chain and session-bound signature checked);
//! * [`session`]: what those share: a session for a purpose on the embedded or a remote
//!   relay, the rotating QR code, the phone joining, the trust roots;
//! * [`sign`]: get prepared messages signed by the phone (one approval, one PIN) and
//!   verify the signatures, the signer and its chain before returning them;
//! * [`revoke`]: get the phone's verified approval to revoke a seal;
//! * [`scan`]: the emulated phone scans a QR code and answers any request with the
//!   keystore (login, sign, encryption certificate, unwrap, approvals);
//! * [`qr`]: QR codes as PNG, SVG and terminal text, and read back from a PNG;
//! * [`tsa`]: RFC 3161 time stamps over HTTP, and the emulated TSA service;
//! * [`login_view`]: log in by scan with its progress as values for a screen;
//! * [`verify_view`]: the verify screen: the verifier's report with rendered pages and
//!   the stamps located on them;
//! * [`package`]: the bid package (sealed PDF, manifest, attachments as ustar), the
//!   payload of a bid file: packed streaming, extracted as untrusted input;
//! * [`seal_view`], [`bid_view`], [`opening_view`]: the desktop screens' use cases as
//!   values for a screen;
//! * [`settings`], [`history`]: the tool's settings and the history of its operations;
//! * [`demo`], [`info`]: the headless story and the first screen.
//!
//! Use cases that talk through the relay are `async` (tokio); keystore work runs on
//! blocking threads.

mod error;
mod home;

pub mod bid;
pub mod bid_view;
pub mod demo;
pub mod diagnostics;
pub mod history;
pub mod info;
pub mod login;
pub mod login_view;
pub mod opening;
pub mod opening_view;
pub mod package;
pub mod phone_view;
pub mod qr;
pub mod revoke;
pub mod scan;
pub mod seal;
pub mod seal_view;
pub mod session;
pub mod settings;
pub mod sign;
pub mod tsa;
pub mod verify_view;

pub use error::AppError;
pub use home::default_home;
pub use info::{AppInfo, PhoneStatus, app_info};
