use proptest::prelude::*;

use super::super::gs1::{Gln, Gtin, Sscc};
use super::*;

const EXAMPLE: &str = "(01)09520123456788(10)ABC1(21)12345(17)180426";

fn value_error(text: &str) -> (Location, ValueError) {
    match ElementString::parse(text) {
        Err(ElementError::Value { location, problem, .. }) => (location, problem),
        other => panic!("{text}: expected a value error, got {other:?}"),
    }
}

#[test]
fn parses_and_prints_the_human_readable_form() {
    let elements = ElementString::parse(EXAMPLE).unwrap();
    let pairs: Vec<_> = elements.pairs().collect();
    assert_eq!(pairs, [("01", "09520123456788"), ("10", "ABC1"), ("21", "12345"), ("17", "180426")]);
    assert_eq!(elements.to_string(), EXAMPLE);
    assert_eq!(elements.get("21"), Some("12345"));
    assert_eq!(elements.get("22"), None);
    assert_eq!(elements.len(), 4);
    assert_eq!(EXAMPLE.parse::<ElementString>().unwrap(), elements);
}

#[test]
fn a_bracket_inside_a_value_is_escaped() {
    let elements = ElementString::parse("(21)A\\(B)C(10)x)").unwrap();
    assert_eq!(elements.get("21"), Some("A(B)C"));
    assert_eq!(elements.get("10"), Some("x)"));
    assert_eq!(elements.to_string(), "(21)A\\(B)C(10)x)");
}

#[test]
fn pairs_round_trip_for_the_epc_module() {
    let elements = ElementString::from_pairs([("8004", "06141415678"), ("7240", "x")]);
    assert!(matches!(elements, Err(ElementError::UnknownAi { ref ai, location: Location::Pair(2) }) if ai == "7240"));
    let elements =
        ElementString::from_pairs(vec![("01".to_owned(), "80614141123458"), ("21".to_owned(), "6789")]).unwrap();
    assert_eq!(elements.to_string(), "(01)80614141123458(21)6789");
    assert_eq!(ElementString::from_pairs(elements.pairs()).unwrap(), elements);
    assert!(ElementString::from_pairs(Vec::<(&str, &str)>::new()).unwrap().is_empty());
}

#[test]
fn malformed_text_is_refused_with_its_position() {
    let cases = [("", 1), ("01)0952", 1), ("(1)x", 3), ("(12345)x", 6), ("(01", 4), ("(0A)x", 3)];
    for (text, expected) in cases {
        match ElementString::parse(text) {
            Err(ElementError::Syntax { position, .. }) if position == expected => {}
            other => panic!("{text}: {other:?}"),
        }
    }
    assert_eq!(
        ElementString::parse("(89)ABC").unwrap_err(),
        ElementError::UnknownAi { ai: "89".into(), location: Location::Character(1) }
    );
}

#[test]
fn values_are_checked_against_the_syntax_dictionary() {
    let (location, problem) = value_error("(01)09520123456789(10)A");
    assert_eq!(location, Location::Character(1));
    assert_eq!(problem, ValueError::CheckDigit { position: 14, found: '9', expected: 8 });
    assert!(matches!(value_error("(01)0952012345678").1, ValueError::Length { found: 13, .. }));
    assert!(matches!(value_error("(01)0952012345678A").1, ValueError::NotDigit { position: 14, character: 'A' }));
    assert!(matches!(value_error("(10)A(21)AB CD").1, ValueError::Character { position: 3, character: ' ' }));
    assert!(matches!(value_error("(21)123456789012345678901").1, ValueError::Length { found: 21, .. }));
    assert_eq!(value_error("(21)x(10)"), (Location::Character(6), ValueError::Empty));
    assert!(matches!(value_error("(3103)19500").1, ValueError::Length { found: 5, .. }));
    assert!(matches!(value_error("(00)106141411234567898").1, ValueError::CheckDigit { position: 18, .. }));
    assert!(matches!(value_error("(414)9520123456789").1, ValueError::CheckDigit { .. }));
}

#[test]
fn dates_are_real_dates() {
    for valid in ["(17)180426", "(17)240229", "(11)000229", "(15)181200", "(13)991231", "(7003)1804260000"] {
        assert!(ElementString::parse(valid).is_ok(), "{valid}");
    }
    for (invalid, reason) in [
        ("(17)181326", "the month must be 01 to 12"),
        ("(17)180026", "the month must be 01 to 12"),
        ("(17)230229", "that month has fewer days"),
        ("(17)180431", "that month has fewer days"),
        ("(17)180132", "that month has fewer days"),
        ("(7003)1804000000", "day 00 is not allowed here"),
    ] {
        assert!(
            matches!(value_error(invalid).1, ValueError::Date { position: 1, reason: r, .. } if r == reason),
            "{invalid}"
        );
    }
    assert!(matches!(value_error("(7003)1804262400").1, ValueError::Time { position: 7, .. }));
    assert!(matches!(
        value_error("(7003)1804262360").1,
        ValueError::Time { reason: "the minute must be 00 to 59", .. }
    ));
    assert_eq!(
        ElementString::parse("(01)09520123456788(17)181326").unwrap_err().to_string(),
        "AI (17) at character 19 of the element string: characters 1 to 6 of the value hold \"181326\", \
         which is not a date YYMMDD: the month must be 01 to 12"
    );
}

#[test]
fn keys_with_special_rules() {
    assert!(ElementString::parse("(8003)006141411234525678").is_ok());
    assert!(matches!(value_error("(8003)106141411234525678").1, ValueError::Filler { position: 1, found: '1' }));
    assert!(matches!(value_error("(8003)006141411234535678").1, ValueError::CheckDigit { position: 14, .. }));
    assert!(matches!(value_error("(8003)0061414112345").1, ValueError::Length { found: 13, .. }));
    assert!(ElementString::parse("(8004)0614ABC").is_ok(), "the dictionary's key linter wants 4 digits");
    assert!(matches!(value_error("(8004)061A4ABC").1, ValueError::CompanyPrefix { position: 4, found: 'A' }));
    assert!(matches!(value_error("(8004)061").1, ValueError::Length { found: 3, .. }));
    assert!(ElementString::parse("(414)9520123456788(7040)1AB-").is_ok());
    assert!(matches!(value_error("(7040)1AB!").1, ValueError::ImporterIndex { position: 4, found: '!' }));
    assert!(matches!(value_error("(7040)AAB_").1, ValueError::NotDigit { position: 1, .. }));
    assert!(ElementString::parse("(8004)4750001BEAM-0001(7230)EMCERT-2024-17").is_ok());
}

#[test]
fn repeats_and_exclusive_measures_are_refused() {
    assert_eq!(
        ElementString::parse("(10)A(21)1(10)B").unwrap_err(),
        ElementError::Duplicate { ai: "10", location: Location::Character(11) }
    );
    let error = ElementString::parse("(01)09520123456788(3103)000195(3102)001950").unwrap_err();
    assert!(matches!(error, ElementError::Exclusive { ai: "3102", other: "3103", .. }), "{error:?}");
    assert!(ElementString::parse("(01)09520123456788(3103)000195(3300)000200(3110)001250").is_ok());
}

#[test]
fn the_table_describes_each_ai() {
    let format = |code: &str| Ai::lookup(code).unwrap().format();
    assert_eq!(format("01"), "N14");
    assert_eq!(format("10"), "X..20");
    assert_eq!(format("8003"), "N1 N13 [X..16]");
    assert_eq!(format("7003"), "N6 N4");
    assert_eq!(format("3105"), "N6");
    let gtin = Ai::lookup("01").unwrap();
    assert!(gtin.has_predefined_length() && gtin.is_numeric());
    assert_eq!((gtin.title(), gtin.length_range()), ("GTIN", (14, 14)));
    let giai = Ai::lookup("8004").unwrap();
    assert!(!giai.has_predefined_length() && !giai.is_numeric());
    assert_eq!(giai.length_range(), (1, 30));
    assert_eq!(Ai::lookup("8003").unwrap().length_range(), (14, 30));
    assert!(Ai::lookup("3106").is_none() && Ai::lookup("1").is_none() && Ai::lookup("").is_none());
    let codes: Vec<&str> = Ai::supported().map(Ai::code).collect();
    for required in ["00", "01", "10", "11", "13", "15", "17", "21", "22", "254", "414", "3103", "7003", "8003", "8004"]
    {
        assert!(codes.contains(&required), "{required}");
    }
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), codes.len(), "each AI is defined once");
    assert_eq!(format!("{gtin} {gtin:?}"), "(01) Ai(01)");
}

/// Values of GS1 character set 82 of the given lengths.
fn cset82(lengths: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    let characters: Vec<char> =
        "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".chars().collect();
    proptest::collection::vec(proptest::sample::select(characters), lengths)
        .prop_map(|characters| characters.into_iter().collect())
}

proptest! {
    #[test]
    fn printed_element_strings_parse_back(batch in cset82(1..=20), serial in cset82(1..=20), internal in cset82(1..=90)) {
        let elements = ElementString::from_pairs([("01", "09520123456788"), ("10", &batch), ("21", &serial), ("99", &internal)])
            .unwrap();
        prop_assert_eq!(ElementString::parse(&elements.to_string()).unwrap(), elements);
    }

    #[test]
    fn the_table_agrees_with_the_key_types(digits in "[0-9]{18}") {
        let (gtin, gln) = (digits.get(..14).unwrap(), digits.get(..13).unwrap());
        prop_assert_eq!(Ai::lookup("01").unwrap().validate(gtin).is_ok(), Gtin::parse(gtin).is_ok());
        prop_assert_eq!(Ai::lookup("414").unwrap().validate(gln).is_ok(), Gln::parse(gln).is_ok());
        prop_assert_eq!(Ai::lookup("00").unwrap().validate(&digits).is_ok(), Sscc::parse(&digits).is_ok());
    }

    #[test]
    fn parsing_never_panics(text in "(\\((0[0-2]|1[0-7]|2[0-5]|3103|7003|800[34]|9.)\\)[^(]{0,12}){0,4}", noise in ".{0,30}") {
        let _ = ElementString::parse(&text);
        let _ = ElementString::parse(&noise);
        let _ = ElementString::parse(&format!("{text}{noise}"));
        for ai in Ai::supported() {
            let _ = ai.validate(&noise);
        }
    }
}
