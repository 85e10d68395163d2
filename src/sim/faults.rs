//! Injected faults: latency, random 503s and 429s, failure after N writes,
//! permanently rejected actions, and the ThoughtSpot Cloud rate limit (a
//! token bucket: `--rate-limit` per second, burst 10, then 429 without
//! `Retry-After`). Seeded, so a run can be repeated.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Requests allowed beyond the rate before 429s start.
pub const RATE_BURST: f64 = 10.0;

#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub latency_ms: u64,
    /// Share of requests (all but login) answered 503.
    pub fail_rate: f64,
    /// Share of requests (all but login) answered 429 with `Retry-After: 1`.
    pub throttle_rate: f64,
    /// Every write after the Nth fails with 500 until restart.
    pub fail_after: Option<u64>,
    /// Every write to an action of one of these names answers 400.
    pub reject_actions: Vec<String>,
    /// Requests per second allowed (burst 10); beyond it, 429.
    pub rate_limit: Option<f64>,
    /// Sessions (and the `--token`) expire this long after they begin.
    pub session_ttl: Option<Duration>,
    pub seed: Option<u64>,
}

pub(crate) enum Injected {
    Unavailable,
    Throttled,
}

pub(crate) struct FaultState {
    rng: Mutex<StdRng>,
    fail_rate: f64,
    throttle_rate: f64,
    bucket: Option<Mutex<Bucket>>,
}

struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl FaultState {
    pub(crate) fn new(f: &Faults) -> Self {
        let rng = match f.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        FaultState {
            rng: Mutex::new(rng),
            fail_rate: f.fail_rate,
            throttle_rate: f.throttle_rate,
            bucket: f.rate_limit.filter(|r| *r > 0.0).map(|rate| {
                Mutex::new(Bucket {
                    rate,
                    tokens: RATE_BURST,
                    at: Instant::now(),
                })
            }),
        }
    }

    /// One draw per request decides whether it fails, is throttled, or passes.
    pub(crate) fn draw(&self) -> Option<Injected> {
        if self.fail_rate <= 0.0 && self.throttle_rate <= 0.0 {
            return None;
        }
        let x: f64 = match self.rng.lock() {
            Ok(mut rng) => rng.random(),
            Err(poisoned) => poisoned.into_inner().random(),
        };
        if x < self.fail_rate {
            Some(Injected::Unavailable)
        } else if x < self.fail_rate + self.throttle_rate {
            Some(Injected::Throttled)
        } else {
            None
        }
    }

    /// Takes a token of the rate limit; `false` means 429.
    pub(crate) fn admit(&self) -> bool {
        let Some(bucket) = &self.bucket else {
            return true;
        };
        let Ok(mut b) = bucket.lock() else {
            return true;
        };
        let now = Instant::now();
        let refill = (now - b.at).as_secs_f64() * b.rate;
        b.tokens = (b.tokens + refill).min(RATE_BURST);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate() {
        let f = FaultState::new(&Faults {
            rate_limit: Some(1.0),
            ..Faults::default()
        });
        let admitted = (0..20).filter(|_| f.admit()).count();
        assert_eq!(
            admitted, 10,
            "the burst, then nothing until the bucket refills"
        );
    }
}
