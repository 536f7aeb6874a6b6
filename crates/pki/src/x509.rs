//! Low-level X.509 plumbing: times, serials, algorithm identifiers, key identifiers,
//! signature checking, and certificate signing through any [`bidkit_crypto::Signer`].
//!
//! Certificates are assembled with x509-cert's `CertificateBuilder` (with our own
//! profile that returns exactly the extensions the CA chose) and signed by a small
//! adapter over `bidkit_crypto::Signer`: the builder produces the DER of the
//! TBSCertificate, the signer signs it (SM2 with the default id `1234567812345678`, or
//! ECDSA P-256 / SHA-256), and the builder assembles the certificate.

use std::time::Duration;

use bidkit_crypto::{PublicKey, SignatureAlgorithm, Signer, Suite};
use der::asn1::BitString;
use der::flagset::FlagSet;
use der::{DateTime, Decode, Encode, Reader, SliceReader};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey, ObjectIdentifier,
    SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef,
};
use time::OffsetDateTime;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::KeyUsages;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::cert::Certificate;
use crate::{PkiError, Result};

/// `id-ecPublicKey` (RFC 5480).
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The SM2 curve `sm2p256v1` (GM/T 0006).
const SM2_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
/// NIST P-256 (`prime256v1`).
const P256_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// Which suite a SubjectPublicKeyInfo belongs to (id-ecPublicKey + curve OID).
pub(crate) fn suite_of_spki(
    spki: &SubjectPublicKeyInfoOwned,
) -> std::result::Result<Suite, String> {
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(format!(
            "public key algorithm {} (expected id-ecPublicKey 1.2.840.10045.2.1)",
            spki.algorithm.oid
        ));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    match curve {
        Some(c) if c == SM2_CURVE => Ok(Suite::Gm),
        Some(c) if c == P256_CURVE => Ok(Suite::Nist),
        Some(c) => Err(format!("curve {c} (expected SM2 or P-256)")),
        None => Err("no named curve in the key parameters".into()),
    }
}

/// The AlgorithmIdentifier of a signature algorithm; parameters absent (RFC 5758 §3.2
/// for ECDSA; GM/T 0015 for SM2-with-SM3, as OpenSSL writes it).
pub(crate) fn signature_algorithm_id(alg: SignatureAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: match alg {
            SignatureAlgorithm::Sm2WithSm3 => ObjectIdentifier::new_unwrap("1.2.156.10197.1.501"),
            SignatureAlgorithm::EcdsaP256WithSha256 => {
                ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2")
            }
        },
        parameters: None,
    }
}

/// The signature algorithm named by an AlgorithmIdentifier, if it is one of ours.
pub(crate) fn signature_algorithm_of(id: &AlgorithmIdentifierOwned) -> Option<SignatureAlgorithm> {
    [
        SignatureAlgorithm::Sm2WithSm3,
        SignatureAlgorithm::EcdsaP256WithSha256,
    ]
    .into_iter()
    .find(|a| id.oid.to_string() == a.oid())
}

/// Verify the signature of a signed object (`SEQUENCE { tbs, algorithm, signature }`:
/// a certificate or a CRL) whose DER is `der`, over the exact bytes of its first element.
pub(crate) fn verify_signed(
    der: &[u8],
    algorithm: &AlgorithmIdentifierOwned,
    signature: Option<&[u8]>,
    key: &PublicKey,
) -> std::result::Result<(), String> {
    let alg = signature_algorithm_of(algorithm)
        .ok_or_else(|| format!("unsupported signature algorithm {}", algorithm.oid))?;
    if alg.suite() != key.suite() {
        return Err(format!(
            "signed with {alg} but the issuer has a {} key",
            key.suite()
        ));
    }
    let signature = signature.ok_or("the signature BIT STRING has unused bits")?;
    let tbs = first_element(der).map_err(|e| format!("cannot find the signed part: {e}"))?;
    key.verify(tbs, signature).map_err(|e| e.to_string())
}

/// The raw TLV of the first element inside the outer SEQUENCE of `der`.
fn first_element(der: &[u8]) -> der::Result<&[u8]> {
    let mut reader = SliceReader::new(der)?;
    let _outer = der::Header::decode(&mut reader)?;
    reader.tlv_bytes()
}

/// Key identifier per RFC 7093 §2 method 1: the leftmost 160 bits of the suite's hash
/// (SHA-256, or SM3 for GM) of the subjectPublicKey BIT STRING value.
pub(crate) fn key_identifier(spki: &SubjectPublicKeyInfoOwned, suite: Suite) -> Vec<u8> {
    let digest = suite.hash().digest(spki.subject_public_key.raw_bytes());
    digest[..20].to_vec()
}

/// Serial as lowercase hex, leading zero bytes removed.
pub(crate) fn serial_hex(serial: &SerialNumber) -> String {
    let bytes = serial.as_bytes();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let s = hex::encode(&bytes[start..]);
    if s.is_empty() { "00".into() } else { s }
}

/// Normalise a serial typed by a person: optional `0x`, colons or spaces between bytes,
/// any case, leading zeros dropped.
pub(crate) fn normalise_serial(input: &str) -> Result<String> {
    let cleaned: String = input
        .trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X")
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(PkiError::InvalidSerial {
            input: input.to_owned(),
        });
    }
    let trimmed = cleaned.trim_start_matches('0');
    let mut s = if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    };
    if s.len() % 2 == 1 {
        s.insert(0, '0');
    }
    Ok(s)
}

/// A fresh random positive serial of exactly 16 bytes (RFC 5280 §4.1.2.2: positive, at
/// most 20 octets; CA/B BR §7.1: at least 64 bits of randomness — here 126).
pub(crate) fn random_serial() -> Result<SerialNumber> {
    let mut bytes: [u8; 16] = bidkit_crypto::rng::random_array()?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40; // positive, and no leading zero byte
    <SerialNumber>::new(&bytes).map_err(|e| PkiError::encode("a serial number", e))
}

/// An explicit time as an X.509 `Time`: UTCTime through 2049, GeneralizedTime after
/// (RFC 5280 §4.1.2.5). Sub-second parts are dropped.
pub(crate) fn offset_to_time(t: OffsetDateTime) -> Result<Time> {
    let secs =
        u64::try_from(t.unix_timestamp()).map_err(|_| PkiError::TimeOutOfRange { time: t })?;
    let dt = DateTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|_| PkiError::TimeOutOfRange { time: t })?;
    Ok(Time::from(dt))
}

/// An X.509 `Time` as an `OffsetDateTime` (UTC).
pub(crate) fn time_to_offset(t: Time) -> Option<OffsetDateTime> {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).ok()?;
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// Drop sub-second precision (certificates and CRLs carry whole seconds).
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

/// Key usage bits by their RFC 5280 names.
pub(crate) fn key_usage_names(bits: FlagSet<KeyUsages>) -> String {
    let names = [
        (KeyUsages::DigitalSignature, "digitalSignature"),
        (KeyUsages::NonRepudiation, "nonRepudiation"),
        (KeyUsages::KeyEncipherment, "keyEncipherment"),
        (KeyUsages::DataEncipherment, "dataEncipherment"),
        (KeyUsages::KeyAgreement, "keyAgreement"),
        (KeyUsages::KeyCertSign, "keyCertSign"),
        (KeyUsages::CRLSign, "cRLSign"),
        (KeyUsages::EncipherOnly, "encipherOnly"),
        (KeyUsages::DecipherOnly, "decipherOnly"),
    ];
    let listed: Vec<&str> = names
        .iter()
        .filter(|(flag, _)| bits.contains(*flag))
        .map(|(_, n)| *n)
        .collect();
    if listed.is_empty() {
        "no key usage bits".into()
    } else {
        listed.join(", ")
    }
}

/// Encode an extension value.
pub(crate) fn extension<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension> {
    let der = value
        .to_der()
        .map_err(|e| PkiError::encode(format!("extension {oid}"), e))?;
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: der::asn1::OctetString::new(der)
            .map_err(|e| PkiError::encode(format!("extension {oid}"), e))?,
    })
}

/// The SubjectPublicKeyInfo of a key.
pub(crate) fn spki_of(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned> {
    let der = key.to_spki_der()?;
    SubjectPublicKeyInfoOwned::from_der(&der).map_err(|e| PkiError::encode("a public key", e))
}

/// What goes into a certificate, apart from the signature.
pub(crate) struct CertificateTemplate {
    pub serial: SerialNumber,
    pub issuer: Name,
    pub subject: Name,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub subject_key: PublicKey,
    pub extensions: Vec<Extension>,
}

/// Sign a certificate with `signer` (the issuer's key).
pub(crate) fn sign_certificate(
    template: CertificateTemplate,
    signer: &dyn Signer,
) -> Result<Certificate> {
    let serial = serial_hex(&template.serial);
    let what = || format!("certificate {serial}");
    let validity = Validity::new(
        offset_to_time(template.not_before)?,
        offset_to_time(template.not_after)?,
    );
    let spki = spki_of(&template.subject_key)?;
    let profile = FixedProfile {
        issuer: template.issuer,
        subject: template.subject,
        extensions: template.extensions,
    };
    let mut builder = CertificateBuilder::new(profile, template.serial, validity, spki)
        .map_err(|e| PkiError::encode(what(), e))?;
    let adapter = SignerAdapter::new(signer)?;
    let tbs = builder
        .finalize(&adapter)
        .map_err(|e| PkiError::encode(what(), e))?;
    let signature = signer.sign(&tbs).map_err(|source| PkiError::Signer {
        what: what(),
        source,
    })?;
    let bits = BitString::from_bytes(&signature).map_err(|e| PkiError::encode(what(), e))?;
    let cert = builder
        .assemble(bits, &adapter)
        .map_err(|e| PkiError::encode(what(), e))?;
    let der = cert.to_der().map_err(|e| PkiError::encode(what(), e))?;
    Certificate::from_der(&der)
}

/// A certificate profile that returns exactly the names and extensions given.
struct FixedProfile {
    issuer: Name,
    subject: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for FixedProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

/// Presents a `bidkit_crypto::Signer` to the x509-cert builder: its public key and its
/// signature AlgorithmIdentifier. The signing itself is done by the caller with
/// `Signer::sign` between `finalize` and `assemble`, so any signer (local key, emulated
/// phone, relay) can sign certificates.
pub(crate) struct SignerAdapter {
    spki_der: SpkiDer,
    algorithm: SignatureAlgorithm,
}

impl SignerAdapter {
    pub(crate) fn new(signer: &dyn Signer) -> Result<Self> {
        Ok(SignerAdapter {
            spki_der: SpkiDer(signer.public_key().to_spki_der()?),
            algorithm: signer.algorithm(),
        })
    }
}

/// A public key as its SubjectPublicKeyInfo DER.
#[derive(Clone)]
pub(crate) struct SpkiDer(Vec<u8>);

impl EncodePublicKey for SpkiDer {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        Ok(der::Document::try_from(self.0.as_slice())?)
    }
}

impl signature::Keypair for SignerAdapter {
    type VerifyingKey = SpkiDer;

    fn verifying_key(&self) -> SpkiDer {
        self.spki_der.clone()
    }
}

impl DynSignatureAlgorithmIdentifier for SignerAdapter {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(signature_algorithm_id(self.algorithm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_normalised() {
        assert_eq!(normalise_serial("0x0A:bc").unwrap(), "0abc");
        assert_eq!(normalise_serial("00ff").unwrap(), "ff");
        assert!(normalise_serial("xyz").is_err());
        assert!(normalise_serial("").is_err());
    }

    #[test]
    fn random_serials_are_16_positive_bytes() {
        for _ in 0..32 {
            let s = random_serial().unwrap();
            assert_eq!(serial_hex(&s).len(), 32);
            assert!(s.as_bytes()[0] < 0x80);
        }
    }

    #[test]
    fn times_round_trip_and_switch_to_generalized_after_2049() {
        let t = time::macros::datetime!(2031-05-06 07:08:09 UTC);
        assert_eq!(time_to_offset(offset_to_time(t).unwrap()), Some(t));
        assert!(matches!(offset_to_time(t).unwrap(), Time::UtcTime(_)));
        let late = time::macros::datetime!(2050-01-01 00:00:00 UTC);
        assert!(matches!(
            offset_to_time(late).unwrap(),
            Time::GeneralTime(_)
        ));
        let early = time::macros::datetime!(1960-01-01 00:00:00 UTC);
        assert!(offset_to_time(early).is_err());
    }
}
