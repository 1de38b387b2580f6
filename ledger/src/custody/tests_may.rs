//! What a member may do to an item before it signs (`State::may`, `Ledger::may`): the verdict
//! is the ledger's own, code and message, for every rule of docs/rules.md §7 it covers.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::testkit::{BALTIC_PREFIX, Fixture, passport};
use Action::{Amend, Attest, Cancel, Dismantle, Dispose, Install, Receive, Split, Transfer};
use RefusalCode as C;

const BEAM: &str = "4750001BEAM-0001";
const ADMINS: &[&str] = &["regional-planning", "city-of-jelgava"];

/// Applies entries to a state the way the ledger does, and asks it what members may do.
struct Harness {
    fixture: Fixture,
    state: State,
    next: u64,
}

impl Harness {
    fn new(fixture: Fixture) -> Harness {
        let state = State::from_genesis(&fixture.genesis).unwrap();
        Harness { fixture, state, next: 1 }
    }

    fn context(&self) -> Context {
        Context { seq: Seq::new(self.next).unwrap(), accepted: self.fixture.time.clone() }
    }

    fn submit(&mut self, entry: SignedEntry) -> Result<(), Refusal> {
        let verified = VerifiedEntry::verify(entry)?;
        let change = self.state.check(&verified, &self.context())?;
        self.state.apply(change);
        self.next += 1;
        Ok(())
    }

    fn ok(&mut self, entry: SignedEntry) {
        if let Err(refusal) = self.submit(entry) {
            panic!("refused: {refusal}");
        }
    }

    /// The verdict on `action` by `member` on `giai`, checked against what the ledger says of
    /// the smallest statement that takes it: both must agree, code and message.
    fn may(&self, member: &str, giai: &str, action: Action) -> Result<(), RefusalCode> {
        let verdict = self.state.may(&id(member), &Giai::parse(giai).unwrap(), action);
        assert_eq!(verdict, self.judged(member, giai, action), "{member} {action} {giai}");
        verdict.map_err(|refusal| refusal.code)
    }

    /// What checking the smallest statement of `action` says (the state is not changed).
    fn judged(&self, member: &str, giai: &str, action: Action) -> Result<(), Refusal> {
        let entry = minimal_statement(&self.fixture, &self.state, member, giai, action);
        let verified = VerifiedEntry::verify(entry).unwrap();
        self.state.check(&verified, &self.context()).map(|_| ())
    }

    /// Every action's verdict for `member` on `giai`, `None` where it is allowed.
    fn verdicts(&self, member: &str, giai: &str) -> Vec<(Action, Option<RefusalCode>)> {
        Action::ALL.iter().map(|action| (*action, self.may(member, giai, *action).err())).collect()
    }
}

fn id(text: &str) -> MemberId {
    MemberId::parse(text).unwrap()
}

/// The smallest statement of `action` whose body is otherwise valid: a transfer to another
/// holder, a passport that names the item, parts lighter than their parent, the current
/// passport version.
fn minimal_statement(f: &Fixture, state: &State, member: &str, giai: &str, action: Action) -> SignedEntry {
    let item = state.item(&Giai::parse(giai).unwrap());
    let body = match action {
        Action::Transfer => {
            let to = if member == "timber-builders" { "reuse-hub" } else { "timber-builders" };
            json!({"giai": giai, "to": to})
        }
        Action::Receive | Action::Cancel | Action::Dismantle => json!({"giai": giai}),
        Action::Amend => json!({"giai": giai, "passport": passport(giai, "amended", 10.0)}),
        Action::Split => {
            let part_mass = item.and_then(|item| item.mass_kg).unwrap_or(1.0) / 4.0;
            let part = |n: u32| {
                let g = format!("{giai}Q{n}");
                json!({"giai": g, "passport": passport(&g, "part", part_mass)})
            };
            json!({"giai": giai, "parts": [part(1), part(2)]})
        }
        Action::Install => json!({"giai": giai, "site": {"building": "Jelgava library extension"}}),
        Action::Dispose => json!({"giai": giai, "route": "recycling"}),
        Action::Attest => json!({
            "giai": giai,
            "passport_version": item.map_or(1, |item| item.passport_version.max(1)),
            "attestation": {"type": "inspection", "result": "pass", "grade": "A", "summary": "Visual inspection"},
        }),
    };
    f.signed(&[member], action.kind(), body)
}

#[test]
fn every_precondition_the_rules_give_is_the_verdict_before_signing() {
    let mut h = Harness::new(Fixture::allocating());
    let f = h.fixture.clone();
    // Unknown: nothing may be done to a GIAI no item has.
    for (action, verdict) in h.verdicts("baltic-demolition", "4750001NOPE") {
        assert_eq!(verdict, Some(C::ItemUnknown), "{action}");
    }

    h.ok(f.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4));
    // The custodian may do everything but receive, cancel or dismantle; it is no certifier.
    assert_eq!(
        h.verdicts("baltic-demolition", BEAM),
        vec![
            (Transfer, None),
            (Receive, Some(C::CustodyNoPendingTransfer)),
            (Cancel, Some(C::CustodyNoPendingTransfer)),
            (Amend, None),
            (Split, None),
            (Install, None),
            (Dismantle, Some(C::ItemNotInstalled)),
            (Dispose, None),
            (Attest, Some(C::RoleMissing)),
        ]
    );
    // Another member may not act for the custodian; a certifier may attest.
    for action in [Transfer, Cancel, Amend, Split, Install, Dismantle, Dispose] {
        assert_eq!(h.may("riga-deconstruction", BEAM, action), Err(C::CustodyNotCustodian), "{action}");
    }
    assert_eq!(h.may("baltic-cert", BEAM, Attest), Ok(()));

    // While a transfer is pending, the custodian may only cancel it; only the recipient receives
    // (or declines).
    h.ok(f.transfer("baltic-demolition", BEAM, "reuse-hub"));
    for action in [Transfer, Amend, Split, Install, Dismantle, Dispose] {
        assert_eq!(h.may("baltic-demolition", BEAM, action), Err(C::CustodyTransferPending), "{action}");
    }
    assert_eq!(h.may("baltic-demolition", BEAM, Cancel), Ok(()));
    assert_eq!(h.may("baltic-demolition", BEAM, Receive), Err(C::CustodyNotRecipient));
    assert_eq!(h.may("timber-builders", BEAM, Receive), Err(C::CustodyNotRecipient));
    assert_eq!(h.may("reuse-hub", BEAM, Receive), Ok(()));
    assert_eq!(h.may("reuse-hub", BEAM, Cancel), Ok(()), "the recipient may decline");
    assert_eq!(h.may("timber-builders", BEAM, Cancel), Err(C::CustodyNotCustodian));
    assert_eq!(h.may("baltic-cert", BEAM, Attest), Ok(()), "an attestation needs no custody");

    // A recipient that lost the holder role since the offer may not receive.
    h.ok(f.signed(ADMINS, Kind::MemberUpdate, json!({"id": "reuse-hub", "roles": ["operator"]})));
    assert_eq!(h.may("reuse-hub", BEAM, Receive), Err(C::RoleMissing));
    h.ok(f.signed(ADMINS, Kind::MemberUpdate, json!({"id": "reuse-hub", "roles": ["holder", "operator"]})));
    h.ok(f.receive("reuse-hub", BEAM));

    // Installed: dismantled before it is transferred, split or installed again.
    h.ok(f.signed(&["reuse-hub"], Kind::ItemInstall, json!({"giai": BEAM, "site": {"building": "Library"}})));
    assert_eq!(
        h.verdicts("reuse-hub", BEAM),
        vec![
            (Transfer, Some(C::ItemInstalled)),
            (Receive, Some(C::CustodyNoPendingTransfer)),
            (Cancel, Some(C::CustodyNoPendingTransfer)),
            (Amend, None),
            (Split, Some(C::ItemInstalled)),
            (Install, Some(C::ItemInstalled)),
            (Dismantle, None),
            (Dispose, None),
            (Attest, Some(C::RoleMissing)),
        ]
    );
    assert_eq!(h.may("baltic-demolition", BEAM, Dismantle), Err(C::CustodyNotCustodian));

    // Terminal: nothing, for anyone, ever again.
    h.ok(f.signed(&["reuse-hub"], Kind::ItemDispose, json!({"giai": BEAM, "route": "recycling"})));
    for member in ["reuse-hub", "baltic-cert", "baltic-demolition"] {
        for (action, verdict) in h.verdicts(member, BEAM) {
            assert_eq!(verdict, Some(C::ItemTerminal), "{member} {action}");
        }
    }

    // Reserved: a GIAI whose label is printed names no item yet, even for its holder.
    h.ok(f.signed(&["baltic-demolition"], Kind::GiaiReserve, json!({"prefix": BALTIC_PREFIX, "first": 1, "count": 2})));
    let reserved = format!("{BALTIC_PREFIX}1");
    for member in ["baltic-demolition", "baltic-cert"] {
        for (action, verdict) in h.verdicts(member, &reserved) {
            assert_eq!(verdict, Some(C::ItemReserved), "{member} {action}");
        }
    }
}

#[test]
fn a_verdict_carries_the_ledger_s_message() {
    let mut h = Harness::new(Fixture::new());
    let f = h.fixture.clone();
    h.ok(f.register("baltic-demolition", BEAM, "beam", 100.0));
    h.ok(f.transfer("baltic-demolition", BEAM, "reuse-hub"));
    let refusal = h.state.may(&id("timber-builders"), &Giai::parse(BEAM).unwrap(), Receive).unwrap_err();
    assert_eq!(refusal.message, format!("{BEAM} is offered to reuse-hub, not to timber-builders"));
    assert_eq!(refusal, h.judged("timber-builders", BEAM, Receive).unwrap_err());
}

#[test]
fn the_ledger_judges_with_the_durable_item_read_back_from_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    {
        let ledger = crate::store::Ledger::create(dir.path(), f.genesis.clone()).unwrap();
        let outcomes = ledger
            .submit(vec![
                f.register("baltic-demolition", BEAM, "beam", 100.0),
                f.transfer("baltic-demolition", BEAM, "reuse-hub"),
            ])
            .unwrap();
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    }
    // Reopened, the ledger holds no item in memory: `may` reads it back.
    let (ledger, _) = crate::store::Ledger::open(dir.path()).unwrap();
    let giai = Giai::parse(BEAM).unwrap();
    let codes = |member: &str| -> Vec<Option<RefusalCode>> {
        let verdicts = ledger.may(&id(member), &giai, &Action::ALL).unwrap();
        verdicts.into_iter().map(|verdict| verdict.err().map(|refusal| refusal.code)).collect()
    };
    let reuse_hub = codes("reuse-hub");
    assert_eq!(reuse_hub[1], None, "the recipient may receive");
    assert_eq!(reuse_hub[0], Some(C::CustodyNotCustodian));
    let custodian = codes("baltic-demolition");
    assert_eq!((custodian[0], custodian[2]), (Some(C::CustodyTransferPending), None));
    let unknown = ledger.may(&id("reuse-hub"), &Giai::parse("4750001NOPE").unwrap(), &[Transfer]).unwrap();
    assert_eq!(unknown[0].as_ref().unwrap_err().code, C::ItemUnknown);
}

#[derive(Debug, Clone)]
enum Op {
    Register { by: usize, item: usize, mass: u32 },
    Transfer { by: usize, item: usize, to: usize },
    Receive { by: usize, item: usize },
    Cancel { by: usize, item: usize },
    Install { by: usize, item: usize },
    Dismantle { by: usize, item: usize },
    Dispose { by: usize, item: usize },
    Split { by: usize, item: usize },
}

/// Every member of the test kit, whatever its roles: refusals for missing roles count too.
const ACTORS: &[&str] =
    &["baltic-demolition", "riga-deconstruction", "reuse-hub", "timber-builders", "baltic-cert", "regional-planning"];

fn op() -> impl Strategy<Value = Op> {
    let a = 0..4usize;
    let i = 0..3usize;
    prop_oneof![
        3 => (a.clone(), i.clone(), 1..1000u32).prop_map(|(by, item, mass)| Op::Register { by, item, mass }),
        3 => (a.clone(), i.clone(), a.clone()).prop_map(|(by, item, to)| Op::Transfer { by, item, to }),
        2 => (a.clone(), i.clone()).prop_map(|(by, item)| Op::Receive { by, item }),
        1 => (a.clone(), i.clone()).prop_map(|(by, item)| Op::Cancel { by, item }),
        2 => (a.clone(), i.clone()).prop_map(|(by, item)| Op::Install { by, item }),
        1 => (a.clone(), i.clone()).prop_map(|(by, item)| Op::Dismantle { by, item }),
        1 => (a.clone(), i.clone()).prop_map(|(by, item)| Op::Dispose { by, item }),
        1 => (a, i).prop_map(|(by, item)| Op::Split { by, item }),
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
        Op::Split { by, item } => {
            let part = |n: u32| {
                let g = format!("{}S{step}N{n}", giai(*item));
                json!({"giai": g, "passport": passport(&g, "part", 0.5)})
            };
            f.signed(&[who(by)], Kind::ItemSplit, json!({"giai": giai(*item), "parts": [part(1), part(2)]}))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Whatever state members bring an item into, the verdict on every action by every member
    /// is what checking the smallest statement of that action says, code and message.
    #[test]
    fn the_verdict_is_what_the_ledger_says_of_the_statement(ops in proptest::collection::vec(op(), 1..30)) {
        let mut h = Harness::new(Fixture::new());
        let f = h.fixture.clone();
        for (step, op) in ops.iter().enumerate() {
            let _ = h.submit(entry_for(&f, op, step));
            let mut giais: Vec<String> = h.state.items().map(|item| item.giai.to_string()).collect();
            giais.push(giai(9));
            for giai in &giais {
                for member in ACTORS {
                    for action in Action::ALL {
                        let verdict = h.state.may(&id(member), &Giai::parse(giai).unwrap(), action);
                        prop_assert_eq!(verdict, h.judged(member, giai, action), "{} {} {}", member, action, giai);
                    }
                }
            }
        }
    }
}
