//! Every partition value (company prefixes of 6 to 12 digits) with every
//! filter value, for every scheme, at the smallest and largest values of each
//! field; and the limits of each field.

use super::super::{
    EpcError, EpcScheme, GiaiIdentity, GraiIdentity, PureIdentity, SglnIdentity, SgtinIdentity, TagEncoding,
};
use super::{assert_round_trips, expected_hex, filter, number_bits, string_bits, widths};

const MAX_SERIAL: u64 = (1 << 38) - 1;
const MAX_EXTENSION: u64 = (1 << 41) - 1;

/// Digit strings for a field of `digits` digits: all zeros, all nines, and a
/// mixed one.
fn digit_samples(digits: usize) -> [String; 3] {
    ["0".repeat(digits), "9".repeat(digits), "0614141812345".chars().cycle().skip(3).take(digits).collect()]
}

fn tag(scheme: EpcScheme, filter_value: u8, identity: PureIdentity) -> TagEncoding {
    TagEncoding::new(scheme, filter(filter_value), identity).unwrap()
}

#[test]
fn sgtin_96_every_partition_and_filter() {
    for prefix_len in 6..=12 {
        let (_, other_bits) = widths(EpcScheme::Sgtin96)[12 - prefix_len];
        for (prefix, item) in digit_samples(prefix_len).iter().zip(digit_samples(13 - prefix_len).iter()) {
            for filter_value in 0..=7 {
                for serial in [0, 1, 6789, MAX_SERIAL] {
                    let identity = SgtinIdentity::new(prefix, item, &serial.to_string()).unwrap();
                    let tag = tag(EpcScheme::Sgtin96, filter_value, PureIdentity::Sgtin(identity));
                    let rest = number_bits(item.parse().unwrap(), other_bits) + &number_bits(serial, 38);
                    assert_eq!(tag.to_hex(), expected_hex(EpcScheme::Sgtin96, filter_value, prefix, &rest));
                    assert_eq!(
                        tag.to_tag_uri(),
                        format!("urn:epc:tag:sgtin-96:{filter_value}.{prefix}.{item}.{serial}")
                    );
                    assert_round_trips(&tag);
                }
            }
        }
    }
}

#[test]
fn grai_96_every_partition_and_filter_including_the_empty_asset_type() {
    for prefix_len in 6..=12 {
        let (_, other_bits) = widths(EpcScheme::Grai96)[12 - prefix_len];
        for (prefix, asset_type) in digit_samples(prefix_len).iter().zip(digit_samples(12 - prefix_len).iter()) {
            for filter_value in 0..=7 {
                for serial in [0, 5678, MAX_SERIAL] {
                    let identity = GraiIdentity::new(prefix, asset_type, &serial.to_string()).unwrap();
                    let tag = tag(EpcScheme::Grai96, filter_value, PureIdentity::Grai(identity));
                    let asset_number = if asset_type.is_empty() { 0 } else { asset_type.parse().unwrap() };
                    let rest = number_bits(asset_number, other_bits) + &number_bits(serial, 38);
                    assert_eq!(tag.to_hex(), expected_hex(EpcScheme::Grai96, filter_value, prefix, &rest));
                    assert_eq!(
                        tag.to_tag_uri(),
                        format!("urn:epc:tag:grai-96:{filter_value}.{prefix}.{asset_type}.{serial}")
                    );
                    assert_round_trips(&tag);
                }
            }
        }
    }
}

#[test]
fn sgln_96_every_partition_and_filter_including_the_empty_location_reference() {
    for prefix_len in 6..=12 {
        let (_, other_bits) = widths(EpcScheme::Sgln96)[12 - prefix_len];
        for (prefix, location) in digit_samples(prefix_len).iter().zip(digit_samples(12 - prefix_len).iter()) {
            for filter_value in 0..=7 {
                for extension in [0, 400, MAX_EXTENSION] {
                    let identity = SglnIdentity::new(prefix, location, &extension.to_string()).unwrap();
                    let tag = tag(EpcScheme::Sgln96, filter_value, PureIdentity::Sgln(identity));
                    let location_number = if location.is_empty() { 0 } else { location.parse().unwrap() };
                    let rest = number_bits(location_number, other_bits) + &number_bits(extension, 41);
                    assert_eq!(tag.to_hex(), expected_hex(EpcScheme::Sgln96, filter_value, prefix, &rest));
                    assert_round_trips(&tag);
                }
            }
        }
    }
}

#[test]
fn giai_96_every_partition_and_filter_up_to_the_largest_asset_reference() {
    for prefix_len in 6..=12 {
        let (_, other_bits) = widths(EpcScheme::Giai96)[12 - prefix_len];
        let max = (1u64 << other_bits) - 1;
        for prefix in digit_samples(prefix_len) {
            for filter_value in 0..=7 {
                for reference in [0, 5678, max] {
                    let identity = GiaiIdentity::new(&prefix, &reference.to_string()).unwrap();
                    let tag = tag(EpcScheme::Giai96, filter_value, PureIdentity::Giai(identity));
                    let rest = number_bits(reference, other_bits);
                    assert_eq!(tag.to_hex(), expected_hex(EpcScheme::Giai96, filter_value, &prefix, &rest));
                    assert_round_trips(&tag);
                }
            }
        }
    }
}

#[test]
fn giai_202_every_partition_and_filter_up_to_the_longest_asset_reference() {
    // Every character of set 82, including the seven a URI escapes.
    let set82: String =
        "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".to_owned();
    assert_eq!(set82.len(), 82);
    for prefix_len in 6..=12 {
        let (_, other_bits) = widths(EpcScheme::Giai202)[12 - prefix_len];
        let longest = 30 - prefix_len;
        let references: Vec<String> = vec![
            "0".to_owned(),
            "A".repeat(longest),
            set82.chars().rev().take(longest).collect(),
            set82.chars().skip(longest).take(longest).collect(),
            set82.chars().skip(2 * longest).take(longest).collect(),
            "%/\"<>?&".to_owned(),
        ];
        for prefix in digit_samples(prefix_len) {
            for filter_value in 0..=7 {
                for reference in &references {
                    let identity = GiaiIdentity::new(&prefix, reference).unwrap();
                    let tag = tag(EpcScheme::Giai202, filter_value, PureIdentity::Giai(identity));
                    let rest = string_bits(reference, other_bits);
                    assert_eq!(tag.to_hex(), expected_hex(EpcScheme::Giai202, filter_value, &prefix, &rest));
                    assert_round_trips(&tag);
                }
            }
        }
    }
}

#[test]
fn serials_and_extensions_stop_at_their_bit_widths() {
    let sgtin = |serial: &str| PureIdentity::Sgtin(SgtinIdentity::new("0614141", "812345", serial).unwrap());
    assert!(TagEncoding::new(EpcScheme::Sgtin96, filter(0), sgtin("274877906943")).is_ok());
    assert_eq!(
        TagEncoding::new(EpcScheme::Sgtin96, filter(0), sgtin("274877906944")),
        Err(EpcError::TooLarge {
            scheme: EpcScheme::Sgtin96,
            field: "serial",
            value: "274877906944".to_owned(),
            max: 274_877_906_943
        })
    );
    assert!(TagEncoding::new(EpcScheme::Sgtin96, filter(0), sgtin("0")).is_ok());

    let grai = |serial: &str| PureIdentity::Grai(GraiIdentity::new("0614141", "12345", serial).unwrap());
    assert!(TagEncoding::encode(grai("274877906943"), filter(0)).is_ok());
    assert!(matches!(TagEncoding::encode(grai("274877906944"), filter(0)), Err(EpcError::TooLarge { .. })));

    let sgln = |extension: &str| PureIdentity::Sgln(SglnIdentity::new("0614141", "12345", extension).unwrap());
    assert!(TagEncoding::encode(sgln("2199023255551"), filter(0)).is_ok());
    assert!(matches!(
        TagEncoding::encode(sgln("2199023255552"), filter(0)),
        Err(EpcError::TooLarge { field: "extension", max: 2_199_023_255_551, .. })
    ));
}

#[test]
fn giai_96_stops_at_its_partitions_width_and_encode_falls_back_to_giai_202() {
    for prefix_len in 6..=12usize {
        let (_, other_bits) = widths(EpcScheme::Giai96)[12 - prefix_len];
        let prefix = "9".repeat(prefix_len);
        let beyond = (1u64 << other_bits).to_string();
        let identity = PureIdentity::Giai(GiaiIdentity::new(&prefix, &beyond).unwrap());
        assert!(matches!(
            TagEncoding::new(EpcScheme::Giai96, filter(0), identity.clone()),
            Err(EpcError::TooLarge { scheme: EpcScheme::Giai96, max, .. }) if max == (1u64 << other_bits) - 1
        ));
        let tag = TagEncoding::encode(identity, filter(0)).unwrap();
        assert_eq!(tag.scheme(), EpcScheme::Giai202);
        assert_round_trips(&tag);
    }
}

#[test]
fn giai_references_stop_at_30_characters_with_the_prefix() {
    for prefix_len in 6..=12usize {
        let prefix = "1".repeat(prefix_len);
        assert!(GiaiIdentity::new(&prefix, &"Z".repeat(30 - prefix_len)).is_ok());
        assert_eq!(
            GiaiIdentity::new(&prefix, &"Z".repeat(31 - prefix_len)),
            Err(EpcError::TooLong {
                field: "asset reference",
                value: "Z".repeat(31 - prefix_len),
                found: 31 - prefix_len,
                max: 30 - prefix_len
            })
        );
    }
}

#[test]
fn the_partition_value_follows_the_company_prefix_length() {
    for prefix_len in 6..=12usize {
        let identity = PureIdentity::Giai(GiaiIdentity::new(&"1".repeat(prefix_len), "7").unwrap());
        let hex = TagEncoding::encode(identity, filter(0)).unwrap().to_hex();
        let second_byte = u8::from_str_radix(&hex[2..4], 16).unwrap();
        assert_eq!(usize::from((second_byte >> 2) & 0b111), 12 - prefix_len, "{hex}");
    }
}
