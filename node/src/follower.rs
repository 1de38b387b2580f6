//! Following the ledger into a store of the node's own: the attachments' names
//! (`crate::attachments`, `DATA/attachments/names.redb`) and the members' holdings
//! (`crate::holdings`, `DATA/holdings.redb`) each read every record once, in order, and
//! note what they need from it, so that a read never searches the ledger.
//!
//! A [`Follower`] does the following; the store says what a record means to it ([`Notes`]):
//!
//! - A store keeps a mark, [`Followed`]: how many records it has read, with the leaf hash of
//!   the last. What it notes of some records lands in one write with the mark after them, so
//!   a node stopped at any moment resumes from the mark.
//! - [`Follower::follow`] reads the records after the mark, 512 at a time, and hands them to
//!   the store. A store that finds another ledger under it (a snapshot installed: the record
//!   at its mark has another leaf hash, or the ledger is shorter) forgets everything and reads
//!   the new one from the start.
//! - One follows at a time: the background one (`Follower::follow_in_the_background`, which
//!   backs off when it fails) or a read catching up itself ([`Follower::try_follow`], which
//!   never waits for the other). A read that found it busy may wait, at most
//!   [`FOLLOWER_PATIENCE`], for it to get there ([`Follower::caught_up`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use salvage_ledger::Ledger;
pub use salvage_ledger::attachment::Followed;
use salvage_ledger::chain::Record;

/// How many records [`Follower::follow`] reads at a time.
const FOLLOW_CHUNK: u64 = 512;

/// How long a read waits for the background follower to read the records it has not read
/// yet before it answers from what has been read: a member's list as it stood a moment ago,
/// "unknown" for a file a record already names.
pub const FOLLOWER_PATIENCE: Duration = Duration::from_secs(5);

/// The longest pause of the background follower after failures: `every` × 2⁶.
const MAX_BACK_OFF_DOUBLINGS: u32 = 6;

/// A store that follows the ledger: what it keeps of the records, and its mark.
pub trait Notes: Send + Sync + 'static {
    /// Why the store, or the ledger under it, failed.
    type Error: std::fmt::Display + Send + 'static;

    /// What the store keeps, for the log: "the ledger's {WHAT}", "the {WHAT} followed".
    const WHAT: &'static str;

    /// The store's mark; `None` before the first record.
    fn followed(&self) -> Result<Option<Followed>, Self::Error>;

    /// Notes what `records` (consecutive, from the store's mark on, at least one) mean to the
    /// store, as many of them as one write should take but at least the first, in one write
    /// with the mark after the last it noted ([`followed_to`]); returns that mark.
    fn note_records(&self, ledger: &Ledger, records: &[Record]) -> Result<Followed, Self::Error>;

    /// Forgets everything noted and the mark: the ledger under the store is another one.
    fn start_over(&self) -> Result<(), Self::Error>;

    /// The store's error for a ledger that could not be read.
    fn ledger_failed(error: &dyn std::fmt::Display) -> Self::Error;
}

/// Follows the ledger into the store `N`.
pub struct Follower<N> {
    notes: N,
    // One follower at a time: the background one, or a read catching up.
    following: Mutex<()>,
    followed: tokio::sync::watch::Sender<u64>,
}

impl<N: Notes> Follower<N> {
    /// A follower of the ledger into `notes`, from its mark.
    pub fn new(notes: N) -> Result<Follower<N>, N::Error> {
        let followed = notes.followed()?.map_or(0, |followed| followed.size);
        Ok(Follower { notes, following: Mutex::new(()), followed: tokio::sync::watch::Sender::new(followed) })
    }

    /// The store.
    pub fn notes(&self) -> &N {
        &self.notes
    }

    /// How many of the ledger's records the store has read.
    pub fn followed_size(&self) -> u64 {
        *self.followed.borrow()
    }

    /// Waits, at most `patience`, until the store has read `size` records: a read that found
    /// the follower busy waits for it rather than answer from what it read a moment ago.
    /// Returns whether it got there.
    pub async fn caught_up(&self, size: u64, patience: Duration) -> bool {
        let mut followed = self.followed.subscribe();
        matches!(tokio::time::timeout(patience, followed.wait_for(|followed| *followed >= size)).await, Ok(Ok(_)))
    }

    /// Reads the records the store has not seen, waiting for whoever else is following;
    /// starts over when the ledger under the store is another one. Returns the size followed.
    pub fn follow(&self, ledger: &Ledger) -> Result<u64, N::Error> {
        let _one_at_a_time = self.following.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.follow_locked(ledger)
    }

    /// [`Follower::follow`], unless someone else is following (`None`): a read never waits
    /// for the background follower here, which may be reading a whole ledger after an upgrade.
    pub fn try_follow(&self, ledger: &Ledger) -> Result<Option<u64>, N::Error> {
        let Ok(_one_at_a_time) = self.following.try_lock() else { return Ok(None) };
        self.follow_locked(ledger).map(Some)
    }

    /// Follows the ledger in the background, every `every` (twice as long after each failure
    /// in a row, up to 64 times), until the node stops.
    pub(crate) fn follow_in_the_background(self: &Arc<Self>, ledger: Arc<Ledger>, every: Duration) {
        let follower = Arc::clone(self);
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                tokio::time::sleep(every * (1 << failures.min(MAX_BACK_OFF_DOUBLINGS))).await;
                if ledger.size() <= follower.followed_size() {
                    continue;
                }
                let (ledger, follower) = (Arc::clone(&ledger), Arc::clone(&follower));
                match tokio::task::spawn_blocking(move || follower.follow(&ledger)).await {
                    Ok(Ok(_)) => failures = 0,
                    Ok(Err(error)) => {
                        failures += 1;
                        tracing::error!(%error, "following the ledger's {}", N::WHAT);
                    }
                    Err(_) => return,
                }
            }
        });
    }

    /// [`Follower::follow`], by the holder of `following`.
    fn follow_locked(&self, ledger: &Ledger) -> Result<u64, N::Error> {
        let size = ledger.size();
        let mut from = match self.notes.followed()? {
            Some(followed) if followed.size <= size && leaf(ledger, followed.size) == Some(followed.last_leaf) => {
                followed.size
            }
            Some(_) => {
                tracing::warn!(
                    "the ledger is not the one the {} followed (a snapshot was installed): reading it again",
                    N::WHAT
                );
                self.notes.start_over()?;
                self.followed.send_replace(0);
                0
            }
            None => 0,
        };
        while from < size {
            let records = ledger.records(from, FOLLOW_CHUNK).map_err(|error| N::ledger_failed(&error))?;
            if records.is_empty() {
                break;
            }
            let followed = self.notes.note_records(ledger, &records)?;
            // A store that noted none of them would have this read them again forever.
            debug_assert!(followed.size > from, "the {} noted none of the records from {from}", N::WHAT);
            if followed.size <= from {
                break;
            }
            from = followed.size;
            self.followed.send_replace(from);
        }
        Ok(from)
    }
}

/// The mark after `record`: the records up to and including it have been read.
pub fn followed_to(record: &Record) -> Followed {
    Followed { size: record.seq.get() + 1, last_leaf: *record.leaf_hash().as_bytes() }
}

/// The leaf hash of record `size − 1`; none for an empty mark.
fn leaf(ledger: &Ledger, size: u64) -> Option<[u8; 32]> {
    let seq = size.checked_sub(1)?;
    ledger.record(seq).ok().map(|record| *record.leaf_hash().as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests;
