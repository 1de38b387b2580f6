//! GS1 keys and their check digits.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gs1_public_check_digit_examples() {
        // From the GS1 General Specifications (also in ledger/tests/data/gs1-public-examples.json).
        for valid in ["02345673", "416000336108", "1234567890128", "12345678901231", "09506000134352"] {
            assert!(has_valid_check_digit(valid), "{valid}");
        }
        for invalid in ["12345673", "416000336109", "1234567890129", "12345678901232", "", "7", "12a4"] {
            assert!(!has_valid_check_digit(invalid), "{invalid}");
        }
        assert_eq!(check_digit("0950600013435"), Some(2));
        assert_eq!(check_digit("12x"), None);
    }
}
