//! When a failed call is sent again: the backoff (exponential with jitter,
//! from `backon`), the budget in attempts and in time, and the pause that a
//! `Retry-After` puts on every request to the cluster, not only the one
//! that got it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::config::settings::RetryPolicy;

/// The waits between attempts, in order: `base`, doubling, with jitter,
/// capped at `max_delay`.
pub fn delays(policy: &RetryPolicy) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::new()
        .with_min_delay(policy.base)
        .with_max_delay(policy.max_delay)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
        .build()
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
        let d: Vec<Duration> = delays(&p).collect();
        assert_eq!(d.len(), 4, "one wait between each two of 5 attempts");
        assert!(d[0] >= Duration::from_millis(100) && d[0] <= Duration::from_millis(200));
        assert!(d.iter().all(|x| *x <= Duration::from_millis(2000)));
    }
}
