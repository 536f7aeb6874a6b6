//! The emulated CA platform (the cloud service behind the phone app): accounts,
//! organisations and roles, certificate records with device bindings and reissue
//! counters, the recovery service, seals, grants, the SMS outbox and the usage records.
//!
//! One service database per home: `$home/service/service.db`. Phones call it directly
//! (there is no network in the emulation); every method that acts for a user takes
//! that user's [`Account`] and checks the user's rights itself.

mod accounts;
mod authorise;
mod certs;
mod grants;
mod records;
mod recovery;
mod schema;
mod seal_maker;
mod seals;
mod sms;

use std::path::{Path, PathBuf};

use crate::db::Db;
use crate::model::Account;
use crate::{KeystoreError, Result};

pub(crate) use authorise::UseCheck;
pub use certs::REISSUES_PER_PACK;
pub(crate) use certs::normalise_serial;
pub(crate) use certs::{IssuedPair, NewPair};
pub(crate) use records::NewRecord;
pub use records::{RecordFilter, RecordsCheck};
pub use seals::NewSeal;
pub use sms::CODE_VALIDITY;

/// The emulated CA platform of one home directory.
#[derive(Debug)]
pub struct Service {
    db: Db,
    home: PathBuf,
}

impl Service {
    /// Open (creating if needed) the service of the home directory `home`.
    pub fn open(home: &Path) -> Result<Service> {
        let db = Db::open(&home.join("service").join("service.db"), schema::SCHEMA)?;
        db.write(schema::migrate)?;
        Ok(Service {
            db,
            home: home.to_owned(),
        })
    }

    /// The service database file.
    pub fn db_path(&self) -> &Path {
        self.db.path()
    }

    /// The home directory (the CA lives in `ca/<suite>` under it).
    pub fn home(&self) -> &Path {
        &self.home
    }
}

/// The text form of a suite as stored.
pub(crate) fn parse_suite(s: &str) -> Result<bidkit_crypto::Suite> {
    s.parse()
        .map_err(|_| KeystoreError::corrupt("service database", format!("unknown suite {s:?}")))
}

/// `account` must be the same person as `holder_id`.
pub(crate) fn same_account(account: &Account, holder_id: i64) -> bool {
    account.id == holder_id
}
