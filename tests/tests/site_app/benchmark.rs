//! The app's speed on a slow phone (a benchmark, not a test: `#[ignore]`, run by hand and
//! recorded in docs/performance.md):
//!
//! ```sh
//! cargo build -p salvage-cli && cargo test -p salvage-tests --test site_app -- --ignored --nocapture benchmark
//! ```
//!
//! Chromium's CPU is throttled 4× and its network is DevTools' "Slow 4G" profile (562.5 ms
//! round trip, 1.44 Mbit/s down, 675 kbit/s up). It measures, five times each: how long the app
//! takes from navigation to its first usable screen with a cold cache (no HTTP cache, no
//! service worker) and with a warm one, and how long from the camera starting, a label in view,
//! to the item's actions on screen.

use super::*;

const RUNS: usize = 5;

#[tokio::test]
#[ignore = "a benchmark: run by hand, see the module's doc"]
async fn benchmark_app_on_a_slow_phone() {
    let site = Site::new(&["city-of-jelgava", "baltic-demolition"]);
    let node = Running::start(site.node("city-of-jelgava"));
    let giai = "4750001BEAM-0042";
    assert_eq!(node.submit(&[site.fixture.register("baltic-demolition", giai, "HEA 160 beam", 182.5)]).status, 201);
    let origin = format!("http://{}", node.address);

    // Cold: a phone that never opened the app (no HTTP cache, no service worker, no storage);
    // warm: the same phone opening it again, its service worker answering.
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..RUNS {
        let phone = Phone::start(PhoneOptions::default()).await;
        slow_down(&phone).await;
        phone.goto(&format!("{origin}/app/")).await;
        let app = App { phone };
        cold.push(mark(&app, "salvage:usable").await);
        app.wait("return navigator.serviceWorker.controller !== null", "the service worker").await;
        app.phone.goto(&format!("{origin}/app/")).await;
        warm.push(mark(&app, "salvage:usable").await);
        app.close().await;
    }

    // Scan to action: an enrolled phone's camera starts with a label in view; the item's
    // actions (judged by the node) show.
    let camera = site.path("label.y4m");
    qr_y4m(&format!("{PUBLIC_URL}/8004/{giai}"), &camera);
    let app = App::open(&node, PhoneOptions { camera: Some(camera), ..PhoneOptions::default() }).await;
    app.enrol(&site, &node, "baltic-demolition").await;
    slow_down(&app.phone).await;
    let mut scan = Vec::new();
    for _ in 0..RUNS {
        app.go("#/outbox").await;
        app.go("#/scan").await;
        let camera = mark(&app, "salvage:camera").await;
        let actions = mark(&app, "salvage:actions").await;
        scan.push(actions - camera);
        app.phone.execute("performance.clearMarks(); return true", vec![]).await;
    }
    app.close().await;

    let report = |name: &str, times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: median {:.0} ms, worst {:.0} ms ({times:.0?})",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    };
    report("cold start to usable", &mut cold);
    report("warm start to usable", &mut warm);
    report("scan to action", &mut scan);
}

/// CPU 4× slower, DevTools' "Slow 4G" network.
async fn slow_down(phone: &Phone) {
    phone.cdp("Network.enable", json!({})).await;
    phone.cdp("Emulation.setCPUThrottlingRate", json!({"rate": 4})).await;
    let network =
        json!({"offline": false, "latency": 562.5, "downloadThroughput": 180_000, "uploadThroughput": 84_375});
    phone.cdp("Network.emulateNetworkConditions", network).await;
}

/// The time of the performance mark `name` since the page's navigation, in ms.
async fn mark(app: &App, name: &str) -> f64 {
    let script =
        format!("const m = performance.getEntriesByName({}).at(-1); return m ? m.startTime : null;", json!(name));
    app.wait(&script, name).await.as_f64().unwrap()
}
