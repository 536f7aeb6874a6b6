//! The platform's decision on one key use: is the certificate bound to this device,
//! current and valid, and is the user allowed to use it (and the seal) now?

use bidkit_pki::KeyPurpose;
use time::OffsetDateTime;

use super::Service;
use super::accounts::active_role;
use super::certs::{pair_info, serial_status};
use super::grants::{best_grant, grant_by_id, grant_error};
use super::seals::{seal_by_id, seal_check};
use crate::model::{Account, GrantState, GrantTarget, Operation};
use crate::{KeystoreError, Result};

/// One requested key use, as the phone reports it.
pub(crate) struct UseCheck<'a> {
    pub(crate) account: &'a Account,
    pub(crate) phone: &'a str,
    pub(crate) device_id: &'a str,
    pub(crate) pair_id: i64,
    /// Serial of the certificate whose key the phone will use.
    pub(crate) serial: &'a str,
    pub(crate) operation: Operation,
    pub(crate) seal_id: Option<i64>,
    pub(crate) now: OffsetDateTime,
}

impl Service {
    /// Decide whether the use described by `check` may go ahead. The checks, in order:
    ///
    /// 1. the certificate is held by the user and bound to this device (else
    ///    `device_unbound`: it was reissued elsewhere);
    /// 2. the serial is current (signing) or at least not revoked (decryption with a
    ///    renewed encryption key stays possible), and, for signing, inside its validity;
    /// 3. an organisation certificate needs an active membership; a member (not an
    ///    admin) needs an active certificate grant, or for sealing a seal grant (to
    ///    enter continuous mode, any active grant of the organisation);
    /// 4. a seal belongs to the certificate's holder (organisation or person), is
    ///    inside its validity and, unless applied by a member under a grant, not voided.
    pub(crate) fn authorise_use(&self, check: &UseCheck<'_>) -> Result<()> {
        let now = check.now;
        self.db.read(|c| {
            let info = pair_info(c, check.pair_id)?;
            let user = check.account.name.clone();
            let action = |what: String| format!("{} with certificate {}", what, check.serial);
            if info.holder_id != check.account.id {
                return Err(KeystoreError::NotAuthorised {
                    user,
                    action: action(check.operation.as_str().into()),
                    reason: format!("the certificate is held by {}", info.holder),
                });
            }
            if info.device_id != check.device_id {
                return Err(KeystoreError::DeviceUnbound {
                    phone: check.phone.to_owned(),
                    serial: check.serial.to_owned(),
                    bound_device: info.device_id,
                });
            }
            let status = serial_status(c, check.serial)?;
            if status.pair_id != check.pair_id {
                return Err(KeystoreError::corrupt(
                    "phone keys",
                    format!("serial {} does not belong to certificate #{}", check.serial, check.pair_id),
                ));
            }
            let decrypting = status.purpose == KeyPurpose::Encryption;
            match status.status.as_str() {
                "current" => {}
                "superseded" if decrypting => {}
                "superseded" => {
                    return Err(KeystoreError::CertificateSuperseded {
                        serial: check.serial.to_owned(),
                        current: info.signing_serial,
                    });
                }
                _ => {
                    return Err(KeystoreError::CertificateRevoked {
                        serial: check.serial.to_owned(),
                    });
                }
            }
            if !decrypting {
                if now < status.not_before {
                    return Err(KeystoreError::CertificateNotYetValid {
                        serial: check.serial.to_owned(),
                        not_before: status.not_before,
                    });
                }
                if now > status.not_after {
                    return Err(KeystoreError::CertificateExpired {
                        serial: check.serial.to_owned(),
                        not_after: status.not_after,
                    });
                }
            }

            let seal = check.seal_id.map(|id| seal_by_id(c, id)).transpose()?;
            if seal.is_some() != matches!(check.operation, Operation::Seal | Operation::RevokeSeal) {
                return Err(KeystoreError::invalid(
                    "seal",
                    "a seal is named exactly when sealing (or revoking a seal)",
                ));
            }

            let mut member_under_grant = false;
            if let Some(org) = &info.organisation {
                let role = active_role(c, org.id, check.account.id)?.ok_or_else(|| {
                    KeystoreError::NotAuthorised {
                        user: user.clone(),
                        action: action(check.operation.as_str().into()),
                        reason: format!("not a member of {}", org.name),
                    }
                })?;
                if !role.is_manager() && check.operation == Operation::ContinuousStart {
                    // Entering continuous mode signs nothing; each later request is
                    // authorised on its own. Any active grant of the organisation will do.
                    if !super::grants::has_active_grant(c, check.account.id, org.id, now)? {
                        return Err(KeystoreError::NotAuthorised {
                            user,
                            action: action(check.operation.as_str().into()),
                            reason: format!("no active authorisation from an admin of {}", org.name),
                        });
                    }
                } else if !role.is_manager() {
                    let target = match &seal {
                        Some(s) => GrantTarget::Seal(s.id),
                        None => GrantTarget::Certificate(info.copy_of.unwrap_or(info.id)),
                    };
                    let grant = best_grant(c, check.account.id, target, now)?
                        .map(|g| grant_by_id(c, g, now))
                        .transpose()?;
                    match grant {
                        Some(g) if g.state == GrantState::Active => member_under_grant = true,
                        Some(g) => return Err(grant_error(&g)),
                        None => {
                            return Err(KeystoreError::NotAuthorised {
                                user,
                                action: match &seal {
                                    Some(s) => format!("apply seal #{} ({})", s.id, s.name),
                                    None => action(check.operation.as_str().into()),
                                },
                                reason: format!(
                                    "no authorisation from an admin of {}; ask for one (`bidkit phone grant`)",
                                    org.name
                                ),
                            });
                        }
                    }
                }
            }

            if let Some(seal) = &seal {
                let belongs = match (&seal.organisation, &info.organisation) {
                    (Some(s_org), Some(c_org)) => s_org.id == c_org.id,
                    (None, None) => seal.owner_id == Some(check.account.id),
                    _ => false,
                };
                if !belongs {
                    return Err(KeystoreError::NotAuthorised {
                        user,
                        action: format!("apply seal #{} ({})", seal.id, seal.name),
                        reason: format!(
                            "the seal belongs to {}, the certificate to {}",
                            seal.organisation
                                .as_ref()
                                .map(|o| o.name.clone())
                                .unwrap_or_else(|| "a person".into()),
                            info.subject
                        ),
                    });
                }
                if let Some(err) = seal_check(seal, now, member_under_grant) {
                    return Err(err);
                }
            }
            Ok(())
        })
    }

    /// Whether `account` may claim a copy of an organisation certificate: admins
    /// always, members while they hold an active grant of that organisation.
    pub(crate) fn may_claim(
        &self,
        account: &Account,
        org_id: i64,
        now: OffsetDateTime,
    ) -> Result<bool> {
        self.db.read(|c| {
            Ok(match active_role(c, org_id, account.id)? {
                Some(role) if role.is_manager() => true,
                Some(_) => super::grants::has_active_grant(c, account.id, org_id, now)?,
                None => false,
            })
        })
    }
}
