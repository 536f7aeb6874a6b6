//! The phone database's tables (see the crate documentation for what each holds).

/// Idempotent schema of `phone.db`. Times are Unix seconds (UTC).
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', 'bidkit-phone/1');

-- The account signed in on this phone (one at most).
CREATE TABLE IF NOT EXISTS account (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    account_id   INTEGER NOT NULL,
    name         TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    enrolled_at  INTEGER NOT NULL
);

-- Certificates installed here, with the data key wrapped twice: under the PIN-derived
-- key (Argon2id, per-wrap salt) and under the platform's recovery key.
CREATE TABLE IF NOT EXISTS pairs (
    pair_id           INTEGER PRIMARY KEY,
    suite             TEXT NOT NULL CHECK (suite IN ('gm', 'nist')),
    org_id            INTEGER,
    generation        INTEGER NOT NULL,
    signing_serial    TEXT NOT NULL,
    encryption_serial TEXT NOT NULL,
    signing_cert      BLOB NOT NULL,
    encryption_cert   BLOB NOT NULL,
    kdf_memory_kib    INTEGER NOT NULL,
    kdf_iterations    INTEGER NOT NULL,
    kdf_parallelism   INTEGER NOT NULL,
    pin_salt          BLOB NOT NULL,
    pin_nonce         BLOB NOT NULL,
    pin_wrapped       BLOB NOT NULL,
    recovery_nonce    BLOB NOT NULL,
    recovery_wrapped  BLOB NOT NULL,
    installed_at      INTEGER NOT NULL
);

-- Private keys, each sealed under its certificate's data key with the key id, serial,
-- purpose, suite and device id as associated data.
CREATE TABLE IF NOT EXISTS keys (
    key_id     TEXT PRIMARY KEY,
    pair_id    INTEGER NOT NULL REFERENCES pairs(pair_id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('signing', 'encryption')),
    serial     TEXT NOT NULL UNIQUE,
    current    INTEGER NOT NULL CHECK (current IN (0, 1)),
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

-- PIN retry counters: decremented and committed before every comparison.
CREATE TABLE IF NOT EXISTS pin_state (
    pair_id    INTEGER PRIMARY KEY REFERENCES pairs(pair_id) ON DELETE CASCADE,
    tries_left INTEGER NOT NULL CHECK (tries_left >= 0),
    max_tries  INTEGER NOT NULL CHECK (max_tries >= 1),
    updated_at INTEGER NOT NULL
);

-- Scripted outcomes for QA, consumed in order by the next requests.
CREATE TABLE IF NOT EXISTS script_queue (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    outcome   TEXT NOT NULL CHECK (outcome IN ('approve', 'refuse', 'timeout', 'wrong-pin')),
    queued_at INTEGER NOT NULL
);
"#;
