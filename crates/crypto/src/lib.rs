//! Bidkit's cryptography: two algorithm suites behind one interface.
//!
//! * **GM** (the default): SM2 signatures with SM3 and a distinguishing identifier
//!   (GB/T 32918.2, default id `1234567812345678`), SM2 public-key encryption in the
//!   C1‖C3‖C2 order and its GM/T 0009 DER form (GB/T 32918.4), SM3 (GB/T 32905),
//!   SM4 (GB/T 32907) with SM4-GCM as in RFC 8998.
//! * **NIST**: ECDSA on P-256 with SHA-256 (FIPS 186-4), ECIES-style key wrapping on
//!   P-256 with HKDF-SHA-256 and AES-256-GCM.
//!
//! On top of the suites this crate owns the [`Signer`] trait (implemented by a local
//! key here, by the emulated phone keystore and, later, by the phone over the relay),
//! the memory-hard PIN key derivation ([`kdf`]) and the AEAD used by the keystore and
//! bid files ([`aead`]).
//!
//! This crate does not know about certificates, files or the network; every primitive
//! comes from a RustCrypto crate, nothing here is hand-rolled.

mod error;
mod suite;

pub mod aead;
pub mod hash;
pub mod kdf;
pub mod kex;
pub mod keys;
pub mod rng;
pub mod sign;
pub mod wrap;

pub use error::{CryptoError, SignerError};
pub use hash::{HashAlgorithm, Hasher};
pub use keys::{PrivateKey, PublicKey};
pub use sign::{SignatureAlgorithm, Signer};
pub use suite::Suite;

/// The default SM2 distinguishing identifier (GB/T 35276-2017 §10), used whenever a
/// caller does not name another.
pub const DEFAULT_SM2_ID: &str = "1234567812345678";

/// Result type of this crate.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;
