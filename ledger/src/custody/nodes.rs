//! Consortium node rules: which operators run the replicated nodes.
//!
//! The node set changes only by `node.add` and `node.remove`, each signed by the
//! admin threshold exactly like `member.add`. The custody state keeps nothing
//! for them: the nodes read accepted entries of these kinds and change their
//! replication group, so accepting one changes no member and no item.

use std::collections::BTreeSet;

use super::bodies::{NodeAddBody, NodeRemoveBody};
use super::members::require_admins;
use super::{Change, Member, MemberId, Role, State};
use crate::refusal::{Refusal, RefusalCode};

/// `node.add`: admins up to the threshold let an operator run a node.
pub(super) fn add(state: &State, signers: &BTreeSet<MemberId>, body: &NodeAddBody) -> Result<Change, Refusal> {
    require_admins(state, signers, "add a consortium node")?;
    let member = existing(state, &body.member)?;
    if !member.has_role(Role::Operator) {
        return Err(Refusal::new(
            RefusalCode::RoleMissing,
            format!("member {} lacks the {} role needed to run a consortium node", body.member, Role::Operator.as_str()),
        ));
    }
    // Its node can sign: `member.last_key` keeps every member with an active key.
    Ok(Change::default())
}

/// `node.remove`: admins up to the threshold take a member's node out of the consortium.
pub(super) fn remove(state: &State, signers: &BTreeSet<MemberId>, body: &NodeRemoveBody) -> Result<Change, Refusal> {
    require_admins(state, signers, "remove a consortium node")?;
    existing(state, &body.member)?;
    Ok(Change::default())
}

fn existing<'a>(state: &'a State, id: &MemberId) -> Result<&'a Member, Refusal> {
    state.member(id).ok_or_else(|| Refusal::new(RefusalCode::MemberUnknown, format!("no member has id {id}")))
}
