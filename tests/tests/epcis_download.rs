//! `GET /v1/epcis` without `giai` answers the whole ledger's EPCIS document,
//! which grows with the ledger. The real `salvage node` streams it: what a
//! download costs the node's memory stays far below the document's size.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_ledger::entry::SignedEntry;
use salvage_tests::node::{Running, Site};
use serde_json::Value;

const OPERATOR: &str = "city-of-jelgava";

/// Items in the ledger; each makes three events (registered, shipped, received).
const ITEMS: usize = 3000;

/// Entries per submission.
const BATCH: usize = 500;

/// The most a download may raise the node's peak resident memory.
///
/// Measured with debug builds on this ledger (9000 events, a document of
/// 7.4 MiB): building the whole document in memory and then its bytes, as the
/// node did before it streamed, raised the peak by 109 to 113 MiB; streaming
/// it raises the peak by 1 to 2.5 MiB. With twice the items the old way took
/// 223 MiB and streaming 1.5 MiB: what streaming costs does not grow with the
/// ledger, so the bound leaves room for allocator noise and no more.
const BOUND: u64 = 16 << 20;

#[test]
fn the_whole_ledgers_document_is_streamed_in_memory_far_below_its_size() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;
    let giais: Vec<String> = (0..ITEMS).map(|n| format!("4750001BULK-{n:05}")).collect();
    let stages: [&dyn Fn(&str) -> SignedEntry; 3] = [
        &|giai| f.register("baltic-demolition", giai, "HEA 160 steel beam", 182.4),
        &|giai| f.transfer("baltic-demolition", giai, "reuse-hub"),
        &|giai| f.receive("reuse-hub", giai),
    ];
    for stage in stages {
        for batch in giais.chunks(BATCH) {
            let entries: Vec<SignedEntry> = batch.iter().map(|giai| stage(giai)).collect();
            let answer = node.submit(&entries);
            assert_eq!(answer.status, 201, "{}", &answer.text()[..answer.text().len().min(500)]);
        }
    }

    node.reset_peak_memory();
    let before = node.peak_memory();
    let answer = node.get("/v1/epcis");
    let grown = node.peak_memory().saturating_sub(before);

    assert_eq!(answer.status, 200, "{}", &answer.text()[..answer.text().len().min(500)]);
    eprintln!("a document of {} bytes raised the node's peak memory by {} KiB", answer.body.len(), grown >> 10);
    assert!(
        grown < BOUND,
        "downloading a document of {} MiB raised the node's peak memory by {} MiB",
        answer.body.len() >> 20,
        grown >> 20
    );
    assert_eq!(answer.header("content-type"), Some("application/ld+json"));
    assert_eq!(answer.header("content-length"), None, "streamed, not sized in advance");
    let document: Value = answer.json();
    assert_eq!(document["type"], "EPCISDocument");
    let events = document["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events.len(), 3 * ITEMS);
    let steps: Vec<&str> = events.iter().map(|event| event["bizStep"].as_str().unwrap()).collect();
    assert_eq!(steps[..ITEMS], ["commissioning"; ITEMS]);
    assert_eq!(steps[2 * ITEMS..], ["receiving"; ITEMS]);
    let (exit, log) = node.terminate();
    assert!(exit.success(), "{log}");
}
