//! The private store: the disclosures of restricted values (format 2,
//! docs/format.md §13.7), kept beside the record log and never in it.
//!
//! Records are public: anyone may download the log, and every byte of it is
//! signed into the Merkle tree. A restricted value must therefore live
//! elsewhere. The private store is a second log, `private/` in the ledger's
//! directory, in the record log's segment format (§9); each frame holds the
//! disclosures of one record as the canonical JSON
//! `{"disclosures":[…],"entry_id":"…","seq":N}`. Only records that withhold
//! values get a frame.
//!
//! Frames are appended with their records and synced first by the group
//! commit, so a durable record's disclosures are durable too. A frame whose
//! record did not survive a crash is *stale*: opening keeps only frames whose
//! `seq` and `entry_id` match the record log (a later frame for the same seq
//! replaces an earlier one).

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use serde_json::Value;

use super::error::LedgerError;
use super::log::{LogOptions, LogPosition, LogReader, RecordLog, SyncHandle};
use crate::canonical;
use crate::chain::Seq;
use crate::disclosure::Disclosure;
use crate::entry::EntryId;

/// The directory of the private store inside a ledger's directory.
pub(crate) const PRIVATE_DIR: &str = "private";

/// How often at most the private store's acknowledged mark is written: every
/// group commit fsyncs the private store too, and a mark write per commit cost
/// a tenth of what restricted values add to ingest (docs/performance.md). A
/// frame damaged past a trailing mark is taken for a torn tail and cut; its
/// record then opens judged publicly and is reported, never lost.
const MARK_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// The disclosures of one record, as its frame holds them.
#[derive(Debug, Clone)]
pub(crate) struct PrivateFrame {
    pub seq: u64,
    pub entry_id: EntryId,
    pub disclosures: Vec<Disclosure>,
}

/// The private log and where the frames of recent records are.
pub(crate) struct PrivateStore {
    log: RecordLog,
    reader: LogReader,
    // Where the log ended when it was opened.
    opened_end: LogPosition,
    // The frame of every record with disclosures that the index may not hold yet, by seq
    // (the index holds the others'); stale frames are not here.
    held: HashMap<u64, LogPosition>,
    // Whether frames were appended since the last sync handle was taken.
    unsynced: bool,
}

impl PrivateStore {
    /// Opens (or creates) the private store of the ledger in `dir`. A torn tail is cut as in
    /// the record log; the frames already there are read with [`PrivateStore::stored_frames`].
    pub fn open(dir: &Path) -> Result<PrivateStore, LedgerError> {
        let options = LogOptions { mark_pause: MARK_PAUSE, ..LogOptions::default() };
        let (log, tail) = RecordLog::open_tail(&dir.join(PRIVATE_DIR), options).map_err(LedgerError::Private)?;
        let reader = log.reader();
        Ok(PrivateStore { log, reader, opened_end: tail.end, held: HashMap::new(), unsynced: false })
    }

    /// The frames the store held when it was opened, after `after` (from the first if `None`),
    /// in order, read as they are needed.
    pub fn stored_frames(
        &self,
        after: Option<LogPosition>,
    ) -> impl Iterator<Item = Result<(LogPosition, PrivateFrame), LedgerError>> + use<> {
        self.reader.frames_between(after, self.opened_end).map(|frame| {
            let (position, bytes) = frame.map_err(LedgerError::Private)?;
            let frame = PrivateFrame::decode(&bytes).map_err(|reason| LedgerError::PrivateFrame {
                segment: position.segment,
                offset: position.offset,
                reason,
            })?;
            Ok((position, frame))
        })
    }

    /// Notes that the frame at `position` holds the disclosures of record
    /// `seq` (opening, once it matched the record).
    pub fn hold(&mut self, seq: u64, position: LogPosition) {
        self.held.insert(seq, position);
    }

    /// Forgets where record `seq`'s frame is: the index holds it now.
    pub fn forget(&mut self, seq: u64) {
        self.held.remove(&seq);
    }

    /// Appends the frames of a batch's records, unsynced.
    pub fn append(&mut self, frames: &[PrivateFrame]) -> Result<(), LedgerError> {
        if frames.is_empty() {
            return Ok(());
        }
        let payloads: Vec<Vec<u8>> = frames.iter().map(PrivateFrame::canonical_bytes).collect();
        let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let positions = self.log.append_batch(&slices).map_err(LedgerError::Private)?;
        for (frame, position) in frames.iter().zip(positions) {
            self.held.insert(frame.seq, position);
        }
        self.unsynced = true;
        Ok(())
    }

    /// A handle that syncs every frame appended so far, if any was appended
    /// since the last one was taken.
    pub fn sync_handle(&mut self) -> Result<Option<SyncHandle>, LedgerError> {
        if !self.unsynced {
            return Ok(None);
        }
        let handle = self.log.sync_handle().map_err(LedgerError::Private)?;
        self.unsynced = false;
        Ok(Some(handle))
    }

    /// Where the disclosures of record `seq` are, if the record is recent and has them (the
    /// index knows for the others).
    pub fn position(&self, seq: u64) -> Option<LogPosition> {
        self.held.get(&seq).copied()
    }

    /// A reader for frames, usable outside the core lock.
    pub fn reader(&self) -> LogReader {
        self.reader.clone()
    }
}

/// How many frames opening looks ahead for a record's frame. Frames come in record order, except
/// that the stale frames of records lost in a crash (at most a group commit's worth each time)
/// come before the frames written for the records that took their seqs.
const LOOK_AHEAD: usize = 16_384;

/// Finds, as opening replays records in order, the frame of each record that withholds values.
pub(crate) struct FrameMatcher<I> {
    frames: I,
    ahead: VecDeque<(LogPosition, PrivateFrame)>,
    exhausted: bool,
}

impl<I: Iterator<Item = Result<(LogPosition, PrivateFrame), LedgerError>>> FrameMatcher<I> {
    /// A matcher over stored frames in log order.
    pub fn new(frames: I) -> Self {
        FrameMatcher { frames, ahead: VecDeque::new(), exhausted: false }
    }

    /// The frame of record `seq`, holding entry `entry_id`, if the store has it. Records must be
    /// asked for in increasing order; frames of earlier records left unclaimed are stale.
    pub fn frame_of(
        &mut self,
        seq: u64,
        entry_id: &EntryId,
    ) -> Result<Option<(LogPosition, PrivateFrame)>, LedgerError> {
        self.ahead.retain(|(_, frame)| frame.seq >= seq);
        loop {
            let found = self.ahead.iter().position(|(_, frame)| frame.seq == seq && frame.entry_id == *entry_id);
            if let Some(at) = found {
                return Ok(self.ahead.remove(at));
            }
            if self.exhausted || self.ahead.len() >= LOOK_AHEAD {
                return Ok(None);
            }
            match self.frames.next() {
                Some(frame) => {
                    let frame = frame?;
                    if frame.1.seq >= seq {
                        self.ahead.push_back(frame);
                    }
                }
                None => self.exhausted = true,
            }
        }
    }
}

/// Reads the frame at `position`, which must hold record `seq`'s disclosures.
pub(crate) fn read_frame(reader: &LogReader, position: LogPosition, seq: Seq) -> Result<PrivateFrame, LedgerError> {
    let bytes = reader.read_at(position).map_err(LedgerError::Private)?;
    let frame = PrivateFrame::decode(&bytes).map_err(|reason| LedgerError::PrivateFrame {
        segment: position.segment,
        offset: position.offset,
        reason,
    })?;
    if frame.seq != seq.get() {
        return Err(LedgerError::PrivateFrame {
            segment: position.segment,
            offset: position.offset,
            reason: format!("the frame holds record {}'s disclosures, not record {seq}'s", frame.seq),
        });
    }
    Ok(frame)
}

impl PrivateFrame {
    /// The frame's canonical JSON: `{"disclosures":[…],"entry_id":"…","seq":N}`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::json!({
            "disclosures": self.disclosures.iter().map(Disclosure::to_value).collect::<Vec<_>>(),
            "entry_id": self.entry_id.to_hex(),
            "seq": self.seq,
        });
        canonical::value_to_canonical_bytes(&value)
    }

    /// Reads a frame's bytes; says what is wrong with bytes that are not one.
    pub fn decode(bytes: &[u8]) -> Result<PrivateFrame, String> {
        let value = canonical::parse_strict(bytes).map_err(|error| format!("not JSON: {error}"))?;
        let Value::Object(members) = &value else { return Err("not a JSON object".to_owned()) };
        if members.len() != 3 {
            return Err(format!("{} members, not disclosures, entry_id and seq", members.len()));
        }
        let seq = members.get("seq").and_then(Value::as_u64).ok_or("no seq")?;
        let entry_id = members
            .get("entry_id")
            .and_then(Value::as_str)
            .and_then(|hex| EntryId::from_hex(hex).ok())
            .ok_or("no entry_id of 64 lowercase hex digits")?;
        let disclosures = members
            .get("disclosures")
            .and_then(Value::as_array)
            .ok_or("no disclosures array")?
            .iter()
            .map(|disclosure| Disclosure::from_value(disclosure).map_err(|refusal| refusal.message))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(PrivateFrame { seq, entry_id, disclosures })
    }
}

#[cfg(test)]
mod tests;
