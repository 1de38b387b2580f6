//! Character-level rules shared by the URIs, the binary schemes and the GS1
//! keys: GS1 character set 82, URI %-escapes (TDS §5, Appendix A) and the
//! numbers the 96-bit schemes hold (TDS §14.3.1).

use super::{EpcError, EpcScheme};

/// Whether a character belongs to GS1 AI encodable character set 82 (TDS
/// Appendix A): the one definition in `ident`.
pub(super) use crate::ident::is_gs1_cset82 as is_cset82;

/// Whether a character of set 82 must be written as a %-escape in an EPC URI:
/// TDS Appendix A gives these seven a "URI form" other than themselves,
/// because they would otherwise be read as URI syntax.
fn must_escape(c: char) -> bool {
    matches!(c, '"' | '%' | '&' | '/' | '<' | '>' | '?')
}

/// Refuses a raw GS1 value (not URI-escaped) that is empty, longer than `max`
/// characters or has a character outside set 82.
pub(super) fn require_cset82(field: &'static str, value: &str, max: usize) -> Result<(), EpcError> {
    if value.is_empty() {
        return Err(EpcError::Empty { field });
    }
    if let Some((index, character)) = value.chars().enumerate().find(|(_, c)| !is_cset82(*c)) {
        return Err(EpcError::Character { field, value: value.to_owned(), character, position: index + 1 });
    }
    // Set 82 is ASCII, so the byte length is the character count.
    if value.len() > max {
        return Err(EpcError::TooLong { field, value: value.to_owned(), found: value.len(), max });
    }
    Ok(())
}

/// Refuses a value that has anything but ASCII decimal digits (an empty value
/// passes: some fixed-width fields have zero digits).
pub(super) fn require_digits(field: &'static str, value: &str) -> Result<(), EpcError> {
    match value.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        Some((index, character)) => {
            Err(EpcError::NotDigits { field, value: value.to_owned(), character, position: index + 1 })
        }
        None => Ok(()),
    }
}

/// Refuses a fixed-width digit field whose length is not `expected`, which is
/// what a company prefix of `prefix_digits` leaves of `total` digits.
pub(super) fn require_width(
    field: &'static str,
    value: &str,
    prefix_digits: usize,
    total: usize,
) -> Result<(), EpcError> {
    require_digits(field, value)?;
    let expected = total.saturating_sub(prefix_digits);
    if value.len() != expected {
        return Err(EpcError::ReferenceLength {
            field,
            value: value.to_owned(),
            found: value.len(),
            expected,
            prefix_digits,
            total,
        });
    }
    Ok(())
}

/// Writes a set-82 value as a URI component, escaping the seven characters
/// TDS Appendix A requires and nothing else (the canonical form).
pub(super) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if must_escape(c) {
            out.push_str(&format!("%{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads a URI component (TDS §5, GS3A3Component) into its set-82 value:
/// `%` and two hexadecimal digits of either case stand for the character they
/// name, which must be of set 82; the seven characters that must be escaped
/// are refused bare. The result is then checked against `max` like a raw value.
pub(super) fn unescape(field: &'static str, component: &str, max: usize) -> Result<String, EpcError> {
    let mut value = String::with_capacity(component.len());
    let mut chars = component.char_indices();
    while let Some((index, c)) = chars.next() {
        // Positions are 1-based character positions; set 82 and its escapes
        // are ASCII, and a non-ASCII character stops the loop with an error
        // before any position after it is reported.
        let position = index + 1;
        if c == '%' {
            let high = chars.next().and_then(|(_, h)| h.to_digit(16));
            let low = chars.next().and_then(|(_, l)| l.to_digit(16));
            let named = high.zip(low).and_then(|(h, l)| char::from_u32(h * 16 + l)).filter(|c| is_cset82(*c));
            match named {
                Some(named) => value.push(named),
                None => return Err(EpcError::Escape { field, value: component.to_owned(), position }),
            }
        } else if must_escape(c) {
            return Err(EpcError::Unescaped { field, value: component.to_owned(), character: c, position });
        } else if is_cset82(c) {
            value.push(c);
        } else {
            return Err(EpcError::Character { field, value: component.to_owned(), character: c, position });
        }
    }
    require_cset82(field, &value, max)?;
    Ok(value)
}

/// Reads a value that a binary scheme holds as an unsigned integer of at most
/// `max`: decimal digits without leading zeros, or `0` itself (TDS §14.3.1,
/// "Integer" encoding method), since the integer could not give the zeros back.
pub(super) fn parse_number(scheme: EpcScheme, field: &'static str, value: &str, max: u64) -> Result<u64, EpcError> {
    if value.is_empty() {
        return Err(EpcError::Empty { field });
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EpcError::NotNumeric { scheme, field, value: value.to_owned() });
    }
    if value.len() > 1 && value.starts_with('0') {
        return Err(EpcError::LeadingZero { scheme, field, value: value.to_owned() });
    }
    let too_large = || EpcError::TooLarge { scheme, field, value: value.to_owned(), max };
    let mut number: u64 = 0;
    for digit in value.bytes().map(|b| u64::from(b - b'0')) {
        number = number.checked_mul(10).and_then(|n| n.checked_add(digit)).ok_or_else(too_large)?;
    }
    if number > max {
        return Err(too_large());
    }
    Ok(number)
}

/// Reads a fixed-width digit field (company prefix, item reference, …) as the
/// integer a partition table encodes. The callers have checked that the field
/// has at most 12 digits, so the value always fits.
pub(super) fn digits_value(digits: &str) -> u64 {
    digits
        .bytes()
        .fold(0u64, |number, b| number.saturating_mul(10).saturating_add(u64::from(b.wrapping_sub(b'0') % 10)))
}
