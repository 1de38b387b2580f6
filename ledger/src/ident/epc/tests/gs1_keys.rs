//! Pure identities to and from GS1 keys as AI pairs (TDS §7).

use super::super::{EpcError, PureIdentity};
use super::element_string;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(ai, value)| ((*ai).to_owned(), (*value).to_owned())).collect()
}

/// A pure identity URI, its AI pairs and its company prefix length.
type KeyCase<'a> = (&'a str, &'a [(&'a str, &'a str)], usize);

#[test]
fn each_kind_maps_to_its_ai_pairs_and_back() {
    let cases: [KeyCase; 6] = [
        ("urn:epc:id:sgtin:0614141.812345.6789", &[("01", "80614141123458"), ("21", "6789")], 7),
        ("urn:epc:id:sgtin:0614141.012345.A%2FB.1", &[("01", "00614141123452"), ("21", "A/B.1")], 7),
        ("urn:epc:id:grai:0614141.12345.5678", &[("8003", "006141411234525678")], 7),
        ("urn:epc:id:giai:0614141.5678", &[("8004", "06141415678")], 7),
        ("urn:epc:id:sgln:0614141.12345.400", &[("414", "0614141123452"), ("254", "400")], 7),
        ("urn:epc:id:sgln:0614141.12345.0", &[("414", "0614141123452")], 7),
    ];
    for (uri, expected, prefix_len) in cases {
        let identity = PureIdentity::parse(uri).unwrap();
        assert_eq!(identity.to_ai_pairs(), pairs(expected), "{uri}");
        assert_eq!(PureIdentity::from_ai_pairs(expected, prefix_len).unwrap(), identity, "{uri}");
    }
}

#[test]
fn the_company_prefix_length_decides_the_split() {
    // One GTIN, seven ways to read it.
    for prefix_len in 6..=12usize {
        let identity = PureIdentity::from_ai_pairs(&[("01", "80614141123458"), ("21", "1")], prefix_len).unwrap();
        let uri = identity.to_uri();
        let body = uri.strip_prefix("urn:epc:id:sgtin:").unwrap();
        let (prefix, rest) = body.split_once('.').unwrap();
        assert_eq!(prefix, &"0614141123458"[..prefix_len]);
        assert_eq!(rest, format!("8{}.1", &"0614141123458"[prefix_len..12]));
        assert_eq!(element_string(&identity.to_ai_pairs()), "(01)80614141123458(21)1");
    }
    // A 12-digit prefix leaves GRAI and SGLN no reference digits.
    let grai = PureIdentity::from_ai_pairs(&[("8003", "006141411234525678")], 12).unwrap();
    assert_eq!(grai.to_uri(), "urn:epc:id:grai:061414112345..5678");
    let sgln = PureIdentity::from_ai_pairs(&[("414", "0614141123452")], 12).unwrap();
    assert_eq!(sgln.to_uri(), "urn:epc:id:sgln:061414112345..0");
}

#[test]
fn pairs_may_come_in_any_order() {
    let forward = PureIdentity::from_ai_pairs(&[("01", "80614141123458"), ("21", "6789")], 7).unwrap();
    let backward = PureIdentity::from_ai_pairs(&[("21", "6789"), ("01", "80614141123458")], 7).unwrap();
    assert_eq!(forward, backward);
    let sgln = PureIdentity::from_ai_pairs(&[("254", "X1"), ("414", "0614141123452")], 7).unwrap();
    assert_eq!(sgln.to_uri(), "urn:epc:id:sgln:0614141.12345.X1");
}

#[test]
fn alphanumeric_serials_keep_every_character_of_set_82() {
    let serial = "!\"%&'()*+,-./:;<=>?_";
    let identity = PureIdentity::from_ai_pairs(&[("01", "80614141123458"), ("21", serial)], 7).unwrap();
    assert_eq!(identity.to_uri(), "urn:epc:id:sgtin:0614141.812345.!%22%25%26'()*+,-.%2F:;%3C=%3E%3F_");
    assert_eq!(PureIdentity::parse(&identity.to_uri()).unwrap(), identity);
    assert_eq!(identity.to_ai_pairs()[1].1, serial);
}

#[test]
fn check_digits_are_verified() {
    let wrong = |list: &[(&str, &str)]| PureIdentity::from_ai_pairs(list, 7).unwrap_err();
    assert_eq!(
        wrong(&[("01", "80614141123459"), ("21", "1")]),
        EpcError::CheckDigit { ai: "01", value: "80614141123459".to_owned(), expected: 8 }
    );
    assert!(matches!(wrong(&[("8003", "006141411234535678")]), EpcError::CheckDigit { ai: "8003", expected: 2, .. }));
    assert!(matches!(wrong(&[("414", "0614141123453")]), EpcError::CheckDigit { ai: "414", expected: 2, .. }));
}
