//! Key pairs of both suites: generation, encoding, signing and verifying.

use std::fmt;

use rand_core::TryCryptoRng;
use signature::{RandomizedSigner, Verifier};
use spki::{DecodePublicKey, EncodePublicKey};
use zeroize::Zeroizing;

use crate::rng::SystemRng;
use crate::sign::SignatureAlgorithm;
use crate::{CryptoError, DEFAULT_SM2_ID, Result, Suite};

/// OID of the SM2 curve (GM/T 0006: `sm2p256v1`).
const SM2_CURVE_OID: &str = "1.2.156.10197.1.301";
/// OID of NIST P-256 (`prime256v1`).
const P256_CURVE_OID: &str = "1.2.840.10045.3.1.7";

/// A public key of either suite.
///
/// An SM2 key keeps its verifying state for the default distinguishing id, so
/// repeated verification does not recompute `Z_A`.
#[derive(Clone)]
pub enum PublicKey {
    /// An SM2 public key.
    Sm2(sm2::dsa::VerifyingKey),
    /// A P-256 public key.
    P256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// The suite this key belongs to.
    pub fn suite(&self) -> Suite {
        match self {
            PublicKey::Sm2(_) => Suite::Gm,
            PublicKey::P256(_) => Suite::Nist,
        }
    }

    /// The uncompressed SEC1 point `04 ‖ x ‖ y` (65 bytes).
    pub fn to_sec1_bytes(&self) -> Vec<u8> {
        match self {
            PublicKey::Sm2(k) => k.to_sec1_bytes().to_vec(),
            PublicKey::P256(k) => k.to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// Parse a SEC1 point (compressed or uncompressed) of the given suite.
    pub fn from_sec1_bytes(suite: Suite, bytes: &[u8]) -> Result<Self> {
        standard_sec1_form(suite, bytes)?;
        let invalid = |reason: &str| CryptoError::InvalidPublicKey {
            suite,
            reason: reason.to_owned(),
        };
        match suite {
            Suite::Gm => sm2::dsa::VerifyingKey::from_sec1_bytes(DEFAULT_SM2_ID, bytes)
                .map(PublicKey::Sm2)
                .map_err(|_| invalid("not a point on the SM2 curve")),
            Suite::Nist => p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                .map(PublicKey::P256)
                .map_err(|_| invalid("not a point on P-256")),
        }
    }

    /// DER `SubjectPublicKeyInfo` (id-ecPublicKey with the curve's OID).
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        let doc = match self {
            PublicKey::Sm2(k) => k.to_public_key_der(),
            PublicKey::P256(k) => k.to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| CryptoError::Encoding(e.to_string()))
    }

    /// Parse a DER `SubjectPublicKeyInfo`; the curve OID decides the suite.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let info = spki::SubjectPublicKeyInfoRef::try_from(der).map_err(|e| {
            CryptoError::InvalidPublicKey {
                suite: Suite::Gm,
                reason: format!("not a SubjectPublicKeyInfo: {e}"),
            }
        })?;
        let curve = info
            .algorithm
            .parameters_oid()
            .map(|o| o.to_string())
            .unwrap_or_default();
        match curve.as_str() {
            SM2_CURVE_OID => sm2::PublicKey::from_public_key_der(der)
                .map_err(|e| CryptoError::InvalidPublicKey {
                    suite: Suite::Gm,
                    reason: e.to_string(),
                })
                .and_then(|pk| {
                    sm2::dsa::VerifyingKey::new(DEFAULT_SM2_ID, pk).map_err(|_| {
                        CryptoError::InvalidPublicKey {
                            suite: Suite::Gm,
                            reason: "unusable SM2 point".into(),
                        }
                    })
                })
                .map(PublicKey::Sm2),
            P256_CURVE_OID => p256::ecdsa::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::P256)
                .map_err(|e| CryptoError::InvalidPublicKey {
                    suite: Suite::Nist,
                    reason: e.to_string(),
                }),
            other => Err(CryptoError::InvalidPublicKey {
                suite: Suite::Gm,
                reason: format!("unsupported curve {other:?} (expected SM2 or P-256)"),
            }),
        }
    }

    /// Verify a DER signature over `message` (SM2 with the default id).
    pub fn verify(&self, message: &[u8], signature_der: &[u8]) -> Result<()> {
        match self {
            PublicKey::Sm2(k) => verify_sm2(k, message, signature_der),
            PublicKey::P256(k) => {
                let alg = SignatureAlgorithm::EcdsaP256WithSha256;
                let sig = p256::ecdsa::Signature::from_der(signature_der)
                    .map_err(|_| CryptoError::MalformedSignature { algorithm: alg })?;
                k.verify(message, &sig)
                    .map_err(|_| CryptoError::BadSignature { algorithm: alg })
            }
        }
    }

    /// Verify an SM2 signature made with a distinguishing id other than the default.
    pub fn verify_sm2_with_id(&self, id: &str, message: &[u8], signature_der: &[u8]) -> Result<()> {
        match self {
            PublicKey::Sm2(k) => {
                let with_id =
                    sm2::dsa::VerifyingKey::new(id, sm2::PublicKey::from(k)).map_err(|_| {
                        CryptoError::InvalidPublicKey {
                            suite: Suite::Gm,
                            reason: "distinguishing id too long".into(),
                        }
                    })?;
                verify_sm2(&with_id, message, signature_der)
            }
            PublicKey::P256(_) => Err(CryptoError::SuiteMismatch {
                expected: Suite::Gm,
                actual: Suite::Nist,
            }),
        }
    }

    /// A short fingerprint for people: the suite's hash of the SEC1 point, first 8 bytes
    /// in hex groups (`3f2a-9c01-…`).
    pub fn fingerprint(&self) -> String {
        let digest = self.suite().hash().digest(&self.to_sec1_bytes());
        digest[..8]
            .chunks(2)
            .map(|c| format!("{:02x}{:02x}", c[0], c[1]))
            .collect::<Vec<_>>()
            .join("-")
    }
}

fn verify_sm2(key: &sm2::dsa::VerifyingKey, message: &[u8], signature_der: &[u8]) -> Result<()> {
    let alg = SignatureAlgorithm::Sm2WithSm3;
    let sig = sm2::dsa::Signature::from_der(signature_der)
        .map_err(|_| CryptoError::MalformedSignature { algorithm: alg })?;
    key.verify(message, &sig)
        .map_err(|_| CryptoError::BadSignature { algorithm: alg })
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.suite() == other.suite() && self.to_sec1_bytes() == other.to_sec1_bytes()
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, {})", self.suite(), self.fingerprint())
    }
}

/// A private key of either suite. Its bytes are zeroized on drop and never printed.
#[derive(Clone)]
pub enum PrivateKey {
    /// An SM2 key, ready to sign with the default distinguishing id.
    Sm2(sm2::dsa::SigningKey),
    /// A P-256 key.
    P256(p256::ecdsa::SigningKey),
}

impl PrivateKey {
    /// Generate a fresh key of `suite` from the system random source.
    pub fn generate(suite: Suite) -> Result<Self> {
        Self::generate_with_rng(suite, &mut SystemRng)
    }

    /// Generate a fresh key of `suite` from `rng`.
    pub fn generate_with_rng<R: TryCryptoRng + ?Sized>(suite: Suite, rng: &mut R) -> Result<Self> {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            rng.try_fill_bytes(bytes.as_mut())
                .map_err(|_| CryptoError::Random)?;
            // Rejection sampling: out-of-range or zero scalars are drawn again.
            if let Ok(key) = Self::from_bytes(suite, bytes.as_ref()) {
                return Ok(key);
            }
        }
    }

    /// A deterministic key derived from `label`, for tests and fixtures only.
    pub fn for_tests(suite: Suite, label: &str) -> Self {
        let mut counter = 0u32;
        loop {
            let mut input = label.as_bytes().to_vec();
            input.extend_from_slice(&counter.to_be_bytes());
            let bytes = Zeroizing::new(suite.hash().digest(&input));
            if let Ok(key) = Self::from_bytes(suite, bytes.as_ref()) {
                return key;
            }
            counter += 1;
        }
    }

    /// Load a key from its 32-byte big-endian scalar.
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self> {
        let invalid = || CryptoError::InvalidPrivateKey { suite };
        match suite {
            Suite::Gm => sm2::dsa::SigningKey::from_slice(DEFAULT_SM2_ID, bytes)
                .map(PrivateKey::Sm2)
                .map_err(|_| invalid()),
            Suite::Nist => p256::ecdsa::SigningKey::from_slice(bytes)
                .map(PrivateKey::P256)
                .map_err(|_| invalid()),
        }
    }

    /// The 32-byte big-endian scalar, in a buffer that is wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let bytes: [u8; 32] = match self {
            PrivateKey::Sm2(k) => k.to_bytes().into(),
            PrivateKey::P256(k) => k.to_bytes().into(),
        };
        Zeroizing::new(bytes)
    }

    /// The suite this key belongs to.
    pub fn suite(&self) -> Suite {
        match self {
            PrivateKey::Sm2(_) => Suite::Gm,
            PrivateKey::P256(_) => Suite::Nist,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Sm2(k) => PublicKey::Sm2(k.verifying_key().clone()),
            PrivateKey::P256(k) => PublicKey::P256(*k.verifying_key()),
        }
    }

    /// Sign `message` (hashed inside: `SM3(Z_A ‖ M)` or `SHA-256(M)`); DER `r, s`.
    ///
    /// Nonces are hedged: RFC 6979 mixed with fresh system randomness.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let alg = self.suite().signature();
        let failed = |_| CryptoError::Encoding(format!("{alg} signing failed"));
        match self {
            PrivateKey::Sm2(k) => {
                let sig: sm2::dsa::Signature = k
                    .try_sign_with_rng(&mut SystemRng, message)
                    .map_err(failed)?;
                Ok(sig.to_der().to_vec())
            }
            PrivateKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k
                    .try_sign_with_rng(&mut SystemRng, message)
                    .map_err(failed)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }

    /// Sign with an SM2 distinguishing id other than the default.
    pub fn sign_sm2_with_id(&self, id: &str, message: &[u8]) -> Result<Vec<u8>> {
        match self {
            PrivateKey::Sm2(k) => {
                let with_id = sm2::dsa::SigningKey::from_nonzero_scalar(id, *k.as_nonzero_scalar())
                    .map_err(|_| CryptoError::InvalidPrivateKey { suite: Suite::Gm })?;
                PrivateKey::Sm2(with_id).sign(message)
            }
            PrivateKey::P256(_) => Err(CryptoError::SuiteMismatch {
                expected: Suite::Gm,
                actual: Suite::Nist,
            }),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({}, public {}, secret redacted)",
            self.suite(),
            self.public_key().fingerprint()
        )
    }
}

/// Refuses SEC1 points in anything but the two standard forms, compressed (`02`/`03` ‖ x)
/// and uncompressed (`04` ‖ x ‖ y). The curve crates also take the compact form
/// (`05` ‖ x), which would give one key a second encoding.
pub(crate) fn standard_sec1_form(suite: Suite, bytes: &[u8]) -> Result<()> {
    match bytes.first() {
        Some(0x02..=0x04) => Ok(()),
        _ => Err(CryptoError::InvalidPublicKey {
            suite,
            reason: "not a compressed or uncompressed SEC1 point".to_owned(),
        }),
    }
}
