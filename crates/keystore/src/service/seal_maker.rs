//! The emulated seal maker (制章系统): the platform's key that signs seal records
//! (GB/T 38540-2020 `SESeal`), with a signing certificate issued by the emulated CA.
//!
//! One maker per suite, made on first use and replaced (new key, new certificate) when
//! its certificate is no longer valid; old seal records keep the certificate they were
//! made with and verify against the root at the time they were made. The key is kept
//! in `seal_makers` **unencrypted** — platform material of a test platform, like the
//! emulated root's key in `$home/ca/<suite>/ca.json`; a real maker keeps it in an HSM.
//!
//! The maker's certificate is an organisation certificate for purpose
//! [`KeyPurpose::Signing`] (`digitalSignature, nonRepudiation`), subject
//! `O = CN = Bidkit 模拟制章系统 (GM|NIST)`, `organizationIdentifier` [`MAKER_ID`].

use bidkit_crypto::{PrivateKey, Suite};
use bidkit_pki::{Certificate, CertificateAuthority, KeyPurpose, Subject, TrustStore};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::Service;
use crate::ca::ca_dir;
use crate::db::ts;
use crate::{KeystoreError, Result};

/// The identifier in the maker certificate's subject (not a real credit code: the
/// maker is part of the emulated platform).
pub const MAKER_ID: &str = "BIDKIT-EMULATED-SEAL-MAKER";

/// The emulated seal maker of one suite.
pub(crate) struct SealMaker {
    pub(crate) key: PrivateKey,
    pub(crate) cert: Certificate,
}

/// The maker's subject.
fn maker_subject(suite: Suite) -> Subject {
    Subject::Organisation {
        name: format!(
            "Bidkit 模拟制章系统 ({})",
            suite.as_str().to_ascii_uppercase()
        ),
        uscc: MAKER_ID.to_owned(),
    }
}

impl Service {
    /// The seal maker's certificate of `suite`, made (key generated, certificate issued
    /// by the emulated CA) if there is none valid at `now`.
    pub fn seal_maker_certificate(&self, suite: Suite, now: OffsetDateTime) -> Result<Certificate> {
        self.db
            .write(|tx| Ok(seal_maker(tx, &self.home, suite, now)?.cert))
    }

    /// The trust store seal records of `suite` are checked against: the emulated root
    /// of that suite and its current CRL. Fails if that CA does not exist yet (then no
    /// seal record of the suite exists either).
    pub fn seal_trust(&self, suite: Suite, now: OffsetDateTime) -> Result<TrustStore> {
        let ca = CertificateAuthority::open(&ca_dir(&self.home, suite), suite)?;
        Ok(ca.trust_store(now)?)
    }
}

/// The maker of `suite` valid at `now`, making a new one if needed. Call inside a write
/// transaction so two processes do not make two makers.
pub(crate) fn seal_maker(
    c: &Connection,
    home: &std::path::Path,
    suite: Suite,
    now: OffsetDateTime,
) -> Result<SealMaker> {
    let row: Option<(Vec<u8>, Vec<u8>)> = c
        .query_row(
            "SELECT key, cert FROM seal_makers WHERE suite = ?1",
            [suite.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((key, cert)) = row {
        let key = Zeroizing::new(key);
        let cert = Certificate::from_der(&cert)?;
        let key = PrivateKey::from_bytes(suite, &key).map_err(|e| {
            KeystoreError::corrupt("seal maker", format!("unusable {suite} key: {e}"))
        })?;
        if cert.is_valid_at(now) && cert.public_key()? == key.public_key() {
            return Ok(SealMaker { key, cert });
        }
    }
    let key = PrivateKey::generate(suite)?;
    let mut ca = CertificateAuthority::open_or_create(&ca_dir(home, suite), suite, now)?;
    let cert = ca.issue(
        &maker_subject(suite),
        KeyPurpose::Signing,
        &key.public_key(),
        now,
    )?;
    let bytes = key.to_bytes();
    c.execute(
        "INSERT OR REPLACE INTO seal_makers (suite, key, cert, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![suite.as_str(), bytes.as_slice(), cert.to_der(), ts(now)],
    )?;
    Ok(SealMaker { key, cert })
}
