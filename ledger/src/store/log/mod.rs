//! The durable, append-only record log: the ledger's source of truth.
//!
//! Everything else the ledger keeps (indexes, trees, caches) is derived from this log and can be
//! rebuilt from it, so this module has two jobs only: never lose a record it was asked to make
//! durable, and never hide damage. It knows nothing about what a record means: a payload is an
//! opaque byte string (in practice the canonical JSON of one ledger record).
//!
//! # On-disk format
//!
//! A log is a directory of segment files named `segment-NNNNNN.log`, where `NNNNNN` is the
//! segment number in decimal, zero-padded to at least six digits (`segment-000001.log`,
//! `segment-000002.log`, …, `segment-1000000.log`). Numbers start at 1 and run without gaps.
//! Other files in the directory are ignored (the `quarantine` subdirectory and the
//! `acknowledged.mark` file described below live there too), except that a name which starts with `segment-` and ends with `.log` but is not
//! the canonical spelling of a segment number is refused, because it most likely is a segment
//! that was renamed by hand and skipping it would silently drop records.
//!
//! Each segment file is an 8-byte header followed by zero or more frames, back to back, up to the
//! end of the file:
//!
//! | bytes   | content                                                                 |
//! |---------|-------------------------------------------------------------------------|
//! | 8       | magic `SLVGLOG1` (ASCII; the final digit is the format version)         |
//! | 4       | frame `len`: payload length, unsigned 32-bit little-endian, ≤ 16 MiB    |
//! | 4       | frame `crc`: CRC-32 (IEEE, as `crc32fast` computes it) over the 4 `len` bytes followed by the payload, unsigned 32-bit little-endian |
//! | `len`   | frame payload                                                           |
//! | …       | further frames                                                          |
//!
//! The CRC covers the length field as well as the payload so that a damaged length is caught
//! before it is trusted to find the next frame. A payload may be empty; a payload longer than
//! [`MAX_PAYLOAD_BYTES`] (16 MiB) is refused by [`RecordLog::append`].
//!
//! A record's [`LogPosition`] is its segment number and the byte offset of the first byte of its
//! frame (the `len` field) in that segment file. Positions serialise to 12 bytes: the segment
//! number as big-endian `u32`, then the offset as big-endian `u64`. Big-endian makes the
//! byte-wise order of stored positions (as a key-value index sorts them) equal to log order.
//!
//! # Rotation
//!
//! Before a frame is added to a segment that already holds at least one frame, the log starts
//! the next segment if the frame would make the file longer than [`LogOptions::segment_bytes`]
//! (64 MiB unless configured). A segment that holds no frame takes any frame, so a payload
//! bigger than the limit gets a segment of its own instead of being refused; a segment is
//! longer than the limit only when it holds exactly one such frame.
//!
//! # Durability
//!
//! [`RecordLog::append`] writes each frame with one positional write (`pwrite`, via
//! `write_all_at`) and does not fsync; [`RecordLog::append_batch`] gathers the frames that go
//! to one segment into one buffer and writes it the same way. Durability comes from
//! [`RecordLog::sync`] or [`SyncHandle::sync`], which call `fdatasync` on the current segment.
//! Rotation first `fdatasync`s the full segment, then creates the next segment, writes its
//! header, fsyncs the new file and fsyncs the directory so that the new file's name is durable.
//! Hence the central invariant:
//!
//! **INVARIANT: every segment before the current one is completely durable, and so is every
//! segment file's directory entry; therefore syncing the current segment makes every frame
//! appended so far durable.**
//!
//! This is what lets the ledger do group commit: it appends while holding the `RecordLog` behind
//! a mutex, takes a [`SyncHandle`], releases the mutex and syncs outside it. The handle syncs the
//! segment that was current when it was taken; if a rotation happened since, that rotation
//! already synced that segment, so the handle still covers everything appended before it was
//! taken.
//!
//! Opening a log also `fdatasync`s the last segment and the directory, so every frame that
//! [`RecordLog::open`] returns (or [`RecordLog::open_tail`] reports the end of) is durable even
//! if the process that wrote it died before syncing.
//!
//! # The acknowledged mark
//!
//! `acknowledged.mark` in the log directory records how far the log was reported durable: a
//! segment number and a byte offset, the bytes before which were acknowledged. It is kept by
//! [`frame_log`](crate::store::frame_log)'s mark writer, whose module documentation gives the
//! file's layout and why it costs no fsync on the commit path:
//!
//! * [`SyncHandle::sync`] hands the end it made durable to the mark's thread once its
//!   `fdatasync` returned; the thread writes and fdatasyncs the newest end it was given. So the
//!   mark never lies past durable bytes, and trails the acknowledged end by at most the mark
//!   write in flight.
//! * Opening makes the end of the recovered log the mark (durably, before it returns): what
//!   opening returns is what the ledger builds on. A log written before marks existed gets its
//!   first mark this way.
//! * Dropping a `RecordLog` writes the last mark it was given.
//!
//! If a write or an fsync fails, the log is *poisoned*: every later append, sync and
//! [`RecordLog::sync_handle`] call fails with [`LogError::Poisoned`]. After a failed fsync, Linux
//! may already have dropped the dirty pages and a retried fsync could report success for data
//! that is gone, and after a failed write the segment may end in a partial frame that a later
//! frame must not follow. The cure is to drop the `RecordLog` and open the log again, which
//! treats the end of the last segment exactly like the aftermath of a crash. A failed call may
//! therefore leave some of its frames in the log, just as a crash may: only synced frames are
//! promised.
//!
//! # Recovery when opening
//!
//! [`RecordLog::open`] reads every segment in order and checks every frame. What it does with
//! damage depends on whether a crash can explain it:
//!
//! * **Torn tail** (expected after a crash during an unsynced write): damage only at the end of
//!   the *last* segment — a partial frame header, a length that runs past the end of the file, a
//!   bad CRC, a hole of zeros, or trailing zero bytes — that starts at or past the acknowledged
//!   mark, whatever follows it: after a power cut, writes that were never synced can reach the
//!   disk out of order, leaving a hole followed by whole frames, none of them acknowledged. In a
//!   log without a mark (written by an earlier version, until it is first opened), the damage
//!   must instead be followed by no valid frame anywhere after the first damaged byte offset
//!   (every later byte offset is tried as a frame start).
//!   The log saves the bytes from the end of the last whole frame to the end of the file in
//!   `quarantine/segment-NNNNNN-at-OFFSET.torn` inside the log directory (fsynced, together with
//!   the quarantine directory; if that name is taken by an earlier cut, `-2`, `-3`, … is added
//!   before `.torn`), then truncates the segment to the end of its last whole frame, fsyncs it
//!   and reports the cut in [`LogContents::tail_cut`], saying whether the mark shows that the
//!   cut bytes were never acknowledged.
//! * **Torn header**: if the last segment is shorter than the header and its bytes are a prefix
//!   of the magic, or it consists only of zero bytes, a crash interrupted its creation (unless
//!   the mark names bytes in it). The log quarantines whatever bytes it held, truncates it to
//!   empty, rewrites the header, fsyncs it and reports a [`TailCut`] at offset 0. (The file is
//!   kept rather than removed so that segment numbering never has to be repaired.) An empty file
//!   has nothing to quarantine; its cut reports `bytes_cut == 0`.
//! * **Anything else is corruption, not a crash artefact**: a bad header, a missing segment
//!   number, damage in any segment but the last, damage in the last segment that starts before
//!   the acknowledged mark (a flipped bit in the final frame included: it was reported durable),
//!   a last segment shorter than the mark or a mark naming a segment that does not exist, and, in
//!   a log without a mark, a damaged frame in the last segment that is followed by a valid frame.
//!   Then `open` returns [`LogError::Corrupt`] naming the segment and offset, and changes
//!   nothing on disk: every segment is checked before anything is written. So is, without a
//!   mark, a torn-looking tail whose search for a later valid frame would take more than 1 GiB
//!   of CRC work, which only crafted content can cause.
//!
//! [`RecordLog::open_tail`] opens a log without reading it all, for a ledger that keeps its
//! state elsewhere and only needs the log's end: it recovers the last segment by exactly these
//! rules (the only segment a crash can tear), but of the earlier segments it checks only that
//! their numbers run without gaps and that each starts with the magic header. Damage inside an
//! earlier segment is therefore not found at open; it is found, as [`LogError::Corrupt`] naming
//! the segment and offset, by whatever reads those frames later ([`LogReader::frames_between`],
//! [`RecordLog::read_at`]), which check every frame again.
//!
//! Only in a log without a mark, and in the few acknowledged bytes a mark write in flight has
//! not covered yet, can a bit flip inside the final frame not be told apart from a torn write.
//! That is why the cut bytes are quarantined, never deleted, and the cut is reported: the
//! ledger can compare the surviving log with its replicas and an operator can inspect the
//! quarantined bytes. The log takes no lock on its directory; the caller must make sure that
//! only one `RecordLog` at a time has it open.
//!
//! # Scanning
//!
//! [`scan`] reads a log without opening it, for auditors: it writes, locks and fsyncs nothing,
//! so it works on the directory of a running node, and it reports a torn tail
//! ([`LogError::TornTail`]) or corruption as its last item instead of cutting or refusing, by the
//! same rules, mark included.
//!
//! # Reading
//!
//! [`RecordLog::read_at`] and [`LogReader::read_at`] read one frame with positional reads and
//! check its length and CRC again, so damage that appeared after opening is reported, never
//! returned as a payload. A [`LogReader`] is a cheap clonable handle that can read while another
//! thread appends; a position that does not name the start of a whole frame fails the same
//! checks (a CRC-32 lets such a position through only by a 1 in 2³² accident).
//!
//! [`LogReader::frames_between`] streams the frames between two positions in log order (the
//! whole log, for a rebuild, or what follows the last record a state store covers), reading
//! segment after segment through a buffer of [`STREAM_BUFFER_BYTES`], never a whole segment,
//! and checking every frame as reading back does; damage ends the stream with an error.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

// `RecordLog` is defined here so that its fields are visible to the submodules, each of which
// implements one concern: `format` (the bytes on disk), `segments` (the directory and its
// files), `recovery` (`RecordLog::open`, and the recovery of the last segment that
// `open_tail` shares), `open_tail` (`RecordLog::open_tail`), `append` (appending, rotation and
// syncing), `read` (reading frames back) and `stream` (streaming frames in log order). Framing,
// the scan of a segment, cutting a torn tail and releasing durable pages are shared with the
// Raft log, in `frame_log`.
mod append;
mod format;
// The opening scan of one segment, in memory, for the fuzz targets (docs/fuzzing.md).
#[cfg(fuzzing)]
pub mod fuzzing;
mod open_tail;
mod read;
mod recovery;
mod scan;
mod segments;
mod stream;

pub use append::SyncHandle;
pub use format::{FRAME_HEADER_BYTES, LogPosition, MAX_PAYLOAD_BYTES, SEGMENT_MAGIC};
pub use read::LogReader;
pub use scan::{LogScan, scan};
pub use stream::{LogFrames, STREAM_BUFFER_BYTES};

use super::frame_log::{IoFailure, MarkFailed, MarkWriter, PayloadTooLarge};

/// The segment size limit used by [`LogOptions::default`] (64 MiB).
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// How a log lays out its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// The length a segment file may not grow past by taking another frame (see the module
    /// documentation on rotation); small values exist so that tests can exercise rotation.
    pub segment_bytes: u64,
    /// How long the mark's thread waits after writing the mark before it writes the next one
    /// (zero: as soon as a sync advanced it). A longer pause costs fewer writes and fsyncs of the
    /// mark file, and leaves more acknowledged bytes after the mark, where damage is taken for a
    /// torn tail: the private store, which the record log checks, takes that trade.
    pub mark_pause: std::time::Duration,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self { segment_bytes: DEFAULT_SEGMENT_BYTES, mark_pause: std::time::Duration::ZERO }
    }
}

/// A torn tail that [`RecordLog::open`] or [`RecordLog::open_tail`] cut off the last segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailCut {
    /// The segment that was cut (always the last one).
    pub segment: u32,
    /// The new length of the segment, where the cut bytes started; 0 when the header was torn
    /// and has been rewritten.
    pub offset: u64,
    /// How many bytes were removed from the segment (and saved in quarantine).
    pub bytes_cut: u64,
    /// What was wrong with the first cut byte, in words.
    pub reason: String,
    /// Whether the log's acknowledged mark shows that no cut byte was ever reported durable.
    /// `false` for a log written before marks existed, where only the absence of a later valid
    /// frame vouches for the cut.
    pub never_acknowledged: bool,
    /// The quarantine file that holds the cut bytes, or `None` when no byte was cut.
    pub quarantine_file: Option<PathBuf>,
}

/// Everything a log held when it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogContents {
    /// Every payload in log order, with the position of its frame.
    pub frames: Vec<(LogPosition, Vec<u8>)>,
    /// The torn tail that was cut off the last segment, if there was one.
    pub tail_cut: Option<TailCut>,
}

/// What [`RecordLog::open_tail`] learnt of a log: its end, its first frame, and the torn tail it
/// cut, but none of its payloads (stream them with [`LogReader::frames_between`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTail {
    /// The torn tail that was cut off the last segment, if there was one.
    pub tail_cut: Option<TailCut>,
    /// Where the next appended frame will go (unless it needs a new segment): the end of the log
    /// as opened, which [`LogReader::frames_between`] takes as the end of a stream of everything
    /// opened. [`RecordLog::end`] gives the end after later appends.
    pub end: LogPosition,
    /// Where the first frame of the log starts (the genesis record is there), or `None` when
    /// the log holds no frame. In a segment before the last it is where a frame must start
    /// (just past the header of the first segment longer than its header); it is not read
    /// until something reads it.
    pub first: Option<LogPosition>,
}

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A file-system call failed; the operating system's error says why.
    #[error("could not {action} {}: {source}", .path.display())]
    Io {
        /// What the log was doing, as a verb phrase.
        action: String,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A segment holds damage that a crash cannot explain, or a frame read back later fails its
    /// checks; nothing was changed on disk.
    #[error("log segment segment-{segment:06}.log is damaged at byte offset {offset}: {reason}")]
    Corrupt {
        /// The damaged segment's number.
        segment: u32,
        /// The byte offset in the segment file where the damage starts.
        offset: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// The last segment ends in damage that a crash during a write explains (see "Recovery when
    /// opening"); reported by [`scan`], which changes nothing, where opening would cut it off.
    #[error(
        "log segment segment-{segment:06}.log ends in a torn write at byte offset {offset}: \
         {reason}; opening the ledger would move these bytes to quarantine and cut them off"
    )]
    TornTail {
        /// The last segment's number.
        segment: u32,
        /// The byte offset in the segment file where the torn bytes start.
        offset: u64,
        /// What is wrong with the first torn byte, in words.
        reason: String,
    },
    /// A payload is longer than a frame can carry; nothing was written.
    #[error("payload of {len} bytes is longer than the {max}-byte maximum of a log frame")]
    PayloadTooLarge {
        /// The payload's length.
        len: usize,
        /// The largest length a frame accepts.
        max: usize,
    },
    /// A position does not name a frame of this log.
    #[error("not a frame position of this log: {reason}")]
    BadPosition {
        /// Why the position cannot name a frame, naming the file and offset where there is one.
        reason: String,
    },
    /// A file in the log directory is named like a segment but not spelled canonically.
    #[error("{} looks like a log segment but {reason}", .path.display())]
    UnexpectedFile {
        /// The offending file.
        path: PathBuf,
        /// Why its name is not accepted.
        reason: String,
    },
    /// An earlier write or fsync failed, so the log no longer promises durability.
    #[error(
        "the log refuses to write or sync because an earlier write or fsync failed; \
         reopen it to recover"
    )]
    Poisoned,
    /// Rotation would need a segment number past `u32::MAX`.
    #[error("the log has used every segment number up to {}", u32::MAX)]
    SegmentNumbersExhausted,
    /// The acknowledged mark could not be written: the disk is failing, and the log is
    /// poisoned as after a failed fsync.
    #[error(transparent)]
    Mark(#[from] MarkFailed),
}

/// The durable, append-only log of opaque record payloads; see the module documentation.
// INVARIANT: `current` is segment number `segment` of `dir`, opened for reading and writing and
// exactly `current_len` bytes long (its header plus whole frames); every segment before it was
// fdatasynced before it was created, and every segment's directory entry is durable. Once
// `poisoned` is set, nothing more is written or synced.
#[derive(Debug)]
pub struct RecordLog {
    dir: Arc<Path>,
    options: LogOptions,
    segment: u32,
    current: Arc<File>,
    current_path: Arc<Path>,
    current_len: u64,
    // What the log held when it was opened, and how many frames were appended since.
    frames_at_open: FramesAtOpen,
    frames_appended: u64,
    appended_bytes: u64,
    poisoned: Arc<AtomicBool>,
    // How much of the current segment has been released from the page cache
    // (see `frame_log::release_durable_pages`), shared with its sync handles.
    released: Arc<AtomicU64>,
    reader: LogReader,
    // Keeps `acknowledged.mark` level with what the sync handles report durable; dropping the
    // log writes the last mark.
    mark: MarkWriter,
}

/// The frames a log held when it was opened, as far as opening learnt them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FramesAtOpen {
    /// [`RecordLog::open`] read every segment and counted its frames.
    Counted(u64),
    /// [`RecordLog::open_tail`] read only the last segment, so it knows whether the log holds a
    /// frame but not how many.
    NotCounted {
        /// Whether the log held at least one frame.
        any: bool,
    },
}

impl LogContents {
    fn empty() -> Self {
        Self { frames: Vec::new(), tail_cut: None }
    }
}

fn io_error(action: &str, path: &Path, source: io::Error) -> LogError {
    LogError::Io { action: action.to_owned(), path: path.to_path_buf(), source }
}

impl From<IoFailure> for LogError {
    fn from(failure: IoFailure) -> Self {
        LogError::Io { action: failure.action.to_owned(), path: failure.path, source: failure.source }
    }
}

impl From<PayloadTooLarge> for LogError {
    fn from(PayloadTooLarge { len, max }: PayloadTooLarge) -> Self {
        LogError::PayloadTooLarge { len, max }
    }
}

#[cfg(test)]
// Tests unwrap freely: a panic with the error's Debug output is exactly the failure report wanted.
#[allow(clippy::unwrap_used)]
mod tests;
// The tests of `open_tail` and of streaming frames, in a file of their own to keep both short.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests_tail;
