//! Audit conclusions (docs/format.md §18): a certifier's conclusion is accepted only over this
//! ledger's own root at the size it names, whether the index holds that size yet or not, and
//! opening, the audit and a proof bundle check the same root.

use serde_json::json;

use super::*;
use crate::audit::{AuditOptions, audit};
use crate::bundle::{Bundle, verify_bundle};
use crate::checkpoint::{NoteSigner, SignedCheckpoint};
use crate::entry::Kind;
use crate::ident::Giai;
use crate::refusal::{Refusal, RefusalCode};
use crate::testkit::Fixture;

const BEAM: &str = "4750001BEAM-0001";
const DOOR: &str = "4750001DOOR-0001";

fn accepted(outcomes: Vec<Result<Receipt, Refusal>>) -> Vec<Receipt> {
    outcomes.into_iter().map(|outcome| outcome.unwrap_or_else(|refusal| panic!("refused: {refusal}"))).collect()
}

fn refused(ledger: &Ledger, entry: SignedEntry) -> Refusal {
    ledger.submit(vec![entry]).unwrap().remove(0).unwrap_err()
}

/// A ledger with a beam and a door, many records of filler items after them (so that the
/// index holds Merkle nodes of several levels), and the beam handed on.
fn ledger_with_items(dir: &std::path::Path, filler: usize) -> (Fixture, Ledger) {
    let f = Fixture::new();
    let ledger = Ledger::create(dir, f.genesis.clone()).unwrap();
    let mut entries = vec![
        f.register("baltic-demolition", BEAM, "Steel beam", 420.0),
        f.register("baltic-demolition", DOOR, "Door", 35.0),
    ];
    entries.extend(
        (0..filler).map(|n| f.register("baltic-demolition", &format!("4750001FILL-{n:05}"), "Brick pallet", 900.0)),
    );
    entries.push(f.transfer("baltic-demolition", BEAM, "reuse-hub"));
    entries.push(f.receive("reuse-hub", BEAM));
    accepted(ledger.submit(entries).unwrap());
    (f, ledger)
}

#[test]
fn a_conclusion_over_the_ledgers_own_root_is_accepted_and_joins_each_items_history() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger_with_items(dir.path(), 600);
    let size = ledger.size();
    let root = ledger.root_at(size).unwrap();
    let state_before = ledger.state_digest().unwrap();
    let receipt =
        accepted(ledger.submit(vec![f.conclusion("baltic-cert", size, &root, &[BEAM, DOOR], b"report")]).unwrap())
            .remove(0);
    assert_eq!(receipt.seq.get(), size);
    for giai in [BEAM, DOOR] {
        let giai = Giai::parse(giai).unwrap();
        let history: Vec<u64> = ledger.history(&giai).unwrap().iter().map(|r| r.seq.get()).collect();
        assert_eq!(history.last(), Some(&size), "{giai}: {history:?}");
        assert_eq!(ledger.item(&giai).unwrap().unwrap().updated.get(), size);
    }
    assert_ne!(ledger.state_digest().unwrap(), state_before, "the items' `updated` is in the digest");
    // Opening replays the records and checks the root again.
    drop(ledger);
    std::fs::remove_file(dir.path().join(super::index::INDEX_FILE)).unwrap();
    let (ledger, _) = Ledger::open(dir.path()).unwrap();
    assert_eq!(ledger.size(), size + 1);
}

#[test]
fn a_conclusion_over_a_root_that_is_not_the_ledgers_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger_with_items(dir.path(), 20);
    let size = ledger.size();
    let before = (ledger.size(), ledger.state_digest().unwrap());
    // The root of another size, and a root of nothing at all.
    for root in [ledger.root_at(size - 1).unwrap(), [7u8; 32]] {
        let refusal = refused(&ledger, f.conclusion("baltic-cert", size, &root, &[BEAM], b"report"));
        assert_eq!(refusal.code, RefusalCode::AuditCheckpointMismatch, "{refusal}");
        assert!(refusal.message.contains(&format!("first {size} records have root")), "{}", refusal.message);
    }
    assert_eq!((ledger.size(), ledger.state_digest().unwrap()), before);
}

#[test]
fn every_size_the_ledger_has_passed_checks_against_the_index_and_the_recent_records_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger_with_items(dir.path(), 700);
    // Sizes below, across and at the edge of stored Merkle nodes (level 8 and up), some of
    // them checked right after the records were appended, before the index caught up.
    for size in [3, 256, 257, 511, 512, 513, 700] {
        let root = ledger.root_at(size).unwrap();
        accepted(ledger.submit(vec![f.conclusion("baltic-cert", size, &root, &[BEAM], b"report")]).unwrap());
        let refusal = refused(&ledger, f.conclusion("baltic-cert", size, &[size as u8; 32], &[DOOR], b"report"));
        assert_eq!(refusal.code, RefusalCode::AuditCheckpointMismatch);
        // A few records more, so that the next size is checked against unindexed records.
        let more: Vec<SignedEntry> = (0..3)
            .map(|n| f.register("baltic-demolition", &format!("4750001MORE-{size:04}{n}"), "Tile", 2.0))
            .collect();
        accepted(ledger.submit(more).unwrap());
        let size = ledger.size();
        let root = ledger.root_at(size).unwrap();
        accepted(ledger.submit(vec![f.conclusion("baltic-cert", size, &root, &[DOOR], b"report")]).unwrap());
    }
}

#[test]
fn a_conclusion_is_refused_for_its_checkpoint_its_items_its_signer_or_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger_with_items(dir.path(), 2);
    let size = ledger.size();
    let root = ledger.root_at(size).unwrap();
    let code = |entry| refused(&ledger, entry).code;

    // A checkpoint beyond the records before it.
    assert_eq!(code(f.conclusion("baltic-cert", size + 1, &root, &[BEAM], b"r")), RefusalCode::AuditCheckpointAhead);
    // No such item; an item registered after the checkpoint.
    assert_eq!(
        code(f.conclusion("baltic-cert", size, &root, &["4750001NONE-01"], b"r")),
        RefusalCode::AuditUnknownItem
    );
    let early = ledger.root_at(2).unwrap();
    let late = refused(&ledger, f.conclusion("baltic-cert", 2, &early, &[DOOR], b"r"));
    assert_eq!(late.code, RefusalCode::AuditUnknownItem);
    assert!(late.message.contains("after the checkpoint of 2 records"), "{}", late.message);
    // Only a certifier concludes.
    assert_eq!(code(f.conclusion("reuse-hub", size, &root, &[BEAM], b"r")), RefusalCode::RoleMissing);
    // An item twice, a flag on an item not named, a verdict that does not fit the counts.
    let body = |items: Vec<&str>, flagged: Vec<&str>, verdict: &str, errors: u64, warnings: u64| {
        f.signed(
            &["baltic-cert"],
            Kind::AuditConclusion,
            json!({"scope": [], "checkpoint": {"size": size, "root": crate::hex::to_lower_hex(root)},
                   "report": crate::hex::to_lower_hex([1u8; 32]), "verdict": verdict,
                   "findings": {"errors": errors, "warnings": warnings}, "items": items, "flagged": flagged}),
        )
    };
    for entry in [
        body(vec![BEAM, BEAM], vec![], "pass", 0, 0),
        body(vec![BEAM], vec![DOOR], "pass", 0, 1),
        body(vec![BEAM], vec![BEAM], "pass", 1, 0),
        body(vec![BEAM], vec![], "pass", 0, 2),
        body(vec![BEAM], vec![BEAM], "fail", 0, 1),
    ] {
        assert_eq!(code(entry), RefusalCode::AuditInconsistent);
    }
    // A report with findings, consistent: accepted.
    accepted(ledger.submit(vec![body(vec![BEAM, DOOR], vec![BEAM], "fail", 1, 0)]).unwrap());
}

#[test]
fn the_audit_and_a_proof_bundle_check_a_conclusions_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger_with_items(dir.path(), 1100);
    let size = ledger.size();
    let root = ledger.root_at(size).unwrap();
    accepted(ledger.submit(vec![f.conclusion("baltic-cert", size, &root, &[BEAM, DOOR], b"report")]).unwrap());
    accepted(ledger.submit(vec![f.register("baltic-demolition", "4750001LATE-01", "Tile", 2.0)]).unwrap());

    let records = (0..ledger.size()).map(|seq| ledger.record_bytes(seq));
    let report = audit(&f.genesis, records, &AuditOptions::default(), &mut |_| {});
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    let key = Fixture::key("regional-planning");
    let checkpoint =
        SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
            .unwrap();
    let bundle = ledger.bundle(&Giai::parse(BEAM).unwrap(), &checkpoint).unwrap();
    let verified = verify_bundle(&bundle, &f.genesis);
    assert!(verified.is_clean(), "{:?}", verified.problems);
    assert_eq!(verified.conclusions.len(), 1);
    let conclusion = &verified.conclusions[0];
    assert_eq!((conclusion.seq, conclusion.checkpoint_size), (size, size));
    assert_eq!(conclusion.certifier, "baltic-cert");
    assert_eq!(conclusion.report, blake3::hash(b"report").to_hex().as_str());
    assert!(!conclusion.flagged);

    // The same bundle with the conclusion's consistency proof altered no longer verifies.
    let mut tampered: Bundle = bundle.clone();
    let proven = tampered.records.iter_mut().find(|r| r.record.seq.get() == size).unwrap();
    let proof = proven.consistency.as_mut().unwrap();
    proof[0].0[0] ^= 1;
    let codes: Vec<String> = verify_bundle(&tampered, &f.genesis).problems.into_iter().map(|p| p.code).collect();
    assert_eq!(codes, vec!["proof.consistency"]);
}

#[test]
fn the_audit_reports_a_conclusion_over_another_root_as_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger_with_items(dir.path(), 1030);
    let size = ledger.size();
    let mut records: Vec<Vec<u8>> = (0..size).map(|seq| ledger.record_bytes(seq).unwrap()).collect();
    // A record no node would have accepted, linked into the chain as a forger would: the
    // conclusion names the root of one record fewer.
    let last = ledger.record(size - 1).unwrap();
    let wrong = ledger.root_at(size - 1).unwrap();
    let forged = crate::chain::Record {
        seq: crate::chain::Seq::new(size).unwrap(),
        prev: last.leaf_hash(),
        accepted: last.accepted.clone(),
        entry: f.conclusion("baltic-cert", size, &wrong, &[BEAM], b"report"),
    };
    records.push(forged.canonical_bytes());
    let report = audit(&f.genesis, records.into_iter().map(Ok::<_, String>), &AuditOptions::default(), &mut |_| {});
    let codes: Vec<&str> = report.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, vec!["record.refused:audit.checkpoint_mismatch"], "{:?}", report.problems);
    assert_eq!(report.problems[0].seq, Some(size));
}

#[test]
fn a_reserved_giai_has_no_chain_to_conclude_and_a_strangers_conclusion_is_refused_for_its_signer() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::allocating();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let reserve =
        f.signed(&["baltic-demolition"], Kind::GiaiReserve, json!({"prefix": "4750001", "first": 1, "count": 3}));
    accepted(ledger.submit(vec![reserve, f.register("baltic-demolition", "47500011", "Steel beam", 90.0)]).unwrap());
    let size = ledger.size();
    let root = ledger.root_at(size).unwrap();
    let reserved = refused(&ledger, f.conclusion("baltic-cert", size, &root, &["47500012"], b"r"));
    assert_eq!(reserved.code, RefusalCode::AuditUnknownItem);
    assert!(reserved.message.contains("reserved, not registered"), "{}", reserved.message);
    // A key no member holds: refused for its signer, before any of its items is looked at.
    let stranger = crate::entry::SignedEntry::sign(
        f.statement(
            Kind::AuditConclusion,
            f.conclusion("baltic-cert", size, &root, &["47500011"], b"r").statement().body.clone(),
        ),
        &[&Fixture::key("a stranger")],
    )
    .unwrap();
    assert_eq!(refused(&ledger, stranger).code, RefusalCode::SignatureUnknownKey);
    accepted(ledger.submit(vec![f.conclusion("baltic-cert", size, &root, &["47500011"], b"r")]).unwrap());
}

#[test]
fn a_parts_bundle_proves_the_conclusions_about_its_parent_but_does_not_claim_them() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger_with_items(dir.path(), 0);
    let parts = json!({"giai": BEAM, "parts": [
        {"giai": "4750001BEAM-0001A", "passport": crate::testkit::passport("4750001BEAM-0001A", "Beam, 4 m", 200.0)},
        {"giai": "4750001BEAM-0001B", "passport": crate::testkit::passport("4750001BEAM-0001B", "Beam, 3 m", 150.0)}]});
    let size = ledger.size();
    let root = ledger.root_at(size).unwrap();
    accepted(
        ledger
            .submit(vec![
                f.conclusion("baltic-cert", size, &root, &[BEAM], b"report"),
                f.signed(&["reuse-hub"], Kind::ItemSplit, parts),
            ])
            .unwrap(),
    );
    let key = Fixture::key("regional-planning");
    let checkpoint =
        SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
            .unwrap();
    let part = ledger.bundle(&Giai::parse("4750001BEAM-0001A").unwrap(), &checkpoint).unwrap();
    assert!(part.records.iter().any(|r| r.consistency.is_some()), "the parent's conclusion is in the part's bundle");
    let verified = verify_bundle(&part, &f.genesis);
    assert!(verified.is_clean(), "{:?}", verified.problems);
    assert!(verified.conclusions.is_empty(), "the audit judged the parent, not the part");
    let parent = verify_bundle(&ledger.bundle(&Giai::parse(BEAM).unwrap(), &checkpoint).unwrap(), &f.genesis);
    assert_eq!(parent.conclusions.len(), 1);
}
