use crate::Suite;

/// What went wrong in a cryptographic operation.
///
/// Messages name the suite or algorithm involved; they never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A public key could not be parsed or is not on the curve.
    #[error("invalid {suite} public key: {reason}")]
    InvalidPublicKey {
        /// Suite the key was meant for.
        suite: Suite,
        /// Why it was rejected.
        reason: String,
    },
    /// A private key's bytes are not a valid scalar for the curve.
    #[error("invalid {suite} private key")]
    InvalidPrivateKey {
        /// Suite the key was meant for.
        suite: Suite,
    },
    /// A signature is not a well-formed DER `SEQUENCE { r, s }`.
    #[error("malformed {algorithm} signature")]
    MalformedSignature {
        /// Algorithm of the signature.
        algorithm: crate::SignatureAlgorithm,
    },
    /// A well-formed signature does not verify under the given key and message.
    #[error("{algorithm} signature does not verify")]
    BadSignature {
        /// Algorithm of the signature.
        algorithm: crate::SignatureAlgorithm,
    },
    /// A key of one suite was used where the other suite was expected.
    #[error("suite mismatch: expected {expected}, got {actual}")]
    SuiteMismatch {
        /// The suite the operation needs.
        expected: Suite,
        /// The suite of the key that was given.
        actual: Suite,
    },
    /// A symmetric key has the wrong length for its algorithm.
    #[error("{algorithm} needs a {expected}-byte key, got {actual} bytes")]
    KeyLength {
        /// Algorithm name.
        algorithm: &'static str,
        /// Expected length in bytes.
        expected: usize,
        /// Length that was given.
        actual: usize,
    },
    /// Authenticated decryption failed: the ciphertext, nonce, associated data or key
    /// is wrong. Nothing is released.
    #[error("{what}: authentication failed (data altered or wrong key)")]
    Decrypt {
        /// What was being decrypted.
        what: &'static str,
    },
    /// Encryption failed (for example the message is too long for the mode).
    #[error("{what}: encryption failed")]
    Encrypt {
        /// What was being encrypted.
        what: &'static str,
    },
    /// The operating system's random source failed.
    #[error("the system random source failed")]
    Random,
    /// The PIN key derivation failed (bad parameters).
    #[error("PIN key derivation failed: {0}")]
    Kdf(String),
    /// A key or signature encoding could not be produced.
    #[error("encoding failed: {0}")]
    Encoding(String),
}

/// Why a [`crate::Signer`] did not produce a signature.
///
/// A phone can refuse, time out or be locked; a local key can only fail
/// cryptographically. Callers show the message to the user as it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// The cryptographic operation itself failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The key holder declined to sign.
    #[error("signing refused: {reason}")]
    Refused {
        /// The reason given by the key holder.
        reason: String,
    },
    /// The key holder did not answer in time.
    #[error("signing timed out: no answer from the key holder")]
    TimedOut,
    /// The backend holding the key failed (storage, PIN, authorisation …).
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}
