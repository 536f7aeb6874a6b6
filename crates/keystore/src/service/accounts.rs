//! Accounts (real-name persons), organisations and memberships with roles.

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::Service;
use crate::db::{time, ts};
use crate::ids;
use crate::model::{
    Account, Membership, MembershipStatus, OrgRef, Organisation, PersonDetails, Role,
};
use crate::{KeystoreError, Result};

impl Service {
    /// Create a person's account after the real-name checks (name, ID number with its
    /// check character, mobile number).
    pub fn create_account(&self, details: &PersonDetails, now: OffsetDateTime) -> Result<Account> {
        let name = ids::check_name("name", &details.name)?;
        let id_number = ids::check_id_number(&details.id_number)?;
        let phone_number = ids::check_phone_number(&details.phone_number)?;
        self.db.write(|tx| {
            let exists = |sql: &str, v: &str| -> Result<bool> {
                Ok(tx.query_row(sql, [v], |_| Ok(())).optional()?.is_some())
            };
            if exists("SELECT 1 FROM accounts WHERE id_number = ?1", &id_number)? {
                return Err(KeystoreError::AccountExists {
                    what: format!("ID number {id_number}"),
                });
            }
            if exists("SELECT 1 FROM accounts WHERE phone_number = ?1", &phone_number)? {
                return Err(KeystoreError::AccountExists {
                    what: format!("phone number {phone_number}"),
                });
            }
            tx.execute(
                "INSERT INTO accounts (name, id_number, phone_number, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, id_number, phone_number, ts(now)],
            )?;
            account_by_id(tx, tx.last_insert_rowid())
        })
    }

    /// The account with this id.
    pub fn account(&self, id: i64) -> Result<Account> {
        self.db.read(|c| account_by_id(c, id))
    }

    /// The account whose login is this mobile number.
    pub fn account_by_phone(&self, phone_number: &str) -> Result<Account> {
        let number = ids::check_phone_number(phone_number)?;
        self.db.read(|c| account_by_phone(c, &number))
    }

    /// Create an organisation; `actor` becomes its admin.
    pub fn create_organisation(
        &self,
        actor: &Account,
        name: &str,
        uscc: &str,
        now: OffsetDateTime,
    ) -> Result<Organisation> {
        let name = ids::check_name("organisation name", name)?;
        let uscc = ids::check_uscc(uscc)?;
        self.db.write(|tx| {
            if let Some(existing) = org_by_uscc_opt(tx, &uscc)? {
                return Err(KeystoreError::OrganisationExists {
                    uscc,
                    name: existing.name,
                });
            }
            tx.execute(
                "INSERT INTO organisations (name, uscc, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, uscc, actor.id, ts(now)],
            )?;
            let org_id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO memberships (org_id, account_id, role, status, updated_at) VALUES (?1, ?2, 'admin', 'active', ?3)",
                params![org_id, actor.id, ts(now)],
            )?;
            org_by_id(tx, org_id)
        })
    }

    /// The organisation with this unified social credit code.
    pub fn organisation(&self, uscc: &str) -> Result<Organisation> {
        let uscc = uscc.trim().to_ascii_uppercase();
        self.db.read(|c| {
            org_by_uscc_opt(c, &uscc)?.ok_or_else(|| {
                KeystoreError::not_found(format!(
                    "organisation with unified social credit code {uscc}"
                ))
            })
        })
    }

    /// Ask to join an organisation (加入单位): a pending membership an admin approves
    /// with [`Service::add_member`].
    pub fn request_join(
        &self,
        actor: &Account,
        uscc: &str,
        now: OffsetDateTime,
    ) -> Result<Membership> {
        let org = self.organisation(uscc)?;
        self.db.write(|tx| {
            if let Some((_, status)) = role_of(tx, org.id, actor.id)? {
                if status == MembershipStatus::Active {
                    return Err(KeystoreError::invalid(
                        "organisation",
                        format!("{} is already a member of {}", actor.name, org.name),
                    ));
                }
            } else {
                tx.execute(
                    "INSERT INTO memberships (org_id, account_id, role, status, updated_at) VALUES (?1, ?2, 'member', 'pending', ?3)",
                    params![org.id, actor.id, ts(now)],
                )?;
            }
            membership(tx, org.id, actor.id)
        })
    }

    /// Add a person (by mobile number) to an organisation with `role`, or approve their
    /// pending request, or change an existing member's role. Admins only.
    pub fn add_member(
        &self,
        actor: &Account,
        uscc: &str,
        phone_number: &str,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<Membership> {
        let org = self.organisation(uscc)?;
        let member = self.account_by_phone(phone_number)?;
        self.db.write(|tx| {
            require_manager(tx, actor, &org, "add or approve members")?;
            if member.id == actor.id {
                return Err(KeystoreError::invalid(
                    "member",
                    "you cannot change your own role; ask another admin",
                ));
            }
            tx.execute(
                "INSERT INTO memberships (org_id, account_id, role, status, updated_at) VALUES (?1, ?2, ?3, 'active', ?4)
                 ON CONFLICT (org_id, account_id) DO UPDATE SET role = excluded.role, status = 'active', updated_at = excluded.updated_at",
                params![org.id, member.id, role.as_str(), ts(now)],
            )?;
            membership(tx, org.id, member.id)
        })
    }

    /// Organisations `account_id` belongs to or asked to join.
    pub fn memberships_of(&self, account_id: i64) -> Result<Vec<Membership>> {
        self.db.read(|c| {
            let mut stmt =
                c.prepare("SELECT org_id FROM memberships WHERE account_id = ?1 ORDER BY org_id")?;
            let orgs: Vec<i64> = stmt
                .query_map([account_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            orgs.into_iter()
                .map(|o| membership(c, o, account_id))
                .collect()
        })
    }

    /// Members of an organisation (pending requests included), for any of its members.
    pub fn members(&self, actor: &Account, uscc: &str) -> Result<Vec<Membership>> {
        let org = self.organisation(uscc)?;
        self.db.read(|c| {
            match role_of(c, org.id, actor.id)? {
                Some((_, MembershipStatus::Active)) => {}
                _ => {
                    return Err(KeystoreError::NotAuthorised {
                        user: actor.name.clone(),
                        action: format!("list the members of {}", org.name),
                        reason: "not a member".into(),
                    });
                }
            }
            let mut stmt = c.prepare(
                "SELECT account_id FROM memberships WHERE org_id = ?1 ORDER BY account_id",
            )?;
            let ids: Vec<i64> = stmt
                .query_map([org.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids.into_iter().map(|a| membership(c, org.id, a)).collect()
        })
    }
}

pub(crate) fn account_by_id(c: &Connection, id: i64) -> Result<Account> {
    c.query_row(
        "SELECT id, name, id_number, phone_number, created_at FROM accounts WHERE id = ?1",
        [id],
        row_to_account,
    )
    .optional()?
    .ok_or_else(|| KeystoreError::not_found(format!("account #{id}")))?
}

pub(crate) fn account_by_phone(c: &Connection, number: &str) -> Result<Account> {
    c.query_row(
        "SELECT id, name, id_number, phone_number, created_at FROM accounts WHERE phone_number = ?1",
        [number],
        row_to_account,
    )
    .optional()?
    .ok_or_else(|| KeystoreError::not_found(format!("account with phone number {number}")))?
}

fn row_to_account(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Account>> {
    let created: i64 = r.get(4)?;
    Ok(Ok(Account {
        id: r.get(0)?,
        name: r.get(1)?,
        id_number: r.get(2)?,
        phone_number: r.get(3)?,
        created_at: match time(created) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        },
    }))
}

pub(crate) fn org_by_id(c: &Connection, id: i64) -> Result<Organisation> {
    c.query_row(
        "SELECT id, name, uscc, created_at FROM organisations WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?)),
    )
    .optional()?
    .ok_or_else(|| KeystoreError::not_found(format!("organisation #{id}")))
    .and_then(|(id, name, uscc, at)| {
        Ok(Organisation {
            id,
            name,
            uscc,
            created_at: time(at)?,
        })
    })
}

pub(crate) fn org_by_uscc_opt(c: &Connection, uscc: &str) -> Result<Option<Organisation>> {
    let id: Option<i64> = c
        .query_row(
            "SELECT id FROM organisations WHERE uscc = ?1",
            [uscc],
            |r| r.get(0),
        )
        .optional()?;
    id.map(|id| org_by_id(c, id)).transpose()
}

pub(crate) fn org_ref(c: &Connection, id: i64) -> Result<OrgRef> {
    let o = org_by_id(c, id)?;
    Ok(OrgRef {
        id: o.id,
        name: o.name,
        uscc: o.uscc,
    })
}

/// The role and status of `account_id` in `org_id`, if any.
pub(crate) fn role_of(
    c: &Connection,
    org_id: i64,
    account_id: i64,
) -> Result<Option<(Role, MembershipStatus)>> {
    let row: Option<(String, String)> = c
        .query_row(
            "SELECT role, status FROM memberships WHERE org_id = ?1 AND account_id = ?2",
            params![org_id, account_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(role, status)| Ok((parse_role(&role)?, parse_status(&status)?)))
        .transpose()
}

/// The active role of `account_id` in `org_id`, if an active member.
pub(crate) fn active_role(c: &Connection, org_id: i64, account_id: i64) -> Result<Option<Role>> {
    Ok(match role_of(c, org_id, account_id)? {
        Some((role, MembershipStatus::Active)) => Some(role),
        _ => None,
    })
}

/// Fail unless `actor` is an admin or the legal representative of `org`.
pub(crate) fn require_manager(
    c: &Connection,
    actor: &Account,
    org: &Organisation,
    action: &'static str,
) -> Result<()> {
    match active_role(c, org.id, actor.id)? {
        Some(role) if role.is_manager() => Ok(()),
        _ => Err(KeystoreError::NotAdmin {
            user: actor.name.clone(),
            org: format!("{} ({})", org.name, org.uscc),
            action,
        }),
    }
}

fn membership(c: &Connection, org_id: i64, account_id: i64) -> Result<Membership> {
    let org = org_by_id(c, org_id)?;
    let account = account_by_id(c, account_id)?;
    let (role, status) = role_of(c, org_id, account_id)?.ok_or_else(|| {
        KeystoreError::not_found(format!("membership of {} in {}", account.name, org.name))
    })?;
    Ok(Membership {
        organisation: org,
        account_id,
        name: account.name,
        phone_number: account.phone_number,
        role,
        status,
    })
}

fn parse_role(s: &str) -> Result<Role> {
    s.parse()
        .map_err(|_| KeystoreError::corrupt("memberships", format!("unknown role {s:?}")))
}

fn parse_status(s: &str) -> Result<MembershipStatus> {
    match s {
        "pending" => Ok(MembershipStatus::Pending),
        "active" => Ok(MembershipStatus::Active),
        _ => Err(KeystoreError::corrupt(
            "memberships",
            format!("unknown status {s:?}"),
        )),
    }
}
