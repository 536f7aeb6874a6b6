//! Bidkit's signature containers: detached CMS `SignedData` for PDF signatures.
//!
//! This crate owns the bytes of a document signature and nothing around them:
//!
//! * [`SignedAttributes`] — the staged half of a CMS signature: the DER `SET OF
//!   Attribute` (content type, signing time, message digest, ESS signing-certificate-v2)
//!   that the phone signs, built before any key is touched.
//! * [`assemble`] — a detached `ContentInfo`/`SignedData` from those attributes, the
//!   signature and the certificate chain. GM suite: GM/T 0010-2012 identifiers (SM3
//!   `1.2.156.10197.1.401`, SM2 signature `sm2-1` `1.2.156.10197.1.301.1`, content
//!   types `1.2.156.10197.6.1.4.2.*`); NIST suite: RFC 5652 / RFC 5758 identifiers.
//!   See [`oid`] for every identifier and its clause.
//! * [`parse`] and [`ParsedSignature::verify`] — read any such container (either set of
//!   content-type identifiers, `sm2-1` or `sm2sign-with-sm3`) and check it against the
//!   document digest.
//! * [`tsa`] — RFC 3161 time-stamp requests, an emulated TSA and token verification.
//!
//! It must not: touch PDF files or byte ranges (the `pdf` crate hashes them), hold or
//! use private keys other than the emulated TSA's signer it is handed, talk to the
//! network, or judge certificate chains and revocation (that is `bidkit-pki`). Hostile
//! input yields [`CmsError`], never a panic.

mod asn1;
mod attributes;
mod container;
pub mod oid;
pub mod tsa;

pub use attributes::SignedAttributes;
pub use container::{ParsedSignature, SignatureCheck, assemble, parse};

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
    /// The caller's input cannot make a container (empty chain, a signature that is not
    /// DER, a certificate of the other suite, …).
    #[error("cannot build the signature: {0}")]
    InvalidInput(String),
    /// An RFC 3161 time-stamp response or token that was not granted, does not verify
    /// or stamps something else.
    #[error("time stamp rejected: {0}")]
    InvalidTimestamp(String),
}

/// Result with a [`CmsError`].
pub type Result<T, E = CmsError> = std::result::Result<T, E>;
