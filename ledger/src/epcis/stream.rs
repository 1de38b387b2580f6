//! A whole ledger's EPCIS document, written as its records are read.
//!
//! The document of a whole ledger is as large as the ledger, and a node
//! serves it to anyone who asks. [`LedgerExport`] writes it a few records at a
//! time: the envelope's bytes up to the event list, then each event as the
//! replay makes it, then the rest of the envelope. What it holds between calls
//! is the replay's memory of keys and of recently seen items, both bounded, so
//! the memory an export needs does not grow with the ledger.

use super::items::Items;
use super::replay::{About, Replay};
use super::{EpcisError, envelope};
use crate::entry::{LedgerId, Timestamp};
use crate::store::Ledger;

/// How many items an export remembers per generation (see [`Items`]): each
/// is a few hundred bytes, so both generations together stay under about a
/// megabyte, and an item is forgotten only after that many other items had
/// records (then rebuilt from its history, see `Replay`).
const REMEMBERED_ITEMS: usize = 2048;

/// The EPCIS 2.0 document of a whole ledger's durable records, written out a
/// chunk at a time.
///
/// The bytes, all chunks together, are exactly those of the compact JSON of
/// [`export`](super::export) of the whole ledger (`serde_json::to_vec`) with
/// the same arguments; the export covers the records durable when it was made.
#[derive(Debug)]
pub struct LedgerExport {
    replay: Replay,
    /// The document's bytes before its first event.
    head: Vec<u8>,
    /// The document's bytes after its last event.
    tail: Vec<u8>,
    /// The next record to read.
    next: u64,
    /// The number of records exported: the ledger's size when the export began.
    end: u64,
    /// How many events have been written.
    events: u64,
    /// Whether the head has been written.
    started: bool,
    /// Whether the tail has been written.
    finished: bool,
}

impl LedgerExport {
    /// The document of `ledger`'s durable records, with URIs under
    /// `resolver_base` and `creationDate` `created`; nothing is read yet.
    pub fn new(ledger: &Ledger, resolver_base: &str, created: &Timestamp) -> Result<LedgerExport, EpcisError> {
        LedgerExport::remembering(ledger, resolver_base, created, REMEMBERED_ITEMS)
    }

    /// [`LedgerExport::new`] remembering `items` items per generation.
    pub(super) fn remembering(
        ledger: &Ledger,
        resolver_base: &str,
        created: &Timestamp,
        items: usize,
    ) -> Result<LedgerExport, EpcisError> {
        let replay = Replay::new(resolver_base, Items::recent(items), About::Every)?;
        let end = ledger.size();
        // Record 0 is the genesis, whose id is the ledger id, as the replay
        // would learn; a ledger without records has none.
        let ledger_id = (end > 0).then(|| ledger.ledger_id());
        let (head, tail) = halves(created, ledger_id)?;
        Ok(LedgerExport { replay, head, tail, next: 0, end, events: 0, started: false, finished: false })
    }

    /// Appends the document's next bytes to `out`: the head on the first
    /// call, then the events of up to `records` more records, stopping early
    /// once `out` holds `bytes` bytes or more, and the tail after the last
    /// record. Returns whether anything is left to write: `false` once the
    /// tail is written, and from then on, without writing anything.
    ///
    /// `ledger` must be the ledger the export was made of: it is read again on
    /// every call, so that the export holds no reference to it between calls.
    /// An error leaves the document unfinished; what was written of it is not
    /// valid JSON, and the export should be dropped.
    pub fn write(
        &mut self,
        ledger: &Ledger,
        out: &mut Vec<u8>,
        records: u64,
        bytes: usize,
    ) -> Result<bool, EpcisError> {
        if self.finished {
            return Ok(false);
        }
        if !self.started {
            out.extend_from_slice(&self.head);
            self.started = true;
        }
        let stop = self.end.min(self.next.saturating_add(records.max(1)));
        while self.next < stop && out.len() < bytes {
            let record = ledger.record(self.next)?;
            self.next += 1;
            if let Some(event) = self.replay.push(&record, Some(ledger))? {
                if self.events > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, &event).map_err(|error| EpcisError::Encoding(error.to_string()))?;
                self.events += 1;
            }
        }
        if self.next >= self.end {
            out.extend_from_slice(&self.tail);
            self.finished = true;
        }
        Ok(!self.finished)
    }

    /// How many events have been written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// How many items the export remembers now.
    #[cfg(test)]
    pub(super) fn remembered(&self) -> usize {
        self.replay.remembered()
    }
}

/// The compact JSON of the document without events, cut inside its empty
/// event list: what comes before the first event and after the last. Cutting
/// the envelope as `serde_json` writes it, rather than writing it anew, keeps
/// its fields in the order the whole document has them.
fn halves(created: &Timestamp, ledger: Option<LedgerId>) -> Result<(Vec<u8>, Vec<u8>), EpcisError> {
    // A key's quotes are never escaped and inside a string every quote is, so
    // this occurs exactly once: as the event list itself.
    const EMPTY_LIST: &[u8] = br#""eventList":[]"#;
    let mut head = serde_json::to_vec(&envelope(created, ledger, Vec::new()))
        .map_err(|error| EpcisError::Encoding(error.to_string()))?;
    let at = head
        .windows(EMPTY_LIST.len())
        .position(|window| window == EMPTY_LIST)
        .ok_or_else(|| EpcisError::Encoding("the envelope has no event list".into()))?;
    // Between `[` and `]`.
    let tail = head.split_off(at + EMPTY_LIST.len() - 1);
    Ok((head, tail))
}

#[cfg(test)]
mod tests;
