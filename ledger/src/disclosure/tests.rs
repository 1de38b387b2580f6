use serde_json::{Value, json};

use super::*;
use crate::entry::Kind;

/// Salts 1, 2, 3, … in their last byte, so every run gives the same digests.
fn counting_salts() -> impl FnMut() -> Result<Salt, std::convert::Infallible> {
    let mut next = 0u8;
    move || {
        next += 1;
        let mut bytes = [0u8; 16];
        bytes[15] = next;
        Ok(Salt::from_bytes(bytes))
    }
}

fn register() -> Value {
    json!({"giai": "4750001BEAM-0001", "passport": {
        "identity": {"giai": "4750001BEAM-0001"},
        "name": "Steel beam HEA 160",
        "origin": {"building": "Sugar factory", "address": "Rūpniecības iela 1, Jelgava"},
        "documents": [{"title": "survey"}, {"title": "invoice to a client"}, {"title": "photo"}],
        "restricted": ["/origin/address", "/documents/1"],
    }})
}

fn withheld(kind: Kind, body: &Value) -> (Value, Vec<Disclosure>) {
    let Ok(result) = withhold(kind, body, counting_salts());
    result.expect("withheld")
}

fn code(result: Result<Value, Refusal>) -> &'static str {
    result.expect_err("refused").code.as_str()
}

#[test]
fn restricted_values_leave_the_signed_body_and_come_back_whole() {
    let body = register();
    let (public, disclosures) = withheld(Kind::ItemRegister, &body);
    assert_eq!(disclosures.len(), 2);
    let text = public.to_string();
    assert!(!text.contains("Rūpniecības") && !text.contains("invoice"), "{text}");
    // An array element becomes null: its siblings keep their indices.
    assert_eq!(public["passport"]["documents"], json!([{"title": "survey"}, null, {"title": "photo"}]));
    assert!(public["passport"]["origin"].get("address").is_none());
    let digests = public[DIGESTS_MEMBER].as_array().expect("digests");
    assert_eq!(digests.len(), 2);
    assert!(digests[0].as_str() < digests[1].as_str(), "sorted");
    assert_eq!(reveal(Kind::ItemRegister, &public, &disclosures).expect("revealed"), body);
    // In any order.
    let reversed: Vec<Disclosure> = disclosures.iter().rev().cloned().collect();
    assert_eq!(reveal(Kind::ItemRegister, &public, &reversed).expect("revealed"), body);
}

#[test]
fn a_body_that_restricts_nothing_is_signed_as_it_is() {
    let mut body = register();
    body["passport"].as_object_mut().expect("object").remove("restricted");
    let (public, disclosures) = withheld(Kind::ItemRegister, &body);
    assert_eq!((public.clone(), disclosures.len()), (body.clone(), 0));
    assert_eq!(reveal(Kind::ItemRegister, &public, &[]).expect("revealed"), body);
}

#[test]
fn disclosures_must_be_exactly_the_ones_the_body_calls_for() {
    let (public, disclosures) = withheld(Kind::ItemRegister, &register());
    assert_eq!(code(reveal(Kind::ItemRegister, &public, &disclosures[..1])), "disclosure.missing");
    let twice = [disclosures.clone(), disclosures[..1].to_vec()].concat();
    assert_eq!(code(reveal(Kind::ItemRegister, &public, &twice)), "disclosure.unexpected");
    let elsewhere = Disclosure::new(
        Salt::from_bytes([9; 16]),
        Place::parse("/passport/name").expect("pointer"),
        json!("Steel beam"),
    );
    let extra = [disclosures.clone(), vec![elsewhere]].concat();
    assert_eq!(code(reveal(Kind::ItemRegister, &public, &extra)), "disclosure.unexpected");
}

#[test]
fn a_changed_value_salt_or_place_no_longer_matches_its_digest() {
    let (public, disclosures) = withheld(Kind::ItemRegister, &register());
    let address =
        disclosures.iter().position(|d| d.place().to_string() == "/passport/origin/address").expect("address");
    let original = &disclosures[address];
    let changed = [
        Disclosure::new(original.salt, original.place.clone(), json!("Other street 2")),
        Disclosure::new(Salt::from_bytes([7; 16]), original.place.clone(), original.value.clone()),
    ];
    for forged in changed {
        let mut set = disclosures.clone();
        set[address] = forged;
        assert_eq!(code(reveal(Kind::ItemRegister, &public, &set)), "disclosure.mismatch");
    }
    // Swapping the two places: each is restricted, neither digest matches.
    let mut set = disclosures.clone();
    let (first, second) = (set[0].place.clone(), set[1].place.clone());
    set[0].place = second;
    set[1].place = first;
    assert_eq!(code(reveal(Kind::ItemRegister, &public, &set)), "disclosure.mismatch");
}

#[test]
fn a_restricted_value_left_in_the_signed_body_is_refused() {
    let (mut public, disclosures) = withheld(Kind::ItemRegister, &register());
    public["passport"]["origin"]["address"] = json!("Rūpniecības iela 1, Jelgava");
    assert_eq!(code(reveal(Kind::ItemRegister, &public, &disclosures)), "disclosure.in_clear");
    let (mut public, disclosures) = withheld(Kind::ItemRegister, &register());
    public["passport"]["documents"][1] = json!({"title": "invoice to a client"});
    assert_eq!(code(reveal(Kind::ItemRegister, &public, &disclosures)), "disclosure.in_clear");
}

#[test]
fn digests_are_sorted_hex_and_may_include_decoys() {
    let (public, disclosures) = withheld(Kind::ItemRegister, &register());
    let mut with_decoy = public.clone();
    let mut digests: Vec<Value> = public[DIGESTS_MEMBER].as_array().expect("digests").clone();
    digests.push(json!("0".repeat(64)));
    digests.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    with_decoy[DIGESTS_MEMBER] = Value::Array(digests.clone());
    assert!(reveal(Kind::ItemRegister, &with_decoy, &disclosures).is_ok());
    digests.reverse();
    with_decoy[DIGESTS_MEMBER] = Value::Array(digests);
    assert_eq!(code(reveal(Kind::ItemRegister, &with_decoy, &disclosures)), "entry.malformed");
    with_decoy[DIGESTS_MEMBER] = json!(["ABC"]);
    assert_eq!(code(reveal(Kind::ItemRegister, &with_decoy, &disclosures)), "entry.malformed");
}

#[test]
fn overlapping_restricted_places_are_refused() {
    let mut body = register();
    body["passport"]["restricted"] = json!(["/origin", "/origin/address"]);
    let Ok(result) = withhold(Kind::ItemRegister, &body, counting_salts());
    assert_eq!(result.expect_err("refused").code.as_str(), "entry.malformed");
}

#[test]
fn split_parts_and_installations_restrict_their_own_places() {
    let part = |giai: &str| json!({"giai": giai, "passport": {"name": "part", "price_note": "EUR 40", "restricted": ["/price_note"]}});
    let split = json!({"giai": "4750001BEAM-0001", "parts": [part("4750001P-1"), part("4750001P-2")]});
    let (public, disclosures) = withheld(Kind::ItemSplit, &split);
    let places: Vec<String> = disclosures.iter().map(|d| d.place().to_string()).collect();
    assert_eq!(places, ["/parts/0/passport/price_note", "/parts/1/passport/price_note"]);
    assert_eq!(reveal(Kind::ItemSplit, &public, &disclosures).expect("revealed"), split);

    let install = json!({"giai": "4750001BEAM-0001", "site": {"building": "School", "address": "Skolas iela 5"},
        "restricted": ["/site/address"]});
    let (public, disclosures) = withheld(Kind::ItemInstall, &install);
    assert!(public["site"].get("address").is_none());
    assert_eq!(reveal(Kind::ItemInstall, &public, &disclosures).expect("revealed"), install);
}

#[test]
fn a_disclosure_reads_back_as_it_is_written_and_bad_ones_are_refused() {
    let (_, disclosures) = withheld(Kind::ItemRegister, &register());
    for disclosure in &disclosures {
        assert_eq!(&Disclosure::from_value(&disclosure.to_value()).expect("read"), disclosure);
    }
    for bad in [
        json!("x"),
        json!(["00", "/a", 1]),
        json!(["000102030405060708090a0b0c0d0e0f", "a", 1]),
        json!(["000102030405060708090A0B0C0D0E0F", "/a", 1]),
        json!(["000102030405060708090a0b0c0d0e0f", "/a~2", 1]),
        json!(["000102030405060708090a0b0c0d0e0f", "/a"]),
        json!(["000102030405060708090a0b0c0d0e0f", "/a", 1e300]),
    ] {
        let refusal = Disclosure::from_value(&bad).expect_err("refused");
        assert_eq!(refusal.code.as_str(), "disclosure.malformed", "{bad}");
    }
}

#[test]
fn nothing_secret_is_in_a_debug_print() {
    let (_, disclosures) = withheld(Kind::ItemRegister, &register());
    let printed = format!("{disclosures:?}");
    assert!(!printed.contains("Rūpniecības") && !printed.contains("0000000000000000"), "{printed}");
}

#[test]
fn an_envelope_is_written_canonically_and_reads_back_and_bad_ones_are_refused() {
    let fixture = crate::testkit::Fixture::withholding();
    let (entry, disclosures) = fixture.withheld(&["baltic-demolition"], Kind::ItemRegister, register());
    let envelope = DisclosedEntry { entry: entry.clone(), disclosures: disclosures.clone() };
    let bytes = envelope.canonical_bytes();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(bytes, crate::canonical::value_to_canonical_bytes(&value), "the envelope's bytes are its JCS");
    assert!(DisclosedEntry::is_envelope(&value) && !DisclosedEntry::is_envelope(&entry.to_value()));
    let read = DisclosedEntry::from_json_bytes(&bytes).unwrap();
    assert_eq!((read.entry, read.disclosures), (entry.clone(), disclosures));

    for bad in [
        json!([]),
        json!({"entry": entry.to_value()}),
        json!({"disclosures": {}, "entry": entry.to_value()}),
        json!({"disclosures": [], "entry": entry.to_value(), "note": 1}),
        json!({"disclosures": [["x", "/a", 1]], "entry": entry.to_value()}),
        json!({"disclosures": vec![json!(null); 1001], "entry": entry.to_value()}),
    ] {
        let refusal = DisclosedEntry::from_value(bad.clone()).expect_err("refused");
        assert_eq!(refusal.code.as_str(), "disclosure.malformed", "{bad}");
    }
    let no_entry = DisclosedEntry::from_value(json!({"disclosures": [], "entry": {"statement": 1}})).unwrap_err();
    assert_eq!(no_entry.code.as_str(), "entry.malformed");
}
