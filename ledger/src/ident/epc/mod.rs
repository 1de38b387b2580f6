//! Electronic Product Codes (EPC) for RFID tags, as the GS1 EPC Tag Data
//! Standard (TDS, release 2.x; section numbers below are those of TDS 1.x–2.x,
//! which kept them) defines them.
//!
//! An item carries the same identity in three forms:
//! - the *pure identity URI* (TDS §6), e.g. `urn:epc:id:giai:0614141.5678`,
//!   which names the thing and nothing else ([`PureIdentity`]);
//! - the *EPC tag URI* (TDS §12), e.g. `urn:epc:tag:giai-96:3.0614141.5678`,
//!   which adds the binary scheme and the filter value a tag carries
//!   ([`TagEncoding`]);
//! - the *binary encoding* in the tag's EPC memory bank (TDS §14), written and
//!   read here as hexadecimal, e.g. `3474257BF40000000000162E`.
//!
//! It also corresponds to GS1 keys as application identifier (AI) and value
//! pairs (TDS §7), e.g. `[("8004", "06141415678")]`, which another module turns
//! into element strings and Digital Link URIs.
//!
//! Supported: SGTIN, GRAI, GIAI and SGLN pure identities; the binary schemes
//! SGTIN-96, GRAI-96, GIAI-96, GIAI-202 and SGLN-96 ([`EpcScheme`]). The 96-bit
//! schemes hold serials, asset references and extensions only as decimal
//! numbers without leading zeros; GIAI-202 holds any GIAI, which is why
//! [`TagEncoding::encode`] falls back to it for alphanumeric asset references
//! such as the ledger's `4750001BEAM-0001`.
//!
//! Every value that comes from outside (hex, URIs, AI pairs) is parsed into
//! types that can only hold valid values; every refusal is an [`EpcError`]
//! naming what is wrong and where.

mod bits;
mod error;
mod gs1_keys;
mod identity;
mod partition;
mod tag;
mod text;

#[cfg(test)]
// Unwrapping is how a test states "this must succeed": a panic fails the test at that line.
#[allow(clippy::unwrap_used)]
mod tests;

pub use error::EpcError;
pub use identity::{GiaiIdentity, GraiIdentity, PureIdentity, SglnIdentity, SgtinIdentity};
pub use tag::TagEncoding;

// The children use the check digit functions through this import, so that the
// module depends on its sibling in exactly one place.
use super::gs1;

use std::fmt;

/// The identity an EPC names, as a reader reports it or a person writes it: a binary EPC in
/// hexadecimal (TDS §14), an EPC tag URI (`urn:epc:tag:…`, §12) or a pure identity URI
/// (`urn:epc:id:…`, §6).
pub fn identity_named_by(text: &str) -> Result<PureIdentity, EpcError> {
    if text.starts_with("urn:epc:tag:") {
        TagEncoding::from_tag_uri(text).map(TagEncoding::into_identity)
    } else if text.starts_with("urn:epc:id:") {
        PureIdentity::parse(text)
    } else {
        TagEncoding::from_hex(text).map(TagEncoding::into_identity)
    }
}

/// A binary EPC scheme: which identity a tag holds and how its bits are laid
/// out (TDS §14.5). The header is the first byte of the binary encoding (TDS
/// §14.2, table of EPC binary header values).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EpcScheme {
    /// SGTIN-96 (header 0x30): GTIN plus a numeric serial below 2^38.
    Sgtin96,
    /// SGLN-96 (header 0x32): GLN plus a numeric extension below 2^41.
    Sgln96,
    /// GRAI-96 (header 0x33): GRAI plus a numeric serial below 2^38.
    Grai96,
    /// GIAI-96 (header 0x34): GIAI whose asset reference is a number that fits
    /// the partition's 42 to 62 bits.
    Giai96,
    /// GIAI-202 (header 0x38): any GIAI, its asset reference in 7-bit characters.
    Giai202,
}

impl EpcScheme {
    /// Every scheme this module encodes and decodes.
    pub const ALL: [EpcScheme; 5] =
        [EpcScheme::Sgtin96, EpcScheme::Sgln96, EpcScheme::Grai96, EpcScheme::Giai96, EpcScheme::Giai202];

    /// The 8-bit header that starts the scheme's binary encoding (TDS §14.2).
    pub fn header(self) -> u8 {
        match self {
            EpcScheme::Sgtin96 => 0x30,
            EpcScheme::Sgln96 => 0x32,
            EpcScheme::Grai96 => 0x33,
            EpcScheme::Giai96 => 0x34,
            EpcScheme::Giai202 => 0x38,
        }
    }

    /// The scheme a header announces, if this module knows it.
    pub fn from_header(header: u8) -> Option<EpcScheme> {
        EpcScheme::ALL.into_iter().find(|scheme| scheme.header() == header)
    }

    /// The length of the binary encoding in bits, as the scheme's name says.
    pub fn bit_length(self) -> usize {
        match self {
            EpcScheme::Giai202 => 202,
            _ => 96,
        }
    }

    /// The number of hexadecimal digits of the encoding as it sits in the EPC
    /// memory bank: the memory bank holds whole 16-bit words, and TDS §15.1.1
    /// pads an EPC whose length is not a multiple of 16 with zero bits, so a
    /// 202-bit GIAI-202 takes 208 bits, 52 hexadecimal digits.
    pub fn hex_length(self) -> usize {
        self.bit_length().div_ceil(16) * 4
    }

    /// The scheme's name as it appears in an EPC tag URI, e.g. `sgtin-96`.
    pub fn tag_uri_name(self) -> &'static str {
        match self {
            EpcScheme::Sgtin96 => "sgtin-96",
            EpcScheme::Sgln96 => "sgln-96",
            EpcScheme::Grai96 => "grai-96",
            EpcScheme::Giai96 => "giai-96",
            EpcScheme::Giai202 => "giai-202",
        }
    }
}

impl fmt::Display for EpcScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EpcScheme::Sgtin96 => "SGTIN-96",
            EpcScheme::Sgln96 => "SGLN-96",
            EpcScheme::Grai96 => "GRAI-96",
            EpcScheme::Giai96 => "GIAI-96",
            EpcScheme::Giai202 => "GIAI-202",
        })
    }
}

/// The 3-bit filter value of a tag encoding (TDS §10): a hint for readers to
/// skip tags quickly, e.g. 1 for a point-of-sale item in SGTIN or 1 for a rail
/// vehicle in GIAI; 0 means "all others". Its meaning depends on the scheme, so
/// it is kept as the bare number.
// INVARIANT: the value is 0..=7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Filter(u8);

impl Filter {
    /// The filter value 0, "all others", which every scheme defines.
    pub const ALL_OTHERS: Filter = Filter(0);

    /// A filter value, refused unless it is 0 to 7 (three bits).
    pub fn new(value: u8) -> Result<Filter, EpcError> {
        if value <= 7 { Ok(Filter(value)) } else { Err(EpcError::Filter { found: value.to_string() }) }
    }

    /// The filter value as a number 0 to 7.
    pub fn value(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A GS1 company prefix as the EPC schemes take it: 6 to 12 decimal digits,
/// leading zeros significant. Its length chooses the partition of every binary
/// encoding (TDS §14.5), so it is kept as text.
// INVARIANT: 6..=12 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompanyPrefix(String);

impl CompanyPrefix {
    /// Parses a company prefix, refusing non-digits and lengths outside 6..=12.
    pub fn parse(digits: &str) -> Result<CompanyPrefix, EpcError> {
        text::require_digits("company prefix", digits)?;
        let length = digits.len();
        if !(6..=12).contains(&length) {
            return Err(EpcError::CompanyPrefixLength { prefix: digits.to_owned(), found: length });
        }
        Ok(CompanyPrefix(digits.to_owned()))
    }

    /// The digits of the prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number of digits, 6 to 12.
    pub fn digits(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for CompanyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for CompanyPrefix {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CompanyPrefix {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        CompanyPrefix::parse(&text).map_err(serde::de::Error::custom)
    }
}
