//! The provenance page as a buyer sees it: a real headless Chromium at a phone's
//! viewport against a real `salvage node`; the page carries no script at all. The screenshots are
//! kept in `target/tmp/provenance-phone-*.png` for people to look at.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it) and the `salvage` binary
//! (`cargo test --workspace` builds it).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use salvage_ledger::entry::Kind;
use salvage_ledger::testkit::passport;
use salvage_tests::node::{Running, Site};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const PHONE: (u32, u32) = (390, 844);
/// The narrowest phones in use.
const SMALL_PHONE: (u32, u32) = (360, 740);

/// Runs headless Chromium at a phone's viewport.
fn chromium(profile: &Path, action: &str, url: &str) -> std::process::Output {
    chromium_at(PHONE, profile, &[action], url)
}

/// Runs headless Chromium at `viewport` with `args` (an action and its options).
fn chromium_at(viewport: (u32, u32), profile: &Path, args: &[&str], url: &str) -> std::process::Output {
    assert!(
        Path::new(CHROMIUM).exists(),
        "this test needs Debian's chromium: apt-get install -y chromium (.ci/run does)"
    );
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={},{}", viewport.0, viewport.1))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_buyer_on_a_phone_sees_what_the_item_is_who_held_it_and_that_it_verifies() {
    let site = Site::new(&["city-of-jelgava"]);
    let node = Running::start(site.node("city-of-jelgava"));
    let giai = "4750001BEAM-0042";
    let fixture = &site.fixture;
    let answer = node.submit(&[
        fixture.register("baltic-demolition", giai, "HEA 160 steel beam", 182.5),
        fixture.transfer("baltic-demolition", giai, "reuse-hub"),
        fixture.receive("reuse-hub", giai),
    ]);
    assert_eq!(answer.status, 201, "{}", answer.text());

    for (lang, expected) in [
        ("en", ["HEA 160 steel beam", "Jelgava Reuse Hub", "Baltic Demolition SIA"]),
        ("lv", ["HEA 160 steel beam", "Jelgava Reuse Hub", "Baltic Demolition SIA"]),
    ] {
        let url = format!("http://{}/8004/{giai}?lang={lang}", node.address);
        let profile = site.path(&format!("chromium-{lang}"));
        let dom = chromium(&profile, "--dump-dom", &url);
        assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
        let dom = String::from_utf8(dom.stdout).unwrap();
        assert!(dom.contains(&format!("<html lang=\"{lang}\"")), "the page names its language:\n{dom}");
        for text in expected {
            assert!(dom.contains(text), "{lang}: the page shows {text:?}");
        }
        assert!(dom.contains(giai));
        assert!(dom.contains("<ol"), "the custody timeline is an ordered list");
        assert!(!dom.contains("<script"), "the page works without JavaScript because it has none");

        let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("provenance-phone-{lang}.png"));
        let _ = std::fs::remove_file(&screenshot);
        let shot = chromium(&profile, &format!("--screenshot={}", screenshot.display()), &url);
        assert!(shot.status.success(), "chromium failed: {}", String::from_utf8_lossy(&shot.stderr));
        let image = image::open(&screenshot).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), PHONE, "the screenshot is the phone's viewport");
        // Something was drawn: a page of one colour would mean a blank or failed render.
        let first = *image.get_pixel(0, 0);
        assert!(image.pixels().filter(|pixel| **pixel != first).count() > 5_000, "the page rendered content");
    }
}

/// Colours no page draws by itself, so pixels of them are the photos' thumbnails.
const MAGENTA: [u8; 3] = [230, 20, 200];
const TEAL: [u8; 3] = [10, 160, 150];

/// A real JPEG photo of one colour.
fn solid_jpeg(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb(colour));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&image).unwrap();
    bytes
}

/// How many pixels of `image` are `colour`, give or take JPEG's rounding.
fn pixels_near(image: &image::RgbImage, colour: [u8; 3]) -> usize {
    image.pixels().filter(|pixel| pixel.0.iter().zip(colour).all(|(have, want)| have.abs_diff(want) <= 24)).count()
}

#[test]
fn a_buyer_on_a_small_phone_sees_the_item_s_photos() {
    let site = Site::new(&["city-of-jelgava"]);
    let node = Running::start(site.node("city-of-jelgava"));
    let giai = "4750001DOOR-0108";
    // A landscape and a portrait photo, uploaded by the contractor as members do.
    let photos: Vec<Value> = [
        ("Oak door, outside face", (800, 600), MAGENTA),
        ("Oak door, hinge side", (600, 800), TEAL),
    ]
    .into_iter()
    .map(|(title, (width, height), colour)| {
        let stored = node.signed("POST", "/v1/attachments", "baltic-demolition", &solid_jpeg(width, height, colour));
        assert_eq!(stored.status, 201, "{}", stored.text());
        let stored = stored.json();
        json!({"title": title, "media_type": stored["media_type"], "blake3": stored["blake3"], "size": stored["size"]})
    })
    .collect();
    let mut passport = passport(giai, "Oak door with frame", 38.0);
    passport["category"] = json!("door");
    passport["photos"] = json!(photos);
    let entry =
        site.fixture.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": giai, "passport": passport}));
    let answer = node.submit_one(&entry);
    assert_eq!(answer.status, 201, "{}", answer.text());

    let url = format!("http://{}/8004/{giai}?lang=en", node.address);
    let profile = site.path("chromium-photos");
    let dom = chromium_at(SMALL_PHONE, &profile, &["--dump-dom"], &url);
    assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8(dom.stdout).unwrap();
    assert!(!dom.to_lowercase().contains("<script"), "the page has no script elements");
    assert_eq!(
        dom.matches("<img ").count(),
        2,
        "a thumbnail per photo, since the node holds both (it sets their sizes with \
         Provenance::set_thumbnails before rendering):\n{dom}"
    );
    for photo in &photos {
        let blake3 = photo["blake3"].as_str().unwrap();
        let thumbnail = node.get(&format!("/v1/attachments/{blake3}/thumbnail"));
        assert_eq!((thumbnail.status, thumbnail.header("content-type")), (200, Some("image/jpeg")));
        assert!(
            dom.contains(&format!(
                "<a href=\"/v1/attachments/{blake3}\"><img src=\"/v1/attachments/{blake3}/thumbnail\""
            )),
            "{dom}"
        );
    }
    assert_eq!(dom.matches("loading=\"lazy\"").count(), 2);

    // The thumbnails load lazily, and being in the first screen they load at once. Chromium
    // takes the screenshot after 10 s of virtual time, which stands still while a request is
    // pending: the thumbnails are in and painted by then, however slow the node.
    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("provenance-phone-photos.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = chromium_at(
        SMALL_PHONE,
        &profile,
        &["--virtual-time-budget=10000", &format!("--screenshot={}", screenshot.display())],
        &url,
    );
    assert!(shot.status.success(), "chromium failed: {}", String::from_utf8_lossy(&shot.stderr));
    let image = image::open(&screenshot).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), SMALL_PHONE, "the screenshot is the phone's viewport");
    // Each thumbnail is at least 144 CSS pixels wide (two to a row at 360 px): far more
    // pixels of its colour than any stray antialiasing could make.
    let (magenta, teal) = (pixels_near(&image, MAGENTA), pixels_near(&image, TEAL));
    assert!(
        magenta > 10_000,
        "the landscape photo's thumbnail was painted ({magenta} pixels): see {}",
        screenshot.display()
    );
    assert!(teal > 10_000, "the portrait photo's thumbnail was painted ({teal} pixels): see {}", screenshot.display());
}
