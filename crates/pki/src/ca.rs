//! The emulated certificate authority: a self-signed **test** root of one suite, kept in
//! a directory, that issues, renews and revokes holder certificates and publishes CRLs.
//!
//! # Directory layout (`$BIDKIT_HOME/ca/<suite>/`)
//!
//! | file | content |
//! | --- | --- |
//! | `ca.json` | the whole state: root key (unencrypted — a test root), root certificate, every issued certificate, every revocation. Written atomically; the single source of truth. |
//! | `root.pem` | the root certificate, for `openssl verify -CAfile` and for users to import. |
//! | `crl.pem`, `crl.der` | the latest CRL, rewritten after each revocation. |
//! | `.lock` | advisory lock serialising mutations between processes. |
//!
//! `root.pem` and the CRL files are derived from `ca.json` and rewritten when missing.

use std::fs;
use std::path::{Path, PathBuf};

use bidkit_crypto::{PrivateKey, PublicKey, Signer, Suite};
use der::Encode;
use der::asn1::{OctetString, Uint};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlNumber, CrlReason, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::serial_number::SerialNumber;

use crate::cert::{Certificate, DualCertificates, KeyPurpose};
use crate::chain::TrustStore;
use crate::crl::{Crl, Revocation, RevocationReason};
use crate::fsio::{DirLock, write_atomic};
use crate::subject::{self, OID_C, OID_CN, OID_O, OID_OU, Subject};
use crate::x509::{self, CertificateTemplate};
use crate::{CRL_VALIDITY, END_ENTITY_VALIDITY, PkiError, ROOT_VALIDITY, Result};

const STATE_FILE: &str = "ca.json";
const ROOT_FILE: &str = "root.pem";
const CRL_PEM_FILE: &str = "crl.pem";
const CRL_DER_FILE: &str = "crl.der";
const LOCK_FILE: &str = ".lock";
const STATE_FORMAT: u32 = 1;

/// Organisation name of the test root.
pub const TEST_ROOT_ORGANISATION: &str = "Bidkit Test CA";

/// The root's common name for `suite`, e.g.
/// `Bidkit Emulated Test Root CA (GM) — NOT FOR PRODUCTION`.
pub fn test_root_common_name(suite: Suite) -> String {
    let label = match suite {
        Suite::Gm => "GM",
        Suite::Nist => "NIST",
    };
    format!("Bidkit Emulated Test Root CA ({label}) — NOT FOR PRODUCTION")
}

/// The root's organisational unit: the test marking plus an instance tag (the first
/// 8 bytes of the root key's fingerprint), so that the roots of two Bidkit homes have
/// different names. Name chaining (RFC 5280 §6.1.3 (a)(4)) and CRL matching then
/// never confuse one home's test CA with another's.
fn test_root_unit(key: &PublicKey) -> String {
    format!(
        "Emulated test CA {} — NOT FOR PRODUCTION",
        key.fingerprint().replace('-', "")
    )
}

/// A certificate this CA issued, as recorded in its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    /// Serial (lowercase hex).
    pub serial: String,
    /// The holder.
    pub subject: Subject,
    /// Signing or encryption.
    pub purpose: KeyPurpose,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Serial of the certificate this one renewed, if any.
    pub renewal_of: Option<String>,
    /// The certificate itself (PEM in the state file).
    pub certificate: Certificate,
}

/// What `ca.json` holds.
#[derive(Serialize, Deserialize)]
struct State {
    format: u32,
    suite: Suite,
    /// The root's private scalar, hex. Unencrypted: this is a test root.
    root_key: String,
    root: Certificate,
    /// Incremented on each revocation; part of the cRLNumber.
    crl_revision: u64,
    issued: Vec<IssuedCertificate>,
    revoked: Vec<Revocation>,
}

/// A root CA of one suite, with its state in a directory.
///
/// Every mutation (issue, renew, revoke) takes the directory's lock, re-reads the
/// state from disk, applies the change and writes the state back atomically, so
/// several processes may share one CA directory.
pub struct CertificateAuthority {
    dir: PathBuf,
    suite: Suite,
    key: PrivateKey,
    state: State,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("dir", &self.dir)
            .field("suite", &self.suite)
            .field("root", &self.state.root)
            .field("issued", &self.state.issued.len())
            .field("revoked", &self.state.revoked.len())
            .finish()
    }
}

impl CertificateAuthority {
    /// Open the CA in `dir`, creating a new root of `suite` (valid from `now` for twenty
    /// years) if the directory holds none.
    ///
    /// Fails if the directory holds a CA of the other suite or unusable state.
    pub fn open_or_create(dir: &Path, suite: Suite, now: OffsetDateTime) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| PkiError::io("create", dir, e))?;
        let _lock = DirLock::acquire(&dir.join(LOCK_FILE))?;
        let state_path = dir.join(STATE_FILE);
        let ca = if state_path.exists() {
            let (key, state) = load_state(&state_path, suite)?;
            CertificateAuthority {
                dir: dir.to_path_buf(),
                suite,
                key,
                state,
            }
        } else {
            let ca = Self::create(dir, suite, now)?;
            ca.save_state()?;
            ca
        };
        ca.write_derived_files(now, false)?;
        Ok(ca)
    }

    /// Open an existing CA in `dir`; fails if there is none.
    pub fn open(dir: &Path, suite: Suite) -> Result<Self> {
        let state_path = dir.join(STATE_FILE);
        let _lock = DirLock::acquire(&dir.join(LOCK_FILE))?;
        let (key, state) = load_state(&state_path, suite)?;
        Ok(CertificateAuthority {
            dir: dir.to_path_buf(),
            suite,
            key,
            state,
        })
    }

    /// Whether `dir` holds a CA.
    pub fn exists(dir: &Path) -> bool {
        dir.join(STATE_FILE).is_file()
    }

    fn create(dir: &Path, suite: Suite, now: OffsetDateTime) -> Result<Self> {
        let now = x509::whole_seconds(now);
        let key = PrivateKey::generate(suite)?;
        let name = subject::build_name(&[
            (OID_C, subject::printable("CN")?),
            (OID_O, subject::utf8(TEST_ROOT_ORGANISATION)?),
            (OID_OU, subject::utf8(&test_root_unit(&key.public_key()))?),
            (OID_CN, subject::utf8(&test_root_common_name(suite))?),
        ])?;
        let spki = x509::spki_of(&key.public_key())?;
        let ski = x509::key_identifier(&spki, suite);
        let extensions = vec![
            // RFC 5280 §4.2.1.9: CA:TRUE, critical in CA certificates.
            x509::extension(
                BasicConstraints::OID,
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(0),
                },
            )?,
            // RFC 5280 §4.2.1.3: keyCertSign + cRLSign, critical.
            x509::extension(
                KeyUsage::OID,
                true,
                &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            )?,
            // RFC 5280 §4.2.1.2.
            x509::extension(SubjectKeyIdentifier::OID, false, &octets(&ski)?)?,
        ];
        let template = CertificateTemplate {
            serial: x509::random_serial()?,
            issuer: name.clone(),
            subject: name,
            not_before: now,
            not_after: now + ROOT_VALIDITY,
            subject_key: key.public_key(),
            extensions,
        };
        let root = x509::sign_certificate(template, &key)?;
        let state = State {
            format: STATE_FORMAT,
            suite,
            root_key: hex::encode(key.to_bytes().as_ref()),
            root,
            crl_revision: 0,
            issued: Vec::new(),
            revoked: Vec::new(),
        };
        Ok(CertificateAuthority {
            dir: dir.to_path_buf(),
            suite,
            key,
            state,
        })
    }

    /// The CA directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The suite of this CA.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The self-signed root certificate.
    pub fn root(&self) -> &Certificate {
        &self.state.root
    }

    /// Path of the root certificate file (`root.pem`).
    pub fn root_path(&self) -> PathBuf {
        self.dir.join(ROOT_FILE)
    }

    /// Path of the latest CRL file (`crl.pem`; `crl.der` beside it).
    pub fn crl_path(&self) -> PathBuf {
        self.dir.join(CRL_PEM_FILE)
    }

    /// The root as a signer (the CA's key).
    pub fn signer(&self) -> &dyn Signer {
        &self.key
    }

    /// Every certificate issued, oldest first (as of the last read of the state).
    pub fn issued(&self) -> &[IssuedCertificate] {
        &self.state.issued
    }

    /// The issued certificate with this serial (any case, leading zeros ignored).
    pub fn find(&self, serial_hex: &str) -> Option<&IssuedCertificate> {
        let wanted = x509::normalise_serial(serial_hex).ok()?;
        self.state.issued.iter().find(|c| c.serial == wanted)
    }

    /// Every revocation, oldest first.
    pub fn revocations(&self) -> &[Revocation] {
        &self.state.revoked
    }

    /// Re-read the state from disk (to see other processes' issuances and revocations).
    pub fn refresh(&mut self) -> Result<()> {
        let _lock = DirLock::acquire(&self.dir.join(LOCK_FILE))?;
        self.reload()
    }

    /// Issue one certificate for `subject`: X.509 v3, random 16-byte serial, valid from
    /// `now` for one year ([`crate::END_ENTITY_VALIDITY`]), signed by the root.
    pub fn issue(
        &mut self,
        subject: &Subject,
        purpose: KeyPurpose,
        public_key: &PublicKey,
        now: OffsetDateTime,
    ) -> Result<Certificate> {
        let mut issued = self.issue_all(&[(subject, purpose, public_key, None)], now)?;
        issued
            .pop()
            .ok_or_else(|| PkiError::encode("certificate", "nothing issued"))
    }

    /// Issue a holder's signing and encryption certificates together (both or neither
    /// is recorded).
    pub fn issue_dual(
        &mut self,
        subject: &Subject,
        signing_key: &PublicKey,
        encryption_key: &PublicKey,
        now: OffsetDateTime,
    ) -> Result<DualCertificates> {
        if signing_key == encryption_key {
            return Err(PkiError::InvalidSubject {
                field: "keys",
                reason: "the signing and encryption certificates need two different key pairs"
                    .into(),
            });
        }
        let mut issued = self.issue_all(
            &[
                (subject, KeyPurpose::Signing, signing_key, None),
                (subject, KeyPurpose::Encryption, encryption_key, None),
            ],
            now,
        )?;
        let encryption = issued.pop();
        let signing = issued.pop();
        match (signing, encryption) {
            (Some(signing), Some(encryption)) => Ok(DualCertificates {
                signing,
                encryption,
            }),
            _ => Err(PkiError::encode("dual certificates", "not both issued")),
        }
    }

    /// Renew `old` (issued here, not revoked): same subject and purpose, a new serial,
    /// validity from `now` for one year, for `public_key` (which may be the old key or a
    /// new one). The old certificate is not revoked; revoke it with
    /// [`RevocationReason::Superseded`] if it must stop working.
    pub fn renew(
        &mut self,
        old: &Certificate,
        public_key: &PublicKey,
        now: OffsetDateTime,
    ) -> Result<Certificate> {
        {
            let _lock = DirLock::acquire(&self.dir.join(LOCK_FILE))?;
            self.reload()?;
        }
        let (subject, purpose) = self.renewable(old)?;
        let mut issued = self.issue_all(
            &[(&subject, purpose, public_key, Some(old.serial_hex()))],
            now,
        )?;
        issued.pop().ok_or_else(|| PkiError::CannotRenew {
            serial: old.serial_hex(),
            reason: "nothing issued".into(),
        })
    }

    /// Renew both certificates of a pair at once (both renewals are recorded, or
    /// neither), each as [`CertificateAuthority::renew`] does.
    pub fn renew_dual(
        &mut self,
        old: &DualCertificates,
        signing_key: &PublicKey,
        encryption_key: &PublicKey,
        now: OffsetDateTime,
    ) -> Result<DualCertificates> {
        {
            let _lock = DirLock::acquire(&self.dir.join(LOCK_FILE))?;
            self.reload()?;
        }
        let (sign_subject, sign_purpose) = self.renewable(&old.signing)?;
        let (enc_subject, enc_purpose) = self.renewable(&old.encryption)?;
        if sign_purpose != KeyPurpose::Signing || enc_purpose != KeyPurpose::Encryption {
            return Err(PkiError::CannotRenew {
                serial: old.signing.serial_hex(),
                reason: "the pair is not a signing and an encryption certificate".into(),
            });
        }
        let mut issued = self.issue_all(
            &[
                (
                    &sign_subject,
                    sign_purpose,
                    signing_key,
                    Some(old.signing.serial_hex()),
                ),
                (
                    &enc_subject,
                    enc_purpose,
                    encryption_key,
                    Some(old.encryption.serial_hex()),
                ),
            ],
            now,
        )?;
        let encryption = issued.pop();
        let signing = issued.pop();
        match (signing, encryption) {
            (Some(signing), Some(encryption)) => Ok(DualCertificates {
                signing,
                encryption,
            }),
            _ => Err(PkiError::encode("dual certificates", "not both renewed")),
        }
    }

    /// Subject and purpose of `old` if this CA may renew it (issued here, unchanged,
    /// not revoked, not the root).
    fn renewable(&self, old: &Certificate) -> Result<(Subject, KeyPurpose)> {
        let serial = old.serial_hex();
        let cannot = |reason: String| PkiError::CannotRenew {
            serial: serial.clone(),
            reason,
        };
        if old == self.root() {
            return Err(PkiError::RootCertificate {
                serial,
                what: "it cannot be renewed as a holder certificate",
            });
        }
        let recorded = self.find(&serial).ok_or(PkiError::UnknownSerial {
            serial: serial.clone(),
            suite: self.suite,
        })?;
        if recorded.certificate != *old {
            return Err(cannot(
                "it differs from the certificate this CA issued with that serial".into(),
            ));
        }
        if let Some(r) = self.is_revoked(&serial) {
            return Err(cannot(format!(
                "it was revoked ({}) at {}",
                r.reason,
                crate::chain::fmt_time(r.revoked_at)
            )));
        }
        Ok((recorded.subject.clone(), recorded.purpose))
    }

    /// Revoke the certificate with this serial at `now` and publish a new CRL
    /// (`crl.pem` / `crl.der`).
    pub fn revoke(
        &mut self,
        serial_hex: &str,
        reason: RevocationReason,
        now: OffsetDateTime,
    ) -> Result<()> {
        let now = x509::whole_seconds(now);
        let serial = x509::normalise_serial(serial_hex)?;
        if serial == self.root().serial_hex() {
            return Err(PkiError::RootCertificate {
                serial,
                what: "the root cannot revoke itself",
            });
        }
        let _lock = DirLock::acquire(&self.dir.join(LOCK_FILE))?;
        self.reload()?;
        if self.find(&serial).is_none() {
            return Err(PkiError::UnknownSerial {
                serial,
                suite: self.suite,
            });
        }
        if let Some(r) = self.is_revoked(&serial) {
            return Err(PkiError::AlreadyRevoked {
                serial,
                reason: r.reason,
                revoked_at: r.revoked_at,
            });
        }
        self.state.revoked.push(Revocation {
            serial,
            reason,
            revoked_at: now,
        });
        self.state.crl_revision += 1;
        if let Err(e) = self.save_state() {
            // Keep memory in line with the disk.
            self.state.revoked.pop();
            self.state.crl_revision -= 1;
            return Err(e);
        }
        self.write_derived_files(now, true)
    }

    /// The revocation of this serial, if it is revoked (as of the last read of the state).
    pub fn is_revoked(&self, serial_hex: &str) -> Option<Revocation> {
        let wanted = x509::normalise_serial(serial_hex).ok()?;
        self.state
            .revoked
            .iter()
            .find(|r| r.serial == wanted)
            .cloned()
    }

    /// A CRL (X.509 v2, RFC 5280 §5) listing every revocation, issued at `now`, current
    /// for [`crate::CRL_VALIDITY`], signed by the root. Entries carry a reasonCode unless
    /// the reason is unspecified (§5.3.1); the CRL carries authorityKeyIdentifier and
    /// cRLNumber (§5.2.1, §5.2.3). The number is `thisUpdate` in Unix seconds × 65536 +
    /// the revision, so it increases with time and with every revocation.
    pub fn crl(&self, now: OffsetDateTime) -> Result<Crl> {
        let now = x509::whole_seconds(now);
        let what = || "the CRL".to_owned();
        let mut revoked = Vec::new();
        for r in &self.state.revoked {
            let bytes = hex::decode(&r.serial).map_err(|e| PkiError::CorruptState {
                path: self.dir.join(STATE_FILE),
                reason: format!("revoked serial {:?}: {e}", r.serial),
            })?;
            let serial_number =
                <SerialNumber>::new(&bytes).map_err(|e| PkiError::encode(what(), e))?;
            let crl_entry_extensions = match r.reason {
                RevocationReason::Unspecified => None,
                reason => Some(vec![x509::extension(
                    CrlReason::OID,
                    false,
                    &reason.to_x509(),
                )?]),
            };
            revoked.push(RevokedCert {
                serial_number,
                revocation_date: x509::offset_to_time(r.revoked_at)?,
                crl_entry_extensions,
            });
        }
        let secs = u64::try_from(now.unix_timestamp())
            .map_err(|_| PkiError::TimeOutOfRange { time: now })?;
        let number = (u128::from(secs) << 16) | u128::from(self.state.crl_revision & 0xffff);
        let number = Uint::new(&number.to_be_bytes()).map_err(|e| PkiError::encode(what(), e))?;
        let root_spki = self
            .root()
            .x509()
            .tbs_certificate()
            .subject_public_key_info();
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(octets(&x509::key_identifier(root_spki, self.suite))?),
            ..Default::default()
        };
        let extensions: Vec<Extension> = vec![
            x509::extension(AuthorityKeyIdentifier::OID, false, &aki)?,
            x509::extension(CrlNumber::OID, false, &CrlNumber(number))?,
        ];
        let algorithm = x509::signature_algorithm_id(self.key.algorithm());
        let tbs = TbsCertList {
            version: x509_cert::Version::V2,
            signature: algorithm.clone(),
            issuer: self.root().x509().tbs_certificate().subject().clone(),
            this_update: x509::offset_to_time(now)?,
            next_update: Some(x509::offset_to_time(now + CRL_VALIDITY)?),
            // RFC 5280 §5.1.2.6: absent when nothing is revoked.
            revoked_certificates: if revoked.is_empty() {
                None
            } else {
                Some(revoked)
            },
            crl_extensions: Some(extensions),
        };
        let tbs_der = tbs.to_der().map_err(|e| PkiError::encode(what(), e))?;
        let signature = Signer::sign(&self.key, &tbs_der).map_err(|source| PkiError::Signer {
            what: what(),
            source,
        })?;
        let list = CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: algorithm,
            signature: der::asn1::BitString::from_bytes(&signature)
                .map_err(|e| PkiError::encode(what(), e))?,
        };
        let der = list.to_der().map_err(|e| PkiError::encode(what(), e))?;
        Crl::from_der(&der)
    }

    /// Write a CRL issued at `now` to `crl.pem` and `crl.der` in the CA directory (each
    /// written atomically) and return it.
    pub fn publish_crl(&self, now: OffsetDateTime) -> Result<Crl> {
        let crl = self.crl(now)?;
        write_atomic(&self.dir.join(CRL_DER_FILE), crl.to_der(), false)?;
        write_atomic(&self.dir.join(CRL_PEM_FILE), crl.to_pem().as_bytes(), false)?;
        Ok(crl)
    }

    /// A trust store holding this CA's root and a CRL issued at `now`.
    pub fn trust_store(&self, now: OffsetDateTime) -> Result<TrustStore> {
        let mut trust = TrustStore::new();
        trust.add_root(self.root().clone())?;
        trust.add_crl(self.crl(now)?);
        Ok(trust)
    }

    fn issue_all(
        &mut self,
        requests: &[(&Subject, KeyPurpose, &PublicKey, Option<String>)],
        now: OffsetDateTime,
    ) -> Result<Vec<Certificate>> {
        let now = x509::whole_seconds(now);
        let root = self.root().clone();
        if !root.is_valid_at(now) {
            return Err(PkiError::CannotIssue {
                suite: self.suite,
                reason: format!(
                    "the test root is valid from {} to {}, not at {}",
                    crate::chain::fmt_time(root.not_before()),
                    crate::chain::fmt_time(root.not_after()),
                    crate::chain::fmt_time(now)
                ),
            });
        }
        let mut made = Vec::new();
        for (subject, purpose, key, renewal_of) in requests {
            if key.suite() != self.suite {
                return Err(PkiError::SuiteMismatch {
                    what: format!("the {purpose} certificate of {subject}"),
                    expected: self.suite,
                    actual: key.suite(),
                });
            }
            let cert = self.sign_holder_certificate(subject, *purpose, key, now)?;
            made.push(IssuedCertificate {
                serial: cert.serial_hex(),
                subject: (*subject).clone(),
                purpose: *purpose,
                not_before: cert.not_before(),
                not_after: cert.not_after(),
                renewal_of: renewal_of.clone(),
                certificate: cert,
            });
        }
        let _lock = DirLock::acquire(&self.dir.join(LOCK_FILE))?;
        self.reload()?;
        let before = self.state.issued.len();
        self.state.issued.extend(made.iter().cloned());
        if let Err(e) = self.save_state() {
            self.state.issued.truncate(before);
            return Err(e);
        }
        Ok(made.into_iter().map(|m| m.certificate).collect())
    }

    fn sign_holder_certificate(
        &self,
        subject: &Subject,
        purpose: KeyPurpose,
        key: &PublicKey,
        now: OffsetDateTime,
    ) -> Result<Certificate> {
        let spki = x509::spki_of(key)?;
        let ski = x509::key_identifier(&spki, self.suite);
        let root_spki = self
            .root()
            .x509()
            .tbs_certificate()
            .subject_public_key_info();
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(octets(&x509::key_identifier(root_spki, self.suite))?),
            ..Default::default()
        };
        let usage = match (purpose, self.suite) {
            // GM/T 0015 signing certificate.
            (KeyPurpose::Signing, _) => KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
            // GM/T 0015 encryption certificate: SM2 public-key encryption.
            (KeyPurpose::Encryption, Suite::Gm) => {
                KeyUsages::KeyEncipherment | KeyUsages::DataEncipherment
            }
            // NIST: key wrapping is ECIES-style (ECDH on P-256), hence keyAgreement too.
            (KeyPurpose::Encryption, Suite::Nist) => {
                KeyUsages::KeyEncipherment | KeyUsages::DataEncipherment | KeyUsages::KeyAgreement
            }
        };
        let extensions = vec![
            x509::extension(
                BasicConstraints::OID,
                false,
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
            )?,
            x509::extension(KeyUsage::OID, true, &KeyUsage(usage))?,
            x509::extension(SubjectKeyIdentifier::OID, false, &octets(&ski)?)?,
            x509::extension(AuthorityKeyIdentifier::OID, false, &aki)?,
        ];
        let template = CertificateTemplate {
            serial: x509::random_serial()?,
            issuer: self.root().x509().tbs_certificate().subject().clone(),
            subject: subject.to_name()?,
            not_before: now,
            not_after: now + END_ENTITY_VALIDITY,
            subject_key: key.clone(),
            extensions,
        };
        x509::sign_certificate(template, &self.key)
    }

    /// Re-read `ca.json` (the caller holds the lock).
    fn reload(&mut self) -> Result<()> {
        let (key, state) = load_state(&self.dir.join(STATE_FILE), self.suite)?;
        if state.root != self.state.root {
            return Err(PkiError::CorruptState {
                path: self.dir.join(STATE_FILE),
                reason: "the root certificate changed while the CA was open".into(),
            });
        }
        self.key = key;
        self.state = state;
        Ok(())
    }

    /// Write `ca.json` atomically (the caller holds the lock).
    fn save_state(&self) -> Result<()> {
        let path = self.dir.join(STATE_FILE);
        let json = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| PkiError::encode(path.display().to_string(), e))?;
        write_atomic(&path, &json, true)
    }

    /// Write `root.pem` when it is missing or differs from the state, and the CRL files;
    /// with `force` the CRL is always rewritten, otherwise only when missing.
    fn write_derived_files(&self, now: OffsetDateTime, force: bool) -> Result<()> {
        let root_path = self.root_path();
        let pem = self.root().to_pem();
        if fs::read_to_string(&root_path).ok().as_deref() != Some(pem.as_str()) {
            write_atomic(&root_path, pem.as_bytes(), false)?;
        }
        if force || !self.crl_path().exists() || !self.dir.join(CRL_DER_FILE).exists() {
            self.publish_crl(now)?;
        }
        Ok(())
    }
}

fn octets(bytes: &[u8]) -> Result<OctetString> {
    OctetString::new(bytes).map_err(|e| PkiError::encode("a key identifier", e))
}

use const_oid::AssociatedOid as _;

/// Read and check `ca.json`.
fn load_state(path: &Path, suite: Suite) -> Result<(PrivateKey, State)> {
    let corrupt = |reason: String| PkiError::CorruptState {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = fs::read(path).map_err(|e| PkiError::io("read", path, e))?;
    let state: State =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not CA state JSON: {e}")))?;
    if state.format != STATE_FORMAT {
        return Err(corrupt(format!(
            "state format {} (this Bidkit reads format {STATE_FORMAT})",
            state.format
        )));
    }
    if state.suite != suite {
        return Err(corrupt(format!(
            "it is a {} CA, but a {suite} CA was asked for",
            state.suite
        )));
    }
    let scalar = zeroize::Zeroizing::new(
        hex::decode(&state.root_key).map_err(|e| corrupt(format!("root key: {e}")))?,
    );
    let key =
        PrivateKey::from_bytes(suite, &scalar).map_err(|e| corrupt(format!("root key: {e}")))?;
    let root_key = state
        .root
        .public_key()
        .map_err(|e| corrupt(format!("root certificate: {e}")))?;
    if root_key != key.public_key() {
        return Err(corrupt(
            "the root key does not match the root certificate".into(),
        ));
    }
    Ok((key, state))
}
