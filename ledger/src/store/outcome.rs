//! What a submission gets back: a [`Receipt`] per accepted entry, and the [`PendingOutcomes`]
//! of a batch, held back until its records are durable.

use serde::{Deserialize, Serialize};

use crate::chain::{LeafHash, Seq};
use crate::custody::NodeSetChange;
use crate::entry::EntryId;
use crate::refusal::Refusal;

/// What the ledger returns for an accepted entry, once it is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The record's position.
    pub seq: Seq,
    /// The entry id.
    pub entry_id: EntryId,
    /// The record's leaf hash.
    pub leaf_hash: LeafHash,
}

/// The outcomes of [`Ledger::submit_pending`](super::Ledger::submit_pending), held back until
/// the accepted records are durable: only [`Ledger::settle`](super::Ledger::settle) gives them
/// out.
// INVARIANT: `last` is the highest seq among the accepted entries in `outcomes`
// (`None` if none was accepted); settling waits for it.
#[derive(Debug)]
#[must_use = "receipts promise durability: settle the outcomes before answering anyone"]
pub struct PendingOutcomes {
    pub(super) outcomes: Vec<Result<Receipt, Refusal>>,
    pub(super) last: Option<Seq>,
    pub(super) node_changes: Vec<NodeSetChange>,
}

impl PendingOutcomes {
    /// How many entries were submitted (accepted or refused).
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Whether no entry was submitted.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// The changes of the consortium's node set that the accepted entries ask
    /// for (`node.add`, `node.remove`, re-submissions of them included), in
    /// order. They hold once the outcomes are settled.
    pub fn node_changes(&self) -> &[NodeSetChange] {
        &self.node_changes
    }
}
