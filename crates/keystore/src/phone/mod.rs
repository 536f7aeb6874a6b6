//! One emulated phone: its device id, the account signed in on it, the certificates
//! installed on it with their encrypted keys and PIN state, and its scripted outcomes.
//!
//! A phone lives in `$home/phones/<name>/phone.db` and talks to the home's
//! [`Service`] for everything the real app asks the cloud for.

mod account;
mod certs;
mod pin;
mod schema;
mod script;
mod use_key;
pub(crate) mod vault;

use std::path::{Path, PathBuf};

use bidkit_crypto::Suite;
use bidkit_crypto::kdf::PinKdfParams;
use bidkit_pki::KeyPurpose;
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use crate::config::KeystoreConfig;
use crate::db::{Db, ts};
use crate::ids;
use crate::model::{Account, Operation};
use crate::selector::CertSelector;
use crate::service::{NewRecord, Service};
use crate::{KeystoreError, Result};

pub use account::{Enrolment, SignIn};
pub(crate) use use_key::KeyUse;
pub use use_key::Unlock;

/// An emulated phone with the CA app installed.
///
/// `Phone` is `Send + Sync`; its databases are behind mutexes. Every operation reads
/// the time from the configured [`crate::Clock`].
#[derive(Debug)]
pub struct Phone {
    name: String,
    dir: PathBuf,
    device_id: String,
    db: Db,
    service: Service,
    config: KeystoreConfig,
}

/// A certificate installed on this phone (one row of `pairs`).
#[derive(Clone, Debug)]
pub(crate) struct PairRow {
    pub(crate) pair_id: i64,
    pub(crate) suite: Suite,
    pub(crate) org_id: Option<i64>,
    pub(crate) signing_serial: String,
    pub(crate) signing_cert: Vec<u8>,
    pub(crate) kdf: PinKdfParams,
    pub(crate) pin_salt: Vec<u8>,
    pub(crate) pin_nonce: Vec<u8>,
    pub(crate) pin_wrapped: Vec<u8>,
    pub(crate) recovery_nonce: Vec<u8>,
    pub(crate) recovery_wrapped: Vec<u8>,
}

/// One sealed private key (one row of `keys`).
#[derive(Clone, Debug)]
pub(crate) struct KeyRow {
    pub(crate) key_id: String,
    pub(crate) purpose: KeyPurpose,
    pub(crate) serial: String,
    pub(crate) nonce: Vec<u8>,
    pub(crate) ciphertext: Vec<u8>,
}

impl Phone {
    /// Open the phone `name` in the home directory `home` (creating it, with a fresh
    /// random device id, if it does not exist).
    pub fn open(home: &Path, name: &str, config: KeystoreConfig) -> Result<Phone> {
        ids::check_phone_name(name)?;
        let dir = home.join("phones").join(name);
        let db = Db::open(&dir.join("phone.db"), schema::SCHEMA)?;
        let fresh = hex::encode(bidkit_crypto::rng::random_array::<16>()?);
        let device_id = db.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('device_id', ?1)",
                [&fresh],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('name', ?1)",
                [name],
            )?;
            Ok(
                tx.query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| {
                    r.get::<_, String>(0)
                })?,
            )
        })?;
        let service = Service::open(home)?;
        Ok(Phone {
            name: name.to_owned(),
            dir,
            device_id,
            db,
            service,
            config,
        })
    }

    /// The phone's name in the home directory.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The phone's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The phone database file.
    pub fn db_path(&self) -> &Path {
        self.db.path()
    }

    /// The phone's random device id (what certificates are bound to).
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The platform this phone talks to.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// The configuration.
    pub fn config(&self) -> &KeystoreConfig {
        &self.config
    }

    /// The current time from the configured clock.
    pub fn now(&self) -> OffsetDateTime {
        self.config.clock.now()
    }

    /// The account signed in on this phone, if any.
    pub fn account(&self) -> Result<Option<Account>> {
        let id: Option<i64> = self.db.read(|c| {
            Ok(
                c.query_row("SELECT account_id FROM account WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })?;
        id.map(|id| self.service.account(id)).transpose()
    }

    /// The account signed in on this phone, or [`KeystoreError::NotEnrolled`].
    pub fn require_account(&self) -> Result<Account> {
        self.account()?.ok_or_else(|| KeystoreError::NotEnrolled {
            phone: self.name.clone(),
        })
    }

    /// Find the installed certificate `sel` names (`suite` narrows `person` and
    /// organisation selectors). Returns the row and, for a serial selector, the full
    /// serial matched.
    pub(crate) fn resolve_installed(
        &self,
        sel: &CertSelector,
        suite: Option<Suite>,
    ) -> Result<(PairRow, Option<String>)> {
        let account = self.require_account()?;
        let (candidates, matched): (Vec<i64>, Option<String>) = match sel {
            CertSelector::Serial(prefix) => {
                let wanted = crate::service::normalise_serial(prefix)?;
                let rows: Vec<(i64, String)> = self.db.read(|c| {
                    let mut stmt = c.prepare(
                        "SELECT pair_id, serial FROM keys WHERE serial = ?1 OR (length(?1) >= 6 AND substr(serial, 1, length(?1)) = ?1)",
                    )?;
                    let rows = stmt
                        .query_map([&wanted], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<rusqlite::Result<_>>()?;
                    Ok(rows)
                })?;
                let mut pairs: Vec<i64> = rows.iter().map(|(p, _)| *p).collect();
                pairs.dedup();
                let matched = match rows.as_slice() {
                    [(_, serial)] => Some(serial.clone()),
                    _ => None,
                };
                (pairs, matched)
            }
            CertSelector::Id(id) => (vec![*id], None),
            CertSelector::Person => (self.pairs_where("org_id IS NULL", None, suite)?, None),
            CertSelector::Organisation(uscc) => {
                let org = self.service.organisation(uscc)?;
                (self.pairs_where("org_id = ?1", Some(org.id), suite)?, None)
            }
        };
        let described = sel.describe(suite);
        let pair_id = match candidates.as_slice() {
            [] => {
                if let CertSelector::Serial(s) = sel
                    && let Ok(info) = self.service.certificate_by_serial(s)
                    && self.db.read(|c| pair_row(c, info.id))?.is_some()
                {
                    return Err(KeystoreError::CertificateSuperseded {
                        serial: s.clone(),
                        current: info.signing_serial,
                    });
                }
                return Err(KeystoreError::not_found(format!(
                    "{described} on phone {:?} (signed in as {})",
                    self.name, account.name
                )));
            }
            [one] => *one,
            many => {
                return Err(KeystoreError::Ambiguous {
                    reference: described,
                    matches: format!(
                        "{} certificates on phone {:?}; name one by serial or add --suite",
                        many.len(),
                        self.name
                    ),
                });
            }
        };
        let row = self.db.read(|c| pair_row(c, pair_id))?.ok_or_else(|| {
            KeystoreError::not_found(format!("{described} on phone {:?}", self.name))
        })?;
        Ok((row, matched))
    }

    fn pairs_where(&self, cond: &str, org: Option<i64>, suite: Option<Suite>) -> Result<Vec<i64>> {
        self.db.read(|c| {
            let sql = format!(
                "SELECT pair_id FROM pairs WHERE {cond} AND (?2 IS NULL OR suite = ?2) ORDER BY pair_id"
            );
            let mut stmt = c.prepare(&sql)?;
            let ids = stmt
                .query_map(params![org, suite.map(|s| s.as_str())], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids)
        })
    }

    /// The key of `pair` for `purpose`: the current one, or for decryption the one
    /// whose serial was named.
    pub(crate) fn key_for(
        &self,
        pair: &PairRow,
        purpose: KeyPurpose,
        serial: Option<&str>,
    ) -> Result<KeyRow> {
        self.db.read(|c| {
            let by_serial = match serial {
                Some(s) if purpose == KeyPurpose::Encryption => key_row(
                    c,
                    "pair_id = ?1 AND purpose = 'encryption' AND serial = ?2",
                    params![pair.pair_id, s],
                )?,
                _ => None,
            };
            match by_serial {
                Some(k) => Ok(k),
                None => key_row(
                    c,
                    "pair_id = ?1 AND purpose = ?2 AND current = 1",
                    params![pair.pair_id, purpose.as_str()],
                )?
                .ok_or_else(|| {
                    KeystoreError::corrupt(
                        format!("phone {:?}", self.name),
                        format!("certificate #{} has no current {purpose} key", pair.pair_id),
                    )
                }),
            }
        })
    }

    /// Write a usage record for this phone's account.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        &self,
        account: &Account,
        org_id: Option<i64>,
        operation: Operation,
        cert_serial: Option<&str>,
        seal_id: Option<i64>,
        platform: &str,
        result: &Result<(), &KeystoreError>,
        detail: impl Into<String>,
    ) -> Result<()> {
        self.service.append_record(&NewRecord {
            at: self.now(),
            account_id: account.id,
            user_name: account.name.clone(),
            org_id,
            operation,
            cert_serial: cert_serial.map(str::to_owned),
            seal_id,
            platform: platform.to_owned(),
            device_id: self.device_id.clone(),
            result: match result {
                Ok(()) => "ok".to_owned(),
                Err(e) => e.code().to_owned(),
            },
            detail: detail.into(),
        })?;
        Ok(())
    }

    /// Associated data of the PIN wrap of `pair_id` on this device.
    pub(crate) fn pin_aad(&self, pair_id: i64) -> Vec<u8> {
        vault::aad(
            "data-key/pin",
            &[self.device_id.as_bytes(), pair_id.to_string().as_bytes()],
        )
    }

    /// Associated data of the recovery wrap of `pair_id` on this device.
    pub(crate) fn recovery_aad(&self, pair_id: i64) -> Vec<u8> {
        vault::aad(
            "data-key/recovery",
            &[self.device_id.as_bytes(), pair_id.to_string().as_bytes()],
        )
    }

    /// Associated data of a sealed private key.
    pub(crate) fn key_aad(
        &self,
        key_id: &str,
        serial: &str,
        purpose: KeyPurpose,
        suite: Suite,
    ) -> Vec<u8> {
        vault::aad(
            "private-key",
            &[
                key_id.as_bytes(),
                serial.as_bytes(),
                purpose.as_str().as_bytes(),
                suite.as_str().as_bytes(),
                self.device_id.as_bytes(),
            ],
        )
    }
}

pub(crate) fn pair_row(c: &Connection, pair_id: i64) -> Result<Option<PairRow>> {
    type Row = (
        String,
        Option<i64>,
        String,
        Vec<u8>,
        u32,
        u32,
        u32,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
    );
    let row: Option<Row> = c
        .query_row(
            "SELECT suite, org_id, signing_serial, signing_cert,
                    kdf_memory_kib, kdf_iterations, kdf_parallelism, pin_salt, pin_nonce, pin_wrapped,
                    recovery_nonce, recovery_wrapped
               FROM pairs WHERE pair_id = ?1",
            [pair_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ))
            },
        )
        .optional()?;
    row.map(
        |(suite, org_id, ss, sc, m, i, p, salt, nonce, wrapped, rn, rw)| {
            Ok(PairRow {
                pair_id,
                suite: crate::service::parse_suite(&suite)?,
                org_id,
                signing_serial: ss,
                signing_cert: sc,
                kdf: PinKdfParams {
                    memory_kib: m,
                    iterations: i,
                    parallelism: p,
                },
                pin_salt: salt,
                pin_nonce: nonce,
                pin_wrapped: wrapped,
                recovery_nonce: rn,
                recovery_wrapped: rw,
            })
        },
    )
    .transpose()
}

fn key_row(c: &Connection, cond: &str, p: impl rusqlite::Params) -> Result<Option<KeyRow>> {
    type Row = (String, String, String, Vec<u8>, Vec<u8>);
    let row: Option<Row> = c
        .query_row(
            &format!("SELECT key_id, purpose, serial, nonce, ciphertext FROM keys WHERE {cond}"),
            p,
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    row.map(|(key_id, purpose, serial, nonce, ciphertext)| {
        Ok(KeyRow {
            key_id,
            purpose: purpose
                .parse()
                .map_err(|e: String| KeystoreError::corrupt("phone keys", e))?,
            serial,
            nonce,
            ciphertext,
        })
    })
    .transpose()
}

/// Store `t` as the phone stores times.
pub(crate) fn stamp(t: OffsetDateTime) -> i64 {
    ts(t)
}

#[cfg(test)]
mod tests;
