//! The custom `cas-number` format: CAS Registry Numbers with their check digit.
//!
//! JSON Schema has no such format, so the catalogue registers this check with the compiler. It
//! is kept apart from the catalogue because it is plain arithmetic on a string, which can be
//! read and tested without compiling any schema.

/// Whether `candidate` is a CAS Registry Number with a correct check digit.
///
/// A CAS number is 2–7 digits, a hyphen, 2 digits, a hyphen and a check digit. The check digit
/// is the sum of the other digits, each multiplied by its position counted from the right
/// (starting at 1), modulo 10; for 1332-21-4 that is (1·1 + 2·2 + 2·3 + 3·4 + 3·5 + 1·6) mod 10.
pub(super) fn is_cas_number(candidate: &str) -> bool {
    let mut groups = candidate.split('-');
    let (Some(first), Some(second), Some(check), None) = (groups.next(), groups.next(), groups.next(), groups.next())
    else {
        return false;
    };
    let all_digits = |group: &str| group.bytes().all(|byte| byte.is_ascii_digit());
    if !(2..=7).contains(&first.len())
        || second.len() != 2
        || check.len() != 1
        || !all_digits(first)
        || !all_digits(second)
        || !all_digits(check)
    {
        return false;
    }
    let weighted_sum: u32 = first
        .bytes()
        .chain(second.bytes())
        .rev()
        .zip(1u32..)
        .map(|(digit, position)| u32::from(digit - b'0') * position)
        .sum();
    check.bytes().next().map(|digit| u32::from(digit - b'0')) == Some(weighted_sum % 10)
}
