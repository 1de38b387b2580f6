//! `DATA/holdings.redb`: per member, the items it holds, the transfers offered to it and the
//! records it signed, as far as the follower has read the ledger.
//!
//! The ledger's own index is keyed by GIAI; these tables are keyed by member, so that a
//! member's lists are a range read whatever the ledger's size. Everything here is derived from
//! the ledger and can be deleted: a node that opens without it reads the ledger again.
//!
//! `ITEMS` remembers where each live item stood when it was last written (custodian, offer),
//! so that the rows it made can be taken away when it moves on. Every change of a chunk of
//! records lands in one transaction with the mark of how far the follower got.

use std::ops::Bound;
use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, TableDefinition};

use super::{Followed, HoldingsError};

/// The most memory the store's page cache takes.
const CACHE_BYTES: usize = 4 << 20;

/// (custodian, GIAI) → the item's status: `available`, `installed` or `reserved`.
const HELD: TableDefinition<(&str, &str), &str> = TableDefinition::new("held");
/// (recipient, GIAI) → the record of the offer.
const OFFERED: TableDefinition<(&str, &str), u64> = TableDefinition::new("offered");
/// (member, seq) → (kind, the GIAI the body names or "") for every record the member signed.
const SIGNED: TableDefinition<(&str, u64), (&str, &str)> = TableDefinition::new("signed");
/// GIAI → (custodian, status, recipient or "", seq of the offer or 0): the rows a live item has.
const ITEMS: TableDefinition<&str, (&str, &str, &str, u64)> = TableDefinition::new("items");
/// `followed` → size (8 bytes, big-endian) ‖ the leaf hash of record size − 1.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Where a live item stands now, as the lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Standing {
    /// Its custodian.
    pub custodian: String,
    /// `available`, `installed` or `reserved`.
    pub status: &'static str,
    /// The member a pending transfer is offered to, with the record of the offer.
    pub offered: Option<(String, u64)>,
}

/// What one chunk of records changes.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// Every GIAI the records touched, with where it stands now (`None`: it is terminal, or the
    /// ledger has no such item).
    pub items: Vec<(String, Option<Standing>)>,
    /// (member, seq, kind, GIAI or "") for each member that signed each record.
    pub signed: Vec<(String, u64, &'static str, String)>,
}

/// One page of a member's list, and whether more follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, in the list's order.
    pub rows: Vec<T>,
    /// Whether the list goes on after the last row.
    pub more: bool,
}

/// A record a member signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    /// Its position.
    pub seq: u64,
    /// Its statement's kind.
    pub kind: String,
    /// The item its body names (a split's parent), or "" for a statement about no one item.
    pub giai: String,
}

/// The keys of a member's rows after one of them, in a table keyed by (member, GIAI).
type MemberRange<'a> = (Bound<(&'a str, &'a str)>, Bound<(&'a str, &'a str)>);

/// The store of who holds what, who is offered what and who signed what.
pub struct HoldingsStore {
    path: PathBuf,
    db: Database,
}

impl HoldingsStore {
    /// Opens (creating) the store at `path`.
    pub fn open(path: &Path) -> Result<HoldingsStore, HoldingsError> {
        // redb keeps up to its cache size of pages in memory (1 GiB by default): the lists
        // grow with the ledger, the node's memory must not.
        let db = Database::builder().set_cache_size(CACHE_BYTES).create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => HoldingsError::InUse { path: path.to_owned() },
            e => failed(path, &e),
        })?;
        let store = HoldingsStore { path: path.to_owned(), db };
        store.write(open_tables)?;
        Ok(store)
    }

    /// How far the store follows the ledger; `None` before the first record.
    pub fn followed(&self) -> Result<Option<Followed>, HoldingsError> {
        let txn = self.db.begin_read().map_err(|e| self.failed(&e))?;
        let meta = txn.open_table(META).map_err(|e| self.failed(&e))?;
        let Some(value) = meta.get("followed").map_err(|e| self.failed(&e))? else { return Ok(None) };
        Followed::from_bytes(value.value()).map(Some).ok_or_else(|| self.failed(&"a malformed mark"))
    }

    /// Writes what the records up to `followed.size` changed, with the new mark, at once.
    pub(super) fn note(&self, followed: Followed, changes: &Changes) -> Result<(), HoldingsError> {
        self.write(|txn| {
            let mut held = txn.open_table(HELD)?;
            let mut offered = txn.open_table(OFFERED)?;
            let mut items = txn.open_table(ITEMS)?;
            for (giai, now) in &changes.items {
                let before = items.remove(giai.as_str())?.map(|row| {
                    let (custodian, _, recipient, _) = row.value();
                    (custodian.to_owned(), recipient.to_owned())
                });
                if let Some((custodian, recipient)) = before {
                    held.remove((custodian.as_str(), giai.as_str()))?;
                    if !recipient.is_empty() {
                        offered.remove((recipient.as_str(), giai.as_str()))?;
                    }
                }
                let Some(now) = now else { continue };
                held.insert((now.custodian.as_str(), giai.as_str()), now.status)?;
                let (recipient, offer) = match &now.offered {
                    Some((recipient, seq)) => {
                        offered.insert((recipient.as_str(), giai.as_str()), *seq)?;
                        (recipient.as_str(), *seq)
                    }
                    None => ("", 0),
                };
                items.insert(giai.as_str(), (now.custodian.as_str(), now.status, recipient, offer))?;
            }
            let mut signed = txn.open_table(SIGNED)?;
            for (member, seq, kind, giai) in &changes.signed {
                signed.insert((member.as_str(), *seq), (*kind, giai.as_str()))?;
            }
            txn.open_table(META)?.insert("followed", followed.to_bytes().as_slice())?;
            Ok(())
        })
    }

    /// Forgets everything: the ledger under the store is not the one it followed.
    pub(super) fn forget(&self) -> Result<(), HoldingsError> {
        self.write(|txn| {
            txn.delete_table(HELD)?;
            txn.delete_table(OFFERED)?;
            txn.delete_table(SIGNED)?;
            txn.delete_table(ITEMS)?;
            txn.delete_table(META)?;
            open_tables(txn)
        })
    }

    /// Up to `limit` items `member` holds, by GIAI after `after`, each with its status.
    pub fn held(
        &self,
        member: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<(String, String)>, HoldingsError> {
        let txn = self.db.begin_read().map_err(|e| self.failed(&e))?;
        let table = txn.open_table(HELD).map_err(|e| self.failed(&e))?;
        let range = table.range::<(&str, &str)>(after_in(member, after)).map_err(|e| self.failed(&e))?;
        let mut found = Vec::new();
        for row in range {
            let (key, status) = row.map_err(|e| self.failed(&e))?;
            let (holder, giai) = key.value();
            if holder != member {
                break;
            }
            if found.len() == limit {
                return Ok(Page { rows: found, more: true });
            }
            found.push((giai.to_owned(), status.value().to_owned()));
        }
        Ok(Page { rows: found, more: false })
    }

    /// Up to `limit` items offered to `member`, by GIAI after `after`, each with the record of
    /// the offer.
    pub fn offered(
        &self,
        member: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<(String, u64)>, HoldingsError> {
        let txn = self.db.begin_read().map_err(|e| self.failed(&e))?;
        let table = txn.open_table(OFFERED).map_err(|e| self.failed(&e))?;
        let range = table.range::<(&str, &str)>(after_in(member, after)).map_err(|e| self.failed(&e))?;
        let mut found = Vec::new();
        for row in range {
            let (key, seq) = row.map_err(|e| self.failed(&e))?;
            let (recipient, giai) = key.value();
            if recipient != member {
                break;
            }
            if found.len() == limit {
                return Ok(Page { rows: found, more: true });
            }
            found.push((giai.to_owned(), seq.value()));
        }
        Ok(Page { rows: found, more: false })
    }

    /// Up to `limit` records `member` signed before `before` (all when `None`), newest first.
    pub fn signed(&self, member: &str, before: Option<u64>, limit: usize) -> Result<Page<SignedRecord>, HoldingsError> {
        if before == Some(0) {
            return Ok(Page { rows: Vec::new(), more: false });
        }
        let txn = self.db.begin_read().map_err(|e| self.failed(&e))?;
        let table = txn.open_table(SIGNED).map_err(|e| self.failed(&e))?;
        let end = match before {
            Some(before) => Bound::Excluded((member, before)),
            None => Bound::Included((member, u64::MAX)),
        };
        let range = table.range::<(&str, u64)>((Bound::Included((member, 0)), end)).map_err(|e| self.failed(&e))?;
        let mut found = Vec::new();
        for row in range.rev() {
            let (key, value) = row.map_err(|e| self.failed(&e))?;
            if found.len() == limit {
                return Ok(Page { rows: found, more: true });
            }
            let (kind, giai) = value.value();
            found.push(SignedRecord { seq: key.value().1, kind: kind.to_owned(), giai: giai.to_owned() });
        }
        Ok(Page { rows: found, more: false })
    }

    fn write(
        &self,
        change: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), HoldingsError> {
        let txn = self.db.begin_write().map_err(|e| self.failed(&e))?;
        change(&txn).map_err(|e| self.failed(&e))?;
        txn.commit().map_err(|e| self.failed(&e))
    }

    fn failed(&self, error: &dyn std::fmt::Display) -> HoldingsError {
        failed(&self.path, error)
    }
}

fn open_tables(txn: &redb::WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(HELD)?;
    txn.open_table(OFFERED)?;
    txn.open_table(SIGNED)?;
    txn.open_table(ITEMS)?;
    txn.open_table(META)?;
    Ok(())
}

/// The keys of `member` after `(member, after)`, or from its first when `after` is `None`; the
/// caller stops at the first key of another member.
fn after_in<'a>(member: &'a str, after: Option<&'a str>) -> MemberRange<'a> {
    match after {
        Some(after) => (Bound::Excluded((member, after)), Bound::Unbounded),
        None => (Bound::Included((member, "")), Bound::Unbounded),
    }
}

fn failed(path: &Path, error: &dyn std::fmt::Display) -> HoldingsError {
    HoldingsError::Store { path: path.to_owned(), reason: error.to_string() }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    fn standing(custodian: &str, status: &'static str, offered: Option<(&str, u64)>) -> Option<Standing> {
        Some(Standing {
            custodian: custodian.to_owned(),
            status,
            offered: offered.map(|(to, seq)| (to.to_owned(), seq)),
        })
    }

    fn mark(size: u64) -> Followed {
        Followed { size, last_leaf: [size as u8; 32] }
    }

    fn page<T>(rows: Vec<T>, more: bool) -> Page<T> {
        Page { rows, more }
    }

    fn row(giai: &str, status: &str) -> (String, String) {
        (giai.to_owned(), status.to_owned())
    }

    fn signed(member: &str, seq: u64, kind: &'static str, giai: &str) -> (String, u64, &'static str, String) {
        (member.to_owned(), seq, kind, giai.to_owned())
    }

    fn seqs(page: &Page<SignedRecord>) -> Vec<u64> {
        page.rows.iter().map(|record| record.seq).collect()
    }

    #[test]
    fn rows_follow_an_item_from_custodian_to_recipient_and_out_of_the_lists() {
        let dir = tempfile::tempdir().unwrap();
        let store = HoldingsStore::open(&dir.path().join("holdings.redb")).unwrap();
        assert_eq!(store.followed().unwrap(), None);
        let (beam, door) = ("4750001BEAM-0001", "4750001DOOR-0001");
        let changes = Changes {
            items: vec![
                (beam.to_owned(), standing("baltic", "available", Some(("hub", 2)))),
                (door.to_owned(), standing("baltic", "installed", None)),
            ],
            signed: vec![
                signed("baltic", 1, "item.register", beam),
                signed("baltic", 2, "item.transfer", beam),
                signed("admin", 0, "ledger.genesis", ""),
            ],
        };
        store.note(mark(3), &changes).unwrap();
        assert_eq!(store.followed().unwrap(), Some(mark(3)));
        let both = vec![row(beam, "available"), row(door, "installed")];
        assert_eq!(store.held("baltic", None, 10).unwrap(), page(both, false));
        assert_eq!(store.held("baltic", None, 1).unwrap(), page(vec![row(beam, "available")], true));
        assert_eq!(store.held("baltic", Some(beam), 1).unwrap(), page(vec![row(door, "installed")], false));
        assert_eq!(store.offered("hub", None, 10).unwrap(), page(vec![(beam.to_owned(), 2)], false));
        assert_eq!(store.offered("baltic", None, 10).unwrap(), page(vec![], false));

        // Received: the offer and the old custodian's row go; the door is disposed of.
        let changes = Changes {
            items: vec![(beam.to_owned(), standing("hub", "available", None)), (door.to_owned(), None)],
            signed: vec![signed("hub", 3, "item.receive", beam), signed("baltic", 4, "item.dispose", door)],
        };
        store.note(mark(5), &changes).unwrap();
        assert_eq!(store.held("baltic", None, 10).unwrap(), page(vec![], false));
        assert_eq!(store.held("hub", None, 10).unwrap(), page(vec![row(beam, "available")], false));
        assert_eq!(store.offered("hub", None, 10).unwrap(), page(vec![], false));

        // A member's records, newest first, a page at a time.
        let newest = store.signed("baltic", None, 2).unwrap();
        assert_eq!((seqs(&newest), newest.more), (vec![4, 2], true));
        let oldest = store.signed("baltic", Some(2), 2).unwrap();
        let register = SignedRecord { seq: 1, kind: "item.register".to_owned(), giai: beam.to_owned() };
        assert_eq!(oldest, page(vec![register], false));
        assert_eq!(store.signed("baltic", Some(0), 2).unwrap(), page(vec![], false));
        let genesis = SignedRecord { seq: 0, kind: "ledger.genesis".to_owned(), giai: String::new() };
        assert_eq!(store.signed("admin", None, 5).unwrap(), page(vec![genesis], false));
        assert_eq!(store.signed("nobody", None, 5).unwrap(), page(vec![], false));

        // Reopened, it keeps what it noted; forgotten, it starts over.
        drop(store);
        let store = HoldingsStore::open(&dir.path().join("holdings.redb")).unwrap();
        assert_eq!(store.followed().unwrap(), Some(mark(5)));
        assert_eq!(store.held("hub", None, 10).unwrap().rows.len(), 1);
        store.forget().unwrap();
        assert_eq!(store.followed().unwrap(), None);
        assert_eq!(store.held("hub", None, 10).unwrap(), page(vec![], false));
        assert_eq!(store.signed("baltic", None, 10).unwrap(), page(vec![], false));
    }
}
