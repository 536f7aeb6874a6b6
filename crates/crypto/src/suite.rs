use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::aead::AeadAlgorithm;
use crate::hash::HashAlgorithm;
use crate::sign::SignatureAlgorithm;

/// An algorithm suite: which curve, hash and cipher every operation uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// Chinese commercial cryptography: SM2, SM3, SM4 (the default).
    #[default]
    Gm,
    /// NIST: P-256, SHA-256, AES-256.
    Nist,
}

impl Suite {
    /// Both suites, GM first.
    pub const ALL: [Suite; 2] = [Suite::Gm, Suite::Nist];

    /// The hash of this suite.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Suite::Gm => HashAlgorithm::Sm3,
            Suite::Nist => HashAlgorithm::Sha256,
        }
    }

    /// The signature algorithm of this suite.
    pub fn signature(self) -> SignatureAlgorithm {
        match self {
            Suite::Gm => SignatureAlgorithm::Sm2WithSm3,
            Suite::Nist => SignatureAlgorithm::EcdsaP256WithSha256,
        }
    }

    /// The authenticated cipher of this suite.
    pub fn aead(self) -> AeadAlgorithm {
        match self {
            Suite::Gm => AeadAlgorithm::Sm4Gcm,
            Suite::Nist => AeadAlgorithm::Aes256Gcm,
        }
    }

    /// Short lowercase name, as used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Gm => "gm",
            Suite::Nist => "nist",
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not the name of a suite.
#[derive(Debug, thiserror::Error)]
#[error("unknown suite {0:?}: expected \"gm\" or \"nist\"")]
pub struct UnknownSuite(pub String);

impl FromStr for Suite {
    type Err = UnknownSuite;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "gm" | "sm2" | "sm" => Ok(Suite::Gm),
            "nist" | "p256" | "p-256" => Ok(Suite::Nist),
            _ => Err(UnknownSuite(s.to_owned())),
        }
    }
}
