//! The Raft log's segments as opening reads them (`node/.../log_store/recovery.rs`): the
//! segment scan it shares with the record log (`salvage_ledger::store::frame_log`, which the
//! `record_log` target checks against a reference walk of docs/format.md §9), then each whole
//! frame's payload decoded as an openraft entry.
//!
//! The first byte holds flags (bit 0: the last segment; bit 1: prepend the version-2 magic;
//! bit 2: a version-1 segment, without header; bit 3: the store has an acknowledged mark, at
//! 64 times the top four bits), the rest is the segment. Checked here: no panic; the entries'
//! frames lie back to back from the header on and end where the scan says the whole frames
//! end; a torn tail only in a last segment; damage named inside the bytes; and every decoded
//! entry encodes to a frame that, as a segment of its own, reads back to the same entry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage_node::fuzzing::{RaftEntry, SEGMENT_MAGIC, encode_frame, read_segment};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let is_last = flags & 1 == 1;
    let legacy = flags & 4 == 4;
    let acknowledged = (flags & 8 == 8).then(|| u64::from(flags >> 4) * 64);
    // Most segments worth reading start with the magic; the flag spares the fuzzer finding it.
    let bytes = if flags & 2 == 2 && !legacy { [SEGMENT_MAGIC.as_slice(), rest].concat() } else { rest.to_vec() };

    let segment = match read_segment(&bytes, legacy, is_last, acknowledged) {
        Ok(segment) => segment,
        Err((offset, reason)) => {
            assert!(offset as usize <= bytes.len(), "damage named at {offset}, past the {} bytes", bytes.len());
            assert!(!reason.is_empty(), "damage without a reason");
            return;
        }
    };
    let header = if legacy { 0 } else { SEGMENT_MAGIC.len() };
    let mut next = header;
    for (offset, len, entry) in &segment.entries {
        assert_eq!(*offset as usize, next, "an entry's frame does not start where the one before ended");
        next += len;
        round_trip(entry);
    }
    if segment.entries.is_empty() {
        assert!(segment.whole_end == 0 || segment.whole_end == header, "no frame, yet whole frames end at {}", segment.whole_end);
    } else {
        assert_eq!(segment.whole_end, next, "the whole frames end elsewhere than the entries' frames");
    }
    match &segment.torn_reason {
        Some(reason) => {
            assert!(is_last, "a torn tail in a segment before the last");
            assert!(!reason.is_empty(), "a torn tail without a reason");
        }
        None => assert_eq!(segment.whole_end, bytes.len(), "bytes after the whole frames, neither torn nor damage"),
    }
});

/// Encodes `entry` as the writer does and reads the frame back as a segment of its own.
fn round_trip(entry: &RaftEntry) {
    let frame = match encode_frame(entry) {
        Ok(frame) => frame,
        Err(error) => panic!("a decoded entry does not encode again: {error}"),
    };
    let written = [SEGMENT_MAGIC.as_slice(), &frame].concat();
    match read_segment(&written, false, true, Some(written.len() as u64)) {
        Ok(again) => {
            assert_eq!(again.entries.len(), 1, "a frame the writer made reads back as another number of entries");
            assert_eq!(again.whole_end, written.len(), "a frame the writer made does not end where it was written");
            let json = |entry| serde_json::to_string(entry).unwrap_or_default();
            assert_eq!(json(&again.entries[0].2), json(entry), "an entry changes when encoded and decoded again");
        }
        Err((offset, reason)) => panic!("a frame the writer made is refused at {offset}: {reason}"),
    }
}
