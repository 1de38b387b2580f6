//! `salvage demo`, the first command a newcomer runs: it creates a consortium,
//! seeds a dismantled building's inventory with its photos and reports, writes
//! QR codes, serves it, and on a second start reopens the same ledger instead
//! of seeding again.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

use salvage_ledger::attachment::{AttachmentDigest, MediaType, location_metadata};
use salvage_ledger::audit::{AuditOptions, audit};
use salvage_ledger::entry::SignedEntry;
use salvage_tests::auditor::download;
use salvage_tests::node::Running;
use salvage_tests::{free_port, salvage_command};

/// The demo's files as the repository holds them; the binary embeds these bytes.
const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../cli/src/commands/demo/assets/");

fn asset(file: &str) -> Vec<u8> {
    std::fs::read(format!("{ASSETS}{file}")).unwrap()
}

fn digest(bytes: &[u8]) -> String {
    AttachmentDigest::of(bytes).to_hex()
}

/// Where a node whose ledger is in `ledger` keeps the file `digest` (docs/format.md §15).
fn stored(ledger: &Path, digest: &str) -> std::path::PathBuf {
    ledger.join("attachments").join("objects").join(&digest[..2]).join(digest)
}

#[test]
fn the_demo_seeds_a_building_serves_it_and_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let listen = format!("127.0.0.1:{}", free_port());
    let demo = |exit: bool| {
        let mut command = salvage_command();
        command.args(["demo", "--data", data.to_str().unwrap(), "--listen", &listen]).stdin(Stdio::null());
        if exit {
            command.arg("--exit");
        }
        command
    };

    let output = demo(true).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    let urls: Vec<&str> = printed.lines().map(str::trim).filter(|line| line.starts_with("http://")).collect();
    assert!(urls.len() >= 30, "at least 30 items: {printed}");
    assert!(urls.iter().all(|url| url.starts_with(&format!("http://{listen}/8004/"))), "{urls:?}");
    for member in [
        "zemgale-planning",
        "baltic-demolition",
        "riga-deconstruction",
        "jelgava-reuse-hub",
        "timber-builders",
        "baltic-cert",
    ] {
        let key = data.join("keys").join(format!("{member}.pem"));
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600, "{member}'s key is private");
        assert!(std::fs::read_to_string(&key).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
    }
    // The QR codes decode to the printed URLs.
    let png = data.join("qr").join("4750001BEAM-0001.png");
    let mut image = rqrr::PreparedImage::prepare(image::open(&png).unwrap().to_luma8());
    let (_, content) = image.detect_grids()[0].decode().unwrap();
    assert_eq!(content, format!("http://{listen}/8004/4750001BEAM-0001"));
    assert_eq!(std::fs::read_dir(data.join("qr")).unwrap().count(), urls.len());

    // Started again, it serves the same ledger without seeding it twice.
    let node = Running::start({
        let mut command = demo(false);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    });
    let status = node.get_json("/v1/status");
    let size = status["size"].as_u64().unwrap();
    assert!(size > 100, "{status}");
    let panel = node.get_json("/v1/items/4750002FCP-0001");
    assert_eq!(panel["item"]["status"], "disposed", "the asbestos panel is disposed, never sold");
    let page = node.get("/8004/4750002FCP-0001?lang=en").text();
    assert!(page.contains("asbestos"), "the page warns of asbestos");
    assert_eq!(node.get_json("/v1/items/4750001GLULAM-0001")["item"]["status"], "split");
    assert_eq!(node.get_json("/v1/items/4750001BEAM-0001")["item"]["status"], "installed");
    assert!(!node.get("/8004/4750001BEAM-0001").text().contains("Rūpniecības"), "restricted addresses stay private");
    demo_files_are_served(&node, &urls);

    // Everything it seeded verifies from the genesis it wrote.
    let genesis: SignedEntry = serde_json::from_slice(&std::fs::read(data.join("genesis.json")).unwrap()).unwrap();
    let records = download(&node);
    assert_eq!(records.len() as u64, size);
    // A format-2 ledger: the donor buildings' addresses are in no record, only their digests.
    assert_eq!(status["format"], 2, "{status}");
    assert!(!records.iter().any(|record| String::from_utf8_lossy(record).contains("Rūpniecības")));
    let report = audit(&genesis, records.into_iter().map(Ok::<_, String>), &AuditOptions::default(), &mut |_| {});
    assert!(report.is_clean(), "{:?}", report.problems);
    assert!(report.values_unchecked >= 34, "every lot withholds its donor address: {}", report.values_unchecked);
    assert_eq!(report.items, urls.len());
    let (exit, log) = node.terminate();
    assert!(exit.success(), "{log}");

    let again = demo(true).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("reopening the demo consortium"));
}

/// Every item's passport names its kind's photo and the building's survey;
/// a radiator's page shows its photo's thumbnail and links the survey and the
/// inspection report, and the node serves all three to anyone (none of the
/// demo's references is restricted: only the donor's address is).
fn demo_files_are_served(node: &Running, urls: &[&str]) {
    let survey = asset("hazardous-materials-survey.pdf");
    let report = asset("inspection-report.pdf");
    let photos = [
        ("4750001BEAM", "steel-beam.jpg"),
        ("4750001GLULAM", "glulam-beam.jpg"),
        ("4750001BRICK", "bricks.jpg"),
        ("4750002DOOR", "oak-door.jpg"),
        ("4750002WIN", "timber-window.jpg"),
        ("4750002RAD", "radiator.jpg"),
        ("4750002FCP", "fibre-cement-panel.jpg"),
        // The beams the hub cut from a glulam beam, under the serials allocated to it.
        ("47500091000", "glulam-beam.jpg"),
        ("47500091001", "glulam-beam.jpg"),
    ];
    for url in urls {
        let giai = url.rsplit('/').next().unwrap();
        let passport = &node.get_json(&format!("/v1/items/{giai}"))["passport"];
        let (_, file) =
            photos.iter().find(|(prefix, _)| giai == *prefix || giai.starts_with(&format!("{prefix}-"))).unwrap();
        let photo = asset(file);
        assert_eq!(passport["photos"].as_array().map(Vec::len), Some(1), "{giai}: {passport}");
        assert_eq!(passport["photos"][0]["blake3"], digest(&photo), "{giai} shows {file}");
        assert_eq!(passport["photos"][0]["media_type"], "image/jpeg");
        assert_eq!(passport["photos"][0]["size"], photo.len());
        assert_eq!(passport["documents"][0]["blake3"], digest(&survey), "{giai} names the survey");
        assert_eq!(passport["documents"][0]["size"], survey.len());
    }

    let photo = asset("radiator.jpg");
    let (photo_digest, survey_digest, report_digest) = (digest(&photo), digest(&survey), digest(&report));
    // The page may change its markup; the attachments' URLs are what it must carry.
    let page = node.get("/8004/4750002RAD-0001?lang=en").text();
    for target in [
        format!("/v1/attachments/{photo_digest}/thumbnail"),
        format!("/v1/attachments/{survey_digest}"),
        format!("/v1/attachments/{report_digest}"),
    ] {
        assert!(page.contains(&target), "the radiator's page links {target}");
    }

    let served = node.get(&format!("/v1/attachments/{photo_digest}"));
    assert_eq!(served.status, 200, "{}", served.text());
    assert_eq!(served.header("content-type"), Some("image/jpeg"));
    assert_eq!(digest(&served.body), photo_digest, "the file is named by its BLAKE3");
    assert!(
        location_metadata(&served.body, MediaType::Jpeg).is_none(),
        "the demo's photos say nowhere where they were taken"
    );
    let thumbnail = node.get(&format!("/v1/attachments/{photo_digest}/thumbnail"));
    assert_eq!(thumbnail.status, 200, "{}", thumbnail.text());
    assert_eq!(thumbnail.header("content-type"), Some("image/jpeg"));
    let decoded = image::load_from_memory_with_format(&thumbnail.body, image::ImageFormat::Jpeg).unwrap();
    assert!(decoded.width() <= 480, "a thumbnail: {}×{}", decoded.width(), decoded.height());

    for (name, pdf) in [(&survey_digest, &survey), (&report_digest, &report)] {
        let served = node.get(&format!("/v1/attachments/{name}"));
        assert_eq!(served.status, 200, "{}", served.text());
        assert_eq!(served.header("content-type"), Some("application/pdf"));
        assert_eq!(&served.body, pdf);
        assert!(served.body.starts_with(b"%PDF-"));
    }
    // The survey is public, so it names the building but not its restricted street address.
    let text = String::from_utf8_lossy(&survey);
    assert!(text.contains("Jelgava sugar factory warehouse") && text.contains("Chrysotile"), "a real survey");
    assert!(!text.contains("niec") && !text.contains("iela"), "no street address in a public file");
}

/// A port P such that P, P + 1 and P + 2 were free a moment ago.
fn three_free_ports() -> u16 {
    loop {
        let first = free_port();
        let held: Vec<_> = (0..3)
            .map_while(|offset| std::net::TcpListener::bind(("127.0.0.1", first.checked_add(offset)?)).ok())
            .collect();
        if held.len() == 3 {
            return first;
        }
    }
}

#[test]
fn the_three_node_demo_leaves_configs_that_start_a_replicating_consortium_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let port = three_free_ports();
    let output = salvage_command()
        .args([
            "demo",
            "--nodes",
            "3",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--exit",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(printed.lines().filter(|line| line.trim().starts_with("http://")).count() >= 30, "{printed}");

    // Each node's config starts it by hand; they elect a leader and hold the
    // seeded inventory, the same records on each.
    let nodes: Vec<Running> = (1..=3)
        .map(|n| {
            let config = data.join(format!("node{n}")).join("node.toml");
            assert!(std::fs::read_to_string(&config).unwrap().contains("[[peers]]"));
            let log = std::fs::File::create(dir.path().join(format!("node{n}.log"))).unwrap();
            let mut command = salvage_command();
            command
                .args(["node", "--config", config.to_str().unwrap()])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(log);
            Running::start(command)
        })
        .collect();
    assert_eq!(
        nodes.iter().map(|node| node.address.clone()).collect::<Vec<_>>(),
        (0..3).map(|i| format!("127.0.0.1:{}", port + i)).collect::<Vec<_>>()
    );
    let started = std::time::Instant::now();
    let statuses = loop {
        let statuses: Vec<serde_json::Value> = nodes.iter().map(|node| node.get_json("/v1/status")).collect();
        let led = statuses.iter().filter(|status| status["role"] == "leader").count() == 1;
        if led
            && statuses.iter().all(|status| {
                status["size"] == statuses[0]["size"]
                    && status["root"] == statuses[0]["root"]
                    && status["leader"].is_string()
            })
        {
            break statuses;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "no leader or different ledgers: {statuses:?}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(statuses[0]["size"].as_u64().unwrap() > 100, "the whole inventory: {statuses:?}");
    // A scanned QR code resolves on any of them, and each holds the demo's
    // files in its own store (the demo put them there before the nodes first
    // started) and serves them.
    let photo = digest(&asset("steel-beam.jpg"));
    let report = digest(&asset("inspection-report.pdf"));
    for (n, node) in (1..=3).zip(&nodes) {
        assert_eq!(node.get_json("/v1/items/4750001BEAM-0001")["item"]["status"], "installed");
        let ledger = data.join(format!("node{n}")).join("ledger");
        for name in [&photo, &report] {
            assert!(stored(&ledger, name).is_file(), "node {n} holds {name}");
            let served = node.get(&format!("/v1/attachments/{name}"));
            assert_eq!(served.status, 200, "node {n}: {}", served.text());
            assert_eq!(digest(&served.body), *name);
        }
        assert!(node.get("/8004/4750001BEAM-0001").text().contains(&format!("/v1/attachments/{photo}/thumbnail")));
        assert_eq!(node.get_json("/v1/status")["attachments"]["missing"], 0, "node {n}");
    }
}
