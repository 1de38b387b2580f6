//! The on-disk format: the record log's [`SegmentFormat`], segment file names, and
//! [`LogPosition`], which names a frame.
//!
//! Opening, appending and reading all speak this format, so it is defined once here; the byte
//! layout itself is described in the module documentation of [`super`], and the frames are
//! encoded and checked by [`frame_log`](crate::store::frame_log), which the Raft log shares.

use std::fmt;
use std::path::{Path, PathBuf};

use super::LogError;
use crate::store::frame_log::{Framing, SegmentFormat};

pub use crate::store::frame_log::FRAME_HEADER_BYTES;

/// The eight bytes every segment file starts with; the final digit is the format version.
pub const SEGMENT_MAGIC: [u8; 8] = *b"SLVGLOG1";

/// The largest payload a frame may carry (16 MiB); larger payloads are refused at append.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;

/// The record log's segments: the header `SLVGLOG1`, and frames whose CRC covers the length
/// field and the payload, of at most [`MAX_PAYLOAD_BYTES`].
pub(super) const FORMAT: SegmentFormat =
    SegmentFormat { magic: Some(SEGMENT_MAGIC), framing: Framing::LengthAndPayload, max_payload: MAX_PAYLOAD_BYTES };

/// Where a frame starts: a segment number and the byte offset of the frame in that segment file.
///
/// Positions order like the log: first by segment, then by offset.
// INVARIANT: a position handed out by `RecordLog` names the first byte of a whole frame, so
// `segment >= 1` and `offset >= 8` (past the segment header). The fields are public so that the
// ledger can build positions freely; `from_bytes` and `read_at` check them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// The segment number, starting at 1.
    pub segment: u32,
    /// The byte offset of the frame's length field in the segment file.
    pub offset: u64,
}

impl LogPosition {
    /// How many bytes [`LogPosition::to_bytes`] produces.
    pub const ENCODED_LEN: usize = 12;

    /// Serialises the position for an index: segment as big-endian `u32`, then offset as
    /// big-endian `u64`, so that the byte order of encodings is the log order.
    pub fn to_bytes(self) -> [u8; Self::ENCODED_LEN] {
        let mut bytes = [0u8; Self::ENCODED_LEN];
        let (segment, offset) = bytes.split_at_mut(4);
        segment.copy_from_slice(&self.segment.to_be_bytes());
        offset.copy_from_slice(&self.offset.to_be_bytes());
        bytes
    }

    /// Parses bytes written by [`LogPosition::to_bytes`], refusing lengths other than 12 and
    /// positions that no frame can have (segment 0, or an offset inside the segment header).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LogError> {
        let Ok(array) = <[u8; Self::ENCODED_LEN]>::try_from(bytes) else {
            return Err(LogError::BadPosition {
                reason: format!("a stored position is {} bytes long, got {} bytes", Self::ENCODED_LEN, bytes.len()),
            });
        };
        let [s0, s1, s2, s3, o0, o1, o2, o3, o4, o5, o6, o7] = array;
        let position = Self {
            segment: u32::from_be_bytes([s0, s1, s2, s3]),
            offset: u64::from_be_bytes([o0, o1, o2, o3, o4, o5, o6, o7]),
        };
        check_position_shape(position)?;
        Ok(position)
    }
}

impl fmt::Display for LogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} offset {}", segment_file_name(self.segment), self.offset)
    }
}

pub(super) fn segment_file_name(segment: u32) -> String {
    format!("segment-{segment:06}.log")
}

pub(super) fn segment_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(segment_file_name(segment))
}

pub(super) fn check_position_shape(position: LogPosition) -> Result<(), LogError> {
    if position.segment == 0 {
        return Err(LogError::BadPosition {
            reason: "segment numbers start at 1, the position names segment 0".to_owned(),
        });
    }
    if position.offset < SEGMENT_MAGIC.len() as u64 {
        return Err(LogError::BadPosition {
            reason: format!(
                "offset {} of {} lies inside the {}-byte segment header",
                position.offset,
                segment_file_name(position.segment),
                SEGMENT_MAGIC.len()
            ),
        });
    }
    Ok(())
}
