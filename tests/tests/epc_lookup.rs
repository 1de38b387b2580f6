//! RFID tag reads lead back to items: `GET /v1/epc/{epc}` on a real node takes
//! what a reader reports (the binary EPC in hex) or an EPC URI and redirects to
//! the item's page, for a GIAI of every company prefix length (each partition of
//! GIAI-96) and for alphanumeric ones (GIAI-202). Every hex the ledger's encoder
//! writes is first read back by the tests' independent decoder
//! (`salvage_tests::epc_decoder`, written from the TDS), which is also held
//! against the ledger on thousands of random GIAIs and random bit strings.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_ledger::ident::epc::{EpcScheme, Filter, GiaiIdentity};
use salvage_ledger::ident::{PureIdentity, TagEncoding};
use salvage_tests::epc_decoder::{self, DecodeError, Scheme};
use salvage_tests::http::Answer;
use salvage_tests::node::{PUBLIC_URL, Running, Site};
use salvage_tests::random::SplitMix;

const OPERATOR: &str = "city-of-jelgava";
const CONTRACTOR: &str = "baltic-demolition";

/// The items registered: (company prefix, asset reference, scheme). The
/// numeric ones take every partition of GIAI-96, some at the largest asset
/// reference its N bits hold; the others need GIAI-202.
const ITEMS: [(&str, &str, Scheme); 11] = [
    ("061414100001", "4398046511103", Scheme::Giai96), // 12 digits: 2^42 - 1
    ("06141410001", "17", Scheme::Giai96),
    ("0614141001", "281474976710655", Scheme::Giai96), // 10 digits: 2^48 - 1
    ("061414101", "123456789", Scheme::Giai96),
    ("06141410", "0", Scheme::Giai96),
    ("0614141", "5678", Scheme::Giai96),               // the TDS's example
    ("061414", "4611686018427387903", Scheme::Giai96), // 6 digits: 2^62 - 1
    ("4750001", "BEAM-0001", Scheme::Giai202),
    ("4750001", "BEAM/12%B", Scheme::Giai202), // `/` and `%` are escaped in URIs and URLs
    ("475000", "05", Scheme::Giai202),         // a leading zero a number would lose
    ("061414100002", "4398046511104", Scheme::Giai202), // 2^42: one more than 42 bits hold
];

#[test]
fn every_form_of_an_items_epc_redirects_to_its_page() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    for (prefix, reference, scheme) in ITEMS {
        let giai = format!("{prefix}{reference}");
        let register = site.fixture.register(CONTRACTOR, &giai, "HEA 160 steel beam", 182.4);
        let answer = node.submit_one(&register);
        assert_eq!(answer.status, 201, "{giai}: {}", answer.text());

        let tag = encode(prefix, reference, 3);
        let hex = tag.to_hex();
        let decoded = epc_decoder::decode(&hex).unwrap_or_else(|error| panic!("{giai}: {hex}: {error}"));
        assert_eq!(decoded.giai(), giai, "{hex}");
        assert_eq!(decoded.scheme, scheme, "{giai}: {hex}");
        assert_eq!(usize::from(decoded.partition), 12 - prefix.len(), "{giai}: {hex}");
        assert_eq!((decoded.company_prefix.as_str(), decoded.asset_reference.as_str()), (prefix, reference));
        assert_eq!(decoded.tag_uri(), tag.to_tag_uri());

        let page = format!("{PUBLIC_URL}/8004/{}", url_encoded(&giai));
        let mut forms = vec![hex.clone(), hex.to_lowercase(), url_encoded(&tag.to_tag_uri())];
        forms.push(url_encoded(&tag.to_pure_uri()));
        if !reference.contains(['%', '/']) {
            // Colons and dots need no escape in a path: the URIs as written.
            forms.extend([tag.to_tag_uri(), tag.to_pure_uri()]);
        }
        for form in forms {
            assert_redirects(&node, &form, &page);
        }
    }

    // The same GIAI split after another number of digits, or held in GIAI-202
    // instead of GIAI-96, names the same item.
    let page = format!("{PUBLIC_URL}/8004/06141415678");
    let six_digits = encode("061414", "15678", 0);
    assert_eq!(six_digits.scheme(), EpcScheme::Giai96);
    assert_eq!(epc_decoder::decode(&six_digits.to_hex()).unwrap().partition, 6);
    let identity = PureIdentity::Giai(GiaiIdentity::new("0614141", "5678").unwrap());
    let in_giai_202 = TagEncoding::new(EpcScheme::Giai202, filter(1), identity).unwrap();
    assert_eq!(epc_decoder::decode(&in_giai_202.to_hex()).unwrap().scheme, Scheme::Giai202);
    for form in [six_digits.to_hex(), six_digits.to_pure_uri(), in_giai_202.to_hex(), in_giai_202.to_tag_uri()] {
        assert_redirects(&node, &form, &page);
    }
}

#[test]
fn unknown_malformed_and_foreign_epcs_are_refused_with_what_is_wrong() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let known = site.fixture.register(CONTRACTOR, "4750001BEAM-0001", "HEA 160 steel beam", 182.4);
    assert_eq!(node.submit_one(&known).status, 201);

    // A well-formed GIAI that no item has, in each form: 404, never to be kept.
    let unregistered = encode("0614141", "999999", 0);
    for form in [unregistered.to_hex(), unregistered.to_tag_uri(), unregistered.to_pure_uri()] {
        let answer = lookup(&node, &form);
        assert_refused(&answer, 404, "http.not_found", "GIAI 0614141999999", &form);
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{form}");
        assert!(answer.header("location").is_none(), "{form}");
    }

    let giai_202 = encode("4750001", "BEAM-0001", 0).to_hex();
    assert_eq!(giai_202.len(), 52);
    let mut padded = giai_202.clone();
    padded.replace_range(51.., "1");
    assert_eq!(epc_decoder::decode(&padded), Err(DecodeError::Padding), "the independent decoder agrees");
    let long = "3".repeat(300);
    let cases = [
        ("3474257BF40000000000162G".to_owned(), "not a hexadecimal digit"),
        ("3474257BF40000000000162".to_owned(), "takes exactly 24"),
        (giai_202[..51].to_owned(), "takes exactly 52"),
        ("FF74257BF40000000000162E".to_owned(), "header 0xFF"),
        ("347E257BF40000000000162E".to_owned(), "partition value 7"),
        (padded, "padding must be zero"),
        ("4750001BEAM-0001".to_owned(), "expected a binary EPC in hex"),
        ("urn:epc:id:giai:4750001.BEAM%2F1".to_owned(), "%25"),
        (long, "at most 256"),
    ];
    for (epc, expected) in cases {
        let answer = lookup(&node, &epc);
        assert_refused(&answer, 400, "epc.malformed", expected, &epc);
    }

    // The TDS's SGTIN-96 example, and a GRAI as a URI: EPCs, but not of items.
    assert_eq!(epc_decoder::decode("3074257BF7194E4000001A85"), Err(DecodeError::Header("30".to_owned())));
    for epc in ["3074257BF7194E4000001A85", "urn:epc:id:grai:0614141.12345.5678"] {
        assert_refused(&lookup(&node, epc), 422, "epc.not_giai", "only GIAIs", epc);
    }
}

#[test]
fn the_independent_decoder_agrees_with_the_ledgers_encoder_on_random_giais() {
    let mut random = SplitMix::new(0x5EED_E9C0);
    let mut seen = [[0usize; 2]; 13];
    for round in 0..6000 {
        let digits = 6 + (round % 7);
        let prefix: String = (0..digits).map(|_| char::from(b'0' + random.below(10) as u8)).collect();
        let reference = match round % 3 {
            0 => random_number(&mut random, prefix_bits_left(digits)),
            1 => random_cset82(&mut random, 30 - digits),
            _ => random_digits(&mut random, 30 - digits),
        };
        let filter_value = random.below(8) as u8;
        let tag = encode(&prefix, &reference, filter_value);
        let expected = if fits_giai_96(&reference, digits) { Scheme::Giai96 } else { Scheme::Giai202 };
        let hex = tag.to_hex();
        let decoded = epc_decoder::decode(&hex).unwrap_or_else(|error| panic!("{tag}: {hex}: {error}"));
        assert_eq!(decoded.scheme, expected, "{tag}: the ledger chose {:?}", tag.scheme());
        assert_eq!(
            (decoded.filter, usize::from(decoded.partition), decoded.company_prefix.as_str()),
            (filter_value, 12 - digits, prefix.as_str()),
            "{tag}: {hex}"
        );
        assert_eq!(decoded.asset_reference, reference, "{hex}");
        assert_eq!((decoded.tag_uri(), decoded.pure_uri()), (tag.to_tag_uri(), tag.to_pure_uri()), "{hex}");
        assert_eq!(TagEncoding::from_hex(&hex).as_ref(), Ok(&tag), "{hex}");
        seen[digits][usize::from(expected == Scheme::Giai202)] += 1;
    }
    for (digits, counts) in seen.iter().enumerate().skip(6) {
        assert!(counts.iter().all(|count| *count > 100), "too few of a {digits}-digit prefix: {counts:?}");
    }
}

#[test]
fn both_decoders_accept_and_refuse_the_same_random_bit_strings() {
    let mut random = SplitMix::new(0xB175_7A9E);
    let (mut accepted, mut refused) = (0, 0);
    for round in 0..6000 {
        // A valid EPC with one bit flipped or none: mostly decodable, often
        // just barely not (partition 7, overflowing prefix, bad character,
        // stray bit after the string or in the padding).
        let digits = 6 + random.below(7) as usize;
        let prefix: String = (0..digits).map(|_| char::from(b'0' + random.below(10) as u8)).collect();
        let reference = if round % 2 == 0 {
            random_number(&mut random, prefix_bits_left(digits))
        } else {
            random_cset82(&mut random, 30 - digits)
        };
        let mut hex: Vec<u8> = encode(&prefix, &reference, random.below(8) as u8).to_hex().into_bytes();
        if round % 4 != 0 {
            // Any bit after the header.
            let bit = 8 + random.below(hex.len() as u64 * 4 - 8) as usize;
            let nibble = u8::from_str_radix(std::str::from_utf8(&hex[bit / 4..=bit / 4]).unwrap(), 16).unwrap();
            hex[bit / 4] = format!("{:X}", nibble ^ (8 >> (bit % 4))).as_bytes()[0];
        }
        let hex = String::from_utf8(hex).unwrap();
        match (epc_decoder::decode(&hex), TagEncoding::from_hex(&hex)) {
            (Ok(ours), Ok(ledgers)) => {
                accepted += 1;
                assert_eq!(ours.tag_uri(), ledgers.to_tag_uri(), "{hex}");
                let PureIdentity::Giai(giai) = ledgers.identity() else { panic!("{hex}: not a GIAI") };
                assert_eq!(ours.giai(), giai.giai(), "{hex}");
            }
            (Err(_), Err(_)) => refused += 1,
            (ours, ledgers) => panic!("{hex}: the decoders disagree: ours {ours:?}, the ledger's {ledgers:?}"),
        }
    }
    assert!(accepted > 1000 && refused > 500, "accepted {accepted}, refused {refused}");
}

/// The ledger's tag encoding of a GIAI, in the scheme it chooses.
fn encode(prefix: &str, reference: &str, filter_value: u8) -> TagEncoding {
    let identity = GiaiIdentity::new(prefix, reference).unwrap_or_else(|error| panic!("{prefix}.{reference}: {error}"));
    TagEncoding::encode(PureIdentity::Giai(identity), filter(filter_value)).unwrap()
}

fn filter(value: u8) -> Filter {
    Filter::new(value).unwrap()
}

/// `GET /v1/epc/{epc}`, `epc` already as it goes in the path.
fn lookup(node: &Running, epc: &str) -> Answer {
    node.get(&format!("/v1/epc/{epc}"))
}

fn assert_redirects(node: &Running, epc: &str, page: &str) {
    let answer = lookup(node, epc);
    assert_eq!(answer.status, 303, "{epc}: {}", answer.text());
    assert_eq!(answer.header("location"), Some(page), "{epc}");
    assert_eq!(answer.header("cache-control"), Some("max-age=300"), "{epc}");
}

fn assert_refused(answer: &Answer, status: u16, code: &str, message_part: &str, epc: &str) {
    assert_eq!(answer.status, status, "{epc}: {}", answer.text());
    let body = answer.json();
    assert_eq!(body["error"]["code"], code, "{epc}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(message_part), "{epc}: {message:?} does not say {message_part:?}");
}

/// `text` as one path segment: RFC 3986's unreserved characters as they are,
/// every other byte %-escaped (as the node writes its page URLs).
fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(byte).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// N of GIAI-96 for a company prefix of `digits` digits: M + N is 82 bits.
fn prefix_bits_left(digits: usize) -> u32 {
    82 - [40, 37, 34, 30, 27, 24, 20][12 - digits]
}

/// Whether GIAI-96 holds the asset reference: a number without leading zeros
/// below 2^N (TDS §14.5.5.1); otherwise only GIAI-202 does.
fn fits_giai_96(reference: &str, digits: usize) -> bool {
    let canonical = reference == "0" || !reference.starts_with('0');
    let value = reference.parse::<u64>().ok().filter(|_| reference.bytes().all(|b| b.is_ascii_digit()));
    canonical && value.is_some_and(|value| value >> prefix_bits_left(digits) == 0)
}

/// A number below 2^`bits`, often at or near the ends of the range, sometimes 2^`bits` itself.
fn random_number(random: &mut SplitMix, bits: u32) -> String {
    let limit = 1u64 << bits;
    match random.below(6) {
        0 => (limit - 1).to_string(),
        1 => limit.to_string(),
        2 => random.below(10).to_string(),
        _ => random.below(limit).to_string(),
    }
}

/// 1 to `max` random characters of GS1 character set 82.
fn random_cset82(random: &mut SplitMix, max: usize) -> String {
    let set: Vec<char> = (0x21u8..0x7F).map(char::from).filter(|c| epc_decoder::is_cset82(*c)).collect();
    assert_eq!(set.len(), 82);
    let length = 1 + random.below(max as u64) as usize;
    (0..length).map(|_| set[random.below(82) as usize]).collect()
}

/// 1 to `max` random decimal digits: numbers too long for GIAI-96, or with leading zeros.
fn random_digits(random: &mut SplitMix, max: usize) -> String {
    let length = 1 + random.below(max as u64) as usize;
    (0..length).map(|_| char::from(b'0' + random.below(10) as u8)).collect()
}
