//! A format-2 ledger end to end: digests in the records, disclosures in the
//! private store, replay and reads with them, public judgement without them.

use std::path::Path;

use serde_json::json;

use super::super::{Ledger, Receipt};
use super::PRIVATE_DIR;
use crate::chain::Record;
use crate::custody::LedgerFormat;
use crate::disclosure::Disclosure;
use crate::entry::{Kind, SignedEntry};
use crate::refusal::{Refusal, RefusalCode};
use crate::testkit::{Fixture, passport};

const ADDRESS: &str = "Rūpniecības iela 12, Jelgava";

/// A registration whose passport restricts the donor building's address and the name.
fn restricted_register(f: &Fixture, giai: &str) -> (SignedEntry, Vec<Disclosure>) {
    let mut passport = passport(giai, "Secret beam", 120.0);
    passport["origin"]["address"] = json!(ADDRESS);
    passport["restricted"] = json!(["/origin/address", "/name"]);
    f.withheld(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": giai, "passport": passport}))
}

fn accepted(outcomes: Vec<Result<Receipt, Refusal>>) -> Vec<Receipt> {
    outcomes.into_iter().map(|o| o.unwrap_or_else(|r| panic!("refused: {r}"))).collect()
}

fn refused(outcomes: Vec<Result<Receipt, Refusal>>) -> RefusalCode {
    match outcomes.into_iter().next() {
        Some(Err(refusal)) => refusal.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Every byte under `dir` except the private store's, as one lossy string.
fn public_bytes(dir: &Path) -> String {
    let mut all = String::new();
    for entry in walk(dir) {
        if !entry.starts_with(dir.join(PRIVATE_DIR)) {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&entry).unwrap_or_default()));
        }
    }
    all
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

#[test]
fn restricted_values_are_recorded_as_digests_and_their_disclosures_kept_privately_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::withholding();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    assert_eq!(ledger.format(), LedgerFormat::V2);
    let (entry, disclosures) = restricted_register(&f, "4750001SECRET-1");
    assert_eq!(disclosures.len(), 2);
    let receipt = accepted(ledger.submit_disclosed(vec![(entry.clone(), disclosures.clone())]).unwrap()).remove(0);

    let record = ledger.record(receipt.seq.get()).unwrap();
    let bytes = String::from_utf8(record.canonical_bytes()).unwrap();
    assert!(bytes.contains("\"_sd\""), "{bytes}");
    assert!(!bytes.contains("Rūpniecības") && !bytes.contains("Secret beam"), "{bytes}");
    let held = ledger.disclosures(receipt.seq.get()).unwrap().expect("the disclosures are held");
    assert_eq!(held, disclosures);
    // The whole body was judged: the item has its (restricted) name in the state.
    let item = ledger.item(&crate::ident::Giai::parse("4750001SECRET-1").unwrap()).unwrap().unwrap();
    assert_eq!(item.name, "Secret beam");
    drop(ledger);

    assert!(!public_bytes(dir.path()).contains("Rūpniecības"), "a restricted value reached a public file");
    let (ledger, report) = Ledger::open(dir.path()).unwrap();
    assert_eq!(report.disclosures_missing, 0);
    assert_eq!(ledger.disclosures(receipt.seq.get()).unwrap(), Some(disclosures.clone()));
    assert_eq!(ledger.disclosures(0).unwrap(), None);
    // Submitting it again is idempotent and keeps one set of disclosures.
    let again = accepted(ledger.submit_disclosed(vec![(entry, disclosures)]).unwrap()).remove(0);
    assert_eq!(again.seq, receipt.seq);
}

#[test]
fn disclosures_that_do_not_fit_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::withholding();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let (entry, disclosures) = restricted_register(&f, "4750001SECRET-2");
    let (other, other_disclosures) = restricted_register(&f, "4750001SECRET-3");

    let missing = ledger.submit_disclosed(vec![(entry.clone(), disclosures[..1].to_vec())]).unwrap();
    assert_eq!(refused(missing), RefusalCode::DisclosureMissing);
    assert_eq!(refused(ledger.submit(vec![entry.clone()]).unwrap()), RefusalCode::DisclosureMissing);
    let mut extra = disclosures.clone();
    extra.push(other_disclosures[0].clone());
    // The other entry's disclosure is for a place this body restricts too, but its digest is not listed.
    assert!(matches!(
        refused(ledger.submit_disclosed(vec![(entry.clone(), extra)]).unwrap()),
        RefusalCode::DisclosureUnexpected | RefusalCode::DisclosureMismatch
    ));
    let swapped = vec![other_disclosures[0].clone(), disclosures[1].clone()];
    assert!(matches!(
        refused(ledger.submit_disclosed(vec![(entry.clone(), swapped)]).unwrap()),
        RefusalCode::DisclosureMismatch | RefusalCode::DisclosureUnexpected
    ));
    // A restricted value signed in the clear on a format-2 ledger.
    let mut clear = passport("4750001CLEAR-1", "Beam", 10.0);
    clear["restricted"] = json!(["/name"]);
    let in_clear =
        f.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": "4750001CLEAR-1", "passport": clear}));
    assert_eq!(refused(ledger.submit(vec![in_clear]).unwrap()), RefusalCode::DisclosureInClear);
    assert_eq!(ledger.size(), 1, "nothing was recorded");
    assert_eq!(ledger.item(&crate::ident::Giai::parse("4750001SECRET-2").unwrap()).ok().flatten().map(|_| ()), None);
    drop(other);

    // A format-1 ledger takes no disclosures.
    let plain = tempfile::tempdir().unwrap();
    let f1 = Fixture::new();
    let ledger1 = Ledger::create(plain.path(), f1.genesis.clone()).unwrap();
    let (entry1, disclosures1) = restricted_register(&f1, "4750001SECRET-4");
    assert_eq!(
        refused(ledger1.submit_disclosed(vec![(entry1, disclosures1)]).unwrap()),
        RefusalCode::DisclosureUnexpected
    );
}

#[test]
fn a_record_whose_disclosures_are_lost_is_judged_publicly_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::withholding();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let (entry, disclosures) = restricted_register(&f, "4750001SECRET-5");
    accepted(ledger.submit_disclosed(vec![(entry, disclosures)]).unwrap());
    drop(ledger);
    std::fs::remove_dir_all(dir.path().join(PRIVATE_DIR)).unwrap();
    let (ledger, report) = Ledger::open(dir.path()).unwrap();
    assert_eq!(report.disclosures_missing, 1);
    assert_eq!(ledger.disclosures(1).unwrap(), None);
    // The public judgement still knows the item, without its withheld name.
    let item = ledger.item(&crate::ident::Giai::parse("4750001SECRET-5").unwrap()).unwrap().unwrap();
    assert_eq!(item.name, "");
}

#[test]
fn a_stale_private_frame_of_a_record_lost_in_a_crash_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::withholding();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let (entry, disclosures) = restricted_register(&f, "4750001SECRET-6");
    accepted(ledger.submit_disclosed(vec![(entry, disclosures)]).unwrap());
    drop(ledger);
    // The record log loses record 1 (as a torn tail would), its frame stays.
    let log = dir.path().join("log").join("segment-000001.log");
    let bytes = std::fs::read(&log).unwrap();
    let first = 8 + 8 + u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    std::fs::write(&log, &bytes[..first]).unwrap();
    std::fs::remove_file(dir.path().join("log").join(crate::store::frame_log::MARK_FILE)).ok();

    let (ledger, _) = Ledger::open(dir.path()).unwrap();
    assert_eq!(ledger.size(), 1);
    // Another record takes seq 1; the stale frame is not its disclosures.
    let (entry, disclosures) = restricted_register(&f, "4750001SECRET-7");
    let receipt = accepted(ledger.submit_disclosed(vec![(entry, disclosures.clone())]).unwrap()).remove(0);
    assert_eq!(receipt.seq.get(), 1);
    drop(ledger);
    let (ledger, report) = Ledger::open(dir.path()).unwrap();
    assert_eq!(report.disclosures_missing, 0);
    assert_eq!(ledger.disclosures(1).unwrap(), Some(disclosures));
}

#[test]
fn records_from_another_node_bring_their_disclosures_and_an_audit_checks_them_publicly() {
    let source = tempfile::tempdir().unwrap();
    let f = Fixture::withholding();
    let ledger = Ledger::create(source.path(), f.genesis.clone()).unwrap();
    let (entry, disclosures) = restricted_register(&f, "4750001SECRET-8");
    accepted(ledger.submit_disclosed(vec![(entry, disclosures.clone())]).unwrap());
    // A split whose parts' masses are withheld: only the disclosures can weigh them.
    let part = |giai: &str, mass: f64| {
        let mut passport = passport(giai, "Half beam", mass);
        passport["restricted"] = json!(["/mass_kg"]);
        json!({"giai": giai, "passport": passport})
    };
    let split_body =
        json!({"giai": "4750001SECRET-8", "parts": [part("4750001HALF-1", 60.0), part("4750001HALF-2", 60.0)]});
    let (split, split_disclosures) = f.withheld(&["baltic-demolition"], Kind::ItemSplit, split_body);
    accepted(ledger.submit_disclosed(vec![(split, split_disclosures.clone())]).unwrap());
    let records: Vec<Record> = ledger.records(1, 10).unwrap();
    let with_disclosures: Vec<(Record, Vec<Disclosure>)> =
        records.iter().map(|r| (r.clone(), ledger.disclosures(r.seq.get()).unwrap().unwrap_or_default())).collect();
    let canonical: Vec<Vec<u8>> = (0..ledger.size()).map(|seq| ledger.record_bytes(seq).unwrap()).collect();

    let replica = tempfile::tempdir().unwrap();
    let copy = Ledger::create(replica.path(), f.genesis.clone()).unwrap();
    copy.append_records(with_disclosures).unwrap();
    assert_eq!(copy.disclosures(2).unwrap(), Some(split_disclosures.clone()));

    // The public audit verifies everything and counts what it could not check.
    let report = crate::audit::audit(
        &f.genesis,
        canonical.into_iter().map(Ok::<_, std::io::Error>),
        &Default::default(),
        &mut |_| {},
    );
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!((report.records_withholding, report.values_unchecked, report.values_checked), (2, 4, 0));
    // Nodes that judged with the disclosures (a withheld name, withheld masses) and the
    // public audit agree on the state digest (docs/format.md §14).
    assert_eq!(report.state, crate::hex::to_lower_hex(ledger.state_digest().unwrap()));
    assert_eq!(copy.state_digest().unwrap(), ledger.state_digest().unwrap());

    // A member's audit with its own disclosures checks those values; changed ones are found out.
    let split_id = ledger.record(2).unwrap().entry.id();
    let mut options = crate::audit::AuditOptions::default();
    options.disclosures.insert(split_id, split_disclosures.clone());
    let all = || (0..ledger.size()).map(|seq| Ok::<_, std::io::Error>(ledger.record_bytes(seq).unwrap()));
    let member = crate::audit::audit(&f.genesis, all(), &options, &mut |_| {});
    assert!(member.is_clean(), "{:?}", member.problems);
    assert_eq!((member.records_withholding, member.values_unchecked, member.values_checked), (1, 2, 2));
    let mut changed = split_disclosures[0].to_value();
    changed[2] = json!(1.0);
    options.disclosures.insert(split_id, vec![Disclosure::from_value(&changed).unwrap(), split_disclosures[1].clone()]);
    let tampered = crate::audit::audit(&f.genesis, all(), &options, &mut |_| {});
    assert_eq!(tampered.problems[0].code, "record.refused:disclosure.mismatch", "{:?}", tampered.problems);
}

#[test]
fn a_replicated_batch_carries_envelopes_and_every_node_keeps_their_disclosures() {
    use std::sync::Arc;

    use serde_json::value::RawValue;

    use crate::disclosure::DisclosedEntry;
    use crate::entry::Timestamp;

    let f = Fixture::withholding();
    let (entry, disclosures) = restricted_register(&f, "4750001SECRET-9");
    let plain = f.register("baltic-demolition", "4750001PLAIN-1", "Door", 30.0);
    let envelope = DisclosedEntry { entry, disclosures: disclosures.clone() }.canonical_bytes();
    let batch: Arc<[Box<RawValue>]> = [envelope, plain.canonical_bytes()]
        .into_iter()
        .map(|bytes| RawValue::from_string(String::from_utf8(bytes).unwrap()).unwrap())
        .collect();
    let accepted_at = Timestamp::parse("2026-11-23T10:00:00Z").unwrap();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for dir in &dirs {
        let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
        let (pending, next) = ledger.apply_canonical(Arc::clone(&batch), accepted_at.clone(), 1).unwrap();
        accepted(ledger.settle(pending).unwrap());
        assert_eq!(next, 3);
        assert_eq!(ledger.disclosures(1).unwrap(), Some(disclosures.clone()));
        assert_eq!(ledger.disclosures(2).unwrap(), None);
    }
    let roots: Vec<_> = dirs.iter().map(|dir| Ledger::open(dir.path()).unwrap().0.root_at(3).unwrap()).collect();
    assert_eq!(roots[0], roots[1]);
}

#[test]
fn a_refusal_of_a_restricted_value_does_not_repeat_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::withholding();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let mut body = passport("4750001BAD-1", "Beam", 10.0);
    body["mass_kg"] = json!(-731.482915);
    body["dismantling"] = json!({"method": "SLVGsecretMethod"});
    body["restricted"] = json!(["/mass_kg", "/dismantling/method"]);
    let (entry, disclosures) =
        f.withheld(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": "4750001BAD-1", "passport": body}));
    let refusal = ledger.submit_disclosed(vec![(entry, disclosures)]).unwrap().remove(0).unwrap_err();
    assert_eq!(refusal.code, RefusalCode::SchemaInvalid);
    let said = serde_json::to_string(&refusal).unwrap();
    assert!(!said.contains("731.482915") && !said.contains("SLVGsecretMethod"), "{said}");
    assert!(refusal.details.iter().any(|d| d.pointer == "/statement/body/passport/mass_kg"), "{said}");
}
