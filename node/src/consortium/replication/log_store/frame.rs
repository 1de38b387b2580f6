//! The frame one log entry is stored in: `[u32 LE payload length][u32 LE
//! CRC-32 of the payload][payload]`, the payload being the entry's JSON.
//!
//! The length lets a reader find the next frame without parsing JSON; the
//! CRC tells a frame that was written whole from one that a crash cut short or
//! that the disk altered, which JSON parsing alone would not always notice.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use openraft::Entry;

use crate::consortium::replication::{TypeConfig, entry_json_len_hint};

/// Bytes before the payload: its length and its CRC-32.
pub(super) const HEADER: usize = 8;

/// Encodes `entry` as one frame, header included.
pub(super) fn encode(entry: &Entry<TypeConfig>) -> io::Result<Vec<u8>> {
    let mut frame = Vec::with_capacity(HEADER + entry_json_len_hint(entry));
    frame.resize(HEADER, 0);
    serde_json::to_writer(&mut frame, entry)?;
    let payload = &frame[HEADER..];
    let len = u32::try_from(payload.len()).map_err(|_| {
        io::Error::other(format!(
            "entry {} encodes to {} bytes, more than a frame can hold",
            entry.log_id,
            payload.len()
        ))
    })?;
    let crc = crc32fast::hash(payload);
    frame[..4].copy_from_slice(&len.to_le_bytes());
    frame[4..HEADER].copy_from_slice(&crc.to_le_bytes());
    Ok(frame)
}

/// Why the bytes at some offset are not a good frame.
#[derive(Debug)]
pub(super) enum Bad {
    /// The header or the payload stops before its end: a write that a crash
    /// cut short, when it is the last thing in the log.
    Incomplete {
        /// How many bytes the frame needs.
        needed: u64,
        /// How many there are.
        present: u64,
    },
    /// The header declares an empty payload, which no entry encodes to: the
    /// zeros some file systems leave where a crash cut a write short.
    Empty,
    /// The payload's CRC differs from the header's: a torn or altered write.
    Checksum,
    /// The CRC matches but the payload is not an entry of this version: the
    /// bytes are as they were written, so dropping them could lose an
    /// acknowledged entry.
    Undecodable(String),
}

impl Bad {
    /// Whether a crash in the middle of a write can leave this: the other
    /// kind was written whole and must never be dropped silently.
    pub(super) fn is_torn_write(&self) -> bool {
        !matches!(self, Bad::Undecodable(_))
    }
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bad::Incomplete { needed, present } => {
                write!(f, "the frame needs {needed} bytes but only {present} remain")
            }
            Bad::Empty => write!(f, "the frame header declares an empty payload (zeros)"),
            Bad::Checksum => write!(f, "the payload's CRC-32 does not match the frame header"),
            Bad::Undecodable(why) => write!(f, "the payload passes its CRC-32 but is not a log entry: {why}"),
        }
    }
}

/// Decodes the frame at the start of `bytes`: the entry and the frame's
/// length, header included.
pub(super) fn decode(bytes: &[u8]) -> Result<(Entry<TypeConfig>, usize), Bad> {
    let present = bytes.len() as u64;
    let (Some(len), Some(crc)) = (bytes.get(..4), bytes.get(4..HEADER)) else {
        return Err(Bad::Incomplete { needed: HEADER as u64, present });
    };
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if len == 0 {
        return Err(Bad::Empty);
    }
    let Some(payload) = bytes.get(HEADER..HEADER + len) else {
        return Err(Bad::Incomplete { needed: (HEADER + len) as u64, present });
    };
    if crc32fast::hash(payload) != crc {
        return Err(Bad::Checksum);
    }
    let entry = serde_json::from_slice(payload).map_err(|e| Bad::Undecodable(e.to_string()))?;
    Ok((entry, HEADER + len))
}

/// Reads and checks the frame of `len` bytes at `offset` of `file`.
pub(super) fn read_at(file: &File, offset: u64, len: usize) -> Result<Entry<TypeConfig>, ReadError> {
    let mut bytes = vec![0u8; len];
    file.read_exact_at(&mut bytes, offset).map_err(ReadError::Io)?;
    match decode(&bytes) {
        Ok((entry, read)) if read == len => Ok(entry),
        Ok((_, read)) => Err(ReadError::Bad(Bad::Undecodable(format!(
            "the frame is {read} bytes long where the index expects {len}"
        )))),
        Err(bad) => Err(ReadError::Bad(bad)),
    }
}

/// Why reading a frame back failed.
#[derive(Debug)]
pub(super) enum ReadError {
    /// The file could not be read.
    Io(io::Error),
    /// The bytes read are not the frame that was written.
    Bad(Bad),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Bad(bad) => write!(f, "{bad}"),
        }
    }
}
