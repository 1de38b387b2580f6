//! The log directory and its segment files: creating the directory, listing and checking segment
//! numbers, creating a new segment durably, and fsyncing directories.
//!
//! Opening lists and checks the segments, rotation creates the next one, and both make new names
//! durable; these steps are kept together so that every place does them the same way. So is the
//! check of a segment's header without reading the segment, which `open_tail` and the stream of
//! frames make of the segments they do not scan whole.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::format::{SEGMENT_MAGIC, segment_file_name};
use super::{LogError, io_error};
use crate::store::frame_log::{bad_header_reason, sync_directory};

/// Creates the log directory when it does not exist and makes its name durable.
pub(super) fn ensure_directory(dir: &Path) -> Result<(), LogError> {
    match fs::metadata(dir) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|source| io_error("create log directory", dir, source))?;
            let parent = match dir.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            Ok(sync_directory(parent)?)
        }
        Err(source) => Err(io_error("inspect log directory", dir, source)),
    }
}

/// Lists the segment numbers in `dir` in ascending order, refusing names that look like a
/// segment but are not spelled canonically.
pub(super) fn list_segments(dir: &Path) -> Result<Vec<u32>, LogError> {
    let entries = fs::read_dir(dir).map_err(|source| io_error("list log directory", dir, source))?;
    let mut numbers = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| io_error("list log directory", dir, source))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Some(digits) = name.strip_prefix("segment-").and_then(|rest| rest.strip_suffix(".log")) else {
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

pub(super) fn parse_segment_number(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let number: u32 = digits.parse().ok()?;
    (number >= 1 && format!("{number:06}") == digits).then_some(number)
}

pub(super) fn check_contiguous(numbers: &[u32]) -> Result<(), LogError> {
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
pub(super) fn create_segment(dir: &Path, path: &Path) -> Result<File, LogError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| io_error("create segment", path, source))?;
    file.write_all_at(&SEGMENT_MAGIC, 0).map_err(|source| io_error("write the header of", path, source))?;
    file.sync_all().map_err(|source| io_error("fsync new segment", path, source))?;
    sync_directory(dir)?;
    Ok(file)
}

/// Checks that segment `number`, open as `file`, starts with the magic header, and returns the
/// file's length. The verdict is the one opening gives a segment before the last: anything but
/// the magic is corruption (only the last segment's header can be torn by a crash).
pub(super) fn check_header(number: u32, file: &File, path: &Path) -> Result<u64, LogError> {
    let len = file.metadata().map_err(|source| io_error("inspect segment", path, source))?.len();
    let mut header = [0u8; SEGMENT_MAGIC.len()];
    // A file shorter than the header is judged on the bytes it has.
    let available = usize::try_from(len).map_or(header.len(), |len| len.min(header.len()));
    let header = &mut header[..available];
    file.read_exact_at(header, 0).map_err(|source| io_error("read the header of", path, source))?;
    if *header != SEGMENT_MAGIC {
        return Err(LogError::Corrupt {
            segment: number,
            offset: 0,
            reason: bad_header_reason(&SEGMENT_MAGIC, header),
        });
    }
    Ok(len)
}
