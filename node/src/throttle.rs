//! Log lines that strangers can cause, bounded: a flood of bad requests must
//! not become a flood of log lines (disk, journald, the operator's attention).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Admits at most `per_second` events a second and counts the rest, so the
/// next admitted line can say how many were left out.
pub(crate) struct Throttle {
    per_second: u32,
    // (start of the current second, admitted in it, suppressed since the last admitted)
    window: Mutex<Option<(Instant, u32, u64)>>,
}

impl Throttle {
    /// A throttle admitting `per_second` events a second.
    pub(crate) const fn new(per_second: u32) -> Throttle {
        Throttle { per_second, window: Mutex::new(None) }
    }

    /// `Some(suppressed)` if this event may be logged, with how many were
    /// suppressed before it; `None` if it is to be counted only.
    pub(crate) fn admit(&self) -> Option<u64> {
        let Ok(mut window) = self.window.lock() else { return None };
        let now = Instant::now();
        let (start, admitted, suppressed) = window.get_or_insert((now, 0, 0));
        if now.duration_since(*start) >= Duration::from_secs(1) {
            (*start, *admitted) = (now, 0);
        }
        if *admitted < self.per_second {
            *admitted += 1;
            Some(std::mem::take(suppressed))
        } else {
            *suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Throttle;

    #[test]
    fn a_burst_is_admitted_up_to_the_rate_and_the_rest_counted() {
        let throttle = Throttle::new(3);
        let admitted: Vec<Option<u64>> = (0..10).map(|_| throttle.admit()).collect();
        assert_eq!(admitted.iter().filter(|a| a.is_some()).count(), 3);
        assert_eq!(&admitted[..3], &[Some(0), Some(0), Some(0)]);
    }
}
