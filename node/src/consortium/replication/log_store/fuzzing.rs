//! The Raft log's reading of one segment and its frame encoding, reachable by the fuzz targets
//! (`fuzz/`), which build the crate with `--cfg fuzzing`; no other build has this module.
//!
//! Opening reads a segment with the scan the record log shares (`frame_log::scan_segment`),
//! then decodes each whole frame's payload as an entry: that in-memory part is what a fuzzer
//! drives, at memory speed.

use openraft::Entry;
use salvage_ledger::store::frame_log::{Acknowledged, Ending, scan_segment};

use super::frame;
use crate::consortium::replication::TypeConfig;

/// One entry of the Raft log.
pub type RaftEntry = Entry<TypeConfig>;

/// The header of the segments the Raft log writes (version 2).
pub const SEGMENT_MAGIC: [u8; 8] = frame::MAGIC;

/// What opening makes of one segment.
#[derive(Debug)]
pub struct SegmentEntries {
    /// The entry of every whole frame, in order: its frame's offset and length, and the entry.
    pub entries: Vec<(u64, usize, RaftEntry)>,
    /// Where the last whole frame ends (0 when the header is torn).
    pub whole_end: usize,
    /// Why the bytes from `whole_end` on are a torn tail, if there are any.
    pub torn_reason: Option<String>,
}

/// Reads `bytes` as a segment of the Raft log (version 1 if `legacy`), the last one if
/// `is_last`, with the first `acknowledged` bytes covered by the acknowledged mark (`None`: the
/// store has no mark), as opening does; damage is returned as its offset and reason.
pub fn read_segment(
    bytes: &[u8],
    legacy: bool,
    is_last: bool,
    acknowledged: Option<u64>,
) -> Result<SegmentEntries, (u64, String)> {
    let format = if legacy { frame::LEGACY_FORMAT } else { frame::FORMAT };
    let acknowledged = acknowledged.map_or(Acknowledged::Unknown, Acknowledged::Before);
    let scan = scan_segment(&format, bytes, is_last, acknowledged);
    if let Ending::Damaged { offset, reason } = &scan.ending {
        return Err((*offset, reason.clone()));
    }
    let entries = frame::decode_frames(&scan)?.into_iter().map(|(offset, entry, len)| (offset, len, entry)).collect();
    let torn_reason = match scan.ending {
        Ending::Torn { reason, .. } => Some(reason),
        _ => None,
    };
    Ok(SegmentEntries { entries, whole_end: scan.whole_end, torn_reason })
}

/// Encodes `entry` as one frame, header included, as the log's writer does.
pub fn encode_frame(entry: &RaftEntry) -> std::io::Result<Vec<u8>> {
    frame::encode(entry)
}
