use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use serde_json::value::RawValue;

use super::log::{LogOptions, RecordLog};
use super::*;
use crate::chain::Seq;
use crate::custody::{LedgerFormat, MemberId, NodeSetChange};
use crate::entry::{Kind, SignedEntry, Timestamp};
use crate::ident::Giai;
use crate::refusal::{Refusal, RefusalCode};
use crate::testkit::Fixture;

fn giai(n: usize) -> String {
    format!("4750001BEAM-{n:04}")
}

fn giai_of(n: usize) -> Giai {
    Giai::parse(&giai(n)).unwrap()
}

fn ledger(dir: &Path) -> (Fixture, Ledger) {
    let fixture = Fixture::new();
    let ledger = Ledger::create(dir, fixture.genesis.clone()).unwrap();
    (fixture, ledger)
}

/// Records without disclosures, as a format-1 ledger's come.
fn plain(records: Vec<crate::chain::Record>) -> Vec<(crate::chain::Record, Vec<crate::disclosure::Disclosure>)> {
    records.into_iter().map(|record| (record, Vec::new())).collect()
}

fn accepted(outcomes: Vec<Result<Receipt, Refusal>>) -> Vec<Receipt> {
    outcomes.into_iter().map(|o| o.unwrap_or_else(|r| panic!("refused: {r}"))).collect()
}

#[test]
fn submitted_records_survive_reopen_with_items_history_and_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    assert_eq!(ledger.size(), 1);
    let receipts = accepted(
        ledger
            .submit(vec![
                f.register("baltic-demolition", &giai(1), "HEA 160 beam", 180.0),
                f.transfer("baltic-demolition", &giai(1), "reuse-hub"),
                f.receive("reuse-hub", &giai(1)),
            ])
            .unwrap(),
    );
    assert_eq!(receipts.iter().map(|r| r.seq.get()).collect::<Vec<_>>(), vec![1, 2, 3]);
    let root = ledger.root_at(4).unwrap();
    drop(ledger);

    let (ledger, report) = Ledger::open(dir.path()).unwrap();
    assert_eq!(report.size, 4);
    assert!(report.tail_cut.is_none());
    assert_eq!(ledger.size(), 4);
    assert_eq!(ledger.root_at(4).unwrap(), root);
    let item = ledger.item(&giai_of(1)).unwrap().unwrap();
    assert_eq!(item.custodian.as_str(), "reuse-hub");
    let history = ledger.history(&giai_of(1)).unwrap();
    assert_eq!(history.iter().map(|r| r.seq.get()).collect::<Vec<_>>(), vec![1, 2, 3]);
    for receipt in &receipts {
        assert_eq!(ledger.receipt(&receipt.entry_id).unwrap().as_ref(), Some(receipt));
        let record = ledger.record(receipt.seq.get()).unwrap();
        assert_eq!(record.leaf_hash(), receipt.leaf_hash);
        assert_eq!(ledger.record_bytes(receipt.seq.get()).unwrap(), record.canonical_bytes());
    }
    assert_eq!(ledger.members().unwrap().len(), crate::testkit::MEMBERS.len());
    assert!(matches!(ledger.record(4), Err(LedgerError::NoRecord(4))));
}

#[test]
fn resubmission_is_idempotent_and_refusals_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    let register = f.register("baltic-demolition", &giai(1), "beam", 100.0);
    let first = accepted(ledger.submit(vec![register.clone()]).unwrap());
    let outcomes =
        ledger.submit(vec![register.clone(), f.register("reuse-hub", &giai(2), "beam", 100.0), register]).unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap(), &first[0]);
    assert_eq!(outcomes[1].as_ref().unwrap_err().code, RefusalCode::RoleMissing);
    assert_eq!(outcomes[2].as_ref().unwrap(), &first[0]);
    assert_eq!(ledger.size(), 2);
    let digest = ledger.state_digest().unwrap();
    let bad = f.signed(&["baltic-demolition"], Kind::ItemTransfer, json!({"giai": giai(1)}));
    assert_eq!(ledger.submit(vec![bad]).unwrap()[0].as_ref().unwrap_err().code, RefusalCode::SchemaInvalid);
    assert_eq!(ledger.state_digest().unwrap(), digest);
    assert_eq!(ledger.size(), 2);
}

#[test]
fn pending_outcomes_are_visible_only_once_settled() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    let first = ledger.submit_pending(vec![f.register("baltic-demolition", &giai(1), "door", 40.0)]).unwrap();
    // A second batch may depend on the first before either is durable.
    let second = ledger
        .submit_pending(vec![
            f.transfer("baltic-demolition", &giai(1), "reuse-hub"),
            f.transfer("baltic-demolition", &giai(9), "reuse-hub"),
        ])
        .unwrap();
    assert_eq!((first.len(), second.len()), (1, 2));
    assert_eq!(ledger.size(), 1, "appended records are not shown before they are durable");
    assert!(ledger.receipt(&f.register("baltic-demolition", &giai(1), "door", 40.0).id()).unwrap().is_none());
    // Settling the later batch syncs everything appended, so the earlier one settles at once.
    let second = ledger.settle(second).unwrap();
    assert_eq!(ledger.size(), 3);
    assert_eq!(second[0].as_ref().unwrap().seq.get(), 2);
    assert_eq!(second[1].as_ref().unwrap_err().code, RefusalCode::ItemUnknown, "a refusal keeps its place");
    assert_eq!(accepted(ledger.settle(first).unwrap())[0].seq.get(), 1);
}

#[test]
fn an_item_is_shown_once_the_records_that_changed_it_are_durable() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    let pending = ledger
        .submit_pending(vec![
            f.register("baltic-demolition", &giai(1), "door", 40.0),
            f.transfer("baltic-demolition", &giai(1), "reuse-hub"),
        ])
        .unwrap();
    assert_eq!(ledger.size(), 1);
    // Items live in memory, ahead of the log's sync: reading one waits for (here,
    // leads) the sync of the records that changed it, so nothing is shown that
    // a crash could still take back.
    let item = ledger.item(&giai_of(1)).unwrap().unwrap();
    assert_eq!(ledger.size(), 3, "the records behind what was shown are durable");
    assert_eq!(item.updated.get(), 2);
    assert_eq!(item.pending.as_ref().map(|transfer| transfer.to.as_str()), Some("reuse-hub"));
    assert_eq!(ledger.history(&giai_of(1)).unwrap().iter().map(|r| r.seq.get()).collect::<Vec<_>>(), vec![1, 2]);
    assert!(ledger.item(&giai_of(2)).unwrap().is_none());
    assert!(ledger.history(&giai_of(2)).unwrap().is_empty());
    assert_eq!(accepted(ledger.settle(pending).unwrap()).len(), 2);
}

#[test]
fn concurrent_submitters_are_group_committed_and_all_durable() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    let ledger = Arc::new(ledger);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let ledger = Arc::clone(&ledger);
            let f = f.clone();
            std::thread::spawn(move || {
                let mut receipts = Vec::new();
                for i in 0..25 {
                    let entry = f.register("baltic-demolition", &giai(t * 100 + i), "brick pallet", 900.0);
                    receipts.extend(accepted(ledger.submit(vec![entry]).unwrap()));
                }
                receipts
            })
        })
        .collect();
    let mut receipts: Vec<Receipt> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    receipts.sort_by_key(|r| r.seq);
    assert_eq!(receipts.len(), 100);
    assert!(receipts.windows(2).all(|w| w[0].seq < w[1].seq), "every record has its own seq");
    drop(receipts);
    let size = ledger.size();
    assert_eq!(size, 101);
    drop(ledger);
    let (reopened, report) = Ledger::open(dir.path()).unwrap();
    assert_eq!(report.size, 101);
    assert_eq!(report.replayed, 0, "the index kept up with every acknowledged record");
    assert_eq!(report.index_rebuilt, None);
    assert_eq!(reopened.size(), 101);
}

#[test]
fn the_same_records_give_identical_state_roots_and_indexes() {
    let a_dir = tempfile::tempdir().unwrap();
    let (f, a) = ledger(a_dir.path());
    accepted(
        a.submit(vec![
            f.register("baltic-demolition", &giai(1), "beam", 100.0),
            f.register("riga-deconstruction", &giai(2), "door", 40.0),
            f.transfer("baltic-demolition", &giai(1), "reuse-hub"),
            f.receive("reuse-hub", &giai(1)),
        ])
        .unwrap(),
    );
    let records = a.records(0, 100).unwrap();

    // A second ledger built from the same genesis record and later records.
    let b_dir = tempfile::tempdir().unwrap();
    {
        let (mut log, _) = RecordLog::open(&b_dir.path().join("log"), LogOptions::default()).unwrap();
        log.append(&records[0].canonical_bytes()).unwrap();
        log.sync().unwrap();
    }
    let (b, _) = Ledger::open(b_dir.path()).unwrap();
    b.append_records(plain(records[1..].to_vec())).unwrap();

    assert_eq!(a.size(), b.size());
    assert_eq!(a.root_at(a.size()).unwrap(), b.root_at(b.size()).unwrap());
    assert_eq!(a.state_digest().unwrap(), b.state_digest().unwrap());
    assert_eq!(a.index_digest().unwrap(), b.index_digest().unwrap());
    let log_a = std::fs::read(a_dir.path().join("log/segment-000001.log")).unwrap();
    let log_b = std::fs::read(b_dir.path().join("log/segment-000001.log")).unwrap();
    assert_eq!(log_a, log_b, "the logs are byte-identical");

    // A record that breaks the chain or the rules is refused and changes nothing.
    let digest = b.state_digest().unwrap();
    let mut replayed = records[3].clone();
    replayed.seq = Seq::new(b.size()).unwrap();
    assert!(matches!(b.append_records(plain(vec![replayed])), Err(LedgerError::Invalid { .. })));
    assert_eq!(b.state_digest().unwrap(), digest);
    assert_eq!(b.size(), a.size());
}

#[test]
fn every_ledger_created_from_one_genesis_has_the_same_record_0() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, a) = ledger(a_dir.path());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (_, b) = ledger(b_dir.path());
    let record0 = a.record(0).unwrap();
    assert_eq!(record0, b.record(0).unwrap(), "created a second apart, yet the same record 0");
    assert_eq!(record0.accepted, record0.entry.statement().time);
    assert_eq!(a.root_at(1).unwrap(), b.root_at(1).unwrap());

    // A record 0 accepted at any other time is refused when the ledger is opened.
    let c_dir = tempfile::tempdir().unwrap();
    {
        let mut moved = record0.clone();
        moved.accepted = Timestamp::parse("2030-01-01T00:00:00Z").unwrap();
        let (mut log, _) = RecordLog::open(&c_dir.path().join("log"), LogOptions::default()).unwrap();
        log.append(&moved.canonical_bytes()).unwrap();
        log.sync().unwrap();
    }
    match Ledger::open(c_dir.path()) {
        Err(LedgerError::Invalid { seq: 0, reason }) => assert!(reason.contains("genesis statement"), "{reason}"),
        Err(other) => panic!("expected record 0 to be invalid, got {other}"),
        Ok(_) => panic!("expected record 0 to be invalid, but the ledger opened"),
    }
}

/// A replicated batch as Raft's log carries it: each entry's canonical JSON.
fn canonical_batch(entries: &[SignedEntry]) -> Arc<[Box<RawValue>]> {
    entries
        .iter()
        .map(|entry| RawValue::from_string(String::from_utf8(entry.canonical_bytes()).unwrap()).unwrap())
        .collect()
}

/// Applies replicated batches in order, as a node's Raft state machine does,
/// and returns each batch's outcomes, settled.
fn apply_all(
    ledger: &Ledger,
    batches: &[(Vec<SignedEntry>, &str)],
    mut start: u64,
) -> (Vec<Vec<Result<Receipt, Refusal>>>, u64) {
    let mut all = Vec::new();
    for (entries, accepted) in batches {
        let (pending, next) =
            ledger.apply_canonical(canonical_batch(entries), Timestamp::parse(accepted).unwrap(), start).unwrap();
        all.push(ledger.settle(pending).unwrap());
        start = next;
    }
    (all, start)
}

#[test]
fn replicated_batches_give_every_node_the_same_records_and_times_never_go_back() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (f, a) = ledger(a_dir.path());
    let (_, b) = ledger(b_dir.path());
    let batches = vec![
        (
            vec![
                f.register("baltic-demolition", &giai(1), "beam", 100.0),
                f.transfer("baltic-demolition", &giai(2), "reuse-hub"),
            ],
            "2026-11-23T10:00:00Z",
        ),
        // A leader whose clock is behind: the batch is judged at the previous record's time.
        (vec![f.register("riga-deconstruction", &giai(2), "door", 40.0)], "2026-11-23T09:59:00Z"),
        (
            vec![f.transfer("baltic-demolition", &giai(1), "reuse-hub"), f.receive("reuse-hub", &giai(1))],
            "2026-11-23T10:05:00Z",
        ),
    ];
    let (outcomes_a, next_a) = apply_all(&a, &batches, 1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (outcomes_b, next_b) = apply_all(&b, &batches, 1);
    assert_eq!(outcomes_a, outcomes_b, "the same verdicts on both nodes, a second apart");
    assert_eq!((next_a, next_b, a.size()), (5, 5, 5));
    assert_eq!(outcomes_a[0][1].as_ref().unwrap_err().code, RefusalCode::ItemUnknown);
    assert_eq!(a.root_at(5).unwrap(), b.root_at(5).unwrap());
    let log_a = std::fs::read(a_dir.path().join("log/segment-000001.log")).unwrap();
    let log_b = std::fs::read(b_dir.path().join("log/segment-000001.log")).unwrap();
    assert_eq!(log_a, log_b, "the logs are byte-identical");
    let times: Vec<String> = a.records(1, 4).unwrap().iter().map(|r| r.accepted.to_string()).collect();
    assert_eq!(times, ["2026-11-23T10:00:00Z", "2026-11-23T10:00:00Z", "2026-11-23T10:05:00Z", "2026-11-23T10:05:00Z"]);
}

#[test]
fn a_batch_applied_again_after_a_crash_matches_its_records_instead_of_judging_again() {
    let dir = tempfile::tempdir().unwrap();
    let (f, a) = ledger(dir.path());
    let batches = vec![
        (vec![f.register("baltic-demolition", &giai(1), "beam", 100.0)], "2026-11-23T10:00:00Z"),
        // Refused: item 2 is not registered yet. Judged again after the next
        // batch, it would be accepted, and this node would differ from the others.
        (
            vec![
                f.transfer("riga-deconstruction", &giai(2), "reuse-hub"),
                f.register("baltic-demolition", &giai(3), "brick", 5.0),
            ],
            "2026-11-23T10:01:00Z",
        ),
        (vec![f.register("riga-deconstruction", &giai(2), "door", 40.0)], "2026-11-23T10:02:00Z"),
    ];
    let (first, next) = apply_all(&a, &batches, 1);
    assert_eq!(next, 4);
    let (root, state) = (a.root_at(4).unwrap(), a.state_digest().unwrap());

    // The state machine's own bookkeeping reached only the first batch before
    // the crash: the last two batches are applied again from position 2.
    let (again, next) = apply_all(&a, &batches[1..], 2);
    assert_eq!(next, 4);
    assert_eq!(again[0][1], first[1][1], "the registration matched its record");
    assert_eq!(again[1], first[2]);
    assert!(again[0][0].is_err(), "the refused transfer stays refused");
    assert_eq!((a.size(), a.root_at(4).unwrap(), a.state_digest().unwrap()), (4, root, state));

    // Past the records it finds, the ledger judges entries as usual.
    let (after, next) =
        apply_all(&a, &[(vec![f.transfer("riga-deconstruction", &giai(2), "reuse-hub")], "2026-11-23T10:03:00Z")], 4);
    assert_eq!((next, after[0][0].as_ref().unwrap().seq.get()), (5, 4));

    // A batch cannot begin beyond the ledger's end.
    assert!(matches!(a.apply_canonical(canonical_batch(&[]), Timestamp::now(), 9), Err(LedgerError::Invalid { .. })));
}

#[test]
fn a_replicated_batch_is_judged_entry_by_entry_and_reports_the_node_changes_it_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let (f, a) = ledger(dir.path());
    let admins = ["regional-planning", "city-of-jelgava"];
    let hub = json!({"member": "reuse-hub", "url": "http://10.0.3.10:8080"});
    let add_hub = f.signed(&admins, Kind::NodeAdd, hub);
    let registration = f.register("baltic-demolition", &giai(1), "beam", 100.0);
    // One hex digit of the signature changed: `{"signatures":[{"key":"<64>","sig":"` is 96 bytes.
    let forge = |entry: &SignedEntry| {
        let mut bytes = entry.canonical_bytes();
        assert_eq!(&bytes[87..96], br#"","sig":""#);
        bytes[100] = if bytes[100] == b'0' { b'1' } else { b'0' };
        bytes
    };
    let forged = forge(&registration);
    // A body its schema refuses: refused for that, unless its signature is bad too.
    let shapeless = f.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": giai(2)}));
    let raw = |json: &str| RawValue::from_string(json.to_owned()).unwrap();
    let entries: Vec<Box<RawValue>> = vec![
        raw(r#"{"signatures":[]}"#),
        raw(std::str::from_utf8(&add_hub.canonical_bytes()).unwrap()),
        raw(std::str::from_utf8(&forged).unwrap()),
        raw(std::str::from_utf8(&registration.canonical_bytes()).unwrap()),
        raw(std::str::from_utf8(
            &f.signed(
                &["regional-planning"],
                Kind::NodeAdd,
                json!({"member": "reuse-hub", "url": "http://10.0.3.11:8080"}),
            )
            .canonical_bytes(),
        )
        .unwrap()),
        raw(std::str::from_utf8(
            &f.signed(&admins, Kind::NodeRemove, json!({"member": "reuse-hub"})).canonical_bytes(),
        )
        .unwrap()),
        // An entry sent again is accepted again, with its first receipt.
        raw(std::str::from_utf8(&add_hub.canonical_bytes()).unwrap()),
        raw(std::str::from_utf8(&shapeless.canonical_bytes()).unwrap()),
        raw(std::str::from_utf8(&forge(&shapeless)).unwrap()),
    ];
    // Enough entries to be split between the verification threads.
    assert!(entries.len() >= PARALLEL_VERIFY_THRESHOLD);
    let (pending, next) =
        a.apply_canonical(entries.into(), Timestamp::parse("2026-11-23T10:00:00Z").unwrap(), 1).unwrap();
    let reported = pending.node_changes().to_vec();
    let outcomes = a.settle(pending).unwrap();
    let codes: Vec<Option<RefusalCode>> = outcomes.iter().map(|o| o.as_ref().err().map(|r| r.code)).collect();
    assert_eq!(
        codes,
        [
            Some(RefusalCode::EntryMalformed),
            None,
            Some(RefusalCode::SignatureInvalid),
            None,
            Some(RefusalCode::AdminThresholdNotMet),
            None,
            None,
            Some(RefusalCode::SchemaInvalid),
            Some(RefusalCode::SignatureInvalid),
        ]
    );
    assert_eq!(outcomes[6], outcomes[1], "the repeat gets the first receipt");
    let hub_id = MemberId::parse("reuse-hub").unwrap();
    assert_eq!(
        reported,
        [
            NodeSetChange::Add { member: hub_id.clone(), url: "http://10.0.3.10:8080".into() },
            NodeSetChange::Remove { member: hub_id.clone() },
            NodeSetChange::Add { member: hub_id, url: "http://10.0.3.10:8080".into() },
        ]
    );
    assert_eq!((next, a.size()), (4, 4));
    // The records hold the whole entries, bodies included, though the ledger
    // kept no JSON tree of them while it judged.
    // (Compared as decoded from JSON: the fixture's masses are floats, JSON's `100` an integer.)
    let decoded = |entry: &SignedEntry| SignedEntry::from_canonical_json(&entry.canonical_bytes()).unwrap();
    assert_eq!(a.record(1).unwrap().entry, decoded(&add_hub));
    assert_eq!(a.record(2).unwrap().entry, decoded(&registration));
    assert_eq!(a.record(2).unwrap().entry.statement().body["passport"]["name"], "beam");
    // A node that receives these records instead (a snapshot) learns the same
    // node set changes, once per record.
    let b_dir = tempfile::tempdir().unwrap();
    let b = Ledger::create(b_dir.path(), f.genesis.clone()).unwrap();
    assert_eq!(b.append_records(plain(a.records(1, 3).unwrap())).unwrap(), reported[..2]);
    drop(a);
    let (reopened, _) = Ledger::open(dir.path()).unwrap();
    assert_eq!(reopened.record(2).unwrap().entry, decoded(&registration));
}

#[test]
fn a_lost_or_stale_index_is_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    accepted(
        ledger.submit((0..20).map(|n| f.register("baltic-demolition", &giai(n), "radiator", 60.0)).collect()).unwrap(),
    );
    let digest = ledger.index_digest().unwrap();
    drop(ledger);
    std::fs::remove_file(dir.path().join("index.redb")).unwrap();
    let (ledger, report) = Ledger::open(dir.path()).unwrap();
    assert_eq!((report.replayed, report.index_rebuilt.as_deref()), (21, Some("the index is empty")));
    assert_eq!(ledger.index_digest().unwrap(), digest);
    assert_eq!(ledger.item(&giai_of(7)).unwrap().unwrap().name, "radiator");
}

#[test]
fn the_index_is_the_same_however_records_were_grouped_into_commits() {
    // Record locations are packed 64 to an index key and an item's records share
    // its key, so commits that end mid-chunk or touch an item again must extend
    // what is stored, exactly as one big rebuild would write it.
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    let mut next = 0;
    for batch in [1, 7, 64, 1, 90] {
        let entries =
            (next..next + batch).map(|n| f.register("baltic-demolition", &giai(n), "clay bricks", 900.0)).collect();
        accepted(ledger.submit(entries).unwrap());
        next += batch;
    }
    accepted(ledger.submit(vec![f.transfer("baltic-demolition", &giai(3), "reuse-hub")]).unwrap());
    accepted(
        ledger
            .submit(vec![f.receive("reuse-hub", &giai(3)), f.register("baltic-demolition", &giai(next), "door", 35.0)])
            .unwrap(),
    );
    let size = ledger.size();
    assert_eq!(size, 1 + next as u64 + 3);
    let records = ledger.records(0, size).unwrap();
    for record in &records {
        assert_eq!(ledger.record_bytes(record.seq.get()).unwrap(), record.canonical_bytes());
        assert_eq!(ledger.receipt(&record.entry.id()).unwrap().map(|r| r.seq), Some(record.seq));
    }
    let history: Vec<u64> = ledger.history(&giai_of(3)).unwrap().iter().map(|r| r.seq.get()).collect();
    assert_eq!(history, vec![4, size - 3, size - 2]);
    assert_eq!(ledger.item(&giai_of(3)).unwrap().unwrap().custodian.as_str(), "reuse-hub");
    let digest = ledger.index_digest().unwrap();
    drop(ledger);

    std::fs::remove_file(dir.path().join("index.redb")).unwrap();
    let (rebuilt, report) = Ledger::open(dir.path()).unwrap();
    assert_eq!(report.replayed, size);
    assert_eq!(rebuilt.index_digest().unwrap(), digest, "a rebuild in one batch writes the same index");
    assert_eq!(rebuilt.history(&giai_of(3)).unwrap().len(), 3);
}

#[test]
fn opening_refuses_other_ledgers_and_empty_directories() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(Ledger::open(dir.path()), Err(LedgerError::Missing(_))));
    let (f, ledger) = ledger(dir.path());
    drop(ledger);
    assert!(matches!(Ledger::create(dir.path(), f.genesis.clone()), Err(LedgerError::Exists(_))));
    let (_, report) = Ledger::open_or_create(dir.path(), f.genesis.clone()).unwrap();
    assert_eq!(report.size, 1);
    let mut other = f.genesis.statement().clone();
    other.body["consortium"]["name"] = json!("Another consortium");
    let other =
        crate::entry::SignedEntry::sign(other, &[&Fixture::key("regional-planning"), &Fixture::key("city-of-jelgava")])
            .unwrap();
    assert!(matches!(Ledger::open_or_create(dir.path(), other), Err(LedgerError::WrongLedger { .. })));
    let unsigned = crate::entry::SignedEntry::new(f.genesis.statement().clone(), vec![]);
    let fresh = tempfile::tempdir().unwrap();
    assert!(matches!(Ledger::create(fresh.path(), unsigned), Err(LedgerError::Genesis(_))));
}

#[test]
fn a_directory_has_one_owner_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    assert!(matches!(Ledger::open(dir.path()), Err(LedgerError::Locked(_))));
    assert!(matches!(Ledger::open_or_create(dir.path(), f.genesis.clone()), Err(LedgerError::Locked(_))));
    drop(ledger);
    let (_reopened, report) = Ledger::open(dir.path()).unwrap();
    assert_eq!(report.size, 1);
}

#[test]
fn the_same_statement_signed_by_others_is_a_conflict_not_a_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    let register = f.register("baltic-demolition", &giai(1), "beam", 100.0);
    accepted(ledger.submit(vec![register.clone()]).unwrap());
    let statement = register.statement().clone();
    let impostor = SignedEntry::sign(statement.clone(), &[&Fixture::key("riga-deconstruction")]).unwrap();
    assert_eq!(ledger.submit(vec![impostor]).unwrap()[0].as_ref().unwrap_err().code, RefusalCode::EntryConflict);
    let both =
        SignedEntry::sign(statement, &[&Fixture::key("baltic-demolition"), &Fixture::key("riga-deconstruction")])
            .unwrap();
    assert_eq!(ledger.submit(vec![both]).unwrap()[0].as_ref().unwrap_err().code, RefusalCode::EntryConflict);
    // The same signatures in another order are the same entry: its receipt comes back.
    let key = crate::entry::PublicKey::of(&Fixture::key("oslo")).to_hex();
    let add = f.signed(
        &["regional-planning", "city-of-jelgava"],
        Kind::MemberAdd,
        json!({"id": "oslo-reuse", "name": "Oslo Reuse AS", "roles": ["holder"], "keys": [key]}),
    );
    let receipt = accepted(ledger.submit(vec![add.clone()]).unwrap());
    let reversed = SignedEntry::new(add.statement().clone(), add.signatures().iter().rev().cloned().collect());
    assert_eq!(accepted(ledger.submit(vec![reversed]).unwrap()), receipt);
    assert_eq!(ledger.size(), 3);
}

#[test]
fn a_crash_before_the_genesis_was_written_leaves_a_directory_that_opens() {
    for partial in [&b""[..], b"SLVG", b"SLVGLOG1"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("log")).unwrap();
        std::fs::write(dir.path().join("log/segment-000001.log"), partial).unwrap();
        let f = Fixture::new();
        let (ledger, report) = Ledger::open_or_create(dir.path(), f.genesis.clone()).unwrap();
        assert_eq!((report.size, ledger.ledger_id()), (1, f.ledger_id));
    }
}

#[test]
fn an_entry_whose_record_the_log_cannot_hold_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = ledger(dir.path());
    accepted(ledger.submit(vec![f.register("baltic-demolition", &giai(1), "pallet", 10_000.0)]).unwrap());
    // Every field within its schema's bounds, and yet a record of some 24 MB:
    // a split into a thousand parts, each with a hundred long material names.
    let parts: Vec<serde_json::Value> = (0..1000)
        .map(|n| {
            let part = format!("4750001PART-{n:04}");
            let mut passport = crate::testkit::passport(&part, "brick", 1.0);
            passport["description"] = json!("d".repeat(2000));
            passport["materials"] = json!(
                (0..100)
                    .map(|m| json!({"name": format!("{m:03}{}", "m".repeat(190)), "fraction": 0.001}))
                    .collect::<Vec<_>>()
            );
            json!({"giai": part, "passport": passport})
        })
        .collect();
    let split = f.signed(&["baltic-demolition"], Kind::ItemSplit, json!({"giai": giai(1), "parts": parts}));
    let outcomes = ledger.submit(vec![split]).unwrap();
    let refusal = outcomes.into_iter().next().unwrap().unwrap_err();
    assert_eq!(refusal.code, RefusalCode::EntryTooLarge, "{}", &refusal.to_string()[..300]);
    assert_eq!(ledger.size(), 2);
    assert!(ledger.item(&Giai::parse("4750001PART-0000").unwrap()).unwrap().is_none());
    // The ledger goes on: a split of sane size is accepted, and it reopens.
    let parts = json!([
        {"giai": "4750001PART-0000", "passport": crate::testkit::passport("4750001PART-0000", "brick", 1.0)},
        {"giai": "4750001PART-0001", "passport": crate::testkit::passport("4750001PART-0001", "brick", 1.0)},
    ]);
    accepted(
        ledger
            .submit(vec![f.signed(&["baltic-demolition"], Kind::ItemSplit, json!({"giai": giai(1), "parts": parts}))])
            .unwrap(),
    );
    drop(ledger);
    let (ledger, _) = Ledger::open(dir.path()).unwrap();
    assert_eq!(ledger.size(), 3);
}

#[test]
fn a_ledger_reports_the_format_its_genesis_set_and_keeps_it_when_reopened() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(Ledger::create(dir.path(), f.genesis.clone()).unwrap().format(), LedgerFormat::V1);
    let mut body = f.genesis.statement().body.clone();
    body["format"] = json!(2);
    let statement = crate::entry::Statement { ledger: None, kind: Kind::Genesis, time: f.time.clone(), body };
    let admins = [&Fixture::key("regional-planning"), &Fixture::key("city-of-jelgava")];
    let genesis = SignedEntry::sign(statement, &admins).unwrap();
    let dir = tempfile::tempdir().unwrap();
    drop(Ledger::create(dir.path(), genesis.clone()).unwrap());
    let (ledger, _) = Ledger::open(dir.path()).unwrap();
    assert_eq!(ledger.format(), LedgerFormat::V2);
}
