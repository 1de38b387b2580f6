//! Photos and documents over HTTP, as members and buyers use them: a real node
//! process, signed uploads, passports that name the files, and reads by anyone.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_ledger::entry::Kind;
use salvage_ledger::testkit::passport;
use salvage_tests::node::{Running, Site};
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const CONTRACTOR: &str = "baltic-demolition";
const OTHER: &str = "reuse-hub";

/// A real JPEG photo, `width`×`height`, with a gradient so that it does not compress to nothing.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85).encode_image(&image).unwrap();
    bytes
}

/// `jpeg` with an Exif APP1 segment whose IFD0 points at a GPS IFD, as phones write it.
fn jpeg_with_gps() -> Vec<u8> {
    let plain = jpeg(64, 48);
    // TIFF, big-endian: IFD0 with one entry, GPSInfo (0x8825, LONG) → offset 26, then an empty GPS IFD.
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let length = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE1, length[0], length[1]];
    bytes.extend_from_slice(&app1);
    bytes.extend_from_slice(&plain[2..]);
    bytes
}

/// The answer to a signed upload that declares `length` bytes and sends none.
fn declared_upload(node: &Running, length: u64) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(&node.address).unwrap();
    let mut head = format!("POST /v1/attachments HTTP/1.1\r\nHost: {}\r\nContent-Length: {length}\r\n", node.address);
    for (name, value) in node.signature_headers("POST", "/v1/attachments", CONTRACTOR) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut answer = vec![0u8; 4096];
    let read = stream.read(&mut answer).unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

fn upload(node: &Running, member: &str, bytes: &[u8]) -> salvage_tests::http::Answer {
    node.signed("POST", "/v1/attachments", member, bytes)
}

fn reference(stored: &Value, title: &str) -> Value {
    json!({"title": title, "media_type": stored["media_type"], "blake3": stored["blake3"], "size": stored["size"]})
}

fn register_with(
    site: &Site,
    giai: &str,
    photos: Vec<Value>,
    documents: Vec<Value>,
    restricted: &[&str],
) -> salvage_ledger::entry::SignedEntry {
    let mut passport = passport(giai, "HEA 160 steel beam", 180.0);
    passport["photos"] = json!(photos);
    passport["documents"] = json!(documents);
    if !restricted.is_empty() {
        passport["restricted"] = json!(restricted);
    }
    site.fixture.signed(&[CONTRACTOR], Kind::ItemRegister, json!({"giai": giai, "passport": passport}))
}

#[test]
fn a_photo_is_uploaded_once_named_by_a_passport_and_then_served_to_anyone_with_its_thumbnail() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let photo = jpeg(1200, 800);
    let digest = blake3::hash(&photo).to_hex().to_string();

    let first = upload(&node, CONTRACTOR, &photo);
    assert_eq!(first.status, 201, "{}", first.text());
    let stored = first.json();
    assert_eq!(stored, json!({"blake3": digest, "size": photo.len(), "media_type": "image/jpeg"}));
    let again = upload(&node, CONTRACTOR, &photo);
    assert_eq!((again.status, again.json()), (200, stored.clone()), "uploading the same bytes again is idempotent");

    // Not named by any record yet: strangers learn nothing of it, members may look.
    assert_eq!(node.get(&format!("/v1/attachments/{digest}")).status, 404);
    assert_eq!(node.signed("GET", &format!("/v1/attachments/{digest}"), OTHER, b"").body, photo);

    let receipt = node.submit_one(&register_with(
        &site,
        "4750001BEAM-0001",
        vec![reference(&stored, "On the rack")],
        vec![],
        &[],
    ));
    assert_eq!(receipt.status, 201, "{}", receipt.text());

    let served = node.get(&format!("/v1/attachments/{digest}"));
    assert_eq!(served.status, 200, "{}", served.text());
    assert_eq!(served.body, photo, "the exact bytes");
    assert_eq!(served.header("content-type"), Some("image/jpeg"));
    assert_eq!(served.header("etag"), Some(format!("\"{digest}\"").as_str()));
    assert!(served.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(blake3::hash(&served.body).to_hex().as_str(), digest, "what is served verifies against its name");

    let etag = format!("\"{digest}\"");
    let not_modified = salvage_tests::http::request(
        &node.address,
        "GET",
        &format!("/v1/attachments/{digest}"),
        &[("If-None-Match", &etag)],
        b"",
    );
    assert_eq!(not_modified.status, 304);
    let part = salvage_tests::http::request(
        &node.address,
        "GET",
        &format!("/v1/attachments/{digest}"),
        &[("Range", "bytes=10-19")],
        b"",
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, photo[10..20]);
    assert_eq!(part.header("content-range"), Some(format!("bytes 10-19/{}", photo.len()).as_str()));
    let beyond = salvage_tests::http::request(
        &node.address,
        "GET",
        &format!("/v1/attachments/{digest}"),
        &[("Range", "bytes=999999999-")],
        b"",
    );
    assert_eq!(beyond.status, 416);

    let thumbnail = node.get(&format!("/v1/attachments/{digest}/thumbnail"));
    assert_eq!(thumbnail.status, 200, "{}", thumbnail.text());
    assert_eq!(thumbnail.header("content-type"), Some("image/jpeg"));
    let decoded = image::load_from_memory(&thumbnail.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (480, 320));
    let stored_thumbnail = std::fs::read_dir(site.dir.path().join("data/attachments/objects").join(&digest[..2]))
        .unwrap()
        .filter_map(Result::ok)
        .any(|entry| entry.file_name().to_string_lossy().ends_with(".thumb.jpg"));
    assert!(stored_thumbnail, "the thumbnail is kept beside the original");
    assert_eq!(node.get(&format!("/v1/attachments/{digest}/thumbnail")).body, thumbnail.body, "derived once");

    assert_eq!(node.get_json("/v1/status")["attachments"]["missing"], 0);
}

#[test]
fn every_refused_upload_or_reference_says_why_and_changes_nothing() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let photo = jpeg(64, 48);
    let objects = || std::fs::read_dir(site.dir.path().join("data/attachments/objects")).unwrap().count();

    let unsigned = node.request("POST", "/v1/attachments", &photo);
    assert_eq!((unsigned.status, unsigned.json()["error"]["code"].as_str()), (401, Some("auth.missing")));
    let script = upload(&node, CONTRACTOR, b"<script>alert(1)</script>");
    assert_eq!((script.status, script.json()["error"]["code"].as_str()), (415, Some("attachment.unsupported")));
    let located = upload(&node, CONTRACTOR, &jpeg_with_gps());
    assert_eq!(located.status, 422, "{}", located.text());
    let error = &located.json()["error"];
    assert_eq!(error["code"], "attachment.location");
    assert!(error["message"].as_str().unwrap().contains("salvage attach"), "it says how to strip it: {error}");
    // Refused from its declared length, before a byte of it is read.
    let too_large = declared_upload(&node, 20 * 1024 * 1024 + 1);
    assert!(too_large.starts_with("HTTP/1.1 413"), "{too_large}");
    assert!(too_large.contains("attachment.too_large"), "{too_large}");
    let wrong = format!("/v1/attachments?blake3={}", "0".repeat(64));
    let cut = node.signed("POST", &wrong, CONTRACTOR, &photo);
    assert_eq!((cut.status, cut.json()["error"]["code"].as_str()), (400, Some("attachment.digest_mismatch")));
    assert_eq!(objects(), 0, "nothing refused was stored");

    // References to files the node does not hold, or that say the wrong type.
    let size = node.get_json("/v1/status")["size"].clone();
    let absent = json!({"title": "Survey", "media_type": "application/pdf", "blake3": "ab".repeat(32), "size": 1000});
    let missing = node.submit_one(&register_with(&site, "4750001BEAM-0002", vec![], vec![absent], &[]));
    assert_eq!(missing.status, 409, "{}", missing.text());
    assert_eq!(missing.json()["error"]["code"], "attachment.missing");
    let stored = upload(&node, CONTRACTOR, &photo).json();
    let mut misnamed = reference(&stored, "Beam");
    misnamed["media_type"] = json!("image/png");
    let mismatch = node.submit_one(&register_with(&site, "4750001BEAM-0003", vec![misnamed], vec![], &[]));
    assert_eq!(mismatch.status, 422, "{}", mismatch.text());
    assert_eq!(mismatch.json()["error"]["code"], "attachment.mismatch");
    assert_eq!(node.get_json("/v1/status")["size"], size, "no record was written");
    assert_eq!(node.get("/v1/attachments/not-a-digest").status, 400);
}

#[test]
fn a_file_named_only_in_restricted_fields_is_for_the_members_entitled_to_the_item() {
    let site = Site::withholding(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let survey = b"%PDF-1.7\n% hazardous materials survey of the Jelgava warehouse\n".to_vec();
    let stored = upload(&node, CONTRACTOR, &survey);
    assert_eq!(stored.status, 201, "{}", stored.text());
    let stored = stored.json();
    let digest = stored["blake3"].as_str().unwrap().to_owned();
    let giai = "4750001BEAM-0009";
    let mut passport = passport(giai, "HEA 160 steel beam", 180.0);
    passport["documents"] = json!([reference(&stored, "Asbestos survey")]);
    passport["restricted"] = json!(["/documents/0"]);
    let (entry, disclosures) =
        site.fixture.withheld(&[CONTRACTOR], Kind::ItemRegister, json!({"giai": giai, "passport": passport}));
    let envelope =
        json!({"entry": entry.to_value(), "disclosures": disclosures.iter().map(|d| d.to_value()).collect::<Vec<_>>()});
    let receipt = node.request("POST", "/v1/entries", &serde_json::to_vec(&envelope).unwrap());
    assert_eq!(receipt.status, 201, "{}", receipt.text());

    let path = format!("/v1/attachments/{digest}");
    assert_eq!(node.get(&path).status, 404, "a stranger cannot tell it exists");
    let registrant = node.signed("GET", &path, CONTRACTOR, b"");
    assert_eq!(registrant.status, 200, "{}", registrant.text());
    assert_eq!(registrant.body, survey);
    assert_eq!(registrant.header("cache-control"), Some("private, no-store"));
    let outsider = node.signed("GET", &path, OTHER, b"");
    assert_eq!((outsider.status, outsider.json()["error"]["code"].as_str()), (403, Some("auth.not_entitled")));

    // The reference is in no public view: the record and the item's passport show no digest.
    let item = node.get(&format!("/v1/items/{giai}")).text();
    assert!(!item.contains(&digest), "{item}");
}

#[test]
fn after_kill_9_an_acknowledged_upload_is_whole_and_an_unfinished_one_left_nothing_to_serve() {
    use std::io::Write;
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let acknowledged = jpeg(1600, 1200);
    assert_eq!(upload(&node, CONTRACTOR, &acknowledged).status, 201);

    // Half of a 4 MiB upload, then the node is killed while it reads the rest.
    let unfinished = {
        let mut bytes = jpeg(64, 48);
        bytes.resize(4 * 1024 * 1024, 0x55);
        bytes
    };
    let mut stream = std::net::TcpStream::connect(&node.address).unwrap();
    let mut head =
        format!("POST /v1/attachments HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n", node.address, unfinished.len());
    for (name, value) in node.signature_headers("POST", "/v1/attachments", CONTRACTOR) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&unfinished[..unfinished.len() / 2]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, _) = node.stop_with("KILL");
    assert!(!status.success());
    drop(stream);

    let node = Running::start(site.node(OPERATOR));
    let digest = blake3::hash(&acknowledged).to_hex().to_string();
    let held = node.signed("GET", &format!("/v1/attachments/{digest}"), CONTRACTOR, b"");
    assert_eq!(held.status, 200, "{}", held.text());
    assert_eq!(held.body, acknowledged, "the acknowledged upload is whole after kill -9");
    let attachments = site.dir.path().join("data/attachments");
    assert_eq!(std::fs::read_dir(attachments.join("incoming")).unwrap().count(), 0, "no partial file is kept");
    let unfinished_digest = blake3::hash(&unfinished).to_hex().to_string();
    assert!(!attachments.join("objects").join(&unfinished_digest[..2]).join(&unfinished_digest).exists());
    let objects: usize = std::fs::read_dir(attachments.join("objects"))
        .unwrap()
        .map(|dir| std::fs::read_dir(dir.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(objects, 1, "only the acknowledged file has a name");
}
