//! Lowercase hex, the one hex spelling of the wire format: keys, signatures, entry and ledger
//! ids, leaf hashes and chain links are all written and read here.
//!
//! The wire format (`docs/format.md`) allows exactly `2 * N` lowercase digits for `N` bytes, so
//! that every value has one spelling and signed bytes never depend on how a writer chose to
//! case its digits. Everything in the ledger that writes or reads that hex goes through this
//! module, so one place decides what it looks like. (Other hex the ledger meets is not this
//! one: EPC tag URIs are uppercase and nibble-based, see `ident::epc`, and signed-note key IDs
//! follow the note tooling, see `checkpoint`.)

/// The lowercase hex digits, by value. JCS's `\u00xx` string escapes use the same digits
/// (`canonical`'s encoder writes them from here).
pub(crate) const LOWER_HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Why hex text was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// The text has the wrong number of digits.
    #[error("expected {expected} hex digits, found {found}")]
    Length {
        /// Digits expected.
        expected: usize,
        /// Digits found.
        found: usize,
    },
    /// The text has a character that is not a lowercase hex digit.
    #[error("{0:?} is not lowercase hex")]
    NotLowerHex(String),
}

/// Parses exactly `2 * N` lowercase hex digits: the only hex the wire format allows.
pub fn parse_lower_hex<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    if text.len() != 2 * N {
        return Err(HexError::Length { expected: 2 * N, found: text.len() });
    }
    decode_lower_hex(text.as_bytes()).ok_or_else(|| HexError::NotLowerHex(text.to_owned()))
}

/// `bytes` as lowercase hex, the wire form of keys, signatures and hashes.
pub fn to_lower_hex(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut text = String::with_capacity(2 * bytes.len());
    for &byte in bytes {
        text.push(char::from(LOWER_HEX_DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(LOWER_HEX_DIGITS[usize::from(byte & 0xf)]));
    }
    text
}

/// Appends `bytes` as lowercase hex to `out`, for the encoders that build canonical bytes in
/// place: every record's key, signature and chain link is written this way on every node, so
/// no `String` is built per value (`hex::encode` builds one a `char` at a time).
pub(crate) fn write_lower_hex(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(2 * bytes.len());
    for &byte in bytes {
        out.push(LOWER_HEX_DIGITS[usize::from(byte >> 4)]);
        out.push(LOWER_HEX_DIGITS[usize::from(byte & 0xf)]);
    }
}

/// Exactly `2 * N` lowercase hex digits decoded, in one pass; `None` for any other length or
/// digit. [`parse_lower_hex`] without the reason, for readers of canonical bytes that leave
/// the reason to the strict parser.
pub(crate) fn decode_lower_hex<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let &[high, low] = pair else { return None };
        *byte = (lower_hex_digit(high)? << 4) | lower_hex_digit(low)?;
    }
    Some(bytes)
}

/// The value of one lowercase hex digit.
fn lower_hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hex_is_read_only_as_lower_case_digits_of_the_exact_length() {
        assert_eq!(decode_lower_hex::<2>(b"00ff"), Some([0x00, 0xff]));
        assert_eq!(decode_lower_hex::<2>(b"a0b1"), Some([0xa0, 0xb1]));
        for text in ["0A0b", "0g00", "+123", "12 3", "123", "12345", ""] {
            assert_eq!(decode_lower_hex::<2>(text.as_bytes()), None, "{text}");
        }
    }

    proptest! {
        #[test]
        fn written_lower_hex_is_the_hex_crates(bytes in proptest::collection::vec(any::<u8>(), 0..80), prefix in "[a-z]{0,3}") {
            let mut out = prefix.clone().into_bytes();
            write_lower_hex(&bytes, &mut out);
            prop_assert_eq!(String::from_utf8(out).expect("hex is ASCII"), format!("{prefix}{}", ::hex::encode(&bytes)));
            prop_assert_eq!(to_lower_hex(&bytes), ::hex::encode(&bytes));
        }

        /// The hex digits are those the `hex` crate decodes, in lower case only.
        #[test]
        fn read_lower_hex_is_the_hex_crates(text in "[0-9a-fA-Fg ]{0,6}") {
            let mut expected = [0u8; 2];
            let lower = text.len() == 4 && !text.bytes().any(|b| b.is_ascii_uppercase());
            let expected = (lower && ::hex::decode_to_slice(&text, &mut expected).is_ok()).then_some(expected);
            prop_assert_eq!(decode_lower_hex::<2>(text.as_bytes()), expected);
            prop_assert_eq!(parse_lower_hex::<2>(&text).ok(), expected);
        }
    }
}
