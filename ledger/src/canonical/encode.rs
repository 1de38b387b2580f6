//! The RFC 8785 (JCS) encoder.
//!
//! Every entry id, leaf hash and signature covers these bytes, so the encoder
//! is on the path of every submission. It writes a [`Value`] directly: keys in
//! UTF-16 code-unit order, numbers as ECMAScript prints them, strings with
//! JSON's minimal escapes, no whitespace. It is checked against the reference
//! implementation's test vectors and, on random values, against an independent
//! implementation (`serde_json_canonicalizer`) in this module's tests.

use serde_json::{Map, Number, Value};

use crate::hex::LOWER_HEX_DIGITS as HEX;

/// Appends the canonical encoding of `value` to `out`.
pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(number, out),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, out),
    }
}

/// Appends a string in JSON's minimal escaping, which is JCS's (RFC 8785 §3.2.2.2):
/// `"` and `\` escaped, the short escapes for the five control characters that
/// have one, `\u00xx` in lower case for the other controls, everything else as is.
pub(crate) fn write_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut clean_from = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => &[b'\\', b'u', b'0', b'0', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]],
            _ => continue,
        };
        out.extend_from_slice(&bytes[clean_from..at]);
        out.extend_from_slice(escape);
        clean_from = at + 1;
    }
    out.extend_from_slice(&bytes[clean_from..]);
    out.push(b'"');
}

fn write_object(map: &Map<String, Value>, out: &mut Vec<u8>) {
    out.push(b'{');
    // INVARIANT: serde_json's map iterates in UTF-8 byte order (a BTreeMap;
    // serde_json's `preserve_order` is off, which a test checks). That is
    // UTF-16 code-unit order unless a key holds a character at or above U+E000
    // (UTF-8 lead byte 0xEE or more): such a character sorts after the
    // surrogate pairs of U+10000 and above in UTF-16, but before them in UTF-8.
    let needs_utf16_sort = map.keys().any(|key| key.bytes().any(|byte| byte >= 0xee));
    if needs_utf16_sort {
        let mut members: Vec<(&String, &Value)> = map.iter().collect();
        members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
        write_members(members.into_iter(), out);
    } else {
        write_members(map.iter(), out);
    }
    out.push(b'}');
}

fn write_members<'a>(members: impl Iterator<Item = (&'a String, &'a Value)>, out: &mut Vec<u8>) {
    for (index, (key, value)) in members.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_string(key, out);
        out.push(b':');
        write_value(value, out);
    }
}

/// Appends a number as ECMAScript's `Number.prototype.toString` prints it
/// (RFC 8785 §3.2.2.3). Integers print as themselves; other numbers as the
/// shortest decimal that reads back to the same double, in ECMAScript's layout.
fn write_number(number: &Number, out: &mut Vec<u8>) {
    if let Some(n) = number.as_u64() {
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    } else if let Some(n) = number.as_i64() {
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    } else if let Some(n) = number.as_f64() {
        // serde_json's Value holds only finite doubles, and ryu-js prints any
        // finite double (including -0 as `0`) as ECMAScript does.
        out.extend_from_slice(ryu_js::Buffer::new().format_finite(n).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(value: &Value) -> String {
        let mut out = Vec::new();
        write_value(value, &mut out);
        String::from_utf8(out).expect("the encoder writes UTF-8")
    }

    /// `write_object` relies on serde_json's map iterating in UTF-8 byte order;
    /// this fails if a dependency ever turns on serde_json's `preserve_order`.
    #[test]
    fn serde_json_maps_iterate_in_byte_order() {
        let map: Map<String, Value> =
            [("b", 1), ("a", 2), ("é", 3), ("B", 4)].into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
        assert_eq!(map.keys().map(String::as_str).collect::<Vec<_>>(), ["B", "a", "b", "é"]);
    }

    /// The reference implementation's test vectors (cyberphone/json-canonicalization
    /// `testdata`, as RFC 8785 cites it), copied into `tests/data/jcs/`.
    #[test]
    fn reference_vectors_encode_exactly() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jcs");
        let mut checked = 0;
        for name in ["arrays", "french", "structures", "unicode", "values", "weird"] {
            let input = std::fs::read(dir.join(format!("input/{name}.json"))).expect("vector input");
            let expected = std::fs::read_to_string(dir.join(format!("output/{name}.json"))).expect("vector output");
            let value: Value = serde_json::from_slice(&input).expect("vector parses");
            assert_eq!(encode(&value), expected, "vector {name}");
            checked += 1;
        }
        assert_eq!(checked, 6);
    }

    #[test]
    fn numbers_print_as_ecmascript_does() {
        for (input, expected) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1.0", "1"),
            ("4.50", "4.5"),
            ("-17", "-17"),
            ("9007199254740991", "9007199254740991"),
            ("-9007199254740991", "-9007199254740991"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("333333333.33333329", "333333333.3333333"),
        ] {
            let value: Value = serde_json::from_str(input).expect("number parses");
            assert_eq!(encode(&value), expected, "{input}");
        }
    }

    #[test]
    fn every_control_character_is_escaped_and_nothing_else() {
        let text: String = (0u32..0x80).filter_map(char::from_u32).chain(['\u{2028}', '€', '\u{1f600}']).collect();
        let encoded = encode(&Value::String(text.clone()));
        assert_eq!(encoded.as_bytes(), serde_json_canonicalizer::to_vec(&text).expect("reference encodes"));
        assert!(
            encoded.contains("\\u001f")
                && encoded.contains("\\b")
                && encoded.contains('\u{7f}')
                && encoded.contains('/')
        );
    }

    fn arbitrary_value() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            "[a-z]{0,6}",
            any::<String>(),
            prop::sample::select(vec![
                "\u{fb33}".to_owned(),
                "\u{1f600}".to_owned(),
                "\u{e000}x".to_owned(),
                "é".to_owned()
            ]),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-(1i64 << 53)..(1i64 << 53)).prop_map(Value::from),
            any::<f64>().prop_filter("finite", |n| n.is_finite()).prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(key.clone(), inner, 0..8)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn agrees_with_an_independent_implementation(value in arbitrary_value()) {
            let reference = serde_json_canonicalizer::to_vec(&value).expect("reference encodes");
            let mut ours = Vec::new();
            write_value(&value, &mut ours);
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&reference));
        }
    }
}
