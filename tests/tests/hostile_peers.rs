//! A consortium under attack from one machine: junk submissions, forged and
//! replayed Raft traffic. Three real nodes; nothing unverified reaches Raft's
//! log, and the nodes keep their leader and their ledger.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::Path;
use std::time::Duration;

use salvage_ledger::entry::SignedEntry;
use salvage_tests::cluster::Cluster;

fn giai(n: usize) -> String {
    format!("4750001JUNK-{n:04}")
}

/// The bytes held under `dir`, recursively.
fn bytes_under(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => bytes_under(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn junk_submissions_are_refused_before_raft_and_honest_ones_go_through() {
    let cluster = Cluster::start();
    let f = cluster.site.fixture.clone();
    cluster.wait_for_leader(Duration::from_secs(20));
    let raft_before: Vec<u64> = (0..3).map(|index| bytes_under(&cluster.data_dir(index).join("raft/log"))).collect();

    // Entries as their signers would send them (canonical JSON), a passport
    // name making each about 4 kB, every signature broken: 4 MB a request.
    let name = "n".repeat(3150);
    let junk: Vec<u8> = {
        let entries: Vec<String> = (0..1000)
            .map(|n| {
                let mut bytes = f.register("baltic-demolition", &giai(n), &name, 1.0).canonical_bytes();
                // The first hex digit of the signature: still canonical, no longer valid.
                let at = bytes.windows(7).position(|w| w == b"\"sig\":\"").unwrap() + 7;
                bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
                String::from_utf8(bytes).unwrap()
            })
            .collect();
        format!("[{}]", entries.join(",")).into_bytes()
    };
    assert!(junk.len() < 4 * 1024 * 1024, "{}", junk.len());
    std::thread::scope(|scope| {
        for attacker in 0..12 {
            let (cluster, junk) = (&cluster, &junk);
            scope.spawn(move || {
                let answer = cluster.node(attacker % 3).request("POST", "/v1/entries", junk);
                assert_eq!(answer.status, 401, "{}", &answer.text()[..300.min(answer.text().len())]);
                assert_eq!(answer.error_code(), "signature.invalid");
            });
        }
        // Honest members go on submitting meanwhile, to every node.
        for writer in 0..3 {
            let (cluster, f) = (&cluster, &f);
            scope.spawn(move || {
                for n in 0..10 {
                    let entry: SignedEntry =
                        f.register("baltic-demolition", &giai(2000 + writer * 100 + n), "beam", 1.0);
                    // Three debug nodes verifying junk on two cores may miss a
                    // heartbeat; a client told 503 submits again, as documented.
                    let mut answer = cluster.node(writer).submit_one(&entry);
                    for _ in 0..50 {
                        if answer.status != 503 {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(200));
                        answer = cluster.node(writer).submit_one(&entry);
                    }
                    assert_eq!(answer.status, 201, "{}", answer.text());
                }
            });
        }
    });

    // Nothing of the junk reached any node's Raft log (all of it did while
    // nodes proposed canonical-looking bytes unverified). Whether the leader kept its place is
    // for the release build on its own cores: `salvage-load --scenario hostile`.
    let (size, _) = cluster.wait_converged(31, Duration::from_secs(20));
    assert_eq!(size, 31);
    for (index, before) in raft_before.iter().enumerate() {
        let grown = bytes_under(&cluster.data_dir(index).join("raft/log")).saturating_sub(*before);
        assert!(grown < 1024 * 1024, "node {index}'s Raft log grew by {grown} bytes");
    }
}

#[test]
fn strangers_raft_requests_are_refused_without_the_clock_and_without_flooding_the_log() {
    let cluster = Cluster::start();
    let node = cluster.node(0);
    let stale = format!("city-of-jelgava 1000 {}", "ab".repeat(64));
    for _ in 0..200 {
        let answer = salvage_tests::http::request(
            &node.address,
            "POST",
            "/v1/raft/vote",
            &[("Content-Type", "application/json"), ("Salvage-Raft-Auth", &stale)],
            b"{}",
        );
        assert_eq!(answer.status, 401, "{}", answer.text());
        assert_eq!(answer.error_code(), "raft.unauthenticated");
        assert!(!answer.text().contains("clock reads"), "{}", answer.text());
    }
    let log = std::fs::read_to_string(cluster.log_path(0)).unwrap();
    let lines = log.lines().filter(|line| line.contains("refused a Raft request")).count();
    assert!((1..=20).contains(&lines), "{lines} log lines for 200 refused requests");
}
