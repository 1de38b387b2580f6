//! How many impact reports one client may have computed (`GET /reports/impact`,
//! docs/impact.md): a token bucket per client, so that a stranger cycling through distinct
//! scopes can neither keep a core busy forever nor, holding the node's one report permit, deny
//! reports to everyone else. Kept reports cost nothing and are served to anyone.
//!
//! A client is the address its TCP connection comes from ([`Client`]): an IPv4 address, or
//! the /64 prefix of an IPv6 one (one host usually holds a whole /64, so counting addresses
//! would give it billions of budgets). Headers such as `X-Forwarded-For` are not read: anyone
//! can write them, so trusting them would let a client name a fresh address with every
//! request. Behind a reverse proxy every client therefore shares the proxy's budget.
//!
//! A bucket is one instant per client, the moment it is full again ([`ReportBudget`]); a
//! client without one has a full bucket, so forgetting a bucket that is full again loses
//! nothing. At most [`TRACKED`] clients are tracked; see [`ReportBudget::spend`] for which is
//! forgotten when the table is full. Every method takes the time, so that tests need no clock.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The reports a client that has been idle may have computed at once: enough to look at a
/// building, a member and a period one after the other without waiting.
pub(crate) const BURST: u32 = 3;

/// The time in which a client earns one more report, up to [`BURST`]: at most three per ten
/// minutes, eighteen an hour, once the burst is spent. A report of a ledger of 1,000,000
/// records takes some 10 s of one core (docs/performance.md, row 31), so one client keeps at
/// most about a twentieth of a core busy, and leaves the report permit free 95 % of the time.
pub(crate) const REFILL: Duration = Duration::from_secs(200);

/// The most clients whose buckets are kept. An entry is a client (16 bytes) and an instant
/// (16), well under 100 bytes with the table's overhead: at most some 400 KiB in all. An
/// entry is made only when a report is computed, one at a time, and means nothing once its
/// bucket is full again (after at most `BURST × REFILL`, ten minutes), so at 10 s a report
/// some sixty clients have buckets that matter; the bound is for small ledgers, whose reports
/// are fast, and for the entries full again, which are dropped only when the table is full.
pub(crate) const TRACKED: usize = 4096;

/// Who a budget belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Client {
    /// A request that came without its connection's address (a test calling the router
    /// directly): all such requests share one budget.
    Unknown,
    /// An IPv4 address (an IPv4-mapped IPv6 address, `::ffff:a.b.c.d`, counts as its IPv4
    /// address, as on a dual-stack listener).
    V4(Ipv4Addr),
    /// The first 64 bits of an IPv6 address.
    V6(u64),
}

impl Client {
    /// The client that `address` belongs to.
    pub(crate) fn of(address: IpAddr) -> Client {
        match address.to_canonical() {
            IpAddr::V4(v4) => Client::V4(v4),
            IpAddr::V6(v6) => Client::V6((v6.to_bits() >> 64) as u64),
        }
    }
}

/// The client of a request, from the connection's address the server gave it
/// (`ConnectInfo<SocketAddr>`, or axum's `MockConnectInfo` in tests); [`Client::Unknown`]
/// without one.
impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Client, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer)
            .or_else(|| parts.extensions.get::<MockConnectInfo<SocketAddr>>().map(|MockConnectInfo(peer)| *peer));
        Ok(peer.map_or(Client::Unknown, |peer| Client::of(peer.ip())))
    }
}

/// The clients' buckets: `burst` reports at once, one more every `refill`.
pub(crate) struct ReportBudget {
    burst: u32,
    refill: Duration,
    tracked: usize,
    /// For each client that spent lately, the instant its bucket is full again (later than
    /// now by `refill` for each report it may not have now). An absent client's is full.
    full_at: Mutex<HashMap<Client, Instant>>,
}

impl ReportBudget {
    /// The node's budget: [`BURST`], [`REFILL`], [`TRACKED`].
    pub(crate) fn new() -> ReportBudget {
        ReportBudget::with(BURST, REFILL, TRACKED)
    }

    /// A budget of `burst` reports, one more every `refill`, for at most `tracked` clients.
    pub(crate) fn with(burst: u32, refill: Duration, tracked: usize) -> ReportBudget {
        ReportBudget { burst: burst.max(1), refill, tracked: tracked.max(1), full_at: Mutex::default() }
    }

    /// Whether `client` may have a report computed at `now`; if not, how long until it may.
    /// Spends nothing.
    pub(crate) fn check(&self, client: Client, now: Instant) -> Result<(), Duration> {
        let full_at = self.full_at.lock().unwrap_or_else(PoisonError::into_inner);
        self.owed_after_one(&full_at, client, now).map(|_| ())
    }

    /// Spends one of `client`'s reports at `now`, or says how long until it has one.
    ///
    /// When the table is full and `client` is not in it, the buckets that are full again are
    /// dropped (that changes no one's budget); if none is, the one nearest to full is: the
    /// client that spent longest ago or least (in effect the oldest). A client cannot cheaply
    /// get its own bucket forgotten so: every entry is a report computed, one at a time, and a
    /// spent-out bucket is the last to go, once `tracked` other clients had reports computed
    /// within its `burst × refill` (4096 reports in ten minutes, at 10 s a report 11 hours).
    pub(crate) fn spend(&self, client: Client, now: Instant) -> Result<(), Duration> {
        let mut full_at = self.full_at.lock().unwrap_or_else(PoisonError::into_inner);
        let owed = self.owed_after_one(&full_at, client, now)?;
        if !full_at.contains_key(&client) && full_at.len() >= self.tracked {
            full_at.retain(|_, full| *full > now);
            if full_at.len() >= self.tracked {
                let nearest = full_at.iter().min_by_key(|(_, full)| **full).map(|(client, _)| *client);
                if let Some(nearest) = nearest {
                    full_at.remove(&nearest);
                }
            }
        }
        full_at.insert(client, now + owed);
        Ok(())
    }

    /// How far from full `client`'s bucket would be after one more report at `now`, or, if
    /// that is more than the bucket holds, how long until it is not.
    fn owed_after_one(
        &self,
        full_at: &HashMap<Client, Instant>,
        client: Client,
        now: Instant,
    ) -> Result<Duration, Duration> {
        let owed =
            full_at.get(&client).map_or(Duration::ZERO, |full| full.saturating_duration_since(now)) + self.refill;
        let holds = self.refill * self.burst;
        if owed <= holds { Ok(owed) } else { Err(owed - holds) }
    }

    /// The number of clients tracked.
    #[cfg(test)]
    fn tracked_now(&self) -> usize {
        self.full_at.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// `wait` in whole seconds for `Retry-After`, rounded up, at least 1.
pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn v4(text: &str) -> Client {
        Client::of(text.parse().unwrap())
    }

    #[test]
    fn a_burst_is_granted_at_once_and_then_one_report_per_refill() {
        let budget = ReportBudget::with(3, Duration::from_secs(200), 16);
        let (start, client) = (Instant::now(), v4("192.0.2.7"));
        for _ in 0..3 {
            assert_eq!(budget.check(client, start), Ok(()));
            assert_eq!(budget.spend(client, start), Ok(()));
        }
        // Spent: refused until one refill has passed, and a refusal spends nothing.
        assert_eq!(budget.check(client, start), Err(Duration::from_secs(200)));
        assert_eq!(budget.spend(client, start), Err(Duration::from_secs(200)));
        let later = start + Duration::from_secs(150);
        assert_eq!(budget.spend(client, later), Err(Duration::from_secs(50)));
        // One more each refill, no more.
        let refilled = start + Duration::from_secs(200);
        assert_eq!(budget.spend(client, refilled), Ok(()));
        assert_eq!(budget.spend(client, refilled), Err(Duration::from_secs(200)));
        // Idle for a whole bucket's time: the full burst again, and no more than the burst.
        let idle = refilled + 10 * MINUTE;
        for _ in 0..3 {
            assert_eq!(budget.spend(client, idle), Ok(()));
        }
        assert_eq!(budget.spend(client, idle), Err(Duration::from_secs(200)));
        // Another client has its own bucket.
        assert_eq!(budget.spend(v4("192.0.2.8"), idle), Ok(()));
        assert_eq!(retry_after_seconds(Duration::from_millis(200_001)), 201);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64_and_a_mapped_ipv4_address_is_its_ipv4_one() {
        let host = Client::of("2001:db8:1:2::1".parse().unwrap());
        assert_eq!(host, Client::of("2001:db8:1:2:ffff:ffff:ffff:fffe".parse().unwrap()));
        assert_eq!(host, Client::V6(0x2001_0db8_0001_0002));
        assert_ne!(host, Client::of("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(Client::of(IpAddr::V6(Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped())), v4("192.0.2.7"));
        assert_ne!(v4("192.0.2.7"), v4("192.0.2.8"));
        assert_ne!(Client::of(IpAddr::V6(Ipv6Addr::LOCALHOST)), v4("127.0.0.1"));

        // One budget for the whole /64.
        let budget = ReportBudget::with(2, MINUTE, 16);
        let now = Instant::now();
        for address in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
            assert_eq!(budget.spend(Client::of(address.parse().unwrap()), now), Ok(()));
        }
        assert_eq!(budget.spend(Client::of("2001:db8:1:2:abcd::9".parse().unwrap()), now), Err(MINUTE));
        assert_eq!(budget.spend(Client::of("2001:db8:1:3::1".parse().unwrap()), now), Ok(()));
    }

    #[test]
    fn a_flood_of_addresses_is_bounded_and_leaves_a_spent_bucket_in_place() {
        let budget = ReportBudget::with(3, Duration::from_secs(200), 16);
        let start = Instant::now();
        let spent = v4("198.51.100.1");
        for _ in 0..3 {
            budget.spend(spent, start).unwrap();
        }
        for n in 0..10_000u32 {
            let flooder = Client::V4(Ipv4Addr::from(0x0a00_0000 + n));
            assert_eq!(budget.spend(flooder, start + Duration::from_millis(u64::from(n))), Ok(()));
            assert!(budget.tracked_now() <= 16);
        }
        // The spent bucket was the farthest from full: each new client forgot another.
        assert_eq!(budget.check(spent, start + Duration::from_secs(10)), Err(Duration::from_secs(190)));
    }

    #[test]
    fn a_full_table_forgets_the_buckets_full_again_first_then_the_nearest_to_full() {
        let budget = ReportBudget::with(3, Duration::from_secs(200), 3);
        let start = Instant::now();
        let [spent, once, twice, newcomer] = [1, 2, 3, 4].map(|n| Client::V4(Ipv4Addr::new(203, 0, 113, n)));
        for _ in 0..3 {
            budget.spend(spent, start).unwrap();
        }
        budget.spend(once, start).unwrap();
        budget.spend(twice, start).unwrap();
        budget.spend(twice, start).unwrap();
        // Full: `once` (full again at 200 s) goes, not `twice` (400 s) nor `spent` (600 s).
        let now = start + Duration::from_secs(1);
        budget.spend(newcomer, now).unwrap();
        assert_eq!(budget.tracked_now(), 3);
        assert_eq!(budget.check(spent, now), Err(Duration::from_secs(199)));
        // `twice` is still tracked: one more is its last.
        budget.spend(twice, now).unwrap();
        assert_eq!(budget.check(twice, now), Err(Duration::from_secs(199)));
        // Once every bucket but `spent`'s is full again, a newcomer forgets those only.
        let later = start + Duration::from_secs(450);
        let another = Client::V4(Ipv4Addr::new(203, 0, 113, 5));
        budget.spend(another, later).unwrap();
        assert_eq!(budget.tracked_now(), 3, "spent, twice and another: newcomer was full again at 201 s");
        // `spent` owes 150 s of its bucket's 600 s: two reports are back, not three.
        assert_eq!(budget.spend(spent, later), Ok(()));
        assert_eq!(budget.spend(spent, later), Ok(()));
        assert_eq!(budget.check(spent, later), Err(Duration::from_secs(150)));
    }
}
