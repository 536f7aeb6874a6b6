//! The emulated SMS gateway: six-digit verification codes (验证码) with an expiry and a
//! limit on wrong tries. Only a salted SM3 hash of each code is stored; the code itself
//! goes to the emulated phone, which shows it.

use bidkit_crypto::HashAlgorithm;
use rusqlite::{OptionalExtension, params};
use time::{Duration, OffsetDateTime};

use super::Service;
use crate::db::{time, ts};
use crate::model::SmsMessage;
use crate::{KeystoreError, Result};

/// How long a verification code works.
pub const CODE_VALIDITY: Duration = Duration::minutes(5);

/// Wrong entries after which a code stops working.
pub const CODE_MAX_FAILURES: u32 = 5;

/// What verifying a code found (committed before it is turned into an error, so a
/// wrong code's failure count sticks).
enum Verdict {
    Ok,
    Wrong(u32),
    Unusable(String),
}

impl Service {
    /// Send a fresh code for `purpose` to `phone_number`; earlier unused codes for the
    /// same purpose stop working. Returns the SMS as the phone receives it.
    pub(crate) fn send_code(
        &self,
        phone_number: &str,
        purpose: &str,
        now: OffsetDateTime,
    ) -> Result<SmsMessage> {
        let code = random_code()?;
        let salt = bidkit_crypto::rng::random_array::<16>()?;
        let hash = code_hash(&salt, purpose, &code);
        let expires_at = now + CODE_VALIDITY;
        self.db.write(|tx| {
            tx.execute(
                "UPDATE sms_outbox SET used_at = ?3 WHERE phone_number = ?1 AND purpose = ?2 AND used_at IS NULL",
                params![phone_number, purpose, ts(now)],
            )?;
            tx.execute(
                "INSERT INTO sms_outbox (phone_number, purpose, salt, code_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![phone_number, purpose, salt.as_slice(), hash.as_slice(), ts(now), ts(expires_at)],
            )?;
            Ok(())
        })?;
        let what = purpose.split(':').next().unwrap_or(purpose).to_owned();
        Ok(SmsMessage {
            to: phone_number.to_owned(),
            text: format!(
                "【Bidkit 模拟短信】验证码 {code}，用于{}，5分钟内有效。Verification code {code} ({what}), valid for 5 minutes.",
                match what.as_str() {
                    "pin-reset" => "重置证书密码",
                    "sign-in" => "登录",
                    _ => "验证",
                }
            ),
            code,
            purpose: what,
            expires_at,
        })
    }

    /// Check a code for `purpose` sent to `phone_number` and use it up. A wrong code
    /// counts against the code's limit; the count is committed even though the call fails.
    pub(crate) fn verify_code(
        &self,
        phone_number: &str,
        purpose: &str,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let verdict = self.db.write(|tx| {
            type Row = (i64, Vec<u8>, Vec<u8>, i64, u32);
            let row: Option<Row> = tx
                .query_row(
                    "SELECT id, salt, code_hash, expires_at, failed_attempts FROM sms_outbox
                      WHERE phone_number = ?1 AND purpose = ?2 AND used_at IS NULL
                      ORDER BY id DESC LIMIT 1",
                    params![phone_number, purpose],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((id, salt, stored, expires_at, failures)) = row else {
                return Ok(Verdict::Unusable(
                    "none was requested, or it was already used".into(),
                ));
            };
            if now > time(expires_at)? {
                return Ok(Verdict::Unusable(format!(
                    "the last code expired at {}",
                    time(expires_at)?
                )));
            }
            if failures >= CODE_MAX_FAILURES {
                return Ok(Verdict::Unusable(
                    "too many wrong codes were entered".into(),
                ));
            }
            let given = code_hash(&salt, purpose, code.trim());
            if constant_time_eq(&given, &stored) {
                tx.execute(
                    "UPDATE sms_outbox SET used_at = ?2 WHERE id = ?1",
                    params![id, ts(now)],
                )?;
                Ok(Verdict::Ok)
            } else {
                tx.execute(
                    "UPDATE sms_outbox SET failed_attempts = failed_attempts + 1 WHERE id = ?1",
                    [id],
                )?;
                Ok(Verdict::Wrong(
                    CODE_MAX_FAILURES.saturating_sub(failures + 1),
                ))
            }
        })?;
        match verdict {
            Verdict::Ok => Ok(()),
            Verdict::Wrong(remaining) => Err(KeystoreError::CodeWrong {
                phone_number: phone_number.to_owned(),
                remaining,
            }),
            Verdict::Unusable(reason) => Err(KeystoreError::CodeExpired {
                phone_number: phone_number.to_owned(),
                reason,
            }),
        }
    }
}

/// A uniformly random six-digit code.
fn random_code() -> Result<String> {
    loop {
        let bytes = bidkit_crypto::rng::random_array::<4>()?;
        let v = u32::from_be_bytes(bytes);
        // Reject the top partial range so every code is equally likely.
        if v < u32::MAX - (u32::MAX % 1_000_000) {
            return Ok(format!("{:06}", v % 1_000_000));
        }
    }
}

fn code_hash(salt: &[u8], purpose: &str, code: &str) -> [u8; 32] {
    let mut h = HashAlgorithm::Sm3.hasher();
    h.update(b"bidkit-sms-code/v1");
    h.update(&(salt.len() as u32).to_be_bytes());
    h.update(salt);
    h.update(&(purpose.len() as u32).to_be_bytes());
    h.update(purpose.as_bytes());
    h.update(code.as_bytes());
    h.finalize()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
