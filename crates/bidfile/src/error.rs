//! The errors of this crate.

use std::path::PathBuf;

use bidkit_crypto::{CryptoError, Suite};

/// What went wrong with a bid file.
///
/// Every message names the file and, where it applies, the chunk (counted from 0, "chunk
/// 3 of 10") or the recipient (certificate serial), so it can be shown to a user as it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BidFileError {
    /// A file could not be opened, read, written, synced or renamed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`open`, `read`, `write`, `rename into place` …).
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The plaintext input could not be read.
    #[error("cannot read the input {input}: {source}")]
    ReadInput {
        /// The input (a path, or `the input stream`).
        input: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the bid-file magic `BIDKIT-BID\0`.
    #[error("{} is not a Bidkit bid file (no BIDKIT-BID signature at the start)", path.display())]
    NotABidFile {
        /// The file.
        path: PathBuf,
    },
    /// The file is a bid file of a format version this build does not read.
    #[error("{} is a bid file of format version {version}; this Bidkit reads version {supported}", path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version byte found.
        version: u8,
        /// The version this build reads.
        supported: u8,
    },
    /// The file ends before the part it must contain.
    #[error("{} is truncated: {what} ends at byte {expected}, but the file has {actual} bytes", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The part that is cut off (`the header`, `chunk 3 of 10` …).
        what: String,
        /// Where that part should end.
        expected: u64,
        /// The file's length.
        actual: u64,
    },
    /// Bytes follow the last chunk.
    #[error("{} has {extra} unexpected byte(s) after its last chunk", path.display())]
    TrailingData {
        /// The file.
        path: PathBuf,
        /// How many bytes follow the payload.
        extra: u64,
    },
    /// The header cannot be decoded or breaks a rule of the format.
    #[error("the header of {} is damaged: {reason}", path.display())]
    MalformedHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The header signature block cannot be decoded.
    #[error("the header signature block of {} is damaged: {reason}", path.display())]
    MalformedSignature {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The header signature does not verify under the certificate in the file.
    #[error("the header signature of {} does not verify (signer {signer}): the header was altered after signing", path.display())]
    HeaderSignatureInvalid {
        /// The file.
        path: PathBuf,
        /// The certificate's subject and serial.
        signer: String,
    },
    /// A chunk failed authenticated decryption.
    #[error(
        "chunk {chunk} of {count} in {} failed authentication: the file was altered, truncated or reordered, or the content key is not this file's",
        path.display()
    )]
    ChunkAuthentication {
        /// The file.
        path: PathBuf,
        /// The chunk index (from 0).
        chunk: u64,
        /// The number of chunks the header announces.
        count: u64,
    },
    /// Every chunk authenticated but a hash does not match the signed header.
    #[error("{} does not match its header: the {what} hash differs", path.display())]
    HashMismatch {
        /// The file.
        path: PathBuf,
        /// `content` (plaintext) or `ciphertext`.
        what: &'static str,
    },
    /// No recipient of the file has the certificate serial asked for.
    #[error("{} has no recipient with certificate serial {serial} (recipients: {available})", path.display())]
    NoSuchRecipient {
        /// The file.
        path: PathBuf,
        /// The serial asked for.
        serial: String,
        /// The serials present, comma-separated.
        available: String,
    },
    /// A recipient certificate cannot receive the content key.
    #[error("recipient certificate {serial} ({subject}) cannot be used: {reason}")]
    UnusableRecipient {
        /// The certificate's serial.
        serial: String,
        /// The certificate's subject.
        subject: String,
        /// Why not.
        reason: String,
    },
    /// The signer certificate cannot sign this header.
    #[error("signer certificate {serial} ({subject}) cannot sign this bid file: {reason}")]
    UnusableSigner {
        /// The certificate's serial.
        serial: String,
        /// The certificate's subject.
        subject: String,
        /// Why not.
        reason: String,
    },
    /// The supplied signature does not verify over the prepared bytes.
    #[error(
        "the {what} signature returned by the signer does not verify under certificate {serial}"
    )]
    BadSignature {
        /// What was signed (`bid-file header`, `submission receipt` …).
        what: &'static str,
        /// The certificate's serial.
        serial: String,
    },
    /// The wrapped content key could not be unwrapped with the given private key.
    #[error(
        "cannot unwrap the content key of recipient {serial}: {source} (is this the private key of that encryption certificate?)"
    )]
    Unwrap {
        /// The recipient's certificate serial.
        serial: String,
        /// The cryptographic error.
        #[source]
        source: CryptoError,
    },
    /// A content key of the wrong length or suite was supplied.
    #[error("the content key does not fit a {suite} bid file: {reason}")]
    BadContentKey {
        /// The suite of the file.
        suite: Suite,
        /// What is wrong.
        reason: String,
    },
    /// An argument is out of range or inconsistent.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// The argument (`chunk size`, `tender id`, `output` …).
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The input is larger than the format can hold with this chunk size.
    #[error("the input is too large: more than {max_chunks} chunks of {chunk_size} bytes")]
    TooLarge {
        /// The chunk size used.
        chunk_size: u32,
        /// The maximum number of chunks.
        max_chunks: u64,
    },
    /// A signed statement (receipt, withdrawal) cannot be decoded.
    #[error("the {what} is damaged: {reason}")]
    MalformedStatement {
        /// `submission receipt` or `withdrawal`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Something that cannot happen did (a worker thread stopped, a length overflowed).
    #[error("internal error: {0}")]
    Internal(String),
    /// A cryptographic primitive failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A certificate could not be read.
    #[error(transparent)]
    Pki(#[from] bidkit_pki::PkiError),
}

impl BidFileError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        BidFileError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the error means the file was damaged or tampered with (as opposed to an
    /// I/O failure, a wrong argument or a wrong key the caller supplied).
    pub fn is_damage(&self) -> bool {
        matches!(
            self,
            BidFileError::Truncated { .. }
                | BidFileError::TrailingData { .. }
                | BidFileError::MalformedHeader { .. }
                | BidFileError::MalformedSignature { .. }
                | BidFileError::HeaderSignatureInvalid { .. }
                | BidFileError::ChunkAuthentication { .. }
                | BidFileError::HashMismatch { .. }
        )
    }
}

/// Result type of this crate.
pub type Result<T, E = BidFileError> = std::result::Result<T, E>;
