//! Using a private key: the one path every signature, seal, decryption and
//! confirmation takes, and that writes the usage record.
//!
//! Order of a request:
//!
//! 1. the platform authorises it (device binding, certificate status and validity,
//!    membership, grants, seal) — refused requests never reach the user;
//! 2. the phone shows it to the user: the next scripted outcome decides (approve,
//!    refuse, time out, wrong PIN);
//! 3. the PIN is checked (counter first) or the continuous session is used once;
//! 4. the private key is opened from its sealed blob, used, and dropped (wiped);
//! 5. a usage record is appended with the result — `ok` or the error code. If the
//!    record cannot be written, the result is withheld (fail closed).

use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pki::KeyPurpose;
use zeroize::Zeroizing;

use super::vault::{self, DataKey};
use super::{KeyRow, PairRow, Phone};
use crate::model::{Operation, ScriptedOutcome};
use crate::selector::CertSelector;
use crate::service::UseCheck;
use crate::session::{ContinuousPolicy, ContinuousSession};
use crate::{KeystoreError, Result};

/// How the user unlocks a request.
#[derive(Clone, Copy)]
pub enum Unlock<'a> {
    /// Type the certificate PIN.
    Pin(&'a str),
    /// Continuous signing mode: no PIN while the session lasts.
    Session(&'a ContinuousSession),
}

impl std::fmt::Debug for Unlock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unlock::Pin(_) => f.write_str("Unlock::Pin(<redacted>)"),
            Unlock::Session(s) => write!(f, "Unlock::Session({})", s.serial()),
        }
    }
}

/// What a request is for, as recorded.
pub(crate) struct KeyUse<'a> {
    pub(crate) operation: Operation,
    pub(crate) seal_id: Option<i64>,
    pub(crate) platform: &'a str,
    pub(crate) detail: String,
}

impl Phone {
    /// Run one request with the key `key` of `pair` (see the module documentation).
    pub(crate) fn use_key<T>(
        &self,
        pair: &PairRow,
        key: &KeyRow,
        req: &KeyUse<'_>,
        unlock: Unlock<'_>,
        f: impl FnOnce(&PrivateKey, &DataKey) -> Result<T>,
    ) -> Result<T> {
        let account = self.require_account()?;
        let result = self.use_key_unrecorded(&account, pair, key, req, unlock, f);
        let outcome = result.as_ref().map(|_| ());
        let recorded = self.record(
            &account,
            pair.org_id,
            req.operation,
            Some(&key.serial),
            req.seal_id,
            req.platform,
            &outcome,
            req.detail.clone(),
        );
        match (result, recorded) {
            (Ok(v), Ok(())) => Ok(v),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), _) => Err(e),
        }
    }

    fn use_key_unrecorded<T>(
        &self,
        account: &crate::model::Account,
        pair: &PairRow,
        key: &KeyRow,
        req: &KeyUse<'_>,
        unlock: Unlock<'_>,
        f: impl FnOnce(&PrivateKey, &DataKey) -> Result<T>,
    ) -> Result<T> {
        let now = self.now();
        self.service.authorise_use(&UseCheck {
            account,
            phone: &self.name,
            device_id: &self.device_id,
            pair_id: pair.pair_id,
            serial: &key.serial,
            operation: req.operation,
            seal_id: req.seal_id,
            now,
        })?;
        if let Unlock::Session(s) = unlock
            && (s.pair_id() != pair.pair_id || s.device_id() != self.device_id)
        {
            return Err(KeystoreError::invalid(
                "continuous session",
                format!(
                    "the session is for certificate {}, not {}",
                    s.serial(),
                    pair.signing_serial
                ),
            ));
        }
        match self.pop_outcome()? {
            ScriptedOutcome::Approve => {}
            ScriptedOutcome::Refuse => {
                return Err(KeystoreError::Refused {
                    phone: self.name.clone(),
                });
            }
            ScriptedOutcome::Timeout => {
                return Err(KeystoreError::TimedOut {
                    phone: self.name.clone(),
                });
            }
            ScriptedOutcome::WrongPin => {
                let err = self.wrong_pin_attempt(pair);
                if let (Unlock::Session(s), KeystoreError::PinLocked { .. }) = (unlock, &err) {
                    s.end_locked();
                }
                return Err(err);
            }
        }
        let dk = match unlock {
            Unlock::Pin(pin) => self.unlock_with_pin(pair, pin)?,
            Unlock::Session(session) => {
                if self.is_locked(pair.pair_id)? {
                    session.end_locked();
                }
                session.take(now)?
            }
        };
        let aad = self.key_aad(&key.key_id, &key.serial, key.purpose, pair.suite);
        let private =
            vault::open_key(&dk, &key.nonce, &key.ciphertext, &aad)?.ok_or_else(|| {
                KeystoreError::KeyDamaged {
                    phone: self.name.clone(),
                    key_id: key.key_id.clone(),
                }
            })?;
        f(&private, &dk)
    }

    /// Unwrap (decrypt) a content key wrapped to an encryption certificate on this
    /// phone (扫码解密), with the same checks and record as signing. `cert` may name
    /// an older encryption serial of a renewed certificate.
    pub fn unwrap_key(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
        unlock: Unlock<'_>,
        wrapped: &[u8],
        platform: Option<&str>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let (pair, matched) = self.resolve_installed(cert, suite)?;
        let key = self.key_for(&pair, KeyPurpose::Encryption, matched.as_deref())?;
        let req = KeyUse {
            operation: Operation::Decrypt,
            seal_id: None,
            platform: platform.unwrap_or(&self.config.platform),
            detail: format!("{} wrapped bytes", wrapped.len()),
        };
        self.use_key(&pair, &key, &req, unlock, |k, _| {
            bidkit_crypto::wrap::unwrap(k, wrapped).map_err(KeystoreError::from)
        })
    }

    /// Confirm a request that needs the user's approval and PIN but no signature from
    /// this call (scan to encrypt, submit or withdraw a bid …); it is checked and
    /// recorded like a signature.
    pub fn confirm(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
        unlock: Unlock<'_>,
        operation: Operation,
        platform: Option<&str>,
        detail: &str,
    ) -> Result<()> {
        let (pair, _) = self.resolve_installed(cert, suite)?;
        let purpose = if operation.uses_encryption_key() {
            KeyPurpose::Encryption
        } else {
            KeyPurpose::Signing
        };
        let key = self.key_for(&pair, purpose, None)?;
        let req = KeyUse {
            operation,
            seal_id: None,
            platform: platform.unwrap_or(&self.config.platform),
            detail: detail.to_owned(),
        };
        self.use_key(&pair, &key, &req, unlock, |_, _| Ok(()))
    }

    /// Enter continuous signing mode for a certificate: one PIN now, then requests
    /// with [`Unlock::Session`] need none until the policy's time or count runs out
    /// (`policy` defaults to the configured one).
    pub fn start_continuous(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
        pin: &str,
        policy: Option<ContinuousPolicy>,
    ) -> Result<ContinuousSession> {
        let (pair, _) = self.resolve_installed(cert, suite)?;
        let key = self.key_for(&pair, KeyPurpose::Signing, None)?;
        let policy = policy.unwrap_or(self.config.continuous);
        let req = KeyUse {
            operation: Operation::ContinuousStart,
            seal_id: None,
            platform: &self.config.platform,
            detail: format!(
                "for {} s or {} requests",
                policy.max_duration.whole_seconds(),
                policy.max_uses
            ),
        };
        // The PIN opens the data key (the signing key is opened once, proving it is
        // intact); the session keeps the data key, never the private key.
        let dk = self.use_key(&pair, &key, &req, Unlock::Pin(pin), |_, dk| Ok(dk.clone()))?;
        Ok(ContinuousSession::new(
            &self.device_id,
            pair.pair_id,
            &pair.signing_serial,
            dk,
            self.now(),
            policy,
        ))
    }
}
