//! The canonical reader (`canonical/decode.rs`'s cursor and
//! `SignedEntry::read_canonical_submission`), a fast path that must never accept what the
//! strict parser refuses nor read it differently.
//!
//! Differential: whenever the reader accepts bytes, `parse_strict` accepts them too and gives
//! the same value, and the same entries; the bytes are exactly the encoding of what was read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage_ledger::canonical::{is_canonical, parse_strict, value_to_canonical_bytes};
use salvage_ledger::entry::{CanonicalSubmission, SignedEntry};
use salvage_ledger::fuzzing::read_canonical_value;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // Any JSON value: the cursor's grammar against the strict parser's.
    let read = read_canonical_value(data);
    assert_eq!(is_canonical(data), read.is_some(), "skipping and reading a value disagree");
    if let Some(value) = &read {
        match parse_strict(data) {
            Ok(strict) => assert_eq!(&strict, value, "the reader and the strict parser read different values"),
            Err(error) => panic!("the reader accepted bytes the strict parser refuses: {error}"),
        }
        assert_eq!(value_to_canonical_bytes(value), data, "accepted bytes are not the encoding of their value");
    }

    // Submissions: the entries read straight from canonical bytes against the strict path.
    match SignedEntry::read_canonical_submission(data) {
        None => {}
        Some(CanonicalSubmission::One(entry)) => {
            match SignedEntry::from_json_bytes(data) {
                Ok(strict) => assert!(strict == entry, "one entry read differently from the strict path"),
                Err(refusal) => panic!("the reader accepted an entry the strict path refuses: {refusal}"),
            }
            assert_eq!(entry.canonical_bytes(), data, "the entry's canonical bytes are not what was read");
        }
        Some(CanonicalSubmission::Many(entries)) => {
            assert!(!entries.is_empty(), "a canonical submission of no entries");
            let strict = match parse_strict(data) {
                Ok(Value::Array(items)) => items,
                Ok(other) => panic!("the reader read an array of entries where the strict parser sees {other}"),
                Err(error) => panic!("the reader accepted a submission the strict parser refuses: {error}"),
            };
            assert_eq!(strict.len(), entries.len(), "different numbers of entries");
            for (item, entry) in strict.into_iter().zip(&entries) {
                match SignedEntry::from_value(item) {
                    Ok(strict) => assert!(&strict == entry, "an entry read differently from the strict path"),
                    Err(refusal) => panic!("the reader accepted an entry the strict path refuses: {refusal}"),
                }
            }
            assert_eq!(SignedEntry::canonical_array(&entries), data, "the array's canonical bytes differ");
        }
    }

    // The entry fast path falls back to the strict parser; both give one verdict.
    let fast = SignedEntry::from_canonical_json(data);
    let strict = SignedEntry::from_json_bytes(data);
    match (fast, strict) {
        (Ok(fast), Ok(strict)) => assert!(fast == strict, "the fast path and the strict path read different entries"),
        (Err(fast), Err(strict)) => assert_eq!(fast.code, strict.code, "the two paths refuse differently"),
        (fast, strict) => panic!("the fast path says {:?}, the strict path {:?}", fast.is_ok(), strict.is_ok()),
    }
});
