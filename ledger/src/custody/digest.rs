//! The state digest (docs/format.md §14): one 32-byte value that two nodes, or a node and an
//! auditor, compare to know they hold the same custody state, without comparing history.
//!
//! It must be cheap to keep up to date as records apply (a node of ten million records cannot
//! re-hash its whole state per record) and independent of the order items are stored in (a node
//! keeps them on disk, an audit streams them). So it is a *homomorphic multiset hash*: the
//! LtHash of Bellare and Micciancio ("A New Paradigm for Collision-free Hashing", 1997) with the
//! parameters of Lewi et al. ("Securing Update Propagation with Homomorphic Hashing", 2019):
//! 1024 lanes of 16 bits, each state element's term drawn from an extendable-output hash and
//! added lane by lane with wrapping arithmetic. Replacing an element subtracts its old term and
//! adds its new one. An additive hash over a single 256-bit number would be cheaper still, but
//! Wagner's generalised birthday attack finds colliding sums of chosen elements far faster than
//! 2^128; the lattice is what makes collisions as hard as a short-vector problem.
//!
//! The terms cover what every reader of the ledger can see: the consortium, every member, and
//! every item's custody facts. Passport contents (an item's name and mass) are not in the terms:
//! a format-2 ledger may withhold them, so an auditor without disclosures could not compute
//! them; the item's `passport_seq` names the record that holds them instead.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Allocation, AttestationRef, Consortium, ItemState, ItemStatus, KeyState, Member, PendingTransfer};
use crate::canonical::to_canonical_bytes;
use crate::chain::Seq;
use crate::entry::PublicKey;
use crate::ident::Giai;

/// How many 16-bit lanes the lattice has.
const LANES: usize = 1024;

/// The bytes of a lattice: its lanes, little-endian.
pub const LATTICE_BYTES: usize = LANES * 2;

/// The domain separator of a state element's term.
const TERM_DOMAIN: &[u8] = b"salvage-state/v1\n";

/// The running multiset hash of a custody state.
#[derive(Clone, PartialEq, Eq)]
pub struct StateLattice {
    lanes: Box<[u16; LANES]>,
}

impl StateLattice {
    /// The lattice of the empty multiset: every lane zero.
    pub fn new() -> StateLattice {
        StateLattice { lanes: Box::new([0; LANES]) }
    }

    /// A lattice from its stored bytes ([`StateLattice::to_bytes`]); `None` unless exactly
    /// [`LATTICE_BYTES`] long.
    pub fn from_bytes(bytes: &[u8]) -> Option<StateLattice> {
        if bytes.len() != LATTICE_BYTES {
            return None;
        }
        let mut lattice = StateLattice::new();
        for (lane, pair) in lattice.lanes.iter_mut().zip(bytes.chunks_exact(2)) {
            *lane = u16::from_le_bytes([pair[0], pair[1]]);
        }
        Some(lattice)
    }

    /// The lanes, little-endian, for storing.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.lanes.iter().flat_map(|lane| lane.to_le_bytes()).collect()
    }

    /// The published digest: blake3 of the lanes, little-endian.
    pub fn digest(&self) -> [u8; 32] {
        *blake3::hash(&self.to_bytes()).as_bytes()
    }

    /// Adds an element's term.
    pub fn add(&mut self, element: &Element<'_>) {
        let term = term(element);
        for (lane, addend) in self.lanes.iter_mut().zip(term.iter()) {
            *lane = lane.wrapping_add(*addend);
        }
    }

    /// Takes an element's term away (it must have been added).
    pub fn remove(&mut self, element: &Element<'_>) {
        let term = term(element);
        for (lane, subtrahend) in self.lanes.iter_mut().zip(term.iter()) {
            *lane = lane.wrapping_sub(*subtrahend);
        }
    }
}

impl Default for StateLattice {
    fn default() -> Self {
        StateLattice::new()
    }
}

impl std::fmt::Debug for StateLattice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateLattice({})", crate::hex::to_lower_hex(self.digest()))
    }
}

/// One element of the state, as its term hashes it.
pub enum Element<'a> {
    /// The consortium the genesis founded.
    Consortium(&'a Consortium),
    /// A member, keyed by its id.
    Member(&'a Member),
    /// An item, keyed by its GIAI: its custody facts only.
    Item(&'a ItemState),
}

impl Element<'_> {
    /// `JCS([kind, key, value])`, the bytes its term hashes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        match self {
            Element::Consortium(consortium) => to_canonical_bytes(&("consortium", "", consortium)),
            Element::Member(member) => to_canonical_bytes(&("member", member.id.as_str(), MemberTerm::of(member))),
            Element::Item(item) => to_canonical_bytes(&("item", item.giai.as_str(), ItemTerm::of(item))),
        }
    }
}

/// An element's term: the blake3 extendable output of `TERM_DOMAIN ‖ JCS([kind, key, value])`,
/// read as little-endian 16-bit lanes.
fn term(element: &Element<'_>) -> Box<[u16; LANES]> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(TERM_DOMAIN);
    hasher.update(&element.canonical_bytes());
    let mut bytes = [0u8; LATTICE_BYTES];
    hasher.finalize_xof().fill(&mut bytes);
    let mut lanes = Box::new([0u16; LANES]);
    for (lane, pair) in lanes.iter_mut().zip(bytes.chunks_exact(2)) {
        *lane = u16::from_le_bytes([pair[0], pair[1]]);
    }
    lanes
}

/// A member as its term hashes it: [`Member`] with its roles sorted by name, so the
/// order is the wire's, not the order of the `Role` type.
#[derive(Serialize)]
struct MemberTerm<'a> {
    id: &'a str,
    name: &'a str,
    roles: Vec<&'static str>,
    keys: &'a BTreeMap<PublicKey, KeyState>,
    since: Seq,
    #[serde(skip_serializing_if = "<[Allocation]>::is_empty")]
    identifiers: &'a [Allocation],
}

impl<'a> MemberTerm<'a> {
    fn of(member: &'a Member) -> MemberTerm<'a> {
        let mut roles: Vec<&'static str> = member.roles.iter().map(|role| role.as_str()).collect();
        roles.sort_unstable();
        MemberTerm {
            id: member.id.as_str(),
            name: &member.name,
            roles,
            keys: &member.keys,
            since: member.since,
            identifiers: &member.identifiers,
        }
    }
}

/// An item's custody facts: [`ItemState`] without the passport's name and mass.
#[derive(Serialize)]
struct ItemTerm<'a> {
    giai: &'a Giai,
    custodian: &'a str,
    status: ItemStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: &'a Option<PendingTransfer>,
    passport_version: u64,
    passport_seq: Seq,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: &'a Option<Giai>,
    #[serde(skip_serializing_if = "<[Giai]>::is_empty")]
    parts: &'a [Giai],
    registered: Seq,
    updated: Seq,
    #[serde(skip_serializing_if = "<[AttestationRef]>::is_empty")]
    attestations: &'a [AttestationRef],
}

impl<'a> ItemTerm<'a> {
    fn of(item: &'a ItemState) -> ItemTerm<'a> {
        ItemTerm {
            giai: &item.giai,
            custodian: item.custodian.as_str(),
            status: item.status,
            pending: &item.pending,
            passport_version: item.passport_version,
            passport_seq: item.passport_seq,
            parent: &item.parent,
            parts: &item.parts,
            registered: item.registered,
            updated: item.updated,
            attestations: &item.attestations,
        }
    }
}
