//! Ask the phone to approve revoking a seal (撤章, tool side): open a `revoke-seal`
//! session, send one [`RevokeSealRequest`] (the document, the seal, the reason and the
//! statement the phone signs), and verify the signed approval before handing it back:
//! the signer's certificate is the expected one when the caller names it
//! ([`AppError::SignerMismatch`] otherwise), it chains to the trust roots at the
//! clock's now for signing, and the signature verifies over the `prepared` statement.
//!
//! A refusal on the phone is [`AppError::Refused`] with the phone's reason.

use bidkit_pki::{Certificate, TrustStore};
use bidkit_protocol::Purpose;
use bidkit_protocol::message::{Message, RevokeSealRequest};
use time::OffsetDateTime;

use crate::AppError;
use crate::session::{SessionObserver, verify_signer};
use crate::sign::{SignOptions, block_on, exchange};

/// A signed approval from the phone, verified.
#[derive(Clone, Debug)]
pub struct VerifiedApproval {
    /// The signer's certificate path as verified: the signer's certificate first,
    /// then any intermediates, ending at the trusted root.
    pub chain: Vec<Certificate>,
    /// The DER signature over the statement.
    pub signature: Vec<u8>,
    /// The verification code both screens showed.
    pub verification_code: String,
    /// The session id (hex).
    pub session_id: String,
    /// The relay the session went through.
    pub relay: String,
    /// Joins the relay turned away during the session (their codes).
    pub rejected_joins: Vec<String>,
}

impl VerifiedApproval {
    /// The signer's certificate (the first of [`VerifiedApproval::chain`]).
    pub fn signer(&self) -> Option<&Certificate> {
        self.chain.first()
    }
}

/// Ask the phone to approve revoking a seal and verify the approval: see the module
/// documentation. `revoke` names the document, the seal (by name: the phone looks it
/// up among its holder's seals and signs with its organisation's certificate), the
/// reason, and the exact statement to sign. `expected_signer`: the certificate that
/// must sign, if any.
pub async fn request_revoke_approval(
    opts: &SignOptions,
    revoke: RevokeSealRequest,
    expected_signer: Option<&Certificate>,
    observer: &mut dyn SessionObserver,
) -> Result<VerifiedApproval, AppError> {
    if revoke.prepared.is_empty() {
        return Err(AppError::InvalidOption {
            option: "revoke statement",
            reason: "nothing to sign".into(),
        });
    }
    let prepared = revoke.prepared.clone();
    let seal = revoke.seal.clone();
    let request = Message::RevokeSealRequest(revoke);
    let ((chain, signature), session) = exchange(
        opts,
        Purpose::RevokeSeal,
        &request,
        observer,
        "撤章已取消 / revoking cancelled: the phone refused",
        |answer, trust, now| verify_approval(answer, &prepared, expected_signer, trust, now),
        |(chain, _)| {
            format!(
                "已批准撤章 / revoking {seal} approved with certificate {}",
                chain.first().map(|c| c.serial_hex()).unwrap_or_default()
            )
        },
    )
    .await?;
    Ok(VerifiedApproval {
        chain,
        signature,
        verification_code: session.verification_code,
        session_id: session.session_id,
        relay: session.relay,
        rejected_joins: session.rejected_joins,
    })
}

/// [`request_revoke_approval`] for callers without an async runtime (see
/// [`crate::sign::request_signatures_blocking`]).
pub fn request_revoke_approval_blocking(
    opts: &SignOptions,
    revoke: RevokeSealRequest,
    expected_signer: Option<&Certificate>,
    observer: &mut dyn SessionObserver,
) -> Result<VerifiedApproval, AppError> {
    block_on(request_revoke_approval(
        opts,
        revoke,
        expected_signer,
        observer,
    ))?
}

/// Check a signed approval of `prepared`.
fn verify_approval(
    answer: Message,
    prepared: &[u8],
    expected: Option<&Certificate>,
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Result<(Vec<Certificate>, Vec<u8>), AppError> {
    let approval = match answer {
        Message::Approval(a) => a,
        other => {
            return Err(AppError::AnswerInvalid {
                reason: format!("expected an approval, got {}", other.kind()),
            });
        }
    };
    let (leaf, path) = verify_signer(&approval.certificate_chain, expected, trust, now)?;
    leaf.public_key()?
        .verify(prepared, &approval.signature)
        .map_err(|e| AppError::SignatureInvalid {
            item: "approval".into(),
            reason: e.to_string(),
        })?;
    Ok((path.certificates().to_vec(), approval.signature))
}
