//! The record log's frames (`store/log/format.rs`) and the scan that opening a ledger runs over
//! each segment (`store/log/recovery.rs`), on a segment built from fuzz bytes.
//!
//! The scan must never panic, and must either recover (every whole frame, then a torn tail in
//! the last segment only: past the acknowledged mark when there is one, else where no valid
//! frame follows) or name the damage and where it starts. A reference walk written here from
//! docs/format.md §9 says which, independently of the code under test.
//!
//! The first byte holds flags (bit 0: the last segment; bit 1: prepend the magic; bit 2: the
//! log has an acknowledged mark, at 8 times the top five bits), the rest is the segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage_ledger::fuzzing::scan_segment_bytes;
use salvage_ledger::store::log::{FRAME_HEADER_BYTES, LogError, LogPosition, MAX_PAYLOAD_BYTES, SEGMENT_MAGIC};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let is_last = flags & 1 == 1;
    let mark = (flags & 4 == 4).then(|| usize::from(flags >> 3) * 8);
    // Most segments worth scanning start with the magic; the flag spares the fuzzer finding it.
    let bytes = if flags & 2 == 2 { [SEGMENT_MAGIC.as_slice(), rest].concat() } else { rest.to_vec() };

    if let Ok(position) = LogPosition::from_bytes(rest.get(..LogPosition::ENCODED_LEN).unwrap_or(rest)) {
        assert_eq!(LogPosition::from_bytes(&position.to_bytes()).ok(), Some(position));
    }

    let verdict = scan_segment_bytes(7, &bytes, is_last, mark.map(|mark| mark as u64));
    let expected = reference(&bytes, is_last, mark);
    match (verdict, expected) {
        (Ok(scan), Expected::Recovered { frames, whole_end, torn }) => {
            let found: Vec<(u64, &[u8])> = scan.frames.iter().map(|(at, payload)| (*at, payload.as_slice())).collect();
            let wanted: Vec<(u64, &[u8])> =
                frames.iter().map(|&(at, start, end)| (at as u64, &bytes[start..end])).collect();
            assert_eq!(found, wanted, "the scan and the reference find different frames");
            assert_eq!(scan.whole_end, whole_end, "the whole frames end elsewhere");
            assert_eq!(scan.torn_reason.is_some(), torn, "the scan and the reference disagree on a torn tail");
            assert!(scan.torn_reason.is_none_or(|reason| !reason.is_empty()), "a torn tail without a reason");
        }
        (Err(LogError::Corrupt { segment, offset, reason }), Expected::Corrupt { at }) => {
            assert_eq!((segment, offset), (7, at as u64), "the damage is named at the wrong place");
            assert!(!reason.is_empty(), "damage without a reason");
        }
        (verdict, expected) => panic!("the scan says {verdict:?}, the reference {expected:?}"),
    }
});

/// What opening must make of a segment.
#[derive(Debug)]
enum Expected {
    /// Every whole frame (its offset and payload range), where they end, and whether the bytes
    /// after them are a torn tail to cut.
    Recovered { frames: Vec<(usize, usize, usize)>, whole_end: usize, torn: bool },
    /// Damage no crash explains, starting at this offset.
    Corrupt { at: usize },
}

/// The rule of docs/format.md §9, walked naively: frames from offset 8; at the first bad one,
/// corruption unless this is the last segment, where it is a torn tail if it starts at or past
/// the acknowledged mark or, without a mark, if no valid frame starts at any later byte. A last
/// segment whose whole frames end before the mark is corrupt. A last segment with no header is
/// torn if its bytes are a prefix of the magic or all zeros, and the mark names none of its bytes.
fn reference(bytes: &[u8], is_last: bool, mark: Option<usize>) -> Expected {
    if !bytes.starts_with(&SEGMENT_MAGIC) {
        let torn_header =
            (bytes.len() < SEGMENT_MAGIC.len() && SEGMENT_MAGIC.starts_with(bytes)) || bytes.iter().all(|&b| b == 0);
        return if is_last && torn_header && mark.is_none_or(|mark| mark == 0) {
            Expected::Recovered { frames: Vec::new(), whole_end: 0, torn: true }
        } else {
            Expected::Corrupt { at: 0 }
        };
    }
    let mut frames = Vec::new();
    let mut offset = SEGMENT_MAGIC.len();
    while offset < bytes.len() {
        match valid_frame(bytes, offset) {
            Some((start, end)) => {
                frames.push((offset, start, end));
                offset = end;
            }
            None if !is_last => return Expected::Corrupt { at: offset },
            None => {
                let torn = match mark {
                    Some(mark) => offset >= mark,
                    None => (offset + 1..bytes.len()).all(|at| valid_frame(bytes, at).is_none()),
                };
                return if torn {
                    Expected::Recovered { frames, whole_end: offset, torn: true }
                } else {
                    Expected::Corrupt { at: offset }
                };
            }
        }
    }
    if is_last && mark.is_some_and(|mark| mark > offset) {
        return Expected::Corrupt { at: offset };
    }
    Expected::Recovered { frames, whole_end: offset, torn: false }
}

/// The payload range and end of a whole frame with a good CRC at `offset`:
/// `[u32 LE length][u32 LE CRC-32 of the length field and the payload][payload]`.
fn valid_frame(bytes: &[u8], offset: usize) -> Option<(usize, usize)> {
    let header = bytes.get(offset..offset.checked_add(FRAME_HEADER_BYTES)?)?;
    let len_field: [u8; 4] = header.get(..4)?.try_into().ok()?;
    let stored: [u8; 4] = header.get(4..8)?.try_into().ok()?;
    let len = u32::from_le_bytes(len_field) as usize;
    if len > MAX_PAYLOAD_BYTES {
        return None;
    }
    let start = offset + FRAME_HEADER_BYTES;
    let payload = bytes.get(start..start.checked_add(len)?)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&len_field);
    crc.update(payload);
    (crc.finalize() == u32::from_le_bytes(stored)).then_some((start, start + len))
}
