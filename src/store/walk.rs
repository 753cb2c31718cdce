//! `log verify`'s one walk, the same over either chain (the verifications, the liveness
//! attempts, each a [`ChainRows`]): every row's hash recomputed and linked to its
//! predecessor, its pictures' sha256 checked, then the counter beside the key. The first thing
//! found wrong is a [`ChainProblem`], whose `Display` is the line `log verify` prints.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension, Row};
use sha2::{Digest, Sha256};

use super::chain::{Chain, Counted, GENESIS};
use super::media::MediaId;
use super::{Store, StoreError};

/// The first thing found wrong with the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainProblem {
    /// The checkpoint where the plain (v1) rows end is gone.
    #[error("the chain's checkpoint is missing")]
    CheckpointMissing,
    /// The checkpoint's MAC is not the log key's.
    #[error("the chain's checkpoint was altered (its MAC fails)")]
    CheckpointAltered,
    /// The counter beside the key holds another checkpoint than the database's.
    #[error("the chain's checkpoint was remade (the counter beside the key holds another)")]
    CheckpointRemade,
    /// The checkpoint's row does not have the hash the checkpoint holds: the plain rows up to
    /// it were rewritten.
    #[error("records up to {id} were rewritten (the checkpoint disagrees)")]
    RewrittenBeforeCheckpoint {
        /// The checkpoint's record.
        id: i64,
    },
    /// The checkpoint names a record after the newest one.
    #[error("records after {last_id} were deleted (the checkpoint holds record {checkpoint})")]
    DeletedBeforeCheckpoint {
        /// The newest record left.
        last_id: i64,
        /// The record the checkpoint holds.
        checkpoint: i64,
    },
    /// A row's hash is not its content's, or it does not chain to the row before it.
    #[error("{} {id} was altered, removed or reordered", .chain.names().2)]
    Altered {
        /// Its chain.
        chain: Chain,
        /// The row.
        id: i64,
    },
    /// A picture still stored is not the one its row's hash covers.
    #[error("the picture {media} of {} {id} is not the one it recorded", .chain.names().2)]
    PictureSwapped {
        /// Its chain.
        chain: Chain,
        /// The row.
        id: i64,
        /// The picture's media id.
        media: String,
    },
    /// The counter file beside the key is gone, so deleted newest rows could not be seen.
    #[error("{}", counter_missing(*.chain, .path))]
    CounterMissing {
        /// Its chain.
        chain: Chain,
        /// Where the counter file belongs.
        path: PathBuf,
    },
    /// The counter file cannot be read, is damaged, or its MAC fails (the reason as read).
    #[error("{0}")]
    CounterUnreadable(String),
    /// The counter holds a row after the newest one: the newest rows were deleted.
    #[error(
        "{} after {last_id} were deleted (this device wrote up to {} {wrote})",
        .chain.names().0,
        .chain.names().1
    )]
    NewestDeleted {
        /// Its chain.
        chain: Chain,
        /// The newest row left.
        last_id: i64,
        /// The newest row the device wrote, as its counter holds.
        wrote: i64,
    },
    /// The row the counter holds has another hash than the counter's.
    #[error("{} {id} was rewritten (the counter disagrees)", .chain.names().2)]
    CounterDisagrees {
        /// Its chain.
        chain: Chain,
        /// The row.
        id: i64,
    },
    /// A liveness attempt holds a verification head that is no longer in the log.
    #[error(
        "record {record} is not the one liveness attempt {attempt} followed: records were \
         rewritten or removed"
    )]
    FollowedRecordGone {
        /// The verification record the attempt followed.
        record: i64,
        /// The attempt.
        attempt: i64,
    },
    /// A verification names an attempt that is not in the log or did not pass.
    #[error(
        "record {record} names liveness attempt {attempt}, which is not a passed attempt in the \
         log"
    )]
    UnpassedAttemptNamed {
        /// The verification record.
        record: i64,
        /// The attempt it names.
        attempt: i64,
    },
}

fn counter_missing(chain: Chain, path: &Path) -> String {
    let (counter, rows) = match chain {
        Chain::Verifications => ("chain counter", "records"),
        Chain::Liveness => ("liveness counter", "attempts"),
    };
    format!("the {counter} {} is missing: deleted newest {rows} could not be seen", path.display())
}

impl ChainProblem {
    /// The verification record at which the chain breaks, when the problem is one of that
    /// chain's rows (what `log verify` names as "broken at record N").
    pub fn record(&self) -> Option<i64> {
        match *self {
            ChainProblem::RewrittenBeforeCheckpoint { id }
            | ChainProblem::Altered { chain: Chain::Verifications, id }
            | ChainProblem::PictureSwapped { chain: Chain::Verifications, id, .. }
            | ChainProblem::CounterDisagrees { chain: Chain::Verifications, id } => Some(id),
            _ => None,
        }
    }
}

/// Result of recomputing the hash chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Verification records checked.
    pub rows: usize,
    /// Liveness attempts checked.
    pub attempts: usize,
    /// The first record whose stored hashes do not match its content or its predecessor
    /// ([`ChainProblem::record`]).
    pub first_broken: Option<i64>,
    /// The first thing wrong; `None` when the log holds.
    pub problem: Option<ChainProblem>,
}

impl ChainReport {
    pub(super) fn new(rows: usize, attempts: usize, problem: Option<ChainProblem>) -> ChainReport {
        let first_broken = problem.as_ref().and_then(ChainProblem::record);
        ChainReport { rows, attempts, first_broken, problem }
    }
}

/// One row as the walk reads it.
pub(super) struct Link {
    pub(super) id: i64,
    /// The hash it chains to, as stored.
    pub(super) prev: String,
    /// Its hash as stored.
    pub(super) stored: String,
    /// Its hash recomputed from its content.
    pub(super) recomputed: String,
    /// What the row's own content shows wrong once its hash holds (checked before its
    /// pictures).
    pub(super) own_problem: Option<ChainProblem>,
    /// Its pictures: each media id beside the sha256 its hash covers.
    pub(super) pictures: Vec<(Option<String>, Option<String>)>,
}

/// A chain as the walk reads it: which one, its rows, and the checks only it has.
pub(super) trait ChainRows {
    /// Which chain (its counter file, and the names its problems use).
    const CHAIN: Chain;
    /// Every row with its pictures' sha256, in chain order.
    const SQL: &'static str;
    /// A row of [`ChainRows::SQL`], its hash recomputed.
    fn link(&self, row: &Row<'_>) -> rusqlite::Result<Link>;
    /// What is wrong once every row holds, before the counter is read (`last_id` the newest).
    fn after_rows(&self, _last_id: i64) -> Option<ChainProblem> {
        None
    }
    /// What the counter beside the key shows wrong beyond the rows it holds.
    fn against_counter(&self, _counted: &Counted) -> Option<ChainProblem> {
        None
    }
}

/// What `counted`, the counter of `chain`, says against the chain as stored: `last_id` its
/// newest row, `stored` the stored hash of the row the counter holds.
fn disagreement(
    counted: &Counted,
    chain: Chain,
    last_id: i64,
    stored: Option<&str>,
) -> Option<ChainProblem> {
    if counted.last_id > last_id {
        return Some(ChainProblem::NewestDeleted { chain, last_id, wrote: counted.last_id });
    }
    if counted.last_id > 0 && stored != Some(counted.last_hash.as_str()) {
        return Some(ChainProblem::CounterDisagrees { chain, id: counted.last_id });
    }
    None
}

/// What a walk found: the rows read, their stored hashes by id, and the first problem.
pub(super) struct Walked {
    pub(super) rows: usize,
    pub(super) hashes: HashMap<i64, String>,
    pub(super) problem: Option<ChainProblem>,
}

impl Store {
    /// Walks one chain to its first problem, or to its end and its counter.
    pub(super) fn walk<R: ChainRows>(&self, chain_rows: &R) -> Result<Walked, StoreError> {
        let chain = R::CHAIN;
        let mut stmt = self.conn.prepare(R::SQL)?;
        let mut rows = stmt.query([])?;
        let mut walked = Walked { rows: 0, hashes: HashMap::new(), problem: None };
        let (mut expected_prev, mut last_id) = (GENESIS.to_string(), 0);
        while let Some(row) = rows.next()? {
            let link = chain_rows.link(row)?;
            walked.rows += 1;
            let id = link.id;
            walked.problem =
                if link.prev != expected_prev || link.recomputed != link.stored {
                    Some(ChainProblem::Altered { chain, id })
                } else if link.own_problem.is_some() {
                    link.own_problem
                } else {
                    self.swapped_picture(&link.pictures)?
                        .map(|media| ChainProblem::PictureSwapped { chain, id, media })
                };
            if walked.problem.is_some() {
                return Ok(walked);
            }
            walked.hashes.insert(id, link.stored.clone());
            expected_prev = link.stored;
            last_id = id;
        }
        walked.problem = self.counter_problem(chain_rows, last_id, &walked.hashes);
        Ok(walked)
    }

    /// What the chain's end and its counter beside the key say, once every row holds.
    fn counter_problem<R: ChainRows>(
        &self,
        chain_rows: &R,
        last_id: i64,
        hashes: &HashMap<i64, String>,
    ) -> Option<ChainProblem> {
        if let Some(problem) = chain_rows.after_rows(last_id) {
            return Some(problem);
        }
        let chain = R::CHAIN;
        let path = self.counter_file(chain);
        let counted = match Counted::read(path, &self.log_key, chain) {
            Ok(Some(counted)) => counted,
            Ok(None) => return Some(ChainProblem::CounterMissing { chain, path: path.into() }),
            Err(e) => return Some(ChainProblem::CounterUnreadable(e.to_string())),
        };
        if let Some(problem) = chain_rows.against_counter(&counted) {
            return Some(problem);
        }
        let stored = hashes.get(&counted.last_id).map(String::as_str);
        disagreement(&counted, chain, last_id, stored)
    }

    /// The first picture still stored that is not the one its row recorded (`pictures`: media
    /// ids beside the sha256 the row's hash covers), by its media id.
    fn swapped_picture(
        &self,
        pictures: &[(Option<String>, Option<String>)],
    ) -> Result<Option<String>, StoreError> {
        for (id, sha) in pictures {
            let (Some(id), Some(sha)) = (id, sha) else { continue };
            let sealed: Option<Vec<u8>> = self
                .conn
                .query_row("SELECT sealed FROM media WHERE id = ?1", params![id], |r| r.get(0))
                .optional()?
                .flatten();
            let Some(sealed) = sealed else { continue }; // purged by retention
            let media = MediaId(id.clone());
            let same = self
                .key
                .open(&sealed, &super::media::context(&media))
                .is_ok_and(|plain| hex::encode(Sha256::digest(plain)) == *sha);
            if !same {
                return Ok(Some(id.clone()));
            }
        }
        Ok(None)
    }

    /// A verification that names an attempt which is not in the log or did not pass.
    pub(super) fn unmatched_attempt_names(&self) -> Result<Option<ChainProblem>, StoreError> {
        let found: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT v.id, v.liveness_attempt FROM verifications v
                 LEFT JOIN liveness_attempts a ON a.id = v.liveness_attempt
                 WHERE v.liveness_attempt IS NOT NULL AND (a.id IS NULL OR a.live = 0)
                 ORDER BY v.id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(found.map(|(record, attempt)| ChainProblem::UnpassedAttemptNamed { record, attempt }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_read_as_log_verify_prints_them() {
        let (v, l) = (Chain::Verifications, Chain::Liveness);
        let path = PathBuf::from("k.key.chain");
        for (problem, line) in [
            (ChainProblem::Altered { chain: v, id: 3 }, "record 3 was altered, removed or reordered"),
            (
                ChainProblem::Altered { chain: l, id: 1 },
                "liveness attempt 1 was altered, removed or reordered",
            ),
            (
                ChainProblem::PictureSwapped { chain: l, id: 1, media: "MX1".into() },
                "the picture MX1 of liveness attempt 1 is not the one it recorded",
            ),
            (
                ChainProblem::CounterMissing { chain: v, path: path.clone() },
                "the chain counter k.key.chain is missing: deleted newest records could not be seen",
            ),
            (
                ChainProblem::CounterMissing { chain: l, path },
                "the liveness counter k.key.chain is missing: deleted newest attempts could not be \
                 seen",
            ),
            (
                ChainProblem::NewestDeleted { chain: v, last_id: 4, wrote: 5 },
                "records after 4 were deleted (this device wrote up to record 5)",
            ),
            (
                ChainProblem::NewestDeleted { chain: l, last_id: 2, wrote: 3 },
                "liveness attempts after 2 were deleted (this device wrote up to attempt 3)",
            ),
            (
                ChainProblem::CounterDisagrees { chain: l, id: 2 },
                "liveness attempt 2 was rewritten (the counter disagrees)",
            ),
        ] {
            assert_eq!(problem.to_string(), line);
        }
        assert_eq!(ChainProblem::CounterDisagrees { chain: v, id: 2 }.record(), Some(2));
        assert_eq!(ChainProblem::CounterDisagrees { chain: l, id: 2 }.record(), None);
    }
}
