//! Recovery when opening: [`RecordLog::open`] reads and checks every segment, tells a torn tail
//! (a crash artefact) from corruption by the rules of [`frame_log`], quarantines and cuts a torn
//! tail before anything else is written, and makes the recovered end the acknowledged mark.
//!
//! The rules it follows are in the module documentation of [`super`] under "Recovery when
//! opening"; this file is their implementation and nothing else. [`RecordLog::open_tail`]
//! (`open_tail`) lists the segments and recovers the last one with the same code, so that both
//! ways of opening judge and cut a torn tail identically.

use std::fs::{self, File, OpenOptions};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use super::format::{FORMAT, LogPosition, SEGMENT_MAGIC, segment_file_name, segment_path};
use super::read::LogReader;
use super::segments::{check_contiguous, create_segment, ensure_directory, list_segments};
use super::{FramesAtOpen, LogContents, LogError, LogOptions, RecordLog, TailCut, io_error};
use crate::store::frame_log::{
    Acknowledged, Ending, MARK_FILE, Mark, MarkWriter, SegmentScan, cut_torn_tail, read_mark, scan_segment,
    sync_directory,
};

/// The name of the thread that keeps a record log's acknowledged mark up to date.
const MARK_THREAD: &str = "salvage-log-mark";

impl RecordLog {
    /// Opens the log in `dir`, creating the directory and an empty first segment if it does not
    /// exist, and returns every payload it holds.
    ///
    /// A torn tail on the last segment is quarantined, cut off and reported; any other damage is
    /// refused with [`LogError::Corrupt`] without touching the disk (see the module
    /// documentation). On success the last segment and the directory have been fsynced, so
    /// everything returned is durable, and the acknowledged mark says so.
    pub fn open(dir: &Path, options: LogOptions) -> Result<(RecordLog, LogContents), LogError> {
        let Some(listed) = list_for_open(dir)? else {
            return Ok((Self::create_first_segment(dir, options)?, LogContents::empty()));
        };
        let mut frames = Vec::new();
        let mut keep = |number: u32, scan: &mut SegmentScan<'_>| {
            let found = std::mem::take(&mut scan.frames).into_iter();
            frames.extend(found.map(|(offset, payload)| (LogPosition { segment: number, offset }, payload.to_vec())));
        };
        for &number in &listed.earlier {
            let bytes = read_segment(dir, number)?;
            keep(number, &mut check_segment(number, &bytes, false, listed.acknowledged)?);
        }
        let bytes = read_segment(dir, listed.last)?;
        let mut scan = check_segment(listed.last, &bytes, true, listed.acknowledged)?;
        keep(listed.last, &mut scan);

        // Only now, with every segment checked, may the log change anything on disk.
        let frames_at_open = FramesAtOpen::Counted(frames.len() as u64);
        let (log, tail_cut) = Self::recover_last(dir, options, listed.last, &bytes, scan, frames_at_open)?;
        Ok((log, LogContents { frames, tail_cut }))
    }

    /// The part of opening that writes: cuts the torn tail that `scan` (the check of `bytes`,
    /// the last segment, numbered `last`) found, if any, fsyncs the segment and the directory,
    /// makes the recovered end the acknowledged mark and starts the log there. Callers must
    /// have checked everything they check before, because this changes the disk.
    pub(super) fn recover_last(
        dir: &Path,
        options: LogOptions,
        last: u32,
        bytes: &[u8],
        scan: SegmentScan<'_>,
        frames_at_open: FramesAtOpen,
    ) -> Result<(RecordLog, Option<TailCut>), LogError> {
        let last_whole_end = scan.whole_end as u64;
        let last_path = segment_path(dir, last);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&last_path)
            .map_err(|source| io_error("open for appending", &last_path, source))?;
        let tail_cut = match scan.ending {
            Ending::Torn { reason, never_acknowledged } => {
                let cut = bytes.get(scan.whole_end..).unwrap_or_default();
                let stem = format!("segment-{last:06}-at-{last_whole_end}");
                let quarantine_file = cut_torn_tail(dir, &FORMAT, &file, &last_path, last_whole_end, cut, &stem)?;
                let reason = if last_whole_end == 0 { format!("{reason}; the header was rewritten") } else { reason };
                Some(TailCut {
                    segment: last,
                    offset: last_whole_end,
                    bytes_cut: cut.len() as u64,
                    reason,
                    never_acknowledged,
                    quarantine_file,
                })
            }
            // `check_segment` refused damage; a clean end has nothing to cut.
            Ending::Clean | Ending::Damaged { .. } => None,
        };
        file.sync_data().map_err(|source| io_error("fdatasync", &last_path, source))?;
        sync_directory(dir)?;

        // Everything opened is durable now: it is what the ledger builds on, so it counts as
        // acknowledged from here on (for a log written before marks existed, from now on).
        let current_len = last_whole_end.max(SEGMENT_MAGIC.len() as u64);
        let log = Self::start(dir, options, last, file, &last_path, current_len, frames_at_open)?;
        Ok((log, tail_cut))
    }

    pub(super) fn create_first_segment(dir: &Path, options: LogOptions) -> Result<RecordLog, LogError> {
        let path = segment_path(dir, 1);
        let file = create_segment(dir, &path)?;
        // The header is durable (`create_segment` fsynced it), and nothing follows it yet.
        let header = SEGMENT_MAGIC.len() as u64;
        let mut log = Self::start(dir, options, 1, file, &path, header, FramesAtOpen::Counted(0))?;
        log.appended_bytes = header;
        Ok(log)
    }

    /// Starts a log whose current segment is `file`, `current_len` bytes of durable header and
    /// whole frames, with the mark's thread and the mark at its end.
    fn start(
        dir: &Path,
        options: LogOptions,
        segment: u32,
        file: File,
        path: &Path,
        current_len: u64,
        frames_at_open: FramesAtOpen,
    ) -> Result<RecordLog, LogError> {
        let mark = MarkWriter::start(
            dir,
            Mark { segment: u64::from(segment), offset: current_len },
            MARK_THREAD,
            options.mark_pause,
        )?;
        let dir: Arc<Path> = Arc::from(dir);
        Ok(RecordLog {
            reader: LogReader::new(Arc::clone(&dir)),
            dir,
            options,
            segment,
            current: Arc::new(file),
            current_path: Arc::from(path),
            current_len,
            frames_at_open,
            frames_appended: 0,
            appended_bytes: 0,
            poisoned: Arc::new(AtomicBool::new(false)),
            released: Arc::new(AtomicU64::new(0)),
            mark,
        })
    }
}

/// The segments of a log being opened: listed, numbered without gaps, and checked against the
/// acknowledged mark.
pub(super) struct Listed {
    /// Every segment before the last, in order.
    pub(super) earlier: Vec<u32>,
    /// The last segment, the only one a crash can have torn.
    pub(super) last: u32,
    /// What the acknowledged mark says of the last segment.
    pub(super) acknowledged: Acknowledged,
}

/// Creates the log directory if it does not exist, reads the mark, lists the segments and
/// checks their numbering and the mark; `None` when the log has no segment yet (and the mark
/// names none).
pub(super) fn list_for_open(dir: &Path) -> Result<Option<Listed>, LogError> {
    ensure_directory(dir)?;
    // The mark is read before the segments, as the scan of a running log must (see `scan`).
    let mark = read_mark(dir)?;
    let mut numbers = list_segments(dir)?;
    check_contiguous(&numbers)?;
    let Some(last) = numbers.pop() else {
        acknowledged_in_last(mark, 0)?;
        return Ok(None);
    };
    let acknowledged = acknowledged_in_last(mark, last)?;
    Ok(Some(Listed { earlier: numbers, last, acknowledged }))
}

/// Reads a whole segment file into memory.
pub(super) fn read_segment(dir: &Path, number: u32) -> Result<Vec<u8>, LogError> {
    let path = segment_path(dir, number);
    fs::read(&path).map_err(|source| io_error("read segment", &path, source))
}

/// What the acknowledged mark (`None`: the log has none) says of segment `last`, the last one
/// (0 when the log has no segment); a mark naming a later segment is refused, because
/// acknowledged segments are then missing.
pub(super) fn acknowledged_in_last(mark: Option<Mark>, last: u32) -> Result<Acknowledged, LogError> {
    let Some(mark) = mark else {
        return Ok(Acknowledged::Unknown);
    };
    mark.in_last_segment(u64::from(last)).ok_or_else(|| {
        let segment = u32::try_from(mark.segment).unwrap_or(u32::MAX);
        LogError::Corrupt {
            segment,
            offset: 0,
            reason: format!(
                "the acknowledged mark ({MARK_FILE}) says the first {} bytes of {} were acknowledged, \
                 but the log's last segment is {}: acknowledged segments are missing",
                mark.offset,
                segment_file_name(segment),
                if last == 0 { "none".to_owned() } else { segment_file_name(last) }
            ),
        }
    })
}

/// Checks one segment's bytes as opening does; damage that is not a torn tail is refused.
pub(super) fn check_segment(
    number: u32,
    bytes: &[u8],
    is_last: bool,
    acknowledged: Acknowledged,
) -> Result<SegmentScan<'_>, LogError> {
    let scan = scan_segment(&FORMAT, bytes, is_last, acknowledged);
    if let Ending::Damaged { offset, reason } = &scan.ending {
        return Err(LogError::Corrupt { segment: number, offset: *offset, reason: reason.clone() });
    }
    Ok(scan)
}
