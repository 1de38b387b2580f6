//! Every refusal, with the reason it names.

use super::super::{
    CompanyPrefix, EpcError, EpcScheme, Filter, GiaiIdentity, GraiIdentity, PureIdentity, SgtinIdentity, TagEncoding,
};
use super::{bits_to_hex, filter, number_bits, string_bits};

fn hex_err(hex: &str) -> EpcError {
    TagEncoding::from_hex(hex).unwrap_err()
}

fn pure_err(uri: &str) -> EpcError {
    PureIdentity::parse(uri).unwrap_err()
}

fn tag_err(uri: &str) -> EpcError {
    TagEncoding::from_tag_uri(uri).unwrap_err()
}

fn keys_err(list: &[(&str, &str)], prefix_len: usize) -> EpcError {
    PureIdentity::from_ai_pairs(list, prefix_len).unwrap_err()
}

/// A GIAI-202 bit string with a 7-digit company prefix and the given asset
/// reference bits (164 of them), as hex.
fn giai_202_hex(reference_bits: &str, padding: &str) -> String {
    let mut bits = number_bits(0x38, 8) + "000" + "101" + &number_bits(614_141, 24);
    bits += reference_bits;
    assert_eq!(bits.len(), 202);
    bits += padding;
    bits_to_hex(&bits)
}

#[test]
fn malformed_hex_is_refused() {
    assert_eq!(hex_err("3074257BF7194E4000001A8G"), EpcError::HexDigit { position: 24, character: 'G' });
    assert_eq!(hex_err("30 74257BF7194E4000001A85"), EpcError::HexDigit { position: 3, character: ' ' });
    assert_eq!(hex_err("3074257BF7194E4000001A8é"), EpcError::HexDigit { position: 24, character: 'é' });
    assert_eq!(hex_err(""), EpcError::HexTooShort { found: 0 });
    assert_eq!(hex_err("3"), EpcError::HexTooShort { found: 1 });
    assert_eq!(
        hex_err("3074257BF7194E4000001A"),
        EpcError::HexLength { scheme: EpcScheme::Sgtin96, expected: 24, found: 22, bits: 96 }
    );
    assert_eq!(
        hex_err("3074257BF7194E4000001A8500"),
        EpcError::HexLength { scheme: EpcScheme::Sgtin96, expected: 24, found: 26, bits: 96 }
    );
    // A GIAI-202 written in 51 digits (202 bits rounded to whole digits) is
    // not what the memory bank holds.
    let giai_202 = "3834257BF58B266D1AB460C00000000000000000000000000000";
    assert_eq!(
        hex_err(&giai_202[..51]),
        EpcError::HexLength { scheme: EpcScheme::Giai202, expected: 52, found: 51, bits: 202 }
    );
}

#[test]
fn unknown_headers_are_refused() {
    for (hex, header) in [("3574257BF7194E4000001A85", 0x35), ("00", 0x00), ("36C579D5D4ADB618", 0x36), ("FF", 0xFF)] {
        assert_eq!(hex_err(hex), EpcError::UnknownHeader { header }, "{hex}");
    }
    assert!(hex_err("35").to_string().contains("0x35"));
}

#[test]
fn partition_7_is_refused() {
    for scheme in [EpcScheme::Sgtin96, EpcScheme::Grai96, EpcScheme::Giai96, EpcScheme::Sgln96, EpcScheme::Giai202] {
        let mut bits = number_bits(u64::from(scheme.header()), 8) + "011" + "111";
        while bits.len() < scheme.bit_length() {
            bits.push('0');
        }
        assert_eq!(hex_err(&bits_to_hex(&bits)), EpcError::Partition { scheme, partition: 7 }, "{scheme}");
    }
}

#[test]
fn fields_holding_more_digits_than_their_partition_are_refused() {
    // SGTIN-96, partition 5: a 7-digit company prefix in 24 bits holding 2^24 - 1.
    let bits = number_bits(0x30, 8) + "001" + "101" + &number_bits((1 << 24) - 1, 24) + &number_bits(0, 20 + 38);
    assert_eq!(
        hex_err(&bits_to_hex(&bits)),
        EpcError::FieldOverflow { scheme: EpcScheme::Sgtin96, field: "company prefix", value: 16_777_215, digits: 7 }
    );
    // SGTIN-96, partition 0: a 1-digit item reference in 4 bits holding 10.
    let bits = number_bits(0x30, 8) + "001" + "000" + &number_bits(1, 40) + "1010" + &number_bits(0, 38);
    assert!(matches!(
        hex_err(&bits_to_hex(&bits)),
        EpcError::FieldOverflow { field: "item reference", value: 10, digits: 1, .. }
    ));
    // GRAI-96, partition 0: no asset type digits, so its 4 bits must be zero.
    let bits = number_bits(0x33, 8) + "000" + "000" + &number_bits(1, 40) + "0001" + &number_bits(0, 38);
    assert!(matches!(
        hex_err(&bits_to_hex(&bits)),
        EpcError::FieldOverflow { scheme: EpcScheme::Grai96, field: "asset type", value: 1, digits: 0 }
    ));
    // SGLN-96, partition 0: the 1-bit location reference must be zero.
    let bits = number_bits(0x32, 8) + "000" + "000" + &number_bits(1, 40) + "1" + &number_bits(0, 41);
    assert!(matches!(hex_err(&bits_to_hex(&bits)), EpcError::FieldOverflow { field: "location reference", .. }));
}

#[test]
fn malformed_giai_202_strings_are_refused() {
    let scheme = EpcScheme::Giai202;
    // '#' (0x23) is ASCII but not in set 82.
    let hex = giai_202_hex(&string_bits("A#", 164), "000000");
    assert_eq!(hex_err(&hex), EpcError::EncodedCharacter { scheme, field: "asset reference", position: 2, code: 0x23 });
    // A character after the terminating zero code.
    let bits = number_bits(u64::from(b'A'), 7) + "0000000" + &number_bits(u64::from(b'B'), 7);
    let hex = giai_202_hex(&format!("{bits:0<164}"), "000000");
    assert_eq!(hex_err(&hex), EpcError::Padding { scheme, field: "asset reference" });
    // A one in the 164 % 7 = 3 bits left over after the last whole character.
    let hex = giai_202_hex(&format!("{:0<163}1", number_bits(u64::from(b'A'), 7)), "000000");
    assert_eq!(hex_err(&hex), EpcError::Padding { scheme, field: "asset reference" });
    // A one in the 6 bits that pad 202 bits to 13 words.
    let hex = giai_202_hex(&string_bits("A", 164), "000001");
    assert_eq!(hex_err(&hex), EpcError::Padding { scheme, field: "EPC in its last 16-bit word" });
    // No characters at all.
    assert_eq!(hex_err(&giai_202_hex(&"0".repeat(164), "000000")), EpcError::Empty { field: "asset reference" });
    // 23 characters, all that 164 bits hold, are what a 7-digit prefix allows.
    assert!(TagEncoding::from_hex(&giai_202_hex(&string_bits(&"A".repeat(23), 164), "000000")).is_ok());
    // 148 bits hold 21 characters, but a 12-digit prefix leaves room for 18.
    let partition0 = number_bits(0x38, 8) + "000" + "000" + &number_bits(1, 40) + &string_bits(&"B".repeat(19), 148);
    assert!(matches!(
        hex_err(&bits_to_hex(&partition0)),
        EpcError::TooLong { field: "asset reference", found: 19, max: 18, .. }
    ));
}

#[test]
fn unknown_uris_are_refused() {
    for uri in [
        "",
        "urn:epc:id:sscc:0614141.1234567890",
        "urn:epc:id:sgtin",
        "URN:EPC:ID:SGTIN:0614141.812345.6789",
        "urn:epc:tag:sgtin-96:3.0614141.812345.6789",
        "https://id.gs1.org/01/80614141123458/21/6789",
    ] {
        assert_eq!(pure_err(uri), EpcError::UnknownUri { uri: uri.to_owned() }, "{uri}");
    }
    for uri in ["urn:epc:tag:sgtin-198:3.0614141.812345.6789", "urn:epc:id:sgtin:0614141.812345.6789", "urn:epc:tag:"] {
        assert_eq!(tag_err(uri), EpcError::UnknownUri { uri: uri.to_owned() }, "{uri}");
    }
}

#[test]
fn missing_components_are_named() {
    let error = pure_err("urn:epc:id:sgtin:0614141.812345");
    assert!(matches!(error, EpcError::MissingComponent { component: "serial", kind: "urn:epc:id:sgtin", .. }));
    assert!(error.to_string().contains("CompanyPrefix.ItemReference.Serial"), "{error}");
    assert!(matches!(
        pure_err("urn:epc:id:giai:0614141"),
        EpcError::MissingComponent { component: "asset reference", .. }
    ));
    assert!(matches!(tag_err("urn:epc:tag:giai-96:3"), EpcError::MissingComponent { component: "company prefix", .. }));
    assert!(matches!(
        tag_err("urn:epc:tag:sgln-96:3.0614141.12345"),
        EpcError::MissingComponent { component: "extension", kind: "urn:epc:tag:sgln-96", .. }
    ));
}

#[test]
fn bad_filter_values_are_refused() {
    for found in ["8", "03", "", "a", "-1", "３"] {
        let uri = format!("urn:epc:tag:sgtin-96:{found}.0614141.812345.6789");
        assert_eq!(tag_err(&uri), EpcError::Filter { found: found.to_owned() }, "{uri}");
    }
    assert_eq!(Filter::new(8), Err(EpcError::Filter { found: "8".to_owned() }));
    assert_eq!(Filter::new(7).unwrap().value(), 7);
}

#[test]
fn bad_company_prefixes_and_reference_lengths_are_refused() {
    assert_eq!(
        pure_err("urn:epc:id:giai:06141.1"),
        EpcError::CompanyPrefixLength { prefix: "06141".to_owned(), found: 5 }
    );
    assert!(matches!(pure_err("urn:epc:id:giai:0614141234567.1"), EpcError::CompanyPrefixLength { found: 13, .. }));
    assert!(matches!(CompanyPrefix::parse(""), Err(EpcError::CompanyPrefixLength { found: 0, .. })));
    assert_eq!(
        pure_err("urn:epc:id:sgtin:06141A1.812345.1"),
        EpcError::NotDigits { field: "company prefix", value: "06141A1".to_owned(), character: 'A', position: 6 }
    );
    assert!(matches!(
        pure_err("urn:epc:id:sgtin:0614141.81234X.1"),
        EpcError::NotDigits { field: "item reference", .. }
    ));
    let error = pure_err("urn:epc:id:sgtin:0614141.81234.6789");
    assert_eq!(
        error,
        EpcError::ReferenceLength {
            field: "item reference",
            value: "81234".to_owned(),
            found: 5,
            expected: 6,
            prefix_digits: 7,
            total: 13
        }
    );
    assert!(error.to_string().contains("7-digit company prefix leaves exactly 6"), "{error}");
    assert!(matches!(pure_err("urn:epc:id:grai:061414112345.1.5"), EpcError::ReferenceLength { expected: 0, .. }));
    assert!(matches!(pure_err("urn:epc:id:sgln:0614141.1234.0"), EpcError::ReferenceLength { expected: 5, .. }));
}

#[test]
fn bad_serials_and_references_in_uris_are_refused() {
    assert_eq!(pure_err("urn:epc:id:sgtin:0614141.812345."), EpcError::Empty { field: "serial" });
    assert_eq!(
        pure_err("urn:epc:id:giai:0614141.AB#1"),
        EpcError::Character { field: "asset reference", value: "AB#1".to_owned(), character: '#', position: 3 }
    );
    assert!(matches!(pure_err("urn:epc:id:giai:0614141.é"), EpcError::Character { character: 'é', position: 1, .. }));
    assert_eq!(
        pure_err("urn:epc:id:giai:0614141.A/B"),
        EpcError::Unescaped { field: "asset reference", value: "A/B".to_owned(), character: '/', position: 2 }
    );
    for (component, position) in [("A%2", 2), ("%ZZ", 1), ("A%23", 2), ("%7F", 1), ("%", 1), ("%%41", 1)] {
        let uri = format!("urn:epc:id:giai:0614141.{component}");
        assert_eq!(
            pure_err(&uri),
            EpcError::Escape { field: "asset reference", value: component.to_owned(), position },
            "{uri}"
        );
    }
    // Escapes of either case are read; letters may be escaped too.
    assert_eq!(
        PureIdentity::parse("urn:epc:id:giai:0614141.a%2fb%41").unwrap().to_uri(),
        "urn:epc:id:giai:0614141.a%2FbA"
    );
    let long = "1".repeat(21);
    assert!(matches!(
        pure_err(&format!("urn:epc:id:sgtin:0614141.812345.{long}")),
        EpcError::TooLong { field: "serial", found: 21, max: 20, .. }
    ));
    assert!(matches!(
        pure_err(&format!("urn:epc:id:grai:0614141.12345.{}", "A".repeat(17))),
        EpcError::TooLong { field: "serial", found: 17, max: 16, .. }
    ));
}

#[test]
fn values_96_bits_cannot_hold_are_refused() {
    let error = tag_err("urn:epc:tag:sgtin-96:3.0614141.812345.A1");
    assert_eq!(error, EpcError::NotNumeric { scheme: EpcScheme::Sgtin96, field: "serial", value: "A1".to_owned() });
    assert!(error.to_string().contains("SGTIN-96 holds only numeric serials"), "{error}");
    assert_eq!(
        tag_err("urn:epc:tag:sgtin-96:3.0614141.812345.0123"),
        EpcError::LeadingZero { scheme: EpcScheme::Sgtin96, field: "serial", value: "0123".to_owned() }
    );
    assert!(matches!(tag_err("urn:epc:tag:sgtin-96:3.0614141.812345.00"), EpcError::LeadingZero { .. }));
    assert!(matches!(
        tag_err("urn:epc:tag:giai-96:3.0614141.0123"),
        EpcError::LeadingZero { scheme: EpcScheme::Giai96, field: "asset reference", .. }
    ));
    assert!(matches!(
        tag_err("urn:epc:tag:giai-96:3.0614141.BEAM"),
        EpcError::NotNumeric { field: "asset reference", .. }
    ));
    assert!(matches!(
        tag_err("urn:epc:tag:sgtin-96:3.0614141.812345.99999999999999999999"),
        EpcError::TooLarge { field: "serial", max: 274_877_906_943, .. }
    ));
    assert!(matches!(
        tag_err("urn:epc:tag:sgln-96:3.0614141.12345.X"),
        EpcError::NotNumeric { field: "extension", .. }
    ));
    assert!(matches!(tag_err("urn:epc:tag:giai-202:3.0614141.%7F"), EpcError::Escape { .. }));
    let alphanumeric = PureIdentity::Sgtin(SgtinIdentity::new("0614141", "812345", "A1").unwrap());
    assert!(matches!(TagEncoding::encode(alphanumeric, filter(0)), Err(EpcError::NotNumeric { .. })));
}

#[test]
fn identities_of_another_kind_are_refused() {
    let giai = PureIdentity::Giai(GiaiIdentity::new("0614141", "5678").unwrap());
    let error = TagEncoding::new(EpcScheme::Sgtin96, filter(0), giai).unwrap_err();
    assert_eq!(
        error,
        EpcError::SchemeMismatch { scheme: EpcScheme::Sgtin96, identity: "urn:epc:id:giai:0614141.5678".to_owned() }
    );
    let grai = PureIdentity::Grai(GraiIdentity::new("0614141", "12345", "1").unwrap());
    assert!(matches!(TagEncoding::new(EpcScheme::Giai202, filter(0), grai), Err(EpcError::SchemeMismatch { .. })));
}

#[test]
fn ai_pairs_that_are_no_epc_are_refused() {
    let gtin = ("01", "80614141123458");
    for list in [&[gtin][..], &[gtin, ("21", "1"), ("10", "A")], &[], &[gtin, gtin, ("21", "1")], &[("254", "1")]] {
        assert!(matches!(keys_err(list, 7), EpcError::AiCombination { .. }), "{list:?}");
    }
    assert_eq!(keys_err(&[("10", "A"), ("17", "1")], 7), EpcError::AiCombination { found: "10, 17".to_owned() });
    assert_eq!(
        keys_err(&[("01", "8061414112345"), ("21", "1")], 7),
        EpcError::KeyLength { ai: "01", value: "8061414112345".to_owned(), found: 13, expected: "14 digits" }
    );
    assert!(matches!(keys_err(&[("414", "061414112345")], 7), EpcError::KeyLength { ai: "414", found: 12, .. }));
    assert!(matches!(keys_err(&[("8003", "0061414112")], 7), EpcError::KeyLength { ai: "8003", found: 10, .. }));
    assert!(matches!(keys_err(&[("01", "8061414112345X"), ("21", "1")], 7), EpcError::NotDigits { .. }));
    assert_eq!(
        keys_err(&[("8003", "106141411234525678")], 7),
        EpcError::GraiPadDigit { value: "106141411234525678".to_owned() }
    );
    assert_eq!(
        keys_err(&[("8003", "00614141123452")], 7),
        EpcError::GraiWithoutSerial { value: "00614141123452".to_owned() }
    );
    assert_eq!(keys_err(&[("414", "0614141123452"), ("254", "0")], 7), EpcError::ReservedExtension);
    assert!(matches!(keys_err(&[("01", "80614141123458"), ("21", "")], 7), EpcError::Empty { field: "serial" }));
}

#[test]
fn company_prefix_lengths_that_do_not_fit_the_key_are_refused() {
    for prefix_len in [0, 5, 13, 30] {
        assert!(matches!(
            keys_err(&[("01", "80614141123458"), ("21", "1")], prefix_len),
            EpcError::CompanyPrefixSplit { ai: "01", length, .. } if length == prefix_len
        ));
        assert!(matches!(keys_err(&[("8004", "06141415678")], prefix_len), EpcError::CompanyPrefixSplit { .. }));
    }
    // The GIAI must keep an asset reference after its prefix.
    assert!(matches!(keys_err(&[("8004", "06141415")], 8), EpcError::CompanyPrefixSplit { length: 8, .. }));
    // The prefix must be digits.
    assert!(matches!(keys_err(&[("8004", "061414A5678")], 7), EpcError::NotDigits { field: "company prefix", .. }));
    assert!(matches!(keys_err(&[("8004", "0614141 5678")], 7), EpcError::Character { character: ' ', .. }));
}

#[test]
fn messages_say_what_and_where() {
    let error = hex_err("3074257BF7194E4000001A8G");
    assert_eq!(error.to_string(), "EPC hex has 'G' at position 24, which is not a hexadecimal digit");
    let error = tag_err("urn:epc:tag:sgtin-96:3.0614141.812345.274877906944");
    assert_eq!(
        error.to_string(),
        "serial 274877906944 is larger than 274877906943, the most SGTIN-96 holds in this field"
    );
    let error = keys_err(&[("01", "80614141123459"), ("21", "1")], 7);
    assert_eq!(
        error.to_string(),
        "(01) \"80614141123459\" has a wrong check digit; the GS1 check digit of its digits is 8"
    );
}
