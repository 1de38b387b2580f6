//! The strict JSON parser (`canonical::parse_strict`), which every submission that is not
//! already canonical goes through.
//!
//! Beyond "never panics": whatever it accepts is within the ledger's number range, encodes to
//! RFC 8785 bytes that the canonical reader reads back as the strict parser does, and encoding
//! again changes nothing (the bytes that get hashed and signed have one spelling).
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage_ledger::canonical::{check_numbers, is_canonical, parse_strict, value_to_canonical_bytes};
use salvage_ledger::fuzzing::read_canonical_value;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = parse_strict(data) else { return };
    assert!(check_numbers(&value).is_ok(), "the strict parser let an out-of-range number through");
    let canonical = value_to_canonical_bytes(&value);
    let reparsed = match parse_strict(&canonical) {
        Ok(reparsed) => reparsed,
        Err(error) => panic!("the canonical encoding of an accepted value is refused: {error}"),
    };
    assert_eq!(value_to_canonical_bytes(&reparsed), canonical, "encoding is not idempotent");
    // The reader follows 64 levels of nesting and leaves deeper values to the strict parser.
    if nesting(&value) <= 64 {
        assert!(is_canonical(&canonical), "the encoder's output is not canonical to the reader");
        assert_eq!(read_canonical_value(&canonical).as_ref(), Some(&reparsed), "reader and parser disagree");
    }
});

/// How many arrays and objects are nested at the deepest point of `value`.
fn nesting(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        Value::Object(members) => 1 + members.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}
