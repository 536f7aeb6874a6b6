//! Certificate revocation lists (X.509 v2 CRLs, RFC 5280 §5) and revocation reasons.

use std::fmt;

use der::{Decode, DecodePem, Encode, EncodePem};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlReason;

use crate::cert::{Certificate, first_pem_block};
use crate::subject::display_name;
use crate::x509::{self, time_to_offset};
use crate::{PkiError, Result};

/// Why a certificate was revoked: RFC 5280 §5.3.1 `CRLReason` (codes in brackets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RevocationReason {
    /// (0) No reason given. Written without a reasonCode entry extension, as RFC 5280
    /// §5.3.1 asks.
    Unspecified,
    /// (1) The private key is known or suspected to be compromised (e.g. a lost phone).
    KeyCompromise,
    /// (2) The CA's key is compromised.
    CaCompromise,
    /// (3) The holder's name or affiliation changed.
    AffiliationChanged,
    /// (4) Replaced by another certificate (renewal, reissue on a new device).
    Superseded,
    /// (5) No longer needed (the holder left, the organisation closed).
    CessationOfOperation,
    /// (6) Temporarily on hold.
    CertificateHold,
    /// (9) A privilege in the certificate was withdrawn.
    PrivilegeWithdrawn,
}

impl RevocationReason {
    /// Every reason, in code order.
    pub const ALL: [RevocationReason; 8] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn,
    ];

    /// The RFC 5280 `CRLReason` code.
    pub fn code(self) -> u32 {
        self.to_x509() as u32
    }

    /// Name as on the command line (`key-compromise` …).
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "key-compromise",
            RevocationReason::CaCompromise => "ca-compromise",
            RevocationReason::AffiliationChanged => "affiliation-changed",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation-of-operation",
            RevocationReason::CertificateHold => "certificate-hold",
            RevocationReason::PrivilegeWithdrawn => "privilege-withdrawn",
        }
    }

    pub(crate) fn to_x509(self) -> CrlReason {
        match self {
            RevocationReason::Unspecified => CrlReason::Unspecified,
            RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
            RevocationReason::CaCompromise => CrlReason::CaCompromise,
            RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
            RevocationReason::Superseded => CrlReason::Superseded,
            RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
            RevocationReason::CertificateHold => CrlReason::CertificateHold,
            RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
        }
    }

    pub(crate) fn from_x509(reason: CrlReason) -> Self {
        match reason {
            CrlReason::KeyCompromise => RevocationReason::KeyCompromise,
            CrlReason::CaCompromise | CrlReason::AaCompromise => RevocationReason::CaCompromise,
            CrlReason::AffiliationChanged => RevocationReason::AffiliationChanged,
            CrlReason::Superseded => RevocationReason::Superseded,
            CrlReason::CessationOfOperation => RevocationReason::CessationOfOperation,
            CrlReason::CertificateHold => RevocationReason::CertificateHold,
            CrlReason::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
            CrlReason::Unspecified | CrlReason::RemoveFromCRL => RevocationReason::Unspecified,
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RevocationReason {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        RevocationReason::ALL
            .into_iter()
            .find(|r| {
                r.as_str() == wanted
                    || r.as_str().replace('-', "") == wanted
                    || r.code().to_string() == wanted
            })
            .ok_or_else(|| {
                let names: Vec<&str> = RevocationReason::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "unknown revocation reason {s:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Serial of the revoked certificate (lowercase hex).
    pub serial: String,
    /// Why.
    pub reason: RevocationReason,
    /// When (the CRL's `revocationDate`).
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
}

/// A parsed CRL: DER bytes and their parsed form.
#[derive(Clone)]
pub struct Crl {
    der: Vec<u8>,
    parsed: CertificateList,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    revoked: Vec<Revocation>,
}

impl Crl {
    /// Parse a DER CRL.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let parsed = CertificateList::from_der(der).map_err(|e| PkiError::parse("CRL (DER)", e))?;
        let tbs = &parsed.tbs_cert_list;
        let this_update = time_to_offset(tbs.this_update)
            .ok_or_else(|| PkiError::parse("CRL", "bad thisUpdate"))?;
        let next_update = match tbs.next_update {
            Some(t) => {
                Some(time_to_offset(t).ok_or_else(|| PkiError::parse("CRL", "bad nextUpdate"))?)
            }
            None => None,
        };
        let mut revoked = Vec::new();
        for entry in tbs.revoked_certificates.iter().flatten() {
            let serial = x509::serial_hex(&entry.serial_number);
            let revoked_at = time_to_offset(entry.revocation_date).ok_or_else(|| {
                PkiError::parse("CRL", format!("bad revocationDate for {serial}"))
            })?;
            let mut reason = RevocationReason::Unspecified;
            for ext in entry.crl_entry_extensions.iter().flatten() {
                if ext.extn_id == <CrlReason as const_oid::AssociatedOid>::OID {
                    let code = CrlReason::from_der(ext.extn_value.as_bytes()).map_err(|e| {
                        PkiError::parse("CRL", format!("bad reasonCode for {serial}: {e}"))
                    })?;
                    reason = RevocationReason::from_x509(code);
                }
            }
            revoked.push(Revocation {
                serial,
                reason,
                revoked_at,
            });
        }
        Ok(Crl {
            der: der.to_vec(),
            parsed,
            this_update,
            next_update,
            revoked,
        })
    }

    /// Parse a PEM CRL (`-----BEGIN X509 CRL-----`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let block = first_pem_block(pem, "X509 CRL")
            .ok_or_else(|| PkiError::parse("CRL (PEM)", "no X509 CRL block"))?;
        let parsed = <CertificateList>::from_pem(block.as_bytes())
            .map_err(|e| PkiError::parse("CRL (PEM)", e))?;
        let der = parsed.to_der().map_err(|e| PkiError::parse("CRL", e))?;
        Self::from_der(&der)
    }

    /// The DER encoding.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// PEM encoding (`X509 CRL`, LF line endings).
    pub fn to_pem(&self) -> String {
        self.parsed
            .to_pem(der::pem::LineEnding::LF)
            .unwrap_or_default()
    }

    /// The issuer name for people.
    pub fn issuer_display(&self) -> String {
        display_name(&self.parsed.tbs_cert_list.issuer)
    }

    /// When this CRL was issued.
    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    /// When the next CRL is due (after which this one is stale).
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.next_update
    }

    /// The revoked certificates listed.
    pub fn revoked(&self) -> &[Revocation] {
        &self.revoked
    }

    /// The entry for `serial_hex` (any case, leading zeros ignored), if listed.
    pub fn find(&self, serial_hex: &str) -> Option<&Revocation> {
        let wanted = x509::normalise_serial(serial_hex).ok()?;
        self.revoked.iter().find(|r| r.serial == wanted)
    }

    /// The `cRLNumber` extension as hex, if present.
    pub fn number_hex(&self) -> Option<String> {
        let ext = self
            .parsed
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| {
                e.extn_id == <x509_cert::ext::pkix::CrlNumber as const_oid::AssociatedOid>::OID
            })?;
        let n = x509_cert::ext::pkix::CrlNumber::from_der(ext.extn_value.as_bytes()).ok()?;
        Some(hex::encode(n.0.as_bytes()))
    }

    /// Whether `issuer` issued this CRL: the names match and its signature verifies.
    pub fn verify_signature(&self, issuer: &Certificate) -> Result<()> {
        if issuer.x509().tbs_certificate().subject() != &self.parsed.tbs_cert_list.issuer {
            return Err(PkiError::parse(
                "CRL",
                format!(
                    "issued by {}, not by {}",
                    self.issuer_display(),
                    issuer.subject_display()
                ),
            ));
        }
        let key = issuer.public_key()?;
        x509::verify_signed(
            &self.der,
            &self.parsed.signature_algorithm,
            self.parsed.signature.as_bytes(),
            &key,
        )
        .map_err(|reason| PkiError::parse("CRL signature", reason))
    }

    pub(crate) fn issuer_name(&self) -> &x509_cert::name::Name {
        &self.parsed.tbs_cert_list.issuer
    }
}

impl PartialEq for Crl {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Crl {}

impl fmt::Debug for Crl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crl")
            .field("issuer", &self.issuer_display())
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("revoked", &self.revoked)
            .finish()
    }
}
