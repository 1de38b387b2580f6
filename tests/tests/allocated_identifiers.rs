//! GIAIs the consortium issues, against a real node on a ledger that allocates them: admins
//! give prefixes and ranges with the real `salvage` binary, a member reserves GIAIs, a buyer
//! who scans a reserved label is told whose it is, and every item's EPC (as the node prints
//! it) decodes, with the tests' own decoder, back to its GIAI and leads back to its page.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::process::Output;

use salvage_ledger::entry::Kind;
use salvage_ledger::testkit::{BALTIC_PREFIX, CONSORTIUM_PREFIX};
use salvage_tests::epc_decoder;
use salvage_tests::node::{PUBLIC_URL, Running, Site};
use serde_json::json;

const OPERATOR: &str = "city-of-jelgava";
const ADMINS: [&str; 2] = ["regional-planning", "city-of-jelgava"];

/// `salvage ARGS…` talking to `node`, signing with the keys of `signers`.
fn salvage(site: &Site, node: &Running, signers: &[&str], args: &[&str]) -> Output {
    let mut command = site.salvage(node);
    command.args(args);
    for signer in signers {
        command.arg("--key").arg(site.path(&format!("{signer}.pem")));
    }
    command.output().unwrap()
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn refused(output: Output) -> String {
    assert_eq!(output.status.code(), Some(1), "should fail: {}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn admins_allocate_members_reserve_and_a_reserved_label_leads_to_whose_it_is() {
    let site = Site::allocating(&[OPERATOR, "regional-planning", "baltic-demolition", "reuse-hub"]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;

    // A range under the consortium's prefix for the hub, by both admins; one admin is not enough.
    let allocate =
        ["member", "allocate", "reuse-hub", "--prefix", CONSORTIUM_PREFIX, "--first", "500", "--last", "599"];
    let alone = refused(salvage(&site, &node, &["city-of-jelgava"], &allocate));
    assert!(alone.contains("admin.threshold_not_met"), "{alone}");
    ok(salvage(&site, &node, &ADMINS, &allocate));
    let overlapping =
        ["member", "allocate", "riga-deconstruction", "--prefix", CONSORTIUM_PREFIX, "--first", "599", "--last", "700"];
    assert!(refused(salvage(&site, &node, &ADMINS, &overlapping)).contains("giai.overlap"));
    // A prefix for a member: the admins record the licence it holds.
    ok(salvage(&site, &node, &ADMINS, &["member", "update", "timber-builders", "--add-company-prefix", "4750004"]));
    let members = node.get_json("/v1/members");
    let held =
        |id: &str| members.as_array().unwrap().iter().find(|member| member["id"] == id).unwrap()["identifiers"].clone();
    assert_eq!(
        held("reuse-hub"),
        json!([{"prefix": CONSORTIUM_PREFIX, "range": {"first": 500, "last": 599}, "next": 500, "since": 1}])
    );
    assert_eq!(held("timber-builders")[0]["prefix"], "4750004");

    // Baltic Demolition reserves three GIAIs under its own prefix, before the items are registered.
    let reserve =
        f.signed(&["baltic-demolition"], Kind::GiaiReserve, json!({"prefix": BALTIC_PREFIX, "first": 1, "count": 3}));
    assert_eq!(node.submit_one(&reserve).status, 201);
    let reserved = "47500011";
    let page = node.get(&format!("/8004/{reserved}?lang=en"));
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("Reserved, not yet registered"), "{}", page.text());
    assert!(page.text().contains("Baltic Demolition SIA"), "the page names whose it is");
    assert_eq!(page.header("vary"), Some("Accept, Accept-Language"), "a cache keeps pages apart by what was asked");
    assert!(page.header("link").is_some_and(|link| link.contains("rel=\"linkset\"")), "its linkset is linked");
    let malformed = node.get("/8004/12345");
    assert_eq!((malformed.status, malformed.header("vary")), (400, Some("Accept, Accept-Language")));
    let lv = node.get(&format!("/8004/{reserved}?lang=lv")).text();
    assert!(lv.contains("Rezervēts"), "{lv}");
    let item = node.get_json(&format!("/v1/items/{reserved}"));
    assert_eq!(item["item"]["status"], "reserved");

    // The reserved GIAI's EPC decodes to it and a reader gate's lookup leads to its page.
    let epc = item["item"]["epc"].clone();
    let decoded = epc_decoder::decode(epc["hex"].as_str().unwrap()).unwrap();
    assert_eq!((decoded.giai(), decoded.company_prefix.as_str()), (reserved.to_owned(), BALTIC_PREFIX));
    assert_eq!(epc["tag_uri"], decoded.tag_uri());
    let lookup = node.get(&format!("/v1/epc/{}", epc["hex"].as_str().unwrap()));
    assert_eq!(lookup.status, 303);
    assert_eq!(lookup.header("location"), Some(format!("{PUBLIC_URL}/8004/{reserved}").as_str()));

    // Only Baltic Demolition registers it; then the page shows the item.
    let squatter = node.submit_one(&f.register("riga-deconstruction", reserved, "Steel beam", 80.0));
    assert_eq!((squatter.status, squatter.error_code()), (403, "giai.reserved".to_owned()));
    assert_eq!(node.submit_one(&f.register("baltic-demolition", reserved, "HEA 200 steel beam", 80.0)).status, 201);
    let page = node.get(&format!("/8004/{reserved}?lang=en")).text();
    assert!(page.contains("HEA 200 steel beam") && !page.contains("Reserved, not yet registered"), "{page}");
    assert_eq!(node.get_json(&format!("/v1/items/{reserved}"))["item"]["epc"], epc, "registration keeps the EPC");

    // Every EPC the node prints decodes to its item: numeric serials (GIAI-96) of every range,
    // alphanumeric references (GIAI-202).
    let hub_roles = f.signed(
        &ADMINS,
        Kind::MemberUpdate,
        json!({"id": "reuse-hub", "roles": ["holder", "operator", "contractor"]}),
    );
    assert_eq!(node.submit_one(&hub_roles).status, 201);
    for (member, giai, scheme) in [
        ("reuse-hub", "4750009500", "giai-96"),
        ("reuse-hub", "4750009599", "giai-96"),
        ("baltic-demolition", "4750001BEAM-0001", "giai-202"),
        ("baltic-demolition", "47500010042", "giai-202"),
    ] {
        assert_eq!(node.submit_one(&f.register(member, giai, "Steel beam", 80.0)).status, 201, "{giai}");
        let epc = node.get_json(&format!("/v1/items/{giai}"))["item"]["epc"].clone();
        assert_eq!(epc["scheme"], scheme, "{giai}");
        let decoded = epc_decoder::decode(epc["hex"].as_str().unwrap()).unwrap();
        assert_eq!(decoded.giai(), giai);
        let lookup = node.get(&format!("/v1/epc/{}", epc["hex"].as_str().unwrap()));
        assert_eq!(lookup.header("location"), Some(format!("{PUBLIC_URL}/8004/{giai}").as_str()));
    }

    // A crew reads the tag of a reserved label with a handheld and imports the inventory by EPC
    // alone; the export carries every item's EPC back out.
    let tagged = "47500012";
    let tag = node.get_json(&format!("/v1/items/{tagged}"))["item"]["epc"]["hex"].as_str().unwrap().to_owned();
    let inventory = site.path("tagged.csv");
    std::fs::write(&inventory, format!("epc,name,category,mass_kg\n{tag},HEA 240 steel beam,structural_steel,95\n"))
        .unwrap();
    ok(salvage(&site, &node, &["baltic-demolition"], &["import", inventory.to_str().unwrap()]));
    assert_eq!(node.get_json(&format!("/v1/items/{tagged}"))["item"]["status"], "available");
    let exported = site.path("items.csv");
    let args = ["export", "csv", tagged, "4750009500", "4750001BEAM-0001", "--out", exported.to_str().unwrap()];
    ok(salvage(&site, &node, &[], &args));
    let mut reader = csv::Reader::from_path(&exported).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        let giai = &row[column("giai")];
        assert_eq!(epc_decoder::decode(&row[column("epc")]).unwrap().giai(), giai);
        assert_eq!(&row[column("digital_link")], format!("{PUBLIC_URL}/8004/{giai}"));
    }
    assert_eq!(&rows[0][column("name")], "HEA 240 steel beam");

    // One request cannot make a million reserved items: at most 10,000 GIAIs per submission,
    // refused whole and before anything is recorded.
    let size = node.get_json("/v1/status")["size"].clone();
    let sheets: Vec<_> = (0..11)
        .map(|n| {
            let first = 1000 + n * 1000;
            f.signed(
                &["baltic-demolition"],
                Kind::GiaiReserve,
                json!({"prefix": BALTIC_PREFIX, "first": first, "count": 1000}),
            )
        })
        .collect();
    let flood = node.submit(&sheets);
    assert_eq!((flood.status, flood.error_code()), (413, "http.too_many_reservations".to_owned()), "{}", flood.text());
    assert_eq!(node.get_json("/v1/status")["size"], size);
    node.terminate();
}
