//! Checking one segment's bytes: every whole frame, then how the segment ends: cleanly, in a
//! torn tail that a crash explains, or in damage that nothing but corruption explains.
//!
//! The rules are in the module documentation of [`super`] under "Torn tail or corruption";
//! this file is their implementation, shared by every log and by the fuzz targets.

use super::frame::{FRAME_HEADER_BYTES, SegmentFormat};

/// The most CRC work spent looking for a valid frame after damage, in a segment without an
/// acknowledged mark, before giving up and calling the damage corruption; only crafted
/// content comes near it.
pub const SCAN_BUDGET_BYTES: u64 = 1 << 30;

/// What the log's acknowledged mark says of a last segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acknowledged {
    /// The log has no mark (it was written before marks existed, or the mark file holds no
    /// valid slot): what is valid up to the first damage counts as acknowledged, so damage is
    /// a torn tail only when no valid frame follows it.
    Unknown,
    /// The bytes of this segment before this offset were acknowledged: damage that starts
    /// before it is corruption, damage at or after it a torn tail. 0 when the mark lies in an
    /// earlier segment.
    Before(u64),
}

/// What one segment holds, borrowed from its bytes.
#[derive(Debug)]
pub struct SegmentScan<'a> {
    /// Every whole, valid frame before the first damage: its offset and its payload.
    pub frames: Vec<(u64, &'a [u8])>,
    /// Where the last whole frame ends (0 when the segment header itself is torn).
    pub whole_end: usize,
    /// How the segment ends.
    pub ending: Ending,
}

/// How a segment ends, after its whole frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// At the end of its last whole frame.
    Clean,
    /// In a torn tail that a crash during an unacknowledged write explains: the bytes from
    /// `whole_end` on are to be cut (and kept in quarantine).
    Torn {
        /// What is wrong with the first torn byte, in words.
        reason: String,
        /// Whether the acknowledged mark shows these bytes were never acknowledged; `false` when
        /// there is no mark and only the absence of a later valid frame vouches for it.
        never_acknowledged: bool,
    },
    /// In damage that no crash explains; nothing may be cut.
    Damaged {
        /// Where the damage starts.
        offset: u64,
        /// What is wrong, in words.
        reason: String,
    },
}

/// Checks one segment's bytes as the segment `is_last` of its log, with what the acknowledged
/// mark says of it (which only matters for the last segment).
pub fn scan_segment<'a>(
    format: &SegmentFormat,
    bytes: &'a [u8],
    is_last: bool,
    acknowledged: Acknowledged,
) -> SegmentScan<'a> {
    let ended = |frames, whole_end, ending| SegmentScan { frames, whole_end, ending };
    let damaged = |offset: usize, reason: String| Ending::Damaged { offset: offset as u64, reason };
    let mark = match acknowledged {
        Acknowledged::Before(mark) => Some(mark),
        Acknowledged::Unknown => None,
    };
    if let Some(magic) = format.magic
        && bytes.get(..magic.len()) != Some(magic.as_slice())
    {
        let ending = match torn_header_reason(&magic, bytes) {
            Some(reason) if is_last && mark.is_none_or(|mark| mark == 0) => {
                Ending::Torn { reason, never_acknowledged: mark.is_some() }
            }
            Some(reason) if is_last => damaged(0, before_mark(&reason, mark)),
            _ => damaged(0, bad_header_reason(&magic, bytes)),
        };
        return ended(Vec::new(), 0, ending);
    }

    let mut frames = Vec::new();
    let mut offset = format.header_len();
    while offset < bytes.len() {
        let damage = match format.check_frame(bytes, offset) {
            Ok(frame) => {
                frames.push((offset as u64, frame.payload));
                offset = frame.end;
                continue;
            }
            Err(damage) => damage,
        };
        let ending = if !is_last {
            damaged(offset, format!("{damage}; only the last segment may end in a torn write"))
        } else if let Some(mark) = mark {
            if (offset as u64) < mark {
                damaged(offset, before_mark(&damage.to_string(), Some(mark)))
            } else {
                Ending::Torn {
                    reason: format!("{damage}, at or past the acknowledged mark ({mark}): never acknowledged"),
                    never_acknowledged: true,
                }
            }
        } else {
            match find_frame_after(format, bytes, offset) {
                FollowingFrame::Found(at) => damaged(
                    offset,
                    format!("{damage}, yet a valid frame follows at offset {at}, so this is not a torn tail"),
                ),
                FollowingFrame::TooCostly => damaged(
                    offset,
                    format!(
                        "{damage}; ruling out a valid frame after it would take more than \
                         {SCAN_BUDGET_BYTES} bytes of CRC work, so it is not treated as a torn tail"
                    ),
                ),
                FollowingFrame::None => Ending::Torn { reason: damage.to_string(), never_acknowledged: false },
            }
        };
        return ended(frames, offset, ending);
    }
    // Whole frames up to the end of the file, yet fewer bytes than were acknowledged: the
    // missing ones were durable, so no crash explains their absence.
    if is_last && let Some(mark) = mark.filter(|&mark| mark > offset as u64) {
        let reason = format!(
            "the segment ends after {offset} bytes, but its first {mark} bytes were acknowledged \
             (the acknowledged mark): acknowledged frames are missing"
        );
        return ended(frames, offset, damaged(offset, reason));
    }
    ended(frames, offset, Ending::Clean)
}

/// The reason for damage that lies before the acknowledged mark.
fn before_mark(damage: &str, mark: Option<u64>) -> String {
    let mark = mark.unwrap_or_default();
    format!(
        "{damage}, before the acknowledged mark ({mark}): these bytes were reported durable, so no \
         crash explains the damage"
    )
}

/// Says why a last segment without a valid header is the remains of an interrupted creation,
/// or `None` if it is not: shorter than the header with its bytes a prefix of the magic, or
/// nothing but zero bytes.
pub fn torn_header_reason(magic: &[u8; 8], bytes: &[u8]) -> Option<String> {
    if bytes.len() < magic.len() && magic.starts_with(bytes) {
        Some(format!("the segment holds only {} of the {} header bytes", bytes.len(), magic.len()))
    } else if bytes.iter().all(|&byte| byte == 0) {
        Some(format!("the segment is {} zero bytes without a header", bytes.len()))
    } else {
        None
    }
}

/// Says what is wrong with a segment header that is neither the magic nor torn.
pub fn bad_header_reason(magic: &[u8; 8], bytes: &[u8]) -> String {
    match bytes.get(..magic.len()) {
        Some(header) => {
            format!("the header bytes {header:02x?} are not the magic \"{}\"", String::from_utf8_lossy(magic))
        }
        None => format!(
            "the file is {} bytes long, shorter than the {}-byte header, and its bytes are not \
             a prefix of the magic",
            bytes.len(),
            magic.len()
        ),
    }
}

/// The outcome of looking for a valid frame after damage.
enum FollowingFrame {
    None,
    Found(usize),
    TooCostly,
}

/// Tries every byte offset after `damaged_at` as a frame start, spending at most
/// [`SCAN_BUDGET_BYTES`] of CRC work.
fn find_frame_after(format: &SegmentFormat, bytes: &[u8], damaged_at: usize) -> FollowingFrame {
    let mut budget = SCAN_BUDGET_BYTES;
    let first = damaged_at.saturating_add(1);
    let last = bytes.len().saturating_sub(FRAME_HEADER_BYTES);
    for candidate in first..=last {
        let Ok(frame) = format.bounds(bytes, candidate) else {
            continue;
        };
        let cost = (frame.len_field.len() + frame.payload.len()) as u64;
        if cost > budget {
            return FollowingFrame::TooCostly;
        }
        budget -= cost;
        if format.crc(frame.len_field, frame.payload) == frame.stored_crc {
            return FollowingFrame::Found(candidate);
        }
    }
    FollowingFrame::None
}
