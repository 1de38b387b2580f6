//! Log entries in the frames of the shared frame log (`salvage_ledger::store::frame_log`), the
//! layer the record log is built on: the payload of a frame is one `openraft::Entry` as JSON.
//!
//! Two segment formats exist. Version 2, the only one written, is the record log's format
//! with a magic of its own: the header `SLVGRFT2`, then frames whose CRC-32 covers the length
//! field and the payload, so that a damaged length is caught before it is trusted. Version 1
//! (segments of Salvage before the Raft log shared the record log's code) has no header, and
//! its CRC covers the payload alone; such segments are still read, so that a node upgraded in
//! place keeps its log and its promises, but never appended to, and they go once purged.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use openraft::Entry;
use salvage_ledger::store::frame_log::{FRAME_HEADER_BYTES, Framing, SegmentFormat, SegmentScan};

use crate::consortium::replication::{TypeConfig, entry_json_len_hint};

/// The header of a version-2 segment.
pub(super) const MAGIC: [u8; 8] = *b"SLVGRFT2";

/// The longest entry a frame holds: as long as the largest Raft message a peer accepts
/// (`RAFT_BODY_LIMIT`, 64 MiB), so that every entry a leader can send fits. The record log's
/// 16 MiB is too short: an entry of the largest submission a node takes, wrapped in its batch,
/// is a little longer (the ledger then refuses it, but Raft must first store it).
pub(crate) const MAX_ENTRY_BYTES: usize = 64 * 1024 * 1024;

/// Version-2 segments: the only ones written.
pub(super) const FORMAT: SegmentFormat =
    SegmentFormat { magic: Some(MAGIC), framing: Framing::LengthAndPayload, max_payload: MAX_ENTRY_BYTES };

/// Version-1 segments, read only: no header, a CRC of the payload alone, any `u32` length.
pub(super) const LEGACY_FORMAT: SegmentFormat =
    SegmentFormat { magic: None, framing: Framing::PayloadOnly, max_payload: u32::MAX as usize };

/// Encodes `entry` as one version-2 frame, header included.
pub(super) fn encode(entry: &Entry<TypeConfig>) -> io::Result<Vec<u8>> {
    let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES + entry_json_len_hint(entry));
    // The JSON is written in place after room for the frame header, which is filled in after.
    frame.resize(FRAME_HEADER_BYTES, 0);
    serde_json::to_writer(&mut frame, entry)?;
    FORMAT
        .seal_frame(&mut frame)
        .map_err(|too_large| io::Error::other(format!("entry {} cannot be stored: {too_large}", entry.log_id)))?;
    Ok(frame)
}

/// The entry a frame's payload holds. The CRC matched, so the bytes are as they were written:
/// a payload that is no entry of this version is damage, never a torn write.
pub(super) fn decode(payload: &[u8]) -> Result<Entry<TypeConfig>, String> {
    serde_json::from_slice(payload).map_err(|e| format!("the payload passes its CRC-32 but is not a log entry: {e}"))
}

/// An entry read from a segment: its frame's offset, the entry, its frame's length.
pub(super) type Framed = (u64, Entry<TypeConfig>, usize);

/// The entries of a scanned segment's frames, in order; or the offset of the first frame that
/// holds no entry, and why.
pub(super) fn decode_frames(scan: &SegmentScan<'_>) -> Result<Vec<Framed>, (u64, String)> {
    scan.frames
        .iter()
        .map(|&(offset, payload)| match decode(payload) {
            Ok(entry) => Ok((offset, entry, FRAME_HEADER_BYTES + payload.len())),
            Err(why) => Err((offset, why)),
        })
        .collect()
}

/// Reads and checks the frame of `len` bytes at `offset` of `file`, a segment of `format`, in
/// one read.
pub(super) fn read_at(
    file: &File,
    offset: u64,
    len: usize,
    format: &SegmentFormat,
) -> Result<Entry<TypeConfig>, String> {
    let mut bytes = vec![0u8; len];
    file.read_exact_at(&mut bytes, offset).map_err(|e| e.to_string())?;
    let frame = format.check_frame(&bytes, 0).map_err(|damage| damage.to_string())?;
    if frame.end != len {
        return Err(format!("the frame is {} bytes long where the index expects {len}", frame.end));
    }
    decode(frame.payload)
}
