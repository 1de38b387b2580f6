//! The stored index and custody state: opening takes up from them, and a damaged or deleted
//! index is found and rebuilt from the log, never served.

use std::path::Path;

use super::index::INDEX_FILE;
use super::*;
use crate::custody::ItemState;
use crate::ident::Giai;
use crate::refusal::Refusal;
use crate::testkit::Fixture;

fn giai(n: usize) -> Giai {
    Giai::parse(&format!("4750001IDX-{n:04}")).unwrap()
}

fn accepted(outcomes: Vec<Result<Receipt, Refusal>>) {
    for outcome in outcomes {
        outcome.unwrap_or_else(|refusal| panic!("refused: {refusal}"));
    }
}

/// A ledger of a few hundred records whose items moved, and what a reader should see of it.
struct Built {
    dir: tempfile::TempDir,
    size: u64,
    root: [u8; 32],
    state: [u8; 32],
    items: Vec<ItemState>,
    histories: Vec<Vec<u64>>,
}

const ITEMS: usize = 300;

fn build() -> Built {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let registrations =
        (0..ITEMS).map(|n| f.register("baltic-demolition", giai(n).as_str(), "steel beam", 100.0 + n as f64)).collect();
    accepted(ledger.submit(registrations).unwrap());
    accepted(
        ledger
            .submit(
                (0..ITEMS).step_by(3).map(|n| f.transfer("baltic-demolition", giai(n).as_str(), "reuse-hub")).collect(),
            )
            .unwrap(),
    );
    accepted(ledger.submit((0..ITEMS).step_by(6).map(|n| f.receive("reuse-hub", giai(n).as_str())).collect()).unwrap());
    let items: Vec<ItemState> = (0..ITEMS).map(|n| ledger.item(&giai(n)).unwrap().unwrap()).collect();
    let histories =
        (0..ITEMS).map(|n| ledger.history(&giai(n)).unwrap().iter().map(|r| r.seq.get()).collect()).collect();
    let size = ledger.size();
    let (root, state) = (ledger.root_at(size).unwrap(), ledger.state_digest().unwrap());
    drop(ledger);
    Built { dir, size, root, state, items, histories }
}

/// A copy of the built ledger's directory.
fn copy_of(built: &Built) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(built.dir.path(), copy.path());
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "lock" {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn reopening_takes_up_from_the_stored_state_and_agrees_with_a_full_replay() {
    let built = build();
    let (ledger, report) = Ledger::open(built.dir.path()).unwrap();
    assert_eq!((report.index_rebuilt, report.replayed), (None, 0), "a clean stop leaves nothing to replay");
    assert_eq!((ledger.size(), ledger.state_digest().unwrap()), (built.size, built.state));
    assert_eq!(ledger.root_at(built.size).unwrap(), built.root);
    // The same records replayed from scratch, by a rebuild and by the audit, give the same state.
    let all: Vec<Vec<u8>> = (0..built.size).map(|seq| ledger.record_bytes(seq).unwrap()).collect();
    drop(ledger);
    let audit = crate::audit::audit(
        &Fixture::new().genesis,
        all.into_iter().map(Ok::<_, std::io::Error>),
        &Default::default(),
        &mut |_| {},
    );
    assert_eq!(audit.state, crate::hex::to_lower_hex(built.state));
    std::fs::remove_file(built.dir.path().join(INDEX_FILE)).unwrap();
    let (rebuilt, report) = Ledger::open(built.dir.path()).unwrap();
    assert_eq!(report.replayed, built.size);
    assert_eq!(rebuilt.state_digest().unwrap(), built.state);
}

#[test]
fn a_ledger_opened_from_its_stored_state_goes_on_as_one_that_never_stopped() {
    let built = build();
    let f = Fixture::new();
    let (ledger, _) = Ledger::open(built.dir.path()).unwrap();
    // An item known only to the index is judged from it: registered twice is refused, moved
    // on from where it stood is accepted.
    let again = ledger.submit(vec![f.register("baltic-demolition", giai(1).as_str(), "steel beam", 1.0)]).unwrap();
    assert_eq!(again[0].as_ref().unwrap_err().code, crate::refusal::RefusalCode::ItemExists);
    accepted(ledger.submit(vec![f.receive("reuse-hub", giai(3).as_str())]).unwrap());
    // Re-submitting a recorded entry gives its receipt, from the index.
    let first = f.register("baltic-demolition", giai(0).as_str(), "steel beam", 100.0);
    let repeated = ledger.submit(vec![first.clone()]).unwrap().remove(0).unwrap();
    assert_eq!(repeated.seq.get(), 1);
    assert_eq!(ledger.receipt(&first.id()).unwrap().map(|r| r.seq.get()), Some(1));
    let size = ledger.size();
    let state = ledger.state_digest().unwrap();
    assert_ne!(state, built.state);
    drop(ledger);
    std::fs::remove_file(built.dir.path().join(INDEX_FILE)).unwrap();
    let (rebuilt, _) = Ledger::open(built.dir.path()).unwrap();
    assert_eq!((rebuilt.size(), rebuilt.state_digest().unwrap()), (size, state));
    assert_eq!(rebuilt.item(&giai(3)).unwrap().unwrap().custodian.as_str(), "reuse-hub");
}

/// Reads everything the built ledger showed, failing the test on any wrong answer; an error is
/// allowed (the index knows it is damaged) and counted.
fn wrong_answers(ledger: &Ledger, built: &Built) -> (Vec<String>, usize) {
    let mut wrong = Vec::new();
    let mut errors = 0;
    for (n, expected) in built.items.iter().enumerate() {
        match ledger.item(&giai(n)) {
            Ok(Some(item)) if item == *expected => {}
            Ok(other) => wrong.push(format!("item {n}: {other:?}")),
            Err(_) => errors += 1,
        }
        match ledger.history(&giai(n)) {
            Ok(records) if records.iter().map(|r| r.seq.get()).collect::<Vec<_>>() == built.histories[n] => {}
            Ok(records) => wrong.push(format!("history of item {n}: {} records", records.len())),
            Err(_) => errors += 1,
        }
    }
    match ledger.root_at(built.size) {
        Ok(root) if root == built.root => {}
        Ok(_) => wrong.push("root".to_owned()),
        Err(_) => errors += 1,
    }
    match ledger.inclusion_proof(5, built.size) {
        Ok(proof) => {
            let leaf = ledger.record(5).map(|record| record.leaf_hash().0);
            let verified = leaf.is_ok_and(|leaf| {
                crate::merkle::verify_inclusion::<crate::merkle::Blake3Hasher>(
                    &leaf,
                    5,
                    built.size,
                    &proof,
                    &built.root,
                )
                .is_ok()
            });
            if !verified {
                wrong.push("inclusion proof".to_owned());
            }
        }
        Err(_) => errors += 1,
    }
    (wrong, errors)
}

/// Something done to the bytes of an index file.
type Damage = Box<dyn Fn(&mut Vec<u8>)>;

#[test]
fn a_damaged_index_is_rebuilt_or_refuses_to_answer_and_never_serves_another_state() {
    let built = build();
    let length = std::fs::metadata(built.dir.path().join(INDEX_FILE)).unwrap().len();
    let mut damages: Vec<(String, Damage)> = vec![
        ("cut to half".to_owned(), Box::new(|bytes: &mut Vec<u8>| bytes.truncate(bytes.len() / 2))),
        ("emptied".to_owned(), Box::new(|bytes: &mut Vec<u8>| bytes.clear())),
        (
            "header zeroed".to_owned(),
            Box::new(|bytes: &mut Vec<u8>| {
                let end = bytes.len().min(4096);
                bytes[..end].fill(0);
            }),
        ),
    ];
    // Bytes flipped all over the file, a few at a time.
    let mut seed = 0x5eed_u64;
    for round in 0..40 {
        let mut flips = Vec::new();
        for _ in 0..4 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            flips.push((seed >> 16) % length);
        }
        damages.push((
            format!("flips {round} at {flips:?}"),
            Box::new(move |bytes: &mut Vec<u8>| {
                for &at in &flips {
                    if let Some(byte) = bytes.get_mut(at as usize) {
                        *byte ^= 0x5a;
                    }
                }
            }),
        ));
    }
    let (mut rebuilt, mut found) = (0, 0);
    for (name, damage) in &damages {
        let copy = copy_of(&built);
        let file = copy.path().join(INDEX_FILE);
        let mut bytes = std::fs::read(&file).unwrap();
        damage(&mut bytes);
        std::fs::write(&file, &bytes).unwrap();
        let (ledger, report) =
            Ledger::open(copy.path()).unwrap_or_else(|e| panic!("{name}: the ledger does not open: {e}"));
        rebuilt += usize::from(report.index_rebuilt.is_some());
        assert_eq!(ledger.size(), built.size, "{name}");
        let (wrong, errors) = wrong_answers(&ledger, &built);
        if report.index_rebuilt.is_some() {
            assert!(wrong.is_empty(), "{name}: the rebuilt index serves another state: {wrong:?}");
            assert_eq!(
                (errors, ledger.state_digest().unwrap()),
                (0, built.state),
                "{name}: rebuilt, yet {errors} errors"
            );
            continue;
        }
        // Damage that opening cannot see (a page whose keys went missing) is what the check of
        // the stored state finds; then the ledger stops answering and the next open rebuilds.
        let checked = ledger.check_stored_state();
        if !wrong.is_empty() {
            found += 1;
            assert!(
                matches!(checked, Err(LedgerError::IndexMismatch(_) | LedgerError::Index(_))),
                "{name}: the index answers wrongly ({wrong:?}) and its check passes: {checked:?}"
            );
            assert!(ledger.item(&giai(0)).is_err(), "{name}: a ledger whose index was found damaged still answers");
        }
        if checked.is_err() {
            drop(ledger);
            let (reopened, report) = Ledger::open(copy.path()).unwrap();
            assert!(report.index_rebuilt.is_some(), "{name}: the index found damaged is not rebuilt");
            let (wrong, errors) = wrong_answers(&reopened, &built);
            assert!(wrong.is_empty() && errors == 0, "{name}: after the rebuild: {wrong:?}, {errors} errors");
        }
    }
    eprintln!("{rebuilt} damaged indexes rebuilt at open, {found} found damaged by the check");
    assert!(rebuilt >= 3, "only {rebuilt} damaged indexes were rebuilt");
}
