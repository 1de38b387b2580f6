//! The Raft log and vote, kept in sled and fsynced before Raft is told they are stored.
//!
//! Raft's safety rests on two promises of the store: a vote, once reported
//! saved, survives a crash (or a node could vote twice in one term), and log
//! entries, once reported appended, survive a crash (or a leader could count a
//! follower towards a majority for an entry the follower then forgets). Both are
//! kept by flushing the sled database, which fsyncs its files, before the
//! answer or the callback reaches Raft.
//!
//! The database has three trees: `log` (entries keyed by their index,
//! big-endian so the keys sort as the indexes do), `meta` (the vote, the last
//! purged log id and the last committed one) and `machine`, which belongs to the
//! state machine ([`super::state_machine`]) and is only opened here.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{AnyError, Entry, LogId, RaftLogReader, StorageError, StorageIOError, Vote};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{NodeId, TypeConfig};

/// The Raft log and vote of one node.
pub struct LogStore {
    db: sled::Db,
    reader: LogReader,
    meta: sled::Tree,
}

/// Reads log entries while the store appends: a second handle on the same tree.
#[derive(Clone)]
pub struct LogReader {
    log: sled::Tree,
}

/// Why the log store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogStoreError {
    /// sled could not open the database (missing permissions, a damaged file,
    /// or another process holding it).
    #[error("{0}")]
    Open(#[from] sled::Error),
}

const VOTE: &[u8] = b"vote";
const LAST_PURGED: &[u8] = b"last_purged";
const COMMITTED: &[u8] = b"committed";

impl LogStore {
    /// Opens (or creates) the store in directory `dir`.
    pub fn open(dir: &Path) -> Result<Self, LogStoreError> {
        let db = sled::Config::new().path(dir).mode(sled::Mode::HighThroughput).open()?;
        let log = db.open_tree("log")?;
        let meta = db.open_tree("meta")?;
        Ok(LogStore { db, reader: LogReader { log }, meta })
    }

    /// The sled database, shared with the state machine's bookkeeping so that
    /// one flush makes both durable.
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// Reads `key` of the meta tree; `wrap` names what failed for Raft.
    fn read_meta<T: DeserializeOwned>(&self, key: &[u8], wrap: fn(AnyError) -> StorageIOError<NodeId>) -> Result<Option<T>, StorageIOError<NodeId>> {
        let Some(bytes) = self.meta.get(key).map_err(|e| wrap(AnyError::new(&e)))? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| wrap(AnyError::new(&e)))
    }

    /// Writes `key` of the meta tree, without flushing.
    fn write_meta<T: Serialize>(&self, key: &[u8], value: &T, wrap: fn(AnyError) -> StorageIOError<NodeId>) -> Result<(), StorageIOError<NodeId>> {
        let bytes = serde_json::to_vec(value).map_err(|e| wrap(AnyError::new(&e)))?;
        self.meta.insert(key, bytes).map_err(|e| wrap(AnyError::new(&e)))?;
        Ok(())
    }

    async fn flush(&self) -> Result<(), sled::Error> {
        self.db.flush_async().await.map(|_| ())
    }
}

impl LogReader {
    fn entries(&self, range: impl RangeBounds<u64>) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let start = match range.start_bound() {
            Bound::Included(&index) => Bound::Included(index.to_be_bytes()),
            Bound::Excluded(&index) => Bound::Excluded(index.to_be_bytes()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let end = match range.end_bound() {
            Bound::Included(&index) => Bound::Included(index.to_be_bytes()),
            Bound::Excluded(&index) => Bound::Excluded(index.to_be_bytes()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut entries = Vec::new();
        for item in self.log.range::<[u8; 8], _>((start, end)) {
            let (_, bytes) = item.map_err(|e| StorageIOError::read_logs(&e))?;
            entries.push(decode_entry(&bytes)?);
        }
        Ok(entries)
    }

    fn last(&self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        match self.log.last().map_err(|e| StorageIOError::read_logs(&e))? {
            Some((_, bytes)) => Ok(Some(decode_entry(&bytes)?.log_id)),
            None => Ok(None),
        }
    }
}

impl RaftLogReader<TypeConfig> for LogReader {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(&mut self, range: RB) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        self.entries(range)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(&mut self, range: RB) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        self.reader.entries(range)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogReader;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let last_purged_log_id: Option<LogId<NodeId>> = self.read_meta(LAST_PURGED, StorageIOError::read_logs)?;
        let last_log_id = self.reader.last()?.or(last_purged_log_id);
        Ok(LogState { last_purged_log_id, last_log_id })
    }

    async fn get_log_reader(&mut self) -> LogReader {
        self.reader.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        self.write_meta(VOTE, vote, StorageIOError::write_vote)?;
        self.flush().await.map_err(|e| StorageIOError::write_vote(&e))?;
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        Ok(self.read_meta(VOTE, StorageIOError::read_vote)?)
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> Result<(), StorageError<NodeId>> {
        // Not flushed: a committed id that is lost in a crash is learnt again
        // from the leader; it only lets a restarted node apply sooner.
        Ok(self.write_meta(COMMITTED, &committed, StorageIOError::write)?)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        Ok(self.read_meta::<Option<LogId<NodeId>>>(COMMITTED, StorageIOError::read)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut batch = sled::Batch::default();
        for entry in entries {
            let bytes = serde_json::to_vec(&entry).map_err(|e| StorageIOError::write_log_entry(entry.log_id, &e))?;
            batch.insert(&entry.log_id.index.to_be_bytes(), bytes);
        }
        self.reader.log.apply_batch(batch).map_err(|e| StorageIOError::write_logs(&e))?;
        // Raft may count these entries towards a majority only once they are
        // on disk: the callback fires after the fsync, with its outcome.
        let flushed = self.flush().await;
        let outcome = flushed.as_ref().map(|_| ()).map_err(|e| std::io::Error::other(e.to_string()));
        callback.log_io_completed(outcome);
        flushed.map_err(|e| StorageIOError::write_logs(&e))?;
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        // Removes the entries from `log_id` on: a new leader's log replaces them.
        let keys = self.reader.log.range(log_id.index.to_be_bytes()..).keys().collect::<Result<Vec<_>, _>>().map_err(|e| StorageIOError::write_logs(&e))?;
        let mut batch = sled::Batch::default();
        for key in keys {
            batch.remove(key);
        }
        self.reader.log.apply_batch(batch).map_err(|e| StorageIOError::write_logs(&e))?;
        self.flush().await.map_err(|e| StorageIOError::write_logs(&e))?;
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        // The purged id is written first, so a crash in between leaves entries
        // that are already counted as purged, never a gap that is not.
        self.write_meta(LAST_PURGED, &log_id, StorageIOError::write_logs)?;
        self.flush().await.map_err(|e| StorageIOError::write_logs(&e))?;
        let keys = self.reader.log.range(..=log_id.index.to_be_bytes()).keys().collect::<Result<Vec<_>, _>>().map_err(|e| StorageIOError::write_logs(&e))?;
        let mut batch = sled::Batch::default();
        for key in keys {
            batch.remove(key);
        }
        self.reader.log.apply_batch(batch).map_err(|e| StorageIOError::write_logs(&e))?;
        Ok(())
    }
}

fn decode_entry(bytes: &[u8]) -> Result<Entry<TypeConfig>, StorageError<NodeId>> {
    serde_json::from_slice(bytes).map_err(|e| StorageIOError::read_logs(&e).into())
}

#[cfg(test)]
mod tests {
    use openraft::storage::RaftLogStorageExt;
    use openraft::{CommittedLeaderId, EntryPayload};

    use super::*;

    fn blank(term: u64, index: u64) -> Entry<TypeConfig> {
        Entry { log_id: LogId::new(CommittedLeaderId::new(term, 7), index), payload: EntryPayload::Blank }
    }

    async fn append(store: &mut LogStore, entries: Vec<Entry<TypeConfig>>) {
        // Waits for the flush callback, as Raft does.
        store.blocking_append(entries).await.unwrap();
    }

    #[tokio::test]
    async fn the_vote_and_appended_entries_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = LogStore::open(dir.path()).unwrap();
            assert_eq!(store.read_vote().await.unwrap(), None);
            store.save_vote(&Vote::new(3, 7)).await.unwrap();
            append(&mut store, (1..=5).map(|index| blank(3, index)).collect()).await;
        }
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(store.read_vote().await.unwrap(), Some(Vote::new(3, 7)));
        let state = store.get_log_state().await.unwrap();
        assert_eq!(state.last_log_id.map(|id| id.index), Some(5));
        assert_eq!(state.last_purged_log_id, None);
        let entries = store.try_get_log_entries(2..4).await.unwrap();
        assert_eq!(entries.iter().map(|entry| entry.log_id.index).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[tokio::test]
    async fn truncating_removes_the_entries_from_an_index_on_and_purging_those_up_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LogStore::open(dir.path()).unwrap();
        append(&mut store, (1..=300).map(|index| blank(2, index)).collect()).await;
        store.truncate(blank(2, 280).log_id).await.unwrap();
        assert_eq!(store.get_log_state().await.unwrap().last_log_id.map(|id| id.index), Some(279));
        store.purge(blank(2, 256).log_id).await.unwrap();
        let mut reader = store.get_log_reader().await;
        let left = reader.try_get_log_entries(..).await.unwrap();
        assert_eq!(left.first().map(|entry| entry.log_id.index), Some(257), "index 256 sorts after 255 only if keys are big-endian");
        assert_eq!(left.len(), 23);
        // The reader shares the database: both must go before it can be opened again.
        drop((reader, store));
        let mut store = LogStore::open(dir.path()).unwrap();
        let state = store.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id.map(|id| id.index), Some(256));
        assert_eq!(state.last_log_id.map(|id| id.index), Some(279));
    }

    #[tokio::test]
    async fn a_fully_purged_log_reports_the_purged_id_as_its_last() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LogStore::open(dir.path()).unwrap();
        append(&mut store, (1..=4).map(|index| blank(1, index)).collect()).await;
        store.purge(blank(1, 4).log_id).await.unwrap();
        let state = store.get_log_state().await.unwrap();
        assert_eq!(state.last_log_id, state.last_purged_log_id);
        assert_eq!(state.last_log_id.map(|id| id.index), Some(4));
    }

    #[tokio::test]
    async fn a_store_held_by_another_process_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let _held = LogStore::open(dir.path()).unwrap();
        let error = LogStore::open(dir.path()).err().expect("sled locks its directory");
        assert!(!error.to_string().is_empty());
    }
}
