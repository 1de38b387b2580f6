//! The group commit: one submitter fdatasyncs the log for every record appended so far while
//! the others wait for that sync, so that many concurrent submissions share one sync; then the
//! records become visible to readers and their index updates go to the indexer.

use std::sync::atomic::Ordering;

use super::Ledger;
use super::error::LedgerError;
use crate::chain::Seq;

impl Ledger {
    /// Group commit: returns once record `seq` is durable (its index update is
    /// then queued for the indexer).
    ///
    /// If no sync is under way, this submitter leads one for every record
    /// appended so far; otherwise it waits for the one under way to end, then
    /// looks again. Waiters are woken together, so those the sync covered return
    /// at once instead of queueing one by one behind the next sync.
    pub(super) fn wait_durable(&self, seq: Seq) -> Result<(), LedgerError> {
        if self.durable.load(Ordering::Acquire) > seq.get() {
            return Ok(());
        }
        let mut syncing = self.syncing.lock().map_err(|_| LedgerError::Poisoned)?;
        loop {
            if self.durable.load(Ordering::Acquire) > seq.get() {
                // Another submitter's sync covered this record.
                return Ok(());
            }
            if self.poisoned.load(Ordering::Acquire) {
                return Err(LedgerError::Poisoned);
            }
            if !*syncing {
                break;
            }
            syncing = self.synced.wait(syncing).map_err(|_| LedgerError::Poisoned)?;
        }
        *syncing = true;
        drop(syncing);
        // Ends the leadership however the sync ends, a panic included, so that
        // the waiters look again (and find the record durable or the ledger poisoned).
        let _leading = Leading(self);
        self.sync_appended()
    }

    /// Fdatasyncs the log for every record appended so far, makes them visible
    /// and hands their index updates to the indexer. Only the group commit's
    /// leader calls it.
    fn sync_appended(&self) -> Result<(), LedgerError> {
        let (private, handle, upto, digest, updates) = {
            let mut core = self.lock_core()?;
            let private = core.private.sync_handle();
            let digest = (core.state.digest(), core.tree.root());
            (private, core.log.sync_handle(), core.tree.len(), digest, core.take_unindexed())
        };
        // The disclosures first: a durable record's disclosures must be durable too.
        let synced = private
            .and_then(|private| private.map_or(Ok(()), |private| private.sync().map_err(LedgerError::Private)))
            .and_then(|()| handle.and_then(|handle| handle.sync()).map_err(LedgerError::from));
        if let Err(error) = synced {
            self.poisoned.store(true, Ordering::Release);
            return Err(error);
        }
        if let Ok(mut durable) = self.durable_digest.lock() {
            *durable = (upto, digest.0, digest.1);
        }
        self.durable.store(upto, Ordering::Release);
        if let Err(error) = self.indexer.enqueue(updates) {
            // The records are durable, but readers would wait for them in vain: stop
            // and let a reopen rebuild the index from the log.
            self.poisoned.store(true, Ordering::Release);
            return Err(error.into());
        }
        Ok(())
    }
}

/// The group commit's leadership, held while one submitter syncs for all;
/// dropping it lets the next one lead and wakes every waiter.
struct Leading<'a>(&'a Ledger);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        let ledger = self.0;
        // A poisoned lock (a panic while it was held) already fails every waiter.
        if let Ok(mut syncing) = ledger.syncing.lock() {
            *syncing = false;
        }
        ledger.synced.notify_all();
    }
}
