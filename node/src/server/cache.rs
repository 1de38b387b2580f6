//! What page views would otherwise recompute on every request, kept per
//! ledger size.
//!
//! A provenance page verifies the item's record signatures and the checkpoint's
//! signature, checks an inclusion proof and renders the HTML: hundreds of
//! microseconds for a page that only changes when the ledger does. The ledger
//! only grows, so its size names its state: the checkpoint of size `n` and an
//! item's page at size `n` (in one language) are the same whenever they are
//! made. Both caches are therefore keyed by the size, and a page made at an
//! older size is never served once the ledger has grown (the page shows the
//! checkpoint's size, so serving it would be visibly stale).
//!
//! - [`CheckpointCache`]: the operator's signed checkpoint, signed once per size.
//! - [`PageCache`]: rendered pages by item, language and size, within a byte
//!   budget; the oldest are dropped first when it is full.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use salvage_ledger::checkpoint::SignedCheckpoint;
use salvage_ledger::ident::Giai;

/// How many bytes of rendered pages a node keeps: a few thousand pages.
pub(crate) const PAGE_BUDGET: usize = 32 * 1024 * 1024;

/// The latest signed checkpoint the node made.
#[derive(Default)]
pub(crate) struct CheckpointCache {
    latest: Mutex<Option<Arc<SignedCheckpoint>>>,
}

impl CheckpointCache {
    /// The kept checkpoint, if it is of tree size `size`.
    pub fn at(&self, size: u64) -> Option<Arc<SignedCheckpoint>> {
        let latest = self.latest.lock().ok()?;
        latest.as_ref().filter(|checkpoint| checkpoint.checkpoint.size() == size).cloned()
    }

    /// Keeps `checkpoint` unless one of a larger tree, or of the same tree
    /// with as many signatures, is kept already (two requests may sign
    /// concurrently, and cosignatures arrive later: the newer and the more
    /// cosigned checkpoint wins).
    pub fn keep(&self, checkpoint: Arc<SignedCheckpoint>) {
        let better = |kept: &Arc<SignedCheckpoint>| {
            let (kept_size, size) = (kept.checkpoint.size(), checkpoint.checkpoint.size());
            kept_size < size || (kept_size == size && kept.signatures.len() < checkpoint.signatures.len())
        };
        if let Ok(mut latest) = self.latest.lock()
            && latest.as_ref().is_none_or(better)
        {
            *latest = Some(checkpoint);
        }
    }
}

/// Rendered provenance pages of one ledger size.
pub(crate) struct PageCache {
    budget: usize,
    pages: Mutex<Pages>,
}

/// What a page shows of the ledger: the size of the checkpoint it was
/// rendered against and how many signatures that checkpoint carried (a page
/// made before the other nodes' cosignatures came in is not served after).
/// Later versions compare greater.
pub(crate) type PageVersion = (u64, usize);

// INVARIANT: every page in `by_key` was rendered at version `version`;
// `order` holds each key of `by_key` once, oldest first; `bytes` is the sum of
// the pages' lengths and at most the budget.
#[derive(Default)]
struct Pages {
    version: PageVersion,
    by_key: HashMap<PageKey, Bytes>,
    order: VecDeque<PageKey>,
    bytes: usize,
}

/// An item's page in one language (the locale's code).
type PageKey = (Giai, String);

impl PageCache {
    /// An empty cache that keeps at most `budget` bytes of pages.
    pub fn new(budget: usize) -> PageCache {
        PageCache { budget, pages: Mutex::new(Pages::default()) }
    }

    /// The page of `giai` in `locale` as rendered at `version`, if kept.
    pub fn get(&self, giai: &Giai, locale: &str, version: PageVersion) -> Option<Bytes> {
        let pages = self.pages.lock().ok()?;
        if pages.version != version {
            return None;
        }
        pages.by_key.get(&(giai.clone(), locale.to_owned())).cloned()
    }

    /// Keeps a page rendered at `version`. Pages of an older version are
    /// dropped, as they can never be served again; a page of an older version
    /// than those kept, or larger than the whole budget, is not kept.
    pub fn keep(&self, giai: Giai, locale: &str, version: PageVersion, page: Bytes) {
        let Ok(mut pages) = self.pages.lock() else { return };
        if version < pages.version || page.len() > self.budget {
            return;
        }
        if version > pages.version {
            *pages = Pages { version, ..Pages::default() };
        }
        let key = (giai, locale.to_owned());
        if let Some(old) = pages.by_key.remove(&key) {
            pages.bytes -= old.len();
            pages.order.retain(|kept| kept != &key);
        }
        while pages.bytes + page.len() > self.budget {
            let Some(oldest) = pages.order.pop_front() else { break };
            if let Some(dropped) = pages.by_key.remove(&oldest) {
                pages.bytes -= dropped.len();
            }
        }
        pages.bytes += page.len();
        pages.order.push_back(key.clone());
        pages.by_key.insert(key, page);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests;
