//! The background indexer: writes the index after records are durable,
//! off the submitters' path.
//!
//! The record log is the truth and its `fdatasync` is what a receipt promises,
//! so a submission is acknowledged as soon as its records are synced. Their
//! index updates are queued here and applied, in record order, by one thread
//! that coalesces them into a single transaction. Readers that consult the index
//! first wait until it covers the records they may see ([`Indexer::wait_for`]),
//! so every read is as fresh as the acknowledgements.
//!
//! Every transaction has a fixed cost (it copies the pages it changes), which under
//! a stream of small group commits would add up. So while nobody waits to read,
//! the indexer lingers up to [`LINGER`] gathering commits into one transaction; a
//! reader that needs records the index does not cover yet wakes it at once.
//! Transactions are not fsynced, except one every [`DURABLE_EVERY`]: after a crash
//! the index comes back that much behind the log, and opening catches up.
//!
//! The queue is bounded: when the index falls that far behind, the committer
//! blocks on it, which bounds both the memory held by queued updates and how
//! long a reader can be made to wait.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::entry::LedgerId;

use super::index::{Index, IndexUpdate};

/// How many group commits may wait for the indexer before committers block.
const QUEUE_COMMITS: usize = 64;

/// How long the indexer gathers commits into one transaction while no reader waits.
pub(crate) const LINGER: Duration = Duration::from_millis(20);

/// The most records one transaction gathers while lingering; bounds the memory
/// held and the length of a transaction.
const MAX_GATHERED: usize = 16_384;

/// How often, at most, a transaction of the indexer is made durable (fsynced); redb
/// reuses freed pages only then, so the file would grow without them.
const DURABLE_EVERY: Duration = Duration::from_secs(1);

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
    queue: Mutex<Option<SyncSender<Work>>>,
    progress: Arc<Progress>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Indexer {
    /// Starts the indexer thread for an index that already covers the first
    /// `indexed` records; it lingers up to `linger` gathering commits.
    pub fn start(index: Arc<Index>, ledger_id: LedgerId, indexed: u64, linger: Duration) -> std::io::Result<Indexer> {
        let (queue, work) = sync_channel(QUEUE_COMMITS);
        let indexed = Indexed { upto: indexed, wanted: indexed, failure: None };
        let progress = Arc::new(Progress { indexed: Mutex::new(indexed), changed: Condvar::new() });
        let worker_progress = Arc::clone(&progress);
        let worker = std::thread::Builder::new()
            .name("salvage-indexer".into())
            .spawn(move || run(&index, ledger_id, &work, &worker_progress, linger))?;
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
        queue.send(Work::Updates(updates)).map_err(|_| self.failure().unwrap_or(IndexerStopped::Closed))
    }

    /// How many records the index covers now.
    pub fn indexed(&self) -> u64 {
        self.progress.indexed.lock().map_or(0, |indexed| indexed.upto)
    }

    /// Waits until the index covers the first `size` records.
    pub fn wait_for(&self, size: u64) -> Result<(), IndexerStopped> {
        let mut indexed = self.progress.lock()?;
        if indexed.upto < size && indexed.failure.is_none() {
            indexed.wanted = indexed.wanted.max(size);
            drop(indexed);
            // Wake a lingering worker. A full queue needs no wake-up: the worker
            // is busy draining it and looks at `wanted` before it lingers again.
            if let Some(queue) = self.queue.lock().ok().and_then(|queue| queue.clone()) {
                let _ = queue.try_send(Work::ReaderWaits);
            }
            indexed = self.progress.lock()?;
        }
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
// first `upto` records (each transaction is atomic and carries the new size).
// `wanted` is the most any reader has waited for; while it exceeds `upto`, the
// worker does not linger.
struct Indexed {
    upto: u64,
    wanted: u64,
    failure: Option<String>,
}

/// What the worker is sent.
enum Work {
    /// The index updates of one group commit, in record order.
    Updates(Vec<IndexUpdate>),
    /// A reader waits for records not indexed yet: stop lingering.
    ReaderWaits,
}

impl Progress {
    fn lock(&self) -> Result<MutexGuard<'_, Indexed>, IndexerStopped> {
        self.indexed.lock().map_err(|_| IndexerStopped::Failed("the index writer panicked".into()))
    }

    /// Whether a reader waits for records the index does not cover yet.
    fn reader_waits(&self) -> bool {
        self.indexed.lock().map_or(true, |indexed| indexed.wanted > indexed.upto)
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

/// The worker's loop: gather queued commits (lingering while no reader waits)
/// and write them as one batch.
fn run(index: &Index, ledger_id: LedgerId, queue: &Receiver<Work>, progress: &Progress, linger: Duration) {
    let _guard = PanicGuard(progress);
    // The first transaction is made durable at once: it holds what opening replayed.
    let mut released = Instant::now().checked_sub(DURABLE_EVERY).unwrap_or_else(Instant::now);
    while let Ok(first) = queue.recv() {
        let mut updates = Vec::new();
        let open = gather(first, queue, progress, linger, &mut updates);
        if let Some(last) = updates.last() {
            let upto = last.seq.get() + 1;
            let durable = released.elapsed() >= DURABLE_EVERY;
            match index.apply(ledger_id, &updates, durable) {
                Ok(()) => {
                    progress.record(Ok(upto));
                    if durable {
                        released = Instant::now();
                    }
                }
                Err(error) => {
                    // Readers and committers learn of the failure; the log is intact and
                    // the next open rebuilds or catches up the index.
                    progress.record(Err(error.to_string()));
                    return;
                }
            }
        }
        if !open {
            return;
        }
    }
}

/// Collects `first` and the commits that follow it into `updates`: whatever is
/// queued, then, while no reader waits, whatever arrives within `linger`.
/// Returns false once the queue is closed (everything sent has been gathered).
fn gather(
    first: Work,
    queue: &Receiver<Work>,
    progress: &Progress,
    linger: Duration,
    updates: &mut Vec<IndexUpdate>,
) -> bool {
    let deadline = Instant::now() + linger;
    let mut next = Some(first);
    loop {
        if let Some(Work::Updates(more)) = next.take() {
            updates.extend(more);
        }
        // Take what is already queued before deciding whether to wait for more.
        match queue.try_recv() {
            Ok(work) => {
                next = Some(work);
                continue;
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => return false,
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
        }
        let now = Instant::now();
        if updates.is_empty() || updates.len() >= MAX_GATHERED || now >= deadline || progress.reader_waits() {
            return true;
        }
        match queue.recv_timeout(deadline - now) {
            Ok(work) => next = Some(work),
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;

    use super::*;
    use crate::chain::{LeafHash, Seq};
    use crate::custody::StateLattice;
    use crate::entry::{EntryId, Timestamp};
    use crate::store::index::StateSummary;
    use crate::store::log::LogPosition;

    /// Liveness, not speed: how long these may take is far beyond any linger that
    /// a working wake-up would let pass, and far below the hour the worker would
    /// otherwise linger.
    const PATIENCE: Duration = Duration::from_secs(60);
    const AN_HOUR: Duration = Duration::from_secs(3600);

    fn updates(seqs: std::ops::Range<u64>) -> Vec<IndexUpdate> {
        seqs.map(|seq| IndexUpdate {
            seq: Seq::new(seq).expect("a small seq"),
            leaf_hash: LeafHash([seq as u8; 32]),
            position: LogPosition { segment: 1, offset: seq * 100 },
            entry_id: EntryId([seq as u8; 32]),
            signed: [0; 32],
            members: Vec::new(),
            membership: false,
            items: Vec::new(),
            disclosures: None,
            merkle_nodes: Vec::new(),
            summary: None,
        })
        .collect()
    }

    /// `updates` as the group commit hands them over: the last with the state after it.
    fn commit(seqs: std::ops::Range<u64>) -> Vec<IndexUpdate> {
        let mut updates = updates(seqs);
        if let Some(last) = updates.last_mut() {
            last.summary = Some(Box::new(StateSummary {
                last_leaf: last.leaf_hash,
                last_accepted: Timestamp::parse("2026-12-05T10:00:00Z").expect("a time"),
                lattice: StateLattice::new(),
                item_count: 0,
                frontier: Vec::new(),
            }));
        }
        updates
    }

    fn lingering_indexer(dir: &std::path::Path) -> (Arc<Index>, Arc<Indexer>) {
        let index = Arc::new(Index::open(dir, 1 << 20).expect("index opens"));
        let indexer = Indexer::start(Arc::clone(&index), LedgerId([1; 32]), 0, AN_HOUR).expect("indexer starts");
        (index, Arc::new(indexer))
    }

    #[test]
    fn the_index_reads_back_what_it_wrote_after_reopening() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let index = Index::open(dir.path(), 1 << 20).expect("index opens");
        index.apply(LedgerId([1; 32]), &commit(0..300), false).expect("applied");
        // Record 0 of `updates` lies at offset 0, inside the segment header.
        for seq in [1, 150, 299] {
            let (position, leaf) = index.record(seq).expect("readable").expect("present");
            assert_eq!((position.offset, leaf), (seq * 100, LeafHash([seq as u8; 32])));
        }
        index.flush().expect("flushed");
        drop(index);
        let reopened = Index::open(dir.path(), 1 << 20).expect("index reopens");
        let covered = reopened.covered().expect("covered");
        assert_eq!((covered.size, covered.ledger_id), (300, Some(LedgerId([1; 32]))));
        assert_eq!(covered.summary.expect("a summary").last_leaf, LeafHash([299u64 as u8; 32]));
        assert!(
            reopened.apply(LedgerId([1; 32]), &updates(300..301), false).is_err(),
            "a batch must end with its state"
        );
    }

    #[test]
    fn a_waiting_reader_cuts_the_linger_short() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (index, indexer) = lingering_indexer(dir.path());
        indexer.enqueue(commit(0..3)).expect("queued");
        indexer.enqueue(commit(3..5)).expect("queued");
        let (done, finished) = channel();
        let reader = Arc::clone(&indexer);
        // A thread of its own, so that a broken wake-up fails the test instead of hanging it.
        std::thread::spawn(move || done.send(reader.wait_for(5)));
        let waited = finished.recv_timeout(PATIENCE).expect("the reader woke the lingering indexer");
        assert!(waited.is_ok(), "{waited:?}");
        assert_eq!(index.size().expect("size"), 5, "both commits are in the index");
    }

    #[test]
    fn stopping_writes_what_was_gathered() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (index, indexer) = lingering_indexer(dir.path());
        indexer.enqueue(commit(0..4)).expect("queued");
        let (done, finished) = channel();
        let stopping = Arc::clone(&indexer);
        std::thread::spawn(move || {
            stopping.stop();
            done.send(())
        });
        finished.recv_timeout(PATIENCE).expect("stop ended the linger");
        assert_eq!(index.size().expect("size"), 4);
    }
}
