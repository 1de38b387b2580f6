//! End-to-end tests of `salvage export epcis`: the real binary reading a
//! ledger directory offline, its output file, and its one-line refusals.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::Fixture;
use serde_json::Value;

const BEAM: &str = "4750001BEAM-0001";
const DOOR: &str = "4750002DOOR-0007";

fn salvage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_salvage"))
        .args(args)
        .env_remove("SALVAGE_RESOLVER")
        .env_remove("SALVAGE_DATA")
        .output()
        .unwrap()
}

/// A ledger directory with a beam handed to the reuse hub and a registered door.
fn ledger_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let outcomes = ledger
        .submit(vec![
            f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4),
            f.transfer("baltic-demolition", BEAM, "reuse-hub"),
            f.receive("reuse-hub", BEAM),
            f.register("riga-deconstruction", DOOR, "Oak door", 40.0),
        ])
        .unwrap();
    assert!(outcomes.iter().all(Result::is_ok));
    dir
}

fn export(data: &Path, out: &Path, items: &[&str]) -> Output {
    let mut args = vec![
        "export",
        "epcis",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--resolver",
        "salvage.example.lv",
    ];
    args.extend(items);
    salvage(&args)
}

fn refused(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with("salvage: ") && !stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn exports_every_item_or_the_items_named() {
    let data = ledger_dir();
    let out = data.path().join("export.jsonld");
    let output = export(data.path(), &out, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), format!("4 event(s) written to {}", out.display()));
    let document: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(document["type"], "EPCISDocument");
    let events = document["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events[0]["epcList"][0], format!("https://salvage.example.lv/8004/{BEAM}"));
    assert_eq!(events[3]["eventID"], "https://salvage.example.lv/v1/records/4");

    let output = export(data.path(), &out, &[DOOR]);
    assert!(output.status.success());
    let document: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let events = document["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["epcList"][0], format!("https://salvage.example.lv/8004/{DOOR}"));
}

#[test]
fn refusals_say_what_is_wrong_in_one_line() {
    let data = ledger_dir();
    let out = data.path().join("export.jsonld");
    assert!(refused(&export(data.path(), &out, &["4750001NOPE"])).contains("no item 4750001NOPE is registered"));
    assert!(refused(&export(data.path(), &out, &["not a giai"])).contains("is not a GIAI"));
    let empty = tempfile::tempdir().unwrap();
    refused(&export(&empty.path().join("missing"), &out, &[]));
    let no_resolver =
        salvage(&["export", "epcis", "--data", data.path().to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(refused(&no_resolver).contains("--resolver"));
    assert!(!out.exists(), "nothing is written when the export fails");

    // A running node holds the directory: the export says so instead of waiting or failing obscurely.
    let (_node, _) = Ledger::open(data.path()).unwrap();
    let stderr = refused(&export(data.path(), &out, &[]));
    assert!(stderr.contains("is locked") && stderr.contains("stop the node"), "{stderr}");
}
