//! Seal records (印章): organisation seals made by admins, personal seals and
//! handwritten signatures made by their owner; voiding (作废).

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::Service;
use super::accounts::{active_role, org_ref, require_manager};
use super::grants::{grant_by_id, grant_error};
use crate::db::{opt_time, time, ts};
use crate::ids;
use crate::model::{Account, GrantState, Seal, SealKind, SealStatus, SealView};
use crate::{KeystoreError, Result};

/// Largest seal picture accepted (PNG).
pub const MAX_SEAL_IMAGE: usize = 4 * 1024 * 1024;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A seal to record.
#[derive(Clone, Debug)]
pub struct NewSeal {
    /// Kind; organisation kinds need `organisation`.
    pub kind: SealKind,
    /// Name shown to people.
    pub name: String,
    /// The organisation (unified social credit code) of an organisation seal.
    pub organisation: Option<String>,
    /// The PNG picture (may be empty until seal pictures are rendered).
    pub image: Vec<u8>,
    /// Start of validity (default: now).
    pub valid_from: Option<OffsetDateTime>,
    /// End of validity (default: until voided).
    pub valid_until: Option<OffsetDateTime>,
}

impl Service {
    /// Record a seal. Organisation seals: admins of that organisation only; personal
    /// seals (人名章, 手写签名) belong to `actor`.
    pub fn add_seal(&self, actor: &Account, new: &NewSeal, now: OffsetDateTime) -> Result<Seal> {
        let name = ids::check_name("seal name", &new.name)?;
        if !new.image.is_empty() && !new.image.starts_with(PNG_SIGNATURE) {
            return Err(KeystoreError::invalid("seal image", "it is not a PNG file"));
        }
        if new.image.len() > MAX_SEAL_IMAGE {
            return Err(KeystoreError::invalid(
                "seal image",
                format!(
                    "{} bytes is more than the {MAX_SEAL_IMAGE} allowed",
                    new.image.len()
                ),
            ));
        }
        let valid_from = new.valid_from.unwrap_or(now);
        if new.valid_until.is_some_and(|until| until <= valid_from) {
            return Err(KeystoreError::invalid(
                "seal validity",
                "it ends before it starts",
            ));
        }
        let org = match (&new.organisation, new.kind.is_organisation_seal()) {
            (Some(uscc), true) => Some(self.organisation(uscc)?),
            (None, true) => {
                return Err(KeystoreError::invalid(
                    "seal",
                    format!(
                        "a {} ({}) belongs to an organisation: name it",
                        new.kind.label_zh(),
                        new.kind
                    ),
                ));
            }
            (Some(_), false) => {
                return Err(KeystoreError::invalid(
                    "seal",
                    format!(
                        "a {} ({}) is personal: do not name an organisation",
                        new.kind.label_zh(),
                        new.kind
                    ),
                ));
            }
            (None, false) => None,
        };
        self.db.write(|tx| {
            if let Some(org) = &org {
                require_manager(tx, actor, org, "make organisation seals")?;
            }
            tx.execute(
                "INSERT INTO seals (kind, name, org_id, owner_id, image, valid_from, valid_until, status, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?9)",
                params![
                    new.kind.as_str(),
                    name,
                    org.as_ref().map(|o| o.id),
                    if org.is_none() { Some(actor.id) } else { None },
                    new.image,
                    ts(valid_from),
                    new.valid_until.map(ts),
                    actor.id,
                    ts(now)
                ],
            )?;
            seal_by_id(tx, tx.last_insert_rowid())
        })
    }

    /// Void a seal (作废). Admins can no longer use it and nobody can be granted it any
    /// more; members who hold a grant keep using it until the grant is withdrawn.
    pub fn void_seal(&self, actor: &Account, seal_id: i64, now: OffsetDateTime) -> Result<Seal> {
        self.db.write(|tx| {
            let seal = seal_by_id(tx, seal_id)?;
            match &seal.organisation {
                Some(org) => {
                    let org = super::accounts::org_by_id(tx, org.id)?;
                    require_manager(tx, actor, &org, "void organisation seals")?;
                }
                None if seal.owner_id == Some(actor.id) => {}
                None => {
                    return Err(KeystoreError::NotAuthorised {
                        user: actor.name.clone(),
                        action: format!("void seal #{seal_id}"),
                        reason: "it is another person's seal".into(),
                    });
                }
            }
            if seal.status == SealStatus::Voided {
                return Ok(seal);
            }
            tx.execute(
                "UPDATE seals SET status = 'voided', voided_at = ?2 WHERE id = ?1",
                params![seal_id, ts(now)],
            )?;
            seal_by_id(tx, seal_id)
        })
    }

    /// The seal with this id.
    pub fn seal(&self, seal_id: i64) -> Result<Seal> {
        self.db.read(|c| seal_by_id(c, seal_id))
    }

    /// The seal's PNG picture (empty if none yet).
    pub fn seal_image(&self, seal_id: i64) -> Result<Vec<u8>> {
        self.db.read(|c| {
            c.query_row("SELECT image FROM seals WHERE id = ?1", [seal_id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| KeystoreError::not_found(format!("seal #{seal_id}")))
        })
    }

    /// The seals `account` sees: its personal seals, every seal of organisations it
    /// manages, and organisation seals it holds (or held) a grant for; each with
    /// whether the account may apply it at `now`.
    pub fn seals_visible_to(
        &self,
        account: &Account,
        now: OffsetDateTime,
    ) -> Result<Vec<SealView>> {
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id FROM seals WHERE owner_id = ?1
                 UNION SELECT s.id FROM seals s JOIN memberships m ON m.org_id = s.org_id
                   WHERE m.account_id = ?1 AND m.status = 'active' AND m.role IN ('admin', 'legal-representative')
                 UNION SELECT seal_id FROM grants WHERE grantee_id = ?1 AND seal_id IS NOT NULL
                 ORDER BY 1",
            )?;
            let ids: Vec<i64> = stmt
                .query_map([account.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids.into_iter()
                .map(|id| seal_view(c, account, id, now))
                .collect()
        })
    }
}

/// One seal as `account` sees it at `now`.
fn seal_view(
    c: &Connection,
    account: &Account,
    seal_id: i64,
    now: OffsetDateTime,
) -> Result<SealView> {
    let seal = seal_by_id(c, seal_id)?;
    let mut grant = None;
    let verdict = match &seal.organisation {
        Some(org) => match active_role(c, org.id, account.id)? {
            Some(role) if role.is_manager() => seal_check(&seal, now, false),
            Some(_) => {
                let best = super::grants::best_grant(
                    c,
                    account.id,
                    crate::model::GrantTarget::Seal(seal.id),
                    now,
                )?;
                match best {
                    Some(g) => {
                        let g = grant_by_id(c, g, now)?;
                        let v = if g.state == GrantState::Active {
                            seal_check(&seal, now, true)
                        } else {
                            Some(grant_error(&g))
                        };
                        grant = Some(g);
                        v
                    }
                    None => Some(KeystoreError::NotAuthorised {
                        user: account.name.clone(),
                        action: format!("apply seal #{}", seal.id),
                        reason: "no authorisation for this seal".into(),
                    }),
                }
            }
            None => Some(KeystoreError::NotAuthorised {
                user: account.name.clone(),
                action: format!("apply seal #{}", seal.id),
                reason: format!("not a member of {}", org.name),
            }),
        },
        None => seal_check(&seal, now, false),
    };
    Ok(SealView {
        seal,
        usable: verdict.is_none(),
        reason: verdict.map(|e| e.to_string()),
        grant,
    })
}

/// Why a seal cannot be applied at `now`, if it cannot: outside its validity, or voided
/// (a voided seal stays usable for a member who applies it under a grant, seed 001).
pub(crate) fn seal_check(
    seal: &Seal,
    now: OffsetDateTime,
    under_grant: bool,
) -> Option<KeystoreError> {
    if now < seal.valid_from {
        return Some(KeystoreError::SealNotValid {
            seal: seal.id,
            name: seal.name.clone(),
            reason: format!("valid from {}", seal.valid_from),
        });
    }
    if let Some(until) = seal.valid_until.filter(|u| now > *u) {
        return Some(KeystoreError::SealNotValid {
            seal: seal.id,
            name: seal.name.clone(),
            reason: format!("expired at {until}"),
        });
    }
    if seal.status == SealStatus::Voided && !under_grant {
        return Some(KeystoreError::SealVoided {
            seal: seal.id,
            name: seal.name.clone(),
            at: seal.voided_at.unwrap_or(now),
        });
    }
    None
}

pub(crate) fn seal_by_id(c: &Connection, seal_id: i64) -> Result<Seal> {
    type Row = (
        String,
        String,
        Option<i64>,
        Option<i64>,
        i64,
        i64,
        Option<i64>,
        String,
        Option<i64>,
        i64,
    );
    let row: Option<Row> = c
        .query_row(
            "SELECT kind, name, org_id, owner_id, length(image), valid_from, valid_until, status, voided_at, created_at
               FROM seals WHERE id = ?1",
            [seal_id],
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
                    r.get(9)?,
                ))
            },
        )
        .optional()?;
    let (kind, name, org_id, owner_id, image_len, from, until, status, voided_at, created_at) =
        row.ok_or_else(|| KeystoreError::not_found(format!("seal #{seal_id}")))?;
    Ok(Seal {
        id: seal_id,
        kind: kind
            .parse()
            .map_err(|_| KeystoreError::corrupt("seals", format!("unknown seal kind {kind:?}")))?,
        name,
        organisation: org_id.map(|o| org_ref(c, o)).transpose()?,
        owner_id,
        image_len: usize::try_from(image_len).unwrap_or(0),
        valid_from: time(from)?,
        valid_until: opt_time(until)?,
        status: match status.as_str() {
            "active" => SealStatus::Active,
            "voided" => SealStatus::Voided,
            other => {
                return Err(KeystoreError::corrupt(
                    "seals",
                    format!("unknown status {other:?}"),
                ));
            }
        },
        voided_at: opt_time(voided_at)?,
        created_at: time(created_at)?,
    })
}
