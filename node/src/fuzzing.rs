//! What the fuzz targets (`fuzz/`, see docs/fuzzing.md) reach beyond the public API: the Raft
//! log's reading of one segment and its frame encoding, private to its store.
//!
//! Only builds with `--cfg fuzzing` (cargo-fuzz sets it) have this module, so the public API
//! of every other build stays as it is.

pub use crate::consortium::replication::log_store::fuzzing::{
    RaftEntry, SEGMENT_MAGIC, SegmentEntries, encode_frame, read_segment,
};
