//! What the app's first screen shows: the version and the emulated phone's status.

use std::path::Path;

use bidkit_keystore::{Home, KeystoreConfig};
use serde::Serialize;

/// The application's version and the default emulated phone's state.
#[derive(Clone, Debug, Serialize)]
pub struct AppInfo {
    /// Bidkit's version (`0.1.0`).
    pub version: String,
    /// The state directory in use.
    pub home: String,
    /// The emulated phone named `phone` (the default one).
    pub phone: PhoneStatus,
}

/// A short summary of one emulated phone.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PhoneStatus {
    /// Whether an account is enrolled on the phone.
    pub enrolled: bool,
    /// The enrolled person's name.
    pub person: Option<String>,
    /// The first organisation the person belongs to.
    pub organisation: Option<String>,
    /// Certificates installed on the phone.
    pub certificates: usize,
    /// Whether any installed certificate's PIN is locked.
    pub pin_locked: bool,
    /// Why the status could not be read, if it could not.
    pub error: Option<String>,
}

/// The name of the emulated phone the app shows by default.
pub const DEFAULT_PHONE: &str = "phone";

/// Read the app info for `home`. A missing or unreadable phone is reported in
/// [`PhoneStatus::error`], never as a failure: the first screen always renders.
pub fn app_info(home: &Path) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        home: home.display().to_string(),
        phone: phone_status(home, DEFAULT_PHONE),
    }
}

/// Summarise the emulated phone `name` under `home` without creating it.
pub fn phone_status(home: &Path, name: &str) -> PhoneStatus {
    let keystore = Home::new(home, KeystoreConfig::default());
    let names = match keystore.phone_names() {
        Ok(names) => names,
        Err(e) => return with_error(e.to_string()),
    };
    if !names.iter().any(|n| n == name) {
        return PhoneStatus::default();
    }
    let status = match keystore.existing_phone(name).and_then(|p| p.status()) {
        Ok(s) => s,
        Err(e) => return with_error(e.to_string()),
    };
    PhoneStatus {
        enrolled: status.account.is_some(),
        person: status.account.as_ref().map(|a| a.name.clone()),
        organisation: status
            .memberships
            .first()
            .map(|m| m.organisation.name.clone()),
        certificates: status.certificates.len(),
        pin_locked: status.certificates.iter().any(|c| c.pin.locked),
        error: None,
    }
}

fn with_error(error: String) -> PhoneStatus {
    PhoneStatus {
        error: Some(error),
        ..PhoneStatus::default()
    }
}
