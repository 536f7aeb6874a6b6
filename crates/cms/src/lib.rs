//! Bidkit's signature containers.
//!
//! CONTRACT (skeleton written by the lead; the implementation fills the bodies and may
//! add items, but keeps these signatures).
//!
//! * [`SignedAttributes`] — the staged half of a CMS signature: the DER `SET OF
//!   Attribute` (content type, signing time, message digest, ESS signing-certificate-v2)
//!   that the phone signs, built before any key is touched.
//! * [`assemble`] — a detached `ContentInfo`/`SignedData` from those attributes, the
//!   signature and the certificate chain. GM suite: GM/T 0010-2012 identifiers (SM3
//!   `1.2.156.10197.1.401`, SM2 signature `1.2.156.10197.1.501`, content types
//!   `1.2.156.10197.6.1.4.2.*`); NIST suite: RFC 5652 / RFC 5753 identifiers.
//! * [`parse`] and [`ParsedSignature::verify`] — read any such container (either set of
//!   content-type identifiers) and check it against the document digest.

use bidkit_crypto::Suite;
use bidkit_crypto::hash::HashAlgorithm;
use bidkit_pki::Certificate;
use time::OffsetDateTime;

/// Why a CMS container could not be built or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    /// The DER is not a CMS SignedData Bidkit understands.
    #[error("not a valid CMS signature: {0}")]
    Malformed(String),
    /// An algorithm Bidkit does not support.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// Encoding failed.
    #[error("encoding the signature failed: {0}")]
    Encode(String),
}

/// Result with a [`CmsError`].
pub type Result<T, E = CmsError> = std::result::Result<T, E>;

/// The signed attributes of one signature, ready to be signed.
#[derive(Clone, Debug)]
pub struct SignedAttributes {
    suite: Suite,
    der: Vec<u8>,
    document_digest: Vec<u8>,
}

impl SignedAttributes {
    /// Attributes for a document whose signed byte ranges hash to `document_digest`
    /// (with `suite.hash()`), signed by `signer` at `signing_time`.
    pub fn new(
        suite: Suite,
        document_digest: &[u8],
        signer: &Certificate,
        signing_time: OffsetDateTime,
    ) -> Result<SignedAttributes> {
        let _ = (signer, signing_time);
        Ok(SignedAttributes {
            suite,
            der: Vec::new(),
            document_digest: document_digest.to_vec(),
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
}

/// A detached CMS `ContentInfo` (DER) from signed attributes, the signature over
/// [`SignedAttributes::to_be_signed`] (DER, as [`bidkit_crypto::Signer`] returns it) and
/// the chain (leaf first). `timestamp_token` (an RFC 3161 `TimeStampToken`, DER) goes in
/// as the unsigned `id-aa-signatureTimeStampToken` attribute.
pub fn assemble(
    attributes: &SignedAttributes,
    signature: &[u8],
    chain: &[Certificate],
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let _ = (attributes, signature, chain, timestamp_token);
    Err(CmsError::Encode("not implemented".into()))
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
}

/// Read a CMS `ContentInfo` (DER; trailing zero padding as found in PDF `/Contents` is
/// ignored).
pub fn parse(der: &[u8]) -> Result<ParsedSignature> {
    let _ = der;
    Err(CmsError::Malformed("not implemented".into()))
}

/// The result of checking a signature against a document digest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SignatureCheck {
    /// `messageDigest` equals the document digest.
    pub digest_matches: bool,
    /// The signature verifies with the signer certificate's key.
    pub signature_valid: bool,
    /// The ESS signing-certificate(-v2) attribute names the signer certificate
    /// (`None`: no such attribute).
    pub signing_certificate_matches: Option<bool>,
    /// Human-readable problems found (empty when all is well).
    pub problems: Vec<String>,
}

impl SignatureCheck {
    /// Whether the signature is cryptographically intact.
    pub fn is_valid(&self) -> bool {
        self.digest_matches && self.signature_valid && self.signing_certificate_matches != Some(false)
    }
}

impl ParsedSignature {
    /// Check against `document_digest` (the hash of the signed byte ranges with
    /// [`ParsedSignature::digest_algorithm`]).
    pub fn verify(&self, document_digest: &[u8]) -> SignatureCheck {
        let _ = document_digest;
        SignatureCheck {
            digest_matches: false,
            signature_valid: false,
            signing_certificate_matches: None,
            problems: vec!["not implemented".into()],
        }
    }
}
