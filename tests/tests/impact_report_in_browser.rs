//! The impact report page (`GET /reports/impact`) in a real headless Chromium, on the
//! demo's ledger: both charts drawn as inline SVG with their tables, no script and nothing
//! on the console, WCAG 2.2 AA by axe-core, nothing wider than a phone, in English and in
//! Latvian. Screenshots are kept in `target/tmp/app-screens/impact-report-*.png` for people
//! to look at.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them) and the `salvage`
//! binary (`cargo test --workspace` builds it).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::process::Stdio;

use salvage_tests::browser::{Phone, PhoneOptions};
use salvage_tests::node::Running;
use salvage_tests::{free_port, salvage_command};
use serde_json::{Value, json};

/// What the page shows of itself: its charts, their bars and titles, its tables, its scripts.
const SHAPE: &str = "return {
    lang: document.documentElement.lang,
    charts: [...document.querySelectorAll('svg[role=img]')].map(svg => ({
        label: svg.getAttribute('aria-labelledby'),
        title: svg.querySelector('title').textContent,
        bars: svg.querySelectorAll('rect').length,
        width: svg.getBoundingClientRect().width,
    })),
    captions: [...document.querySelectorAll('caption')].map(caption => caption.textContent),
    scripts: document.scripts.length,
    heading: document.querySelector('h1').textContent,
}";

#[tokio::test]
async fn the_impact_report_renders_its_charts_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut demo = salvage_command();
    demo.args(["demo", "--data", data.to_str().unwrap(), "--listen", &listen])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let node = Running::start(demo);
    let page = |lang: &str| {
        format!("http://{}/reports/impact?building=Jelgava+sugar+factory+warehouse&lang={lang}", node.address)
    };

    for (lang, heading, width) in [("en", "Impact report", 360), ("lv", "Ietekmes pārskats", 1024)] {
        let phone = Phone::start(PhoneOptions { width, height: 1400, ..PhoneOptions::default() }).await;
        phone.goto(&page(lang)).await;
        let shape = phone.execute(SHAPE, vec![]).await;
        assert_eq!(shape["lang"], lang);
        assert_eq!(shape["heading"], heading);
        assert_eq!(shape["scripts"], 0, "the page has no script");
        let charts = shape["charts"].as_array().unwrap();
        assert_eq!(charts.len(), 2, "flows per month and mass by category: {shape}");
        assert_eq!(charts[0]["label"], "flows-title flows-desc");
        assert_eq!(charts[1]["label"], "categories-title categories-desc");
        for chart in charts {
            assert!(chart["bars"].as_u64().unwrap() >= 3, "bars are drawn: {chart}");
            let drawn = chart["width"].as_f64().unwrap();
            assert!(drawn > 100.0 && drawn <= f64::from(width), "the chart fits the screen: {chart}");
        }
        let captions: Vec<&str> = shape["captions"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        for chart in charts {
            let title = chart["title"].as_str().unwrap();
            assert!(captions.contains(&title), "a table beside the chart {title:?}: {captions:?}");
        }

        let errors: Vec<_> = phone.console().await.into_iter().filter(|entry| entry.level == "SEVERE").collect();
        assert!(errors.is_empty(), "the console shows errors: {errors:#?}");
        let violations = phone.accessibility_violations().await;
        assert!(violations.is_empty(), "the report breaks WCAG 2.2 AA rules: {violations:#?}");
        let overflowing = phone.overflowing().await;
        assert!(overflowing.is_empty(), "the report is wider than {width} px: {overflowing:#?}");
        let height = phone.execute("return document.documentElement.scrollHeight", vec![]).await;
        phone
            .cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": true}),
            )
            .await;
        let shot = phone.screenshot(&format!("impact-report-{lang}")).await;
        let image = image::open(&shot).unwrap().to_rgb8();
        let first = *image.get_pixel(0, 0);
        assert!(
            image.pixels().filter(|pixel| **pixel != first).count() > 20_000,
            "the page rendered: {}",
            shot.display()
        );
        // The bars are the chart's own colours: something blue was drawn.
        assert!(image.pixels().any(|pixel| pixel.0 == [0x1f, 0x5f, 0x8b]), "the bars were drawn: {}", shot.display());
        phone.close().await;
    }
    let json: Value = node.get_json("/reports/impact?building=Jelgava+sugar+factory+warehouse&format=json");
    assert!(json["mass_kg"]["registered"].as_f64().unwrap() > 0.0);
    let (exit, log) = node.terminate();
    assert!(exit.success(), "{log}");
}
