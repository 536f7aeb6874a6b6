//! Seal records (印章): organisation seals made by admins, personal seals and
//! handwritten signatures made by their owner; voiding (作废); and each seal's record
//! signed by the emulated seal maker (GB/T 38540-2020 `SESeal`, see `seal_maker`).

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
            let seal = seal_by_id(tx, tx.last_insert_rowid())?;
            if let Some(record) = make_record(tx, &self.home, &seal, &new.image, now)? {
                tx.execute(
                    "UPDATE seals SET eseal = ?2 WHERE id = ?1",
                    params![seal.id, record],
                )?;
            }
            Ok(seal)
        })
    }

    /// Make the seal's record again (制章 again, same picture and validity), bound to the
    /// certificates current at `now`: after a certificate is renewed or reissued, or for a
    /// seal made before records existed. Who may: as for voiding (an admin of the
    /// organisation, or the owner of a personal seal). Returns the new record (DER).
    pub fn remake_seal_record(
        &self,
        actor: &Account,
        seal_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        self.db.write(|tx| {
            let seal = seal_by_id(tx, seal_id)?;
            match &seal.organisation {
                Some(org) => {
                    let org = super::accounts::org_by_id(tx, org.id)?;
                    require_manager(tx, actor, &org, "make organisation seal records")?;
                }
                None if seal.owner_id == Some(actor.id) => {}
                None => {
                    return Err(KeystoreError::NotAuthorised {
                        user: actor.name.clone(),
                        action: format!("remake the record of seal #{seal_id}"),
                        reason: "it is another person's seal".into(),
                    });
                }
            }
            let image: Vec<u8> =
                tx.query_row("SELECT image FROM seals WHERE id = ?1", [seal_id], |r| {
                    r.get(0)
                })?;
            let record = make_record(tx, &self.home, &seal, &image, now)?.ok_or_else(|| {
                KeystoreError::invalid(
                    "seal record",
                    format!("seal #{seal_id} has no picture to make a record of"),
                )
            })?;
            tx.execute(
                "UPDATE seals SET eseal = ?2 WHERE id = ?1",
                params![seal_id, record],
            )?;
            Ok(record)
        })
    }

    /// The seal's record (GB/T 38540-2020 `SESeal`, DER) signed by the emulated seal
    /// maker. Seals without a picture, and seals made before records existed, have none.
    pub fn seal_record(&self, seal_id: i64) -> Result<Vec<u8>> {
        self.db.read(|c| {
            let row: Option<Option<Vec<u8>>> = c
                .query_row("SELECT eseal FROM seals WHERE id = ?1", [seal_id], |r| {
                    r.get(0)
                })
                .optional()?;
            match row {
                None => Err(KeystoreError::not_found(format!("seal #{seal_id}"))),
                Some(None) => Err(KeystoreError::not_found(format!(
                    "the seal record (SESeal) of seal #{seal_id}: it has no picture, or was made before seal records existed"
                ))),
                Some(Some(der)) => Ok(der),
            }
        })
    }

    /// Check a seal's record as a verifier would (GB/T 38540-2020 §8.2 seal checks):
    /// the maker's certificate chains to the emulated root of its suite (at the time
    /// the seal was made), the maker's signature verifies, the picture is present and
    /// the same as the platform's, and the seal is within its validity at `now`.
    pub fn verify_seal_record(
        &self,
        seal_id: i64,
        now: OffsetDateTime,
    ) -> Result<bidkit_ses::VerifiedSeal> {
        let der = self.seal_record(seal_id)?;
        let image = self.seal_image(seal_id)?;
        let bad = |e: bidkit_ses::SesError| {
            let reason = e.to_string();
            match e {
                bidkit_ses::SesError::SealExpired { name, .. }
                | bidkit_ses::SesError::SealNotYetValid { name, .. } => {
                    KeystoreError::SealNotValid {
                        seal: seal_id,
                        name,
                        reason,
                    }
                }
                _ => KeystoreError::corrupt(format!("seal record of seal #{seal_id}"), reason),
            }
        };
        let record = bidkit_ses::SESeal::from_der(&der).map_err(bad)?;
        let maker = record.maker_certificate().map_err(bad)?;
        let trust = self.seal_trust(maker.suite(), now)?;
        let verified = record
            .verify(&bidkit_ses::SealTrust::Roots(&trust), now)
            .map_err(bad)?;
        if verified.info.picture.data != image {
            return Err(KeystoreError::corrupt(
                format!("seal record of seal #{seal_id}"),
                "its picture is not the seal's picture on the platform",
            ));
        }
        Ok(verified)
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

/// The end of validity written for a seal valid "until voided" (the standard's
/// `validEnd` is mandatory): the largest GeneralizedTime, 9999-12-31T23:59:59Z.
const UNTIL_VOIDED: OffsetDateTime = time::macros::datetime!(9999-12-31 23:59:59 UTC);

/// Make the seal record (SESeal DER) of a seal just inserted, or `None` when it has no
/// picture. Bound (`certList`) to the current signing certificates the seal is used
/// with: an organisation seal to the organisation's (main ones and members' copies), a
/// personal one to its owner's person certificates. The maker's suite is the first
/// bound certificate's, GM when there is none.
fn make_record(
    c: &Connection,
    home: &std::path::Path,
    seal: &Seal,
    image: &[u8],
    now: OffsetDateTime,
) -> Result<Option<Vec<u8>>> {
    if image.is_empty() {
        return Ok(None);
    }
    let (sql, holder, whose) = match (&seal.organisation, seal.owner_id) {
        (Some(org), _) => (
            "SELECT c.der FROM certificates c JOIN cert_pairs p ON p.id = c.pair_id
              WHERE p.org_id = ?1 AND c.purpose = 'signing' AND c.status = 'current' ORDER BY p.id",
            org.id,
            format!("organisation {}", org.name),
        ),
        (None, Some(owner)) => (
            "SELECT c.der FROM certificates c JOIN cert_pairs p ON p.id = c.pair_id
              WHERE p.holder_id = ?1 AND p.org_id IS NULL AND c.purpose = 'signing' AND c.status = 'current' ORDER BY p.id",
            owner,
            format!("account #{owner}"),
        ),
        (None, None) => {
            return Err(KeystoreError::corrupt(
                "seals",
                format!("seal #{} has neither organisation nor owner", seal.id),
            ));
        }
    };
    let mut stmt = c.prepare(sql)?;
    let certs: Vec<Vec<u8>> = stmt
        .query_map([holder], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let suite = match certs.first() {
        Some(der) => bidkit_pki::Certificate::from_der(der)?.suite(),
        None => bidkit_crypto::Suite::Gm,
    };
    let binding_note = certs
        .is_empty()
        .then(|| format!("unbound: {whose} had no signing certificate when the seal was made"));
    let maker = super::seal_maker::seal_maker(c, home, suite, now)?;
    let (width_mm, height_mm) = png_size_mm(image).unwrap_or_else(|| default_size_mm(seal.kind));
    let serial = maker.cert.serial_hex();
    let info = bidkit_ses::SealInfo {
        vendor_id: bidkit_ses::BIDKIT_VENDOR_ID.to_owned(),
        es_id: format!("bidkit-{}-{}", &serial[..serial.len().min(12)], seal.id),
        seal_type: if seal.organisation.is_some() {
            bidkit_ses::SealType::Organisation
        } else {
            bidkit_ses::SealType::Personal
        },
        name: seal.name.clone(),
        kind: Some(seal.kind.as_str().to_owned()),
        binding: bidkit_ses::CertBinding::Certificates(certs),
        binding_note,
        created: now,
        valid_start: seal.valid_from,
        valid_end: seal.valid_until.unwrap_or(UNTIL_VOIDED),
        picture: bidkit_ses::Picture {
            format: "PNG".to_owned(),
            data: image.to_vec(),
            width_mm,
            height_mm,
        },
        extensions: Vec::new(),
    };
    let record = bidkit_ses::SESeal::make(info, &maker.key, &maker.cert)
        .map_err(|e| KeystoreError::invalid("seal record", e.to_string()))?;
    Ok(Some(record.to_der().to_vec()))
}

/// The size of a seal of `kind` as made in practice, for a picture that does not say.
fn default_size_mm(kind: SealKind) -> (f32, f32) {
    match kind {
        SealKind::Official => (42.0, 42.0),
        SealKind::Contract => (40.0, 40.0),
        SealKind::Finance => (22.0, 22.0),
        SealKind::LegalRepresentative => (20.0, 20.0),
        SealKind::PersonalName => (18.0, 18.0),
        SealKind::Handwritten => (40.0, 15.0),
    }
}

/// Physical size of a PNG from its `IHDR` and `pHYs` (unit: metre) chunks, if it has
/// both and they are sensible.
pub(crate) fn png_size_mm(png: &[u8]) -> Option<(f32, f32)> {
    let mut rest = png.strip_prefix(PNG_SIGNATURE)?;
    let mut px: Option<(u32, u32)> = None;
    let be = |b: &[u8]| -> Option<u32> { Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?)) };
    // IHDR must come first and pHYs before IDAT; a handful of chunks is enough.
    for _ in 0..64 {
        let len = usize::try_from(be(rest)?).ok()?;
        let kind = rest.get(4..8)?;
        let data = rest.get(8..8usize.checked_add(len)?)?;
        match kind {
            b"IHDR" => px = Some((be(data)?, be(data.get(4..)?)?)),
            b"pHYs" => {
                let (w, h) = px?;
                let (ppm_x, ppm_y, unit) = (be(data)?, be(data.get(4..)?)?, *data.get(8)?);
                if unit != 1 || ppm_x == 0 || ppm_y == 0 {
                    return None;
                }
                let mm = |px: u32, ppm: u32| (f64::from(px) * 1000.0 / f64::from(ppm)) as f32;
                let size = (mm(w, ppm_x), mm(h, ppm_y));
                return (size.0 > 0.0 && size.0 < 10_000.0 && size.1 > 0.0 && size.1 < 10_000.0)
                    .then_some(size);
            }
            b"IDAT" | b"IEND" => return None,
            _ => {}
        }
        rest = rest.get(12usize.checked_add(len)?..)?;
    }
    None
}
