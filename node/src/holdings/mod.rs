//! A member's own views of the ledger: the items it holds, the transfers offered to it and the
//! records it signed, which its app lists (issue 28).
//!
//! The ledger's index finds an item by its GIAI, not a member's items: answering "what does
//! this member hold" from it would read every item, and ledgers reach ten million records. So
//! a node follows its ledger into a store of its own keyed by member (`store`,
//! `DATA/holdings.redb`), as it follows it into the attachments' names:
//!
//! - [`Holdings::follow`] reads the records the store has not seen. For each it notes who signed
//!   it (by every key a member ever had: a record signed by a key revoked since is still that
//!   member's) and which items it touched (the item its body names, a split's parts, the GIAIs
//!   a reservation takes); then it reads each touched item's **current** state from the ledger
//!   and writes where it stands now. A follower that runs behind thus never writes a state the
//!   item has left, and an item touched again later is written again then.
//! - A store that finds another ledger under it (a snapshot installed: the record at its mark
//!   has another leaf hash) starts over.
//! - A node follows in the background ([`Holdings::follow_in_the_background`]); a read catches
//!   up itself when only a few records are new and nobody else is following
//!   ([`Holdings::catch_up`]), or waits a little for the one who is ([`Holdings::caught_up`]).
//!
//! The HTTP side is `server/member_views.rs`.

mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use salvage_ledger::Ledger;
use salvage_ledger::chain::Record;
use salvage_ledger::custody::{ItemState, ItemStatus, Member, MemberId, ReserveBody};
use salvage_ledger::entry::{Kind, PublicKey};
use salvage_ledger::ident::Giai;
use serde::Deserialize;
use serde_json::Value;

use store::{Changes, Standing};
pub use store::{HoldingsStore, Page, SignedRecord};

/// How many records [`Holdings::follow`] reads at a time.
const FOLLOW_CHUNK: u64 = 512;

/// How many items one write may take: a chunk of reservations could name half a million.
const MAX_TOUCHED_PER_WRITE: usize = 4096;

/// The most records a read follows itself; further behind, it leaves them to the background.
const READ_CATCH_UP: u64 = 4096;

/// A node's record of who holds what, who is offered what and who signed what.
pub struct Holdings {
    store: HoldingsStore,
    // One follower at a time: the background one, or a read catching up.
    following: Mutex<()>,
    followed: tokio::sync::watch::Sender<u64>,
}

/// How far the store follows the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Followed {
    /// The records `0..size` have been read.
    pub size: u64,
    /// The leaf hash of record `size − 1`.
    pub last_leaf: [u8; 32],
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
        let opened = HoldingsStore::open(path).and_then(|store| Ok((store.followed()?, store)));
        let (followed, store) = match opened {
            Ok(opened) => opened,
            Err(error @ HoldingsError::InUse { .. }) => return Err(error),
            Err(error) => {
                tracing::warn!(%error, "the members' holdings are read again from the ledger");
                std::fs::remove_file(path).map_err(|e| HoldingsError::Store {
                    path: path.to_owned(),
                    reason: format!("cannot remove the damaged store: {e}"),
                })?;
                let store = HoldingsStore::open(path)?;
                (None, store)
            }
        };
        let followed = followed.map_or(0, |followed| followed.size);
        Ok(Holdings { store, following: Mutex::new(()), followed: tokio::sync::watch::Sender::new(followed) })
    }

    /// The store, to read members' lists from.
    pub fn store(&self) -> &HoldingsStore {
        &self.store
    }

    /// How many of the ledger's records the store has read.
    pub fn followed_size(&self) -> u64 {
        *self.followed.borrow()
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
        let Ok(_one_at_a_time) = self.following.try_lock() else { return Ok(false) };
        Ok(self.follow_locked(ledger)? >= size)
    }

    /// Waits, at most `patience`, until the store has read `size` records: a read that found
    /// the follower busy waits for it rather than list what the member held a moment ago.
    /// Returns whether it got there.
    pub async fn caught_up(&self, size: u64, patience: Duration) -> bool {
        let mut followed = self.followed.subscribe();
        matches!(tokio::time::timeout(patience, followed.wait_for(|followed| *followed >= size)).await, Ok(Ok(_)))
    }

    /// Reads the records the store has not seen; starts over when the ledger under the store
    /// is another one. Returns the size followed.
    pub fn follow(&self, ledger: &Ledger) -> Result<u64, HoldingsError> {
        let _one_at_a_time = self.following.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.follow_locked(ledger)
    }

    /// Follows the ledger in the background, every `every`, until the node stops.
    pub(crate) fn follow_in_the_background(self: &Arc<Self>, ledger: Arc<Ledger>, every: Duration) {
        let holdings = Arc::clone(self);
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                tokio::time::sleep(every * (1 << failures.min(6))).await;
                if ledger.size() <= holdings.followed_size() {
                    continue;
                }
                let (ledger, follower) = (Arc::clone(&ledger), Arc::clone(&holdings));
                match tokio::task::spawn_blocking(move || follower.follow(&ledger)).await {
                    Ok(Ok(_)) => failures = 0,
                    Ok(Err(error)) => {
                        failures += 1;
                        tracing::error!(%error, "following the ledger's holdings");
                    }
                    Err(_) => return,
                }
            }
        });
    }

    /// [`Holdings::follow`], by the holder of `following`.
    fn follow_locked(&self, ledger: &Ledger) -> Result<u64, HoldingsError> {
        let size = ledger.size();
        let mut from = match self.store.followed()? {
            Some(followed) if followed.size <= size && leaf(ledger, followed.size) == Some(followed.last_leaf) => {
                followed.size
            }
            Some(_) => {
                tracing::warn!(
                    "the ledger is not the one the holdings followed (a snapshot was installed): reading it again"
                );
                self.store.forget()?;
                self.followed.send_replace(0);
                0
            }
            None => 0,
        };
        while from < size {
            let records = ledger.records(from, FOLLOW_CHUNK).map_err(|error| ledger_failed(&error))?;
            if records.is_empty() {
                break;
            }
            // Keys never change members, so today's members name every record's signers.
            let owners = key_owners(&ledger.members().map_err(|error| ledger_failed(&error))?);
            let mut chunk = Chunk::default();
            for record in &records {
                chunk.read(record, &owners);
                if chunk.touched.len() >= MAX_TOUCHED_PER_WRITE {
                    from = self.write(ledger, record, std::mem::take(&mut chunk))?;
                }
            }
            if let Some(last) = records.last().filter(|last| last.seq.get() >= from) {
                from = self.write(ledger, last, chunk)?;
            }
        }
        Ok(from)
    }

    /// Writes what `chunk` read, up to and including `last`, with each touched item where it
    /// stands now; returns the size followed.
    fn write(&self, ledger: &Ledger, last: &Record, chunk: Chunk) -> Result<u64, HoldingsError> {
        let mut changes = Changes { items: Vec::with_capacity(chunk.touched.len()), signed: chunk.signed };
        for giai in chunk.touched {
            let now = ledger.item(&giai).map_err(|error| ledger_failed(&error))?;
            changes.items.push((giai.to_string(), now.as_ref().and_then(standing)));
        }
        let followed = Followed { size: last.seq.get() + 1, last_leaf: *last.leaf_hash().as_bytes() };
        self.store.note(followed, &changes)?;
        self.followed.send_replace(followed.size);
        Ok(followed.size)
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

/// The leaf hash of record `size − 1`; none for an empty mark.
fn leaf(ledger: &Ledger, size: u64) -> Option<[u8; 32]> {
    let seq = size.checked_sub(1)?;
    ledger.record(seq).ok().map(|record| *record.leaf_hash().as_bytes())
}

fn ledger_failed(error: &dyn std::fmt::Display) -> HoldingsError {
    HoldingsError::Ledger(error.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests;
