//! The audit's checks of checkpoints: the current one against the operators of the replayed
//! state, and an earlier one against every key an operator ever had.

use super::{CheckpointFinding, Problem};
use crate::checkpoint::{NoteVerifier, SignedCheckpoint};
use crate::custody::{Member, Role, State};
use crate::hex::to_lower_hex;
use crate::store::checkpoint_origin;

/// Verifies a signed checkpoint against the operators of a replayed state.
pub(crate) fn check_checkpoint(
    state: &State,
    checkpoint: &SignedCheckpoint,
    required_signers: usize,
    problems: &mut Vec<Problem>,
) -> CheckpointFinding {
    let ledger_id = state.consortium().ledger_id;
    if checkpoint.checkpoint.origin() != checkpoint_origin(&ledger_id) {
        problems.push(Problem::new(
            None,
            "checkpoint.origin",
            format!(
                "checkpoint origin {:?} is not {:?}",
                checkpoint.checkpoint.origin(),
                checkpoint_origin(&ledger_id)
            ),
        ));
    }
    let operators: Vec<_> = state.members().filter(|m| m.has_role(Role::Operator)).collect();
    let verifiers: Vec<NoteVerifier> = operators.iter().flat_map(|m| m.checkpoint_verifiers()).collect();
    let verified = checkpoint.verify(&verifiers);
    for name in &verified.invalid {
        problems.push(Problem::new(
            None,
            "checkpoint.bad_signature",
            format!("the signature of operator {name} does not verify"),
        ));
    }
    let mut signed_by = verified.valid.clone();
    signed_by.sort();
    signed_by.dedup();
    if signed_by.is_empty() {
        problems.push(Problem::new(None, "checkpoint.unsigned", "no operator of the consortium signed the checkpoint"));
    } else if signed_by.len() < required_signers {
        problems.push(Problem::new(
            None,
            "checkpoint.too_few_signers",
            format!(
                "the checkpoint is signed or cosigned by {} of the consortium's {} operators ({}); the policy requires {required_signers}",
                signed_by.len(),
                operators.len(),
                signed_by.join(", ")
            ),
        ));
    }
    CheckpointFinding {
        size: checkpoint.checkpoint.size(),
        root: to_lower_hex(checkpoint.checkpoint.root()),
        signed_by,
        operators: operators.len(),
    }
}

/// Checks that an operator of the consortium signed an earlier checkpoint with
/// any key it ever had, and that no signature under an operator's name fails.
pub(super) fn check_earlier_signatures(state: &State, note: &SignedCheckpoint) -> Vec<Problem> {
    let verifiers: Vec<NoteVerifier> =
        state.members().filter(|m| m.has_role(Role::Operator)).flat_map(Member::checkpoint_verifiers_ever).collect();
    let verified = note.verify(&verifiers);
    let mut problems: Vec<Problem> = verified
        .invalid
        .iter()
        .map(|name| {
            Problem::new(
                None,
                "checkpoint.earlier_bad_signature",
                format!("the earlier checkpoint's signature of operator {name} does not verify"),
            )
        })
        .collect();
    if verified.valid.is_empty() {
        problems.push(Problem::new(
            None,
            "checkpoint.earlier_unsigned",
            "no operator of the consortium signed the earlier checkpoint",
        ));
    }
    problems
}
