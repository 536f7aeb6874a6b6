//! Authenticated encryption: SM4-GCM (RFC 8998 §2.3, GB/T 32907 block cipher in
//! NIST SP 800-38D GCM) and AES-256-GCM. 96-bit nonces, 128-bit tags.

use std::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce, Tag};
use serde::{Deserialize, Serialize};

use crate::{CryptoError, Result};

/// SM4 in GCM mode with a 96-bit nonce (RFC 8998 `TLS_SM4_GCM_SM3`).
pub type Sm4Gcm = AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// Nonce length in bytes for both algorithms.
pub const NONCE_LEN: usize = 12;
/// Tag length in bytes for both algorithms.
pub const TAG_LEN: usize = 16;

/// An authenticated cipher of one of the suites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AeadAlgorithm {
    /// SM4-GCM, 128-bit key.
    Sm4Gcm,
    /// AES-256-GCM, 256-bit key.
    Aes256Gcm,
}

impl AeadAlgorithm {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            AeadAlgorithm::Sm4Gcm => 16,
            AeadAlgorithm::Aes256Gcm => 32,
        }
    }

    /// Name as printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            AeadAlgorithm::Sm4Gcm => "SM4-GCM",
            AeadAlgorithm::Aes256Gcm => "AES-256-GCM",
        }
    }
}

impl fmt::Display for AeadAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A keyed AEAD instance (key schedule done once, reused for many messages).
#[derive(Clone)]
pub enum AeadKey {
    /// SM4-GCM.
    Sm4Gcm(Box<Sm4Gcm>),
    /// AES-256-GCM.
    Aes256Gcm(Box<Aes256Gcm>),
}

impl AeadKey {
    /// Key `algorithm` with `key` (16 bytes for SM4, 32 for AES-256).
    pub fn new(algorithm: AeadAlgorithm, key: &[u8]) -> Result<Self> {
        let wrong = || CryptoError::KeyLength {
            algorithm: algorithm.name(),
            expected: algorithm.key_len(),
            actual: key.len(),
        };
        match algorithm {
            AeadAlgorithm::Sm4Gcm => Sm4Gcm::new_from_slice(key)
                .map(|c| AeadKey::Sm4Gcm(Box::new(c)))
                .map_err(|_| wrong()),
            AeadAlgorithm::Aes256Gcm => Aes256Gcm::new_from_slice(key)
                .map(|c| AeadKey::Aes256Gcm(Box::new(c)))
                .map_err(|_| wrong()),
        }
    }

    /// The algorithm of this key.
    pub fn algorithm(&self) -> AeadAlgorithm {
        match self {
            AeadKey::Sm4Gcm(_) => AeadAlgorithm::Sm4Gcm,
            AeadKey::Aes256Gcm(_) => AeadAlgorithm::Aes256Gcm,
        }
    }

    /// Encrypt `buffer` in place and return the tag.
    pub fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buffer: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        let nonce = Nonce::<aes_gcm::aead::consts::U12>::from(*nonce);
        let failed = |_| CryptoError::Encrypt {
            what: self.algorithm().name(),
        };
        let tag: Tag = match self {
            AeadKey::Sm4Gcm(c) => c.encrypt_inout_detached(&nonce, aad, buffer.into()),
            AeadKey::Aes256Gcm(c) => c.encrypt_inout_detached(&nonce, aad, buffer.into()),
        }
        .map_err(failed)?;
        Ok(tag.into())
    }

    /// Decrypt `buffer` in place after checking `tag`; on failure the buffer is wiped.
    pub fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8; TAG_LEN],
        what: &'static str,
    ) -> Result<()> {
        let nonce = Nonce::<aes_gcm::aead::consts::U12>::from(*nonce);
        let tag = Tag::from(*tag);
        let result = match self {
            AeadKey::Sm4Gcm(c) => {
                c.decrypt_inout_detached(&nonce, aad, (&mut *buffer).into(), &tag)
            }
            AeadKey::Aes256Gcm(c) => {
                c.decrypt_inout_detached(&nonce, aad, (&mut *buffer).into(), &tag)
            }
        };
        result.map_err(|_| {
            buffer.fill(0);
            CryptoError::Decrypt { what }
        })
    }

    /// Encrypt and return `ciphertext ‖ tag`.
    pub fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut out = plaintext.to_vec();
        let tag = self.seal_in_place(nonce, aad, &mut out)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Decrypt `ciphertext ‖ tag`; `what` names the data in the error.
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        sealed: &[u8],
        what: &'static str,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let split = sealed
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(CryptoError::Decrypt { what })?;
        let (ct, tag) = sealed.split_at(split);
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| CryptoError::Decrypt { what })?;
        let mut out = zeroize::Zeroizing::new(ct.to_vec());
        self.open_in_place(nonce, aad, &mut out, &tag, what)?;
        Ok(out)
    }
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AeadKey({}, redacted)", self.algorithm())
    }
}
