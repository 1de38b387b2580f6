//! Custody audits that raise every finding in every form its message takes, on small ledgers of
//! the demo consortium founded before the waste rules: for the tests of whatever puts findings
//! into words (the node's locales, the CLI's reports). Built only with the `testkit` feature.

use serde_json::{Value, json};

use super::{ChainBook, CustodyAudit, Scheme};
use crate::Ledger;
use crate::chain::Record;
use crate::entry::{Kind, SignedEntry, Timestamp};
use crate::testkit::{Fixture, asbestos_passport, passport};

/// The asbestos-cement sheet of issue 29, installed in a kindergarten.
pub const SHEET: &str = "4750002ROOF-0001";
/// An asbestos-cement sheet that stays available.
pub const STORED_SHEET: &str = "4750002ROOF-0002";
/// Hazardous waste without asbestos, disposed of by landfill.
pub const SLUDGE: &str = "4750002PAINT-0001";
/// A steel beam attested, amended, split and attested again.
pub const BEAM: &str = "4750001BEAM-0001";

/// Every finding, in every form: each audit of the list raises some (`audits()[n].findings`).
/// Panics if the demo ledger refuses an entry, which would be a bug of the test kit.
pub fn audits() -> Vec<CustodyAudit> {
    let f = Fixture::new();
    let on = |now: &str, records: &[Record]| audited(now, records);
    let waste = recorded(&f, waste(&f));
    let beam = recorded(&f, beam(&f));
    let outdated = recorded(&f, outdated(&f));
    vec![
        on("2026-12-06T12:00:00Z", &waste),
        on("2026-12-06T12:00:00Z", &beam),
        on("2026-12-06T12:00:00Z", &outdated),
        on("2100-01-01T00:00:00Z", &outdated),
    ]
}

/// Issue 29's kindergarten sequence, a second sheet that stays available, and hazardous waste
/// disposed of by landfill.
fn waste(f: &Fixture) -> Vec<SignedEntry> {
    let mut sludge = asbestos_passport(SLUDGE, 40.0);
    sludge["name"] = json!("Paint sludge in drums");
    sludge["category"] = json!("other");
    sludge["materials"] = json!([{"name": "Solvent-based paint residue", "fraction": 1.0}]);
    sludge["hazards"] = json!({"asbestos_free": true});
    sludge["legal_status"] = json!({"status": "waste", "list_of_waste_code": "08 01 11*"});
    let mut entries = f.kindergarten(SHEET);
    entries.extend([
        f.signed(
            &["riga-deconstruction"],
            Kind::ItemRegister,
            json!({"giai": STORED_SHEET, "passport": asbestos_passport(STORED_SHEET, 18.5)}),
        ),
        f.signed(&["riga-deconstruction"], Kind::ItemRegister, json!({"giai": SLUDGE, "passport": sludge})),
        f.signed(&["riga-deconstruction"], Kind::ItemDispose, json!({"giai": SLUDGE, "route": "landfill"})),
    ]);
    entries
}

/// A beam attested after its certificate's last day and again, amended, its second attestation
/// withdrawn, then split into parts that weigh 20 kg less.
fn beam(f: &Fixture) -> Vec<SignedEntry> {
    let parts: Vec<Value> = ["4750001BEAM-0002", "4750001BEAM-0003"]
        .iter()
        .map(|part| json!({"giai": part, "passport": passport(part, "Half beam", 80.0)}))
        .collect();
    vec![
        f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4),
        attest(f, 1, "2020-01-01"),
        attest(f, 1, "2099-12-01"),
        f.signed(
            &["baltic-demolition"],
            Kind::ItemAmend,
            json!({"giai": BEAM, "passport": passport(BEAM, "HEA 160 steel beam, sandblasted", 180.5)}),
        ),
        f.signed(
            &["baltic-cert"],
            Kind::ItemAttestWithdraw,
            json!({"giai": BEAM, "attestation": 2, "reason": "Wrong beam"}),
        ),
        f.signed(&["baltic-demolition"], Kind::ItemSplit, json!({"giai": BEAM, "parts": parts})),
    ]
}

/// A beam attested for its first passport, then amended: outdated now, expired in 2100.
fn outdated(f: &Fixture) -> Vec<SignedEntry> {
    vec![
        f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4),
        attest(f, 1, "2099-12-01"),
        f.signed(
            &["baltic-demolition"],
            Kind::ItemAmend,
            json!({"giai": BEAM, "passport": passport(BEAM, "b", 180.0)}),
        ),
    ]
}

fn attest(f: &Fixture, version: u64, valid_until: &str) -> SignedEntry {
    f.signed(
        &["baltic-cert"],
        Kind::ItemAttest,
        json!({"giai": BEAM, "passport_version": version,
            "attestation": {"type": "certification", "result": "pass", "summary": "ok", "valid_until": valid_until}}),
    )
}

/// Every record of a new demo ledger holding `entries`.
fn recorded(fixture: &Fixture, entries: Vec<SignedEntry>) -> Vec<Record> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ledger = Ledger::create(dir.path(), fixture.genesis.clone()).expect("a new demo ledger");
    for outcome in ledger.submit(entries).expect("the demo ledger takes entries") {
        outcome.expect("the demo ledger accepts every example entry");
    }
    let size = ledger.checkpoint().expect("a checkpoint").size();
    (0..size).map(|seq| ledger.record(seq).expect("a record just written")).collect()
}

/// The audit of every chain of `records` under the default scheme, as of `now`.
fn audited(now: &str, records: &[Record]) -> CustodyAudit {
    let scheme = Scheme::default_scheme();
    let mut book = ChainBook::new(&scheme, &[]).expect("no scope");
    records.iter().for_each(|record| book.note(record));
    book.finish(&Timestamp::parse(now).expect("an RFC 3339 time"), &scheme, None)
}
