//! The Raft log's frames (`node/.../log_store/frame.rs`), as recovery (`recovery.rs`) walks a
//! segment: decode a frame, step past it, until the bytes end or a frame is bad.
//!
//! Thin on purpose: the Raft log is to reuse the record log's framing (target `record_log`),
//! and then this target shrinks to the entry decoding. Checked here: no panic, a decoded frame
//! lies inside the bytes, and a decoded entry encodes to a frame that decodes to it again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage_node::fuzzing::{decode_frame, encode_frame};

fuzz_target!(|data: &[u8]| {
    let mut offset = 0;
    while let Some(rest) = data.get(offset..).filter(|rest| !rest.is_empty()) {
        let (entry, len) = match decode_frame(rest) {
            Ok(decoded) => decoded,
            Err(bad) => {
                assert!(!bad.reason.is_empty(), "a bad frame without a reason");
                return;
            }
        };
        assert!(len > 8 && len <= rest.len(), "a frame of {len} bytes decoded from {} bytes", rest.len());
        let frame = match encode_frame(&entry) {
            Ok(frame) => frame,
            Err(error) => panic!("a decoded entry does not encode again: {error}"),
        };
        match decode_frame(&frame) {
            Ok((again, again_len)) => {
                assert_eq!(again_len, frame.len(), "a frame the writer made decodes to another length");
                let json = |entry| serde_json::to_string(entry).unwrap_or_default();
                assert_eq!(json(&again), json(&entry), "an entry changes when encoded and decoded again");
            }
            Err(bad) => panic!("a frame the writer made is refused: {}", bad.reason),
        }
        offset += len;
    }
});
