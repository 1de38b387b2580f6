//! Frames: how one payload is laid out in a segment, and the checks every frame must pass.
//!
//! A frame is `len (u32 LE) ‖ crc (u32 LE) ‖ payload`. Which bytes the CRC-32 covers is the
//! [`Framing`]; how long a payload may be, and which header a segment starts with, are the
//! rest of a log's [`SegmentFormat`].

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The bytes in front of every payload: the 4-byte length field and the 4-byte CRC field.
pub const FRAME_HEADER_BYTES: usize = 8;

/// Which bytes a frame's CRC-32 (IEEE, as `crc32fast` computes it) covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// The four `len` bytes followed by the payload, so that a damaged length is caught
    /// before it is trusted to find the next frame: the framing of every log written now.
    LengthAndPayload,
    /// The payload alone, and an empty payload is damage (zeros would otherwise pass for an
    /// empty frame): the frames of version-1 Raft log segments, which are still read so that
    /// a node upgraded in place keeps its log, and never written.
    PayloadOnly,
}

/// How the segments of one log are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentFormat {
    /// The eight bytes every segment file starts with, or `None` for a format without a
    /// header (version-1 Raft segments).
    pub magic: Option<[u8; 8]>,
    /// Which bytes each frame's CRC covers.
    pub framing: Framing,
    /// The longest payload a frame may carry; a longer length field is damage.
    pub max_payload: usize,
}

impl SegmentFormat {
    /// How many bytes the segment header takes: where the first frame starts.
    pub fn header_len(&self) -> usize {
        self.magic.map_or(0, |magic| magic.len())
    }
}

/// Why the bytes at some offset are not a whole, valid frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameDamage {
    /// Fewer than [`FRAME_HEADER_BYTES`] bytes are left.
    PartialHeader {
        /// How many bytes are left.
        available: usize,
    },
    /// The length field is over the format's maximum.
    TooLong {
        /// The length the field says.
        len: usize,
        /// The format's maximum.
        max: usize,
    },
    /// The payload runs past the end of the bytes.
    PastEnd {
        /// The length the field says.
        len: usize,
        /// How many bytes follow the frame header.
        available: usize,
    },
    /// The CRC field does not match the bytes it covers.
    BadCrc {
        /// The CRC the frame stores.
        stored: u32,
        /// The CRC of its bytes.
        computed: u32,
    },
    /// An empty payload where the framing never writes one ([`Framing::PayloadOnly`]).
    Empty,
}

impl fmt::Display for FrameDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PartialHeader { available } => {
                write!(f, "partial frame header: only {available} of {FRAME_HEADER_BYTES} bytes")
            }
            Self::TooLong { len, max } => {
                write!(f, "length field says {len} bytes, more than the {max}-byte maximum")
            }
            Self::PastEnd { len, available } => write!(
                f,
                "a frame of {len} payload bytes runs past the end of the file \
                 (only {available} bytes follow its header)"
            ),
            Self::BadCrc { stored, computed } => {
                write!(f, "CRC mismatch: the frame stores {stored:08x} but its bytes give {computed:08x}")
            }
            Self::Empty => {
                write!(f, "the frame header declares an empty payload (zeros), which this format never writes")
            }
        }
    }
}

/// A payload longer than its format allows; nothing was encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payload of {len} bytes is longer than the {max}-byte maximum of a log frame")]
pub struct PayloadTooLarge {
    /// The payload's length.
    pub len: usize,
    /// The largest length a frame accepts.
    pub max: usize,
}

/// A whole frame whose CRC matched, borrowed from the bytes it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The payload.
    pub payload: &'a [u8],
    /// The offset just past the frame: where the next one starts.
    pub end: usize,
}

/// A frame whose length fits the bytes, before its CRC is checked.
pub(super) struct Bounds<'a> {
    pub(super) len_field: [u8; 4],
    pub(super) stored_crc: u32,
    pub(super) payload: &'a [u8],
    pub(super) end: usize,
}

impl SegmentFormat {
    /// Checks that `payload` fits a frame of this format and returns its length field.
    pub fn check_payload_len(&self, payload: &[u8]) -> Result<[u8; 4], PayloadTooLarge> {
        let too_large = || PayloadTooLarge { len: payload.len(), max: self.max_payload };
        if payload.len() > self.max_payload || (payload.is_empty() && self.framing == Framing::PayloadOnly) {
            return Err(too_large());
        }
        u32::try_from(payload.len()).map(u32::to_le_bytes).map_err(|_| too_large())
    }

    /// Appends the frame of `payload` (length, CRC, payload) to `out`.
    pub fn encode_frame(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), PayloadTooLarge> {
        let len_field = self.check_payload_len(payload)?;
        out.extend_from_slice(&len_field);
        out.extend_from_slice(&self.crc(len_field, payload).to_le_bytes());
        out.extend_from_slice(payload);
        Ok(())
    }

    /// Fills in the header of a frame whose payload was written after [`FRAME_HEADER_BYTES`]
    /// placeholder bytes at the start of `frame` (so the payload is serialised in place).
    pub fn seal_frame(&self, frame: &mut [u8]) -> Result<(), PayloadTooLarge> {
        let Some((header, payload)) = frame.split_at_mut_checked(FRAME_HEADER_BYTES) else {
            return Err(PayloadTooLarge { len: 0, max: self.max_payload });
        };
        let len_field = self.check_payload_len(payload)?;
        let crc = self.crc(len_field, payload).to_le_bytes();
        let (len_bytes, crc_bytes) = header.split_at_mut(4);
        len_bytes.copy_from_slice(&len_field);
        crc_bytes.copy_from_slice(&crc);
        Ok(())
    }

    /// Checks the whole frame at `offset` of `bytes`, CRC included.
    pub fn check_frame<'a>(&self, bytes: &'a [u8], offset: usize) -> Result<Frame<'a>, FrameDamage> {
        let frame = self.bounds(bytes, offset)?;
        let computed = self.crc(frame.len_field, frame.payload);
        if computed != frame.stored_crc {
            return Err(FrameDamage::BadCrc { stored: frame.stored_crc, computed });
        }
        Ok(Frame { payload: frame.payload, end: frame.end })
    }

    /// Reads the frame at `offset` of `file` with two positional reads (its header, then its
    /// payload) and checks it, CRC included.
    pub fn read_frame_at(&self, file: &File, offset: u64) -> Result<Vec<u8>, ReadFrameError> {
        let eof = |source: io::Error, past_end: ReadFrameError| match source.kind() {
            io::ErrorKind::UnexpectedEof => past_end,
            _ => ReadFrameError::Io(source),
        };
        let mut header = [0u8; FRAME_HEADER_BYTES];
        file.read_exact_at(&mut header, offset).map_err(|e| eof(e, ReadFrameError::NoHeader))?;
        let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
        let len_field = [l0, l1, l2, l3];
        let stored = u32::from_le_bytes([c0, c1, c2, c3]);
        let len = self.payload_len(len_field).map_err(ReadFrameError::Damaged)?;
        let mut payload = vec![0u8; len];
        let payload_offset = offset.checked_add(FRAME_HEADER_BYTES as u64).ok_or(ReadFrameError::NoHeader)?;
        file.read_exact_at(&mut payload, payload_offset).map_err(|e| eof(e, ReadFrameError::PayloadPastEnd { len }))?;
        let computed = self.crc(len_field, &payload);
        if computed != stored {
            return Err(ReadFrameError::Damaged(FrameDamage::BadCrc { stored, computed }));
        }
        Ok(payload)
    }

    /// Finds the frame at `offset` and checks that it fits the bytes, without checking its CRC.
    pub(super) fn bounds<'a>(&self, bytes: &'a [u8], offset: usize) -> Result<Bounds<'a>, FrameDamage> {
        let available = bytes.len().saturating_sub(offset);
        let header = offset
            .checked_add(FRAME_HEADER_BYTES)
            .and_then(|end| bytes.get(offset..end))
            .and_then(|header| <[u8; FRAME_HEADER_BYTES]>::try_from(header).ok())
            .ok_or(FrameDamage::PartialHeader { available })?;
        let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
        let len_field = [l0, l1, l2, l3];
        let len = self.payload_len(len_field)?;
        let start = offset + FRAME_HEADER_BYTES;
        let end = start.saturating_add(len);
        let payload = bytes
            .get(start..end)
            .ok_or(FrameDamage::PastEnd { len, available: available.saturating_sub(FRAME_HEADER_BYTES) })?;
        Ok(Bounds { len_field, stored_crc: u32::from_le_bytes([c0, c1, c2, c3]), payload, end })
    }

    /// The payload length a length field declares, refused when the format never writes it.
    fn payload_len(&self, len_field: [u8; 4]) -> Result<usize, FrameDamage> {
        let len = usize::try_from(u32::from_le_bytes(len_field)).unwrap_or(usize::MAX);
        if len > self.max_payload {
            return Err(FrameDamage::TooLong { len, max: self.max_payload });
        }
        if len == 0 && self.framing == Framing::PayloadOnly {
            return Err(FrameDamage::Empty);
        }
        Ok(len)
    }

    pub(super) fn crc(&self, len_field: [u8; 4], payload: &[u8]) -> u32 {
        let mut hasher = crc32fast::Hasher::new();
        if self.framing == Framing::LengthAndPayload {
            hasher.update(&len_field);
        }
        hasher.update(payload);
        hasher.finalize()
    }
}

/// Why [`SegmentFormat::read_frame_at`] returned no payload.
#[derive(Debug)]
pub enum ReadFrameError {
    /// The file ends before a frame header at the offset could end.
    NoHeader,
    /// The file ends before the payload the header declares could end.
    PayloadPastEnd {
        /// The length the header declares.
        len: usize,
    },
    /// The bytes at the offset are not a whole, valid frame.
    Damaged(FrameDamage),
    /// The file could not be read.
    Io(io::Error),
}
