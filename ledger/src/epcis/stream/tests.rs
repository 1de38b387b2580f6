//! A whole ledger's document written a chunk at a time is, byte for byte, the
//! compact JSON of the document made in one piece, however small the chunks
//! and however few items the export remembers.

use serde_json::{Value, json};

use super::{LedgerExport, REMEMBERED_ITEMS};
use crate::entry::{Kind, SignedEntry, Timestamp};
use crate::epcis::export;
use crate::store::Ledger;
use crate::testkit::{Fixture, passport};

const BASE: &str = "https://salvage.example.lv";

struct World {
    ledger: Ledger,
    _dir: tempfile::TempDir,
}

/// A ledger of `count` items whose lives run side by side, a round of records
/// at a time, so that an item's records lie far apart: every item is
/// registered, shipped and received, amended twice or attested; then a third
/// of them are shipped and the shipment cancelled, a third split into two
/// parts (one part shipped and received again), and a third shipped,
/// installed, dismantled and recycled.
fn world(count: usize) -> World {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let giais: Vec<String> = (0..count).map(|i| format!("4750001ITEM-{i:04}")).collect();
    // A second receipt of an item says what the first said: it is stated later.
    let later = Fixture { time: Timestamp::parse("2026-11-23T10:00:00Z").unwrap(), ..f.clone() };
    let signed = |who: &str, kind: Kind, body: Value| later.signed(&[who], kind, body);
    let mut rounds: Vec<Vec<SignedEntry>> = vec![Vec::new(); 8];
    for (i, giai) in giais.iter().enumerate() {
        rounds[0].push(f.register("baltic-demolition", giai, "HEA 160 steel beam", 182.4));
        rounds[1].push(f.transfer("baltic-demolition", giai, "reuse-hub"));
        rounds[2].push(f.receive("reuse-hub", giai));
        if i % 2 == 0 {
            for (round, name) in [(3, "HEA 160 beam, blasted"), (4, "HEA 160 beam, painted")] {
                rounds[round].push(signed(
                    "reuse-hub",
                    Kind::ItemAmend,
                    json!({"giai": giai, "passport": passport(giai, name, 180.0), "reason": name}),
                ));
            }
        } else {
            rounds[3].push(signed(
                "baltic-cert",
                Kind::ItemAttest,
                json!({"giai": giai, "passport_version": 1,
                "attestation": {"type": "inspection", "result": "pass", "summary": "Visual inspection"}}),
            ));
        }
        match i % 3 {
            0 => {
                rounds[5].push(later.transfer("reuse-hub", giai, "timber-builders"));
                rounds[6].push(signed("reuse-hub", Kind::ItemCancel, json!({"giai": giai, "reason": "Buyer found"})));
            }
            1 => {
                let (a, b) = (format!("{giai}A"), format!("{giai}B"));
                rounds[5].push(signed(
                    "reuse-hub",
                    Kind::ItemSplit,
                    json!({"giai": giai, "parts": [
                        {"giai": a, "passport": passport(&a, "HEA 160, 4 m", 120.0)},
                        {"giai": b, "passport": passport(&b, "HEA 160, 2 m", 60.0)},
                    ]}),
                ));
                rounds[6].push(later.transfer("reuse-hub", &a, "timber-builders"));
                rounds[7].push(later.receive("timber-builders", &a));
            }
            _ => {
                rounds[4].push(later.transfer("reuse-hub", giai, "timber-builders"));
                rounds[5].push(later.receive("timber-builders", giai));
                rounds[6].push(signed(
                    "timber-builders",
                    Kind::ItemInstall,
                    json!({"giai": giai, "site": {"building": "Jelgava library", "address": "Akadēmijas iela 1"}}),
                ));
                rounds[7].push(signed("timber-builders", Kind::ItemDismantle, json!({"giai": giai})));
                rounds.push(vec![signed(
                    "timber-builders",
                    Kind::ItemDispose,
                    json!({"giai": giai, "route": "recycling"}),
                )]);
            }
        }
    }
    for (index, outcome) in ledger.submit(rounds.concat()).unwrap().iter().enumerate() {
        assert!(outcome.is_ok(), "entry {index} refused: {outcome:?}");
    }
    World { ledger, _dir: dir }
}

fn created() -> Timestamp {
    Timestamp::parse("2026-11-24T08:00:00Z").unwrap()
}

/// The document written by an export remembering `remembered` items per
/// generation, `records` records or `bytes` bytes a call; checks on the way
/// that the export never remembers more than two generations.
fn streamed(ledger: &Ledger, remembered: usize, records: u64, bytes: usize) -> (Vec<u8>, u64) {
    let mut export = LedgerExport::remembering(ledger, BASE, &created(), remembered).unwrap();
    let mut document = Vec::new();
    loop {
        let mut chunk = Vec::new();
        let more = export.write(ledger, &mut chunk, records, bytes).unwrap();
        assert!(export.remembered() <= 2 * remembered, "{} items remembered", export.remembered());
        document.extend_from_slice(&chunk);
        if !more {
            break;
        }
    }
    assert!(!export.write(ledger, &mut document, records, bytes).unwrap(), "a finished export writes nothing");
    (document, export.events())
}

#[test]
fn the_streamed_document_is_the_whole_document_byte_for_byte() {
    let world = world(12);
    let whole = export(&world.ledger, &[], BASE, &created()).unwrap();
    let reference = serde_json::to_vec(&whole).unwrap();
    let events = whole["epcisBody"]["eventList"].as_array().unwrap().len() as u64;
    assert_eq!(events, world.ledger.size() - 1, "every record but the genesis is an item record");
    // Remembering one or two items makes nearly every record rebuild its item
    // from the ledger: every kind of record meets a forgotten item.
    for (remembered, records, bytes) in [
        (REMEMBERED_ITEMS, u64::MAX, usize::MAX),
        (REMEMBERED_ITEMS, 1, usize::MAX),
        (2, 7, usize::MAX),
        (1, u64::MAX, 1),
        (2, 1000, 4096),
    ] {
        let (document, written) = streamed(&world.ledger, remembered, records, bytes);
        assert_eq!(written, events, "{remembered} items, {records} records, {bytes} bytes");
        assert!(
            document == reference,
            "{remembered} items, {records} records, {bytes} bytes:\n{}\nis not\n{}",
            String::from_utf8_lossy(&document),
            String::from_utf8_lossy(&reference)
        );
    }
}

#[test]
fn a_ledger_of_only_its_genesis_streams_an_empty_document() {
    let world = world(0);
    let reference = serde_json::to_vec(&export(&world.ledger, &[], BASE, &created()).unwrap()).unwrap();
    let (document, events) = streamed(&world.ledger, REMEMBERED_ITEMS, 1, 1);
    assert_eq!((String::from_utf8(document).unwrap(), events), (String::from_utf8(reference).unwrap(), 0));
}
