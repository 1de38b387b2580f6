//! The whole life of an item, driven over HTTP against the real `salvage node`
//! binary: a contractor registers a beam and hands it to a reuse hub, a
//! certification body attests it, the hub cuts it in two, a builder installs a
//! part, takes it out again and finally sends it to recycling. After every
//! step the item's public view says where it is; at the end every receipt is
//! proven against the node's signed checkpoint, the item's bundle verifies
//! offline and an audit of the full download finds nothing wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_ledger::bundle::{Bundle, verify_bundle};
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::testkit::passport;
use salvage_tests::auditor::{assert_receipt_proven, audit_download, signed_checkpoint};
use salvage_tests::node::{Running, Site};
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const BEAM: &str = "4750001BEAM-0100";
const PART_A: &str = "4750001BEAM-0100A";
const PART_B: &str = "4750001BEAM-0100B";

/// Submits one entry on its own and returns its receipt; panics unless 201.
fn accepted(node: &Running, entry: &SignedEntry) -> Value {
    let answer = node.submit_one(entry);
    assert_eq!(answer.status, 201, "{:?} was refused: {}", entry.statement().kind, answer.text());
    answer.json()
}

/// The public view of an item.
fn item(node: &Running, giai: &str) -> Value {
    node.get_json(&format!("/v1/items/{giai}"))
}

#[test]
fn an_item_lives_from_dismantling_through_reuse_to_recycling() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;
    let mut receipts = Vec::new();

    // A contractor registers the beam; the passport keeps the building's
    // street address restricted to the consortium.
    let mut beam = passport(BEAM, "HEA 160 steel beam, 6 m", 180.0);
    beam["origin"]["address"] = json!("Rūpniecības iela 1, Jelgava");
    beam["restricted"] = json!(["/origin/address"]);
    let register = f.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": BEAM, "passport": beam}));
    let receipt = accepted(&node, &register);
    assert_eq!(receipt["seq"], 1, "{receipt}");
    assert_eq!(accepted(&node, &register), receipt, "a re-submission gets the original receipt");
    receipts.push(receipt);
    let view = item(&node, BEAM);
    assert_eq!(view["item"]["custodian"], "baltic-demolition");
    assert_eq!(view["item"]["status"], "available");
    assert!(!view.to_string().contains("Rūpniecības"), "restricted fields never leave the node: {view}");

    // Offered to the hub, custody moves only when the hub receives it.
    receipts.push(accepted(&node, &f.transfer("baltic-demolition", BEAM, "reuse-hub")));
    let view = item(&node, BEAM);
    assert_eq!(view["item"]["custodian"], "baltic-demolition");
    assert_eq!(view["item"]["pending"]["to"], "reuse-hub");
    receipts.push(accepted(&node, &f.receive("reuse-hub", BEAM)));
    let view = item(&node, BEAM);
    assert_eq!(view["item"]["custodian"], "reuse-hub");
    assert!(view["item"]["pending"].is_null(), "{view}");

    // The certification body attests exactly the passport version it saw.
    let attest = f.signed(
        &["baltic-cert"],
        Kind::ItemAttest,
        json!({"giai": BEAM, "passport_version": 1,
        "attestation": {"type": "inspection", "result": "pass", "grade": "A", "standard": "EN 1090-2",
            "summary": "Visual and ultrasonic inspection: no section loss beyond tolerance."}}),
    );
    receipts.push(accepted(&node, &attest));
    assert_eq!(item(&node, BEAM)["item"]["attestations"].as_array().map(Vec::len), Some(1));

    // The hub cuts it in two; the parts stay with the hub and name their parent.
    let part = |giai: &str, name: &str, mass: f64| {
        let mut passport = passport(giai, name, mass);
        passport["identity"]["predecessor"] = json!({"giai": BEAM});
        json!({"giai": giai, "passport": passport})
    };
    let split = f.signed(
        &["reuse-hub"],
        Kind::ItemSplit,
        json!({"giai": BEAM, "parts": [
        part(PART_A, "HEA 160 steel beam, 4 m", 120.0), part(PART_B, "HEA 160 steel beam, 2 m", 60.0)]}),
    );
    receipts.push(accepted(&node, &split));
    assert_eq!(item(&node, BEAM)["item"]["status"], "split");
    for giai in [PART_A, PART_B] {
        let view = item(&node, giai);
        assert_eq!(view["item"]["custodian"], "reuse-hub", "{giai}");
        assert_eq!(view["item"]["parent"], BEAM, "{giai}");
    }

    // A builder buys the 4 m part, installs it, takes it out, recycles it.
    receipts.push(accepted(&node, &f.transfer("reuse-hub", PART_A, "timber-builders")));
    receipts.push(accepted(&node, &f.receive("timber-builders", PART_A)));
    let install = f.signed(
        &["timber-builders"],
        Kind::ItemInstall,
        json!({"giai": PART_A,
        "site": {"building": "Jelgava library extension", "country": "LV"}, "date": "2026-11-20"}),
    );
    receipts.push(accepted(&node, &install));
    assert_eq!(item(&node, PART_A)["item"]["status"], "installed");
    let dismantle = f.signed(
        &["timber-builders"],
        Kind::ItemDismantle,
        json!({"giai": PART_A, "reason": "Extension redesigned.", "date": "2026-11-21"}),
    );
    receipts.push(accepted(&node, &dismantle));
    assert_eq!(item(&node, PART_A)["item"]["status"], "available");
    let dispose = f.signed(
        &["timber-builders"],
        Kind::ItemDispose,
        json!({"giai": PART_A, "route": "recycling", "date": "2026-11-22"}),
    );
    receipts.push(accepted(&node, &dispose));
    let view = item(&node, PART_A);
    assert_eq!(view["item"]["status"], "disposed");
    assert_eq!(view["item"]["custodian"], "timber-builders");
    let kinds: Vec<&str> =
        view["history"].as_array().unwrap().iter().map(|record| record["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["item.split", "item.transfer", "item.receive", "item.install", "item.dismantle", "item.dispose"],
        "{view}"
    );

    // A disposed item never changes again: the node refuses and keeps its size.
    let size = node.get_json("/v1/status")["size"].as_u64().unwrap();
    let again = node.submit_one(&f.transfer("timber-builders", PART_A, "reuse-hub"));
    assert_eq!((again.status, again.error_code().as_str()), (409, "item.terminal"), "{}", again.text());
    assert_eq!(node.get_json("/v1/status")["size"], size);

    // What a buyer sees when scanning the part's QR code.
    let page = node.get(&format!("/8004/{PART_A}?lang=en"));
    assert_eq!(page.status, 200);
    let page = page.text();
    for shown in ["HEA 160 steel beam, 4 m", "Timber Builders SIA", "Jelgava Reuse Hub", BEAM] {
        assert!(page.contains(shown), "the part's page shows {shown:?}");
    }
    // Following the link to the beam it was cut from shows who certified it.
    assert!(page.contains(&format!("href=\"{BEAM}\"")), "the part's page links to its parent");
    let parent = node.get(&format!("/8004/{BEAM}?lang=en")).text();
    for shown in ["Baltic Building Certification", "EN 1090-2", "Baltic Demolition SIA"] {
        assert!(parent.contains(shown), "the parent's page shows {shown:?}");
    }

    // What an auditor checks: every receipt against the signed checkpoint, the
    // part's bundle offline, and a replay of the whole download.
    let checkpoint = signed_checkpoint(&node, OPERATOR);
    assert_eq!(checkpoint.checkpoint.size(), size);
    for receipt in &receipts {
        assert_receipt_proven(&node, receipt, &checkpoint);
    }
    let bundle: Bundle = serde_json::from_slice(&node.get(&format!("/v1/items/{PART_A}/bundle")).body).unwrap();
    let report = verify_bundle(&bundle, &f.genesis);
    assert!(report.is_clean(), "{report:?}");
    let report = audit_download(&node, OPERATOR, f);
    assert_eq!(report.records, size);
    assert_eq!(report.items, 3);
    node.terminate();
}
