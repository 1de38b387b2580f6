//! Findings on real ledgers: issue 29's kindergarten sequence on a ledger founded before the
//! waste rules, a split that loses material, attestations expired, withdrawn and outdated, and
//! a sample anyone can draw again.

use serde_json::{Value, json};

use super::*;
use crate::Ledger;
use crate::testkit::Fixture;

const SHEET: &str = "4750002ROOF-0001";
const BEAM: &str = "4750001BEAM-0001";

/// A ledger holding `entries` (each must be accepted), and every record read back.
fn recorded(fixture: &Fixture, entries: Vec<crate::entry::SignedEntry>) -> (tempfile::TempDir, Vec<Record>) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(dir.path(), fixture.genesis.clone()).unwrap();
    for outcome in ledger.submit(entries).unwrap() {
        outcome.unwrap();
    }
    let size = ledger.checkpoint().unwrap().size();
    let records = (0..size).map(|seq| ledger.record(seq).unwrap()).collect();
    (dir, records)
}

fn audited(records: &[Record], scopes: &[Scope], sampling: Option<&Sampling>) -> CustodyAudit {
    audited_on("2026-12-06T12:00:00Z", records, scopes, sampling)
}

/// The ledger records at the real clock's time; an audit judges expiry on the day it is given.
fn audited_on(now: &str, records: &[Record], scopes: &[Scope], sampling: Option<&Sampling>) -> CustodyAudit {
    let scheme = Scheme::default_scheme();
    let mut book = ChainBook::new(&scheme, scopes).unwrap();
    records.iter().for_each(|record| book.note(record));
    book.finish(&Timestamp::parse(now).unwrap(), &scheme, sampling)
}

fn codes(audit: &CustodyAudit, giai: &str) -> Vec<&'static str> {
    audit.findings.iter().filter(|f| f.giai.as_str() == giai).map(|f| f.code.as_str()).collect()
}

fn kindergarten(f: &Fixture) -> Vec<crate::entry::SignedEntry> {
    f.kindergarten(SHEET)
}

#[test]
fn the_kindergarten_sequence_on_a_ledger_before_the_waste_rules_gives_both_findings_and_fails() {
    let f = Fixture::new();
    let (_dir, records) = recorded(&f, kindergarten(&f));
    let audit = audited(&records, &[], None);
    assert_eq!(
        codes(&audit, SHEET),
        [
            "finding.waste_to_non_handler",
            "finding.waste_installed",
            "finding.installed_without_inspection",
            "finding.hazard_not_disposed"
        ]
    );
    assert_eq!(audit.verdict, "fail");
    assert_eq!(audit.findings[0].seq, Some(records[2].seq.get()), "the transfer is named by its record");
    let chain = &audit.chains[0];
    let holders: Vec<&str> = chain.custody.iter().map(|hold| hold.member.as_str()).collect();
    assert_eq!(holders, ["riga-deconstruction", "timber-builders"]);
    assert!(chain.custody[0].until.is_some() && chain.custody[1].until.is_none());
    assert_eq!((chain.status, chain.installed_in.as_deref()), ("installed", Some("Jelgava kindergarten Pasaciņa")));
    assert!(chain.waste && chain.hazardous);
}

#[test]
fn a_clean_chain_passes_and_scopes_select_it() {
    let f = Fixture::new();
    let inspected = json!({"giai": BEAM, "passport_version": 1, "attestation": {"type": "inspection", "result": "pass", "summary": "ok", "valid_until": "2030-01-01"}});
    let (_dir, records) = recorded(
        &f,
        vec![
            f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4),
            f.signed(&["baltic-cert"], Kind::ItemAttest, inspected),
            f.transfer("baltic-demolition", BEAM, "timber-builders"),
            f.receive("timber-builders", BEAM),
            f.signed(
                &["timber-builders"],
                Kind::ItemInstall,
                json!({"giai": BEAM, "site": {"building": "Jelgava library"}}),
            ),
        ],
    );
    let audit = audited(&records, &[Scope::parse("member=timber-builders").unwrap()], None);
    assert_eq!((audit.items_in_scope, audit.verdict, audit.findings.len()), (1, "pass", 0), "{:?}", audit.findings);
    assert_eq!(audited(&records, &[Scope::parse("member=reuse-hub").unwrap()], None).items_in_scope, 0);
    let attestation = &audit.chains[0].attestations[0];
    assert_eq!(
        (attestation.certifier.as_ref().map(MemberId::as_str), attestation.expired),
        (Some("baltic-cert"), false)
    );
}

#[test]
fn expired_outdated_withdrawn_attestations_and_lost_material_are_found() {
    let f = Fixture::new();
    let attest = |version: u64, valid_until: &str| {
        f.signed(
            &["baltic-cert"],
            Kind::ItemAttest,
            json!({"giai": BEAM, "passport_version": version,
            "attestation": {"type": "certification", "result": "pass", "summary": "ok", "valid_until": valid_until}}),
        )
    };
    let mut amended = crate::testkit::passport(BEAM, "HEA 160 steel beam, sandblasted", 180.0);
    amended["category"] = json!("structural_steel");
    let parts: Vec<Value> = ["4750001BEAM-0002", "4750001BEAM-0003"]
        .iter()
        .map(|part| json!({"giai": part, "passport": crate::testkit::passport(part, "Half beam", 80.0)}))
        .collect();
    let (_dir, records) = recorded(
        &f,
        vec![
            f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4),
            attest(1, "2020-01-01"),
            attest(1, "2099-12-01"),
            f.signed(&["baltic-demolition"], Kind::ItemAmend, json!({"giai": BEAM, "passport": amended})),
            f.signed(
                &["baltic-cert"],
                Kind::ItemAttestWithdraw,
                json!({"giai": BEAM, "attestation": 2, "reason": "Wrong beam"}),
            ),
            f.signed(&["baltic-demolition"], Kind::ItemSplit, json!({"giai": BEAM, "parts": parts})),
        ],
    );
    let audit = audited(&records, &[], None);
    // Recorded after its last day; withdrawn; the parts weigh 160 of 180 kg (11 % lost).
    assert_eq!(
        codes(&audit, BEAM),
        ["finding.attestation_expired", "finding.attestation_withdrawn", "finding.split_mass_loss"]
    );
    assert_eq!(audit.verdict, "pass", "warnings and information only, under the default scheme");
    // A part inherits nothing to find; a beam still in circulation with an expired, outdated attestation would.
    let (_dir, records) = recorded(
        &f,
        vec![
            f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4),
            attest(1, "2099-12-01"),
            f.signed(
                &["baltic-demolition"],
                Kind::ItemAmend,
                json!({"giai": BEAM, "passport": crate::testkit::passport(BEAM, "b", 180.0)}),
            ),
        ],
    );
    assert_eq!(codes(&audited(&records, &[], None), BEAM), ["finding.attested_older_version"]);
    let later = audited_on("2100-01-01T00:00:00Z", &records, &[], None);
    assert_eq!(codes(&later, BEAM), ["finding.attestation_expired", "finding.attested_older_version"]);
}

#[test]
fn a_sample_is_the_same_for_the_same_root_and_another_after_one_more_record() {
    let f = Fixture::new();
    let entries: Vec<_> =
        (1..=40).map(|n| f.register("baltic-demolition", &format!("4750001BEAM-{n:04}"), "Beam", 100.0)).collect();
    let (_dir, records) = recorded(&f, entries);
    let sampling = |root: [u8; 32]| Sampling { k: 5, checkpoint_size: 41, root };
    let first = audited(&records, &[], Some(&sampling([7; 32]))).sample.unwrap();
    let again = audited(&records, &[], Some(&sampling([7; 32]))).sample.unwrap();
    let other = audited(&records, &[], Some(&sampling([8; 32]))).sample.unwrap();
    assert_eq!(first, again);
    assert_eq!(first.items.len(), 5);
    assert_ne!(first.items, other.items);
    // Recomputed by hand from the method the report states.
    let mut ranked: Vec<(String, [u8; 32])> = (1..=40)
        .map(|n| format!("4750001BEAM-{n:04}"))
        .map(|giai| {
            let rank = *blake3::keyed_hash(&[7; 32], giai.as_bytes()).as_bytes();
            (giai, rank)
        })
        .collect();
    ranked.sort_by_key(|(_, rank)| *rank);
    let mut expected: Vec<String> = ranked.into_iter().take(5).map(|(giai, _)| giai).collect();
    expected.sort();
    assert_eq!(first.items, expected);
}

#[test]
fn the_shipped_scheme_weighs_every_finding_and_a_scheme_with_a_typo_is_refused() {
    let text = include_str!("../../data/audit_scheme.toml");
    let scheme = Scheme::parse("audit_scheme.toml", text).unwrap();
    assert_eq!(scheme.severity(FindingCode::WasteInstalled), Severity::Error);
    let typo = text.replace("finding.waste_installed", "finding.waste_instaled");
    let error = Scheme::parse("mine.toml", &typo).unwrap_err().to_string();
    assert!(error.contains("mine.toml") && error.contains("finding.waste_instaled"), "{error}");
    let missing: String =
        text.lines().filter(|line| !line.contains("split_mass_loss\"")).collect::<Vec<_>>().join("\n");
    assert!(Scheme::parse("m.toml", &missing).unwrap_err().to_string().contains("finding.split_mass_loss"));
}

#[test]
fn every_finding_has_its_facts_and_the_examples_raise_every_form_of_every_message() {
    let audits = super::examples::audits();
    let findings: Vec<&Finding> = audits.iter().flat_map(|audit| &audit.findings).collect();
    for code in FindingCode::ALL {
        for template in code.templates() {
            assert!(
                findings.iter().any(|f| f.code == code && f.template == *template),
                "no example of {} as {template}",
                code.as_str()
            );
        }
    }
    for finding in &findings {
        assert!(finding.code.templates().contains(&finding.template), "{finding:?}");
        assert_eq!(finding.params["giai"], finding.giai.as_str());
        // Every fact is in the English message as written, but the marks, which it describes,
        // and the GIAI, which the withdrawal's message leaves to the finding's `giai`.
        for (name, value) in finding.params.iter().filter(|(name, _)| !matches!(**name, "marks" | "giai")) {
            assert!(finding.message.contains(value.as_str()), "{name} = {value:?} not in {:?}", finding.message);
        }
    }
    let marks = |giai: &str| {
        let finding = findings.iter().find(|f| f.giai.as_str() == giai && f.params.contains_key("marks")).unwrap();
        finding.params["marks"].clone()
    };
    assert_eq!(marks(SHEET), "waste 17 06 05*, asbestos");
    assert_eq!(marks(super::examples::SLUDGE), "waste 08 01 11*");
    let offered = findings.iter().find(|f| f.code == FindingCode::WasteToNonHandler).unwrap();
    let json = serde_json::to_value(offered).unwrap();
    assert_eq!(json["params"]["to"], "timber-builders", "{json:#}");
    assert!(json.get("template").is_none(), "the template is the reports' business, not the JSON's");
}

#[test]
fn the_kindergarten_findings_keep_their_english_messages() {
    let f = Fixture::new();
    let (_dir, records) = recorded(&f, kindergarten(&f));
    let audit = audited(&records, &[], None);
    let messages: Vec<&str> = audit.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "4750002ROOF-0001 is asbestos waste, offered to timber-builders, which is no waste handler",
            "4750002ROOF-0001 is asbestos waste and was installed in Jelgava kindergarten Pasaciņa",
            "4750002ROOF-0001 was installed in Jelgava kindergarten Pasaciņa with no passed attestation",
            "4750002ROOF-0001 is asbestos waste and is still installed, not disposed of",
        ]
    );
}
