//! The consortium's members as this node's ledger names them, for checking
//! the signatures on the requests and answers nodes exchange.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use salvage_ledger::custody::Member;
use salvage_ledger::store::Ledger;

/// How long the members read from the ledger are trusted before being read
/// again: a revoked operator key is refused at most this long after its revocation.
const MEMBERS_TTL: Duration = Duration::from_secs(1);

/// The members, read from the ledger at most once per [`MEMBERS_TTL`].
pub struct Roster {
    ledger: Arc<Ledger>,
    cached: Mutex<Option<(Instant, Arc<Vec<Member>>)>>,
}

impl Roster {
    /// The members of `ledger`.
    pub fn new(ledger: Arc<Ledger>) -> Roster {
        Roster { ledger, cached: Mutex::new(None) }
    }

    /// The members now, read on the blocking pool when the cached ones are old.
    pub async fn members(&self) -> Result<Arc<Vec<Member>>, String> {
        if let Ok(cached) = self.cached.lock()
            && let Some((read, members)) = cached.as_ref()
            && read.elapsed() < MEMBERS_TTL
        {
            return Ok(Arc::clone(members));
        }
        let ledger = Arc::clone(&self.ledger);
        let members = tokio::task::spawn_blocking(move || ledger.members())
            .await
            .map_err(|e| format!("reading the members failed: {e}"))?
            .map_err(|e| format!("reading the members: {e}"))?;
        let members = Arc::new(members);
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((Instant::now(), Arc::clone(&members)));
        }
        Ok(members)
    }
}
