//! Opening the store: refusing a directory it must not use, then reading the
//! vote, the purged id and every segment's frames back, and cutting off the
//! torn tail a crash can leave, by the rules the record log follows (both use
//! `salvage_ledger::store::frame_log`).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::{LogId, Vote};
use salvage_ledger::store::frame_log::{
    Acknowledged, Ending, MARK_FILE, Mark, SegmentFormat, cut_torn_tail, read_mark, scan_segment,
};
use serde::de::DeserializeOwned;

use super::index::{Location, SegmentFile};
use super::writer::Segment;
use super::{
    LEGACY_SEGMENT_SUFFIX, LogStoreError, PURGED_FILE, SEGMENT_SUFFIX, VOTE_FILE, frame, io_failure, sync_dir,
};
use crate::consortium::replication::NodeId;

/// What the files of a store hold.
pub(super) struct Recovered {
    pub(super) vote: Option<Vote<NodeId>>,
    pub(super) purged: Option<LogId<NodeId>>,
    /// The entries after `purged`, consecutive: log id, frame length, place.
    pub(super) entries: Vec<(LogId<NodeId>, usize, Location)>,
    /// Every segment, oldest first; appends continue in the last.
    pub(super) segments: Vec<Segment>,
    /// Where the recovered log ends, all of it durable: the acknowledged mark to start from.
    pub(super) end: Mark,
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

/// Reads the store in `dir` back. Nothing is written until every segment has
/// been checked; then a torn tail is cut, a last segment left without any
/// entry is deleted, and the last segment is made durable, so that all the
/// recovered log may be marked acknowledged.
pub(super) fn recover(dir: &Path) -> Result<Recovered, LogStoreError> {
    let vote = read_json(&dir.join(VOTE_FILE))?;
    let purged: Option<LogId<NodeId>> = read_json(&dir.join(PURGED_FILE))?;
    // Read before the segments, like every reader of a log that may grow (see `frame_log`).
    let mark = read_mark(dir).map_err(io_failure)?;
    let listed = list_segments(dir)?;
    let acknowledged = acknowledged_in_last(dir, mark, listed.last().map_or(0, |(first, _, _)| *first))?;
    let mut scan = Scan { purged: purged.map(|id| id.index), last_kept: None, entries: Vec::new() };
    let mut segments: Vec<Segment> = Vec::new();
    let mut torn = None;
    for (k, (first, path, format)) in listed.iter().enumerate() {
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
        let (segment, tail) = scan.segment(path, *first, *format, is_last, acknowledged)?;
        torn = tail;
        segments.push(segment);
    }

    // Every segment was checked: only now may anything change on disk.
    if let (Some(segment), Some(torn)) = (segments.last_mut(), torn) {
        torn.cut(dir, segment)?;
    }
    if segments.last().is_some_and(|last| last.offsets.is_empty()) {
        // A segment started just before a crash, or whose only frames were torn.
        if let Some(empty) = segments.pop() {
            std::fs::remove_file(&empty.file.path)
                .map_err(|source| LogStoreError::Io { path: empty.file.path.clone(), source })?;
        }
    }
    if let Some(last) = segments.last() {
        // What the writer appended before a crash may still be only in the page cache.
        last.file.file.sync_data().map_err(|source| LogStoreError::Io { path: last.file.path.clone(), source })?;
    }
    sync_dir(dir).map_err(|source| LogStoreError::Io { path: dir.to_owned(), source })?;
    let end = segments.last().map_or(Mark::NOTHING, |last| Mark { segment: last.first, offset: last.len });
    Ok(Recovered { vote, purged, entries: scan.entries, segments, end })
}

/// What the acknowledged mark says of the last segment, the one for index
/// `last` (0 without segments); a mark naming a later segment means that
/// segments holding acknowledged entries are missing.
fn acknowledged_in_last(dir: &Path, mark: Option<Mark>, last: u64) -> Result<Acknowledged, LogStoreError> {
    let Some(mark) = mark else {
        // A store of a version before marks existed: the rule it was written under.
        return Ok(Acknowledged::Unknown);
    };
    mark.in_last_segment(last).ok_or_else(|| LogStoreError::Damaged {
        path: dir.join(MARK_FILE),
        offset: 0,
        reason: format!(
            "the mark says entries up to byte {} of the segment for index {} were acknowledged, but the last segment {}: \
             segments are missing",
            mark.offset,
            mark.segment,
            if last == 0 { "is gone".to_owned() } else { format!("begins at index {last}") }
        ),
    })
}

/// The segments in `dir`, by the index of their first entry, with their format.
fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf, SegmentFormat)>, LogStoreError> {
    let io_error = |source| LogStoreError::Io { path: dir.to_owned(), source };
    let mut listed = Vec::new();
    for item in std::fs::read_dir(dir).map_err(io_error)? {
        let path = item.map_err(io_error)?.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else { continue };
        let (stem, format) = if let Some(stem) = name.strip_suffix(SEGMENT_SUFFIX) {
            (stem, frame::FORMAT)
        } else if let Some(stem) = name.strip_suffix(LEGACY_SEGMENT_SUFFIX) {
            (stem, frame::LEGACY_FORMAT)
        } else {
            continue;
        };
        match stem.parse::<u64>() {
            Ok(first) if stem.len() == 20 => listed.push((first, path, format)),
            _ => {
                tracing::warn!(path = %path.display(), "ignoring a file that is named like a Raft log segment but is not named for an index")
            }
        }
    }
    listed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(listed)
}

/// The entries found so far, and what the next one must be.
struct Scan {
    purged: Option<u64>,
    last_kept: Option<u64>,
    entries: Vec<(LogId<NodeId>, usize, Location)>,
}

/// A torn tail found at the end of the last segment, to cut once every
/// segment has been checked.
struct TornTail {
    offset: u64,
    bytes: Vec<u8>,
    reason: String,
    never_acknowledged: bool,
}

impl Scan {
    /// Reads the segment `first` at `path` and checks it as `frame_log` does
    /// every segment: damage is a torn tail only at the end of the last one, and
    /// only past the acknowledged mark (or, in a store without one, with no valid
    /// frame after it); anything else is refused, naming the file and byte. Every
    /// frame must hold the entry its place in the log calls for.
    fn segment(
        &mut self,
        path: &Path,
        first: u64,
        format: SegmentFormat,
        is_last: bool,
        acknowledged: Acknowledged,
    ) -> Result<(Segment, Option<TornTail>), LogStoreError> {
        let io_error = |source| LogStoreError::Io { path: path.to_owned(), source };
        let damaged = |offset: u64, reason: String| LogStoreError::Damaged { path: path.to_owned(), offset, reason };
        let mut file = OpenOptions::new().read(true).write(true).open(path).map_err(io_error)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_error)?;
        let scanned = scan_segment(&format, &bytes, is_last, acknowledged);
        let torn = match scanned.ending.clone() {
            Ending::Clean => None,
            Ending::Damaged { offset, reason } => return Err(damaged(offset, reason)),
            Ending::Torn { reason, never_acknowledged } => Some(TornTail {
                offset: scanned.whole_end as u64,
                bytes: bytes.get(scanned.whole_end..).unwrap_or_default().to_vec(),
                reason,
                never_acknowledged,
            }),
        };
        let entries = frame::decode_frames(&scanned).map_err(|(offset, why)| damaged(offset, why))?;
        let segment = Arc::new(SegmentFile { path: path.to_owned(), file, format });
        let mut offsets = Vec::new();
        for (offset, entry, len) in entries {
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
                        format!("entry {} follows index {previous}: the entries in between are missing", entry.log_id),
                    ));
                }
                self.last_kept = Some(index);
                self.entries.push((entry.log_id, len, Location { segment: segment.clone(), offset }));
            }
            offsets.push(offset);
        }
        if offsets.is_empty() && !is_last {
            return Err(damaged(0, "the segment holds no entry, yet later segments follow it".to_owned()));
        }
        let len = scanned.whole_end.max(format.header_len()) as u64;
        Ok((Segment { file: segment, first, offsets, len, released: 0 }, torn))
    }
}

impl TornTail {
    /// Saves the torn bytes in the store's quarantine directory, then cuts them
    /// off `segment`, durably.
    fn cut(self, dir: &Path, segment: &mut Segment) -> Result<(), LogStoreError> {
        let path = &segment.file.path;
        let stem = format!("{:020}-at-{}", segment.first, self.offset);
        let kept = cut_torn_tail(dir, &segment.file.format, &segment.file.file, path, self.offset, &self.bytes, &stem)
            .map_err(io_failure)?;
        let kept = kept.map(|file| file.display().to_string()).unwrap_or_default();
        let (offset, dropped) = (self.offset, self.bytes.len());
        if self.never_acknowledged {
            tracing::warn!(path = %path.display(), offset, dropped, quarantine = %kept, reason = %self.reason, "cut the torn end of the Raft log that a crash left; these bytes were never acknowledged, as the acknowledged mark shows");
        } else {
            tracing::warn!(path = %path.display(), offset, dropped, quarantine = %kept, reason = %self.reason, "cut the torn end of the Raft log that a crash left; the store had no acknowledged mark yet, and no valid frame follows the damage");
        }
        Ok(())
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
