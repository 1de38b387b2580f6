use proptest::prelude::*;
use serde_json::Value;

use super::super::element::ValueError;
use super::super::gs1::check_digit;
use super::*;

const GTIN: &str = "https://id.gs1.org/01/09520123456788";

fn parse(uri: &str) -> DigitalLink {
    DigitalLink::parse(uri).unwrap_or_else(|error| panic!("{uri}: {error}"))
}

fn refuse(uri: &str) -> DigitalLinkError {
    match DigitalLink::parse(uri) {
        Ok(link) => panic!("{uri} was accepted as {link}"),
        Err(error) => error,
    }
}

fn codes(elements: &[Element]) -> Vec<&'static str> {
    elements.iter().map(|element| element.ai().code()).collect()
}

#[test]
fn public_digital_link_examples() {
    let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gs1-public-examples.json"));
    let examples: Value = serde_json::from_str(text).unwrap();
    for example in examples["digital_link"].as_array().unwrap() {
        let uri = example["uri"].as_str().unwrap();
        let link = parse(uri);
        assert_eq!(link.to_string(), uri);
        if let Some(element) = example["element"].as_str() {
            assert_eq!(link.element_string().to_string(), element);
            let built =
                DigitalLink::from_element_string(&ElementString::parse(element).unwrap(), &Resolver::gs1()).unwrap();
            assert_eq!(built.to_string(), uri);
            assert_eq!(built, link);
        }
    }
    // The SGTIN example: urn:epc:id:sgtin:0614141.107346.2017.
    let link = parse("https://id.gs1.org/01/10614141073464/21/2017");
    assert_eq!((link.primary_key().ai().code(), link.primary_key().value()), ("01", "10614141073464"));
    assert_eq!(link.key_qualifiers()[0].value(), "2017");
}

#[test]
fn gs1_specification_examples() {
    let link = parse("https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426");
    assert_eq!(codes(link.key_qualifiers()), ["10", "21"]);
    assert_eq!(codes(link.attributes()), ["17"]);
    let link = parse("https://example.com/01/09520123456788?3103=000195&3922=0299&17=201225");
    assert_eq!(link.element_string().to_string(), "(01)09520123456788(3103)000195(3922)0299(17)201225");
    let link = parse("https://id.gs1.org/00/106141411234567897?02=09520123456788&37=25&10=ABC123");
    assert_eq!(codes(link.attributes()), ["02", "37", "10"]);
    let link = parse("https://id.gs1.org/414/9520123456788/254/32a%2Fb");
    assert_eq!(link.key_qualifiers()[0].value(), "32a/b");
    let link = parse("https://example.com/8004/9520614141234567?01=09520123456788");
    assert_eq!(link.element_string().to_string(), "(8004)9520614141234567(01)09520123456788");
}

#[test]
fn giai_links_for_salvaged_items() {
    let beam = Giai::parse("4750001BEAM-0001").unwrap();
    for base in ["https://resolver.example/salvage", "https://resolver.example/salvage/", "resolver.example/salvage"] {
        let link = DigitalLink::for_giai(base, &beam).unwrap();
        assert_eq!(link.to_string(), "https://resolver.example/salvage/8004/4750001BEAM-0001");
        assert_eq!(link.giai(), Some(beam.clone()));
    }
    assert_eq!(
        DigitalLink::for_giai(GS1_RESOLVER, &beam).unwrap().to_string(),
        "https://id.gs1.org/8004/4750001BEAM-0001"
    );
    assert_eq!(
        DigitalLink::for_giai("http://localhost:8080", &beam).unwrap().to_string(),
        "http://localhost:8080/8004/4750001BEAM-0001"
    );

    let every_symbol = Giai::parse("0614141ABC!%&'()*+,-./:;<=>?_z").unwrap();
    let link = DigitalLink::for_giai("https://id.gs1.org", &every_symbol).unwrap();
    assert_eq!(
        link.to_string(),
        "https://id.gs1.org/8004/0614141ABC%21%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F_z"
    );
    assert_eq!(parse(&link.to_string()).giai(), Some(every_symbol));

    assert!(matches!(DigitalLink::for_giai("ftp://x.example", &beam), Err(DigitalLinkError::Scheme { .. })));
    assert!(matches!(
        DigitalLink::for_giai("https://x.example?a=b", &beam),
        Err(DigitalLinkError::ResolverBase { .. })
    ));
    assert!(matches!(DigitalLink::for_giai("https://x.example//a", &beam), Err(DigitalLinkError::EmptySegment { .. })));
    assert!(matches!(DigitalLink::for_giai("", &beam), Err(DigitalLinkError::MissingDomain)));
    // A GIAI whose company prefix is shorter than Salvage's six digits is still a Digital Link, but not an item.
    assert_eq!(parse("https://id.gs1.org/8004/0614ABC").giai(), None);
    assert_eq!(parse(GTIN).giai(), None);
}

#[test]
fn every_special_character_of_set_82_is_percent_encoded() {
    let expected = [
        ('!', "%21"),
        ('"', "%22"),
        ('%', "%25"),
        ('&', "%26"),
        ('\'', "%27"),
        ('(', "%28"),
        (')', "%29"),
        ('*', "%2A"),
        ('+', "%2B"),
        (',', "%2C"),
        ('/', "%2F"),
        (':', "%3A"),
        (';', "%3B"),
        ('<', "%3C"),
        ('=', "%3D"),
        ('>', "%3E"),
        ('?', "%3F"),
        ('-', "-"),
        ('.', "."),
        ('_', "_"),
    ];
    for (character, encoded) in expected {
        let serial = format!("1{character}2");
        let elements = ElementString::from_pairs([("01", "09520123456788"), ("21", &serial), ("99", &serial)]).unwrap();
        let link = DigitalLink::from_element_string(&elements, &Resolver::gs1()).unwrap();
        let uri = format!("{GTIN}/21/1{encoded}2?99=1{encoded}2");
        assert_eq!(link.to_string(), uri);
        assert_eq!(parse(&uri), link, "{uri}");
        // Lower-case hexadecimal decodes too.
        assert_eq!(parse(&uri.to_lowercase()).element_string(), &elements);
    }
}

#[test]
fn stems_schemes_and_domains() {
    let link = parse("https://example.com/resolver/v1/8004/06141415678");
    assert_eq!((link.resolver().authority(), link.resolver().stem()), ("example.com", "/resolver/v1"));
    assert_eq!(link.to_string(), "https://example.com/resolver/v1/8004/06141415678");
    // A stem may itself look like a key: the rightmost key followed by AI/value pairs wins.
    let link = parse("https://a.example/00/faux/00/106141411234567897");
    assert_eq!((link.resolver().stem(), link.primary_key().value()), ("/00/faux", "106141411234567897"));
    let link = parse("http://a.example:8080/01/09520123456788");
    assert_eq!((link.resolver().scheme(), link.resolver().authority()), (Scheme::Http, "a.example:8080"));
    assert_eq!(link.to_string(), "http://a.example:8080/01/09520123456788");
    assert_eq!(parse("HTTPS://id.gs1.org/01/09520123456788").to_string(), GTIN);
    assert_ne!(parse("http://id.gs1.org/01/09520123456788"), parse(GTIN));
    assert!(DigitalLink::parse("https://[2001:db8::1]:443/414/9520123456788/254/32a%2Fb").is_ok());
    assert!(DigitalLink::parse("https://192.0.2.1/8003/006141411234525678").is_ok());
    // A fragment never reaches a resolver, so it is dropped.
    assert_eq!(parse(&format!("{GTIN}/10/ABC#top")).to_string(), format!("{GTIN}/10/ABC"));
    assert_eq!(Resolver::parse("id.gs1.org").unwrap(), Resolver::default());
    assert_eq!(Resolver::parse("https://example.com/r/").unwrap().to_string(), "https://example.com/r");
}

#[test]
fn query_attributes_and_other_parameters_keep_their_order() {
    let uri = format!("{GTIN}?17=201225&linkType=all&3103=000195&singleton&99=x%2Fy&context=a%2Fb");
    let link = parse(&uri);
    assert_eq!(link.to_string(), uri);
    assert_eq!(codes(link.attributes()), ["17", "3103", "99"]);
    assert_eq!(link.extension_parameters().collect::<Vec<_>>(), ["linkType=all", "singleton", "context=a%2Fb"]);
    assert_eq!(link.element_string().to_string(), "(01)09520123456788(17)201225(3103)000195(99)x/y");
    // Empty parameters are skipped; non-AI names are never mistaken for AIs.
    assert_eq!(parse(&format!("{GTIN}?&&17=201225&&")).to_string(), format!("{GTIN}?17=201225"));
    assert_eq!(parse(&format!("{GTIN}?")).to_string(), GTIN);
    assert_eq!(parse(&format!("{GTIN}?l17=x&=3")).attributes().len(), 0);
    // The 235 sequence is chosen, so (10) may be an attribute.
    assert!(DigitalLink::parse(&format!("{GTIN}/235/TPX1?10=ABC123")).is_ok());
    // In the query '+' is a space, which set 82 does not have; in the path it is a '+'.
    assert_eq!(parse(&format!("{GTIN}/21/A+B")).key_qualifiers()[0].value(), "A+B");
    assert!(matches!(
        refuse(&format!("{GTIN}?99=A+B")),
        DigitalLinkError::Element(ElementError::Value { problem: ValueError::Character { character: ' ', .. }, .. })
    ));
}

#[test]
fn malformed_paths_are_refused() {
    let error = refuse(&format!("{GTIN}/21/12345/10/ABC1"));
    assert_eq!(
        error.to_string(),
        "AI (10) at position 3 of the path comes after (21); key qualifiers of (01) go in the order 22, 10, 21"
    );
    assert!(matches!(error, DigitalLinkError::QualifierOrder { ai: "10", position: 3, previous: "21", key: "01", .. }));
    assert!(matches!(refuse(&format!("{GTIN}/10/A/22/B")), DigitalLinkError::QualifierOrder { ai: "22", .. }));
    let error = refuse("https://id.gs1.org/414/9520123456788/10/ABC");
    assert!(
        matches!(error, DigitalLinkError::QualifierNotAllowed { ref ai, position: 2, key: "414", .. } if ai == "10")
    );
    assert!(matches!(refuse("https://id.gs1.org/8004/06141415678/21/1"), DigitalLinkError::QualifierNotAllowed { .. }));
    assert!(matches!(refuse(&format!("{GTIN}/17/201225")), DigitalLinkError::QualifierNotAllowed { .. }));
    assert!(matches!(refuse(&format!("{GTIN}/10/A/235/B")), DigitalLinkError::QualifierNotAllowed { position: 3, .. }));
    assert!(matches!(refuse(&format!("{GTIN}/89/A")), DigitalLinkError::QualifierNotAllowed { .. }));
    assert!(matches!(
        refuse("https://id.gs1.org/414/9520123456788/254/A/7040/1ABC"),
        DigitalLinkError::QualifierNotAllowed { .. }
    ));
    assert_eq!(
        refuse(&format!("{GTIN}/10/A/10/B")),
        DigitalLinkError::Element(ElementError::Duplicate { ai: "10", location: Location::Path(3) })
    );
    assert!(matches!(refuse(&format!("{GTIN}/")), DigitalLinkError::TrailingSlash { .. }));
    assert!(matches!(refuse(&format!("{GTIN}/10/ABC/")), DigitalLinkError::TrailingSlash { .. }));
    assert!(matches!(refuse("https://id.gs1.org/01//10/A"), DigitalLinkError::EmptySegment { segment: 2, .. }));
    assert!(matches!(refuse(&format!("{GTIN}/10")), DigitalLinkError::MissingValue { ref last } if last == "10"));
    assert!(matches!(refuse("https://id.gs1.org/01"), DigitalLinkError::MissingValue { .. }));
    for uri in
        ["https://example.com", "https://example.com/", "https://example.com/products/abc", "https://x.example/a/b/c"]
    {
        assert!(matches!(refuse(uri), DigitalLinkError::NoPrimaryKey { .. }), "{uri}");
    }
    for (uri, key) in [("https://id.gs1.org/253/1231231231232", "253"), ("https://x.example/r/99/ABC", "99")] {
        assert!(matches!(refuse(uri), DigitalLinkError::UnknownPrimaryKey { ref ai, .. } if ai == key), "{uri}");
    }
}

#[test]
fn malformed_queries_are_refused() {
    let error = refuse(&format!("{GTIN}?21=12345"));
    assert!(matches!(error, DigitalLinkError::PathAiInQuery { ai: "21", parameter: 1, key: "01" }), "{error:?}");
    assert!(matches!(
        refuse(&format!("{GTIN}/21/1?17=201225&10=A")),
        DigitalLinkError::PathAiInQuery { ai: "10", parameter: 2, .. }
    ));
    assert!(matches!(refuse("https://id.gs1.org/414/9520123456788?254=A"), DigitalLinkError::PathAiInQuery { .. }));
    assert!(matches!(refuse("https://id.gs1.org/8004/06141415678?7040=1ABC"), DigitalLinkError::PathAiInQuery { .. }));
    assert_eq!(
        refuse(&format!("{GTIN}?99=a&99=b")),
        DigitalLinkError::Element(ElementError::Duplicate { ai: "99", location: Location::Query(2) })
    );
    assert!(matches!(
        refuse(&format!("{GTIN}/10/A?01=09520123456788")),
        DigitalLinkError::Element(ElementError::Duplicate { ai: "01", .. })
    ));
    assert!(matches!(
        refuse(&format!("{GTIN}?17=")),
        DigitalLinkError::Element(ElementError::Value { problem: ValueError::Empty, .. })
    ));
    let error = refuse(&format!("{GTIN}?17=201225&999=faux"));
    assert!(
        matches!(error, DigitalLinkError::Element(ElementError::UnknownAi { location: Location::Query(2), .. })),
        "{error:?}"
    );
    assert!(matches!(
        refuse(&format!("{GTIN}?3103=000195&3102=001950")),
        DigitalLinkError::Element(ElementError::Exclusive { .. })
    ));
}

#[test]
fn malformed_values_and_characters_are_refused() {
    let error = refuse("https://id.gs1.org/01/09520123456789");
    assert!(
        matches!(
            error,
            DigitalLinkError::Element(ElementError::Value {
                ai: "01",
                location: Location::Path(1),
                problem: ValueError::CheckDigit { .. }
            })
        ),
        "{error:?}"
    );
    assert_eq!(
        refuse("https://id.gs1.org/01/09520123456789").to_string(),
        "AI (01) at position 1 of the path: the check digit at character 14 of the value is 9, but the digits before it give 8"
    );
    assert!(matches!(
        refuse("https://id.gs1.org/01/0952012345678"),
        DigitalLinkError::Element(ElementError::Value { problem: ValueError::Length { .. }, .. })
    ));
    assert!(matches!(
        refuse(&format!("{GTIN}/21/{}", "1".repeat(21))),
        DigitalLinkError::Element(ElementError::Value { location: Location::Path(2), .. })
    ));
    assert!(matches!(
        refuse(&format!("{GTIN}?17=181326")),
        DigitalLinkError::Element(ElementError::Value { problem: ValueError::Date { .. }, .. })
    ));
    assert!(matches!(
        refuse(&format!("{GTIN}/21/AB CD")),
        DigitalLinkError::UriCharacter { position: 43, character: ' ' }
    ));
    assert!(matches!(refuse(&format!("{GTIN}/21/A\"B")), DigitalLinkError::UriCharacter { character: '"', .. }));
    assert!(matches!(refuse(&format!("{GTIN}/21/Aé")), DigitalLinkError::UriCharacter { character: 'é', .. }));
    assert!(matches!(refuse(&format!("{GTIN}/21/A%2")), DigitalLinkError::PercentEncoding { position: 42 }));
    assert!(matches!(refuse(&format!("{GTIN}/21/A%ZZ")), DigitalLinkError::PercentEncoding { .. }));
    for encoded in ["%20", "%23", "%40", "%C3%A9", "%00"] {
        assert!(
            matches!(
                refuse(&format!("{GTIN}/21/A{encoded}")),
                DigitalLinkError::Element(ElementError::Value { problem: ValueError::Character { .. }, .. })
            ),
            "{encoded}"
        );
    }
    for uri in [
        "ftp://id.gs1.org/01/09520123456788",
        "urn:epc:id:sgtin:0614141.107346.2017",
        "id.gs1.org/01/09520123456788",
        "https:/id.gs1.org/01/09520123456788",
    ] {
        assert!(matches!(refuse(uri), DigitalLinkError::Scheme { .. }), "{uri}");
    }
    assert!(matches!(refuse("https:///01/09520123456788"), DigitalLinkError::MissingDomain));
    for (uri, bad) in [
        ("https://exa_mple.com/01/09520123456788", '_'),
        ("https://user@example.com/01/09520123456788", '@'),
        ("https://example.com:80x/01/09520123456788", 'x'),
        ("https://[fe80::1%25lo]/01/09520123456788", '%'),
    ] {
        assert!(matches!(refuse(uri), DigitalLinkError::Domain { character, .. } if character == bad), "{uri}");
    }
}

#[test]
fn element_strings_without_a_primary_key_have_no_link() {
    let elements = ElementString::parse("(10)ABC(17)180426").unwrap();
    let error = DigitalLink::from_element_string(&elements, &Resolver::gs1()).unwrap_err();
    assert!(matches!(error, DigitalLinkError::NoPrimaryKeyInElements { .. }));
    // The first primary key leads; the qualifier sequence that places the most qualifiers wins.
    let elements = ElementString::parse("(17)180426(10)B(8004)06141415678(01)09520123456788(21)S(235)T(22)V").unwrap();
    let link = DigitalLink::from_element_string(&elements, &Resolver::gs1()).unwrap();
    assert_eq!(
        link.to_string(),
        "https://id.gs1.org/8004/06141415678?17=180426&10=B&01=09520123456788&21=S&235=T&22=V"
    );
    let elements = ElementString::parse("(01)09520123456788(235)T(21)S(10)B").unwrap();
    let link = DigitalLink::from_element_string(&elements, &Resolver::gs1()).unwrap();
    assert_eq!(link.to_string(), format!("{GTIN}/10/B/21/S?235=T"));
    assert_eq!(parse(&link.to_string()), link);
}

/// Digits followed by their GS1 check digit.
fn numeric_key(body: &'static str) -> impl Strategy<Value = String> {
    proptest::string::string_regex(body).unwrap().prop_map(|body| format!("{body}{}", check_digit(&body).unwrap()))
}

/// Values of GS1 character set 82 of the given lengths.
fn cset82(lengths: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    let characters: Vec<char> =
        "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".chars().collect();
    proptest::collection::vec(proptest::sample::select(characters), lengths)
        .prop_map(|characters| characters.into_iter().collect())
}

fn resolver() -> impl Strategy<Value = Resolver> {
    proptest::sample::select(vec!["https://id.gs1.org", "http://example.com/resolver", "https://x.example:8443/a/01/b"])
        .prop_map(|base| Resolver::parse(base).unwrap())
}

fn gtin_elements() -> impl Strategy<Value = ElementString> {
    (
        numeric_key("[0-9]{13}"),
        proptest::option::of(cset82(1..=20)),
        proptest::option::of(cset82(1..=20)),
        proptest::option::of(cset82(1..=20)),
        proptest::option::of("[0-9]{2}(0[1-9]|1[0-2])(0[0-9]|1[0-9]|2[0-8])"),
        proptest::option::of("[0-9]{6}"),
    )
        .prop_map(|(gtin, cpv, batch, serial, expiry, weight)| {
            let pairs =
                [("01", Some(gtin)), ("22", cpv), ("10", batch), ("21", serial), ("17", expiry), ("3103", weight)];
            ElementString::from_pairs(pairs.into_iter().filter_map(|(ai, value)| Some((ai, value?)))).unwrap()
        })
}

fn giai_elements() -> impl Strategy<Value = ElementString> {
    ("[0-9]{6,12}", cset82(1..=18), proptest::option::of(cset82(1..=20))).prop_map(|(prefix, reference, internal)| {
        let giai = format!("{prefix}{reference}");
        let pairs = [("8004", Some(giai)), ("99", internal)];
        ElementString::from_pairs(pairs.into_iter().filter_map(|(ai, value)| Some((ai, value?)))).unwrap()
    })
}

proptest! {
    #[test]
    fn links_round_trip(elements in prop_oneof![gtin_elements(), giai_elements()], resolver in resolver()) {
        let link = DigitalLink::from_element_string(&elements, &resolver).unwrap();
        let parsed = DigitalLink::parse(&link.to_string()).unwrap();
        prop_assert_eq!(&parsed, &link);
        prop_assert_eq!(parsed.element_string(), &elements);
        let rebuilt = DigitalLink::from_element_string(parsed.element_string(), parsed.resolver()).unwrap();
        prop_assert_eq!(rebuilt.to_string(), link.to_string());
    }

    #[test]
    fn giai_links_round_trip(prefix in "[0-9]{6,12}", reference in cset82(1..=18)) {
        let giai = Giai::parse(&format!("{prefix}{reference}")).unwrap();
        let link = DigitalLink::for_giai("https://r.example/s", &giai).unwrap();
        prop_assert_eq!(DigitalLink::parse(&link.to_string()).unwrap().giai(), Some(giai));
    }

    #[test]
    fn damaged_links_are_refused_or_read_consistently(
        elements in gtin_elements(),
        damage in proptest::collection::vec((any::<proptest::sample::Index>(), "[/?&=%#+.:0-9A-Za-z]{0,2}"), 1..4),
    ) {
        let mut uri = DigitalLink::from_element_string(&elements, &Resolver::gs1()).unwrap().to_string();
        for (at, text) in damage {
            let at = at.index(uri.len() + 1);
            uri.replace_range(at..(at + 1).min(uri.len()), &text);
        }
        // Whatever is accepted prints as a link that reads back the same.
        if let Ok(link) = DigitalLink::parse(&uri) {
            prop_assert_eq!(DigitalLink::parse(&link.to_string()).unwrap(), link);
        }
    }

    #[test]
    fn parsing_never_panics(
        uri in "(https?|HTTP|ftp)://[a-z0-9.:\\[\\]@_-]{0,12}(/[0-9A-Za-z%!'()*+,;=:@._~-]{0,6}){0,8}(\\?[0-9A-Za-z%=&+._-]{0,30})?(#.{0,5})?",
        noise in "\\PC{0,60}",
    ) {
        let _ = DigitalLink::parse(&uri);
        let _ = DigitalLink::parse(&noise);
        let _ = DigitalLink::parse(&format!("https://id.gs1.org/01/09520123456788{noise}"));
        let _ = Resolver::parse(&uri);
        let _ = Resolver::parse(&noise);
    }
}
