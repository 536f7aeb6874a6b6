//! Bidkit's **bid-file container** (投标文件): a documented, versioned envelope that
//! holds one encrypted bid payload.
//!
//! ```text
//! "BIDKIT-BID\0" ‖ version (1) ‖ header length (u32 BE) ‖ header (DER)
//!              ‖ certificate length (u32 BE) ‖ signer certificate (DER)
//!              ‖ signature length (u32 BE) ‖ signature (DER)
//!              ‖ padding length (u32 BE) ‖ zero padding
//!              ‖ chunk 0 ‖ chunk 1 ‖ … ‖ chunk n-1        (ciphertext ‖ 16-byte tag each)
//! ```
//!
//! The byte-level specification is `docs/bidfile-format.md`. In short:
//!
//! * The **header** ([`Header`]) names the suite, tender, bidder, creation time, chunk
//!   size, a random 16-byte file id, the recipients (encryption certificate serial and
//!   subject, and the content key wrapped to it: SM2 GM/T 0009 DER in GM, ECIES P-256 in
//!   NIST), and, after encryption, the plaintext size and hash and the hash of the
//!   stored ciphertext.
//! * The **header signature** ([`HeaderSignature`]): the bidder's signing certificate
//!   and its detached signature over every byte before the signature (preamble, header
//!   and certificate), made by the phone (staged: [`PreparedBidFile::to_be_signed`],
//!   then [`PreparedBidFile::finish`]). The payload is written once, straight into its
//!   place after room for this header part (zero padding fills what is left).
//! * The **payload** is a streamed chunked AEAD (the STREAM construction): SM4-GCM or
//!   AES-256-GCM per chunk under a random content key ([`ContentKey`]), nonce
//!   `fileId[0..7] ‖ chunk index (u32 BE) ‖ final flag`, associated data the hash of
//!   the header's pre-encryption part. Truncation, reordering, duplication, bit flips,
//!   header swaps and splicing between files all fail authentication.
//!
//! What this crate owns: the format, [`Encryptor`] / [`Decryptor`] (streaming, constant
//! memory: at most [`stream::BUFFERS`] chunk buffers whatever the size; the cipher runs
//! on every core, the two hashes on their own threads), [`inspect`]
//! (integrity without the key: exit 0 intact, 1 damaged or tampered, 2 unreadable), and
//! the signed submission [`Receipt`] and [`Withdrawal`] statements.
//!
//! What it must not do: talk to the phone or the relay (callers carry
//! [`PreparedBidFile::to_be_signed`] and wrapped keys there and bring back signatures and
//! content keys), know what the payload contains (the bid package is the builder's),
//! decide trust (chain validation is [`Decryptor::verify_signer_chain`] with the
//! caller's trust store), modify an input, or leave a partial output behind: outputs
//! are unnamed files that get their name only when complete and, for decryption, when
//! every chunk authenticated and the hashes match.

mod container;
mod decrypt;
mod encrypt;
mod error;
mod fsio;
mod header;
mod inspect;
mod key;
mod statement;
pub mod stream;

pub use container::{HeaderSignature, Layout, SignatureCheck};
pub use decrypt::{DecryptOutcome, Decryptor};
pub use encrypt::{BidFileOutcome, Encryptor, PreparedBidFile};
pub use error::{BidFileError, Result};
pub use fsio::TEMP_SUFFIX;
pub use header::{
    Bidder, DEFAULT_CONTENT_TYPE, FILE_ID_LEN, Header, HeaderDraft, NONCE_PREFIX_LEN,
    PayloadSummary, Recipient, RecipientRole,
};
pub use inspect::{InspectReport, Verdict, inspect};
pub use key::ContentKey;
pub use statement::{
    BidFileRef, Receipt, Signed, SignedReceipt, SignedWithdrawal, Statement, Withdrawal, hash_file,
};
pub use stream::{Progress, Timings};

/// The first 11 bytes of every bid file.
pub const MAGIC: &[u8; 11] = b"BIDKIT-BID\0";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Bytes before the header: magic, version, header length.
pub const PREAMBLE_LEN: usize = MAGIC.len() + 1 + 4;
/// Default plaintext bytes per chunk: 1 MiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 1 << 20;
/// Smallest chunk size accepted.
pub const MIN_CHUNK_SIZE: u32 = 16;
/// Largest chunk size accepted (bounds memory: [`stream::BUFFERS`] buffers of it).
pub const MAX_CHUNK_SIZE: u32 = 8 << 20;
/// Most recipients a file may have.
pub const MAX_RECIPIENTS: usize = 64;
/// Largest header accepted.
pub const MAX_HEADER_LEN: u32 = 1 << 20;
/// Largest signer certificate accepted.
pub const MAX_CERTIFICATE_LEN: u32 = 16 << 10;
/// Largest header signature accepted (a DER ECDSA / SM2 signature is at most 72 bytes).
pub const MAX_SIGNATURE_LEN: u32 = 256;
/// Most zero bytes allowed between the signature and the payload.
pub const MAX_PADDING_LEN: u32 = 64 << 10;
/// Most chunks a file may have (the nonce's chunk index is 32 bits).
pub const MAX_CHUNKS: u64 = 1 << 32;

pub(crate) const TAG_LEN_U64: u64 = bidkit_crypto::aead::TAG_LEN as u64;

/// Serialise bytes as lowercase hex (JSON reports).
pub(crate) fn hex_bytes<S: serde::Serializer, B: AsRef<[u8]>>(
    bytes: &B,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(bytes.as_ref()))
}
