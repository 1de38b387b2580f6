//! The real-browser harness the web app's tests stand on (`salvage_tests::browser`), proved
//! against a real `salvage node`: a phone's viewport, a screenshot, the accessibility check, the
//! zoom, a fake camera filming a QR code, going offline and back, and the console. Screenshots
//! are kept in `target/tmp/app-screens/harness-*.png` for people to look at.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them) and the `salvage`
//! binary (`cargo test --workspace` builds it).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_tests::browser::{Phone, PhoneOptions, qr_y4m};
use salvage_tests::node::{PUBLIC_URL, Running, Site};
use serde_json::json;

/// Grabs one frame of the back camera, as a page scanning QR codes does, and returns the
/// track's size and the frame's grey levels (row by row).
const FILM: &str = "return (async () => {
    const stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: {ideal: 'environment'}}});
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = stream;
    await video.play();
    await new Promise(done => video.requestVideoFrameCallback(done));
    const {width, height} = stream.getVideoTracks()[0].getSettings();
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d');
    context.drawImage(video, 0, 0, width, height);
    const rgba = context.getImageData(0, 0, width, height).data;
    stream.getTracks().forEach(track => track.stop());
    const grey = [];
    for (let i = 0; i < rgba.length; i += 4) grey.push(rgba[i + 1]);
    return {width, height, grey};
})()";

/// A request from the page: its status, or why it failed.
const FETCH_STATUS: &str = "return fetch('/v1/status', {cache: 'no-store'})
    .then(answer => answer.status, error => 'failed: ' + error)";

#[tokio::test]
async fn a_phone_shows_a_page_films_a_qr_code_and_goes_offline() {
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
    let label = format!("{PUBLIC_URL}/8004/{giai}");
    let camera = site.path("label.y4m");
    qr_y4m(&label, &camera);

    let profile = site.path("phone-profile");
    let options = PhoneOptions { camera: Some(camera), profile: Some(profile.clone()), ..PhoneOptions::default() };
    let phone = Phone::start(options).await;
    let origin = format!("http://{}", node.address);

    // A phone's viewport, drawn at three device pixels per CSS pixel.
    phone.goto(&format!("{origin}/8004/{giai}?lang=en")).await;
    let screen = phone.execute("return [innerWidth, devicePixelRatio, navigator.maxTouchPoints > 0]", vec![]).await;
    assert_eq!(screen, json!([360, 3, true]));
    let text = phone.execute("return document.body.innerText", vec![]).await;
    assert!(text.as_str().unwrap().contains("HEA 160 steel beam"), "{text}");
    let shot = phone.screenshot("harness-provenance").await;
    assert_eq!(image::open(&shot).unwrap().to_rgb8().dimensions(), (1080, 2220), "{}", shot.display());

    let violations = phone.accessibility_violations().await;
    assert!(violations.is_empty(), "the provenance page breaks WCAG 2.2 AA rules: {violations:#?}");

    // At 200 % the phone is 180 CSS px wide, and the page should still fit it.
    phone.zoom(200).await;
    let zoomed = phone.execute("return [document.documentElement.clientWidth, devicePixelRatio]", vec![]).await;
    assert_eq!(zoomed, json!([180, 6]));
    let overflowing = phone.overflowing().await;
    assert!(overflowing.is_empty(), "the provenance page overflows at 200 %: {overflowing:#?}");
    let wide = "const wide = document.createElement('div'); wide.className = 'wide'; wide.style.width = '400px';
        document.body.append(wide)";
    phone.execute(wide, vec![]).await;
    assert!(
        phone.overflowing().await.iter().any(|element| element.starts_with("div.wide ")),
        "an element 400 px wide overflows"
    );
    phone.execute("document.querySelector('div.wide').remove()", vec![]).await;
    phone.screenshot("harness-provenance-200").await;
    phone.zoom(100).await;
    assert_eq!(phone.execute("return innerWidth", vec![]).await, 360);

    // The back camera films the label, which decodes to its URL.
    let film = phone.execute(FILM, vec![]).await;
    assert_eq!((&film["width"], &film["height"]), (&json!(640), &json!(480)));
    let grey: Vec<u8> = film["grey"].as_array().unwrap().iter().map(|level| level.as_u64().unwrap() as u8).collect();
    let frame = image::GrayImage::from_raw(640, 480, grey).unwrap();
    let mut frame = rqrr::PreparedImage::prepare(frame);
    let grids = frame.detect_grids();
    assert_eq!(grids.len(), 1, "the frame shows one QR code");
    assert_eq!(grids[0].decode().unwrap().1, label);

    // Offline, the page knows it and its requests fail; online again, they reach the node. (From
    // a page without the provenance page's CSP, `default-src 'none'`, which forbids requests.)
    phone.goto(&format!("{origin}/v1/status")).await;
    assert_eq!(phone.execute(FETCH_STATUS, vec![]).await, 200);
    phone.offline(true).await;
    assert_eq!(phone.execute("return navigator.onLine", vec![]).await, false);
    let failed = phone.execute(FETCH_STATUS, vec![]).await;
    assert!(failed.as_str().is_some_and(|failed| failed.starts_with("failed: TypeError")), "{failed}");
    phone.offline(false).await;
    assert_eq!(phone.execute("return navigator.onLine", vec![]).await, true);
    assert_eq!(phone.execute(FETCH_STATUS, vec![]).await, 200);

    // What the page writes to its console, and only since the last look.
    phone.console().await;
    phone.execute("console.error('x'); console.info('the harness says hello')", vec![]).await;
    let console = phone.console().await;
    let levels: Vec<(&str, bool)> =
        console.iter().map(|entry| (entry.level.as_str(), entry.message.ends_with("\"x\""))).collect();
    assert_eq!(levels, [("SEVERE", true), ("INFO", false)], "{console:#?}");
    assert_eq!(phone.console().await, vec![]);

    // What the page stored is still there for the next phone started on the same profile.
    phone.execute("localStorage.setItem('left', 'behind')", vec![]).await;
    phone.close().await;
    let phone = Phone::start(PhoneOptions { profile: Some(profile), ..PhoneOptions::default() }).await;
    phone.goto(&format!("{origin}/v1/status")).await;
    assert_eq!(phone.execute("return localStorage.getItem('left')", vec![]).await, "behind");
    phone.close().await;
}
