use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::entry::Statement;
use crate::testkit::{Fixture, passport};

const BEAM: &str = "4750001BEAM-0001";

/// Applies entries to a state the way the ledger does: verify, check, apply.
pub(super) struct Harness {
    pub(super) fixture: Fixture,
    pub(super) state: State,
    next: u64,
}

impl Harness {
    pub(super) fn new() -> Harness {
        Harness::with(Fixture::new())
    }

    pub(super) fn with(fixture: Fixture) -> Harness {
        let state = State::from_genesis(&fixture.genesis).unwrap();
        Harness { fixture, state, next: 1 }
    }

    pub(super) fn context(&self) -> Context {
        Context { seq: Seq::new(self.next).unwrap(), accepted: self.fixture.time.clone() }
    }

    pub(super) fn submit(&mut self, entry: SignedEntry) -> Result<(), Refusal> {
        let verified = VerifiedEntry::verify(entry)?;
        let change = self.state.check(&verified, &self.context())?;
        self.state.apply(change);
        self.next += 1;
        Ok(())
    }

    /// Submits an entry that must be refused with `code`, and checks it changed nothing.
    /// Moves on to the next record after an entry applied by hand.
    pub(super) fn next_seq(&mut self) {
        self.next += 1;
    }

    pub(super) fn refused(&mut self, entry: SignedEntry, code: RefusalCode) {
        let before = self.state.clone();
        let refusal = self.submit(entry).expect_err("entry should be refused");
        assert_eq!(refusal.code, code, "{refusal}");
        assert!(!refusal.message.is_empty());
        assert!(self.state == before, "a refused entry changed the state");
    }

    pub(super) fn ok(&mut self, entry: SignedEntry) {
        if let Err(refusal) = self.submit(entry) {
            panic!("refused: {refusal}");
        }
    }

    pub(super) fn item(&self, giai: &str) -> &ItemState {
        self.state.item(&Giai::parse(giai).unwrap()).unwrap()
    }

    pub(super) fn signed(&self, signers: &[&str], kind: Kind, body: serde_json::Value) -> SignedEntry {
        self.fixture.signed(signers, kind, body)
    }
}

fn id(text: &str) -> MemberId {
    MemberId::parse(text).unwrap()
}

#[test]
fn an_item_lives_from_dismantling_to_reuse() {
    let mut h = Harness::new();
    let f = h.fixture.clone();
    h.ok(f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4));
    assert_eq!(h.item(BEAM).custodian, id("baltic-demolition"));
    assert_eq!(h.item(BEAM).passport_version, 1);

    h.ok(f.transfer("baltic-demolition", BEAM, "reuse-hub"));
    assert_eq!(h.item(BEAM).pending.as_ref().unwrap().to, id("reuse-hub"));
    assert_eq!(h.item(BEAM).custodian, id("baltic-demolition"), "custody moves only on receipt");
    h.ok(f.receive("reuse-hub", BEAM));
    assert_eq!(h.item(BEAM).custodian, id("reuse-hub"));
    assert!(h.item(BEAM).pending.is_none());

    h.ok(h.signed(
        &["reuse-hub"],
        Kind::ItemAmend,
        json!({"giai": BEAM, "passport": passport(BEAM, "HEA 160 beam, blasted", 180.0)}),
    ));
    assert_eq!(h.item(BEAM).passport_version, 2);
    h.ok(h.signed(&["baltic-cert"], Kind::ItemAttest, json!({"giai": BEAM, "passport_version": 2,
        "attestation": {"type": "inspection", "result": "pass", "grade": "A", "summary": "Visual and ultrasonic inspection"}})));
    assert_eq!(h.item(BEAM).attestations.len(), 1);

    h.ok(h.signed(
        &["reuse-hub"],
        Kind::ItemSplit,
        json!({"giai": BEAM, "parts": [
            {"giai": "4750001BEAM-0001A", "passport": passport("4750001BEAM-0001A", "HEA 160, 4 m", 120.0)},
            {"giai": "4750001BEAM-0001B", "passport": passport("4750001BEAM-0001B", "HEA 160, 2 m", 60.0)},
        ]}),
    ));
    assert_eq!(h.item(BEAM).status, ItemStatus::Split);
    assert_eq!(h.item("4750001BEAM-0001A").parent.as_ref().unwrap().as_str(), BEAM);
    assert_eq!(h.item("4750001BEAM-0001B").custodian, id("reuse-hub"));

    let part = "4750001BEAM-0001A";
    h.ok(f.transfer("reuse-hub", part, "timber-builders"));
    h.ok(f.receive("timber-builders", part));
    h.ok(h.signed(
        &["timber-builders"],
        Kind::ItemInstall,
        json!({"giai": part, "site": {"building": "Jelgava library extension"}}),
    ));
    assert_eq!(h.item(part).status, ItemStatus::Installed);
    h.ok(h.signed(&["timber-builders"], Kind::ItemDismantle, json!({"giai": part})));
    assert_eq!(h.item(part).status, ItemStatus::Available);
    h.ok(h.signed(&["timber-builders"], Kind::ItemDispose, json!({"giai": part, "route": "recycling"})));
    assert_eq!(h.item(part).status, ItemStatus::Disposed);
}

#[test]
fn every_item_rule_refuses_with_its_code_and_changes_nothing() {
    let mut h = Harness::new();
    let f = h.fixture.clone();
    // Registration needs the contractor role and a passport naming the same item.
    h.refused(f.register("reuse-hub", BEAM, "beam", 100.0), RefusalCode::RoleMissing);
    h.refused(
        h.signed(
            &["baltic-demolition"],
            Kind::ItemRegister,
            json!({"giai": BEAM, "passport": passport("4750001OTHER", "x", 1.0)}),
        ),
        RefusalCode::PassportGiaiMismatch,
    );
    h.ok(f.register("baltic-demolition", BEAM, "beam", 100.0));
    h.refused(f.register("baltic-demolition", BEAM, "beam", 100.0), RefusalCode::ItemExists);
    h.refused(f.register("riga-deconstruction", BEAM, "beam", 100.0), RefusalCode::ItemExists);
    h.refused(f.transfer("baltic-demolition", "4750001NOPE", "reuse-hub"), RefusalCode::ItemUnknown);

    // Only the custodian acts on an item, for one member only.
    h.refused(f.transfer("riga-deconstruction", BEAM, "reuse-hub"), RefusalCode::CustodyNotCustodian);
    h.refused(
        h.signed(
            &["baltic-demolition", "riga-deconstruction"],
            Kind::ItemTransfer,
            json!({"giai": BEAM, "to": "reuse-hub"}),
        ),
        RefusalCode::SignatureMultipleMembers,
    );
    h.refused(f.transfer("baltic-demolition", BEAM, "baltic-demolition"), RefusalCode::CustodySelfTransfer);
    h.refused(f.transfer("baltic-demolition", BEAM, "nobody"), RefusalCode::MemberUnknown);
    h.refused(f.transfer("baltic-demolition", BEAM, "baltic-cert"), RefusalCode::RoleMissing);
    h.refused(f.receive("reuse-hub", BEAM), RefusalCode::CustodyNoPendingTransfer);
    h.refused(
        h.signed(&["baltic-demolition"], Kind::ItemCancel, json!({"giai": BEAM})),
        RefusalCode::CustodyNoPendingTransfer,
    );

    // A pending transfer blocks everything but receipt by the recipient or cancellation by the sender.
    h.ok(f.transfer("baltic-demolition", BEAM, "reuse-hub"));
    h.refused(f.transfer("baltic-demolition", BEAM, "timber-builders"), RefusalCode::CustodyTransferPending);
    h.refused(
        h.signed(&["baltic-demolition"], Kind::ItemDispose, json!({"giai": BEAM, "route": "landfill"})),
        RefusalCode::CustodyTransferPending,
    );
    h.refused(f.receive("timber-builders", BEAM), RefusalCode::CustodyNotRecipient);
    h.refused(
        h.signed(&["timber-builders"], Kind::ItemCancel, json!({"giai": BEAM})),
        RefusalCode::CustodyNotCustodian,
    );
    h.ok(h.signed(&["baltic-demolition"], Kind::ItemCancel, json!({"giai": BEAM})));
    assert!(h.item(BEAM).pending.is_none());
    // The recipient may decline an offer: it cancels the transfer too.
    h.ok(f.transfer("baltic-demolition", BEAM, "reuse-hub"));
    h.ok(h.signed(&["reuse-hub"], Kind::ItemCancel, json!({"giai": BEAM, "reason": "declined"})));
    assert!(h.item(BEAM).pending.is_none());
    assert_eq!(h.item(BEAM).custodian.as_str(), "baltic-demolition");

    // Attestations bind to a passport version the item had, by a certifier.
    let attest = |who: &str, version: u64| {
        f.signed(
            &[who],
            Kind::ItemAttest,
            json!({"giai": BEAM, "passport_version": version,
        "attestation": {"type": "inspection", "result": "pass", "summary": "ok"}}),
        )
    };
    h.refused(attest("reuse-hub", 1), RefusalCode::RoleMissing);
    h.refused(attest("baltic-cert", 2), RefusalCode::AttestUnknownVersion);
    h.refused(attest("baltic-cert", 0), RefusalCode::SchemaInvalid);

    // Installed items must be dismantled before they move.
    h.refused(
        h.signed(&["baltic-demolition"], Kind::ItemDismantle, json!({"giai": BEAM})),
        RefusalCode::ItemNotInstalled,
    );
    h.ok(h.signed(&["baltic-demolition"], Kind::ItemInstall, json!({"giai": BEAM, "site": {"building": "Depot"}})));
    h.refused(f.transfer("baltic-demolition", BEAM, "reuse-hub"), RefusalCode::ItemInstalled);
    h.refused(
        h.signed(&["baltic-demolition"], Kind::ItemInstall, json!({"giai": BEAM, "site": {"building": "Depot"}})),
        RefusalCode::ItemInstalled,
    );

    // Splits conserve mass and need fresh, distinct parts.
    h.ok(h.signed(&["baltic-demolition"], Kind::ItemDismantle, json!({"giai": BEAM})));
    let split = |parts: serde_json::Value| {
        f.signed(&["baltic-demolition"], Kind::ItemSplit, json!({"giai": BEAM, "parts": parts}))
    };
    let part = |giai: &str, mass: f64| json!({"giai": giai, "passport": passport(giai, "part", mass)});
    h.refused(split(json!([part("4750001P1", 60.0), part("4750001P2", 40.5)])), RefusalCode::SplitMassExceeded);
    h.refused(split(json!([part("4750001P1", 60.0), part("4750001P1", 40.0)])), RefusalCode::SplitDuplicatePart);
    h.refused(split(json!([part(BEAM, 60.0), part("4750001P2", 40.0)])), RefusalCode::SplitDuplicatePart);
    let mut massless = passport("4750001P2", "part", 1.0);
    massless.as_object_mut().unwrap().remove("mass_kg");
    h.refused(
        split(json!([part("4750001P1", 60.0), {"giai": "4750001P2", "passport": massless}])),
        RefusalCode::SplitMassUnknown,
    );
    h.ok(f.register("baltic-demolition", "4750001P3", "other", 5.0));
    h.refused(split(json!([part("4750001P1", 60.0), part("4750001P3", 40.0)])), RefusalCode::ItemExists);
    // Parts that add up exactly (in decimal) are accepted.
    h.ok(split(json!([part("4750001P1", 33.3), part("4750001P2", 33.3), part("4750001P4", 33.4)])));

    // Terminal items never change again.
    h.refused(f.transfer("baltic-demolition", BEAM, "reuse-hub"), RefusalCode::ItemTerminal);
    h.refused(attest("baltic-cert", 1), RefusalCode::ItemTerminal);
    h.ok(h.signed(&["baltic-demolition"], Kind::ItemDispose, json!({"giai": "4750001P1", "route": "recycling"})));
    h.refused(
        h.signed(&["baltic-demolition"], Kind::ItemDispose, json!({"giai": "4750001P1", "route": "recycling"})),
        RefusalCode::ItemTerminal,
    );
}

#[test]
fn statements_are_bound_to_their_ledger_and_signers() {
    let mut h = Harness::new();
    let f = h.fixture.clone();
    let mut foreign = f.statement(Kind::ItemRegister, json!({"giai": BEAM, "passport": passport(BEAM, "b", 1.0)}));
    foreign.ledger = Some(LedgerId([9; 32]));
    h.refused(SignedEntry::sign(foreign, &[&Fixture::key("baltic-demolition")]).unwrap(), RefusalCode::LedgerMismatch);
    let mut genesis_again = f.genesis.statement().clone();
    genesis_again.ledger = Some(f.ledger_id);
    h.refused(
        SignedEntry::sign(genesis_again, &[&Fixture::key("regional-planning")]).unwrap(),
        RefusalCode::LedgerGenesisMisplaced,
    );
    let outsider = Fixture::key("outsider");
    let statement = f.statement(Kind::ItemReceive, json!({"giai": BEAM}));
    h.refused(SignedEntry::sign(statement, &[&outsider]).unwrap(), RefusalCode::SignatureUnknownKey);
    let mut future = f.statement(Kind::ItemRegister, json!({"giai": BEAM, "passport": passport(BEAM, "b", 1.0)}));
    future.time = Timestamp::from_instant(f.time.instant() + time::Duration::hours(1));
    h.refused(SignedEntry::sign(future, &[&Fixture::key("baltic-demolition")]).unwrap(), RefusalCode::TimeInvalid);
    let forged = SignedEntry::new(
        f.statement(Kind::ItemReceive, json!({"giai": BEAM})),
        f.register("baltic-demolition", BEAM, "b", 1.0).signatures().to_vec(),
    );
    h.refused(forged, RefusalCode::SignatureInvalid);
    h.refused(h.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": BEAM})), RefusalCode::SchemaInvalid);
}

#[test]
fn membership_needs_the_admin_threshold_and_keys_rotate() {
    let mut h = Harness::new();
    let new_key = PublicKey::of(&Fixture::key("oslo-new")).to_hex();
    let add = json!({"id": "oslo-reuse", "name": "Oslo Reuse AS", "roles": ["holder"], "keys": [new_key]});
    h.refused(h.signed(&["regional-planning"], Kind::MemberAdd, add.clone()), RefusalCode::AdminThresholdNotMet);
    h.refused(
        h.signed(&["regional-planning", "reuse-hub"], Kind::MemberAdd, add.clone()),
        RefusalCode::AdminThresholdNotMet,
    );
    h.ok(h.signed(&["regional-planning", "city-of-jelgava"], Kind::MemberAdd, add.clone()));
    h.refused(h.signed(&["regional-planning", "city-of-jelgava"], Kind::MemberAdd, add), RefusalCode::MemberExists);
    let reused = json!({"id": "other", "name": "O", "roles": ["holder"], "keys": [new_key]});
    h.refused(h.signed(&["regional-planning", "city-of-jelgava"], Kind::MemberAdd, reused), RefusalCode::KeyInUse);
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = json!({"id": "weak", "name": "W", "roles": ["holder"], "keys": [hex::encode(identity)]});
    h.refused(h.signed(&["regional-planning", "city-of-jelgava"], Kind::MemberAdd, weak), RefusalCode::KeyWeak);
    // 3 + p spells the point whose canonical encoding is y = 3: one point, two spellings.
    let respelled = format!("f0{}7f", "ff".repeat(30));
    let respelled = json!({"id": "respelled", "name": "R", "roles": ["holder"], "keys": [respelled]});
    h.refused(
        h.signed(&["regional-planning", "city-of-jelgava"], Kind::MemberAdd, respelled),
        RefusalCode::KeyNonCanonical,
    );

    // A member rotates its own key: adds a new one and revokes the old one.
    let old = PublicKey::of(&Fixture::key("oslo-new")).to_hex();
    let rotated = PublicKey::of(&Fixture::key("oslo-rotated")).to_hex();
    h.ok(h.signed(
        &["oslo-new"],
        Kind::MemberUpdate,
        json!({"id": "oslo-reuse", "add_keys": [rotated], "revoke_keys": [old]}),
    ));
    let oslo = h.state.member(&id("oslo-reuse")).unwrap();
    assert_eq!(oslo.active_keys().map(PublicKey::to_hex).collect::<Vec<_>>(), vec![rotated.clone()]);
    // The revoked key signs nothing any more; the new one does.
    h.refused(
        h.signed(&["oslo-new"], Kind::MemberUpdate, json!({"id": "oslo-reuse", "name": "Oslo"})),
        RefusalCode::SignatureKeyRevoked,
    );
    h.ok(h.signed(&["oslo-rotated"], Kind::MemberUpdate, json!({"id": "oslo-reuse", "name": "Oslo Reuse"})));
    h.refused(
        h.signed(&["oslo-rotated"], Kind::MemberUpdate, json!({"id": "oslo-reuse", "revoke_keys": [old]})),
        RefusalCode::KeyRevoked,
    );
    h.refused(
        h.signed(&["oslo-rotated"], Kind::MemberUpdate, json!({"id": "oslo-reuse", "revoke_keys": [rotated]})),
        RefusalCode::MemberLastKey,
    );
    h.refused(
        h.signed(&["oslo-rotated"], Kind::MemberUpdate, json!({"id": "oslo-reuse", "revoke_keys": [new_key_of("x")]})),
        RefusalCode::KeyUnknown,
    );
    // Roles change only with the admin threshold; others cannot touch a member.
    h.refused(
        h.signed(&["oslo-rotated"], Kind::MemberUpdate, json!({"id": "oslo-reuse", "roles": ["contractor"]})),
        RefusalCode::AdminThresholdNotMet,
    );
    h.refused(
        h.signed(&["reuse-hub"], Kind::MemberUpdate, json!({"id": "oslo-reuse", "name": "x"})),
        RefusalCode::MemberNotAuthorised,
    );
    h.refused(
        h.signed(&["regional-planning", "city-of-jelgava"], Kind::MemberUpdate, json!({"id": "ghost", "name": "x"})),
        RefusalCode::MemberUnknown,
    );
    h.ok(h.signed(
        &["regional-planning", "city-of-jelgava"],
        Kind::MemberUpdate,
        json!({"id": "oslo-reuse", "roles": ["holder", "contractor"]}),
    ));
    assert!(h.state.member(&id("oslo-reuse")).unwrap().has_role(Role::Contractor));
    // Admins cannot fall below the threshold.
    h.refused(
        h.signed(
            &["regional-planning", "city-of-jelgava"],
            Kind::MemberUpdate,
            json!({"id": "city-of-jelgava", "roles": ["operator"]}),
        ),
        RefusalCode::MemberThresholdUnreachable,
    );
}

#[test]
fn consortium_nodes_change_only_with_the_admin_threshold() {
    let mut h = Harness::new();
    let admins = ["regional-planning", "city-of-jelgava"];
    let add = |member: &str, url: &str| json!({"member": member, "url": url});
    let hub = add("reuse-hub", "http://10.0.3.10:8080");

    // Like member.add: one admin, or one admin and an operator, is not enough.
    h.refused(h.signed(&["regional-planning"], Kind::NodeAdd, hub.clone()), RefusalCode::AdminThresholdNotMet);
    h.refused(
        h.signed(&["regional-planning", "reuse-hub"], Kind::NodeAdd, hub.clone()),
        RefusalCode::AdminThresholdNotMet,
    );
    h.refused(h.signed(&["reuse-hub"], Kind::NodeAdd, hub.clone()), RefusalCode::AdminThresholdNotMet);
    // The node runs for an existing operator.
    h.refused(
        h.signed(&admins, Kind::NodeAdd, add("baltic-demolition", "http://10.0.3.11:8080")),
        RefusalCode::RoleMissing,
    );
    h.refused(h.signed(&admins, Kind::NodeAdd, add("ghost", "http://10.0.3.12:8080")), RefusalCode::MemberUnknown);
    // Its URL is http://host[:port] and nothing else.
    for url in [
        "https://x",
        "http://host/path",
        "ftp://x",
        "http://node3.example:8080/",
        "http://Node3.example",
        "http://x:0",
        "http://x:65536",
        "http://user@x",
        "http://x?q=1",
        "http://",
        "10.0.3.10:8080",
        "http://-x",
        "http://x..y",
    ] {
        h.refused(h.signed(&admins, Kind::NodeAdd, add("reuse-hub", url)), RefusalCode::SchemaInvalid);
    }
    let long = format!("http://{}.example", vec!["a".repeat(60); 4].join("."));
    assert!(long.len() > 200);
    h.refused(h.signed(&admins, Kind::NodeAdd, add("reuse-hub", &long)), RefusalCode::SchemaInvalid);
    h.refused(h.signed(&admins, Kind::NodeAdd, json!({"member": "reuse-hub"})), RefusalCode::SchemaInvalid);
    h.refused(
        h.signed(&admins, Kind::NodeAdd, json!({"member": "reuse-hub", "url": "http://x", "raft_id": 3})),
        RefusalCode::SchemaInvalid,
    );

    // Accepted, it changes no member and no item.
    let before = h.state.clone();
    h.ok(h.signed(&admins, Kind::NodeAdd, hub));
    h.ok(h.signed(&admins, Kind::NodeAdd, add("regional-planning", "http://node3.example:8080")));
    h.ok(h.signed(&admins, Kind::NodeAdd, add("city-of-jelgava", "http://jelgava-node")));
    assert_eq!(h.state, before);

    // Removal: admin threshold, an existing member, nothing else.
    let remove = json!({"member": "reuse-hub"});
    h.refused(h.signed(&["city-of-jelgava"], Kind::NodeRemove, remove.clone()), RefusalCode::AdminThresholdNotMet);
    h.refused(h.signed(&["reuse-hub"], Kind::NodeRemove, remove.clone()), RefusalCode::AdminThresholdNotMet);
    h.refused(h.signed(&admins, Kind::NodeRemove, json!({"member": "ghost"})), RefusalCode::MemberUnknown);
    h.refused(
        h.signed(&admins, Kind::NodeRemove, json!({"member": "reuse-hub", "url": "http://10.0.3.10:8080"})),
        RefusalCode::SchemaInvalid,
    );
    h.ok(h.signed(&admins, Kind::NodeRemove, remove));
    assert_eq!(h.state, before);

    // A member that has lost the operator role can still have its node removed, but not added.
    h.ok(h.signed(&admins, Kind::MemberUpdate, json!({"id": "reuse-hub", "roles": ["holder"]})));
    h.refused(h.signed(&admins, Kind::NodeAdd, add("reuse-hub", "http://10.0.3.10:8080")), RefusalCode::RoleMissing);
    h.ok(h.signed(&admins, Kind::NodeRemove, json!({"member": "reuse-hub"})));
}

fn new_key_of(label: &str) -> String {
    PublicKey::of(&Fixture::key(label)).to_hex()
}

#[test]
fn genesis_rules() {
    let f = Fixture::new();
    assert_eq!(State::from_genesis(&f.genesis).unwrap().consortium().ledger_id, f.ledger_id);
    let mut body = f.genesis.statement().body.clone();
    let sign = |body: serde_json::Value, signers: &[&str]| {
        let statement = Statement { ledger: None, kind: Kind::Genesis, time: f.time.clone(), body };
        let keys: Vec<_> = signers.iter().map(|s| Fixture::key(s)).collect();
        SignedEntry::sign(statement, &keys.iter().collect::<Vec<_>>()).unwrap()
    };
    let code = |entry: SignedEntry| State::from_genesis(&entry).unwrap_err().code;
    assert_eq!(code(sign(body.clone(), &["regional-planning"])), RefusalCode::AdminThresholdNotMet);
    assert_eq!(code(sign(body.clone(), &["regional-planning", "outsider"])), RefusalCode::SignatureUnknownKey);
    body["admin_threshold"] = json!(3);
    assert_eq!(code(sign(body.clone(), &["regional-planning", "city-of-jelgava"])), RefusalCode::LedgerGenesisInvalid);
    body["admin_threshold"] = json!(2);
    let first = body["members"][0].clone();
    body["members"].as_array_mut().unwrap().push(first);
    assert_eq!(code(sign(body, &["regional-planning", "city-of-jelgava"])), RefusalCode::MemberExists);
    let mut statement = f.genesis.statement().clone();
    statement.ledger = Some(f.ledger_id);
    assert_eq!(
        code(SignedEntry::sign(statement, &[&Fixture::key("regional-planning")]).unwrap()),
        RefusalCode::LedgerGenesisInvalid
    );
}

#[test]
fn the_genesis_states_the_ledger_format_and_format_1_when_it_does_not() {
    let f = Fixture::new();
    assert_eq!(State::from_genesis(&f.genesis).unwrap().consortium().format, LedgerFormat::V1);
    let admins = [&Fixture::key("regional-planning"), &Fixture::key("city-of-jelgava")];
    let with_format = |format: serde_json::Value| {
        let mut body = f.genesis.statement().body.clone();
        body["format"] = format;
        let statement = Statement { ledger: None, kind: Kind::Genesis, time: f.time.clone(), body };
        State::from_genesis(&SignedEntry::sign(statement, &admins).unwrap())
    };
    assert_eq!(with_format(json!(2)).unwrap().consortium().format, LedgerFormat::V2);
    assert_eq!(with_format(json!(1)).unwrap().consortium().format, LedgerFormat::V1);
    for unknown in [json!(3), json!("2"), json!(0)] {
        assert_eq!(with_format(unknown).unwrap_err().code, RefusalCode::SchemaInvalid);
    }
    // A state stored before formats existed reads as format 1.
    let mut stored = serde_json::to_value(State::from_genesis(&f.genesis).unwrap().consortium()).unwrap();
    assert_eq!(stored["format"], json!(1));
    stored.as_object_mut().unwrap().remove("format");
    let read: Consortium = serde_json::from_value(stored).unwrap();
    assert_eq!(read.format, LedgerFormat::V1);
}

/// One random operation of the property test.
#[derive(Debug, Clone)]
enum Op {
    Register { by: usize, item: usize, mass: u32 },
    Transfer { by: usize, item: usize, to: usize },
    Receive { by: usize, item: usize },
    Cancel { by: usize, item: usize },
    Install { by: usize, item: usize },
    Dismantle { by: usize, item: usize },
    Dispose { by: usize, item: usize },
    Split { by: usize, item: usize, first: u32, second: u32 },
}

const ACTORS: &[&str] = &["baltic-demolition", "riga-deconstruction", "reuse-hub", "timber-builders", "baltic-cert"];

fn op() -> impl Strategy<Value = Op> {
    let a = 0..ACTORS.len();
    let i = 0..4usize;
    prop_oneof![
        (a.clone(), i.clone(), 1..1000u32).prop_map(|(by, item, mass)| Op::Register { by, item, mass }),
        (a.clone(), i.clone(), a.clone()).prop_map(|(by, item, to)| Op::Transfer { by, item, to }),
        (a.clone(), i.clone()).prop_map(|(by, item)| Op::Receive { by, item }),
        (a.clone(), i.clone()).prop_map(|(by, item)| Op::Cancel { by, item }),
        (a.clone(), i.clone()).prop_map(|(by, item)| Op::Install { by, item }),
        (a.clone(), i.clone()).prop_map(|(by, item)| Op::Dismantle { by, item }),
        (a.clone(), i.clone()).prop_map(|(by, item)| Op::Dispose { by, item }),
        (a, i, 1..800u32, 1..800u32).prop_map(|(by, item, first, second)| Op::Split { by, item, first, second }),
    ]
}

fn giai(item: usize) -> String {
    format!("4750001ITEM{item}")
}

fn entry_for(f: &Fixture, op: &Op, step: usize) -> SignedEntry {
    let who = |by: &usize| ACTORS[*by];
    match op {
        Op::Register { by, item, mass } => f.register(who(by), &giai(*item), "item", f64::from(*mass)),
        Op::Transfer { by, item, to } => f.transfer(who(by), &giai(*item), ACTORS[*to]),
        Op::Receive { by, item } => f.receive(who(by), &giai(*item)),
        Op::Cancel { by, item } => f.signed(&[who(by)], Kind::ItemCancel, json!({"giai": giai(*item)})),
        Op::Install { by, item } => {
            f.signed(&[who(by)], Kind::ItemInstall, json!({"giai": giai(*item), "site": {"building": "b"}}))
        }
        Op::Dismantle { by, item } => f.signed(&[who(by)], Kind::ItemDismantle, json!({"giai": giai(*item)})),
        Op::Dispose { by, item } => {
            f.signed(&[who(by)], Kind::ItemDispose, json!({"giai": giai(*item), "route": "recycling"}))
        }
        Op::Split { by, item, first, second } => {
            let part = |n: u32, mass: u32| {
                let g = format!("{}S{step}N{n}", giai(*item));
                json!({"giai": g, "passport": passport(&g, "part", f64::from(mass))})
            };
            f.signed(
                &[who(by)],
                Kind::ItemSplit,
                json!({"giai": giai(*item), "parts": [part(1, *first), part(2, *second)]}),
            )
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever members try, in any order: every item has exactly one custodian,
    /// who is a member; terminal items never change; a refused entry changes
    /// nothing; a split never creates mass; and replaying the accepted entries
    /// gives the same state.
    #[test]
    fn custody_invariants_hold(ops in proptest::collection::vec(op(), 1..40)) {
        let mut h = Harness::new();
        let f = h.fixture.clone();
        let mut accepted = Vec::new();
        for (step, op) in ops.iter().enumerate() {
            let before = h.state.clone();
            let entry = entry_for(&f, op, step);
            match h.submit(entry.clone()) {
                Ok(()) => accepted.push(entry),
                Err(_) => prop_assert_eq!(&h.state, &before, "refused entry changed state"),
            }
            for old in before.items() {
                if old.status.is_terminal() {
                    prop_assert_eq!(h.state.item(&old.giai), Some(old), "terminal item changed");
                }
            }
            for item in h.state.items() {
                prop_assert!(h.state.member(&item.custodian).is_some());
                if let Some(pending) = &item.pending {
                    prop_assert!(pending.to != item.custodian);
                }
                if item.status == ItemStatus::Split {
                    let parts: f64 = item.parts.iter().filter_map(|p| h.state.item(p)).filter_map(|p| p.mass_kg).sum();
                    prop_assert!(parts <= item.mass_kg.unwrap_or(0.0) * (1.0 + 1e-9));
                }
            }
        }
        let mut replay = Harness::new();
        for entry in accepted {
            prop_assert!(replay.submit(entry).is_ok());
        }
        prop_assert_eq!(replay.state.digest(), h.state.digest());
        // Kept up to date change by change, the digest is the one of the whole final state.
        let mut lattice = StateLattice::new();
        lattice.add(&Element::Consortium(h.state.consortium()));
        h.state.members().for_each(|member| lattice.add(&Element::Member(member)));
        h.state.items().for_each(|item| lattice.add(&Element::Item(item)));
        prop_assert_eq!(lattice.digest(), h.state.digest());
    }
}

#[test]
fn on_a_format_2_ledger_the_whole_body_is_judged_with_its_disclosures_put_back() {
    use crate::disclosure::{Salt, withhold};
    let f = Fixture::new();
    let giai = "4750001BEAM-0900";
    let sign_withheld = |mass: f64| {
        let mut beam = passport(giai, "Prototype facade panel", mass);
        beam["restricted"] = json!(["/name", "/mass_kg"]);
        let body = json!({"giai": giai, "passport": beam});
        let (public, disclosures) = withhold(Kind::ItemRegister, &body, Salt::random).unwrap().unwrap();
        (f.signed(&["baltic-demolition"], Kind::ItemRegister, public), disclosures)
    };
    let (entry, disclosures) = sign_withheld(431.5);
    assert!(!entry.statement().body.to_string().contains("Prototype"));
    let verified = VerifiedEntry::verify_disclosed(entry.clone(), LedgerFormat::V2, disclosures.clone()).unwrap();
    let Body::Register(register) = verified.body() else { panic!("a registration") };
    assert_eq!((register.passport.name.as_str(), register.passport.mass_kg), ("Prototype facade panel", Some(431.5)));
    assert_eq!(verified.disclosures().len(), 2);

    let code = |result: Result<VerifiedEntry, Refusal>| result.unwrap_err().code;
    assert_eq!(
        code(VerifiedEntry::verify_disclosed(entry.clone(), LedgerFormat::V2, vec![])),
        RefusalCode::DisclosureMissing
    );
    assert_eq!(
        code(VerifiedEntry::verify_disclosed(entry.clone(), LedgerFormat::V1, disclosures)),
        RefusalCode::DisclosureUnexpected
    );
    // A signed body with its digests is no format-1 body: its schema refuses `_sd`.
    assert_eq!(code(VerifiedEntry::verify_disclosed(entry, LedgerFormat::V1, vec![])), RefusalCode::SchemaInvalid);
    // Validation stays complete: a restricted value that breaks the schema is refused.
    let (entry, disclosures) = sign_withheld(-5.0);
    assert_eq!(code(VerifiedEntry::verify_disclosed(entry, LedgerFormat::V2, disclosures)), RefusalCode::SchemaInvalid);
    // A body that restricts nothing verifies alike on both formats.
    let plain = f.register("baltic-demolition", "4750001BEAM-0901", "door", 30.0);
    for format in [LedgerFormat::V1, LedgerFormat::V2] {
        assert!(VerifiedEntry::verify_disclosed(plain.clone(), format, vec![]).is_ok());
    }
}
