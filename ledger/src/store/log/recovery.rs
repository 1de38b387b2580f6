//! Recovery when opening: [`RecordLog::open`] reads and checks every segment, tells a torn tail
//! (a crash artefact) from corruption, and quarantines and cuts a torn tail before anything
//! else is written.
//!
//! The rules it follows are in the module documentation of [`super`] under "Recovery when
//! opening"; this file is their implementation and nothing else.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use super::format::{
    FRAME_HEADER_BYTES, LogPosition, SEGMENT_MAGIC, check_frame, frame_bounds, frame_crc, segment_path,
};
use super::read::LogReader;
use super::segments::{check_contiguous, create_segment, ensure_directory, list_segments, sync_directory};
use super::{LogContents, LogError, LogOptions, RecordLog, TailCut, io_error};

impl RecordLog {
    /// Opens the log in `dir`, creating the directory and an empty first segment if it does not
    /// exist, and returns every payload it holds.
    ///
    /// A torn tail on the last segment is quarantined, cut off and reported; any other damage is
    /// refused with [`LogError::Corrupt`] without touching the disk (see the module
    /// documentation). On success the last segment and the directory have been fsynced, so
    /// everything returned is durable.
    pub fn open(dir: &Path, options: LogOptions) -> Result<(RecordLog, LogContents), LogError> {
        ensure_directory(dir)?;
        let numbers = list_segments(dir)?;
        check_contiguous(&numbers)?;
        let Some(&last) = numbers.last() else {
            return Ok((Self::create_first_segment(dir, options)?, LogContents::empty()));
        };

        let mut frames = Vec::new();
        let mut torn = None;
        let mut last_whole_end = 0u64;
        for &number in &numbers {
            let path = segment_path(dir, number);
            let bytes = fs::read(&path).map_err(|source| io_error("read segment", &path, source))?;
            let scan = scan_segment(number, &bytes, number == last)?;
            for (offset, payload) in scan.frames {
                frames.push((LogPosition { segment: number, offset }, payload.to_vec()));
            }
            if number == last {
                last_whole_end = scan.whole_end as u64;
                if let Some(reason) = scan.torn_reason {
                    let cut = bytes.get(scan.whole_end..).unwrap_or_default().to_vec();
                    torn = Some((reason, cut));
                }
            }
        }

        // Only now, with every segment checked, may the log change anything on disk.
        let last_path = segment_path(dir, last);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&last_path)
            .map_err(|source| io_error("open for appending", &last_path, source))?;
        let tail_cut = match torn {
            Some((reason, cut)) => Some(cut_torn_tail(dir, last, &file, &last_path, last_whole_end, reason, &cut)?),
            None => None,
        };
        file.sync_data().map_err(|source| io_error("fdatasync", &last_path, source))?;
        sync_directory(dir)?;

        let dir: Arc<Path> = Arc::from(dir);
        let log = RecordLog {
            reader: LogReader::new(Arc::clone(&dir)),
            dir,
            options,
            segment: last,
            current: Arc::new(file),
            current_path: Arc::from(last_path.as_path()),
            current_len: last_whole_end.max(SEGMENT_MAGIC.len() as u64),
            frame_count: frames.len() as u64,
            appended_bytes: 0,
            poisoned: Arc::new(AtomicBool::new(false)),
            released: Arc::new(AtomicU64::new(0)),
        };
        Ok((log, LogContents { frames, tail_cut }))
    }
}

/// The name of the quarantine subdirectory of a log directory.
pub(super) const QUARANTINE_DIR: &str = "quarantine";

/// The most CRC work spent looking for a valid frame after damage before giving up and
/// calling the damage corruption; only crafted content comes near it.
pub(super) const SCAN_BUDGET_BYTES: u64 = 1 << 30;

impl RecordLog {
    fn create_first_segment(dir: &Path, options: LogOptions) -> Result<RecordLog, LogError> {
        let path = segment_path(dir, 1);
        let file = create_segment(dir, &path)?;
        let dir: Arc<Path> = Arc::from(dir);
        Ok(RecordLog {
            reader: LogReader::new(Arc::clone(&dir)),
            dir,
            options,
            segment: 1,
            current: Arc::new(file),
            current_path: Arc::from(path.as_path()),
            current_len: SEGMENT_MAGIC.len() as u64,
            frame_count: 0,
            appended_bytes: SEGMENT_MAGIC.len() as u64,
            poisoned: Arc::new(AtomicBool::new(false)),
            released: Arc::new(AtomicU64::new(0)),
        })
    }
}

/// What one segment holds, borrowed from its bytes.
pub(super) struct SegmentScan<'a> {
    /// Every whole, valid frame: its offset and its payload.
    pub(super) frames: Vec<(u64, &'a [u8])>,
    /// Where the last whole frame ends (0 when the header itself is torn).
    pub(super) whole_end: usize,
    /// Why the bytes from `whole_end` on are a torn tail, if there are any.
    pub(super) torn_reason: Option<String>,
}

/// The outcome of looking for a valid frame after damage.
pub(super) enum FollowingFrame {
    None,
    Found(usize),
    TooCostly,
}

/// Checks one segment's bytes; damage is a torn tail only in the last segment and only when no
/// valid frame follows it, otherwise it is corruption.
pub(super) fn scan_segment(segment: u32, bytes: &[u8], is_last: bool) -> Result<SegmentScan<'_>, LogError> {
    let corrupt = |offset: usize, reason: String| LogError::Corrupt { segment, offset: offset as u64, reason };
    if bytes.get(..SEGMENT_MAGIC.len()) != Some(SEGMENT_MAGIC.as_slice()) {
        if is_last && let Some(reason) = torn_header_reason(bytes) {
            return Ok(SegmentScan { frames: Vec::new(), whole_end: 0, torn_reason: Some(reason) });
        }
        return Err(corrupt(0, bad_header_reason(bytes)));
    }

    let mut frames = Vec::new();
    let mut offset = SEGMENT_MAGIC.len();
    while offset < bytes.len() {
        let damage = match check_frame(bytes, offset) {
            Ok(frame) => {
                frames.push((offset as u64, frame.payload));
                offset = frame.end;
                continue;
            }
            Err(damage) => damage,
        };
        if !is_last {
            return Err(corrupt(offset, format!("{damage}; only the last segment may end in a torn write")));
        }
        return match find_frame_after(bytes, offset) {
            FollowingFrame::Found(at) => Err(corrupt(
                offset,
                format!("{damage}, yet a valid frame follows at offset {at}, so this is not a torn tail"),
            )),
            FollowingFrame::TooCostly => Err(corrupt(
                offset,
                format!(
                    "{damage}; ruling out a valid frame after it would take more than \
                     {SCAN_BUDGET_BYTES} bytes of CRC work, so it is not treated as a torn tail"
                ),
            )),
            FollowingFrame::None => {
                Ok(SegmentScan { frames, whole_end: offset, torn_reason: Some(damage.to_string()) })
            }
        };
    }
    Ok(SegmentScan { frames, whole_end: offset, torn_reason: None })
}

/// Says why a last segment without a valid header is the remains of an interrupted creation,
/// or `None` if it is not.
pub(super) fn torn_header_reason(bytes: &[u8]) -> Option<String> {
    if bytes.len() < SEGMENT_MAGIC.len() && SEGMENT_MAGIC.starts_with(bytes) {
        Some(format!("the segment holds only {} of the {} header bytes", bytes.len(), SEGMENT_MAGIC.len()))
    } else if bytes.iter().all(|&byte| byte == 0) {
        Some(format!("the segment is {} zero bytes without a header", bytes.len()))
    } else {
        None
    }
}

pub(super) fn bad_header_reason(bytes: &[u8]) -> String {
    match bytes.get(..SEGMENT_MAGIC.len()) {
        Some(header) => format!("the header bytes {header:02x?} are not the magic \"SLVGLOG1\""),
        None => format!(
            "the file is {} bytes long, shorter than the {}-byte header, and its bytes are not \
             a prefix of the magic",
            bytes.len(),
            SEGMENT_MAGIC.len()
        ),
    }
}

/// Tries every byte offset after `damaged_at` as a frame start, spending at most
/// [`SCAN_BUDGET_BYTES`] of CRC work.
pub(super) fn find_frame_after(bytes: &[u8], damaged_at: usize) -> FollowingFrame {
    let mut budget = SCAN_BUDGET_BYTES;
    let first = damaged_at.saturating_add(1);
    let last = bytes.len().saturating_sub(FRAME_HEADER_BYTES);
    for candidate in first..=last {
        let Ok(frame) = frame_bounds(bytes, candidate) else {
            continue;
        };
        let cost = (frame.len_field.len() + frame.payload.len()) as u64;
        if cost > budget {
            return FollowingFrame::TooCostly;
        }
        budget -= cost;
        if frame_crc(frame.len_field, frame.payload) == frame.stored_crc {
            return FollowingFrame::Found(candidate);
        }
    }
    FollowingFrame::None
}

/// Saves `cut` in quarantine, then truncates the last segment to `offset` (rewriting the header
/// when the header itself was torn) and makes the result durable.
fn cut_torn_tail(
    dir: &Path,
    segment: u32,
    file: &File,
    path: &Path,
    offset: u64,
    reason: String,
    cut: &[u8],
) -> Result<TailCut, LogError> {
    let quarantine_file = if cut.is_empty() { None } else { Some(quarantine(dir, segment, offset, cut)?) };
    file.set_len(offset).map_err(|source| io_error("truncate torn tail of", path, source))?;
    let reason = if offset == 0 {
        file.write_all_at(&SEGMENT_MAGIC, 0).map_err(|source| io_error("rewrite the header of", path, source))?;
        format!("{reason}; the header was rewritten")
    } else {
        reason
    };
    file.sync_all().map_err(|source| io_error("fsync truncated segment", path, source))?;
    Ok(TailCut { segment, offset, bytes_cut: cut.len() as u64, reason, quarantine_file })
}

/// Writes `cut` durably to a new file in the quarantine directory and returns its path.
fn quarantine(dir: &Path, segment: u32, offset: u64, cut: &[u8]) -> Result<PathBuf, LogError> {
    let quarantine_dir = dir.join(QUARANTINE_DIR);
    match fs::create_dir(&quarantine_dir) {
        Ok(()) => sync_directory(dir)?,
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(io_error("create quarantine directory", &quarantine_dir, source));
        }
    }
    let stem = format!("segment-{segment:06}-at-{offset}");
    for attempt in 1u32.. {
        let name = match attempt {
            1 => format!("{stem}.torn"),
            _ => format!("{stem}-{attempt}.torn"),
        };
        let path = quarantine_dir.join(name);
        let file = match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(io_error("create quarantine file", &path, source)),
        };
        file.write_all_at(cut, 0).map_err(|source| io_error("write quarantine file", &path, source))?;
        file.sync_all().map_err(|source| io_error("fsync quarantine file", &path, source))?;
        sync_directory(&quarantine_dir)?;
        return Ok(path);
    }
    Err(io_error("find a free name in", &quarantine_dir, io::Error::from(io::ErrorKind::AlreadyExists)))
}
