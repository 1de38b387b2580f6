//! `salvage report impact` and `GET /reports/impact` on the demo: the impact report of the
//! demo's donor building, recomputed here from the ledger's EPCIS export alone by a small
//! implementation of docs/impact.md's definitions that shares no code with the ledger's,
//! agrees with the report to 0.1 kg; the node answers the same numbers; a malformed scope is
//! refused with a message that says why. A client that asks a node for more new reports than
//! its budget allows gets `429` with `Retry-After`, and still the reports already made.
//!
//! The expectations are computed from the export, not written down: the demo's inventory
//! may change (a waste handler, another disposal route) without this test changing.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Stdio;

use salvage_tests::http;
use salvage_tests::node::{Running, Site};
use salvage_tests::{free_port, salvage_command};
use serde_json::{Value, json};

const DONOR: &str = "Jelgava sugar factory warehouse";
const RECEIVER: &str = "Jelgava library extension";

/// Within 0.1 kg, as the report is read.
const TOLERANCE: f64 = 0.1;

/// The asbestos minerals' CAS numbers (REACH Annex XVII entry 6), written out here apart
/// from the ledger's own list.
const ASBESTOS: [&str; 8] =
    ["1332-21-4", "12001-28-4", "12172-73-5", "77536-67-5", "77536-66-4", "77536-68-6", "12001-29-5", "132207-32-0"];

/// What the export says of one item, as events come.
#[derive(Debug, Default, Clone)]
struct Item {
    passport: Value,
    buildings: BTreeSet<String>,
    parent: Option<String>,
    parts: Vec<String>,
    /// `available`, `installed`, `disposed` or `split`.
    state: &'static str,
    began: String,
    installs: Vec<String>,
    disposed: Option<(String, Option<String>, String)>,
}

/// Names as a scope compares them.
fn normal(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Every item of an EPCIS document, by Digital Link URI, from its events in order.
fn items_of(document: &Value) -> HashMap<String, Item> {
    let mut items: HashMap<String, Item> = HashMap::new();
    for event in document["epcisBody"]["eventList"].as_array().unwrap() {
        let kind = event["salvage:kind"].as_str().unwrap();
        let month = event["eventTime"].as_str().unwrap()[..7].to_owned();
        let details = &event["salvage:details"];
        let uri = |list: &str| event[list][0].as_str().map(str::to_owned);
        let note_passport = |item: &mut Item, passport: &Value| {
            if let Some(building) = passport.pointer("/origin/building").and_then(Value::as_str) {
                item.buildings.insert(normal(building));
            }
            item.passport = passport.clone();
        };
        match kind {
            "item.register" => {
                let mut item = Item { state: "available", began: month, ..Item::default() };
                note_passport(&mut item, &event["ilmd"]["salvage:passport"]);
                items.insert(uri("epcList").unwrap(), item);
            }
            "item.split" => {
                let parent = uri("inputEPCList").unwrap();
                let parts: Vec<String> =
                    event["outputEPCList"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
                for part in &parts {
                    let mut item = Item {
                        state: "available",
                        began: month.clone(),
                        parent: Some(parent.clone()),
                        ..Item::default()
                    };
                    note_passport(&mut item, &event["ilmd"]["salvage:passports"][part]);
                    items.insert(part.clone(), item);
                }
                let parent = items.get_mut(&parent).unwrap();
                parent.state = "split";
                parent.parts = parts;
            }
            _ => {
                let Some(item) = uri("epcList").and_then(|uri| items.get_mut(&uri)) else { continue };
                match kind {
                    "item.amend" => note_passport(item, &event["salvage:passport"]),
                    "item.install" => {
                        item.state = "installed";
                        item.installs.push(month);
                        item.buildings.insert(normal(details["site"]["building"].as_str().unwrap()));
                    }
                    "item.dismantle" => item.state = "available",
                    "item.dispose" => {
                        item.state = "disposed";
                        let route = details["route"].as_str().unwrap().to_owned();
                        item.disposed = Some((route, details["waste_code"].as_str().map(str::to_owned), month));
                    }
                    _ => {}
                }
            }
        }
    }
    items
}

fn in_scope(items: &HashMap<String, Item>, uri: &str, building: &str) -> bool {
    let item = &items[uri];
    item.buildings.contains(&normal(building))
        || item.parent.as_deref().is_some_and(|parent| in_scope(items, parent, building))
}

/// The figures docs/impact.md defines, for the items from or installed in `building`.
fn recompute(items: &HashMap<String, Item>, building: &str) -> Value {
    let scope: BTreeSet<&String> = items.keys().filter(|uri| in_scope(items, uri, building)).collect();
    let mass = |uri: &String| items[uri].passport["mass_kg"].as_f64();
    let mut sum: BTreeMap<String, f64> = BTreeMap::new();
    let mut add = |key: String, kg: f64| *sum.entry(key).or_default() += kg;
    for uri in &scope {
        let item = &items[*uri];
        let kg = mass(uri).expect("the demo gives every mass");
        let category = item.passport["category"].as_str().unwrap();
        let passport_code = item.passport.pointer("/legal_status/list_of_waste_code").and_then(Value::as_str);
        let disposal_code = item.disposed.as_ref().and_then(|(_, code, _)| code.as_deref());
        let asbestos = item.passport.pointer("/hazards/asbestos_free") == Some(&json!(false))
            || item.passport.pointer("/hazards/substances").and_then(Value::as_array).is_some_and(|substances| {
                substances.iter().any(|s| ASBESTOS.contains(&s["cas"].as_str().unwrap_or_default()))
            });
        let codes = [disposal_code, passport_code];
        let class = if asbestos || codes.iter().flatten().any(|code| code.ends_with('*')) {
            "hazardous"
        } else if codes.iter().flatten().any(|code| *code == "17 05 04") {
            "soil"
        } else {
            "non_hazardous"
        };
        if item.parent.as_ref().is_none_or(|parent| !scope.contains(parent)) {
            add("mass.registered".into(), kg);
            add(format!("category.{category}.registered"), kg);
            add(format!("flow.{}.registered", item.began), kg);
        }
        for month in &item.installs {
            add(format!("flow.{month}.installed"), kg);
        }
        match item.state {
            "installed" | "available" => {
                add(format!("mass.{}", item.state), kg);
                add(format!("category.{category}.{}", item.state), kg);
                add(format!("taxonomy.{class}"), kg);
                if class == "non_hazardous" {
                    add("taxonomy.prepared".into(), kg);
                }
                if let Some(declared) = item.passport.pointer("/environment/co2e_avoided_kg").and_then(Value::as_f64) {
                    add("co2e.declared".into(), declared);
                }
            }
            "disposed" => {
                let (route, _, month) = item.disposed.as_ref().unwrap();
                let class_of_disposal = if class == "hazardous" { "hazardous" } else { "non_hazardous" };
                add("mass.disposed".into(), kg);
                add(format!("category.{category}.disposed"), kg);
                add(format!("flow.{month}.disposed"), kg);
                add(format!("disposed.{class_of_disposal}.total"), kg);
                add(format!("disposed.{class_of_disposal}.route.{route}"), kg);
                let code = disposal_code.or(passport_code).unwrap_or("none");
                add(format!("disposed.{class_of_disposal}.waste_code.{code}"), kg);
                add(format!("taxonomy.{class}"), kg);
                if class == "non_hazardous" && route == "recycling" {
                    add("taxonomy.prepared".into(), kg);
                }
            }
            _ => {
                let parts: f64 = item.parts.iter().map(|part| mass(part).unwrap()).sum();
                let outside: f64 =
                    item.parts.iter().filter(|part| !scope.contains(part)).map(|part| mass(part).unwrap()).sum();
                add("mass.split_losses".into(), kg - parts);
                add("mass.split_parts_outside_scope".into(), outside);
                add(format!("category.{category}.split_losses"), kg - parts);
                add(format!("taxonomy.{class}"), kg - parts);
            }
        }
    }
    json!({"items": scope.len(), "sums": sum})
}

/// The report's figure under `key` as the recomputation names it (0 when it has none).
fn reported(report: &Value, key: &str) -> f64 {
    let parts: Vec<&str> = key.splitn(4, '.').collect();
    let value = match parts.as_slice() {
        ["mass", name] => &report["mass_kg"][name],
        ["category", category, name] => &report["by_category"][category][format!("{name}_kg")],
        ["flow", month, name] => {
            let flows = report["flows"].as_array().unwrap();
            let flow = flows.iter().find(|flow| flow["month"] == *month).unwrap_or(&Value::Null);
            &flow[format!("{name}_kg")]
        }
        ["disposed", class, "total"] => &report["disposed"][class]["total_kg"],
        ["disposed", class, "route", route] => &report["disposed"][class]["by_route"][route],
        ["disposed", class, "waste_code", code] => &report["disposed"][class]["by_waste_code"][code],
        ["taxonomy", "prepared"] => &report["taxonomy"]["prepared_for_reuse_or_recycling_kg"],
        ["taxonomy", "non_hazardous"] => &report["taxonomy"]["non_hazardous_kg"],
        ["taxonomy", "hazardous"] => &report["taxonomy"]["excluded_hazardous_kg"],
        ["taxonomy", "soil"] => &report["taxonomy"]["excluded_soil_and_stones_kg"],
        ["co2e", "declared"] => &report["co2e"]["declared"]["total_kg"],
        _ => panic!("no figure {key}"),
    };
    value.as_f64().unwrap_or(0.0)
}

/// Every figure of the recomputation is the report's, and the report has no other.
fn assert_agrees(report: &Value, expected: &Value) {
    assert_eq!(report["items"]["in_scope"], expected["items"], "items in scope");
    assert_eq!(report["items"]["unknown_mass"], json!({"restricted": 0, "absent": 0}));
    let sums = expected["sums"].as_object().unwrap();
    for (key, kg) in sums {
        let (kg, got) = (kg.as_f64().unwrap(), reported(report, key));
        assert!((kg - got).abs() < TOLERANCE, "{key}: the export gives {kg} kg, the report {got} kg");
    }
    // Nothing in the report that the export does not account for.
    for (name, kg) in report["mass_kg"].as_object().unwrap() {
        let expected = sums.get(&format!("mass.{name}")).and_then(Value::as_f64).unwrap_or(0.0);
        assert!((kg.as_f64().unwrap() - expected).abs() < TOLERANCE, "mass_kg.{name}");
    }
    for class in ["non_hazardous", "hazardous"] {
        for (table, key) in [("by_route", "route"), ("by_waste_code", "waste_code")] {
            for name in report["disposed"][class][table].as_object().unwrap().keys() {
                assert!(sums.contains_key(&format!("disposed.{class}.{key}.{name}")), "{class} {table} {name}");
            }
        }
    }
    let flows: Vec<&str> =
        report["flows"].as_array().unwrap().iter().map(|flow| flow["month"].as_str().unwrap()).collect();
    let months: BTreeSet<&str> = sums.keys().filter_map(|key| key.strip_prefix("flow.")?.split('.').next()).collect();
    assert_eq!(flows, months.into_iter().collect::<Vec<_>>());
    let share = report["taxonomy"]["share"].as_f64().unwrap();
    let computed = sums["taxonomy.prepared"].as_f64().unwrap() / sums["taxonomy.non_hazardous"].as_f64().unwrap();
    assert!((share - computed).abs() < 1e-6, "share {share}, recomputed {computed}");
    assert_eq!(report["taxonomy"]["meets_threshold"], json!(computed >= 0.7));
}

#[test]
fn the_donor_building_s_report_matches_a_recomputation_from_the_epcis_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut demo = salvage_command();
    demo.args(["demo", "--data", data.to_str().unwrap(), "--listen", &listen])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let node = Running::start(demo);
    let url = format!("http://{}", node.address);
    let genesis = data.join("genesis.json");
    let report = |scope: &str, format: &str| {
        let output = salvage_command()
            .args([
                "report",
                "impact",
                "--node",
                &url,
                "--genesis",
                genesis.to_str().unwrap(),
                "--scope",
                scope,
                format,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };

    let donor: Value = serde_json::from_str(&report(&format!("building={DONOR}"), "--json")).unwrap();
    let size = node.get_json("/v1/status")["size"].as_u64().unwrap();
    assert_eq!(donor["ledger"]["size"], size, "the whole ledger was read");
    assert_eq!(donor["scope"], json!([format!("building={DONOR}")]));

    let export = http::request(&node.address, "GET", "/v1/epcis", &[], b"");
    assert_eq!(export.status, 200, "{}", export.text());
    let items = items_of(&export.json());
    let expected = recompute(&items, DONOR);
    assert!(expected["items"].as_u64().unwrap() >= 30, "the demo's donor building gave its items: {expected}");
    assert!(expected["sums"]["mass.installed"].as_f64().unwrap() > 0.0, "some were reused: {expected}");
    assert_agrees(&donor, &expected);
    // The receiving building: items from elsewhere, and a part whose parent never was there.
    let receiver: Value = serde_json::from_str(&report(&format!("building={RECEIVER}"), "--json")).unwrap();
    assert_agrees(&receiver, &recompute(&items, RECEIVER));

    // The node answers the same report.
    let query = format!("/reports/impact?building={}&format=json", DONOR.replace(' ', "+"));
    assert_eq!(node.get_json(&query), donor);
    // CSV: one figure a row, rounded to 0.1 kg.
    let csv = report(&format!("building={DONOR}"), "--csv");
    assert_eq!(csv.lines().next(), Some("section,key,kg"));
    let registered = csv.lines().find_map(|line| line.strip_prefix("mass,registered,")).unwrap();
    assert_eq!(registered, format!("{:.1}", donor["mass_kg"]["registered"].as_f64().unwrap()));
    assert!(csv.lines().skip(1).all(|line| line.rsplit(',').next().unwrap().parse::<f64>().is_ok()), "{csv}");
    // HTML, in Latvian, to a file.
    let page = dir.path().join("impact.html");
    let html = format!("--html={}", page.display());
    let output = salvage_command()
        .args(["report", "impact", "--data", data.join("ledger").to_str().unwrap(), "--genesis"])
        .args([genesis.to_str().unwrap(), "--scope", &format!("building={DONOR}"), &html, "--lang", "lv"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(page.contains("<html lang=\"lv\">") && page.matches("<svg role=\"img\"").count() == 2);

    // A malformed scope: refused by the command and by the node, saying why.
    let output = salvage_command()
        .args([
            "report",
            "impact",
            "--node",
            &url,
            "--genesis",
            genesis.to_str().unwrap(),
            "--scope",
            "since=2026-13-01",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("scope \"since=2026-13-01\"") && stderr.contains("no such month"), "{stderr}");
    let refused = node.get("/reports/impact?since=2026-13-01");
    assert_eq!(refused.status, 400);
    let error = refused.json();
    assert_eq!(error["error"]["code"], "report.scope_malformed");
    assert!(error["error"]["message"].as_str().unwrap().contains("no such month"), "{error}");
    let (exit, log) = node.terminate();
    assert!(exit.success(), "{log}");
}

/// The reports one client may have computed at once (`node/src/server/impact/budget.rs`).
const BURST: usize = 3;
/// The time in which a client earns one more, in seconds.
const REFILL_SECONDS: u64 = 200;

#[test]
fn a_client_asking_for_more_new_reports_than_its_budget_gets_429_but_still_the_kept_ones() {
    let site = Site::new(&["city-of-jelgava"]);
    let node = Running::start(site.node("city-of-jelgava"));
    let f = &site.fixture;
    let entries = [
        f.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 180.0),
        f.register("baltic-demolition", "4750001BEAM-0002", "HEA 160 steel beam", 120.5),
    ];
    let submitted = node.submit(&entries);
    assert_eq!(submitted.status, 201, "{}", submitted.text());

    // This test talks to the node from 127.0.0.1: one client, with its whole budget.
    let scopes =
        ["member=baltic-demolition", "building=Jelgava+library+extension", "since=2020-01-01", "since=2021-01-01"];
    let mut made = Vec::new();
    for scope in &scopes[..BURST] {
        made.push(node.get_json(&format!("/reports/impact?{scope}&format=json")));
    }
    assert_eq!(made[0]["mass_kg"]["registered"].as_f64(), Some(300.5), "{}", made[0]);

    // One more new scope: past the budget.
    let refused = node.get(&format!("/reports/impact?{}&format=json", scopes[BURST]));
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert_eq!(refused.error_code(), "report.too_many");
    let retry: u64 = refused.header("retry-after").expect("a 429 says when to come back").parse().unwrap();
    assert!((1..=REFILL_SECONDS).contains(&retry), "Retry-After: {retry}");
    // Reports already made are still served, however the scope is spelt.
    assert_eq!(node.get_json("/reports/impact?format=json&member=baltic-demolition"), made[0]);
    assert_eq!(node.get_json("/reports/impact?building=jelgava%20library%20EXTENSION&format=json"), made[1]);
    // A malformed query is still told why, not that the client is past its budget.
    assert_eq!(node.get("/reports/impact?since=2021-02-30").status, 400);
    assert_eq!(node.get(&format!("/reports/impact?{}", scopes[BURST])).status, 429);

    let (exit, log) = node.terminate();
    assert!(exit.success(), "{log}");
}
