//! The worked example of `docs/format.md`, recomputed from the code.
//!
//! Every value the page shows (canonical bytes, ids, signatures, leaf hashes,
//! the root and the checkpoint) is produced here and must appear verbatim in
//! the page, so the page can never drift from what the code does. Run with
//! `SALVAGE_PRINT_EXAMPLE=1 cargo test -p salvage-ledger --test format_example -- --nocapture`
//! to print the values.

// Test code: a failed unwrap is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use salvage_ledger::chain::{LeafHash, Record, Seq};
use salvage_ledger::checkpoint::{NoteSigner, SignedCheckpoint};
use salvage_ledger::custody::{Context, Element, State, StateLattice, VerifiedEntry};
use salvage_ledger::disclosure::{Salt, withhold};
use salvage_ledger::entry::{Kind, PublicKey, SignedEntry, Statement, Timestamp};
use salvage_ledger::merkle::{Blake3Hasher, MerkleHasher, root};
use salvage_ledger::store::checkpoint_origin;
use salvage_ledger::testkit::fixed_signing_key;
use serde_json::json;

fn time(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn example() -> Vec<(&'static str, String)> {
    let planning = fixed_signing_key("regional-planning");
    let contractor = fixed_signing_key("baltic-demolition");
    let genesis_statement = Statement {
        ledger: None,
        kind: Kind::Genesis,
        time: time("2026-11-23T09:00:00Z"),
        body: json!({
            "consortium": {"name": "Zemgale Materials Reuse Consortium", "country": "LV"},
            "admin_threshold": 1,
            "members": [
                {"id": "regional-planning", "name": "Zemgale Regional Planning Office", "roles": ["admin", "operator"],
                 "keys": [PublicKey::of(&planning).to_hex()]},
                {"id": "baltic-demolition", "name": "Baltic Demolition SIA", "roles": ["contractor", "holder"],
                 "keys": [PublicKey::of(&contractor).to_hex()]},
            ],
        }),
    };
    let genesis = SignedEntry::sign(genesis_statement, &[&planning]).unwrap();
    let ledger_id = genesis.id();
    let record0 = Record {
        seq: Seq::GENESIS,
        prev: LeafHash::ZERO,
        accepted: time("2026-11-23T09:00:00Z"),
        entry: genesis.clone(),
    };
    let leaf0 = record0.leaf_hash();

    let register_statement = Statement {
        ledger: Some(salvage_ledger::entry::LedgerId(ledger_id.0)),
        kind: Kind::ItemRegister,
        time: time("2026-11-23T09:30:00Z"),
        body: json!({"giai": "4750001BEAM-0001", "passport": {
            "identity": {"giai": "4750001BEAM-0001"},
            "name": "HEA 160 steel beam",
            "category": "structural_steel",
            "quantity": {"value": 1, "unit": "H87"},
            "mass_kg": 182.4,
            "legal_status": {"status": "used_product"}
        }}),
    };
    let register = SignedEntry::sign(register_statement, &[&contractor]).unwrap();
    let record1 = Record {
        seq: Seq::new(1).unwrap(),
        prev: leaf0,
        accepted: time("2026-11-23T09:30:01Z"),
        entry: register.clone(),
    };
    let leaf1 = record1.leaf_hash();

    let tree_root = root::<Blake3Hasher>(&[leaf0.0, leaf1.0]);
    assert_eq!(tree_root, Blake3Hasher::hash_children(&leaf0.0, &leaf1.0));
    let checkpoint = salvage_ledger::checkpoint::Checkpoint::new(
        checkpoint_origin(&salvage_ledger::entry::LedgerId(ledger_id.0)),
        2,
        tree_root,
    )
    .unwrap();
    let signed = SignedCheckpoint::sign(checkpoint, &NoteSigner { name: "regional-planning", key: &planning }).unwrap();

    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    vec![
        ("planning public key", PublicKey::of(&planning).to_hex()),
        ("contractor public key", PublicKey::of(&contractor).to_hex()),
        ("genesis statement JCS", text(genesis.statement().canonical_bytes())),
        ("ledger id", ledger_id.to_hex()),
        ("genesis signature", hex::encode(genesis.signatures()[0].sig.to_bytes())),
        ("record 0 JCS", text(record0.canonical_bytes())),
        ("leaf hash 0", leaf0.to_hex()),
        ("register statement JCS", text(register.statement().canonical_bytes())),
        ("entry id 1", register.id().to_hex()),
        ("register signature", hex::encode(register.signatures()[0].sig.to_bytes())),
        ("leaf hash 1", leaf1.to_hex()),
        ("root", hex::encode(tree_root)),
        ("checkpoint", signed.to_note()),
    ]
    .into_iter()
    .chain(state_digest_example(&genesis, &register))
    .collect()
}

/// §14's example: the state digests after records 0 and 1, and the elements they sum.
fn state_digest_example(genesis: &SignedEntry, register: &SignedEntry) -> Vec<(&'static str, String)> {
    let mut state = State::from_genesis(genesis).unwrap();
    let founded = hex::encode(state.digest());
    let consortium = Element::Consortium(state.consortium()).canonical_bytes();
    let member = state.members().next().map(|member| Element::Member(member).canonical_bytes()).unwrap();
    let context = Context { seq: Seq::new(1).unwrap(), accepted: time("2026-11-23T09:30:01Z") };
    let change = state.check(&VerifiedEntry::verify(register.clone()).unwrap(), &context).unwrap();
    state.apply(change);
    let item = state.items().next().map(|item| Element::Item(item).canonical_bytes()).unwrap();

    // The digest is the lattice's, however the terms are summed: recompute it from the elements.
    let mut lattice = StateLattice::new();
    lattice.add(&Element::Consortium(state.consortium()));
    state.members().for_each(|member| lattice.add(&Element::Member(member)));
    state.items().for_each(|item| lattice.add(&Element::Item(item)));
    assert_eq!(lattice.digest(), state.digest());

    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    vec![
        ("consortium element JCS", text(consortium)),
        ("first member element JCS", text(member)),
        ("item element JCS", text(item)),
        ("state digest after record 0", founded),
        ("state digest after record 1", hex::encode(state.digest())),
    ]
}

#[test]
fn format_md_shows_the_values_the_code_computes() {
    let page = include_str!("../../docs/format.md");
    let print = std::env::var_os("SALVAGE_PRINT_EXAMPLE").is_some();
    let values = [
        example(),
        disclosure_example(),
        attachment_example(),
        identifier_example(),
        waste_rules_example(),
        conclusion_example(),
    ]
    .concat();
    if print {
        for (name, value) in &values {
            println!("=== {name}\n{value}\n");
        }
    }
    for (name, value) in &values {
        assert!(page.contains(value.as_str()), "docs/format.md does not show the {name}:\n{value}");
    }
}

/// §13's example: one restricted address withheld from a registration.
fn disclosure_example() -> Vec<(&'static str, String)> {
    let body = json!({"giai": "4750001BEAM-0001", "passport": {
        "identity": {"giai": "4750001BEAM-0001"},
        "name": "Steel beam HEA 160",
        "category": "structural_steel",
        "quantity": {"value": 1, "unit": "H87"},
        "legal_status": {"status": "used_product"},
        "origin": {"building": "Jelgava sugar factory warehouse", "address": "Rūpniecības iela 1, Jelgava"},
        "restricted": ["/origin/address"],
    }});
    let salt = || Ok::<_, std::convert::Infallible>(Salt::from_bytes(std::array::from_fn(|index| index as u8)));
    let Ok(withheld) = withhold(Kind::ItemRegister, &body, salt);
    let (public, disclosures) = withheld.unwrap();
    let disclosure = &disclosures[0];
    vec![
        ("disclosure", String::from_utf8(disclosure.canonical_bytes()).unwrap()),
        ("disclosure digest", disclosure.digest().to_hex()),
        ("withheld body", String::from_utf8(salvage_ledger::canonical::value_to_canonical_bytes(&public)).unwrap()),
    ]
}

/// §15's example: a report stored as an attachment and the reference a passport makes to it.
fn attachment_example() -> Vec<(&'static str, String)> {
    use salvage_ledger::attachment::{AttachmentDigest, AttachmentRef, MediaType, named_in, sniff};
    let file = b"%PDF-1.7\n% Hazardous materials survey, Jelgava sugar factory warehouse\n%%EOF\n";
    let digest = AttachmentDigest::of(file);
    assert_eq!(sniff(file), Some(MediaType::Pdf));
    let reference = AttachmentRef {
        digest,
        media_type: MediaType::Pdf.as_str().to_owned(),
        size: Some(file.len() as u64),
        title: "Hazardous materials survey".into(),
    };
    let body = json!({"giai": "4750001BEAM-0001", "passport": {
        "documents": [reference.to_value()],
        "restricted": ["/documents/0"],
    }});
    let named = named_in(Kind::ItemRegister, &body);
    assert_eq!(named.len(), 1);
    assert!(!named[0].public, "a restricted document is for entitled members only");
    vec![
        ("attachment digest", digest.to_hex()),
        (
            "attachment reference",
            String::from_utf8(salvage_ledger::canonical::value_to_canonical_bytes(&reference.to_value())).unwrap(),
        ),
    ]
}

/// §16's example: the allocating demo consortium, a range allocated to the reuse hub, a
/// reservation of three GIAIs, the member element after it, and the EPCs of two items.
fn identifier_example() -> Vec<(&'static str, String)> {
    use salvage_ledger::ident::{CompanyPrefix, Giai, item_epc};
    use salvage_ledger::testkit::Fixture;
    let f = Fixture::allocating();
    let mut state = State::from_genesis(&f.genesis).unwrap();
    let admins = ["regional-planning", "city-of-jelgava"];
    let allocate = f.signed(
        &admins,
        Kind::GiaiAllocate,
        json!({"member": "reuse-hub", "prefix": "4750009", "first": 1000, "last": 1999}),
    );
    let contractor = f.signed(
        &admins,
        Kind::MemberUpdate,
        json!({"id": "reuse-hub", "roles": ["contractor", "holder", "operator"]}),
    );
    let reserve = f.signed(&["reuse-hub"], Kind::GiaiReserve, json!({"prefix": "4750009", "first": 1000, "count": 3}));
    for (seq, entry) in [allocate, contractor, reserve].into_iter().enumerate() {
        let context = Context { seq: Seq::new(seq as u64 + 1).unwrap(), accepted: time("2026-11-23T09:30:01Z") };
        let change = state.check(&VerifiedEntry::verify(entry).unwrap(), &context).unwrap();
        state.apply(change);
    }
    let hub = state.members().find(|member| member.id.as_str() == "reuse-hub").unwrap();
    let reserved = state.items().next().map(|item| Element::Item(item).canonical_bytes()).unwrap();
    let epc = |giai: &str, prefix: &str| {
        let tag = item_epc(&Giai::parse(giai).unwrap(), &CompanyPrefix::parse(prefix).unwrap()).unwrap();
        format!("{} {}", tag.to_hex(), tag.to_tag_uri())
    };
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    vec![
        ("allocating consortium element JCS", text(Element::Consortium(state.consortium()).canonical_bytes())),
        ("reuse hub member element JCS", text(Element::Member(hub).canonical_bytes())),
        ("reserved item element JCS", text(reserved)),
        ("EPC of a numeric serial", epc("47500091000", "4750009")),
        ("EPC of an alphanumeric reference", epc("4750001BEAM-0001", "4750001")),
    ]
}

/// §17's example: a ledger of rules 2, a beam attested and the attestation withdrawn.
fn waste_rules_example() -> Vec<(&'static str, String)> {
    use salvage_ledger::testkit::Fixture;
    let fixture = Fixture::waste_rules();
    let mut state = State::from_genesis(&fixture.genesis).unwrap();
    let beam = "4750001BEAM-0001";
    let attest = fixture.signed(
        &["baltic-cert"],
        Kind::ItemAttest,
        json!({"giai": beam, "passport_version": 1,
            "attestation": {"type": "inspection", "result": "pass", "summary": "Visual inspection"}}),
    );
    let withdraw = fixture.signed(
        &["baltic-cert"],
        Kind::ItemAttestWithdraw,
        json!({"giai": beam, "attestation": 2, "reason": "Report issued for another beam"}),
    );
    let entries = [fixture.register("baltic-demolition", beam, "HEA 160 steel beam", 182.4), attest, withdraw.clone()];
    for (seq, entry) in (1..).zip(entries) {
        let context = Context { seq: Seq::new(seq).unwrap(), accepted: time("2026-11-23T09:30:01Z") };
        let change = state.check(&VerifiedEntry::verify(entry).unwrap(), &context).unwrap();
        state.apply(change);
    }
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    vec![
        ("rules 2 consortium element JCS", text(Element::Consortium(state.consortium()).canonical_bytes())),
        ("withdrawal statement JCS", text(withdraw.statement().canonical_bytes())),
        (
            "item element with a withdrawn attestation JCS",
            text(state.items().next().map(|item| Element::Item(item).canonical_bytes()).unwrap()),
        ),
    ]
}

/// §18's example: a beam registered at record 1, and a certifier's conclusion at record 2 over the
/// ledger's first two records.
fn conclusion_example() -> Vec<(&'static str, String)> {
    use salvage_ledger::testkit::Fixture;
    let fixture = Fixture::new();
    let beam = "4750001BEAM-0001";
    let accepted = time("2026-11-23T09:30:01Z");
    let genesis =
        // Record 0 is accepted at the genesis statement's own time, as every ledger's is.
        Record {
            seq: Seq::GENESIS,
            prev: LeafHash::ZERO,
            accepted: fixture.genesis.statement().time.clone(),
            entry: fixture.genesis.clone(),
        };
    let register = fixture.register("baltic-demolition", beam, "HEA 160 steel beam", 182.4);
    let registered = Record {
        seq: Seq::new(1).unwrap(),
        prev: genesis.leaf_hash(),
        accepted: accepted.clone(),
        entry: register.clone(),
    };
    let root = root::<Blake3Hasher>(&[genesis.leaf_hash().0, registered.leaf_hash().0]);
    let report = br#"{"verdict":"pass"}"#;
    let conclusion = fixture.conclusion("baltic-cert", 2, &root, &[beam], report);
    let mut state = State::from_genesis(&fixture.genesis).unwrap();
    for (seq, entry) in [(1, register), (2, conclusion.clone())] {
        let context = Context { seq: Seq::new(seq).unwrap(), accepted: accepted.clone() };
        let change = state.check(&VerifiedEntry::verify(entry).unwrap(), &context).unwrap();
        state.apply(change);
    }
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    vec![
        ("root of the first two records", hex::encode(root)),
        ("blake3 of the report", blake3::hash(report).to_hex().to_string()),
        ("conclusion statement JCS", text(conclusion.statement().canonical_bytes())),
        (
            "item element after the conclusion JCS",
            text(state.items().next().map(|item| Element::Item(item).canonical_bytes()).unwrap()),
        ),
    ]
}
