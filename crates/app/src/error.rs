/// What went wrong in a use case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// No state directory could be determined.
    #[error("no home directory: set BIDKIT_HOME or pass --home")]
    NoHome,
    /// A keystore operation failed.
    #[error(transparent)]
    Keystore(#[from] bidkit_keystore::KeystoreError),
    /// A CA or certificate operation failed.
    #[error(transparent)]
    Pki(#[from] bidkit_pki::PkiError),
    /// A certificate chain did not verify.
    #[error(transparent)]
    Chain(#[from] bidkit_pki::ChainError),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] bidkit_crypto::CryptoError),
    /// A signer did not sign.
    #[error(transparent)]
    Signer(#[from] bidkit_crypto::SignerError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A step of the demo did not behave as the story says.
    #[error("demo step {step:?} went wrong: {detail}")]
    Demo {
        /// The step's name.
        step: String,
        /// What was expected and what happened.
        detail: String,
    },
}

impl AppError {
    /// A stable machine code for the UI and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NoHome => "no_home",
            AppError::Keystore(e) => e.code(),
            AppError::Pki(_) => "pki",
            AppError::Chain(_) => "chain_invalid",
            AppError::Crypto(_) => "crypto",
            AppError::Signer(_) => "signer",
            AppError::Io { .. } => "io",
            AppError::Demo { .. } => "demo",
        }
    }
}
