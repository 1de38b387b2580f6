//! What can go wrong in the ledger itself, as opposed to an entry it refuses: [`LedgerError`],
//! and the helpers that turn a stored record that does not verify into one.

use std::path::PathBuf;

use super::index::IndexError;
use super::index_check::IndexMismatch;
use super::indexer::IndexerStopped;
use super::log::LogError;
use crate::chain::Record;
use crate::entry::LedgerId;
use crate::ident::Giai;
use crate::merkle::ProofError;
use crate::refusal::Refusal;

/// Why the ledger could not do what was asked (as opposed to refusing an entry).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The record log failed or is damaged.
    #[error("record log: {0}")]
    Log(#[from] LogError),
    /// The private store (the disclosures of restricted values) failed or is damaged.
    #[error("private store: {0}")]
    Private(LogError),
    /// A frame of the private store is not what a frame must be.
    #[error("private store: the frame at segment {segment}, offset {offset} is damaged: {reason}")]
    PrivateFrame {
        /// The segment.
        segment: u32,
        /// The frame's offset in it.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The index failed.
    #[error("index: {0}")]
    Index(#[from] IndexError),
    /// The stored index does not match its own summary: the ledger stops answering and the
    /// next open rebuilds the index from the log.
    #[error("{0}; restart to rebuild it from the record log")]
    IndexMismatch(#[from] IndexMismatch),
    /// The background index writer failed or was stopped.
    #[error("index: {0}")]
    Indexer(#[from] IndexerStopped),
    /// A stored record does not verify: the ledger is not opened.
    #[error("record {seq} does not verify: {reason}")]
    Invalid {
        /// The record.
        seq: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The genesis given to create a ledger breaks a rule.
    #[error("genesis refused: {0}")]
    Genesis(Refusal),
    /// `create` was asked for a directory that already holds a ledger.
    #[error("{0} already holds a ledger")]
    Exists(PathBuf),
    /// Another process (or another `Ledger` in this one) has the directory open.
    #[error("{0} is in use by another process; stop it first (a ledger directory has one owner)")]
    Locked(PathBuf),
    /// The directory or its lock file could not be created or opened.
    #[error("cannot use ledger directory {path}: {source}")]
    Directory {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `open` was asked for a directory that holds no ledger.
    #[error("{0} holds no ledger (no genesis record)")]
    Missing(PathBuf),
    /// The directory holds another ledger than the genesis given.
    #[error("{dir} holds ledger {found}, not {expected}")]
    WrongLedger {
        /// The directory.
        dir: PathBuf,
        /// The ledger it holds.
        found: LedgerId,
        /// The ledger expected.
        expected: LedgerId,
    },
    /// A verification thread failed (a bug): the batch was not fully processed,
    /// but nothing unverified was recorded.
    #[error("a signature verification thread failed; the batch was not fully processed")]
    Verifier,
    /// A write or sync failed earlier; the process must reopen the ledger.
    #[error("the ledger stopped accepting writes after an I/O failure; reopen it to recover")]
    Poisoned,
    /// A proof was asked for sizes or positions the ledger does not have.
    #[error("proof: {0}")]
    Proof(#[from] ProofError),
    /// No record at that position.
    #[error("no record {0}")]
    NoRecord(u64),
    /// No item with that GIAI.
    #[error("no item {0} is registered")]
    NoItem(Giai),
}

/// Decodes stored record `seq`; bytes that are no record make the ledger invalid there.
pub(super) fn decode(seq: u64, bytes: &[u8]) -> Result<Record, LedgerError> {
    Record::from_json_bytes(bytes).map_err(|e| invalid(seq, e))
}

/// The error for stored record `seq`, which does not verify for `reason`.
pub(super) fn invalid(seq: u64, reason: impl std::fmt::Display) -> LedgerError {
    LedgerError::Invalid { seq, reason: reason.to_string() }
}
