//! Injected faults: latency, random 503s and 429s, failure after N writes,
//! and permanently rejected actions. Seeded, so a run can be repeated.

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
}
