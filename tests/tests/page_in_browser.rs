//! The provenance page as a buyer sees it: a real headless Chromium at a phone's
//! viewport against a real `salvage node`; the page carries no script at all. The screenshot is
//! kept in `target/tmp/provenance-phone-*.png` for people to look at.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it) and the `salvage` binary
//! (`cargo test --workspace` builds it).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use salvage_tests::node::{Running, Site};

const CHROMIUM: &str = "/usr/bin/chromium";
const PHONE: (u32, u32) = (390, 844);

/// Runs headless Chromium at a phone's viewport.
fn chromium(profile: &Path, action: &str, url: &str) -> std::process::Output {
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
        .arg(format!("--window-size={},{}", PHONE.0, PHONE.1))
        .arg(action)
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
