//! The waste and attestation rules of a ledger of rules 2 (docs/rules.md §11), and what an audit
//! of a ledger of the first rules learns they would have refused.

use serde_json::{Value, json};

use super::tests::Harness;
use super::*;
use crate::testkit::{Fixture, WASTE_HANDLER, asbestos_passport, passport};

const SHEET: &str = "4750002ROOF-0001";
const RUBBLE: &str = "4750002RUBBLE-0001";

fn register(h: &Harness, giai: &str, passport: Value) -> SignedEntry {
    h.signed(&["riga-deconstruction"], Kind::ItemRegister, json!({"giai": giai, "passport": passport}))
}

fn install(h: &Harness, custodian: &str, giai: &str) -> SignedEntry {
    h.signed(
        &[custodian],
        Kind::ItemInstall,
        json!({"giai": giai, "site": {"building": "Jelgava kindergarten Pasaciņa"}}),
    )
}

fn dispose(h: &Harness, custodian: &str, giai: &str, route: &str) -> SignedEntry {
    h.signed(&[custodian], Kind::ItemDispose, json!({"giai": giai, "route": route, "waste_code": "17 06 05*"}))
}

fn attest(h: &Harness, giai: &str, version: u64, attestation: Value) -> SignedEntry {
    h.signed(
        &["baltic-cert"],
        Kind::ItemAttest,
        json!({"giai": giai, "passport_version": version, "attestation": attestation}),
    )
}

fn end_of_waste() -> Value {
    json!({"type": "end_of_waste", "result": "pass", "summary": "Cleaned, sorted and tested: prepared for reuse."})
}

fn amend(h: &Harness, giai: &str, passport: Value) -> SignedEntry {
    h.signed(&["riga-deconstruction"], Kind::ItemAmend, json!({"giai": giai, "passport": passport}))
}

/// Concrete rubble registered as (non-hazardous) waste: List of Waste 17 01 01.
fn rubble() -> Value {
    let mut passport = passport(RUBBLE, "Crushed concrete rubble, 1 t bag", 1000.0);
    passport["category"] = json!("concrete");
    passport["legal_status"] = json!({"status": "waste", "list_of_waste_code": "17 01 01"});
    passport
}

/// The kindergarten sequence of issue 29: an asbestos-cement sheet registered as waste, offered
/// to a builder, received and installed.
fn kindergarten(h: &mut Harness) -> Vec<Result<(), Refusal>> {
    let f = h.fixture.clone();
    let steps = [
        register(h, SHEET, asbestos_passport(SHEET, 18.5)),
        f.transfer("riga-deconstruction", SHEET, "timber-builders"),
        f.receive("timber-builders", SHEET),
        install(h, "timber-builders", SHEET),
    ];
    steps.into_iter().map(|entry| h.submit(entry)).collect()
}

#[test]
fn asbestos_waste_goes_only_to_a_waste_handler_is_never_installed_and_ends_as_hazardous_waste() {
    let mut h = Harness::with(Fixture::waste_rules());
    let f = h.fixture.clone();
    let outcomes = kindergarten(&mut h);
    assert!(outcomes[0].is_ok());
    assert_eq!(outcomes[1].as_ref().unwrap_err().code, RefusalCode::WasteRecipientNotHandler);
    assert!(outcomes[1].as_ref().unwrap_err().message.contains("asbestos"), "{:?}", outcomes[1]);
    assert_eq!(outcomes[2].as_ref().unwrap_err().code, RefusalCode::CustodyNoPendingTransfer);
    h.refused(install(&h, "riga-deconstruction", SHEET), RefusalCode::WasteNotInstallable);
    assert_eq!(
        h.state.may(&MemberId::parse("riga-deconstruction").unwrap(), &Giai::parse(SHEET).unwrap(), Action::Install),
        Err(Refusal::new(
            RefusalCode::WasteNotInstallable,
            h.submit(install(&h, "riga-deconstruction", SHEET)).unwrap_err().message
        )),
        "the app's verdict is the rule's own"
    );

    // A waste handler takes it although it is no holder, and cannot install it either.
    h.ok(f.transfer("riga-deconstruction", SHEET, WASTE_HANDLER));
    h.ok(f.receive(WASTE_HANDLER, SHEET));
    h.refused(install(&h, WASTE_HANDLER, SHEET), RefusalCode::WasteNotInstallable);
    h.refused(dispose(&h, WASTE_HANDLER, SHEET, "landfill"), RefusalCode::WasteRouteNotHazardous);
    h.refused(dispose(&h, WASTE_HANDLER, SHEET, "recycling"), RefusalCode::WasteRouteNotHazardous);
    h.ok(dispose(&h, WASTE_HANDLER, SHEET, "hazardous_waste_landfill"));
    assert_eq!(h.item(SHEET).status, ItemStatus::Disposed);
}

#[test]
fn a_waste_handler_receives_nothing_but_waste() {
    let mut h = Harness::with(Fixture::waste_rules());
    let f = h.fixture.clone();
    h.ok(f.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 182.4));
    h.refused(f.transfer("baltic-demolition", "4750001BEAM-0001", WASTE_HANDLER), RefusalCode::RoleMissing);
}

#[test]
fn non_hazardous_waste_may_be_landfilled_but_not_installed_until_a_certifier_ends_its_waste_status() {
    let mut h = Harness::with(Fixture::waste_rules());
    let f = h.fixture.clone();
    h.ok(register(&h, RUBBLE, rubble()));
    h.refused(f.transfer("riga-deconstruction", RUBBLE, "reuse-hub"), RefusalCode::WasteRecipientNotHandler);
    h.refused(install(&h, "riga-deconstruction", RUBBLE), RefusalCode::WasteNotInstallable);

    // Amending the passport to "product" does not make it one: only a certifier does.
    let mut product = rubble();
    product["legal_status"] = json!({"status": "end_of_waste"});
    h.ok(amend(&h, RUBBLE, product));
    h.refused(install(&h, "riga-deconstruction", RUBBLE), RefusalCode::WasteNotInstallable);
    // An end-of-waste attestation of an older passport version lifts nothing.
    h.ok(attest(&h, RUBBLE, 1, end_of_waste()));
    h.refused(install(&h, "riga-deconstruction", RUBBLE), RefusalCode::WasteNotInstallable);
    // Of the current version it does: the rubble is a product and follows the normal rules.
    h.ok(attest(&h, RUBBLE, 2, end_of_waste()));
    let lifted = h.item(RUBBLE).attestations.last().unwrap().seq;
    assert!(!h.item(RUBBLE).waste_marks.is_waste());
    h.ok(f.transfer("riga-deconstruction", RUBBLE, "reuse-hub"));
    h.ok(f.receive("reuse-hub", RUBBLE));

    // Withdrawn, it no longer counts: the rubble is waste again.
    let withdraw = |h: &Harness, signer: &str, seq: u64| {
        h.signed(
            &[signer],
            Kind::ItemAttestWithdraw,
            json!({"giai": RUBBLE, "attestation": seq, "reason": "Frost test of another batch"}),
        )
    };
    h.refused(withdraw(&h, "baltic-cert", 1), RefusalCode::AttestUnknownAttestation);
    h.refused(withdraw(&h, "reuse-hub", lifted.get()), RefusalCode::RoleMissing);
    h.ok(withdraw(&h, "baltic-cert", lifted.get()));
    h.refused(withdraw(&h, "baltic-cert", lifted.get()), RefusalCode::AttestAlreadyWithdrawn);
    assert!(h.item(RUBBLE).attestations.last().unwrap().withdrawn.is_some());
    assert!(h.item(RUBBLE).waste_marks.is_waste());
    h.refused(install(&h, "reuse-hub", RUBBLE), RefusalCode::WasteNotInstallable);
    // Not hazardous: any route.
    h.ok(dispose(&h, "reuse-hub", RUBBLE, "recycling"));
}

#[test]
fn only_the_certifier_that_made_an_attestation_withdraws_it() {
    let mut h = Harness::with(Fixture::waste_rules());
    let f = h.fixture.clone();
    let second = Fixture::key("latvian-cert");
    h.ok(h.signed(
        &["regional-planning", "city-of-jelgava"],
        Kind::MemberAdd,
        json!({"id": "latvian-cert", "name": "Latvian Certification", "roles": ["certifier"],
            "keys": [PublicKey::of(&second).to_hex()]}),
    ));
    h.ok(f.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 182.4));
    h.ok(h.signed(
        &["baltic-cert"],
        Kind::ItemAttest,
        json!({"giai": "4750001BEAM-0001", "passport_version": 1,
        "attestation": {"type": "inspection", "result": "pass", "summary": "Visual inspection"}}),
    ));
    let seq = h.item("4750001BEAM-0001").attestations[0].seq.get();
    h.refused(
        h.signed(
            &["latvian-cert"],
            Kind::ItemAttestWithdraw,
            json!({"giai": "4750001BEAM-0001", "attestation": seq, "reason": "Mine now"}),
        ),
        RefusalCode::AttestNotIssuer,
    );
}

#[test]
fn asbestos_is_never_reusable_but_a_survey_of_a_corrected_passport_clears_a_mistaken_listing() {
    let mut h = Harness::with(Fixture::waste_rules());
    h.ok(register(&h, SHEET, asbestos_passport(SHEET, 18.5)));
    h.refused(attest(&h, SHEET, 1, end_of_waste()), RefusalCode::WasteNeverReusable);

    // The survey was of another sheet: the contractor corrects the passport, which alone does
    // not clear the asbestos; a certifier's passed survey of the corrected passport does.
    let mut corrected = passport(SHEET, "Fibre-cement roof sheet (asbestos-free, 1992)", 18.5);
    corrected["hazards"] = json!({"survey_reference": "ZPR-HMS-2026-044", "asbestos_free": true});
    h.ok(amend(&h, SHEET, corrected));
    h.refused(install(&h, "riga-deconstruction", SHEET), RefusalCode::WasteNotInstallable);
    let survey =
        json!({"type": "hazard_survey", "result": "pass", "summary": "Laboratory analysis: no asbestos fibres."});
    h.ok(attest(&h, SHEET, 2, survey));
    // Still waste: the first passport said so, and no end-of-waste attestation lifted it.
    assert!(!h.item(SHEET).waste_marks.holds_asbestos());
    h.refused(install(&h, "riga-deconstruction", SHEET), RefusalCode::WasteNotInstallable);
    h.ok(attest(&h, SHEET, 2, end_of_waste()));
    h.ok(install(&h, "riga-deconstruction", SHEET));
}

#[test]
fn parts_of_waste_are_waste() {
    let mut h = Harness::with(Fixture::waste_rules());
    h.ok(register(&h, SHEET, asbestos_passport(SHEET, 18.5)));
    // The halves' passports forget the asbestos: the parent's listing goes with them all the same.
    let parts: Vec<Value> = ["4750002ROOF-0002", "4750002ROOF-0003"]
        .iter()
        .map(|part| json!({"giai": part, "passport": passport(part, "Half sheet", 9.0)}))
        .collect();
    h.ok(h.signed(&["riga-deconstruction"], Kind::ItemSplit, json!({"giai": SHEET, "parts": parts})));
    assert!(h.item("4750002ROOF-0002").waste_marks.holds_asbestos());
    h.refused(install(&h, "riga-deconstruction", "4750002ROOF-0003"), RefusalCode::WasteNotInstallable);
}

#[test]
fn an_attestation_is_not_recorded_after_its_last_valid_day() {
    let mut h = Harness::with(Fixture::waste_rules());
    let f = h.fixture.clone();
    h.ok(f.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 182.4));
    // The fixture's statements are accepted on 2026-11-23.
    let expired =
        json!({"type": "certification", "result": "pass", "summary": "CE marking", "valid_until": "2020-01-01"});
    h.refused(attest(&h, "4750001BEAM-0001", 1, expired), RefusalCode::AttestExpired);
    let last_day =
        json!({"type": "certification", "result": "pass", "summary": "CE marking", "valid_until": "2026-11-23"});
    h.ok(attest(&h, "4750001BEAM-0001", 1, last_day));
}

#[test]
fn a_ledger_of_the_first_rules_accepts_the_kindergarten_sequence_and_says_what_the_second_would_refuse() {
    let mut h = Harness::with(Fixture::new());
    let f = h.fixture.clone();
    let entries = [
        register(&h, SHEET, asbestos_passport(SHEET, 18.5)),
        f.transfer("riga-deconstruction", SHEET, "timber-builders"),
        f.receive("timber-builders", SHEET),
        install(&h, "timber-builders", SHEET),
        attest(
            &h,
            SHEET,
            1,
            json!({"type": "certification", "result": "pass", "summary": "x", "valid_until": "2020-01-01"}),
        ),
    ];
    let mut would_refuse = Vec::new();
    for entry in entries {
        let verified = VerifiedEntry::verify(entry).unwrap();
        let context = h.context();
        if let Some(refusal) = h.state.later_rules_verdict(&verified, &context) {
            would_refuse.push(refusal.code);
        }
        let change = h.state.check(&verified, &context).unwrap();
        h.state.apply(change);
        h.next_seq();
    }
    assert_eq!(
        would_refuse,
        [RefusalCode::WasteRecipientNotHandler, RefusalCode::WasteNotInstallable, RefusalCode::AttestExpired]
    );
    assert_eq!(h.item(SHEET).status, ItemStatus::Installed);
}

#[test]
fn the_marks_stay_out_of_the_state_digest() {
    let mut h = Harness::with(Fixture::waste_rules());
    h.ok(register(&h, SHEET, asbestos_passport(SHEET, 18.5)));
    let item = h.item(SHEET).clone();
    let mut unmarked = item.clone();
    unmarked.waste_marks = WasteMarks::default();
    assert_eq!(Element::Item(&item).canonical_bytes(), Element::Item(&unmarked).canonical_bytes());
    // A ledger founded before the second rules keeps its consortium's digest term.
    let first = State::from_genesis(&Fixture::new().genesis).unwrap();
    assert!(!String::from_utf8(Element::Consortium(first.consortium()).canonical_bytes()).unwrap().contains("rules"));
}
