use proptest::prelude::*;
use serde_json::Value;

use super::*;

/// The public GS1 examples shared by the identifier modules.
fn examples() -> Value {
    let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gs1-public-examples.json"));
    serde_json::from_str(text).unwrap()
}

fn strings(examples: &Value, field: &str) -> Vec<String> {
    examples[field].as_array().unwrap().iter().map(|value| value.as_str().unwrap().to_owned()).collect()
}

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

#[test]
fn public_examples_are_gtins_exactly_when_their_check_digit_holds() {
    let examples = examples();
    for valid in strings(&examples, "check_digit_valid") {
        let gtin = Gtin::parse(&valid).unwrap();
        assert_eq!(gtin.as_str(), valid);
        assert_eq!(gtin.to_gtin14().as_str(), format!("{valid:0>14}"));
    }
    for invalid in strings(&examples, "check_digit_invalid") {
        assert!(matches!(Gtin::parse(&invalid), Err(Gs1Error::CheckDigit { kind: KeyKind::Gtin, .. })), "{invalid}");
    }
}

#[test]
fn gtin_normalises_to_fourteen_digits_on_request() {
    let gtin = Gtin::parse("1234567890128").unwrap();
    assert_eq!(gtin.format(), GtinFormat::Gtin13);
    assert_eq!(gtin.as_str(), "1234567890128");
    assert_eq!(gtin.gtin14(), "01234567890128");
    let gtin14 = gtin.to_gtin14();
    assert_eq!((gtin14.format(), gtin14.as_str()), (GtinFormat::Gtin14, "01234567890128"));
    assert_eq!(Gtin::parse("02345673").unwrap().to_gtin14().as_str(), "00000002345673");
    assert_eq!(Gtin::parse("416000336108").unwrap().format(), GtinFormat::Gtin12);
}

#[test]
fn gtin_refusals_say_what_and_where() {
    let error = Gtin::parse("0952012345678").unwrap_err();
    assert!(matches!(error, Gs1Error::CheckDigit { found: '8', expected: 2, position: 13, .. }), "{error:?}");
    assert!(matches!(Gtin::parse("123456789"), Err(Gs1Error::Length { found: 9, .. })));
    assert!(matches!(Gtin::parse(""), Err(Gs1Error::Length { found: 0, .. })));
    let error = Gtin::parse("0952012345678A").unwrap_err();
    assert!(matches!(error, Gs1Error::NotDigit { character: 'A', position: 14, .. }), "{error:?}");
    assert_eq!(
        Gtin::parse("09520123456789").unwrap_err().to_string(),
        "GTIN \"09520123456789\" has check digit 9 at position 14, but the digits before it give 8"
    );
}

#[test]
fn gtin_parts_follow_the_company_prefix_length() {
    let gtin = Gtin::parse("09506000134352").unwrap();
    let parts = gtin.parts(7).unwrap();
    assert_eq!(
        (parts.indicator, parts.company_prefix, parts.item_reference, parts.check_digit),
        ("0", "9506000", "13435", "2")
    );
    let parts = gtin.parts(12).unwrap();
    assert_eq!((parts.company_prefix, parts.item_reference), ("950600013435", ""));
    // A GTIN-13 is cut in its 14-digit form.
    let gtin13 = Gtin::parse("1234567890128").unwrap();
    let parts = gtin13.parts(6).unwrap();
    assert_eq!((parts.indicator, parts.company_prefix, parts.item_reference), ("0", "123456", "789012"));
    for impossible in [0, 5, 13, 99] {
        let error = gtin.parts(impossible).unwrap_err();
        assert!(
            matches!(error, Gs1Error::CompanyPrefixLength { prefix_len, min: 6, max: 12, .. } if prefix_len == impossible),
            "{error:?}"
        );
    }
}

#[test]
fn gln_and_sscc_are_checked_and_cut() {
    let gln = Gln::parse("9520123456788").unwrap();
    let parts = gln.parts(9).unwrap();
    assert_eq!((parts.company_prefix, parts.location_reference, parts.check_digit), ("952012345", "678", "8"));
    assert!(matches!(Gln::parse("9520123456789"), Err(Gs1Error::CheckDigit { kind: KeyKind::Gln, .. })));
    assert!(matches!(Gln::parse("952012345678"), Err(Gs1Error::Length { kind: KeyKind::Gln, .. })));

    let sscc = Sscc::parse("106141411234567897").unwrap();
    let parts = sscc.parts(7).unwrap();
    assert_eq!(
        (parts.extension, parts.company_prefix, parts.serial_reference, parts.check_digit),
        ("1", "0614141", "123456789", "7")
    );
    assert!(matches!(Sscc::parse("106141411234567898"), Err(Gs1Error::CheckDigit { position: 18, .. })));
    assert!(matches!(Sscc::parse("10614141123456789"), Err(Gs1Error::Length { kind: KeyKind::Sscc, .. })));
    assert!(matches!(sscc.parts(13), Err(Gs1Error::CompanyPrefixLength { .. })));
}

#[test]
fn grai_has_filler_key_and_optional_serial() {
    // The GRAI of the EPC Tag Data Standard's GRAI-96 example: (8003)006141411234525678.
    let grai = Grai::parse("006141411234525678").unwrap();
    assert_eq!(grai.serial(), Some("5678"));
    let parts = grai.parts(7).unwrap();
    assert_eq!(
        (parts.company_prefix, parts.asset_type, parts.check_digit, parts.serial),
        ("0614141", "12345", "2", "5678")
    );
    assert_eq!(Grai::parse("00614141123452").unwrap().serial(), None);
    assert!(Grai::parse("00614141123452ABC-!%&'()*+,./:;").is_err(), "a serial of 17 characters is too long");
    assert!(Grai::parse("00614141123452A\"%&'()*+,./:;<").is_ok());

    assert!(matches!(Grai::parse("106141411234525678"), Err(Gs1Error::GraiFiller { found: '1', .. })));
    assert!(matches!(Grai::parse("006141411234535678"), Err(Gs1Error::CheckDigit { position: 14, .. })));
    assert!(matches!(Grai::parse("0061414112345"), Err(Gs1Error::Length { found: 13, .. })));
    assert!(matches!(Grai::parse("00614141A234525678"), Err(Gs1Error::NotDigit { position: 9, .. })));
    assert!(matches!(Grai::parse("00614141123452 56"), Err(Gs1Error::Character { position: 15, .. })));
    assert!(matches!(Grai::parse("0061414112345é5678"), Err(Gs1Error::NotDigit { character: 'é', .. })));
}

#[test]
fn serials_are_up_to_twenty_characters_of_set_82() {
    assert_eq!(Serial::parse("12345").unwrap().as_str(), "12345");
    assert!(Serial::parse("!\"%&'()*+,-./:;<=>?_").is_ok());
    assert!(matches!(Serial::parse(""), Err(Gs1Error::Length { found: 0, .. })));
    assert!(matches!(Serial::parse(&"9".repeat(21)), Err(Gs1Error::Length { found: 21, .. })));
    assert!(matches!(Serial::parse("AB CD"), Err(Gs1Error::Character { position: 3, character: ' ', .. })));
    assert!(matches!(Serial::parse("AB#"), Err(Gs1Error::Character { position: 3, character: '#', .. })));
}

#[test]
fn giai_splits_at_its_company_prefix() {
    let giai = Giai::parse("06141415678").unwrap();
    let parts = split_company_prefix(&giai, 7).unwrap();
    assert_eq!((parts.company_prefix, parts.asset_reference), ("0614141", "5678"));
    let parts = split_company_prefix(&giai, 10).unwrap();
    assert_eq!((parts.company_prefix, parts.asset_reference), ("0614141567", "8"));
    // Eleven characters leave no asset reference after an 11-digit prefix.
    for impossible in [5, 11, 12, 13] {
        let error = split_company_prefix(&giai, impossible).unwrap_err();
        assert!(matches!(error, Gs1Error::CompanyPrefixLength { min: 6, max: 10, .. }), "{impossible}: {error:?}");
    }
    let beam = Giai::parse("4750001BEAM-0001").unwrap();
    let error = split_company_prefix(&beam, 8).unwrap_err();
    assert!(matches!(error, Gs1Error::NotDigit { character: 'B', position: 8, .. }), "{error:?}");
    assert_eq!(split_company_prefix(&beam, 7).unwrap().asset_reference, "BEAM-0001");
}

#[test]
fn keys_read_and_write_as_json_strings() {
    let gtin: Gtin = serde_json::from_str("\"09506000134352\"").unwrap();
    assert_eq!(serde_json::to_string(&gtin).unwrap(), "\"09506000134352\"");
    assert!(serde_json::from_str::<Gtin>("\"09506000134353\"").is_err());
    assert!(serde_json::from_str::<Grai>("\"106141411234525678\"").is_err());
    assert_eq!(format!("{gtin:?} {gtin}"), "Gtin(09506000134352) 09506000134352");
    // A GTIN-13 and its zero-padded GTIN-14 form name the same trade item.
    assert_eq!(Gtin::parse("1234567890128").unwrap(), Gtin::parse("01234567890128").unwrap());
    assert_eq!("9520123456788".parse::<Gln>().unwrap().as_str(), "9520123456788");
}

/// Twelve to thirteen digits followed by their check digit.
fn numeric_key(body_len: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9]{{{body_len}}}"))
        .unwrap()
        .prop_map(|body| format!("{body}{}", check_digit(&body).unwrap()))
}

proptest! {
    #[test]
    fn every_key_with_its_check_digit_parses(gtin in numeric_key(13), sscc in numeric_key(17), gln in numeric_key(12)) {
        prop_assert_eq!(Gtin::parse(&gtin).unwrap().to_string(), gtin.clone());
        prop_assert_eq!(Sscc::parse(&sscc).unwrap().to_string(), sscc);
        prop_assert_eq!(Gln::parse(&gln).unwrap().to_string(), gln);
        let parsed = Gtin::parse(&gtin).unwrap();
        for prefix_len in MIN_COMPANY_PREFIX..=MAX_COMPANY_PREFIX {
            let parts = parsed.parts(prefix_len).unwrap();
            let joined = format!("{}{}{}{}", parts.indicator, parts.company_prefix, parts.item_reference, parts.check_digit);
            prop_assert_eq!(joined, gtin.clone());
        }
    }

    #[test]
    fn a_changed_digit_is_always_caught(gtin in numeric_key(13), at in 0usize..14, delta in 1u8..10) {
        let mut bytes = gtin.into_bytes();
        bytes[at] = b'0' + (bytes[at] - b'0' + delta) % 10;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(Gtin::parse(&changed).is_err());
    }

    #[test]
    fn parsers_never_panic(text in ".{0,40}", prefix_len in 0usize..40) {
        let _ = Gtin::parse(&text).map(|gtin| gtin.parts(prefix_len).map(|_| ()));
        let _ = Gln::parse(&text).map(|gln| gln.parts(prefix_len).map(|_| ()));
        let _ = Sscc::parse(&text).map(|sscc| sscc.parts(prefix_len).map(|_| ()));
        let _ = Grai::parse(&text).map(|grai| grai.parts(prefix_len).map(|_| ()));
        let _ = Serial::parse(&text);
        if let Ok(giai) = Giai::parse(&text) {
            let _ = split_company_prefix(&giai, prefix_len);
        }
    }
}
