use std::fs::OpenOptions;
use std::io::Write;

use openraft::storage::RaftLogStorageExt;
use openraft::{CommittedLeaderId, EntryPayload};
use salvage_ledger::entry::Timestamp;
use salvage_ledger::store::frame_log::{FRAME_HEADER_BYTES, MARK_FILE, QUARANTINE_DIR, read_mark};
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

/// The segment files in `dir`, of either version, in log order.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|item| item.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log" || ext == "seg"))
        .collect();
    paths.sort();
    paths
}

/// Every file under `dir`, recursively, with its bytes.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    for item in std::fs::read_dir(dir).unwrap() {
        let path = item.unwrap().path();
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else {
            files.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
    files
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
            let name = format!("{}-at-{length}.torn", last.file_stem().unwrap().to_str().unwrap());
            let kept = std::fs::read(dir.path().join(QUARANTINE_DIR).join(name)).unwrap();
            assert_eq!(kept, torn, "the torn bytes are kept in quarantine");
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
    let first_frame = frame::MAGIC.len();
    let mut bytes = std::fs::read(&all[0]).unwrap();
    bytes[first_frame + FRAME_HEADER_BYTES + 3] ^= 0x20;
    std::fs::write(&all[0], bytes).unwrap();
    match LogStore::open(dir.path()) {
        Err(LogStoreError::Damaged { path, offset, .. }) => {
            assert_eq!(path, all[0]);
            assert_eq!(offset, first_frame as u64);
        }
        other => panic!("expected the damage to be refused, got {:?}", other.err()),
    }
    let message = LogStore::open(dir.path()).err().unwrap().to_string();
    assert!(message.contains(&all[0].display().to_string()) && message.contains("byte 8"), "{message}");
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

/// The offset of the first occurrence of `needle` in `bytes` at or after `from`.
fn find(bytes: &[u8], needle: &[u8], from: usize) -> usize {
    from + bytes[from..].windows(needle.len()).position(|window| window == needle).unwrap()
}

#[tokio::test]
async fn a_flipped_bit_in_the_middle_of_the_last_segment_is_refused_naming_the_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = LogStore::open(dir.path()).unwrap();
        for chunk in mixed(1, 1..=40).chunks(4) {
            append(&mut store, chunk.to_vec()).await;
        }
    }
    let last = segments(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&last).unwrap();
    // One bit of entry 20's payload, with twenty acknowledged entries after it.
    let payload = find(&bytes, br#"{"log_id":{"leader_id":{"term":1,"node_id":7},"index":20}"#, 0);
    let frame = payload - 8;
    let flipped = find(&bytes, br#""index":20,"k":1"#, payload) + 3;
    bytes[flipped] ^= 0x01;
    std::fs::write(&last, &bytes).unwrap();
    let before = snapshot(dir.path());

    match LogStore::open(dir.path()) {
        Err(LogStoreError::Damaged { path, offset, reason }) => {
            assert_eq!((path.as_path(), offset), (last.as_path(), frame as u64), "{reason}");
        }
        Err(other) => panic!("expected the damage to be refused, got {other:?}"),
        Ok(_) => panic!("a flipped bit in acknowledged entries was taken for a torn tail"),
    }
    let message = LogStore::open(dir.path()).err().unwrap().to_string();
    assert!(message.contains(&last.display().to_string()) && message.contains(&format!("byte {frame}")), "{message}");
    assert_eq!(snapshot(dir.path()), before, "a refused open changed the store");
}

/// Appends the frames of `entries` to `segment` as a writer would before its fsync: written,
/// never acknowledged.
fn write_unacknowledged(segment: &Path, entries: &[Entry<TypeConfig>]) -> Vec<u64> {
    let mut file = OpenOptions::new().append(true).open(segment).unwrap();
    let mut offset = std::fs::metadata(segment).unwrap().len();
    let mut offsets = Vec::new();
    for entry in entries {
        let frame = frame::encode(entry).unwrap();
        file.write_all(&frame).unwrap();
        offsets.push(offset);
        offset += frame.len() as u64;
    }
    offsets
}

#[tokio::test]
async fn a_hole_past_the_acknowledged_mark_followed_by_whole_frames_is_cut_as_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let acknowledged = mixed(1, 1..=5);
    {
        let mut store = LogStore::open(dir.path()).unwrap();
        append(&mut store, acknowledged.clone()).await;
    }
    let last = segments(dir.path()).pop().unwrap();
    let length = std::fs::metadata(&last).unwrap().len();
    // A power cut: of three frames written but never synced, the first never reached the disk.
    let offsets = write_unacknowledged(&last, &mixed(1, 6..=8));
    let mut bytes = std::fs::read(&last).unwrap();
    bytes[offsets[0] as usize..offsets[1] as usize].fill(0);
    std::fs::write(&last, &bytes).unwrap();

    // A store of an earlier version, without the mark, cannot tell: the whole frames after the
    // hole make it refuse.
    let copy = tempfile::tempdir().unwrap();
    for (path, content) in snapshot(dir.path()) {
        if !path.ends_with(MARK_FILE) && !path.ends_with("LOCK") {
            std::fs::write(copy.path().join(path.file_name().unwrap()), content).unwrap();
        }
    }
    assert!(matches!(LogStore::open(copy.path()), Err(LogStoreError::Damaged { offset, .. }) if offset == length));

    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(std::fs::metadata(&last).unwrap().len(), length, "the unacknowledged tail is cut");
    assert_eq!(json(&store.try_get_log_entries(..).await.unwrap()), json(&acknowledged));
    let name = format!("{}-at-{length}.torn", last.file_stem().unwrap().to_str().unwrap());
    let kept = std::fs::read(dir.path().join(QUARANTINE_DIR).join(name)).unwrap();
    assert_eq!(kept, bytes[length as usize..], "the cut bytes are kept in quarantine");
    // Appends go on where the acknowledged entries end.
    append(&mut store, mixed(2, 6..=7)).await;
    drop(store);
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(indexes(&store.try_get_log_entries(..).await.unwrap()), (1..=7).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_truncation_lowers_the_acknowledged_mark_before_it_cuts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    append(&mut store, mixed(1, 1..=10)).await;
    store.truncate(log_id(1, 6)).await.unwrap();
    let last = segments(dir.path()).pop().unwrap();
    let cut = std::fs::metadata(&last).unwrap().len();
    let mark = read_mark(dir.path()).unwrap().unwrap();
    assert_eq!((mark.segment, mark.offset), (1, cut), "the mark names the end of what is left");
    drop(store);
    // A torn write after the truncation point is a torn tail, not damage to acknowledged entries.
    OpenOptions::new().append(true).open(&last).unwrap().write_all(&[0x40, 0, 0, 0, 9]).unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(store.get_log_state().await.unwrap().last_log_id, Some(log_id(1, 5)));
}

/// A version-1 frame, as Salvage wrote them before the Raft log shared the record log's format:
/// `[u32 LE length][u32 LE CRC-32 of the payload][payload]`, without a segment header.
fn version_1_frame(entry: &Entry<TypeConfig>) -> Vec<u8> {
    let payload = serde_json::to_vec(entry).unwrap();
    let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    frame.extend_from_slice(&payload);
    frame
}

/// Writes a version-1 store: segments `{first:020}.seg` of the given entries, a vote, no mark.
fn write_version_1_store(dir: &Path, segments: &[&[Entry<TypeConfig>]]) -> Vec<PathBuf> {
    std::fs::write(dir.join(VOTE_FILE), serde_json::to_vec(&Vote::<NodeId>::new(1, 7)).unwrap()).unwrap();
    segments
        .iter()
        .map(|entries| {
            let path = dir.join(format!("{:020}.seg", entries[0].log_id.index));
            std::fs::write(&path, entries.iter().flat_map(version_1_frame).collect::<Vec<u8>>()).unwrap();
            path
        })
        .collect()
}

#[tokio::test]
async fn a_store_of_version_1_opens_and_appends_go_to_version_2_segments() {
    let dir = tempfile::tempdir().unwrap();
    let old = mixed(1, 1..=5);
    let legacy = write_version_1_store(dir.path(), &[&old[..3], &old[3..]]);
    let new = mixed(1, 6..=8);
    {
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(store.read_vote().await.unwrap(), Some(Vote::new(1, 7)));
        // Read back from the version-1 files: nothing is cached after opening.
        assert_eq!(json(&store.try_get_log_entries(..).await.unwrap()), json(&old));
        append(&mut store, new.clone()).await;
    }
    let now = segments(dir.path());
    assert_eq!(now[..2], legacy, "the version-1 segments are kept as they were");
    assert_eq!(now[2], dir.path().join(format!("{:020}.log", 6)));
    assert_eq!(std::fs::read(&now[2]).unwrap()[..8], frame::MAGIC);
    assert!(dir.path().join(MARK_FILE).exists(), "the store is marked from its first opening on");

    // A new leader replaces entries from inside a version-1 segment; a purge then drops the
    // version-1 segments.
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(json(&store.try_get_log_entries(..).await.unwrap()), json(&[old.clone(), new].concat()));
    store.truncate(log_id(1, 3)).await.unwrap();
    let replacing = mixed(2, 3..=4);
    append(&mut store, replacing.clone()).await;
    drop(store);
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(json(&store.try_get_log_entries(..).await.unwrap()), json(&[&old[..2], &replacing[..]].concat()));
    store.purge(log_id(2, 3)).await.unwrap();
    assert_eq!(segments(dir.path()), vec![dir.path().join(format!("{:020}.log", 3))]);
    drop(store);
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(json(&store.try_get_log_entries(..).await.unwrap()), json(&replacing[1..]));
}

#[tokio::test]
async fn a_store_of_version_1_is_judged_by_the_rule_it_was_written_under() {
    // A torn end is cut and kept.
    let dir = tempfile::tempdir().unwrap();
    let old = mixed(1, 1..=5);
    let legacy = write_version_1_store(dir.path(), &[&old]);
    let length = std::fs::metadata(&legacy[0]).unwrap().len();
    OpenOptions::new().append(true).open(&legacy[0]).unwrap().write_all(&[0x10, 0, 0, 0, 1, 2]).unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(json(&store.try_get_log_entries(..).await.unwrap()), json(&old));
    assert_eq!(std::fs::metadata(&legacy[0]).unwrap().len(), length);
    drop(store);

    // A flipped bit in the middle of its last segment, whole frames after it, is refused.
    let dir = tempfile::tempdir().unwrap();
    let legacy = write_version_1_store(dir.path(), &[&old]);
    let mut bytes = std::fs::read(&legacy[0]).unwrap();
    let third: usize = old[..2].iter().map(|entry| version_1_frame(entry).len()).sum();
    bytes[third + FRAME_HEADER_BYTES + 5] ^= 0x02;
    std::fs::write(&legacy[0], &bytes).unwrap();
    match LogStore::open(dir.path()) {
        Err(LogStoreError::Damaged { path, offset, reason }) => {
            assert_eq!((path, offset), (legacy[0].clone(), third as u64), "{reason}");
        }
        Err(other) => panic!("expected the damage to be refused, got {other:?}"),
        Ok(_) => panic!("a flipped bit in a version-1 segment was taken for a torn tail"),
    }
}
