//! Reading a log without opening it: [`scan`] yields every payload in log order and reports
//! damage as an error item, changing nothing on disk.
//!
//! An auditor reads a node's data directory while the node may be running. Opening the log
//! ([`RecordLog::open`](super::RecordLog::open)) would cut a torn tail and fsync files, and the
//! ledger would take the directory's lock; a scan does none of that. It only lists the segment
//! files and reads them, one whole segment at a time, checking every frame as opening does
//! (with the same code, `frame_log::scan_segment`).
//!
//! What it reports, as the last item before it stops:
//!
//! * [`LogError::TornTail`] when the last segment ends in damage that a crash during a write
//!   explains (the same rules as opening uses, the acknowledged mark included). A node that is running may be writing that very
//!   frame, so the scan reads the segment again a few times, briefly pausing in between, before
//!   it calls the tail torn.
//! * [`LogError::Corrupt`] for any other damage: a bad segment header, a damaged frame in a
//!   segment before the last, a damaged frame followed by a valid one, a missing segment number.
//! * [`LogError::Io`] or [`LogError::UnexpectedFile`] when the directory or a segment cannot be
//!   read or a file is named like a segment but not spelled canonically.
//!
//! Segments created after the scan listed the directory are not read: the scan sees the log as
//! it was when it started, plus whatever was appended to the segments it listed.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::LogError;
use super::format::{FORMAT, FRAME_HEADER_BYTES};
use super::recovery::{acknowledged_in_last, read_segment};
use super::segments::{check_contiguous, list_segments};
use crate::store::frame_log::{Acknowledged, Ending, read_mark, scan_segment};

/// How often a torn-looking tail is read again before it is reported, and the pause before
/// each new read: a running node finishes writing a frame in far less time than this.
const TAIL_RETRY_PAUSES: [Duration; 3] =
    [Duration::from_millis(20), Duration::from_millis(80), Duration::from_millis(200)];

/// Reads the log in `dir` without opening it: every payload in log order, then at most one
/// error naming the damage that ended the scan (see the module documentation).
///
/// Nothing is written, locked or fsynced, so the log may belong to a running node.
pub fn scan(dir: &Path) -> LogScan {
    LogScan {
        dir: dir.to_path_buf(),
        segments: None,
        acknowledged: Acknowledged::Unknown,
        current: None,
        finished: false,
    }
}

/// The iterator [`scan`] returns: payloads, then at most one error, then nothing.
#[derive(Debug)]
pub struct LogScan {
    dir: PathBuf,
    /// The segment numbers still to read, last first (so `pop` gives the next); `None` until
    /// the directory has been listed.
    segments: Option<Vec<u32>>,
    /// What the acknowledged mark says of the last segment, read before the listing.
    acknowledged: Acknowledged,
    /// The segment being read.
    current: Option<SegmentCursor>,
    /// Set after the last item, an error included, so the scan ends for good.
    finished: bool,
}

/// A segment file read into memory and checked: its frames, how far the scan got in them, and
/// the error its end is, if any.
#[derive(Debug)]
struct SegmentCursor {
    bytes: Vec<u8>,
    /// The payloads' ranges in `bytes`, not yet yielded, last first.
    payloads: Vec<Range<usize>>,
    /// The damage or torn tail the segment ends in, yielded after its payloads.
    ending: Option<LogError>,
}

impl Iterator for LogScan {
    type Item = Result<Vec<u8>, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let item = self.advance();
        if !matches!(item, Some(Ok(_))) {
            self.finished = true;
        }
        item
    }
}

impl LogScan {
    /// The next payload, the error that ends the scan, or `None` at the end of the log.
    fn advance(&mut self) -> Option<Result<Vec<u8>, LogError>> {
        loop {
            if self.current.is_none() {
                let segments = match &mut self.segments {
                    Some(segments) => segments,
                    None => match list(&self.dir) {
                        Ok((segments, acknowledged)) => {
                            self.acknowledged = acknowledged;
                            self.segments.insert(segments)
                        }
                        Err(error) => return Some(Err(error)),
                    },
                };
                let number = segments.pop()?;
                let is_last = segments.is_empty();
                match self.read_segment(number, is_last) {
                    Ok(cursor) => self.current = Some(cursor),
                    Err(error) => return Some(Err(error)),
                }
            }
            let cursor = self.current.as_mut()?;
            if let Some(range) = cursor.payloads.pop() {
                return Some(Ok(cursor.bytes.get(range).unwrap_or_default().to_vec()));
            }
            if let Some(error) = cursor.ending.take() {
                return Some(Err(error));
            }
            self.current = None;
        }
    }

    /// Reads and checks a segment. A last segment that ends in a torn-looking tail is read again
    /// a few times first: a running node may be writing (or creating) it, and it only ever
    /// grows at its end while the node runs.
    fn read_segment(&self, number: u32, is_last: bool) -> Result<SegmentCursor, LogError> {
        let mut pauses = TAIL_RETRY_PAUSES.iter();
        loop {
            let bytes = read_segment(&self.dir, number)?;
            let scan = scan_segment(&FORMAT, &bytes, is_last, self.acknowledged);
            let ending = match scan.ending {
                Ending::Clean => None,
                Ending::Damaged { offset, reason } => Some(LogError::Corrupt { segment: number, offset, reason }),
                Ending::Torn { reason, .. } => match pauses.next() {
                    Some(pause) => {
                        std::thread::sleep(*pause);
                        continue;
                    }
                    None => Some(LogError::TornTail { segment: number, offset: scan.whole_end as u64, reason }),
                },
            };
            let payloads = scan
                .frames
                .iter()
                .rev()
                .map(|(offset, payload)| {
                    let start = *offset as usize + FRAME_HEADER_BYTES;
                    start..start + payload.len()
                })
                .collect();
            return Ok(SegmentCursor { bytes, payloads, ending });
        }
    }
}

/// Lists the segments, last first, refusing gaps in their numbering, with what the acknowledged
/// mark says of the last one.
///
/// The mark is read first: it only ever names bytes that were durable when it was written, so
/// every byte it names is in the segments as they are read after it, even while a node appends.
fn list(dir: &Path) -> Result<(Vec<u32>, Acknowledged), LogError> {
    let mark = read_mark(dir)?;
    let mut numbers = list_segments(dir)?;
    check_contiguous(&numbers)?;
    let acknowledged = acknowledged_in_last(mark, numbers.last().copied().unwrap_or(0))?;
    numbers.reverse();
    Ok((numbers, acknowledged))
}

#[cfg(test)]
// Tests unwrap freely: a panic with the error's Debug output is exactly the failure report wanted.
#[allow(clippy::unwrap_used)]
mod tests {
    use std::fs::{self, OpenOptions};
    use std::io::Write;

    use super::super::format::segment_path;
    use super::super::tests::snapshot;
    use super::super::{LogOptions, RecordLog, SEGMENT_MAGIC};
    use super::*;

    /// Small segments, so that a few payloads span several of them.
    fn tiny() -> LogOptions {
        LogOptions { segment_bytes: 96, ..LogOptions::default() }
    }

    fn payload(index: usize) -> Vec<u8> {
        format!("{{\"record\":{index},\"pad\":\"{}\"}}", "x".repeat(index % 7)).into_bytes()
    }

    /// Writes `count` payloads into a fresh log in `dir` and closes it.
    fn build(dir: &Path, count: usize) -> Vec<Vec<u8>> {
        let (mut log, _) = RecordLog::open(dir, tiny()).unwrap();
        let payloads: Vec<_> = (0..count).map(payload).collect();
        for bytes in &payloads {
            log.append(bytes).unwrap();
        }
        log.sync().unwrap();
        payloads
    }

    /// The payloads a scan yields before its error, and the error.
    fn split(dir: &Path) -> (Vec<Vec<u8>>, Option<LogError>) {
        let mut payloads = Vec::new();
        let mut scan = scan(dir);
        for item in scan.by_ref() {
            match item {
                Ok(payload) => payloads.push(payload),
                Err(error) => {
                    assert!(scan.next().is_none(), "the scan went on after an error");
                    return (payloads, Some(error));
                }
            }
        }
        (payloads, None)
    }

    #[test]
    fn a_sound_log_of_several_segments_is_read_in_order_without_touching_it() {
        let dir = tempfile::tempdir().unwrap();
        let written = build(dir.path(), 25);
        assert!(segment_path(dir.path(), 3).exists(), "the test needs several segments");
        let before = snapshot(dir.path());
        let (payloads, error) = split(dir.path());
        assert!(error.is_none(), "{error:?}");
        assert_eq!(payloads, written);
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn a_log_without_frames_yields_nothing() {
        let dir = tempfile::tempdir().unwrap();
        build(dir.path(), 0);
        assert!(scan(dir.path()).next().is_none());
    }

    #[test]
    fn a_torn_tail_is_reported_as_such_and_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let written = build(dir.path(), 25);
        let last = *list_segments(dir.path()).unwrap().last().unwrap();
        let path = segment_path(dir.path(), last);
        let whole = fs::metadata(&path).unwrap().len();
        // Half a frame header, as a crash in the middle of a write leaves it.
        OpenOptions::new().append(true).open(&path).unwrap().write_all(&[5, 0, 0]).unwrap();
        let before = snapshot(dir.path());
        let (payloads, error) = split(dir.path());
        assert_eq!(payloads, written);
        match error {
            Some(LogError::TornTail { segment, offset, reason }) => {
                assert_eq!((segment, offset), (last, whole));
                assert!(reason.contains("partial frame header"), "{reason}");
            }
            other => panic!("expected a torn tail, got {other:?}"),
        }
        assert_eq!(snapshot(dir.path()), before, "the scan changed the log");
    }

    #[test]
    fn a_damaged_frame_before_the_last_segment_is_corruption_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let written = build(dir.path(), 25);
        let path = segment_path(dir.path(), 1);
        let mut bytes = fs::read(&path).unwrap();
        let second_frame = SEGMENT_MAGIC.len() + 8 + written[0].len();
        // A payload byte of the second frame.
        bytes[second_frame + 10] ^= 0x20;
        fs::write(&path, &bytes).unwrap();
        let (payloads, error) = split(dir.path());
        assert_eq!(payloads, written[..1]);
        match error {
            Some(LogError::Corrupt { segment: 1, offset, reason }) => {
                assert_eq!(offset, second_frame as u64);
                assert!(reason.contains("CRC mismatch"), "{reason}");
            }
            other => panic!("expected corruption in segment 1, got {other:?}"),
        }
    }

    #[test]
    fn a_damaged_frame_followed_by_a_valid_one_in_the_last_segment_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = RecordLog::open(dir.path(), LogOptions::default()).unwrap();
        for index in 0..3 {
            log.append(&payload(index)).unwrap();
        }
        log.sync().unwrap();
        drop(log);
        let path = segment_path(dir.path(), 1);
        let mut bytes = fs::read(&path).unwrap();
        bytes[SEGMENT_MAGIC.len() + 9] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let (payloads, error) = split(dir.path());
        assert!(payloads.is_empty());
        assert!(
            matches!(&error, Some(LogError::Corrupt { segment: 1, offset: 8, reason }) if reason.contains("acknowledged mark")),
            "{error:?}"
        );
    }

    #[test]
    fn a_hole_past_the_acknowledged_mark_is_a_torn_tail_even_with_frames_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = RecordLog::open(dir.path(), LogOptions::default()).unwrap();
        let acknowledged: Vec<_> = (0..3).map(payload).collect();
        for bytes in &acknowledged {
            log.append(bytes).unwrap();
        }
        log.sync().unwrap();
        // Never synced: after a power cut the first of these may be a hole, the others whole.
        let hole = log.append(&payload(3)).unwrap();
        let after = log.append(&payload(4)).unwrap();
        log.append(&payload(5)).unwrap();
        drop(log);
        let path = segment_path(dir.path(), 1);
        let mut bytes = fs::read(&path).unwrap();
        bytes[hole.offset as usize..after.offset as usize].fill(0);
        fs::write(&path, &bytes).unwrap();

        let (payloads, error) = split(dir.path());
        assert_eq!(payloads, acknowledged);
        assert!(
            matches!(&error, Some(LogError::TornTail { segment: 1, offset, reason }) if *offset == hole.offset && reason.contains("never acknowledged")),
            "{error:?}"
        );
    }

    #[test]
    fn a_missing_segment_or_directory_is_an_error_item() {
        let dir = tempfile::tempdir().unwrap();
        build(dir.path(), 25);
        fs::remove_file(segment_path(dir.path(), 2)).unwrap();
        let (payloads, error) = split(dir.path());
        assert!(payloads.is_empty());
        assert!(matches!(error, Some(LogError::Corrupt { segment: 2, .. })), "{error:?}");

        let (_, error) = split(&dir.path().join("nowhere"));
        assert!(matches!(error, Some(LogError::Io { .. })), "{error:?}");
    }

    #[test]
    fn a_scan_while_the_log_grows_sees_a_sound_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = RecordLog::open(dir.path(), tiny()).unwrap();
        let total = 400;
        let writer = std::thread::spawn(move || {
            for index in 0..total {
                log.append(&payload(index)).unwrap();
                if index % 10 == 0 {
                    log.sync().unwrap();
                }
            }
        });
        let mut longest = 0;
        while !writer.is_finished() {
            let (payloads, error) = split(dir.path());
            assert!(error.is_none(), "a scan of a growing log failed: {error:?}");
            assert_eq!(payloads, (0..payloads.len()).map(payload).collect::<Vec<_>>());
            longest = longest.max(payloads.len());
        }
        writer.join().unwrap();
        let (payloads, error) = split(dir.path());
        assert!(error.is_none(), "{error:?}");
        assert_eq!(payloads.len(), total);
        assert!(longest <= total);
    }
}
