use serde_json::{Value, json};

use super::*;
use crate::chain::{LeafHash, Seq};
use crate::entry::SignedEntry;
use crate::testkit::{Fixture, passport};

const BASE: &str = "https://salvage.example.lv";
const BEAM: &str = "4750001BEAM-0001";

/// Records at consecutive positions. The export reads no links or hashes, so
/// `prev` can stay zero.
fn records(entries: Vec<SignedEntry>) -> Vec<Record> {
    entries
        .into_iter()
        .enumerate()
        .map(|(seq, entry)| Record {
            seq: Seq::new(seq as u64).unwrap(),
            prev: LeafHash::ZERO,
            accepted: Timestamp::parse(&format!("2026-11-23T10:00:{seq:02}Z")).unwrap(),
            entry,
        })
        .collect()
}

fn created() -> Timestamp {
    Timestamp::parse("2026-11-24T08:00:00Z").unwrap()
}

fn events(document: &Value) -> &Vec<Value> {
    document["epcisBody"]["eventList"].as_array().unwrap()
}

fn beam_life(f: &Fixture) -> Vec<SignedEntry> {
    vec![
        f.genesis.clone(),
        f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4),
        f.transfer("baltic-demolition", BEAM, "reuse-hub"),
        f.receive("reuse-hub", BEAM),
    ]
}

#[test]
fn custody_moves_between_possessing_parties() {
    let f = Fixture::new();
    let document = document(&records(beam_life(&f)), BASE, &created()).unwrap();
    assert_eq!(document["salvage:ledger"], f.ledger_id.to_hex());
    let events = events(&document);
    assert_eq!(events.len(), 3, "the genesis makes no event");
    let hub = format!("{BASE}/v1/members#reuse-hub");
    let contractor = format!("{BASE}/v1/members#baltic-demolition");
    for shipping_or_receiving in &events[1..] {
        assert_eq!(shipping_or_receiving["sourceList"], json!([{"type": "possessing_party", "source": contractor}]));
        assert_eq!(shipping_or_receiving["destinationList"], json!([{"type": "possessing_party", "destination": hub}]));
    }
    assert_eq!(events[2]["salvage:signers"], json!([hub]));
    assert_eq!(events[2]["eventID"], format!("{BASE}/v1/records/3"));
    assert_eq!(events[2]["eventTime"], "2026-11-23T10:00:03Z");
    assert_eq!(events[2]["salvage:statementTime"], f.time.as_str());
}

#[test]
fn signers_must_be_known_from_membership_records() {
    let f = Fixture::new();
    let all = records(beam_life(&f));
    let error = document(&all[1..], BASE, &created()).unwrap_err();
    assert!(matches!(error, EpcisError::UnknownKey { seq: 1, .. }), "{error}");
}

#[test]
fn a_receipt_needs_the_transfer_it_accepts() {
    let f = Fixture::new();
    let all = records(beam_life(&f));
    let without_transfer = [&all[0], &all[1], &all[3]];
    let error = document(without_transfer, BASE, &created()).unwrap_err();
    assert!(matches!(&error, EpcisError::IncompleteHistory { seq: 3, kind: Kind::ItemReceive, .. }), "{error}");
    assert!(error.to_string().contains("the transfer it accepts"), "{error}");
    let error = document([&all[0], &all[2]], BASE, &created()).unwrap_err();
    assert!(matches!(error, EpcisError::IncompleteHistory { seq: 2, .. }), "{error}");
}

#[test]
fn a_bad_resolver_base_is_refused() {
    let error = document(&records(beam_life(&Fixture::new())), "ftp://salvage.example", &created()).unwrap_err();
    assert!(matches!(error, EpcisError::Resolver { .. }), "{error}");
}

#[test]
fn an_amended_passport_is_counted_and_redacted_outside_the_ilmd() {
    let f = Fixture::new();
    let mut amended = passport(BEAM, "HEA 160 beam, blasted", 180.0);
    amended["origin"]["address"] = json!("Rūpniecības iela 1");
    amended["restricted"] = json!(["/origin/address"]);
    let mut entries = beam_life(&f);
    entries.push(f.signed(
        &["reuse-hub"],
        Kind::ItemAmend,
        json!({"giai": BEAM, "passport": amended, "reason": "Sandblasted"}),
    ));
    let document = document(&records(entries), BASE, &created()).unwrap();
    let amend = &events(&document)[3];
    assert_eq!(amend["action"], "OBSERVE");
    assert!(amend.get("ilmd").is_none() && amend.get("bizStep").is_none());
    assert_eq!(amend["salvage:passportVersion"], 2);
    assert_eq!(amend["salvage:passport"]["name"], "HEA 160 beam, blasted");
    assert!(amend["salvage:passport"]["origin"].get("address").is_none());
    assert!(amend["salvage:passport"].get("restricted").is_none());
    assert_eq!(amend["salvage:details"], json!({"reason": "Sandblasted"}));
    assert!(!document.to_string().contains("Rūpniecības"));
}

#[test]
fn disposal_routes_choose_the_business_step() {
    let f = Fixture::new();
    for (route, bizstep, disposition) in [
        ("recycling", "decommissioning", "disposed"),
        ("landfill", "decommissioning", "disposed"),
        ("energy_recovery", "destroying", "destroyed"),
        ("hazardous_waste_treatment", "destroying", "destroyed"),
    ] {
        let mut entries = beam_life(&f);
        entries.push(f.signed(&["reuse-hub"], Kind::ItemDispose, json!({"giai": BEAM, "route": route})));
        let document = document(&records(entries), BASE, &created()).unwrap();
        let dispose = &events(&document)[3];
        assert_eq!(
            (dispose["action"].as_str(), dispose["bizStep"].as_str()),
            (Some("DELETE"), Some(bizstep)),
            "{route}"
        );
        assert_eq!(dispose["disposition"], disposition, "{route}");
        assert_eq!(dispose["salvage:details"], json!({"route": route}));
    }
}

#[test]
fn an_installation_sites_address_stays_out() {
    let f = Fixture::new();
    let mut entries = beam_life(&f);
    let site = json!({"building": "Jelgava library", "address": "Akadēmijas iela 1", "country": "LV",
        "location": "Director's office, 2nd floor"});
    // The holder restricts where in the building it went: that stays out too.
    entries.push(f.signed(
        &["reuse-hub"],
        Kind::ItemInstall,
        json!({"giai": BEAM, "site": site, "date": "2026-11-20", "restricted": ["/site/location"]}),
    ));
    let document = document(&records(entries), BASE, &created()).unwrap();
    let install = &events(&document)[3];
    assert_eq!(install["bizStep"], "installing");
    assert_eq!(
        install["salvage:details"],
        json!({"site": {"building": "Jelgava library", "country": "LV"}, "date": "2026-11-20"})
    );
}

#[test]
fn a_conditional_attestation_leaves_the_disposition_alone() {
    let f = Fixture::new();
    for (result, disposition) in [("pass", Some("conformant")), ("fail", Some("non_conformant")), ("conditional", None)]
    {
        let mut entries = beam_life(&f);
        entries.push(f.signed(
            &["baltic-cert"],
            Kind::ItemAttest,
            json!({"giai": BEAM, "passport_version": 1,
            "attestation": {"type": "inspection", "result": result, "summary": "Visual inspection"}}),
        ));
        let document = document(&records(entries), BASE, &created()).unwrap();
        let attest = &events(&document)[3];
        assert_eq!(attest["disposition"].as_str(), disposition, "{result}");
        assert_eq!(attest["certificationInfo"], format!("{BASE}/v1/records/4"));
        assert_eq!(attest["salvage:signers"], json!([format!("{BASE}/v1/members#baltic-cert")]));
    }
}
