//! Serving a stored file whole or in one range (RFC 9110 §14): the attachments'
//! downloads, which phones resume and PDF viewers read in pieces.
//!
//! `Range` is parsed by `http-range-header`; a node serves one range and
//! answers a request for several, or a malformed one, with the whole file, as
//! RFC 9110 §14.2 allows. A large file is streamed from disk a chunk at a time,
//! so a download holds [`CHUNK`] bytes of memory, not the file.

use std::path::PathBuf;

use axum::body::{Body, Bytes};
use http_range_header::{RangeUnsatisfiableError, parse_range_header};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::ApiError;

/// How much of a streamed file is read at a time.
const CHUNK: usize = 256 * 1024;

/// What to send of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// All of it, with `200`.
    Whole,
    /// Bytes `start..=end`, with `206`.
    Part(u64, u64),
    /// `416`: the range lies beyond the file.
    Unsatisfiable,
}

/// What the `Range` header `value` asks of a file of `size` bytes.
pub(crate) fn one_range(value: &[u8], size: u64) -> Wanted {
    let Ok(text) = std::str::from_utf8(value) else { return Wanted::Whole };
    match parse_range_header(text).map(|parsed| parsed.validate(size)) {
        Ok(Ok(ranges)) => match ranges.as_slice() {
            [only] => Wanted::Part(*only.start(), *only.end()),
            _ => Wanted::Whole,
        },
        Ok(Err(RangeUnsatisfiableError::Unsatisfiable)) => Wanted::Unsatisfiable,
        // Malformed, overlapping or too many ranges: ignored (RFC 9110 §14.2).
        Ok(Err(_)) | Err(_) => Wanted::Whole,
    }
}

/// The body of `length` bytes of the file at `path` from `start`: read at once
/// when at most `whole_read` bytes, streamed otherwise.
pub(crate) async fn file_body(path: PathBuf, start: u64, length: u64, whole_read: u64) -> Result<Body, ApiError> {
    let failed = |error: std::io::Error| ApiError::internal(format!("reading {}: {error}", path.display()));
    let mut file = tokio::fs::File::open(&path).await.map_err(failed)?;
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start)).await.map_err(failed)?;
    }
    if length <= whole_read {
        let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
        (&mut file).take(length).read_to_end(&mut bytes).await.map_err(failed)?;
        return Ok(Body::from(bytes));
    }
    let chunks = futures_util::stream::unfold((file.take(length), false), |(mut file, done)| async move {
        if done {
            return None;
        }
        let mut chunk = vec![0u8; CHUNK];
        match file.read(&mut chunk).await {
            Ok(0) => None,
            Ok(read) => {
                chunk.truncate(read);
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(chunk)), (file, false)))
            }
            Err(error) => Some((Err(error), (file, true))),
        }
    });
    Ok(Body::from_stream(chunks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_range_is_served_and_anything_else_is_the_whole_file_or_416() {
        assert_eq!(one_range(b"bytes=0-99", 1000), Wanted::Part(0, 99));
        assert_eq!(one_range(b"bytes=900-", 1000), Wanted::Part(900, 999));
        assert_eq!(one_range(b"bytes=-10", 1000), Wanted::Part(990, 999));
        assert_eq!(one_range(b"bytes=990-5000", 1000), Wanted::Part(990, 999));
        assert_eq!(one_range(b"bytes=1000-", 1000), Wanted::Unsatisfiable);
        assert_eq!(one_range(b"bytes=0-1,5-9", 1000), Wanted::Whole, "several ranges: the whole file");
        assert_eq!(one_range(b"items=0-1", 1000), Wanted::Whole, "another unit is ignored");
        assert_eq!(one_range(b"bytes=9-1", 1000), Wanted::Whole, "a reversed range is ignored");
        assert_eq!(one_range(&[0xff, 0xfe], 1000), Wanted::Whole);
    }
}
