use salvage_ledger::chain::{LeafHash, Record, Seq};
use salvage_ledger::entry::{Kind, SignedEntry, Timestamp};
use salvage_ledger::impact::Impact;
use salvage_ledger::testkit::{Fixture, passport};
use serde_json::json;

use super::*;
use crate::provenance::Locales;

/// A report of a beam installed, a pallet of bricks recycled and an asbestos panel landfilled.
fn report() -> ImpactReport {
    let f = Fixture::new();
    let mut bricks = passport("4750001BRICK-1", "Bricks", 1400.0);
    bricks["category"] = json!("masonry");
    let mut panel = passport("4750001PANEL-1", "Panel", 42.5);
    panel["category"] = json!("cladding");
    panel["hazards"] = json!({"asbestos_free": false});
    let register = |giai: &str, passport: serde_json::Value| {
        f.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": giai, "passport": passport}))
    };
    let entries: Vec<(&str, SignedEntry)> = vec![
        ("2026-11-23T09:00:00Z", f.genesis.clone()),
        ("2026-10-23T10:00:00Z", f.register("baltic-demolition", "4750001BEAM-1", "Beam <HEA 200>", 1253.27)),
        ("2026-10-23T10:00:00Z", register("4750001BRICK-1", bricks)),
        ("2026-10-23T10:00:00Z", register("4750001PANEL-1", panel)),
        (
            "2026-11-02T10:00:00Z",
            f.signed(
                &["baltic-demolition"],
                Kind::ItemInstall,
                json!({"giai": "4750001BEAM-1", "site": {"building": "Library"}}),
            ),
        ),
        (
            "2026-11-02T10:00:00Z",
            f.signed(
                &["baltic-demolition"],
                Kind::ItemDispose,
                json!({"giai": "4750001BRICK-1", "route": "recycling"}),
            ),
        ),
        (
            "2026-11-02T10:00:00Z",
            f.signed(
                &["baltic-demolition"],
                Kind::ItemDispose,
                json!({"giai": "4750001PANEL-1", "route": "landfill", "waste_code": "17 06 05*"}),
            ),
        ),
    ];
    let mut impact = Impact::new(None, &[]).unwrap();
    let mut prev = LeafHash::ZERO;
    for (seq, (accepted, entry)) in entries.into_iter().enumerate() {
        let record =
            Record { seq: Seq::new(seq as u64).unwrap(), prev, accepted: Timestamp::parse(accepted).unwrap(), entry };
        prev = record.leaf_hash();
        impact.push(&record).unwrap();
    }
    impact.report().unwrap()
}

#[test]
fn the_page_stands_alone_with_two_charts_and_their_tables() {
    let locales = Locales::embedded().unwrap();
    let context = PageContext { tool: "salvage test".into(), ..PageContext::default() };
    let page = html(&report(), locales.get("en").unwrap(), &context);
    assert!(page.starts_with("<!DOCTYPE html><html lang=\"en\">"), "{page}");
    assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("url("), "self-contained");
    assert_eq!(page.matches("<link").count(), 1, "the one link is the empty icon");
    assert!(page.contains("<link rel=\"icon\" href=\"data:,\">"));
    assert_eq!(page.matches("<svg role=\"img\"").count(), 2, "flows and categories");
    for id in ["flows-title", "flows-desc", "categories-title", "categories-desc"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert_eq!(page.matches("<caption>").count(), 3, "a table beside each chart, and the estimate's");
    // Rounded to 0.1 kg, thousands apart; months named; categories in words.
    assert!(page.contains("1\u{202f}253.3\u{a0}kg"), "the beam's mass, rounded");
    assert!(page.contains("Oct 2026") && page.contains("Nov 2026"));
    assert!(page.contains("Structural steel") && page.contains("Masonry"));
    assert!(page.contains("17 06 05*") && page.contains("Hazardous"));
    // 1253.27 reused + 1400 recycled of 2653.25 non-hazardous.
    assert!(page.contains("100.0\u{a0}%") && page.contains("This meets the criterion"), "{page}");
    assert!(page.contains("Salvage impact factors"), "the estimate names its table");
    assert!(!page.contains("report.impact."), "every string has a translation");
}

#[test]
fn the_latvian_page_speaks_latvian_with_a_decimal_comma() {
    let locales = Locales::embedded().unwrap();
    let context = PageContext {
        languages: vec![
            ("English".into(), "en".into(), "?lang=en".into()),
            ("Latviešu".into(), "lv".into(), "?lang=lv".into()),
        ],
        ..PageContext::default()
    };
    let page = html(&report(), locales.get("lv").unwrap(), &context);
    assert!(page.contains("<html lang=\"lv\">"));
    assert!(page.contains("Ietekmes pārskats") && page.contains("Nesošās tērauda konstrukcijas"));
    assert!(page.contains("1\u{202f}253,3\u{a0}kg"), "a decimal comma");
    assert!(page.contains("aria-current=\"page\">Latviešu"));
    assert!(!page.contains("report.impact."), "every string has a translation");
}

#[test]
fn text_from_the_ledger_is_escaped() {
    let locales = Locales::embedded().unwrap();
    let mut report = report();
    report.scope = vec!["building=<script>alert(1)</script>".into()];
    let page = html(&report, locales.default_locale(), &PageContext::default());
    assert!(!page.contains("<script>") && page.contains("&lt;script&gt;"));
}

#[test]
fn masses_round_to_a_tenth_and_never_to_minus_zero() {
    let locales = Locales::embedded().unwrap();
    let en = locales.default_locale();
    assert_eq!(kg(0.04, en), "0.0\u{a0}kg");
    assert_eq!(kg(-0.04, en), "0.0\u{a0}kg");
    assert_eq!(kg(1899.6000000000001, en), "1\u{202f}899.6\u{a0}kg");
    assert_eq!(kg(1234567.891, en), "1\u{202f}234\u{202f}567.9\u{a0}kg");
    assert_eq!(kg(-12.36, en), "-12.4\u{a0}kg");
}

#[test]
fn a_share_is_cut_not_rounded_up_to_the_threshold() {
    let locales = Locales::embedded().unwrap();
    let en = locales.default_locale();
    assert_eq!(percent(0.69999, en), "69.9\u{a0}%");
    assert_eq!(percent(0.99992, en), "99.9\u{a0}%");
    assert_eq!(percent(1.0, en), "100.0\u{a0}%");
    assert_eq!(percent(0.7, en), "70.0\u{a0}%");
}
