//! `salvage import`: a contractor's pre-demolition inventory. A file with
//! mistakes is reported row by row and column by column, and nothing is sent;
//! a clean file is registered whole.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::process::{Command, Output};

use salvage_tests::node::{Running, Site};
use salvage_tests::salvage_binary;

const OPERATOR: &str = "city-of-jelgava";

const HEADER: &str = "giai,name,category,quantity,unit,mass_kg,length_mm,width_mm,height_mm,materials,condition_grade,building,address,country,year_built,asbestos_free,restricted\n";

fn import(site: &Site, node: &Running, file: &str) -> Output {
    Command::new(salvage_binary())
        .args(["import", site.path(file).to_str().unwrap(), "--batch", "7"])
        .env("SALVAGE_NODE", format!("http://{}", node.address))
        .env("SALVAGE_KEY", site.path("baltic-demolition.pem"))
        .output()
        .unwrap()
}

#[test]
fn an_inventory_with_mistakes_is_reported_whole_and_nothing_is_sent_then_the_fixed_one_registers() {
    let site = Site::new(&[OPERATOR, "baltic-demolition"]);
    let node = Running::start(site.node(OPERATOR));
    assert_eq!(
        node.submit_one(&site.fixture.register("baltic-demolition", "4750001DOOR-0003", "door", 40.0)).status,
        201
    );

    let mut rows = String::from(HEADER);
    for n in 1..=20 {
        rows.push_str(&format!(
            "4750001BEAM-{n:04},HEA 200 steel beam,structural_steel,1,H87,253.2,6000,200,190,Steel S235:1.0,B,Sugar factory warehouse,Rūpniecības iela 2,LV,1974,yes,address\n"
        ));
    }
    let mut broken = rows.clone();
    broken.push_str(
        "4750001BEAM-0005,duplicate beam,structural_steel,1,H87,253.2,6000,200,190,Steel:1,B,Warehouse,,LV,1974,yes,\n",
    ); // row 22
    broken.push_str(
        "4750001DOOR-0001,Oak door,door,1,H87,heavy,2100,900,45,Oak:0.9; Steel:0.1,B,Warehouse,,LV,1974,maybe,\n",
    ); // row 23
    broken.push_str("4750001DOOR-0002,Oak door,spaceship,1,H87,48,2100,900,45,Oak:0.9,E,Warehouse,,LV,1974,yes,\n"); // row 24
    broken.push_str("4750001DOOR-0003,Oak door,door,1,H87,48,2100,900,45,Oak:0.9,B,Warehouse,,LV,1974,yes,\n"); // row 25
    broken.push_str(",No GIAI,door,1,H87,48,2100,900,45,Oak:0.9,B,Warehouse,,LV,1974,yes,\n"); // row 26
    std::fs::write(site.path("broken.csv"), &broken).unwrap();
    let output = import(&site, &node, "broken.csv");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "row 22, column giai: 4750001BEAM-0005 is already on row 6",
        "row 23, column mass_kg: \"heavy\" is not a number",
        "row 23, column asbestos_free: \"maybe\" is not yes or no",
        "row 24, column category:",
        "row 24, column condition_grade:",
        "row 25, column giai: 4750001DOOR-0003 is already registered",
        "row 26, column giai: is empty",
        "nothing was submitted",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    assert_eq!(node.get_json("/v1/status")["size"], 2, "nothing was submitted");

    std::fs::write(site.path("inventory.csv"), &rows).unwrap();
    let output = import(&site, &node, "inventory.csv");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("registered 20 items"));
    assert_eq!(node.get_json("/v1/status")["size"], 22);
    let beam = node.get_json("/v1/items/4750001BEAM-0020");
    assert_eq!(beam["item"]["custodian"], "baltic-demolition");
    assert_eq!(beam["passport"]["mass_kg"], 253.2);
    assert_eq!(beam["passport"]["materials"][0]["name"], "Steel S235");
    assert!(beam["passport"]["origin"].get("address").is_none(), "the restricted address stays private: {beam}");
    node.terminate();
}
