//! What the allocation rule (docs/rules.md §10) would have refused on a ledger that predates
//! it: registrations and split parts whose GIAIs lie outside their signer's company prefixes
//! and ranges. Such a ledger still verifies (it took them by the rules of its genesis); the
//! audit lists them so that a consortium can see what moving to allocated GIAIs would mean.

use serde::Serialize;

use crate::custody::{Body, MemberId, State, VerifiedEntry};
use crate::ident::Giai;

/// How many unallocated GIAIs a report lists; it counts them all.
pub const LISTED: usize = 100;

/// A GIAI registered outside its registrant's prefixes and ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unallocated {
    /// The record that registered it (or split it off its parent).
    pub seq: u64,
    /// The GIAI.
    pub giai: Giai,
    /// The member that registered it.
    pub registrant: MemberId,
}

/// The GIAIs `entry` gives items that its signer holds no allocation for, on a ledger that
/// does not enforce allocation (on one that does, the entry is refused instead).
pub(super) fn would_refuse(state: &State, entry: &VerifiedEntry) -> Vec<(Giai, MemberId)> {
    if state.consortium().giai_allocation {
        return Vec::new();
    }
    let giais: Vec<&Giai> = match entry.body() {
        Body::Register(body) => vec![&body.giai],
        Body::Split(body) => body.parts.iter().map(|part| &part.giai).collect(),
        _ => return Vec::new(),
    };
    let Ok(signers) = state.signers(entry.entry()) else { return Vec::new() };
    let mut signers = signers.into_iter();
    let (Some(signer), None) = (signers.next(), signers.next()) else { return Vec::new() };
    giais
        .into_iter()
        .filter(|giai| state.allocation_verdict(&signer, giai).is_err())
        .map(|giai| (giai.clone(), signer.clone()))
        .collect()
}
