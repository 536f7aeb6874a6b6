//! Parsed certificates and the two purposes of Bidkit's dual certificates.

use std::fmt;

use bidkit_crypto::{PublicKey, Suite};
use der::{Decode, DecodePem, EncodePem};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use crate::subject::{Subject, display_name};
use crate::x509::{self, time_to_offset};
use crate::{PkiError, Result};

/// What a holder certificate's key is for (Chinese dual-certificate practice).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyPurpose {
    /// Signing certificate (签名证书): keyUsage `digitalSignature, nonRepudiation`.
    Signing,
    /// Encryption certificate (加密证书): keyUsage `keyEncipherment, dataEncipherment`
    /// (plus `keyAgreement` in the NIST suite, whose key wrapping is ECDH-based).
    Encryption,
}

impl KeyPurpose {
    /// Both purposes, signing first.
    pub const ALL: [KeyPurpose; 2] = [KeyPurpose::Signing, KeyPurpose::Encryption];

    /// Lowercase name as used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Signing => "signing",
            KeyPurpose::Encryption => "encryption",
        }
    }
}

impl fmt::Display for KeyPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for KeyPurpose {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "signing" | "sign" | "signature" => Ok(KeyPurpose::Signing),
            "encryption" | "encrypt" | "enc" => Ok(KeyPurpose::Encryption),
            _ => Err(format!(
                "unknown key purpose {s:?}: expected \"signing\" or \"encryption\""
            )),
        }
    }
}

/// An X.509 certificate: its DER bytes and their parsed form.
///
/// Constructed only from well-formed DER whose key is an SM2 or P-256 key, so the
/// accessors below cannot fail except where they say so.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
    suite: Suite,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Certificate {
    /// Parse a DER certificate.
    ///
    /// Fails if it is not DER X.509, if its times cannot be read, or if its key is
    /// neither SM2 nor P-256.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let parsed = x509_cert::Certificate::from_der(der)
            .map_err(|e| PkiError::parse("certificate (DER)", e))?;
        let serial = x509::serial_hex(parsed.tbs_certificate().serial_number());
        let spki = parsed.tbs_certificate().subject_public_key_info();
        let suite = x509::suite_of_spki(spki).map_err(|reason| PkiError::Unsupported {
            what: format!("certificate {serial}"),
            reason,
        })?;
        let validity = parsed.tbs_certificate().validity();
        let not_before = time_to_offset(validity.not_before)
            .ok_or_else(|| PkiError::parse(format!("certificate {serial}"), "bad notBefore"))?;
        let not_after = time_to_offset(validity.not_after)
            .ok_or_else(|| PkiError::parse(format!("certificate {serial}"), "bad notAfter"))?;
        Ok(Certificate {
            der: der.to_vec(),
            parsed,
            suite,
            not_before,
            not_after,
        })
    }

    /// Parse a PEM certificate (`-----BEGIN CERTIFICATE-----`). Only the first
    /// certificate of a bundle is read.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let first = first_pem_block(pem, "CERTIFICATE")
            .ok_or_else(|| PkiError::parse("certificate (PEM)", "no CERTIFICATE block"))?;
        let parsed = x509_cert::Certificate::from_pem(first.as_bytes())
            .map_err(|e| PkiError::parse("certificate (PEM)", e))?;
        let der = der::Encode::to_der(&parsed).map_err(|e| PkiError::parse("certificate", e))?;
        Self::from_der(&der)
    }

    /// Parse every certificate in a PEM bundle, in order.
    pub fn all_from_pem(pem: &str) -> Result<Vec<Self>> {
        let certs = x509_cert::Certificate::load_pem_chain(pem.as_bytes())
            .map_err(|e| PkiError::parse("certificate bundle (PEM)", e))?;
        certs
            .iter()
            .map(|c| {
                let der = der::Encode::to_der(c).map_err(|e| PkiError::parse("certificate", e))?;
                Self::from_der(&der)
            })
            .collect()
    }

    /// The DER encoding, exactly as issued.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// PEM encoding (`CERTIFICATE`, LF line endings).
    pub fn to_pem(&self) -> String {
        self.parsed
            .to_pem(der::pem::LineEnding::LF)
            .unwrap_or_default()
    }

    /// The parsed certificate, for callers that need fields not surfaced here.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.parsed
    }

    /// The serial number as lowercase hex without leading zero bytes (the form the CLI
    /// and the CRL use).
    pub fn serial_hex(&self) -> String {
        x509::serial_hex(self.parsed.tbs_certificate().serial_number())
    }

    /// The holder (person or organisation) named in the subject.
    ///
    /// Fails for a certificate whose subject has no ID number or credit code, such as
    /// the root.
    pub fn subject(&self) -> Result<Subject> {
        Subject::from_name(self.parsed.tbs_certificate().subject()).map_err(|reason| {
            PkiError::NotAHolderSubject {
                serial: self.serial_hex(),
                subject: self.subject_display(),
                reason,
            }
        })
    }

    /// The subject name for people (`C=CN, CN=张三, serialNumber=…`).
    pub fn subject_display(&self) -> String {
        display_name(self.parsed.tbs_certificate().subject())
    }

    /// The issuer name for people.
    pub fn issuer_display(&self) -> String {
        display_name(self.parsed.tbs_certificate().issuer())
    }

    /// Start of the validity period (inclusive, RFC 5280 §4.1.2.5).
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of the validity period (inclusive, RFC 5280 §4.1.2.5).
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Whether `now` lies within the validity period.
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// The subject public key.
    pub fn public_key(&self) -> Result<PublicKey> {
        let der = der::Encode::to_der(self.parsed.tbs_certificate().subject_public_key_info())
            .map_err(|e| PkiError::parse(format!("certificate {} key", self.serial_hex()), e))?;
        Ok(PublicKey::from_spki_der(&der)?)
    }

    /// The suite of the subject key (SM2 → GM, P-256 → NIST).
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Signing or encryption, read from the key usage bits; `None` for a CA certificate
    /// or one without a key usage extension.
    pub fn purpose(&self) -> Option<KeyPurpose> {
        if self.is_ca() {
            return None;
        }
        let usage = self.key_usage()?;
        if usage.contains(KeyUsages::KeyEncipherment)
            || usage.contains(KeyUsages::DataEncipherment)
            || usage.contains(KeyUsages::KeyAgreement)
        {
            Some(KeyPurpose::Encryption)
        } else if usage.contains(KeyUsages::DigitalSignature)
            || usage.contains(KeyUsages::NonRepudiation)
        {
            Some(KeyPurpose::Signing)
        } else {
            None
        }
    }

    /// Whether basicConstraints says `CA:TRUE`.
    pub fn is_ca(&self) -> bool {
        matches!(
            self.parsed
                .tbs_certificate()
                .get_extension::<BasicConstraints>(),
            Ok(Some((_, BasicConstraints { ca: true, .. })))
        )
    }

    /// The key usage bits, if the extension is present and well formed.
    pub(crate) fn key_usage(&self) -> Option<der::flagset::FlagSet<KeyUsages>> {
        match self.parsed.tbs_certificate().get_extension::<KeyUsage>() {
            Ok(Some((_, ku))) => Some(ku.0),
            _ => None,
        }
    }

    /// The key usage bits as OpenSSL names them (`digitalSignature, nonRepudiation`),
    /// or `no keyUsage extension`.
    pub fn key_usage_display(&self) -> String {
        match self.key_usage() {
            Some(bits) => x509::key_usage_names(bits),
            None => "no keyUsage extension".into(),
        }
    }

    /// Fingerprint: the suite's hash (SM3 for GM, SHA-256 for NIST) of the DER, lowercase
    /// hex.
    pub fn fingerprint(&self) -> String {
        hex::encode(self.suite.hash().digest(&self.der))
    }

    /// Whether this certificate's subject equals `other`'s issuer (name chaining,
    /// RFC 5280 §6.1.3 (a)(4)).
    pub(crate) fn issued(&self, other: &Certificate) -> bool {
        self.parsed.tbs_certificate().subject() == other.parsed.tbs_certificate().issuer()
    }

    /// Whether subject and issuer names are equal.
    pub fn is_self_issued(&self) -> bool {
        self.issued(self)
    }

    /// Check this certificate's signature with `issuer`'s public key.
    pub fn verify_signature(&self, issuer: &Certificate) -> Result<()> {
        let key = issuer.public_key()?;
        x509::verify_signed(
            &self.der,
            self.parsed.signature_algorithm(),
            self.parsed.signature().as_bytes(),
            &key,
        )
        .map_err(|reason| {
            PkiError::parse(
                format!("signature of certificate {}", self.serial_hex()),
                reason,
            )
        })
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("serial", &self.serial_hex())
            .field("subject", &self.subject_display())
            .field("issuer", &self.issuer_display())
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("suite", &self.suite)
            .finish()
    }
}

impl Serialize for Certificate {
    /// Serialised as its PEM text.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_pem())
    }
}

impl<'de> Deserialize<'de> for Certificate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let pem = String::deserialize(d)?;
        Certificate::from_pem(&pem).map_err(serde::de::Error::custom)
    }
}

/// A holder's pair of certificates, issued together (GM/T 0015 dual certificates).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DualCertificates {
    /// The signing certificate.
    pub signing: Certificate,
    /// The encryption certificate.
    pub encryption: Certificate,
}

/// The first PEM block with `label` in `text`, begin and end lines included.
pub(crate) fn first_pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(&text[start..stop])
}
