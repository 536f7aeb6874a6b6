//! The random source.
//!
//! Operations that need randomness take `&mut impl TryCryptoRng` so tests can inject a
//! fixed source; [`SystemRng`] is the operating system's generator used everywhere else.

pub use getrandom::SysRng as SystemRng;
pub use rand_core::{TryCryptoRng, TryRng};

use crate::{CryptoError, Result};

/// Fill `buf` with bytes from the operating system's random source.
pub fn fill(buf: &mut [u8]) -> Result<()> {
    SystemRng
        .try_fill_bytes(buf)
        .map_err(|_| CryptoError::Random)
}

/// `N` fresh random bytes from the operating system.
pub fn random_array<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}
