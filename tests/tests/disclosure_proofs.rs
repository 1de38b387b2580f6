//! Disclosure proofs with the real `salvage` binary against a real `salvage
//! node` on a format-2 ledger (docs/format.md §13, "Disclosure proofs"): a
//! member who handled an item proves one restricted value with `salvage
//! disclose`, anyone verifies it offline with `salvage verify`, an edited proof
//! does not verify, and a member who never touched the item is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use salvage_ledger::disclosure::Disclosure;
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::testkit::passport;
use salvage_tests::node::{Running, Site};
use salvage_tests::salvage_command;
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const CONTRACTOR: &str = "baltic-demolition";
const OUTSIDER: &str = "timber-builders";
const BEAM: &str = "4750001BEAM-0001";
const ADDRESS: &str = "Rūpniecības iela 12, Jelgava";
const MASS: f64 = 253.2;

/// A site whose node runs, with the keys of the operator, the contractor and
/// a member who never touches the beam.
fn started() -> (Site, Running) {
    let site = Site::withholding(&[OPERATOR, CONTRACTOR, OUTSIDER]);
    let node = Running::start(site.node(OPERATOR));
    (site, node)
}

/// A passport that restricts the donor building's address and the mass.
fn restricted_passport(giai: &str, address: &str, mass_kg: f64) -> Value {
    let mut passport = passport(giai, "Steel beam HEA 160", mass_kg);
    passport["origin"]["address"] = json!(address);
    passport["restricted"] = json!(["/origin/address", "/mass_kg"]);
    passport
}

/// Signs `body` as `signer` with its restricted values withheld and submits the envelope.
fn submit(site: &Site, node: &Running, signer: &str, kind: Kind, body: Value) {
    let (entry, disclosures): (SignedEntry, Vec<Disclosure>) = site.fixture.withheld(&[signer], kind, body);
    assert!(!disclosures.is_empty(), "the body withholds values");
    let envelope = json!({"entry": entry.to_value(), "disclosures": disclosures.iter().map(Disclosure::to_value).collect::<Vec<_>>()});
    let answer = node.request("POST", "/v1/entries", envelope.to_string().as_bytes());
    assert_eq!(answer.status, 201, "{}", answer.text());
}

fn register_beam(site: &Site, node: &Running) {
    let body = json!({"giai": BEAM, "passport": restricted_passport(BEAM, ADDRESS, MASS)});
    submit(site, node, CONTRACTOR, Kind::ItemRegister, body);
}

/// `salvage disclose GIAI ARGS… --node URL --key MEMBER.pem`, no `SALVAGE_*` of the test's own.
fn disclose(site: &Site, node: &Running, member: &str, giai: &str, args: &[&str]) -> Output {
    salvage_command()
        .args(["disclose", giai])
        .args(args)
        .args(["--node", &format!("http://{}", node.address)])
        .arg("--key")
        .arg(site.path(&format!("{member}.pem")))
        .output()
        .unwrap()
}

/// `salvage verify FILE --genesis genesis.json ARGS…`.
fn verify(site: &Site, file: &Path, args: &[&str]) -> Output {
    salvage_command()
        .arg("verify")
        .arg(file)
        .arg("--genesis")
        .arg(site.path("genesis.json"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The error a failed command printed, after checking it failed with status 1.
fn refused(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "stdout: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// `proof` with `edit` applied, written beside it under `name`.
fn edited(site: &Site, proof: &Value, name: &str, edit: impl FnOnce(&mut Value)) -> std::path::PathBuf {
    let mut copy = proof.clone();
    edit(&mut copy);
    let path = site.path(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&copy).unwrap()).unwrap();
    path
}

#[test]
fn a_member_proves_one_restricted_value_and_anyone_verifies_it_offline() {
    let (site, node) = started();
    register_beam(&site, &node);
    let out = site.path("proof.json");
    let out_text = out.to_str().unwrap();

    let printed = ok(&disclose(&site, &node, CONTRACTOR, BEAM, &["--field", "/origin/address", "--out", out_text]));
    assert!(
        printed.contains(&format!("Proof of /passport/origin/address of {BEAM} (record 1) written to {out_text}")),
        "{printed}"
    );
    assert!(printed.contains(&format!("\"{ADDRESS}\"")), "{printed}");
    assert!(printed.contains(&format!("recorded by      {CONTRACTOR}")), "{printed}");

    // The file holds the address, not the mass, and only its owner reads it.
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(ADDRESS), "{text}");
    assert!(!text.contains("\"mass_kg\":"), "the proof reveals the mass: {text}");
    let proof: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(proof["format"], "salvage-disclosure-proof/v1");
    assert_eq!(proof["seq"], 1);
    assert_eq!(proof["disclosure"][1], "/passport/origin/address");

    // Anyone with the genesis verifies it, offline.
    drop(node);
    let printed = ok(&verify(&site, &out, &[]));
    assert!(printed.contains(&format!("Bundle of item {BEAM}")), "{printed}");
    assert!(printed.contains("verified: no problem found"), "{printed}");
    assert!(
        printed.contains(&format!(
            "Proven: /passport/origin/address = \"{ADDRESS}\" — recorded at position 1 by {CONTRACTOR}"
        )),
        "{printed}"
    );
    let report: Value = serde_json::from_str(&ok(&verify(&site, &out, &["--json"]))).unwrap();
    assert_eq!(report["proven"]["value"], ADDRESS);
    assert_eq!(report["proven"]["pointer"], "/passport/origin/address");
    assert_eq!(report["proven"]["signed_by"], json!([CONTRACTOR]));
    assert_eq!(report["bundle"]["problems"], json!([]));

    // An edited value, salt or place does not verify, and says why.
    let changed = "the signed body does not list";
    for (name, edit, why) in [
        (
            "value.json",
            Box::new(|p: &mut Value| p["disclosure"][2] = json!("Elsewhere 1, Riga")) as Box<dyn FnOnce(&mut Value)>,
            changed,
        ),
        (
            "salt.json",
            Box::new(|p: &mut Value| p["disclosure"][0] = json!("000102030405060708090a0b0c0d0e0f")),
            changed,
        ),
        ("place.json", Box::new(|p: &mut Value| p["disclosure"][1] = json!("/passport/mass_kg")), changed),
        (
            "unrestricted.json",
            Box::new(|p: &mut Value| p["disclosure"][1] = json!("/passport/name")),
            "does not restrict",
        ),
        ("record.json", Box::new(|p: &mut Value| p["seq"] = json!(0)), "does not belong to record 0"),
    ] {
        let path = edited(&site, &proof, name, edit);
        let output = verify(&site, &path, &[]);
        let error = refused(&output);
        assert!(error.contains("does not verify") && error.contains(why), "{name}: {error}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("NOT PROVEN"), "{name}");
        let json: Value = serde_json::from_slice(&verify(&site, &path, &["--json"]).stdout).unwrap();
        assert_eq!(json["proven"], Value::Null, "{name}");
        assert!(json["error"].as_str().unwrap().contains(why), "{name}: {json}");
    }
    // An edited bundle is a bundle that does not verify.
    let path = edited(&site, &proof, "bundle.json", |p| {
        p["bundle"]["records"][1]["record"]["entry"]["statement"]["body"]["passport"]["name"] = json!("Gold bar");
    });
    let error = refused(&verify(&site, &path, &[]));
    assert!(error.contains("the proof's bundle of 4750001BEAM-0001 does not verify"), "{error}");
}

#[test]
fn disclose_refuses_clearly_and_writes_nothing() {
    let (site, node) = started();
    register_beam(&site, &node);
    let out = site.path("proof.json");
    let out_text = out.to_str().unwrap();

    // A member who never touched the beam.
    let error = refused(&disclose(&site, &node, OUTSIDER, BEAM, &["--field", "/origin/address", "--out", out_text]));
    assert!(error.contains("auth.not_entitled"), "{error}");
    assert!(
        error.contains(&format!("{OUTSIDER} (the key in {}", site.path(&format!("{OUTSIDER}.pem")).display())),
        "{error}"
    );
    assert!(error.contains(&format!("never registered, held, offered, received or attested {BEAM}")), "{error}");
    assert!(!error.contains(ADDRESS), "{error}");
    assert!(!out.exists(), "no file is written for a refused read");

    // A key that is nobody's.
    let stranger = site.path("stranger.pem");
    ok(&salvage_command().args(["key", "new", "--out"]).arg(&stranger).output().unwrap());
    let error = refused(&disclose(&site, &node, "stranger", BEAM, &["--field", "/origin/address", "--out", out_text]));
    assert!(error.contains("auth.unknown_key") && error.contains("is not an active key of any member"), "{error}");

    // A field the beam does not withhold: the ones it does are named.
    let error = refused(&disclose(&site, &node, CONTRACTOR, BEAM, &["--field", "/name", "--out", out_text]));
    assert!(error.contains(&format!("{BEAM} withholds no value at /name")), "{error}");
    assert!(error.contains("record 1 (item.register): "), "{error}");
    assert!(error.contains("/passport/origin/address") && error.contains("/passport/mass_kg"), "{error}");
    let error = refused(&disclose(&site, &node, CONTRACTOR, BEAM, &["--field", "origin", "--out", out_text]));
    assert!(error.contains("is not a JSON Pointer"), "{error}");

    // An item the node does not know, and a node that is not there.
    let error =
        refused(&disclose(&site, &node, CONTRACTOR, "4750001NONE-1", &["--field", "/mass_kg", "--out", out_text]));
    assert!(error.contains("the node knows no item 4750001NONE-1"), "{error}");
    let output = salvage_command()
        .args(["disclose", BEAM, "--field", "/mass_kg", "--out", out_text, "--node", "http://127.0.0.1:9"])
        .arg("--key")
        .arg(site.path(&format!("{CONTRACTOR}.pem")))
        .output()
        .unwrap();
    assert!(refused(&output).contains("cannot reach the node at http://127.0.0.1:9"));
    assert!(!out.exists());
}

#[test]
fn an_amended_passport_proves_its_latest_value_unless_seq_says_otherwise() {
    let (site, node) = started();
    register_beam(&site, &node);
    let moved = "Pasta iela 1, Jelgava";
    let body = json!({"giai": BEAM, "passport": restricted_passport(BEAM, moved, MASS), "reason": "Address corrected"});
    submit(&site, &node, CONTRACTOR, Kind::ItemAmend, body);
    let out = site.path("proof.json");
    let out_text = out.to_str().unwrap();

    let printed =
        ok(&disclose(&site, &node, CONTRACTOR, BEAM, &["--field", "/passport/origin/address", "--out", out_text]));
    assert!(printed.contains("(record 2) written to"), "{printed}");
    assert!(printed.contains(moved) && printed.contains("record(s) 1 hold this value too"), "{printed}");
    assert!(ok(&verify(&site, &out, &[])).contains(&format!("= \"{moved}\" — recorded at position 2")));

    let printed = ok(&disclose(
        &site,
        &node,
        CONTRACTOR,
        BEAM,
        &[
            "--field",
            "/origin/address",
            "--seq",
            "1",
            "--out",
            out_text,
            "--genesis",
            site.path("genesis.json").to_str().unwrap(),
        ],
    ));
    assert!(printed.contains("(record 1) written to") && printed.contains(ADDRESS), "{printed}");
    assert!(printed.contains("checked against  the genesis"), "{printed}");
    assert!(ok(&verify(&site, &out, &[])).contains(&format!("= \"{ADDRESS}\" — recorded at position 1")));

    let error = refused(&disclose(
        &site,
        &node,
        CONTRACTOR,
        BEAM,
        &["--field", "/origin/address", "--seq", "7", "--out", out_text],
    ));
    assert!(error.contains("record 7 is no record of 4750001BEAM-0001 that withholds values; those that do are at positions 1 (item.register), 2 (item.amend)"), "{error}");
}

#[test]
fn a_part_proves_its_own_mass_from_the_split_that_made_it() {
    let (site, node) = started();
    register_beam(&site, &node);
    let part = |giai: &str, mass: f64| {
        let mut passport = passport(giai, "Steel beam HEA 160, cut", mass);
        passport["restricted"] = json!(["/mass_kg"]);
        json!({"giai": giai, "passport": passport})
    };
    let body = json!({"giai": BEAM, "parts": [part("4750001BEAM-0001A", 120.0), part("4750001BEAM-0001B", 130.5)]});
    submit(&site, &node, CONTRACTOR, Kind::ItemSplit, body);
    let out = site.path("proof.json");

    let output = disclose(
        &site,
        &node,
        CONTRACTOR,
        "4750001BEAM-0001B",
        &["--field", "/mass_kg", "--out", out.to_str().unwrap(), "--json"],
    );
    let printed: Value = serde_json::from_str(&ok(&output)).unwrap();
    assert_eq!(printed["proven"]["pointer"], "/parts/1/passport/mass_kg", "{printed}");
    assert_eq!(printed["proven"]["value"], 130.5);
    assert_eq!(printed["proven"]["seq"], 2);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("\"mass_kg\":"), "the other part's mass stays withheld: {text}");
    let proof: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(proof["disclosure"][2], 130.5);
    assert!(ok(&verify(&site, &out, &[])).contains("Proven: /parts/1/passport/mass_kg = 130.5"));
}
