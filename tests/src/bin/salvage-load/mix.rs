//! What `build-ledger` writes: a fixed round of ten records in which items
//! registered in earlier rounds move on, so that the ledger holds items with
//! histories, not only registrations.
//!
//! Round `r` (records `10r + 1` to `10r + 10`; record 0 is the genesis) holds,
//! in this order:
//!
//! | slot | record |
//! | --- | --- |
//! | 0, 2, 4, 6 | `item.register` of items `r/0` to `r/3` by their contractor (below) |
//! | 1 | `item.transfer` of round `r−1`'s chosen item from its contractor to `reuse-hub` |
//! | 3 | `item.receive` of round `r−2`'s chosen item by `reuse-hub` |
//! | 5 | `item.amend` of round `r−3`'s chosen item by `reuse-hub` (passport version 2) |
//! | 7 | `item.attest` of round `r−4`'s chosen item, version 2, by `baltic-cert` |
//! | 8 | `item.transfer` of round `r−5`'s chosen item from `reuse-hub` to `timber-builders` |
//! | 9 | `item.receive` of round `r−6`'s chosen item by `timber-builders` |
//!
//! Even items are registered by `baltic-demolition`, odd ones by
//! `riga-deconstruction`. One item of each round (chosen by the seed) thus
//! lives through seven records over seven rounds: registered, offered to the
//! hub, received, reconditioned (amended), attested, offered to a builder,
//! received. The other three stay with their contractor, as most of a real
//! inventory does. In the
//! first six rounds, where the item a slot names does not exist yet, the slot
//! registers one more item of its own round (`r/4` to `r/13`), so that any
//! number of records is a valid ledger and is exactly that many records.
//!
//! Item 0 of every round (a quarter of the registrations) restricts its donor
//! building's address, which a format-2 ledger withholds as a salted digest,
//! keeping the disclosure in the node's private store (docs/format.md §13); its
//! amendment, if it is the round's chosen item, withholds it again.
//!
//! Statement times run from the genesis's time in steps of [`TIME_STEP_MS`],
//! so they are fixed by the record's position, never after the build's clock.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use salvage_ledger::disclosure::{self, Disclosure, Salt};
use salvage_ledger::entry::{Kind, SignedEntry, Statement, Timestamp};
use salvage_ledger::testkit::Fixture;
use serde_json::{Value, json};

/// Records in one round of the mix.
pub const ROUND: u64 = 10;

/// Milliseconds between the statement times of consecutive records.
pub const TIME_STEP_MS: u64 = 10;

/// The contractors that register items: even items the first, odd the second.
pub const CONTRACTORS: [&str; 2] = ["baltic-demolition", "riga-deconstruction"];

/// The reuse hub that receives, reconditions and passes items on.
pub const HUB: &str = "reuse-hub";

/// The builder that finally receives them.
pub const BUILDER: &str = "timber-builders";

/// The certifier that attests reconditioned items.
pub const CERTIFIER: &str = "baltic-cert";

/// An item: the round that registered it and its number within the round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Item {
    /// The round whose records registered it.
    pub round: u64,
    /// Its number in the round: 0 to 3, or up to 13 in the first rounds.
    pub index: u64,
}

impl Item {
    /// The contractor that registers it.
    pub fn contractor(self) -> &'static str {
        CONTRACTORS[usize::from(self.index % 2 == 1)]
    }

    /// Whether its passport restricts the donor building's address.
    pub fn restricted(self) -> bool {
        self.index == 0
    }
}

/// One record of the mix, as a step of an item's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The contractor registers the item.
    Register(Item),
    /// The custodian `from` offers custody to `to`.
    Offer {
        /// The item.
        item: Item,
        /// Its custodian.
        from: &'static str,
        /// The member offered custody.
        to: &'static str,
    },
    /// `by` accepts the item offered to it.
    Receive {
        /// The item.
        item: Item,
        /// The recipient.
        by: &'static str,
    },
    /// The hub publishes passport version 2 after reconditioning the item.
    Amend(Item),
    /// The certifier attests passport version 2.
    Attest(Item),
}

/// The mix of one build: which items a seed names and what their passports say.
#[derive(Debug, Clone)]
pub struct Mix {
    seed: u64,
    /// Four capital letters from the seed that start every item's reference,
    /// so that ledgers built with different seeds name different items.
    series: String,
    fixture: Fixture,
}

impl Mix {
    /// The mix of `seed` on the demo consortium's format-2 ledger.
    pub fn new(seed: u64) -> Mix {
        let mut state = seed;
        let series = (0..4).map(|_| char::from(b'A' + (splitmix64(&mut state) % 26) as u8)).collect();
        Mix { seed, series, fixture: Fixture::withholding() }
    }

    /// The consortium whose ledger the mix is for.
    pub fn fixture(&self) -> &Fixture {
        &self.fixture
    }

    /// What record `seq` (from 1; 0 is the genesis) does.
    pub fn step(&self, seq: u64) -> Step {
        let offset = seq.saturating_sub(1);
        let round = offset / ROUND;
        let slot = offset % ROUND;
        let earlier = |lag: u64| round.checked_sub(lag).map(|round| self.chosen(round));
        let step = match slot {
            0 | 2 | 4 | 6 => return Step::Register(Item { round, index: slot / 2 }),
            1 => earlier(1).map(|item| Step::Offer { item, from: item.contractor(), to: HUB }),
            3 => earlier(2).map(|item| Step::Receive { item, by: HUB }),
            5 => earlier(3).map(Step::Amend),
            7 => earlier(4).map(Step::Attest),
            8 => earlier(5).map(|item| Step::Offer { item, from: HUB, to: BUILDER }),
            _ => earlier(6).map(|item| Step::Receive { item, by: BUILDER }),
        };
        // The first rounds have no earlier items to move: one more registration.
        step.unwrap_or(Step::Register(Item { round, index: 4 + slot }))
    }

    /// The item of `round` that lives through the whole history.
    pub fn chosen(&self, round: u64) -> Item {
        let mut state = self.seed ^ round.wrapping_mul(0xA24B_AED4_963E_E407);
        Item { round, index: splitmix64(&mut state) % 4 }
    }

    /// The item's GIAI: the demo's company prefix, the series, round and number.
    pub fn giai(&self, item: Item) -> String {
        format!("4750001{}{:07}-{}", self.series, item.round, item.index)
    }

    /// The statement time of record `seq`.
    pub fn time(&self, seq: u64) -> Timestamp {
        Timestamp::from_instant(self.fixture.time.instant() + Duration::from_millis(seq.saturating_mul(TIME_STEP_MS)))
    }

    /// Record `seq`'s entry, signed by the member the step names, with the
    /// disclosures of the values it withholds (none for most).
    pub fn entry(&self, seq: u64, keys: &Keys) -> Result<(SignedEntry, Vec<Disclosure>), String> {
        let step = self.step(seq);
        let (kind, signer, body) = match step {
            Step::Register(item) => (
                Kind::ItemRegister,
                item.contractor(),
                json!({"giai": self.giai(item), "passport": self.passport(item)}),
            ),
            Step::Offer { item, from, to } => (Kind::ItemTransfer, from, json!({"giai": self.giai(item), "to": to})),
            Step::Receive { item, by } => (Kind::ItemReceive, by, json!({"giai": self.giai(item)})),
            Step::Amend(item) => {
                let mut passport = self.passport(item);
                passport["condition"] = json!({"grade": "A", "notes": "Cleaned and re-treated at the reuse hub."});
                (
                    Kind::ItemAmend,
                    HUB,
                    json!({"giai": self.giai(item), "passport": passport, "reason": "Reconditioned at the reuse hub."}),
                )
            }
            Step::Attest(item) => {
                let template = self.template(item);
                let attestation = json!({
                    "type": "inspection",
                    "result": "pass",
                    "grade": "A",
                    "standard": template.standard,
                    "certificate_id": format!("BBC-{:07}-{}", item.round, item.index),
                    "summary": "Visual inspection after reconditioning: fit for reuse in its original function.",
                });
                (
                    Kind::ItemAttest,
                    CERTIFIER,
                    json!({"giai": self.giai(item), "passport_version": 2, "attestation": attestation}),
                )
            }
        };
        let restricted = matches!(step, Step::Register(item) | Step::Amend(item) if item.restricted());
        let (body, disclosures) = if restricted {
            match disclosure::withhold(kind, &body, Salt::random) {
                Ok(Ok(withheld)) => withheld,
                Ok(Err(refusal)) => return Err(format!("record {seq}: cannot withhold: {refusal}")),
                Err(error) => return Err(format!("record {seq}: no random salt: {error}")),
            }
        } else {
            (body, Vec::new())
        };
        let statement = Statement { ledger: Some(self.fixture.ledger_id), kind, time: self.time(seq), body };
        let entry = SignedEntry::sign(statement, &[keys.of(signer)?])
            .map_err(|refusal| format!("record {seq}: cannot sign: {refusal}"))?;
        Ok((entry, disclosures))
    }

    /// The item's registered passport (version 1).
    fn passport(&self, item: Item) -> Value {
        let template = self.template(item);
        let mut state = self.seed ^ item.round.wrapping_mul(31).wrapping_add(item.index).wrapping_mul(0x9E37_79B9);
        let variety = splitmix64(&mut state);
        let (building, year_built) = BUILDINGS[(variety % BUILDINGS.len() as u64) as usize];
        let grade = ["A", "B", "C"][((variety >> 8) % 3) as usize];
        let mass = template.mass_kg + ((variety >> 16) % 1000) as f64 / 10.0;
        let materials: Vec<Value> =
            template.materials.iter().map(|(name, fraction)| json!({"name": name, "fraction": fraction})).collect();
        let [length, width, height] = template.dimensions_mm;
        let mut passport = json!({
            "identity": {"giai": self.giai(item)},
            "name": format!("{} no. {}-{}", template.name, item.round, item.index),
            "category": template.category,
            "materials": materials,
            "quantity": {"value": template.quantity, "unit": "H87"},
            "mass_kg": mass,
            "dimensions_mm": {"length": length, "width": width, "height": height},
            "origin": {"building": building, "country": "LV", "year_built": year_built},
            "condition": {"grade": grade, "notes": CONDITION_NOTES[((variety >> 24) % 3) as usize]},
            "legal_status": {"status": "used_product"},
        });
        if item.restricted() {
            passport["origin"]["address"] = json!(format!("Rūpniecības iela {}, Jelgava", item.round % 500 + 1));
            passport["restricted"] = json!(["/origin/address"]);
        }
        passport
    }

    fn template(&self, item: Item) -> &'static Template {
        let mut state = self.seed.wrapping_add(item.round.wrapping_mul(4).wrapping_add(item.index));
        &TEMPLATES[(splitmix64(&mut state) % TEMPLATES.len() as u64) as usize]
    }
}

/// The keys of the members that sign the mix's entries, derived once per thread.
pub struct Keys(Vec<(&'static str, SigningKey)>);

impl Keys {
    /// Every signer's key.
    pub fn new() -> Keys {
        Keys([CONTRACTORS[0], CONTRACTORS[1], HUB, BUILDER, CERTIFIER].map(|id| (id, Fixture::key(id))).into())
    }

    fn of(&self, member: &str) -> Result<&SigningKey, String> {
        self.0.iter().find(|(id, _)| *id == member).map(|(_, key)| key).ok_or_else(|| format!("no key for {member}"))
    }
}

/// A kind of salvaged component and what its passport says.
struct Template {
    name: &'static str,
    category: &'static str,
    materials: &'static [(&'static str, f64)],
    quantity: u64,
    /// The lightest such item; each weighs up to 100 kg more.
    mass_kg: f64,
    dimensions_mm: [u64; 3],
    /// What the certifier inspects against.
    standard: &'static str,
}

const TEMPLATES: [Template; 4] = [
    Template {
        name: "Steel beam HEA 160",
        category: "structural_steel",
        materials: &[("Structural steel S235JR", 1.0)],
        quantity: 1,
        mass_kg: 180.0,
        dimensions_mm: [6000, 160, 152],
        standard: "EN 1090-2",
    },
    Template {
        name: "Glulam beam GL24h",
        category: "structural_timber",
        materials: &[("Glued laminated spruce GL24h", 0.98), ("Melamine adhesive", 0.02)],
        quantity: 1,
        mass_kg: 120.0,
        dimensions_mm: [7200, 140, 360],
        standard: "EN 14080",
    },
    Template {
        name: "Reclaimed clay bricks, pallet of 480",
        category: "masonry",
        materials: &[("Fired clay", 0.97), ("Lime mortar residue", 0.03)],
        quantity: 480,
        mass_kg: 1000.0,
        dimensions_mm: [1200, 800, 950],
        standard: "EN 771-1",
    },
    Template {
        name: "Oak panel door",
        category: "door",
        materials: &[("European oak, solid", 0.93), ("Brass hinges and lock", 0.06)],
        quantity: 1,
        mass_kg: 30.0,
        dimensions_mm: [2015, 830, 40],
        standard: "EN 14351-1",
    },
];

/// Donor buildings and the years they were built.
const BUILDINGS: [(&str, u64); 3] = [
    ("Jelgava sugar factory warehouse", 1974),
    ("Riga textile mill, hall 3", 1931),
    ("Liepāja port grain store", 1958),
];

const CONDITION_NOTES: [&str; 3] =
    ["Surface wear, no deformation.", "Minor damage at the ends.", "Paint residue; sound otherwise."];

/// The next number of a SplitMix64 sequence: cheap, and enough to vary the
/// items while the same seed always gives the same ones.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
