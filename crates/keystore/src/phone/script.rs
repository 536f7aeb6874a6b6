//! Scripted outcomes: a queue in the phone database that decides what the emulated
//! user does at the next requests (approve, refuse, never answer, type a wrong PIN), so
//! tests and QA scripts need no human. An empty queue means "approve".

use rusqlite::{OptionalExtension, params};

use super::{Phone, stamp};
use crate::model::ScriptedOutcome;
use crate::{KeystoreError, Result};

impl Phone {
    /// Queue outcomes for the next requests, in order; returns the whole queue.
    pub fn push_outcomes(&self, outcomes: &[ScriptedOutcome]) -> Result<Vec<ScriptedOutcome>> {
        let now = self.now();
        self.db.write(|tx| {
            for o in outcomes {
                tx.execute(
                    "INSERT INTO script_queue (outcome, queued_at) VALUES (?1, ?2)",
                    params![o.as_str(), stamp(now)],
                )?;
            }
            Ok(())
        })?;
        self.scripted_outcomes()
    }

    /// The queued outcomes, next first.
    pub fn scripted_outcomes(&self) -> Result<Vec<ScriptedOutcome>> {
        let names: Vec<String> = self.db.read(|c| {
            let mut stmt = c.prepare("SELECT outcome FROM script_queue ORDER BY id")?;
            let names = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(names)
        })?;
        names.iter().map(|n| parse(n)).collect()
    }

    /// Empty the queue; returns how many outcomes were dropped.
    pub fn clear_outcomes(&self) -> Result<usize> {
        self.db
            .write(|tx| Ok(tx.execute("DELETE FROM script_queue", [])?))
    }

    /// Take the next outcome (approve when none is queued), committed at once.
    pub(crate) fn pop_outcome(&self) -> Result<ScriptedOutcome> {
        let next: Option<(i64, String)> = self.db.write(|tx| {
            let next: Option<(i64, String)> = tx
                .query_row(
                    "SELECT id, outcome FROM script_queue ORDER BY id LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((id, _)) = &next {
                tx.execute("DELETE FROM script_queue WHERE id = ?1", [id])?;
            }
            Ok(next)
        })?;
        match next {
            Some((_, name)) => parse(&name),
            None => Ok(ScriptedOutcome::Approve),
        }
    }
}

fn parse(name: &str) -> Result<ScriptedOutcome> {
    name.parse()
        .map_err(|_| KeystoreError::corrupt("script queue", format!("unknown outcome {name:?}")))
}
