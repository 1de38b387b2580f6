//! Consortium node rules: which operators run the replicated nodes.
//!
//! The node set changes only by `node.add` and `node.remove`, each signed by the
//! admin threshold exactly like `member.add`. The custody state keeps nothing
//! for them: the nodes read accepted entries of these kinds and change their
//! replication group, so accepting one changes no member and no item.

use std::collections::BTreeSet;

use super::bodies::{Body, NodeAddBody, NodeRemoveBody};
use super::members::require_admins;
use super::{Change, Member, MemberId, Role, State};
use crate::refusal::{Refusal, RefusalCode};

/// A change of the consortium's node set that an accepted `node.add` or
/// `node.remove` asks for; the nodes carry it out in their replication group.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeSetChange {
    /// `node.add`: the operator `member` runs a node, reached at `url`.
    Add {
        /// The operator.
        member: MemberId,
        /// Where the other nodes reach its node.
        url: String,
    },
    /// `node.remove`: the operator `member`'s node leaves the consortium.
    Remove {
        /// The operator.
        member: MemberId,
    },
}

impl NodeSetChange {
    /// The change a body asks for, if it is a `node.add` or `node.remove`.
    pub fn asked_by(body: &Body) -> Option<NodeSetChange> {
        match body {
            Body::NodeAdd(body) => Some(NodeSetChange::Add { member: body.member.clone(), url: body.url.clone() }),
            Body::NodeRemove(body) => Some(NodeSetChange::Remove { member: body.member.clone() }),
            _ => None,
        }
    }
}

/// `node.add`: admins up to the threshold let an operator run a node.
pub(super) fn add(state: &State, signers: &BTreeSet<MemberId>, body: &NodeAddBody) -> Result<Change, Refusal> {
    require_admins(state, signers, "add a consortium node")?;
    let member = existing(state, &body.member)?;
    if !member.has_role(Role::Operator) {
        return Err(Refusal::new(
            RefusalCode::RoleMissing,
            format!(
                "member {} lacks the {} role needed to run a consortium node",
                body.member,
                Role::Operator.as_str()
            ),
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
