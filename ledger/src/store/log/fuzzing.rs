//! The record log's opening scan of one segment, reachable by the fuzz targets (`fuzz/`), which
//! build the crate with `--cfg fuzzing`; no other build has this module.
//!
//! [`RecordLog::open`](super::RecordLog::open) reads files and fsyncs them, and [`super::scan`]
//! pauses before it calls a tail torn; the in-memory check of one segment under both is what
//! decides, so that is what a fuzzer drives, at memory speed.

use super::LogError;
use super::recovery::check_segment;
use crate::store::frame_log::{Acknowledged, Ending};

/// What the opening scan found in one segment: its whole frames, where they end, and why the
/// bytes after them are a torn tail, if there are any.
#[derive(Debug)]
pub struct SegmentVerdict {
    /// Every whole, valid frame: its offset and its payload.
    pub frames: Vec<(u64, Vec<u8>)>,
    /// Where the last whole frame ends (0 when the header itself is torn).
    pub whole_end: usize,
    /// Why the bytes from `whole_end` on are a torn tail, if there are any.
    pub torn_reason: Option<String>,
}

/// Checks `bytes` as segment `segment` of a log, the last one if `is_last`, as opening does;
/// `acknowledged` is how many bytes of it the log's acknowledged mark covers (`None`: the log
/// has no mark).
pub fn scan_segment_bytes(
    segment: u32,
    bytes: &[u8],
    is_last: bool,
    acknowledged: Option<u64>,
) -> Result<SegmentVerdict, LogError> {
    let acknowledged = acknowledged.map_or(Acknowledged::Unknown, Acknowledged::Before);
    let scan = check_segment(segment, bytes, is_last, acknowledged)?;
    Ok(SegmentVerdict {
        frames: scan.frames.into_iter().map(|(offset, payload)| (offset, payload.to_vec())).collect(),
        whole_end: scan.whole_end,
        torn_reason: match scan.ending {
            Ending::Torn { reason, .. } => Some(reason),
            _ => None,
        },
    })
}
