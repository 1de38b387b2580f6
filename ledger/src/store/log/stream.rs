//! Streaming frames in log order: [`LogReader::frames_between`] and its iterator, [`LogFrames`].
//!
//! Rebuilding what is derived from the log, or catching a state store up with the records after
//! the last one it covers, reads many frames in order, possibly the whole log (gigabytes). So a
//! stream reads each segment sequentially through a buffer of [`STREAM_BUFFER_BYTES`] and holds
//! one frame at a time, never a segment, and it checks every frame with the checks of
//! `frame_log` that opening and reading back use (length, then CRC), because the frames it reads
//! may never have been checked since the log was written: [`RecordLog::open_tail`] reads only
//! the last segment.
//!
//! [`RecordLog::open_tail`]: super::RecordLog::open_tail

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use super::format::{FORMAT, FRAME_HEADER_BYTES, LogPosition, SEGMENT_MAGIC, check_position_shape, segment_path};
use super::read::LogReader;
use super::segments::check_header;
use super::{LogError, io_error};
use crate::store::frame_log::FrameDamage;

/// The read buffer of a [`LogFrames`] stream (1 MiB): big enough that sequential reads cost few
/// system calls, small next to a segment (64 MiB by default), which is never read whole.
pub const STREAM_BUFFER_BYTES: usize = 1 << 20;

impl LogReader {
    /// Streams the frames strictly after `after` (`None`: from the first frame of the first
    /// segment) and before `end`, in log order, with their positions.
    ///
    /// Segments are read one after the other through a buffer of [`STREAM_BUFFER_BYTES`]; the
    /// stream holds that buffer and one frame, never a whole segment. Every frame is checked as
    /// reading back checks it (its length, then its CRC), and so is every segment's header;
    /// damage is a [`LogError::Corrupt`] naming the segment and offset, and ends the stream.
    /// Crossing from one segment to the next is seamless: a segment before `end`'s must end
    /// exactly after its last whole frame.
    ///
    /// `end` must lie in an existing segment, no further than its file reaches, and must be
    /// where a frame ends (the end [`RecordLog::open_tail`](super::RecordLog::open_tail)
    /// reports, or the position of a later frame); `after`, when given, must be the position of
    /// a frame before `end`, which is read and checked first: anything else is
    /// [`LogError::BadPosition`], the first item of the stream. The last frame before `end`, as
    /// `after`, yields an empty stream.
    ///
    /// The log may keep appending meanwhile: bytes past `end` are never returned.
    pub fn frames_between(&self, after: Option<LogPosition>, end: LogPosition) -> LogFrames {
        LogFrames {
            dir: Arc::clone(&self.dir),
            end,
            start: Some(after),
            next: end,
            reader: None,
            frame: Vec::new(),
            finished: false,
        }
    }
}

/// The iterator [`LogReader::frames_between`] returns: each frame's position and payload in log
/// order, or the error that ends the stream, then nothing.
#[derive(Debug)]
pub struct LogFrames {
    dir: Arc<Path>,
    end: LogPosition,
    /// The `after` the stream was asked for, until the first call to `next` checks it (and
    /// `end`) and places the stream past it.
    start: Option<Option<LogPosition>>,
    /// Where the next frame starts.
    next: LogPosition,
    /// `next`'s segment, opened, its header checked, and read up to `next`; `None` until the
    /// stream needs it.
    reader: Option<BufReader<File>>,
    /// The frame being read, header and payload; reused, so that memory holds one frame.
    frame: Vec<u8>,
    /// Set after the last item, an error included, so that the stream ends for good.
    finished: bool,
}

impl Iterator for LogFrames {
    type Item = Result<(LogPosition, Vec<u8>), LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let item = self.advance().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.finished = true;
            // The file and the buffers are of no more use.
            self.reader = None;
            self.frame = Vec::new();
        }
        item
    }
}

impl LogFrames {
    /// The next frame, `None` at `end`, or the error that ends the stream.
    fn advance(&mut self) -> Result<Option<(LogPosition, Vec<u8>)>, LogError> {
        if let Some(after) = self.start.take() {
            self.begin(after)?;
        }
        while self.next < self.end {
            let at = self.next;
            match self.read_next() {
                Ok(true) => {
                    self.next.offset = at.offset + self.frame.len() as u64;
                    let payload = self.frame.get(FRAME_HEADER_BYTES..).unwrap_or_default().to_vec();
                    return Ok(Some((at, payload)));
                }
                Ok(false) => {
                    // A segment before `end`'s ended after its last frame. Its number is below
                    // `end`'s, so the next one's does not overflow.
                    self.reader = None;
                    let segment = at.segment.saturating_add(1);
                    self.next = LogPosition { segment, offset: SEGMENT_MAGIC.len() as u64 };
                }
                Err(Unreadable::Damaged(reason)) => {
                    return Err(LogError::Corrupt { segment: at.segment, offset: at.offset, reason });
                }
                Err(Unreadable::Failed(error)) => return Err(error),
            }
        }
        Ok(None)
    }

    /// Checks `end` and `after` and places the stream just past `after` (or at the first
    /// segment's first frame).
    fn begin(&mut self, after: Option<LogPosition>) -> Result<(), LogError> {
        let end = self.end;
        check_position_shape(end)?;
        let end_path = segment_path(&self.dir, end.segment);
        let end_len = match fs::metadata(&end_path) {
            Ok(metadata) => metadata.len(),
            Err(source) if source.kind() == io::ErrorKind::NotFound => {
                let reason = format!("the stream's end, {end}, lies in a segment that does not exist");
                return Err(LogError::BadPosition { reason });
            }
            Err(source) => return Err(io_error("inspect segment", &end_path, source)),
        };
        if end_len < end.offset {
            let reason = format!("the stream's end, {end}, lies past the end of the file ({end_len} bytes)");
            return Err(LogError::BadPosition { reason });
        }
        let Some(after) = after else {
            self.next = LogPosition { segment: 1, offset: SEGMENT_MAGIC.len() as u64 };
            return Ok(());
        };
        check_position_shape(after)?;
        if after >= end {
            let reason = format!("{after} is not before the stream's end, {end}");
            return Err(LogError::BadPosition { reason });
        }
        // Reading the frame at `after`, CRC included, is what tells a frame's position from any
        // other offset (as `read_at` does), and it gives the length to skip.
        self.next = after;
        match self.read_next() {
            Ok(true) => {
                self.next.offset = after.offset + self.frame.len() as u64;
                Ok(())
            }
            Ok(false) => {
                let reason = format!("no frame starts at {after}: the segment file ends before it");
                Err(LogError::BadPosition { reason })
            }
            Err(Unreadable::Damaged(reason)) => Err(LogError::BadPosition {
                reason: format!(
                    "no whole frame starts at {after} ({reason}): it is not the position of a \
                     frame of this log, or the frame there is damaged"
                ),
            }),
            Err(Unreadable::Failed(error)) => Err(error),
        }
    }

    /// Reads the frame at `next` into `frame` and checks it; `Ok(false)` when `next`'s segment,
    /// one before `end`'s, ends exactly there.
    fn read_next(&mut self) -> Result<bool, Unreadable> {
        let at = self.next;
        // In `end`'s segment a frame must end by `end`; the file may go on (the log appends).
        let room = (at.segment == self.end.segment).then(|| self.end.offset.saturating_sub(at.offset));
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => {
                let path = segment_path(&self.dir, at.segment);
                self.reader.insert(open_segment_at(&path, at, self.end).map_err(Unreadable::Failed)?)
            }
        };
        read_frame(reader, &mut self.frame, room).map_err(|error| match error {
            FrameError::Damaged(reason) => Unreadable::Damaged(reason),
            FrameError::Io(source) => {
                Unreadable::Failed(io_error("read a frame from", &segment_path(&self.dir, at.segment), source))
            }
        })
    }

    /// How many bytes the stream holds in buffers: its read buffer and its frame.
    #[cfg(test)]
    pub(super) fn buffered_bytes(&self) -> usize {
        self.reader.as_ref().map_or(0, BufReader::capacity) + self.frame.capacity()
    }
}

/// Why the frame at the stream's position was not read.
enum Unreadable {
    /// The bytes there are not a whole, valid frame that ends by the stream's end.
    Damaged(String),
    /// The segment could not be opened, its header is bad, or reading failed.
    Failed(LogError),
}

/// Why [`read_frame`] returned no frame.
enum FrameError {
    Damaged(String),
    Io(io::Error),
}

/// Opens segment `at.segment` at `path`, checks its header and returns a buffered reader placed
/// at `at.offset`.
fn open_segment_at(path: &Path, at: LogPosition, end: LogPosition) -> Result<BufReader<File>, LogError> {
    let mut file = File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => LogError::Corrupt {
            segment: at.segment,
            offset: 0,
            reason: format!(
                "the segment file is missing, yet the stream's end lies in a later one ({end}); \
                 segment numbers must run contiguously from 1"
            ),
        },
        _ => io_error("open for reading", path, source),
    })?;
    check_header(at.segment, &file, path)?;
    file.seek(SeekFrom::Start(at.offset)).map_err(|source| io_error("seek in", path, source))?;
    Ok(BufReader::with_capacity(STREAM_BUFFER_BYTES, file))
}

/// Reads the frame that starts where `reader` is into `frame` (its header, then its payload) and
/// checks it as `frame_log` checks every frame. `room` is how many bytes the frame may take
/// before the stream's end, in `end`'s segment; elsewhere (`None`) the file may end instead,
/// before the frame's first byte: then `Ok(false)`.
fn read_frame(reader: &mut impl Read, frame: &mut Vec<u8>, room: Option<u64>) -> Result<bool, FrameError> {
    frame.clear();
    if let Some(room) = room
        && room < FRAME_HEADER_BYTES as u64
    {
        return Err(FrameError::Damaged(format!(
            "only {room} bytes are left before the stream's end, fewer than a frame header; the \
             end is not where a frame ends"
        )));
    }
    fill(reader, frame, FRAME_HEADER_BYTES)?;
    if frame.is_empty() && room.is_none() {
        return Ok(false);
    }
    // `check_frame` on the header alone checks the length field (which must be at most the
    // format's maximum before anything is allocated for it) and says how long the payload is;
    // an empty payload is then already whole and checked.
    let len = match FORMAT.check_frame(frame, 0) {
        Ok(_) => 0,
        Err(FrameDamage::PastEnd { len, .. }) => len,
        Err(damage) => return Err(damaged(damage, room)),
    };
    let total = FRAME_HEADER_BYTES + len;
    if let Some(room) = room
        && room < total as u64
    {
        return Err(FrameError::Damaged(format!(
            "a frame of {len} payload bytes would run {} bytes past the stream's end; its length \
             field is damaged, or the end is not where a frame ends",
            total as u64 - room
        )));
    }
    if len > 0 {
        fill(reader, frame, total)?;
        FORMAT.check_frame(frame, 0).map_err(|damage| damaged(damage, room))?;
    }
    Ok(true)
}

/// The reason for damage found by [`read_frame`], with why it cannot be a torn write: in a
/// segment before the stream's end, only the log's last segment may end in one.
fn damaged(damage: FrameDamage, room: Option<u64>) -> FrameError {
    FrameError::Damaged(match room {
        Some(_) => damage.to_string(),
        None => format!("{damage}; only the last segment may end in a torn write"),
    })
}

/// Reads from `reader` until `frame` is `total` bytes long or the file ends, growing `frame` by
/// no more than that.
fn fill(reader: &mut impl Read, frame: &mut Vec<u8>, total: usize) -> Result<(), FrameError> {
    let missing = total.saturating_sub(frame.len());
    frame.reserve_exact(missing);
    reader.by_ref().take(missing as u64).read_to_end(frame).map_err(FrameError::Io)?;
    Ok(())
}
