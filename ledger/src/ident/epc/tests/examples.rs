//! Published examples: the TDS worked examples kept in
//! tests/data/gs1-public-examples.json, and further published vectors.

use super::super::{EpcScheme, PureIdentity, TagEncoding};
use super::{assert_round_trips, element_string, filter};

const EXAMPLES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gs1-public-examples.json"));

#[test]
fn every_public_epc_96_example_decodes_and_encodes_back() {
    let examples: serde_json::Value = serde_json::from_str(EXAMPLES).unwrap();
    let epc_96 = examples["epc_96"].as_array().unwrap();
    assert!(epc_96.len() >= 3, "the examples file lost its EPC examples");
    for example in epc_96 {
        let text = |key: &str| example[key].as_str().unwrap().to_owned();
        let (hex, tag_uri, pure, element) = (text("hex"), text("tag_uri"), text("pure"), text("element"));

        let tag = TagEncoding::from_hex(&hex).unwrap();
        assert_eq!(tag.to_tag_uri(), tag_uri);
        assert_eq!(tag.to_pure_uri(), pure);
        assert_eq!(element_string(&tag.to_ai_pairs()), element);
        assert_eq!(tag.to_hex(), hex);
        assert_eq!(TagEncoding::from_hex(&hex.to_lowercase()).unwrap(), tag);

        assert_eq!(TagEncoding::from_tag_uri(&tag_uri).unwrap().to_hex(), hex);
        let identity = PureIdentity::parse(&pure).unwrap();
        assert_eq!(element_string(&identity.to_ai_pairs()), element);
        // All three examples use the 7-digit company prefix 0614141.
        assert_eq!(PureIdentity::from_ai_pairs(&identity.to_ai_pairs(), 7).unwrap(), identity);
        let encoded = TagEncoding::encode(identity, tag.filter()).unwrap();
        assert_eq!(encoded.to_hex(), hex);
        assert_round_trips(&encoded);
    }
}

#[test]
fn the_public_digital_link_sgtin_maps_to_its_gtin_and_serial() {
    // gs1-public-examples.json pairs this SGTIN with the Digital Link
    // https://id.gs1.org/01/10614141073464/21/2017.
    let identity = PureIdentity::parse("urn:epc:id:sgtin:0614141.107346.2017").unwrap();
    let pairs = identity.to_ai_pairs();
    assert_eq!(pairs, [("01".to_owned(), "10614141073464".to_owned()), ("21".to_owned(), "2017".to_owned())]);
    assert_eq!(PureIdentity::from_ai_pairs(&pairs, 7).unwrap(), identity);
}

/// Published vectors of the open-source epcpy test suite (nedap/retail-epcpy),
/// an implementation independent of this one; several repeat TDS Appendix E.
const THIRD_PARTY_VECTORS: [(&str, &str); 12] = [
    ("urn:epc:tag:giai-202:1.0614141.12345400", "3834257BF58B266D1AB460C00000000000000000000000000000"),
    ("urn:epc:tag:giai-202:0.0614141.1ABc%2FD", "3814257BF58C1858D7C400000000000000000000000000000000"),
    ("urn:epc:tag:giai-202:4.061411.01ABc%2FD", "38983BF8D831830B1AF880000000000000000000000000000000"),
    ("urn:epc:tag:giai-202:1.012345.012345678901234567890123", "38380C0E583164CDA356CDDC3960C593368D5B3770E583164CC0"),
    ("urn:epc:tag:giai-202:1.0614141.02", "3834257BF5832000000000000000000000000000000000000000"),
    ("urn:epc:tag:giai-96:1.0614141.12345400", "3434257BF400000000BC6038"),
    ("urn:epc:tag:grai-96:5.0614141.12345.400", "33B4257BF40C0E4000000190"),
    ("urn:epc:tag:grai-96:0.061414113245..0", "3300393243FF740000000000"),
    ("urn:epc:tag:grai-96:0.061414113245..274877906943", "3300393243FF743FFFFFFFFF"),
    ("urn:epc:tag:sgln-96:1.0614141.12345.400", "3234257BF460720000000190"),
    ("urn:epc:tag:sgln-96:0.061411123456..2199023255551", "320039318D8401FFFFFFFFFF"),
    ("urn:epc:tag:sgtin-96:6.50712192365.88.0", "30C579D5D4ADB60000000000"),
];

#[test]
fn third_party_vectors_agree_in_both_directions() {
    for (tag_uri, hex) in THIRD_PARTY_VECTORS {
        let tag = TagEncoding::from_tag_uri(tag_uri).unwrap();
        assert_eq!(tag.to_hex(), hex, "{tag_uri}");
        let decoded = TagEncoding::from_hex(hex).unwrap();
        assert_eq!(decoded.to_tag_uri(), tag_uri, "{hex}");
        assert_round_trips(&decoded);
    }
}

#[test]
fn an_escaped_giai_202_reference_maps_to_its_raw_gs1_value() {
    let tag = TagEncoding::from_tag_uri("urn:epc:tag:giai-202:0.0614141.1ABc%2FD").unwrap();
    assert_eq!(tag.to_pure_uri(), "urn:epc:id:giai:0614141.1ABc%2FD");
    assert_eq!(element_string(&tag.to_ai_pairs()), "(8004)06141411ABc/D");
}

#[test]
fn the_ledgers_alphanumeric_giai_encodes_as_giai_202() {
    // DESIGN.md's example item, with the 7-digit company prefix 4750001.
    let identity = PureIdentity::from_ai_pairs(&[("8004", "4750001BEAM-0001")], 7).unwrap();
    assert_eq!(identity.to_uri(), "urn:epc:id:giai:4750001.BEAM-0001");
    let tag = TagEncoding::encode(identity, filter(0)).unwrap();
    assert_eq!(tag.scheme(), EpcScheme::Giai202);
    assert_eq!(tag.to_tag_uri(), "urn:epc:tag:giai-202:0.4750001.BEAM-0001");
    let hex = assert_round_trips(&tag);
    assert_eq!(hex.len(), 52);
    assert!(hex.starts_with("38"));
    assert_eq!(element_string(&tag.to_ai_pairs()), "(8004)4750001BEAM-0001");
}

#[test]
fn a_numeric_giai_encodes_as_giai_96_and_a_zero_led_one_as_giai_202() {
    let numeric = PureIdentity::parse("urn:epc:id:giai:0614141.5678").unwrap();
    assert_eq!(TagEncoding::encode(numeric, filter(3)).unwrap().scheme(), EpcScheme::Giai96);
    let zero_led = PureIdentity::parse("urn:epc:id:giai:0614141.05678").unwrap();
    let tag = TagEncoding::encode(zero_led, filter(3)).unwrap();
    assert_eq!(tag.scheme(), EpcScheme::Giai202);
    assert_eq!(tag.to_tag_uri(), "urn:epc:tag:giai-202:3.0614141.05678");
}

#[test]
fn display_and_from_str_are_the_uris() {
    let uri = "urn:epc:id:sgln:0614141.12345.400";
    let identity: PureIdentity = uri.parse().unwrap();
    assert_eq!(identity.to_string(), uri);
    let tag = TagEncoding::encode(identity, filter(1)).unwrap();
    assert_eq!(tag.to_string(), "urn:epc:tag:sgln-96:1.0614141.12345.400");
    assert_eq!(EpcScheme::Giai202.to_string(), "GIAI-202");
    assert_eq!(filter(5).to_string(), "5");
}

#[test]
fn schemes_know_their_headers_and_lengths() {
    let expected = [
        (EpcScheme::Sgtin96, 0x30, 96, 24, "sgtin-96"),
        (EpcScheme::Sgln96, 0x32, 96, 24, "sgln-96"),
        (EpcScheme::Grai96, 0x33, 96, 24, "grai-96"),
        (EpcScheme::Giai96, 0x34, 96, 24, "giai-96"),
        (EpcScheme::Giai202, 0x38, 202, 52, "giai-202"),
    ];
    for (scheme, header, bits, hex, name) in expected {
        assert_eq!(scheme.header(), header);
        assert_eq!(EpcScheme::from_header(header), Some(scheme));
        assert_eq!(scheme.bit_length(), bits);
        assert_eq!(scheme.hex_length(), hex);
        assert_eq!(scheme.tag_uri_name(), name);
    }
    for header in [0x00, 0x31, 0x35, 0x36, 0x37, 0x39, 0xFF] {
        assert_eq!(EpcScheme::from_header(header), None, "0x{header:02X}");
    }
}
