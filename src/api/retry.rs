//! When a failed call is sent again: the backoff (exponential with jitter,
//! from `backon`), the budget in attempts and in time, and the pause that a
//! `Retry-After` puts on every request to the cluster, not only the one
//! that got it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts for a transient failure (connection, 429, 502/503/504).
    pub max_attempts: u32,
    /// Attempts for a 500: it is the cluster's answer, so two more at most.
    pub max_attempts_500: u32,
    /// Attempts for a 429: it promises the request was not processed, and
    /// the pacer slows down, so more tries are safe (time still bounds them).
    pub max_attempts_429: u32,
    pub base: Duration,
    pub max_delay: Duration,
    /// No retry starts later than this after the first attempt.
    pub max_total: Duration,
}

impl RetryPolicy {
    /// The policy with `base` as the first wait (tests and benchmarks
    /// shorten it; the default is 200 ms).
    pub fn with_base(base: Duration) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            max_attempts_500: 3,
            max_attempts_429: 40,
            base,
            max_delay: base.saturating_mul(40).max(Duration::from_millis(1)),
            max_total: Duration::from_secs(120),
        }
    }

    /// The waits between attempts, in order: `base`, doubling, with jitter,
    /// capped at `max_delay`.
    pub fn delays(&self) -> impl Iterator<Item = Duration> {
        ExponentialBuilder::new()
            .with_min_delay(self.base)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .build()
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::with_base(Duration::from_millis(200))
    }
}

/// A pause shared by every request to one cluster: a 429 with
/// `Retry-After` holds back the whole pool, not just the request that got it.
#[derive(Debug, Clone, Default)]
pub struct PoolPause(Arc<Mutex<Option<Instant>>>);

impl PoolPause {
    pub fn extend(&self, until: Instant) {
        if let Ok(mut slot) = self.0.lock() {
            if slot.is_none_or(|cur| cur < until) {
                *slot = Some(until);
            }
        }
    }

    pub async fn wait(&self) {
        let until = self.0.lock().ok().and_then(|s| *s);
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                tokio::time::sleep(until - now).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_stay_capped_and_end() {
        let p = RetryPolicy {
            max_attempts: 5,
            max_attempts_500: 3,
            max_attempts_429: 40,
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_total: Duration::from_secs(10),
        };
        let d: Vec<Duration> = p.delays().collect();
        assert_eq!(d.len(), 4, "one wait between each two of 5 attempts");
        assert!(d[0] >= Duration::from_millis(100) && d[0] <= Duration::from_millis(200));
        assert!(d.iter().all(|x| *x <= Duration::from_millis(2000)));
    }
}
