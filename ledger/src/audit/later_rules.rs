//! What the second edition of the rules (docs/rules.md §11: waste, hazards, attestations) would
//! have refused on a ledger founded before it. Such a ledger still verifies (it took the entries
//! by the rules of its genesis); the audit lists them, because a certifier auditing custody
//! chains wants to know, e.g., that asbestos was installed in a kindergarten even though the
//! ledger of the time let it.

use serde::Serialize;

use crate::custody::{Context, State, VerifiedEntry};
use crate::refusal::{Refusal, RefusalCode};

/// How many entries a report lists; it counts them all.
pub const LISTED: usize = 100;

/// An entry the second rules would have refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WouldRefuse {
    /// Its record.
    pub seq: u64,
    /// The code the rules would have refused it with, e.g. `waste.not_installable`.
    pub code: RefusalCode,
    /// Their message.
    pub message: String,
}

/// The refusal of the second rules, if they would have refused `entry`, which the ledger's own
/// rules are about to judge at `context`.
pub(super) fn would_refuse(state: &State, entry: &VerifiedEntry, context: &Context) -> Option<Refusal> {
    state.later_rules_verdict(entry, context)
}
