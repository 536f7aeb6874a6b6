use std::time::Duration;

use bidkit_protocol::message::RefuseReason;
use bidkit_relay::ClientError;

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
    /// Talking through the relay failed: the relay refused (a stale or expired QR
    /// code, a second phone …), could not be reached, the other side went silent or
    /// cancelled, or the protocol refused a message. The code is the relay's or the
    /// protocol's (`qr-stale`, `already-joined`, `phone-timeout`, `bad-mac` …).
    #[error("{0}")]
    Relay(ClientError),
    /// The relay server could not start or stopped with an error.
    #[error(transparent)]
    RelayServer(#[from] bidkit_relay::RelayError),
    /// The protocol refused something (a malformed QR code …).
    #[error(transparent)]
    Protocol(#[from] bidkit_protocol::ProtocolError),
    /// No phone joined before the QR code's join window closed.
    #[error("no phone joined within {} s; the QR code has expired{}", .waited.as_secs(), rejected_note(.rejected))]
    NoPhone {
        /// How long the tool waited.
        waited: Duration,
        /// The codes of the joins the relay turned away meanwhile (`qr-stale` …).
        rejected: Vec<String>,
    },
    /// The phone declined the request (the holder refused, a wrong PIN, a code that
    /// did not match …). Nothing was signed or decrypted.
    #[error("the phone refused ({}): {message}", .reason.code())]
    Refused {
        /// Why, as the phone reported it.
        reason: RefuseReason,
        /// The phone's message.
        message: String,
    },
    /// The verification code the phone shows is not the one the tool shows: the phone
    /// is talking to another tool (or a man in the middle). Nothing was signed.
    #[error(
        "the verification code on the phone ({phone}) differs from the code on the tool's screen ({expected}): \
         this phone is not talking to that tool; refused, nothing was signed"
    )]
    CodeMismatch {
        /// The phone's code.
        phone: String,
        /// The code read off the tool's screen.
        expected: String,
    },
    /// The tool did not accept the phone's answer (its reason is in the message).
    #[error("the tool rejected the answer ({code}): {message}")]
    ToolRejected {
        /// The tool's machine code.
        code: String,
        /// The tool's message.
        message: String,
    },
    /// The phone's login proof does not hold (signature, certificate purpose …).
    #[error("the phone's login proof is not valid: {reason}")]
    LoginInvalid {
        /// What was wrong.
        reason: String,
    },
    /// The phone signed with another certificate than the one the request was
    /// prepared for (the signed attributes name the expected signer). Nothing from
    /// this answer is used.
    #[error(
        "the phone signed with certificate {got}, not the expected signer {expected}; nothing from this answer is used"
    )]
    SignerMismatch {
        /// The expected certificate (serial and subject).
        expected: String,
        /// The certificate the phone used (serial and subject).
        got: String,
    },
    /// A signature from the phone does not verify with its certificate over the
    /// prepared bytes.
    #[error("the phone's signature for {item:?} does not verify: {reason}")]
    SignatureInvalid {
        /// The item (its id; `approval` for a statement).
        item: String,
        /// What was wrong.
        reason: String,
    },
    /// The phone's answer does not fit the request (another kind of message, a
    /// missing certificate, signatures missing, extra or out of order).
    #[error("the phone's answer does not fit the request: {reason}")]
    AnswerInvalid {
        /// What was wrong.
        reason: String,
    },
    /// There is no trust root to check the phone's certificate against.
    #[error(
        "no trusted root for {suite} certificates: {path} holds no emulated CA (enrol a phone in this home first, or pass --trust ROOT.pem)"
    )]
    NoTrustRoot {
        /// Where the emulated CA was looked for.
        path: std::path::PathBuf,
        /// The suite.
        suite: bidkit_crypto::Suite,
    },
    /// A QR image could not be read or written.
    #[error("{what}: {reason}")]
    QrImage {
        /// The image (file name or "QR text").
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// An option was out of range or contradictory.
    #[error("invalid {option}: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A PDF could not be read, sealed or revoked.
    #[error(transparent)]
    Pdf(#[from] bidkit_pdf::PdfError),
    /// An RFC 3161 time stamp could not be obtained (TSA unreachable, HTTP error,
    /// rejection, wrong nonce or imprint, invalid token) or the emulated TSA failed.
    /// The code is the [`crate::tsa::TsaError`]'s (`tsa-unreachable`, `tsa-rejected` …).
    #[error(transparent)]
    Timestamp(crate::tsa::TsaError),
    /// A bid file could not be made, read, opened or decrypted (damaged or tampered,
    /// a wrong recipient or content key, an unusable certificate, an I/O failure); the
    /// message names the file and the reason. See [`bid_file_code`] for the codes.
    #[error(transparent)]
    BidFile(#[from] bidkit_bidfile::BidFileError),
    /// A bid file's header signer is not acceptable: the signature does not hold for
    /// the bidder, or the signer's certificate does not chain to the trust roots.
    /// Nothing was decrypted.
    #[error("the bid file {} is not signed acceptably: {reason}", .path.display())]
    BidSigner {
        /// The bid file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A submission receipt or withdrawal file does not verify (damaged, tampered,
    /// signed by someone else, or about another bid file).
    #[error("{}: the {what} does not verify: {reason}", .path.display())]
    BidStatement {
        /// The statement file.
        path: std::path::PathBuf,
        /// `submission receipt` or `withdrawal`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A bid package (the payload of a bid file: sealed PDF, manifest, attachments)
    /// is not acceptable: a member name that is absolute, climbs out with `..` or is
    /// not allowed, a link or device, a member over the size limits, a manifest that
    /// does not follow its schema, or a member whose hash is not the manifest's.
    /// Nothing was extracted.
    #[error("{}: the bid package is not acceptable: {reason}", .path.display())]
    BidPackage {
        /// The package (or the extracted file) involved.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The stable code of a bid-file error: `bidfile-damaged` (truncated, altered,
/// reordered — [`bidkit_bidfile::BidFileError::is_damage`]), `bidfile-not-a-bid-file`,
/// `bidfile-unsupported-version`, `bidfile-no-recipient`, `bidfile-unwrap`,
/// `bidfile-content-key`, `bidfile-recipient`, `bidfile-signer`, `bidfile-signature`,
/// `statement-invalid`, `bidfile-too-large`, `invalid-option`, `io`, `crypto`, `pki`,
/// `internal`.
pub fn bid_file_code(e: &bidkit_bidfile::BidFileError) -> &'static str {
    use bidkit_bidfile::BidFileError as E;
    if e.is_damage() {
        return "bidfile-damaged";
    }
    match e {
        E::Io { .. } | E::ReadInput { .. } => "io",
        E::NotABidFile { .. } => "bidfile-not-a-bid-file",
        E::UnsupportedVersion { .. } => "bidfile-unsupported-version",
        E::NoSuchRecipient { .. } => "bidfile-no-recipient",
        E::Unwrap { .. } => "bidfile-unwrap",
        E::BadContentKey { .. } => "bidfile-content-key",
        E::UnusableRecipient { .. } => "bidfile-recipient",
        E::UnusableSigner { .. } => "bidfile-signer",
        E::BadSignature { .. } => "bidfile-signature",
        E::MalformedStatement { .. } => "statement-invalid",
        E::TooLarge { .. } => "bidfile-too-large",
        E::InvalidInput { .. } => "invalid-option",
        E::Crypto(_) => "crypto",
        E::Pki(_) => "pki",
        _ => "internal",
    }
}

fn rejected_note(rejected: &[String]) -> String {
    match rejected {
        [] => String::new(),
        [one] => format!(
            " (the relay turned away one phone meanwhile: {one}{})",
            rejection_hint(one)
        ),
        many => format!(
            " (the relay turned away {} phones meanwhile; last: {}{})",
            many.len(),
            many[many.len() - 1],
            rejection_hint(&many[many.len() - 1])
        ),
    }
}

/// What a join refusal code means, for people.
pub(crate) fn rejection_hint(code: &str) -> &'static str {
    match code {
        "qr-stale" => ", a stale QR code: a forwarded or photographed screen",
        "qr-expired" => ", an expired QR code",
        "qr-bad-mac" => ", an altered or forged QR code",
        "already-joined" => ", a second phone",
        _ => "",
    }
}

impl From<ClientError> for AppError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Refused { reason, message } => AppError::Refused { reason, message },
            ClientError::Protocol(p) => AppError::Protocol(p),
            other => AppError::Relay(other),
        }
    }
}

/// Every code the relay and its clients use, so [`AppError::code`] stays `'static`.
const RELAY_CODES: &[&str] = &[
    "unknown-session",
    "session-exists",
    "already-joined",
    "session-closed",
    "session-expired",
    "not-joined",
    "unauthorized",
    "forbidden",
    "qr-malformed",
    "qr-stale",
    "qr-expired",
    "qr-bad-mac",
    "version-mismatch",
    "unknown-purpose",
    "unknown-suite",
    "wrong-session",
    "replay",
    "out-of-order",
    "wrong-direction",
    "bad-mac",
    "swapped-key",
    "oversized",
    "malformed-frame",
    "malformed-message",
    "unexpected-message",
    "crypto",
    "message-too-large",
    "queue-full",
    "rate-limited",
    "too-many-sessions",
    "bad-request",
    "store-unavailable",
    "relay-unreachable",
    "no-phone",
    "phone-timeout",
    "tool-timeout",
    "refused",
    "join-rejected",
    "cancelled",
    "session-done",
    "remote-error",
    "transport",
];

impl AppError {
    /// A stable machine code for the UI and scripts. Relay and protocol errors keep
    /// their own codes (`qr-stale`, `phone-timeout` …); a refusal has the phone's
    /// reason (`user-refused`, `wrong-pin`, `code-mismatch` …).
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
            AppError::Relay(e) => {
                let code = e.code();
                RELAY_CODES
                    .iter()
                    .find(|c| **c == code)
                    .copied()
                    .unwrap_or("relay-error")
            }
            AppError::RelayServer(e) => e.code(),
            AppError::Protocol(e) => e.code(),
            AppError::NoPhone { .. } => "no-phone",
            AppError::Refused { reason, .. } => reason.code(),
            AppError::CodeMismatch { .. } => "code-mismatch",
            AppError::ToolRejected { .. } => "tool-rejected",
            AppError::LoginInvalid { .. } => "login-invalid",
            AppError::SignerMismatch { .. } => "signer-mismatch",
            AppError::SignatureInvalid { .. } => "signature-invalid",
            AppError::AnswerInvalid { .. } => "answer-invalid",
            AppError::NoTrustRoot { .. } => "no-trust-root",
            AppError::QrImage { .. } => "qr-unreadable",
            AppError::InvalidOption { .. } => "invalid-option",
            AppError::Pdf(e) => e.code(),
            AppError::Timestamp(e) => e.code(),
            AppError::BidFile(e) => bid_file_code(e),
            AppError::BidSigner { .. } => "bid-signer-invalid",
            AppError::BidStatement { .. } => "statement-invalid",
            AppError::BidPackage { .. } => "bid-package-invalid",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_codes_pass_through_and_refusals_carry_the_reason() {
        let e = AppError::from(ClientError::Relay {
            status: 410,
            code: "qr-stale".into(),
            message: "stale".into(),
        });
        assert_eq!(e.code(), "qr-stale");
        let e = AppError::from(ClientError::Relay {
            status: 500,
            code: "something-new".into(),
            message: String::new(),
        });
        assert_eq!(e.code(), "relay-error");
        let e = AppError::from(ClientError::Refused {
            reason: RefuseReason::WrongPin,
            message: "wrong PIN".into(),
        });
        assert_eq!(e.code(), "wrong-pin");
        assert_eq!(
            AppError::from(ClientError::PhoneNeverAnswered {
                waited: Duration::from_secs(3)
            })
            .code(),
            "phone-timeout"
        );
        let e = AppError::NoPhone {
            waited: Duration::from_secs(5),
            rejected: vec!["qr-stale".into()],
        };
        assert!(e.to_string().contains("forwarded"), "{e}");
        let e = AppError::SignerMismatch {
            expected: "01 (CN=张三)".into(),
            got: "02 (CN=某某公司)".into(),
        };
        assert_eq!(e.code(), "signer-mismatch");
        assert!(e.to_string().contains("01 (CN=张三)"), "{e}");
        let e = AppError::SignatureInvalid {
            item: "a".into(),
            reason: "bad".into(),
        };
        assert_eq!(e.code(), "signature-invalid");
        let e = AppError::AnswerInvalid {
            reason: "two of three".into(),
        };
        assert_eq!(e.code(), "answer-invalid");
    }
}
