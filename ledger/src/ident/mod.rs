//! Identifiers of physical items.
//!
//! An item is identified by a GS1 Global Individual Asset Identifier (GIAI,
//! application identifier 8004): a GS1 company prefix followed by an asset
//! reference, at most 30 characters from the GS1 AI encodable character set 82.
//! [`gs1`] holds the GS1 keys and their check digits; [`element`] GS1 element
//! strings; [`digital_link`] GS1 Digital Link URIs; [`epc`] the EPCs that RFID
//! tags carry (GS1 EPC Tag Data Standard).

pub mod digital_link;
pub mod element;
pub mod epc;
pub mod gs1;

pub use digital_link::{DigitalLink, DigitalLinkError, Resolver};
pub use element::{ElementError, ElementString};
pub use epc::{CompanyPrefix, EpcError, PureIdentity, TagEncoding};

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a GIAI.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GiaiError {
    /// The GIAI is shorter than a 6-digit company prefix plus one character, or longer than 30.
    #[error("GIAI {0:?} must be 7 to 30 characters long (company prefix of 6+ digits and an asset reference)")]
    Length(String),
    /// The GIAI does not start with at least six digits of a GS1 company prefix.
    #[error("GIAI {0:?} must start with a GS1 company prefix of at least 6 digits")]
    CompanyPrefix(String),
    /// A character outside the GS1 AI encodable character set 82.
    #[error("GIAI {giai:?} has {character:?} at position {position}, outside the GS1 character set 82")]
    Character {
        /// The offending GIAI.
        giai: String,
        /// The character that is not allowed.
        character: char,
        /// Its 1-based position.
        position: usize,
    },
}

/// A GS1 GIAI (AI 8004): company prefix plus asset reference.
// INVARIANT: 7..=30 characters of GS1 character set 82, the first six of them digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Giai(String);

impl Giai {
    /// Parses a GIAI, refusing anything GS1 would not encode.
    pub fn parse(text: &str) -> Result<Self, GiaiError> {
        if !(7..=30).contains(&text.chars().count()) {
            return Err(GiaiError::Length(text.to_owned()));
        }
        if !text.bytes().take(6).all(|b| b.is_ascii_digit()) {
            return Err(GiaiError::CompanyPrefix(text.to_owned()));
        }
        if let Some((index, character)) = text.chars().enumerate().find(|(_, c)| !is_gs1_cset82(*c)) {
            return Err(GiaiError::Character { giai: text.to_owned(), character, position: index + 1 });
        }
        Ok(Giai(text.to_owned()))
    }

    /// The GIAI as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The EPC an item's RFID tag carries (docs/format.md §16): its GIAI split at the company
/// prefix it was issued under, in GIAI-96 when the asset reference is a number that fits the
/// partition (TDS §14.5.5), otherwise in GIAI-202 (TDS §14.5.6), with filter value 0.
pub fn item_epc(giai: &Giai, prefix: &CompanyPrefix) -> Result<TagEncoding, EpcError> {
    let reference = giai.as_str().strip_prefix(prefix.as_str()).filter(|reference| !reference.is_empty()).ok_or(
        EpcError::CompanyPrefixSplit {
            ai: "8004",
            value: giai.as_str().to_owned(),
            length: prefix.digits(),
            reason: "the GIAI does not continue the prefix",
        },
    )?;
    let identity = epc::GiaiIdentity::new(prefix.as_str(), reference)?;
    TagEncoding::encode(PureIdentity::Giai(identity), epc::Filter::ALL_OTHERS)
}

/// Whether a character belongs to the GS1 AI encodable character set 82.
pub fn is_gs1_cset82(c: char) -> bool {
    matches!(c, '!' | '"' | '%'..='?' | 'A'..='Z' | '_' | 'a'..='z')
}

impl fmt::Display for Giai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Giai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Giai({})", self.0)
    }
}

impl Serialize for Giai {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Giai {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Giai::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_gs1_giais() {
        for text in ["06141415678", "4750001BEAM-0001", "0614141ABC!%&'()*+,-./:;<=>?_z", "123456A"] {
            assert_eq!(Giai::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn refuses_what_gs1_does_not_encode() {
        assert!(matches!(Giai::parse("123456"), Err(GiaiError::Length(_))));
        assert!(matches!(Giai::parse(&"1".repeat(31)), Err(GiaiError::Length(_))));
        assert!(matches!(Giai::parse("12345A789"), Err(GiaiError::CompanyPrefix(_))));
        assert!(matches!(Giai::parse("123456 beam"), Err(GiaiError::Character { position: 7, .. })));
        assert!(matches!(Giai::parse("123456#1"), Err(GiaiError::Character { character: '#', .. })));
        assert!(matches!(Giai::parse("123456é"), Err(GiaiError::Character { .. })));
    }
}
