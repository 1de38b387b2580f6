//! Tests of the EPC module: public examples, every partition and filter value
//! of every scheme, limits, every refusal, and properties.
//!
//! Expected binary encodings are built here independently of the module's
//! bit writer, as strings of '0' and '1' from the TDS coding tables.

mod examples;
mod gs1_keys;
mod partitions;
mod properties;
mod refusals;

use super::{EpcScheme, Filter, PureIdentity, TagEncoding};

/// (company prefix bits, other field bits) per partition value 0..=6 (TDS
/// §14.5 partition tables), restated for the oracle.
pub(super) fn widths(scheme: EpcScheme) -> [(u32, u32); 7] {
    let prefix = [40, 37, 34, 30, 27, 24, 20];
    let other: [u32; 7] = match scheme {
        EpcScheme::Sgtin96 | EpcScheme::Grai96 => [4, 7, 10, 14, 17, 20, 24],
        EpcScheme::Sgln96 => [1, 4, 7, 11, 14, 17, 21],
        EpcScheme::Giai96 => [42, 45, 48, 52, 55, 58, 62],
        EpcScheme::Giai202 => [148, 151, 154, 158, 161, 164, 168],
    };
    std::array::from_fn(|p| (prefix[p], other[p]))
}

/// A number as a bit string of `width` bits.
pub(super) fn number_bits(value: u64, width: u32) -> String {
    (0..width).rev().map(|shift| if shift < 64 && (value >> shift) & 1 == 1 { '1' } else { '0' }).collect()
}

/// A string as 7-bit codes padded with zeros to `width` bits.
pub(super) fn string_bits(text: &str, width: u32) -> String {
    let mut bits: String = text.bytes().map(|b| number_bits(u64::from(b), 7)).collect();
    while bits.len() < width as usize {
        bits.push('0');
    }
    bits
}

/// A bit string padded with zeros to whole 16-bit words, in uppercase hex.
pub(super) fn bits_to_hex(bits: &str) -> String {
    let mut bits = bits.to_owned();
    while !bits.len().is_multiple_of(16) {
        bits.push('0');
    }
    bits.as_bytes()
        .chunks(4)
        .map(|nibble| {
            let value = nibble.iter().fold(0u32, |v, b| v * 2 + u32::from(*b - b'0'));
            char::from_digit(value, 16).unwrap().to_ascii_uppercase()
        })
        .collect()
}

/// The expected hex of a tag encoding of the given fields, per the TDS coding
/// table: header, filter, partition, company prefix, then the rest as given.
pub(super) fn expected_hex(scheme: EpcScheme, filter: u8, prefix: &str, rest: &str) -> String {
    let partition = 12 - prefix.len();
    let (prefix_bits, _) = widths(scheme)[partition];
    let mut bits = number_bits(u64::from(scheme.header()), 8);
    bits += &number_bits(u64::from(filter), 3);
    bits += &number_bits(partition as u64, 3);
    bits += &number_bits(prefix.parse().unwrap(), prefix_bits);
    bits += rest;
    assert_eq!(bits.len(), scheme.bit_length(), "oracle layout of {scheme}");
    bits_to_hex(&bits)
}

/// Formats AI pairs as a GS1 element string, "(AI)value(AI)value…".
pub(super) fn element_string(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(ai, value)| format!("({ai}){value}")).collect()
}

/// Asserts every round trip a tag encoding must survive, and returns its hex.
pub(super) fn assert_round_trips(tag: &TagEncoding) -> String {
    let hex = tag.to_hex();
    assert_eq!(hex.len(), tag.scheme().hex_length(), "{tag}");
    assert!(hex.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()), "{hex}");
    assert_eq!(&TagEncoding::from_hex(&hex).unwrap(), tag, "hex {hex}");
    assert_eq!(&TagEncoding::from_hex(&hex.to_lowercase()).unwrap(), tag, "lowercase hex {hex}");
    let tag_uri = tag.to_tag_uri();
    assert_eq!(&TagEncoding::from_tag_uri(&tag_uri).unwrap(), tag, "{tag_uri}");
    assert_eq!(&tag_uri.parse::<TagEncoding>().unwrap(), tag);
    let pure = tag.to_pure_uri();
    assert_eq!(&PureIdentity::parse(&pure).unwrap(), tag.identity(), "{pure}");
    let prefix_len = tag.identity().company_prefix().digits();
    let from_keys = PureIdentity::from_ai_pairs(&tag.to_ai_pairs(), prefix_len).unwrap();
    assert_eq!(&from_keys, tag.identity(), "AI pairs of {pure}");
    let again = TagEncoding::new(tag.scheme(), tag.filter(), from_keys).unwrap();
    assert_eq!(again.to_hex(), hex);
    hex
}

/// A filter value known to be valid.
pub(super) fn filter(value: u8) -> Filter {
    Filter::new(value).unwrap()
}
