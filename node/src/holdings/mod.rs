//! A member's own views of the ledger: the items it holds, the transfers offered to it and the
//! records it signed, which its app lists (issue 28).
//!
//! The ledger's index finds an item by its GIAI, not a member's items: answering "what does
//! this member hold" from it would read every item, and ledgers reach ten million records. So
//! a node follows its ledger into a store of its own keyed by member (`store`,
//! `DATA/holdings.redb`), as it follows it into the attachments' names:
//!
//! - It follows the ledger as every store of the node's does (`crate::follower`: a mark, one
//!   follower at a time, in the background, another ledger found under it read again from the
//!   start). For each record it notes who signed it (by every key a member ever had: a record
//!   signed by a key revoked since is still that member's) and which items it touched (the item
//!   its body names, a split's parts, the GIAIs a reservation takes); then it reads each touched
//!   item's **current** state from the ledger and writes where it stands now. A follower that
//!   runs behind thus never writes a state the item has left, and an item touched again later
//!   is written again then.
//! - A read catches up itself when only a few records are new and nobody else is following
//!   ([`Holdings::catch_up`]), or waits a little for the one who is ([`Holdings::caught_up`]).
//!
//! The HTTP side is `server/member_views.rs`.

mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use salvage_ledger::Ledger;
use salvage_ledger::chain::Record;
use salvage_ledger::custody::{ItemState, ItemStatus, Member, MemberId, ReserveBody};
use salvage_ledger::entry::{Kind, PublicKey};
use salvage_ledger::ident::Giai;
use serde::Deserialize;
use serde_json::Value;

pub use crate::follower::Followed;
use crate::follower::{Follower, Notes, followed_to};
use store::{Changes, Standing};
pub use store::{HoldingsStore, Page, SignedRecord};

/// How many items one write may take: a chunk of reservations could name half a million.
const MAX_TOUCHED_PER_WRITE: usize = 4096;

/// The most records a read follows itself; further behind, it leaves them to the background.
const READ_CATCH_UP: u64 = 4096;

/// A node's record of who holds what, who is offered what and who signed what.
pub struct Holdings {
    follower: Arc<Follower<HoldingsStore>>,
}

/// Why the holdings could not be read or followed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HoldingsError {
    /// The store (`holdings.redb`) failed.
    #[error("the members' holdings ({}) failed: {reason}", path.display())]
    Store {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The ledger could not be read.
    #[error("reading the ledger for the members' holdings: {0}")]
    Ledger(String),
    /// Another process (or this one) has the store open.
    #[error("the members' holdings ({}) are open in another process: is another node running on this data directory?", path.display())]
    InUse {
        /// The database file.
        path: PathBuf,
    },
}

impl Holdings {
    /// Opens (creating) the store at `path`, e.g. `DATA/holdings.redb`.
    pub fn open(path: &Path) -> Result<Holdings, HoldingsError> {
        // The store is derived from the ledger: one that does not open (damaged, or of
        // another version) is started again from nothing rather than keeping the node down.
        let follower = match HoldingsStore::open(path).and_then(Follower::new) {
            Ok(follower) => follower,
            Err(error @ HoldingsError::InUse { .. }) => return Err(error),
            Err(error) => {
                tracing::warn!(%error, "the members' holdings are read again from the ledger");
                std::fs::remove_file(path).map_err(|e| HoldingsError::Store {
                    path: path.to_owned(),
                    reason: format!("cannot remove the damaged store: {e}"),
                })?;
                Follower::new(HoldingsStore::open(path)?)?
            }
        };
        Ok(Holdings { follower: Arc::new(follower) })
    }

    /// The store, to read members' lists from.
    pub fn store(&self) -> &HoldingsStore {
        self.follower.notes()
    }

    /// How many of the ledger's records the store has read.
    pub fn followed_size(&self) -> u64 {
        self.follower.followed_size()
    }

    /// Catches up with `ledger` from a read, when at most a few thousand records are new and
    /// nobody else is following (a read never waits for the background follower here, which
    /// may be reading a whole ledger after an upgrade). Returns whether the store then covers
    /// the ledger's size.
    pub fn catch_up(&self, ledger: &Ledger) -> Result<bool, HoldingsError> {
        let size = ledger.size();
        let followed = self.followed_size();
        if followed >= size {
            return Ok(true);
        }
        if size - followed > READ_CATCH_UP {
            return Ok(false);
        }
        Ok(self.follower.try_follow(ledger)?.is_some_and(|followed| followed >= size))
    }

    /// Waits, at most `patience`, until the store has read `size` records: a read that found
    /// the follower busy waits for it rather than list what the member held a moment ago.
    /// Returns whether it got there.
    pub async fn caught_up(&self, size: u64, patience: Duration) -> bool {
        self.follower.caught_up(size, patience).await
    }

    /// Reads the records the store has not seen; starts over when the ledger under the store
    /// is another one. Returns the size followed.
    pub fn follow(&self, ledger: &Ledger) -> Result<u64, HoldingsError> {
        self.follower.follow(ledger)
    }

    /// Follows the ledger in the background, every `every`, until the node stops.
    pub(crate) fn follow_in_the_background(&self, ledger: Arc<Ledger>, every: Duration) {
        self.follower.follow_in_the_background(ledger, every);
    }
}

impl Notes for HoldingsStore {
    type Error = HoldingsError;

    const WHAT: &'static str = "holdings";

    fn followed(&self) -> Result<Option<Followed>, HoldingsError> {
        HoldingsStore::followed(self)
    }

    /// Notes who signed each record and which items it touched, then writes each touched
    /// item where it stands now: up to the record where the items touched reach a write's
    /// worth, or all of them.
    fn note_records(&self, ledger: &Ledger, records: &[Record]) -> Result<Followed, HoldingsError> {
        // Keys never change members, so today's members name every record's signers.
        let owners = key_owners(&ledger.members().map_err(|error| Self::ledger_failed(&error))?);
        let mut chunk = Chunk::default();
        let mut last = None;
        for record in records {
            chunk.read(record, &owners);
            last = Some(record);
            if chunk.touched.len() >= MAX_TOUCHED_PER_WRITE {
                break;
            }
        }
        let last = last.ok_or_else(|| Self::ledger_failed(&"no records to follow"))?;
        let mut changes = Changes { items: Vec::with_capacity(chunk.touched.len()), signed: chunk.signed };
        for giai in chunk.touched {
            let now = ledger.item(&giai).map_err(|error| Self::ledger_failed(&error))?;
            changes.items.push((giai.to_string(), now.as_ref().and_then(standing)));
        }
        let followed = followed_to(last);
        self.note(followed, &changes)?;
        Ok(followed)
    }

    fn start_over(&self) -> Result<(), HoldingsError> {
        self.forget()
    }

    fn ledger_failed(error: &dyn std::fmt::Display) -> HoldingsError {
        HoldingsError::Ledger(error.to_string())
    }
}

/// What the records of one write touched and who signed them.
#[derive(Default)]
struct Chunk {
    touched: BTreeSet<Giai>,
    signed: Vec<(String, u64, &'static str, String)>,
}

impl Chunk {
    /// Notes who signed `record` and which items it touched.
    fn read(&mut self, record: &Record, owners: &BTreeMap<PublicKey, MemberId>) {
        let statement = record.entry.statement();
        let touched = touched_by(statement.kind, &statement.body);
        let named = match statement.kind {
            Kind::GiaiReserve => String::new(),
            _ => touched.first().map(Giai::to_string).unwrap_or_default(),
        };
        let mut signers: Vec<&MemberId> =
            record.entry.signatures().iter().filter_map(|signature| owners.get(&signature.key)).collect();
        signers.sort();
        signers.dedup();
        for signer in signers {
            self.signed.push((signer.to_string(), record.seq.get(), statement.kind.as_str(), named.clone()));
        }
        self.touched.extend(touched);
    }
}

/// The items a record of `kind` touches: the item an item statement names first, a split's
/// parts after it, every GIAI a reservation takes. A body that does not say (it cannot be in
/// the ledger) touches none.
fn touched_by(kind: Kind, body: &Value) -> Vec<Giai> {
    let giai_at = |value: &Value| value.get("giai").and_then(Value::as_str).and_then(|text| Giai::parse(text).ok());
    match kind {
        Kind::GiaiReserve => ReserveBody::deserialize(body).map(|reserve| reserve.giais().to_vec()).unwrap_or_default(),
        Kind::ItemSplit => giai_at(body)
            .into_iter()
            .chain(body.get("parts").and_then(Value::as_array).into_iter().flatten().filter_map(giai_at))
            .collect(),
        _ if kind.as_str().starts_with("item.") => giai_at(body).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Where a live item stands, as the lists show it; `None` once it is split or disposed of.
fn standing(item: &ItemState) -> Option<Standing> {
    let status = match item.status {
        ItemStatus::Available => "available",
        ItemStatus::Installed => "installed",
        ItemStatus::Reserved => "reserved",
        ItemStatus::Split | ItemStatus::Disposed => return None,
    };
    Some(Standing {
        custodian: item.custodian.to_string(),
        status,
        offered: item.pending.as_ref().map(|pending| (pending.to.to_string(), pending.offered.get())),
    })
}

/// Every key any member ever had, with its member.
fn key_owners(members: &[Member]) -> BTreeMap<PublicKey, MemberId> {
    members.iter().flat_map(|member| member.keys.keys().map(|key| (*key, member.id.clone()))).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests;
