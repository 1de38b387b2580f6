//! Properties over random values of every field size: round trips between hex,
//! tag URI, pure URI and AI pairs, agreement with the independent oracle, and
//! parsers that refuse rather than panic.

use proptest::prelude::*;

use super::super::{EpcScheme, GiaiIdentity, GraiIdentity, PureIdentity, SglnIdentity, SgtinIdentity, TagEncoding};
use super::{assert_round_trips, expected_hex, filter, number_bits, string_bits, widths};

const SET82: &str = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

fn digits(count: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::char::range('0', '9'), count).prop_map(|chars| chars.into_iter().collect())
}

fn set82(min: usize, max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = SET82.chars().collect();
    proptest::collection::vec(proptest::sample::select(chars), min..=max).prop_map(|chars| chars.into_iter().collect())
}

/// Numbers up to `max`, with both ends drawn often.
fn up_to(max: u64) -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), Just(max), 0..=max]
}

/// A company prefix and a field of `total` minus its length digits.
fn prefix_and_reference(total: usize) -> impl Strategy<Value = (String, String)> {
    (6usize..=12).prop_flat_map(move |len| (digits(len), digits(total - len)))
}

fn number(text: &str) -> u64 {
    if text.is_empty() { 0 } else { text.parse().unwrap() }
}

fn hex_with_header() -> impl Strategy<Value = String> {
    let headers: Vec<EpcScheme> = EpcScheme::ALL.to_vec();
    (proptest::sample::select(headers), any::<bool>()).prop_flat_map(|(scheme, lowercase)| {
        let body = proptest::collection::vec(
            proptest::sample::select("0123456789ABCDEF".chars().collect::<Vec<_>>()),
            scheme.hex_length() - 2,
        );
        body.prop_map(move |chars| {
            let hex = format!("{:02X}{}", scheme.header(), chars.into_iter().collect::<String>());
            if lowercase { hex.to_lowercase() } else { hex }
        })
    })
}

proptest! {
    #[test]
    fn sgtin_96_round_trips((prefix, item) in prefix_and_reference(13), f in 0u8..8, serial in up_to((1 << 38) - 1)) {
        let identity = SgtinIdentity::new(&prefix, &item, &serial.to_string()).unwrap();
        let tag = TagEncoding::new(EpcScheme::Sgtin96, filter(f), PureIdentity::Sgtin(identity)).unwrap();
        let (_, other_bits) = widths(EpcScheme::Sgtin96)[12 - prefix.len()];
        let rest = number_bits(number(&item), other_bits) + &number_bits(serial, 38);
        prop_assert_eq!(assert_round_trips(&tag), expected_hex(EpcScheme::Sgtin96, f, &prefix, &rest));
    }

    #[test]
    fn grai_96_round_trips((prefix, asset_type) in prefix_and_reference(12), f in 0u8..8, serial in up_to((1 << 38) - 1)) {
        let identity = GraiIdentity::new(&prefix, &asset_type, &serial.to_string()).unwrap();
        let tag = TagEncoding::encode(PureIdentity::Grai(identity), filter(f)).unwrap();
        let (_, other_bits) = widths(EpcScheme::Grai96)[12 - prefix.len()];
        let rest = number_bits(number(&asset_type), other_bits) + &number_bits(serial, 38);
        prop_assert_eq!(assert_round_trips(&tag), expected_hex(EpcScheme::Grai96, f, &prefix, &rest));
    }

    #[test]
    fn sgln_96_round_trips((prefix, location) in prefix_and_reference(12), f in 0u8..8, extension in up_to((1 << 41) - 1)) {
        let identity = SglnIdentity::new(&prefix, &location, &extension.to_string()).unwrap();
        let tag = TagEncoding::encode(PureIdentity::Sgln(identity), filter(f)).unwrap();
        let (_, other_bits) = widths(EpcScheme::Sgln96)[12 - prefix.len()];
        let rest = number_bits(number(&location), other_bits) + &number_bits(extension, 41);
        prop_assert_eq!(assert_round_trips(&tag), expected_hex(EpcScheme::Sgln96, f, &prefix, &rest));
    }

    #[test]
    fn giai_96_round_trips(
        (prefix, reference) in (6usize..=12).prop_flat_map(|len| {
            let (_, bits) = widths(EpcScheme::Giai96)[12 - len];
            (digits(len), up_to((1u64 << bits) - 1))
        }),
        f in 0u8..8,
    ) {
        let identity = GiaiIdentity::new(&prefix, &reference.to_string()).unwrap();
        let tag = TagEncoding::encode(PureIdentity::Giai(identity), filter(f)).unwrap();
        prop_assert_eq!(tag.scheme(), EpcScheme::Giai96);
        let (_, other_bits) = widths(EpcScheme::Giai96)[12 - prefix.len()];
        let rest = number_bits(reference, other_bits);
        prop_assert_eq!(assert_round_trips(&tag), expected_hex(EpcScheme::Giai96, f, &prefix, &rest));
    }

    #[test]
    fn giai_202_round_trips(
        (prefix, reference) in (6usize..=12).prop_flat_map(|len| (digits(len), set82(1, 30 - len))),
        f in 0u8..8,
    ) {
        let identity = GiaiIdentity::new(&prefix, &reference).unwrap();
        let tag = TagEncoding::new(EpcScheme::Giai202, filter(f), PureIdentity::Giai(identity)).unwrap();
        let (_, other_bits) = widths(EpcScheme::Giai202)[12 - prefix.len()];
        let rest = string_bits(&reference, other_bits);
        prop_assert_eq!(assert_round_trips(&tag), expected_hex(EpcScheme::Giai202, f, &prefix, &rest));
        // encode() picks GIAI-202 exactly when GIAI-96 cannot hold the reference.
        let chosen = TagEncoding::encode(tag.identity().clone(), filter(f)).unwrap().scheme();
        prop_assert_eq!(chosen == EpcScheme::Giai96, TagEncoding::new(EpcScheme::Giai96, filter(f), tag.into_identity()).is_ok());
    }

    #[test]
    fn alphanumeric_pure_identities_round_trip_through_uris_and_ai_pairs(
        (prefix, item, asset_type, serial20, serial16, reference) in (6usize..=12).prop_flat_map(|len| {
            (digits(len), digits(13 - len), digits(12 - len), set82(1, 20), set82(1, 16), set82(1, 30 - len))
        }),
    ) {
        let identities = [
            PureIdentity::Sgtin(SgtinIdentity::new(&prefix, &item, &serial20).unwrap()),
            PureIdentity::Grai(GraiIdentity::new(&prefix, &asset_type, &serial16).unwrap()),
            PureIdentity::Giai(GiaiIdentity::new(&prefix, &reference).unwrap()),
            PureIdentity::Sgln(SglnIdentity::new(&prefix, &asset_type, &serial20).unwrap()),
        ];
        for identity in identities {
            let uri = identity.to_uri();
            prop_assert!(uri.chars().all(|c| c.is_ascii_graphic()));
            prop_assert_eq!(&PureIdentity::parse(&uri).unwrap(), &identity);
            // An SGLN extension "0" leaves out AI 254 and comes back as "0".
            prop_assert_eq!(PureIdentity::from_ai_pairs(&identity.to_ai_pairs(), prefix.len()).unwrap(), identity);
        }
    }

    #[test]
    fn decoding_random_hex_refuses_or_round_trips_exactly(hex in hex_with_header()) {
        if let Ok(tag) = TagEncoding::from_hex(&hex) {
            prop_assert_eq!(tag.to_hex(), hex.to_uppercase());
            assert_round_trips(&tag);
        }
    }

    #[test]
    fn hex_parsing_never_panics(text in any::<String>(), hexish in "[0-9a-fA-F ]{0,60}") {
        let _ = TagEncoding::from_hex(&text);
        let _ = TagEncoding::from_hex(&hexish);
    }

    #[test]
    fn uri_parsing_never_panics_and_accepted_uris_are_canonical_once_written(
        text in any::<String>(),
        body in "[0-9.%A-Za-z/#\"'é]{0,40}",
        kind in proptest::sample::select(vec![
            "urn:epc:id:sgtin:", "urn:epc:id:grai:", "urn:epc:id:giai:", "urn:epc:id:sgln:",
            "urn:epc:tag:sgtin-96:", "urn:epc:tag:grai-96:", "urn:epc:tag:giai-96:", "urn:epc:tag:giai-202:",
            "urn:epc:tag:sgln-96:",
        ]),
    ) {
        for uri in [text.clone(), format!("{kind}{body}"), format!("{kind}{text}")] {
            if let Ok(identity) = PureIdentity::parse(&uri) {
                prop_assert_eq!(PureIdentity::parse(&identity.to_uri()).unwrap(), identity);
            }
            if let Ok(tag) = TagEncoding::from_tag_uri(&uri) {
                prop_assert_eq!(TagEncoding::from_tag_uri(&tag.to_tag_uri()).unwrap(), tag.clone());
                assert_round_trips(&tag);
            }
        }
    }

    #[test]
    fn ai_pair_parsing_never_panics(
        pairs in proptest::collection::vec(
            (proptest::sample::select(vec!["01", "21", "8003", "8004", "414", "254", "10"]), any::<String>()),
            0..4,
        ),
        numeric in "[0-9]{0,20}",
        prefix_len in 0usize..40,
    ) {
        let _ = PureIdentity::from_ai_pairs(&pairs, prefix_len);
        let keys = [("01", numeric.as_str()), ("21", "1")];
        let _ = PureIdentity::from_ai_pairs(&keys, prefix_len);
        for ai in ["8003", "8004", "414"] {
            if let Ok(identity) = PureIdentity::from_ai_pairs(&[(ai, numeric.as_str())], prefix_len) {
                prop_assert_eq!(identity.to_ai_pairs(), vec![(ai.to_owned(), numeric.clone())]);
            }
        }
    }
}
