//! Recovery when opening: [`RecordLog::open`] reads and checks every segment, tells a torn tail
//! (a crash artefact) from corruption by the rules of [`frame_log`], quarantines and cuts a torn
//! tail before anything else is written, and makes the recovered end the acknowledged mark.
//!
//! The rules it follows are in the module documentation of [`super`] under "Recovery when
//! opening"; this file is their implementation and nothing else.

use std::fs::{self, OpenOptions};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use super::format::{FORMAT, LogPosition, SEGMENT_MAGIC, segment_file_name, segment_path};
use super::read::LogReader;
use super::segments::{check_contiguous, create_segment, ensure_directory, list_segments};
use super::{LogContents, LogError, LogOptions, RecordLog, TailCut, io_error};
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
        ensure_directory(dir)?;
        // The mark is read before the segments, as the scan of a running log must (see `scan`).
        let mark = read_mark(dir)?;
        let numbers = list_segments(dir)?;
        check_contiguous(&numbers)?;
        let Some(&last) = numbers.last() else {
            acknowledged_in_last(mark, 0)?;
            return Ok((Self::create_first_segment(dir, options)?, LogContents::empty()));
        };
        let acknowledged = acknowledged_in_last(mark, last)?;

        let mut frames = Vec::new();
        let mut torn = None;
        let mut last_whole_end = 0u64;
        for &number in &numbers {
            let path = segment_path(dir, number);
            let bytes = fs::read(&path).map_err(|source| io_error("read segment", &path, source))?;
            let is_last = number == last;
            let scan = check_segment(number, &bytes, is_last, acknowledged)?;
            for (offset, payload) in scan.frames {
                frames.push((LogPosition { segment: number, offset }, payload.to_vec()));
            }
            if is_last {
                last_whole_end = scan.whole_end as u64;
                if let Ending::Torn { reason, never_acknowledged } = scan.ending {
                    let cut = bytes.get(scan.whole_end..).unwrap_or_default().to_vec();
                    torn = Some((reason, never_acknowledged, cut));
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
            Some((reason, never_acknowledged, cut)) => {
                let stem = format!("segment-{last:06}-at-{last_whole_end}");
                let quarantine_file = cut_torn_tail(dir, &FORMAT, &file, &last_path, last_whole_end, &cut, &stem)?;
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
            None => None,
        };
        file.sync_data().map_err(|source| io_error("fdatasync", &last_path, source))?;
        sync_directory(dir)?;

        // Everything opened is durable now: it is what the ledger builds on, so it counts as
        // acknowledged from here on (for a log written before marks existed, from now on).
        let current_len = last_whole_end.max(SEGMENT_MAGIC.len() as u64);
        let mark = MarkWriter::start(
            dir,
            Mark { segment: u64::from(last), offset: current_len },
            MARK_THREAD,
            options.mark_pause,
        )?;
        let dir: Arc<Path> = Arc::from(dir);
        let log = RecordLog {
            reader: LogReader::new(Arc::clone(&dir)),
            dir,
            options,
            segment: last,
            current: Arc::new(file),
            current_path: Arc::from(last_path.as_path()),
            current_len,
            frame_count: frames.len() as u64,
            appended_bytes: 0,
            poisoned: Arc::new(AtomicBool::new(false)),
            released: Arc::new(AtomicU64::new(0)),
            mark,
        };
        Ok((log, LogContents { frames, tail_cut }))
    }

    fn create_first_segment(dir: &Path, options: LogOptions) -> Result<RecordLog, LogError> {
        let path = segment_path(dir, 1);
        let file = create_segment(dir, &path)?;
        // The header is durable (`create_segment` fsynced it), and nothing follows it yet.
        let mark = MarkWriter::start(
            dir,
            Mark { segment: 1, offset: SEGMENT_MAGIC.len() as u64 },
            MARK_THREAD,
            options.mark_pause,
        )?;
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
            mark,
        })
    }
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
