//! Bidkit's public-key infrastructure: the **emulated test CA** and everything needed to
//! check what it issues.
//!
//! This crate owns:
//!
//! * [`CertificateAuthority`] — a self-signed root of one suite (GM: SM2-with-SM3, NIST:
//!   ECDSA P-256 with SHA-256) kept in a directory on disk. It is loudly marked as a test
//!   root (`CN = Bidkit Emulated Test Root CA (GM) — NOT FOR PRODUCTION`,
//!   `O = Bidkit Test CA`, and an `OU` with the same marking plus an instance tag, so two
//!   homes' roots never share a name) and issues X.509 v3
//!   **dual certificates** (a signing and an encryption certificate per holder, as in
//!   Chinese CA practice, GM/T 0015-2012 / GM/T 0034) for persons and organisations,
//!   renews them, revokes them and publishes an X.509 v2 CRL (RFC 5280 §5).
//! * [`Certificate`] and [`Crl`] — parsed, immutable wrappers over the DER, with the
//!   facts Bidkit shows to people (subject, serial, validity, fingerprint, purpose).
//! * [`verify_chain`] — RFC 5280 §6 path validation, reduced to what Bidkit needs:
//!   names, signatures, validity, basic constraints, key usage and CRL revocation, with
//!   a [`ChainError`] that tells a user *why* a certificate is not acceptable.
//!
//! Rules this crate keeps:
//!
//! * Every time is explicit: no function here reads the clock; callers pass `now`.
//! * Files are written to a temporary file and renamed into place; a crash leaves either
//!   the old or the new content, never half of it. Mutations of a CA directory are
//!   serialised by an exclusive file lock, so two processes cannot lose each other's
//!   issuances or revocations.
//! * Signing goes through [`bidkit_crypto::Signer`], so a CA key could live behind any
//!   signer. SM2 signatures on certificates and CRLs use the default distinguishing id
//!   `1234567812345678` (GM/T 0009-2012 §10, GB/T 35276-2017). OpenSSL 3.0 defaults to
//!   an *empty* id instead: verify GM certificates with
//!   `openssl verify -vfyopt distid:1234567812345678 …`; OpenSSL 3.0 cannot pass an id
//!   for CRL signatures at all, so `-crl_check` on a GM CRL reports "CRL signature
//!   failure" (see `tests/openssl.rs`).
//!
//! What it must not do: hold or touch end-entity private keys (those belong to the
//! keystore), talk to the network, or pretend to be a production CA. The root's private
//! key is stored unencrypted in the CA directory — acceptable only because it is a test
//! root.
//!
//! ## Subject names
//!
//! Names are UTF8String (RFC 5280 §4.1.2.4), so Chinese names print correctly.
//!
//! * Person: `C=CN, CN=<name>, serialNumber=<ID number>` — the ID number goes in the
//!   X.520 `serialNumber` attribute (2.5.4.5, PrintableString), as Chinese CAs do for
//!   resident identity card numbers.
//! * Organisation: `C=CN, O=<name>, CN=<name>, organizationIdentifier=<USCC>` — the
//!   unified social credit code (统一社会信用代码, GB 32100-2015) goes in the X.520
//!   `organizationIdentifier` attribute (2.5.4.97). It is the attribute X.520 defines for
//!   an organisation's registration identifier (also used that way by ETSI EN 319 412-1
//!   §5.1.4); using it rather than `serialNumber` keeps a person's ID number and an
//!   organisation's code apart, so [`Certificate::subject`] can tell the two kinds of
//!   holder from the name alone. OpenSSL 3 prints it as `organizationIdentifier`.

mod ca;
mod cert;
mod chain;
mod crl;
mod error;
mod fsio;
mod subject;
mod x509;

pub use ca::{CertificateAuthority, IssuedCertificate};
pub use ca::{TEST_ROOT_ORGANISATION, test_root_common_name};
pub use cert::{Certificate, DualCertificates, KeyPurpose};
pub use chain::fmt_time;
pub use chain::{ChainError, TrustStore, VerifiedChain, verify_chain};
pub use crl::{Crl, Revocation, RevocationReason};
pub use error::PkiError;
pub use subject::{Subject, uscc_is_valid};

pub use bidkit_crypto::{PublicKey, Suite};
pub use time::OffsetDateTime;

/// Result type of this crate.
pub type Result<T, E = PkiError> = std::result::Result<T, E>;

/// Validity of an end-entity certificate: one year, counted as 365 days (the emulated
/// phone's certificates are valid for one year, then renewed).
pub const END_ENTITY_VALIDITY: time::Duration = time::Duration::days(365);

/// Validity of the emulated root: 7300 days (about twenty years).
pub const ROOT_VALIDITY: time::Duration = time::Duration::days(20 * 365);

/// How long a CRL is current: `nextUpdate = thisUpdate + 7 days` (RFC 5280 §5.1.2.5).
pub const CRL_VALIDITY: time::Duration = time::Duration::days(7);
