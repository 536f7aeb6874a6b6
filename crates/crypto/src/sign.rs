//! Signature algorithms and the [`Signer`] trait every key holder implements.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{PrivateKey, PublicKey, SignerError, Suite};

/// A signature algorithm of one of the suites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureAlgorithm {
    /// SM2 with SM3 (GB/T 32918.2, GM/T 0009), OID 1.2.156.10197.1.501.
    Sm2WithSm3,
    /// ECDSA on P-256 with SHA-256, OID 1.2.840.10045.4.3.2.
    EcdsaP256WithSha256,
}

impl SignatureAlgorithm {
    /// The suite this algorithm belongs to.
    pub fn suite(self) -> Suite {
        match self {
            SignatureAlgorithm::Sm2WithSm3 => Suite::Gm,
            SignatureAlgorithm::EcdsaP256WithSha256 => Suite::Nist,
        }
    }

    /// Dotted OID of the signature algorithm (as in X.509 and CMS).
    pub fn oid(self) -> &'static str {
        match self {
            SignatureAlgorithm::Sm2WithSm3 => "1.2.156.10197.1.501",
            SignatureAlgorithm::EcdsaP256WithSha256 => "1.2.840.10045.4.3.2",
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureAlgorithm::Sm2WithSm3 => "SM2-with-SM3",
            SignatureAlgorithm::EcdsaP256WithSha256 => "ECDSA-P256-with-SHA256",
        })
    }
}

/// Something that holds a private key and can sign prepared messages with it.
///
/// A "prepared message" is the exact byte string to be signed, e.g. the DER of CMS
/// signed attributes; the signer hashes it with its suite's hash (for SM2 including
/// `Z_A` of the default id) and returns a DER `SEQUENCE { r, s }`.
///
/// Implemented by [`PrivateKey`] (a local or test key), by the emulated phone keystore
/// (PIN, authorisation, usage record) and by the phone reached through the relay.
pub trait Signer: Send + Sync {
    /// The algorithm of the signatures this signer makes.
    fn algorithm(&self) -> SignatureAlgorithm;

    /// The public key that verifies this signer's signatures.
    fn public_key(&self) -> PublicKey;

    /// Sign one prepared message.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;

    /// Sign several prepared messages under one approval. Either every message is
    /// signed, in order, or none is.
    fn sign_batch(&self, messages: &[&[u8]]) -> Result<Vec<Vec<u8>>, SignerError> {
        messages.iter().map(|m| self.sign(m)).collect()
    }
}

impl Signer for PrivateKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.suite().signature()
    }

    fn public_key(&self) -> PublicKey {
        PrivateKey::public_key(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(PrivateKey::sign(self, message)?)
    }
}
