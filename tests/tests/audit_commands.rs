//! `salvage audit` and `salvage verify` as a certification body runs them: an
//! audit of a node that passes, one that extends an earlier checkpoint, one
//! of the data directory (while the node runs and after it stopped), and one
//! that fails after one byte of a stored record was changed (with the frame's
//! CRC recomputed, as a deliberate forger would, so that only the audit's
//! signature and hash checks can catch it). A bundle verifies offline, and
//! fails with one changed byte.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use salvage_ledger::entry::SignedEntry;
use salvage_tests::node::{Running, Site};
use salvage_tests::salvage_binary;
use serde_json::Value;

const OPERATOR: &str = "city-of-jelgava";
const NAME: &str = "clay brick pallet";

/// The segment file of a small ledger's log.
const SEGMENT: &str = "data/log/segment-000001.log";

/// `salvage ARGS…` with no node or genesis taken from the environment.
fn salvage(args: &[&str]) -> Output {
    Command::new(salvage_binary()).args(args).env_remove("SALVAGE_NODE").env_remove("SALVAGE_GENESIS").output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn failed(output: &Output) -> (String, String) {
    assert_eq!(output.status.code(), Some(1), "expected exit status 1: {}", String::from_utf8_lossy(&output.stdout));
    (String::from_utf8(output.stdout.clone()).unwrap(), String::from_utf8(output.stderr.clone()).unwrap())
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Registers `count` bricks starting at `first`, each handed over to and received by the hub.
fn submit_bricks(site: &Site, node: &Running, first: usize, count: usize) {
    let f = &site.fixture;
    let mut entries: Vec<SignedEntry> = Vec::new();
    for n in first..first + count {
        let giai = format!("4750001BRICK-{n:03}");
        entries.push(f.register("baltic-demolition", &giai, NAME, 1100.0));
        entries.push(f.transfer("baltic-demolition", &giai, "reuse-hub"));
        entries.push(f.receive("reuse-hub", &giai));
    }
    let answer = node.submit(&entries);
    assert_eq!(answer.status, 201, "{}", answer.text());
}

/// The (payload start, payload end) of every frame of a segment file.
fn frames(segment: &[u8]) -> Vec<(usize, usize)> {
    assert_eq!(&segment[..8], b"SLVGLOG1");
    let mut frames = Vec::new();
    let mut start = 8;
    while start < segment.len() {
        let len = u32::from_le_bytes(segment[start..start + 4].try_into().unwrap()) as usize;
        frames.push((start + 8, start + 8 + len));
        start += 8 + len;
    }
    frames
}

/// Changes the first `c` of the passport name in record `seq` to `C`, then
/// rewrites that frame's CRC so that the log itself looks sound.
fn forge_name(segment: &Path, seq: usize) {
    let mut bytes = std::fs::read(segment).unwrap();
    let (start, end) = frames(&bytes)[seq];
    let at = start + bytes[start..end].windows(NAME.len()).position(|window| window == NAME.as_bytes()).unwrap();
    bytes[at] ^= 0x20;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&bytes[start - 8..start - 4]);
    crc.update(&bytes[start..end]);
    bytes[start - 4..start].copy_from_slice(&crc.finalize().to_le_bytes());
    std::fs::write(segment, bytes).unwrap();
}

#[test]
fn a_ledger_audits_clean_over_http_and_offline_and_a_changed_byte_fails_the_audit() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let url = format!("http://{}", node.address);
    let genesis = site.path("genesis.json");
    let members = node.get_json("/v1/members").as_array().unwrap().len();
    submit_bricks(&site, &node, 0, 3);

    // A first audit over HTTP: clean, with the right counts, its checkpoint saved.
    let first = site.path("first.checkpoint");
    let output =
        salvage(&["audit", "--node", &url, "--genesis", text(&genesis), "--json", "--save-checkpoint", text(&first)]);
    let summary: Value = serde_json::from_str(&ok(&output)).unwrap();
    assert_eq!(summary["clean"], true, "{summary:#}");
    assert_eq!(summary["records"], 10);
    assert_eq!(summary["items"], 3);
    assert_eq!(summary["members"], members);
    assert_eq!(
        summary["signatures"],
        9 + site.fixture.genesis.signatures().len(),
        "one per entry and the founders' on the genesis"
    );
    assert_eq!(summary["problem_count"], 0);
    assert_eq!(summary["checkpoint"]["size"], 10);
    assert_eq!(summary["checkpoint"]["signed_by"], serde_json::json!([OPERATOR]));
    assert_eq!(summary["source"]["node"], url);
    assert!(std::fs::read_to_string(&first).unwrap().contains("\n10\n"), "the saved note names size 10");

    // More records later: the next audit extends the saved checkpoint.
    submit_bricks(&site, &node, 3, 2);
    let output = salvage(&["audit", "--node", &url, "--genesis", text(&genesis), "--earlier", text(&first)]);
    let printed = ok(&output);
    assert!(printed.contains("records      16"), "{printed}");
    assert!(printed.contains("earlier      size 10") && printed.contains("extended by the ledger"), "{printed}");
    assert!(printed.contains("result       clean"), "{printed}");

    // A saved note whose signature was tampered with is reported, not trusted.
    let note = std::fs::read_to_string(&first).unwrap();
    let signature_line = note.lines().find(|line| line.starts_with('\u{2014}')).expect("the note is signed");
    let (prefix, last) = signature_line.split_at(signature_line.len() - 3);
    let flipped = format!("{prefix}{}{}", if last.starts_with('A') { 'B' } else { 'A' }, &last[1..]);
    let edited = site.path("edited-checkpoint.txt");
    std::fs::write(&edited, note.replace(signature_line, &flipped)).unwrap();
    let (stdout, _) =
        failed(&salvage(&["audit", "--node", &url, "--genesis", text(&genesis), "--earlier", text(&edited)]));
    assert!(
        stdout.contains("checkpoint.earlier_bad_signature") && stdout.contains("checkpoint.earlier_unsigned"),
        "{stdout}"
    );

    // The data directory of the running node: read-only, no lock taken.
    let output = salvage(&[
        "audit",
        "--data",
        text(&site.path("data")),
        "--genesis",
        text(&genesis),
        "--checkpoint",
        text(&first),
        "--json",
    ]);
    let summary: Value = serde_json::from_str(&ok(&output)).unwrap();
    assert_eq!(summary["records"], 16);
    assert_eq!(summary["checkpoint"]["size"], 10);

    // An item's bundle verifies offline; with one byte changed it does not.
    let bundle = site.path("bundle.json");
    ok(&salvage(&["bundle", "4750001BRICK-001", "--out", text(&bundle), "--node", &url]));
    let printed = ok(&salvage(&["verify", text(&bundle), "--genesis", text(&genesis)]));
    assert!(printed.contains("custodian        reuse-hub"), "{printed}");
    assert!(printed.contains("status           available"), "{printed}");
    assert!(printed.contains("records verified 4"), "{printed}");
    assert!(printed.contains(&format!("signed by        {OPERATOR} (1 of ")), "{printed}");
    // A policy asking for two operators' signatures is not met by one node's.
    let (stdout, _) =
        failed(&salvage(&["verify", text(&bundle), "--genesis", text(&genesis), "--require-signers", "2"]));
    assert!(stdout.contains("checkpoint.too_few_signers"), "{stdout}");
    let (stdout, _) =
        failed(&salvage(&["audit", "--node", &url, "--genesis", text(&genesis), "--require-signers", "2"]));
    assert!(stdout.contains("checkpoint.too_few_signers"), "{stdout}");
    let report: Value =
        serde_json::from_str(&ok(&salvage(&["verify", text(&bundle), "--genesis", text(&genesis), "--json"]))).unwrap();
    assert_eq!(report["problems"], serde_json::json!([]));
    let doctored = site.path("doctored.json");
    let original = std::fs::read_to_string(&bundle).unwrap();
    assert_eq!(original.matches(NAME).count(), 1, "the bundle names the brick once");
    std::fs::write(&doctored, original.replacen(NAME, "Clay brick pallet", 1)).unwrap();
    let (stdout, stderr) = failed(&salvage(&["verify", text(&doctored), "--genesis", text(&genesis)]));
    assert!(stdout.contains("NOT VERIFIED") && stdout.contains("proof.inclusion"), "{stdout}");
    assert!(stderr.contains("the bundle of 4750001BRICK-001 does not verify"), "{stderr}");

    let (status, log) = node.terminate();
    assert!(status.success(), "{log}");

    // The stopped node's directory audits clean too.
    let output =
        salvage(&["audit", "--data", text(&site.path("data")), "--genesis", text(&genesis), "--earlier", text(&first)]);
    assert!(ok(&output).contains("result       clean"));

    // One changed byte in record 4's passport, its frame's CRC recomputed.
    let segment = site.path(SEGMENT);
    forge_name(&segment, 4);
    let forged = std::fs::read(&segment).unwrap();
    let html = site.path("report.html");
    let output = salvage(&[
        "audit",
        "--data",
        text(&site.path("data")),
        "--genesis",
        text(&genesis),
        "--checkpoint",
        text(&first),
        "--html",
        text(&html),
        "--save-checkpoint",
        text(&site.path("not-saved")),
    ]);
    let (stdout, stderr) = failed(&output);
    assert!(stdout.contains("record 4       record.refused:signature.invalid: signature 0 by key"), "{stdout}");
    assert!(stdout.contains("record 5       chain.broken_link"), "{stdout}");
    assert!(stdout.contains("checkpoint.root_mismatch"), "{stdout}");
    // The forged registration is void, so the brick's later records are refused too.
    assert!(stdout.contains("record 6       record.refused:"), "{stdout}");
    assert!(stderr.contains("salvage: the audit found 5 problems"), "{stderr}");
    assert!(!site.path("not-saved").exists(), "a failed audit saved its checkpoint");
    assert_eq!(std::fs::read(&segment).unwrap(), forged, "the audit changed the log");
    assert!(!site.path("data/log/quarantine").exists());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("Problems found: 5"), "{page}");
    assert!(page.contains("<td>4</td><td><code>record.refused:signature.invalid</code></td>"), "{page}");
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"), "the report loads nothing from elsewhere");

    // The same in JSON, naming the record.
    let output = salvage(&["audit", "--data", text(&site.path("data")), "--genesis", text(&genesis), "--json"]);
    let (stdout, _) = failed(&output);
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["clean"], false);
    let problems = summary["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["seq"] == 4 && p["code"] == "record.refused:signature.invalid"), "{problems:?}");
}

#[test]
fn a_torn_or_damaged_log_is_reported_not_repaired() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    submit_bricks(&site, &node, 0, 2);
    let (status, log) = node.terminate();
    assert!(status.success(), "{log}");
    let genesis = site.path("genesis.json");
    let segment = site.path(SEGMENT);
    let sound = std::fs::read(&segment).unwrap();

    // Half a frame header at the end, as a crash in the middle of a write leaves it.
    let mut torn = sound.clone();
    torn.extend_from_slice(&[9, 0, 0]);
    std::fs::write(&segment, &torn).unwrap();
    let (stdout, _) = failed(&salvage(&["audit", "--data", text(&site.path("data")), "--genesis", text(&genesis)]));
    assert!(
        stdout.contains("record 7       record.unreadable: log segment segment-000001.log ends in a torn write"),
        "{stdout}"
    );
    assert!(stdout.contains("records      7"), "{stdout}");
    assert_eq!(std::fs::read(&segment).unwrap(), torn, "the audit cut the torn tail");

    // A flipped byte without a fixed CRC: the frame itself is damaged.
    let mut damaged = sound;
    let (start, _) = frames(&damaged)[2];
    damaged[start + 3] ^= 1;
    std::fs::write(&segment, &damaged).unwrap();
    let (stdout, _) = failed(&salvage(&["audit", "--data", text(&site.path("data")), "--genesis", text(&genesis)]));
    assert!(
        stdout.contains("record 2       record.unreadable: log segment segment-000001.log is damaged at byte offset"),
        "{stdout}"
    );

    // No such directory: a plain error, not an audit.
    let missing: PathBuf = site.path("nowhere");
    let (_, stderr) = failed(&salvage(&["audit", "--data", text(&missing), "--genesis", text(&genesis)]));
    assert!(stderr.contains("nowhere"), "{stderr}");
}
