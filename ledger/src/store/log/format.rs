//! The on-disk format: segment file names, frame encoding, the checks every frame must pass,
//! and [`LogPosition`], which names a frame.
//!
//! Opening, appending and reading all speak this format, so it is defined once here; the byte
//! layout itself is described in the module documentation of [`super`].

use std::fmt;
use std::path::{Path, PathBuf};

use super::LogError;

/// The eight bytes every segment file starts with; the final digit is the format version.
pub const SEGMENT_MAGIC: [u8; 8] = *b"SLVGLOG1";

/// The largest payload a frame may carry (16 MiB); larger payloads are refused at append.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;

/// The bytes in front of every payload: the 4-byte length field and the 4-byte CRC field.
pub const FRAME_HEADER_BYTES: usize = 8;

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

/// Why the bytes at some offset are not a whole, valid frame.
#[derive(Debug)]
pub(super) enum FrameDamage {
    PartialHeader { available: usize },
    TooLong { len: usize },
    PastEnd { len: usize, available: usize },
    BadCrc { stored: u32, computed: u32 },
}

impl fmt::Display for FrameDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PartialHeader { available } => {
                write!(f, "partial frame header: only {available} of {FRAME_HEADER_BYTES} bytes")
            }
            Self::TooLong { len } => {
                write!(f, "length field says {len} bytes, more than the {MAX_PAYLOAD_BYTES}-byte maximum")
            }
            Self::PastEnd { len, available } => write!(
                f,
                "a frame of {len} payload bytes runs past the end of the file \
                 (only {available} bytes follow its header)"
            ),
            Self::BadCrc { stored, computed } => {
                write!(f, "CRC mismatch: the frame stores {stored:08x} but its bytes give {computed:08x}")
            }
        }
    }
}

/// A frame whose length fits the file, before its CRC is checked.
pub(super) struct FrameBytes<'a> {
    pub(super) len_field: [u8; 4],
    pub(super) stored_crc: u32,
    pub(super) payload: &'a [u8],
    pub(super) end: usize,
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

pub(super) fn check_payload_len(payload: &[u8]) -> Result<u32, LogError> {
    let too_large = || LogError::PayloadTooLarge { len: payload.len(), max: MAX_PAYLOAD_BYTES };
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(too_large());
    }
    u32::try_from(payload.len()).map_err(|_| too_large())
}

/// Appends the frame of `payload` (length, CRC, payload) to `out`.
pub(super) fn encode_frame(payload: &[u8], out: &mut Vec<u8>) -> Result<(), LogError> {
    let len_field = check_payload_len(payload)?.to_le_bytes();
    out.extend_from_slice(&len_field);
    out.extend_from_slice(&frame_crc(len_field, payload).to_le_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

pub(super) fn frame_crc(len_field: [u8; 4], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len_field);
    hasher.update(payload);
    hasher.finalize()
}

pub(super) fn payload_len(len_field: [u8; 4]) -> usize {
    usize::try_from(u32::from_le_bytes(len_field)).unwrap_or(usize::MAX)
}

/// Finds the frame at `offset` and checks that it fits the file, without checking its CRC.
pub(super) fn frame_bounds(bytes: &[u8], offset: usize) -> Result<FrameBytes<'_>, FrameDamage> {
    let available = bytes.len().saturating_sub(offset);
    let header = offset
        .checked_add(FRAME_HEADER_BYTES)
        .and_then(|end| bytes.get(offset..end))
        .and_then(|header| <[u8; FRAME_HEADER_BYTES]>::try_from(header).ok())
        .ok_or(FrameDamage::PartialHeader { available })?;
    let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
    let len_field = [l0, l1, l2, l3];
    let len = payload_len(len_field);
    if len > MAX_PAYLOAD_BYTES {
        return Err(FrameDamage::TooLong { len });
    }
    let start = offset + FRAME_HEADER_BYTES;
    let end = start.saturating_add(len);
    let payload = bytes
        .get(start..end)
        .ok_or(FrameDamage::PastEnd { len, available: available.saturating_sub(FRAME_HEADER_BYTES) })?;
    Ok(FrameBytes { len_field, stored_crc: u32::from_le_bytes([c0, c1, c2, c3]), payload, end })
}

/// Checks the whole frame at `offset`, CRC included.
pub(super) fn check_frame(bytes: &[u8], offset: usize) -> Result<FrameBytes<'_>, FrameDamage> {
    let frame = frame_bounds(bytes, offset)?;
    let computed = frame_crc(frame.len_field, frame.payload);
    if computed != frame.stored_crc {
        return Err(FrameDamage::BadCrc { stored: frame.stored_crc, computed });
    }
    Ok(frame)
}
