//! The custody state machine: members, roles, keys and items, and every rule
//! an entry must pass to change them (or, for the consortium's nodes, to be
//! accepted at all: the state keeps no node set, see `nodes`).
//!
//! [`State::check`] decides whether an entry may apply and computes the
//! [`Change`] it makes without touching the state; [`State::apply`] then writes
//! the change. Splitting the two is what makes "a refused entry changes
//! nothing" hold by construction. The state uses ordered maps only and no
//! clocks or randomness, so the same records applied in the same order give
//! byte-identical state on every machine: replication relies on that.

mod bodies;
mod conclusions;
mod digest;
mod identifiers;
mod items;
mod may;
mod members;
mod nodes;
mod waste;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::Duration;

pub use bodies::{
    AllocateBody, AttestationFacts, Body, HAZARDOUS_ROUTES, NodeAddBody, NodeRemoveBody, PassportFacts, ReserveBody,
    VerifiedEntry,
};
pub use conclusions::{ConclusionBody, FindingCounts, NamedCheckpoint, require_root};
pub use digest::{Element, LATTICE_BYTES, StateLattice};
pub use identifiers::issued_under;
pub use may::Action;
pub(crate) use may::preconditions;
pub use nodes::NodeSetChange;
pub use waste::{SECOND_EDITION_CODES, WasteMark, WasteMarks};

use crate::chain::Seq;
use crate::checkpoint::NoteVerifier;
use crate::entry::{Kind, LedgerId, PublicKey, SignedEntry, Timestamp};
use crate::ident::{CompanyPrefix, Giai};
use crate::refusal::{Refusal, RefusalCode};

/// How far in the future of its acceptance a statement's time may lie, to allow
/// for clocks that run a little fast on site devices.
pub const CLOCK_SKEW: Duration = Duration::minutes(10);

/// A member's stable id: a lowercase slug such as `riga-demolition`.
// INVARIANT: 1 to 64 characters of a-z, 0-9 and '-', not starting or ending with '-'.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(String);

impl MemberId {
    /// Parses a member id.
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        let valid = (1..=64).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        if valid {
            Ok(MemberId(text.to_owned()))
        } else {
            Err(Refusal::new(
                RefusalCode::EntryMalformed,
                format!("member id {text:?} must be a lowercase slug (a-z, 0-9, '-')"),
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({})", self.0)
    }
}

impl Serialize for MemberId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MemberId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        MemberId::parse(&text).map_err(|r| serde::de::Error::custom(r.message))
    }
}

/// What a member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Changes membership, together with other admins up to the threshold.
    Admin,
    /// Runs a node and signs checkpoints.
    Operator,
    /// Registers items.
    Contractor,
    /// May receive custody of items.
    Holder,
    /// Attests the condition and certification of items.
    Certifier,
    /// Allocates serial ranges under the consortium's company prefixes (`giai.allocate`).
    Issuer,
    /// May receive custody of waste and of items holding asbestos (docs/rules.md §11).
    #[serde(rename = "waste_handler")]
    WasteHandler,
}

impl Role {
    /// The role as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Contractor => "contractor",
            Role::Holder => "holder",
            Role::Certifier => "certifier",
            Role::Issuer => "issuer",
            Role::WasteHandler => "waste_handler",
        }
    }
}

/// When a key was added to its member and, if so, revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyState {
    /// The record that added the key.
    pub added: Seq,
    /// The record that revoked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Seq>,
}

/// An organisation in the consortium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Its stable id.
    pub id: MemberId,
    /// Its name.
    pub name: String,
    /// Its roles.
    pub roles: BTreeSet<Role>,
    /// Every key it ever had, active or revoked.
    pub keys: BTreeMap<PublicKey, KeyState>,
    /// The record that added it (0 for founding members).
    pub since: Seq,
    /// The company prefixes it holds and the serial ranges allocated to it, in the order
    /// they were given (docs/format.md §16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Allocation>,
}

/// Serials a member may issue GIAIs from: a whole GS1 company prefix it holds, or a range
/// the consortium allocated to it under one of its own prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The company prefix.
    pub prefix: CompanyPrefix,
    /// The serials allocated under the consortium's prefix; none when the member holds the
    /// whole prefix, and every asset reference under it is its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<SerialRange>,
    /// The next serial a reservation may take: one past the highest serial reserved under it
    /// so far. Registrations leave it alone (they change no member); a reservation that would
    /// take a GIAI registered directly is refused.
    pub next: u64,
    /// The record that gave it (0 for the genesis).
    pub since: Seq,
}

/// Serials `first` to `last`, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialRange {
    /// The first serial.
    pub first: u64,
    /// The last serial.
    pub last: u64,
}

impl Allocation {
    /// Whether `giai` lies in it: under a whole prefix, any asset reference; in a range, the
    /// prefix followed by a serial of the range in decimal without leading zeros.
    pub fn covers(&self, giai: &Giai) -> bool {
        let Some(reference) = giai.as_str().strip_prefix(self.prefix.as_str()) else { return false };
        match self.range {
            None => !reference.is_empty(),
            Some(range) => serial_of(reference).is_some_and(|serial| (range.first..=range.last).contains(&serial)),
        }
    }

    /// The highest serial it may issue: the range's last, or under a whole prefix the largest
    /// whose GIAI keeps within GS1's 30 characters and that a statement's integer can carry
    /// (2^53 − 1, the schema's bound).
    pub fn last_serial(&self) -> u64 {
        const MAX_SERIAL: u64 = (1 << 53) - 1;
        if let Some(range) = self.range {
            return range.last;
        }
        let digits = u32::try_from(self.prefix.digits()).unwrap_or(30);
        30_u32
            .checked_sub(digits)
            .and_then(|left| 10_u64.checked_pow(left))
            .map_or(MAX_SERIAL, |limit| (limit - 1).min(MAX_SERIAL))
    }

    /// How many serials a reservation may still take, from `next` on.
    pub fn room(&self) -> u64 {
        self.last_serial().checked_sub(self.next).map_or(0, |left| left.saturating_add(1))
    }
}

/// A serial written as GIAIs write it: decimal digits without leading zeros ("0" alone is 0).
fn serial_of(reference: &str) -> Option<u64> {
    let canonical = !reference.is_empty()
        && reference.len() <= 16
        && reference.bytes().all(|b| b.is_ascii_digit())
        && (reference == "0" || !reference.starts_with('0'));
    if canonical { reference.parse().ok() } else { None }
}

impl Member {
    /// Whether the member has a role.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The keys it may sign with now.
    pub fn active_keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.iter().filter(|(_, state)| state.revoked.is_none()).map(|(key, _)| key)
    }

    /// Verifiers of checkpoint notes for its active keys, named by its id (the
    /// C2SP key name an operator signs under): for each key a plain signed-note
    /// verifier followed by a `cosignature/v1` cosigner verifier, so both its
    /// signatures and its cosignatures count.
    pub fn checkpoint_verifiers(&self) -> impl Iterator<Item = NoteVerifier> + '_ {
        self.active_keys().flat_map(|key| {
            let name = self.id.as_str();
            NoteVerifier::new(name, *key.verifying_key())
                .ok()
                .into_iter()
                .chain(NoteVerifier::cosigner(name, *key.verifying_key()).ok())
        })
    }

    /// Like [`Member::checkpoint_verifiers`], for every key it ever had: a note
    /// kept from the past may be signed by a key revoked since.
    pub fn checkpoint_verifiers_ever(&self) -> impl Iterator<Item = NoteVerifier> + '_ {
        self.keys.keys().flat_map(|key| {
            let name = self.id.as_str();
            NoteVerifier::new(name, *key.verifying_key())
                .ok()
                .into_iter()
                .chain(NoteVerifier::cosigner(name, *key.verifying_key()).ok())
        })
    }
}

/// Where an item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemStatus {
    /// Held by its custodian, free to be transferred, installed, split or disposed.
    Available,
    /// Reused in a building.
    Installed,
    /// Divided into parts; terminal.
    Split,
    /// Recycled or disposed; terminal.
    Disposed,
    /// Its GIAI is reserved for its custodian (`giai.reserve`), its label maybe printed, but
    /// no item is registered under it yet.
    Reserved,
}

impl ItemStatus {
    /// Whether the item can never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, ItemStatus::Split | ItemStatus::Disposed)
    }
}

/// A transfer offered and not yet received or cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTransfer {
    /// The member offered custody.
    pub to: MemberId,
    /// The record of the offer.
    pub offered: Seq,
}

/// An attestation of an item, bound to one passport version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationRef {
    /// The record of the attestation.
    pub seq: Seq,
    /// The passport version it is about.
    pub passport_version: u64,
    /// The certifier who made it.
    pub certifier: MemberId,
    /// The record that withdrew it (`item.attest_withdraw`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<Seq>,
}

/// What the ledger knows of an item now. Passports themselves stay in their records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemState {
    /// The item's GIAI.
    pub giai: Giai,
    /// The human name from the current passport.
    pub name: String,
    /// The member holding custody.
    pub custodian: MemberId,
    /// Where the item is in its life.
    pub status: ItemStatus,
    /// A transfer waiting for the recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingTransfer>,
    /// The current passport version, from 1.
    pub passport_version: u64,
    /// The record holding the current passport.
    pub passport_seq: Seq,
    /// The mass of the item in kilograms, if its passport gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mass_kg: Option<f64>,
    /// The item this one was split from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<Giai>,
    /// The parts this item was split into.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub parts: Vec<Giai>,
    /// The record that registered the item (or split it off its parent).
    pub registered: Seq,
    /// The last record that changed the item.
    pub updated: Seq,
    /// Its attestations, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub attestations: Vec<AttestationRef>,
    /// What makes it waste or hazardous (docs/rules.md §11); not in the state digest.
    #[serde(default, skip_serializing_if = "WasteMarks::is_clear")]
    pub waste_marks: WasteMarks,
}

/// The consortium as its genesis founded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consortium {
    /// The ledger id: blake3 of the canonical genesis statement.
    pub ledger_id: LedgerId,
    /// The consortium's name.
    pub name: String,
    /// How many distinct admin members must sign a membership change.
    pub admin_threshold: u64,
    /// How the ledger records restricted values (its genesis says; format 1
    /// for a state stored before formats existed).
    #[serde(default)]
    pub format: LedgerFormat,
    /// The GS1 company prefixes the consortium holds and allocates ranges under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub company_prefixes: Vec<CompanyPrefix>,
    /// Whether registrations must name GIAIs the signer holds (docs/rules.md §10); false on
    /// ledgers created before allocation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub giai_allocation: bool,
    /// Which edition of the rules it enforces (docs/rules.md §11); the first on ledgers founded
    /// before the second.
    #[serde(default, skip_serializing_if = "Rules::is_first")]
    pub rules: Rules,
}

/// How a ledger records the values its members restrict (docs/format.md §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum LedgerFormat {
    /// Signed in the clear; public views leave them out. Every ledger created
    /// before format 2.
    #[default]
    V1,
    /// Withheld from signed statements as salted digests; the values travel
    /// beside them as disclosures, kept by the members.
    V2,
}

impl LedgerFormat {
    /// The format a genesis declares (format 1 unless its body says 2). Only
    /// [`State::from_genesis`] judges whether the genesis is valid.
    pub fn declared_by(genesis: &SignedEntry) -> LedgerFormat {
        match genesis.statement().body.get("format").and_then(serde_json::Value::as_u64) {
            Some(2) => LedgerFormat::V2,
            _ => LedgerFormat::V1,
        }
    }
}

impl From<LedgerFormat> for u8 {
    fn from(format: LedgerFormat) -> u8 {
        match format {
            LedgerFormat::V1 => 1,
            LedgerFormat::V2 => 2,
        }
    }
}

impl TryFrom<u8> for LedgerFormat {
    type Error = String;

    fn try_from(number: u8) -> Result<LedgerFormat, String> {
        match number {
            1 => Ok(LedgerFormat::V1),
            2 => Ok(LedgerFormat::V2),
            other => Err(format!("ledger format {other} is unknown (1 and 2 are)")),
        }
    }
}

/// Which edition of the rules a ledger enforces; its genesis says (`rules`, absent for 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Rules {
    /// The rules of docs/rules.md §1–§10: every ledger founded before edition 2.
    #[default]
    First,
    /// Also the waste and attestation rules of §11.
    Second,
}

impl Rules {
    /// Whether these are the first rules (the default a genesis need not name).
    pub fn is_first(&self) -> bool {
        *self == Rules::First
    }

    /// The latest edition, which `salvage init` founds ledgers with.
    pub const LATEST: Rules = Rules::Second;
}

impl From<Rules> for u8 {
    fn from(rules: Rules) -> u8 {
        match rules {
            Rules::First => 1,
            Rules::Second => 2,
        }
    }
}

impl TryFrom<u8> for Rules {
    type Error = String;

    fn try_from(number: u8) -> Result<Rules, String> {
        match number {
            1 => Ok(Rules::First),
            2 => Ok(Rules::Second),
            other => Err(format!("rules edition {other} is unknown (1 and 2 are)")),
        }
    }
}

/// Where and when an entry is being applied.
#[derive(Debug, Clone)]
pub struct Context {
    /// The seq the entry's record will have.
    pub seq: Seq,
    /// When the ledger accepts it.
    pub accepted: Timestamp,
}

/// The members and items an accepted entry creates or replaces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// Members to insert or replace.
    pub members: Vec<Member>,
    /// Items to insert or replace, in the order the entry names them.
    pub items: Vec<ItemState>,
}

/// The whole custody state of a ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    consortium: Consortium,
    members: BTreeMap<MemberId, Member>,
    key_owners: BTreeMap<PublicKey, MemberId>,
    // Every item, or on a node only its working set: the items changed since the index last
    // caught up, and those loaded to judge the entries at hand (see `State::admit`).
    items: BTreeMap<Giai, ItemState>,
    // How many items there are, in `items` or not.
    item_count: u64,
    // False for a proof bundle's replay, which holds only the items of its bundle: an item
    // absent from `items` (once its entry's items are admitted) may still exist.
    holds_every_item: bool,
    // INVARIANT: the sum of the terms of the consortium, every member and every item.
    lattice: StateLattice,
}

impl State {
    /// The state a valid genesis founds. Checks the genesis signatures too.
    pub fn from_genesis(genesis: &SignedEntry) -> Result<State, Refusal> {
        members::found(genesis)
    }

    /// A state whose items are kept elsewhere (a node's index): it starts with members only,
    /// and the caller must [`State::admit`] every item an entry names ([`Body::items`]) before
    /// [`State::check`]ing the entry. `lattice` and `item_count` are those of the whole state.
    pub fn restore(consortium: Consortium, members: Vec<Member>, lattice: StateLattice, item_count: u64) -> State {
        let mut state = State {
            consortium,
            members: BTreeMap::new(),
            key_owners: BTreeMap::new(),
            items: BTreeMap::new(),
            item_count,
            holds_every_item: true,
            lattice,
        };
        for member in members {
            for key in member.keys.keys() {
                state.key_owners.insert(*key, member.id.clone());
            }
            state.members.insert(member.id.clone(), member);
        }
        state
    }

    /// Puts an item read from where the state keeps its items into memory, unchanged: the
    /// digest and the count already include it.
    pub fn admit(&mut self, item: ItemState) {
        self.items.insert(item.giai.clone(), item);
    }

    /// Takes an item out of memory; it stays in the state, wherever the caller keeps it.
    pub fn evict(&mut self, giai: &Giai) -> Option<ItemState> {
        self.items.remove(giai)
    }

    /// Takes every item out of memory; they stay in the state, wherever the caller keeps them.
    pub fn evict_all(&mut self) -> Vec<ItemState> {
        std::mem::take(&mut self.items).into_values().collect()
    }

    /// Marks the state as holding only some of the ledger's items, as a proof bundle's replay
    /// does: a conclusion naming an item it does not hold is then not refused for it.
    pub fn holding_some_items(&mut self) {
        self.holds_every_item = false;
    }

    /// Whether an item the state does not hold (once an entry's items are admitted) is one the
    /// ledger does not have.
    pub fn holds_every_item(&self) -> bool {
        self.holds_every_item
    }

    /// How many items the state has, in memory or not.
    pub fn item_count(&self) -> u64 {
        self.item_count
    }

    /// How many items are in memory.
    pub fn items_in_memory(&self) -> usize {
        self.items.len()
    }

    /// The consortium.
    pub fn consortium(&self) -> &Consortium {
        &self.consortium
    }

    /// A member by id.
    pub fn member(&self, id: &MemberId) -> Option<&Member> {
        self.members.get(id)
    }

    /// Every member, by id.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// The member a key belongs to (whether or not it is revoked).
    pub fn key_owner(&self, key: &PublicKey) -> Option<&MemberId> {
        self.key_owners.get(key)
    }

    /// An item by GIAI.
    pub fn item(&self, giai: &Giai) -> Option<&ItemState> {
        self.items.get(giai)
    }

    /// Every item in memory, by GIAI: every item, unless the state was [`State::restore`]d.
    pub fn items(&self) -> impl Iterator<Item = &ItemState> {
        self.items.values()
    }

    /// Decides whether a verified entry may apply at `context`, and what it changes.
    /// The state is not modified.
    pub fn check(&self, entry: &VerifiedEntry, context: &Context) -> Result<Change, Refusal> {
        let signers = self.admissible(entry, context)?;
        match entry.body() {
            Body::Genesis(_) => {
                Err(Refusal::new(RefusalCode::LedgerGenesisMisplaced, "a ledger has exactly one genesis"))
            }
            Body::MemberAdd(body) => members::add(self, &signers, body, context),
            Body::MemberUpdate(body) => members::update(self, &signers, body, context),
            Body::NodeAdd(body) => nodes::add(self, &signers, body),
            Body::NodeRemove(body) => nodes::remove(self, &signers, body),
            Body::Allocate(body) => identifiers::allocate(self, &signers, body, context),
            Body::Reserve(body) => identifiers::reserve(self, &signers, body, context),
            Body::Conclusion(body) => conclusions::check(self, &signers, body, context),
            item_body => {
                items::check(self, &signers, item_body, entry.judged_publicly(), self.consortium.rules, context)
            }
        }
    }

    /// What [`State::check`] refuses before it reads any item, with the same refusal: a store
    /// asks this before it loads the items an entry names, so that an entry refused for its
    /// signer (a stranger's conclusion naming 10,000 items) costs no reads. Only a conclusion
    /// names enough items for that to matter: any other entry passes here, and `check` judges it
    /// once, on the submission's hot path.
    pub fn precheck(&self, entry: &VerifiedEntry, context: &Context) -> Result<(), Refusal> {
        let Body::Conclusion(_) = entry.body() else { return Ok(()) };
        let signers = self.admissible(entry, context)?;
        conclusions::require_certifier(self, &signers).map(|_| ())
    }

    /// The checks every entry meets first: no second genesis, this ledger, a time not ahead of
    /// the ledger's clock, and signers who are members with active keys.
    fn admissible(&self, entry: &VerifiedEntry, context: &Context) -> Result<BTreeSet<MemberId>, Refusal> {
        let statement = entry.entry().statement();
        if statement.kind == Kind::Genesis {
            return Err(Refusal::new(
                RefusalCode::LedgerGenesisMisplaced,
                "a ledger has exactly one genesis, at record 0",
            ));
        }
        if statement.ledger != Some(self.consortium.ledger_id) {
            let named = statement.ledger.map_or_else(|| "no ledger".to_owned(), |id| format!("ledger {id}"));
            return Err(Refusal::new(
                RefusalCode::LedgerMismatch,
                format!("the statement names {named}, but this is ledger {}", self.consortium.ledger_id),
            ));
        }
        if statement.time.instant() > context.accepted.instant() + CLOCK_SKEW {
            return Err(Refusal::new(
                RefusalCode::TimeInvalid,
                format!(
                    "statement time {} lies more than {CLOCK_SKEW} after acceptance at {}",
                    statement.time, context.accepted
                ),
            ));
        }
        self.signers(entry.entry())
    }

    /// On a ledger of the first rules, what the second edition would have refused of an entry
    /// these rules accept: the refusal, if one of §11's rules refuses it. `None` on a ledger
    /// that enforces them (it refused such entries) and for every entry they let pass.
    pub fn later_rules_verdict(&self, entry: &VerifiedEntry, context: &Context) -> Option<Refusal> {
        if self.consortium.rules >= Rules::Second || !entry.entry().statement().kind.is_item_kind() {
            return None;
        }
        let signers = self.signers(entry.entry()).ok()?;
        let refusal =
            items::check(self, &signers, entry.body(), entry.judged_publicly(), Rules::Second, context).err()?;
        SECOND_EDITION_CODES.contains(&refusal.code).then_some(refusal)
    }

    /// Writes a change computed by [`State::check`].
    pub fn apply(&mut self, change: Change) {
        for member in change.members {
            for key in member.keys.keys() {
                self.key_owners.insert(*key, member.id.clone());
            }
            self.lattice.add(&Element::Member(&member));
            if let Some(old) = self.members.insert(member.id.clone(), member) {
                self.lattice.remove(&Element::Member(&old));
            }
        }
        for item in change.items {
            self.lattice.add(&Element::Item(&item));
            match self.items.insert(item.giai.clone(), item) {
                Some(old) => self.lattice.remove(&Element::Item(&old)),
                None => self.item_count += 1,
            }
        }
    }

    /// The state digest (docs/format.md §14): equal on every machine that applied
    /// the same records, whatever it knows of their restricted values.
    pub fn digest(&self) -> [u8; 32] {
        self.lattice.digest()
    }

    /// The running multiset hash the digest is taken of.
    pub fn lattice(&self) -> &StateLattice {
        &self.lattice
    }

    /// Whether `signer` holds `giai`: `giai.not_allocated` unless one of its allocations
    /// covers it. A ledger that allocates GIAIs refuses registrations for this; an audit of
    /// one that does not reports what the rule would have refused.
    pub fn allocation_verdict(&self, signer: &MemberId, giai: &Giai) -> Result<(), Refusal> {
        identifiers::require_held(self, signer, giai)
    }

    /// The distinct members whose active keys signed the entry.
    pub fn signers(&self, entry: &SignedEntry) -> Result<BTreeSet<MemberId>, Refusal> {
        let mut signers = BTreeSet::new();
        for signature in entry.signatures() {
            let owner = self.key_owners.get(&signature.key).ok_or_else(|| {
                Refusal::new(
                    RefusalCode::SignatureUnknownKey,
                    format!("key {} belongs to no member of this ledger", signature.key),
                )
            })?;
            let revoked = self.members.get(owner).and_then(|m| m.keys.get(&signature.key)).and_then(|k| k.revoked);
            if let Some(revoked) = revoked {
                return Err(Refusal::new(
                    RefusalCode::SignatureKeyRevoked,
                    format!("key {} of member {owner} was revoked at record {revoked}", signature.key),
                ));
            }
            signers.insert(owner.clone());
        }
        Ok(signers)
    }

    /// How many distinct admin members are among the signers.
    fn admin_signers(&self, signers: &BTreeSet<MemberId>) -> u64 {
        signers.iter().filter(|id| self.members.get(*id).is_some_and(|m| m.has_role(Role::Admin))).count() as u64
    }
}

/// Item and reservation entries act for exactly one member: the custodian, the recipient, the
/// certifier or the holder of the GIAIs.
fn sole_signer(signers: &BTreeSet<MemberId>) -> Result<&MemberId, Refusal> {
    let mut iter = signers.iter();
    match (iter.next(), iter.next()) {
        (Some(signer), None) => Ok(signer),
        _ => Err(Refusal::new(
            RefusalCode::SignatureMultipleMembers,
            format!("an item or reservation statement is signed for exactly one member, not {}", signers.len()),
        )),
    }
}

/// Refuses with `role.missing` unless `member` holds `role`; `action` says what for.
fn require_role(state: &State, member: &MemberId, role: Role, action: &str) -> Result<(), Refusal> {
    if state.member(member).is_some_and(|m| m.has_role(role)) {
        Ok(())
    } else {
        Err(role_missing(member, role, action))
    }
}

/// The refusal of a member that lacks the role an action needs.
fn role_missing(member: &MemberId, role: Role, action: &str) -> Refusal {
    Refusal::new(
        RefusalCode::RoleMissing,
        format!("member {member} lacks the {} role needed to {action}", role.as_str()),
    )
}

#[cfg(test)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests_identifiers;
#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests_may;
#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests_waste;
