//! What every scenario's requests share: who signs them, their `Host`
//! header, signing before the clock starts, and the cheap random numbers that
//! pick what to ask for. Apart from the scenarios so that any of them, and the
//! photos they upload, can use it.

use hyper::header::HeaderValue;

use crate::LoadError;
use crate::target::Target;

/// The contractor that registers every item.
pub const CONTRACTOR: &str = "baltic-demolition";

/// Makes `count` request bodies (or photos) with `make` on every core: signing
/// is the clients' work, done before the clock starts.
pub fn sign_in_parallel<T: Send>(count: usize, make: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let share = count.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..count)
            .step_by(share)
            .map(|first| {
                let make = &make;
                scope.spawn(move || (first..count.min(first + share)).map(make).collect::<Vec<_>>())
            })
            .collect();
        parts.into_iter().flat_map(|part| part.join().unwrap_or_default()).collect()
    })
}

/// The `Host` header of every request.
pub fn host(target: &Target) -> Result<HeaderValue, LoadError> {
    HeaderValue::from_str(target.address())
        .map_err(|error| LoadError::Setup(format!("address {}: {error}", target.address())))
}

/// The next number of a SplitMix64 sequence: cheap, and good enough to spread
/// page views evenly over the items.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
