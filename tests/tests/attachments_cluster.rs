//! Attachments held by the whole consortium: three real nodes, a photo uploaded
//! to one and named in an entry sent to another, and a node that was stopped.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::time::{Duration, Instant};

use salvage_ledger::entry::Kind;
use salvage_ledger::testkit::passport;
use salvage_tests::cluster::Cluster;
use serde_json::{Value, json};

const CONTRACTOR: &str = "baltic-demolition";

fn photo(shade: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(400, 300, |x, y| image::Rgb([shade, (x % 256) as u8, (y % 256) as u8]));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85).encode_image(&image).unwrap();
    bytes
}

fn register(cluster: &Cluster, index: usize, giai: &str, stored: &Value) -> u16 {
    let mut passport = passport(giai, "HEA 160 steel beam", 180.0);
    passport["photos"] = json!([{"title": "Beam", "media_type": stored["media_type"], "blake3": stored["blake3"], "size": stored["size"]}]);
    let entry =
        cluster.site.fixture.signed(&[CONTRACTOR], Kind::ItemRegister, json!({"giai": giai, "passport": passport}));
    // A node answers 503 `node.unavailable` while the leader it forwards to is not ready yet
    // (just after the cluster started or a node came back): the member submits again.
    let started = Instant::now();
    loop {
        let answer = cluster.node(index).submit_one(&entry);
        if answer.status == 503 && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        assert!(matches!(answer.status, 201 | 200), "{}", answer.text());
        return answer.status;
    }
}

/// Waits until node `index` serves `bytes` under their digest to anyone and reports nothing missing.
fn wait_served(cluster: &Cluster, index: usize, bytes: &[u8], timeout: Duration) {
    let digest = blake3::hash(bytes).to_hex().to_string();
    let started = Instant::now();
    loop {
        let node = cluster.node(index);
        let answer = node.get(&format!("/v1/attachments/{digest}"));
        let missing = node.get_json("/v1/status")["attachments"]["missing"].as_u64();
        if answer.status == 200 && missing == Some(0) {
            assert_eq!(answer.body, bytes, "node {} serves other bytes under {digest}", index + 1);
            let metrics = node.get("/metrics").text();
            assert!(metrics.contains("\nsalvage_attachments_missing 0\n"), "node {}'s metrics: {metrics}", index + 1);
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "node {} did not come to hold {digest} (last answer {}, missing {missing:?})",
            index + 1,
            answer.status
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_attachment_uploaded_to_one_node_and_named_through_another_is_held_by_all_three_even_one_that_was_stopped() {
    let mut cluster = Cluster::start();
    let first = photo(30);
    let stored = cluster.node(0).signed("POST", "/v1/attachments", CONTRACTOR, &first);
    assert_eq!(stored.status, 201, "{}", stored.text());
    // Node 2 does not hold the file: it fetches it from the others before it admits the entry.
    register(&cluster, 1, "4750001BEAM-0301", &stored.json());
    for index in 0..3 {
        wait_served(&cluster, index, &first, Duration::from_secs(30));
    }
    let dirs: Vec<_> = (0..3).map(|index| cluster.data_dir(index)).collect();
    let on_disk = |index: usize, bytes: &[u8]| {
        let digest = blake3::hash(bytes).to_hex().to_string();
        std::fs::read(dirs[index].join("attachments/objects").join(&digest[..2]).join(&digest)).ok()
    };
    for index in 0..3 {
        assert_eq!(on_disk(index, &first).as_deref(), Some(first.as_slice()), "node {}'s stored copy", index + 1);
    }

    // A node that was stopped while a file was uploaded and named fetches what it missed.
    let (status, _) = cluster.take(2).terminate();
    assert!(status.success());
    let second = photo(200);
    let stored = cluster.node(0).signed("POST", "/v1/attachments", CONTRACTOR, &second);
    assert_eq!(stored.status, 201, "{}", stored.text());
    register(&cluster, 0, "4750001BEAM-0302", &stored.json());
    assert_eq!(on_disk(2, &second), None);
    cluster.start_node(2);
    wait_served(&cluster, 2, &second, Duration::from_secs(60));
    assert_eq!(on_disk(2, &second).as_deref(), Some(second.as_slice()));
}
