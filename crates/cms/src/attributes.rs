//! The signed attributes of a signature (RFC 5652 §5.3, §11): built before any key is
//! touched, signed elsewhere (the phone), embedded later.

use bidkit_crypto::Suite;
use bidkit_crypto::hash::HashAlgorithm;
use bidkit_pki::Certificate;
use const_oid::ObjectIdentifier;
use time::OffsetDateTime;

use crate::asn1::{self, OCTET_STRING, SEQUENCE, SET, Tlv};
use crate::{CmsError, Result, oid};

/// The content type a suite writes: `id-data` (RFC 5652 §4) or GM/T 0010-2012 §5 `data`.
pub(crate) fn data_oid(suite: Suite) -> ObjectIdentifier {
    match suite {
        Suite::Gm => oid::GM_DATA,
        Suite::Nist => oid::ID_DATA,
    }
}

/// The digest algorithm OID of a hash (RFC 5754 §2.2, GM/T 0010-2012 §5).
pub(crate) fn hash_oid(hash: HashAlgorithm) -> ObjectIdentifier {
    match hash {
        HashAlgorithm::Sm3 => oid::SM3,
        HashAlgorithm::Sha256 => oid::SHA256,
    }
}

/// The hash a digest algorithm OID names, if Bidkit has it.
pub(crate) fn hash_of_oid(id: &ObjectIdentifier) -> Option<HashAlgorithm> {
    if *id == oid::SM3 {
        Some(HashAlgorithm::Sm3)
    } else if *id == oid::SHA256 {
        Some(HashAlgorithm::Sha256)
    } else {
        None
    }
}

/// `Attribute ::= SEQUENCE { attrType, attrValues SET OF AttributeValue }` with one
/// value (RFC 5652 §5.3).
fn attribute(kind: &ObjectIdentifier, value: &[u8]) -> Vec<u8> {
    asn1::sequence(&[&asn1::oid(kind), &asn1::tlv(SET, value)])
}

/// The ESS `SigningCertificateV2` value naming `signer` (RFC 5035 §3):
///
/// ```text
/// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }
/// ESSCertIDv2 ::= SEQUENCE {
///     hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///     certHash OCTET STRING,
///     issuerSerial IssuerSerial OPTIONAL }
/// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
/// ```
///
/// SHA-256 is the DEFAULT and so is omitted in DER (X.690 §11.5); SM3 is written out.
pub(crate) fn signing_certificate_v2(hash: HashAlgorithm, signer: &Certificate) -> Result<Vec<u8>> {
    let (issuer, serial) = asn1::certificate_issuer_serial(signer.to_der())?;
    // GeneralNames ::= SEQUENCE OF GeneralName; directoryName [4] EXPLICIT Name
    // (RFC 5280 §4.2.1.6; Name is a CHOICE, so the tag is explicit).
    let general_names = asn1::sequence(&[&asn1::tlv(asn1::context(4), issuer)]);
    let issuer_serial = asn1::sequence(&[&general_names, serial]);
    let cert_hash = asn1::octet_string(&hash.digest(signer.to_der()));
    let cert_id = match hash {
        HashAlgorithm::Sha256 => asn1::sequence(&[&cert_hash, &issuer_serial]),
        HashAlgorithm::Sm3 => asn1::sequence(&[
            &asn1::algorithm(&hash_oid(hash)),
            &cert_hash,
            &issuer_serial,
        ]),
    };
    Ok(asn1::sequence(&[&asn1::sequence(&[&cert_id])]))
}

/// The signed attributes of one signature, ready to be signed.
#[derive(Clone, Debug)]
pub struct SignedAttributes {
    suite: Suite,
    der: Vec<u8>,
    document_digest: Vec<u8>,
    /// The suite hash of the signer certificate named in signing-certificate-v2, so that
    /// [`crate::assemble`] can check it is given the same certificate.
    signer_hash: Option<[u8; 32]>,
}

impl SignedAttributes {
    /// Attributes for a document whose signed byte ranges hash to `document_digest`
    /// (with `suite.hash()`), signed by `signer` at `signing_time`.
    ///
    /// The DER `SET OF Attribute` holds, sorted as DER requires (X.690 §11.6):
    /// contentType (RFC 5652 §11.1; `id-data`, or GM/T 0010-2012 §5 `data` in the GM
    /// suite), signingTime (§11.3; `UTCTime` until 2049), messageDigest (§11.2) and
    /// ESS signingCertificateV2 (RFC 5035 §3; SHA-256, or SM3 in the GM suite, with the
    /// issuer and serial).
    ///
    /// Fails when the digest is not 32 bytes or the certificate's key is not of `suite`.
    pub fn new(
        suite: Suite,
        document_digest: &[u8],
        signer: &Certificate,
        signing_time: OffsetDateTime,
    ) -> Result<SignedAttributes> {
        Self::for_content(
            suite,
            data_oid(suite),
            document_digest,
            signer,
            signing_time,
        )
    }

    /// As [`SignedAttributes::new`], for content of type `content_type` (the emulated
    /// TSA signs `id-ct-TSTInfo`).
    pub(crate) fn for_content(
        suite: Suite,
        content_type: ObjectIdentifier,
        document_digest: &[u8],
        signer: &Certificate,
        signing_time: OffsetDateTime,
    ) -> Result<SignedAttributes> {
        if document_digest.len() != HashAlgorithm::OUTPUT_LEN {
            return Err(CmsError::InvalidInput(format!(
                "a {} document digest has {} bytes, got {}",
                suite.hash(),
                HashAlgorithm::OUTPUT_LEN,
                document_digest.len()
            )));
        }
        if signer.suite() != suite {
            return Err(CmsError::InvalidInput(format!(
                "the signer certificate {} holds a {} key, but the signature is {}",
                signer.serial_hex(),
                signer.suite(),
                suite
            )));
        }
        let items = vec![
            attribute(&oid::CONTENT_TYPE, &asn1::oid(&content_type)),
            attribute(&oid::SIGNING_TIME, &asn1::time(signing_time)?),
            attribute(&oid::MESSAGE_DIGEST, &asn1::octet_string(document_digest)),
            attribute(
                &oid::SIGNING_CERTIFICATE_V2,
                &signing_certificate_v2(suite.hash(), signer)?,
            ),
        ];
        Ok(SignedAttributes {
            suite,
            der: asn1::set_of(items),
            document_digest: document_digest.to_vec(),
            signer_hash: Some(suite.hash().digest(signer.to_der())),
        })
    }

    /// Signed attributes prepared earlier and kept as their DER (what
    /// [`SignedAttributes::to_be_signed`] returned), e.g. across the wait for the phone.
    ///
    /// Fails unless `der` is a `SET OF Attribute` with one messageDigest of 32 bytes.
    pub fn from_der(suite: Suite, der: &[u8]) -> Result<SignedAttributes> {
        let found = FoundAttributes::parse(der)?;
        let document_digest = found.message_digest.ok_or_else(|| {
            CmsError::Malformed("signed attributes: no messageDigest (RFC 5652 §5.3)".into())
        })?;
        if document_digest.len() != HashAlgorithm::OUTPUT_LEN {
            return Err(CmsError::Malformed(format!(
                "signed attributes: messageDigest has {} bytes, not 32",
                document_digest.len()
            )));
        }
        Ok(SignedAttributes {
            suite,
            der: der.to_vec(),
            document_digest,
            signer_hash: None,
        })
    }

    /// The exact bytes the signer signs (DER of the `SET OF Attribute`).
    pub fn to_be_signed(&self) -> &[u8] {
        &self.der
    }

    /// The document digest they carry.
    pub fn document_digest(&self) -> &[u8] {
        &self.document_digest
    }

    /// The suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The suite hash of the signer certificate these attributes name (`None` when read
    /// back with [`SignedAttributes::from_der`]).
    pub(crate) fn signer_hash(&self) -> Option<&[u8; 32]> {
        self.signer_hash.as_ref()
    }
}

/// The attributes Bidkit reads out of a `SET OF Attribute`.
#[derive(Debug, Default)]
pub(crate) struct FoundAttributes<'a> {
    pub content_type: Option<ObjectIdentifier>,
    pub message_digest: Option<Vec<u8>>,
    pub signing_time: Option<OffsetDateTime>,
    /// The whole `SigningCertificateV2` value.
    pub signing_certificate_v2: Option<Tlv<'a>>,
    /// Whether an ESS v1 (SHA-1) signing-certificate attribute is present.
    pub signing_certificate_v1: bool,
}

impl<'a> FoundAttributes<'a> {
    /// Read a DER `SET OF Attribute` (tag 0x31). Every attribute must have the
    /// `SEQUENCE { OID, SET }` shape; contentType, messageDigest, signingTime and the
    /// signing-certificate attributes must appear once with one value (RFC 5652 §11.1–3,
    /// RFC 5035 §5.4).
    pub fn parse(der: &'a [u8]) -> Result<Self> {
        let what = "signed attributes";
        let set = asn1::read_single(der, what)?;
        if set.tag != SET {
            return Err(CmsError::Malformed(format!("{what}: not a SET")));
        }
        let mut found = FoundAttributes::default();
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        let mut r = set.reader(what);
        if r.is_empty() {
            return Err(CmsError::Malformed(format!("{what}: empty SET")));
        }
        while !r.is_empty() {
            let attr = r.next(SEQUENCE, "Attribute")?;
            let mut a = attr.reader(what);
            let kind = a.next(asn1::OID, "attrType")?.oid(what)?;
            let values = a.next(SET, "attrValues")?;
            if !a.is_empty() {
                return Err(CmsError::Malformed(format!(
                    "{what}: data after attribute {kind}"
                )));
            }
            let tracked = [
                oid::CONTENT_TYPE,
                oid::MESSAGE_DIGEST,
                oid::SIGNING_TIME,
                oid::SIGNING_CERTIFICATE,
                oid::SIGNING_CERTIFICATE_V2,
            ];
            if !tracked.contains(&kind) {
                continue;
            }
            if seen.contains(&kind) {
                return Err(CmsError::Malformed(format!(
                    "{what}: attribute {kind} appears twice"
                )));
            }
            seen.push(kind);
            let value = asn1::read_single(values.value, what).map_err(|_| {
                CmsError::Malformed(format!(
                    "{what}: attribute {kind} must have exactly one value"
                ))
            })?;
            if kind == oid::CONTENT_TYPE {
                found.content_type = Some(value.oid("contentType attribute")?);
            } else if kind == oid::MESSAGE_DIGEST {
                if value.tag != OCTET_STRING {
                    return Err(CmsError::Malformed(format!(
                        "{what}: messageDigest is not an OCTET STRING"
                    )));
                }
                found.message_digest = Some(value.value.to_vec());
            } else if kind == oid::SIGNING_TIME {
                found.signing_time = Some(value.time("signingTime attribute")?);
            } else if kind == oid::SIGNING_CERTIFICATE_V2 {
                found.signing_certificate_v2 = Some(value);
            } else {
                found.signing_certificate_v1 = true;
            }
        }
        Ok(found)
    }
}

/// What the first `ESSCertIDv2` of a `SigningCertificateV2` says (RFC 5035 §3).
#[derive(Debug)]
pub(crate) struct EssCertId<'a> {
    /// The hash algorithm OID (absent means SHA-256).
    pub hash_algorithm: ObjectIdentifier,
    pub cert_hash: &'a [u8],
    /// The issuer `Name` (whole TLV) and serial `INTEGER` (whole TLV), if given as a
    /// directoryName.
    pub issuer_serial: Option<(&'a [u8], &'a [u8])>,
}

impl<'a> EssCertId<'a> {
    /// Read the first certificate id of a `SigningCertificateV2` value.
    pub fn parse_v2(value: Tlv<'a>) -> Result<Self> {
        let what = "signing-certificate-v2 attribute";
        if value.tag != SEQUENCE {
            return Err(CmsError::Malformed(format!("{what}: not a SEQUENCE")));
        }
        let mut r = value.reader(what);
        let certs = r.next(SEQUENCE, "certs")?;
        let mut c = certs.reader(what);
        let first = c.next(SEQUENCE, "ESSCertIDv2")?;
        let mut e = first.reader(what);
        let hash_algorithm = match e.optional(SEQUENCE)? {
            Some(alg) => alg
                .reader(what)
                .next(asn1::OID, "hashAlgorithm")?
                .oid(what)?,
            None => oid::SHA256,
        };
        let cert_hash = e.next(OCTET_STRING, "certHash")?.value;
        let issuer_serial = match e.optional(SEQUENCE)? {
            None => None,
            Some(is) => {
                let mut i = is.reader(what);
                let names = i.next(SEQUENCE, "issuer")?;
                let serial = i.next(asn1::INTEGER, "serialNumber")?;
                let mut n = names.reader(what);
                let mut directory = None;
                while !n.is_empty() {
                    let name = n.next_any()?;
                    if name.tag == asn1::context(4) {
                        directory = Some(asn1::read_single(name.value, what)?.raw);
                    }
                }
                directory.map(|d| (d, serial.raw))
            }
        };
        Ok(EssCertId {
            hash_algorithm,
            cert_hash,
            issuer_serial,
        })
    }
}
