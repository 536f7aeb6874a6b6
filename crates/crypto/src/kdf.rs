//! Deriving a key-encryption key from a six-digit PIN with Argon2id (RFC 9106).
//!
//! A six-digit PIN has only 10^6 values, so the derivation must be slow and
//! memory-hard; the keystore additionally limits attempts. Parameters are stored with
//! each derived blob so they can be raised later without breaking old blobs.

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{CryptoError, Result};

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinKdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl PinKdfParams {
    /// The production setting: 128 MiB, 3 passes, 1 lane. The target is ≥ 250 ms per
    /// derivation on a 2-core desktop; `bidkit bench crypto` measures it against that
    /// target (about 280–300 ms on the 2-core development VM).
    pub const DEFAULT: PinKdfParams = PinKdfParams {
        memory_kib: 128 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// A cheap setting for unit tests only (never written by the product).
    pub const FOR_TESTS: PinKdfParams = PinKdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
}

impl Default for PinKdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Derive a 32-byte key from `pin` and a per-blob `salt` (at least 16 bytes).
pub fn derive_pin_key(
    pin: &[u8],
    salt: &[u8],
    params: PinKdfParams,
) -> Result<Zeroizing<[u8; 32]>> {
    let p = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|e| CryptoError::Kdf(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(pin, salt, out.as_mut())
        .map_err(|e| CryptoError::Kdf(e.to_string()))?;
    Ok(out)
}
