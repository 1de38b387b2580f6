//! Appending and syncing: [`RecordLog::append`], [`RecordLog::append_batch`], rotation to a new
//! segment, and the [`SyncHandle`] that lets the ledger fdatasync outside its lock.
//!
//! Everything here upholds the durability invariant of the module documentation of [`super`],
//! and everything that can fail with an I/O error poisons the log.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::format::{FORMAT, FRAME_HEADER_BYTES, LogPosition, SEGMENT_MAGIC, segment_path};
use super::segments::create_segment;
use super::{FramesAtOpen, LogError, RecordLog, io_error};
use crate::store::frame_log::{Mark, MarkHandle, release_durable_pages};

impl RecordLog {
    /// Appends one payload as one frame and returns its position; the frame is durable only
    /// after a later [`RecordLog::sync`] or [`SyncHandle::sync`].
    ///
    /// The frame reaches the segment with a single positional write. If the segment already
    /// holds frames and this one would push it past the size limit, the log rotates first.
    pub fn append(&mut self, payload: &[u8]) -> Result<LogPosition, LogError> {
        self.refuse_if_poisoned()?;
        let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES + payload.len());
        FORMAT.encode_frame(payload, &mut frame)?;
        let result = self.append_frame(&frame);
        self.poison_on_io_error(result)
    }

    /// Appends several payloads in order and returns their positions; like
    /// [`RecordLog::append`], but the frames bound for one segment are written with one write.
    ///
    /// Every payload's length is checked before anything is written, so an oversized payload
    /// leaves the log untouched.
    pub fn append_batch(&mut self, payloads: &[&[u8]]) -> Result<Vec<LogPosition>, LogError> {
        self.refuse_if_poisoned()?;
        for payload in payloads {
            FORMAT.check_payload_len(payload)?;
        }
        let result = self.append_frames(payloads);
        self.poison_on_io_error(result)
    }

    /// Returns a handle that fdatasyncs the current segment without borrowing the log, so that
    /// the ledger can sync outside the mutex it appends under. Syncing it makes every frame
    /// appended before the handle was taken durable (see the module invariant).
    pub fn sync_handle(&self) -> Result<SyncHandle, LogError> {
        self.refuse_if_poisoned()?;
        Ok(SyncHandle {
            file: Arc::clone(&self.current),
            segment: self.segment,
            len: self.current_len,
            mark: self.mark.handle(),
            released: Arc::clone(&self.released),
            path: Arc::clone(&self.current_path),
            poisoned: Arc::clone(&self.poisoned),
        })
    }

    /// Makes every frame appended so far durable by fdatasyncing the current segment.
    pub fn sync(&self) -> Result<(), LogError> {
        self.sync_handle()?.sync()
    }

    /// The total number of bytes (frames and new segment headers) this `RecordLog` has written
    /// since it was opened; it only grows, which makes it a ticket for group commit.
    pub fn appended_bytes(&self) -> u64 {
        self.appended_bytes
    }

    /// Where the next appended frame would go if it fit the current segment: the end of the log,
    /// which [`LogReader::frames_between`](super::LogReader::frames_between) takes as the end of
    /// a stream of every frame appended so far.
    pub fn end(&self) -> LogPosition {
        LogPosition { segment: self.segment, offset: self.current_len }
    }

    /// The number of frames in the log, those found at open included, when it is known: a log
    /// opened with [`RecordLog::open`] counted every frame, one opened with
    /// [`RecordLog::open_tail`] did not read the segments before the last and returns `None`.
    ///
    /// (It is not called `len`, so that no caller can take a partial count for the log's
    /// length: the ledger's own count of records is the one to ask.)
    pub fn frame_count(&self) -> Option<u64> {
        match self.frames_at_open {
            FramesAtOpen::Counted(count) => Some(count + self.frames_appended),
            FramesAtOpen::NotCounted { .. } => None,
        }
    }

    /// Whether the log holds no frame at all; known however the log was opened.
    pub fn is_empty(&self) -> bool {
        let held_any = match self.frames_at_open {
            FramesAtOpen::Counted(count) => count > 0,
            FramesAtOpen::NotCounted { any } => any,
        };
        !held_any && self.frames_appended == 0
    }
}

/// A cheap, clonable handle that fdatasyncs one segment of a log; see [`RecordLog::sync_handle`].
#[derive(Debug, Clone)]
pub struct SyncHandle {
    file: Arc<File>,
    segment: u32,
    // How long the segment was when the handle was made: every byte before
    // this is durable once `sync` returns.
    len: u64,
    mark: MarkHandle,
    released: Arc<AtomicU64>,
    path: Arc<Path>,
    poisoned: Arc<AtomicBool>,
}

impl SyncHandle {
    /// Calls `fdatasync` on the segment; a failure poisons the log, because the kernel may have
    /// dropped the unsynced pages and a retry could falsely succeed.
    ///
    /// Once the bytes are durable, the acknowledged mark is advanced to their end: the caller
    /// acknowledges them when this returns, and the mark's thread writes the mark meanwhile
    /// (see `frame_log`'s `mark` for why it may trail by one write but never leads). A mark
    /// that could not be written earlier fails this call and poisons the log too.
    pub fn sync(&self) -> Result<(), LogError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LogError::Poisoned);
        }
        self.file.sync_data().map_err(|source| {
            self.poisoned.store(true, Ordering::Release);
            io_error("fdatasync", &self.path, source)
        })?;
        let released = release_durable_pages(&self.file, self.released.load(Ordering::Acquire), self.len);
        self.released.fetch_max(released, Ordering::AcqRel);
        self.mark.advance(Mark { segment: u64::from(self.segment), offset: self.len }).map_err(|failed| {
            self.poisoned.store(true, Ordering::Release);
            LogError::from(failed)
        })
    }
}

impl RecordLog {
    fn refuse_if_poisoned(&self) -> Result<(), LogError> {
        if self.poisoned.load(Ordering::Acquire) { Err(LogError::Poisoned) } else { Ok(()) }
    }

    /// Poisons the log when a file-system call failed, because the segment may now end in a
    /// partial frame or hold pages the kernel gave up on.
    fn poison_on_io_error<T>(&self, result: Result<T, LogError>) -> Result<T, LogError> {
        if let Err(LogError::Io { .. }) = &result {
            self.poisoned.store(true, Ordering::Release);
        }
        result
    }

    fn append_frame(&mut self, frame: &[u8]) -> Result<LogPosition, LogError> {
        if self.needs_rotation(self.current_len, frame.len()) {
            self.rotate()?;
        }
        let position = LogPosition { segment: self.segment, offset: self.current_len };
        self.write_at_end(frame, 1)?;
        Ok(position)
    }

    fn append_frames(&mut self, payloads: &[&[u8]]) -> Result<Vec<LogPosition>, LogError> {
        let mut positions = Vec::with_capacity(payloads.len());
        let mut pending = Vec::new();
        let mut pending_frames = 0u64;
        for payload in payloads {
            let end = self.current_len + pending.len() as u64;
            if self.needs_rotation(end, FRAME_HEADER_BYTES + payload.len()) {
                self.write_at_end(&pending, pending_frames)?;
                pending.clear();
                pending_frames = 0;
                self.rotate()?;
            }
            positions.push(LogPosition { segment: self.segment, offset: self.current_len + pending.len() as u64 });
            FORMAT.encode_frame(payload, &mut pending)?;
            pending_frames += 1;
        }
        self.write_at_end(&pending, pending_frames)?;
        Ok(positions)
    }

    /// Whether a frame of `frame_len` bytes must go to a new segment when the current one would
    /// be `end` bytes long before it.
    fn needs_rotation(&self, end: u64, frame_len: usize) -> bool {
        let holds_frames = end > SEGMENT_MAGIC.len() as u64;
        holds_frames && end.saturating_add(frame_len as u64) > self.options.segment_bytes
    }

    /// Writes whole frames at the end of the current segment with one positional write.
    fn write_at_end(&mut self, frames: &[u8], frame_count: u64) -> Result<(), LogError> {
        if frames.is_empty() {
            return Ok(());
        }
        self.current
            .write_all_at(frames, self.current_len)
            .map_err(|source| io_error("append frames to", &self.current_path, source))?;
        self.current_len += frames.len() as u64;
        self.appended_bytes += frames.len() as u64;
        self.frames_appended += frame_count;
        Ok(())
    }

    /// Makes the full segment durable, then creates and makes durable the next one, which is
    /// what keeps the module invariant true.
    fn rotate(&mut self) -> Result<(), LogError> {
        let next = self.segment.checked_add(1).ok_or(LogError::SegmentNumbersExhausted)?;
        self.current.sync_data().map_err(|source| io_error("fdatasync full segment", &self.current_path, source))?;
        release_durable_pages(&self.current, self.released.load(Ordering::Acquire), self.current_len);
        let path = segment_path(&self.dir, next);
        let file = create_segment(&self.dir, &path)?;
        self.current = Arc::new(file);
        self.current_path = Arc::from(path.as_path());
        self.segment = next;
        self.current_len = SEGMENT_MAGIC.len() as u64;
        self.released = Arc::new(AtomicU64::new(0));
        self.appended_bytes += SEGMENT_MAGIC.len() as u64;
        Ok(())
    }
}
