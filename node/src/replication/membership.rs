//! Adding and removing consortium nodes: the admins decide, Raft carries it out.
//!
//! Which operators run a node changes only by a `node.add` or `node.remove`
//! entry signed by enough admins; the ledger checks the signatures and the
//! threshold like any entry. Once such an entry is applied, the state machine
//! hands it here as a [`NodeChange`], and the node that leads makes Raft's
//! membership follow: a new node is added as a learner, brought up to date,
//! then made a voter; a removed node stops being one. Every node applies the
//! entry, but only the leader acts; the others ignore the change.
//!
//! A node joining this way starts with `join` set, so that it waits to be
//! brought in instead of proposing a first membership of its own.
//!
//! If leadership moves between the entry's apply and the change, the change is
//! not made; the new leader logs nothing about it and the admins see the node
//! missing from `GET /v1/status`'s `nodes`, and submit the entry again.

use std::collections::BTreeSet;
use std::time::Duration;

use openraft::ChangeMembers;
use salvage_ledger::entry::{Kind, SignedEntry};
use tokio::sync::mpsc;

use super::{ConsortiumNode, NodeId, Raft, node_id};

/// How long a new node may take to catch up before it is made a voter.
const CATCH_UP: Duration = Duration::from_secs(120);

/// A membership change an accepted admin entry asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeChange {
    /// `node.add`: this operator's node, at this URL, becomes a voter.
    Add(ConsortiumNode),
    /// `node.remove`: this operator's node stops being one.
    Remove(String),
}

impl NodeChange {
    /// The change `entry` asks for, if it is a `node.add` or `node.remove`.
    /// Its body was checked against the kind's schema before it was accepted.
    pub fn of(entry: &SignedEntry) -> Option<NodeChange> {
        let statement = entry.statement();
        let member = || statement.body.get("member").and_then(|member| member.as_str()).map(str::to_owned);
        match statement.kind {
            Kind::NodeAdd => {
                let url = statement.body.get("url")?.as_str()?.to_owned();
                Some(NodeChange::Add(ConsortiumNode { member: member()?, url }))
            }
            Kind::NodeRemove => Some(NodeChange::Remove(member()?)),
            _ => None,
        }
    }
}

/// Carries out the changes the state machine hands over, while this node
/// leads; runs until the state machine is dropped.
pub async fn carry_out(raft: Raft, this: NodeId, mut changes: mpsc::UnboundedReceiver<NodeChange>) {
    while let Some(change) = changes.recv().await {
        let metrics = raft.metrics().borrow().clone();
        if metrics.current_leader != Some(this) {
            continue;
        }
        let voters: BTreeSet<NodeId> = metrics.membership_config.membership().voter_ids().collect();
        match change {
            NodeChange::Add(node) => {
                let id = node_id(&node.member);
                if voters.contains(&id) {
                    tracing::info!(node = %node, "node.add: the node is a voter already");
                    continue;
                }
                tracing::info!(node = %node, "node.add: bringing the node up to date as a learner");
                match tokio::time::timeout(CATCH_UP, raft.add_learner(id, node.clone(), true)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => {
                        tracing::error!(node = %node, %error, "node.add: the node could not be added as a learner");
                        continue;
                    }
                    Err(_) => {
                        tracing::error!(node = %node, "node.add: the node did not catch up within {} s; submit node.add again once it runs", CATCH_UP.as_secs());
                        continue;
                    }
                }
                match raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false).await {
                    Ok(_) => tracing::info!(node = %node, "node.add: the node votes now"),
                    Err(error) => tracing::error!(node = %node, %error, "node.add: the node could not be made a voter"),
                }
            }
            NodeChange::Remove(member) => {
                let id = node_id(&member);
                if !voters.contains(&id) {
                    tracing::info!(%member, "node.remove: the node is not a voter");
                    continue;
                }
                if voters.len() == 1 {
                    tracing::error!(%member, "node.remove: the last node of the consortium cannot be removed");
                    continue;
                }
                match raft.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false).await {
                    Ok(_) => tracing::info!(%member, "node.remove: the node no longer votes nor receives the log"),
                    Err(error) => tracing::error!(%member, %error, "node.remove: the node could not be removed"),
                }
            }
        }
    }
}
