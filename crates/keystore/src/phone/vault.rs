//! Keys at rest.
//!
//! Each certificate installed on a phone has a random **data key** (16 bytes for
//! SM4-GCM in the GM suite, 32 for AES-256-GCM in the NIST suite). Both private keys of
//! the certificate are sealed with that AEAD under the data key, each with its own
//! random nonce and with `key id ‖ serial ‖ purpose ‖ suite ‖ device id` as associated
//! data, so a blob copied to another row, phone or certificate does not open.
//!
//! The data key itself is stored only wrapped:
//!
//! * under a key derived from the six-digit PIN with Argon2id
//!   ([`bidkit_crypto::kdf::derive_pin_key`]; per-wrap random 16-byte salt, the cost
//!   parameters stored beside it) — opening this wrap *is* the PIN check, the PIN is
//!   never stored;
//! * under the platform's recovery key for (certificate, device), which the emulated
//!   CA releases only after an SMS code (see `service::recovery`).
//!
//! Nothing here writes a private scalar anywhere in any encoding; plaintext lives in
//! zeroizing buffers only.

use bidkit_crypto::aead::{AeadKey, NONCE_LEN};
use bidkit_crypto::kdf::{PinKdfParams, derive_pin_key};
use bidkit_crypto::{PrivateKey, Suite};
use zeroize::Zeroizing;

use crate::{KeystoreError, Result};

/// Salt length of a PIN wrap.
pub(crate) const SALT_LEN: usize = 16;

/// A certificate's data key, wiped on drop, never printed.
#[derive(Clone)]
pub(crate) struct DataKey {
    suite: Suite,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({}, redacted)", self.suite)
    }
}

impl DataKey {
    /// A fresh random data key for `suite`'s AEAD.
    pub(crate) fn generate(suite: Suite) -> Result<Self> {
        let mut bytes = Zeroizing::new(vec![0u8; suite.aead().key_len()]);
        bidkit_crypto::rng::fill(&mut bytes)?;
        Ok(DataKey { suite, bytes })
    }

    fn aead(&self) -> Result<AeadKey> {
        Ok(AeadKey::new(self.suite.aead(), &self.bytes)?)
    }
}

/// The data key wrapped under the PIN.
pub(crate) struct PinWrap {
    pub(crate) params: PinKdfParams,
    pub(crate) salt: Vec<u8>,
    pub(crate) nonce: Vec<u8>,
    pub(crate) wrapped: Vec<u8>,
}

/// The data key wrapped under the recovery key.
pub(crate) struct RecoveryWrap {
    pub(crate) nonce: Vec<u8>,
    pub(crate) wrapped: Vec<u8>,
}

/// Associated data: a domain label and length-prefixed parts.
pub(crate) fn aad(label: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = b"bidkit-keystore/v1/".to_vec();
    out.extend_from_slice(label.as_bytes());
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// An AEAD key of `suite` from the first bytes of a 32-byte secret.
fn kek(suite: Suite, secret: &[u8]) -> Result<AeadKey> {
    let len = suite.aead().key_len();
    let bytes = secret.get(..len).ok_or_else(|| {
        KeystoreError::corrupt(
            "key material",
            format!("need {len} bytes, have {}", secret.len()),
        )
    })?;
    Ok(AeadKey::new(suite.aead(), bytes)?)
}

fn nonce_array(nonce: &[u8]) -> Result<[u8; NONCE_LEN]> {
    nonce.try_into().map_err(|_| {
        KeystoreError::corrupt("phone keys", format!("a nonce has {} bytes", nonce.len()))
    })
}

/// Wrap `dk` under a key derived from `pin` (fresh salt and nonce).
pub(crate) fn wrap_under_pin(
    dk: &DataKey,
    pin: &str,
    params: PinKdfParams,
    aad: &[u8],
) -> Result<PinWrap> {
    let salt = bidkit_crypto::rng::random_array::<SALT_LEN>()?;
    let nonce = bidkit_crypto::rng::random_array::<NONCE_LEN>()?;
    let derived = derive_pin_key(pin.as_bytes(), &salt, params)?;
    let wrapped = kek(dk.suite, derived.as_ref())?.seal(&nonce, aad, &dk.bytes)?;
    Ok(PinWrap {
        params,
        salt: salt.to_vec(),
        nonce: nonce.to_vec(),
        wrapped,
    })
}

/// Open a PIN wrap; `Ok(None)` means the PIN is wrong.
pub(crate) fn unwrap_under_pin(
    suite: Suite,
    wrap: &PinWrap,
    pin: &str,
    aad: &[u8],
) -> Result<Option<DataKey>> {
    let derived = derive_pin_key(pin.as_bytes(), &wrap.salt, wrap.params)?;
    let key = kek(suite, derived.as_ref())?;
    match key.open(
        &nonce_array(&wrap.nonce)?,
        aad,
        &wrap.wrapped,
        "certificate data key",
    ) {
        Ok(bytes) => Ok(Some(DataKey { suite, bytes })),
        Err(_) => Ok(None),
    }
}

/// Wrap `dk` under the platform's recovery key.
pub(crate) fn wrap_under_recovery(
    dk: &DataKey,
    recovery_key: &[u8],
    aad: &[u8],
) -> Result<RecoveryWrap> {
    let nonce = bidkit_crypto::rng::random_array::<NONCE_LEN>()?;
    let wrapped = kek(dk.suite, recovery_key)?.seal(&nonce, aad, &dk.bytes)?;
    Ok(RecoveryWrap {
        nonce: nonce.to_vec(),
        wrapped,
    })
}

/// Open the recovery wrap.
pub(crate) fn unwrap_under_recovery(
    suite: Suite,
    wrap: &RecoveryWrap,
    recovery_key: &[u8],
    aad: &[u8],
) -> Result<DataKey> {
    let bytes = kek(suite, recovery_key)?.open(
        &nonce_array(&wrap.nonce)?,
        aad,
        &wrap.wrapped,
        "certificate data key (recovery wrap)",
    )?;
    Ok(DataKey { suite, bytes })
}

/// Seal a private key under the data key.
pub(crate) fn seal_key(dk: &DataKey, key: &PrivateKey, aad: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let nonce = bidkit_crypto::rng::random_array::<NONCE_LEN>()?;
    let scalar = key.to_bytes();
    let sealed = dk.aead()?.seal(&nonce, aad, scalar.as_ref())?;
    Ok((nonce.to_vec(), sealed))
}

/// Open a sealed private key; `Ok(None)` means the blob does not authenticate.
pub(crate) fn open_key(
    dk: &DataKey,
    nonce: &[u8],
    sealed: &[u8],
    aad: &[u8],
) -> Result<Option<PrivateKey>> {
    match dk
        .aead()?
        .open(&nonce_array(nonce)?, aad, sealed, "private key")
    {
        Ok(scalar) => Ok(Some(PrivateKey::from_bytes(dk.suite, &scalar)?)),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pin_wrap_opens_only_with_the_pin_and_the_same_aad() {
        for suite in Suite::ALL {
            let dk = DataKey::generate(suite).unwrap();
            let a = aad("pin", &[b"dev", b"1"]);
            let wrap = wrap_under_pin(&dk, "123456", PinKdfParams::FOR_TESTS, &a).unwrap();
            let back = unwrap_under_pin(suite, &wrap, "123456", &a)
                .unwrap()
                .unwrap();
            assert_eq!(back.bytes.as_slice(), dk.bytes.as_slice());
            assert!(
                unwrap_under_pin(suite, &wrap, "654321", &a)
                    .unwrap()
                    .is_none()
            );
            let other = aad("pin", &[b"dev", b"2"]);
            assert!(
                unwrap_under_pin(suite, &wrap, "123456", &other)
                    .unwrap()
                    .is_none()
            );
        }
    }

    #[test]
    fn key_blobs_are_bound_to_their_aad() {
        let suite = Suite::Gm;
        let dk = DataKey::generate(suite).unwrap();
        let key = PrivateKey::for_tests(suite, "vault");
        let a = aad("private-key", &[b"k1", b"serial"]);
        let (nonce, sealed) = seal_key(&dk, &key, &a).unwrap();
        let back = open_key(&dk, &nonce, &sealed, &a).unwrap().unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let moved = aad("private-key", &[b"k2", b"serial"]);
        assert!(open_key(&dk, &nonce, &sealed, &moved).unwrap().is_none());
    }
}
