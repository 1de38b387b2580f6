//! A segmented, append-only log of checksummed frames: the layer under both the record log
//! ([`super::log`]) and the Raft log of a consortium node (in the `node` crate).
//!
//! It knows nothing of what a payload means, nor how a log names its segments, rotates or
//! truncates them: each log decides that. What it owns is what must be the same in both, so
//! that a bit flip is judged the same way everywhere:
//!
//! * the **frame** (`frame`): `len (u32 LE) ‖ crc (u32 LE) ‖ payload`, in the
//!   [`SegmentFormat`] of a log (its header magic, which bytes the CRC covers, the longest
//!   payload), with the checks every frame passes when it is scanned or read back;
//! * the **scan** of one segment (`scan`): its whole frames, then whether it ends cleanly, in a
//!   torn tail, or in damage;
//! * **cutting** a torn tail (`tail`): the bytes go to the log's `quarantine/` directory first;
//! * the **acknowledged mark** (`mark`): where the acknowledged bytes end, kept durable off
//!   the commit path, so that a power cut's torn tail is told from damage to what was
//!   acknowledged;
//! * releasing durable pages from the page cache (`page_cache`).
//!
//! # Segments
//!
//! A segment file is the format's header (8 magic bytes; none for version-1 Raft segments)
//! followed by zero or more frames, back to back, up to the end of the file. Segments form a
//! sequence; only the last one is ever appended to, and every segment before it is completely
//! durable (each log fsyncs a segment before it starts the next).
//!
//! # Torn tail or corruption
//!
//! A crash can only damage what had not been made durable: the end of the last segment. So:
//!
//! * damage in any segment but the last, or a bad header anywhere, is **corruption**;
//! * in the last segment, when the log has an acknowledged mark, damage that starts before the
//!   mark is **corruption** (those bytes were reported durable), damage at or after it is a
//!   **torn tail**, whatever follows it: after a power cut, unsynced writes can reach the disk
//!   out of order, leaving a hole followed by whole frames that were never acknowledged either.
//!   A last segment shorter than the mark is corruption too;
//! * in the last segment of a log without a mark (written before marks existed), damage is a
//!   torn tail only when no valid frame starts at any later byte offset, at most
//!   [`SCAN_BUDGET_BYTES`] of CRC work away; otherwise it is corruption;
//! * a last segment whose header is torn (shorter than the header and a prefix of the magic, or
//!   nothing but zeros) is a torn tail at offset 0, unless the mark names bytes in it.
//!
//! A torn tail is cut: its bytes are saved in `quarantine/{stem}.torn` in the log directory
//! (fsynced with the directory), then the segment is truncated to its last whole frame (its
//! header rewritten if that was torn) and fsynced. Corruption is refused, naming the segment and
//! the offset, and nothing is written.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

mod frame;
mod mark;
mod page_cache;
mod scan;
mod tail;

pub use frame::{FRAME_HEADER_BYTES, Frame, FrameDamage, Framing, PayloadTooLarge, ReadFrameError, SegmentFormat};
pub use mark::{MARK_FILE, Mark, MarkFailed, MarkHandle, MarkWriter, read_mark};
pub use page_cache::release_durable_pages;
pub use scan::{
    Acknowledged, Ending, SCAN_BUDGET_BYTES, SegmentScan, bad_header_reason, scan_segment, torn_header_reason,
};
pub use tail::{QUARANTINE_DIR, cut_torn_tail, quarantine};

/// A file-system call failed.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} {}: {source}", .path.display())]
pub struct IoFailure {
    /// What was being done, as a verb phrase.
    pub action: &'static str,
    /// The file or directory involved.
    pub path: PathBuf,
    /// The operating system's error.
    #[source]
    pub source: io::Error,
}

/// Makes the entries of directory `dir` (files created, renamed or removed) durable.
pub fn sync_directory(dir: &Path) -> Result<(), IoFailure> {
    File::open(dir).and_then(|handle| handle.sync_all()).map_err(|source| IoFailure {
        action: "fsync directory",
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
// Tests unwrap freely: a panic with the error's Debug output is exactly the failure report wanted.
#[allow(clippy::unwrap_used)]
mod tests;
