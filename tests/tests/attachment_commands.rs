//! The CLI's attachment checks as a certification body runs them, against a
//! real node holding a passport's photo and documents: `salvage bundle
//! --with-attachments` downloads and checks the files, `salvage verify BUNDLE
//! FILE…` checks them offline (and fails for a flipped byte or an unrelated
//! file), and `salvage audit --attachments` fetches every publicly named file
//! and reports the ones the node lost or corrupted.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use salvage_ledger::entry::Kind;
use salvage_ledger::testkit::passport;
use salvage_tests::node::{Running, Site};
use salvage_tests::salvage_binary;
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const CONTRACTOR: &str = "baltic-demolition";
const GIAI: &str = "4750001BEAM-0042";

/// `salvage ARGS…` with no node or genesis taken from the environment.
fn salvage(args: &[&str]) -> Output {
    Command::new(salvage_binary()).args(args).env_remove("SALVAGE_NODE").env_remove("SALVAGE_GENESIS").output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn failed(output: &Output) -> (String, String) {
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit status 1: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (String::from_utf8(output.stdout.clone()).unwrap(), String::from_utf8(output.stderr.clone()).unwrap())
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// A real JPEG photo with a gradient, so that it does not compress to nothing.
fn jpeg() -> Vec<u8> {
    let image = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([(x * 2 % 256) as u8, (y * 3 % 256) as u8, 90]));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85).encode_image(&image).unwrap();
    bytes
}

/// A node holding a beam whose passport names a photo and a survey publicly
/// and a second survey only in a restricted field (a format-1 ledger: the
/// reference is signed in the clear, but listed in `restricted`).
struct Beam {
    site: Site,
    /// Held so that the node runs as long as the test: dropping it kills the process.
    _node: Running,
    url: String,
    photo: Vec<u8>,
    survey: Vec<u8>,
    secret: Vec<u8>,
    /// The registration's position.
    seq: u64,
}

impl Beam {
    fn new() -> Beam {
        let site = Site::new(&[OPERATOR]);
        let node = Running::start(site.node(OPERATOR));
        let url = format!("http://{}", node.address);
        let photo = jpeg();
        let survey = b"%PDF-1.7\n% Hazardous materials survey, Jelgava sugar factory warehouse\n%%EOF\n".to_vec();
        let secret = b"%PDF-1.7\n% Asbestos sampling, room 12, with the owner's address\n%%EOF\n".to_vec();
        let reference = |bytes: &[u8], title: &str| {
            let answer = node.signed("POST", "/v1/attachments", CONTRACTOR, bytes);
            assert!(answer.status == 201, "{}", answer.text());
            let stored = answer.json();
            json!({"title": title, "media_type": stored["media_type"], "blake3": stored["blake3"], "size": stored["size"]})
        };
        let mut passport = passport(GIAI, "HEA 160 steel beam", 180.0);
        passport["photos"] = json!([reference(&photo, "On the rack")]);
        passport["documents"] =
            json!([reference(&survey, "Hazardous materials survey"), reference(&secret, "Asbestos sampling")]);
        passport["restricted"] = json!(["/documents/1"]);
        let entry = site.fixture.signed(&[CONTRACTOR], Kind::ItemRegister, json!({"giai": GIAI, "passport": passport}));
        let receipt = node.submit_one(&entry);
        assert_eq!(receipt.status, 201, "{}", receipt.text());
        let seq = receipt.json()["seq"].as_u64().unwrap();
        Beam { site, _node: node, url, photo, survey, secret, seq }
    }

    fn genesis(&self) -> PathBuf {
        self.site.path("genesis.json")
    }

    /// Where the node keeps the file of `bytes`.
    fn stored(&self, bytes: &[u8]) -> PathBuf {
        let digest = hex(bytes);
        self.site.dir.path().join("data/attachments/objects").join(&digest[..2]).join(&digest)
    }
}

#[test]
fn a_bundle_with_its_attachments_verifies_offline_and_a_changed_or_unrelated_file_does_not() {
    let beam = Beam::new();
    let dir = beam.site.path("take-home");
    std::fs::create_dir(&dir).unwrap();
    let bundle = dir.join("beam.bundle.json");
    let printed = ok(&salvage(&["bundle", GIAI, "--out", text(&bundle), "--node", &beam.url, "--with-attachments"]));
    let (photo_name, survey_name, secret_name) = (
        format!("{}.jpg", hex(&beam.photo)),
        format!("{}.pdf", hex(&beam.survey)),
        format!("{}.pdf", hex(&beam.secret)),
    );
    let seq = beam.seq;
    assert!(printed.contains(&format!("bundle of {GIAI} written to")), "{printed}");
    assert!(
        printed.contains(&format!(
            "{photo_name}: written ({} bytes; \"On the rack\", photo in record {seq} at /passport/photos/0)",
            beam.photo.len()
        )),
        "{printed}"
    );
    assert!(printed.contains(&format!("{survey_name}: written (77 bytes;")), "{printed}");
    assert!(
        printed.contains(&format!("{secret_name}: not downloaded: restricted (\"Asbestos sampling\"")),
        "{printed}"
    );
    assert_eq!(std::fs::read(dir.join(&photo_name)).unwrap(), beam.photo, "the exact bytes");
    assert_eq!(std::fs::read(dir.join(&survey_name)).unwrap(), beam.survey);
    assert!(!dir.join(&secret_name).exists(), "a restricted file is not downloaded");

    // Offline: the files given, or the directory (the bundle in it is left alone), are the ones named.
    let genesis = beam.genesis();
    let (photo, survey) = (dir.join(&photo_name), dir.join(&survey_name));
    let printed = ok(&salvage(&["verify", text(&bundle), text(&photo), text(&survey), "--genesis", text(&genesis)]));
    assert!(printed.contains("result           verified: no problem found"), "{printed}");
    assert!(
        printed.contains(&format!("{}: good: \"On the rack\", photo in record {seq}", photo.display())),
        "{printed}"
    );
    assert!(printed.contains("files            2 checked: all good"), "{printed}");
    let report: Value = serde_json::from_str(&ok(&salvage(&[
        "verify",
        text(&bundle),
        text(&dir),
        "--genesis",
        text(&genesis),
        "--json",
    ])))
    .unwrap();
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{report:#}");
    assert!(files.iter().all(|file| file["good"] == true), "{report:#}");
    assert_eq!(files[0]["named_by"][0]["seq"], seq);
    assert_eq!(report["problems"], json!([]));

    // One flipped byte: no record names those bytes.
    let mut flipped = beam.photo.clone();
    flipped[beam.photo.len() / 2] ^= 1;
    let changed = beam.site.path("changed.jpg");
    std::fs::write(&changed, &flipped).unwrap();
    let (stdout, stderr) =
        failed(&salvage(&["verify", text(&bundle), text(&photo), text(&changed), "--genesis", text(&genesis)]));
    assert!(
        stdout.contains(&format!(
            "{}: NOT GOOD: its BLAKE3 digest {} is named by no record",
            changed.display(),
            hex(&flipped)
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("{}: good:", photo.display())), "{stdout}");
    assert!(stdout.contains("files            2 checked: 1 NOT GOOD"), "{stdout}");
    assert!(stderr.contains("1 of 2 files is not what the bundle's records name"), "{stderr}");

    // The same bytes under the photo's name in the directory: they do not hash to it.
    std::fs::write(&photo, &flipped).unwrap();
    let (stdout, _) = failed(&salvage(&["verify", text(&bundle), text(&dir), "--genesis", text(&genesis)]));
    assert!(
        stdout.contains(&format!(
            "NOT GOOD: its bytes hash to {}, not to the {} its name gives",
            hex(&flipped),
            hex(&beam.photo)
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("{}: good:", survey.display())), "{stdout}");

    // An unrelated file, and one that is not there.
    let unrelated = beam.site.path("unrelated.pdf");
    std::fs::write(&unrelated, b"%PDF-1.7\n% minutes of a meeting\n%%EOF\n").unwrap();
    let (stdout, _) = failed(&salvage(&["verify", text(&bundle), text(&unrelated), "--genesis", text(&genesis)]));
    assert!(stdout.contains("NOT GOOD: its BLAKE3 digest") && stdout.contains("is named by no record"), "{stdout}");
    let (stdout, _) =
        failed(&salvage(&["verify", text(&bundle), text(&beam.site.path("nowhere.jpg")), "--genesis", text(&genesis)]));
    assert!(stdout.contains("nowhere.jpg: NOT GOOD:") && stdout.contains("does not exist"), "{stdout}");

    // Without files, the bundle alone verifies as before.
    ok(&salvage(&["verify", text(&bundle), "--genesis", text(&genesis)]));
}

#[test]
fn a_bundle_writes_what_the_node_can_give_and_fails_for_a_file_it_lost_or_corrupted() {
    let beam = Beam::new();
    // The node lost the survey and holds a corrupted photo.
    std::fs::remove_file(beam.stored(&beam.survey)).unwrap();
    let stored_photo = beam.stored(&beam.photo);
    let mut corrupted = beam.photo.clone();
    corrupted[beam.photo.len() / 2] ^= 1;
    std::fs::write(&stored_photo, &corrupted).unwrap();

    let bundle = beam.site.path("beam.bundle.json");
    let (stdout, stderr) =
        failed(&salvage(&["bundle", GIAI, "--out", text(&bundle), "--node", &beam.url, "--with-attachments"]));
    let survey_name = format!("{}.pdf", hex(&beam.survey));
    let photo_name = format!("{}.jpg", hex(&beam.photo));
    assert!(
        stdout.contains(&format!("{survey_name}: NOT WRITTEN: the node answered 503 attachment.fetching")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{photo_name}: NOT WRITTEN: the node's file is not the one named: its bytes hash to {}",
            hex(&corrupted)
        )),
        "{stdout}"
    );
    assert!(stderr.contains("2 of 3 attachments could not be written"), "{stderr}");
    assert!(bundle.is_file(), "the bundle is written all the same");
    assert!(
        !beam.site.path(&photo_name).exists() && !beam.site.path(&survey_name).exists(),
        "nothing unverified is written"
    );

    // Once the photo is whole again, it is written, and the JSON says what became of each file.
    std::fs::write(&stored_photo, &beam.photo).unwrap();
    let (stdout, _) = failed(&salvage(&[
        "bundle",
        GIAI,
        "--out",
        text(&bundle),
        "--node",
        &beam.url,
        "--with-attachments",
        "--json",
    ]));
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    let statuses: Vec<(&str, &str)> = answer["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|each| (each["blake3"].as_str().unwrap(), each["status"].as_str().unwrap()))
        .collect();
    let (photo, survey, secret) = (hex(&beam.photo), hex(&beam.survey), hex(&beam.secret));
    assert_eq!(
        statuses,
        vec![(photo.as_str(), "written"), (survey.as_str(), "failed"), (secret.as_str(), "restricted")]
    );
    assert_eq!(std::fs::read(beam.site.path(&photo_name)).unwrap(), beam.photo);
}

#[test]
fn an_audit_with_attachments_fetches_every_public_file_and_reports_the_ones_lost_or_changed() {
    let beam = Beam::new();
    let genesis = beam.genesis();
    let data = beam.site.path("data");

    // Everything held: clean, over HTTP and from the data directory.
    let summary: Value = serde_json::from_str(&ok(&salvage(&[
        "audit",
        "--node",
        &beam.url,
        "--genesis",
        text(&genesis),
        "--attachments",
        "--json",
    ])))
    .unwrap();
    assert_eq!(summary["clean"], true, "{summary:#}");
    assert_eq!(
        summary["attachments"],
        json!({"named": 3, "checked": 2, "verified": 2, "missing": 0, "mismatched": 0, "not_checked_restricted": 1, "problems": []})
    );
    let printed = ok(&salvage(&["audit", "--data", text(&data), "--genesis", text(&genesis), "--attachments"]));
    assert!(printed.contains("Attachments\n  checked      2 named in public fields\n"), "{printed}");
    assert!(printed.contains("not checked  1 named only in restricted fields (restricted)"), "{printed}");
    assert!(printed.contains("result       2 verified: every file has its name's bytes"), "{printed}");

    // The node loses the survey, and one byte of the photo changes on its disk.
    std::fs::remove_file(beam.stored(&beam.survey)).unwrap();
    let mut corrupted = beam.photo.clone();
    corrupted[beam.photo.len() / 2] ^= 1;
    std::fs::write(beam.stored(&beam.photo), &corrupted).unwrap();
    let seq = beam.seq;
    let (photo, survey) = (hex(&beam.photo), hex(&beam.survey));

    // Without --attachments the ledger alone is audited, and it is sound.
    ok(&salvage(&["audit", "--node", &beam.url, "--genesis", text(&genesis)]));

    let html = beam.site.path("audit.html");
    let (stdout, stderr) = failed(&salvage(&[
        "audit",
        "--node",
        &beam.url,
        "--genesis",
        text(&genesis),
        "--attachments",
        "--html",
        text(&html),
    ]));
    assert!(stdout.contains("result       clean: no problem found"), "the ledger itself is sound: {stdout}");
    assert!(stdout.contains("result       0 verified, 1 MISSING, 1 NOT AS NAMED"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "record {seq:<7} attachment.missing: {survey}: the node answered 503 attachment.fetching"
        )),
        "{stdout}"
    );
    assert!(
        stdout
            .contains(&format!("record {seq:<7} attachment.mismatch: {photo}: its bytes hash to {}", hex(&corrupted))),
        "{stdout}"
    );
    assert!(stderr.contains("the audit found 2 attachments missing or not as named"), "{stderr}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Attachments missing or not as named: 2"), "{page}");
    assert!(page.contains("<code>attachment.missing</code>"), "{page}");

    // The data directory tells the same story, from the files themselves.
    let (stdout, _) =
        failed(&salvage(&["audit", "--data", text(&data), "--genesis", text(&genesis), "--attachments", "--json"]));
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["clean"], true, "{summary:#}");
    let attachments = &summary["attachments"];
    assert_eq!(
        (attachments["missing"].as_u64(), attachments["mismatched"].as_u64()),
        (Some(1), Some(1)),
        "{attachments:#}"
    );
    let problems = attachments["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["code"] == "attachment.missing"
            && p["seq"] == seq
            && p["message"].as_str().unwrap().contains("does not exist")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["code"] == "attachment.mismatch" && p["message"].as_str().unwrap().starts_with(&photo)),
        "{problems:?}"
    );
}
