//! What can go wrong making, reading and verifying seals and signatures.

use time::OffsetDateTime;

/// An error of this crate. Every message names the structure and field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SesError {
    /// The bytes are not a DER structure of the expected type (truncated, garbage,
    /// wrong tags, trailing data, non-canonical encoding).
    #[error("{what} is not valid DER: {reason}")]
    Malformed {
        /// The structure being read (`SESeal`, `SES_Signature` …).
        what: &'static str,
        /// The decoder's reason.
        reason: String,
    },
    /// A field holds a value the standard does not allow, or a value given to
    /// [`crate::SESeal::make`] cannot be encoded.
    #[error("{structure}.{field}: {reason}")]
    InvalidField {
        /// The structure (`SES_Header`, `SES_ESPropertyInfo` …).
        structure: &'static str,
        /// The field (`ID`, `version`, `validEnd` …).
        field: &'static str,
        /// Why the value is not acceptable.
        reason: String,
    },
    /// The input is larger than this crate reads.
    #[error("{what} is {len} bytes, more than the {max} accepted")]
    TooLarge {
        /// The structure.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The signature algorithm is not SM2-with-SM3 or ECDSA-P256-with-SHA256.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedAlgorithm {
        /// The algorithm's OID.
        oid: String,
    },
    /// The algorithm named does not belong to the certificate's key.
    #[error("{what}: signature algorithm {oid} does not match the {suite} key of the certificate")]
    AlgorithmMismatch {
        /// Which signature.
        what: &'static str,
        /// The algorithm's OID.
        oid: String,
        /// The certificate's suite.
        suite: bidkit_crypto::Suite,
    },
    /// A certificate inside the structure could not be read.
    #[error("{what}: {source}")]
    Certificate {
        /// Which certificate (`seal maker certificate`, `signer certificate`).
        what: &'static str,
        /// The reason.
        #[source]
        source: bidkit_pki::PkiError,
    },
    /// The signer's key is not the key of the certificate given with it.
    #[error("the signing key does not belong to the {what} (serial {serial})")]
    KeyMismatch {
        /// Which certificate.
        what: &'static str,
        /// Its serial.
        serial: String,
    },
    /// The signer failed or refused.
    #[error("signing failed: {0}")]
    Signer(#[from] bidkit_crypto::SignerError),
    /// A signature does not verify.
    #[error("{what}: the signature does not verify ({reason})")]
    BadSignature {
        /// Which signature (`seal maker's signature`, `signature`).
        what: &'static str,
        /// The reason.
        reason: String,
    },
    /// The seal maker's certificate is not the pinned one.
    #[error("the seal was made by {subject} (serial {serial}), not by the trusted seal maker")]
    UnknownMaker {
        /// Subject of the maker certificate found.
        subject: String,
        /// Its serial.
        serial: String,
    },
    /// The seal maker's certificate does not chain to a trusted root, or was not valid
    /// when the seal was made.
    #[error("the seal maker's certificate is not acceptable: {0}")]
    UntrustedMaker(#[source] bidkit_pki::ChainError),
    /// The signer's certificate does not chain to a trusted root at the signing time,
    /// or is not for signing.
    #[error("the signer's certificate is not acceptable: {0}")]
    UntrustedSigner(#[source] bidkit_pki::ChainError),
    /// The seal is not valid yet at the time asked.
    #[error("seal {name:?} is valid only from {}", bidkit_pki::fmt_time(*valid_start))]
    SealNotYetValid {
        /// The seal's name.
        name: String,
        /// Start of validity.
        valid_start: OffsetDateTime,
    },
    /// The seal's validity ended before the time asked.
    #[error("seal {name:?} expired at {}", bidkit_pki::fmt_time(*valid_end))]
    SealExpired {
        /// The seal's name.
        name: String,
        /// End of validity.
        valid_end: OffsetDateTime,
    },
    /// The seal has no picture.
    #[error("seal {name:?} has no picture")]
    NoPicture {
        /// The seal's name.
        name: String,
    },
    /// The hash in the signature is not the hash of the data.
    #[error("the signed data hash does not match the document's hash")]
    DataHashMismatch,
    /// The signer's certificate is not one the seal is bound to (GB/T 38540-2020 §8.3
    /// step "签章者证书与电子印章的匹配性").
    #[error(
        "the signer's certificate (serial {serial}) is not among the certificates seal {seal:?} is bound to"
    )]
    SignerNotBound {
        /// The seal's name.
        seal: String,
        /// Serial of the signer's certificate.
        serial: String,
    },
}

impl SesError {
    pub(crate) fn malformed(what: &'static str, err: impl std::fmt::Display) -> Self {
        SesError::Malformed {
            what,
            reason: err.to_string(),
        }
    }

    pub(crate) fn field(
        structure: &'static str,
        field: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        SesError::InvalidField {
            structure,
            field,
            reason: reason.into(),
        }
    }
}
