//! The EPCIS 2.0 export of a ledger in which items live every kind of record,
//! checked against the official GS1 EPCIS 2.0 JSON Schema (with format
//! checking on) and, field by field, against what that schema and the mapping
//! of `salvage_ledger::epcis` require.

// Test code: a failed unwrap is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use jsonschema::{Draft, Validator};
use salvage_ledger::Ledger;
use salvage_ledger::entry::{Kind, SignedEntry, Timestamp};
use salvage_ledger::epcis::{self, EPCIS_CONTEXT, EpcisError, SALVAGE_NAMESPACE};
use salvage_ledger::ident::{DigitalLink, Giai};
use salvage_ledger::testkit::{Fixture, passport};
use serde_json::{Value, json};

/// GS1's schema, copied from the standard's artefacts (draft-07).
const SCHEMA: &str = include_str!("data/epcis/EPCIS-JSON-Schema.json");

const BASE: &str = "https://salvage.example.lv";
const BEAM: &str = "4750001BEAM-0001";
const PART_A: &str = "4750001BEAM-0001A";
const PART_B: &str = "4750001BEAM-0001B";
const DOOR: &str = "4750002DOOR-0007";

/// Restricted passport values: none may appear in any export.
const SECRETS: [&str; 3] = ["Rūpniecības iela 1", "Lielā iela 5", "Planned for the owner's own use"];

/// A ledger holding every item kind: a beam registered, handed to the reuse
/// hub, amended, attested and split; one part shipped to a builder, installed,
/// dismantled and recycled; a door whose transfer is cancelled.
struct World {
    ledger: Ledger,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let outcomes = ledger.submit(entries(&f)).unwrap();
    for (index, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.is_ok(), "entry {index} refused: {outcome:?}");
    }
    World { ledger, _dir: dir }
}

fn with_secret(giai: &str, name: &str, mass: f64, address: &str) -> Value {
    let mut passport = passport(giai, name, mass);
    passport["origin"]["address"] = json!(address);
    passport["condition"]["notes"] = json!(SECRETS[2]);
    passport["restricted"] = json!(["/origin/address", "/condition/notes"]);
    passport
}

fn entries(f: &Fixture) -> Vec<SignedEntry> {
    let signed = |who: &str, kind: Kind, body: Value| f.signed(&[who], kind, body);
    vec![
        signed(
            "baltic-demolition",
            Kind::ItemRegister,
            json!({"giai": BEAM, "passport": with_secret(BEAM, "HEA 160 steel beam", 182.4, SECRETS[0])}),
        ),
        f.register("riga-deconstruction", DOOR, "Oak door", 40.0),
        f.transfer("baltic-demolition", BEAM, "reuse-hub"),
        f.receive("reuse-hub", BEAM),
        f.transfer("riga-deconstruction", DOOR, "reuse-hub"),
        signed("riga-deconstruction", Kind::ItemCancel, json!({"giai": DOOR, "reason": "Buyer found"})),
        signed(
            "reuse-hub",
            Kind::ItemAmend,
            json!({"giai": BEAM, "passport": with_secret(BEAM, "HEA 160 beam, blasted", 180.0, SECRETS[0]), "reason": "Sandblasted"}),
        ),
        signed(
            "baltic-cert",
            Kind::ItemAttest,
            json!({"giai": BEAM, "passport_version": 2,
            "attestation": {"type": "inspection", "result": "pass", "grade": "A", "summary": "Visual and ultrasonic inspection"}}),
        ),
        signed(
            "reuse-hub",
            Kind::ItemSplit,
            json!({"giai": BEAM, "parts": [
                {"giai": PART_A, "passport": with_secret(PART_A, "HEA 160, 4 m", 120.0, SECRETS[1])},
                {"giai": PART_B, "passport": passport(PART_B, "HEA 160, 2 m", 60.0)},
            ]}),
        ),
        f.transfer("reuse-hub", PART_A, "timber-builders"),
        f.receive("timber-builders", PART_A),
        signed(
            "timber-builders",
            Kind::ItemInstall,
            json!({"giai": PART_A, "site": {"building": "Jelgava library extension"}}),
        ),
        signed("timber-builders", Kind::ItemDismantle, json!({"giai": PART_A, "reason": "Extension rebuilt"})),
        signed("timber-builders", Kind::ItemDispose, json!({"giai": PART_A, "route": "recycling"})),
    ]
}

fn export(world: &World, items: &[&str]) -> Value {
    let items: Vec<Giai> = items.iter().map(|giai| Giai::parse(giai).unwrap()).collect();
    let created = Timestamp::parse("2026-11-24T08:00:00Z").unwrap();
    epcis::export(&world.ledger, &items, BASE, &created).unwrap()
}

fn events(document: &Value) -> &Vec<Value> {
    document["epcisBody"]["eventList"].as_array().unwrap()
}

fn schema() -> Value {
    serde_json::from_str(SCHEMA).unwrap()
}

fn validator() -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&schema())
        .unwrap()
}

fn assert_valid(validator: &Validator, document: &Value) {
    let errors: Vec<String> =
        validator.iter_errors(document).map(|error| format!("{}: {error}", error.instance_path().as_str())).collect();
    assert!(errors.is_empty(), "the document breaks the EPCIS 2.0 schema:\n{}\n{document:#}", errors.join("\n"));
}

/// The seq an event's id names: `{BASE}/v1/records/{seq}`.
fn seq_of(event: &Value) -> u64 {
    let id = event["eventID"].as_str().unwrap();
    id.strip_prefix(&format!("{BASE}/v1/records/"))
        .unwrap_or_else(|| panic!("eventID {id} names no record"))
        .parse()
        .unwrap()
}

fn kinds(document: &Value) -> Vec<&str> {
    events(document).iter().map(|event| event["salvage:kind"].as_str().unwrap()).collect()
}

fn uri(giai: &str) -> String {
    format!("{BASE}/8004/{giai}")
}

fn member(id: &str) -> String {
    format!("{BASE}/v1/members#{id}")
}

#[test]
fn the_whole_ledger_validates_against_the_official_schema_with_formats_checked() {
    let world = world();
    let document = export(&world, &[]);
    assert_valid(&validator(), &document);
    assert_eq!(events(&document).len(), 14, "one event per item record, none for the genesis");
    assert_eq!(document["type"], "EPCISDocument");
    assert_eq!(document["schemaVersion"], "2.0");
    assert_eq!(document["creationDate"], "2026-11-24T08:00:00Z");
    assert_eq!(document["@context"][0], EPCIS_CONTEXT);
    assert_eq!(document["@context"][1]["salvage"], SALVAGE_NAMESPACE);
    assert_eq!(document["salvage:ledger"], world.ledger.ledger_id().to_hex());

    // The check is not vacuous: ILMD on an OBSERVE event, a prefixed CBV word
    // and a missing time zone offset each break the schema.
    let validator = validator();
    let mut broken = document.clone();
    broken["epcisBody"]["eventList"][2]["ilmd"] = json!({"salvage:passport": {}});
    assert!(!validator.is_valid(&broken), "ilmd on OBSERVE must be invalid");
    let mut broken = document.clone();
    broken["epcisBody"]["eventList"][2]["bizStep"] = json!("urn:epcglobal:cbv:bizstep:shipping");
    assert!(!validator.is_valid(&broken), "a CBV URN in place of the bare word must be invalid");
    let mut broken = document.clone();
    broken["epcisBody"]["eventList"][0].as_object_mut().unwrap().remove("eventTimeZoneOffset");
    assert!(!validator.is_valid(&broken));
    let mut broken = document.clone();
    broken["epcisBody"]["eventList"][0]["eventTime"] = json!("23.11.2026 10:00");
    assert!(!validator.is_valid(&broken), "format checking is on");
    let mut broken = document;
    broken["epcisBody"]["eventList"][0]["ilmd"]["passport"] = json!({});
    assert!(!validator.is_valid(&broken), "extension keys must be namespaced (URIs)");
}

#[test]
fn every_event_has_the_fields_its_type_requires() {
    let world = world();
    let document = export(&world, &[]);
    let schema = schema();
    let words = |definition: &str| -> BTreeSet<String> {
        let choices = schema["definitions"][definition]["anyOf"].as_array().unwrap();
        let listed = choices.iter().find_map(|choice| choice.get("enum")).unwrap();
        listed.as_array().unwrap().iter().map(|word| word.as_str().unwrap().to_owned()).collect()
    };
    let (bizsteps, dispositions) = (words("bizStep"), words("disposition"));
    let common = ["type", "eventTime", "eventTimeZoneOffset", "eventID", "certificationInfo"];
    let object_fields = ["action", "epcList", "bizStep", "disposition", "sourceList", "destinationList", "ilmd"];
    let transformation_fields = ["inputEPCList", "outputEPCList", "bizStep", "disposition", "ilmd"];
    let mut ids = BTreeSet::new();
    for event in events(&document) {
        let seq = seq_of(event);
        assert!(ids.insert(seq), "event ids are unique");
        let record = world.ledger.record(seq).unwrap();
        assert_eq!(event["eventTime"], record.accepted.as_str(), "eventTime is the ledger's acceptance time");
        time::OffsetDateTime::parse(
            event["eventTime"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(event["eventTimeZoneOffset"], "+00:00");
        assert_eq!(event["salvage:kind"], record.entry.statement().kind.as_str());
        assert_eq!(event["salvage:entryId"], record.entry.id().to_hex());

        let allowed: Vec<&str> = match event["type"].as_str().unwrap() {
            "ObjectEvent" => {
                let action = event["action"].as_str().unwrap();
                assert!(["ADD", "OBSERVE", "DELETE"].contains(&action));
                assert_eq!(event["epcList"].as_array().unwrap().len(), 1, "one item per ObjectEvent");
                assert_eq!(event.get("ilmd").is_some(), action == "ADD", "ilmd only and always with ADD: {event}");
                common.iter().chain(&object_fields).copied().collect()
            }
            "TransformationEvent" => {
                assert!(!event["inputEPCList"].as_array().unwrap().is_empty());
                assert!(!event["outputEPCList"].as_array().unwrap().is_empty());
                assert!(event.get("action").is_none(), "a TransformationEvent has no action");
                common.iter().chain(&transformation_fields).copied().collect()
            }
            other => panic!("unexpected event type {other}"),
        };
        for field in event.as_object().unwrap().keys() {
            assert!(
                allowed.contains(&field.as_str()) || field.starts_with("salvage:"),
                "{field} does not belong in {event}"
            );
        }
        if let Some(bizstep) = event.get("bizStep") {
            assert!(bizsteps.contains(bizstep.as_str().unwrap()), "{bizstep} is not a bare CBV business step");
        }
        if let Some(disposition) = event.get("disposition") {
            assert!(
                dispositions.contains(disposition.as_str().unwrap()),
                "{disposition} is not a bare CBV disposition"
            );
        }
        for key in event.get("ilmd").and_then(Value::as_object).into_iter().flat_map(|ilmd| ilmd.keys()) {
            assert!(key.starts_with("salvage:"), "ILMD key {key} is not namespaced");
        }
    }
}

/// One event as the mapping table in docs/format.md lists it: kind, type, action, bizStep, disposition.
type MappingRow<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

#[test]
fn the_mapping_follows_the_documented_table() {
    let world = world();
    let document = export(&world, &[]);
    let rows: Vec<MappingRow<'_>> = events(&document)
        .iter()
        .map(|event| {
            (
                event["salvage:kind"].as_str().unwrap(),
                event["type"].as_str().unwrap(),
                event["action"].as_str(),
                event["bizStep"].as_str(),
                event["disposition"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("item.register", "ObjectEvent", Some("ADD"), Some("commissioning"), Some("active")),
            ("item.register", "ObjectEvent", Some("ADD"), Some("commissioning"), Some("active")),
            ("item.transfer", "ObjectEvent", Some("OBSERVE"), Some("shipping"), Some("in_transit")),
            ("item.receive", "ObjectEvent", Some("OBSERVE"), Some("receiving"), Some("active")),
            ("item.transfer", "ObjectEvent", Some("OBSERVE"), Some("shipping"), Some("in_transit")),
            ("item.cancel", "ObjectEvent", Some("OBSERVE"), Some("void_shipping"), Some("active")),
            ("item.amend", "ObjectEvent", Some("OBSERVE"), None, None),
            ("item.attest", "ObjectEvent", Some("OBSERVE"), Some("inspecting"), Some("conformant")),
            ("item.split", "TransformationEvent", None, Some("commissioning"), Some("active")),
            ("item.transfer", "ObjectEvent", Some("OBSERVE"), Some("shipping"), Some("in_transit")),
            ("item.receive", "ObjectEvent", Some("OBSERVE"), Some("receiving"), Some("active")),
            ("item.install", "ObjectEvent", Some("OBSERVE"), Some("installing"), Some("active")),
            ("item.dismantle", "ObjectEvent", Some("OBSERVE"), Some("removing"), Some("active")),
            ("item.dispose", "ObjectEvent", Some("DELETE"), Some("decommissioning"), Some("disposed")),
        ]
    );

    let events = events(&document);
    let register = &events[0];
    assert_eq!(register["epcList"], json!([uri(BEAM)]));
    assert_eq!(register["ilmd"]["salvage:passportVersion"], 1);
    assert_eq!(register["ilmd"]["salvage:passport"]["name"], "HEA 160 steel beam");
    assert_eq!(register["salvage:signers"], json!([member("baltic-demolition")]));

    // Custody: the part goes from the hub to the builder, offered and then accepted.
    for event in &events[9..=10] {
        assert_eq!(event["sourceList"], json!([{"type": "possessing_party", "source": member("reuse-hub")}]));
        assert_eq!(
            event["destinationList"],
            json!([{"type": "possessing_party", "destination": member("timber-builders")}])
        );
    }
    // The cancelled offer of the door names the shipping event it voids.
    assert_eq!(events[5]["salvage:voids"], events[4]["eventID"]);
    assert_eq!(events[5]["salvage:details"], json!({"reason": "Buyer found"}));
    // The amendment is passport version 2, which the certifier then attests.
    assert_eq!(events[6]["salvage:passportVersion"], 2);
    assert_eq!(events[7]["certificationInfo"], events[7]["eventID"]);
    assert_eq!(events[7]["salvage:details"]["passport_version"], 2);
    assert_eq!(events[7]["salvage:details"]["attestation"]["result"], "pass");

    let split = &events[8];
    assert_eq!(split["inputEPCList"], json!([uri(BEAM)]));
    assert_eq!(split["outputEPCList"], json!([uri(PART_A), uri(PART_B)]));
    assert_eq!(split["ilmd"]["salvage:passports"][uri(PART_B)]["name"], "HEA 160, 2 m");
    assert_eq!(split["ilmd"]["salvage:passports"][uri(PART_A)]["mass_kg"], 120.0);
    assert_eq!(events[13]["salvage:details"], json!({"route": "recycling"}));
}

#[test]
fn items_are_their_digital_link_uris() {
    let world = world();
    let document = export(&world, &[]);
    let mut seen = BTreeSet::new();
    for event in events(&document) {
        for list in ["epcList", "inputEPCList", "outputEPCList"] {
            for epc in event.get(list).and_then(Value::as_array).into_iter().flatten() {
                let link = DigitalLink::parse(epc.as_str().unwrap()).unwrap();
                let giai = link.giai().unwrap();
                assert_eq!(epc.as_str().unwrap(), uri(giai.as_str()));
                assert_eq!(link.resolver().to_string(), BASE);
                seen.insert(giai.as_str().to_owned());
            }
        }
    }
    assert_eq!(seen, [BEAM, PART_A, PART_B, DOOR].into_iter().map(str::to_owned).collect());
}

#[test]
fn restricted_passport_fields_never_appear() {
    let world = world();
    for items in [&[][..], &[BEAM], &[PART_A]] {
        let document = export(&world, items);
        let text = document.to_string();
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret:?} leaked into the export of {items:?}");
        }
        assert!(!text.contains("\"restricted\""), "the restricted list itself is withheld");
        // What is not restricted is there: the test would notice an empty export.
        assert!(text.contains("Jelgava sugar factory warehouse"));
    }
    // The secrets are in the ledger, so their absence above is the redaction's doing.
    let register = world.ledger.record(1).unwrap();
    assert_eq!(register.entry.statement().body["passport"]["origin"]["address"], SECRETS[0]);
}

#[test]
fn events_follow_ledger_order() {
    let world = world();
    for items in [&[][..], &[PART_A, BEAM], &[DOOR, PART_B]] {
        let document = export(&world, items);
        let seqs: Vec<u64> = events(&document).iter().map(seq_of).collect();
        assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "{items:?}: {seqs:?}");
        let times: Vec<&str> = events(&document).iter().map(|event| event["eventTime"].as_str().unwrap()).collect();
        assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "{times:?}");
    }
}

#[test]
fn filtering_by_giai_keeps_each_items_own_events_and_the_split_for_all_of_them() {
    let world = world();
    let validator = validator();
    let cases: [(&[&str], &[&str]); 5] = [
        (&[BEAM], &["item.register", "item.transfer", "item.receive", "item.amend", "item.attest", "item.split"]),
        (&[PART_A], &["item.split", "item.transfer", "item.receive", "item.install", "item.dismantle", "item.dispose"]),
        (&[PART_B], &["item.split"]),
        (&[DOOR], &["item.register", "item.transfer", "item.cancel"]),
        (
            &[PART_B, BEAM, PART_A, BEAM],
            &[
                "item.register",
                "item.transfer",
                "item.receive",
                "item.amend",
                "item.attest",
                "item.split",
                "item.transfer",
                "item.receive",
                "item.install",
                "item.dismantle",
                "item.dispose",
            ],
        ),
    ];
    for (items, expected) in cases {
        let document = export(&world, items);
        assert_valid(&validator, &document);
        assert_eq!(kinds(&document), expected, "{items:?}");
        for event in events(&document) {
            let touched: Vec<&str> = ["epcList", "inputEPCList", "outputEPCList"]
                .iter()
                .filter_map(|list| event.get(*list).and_then(Value::as_array))
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                items.iter().any(|giai| touched.contains(&uri(giai).as_str())),
                "{items:?} got an event of another item: {event}"
            );
        }
    }

    let unknown = Giai::parse("4750001NOPE").unwrap();
    let error = epcis::export(&world.ledger, &[unknown], BASE, &Timestamp::now()).unwrap_err();
    assert!(matches!(error, EpcisError::UnknownItem(ref giai) if giai.as_str() == "4750001NOPE"), "{error}");
}

#[test]
fn an_empty_ledger_is_an_empty_valid_document() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(dir.path(), Fixture::new().genesis.clone()).unwrap();
    let document = epcis::export(&ledger, &[], BASE, &Timestamp::now()).unwrap();
    assert_valid(&validator(), &document);
    assert!(events(&document).is_empty());
}
