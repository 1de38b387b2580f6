//! Scenarios of a three-node consortium that are timings, not throughput:
//!
//! - `failover`: the leader is killed with SIGKILL while a client submits
//!   single entries to another node; measured is the time from the kill to the
//!   first entry acknowledged after it. The killed node is restarted and the
//!   nodes converge before the next round.
//! - `catchup`: a follower is stopped with SIGSTOP while the others commit a
//!   number of records (in arrays of 500), then resumed; measured is the time
//!   from the resume until it holds every record, and the rate.

use std::time::{Duration, Instant};

use salvage_ledger::entry::SignedEntry;
use salvage_ledger::testkit::Fixture;
use salvage_tests::cluster::Cluster;
use salvage_tests::http::try_request;
use serde_json::json;

use crate::LoadError;

/// The contractor that registers the items.
const CONTRACTOR: &str = "baltic-demolition";

/// Entries per submission while building a backlog.
const BACKLOG_BATCH: usize = 500;

/// `failover`: `rounds` leader kills; prints each time to the first new commit.
pub fn failover(rounds: usize, json_output: bool) -> Result<(), LoadError> {
    let mut cluster = start()?;
    let fixture = Fixture::new();
    let mut times = Vec::with_capacity(rounds);
    let mut number = 0;
    for round in 0..rounds {
        let leader = cluster.wait_for_leader(Duration::from_secs(30));
        let target = (leader + 1) % 3;
        let address = cluster.node(target).address.clone();
        // The target answers before the kill: the path is warm.
        submit(&address, &register(&fixture, &mut number)).map_err(|refused| {
            LoadError::Setup(format!("round {round}: the node refused before the kill: {refused}"))
        })?;
        let (_, _) = cluster.take(leader).stop_with("KILL");
        let killed = Instant::now();
        loop {
            if submit(&address, &register(&fixture, &mut number)).is_ok() {
                break;
            }
            if killed.elapsed() > Duration::from_secs(30) {
                return Err(LoadError::Setup(format!("round {round}: no commit within 30 s of the leader's kill")));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let took = killed.elapsed();
        eprintln!("round {}: first commit {:.0} ms after the leader's kill", round + 1, took.as_secs_f64() * 1000.0);
        times.push(took);
        cluster.start_node(leader);
        let size = cluster.status(target).map_or(0, |status| status.size);
        cluster.wait_converged(size, Duration::from_secs(60));
    }
    let millis: Vec<f64> = times.iter().map(|time| (time.as_secs_f64() * 1000.0).round()).collect();
    let worst = millis.iter().copied().fold(0.0, f64::max);
    let mean = millis.iter().sum::<f64>() / millis.len().max(1) as f64;
    if json_output {
        println!(
            "{}",
            json!({"scenario": "failover", "rounds": rounds, "first_commit_ms": millis, "mean_ms": mean.round(), "max_ms": worst})
        );
    } else {
        println!(
            "failover: {rounds} leader kills; first commit after the kill: mean {mean:.0} ms, max {worst:.0} ms ({millis:?})"
        );
    }
    Ok(())
}

/// `catchup`: a follower misses `records` records, then catches up.
pub fn catchup(records: usize, json_output: bool) -> Result<(), LoadError> {
    let cluster = start()?;
    let fixture = Fixture::new();
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let stopped = (leader + 1) % 3;
    let signal = |name: &str| cluster.node(stopped).try_signal(name).map_err(LoadError::Setup);
    signal("STOP")?;
    let started = Instant::now();
    let address = cluster.node(leader).address.clone();
    let key = Fixture::key(CONTRACTOR);
    let mut sent = 0;
    while sent < records {
        let count = BACKLOG_BATCH.min(records - sent);
        let entries: Vec<SignedEntry> = (sent..sent + count)
            .map(|n| {
                let giai = format!("4750001CATCH-{n:07}");
                let statement = fixture.statement(
                    salvage_ledger::entry::Kind::ItemRegister,
                    json!({"giai": giai, "passport": salvage_ledger::testkit::passport(&giai, "brick pallet", 800.0)}),
                );
                SignedEntry::sign(statement, &[&key]).map_err(|refusal| LoadError::Setup(refusal.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let body = SignedEntry::canonical_array(&entries);
        let answer = try_request(&address, "POST", "/v1/entries", &[("Content-Type", "application/json")], &body)
            .map_err(|error| LoadError::Connection(error.to_string()))?;
        if answer.status != 201 {
            signal("CONT")?;
            return Err(LoadError::Seeding(answer.text()));
        }
        sent += count;
    }
    let behind = cluster.status(leader).map_or(0, |status| status.size);
    eprintln!(
        "committed {records} records on two nodes in {:.1} s; the third is {behind} records behind",
        started.elapsed().as_secs_f64()
    );
    signal("CONT")?;
    let resumed = Instant::now();
    loop {
        if cluster.status(stopped).is_some_and(|status| status.size >= behind) {
            break;
        }
        if resumed.elapsed() > Duration::from_secs(600) {
            return Err(LoadError::Setup("the resumed node did not catch up within 10 minutes".to_owned()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = resumed.elapsed().as_secs_f64();
    let log = std::fs::read_to_string(cluster.log_path(stopped)).unwrap_or_default();
    let by_snapshot = log.contains("installed a snapshot");
    let rate = records as f64 / took;
    if json_output {
        println!(
            "{}",
            json!({"scenario": "catchup", "records": records, "seconds": (took * 100.0).round() / 100.0, "records_per_s": rate.round(), "snapshot": by_snapshot})
        );
    } else {
        println!(
            "catchup: {records} records caught up in {took:.2} s = {rate:.0} records/s ({})",
            if by_snapshot { "from a snapshot, every record verified" } else { "from the leader's log" }
        );
    }
    Ok(())
}

fn start() -> Result<Cluster, LoadError> {
    if !salvage_tests::salvage_binary().is_file() {
        return Err(LoadError::Setup("build the node first: `cargo build --release -p salvage-cli`".to_owned()));
    }
    Ok(Cluster::start())
}

/// A new item's registration.
fn register(fixture: &Fixture, number: &mut usize) -> SignedEntry {
    *number += 1;
    fixture.register(CONTRACTOR, &format!("4750001FAIL-{number:07}"), "steel beam", 250.0)
}

/// Submits one entry; `Err` unless it was acknowledged (201).
fn submit(address: &str, entry: &SignedEntry) -> Result<(), String> {
    let body = entry.canonical_bytes();
    let answer = try_request(address, "POST", "/v1/entries", &[("Content-Type", "application/json")], &body)
        .map_err(|error| error.to_string())?;
    if answer.status == 201 { Ok(()) } else { Err(answer.text()) }
}
