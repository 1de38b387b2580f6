//! Three `salvage node` processes of one consortium replicating through Raft.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use salvage_ledger::checkpoint::{Checkpoint, NoteSigner, NoteVerifier, SignedCheckpoint};
use salvage_ledger::disclosure::Disclosure;
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::testkit::{Fixture, passport};
use salvage_tests::cluster::{Cluster, OPERATORS, raft_auth, vote_from};
use salvage_tests::http::try_request;
use serde_json::json;

fn giai(writer: usize, n: usize) -> String {
    format!("4750001CL{writer}-{n:05}")
}

/// The first `size` records of a node, as JSON, a page of at most 1000 at a time.
fn records(cluster: &Cluster, index: usize, size: u64) -> Vec<serde_json::Value> {
    let mut records = Vec::new();
    while (records.len() as u64) < size {
        let page = cluster.node(index).get_json(&format!(
            "/v1/records?from={}&limit={}",
            records.len(),
            size - records.len() as u64
        ));
        let page = page.as_array().cloned().unwrap_or_default();
        assert!(!page.is_empty(), "node {} has only {} records", index + 1, records.len());
        records.extend(page);
    }
    records
}

#[test]
fn entries_submitted_to_every_node_at_once_are_committed_once_in_one_order() {
    let cluster = Cluster::start();
    let fixture = cluster.site.fixture.clone();
    const PER_WRITER: usize = 60;
    // Two writers per node, each sending single entries and small arrays.
    let receipts: Vec<Vec<serde_json::Value>> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..6)
            .map(|writer| {
                let (cluster, fixture) = (&cluster, &fixture);
                scope.spawn(move || {
                    let node = cluster.node(writer % 3);
                    let entries: Vec<SignedEntry> = (0..PER_WRITER)
                        .map(|n| fixture.register("baltic-demolition", &giai(writer, n), "brick pallet", 800.0))
                        .collect();
                    let mut receipts = Vec::new();
                    for chunk in entries.chunks(if writer % 2 == 0 { 1 } else { 5 }) {
                        let answer = if chunk.len() == 1 { node.submit_one(&chunk[0]) } else { node.submit(chunk) };
                        assert_eq!(answer.status, 201, "writer {writer}: {}", answer.text());
                        match answer.json() {
                            serde_json::Value::Array(list) => receipts.extend(list),
                            one => receipts.push(one),
                        }
                    }
                    receipts
                })
            })
            .collect();
        writers.into_iter().map(|writer| writer.join().unwrap()).collect()
    });
    let total = 6 * PER_WRITER as u64;
    let seqs: BTreeSet<u64> = receipts.iter().flatten().map(|receipt| receipt["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs.len() as u64, total, "every entry has its own position");
    assert_eq!(
        seqs.iter().copied().collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>(),
        "and no position is missing or doubled"
    );

    // Every node holds the same records, in the same order.
    let (size, root) = cluster.wait_converged(total + 1, Duration::from_secs(20));
    assert_eq!(size, total + 1);
    let first = records(&cluster, 0, size);
    assert_eq!(first.len() as u64, size);
    for index in 1..3 {
        assert_eq!(records(&cluster, index, size), first, "node {} differs from node 1", index + 1);
    }
    // Every node proves a receipt's record with the same leaf hash and path.
    let receipt = &receipts[0][0];
    let path = format!("/v1/proof/inclusion?seq={}&size={size}", receipt["seq"]);
    let proof = cluster.node(0).get_json(&path);
    assert_eq!(proof["leaf_hash"], receipt["leaf_hash"]);
    for index in 1..3 {
        assert_eq!(cluster.node(index).get_json(&path), proof);
    }
    let statuses: Vec<_> = (0..3).map(|index| cluster.status(index).unwrap()).collect();
    assert!(statuses.iter().all(|s| s.root == root));
    // Three nodes that applied the same records hold the same custody state (docs/format.md §14).
    assert!(statuses.iter().all(|s| s.state == statuses[0].state && s.state.len() == 64), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| s.role == "leader").count(), 1, "{statuses:?}");
    let leader = statuses.iter().find(|s| s.role == "leader").and_then(|s| s.leader.clone()).unwrap();
    assert!(OPERATORS.contains(&leader.as_str()));
}

/// Submits `entry` to the nodes at `addresses`, starting at `first` and moving
/// on while a node cannot be reached or is between leaders (503); returns the
/// receipt, or `None` if no node took it within `patience`.
fn submit_somewhere(
    addresses: &[String],
    first: usize,
    entry: &SignedEntry,
    patience: Duration,
) -> Option<serde_json::Value> {
    let body = serde_json::to_vec(&entry.to_value()).unwrap();
    let started = Instant::now();
    let mut at = first;
    while started.elapsed() < patience {
        let address = &addresses[at % addresses.len()];
        match try_request(address, "POST", "/v1/entries", &[("Content-Type", "application/json")], &body) {
            Ok(answer) if answer.status == 201 => return Some(answer.json()),
            Ok(answer) => assert_eq!(answer.status, 503, "only unavailability is retried: {}", answer.text()),
            Err(_) => {}
        }
        at += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn killing_the_leader_under_load_loses_no_acknowledged_entry_and_the_restarted_node_catches_up() {
    let mut cluster = Cluster::start();
    let fixture = cluster.site.fixture.clone();
    let addresses: Vec<String> = (0..3).map(|index| cluster.node(index).address.clone()).collect();
    let stop = AtomicBool::new(false);
    let killed_at: Mutex<Option<Instant>> = Mutex::new(None);
    // Each writer acknowledges (keeps) a receipt only once a node returned it,
    // as a client tells its user "done"; with the time it came back.
    let (acknowledged, killed) = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..6)
            .map(|writer| {
                let (addresses, fixture, stop) = (&addresses, &fixture, &stop);
                scope.spawn(move || {
                    let mut acknowledged = Vec::new();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let entry = fixture.register("baltic-demolition", &giai(writer, n), "brick pallet", 800.0);
                        let receipt = submit_somewhere(addresses, writer, &entry, Duration::from_secs(20))
                            .unwrap_or_else(|| panic!("writer {writer}: no node took entry {n} within 20 s"));
                        acknowledged.push((receipt, entry.to_value(), Instant::now()));
                        n += 1;
                    }
                    acknowledged
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1500));
        let leader = cluster.wait_for_leader(Duration::from_secs(10));
        let (status, _) = cluster.take(leader).stop_with("KILL");
        assert!(!status.success());
        *killed_at.lock().unwrap() = Some(Instant::now());
        // Submissions go on while the others elect a new leader.
        let next = cluster.wait_for_leader(Duration::from_secs(10));
        assert_ne!(next, leader);
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        let acknowledged: Vec<(serde_json::Value, serde_json::Value, Instant)> =
            writers.into_iter().flat_map(|writer| writer.join().unwrap()).collect();
        (acknowledged, leader)
    });
    let killed_at = killed_at.lock().unwrap().unwrap();
    let after_kill = acknowledged.iter().filter(|(_, _, when)| *when > killed_at).count();
    assert!(after_kill > 0, "no submission was acknowledged after the leader was killed");

    // The killed node comes back and catches up with what it missed.
    cluster.start_node(killed);
    let highest = acknowledged.iter().map(|(receipt, _, _)| receipt["seq"].as_u64().unwrap()).max().unwrap();
    let (size, _) = cluster.wait_converged(highest + 1, Duration::from_secs(30));
    for index in 0..3 {
        let held = records(&cluster, index, size);
        for (receipt, entry, _) in &acknowledged {
            let seq = receipt["seq"].as_u64().unwrap() as usize;
            // The signatures are over the statement: equal signatures, same entry.
            assert_eq!(
                held[seq]["entry"]["signatures"],
                entry["signatures"],
                "node {}: record {seq} is not the acknowledged entry",
                index + 1
            );
        }
    }
    eprintln!("{} entries acknowledged, {after_kill} after the kill; {size} records on every node", acknowledged.len());
}

#[test]
fn two_conflicting_transfers_sent_to_two_nodes_at_once_are_decided_once() {
    let cluster = Cluster::start();
    let fixture = cluster.site.fixture.clone();
    for round in 0..5 {
        let item = format!("4750001CONFLICT-{round}");
        let registered = cluster.node(0).submit_one(&fixture.register("baltic-demolition", &item, "door", 40.0));
        assert_eq!(registered.status, 201, "{}", registered.text());
        let offers = [
            fixture.transfer("baltic-demolition", &item, "reuse-hub"),
            fixture.transfer("baltic-demolition", &item, "timber-builders"),
        ];
        let together = Barrier::new(2);
        let answers: Vec<_> = std::thread::scope(|scope| {
            let sent: Vec<_> = offers
                .iter()
                .enumerate()
                .map(|(index, offer)| {
                    let (cluster, together) = (&cluster, &together);
                    scope.spawn(move || {
                        together.wait();
                        cluster.node(index + 1).submit_one(offer)
                    })
                })
                .collect();
            sent.into_iter().map(|answer| answer.join().unwrap()).collect()
        });
        let accepted = answers.iter().filter(|answer| answer.status == 201).count();
        assert_eq!(accepted, 1, "round {round}: {:?}", answers.iter().map(|a| a.text()).collect::<Vec<_>>());
        let refused = answers.iter().find(|answer| answer.status != 201).unwrap();
        assert_eq!(refused.status, 409, "{}", refused.text());
        assert!(refused.error_code().starts_with("custody."), "{}", refused.text());
    }
    // And every node holds the one that won.
    let size = cluster.status(0).unwrap().size;
    cluster.wait_converged(size, Duration::from_secs(10));
}

#[test]
fn a_submission_forwarded_to_a_leader_that_hangs_is_answered_unavailable_and_goes_through_when_sent_again() {
    let cluster = Cluster::start();
    let fixture = cluster.site.fixture.clone();
    let leader = cluster.wait_for_leader(Duration::from_secs(10));
    let follower = (leader + 1) % 3;
    // The leader hangs without closing its connections; the follower still
    // takes it for the leader when the entry arrives.
    cluster.node(leader).signal("STOP");
    let entry = fixture.register("baltic-demolition", &giai(4, 0), "brick pallet", 800.0);
    let started = Instant::now();
    let first = cluster.node(follower).submit_one(&entry);
    assert_eq!(first.status, 503, "{}", first.text());
    assert_eq!(first.error_code(), "node.unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the follower waited {:?} for a hung leader",
        started.elapsed()
    );
    // Sent again, it goes to the leader the other two elected meanwhile.
    let again = submit_somewhere(&[cluster.node(follower).address.clone()], 0, &entry, Duration::from_secs(20));
    assert!(again.is_some(), "the entry was not accepted once sent again");
    cluster.node(leader).signal("CONT");
    cluster.wait_converged(2, Duration::from_secs(20));
}

#[test]
fn a_node_stopped_while_thousands_of_entries_commit_catches_up_when_resumed_with_every_disclosure() {
    // On a format-2 ledger, so that the snapshot carries disclosures too.
    let mut cluster = Cluster::start_withholding();
    let fixture = cluster.site.fixture.clone();
    let leader = cluster.wait_for_leader(Duration::from_secs(10));
    let stopped = (leader + 1) % 3;
    cluster.node(stopped).signal("STOP");
    // A photo named while the node is stopped: the records it installs from a snapshot name it.
    let photo = {
        let image = image::RgbImage::from_fn(200, 150, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 7]));
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80).encode_image(&image).unwrap();
        bytes
    };
    let stored = cluster.node(leader).signed("POST", "/v1/attachments", "baltic-demolition", &photo);
    assert_eq!(stored.status, 201, "{}", stored.text());
    let stored = stored.json();
    let mut passport = passport("4750001PHOTO-0001", "brick pallet", 800.0);
    passport["photos"] = json!([{"title": "Pallet", "media_type": stored["media_type"], "blake3": stored["blake3"], "size": stored["size"]}]);
    let named = fixture.signed(
        &["baltic-demolition"],
        Kind::ItemRegister,
        json!({"giai": "4750001PHOTO-0001", "passport": passport}),
    );
    assert_eq!(cluster.node(leader).submit_one(&named).status, 201);
    // Single entries from two writers, so that Raft's log grows by thousands
    // of batches and the leader replaces the stopped node's missing log with a
    // snapshot (it keeps 1000 entries after one).
    const PER_WRITER: usize = 1750;
    let writers = [leader, 3 - leader - stopped];
    std::thread::scope(|scope| {
        for (writer, &index) in writers.iter().enumerate() {
            let (cluster, fixture) = (&cluster, &fixture);
            scope.spawn(move || {
                for n in 0..PER_WRITER {
                    let answer = if n % RESTRICTED_EVERY == 0 {
                        let (entry, disclosures) = restricted_register(fixture, &giai(writer, n));
                        let envelope = json!({
                            "entry": entry.to_value(),
                            "disclosures": disclosures.iter().map(|d| d.to_value()).collect::<Vec<_>>(),
                        });
                        cluster.node(index).request("POST", "/v1/entries", envelope.to_string().as_bytes())
                    } else {
                        cluster.node(index).submit_one(&fixture.register(
                            "baltic-demolition",
                            &giai(writer, n),
                            "brick pallet",
                            800.0,
                        ))
                    };
                    assert_eq!(answer.status, 201, "{}", answer.text());
                }
            });
        }
    });
    let behind = cluster.status(leader).unwrap();
    assert_eq!(behind.size, 2 + 2 * PER_WRITER as u64);
    cluster.node(stopped).signal("CONT");
    // Killed the moment it has installed the leader's snapshot (while Raft
    // purges its log up to it), the node comes back and catches up.
    let installed = Instant::now();
    loop {
        let log = std::fs::read_to_string(cluster.log_path(stopped)).unwrap();
        if log.contains("installed a snapshot from the leader") {
            break;
        }
        assert!(installed.elapsed() < Duration::from_secs(60), "the node caught up from a snapshot of records:\n{log}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let (status, _) = cluster.take(stopped).stop_with("KILL");
    assert!(!status.success());
    cluster.start_node(stopped);
    let (size, root) = cluster.wait_converged(behind.size, Duration::from_secs(60));
    assert_eq!((size, root), (behind.size, behind.root));
    assert_eq!(records(&cluster, stopped, size), records(&cluster, leader, size));
    let ready = cluster.node(stopped).get("/readyz");
    assert_eq!(ready.status, 200, "{}", ready.text());
    // Its cosignature follows: the leader's checkpoint of the whole ledger carries it.
    wait_cosigned(&cluster, leader, size, Duration::from_secs(15));
    // Every node holds every disclosure, the one restored from a snapshot too,
    // and none is in a record.
    for writer in 0..writers.len() {
        for n in (0..PER_WRITER).step_by(RESTRICTED_EVERY) {
            for index in 0..3 {
                let answer = cluster.node(index).read_disclosures(&giai(writer, n), "baltic-demolition");
                assert_eq!(answer.status, 200, "node {index}, {}: {}", giai(writer, n), answer.text());
                assert_eq!(answer.json()["records"][0]["disclosures"][0][2], json!(donor(&giai(writer, n))));
            }
        }
    }
    let all = records(&cluster, stopped, size);
    assert!(!serde_json::to_string(&all).unwrap().contains("Donor building"), "a restricted value is in a record");
    // And the photo a record of the snapshot names: fetched from the others.
    let path = format!("/v1/attachments/{}", stored["blake3"].as_str().unwrap());
    let fetching = Instant::now();
    while cluster.node(stopped).get(&path).status != 200 {
        assert!(fetching.elapsed() < Duration::from_secs(30), "the restored node never fetched the photo");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(cluster.node(stopped).get(&path).body, photo);
}

/// Every how many registrations of the snapshot test restricts its donor address.
const RESTRICTED_EVERY: usize = 125;

/// The (restricted) donor address of an item.
fn donor(giai: &str) -> String {
    format!("Donor building of {giai}, Jelgava")
}

/// A registration whose passport restricts the donor building's address, and its disclosures.
fn restricted_register(fixture: &Fixture, giai: &str) -> (SignedEntry, Vec<Disclosure>) {
    let mut passport = passport(giai, "brick pallet", 800.0);
    passport["origin"]["address"] = json!(donor(giai));
    passport["restricted"] = json!(["/origin/address"]);
    fixture.withheld(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": giai, "passport": passport}))
}

#[test]
fn a_node_whose_record_log_was_tampered_with_refuses_to_start_and_says_why() {
    let mut cluster = Cluster::start();
    let fixture = cluster.site.fixture.clone();
    let entries: Vec<SignedEntry> =
        (0..20).map(|n| fixture.register("baltic-demolition", &giai(0, n), "brick pallet", 800.0)).collect();
    assert_eq!(cluster.node(0).submit(&entries).status, 201);
    cluster.wait_converged(21, Duration::from_secs(10));
    let (status, _) = cluster.take(2).terminate();
    assert!(status.success());

    // A forger changes what record 5 says the item is, and fixes the frame's CRC.
    let segment = cluster.data_dir(2).join("log").join("segment-000001.log");
    forge(&segment, 5, b"brick pallet", b"brick palle!");
    let log = std::fs::File::create(cluster.site.path("tampered.log")).unwrap();
    let output = cluster.command(2).stderr(log).output().unwrap();
    assert!(!output.status.success(), "the node started on a tampered log");
    let said = std::fs::read_to_string(cluster.site.path("tampered.log")).unwrap();
    assert!(said.contains("record 5"), "the node names the tampered record: {said}");
    // The other two go on, under a leader of their own if the stopped node led.
    cluster.wait_for_leader(Duration::from_secs(10));
    let more = fixture.register("baltic-demolition", &giai(1, 0), "brick pallet", 800.0);
    assert_eq!(cluster.node(1).submit_one(&more).status, 201);
}

/// Replaces `from` with `to` (as long) in the payload of frame `index` of a
/// record-log segment and rewrites the frame's CRC, as a deliberate forger
/// would. A frame is a 4-byte little-endian payload length, a 4-byte CRC-32
/// of the length and payload, and the payload, after an 8-byte segment header.
fn forge(segment: &std::path::Path, index: usize, from: &[u8], to: &[u8]) {
    let mut bytes = std::fs::read(segment).unwrap();
    let mut start = 8;
    for _ in 0..index {
        start += 8 + u32::from_le_bytes(bytes[start..start + 4].try_into().unwrap()) as usize;
    }
    let end = start + 8 + u32::from_le_bytes(bytes[start..start + 4].try_into().unwrap()) as usize;
    let at = bytes[start + 8..end].windows(from.len()).position(|window| window == from).unwrap() + start + 8;
    bytes[at..at + to.len()].copy_from_slice(to);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&bytes[start..start + 4]);
    crc.update(&bytes[start + 8..end]);
    let crc = crc.finalize().to_le_bytes();
    bytes[start + 4..start + 8].copy_from_slice(&crc);
    std::fs::write(segment, bytes).unwrap();
}

/// Every operator's checkpoint verifiers: for its signature and its cosignature.
fn operator_verifiers() -> Vec<NoteVerifier> {
    OPERATORS
        .iter()
        .flat_map(|operator| {
            let key = Fixture::key(operator).verifying_key();
            [NoteVerifier::new(operator, key).unwrap(), NoteVerifier::cosigner(operator, key).unwrap()]
        })
        .collect()
}

/// Waits until node `index` serves a checkpoint of at least `size` records
/// signed or cosigned by all three operators; returns it.
fn wait_cosigned(cluster: &Cluster, index: usize, size: u64, timeout: Duration) -> SignedCheckpoint {
    let started = Instant::now();
    loop {
        let note = SignedCheckpoint::parse(&cluster.node(index).get("/v1/checkpoint").text()).unwrap();
        let verified = note.verify(&operator_verifiers());
        assert!(verified.invalid.is_empty(), "a signature does not verify: {verified:?}");
        if note.checkpoint.size() >= size && verified.signers().len() == 3 {
            return note;
        }
        assert!(
            started.elapsed() < timeout,
            "node {}'s checkpoint is not cosigned by all within {timeout:?}: {verified:?}\n{}",
            index + 1,
            note.to_note()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_node_serves_a_checkpoint_cosigned_by_all_three_and_refuses_an_inconsistent_one_with_an_alarm() {
    let cluster = Cluster::start();
    let fixture = cluster.site.fixture.clone();
    let entries: Vec<SignedEntry> =
        (0..10).map(|n| fixture.register("baltic-demolition", &giai(0, n), "brick pallet", 800.0)).collect();
    assert_eq!(cluster.node(1).submit(&entries).status, 201);
    let (size, root) = cluster.wait_converged(11, Duration::from_secs(10));
    for (index, operator) in OPERATORS.iter().enumerate() {
        let note = wait_cosigned(&cluster, index, size, Duration::from_secs(10));
        assert_eq!(hex::encode(note.checkpoint.root()), root);
        // One plain signature by the node's own operator, two cosignatures.
        let own = note
            .signatures
            .iter()
            .filter(|signature| signature.timestamp.is_none())
            .map(|s| s.name.clone())
            .collect::<Vec<_>>();
        assert_eq!(own, vec![operator.to_string()]);
        // A buyer scanning an item on any node reads that all three vouch for it.
        let page = cluster.node(index).get(&format!("/8004/{}?lang=en", giai(0, 3))).text();
        assert!(
            page.contains(&format!("Checkpoint of {size} records signed by 3 of 3 consortium nodes.")),
            "node {}:\n{page}",
            index + 1
        );
        let bundle = cluster.node(index).get_json(&format!("/v1/items/{}/bundle", giai(0, 3)));
        let report = salvage_ledger::bundle::verify_bundle_requiring(
            &serde_json::from_value(bundle).unwrap(),
            &fixture.genesis,
            3,
        );
        assert!(
            report.is_clean(),
            "a bundle from node {} carries a checkpoint all three signed: {:?}",
            index + 1,
            report.problems
        );
    }

    // An operator presents node 2 a checkpoint of the same size with another
    // root, as a split view would: node 2 refuses, raises an alarm and says why.
    let served = SignedCheckpoint::parse(&cluster.node(0).get("/v1/checkpoint").text()).unwrap();
    let forged = Checkpoint::new(served.checkpoint.origin(), served.checkpoint.size(), [7; 32]).unwrap();
    let key = Fixture::key(OPERATORS[0]);
    let forged = SignedCheckpoint::sign(forged, &NoteSigner { name: OPERATORS[0], key: &key }).unwrap();
    let body = serde_json::to_vec(&serde_json::json!({"note": forged.to_note()})).unwrap();
    let answer = try_request(
        &cluster.node(1).address,
        "POST",
        "/v1/checkpoint/cosign",
        &[
            ("Content-Type", "application/json"),
            ("Salvage-Raft-Auth", &raft_auth(OPERATORS[0], OPERATORS[1], "/v1/checkpoint/cosign", &body).0),
        ],
        &body,
    )
    .unwrap();
    assert_eq!(answer.status, 409, "{}", answer.text());
    assert_eq!(answer.error_code(), "checkpoint.inconsistent");
    let alarms = cluster.node(1).get_json("/v1/status")["alarms"].clone();
    assert_eq!(alarms.as_array().map(Vec::len), Some(1), "{alarms}");
    assert!(alarms[0].as_str().unwrap().contains(OPERATORS[0]), "the alarm names who presented it: {alarms}");
    assert!(cluster.node(1).get("/metrics").text().contains("salvage_checkpoint_alarms 1"));
    // Nobody outside the consortium may even ask.
    let outsider = try_request(
        &cluster.node(1).address,
        "POST",
        "/v1/checkpoint/cosign",
        &[("Content-Type", "application/json")],
        &body,
    )
    .unwrap();
    assert_eq!(outsider.status, 401, "{}", outsider.text());
}

/// The admins' signatures the consortium's threshold asks for.
const ADMINS: [&str; 2] = ["regional-planning", "city-of-jelgava"];

/// Waits until node `index` reports these voting nodes.
fn wait_for_nodes(cluster: &Cluster, index: usize, nodes: &[&str], timeout: Duration) {
    let started = Instant::now();
    let mut expected: Vec<String> = nodes.iter().map(|node| node.to_string()).collect();
    expected.sort();
    loop {
        let status = cluster.status(index);
        if status.as_ref().is_some_and(|status| status.nodes == expected) {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "node {} does not list {expected:?} as the nodes within {timeout:?}: {status:?}",
            index + 1
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn admins_add_a_node_that_then_votes_and_remove_it_again() {
    // A consortium of two nodes; the third operator's node waits to join.
    let mut cluster = Cluster::start_founders(2);
    let fixture = cluster.site.fixture.clone();
    let first: Vec<SignedEntry> =
        (0..30).map(|n| fixture.register("baltic-demolition", &giai(0, n), "brick pallet", 800.0)).collect();
    assert_eq!(cluster.node(0).submit(&first).status, 201);
    cluster.start_joining(2);
    wait_for_nodes(&cluster, 0, &OPERATORS[..2], Duration::from_secs(5));
    // Waiting to be brought in, it is alive but takes no submissions.
    assert_eq!(cluster.node(2).get("/healthz").status, 200);
    let waiting = cluster.node(2).get("/readyz");
    assert_eq!((waiting.status, waiting.error_code()), (503, "node.not_ready".to_owned()), "{}", waiting.text());

    // One admin alone may not add it.
    let add = json!({"member": OPERATORS[2], "url": cluster.url(2)});
    let alone = cluster.node(1).submit_one(&fixture.signed(&ADMINS[..1], Kind::NodeAdd, add.clone()));
    assert_eq!(alone.status, 403, "{}", alone.text());
    assert_eq!(alone.error_code(), "admin.threshold_not_met");
    let added = cluster.node(1).submit_one(&fixture.signed(&ADMINS, Kind::NodeAdd, add));
    assert_eq!(added.status, 201, "{}", added.text());
    for index in 0..3 {
        wait_for_nodes(&cluster, index, &OPERATORS, Duration::from_secs(30));
    }
    let (size, _) = cluster.wait_converged(32, Duration::from_secs(30));

    // The new node votes: with one of the founders down, it makes the majority.
    let leader = cluster.wait_for_leader(Duration::from_secs(10));
    let survivor = if leader == 0 { 1 } else { 0 };
    let (status, _) = cluster.take(survivor).stop_with("KILL");
    assert!(!status.success());
    let more = fixture.register("baltic-demolition", &giai(1, 0), "brick pallet", 800.0);
    let answer = submit_somewhere(
        &[cluster.node(leader).address.clone(), cluster.node(2).address.clone()],
        0,
        &more,
        Duration::from_secs(20),
    );
    assert!(answer.is_some(), "no commit with the new node as the second vote");
    cluster.start_node(survivor);
    cluster.wait_converged(size + 1, Duration::from_secs(30));

    // Removed again, it no longer receives the log.
    let removed =
        cluster.node(0).submit_one(&fixture.signed(&ADMINS, Kind::NodeRemove, json!({"member": OPERATORS[2]})));
    assert_eq!(removed.status, 201, "{}", removed.text());
    wait_for_nodes(&cluster, 0, &OPERATORS[..2], Duration::from_secs(30));
    wait_for_nodes(&cluster, 1, &OPERATORS[..2], Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let held = cluster.status(2).unwrap().size;
    let later: Vec<SignedEntry> =
        (0..10).map(|n| fixture.register("baltic-demolition", &giai(2, n), "brick pallet", 800.0)).collect();
    assert_eq!(cluster.node(1).submit(&later).status, 201);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(cluster.status(2).unwrap().size, held, "a removed node receives no more records");

    // Nor may it ask for votes: its operator's signature is genuine, its node no longer a voter.
    let vote = vote_from(OPERATORS[2]);
    let (header, _) = raft_auth(OPERATORS[2], OPERATORS[0], "/v1/raft/vote", &vote);
    let headers = [("Content-Type", "application/json"), ("Salvage-Raft-Auth", header.as_str())];
    let answer = try_request(&cluster.node(0).address, "POST", "/v1/raft/vote", &headers, &vote).unwrap();
    assert_eq!((answer.status, answer.error_code()), (403, "raft.forbidden".to_owned()), "{}", answer.text());
}

/// The node's fault-injection switch (`node/src/consortium/replication/membership.rs`).
const LOSE_HANDOVER: &str = "SALVAGE_FAULT_LOSE_NODE_HANDOVER";

#[test]
fn a_node_change_the_leader_did_not_carry_out_is_made_by_the_leader_from_the_kept_requests() {
    // The nodes lose what the state machine hands over, as a leader that
    // crashed right after applying the entry would.
    let mut cluster = Cluster::start_founders_with_env(2, &[(LOSE_HANDOVER, "1")]);
    let fixture = cluster.site.fixture.clone();
    cluster.start_joining(2);
    let add = json!({"member": OPERATORS[2], "url": cluster.url(2)});
    let added = cluster.node(0).submit_one(&fixture.signed(&ADMINS, Kind::NodeAdd, add));
    assert_eq!(added.status, 201, "{}", added.text());
    for index in 0..3 {
        wait_for_nodes(&cluster, index, &OPERATORS, Duration::from_secs(30));
    }
    // Removing it, with both founders killed at once and restarted: whether
    // the leader made the change before, or a leader makes it after the
    // restart from the requests kept on disk, the node ends outside.
    let removed =
        cluster.node(1).submit_one(&fixture.signed(&ADMINS, Kind::NodeRemove, json!({"member": OPERATORS[2]})));
    assert_eq!(removed.status, 201, "{}", removed.text());
    for index in 0..2 {
        let (status, _) = cluster.take(index).stop_with("KILL");
        assert!(!status.success());
    }
    for index in 0..2 {
        cluster.start_node(index);
    }
    for index in 0..2 {
        wait_for_nodes(&cluster, index, &OPERATORS[..2], Duration::from_secs(30));
    }
}

#[test]
fn a_large_array_sent_to_a_follower_is_committed_in_parts_in_its_own_order() {
    let cluster = Cluster::start();
    let fixture = cluster.site.fixture.clone();
    let leader = cluster.wait_for_leader(Duration::from_secs(10));
    let follower = (leader + 1) % 3;
    // More than one batch's worth (256): proposed as three batches, in order.
    let entries: Vec<SignedEntry> =
        (0..600).map(|n| fixture.register("baltic-demolition", &giai(5, n), "brick pallet", 800.0)).collect();
    let answer = cluster.node(follower).submit(&entries);
    assert_eq!(answer.status, 201, "{}", answer.text());
    let seqs: Vec<u64> =
        answer.json().as_array().unwrap().iter().map(|receipt| receipt["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=600).collect::<Vec<_>>());
    let (size, _) = cluster.wait_converged(601, Duration::from_secs(20));
    assert_eq!(size, 601);
}

#[test]
fn entries_sent_as_they_were_signed_are_judged_where_the_batch_is_applied_as_the_strict_parser_judges_them() {
    let cluster = Cluster::start();
    let fixture = cluster.site.fixture.clone();
    let leader = cluster.wait_for_leader(Duration::from_secs(10));
    let follower = cluster.node((leader + 1) % 3);
    let first = fixture.register("baltic-demolition", &giai(6, 1), "door", 30.0);
    let last = fixture.register("baltic-demolition", &giai(6, 2), "door", 30.0);
    // One hex digit of the signature changed: `{"signatures":[{"key":"<64>","sig":"` is 96 bytes.
    let mut forged = fixture.register("baltic-demolition", &giai(6, 3), "door", 30.0).canonical_bytes();
    assert_eq!(&forged[87..96], br#"","sig":""#);
    forged[100] = if forged[100] == b'0' { b'1' } else { b'0' };
    // Canonical JSON that begins like an entry but is none.
    let garbage: &[u8] = br#"{"signatures":[],"statement":1}"#;
    let body =
        [b"[".as_slice(), &first.canonical_bytes(), b",", garbage, b",", &forged, b",", &last.canonical_bytes(), b"]"]
            .concat();
    let answer = follower.request("POST", "/v1/entries", &body);
    assert_eq!(answer.status, 207, "{}", answer.text());
    let results = answer.json()["results"].as_array().unwrap().clone();
    let codes: Vec<&str> =
        results.iter().map(|result| result["error"]["code"].as_str().unwrap_or("accepted")).collect();
    assert_eq!(codes, ["accepted", "entry.malformed", "signature.invalid", "accepted"]);
    assert_eq!(results[3]["receipt"]["seq"].as_u64(), results[0]["receipt"]["seq"].as_u64().map(|seq| seq + 1));

    // The garbage alone gets the answer the strict parser gives the same
    // entry spelled otherwise (which no node proposes before decoding it).
    let alone = follower.request("POST", "/v1/entries", garbage);
    let spelled_otherwise = follower.request("POST", "/v1/entries", br#"{ "signatures": [], "statement": 1 }"#);
    assert_eq!((alone.status, alone.error_code()), (400, "entry.malformed".to_owned()), "{}", alone.text());
    // The same answer but for the request's own id.
    let (alone_error, otherwise_error) = (alone.json()["error"].clone(), spelled_otherwise.json()["error"].clone());
    for field in ["code", "message", "details"] {
        assert_eq!(alone_error[field], otherwise_error[field], "{field}");
    }
    assert_eq!(results[1]["error"]["message"], alone.json()["error"]["message"]);
    let (size, _) = cluster.wait_converged(3, Duration::from_secs(20));
    assert_eq!(size, 3);

    // A hundred entries of which all but the first five are forged: the node
    // verifies sixteen at a time and gives up once sixteen have failed.
    let body: Vec<Vec<u8>> = (0..100)
        .map(|n| {
            let mut entry = fixture.register("baltic-demolition", &giai(7, n), "door", 30.0).canonical_bytes();
            if n >= 5 {
                entry[100] = if entry[100] == b'0' { b'1' } else { b'0' };
            }
            entry
        })
        .collect();
    let body = [b"[".as_slice(), &body.join(&b","[..]), b"]"].concat();
    let answer = follower.request("POST", "/v1/entries", &body);
    assert_eq!(answer.status, 207, "{}", answer.text());
    let codes: Vec<String> = answer.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["error"]["code"].as_str().unwrap_or("accepted").to_owned())
        .collect();
    let expected: Vec<&str> = (0..100)
        .map(|n| match n {
            0..5 => "accepted",
            5..32 => "signature.invalid",
            _ => "signature.unchecked",
        })
        .collect();
    assert_eq!(codes, expected);
    let (size, _) = cluster.wait_converged(8, Duration::from_secs(20));
    assert_eq!(size, 8);
}

/// The node's fault-injection switch (`node/src/consortium/replication/state_machine.rs`).
const STOP_APPLYING: &str = "SALVAGE_FAULT_STOP_APPLYING";

#[test]
fn a_node_whose_replication_stopped_says_so_on_healthz_and_readyz() {
    let mut cluster = Cluster::start();
    let fixture = cluster.site.fixture.clone();
    let leader = cluster.wait_for_leader(Duration::from_secs(10));
    let broken = (leader + 1) % 3;
    cluster.take(broken).terminate();
    cluster.start_node_with_env(broken, &[(STOP_APPLYING, "1")]);
    let entry = fixture.register("baltic-demolition", &giai(0, 0), "brick pallet", 800.0);
    assert_eq!(cluster.node(leader).submit_one(&entry).status, 201);
    let started = Instant::now();
    let health = loop {
        let health = cluster.node(broken).get("/healthz");
        if health.status != 200 || started.elapsed() > Duration::from_secs(20) {
            break health;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!((health.status, health.error_code()), (503, "node.replication_stopped".to_owned()), "{}", health.text());
    assert!(!health.text().contains("fault injection"), "the reason stays in the log: {}", health.text());
    let ready = cluster.node(broken).get("/readyz");
    assert_eq!((ready.status, ready.error_code()), (503, "node.replication_stopped".to_owned()), "{}", ready.text());
    let log = std::fs::read_to_string(cluster.log_path(broken)).unwrap();
    assert!(log.contains("replication has stopped"), "{log}");
    // The others go on.
    assert_eq!(cluster.node(leader).get("/readyz").status, 200);
}

#[test]
fn an_entry_with_disclosures_sent_to_a_follower_reaches_every_node_with_them() {
    let cluster = Cluster::start_withholding();
    let leader = cluster.wait_for_leader(Duration::from_secs(10));
    let follower = (leader + 1) % 3;
    let giai = "4750001DISC-00001";
    let (entry, disclosures) = restricted_register(&cluster.site.fixture, giai);
    let envelope =
        json!({"entry": entry.to_value(), "disclosures": disclosures.iter().map(|d| d.to_value()).collect::<Vec<_>>()});
    let answer = cluster.node(follower).request("POST", "/v1/entries", envelope.to_string().as_bytes());
    if answer.status != 201 {
        for index in 0..3 {
            eprintln!("--- node {index}\n{}", std::fs::read_to_string(cluster.log_path(index)).unwrap_or_default());
        }
    }
    assert_eq!(answer.status, 201, "{}", answer.text());
    cluster.wait_converged(2, Duration::from_secs(10));
    for index in 0..3 {
        let answer = cluster.node(index).read_disclosures(giai, "baltic-demolition");
        assert_eq!(answer.status, 200, "node {index}: {}", answer.text());
        assert_eq!(answer.json()["records"][0]["disclosures"][0][2], json!(donor(giai)));
        let record = cluster.node(index).get("/v1/records/1");
        assert!(!record.text().contains(&donor(giai)), "node {index} publishes the restricted value");
    }
}
