//! The home directory: where the service, the CA and the phones of one installation
//! live, and the entry point for opening them.

use std::path::{Path, PathBuf};

use crate::config::KeystoreConfig;
use crate::phone::Phone;
use crate::service::Service;
use crate::{KeystoreError, Result};

/// Name of the phone used when none is given.
pub const DEFAULT_PHONE: &str = "phone";

/// One Bidkit home: `$home/service/service.db`, `$home/ca/<suite>/`,
/// `$home/phones/<name>/phone.db`.
#[derive(Clone, Debug)]
pub struct Home {
    root: PathBuf,
    config: KeystoreConfig,
}

impl Home {
    /// A home at `root` with `config` for every phone opened through it.
    pub fn new(root: impl Into<PathBuf>, config: KeystoreConfig) -> Self {
        Home {
            root: root.into(),
            config,
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The configuration phones are opened with.
    pub fn config(&self) -> &KeystoreConfig {
        &self.config
    }

    /// Open the platform.
    pub fn service(&self) -> Result<Service> {
        Service::open(&self.root)
    }

    /// Open (creating if needed) the phone `name`.
    pub fn phone(&self, name: &str) -> Result<Phone> {
        Phone::open(&self.root, name, self.config.clone())
    }

    /// Open an existing phone, failing if it was never created.
    pub fn existing_phone(&self, name: &str) -> Result<Phone> {
        crate::ids::check_phone_name(name)?;
        if !self.phones_dir().join(name).join("phone.db").exists() {
            return Err(KeystoreError::not_found(format!(
                "phone {name:?} in {}",
                self.root.display()
            )));
        }
        self.phone(name)
    }

    /// Names of the phones in this home, sorted.
    pub fn phone_names(&self) -> Result<Vec<String>> {
        let dir = self.phones_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(KeystoreError::Io {
                    action: "list",
                    path: dir,
                    source,
                });
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("phone.db").exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| crate::ids::check_phone_name(n).is_ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// The phone whose device id is `device_id`.
    pub fn phone_by_device(&self, device_id: &str) -> Result<Phone> {
        for name in self.phone_names()? {
            let phone = self.phone(&name)?;
            if phone.device_id().eq_ignore_ascii_case(device_id.trim()) {
                return Ok(phone);
            }
        }
        Err(KeystoreError::not_found(format!(
            "phone with device id {device_id} in {}",
            self.root.display()
        )))
    }

    fn phones_dir(&self) -> PathBuf {
        self.root.join("phones")
    }
}
