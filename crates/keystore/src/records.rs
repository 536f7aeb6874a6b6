//! Usage records (使用记录): the hash chain that makes edits and deletions visible, and
//! export as JSON and CSV.
//!
//! Each record stores `prev_hash` (the previous record's hash; 32 zero bytes for the
//! first) and `hash = SM3("bidkit-usage-record/v1" ‖ prev_hash ‖ canonical(record))`,
//! where `canonical` length-prefixes every field (sequence number, time, account id,
//! user name, organisation id, operation, certificate serial, seal id, platform,
//! device id, result, detail) so no two different records encode alike. The service
//! also keeps the chain's head (last sequence number and hash), so deleting the newest
//! records shows too. [`crate::Service::verify_records`] walks the chain.
//!
//! What it does not stop: someone with write access to the database who recomputes
//! every later hash and the head. The real platform would anchor the head elsewhere
//! (sign it, publish it); the emulation documents the limit.

use bidkit_crypto::HashAlgorithm;

use crate::model::UsageRecord;
use crate::{KeystoreError, Result};

/// Domain separation for record hashes.
const DOMAIN: &[u8] = b"bidkit-usage-record/v1";

/// The hash before the first record.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// The fields of a record that the chain hash covers, borrowed.
pub(crate) struct RecordFields<'a> {
    pub(crate) seq: i64,
    pub(crate) at: i64,
    pub(crate) account_id: i64,
    pub(crate) user_name: &'a str,
    pub(crate) org_id: Option<i64>,
    pub(crate) operation: &'a str,
    pub(crate) cert_serial: Option<&'a str>,
    pub(crate) seal_id: Option<i64>,
    pub(crate) platform: &'a str,
    pub(crate) device_id: &'a str,
    pub(crate) result: &'a str,
    pub(crate) detail: &'a str,
}

impl RecordFields<'_> {
    /// The unambiguous byte encoding of the fields.
    fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let mut put = |v: Option<&[u8]>| match v {
            None => out.push(0),
            Some(bytes) => {
                out.push(1);
                out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                out.extend_from_slice(bytes);
            }
        };
        let num = |n: i64| n.to_string().into_bytes();
        put(Some(&num(self.seq)));
        put(Some(&num(self.at)));
        put(Some(&num(self.account_id)));
        put(Some(self.user_name.as_bytes()));
        put(self.org_id.map(num).as_deref());
        put(Some(self.operation.as_bytes()));
        put(self.cert_serial.map(str::as_bytes));
        put(self.seal_id.map(num).as_deref());
        put(Some(self.platform.as_bytes()));
        put(Some(self.device_id.as_bytes()));
        put(Some(self.result.as_bytes()));
        put(Some(self.detail.as_bytes()));
        out
    }

    /// This record's chain hash after `prev`.
    pub(crate) fn chain_hash(&self, prev: &[u8]) -> [u8; 32] {
        let mut h = HashAlgorithm::Sm3.hasher();
        h.update(DOMAIN);
        h.update(prev);
        h.update(&self.canonical());
        h.finalize()
    }
}

/// Records as pretty JSON (an array of [`UsageRecord`]).
pub fn to_json(records: &[UsageRecord]) -> Result<String> {
    serde_json::to_string_pretty(records)
        .map_err(|e| KeystoreError::corrupt("usage records", format!("cannot write JSON: {e}")))
}

/// Records as CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted when they
/// hold a comma, quote or line break), with a header row.
pub fn to_csv(records: &[UsageRecord]) -> String {
    let mut out = String::from(
        "seq,time,user_name,account_id,org_id,operation,operation_zh,cert_serial,seal_id,platform,device_id,result,detail,hash\r\n",
    );
    for r in records {
        let at =
            r.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
        let fields = [
            r.seq.to_string(),
            at,
            r.user_name.clone(),
            r.account_id.to_string(),
            r.org_id.map(|o| o.to_string()).unwrap_or_default(),
            r.operation.as_str().to_owned(),
            r.operation.label_zh().to_owned(),
            r.cert_serial.clone().unwrap_or_default(),
            r.seal_id.map(|s| s.to_string()).unwrap_or_default(),
            r.platform.clone(),
            r.device_id.clone(),
            r.result.clone(),
            r.detail.clone(),
            r.hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(f: &str) -> String {
    // A leading =, +, - or @ would be a formula in spreadsheets; prefix it with a quote.
    let f = if f.starts_with(['=', '+', '-', '@']) {
        format!("'{f}")
    } else {
        f.to_owned()
    };
    if f.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(detail: &str) -> RecordFields<'_> {
        RecordFields {
            seq: 1,
            at: 1_700_000_000,
            account_id: 1,
            user_name: "张三",
            org_id: None,
            operation: "sign",
            cert_serial: Some("ab"),
            seal_id: None,
            platform: "bidkit-cli",
            device_id: "d",
            result: "ok",
            detail,
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let a = fields("x").chain_hash(&GENESIS);
        assert_ne!(a, fields("y").chain_hash(&GENESIS));
        assert_ne!(a, fields("x").chain_hash(&[1u8; 32]));
        let mut moved = fields("x");
        moved.org_id = Some(1);
        assert_ne!(a, moved.chain_hash(&GENESIS));
    }

    proptest::proptest! {
        #[test]
        fn moving_text_between_fields_changes_the_hash(a in ".{0,8}", b in ".{0,8}", c in ".{0,8}", d in ".{0,8}") {
            proptest::prop_assume!((a.as_str(), b.as_str()) != (c.as_str(), d.as_str()));
            let mut x = fields(&b);
            x.user_name = &a;
            let mut y = fields(&d);
            y.user_name = &c;
            proptest::prop_assert_ne!(x.chain_hash(&GENESIS), y.chain_hash(&GENESIS));
        }
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("plain"), "plain");
    }
}
