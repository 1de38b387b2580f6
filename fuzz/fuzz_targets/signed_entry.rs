//! `SignedEntry` from bytes (`from_json_bytes`, what a node does with a submission that is not
//! canonical) and from a value (`from_value`, here fed the lenient `serde_json` tree, so that
//! values the strict parser would refuse reach it too).
//!
//! Beyond "never panics": an accepted entry's canonical bytes read back to the same entry on
//! every path (strict, canonical fast path, JSON value), and checking its signatures decides
//! without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage_ledger::entry::{CanonicalSubmission, SignedEntry};

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = SignedEntry::from_json_bytes(data) {
        round_trips(&entry);
    }
    // Duplicate keys keep their last copy and big numbers become floats here, as a library
    // caller's own tree might hold them; `from_value` must still refuse them or decode them.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data)
        && let Ok(entry) = SignedEntry::from_value(value)
    {
        round_trips(&entry);
    }
});

fn round_trips(entry: &SignedEntry) {
    let canonical = entry.canonical_bytes();
    match SignedEntry::from_json_bytes(&canonical) {
        Ok(again) => assert!(&again == entry, "the canonical bytes read back to another entry"),
        Err(refusal) => panic!("an accepted entry's canonical bytes are refused: {refusal}"),
    }
    match SignedEntry::from_canonical_json(&canonical) {
        Ok(again) => assert!(&again == entry, "the canonical fast path reads another entry"),
        Err(refusal) => panic!("the canonical fast path refuses an accepted entry: {refusal}"),
    }
    // The canonical reader follows 64 levels of nesting and leaves deeper bodies to the strict
    // parser, so it may decline; when it reads the bytes, it reads this entry.
    if let Some(submission) = SignedEntry::read_canonical_submission(&canonical) {
        match submission {
            CanonicalSubmission::One(again) => assert!(&again == entry, "the canonical reader reads another entry"),
            CanonicalSubmission::Many(_) => panic!("one entry's canonical bytes read as an array of entries"),
        }
    }
    match SignedEntry::from_value(entry.to_value()) {
        Ok(again) => assert!(&again == entry, "the entry's JSON value decodes to another entry"),
        Err(refusal) => panic!("an accepted entry's own JSON value is refused: {refusal}"),
    }
    let _ = entry.verify_signatures();
}
