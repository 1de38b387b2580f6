//! Holding the Raft log's purges until the state machine durably covers them.
//!
//! openraft drops log entries (`RaftLogStorage::purge`) once it counts them as
//! held by the state machine, without waiting for the state machine to have
//! made them durable:
//!
//! - a follower installing a snapshot from the leader purges its log up to the
//!   snapshot's last log id in the same step that hands the snapshot to the
//!   state machine: openraft 0.9's `FollowingHandler::install_full_snapshot`
//!   queues `PurgeLog` right behind the install command, and `RaftCore` runs
//!   it at once, while the state machine worker is still verifying the
//!   snapshot's records (seconds, for thousands of records);
//! - after building a snapshot it purges up to a log id the state machine has
//!   applied, whose bookkeeping sled makes durable only within half a second.
//!
//! A crash after such a purge reached the disk, but before the applied position
//! did, left a node whose log starts past what its state machine counts as
//! applied: the entries in between were in neither. openraft's start-up state
//! then breaks its invariant `last purged <= snapshot's last log id` (the
//! snapshot being built again at the applied position; `RaftState::validate`),
//! and the core task panics on its first step (with debug assertions; without
//! them the node could never apply those entries: nothing holds them).
//!
//! So the log store asks the gate before every purge: it waits until the state
//! machine has saved an applied position at or past the purged entry, then
//! flushes the state machine's sled database, which makes that save durable
//! (sled persists its writes in order), and only then writes the purge.

use openraft::LogId;
use tokio::sync::watch;

use super::NodeId;

/// The state machine's side: reports each applied position it has saved.
///
/// Dropped with the state machine (its worker stops on a storage error), it
/// opens the gate's waits with an error instead of leaving them hanging.
pub struct AppliedSaved {
    saved: watch::Sender<Option<LogId<NodeId>>>,
}

/// The log store's side: waits until a purge is covered by a durable applied position.
#[derive(Clone)]
pub struct PurgeGate {
    saved: watch::Receiver<Option<LogId<NodeId>>>,
    bookkeeping: sled::Tree,
}

/// A gate over the state machine whose bookkeeping is kept in `bookkeeping`
/// and whose durable applied position is `applied` now.
pub fn gate(bookkeeping: sled::Tree, applied: Option<LogId<NodeId>>) -> (AppliedSaved, PurgeGate) {
    let (saved, receiver) = watch::channel(applied);
    (AppliedSaved { saved }, PurgeGate { saved: receiver, bookkeeping })
}

impl AppliedSaved {
    /// Reports that `applied` is saved in the bookkeeping (durable or not yet).
    pub fn saved(&self, applied: Option<LogId<NodeId>>) {
        self.saved.send_replace(applied);
    }
}

impl PurgeGate {
    /// Returns once the state machine's applied position at or past `upto` is
    /// durable: the log may then drop the entries up to `upto`.
    pub async fn covered(&self, upto: LogId<NodeId>) -> Result<(), String> {
        let mut saved = self.saved.clone();
        // Log ids of one log compare by index; committed ones are never replaced.
        saved.wait_for(|saved| saved.is_some_and(|saved| saved.index >= upto.index)).await.map_err(|_| {
            format!("the state machine stopped before it applied log entry {upto}, which the log would drop")
        })?;
        // Everything sled was given before, the applied position included, is
        // durable once it returns.
        self.bookkeeping
            .flush_async()
            .await
            .map_err(|e| format!("making the state machine's applied position durable before a purge: {e}"))?;
        Ok(())
    }
}
