//! The member commands of the real `salvage` binary against a real node: a
//! contractor registers and hands over a beam, a hub receives it, a certifier
//! attests it, the hub splits it, a builder installs, dismantles and recycles
//! a part; readers show, list and download. A refusal exits with status 1 and
//! the refusal's code on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::Path;
use std::process::{Command, Output};

use salvage_ledger::bundle::{Bundle, verify_bundle};
use salvage_ledger::testkit::passport;
use salvage_tests::node::{Running, Site};
use salvage_tests::salvage_binary;
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const BEAM: &str = "4750001BEAM-0300";

/// `salvage ARGS…` talking to `node`, signing as `member` (if any).
fn salvage(site: &Site, node: &Running, member: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(salvage_binary());
    command.args(args).env("SALVAGE_NODE", format!("http://{}", node.address)).env_remove("SALVAGE_KEY");
    if let Some(member) = member {
        command.env("SALVAGE_KEY", site.path(&format!("{member}.pem")));
    }
    command.output().unwrap()
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn write_json(path: &Path, value: &Value) -> String {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn members_work_an_item_through_its_life_with_the_cli() {
    let site = Site::new(&[OPERATOR, "baltic-demolition", "reuse-hub", "timber-builders", "baltic-cert"]);
    let node = Running::start(site.node(OPERATOR));
    let beam = write_json(&site.path("beam.json"), &passport(BEAM, "HEA 160 steel beam, 6 m", 180.0));

    let printed = ok(salvage(&site, &node, Some("baltic-demolition"), &["register", &beam]));
    assert!(printed.contains("item.register 4750001BEAM-0300: recorded at position 1"), "{printed}");
    let receipt: Value = serde_json::from_str(&ok(salvage(
        &site,
        &node,
        Some("baltic-demolition"),
        &["transfer", BEAM, "--to", "reuse-hub", "--json"],
    )))
    .unwrap();
    assert_eq!(receipt["seq"], 2);

    // A refusal: status 1, the code and the reason on stderr, nothing on stdout.
    let refused = salvage(&site, &node, Some("timber-builders"), &["receive", BEAM]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.starts_with("salvage: custody.not_recipient: "), "{stderr}");
    assert!(refused.stdout.is_empty());

    ok(salvage(&site, &node, Some("reuse-hub"), &["receive", BEAM, "--note", "arrived dry"]));
    let attestation = write_json(
        &site.path("attestation.json"),
        &json!({"type": "inspection", "result": "pass", "grade": "A", "summary": "No section loss."}),
    );
    ok(salvage(&site, &node, Some("baltic-cert"), &["attest", BEAM, &attestation]));
    let part = |giai: &str, mass: f64| {
        write_json(&site.path(&format!("{giai}.json")), &passport(giai, "HEA 160 steel beam, part", mass))
    };
    let (a, b) = (part("4750001BEAM-0300A", 120.0), part("4750001BEAM-0300B", 60.0));
    ok(salvage(&site, &node, Some("reuse-hub"), &["split", BEAM, &a, &b]));
    ok(salvage(&site, &node, Some("reuse-hub"), &["transfer", "4750001BEAM-0300A", "--to", "timber-builders"]));
    ok(salvage(&site, &node, Some("timber-builders"), &["receive", "4750001BEAM-0300A"]));
    ok(salvage(
        &site,
        &node,
        Some("timber-builders"),
        &["install", "4750001BEAM-0300A", "--building", "Jelgava library", "--country", "LV", "--date", "2026-11-20"],
    ));
    ok(salvage(&site, &node, Some("timber-builders"), &["dismantle", "4750001BEAM-0300A", "--reason", "Redesign"]));
    ok(salvage(&site, &node, Some("timber-builders"), &["dispose", "4750001BEAM-0300A", "--route", "recycling"]));
    ok(salvage(&site, &node, Some("reuse-hub"), &["transfer", "4750001BEAM-0300B", "--to", "timber-builders"]));
    ok(salvage(&site, &node, Some("reuse-hub"), &["cancel", "4750001BEAM-0300B", "--reason", "Buyer withdrew"]));

    // Reading needs no key.
    let shown = ok(salvage(&site, &node, None, &["show", BEAM]));
    assert!(shown.contains("status       split") && shown.contains("custodian    reuse-hub"), "{shown}");
    let view: Value =
        serde_json::from_str(&ok(salvage(&site, &node, None, &["show", "4750001BEAM-0300A", "--json"]))).unwrap();
    assert_eq!(view["item"]["status"], "disposed");
    let history: Value =
        serde_json::from_str(&ok(salvage(&site, &node, None, &["history", "4750001BEAM-0300A", "--json"]))).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 6);
    let signers: Vec<&str> =
        history.as_array().unwrap().iter().map(|record| record["signers"][0].as_str().unwrap()).collect();
    assert_eq!(
        signers,
        ["reuse-hub", "reuse-hub", "timber-builders", "timber-builders", "timber-builders", "timber-builders"]
    );
    let lines = ok(salvage(&site, &node, None, &["history", "4750001BEAM-0300A"]));
    let transfer = lines.lines().find(|line| line.contains("item.transfer")).unwrap_or_else(|| panic!("{lines}"));
    assert!(transfer.contains("reuse-hub"), "each line names who signed: {lines}");
    let bundle_path = site.path("bundle.json");
    ok(salvage(&site, &node, None, &["bundle", "4750001BEAM-0300A", "--out", bundle_path.to_str().unwrap()]));
    let bundle: Bundle = serde_json::from_slice(&std::fs::read(&bundle_path).unwrap()).unwrap();
    assert!(verify_bundle(&bundle, &site.fixture.genesis).is_clean());
    let note = ok(salvage(&site, &node, None, &["checkpoint"]));
    assert!(note.contains("\n13\n"), "the checkpoint names the size: {note}");

    // Invalid input is refused before anything is sent.
    let missing = salvage(&site, &node, Some("baltic-demolition"), &["register", "no-such-file.json"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-file.json"));
    let unreachable =
        Command::new(salvage_binary()).args(["show", BEAM, "--node", "http://127.0.0.1:9"]).output().unwrap();
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("cannot reach the node"));
    assert_eq!(node.get_json("/v1/status")["size"], 13);
    node.terminate();
}

#[test]
fn key_new_writes_a_private_pem_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.pem");
    let output = Command::new(salvage_binary()).args(["key", "new", "--out", path.to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let public = String::from_utf8(output.stdout).unwrap();
    assert_eq!(public.trim().len(), 64);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let shown = Command::new(salvage_binary()).args(["key", "show", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(String::from_utf8(shown.stdout).unwrap(), public);
    let again = Command::new(salvage_binary()).args(["key", "new", "--out", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"));
}

#[test]
fn every_item_command_reports_its_refusal_and_changes_nothing() {
    let site = Site::new(&[OPERATOR, "baltic-demolition", "reuse-hub", "timber-builders", "baltic-cert"]);
    let node = Running::start(site.node(OPERATOR));
    let beam = write_json(&site.path("beam.json"), &passport(BEAM, "HEA 160 steel beam, 6 m", 180.0));
    ok(salvage(&site, &node, Some("baltic-demolition"), &["register", &beam]));
    let attestation = write_json(
        &site.path("attestation.json"),
        &json!({"type": "inspection", "result": "pass", "grade": "A", "summary": "No section loss."}),
    );
    let part = |giai: &str, mass: f64| {
        write_json(&site.path(&format!("{giai}.json")), &passport(giai, "HEA 160 steel beam, part", mass))
    };
    let (a, b) = (part("4750001BEAM-0300A", 120.0), part("4750001BEAM-0300B", 60.0));
    let size = node.get_json("/v1/status")["size"].clone();

    // (who signs, the command, the refusal code it must print)
    let cases: &[(Option<&str>, Vec<&str>, &str)] = &[
        (Some("baltic-demolition"), vec!["register", &beam], "item.exists"),
        (Some("reuse-hub"), vec!["transfer", BEAM, "--to", "timber-builders"], "custody.not_custodian"),
        (Some("baltic-demolition"), vec!["transfer", BEAM, "--to", "no-such-member"], "member.unknown"),
        (Some("reuse-hub"), vec!["receive", BEAM], "custody.no_pending_transfer"),
        (
            Some("baltic-demolition"),
            vec!["cancel", BEAM, "--reason", "Changed our mind"],
            "custody.no_pending_transfer",
        ),
        (Some("timber-builders"), vec!["attest", BEAM, &attestation], "role.missing"),
        (Some("reuse-hub"), vec!["split", BEAM, &a, &b], "custody.not_custodian"),
        (
            Some("reuse-hub"),
            vec!["install", BEAM, "--building", "Jelgava library", "--country", "LV", "--date", "2026-11-20"],
            "custody.not_custodian",
        ),
        (Some("baltic-demolition"), vec!["dismantle", BEAM, "--reason", "Redesign"], "item.not_installed"),
        (Some("reuse-hub"), vec!["dispose", BEAM, "--route", "recycling"], "custody.not_custodian"),
        (Some("baltic-demolition"), vec!["transfer", "4750001NO-SUCH", "--to", "reuse-hub"], "item.unknown"),
        (None, vec!["show", "4750001NO-SUCH"], "http.not_found"),
        (None, vec!["history", "4750001NO-SUCH"], "http.not_found"),
        (None, vec!["bundle", "4750001NO-SUCH", "--out", "unused.json"], "http.not_found"),
    ];
    let mut wrong = Vec::new();
    for (member, args, code) in cases {
        let output = salvage(&site, &node, *member, args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        // One entry's refusal in its own words, not the batch's "every entry was refused".
        let own_words = !stderr.contains("every entry was refused");
        if output.status.code() != Some(1)
            || !stderr.starts_with(&format!("salvage: {code}: "))
            || !own_words
            || !output.stdout.is_empty()
        {
            wrong.push(format!(
                "salvage {} → {:?}, stderr {stderr:?}, expected {code}",
                args.join(" "),
                output.status.code()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(node.get_json("/v1/status")["size"], size, "no refusal recorded anything");
    assert!(!site.path("unused.json").exists());
    node.terminate();
}
