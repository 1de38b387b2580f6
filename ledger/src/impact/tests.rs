use serde_json::{Value, json};

use super::*;
use crate::chain::{LeafHash, Seq};
use crate::entry::{Kind, SignedEntry, Timestamp};
use crate::schema::schema_source;
use crate::scope::ItemList;
use crate::testkit::{Fixture, passport};

const WAREHOUSE: &str = "Jelgava sugar factory warehouse";
const LIBRARY: &str = "Jelgava library extension";

/// Records chained as a ledger chains them, each accepted at the time given.
fn chain(entries: Vec<(&str, SignedEntry)>) -> Vec<Record> {
    let mut prev = LeafHash::ZERO;
    entries
        .into_iter()
        .enumerate()
        .map(|(seq, (accepted, entry))| {
            let record = Record {
                seq: Seq::new(seq as u64).unwrap(),
                prev,
                accepted: Timestamp::parse(accepted).unwrap(),
                entry,
            };
            prev = record.leaf_hash();
            record
        })
        .collect()
}

/// A passport of `category` and `mass` (none: no mass), its other fields from the test kit's.
fn passport_of(giai: &str, category: &str, mass: Option<f64>) -> Value {
    let mut passport = passport(giai, &format!("{category} {giai}"), mass.unwrap_or(1.0));
    passport["category"] = json!(category);
    if mass.is_none() {
        passport.as_object_mut().unwrap().remove("mass_kg");
    }
    passport
}

fn register(f: &Fixture, giai: &str, passport: Value) -> SignedEntry {
    f.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": giai, "passport": passport}))
}

fn by(f: &Fixture, member: &str, kind: Kind, body: Value) -> SignedEntry {
    f.signed(&[member], kind, body)
}

/// A small ledger that touches every figure: reuse, splits, every kind of disposal, hazards,
/// soil, a restricted mass, a declared CO2e, two donor buildings and two months.
fn ledger(f: &Fixture) -> Vec<Record> {
    let mut beam = passport_of("4750001BEAM-1", "structural_steel", Some(200.0));
    beam["environment"] = json!({"co2e_avoided_kg": 150.0});
    let mut panel = passport_of("4750001PANEL-1", "cladding", Some(42.5));
    panel["hazards"] =
        json!({"asbestos_free": false, "substances": [{"name": "Chrysotile asbestos", "cas": "12001-29-5"}]});
    panel["legal_status"] = json!({"status": "waste", "list_of_waste_code": "17 06 05*"});
    let mut soil = passport_of("4750001SOIL-1", "other", Some(500.0));
    soil["legal_status"] = json!({"status": "waste", "list_of_waste_code": "17 05 04"});
    let mut secret = passport_of("4750001SECRET-1", "structural_steel", Some(999.0));
    secret["restricted"] = json!(["/mass_kg"]);
    // As a format-2 ledger records it: the value withheld, only its place listed.
    let mut withheld = passport_of("4750001SECRET-2", "structural_steel", None);
    withheld["restricted"] = json!(["/mass_kg"]);
    let mut window = passport_of("4750002WIN-1", "window", Some(62.0));
    window["origin"]["building"] = json!("Riga school No. 2");
    let part =
        |giai: &str, kg: f64| json!({"giai": giai, "passport": passport_of(giai, "structural_timber", Some(kg))});
    let install = |giai: &str| json!({"giai": giai, "site": {"building": LIBRARY, "address": "Akadēmijas iela 1"}});
    let (nov, dec) = ("2026-11-23T10:00:00Z", "2026-12-02T08:30:00Z");
    chain(vec![
        ("2026-11-23T09:00:00Z", f.genesis.clone()),
        (nov, register(f, "4750001BEAM-1", beam)),
        (nov, register(f, "4750001BEAM-2", passport_of("4750001BEAM-2", "structural_steel", Some(100.0)))),
        (nov, register(f, "4750001GLULAM-1", passport_of("4750001GLULAM-1", "structural_timber", Some(423.0)))),
        (nov, register(f, "4750001BRICK-1", passport_of("4750001BRICK-1", "masonry", Some(1400.0)))),
        (nov, register(f, "4750001PANEL-1", panel)),
        (nov, register(f, "4750001SOIL-1", soil)),
        (nov, register(f, "4750001SECRET-1", secret)),
        (nov, register(f, "4750001SECRET-2", withheld)),
        (nov, register(f, "4750001MISC-1", passport_of("4750001MISC-1", "other", None))),
        (nov, register(f, "4750001DOOR-1", passport_of("4750001DOOR-1", "door", Some(48.0)))),
        (nov, register(f, "4750002WIN-1", window)),
        (nov, f.transfer("baltic-demolition", "4750001BEAM-1", "reuse-hub")),
        (nov, f.receive("reuse-hub", "4750001BEAM-1")),
        (nov, f.transfer("reuse-hub", "4750001BEAM-1", "timber-builders")),
        (nov, f.receive("timber-builders", "4750001BEAM-1")),
        (nov, f.transfer("baltic-demolition", "4750001BEAM-2", "timber-builders")),
        (nov, by(f, "baltic-demolition", Kind::ItemCancel, json!({"giai": "4750001BEAM-2"}))),
        (
            nov,
            by(
                f,
                "baltic-demolition",
                Kind::ItemSplit,
                json!({"giai": "4750001GLULAM-1",
                "parts": [part("4750001GLULAM-1A", 211.0), part("4750001GLULAM-1B", 211.0)]}),
            ),
        ),
        (dec, by(f, "timber-builders", Kind::ItemInstall, install("4750001BEAM-1"))),
        (dec, by(f, "baltic-demolition", Kind::ItemInstall, install("4750001GLULAM-1A"))),
        (
            dec,
            by(
                f,
                "baltic-demolition",
                Kind::ItemDispose,
                json!({"giai": "4750001BRICK-1", "route": "recycling", "waste_code": "17 01 02"}),
            ),
        ),
        (dec, by(f, "baltic-demolition", Kind::ItemDispose, json!({"giai": "4750001PANEL-1", "route": "landfill"}))),
        (dec, by(f, "baltic-demolition", Kind::ItemDispose, json!({"giai": "4750001SOIL-1", "route": "landfill"}))),
        (
            dec,
            by(f, "baltic-demolition", Kind::ItemDispose, json!({"giai": "4750001DOOR-1", "route": "energy_recovery"})),
        ),
    ])
}

fn report_of(records: &[Record], scopes: &[Scope]) -> ImpactReport {
    let mut impact = Impact::new(Some(Fixture::new().ledger_id), scopes).unwrap();
    for record in records {
        impact.push(record).unwrap();
    }
    assert_eq!(impact.records(), records.len() as u64);
    impact.report().unwrap()
}

fn scopes(texts: &[&str]) -> Vec<Scope> {
    texts.iter().map(|text| Scope::parse(text).unwrap()).collect()
}

impl ImpactReport {
    fn clone_with_scope(&self, scope: &str) -> ImpactReport {
        ImpactReport { scope: vec![scope.to_owned()], ..self.clone() }
    }
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}

macro_rules! assert_kg {
    ($actual:expr, $expected:expr) => {
        assert!(close($actual, $expected), "{} = {}, not {}", stringify!($actual), $actual, $expected)
    };
}

#[test]
fn the_whole_ledger_balances_and_every_figure_is_where_it_belongs() {
    let f = Fixture::new();
    let records = ledger(&f);
    let report = report_of(&records, &[]);
    assert_eq!(report.ledger.size, records.len() as u64);
    assert_eq!(report.ledger.ledger_id, Some(f.ledger_id.to_hex()));
    assert_eq!(report.items.in_scope, 13, "eleven registered, two parts");
    assert_eq!(report.items.unknown_mass, UnknownMass { restricted: 2, absent: 1 });

    let m = &report.mass_kg;
    assert_kg!(m.registered, 200.0 + 100.0 + 423.0 + 1400.0 + 42.5 + 500.0 + 48.0 + 62.0);
    assert_kg!(m.installed, 200.0 + 211.0);
    assert_kg!(m.available, 100.0 + 211.0 + 62.0);
    assert_kg!(m.disposed, 1400.0 + 42.5 + 500.0 + 48.0);
    assert_kg!(m.split_losses, 1.0);
    assert_kg!(m.split_parts_outside_scope, 0.0);
    assert_kg!(m.registered, m.installed + m.available + m.disposed + m.split_losses);

    let (safe, hazardous) = (&report.disposed.non_hazardous, &report.disposed.hazardous);
    assert_kg!(safe.total_kg, 1400.0 + 500.0 + 48.0);
    assert_eq!(
        safe.by_route,
        [("energy_recovery".into(), 48.0), ("landfill".into(), 500.0), ("recycling".into(), 1400.0)].into()
    );
    assert_eq!(
        safe.by_waste_code,
        [("17 01 02".into(), 1400.0), ("17 05 04".into(), 500.0), ("none".into(), 48.0)].into()
    );
    assert_eq!(hazardous.by_route, [("landfill".to_owned(), 42.5)].into(), "asbestos is hazardous whatever its route");
    assert_eq!(
        hazardous.by_waste_code,
        [("17 06 05*".to_owned(), 42.5)].into(),
        "the passport's code, as the disposal gave none"
    );

    assert_kg!(report.by_category["structural_timber"].registered_kg, 423.0);
    assert_kg!(report.by_category["structural_timber"].split_losses_kg, 1.0);
    assert_kg!(report.by_category["structural_timber"].installed_kg, 211.0);
    assert_kg!(report.by_category["structural_steel"].available_kg, 100.0);
    assert!(!report.by_category.contains_key("unknown"));

    let months: Vec<&str> = report.flows.iter().map(|flow| flow.month.as_str()).collect();
    assert_eq!(months, ["2026-11", "2026-12"]);
    assert_kg!(report.flows[0].registered_kg, m.registered);
    assert_kg!(report.flows[0].installed_kg + report.flows[0].disposed_kg, 0.0);
    assert_kg!(report.flows[1].installed_kg, 411.0);
    assert_kg!(report.flows[1].disposed_kg, m.disposed);

    let t = &report.taxonomy;
    assert_kg!(t.reused_kg, 411.0);
    assert_kg!(t.available_kg, 373.0);
    assert_kg!(t.recycled_kg, 1400.0);
    assert_kg!(t.prepared_for_reuse_or_recycling_kg, 411.0 + 373.0 + 1400.0);
    assert_kg!(t.non_hazardous_kg, 411.0 + 373.0 + 1400.0 + 48.0 + 1.0);
    assert_kg!(t.excluded_hazardous_kg, 42.5);
    assert_kg!(t.excluded_soil_and_stones_kg, 500.0);
    assert_kg!(t.share.unwrap(), 2184.0 / 2233.0);
    assert_eq!(t.meets_threshold, Some(true));

    let declared = &report.co2e.declared;
    assert_kg!(declared.reused_kg, 150.0);
    assert_kg!(declared.total_kg, 150.0);
    assert_eq!((declared.items_declaring, declared.items_not_declaring), (1, 4));
    let estimated = &report.co2e.estimated;
    assert_kg!(estimated.reused_kg, 200.0 * 1.53 + 211.0 * 0.42);
    assert_kg!(estimated.available_kg, 100.0 * 1.53 + 211.0 * 0.42);
    assert_kg!(estimated.by_category["structural_steel"].co2e_kg, 300.0 * 1.53);
    assert_kg!(estimated.mass_without_factor_kg, 62.0);
    assert!(!estimated.by_category.contains_key("window"), "windows have no factor");
    assert_eq!(estimated.factor_table.name, "Salvage impact factors");
}

#[test]
fn scopes_select_items_and_parts_follow_their_parent() {
    let records = ledger(&Fixture::new());
    let report = |texts: &[&str]| report_of(&records, &scopes(texts));

    // The donor building, however it is typed: everything but the window from Riga.
    let warehouse = report(&["building=  jelgava SUGAR factory warehouse "]);
    assert_eq!(warehouse.scope, ["building=jelgava SUGAR factory warehouse"]);
    assert_eq!(warehouse.items.in_scope, 12);
    assert_eq!(
        report(&[&format!("building={WAREHOUSE}")]),
        warehouse.clone_with_scope(&format!("building={WAREHOUSE}"))
    );
    assert_kg!(warehouse.mass_kg.available, 100.0 + 211.0);

    // The receiving building: the beam and the half glulam beam, whose parent was not there.
    let library = report(&[&format!("building={LIBRARY}")]);
    assert_eq!(library.items.in_scope, 2);
    assert_kg!(library.mass_kg.registered, 411.0);
    assert_kg!(library.mass_kg.installed, 411.0);
    assert_eq!(library.flows.iter().map(|flow| flow.month.as_str()).collect::<Vec<_>>(), ["2026-11", "2026-12"]);

    // A holder, an offer that was withdrawn, and two scopes at once.
    assert_eq!(report(&["member=reuse-hub"]).items.in_scope, 1);
    assert_eq!(report(&["member=timber-builders"]).items.in_scope, 2, "held one, was offered the other");
    let both = report(&["member=timber-builders", &format!("building={LIBRARY}")]);
    assert_eq!(both.items.in_scope, 1);
    // The registrant: all of its items, parts included.
    assert_eq!(report(&["member=baltic-demolition"]).items.in_scope, 13);
    assert_eq!(report(&["member=city-of-jelgava"]).items.in_scope, 0);

    // Every item had a record in November; only those touched in December are since then.
    assert_eq!(report(&["since=2026-11-01"]).items.in_scope, 13);
    let december = report(&["since=2026-12-01"]);
    assert_eq!(december.items.in_scope, 6, "two installed, four disposed of");
    assert_eq!(report(&["since=2026-12-03"]).items.in_scope, 0);

    // A listed parent without its parts: the parts left the scope.
    let list = ItemList::parse("parent.txt", "4750001GLULAM-1\n").unwrap();
    let parent = report_of(&records, &[Scope::Items(list)]);
    assert_kg!(parent.mass_kg.registered, 423.0);
    assert_kg!(parent.mass_kg.split_losses, 1.0);
    assert_kg!(parent.mass_kg.split_parts_outside_scope, 422.0);
    assert_eq!(parent.scope, ["items=parent.txt"]);
}

#[test]
fn a_chain_that_does_not_hold_or_another_genesis_is_refused() {
    let f = Fixture::new();
    let mut records = ledger(&f);
    let mut impact = Impact::new(Some(Fixture::named("Another consortium").ledger_id), &[]).unwrap();
    assert!(matches!(impact.push(&records[0]), Err(ImpactError::Genesis { .. })));

    records.swap(3, 4);
    let mut impact = Impact::new(None, &[]).unwrap();
    let pushed: Vec<_> = records.iter().map(|record| impact.push(record)).collect();
    assert!(pushed[..3].iter().all(Result::is_ok));
    assert!(matches!(&pushed[3], Err(ImpactError::Record { position: 3, reason }) if reason.contains("record 4")));

    let mut impact = Impact::new(None, &[]).unwrap();
    let bytes = records[0].canonical_bytes();
    let spaced = String::from_utf8(bytes).unwrap().replacen(",\"entry\"", ", \"entry\"", 1);
    assert!(matches!(impact.push_bytes(spaced.as_bytes()), Err(ImpactError::Record { position: 0, .. })));
}

#[test]
fn the_root_is_the_ledger_s() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = crate::Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let outcomes = ledger
        .submit(vec![
            f.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 182.4),
            f.transfer("baltic-demolition", "4750001BEAM-0001", "reuse-hub"),
        ])
        .unwrap();
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let report = of_ledger(&ledger, &[]).unwrap();
    assert_eq!(report.ledger.size, 3);
    assert_eq!(report.ledger.root, crate::hex::to_lower_hex(ledger.checkpoint().unwrap().root()));
    assert_kg!(report.mass_kg.available, 182.4);
}

#[test]
fn every_category_of_the_passport_schema_has_a_factor_or_says_why_not() {
    let schema: Value = serde_json::from_str(schema_source("passport").unwrap()).unwrap();
    let categories: Vec<&str> =
        schema["properties"]["category"]["enum"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(categories.len() > 10, "{categories:?}");
    let table = FactorTable::embedded().unwrap();
    for category in &categories {
        let entry = table.category.get(*category).unwrap_or_else(|| panic!("{category} is not in the factor table"));
        match entry.factor {
            Some(factor) => {
                let source = &table.source[entry.source.as_deref().unwrap()];
                assert!(factor > 0.0 && !source.title.is_empty() && !source.version.is_empty() && source.year > 1990);
            }
            None => assert!(entry.no_factor.as_deref().is_some_and(|why| why.len() > 20), "{category}"),
        }
    }
    for listed in table.category.keys() {
        assert!(categories.contains(&listed.as_str()), "{listed} is no category of the passport schema");
    }
}

#[test]
fn a_broken_factor_table_is_refused_with_its_reason() {
    let head = "[table]\nname = \"t\"\nversion = \"1\"\n[source.s]\ntitle = \"T\"\npublisher = \"P\"\nyear = 2019\nversion = \"3\"\n";
    let table = |category: &str| FactorTable::parse(&format!("{head}[category.steel]\n{category}"));
    assert!(table("factor = 1.5\nunit = \"kg CO2e/kg\"\nmaterial = \"Steel\"\nsource = \"s\"\n").is_ok());
    let refusals = [
        ("factor = 1.5\nunit = \"kg CO2e/t\"\nmaterial = \"Steel\"\nsource = \"s\"\n", "unit"),
        ("factor = -1.5\nunit = \"kg CO2e/kg\"\nmaterial = \"Steel\"\nsource = \"s\"\n", "positive"),
        ("factor = 1.5\nunit = \"kg CO2e/kg\"\nmaterial = \"Steel\"\nsource = \"ice\"\n", "no source"),
        ("factor = 1.5\nunit = \"kg CO2e/kg\"\nsource = \"s\"\n", "material"),
        ("no_factor = \"\"\n", "reason"),
        ("colour = \"red\"\n", "unknown field"),
    ];
    for (entry, why) in refusals {
        let error = table(entry).unwrap_err();
        assert!(error.contains(why), "{entry:?}: {error}");
    }
}
