//! Storage: the durable record log (the truth) and the index derived from it; and
//! [`frame_log`], the segmented frame log the record log is built on, which the node's Raft log
//! shares.
//!
//! [`Ledger`] ties the custody state machine to storage. A submission is
//! verified (signatures, schema) outside any lock, then sequenced, checked
//! against the state and appended to the log under the core lock, and finally
//! made durable by a *group commit*: a submitter that finds no sync under way
//! fdatasyncs the log for every record appended so far, the others wait for
//! that sync to end and then look again, so many concurrent submissions share
//! one sync. Only then are receipts returned and the records made visible to
//! readers. Their index updates are written by a background thread
//! ([`indexer`]); reads that use the index wait for it to cover every visible
//! record.

// The ledger's paths each have a file: `open` (creation and recovery), `submit` (the write
// path), `commit` (the group commit), `read` (the read path). They share the state behind the
// core lock (`core`), the outcomes of a submission (`outcome`) and the error type (`error`);
// this file holds what they all work on, the `Ledger` itself.
mod commit;
mod core;
mod error;
pub mod frame_log;
mod index;
mod index_check;
mod indexer;
pub mod log;
mod open;
mod outcome;
mod private;
mod read;
mod submit;
mod verifiers;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::custody::LedgerFormat;
use crate::entry::{LedgerId, SignedEntry};

use self::core::Core;
pub use error::LedgerError;
use index::Index;
pub use index::IndexError;
pub use index_check::IndexMismatch;
use indexer::Indexer;
pub use indexer::IndexerStopped;
use log::LogReader;
pub use open::{OpenOptions, OpenReport};
pub use outcome::{PendingOutcomes, Receipt};
pub use read::checkpoint_origin;
use verifiers::Verifiers;

/// Below this many entries a batch is verified on the calling thread; from it
/// on the work is shared between [`VERIFY_THREADS`] threads. Low, because a
/// batch's entries all wait for the last one verified: a node's group commits
/// of ten-odd entries were answered sooner split in two (measured in the history of docs/performance.md).
const PARALLEL_VERIFY_THRESHOLD: usize = 4;

/// How many threads verify a batch (the machines we target have two cores).
const VERIFY_THREADS: usize = 2;

/// The most entries a verifying thread takes at a time: small enough that
/// sequencing starts early and the threads finish together, large enough that
/// the core lock is taken once per many entries. A smaller batch is split
/// evenly between the threads.
const VERIFY_CHUNK: usize = 64;

/// A ledger on disk: the record log, the custody state, the Merkle tree and the indexes.
pub struct Ledger {
    dir: PathBuf,
    genesis: SignedEntry,
    ledger_id: LedgerId,
    // Fixed by the genesis: how entries are verified before they reach the core lock.
    format: LedgerFormat,
    core: Mutex<Core>,
    // Whether a submitter is fdatasyncing the log for the others (the group
    // commit's leader); `synced` is signalled each time a sync ends.
    syncing: Mutex<bool>,
    synced: Condvar,
    // INVARIANT: `durable` is the number of records known to be fsynced; it only
    // grows, readers never look past it, and every one of those records has
    // been handed to the indexer.
    durable: AtomicU64,
    // The size, state digest and Merkle root of the durable ledger, set together by
    // the group commit, so that a reader sees a digest with the size it is of.
    durable_digest: Mutex<(u64, [u8; 32], [u8; 32])>,
    poisoned: AtomicBool,
    reader: LogReader,
    private_reader: LogReader,
    index: Arc<Index>,
    indexer: Indexer,
    verifiers: Verifiers,
    // Held for the ledger's lifetime: the OS releases the lock when the process
    // dies. Declared last so that it is dropped last, after the index and the
    // threads that write to it.
    _lock: std::fs::File,
}

impl Ledger {
    /// The core lock, which every path takes to read or change the state, the log or the tree.
    fn lock_core(&self) -> Result<MutexGuard<'_, Core>, LedgerError> {
        // A panic while holding the lock could leave state and log apart.
        self.core.lock().map_err(|_| {
            self.poisoned.store(true, Ordering::Release);
            LedgerError::Poisoned
        })
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        // Finish the index before the directory lock is released with the other
        // fields, so the next owner finds it complete and nobody writes behind it.
        self.indexer.stop();
        // Not needed for safety (a reopen catches the index up from the log).
        let _ = self.index.flush();
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_conclusions;
#[cfg(test)]
mod tests_index;
