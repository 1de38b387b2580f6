//! The commit queue: submissions from many clients, handed to the ledger together.
//!
//! Each `POST /v1/entries` puts its entries on the queue and waits for their
//! outcomes. Committer threads take everything queued at once (whole
//! submissions, never split, up to [`MAX_BATCH`] entries) and pass it to
//! [`Ledger::submit_pending_disclosed`] as one batch, in queue order: the entries are
//! checked and appended exactly as if each submission had come alone, in that
//! order. The batch then goes to the settler thread, which waits until its
//! records are durable ([`Ledger::settle`], one `fdatasync` for everything
//! appended by then) and answers each submission with its own outcomes. No
//! answer leaves before its records are durable.
//!
//! Why this shape: a blocking-pool thread per request made every request cost
//! several thread wake-ups and a contended lock or two; with the queue, many
//! requests share one hand-off and one `fdatasync`. And because committers
//! hand the waiting to the settler, they go straight on to the next batch:
//! when committers waited for their own sync, requests queued behind them for
//! a free committer while the cores idled (measured in the history of docs/performance.md).

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use salvage_ledger::refusal::Refusal;
use salvage_ledger::store::{Ledger, PendingOutcomes, Receipt};
use tokio::sync::oneshot;

use super::ApiError;

/// The most entries one batch gathers from the queue (a submission larger than
/// this goes alone, whole).
const MAX_BATCH: usize = 1024;

/// How many threads check and append batches (one would be busy most of the
/// time on a 2-core node under load, and a batch would wait for it).
const COMMITTERS: usize = 2;

/// A submitted entry and the disclosures that came beside it (none on a
/// format-1 ledger, or for an entry that withholds nothing).
pub(crate) type Submitted = (salvage_ledger::entry::SignedEntry, Vec<salvage_ledger::disclosure::Disclosure>);

/// The outcome of each entry of a submission, in its order: the receipt or the refusal.
pub(crate) type Outcomes = Vec<Result<Receipt, Refusal>>;

/// The queue and the threads that commit what is put on it.
pub(crate) struct CommitQueue {
    // `None` once the queue is closing.
    queue: Mutex<Option<Sender<Submission>>>,
    // The committers first, then the settler: it ends once they have.
    threads: Vec<JoinHandle<()>>,
}

/// One request's entries and where their outcomes go.
struct Submission {
    entries: Vec<Submitted>,
    answer: Answer,
}

/// Where one request's outcomes go.
type Answer = oneshot::Sender<Result<Outcomes, ApiError>>;

/// A batch whose records are appended, waiting to be durable: the ledger's
/// pending outcomes and, in the same order, each submission's answer and size.
struct Appended {
    pending: PendingOutcomes,
    answers: Vec<(Answer, usize)>,
}

impl CommitQueue {
    /// Starts the committer and settler threads of `ledger`.
    pub fn start(ledger: &Arc<Ledger>) -> std::io::Result<CommitQueue> {
        let (queue, submissions) = channel::<Submission>();
        let (appended, to_settle) = channel::<Appended>();
        let submissions = Arc::new(Mutex::new(submissions));
        let mut threads = (0..COMMITTERS)
            .map(|n| {
                let (ledger, submissions, appended) = (Arc::clone(ledger), Arc::clone(&submissions), appended.clone());
                std::thread::Builder::new()
                    .name(format!("salvage-commit-{n}"))
                    .spawn(move || commit_loop(&ledger, &submissions, &appended))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        // The settler's queue closes when the last committer drops its sender.
        drop(appended);
        let ledger = Arc::clone(ledger);
        threads.push(
            std::thread::Builder::new()
                .name("salvage-settle".into())
                .spawn(move || settle_loop(&ledger, &to_settle))?,
        );
        Ok(CommitQueue { queue: Mutex::new(Some(queue)), threads })
    }

    /// Submits `entries` (in order) and waits until they are committed: the
    /// outcome of each, once every accepted one is durable.
    pub async fn submit(&self, entries: Vec<Submitted>) -> Result<Outcomes, ApiError> {
        let (answer, outcome) = oneshot::channel();
        let queued = self
            .queue
            .lock()
            .ok()
            .and_then(|queue| queue.as_ref().map(|queue| queue.send(Submission { entries, answer })))
            .is_some_and(|sent| sent.is_ok());
        if !queued {
            return Err(ApiError::internal("the node is shutting down and takes no more submissions"));
        }
        outcome.await.map_err(|_| ApiError::internal("a committer thread stopped before answering"))?
    }
}

impl Drop for CommitQueue {
    /// Commits and settles what is queued, then stops the threads; they hold the
    /// ledger, which must be closed (its index flushed, its lock released) when
    /// the node is dropped.
    fn drop(&mut self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A committer's loop: wait for a submission, take whatever else is queued,
/// check and append it all as one batch and pass it to the settler. Ends when
/// the queue closes.
fn commit_loop(ledger: &Ledger, submissions: &Mutex<Receiver<Submission>>, appended: &Sender<Appended>) {
    while let Some(batch) = next_batch(submissions) {
        let (entries, answers): (Vec<Vec<Submitted>>, Vec<(Answer, usize)>) = batch
            .into_iter()
            .map(|submission| {
                let size = submission.entries.len();
                (submission.entries, (submission.answer, size))
            })
            .unzip();
        match ledger.submit_pending_disclosed(entries.into_iter().flatten().collect()) {
            Ok(pending) => {
                if let Err(unsent) = appended.send(Appended { pending, answers }) {
                    // The settler is gone (it only ends with the queue): nobody
                    // can be told their records are durable.
                    answer_all(unsent.0.answers, &ApiError::internal("the settler thread stopped"));
                }
            }
            Err(error) => answer_all(answers, &ApiError::from(error)),
        }
    }
}

/// The settler's loop: for each appended batch, wait until its records are
/// durable and answer its submissions. One `fdatasync` covers every batch
/// appended before it started, so the batches behind it settle at once.
fn settle_loop(ledger: &Ledger, to_settle: &Receiver<Appended>) {
    while let Ok(Appended { pending, answers }) = to_settle.recv() {
        match ledger.settle(pending) {
            Ok(outcomes) => {
                let mut outcomes = outcomes.into_iter();
                for (answer, size) in answers {
                    // A client that went away no longer waits for its answer.
                    let _ = answer.send(Ok(outcomes.by_ref().take(size).collect()));
                }
            }
            Err(error) => answer_all(answers, &ApiError::from(error)),
        }
    }
}

fn answer_all(answers: Vec<(Answer, usize)>, error: &ApiError) {
    for (answer, _) in answers {
        let _ = answer.send(Err(error.clone()));
    }
}

/// The next batch: the first submission to arrive and every one queued behind
/// it, up to [`MAX_BATCH`] entries. `None` once the queue is closed and empty.
fn next_batch(submissions: &Mutex<Receiver<Submission>>) -> Option<Vec<Submission>> {
    // One committer at a time gathers; the other is committing meanwhile.
    let submissions = submissions.lock().ok()?;
    let first = submissions.recv().ok()?;
    let mut count = first.entries.len();
    let mut batch = vec![first];
    while count < MAX_BATCH {
        match submissions.try_recv() {
            Ok(next) => {
                count += next.entries.len();
                batch.push(next);
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use std::sync::Arc;

    use salvage_ledger::refusal::RefusalCode;
    use salvage_ledger::store::Ledger;
    use salvage_ledger::testkit::Fixture;

    use super::CommitQueue;

    fn giai(n: usize) -> String {
        format!("4750001QUEUE-{n:04}")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_submission_gets_the_outcomes_of_its_own_entries_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Fixture::new();
        let ledger = Arc::new(Ledger::create(dir.path(), fixture.genesis.clone()).unwrap());
        let queue = Arc::new(CommitQueue::start(&ledger).unwrap());
        // Many single entries at once, an array whose entries depend on each
        // other, and an entry the custody rules refuse (its item does not exist).
        let mut tasks = Vec::new();
        for n in 0..40 {
            let (queue, entry) =
                (Arc::clone(&queue), fixture.register("baltic-demolition", &giai(n), "brick pallet", 900.0));
            tasks.push(tokio::spawn(async move { (vec![entry.id()], queue.submit(vec![(entry, Vec::new())]).await) }));
        }
        let chain = vec![
            fixture.register("baltic-demolition", &giai(100), "door", 40.0),
            fixture.transfer("baltic-demolition", &giai(100), "reuse-hub"),
            fixture.receive("reuse-hub", &giai(100)),
        ];
        let ids = chain.iter().map(|entry| entry.id()).collect();
        let chain_queue = Arc::clone(&queue);
        tasks.push(tokio::spawn(async move {
            (ids, chain_queue.submit(chain.into_iter().map(|entry| (entry, Vec::new())).collect()).await)
        }));
        let unknown = fixture.transfer("baltic-demolition", &giai(999), "reuse-hub");
        let refused = queue.submit(vec![(unknown, Vec::new())]).await.unwrap();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].as_ref().unwrap_err().code, RefusalCode::ItemUnknown);

        let mut seqs = Vec::new();
        for task in tasks {
            let (ids, outcomes) = task.await.unwrap();
            let outcomes = outcomes.unwrap();
            assert_eq!(outcomes.len(), ids.len(), "one outcome per entry submitted");
            for (id, outcome) in ids.iter().zip(outcomes) {
                let receipt = outcome.unwrap();
                assert_eq!(&receipt.entry_id, id, "each receipt is for the entry in that position");
                seqs.push(receipt.seq.get());
            }
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=43).collect::<Vec<u64>>(), "every accepted entry has its own record");
        assert_eq!(ledger.size(), 44, "every receipt was answered after its record was durable");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_queue_stops_its_threads_and_releases_the_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Fixture::new();
        let ledger = Arc::new(Ledger::create(dir.path(), fixture.genesis.clone()).unwrap());
        let queue = CommitQueue::start(&ledger).unwrap();
        let outcomes = queue
            .submit(vec![(fixture.register("baltic-demolition", &giai(1), "beam", 100.0), Vec::new())])
            .await
            .unwrap();
        assert!(outcomes[0].is_ok());
        drop(queue);
        drop(ledger);
        // The committers held the ledger; had they outlived the queue, its directory would still be locked.
        let (reopened, report) = Ledger::open(dir.path()).unwrap();
        assert_eq!((report.size, reopened.size()), (2, 2));
    }
}
