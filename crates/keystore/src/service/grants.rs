//! Authorisations (授权): an admin lets a member use an organisation seal or an
//! organisation certificate for a validity period, and can withdraw it (收回).

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::Service;
use super::accounts::{
    account_by_id, account_by_phone, active_role, org_by_id, org_ref, require_manager,
};
use super::certs::pair_info;
use super::seals::seal_by_id;
use crate::db::{opt_time, time, ts};
use crate::ids;
use crate::model::{Account, Grant, GrantState, GrantTarget, SealStatus};
use crate::{KeystoreError, Result};

impl Service {
    /// Grant `grantee_phone`'s account use of `target` from `valid_from` to
    /// `valid_until` (inclusive). Admins of the target's organisation only; the grantee
    /// must be a member. A voided seal cannot be granted any more; granting a member's
    /// copy of a certificate grants the organisation certificate it was claimed from.
    pub fn grant(
        &self,
        actor: &Account,
        target: GrantTarget,
        grantee_phone: &str,
        valid_from: OffsetDateTime,
        valid_until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Grant> {
        let number = ids::check_phone_number(grantee_phone)?;
        if valid_until < valid_from {
            return Err(KeystoreError::invalid(
                "grant validity",
                "it ends before it starts",
            ));
        }
        if valid_until <= now {
            return Err(KeystoreError::invalid(
                "grant validity",
                format!("it ends at {valid_until}, which is already past"),
            ));
        }
        self.db.write(|tx| {
            let grantee = account_by_phone(tx, &number)?;
            let (org_id, target) = match target {
                GrantTarget::Seal(seal_id) => {
                    let seal = seal_by_id(tx, seal_id)?;
                    let Some(org) = seal.organisation else {
                        return Err(KeystoreError::invalid(
                            "grant",
                            format!("seal #{seal_id} is a personal seal; only organisation seals are granted"),
                        ));
                    };
                    if seal.status == SealStatus::Voided {
                        return Err(KeystoreError::SealVoided {
                            seal: seal.id,
                            name: seal.name,
                            at: seal.voided_at.unwrap_or(now),
                        });
                    }
                    (org.id, GrantTarget::Seal(seal_id))
                }
                GrantTarget::Certificate(pair_id) => {
                    let info = pair_info(tx, pair_id)?;
                    let Some(org) = info.organisation else {
                        return Err(KeystoreError::invalid(
                            "grant",
                            format!("certificate {} is a person's certificate; only organisation certificates are granted", info.signing_serial),
                        ));
                    };
                    (org.id, GrantTarget::Certificate(info.copy_of.unwrap_or(pair_id)))
                }
            };
            let org = org_by_id(tx, org_id)?;
            require_manager(tx, actor, &org, "grant authorisations")?;
            if active_role(tx, org.id, grantee.id)?.is_none() {
                return Err(KeystoreError::invalid(
                    "grantee",
                    format!("{} is not a member of {}; add them first", grantee.name, org.name),
                ));
            }
            let (seal_id, pair_id) = match target {
                GrantTarget::Seal(s) => (Some(s), None),
                GrantTarget::Certificate(p) => (None, Some(p)),
            };
            tx.execute(
                "INSERT INTO grants (org_id, grantee_id, seal_id, pair_id, valid_from, valid_until, granted_by, granted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![org.id, grantee.id, seal_id, pair_id, ts(valid_from), ts(valid_until), actor.id, ts(now)],
            )?;
            grant_by_id(tx, tx.last_insert_rowid(), now)
        })
    }

    /// Withdraw a grant (收回授权): from now on the member can no longer use the seal or
    /// certificate under it. Admins of the grant's organisation only.
    pub fn withdraw_grant(
        &self,
        actor: &Account,
        grant_id: i64,
        now: OffsetDateTime,
    ) -> Result<Grant> {
        self.db.write(|tx| {
            let grant = grant_by_id(tx, grant_id, now)?;
            let org = org_by_id(tx, grant.organisation.id)?;
            require_manager(tx, actor, &org, "withdraw authorisations")?;
            if grant.withdrawn_at.is_some() {
                return Ok(grant);
            }
            tx.execute(
                "UPDATE grants SET withdrawn_at = ?2, withdrawn_by = ?3 WHERE id = ?1",
                params![grant_id, ts(now), actor.id],
            )?;
            grant_by_id(tx, grant_id, now)
        })
    }

    /// One grant, with its state at `now`.
    pub fn grant_info(&self, grant_id: i64, now: OffsetDateTime) -> Result<Grant> {
        self.db.read(|c| grant_by_id(c, grant_id, now))
    }

    /// Grants `account` sees: those made to it, and all grants of organisations it
    /// manages; newest first.
    pub fn grants_visible_to(&self, account: &Account, now: OffsetDateTime) -> Result<Vec<Grant>> {
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id FROM grants WHERE grantee_id = ?1
                 UNION SELECT g.id FROM grants g JOIN memberships m ON m.org_id = g.org_id
                   WHERE m.account_id = ?1 AND m.status = 'active' AND m.role IN ('admin', 'legal-representative')
                 ORDER BY 1 DESC",
            )?;
            let ids: Vec<i64> = stmt
                .query_map([account.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids.into_iter().map(|id| grant_by_id(c, id, now)).collect()
        })
    }
}

/// The grant that decides whether `grantee` may use `target` at `now`: an active one
/// if there is one, else the most recent one (whose state explains the refusal).
pub(crate) fn best_grant(
    c: &Connection,
    grantee: i64,
    target: GrantTarget,
    now: OffsetDateTime,
) -> Result<Option<i64>> {
    let (column, id) = match target {
        GrantTarget::Seal(s) => ("seal_id", s),
        GrantTarget::Certificate(p) => ("pair_id", p),
    };
    let active: Option<i64> = c
        .query_row(
            &format!(
                "SELECT id FROM grants WHERE grantee_id = ?1 AND {column} = ?2 AND withdrawn_at IS NULL
                   AND valid_from <= ?3 AND valid_until >= ?3 ORDER BY valid_until DESC LIMIT 1"
            ),
            params![grantee, id, ts(now)],
            |r| r.get(0),
        )
        .optional()?;
    if active.is_some() {
        return Ok(active);
    }
    Ok(c.query_row(
        &format!(
            "SELECT id FROM grants WHERE grantee_id = ?1 AND {column} = ?2 ORDER BY id DESC LIMIT 1"
        ),
        params![grantee, id],
        |r| r.get(0),
    )
    .optional()?)
}

/// Whether `grantee` holds any active grant in `org_id` at `now` (seal or certificate).
pub(crate) fn has_active_grant(
    c: &Connection,
    grantee: i64,
    org_id: i64,
    now: OffsetDateTime,
) -> Result<bool> {
    Ok(c.query_row(
        "SELECT 1 FROM grants WHERE grantee_id = ?1 AND org_id = ?2 AND withdrawn_at IS NULL
           AND valid_from <= ?3 AND valid_until >= ?3 LIMIT 1",
        params![grantee, org_id, ts(now)],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

/// The error that a grant in a non-active state stands for.
pub(crate) fn grant_error(g: &Grant) -> KeystoreError {
    let target = g.target_label.clone();
    let user = g.grantee.clone();
    match g.state {
        GrantState::Withdrawn => KeystoreError::GrantWithdrawn {
            grant: g.id,
            user,
            target,
            at: g.withdrawn_at.unwrap_or(g.valid_until),
        },
        GrantState::NotYetValid => KeystoreError::GrantNotYetValid {
            grant: g.id,
            user,
            target,
            from: g.valid_from,
        },
        GrantState::Expired | GrantState::Active => KeystoreError::GrantExpired {
            grant: g.id,
            user,
            target,
            until: g.valid_until,
        },
    }
}

pub(crate) fn grant_by_id(c: &Connection, grant_id: i64, now: OffsetDateTime) -> Result<Grant> {
    type Row = (
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        i64,
        i64,
        i64,
        i64,
        Option<i64>,
    );
    let row: Option<Row> = c
        .query_row(
            "SELECT org_id, grantee_id, seal_id, pair_id, valid_from, valid_until, granted_by, granted_at, withdrawn_at
               FROM grants WHERE id = ?1",
            [grant_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            },
        )
        .optional()?;
    let (org_id, grantee_id, seal_id, pair_id, from, until, by, at, withdrawn) =
        row.ok_or_else(|| KeystoreError::not_found(format!("authorisation #{grant_id}")))?;
    let (target, target_label) = match (seal_id, pair_id) {
        (Some(s), _) => {
            let seal = seal_by_id(c, s)?;
            (
                GrantTarget::Seal(s),
                format!("seal #{s} {} ({})", seal.name, seal.kind.label_zh()),
            )
        }
        (None, Some(p)) => {
            let info = pair_info(c, p)?;
            (
                GrantTarget::Certificate(p),
                format!(
                    "certificate #{p} of {} (serial {})",
                    info.subject, info.signing_serial
                ),
            )
        }
        (None, None) => {
            return Err(KeystoreError::corrupt(
                "grants",
                format!("grant #{grant_id} has no target"),
            ));
        }
    };
    let valid_from = time(from)?;
    let valid_until = time(until)?;
    let withdrawn_at = opt_time(withdrawn)?;
    Ok(Grant {
        id: grant_id,
        organisation: org_ref(c, org_id)?,
        grantee_id,
        grantee: account_by_id(c, grantee_id)?.name,
        target,
        target_label,
        valid_from,
        valid_until,
        granted_by: account_by_id(c, by)?.name,
        granted_at: time(at)?,
        withdrawn_at,
        state: Grant::state_at(valid_from, valid_until, withdrawn_at, now),
    })
}
