//! [`PhoneSigner`]: a certificate on an emulated phone as a [`bidkit_crypto::Signer`].

use bidkit_crypto::{PublicKey, SignatureAlgorithm, Signer, SignerError, Suite};
use bidkit_pki::{Certificate, KeyPurpose};
use zeroize::Zeroizing;

use crate::model::Operation;
use crate::phone::KeyUse;
use crate::phone::Phone;
use crate::phone::Unlock;
use crate::selector::CertSelector;
use crate::session::ContinuousSession;
use crate::{KeystoreError, Result};

/// How a [`PhoneSigner`] is unlocked.
enum SignerUnlock<'p> {
    Pin(Zeroizing<String>),
    Session(&'p ContinuousSession),
}

/// A certificate's signing key on an emulated phone, usable wherever a
/// [`Signer`] is expected (PDF signing, login challenges …).
///
/// Every call goes through the phone's full path: device binding, certificate
/// validity, membership and grants (and the seal, for sealing), the next scripted
/// outcome, the PIN (counter first) or the continuous session, and a usage record.
/// [`Signer::sign_batch`] is one request: one approval, one PIN, one record.
///
/// Errors map to [`SignerError::Refused`] (the user refused), [`SignerError::TimedOut`]
/// (no answer) and [`SignerError::Backend`] holding the [`KeystoreError`] (use
/// [`KeystoreError::from_signer_error`] to get it and its `code()`).
pub struct PhoneSigner<'p> {
    phone: &'p Phone,
    selector: CertSelector,
    certificate: Certificate,
    public_key: PublicKey,
    suite: Suite,
    unlock: SignerUnlock<'p>,
    operation: Operation,
    seal_id: Option<i64>,
    platform: String,
}

impl std::fmt::Debug for PhoneSigner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneSigner")
            .field("phone", &self.phone.name())
            .field("serial", &self.certificate.serial_hex())
            .field("operation", &self.operation)
            .field("seal_id", &self.seal_id)
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

impl Phone {
    /// A signer for the certificate `cert`, unlocked with `pin` at each request (the
    /// user types it on the phone). The operation recorded is `sign` unless changed
    /// with [`PhoneSigner::for_operation`] or [`PhoneSigner::with_seal`].
    pub fn signer(
        &self,
        cert: &CertSelector,
        suite: Option<Suite>,
        pin: &str,
    ) -> Result<PhoneSigner<'_>> {
        crate::ids::check_pin(pin)?;
        self.make_signer(
            cert,
            suite,
            SignerUnlock::Pin(Zeroizing::new(pin.to_owned())),
        )
    }

    /// A signer that uses an open continuous session instead of the PIN.
    pub fn session_signer<'p>(&'p self, session: &'p ContinuousSession) -> Result<PhoneSigner<'p>> {
        let cert = CertSelector::Serial(session.serial().to_owned());
        self.make_signer(&cert, None, SignerUnlock::Session(session))
    }

    fn make_signer<'p>(
        &'p self,
        cert: &CertSelector,
        suite: Option<Suite>,
        unlock: SignerUnlock<'p>,
    ) -> Result<PhoneSigner<'p>> {
        let (pair, _) = self.resolve_installed(cert, suite)?;
        let certificate = Certificate::from_der(&pair.signing_cert)?;
        let public_key = certificate.public_key()?;
        Ok(PhoneSigner {
            phone: self,
            selector: CertSelector::Id(pair.pair_id),
            certificate,
            public_key,
            suite: pair.suite,
            unlock,
            operation: Operation::Sign,
            seal_id: None,
            platform: self.config().platform().to_owned(),
        })
    }
}

impl<'p> PhoneSigner<'p> {
    /// Record requests as `operation` (login, submit-bid …).
    pub fn for_operation(mut self, operation: Operation) -> Self {
        self.operation = operation;
        self
    }

    /// Apply seal `seal_id` with each request (operation `seal`); the seal must belong
    /// to the certificate's holder and, for a member, be granted.
    pub fn with_seal(mut self, seal_id: i64) -> Self {
        self.seal_id = Some(seal_id);
        self.operation = Operation::Seal;
        self
    }

    /// The platform name written to the usage records.
    pub fn with_platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = platform.into();
        self
    }

    /// The signing certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The signing certificate's serial.
    pub fn serial(&self) -> String {
        self.certificate.serial_hex()
    }

    /// Sign `messages` as one request, returning keystore errors as they are.
    pub fn sign_all(&self, messages: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let (pair, _) = self.phone.resolve_installed(&self.selector, None)?;
        let key = self.phone.key_for(&pair, KeyPurpose::Signing, None)?;
        if key.serial != self.certificate.serial_hex() {
            return Err(KeystoreError::CertificateSuperseded {
                serial: self.certificate.serial_hex(),
                current: key.serial,
            });
        }
        let req = KeyUse {
            operation: self.operation,
            seal_id: self.seal_id,
            platform: &self.platform,
            detail: format!(
                "{} message{}",
                messages.len(),
                if messages.len() == 1 { "" } else { "s" }
            ),
        };
        let unlock = match &self.unlock {
            SignerUnlock::Pin(pin) => Unlock::Pin(pin.as_str()),
            SignerUnlock::Session(s) => Unlock::Session(s),
        };
        self.phone.use_key(&pair, &key, &req, unlock, |k, _| {
            messages
                .iter()
                .map(|m| k.sign(m).map_err(KeystoreError::from))
                .collect()
        })
    }
}

impl Signer for PhoneSigner<'_> {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.suite.signature()
    }

    fn public_key(&self) -> PublicKey {
        self.public_key.clone()
    }

    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, SignerError> {
        let mut out = self.sign_all(&[message])?;
        out.pop().ok_or_else(|| {
            SignerError::from(KeystoreError::corrupt("signer", "no signature produced"))
        })
    }

    fn sign_batch(&self, messages: &[&[u8]]) -> std::result::Result<Vec<Vec<u8>>, SignerError> {
        Ok(self.sign_all(messages)?)
    }
}
