//! The background indexer: writes the sled index after records are durable,
//! off the submitters' path.
//!
//! The record log is the truth and its `fdatasync` is what a receipt promises,
//! so a submission is acknowledged as soon as its records are synced. Their
//! index updates are queued here and applied, in record order, by one thread
//! that coalesces whatever has queued up into a single sled batch. Readers that
//! consult the index first wait until it covers the records they may see
//! ([`Indexer::wait_for`]), so every read is as fresh as the acknowledgements.
//!
//! The queue is bounded: when the index falls that far behind, the committer
//! blocks on it, which bounds both the memory held by queued updates and how
//! long a reader can be made to wait.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::entry::LedgerId;

use super::index::{Index, IndexUpdate};

/// How many group commits may wait for the indexer before committers block.
const QUEUE_COMMITS: usize = 64;

/// Why the background index writer cannot serve a request.
#[non_exhaustive]
#[derive(Debug, Clone, thiserror::Error)]
pub enum IndexerStopped {
    /// Writing the index failed; the ledger must be reopened, which rebuilds it.
    #[error("the index writer failed: {0}; reopen the ledger to rebuild the index")]
    Failed(String),
    /// The indexer was shut down (the ledger is being closed).
    #[error("the index writer has stopped")]
    Closed,
}

/// The handle the ledger keeps on its indexer thread.
pub(crate) struct Indexer {
    // `None` once the indexer is stopping: no further updates are accepted.
    queue: Mutex<Option<SyncSender<Vec<IndexUpdate>>>>,
    progress: Arc<Progress>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Indexer {
    /// Starts the indexer thread for an index that already covers the first
    /// `indexed` records.
    pub fn start(index: Arc<Index>, ledger_id: LedgerId, indexed: u64) -> std::io::Result<Indexer> {
        let (queue, updates) = sync_channel(QUEUE_COMMITS);
        let progress = Arc::new(Progress { indexed: Mutex::new(Indexed { upto: indexed, failure: None }), changed: Condvar::new() });
        let worker_progress = Arc::clone(&progress);
        let worker = std::thread::Builder::new()
            .name("salvage-indexer".into())
            .spawn(move || run(&index, ledger_id, &updates, &worker_progress))?;
        Ok(Indexer { queue: Mutex::new(Some(queue)), progress, worker: Mutex::new(Some(worker)) })
    }

    /// Queues the index updates of durable records, in record order. Blocks
    /// while the queue is full.
    pub fn enqueue(&self, updates: Vec<IndexUpdate>) -> Result<(), IndexerStopped> {
        if updates.is_empty() {
            return Ok(());
        }
        let queue = self.queue.lock().map_err(|_| IndexerStopped::Closed)?.clone().ok_or(IndexerStopped::Closed)?;
        // The worker drops its receiver only when it fails, and says why first.
        queue.send(updates).map_err(|_| self.failure().unwrap_or(IndexerStopped::Closed))
    }

    /// Waits until the index covers the first `size` records.
    pub fn wait_for(&self, size: u64) -> Result<(), IndexerStopped> {
        let mut indexed = self.progress.lock()?;
        loop {
            if let Some(failure) = &indexed.failure {
                return Err(IndexerStopped::Failed(failure.clone()));
            }
            if indexed.upto >= size {
                return Ok(());
            }
            indexed = self.progress.changed.wait(indexed).map_err(|_| IndexerStopped::Closed)?;
        }
    }

    /// Applies what is queued and stops the thread. Later calls do nothing.
    pub fn stop(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            // Dropping the last sender ends the worker's loop once the queue is drained.
            queue.take();
        }
        let worker = self.worker.lock().ok().and_then(|mut worker| worker.take());
        if let Some(worker) = worker {
            // A panic in the worker has already been recorded as a failure, if it could be.
            let _ = worker.join();
        }
    }

    fn failure(&self) -> Option<IndexerStopped> {
        match self.progress.lock() {
            Ok(indexed) => indexed.failure.clone().map(IndexerStopped::Failed),
            Err(stopped) => Some(stopped),
        }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How far the index has got, shared by the worker and the readers.
struct Progress {
    indexed: Mutex<Indexed>,
    changed: Condvar,
}

// INVARIANT: `upto` only grows, and the index holds exactly the updates of the
// first `upto` records (each sled batch is atomic and carries the new size).
struct Indexed {
    upto: u64,
    failure: Option<String>,
}

impl Progress {
    fn lock(&self) -> Result<MutexGuard<'_, Indexed>, IndexerStopped> {
        self.indexed.lock().map_err(|_| IndexerStopped::Failed("the index writer panicked".into()))
    }

    fn record(&self, outcome: Result<u64, String>) {
        if let Ok(mut indexed) = self.indexed.lock() {
            match outcome {
                Ok(upto) => indexed.upto = upto,
                Err(failure) => indexed.failure = Some(failure),
            }
        }
        self.changed.notify_all();
    }
}

/// The worker's loop: take every queued commit, write them as one batch.
fn run(index: &Index, ledger_id: LedgerId, queue: &Receiver<Vec<IndexUpdate>>, progress: &Progress) {
    let _guard = PanicGuard(progress);
    while let Ok(mut updates) = queue.recv() {
        // Coalesce whatever else has queued meanwhile into the same sled batch.
        while let Ok(more) = queue.try_recv() {
            updates.extend(more);
        }
        let Some(last) = updates.last() else { continue };
        let upto = last.seq.get() + 1;
        match index.apply(ledger_id, &updates) {
            Ok(()) => progress.record(Ok(upto)),
            Err(error) => {
                // Readers and committers learn of the failure; the log is intact and
                // the next open rebuilds or catches up the index.
                progress.record(Err(error.to_string()));
                return;
            }
        }
    }
}

/// Records a failure if the worker panics, so that no reader waits forever.
struct PanicGuard<'a>(&'a Progress);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.record(Err("the index writer panicked".into()));
        }
    }
}
