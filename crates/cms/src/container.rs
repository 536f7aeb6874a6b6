//! The detached `ContentInfo`/`SignedData` container (RFC 5652 §3, §5; GM/T 0010-2012
//! §8): assembling, reading and checking one.

use bidkit_crypto::Suite;
use bidkit_crypto::hash::HashAlgorithm;
use bidkit_pki::Certificate;
use const_oid::ObjectIdentifier;
use time::OffsetDateTime;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::asn1::{self, INTEGER, OCTET_STRING, SEQUENCE, SET, Tlv};
use crate::attributes::{self, EssCertId, FoundAttributes, SignedAttributes};
use crate::{CmsError, Result, oid};

/// The `ContentInfo` content type for SignedData in a suite: `id-signedData` (RFC 5652
/// §5.1) or GM/T 0010-2012 §5 `signedData`.
pub(crate) fn signed_data_oid(suite: Suite) -> ObjectIdentifier {
    match suite {
        Suite::Gm => oid::GM_SIGNED_DATA,
        Suite::Nist => oid::ID_SIGNED_DATA,
    }
}

/// The signature algorithm a suite writes: `ecdsa-with-SHA256` (RFC 5758 §3.2) or
/// `sm2-1` (GM/T 0010-2012 §8, SignerInfo `digestEncryptionAlgorithm`).
pub(crate) fn signature_oid(suite: Suite) -> ObjectIdentifier {
    match suite {
        Suite::Gm => oid::SM2_1,
        Suite::Nist => oid::ECDSA_WITH_SHA256,
    }
}

/// The pieces of a `SignedData` Bidkit writes, shared by [`assemble`] and the emulated
/// TSA.
pub(crate) struct SignedDataParts<'a> {
    pub suite: Suite,
    pub content_info_type: ObjectIdentifier,
    pub econtent_type: ObjectIdentifier,
    /// Encapsulated content (`None`: detached).
    pub econtent: Option<&'a [u8]>,
    /// DER `SET OF Attribute` as signed (tag 0x31).
    pub signed_attributes: &'a [u8],
    pub signature: &'a [u8],
    /// The signer's certificate (named in the SignerInfo sid).
    pub signer: &'a Certificate,
    /// The certificates to carry (may be empty).
    pub certificates: &'a [Certificate],
    /// DER `SET OF Attribute` of unsigned attributes (tag 0x31), if any.
    pub unsigned_attributes: Option<Vec<u8>>,
}

/// Encode a `ContentInfo { SignedData }` with one SignerInfo (RFC 5652 §5.1, §5.3).
pub(crate) fn encode_signed_data(p: &SignedDataParts<'_>) -> Result<Vec<u8>> {
    let leaf = p.signer;
    asn1::check_signature_der(p.signature)
        .map_err(|e| CmsError::InvalidInput(format!("the signature is not usable: {e}")))?;
    let (issuer, serial) = asn1::certificate_issuer_serial(leaf.to_der())?;
    let digest_alg = asn1::algorithm(&attributes::hash_oid(p.suite.hash()));

    // signedAttrs [0] IMPLICIT SET OF Attribute: the same content octets as the SET that
    // was signed, under tag [0] (RFC 5652 §5.3, §5.4).
    let signed = asn1::read_single(p.signed_attributes, "signed attributes")?;
    if signed.tag != SET {
        return Err(CmsError::InvalidInput(
            "the signed attributes are not a DER SET".into(),
        ));
    }
    let mut signer_info_parts: Vec<Vec<u8>> = vec![
        // version 1: sid is issuerAndSerialNumber (RFC 5652 §5.3).
        asn1::small_integer(1),
        asn1::sequence(&[issuer, serial]),
        digest_alg.clone(),
        asn1::tlv(asn1::context(0), signed.value),
        asn1::algorithm(&signature_oid(p.suite)),
        asn1::octet_string(p.signature),
    ];
    if let Some(unsigned) = &p.unsigned_attributes {
        let set = asn1::read_single(unsigned, "unsigned attributes")?;
        signer_info_parts.push(asn1::tlv(asn1::context(1), set.value));
    }
    let signer_info = asn1::tlv(SEQUENCE, &signer_info_parts.concat());

    let encap = match p.econtent {
        None => asn1::sequence(&[&asn1::oid(&p.econtent_type)]),
        Some(content) => asn1::sequence(&[
            &asn1::oid(&p.econtent_type),
            &asn1::tlv(asn1::context(0), &asn1::octet_string(content)),
        ]),
    };
    // certificates [0] IMPLICIT CertificateSet, in the order given (leaf first).
    let certificates: Vec<u8> = p
        .certificates
        .iter()
        .flat_map(|c| c.to_der().to_vec())
        .collect();
    let certificates = if p.certificates.is_empty() {
        Vec::new()
    } else {
        asn1::tlv(asn1::context(0), &certificates)
    };
    let signed_data = asn1::sequence(&[
        // version 1 (RFC 5652 §5.1; GM/T 0010-2012 §8 always uses 1).
        &asn1::small_integer(1),
        &asn1::tlv(SET, &digest_alg),
        &encap,
        &certificates,
        &asn1::tlv(SET, &signer_info),
    ]);
    Ok(asn1::sequence(&[
        &asn1::oid(&p.content_info_type),
        &asn1::tlv(asn1::context(0), &signed_data),
    ]))
}

/// A detached CMS `ContentInfo` (DER) from signed attributes, the signature over
/// [`SignedAttributes::to_be_signed`] (DER, as [`bidkit_crypto::Signer`] returns it) and
/// the chain (leaf first). `timestamp_token` (an RFC 3161 `TimeStampToken`, DER) goes in
/// as the unsigned `id-aa-signatureTimeStampToken` attribute.
///
/// Layout (RFC 5652 §5, GM/T 0010-2012 §8): `ContentInfo { id-signedData | GM
/// signedData, SignedData { version 1, {sm3 | sha-256}, { id-data | GM data } without
/// eContent, certificates = chain, { SignerInfo { version 1, issuerAndSerialNumber of
/// the leaf, digest algorithm, [0] signed attributes, sm2-1 | ecdsa-with-SHA256,
/// signature, [1] { signatureTimeStampToken }? } } } }`.
///
/// Fails ([`CmsError::InvalidInput`]) when the chain is empty, its first certificate is
/// not the one the attributes name, the signature is not a DER `SEQUENCE { r, s }`, or
/// the token is not one DER `SEQUENCE`. The signature itself is not verified here.
pub fn assemble(
    attributes: &SignedAttributes,
    signature: &[u8],
    chain: &[Certificate],
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let suite = attributes.suite();
    let leaf = chain
        .first()
        .ok_or_else(|| CmsError::InvalidInput("the certificate chain is empty".into()))?;
    if let Some(expected) = attributes.signer_hash()
        && suite.hash().digest(leaf.to_der()) != *expected
    {
        return Err(CmsError::InvalidInput(format!(
            "the chain's first certificate ({}, serial {}) is not the signer the signed \
             attributes name",
            leaf.subject_display(),
            leaf.serial_hex()
        )));
    }
    let unsigned_attributes = match timestamp_token {
        None => None,
        Some(token) => {
            let t = asn1::read_single(token, "timestamp token")
                .map_err(|e| CmsError::InvalidInput(e.to_string()))?;
            if t.tag != SEQUENCE {
                return Err(CmsError::InvalidInput(
                    "the timestamp token is not a DER ContentInfo".into(),
                ));
            }
            // id-aa-signatureTimeStampToken (RFC 3161 Appendix A).
            Some(asn1::set_of(vec![asn1::sequence(&[
                &asn1::oid(&oid::SIGNATURE_TIME_STAMP_TOKEN),
                &asn1::tlv(SET, token),
            ])]))
        }
    };
    encode_signed_data(&SignedDataParts {
        suite,
        content_info_type: signed_data_oid(suite),
        econtent_type: attributes::data_oid(suite),
        econtent: None,
        signed_attributes: attributes.to_be_signed(),
        signature,
        signer: leaf,
        certificates: chain,
        unsigned_attributes,
    })
}

/// A CMS signature as read from a document.
#[derive(Clone, Debug)]
pub struct ParsedSignature {
    /// The suite its algorithms belong to.
    pub suite: Suite,
    /// The digest algorithm.
    pub digest_algorithm: HashAlgorithm,
    /// The signer's certificate (matched by issuer and serial, or subject key id).
    pub signer: Certificate,
    /// Every certificate the container carries (including the signer's).
    pub certificates: Vec<Certificate>,
    /// The signed attributes as signed (DER `SET OF`).
    pub signed_attributes: Vec<u8>,
    /// The signature value (DER).
    pub signature: Vec<u8>,
    /// The `messageDigest` attribute.
    pub message_digest: Vec<u8>,
    /// The `signingTime` attribute, if present.
    pub signing_time: Option<OffsetDateTime>,
    /// The RFC 3161 timestamp token (unsigned attribute), if present.
    pub timestamp_token: Option<Vec<u8>>,
    /// The `eContentType` of the encapsulated content info (`id-data` or GM `data`).
    pub content_type: ObjectIdentifier,
    /// The SignerInfo `signatureAlgorithm` as found (`sm2-1`, `sm2sign-with-sm3`,
    /// `ecdsa-with-SHA256`, …).
    pub signature_algorithm: ObjectIdentifier,
}

/// Read a CMS `ContentInfo` (DER; trailing zero padding as found in PDF `/Contents` is
/// ignored).
///
/// Accepts either suite's content-type identifiers, SM2 as `sm2-1`, `sm2sign-with-sm3`
/// or the bare SM2 key OID, and a signer identified by issuer and serial or by subject
/// key identifier (RFC 5652 §5.3). The container must be detached (no eContent) and
/// have exactly one SignerInfo with signed attributes. Anything else is
/// [`CmsError::Malformed`] or [`CmsError::UnsupportedAlgorithm`].
pub fn parse(der: &[u8]) -> Result<ParsedSignature> {
    let (parsed, econtent) = parse_signed_data(der)?;
    if econtent.is_some() {
        return Err(CmsError::Malformed(
            "the signature encapsulates its content; a PDF signature must be detached".into(),
        ));
    }
    Ok(parsed)
}

/// Read a `ContentInfo { SignedData }` with one SignerInfo; also returns the eContent
/// (OCTET STRING content) when present.
pub(crate) fn parse_signed_data(der: &[u8]) -> Result<(ParsedSignature, Option<Vec<u8>>)> {
    let what = "ContentInfo";
    let (ci, rest) = asn1::read_tlv(der, what)?;
    if rest.iter().any(|b| *b != 0) {
        return Err(CmsError::Malformed(
            "non-zero bytes after the ContentInfo".into(),
        ));
    }
    if ci.tag != SEQUENCE {
        return Err(CmsError::Malformed("not a DER ContentInfo SEQUENCE".into()));
    }
    let mut r = ci.reader(what);
    let content_type = r.next(asn1::OID, "contentType")?.oid(what)?;
    if content_type != oid::ID_SIGNED_DATA && content_type != oid::GM_SIGNED_DATA {
        return Err(CmsError::Malformed(format!(
            "content type {content_type} is not signedData (RFC 5652 §5.1 or GM/T 0010 §5)"
        )));
    }
    let explicit = r.next(asn1::context(0), "content")?;
    let sd = asn1::read_single(explicit.value, "SignedData")?;
    if sd.tag != SEQUENCE {
        return Err(CmsError::Malformed("SignedData is not a SEQUENCE".into()));
    }

    // SignedData (RFC 5652 §5.1).
    let what = "SignedData";
    let mut s = sd.reader(what);
    let _version = s.next(INTEGER, "version")?.small_integer(what)?;
    let _digest_algorithms = s.next(SET, "digestAlgorithms")?;
    let encap = s.next(SEQUENCE, "encapContentInfo")?;
    let mut e = encap.reader(what);
    let econtent_type = e.next(asn1::OID, "eContentType")?.oid(what)?;
    let econtent = match e.optional(asn1::context(0))? {
        None => None,
        Some(explicit) => {
            let octets = asn1::read_single(explicit.value, "eContent")?;
            if octets.tag != OCTET_STRING {
                return Err(CmsError::Malformed(
                    "eContent is not an OCTET STRING".into(),
                ));
            }
            Some(octets.value.to_vec())
        }
    };
    let mut certificates = Vec::new();
    if let Some(set) = s.optional(asn1::context(0))? {
        for choice in set.reader("certificates").all()? {
            // CertificateChoices (RFC 5652 §10.2.2): only plain X.509 certificates are
            // read; certificates Bidkit cannot use (other key types) are skipped.
            if choice.tag == SEQUENCE
                && let Ok(cert) = Certificate::from_der(choice.raw)
            {
                certificates.push(cert);
            }
        }
    }
    let _crls = s.optional(asn1::context(1))?;
    let signer_infos = s.next(SET, "signerInfos")?.reader("signerInfos").all()?;
    let signer_info = match signer_infos.as_slice() {
        [one] => *one,
        [] => return Err(CmsError::Malformed("no SignerInfo".into())),
        more => {
            return Err(CmsError::Malformed(format!(
                "{} SignerInfos; a document signature has exactly one",
                more.len()
            )));
        }
    };
    if signer_info.tag != SEQUENCE {
        return Err(CmsError::Malformed("SignerInfo is not a SEQUENCE".into()));
    }

    // SignerInfo (RFC 5652 §5.3; GM/T 0010-2012 §8).
    let what = "SignerInfo";
    let mut si = signer_info.reader(what);
    let _version = si.next(INTEGER, "version")?.small_integer(what)?;
    let sid = si.next_any()?;
    let digest_oid = si
        .next(SEQUENCE, "digestAlgorithm")?
        .reader(what)
        .next(asn1::OID, "digestAlgorithm")?
        .oid(what)?;
    let digest_algorithm = attributes::hash_of_oid(&digest_oid)
        .ok_or_else(|| CmsError::UnsupportedAlgorithm(format!("digest algorithm {digest_oid}")))?;
    let signed = si
        .optional(asn1::context(0))?
        .ok_or_else(|| CmsError::Malformed("the SignerInfo has no signed attributes".into()))?;
    // Re-tag [0] IMPLICIT as the universal SET that was signed (RFC 5652 §5.4).
    let signed_attributes = asn1::tlv(SET, signed.value);
    let signature_algorithm = si
        .next(SEQUENCE, "signatureAlgorithm")?
        .reader(what)
        .next(asn1::OID, "signatureAlgorithm")?
        .oid(what)?;
    let suite = suite_of(&signature_algorithm, digest_algorithm)?;
    let signature = si.next(OCTET_STRING, "signature")?.value.to_vec();
    let timestamp_token = match si.optional(asn1::context(1))? {
        None => None,
        Some(unsigned) => find_timestamp_token(unsigned)?,
    };

    let found = FoundAttributes::parse(&signed_attributes)?;
    let message_digest = found.message_digest.clone().ok_or_else(|| {
        CmsError::Malformed("the signed attributes carry no messageDigest (RFC 5652 §5.3)".into())
    })?;
    let signing_time = found.signing_time;

    let signer = find_signer(sid, &certificates)?.clone();
    Ok((
        ParsedSignature {
            suite,
            digest_algorithm,
            signer,
            certificates,
            signed_attributes,
            signature,
            message_digest,
            signing_time,
            timestamp_token,
            content_type: econtent_type,
            signature_algorithm,
        },
        econtent,
    ))
}

/// The suite of a signature algorithm (and digest algorithm, for the ambiguous key OIDs).
fn suite_of(signature_algorithm: &ObjectIdentifier, digest: HashAlgorithm) -> Result<Suite> {
    let suite = if *signature_algorithm == oid::ECDSA_WITH_SHA256 {
        Suite::Nist
    } else if [oid::SM2_1, oid::SM2_SIGN_WITH_SM3, oid::SM2].contains(signature_algorithm) {
        Suite::Gm
    } else if *signature_algorithm == oid::EC_PUBLIC_KEY && digest == HashAlgorithm::Sha256 {
        Suite::Nist
    } else {
        return Err(CmsError::UnsupportedAlgorithm(format!(
            "signature algorithm {signature_algorithm}"
        )));
    };
    if suite.hash() != digest {
        return Err(CmsError::UnsupportedAlgorithm(format!(
            "signature algorithm {signature_algorithm} with digest {digest}"
        )));
    }
    Ok(suite)
}

/// The signatureTimeStampToken in `[1] IMPLICIT UnsignedAttributes` (RFC 3161 App. A).
fn find_timestamp_token(unsigned: Tlv<'_>) -> Result<Option<Vec<u8>>> {
    let what = "unsigned attributes";
    let mut r = unsigned.reader(what);
    while !r.is_empty() {
        let attr = r.next(SEQUENCE, "Attribute")?;
        let mut a = attr.reader(what);
        let kind = a.next(asn1::OID, "attrType")?.oid(what)?;
        let values = a.next(SET, "attrValues")?;
        if kind == oid::SIGNATURE_TIME_STAMP_TOKEN {
            let mut v = values.reader(what);
            let token = v.next(SEQUENCE, "signatureTimeStampToken")?;
            return Ok(Some(token.raw.to_vec()));
        }
    }
    Ok(None)
}

/// The certificate `sid` names (RFC 5652 §5.3 SignerIdentifier).
fn find_signer<'c>(sid: Tlv<'_>, certificates: &'c [Certificate]) -> Result<&'c Certificate> {
    let found = if sid.tag == SEQUENCE {
        let mut r = sid.reader("issuerAndSerialNumber");
        let issuer = r.next(SEQUENCE, "issuer")?.raw;
        let serial = r.next(INTEGER, "serialNumber")?.raw;
        certificates.iter().find(|c| {
            asn1::certificate_issuer_serial(c.to_der())
                .is_ok_and(|(i, s)| i == issuer && s == serial)
        })
    } else if sid.tag == asn1::context_primitive(0) {
        certificates.iter().find(|c| {
            matches!(
                c.x509().tbs_certificate().get_extension::<SubjectKeyIdentifier>(),
                Ok(Some((_, ski))) if ski.0.as_bytes() == sid.value
            )
        })
    } else {
        return Err(CmsError::Malformed(format!(
            "SignerInfo sid has unexpected tag 0x{:02x}",
            sid.tag
        )));
    };
    found.ok_or_else(|| {
        CmsError::Malformed("the signer's certificate is not in the container".into())
    })
}

/// The result of checking a signature against a document digest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SignatureCheck {
    /// `messageDigest` equals the document digest.
    pub digest_matches: bool,
    /// The signature verifies with the signer certificate's key.
    pub signature_valid: bool,
    /// The ESS signing-certificate(-v2) attribute names the signer certificate
    /// (`None`: no such attribute, or one Bidkit cannot check).
    pub signing_certificate_matches: Option<bool>,
    /// The contentType attribute is present and equals the eContentType (RFC 5652
    /// §5.3, §11.1).
    pub content_type_matches: bool,
    /// Human-readable problems found (empty when all is well).
    pub problems: Vec<String>,
}

impl SignatureCheck {
    /// Whether the signature is cryptographically intact.
    pub fn is_valid(&self) -> bool {
        self.digest_matches
            && self.signature_valid
            && self.content_type_matches
            && self.signing_certificate_matches != Some(false)
    }
}

impl ParsedSignature {
    /// Check against `document_digest` (the hash of the signed byte ranges with
    /// [`ParsedSignature::digest_algorithm`]).
    ///
    /// Checks: messageDigest equals the digest (RFC 5652 §5.4, §11.2); the signature
    /// over the DER signed attributes verifies with the signer certificate's key (SM2
    /// with the default id `1234567812345678`, or ECDSA P-256 with SHA-256; RFC 5652
    /// §5.6); the signing-certificate-v2 attribute's hash (with the algorithm it names)
    /// and issuer/serial match the signer certificate (RFC 5035 §5.4); the contentType
    /// attribute equals the eContentType (RFC 5652 §11.1). The certificate chain and
    /// validity period are not judged here.
    pub fn verify(&self, document_digest: &[u8]) -> SignatureCheck {
        let mut problems = Vec::new();
        let digest_matches = self.message_digest == document_digest;
        if !digest_matches {
            problems.push(format!(
                "the document's {} digest does not match the signed messageDigest: the \
                 signed bytes were changed",
                self.digest_algorithm
            ));
        }
        let signature_valid = match self.signer.public_key() {
            Err(e) => {
                problems.push(format!("the signer certificate's key is unusable: {e}"));
                false
            }
            Ok(key) if key.suite() != self.suite => {
                problems.push(format!(
                    "the signer certificate holds a {} key but the signature is {}",
                    key.suite(),
                    self.suite
                ));
                false
            }
            Ok(key) => match key.verify(&self.signed_attributes, &self.signature) {
                Ok(()) => true,
                Err(e) => {
                    problems.push(format!(
                        "the signature over the signed attributes does not verify with the \
                         key of {}: {e}",
                        self.signer.subject_display()
                    ));
                    false
                }
            },
        };
        let (signing_certificate_matches, content_type_matches) =
            match FoundAttributes::parse(&self.signed_attributes) {
                Err(e) => {
                    problems.push(e.to_string());
                    (None, false)
                }
                Ok(found) => {
                    let ess = check_signing_certificate(&found, &self.signer, &mut problems);
                    let ct = match found.content_type {
                        None => {
                            problems.push(
                                "the signed attributes carry no contentType (RFC 5652 §5.3)".into(),
                            );
                            false
                        }
                        Some(ct) if ct != self.content_type => {
                            problems.push(format!(
                                "the contentType attribute ({ct}) differs from the \
                                 eContentType ({})",
                                self.content_type
                            ));
                            false
                        }
                        Some(_) => true,
                    };
                    (ess, ct)
                }
            };
        SignatureCheck {
            digest_matches,
            signature_valid,
            signing_certificate_matches,
            content_type_matches,
            problems,
        }
    }
}

/// RFC 5035 §5.4: the first ESSCertIDv2 must name the signer certificate.
fn check_signing_certificate(
    found: &FoundAttributes<'_>,
    signer: &Certificate,
    problems: &mut Vec<String>,
) -> Option<bool> {
    let Some(value) = found.signing_certificate_v2 else {
        if found.signing_certificate_v1 {
            problems
                .push("the ESS signing-certificate attribute (v1, SHA-1) was not checked".into());
        }
        return None;
    };
    let id = match EssCertId::parse_v2(value) {
        Ok(id) => id,
        Err(e) => {
            problems.push(e.to_string());
            return Some(false);
        }
    };
    let Some(hash) = attributes::hash_of_oid(&id.hash_algorithm) else {
        problems.push(format!(
            "the signing-certificate-v2 attribute uses hash {}, which Bidkit cannot check",
            id.hash_algorithm
        ));
        return None;
    };
    let mut ok = true;
    if hash.digest(signer.to_der()).as_slice() != id.cert_hash {
        problems.push(format!(
            "the signing-certificate-v2 attribute names another certificate than the \
             signer's ({}, serial {})",
            signer.subject_display(),
            signer.serial_hex()
        ));
        ok = false;
    }
    if let Some((issuer, serial)) = id.issuer_serial {
        let matches = asn1::certificate_issuer_serial(signer.to_der())
            .is_ok_and(|(i, s)| i == issuer && s == serial);
        if !matches {
            problems.push(
                "the signing-certificate-v2 issuer and serial are not the signer \
                 certificate's"
                    .into(),
            );
            ok = false;
        }
    }
    Some(ok)
}
