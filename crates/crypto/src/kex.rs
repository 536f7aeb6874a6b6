//! Ephemeral key agreement and the keyed hashes built on the suites' hashes.
//!
//! * [`EphemeralSecret`]: a one-use key pair for ephemeral-ephemeral ECDH, on the SM2
//!   curve (`sm2p256v1`, GB/T 32918.1) in the GM suite and on P-256 in the NIST suite.
//!   The shared secret is the x-coordinate of `d·Q` (SEC 1 §3.3.1), 32 bytes.
//!   Public keys travel as 33-byte compressed SEC1 points (they end up in QR codes).
//!   GB/T 32918.3's SM2 *key exchange* is not used: it authenticates two parties that
//!   already hold static SM2 keys, and at handshake time neither side has one.
//! * [`hmac`] / [`hmac_verify`]: HMAC-SM3 and HMAC-SHA-256 (RFC 2104).
//! * [`hkdf_extract`] / [`hkdf_expand`]: HKDF (RFC 5869) instantiated with SM3 (as in
//!   RFC 8998's `TLS_SM4_GCM_SM3`) or SHA-256.
//!
//! Every primitive comes from a RustCrypto crate; this module only picks the curve and
//! hash by [`Suite`] and keeps secrets in zeroizing buffers.

use std::fmt;

use hkdf::Hkdf;
use hmac::{KeyInit, Mac};
use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use crate::hash::HashAlgorithm;
use crate::rng::SystemRng;
use crate::{CryptoError, Result, Suite};

/// Length of a compressed SEC1 point on either curve.
pub const PUBLIC_KEY_LEN: usize = 33;
/// Length of an ECDH shared secret (the x-coordinate) on either curve.
pub const SHARED_SECRET_LEN: usize = 32;
/// Output length of HMAC and of an HKDF pseudo-random key for both hashes.
pub const MAC_LEN: usize = 32;

/// A one-use ECDH secret scalar. Dropped (and wiped) after the handshake.
pub enum EphemeralSecret {
    /// A scalar on the SM2 curve.
    Sm2(sm2::NonZeroScalar),
    /// A scalar on P-256.
    P256(p256::NonZeroScalar),
}

impl EphemeralSecret {
    /// A fresh secret of `suite` from the system random source.
    pub fn generate(suite: Suite) -> Result<Self> {
        Self::generate_with_rng(suite, &mut SystemRng)
    }

    /// A fresh secret of `suite` from `rng`.
    pub fn generate_with_rng<R: TryCryptoRng + ?Sized>(suite: Suite, rng: &mut R) -> Result<Self> {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            rng.try_fill_bytes(bytes.as_mut())
                .map_err(|_| CryptoError::Random)?;
            // Rejection sampling: zero or out-of-range scalars are drawn again.
            let key = match suite {
                Suite::Gm => sm2::SecretKey::from_slice(bytes.as_ref())
                    .ok()
                    .map(|k| EphemeralSecret::Sm2(k.to_nonzero_scalar())),
                Suite::Nist => p256::SecretKey::from_slice(bytes.as_ref())
                    .ok()
                    .map(|k| EphemeralSecret::P256(k.to_nonzero_scalar())),
            };
            if let Some(key) = key {
                return Ok(key);
            }
        }
    }

    /// The suite (curve) of this secret.
    pub fn suite(&self) -> Suite {
        match self {
            EphemeralSecret::Sm2(_) => Suite::Gm,
            EphemeralSecret::P256(_) => Suite::Nist,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> EphemeralPublicKey {
        use elliptic_curve::sec1::ToSec1Point;
        let bytes: Vec<u8> = match self {
            EphemeralSecret::Sm2(s) => sm2::PublicKey::from_secret_scalar(s)
                .to_sec1_point(true)
                .as_bytes()
                .to_vec(),
            EphemeralSecret::P256(s) => p256::PublicKey::from_secret_scalar(s)
                .to_sec1_point(true)
                .as_bytes()
                .to_vec(),
        };
        let mut out = [0u8; PUBLIC_KEY_LEN];
        out.copy_from_slice(&bytes);
        EphemeralPublicKey {
            suite: self.suite(),
            bytes: out,
        }
    }

    /// ECDH with `peer`: the x-coordinate of the shared point.
    ///
    /// Fails with [`CryptoError::SuiteMismatch`] when `peer` is on the other curve.
    pub fn diffie_hellman(&self, peer: &EphemeralPublicKey) -> Result<SharedSecret> {
        let mismatch = || CryptoError::SuiteMismatch {
            expected: self.suite(),
            actual: peer.suite,
        };
        let invalid = || CryptoError::InvalidPublicKey {
            suite: peer.suite,
            reason: "not a point on the curve".into(),
        };
        let mut out = Zeroizing::new([0u8; SHARED_SECRET_LEN]);
        match self {
            EphemeralSecret::Sm2(s) => {
                if peer.suite != Suite::Gm {
                    return Err(mismatch());
                }
                let q = sm2::PublicKey::from_sec1_bytes(&peer.bytes).map_err(|_| invalid())?;
                let z = elliptic_curve::ecdh::diffie_hellman::<sm2::Sm2>(s, q.as_affine());
                out.copy_from_slice(z.raw_secret_bytes());
            }
            EphemeralSecret::P256(s) => {
                if peer.suite != Suite::Nist {
                    return Err(mismatch());
                }
                let q = p256::PublicKey::from_sec1_bytes(&peer.bytes).map_err(|_| invalid())?;
                let z = p256::ecdh::diffie_hellman(s, q.as_affine());
                out.copy_from_slice(z.raw_secret_bytes());
            }
        }
        Ok(SharedSecret(out))
    }
}

impl fmt::Debug for EphemeralSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EphemeralSecret({}, redacted)", self.suite())
    }
}

/// An ephemeral public key: a compressed SEC1 point, checked to lie on its curve.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EphemeralPublicKey {
    suite: Suite,
    bytes: [u8; PUBLIC_KEY_LEN],
}

impl EphemeralPublicKey {
    /// Parse a SEC1 point (compressed or uncompressed) of `suite`; it is kept compressed.
    pub fn from_sec1_bytes(suite: Suite, bytes: &[u8]) -> Result<Self> {
        use elliptic_curve::sec1::ToSec1Point;
        crate::keys::standard_sec1_form(suite, bytes)?;
        let invalid = |curve: &str| CryptoError::InvalidPublicKey {
            suite,
            reason: format!("not a point on {curve}"),
        };
        let compressed: Vec<u8> = match suite {
            Suite::Gm => sm2::PublicKey::from_sec1_bytes(bytes)
                .map_err(|_| invalid("the SM2 curve"))?
                .to_sec1_point(true)
                .as_bytes()
                .to_vec(),
            Suite::Nist => p256::PublicKey::from_sec1_bytes(bytes)
                .map_err(|_| invalid("P-256"))?
                .to_sec1_point(true)
                .as_bytes()
                .to_vec(),
        };
        let mut out = [0u8; PUBLIC_KEY_LEN];
        if compressed.len() != PUBLIC_KEY_LEN {
            return Err(invalid("either curve"));
        }
        out.copy_from_slice(&compressed);
        Ok(EphemeralPublicKey { suite, bytes: out })
    }

    /// The suite (curve) of this key.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The 33-byte compressed SEC1 encoding.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for EphemeralPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EphemeralPublicKey({}, ", self.suite)?;
        for b in &self.bytes[..8] {
            write!(f, "{b:02x}")?;
        }
        f.write_str("…)")
    }
}

/// An ECDH shared secret (x-coordinate), wiped on drop and never printed.
pub struct SharedSecret(Zeroizing<[u8; SHARED_SECRET_LEN]>);

impl SharedSecret {
    /// The 32 secret bytes.
    pub fn as_bytes(&self) -> &[u8; SHARED_SECRET_LEN] {
        &self.0
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(redacted)")
    }
}

/// HMAC of `data` under `key` with `hash` (HMAC-SM3 or HMAC-SHA-256).
///
/// `data` is given as parts that are fed in order (no separators are added).
pub fn hmac(hash: HashAlgorithm, key: &[u8], data: &[&[u8]]) -> Result<[u8; MAC_LEN]> {
    // HMAC takes keys of any length, so keying cannot fail in practice.
    let bad_key = |_| CryptoError::Encoding("HMAC key rejected".into());
    Ok(match hash {
        HashAlgorithm::Sm3 => {
            let mut mac =
                <hmac::Hmac<sm3::Sm3> as KeyInit>::new_from_slice(key).map_err(bad_key)?;
            for d in data {
                mac.update(d);
            }
            mac.finalize().into_bytes().into()
        }
        HashAlgorithm::Sha256 => {
            let mut mac =
                <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).map_err(bad_key)?;
            for d in data {
                mac.update(d);
            }
            mac.finalize().into_bytes().into()
        }
    })
}

/// Check `tag` (possibly truncated, at least 8 bytes) against the HMAC of `data` in
/// constant time.
pub fn hmac_verify(hash: HashAlgorithm, key: &[u8], data: &[&[u8]], tag: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    if tag.len() < 8 || tag.len() > MAC_LEN {
        return false;
    }
    match hmac(hash, key, data) {
        Ok(full) => full[..tag.len()].ct_eq(tag).into(),
        Err(_) => false,
    }
}

/// An HKDF pseudo-random key (the output of extract), wiped on drop.
pub struct Prk {
    hash: HashAlgorithm,
    bytes: Zeroizing<[u8; MAC_LEN]>,
}

impl Prk {
    /// The hash this key expands with.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }
}

impl fmt::Debug for Prk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prk({}, redacted)", self.hash)
    }
}

/// HKDF-Extract(salt, ikm) with `hash` (RFC 5869 §2.2).
pub fn hkdf_extract(hash: HashAlgorithm, salt: &[u8], ikm: &[u8]) -> Prk {
    let bytes = match hash {
        HashAlgorithm::Sm3 => Hkdf::<sm3::Sm3>::extract(Some(salt), ikm).0,
        HashAlgorithm::Sha256 => Hkdf::<sha2::Sha256>::extract(Some(salt), ikm).0,
    };
    let mut out = Zeroizing::new([0u8; MAC_LEN]);
    out.copy_from_slice(&bytes);
    Prk { hash, bytes: out }
}

/// HKDF-Expand(prk, info, L = out.len()) (RFC 5869 §2.3). `info` is given as parts
/// fed in order. Fails only when more than 255 · 32 bytes are asked for.
pub fn hkdf_expand(prk: &Prk, info: &[&[u8]], out: &mut [u8]) -> Result<()> {
    let failed = |_| CryptoError::Encoding("HKDF output too long".into());
    match prk.hash {
        HashAlgorithm::Sm3 => Hkdf::<sm3::Sm3>::from_prk(prk.bytes.as_ref())
            .map_err(|_| CryptoError::Encoding("bad HKDF key".into()))?
            .expand_multi_info(info, out)
            .map_err(failed),
        HashAlgorithm::Sha256 => Hkdf::<sha2::Sha256>::from_prk(prk.bytes.as_ref())
            .map_err(|_| CryptoError::Encoding("bad HKDF key".into()))?
            .expand_multi_info(info, out)
            .map_err(failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdh_agrees_in_both_suites() {
        for suite in Suite::ALL {
            let a = EphemeralSecret::generate(suite).unwrap();
            let b = EphemeralSecret::generate(suite).unwrap();
            let ab = a.diffie_hellman(&b.public_key()).unwrap();
            let ba = b.diffie_hellman(&a.public_key()).unwrap();
            assert_eq!(ab.as_bytes(), ba.as_bytes());
            let parsed = EphemeralPublicKey::from_sec1_bytes(suite, a.public_key().as_bytes());
            assert_eq!(parsed.unwrap(), a.public_key());
        }
    }

    #[test]
    fn cross_suite_and_garbage_keys_are_rejected() {
        let a = EphemeralSecret::generate(Suite::Gm).unwrap();
        let b = EphemeralSecret::generate(Suite::Nist).unwrap();
        assert!(a.diffie_hellman(&b.public_key()).is_err());
        assert!(EphemeralPublicKey::from_sec1_bytes(Suite::Gm, &[2u8; 33]).is_err());
        assert!(EphemeralPublicKey::from_sec1_bytes(Suite::Nist, &[0u8; 1]).is_err());
    }

    /// The compact form (`05` ‖ x), which the curve crates accept, would be a second
    /// encoding of the same key (a QR payload that parses but re-encodes differently).
    #[test]
    fn compact_points_are_refused() {
        use elliptic_curve::sec1::ToSec1Point;
        for suite in Suite::ALL {
            let key = EphemeralSecret::generate(suite).unwrap().public_key();
            let mut compact = *key.as_bytes();
            compact[0] = 0x05;
            assert!(EphemeralPublicKey::from_sec1_bytes(suite, &compact).is_err());
            assert!(crate::PublicKey::from_sec1_bytes(suite, &compact).is_err());
            // The same key, uncompressed, is still taken.
            let uncompressed = match suite {
                Suite::Gm => sm2::PublicKey::from_sec1_bytes(key.as_bytes())
                    .unwrap()
                    .to_sec1_point(false)
                    .as_bytes()
                    .to_vec(),
                Suite::Nist => p256::PublicKey::from_sec1_bytes(key.as_bytes())
                    .unwrap()
                    .to_sec1_point(false)
                    .as_bytes()
                    .to_vec(),
            };
            let parsed = EphemeralPublicKey::from_sec1_bytes(suite, &uncompressed).unwrap();
            assert_eq!(parsed, key);
        }
    }

    #[test]
    fn hmac_sha256_matches_rfc4231_case_2() {
        let tag = hmac(
            HashAlgorithm::Sha256,
            b"Jefe",
            &[b"what do ya want ", b"for nothing?"],
        )
        .unwrap();
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac_verify(
            HashAlgorithm::Sha256,
            b"Jefe",
            &[b"what do ya want for nothing?"],
            &tag[..16]
        ));
        assert!(!hmac_verify(HashAlgorithm::Sha256, b"Jefe", &[b"x"], &tag));
    }

    #[test]
    fn hkdf_sha256_matches_rfc5869_case_1() {
        let ikm = [0x0bu8; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        let prk = hkdf_extract(HashAlgorithm::Sha256, &salt, &ikm);
        let mut okm = [0u8; 42];
        hkdf_expand(&prk, &[&info[..4], &info[4..]], &mut okm).unwrap();
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn hmac_sm3_differs_from_sha256_and_is_deterministic() {
        let a = hmac(HashAlgorithm::Sm3, b"k", &[b"data"]).unwrap();
        assert_eq!(a, hmac(HashAlgorithm::Sm3, b"k", &[b"da", b"ta"]).unwrap());
        assert_ne!(a, hmac(HashAlgorithm::Sha256, b"k", &[b"data"]).unwrap());
    }
}
