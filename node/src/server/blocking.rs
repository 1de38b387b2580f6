//! The ledger is synchronous (a read may touch the disk, a submission waits for
//! an `fdatasync`), so the node reads it on tokio's blocking pool, never on the
//! reactor.

use std::sync::Arc;

use salvage_ledger::store::Ledger;

use super::error::ApiError;

/// Runs `read` against `ledger` on the blocking pool.
pub(crate) async fn on_ledger<T, F>(ledger: &Arc<Ledger>, read: F) -> Result<T, ApiError>
where
    F: FnOnce(&Ledger) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let ledger = Arc::clone(ledger);
    tokio::task::spawn_blocking(move || read(&ledger))
        .await
        .map_err(|e| ApiError::internal(format!("a ledger task failed: {e}")))?
}
