//! The correspondence between EPC pure identities and GS1 keys written as
//! application identifier (AI) and value pairs (TDS §7.1 SGTIN, §7.3 SGLN,
//! §7.4 GRAI, §7.5 GIAI).

use super::text::{require_cset82, require_digits};
use super::{EpcError, GiaiIdentity, GraiIdentity, PureIdentity, SglnIdentity, SgtinIdentity, gs1};

impl PureIdentity {
    /// The GS1 keys of the identity as AI and value pairs, in element string
    /// order:
    /// - SGTIN: `("01", GTIN-14)` with the indicator digit moved to the front
    ///   and the check digit appended, then `("21", serial)`;
    /// - GRAI: `("8003", "0" + company prefix + asset type + check digit + serial)`;
    /// - GIAI: `("8004", company prefix + asset reference)`;
    /// - SGLN: `("414", GLN)`, then `("254", extension)` unless the extension
    ///   is `0`, which means there is none.
    pub fn to_ai_pairs(&self) -> Vec<(String, String)> {
        match self {
            PureIdentity::Sgtin(sgtin) => {
                vec![("01".to_owned(), sgtin.gtin()), ("21".to_owned(), sgtin.serial().to_owned())]
            }
            PureIdentity::Grai(grai) => vec![("8003".to_owned(), format!("{}{}", grai.grai(), grai.serial()))],
            PureIdentity::Giai(giai) => vec![("8004".to_owned(), giai.giai())],
            PureIdentity::Sgln(sgln) => {
                let mut pairs = vec![("414".to_owned(), sgln.gln())];
                if sgln.extension() != "0" {
                    pairs.push(("254".to_owned(), sgln.extension().to_owned()));
                }
                pairs
            }
        }
    }

    /// The pure identity of GS1 keys given as AI and value pairs, in any
    /// order: `01` with `21`, or `8003`, or `8004`, or `414` with an optional
    /// `254`, and nothing else. A key does not say where its company prefix
    /// ends, so the caller gives the prefix's length (6 to 12 digits, as the
    /// GS1 member organisation assigned it). Check digits are verified; a GRAI
    /// needs its serial, and AI 254 may not be `0`.
    pub fn from_ai_pairs<A: AsRef<str>, V: AsRef<str>>(
        pairs: &[(A, V)],
        company_prefix_len: usize,
    ) -> Result<PureIdentity, EpcError> {
        let value_of = |ai: &str| pairs.iter().find(|(key, _)| key.as_ref() == ai).map(|(_, value)| value.as_ref());
        let mut ais: Vec<&str> = pairs.iter().map(|(ai, _)| ai.as_ref()).collect();
        let found = ais.join(", ");
        ais.sort_unstable();
        let combination = || EpcError::AiCombination { found: found.clone() };
        match ais.as_slice() {
            ["01", "21"] => {
                let gtin = value_of("01").ok_or_else(combination)?;
                let serial = value_of("21").ok_or_else(combination)?;
                sgtin_from_key(gtin, serial, company_prefix_len).map(PureIdentity::Sgtin)
            }
            ["8003"] => {
                let value = value_of("8003").ok_or_else(combination)?;
                grai_from_key(value, company_prefix_len).map(PureIdentity::Grai)
            }
            ["8004"] => {
                let value = value_of("8004").ok_or_else(combination)?;
                giai_from_key(value, company_prefix_len).map(PureIdentity::Giai)
            }
            ["414"] | ["254", "414"] => {
                let gln = value_of("414").ok_or_else(combination)?;
                sgln_from_key(gln, value_of("254"), company_prefix_len).map(PureIdentity::Sgln)
            }
            _ => Err(combination()),
        }
    }
}

/// An SGTIN from a GTIN-14 and a serial (TDS §7.1): the first GTIN digit is
/// the indicator digit, which the EPC puts in front of the item reference.
fn sgtin_from_key(gtin: &str, serial: &str, prefix_len: usize) -> Result<SgtinIdentity, EpcError> {
    let digits = numeric_key("01", "GTIN (01)", gtin, 14)?;
    let prefix = split_prefix("01", gtin, prefix_len, digits.get(1..).unwrap_or_default())?;
    let item = digits.get(1 + prefix_len..13).unwrap_or_default();
    let indicator = digits.get(..1).unwrap_or_default();
    SgtinIdentity::new(prefix, &format!("{indicator}{item}"), serial)
}

/// A GRAI from an AI 8003 value (TDS §7.4): the pad digit 0, company prefix,
/// asset type and check digit (14 digits), then the serial, which an EPC needs.
fn grai_from_key(value: &str, prefix_len: usize) -> Result<GraiIdentity, EpcError> {
    let Some(key) = value.get(..14) else {
        return Err(EpcError::KeyLength {
            ai: "8003",
            value: value.to_owned(),
            found: value.chars().count(),
            expected: "14 digits followed by a serial of 1 to 16 characters",
        });
    };
    require_digits("GRAI (8003)", key)?;
    if !key.starts_with('0') {
        return Err(EpcError::GraiPadDigit { value: value.to_owned() });
    }
    verify_check_digit("8003", value, key)?;
    let serial = value.get(14..).unwrap_or_default();
    if serial.is_empty() {
        return Err(EpcError::GraiWithoutSerial { value: value.to_owned() });
    }
    let prefix = split_prefix("8003", value, prefix_len, key.get(1..).unwrap_or_default())?;
    let asset_type = key.get(1 + prefix_len..13).unwrap_or_default();
    GraiIdentity::new(prefix, asset_type, serial)
}

/// A GIAI from an AI 8004 value (TDS §7.5): company prefix then asset
/// reference, which must keep at least one character.
fn giai_from_key(value: &str, prefix_len: usize) -> Result<GiaiIdentity, EpcError> {
    require_cset82("GIAI (8004)", value, 30)?;
    check_prefix_len("8004", value, prefix_len)?;
    // Set 82 is ASCII, so byte positions are character positions.
    match (value.get(..prefix_len), value.get(prefix_len..)) {
        (Some(prefix), Some(reference)) if !reference.is_empty() => GiaiIdentity::new(prefix, reference),
        _ => Err(EpcError::CompanyPrefixSplit {
            ai: "8004",
            value: value.to_owned(),
            length: prefix_len,
            reason: "the GIAI must keep at least one asset reference character after it",
        }),
    }
}

/// An SGLN from a GLN and an optional extension (TDS §7.3); no AI 254 means
/// the extension `0`, so AI 254 itself may not be `0`.
fn sgln_from_key(gln: &str, extension: Option<&str>, prefix_len: usize) -> Result<SglnIdentity, EpcError> {
    let digits = numeric_key("414", "GLN (414)", gln, 13)?;
    let prefix = split_prefix("414", gln, prefix_len, digits)?;
    let location = digits.get(prefix_len..12).unwrap_or_default();
    match extension {
        Some("0") => Err(EpcError::ReservedExtension),
        Some(extension) => SglnIdentity::new(prefix, location, extension),
        None => SglnIdentity::new(prefix, location, "0"),
    }
}

/// Refuses a key that is not `length` digits ending in its check digit.
fn numeric_key<'a>(ai: &'static str, field: &'static str, value: &'a str, length: usize) -> Result<&'a str, EpcError> {
    require_digits(field, value)?;
    if value.len() != length {
        return Err(EpcError::KeyLength {
            ai,
            value: value.to_owned(),
            found: value.len(),
            expected: if length == 14 { "14 digits" } else { "13 digits" },
        });
    }
    verify_check_digit(ai, value, value)?;
    Ok(value)
}

/// Refuses `key` (the digits that end in a check digit, within `value`) if the
/// check digit is wrong.
fn verify_check_digit(ai: &'static str, value: &str, key: &str) -> Result<(), EpcError> {
    if gs1::has_valid_check_digit(key) {
        return Ok(());
    }
    let body = key.get(..key.len().saturating_sub(1)).unwrap_or_default();
    let expected = gs1::check_digit(body).unwrap_or(0);
    Err(EpcError::CheckDigit { ai, value: value.to_owned(), expected })
}

/// Refuses a company prefix length outside 6..=12.
fn check_prefix_len(ai: &'static str, value: &str, prefix_len: usize) -> Result<(), EpcError> {
    if (6..=12).contains(&prefix_len) {
        Ok(())
    } else {
        Err(EpcError::CompanyPrefixSplit {
            ai,
            value: value.to_owned(),
            length: prefix_len,
            reason: "GS1 company prefixes in EPCs have 6 to 12 digits",
        })
    }
}

/// The first `prefix_len` digits of `digits` (a key without its leading
/// indicator or pad digit), after checking the length.
fn split_prefix<'a>(ai: &'static str, value: &str, prefix_len: usize, digits: &'a str) -> Result<&'a str, EpcError> {
    check_prefix_len(ai, value, prefix_len)?;
    Ok(digits.get(..prefix_len).unwrap_or_default())
}
