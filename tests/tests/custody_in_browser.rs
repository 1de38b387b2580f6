//! What a certification body files and what a buyer reads about attestations, in a real
//! headless Chromium (issue 29): the audit report's custody-chain section (English and Latvian)
//! and the page's attestation panel with an expired and a withdrawn attestation. Both pass the
//! axe-core WCAG 2.2 AA rules; screenshots are kept in `target/tmp/app-screens/` for people.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::process::Command;

use salvage_ledger::entry::Kind;
use salvage_tests::browser::{Phone, PhoneOptions};
use salvage_tests::node::{Running, Site};
use salvage_tests::salvage_binary;
use serde_json::json;

const DOOR: &str = "4750002DOOR-0007";
const SHEET: &str = "4750002ROOF-0001";

#[tokio::test]
async fn the_custody_report_and_the_attestation_panel_render_and_pass_accessibility_rules() {
    let site = Site::new(&["city-of-jelgava"]);
    let node = Running::start(site.node("city-of-jelgava"));
    let f = &site.fixture;
    let certify = |certificate: &str, valid_until: &str| {
        f.signed(
            &["baltic-cert"],
            Kind::ItemAttest,
            json!({"giai": DOOR, "passport_version": 1, "attestation": {
            "type": "certification", "result": "pass", "certificate_id": certificate, "valid_until": valid_until,
            "summary": "Fire door EI30: certificate checked against the label."}}),
        )
    };
    let answer = node.submit(
        &[
            f.register("riga-deconstruction", DOOR, "Oak fire door EI30", 48.0),
            certify("BBC-2019-0031", "2020-01-01"),
            certify("BBC-2026-0512", "2031-12-31"),
        ]
        .into_iter()
        .chain(f.kindergarten(SHEET))
        .collect::<Vec<_>>(),
    );
    assert_eq!(answer.status, 201, "{}", answer.text());
    let withdraw = f.signed(
        &["baltic-cert"],
        Kind::ItemAttestWithdraw,
        json!({"giai": DOOR, "attestation": 3, "reason": "Issued for another door"}),
    );
    assert_eq!(node.submit(&[withdraw]).status, 201);

    let origin = format!("http://{}", node.address);
    let genesis = site.path("genesis.json");
    let phone = Phone::start(PhoneOptions { width: 1024, height: 900, ..PhoneOptions::default() }).await;
    for lang in ["en", "lv"] {
        let report = site.path(&format!("custody-{lang}.html"));
        let audit = Command::new(salvage_binary())
            .args(["audit", "--node", &origin, "--genesis", genesis.to_str().unwrap(), "--findings", "--lang", lang])
            .arg("--html")
            .arg(&report)
            .output()
            .unwrap();
        assert_eq!(
            audit.status.code(),
            Some(1),
            "the asbestos fails the scheme: {}",
            String::from_utf8_lossy(&audit.stderr)
        );
        phone.goto(&format!("file://{}", report.display())).await;
        let text = phone.execute("return document.body.innerText", vec![]).await;
        let text = text.as_str().unwrap();
        let heading = if lang == "en" { "Custody chains" } else { "Piegādes ķēdes" };
        assert!(text.contains(heading) && text.contains("finding.waste_installed"), "{text}");
        phone.execute("document.querySelector('section[lang]').scrollIntoView()", vec![]).await;
        phone.screenshot(&format!("custody-report-{lang}")).await;
        let violations = phone.accessibility_violations().await;
        assert!(violations.is_empty(), "the {lang} audit report breaks WCAG 2.2 AA rules: {violations:#?}");
    }

    phone.goto(&format!("{origin}/8004/{DOOR}?lang=en")).await;
    let text = phone.execute("return document.body.innerText", vec![]).await;
    let text = text.as_str().unwrap();
    for expected in
        ["Last inspected on", "(expired)", "Expired: it was valid until", "(withdrawn)", "Issued for another door"]
    {
        assert!(text.contains(expected), "{expected:?} is not on the page:\n{text}");
    }
    phone.execute("document.getElementById('attestations').scrollIntoView()", vec![]).await;
    phone.screenshot("attestation-panel").await;
    let violations = phone.accessibility_violations().await;
    assert!(violations.is_empty(), "the attestation panel breaks WCAG 2.2 AA rules: {violations:#?}");
    phone.close().await;
}
