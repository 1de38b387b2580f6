//! A node's memory follows its working set, not its history: with the smallest state cache,
//! ingesting many times more items than the cache holds, the resident memory levels off once
//! the cache is full (the custody state, entry ids, histories and Merkle tree are on disk).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_ledger::entry::SignedEntry;
use salvage_tests::node::{Running, Site};

const OPERATOR: &str = "city-of-jelgava";

/// The node's state cache: the smallest allowed, 8 MiB of index pages and 8192 items.
const STATE_CACHE: &str = "16 MiB";

/// Records per phase; the resident memory is read after each.
const PHASE: usize = 12_000;

/// Phases: the first three fill the caches (36,000 items, four times what the item cache holds;
/// the index's pages and the member views' and attachments' stores fill more slowly), the other
/// two must not grow the node.
const PHASES: usize = 5;

/// The phase (from 0) after which the caches are full. Measured on 2026-12-06 (debug builds, the
/// code of that day and of the day before alike): after the second phase the node still grew by
/// up to 18 MiB in some runs and not at all in others, then levelled off; from the third phase on
/// it grew by 0 to 12 MiB over the last two phases.
const FILLED: usize = 2;

/// Entries per submission.
const BATCH: usize = 1000;

/// How much the resident memory may grow from the end of phase [`FILLED`] to any later one,
/// while the ledger grows by two more phases of records (each phase holds half again as many
/// items as the cache).
///
/// Measured with debug builds: a node that kept its state in memory grew by about 1 KiB per
/// record (the 24,000 records of the last two phases: about 23 MiB); this one grows by 0 to 12 MiB
/// over them (e.g. 87, 97, 107, 115, 119 and 94, 114, 114, 114, 113 MiB after the phases). The
/// bound leaves room for allocator noise, and no more.
const BOUND: u64 = 14 << 20;

#[test]
fn a_nodes_memory_levels_off_while_its_ledger_grows() {
    let site = Site::new(&[OPERATOR]);
    let mut command = site.node(OPERATOR);
    command.args(["--state-cache", STATE_CACHE]);
    let node = Running::start(command);
    let f = &site.fixture;
    let mut resident = Vec::new();
    let mut item = 0;
    for _ in 0..PHASES {
        for _ in 0..PHASE / BATCH {
            let entries: Vec<SignedEntry> = (item..item + BATCH)
                .map(|n| f.register("baltic-demolition", &format!("4750001MEM-{n:06}"), "clay bricks", 900.0))
                .collect();
            item += BATCH;
            let answer = node.submit(&entries);
            assert_eq!(answer.status, 201, "{}", &answer.text()[..answer.text().len().min(500)]);
        }
        resident.push(node.resident_memory());
    }
    let mib: Vec<u64> = resident.iter().map(|bytes| bytes >> 20).collect();
    eprintln!("resident memory after each phase of {PHASE} records (MiB): {mib:?}");
    let highest = resident[FILLED + 1..].iter().max().copied().unwrap_or_default();
    let grown = highest.saturating_sub(resident[FILLED]);
    assert!(
        grown < BOUND,
        "the node grew by {} MiB while its ledger grew by {} records: {mib:?} MiB",
        grown >> 20,
        (PHASES - FILLED - 1) * PHASE
    );
    // The items are all there, read back from disk.
    assert_eq!(node.get("/v1/items/4750001MEM-000007").status, 200);
    assert_eq!(node.get(&format!("/v1/items/4750001MEM-{:06}", item - 1)).status, 200);
}
