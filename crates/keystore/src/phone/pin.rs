//! The certificate PIN (证书密码): checking it with a durable retry counter, lockout,
//! change, and reset with a verification code through the emulated recovery service.
//!
//! Checking a PIN:
//!
//! 1. `BEGIN IMMEDIATE`; if no tries are left, the certificate is locked; otherwise
//!    decrement the counter; `COMMIT` (WAL, `synchronous=FULL`: on disk before step 2).
//! 2. Derive the key from the PIN (Argon2id, ≥ 250 ms in production) and try to open
//!    the data key wrap. Only now is the PIN compared, by AEAD authentication.
//! 3. On success, restore the counter to its maximum (another transaction).
//!
//! Killing the process during step 2 therefore leaves the try counted; restarting
//! cannot give tries back.

use rusqlite::{OptionalExtension, params};

use super::vault::{self, DataKey, PinWrap, RecoveryWrap};
use super::{PairRow, Phone, stamp};
use crate::model::{Operation, PinStatus, SmsMessage};
use crate::selector::CertSelector;
use crate::{KeystoreError, Result};
use bidkit_crypto::Suite;

impl Phone {
    /// Check `pin` for `pair` (counter committed first) and return the data key.
    pub(crate) fn unlock_with_pin(&self, pair: &PairRow, pin: &str) -> Result<DataKey> {
        crate::ids::check_pin(pin)?;
        let remaining = self.take_pin_try(pair)?;
        let wrap = PinWrap {
            params: pair.kdf,
            salt: pair.pin_salt.clone(),
            nonce: pair.pin_nonce.clone(),
            wrapped: pair.pin_wrapped.clone(),
        };
        match vault::unwrap_under_pin(pair.suite, &wrap, pin, &self.pin_aad(pair.pair_id))? {
            Some(dk) => {
                let now = self.now();
                self.db.write(|tx| {
                    tx.execute(
                        "UPDATE pin_state SET tries_left = max_tries, updated_at = ?2 WHERE pair_id = ?1",
                        params![pair.pair_id, stamp(now)],
                    )?;
                    Ok(())
                })?;
                Ok(dk)
            }
            None => Err(self.pin_failure(pair, remaining)),
        }
    }

    /// A wrong PIN typed on the phone (a scripted `wrong-pin`): the try is counted.
    pub(crate) fn wrong_pin_attempt(&self, pair: &PairRow) -> KeystoreError {
        match self.take_pin_try(pair) {
            Ok(remaining) => self.pin_failure(pair, remaining),
            Err(e) => e,
        }
    }

    fn pin_failure(&self, pair: &PairRow, remaining: u32) -> KeystoreError {
        if remaining == 0 {
            KeystoreError::PinLocked {
                phone: self.name.clone(),
                serial: pair.signing_serial.clone(),
            }
        } else {
            KeystoreError::PinWrong {
                phone: self.name.clone(),
                serial: pair.signing_serial.clone(),
                remaining,
            }
        }
    }

    /// Step 1: decrement and commit; the tries left after this one, or `PinLocked`.
    fn take_pin_try(&self, pair: &PairRow) -> Result<u32> {
        let now = self.now();
        let left = self.db.write(|tx| {
            let left: Option<u32> = tx
                .query_row(
                    "SELECT tries_left FROM pin_state WHERE pair_id = ?1",
                    [pair.pair_id],
                    |r| r.get(0),
                )
                .optional()?;
            let left = left.ok_or_else(|| {
                KeystoreError::corrupt(
                    format!("phone {:?}", self.name),
                    format!("certificate #{} has no PIN state", pair.pair_id),
                )
            })?;
            if left == 0 {
                return Ok(None);
            }
            tx.execute(
                "UPDATE pin_state SET tries_left = tries_left - 1, updated_at = ?2 WHERE pair_id = ?1",
                params![pair.pair_id, stamp(now)],
            )?;
            Ok(Some(left - 1))
        })?;
        left.ok_or_else(|| KeystoreError::PinLocked {
            phone: self.name.clone(),
            serial: pair.signing_serial.clone(),
        })
    }

    /// Whether `pair_id` is locked (no PIN tries left).
    pub(crate) fn is_locked(&self, pair_id: i64) -> Result<bool> {
        Ok(self.pin_status_of(pair_id)?.locked)
    }

    pub(crate) fn pin_status_of(&self, pair_id: i64) -> Result<PinStatus> {
        let (tries_left, max_tries): (u32, u32) = self.db.read(|c| {
            c.query_row(
                "SELECT tries_left, max_tries FROM pin_state WHERE pair_id = ?1",
                [pair_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| KeystoreError::not_found(format!("PIN state of certificate #{pair_id}")))
        })?;
        Ok(PinStatus {
            tries_left,
            max_tries,
            locked: tries_left == 0,
        })
    }

    /// PIN retry state of an installed certificate.
    pub fn pin_status(&self, cert: &CertSelector, suite: Option<Suite>) -> Result<PinStatus> {
        let (pair, _) = self.resolve_installed(cert, suite)?;
        self.pin_status_of(pair.pair_id)
    }

    /// Change the PIN (修改证书密码): the old PIN is checked like any other (a wrong one
    /// counts), then the data key is wrapped under the new PIN with a fresh salt.
    pub fn change_pin(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
        old_pin: &str,
        new_pin: &str,
    ) -> Result<PinStatus> {
        crate::ids::check_pin(new_pin)?;
        let account = self.require_account()?;
        let (pair, _) = self.resolve_installed(cert, suite)?;
        let result = self
            .unlock_with_pin(&pair, old_pin)
            .and_then(|dk| self.rewrap_pin(&pair, &dk, new_pin, false));
        let outcome = result.as_ref().map(|_| ());
        self.record(
            &account,
            pair.org_id,
            Operation::PinChange,
            Some(&pair.signing_serial),
            None,
            &self.config.platform,
            &outcome,
            "",
        )?;
        result
    }

    /// Ask the platform for a PIN-reset verification code (忘记密码). The returned SMS
    /// is what the phone receives; show it to the user.
    pub fn request_pin_reset(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
    ) -> Result<SmsMessage> {
        let account = self.require_account()?;
        let (pair, _) = self.resolve_installed(cert, suite)?;
        self.service
            .request_pin_reset(&account, pair.pair_id, self.now())
    }

    /// Reset the PIN with a verification code: the emulated CA recovery service checks
    /// the code and releases its recovery key, the phone opens its data key with it,
    /// wraps it under `new_pin` and unlocks the certificate. The old PIN is not needed.
    pub fn reset_pin(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
        code: &str,
        new_pin: &str,
    ) -> Result<PinStatus> {
        crate::ids::check_pin(new_pin)?;
        let account = self.require_account()?;
        let (pair, _) = self.resolve_installed(cert, suite)?;
        let result = (|| {
            self.check_bound_here(&pair)?;
            let recovery_key = self.service.release_recovery_key(
                &account,
                &self.device_id,
                pair.pair_id,
                code,
                self.now(),
            )?;
            let wrap = RecoveryWrap {
                nonce: pair.recovery_nonce.clone(),
                wrapped: pair.recovery_wrapped.clone(),
            };
            let dk = vault::unwrap_under_recovery(
                pair.suite,
                &wrap,
                &recovery_key,
                &self.recovery_aad(pair.pair_id),
            )?;
            self.rewrap_pin(&pair, &dk, new_pin, true)
        })();
        let outcome = result.as_ref().map(|_| ());
        self.record(
            &account,
            pair.org_id,
            Operation::PinReset,
            Some(&pair.signing_serial),
            None,
            &self.config.platform,
            &outcome,
            "",
        )?;
        result
    }

    /// Wrap `dk` under `new_pin` (fresh salt and nonce, current KDF setting) and reset
    /// the counter — one transaction. `reset_max` also applies the configured lockout
    /// count.
    fn rewrap_pin(
        &self,
        pair: &PairRow,
        dk: &DataKey,
        new_pin: &str,
        reset_max: bool,
    ) -> Result<PinStatus> {
        let wrap =
            vault::wrap_under_pin(dk, new_pin, self.config.kdf, &self.pin_aad(pair.pair_id))?;
        let now = self.now();
        self.db.write(|tx| {
            tx.execute(
                "UPDATE pairs SET kdf_memory_kib = ?2, kdf_iterations = ?3, kdf_parallelism = ?4,
                                  pin_salt = ?5, pin_nonce = ?6, pin_wrapped = ?7
                  WHERE pair_id = ?1",
                params![
                    pair.pair_id,
                    wrap.params.memory_kib,
                    wrap.params.iterations,
                    wrap.params.parallelism,
                    wrap.salt,
                    wrap.nonce,
                    wrap.wrapped
                ],
            )?;
            if reset_max {
                tx.execute(
                    "UPDATE pin_state SET max_tries = ?2, tries_left = ?2, updated_at = ?3 WHERE pair_id = ?1",
                    params![pair.pair_id, self.config.max_pin_tries, stamp(now)],
                )?;
            } else {
                tx.execute(
                    "UPDATE pin_state SET tries_left = max_tries, updated_at = ?2 WHERE pair_id = ?1",
                    params![pair.pair_id, stamp(now)],
                )?;
            }
            Ok(())
        })?;
        self.pin_status_of(pair.pair_id)
    }
}
