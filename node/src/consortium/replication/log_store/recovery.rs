//! Opening the store: refusing a directory it must not use, then reading the
//! vote, the purged id and every segment's frames back, and cutting off the
//! torn tail a crash can leave.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::{LogId, Vote};
use serde::de::DeserializeOwned;

use super::index::{Location, SegmentFile};
use super::writer::Segment;
use super::{LogStoreError, PURGED_FILE, VOTE_FILE, frame, sync_dir};
use crate::consortium::replication::NodeId;

/// What the files of a store hold.
pub(super) struct Recovered {
    pub(super) vote: Option<Vote<NodeId>>,
    pub(super) purged: Option<LogId<NodeId>>,
    /// The entries after `purged`, consecutive: log id, frame length, place.
    pub(super) entries: Vec<(LogId<NodeId>, usize, Location)>,
    /// Every segment, oldest first; appends continue in the last.
    pub(super) segments: Vec<Segment>,
}

/// Refuses a directory that holds the sled store of an earlier version
/// (sled's files are `db` and `conf`): reading it as empty would make this
/// node forget its vote and its log.
pub(super) fn refuse_earlier_version(dir: &Path) -> Result<(), LogStoreError> {
    for name in ["db", "conf"] {
        let path = dir.join(name);
        if path.try_exists().map_err(|source| LogStoreError::Io { path: path.clone(), source })? {
            return Err(LogStoreError::EarlierVersion { dir: dir.to_owned() });
        }
    }
    Ok(())
}

/// Takes the exclusive lock on `dir/LOCK`, held for as long as the returned
/// file is open: two processes appending to one log would interleave frames.
pub(super) fn lock(dir: &Path) -> Result<File, LogStoreError> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LogStoreError::Io { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(LogStoreError::Locked { dir: dir.to_owned() }),
        Err(TryLockError::Error(source)) => Err(LogStoreError::Io { path, source }),
    }
}

/// Reads the store in `dir` back.
pub(super) fn recover(dir: &Path) -> Result<Recovered, LogStoreError> {
    let vote = read_json(&dir.join(VOTE_FILE))?;
    let purged: Option<LogId<NodeId>> = read_json(&dir.join(PURGED_FILE))?;
    let listed = list_segments(dir)?;
    let mut scan = Scan { purged: purged.map(|id| id.index), last_kept: None, entries: Vec::new() };
    let mut segments: Vec<Segment> = Vec::new();
    for (k, (first, path)) in listed.iter().enumerate() {
        if let Some(previous) = segments.last()
            && *first < previous.first + previous.offsets.len() as u64
        {
            let reason = format!(
                "the segment begins at index {first}, inside the previous segment {}",
                previous.file.path.display()
            );
            return Err(LogStoreError::Damaged { path: path.clone(), offset: 0, reason });
        }
        let is_last = k + 1 == listed.len();
        if let Some(segment) = scan.segment(dir, path, *first, is_last)? {
            segments.push(segment);
        }
    }
    Ok(Recovered { vote, purged, entries: scan.entries, segments })
}

/// The segments in `dir`, by the index of their first entry.
fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, LogStoreError> {
    let io_error = |source| LogStoreError::Io { path: dir.to_owned(), source };
    let mut listed = Vec::new();
    for item in std::fs::read_dir(dir).map_err(io_error)? {
        let path = item.map_err(io_error)?.path();
        let Some(stem) = path.file_name().and_then(|name| name.to_str()).and_then(|name| name.strip_suffix(".seg"))
        else {
            continue;
        };
        match stem.parse::<u64>() {
            Ok(first) if stem.len() == 20 => listed.push((first, path)),
            _ => {
                tracing::warn!(path = %path.display(), "ignoring a file that is named like a Raft log segment but is not named for an index")
            }
        }
    }
    listed.sort();
    Ok(listed)
}

/// The entries found so far, and what the next one must be.
struct Scan {
    purged: Option<u64>,
    last_kept: Option<u64>,
    entries: Vec<(LogId<NodeId>, usize, Location)>,
}

impl Scan {
    /// Reads the segment `first` at `path`. A bad frame at the end of the
    /// last segment is the torn write of a crash, never acknowledged: it is
    /// cut off. Anywhere else the file is damaged. Returns `None` for a last
    /// segment left without any entry, which is deleted.
    fn segment(
        &mut self,
        dir: &Path,
        path: &Path,
        first: u64,
        is_last: bool,
    ) -> Result<Option<Segment>, LogStoreError> {
        let io_error = |source| LogStoreError::Io { path: path.to_owned(), source };
        let damaged = |offset: usize, reason: String| LogStoreError::Damaged {
            path: path.to_owned(),
            offset: offset as u64,
            reason,
        };
        let mut file = OpenOptions::new().read(true).write(true).open(path).map_err(io_error)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_error)?;
        let segment = Arc::new(SegmentFile { path: path.to_owned(), file });
        let mut offsets = Vec::new();
        let mut offset = 0;
        while offset < bytes.len() {
            match frame::decode(&bytes[offset..]) {
                Ok((entry, len)) => {
                    let index = entry.log_id.index;
                    let expected = first + offsets.len() as u64;
                    if index != expected {
                        return Err(damaged(
                            offset,
                            format!(
                                "the frame holds entry {} where the segment, named for index {first}, must hold index {expected}",
                                entry.log_id
                            ),
                        ));
                    }
                    if self.purged.is_none_or(|purged| index > purged) {
                        let follows = self.last_kept.or(self.purged);
                        if let Some(previous) = follows
                            && index != previous + 1
                        {
                            return Err(damaged(
                                offset,
                                format!(
                                    "entry {} follows index {previous}: the entries in between are missing",
                                    entry.log_id
                                ),
                            ));
                        }
                        self.last_kept = Some(index);
                        self.entries.push((
                            entry.log_id,
                            len,
                            Location { segment: segment.clone(), offset: offset as u64 },
                        ));
                    }
                    offsets.push(offset as u64);
                    offset += len;
                }
                Err(bad) if is_last && bad.is_torn_write() => {
                    let dropped = bytes.len() - offset;
                    tracing::warn!(path = %path.display(), offset, dropped, reason = %bad, "dropping the torn end of the Raft log that a crash left; the entries it held were never reported stored");
                    segment.file.set_len(offset as u64).map_err(io_error)?;
                    segment.file.sync_data().map_err(io_error)?;
                    break;
                }
                Err(bad) => {
                    let place = if is_last { "" } else { " (not the last segment, so no crash can explain it)" };
                    return Err(damaged(offset, format!("{bad}{place}")));
                }
            }
        }
        if offsets.is_empty() {
            if !is_last {
                return Err(damaged(0, "the segment holds no entry, yet later segments follow it".to_owned()));
            }
            // A segment started just before a crash, or whose only frames were torn.
            std::fs::remove_file(path).map_err(io_error)?;
            sync_dir(dir).map_err(|source| LogStoreError::Io { path: dir.to_owned(), source })?;
            return Ok(None);
        }
        Ok(Some(Segment { file: segment, first, offsets, len: offset as u64, released: 0 }))
    }
}

/// The value in the JSON file at `path`, or `None` if there is no such file.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, LogStoreError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(LogStoreError::Io { path: path.to_owned(), source }),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| LogStoreError::Damaged {
        path: path.to_owned(),
        offset: 0,
        reason: format!("not the JSON this version writes: {e}"),
    })
}
