//! Decoding stored records for the audit without a detour through `serde_json::Value`.
//!
//! A record the ledger wrote is its RFC 8785 (JCS) encoding, whose layout is fixed:
//! `{"accepted":…,"entry":{"signatures":[{"key":…,"sig":…},…],"statement":{"body":…,
//! "kind":…,"ledger":…,"time":…}},"prev":…,"seq":…}` with no whitespace. The fast
//! path reads exactly that layout and accepts only bytes that are the canonical
//! encoding of the record it builds: members in JCS order (strictly ascending, so
//! no key twice), strings escaped the one way JCS escapes them, numbers spelled the
//! way JCS spells their value and within ±(2^53−1). For such bytes the canonical
//! statement is the slice of the record that holds it, so it is hashed as it stands
//! instead of being re-encoded. The reading is [`crate::canonical::decode`]'s, and
//! the entry inside the record is read as replication reads a single entry
//! ([`SignedEntry::from_canonical_json`]).
//!
//! Anything else — other whitespace or key order, an escape JCS would not write,
//! a number JCS would spell differently, a malformed or out-of-range value — goes
//! to the general strict parser, [`Record::from_json_bytes`], which decides, so
//! every refusal and its message are exactly what they were. The fast path only
//! ever accepts bytes the general parser accepts, with the same result; the tests
//! compare the two on valid, mutated and hand-made records.

use crate::canonical::decode::Cursor;
use crate::chain::{LeafHash, Record, Seq};
use crate::entry::{SignedEntry, Timestamp};
use crate::refusal::Refusal;

/// Decodes one record exactly as [`Record::from_json_bytes`] does, faster when
/// the bytes are canonical.
pub(super) fn decode(bytes: &[u8]) -> Result<Record, Refusal> {
    match decode_canonical(bytes) {
        Some(record) => Ok(record),
        None => Record::from_json_bytes(bytes),
    }
}

/// The record, if `bytes` are its canonical encoding; `None` for anything else,
/// valid or not.
fn decode_canonical(bytes: &[u8]) -> Option<Record> {
    let mut cursor = Cursor::new(bytes)?;
    cursor.literal("{\"accepted\":\"")?;
    let accepted = Timestamp::parse(cursor.plain_string()?).ok()?;
    cursor.literal(",\"entry\":")?;
    let entry = SignedEntry::read_canonical(&mut cursor)?;
    cursor.literal(",\"prev\":\"")?;
    let prev = LeafHash(cursor.hex::<32>()?);
    cursor.literal("\",\"seq\":")?;
    let seq = Seq::new(cursor.safe_integer()?)?;
    cursor.literal("}")?;
    if !cursor.at_end() {
        return None;
    }
    Some(Record { seq, prev, accepted, entry })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::decode::tests::safe_value;
    use crate::entry::Kind;
    use crate::testkit::Fixture;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn record_of(entry: SignedEntry, seq: u64) -> Record {
        Record {
            seq: Seq::new(seq).unwrap(),
            prev: LeafHash([0x5a; 32]),
            accepted: Timestamp::parse("2026-11-23T10:00:01.5Z").unwrap(),
            entry,
        }
    }

    fn record_with_body(body: Value) -> Record {
        let f = Fixture::new();
        record_of(f.signed(&["reuse-hub", "baltic-demolition"], Kind::ItemAmend, body), 77)
    }

    /// The fast path and the general parser agree on `bytes`, and the fast path
    /// took them (`Some`) exactly when `canonical` says it should.
    fn assert_agrees(bytes: &[u8], canonical: bool) {
        let fast = decode_canonical(bytes);
        assert_eq!(fast.is_some(), canonical, "{}", String::from_utf8_lossy(bytes));
        assert_eq!(decode(bytes), Record::from_json_bytes(bytes), "{}", String::from_utf8_lossy(bytes));
    }

    #[test]
    fn canonical_records_take_the_fast_path_with_the_same_result() {
        let f = Fixture::new();
        let entries = [
            f.genesis.clone(),
            f.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 182.4),
            f.transfer("baltic-demolition", "4750001BEAM-0001", "reuse-hub"),
            f.receive("reuse-hub", "4750001BEAM-0001"),
            SignedEntry::new(f.statement(Kind::ItemCancel, json!({"giai": "4750001BEAM-0001"})), vec![]),
        ];
        for (seq, entry) in entries.into_iter().enumerate() {
            assert_agrees(&record_of(entry, seq as u64).canonical_bytes(), true);
        }
        let bodies = [
            json!({}),
            json!({"a": [], "b": {}, "c": [[[]]], "d": null, "e": true, "f": false}),
            json!({"n": [0, -1, 1, 9007199254740991i64, -9007199254740991i64, 0.5, -0.25, 1e-7, 123456.789, 1.5e-300]}),
            json!({"s": "Ķieģeļu mūris \"A\" <vecais> \\ / \u{1f600} \u{7f} \u{0} \u{1f} \u{8}\t\n\u{c}\r end"}),
            json!({"\u{fb33}": 1, "\u{1f600}": 2, "a": 3, "a\u{0}": 4, "": 5, "\n": 6}),
        ];
        for body in bodies {
            assert_agrees(&record_with_body(body).canonical_bytes(), true);
        }
    }

    #[test]
    fn other_spellings_go_to_the_general_parser() {
        let f = Fixture::new();
        let record = record_of(f.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 182.4), 5);
        let text = String::from_utf8(record.canonical_bytes()).unwrap();
        let variants = [
            // Valid JSON the general parser accepts, but not as JCS writes it.
            text.replacen("{\"accepted\"", "{ \"accepted\"", 1),
            text.replacen("\"mass_kg\":182.4", "\"mass_kg\":182.40", 1),
            text.replacen("\"mass_kg\":182.4", "\"mass_kg\":1.824e2", 1),
            text.replacen("\"value\":1", "\"value\":1.0", 1),
            text.replacen("\"fraction\":1", "\"fraction\":1E0", 1),
            text.replacen("HEA 160", "HEA\\u0020160", 1),
            text.replacen("HEA 160", "HEA\\/160", 1),
            text.replace("\"seq\":5}", "\"seq\":5 }"),
            text.replacen("\"body\":{\"giai\"", "\"body\":{\"passport\":{},\"giai\"", 1),
            // Refused by the general parser, with its own code and message.
            text.replacen("\"value\":1", "\"value\":1,\"value\":1", 1),
            text.replacen("\"value\":1", "\"value\":9007199254740992", 1),
            text.replacen("\"value\":1", "\"value\":-0", 1),
            text.replacen("\"value\":1", "\"value\":01", 1),
            text.replacen("\"value\":1", "\"value\":1e300", 1),
            text.replacen("\"mass_kg\":182.4", "\"mass_kg\":9007199254740992.5", 1),
            text.replacen("HEA 160", "HEA\\u001F160", 1),
            text.replacen("HEA 160", "HEA\u{1}160", 1),
            text.replacen("\"seq\":5", "\"seq\":05", 1),
            text.replacen("\"seq\":5", "\"seq\":9007199254740992", 1),
            text.replacen("\"kind\":\"item.register\"", "\"kind\":\"item.unknown\"", 1),
            format!("{text} "),
            format!("{text}{{}}"),
            text[..text.len() - 1].to_owned(),
        ];
        for variant in variants {
            assert_ne!(variant, text, "every variant changes the record");
            assert_agrees(variant.as_bytes(), false);
        }
        assert_agrees(&[0xff, 0xfe], false);
    }

    proptest! {
        /// Any body the ledger could have signed decodes on the fast path, as the general parser decodes it.
        #[test]
        fn any_canonical_body_takes_the_fast_path(body in safe_value()) {
            let bytes = record_with_body(json!({"giai": "4750001X", "passport": body})).canonical_bytes();
            let fast = decode_canonical(&bytes);
            prop_assert!(fast.is_some());
            prop_assert_eq!(fast, Record::from_json_bytes(&bytes).ok());
        }

        /// Changing any one byte of a record never makes the two paths disagree.
        #[test]
        fn any_changed_byte_gives_the_general_parsers_verdict(body in safe_value(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut bytes = record_with_body(json!({"giai": "4750001X", "passport": body})).canonical_bytes();
            let at = at.index(bytes.len());
            bytes[at] = byte;
            prop_assert_eq!(decode(&bytes), Record::from_json_bytes(&bytes));
        }
    }
}
