//! Opening without reading the whole log: [`RecordLog::open_tail`].
//!
//! A ledger whose state lives in a store of its own, which remembers the position of the last
//! record it covers, needs of the log only its end and the frames after that position. Reading
//! ten gigabytes of segments at every start to find that end would be wasted, and holding them
//! in memory impossible. Only the last segment can end in a torn write (every earlier one was
//! fdatasynced before the next was created), so only the last one needs the opening scan; the
//! frames before it are checked when they are read ([`LogReader::frames_between`](super::LogReader::frames_between)).

use std::fs::File;
use std::path::Path;

use super::format::{LogPosition, SEGMENT_MAGIC, segment_path};
use super::recovery::{check_segment, list_for_open, read_segment};
use super::segments::check_header;
use super::{FramesAtOpen, LogError, LogOptions, LogTail, RecordLog, io_error};

impl RecordLog {
    /// Opens the log in `dir` like [`RecordLog::open`], but reads and checks only the last
    /// segment, where a crash can leave a torn tail, which is quarantined, cut and reported
    /// exactly as `open` does; returns the log's end and first frame instead of its payloads.
    ///
    /// The earlier segments are listed (their numbers must run without gaps, as for `open`) and
    /// their 8-byte headers checked, but their frames are not read: damage inside them is not
    /// found here, but by whatever reads them ([`LogReader::frames_between`](super::LogReader::frames_between),
    /// [`RecordLog::read_at`]), as [`LogError::Corrupt`]. Everything else `open` refuses, this
    /// refuses too, without touching the disk. Memory: the last segment is read whole, as
    /// `open` reads it (at most [`LogOptions::segment_bytes`], or one frame bigger than that).
    ///
    /// A log opened this way does not know how many frames it holds: its
    /// [`frame_count`](RecordLog::frame_count) is `None` (its `is_empty` is exact).
    pub fn open_tail(dir: &Path, options: LogOptions) -> Result<(RecordLog, LogTail), LogError> {
        let Some(listed) = list_for_open(dir)? else {
            let log = Self::create_first_segment(dir, options)?;
            let end = LogPosition { segment: log.segment, offset: log.current_len };
            return Ok((log, LogTail { tail_cut: None, end, first: None }));
        };
        let mut first = None;
        for &number in &listed.earlier {
            let path = segment_path(dir, number);
            let file = File::open(&path).map_err(|source| io_error("open for reading", &path, source))?;
            let len = check_header(number, &file, &path)?;
            // A segment before the last was complete when the next one was created: nothing but
            // whole frames follow its header, so the first one starts right after it.
            if first.is_none() && len > SEGMENT_MAGIC.len() as u64 {
                first = Some(LogPosition { segment: number, offset: SEGMENT_MAGIC.len() as u64 });
            }
        }
        let bytes = read_segment(dir, listed.last)?;
        let scan = check_segment(listed.last, &bytes, true, listed.acknowledged)?;
        if first.is_none()
            && let Some(&(offset, _)) = scan.frames.first()
        {
            first = Some(LogPosition { segment: listed.last, offset });
        }

        // Only now, with every header and the last segment checked, may the log change the disk.
        let frames_at_open = FramesAtOpen::NotCounted { any: first.is_some() };
        let (log, tail_cut) = Self::recover_last(dir, options, listed.last, &bytes, scan, frames_at_open)?;
        let end = LogPosition { segment: log.segment, offset: log.current_len };
        Ok((log, LogTail { tail_cut, end, first }))
    }
}
