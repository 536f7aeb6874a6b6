//! SM3 (GB/T 32905-2016) and SHA-256 (FIPS 180-4), one-shot and streaming.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// A hash function of one of the suites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashAlgorithm {
    /// SM3, 256-bit output (GB/T 32905-2016).
    Sm3,
    /// SHA-256 (FIPS 180-4).
    Sha256,
}

impl HashAlgorithm {
    /// Output length in bytes (32 for both).
    pub const OUTPUT_LEN: usize = 32;

    /// Hash `data` in one call.
    pub fn digest(self, data: &[u8]) -> [u8; 32] {
        let mut h = self.hasher();
        h.update(data);
        h.finalize()
    }

    /// A streaming hasher for this algorithm.
    pub fn hasher(self) -> Hasher {
        match self {
            HashAlgorithm::Sm3 => Hasher::Sm3(sm3::Sm3::new()),
            HashAlgorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    /// Name as printed in reports (`SM3`, `SHA-256`).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sm3 => "SM3",
            HashAlgorithm::Sha256 => "SHA-256",
        }
    }
}

impl std::fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A streaming hash state: feed bytes with [`Hasher::update`], then [`Hasher::finalize`].
#[derive(Clone, Debug)]
pub enum Hasher {
    /// SM3 state.
    Sm3(sm3::Sm3),
    /// SHA-256 state.
    Sha256(sha2::Sha256),
}

impl Hasher {
    /// Absorb more input.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sm3(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// Finish and return the 32-byte digest.
    pub fn finalize(self) -> [u8; 32] {
        match self {
            Hasher::Sm3(h) => h.finalize().into(),
            Hasher::Sha256(h) => h.finalize().into(),
        }
    }

    /// Which algorithm this state computes.
    pub fn algorithm(&self) -> HashAlgorithm {
        match self {
            Hasher::Sm3(_) => HashAlgorithm::Sm3,
            Hasher::Sha256(_) => HashAlgorithm::Sha256,
        }
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
