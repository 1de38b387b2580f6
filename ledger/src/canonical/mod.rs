//! Canonical JSON: strict parsing and RFC 8785 (JCS) encoding.
//!
//! Everything the ledger hashes or signs is the JCS encoding of a JSON value.
//! JCS is only unambiguous for JSON that every party reads the same way, so
//! input is parsed strictly: an object that repeats a key is refused (parsers
//! disagree on which copy wins), and so is any number outside ±(2^53−1), the
//! range in which every JSON implementation represents integers exactly.

pub(crate) mod decode;
mod encode;

pub(crate) use encode::{write_string, write_value};

use std::cell::Cell;
use std::fmt;

use serde::Serialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::refusal::{Refusal, RefusalCode};

/// The largest magnitude a number in signed data may have: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why JSON input was refused by the strict parser or the encoder.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// The bytes are not well-formed JSON (or not UTF-8).
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// An object repeats a key.
    #[error("duplicate object key: {0}")]
    DuplicateKey(String),
    /// A number lies outside ±(2^53−1).
    #[error("number out of range: {0}")]
    NumberOutOfRange(String),
}

impl From<CanonicalError> for Refusal {
    fn from(error: CanonicalError) -> Self {
        let code = match error {
            CanonicalError::Malformed(_) => RefusalCode::JsonMalformed,
            CanonicalError::DuplicateKey(_) => RefusalCode::JsonDuplicateKey,
            CanonicalError::NumberOutOfRange(_) => RefusalCode::JsonNumberOutOfRange,
        };
        Refusal::new(code, error.to_string())
    }
}

/// Parses JSON bytes strictly: duplicate keys and out-of-range numbers are refused.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, CanonicalError> {
    let problem = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictSeed { problem: &problem }.deserialize(&mut deserializer);
    let value = match parsed {
        Ok(value) => value,
        Err(error) => {
            // The visitor notes which strictness rule failed, so the caller gets a
            // precise code; serde_json supplies the line and column.
            return Err(match problem.take() {
                Some(Problem::DuplicateKey) => CanonicalError::DuplicateKey(error.to_string()),
                Some(Problem::OutOfRange) => CanonicalError::NumberOutOfRange(error.to_string()),
                None => CanonicalError::Malformed(error.to_string()),
            });
        }
    };
    deserializer.end().map_err(|error| CanonicalError::Malformed(error.to_string()))?;
    Ok(value)
}

/// Whether `bytes` are exactly the canonical (JCS) encoding of one JSON value
/// the ledger can hold: what the strict parser would accept, spelled the one
/// way the ledger writes it. Checked without building the value.
pub fn is_canonical(bytes: &[u8]) -> bool {
    decode::Cursor::new(bytes).is_some_and(|mut cursor| cursor.skip_value().is_some() && cursor.at_end())
}

/// Checks that every number in a value built in code lies within ±(2^53−1).
///
/// Values parsed by [`parse_strict`] already satisfy this; values built by a
/// program (a CLI composing a statement) are checked before they are signed.
pub fn check_numbers(value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Number(number) => check_number(number).map_err(CanonicalError::NumberOutOfRange),
        Value::Array(items) => items.iter().try_for_each(check_numbers),
        Value::Object(map) => map.values().try_for_each(check_numbers),
        _ => Ok(()),
    }
}

/// Makes every float with an integral value within ±(2^53−1) the integer it is, in place.
///
/// The canonical encoding writes such a float as an integer (`182.0` as `182`), and whoever
/// reads the canonical bytes back (the canonical reader, the strict parser, a replay of the log)
/// gets an integer. A tree spelled `182.0` would otherwise differ from the tree its own hashed
/// and signed bytes give: integer fields (`u64` in a body) would refuse it where the canonical
/// spelling of the same statement passes.
pub(crate) fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(integer) = integral(number) {
                *number = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// The RFC 8785 canonical bytes of a JSON value.
pub fn value_to_canonical_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    encode::write_value(value, &mut out);
    out
}

/// The RFC 8785 canonical bytes of any serialisable value.
pub fn to_canonical_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    // INVARIANT: serialisation can only fail on non-finite floats or maps with
    // non-string keys. Our types hold neither (serde_json::Value cannot hold NaN),
    // so an error here is a programming error, not bad input.
    match serde_json::to_value(value) {
        Ok(value) => value_to_canonical_bytes(&value),
        Err(error) => unreachable!("canonical encoding of a ledger value failed: {error}"),
    }
}

#[derive(Debug, Clone, Copy)]
enum Problem {
    DuplicateKey,
    OutOfRange,
}

fn check_number(number: &Number) -> Result<(), String> {
    let within = if let Some(n) = number.as_u64() {
        n <= MAX_SAFE_INTEGER
    } else if let Some(n) = number.as_i64() {
        n.unsigned_abs() <= MAX_SAFE_INTEGER
    } else {
        number.as_f64().is_some_and(|n| n.abs() <= MAX_SAFE_INTEGER as f64)
    };
    if within { Ok(()) } else { Err(format!("{number} is outside ±(2^53−1)")) }
}

/// The integer a float stands for, if it is one within ±(2^53−1) (so the cast is exact); `-0.0`
/// is `0`, as JCS writes it.
fn integral(number: &Number) -> Option<Number> {
    let float = number.as_f64().filter(|_| number.is_f64())?;
    if float.fract() != 0.0 || float.abs() > MAX_SAFE_INTEGER as f64 {
        return None;
    }
    Some(if float >= 0.0 { Number::from(float as u64) } else { Number::from(float as i64) })
}

struct StrictSeed<'a> {
    problem: &'a Cell<Option<Problem>>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor { problem: self.problem })
    }
}

struct StrictVisitor<'a> {
    problem: &'a Cell<Option<Problem>>,
}

impl StrictVisitor<'_> {
    fn number<E: de::Error>(&self, number: Number) -> Result<Value, E> {
        match check_number(&number) {
            Ok(()) => Ok(Value::Number(number)),
            Err(message) => {
                self.problem.set(Some(Problem::OutOfRange));
                Err(E::custom(message))
            }
        }
    }
}

impl<'de> Visitor<'de> for StrictVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.number(Number::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.number(Number::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        match Number::from_f64(v) {
            Some(number) => self.number(number),
            None => Err(E::custom("a number that is not finite")),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed { problem: self.problem })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                self.problem.set(Some(Problem::DuplicateKey));
                return Err(de::Error::custom(format!("key {key:?} appears twice in one object")));
            }
            let value = map.next_value_seed(StrictSeed { problem: self.problem })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        for text in [r#"{"a":1,"a":2}"#, r#"{"x":[{"b":true,"b":true}]}"#, r#"{"o":{"k":"1","k":"1"}}"#] {
            assert!(matches!(parse_strict(text.as_bytes()), Err(CanonicalError::DuplicateKey(_))), "{text}");
        }
    }

    #[test]
    fn numbers_beyond_two_to_the_53_are_refused() {
        assert!(parse_strict(b"9007199254740991").is_ok());
        assert!(parse_strict(b"-9007199254740991").is_ok());
        for text in ["9007199254740992", "-9007199254740992", "18446744073709551616", "1e300", "[1,{\"m\":9.1e15}]"] {
            assert!(matches!(parse_strict(text.as_bytes()), Err(CanonicalError::NumberOutOfRange(_))), "{text}");
        }
        assert!(check_numbers(&json!({"a": [1, 2, 9007199254740992u64]})).is_err());
        assert!(check_numbers(&json!({"a": [1.5, -3]})).is_ok());
    }

    #[test]
    fn malformed_input_is_refused_with_a_location() {
        for text in ["{", "{\"a\":1} trailing", "[1,]", "\u{0}", "{'a':1}"] {
            match parse_strict(text.as_bytes()) {
                Err(CanonicalError::Malformed(message)) => assert!(message.contains("line"), "{message}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(parse_strict(&[0xff, 0xfe]), Err(CanonicalError::Malformed(_))));
    }

    /// Known answers from RFC 8785 §3.2.2 and appendix B (number formatting and key order).
    #[test]
    fn canonical_encoding_follows_rfc_8785() {
        let value = parse_strict(
            br#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
                 "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                 "literals": [null, true, false]}"#,
        );
        // 1E30 is outside the safe range, so the RFC's sample is refused as a whole...
        assert!(matches!(value, Err(CanonicalError::NumberOutOfRange(_))));
        // ...and the rest of it encodes exactly as the RFC shows.
        let value = parse_strict(
            br#"{"numbers": [333333333.33333329, 4.50, 2e-3, 0.000000000000000000000000001],
                 "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                 "literals": [null, true, false]}"#,
        )
        .unwrap();
        let expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,4.5,0.002,1e-27],\
                        \"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        assert_eq!(String::from_utf8(to_canonical_bytes(&value)).unwrap(), expected);
        // Keys sort by UTF-16 code units, not by UTF-8 bytes (RFC 8785 §3.2.3): U+1F600
        // is the surrogate pair D83D DE00, which sorts before U+FB33, although its
        // UTF-8 bytes (F0…) sort after those of U+FB33 (EF…).
        let value = parse_strict("{\"\u{fb33}\":1,\"\u{1f600}\":2,\"a\":3}".as_bytes()).unwrap();
        assert_eq!(String::from_utf8(to_canonical_bytes(&value)).unwrap(), "{\"a\":3,\"\u{1f600}\":2,\"\u{fb33}\":1}");
    }
}
