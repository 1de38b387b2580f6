//! Reading frames back by position, from the log itself or from a clonable [`LogReader`] that
//! other threads use while the log keeps appending.
//!
//! Every read checks the frame's length and CRC again, so damage that appeared after opening is
//! reported, never returned as a payload.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use super::format::{FORMAT, LogPosition, check_position_shape, segment_path};
use super::{LogError, RecordLog, io_error};
use crate::store::frame_log::ReadFrameError;

impl RecordLog {
    /// Reads the payload of the frame at `position`, checking its length and CRC again.
    pub fn read_at(&self, position: LogPosition) -> Result<Vec<u8>, LogError> {
        self.reader.read_at(position)
    }

    /// Returns a clonable reader that can read frames while this log keeps appending.
    pub fn reader(&self) -> LogReader {
        self.reader.clone()
    }
}

/// Reads frames of a log by position; clones share their open file handles.
#[derive(Debug, Clone)]
pub struct LogReader {
    // Streams of frames (`stream`) open the segments of this directory too.
    pub(super) dir: Arc<Path>,
    handles: Arc<Mutex<HashMap<u32, Arc<File>>>>,
}

impl LogReader {
    /// Reads the payload of the frame at `position` with positional reads, checking its length
    /// and CRC again; a position that is not the start of a frame, or a damaged frame, is
    /// reported as an error rather than returned as a payload.
    pub fn read_at(&self, position: LogPosition) -> Result<Vec<u8>, LogError> {
        check_position_shape(position)?;
        let path = segment_path(&self.dir, position.segment);
        let file = self.handle(position.segment, &path)?;
        let corrupt = |reason: String| LogError::Corrupt { segment: position.segment, offset: position.offset, reason };
        FORMAT.read_frame_at(&file, position.offset).map_err(|error| match error {
            ReadFrameError::NoHeader => LogError::BadPosition {
                reason: format!(
                    "{} ends before a frame header at offset {} could end",
                    path.display(),
                    position.offset
                ),
            },
            ReadFrameError::PayloadPastEnd { len } => corrupt(format!(
                "a frame of {len} payload bytes runs past the end of the file; the frame is \
                 damaged or the position is not the start of a frame"
            )),
            ReadFrameError::Damaged(damage) => {
                corrupt(format!("{damage}; the frame is damaged or the position is not the start of a frame"))
            }
            ReadFrameError::Io(source) => io_error("read a frame from", &path, source),
        })
    }

    pub(super) fn new(dir: Arc<Path>) -> Self {
        Self { dir, handles: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Returns the cached read handle of a segment, opening it on first use. The cache is
    /// emptied when it grows past a bound, so a long log cannot exhaust file descriptors.
    fn handle(&self, segment: u32, path: &Path) -> Result<Arc<File>, LogError> {
        // The map is consistent after any panic, so a poisoned lock is safe to reuse.
        let mut handles = self.handles.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = handles.get(&segment) {
            return Ok(Arc::clone(file));
        }
        let file = File::open(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => {
                LogError::BadPosition { reason: format!("segment file {} does not exist", path.display()) }
            }
            _ => io_error("open for reading", path, source),
        })?;
        if handles.len() >= MAX_CACHED_READ_HANDLES {
            handles.clear();
        }
        let file = Arc::new(file);
        handles.insert(segment, Arc::clone(&file));
        Ok(file)
    }
}

/// How many segment read handles a reader keeps open at most.
const MAX_CACHED_READ_HANDLES: usize = 64;
