//! The content key: one random symmetric key per bid file.

use std::fmt;

use bidkit_crypto::aead::{AeadAlgorithm, AeadKey};
use bidkit_crypto::{PrivateKey, Suite};
use zeroize::Zeroizing;

use crate::header::Recipient;
use crate::{BidFileError, Result};

/// The symmetric key that encrypts one bid file's payload: 16 bytes for SM4-GCM (GM),
/// 32 bytes for AES-256-GCM (NIST). Wiped from memory when dropped.
///
/// Made fresh for every file with [`ContentKey::generate`]; recovered at the opening
/// either from the phone's answer ([`ContentKey::from_bytes`] with the bytes of an
/// `UnwrappedKey`) or, with a local key, by [`ContentKey::unwrap`].
#[derive(Clone)]
pub struct ContentKey {
    suite: Suite,
    bytes: Zeroizing<Vec<u8>>,
}

impl ContentKey {
    /// A fresh random key for `suite`'s cipher, from the operating system's generator.
    pub fn generate(suite: Suite) -> Result<Self> {
        let mut bytes = Zeroizing::new(vec![0u8; suite.aead().key_len()]);
        bidkit_crypto::rng::fill(&mut bytes)?;
        Ok(ContentKey { suite, bytes })
    }

    /// A key received from elsewhere (the phone's unwrap answer). Fails if the length
    /// does not fit `suite`'s cipher.
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self> {
        let expected = suite.aead().key_len();
        if bytes.len() != expected {
            return Err(BidFileError::BadContentKey {
                suite,
                reason: format!("{expected} bytes expected, {} given", bytes.len()),
            });
        }
        Ok(ContentKey {
            suite,
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// Unwrap `recipient`'s wrapped key with the private key of its encryption
    /// certificate (SM2 decryption in GM, ECIES in NIST). This is what the phone does;
    /// the desktop uses it only with local or test keys.
    pub fn unwrap(suite: Suite, recipient: &Recipient, private_key: &PrivateKey) -> Result<Self> {
        if private_key.suite() != suite {
            return Err(BidFileError::BadContentKey {
                suite,
                reason: format!("the private key is of the {} suite", private_key.suite()),
            });
        }
        let bytes =
            bidkit_crypto::wrap::unwrap(private_key, &recipient.wrapped_key).map_err(|source| {
                BidFileError::Unwrap {
                    serial: recipient.certificate_serial.clone(),
                    source,
                }
            })?;
        Self::from_bytes(suite, &bytes)
    }

    /// The suite whose cipher this key is for.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The raw key bytes (to hand to an independent implementation, or to wrap).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The cipher this key is for.
    pub fn algorithm(&self) -> AeadAlgorithm {
        self.suite.aead()
    }

    /// The keyed AEAD instance.
    pub(crate) fn aead(&self) -> Result<AeadKey> {
        Ok(AeadKey::new(self.suite.aead(), &self.bytes)?)
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentKey({}, redacted)", self.suite.aead())
    }
}
