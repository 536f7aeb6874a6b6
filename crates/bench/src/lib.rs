//! Benchmarks behind `bidkit bench`: every figure of ours is measured beside a
//! reference implementation in the same run, on the same machine, so the ratio means
//! something even on a noisy or unfamiliar computer.
//!
//! * [`crypto()`]: our SM3, SM4-GCM, AES-256-GCM, SM2 and P-256 against `openssl speed`,
//!   plus the cost of the Argon2id PIN key derivation.
//! * [`bidfile()`]: encrypt and decrypt a 1 GiB bid file in each suite beside our raw
//!   cipher speed and OpenSSL, with each operation's peak memory.
//! * [`seal()`]: seal and sign a 200 MB and a 1000-page PDF in each placement mode beside
//!   reading and hashing the file once and pyHanko signing the same file, with peak memory.
//! * [`relay()`]: thousands of concurrent tool/phone sessions through relay nodes on
//!   loopback (one node in memory, or several sharing one Redis): hop latency
//!   percentiles and each node's peak memory, against the targets.
//!
//! Timing uses wall-clock time ([`std::time::Instant`]) on our side and
//! `openssl speed -elapsed` on the reference side, so both divide by the same kind of
//! clock. Figures are indicative: a busy machine lowers both columns.

mod bidfile;
mod crypto;
mod measure;
pub mod openssl;
pub mod relay;
mod seal;

pub use bidfile::{BidfileOptions, BidfileReport, BidfileRow, bidfile};
pub use crypto::{CryptoOptions, CryptoReport, PinKdfFigure, Row, Target, Unit, crypto};
pub use relay::{RelayOptions, RelayReport, relay};
pub use seal::{
    KEYWORD as SEAL_KEYWORD, Mode as SealMode, RowKind as SealRowKind, SealFile, SealOptions,
    SealReport, SealRow, SealTarget, seal,
};

/// Why a benchmark could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// One of our own operations failed while being measured.
    #[error("the operation under test failed: {0}")]
    Crypto(#[from] bidkit_crypto::CryptoError),
    /// The reference program exists but could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program that was started.
        program: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The reference program ran but reported failure.
    #[error("`{command}` failed ({status}): {stderr}")]
    ReferenceFailed {
        /// The command line that was run.
        command: String,
        /// Its exit status.
        status: String,
        /// The last lines it wrote to stderr.
        stderr: String,
    },
    /// The reference program's output did not contain the expected figures.
    #[error("cannot read the figures printed by `{command}`: {reason}")]
    ReferenceOutput {
        /// The command line that was run.
        command: String,
        /// What was missing or malformed.
        reason: String,
    },
    /// An option was out of range (for example a zero duration).
    #[error("invalid benchmark option: {0}")]
    InvalidOption(String),
    /// What the benchmark needs could not be set up (a relay node, Redis …).
    #[error("cannot set up the benchmark: {0}")]
    Setup(String),
}

/// Result type of this crate.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;
