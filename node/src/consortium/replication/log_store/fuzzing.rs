//! The Raft log's frame codec, reachable by the fuzz targets (`fuzz/`), which build the crate
//! with `--cfg fuzzing`; no other build has this module.

use openraft::Entry;

use super::frame;
use crate::consortium::replication::TypeConfig;

/// Why bytes are not a good frame, as recovery sees it.
#[derive(Debug)]
pub struct BadFrame {
    /// Whether a crash in the middle of a write can leave this (recovery then cuts it off at
    /// the end of the last segment); otherwise the bytes were written whole and are damage.
    pub torn_write: bool,
    /// What is wrong, as recovery reports it.
    pub reason: String,
}

/// Decodes the frame at the start of `bytes`: the entry and the frame's length, header included.
pub fn decode_frame(bytes: &[u8]) -> Result<(Entry<TypeConfig>, usize), BadFrame> {
    frame::decode(bytes).map_err(|bad| BadFrame { torn_write: bad.is_torn_write(), reason: bad.to_string() })
}

/// Encodes `entry` as one frame, header included, as the log's writer does.
pub fn encode_frame(entry: &Entry<TypeConfig>) -> std::io::Result<Vec<u8>> {
    frame::encode(entry)
}
