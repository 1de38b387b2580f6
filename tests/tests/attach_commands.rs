//! `salvage attach`, and `register`, `import` and `attest` naming local files:
//! the real binary against a real node, as a contractor and a certifier use them.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::process::Output;

use salvage_ledger::attachment::MediaType;
use salvage_ledger::attachment::location_metadata;
use salvage_tests::node::{Running, Site};
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const CONTRACTOR: &str = "baltic-demolition";
const CERTIFIER: &str = "baltic-cert";

fn salvage(site: &Site, node: &Running, member: &str, args: &[&str]) -> Output {
    site.salvage_as(node, member).args(args).output().unwrap()
}

fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// A phone photo: a JPEG whose Exif carries a GPS IFD (and the orientation 6, upright when turned).
fn phone_photo(shade: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(320, 240, |x, y| image::Rgb([shade, (x % 256) as u8, (y % 256) as u8]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85).encode_image(&image).unwrap();
    // TIFF big-endian: IFD0 with Orientation = 6 and GPSInfo → an empty GPS IFD.
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let length = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE1, length[0], length[1]];
    bytes.extend_from_slice(&app1);
    bytes.extend_from_slice(&plain[2..]);
    bytes
}

const SURVEY: &[u8] = b"%PDF-1.7\n% Hazardous materials survey, Jelgava warehouse\n%%EOF\n";

#[test]
fn attach_strips_the_location_uploads_and_prints_the_reference_a_passport_takes() {
    let site = Site::new(&[OPERATOR, CONTRACTOR]);
    let node = Running::start(site.node(OPERATOR));
    let photo = phone_photo(200);
    assert!(location_metadata(&photo, MediaType::Jpeg).is_some(), "the test photo says where it was taken");
    std::fs::write(site.path("beam-north-end.jpg"), &photo).unwrap();
    std::fs::write(site.path("survey.pdf"), SURVEY).unwrap();

    let printed = succeeded(&salvage(
        &site,
        &node,
        CONTRACTOR,
        &["attach", "beam-north-end.jpg", "survey.pdf", "--title", "North end"],
    ));
    let references: Value = serde_json::from_str(&printed).unwrap();
    let [photo_ref, survey_ref] = references.as_array().unwrap().as_slice() else { panic!("{printed}") };
    assert_eq!(photo_ref["title"], "North end");
    assert_eq!(photo_ref["media_type"], "image/jpeg");
    assert_eq!(survey_ref["title"], "survey");
    assert_eq!(survey_ref["blake3"], blake3::hash(SURVEY).to_hex().as_str(), "a PDF goes up unchanged");

    // What the node holds is the stripped photo: no location, still the picture, still upright.
    let digest = photo_ref["blake3"].as_str().unwrap();
    let held = node.signed("GET", &format!("/v1/attachments/{digest}"), CONTRACTOR, b"");
    assert_eq!(held.status, 200, "{}", held.text());
    assert_eq!(held.body.len() as u64, photo_ref["size"].as_u64().unwrap());
    assert_eq!(location_metadata(&held.body, MediaType::Jpeg), None);
    assert!(held.body.len() < photo.len());
    let decoded = image::load_from_memory(&held.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 240));

    // A file that is no photo or document is refused before anything is sent.
    std::fs::write(site.path("notes.txt"), "not a photo").unwrap();
    let refused = salvage(&site, &node, CONTRACTOR, &["attach", "survey.pdf", "notes.txt"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("notes.txt: not a JPEG, PNG, WebP or PDF"));
}

#[test]
fn register_import_and_attest_upload_the_files_they_name_and_the_records_point_at_them() {
    let site = Site::new(&[OPERATOR, CONTRACTOR, CERTIFIER]);
    let node = Running::start(site.node(OPERATOR));
    std::fs::create_dir(site.path("photos")).unwrap();
    std::fs::write(site.path("photos/beam.jpg"), phone_photo(10)).unwrap();
    std::fs::write(site.path("photos/door.jpg"), phone_photo(90)).unwrap();
    std::fs::write(site.path("survey.pdf"), SURVEY).unwrap();
    std::fs::write(site.path("report.pdf"), b"%PDF-1.7\n% Inspection report EN 1090-2\n%%EOF\n").unwrap();

    // A passport naming its photo by path (relative to the passport), and a document given as a flag.
    let mut passport = salvage_ledger::testkit::passport("4750001BEAM-0101", "HEA 160 steel beam", 180.0);
    passport["photos"] = json!([{"file": "photos/beam.jpg", "title": "On the rack"}]);
    std::fs::write(site.path("beam.json"), serde_json::to_vec(&passport).unwrap()).unwrap();
    succeeded(&salvage(&site, &node, CONTRACTOR, &["register", "beam.json", "--document", "survey.pdf"]));
    let item = node.get_json("/v1/items/4750001BEAM-0101");
    let photo = &item["passport"]["photos"][0];
    assert_eq!(photo["title"], "On the rack");
    assert_eq!(item["passport"]["documents"][0]["blake3"], blake3::hash(SURVEY).to_hex().as_str());
    let served = node.get(&format!("/v1/attachments/{}", photo["blake3"].as_str().unwrap()));
    assert_eq!(served.status, 200, "anyone sees a public photo once a record names it");
    assert_eq!(location_metadata(&served.body, MediaType::Jpeg), None);

    // An inventory with photo and document columns.
    std::fs::write(
        site.path("inventory.csv"),
        "giai,name,category,mass_kg,photos,documents\n4750001DOOR-0201,Oak door,door,40,photos/door.jpg,survey.pdf\n",
    )
    .unwrap();
    succeeded(&salvage(&site, &node, CONTRACTOR, &["import", "inventory.csv"]));
    let door = node.get_json("/v1/items/4750001DOOR-0201");
    assert_eq!(door["passport"]["photos"][0]["media_type"], "image/jpeg");
    assert_eq!(door["passport"]["documents"][0]["title"], "survey");

    // A missing file stops the import before anything is registered.
    std::fs::write(
        site.path("broken.csv"),
        "giai,name,category,photos\n4750001DOOR-0202,Door,door,photos/missing.jpg\n",
    )
    .unwrap();
    let refused = salvage(&site, &node, CONTRACTOR, &["import", "broken.csv"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("row 2, column photos"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(node.get("/v1/items/4750001DOOR-0202").status, 404);

    // A certifier attests with its report as a file.
    std::fs::write(
        site.path("attestation.json"),
        r#"{"type": "inspection", "result": "pass", "summary": "Visual and hardness test."}"#,
    )
    .unwrap();
    succeeded(&salvage(
        &site,
        &node,
        CERTIFIER,
        &["attest", "4750001BEAM-0101", "attestation.json", "--report", "report.pdf"],
    ));
    let records = node.get_json("/v1/records?from=0&limit=100");
    let text = records.to_string();
    assert!(
        text.contains(blake3::hash(b"%PDF-1.7\n% Inspection report EN 1090-2\n%%EOF\n").to_hex().as_str()),
        "{text}"
    );
}
