//! The errors of this crate (certificate-path failures are [`crate::ChainError`]).

use std::path::PathBuf;

use bidkit_crypto::{CryptoError, SignerError, Suite};

/// What went wrong in a PKI operation.
///
/// Every message names the file, certificate (by serial) or field involved, so it can be
/// shown to a user as it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A file or directory could not be read, written, renamed or locked.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `write`, `rename`, `lock` …).
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A CA directory holds state that cannot be used (unparseable, inconsistent, or
    /// of the wrong suite).
    #[error("the CA state in {} is unusable: {reason}", path.display())]
    CorruptState {
        /// The file that is unusable.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// DER or PEM input could not be parsed.
    #[error("cannot parse {what}: {reason}")]
    Parse {
        /// What was being parsed (`certificate`, `CRL`, `certificate serial 3f…` …).
        what: String,
        /// The decoder's complaint.
        reason: String,
    },
    /// A certificate or key uses an algorithm Bidkit does not support.
    #[error("{what} uses an unsupported algorithm: {reason}")]
    Unsupported {
        /// The object (certificate serial, key …).
        what: String,
        /// What was found.
        reason: String,
    },
    /// A subject field cannot be put in a certificate.
    #[error("invalid subject {field}: {reason}")]
    InvalidSubject {
        /// Which field (`name`, `ID number`, `unified social credit code`).
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A certificate's subject is not a Bidkit person or organisation name.
    #[error("certificate {serial} has no Bidkit subject identity ({subject}): {reason}")]
    NotAHolderSubject {
        /// Serial of the certificate.
        serial: String,
        /// The subject as printed.
        subject: String,
        /// What is missing.
        reason: String,
    },
    /// A key of one suite was given to a CA or certificate of the other suite.
    #[error("{what}: expected a {expected} key, got a {actual} key")]
    SuiteMismatch {
        /// What the key was for.
        what: String,
        /// The suite of the CA.
        expected: Suite,
        /// The suite of the key given.
        actual: Suite,
    },
    /// A serial number given by a user is not hexadecimal.
    #[error("{input:?} is not a certificate serial number (expected hexadecimal)")]
    InvalidSerial {
        /// The text given.
        input: String,
    },
    /// The serial was not issued by this CA.
    #[error("certificate {serial} was not issued by the {suite} test CA")]
    UnknownSerial {
        /// The serial asked for.
        serial: String,
        /// The CA's suite.
        suite: Suite,
    },
    /// The certificate is already revoked.
    #[error("certificate {serial} is already revoked ({reason}, at {})", crate::chain::fmt_time(*revoked_at))]
    AlreadyRevoked {
        /// The serial.
        serial: String,
        /// The reason recorded the first time.
        reason: crate::RevocationReason,
        /// When it was revoked.
        revoked_at: time::OffsetDateTime,
    },
    /// The root itself cannot be revoked, renewed or used as a holder certificate.
    #[error("certificate {serial} is the test root itself: {what}")]
    RootCertificate {
        /// The root's serial.
        serial: String,
        /// What was attempted.
        what: &'static str,
    },
    /// A certificate cannot be renewed.
    #[error("certificate {serial} cannot be renewed: {reason}")]
    CannotRenew {
        /// The serial of the old certificate.
        serial: String,
        /// Why not.
        reason: String,
    },
    /// The CA cannot issue now (e.g. `now` is outside the root's validity).
    #[error("the {suite} test CA cannot issue: {reason}")]
    CannotIssue {
        /// The CA's suite.
        suite: Suite,
        /// Why not.
        reason: String,
    },
    /// A time is outside what X.509 can encode (1970‥9999 here).
    #[error("time {} cannot be encoded in a certificate or CRL (1970 to 9999 only)", crate::chain::fmt_time(*time))]
    TimeOutOfRange {
        /// The time given.
        time: time::OffsetDateTime,
    },
    /// A certificate or CRL could not be encoded.
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// The encoder's complaint.
        reason: String,
    },
    /// A cryptographic primitive failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The CA's signer did not sign.
    #[error("the CA key did not sign {what}: {source}")]
    Signer {
        /// What was being signed.
        what: String,
        /// The signer's error.
        #[source]
        source: SignerError,
    },
}

impl PkiError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        PkiError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn parse(what: impl Into<String>, reason: impl ToString) -> Self {
        PkiError::Parse {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn encode(what: impl Into<String>, reason: impl ToString) -> Self {
        PkiError::Encode {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}
