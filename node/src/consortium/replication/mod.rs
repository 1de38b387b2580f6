//! Replication between consortium nodes, on openraft.
//!
//! Every node of a consortium holds the same ledger. The nodes agree, through
//! Raft, on one order of **batches** of signed entries; each node then applies
//! every batch to its own ledger with the ledger's deterministic rules, judged
//! at the time the leader fixed for the batch, so every node computes the same
//! records, roots and state without trusting the others' verdicts.
//!
//! - [`log_store`]: the Raft log and vote, in our own append-only segment
//!   files, fsynced (group-committed) before Raft is told they are stored.
//! - [`state_machine`]: the ledger as Raft's state machine, and snapshots that
//!   are the ledger's own records.
//! - [`membership`]: adding and removing nodes, as threshold-signed admin
//!   entries ask, through Raft's membership change.
//! - [`network`] and [`auth`]: Raft's messages over HTTP between nodes, each
//!   request and each answer signed with the operator's key and checked
//!   against the consortium's members ([`roster`]).
//!
//! The node ids Raft knows are derived from the operators' member ids
//! ([`node_id`]), so no number has to be handed out or remembered.

// openraft's storage traits fix their error type, `StorageError`, which is
// large; our helpers return it as the traits do.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod log_store;
pub mod membership;
pub mod network;
pub mod purge_gate;
mod replica;
#[cfg(test)]
mod restart_tests;
pub mod roster;
mod snapshot_file;
pub mod state_machine;

pub use replica::{Replica, ReplicationError, raft_config, start};

use std::fmt;
use std::sync::Arc;

use salvage_ledger::Refusal;
use salvage_ledger::disclosure::{DisclosedEntry, Disclosure};
use salvage_ledger::entry::{SignedEntry, Timestamp};
use salvage_ledger::store::Receipt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A Raft node id: derived from the operator's member id by [`node_id`].
pub type NodeId = u64;

openraft::declare_raft_types!(
    /// The types Raft is instantiated with for a Salvage consortium.
    pub TypeConfig:
        D = Batch,
        R = BatchOutcome,
        NodeId = NodeId,
        Node = ConsortiumNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
        AsyncRuntime = openraft::TokioRuntime,
);

/// The running Raft instance of a node.
pub type Raft = openraft::Raft<TypeConfig>;

/// What Raft orders: signed entries submitted together, and the time at which
/// every node judges them.
///
/// The leader fixes `accepted` when it proposes the batch; a node applying it
/// takes the later of that time and its last record's, so record times never
/// go back when leadership moves to a node whose clock is behind.
///
/// The entries travel as their canonical JSON, embedded as is: the Raft log
/// stores, reads and sends each one several times, and only the apply needs
/// it parsed (which it does strictly, as for a submission). They are shared,
/// not copied, when Raft clones the batch: the leader's log hands a copy of
/// each batch to every follower's replication and to the apply, and copying
/// a batch's entries would copy every entry's bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    /// When the leader accepted the batch for ordering.
    pub accepted: Timestamp,
    /// The entries' canonical JSON, in the order they are applied.
    pub entries: Arc<[Box<RawValue>]>,
}

impl Batch {
    /// An entry's canonical JSON, as a batch carries it. Canonical bytes are
    /// valid JSON by construction, so this is never `None`.
    pub fn entry_json(entry: &SignedEntry) -> Option<Box<RawValue>> {
        String::from_utf8(entry.canonical_bytes()).ok().and_then(|json| RawValue::from_string(json).ok())
    }

    /// A batch element's canonical JSON: the entry's, or with disclosures
    /// (format 2) its envelope's (`{"disclosures": […], "entry": …}`, docs/format.md
    /// §13.6), so that every node judges the whole body and keeps them.
    pub fn element_json(entry: &SignedEntry, disclosures: &[Disclosure]) -> Option<Box<RawValue>> {
        if disclosures.is_empty() {
            return Self::entry_json(entry);
        }
        let envelope = DisclosedEntry { entry: entry.clone(), disclosures: disclosures.to_vec() };
        String::from_utf8(envelope.canonical_bytes()).ok().and_then(|json| RawValue::from_string(json).ok())
    }

    /// About how many bytes the batch's JSON takes, a little more rather than
    /// less: what a buffer it is written to should hold from the start, since
    /// growing one of a few hundred kilobytes copies it again and again.
    pub fn json_len_hint(&self) -> usize {
        self.entries.iter().map(|entry| entry.get().len() + 1).sum::<usize>() + 64
    }

    /// How many entries the batch holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// About how many bytes a Raft log entry's JSON takes (its log id and payload).
pub(crate) fn entry_json_len_hint(entry: &openraft::Entry<TypeConfig>) -> usize {
    128 + match &entry.payload {
        openraft::EntryPayload::Normal(batch) => batch.json_len_hint(),
        openraft::EntryPayload::Blank | openraft::EntryPayload::Membership(_) => 256,
    }
}

/// What applying a [`Batch`] gave, per entry in order: its receipt or the refusal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchOutcome {
    /// One outcome per entry of the batch; empty for Raft's own entries
    /// (blank and membership entries).
    pub outcomes: Vec<EntryOutcome>,
}

/// The outcome of one entry of an applied batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryOutcome {
    /// Recorded (or already recorded: an idempotent re-submission).
    Accepted(Receipt),
    /// Refused by the ledger's rules; nothing changed.
    Refused(Refusal),
}

impl From<Result<Receipt, Refusal>> for EntryOutcome {
    fn from(outcome: Result<Receipt, Refusal>) -> Self {
        match outcome {
            Ok(receipt) => EntryOutcome::Accepted(receipt),
            Err(refusal) => EntryOutcome::Refused(refusal),
        }
    }
}

impl From<EntryOutcome> for Result<Receipt, Refusal> {
    fn from(outcome: EntryOutcome) -> Self {
        match outcome {
            EntryOutcome::Accepted(receipt) => Ok(receipt),
            EntryOutcome::Refused(refusal) => Err(refusal),
        }
    }
}

/// A consortium node as Raft's membership names it: the operator member that
/// runs it and the base URL where the other nodes reach it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumNode {
    /// The operator's member id.
    pub member: String,
    /// The node's base URL, e.g. `http://10.0.0.7:8080`, without a trailing slash.
    pub url: String,
}

impl fmt::Display for ConsortiumNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.member, self.url)
    }
}

/// The Raft node id of the node run by operator `member`: the first eight
/// bytes of a domain-separated BLAKE3 hash of the member id, big-endian.
///
/// Member ids are unique and never reused, so the ids are stable across
/// restarts and every node derives the same one without coordination.
pub fn node_id(member: &str) -> NodeId {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"salvage-raft-node/v1\n");
    hasher.update(member.as_bytes());
    let hash = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    NodeId::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use salvage_ledger::testkit::Fixture;

    use super::*;

    #[test]
    fn a_batch_carries_its_entries_byte_for_byte_even_bytes_that_are_no_entry() {
        let fixture = Fixture::new();
        let entries = [
            fixture.register("baltic-demolition", "4750001RAW-1", "door", 30.0),
            fixture.transfer("baltic-demolition", "4750001RAW-1", "reuse-hub"),
        ];
        let batch = Batch {
            accepted: Timestamp::now(),
            entries: entries.iter().map(|entry| Batch::entry_json(entry).unwrap()).collect(),
        };
        let sent = serde_json::to_vec(&batch).unwrap();
        assert!(batch.json_len_hint() >= sent.len(), "a buffer of the hinted size holds the batch without growing");
        let received: Batch = serde_json::from_slice(&sent).unwrap();
        assert_eq!(
            received.entries[0].get().as_bytes(),
            entries[0].canonical_bytes(),
            "the entry's own canonical bytes, not re-encoded"
        );
        let parsed: Vec<SignedEntry> = received
            .entries
            .iter()
            .map(|entry| SignedEntry::from_canonical_json(entry.get().as_bytes()).unwrap())
            .collect();
        assert_eq!(
            parsed.iter().map(SignedEntry::id).collect::<Vec<_>>(),
            entries.iter().map(SignedEntry::id).collect::<Vec<_>>()
        );

        // A leader that proposes garbage still sends a batch: the ledger refuses
        // the garbage in its place when the batch is applied.
        let forged = format!(
            r#"{{"accepted":"2026-12-01T10:00:00Z","entries":[{},{{"signatures":[],"statement":1}}]}}"#,
            received.entries[0].get()
        );
        let forged: Batch = serde_json::from_str(&forged).unwrap();
        assert_eq!(forged.len(), 2);
        assert_eq!(forged.entries[1].get(), r#"{"signatures":[],"statement":1}"#);
    }
}
