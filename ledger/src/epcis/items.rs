//! What the replay remembers of items between their records, and the one
//! function that changes it.
//!
//! An event needs a little of its item's past: who held it (the sender of a
//! shipment), the open transfer (what a receipt accepts or a cancellation
//! withdraws) and how many passports it had (the version of an amendment).
//! [`after`] says how a record changes that, for every caller: the replay as
//! it makes events, and the rebuilding of a forgotten item from its history.

use std::collections::HashMap;

use serde_json::Value;

use super::{EpcisError, incomplete, malformed};
use crate::chain::Record;
use crate::custody::MemberId;
use crate::entry::Kind;
use crate::ident::Giai;

/// What the events of an item need to remember about it.
#[derive(Debug, Clone)]
pub(super) struct Tracked {
    pub(super) custodian: MemberId,
    pub(super) passport_version: u64,
    pub(super) offer: Option<Offer>,
}

/// A transfer waiting for its recipient.
#[derive(Debug, Clone)]
pub(super) struct Offer {
    pub(super) to: MemberId,
    pub(super) seq: u64,
}

impl Tracked {
    /// An item that has just come into being in `signer`'s custody.
    fn new(signer: &MemberId) -> Tracked {
        Tracked { custodian: signer.clone(), passport_version: 1, offer: None }
    }
}

/// What is tracked of `giai` after `record`, given what was tracked before it
/// (`None`: nothing, the item is unknown so far) and the record's first signer.
///
/// A split makes `giai` if it is one of the parts and ends it (`None`) if it
/// is the parent: the parts may be exported without the parent's records. An
/// audit conclusion leaves it as it was.
pub(super) fn after(
    record: &Record,
    giai: &Giai,
    before: Option<Tracked>,
    signer: &MemberId,
) -> Result<Option<Tracked>, EpcisError> {
    let statement = record.entry.statement();
    // A reserved GIAI names no item yet: its registration begins what is tracked.
    if statement.kind == Kind::GiaiReserve {
        return Ok(None);
    }
    // A conclusion judges the item's chain and changes nothing tracked of it.
    if statement.kind == Kind::AuditConclusion {
        return Ok(before);
    }
    if statement.kind != Kind::ItemSplit {
        return changed(record, giai, before, signer).map(Some);
    }
    let parent = statement.body.get("giai").and_then(Value::as_str) == Some(giai.as_str());
    Ok((!parent).then(|| Tracked::new(signer)))
}

/// What is tracked of `giai` after `record`, a record of that one item (not a
/// split, not an audit conclusion): every kind but a registration needs the
/// item (`before`), and a receipt or a cancellation its open transfer.
pub(super) fn changed(
    record: &Record,
    giai: &Giai,
    before: Option<Tracked>,
    signer: &MemberId,
) -> Result<Tracked, EpcisError> {
    let statement = record.entry.statement();
    let registered =
        |before: Option<Tracked>| before.ok_or_else(|| incomplete(record, giai, "the registration of its item"));
    Ok(match statement.kind {
        Kind::ItemRegister => Tracked::new(signer),
        Kind::ItemAmend => {
            let mut item = registered(before)?;
            item.passport_version += 1;
            item
        }
        Kind::ItemTransfer => {
            let to = statement
                .body
                .get("to")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(record, "no recipient (to)"))?;
            let to = MemberId::parse(to).map_err(|refusal| malformed(record, &refusal.message))?;
            let mut item = registered(before)?;
            item.offer = Some(Offer { to, seq: record.seq.get() });
            item
        }
        Kind::ItemReceive => {
            let mut item = registered(before)?;
            let offer = item.offer.take().ok_or_else(|| incomplete(record, giai, "the transfer it accepts"))?;
            item.custodian = offer.to;
            item
        }
        Kind::ItemCancel => {
            let mut item = registered(before)?;
            item.offer.take().ok_or_else(|| incomplete(record, giai, "the transfer it withdraws"))?;
            item
        }
        Kind::ItemAttest | Kind::ItemAttestWithdraw | Kind::ItemInstall | Kind::ItemDismantle | Kind::ItemDispose => {
            registered(before)?
        }
        Kind::ItemSplit
        | Kind::AuditConclusion
        | Kind::Genesis
        | Kind::MemberAdd
        | Kind::MemberUpdate
        | Kind::NodeAdd
        | Kind::NodeRemove
        | Kind::GiaiAllocate
        | Kind::GiaiReserve => {
            return Err(malformed(record, "not a record that changes one item"));
        }
    })
}

/// The tracked items, every one of them or only those seen lately.
///
/// A document made of records given in full (one item's proof bundle, a few
/// items' histories) remembers every item: the records themselves are
/// already in memory and outweigh what is tracked of them. A whole ledger's
/// document, written as its records are read, must not hold something for
/// every item the ledger ever had, so it remembers the items of two
/// generations, each at most `limit` items: an item used while the current
/// generation fills up is kept in it, and whatever neither generation holds
/// is rebuilt from the item's history in the ledger (see `Replay`). The
/// ledger cannot be asked instead: it keeps an item's current state, not its
/// state at an earlier record, but it does keep which records touched the
/// item, so a rebuild reads only those. An item's records are mostly close
/// together in the ledger (a transfer is received days later, not years), so
/// forgotten items are rare, and bringing one back costs reading its earlier
/// records once.
#[derive(Debug)]
pub(super) struct Items {
    current: HashMap<Giai, Tracked>,
    previous: HashMap<Giai, Tracked>,
    limit: Option<usize>,
}

impl Items {
    /// Every item, never forgetting one.
    pub(super) fn every() -> Items {
        Items { current: HashMap::new(), previous: HashMap::new(), limit: None }
    }

    /// The items of the last two generations of at most `limit` items each.
    pub(super) fn recent(limit: usize) -> Items {
        Items { current: HashMap::new(), previous: HashMap::new(), limit: Some(limit.max(1)) }
    }

    /// Whether an item missing here may still exist (it was forgotten).
    pub(super) fn forgets(&self) -> bool {
        self.limit.is_some()
    }

    /// What is tracked of an item, if it is remembered.
    pub(super) fn get(&mut self, giai: &Giai) -> Option<Tracked> {
        if let Some(item) = self.current.get(giai) {
            return Some(item.clone());
        }
        let item = self.previous.remove(giai)?;
        self.keep(giai.clone(), item.clone());
        Some(item)
    }

    /// Remembers what is tracked of an item now, or that it has ended.
    pub(super) fn set(&mut self, giai: &Giai, tracked: Option<Tracked>) {
        self.previous.remove(giai);
        match tracked {
            Some(item) => self.keep(giai.clone(), item),
            None => {
                self.current.remove(giai);
            }
        }
    }

    fn keep(&mut self, giai: Giai, item: Tracked) {
        self.current.insert(giai, item);
        if self.limit.is_some_and(|limit| self.current.len() >= limit) {
            self.previous = std::mem::take(&mut self.current);
        }
    }

    /// How many items are remembered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}
