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
//! instead of being re-encoded.
//!
//! Anything else — other whitespace or key order, an escape JCS would not write,
//! a number JCS would spell differently, a malformed or out-of-range value — goes
//! to the general strict parser, [`Record::from_json_bytes`], which decides, so
//! every refusal and its message are exactly what they were. The fast path only
//! ever accepts bytes the general parser accepts, with the same result; the tests
//! compare the two on valid, mutated and hand-made records.

use std::borrow::Cow;
use std::cmp::Ordering;

use ed25519_dalek::Signature;
use serde_json::{Map, Number, Value};

use crate::canonical::{MAX_SAFE_INTEGER, to_canonical_bytes};
use crate::chain::{LeafHash, Record, Seq};
use crate::entry::{EntrySignature, Kind, LedgerId, PublicKey, SignedEntry, Statement, Timestamp};
use crate::refusal::Refusal;

/// How deep the fast path follows nested arrays and objects; deeper values go to
/// the general parser, which has its own recursion limit.
const MAX_DEPTH: usize = 64;

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
    let text = std::str::from_utf8(bytes).ok()?;
    let mut cursor = Cursor { text, pos: 0 };
    cursor.literal("{\"accepted\":\"")?;
    let accepted = Timestamp::parse(cursor.plain_string()?).ok()?;
    cursor.literal(",\"entry\":{\"signatures\":[")?;
    let mut signatures = Vec::with_capacity(1);
    if !cursor.eat("]") {
        loop {
            cursor.literal("{\"key\":\"")?;
            let key = PublicKey::from_bytes(&cursor.hex::<32>()?)?;
            cursor.literal("\",\"sig\":\"")?;
            let sig = Signature::from_bytes(&cursor.hex::<64>()?);
            cursor.literal("\"}")?;
            signatures.push(EntrySignature { key, sig });
            if cursor.eat("]") {
                break;
            }
            cursor.literal(",")?;
        }
    }
    cursor.literal(",\"statement\":")?;
    let statement_start = cursor.pos;
    let statement = cursor.statement()?;
    let canonical = bytes.get(statement_start..cursor.pos)?.to_vec();
    cursor.literal("},\"prev\":\"")?;
    let prev = LeafHash(cursor.hex::<32>()?);
    cursor.literal("\",\"seq\":")?;
    let seq = Seq::new(cursor.safe_integer()?)?;
    cursor.literal("}")?;
    if cursor.pos != text.len() {
        return None;
    }
    let entry = SignedEntry::from_canonical_statement(statement, signatures, canonical);
    Some(Record { seq, prev, accepted, entry })
}


/// A position in the text of a record. Every method returns `None` as soon as the
/// text is not what a canonical record has there.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    /// Consumes `expected` if the text continues with it.
    fn eat(&mut self, expected: &str) -> bool {
        let found = self.rest().starts_with(expected.as_bytes());
        if found {
            self.pos += expected.len();
        }
        found
    }

    fn literal(&mut self, expected: &str) -> Option<()> {
        self.eat(expected).then_some(())
    }

    /// Exactly `2 * N` lowercase hex digits (what [`crate::entry::parse_lower_hex`] accepts),
    /// decoded in one pass: keys, signatures and hashes are a third of a record.
    fn hex<const N: usize>(&mut self) -> Option<[u8; N]> {
        let digits = self.rest().get(..2 * N)?;
        let mut bytes = [0u8; N];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let &[high, low] = pair else { return None };
            *byte = (lower_hex_digit(high)? << 4) | lower_hex_digit(low)?;
        }
        self.pos += 2 * N;
        Some(bytes)
    }

    /// The rest of a string whose opening quote is consumed, up to and past its
    /// closing quote, when it holds nothing JCS would escape.
    fn plain_string(&mut self) -> Option<&'a str> {
        let length = self.rest().iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if self.rest().get(length) != Some(&b'"') {
            return None;
        }
        let content = self.text.get(self.pos..self.pos + length)?;
        self.pos += length + 1;
        Some(content)
    }

    /// A canonical statement: `{"body":…,"kind":…,["ledger":…,]"time":…}`, the
    /// members in JCS order, as `Statement`'s own deserialiser reads them.
    fn statement(&mut self) -> Option<Statement> {
        self.literal("{\"body\":")?;
        let body = self.value(0)?;
        self.literal(",\"kind\":\"")?;
        let kind: Kind = self.plain_string()?.parse().ok()?;
        let ledger = if self.eat(",\"ledger\":\"") {
            let id = LedgerId(self.hex::<32>()?);
            self.literal("\"")?;
            Some(id)
        } else {
            None
        };
        self.literal(",\"time\":\"")?;
        let time = Timestamp::parse(self.plain_string()?).ok()?;
        self.literal("}")?;
        Some(Statement { ledger, kind, time, body })
    }

    /// A JSON value in canonical form, built as the strict parser builds it.
    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => {
                self.pos += 1;
                Some(Value::String(self.string()?.into_owned()))
            }
            b't' => self.literal("true").map(|()| Value::Bool(true)),
            b'f' => self.literal("false").map(|()| Value::Bool(false)),
            b'n' => self.literal("null").map(|()| Value::Null),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            _ => None,
        }
    }

    fn object(&mut self, depth: usize) -> Option<Value> {
        self.literal("{")?;
        let mut object = Map::new();
        if self.eat("}") {
            return Some(Value::Object(object));
        }
        let mut previous: Option<Cow<'a, str>> = None;
        loop {
            self.literal("\"")?;
            let key = self.string()?;
            // Strictly ascending in UTF-16 code units: JCS order, and no key twice.
            if previous.as_deref().is_some_and(|previous| jcs_key_order(previous, &key) != Ordering::Less) {
                return None;
            }
            self.literal(":")?;
            let value = self.value(depth + 1)?;
            object.insert(key.to_string(), value);
            previous = Some(key);
            if self.eat("}") {
                return Some(Value::Object(object));
            }
            self.literal(",")?;
        }
    }

    fn array(&mut self, depth: usize) -> Option<Value> {
        self.literal("[")?;
        let mut items = Vec::new();
        if self.eat("]") {
            return Some(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.eat("]") {
                return Some(Value::Array(items));
            }
            self.literal(",")?;
        }
    }

    /// The rest of a string whose opening quote is consumed, if it is escaped
    /// exactly as JCS escapes: `\"`, `\\`, the five short escapes of control
    /// characters, `\u00xx` (lowercase) for the other control characters, and
    /// nothing else.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos;
        let length = self.rest().iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        self.pos += length;
        if self.peek()? == b'"' {
            let content = self.text.get(start..self.pos)?;
            self.pos += 1;
            return Some(Cow::Borrowed(content));
        }
        let mut owned = String::from(self.text.get(start..self.pos)?);
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(Cow::Owned(owned));
                }
                b'\\' => {
                    let escaped = *self.rest().get(1)?;
                    self.pos += 2;
                    let c = match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let [high, low] = self.hex::<2>()?;
                            let control = char::from(low);
                            let short_form = matches!(low, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d);
                            if high != 0 || low >= 0x20 || short_form {
                                return None;
                            }
                            control
                        }
                        _ => return None,
                    };
                    owned.push(c);
                }
                b if b < 0x20 => return None,
                _ => {
                    let run = self.rest().iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
                    owned.push_str(self.text.get(self.pos..self.pos + run)?);
                    self.pos += run;
                }
            }
        }
    }

    /// A number spelled as JCS spells its value, within ±(2^53−1), as the strict
    /// parser represents it (integers as integers, anything else as a float).
    fn number(&mut self) -> Option<Number> {
        let start = self.pos;
        let negative = self.eat("-");
        let magnitude = self.safe_integer()?;
        if !matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            // Integers: JCS writes them plainly, and never as `-0`.
            if negative && magnitude == 0 {
                return None;
            }
            return Some(if negative {
                // INVARIANT: magnitude ≤ 2^53 − 1, so the negation fits an i64.
                Number::from(-i64::try_from(magnitude).ok()?)
            } else {
                Number::from(magnitude)
            });
        }
        if self.eat(".") {
            self.digits()?;
        }
        if self.eat("e") || self.eat("E") {
            let _ = self.eat("+") || self.eat("-");
            self.digits()?;
        }
        let spelled = self.text.get(start..self.pos)?;
        // serde_json reads the value (as the strict parser does); JCS's spelling of
        // that value must be the text itself.
        let number = match serde_json::from_str::<Value>(spelled).ok()? {
            Value::Number(number) => number,
            _ => return None,
        };
        let value = number.as_f64()?;
        if !number.is_f64() || value.abs() > MAX_SAFE_INTEGER as f64 {
            return None;
        }
        (to_canonical_bytes(&value) == spelled.as_bytes()).then_some(number)
    }

    /// A non-negative integer without leading zeros, at most 2^53 − 1.
    fn safe_integer(&mut self) -> Option<u64> {
        let start = self.pos;
        let digits = self.digits()?;
        if digits > 16 || (digits > 1 && self.text.as_bytes().get(start) == Some(&b'0')) {
            return None;
        }
        let value: u64 = self.text.get(start..self.pos)?.parse().ok()?;
        (value <= MAX_SAFE_INTEGER).then_some(value)
    }

    /// One or more decimal digits; their count.
    fn digits(&mut self) -> Option<usize> {
        let count = self.rest().iter().take_while(|b| b.is_ascii_digit()).count();
        self.pos += count;
        (count > 0).then_some(count)
    }
}

/// The value of one lowercase hex digit.
fn lower_hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// RFC 8785 §3.2.3: object members sort by the UTF-16 code units of their names.
fn jcs_key_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Fixture;
    use proptest::prelude::*;
    use serde_json::json;

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

    #[test]
    fn hex_is_decoded_as_parse_lower_hex_decodes_it() {
        for text in ["00ff", "a0b1", "09af", "0A0b", "0g00", "+123", "12 3", "1234"] {
            let mut cursor = Cursor { text, pos: 0 };
            assert_eq!(cursor.hex::<2>(), crate::entry::parse_lower_hex::<2>(text).ok(), "{text}");
        }
        let mut short = Cursor { text: "abc", pos: 0 };
        assert_eq!(short.hex::<2>(), None);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-(MAX_SAFE_INTEGER as i64)..=MAX_SAFE_INTEGER as i64).prop_map(|n| json!(n)),
            (-1e15f64..1e15).prop_map(|x| json!(x)),
            "[a-z\u{0}-\u{1f}\"\\\\/\u{e9}\u{fb33}\u{1f600}]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c\u{fb33}\u{1f600}]{0,3}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any body the ledger could have signed decodes on the fast path, as the general parser decodes it.
        #[test]
        fn any_canonical_body_takes_the_fast_path(body in json_value()) {
            let bytes = record_with_body(json!({"giai": "4750001X", "passport": body})).canonical_bytes();
            let fast = decode_canonical(&bytes);
            prop_assert!(fast.is_some());
            prop_assert_eq!(fast, Record::from_json_bytes(&bytes).ok());
        }

        /// Changing any one byte of a record never makes the two paths disagree.
        #[test]
        fn any_changed_byte_gives_the_general_parsers_verdict(body in json_value(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut bytes = record_with_body(json!({"giai": "4750001X", "passport": body})).canonical_bytes();
            let at = at.index(bytes.len());
            bytes[at] = byte;
            prop_assert_eq!(decode(&bytes), Record::from_json_bytes(&bytes));
        }
    }
}
