//! Encrypting a short secret (a content key) to a public key, and back.
//!
//! * GM: SM2 public-key encryption (GB/T 32918.4) with SM3, ciphertext in the
//!   GM/T 0009-2012 §7.2 DER form `SEQUENCE { x, y, hash (C3), ciphertext (C2) }`.
//!   [`sm2_encrypt`] / [`sm2_decrypt`] also offer the raw `C1 ‖ C3 ‖ C2` form.
//! * NIST: ECIES on P-256: an ephemeral key `e`, `Z = ECDH(e, Q)`,
//!   `HKDF-SHA-256(ikm = Z.x, salt = E ‖ Q, info = "bidkit/ecies-p256-aes256gcm/v1")`
//!   gives a 32-byte key and 12-byte nonce; the output is `E (65 bytes) ‖ AES-256-GCM
//!   ciphertext ‖ tag`.

use hkdf::Hkdf;
use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use crate::aead::{AeadAlgorithm, AeadKey, NONCE_LEN};
use crate::rng::SystemRng;
use crate::{CryptoError, PrivateKey, PublicKey, Result, Suite};

const ECIES_INFO: &[u8] = b"bidkit/ecies-p256-aes256gcm/v1";
const P256_POINT_LEN: usize = 65;

/// How an SM2 ciphertext is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sm2Encoding {
    /// `04 ‖ x1 ‖ y1 ‖ C3 ‖ C2` (GB/T 32918.4-2016 order).
    Raw,
    /// GM/T 0009-2012 DER `SEQUENCE`.
    Der,
}

/// Encrypt `plaintext` to an SM2 public key.
pub fn sm2_encrypt<R: TryCryptoRng>(
    key: &PublicKey,
    plaintext: &[u8],
    encoding: Sm2Encoding,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let PublicKey::Sm2(vk) = key else {
        return Err(CryptoError::SuiteMismatch {
            expected: Suite::Gm,
            actual: key.suite(),
        });
    };
    let ek =
        sm2::pke::EncryptingKey::new_with_mode(sm2::PublicKey::from(vk), sm2::pke::Mode::C1C3C2);
    let failed = |_| CryptoError::Encrypt {
        what: "SM2 encryption",
    };
    match encoding {
        Sm2Encoding::Raw => ek.encrypt(rng, plaintext).map_err(failed),
        Sm2Encoding::Der => ek.encrypt_der(rng, plaintext).map_err(failed),
    }
}

/// Decrypt an SM2 ciphertext made for `key`.
pub fn sm2_decrypt(
    key: &PrivateKey,
    ciphertext: &[u8],
    encoding: Sm2Encoding,
) -> Result<Zeroizing<Vec<u8>>> {
    let PrivateKey::Sm2(sk) = key else {
        return Err(CryptoError::SuiteMismatch {
            expected: Suite::Gm,
            actual: key.suite(),
        });
    };
    let dk =
        sm2::pke::DecryptingKey::new_with_mode(*sk.as_nonzero_scalar(), sm2::pke::Mode::C1C3C2);
    let failed = |_| CryptoError::Decrypt {
        what: "SM2 ciphertext",
    };
    match encoding {
        Sm2Encoding::Raw => dk.decrypt(ciphertext).map_err(failed),
        Sm2Encoding::Der => dk.decrypt_der(ciphertext).map_err(failed),
    }
    .map(Zeroizing::new)
}

/// Wrap `secret` to `recipient` with its suite's scheme (SM2 DER, or ECIES P-256).
pub fn wrap(recipient: &PublicKey, secret: &[u8]) -> Result<Vec<u8>> {
    wrap_with_rng(recipient, secret, &mut SystemRng)
}

/// [`wrap`] with an explicit random source.
pub fn wrap_with_rng<R: TryCryptoRng>(
    recipient: &PublicKey,
    secret: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    match recipient {
        PublicKey::Sm2(_) => sm2_encrypt(recipient, secret, Sm2Encoding::Der, rng),
        PublicKey::P256(vk) => {
            let eph = PrivateKey::generate_with_rng(Suite::Nist, rng)?;
            let PrivateKey::P256(eph_sk) = &eph else {
                return Err(CryptoError::Encrypt { what: "ECIES" });
            };
            let eph_pub = eph.public_key().to_sec1_bytes();
            let recipient_pub = recipient.to_sec1_bytes();
            let shared = p256::ecdh::diffie_hellman(eph_sk.as_nonzero_scalar(), vk.as_affine());
            let aead = ecies_key(shared.raw_secret_bytes(), &eph_pub, &recipient_pub)?;
            let mut out = eph_pub;
            out.extend(aead.0.seal(&aead.1, b"", secret)?);
            Ok(out)
        }
    }
}

/// Unwrap a secret made by [`wrap`] for `key`'s public key.
pub fn unwrap(key: &PrivateKey, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    match key {
        PrivateKey::Sm2(_) => sm2_decrypt(key, wrapped, Sm2Encoding::Der),
        PrivateKey::P256(sk) => {
            if wrapped.len() < P256_POINT_LEN {
                return Err(CryptoError::Decrypt {
                    what: "ECIES wrapped key",
                });
            }
            let (eph_pub, sealed) = wrapped.split_at(P256_POINT_LEN);
            let eph =
                p256::PublicKey::from_sec1_bytes(eph_pub).map_err(|_| CryptoError::Decrypt {
                    what: "ECIES wrapped key",
                })?;
            let shared = p256::ecdh::diffie_hellman(sk.as_nonzero_scalar(), eph.as_affine());
            let recipient_pub = sk.verifying_key().to_sec1_point(false);
            let (aead, nonce) =
                ecies_key(shared.raw_secret_bytes(), eph_pub, recipient_pub.as_bytes())?;
            aead.open(&nonce, b"", sealed, "ECIES wrapped key")
        }
    }
}

fn ecies_key(
    shared_x: &[u8],
    eph_pub: &[u8],
    recipient_pub: &[u8],
) -> Result<(AeadKey, [u8; NONCE_LEN])> {
    let mut salt = eph_pub.to_vec();
    salt.extend_from_slice(recipient_pub);
    let hk = Hkdf::<sha2::Sha256>::new(Some(&salt), shared_x);
    let mut okm = Zeroizing::new([0u8; 32 + NONCE_LEN]);
    hk.expand(ECIES_INFO, okm.as_mut())
        .map_err(|_| CryptoError::Encrypt {
            what: "ECIES key derivation",
        })?;
    let key = AeadKey::new(AeadAlgorithm::Aes256Gcm, &okm[..32])?;
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&okm[32..]);
    Ok((key, nonce))
}
