//! The write path: submitting entries (verified off the lock, then sequenced, checked against
//! the state and appended under it), applying batches ordered by consensus, and appending
//! records formed by another node. Durability is left to the group commit (`commit`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::value::RawValue;

use super::core::{Core, signatures_digest};
use super::error::{LedgerError, invalid};
use super::index::IndexUpdate;
use super::log::{LogPosition, MAX_PAYLOAD_BYTES};
use super::outcome::{PendingOutcomes, Receipt};
use super::private::PrivateFrame;
use super::verifiers::Unverified;
use super::{Ledger, PARALLEL_VERIFY_THRESHOLD, VERIFY_CHUNK, VERIFY_THREADS};
use crate::chain::{self, Record, Seq};
use crate::custody::{Context, NodeSetChange, VerifiedEntry};
use crate::disclosure::Disclosure;
use crate::entry::{SignedEntry, Timestamp};
use crate::refusal::{Refusal, RefusalCode};

impl Ledger {
    /// Submits a batch of signed entries; returns, per entry, its receipt or the
    /// refusal. Returns only once every accepted record is durable.
    ///
    /// Entries are applied in the order given, so a later entry may depend on
    /// an earlier one in the same batch. Re-submitting an entry already in the
    /// ledger returns its existing receipt.
    pub fn submit(&self, entries: Vec<SignedEntry>) -> Result<Vec<Result<Receipt, Refusal>>, LedgerError> {
        let pending = self.submit_pending(entries)?;
        self.settle(pending)
    }

    /// The first half of [`Ledger::submit`]: checks and appends the entries but
    /// does not wait for their records to be durable. The outcomes can only be
    /// had from [`Ledger::settle`], which waits; so a caller can sequence the
    /// next batch while this one's `fdatasync` is under way elsewhere.
    pub fn submit_pending(&self, entries: Vec<SignedEntry>) -> Result<PendingOutcomes, LedgerError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LedgerError::Poisoned);
        }
        let mut order = Order::Local;
        self.verify_and_order(Unverified::Decoded(entries), &mut order)
    }

    /// [`Ledger::submit`] for entries that come with the disclosures of their
    /// restricted values (format 2, docs/format.md §13): each entry's whole
    /// body is put back together and judged, and the disclosures of those
    /// accepted are kept in the private store, durable before their records.
    pub fn submit_disclosed(
        &self,
        entries: Vec<(SignedEntry, Vec<Disclosure>)>,
    ) -> Result<Vec<Result<Receipt, Refusal>>, LedgerError> {
        let pending = self.submit_pending_disclosed(entries)?;
        self.settle(pending)
    }

    /// [`Ledger::submit_pending`] for entries with disclosures.
    pub fn submit_pending_disclosed(
        &self,
        entries: Vec<(SignedEntry, Vec<Disclosure>)>,
    ) -> Result<PendingOutcomes, LedgerError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LedgerError::Poisoned);
        }
        let entries = entries.into_iter().map(|(entry, disclosures)| (entry, Some(disclosures))).collect();
        self.verify_and_order(Unverified::Disclosed(entries), &mut Order::Local)
    }

    /// Applies a batch whose order consensus fixed (replication): every node of
    /// a consortium calls this with the same batches in the same order and
    /// computes the same records. The batch holds each entry's canonical JSON,
    /// as Raft's log carries it; the entries are decoded on the verification
    /// threads, and bytes that are no signed entry are refused in place (with
    /// the strict parser's verdict) like any other refused entry. The entries
    /// are judged at `accepted`, or at the last record's time if that is later,
    /// so record times never go back.
    ///
    /// `start` is the ledger size at which the batch begins: the size this
    /// call returned for the previous batch. Where the ledger already holds
    /// records from `start` on (the node applied this batch before it crashed,
    /// and the caller's own bookkeeping of what it applied was not yet durable),
    /// the batch's entries are matched with those records instead of being
    /// judged again: the state has moved past them, and judging them again
    /// could differ from what every other node recorded. Returns the outcomes,
    /// to be settled like [`Ledger::submit_pending`]'s, and the size at which
    /// the next batch begins.
    pub fn apply_canonical(
        &self,
        entries: Arc<[Box<RawValue>]>,
        accepted: Timestamp,
        start: u64,
    ) -> Result<(PendingOutcomes, u64), LedgerError> {
        let range = 0..entries.len();
        let entries = Unverified::Canonical(entries, range);
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LedgerError::Poisoned);
        }
        let recorded = self.lock_core()?.tree.len();
        if start > recorded {
            return Err(LedgerError::Invalid {
                seq: recorded,
                reason: format!("a replicated batch begins at {start} but the ledger holds only {recorded} records"),
            });
        }
        let mut order = Order::Replicated { accepted, next: start };
        let pending = self.verify_and_order(entries, &mut order)?;
        let next = match order {
            Order::Replicated { next, .. } => next,
            Order::Local => start,
        };
        Ok((pending, next))
    }

    /// The second half of [`Ledger::submit`]: waits until every record accepted
    /// by `pending` is durable (syncing the log if no other caller is), then
    /// gives its outcomes.
    pub fn settle(&self, pending: PendingOutcomes) -> Result<Vec<Result<Receipt, Refusal>>, LedgerError> {
        if let Some(seq) = pending.last {
            self.wait_durable(seq)?;
        }
        Ok(pending.outcomes)
    }

    /// Appends records formed by another node (replication, restore from a
    /// download), each with the disclosures of the values it withholds,
    /// checking each exactly as [`Ledger::open`] does: position, chain link,
    /// signatures, schema and custody rules (a record that withholds values
    /// and comes without disclosures is judged publicly, and this ledger will
    /// not hold them). Returns once they are durable, with the changes of the
    /// consortium's node set that the records ask for, in order. The first
    /// record that does not verify stops the call; those before it stay.
    pub fn append_records(&self, records: Vec<(Record, Vec<Disclosure>)>) -> Result<Vec<NodeSetChange>, LedgerError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LedgerError::Poisoned);
        }
        let mut last = None;
        let mut failure = None;
        let mut node_changes = Vec::new();
        {
            let mut core = self.lock_core()?;
            let mut payloads = Vec::new();
            let mut pending = Vec::new();
            let mut private = Vec::new();
            let indexed = self.indexer.indexed();
            core.settle(indexed);
            for (record, disclosures) in records {
                let seq = core.tree.len();
                let admitted =
                    chain::check_link(seq, core.last_leaf, &record).map_err(|e| invalid(seq, e)).and_then(|()| {
                        if core.entry(&record.entry.id())?.is_some() {
                            return Err(invalid(seq, format!("entry {} is recorded twice", record.entry.id())));
                        }
                        let context = Context { seq: record.seq, accepted: record.accepted.clone() };
                        let verified = if disclosures.is_empty() {
                            VerifiedEntry::verify_public(record.entry.clone(), self.format)
                        } else {
                            VerifiedEntry::verify_disclosed(record.entry.clone(), self.format, disclosures)
                        }
                        .map_err(|e| invalid(seq, e))?;
                        core.load(verified.body())?;
                        let change = core.state.check(&verified, &context).map_err(|e| invalid(seq, e))?;
                        core.check_named_root(verified.body())?.map_err(|e| invalid(seq, e))?;
                        let asks = NodeSetChange::asked_by(verified.body());
                        let (_, disclosures) = verified.into_disclosed();
                        Ok((change, asks, disclosures))
                    });
                let change = match admitted {
                    Ok((change, asks, disclosures)) => {
                        node_changes.extend(asks);
                        if !disclosures.is_empty() {
                            private.push(PrivateFrame {
                                seq: record.seq.get(),
                                entry_id: record.entry.id(),
                                disclosures,
                            });
                        }
                        change
                    }
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                };
                let bytes = record.canonical_bytes();
                pending.push(core.record_appended(&record.entry, chain::leaf_hash_of(&bytes), UNWRITTEN, change));
                core.last_accepted = record.accepted.clone();
                payloads.push(bytes);
                last = Some(record.seq);
            }
            self.write_batch(&mut core, &payloads, pending, &private)?;
        }
        if let Some(seq) = last {
            self.wait_durable(seq)?;
        }
        failure.map_or(Ok(node_changes), Err)
    }

    /// Appends the records of a batch to the log in one write, and the
    /// disclosures of those that have them to the private store, and queues
    /// their index updates for the next group commit.
    fn write_batch(
        &self,
        core: &mut Core,
        payloads: &[Vec<u8>],
        pending: Vec<IndexUpdate>,
        private: &[PrivateFrame],
    ) -> Result<(), LedgerError> {
        if payloads.is_empty() {
            return Ok(());
        }
        if let Err(error) = core.private.append(private) {
            // The state is ahead of the stores: stop until reopened.
            self.poisoned.store(true, Ordering::Release);
            return Err(error);
        }
        let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let positions = match core.log.append_batch(&slices) {
            Ok(positions) => positions,
            Err(error) => {
                // The in-memory state is now ahead of the log: stop until reopened.
                self.poisoned.store(true, Ordering::Release);
                return Err(error.into());
            }
        };
        for (mut update, position) in pending.into_iter().zip(positions) {
            update.position = position;
            update.disclosures = core.private.position(update.seq.get());
            core.unindexed.push(update);
        }
        Ok(())
    }

    /// Verifies and sequences a batch: on this thread if it is small, on the
    /// verification threads if not.
    fn verify_and_order(&self, entries: Unverified, order: &mut Order) -> Result<PendingOutcomes, LedgerError> {
        let mut judged =
            PendingOutcomes { outcomes: Vec::with_capacity(entries.len()), last: None, node_changes: Vec::new() };
        judged.last = if entries.len() < PARALLEL_VERIFY_THRESHOLD {
            let verified = entries.verify(self.format);
            self.sequence(verified, &mut judged, order)?
        } else {
            self.verify_and_sequence(entries, &mut judged, order)?
        };
        Ok(judged)
    }

    /// Verifies a large batch on the verification threads, a chunk at a time,
    /// while this thread sequences the chunks already verified, in order. Verification
    /// needs no state, so it runs ahead; sequencing takes the core lock once per
    /// chunk, so readers and other submitters are never held up for a whole batch.
    fn verify_and_sequence(
        &self,
        entries: Unverified,
        judged: &mut PendingOutcomes,
        order: &mut Order,
    ) -> Result<Option<Seq>, LedgerError> {
        let chunk = VERIFY_CHUNK.min(entries.len().div_ceil(VERIFY_THREADS));
        let (chunks, verdicts) =
            self.verifiers.verify_chunks(entries, self.format, chunk).ok_or(LedgerError::Verifier)?;
        // Chunks arrive in any order; they are sequenced in the order given.
        let mut waiting = BTreeMap::new();
        let mut wait_for = None;
        for expected in 0..chunks {
            let chunk = loop {
                if let Some(chunk) = waiting.remove(&expected) {
                    break chunk;
                }
                let (number, chunk) = verdicts.recv().map_err(|_| LedgerError::Verifier)?;
                waiting.insert(number, chunk);
            };
            let chunk = chunk.ok_or(LedgerError::Verifier)?;
            wait_for = wait_for.max(self.sequence(chunk, judged, order)?);
        }
        Ok(wait_for)
    }

    /// Sequences verified entries: checks each against the state, appends the
    /// accepted ones to the log (not yet synced) and records an outcome for every
    /// entry (and the node set changes of those accepted) in `judged`. Returns
    /// the last seq the caller must wait for.
    fn sequence(
        &self,
        verified: Vec<Result<VerifiedEntry, Refusal>>,
        judged: &mut PendingOutcomes,
        order: &mut Order,
    ) -> Result<Option<Seq>, LedgerError> {
        let mut wait_for = None;
        let indexed = self.indexer.indexed();
        let mut core = self.lock_core()?;
        core.settle(indexed);
        let accepted = match order {
            Order::Local => Timestamp::now(),
            Order::Replicated { accepted, .. } if accepted.instant() < core.last_accepted.instant() => {
                core.last_accepted.clone()
            }
            Order::Replicated { accepted, .. } => accepted.clone(),
        };
        let mut payloads = Vec::new();
        let mut pending = Vec::new();
        let mut private = Vec::new();
        let mut spent = Vec::with_capacity(verified.len());
        for entry in verified {
            let entry = match entry {
                Ok(entry) => entry,
                Err(refusal) => {
                    judged.outcomes.push(Err(refusal));
                    continue;
                }
            };
            let entry_id = entry.entry().id();
            // Asked for whenever the entry is accepted, as new or as recorded before.
            let asks = NodeSetChange::asked_by(entry.body());
            if let Order::Replicated { next, .. } = order
                && *next < core.tree.len()
            {
                // This batch was applied before a crash: its records are here already.
                let outcome = self.poison_on_error(core.rematch(entry.entry(), next))?;
                if let Ok(receipt) = &outcome {
                    wait_for = wait_for.max(Some(receipt.seq));
                    judged.node_changes.extend(asks);
                }
                judged.outcomes.push(outcome);
                continue;
            }
            if let Some((seq, signed)) = self.poison_on_error(core.entry(&entry_id))? {
                if signed != signatures_digest(entry.entry()) {
                    judged.outcomes.push(Err(Refusal::new(
                        RefusalCode::EntryConflict,
                        format!("statement {entry_id} is already recorded at {seq} with other signatures"),
                    )));
                    continue;
                }
                let leaf_hash = self.poison_on_error(core.leaf_hash(seq.get()))?;
                wait_for = wait_for.max(Some(seq));
                judged.node_changes.extend(asks);
                judged.outcomes.push(Ok(Receipt { seq, entry_id, leaf_hash }));
                continue;
            }
            let Some(seq) = Seq::new(core.tree.len()) else {
                judged.outcomes.push(Err(Refusal::new(RefusalCode::EntryMalformed, "the ledger is full")));
                continue;
            };
            let context = Context { seq, accepted: accepted.clone() };
            // Refused for its signer, an entry costs no item read (a conclusion names 10,000).
            if let Err(refusal) = core.state.precheck(&entry, &context) {
                judged.outcomes.push(Err(refusal));
                continue;
            }
            self.poison_on_error(core.load(entry.body()))?;
            // The rules first: only an entry they accept (a certifier's conclusion) costs a root.
            let checked = match core.state.check(&entry, &context) {
                Ok(change) => self.poison_on_error(core.check_named_root(entry.body()))?.map(|()| change),
                Err(refusal) => Err(refusal),
            };
            let change = match checked {
                Ok(change) => change,
                Err(refusal) => {
                    judged.outcomes.push(Err(refusal));
                    continue;
                }
            };
            let (entry, disclosures) = entry.into_disclosed();
            let record = Record { seq, prev: core.last_leaf, accepted: accepted.clone(), entry };
            let bytes = record.canonical_bytes();
            // A record the log cannot hold must be refused here, while nothing
            // has changed: refused at append, it would stop the ledger.
            if bytes.len() > MAX_PAYLOAD_BYTES {
                judged.outcomes.push(Err(Refusal::new(
                    RefusalCode::EntryTooLarge,
                    format!(
                        "the entry's record would take {} bytes; a record may take at most {MAX_PAYLOAD_BYTES}",
                        bytes.len()
                    ),
                )));
                spent.push(record);
                continue;
            }
            core.last_accepted = accepted.clone();
            let leaf_hash = chain::leaf_hash_of(&bytes);
            let update = core.record_appended(&record.entry, leaf_hash, UNWRITTEN, change);
            pending.push(update);
            payloads.push(bytes);
            if !disclosures.is_empty() {
                private.push(PrivateFrame { seq: seq.get(), entry_id, disclosures });
            }
            // Freeing a record's JSON tree is not free: do it after the lock.
            spent.push(record);
            wait_for = Some(seq);
            judged.node_changes.extend(asks);
            if let Order::Replicated { next, .. } = order {
                *next = core.tree.len();
            }
            judged.outcomes.push(Ok(Receipt { seq, entry_id, leaf_hash }));
        }
        self.write_batch(&mut core, &payloads, pending, &private)?;
        drop(core);
        drop(spent);
        Ok(wait_for)
    }
}

impl Ledger {
    /// Stops the ledger if reading the index failed while a batch was being sequenced: the
    /// records sequenced before it are in memory but not in the log, so the state is ahead of
    /// the log until a reopen.
    fn poison_on_error<T>(&self, result: Result<T, LedgerError>) -> Result<T, LedgerError> {
        if result.is_err() {
            self.poisoned.store(true, Ordering::Release);
        }
        result
    }
}

/// How a batch is being ordered: by this ledger alone, or by consensus.
enum Order {
    /// A local submission: judged now, appended at the end.
    Local,
    /// A batch ordered by consensus, judged at `accepted`; `next` is the
    /// position of the batch's next record (below the ledger's size while the
    /// batch is being matched with records it produced before a crash).
    Replicated { accepted: Timestamp, next: u64 },
}

/// The log position of a record appended in memory whose batch is not yet
/// written; `write_batch` replaces it with the real one.
const UNWRITTEN: LogPosition = LogPosition { segment: 1, offset: 8 };
