//! Following a real ledger into the holdings: items as they stand now, their signers by any
//! key they ever had, reservations of many GIAIs, and another ledger found under the store.

use salvage_ledger::entry::{Kind, PublicKey, SignedEntry};
use salvage_ledger::testkit::{BALTIC_PREFIX, Fixture, passport};
use serde_json::json;

use super::*;

const BEAM: &str = "4750001BEAM-0001";
const DOOR: &str = "4750001DOOR-0001";

fn submit(ledger: &Ledger, entries: Vec<SignedEntry>) {
    let outcomes = ledger.submit(entries).unwrap();
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
}

fn giais(rows: &[(String, String)]) -> Vec<&str> {
    rows.iter().map(|(giai, _)| giai.as_str()).collect()
}

#[test]
fn the_holdings_follow_items_as_they_stand_now_and_their_signers_by_any_key() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(&dir.path().join("ledger"), f.genesis.clone()).unwrap();
    let holdings = Holdings::open(&dir.path().join("holdings.redb")).unwrap();
    submit(
        &ledger,
        vec![
            f.register("baltic-demolition", BEAM, "beam", 100.0),
            f.register("baltic-demolition", DOOR, "door", 40.0),
            f.transfer("baltic-demolition", BEAM, "reuse-hub"),
        ],
    );
    assert_eq!(holdings.follow(&ledger).unwrap(), 4);
    assert_eq!(holdings.followed_size(), 4);
    let store = holdings.store();
    assert_eq!(giais(&store.held("baltic-demolition", None, 10).unwrap().rows), vec![BEAM, DOOR]);
    assert_eq!(store.offered("reuse-hub", None, 10).unwrap().rows, vec![(BEAM.to_owned(), 3)]);

    // Baltic rotates its key, then splits the door with the new one; the hub receives the beam.
    let old = PublicKey::of(&Fixture::key("baltic-demolition")).to_hex();
    let new = PublicKey::of(&Fixture::key("baltic-rotated")).to_hex();
    let (part, other_part) = ("4750001DOOR-0001A", "4750001DOOR-0001B");
    let parts = json!([
        {"giai": part, "passport": passport(part, "door leaf", 20.0)},
        {"giai": other_part, "passport": passport(other_part, "door frame", 15.0)},
    ]);
    submit(
        &ledger,
        vec![
            f.signed(
                &["baltic-demolition"],
                Kind::MemberUpdate,
                json!({"id": "baltic-demolition", "add_keys": [new], "revoke_keys": [old]}),
            ),
            f.signed(&["baltic-rotated"], Kind::ItemSplit, json!({"giai": DOOR, "parts": parts})),
            f.receive("reuse-hub", BEAM),
        ],
    );
    // A read catches up on its own when a few records are new.
    assert!(holdings.catch_up(&ledger).unwrap());
    assert_eq!(holdings.followed_size(), 7);
    assert_eq!(giais(&store.held("baltic-demolition", None, 10).unwrap().rows), vec![part, other_part]);
    assert_eq!(giais(&store.held("reuse-hub", None, 10).unwrap().rows), vec![BEAM]);
    assert!(store.offered("reuse-hub", None, 10).unwrap().rows.is_empty());
    // Every record baltic signed, by its revoked key and its new one, newest first.
    let signed = store.signed("baltic-demolition", None, 10).unwrap().rows;
    let kinds: Vec<(u64, &str, &str)> =
        signed.iter().map(|record| (record.seq, record.kind.as_str(), record.giai.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (5, "item.split", DOOR),
            (4, "member.update", ""),
            (3, "item.transfer", BEAM),
            (2, "item.register", DOOR),
            (1, "item.register", BEAM),
        ]
    );
    let genesis = store.signed("regional-planning", None, 10).unwrap().rows;
    assert_eq!(
        genesis.iter().map(|record| (record.seq, record.kind.as_str())).collect::<Vec<_>>(),
        [(0, "ledger.genesis")]
    );
}

#[test]
fn reservations_of_many_giais_are_written_a_part_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::allocating();
    let ledger = Ledger::create(&dir.path().join("ledger"), f.genesis.clone()).unwrap();
    let reserve = |first: u64| {
        f.signed(
            &["baltic-demolition"],
            Kind::GiaiReserve,
            json!({"prefix": BALTIC_PREFIX, "first": first, "count": 1000}),
        )
    };
    // 5000 GIAIs in five records: more than one write takes.
    submit(&ledger, (0..5).map(|n| reserve(1 + n * 1000)).collect());
    let holdings = Holdings::open(&dir.path().join("holdings.redb")).unwrap();
    assert_eq!(holdings.follow(&ledger).unwrap(), 6);
    let store = holdings.store();
    let mut after: Option<String> = None;
    let mut held = 0;
    loop {
        let page = store.held("baltic-demolition", after.as_deref(), 100).unwrap();
        let (rows, more) = (page.rows, page.more);
        assert!(rows.iter().all(|(_, status)| status == "reserved"));
        held += rows.len();
        after = rows.last().map(|(giai, _)| giai.clone());
        if !more {
            break;
        }
    }
    assert_eq!(held, 5000);
    // Registering a reserved GIAI keeps it in the holder's list, now available.
    let giai = format!("{BALTIC_PREFIX}1");
    submit(&ledger, vec![f.register("baltic-demolition", &giai, "beam", 10.0)]);
    holdings.follow(&ledger).unwrap();
    let rows = store.held("baltic-demolition", None, 1).unwrap().rows;
    assert_eq!(rows, vec![(giai, "available".to_owned())]);
}

#[test]
fn another_ledger_under_the_store_is_read_again_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holdings.redb");
    let f = Fixture::new();
    {
        let ledger = Ledger::create(&dir.path().join("a"), f.genesis.clone()).unwrap();
        submit(
            &ledger,
            vec![
                f.register("baltic-demolition", BEAM, "beam", 100.0),
                f.register("baltic-demolition", DOOR, "door", 40.0),
            ],
        );
        Holdings::open(&path).unwrap().follow(&ledger).unwrap();
    }
    // Reopened, the store remembers how far it got.
    assert_eq!(Holdings::open(&path).unwrap().followed_size(), 3);
    // Under it now, a ledger whose record 2 is another one (as after a snapshot): read again.
    let ledger = Ledger::create(&dir.path().join("b"), f.genesis.clone()).unwrap();
    submit(
        &ledger,
        vec![
            f.register("riga-deconstruction", "4750002BEAM-0001", "beam", 10.0),
            f.register("riga-deconstruction", "4750002BEAM-0002", "beam", 10.0),
            f.register("riga-deconstruction", "4750002BEAM-0003", "beam", 10.0),
        ],
    );
    let holdings = Holdings::open(&path).unwrap();
    assert_eq!(holdings.follow(&ledger).unwrap(), 4);
    assert!(holdings.store().held("baltic-demolition", None, 10).unwrap().rows.is_empty());
    assert_eq!(holdings.store().held("riga-deconstruction", None, 10).unwrap().rows.len(), 3);
    assert!(holdings.store().signed("baltic-demolition", None, 10).unwrap().rows.is_empty());
}

#[test]
fn a_damaged_store_is_started_again_instead_of_keeping_the_node_down() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holdings.redb");
    std::fs::write(&path, b"not a redb file at all, as a torn copy or another version leaves it").unwrap();
    let holdings = Holdings::open(&path).unwrap();
    assert_eq!(holdings.followed_size(), 0);
    // A store in use is never taken for a damaged one.
    assert!(matches!(Holdings::open(&path), Err(HoldingsError::InUse { .. })));
    drop(holdings);
    assert_eq!(Holdings::open(&path).unwrap().followed_size(), 0);
}
