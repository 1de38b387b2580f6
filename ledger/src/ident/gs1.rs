//! GS1 keys and their check digits.
//!
//! The rules here come from the GS1 General Specifications: the check digit of
//! §7.9 "Check digit calculations", the "GS1 AI encodable character set 82" of
//! Figure 7.11-1, and the formats of the keys in the GS1 Barcode Syntax
//! Dictionary (`00 N18,csum`, `01 N14,csum`, `414 N13,csum`,
//! `8003 N1,zero N13,csum [X..16]`, `8004 X..30`, `21 X..20`). Each newtype can
//! only hold a value that passes them.
//!
//! Company prefixes: an EPC partition (EPC Tag Data Standard) carries a GS1
//! company prefix of 6 to 12 digits, so the `parts` methods and
//! [`split_company_prefix`] cut a key at a prefix length in that range and
//! refuse lengths the key cannot have.

mod keys;

use std::fmt;

pub use keys::{Gln, GlnParts, Grai, GraiParts, Gtin, GtinFormat, GtinParts, Serial, Sscc, SsccParts};

use super::{Giai, is_gs1_cset82};

/// The shortest GS1 company prefix an EPC partition carries (EPC Tag Data Standard partition tables).
pub const MIN_COMPANY_PREFIX: usize = 6;
/// The longest GS1 company prefix an EPC partition carries (EPC Tag Data Standard partition tables).
pub const MAX_COMPANY_PREFIX: usize = 12;

/// The GS1 modulo-10 check digit of a string of decimal digits (the key without
/// its check digit), as the GS1 General Specifications §7.9 define it: from the
/// right, digits are weighted 3, 1, 3, 1, …; the check digit brings the sum up
/// to a multiple of ten. Returns `None` if any character is not a digit.
pub fn check_digit(digits: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (position, byte) in digits.bytes().rev().enumerate() {
        let digit = u32::from(byte.checked_sub(b'0').filter(|d| *d <= 9)?);
        sum += if position % 2 == 0 { 3 * digit } else { digit };
    }
    // The result is below 10, so it fits in a u8.
    Some(((10 - sum % 10) % 10) as u8)
}

/// Whether a string of digits ends in its correct GS1 check digit.
pub fn has_valid_check_digit(key: &str) -> bool {
    match key.as_bytes().split_last() {
        Some((last, body)) if !body.is_empty() => {
            std::str::from_utf8(body).ok().and_then(check_digit).is_some_and(|d| b'0' + d == *last)
        }
        _ => false,
    }
}

/// Which kind of GS1 key or value an error is about.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A Global Trade Item Number, AI (01).
    Gtin,
    /// A Global Location Number, AI (414).
    Gln,
    /// A Serial Shipping Container Code, AI (00).
    Sscc,
    /// A Global Returnable Asset Identifier, AI (8003).
    Grai,
    /// A Global Individual Asset Identifier, AI (8004).
    Giai,
    /// A serial number, AI (21).
    Serial,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::Gtin => "GTIN",
            KeyKind::Gln => "GLN",
            KeyKind::Sscc => "SSCC",
            KeyKind::Grai => "GRAI",
            KeyKind::Giai => "GIAI",
            KeyKind::Serial => "serial number",
        })
    }
}

/// Why a string is not a valid GS1 key, or cannot be cut at a company prefix.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Gs1Error {
    /// The value has a length its kind of key never has.
    #[error("{kind} {text:?} has {found} characters, but a {kind} has {expected}")]
    Length {
        /// The kind of key.
        kind: KeyKind,
        /// The refused text.
        text: String,
        /// How many characters it has.
        found: usize,
        /// The lengths that kind of key has, in words.
        expected: &'static str,
    },
    /// A character other than 0–9 where the key must be numeric.
    #[error("{kind} {text:?} has {character:?} at position {position}, where only the digits 0-9 are allowed")]
    NotDigit {
        /// The kind of key.
        kind: KeyKind,
        /// The refused text.
        text: String,
        /// The offending character.
        character: char,
        /// Its 1-based position.
        position: usize,
    },
    /// The check digit does not match the digits before it (GS1 General Specifications §7.9).
    #[error("{kind} {text:?} has check digit {found} at position {position}, but the digits before it give {expected}")]
    CheckDigit {
        /// The kind of key.
        kind: KeyKind,
        /// The refused text.
        text: String,
        /// The check digit found.
        found: char,
        /// The check digit the other digits call for.
        expected: u8,
        /// The 1-based position of the check digit.
        position: usize,
    },
    /// A character outside the GS1 AI encodable character set 82 (Figure 7.11-1).
    #[error("{kind} {text:?} has {character:?} at position {position}, outside the GS1 AI encodable character set 82")]
    Character {
        /// The kind of key.
        kind: KeyKind,
        /// The refused text.
        text: String,
        /// The offending character.
        character: char,
        /// Its 1-based position.
        position: usize,
    },
    /// A GRAI element string value must start with the filler digit 0 (`8003 N1,zero …`).
    #[error("GRAI {text:?} must start with the filler digit 0 of AI (8003), not {found:?}")]
    GraiFiller {
        /// The refused text.
        text: String,
        /// The first character found.
        found: char,
    },
    /// The requested company prefix length is impossible for this key.
    #[error(
        "a {prefix_len}-digit GS1 company prefix is impossible in {kind} {text:?}: here it must have {min} to {max} digits"
    )]
    CompanyPrefixLength {
        /// The kind of key.
        kind: KeyKind,
        /// The key to be cut.
        text: String,
        /// The requested prefix length.
        prefix_len: usize,
        /// The shortest prefix possible here.
        min: usize,
        /// The longest prefix possible here.
        max: usize,
    },
}

/// A GIAI cut into its GS1 company prefix and individual asset reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GiaiParts<'a> {
    /// The GS1 company prefix.
    pub company_prefix: &'a str,
    /// The individual asset reference.
    pub asset_reference: &'a str,
}

/// Cuts a GIAI into its company prefix of `prefix_len` digits and its asset
/// reference. The prefix must have 6 to 12 digits (the range EPC partitions
/// carry) and leave at least one character of asset reference.
pub fn split_company_prefix(giai: &Giai, prefix_len: usize) -> Result<GiaiParts<'_>, Gs1Error> {
    let text = giai.as_str();
    // A GIAI is ASCII (character set 82), so byte and character positions agree.
    let max = MAX_COMPANY_PREFIX.min(text.len().saturating_sub(1));
    if !(MIN_COMPANY_PREFIX..=max).contains(&prefix_len) {
        return Err(Gs1Error::CompanyPrefixLength {
            kind: KeyKind::Giai,
            text: text.to_owned(),
            prefix_len,
            min: MIN_COMPANY_PREFIX,
            max,
        });
    }
    let (company_prefix, asset_reference) = text.split_at_checked(prefix_len).unwrap_or((text, ""));
    if let Some((index, character)) = company_prefix.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(Gs1Error::NotDigit { kind: KeyKind::Giai, text: text.to_owned(), character, position: index + 1 });
    }
    Ok(GiaiParts { company_prefix, asset_reference })
}

/// Checks that every character of `text` is in GS1 character set 82.
pub fn check_cset82(kind: KeyKind, text: &str) -> Result<(), Gs1Error> {
    match text.chars().enumerate().find(|(_, c)| !is_gs1_cset82(*c)) {
        Some((index, character)) => {
            Err(Gs1Error::Character { kind, text: text.to_owned(), character, position: index + 1 })
        }
        None => Ok(()),
    }
}

/// The length error for `text`.
fn length_error(kind: KeyKind, text: &str, expected: &'static str) -> Gs1Error {
    Gs1Error::Length { kind, text: text.to_owned(), found: text.chars().count(), expected }
}

/// Checks that `text` is all digits and ends in its check digit.
fn check_numeric_key(kind: KeyKind, text: &str) -> Result<(), Gs1Error> {
    if let Some((index, character)) = text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(Gs1Error::NotDigit { kind, text: text.to_owned(), character, position: index + 1 });
    }
    check_check_digit(kind, text, text, 0)
}

/// Checks the check digit of `key` (all digits), which starts `offset` bytes into `text`.
fn check_check_digit(kind: KeyKind, text: &str, key: &str, offset: usize) -> Result<(), Gs1Error> {
    let (body, found) = key.split_at_checked(key.len().saturating_sub(1)).unwrap_or((key, ""));
    let expected = check_digit(body);
    match (expected, found.chars().next()) {
        (Some(expected), Some(found)) if found != char::from(b'0' + expected) => {
            Err(Gs1Error::CheckDigit { kind, text: text.to_owned(), found, expected, position: offset + key.len() })
        }
        _ => Ok(()),
    }
}

/// Cuts the ASCII `key` into pieces of the given lengths (the last piece takes at
/// most what is left), after checking that a company prefix of `prefix_len`
/// digits is one an EPC partition carries.
fn cut<const N: usize>(
    kind: KeyKind,
    key: &str,
    lengths: [usize; N],
    prefix_len: usize,
) -> Result<[&str; N], Gs1Error> {
    if !(MIN_COMPANY_PREFIX..=MAX_COMPANY_PREFIX).contains(&prefix_len) {
        return Err(Gs1Error::CompanyPrefixLength {
            kind,
            text: key.to_owned(),
            prefix_len,
            min: MIN_COMPANY_PREFIX,
            max: MAX_COMPANY_PREFIX,
        });
    }
    let mut pieces = [""; N];
    let mut rest = key;
    for (piece, length) in pieces.iter_mut().zip(lengths) {
        let (head, tail) = rest.split_at_checked(length).unwrap_or((rest, ""));
        *piece = head;
        rest = tail;
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests;
