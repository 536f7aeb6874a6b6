//! The emulated CA recovery service (证书密码重置).
//!
//! A real mobile CA can reset a forgotten certificate PIN without the old PIN because
//! it co-holds key material (co-signing / escrow of a wrapping key in its HSM) and
//! releases it only after verifying the holder by SMS. The emulation keeps one random
//! 32-byte **recovery key** per (certificate, device) in the service database; the
//! phone keeps its data key wrapped under it. The key is released only after a
//! `pin-reset` verification code sent to the holder's phone number checks out, and only
//! to the device the certificate is bound to.

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::Service;
use crate::model::{Account, SmsMessage};
use crate::{KeystoreError, Result};

/// The SMS purpose of a PIN reset of certificate `pair_id`.
pub(crate) fn reset_purpose(pair_id: i64) -> String {
    format!("pin-reset:{pair_id}")
}

impl Service {
    /// Send a PIN-reset verification code for certificate `pair_id` to its holder.
    pub(crate) fn request_pin_reset(
        &self,
        holder: &Account,
        pair_id: i64,
        now: OffsetDateTime,
    ) -> Result<SmsMessage> {
        let info = self.certificate(pair_id)?;
        if info.holder_id != holder.id {
            return Err(KeystoreError::NotAuthorised {
                user: holder.name.clone(),
                action: format!("reset the PIN of certificate {}", info.signing_serial),
                reason: format!("it is held by {}", info.holder),
            });
        }
        self.send_code(&holder.phone_number, &reset_purpose(pair_id), now)
    }

    /// Verify the PIN-reset code and release the recovery key of (certificate, device).
    pub(crate) fn release_recovery_key(
        &self,
        holder: &Account,
        device_id: &str,
        pair_id: i64,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let info = self.certificate(pair_id)?;
        if info.holder_id != holder.id {
            return Err(KeystoreError::NotAuthorised {
                user: holder.name.clone(),
                action: format!("reset the PIN of certificate {}", info.signing_serial),
                reason: format!("it is held by {}", info.holder),
            });
        }
        if info.device_id != device_id {
            return Err(KeystoreError::DeviceUnbound {
                phone: device_id.to_owned(),
                serial: info.signing_serial,
                bound_device: info.device_id,
            });
        }
        self.verify_code(&holder.phone_number, &reset_purpose(pair_id), code, now)?;
        self.db.read(|c| {
            let key: Option<Vec<u8>> = c
                .query_row(
                    "SELECT key FROM recovery_keys WHERE pair_id = ?1 AND device_id = ?2",
                    params![pair_id, device_id],
                    |r| r.get(0),
                )
                .optional()?;
            key.map(Zeroizing::new).ok_or_else(|| {
                KeystoreError::not_found(format!(
                    "recovery key of certificate #{pair_id} for device {device_id}"
                ))
            })
        })
    }
}
