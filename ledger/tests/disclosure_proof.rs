//! A disclosure proof verifies offline against the genesis alone, and one
//! whose value, salt or pointer was changed does not.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_ledger::checkpoint::{NoteSigner, SignedCheckpoint};
use salvage_ledger::disclosure_proof::{DisclosureProof, ProofError, verify_disclosure_proof};
use salvage_ledger::entry::Kind;
use salvage_ledger::ident::Giai;
use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::{Fixture, passport};
use serde_json::json;

const GIAI: &str = "4750001PROOF-1";
const ADDRESS: &str = "Rūpniecības iela 12, Jelgava";

fn proof() -> (Fixture, DisclosureProof) {
    let f = Fixture::withholding();
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let mut body = passport(GIAI, "Beam", 100.0);
    body["origin"]["address"] = json!(ADDRESS);
    body["restricted"] = json!(["/origin/address", "/mass_kg"]);
    let (entry, disclosures) =
        f.withheld(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": GIAI, "passport": body}));
    ledger.submit_disclosed(vec![(entry, disclosures)]).unwrap().remove(0).unwrap();
    let checkpoint = signed_checkpoint(&ledger);
    let bundle = ledger.bundle(&Giai::parse(GIAI).unwrap(), &checkpoint).unwrap();
    let held = ledger.disclosures(1).unwrap().unwrap();
    let address = held.iter().find(|d| d.place().to_string() == "/passport/origin/address").unwrap();
    (f, DisclosureProof::new(1, address, bundle))
}

fn signed_checkpoint(ledger: &Ledger) -> SignedCheckpoint {
    let key = Fixture::key("city-of-jelgava");
    SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "city-of-jelgava", key: &key }).unwrap()
}

#[test]
fn a_disclosure_proof_proves_its_value_and_nothing_else() {
    let (f, proof) = proof();
    let text = serde_json::to_string(&proof).unwrap();
    assert!(text.contains(ADDRESS));
    assert!(!text.contains("\"mass_kg\":100"), "the other withheld value stays withheld");
    let read: DisclosureProof = serde_json::from_str(&text).unwrap();
    let (proven, report) = verify_disclosure_proof(&read, &f.genesis, 1).unwrap();
    assert!(report.is_clean());
    assert_eq!((proven.pointer.as_str(), proven.value.as_str()), ("/passport/origin/address", Some(ADDRESS)));
    assert_eq!(proven.signed_by, vec!["baltic-demolition".to_owned()]);
}

#[test]
fn a_proof_with_a_changed_value_salt_or_pointer_does_not_verify() {
    let (f, proof) = proof();
    let mut value = proof.clone();
    value.disclosure[2] = json!("Another street 1, Riga");
    let mut salt = proof.clone();
    salt.disclosure[0] = json!("00000000000000000000000000000000");
    let mut pointer = proof.clone();
    pointer.disclosure[1] = json!("/passport/name");
    let mut seq = proof.clone();
    seq.seq = 0;
    for changed in [value, salt, pointer, seq] {
        let error = verify_disclosure_proof(&changed, &f.genesis, 1).expect_err("a changed proof must not verify");
        assert!(matches!(error, ProofError::Disclosure { .. }), "{error}");
    }
    let mut format = proof.clone();
    format.format = "salvage-disclosure-proof/v0".to_owned();
    assert!(matches!(verify_disclosure_proof(&format, &f.genesis, 1), Err(ProofError::Format(_))));
    let mut tampered = proof;
    tampered.bundle.records[1].record.accepted =
        salvage_ledger::entry::Timestamp::parse("2026-11-24T00:00:00Z").unwrap();
    assert!(matches!(verify_disclosure_proof(&tampered, &f.genesis, 1), Err(ProofError::Bundle(_))));
    // Another consortium's genesis does not vouch for it.
    let (_, proof) = self::proof();
    assert!(verify_disclosure_proof(&proof, &Fixture::new().genesis, 1).is_err());
}
