//! How an emulated phone behaves: PIN key-derivation cost, lockout count, continuous
//! mode limits, the platform name written to usage records, and the clock.

use std::sync::Arc;

use bidkit_crypto::kdf::PinKdfParams;

use crate::clock::{Clock, SystemClock};
use crate::session::ContinuousPolicy;

/// Number of wrong PINs after which a certificate locks (the real app's default).
pub const DEFAULT_MAX_PIN_TRIES: u32 = 6;

/// Platform name written to usage records when the caller names none.
pub const DEFAULT_PLATFORM: &str = "bidkit-cli";

/// Settings of the emulation.
///
/// [`KeystoreConfig::default`] is the production setting: Argon2id with
/// [`PinKdfParams::DEFAULT`] (≥ 250 ms per PIN check). The only way to get a cheaper
/// key derivation is the explicitly named [`KeystoreConfig::insecure_fast_kdf_for_tests`]
/// (or [`KeystoreConfig::with_kdf_params_for_tests`]); the parameters used are stored
/// with every encrypted blob, so a phone made in a test stays cheap and a production
/// phone stays expensive whichever configuration opens it later.
#[derive(Clone, Debug)]
pub struct KeystoreConfig {
    pub(crate) kdf: PinKdfParams,
    pub(crate) max_pin_tries: u32,
    pub(crate) platform: String,
    pub(crate) continuous: ContinuousPolicy,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for KeystoreConfig {
    fn default() -> Self {
        KeystoreConfig {
            kdf: PinKdfParams::DEFAULT,
            max_pin_tries: DEFAULT_MAX_PIN_TRIES,
            platform: DEFAULT_PLATFORM.to_owned(),
            continuous: ContinuousPolicy::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl KeystoreConfig {
    /// The production configuration (same as [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// **Tests only**: derive PIN keys with [`PinKdfParams::FOR_TESTS`], which offers no
    /// protection against guessing a six-digit PIN from a copied database. Never use
    /// this for a phone that holds anything of value.
    pub fn insecure_fast_kdf_for_tests() -> Self {
        Self::default().with_kdf_params_for_tests(PinKdfParams::FOR_TESTS)
    }

    /// **Tests only**: derive PIN keys with explicit Argon2id parameters.
    pub fn with_kdf_params_for_tests(mut self, params: PinKdfParams) -> Self {
        self.kdf = params;
        self
    }

    /// Lock a certificate after `tries` wrong PINs (at least 1). Applies to PINs set
    /// from now on; an existing certificate keeps the count it was created with.
    pub fn with_max_pin_tries(mut self, tries: u32) -> Self {
        self.max_pin_tries = tries.max(1);
        self
    }

    /// The platform name written to usage records (`bidkit-cli`, `desktop` …).
    pub fn with_platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = platform.into();
        self
    }

    /// The limits of continuous signing mode.
    pub fn with_continuous_policy(mut self, policy: ContinuousPolicy) -> Self {
        self.continuous = policy;
        self
    }

    /// Read time from `clock` (a [`crate::TestClock`] in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The Argon2id parameters new PIN wraps are made with.
    pub fn kdf_params(&self) -> PinKdfParams {
        self.kdf
    }

    /// Whether PIN keys are derived with less than the production cost.
    pub fn is_insecure_kdf(&self) -> bool {
        let d = PinKdfParams::DEFAULT;
        self.kdf.memory_kib < d.memory_kib || self.kdf.iterations < d.iterations
    }

    /// The lockout count for new PINs.
    pub fn max_pin_tries(&self) -> u32 {
        self.max_pin_tries
    }

    /// The platform name written to usage records.
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// The continuous mode limits.
    pub fn continuous_policy(&self) -> ContinuousPolicy {
        self.continuous
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}
