//! Certificate records: issue onto a device, renew, reissue onto another device (补办)
//! with the reissue counter, reissue packs, and lookups.

use bidkit_crypto::{PublicKey, Suite};
use bidkit_pki::{Certificate, DualCertificates, KeyPurpose, Subject};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::accounts::{account_by_id, active_role, org_ref};
use super::{Service, parse_suite, same_account};
use crate::ca;
use crate::db::{time, ts};
use crate::model::{Account, CertificateInfo, Organisation};
use crate::{KeystoreError, Result};

/// Free reissues (补办) included with every certificate, and added by a reissue pack.
pub const REISSUES_PER_PACK: u32 = 3;

/// What a phone asks the platform to certify: two public keys it generated.
pub(crate) struct NewPair<'a> {
    pub(crate) holder: &'a Account,
    pub(crate) organisation: Option<&'a Organisation>,
    pub(crate) copy_of: Option<i64>,
    pub(crate) suite: Suite,
    pub(crate) device_id: &'a str,
    pub(crate) signing: &'a PublicKey,
    pub(crate) encryption: &'a PublicKey,
}

/// What the platform hands back to the phone after issuing or reissuing.
pub(crate) struct IssuedPair {
    pub(crate) info: CertificateInfo,
    pub(crate) certificates: DualCertificates,
    /// The recovery key for (certificate, device), present on issue and reissue.
    pub(crate) recovery_key: Option<Zeroizing<Vec<u8>>>,
}

impl Service {
    /// Issue a new certificate pair for keys generated on a phone, bound to its device.
    pub(crate) fn issue_pair(&self, req: &NewPair<'_>, now: OffsetDateTime) -> Result<IssuedPair> {
        let subject = match req.organisation {
            Some(org) => Subject::Organisation {
                name: org.name.clone(),
                uscc: org.uscc.clone(),
            },
            None => Subject::Person {
                name: req.holder.name.clone(),
                id_number: req.holder.id_number.clone(),
            },
        };
        let certificates = ca::issue_dual(
            &self.home,
            req.suite,
            &subject,
            req.signing,
            req.encryption,
            now,
        )?;
        let recovery_key = new_recovery_key()?;
        let pair_id = self.db.write(|tx| {
            tx.execute(
                "INSERT INTO cert_pairs (holder_id, org_id, copy_of, suite, subject, device_id, generation, reissues_left, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8)",
                params![
                    req.holder.id,
                    req.organisation.map(|o| o.id),
                    req.copy_of,
                    req.suite.as_str(),
                    subject.to_string(),
                    req.device_id,
                    REISSUES_PER_PACK,
                    ts(now)
                ],
            )?;
            let pair_id = tx.last_insert_rowid();
            insert_certificates(tx, pair_id, 0, &certificates, now)?;
            tx.execute(
                "INSERT INTO recovery_keys (pair_id, device_id, key, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![pair_id, req.device_id, recovery_key.as_slice(), ts(now)],
            )?;
            Ok(pair_id)
        })?;
        Ok(IssuedPair {
            info: self.certificate(pair_id)?,
            certificates,
            recovery_key: Some(recovery_key),
        })
    }

    /// Renew a pair for new keys generated on the device it is bound to: new serials, one
    /// year from `now`; the old certificates become superseded (the old encryption key
    /// stays on the phone to open data encrypted to it).
    pub(crate) fn renew_pair(
        &self,
        actor: &Account,
        device_id: &str,
        pair_id: i64,
        signing: &PublicKey,
        encryption: &PublicKey,
        now: OffsetDateTime,
    ) -> Result<IssuedPair> {
        let info = self.certificate(pair_id)?;
        check_holder(actor, &info)?;
        if info.device_id != device_id {
            return Err(KeystoreError::DeviceUnbound {
                phone: device_id.to_owned(),
                serial: info.signing_serial.clone(),
                bound_device: info.device_id.clone(),
            });
        }
        let (old_signing, old_encryption) = self.current_certificates(pair_id)?;
        let certificates = ca::renew_dual(
            &self.home,
            info.suite,
            &old_signing,
            &old_encryption,
            signing,
            encryption,
            now,
        )?;
        let generation = info.generation + 1;
        self.db.write(|tx| {
            let changed = tx.execute(
                "UPDATE cert_pairs SET generation = ?2 WHERE id = ?1 AND generation = ?3 AND device_id = ?4",
                params![pair_id, generation, info.generation, device_id],
            )?;
            if changed != 1 {
                return Err(KeystoreError::invalid(
                    "certificate",
                    format!("certificate {} changed while it was being renewed; try again", info.signing_serial),
                ));
            }
            tx.execute(
                "UPDATE certificates SET status = 'superseded' WHERE pair_id = ?1 AND status = 'current'",
                [pair_id],
            )?;
            insert_certificates(tx, pair_id, generation, &certificates, now)?;
            Ok(())
        })?;
        Ok(IssuedPair {
            info: self.certificate(pair_id)?,
            certificates,
            recovery_key: None,
        })
    }

    /// Reissue (补办) a pair onto another device with keys generated there: uses one
    /// reissue, binds the pair to `device_id`, revokes the old certificates (so the old
    /// device's copy stops working) and creates a recovery key for the new device.
    ///
    /// With `repair`, the pair is already bound to `device_id` but the phone lost the
    /// keys before storing them (a crash between issue and install): it is reissued in
    /// place, without using a reissue, since it does not move.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reissue_pair(
        &self,
        actor: &Account,
        device_id: &str,
        pair_id: i64,
        signing: &PublicKey,
        encryption: &PublicKey,
        repair: bool,
        now: OffsetDateTime,
    ) -> Result<IssuedPair> {
        let info = self.certificate(pair_id)?;
        check_holder(actor, &info)?;
        if (info.device_id == device_id) != repair {
            return Err(if repair {
                KeystoreError::DeviceUnbound {
                    phone: device_id.to_owned(),
                    serial: info.signing_serial.clone(),
                    bound_device: info.device_id.clone(),
                }
            } else {
                KeystoreError::AlreadyBound {
                    phone: device_id.to_owned(),
                    serial: info.signing_serial.clone(),
                }
            });
        }
        let used = u32::from(!repair);
        if used > 0 && info.reissues_left == 0 {
            return Err(KeystoreError::ReissueLimit {
                serial: info.signing_serial.clone(),
                used: info.reissues_used,
            });
        }
        let subject = self.db.read(|c| {
            let (signing, _) = current_certificates(c, pair_id)?;
            Ok(signing.subject()?)
        })?;
        let certificates =
            ca::issue_dual(&self.home, info.suite, &subject, signing, encryption, now)?;
        let recovery_key = new_recovery_key()?;
        // Revoke before recording: if recording fails the reissue can simply be tried
        // again (already revoked serials are skipped), and the platform never binds the
        // certificate to the new device while the old certificates still verify.
        ca::revoke_superseded(
            &self.home,
            info.suite,
            &[&info.signing_serial, &info.encryption_serial],
            now,
        )?;
        let generation = info.generation + 1;
        self.db.write(|tx| {
            let changed = tx.execute(
                "UPDATE cert_pairs
                    SET device_id = ?2, generation = ?3,
                        reissues_left = reissues_left - ?5, reissues_used = reissues_used + ?5
                  WHERE id = ?1 AND generation = ?4 AND reissues_left >= ?5",
                params![pair_id, device_id, generation, info.generation, used],
            )?;
            if changed != 1 {
                return Err(KeystoreError::invalid(
                    "certificate",
                    format!("certificate {} changed while it was being reissued; try again", info.signing_serial),
                ));
            }
            tx.execute(
                "UPDATE certificates SET status = 'revoked' WHERE pair_id = ?1 AND status = 'current'",
                [pair_id],
            )?;
            insert_certificates(tx, pair_id, generation, &certificates, now)?;
            tx.execute("DELETE FROM recovery_keys WHERE pair_id = ?1", [pair_id])?;
            tx.execute(
                "INSERT INTO recovery_keys (pair_id, device_id, key, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![pair_id, device_id, recovery_key.as_slice(), ts(now)],
            )?;
            Ok(())
        })?;
        Ok(IssuedPair {
            info: self.certificate(pair_id)?,
            certificates,
            recovery_key: Some(recovery_key),
        })
    }

    /// Add a reissue pack (补发包): three more reissues. For the holder, or an admin of
    /// the certificate's organisation.
    pub fn add_reissue_pack(&self, actor: &Account, pair_id: i64) -> Result<CertificateInfo> {
        let info = self.certificate(pair_id)?;
        self.db.write(|tx| {
            let allowed = same_account(actor, info.holder_id)
                || match &info.organisation {
                    Some(org) => active_role(tx, org.id, actor.id)?.is_some_and(|r| r.is_manager()),
                    None => false,
                };
            if !allowed {
                return Err(KeystoreError::NotAuthorised {
                    user: actor.name.clone(),
                    action: format!("add a reissue pack to certificate {}", info.signing_serial),
                    reason: format!("the certificate is held by {}", info.holder),
                });
            }
            tx.execute(
                "UPDATE cert_pairs SET reissues_left = reissues_left + ?2 WHERE id = ?1",
                params![pair_id, REISSUES_PER_PACK],
            )?;
            Ok(())
        })?;
        self.certificate(pair_id)
    }

    /// The certificate with this platform id.
    pub fn certificate(&self, pair_id: i64) -> Result<CertificateInfo> {
        self.db.read(|c| pair_info(c, pair_id))
    }

    /// The certificate one of whose serials (current or past, signing or encryption)
    /// is `serial` or starts with it (at least 6 hex digits).
    pub fn certificate_by_serial(&self, serial: &str) -> Result<CertificateInfo> {
        let wanted = normalise_serial(serial)?;
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT DISTINCT pair_id FROM certificates WHERE serial = ?1 OR (length(?1) >= 6 AND substr(serial, 1, length(?1)) = ?1)",
            )?;
            let pairs: Vec<i64> = stmt
                .query_map([&wanted], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            match pairs.as_slice() {
                [] => Err(KeystoreError::not_found(format!("certificate with serial {wanted}"))),
                [one] => pair_info(c, *one),
                many => Err(KeystoreError::Ambiguous {
                    reference: wanted.clone(),
                    matches: format!("{} certificates", many.len()),
                }),
            }
        })
    }

    /// Certificates held by an account (its person certificates, its organisation
    /// certificates and copies), oldest first.
    pub fn certificates_held_by(&self, account_id: i64) -> Result<Vec<CertificateInfo>> {
        self.db.read(|c| {
            let mut stmt =
                c.prepare("SELECT id FROM cert_pairs WHERE holder_id = ?1 ORDER BY id")?;
            let ids: Vec<i64> = stmt
                .query_map([account_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids.into_iter().map(|id| pair_info(c, id)).collect()
        })
    }

    /// Every certificate of an organisation (the main ones and members' copies).
    pub fn organisation_certificates(&self, org_id: i64) -> Result<Vec<CertificateInfo>> {
        self.db.read(|c| {
            let mut stmt = c.prepare("SELECT id FROM cert_pairs WHERE org_id = ?1 ORDER BY id")?;
            let ids: Vec<i64> = stmt
                .query_map([org_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids.into_iter().map(|id| pair_info(c, id)).collect()
        })
    }

    /// The current signing and encryption certificates of a pair.
    pub fn current_certificates(&self, pair_id: i64) -> Result<(Certificate, Certificate)> {
        self.db.read(|c| current_certificates(c, pair_id))
    }
}

/// What the platform knows about one X.509 serial.
#[derive(Clone, Debug)]
pub(crate) struct SerialStatus {
    pub(crate) pair_id: i64,
    pub(crate) purpose: KeyPurpose,
    pub(crate) status: String,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
}

pub(crate) fn serial_status(c: &Connection, serial: &str) -> Result<SerialStatus> {
    let row: Option<(i64, String, String, i64, i64)> = c
        .query_row(
            "SELECT pair_id, purpose, status, not_before, not_after FROM certificates WHERE serial = ?1",
            [serial],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let (pair_id, purpose, status, nb, na) =
        row.ok_or_else(|| KeystoreError::not_found(format!("certificate with serial {serial}")))?;
    Ok(SerialStatus {
        pair_id,
        purpose: purpose
            .parse()
            .map_err(|e: String| KeystoreError::corrupt("certificates", e))?,
        status,
        not_before: time(nb)?,
        not_after: time(na)?,
    })
}

fn check_holder(actor: &Account, info: &CertificateInfo) -> Result<()> {
    if same_account(actor, info.holder_id) {
        Ok(())
    } else {
        Err(KeystoreError::NotAuthorised {
            user: actor.name.clone(),
            action: format!("use certificate {}", info.signing_serial),
            reason: format!("it is held by {}", info.holder),
        })
    }
}

fn new_recovery_key() -> Result<Zeroizing<Vec<u8>>> {
    let mut key = Zeroizing::new(vec![0u8; 32]);
    bidkit_crypto::rng::fill(&mut key)?;
    Ok(key)
}

fn insert_certificates(
    c: &Connection,
    pair_id: i64,
    generation: u32,
    certs: &DualCertificates,
    now: OffsetDateTime,
) -> Result<()> {
    for (purpose, cert) in [
        (KeyPurpose::Signing, &certs.signing),
        (KeyPurpose::Encryption, &certs.encryption),
    ] {
        c.execute(
            "INSERT INTO certificates (serial, pair_id, purpose, generation, der, not_before, not_after, status, issued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'current', ?8)",
            params![
                cert.serial_hex(),
                pair_id,
                purpose.as_str(),
                generation,
                cert.to_der(),
                ts(cert.not_before()),
                ts(cert.not_after()),
                ts(now)
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn current_certificates(
    c: &Connection,
    pair_id: i64,
) -> Result<(Certificate, Certificate)> {
    let der = |purpose: &str| -> Result<Certificate> {
        let der: Vec<u8> = c
            .query_row(
                "SELECT der FROM certificates WHERE pair_id = ?1 AND purpose = ?2 AND status = 'current'",
                params![pair_id, purpose],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                KeystoreError::corrupt(
                    "service certificates",
                    format!("certificate #{pair_id} has no current {purpose} certificate"),
                )
            })?;
        Ok(Certificate::from_der(&der)?)
    };
    Ok((der("signing")?, der("encryption")?))
}

pub(crate) fn pair_info(c: &Connection, pair_id: i64) -> Result<CertificateInfo> {
    type Row = (
        i64,
        Option<i64>,
        Option<i64>,
        String,
        String,
        String,
        u32,
        u32,
        u32,
    );
    let row: Option<Row> = c
        .query_row(
            "SELECT holder_id, org_id, copy_of, suite, subject, device_id, generation, reissues_left, reissues_used
               FROM cert_pairs WHERE id = ?1",
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
                ))
            },
        )
        .optional()?;
    let (holder_id, org_id, copy_of, suite, subject, device_id, generation, left, used) =
        row.ok_or_else(|| KeystoreError::not_found(format!("certificate #{pair_id}")))?;
    let holder = account_by_id(c, holder_id)?;
    let current = |purpose: &str| -> Result<(String, i64, i64)> {
        c.query_row(
            "SELECT serial, not_before, not_after FROM certificates WHERE pair_id = ?1 AND purpose = ?2 AND status = 'current'",
            params![pair_id, purpose],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| {
            KeystoreError::corrupt(
                "service certificates",
                format!("certificate #{pair_id} has no current {purpose} certificate"),
            )
        })
    };
    let (signing_serial, nb, na) = current("signing")?;
    let (encryption_serial, _, _) = current("encryption")?;
    Ok(CertificateInfo {
        id: pair_id,
        suite: parse_suite(&suite)?,
        subject,
        organisation: org_id.map(|o| org_ref(c, o)).transpose()?,
        holder: holder.name,
        holder_id,
        copy_of,
        signing_serial,
        encryption_serial,
        not_before: time(nb)?,
        not_after: time(na)?,
        device_id,
        generation,
        reissues_left: left,
        reissues_used: used,
    })
}

/// A serial as typed: hex digits, optional `:` separators and `0x`, lowercase.
pub(crate) fn normalise_serial(serial: &str) -> Result<String> {
    let s: String = serial
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(KeystoreError::invalid(
            "certificate serial",
            format!("{serial:?} is not a hexadecimal serial number"),
        ));
    }
    Ok(s)
}
