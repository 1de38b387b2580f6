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
//! Every node also keeps, per operator, the last such entry it applied
//! ([`NodeRequests`]), and the leader compares them with Raft's membership every
//! few seconds and carries out what is missing. So a change survives a
//! leadership move between the entry's apply and the change, a leader that
//! crashed while a new node caught up, or a node that was not running yet.
//!
//! For the tests, the environment variable [`LOSE_HANDOVER`] set to `1` makes a
//! node ignore the changes its state machine hands over, as a leader that
//! crashed right after the apply would: only the kept requests then bring the
//! change about.

use std::collections::BTreeSet;
use std::time::Duration;

use openraft::ChangeMembers;
use salvage_ledger::custody::NodeSetChange;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{ConsortiumNode, NodeId, Raft, node_id};

/// How long a new node may take to catch up before it is made a voter.
const CATCH_UP: Duration = Duration::from_secs(120);

/// How often the leader compares the requested nodes with Raft's membership.
const RECONCILE: Duration = Duration::from_secs(3);

/// The fault-injection switch described in the module documentation.
pub const LOSE_HANDOVER: &str = "SALVAGE_FAULT_LOSE_NODE_HANDOVER";

/// A membership change an accepted admin entry asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeChange {
    /// `node.add`: this operator's node, at this URL, becomes a voter.
    Add(ConsortiumNode),
    /// `node.remove`: this operator's node stops being one.
    Remove(String),
}

impl NodeChange {
    /// The change the ledger reported for an accepted entry.
    pub fn asked_by(change: &NodeSetChange) -> Option<NodeChange> {
        match change {
            NodeSetChange::Add { member, url } => {
                Some(NodeChange::Add(ConsortiumNode { member: member.as_str().to_owned(), url: url.clone() }))
            }
            NodeSetChange::Remove { member } => Some(NodeChange::Remove(member.as_str().to_owned())),
            // A kind of change this node does not know cannot be carried out here.
            _ => None,
        }
    }

    /// The operator whose node the change is about.
    pub fn member(&self) -> &str {
        match self {
            NodeChange::Add(node) => &node.member,
            NodeChange::Remove(member) => member,
        }
    }
}

/// The last `node.add` or `node.remove` applied for each operator, kept in the
/// state machine's sled database (written before the applied position, so a
/// crash that loses one loses the other and the batch is applied again).
#[derive(Clone)]
pub struct NodeRequests {
    tree: sled::Tree,
}

impl NodeRequests {
    /// The requests kept in `db`.
    pub fn open(db: &sled::Db) -> Result<NodeRequests, sled::Error> {
        Ok(NodeRequests { tree: db.open_tree("node-requests")? })
    }

    /// Keeps `change` as the last request for its operator.
    pub fn record(&self, change: &NodeChange) -> Result<(), String> {
        let bytes = serde_json::to_vec(change).map_err(|e| e.to_string())?;
        self.tree.insert(change.member().as_bytes(), bytes).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Whether the last request for `member`'s node removed it.
    pub fn removed(&self, member: &str) -> bool {
        let last = self.tree.get(member.as_bytes()).ok().flatten();
        last.and_then(|bytes| serde_json::from_slice(&bytes).ok()).is_some_and(|c| matches!(c, NodeChange::Remove(_)))
    }

    /// Every operator's last request.
    fn all(&self) -> Vec<NodeChange> {
        let mut requests = Vec::new();
        for stored in self.tree.iter() {
            match stored
                .map_err(|e| e.to_string())
                .and_then(|(_, bytes)| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
            {
                Ok(change) => requests.push(change),
                Err(error) => tracing::error!(%error, "a kept node.add or node.remove request cannot be read"),
            }
        }
        requests
    }
}

/// Carries out the changes the state machine hands over, and every few seconds
/// whatever the kept requests ask that Raft's membership lacks, while this
/// node leads; runs until the state machine is dropped.
pub async fn carry_out(
    raft: Raft,
    this: NodeId,
    requests: NodeRequests,
    mut changes: mpsc::UnboundedReceiver<NodeChange>,
) {
    let lose_handover = std::env::var(LOSE_HANDOVER).is_ok_and(|value| value == "1");
    if lose_handover {
        tracing::warn!(
            "{LOSE_HANDOVER}=1: node.add and node.remove entries are carried out only from the kept requests (fault injection for tests)"
        );
    }
    let mut every = tokio::time::interval(RECONCILE);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let due = tokio::select! {
            change = changes.recv() => match change {
                Some(_) if lose_handover => continue,
                Some(change) => vec![change],
                None => return,
            },
            _ = every.tick() => requests.all(),
        };
        for change in due {
            let metrics = raft.metrics().borrow().clone();
            if metrics.current_leader != Some(this) {
                break;
            }
            let voters: BTreeSet<NodeId> = metrics.membership_config.membership().voter_ids().collect();
            let missing = match &change {
                NodeChange::Add(node) => !voters.contains(&node_id(&node.member)),
                NodeChange::Remove(member) => voters.contains(&node_id(member)),
            };
            if missing {
                make(&raft, &voters, change).await;
            }
        }
    }
}

/// Makes Raft's membership follow `change`, which it does not yet.
async fn make(raft: &Raft, voters: &BTreeSet<NodeId>, change: NodeChange) {
    match change {
        NodeChange::Add(node) => {
            let id = node_id(&node.member);
            tracing::info!(node = %node, "node.add: bringing the node up to date as a learner");
            match tokio::time::timeout(CATCH_UP, raft.add_learner(id, node.clone(), true)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::error!(node = %node, %error, "node.add: the node could not be added as a learner; trying again in a few seconds");
                    return;
                }
                Err(_) => {
                    tracing::error!(node = %node, "node.add: the node did not catch up within {} s; trying again in a few seconds", CATCH_UP.as_secs());
                    return;
                }
            }
            match raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false).await {
                Ok(_) => tracing::info!(node = %node, "node.add: the node votes now"),
                Err(error) => tracing::error!(node = %node, %error, "node.add: the node could not be made a voter"),
            }
        }
        NodeChange::Remove(member) => {
            let id = node_id(&member);
            if voters.len() == 1 {
                tracing::error!(%member, "node.remove: the last node of the consortium cannot be removed");
                return;
            }
            match raft.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false).await {
                Ok(_) => tracing::info!(%member, "node.remove: the node no longer votes nor receives the log"),
                Err(error) => tracing::error!(%member, %error, "node.remove: the node could not be removed"),
            }
        }
    }
}
