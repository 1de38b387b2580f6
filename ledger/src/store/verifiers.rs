//! The ledger's verification threads: signatures and schemas of big batches,
//! checked on every core while the submitting thread sequences.
//!
//! The threads live as long as the ledger. Spawning two threads per batch
//! would work too, but every new thread starts with an empty allocator heap,
//! and a batch's JSON trees then cost fresh, kernel-zeroed pages (a fifth of
//! ingest time when measured that way).

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::value::RawValue;

use crate::custody::{LedgerFormat, VerifiedEntry};
use crate::disclosure::Disclosure;
use crate::entry::SignedEntry;
use crate::refusal::Refusal;

/// Entries to verify: decoded already, or a replicated batch's canonical JSON,
/// which the verifying thread decodes itself.
pub(crate) enum Unverified {
    /// Entries decoded by the caller (submissions, stored records), without disclosures.
    Decoded(Vec<SignedEntry>),
    /// Entries with the disclosures that came beside them (format 2). `None`:
    /// a stored record whose disclosures this ledger does not hold, judged
    /// publicly (docs/format.md §13.5).
    Disclosed(Vec<(SignedEntry, Option<Vec<Disclosure>>)>),
    /// Some of a replicated batch's entries, each as its canonical JSON.
    /// Decoding them where they are verified keeps each entry's JSON tree in
    /// the cache of the core that validates it, and frees it there.
    Canonical(Arc<[Box<RawValue>]>, Range<usize>),
}

impl Unverified {
    /// How many entries there are.
    pub fn len(&self) -> usize {
        match self {
            Unverified::Decoded(entries) => entries.len(),
            Unverified::Disclosed(entries) => entries.len(),
            Unverified::Canonical(_, range) => range.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The verdict on each entry on a ledger of `format`, in order: see
    /// [`VerifiedEntry::verify_each_disclosed`] and, for a replicated batch's,
    /// `VerifiedEntry::verify_canonical`.
    pub fn verify(self, format: LedgerFormat) -> Vec<Result<VerifiedEntry, Refusal>> {
        match self {
            Unverified::Decoded(entries) if format == LedgerFormat::V1 => VerifiedEntry::verify_each(entries),
            Unverified::Decoded(entries) => VerifiedEntry::verify_each_disclosed(
                format,
                entries.into_iter().map(|entry| (entry, Vec::new())).collect(),
            ),
            Unverified::Disclosed(entries) => VerifiedEntry::verify_each_stored(format, entries),
            Unverified::Canonical(batch, range) => VerifiedEntry::verify_canonical(
                format,
                batch.get(range).unwrap_or_default().iter().map(|entry| entry.get().as_bytes()),
            ),
        }
    }

    /// Splits off the first `count` entries.
    fn take_front(&mut self, count: usize) -> Unverified {
        match self {
            Unverified::Decoded(entries) => {
                let rest = entries.split_off(count.min(entries.len()));
                Unverified::Decoded(std::mem::replace(entries, rest))
            }
            Unverified::Disclosed(entries) => {
                let rest = entries.split_off(count.min(entries.len()));
                Unverified::Disclosed(std::mem::replace(entries, rest))
            }
            Unverified::Canonical(batch, range) => {
                let end = range.start + count.min(range.len());
                let front = Unverified::Canonical(Arc::clone(batch), range.start..end);
                range.start = end;
                front
            }
        }
    }
}

/// The verdicts on one chunk of entries, in the chunk's order; `None` if
/// verifying it panicked (a bug, reported to the submitter as an error).
pub(crate) type ChunkVerdicts = (usize, Option<Vec<Result<VerifiedEntry, Refusal>>>);

/// A pool of verification threads.
pub(crate) struct Verifiers {
    // `None` once the pool is stopping.
    jobs: Mutex<Option<Sender<Job>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// One chunk to verify, and where to send the verdicts.
struct Job {
    number: usize,
    format: LedgerFormat,
    entries: Unverified,
    done: Sender<ChunkVerdicts>,
}

impl Verifiers {
    /// Starts `threads` verification threads.
    pub fn start(threads: usize) -> std::io::Result<Verifiers> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut workers = Vec::with_capacity(threads);
        for n in 0..threads {
            let queue = Arc::clone(&queue);
            workers.push(std::thread::Builder::new().name(format!("salvage-verify-{n}")).spawn(move || work(&queue))?);
        }
        Ok(Verifiers { jobs: Mutex::new(Some(jobs)), workers: Mutex::new(workers) })
    }

    /// Queues entries for verification, `chunk` at a time, and returns the
    /// number of chunks and where their verdicts arrive (in any order). `None`
    /// if the pool has stopped.
    pub fn verify_chunks(
        &self,
        mut entries: Unverified,
        format: LedgerFormat,
        chunk: usize,
    ) -> Option<(usize, Receiver<ChunkVerdicts>)> {
        let jobs = self.jobs.lock().ok()?.clone()?;
        let (done, verdicts) = channel();
        let mut number = 0;
        while !entries.is_empty() {
            let job = Job { number, format, entries: entries.take_front(chunk.max(1)), done: done.clone() };
            jobs.send(job).ok()?;
            number += 1;
        }
        Some((number, verdicts))
    }

    /// Stops the threads once the queued chunks are done. Later calls do nothing.
    pub fn stop(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let workers = self.workers.lock().map(|mut workers| std::mem::take(&mut *workers)).unwrap_or_default();
        for worker in workers {
            // Panics are caught per job, so a worker only ends by the queue closing.
            let _ = worker.join();
        }
    }
}

impl Drop for Verifiers {
    fn drop(&mut self) {
        self.stop();
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only to take a job, never while verifying.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(Job { number, format, entries, done }) = job else { return };
        let verdicts = catch_unwind(AssertUnwindSafe(|| entries.verify(format))).ok();
        // The submitter may have given up (an error in an earlier chunk): nothing to do.
        let _ = done.send((number, verdicts));
    }
}
