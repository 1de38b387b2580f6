//! Reading canonical bytes back, without a detour through serde.
//!
//! Bytes the ledger wrote itself (records, and entries as replication carries
//! them) are JCS encodings whose layout is fixed, so they can be read straight
//! into the values they encode. A [`Cursor`] accepts only the canonical spelling:
//! members in JCS order (strictly ascending, so no key twice), strings escaped
//! the one way JCS escapes them, numbers spelled the way JCS spells their value
//! and within ±(2^53−1), no whitespace. What it reads is what the strict parser
//! ([`super::parse_strict`]) would build from the same bytes, and a slice it has
//! read is the canonical encoding of what it built, so it can be hashed as it
//! stands instead of being encoded again.
//!
//! Every method returns `None` as soon as the text is not what the canonical
//! encoding has there. `None` says nothing about whether the bytes are valid:
//! callers then hand them to the general strict parser, which decides and gives
//! the reason, so a refusal reads the same whichever path the bytes took.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::{MAX_SAFE_INTEGER, to_canonical_bytes};
use crate::hex::decode_lower_hex;

/// How deep a cursor follows nested arrays and objects; deeper values go to the
/// general parser, which has its own recursion limit.
const MAX_DEPTH: usize = 64;

/// A position in canonical JSON text.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`, if they are UTF-8.
    pub(crate) fn new(bytes: &'a [u8]) -> Option<Cursor<'a>> {
        Some(Cursor { text: std::str::from_utf8(bytes).ok()?, pos: 0 })
    }

    /// How many bytes have been read.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The bytes read since `start`, an earlier [`Cursor::position`].
    pub(crate) fn read_since(&self, start: usize) -> Option<&'a [u8]> {
        self.text.as_bytes().get(start..self.pos)
    }

    /// Whether every byte has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.text.len()
    }

    fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    /// Consumes `expected` if the text continues with it.
    pub(crate) fn eat(&mut self, expected: &str) -> bool {
        let found = self.rest().starts_with(expected.as_bytes());
        if found {
            self.pos += expected.len();
        }
        found
    }

    /// Consumes `expected`, or reads nothing and gives `None`.
    pub(crate) fn literal(&mut self, expected: &str) -> Option<()> {
        self.eat(expected).then_some(())
    }

    /// Exactly `2 * N` lowercase hex digits (what [`crate::hex::parse_lower_hex`] accepts):
    /// keys, signatures and hashes are a third of a record.
    pub(crate) fn hex<const N: usize>(&mut self) -> Option<[u8; N]> {
        let bytes = decode_lower_hex(self.rest().get(..2 * N)?)?;
        self.pos += 2 * N;
        Some(bytes)
    }

    /// The rest of a string whose opening quote is consumed, up to and past its
    /// closing quote, when it holds nothing JCS would escape.
    pub(crate) fn plain_string(&mut self) -> Option<&'a str> {
        let length = self.rest().iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if self.rest().get(length) != Some(&b'"') {
            return None;
        }
        let content = self.text.get(self.pos..self.pos + length)?;
        self.pos += length + 1;
        Some(content)
    }

    /// A JSON value in canonical form, built as the strict parser builds it.
    pub(crate) fn value(&mut self) -> Option<Value> {
        self.value_at::<Tree>(0)
    }

    /// Reads past a JSON value in canonical form without building it: what
    /// [`Cursor::value`] would accept, at none of its allocations.
    pub(crate) fn skip_value(&mut self) -> Option<()> {
        self.value_at::<Skip>(0)
    }

    fn value_at<S: Sink>(&mut self, depth: usize) -> Option<S::Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.object::<S>(depth),
            b'[' => self.array::<S>(depth),
            b'"' => {
                self.pos += 1;
                Some(S::string(self.string()?))
            }
            b't' => self.literal("true").map(|()| S::boolean(true)),
            b'f' => self.literal("false").map(|()| S::boolean(false)),
            b'n' => self.literal("null").map(|()| S::null()),
            b'-' | b'0'..=b'9' => self.number().map(S::number),
            _ => None,
        }
    }

    fn object<S: Sink>(&mut self, depth: usize) -> Option<S::Value> {
        self.literal("{")?;
        let mut object = S::Object::default();
        if self.eat("}") {
            return Some(S::object(object));
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
            let value = self.value_at::<S>(depth + 1)?;
            S::insert(&mut object, &key, value);
            previous = Some(key);
            if self.eat("}") {
                return Some(S::object(object));
            }
            self.literal(",")?;
        }
    }

    fn array<S: Sink>(&mut self, depth: usize) -> Option<S::Value> {
        self.literal("[")?;
        let mut items = S::Array::default();
        if self.eat("]") {
            return Some(S::array(items));
        }
        loop {
            S::push(&mut items, self.value_at::<S>(depth + 1)?);
            if self.eat("]") {
                return Some(S::array(items));
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
    pub(crate) fn safe_integer(&mut self) -> Option<u64> {
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

/// What a cursor makes of the values it reads: the same walk either builds a
/// tree ([`Tree`]) or only checks the text ([`Skip`]), so the two cannot accept
/// different spellings.
trait Sink {
    type Value;
    type Object: Default;
    type Array: Default;
    fn string(text: Cow<'_, str>) -> Self::Value;
    fn boolean(value: bool) -> Self::Value;
    fn null() -> Self::Value;
    fn number(number: Number) -> Self::Value;
    fn insert(object: &mut Self::Object, key: &str, value: Self::Value);
    fn object(object: Self::Object) -> Self::Value;
    fn push(array: &mut Self::Array, value: Self::Value);
    fn array(array: Self::Array) -> Self::Value;
}

/// Builds the `serde_json::Value` the strict parser would.
struct Tree;

impl Sink for Tree {
    type Value = Value;
    type Object = Map<String, Value>;
    type Array = Vec<Value>;
    fn string(text: Cow<'_, str>) -> Value {
        Value::String(text.into_owned())
    }
    fn boolean(value: bool) -> Value {
        Value::Bool(value)
    }
    fn null() -> Value {
        Value::Null
    }
    fn number(number: Number) -> Value {
        Value::Number(number)
    }
    fn insert(object: &mut Map<String, Value>, key: &str, value: Value) {
        object.insert(key.to_owned(), value);
    }
    fn object(object: Map<String, Value>) -> Value {
        Value::Object(object)
    }
    fn push(array: &mut Vec<Value>, value: Value) {
        array.push(value);
    }
    fn array(array: Vec<Value>) -> Value {
        Value::Array(array)
    }
}

/// Builds nothing.
struct Skip;

impl Sink for Skip {
    type Value = ();
    type Object = ();
    type Array = ();
    fn string(_: Cow<'_, str>) {}
    fn boolean(_: bool) {}
    fn null() {}
    fn number(_: Number) {}
    fn insert((): &mut (), _: &str, (): ()) {}
    fn object((): ()) {}
    fn push((): &mut (), (): ()) {}
    fn array((): ()) {}
}

/// RFC 8785 §3.2.3: object members sort by the UTF-16 code units of their names.
fn jcs_key_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() { a.as_bytes().cmp(b.as_bytes()) } else { a.encode_utf16().cmp(b.encode_utf16()) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::canonical::{parse_strict, value_to_canonical_bytes};
    use proptest::prelude::*;
    use serde_json::json;

    /// What the cursor reads from `bytes` as one whole value.
    fn read(bytes: &[u8]) -> Option<Value> {
        let mut cursor = Cursor::new(bytes)?;
        let value = cursor.value()?;
        cursor.at_end().then_some(value)
    }

    /// Whether the cursor skips `bytes` as one whole value.
    fn skips(bytes: &[u8]) -> bool {
        crate::canonical::is_canonical(bytes)
    }

    #[test]
    fn canonical_values_are_read_as_the_strict_parser_reads_them() {
        let values = [
            json!({}),
            json!([]),
            json!({"a": [], "b": {}, "c": [[[]]], "d": null, "e": true, "f": false}),
            json!([0, -1, 1, 9007199254740991i64, -9007199254740991i64, 0.5, -0.25, 1e-7, 123456.789, 1.5e-300]),
            json!("Ķieģeļu mūris \"A\" <vecais> \\ / \u{1f600} \u{7f} \u{0} \u{1f} \u{8}\t\n\u{c}\r end"),
            json!({"\u{fb33}": 1, "\u{1f600}": 2, "a": 3, "a\u{0}": 4, "": 5, "\n": 6}),
        ];
        for value in values {
            let bytes = value_to_canonical_bytes(&value);
            assert_eq!(read(&bytes), Some(value.clone()), "{}", String::from_utf8_lossy(&bytes));
            assert!(skips(&bytes), "{}", String::from_utf8_lossy(&bytes));
            assert_eq!(parse_strict(&bytes).ok(), Some(value));
        }
        // Floats with integral values are spelled as integers, and read back as
        // the strict parser reads that spelling: as integers.
        let bytes = value_to_canonical_bytes(&json!([0.0, -2.0, 1e15]));
        assert_eq!(bytes, b"[0,-2,1000000000000000]");
        assert_eq!(read(&bytes), Some(json!([0, -2, 1_000_000_000_000_000u64])));
        assert_eq!(read(&bytes), parse_strict(&bytes).ok());
    }

    #[test]
    fn other_spellings_are_not_read() {
        // Each is valid JSON (or refused by the strict parser), but not the way JCS
        // writes its value: the cursor leaves it to the strict parser.
        for text in [
            " 1",
            "1 ",
            "{\"a\": 1}",
            "[1, 2]",
            "1.0",
            "1E0",
            "1e0",
            "10e-1",
            "0.50",
            "-0",
            "01",
            "+1",
            "9007199254740992",
            "1e300",
            "\"\\/\"",
            "\"\\u0020\"",
            "\"\\u000A\"",
            "\"\\u000a\"",
            "\"\\u001F\"",
            "\"\u{1}\"",
            "{\"b\":1,\"a\":2}",
            "{\"a\":1,\"a\":1}",
            "{\"\u{fb33}\":1,\"\u{1f600}\":2}",
            "tru",
            "nul",
            "[1,]",
            "{\"a\":1,}",
            "\"open",
        ] {
            assert_eq!(read(text.as_bytes()), None, "{text}");
            assert!(!skips(text.as_bytes()), "{text}");
        }
        assert_eq!(read(&[b'"', 0xff, b'"']), None);
        assert!(!skips(&[b'"', 0xff, b'"']));
    }

    #[test]
    fn a_cursor_reads_hex_of_the_exact_length_or_nothing() {
        let mut short = Cursor::new(b"abc").unwrap();
        assert_eq!(short.hex::<2>(), None);
        assert_eq!(short.position(), 0, "a failed read consumes nothing");
    }

    /// Values the ledger can hold (numbers within ±(2^53−1)), with strings and
    /// keys full of what JCS escapes or sorts by UTF-16: shared by the tests
    /// of everything that reads canonical bytes.
    pub(crate) fn safe_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-(MAX_SAFE_INTEGER as i64)..=MAX_SAFE_INTEGER as i64).prop_map(Value::from),
            (-1e15f64..1e15).prop_map(Value::from),
            "[a-z\u{0}-\u{1f}\"\\\\/\u{e9}\u{fb33}\u{1f600}]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-c\u{fb33}\u{1f600}]{0,3}", inner, 0..5)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Every value the ledger can hold is read back from its canonical bytes as
        /// the strict parser reads them (a float with an integral value, spelled as
        /// an integer, comes back as the integer).
        #[test]
        fn canonical_bytes_read_back_as_the_strict_parser_reads_them(value in safe_value()) {
            let bytes = value_to_canonical_bytes(&value);
            let read = read(&bytes);
            prop_assert!(read.is_some());
            prop_assert!(skips(&bytes));
            prop_assert_eq!(read, parse_strict(&bytes).ok());
        }

        /// Whatever one changed byte makes of the text, the cursor reads a value
        /// only if the strict parser reads the same one and the text is its
        /// canonical encoding.
        #[test]
        fn whatever_the_cursor_reads_is_canonical(value in safe_value(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut bytes = value_to_canonical_bytes(&value);
            let at = at.index(bytes.len());
            bytes[at] = byte;
            // Skipping accepts exactly what reading does.
            prop_assert_eq!(skips(&bytes), read(&bytes).is_some());
            if let Some(read) = read(&bytes) {
                prop_assert_eq!(parse_strict(&bytes).ok(), Some(read.clone()));
                prop_assert_eq!(value_to_canonical_bytes(&read), bytes);
            }
        }
    }
}
