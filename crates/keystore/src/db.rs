//! SQLite plumbing shared by the service and phone databases: opening with durable
//! settings, one-transaction writes, and time stored as Unix seconds.
//!
//! Every database runs in WAL mode with `synchronous=FULL`, so a committed transaction
//! (a PIN retry counter in particular) survives `kill -9` and power loss; every
//! multi-row change is one `BEGIN IMMEDIATE … COMMIT`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use time::OffsetDateTime;

use crate::{KeystoreError, Result};

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// One SQLite database file behind a mutex (so its owner is `Sync`).
#[derive(Debug)]
pub(crate) struct Db {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Db {
    /// Open (creating if needed) the database at `path` and apply `schema` (idempotent
    /// `CREATE … IF NOT EXISTS` statements) in one transaction.
    pub(crate) fn open(path: &Path, schema: &str) -> Result<Db> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| KeystoreError::Io {
                action: "create the directory",
                path: dir.to_owned(),
                source,
            })?;
        }
        let at = |source| KeystoreError::Storage {
            path: Some(path.to_owned()),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(at)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(at)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(at)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(at)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(at)?;
        let db = Db {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        };
        db.write(|tx| {
            tx.execute_batch(schema)?;
            Ok(())
        })?;
        Ok(db)
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` on the connection outside an explicit transaction (reads).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        f(&conn).map_err(|e| self.locate(e))
    }

    /// Run `f` inside one `BEGIN IMMEDIATE` transaction, committed if `f` succeeds and
    /// rolled back otherwise.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        result.map_err(|e| self.locate(e))
    }

    /// Add this database's path to a storage error that has none.
    fn locate(&self, err: KeystoreError) -> KeystoreError {
        match err {
            KeystoreError::Storage { path: None, source } => KeystoreError::Storage {
                path: Some(self.path.clone()),
                source,
            },
            other => other,
        }
    }
}

/// A time as stored: Unix seconds.
pub(crate) fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// A stored time back as a UTC date-time.
pub(crate) fn time(secs: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| {
        KeystoreError::corrupt("a timestamp column", format!("{secs} is out of range"))
    })
}

/// An optional stored time.
pub(crate) fn opt_time(secs: Option<i64>) -> Result<Option<OffsetDateTime>> {
    secs.map(time).transpose()
}
