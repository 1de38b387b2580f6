//! The real `salvage node` under concurrent load: many members submitting at
//! once get one consistent ledger; a node killed with SIGKILL mid-load and
//! restarted still holds every entry it acknowledged, with proofs that verify;
//! a SIGTERM during a commit lets that commit finish and answer.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use salvage_ledger::entry::SignedEntry;
use salvage_tests::auditor::{assert_receipt_proven, audit_download, signed_checkpoint};
use salvage_tests::http;
use salvage_tests::node::{Running, Site};
use serde_json::Value;

const OPERATOR: &str = "city-of-jelgava";

fn giai(client: usize, n: usize) -> String {
    format!("4750001LOAD-{client:02}-{n:05}")
}

#[test]
fn concurrent_submitters_get_one_gapless_order_and_every_receipt_is_proven() {
    const CLIENTS: usize = 16;
    const ITEMS: usize = 20;
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;

    // Each client registers its items, offers each to the hub, and the hub
    // accepts it: one entry per request, every client at once.
    let receipts: Vec<Vec<(String, Value)>> = thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let node = &node;
                scope.spawn(move || {
                    let mut receipts = Vec::new();
                    for n in 0..ITEMS {
                        let giai = giai(client, n);
                        for entry in [
                            f.register("baltic-demolition", &giai, "clay bricks, pallet of 400", 900.0),
                            f.transfer("baltic-demolition", &giai, "reuse-hub"),
                            f.receive("reuse-hub", &giai),
                        ] {
                            let answer = node.submit_one(&entry);
                            assert_eq!(answer.status, 201, "client {client}, {giai}: {}", answer.text());
                            receipts.push((giai.clone(), answer.json()));
                        }
                    }
                    receipts
                })
            })
            .collect();
        clients.into_iter().map(|client| client.join().unwrap()).collect()
    });

    // Every acknowledged entry has its own position; together they fill the
    // ledger without a gap, and each item's steps are in the order sent.
    let total = CLIENTS * ITEMS * 3;
    let seqs: BTreeSet<u64> = receipts.iter().flatten().map(|(_, receipt)| receipt["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs.len(), total, "two receipts share a position");
    assert_eq!(seqs.iter().copied().collect::<Vec<_>>(), (1..=total as u64).collect::<Vec<_>>());
    for client in &receipts {
        for steps in client.chunks(3) {
            let order: Vec<u64> = steps.iter().map(|(_, receipt)| receipt["seq"].as_u64().unwrap()).collect();
            assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{}: steps out of order {order:?}", steps[0].0);
        }
    }
    let checkpoint = signed_checkpoint(&node, OPERATOR);
    assert_eq!(checkpoint.checkpoint.size(), total as u64 + 1);
    for (giai, receipt) in receipts.iter().flatten().step_by(7) {
        assert_receipt_proven(&node, receipt, &checkpoint);
        assert_eq!(node.get_json(&format!("/v1/items/{giai}"))["item"]["custodian"], "reuse-hub");
    }
    let report = audit_download(&node, OPERATOR, f);
    assert_eq!(report.items, CLIENTS * ITEMS);
    node.terminate();
}

/// What the submitters of one round were told: each entry with its receipt.
type Acknowledged = Arc<Mutex<Vec<(SignedEntry, Value)>>>;

/// Submits fresh registrations from `clients` threads, one or a few at a time,
/// until `stop` is set or the node stops answering; records every 201.
fn submit_until_killed(
    address: &str,
    site: &Site,
    round: usize,
    clients: usize,
    stop: &AtomicBool,
    acknowledged: &Acknowledged,
) {
    thread::scope(|scope| {
        for client in 0..clients {
            scope.spawn(move || {
                let f = &site.fixture;
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    // Single entries and small batches, as members send them.
                    let batch: Vec<SignedEntry> = (0..1 + n % 4)
                        .map(|k| {
                            f.register(
                                "riga-deconstruction",
                                &format!("4750001KILL-{round}-{client:02}-{n:05}-{k}"),
                                "door",
                                30.0,
                            )
                        })
                        .collect();
                    let body =
                        serde_json::to_vec(&batch.iter().map(SignedEntry::to_value).collect::<Vec<_>>()).unwrap();
                    let headers = [("Content-Type", "application/json")];
                    let Ok(answer) = http::try_request(address, "POST", "/v1/entries", &headers, &body) else {
                        return; // The node is gone: whatever was not answered was not acknowledged.
                    };
                    if answer.status != 201 {
                        // A half-written answer from a dying node is no acknowledgement either.
                        assert!(
                            answer.status == 0 || answer.body.is_empty() || answer.status >= 500,
                            "{}",
                            answer.text()
                        );
                        return;
                    }
                    let Ok(receipts) = serde_json::from_slice::<Vec<Value>>(&answer.body) else { return };
                    let mut acknowledged = acknowledged.lock().unwrap();
                    acknowledged.extend(batch.into_iter().zip(receipts));
                }
            });
        }
    });
}

#[test]
fn a_node_killed_under_load_keeps_every_acknowledged_entry_and_its_proofs() {
    const ROUNDS: usize = 3;
    const CLIENTS: usize = 8;
    let site = Site::new(&[OPERATOR]);
    let acknowledged: Acknowledged = Arc::default();
    for round in 0..ROUNDS {
        let node = Running::start(site.node(OPERATOR));
        let before = acknowledged.lock().unwrap().len();
        let stop = AtomicBool::new(false);
        let address = node.address.clone();
        thread::scope(|scope| {
            scope.spawn(|| submit_until_killed(&address, &site, round, CLIENTS, &stop, &acknowledged));
            // Kill once the node is busy: some entries acknowledged, more in flight.
            let started = Instant::now();
            while acknowledged.lock().unwrap().len() < before + 200 && started.elapsed() < Duration::from_secs(60) {
                thread::sleep(Duration::from_millis(5));
            }
            thread::sleep(Duration::from_millis(20 + 37 * round as u64));
            let pid = node.pid();
            let (exit, _) = node.stop_with("KILL");
            assert_eq!(std::os::unix::process::ExitStatusExt::signal(&exit), Some(9), "node {pid} died of the SIGKILL");
            stop.store(true, Ordering::Relaxed);
        });
        assert!(
            acknowledged.lock().unwrap().len() >= before + 200,
            "round {round}: the node acknowledged too little to test"
        );

        // Restarted on the same directory, it holds every acknowledged entry.
        let node = Running::start(site.node(OPERATOR));
        let acknowledged = acknowledged.lock().unwrap().clone();
        let checkpoint = signed_checkpoint(&node, OPERATOR);
        assert!(
            checkpoint.checkpoint.size() > acknowledged.len() as u64,
            "round {round}: the ledger is shorter than what was acknowledged"
        );
        for (_, receipt) in &acknowledged {
            assert_receipt_proven(&node, receipt, &checkpoint);
        }
        // Sent again, an acknowledged entry gets its original receipt.
        for (entry, receipt) in acknowledged.iter().step_by(97) {
            let again = node.submit_one(entry);
            assert_eq!(again.status, 201, "{}", again.text());
            assert_eq!(&again.json(), receipt, "round {round}: a re-submission after the crash got another receipt");
        }
        audit_download(&node, OPERATOR, &site.fixture);
        let (exit, log) = node.terminate();
        assert!(exit.success(), "{log}");
    }
}

#[test]
fn sigterm_during_a_commit_lets_it_finish_and_answer() {
    // Six requests of a thousand entries each, the most one may carry.
    const REQUESTS: usize = 6;
    const PER_REQUEST: usize = 1000;
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;
    let bodies: Vec<Vec<u8>> = (0..REQUESTS)
        .map(|request| {
            let batch: Vec<Value> = (0..PER_REQUEST)
                .map(|n| f.register("baltic-demolition", &giai(99, request * PER_REQUEST + n), "glulam beam", 423.0))
                .map(|entry| entry.to_value())
                .collect();
            serde_json::to_vec(&batch).unwrap()
        })
        .collect();

    let address = node.address.clone();
    let (answers, signalled_at, exit) = thread::scope(|scope| {
        let clients: Vec<_> = bodies
            .iter()
            .map(|body| {
                let address = &address;
                scope.spawn(move || {
                    let answer =
                        http::request(address, "POST", "/v1/entries", &[("Content-Type", "application/json")], body);
                    (answer, Instant::now())
                })
            })
            .collect();
        // The bodies are written within milliseconds; then the node parses
        // and verifies six thousand signatures, which takes far longer.
        thread::sleep(Duration::from_millis(250));
        let signalled_at = Instant::now();
        let (exit, log) = node.stop_with("TERM");
        let answers: Vec<_> = clients.into_iter().map(|client| client.join().unwrap()).collect();
        assert!(exit.success(), "{log}");
        (answers, signalled_at, exit)
    });
    assert!(exit.success());
    let mut receipts = Vec::new();
    for (answer, _) in &answers {
        assert_eq!(answer.status, 201, "the commit in flight was finished: {}", answer.text());
        let list: Vec<Value> = serde_json::from_slice(&answer.body).unwrap();
        receipts.extend(list);
    }
    assert!(
        answers.iter().any(|(_, answered_at)| *answered_at > signalled_at),
        "an answer came after the SIGTERM, so a commit was in flight when it arrived"
    );
    assert_eq!(receipts.len(), REQUESTS * PER_REQUEST);

    let node = Running::start(site.node(OPERATOR));
    let checkpoint = signed_checkpoint(&node, OPERATOR);
    assert_eq!(
        checkpoint.checkpoint.size(),
        (REQUESTS * PER_REQUEST) as u64 + 1,
        "every entry of the finished commits is in the ledger"
    );
    for receipt in receipts.iter().step_by(501) {
        assert_receipt_proven(&node, receipt, &checkpoint);
    }
    node.terminate();
}
