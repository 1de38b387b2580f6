//! The real `salvage` binary on a format-2 ledger (docs/format.md §13): a
//! restricted passport value never reaches the signed record, and the member
//! keeps its disclosures in its own directory before anything is sent; on a
//! format-1 ledger nothing changes.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use salvage_ledger::disclosure::Disclosure;
use salvage_ledger::entry::SignedEntry;
use salvage_ledger::testkit::passport;
use salvage_tests::node::{Running, Site};
use salvage_tests::salvage_command;
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const CONTRACTOR: &str = "baltic-demolition";
const BEAM: &str = "4750001BEAM-0001";
const ADDRESS: &str = "Rūpniecības iela 1, Jelgava";

/// `salvage ARGS… --node URL --key CONTRACTOR.pem`, with no `SALVAGE_*` of the test's own.
fn salvage(site: &Site, node: &Running, args: &[&str]) -> Output {
    salvage_command()
        .args(args)
        .args(["--node", &format!("http://{}", node.address)])
        .arg("--key")
        .arg(site.path(&format!("{CONTRACTOR}.pem")))
        .output()
        .unwrap()
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// A beam's passport that restricts its donor building's address and its mass.
fn restricted_passport(site: &Site, giai: &str) -> String {
    let mut passport = passport(giai, "Steel beam HEA 160", 253.2);
    passport["origin"]["address"] = json!(ADDRESS);
    passport["restricted"] = json!(["/origin/address", "/mass_kg"]);
    let path = site.path(&format!("{giai}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(&passport).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn size(node: &Running) -> u64 {
    node.get_json("/v1/status")["size"].as_u64().unwrap()
}

/// Record `seq` as the node stores it (its exact bytes) and parsed.
fn record(node: &Running, seq: u64) -> (String, Value) {
    let answer = node.get(&format!("/v1/records/{seq}"));
    assert_eq!(answer.status, 200, "{}", answer.text());
    let text = answer.text();
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
}

/// Checks a record that withholds the beam's address and mass against the
/// file its disclosures were kept in, and returns that file's document.
fn check_withheld(site: &Site, node: &Running, seq: u64, dir: &Path, giai: &str) -> Value {
    let (text, record) = record(node, seq);
    assert!(!text.contains("Rūpniecības"), "the address is withheld: {text}");
    assert!(!text.contains("\"mass_kg\":"), "the mass is withheld: {text}");
    let body = &record["entry"]["statement"]["body"];
    let listed: Vec<String> =
        body["_sd"].as_array().unwrap().iter().map(|digest| digest.as_str().unwrap().to_owned()).collect();
    assert_eq!(listed.len(), 2, "{body}");

    let entry_id = SignedEntry::from_value(record["entry"].clone()).unwrap().id().to_hex();
    let file = dir.join(format!("{entry_id}.json"));
    let metadata = std::fs::metadata(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "{}", file.display());
    let kept: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(kept["entry_id"], entry_id.as_str());
    assert_eq!(kept["ledger_id"], site.fixture.ledger_id.to_hex().as_str());
    assert_eq!(kept["kind"], "item.register");
    assert_eq!(kept["giai"], giai);
    let disclosures: Vec<Disclosure> =
        kept["disclosures"].as_array().unwrap().iter().map(|each| Disclosure::from_value(each).unwrap()).collect();
    let value_at = |pointer: &str| {
        disclosures.iter().find(|each| each.place().to_string() == pointer).map(|each| each.value().clone())
    };
    assert_eq!(value_at("/passport/origin/address"), Some(json!(ADDRESS)));
    assert_eq!(value_at("/passport/mass_kg"), Some(json!(253.2)));
    let mut digests: Vec<String> = disclosures.iter().map(|each| each.digest().to_hex()).collect();
    digests.sort();
    assert_eq!(digests, listed, "the kept disclosures are the ones the record's _sd lists");
    kept
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|each| each.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn register_on_a_format_2_ledger_withholds_restricted_values_and_keeps_them_beside_the_key() {
    let site = Site::withholding(&[OPERATOR, CONTRACTOR]);
    let node = Running::start(site.node(OPERATOR));
    let passport = restricted_passport(&site, BEAM);

    let printed = ok(salvage(&site, &node, &["register", &passport]));

    let dir = site.path("disclosures");
    assert!(printed.contains(&format!("item.register {BEAM}: recorded at position 1")), "{printed}");
    assert!(
        printed.contains(&format!("2 restricted value(s) withheld; disclosures kept in {}", dir.display())),
        "{printed}"
    );
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    check_withheld(&site, &node, 1, &dir, BEAM);
    let item = node.get_json(&format!("/v1/items/{BEAM}"));
    assert_eq!(item["item"]["custodian"], CONTRACTOR, "the node accepted the whole passport: {item}");

    // A statement that restricts nothing is signed as on format 1, and keeps nothing.
    let printed = ok(salvage(&site, &node, &["transfer", BEAM, "--to", "reuse-hub"]));
    assert!(!printed.contains("withheld"), "{printed}");
    let (_, transfer) = record(&node, 2);
    assert!(transfer["entry"]["statement"]["body"].get("_sd").is_none(), "{transfer}");
    assert_eq!(json_files(&dir).len(), 1, "one file, for the registration");
    node.terminate();
}

#[test]
fn register_on_a_format_1_ledger_signs_restricted_values_in_the_clear_and_keeps_nothing() {
    let site = Site::new(&[OPERATOR, CONTRACTOR]);
    let node = Running::start(site.node(OPERATOR));
    let passport = restricted_passport(&site, BEAM);

    let printed = ok(salvage(&site, &node, &["register", &passport]));

    assert!(!printed.contains("withheld"), "{printed}");
    let (text, record) = record(&node, 1);
    assert!(text.contains(ADDRESS), "{text}");
    assert!(text.contains("\"mass_kg\":253.2"), "{text}");
    assert!(record["entry"]["statement"]["body"].get("_sd").is_none(), "{text}");
    assert!(!site.path("disclosures").exists(), "no disclosures directory on a format-1 ledger");
    // The public view still leaves the restricted fields out.
    let item = node.get_json(&format!("/v1/items/{BEAM}"));
    assert!(item["passport"]["origin"].get("address").is_none(), "{item}");
    node.terminate();
}

#[test]
fn import_on_a_format_2_ledger_withholds_each_rows_restricted_columns_and_keeps_one_file_per_row() {
    let site = Site::withholding(&[OPERATOR, CONTRACTOR]);
    let node = Running::start(site.node(OPERATOR));
    let dir = site.path("kept");
    let header = "giai,name,category,mass_kg,building,address,country,year_built,restricted\n";
    let row = |n: u32, address: &str| {
        format!(
            "4750001BEAM-{n:04},Beam HEA 160,structural_steel,253.2,Sugar mill,\"{address}\",LV,1974,address; mass_kg\n"
        )
    };
    let import = |file: &str| {
        let path = site.path(file);
        salvage_command()
            .args(["import", path.to_str().unwrap(), "--batch", "2"])
            .env("SALVAGE_NODE", format!("http://{}", node.address))
            .env("SALVAGE_KEY", site.path(&format!("{CONTRACTOR}.pem")))
            .env("SALVAGE_DISCLOSURES", &dir)
            .output()
            .unwrap()
    };

    // A row that restricts an empty column has no value to withhold: it is
    // reported with its row, and nothing is sent or kept.
    let broken = format!("{header}{}{}", row(1, ADDRESS), row(2, ""));
    std::fs::write(site.path("broken.csv"), broken).unwrap();
    let output = import("broken.csv");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("row 3, column restricted:"), "{stderr}");
    assert!(stderr.contains("nothing was submitted"), "{stderr}");
    assert_eq!(size(&node), 1);
    assert!(!dir.exists(), "nothing kept for an import that sent nothing");

    let inventory = format!("{header}{}{}{}", row(1, ADDRESS), row(2, ADDRESS), row(3, ADDRESS));
    std::fs::write(site.path("inventory.csv"), inventory).unwrap();
    let printed = ok(import("inventory.csv"));

    assert!(printed.contains("registered 3 items"), "{printed}");
    assert!(
        printed.contains(&format!("6 restricted value(s) withheld; disclosures kept in {}", dir.display())),
        "{printed}"
    );
    assert_eq!(size(&node), 4);
    let mut kept_giais = Vec::new();
    for seq in 1..=3 {
        let giai = record(&node, seq).1["entry"]["statement"]["body"]["giai"].as_str().unwrap().to_owned();
        check_withheld(&site, &node, seq, &dir, &giai);
        kept_giais.push(giai);
    }
    kept_giais.sort();
    assert_eq!(kept_giais, ["4750001BEAM-0001", "4750001BEAM-0002", "4750001BEAM-0003"]);
    assert_eq!(json_files(&dir).len(), 3, "one file per row");
    node.terminate();
}

#[test]
fn a_disclosures_directory_that_cannot_be_written_stops_the_command_before_anything_is_sent() {
    let site = Site::withholding(&[OPERATOR, CONTRACTOR]);
    let node = Running::start(site.node(OPERATOR));
    let passport = restricted_passport(&site, BEAM);
    // A regular file where the directory's parent should be: no directory can
    // be made there, whoever runs the test (root ignores a read-only mode).
    std::fs::write(site.path("blocker"), b"not a directory").unwrap();
    let unwritable = site.path("blocker").join("disclosures");
    let inventory = format!(
        "giai,name,category,mass_kg,address,restricted\n\
         4750001BEAM-0002,Beam,structural_steel,12,\"{ADDRESS}\",address\n"
    );
    std::fs::write(site.path("inventory.csv"), inventory).unwrap();

    for args in [vec!["register", passport.as_str()], vec!["import", site.path("inventory.csv").to_str().unwrap()]] {
        let mut args = args.clone();
        args.extend(["--disclosures", unwritable.to_str().unwrap()]);
        let output = salvage(&site, &node, &args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("nothing was submitted"), "{stderr}");
        assert!(stderr.contains(&unwritable.display().to_string()), "the failed path is named: {stderr}");
        assert!(stderr.contains("Not a directory"), "and why: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert_eq!(size(&node), 1, "the ledger holds only its genesis after {args:?}");
    }

    // A read-only directory, where the operating system enforces it (not for root).
    let read_only = site.path("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o500)).unwrap();
    if std::fs::write(read_only.join("probe"), b"").is_err() {
        let output = salvage(&site, &node, &["register", &passport, "--disclosures", read_only.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("Permission denied") && stderr.contains("nothing was submitted"), "{stderr}");
        assert_eq!(size(&node), 1);
    }
    node.terminate();
}

#[test]
fn an_audit_counts_the_values_it_cannot_check_and_checks_those_whose_disclosures_it_is_given() {
    let site = Site::withholding(&[OPERATOR, CONTRACTOR]);
    let node = Running::start(site.node(OPERATOR));
    ok(salvage(&site, &node, &["register", &restricted_passport(&site, BEAM)]));
    let audit = |extra: &[&str]| {
        let output = salvage_command()
            .args(["audit", "--node", &format!("http://{}", node.address), "--json", "--genesis"])
            .arg(site.path("genesis.json"))
            .args(extra)
            .output()
            .unwrap();
        serde_json::from_str::<Value>(&ok(output)).unwrap()
    };
    let public = audit(&[]);
    assert_eq!(public["problem_count"], json!(0), "{public}");
    assert_eq!((&public["values_unchecked"], &public["values_checked"]), (&json!(2), &json!(0)), "{public}");
    let kept = site.path("disclosures");
    let member = audit(&["--disclosures", kept.to_str().unwrap()]);
    assert_eq!(member["problem_count"], json!(0), "{member}");
    assert_eq!((&member["values_unchecked"], &member["values_checked"]), (&json!(0), &json!(2)), "{member}");
    // A kept value changed by hand no longer matches the record's digest: the member's audit says so.
    let file = json_files(&kept).remove(0);
    let text = std::fs::read_to_string(&file).unwrap().replace(ADDRESS, "Another street 2, Riga");
    std::fs::write(&file, text).unwrap();
    let output = salvage_command()
        .args(["audit", "--node", &format!("http://{}", node.address), "--genesis"])
        .arg(site.path("genesis.json"))
        .args(["--disclosures", kept.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("disclosure.mismatch"), "{output:?}");
}
