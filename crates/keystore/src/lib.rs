//! Bidkit's **emulated phone keystore** and the **emulated CA platform** behind it —
//! the mobile-CA app of the seeds (中招互连), as far as signing needs it, running on one
//! machine so every flow can be driven end to end from tests, scripts and the app.
//!
//! # The model
//!
//! A real mobile CA splits its state between the phone and the CA's cloud service. So
//! does the emulation; both are SQLite databases under one home directory:
//!
//! ```text
//! $home/service/service.db        the platform (one per home)
//! $home/ca/<gm|nist>/             the emulated CA (bidkit-pki), a test root
//! $home/phones/<name>/phone.db    one emulated phone each, with a random device id
//! ```
//!
//! **Service** ([`Service`]) — the platform's backend:
//!
//! | table | holds |
//! | --- | --- |
//! | `accounts` | persons after real-name checks: name, ID number (GB 11643 check digit), mobile number (the login) |
//! | `organisations` | name, unified social credit code (统一社会信用代码, GB 32100 check character) |
//! | `memberships` | (organisation, account) → role `admin` / `member` / `legal-representative`, `pending` or `active` |
//! | `cert_pairs` | one *certificate* (证书) = signing + encryption certificate: holder, organisation, suite, the **device it is bound to**, generation, **reissue counter** (3 free, then a pack), and for a member's copy (副锁) the organisation certificate it was claimed from |
//! | `certificates` | every X.509 certificate issued for a pair: serial, purpose, DER, validity, `current` / `superseded` / `revoked` |
//! | `recovery_keys` | the emulated CA **recovery service**: one random key per (certificate, device) |
//! | `seals` | 公章 / 财务章 / 合同章 / 法定代表人章 (organisation) and 人名章 / 手写签名 (personal): name, PNG (may be empty), validity, `active` / `voided` |
//! | `grants` | an admin authorises a member to use an organisation seal or certificate from … until …; withdrawn or not |
//! | `sms_outbox` | verification codes as salted SM3 hashes, with expiry and failed-try count |
//! | `usage_records`, `usage_head` | hash-chained usage records (使用记录) and the chain head |
//!
//! **Phone** ([`Phone`]) — what lives on the handset:
//!
//! | table | holds |
//! | --- | --- |
//! | `meta` | the random device id |
//! | `account` | the account signed in on this phone |
//! | `pairs` | installed certificates: DER, the data key wrapped under the PIN (Argon2id parameters, salt, nonce) and under the recovery key |
//! | `keys` | private keys, each sealed (SM4-GCM or AES-256-GCM) under the data key with key id, serial, purpose, suite and device id as associated data |
//! | `pin_state` | PIN retry counter and lockout count per certificate |
//! | `script_queue` | scripted outcomes for QA (`approve`, `refuse`, `timeout`, `wrong-pin`) |
//!
//! # Flows
//!
//! * **Enrol** ([`Phone::enrol`]): account + person dual certificates; the keys are
//!   generated on the phone, only public keys go to the CA. **Organisations**: the
//!   creator becomes admin and gets the organisation's certificate
//!   ([`Phone::create_organisation`]); others ask to join and an admin adds them with a
//!   role ([`Phone::add_member`]). A member holding an active grant claims a copy (副锁)
//!   of the organisation certificate onto their own phone
//!   ([`Phone::issue_organisation_certificate`]).
//! * **Certificates** are valid for one year. **Renewal** ([`Phone::renew`]) generates
//!   new keys and gets new certificates (the old encryption key is kept to open data
//!   encrypted to it). **Reissue** (补办, [`Phone::reissue_here`]) installs the
//!   certificate on another phone with keys generated there: it uses one of three free
//!   reissues (then [`Phone::add_reissue_pack`]), binds the certificate to the new
//!   device and revokes the old certificates; the old phone's requests then fail with
//!   `device_unbound`.
//! * **PIN** (证书密码, six digits, per certificate): set when a certificate is
//!   installed, changed with the old PIN, reset with an SMS code. The retry counter is
//!   decremented and committed before the PIN is compared; after the configured count
//!   (default 6) the certificate locks until a reset. See `phone::pin`.
//! * **Keys at rest** (`phone::vault`): private keys are sealed under a random data key;
//!   the data key is wrapped under an Argon2id key derived from the PIN
//!   ([`bidkit_crypto::kdf::PinKdfParams::DEFAULT`] unless a test constructor says
//!   otherwise) and under the platform's recovery key, which the **emulated CA recovery
//!   service** releases only after a verification code — that is how a PIN reset
//!   recovers the keys without the old PIN. The PIN is never stored (opening the wrap
//!   is the check), and no private scalar is written to any file in any encoding.
//! * **Using a key** (signing, sealing, login, decryption, confirmations) goes through
//!   one path (`phone::use_key`): platform authorisation (binding, validity,
//!   membership, grants, seal), the scripted outcome, PIN or continuous session, the
//!   key, and a usage record with the result. [`PhoneSigner`] wraps it as a
//!   [`bidkit_crypto::Signer`]; [`Phone::unwrap_key`] decrypts a wrapped content key.
//! * **Continuous mode** (连续签章, [`ContinuousSession`]): one PIN, then no PIN for a
//!   bounded time and count; in memory only.
//! * **Grants**: expired, not-yet-valid and withdrawn grants refuse use; a voided seal
//!   stays usable by members holding a grant until it is withdrawn, but not by admins
//!   and cannot be granted again (seed 001).
//! * **Usage records** ([`records`]): admins see all records of their organisations,
//!   members their own; the chain is checked by [`Service::verify_records`]; export as
//!   JSON or CSV.
//!
//! # What this crate must not do
//!
//! Pretend to be secure storage: a real phone keeps keys in hardware and the real
//! platform anchors its records elsewhere. It must never write a private key or PIN
//! in clear, never log secrets, and never read the wall clock except through
//! [`Clock`].

mod ca;
mod clock;
mod config;
mod db;
mod error;
mod home;
mod model;
mod phone;
mod selector;
mod service;
mod session;
mod signer;

pub mod ids;
pub mod records;

pub use clock::{Clock, SystemClock, TestClock};
pub use config::{DEFAULT_MAX_PIN_TRIES, DEFAULT_PLATFORM, KeystoreConfig};
pub use error::{KeystoreError, Result};
pub use home::{DEFAULT_PHONE, Home};
pub use model::{
    Account, CertificateInfo, Grant, GrantState, GrantTarget, InstalledCertificate, Membership,
    MembershipStatus, Operation, OrgRef, Organisation, PersonDetails, PhoneStatus, PinStatus, Role,
    ScriptedOutcome, Seal, SealKind, SealStatus, SealView, SmsMessage, UsageRecord,
};
pub use phone::{Enrolment, Phone, SignIn, Unlock};
pub use selector::CertSelector;
pub use service::{NewSeal, RecordFilter, RecordsCheck, Service};
pub use session::{ContinuousPolicy, ContinuousSession};
pub use signer::PhoneSigner;

/// How long an SMS verification code works.
pub use service::CODE_VALIDITY;
/// Free reissues per certificate, and per reissue pack.
pub use service::REISSUES_PER_PACK;
