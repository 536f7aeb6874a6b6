//! The service database's tables (see the crate documentation for what each holds), and
//! the migrations of databases made by earlier versions.
//!
//! Versions (`meta.schema`): `bidkit-service/1` the first; `bidkit-service/2` adds
//! `seals.eseal` (the GB/T 38540 seal record) and the `seal_makers` table.

use rusqlite::Transaction;

use crate::Result;

/// The schema version this code writes.
pub(crate) const VERSION: &str = "bidkit-service/2";

/// Idempotent schema of `service.db`. Times are Unix seconds (UTC).
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', 'bidkit-service/2');

CREATE TABLE IF NOT EXISTS accounts (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    id_number    TEXT NOT NULL UNIQUE,
    phone_number TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS organisations (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    uscc       TEXT NOT NULL UNIQUE,
    created_by INTEGER NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS memberships (
    org_id     INTEGER NOT NULL REFERENCES organisations(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    role       TEXT NOT NULL CHECK (role IN ('admin', 'member', 'legal-representative')),
    status     TEXT NOT NULL CHECK (status IN ('pending', 'active')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, account_id)
);

-- One certificate (证书): a signing + encryption certificate pair bound to one device.
CREATE TABLE IF NOT EXISTS cert_pairs (
    id            INTEGER PRIMARY KEY,
    holder_id     INTEGER NOT NULL REFERENCES accounts(id),
    org_id        INTEGER REFERENCES organisations(id),
    copy_of       INTEGER REFERENCES cert_pairs(id),
    suite         TEXT NOT NULL CHECK (suite IN ('gm', 'nist')),
    subject       TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    generation    INTEGER NOT NULL DEFAULT 0,
    reissues_left INTEGER NOT NULL CHECK (reissues_left >= 0),
    reissues_used INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Every X.509 certificate ever issued for a pair; exactly two are 'current' per pair.
CREATE TABLE IF NOT EXISTS certificates (
    serial     TEXT PRIMARY KEY,
    pair_id    INTEGER NOT NULL REFERENCES cert_pairs(id),
    purpose    TEXT NOT NULL CHECK (purpose IN ('signing', 'encryption')),
    generation INTEGER NOT NULL,
    der        BLOB NOT NULL,
    not_before INTEGER NOT NULL,
    not_after  INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('current', 'superseded', 'revoked')),
    issued_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS certificates_pair ON certificates (pair_id, purpose, status);

-- The emulated CA recovery service: one key per (pair, device) that wraps the phone's
-- data key; released only after a verification code checks out.
CREATE TABLE IF NOT EXISTS recovery_keys (
    pair_id    INTEGER NOT NULL REFERENCES cert_pairs(id),
    device_id  TEXT NOT NULL,
    key        BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (pair_id, device_id)
);

CREATE TABLE IF NOT EXISTS seals (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    org_id      INTEGER REFERENCES organisations(id),
    owner_id    INTEGER REFERENCES accounts(id),
    image       BLOB NOT NULL,
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER,
    status      TEXT NOT NULL CHECK (status IN ('active', 'voided')),
    created_by  INTEGER NOT NULL REFERENCES accounts(id),
    created_at  INTEGER NOT NULL,
    voided_at   INTEGER,
    -- The seal record (GB/T 38540 SESeal, DER) signed by the emulated seal maker; NULL
    -- for a seal without a picture or made before version 2.
    eseal       BLOB,
    CHECK ((org_id IS NULL) <> (owner_id IS NULL))
);

-- The emulated seal maker (制章系统), one per suite: its key (unencrypted, test
-- platform material like the emulated root's key) and its certificate from the CA.
CREATE TABLE IF NOT EXISTS seal_makers (
    suite      TEXT PRIMARY KEY CHECK (suite IN ('gm', 'nist')),
    key        BLOB NOT NULL,
    cert       BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS grants (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organisations(id),
    grantee_id   INTEGER NOT NULL REFERENCES accounts(id),
    seal_id      INTEGER REFERENCES seals(id),
    pair_id      INTEGER REFERENCES cert_pairs(id),
    valid_from   INTEGER NOT NULL,
    valid_until  INTEGER NOT NULL,
    granted_by   INTEGER NOT NULL REFERENCES accounts(id),
    granted_at   INTEGER NOT NULL,
    withdrawn_at INTEGER,
    withdrawn_by INTEGER REFERENCES accounts(id),
    CHECK ((seal_id IS NULL) <> (pair_id IS NULL)),
    CHECK (valid_until >= valid_from)
);

-- The emulated SMS gateway: codes are stored only as salted SM3 hashes.
CREATE TABLE IF NOT EXISTS sms_outbox (
    id              INTEGER PRIMARY KEY,
    phone_number    TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    salt            BLOB NOT NULL,
    code_hash       BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER,
    failed_attempts INTEGER NOT NULL DEFAULT 0
);

-- Usage records (使用记录), hash-chained: hash = SM3(prev_hash || canonical row).
CREATE TABLE IF NOT EXISTS usage_records (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    account_id  INTEGER NOT NULL,
    user_name   TEXT NOT NULL,
    org_id      INTEGER,
    operation   TEXT NOT NULL,
    cert_serial TEXT,
    seal_id     INTEGER,
    platform    TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    result      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL
);
-- The chain's head, updated with every append, so deleting the newest rows shows.
CREATE TABLE IF NOT EXISTS usage_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  BLOB NOT NULL
);
"#;

/// Bring a database made by an earlier version up to [`VERSION`] (run after
/// [`SCHEMA`], in the same kind of transaction). Idempotent.
pub(crate) fn migrate(tx: &Transaction<'_>) -> Result<()> {
    // 1 → 2: seals.eseal (the table seal_makers comes from SCHEMA's IF NOT EXISTS).
    let has_eseal: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('seals') WHERE name = 'eseal')",
        [],
        |r| r.get(0),
    )?;
    if !has_eseal {
        tx.execute_batch("ALTER TABLE seals ADD COLUMN eseal BLOB")?;
    }
    tx.execute("UPDATE meta SET value = ?1 WHERE key = 'schema'", [VERSION])?;
    Ok(())
}
