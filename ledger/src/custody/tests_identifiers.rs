//! The allocation rules (docs/rules.md §10): company prefixes, ranges, reservations.

use serde_json::json;

use super::*;
use crate::testkit::{BALTIC_PREFIX, CONSORTIUM_PREFIX, Fixture, passport};

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

    fn submit(&mut self, entry: SignedEntry) -> Result<(), Refusal> {
        let verified = VerifiedEntry::verify(entry)?;
        let context = Context { seq: Seq::new(self.next).unwrap(), accepted: self.fixture.time.clone() };
        let change = self.state.check(&verified, &context)?;
        self.state.apply(change);
        self.next += 1;
        Ok(())
    }

    fn ok(&mut self, entry: SignedEntry) {
        if let Err(refusal) = self.submit(entry) {
            panic!("refused: {refusal}");
        }
    }

    /// Submits an entry that must be refused with `code`, and checks it changed nothing.
    fn refused(&mut self, entry: SignedEntry, code: RefusalCode) -> String {
        let before = self.state.clone();
        let refusal = self.submit(entry).expect_err("entry should be refused");
        assert_eq!(refusal.code, code, "{refusal}");
        assert!(self.state == before, "a refused entry changed the state");
        refusal.message
    }

    fn register(&self, member: &str, giai: &str) -> SignedEntry {
        self.fixture.register(member, giai, "Steel beam", 100.0)
    }

    fn allocate(&self, signers: &[&str], member: &str, first: u64, last: u64) -> SignedEntry {
        self.fixture.signed(
            signers,
            Kind::GiaiAllocate,
            json!({"member": member, "prefix": CONSORTIUM_PREFIX, "first": first, "last": last}),
        )
    }

    fn reserve(&self, member: &str, prefix: &str, first: u64, count: u64) -> SignedEntry {
        self.fixture.signed(&[member], Kind::GiaiReserve, json!({"prefix": prefix, "first": first, "count": count}))
    }

    fn member(&self, id: &str) -> &Member {
        self.state.member(&MemberId::parse(id).unwrap()).unwrap()
    }

    fn status(&self, giai: &str) -> Option<ItemStatus> {
        self.state.item(&Giai::parse(giai).unwrap()).map(|item| item.status)
    }
}

const ADMINS: &[&str] = &["regional-planning", "city-of-jelgava"];

#[test]
fn squatting_a_prefix_is_refused() {
    let mut h = Harness::new(Fixture::allocating());
    // Riga Deconstruction registers under Baltic Demolition's prefix.
    let message = h.refused(h.register("riga-deconstruction", "4750001BEAM-0999"), RefusalCode::GiaiNotAllocated);
    assert!(message.contains("baltic-demolition"), "{message}");
    // Under a prefix nobody in the consortium holds.
    h.refused(h.register("baltic-demolition", "0614141BEAM-1"), RefusalCode::GiaiNotAllocated);
    // Under the consortium's prefix, with no range allocated.
    h.refused(h.register("baltic-demolition", "4750009100"), RefusalCode::GiaiNotAllocated);
    // Its own prefix: any asset reference.
    h.ok(h.register("baltic-demolition", "4750001BEAM-0999"));
}

#[test]
fn ranges_are_allocated_by_admins_or_an_issuer_never_overlap_and_serve_only_their_holder() {
    let mut h = Harness::new(Fixture::allocating());
    h.refused(h.allocate(&["regional-planning"], "reuse-hub", 100, 199), RefusalCode::AdminThresholdNotMet);
    h.refused(h.allocate(&["baltic-demolition"], "reuse-hub", 100, 199), RefusalCode::AdminThresholdNotMet);
    h.ok(h.allocate(ADMINS, "reuse-hub", 100, 199));
    for (first, last) in [(150, 250), (50, 100), (199, 199), (0, 1000)] {
        h.refused(h.allocate(ADMINS, "timber-builders", first, last), RefusalCode::GiaiOverlap);
    }
    h.refused(h.allocate(ADMINS, "timber-builders", 300, 299), RefusalCode::SchemaInvalid);
    // Not the consortium's prefix.
    let foreign = h.fixture.signed(
        ADMINS,
        Kind::GiaiAllocate,
        json!({"member": "timber-builders", "prefix": BALTIC_PREFIX, "first": 1, "last": 9}),
    );
    h.refused(foreign, RefusalCode::GiaiNotAllocated);

    // A member with the issuer role allocates alone.
    h.ok(h.fixture.signed(ADMINS, Kind::MemberUpdate, json!({"id": "baltic-cert", "roles": ["certifier", "issuer"]})));
    h.ok(h.allocate(&["baltic-cert"], "timber-builders", 200, 299));

    // reuse-hub holds no contractor role yet: it can neither reserve nor register; given one,
    // its range is its own.
    h.refused(h.reserve("reuse-hub", CONSORTIUM_PREFIX, 100, 2), RefusalCode::RoleMissing);
    h.ok(h.fixture.signed(
        ADMINS,
        Kind::MemberUpdate,
        json!({"id": "reuse-hub", "roles": ["holder", "operator", "contractor"]}),
    ));
    h.ok(h.register("reuse-hub", "4750009150"));
    h.refused(h.register("reuse-hub", "4750009200"), RefusalCode::GiaiNotAllocated);
    h.refused(h.register("reuse-hub", "47500090150"), RefusalCode::GiaiNotAllocated);
    h.refused(h.register("reuse-hub", "4750009150A"), RefusalCode::GiaiNotAllocated);
    h.refused(h.register("baltic-demolition", "4750009151"), RefusalCode::GiaiNotAllocated);
    // A registration changes no member: the next free serial is the reservations' alone.
    let range = &h.member("reuse-hub").identifiers[0];
    assert_eq!((range.range, range.next), (Some(SerialRange { first: 100, last: 199 }), 100));
}

#[test]
fn reservations_take_the_next_serials_and_only_their_holder_registers_them() {
    let mut h = Harness::new(Fixture::allocating());
    assert_eq!(h.member("baltic-demolition").identifiers[0].next, 1);
    h.ok(h.reserve("baltic-demolition", BALTIC_PREFIX, 1, 3));
    for giai in ["47500011", "47500012", "47500013"] {
        assert_eq!(h.status(giai), Some(ItemStatus::Reserved));
    }
    assert_eq!(h.member("baltic-demolition").identifiers[0].next, 4);
    // Serials already reserved are not reserved again.
    h.refused(h.reserve("baltic-demolition", BALTIC_PREFIX, 3, 2), RefusalCode::GiaiIssued);
    // Another member cannot reserve under a prefix it does not hold.
    h.refused(h.reserve("riga-deconstruction", BALTIC_PREFIX, 10, 2), RefusalCode::GiaiNotAllocated);
    // A reserved GIAI names no item: nothing can happen to it but its registration.
    let transfer = h.fixture.transfer("baltic-demolition", "47500012", "reuse-hub");
    h.refused(transfer, RefusalCode::ItemReserved);
    h.ok(h.register("baltic-demolition", "47500012"));
    assert_eq!(h.status("47500012"), Some(ItemStatus::Available));
    h.refused(h.register("baltic-demolition", "47500012"), RefusalCode::ItemExists);

    // A reservation never takes a GIAI registered directly.
    h.ok(h.register("baltic-demolition", "475000110"));
    h.refused(h.reserve("baltic-demolition", BALTIC_PREFIX, 4, 10), RefusalCode::ItemExists);
    h.ok(h.reserve("baltic-demolition", BALTIC_PREFIX, 11, 2));

    // Split parts follow the same rule.
    let parts = |a: &str, b: &str| {
        json!({"giai": "47500012", "parts": [
            {"giai": a, "passport": passport(a, "Half", 40.0)},
            {"giai": b, "passport": passport(b, "Half", 40.0)},
        ]})
    };
    let split = h.fixture.signed(&["baltic-demolition"], Kind::ItemSplit, parts("4750002P1", "47500011"));
    h.refused(split, RefusalCode::GiaiNotAllocated);
    h.ok(h.fixture.signed(&["baltic-demolition"], Kind::ItemSplit, parts("47500011", "4750001P2")));
    assert_eq!(h.status("47500011"), Some(ItemStatus::Available));
}

#[test]
fn a_reservation_is_respected_on_a_ledger_that_does_not_allocate() {
    let mut h = Harness::new(Fixture::new());
    // No prefix held by anyone: every GIAI may be registered, nothing may be reserved.
    h.ok(h.register("baltic-demolition", "0614141BEAM-1"));
    h.refused(h.reserve("baltic-demolition", "0614141", 1, 1), RefusalCode::GiaiNotAllocated);
    // A prefix given later lets its holder reserve; another member cannot take those.
    h.ok(h.fixture.signed(
        ADMINS,
        Kind::MemberUpdate,
        json!({"id": "baltic-demolition", "add_company_prefixes": ["4750001"]}),
    ));
    h.ok(h.reserve("baltic-demolition", "4750001", 1, 1));
    h.refused(h.register("riga-deconstruction", "47500011"), RefusalCode::GiaiReserved);
    assert!(
        h.state
            .allocation_verdict(&MemberId::parse("riga-deconstruction").unwrap(), &Giai::parse("47500015").unwrap())
            .is_err()
    );
}

#[test]
fn company_prefixes_never_overlap() {
    let mut h = Harness::new(Fixture::allocating());
    // Another member's, the consortium's, and one that begins or extends them.
    for prefix in [BALTIC_PREFIX, CONSORTIUM_PREFIX, "475000", "47500011"] {
        let update = h.fixture.signed(
            ADMINS,
            Kind::MemberUpdate,
            json!({"id": "timber-builders", "add_company_prefixes": [prefix]}),
        );
        h.refused(update, RefusalCode::GiaiOverlap);
    }
    // A member cannot give itself a prefix.
    let own = h.fixture.signed(
        &["timber-builders"],
        Kind::MemberUpdate,
        json!({"id": "timber-builders", "add_company_prefixes": ["4750003"]}),
    );
    h.refused(own, RefusalCode::AdminThresholdNotMet);
    h.ok(h.fixture.signed(
        ADMINS,
        Kind::MemberUpdate,
        json!({"id": "timber-builders", "add_company_prefixes": ["4750003"]}),
    ));
    // The prefix a GIAI was issued under, which partitions its EPC.
    let prefix_of = |giai: &str| {
        issued_under(&h.state.consortium().company_prefixes, h.state.members(), &Giai::parse(giai).unwrap())
            .map(|prefix| prefix.as_str().to_owned())
    };
    assert_eq!(prefix_of("4750003X").as_deref(), Some("4750003"));
    assert_eq!(prefix_of("4750009777").as_deref(), Some(CONSORTIUM_PREFIX));
    assert_eq!(prefix_of("0614141X"), None);
}

#[test]
fn a_genesis_without_allocation_keeps_its_digest_terms() {
    // Members and the consortium without prefixes hash as they did before allocation existed:
    // their terms do not name the new fields, so old ledgers' state digests do not change.
    let state = State::from_genesis(&Fixture::new().genesis).unwrap();
    for member in state.members() {
        let bytes = String::from_utf8(Element::Member(member).canonical_bytes()).unwrap();
        assert!(!bytes.contains("identifiers"), "{bytes}");
    }
    let bytes = String::from_utf8(Element::Consortium(state.consortium()).canonical_bytes()).unwrap();
    assert!(!bytes.contains("company_prefixes") && !bytes.contains("giai_allocation"), "{bytes}");
}
