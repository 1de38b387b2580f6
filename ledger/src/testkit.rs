//! Deterministic fixtures for tests, benchmarks and examples: a demo consortium
//! whose keys are derived from fixed labels.
//!
//! Anyone can derive these keys, so they protect nothing: they exist so that a
//! test, a benchmark and a reader of `docs/format.md` see the same bytes. Real
//! consortiums generate their keys (see [`crate::key::generate_signing_key`]).
//!
//! Built only with the cargo feature `testkit`, so that no production build can
//! reach these keys: the ledger's own tests, benchmarks and examples turn it on
//! (a dev-dependency of the crate on itself), as do other crates' tests.

use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

use crate::disclosure::{self, Disclosure, Salt};
use crate::entry::{Kind, LedgerId, PublicKey, SignedEntry, Statement, Timestamp};

/// The members of the demo consortium: id, name and roles.
pub const MEMBERS: &[(&str, &str, &[&str])] = &[
    ("regional-planning", "Zemgale Regional Planning Office", &["admin", "operator"]),
    ("city-of-jelgava", "City of Jelgava", &["admin", "operator"]),
    ("baltic-demolition", "Baltic Demolition SIA", &["contractor", "holder"]),
    ("riga-deconstruction", "Riga Deconstruction SIA", &["contractor", "holder"]),
    ("reuse-hub", "Jelgava Reuse Hub", &["holder", "operator"]),
    ("timber-builders", "Timber Builders SIA", &["holder"]),
    ("baltic-cert", "Baltic Building Certification", &["certifier"]),
];

/// The company prefix the consortium of [`Fixture::allocating`] holds and allocates under.
pub const CONSORTIUM_PREFIX: &str = "4750009";
/// Baltic Demolition's company prefix in [`Fixture::allocating`].
pub const BALTIC_PREFIX: &str = "4750001";
/// Riga Deconstruction's company prefix in [`Fixture::allocating`].
pub const RIGA_PREFIX: &str = "4750002";

/// The waste handler of [`Fixture::waste_rules`].
pub const WASTE_HANDLER: &str = "getlini-eko";

/// A signing key derived from a label: the same label always gives the same key.
pub fn fixed_signing_key(label: &str) -> SigningKey {
    SigningKey::from_bytes(&blake3::derive_key("salvage testkit signing key v1", label.as_bytes()))
}

/// The demo consortium: its genesis and every member's key.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The signed genesis.
    pub genesis: SignedEntry,
    /// Its ledger id.
    pub ledger_id: LedgerId,
    /// The time every statement of the fixture carries.
    pub time: Timestamp,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// The demo consortium with an admin threshold of 2.
    pub fn new() -> Fixture {
        Self::named("Zemgale Materials Reuse Consortium")
    }

    /// The demo consortium on a format-2 ledger, which withholds restricted
    /// values (docs/format.md §13): a different ledger from [`Fixture::new`]'s.
    pub fn withholding() -> Fixture {
        Self::build("Zemgale Materials Reuse Consortium", Some(2))
    }

    /// The same members under another consortium name: a different ledger.
    pub fn named(consortium: &str) -> Fixture {
        Self::build(consortium, None)
    }

    /// The demo consortium on a ledger that allocates GIAIs (docs/rules.md §10), format 1:
    /// the consortium holds [`CONSORTIUM_PREFIX`], Baltic Demolition [`BALTIC_PREFIX`] and
    /// Riga Deconstruction [`RIGA_PREFIX`]; nobody else holds a prefix or range yet.
    pub fn allocating() -> Fixture {
        let mut fixture = Self::build("Zemgale Materials Reuse Consortium", None);
        let mut statement = fixture.genesis.statement().clone();
        statement.body["giai_allocation"] = json!(true);
        statement.body["consortium"]["company_prefixes"] = json!([CONSORTIUM_PREFIX]);
        for member in statement.body["members"].as_array_mut().into_iter().flatten() {
            match member["id"].as_str() {
                Some("baltic-demolition") => member["company_prefixes"] = json!([BALTIC_PREFIX]),
                Some("riga-deconstruction") => member["company_prefixes"] = json!([RIGA_PREFIX]),
                _ => {}
            }
        }
        fixture.genesis = sign(statement, &[&Self::key("regional-planning"), &Self::key("city-of-jelgava")]);
        fixture.ledger_id = LedgerId(fixture.genesis.id().0);
        fixture
    }

    /// The demo consortium on a ledger of the second rules (docs/rules.md §11), format 1, with
    /// one more member, [`WASTE_HANDLER`], holding only the `waste_handler` role.
    pub fn waste_rules() -> Fixture {
        let mut fixture = Self::build("Zemgale Materials Reuse Consortium", None);
        let mut statement = fixture.genesis.statement().clone();
        statement.body["rules"] = json!(2);
        if let Some(members) = statement.body["members"].as_array_mut() {
            members.push(json!({"id": WASTE_HANDLER, "name": "Getliņi EKO", "roles": ["waste_handler"],
                "keys": [PublicKey::of(&Self::key(WASTE_HANDLER)).to_hex()]}));
        }
        fixture.genesis = sign(statement, &[&Self::key("regional-planning"), &Self::key("city-of-jelgava")]);
        fixture.ledger_id = LedgerId(fixture.genesis.id().0);
        fixture
    }

    fn build(consortium: &str, format: Option<u8>) -> Fixture {
        let time = Timestamp::parse("2026-11-23T09:00:00Z").unwrap_or_else(|_| Timestamp::now());
        let members: Vec<Value> = MEMBERS
            .iter()
            .map(|(id, name, roles)| {
                json!({"id": id, "name": name, "roles": roles, "keys": [PublicKey::of(&Self::key(id)).to_hex()]})
            })
            .collect();
        let statement = Statement {
            ledger: None,
            kind: Kind::Genesis,
            time: time.clone(),
            body: json!({
                "consortium": {"name": consortium, "country": "LV"},
                "admin_threshold": 2,
                "members": members,
            }),
        };
        let mut statement = statement;
        if let Some(format) = format {
            statement.body["format"] = json!(format);
        }
        let genesis = sign(statement, &[&Self::key("regional-planning"), &Self::key("city-of-jelgava")]);
        let ledger_id = LedgerId(genesis.id().0);
        Fixture { genesis, ledger_id, time }
    }

    /// The key of a member of the demo consortium (or of anyone, by label).
    pub fn key(member: &str) -> SigningKey {
        fixed_signing_key(member)
    }

    /// A statement of this ledger at the fixture's time.
    pub fn statement(&self, kind: Kind, body: Value) -> Statement {
        Statement { ledger: Some(self.ledger_id), kind, time: self.time.clone(), body }
    }

    /// A statement signed by the named members.
    pub fn signed(&self, signers: &[&str], kind: Kind, body: Value) -> SignedEntry {
        let keys: Vec<SigningKey> = signers.iter().map(|m| Self::key(m)).collect();
        sign(self.statement(kind, body), &keys.iter().collect::<Vec<_>>())
    }

    /// A statement signed by the named members with its restricted values
    /// withheld (format 2), and their disclosures.
    pub fn withheld(&self, signers: &[&str], kind: Kind, body: Value) -> (SignedEntry, Vec<Disclosure>) {
        let (public, disclosures) = match disclosure::withhold(kind, &body, Salt::random) {
            Ok(Ok(withheld)) => withheld,
            _ => (body, Vec::new()),
        };
        (self.signed(signers, kind, public), disclosures)
    }

    /// `item.register` by a contractor.
    pub fn register(&self, contractor: &str, giai: &str, name: &str, mass_kg: f64) -> SignedEntry {
        self.signed(&[contractor], Kind::ItemRegister, json!({"giai": giai, "passport": passport(giai, name, mass_kg)}))
    }

    /// `item.transfer` from the custodian to a member.
    pub fn transfer(&self, custodian: &str, giai: &str, to: &str) -> SignedEntry {
        self.signed(&[custodian], Kind::ItemTransfer, json!({"giai": giai, "to": to}))
    }

    /// `item.receive` by the recipient.
    pub fn receive(&self, recipient: &str, giai: &str) -> SignedEntry {
        self.signed(&[recipient], Kind::ItemReceive, json!({"giai": giai}))
    }

    /// Issue 29's kindergarten sequence: an asbestos-cement sheet (`giai`), registered as waste by
    /// Riga Deconstruction, offered to Timber Builders, received, and installed in a kindergarten.
    /// A ledger of rules 2 refuses the offer and the installation; an older one accepts all four.
    pub fn kindergarten(&self, giai: &str) -> Vec<SignedEntry> {
        vec![
            self.signed(
                &["riga-deconstruction"],
                Kind::ItemRegister,
                json!({"giai": giai, "passport": asbestos_passport(giai, 18.5)}),
            ),
            self.transfer("riga-deconstruction", giai, "timber-builders"),
            self.receive("timber-builders", giai),
            self.signed(
                &["timber-builders"],
                Kind::ItemInstall,
                json!({"giai": giai, "site": {"building": "Jelgava kindergarten Pasaciņa"}}),
            ),
        ]
    }

    /// `audit.conclusion` by `certifier`: the items judged at the ledger's first `size` records
    /// (whose root is `root`), with no findings, over a report whose bytes are `report`.
    pub fn conclusion(
        &self,
        certifier: &str,
        size: u64,
        root: &[u8; 32],
        items: &[&str],
        report: &[u8],
    ) -> SignedEntry {
        self.signed(
            &[certifier],
            Kind::AuditConclusion,
            json!({
                "scope": ["member=baltic-demolition"],
                "checkpoint": {"size": size, "root": crate::hex::to_lower_hex(root)},
                "report": blake3::hash(report).to_hex().as_str(),
                "verdict": "pass",
                "findings": {"errors": 0, "warnings": 0},
                "items": items,
            }),
        )
    }
}

/// A schema-valid passport for a salvaged steel beam-like item.
pub fn passport(giai: &str, name: &str, mass_kg: f64) -> Value {
    json!({
        "identity": {"giai": giai},
        "name": name,
        "category": "structural_steel",
        "materials": [{"name": "steel S235", "fraction": 1.0}],
        "quantity": {"value": 1, "unit": "H87"},
        "mass_kg": mass_kg,
        "dimensions_mm": {"length": 6000, "width": 160, "height": 152},
        "origin": {"building": "Jelgava sugar factory warehouse", "country": "LV", "year_built": 1974},
        "condition": {"grade": "B", "notes": "surface rust, no deformation"},
        "legal_status": {"status": "used_product"},
    })
}

/// A schema-valid passport of an asbestos-cement sheet, registered as hazardous waste (List of
/// Waste code 17 06 05*, construction materials containing asbestos).
pub fn asbestos_passport(giai: &str, mass_kg: f64) -> Value {
    json!({
        "identity": {"giai": giai},
        "name": "Corrugated asbestos-cement roof sheet",
        "category": "roofing",
        "materials": [{"name": "Portland cement matrix", "fraction": 0.88}, {"name": "Chrysotile asbestos fibres", "fraction": 0.12}],
        "quantity": {"value": 1, "unit": "H87"},
        "mass_kg": mass_kg,
        "origin": {"building": "Jelgava sugar factory warehouse", "country": "LV", "year_built": 1974},
        "hazards": {"survey_reference": "ZPR-HMS-2026-031", "asbestos_free": false, "substances": [
            {"name": "Chrysotile asbestos", "cas": "12001-29-5"}]},
        "legal_status": {"status": "waste", "list_of_waste_code": "17 06 05*"},
    })
}

fn sign(statement: Statement, keys: &[&SigningKey]) -> SignedEntry {
    // The fixture's statements hold only small numbers, so signing cannot fail.
    match SignedEntry::sign(statement.clone(), keys) {
        Ok(entry) => entry,
        Err(_) => SignedEntry::new(statement, vec![]),
    }
}
