//! Cutting a torn tail: its bytes are saved in quarantine before the segment is truncated, so
//! that nothing a log cuts is ever lost.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::frame::SegmentFormat;
use super::{IoFailure, sync_directory};

/// The name of the quarantine subdirectory of a log directory.
pub const QUARANTINE_DIR: &str = "quarantine";

/// Saves `cut` (the bytes from `offset` to the end of the last segment) in quarantine as
/// `{stem}.torn`, then truncates the segment to `offset`, rewriting the header when the header
/// itself was torn (`offset` 0), and makes the result durable. Returns the quarantine file, or
/// `None` when no byte was cut.
pub fn cut_torn_tail(
    dir: &Path,
    format: &SegmentFormat,
    file: &File,
    path: &Path,
    offset: u64,
    cut: &[u8],
    stem: &str,
) -> Result<Option<PathBuf>, IoFailure> {
    let failed = |action| move |source| IoFailure { action, path: path.to_path_buf(), source };
    let quarantined = if cut.is_empty() { None } else { Some(quarantine(dir, stem, cut)?) };
    file.set_len(offset).map_err(failed("truncate the torn tail of"))?;
    if offset == 0
        && let Some(magic) = format.magic
    {
        file.write_all_at(&magic, 0).map_err(failed("rewrite the header of"))?;
    }
    file.sync_all().map_err(failed("fsync the truncated segment"))?;
    Ok(quarantined)
}

/// Writes `cut` durably to a new file `{stem}.torn` in the quarantine directory of `dir` (or
/// `{stem}-2.torn`, `{stem}-3.torn`, … if an earlier cut took the name) and returns its path.
pub fn quarantine(dir: &Path, stem: &str, cut: &[u8]) -> Result<PathBuf, IoFailure> {
    let quarantine_dir = dir.join(QUARANTINE_DIR);
    let failed = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| IoFailure { action, path, source }
    };
    match fs::create_dir(&quarantine_dir) {
        Ok(()) => sync_directory(dir)?,
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(failed("create quarantine directory", &quarantine_dir)(source)),
    }
    for attempt in 1u32.. {
        let name = match attempt {
            1 => format!("{stem}.torn"),
            _ => format!("{stem}-{attempt}.torn"),
        };
        let path = quarantine_dir.join(name);
        let file = match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(failed("create quarantine file", &path)(source)),
        };
        file.write_all_at(cut, 0).map_err(failed("write quarantine file", &path))?;
        file.sync_all().map_err(failed("fsync quarantine file", &path))?;
        sync_directory(&quarantine_dir)?;
        return Ok(path);
    }
    Err(failed("find a free name in", &quarantine_dir)(io::Error::from(io::ErrorKind::AlreadyExists)))
}
