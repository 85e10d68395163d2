//! Retry policy for cluster calls: exponential backoff with full jitter,
//! bounded in attempts and in total time; `Retry-After` pauses the whole pool.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
    /// No retry starts later than this after the first attempt.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // TSMIGRATE_RETRY_BASE_MS shortens the waits (tests, benchmarks).
        let base_ms = std::env::var("TSMIGRATE_RETRY_BASE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(200);
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_millis(base_ms),
            max_delay: Duration::from_millis(base_ms.saturating_mul(40))
                .max(Duration::from_millis(1)),
            max_total: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt` (1-based retries), with full jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.min(16));
        let cap = exp.min(self.max_delay);
        let ms = cap.as_millis() as u64;
        let half = ms / 2;
        Duration::from_millis(half + rand::rng().random_range(0..=ms - half))
    }
}

/// A pause shared by every request of one client: a 429 with `Retry-After`
/// holds back the whole pool, not just the request that got it.
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
    fn delays_grow_and_stay_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_total: Duration::from_secs(10),
        };
        let d1 = p.delay(1);
        assert!(
            d1 >= Duration::from_millis(100) && d1 <= Duration::from_millis(200),
            "{d1:?}"
        );
        for a in 1..30 {
            assert!(p.delay(a) <= Duration::from_millis(1000));
        }
    }
}
