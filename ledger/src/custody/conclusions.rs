//! A certifier's conclusion of a custody audit (`audit.conclusion`, docs/format.md §18).
//!
//! The conclusion names the ledger as the audit read it (a checkpoint: a size and the Merkle
//! root of that many records), the items whose chains it judged, the BLAKE3 of the report and
//! the verdict. The custody rules check what the state knows: the signer certifies, the
//! checkpoint precedes the conclusion, every item was on the ledger at it, and the conclusion
//! agrees with itself. Whether the root is the ledger's is not the state's to know: the state
//! keeps no tree. Whoever replays the records with the tree at hand (the store, the audit, a
//! bundle's verifier with a consistency proof) checks it with [`require_root`]. The items
//! judged are touched (their `updated` names the conclusion), so that each item's history,
//! page and bundle carry it.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::{Change, Context, ItemStatus, MemberId, Role, State, require_role, sole_signer};
use crate::hex::{parse_lower_hex, to_lower_hex};
use crate::ident::Giai;
use crate::refusal::{Refusal, RefusalCode};

/// The body of `audit.conclusion`.
#[derive(Debug, Clone, Deserialize)]
pub struct ConclusionBody {
    /// The scopes the audit was asked for, as typed; empty for the whole ledger.
    pub scope: Vec<String>,
    /// The ledger as the audit read it.
    pub checkpoint: NamedCheckpoint,
    /// BLAKE3 of the report's bytes, hex.
    pub report: String,
    /// `pass` or `fail`.
    pub verdict: String,
    /// How many findings of each severity the report lists.
    pub findings: FindingCounts,
    /// The items whose custody chains the audit judged.
    pub items: Vec<Giai>,
    /// Those of them with a finding.
    #[serde(default)]
    pub flagged: Vec<Giai>,
}

/// The size and root of the ledger an audit read.
#[derive(Debug, Clone, Deserialize)]
pub struct NamedCheckpoint {
    /// How many records.
    pub size: u64,
    /// The Merkle root of those records, 64 lowercase hex digits.
    pub root: String,
}

/// How many findings of each severity a report lists.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct FindingCounts {
    /// Errors under the audit's scheme.
    pub errors: u64,
    /// Warnings.
    pub warnings: u64,
}

impl ConclusionBody {
    /// The checkpoint's size and root, if the root is 64 lowercase hex digits (the schema
    /// makes sure it is).
    pub fn named_root(&self) -> Option<(u64, [u8; 32])> {
        parse_lower_hex::<32>(&self.checkpoint.root).ok().map(|root| (self.checkpoint.size, root))
    }

    /// Whether the conclusion says the item has a finding.
    pub fn flags(&self, giai: &Giai) -> bool {
        self.flagged.contains(giai)
    }
}

/// Refuses a conclusion whose checkpoint root is not `actual`, the ledger's root at the
/// checkpoint's size.
pub fn require_root(named: (u64, [u8; 32]), actual: &[u8; 32]) -> Result<(), Refusal> {
    let (size, root) = named;
    if root == *actual {
        return Ok(());
    }
    Err(Refusal::new(
        RefusalCode::AuditCheckpointMismatch,
        format!(
            "the conclusion's checkpoint of {size} records has root {}, but this ledger's first {size} records have root {}",
            to_lower_hex(root),
            to_lower_hex(actual)
        ),
    ))
}

/// Checks a conclusion against the state and computes its change: every item judged, touched.
pub(super) fn check(
    state: &State,
    signers: &BTreeSet<MemberId>,
    body: &ConclusionBody,
    context: &Context,
) -> Result<Change, Refusal> {
    require_certifier(state, signers)?;
    let size = body.checkpoint.size;
    if size == 0 || size > context.seq.get() {
        return Err(Refusal::new(
            RefusalCode::AuditCheckpointAhead,
            format!(
                "the conclusion names a checkpoint of {size} records; at record {} it may name 1 to {}",
                context.seq,
                context.seq.get()
            ),
        ));
    }
    require_consistent(body)?;
    let mut items = Vec::with_capacity(body.items.len());
    for giai in &body.items {
        match state.item(giai) {
            Some(item) if item.status == ItemStatus::Reserved => {
                return Err(Refusal::new(
                    RefusalCode::AuditUnknownItem,
                    format!("{giai} is reserved, not registered: there is no custody chain to audit"),
                ));
            }
            Some(item) if item.registered.get() < size => {
                let mut item = item.clone();
                item.updated = context.seq;
                items.push(item);
            }
            Some(item) => {
                return Err(Refusal::new(
                    RefusalCode::AuditUnknownItem,
                    format!(
                        "{giai} was registered at record {}, after the checkpoint of {size} records the audit read",
                        item.registered
                    ),
                ));
            }
            // A bundle's verifier holds only the items of its bundle: the others were checked
            // when the ledger accepted the record, whose inclusion the bundle proves.
            None if !state.holds_every_item() => {}
            None => {
                return Err(Refusal::new(RefusalCode::AuditUnknownItem, format!("no item {giai} is on the ledger")));
            }
        }
    }
    Ok(Change { members: vec![], items })
}

/// The one member a conclusion is signed for, if it certifies.
pub(super) fn require_certifier<'s>(state: &State, signers: &'s BTreeSet<MemberId>) -> Result<&'s MemberId, Refusal> {
    let signer = sole_signer(signers)?;
    require_role(state, signer, Role::Certifier, "record audit conclusions")?;
    Ok(signer)
}

/// Refuses a conclusion that contradicts itself.
fn require_consistent(body: &ConclusionBody) -> Result<(), Refusal> {
    let inconsistent = |why: String| Err(Refusal::new(RefusalCode::AuditInconsistent, why));
    let mut named = BTreeSet::new();
    for giai in &body.items {
        if !named.insert(giai) {
            return inconsistent(format!("the conclusion names {giai} twice among its items"));
        }
    }
    let mut flagged = BTreeSet::new();
    for giai in &body.flagged {
        if !named.contains(giai) {
            return inconsistent(format!("{giai} is flagged but not among the items the conclusion names"));
        }
        if !flagged.insert(giai) {
            return inconsistent(format!("the conclusion flags {giai} twice"));
        }
    }
    let FindingCounts { errors, warnings } = body.findings;
    let verdict = if errors == 0 { "pass" } else { "fail" };
    if body.verdict != verdict {
        return inconsistent(format!(
            "a report with {errors} error(s) passes only without errors: its verdict is {verdict}, not {}",
            body.verdict
        ));
    }
    if (errors == 0 && warnings == 0) != body.flagged.is_empty() {
        return inconsistent(format!(
            "the conclusion counts {errors} error(s) and {warnings} warning(s) but flags {} item(s): items are flagged exactly when there are findings",
            body.flagged.len()
        ));
    }
    Ok(())
}
