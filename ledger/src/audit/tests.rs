use serde_json::json;

use super::*;
use crate::checkpoint::NoteSigner;
use crate::entry::{Kind, PublicKey, signing_message};
use crate::signature::torsion;
use crate::store::Ledger;
use crate::testkit::Fixture;

fn sample_ledger(dir: &std::path::Path) -> (Fixture, Ledger) {
    let f = Fixture::new();
    let ledger = Ledger::create(dir, f.genesis.clone()).unwrap();
    let mut entries = Vec::new();
    for n in 0..40 {
        let giai = format!("4750001BRICK-{n:03}");
        entries.push(f.register("riga-deconstruction", &giai, "clay brick pallet", 1100.0));
        entries.push(f.transfer("riga-deconstruction", &giai, "reuse-hub"));
        entries.push(f.receive("reuse-hub", &giai));
    }
    for outcome in ledger.submit(entries).unwrap() {
        outcome.unwrap();
    }
    (f, ledger)
}

fn stream(ledger: &Ledger) -> Vec<Result<Vec<u8>, String>> {
    (0..ledger.size()).map(|seq| ledger.record_bytes(seq).map_err(|e| e.to_string())).collect()
}

fn signed_checkpoint(ledger: &Ledger) -> SignedCheckpoint {
    let key = Fixture::key("regional-planning");
    let mut signed =
        SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
            .unwrap();
    let key = Fixture::key("city-of-jelgava");
    signed.cosign(&NoteSigner { name: "city-of-jelgava", key: &key }).unwrap();
    signed
}

#[test]
fn a_sound_ledger_audits_clean_against_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = sample_ledger(dir.path());
    let earlier = EarlierCheckpoint { size: 10, root: ledger.root_at(10).unwrap(), note: None };
    let options = AuditOptions {
        checkpoint: Some(signed_checkpoint(&ledger)),
        earlier: Some(earlier),
        ..AuditOptions::default()
    };
    let mut seen = 0;
    let report = audit(&f.genesis, stream(&ledger), &options, &mut |n| seen = n);
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.records, 121);
    assert_eq!(seen, 121);
    assert_eq!(report.items, 40);
    assert_eq!(report.root, hex::encode(ledger.root_at(121).unwrap()));
    let finding = report.checkpoint.unwrap();
    assert_eq!(finding.signed_by, vec!["city-of-jelgava", "regional-planning"]);
    assert_eq!(finding.operators, 3);

    // Two of three operators meet a policy of two, not one of three.
    let audited = |required_signers| {
        let options =
            AuditOptions { checkpoint: Some(signed_checkpoint(&ledger)), required_signers, ..AuditOptions::default() };
        audit(&f.genesis, stream(&ledger), &options, &mut |_| {})
            .problems
            .into_iter()
            .map(|p| p.code)
            .collect::<Vec<_>>()
    };
    assert!(audited(2).is_empty());
    assert_eq!(audited(3), vec!["checkpoint.too_few_signers"]);
}

#[test]
fn tampering_is_reported_with_the_record_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = sample_ledger(dir.path());
    let options = AuditOptions { checkpoint: Some(signed_checkpoint(&ledger)), ..AuditOptions::default() };
    let codes = |records: Vec<Result<Vec<u8>, String>>| {
        audit(&f.genesis, records, &options, &mut |_| {})
            .problems
            .into_iter()
            .map(|p| (p.seq, p.code))
            .collect::<Vec<_>>()
    };

    // A changed passport mass: the signature breaks, the next link breaks, the root differs.
    let mut records = stream(&ledger);
    let text = String::from_utf8(records[4].clone().unwrap()).unwrap().replace("1100", "1200");
    records[4] = Ok(text.into_bytes());
    let found = codes(records);
    assert!(found.contains(&(Some(4), "record.refused:signature.invalid".to_owned())), "{found:?}");
    assert!(found.contains(&(Some(5), "chain.broken_link".to_owned())), "{found:?}");
    assert!(found.contains(&(None, "checkpoint.root_mismatch".to_owned())), "{found:?}");

    // A dropped record breaks the order.
    let mut records = stream(&ledger);
    let _dropped = records.remove(7);
    assert!(codes(records).contains(&(Some(7), "chain.out_of_order".to_owned())));

    // Bytes that are not a record.
    let mut records = stream(&ledger);
    records[9] = Ok(b"{\"seq\":9,\"seq\":9}".to_vec());
    assert!(codes(records).contains(&(Some(9), "record.malformed".to_owned())));

    // Another genesis.
    let other = Fixture::named("Another consortium");
    let report = audit(&other.genesis, stream(&ledger), &AuditOptions::default(), &mut |_| {});
    assert!(report.problems.iter().any(|p| p.code == "record.genesis_mismatch"));

    // A checkpoint from an unrelated history is not extended by this one.
    let earlier = EarlierCheckpoint { size: 10, root: [7; 32], note: None };
    let report = audit(
        &f.genesis,
        stream(&ledger),
        &AuditOptions { earlier: Some(earlier), ..AuditOptions::default() },
        &mut |_| {},
    );
    assert_eq!(report.problems.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), vec!["proof.consistency"]);
}

#[test]
fn an_earlier_checkpoint_must_be_signed_by_an_operator() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = sample_ledger(dir.path());
    let earlier_codes = |note: SignedCheckpoint| {
        let options = AuditOptions { earlier: Some(EarlierCheckpoint::from_note(note)), ..AuditOptions::default() };
        audit(&f.genesis, stream(&ledger), &options, &mut |_| {})
            .problems
            .into_iter()
            .map(|p| p.code)
            .collect::<Vec<_>>()
    };
    let checkpoint = ledger.checkpoint().unwrap();
    let key = Fixture::key("regional-planning");
    let signed =
        SignedCheckpoint::sign(checkpoint.clone(), &NoteSigner { name: "regional-planning", key: &key }).unwrap();
    assert!(earlier_codes(signed).is_empty(), "an operator's own note is trusted");
    // The same size and root under an operator's name, signed by someone else.
    let stranger = Fixture::key("stranger");
    let forged =
        SignedCheckpoint::sign(checkpoint.clone(), &NoteSigner { name: "regional-planning", key: &stranger }).unwrap();
    assert_eq!(earlier_codes(forged), vec!["checkpoint.earlier_unsigned"]);
    // A member that is no operator cannot vouch for a checkpoint either.
    let contractor = Fixture::key("baltic-demolition");
    let by_member =
        SignedCheckpoint::sign(checkpoint, &NoteSigner { name: "baltic-demolition", key: &contractor }).unwrap();
    assert_eq!(earlier_codes(by_member), vec!["checkpoint.earlier_unsigned"]);
}

#[test]
fn a_checkpoint_signed_by_a_stranger_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = sample_ledger(dir.path());
    let stranger = Fixture::key("stranger");
    let signed =
        SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &stranger })
            .unwrap();
    let report = audit(
        &f.genesis,
        stream(&ledger),
        &AuditOptions { checkpoint: Some(signed), ..AuditOptions::default() },
        &mut |_| {},
    );
    let codes: Vec<_> = report.problems.iter().map(|p| p.code.as_str()).collect();
    assert!(codes.contains(&"checkpoint.unsigned"), "{codes:?}");
}

/// The genesis, then registrations of distinct items and admissions of new members, each
/// with the fixture members who sign it. Nothing later depends on any of them, so a record
/// the audit refuses leaves every other record as it was.
fn independent_entries(f: &Fixture) -> Vec<(SignedEntry, Vec<&'static str>)> {
    let mut entries = vec![(f.genesis.clone(), vec!["regional-planning", "city-of-jelgava"])];
    for n in 0..30 {
        if n % 5 == 4 {
            let id = format!("newcomer-{n}");
            let body = json!({"id": id, "name": format!("Newcomer {n}"), "roles": ["holder"],
                "keys": [PublicKey::of(&Fixture::key(&id)).to_hex()]});
            let admins = vec!["regional-planning", "city-of-jelgava"];
            entries.push((f.signed(&admins, Kind::MemberAdd, body), admins));
        } else {
            let giai = format!("4750001TORSION-{n:03}");
            entries.push((f.register("riga-deconstruction", &giai, "steel beam", 800.0), vec!["riga-deconstruction"]));
        }
    }
    entries
}

/// The records of `entries` in order, each linked to the one before: made by hand, because
/// a ledger would refuse the entries these tests put in them.
fn chained(f: &Fixture, entries: &[SignedEntry]) -> Vec<Result<Vec<u8>, String>> {
    let mut prev = LeafHash::ZERO;
    entries
        .iter()
        .enumerate()
        .map(|(seq, entry)| {
            let seq = Seq::new(seq as u64).unwrap();
            let record = chain::Record { seq, prev, accepted: f.time.clone(), entry: entry.clone() };
            let bytes = record.canonical_bytes();
            prev = chain::leaf_hash_of(&bytes);
            Ok(bytes)
        })
        .collect()
}

/// `entry` with its signature number `index`, by `signer`, replaced by one the signer made
/// with a part of order `order` in `R` (see `signature::torsion`).
fn with_torsion(entry: &SignedEntry, signer: &str, index: usize, order: u8, nonce_seed: &[u8]) -> SignedEntry {
    let key = Fixture::key(signer);
    let mut signatures = entry.signatures().to_vec();
    assert_eq!(signatures[index].key, PublicKey::of(&key));
    let message = signing_message(entry.canonical_statement());
    signatures[index].sig = torsion::sign_with_torsion(&key, &message, nonce_seed, &torsion::point_of_order(order));
    SignedEntry::new(entry.statement().clone(), signatures)
}

#[test]
fn signatures_with_a_small_order_part_in_r_are_refused_exactly_as_verify_strict_refuses_them() {
    // A key's holder signs records honestly but adds a point of order 2, 4 or 8 to R:
    // verify_strict, the rule the ledger accepts by, refuses each such signature, and the
    // audit must report exactly those records, whatever else shares their chunk. Each seed
    // puts such signatures in other records, with other orders and nonces; a verdict that
    // held only for most choices (as a batch equation's does) would miss some of them.
    let f = Fixture::new();
    let honest = independent_entries(&f);
    let entries: Vec<SignedEntry> = honest.iter().map(|(entry, _)| entry.clone()).collect();
    let clean = audit(&f.genesis, chained(&f, &entries), &AuditOptions::default(), &mut |_| {});
    assert!(clean.is_clean(), "{:?}", clean.problems);
    let mut crafted = 0;
    for seed in 0u32..48 {
        let mut entries = entries.clone();
        let mut expected = Vec::new();
        for (seq, (entry, signers)) in honest.iter().enumerate().skip(1) {
            let choice = blake3::hash(&[seed.to_le_bytes(), (seq as u32).to_le_bytes()].concat());
            let choice = choice.as_bytes();
            if !choice[0].is_multiple_of(4) {
                continue;
            }
            let order = torsion::ORDERS[usize::from(choice[1]) % torsion::ORDERS.len()];
            let index = usize::from(choice[2]) % signers.len();
            entries[seq] = with_torsion(entry, signers[index], index, order, choice);
            let key = Fixture::key(signers[index]).verifying_key();
            let message = signing_message(entry.canonical_statement());
            assert!(key.verify_strict(&message, &entries[seq].signatures()[index].sig).is_err());
            expected.push((Some(seq as u64), "record.refused:signature.invalid".to_owned()));
        }
        crafted += expected.len();
        let report = audit(&f.genesis, chained(&f, &entries), &AuditOptions::default(), &mut |_| {});
        let found: Vec<_> = report.problems.into_iter().map(|p| (p.seq, p.code)).collect();
        assert_eq!(found, expected, "seed {seed}");
    }
    assert!(crafted > 100, "the seeds must craft many such signatures, not {crafted}");
}

#[test]
fn an_audit_longer_than_its_memory_reads_back_items_and_entries_from_its_temporary_store() {
    // Items registered in the first chunks move only chunks later, when the audit holds them
    // in its temporary store and no more in memory; an entry repeated chunks later is found.
    let f = Fixture::new();
    let items = 2 * CHUNK;
    let giai = |n: usize| format!("4750001SPILL-{n:04}");
    let mut entries = vec![f.genesis.clone()];
    entries.extend((0..items).map(|n| f.register("riga-deconstruction", &giai(n), "steel beam", 800.0)));
    entries.extend((0..items).map(|n| f.transfer("riga-deconstruction", &giai(n), "reuse-hub")));
    entries.extend((0..items).map(|n| f.receive("reuse-hub", &giai(n))));
    let clean = audit(&f.genesis, chained(&f, &entries), &AuditOptions::default(), &mut |_| {});
    assert!(clean.is_clean(), "{:?}", &clean.problems[..clean.problems.len().min(3)]);
    assert_eq!((clean.records, clean.items), (entries.len() as u64, items));

    // The same records judged in memory give the same state digest.
    let mut state = State::from_genesis(&f.genesis).unwrap();
    for (seq, entry) in entries.iter().enumerate().skip(1) {
        let context = Context { seq: Seq::new(seq as u64).unwrap(), accepted: f.time.clone() };
        let change = state.check(&VerifiedEntry::verify(entry.clone()).unwrap(), &context).unwrap();
        state.apply(change);
    }
    assert_eq!(clean.state, to_lower_hex(state.digest()));

    // A registration repeated at the end: its entry id was seen thousands of records before.
    let mut repeated = entries.clone();
    repeated.push(entries[1].clone());
    let report = audit(&f.genesis, chained(&f, &repeated), &AuditOptions::default(), &mut |_| {});
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].code, "record.duplicate_entry");
    assert_eq!(report.problems[0].seq, Some(repeated.len() as u64 - 1));
}

#[test]
fn an_older_ledger_audits_clean_and_reports_what_allocation_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let (f, ledger) = sample_ledger(dir.path());
    // Baltic Demolition is given the prefix its GIAIs use after the first 40 were registered
    // by Riga Deconstruction; its own later registration is inside it.
    let update = f.signed(
        &["regional-planning", "city-of-jelgava"],
        Kind::MemberUpdate,
        json!({"id": "baltic-demolition", "add_company_prefixes": ["4750001"]}),
    );
    let own = f.register("baltic-demolition", "4750001BEAM-1", "steel beam", 100.0);
    let squatted = f.register("riga-deconstruction", "4750001BEAM-2", "steel beam", 100.0);
    for outcome in ledger.submit(vec![update, own, squatted]).unwrap() {
        outcome.unwrap();
    }
    let report = audit(&f.genesis, stream(&ledger), &AuditOptions::default(), &mut |_| {});
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.giais_unallocated, 41);
    assert_eq!(report.unallocated.len(), 41);
    let last = report.unallocated.last().unwrap();
    assert_eq!((last.giai.as_str(), last.registrant.as_str(), last.seq), ("4750001BEAM-2", "riga-deconstruction", 123));
}

#[test]
fn a_ledger_that_allocates_reports_nothing_unallocated() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::allocating();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let entries = vec![
        f.register("baltic-demolition", "4750001BEAM-1", "steel beam", 100.0),
        f.register("riga-deconstruction", "4750001BEAM-2", "steel beam", 100.0),
    ];
    let outcomes = ledger.submit(entries).unwrap();
    assert!(outcomes[0].is_ok());
    assert_eq!(outcomes[1].as_ref().unwrap_err().code, RefusalCode::GiaiNotAllocated);
    let report = audit(&f.genesis, stream(&ledger), &AuditOptions::default(), &mut |_| {});
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!((report.giais_unallocated, report.items), (0, 1));
}
