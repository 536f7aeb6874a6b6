//! The one error type of this crate, with a stable machine code per variant.

use std::path::PathBuf;

use bidkit_crypto::{CryptoError, SignerError};
use time::OffsetDateTime;

/// What went wrong in the emulated phone or the emulated CA platform.
///
/// Messages are written for the person holding the phone: they name the phone, the
/// certificate serial, the seal or grant involved and, for PIN errors, how many tries
/// remain. [`KeystoreError::code`] gives a stable machine code for scripts and the app.
/// No message ever contains a PIN, a verification code or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// A database of the emulation could not be read or written.
    #[error("storage error in {}: {source}", path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "a keystore database".into()))]
    Storage {
        /// The database file, when known.
        path: Option<PathBuf>,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A file or directory could not be created, read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A database holds something this version cannot use (a value out of range, an
    /// unknown enum name, a missing row that must exist).
    #[error("the keystore data in {what} is inconsistent: {reason}")]
    Corrupt {
        /// Which database or table.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A cryptographic primitive failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The emulated CA refused or failed to issue, renew or revoke a certificate.
    #[error("the emulated CA failed: {0}")]
    Ca(#[from] bidkit_pki::PkiError),
    /// Input given by the user is not acceptable (malformed ID number, PIN that is not
    /// six digits, bad date …).
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Which input.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// Something named by the user does not exist (account, organisation, certificate,
    /// seal, grant, phone …).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, with the key used.
        what: String,
    },
    /// A reference matches more than one thing (e.g. a serial prefix).
    #[error("{reference:?} is ambiguous: it matches {matches}")]
    Ambiguous {
        /// The reference given.
        reference: String,
        /// What it matched.
        matches: String,
    },
    /// No account is enrolled on this phone yet.
    #[error(
        "phone {phone:?} has no enrolled account: run `bidkit phone enrol` (or `sign-in`) first"
    )]
    NotEnrolled {
        /// The phone's name.
        phone: String,
    },
    /// The phone already has an enrolled account.
    #[error("phone {phone:?} is already enrolled for {name}")]
    AlreadyEnrolled {
        /// The phone's name.
        phone: String,
        /// Name of the account enrolled on it.
        name: String,
    },
    /// An account with this ID number or phone number already exists on the platform.
    #[error(
        "an account with {what} already exists: sign in on this phone instead of enrolling again"
    )]
    AccountExists {
        /// Which identifier collided (`ID number 1101…`, `phone number 138…`).
        what: String,
    },
    /// An organisation with this unified social credit code already exists.
    #[error(
        "organisation with unified social credit code {uscc} already exists ({name}); ask its admin to add you"
    )]
    OrganisationExists {
        /// The code.
        uscc: String,
        /// The existing organisation's name.
        name: String,
    },
    /// The PIN was wrong; the retry counter has been decremented.
    #[error("wrong PIN for certificate {serial} on phone {phone:?}: {remaining} {} left before the certificate locks", if *remaining == 1 { "try" } else { "tries" })]
    PinWrong {
        /// The phone's name.
        phone: String,
        /// Signing certificate serial of the pair.
        serial: String,
        /// Tries remaining before lockout.
        remaining: u32,
    },
    /// Too many wrong PINs: the certificate is locked until the PIN is reset with a
    /// verification code.
    #[error(
        "certificate {serial} on phone {phone:?} is locked after too many wrong PINs: reset the PIN with a verification code (`bidkit phone pin reset request-code`)"
    )]
    PinLocked {
        /// The phone's name.
        phone: String,
        /// Signing certificate serial of the pair.
        serial: String,
    },
    /// The verification code is wrong (the code stays valid until it expires or too
    /// many wrong codes were entered).
    #[error("wrong verification code for {phone_number}: {remaining} {} left for this code", if *remaining == 1 { "try" } else { "tries" })]
    CodeWrong {
        /// Phone number the code was sent to.
        phone_number: String,
        /// Tries remaining for this code.
        remaining: u32,
    },
    /// No usable verification code: none was requested, it expired, it was used, or too
    /// many wrong codes were entered.
    #[error("no valid verification code for {phone_number}: {reason}; request a new one")]
    CodeExpired {
        /// Phone number the code was sent to.
        phone_number: String,
        /// Why none is usable.
        reason: String,
    },
    /// The acting user must be an admin (or legal representative) of the organisation.
    #[error(
        "{user} is not an admin of {org}: only admins and the legal representative can {action}"
    )]
    NotAdmin {
        /// The acting user's name.
        user: String,
        /// The organisation.
        org: String,
        /// What was attempted.
        action: &'static str,
    },
    /// The user has no authorisation for this certificate or seal.
    #[error("{user} is not authorised to {action}: {reason}")]
    NotAuthorised {
        /// The acting user's name.
        user: String,
        /// What was attempted.
        action: String,
        /// Why not.
        reason: String,
    },
    /// The authorisation (grant) that would allow this use has expired.
    #[error("the authorisation #{grant} of {user} for {target} expired at {until}")]
    GrantExpired {
        /// The grant's id.
        grant: i64,
        /// The grantee's name.
        user: String,
        /// What the grant covered.
        target: String,
        /// End of its validity.
        until: OffsetDateTime,
    },
    /// The authorisation (grant) that would allow this use is not valid yet.
    #[error("the authorisation #{grant} of {user} for {target} is valid only from {from}")]
    GrantNotYetValid {
        /// The grant's id.
        grant: i64,
        /// The grantee's name.
        user: String,
        /// What the grant covered.
        target: String,
        /// Start of its validity.
        from: OffsetDateTime,
    },
    /// The authorisation (grant) was withdrawn (收回) by an admin.
    #[error("the authorisation #{grant} of {user} for {target} was withdrawn at {at}")]
    GrantWithdrawn {
        /// The grant's id.
        grant: i64,
        /// The grantee's name.
        user: String,
        /// What the grant covered.
        target: String,
        /// When it was withdrawn.
        at: OffsetDateTime,
    },
    /// The seal was voided (作废); only members holding a grant may still use it.
    #[error("seal #{seal} ({name}) was voided at {at}")]
    SealVoided {
        /// The seal's id.
        seal: i64,
        /// The seal's name.
        name: String,
        /// When it was voided.
        at: OffsetDateTime,
    },
    /// The seal is outside its validity period.
    #[error("seal #{seal} ({name}) is not valid now: {reason}")]
    SealNotValid {
        /// The seal's id.
        seal: i64,
        /// The seal's name.
        name: String,
        /// Why (expired at …, valid from …).
        reason: String,
    },
    /// The certificate has expired (renew it).
    #[error("certificate {serial} expired at {not_after}: renew it (`bidkit phone renew`)")]
    CertificateExpired {
        /// The serial.
        serial: String,
        /// End of validity.
        not_after: OffsetDateTime,
    },
    /// The certificate is not valid yet.
    #[error("certificate {serial} is valid only from {not_before}")]
    CertificateNotYetValid {
        /// The serial.
        serial: String,
        /// Start of validity.
        not_before: OffsetDateTime,
    },
    /// The certificate was replaced by a renewal or reissue and is no longer current.
    #[error("certificate {serial} was replaced by {current}; use the current certificate")]
    CertificateSuperseded {
        /// The old serial.
        serial: String,
        /// The current signing serial of the same certificate.
        current: String,
    },
    /// The certificate was revoked.
    #[error("certificate {serial} was revoked")]
    CertificateRevoked {
        /// The serial.
        serial: String,
    },
    /// The certificate is bound to another device: it was reissued (补办) onto another
    /// phone, so this phone's copy no longer works.
    #[error(
        "certificate {serial} on phone {phone:?} no longer works on this device: it was reissued (补办) onto device {bound_device}; reissue it back to use it here"
    )]
    DeviceUnbound {
        /// The phone's name.
        phone: String,
        /// The serial this phone holds.
        serial: String,
        /// The device the platform binds the certificate to now.
        bound_device: String,
    },
    /// The certificate is already installed on this device; there is nothing to reissue.
    #[error("certificate {serial} is already installed on phone {phone:?}")]
    AlreadyBound {
        /// The phone's name.
        phone: String,
        /// The current signing serial.
        serial: String,
    },
    /// The certificate has no reissues left (three free ones are included); a reissue
    /// pack adds three more.
    #[error(
        "certificate {serial} has no reissues (补办) left: {used} used; add a reissue pack (`bidkit phone add-reissue-pack`)"
    )]
    ReissueLimit {
        /// The current signing serial.
        serial: String,
        /// Reissues used so far.
        used: u32,
    },
    /// The continuous signing session (连续签章) cannot be used any more.
    #[error("continuous signing ended for certificate {serial}: {reason}; enter the PIN again")]
    SessionEnded {
        /// The signing serial the session was for.
        serial: String,
        /// Why it ended (expired, count used up, locked, ended by the user).
        reason: String,
    },
    /// The phone's user refused the request (a scripted `refuse`).
    #[error("refused on phone {phone:?}")]
    Refused {
        /// The phone's name.
        phone: String,
    },
    /// The phone did not answer (a scripted `timeout`).
    #[error("phone {phone:?} did not answer in time")]
    TimedOut {
        /// The phone's name.
        phone: String,
    },
    /// An encrypted key blob does not decrypt under the right data key: it was altered
    /// or moved to another key id.
    #[error("private key {key_id} on phone {phone:?} is damaged or was moved: it does not decrypt")]
    KeyDamaged {
        /// The phone's name.
        phone: String,
        /// The key id of the blob.
        key_id: String,
    },
    /// The usage records' hash chain is broken: a row was edited, deleted or inserted.
    #[error("usage records were tampered with at record #{seq}: {reason}")]
    RecordsTampered {
        /// The first record at which the chain breaks.
        seq: i64,
        /// What does not match.
        reason: String,
    },
}

impl KeystoreError {
    /// A stable machine code for this error, for scripts, the CLI's `--json` output and
    /// the app. Codes never change meaning once published.
    pub fn code(&self) -> &'static str {
        match self {
            KeystoreError::Storage { .. } => "storage",
            KeystoreError::Io { .. } => "io",
            KeystoreError::Corrupt { .. } => "corrupt",
            KeystoreError::Crypto(_) => "crypto",
            KeystoreError::Ca(_) => "ca",
            KeystoreError::InvalidInput { .. } => "invalid_input",
            KeystoreError::NotFound { .. } => "not_found",
            KeystoreError::Ambiguous { .. } => "ambiguous",
            KeystoreError::NotEnrolled { .. } => "not_enrolled",
            KeystoreError::AlreadyEnrolled { .. } => "already_enrolled",
            KeystoreError::AccountExists { .. } => "account_exists",
            KeystoreError::OrganisationExists { .. } => "org_exists",
            KeystoreError::PinWrong { .. } => "pin_wrong",
            KeystoreError::PinLocked { .. } => "pin_locked",
            KeystoreError::CodeWrong { .. } => "code_wrong",
            KeystoreError::CodeExpired { .. } => "code_expired",
            KeystoreError::NotAdmin { .. } => "not_admin",
            KeystoreError::NotAuthorised { .. } => "not_authorised",
            KeystoreError::GrantExpired { .. } => "grant_expired",
            KeystoreError::GrantNotYetValid { .. } => "grant_not_yet_valid",
            KeystoreError::GrantWithdrawn { .. } => "grant_withdrawn",
            KeystoreError::SealVoided { .. } => "seal_voided",
            KeystoreError::SealNotValid { .. } => "seal_not_valid",
            KeystoreError::CertificateExpired { .. } => "cert_expired",
            KeystoreError::CertificateNotYetValid { .. } => "cert_not_yet_valid",
            KeystoreError::CertificateSuperseded { .. } => "cert_superseded",
            KeystoreError::CertificateRevoked { .. } => "cert_revoked",
            KeystoreError::DeviceUnbound { .. } => "device_unbound",
            KeystoreError::AlreadyBound { .. } => "already_bound",
            KeystoreError::ReissueLimit { .. } => "reissue_limit",
            KeystoreError::SessionEnded { .. } => "session_ended",
            KeystoreError::Refused { .. } => "refused",
            KeystoreError::TimedOut { .. } => "timed_out",
            KeystoreError::KeyDamaged { .. } => "key_damaged",
            KeystoreError::RecordsTampered { .. } => "records_tampered",
        }
    }

    /// The keystore error behind a [`SignerError`] returned by a
    /// [`crate::PhoneSigner`], if there is one (refusals and time-outs are mapped to
    /// [`SignerError::Refused`] and [`SignerError::TimedOut`] and have none).
    pub fn from_signer_error(err: &SignerError) -> Option<&KeystoreError> {
        match err {
            SignerError::Backend(inner) => inner.downcast_ref::<KeystoreError>(),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        KeystoreError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        KeystoreError::NotFound { what: what.into() }
    }

    pub(crate) fn corrupt(what: impl Into<String>, reason: impl Into<String>) -> Self {
        KeystoreError::Corrupt {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

impl From<rusqlite::Error> for KeystoreError {
    fn from(source: rusqlite::Error) -> Self {
        KeystoreError::Storage { path: None, source }
    }
}

impl From<KeystoreError> for SignerError {
    fn from(err: KeystoreError) -> Self {
        match err {
            KeystoreError::Refused { phone } => SignerError::Refused {
                reason: format!("the user refused on phone {phone:?}"),
            },
            KeystoreError::TimedOut { .. } => SignerError::TimedOut,
            other => SignerError::Backend(Box::new(other)),
        }
    }
}

/// Result type of this crate.
pub type Result<T, E = KeystoreError> = std::result::Result<T, E>;
