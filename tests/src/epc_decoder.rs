//! An independent decoder of the binary GIAI EPCs an RFID reader reports, written
//! from the GS1 EPC Tag Data Standard (TDS; section numbers as in TDS 1.x–2.x)
//! and sharing nothing with `salvage_ledger::ident`, so that a test holding the
//! ledger's encoder against it catches a mistake in either.
//!
//! What it implements, and where the TDS says it:
//! - the headers (§14.2): `0x34` GIAI-96, `0x38` GIAI-202; nothing else;
//! - the GIAI-96 layout (§14.5.5.1): header (8 bits), filter (3), partition (3),
//!   company prefix (M bits), individual asset reference (N bits), 96 bits in all;
//!   the prefix decoded to exactly L digits, the asset reference as an integer
//!   in decimal without leading zeros (the "Unpadded Partition Table" method of
//!   §14.4);
//! - the GIAI-202 layout (§14.5.5.2): the same fields, 202 bits in all, the asset
//!   reference as 7-bit characters up to the first all-zero one, every bit after
//!   it zero (the "String Partition Table" method of §14.4);
//! - both partition tables (the same sections): partition 0 for a 12-digit
//!   company prefix through 6 for a 6-digit one;
//! - the EPC memory bank's whole 16-bit words (§15.1): a GIAI-202 is read as 52
//!   hexadecimal digits whose last 6 bits are zero padding;
//! - GS1 AI encodable character set 82 and the characters an EPC URI writes as
//!   %-escapes (Appendix A, Table A-1), for the tag URI (§12) and the pure
//!   identity URI (§6.3.5).
//!
//! A GIAI (AI 8004) is the company prefix followed by the asset reference, at
//! most 30 characters: a GIAI-202 with more characters than its partition
//! leaves (K) is refused.

use std::fmt;

/// A binary GIAI scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// GIAI-96 (header `0x34`): a numeric asset reference of N bits.
    Giai96,
    /// GIAI-202 (header `0x38`): an asset reference of 7-bit characters.
    Giai202,
}

impl Scheme {
    /// The scheme's name in an EPC tag URI.
    pub fn uri_name(self) -> &'static str {
        match self {
            Scheme::Giai96 => "giai-96",
            Scheme::Giai202 => "giai-202",
        }
    }

    /// The number of hexadecimal digits a reader reports for it: 96 bits, or
    /// 202 bits padded to whole 16-bit words (208).
    pub fn hex_digits(self) -> usize {
        match self {
            Scheme::Giai96 => 24,
            Scheme::Giai202 => 52,
        }
    }
}

/// A decoded GIAI EPC, every field as the TDS names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedGiai {
    /// The binary scheme the header names.
    pub scheme: Scheme,
    /// The filter value, 0 to 7.
    pub filter: u8,
    /// The partition value, 0 to 6.
    pub partition: u8,
    /// The GS1 company prefix, 6 to 12 digits.
    pub company_prefix: String,
    /// The individual asset reference, unescaped.
    pub asset_reference: String,
}

impl DecodedGiai {
    /// The GIAI (AI 8004): company prefix and asset reference together.
    pub fn giai(&self) -> String {
        format!("{}{}", self.company_prefix, self.asset_reference)
    }

    /// The EPC tag URI, e.g. `urn:epc:tag:giai-96:3.0614141.5678`.
    pub fn tag_uri(&self) -> String {
        let reference = uri_escaped(&self.asset_reference);
        format!("urn:epc:tag:{}:{}.{}.{reference}", self.scheme.uri_name(), self.filter, self.company_prefix)
    }

    /// The pure identity URI, e.g. `urn:epc:id:giai:0614141.5678`.
    pub fn pure_uri(&self) -> String {
        format!("urn:epc:id:giai:{}.{}", self.company_prefix, uri_escaped(&self.asset_reference))
    }
}

/// Why a hexadecimal EPC is not a GIAI-96 or GIAI-202.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A character that is not a hexadecimal digit.
    #[error("{character:?} at position {position} is not a hexadecimal digit")]
    NotHex {
        /// Its 1-based position.
        position: usize,
        /// The character.
        character: char,
    },
    /// The first byte is not a GIAI header (or there is no first byte).
    #[error("header {0:?} is neither GIAI-96 (34) nor GIAI-202 (38)")]
    Header(String),
    /// The number of digits is not the scheme's.
    #[error("{scheme:?} takes {expected} hexadecimal digits, not {found}")]
    Length {
        /// The scheme the header names.
        scheme: Scheme,
        /// Its number of digits.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// Partition value 7, which neither table has.
    #[error("partition value 7 is in no partition table")]
    Partition,
    /// The company prefix field holds a number with more than L digits.
    #[error("the company prefix field holds {value}, more than {digits} digits")]
    CompanyPrefix {
        /// The number in the field.
        value: u64,
        /// L, the digits of the partition.
        digits: usize,
    },
    /// A 7-bit character outside GS1 character set 82.
    #[error("asset reference character {position} is 0x{code:02X}, outside GS1 character set 82")]
    Character {
        /// Its 1-based position.
        position: usize,
        /// The 7-bit code.
        code: u8,
    },
    /// A non-zero bit after the asset reference's terminating zero character.
    #[error("the asset reference field has non-zero bits after its end")]
    AfterEnd,
    /// The GIAI-202 asset reference has no character.
    #[error("the asset reference is empty")]
    Empty,
    /// More characters than the partition leaves (K).
    #[error("the asset reference has {found} characters; a {prefix_digits}-digit prefix leaves {max}")]
    TooLong {
        /// Its number of characters.
        found: usize,
        /// K.
        max: usize,
        /// L.
        prefix_digits: usize,
    },
    /// A non-zero bit in the padding after bit 202.
    #[error("the padding after the 202 bits of GIAI-202 is not zero")]
    Padding,
}

/// Decodes a GIAI-96 or GIAI-202 from hexadecimal of either case.
pub fn decode(hex: &str) -> Result<DecodedGiai, DecodeError> {
    let mut bits = Bits::from_hex(hex)?;
    let header = hex.get(..2).unwrap_or(hex);
    let scheme = match header.to_ascii_uppercase().as_str() {
        "34" => Scheme::Giai96,
        "38" => Scheme::Giai202,
        _ => return Err(DecodeError::Header(header.to_owned())),
    };
    let found = hex.chars().count();
    if found != scheme.hex_digits() {
        return Err(DecodeError::Length { scheme, expected: scheme.hex_digits(), found });
    }
    bits.take(8);
    // 3 bits hold at most 7: the casts cannot truncate.
    let filter = bits.take(3) as u8;
    let partition = bits.take(3) as u8;
    let row = Row::of(scheme, partition).ok_or(DecodeError::Partition)?;
    let prefix = bits.take(row.prefix_bits);
    if prefix >= 10u64.pow(row.prefix_digits as u32) {
        return Err(DecodeError::CompanyPrefix { value: prefix, digits: row.prefix_digits });
    }
    let company_prefix = format!("{prefix:0width$}", width = row.prefix_digits);
    let asset_reference = match scheme {
        // N is at most 62 bits, below 10^K for every row, so the TDS's
        // "fewer than K digits" check cannot fail and is left out.
        Scheme::Giai96 => bits.take(row.reference_bits).to_string(),
        Scheme::Giai202 => {
            let reference = characters(&mut bits, row.reference_bits)?;
            if reference.len() > row.reference_max {
                let (found, max, prefix_digits) = (reference.len(), row.reference_max, row.prefix_digits);
                return Err(DecodeError::TooLong { found, max, prefix_digits });
            }
            if bits.take(6) != 0 {
                return Err(DecodeError::Padding);
            }
            reference
        }
    };
    Ok(DecodedGiai { scheme, filter, partition, company_prefix, asset_reference })
}

/// Whether `c` is in GS1 AI encodable character set 82 (TDS Table A-1).
pub fn is_cset82(c: char) -> bool {
    matches!(c, '!' | '"' | '%'..='?' | 'A'..='Z' | '_' | 'a'..='z')
}

/// `text` as an EPC URI writes it: the seven characters of set 82 that a URI
/// reserves as %-escapes (TDS Table A-1), the rest as they are.
pub fn uri_escaped(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '%' | '&' | '/' | '<' | '>' | '?' => format!("%{:02X}", u32::from(c)),
            _ => c.to_string(),
        })
        .collect()
}

/// One row of a partition table: M, L, N and the most characters K (GIAI-202).
struct Row {
    prefix_bits: u32,
    prefix_digits: usize,
    reference_bits: u32,
    reference_max: usize,
}

impl Row {
    /// The row of a partition value; partition 0 is a 12-digit prefix.
    fn of(scheme: Scheme, partition: u8) -> Option<Row> {
        // (M, L) are the same in both tables; N differs: M + N is 82 bits in
        // GIAI-96 and 188 in GIAI-202. K (GIAI-202) is 30 - L.
        const PREFIX: [(u32, usize); 7] = [(40, 12), (37, 11), (34, 10), (30, 9), (27, 8), (24, 7), (20, 6)];
        const GIAI_96_N: [u32; 7] = [42, 45, 48, 52, 55, 58, 62];
        const GIAI_202_N: [u32; 7] = [148, 151, 154, 158, 161, 164, 168];
        const GIAI_202_K: [usize; 7] = [18, 19, 20, 21, 22, 23, 24];
        let index = usize::from(partition);
        let (prefix_bits, prefix_digits) = *PREFIX.get(index)?;
        let (reference_bits, reference_max) = match scheme {
            Scheme::Giai96 => (*GIAI_96_N.get(index)?, 0),
            Scheme::Giai202 => (*GIAI_202_N.get(index)?, *GIAI_202_K.get(index)?),
        };
        Some(Row { prefix_bits, prefix_digits, reference_bits, reference_max })
    }
}

/// Reads the 7-bit characters of an `n`-bit string field: up to the first
/// all-zero character, after which every bit of the field must be zero.
fn characters(bits: &mut Bits, n: u32) -> Result<String, DecodeError> {
    let mut text = String::new();
    let mut left = n;
    while left >= 7 {
        left -= 7;
        // 7 bits hold at most 127: the cast cannot truncate.
        let code = bits.take(7) as u8;
        if code == 0 {
            break;
        }
        let character = char::from(code);
        if !is_cset82(character) {
            return Err(DecodeError::Character { position: text.len() + 1, code });
        }
        text.push(character);
    }
    while left > 0 {
        let step = left.min(32);
        left -= step;
        if bits.take(step) != 0 {
            return Err(DecodeError::AfterEnd);
        }
    }
    if text.is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(text)
}

/// A string of bits, most significant first, read from the front.
struct Bits {
    bits: Vec<bool>,
    next: usize,
}

impl Bits {
    fn from_hex(hex: &str) -> Result<Bits, DecodeError> {
        let mut bits = Vec::with_capacity(hex.len() * 4);
        for (index, character) in hex.chars().enumerate() {
            let digit = character.to_digit(16).ok_or(DecodeError::NotHex { position: index + 1, character })?;
            bits.extend((0..4).rev().map(|shift| (digit >> shift) & 1 == 1));
        }
        Ok(Bits { bits, next: 0 })
    }

    /// The next `n` bits (at most 64) as an unsigned number; bits past the end
    /// read as zero, which the callers' length check rules out.
    fn take(&mut self, n: u32) -> u64 {
        let mut value = 0u64;
        for _ in 0..n.min(64) {
            value = (value << 1) | u64::from(self.bits.get(self.next).copied().unwrap_or(false));
            self.next += 1;
        }
        value
    }
}

impl fmt::Display for DecodedGiai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tag_uri())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    /// The TDS's own examples (GIAI-96 and GIAI-202, company prefix 0614141,
    /// filter 3), and published vectors of nedap/retail-epcpy, an independent
    /// implementation, which cover the 6-digit partition and the longest
    /// asset reference.
    const VECTORS: [(&str, &str); 6] = [
        ("3474257BF40000000000162E", "urn:epc:tag:giai-96:3.0614141.5678"),
        ("3874257BF59B2C2BF10000000000000000000000000000000000", "urn:epc:tag:giai-202:3.0614141.32a%2Fb"),
        ("3434257BF400000000BC6038", "urn:epc:tag:giai-96:1.0614141.12345400"),
        ("3834257BF58B266D1AB460C00000000000000000000000000000", "urn:epc:tag:giai-202:1.0614141.12345400"),
        ("38983BF8D831830B1AF880000000000000000000000000000000", "urn:epc:tag:giai-202:4.061411.01ABc%2FD"),
        (
            "38380C0E583164CDA356CDDC3960C593368D5B3770E583164CC0",
            "urn:epc:tag:giai-202:1.012345.012345678901234567890123",
        ),
    ];

    #[test]
    fn the_published_examples_decode_to_their_tag_uris() {
        for (hex, tag_uri) in VECTORS {
            assert_eq!(decode(hex).unwrap().tag_uri(), tag_uri, "{hex}");
            assert_eq!(decode(&hex.to_lowercase()).unwrap().tag_uri(), tag_uri, "{hex} in lower case");
        }
    }

    #[test]
    fn the_tds_examples_have_the_fields_the_standard_names() {
        let giai_96 = decode(VECTORS[0].0).unwrap();
        assert_eq!((giai_96.scheme, giai_96.filter, giai_96.partition), (Scheme::Giai96, 3, 5));
        assert_eq!(
            (giai_96.giai().as_str(), giai_96.pure_uri().as_str()),
            ("06141415678", "urn:epc:id:giai:0614141.5678")
        );
        let giai_202 = decode(VECTORS[1].0).unwrap();
        assert_eq!((giai_202.scheme, giai_202.filter, giai_202.partition), (Scheme::Giai202, 3, 5));
        assert_eq!(giai_202.giai(), "061414132a/b");
        assert_eq!(giai_202.pure_uri(), "urn:epc:id:giai:0614141.32a%2Fb");
        let six_digits = decode(VECTORS[4].0).unwrap();
        assert_eq!((six_digits.partition, six_digits.company_prefix.as_str()), (6, "061411"));
    }

    #[test]
    fn every_refusal_names_what_is_wrong() {
        let giai_202 = VECTORS[1].0;
        let with = |at: usize, digit: &str| format!("{}{digit}{}", &giai_202[..at], &giai_202[at + 1..]);
        let cases = [
            ("3474257BF40000000000162X".to_owned(), DecodeError::NotHex { position: 24, character: 'X' }),
            ("3074257BF7194E4000001A85".to_owned(), DecodeError::Header("30".to_owned())),
            (String::new(), DecodeError::Header(String::new())),
            (
                "3474257BF40000000000162".to_owned(),
                DecodeError::Length { scheme: Scheme::Giai96, expected: 24, found: 23 },
            ),
            (giai_202[..51].to_owned(), DecodeError::Length { scheme: Scheme::Giai202, expected: 52, found: 51 }),
            // Filter 3, partition 7.
            ("347E257BF40000000000162E".to_owned(), DecodeError::Partition),
            // Filter 1, partition 0: 40 bits of ones are 1099511627775, 13 digits.
            (
                "3423FFFFFFFFFC0000000000".to_owned(),
                DecodeError::CompanyPrefix { value: 1_099_511_627_775, digits: 12 },
            ),
            (with(51, "1"), DecodeError::Padding),
            (with(40, "1"), DecodeError::AfterEnd),
        ];
        for (hex, expected) in cases {
            assert_eq!(decode(&hex), Err(expected), "{hex}");
        }
    }

    /// A GIAI-202 in hex: filter 0, the partition for a prefix of `prefix_bits`
    /// bits (40 is partition 0, 24 partition 5), then the 7-bit `codes`.
    fn giai_202_hex(partition: u8, prefix: u64, prefix_bits: usize, codes: &[u8]) -> String {
        let mut bits = format!("00111000000{partition:03b}{prefix:0prefix_bits$b}");
        for code in codes {
            bits.push_str(&format!("{code:07b}"));
        }
        bits.push_str(&"0".repeat(208 - bits.len()));
        let nibble = |four: &[u8]| four.iter().fold(0u32, |value, bit| (value << 1) | u32::from(*bit == b'1'));
        bits.as_bytes().chunks(4).map(|four| format!("{:X}", nibble(four))).collect()
    }

    #[test]
    fn giai_202_characters_outside_set_82_empty_and_overlong_references_are_refused() {
        let seven_digits = |codes: &[u8]| decode(&giai_202_hex(5, 614_141, 24, codes));
        assert_eq!(seven_digits(b"AB").unwrap().giai(), "0614141AB");
        // '#' (0x23) is not in set 82.
        assert_eq!(seven_digits(b"A#"), Err(DecodeError::Character { position: 2, code: 0x23 }));
        assert_eq!(seven_digits(b""), Err(DecodeError::Empty));
        assert_eq!(seven_digits(&[b'A'; 23]).unwrap().asset_reference.len(), 23);
        // A 12-digit prefix leaves 148 bits, room for 21 characters, but a GIAI
        // has at most 30: K is 18.
        let twelve_digits = |codes: &[u8]| decode(&giai_202_hex(0, 614_141_000_000, 40, codes));
        assert_eq!(twelve_digits(&[b'A'; 18]).unwrap().giai().len(), 30);
        assert_eq!(twelve_digits(&[b'A'; 19]), Err(DecodeError::TooLong { found: 19, max: 18, prefix_digits: 12 }));
    }

    #[test]
    fn uris_escape_exactly_the_seven_reserved_characters() {
        assert_eq!(uri_escaped(r#"a"%&/<>?b!'()*+,-.:;=_"#), "a%22%25%26%2F%3C%3E%3Fb!'()*+,-.:;=_");
    }
}
