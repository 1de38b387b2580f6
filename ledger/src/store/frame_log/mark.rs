//! The acknowledged mark: a durable record of how far a log's frames were reported durable,
//! so that opening can tell the torn tail of a power cut from damage to acknowledged frames.
//!
//! # Why a mark
//!
//! After a power cut, unsynced writes may have reached the disk out of order: a hole (zeros, or
//! old bytes) followed by whole frames. Without knowing where the acknowledged bytes end, such
//! a tail looks exactly like damage in the middle of the log, and a bit flip in the last
//! acknowledged frame looks exactly like a torn write. The mark says where the acknowledged
//! bytes end: damage before it is corruption, damage at or after it a torn tail.
//!
//! # Why it lags, and why it costs no fsync on the commit path
//!
//! The mark lives in a file of its own (`acknowledged.mark`), so making it durable takes an
//! fdatasync of that file; the log's own fdatasync does not cover it, and the record log's
//! segment format may not change to carry it. Writing and syncing it after the log's sync,
//! before acknowledging, would double the latency of every group commit. Instead the mark only
//! ever names bytes that are *already* durable, and a thread of its own writes it after the
//! commit that made them so, while the committer acknowledges at once:
//!
//! * **safe at any moment**: the mark on disk never lies past durable bytes, because a position
//!   is handed to the thread only after the fdatasync that made it durable returned, so a crash
//!   can never make a torn tail look like damage before the mark (which would lock the log);
//! * **tight**: the mark trails the acknowledged end by at most the one mark write in flight
//!   (the thread writes the newest position it was given, so under load one mark write covers
//!   many commits); damage in those few acknowledged bytes would be taken for a torn tail, as
//!   every byte was before marks existed;
//! * **cheap**: one small in-place write and fdatasync per mark write, off the commit path and
//!   concurrent with the log's next sync (when the mark was introduced, the durable-ingest
//!   benchmark on the project's 2-core VM showed no cost beyond its noise).
//!
//! A truncation (the Raft log cuts entries a new leader replaced) lowers the mark durably
//! *before* it cuts anything ([`MarkWriter::lower`]), so the mark never names bytes that are gone.
//!
//! # File
//!
//! Two 36-byte slots at offsets 0 and 36. A slot is `"SLVGACK1" ‖ seq (u64 LE) ‖ segment
//! (u64 LE) ‖ offset (u64 LE) ‖ crc (u32 LE)`, the CRC-32 covering the 32 bytes before it. Each
//! write goes to the slot the previous one did not use, with the next sequence number, so a
//! write torn by a crash leaves the other slot whole. The mark is the valid slot with the
//! highest sequence number; a file without a valid slot counts as no mark.

use std::cmp::Ordering;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::scan::Acknowledged;
use super::{IoFailure, sync_directory};

/// The name of the mark file in a log directory.
pub const MARK_FILE: &str = "acknowledged.mark";

/// The eight bytes every slot of the mark file starts with.
const SLOT_MAGIC: [u8; 8] = *b"SLVGACK1";

/// The length of one slot: magic, sequence number, segment, offset, CRC.
const SLOT_BYTES: usize = 36;

/// A place in a log: a segment (by the number or index the log names its segments with) and a
/// byte offset in that segment file; the bytes before it were acknowledged.
///
/// Marks order like the log: by segment, then by offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark {
    /// The segment.
    pub segment: u64,
    /// The byte offset in that segment: where the acknowledged bytes end.
    pub offset: u64,
}

impl Mark {
    /// The mark of a log in which nothing was acknowledged yet (segments are numbered from 1,
    /// or named for indexes past 0, so every segment lies after it).
    pub const NOTHING: Mark = Mark { segment: 0, offset: 0 };

    /// What the mark says of segment `last`, the last one of its log: which of its bytes were
    /// acknowledged. `None` when the mark names a later segment, which the log does not have:
    /// acknowledged segments are missing.
    pub fn in_last_segment(self, last: u64) -> Option<Acknowledged> {
        match self.segment.cmp(&last) {
            Ordering::Less => Some(Acknowledged::Before(0)),
            Ordering::Equal => Some(Acknowledged::Before(self.offset)),
            Ordering::Greater => None,
        }
    }
}

/// Reads the mark of the log in `dir`: `None` when it has no mark file, or none of the file's
/// slots is valid.
pub fn read_mark(dir: &Path) -> Result<Option<Mark>, IoFailure> {
    let path = dir.join(MARK_FILE);
    match fs::read(&path) {
        Ok(bytes) => Ok(latest_slot(&bytes).map(|(_, mark)| mark)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(IoFailure { action: "read the acknowledged mark", path, source }),
    }
}

/// The mark could not be written; the log's disk is failing.
#[derive(Debug, Clone, thiserror::Error)]
#[error("writing the acknowledged mark failed: {0}")]
pub struct MarkFailed(pub String);

/// Keeps a log's mark file up to date from a thread of its own; see the module documentation.
/// Dropping it writes the newest mark it was given, then ends the thread.
#[derive(Debug)]
pub struct MarkWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Hands durable positions to a [`MarkWriter`]'s thread; cheap to clone.
#[derive(Debug, Clone)]
pub struct MarkHandle {
    shared: Arc<Shared>,
}

impl MarkWriter {
    /// Makes `at` the durable mark of the log in `dir` (creating the file if needed) before it
    /// returns, then starts the thread that keeps it up to date. Every byte before `at` must
    /// already be durable.
    /// After each write the thread waits `pause` (or until it is stopped) before the next.
    pub fn start(dir: &Path, at: Mark, thread_name: &str, pause: Duration) -> Result<MarkWriter, IoFailure> {
        let path = dir.join(MARK_FILE);
        let failed = |action| {
            let path = path.clone();
            move |source| IoFailure { action, path, source }
        };
        let existing = match fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(failed("read the acknowledged mark")(source)),
        };
        let seq = existing.as_deref().and_then(latest_slot).map_or(0, |(seq, _)| seq);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(failed("open the acknowledged mark"))?;
        let mut slots = Slots { file, path: path.clone(), seq };
        slots.write(at).map_err(failed("write the acknowledged mark"))?;
        if existing.is_none() {
            // The new file's name must be as durable as its slot.
            sync_directory(dir)?;
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State { wanted: at, written: at, writing: false, failed: None, stopping: false }),
            changed: Condvar::new(),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(thread_name.to_owned())
                .spawn(move || run(&shared, slots, pause))
                .map_err(failed("start the thread that writes"))?
        };
        Ok(MarkWriter { shared, thread: Some(thread) })
    }

    /// A handle that advances the mark, for whoever syncs the log.
    pub fn handle(&self) -> MarkHandle {
        MarkHandle { shared: Arc::clone(&self.shared) }
    }

    /// Lowers the mark to `to` (if it is higher) and returns once that is durable, so that the
    /// log may then cut the bytes past `to`.
    pub fn lower(&self, to: Mark) -> Result<(), MarkFailed> {
        let mut state = self.shared.lock();
        if state.wanted > to {
            state.wanted = to;
            self.shared.changed.notify_all();
        }
        // A write of a higher mark may be in flight; the thread writes the lowered one after it.
        loop {
            if let Some(why) = &state.failed {
                return Err(MarkFailed(why.clone()));
            }
            if !state.writing && state.written == state.wanted {
                return Ok(());
            }
            state = self.shared.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for MarkWriter {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            // A panic in the thread leaves the mark behind, which is safe.
            let _ = thread.join();
        }
    }
}

impl MarkHandle {
    /// Records that every byte before `to` is durable and acknowledged; the thread writes it
    /// soon. Fails if an earlier mark write failed.
    pub fn advance(&self, to: Mark) -> Result<(), MarkFailed> {
        let mut state = self.shared.lock();
        if let Some(why) = &state.failed {
            return Err(MarkFailed(why.clone()));
        }
        if to > state.wanted {
            state.wanted = to;
            self.shared.changed.notify_all();
        }
        Ok(())
    }
}

/// What the thread and its handles share.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Signalled whenever `wanted`, `written`, `writing`, `failed` or `stopping` changes.
    changed: Condvar,
}

// INVARIANT: `written` is the mark the file durably holds (or one being replaced by the write
// in flight while `writing`); `wanted` is the mark to write next.
#[derive(Debug)]
struct State {
    wanted: Mark,
    written: Mark,
    writing: bool,
    failed: Option<String>,
    stopping: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update leaves the state consistent, so a lock poisoned by a panic is still sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The thread: writes the newest wanted mark until it is stopped, then writes the last one.
fn run(shared: &Shared, mut slots: Slots, pause: Duration) {
    let mut state = shared.lock();
    loop {
        if state.failed.is_some() {
            return;
        }
        if state.wanted != state.written {
            let target = state.wanted;
            state.writing = true;
            drop(state);
            let written = slots.write(target);
            state = shared.lock();
            state.writing = false;
            match written {
                Ok(()) => state.written = target,
                Err(error) => state.failed = Some(format!("{}: {error}", slots.path.display())),
            }
            shared.changed.notify_all();
            if !pause.is_zero() && !state.stopping {
                // Advances meanwhile are gathered into the next write.
                state = shared
                    .changed
                    .wait_timeout_while(state, pause, |state| !state.stopping)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            continue;
        }
        if state.stopping {
            return;
        }
        state = shared.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
    }
}

/// The open mark file and the sequence number of its newest slot.
#[derive(Debug)]
struct Slots {
    file: File,
    path: PathBuf,
    seq: u64,
}

impl Slots {
    /// Writes `mark` into the slot the newest one is not in, and fdatasyncs it.
    fn write(&mut self, mark: Mark) -> io::Result<()> {
        let seq = self.seq + 1;
        let slot = encode_slot(seq, mark);
        self.file.write_all_at(&slot, (seq % 2) * SLOT_BYTES as u64)?;
        self.file.sync_data()?;
        self.seq = seq;
        Ok(())
    }
}

fn encode_slot(seq: u64, mark: Mark) -> [u8; SLOT_BYTES] {
    let mut slot = [0u8; SLOT_BYTES];
    let fields = [SLOT_MAGIC, seq.to_le_bytes(), mark.segment.to_le_bytes(), mark.offset.to_le_bytes()];
    for (chunk, field) in slot.chunks_exact_mut(8).zip(fields) {
        chunk.copy_from_slice(&field);
    }
    let crc = crc32fast::hash(slot.get(..32).unwrap_or_default());
    if let Some(tail) = slot.get_mut(32..) {
        tail.copy_from_slice(&crc.to_le_bytes());
    }
    slot
}

/// The valid slot with the highest sequence number in the bytes of a mark file.
fn latest_slot(bytes: &[u8]) -> Option<(u64, Mark)> {
    bytes.chunks_exact(SLOT_BYTES).take(2).filter_map(decode_slot).max_by_key(|(seq, _)| *seq)
}

fn decode_slot(slot: &[u8]) -> Option<(u64, Mark)> {
    let word = |at: usize| -> Option<[u8; 8]> { slot.get(at..at + 8)?.try_into().ok() };
    let crc: [u8; 4] = slot.get(32..36)?.try_into().ok()?;
    if word(0)? != SLOT_MAGIC || crc32fast::hash(slot.get(..32)?) != u32::from_le_bytes(crc) {
        return None;
    }
    let seq = u64::from_le_bytes(word(8)?);
    Some((seq, Mark { segment: u64::from_le_bytes(word(16)?), offset: u64::from_le_bytes(word(24)?) }))
}
