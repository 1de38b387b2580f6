//! A consortium under attack from one machine: junk submissions, forged and
//! replayed Raft traffic. Three real nodes; nothing unverified reaches Raft's
//! log, and the nodes keep their leader and their ledger.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use ed25519_dalek::Verifier;
use salvage_ledger::entry::SignedEntry;
use salvage_ledger::testkit::Fixture;
use salvage_tests::cluster::{Cluster, OPERATORS, raft_auth, vote_from};
use salvage_tests::http::request;

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
    // Sent by an operator to node 0, signed long ago: stale.
    let stale =
        format!("city-of-jelgava regional-planning 1000 {} {} {}", "00".repeat(16), "00".repeat(32), "ab".repeat(64));
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

/// Sends only the head of a `POST` with `headers` and a `Content-Length`,
/// never the body, and returns what the node answers within five seconds.
fn head_only(address: &str, path: &str, headers: &[(&str, &str)], length: usize) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {length}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = vec![0u8; 4096];
    let read = stream.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

#[test]
fn raft_requests_are_judged_by_their_headers_before_a_byte_of_the_body_is_read() {
    let cluster = Cluster::start();
    let node = &cluster.node(0).address;
    let big = 60 * 1024 * 1024;
    // No signature: refused at once, the 60 MB never sent.
    let answer = head_only(node, "/v1/raft/append", &[], big);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    assert!(answer.contains("raft.unauthenticated"), "{answer:?}");
    // A signature by someone who is no operator.
    let (forged, _) = raft_auth("baltic-demolition", OPERATORS[0], "/v1/raft/append", b"");
    let answer = head_only(node, "/v1/raft/append", &[("Salvage-Raft-Auth", &forged)], big);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    // An operator's genuine header announcing more than the route takes.
    let (genuine, _) = raft_auth(OPERATORS[1], OPERATORS[0], "/v1/raft/vote", b"");
    let answer = head_only(node, "/v1/raft/vote", &[("Salvage-Raft-Auth", &genuine)], big);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    // An operator's header, with another body than the one it signs.
    let (header, _) = raft_auth(OPERATORS[1], OPERATORS[0], "/v1/raft/vote", b"{}");
    let answer = request(node, "POST", "/v1/raft/vote", &[("Salvage-Raft-Auth", &header)], b"{ }");
    assert_eq!((answer.status, answer.error_code()), (401, "raft.unauthenticated".to_owned()), "{}", answer.text());
}

#[test]
fn raft_answers_are_signed_for_their_request_and_senders_are_who_they_claim_once() {
    let cluster = Cluster::start();
    let leader = cluster.wait_for_leader(Duration::from_secs(10));
    let (asked, asking) = (OPERATORS[leader], OPERATORS[(leader + 1) % 3]);
    let address = &cluster.node(leader).address;
    let body = vote_from(asking);
    let (header, nonce) = raft_auth(asking, asked, "/v1/raft/vote", &body);
    let answer = request(address, "POST", "/v1/raft/vote", &[("Salvage-Raft-Auth", &header)], &body);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("\"Ok\""), "{}", answer.text());

    // The answer carries the asked operator's signature over this request's nonce.
    let signature = answer.header("salvage-raft-answer").expect("a signed answer");
    let (responder, signature) = signature.split_once(' ').unwrap();
    assert_eq!(responder, asked);
    let signed = format!(
        "salvage-raft-answer/v2\n{asked}\n{asking}\n{nonce}\n/v1/raft/vote\n{}",
        blake3::hash(&answer.body).to_hex()
    );
    let signature = ed25519_dalek::Signature::from_bytes(&hex::decode(signature).unwrap().try_into().unwrap());
    Fixture::key(asked).verifying_key().verify(signed.as_bytes(), &signature).expect("the answer's signature verifies");

    // The same request again: a replay.
    let again = request(address, "POST", "/v1/raft/vote", &[("Salvage-Raft-Auth", &header)], &body);
    assert_eq!((again.status, again.error_code()), (401, "raft.unauthenticated".to_owned()), "{}", again.text());
    assert!(again.text().contains("replay"), "{}", again.text());

    // Meant for another node.
    let other = OPERATORS[(leader + 2) % 3];
    let (misdirected, _) = raft_auth(asking, other, "/v1/raft/vote", &body);
    let answer = request(address, "POST", "/v1/raft/vote", &[("Salvage-Raft-Auth", &misdirected)], &body);
    assert_eq!((answer.status, answer.error_code()), (401, "raft.unauthenticated".to_owned()), "{}", answer.text());

    // One operator speaking as another operator's node.
    let impersonating = vote_from(other);
    let (header, _) = raft_auth(asking, asked, "/v1/raft/vote", &impersonating);
    let answer = request(address, "POST", "/v1/raft/vote", &[("Salvage-Raft-Auth", &header)], &impersonating);
    assert_eq!((answer.status, answer.error_code()), (403, "raft.forbidden".to_owned()), "{}", answer.text());
    assert_eq!(cluster.wait_for_leader(Duration::from_secs(5)), leader, "the consortium kept its leader");
}
