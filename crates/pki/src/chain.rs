//! Certificate path validation (RFC 5280 §6, reduced to Bidkit's needs) and the trust
//! store it runs against.
//!
//! For each certificate from the leaf up to a trusted root the checks are: the issuer is
//! found by name (§6.1.3 (a)(4)) and its signature verifies (§6.1.3 (a)(1)); the
//! certificate is within its validity period (§6.1.3 (a)(2)); it is not on its issuer's
//! CRL (§6.1.3 (a)(3), CRLs in the trust store); every issuer is a CA with keyCertSign
//! (§6.1.4 (k), (n)) whose pathLenConstraint is respected (§6.1.4 (l), (m)); unknown critical extensions are rejected (§6.1.4 (o)); and, when a
//! purpose is asked, the leaf's keyUsage allows it (§4.2.1.3). CRL freshness
//! (`nextUpdate`) is not enforced: the emulated CA republishes on every revocation.

use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_cert::ext::pkix::KeyUsages;

use crate::cert::{Certificate, KeyPurpose};
use crate::crl::{Crl, RevocationReason};
use crate::{PkiError, Result};

/// Longest path accepted (leaf, intermediates, root).
const MAX_PATH_LEN: usize = 8;

/// Extensions Bidkit understands, so they may be critical (RFC 5280 §4.2).
const KNOWN_EXTENSIONS: [&str; 8] = [
    "2.5.29.19", // basicConstraints
    "2.5.29.15", // keyUsage
    "2.5.29.37", // extendedKeyUsage
    "2.5.29.14", // subjectKeyIdentifier
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.17", // subjectAltName
    "2.5.29.32", // certificatePolicies
    "2.5.29.31", // cRLDistributionPoints
];

/// Format a time for people: RFC 3339 in UTC, whole seconds (`2026-05-01T08:00:00Z`).
pub fn fmt_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Why a certificate is not acceptable. Each message names the certificate (serial and
/// subject) and says what to do about it where that is clear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The certificate's validity ended before `now`.
    #[error("certificate {serial} ({subject}) expired on {}; renew it", fmt_time(*not_after))]
    Expired {
        /// Serial of the expired certificate.
        serial: String,
        /// Its subject.
        subject: String,
        /// End of its validity.
        not_after: OffsetDateTime,
    },
    /// The certificate's validity starts after `now`.
    #[error("certificate {serial} ({subject}) is not valid before {} (check the computer's clock)", fmt_time(*not_before))]
    NotYetValid {
        /// Serial of the certificate.
        serial: String,
        /// Its subject.
        subject: String,
        /// Start of its validity.
        not_before: OffsetDateTime,
    },
    /// The certificate is on its issuer's CRL.
    #[error("certificate {serial} ({subject}) was revoked on {} (reason: {reason})", fmt_time(*revoked_at))]
    Revoked {
        /// Serial of the revoked certificate.
        serial: String,
        /// Its subject.
        subject: String,
        /// The reason on the CRL.
        reason: RevocationReason,
        /// The revocation date on the CRL.
        revoked_at: OffsetDateTime,
    },
    /// The certificate's key usage does not allow the purpose asked for (e.g. an
    /// encryption certificate used to verify a signature).
    #[error(
        "certificate {serial} ({subject}) is not a {expected} certificate: its key usage is {found}"
    )]
    WrongUsage {
        /// Serial of the certificate.
        serial: String,
        /// Its subject.
        subject: String,
        /// The purpose asked for.
        expected: KeyPurpose,
        /// The key usage found.
        found: String,
    },
    /// No trusted root or given intermediate has the issuer's name.
    #[error("certificate {serial} was issued by {issuer}, which is not a trusted CA")]
    UnknownIssuer {
        /// Serial of the certificate whose issuer is unknown.
        serial: String,
        /// The issuer name.
        issuer: String,
    },
    /// The issuer was found but the signature does not verify: the certificate was
    /// altered or was not signed by that CA.
    #[error(
        "certificate {serial} ({subject}) has a bad signature: it was altered or not signed by {issuer}"
    )]
    BadSignature {
        /// Serial of the certificate.
        serial: String,
        /// Its subject.
        subject: String,
        /// The issuer whose key did not verify it.
        issuer: String,
    },
    /// A certificate that issued another one is not a CA.
    #[error("certificate {serial} ({subject}) issued another certificate but is not a CA")]
    NotCa {
        /// Serial of the non-CA issuer.
        serial: String,
        /// Its subject.
        subject: String,
    },
    /// A CRL in the trust store for this issuer does not verify.
    #[error("the CRL of {issuer} does not verify: {reason}")]
    BadCrl {
        /// The CRL's issuer.
        issuer: String,
        /// What is wrong.
        reason: String,
    },
    /// The path cannot be checked: unsupported algorithm, unknown critical extension,
    /// path too long, unreadable key.
    #[error("certificate path cannot be checked: {0}")]
    Malformed(String),
}

/// A successfully validated path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedChain {
    /// Never empty: built only by [`verify_chain`].
    certificates: Vec<Certificate>,
}

impl VerifiedChain {
    /// The path from the certificate checked (first) to the trusted root (last).
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The certificate that was checked.
    pub fn leaf(&self) -> &Certificate {
        &self.certificates[0]
    }

    /// The trusted root the path ends at.
    pub fn root(&self) -> &Certificate {
        &self.certificates[self.certificates.len() - 1]
    }
}

/// Trusted roots and the CRLs to check revocation against.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    roots: Vec<Certificate>,
    crls: Vec<Crl>,
}

impl TrustStore {
    /// An empty store (nothing is trusted).
    pub fn new() -> Self {
        Self::default()
    }

    /// Trust `root`. It must be a self-signed CA certificate whose signature verifies.
    pub fn add_root(&mut self, root: Certificate) -> Result<()> {
        if !root.is_ca() || !root.is_self_issued() {
            return Err(PkiError::parse(
                format!("trusted root {}", root.serial_hex()),
                "not a self-signed CA certificate",
            ));
        }
        root.verify_signature(&root)?;
        if !self.roots.contains(&root) {
            self.roots.push(root);
        }
        Ok(())
    }

    /// Use `crl` for revocation checks. Its signature is checked when a path uses it; a
    /// newer CRL of the same issuer replaces an older one.
    pub fn add_crl(&mut self, crl: Crl) {
        if let Some(pos) = self
            .crls
            .iter()
            .position(|c| c.issuer_name() == crl.issuer_name())
        {
            if self.crls[pos].this_update() <= crl.this_update() {
                self.crls[pos] = crl;
            }
        } else {
            self.crls.push(crl);
        }
    }

    /// The trusted roots.
    pub fn roots(&self) -> &[Certificate] {
        &self.roots
    }

    /// The CRLs.
    pub fn crls(&self) -> &[Crl] {
        &self.crls
    }
}

/// Validate `cert` at `now` against `trust`, using `intermediates` to build the path,
/// and, when `purpose` is given, check that the certificate is for that purpose.
pub fn verify_chain(
    cert: &Certificate,
    intermediates: &[Certificate],
    trust: &TrustStore,
    now: OffsetDateTime,
    purpose: Option<KeyPurpose>,
) -> std::result::Result<VerifiedChain, ChainError> {
    let path = build_path(cert, intermediates, trust)?;
    // Validity, revocation and critical extensions, leaf first.
    for (i, c) in path.iter().enumerate() {
        check_critical_extensions(c)?;
        if now > c.not_after() {
            return Err(ChainError::Expired {
                serial: c.serial_hex(),
                subject: c.subject_display(),
                not_after: c.not_after(),
            });
        }
        if now < c.not_before() {
            return Err(ChainError::NotYetValid {
                serial: c.serial_hex(),
                subject: c.subject_display(),
                not_before: c.not_before(),
            });
        }
        if let Some(issuer) = path.get(i + 1) {
            check_revocation(c, issuer, trust)?;
            check_is_ca(issuer)?;
            check_path_len(issuer, i)?;
        }
    }
    if let Some(purpose) = purpose {
        check_purpose(cert, purpose)?;
    }
    Ok(VerifiedChain { certificates: path })
}

/// Chain by name and signature from `cert` to a trusted root.
fn build_path(
    cert: &Certificate,
    intermediates: &[Certificate],
    trust: &TrustStore,
) -> std::result::Result<Vec<Certificate>, ChainError> {
    let mut path = vec![cert.clone()];
    if trust.roots.contains(cert) {
        return Ok(path);
    }
    loop {
        let current = path[path.len() - 1].clone();
        if path.len() > MAX_PATH_LEN {
            return Err(ChainError::Malformed(format!(
                "more than {MAX_PATH_LEN} certificates above {}",
                cert.serial_hex()
            )));
        }
        let mut name_matched: Option<&Certificate> = None;
        // Trusted roots first, then the intermediates given.
        for (candidate, is_root) in trust
            .roots
            .iter()
            .map(|c| (c, true))
            .chain(intermediates.iter().map(|c| (c, false)))
        {
            if !candidate.issued(&current) || candidate == &current || path.contains(candidate) {
                continue;
            }
            name_matched.get_or_insert(candidate);
            if current.verify_signature(candidate).is_ok() {
                path.push(candidate.clone());
                if is_root {
                    return Ok(path);
                }
                name_matched = None;
                break;
            }
        }
        if path[path.len() - 1] == current {
            return Err(match name_matched {
                Some(issuer) => ChainError::BadSignature {
                    serial: current.serial_hex(),
                    subject: current.subject_display(),
                    issuer: issuer.subject_display(),
                },
                None => ChainError::UnknownIssuer {
                    serial: current.serial_hex(),
                    issuer: current.issuer_display(),
                },
            });
        }
    }
}

fn check_revocation(
    cert: &Certificate,
    issuer: &Certificate,
    trust: &TrustStore,
) -> std::result::Result<(), ChainError> {
    let issuer_name = issuer.x509().tbs_certificate().subject();
    for crl in trust.crls.iter().filter(|c| c.issuer_name() == issuer_name) {
        crl.verify_signature(issuer)
            .map_err(|e| ChainError::BadCrl {
                issuer: issuer.subject_display(),
                reason: e.to_string(),
            })?;
        if let Some(r) = crl.find(&cert.serial_hex()) {
            return Err(ChainError::Revoked {
                serial: cert.serial_hex(),
                subject: cert.subject_display(),
                reason: r.reason,
                revoked_at: r.revoked_at,
            });
        }
    }
    Ok(())
}

fn check_is_ca(issuer: &Certificate) -> std::result::Result<(), ChainError> {
    let can_sign_certs = issuer
        .key_usage()
        .is_none_or(|bits| bits.contains(KeyUsages::KeyCertSign));
    if issuer.is_ca() && can_sign_certs {
        Ok(())
    } else {
        Err(ChainError::NotCa {
            serial: issuer.serial_hex(),
            subject: issuer.subject_display(),
        })
    }
}

/// RFC 5280 §4.2.1.9 / §6.1.4 (l), (m): `pathLenConstraint` limits how many
/// intermediate CA certificates may follow `issuer`; `below` is the number of
/// certificates between it and the leaf (the leaf itself not counted).
fn check_path_len(issuer: &Certificate, below: usize) -> std::result::Result<(), ChainError> {
    let max = match issuer
        .x509()
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
    {
        Ok(Some((_, bc))) => bc.path_len_constraint,
        _ => None,
    };
    if let Some(max) = max
        && below > usize::from(max)
    {
        return Err(ChainError::Malformed(format!(
            "CA certificate {} allows {max} intermediate CA certificate(s) below it, the path has {below}",
            issuer.serial_hex()
        )));
    }
    Ok(())
}

fn check_purpose(cert: &Certificate, purpose: KeyPurpose) -> std::result::Result<(), ChainError> {
    let wrong = || ChainError::WrongUsage {
        serial: cert.serial_hex(),
        subject: cert.subject_display(),
        expected: purpose,
        found: if cert.is_ca() {
            format!("{} (a CA certificate)", cert.key_usage_display())
        } else {
            cert.key_usage_display()
        },
    };
    // Bidkit's holder certificates always carry keyUsage (GM/T 0015 requires it), so a
    // certificate without one is not accepted for a specific purpose.
    let bits = cert.key_usage().ok_or_else(wrong)?;
    if cert.is_ca() {
        return Err(wrong());
    }
    let allowed = match purpose {
        KeyPurpose::Signing => {
            bits.contains(KeyUsages::DigitalSignature) || bits.contains(KeyUsages::NonRepudiation)
        }
        KeyPurpose::Encryption => {
            bits.contains(KeyUsages::KeyEncipherment) || bits.contains(KeyUsages::KeyAgreement)
        }
    };
    if allowed { Ok(()) } else { Err(wrong()) }
}

fn check_critical_extensions(cert: &Certificate) -> std::result::Result<(), ChainError> {
    for ext in cert
        .x509()
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
    {
        if ext.critical && !KNOWN_EXTENSIONS.contains(&ext.extn_id.to_string().as_str()) {
            return Err(ChainError::Malformed(format!(
                "certificate {} has an unknown critical extension {}",
                cert.serial_hex(),
                ext.extn_id
            )));
        }
    }
    Ok(())
}

impl fmt::Display for VerifiedChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .certificates
            .iter()
            .map(|c| format!("{} [{}]", c.subject_display(), c.serial_hex()))
            .collect();
        f.write_str(&names.join(" ← "))
    }
}

#[cfg(test)]
mod tests {
    //! Paths the CA itself never builds: intermediates, non-CA issuers, path length.

    use bidkit_crypto::{PrivateKey, Suite};
    use der::asn1::OctetString;
    use time::macros::datetime;
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
    use x509_cert::name::Name;

    use super::*;
    use crate::subject::{OID_CN, build_name, utf8};
    use crate::x509::{self, CertificateTemplate};

    const T0: OffsetDateTime = datetime!(2026-03-01 08:00:00 UTC);

    fn name(cn: &str) -> Name {
        build_name(&[(OID_CN, utf8(cn).unwrap())]).unwrap()
    }

    fn cert(
        issuer: &str,
        issuer_key: &PrivateKey,
        subject: &str,
        subject_key: &PrivateKey,
        ca: Option<Option<u8>>,
    ) -> Certificate {
        let usage = if ca.is_some() {
            KeyUsages::KeyCertSign | KeyUsages::CRLSign
        } else {
            KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
        };
        let extensions = vec![
            x509::extension(
                BasicConstraints::OID,
                true,
                &BasicConstraints {
                    ca: ca.is_some(),
                    path_len_constraint: ca.flatten(),
                },
            )
            .unwrap(),
            x509::extension(KeyUsage::OID, true, &KeyUsage(usage)).unwrap(),
        ];
        let template = CertificateTemplate {
            serial: x509::random_serial().unwrap(),
            issuer: name(issuer),
            subject: name(subject),
            not_before: T0,
            not_after: T0 + time::Duration::days(30),
            subject_key: subject_key.public_key(),
            extensions,
        };
        x509::sign_certificate(template, issuer_key).unwrap()
    }

    use const_oid::AssociatedOid as _;

    fn keys(suite: Suite) -> [PrivateKey; 3] {
        ["root", "mid", "leaf"].map(|l| PrivateKey::for_tests(suite, l))
    }

    #[test]
    fn a_path_through_an_intermediate_verifies() {
        for suite in Suite::ALL {
            let [rk, mk, lk] = keys(suite);
            let root = cert("Root", &rk, "Root", &rk, Some(None));
            let mid = cert("Root", &rk, "Mid", &mk, Some(Some(0)));
            let leaf = cert("Mid", &mk, "Leaf", &lk, None);
            let mut trust = TrustStore::new();
            trust.add_root(root.clone()).unwrap();
            let chain = verify_chain(
                &leaf,
                std::slice::from_ref(&mid),
                &trust,
                T0,
                Some(KeyPurpose::Signing),
            )
            .unwrap();
            assert_eq!(
                chain.certificates(),
                &[leaf.clone(), mid.clone(), root.clone()]
            );
            // Without the intermediate the issuer is unknown.
            let err = verify_chain(&leaf, &[], &trust, T0, None).unwrap_err();
            assert!(
                matches!(err, ChainError::UnknownIssuer { ref issuer, .. } if issuer == "CN=Mid")
            );
        }
    }

    #[test]
    fn a_non_ca_issuer_is_refused() {
        let [rk, mk, lk] = keys(Suite::Gm);
        let root = cert("Root", &rk, "Root", &rk, Some(None));
        let holder = cert("Root", &rk, "Holder", &mk, None);
        let forged = cert("Holder", &mk, "Leaf", &lk, None);
        let mut trust = TrustStore::new();
        trust.add_root(root).unwrap();
        let err =
            verify_chain(&forged, std::slice::from_ref(&holder), &trust, T0, None).unwrap_err();
        assert_eq!(
            err,
            ChainError::NotCa {
                serial: holder.serial_hex(),
                subject: "CN=Holder".into(),
            }
        );
    }

    #[test]
    fn path_length_constraints_are_enforced() {
        let [rk, mk, lk] = keys(Suite::Nist);
        let root = cert("Root", &rk, "Root", &rk, Some(Some(0)));
        let mid = cert("Root", &rk, "Mid", &mk, Some(None));
        let leaf = cert("Mid", &mk, "Leaf", &lk, None);
        let mut trust = TrustStore::new();
        trust.add_root(root).unwrap();
        let err = verify_chain(&leaf, &[mid], &trust, T0, None).unwrap_err();
        assert!(
            matches!(err, ChainError::Malformed(ref m) if m.contains("allows 0")),
            "{err}"
        );
    }

    #[test]
    fn unknown_critical_extensions_are_refused() {
        let [rk, _, lk] = keys(Suite::Gm);
        let root = cert("Root", &rk, "Root", &rk, Some(None));
        let template = CertificateTemplate {
            serial: x509::random_serial().unwrap(),
            issuer: name("Root"),
            subject: name("Leaf"),
            not_before: T0,
            not_after: T0 + time::Duration::days(30),
            subject_key: lk.public_key(),
            extensions: vec![
                x509::extension(
                    spki::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
                    true,
                    &OctetString::new(vec![1u8]).unwrap(),
                )
                .unwrap(),
            ],
        };
        let leaf = x509::sign_certificate(template, &rk).unwrap();
        let mut trust = TrustStore::new();
        trust.add_root(root).unwrap();
        let err = verify_chain(&leaf, &[], &trust, T0, None).unwrap_err();
        assert!(
            matches!(err, ChainError::Malformed(ref m) if m.contains("unknown critical extension")),
            "{err}"
        );
    }
}
