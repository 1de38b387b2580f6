//! Disclosure proofs: one restricted value, proven to whoever holds the
//! consortium's genesis (docs/format.md §13.8).
//!
//! A holder who must show a buyer, a bank or a certifier one restricted value
//! (the donor building's address, say) hands over a proof: the disclosure of
//! that value, the seq of the record that withholds it, and the item's proof
//! bundle. Verifying it needs no node: the bundle proves the record is in the
//! ledger the genesis founded, and the record's signed `_sd` lists the
//! disclosure's digest, so the value is the one the signer recorded. Nothing
//! else the record withholds is revealed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bundle::{Bundle, BundleReport, verify_bundle_requiring};
use crate::disclosure::{self, Disclosure};
use crate::entry::SignedEntry;
use crate::ident::Giai;

/// The format tag of disclosure proofs this code writes and reads.
pub const PROOF_FORMAT: &str = "salvage-disclosure-proof/v1";

/// A disclosure, the record it belongs to, and the bundle that proves the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureProof {
    /// Always [`PROOF_FORMAT`].
    pub format: String,
    /// The record that withholds the value.
    pub seq: u64,
    /// The disclosure, `[salt, pointer, value]`.
    pub disclosure: Value,
    /// The item's proof bundle, which holds record `seq`.
    pub bundle: Bundle,
}

impl DisclosureProof {
    /// A proof of `disclosure`, withheld by record `seq` of `bundle`.
    pub fn new(seq: u64, disclosure: &Disclosure, bundle: Bundle) -> DisclosureProof {
        DisclosureProof { format: PROOF_FORMAT.to_owned(), seq, disclosure: disclosure.to_value(), bundle }
    }
}

/// What a verified proof proves.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenValue {
    /// The item.
    pub giai: Giai,
    /// The record that withholds the value.
    pub seq: u64,
    /// The statement kind of that record.
    pub kind: String,
    /// Where the value is in the record's body (an RFC 6901 JSON Pointer).
    pub pointer: String,
    /// The value.
    pub value: Value,
    /// The member ids that signed the record.
    pub signed_by: Vec<String>,
}

/// Why a proof does not prove its value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProofError {
    /// Not a proof this code reads.
    #[error("the proof's format {0:?} is not {PROOF_FORMAT:?}")]
    Format(String),
    /// The bundle does not verify: see the report's problems.
    #[error("the proof's bundle does not verify ({} problem(s))", .0.problems.len())]
    Bundle(Box<BundleReport>),
    /// The bundle holds no record `seq`.
    #[error("the proof's bundle holds no record {0}")]
    NoRecord(u64),
    /// The disclosure is malformed or does not belong to the record.
    #[error("the disclosure does not belong to record {seq}: {reason}")]
    Disclosure {
        /// The record.
        seq: u64,
        /// Why.
        reason: String,
    },
}

/// Verifies a proof against the genesis the verifier trusts, requiring
/// `required_signers` distinct operators on the bundle's checkpoint.
pub fn verify_disclosure_proof(
    proof: &DisclosureProof,
    genesis: &SignedEntry,
    required_signers: usize,
) -> Result<(ProvenValue, BundleReport), ProofError> {
    if proof.format != PROOF_FORMAT {
        return Err(ProofError::Format(proof.format.clone()));
    }
    let report = verify_bundle_requiring(&proof.bundle, genesis, required_signers);
    if !report.is_clean() {
        return Err(ProofError::Bundle(Box::new(report)));
    }
    let record = proof
        .bundle
        .records
        .iter()
        .map(|proven| &proven.record)
        .find(|record| record.seq.get() == proof.seq)
        .ok_or(ProofError::NoRecord(proof.seq))?;
    let not_belonging = |reason: String| ProofError::Disclosure { seq: proof.seq, reason };
    let disclosure = Disclosure::from_value(&proof.disclosure).map_err(|refusal| not_belonging(refusal.message))?;
    let statement = record.entry.statement();
    disclosure::belongs(statement.kind, &statement.body, &disclosure)
        .map_err(|refusal| not_belonging(refusal.message))?;
    let signed_by = signers(genesis, &proof.bundle, record.seq.get());
    let proven = ProvenValue {
        giai: proof.bundle.giai.clone(),
        seq: proof.seq,
        kind: statement.kind.to_string(),
        pointer: disclosure.place().to_string(),
        value: disclosure.value().clone(),
        signed_by,
    };
    Ok((proven, report))
}

/// The member ids whose keys signed record `seq`, as the bundle's membership
/// records (replayed up to it) know them.
fn signers(genesis: &SignedEntry, bundle: &Bundle, seq: u64) -> Vec<String> {
    let Ok(mut state) = crate::custody::State::from_genesis(genesis) else { return Vec::new() };
    for proven in bundle.records.iter().filter(|proven| proven.record.seq.get() > 0) {
        let record = &proven.record;
        if record.seq.get() == seq {
            return state
                .signers(&record.entry)
                .map(|ids| ids.into_iter().map(|id| id.to_string()).collect())
                .unwrap_or_default();
        }
        let context = crate::custody::Context { seq: record.seq, accepted: record.accepted.clone() };
        let judged = crate::custody::VerifiedEntry::verify_public(record.entry.clone(), state.consortium().format)
            .and_then(|entry| state.check(&entry, &context));
        if let Ok(change) = judged {
            state.apply(change);
        }
    }
    Vec::new()
}
