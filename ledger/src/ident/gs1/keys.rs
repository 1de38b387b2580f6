//! The GS1 key newtypes: GTIN, GLN, SSCC, GRAI and serial number.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Gs1Error, KeyKind, check_check_digit, check_cset82, check_numeric_key, cut, is_gs1_cset82, length_error};

/// The forms a GTIN comes in (GS1 General Specifications, GTIN formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GtinFormat {
    /// Eight digits.
    Gtin8,
    /// Twelve digits (UPC-A).
    Gtin12,
    /// Thirteen digits (EAN-13).
    Gtin13,
    /// Fourteen digits, the form AI (01) and GS1 Digital Link carry.
    Gtin14,
}

impl GtinFormat {
    /// The number of digits of this form.
    pub fn digits(self) -> usize {
        match self {
            GtinFormat::Gtin8 => 8,
            GtinFormat::Gtin12 => 12,
            GtinFormat::Gtin13 => 13,
            GtinFormat::Gtin14 => 14,
        }
    }
}

/// A GTIN-8, -12, -13 or -14 with a correct check digit. Two GTINs are equal
/// when their 14-digit forms are: zero-padding a GTIN to 14 digits, as AI (01)
/// does, names the same trade item.
// INVARIANT: `gtin14` is 14 ASCII digits ending in their GS1 check digit; only its
// last `format.digits()` digits were given, and the digits before them are zeros.
#[derive(Clone)]
pub struct Gtin {
    gtin14: String,
    format: GtinFormat,
}

/// A GTIN-14 cut at its company prefix, as an SGTIN needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GtinParts<'a> {
    /// The indicator digit (the first digit of the GTIN-14).
    pub indicator: &'a str,
    /// The GS1 company prefix.
    pub company_prefix: &'a str,
    /// The item reference (may be empty for a 12-digit prefix).
    pub item_reference: &'a str,
    /// The check digit.
    pub check_digit: &'a str,
}

impl Gtin {
    /// Parses a GTIN of 8, 12, 13 or 14 digits, refusing a wrong check digit.
    pub fn parse(text: &str) -> Result<Self, Gs1Error> {
        let format = match text.len() {
            8 => GtinFormat::Gtin8,
            12 => GtinFormat::Gtin12,
            13 => GtinFormat::Gtin13,
            14 => GtinFormat::Gtin14,
            _ => return Err(length_error(KeyKind::Gtin, text, "8, 12, 13 or 14 digits")),
        };
        check_numeric_key(KeyKind::Gtin, text)?;
        Ok(Gtin { gtin14: format!("{text:0>14}"), format })
    }

    /// The GTIN as it was given (8, 12, 13 or 14 digits).
    pub fn as_str(&self) -> &str {
        self.gtin14.get(14 - self.format.digits()..).unwrap_or(&self.gtin14)
    }

    /// The form the GTIN was given in.
    pub fn format(&self) -> GtinFormat {
        self.format
    }

    /// The same GTIN as 14 digits, zero-padded on the left as AI (01) carries it.
    pub fn to_gtin14(&self) -> Gtin {
        Gtin { gtin14: self.gtin14.clone(), format: GtinFormat::Gtin14 }
    }

    /// The 14-digit form as text.
    pub fn gtin14(&self) -> &str {
        &self.gtin14
    }

    /// Cuts the GTIN-14 form after the indicator digit and a company prefix of `prefix_len` digits.
    pub fn parts(&self, prefix_len: usize) -> Result<GtinParts<'_>, Gs1Error> {
        // Indicator, then company prefix and item reference (12 digits together), then the check digit.
        let [indicator, company_prefix, item_reference, check_digit] =
            cut(KeyKind::Gtin, &self.gtin14, [1, prefix_len, 12usize.saturating_sub(prefix_len), 1], prefix_len)?;
        Ok(GtinParts { indicator, company_prefix, item_reference, check_digit })
    }
}

impl PartialEq for Gtin {
    fn eq(&self, other: &Gtin) -> bool {
        self.gtin14 == other.gtin14
    }
}

impl Eq for Gtin {}

impl std::hash::Hash for Gtin {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.gtin14.hash(state);
    }
}

impl PartialOrd for Gtin {
    fn partial_cmp(&self, other: &Gtin) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Gtin {
    fn cmp(&self, other: &Gtin) -> std::cmp::Ordering {
        self.gtin14.cmp(&other.gtin14)
    }
}

/// A Global Location Number: 13 digits with a correct check digit.
// INVARIANT: 13 ASCII digits ending in their GS1 check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gln(String);

/// A GLN cut at its company prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlnParts<'a> {
    /// The GS1 company prefix.
    pub company_prefix: &'a str,
    /// The location reference (may be empty for a 12-digit prefix).
    pub location_reference: &'a str,
    /// The check digit.
    pub check_digit: &'a str,
}

impl Gln {
    /// Parses a GLN, refusing a wrong length or check digit.
    pub fn parse(text: &str) -> Result<Self, Gs1Error> {
        if text.len() != 13 {
            return Err(length_error(KeyKind::Gln, text, "13 digits"));
        }
        check_numeric_key(KeyKind::Gln, text)?;
        Ok(Gln(text.to_owned()))
    }

    /// The GLN as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Cuts the GLN after a company prefix of `prefix_len` digits.
    pub fn parts(&self, prefix_len: usize) -> Result<GlnParts<'_>, Gs1Error> {
        let [company_prefix, location_reference, check_digit] =
            cut(KeyKind::Gln, &self.0, [prefix_len, 12usize.saturating_sub(prefix_len), 1], prefix_len)?;
        Ok(GlnParts { company_prefix, location_reference, check_digit })
    }
}

/// A Serial Shipping Container Code: 18 digits with a correct check digit.
// INVARIANT: 18 ASCII digits ending in their GS1 check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sscc(String);

/// An SSCC cut at its company prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsccParts<'a> {
    /// The extension digit.
    pub extension: &'a str,
    /// The GS1 company prefix.
    pub company_prefix: &'a str,
    /// The serial reference.
    pub serial_reference: &'a str,
    /// The check digit.
    pub check_digit: &'a str,
}

impl Sscc {
    /// Parses an SSCC, refusing a wrong length or check digit.
    pub fn parse(text: &str) -> Result<Self, Gs1Error> {
        if text.len() != 18 {
            return Err(length_error(KeyKind::Sscc, text, "18 digits"));
        }
        check_numeric_key(KeyKind::Sscc, text)?;
        Ok(Sscc(text.to_owned()))
    }

    /// The SSCC as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Cuts the SSCC after its extension digit and a company prefix of `prefix_len` digits.
    pub fn parts(&self, prefix_len: usize) -> Result<SsccParts<'_>, Gs1Error> {
        let [extension, company_prefix, serial_reference, check_digit] =
            cut(KeyKind::Sscc, &self.0, [1, prefix_len, 16usize.saturating_sub(prefix_len), 1], prefix_len)?;
        Ok(SsccParts { extension, company_prefix, serial_reference, check_digit })
    }
}

/// A Global Returnable Asset Identifier as AI (8003) carries it: the filler
/// digit 0, a 13-digit key ending in its check digit, and an optional serial
/// component of up to 16 characters of GS1 character set 82.
// INVARIANT: "0", 13 ASCII digits ending in their GS1 check digit, then 0 to 16 CSET 82 characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grai(String);

/// A GRAI cut at its company prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraiParts<'a> {
    /// The GS1 company prefix.
    pub company_prefix: &'a str,
    /// The asset type (may be empty for a 12-digit prefix).
    pub asset_type: &'a str,
    /// The check digit.
    pub check_digit: &'a str,
    /// The serial component (may be empty).
    pub serial: &'a str,
}

impl Grai {
    /// Parses the value of AI (8003), refusing a missing filler digit, a wrong check digit or serial.
    pub fn parse(text: &str) -> Result<Self, Gs1Error> {
        let length = text.chars().count();
        if !(14..=30).contains(&length) {
            return Err(length_error(KeyKind::Grai, text, "14 to 30 characters (0, 13 digits, a serial of up to 16)"));
        }
        match text.chars().next() {
            Some('0') => {}
            found => return Err(Gs1Error::GraiFiller { text: text.to_owned(), found: found.unwrap_or(' ') }),
        }
        if let Some((index, character)) = text.chars().enumerate().take(14).find(|(_, c)| !c.is_ascii_digit()) {
            return Err(Gs1Error::NotDigit {
                kind: KeyKind::Grai,
                text: text.to_owned(),
                character,
                position: index + 1,
            });
        }
        // The first 14 characters are ASCII digits, so byte positions are character positions.
        check_check_digit(KeyKind::Grai, text, text.get(1..14).unwrap_or_default(), 1)?;
        if let Some((index, character)) = text.chars().enumerate().skip(14).find(|(_, c)| !is_gs1_cset82(*c)) {
            return Err(Gs1Error::Character {
                kind: KeyKind::Grai,
                text: text.to_owned(),
                character,
                position: index + 1,
            });
        }
        Ok(Grai(text.to_owned()))
    }

    /// The value of AI (8003), filler digit included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The serial component, if the GRAI has one.
    pub fn serial(&self) -> Option<&str> {
        self.0.get(14..).filter(|serial| !serial.is_empty())
    }

    /// Cuts the GRAI after a company prefix of `prefix_len` digits.
    pub fn parts(&self, prefix_len: usize) -> Result<GraiParts<'_>, Gs1Error> {
        // The filler digit, then company prefix and asset type (12 digits together), the check digit, the serial.
        let [_, company_prefix, asset_type, check_digit, serial] =
            cut(KeyKind::Grai, &self.0, [1, prefix_len, 12usize.saturating_sub(prefix_len), 1, 16], prefix_len)?;
        Ok(GraiParts { company_prefix, asset_type, check_digit, serial })
    }
}

/// A serial number, AI (21): 1 to 20 characters of GS1 character set 82.
// INVARIANT: 1..=20 characters, each in GS1 AI encodable character set 82.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(String);

impl Serial {
    /// Parses a serial number, refusing what AI (21) cannot carry.
    pub fn parse(text: &str) -> Result<Self, Gs1Error> {
        if !(1..=20).contains(&text.chars().count()) {
            return Err(length_error(KeyKind::Serial, text, "1 to 20 characters"));
        }
        check_cset82(KeyKind::Serial, text)?;
        Ok(Serial(text.to_owned()))
    }

    /// The serial number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Implements text conversions and serde for a key newtype with `parse` and `as_str`.
macro_rules! key_text {
    ($($key:ident),*) => {$(
        impl fmt::Display for $key {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $key {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($key), "({})"), self.as_str())
            }
        }

        impl FromStr for $key {
            type Err = Gs1Error;
            fn from_str(text: &str) -> Result<Self, Gs1Error> {
                $key::parse(text)
            }
        }

        impl Serialize for $key {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $key {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $key::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

key_text!(Gtin, Gln, Sscc, Grai, Serial);
