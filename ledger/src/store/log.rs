//! The durable, append-only record log: the ledger's source of truth.
//!
//! Everything else the ledger keeps (indexes, trees, caches) is derived from this log and can be
//! rebuilt from it, so this module has two jobs only: never lose a record it was asked to make
//! durable, and never hide damage. It knows nothing about what a record means: a payload is an
//! opaque byte string (in practice the canonical JSON of one ledger record).
//!
//! # On-disk format
//!
//! A log is a directory of segment files named `segment-NNNNNN.log`, where `NNNNNN` is the
//! segment number in decimal, zero-padded to at least six digits (`segment-000001.log`,
//! `segment-000002.log`, …, `segment-1000000.log`). Numbers start at 1 and run without gaps.
//! Other files in the directory are ignored (the `quarantine` subdirectory described below lives
//! there too), except that a name which starts with `segment-` and ends with `.log` but is not
//! the canonical spelling of a segment number is refused, because it most likely is a segment
//! that was renamed by hand and skipping it would silently drop records.
//!
//! Each segment file is an 8-byte header followed by zero or more frames, back to back, up to the
//! end of the file:
//!
//! | bytes   | content                                                                 |
//! |---------|-------------------------------------------------------------------------|
//! | 8       | magic `SLVGLOG1` (ASCII; the final digit is the format version)         |
//! | 4       | frame `len`: payload length, unsigned 32-bit little-endian, ≤ 16 MiB    |
//! | 4       | frame `crc`: CRC-32 (IEEE, as `crc32fast` computes it) over the 4 `len` bytes followed by the payload, unsigned 32-bit little-endian |
//! | `len`   | frame payload                                                           |
//! | …       | further frames                                                          |
//!
//! The CRC covers the length field as well as the payload so that a damaged length is caught
//! before it is trusted to find the next frame. A payload may be empty; a payload longer than
//! [`MAX_PAYLOAD_BYTES`] (16 MiB) is refused by [`RecordLog::append`].
//!
//! A record's [`LogPosition`] is its segment number and the byte offset of the first byte of its
//! frame (the `len` field) in that segment file. Positions serialise to 12 bytes: the segment
//! number as big-endian `u32`, then the offset as big-endian `u64`. Big-endian makes the
//! byte-wise order of stored positions (as a key-value index sorts them) equal to log order.
//!
//! # Rotation
//!
//! Before a frame is added to a segment that already holds at least one frame, the log starts
//! the next segment if the frame would make the file longer than [`LogOptions::segment_bytes`]
//! (64 MiB unless configured). A segment that holds no frame takes any frame, so a payload
//! bigger than the limit gets a segment of its own instead of being refused; a segment is
//! longer than the limit only when it holds exactly one such frame.
//!
//! # Durability
//!
//! [`RecordLog::append`] writes each frame with one positional write (`pwrite`, via
//! `write_all_at`) and does not fsync; [`RecordLog::append_batch`] gathers the frames that go
//! to one segment into one buffer and writes it the same way. Durability comes from
//! [`RecordLog::sync`] or [`SyncHandle::sync`], which call `fdatasync` on the current segment.
//! Rotation first `fdatasync`s the full segment, then creates the next segment, writes its
//! header, fsyncs the new file and fsyncs the directory so that the new file's name is durable.
//! Hence the central invariant:
//!
//! **INVARIANT: every segment before the current one is completely durable, and so is every
//! segment file's directory entry; therefore syncing the current segment makes every frame
//! appended so far durable.**
//!
//! This is what lets the ledger do group commit: it appends while holding the `RecordLog` behind
//! a mutex, takes a [`SyncHandle`], releases the mutex and syncs outside it. The handle syncs the
//! segment that was current when it was taken; if a rotation happened since, that rotation
//! already synced that segment, so the handle still covers everything appended before it was
//! taken.
//!
//! Opening a log also `fdatasync`s the last segment and the directory, so every frame that
//! [`RecordLog::open`] returns is durable even if the process that wrote it died before syncing.
//!
//! If a write or an fsync fails, the log is *poisoned*: every later append, sync and
//! [`RecordLog::sync_handle`] call fails with [`LogError::Poisoned`]. After a failed fsync, Linux
//! may already have dropped the dirty pages and a retried fsync could report success for data
//! that is gone, and after a failed write the segment may end in a partial frame that a later
//! frame must not follow. The cure is to drop the `RecordLog` and open the log again, which
//! treats the end of the last segment exactly like the aftermath of a crash. A failed call may
//! therefore leave some of its frames in the log, just as a crash may: only synced frames are
//! promised.
//!
//! # Recovery when opening
//!
//! [`RecordLog::open`] reads every segment in order and checks every frame. What it does with
//! damage depends on whether a crash can explain it:
//!
//! * **Torn tail** (expected after a crash during an unsynced write): damage only at the end of
//!   the *last* segment — a partial frame header, a length that runs past the end of the file, a
//!   bad CRC on the final frame or frames, or trailing zero bytes — with no valid frame anywhere
//!   after the first damaged byte offset (every later byte offset is tried as a frame start).
//!   The log saves the bytes from the end of the last whole frame to the end of the file in
//!   `quarantine/segment-NNNNNN-at-OFFSET.torn` inside the log directory (fsynced, together with
//!   the quarantine directory; if that name is taken by an earlier cut, `-2`, `-3`, … is added
//!   before `.torn`), then truncates the segment to the end of its last whole frame, fsyncs it
//!   and reports the cut in [`LogContents::tail_cut`].
//! * **Torn header**: if the last segment is shorter than the header and its bytes are a prefix
//!   of the magic, or it consists only of zero bytes, a crash interrupted its creation. The log
//!   quarantines whatever bytes it held, truncates it to empty, rewrites the header, fsyncs it and
//!   reports a [`TailCut`] at offset 0. (The file is kept rather than removed so that segment
//!   numbering never has to be repaired.) An empty file has nothing to quarantine; its cut
//!   reports `bytes_cut == 0`.
//! * **Anything else is corruption, not a crash artefact**: a bad header, a missing segment
//!   number, damage in any segment but the last, or a damaged frame in the last segment that is
//!   followed by a valid frame. Then `open` returns [`LogError::Corrupt`] naming the segment and
//!   offset, and changes nothing on disk: every segment is checked before anything is written.
//!   So is a torn-looking tail whose search for a later valid frame would take more than 1 GiB
//!   of CRC work, which only crafted content can cause.
//!
//! A bit flip inside the final frame of the log cannot be told apart from a torn write, so it is
//! treated as one. That is why the cut bytes are quarantined, never deleted, and the cut is
//! reported: the ledger can compare the surviving log with its replicas and an operator can
//! inspect the quarantined bytes. The log takes no lock on its directory; the caller must make
//! sure that only one `RecordLog` at a time has it open.
//!
//! # Reading
//!
//! [`RecordLog::read_at`] and [`LogReader::read_at`] read one frame with positional reads and
//! check its length and CRC again, so damage that appeared after opening is reported, never
//! returned as a payload. A [`LogReader`] is a cheap clonable handle that can read while another
//! thread appends; a position that does not name the start of a whole frame fails the same
//! checks (a CRC-32 lets such a position through only by a 1 in 2³² accident).

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The eight bytes every segment file starts with; the final digit is the format version.
pub const SEGMENT_MAGIC: [u8; 8] = *b"SLVGLOG1";

/// The largest payload a frame may carry (16 MiB); larger payloads are refused at append.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;

/// The segment size limit used by [`LogOptions::default`] (64 MiB).
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// The bytes in front of every payload: the 4-byte length field and the 4-byte CRC field.
pub const FRAME_HEADER_BYTES: usize = 8;

/// How a log lays out its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// The length a segment file may not grow past by taking another frame (see the module
    /// documentation on rotation); small values exist so that tests can exercise rotation.
    pub segment_bytes: u64,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
        }
    }
}

/// Where a frame starts: a segment number and the byte offset of the frame in that segment file.
///
/// Positions order like the log: first by segment, then by offset.
// INVARIANT: a position handed out by `RecordLog` names the first byte of a whole frame, so
// `segment >= 1` and `offset >= 8` (past the segment header). The fields are public so that the
// ledger can build positions freely; `from_bytes` and `read_at` check them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// The segment number, starting at 1.
    pub segment: u32,
    /// The byte offset of the frame's length field in the segment file.
    pub offset: u64,
}

impl LogPosition {
    /// How many bytes [`LogPosition::to_bytes`] produces.
    pub const ENCODED_LEN: usize = 12;

    /// Serialises the position for an index: segment as big-endian `u32`, then offset as
    /// big-endian `u64`, so that the byte order of encodings is the log order.
    pub fn to_bytes(self) -> [u8; Self::ENCODED_LEN] {
        let mut bytes = [0u8; Self::ENCODED_LEN];
        let (segment, offset) = bytes.split_at_mut(4);
        segment.copy_from_slice(&self.segment.to_be_bytes());
        offset.copy_from_slice(&self.offset.to_be_bytes());
        bytes
    }

    /// Parses bytes written by [`LogPosition::to_bytes`], refusing lengths other than 12 and
    /// positions that no frame can have (segment 0, or an offset inside the segment header).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LogError> {
        let Ok(array) = <[u8; Self::ENCODED_LEN]>::try_from(bytes) else {
            return Err(LogError::BadPosition {
                reason: format!(
                    "a stored position is {} bytes long, got {} bytes",
                    Self::ENCODED_LEN,
                    bytes.len()
                ),
            });
        };
        let [s0, s1, s2, s3, o0, o1, o2, o3, o4, o5, o6, o7] = array;
        let position = Self {
            segment: u32::from_be_bytes([s0, s1, s2, s3]),
            offset: u64::from_be_bytes([o0, o1, o2, o3, o4, o5, o6, o7]),
        };
        check_position_shape(position)?;
        Ok(position)
    }
}

impl fmt::Display for LogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} offset {}",
            segment_file_name(self.segment),
            self.offset
        )
    }
}

/// A torn tail that [`RecordLog::open`] cut off the last segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailCut {
    /// The segment that was cut (always the last one).
    pub segment: u32,
    /// The new length of the segment, where the cut bytes started; 0 when the header was torn
    /// and has been rewritten.
    pub offset: u64,
    /// How many bytes were removed from the segment (and saved in quarantine).
    pub bytes_cut: u64,
    /// What was wrong with the first cut byte, in words.
    pub reason: String,
    /// The quarantine file that holds the cut bytes, or `None` when no byte was cut.
    pub quarantine_file: Option<PathBuf>,
}

/// Everything a log held when it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogContents {
    /// Every payload in log order, with the position of its frame.
    pub frames: Vec<(LogPosition, Vec<u8>)>,
    /// The torn tail that was cut off the last segment, if there was one.
    pub tail_cut: Option<TailCut>,
}

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A file-system call failed; the operating system's error says why.
    #[error("could not {action} {}: {source}", .path.display())]
    Io {
        /// What the log was doing, as a verb phrase.
        action: String,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A segment holds damage that a crash cannot explain, or a frame read back later fails its
    /// checks; nothing was changed on disk.
    #[error("log segment segment-{segment:06}.log is damaged at byte offset {offset}: {reason}")]
    Corrupt {
        /// The damaged segment's number.
        segment: u32,
        /// The byte offset in the segment file where the damage starts.
        offset: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// A payload is longer than a frame can carry; nothing was written.
    #[error("payload of {len} bytes is longer than the {max}-byte maximum of a log frame")]
    PayloadTooLarge {
        /// The payload's length.
        len: usize,
        /// The largest length a frame accepts.
        max: usize,
    },
    /// A position does not name a frame of this log.
    #[error("not a frame position of this log: {reason}")]
    BadPosition {
        /// Why the position cannot name a frame, naming the file and offset where there is one.
        reason: String,
    },
    /// A file in the log directory is named like a segment but not spelled canonically.
    #[error("{} looks like a log segment but {reason}", .path.display())]
    UnexpectedFile {
        /// The offending file.
        path: PathBuf,
        /// Why its name is not accepted.
        reason: String,
    },
    /// An earlier write or fsync failed, so the log no longer promises durability.
    #[error(
        "the log refuses to write or sync because an earlier write or fsync failed; \
         reopen it to recover"
    )]
    Poisoned,
    /// Rotation would need a segment number past `u32::MAX`.
    #[error("the log has used every segment number up to {}", u32::MAX)]
    SegmentNumbersExhausted,
}

/// The durable, append-only log of opaque record payloads; see the module documentation.
// INVARIANT: `current` is segment number `segment` of `dir`, opened for reading and writing and
// exactly `current_len` bytes long (its header plus whole frames); every segment before it was
// fdatasynced before it was created, and every segment's directory entry is durable. Once
// `poisoned` is set, nothing more is written or synced.
#[derive(Debug)]
pub struct RecordLog {
    dir: Arc<Path>,
    options: LogOptions,
    segment: u32,
    current: Arc<File>,
    current_path: Arc<Path>,
    current_len: u64,
    frame_count: u64,
    appended_bytes: u64,
    poisoned: Arc<AtomicBool>,
    reader: LogReader,
}

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
            return Ok((
                Self::create_first_segment(dir, options)?,
                LogContents::empty(),
            ));
        };

        let mut frames = Vec::new();
        let mut torn = None;
        let mut last_whole_end = 0u64;
        for &number in &numbers {
            let path = segment_path(dir, number);
            let bytes =
                fs::read(&path).map_err(|source| io_error("read segment", &path, source))?;
            let scan = scan_segment(number, &bytes, number == last)?;
            for (offset, payload) in scan.frames {
                frames.push((
                    LogPosition {
                        segment: number,
                        offset,
                    },
                    payload.to_vec(),
                ));
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
            Some((reason, cut)) => Some(cut_torn_tail(
                dir,
                last,
                &file,
                &last_path,
                last_whole_end,
                reason,
                &cut,
            )?),
            None => None,
        };
        file.sync_data()
            .map_err(|source| io_error("fdatasync", &last_path, source))?;
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
        };
        Ok((log, LogContents { frames, tail_cut }))
    }

    /// Appends one payload as one frame and returns its position; the frame is durable only
    /// after a later [`RecordLog::sync`] or [`SyncHandle::sync`].
    ///
    /// The frame reaches the segment with a single positional write. If the segment already
    /// holds frames and this one would push it past the size limit, the log rotates first.
    pub fn append(&mut self, payload: &[u8]) -> Result<LogPosition, LogError> {
        self.refuse_if_poisoned()?;
        let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES + payload.len());
        encode_frame(payload, &mut frame)?;
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
            check_payload_len(payload)?;
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

    /// The number of frames in the log, those found at open included.
    pub fn len(&self) -> u64 {
        self.frame_count
    }

    /// Whether the log holds no frame at all.
    pub fn is_empty(&self) -> bool {
        self.frame_count == 0
    }

    /// Reads the payload of the frame at `position`, checking its length and CRC again.
    pub fn read_at(&self, position: LogPosition) -> Result<Vec<u8>, LogError> {
        self.reader.read_at(position)
    }

    /// Returns a clonable reader that can read frames while this log keeps appending.
    pub fn reader(&self) -> LogReader {
        self.reader.clone()
    }
}

/// A cheap, clonable handle that fdatasyncs one segment of a log; see [`RecordLog::sync_handle`].
#[derive(Debug, Clone)]
pub struct SyncHandle {
    file: Arc<File>,
    path: Arc<Path>,
    poisoned: Arc<AtomicBool>,
}

impl SyncHandle {
    /// Calls `fdatasync` on the segment; a failure poisons the log, because the kernel may have
    /// dropped the unsynced pages and a retry could falsely succeed.
    pub fn sync(&self) -> Result<(), LogError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(LogError::Poisoned);
        }
        self.file.sync_data().map_err(|source| {
            self.poisoned.store(true, Ordering::Release);
            io_error("fdatasync", &self.path, source)
        })
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
        let corrupt = |reason: String| LogError::Corrupt {
            segment: position.segment,
            offset: position.offset,
            reason,
        };

        let mut header = [0u8; FRAME_HEADER_BYTES];
        file.read_exact_at(&mut header, position.offset)
            .map_err(|source| match source.kind() {
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
        let payload_offset = position
            .offset
            .checked_add(FRAME_HEADER_BYTES as u64)
            .ok_or_else(|| LogError::BadPosition {
                reason: format!("offset {} lies past any file", position.offset),
            })?;
        file.read_exact_at(&mut payload, payload_offset)
            .map_err(|source| match source.kind() {
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
                FrameDamage::BadCrc {
                    stored: stored_crc,
                    computed
                }
            )));
        }
        Ok(payload)
    }

    fn new(dir: Arc<Path>) -> Self {
        Self {
            dir,
            handles: Arc::new(Mutex::new(HashMap::new())),
        }
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
            io::ErrorKind::NotFound => LogError::BadPosition {
                reason: format!("segment file {} does not exist", path.display()),
            },
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

/// The name of the quarantine subdirectory of a log directory.
const QUARANTINE_DIR: &str = "quarantine";

/// The most CRC work spent looking for a valid frame after damage before giving up and
/// calling the damage corruption; only crafted content comes near it.
const SCAN_BUDGET_BYTES: u64 = 1 << 30;

/// How many segment read handles a reader keeps open at most.
const MAX_CACHED_READ_HANDLES: usize = 64;

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
        })
    }

    fn refuse_if_poisoned(&self) -> Result<(), LogError> {
        if self.poisoned.load(Ordering::Acquire) {
            Err(LogError::Poisoned)
        } else {
            Ok(())
        }
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
        let position = LogPosition {
            segment: self.segment,
            offset: self.current_len,
        };
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
            positions.push(LogPosition {
                segment: self.segment,
                offset: self.current_len + pending.len() as u64,
            });
            encode_frame(payload, &mut pending)?;
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
        self.frame_count += frame_count;
        Ok(())
    }

    /// Makes the full segment durable, then creates and makes durable the next one, which is
    /// what keeps the module invariant true.
    fn rotate(&mut self) -> Result<(), LogError> {
        let next = self
            .segment
            .checked_add(1)
            .ok_or(LogError::SegmentNumbersExhausted)?;
        self.current
            .sync_data()
            .map_err(|source| io_error("fdatasync full segment", &self.current_path, source))?;
        let path = segment_path(&self.dir, next);
        let file = create_segment(&self.dir, &path)?;
        self.current = Arc::new(file);
        self.current_path = Arc::from(path.as_path());
        self.segment = next;
        self.current_len = SEGMENT_MAGIC.len() as u64;
        self.appended_bytes += SEGMENT_MAGIC.len() as u64;
        Ok(())
    }
}

impl LogContents {
    fn empty() -> Self {
        Self {
            frames: Vec::new(),
            tail_cut: None,
        }
    }
}

/// What one segment holds, borrowed from its bytes.
struct SegmentScan<'a> {
    /// Every whole, valid frame: its offset and its payload.
    frames: Vec<(u64, &'a [u8])>,
    /// Where the last whole frame ends (0 when the header itself is torn).
    whole_end: usize,
    /// Why the bytes from `whole_end` on are a torn tail, if there are any.
    torn_reason: Option<String>,
}

/// Why the bytes at some offset are not a whole, valid frame.
#[derive(Debug)]
enum FrameDamage {
    PartialHeader { available: usize },
    TooLong { len: usize },
    PastEnd { len: usize, available: usize },
    BadCrc { stored: u32, computed: u32 },
}

impl fmt::Display for FrameDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PartialHeader { available } => write!(
                f,
                "partial frame header: only {available} of {FRAME_HEADER_BYTES} bytes"
            ),
            Self::TooLong { len } => write!(
                f,
                "length field says {len} bytes, more than the {MAX_PAYLOAD_BYTES}-byte maximum"
            ),
            Self::PastEnd { len, available } => write!(
                f,
                "a frame of {len} payload bytes runs past the end of the file \
                 (only {available} bytes follow its header)"
            ),
            Self::BadCrc { stored, computed } => write!(
                f,
                "CRC mismatch: the frame stores {stored:08x} but its bytes give {computed:08x}"
            ),
        }
    }
}

/// A frame whose length fits the file, before its CRC is checked.
struct FrameBytes<'a> {
    len_field: [u8; 4],
    stored_crc: u32,
    payload: &'a [u8],
    end: usize,
}

/// The outcome of looking for a valid frame after damage.
enum FollowingFrame {
    None,
    Found(usize),
    TooCostly,
}

fn segment_file_name(segment: u32) -> String {
    format!("segment-{segment:06}.log")
}

fn segment_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(segment_file_name(segment))
}

fn io_error(action: &str, path: &Path, source: io::Error) -> LogError {
    LogError::Io {
        action: action.to_owned(),
        path: path.to_path_buf(),
        source,
    }
}

fn check_position_shape(position: LogPosition) -> Result<(), LogError> {
    if position.segment == 0 {
        return Err(LogError::BadPosition {
            reason: "segment numbers start at 1, the position names segment 0".to_owned(),
        });
    }
    if position.offset < SEGMENT_MAGIC.len() as u64 {
        return Err(LogError::BadPosition {
            reason: format!(
                "offset {} of {} lies inside the {}-byte segment header",
                position.offset,
                segment_file_name(position.segment),
                SEGMENT_MAGIC.len()
            ),
        });
    }
    Ok(())
}

fn check_payload_len(payload: &[u8]) -> Result<u32, LogError> {
    let too_large = || LogError::PayloadTooLarge {
        len: payload.len(),
        max: MAX_PAYLOAD_BYTES,
    };
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(too_large());
    }
    u32::try_from(payload.len()).map_err(|_| too_large())
}

/// Appends the frame of `payload` (length, CRC, payload) to `out`.
fn encode_frame(payload: &[u8], out: &mut Vec<u8>) -> Result<(), LogError> {
    let len_field = check_payload_len(payload)?.to_le_bytes();
    out.extend_from_slice(&len_field);
    out.extend_from_slice(&frame_crc(len_field, payload).to_le_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

fn frame_crc(len_field: [u8; 4], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len_field);
    hasher.update(payload);
    hasher.finalize()
}

fn payload_len(len_field: [u8; 4]) -> usize {
    usize::try_from(u32::from_le_bytes(len_field)).unwrap_or(usize::MAX)
}

/// Finds the frame at `offset` and checks that it fits the file, without checking its CRC.
fn frame_bounds(bytes: &[u8], offset: usize) -> Result<FrameBytes<'_>, FrameDamage> {
    let available = bytes.len().saturating_sub(offset);
    let header = offset
        .checked_add(FRAME_HEADER_BYTES)
        .and_then(|end| bytes.get(offset..end))
        .and_then(|header| <[u8; FRAME_HEADER_BYTES]>::try_from(header).ok())
        .ok_or(FrameDamage::PartialHeader { available })?;
    let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
    let len_field = [l0, l1, l2, l3];
    let len = payload_len(len_field);
    if len > MAX_PAYLOAD_BYTES {
        return Err(FrameDamage::TooLong { len });
    }
    let start = offset + FRAME_HEADER_BYTES;
    let end = start.saturating_add(len);
    let payload = bytes.get(start..end).ok_or(FrameDamage::PastEnd {
        len,
        available: available.saturating_sub(FRAME_HEADER_BYTES),
    })?;
    Ok(FrameBytes {
        len_field,
        stored_crc: u32::from_le_bytes([c0, c1, c2, c3]),
        payload,
        end,
    })
}

/// Checks the whole frame at `offset`, CRC included.
fn check_frame(bytes: &[u8], offset: usize) -> Result<FrameBytes<'_>, FrameDamage> {
    let frame = frame_bounds(bytes, offset)?;
    let computed = frame_crc(frame.len_field, frame.payload);
    if computed != frame.stored_crc {
        return Err(FrameDamage::BadCrc {
            stored: frame.stored_crc,
            computed,
        });
    }
    Ok(frame)
}

/// Checks one segment's bytes; damage is a torn tail only in the last segment and only when no
/// valid frame follows it, otherwise it is corruption.
fn scan_segment(segment: u32, bytes: &[u8], is_last: bool) -> Result<SegmentScan<'_>, LogError> {
    let corrupt = |offset: usize, reason: String| LogError::Corrupt {
        segment,
        offset: offset as u64,
        reason,
    };
    if bytes.get(..SEGMENT_MAGIC.len()) != Some(SEGMENT_MAGIC.as_slice()) {
        if is_last {
            if let Some(reason) = torn_header_reason(bytes) {
                return Ok(SegmentScan {
                    frames: Vec::new(),
                    whole_end: 0,
                    torn_reason: Some(reason),
                });
            }
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
            return Err(corrupt(
                offset,
                format!("{damage}; only the last segment may end in a torn write"),
            ));
        }
        return match find_frame_after(bytes, offset) {
            FollowingFrame::Found(at) => Err(corrupt(
                offset,
                format!(
                    "{damage}, yet a valid frame follows at offset {at}, so this is not a torn tail"
                ),
            )),
            FollowingFrame::TooCostly => Err(corrupt(
                offset,
                format!(
                    "{damage}; ruling out a valid frame after it would take more than \
                     {SCAN_BUDGET_BYTES} bytes of CRC work, so it is not treated as a torn tail"
                ),
            )),
            FollowingFrame::None => Ok(SegmentScan {
                frames,
                whole_end: offset,
                torn_reason: Some(damage.to_string()),
            }),
        };
    }
    Ok(SegmentScan {
        frames,
        whole_end: offset,
        torn_reason: None,
    })
}

/// Says why a last segment without a valid header is the remains of an interrupted creation,
/// or `None` if it is not.
fn torn_header_reason(bytes: &[u8]) -> Option<String> {
    if bytes.len() < SEGMENT_MAGIC.len() && SEGMENT_MAGIC.starts_with(bytes) {
        Some(format!(
            "the segment holds only {} of the {} header bytes",
            bytes.len(),
            SEGMENT_MAGIC.len()
        ))
    } else if bytes.iter().all(|&byte| byte == 0) {
        Some(format!(
            "the segment is {} zero bytes without a header",
            bytes.len()
        ))
    } else {
        None
    }
}

fn bad_header_reason(bytes: &[u8]) -> String {
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
fn find_frame_after(bytes: &[u8], damaged_at: usize) -> FollowingFrame {
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

/// Creates the log directory when it does not exist and makes its name durable.
fn ensure_directory(dir: &Path) -> Result<(), LogError> {
    match fs::metadata(dir) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir)
                .map_err(|source| io_error("create log directory", dir, source))?;
            let parent = match dir.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            sync_directory(parent)
        }
        Err(source) => Err(io_error("inspect log directory", dir, source)),
    }
}

/// Lists the segment numbers in `dir` in ascending order, refusing names that look like a
/// segment but are not spelled canonically.
fn list_segments(dir: &Path) -> Result<Vec<u32>, LogError> {
    let entries =
        fs::read_dir(dir).map_err(|source| io_error("list log directory", dir, source))?;
    let mut numbers = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| io_error("list log directory", dir, source))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Some(digits) = name
            .strip_prefix("segment-")
            .and_then(|rest| rest.strip_suffix(".log"))
        else {
            continue;
        };
        match parse_segment_number(digits) {
            Some(number) => numbers.push(number),
            None => {
                return Err(LogError::UnexpectedFile {
                    path: entry.path(),
                    reason: "its name is not segment-NNNNNN.log with a segment number from 1 \
                             written in at least six digits without extra leading zeros"
                        .to_owned(),
                });
            }
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

fn parse_segment_number(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let number: u32 = digits.parse().ok()?;
    (number >= 1 && format!("{number:06}") == digits).then_some(number)
}

fn check_contiguous(numbers: &[u32]) -> Result<(), LogError> {
    let mut expected: u32 = 1;
    for &number in numbers {
        if number != expected {
            return Err(LogError::Corrupt {
                segment: expected,
                offset: 0,
                reason: format!(
                    "the segment file is missing although {} exists; segment numbers must run \
                     contiguously from 1",
                    segment_file_name(number)
                ),
            });
        }
        expected = expected.saturating_add(1);
    }
    Ok(())
}

/// Creates a segment with its header and makes both the file and its name durable.
fn create_segment(dir: &Path, path: &Path) -> Result<File, LogError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| io_error("create segment", path, source))?;
    file.write_all_at(&SEGMENT_MAGIC, 0)
        .map_err(|source| io_error("write the header of", path, source))?;
    file.sync_all()
        .map_err(|source| io_error("fsync new segment", path, source))?;
    sync_directory(dir)?;
    Ok(file)
}

fn sync_directory(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|source| io_error("fsync directory", dir, source))
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
    let quarantine_file = if cut.is_empty() {
        None
    } else {
        Some(quarantine(dir, segment, offset, cut)?)
    };
    file.set_len(offset)
        .map_err(|source| io_error("truncate torn tail of", path, source))?;
    let reason = if offset == 0 {
        file.write_all_at(&SEGMENT_MAGIC, 0)
            .map_err(|source| io_error("rewrite the header of", path, source))?;
        format!("{reason}; the header was rewritten")
    } else {
        reason
    };
    file.sync_all()
        .map_err(|source| io_error("fsync truncated segment", path, source))?;
    Ok(TailCut {
        segment,
        offset,
        bytes_cut: cut.len() as u64,
        reason,
        quarantine_file,
    })
}

/// Writes `cut` durably to a new file in the quarantine directory and returns its path.
fn quarantine(dir: &Path, segment: u32, offset: u64, cut: &[u8]) -> Result<PathBuf, LogError> {
    let quarantine_dir = dir.join(QUARANTINE_DIR);
    match fs::create_dir(&quarantine_dir) {
        Ok(()) => sync_directory(dir)?,
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(io_error(
                "create quarantine directory",
                &quarantine_dir,
                source,
            ));
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
        file.write_all_at(cut, 0)
            .map_err(|source| io_error("write quarantine file", &path, source))?;
        file.sync_all()
            .map_err(|source| io_error("fsync quarantine file", &path, source))?;
        sync_directory(&quarantine_dir)?;
        return Ok(path);
    }
    Err(io_error(
        "find a free name in",
        &quarantine_dir,
        io::Error::from(io::ErrorKind::AlreadyExists),
    ))
}

#[cfg(test)]
// Tests unwrap freely: a panic with the error's Debug output is exactly the failure report wanted.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::sync::mpsc;
    use std::thread;

    fn tiny() -> LogOptions {
        LogOptions { segment_bytes: 96 }
    }

    fn payload(index: usize) -> Vec<u8> {
        format!(
            "{{\"record\":{index},\"pad\":\"{}\"}}",
            "x".repeat(index % 7)
        )
        .into_bytes()
    }

    /// Writes `count` payloads into a fresh log in `dir` and returns them with their positions.
    fn build(dir: &Path, count: usize) -> Vec<(LogPosition, Vec<u8>)> {
        let (mut log, contents) = RecordLog::open(dir, tiny()).unwrap();
        assert!(contents.frames.is_empty());
        let written: Vec<_> = (0..count)
            .map(|index| {
                let bytes = payload(index);
                (log.append(&bytes).unwrap(), bytes)
            })
            .collect();
        log.sync().unwrap();
        written
    }

    /// Every file under `dir`, recursively, with its bytes.
    fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(snapshot(&path));
            } else {
                files.insert(path.clone(), fs::read(&path).unwrap());
            }
        }
        files
    }

    fn copy_log(from: &Path, to: &Path) {
        for (path, bytes) in snapshot(from) {
            let target = to.join(path.strip_prefix(from).unwrap());
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::write(target, bytes).unwrap();
        }
    }

    fn flip_byte(path: &Path, offset: u64) {
        let mut bytes = fs::read(path).unwrap();
        bytes[usize::try_from(offset).unwrap()] ^= 0x40;
        fs::write(path, bytes).unwrap();
    }

    fn last_segment(dir: &Path) -> (u32, PathBuf) {
        let numbers = list_segments(dir).unwrap();
        let last = *numbers.last().unwrap();
        (last, segment_path(dir, last))
    }

    /// Opens `dir`, expects `Corrupt`, and returns where it says the damage is.
    fn expect_corrupt(dir: &Path) -> (u32, u64) {
        expect_corrupt_reason(dir).0
    }

    fn expect_corrupt_reason(dir: &Path) -> ((u32, u64), String) {
        match RecordLog::open(dir, tiny()) {
            Err(LogError::Corrupt {
                segment,
                offset,
                reason,
            }) => ((segment, offset), reason),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn new_directory_becomes_an_empty_log_with_one_header_only_segment() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("nested").join("log");
        let (log, contents) = RecordLog::open(&dir, LogOptions::default()).unwrap();
        assert!(log.is_empty());
        assert_eq!(log.len(), 0);
        assert_eq!(contents, LogContents::empty());
        assert_eq!(
            fs::read(dir.join("segment-000001.log")).unwrap(),
            b"SLVGLOG1"
        );
        drop(log);
        let (log, contents) = RecordLog::open(&dir, LogOptions::default()).unwrap();
        assert!(log.is_empty());
        assert_eq!(contents, LogContents::empty());
    }

    #[test]
    fn appends_survive_reopen_across_several_segments() {
        let temp = tempfile::tempdir().unwrap();
        let mut written = build(temp.path(), 40);
        let segments = list_segments(temp.path()).unwrap();
        assert!(
            segments.len() > 5,
            "tiny segments must rotate: {segments:?}"
        );
        assert_eq!(segments, (1..=segments.len() as u32).collect::<Vec<_>>());
        for path in snapshot(temp.path()).keys() {
            let len = fs::metadata(path).unwrap().len();
            assert!(
                len <= tiny().segment_bytes,
                "{} is {len} bytes",
                path.display()
            );
        }

        let (mut log, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        assert_eq!(contents.frames, written);
        assert_eq!(contents.tail_cut, None);
        assert_eq!(log.len(), 40);

        // An oversized frame gets a segment of its own, and appending continues after it.
        let big = vec![7u8; 300];
        written.push((log.append(&big).unwrap(), big));
        written.push((log.append(b"").unwrap(), Vec::new()));
        log.sync().unwrap();
        assert_eq!(written[40].0.segment + 1, written[41].0.segment);
        drop(log);
        let (log, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        assert_eq!(contents.frames, written);
        assert_eq!(log.len(), 42);
    }

    #[test]
    fn read_at_returns_every_frame_and_refuses_positions_that_are_not_frames() {
        let temp = tempfile::tempdir().unwrap();
        let written = build(temp.path(), 25);
        let (log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
        for (position, bytes) in &written {
            assert_eq!(&log.read_at(*position).unwrap(), bytes);
        }

        let first = written[0].0;
        let inside = LogPosition {
            offset: first.offset + 3,
            ..first
        };
        assert!(matches!(log.read_at(inside), Err(LogError::Corrupt { .. })));
        let past_end = LogPosition {
            offset: 10_000,
            ..first
        };
        assert!(matches!(
            log.read_at(past_end),
            Err(LogError::BadPosition { .. })
        ));
        let missing = LogPosition {
            segment: 999,
            offset: 8,
        };
        assert!(matches!(
            log.read_at(missing),
            Err(LogError::BadPosition { .. })
        ));
        let in_header = LogPosition {
            segment: 1,
            offset: 4,
        };
        assert!(matches!(
            log.read_at(in_header),
            Err(LogError::BadPosition { .. })
        ));
    }

    #[test]
    fn read_at_reports_damage_that_appears_after_opening() {
        let temp = tempfile::tempdir().unwrap();
        let (mut log, _) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
        let position = log.append(b"{\"record\":1}").unwrap();
        log.sync().unwrap();
        flip_byte(&segment_path(temp.path(), 1), position.offset + 10);
        match log.read_at(position) {
            Err(LogError::Corrupt {
                segment, offset, ..
            }) => {
                assert_eq!((segment, offset), (position.segment, position.offset));
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn a_cut_anywhere_inside_the_last_frame_is_a_torn_tail() {
        let template = tempfile::tempdir().unwrap();
        let mut written = build(template.path(), 12);
        // A short final frame keeps the number of cuts, each a full reopen with fsyncs, small
        // while still covering a partial header, a missing payload and a partial payload.
        let (mut log, _) = RecordLog::open(template.path(), tiny()).unwrap();
        let short = b"{\"r\":1}".to_vec();
        written.push((log.append(&short).unwrap(), short));
        log.sync().unwrap();
        drop(log);
        let (last_number, _) = last_segment(template.path());
        let (last_position, _) = *written.last().unwrap();
        assert_eq!(last_position.segment, last_number);
        let original = fs::read(segment_path(template.path(), last_number)).unwrap();
        let end = original.len() as u64;

        for cut_at in last_position.offset + 1..end {
            let temp = tempfile::tempdir().unwrap();
            copy_log(template.path(), temp.path());
            let path = segment_path(temp.path(), last_number);
            OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(cut_at)
                .unwrap();

            let (mut log, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
            let kept = &written[..written.len() - 1];
            assert_eq!(contents.frames, kept, "cut at {cut_at}");
            let cut = contents.tail_cut.expect("a torn tail must be reported");
            assert_eq!(cut.segment, last_number);
            assert_eq!(cut.offset, last_position.offset);
            assert_eq!(cut.bytes_cut, cut_at - last_position.offset);
            let saved = fs::read(cut.quarantine_file.unwrap()).unwrap();
            let start = usize::try_from(last_position.offset).unwrap();
            let stop = usize::try_from(cut_at).unwrap();
            assert_eq!(saved, original[start..stop]);
            assert_eq!(fs::metadata(&path).unwrap().len(), last_position.offset);

            let position = log.append(b"after the cut").unwrap();
            log.sync().unwrap();
            drop(log);
            let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
            assert_eq!(contents.tail_cut, None);
            let mut expected = kept.to_vec();
            expected.push((position, b"after the cut".to_vec()));
            assert_eq!(contents.frames, expected);
        }
    }

    #[test]
    fn a_cut_exactly_at_a_frame_boundary_is_no_damage() {
        let temp = tempfile::tempdir().unwrap();
        let written = build(temp.path(), 12);
        let (last_position, _) = *written.last().unwrap();
        let (_, path) = last_segment(temp.path());
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(last_position.offset)
            .unwrap();
        let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        assert_eq!(contents.frames, written[..written.len() - 1]);
        assert_eq!(contents.tail_cut, None);
    }

    #[test]
    fn trailing_zero_bytes_are_cut_and_kept_in_quarantine() {
        let temp = tempfile::tempdir().unwrap();
        let written = build(temp.path(), 5);
        let (_, path) = last_segment(temp.path());
        let whole = fs::metadata(&path).unwrap().len();
        let mut bytes = fs::read(&path).unwrap();
        bytes.extend_from_slice(&[0u8; 37]);
        fs::write(&path, bytes).unwrap();

        let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        assert_eq!(contents.frames, written);
        let cut = contents.tail_cut.unwrap();
        assert_eq!((cut.offset, cut.bytes_cut), (whole, 37));
        assert_eq!(
            fs::read(cut.quarantine_file.unwrap()).unwrap(),
            vec![0u8; 37]
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), whole);
    }

    #[test]
    fn bad_crcs_on_the_final_frames_are_a_torn_tail() {
        let temp = tempfile::tempdir().unwrap();
        let (mut log, _) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
        let positions: Vec<_> = (0..5)
            .map(|index| log.append(&payload(index)).unwrap())
            .collect();
        log.sync().unwrap();
        drop(log);
        let path = segment_path(temp.path(), 1);
        flip_byte(&path, positions[3].offset + 9);
        flip_byte(&path, positions[4].offset + 9);

        let (_, contents) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
        assert_eq!(contents.frames.len(), 3);
        let cut = contents.tail_cut.unwrap();
        assert_eq!(cut.offset, positions[3].offset);
        assert!(cut.reason.contains("CRC"), "{}", cut.reason);
    }

    #[test]
    fn a_torn_header_on_the_last_segment_is_rewritten() {
        let template = tempfile::tempdir().unwrap();
        let written = build(template.path(), 12);
        let (last_number, _) = last_segment(template.path());
        let next = last_number + 1;
        let torn_headers: Vec<Vec<u8>> = (0..SEGMENT_MAGIC.len())
            .map(|len| SEGMENT_MAGIC[..len].to_vec())
            .chain([vec![0u8; 8], vec![0u8; 20]])
            .collect();

        for torn in torn_headers {
            let temp = tempfile::tempdir().unwrap();
            copy_log(template.path(), temp.path());
            fs::write(segment_path(temp.path(), next), &torn).unwrap();

            let (mut log, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
            assert_eq!(contents.frames, written);
            let cut = contents.tail_cut.unwrap();
            assert_eq!((cut.segment, cut.offset), (next, 0));
            assert_eq!(cut.bytes_cut, torn.len() as u64);
            match cut.quarantine_file {
                Some(file) => assert_eq!(fs::read(file).unwrap(), torn),
                None => assert!(torn.is_empty()),
            }
            assert_eq!(
                fs::read(segment_path(temp.path(), next)).unwrap(),
                SEGMENT_MAGIC
            );

            let position = log.append(b"fresh").unwrap();
            assert_eq!(position.segment, next);
            drop(log);
            let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
            assert_eq!(
                contents.frames.last().unwrap(),
                &(position, b"fresh".to_vec())
            );
            assert_eq!(contents.tail_cut, None);
        }
    }

    #[test]
    fn repeated_cuts_at_the_same_offset_keep_every_quarantine_file() {
        let temp = tempfile::tempdir().unwrap();
        build(temp.path(), 3);
        let (_, path) = last_segment(temp.path());
        let whole = fs::metadata(&path).unwrap().len();
        let mut files = Vec::new();
        for garbage in [&[0u8, 0, 1][..], &[0u8, 0, 2][..]] {
            let mut bytes = fs::read(&path).unwrap();
            bytes.extend_from_slice(garbage);
            fs::write(&path, bytes).unwrap();
            let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
            let cut = contents.tail_cut.unwrap();
            assert_eq!(cut.offset, whole);
            let file = cut.quarantine_file.unwrap();
            assert_eq!(fs::read(&file).unwrap(), garbage);
            files.push(file);
        }
        assert_ne!(files[0], files[1]);
        assert_eq!(fs::read(&files[0]).unwrap(), [0, 0, 1]);
    }

    #[test]
    fn damage_followed_by_a_valid_frame_is_corruption_and_changes_nothing() {
        let temp = tempfile::tempdir().unwrap();
        let (mut log, _) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
        let positions: Vec<_> = (0..6)
            .map(|index| log.append(&payload(index)).unwrap())
            .collect();
        log.sync().unwrap();
        drop(log);
        let path = segment_path(temp.path(), 1);

        // A flipped payload byte, then a flipped length byte, in a middle frame.
        for flip_at in [positions[2].offset + 12, positions[2].offset] {
            let original = fs::read(&path).unwrap();
            flip_byte(&path, flip_at);
            let before = snapshot(temp.path());
            let (at, reason) = expect_corrupt_reason(temp.path());
            assert_eq!(at, (1, positions[2].offset));
            assert!(reason.contains("valid frame follows"), "{reason}");
            assert_eq!(snapshot(temp.path()), before);
            assert!(!temp.path().join(QUARANTINE_DIR).exists());
            fs::write(&path, original).unwrap();
        }
    }

    #[test]
    fn damage_in_a_non_final_segment_is_corruption_and_changes_nothing() {
        let temp = tempfile::tempdir().unwrap();
        let written = build(temp.path(), 20);
        let (last_in_first, _) = *written
            .iter()
            .rev()
            .find(|(position, _)| position.segment == 1)
            .unwrap();
        let first = segment_path(temp.path(), 1);
        let original = fs::read(&first).unwrap();

        // The final frame of segment 1 has a bad CRC: a torn tail anywhere but the last segment
        // cannot come from a crash.
        flip_byte(&first, last_in_first.offset + 9);
        let before = snapshot(temp.path());
        assert_eq!(expect_corrupt(temp.path()), (1, last_in_first.offset));
        assert_eq!(snapshot(temp.path()), before);

        // So is a partial frame at the end of segment 1.
        fs::write(&first, &original[..original.len() - 3]).unwrap();
        let before = snapshot(temp.path());
        assert_eq!(expect_corrupt(temp.path()).0, 1);
        assert_eq!(snapshot(temp.path()), before);
    }

    #[test]
    fn a_bad_magic_header_is_corruption() {
        let temp = tempfile::tempdir().unwrap();
        build(temp.path(), 20);
        let (last, last_path) = last_segment(temp.path());

        flip_byte(&segment_path(temp.path(), 1), 0);
        let before = snapshot(temp.path());
        assert_eq!(expect_corrupt(temp.path()), (1, 0));
        assert_eq!(snapshot(temp.path()), before);
        flip_byte(&segment_path(temp.path(), 1), 0);

        // On the last segment, a header that is neither the magic, a prefix of it, nor zeros.
        flip_byte(&last_path, 2);
        let before = snapshot(temp.path());
        assert_eq!(expect_corrupt(temp.path()), (last, 0));
        assert_eq!(snapshot(temp.path()), before);
    }

    #[test]
    fn a_gap_in_segment_numbers_is_corruption() {
        let temp = tempfile::tempdir().unwrap();
        build(temp.path(), 20);
        fs::remove_file(segment_path(temp.path(), 2)).unwrap();
        assert_eq!(expect_corrupt(temp.path()), (2, 0));

        let temp = tempfile::tempdir().unwrap();
        build(temp.path(), 20);
        fs::remove_file(segment_path(temp.path(), 1)).unwrap();
        assert_eq!(expect_corrupt(temp.path()), (1, 0));
    }

    #[test]
    fn a_non_canonical_segment_name_is_refused() {
        for name in [
            "segment-1.log",
            "segment-0000001.log",
            "segment-000000.log",
            "segment-x.log",
        ] {
            let temp = tempfile::tempdir().unwrap();
            build(temp.path(), 3);
            fs::write(temp.path().join(name), SEGMENT_MAGIC).unwrap();
            assert!(
                matches!(
                    RecordLog::open(temp.path(), tiny()),
                    Err(LogError::UnexpectedFile { .. })
                ),
                "{name}"
            );
        }
        assert_eq!(parse_segment_number("1000000"), Some(1_000_000));
    }

    #[test]
    fn oversized_payloads_are_refused_and_leave_the_log_untouched() {
        let temp = tempfile::tempdir().unwrap();
        let (mut log, _) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
        log.append(b"before").unwrap();
        let bytes_before = log.appended_bytes();
        let oversized = vec![b'x'; MAX_PAYLOAD_BYTES + 1];
        assert!(matches!(
            log.append(&oversized),
            Err(LogError::PayloadTooLarge { len, max })
                if len == MAX_PAYLOAD_BYTES + 1 && max == MAX_PAYLOAD_BYTES
        ));
        assert!(matches!(
            log.append_batch(&[b"fits".as_slice(), oversized.as_slice()]),
            Err(LogError::PayloadTooLarge { .. })
        ));
        assert_eq!(log.appended_bytes(), bytes_before);
        assert_eq!(log.len(), 1);

        // A payload of exactly the maximum is accepted and reads back.
        let largest = vec![b'y'; MAX_PAYLOAD_BYTES];
        let position = log.append(&largest).unwrap();
        assert_eq!(log.read_at(position).unwrap(), largest);
        drop(log);
        let (_, contents) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
        assert_eq!(contents.frames.len(), 2);
        assert_eq!(contents.frames[1].1.len(), MAX_PAYLOAD_BYTES);
    }

    #[test]
    fn positions_round_trip_through_bytes_in_log_order() {
        let positions = [
            LogPosition {
                segment: 1,
                offset: 8,
            },
            LogPosition {
                segment: 1,
                offset: 300,
            },
            LogPosition {
                segment: 1,
                offset: 1 << 40,
            },
            LogPosition {
                segment: 2,
                offset: 8,
            },
            LogPosition {
                segment: u32::MAX,
                offset: u64::MAX,
            },
        ];
        for pair in positions.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].to_bytes() < pair[1].to_bytes());
        }
        for position in positions {
            assert_eq!(
                LogPosition::from_bytes(&position.to_bytes()).unwrap(),
                position
            );
        }
        assert!(matches!(
            LogPosition::from_bytes(&[0; 11]),
            Err(LogError::BadPosition { .. })
        ));
        let zero_segment = LogPosition {
            segment: 0,
            offset: 8,
        }
        .to_bytes();
        assert!(matches!(
            LogPosition::from_bytes(&zero_segment),
            Err(LogError::BadPosition { .. })
        ));
        let in_header = LogPosition {
            segment: 1,
            offset: 7,
        }
        .to_bytes();
        assert!(matches!(
            LogPosition::from_bytes(&in_header),
            Err(LogError::BadPosition { .. })
        ));
    }

    #[test]
    fn append_batch_writes_the_same_bytes_as_single_appends() {
        let single = tempfile::tempdir().unwrap();
        let batched = tempfile::tempdir().unwrap();
        let payloads: Vec<Vec<u8>> = (0..30).map(payload).chain([vec![1u8; 200]]).collect();
        let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();

        let (mut one_by_one, _) = RecordLog::open(single.path(), tiny()).unwrap();
        let expected: Vec<_> = slices
            .iter()
            .map(|p| one_by_one.append(p).unwrap())
            .collect();
        let (mut log, _) = RecordLog::open(batched.path(), tiny()).unwrap();
        assert!(log.append_batch(&[]).unwrap().is_empty());
        let positions = log.append_batch(&slices[..10]).unwrap();
        let rest = log.append_batch(&slices[10..]).unwrap();
        assert_eq!([positions, rest].concat(), expected);
        assert_eq!(log.len(), one_by_one.len());
        assert_eq!(log.appended_bytes(), one_by_one.appended_bytes());

        let strip = |dir: &Path| -> Vec<Vec<u8>> { snapshot(dir).into_values().collect() };
        assert_eq!(strip(batched.path()), strip(single.path()));
        for (position, bytes) in expected.iter().zip(&payloads) {
            assert_eq!(&log.read_at(*position).unwrap(), bytes);
        }
    }

    #[test]
    fn appended_bytes_counts_every_byte_written() {
        let temp = tempfile::tempdir().unwrap();
        let (mut log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
        let mut previous = log.appended_bytes();
        for index in 0..20 {
            log.append(&payload(index)).unwrap();
            assert!(log.appended_bytes() > previous);
            previous = log.appended_bytes();
        }
        let on_disk: u64 = snapshot(temp.path()).values().map(|b| b.len() as u64).sum();
        assert_eq!(log.appended_bytes(), on_disk);
        drop(log);
        let (log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
        assert_eq!(log.appended_bytes(), 0);
        assert_eq!(log.len(), 20);
    }

    #[test]
    fn sync_handles_work_from_other_threads_while_appending() {
        fn assert_shareable<T: Send + Sync>() {}
        assert_shareable::<RecordLog>();
        assert_shareable::<SyncHandle>();
        assert_shareable::<LogReader>();

        let temp = tempfile::tempdir().unwrap();
        let (log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
        let log = Arc::new(Mutex::new(log));
        let workers: Vec<_> = (0..4)
            .map(|worker| {
                let log = Arc::clone(&log);
                thread::spawn(move || {
                    let mut acknowledged = Vec::new();
                    for index in 0..10 {
                        let bytes = format!("worker {worker} record {index}").into_bytes();
                        let (position, handle) = {
                            let mut log = log.lock().unwrap();
                            let position = log.append(&bytes).unwrap();
                            (position, log.sync_handle().unwrap())
                        };
                        handle.sync().unwrap();
                        acknowledged.push((position, bytes));
                    }
                    acknowledged
                })
            })
            .collect();
        let mut acknowledged: Vec<_> = workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect();
        acknowledged.sort();
        drop(log);

        let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        assert_eq!(contents.frames, acknowledged);
        assert!(list_segments(temp.path()).unwrap().len() > 3);
    }

    #[test]
    fn a_reader_reads_while_another_thread_appends() {
        let temp = tempfile::tempdir().unwrap();
        let options = LogOptions {
            segment_bytes: 1024,
        };
        let (mut log, _) = RecordLog::open(temp.path(), options).unwrap();
        let reader = log.reader();
        let (sender, receiver) = mpsc::channel::<(LogPosition, Vec<u8>)>();
        let checker = thread::spawn(move || {
            let mut checked = 0;
            for (position, bytes) in receiver {
                assert_eq!(reader.read_at(position).unwrap(), bytes);
                checked += 1;
            }
            checked
        });
        for index in 0..200 {
            let bytes = payload(index);
            let position = log.append(&bytes).unwrap();
            sender.send((position, bytes)).unwrap();
        }
        drop(sender);
        assert_eq!(checker.join().unwrap(), 200);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn a_cut_log_keeps_exactly_a_prefix_of_what_was_written(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..48), 1..24),
            segment_bytes in 48u64..600,
            cut_fraction in 0.0f64..=1.0,
        ) {
            let temp = tempfile::tempdir().unwrap();
            let options = LogOptions { segment_bytes };
            let (mut log, _) = RecordLog::open(temp.path(), options).unwrap();
            let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            let positions = log.append_batch(&slices).unwrap();
            drop(log);

            let (last, path) = last_segment(temp.path());
            let len = fs::metadata(&path).unwrap().len();
            let cut_at = ((len as f64) * cut_fraction) as u64;
            OpenOptions::new().write(true).open(&path).unwrap().set_len(cut_at).unwrap();

            let (_, contents) = RecordLog::open(temp.path(), options).unwrap();
            let kept = contents.frames.len();
            prop_assert!(kept <= payloads.len());
            for ((position, bytes), (expected_position, expected)) in
                contents.frames.iter().zip(positions.iter().zip(&payloads))
            {
                prop_assert_eq!(position, expected_position);
                prop_assert_eq!(bytes, expected);
            }
            // Exactly the frames that ended at or before the cut survive.
            let survivors = positions
                .iter()
                .zip(&payloads)
                .filter(|(position, bytes)| {
                    position.segment < last
                        || position.offset + (FRAME_HEADER_BYTES + bytes.len()) as u64 <= cut_at
                })
                .count();
            prop_assert_eq!(kept, survivors);
            let header_torn = cut_at < SEGMENT_MAGIC.len() as u64;
            let frame_torn = cut_at < len && Some(cut_at) != positions.get(kept).map(|p| p.offset);
            prop_assert_eq!(contents.tail_cut.is_some(), header_torn || frame_torn);
        }
    }
}
