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

const DOOR: &str = "4750002DOOR-0007";

/// GS1's EPCIS 2.0 JSON Schema, which the integration tests check exports against.
const EPCIS_SCHEMA: &str = include_str!("../../tests/data/epcis/EPCIS-JSON-Schema.json");

fn assert_valid(document: &Value) {
    let schema: Value = serde_json::from_str(EPCIS_SCHEMA).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> =
        validator.iter_errors(document).map(|error| format!("{}: {error}", error.instance_path().as_str())).collect();
    assert!(errors.is_empty(), "the document breaks the EPCIS 2.0 schema:\n{}\n{document:#}", errors.join("\n"));
}

fn uri(giai: &str) -> String {
    format!("{BASE}/8004/{giai}")
}

fn the_conclusion(document: &Value) -> &Value {
    let mut conclusions = events(document).iter().filter(|event| event["salvage:kind"] == "audit.conclusion");
    let conclusion = conclusions.next().expect("a conclusion event");
    assert!(conclusions.next().is_none(), "one event per conclusion");
    conclusion
}

/// Baltic Cert's conclusion over the beam and the door at the ledger's first
/// `size` records (root `root`), with one warning, about the door.
fn door_flagged(f: &Fixture, size: u64, root: &[u8; 32]) -> SignedEntry {
    f.signed(
        &["baltic-cert"],
        Kind::AuditConclusion,
        json!({"scope": ["member=baltic-demolition"],
        "checkpoint": {"size": size, "root": crate::hex::to_lower_hex(root)},
        "report": blake3::hash(b"the report").to_hex().as_str(), "verdict": "pass",
        "findings": {"errors": 0, "warnings": 1}, "items": [BEAM, DOOR], "flagged": [DOOR]}),
    )
}

/// A ledger in which the beam and the door are registered and the beam
/// offered to the hub; then a conclusion judges both at that checkpoint (seq
/// 4), the door is offered to the hub too, and the hub receives the beam.
fn audited() -> (Ledger, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let submit = |entries: Vec<SignedEntry>| {
        for (index, outcome) in ledger.submit(entries).unwrap().iter().enumerate() {
            assert!(outcome.is_ok(), "entry {index} refused: {outcome:?}");
        }
    };
    submit(vec![
        f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4),
        f.register("riga-deconstruction", DOOR, "Oak door", 40.0),
        f.transfer("baltic-demolition", BEAM, "reuse-hub"),
    ]);
    let size = ledger.size();
    let root = ledger.root_at(size).unwrap();
    submit(vec![
        door_flagged(&f, size, &root),
        f.transfer("riga-deconstruction", DOOR, "reuse-hub"),
        f.receive("reuse-hub", BEAM),
    ]);
    (ledger, dir)
}

#[test]
fn an_audit_conclusion_is_one_inspecting_observation_of_the_items_it_names() {
    let (ledger, _dir) = audited();
    let whole = export(&ledger, &[], BASE, &created()).unwrap();
    assert_valid(&whole);
    assert_eq!(events(&whole).len(), 6, "one event per record but the genesis");
    let conclusion = the_conclusion(&whole);
    let record = ledger.record(4).unwrap();
    assert_eq!(record.entry.statement().kind, Kind::AuditConclusion);
    assert_eq!(conclusion["type"], "ObjectEvent");
    assert_eq!(conclusion["action"], "OBSERVE");
    assert_eq!(conclusion["bizStep"], "inspecting");
    assert!(conclusion.get("disposition").is_none(), "a verdict on a custody chain is no state of the objects");
    assert_eq!(conclusion["epcList"], json!([uri(BEAM), uri(DOOR)]));
    assert_eq!(conclusion["eventID"], format!("{BASE}/v1/records/4"));
    assert_eq!(conclusion["certificationInfo"], conclusion["eventID"]);
    assert_eq!(conclusion["eventTime"], record.accepted.as_str());
    assert_eq!(conclusion["eventTimeZoneOffset"], "+00:00");
    assert_eq!(conclusion["salvage:statementTime"], Fixture::new().time.as_str());
    assert_eq!(conclusion["salvage:entryId"], record.entry.id().to_hex());
    assert_eq!(conclusion["salvage:signers"], json!([format!("{BASE}/v1/members#baltic-cert")]));
    let root = crate::hex::to_lower_hex(ledger.root_at(4).unwrap());
    assert_eq!(
        conclusion["salvage:auditConclusion"],
        json!({"scope": ["member=baltic-demolition"], "checkpoint": {"size": 4, "root": root},
            "report": blake3::hash(b"the report").to_hex().as_str(), "verdict": "pass",
            "findings": {"errors": 0, "warnings": 1}, "flagged": [DOOR]})
    );
    assert!(conclusion.get("salvage:details").is_none(), "the body is the event's, not repeated");
    assert!(conclusion.get("ilmd").is_none() && conclusion.get("sourceList").is_none());

    // Custody is as it was: the hub receives the beam from the contractor,
    // and the door's offer after the conclusion is the door's own.
    let events = events(&whole);
    assert_eq!(events[5]["salvage:kind"], "item.receive");
    let contractor = format!("{BASE}/v1/members#baltic-demolition");
    assert_eq!(events[5]["sourceList"], json!([{"type": "possessing_party", "source": contractor}]));
    assert_eq!(events[4]["epcList"], json!([uri(DOOR)]));

    // Remembering one item, the streamed export rebuilds each item from a
    // history that holds the conclusion, and writes the same bytes.
    let mut streamed = LedgerExport::remembering(&ledger, BASE, &created(), 1).unwrap();
    let mut bytes = Vec::new();
    while streamed.write(&ledger, &mut bytes, 1, usize::MAX).unwrap() {}
    assert_eq!(String::from_utf8(bytes).unwrap(), serde_json::to_string(&whole).unwrap());
}

#[test]
fn an_items_export_lists_only_that_item_in_a_conclusion() {
    let (ledger, _dir) = audited();
    for (items, listed, flagged) in [
        (&[BEAM][..], json!([uri(BEAM)]), json!([])),
        (&[DOOR], json!([uri(DOOR)]), json!([DOOR])),
        (&[DOOR, BEAM], json!([uri(BEAM), uri(DOOR)]), json!([DOOR])),
    ] {
        let giais: Vec<Giai> = items.iter().map(|giai| Giai::parse(giai).unwrap()).collect();
        let document = export(&ledger, &giais, BASE, &created()).unwrap();
        assert_valid(&document);
        let conclusion = the_conclusion(&document);
        assert_eq!(conclusion["epcList"], listed, "{items:?}");
        assert_eq!(conclusion["salvage:auditConclusion"]["flagged"], flagged, "{items:?}");
        // The counts are the whole audit's.
        assert_eq!(conclusion["salvage:auditConclusion"]["findings"], json!({"errors": 0, "warnings": 1}));
    }
    let beam = Giai::parse(BEAM).unwrap();
    let document = export(&ledger, &[beam], BASE, &created()).unwrap();
    let kinds: Vec<&str> = events(&document).iter().map(|event| event["salvage:kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["item.register", "item.transfer", "audit.conclusion", "item.receive"]);
}

#[test]
fn a_documents_conclusion_lists_the_items_its_records_create() {
    let f = Fixture::new();
    // `document` maps records and checks no checkpoint: any root will do.
    let conclusion = |items: &[&str]| f.conclusion("baltic-cert", 2, &[7; 32], items, b"the report");
    let beam = f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4);
    let door = f.register("riga-deconstruction", DOOR, "Oak door", 40.0);
    let (part_a, part_b) = (format!("{BEAM}A"), format!("{BEAM}B"));
    let split = f.signed(
        &["baltic-demolition"],
        Kind::ItemSplit,
        json!({"giai": BEAM, "parts": [
            {"giai": part_a, "passport": passport(&part_a, "HEA 160, 4 m", 120.0)},
            {"giai": part_b, "passport": passport(&part_b, "HEA 160, 2 m", 60.0)},
        ]}),
    );
    let cases: [(Vec<SignedEntry>, Value); 3] = [
        // The beam's bundle: the door's records are not among them.
        (vec![f.genesis.clone(), beam.clone(), conclusion(&[BEAM, DOOR])], json!([uri(BEAM)])),
        (vec![f.genesis.clone(), beam.clone(), door, conclusion(&[DOOR, BEAM])], json!([uri(DOOR), uri(BEAM)])),
        // A split ends the beam, but the records are still about it; the other part is not named.
        (vec![f.genesis.clone(), beam, split, conclusion(&[BEAM, &part_a, DOOR])], json!([uri(BEAM), uri(&part_a)])),
    ];
    for (entries, listed) in cases {
        let document = document(&records(entries), BASE, &created()).unwrap();
        assert_valid(&document);
        let conclusion = the_conclusion(&document);
        assert_eq!(conclusion["epcList"], listed);
        assert_eq!(conclusion["salvage:auditConclusion"]["flagged"], json!([]));
    }
    // A conclusion none of whose items the records create is about nothing they hold.
    let error = document(&records(vec![f.genesis.clone(), conclusion(&[BEAM])]), BASE, &created()).unwrap_err();
    assert!(matches!(error, EpcisError::IncompleteHistory { seq: 1, kind: Kind::AuditConclusion, .. }), "{error}");
}
