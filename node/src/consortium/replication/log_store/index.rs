//! What the store knows of its entries in memory, shared by the store, its
//! readers and the writer thread: every entry's log id and place on disk, and
//! the newest entries themselves, decoded.
//!
//! Replication reads mostly the newest entries, which the cache answers
//! without touching a file or parsing JSON. Older ones (a lagging follower
//! catching up) are read back from their segment and checked.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::PathBuf;
use std::sync::Arc;

use openraft::{Entry, LogId};
use salvage_ledger::store::frame_log::SegmentFormat;

use super::frame;
use crate::consortium::replication::{NodeId, TypeConfig};

/// A segment file, shared by the writer (which appends to it) and the readers
/// (which read frames back from it at their offsets).
#[derive(Debug)]
pub(super) struct SegmentFile {
    /// Its path, for error messages.
    pub(super) path: PathBuf,
    /// The open file, readable and writable.
    pub(super) file: File,
    /// Its format: version 2, or version 1 (read only).
    pub(super) format: SegmentFormat,
}

/// Where an entry's frame lies on disk.
pub(super) struct Location {
    /// Its segment: kept open here, so a read succeeds even while the writer
    /// deletes the file after a purge.
    pub(super) segment: Arc<SegmentFile>,
    /// The frame's first byte in the segment.
    pub(super) offset: u64,
}

/// One entry of the log, in memory.
struct Slot {
    log_id: LogId<NodeId>,
    /// The encoded frame's length, header included: what the cache counts.
    frame_len: usize,
    /// Set once the writer has written the frame.
    location: Option<Location>,
    /// The decoded entry, while the cache holds it.
    entry: Option<Entry<TypeConfig>>,
}

/// The in-memory log: every entry after the last purged one.
// INVARIANT: `slots[k]` is the entry of index `first + k`: indexes are
// consecutive, so the log has no hole.
// INVARIANT: `first <= cached_from <= end()`; the slots from `cached_from` on
// hold their decoded entry and those before it do not; `cached_bytes` is the
// sum of the held entries' `frame_len`.
// INVARIANT: every slot without a location is at or after `cached_from`: an
// entry the writer has not written yet is never evicted, as memory is then its
// only copy.
pub(super) struct Index {
    purged: Option<LogId<NodeId>>,
    first: u64,
    slots: VecDeque<Slot>,
    cached_from: u64,
    cached_bytes: usize,
    cache_budget: usize,
}

impl Index {
    /// The index of a store opened from disk: `entries` are those after
    /// `purged`, consecutive, all written; none is cached yet.
    pub(super) fn recovered(
        purged: Option<LogId<NodeId>>,
        entries: Vec<(LogId<NodeId>, usize, Location)>,
        cache_budget: usize,
    ) -> Index {
        let first = entries.first().map_or(next_after(purged), |(log_id, _, _)| log_id.index);
        let slots: VecDeque<Slot> = entries
            .into_iter()
            .map(|(log_id, frame_len, location)| Slot { log_id, frame_len, location: Some(location), entry: None })
            .collect();
        let cached_from = first + slots.len() as u64;
        Index { purged, first, slots, cached_from, cached_bytes: 0, cache_budget }
    }

    /// The index the next appended entry must have.
    fn end(&self) -> u64 {
        self.first + self.slots.len() as u64
    }

    /// The last purged log id.
    pub(super) fn purged(&self) -> Option<LogId<NodeId>> {
        self.purged
    }

    /// The last entry's log id, or the last purged one when no entry is left.
    pub(super) fn last_log_id(&self) -> Option<LogId<NodeId>> {
        self.slots.back().map(|slot| slot.log_id).or(self.purged)
    }

    /// Adds `entries` (each with its frame's length) at the end, cached, so
    /// they are readable before the writer has written them.
    pub(super) fn append(&mut self, entries: Vec<(Entry<TypeConfig>, usize)>) -> Result<(), String> {
        // Checked before anything is added, so a refused batch leaves no trace.
        // A log that never held an entry (or lost all of them to a truncation)
        // may begin anywhere.
        let mut expected = if self.slots.is_empty() && self.purged.is_none() {
            entries.first().map(|(entry, _)| entry.log_id.index)
        } else {
            Some(self.end())
        };
        for (entry, _) in &entries {
            if expected.is_some_and(|index| index != entry.log_id.index) {
                return Err(format!(
                    "entry {} would follow index {} and leave a hole in the log",
                    entry.log_id,
                    expected.unwrap_or(0).wrapping_sub(1)
                ));
            }
            expected = Some(entry.log_id.index + 1);
        }
        if self.slots.is_empty()
            && let Some((entry, _)) = entries.first()
        {
            self.first = entry.log_id.index;
            self.cached_from = self.first;
        }
        for (entry, frame_len) in entries {
            self.cached_bytes += frame_len;
            self.slots.push_back(Slot { log_id: entry.log_id, frame_len, location: None, entry: Some(entry) });
        }
        self.evict();
        Ok(())
    }

    /// Records where the writer wrote these entries, which lets the cache let
    /// them go. Entries truncated meanwhile are not in the log any more and
    /// are passed over.
    pub(super) fn written(&mut self, written: Vec<(LogId<NodeId>, Location)>) {
        for (log_id, location) in written {
            let Some(slot) = log_id.index.checked_sub(self.first).and_then(|k| self.slots.get_mut(k as usize)) else {
                continue;
            };
            if slot.log_id == log_id && slot.location.is_none() {
                slot.location = Some(location);
            }
        }
        self.evict();
    }

    /// Removes the entries from `index` on.
    pub(super) fn truncate(&mut self, index: u64) {
        let keep = index.saturating_sub(self.first).min(self.slots.len() as u64);
        self.cached_bytes -= cached_bytes_of(self.slots.drain(keep as usize..));
        self.cached_from = self.cached_from.min(self.end());
    }

    /// Removes the entries up to `log_id`, which becomes the last purged one.
    pub(super) fn purge(&mut self, log_id: LogId<NodeId>) {
        if self.purged.is_some_and(|purged| purged.index >= log_id.index) {
            return;
        }
        self.purged = Some(log_id);
        let first = self.first.max(log_id.index + 1);
        let gone = (first - self.first).min(self.slots.len() as u64);
        self.cached_bytes -= cached_bytes_of(self.slots.drain(..gone as usize));
        self.first = first;
        self.cached_from = self.cached_from.max(first);
    }

    /// The entries in `range` that the log holds, in order: from the cache,
    /// or read back from their segment and checked.
    ///
    /// The caller holds the lock throughout, so no truncation can cut a
    /// segment under a read.
    pub(super) fn read(&self, range: &impl RangeBounds<u64>) -> io::Result<Vec<Entry<TypeConfig>>> {
        let start = match range.start_bound() {
            Bound::Included(&index) => index,
            Bound::Excluded(&index) => index.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&index) => index.saturating_add(1),
            Bound::Excluded(&index) => index,
            Bound::Unbounded => u64::MAX,
        };
        let (start, end) = (start.max(self.first), end.min(self.end()));
        let mut entries = Vec::with_capacity(end.saturating_sub(start) as usize);
        for index in start..end {
            let Some(slot) = self.slots.get((index - self.first) as usize) else { break };
            entries.push(match (&slot.entry, &slot.location) {
                (Some(entry), _) => entry.clone(),
                (None, Some(location)) => read_back(slot, location)?,
                (None, None) => {
                    return Err(io::Error::other(format!(
                        "entry {} is neither cached nor written, which the log's invariant forbids",
                        slot.log_id
                    )));
                }
            });
        }
        Ok(entries)
    }

    /// Lets the oldest cached entries go while the cache is over its budget,
    /// stopping at the first one the writer has not written.
    fn evict(&mut self) {
        while self.cached_bytes > self.cache_budget {
            let Some(slot) = self.slots.get_mut((self.cached_from - self.first) as usize) else { break };
            if slot.location.is_none() {
                break;
            }
            if slot.entry.take().is_some() {
                self.cached_bytes -= slot.frame_len;
            }
            self.cached_from += 1;
        }
    }
}

/// What the cached ones among `slots` count against the cache's budget.
fn cached_bytes_of(slots: impl Iterator<Item = Slot>) -> usize {
    slots.filter(|slot| slot.entry.is_some()).map(|slot| slot.frame_len).sum()
}

/// Reads `slot`'s frame back from its segment and checks that it holds the
/// entry the index expects there.
fn read_back(slot: &Slot, location: &Location) -> io::Result<Entry<TypeConfig>> {
    let path = &location.segment.path;
    let segment = &location.segment;
    let entry = frame::read_at(&segment.file, location.offset, slot.frame_len, &segment.format).map_err(|e| {
        io::Error::other(format!(
            "reading entry {} from {} at byte {}: {e}",
            slot.log_id,
            path.display(),
            location.offset
        ))
    })?;
    if entry.log_id != slot.log_id {
        return Err(io::Error::other(format!(
            "{} holds entry {} at byte {} where the index expects {}",
            path.display(),
            entry.log_id,
            location.offset,
            slot.log_id
        )));
    }
    Ok(entry)
}

/// The index of the first entry after `purged`.
pub(super) fn next_after(purged: Option<LogId<NodeId>>) -> u64 {
    purged.map_or(0, |id| id.index + 1)
}
