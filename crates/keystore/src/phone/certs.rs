//! Certificates on the phone: issue (keys generated here), renew (new keys), reissue
//! onto this device (补办), reissue packs, and the list with each one's state.

use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pki::{Certificate, KeyPurpose};
use rusqlite::{Transaction, params};

use super::vault::{self, DataKey};
use super::{PairRow, Phone, stamp};
use crate::model::{Account, CertificateInfo, InstalledCertificate, Operation, Organisation};
use crate::selector::CertSelector;
use crate::service::{IssuedPair, NewPair};
use crate::{KeystoreError, Result};

impl Phone {
    /// Issue another person certificate (e.g. of the other suite) onto this phone.
    pub fn issue_person_certificate(&self, suite: Suite, pin: &str) -> Result<CertificateInfo> {
        crate::ids::check_pin(pin)?;
        let account = self.require_account()?;
        let held = self.service.certificates_held_by(account.id)?;
        if let Some(c) = held
            .iter()
            .find(|c| c.organisation.is_none() && c.suite == suite)
        {
            return Err(KeystoreError::invalid(
                "certificate",
                format!(
                    "{} already holds a {suite} person certificate ({}); renew or reissue it instead",
                    account.name, c.signing_serial
                ),
            ));
        }
        self.install_new(&account, None, None, suite, pin)
    }

    /// Install an organisation certificate of `suite` on this phone.
    ///
    /// An admin without one gets the organisation's main certificate (主锁) if none of
    /// this suite exists yet, else a copy (副锁). A member claims a copy (申领) while
    /// holding an active grant of the organisation: a certificate grant (the copy is of
    /// the granted certificate) or a seal grant (the copy is of the main certificate).
    pub fn issue_organisation_certificate(
        &self,
        uscc: &str,
        suite: Suite,
        pin: &str,
    ) -> Result<CertificateInfo> {
        crate::ids::check_pin(pin)?;
        let account = self.require_account()?;
        let org = self.service.organisation(uscc)?;
        let now = self.now();
        let all = self.service.organisation_certificates(org.id)?;
        if let Some(c) = all
            .iter()
            .find(|c| c.holder_id == account.id && c.suite == suite)
        {
            return Err(KeystoreError::invalid(
                "certificate",
                format!(
                    "{} already holds a {suite} certificate of {} ({}); renew or reissue it instead",
                    account.name, org.name, c.signing_serial
                ),
            ));
        }
        if !self.service.may_claim(&account, org.id, now)? {
            return Err(KeystoreError::NotAuthorised {
                user: account.name.clone(),
                action: format!("claim a certificate of {}", org.name),
                reason: "no active authorisation from its admin".into(),
            });
        }
        let main = all.iter().find(|c| c.copy_of.is_none() && c.suite == suite);
        let granted = self
            .grants()?
            .into_iter()
            .filter(|g| g.grantee_id == account.id && g.state == crate::model::GrantState::Active)
            .find_map(|g| match g.target {
                crate::model::GrantTarget::Certificate(id) => all
                    .iter()
                    .find(|c| c.id == id && c.suite == suite)
                    .map(|c| c.id),
                crate::model::GrantTarget::Seal(_) => None,
            });
        let is_manager = self
            .service
            .memberships_of(account.id)?
            .iter()
            .any(|m| m.organisation.id == org.id && m.role.is_manager());
        let copy_of = match (granted, main) {
            (Some(id), _) => Some(id),
            (None, Some(main)) => Some(main.id),
            (None, None) if is_manager => None,
            (None, None) => {
                return Err(KeystoreError::not_found(format!(
                    "a {suite} certificate of {} to claim a copy of: an admin must install one first",
                    org.name
                )));
            }
        };
        self.install_new(&account, Some(&org), copy_of, suite, pin)
    }

    /// Generate keys here, have the platform certify them, and store them sealed.
    pub(crate) fn install_new(
        &self,
        account: &Account,
        org: Option<&Organisation>,
        copy_of: Option<i64>,
        suite: Suite,
        pin: &str,
    ) -> Result<CertificateInfo> {
        crate::ids::check_pin(pin)?;
        let signing = PrivateKey::generate(suite)?;
        let encryption = PrivateKey::generate(suite)?;
        let issued = self.service.issue_pair(
            &NewPair {
                holder: account,
                organisation: org,
                copy_of,
                suite,
                device_id: &self.device_id,
                signing: &signing.public_key(),
                encryption: &encryption.public_key(),
            },
            self.now(),
        )?;
        self.store_install(&issued, &signing, &encryption, pin)?;
        let info = issued.info;
        let ok: Result<(), &KeystoreError> = Ok(());
        self.record(
            account,
            info.organisation.as_ref().map(|o| o.id),
            Operation::Issue,
            Some(&info.signing_serial),
            None,
            &self.config.platform,
            &ok,
            format!("{} certificate installed", info.suite),
        )?;
        Ok(info)
    }

    /// Store a freshly issued (or reissued) pair: a new data key wrapped under the PIN
    /// and the recovery key, both private keys sealed, a full PIN counter — one
    /// transaction, replacing any older install of the same certificate.
    fn store_install(
        &self,
        issued: &IssuedPair,
        signing: &PrivateKey,
        encryption: &PrivateKey,
        pin: &str,
    ) -> Result<()> {
        let info = &issued.info;
        let recovery_key = issued.recovery_key.as_ref().ok_or_else(|| {
            KeystoreError::corrupt("service answer", "no recovery key with a new certificate")
        })?;
        let dk = DataKey::generate(info.suite)?;
        let pin_wrap = vault::wrap_under_pin(&dk, pin, self.config.kdf, &self.pin_aad(info.id))?;
        let rec_wrap = vault::wrap_under_recovery(&dk, recovery_key, &self.recovery_aad(info.id))?;
        let sealed = self.seal_pair_keys(&dk, info.suite, issued, signing, encryption)?;
        let now = self.now();
        self.db.write(|tx| {
            tx.execute("DELETE FROM keys WHERE pair_id = ?1", [info.id])?;
            tx.execute("DELETE FROM pin_state WHERE pair_id = ?1", [info.id])?;
            tx.execute("DELETE FROM pairs WHERE pair_id = ?1", [info.id])?;
            tx.execute(
                "INSERT INTO pairs (pair_id, suite, org_id, generation, signing_serial, encryption_serial,
                                    signing_cert, encryption_cert, kdf_memory_kib, kdf_iterations, kdf_parallelism,
                                    pin_salt, pin_nonce, pin_wrapped, recovery_nonce, recovery_wrapped, installed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
                    info.id,
                    info.suite.as_str(),
                    info.organisation.as_ref().map(|o| o.id),
                    info.generation,
                    issued.certificates.signing.serial_hex(),
                    issued.certificates.encryption.serial_hex(),
                    issued.certificates.signing.to_der(),
                    issued.certificates.encryption.to_der(),
                    pin_wrap.params.memory_kib,
                    pin_wrap.params.iterations,
                    pin_wrap.params.parallelism,
                    pin_wrap.salt,
                    pin_wrap.nonce,
                    pin_wrap.wrapped,
                    rec_wrap.nonce,
                    rec_wrap.wrapped,
                    stamp(now)
                ],
            )?;
            insert_keys(tx, info.id, &sealed, now)?;
            tx.execute(
                "INSERT INTO pin_state (pair_id, tries_left, max_tries, updated_at) VALUES (?1, ?2, ?2, ?3)",
                params![info.id, self.config.max_pin_tries, stamp(now)],
            )?;
            Ok(())
        })
    }

    fn seal_pair_keys(
        &self,
        dk: &DataKey,
        suite: Suite,
        issued: &IssuedPair,
        signing: &PrivateKey,
        encryption: &PrivateKey,
    ) -> Result<Vec<SealedKey>> {
        [
            (KeyPurpose::Signing, &issued.certificates.signing, signing),
            (
                KeyPurpose::Encryption,
                &issued.certificates.encryption,
                encryption,
            ),
        ]
        .into_iter()
        .map(|(purpose, cert, key)| self.seal_one(dk, suite, purpose, cert, key))
        .collect()
    }

    fn seal_one(
        &self,
        dk: &DataKey,
        suite: Suite,
        purpose: KeyPurpose,
        cert: &Certificate,
        key: &PrivateKey,
    ) -> Result<SealedKey> {
        if cert.public_key()? != key.public_key() {
            return Err(KeystoreError::corrupt(
                "CA answer",
                format!(
                    "certificate {} does not certify the key generated for it",
                    cert.serial_hex()
                ),
            ));
        }
        let key_id = hex::encode(bidkit_crypto::rng::random_array::<12>()?);
        let serial = cert.serial_hex();
        let (nonce, ciphertext) =
            vault::seal_key(dk, key, &self.key_aad(&key_id, &serial, purpose, suite))?;
        Ok(SealedKey {
            key_id,
            purpose,
            serial,
            nonce,
            ciphertext,
        })
    }

    /// Renew (延期) an installed certificate: new keys generated here, new certificates
    /// valid one year from now, same PIN. The old signing key is deleted; the old
    /// encryption key stays (sealed as before) so data encrypted to it can still be
    /// opened.
    pub fn renew(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
        pin: &str,
    ) -> Result<CertificateInfo> {
        let account = self.require_account()?;
        let (pair, _) = self.resolve_installed(cert, suite)?;
        let result = self.renew_pair(&account, &pair, pin);
        let outcome = result.as_ref().map(|_| ());
        self.record(
            &account,
            pair.org_id,
            Operation::Renew,
            Some(&pair.signing_serial),
            None,
            &self.config.platform,
            &outcome,
            match &result {
                Ok(info) => format!("renewed as {}", info.signing_serial),
                Err(_) => String::new(),
            },
        )?;
        result
    }

    fn renew_pair(&self, account: &Account, pair: &PairRow, pin: &str) -> Result<CertificateInfo> {
        crate::ids::check_pin(pin)?;
        self.check_bound_here(pair)?;
        let dk = self.unlock_with_pin(pair, pin)?;
        let signing = PrivateKey::generate(pair.suite)?;
        let encryption = PrivateKey::generate(pair.suite)?;
        let issued = self.service.renew_pair(
            account,
            &self.device_id,
            pair.pair_id,
            &signing.public_key(),
            &encryption.public_key(),
            self.now(),
        )?;
        let sealed = self.seal_pair_keys(&dk, pair.suite, &issued, &signing, &encryption)?;
        let now = self.now();
        let info = issued.info;
        self.db.write(|tx| {
            tx.execute(
                "DELETE FROM keys WHERE pair_id = ?1 AND purpose = 'signing'",
                [info.id],
            )?;
            tx.execute(
                "UPDATE keys SET current = 0 WHERE pair_id = ?1 AND purpose = 'encryption'",
                [info.id],
            )?;
            insert_keys(tx, info.id, &sealed, now)?;
            tx.execute(
                "UPDATE pairs SET generation = ?2, signing_serial = ?3, encryption_serial = ?4,
                                  signing_cert = ?5, encryption_cert = ?6
                  WHERE pair_id = ?1",
                params![
                    info.id,
                    info.generation,
                    issued.certificates.signing.serial_hex(),
                    issued.certificates.encryption.serial_hex(),
                    issued.certificates.signing.to_der(),
                    issued.certificates.encryption.to_der()
                ],
            )?;
            Ok(())
        })?;
        Ok(info)
    }

    /// Reissue (补办) a certificate onto **this** phone: new keys generated here, new
    /// certificates, one reissue used. The device it was bound to loses it (its
    /// requests fail with `device_unbound`). The certificate is named by serial (any
    /// past one), `#id`, `person` or the organisation's code; `new_pin` protects it here.
    pub fn reissue_here(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
        new_pin: &str,
    ) -> Result<CertificateInfo> {
        crate::ids::check_pin(new_pin)?;
        let account = self.require_account()?;
        let info = self.platform_certificate(&account, cert, suite)?;
        let result = (|| {
            if info.holder_id != account.id {
                return Err(KeystoreError::NotAuthorised {
                    user: account.name.clone(),
                    action: format!("reissue certificate {}", info.signing_serial),
                    reason: format!("it is held by {}", info.holder),
                });
            }
            // Bound here but not installed: the keys were lost between issue and
            // install (a crash); reinstall in place without using a reissue.
            let repair = info.device_id == self.device_id;
            if repair && self.db.read(|c| super::pair_row(c, info.id))?.is_some() {
                return Err(KeystoreError::AlreadyBound {
                    phone: self.name.clone(),
                    serial: info.signing_serial.clone(),
                });
            }
            if !repair && info.reissues_left == 0 {
                return Err(KeystoreError::ReissueLimit {
                    serial: info.signing_serial.clone(),
                    used: info.reissues_used,
                });
            }
            let signing = PrivateKey::generate(info.suite)?;
            let encryption = PrivateKey::generate(info.suite)?;
            let issued = self.service.reissue_pair(
                &account,
                &self.device_id,
                info.id,
                &signing.public_key(),
                &encryption.public_key(),
                repair,
                self.now(),
            )?;
            self.store_install(&issued, &signing, &encryption, new_pin)?;
            Ok(issued.info)
        })();
        let outcome = result.as_ref().map(|_| ());
        self.record(
            &account,
            info.organisation.as_ref().map(|o| o.id),
            Operation::Reissue,
            Some(&info.signing_serial),
            None,
            &self.config.platform,
            &outcome,
            match &result {
                Ok(new) => format!(
                    "reissued onto device {} as {}; {} reissues left",
                    self.device_id, new.signing_serial, new.reissues_left
                ),
                Err(_) => format!("onto device {}", self.device_id),
            },
        )?;
        result
    }

    /// Add a reissue pack (three more reissues) to a certificate of the user or of an
    /// organisation they manage.
    pub fn add_reissue_pack(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
    ) -> Result<CertificateInfo> {
        let account = self.require_account()?;
        let info = self.platform_certificate(&account, cert, suite)?;
        let result = self.service.add_reissue_pack(&account, info.id);
        let outcome = result.as_ref().map(|_| ());
        self.record(
            &account,
            info.organisation.as_ref().map(|o| o.id),
            Operation::ReissuePack,
            Some(&info.signing_serial),
            None,
            &self.config.platform,
            &outcome,
            "",
        )?;
        result
    }

    /// Certificates installed on this phone, each with the platform's view, the PIN
    /// state and what the phone can do with it now.
    pub fn certificates(&self) -> Result<Vec<InstalledCertificate>> {
        let rows: Vec<(i64, String, String)> = self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT pair_id, signing_serial, encryption_serial FROM pairs ORDER BY pair_id",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })?;
        let now = self.now();
        rows.into_iter()
            .map(|(pair_id, signing, encryption)| {
                let certificate = self.service.certificate(pair_id)?;
                let pin = self.pin_status_of(pair_id)?;
                let state = if certificate.device_id != self.device_id {
                    format!("moved to device {} (reissued)", certificate.device_id)
                } else if certificate.signing_serial != signing {
                    format!("replaced by {}", certificate.signing_serial)
                } else if pin.locked {
                    "locked (reset the PIN)".to_owned()
                } else if now > certificate.not_after {
                    "expired (renew it)".to_owned()
                } else if now < certificate.not_before {
                    "not yet valid".to_owned()
                } else {
                    "usable".to_owned()
                };
                Ok(InstalledCertificate {
                    certificate,
                    installed_signing_serial: signing,
                    installed_encryption_serial: encryption,
                    pin,
                    state,
                })
            })
            .collect()
    }

    /// The installed signing certificate `cert` names.
    pub fn signing_certificate(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
    ) -> Result<Certificate> {
        let (pair, _) = self.resolve_installed(cert, suite)?;
        Ok(Certificate::from_der(&pair.signing_cert)?)
    }

    /// The installed encryption certificate `cert` names (the current one).
    pub fn encryption_certificate(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
    ) -> Result<Certificate> {
        let (pair, _) = self.resolve_installed(cert, suite)?;
        let der: Vec<u8> = self.db.read(|c| {
            Ok(c.query_row(
                "SELECT encryption_cert FROM pairs WHERE pair_id = ?1",
                [pair.pair_id],
                |r| r.get(0),
            )?)
        })?;
        Ok(Certificate::from_der(&der)?)
    }

    /// Fail with `device_unbound` (or `cert_superseded`) unless the platform binds
    /// `pair` to this device with the serial installed here.
    pub(crate) fn check_bound_here(&self, pair: &PairRow) -> Result<()> {
        let info = self.service.certificate(pair.pair_id)?;
        if info.device_id != self.device_id {
            return Err(KeystoreError::DeviceUnbound {
                phone: self.name.clone(),
                serial: pair.signing_serial.clone(),
                bound_device: info.device_id,
            });
        }
        if info.signing_serial != pair.signing_serial {
            return Err(KeystoreError::CertificateSuperseded {
                serial: pair.signing_serial.clone(),
                current: info.signing_serial,
            });
        }
        Ok(())
    }
}

/// A private key sealed for storage.
struct SealedKey {
    key_id: String,
    purpose: KeyPurpose,
    serial: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn insert_keys(
    tx: &Transaction<'_>,
    pair_id: i64,
    keys: &[SealedKey],
    now: time::OffsetDateTime,
) -> Result<()> {
    for k in keys {
        tx.execute(
            "INSERT INTO keys (key_id, pair_id, purpose, serial, current, nonce, ciphertext, created_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7)",
            params![
                k.key_id,
                pair_id,
                k.purpose.as_str(),
                k.serial,
                k.nonce,
                k.ciphertext,
                stamp(now)
            ],
        )?;
    }
    Ok(())
}
