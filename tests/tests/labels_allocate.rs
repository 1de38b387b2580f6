//! Tag-first labels: `salvage labels --allocate N` reserves a member's next GIAIs
//! on a real node and prints their labels, whose QR codes (read back with a real
//! decoder) lead to pages that say the GIAI is reserved, and whose printed EPCs
//! (read back with the tests' independent decoder) name the same GIAIs; once
//! an item is registered under one, its page shows the item.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::collections::BTreeSet;
use std::process::Output;

use salvage_ledger::entry::Kind;
use salvage_ledger::testkit::{BALTIC_PREFIX, CONSORTIUM_PREFIX};
use salvage_tests::epc_decoder;
use salvage_tests::node::{PUBLIC_URL, Running, Site};
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const CONTRACTOR: &str = "baltic-demolition";
/// Holds no company prefix and no range in `Fixture::allocating`.
const HUB: &str = "reuse-hub";

fn salvage(site: &Site, node: &Running, member: &str, args: &[&str]) -> Output {
    site.salvage_as(node, member).args(args).output().unwrap()
}

fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// The one line a refused command prints on stderr.
fn refused(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "stdout: {}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with("salvage: ") && !stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The next free serial of the contractor's own prefix, as the node lists it.
fn next_serial(node: &Running) -> u64 {
    let members = node.get_json("/v1/members");
    let member = members.as_array().unwrap().iter().find(|m| m["id"] == CONTRACTOR).unwrap();
    let held = member["identifiers"].as_array().unwrap().iter().find(|a| a["prefix"] == BALTIC_PREFIX).unwrap();
    held["next"].as_u64().unwrap()
}

/// What one label of an SVG sheet carries: its QR code's content (rasterised
/// from the drawn modules and read with rqrr), its GIAI and EPC texts.
#[derive(Debug)]
struct ReadLabel {
    qr: String,
    giai: String,
    name: String,
    epc_hex: String,
    epc_tag_uri: String,
}

/// Reads every `<g class="label">` of a sheet the CLI wrote.
fn read_sheet(svg: &str) -> Vec<ReadLabel> {
    svg.split(r#"<g class="label""#)
        .skip(1)
        .map(|label| ReadLabel {
            qr: decode_qr(label),
            giai: texts(label, "giai").concat(),
            name: texts(label, "name").join(" "),
            epc_hex: texts(label, "epc-hex").concat(),
            epc_tag_uri: texts(label, "epc-tag-uri").concat(),
        })
        .collect()
}

/// The contents of the `<text class="{class}" …>` elements, in order, unescaped.
fn texts(label: &str, class: &str) -> Vec<String> {
    let open = format!(r#"<text class="{class}""#);
    label
        .split(&open)
        .skip(1)
        .map(|rest| {
            let content = &rest[rest.find('>').unwrap() + 1..rest.find("</text>").unwrap()];
            content
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

/// The label's QR code: the nested `<svg viewBox="0 0 M M">` whose path draws
/// each run of dark modules as `M{x},{y}h{len}v1h-{len}z`, painted 4 pixels a
/// module onto white and read with rqrr.
fn decode_qr(label: &str) -> String {
    let view_box = label.split(r#"viewBox="0 0 "#).nth(1).unwrap();
    let side: u32 = view_box.split(' ').next().unwrap().parse().unwrap();
    let path = label.split(r##"<path fill="#000000" d=""##).nth(1).unwrap();
    let path = &path[..path.find('"').unwrap()];
    let px = 4;
    let mut image = image::GrayImage::from_pixel(side * px, side * px, image::Luma([255]));
    for run in path.split('M').filter(|run| !run.is_empty()) {
        let (x, rest) = run.split_once(',').unwrap();
        let (y, rest) = rest.split_once('h').unwrap();
        let len = rest.split('v').next().unwrap();
        let (x, y, len): (u32, u32, u32) = (x.parse().unwrap(), y.parse().unwrap(), len.parse().unwrap());
        for module in x..x + len {
            for dx in 0..px {
                for dy in 0..px {
                    image.put_pixel(module * px + dx, y * px + dy, image::Luma([0]));
                }
            }
        }
    }
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code per label");
    grids[0].decode().unwrap().1
}

#[test]
fn reserved_labels_lead_to_their_pages_and_their_epcs_name_their_giais() {
    let site = Site::allocating(&[OPERATOR, CONTRACTOR]);
    let node = Running::start(site.node(OPERATOR));
    let next = next_serial(&node);
    let giais: Vec<String> = (next..next + 5).map(|serial| format!("{BALTIC_PREFIX}{serial}")).collect();

    let printed = succeeded(&salvage(&site, &node, CONTRACTOR, &["labels", "--allocate", "5", "--out", "sheet.svg"]));
    assert!(
        printed.contains(&format!(
            "reserved 5 GIAI(s) for Baltic Demolition SIA ({CONTRACTOR}) under company prefix {BALTIC_PREFIX}: {} to {}",
            giais[0], giais[4]
        )),
        "{printed}"
    );
    assert!(printed.contains("5 label(s) on 1 page(s)"), "{printed}");

    let sheet = read_sheet(&std::fs::read_to_string(site.path("sheet.svg")).unwrap());
    assert_eq!(sheet.len(), 5);
    for (label, giai) in sheet.iter().zip(&giais) {
        // The QR code leads to the node's public URL (its resolver description), never another resolver.
        assert_eq!(label.qr, format!("{PUBLIC_URL}/8004/{giai}"));
        assert_eq!(label.giai, format!("(8004) {giai}"));
        assert_eq!(label.name, "Reserved for Baltic Demolition SIA");

        let path = label.qr.strip_prefix(PUBLIC_URL).unwrap();
        let page = node.get(&format!("{path}?lang=en"));
        assert_eq!(page.status, 200, "{}", page.text());
        assert!(page.text().contains("Reserved, not yet registered"), "{}", page.text());

        // What the tag will carry names the same GIAI, by a decoder that shares nothing with the ledger's encoder.
        let hex = label.epc_hex.strip_prefix("EPC ").unwrap();
        let decoded = epc_decoder::decode(hex).unwrap_or_else(|error| panic!("{hex}: {error}"));
        assert_eq!(decoded.giai(), *giai);
        assert_eq!(decoded.company_prefix, BALTIC_PREFIX, "split where the prefix it was issued under ends");
        assert_eq!(label.epc_tag_uri, decoded.tag_uri());

        let view = node.get_json(&format!("/v1/items/{giai}"));
        assert_eq!(view["item"]["status"], "reserved");
        assert_eq!(view["item"]["custodian"], CONTRACTOR);
        assert_eq!(view["item"]["epc"]["hex"], hex);
    }

    // The contractor registers the item it stuck the first label on: the page now shows the item.
    let passport = salvage_ledger::testkit::passport(&giais[0], "HEA 160 steel beam", 180.0);
    std::fs::write(site.path("beam.json"), serde_json::to_vec(&passport).unwrap()).unwrap();
    succeeded(&salvage(&site, &node, CONTRACTOR, &["register", "beam.json"]));
    let page = node.get(&format!("/8004/{}?lang=en", giais[0]));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("HEA 160 steel beam"), "{}", page.text());
    assert!(!page.text().contains("Reserved, not yet registered"));
    assert_ne!(node.get_json(&format!("/v1/items/{}", giais[0]))["item"]["status"], "reserved");

    // A second run continues after the first range; its labels carry the EPCs the node lists.
    let printed = succeeded(&salvage(&site, &node, CONTRACTOR, &["labels", "--allocate", "3", "--out", "more.pdf"]));
    let more: Vec<String> = (next + 5..next + 8).map(|serial| format!("{BALTIC_PREFIX}{serial}")).collect();
    assert!(printed.contains(&format!(": {} to {}", more[0], more[2])), "{printed}");
    assert!(std::fs::read(site.path("more.pdf")).unwrap().starts_with(b"%PDF-"));
    let first: BTreeSet<&String> = giais.iter().collect();
    for giai in &more {
        assert!(!first.contains(giai));
        assert_eq!(node.get_json(&format!("/v1/items/{giai}"))["item"]["status"], "reserved");
    }
    assert_eq!(next_serial(&node), next + 8);

    // Labels for listed items take their EPC from the node.
    let printed = succeeded(&salvage(
        &site,
        &node,
        CONTRACTOR,
        &["labels", "--item", &format!("{}=HEA 160 steel beam", giais[0]), "--out", "beam.svg"],
    ));
    assert_eq!(printed.trim(), "1 label(s) on 1 page(s)");
    let beam = read_sheet(&std::fs::read_to_string(site.path("beam.svg")).unwrap());
    assert_eq!(beam[0].qr, format!("{PUBLIC_URL}/8004/{}", giais[0]));
    assert_eq!(epc_decoder::decode(beam[0].epc_hex.strip_prefix("EPC ").unwrap()).unwrap().giai(), giais[0]);
}

#[test]
fn zpl_for_an_rfid_printer_writes_each_reserved_epc_into_its_tag() {
    let site = Site::allocating(&[OPERATOR, CONTRACTOR]);
    let node = Running::start(site.node(OPERATOR));
    let next = next_serial(&node);
    let printed = succeeded(&salvage(
        &site,
        &node,
        CONTRACTOR,
        &["labels", "--allocate", "2", "--out", "tags.zpl", "--name", "Block B"],
    ));
    assert!(printed.contains("2 label(s) as ZPL II"), "{printed}");
    let zpl = std::fs::read_to_string(site.path("tags.zpl")).unwrap();
    let formats: Vec<&str> = zpl.split_inclusive("^XZ\n").collect();
    assert_eq!(formats.len(), 2);
    for (format, serial) in formats.iter().zip(next..) {
        let giai = format!("{BALTIC_PREFIX}{serial}");
        let write = format.lines().find(|line| line.starts_with("^RFW,H,,,A^FD")).unwrap();
        let hex = write.strip_prefix("^RFW,H,,,A^FD").unwrap().strip_suffix("^FS").unwrap();
        assert_eq!(epc_decoder::decode(hex).unwrap().giai(), giai);
        assert!(format.contains(&format!("^FH^FDMA,{PUBLIC_URL}/8004/{giai}^FS")), "{format}");
        assert!(format.contains("^FDBlock B^FS"), "{format}");
    }
}

#[test]
fn a_member_without_identifiers_or_with_the_wrong_key_is_refused_in_one_line() {
    let site = Site::allocating(&[OPERATOR, CONTRACTOR, HUB]);
    let node = Running::start(site.node(OPERATOR));
    let next = next_serial(&node);

    let error = refused(&salvage(&site, &node, HUB, &["labels", "--allocate", "2", "--out", "hub.svg"]));
    assert!(error.contains("giai.not_allocated") && error.contains("holds no company prefix"), "{error}");
    assert!(!site.path("hub.svg").exists(), "no labels for GIAIs nobody reserved");

    let error =
        refused(&salvage(&site, &node, CONTRACTOR, &["labels", "--allocate", "2", "--out", "x.svg", "--member", HUB]));
    assert!(error.contains("not an active key of reuse-hub"), "{error}");

    let error = refused(&salvage(
        &site,
        &node,
        CONTRACTOR,
        &["labels", "--allocate", "2", "--out", "x.svg", "--prefix", "4750009"],
    ));
    assert!(error.contains("holds nothing under company prefix 4750009"), "{error}");

    let error = refused(&salvage(&site, &node, CONTRACTOR, &["labels", "--allocate", "20000", "--out", "x.svg"]));
    assert!(error.contains("1 to 10000"), "{error}");

    // Nothing was reserved by any of these.
    let members = node.get_json("/v1/members");
    let hub: &Value = members.as_array().unwrap().iter().find(|m| m["id"] == HUB).unwrap();
    assert!(hub.get("identifiers").is_none_or(|held| held.as_array().is_some_and(Vec::is_empty)));
    assert_eq!(next_serial(&node), next);
}

#[test]
fn a_range_under_the_consortiums_prefix_is_reserved_until_it_is_used_up() {
    let site = Site::allocating(&[OPERATOR, HUB]);
    let node = Running::start(site.node(OPERATOR));
    // Two admins allocate serials 100 to 104 under the consortium's prefix to the hub.
    let allocate = site.fixture.signed(
        &["regional-planning", OPERATOR],
        Kind::GiaiAllocate,
        json!({"member": HUB, "prefix": CONSORTIUM_PREFIX, "first": 100, "last": 104}),
    );
    let answer = node.submit_one(&allocate);
    assert_eq!(answer.status, 201, "{}", answer.text());
    // Only a contractor reserves (it alone can register what it reserves).
    let error = refused(&salvage(&site, &node, HUB, &["labels", "--allocate", "3", "--out", "hub.svg"]));
    assert!(error.contains("role.missing"), "{error}");
    let contractor = site.fixture.signed(
        &["regional-planning", OPERATOR],
        Kind::MemberUpdate,
        json!({"id": HUB, "roles": ["holder", "operator", "contractor"]}),
    );
    assert_eq!(node.submit_one(&contractor).status, 201);

    let printed = succeeded(&salvage(&site, &node, HUB, &["labels", "--allocate", "3", "--out", "hub.svg"]));
    assert!(
        printed.contains(&format!(
            "reserved 3 GIAI(s) for Jelgava Reuse Hub ({HUB}) under company prefix {CONSORTIUM_PREFIX}: \
             {CONSORTIUM_PREFIX}100 to {CONSORTIUM_PREFIX}102"
        )),
        "{printed}"
    );
    let sheet = read_sheet(&std::fs::read_to_string(site.path("hub.svg")).unwrap());
    for (label, serial) in sheet.iter().zip(100..) {
        let giai = format!("{CONSORTIUM_PREFIX}{serial}");
        assert_eq!(label.qr, format!("{PUBLIC_URL}/8004/{giai}"));
        assert_eq!(label.name, "Reserved for Jelgava Reuse Hub");
        let decoded = epc_decoder::decode(label.epc_hex.strip_prefix("EPC ").unwrap()).unwrap();
        assert_eq!((decoded.giai(), decoded.company_prefix.as_str()), (giai, CONSORTIUM_PREFIX));
    }

    // Two serials are left: three do not fit, and nothing is reserved for trying.
    let error = refused(&salvage(&site, &node, HUB, &["labels", "--allocate", "3", "--out", "more.svg"]));
    assert!(error.contains("room for 3") && error.contains("serials 100 to 104 (next 103)"), "{error}");
    let printed = succeeded(&salvage(&site, &node, HUB, &["labels", "--allocate", "2", "--out", "more.svg"]));
    assert!(printed.contains(&format!("{CONSORTIUM_PREFIX}103 to {CONSORTIUM_PREFIX}104")), "{printed}");
}
