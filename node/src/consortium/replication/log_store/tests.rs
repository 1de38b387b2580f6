use std::fs::OpenOptions;
use std::io::Write;

use openraft::storage::RaftLogStorageExt;
use openraft::{CommittedLeaderId, EntryPayload};
use salvage_ledger::entry::Timestamp;
use serde_json::value::RawValue;

use super::*;
use crate::consortium::replication::Batch;

fn log_id(term: u64, index: u64) -> LogId<NodeId> {
    LogId::new(CommittedLeaderId::new(term, 7), index)
}

fn blank(term: u64, index: u64) -> Entry<TypeConfig> {
    Entry { log_id: log_id(term, index), payload: EntryPayload::Blank }
}

/// An entry carrying a batch of two small signed entries' worth of JSON.
fn batch(term: u64, index: u64) -> Entry<TypeConfig> {
    let entries = (0..2)
        .map(|k| RawValue::from_string(format!(r#"{{"index":{index},"k":{k},"pad":"{}"}}"#, "x".repeat(300))).unwrap())
        .collect();
    Entry { log_id: log_id(term, index), payload: EntryPayload::Normal(Batch { accepted: Timestamp::now(), entries }) }
}

/// Every other entry a batch, the others blank.
fn mixed(term: u64, indexes: std::ops::RangeInclusive<u64>) -> Vec<Entry<TypeConfig>> {
    indexes.map(|index| if index % 2 == 0 { batch(term, index) } else { blank(term, index) }).collect()
}

async fn append(store: &mut LogStore, entries: Vec<Entry<TypeConfig>>) {
    // Waits for the flush callback, as Raft does.
    store.blocking_append(entries).await.unwrap();
}

fn indexes(entries: &[Entry<TypeConfig>]) -> Vec<u64> {
    entries.iter().map(|entry| entry.log_id.index).collect()
}

/// Entries do not implement `PartialEq`; their JSON tells them apart.
fn json(entries: &[Entry<TypeConfig>]) -> Vec<String> {
    entries.iter().map(|entry| serde_json::to_string(entry).unwrap()).collect()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|item| item.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
        .collect();
    paths.sort();
    paths
}

#[tokio::test]
async fn the_vote_and_appended_entries_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let written = mixed(3, 1..=5);
    {
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(store.read_vote().await.unwrap(), None);
        store.save_vote(&Vote::new(3, 7)).await.unwrap();
        append(&mut store, written.clone()).await;
    }
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(store.read_vote().await.unwrap(), Some(Vote::new(3, 7)));
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_log_id.map(|id| id.index), Some(5));
    assert_eq!(state.last_purged_log_id, None);
    let entries = store.try_get_log_entries(2..4).await.unwrap();
    assert_eq!(json(&entries), json(&written[1..3]));
}

#[tokio::test]
async fn appended_entries_are_readable_at_once_from_a_reader_taken_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    let mut reader = store.get_log_reader().await;
    assert!(reader.try_get_log_entries(..).await.unwrap().is_empty());
    let written = mixed(1, 1..=4);
    append(&mut store, written.clone()).await;
    assert_eq!(json(&reader.try_get_log_entries(..).await.unwrap()), json(&written));
    assert_eq!(json(&reader.try_get_log_entries(2..=3).await.unwrap()), json(&written[1..3]));
    assert!(reader.try_get_log_entries(9..).await.unwrap().is_empty());
}

#[tokio::test]
async fn truncating_removes_the_entries_from_an_index_on_and_purging_those_up_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    append(&mut store, (1..=300).map(|index| blank(2, index)).collect()).await;
    store.truncate(log_id(2, 280)).await.unwrap();
    assert_eq!(store.get_log_state().await.unwrap().last_log_id.map(|id| id.index), Some(279));
    store.purge(log_id(2, 256)).await.unwrap();
    let mut reader = store.get_log_reader().await;
    let left = reader.try_get_log_entries(..).await.unwrap();
    assert_eq!(left.first().map(|entry| entry.log_id.index), Some(257));
    assert_eq!(left.len(), 23);
    // Only the store holds the directory's lock; a reader may outlive it.
    drop(store);
    let mut store = LogStore::open(dir.path()).unwrap();
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id.map(|id| id.index), Some(256));
    assert_eq!(state.last_log_id.map(|id| id.index), Some(279));
    assert_eq!(indexes(&store.try_get_log_entries(..).await.unwrap()), (257..=279).collect::<Vec<_>>());
    drop(reader);
}

#[tokio::test]
async fn a_truncation_survives_reopening_and_a_new_leader_s_entries_replace_the_cut_ones() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = LogStore::open(dir.path()).unwrap();
        append(&mut store, mixed(1, 1..=10)).await;
        store.truncate(log_id(1, 6)).await.unwrap();
    }
    let replacing = mixed(2, 6..=8);
    {
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(store.get_log_state().await.unwrap().last_log_id, Some(log_id(1, 5)));
        append(&mut store, replacing.clone()).await;
    }
    let mut store = LogStore::open(dir.path()).unwrap();
    let entries = store.try_get_log_entries(..).await.unwrap();
    assert_eq!(indexes(&entries), (1..=8).collect::<Vec<_>>());
    assert_eq!(json(&entries[5..]), json(&replacing));
}

#[tokio::test]
async fn a_purge_survives_reopening_and_the_remaining_entries_are_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let written = mixed(1, 1..=30);
    {
        // Small segments, so the purge deletes whole files.
        let mut store = LogStore::open_with(dir.path(), 2_000, CACHE_BYTES).unwrap();
        append(&mut store, written.clone()).await;
        let before = segments(dir.path()).len();
        store.purge(log_id(1, 20)).await.unwrap();
        assert!(segments(dir.path()).len() < before, "segments whose entries are all purged are deleted");
    }
    let mut store = LogStore::open(dir.path()).unwrap();
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id(1, 20)));
    assert_eq!(state.last_log_id, Some(log_id(1, 30)));
    assert_eq!(json(&store.try_get_log_entries(..).await.unwrap()), json(&written[20..]));
}

#[tokio::test]
async fn a_fully_purged_log_reports_the_purged_id_as_its_last() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    append(&mut store, (1..=4).map(|index| blank(1, index)).collect()).await;
    store.purge(log_id(1, 4)).await.unwrap();
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_log_id, state.last_purged_log_id);
    assert_eq!(state.last_log_id.map(|id| id.index), Some(4));
}

#[tokio::test]
async fn a_purge_past_the_end_of_the_log_is_followed_by_the_entries_after_it() {
    // What a follower does after installing a snapshot that is ahead of its log.
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = LogStore::open(dir.path()).unwrap();
        append(&mut store, mixed(1, 1..=5)).await;
        store.purge(log_id(2, 40)).await.unwrap();
        assert_eq!(store.get_log_state().await.unwrap().last_log_id, Some(log_id(2, 40)));
        append(&mut store, mixed(2, 41..=43)).await;
    }
    let mut store = LogStore::open(dir.path()).unwrap();
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id(2, 40)));
    assert_eq!(indexes(&store.try_get_log_entries(..).await.unwrap()), vec![41, 42, 43]);
}

#[tokio::test]
async fn a_torn_tail_is_dropped_on_opening_and_appends_continue_after_it() {
    for torn in [&[0xde, 0xad, 0xbe][..], &[0x10, 0, 0, 0, 1, 2, 3, 4, b'{', b'"'][..], &[0; 64][..]] {
        let dir = tempfile::tempdir().unwrap();
        let first = mixed(1, 1..=5);
        {
            let mut store = LogStore::open(dir.path()).unwrap();
            append(&mut store, first.clone()).await;
        }
        let last = segments(dir.path()).pop().unwrap();
        let length = std::fs::metadata(&last).unwrap().len();
        OpenOptions::new().append(true).open(&last).unwrap().write_all(torn).unwrap();
        let then = mixed(1, 6..=8);
        {
            let mut store = LogStore::open(dir.path()).unwrap();
            assert_eq!(std::fs::metadata(&last).unwrap().len(), length, "the torn bytes are cut off");
            assert_eq!(store.get_log_state().await.unwrap().last_log_id, Some(log_id(1, 5)));
            append(&mut store, then.clone()).await;
        }
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(json(&store.try_get_log_entries(..).await.unwrap()), json(&[first, then].concat()));
    }
}

#[tokio::test]
async fn a_damaged_frame_in_an_earlier_segment_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = LogStore::open_with(dir.path(), 1_000, CACHE_BYTES).unwrap();
        append(&mut store, mixed(1, 1..=12)).await;
    }
    let all = segments(dir.path());
    assert!(all.len() > 2, "small segments roll: {all:?}");
    // One byte of the first segment's first payload altered, as a failing disk would.
    let mut bytes = std::fs::read(&all[0]).unwrap();
    bytes[frame::HEADER + 3] ^= 0x20;
    std::fs::write(&all[0], bytes).unwrap();
    match LogStore::open(dir.path()) {
        Err(LogStoreError::Damaged { path, offset, .. }) => {
            assert_eq!(path, all[0]);
            assert_eq!(offset, 0);
        }
        other => panic!("expected the damage to be refused, got {:?}", other.err()),
    }
    let message = LogStore::open(dir.path()).err().unwrap().to_string();
    assert!(message.contains(&all[0].display().to_string()) && message.contains("byte 0"), "{message}");
}

#[tokio::test]
async fn entries_the_cache_let_go_are_read_back_intact_from_their_segments() {
    let dir = tempfile::tempdir().unwrap();
    // No cache budget at all, and small segments: every read goes to a file.
    let mut store = LogStore::open_with(dir.path(), 3_000, 0).unwrap();
    let written = mixed(4, 1..=20);
    for chunk in written.chunks(3) {
        append(&mut store, chunk.to_vec()).await;
    }
    assert!(segments(dir.path()).len() > 1);
    let mut reader = store.get_log_reader().await;
    assert_eq!(json(&reader.try_get_log_entries(..).await.unwrap()), json(&written));
    assert_eq!(json(&reader.try_get_log_entries(7..12).await.unwrap()), json(&written[6..11]));
    // A truncation cuts a segment under the entries that remain readable.
    store.truncate(log_id(4, 15)).await.unwrap();
    assert_eq!(json(&reader.try_get_log_entries(..).await.unwrap()), json(&written[..14]));
}

#[test]
fn the_cache_never_lets_go_of_an_entry_not_yet_written() {
    let mut index = Index::recovered(None, Vec::new(), 0);
    let entries = mixed(1, 1..=3);
    index.append(entries.iter().map(|entry| (entry.clone(), 100)).collect()).unwrap();
    assert_eq!(
        json(&index.read(&(..)).unwrap()),
        json(&entries),
        "memory is the only copy until the writer has written them"
    );
    let hole = index.append(vec![(blank(1, 5), 10)]).unwrap_err();
    assert!(hole.contains("hole"), "{hole}");
}

#[tokio::test]
async fn a_store_held_by_another_process_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let held = LogStore::open(dir.path()).unwrap();
    let error = LogStore::open(dir.path()).err().expect("the LOCK file is held");
    assert!(matches!(error, LogStoreError::Locked { .. }), "{error:?}");
    assert!(error.to_string().contains(&dir.path().display().to_string()), "{error}");
    // Once the first store is dropped its writer has finished and the lock is free.
    drop(held);
    LogStore::open(dir.path()).unwrap();
}

#[tokio::test]
async fn a_store_of_an_earlier_version_in_sled_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db"), b"").unwrap();
    std::fs::write(dir.path().join("conf"), b"").unwrap();
    let error = LogStore::open(dir.path()).err().expect("sled's files are recognised");
    assert!(matches!(error, LogStoreError::EarlierVersion { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("earlier version") && message.contains("empty Raft directory"), "{message}");
}
