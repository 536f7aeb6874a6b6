//! Bidkit's use cases, shared by the `bidkit` CLI and the desktop app.
//!
//! Each use case takes plain parameters and returns a serialisable report; the CLI
//! prints it, the Tauri layer hands it to the UI. Nothing here parses flags, draws
//! UI or knows about Tauri.

mod error;
mod home;

pub mod demo;
pub mod info;

pub use error::AppError;
pub use home::default_home;
pub use info::{AppInfo, PhoneStatus, app_info};
