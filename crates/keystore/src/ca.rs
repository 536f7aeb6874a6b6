//! The one place the emulation talks to the emulated CA (`bidkit-pki`), whose state for a
//! home lives in `$home/ca/<suite>`.

use std::path::{Path, PathBuf};

use bidkit_crypto::{PublicKey, Suite};
use bidkit_pki::{Certificate, CertificateAuthority, DualCertificates, RevocationReason, Subject};
use time::OffsetDateTime;

use crate::Result;

/// The CA directory of `suite` under `home`.
pub(crate) fn ca_dir(home: &Path, suite: Suite) -> PathBuf {
    home.join("ca").join(suite.as_str())
}

/// Issue a holder's dual certificates for two keys generated on the phone.
pub(crate) fn issue_dual(
    home: &Path,
    suite: Suite,
    subject: &Subject,
    signing: &PublicKey,
    encryption: &PublicKey,
    now: OffsetDateTime,
) -> Result<DualCertificates> {
    let mut ca = CertificateAuthority::open_or_create(&ca_dir(home, suite), suite, now)?;
    Ok(ca.issue_dual(subject, signing, encryption, now)?)
}

/// Renew both certificates of a pair for new keys (new serials, one year from `now`).
pub(crate) fn renew_dual(
    home: &Path,
    suite: Suite,
    old_signing: &Certificate,
    old_encryption: &Certificate,
    signing: &PublicKey,
    encryption: &PublicKey,
    now: OffsetDateTime,
) -> Result<DualCertificates> {
    let mut ca = CertificateAuthority::open_or_create(&ca_dir(home, suite), suite, now)?;
    let signing = ca.renew(old_signing, signing, now)?;
    let encryption = ca.renew(old_encryption, encryption, now)?;
    Ok(DualCertificates {
        signing,
        encryption,
    })
}

/// Revoke certificates replaced by a reissue (RFC 5280 `superseded`); already revoked
/// ones are left as they are.
pub(crate) fn revoke_superseded(
    home: &Path,
    suite: Suite,
    serials: &[&str],
    now: OffsetDateTime,
) -> Result<()> {
    let mut ca = CertificateAuthority::open_or_create(&ca_dir(home, suite), suite, now)?;
    for serial in serials {
        if ca.is_revoked(serial).is_none() {
            ca.revoke(serial, RevocationReason::Superseded, now)?;
        }
    }
    Ok(())
}
