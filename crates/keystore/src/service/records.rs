//! Appending, listing and verifying the hash-chained usage records.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::Service;
use crate::db::{time, ts};
use crate::model::{Account, Operation, UsageRecord};
use crate::records::{GENESIS, RecordFields};
use crate::{KeystoreError, Result};

/// A record to append.
#[derive(Clone, Debug)]
pub(crate) struct NewRecord {
    pub(crate) at: OffsetDateTime,
    pub(crate) account_id: i64,
    pub(crate) user_name: String,
    pub(crate) org_id: Option<i64>,
    pub(crate) operation: Operation,
    pub(crate) cert_serial: Option<String>,
    pub(crate) seal_id: Option<i64>,
    pub(crate) platform: String,
    pub(crate) device_id: String,
    pub(crate) result: String,
    pub(crate) detail: String,
}

/// Which records to list.
#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    /// Only this operation.
    pub operation: Option<Operation>,
    /// Only records of this organisation (unified social credit code).
    pub organisation: Option<String>,
    /// Only records at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only records at or before this time.
    pub until: Option<OffsetDateTime>,
}

/// The result of a successful chain check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordsCheck {
    /// Number of records checked.
    pub count: i64,
    /// The head hash (SM3, hex); empty when there are no records.
    pub head: String,
}

impl Service {
    /// Append a record to the chain (one transaction: the row and the new head).
    pub(crate) fn append_record(&self, rec: &NewRecord) -> Result<UsageRecord> {
        self.db.write(|tx| {
            let (last_seq, prev): (i64, Vec<u8>) = tx
                .query_row("SELECT seq, hash FROM usage_head WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
                .unwrap_or((0, GENESIS.to_vec()));
            let seq = last_seq + 1;
            let fields = RecordFields {
                seq,
                at: ts(rec.at),
                account_id: rec.account_id,
                user_name: &rec.user_name,
                org_id: rec.org_id,
                operation: rec.operation.as_str(),
                cert_serial: rec.cert_serial.as_deref(),
                seal_id: rec.seal_id,
                platform: &rec.platform,
                device_id: &rec.device_id,
                result: &rec.result,
                detail: &rec.detail,
            };
            let hash = fields.chain_hash(&prev);
            tx.execute(
                "INSERT INTO usage_records (seq, at, account_id, user_name, org_id, operation, cert_serial, seal_id, platform, device_id, result, detail, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    seq,
                    fields.at,
                    rec.account_id,
                    rec.user_name,
                    rec.org_id,
                    fields.operation,
                    rec.cert_serial,
                    rec.seal_id,
                    rec.platform,
                    rec.device_id,
                    rec.result,
                    rec.detail,
                    prev,
                    hash.as_slice()
                ],
            )?;
            tx.execute(
                "INSERT INTO usage_head (id, seq, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                params![seq, hash.as_slice()],
            )?;
            Ok(UsageRecord {
                seq,
                at: rec.at,
                account_id: rec.account_id,
                user_name: rec.user_name.clone(),
                org_id: rec.org_id,
                operation: rec.operation,
                cert_serial: rec.cert_serial.clone(),
                seal_id: rec.seal_id,
                platform: rec.platform.clone(),
                device_id: rec.device_id.clone(),
                result: rec.result.clone(),
                detail: rec.detail.clone(),
                hash: hex::encode(hash),
            })
        })
    }

    /// The records `account` may see, oldest first: an admin (or legal
    /// representative) sees every record of the organisations they manage plus their
    /// own; anyone else sees only their own (seeds 000, 004).
    pub fn records_visible_to(
        &self,
        account: &Account,
        filter: &RecordFilter,
    ) -> Result<Vec<UsageRecord>> {
        let org_filter = match &filter.organisation {
            Some(uscc) => Some(self.organisation(uscc)?.id),
            None => None,
        };
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT seq FROM usage_records
                  WHERE (account_id = ?1
                         OR org_id IN (SELECT org_id FROM memberships WHERE account_id = ?1 AND status = 'active'
                                         AND role IN ('admin', 'legal-representative')))
                    AND (?2 IS NULL OR operation = ?2)
                    AND (?3 IS NULL OR org_id = ?3)
                    AND (?4 IS NULL OR at >= ?4)
                    AND (?5 IS NULL OR at <= ?5)
                  ORDER BY seq",
            )?;
            let seqs: Vec<i64> = stmt
                .query_map(
                    params![
                        account.id,
                        filter.operation.map(|o| o.as_str()),
                        org_filter,
                        filter.since.map(ts),
                        filter.until.map(ts)
                    ],
                    |r| r.get(0),
                )?
                .collect::<rusqlite::Result<_>>()?;
            seqs.into_iter().map(|s| record(c, s)).collect()
        })
    }

    /// Walk the whole chain: sequence numbers contiguous from 1, each `prev_hash` equal
    /// to the previous hash, each hash recomputed from the row, and the head matching
    /// the last row. The first break is reported as [`KeystoreError::RecordsTampered`].
    pub fn verify_records(&self) -> Result<RecordsCheck> {
        self.db.read(|c| {
            let mut stmt = c.prepare(
                "SELECT seq, at, account_id, user_name, org_id, operation, cert_serial, seal_id, platform, device_id, result, detail, prev_hash, hash
                   FROM usage_records ORDER BY seq",
            )?;
            let mut rows = stmt.query([])?;
            let mut expected_seq = 1i64;
            let mut prev = GENESIS.to_vec();
            while let Some(r) = rows.next()? {
                let seq: i64 = r.get(0)?;
                let tampered = |reason: String| KeystoreError::RecordsTampered { seq, reason };
                if seq != expected_seq {
                    return Err(KeystoreError::RecordsTampered {
                        seq: expected_seq,
                        reason: format!("record #{expected_seq} is missing (next present is #{seq})"),
                    });
                }
                let user_name: String = r.get(3)?;
                let operation: String = r.get(5)?;
                let cert_serial: Option<String> = r.get(6)?;
                let platform: String = r.get(8)?;
                let device_id: String = r.get(9)?;
                let result: String = r.get(10)?;
                let detail: String = r.get(11)?;
                let prev_hash: Vec<u8> = r.get(12)?;
                let hash: Vec<u8> = r.get(13)?;
                if prev_hash != prev {
                    return Err(tampered("it does not link to the record before it".into()));
                }
                let fields = RecordFields {
                    seq,
                    at: r.get(1)?,
                    account_id: r.get(2)?,
                    user_name: &user_name,
                    org_id: r.get(4)?,
                    operation: &operation,
                    cert_serial: cert_serial.as_deref(),
                    seal_id: r.get(7)?,
                    platform: &platform,
                    device_id: &device_id,
                    result: &result,
                    detail: &detail,
                };
                if fields.chain_hash(&prev).as_slice() != hash.as_slice() {
                    return Err(tampered("its content does not match its hash (edited)".into()));
                }
                prev = hash;
                expected_seq += 1;
            }
            let count = expected_seq - 1;
            let head: Option<(i64, Vec<u8>)> = c
                .query_row("SELECT seq, hash FROM usage_head WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            match head {
                None if count == 0 => Ok(RecordsCheck {
                    count,
                    head: String::new(),
                }),
                Some((seq, hash)) if seq == count && hash == prev => Ok(RecordsCheck {
                    count,
                    head: hex::encode(hash),
                }),
                Some((seq, _)) if seq > count => Err(KeystoreError::RecordsTampered {
                    seq: count + 1,
                    reason: format!("the chain head says {seq} records, only {count} are left (deleted)"),
                }),
                _ => Err(KeystoreError::RecordsTampered {
                    seq: count,
                    reason: "the chain head does not match the last record".into(),
                }),
            }
        })
    }
}

fn record(c: &Connection, seq: i64) -> Result<UsageRecord> {
    type Row = (
        i64,
        i64,
        String,
        Option<i64>,
        String,
        Option<String>,
        Option<i64>,
        String,
        String,
        String,
        String,
        Vec<u8>,
    );
    let row: Row = c.query_row(
        "SELECT at, account_id, user_name, org_id, operation, cert_serial, seal_id, platform, device_id, result, detail, hash
           FROM usage_records WHERE seq = ?1",
        [seq],
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
                r.get(10)?,
                r.get(11)?,
            ))
        },
    )?;
    let (
        at,
        account_id,
        user_name,
        org_id,
        operation,
        cert_serial,
        seal_id,
        platform,
        device_id,
        result,
        detail,
        hash,
    ) = row;
    Ok(UsageRecord {
        seq,
        at: time(at)?,
        account_id,
        user_name,
        org_id,
        operation: operation.parse().map_err(|_| {
            KeystoreError::corrupt("usage records", format!("unknown operation {operation:?}"))
        })?,
        cert_serial,
        seal_id,
        platform,
        device_id,
        result,
        detail,
        hash: hex::encode(hash),
    })
}
