//! How much of the node large submissions may take, so that a few clients
//! posting megabytes as fast as the network carries them cannot starve
//! everyone else (forty such clients cost the consortium its leader).
//!
//! Two bounds, both only on what is large, so small requests never wait:
//!
//! - [`BulkBytes`]: the bytes of request bodies beyond their first
//!   [`FREE_BODY_BYTES`] are read at most at [`BULK_BYTES_PER_SECOND`] in all.
//!   A body past its share waits to be read, so TCP's flow control holds its
//!   sender back at no cost to the node (or to the sender's own machine).
//! - [`BulkLane`]: decoding large bodies and verifying many signatures runs on
//!   the blocking pool a few tasks at a time, in the order they came, rather
//!   than on as many threads as there are such requests.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::ApiError;

/// The bytes of each body that are read without waiting for the budget:
/// every single entry and most small batches.
pub(crate) const FREE_BODY_BYTES: usize = 64 * 1024;

/// The rate at which a node reads the large parts of bodies, all clients
/// together: 16 MiB/s is some sixteen thousand typical entries a second,
/// more than a node of two cores records.
pub(crate) const BULK_BYTES_PER_SECOND: u64 = 16 * 1024 * 1024;

/// A shared budget of body bytes per second (a token bucket whose balance
/// may go below zero: a reader takes what it needs and waits off the debt).
pub(crate) struct BulkBytes {
    per_second: u64,
    state: Mutex<Balance>,
}

struct Balance {
    /// Bytes that may be read now; negative while readers wait.
    bytes: f64,
    at: Instant,
}

impl BulkBytes {
    /// A budget of `per_second` bytes a second, of which up to a second's
    /// worth may be taken at once.
    pub fn new(per_second: u64) -> BulkBytes {
        BulkBytes { per_second, state: Mutex::new(Balance { bytes: per_second as f64, at: Instant::now() }) }
    }

    /// Waits until `bytes` may be read.
    pub async fn take(&self, bytes: usize) {
        let wait = self.reserve(bytes, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes `bytes` from the balance at `now` and says how long to wait
    /// before reading them.
    fn reserve(&self, bytes: usize, now: Instant) -> Duration {
        let per_second = self.per_second.max(1) as f64;
        let Ok(mut balance) = self.state.lock() else { return Duration::ZERO };
        let earned = now.saturating_duration_since(balance.at).as_secs_f64() * per_second;
        balance.bytes = (balance.bytes + earned).min(per_second);
        balance.at = now;
        balance.bytes -= bytes as f64;
        if balance.bytes >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-balance.bytes / per_second) }
    }
}

/// The lane of CPU-heavy work on large submissions.
pub(crate) struct BulkLane {
    permits: tokio::sync::Semaphore,
}

impl BulkLane {
    /// A lane of half the machine's cores, at least one.
    pub fn new() -> BulkLane {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        BulkLane { permits: tokio::sync::Semaphore::new((cores / 2).max(1)) }
    }

    /// Runs `work` on the blocking pool once the lane has room for it.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(|e| ApiError::internal(format!("the bulk lane: {e}")))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::internal(format!("a bulk task failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_admits_its_rate_and_makes_the_rest_wait() {
        let budget = BulkBytes::new(1000);
        let start = Instant::now();
        // A second's worth at once, then each reader waits off its debt.
        assert_eq!(budget.reserve(1000, start), Duration::ZERO);
        assert_eq!(budget.reserve(500, start), Duration::from_millis(500));
        assert_eq!(budget.reserve(500, start), Duration::from_millis(1000));
        // Time pays the debt back: two seconds on, the balance is back at zero.
        assert_eq!(budget.reserve(0, start + Duration::from_secs(1)), Duration::ZERO);
        assert_eq!(budget.reserve(100, start + Duration::from_secs(1)), Duration::from_millis(100));
        // An idle budget saves up no more than a second's worth.
        let later = start + Duration::from_secs(60);
        assert_eq!(budget.reserve(1000, later), Duration::ZERO);
        assert_eq!(budget.reserve(1, later), Duration::from_millis(1));
    }
}
