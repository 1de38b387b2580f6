//! Reading frames back by position, from the log itself or from a clonable [`LogReader`] that
//! other threads use while the log keeps appending.
//!
//! Every read checks the frame's length and CRC again, so damage that appeared after opening is
//! reported, never returned as a payload.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use super::format::{
    FRAME_HEADER_BYTES, FrameDamage, LogPosition, MAX_PAYLOAD_BYTES, check_position_shape, frame_crc, payload_len,
    segment_path,
};
use super::{LogError, RecordLog, io_error};

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
    dir: Arc<Path>,
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

        let mut header = [0u8; FRAME_HEADER_BYTES];
        file.read_exact_at(&mut header, position.offset).map_err(|source| match source.kind() {
            io::ErrorKind::UnexpectedEof => LogError::BadPosition {
                reason: format!(
                    "{} ends before a frame header at offset {} could end",
                    path.display(),
                    position.offset
                ),
            },
            _ => io_error("read a frame header from", &path, source),
        })?;
        let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
        let len_field = [l0, l1, l2, l3];
        let stored_crc = u32::from_le_bytes([c0, c1, c2, c3]);
        let len = payload_len(len_field);
        if len > MAX_PAYLOAD_BYTES {
            return Err(corrupt(format!(
                "{}; the frame is damaged or the position is not the start of a frame",
                FrameDamage::TooLong { len }
            )));
        }
        let mut payload = vec![0u8; len];
        let payload_offset = position.offset.checked_add(FRAME_HEADER_BYTES as u64).ok_or_else(|| {
            LogError::BadPosition { reason: format!("offset {} lies past any file", position.offset) }
        })?;
        file.read_exact_at(&mut payload, payload_offset).map_err(|source| match source.kind() {
            io::ErrorKind::UnexpectedEof => corrupt(format!(
                "a frame of {len} payload bytes runs past the end of the file; the frame is \
                     damaged or the position is not the start of a frame"
            )),
            _ => io_error("read a frame payload from", &path, source),
        })?;
        let computed = frame_crc(len_field, &payload);
        if computed != stored_crc {
            return Err(corrupt(format!(
                "{}; the frame is damaged or the position is not the start of a frame",
                FrameDamage::BadCrc { stored: stored_crc, computed }
            )));
        }
        Ok(payload)
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
