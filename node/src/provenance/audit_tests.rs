//! Custody audits on the page: an item that a certifier's `audit.conclusion` names shows who
//! audited its chain, when, and whether the report has a finding about it; an item no
//! conclusion names shows none. Checked on what a buyer reads: the page's text without tags.

use salvage_ledger::Ledger;
use salvage_ledger::chain::{LeafHash, Record, Seq};
use salvage_ledger::checkpoint::{NoteSigner, SignedCheckpoint};
use salvage_ledger::entry::{Kind, Timestamp};
use salvage_ledger::ident::Giai;
use salvage_ledger::testkit::Fixture;
use serde_json::{Value, json};

use super::Locales;
use super::attestations_view::audit_conclusion;
use super::page::render;
use super::view::{Event, MemberRef, Provenance};

const BEAM: &str = "4750001BEAM-0001";
const DOOR: &str = "4750001DOOR-0007";
const WINDOW: &str = "4750001WIN-0003";
const PAGE_URL: &str = "https://salvage.example/8004/4750001BEAM-0001";
const CERTIFIER: &str = "Baltic Building Certification";

struct Audited {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    f: Fixture,
}

/// Three items registered, then a conclusion without findings over the beam alone.
fn audited() -> Audited {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let entries = vec![
        f.register("baltic-demolition", BEAM, "Steel beam HEA 300", 529.8),
        f.register("riga-deconstruction", DOOR, "Oak door", 35.0),
        f.register("riga-deconstruction", WINDOW, "Oak casement window", 41.0),
    ];
    for outcome in ledger.submit(entries).unwrap() {
        outcome.unwrap();
    }
    let size = ledger.size();
    let root = ledger.root_at(size).unwrap();
    let conclusion = f.conclusion("baltic-cert", size, &root, &[BEAM], b"first report");
    ledger.submit(vec![conclusion]).unwrap().remove(0).unwrap();
    Audited { _dir: dir, ledger, f }
}

/// A second conclusion, which fails the audit: an error in the beam's chain, the door's clean.
fn flag_the_beam(a: &Audited) -> u64 {
    let size = a.ledger.size();
    let root = a.ledger.root_at(size).unwrap();
    let conclusion = a.f.signed(
        &["baltic-cert"],
        Kind::AuditConclusion,
        json!({"scope": ["member=baltic-demolition", "member=riga-deconstruction"],
               "checkpoint": {"size": size, "root": hex::encode(root)},
               "report": blake3::hash(b"second report").to_hex().as_str(), "verdict": "fail",
               "findings": {"errors": 1, "warnings": 0}, "items": [BEAM, DOOR], "flagged": [BEAM]}),
    );
    a.ledger.submit(vec![conclusion]).unwrap().remove(0).unwrap().seq.get()
}

fn provenance(a: &Audited, giai: &str) -> Provenance {
    let key = Fixture::key("regional-planning");
    let checkpoint =
        SignedCheckpoint::sign(a.ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
            .unwrap();
    Provenance::from_ledger(&a.ledger, &Giai::parse(giai).unwrap(), &checkpoint).unwrap().unwrap()
}

/// The page in `language` as its reader reads it: the text without tags, entities decoded.
fn page_text(p: &Provenance, language: &str) -> String {
    let locales = Locales::embedded().unwrap();
    let html = render(p, locales.get(language).unwrap(), &locales, PAGE_URL);
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// The calendar day of a ledger time, as the English and the Latvian page write it.
fn days(time: &Timestamp) -> (String, String) {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const LV: [&str; 12] = [
        "janvārī",
        "februārī",
        "martā",
        "aprīlī",
        "maijā",
        "jūnijā",
        "jūlijā",
        "augustā",
        "septembrī",
        "oktobrī",
        "novembrī",
        "decembrī",
    ];
    let text = time.as_str();
    let (year, month, day) =
        (&text[0..4], text[5..7].parse::<usize>().unwrap() - 1, text[8..10].trim_start_matches('0'));
    (format!("{day} {} {year}", EN[month]), format!("{year}. gada {day}. {}", LV[month]))
}

/// Asserts the needles occur in this order.
fn assert_in_order(text: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        let at = text[from..].find(needle).unwrap_or_else(|| panic!("{needle:?} missing after byte {from} of {text}"));
        from += at + needle.len();
    }
}

#[test]
fn an_audited_item_names_the_certifier_and_no_findings_in_english_and_latvian() {
    let a = audited();
    let p = provenance(&a, BEAM);
    assert_eq!(p.audits.len(), 1);
    let audit = &p.audits[0];
    let report = blake3::hash(b"first report").to_hex().to_string();
    assert_eq!(audit.certifier, MemberRef { id: "baltic-cert".to_owned(), name: CERTIFIER.to_owned() });
    assert_eq!((audit.verdict.as_str(), audit.flagged, audit.checkpoint_size), ("pass", false, 4));
    assert_eq!(audit.report_blake3, report);
    assert_eq!(audit.seq, a.ledger.size() - 1);
    assert!(p.timeline.iter().any(|step| step.event == Event::Audited { flagged: false } && step.seq == audit.seq));
    let (en_day, lv_day) = days(&audit.accepted);

    let en = page_text(&p, "en");
    assert_in_order(
        &en,
        &[
            "Who has held it",
            &format!("Custody chain audited by {CERTIFIER}: no findings."),
            "Inspections and certificates",
            &format!("Custody chain audited by {CERTIFIER} on {en_day}: no findings."),
            &format!("Ledger checkpoint of 4 records · report BLAKE3 {}… · overall verdict: pass", &report[..8]),
            &format!("ledger record {}", audit.seq),
            "Can I trust this record?",
        ],
    );
    assert!(!en.contains("findings noted"), "{en}");
    // The report's digest in full, where the shortened one is.
    let locales = Locales::embedded().unwrap();
    let html = render(&p, locales.default_locale(), &locales, PAGE_URL);
    assert!(html.contains(&format!("<code class=\"hash\" title=\"{report}\">{}…</code>", &report[..8])), "{html}");

    let lv = page_text(&p, "lv");
    assert_in_order(
        &lv,
        &[
            &format!("Piegādes ķēdi auditēja {CERTIFIER}: konstatējumu nav."),
            "Pārbaudes un sertifikāti",
            &format!("Piegādes ķēdi {lv_day} auditēja {CERTIFIER}: konstatējumu nav."),
            &format!("Virsgrāmatas kontrolpunkts (ierakstu skaits: 4) · pārskata BLAKE3 {}…", &report[..8]),
            "kopējais audita slēdziens: atbilst",
        ],
    );
    assert!(!lv.contains("ir konstatējumi"), "{lv}");
}

#[test]
fn a_second_conclusion_flagging_the_item_says_findings_were_noted() {
    let a = audited();
    let second = flag_the_beam(&a);
    let p = provenance(&a, BEAM);
    assert_eq!(
        p.audits.iter().map(|audit| (audit.flagged, audit.verdict.as_str())).collect::<Vec<_>>(),
        [(false, "pass"), (true, "fail")]
    );
    assert_eq!(p.audits[1].seq, second);
    let (en_day, lv_day) = days(&p.audits[1].accepted);
    let report = blake3::hash(b"second report").to_hex().to_string();

    let en = page_text(&p, "en");
    assert_in_order(
        &en,
        &[
            &format!("Custody chain audited by {CERTIFIER}: no findings."),
            &format!("Custody chain audited by {CERTIFIER}: findings noted."),
            &format!("Custody chain audited by {CERTIFIER} on "),
            ": no findings.",
            &format!("Custody chain audited by {CERTIFIER} on {en_day}: findings noted (see the certifier's report)."),
            &format!("Ledger checkpoint of 5 records · report BLAKE3 {}… · overall verdict: fail", &report[..8]),
            &format!("ledger record {second}"),
        ],
    );

    let lv = page_text(&p, "lv");
    assert_in_order(
        &lv,
        &[
            &format!("Piegādes ķēdi auditēja {CERTIFIER}: ir konstatējumi."),
            &format!("Piegādes ķēdi {lv_day} auditēja {CERTIFIER}: ir konstatējumi (skatiet sertificētāja pārskatu)."),
            "kopējais audita slēdziens: neatbilst",
        ],
    );
}

#[test]
fn a_failed_audit_that_does_not_flag_the_item_says_no_findings_and_the_verdict_only_in_small() {
    let a = audited();
    flag_the_beam(&a);
    let p = provenance(&a, DOOR);
    assert_eq!(p.audits.len(), 1);
    assert!(!p.audits[0].flagged && p.audits[0].verdict == "fail");
    let (en_day, _) = days(&p.audits[0].accepted);
    let en = page_text(&p, "en");
    assert_in_order(
        &en,
        &[
            &format!("Custody chain audited by {CERTIFIER} on {en_day}: no findings."),
            "Ledger checkpoint of 5 records",
            "overall verdict: fail",
        ],
    );
    assert!(!en.contains("findings noted"), "{en}");
}

#[test]
fn an_item_no_conclusion_names_shows_no_audit_line() {
    let a = audited();
    flag_the_beam(&a);
    let p = provenance(&a, WINDOW);
    assert!(p.audits.is_empty());
    assert!(!p.timeline.iter().any(|step| matches!(step.event, Event::Audited { .. })));
    for (language, audited) in [("en", "audited"), ("lv", "auditēja")] {
        let text = page_text(&p, language);
        assert!(!text.contains(audited) && !text.contains("BLAKE3 "), "{text}");
    }
}

#[test]
fn a_conclusion_with_a_missing_or_strange_field_is_skipped_not_fatal() {
    let f = Fixture::new();
    let beam = Giai::parse(BEAM).unwrap();
    let certifier = MemberRef { id: "baltic-cert".to_owned(), name: CERTIFIER.to_owned() };
    let good = json!({"scope": [], "checkpoint": {"size": 3, "root": "ab".repeat(32)}, "report": "cd".repeat(32),
                      "verdict": "pass", "findings": {"errors": 0, "warnings": 0}, "items": [BEAM]});
    let record = |body: Value| Record {
        seq: Seq::new(9).unwrap(),
        prev: LeafHash::ZERO,
        accepted: Timestamp::now(),
        entry: f.signed(&["baltic-cert"], Kind::AuditConclusion, body),
    };
    let conclusion = audit_conclusion(&record(good.clone()), &beam, certifier.clone()).unwrap();
    assert_eq!((conclusion.seq, conclusion.flagged, conclusion.report_short()), (9, false, "cdcdcdcd"));

    let strange = |pointer: &str, value: Option<Value>| {
        let mut body = good.clone();
        let (parent, field) = pointer.rsplit_once('/').unwrap();
        let holder = body.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        match value {
            Some(value) => holder.insert(field.to_owned(), value),
            None => holder.remove(field),
        };
        body
    };
    for body in [
        strange("/report", None),
        strange("/report", Some(json!("<script>alert(1)</script>"))),
        strange("/report", Some(json!("AB".repeat(32)))),
        strange("/verdict", Some(json!("excellent"))),
        strange("/verdict", Some(json!(1))),
        strange("/checkpoint/size", Some(json!(-1))),
        strange("/checkpoint", Some(json!("12"))),
        strange("/findings", None),
        strange("/items", Some(json!(["not a GIAI"]))),
        strange("/items", Some(json!([DOOR]))),
        json!(null),
        json!([BEAM]),
    ] {
        assert_eq!(audit_conclusion(&record(body.clone()), &beam, certifier.clone()), None, "{body}");
    }
}

#[test]
fn an_item_audited_many_times_shows_the_latest_five_and_counts_the_earlier() {
    let a = audited();
    for _ in 0..6 {
        flag_the_beam(&a);
    }
    let p = provenance(&a, BEAM);
    assert_eq!(p.audits.len(), 7);
    let en = page_text(&p, "en");
    assert!(en.contains("Earlier custody audits, not shown: 2."), "{en}");
    assert_eq!(en.matches(&format!("Custody chain audited by {CERTIFIER} on ")).count(), 5, "{en}");
    let lv = page_text(&p, "lv");
    assert!(lv.contains("Agrāki piegādes ķēdes auditi, kas nav parādīti (skaits: 2)."), "{lv}");
}
