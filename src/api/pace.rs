//! Request pacing that adapts to a cluster's rate limit (ThoughtSpot Cloud:
//! 100 requests/s per client, burst 10, then 429, possibly without
//! `Retry-After`). Unpaced until the first 429; then requests are spaced
//! evenly at a rate that is cut multiplicatively on a 429 (once per epoch:
//! answers to requests sent before the last cut do not cut again) and
//! raised additively on success, so throughput stays near the limit with
//! few 429s.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Cut on a 429: the new rate is this share of the old one.
const CUT: f64 = 0.7;
/// Rise per second of successful sending, in requests per second.
const RISE_PER_SECOND: f64 = 4.0;
/// Window over which the achieved success rate is measured.
const WINDOW: Duration = Duration::from_secs(1);
const MIN_RATE: f64 = 1.0;

#[derive(Debug, Default)]
pub struct Pacer(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    /// Requests per second; `None` until the cluster first says 429.
    rate: Option<f64>,
    next_slot: Option<Instant>,
    last_cut: Option<Instant>,
    /// Times of recent successes (within `WINDOW`).
    successes: VecDeque<Instant>,
    first_send: Option<Instant>,
}

impl Pacer {
    /// Waits for this request's slot; returns when it was sent.
    pub async fn wait(&self) -> Instant {
        let slot = {
            let Ok(mut s) = self.0.lock() else {
                return Instant::now();
            };
            let now = Instant::now();
            s.first_send.get_or_insert(now);
            match s.rate {
                None => now,
                Some(rate) => {
                    let slot = s.next_slot.map_or(now, |n| n.max(now));
                    s.next_slot = Some(slot + Duration::from_secs_f64(1.0 / rate));
                    slot
                }
            }
        };
        let now = Instant::now();
        if slot > now {
            tokio::time::sleep(slot - now).await;
        }
        slot
    }

    pub fn succeeded(&self) {
        let Ok(mut s) = self.0.lock() else { return };
        let now = Instant::now();
        s.successes.push_back(now);
        while s.successes.front().is_some_and(|t| now - *t > WINDOW) {
            s.successes.pop_front();
        }
        if let Some(rate) = s.rate {
            s.rate = Some(rate + RISE_PER_SECOND / rate);
        }
    }

    /// A 429 for a request sent at `sent`.
    pub fn throttled(&self, sent: Instant) {
        let Ok(mut s) = self.0.lock() else { return };
        if s.last_cut.is_some_and(|cut| sent < cut) {
            return; // sent before the last cut: that cut already counted it
        }
        let now = Instant::now();
        while s.successes.front().is_some_and(|t| now - *t > WINDOW) {
            s.successes.pop_front();
        }
        // What the cluster actually let through lately, over at least a
        // fifth of a second so that one burst does not look like a rate.
        let span = s
            .first_send
            .map_or(WINDOW, |f| (now - f).min(WINDOW))
            .max(Duration::from_millis(200));
        let achieved = s.successes.len() as f64 / span.as_secs_f64();
        let cut = match s.rate {
            Some(rate) => rate * CUT,
            None => f64::INFINITY,
        };
        let rate = if achieved > 0.0 {
            cut.min(achieved)
        } else {
            cut
        };
        let rate = if rate.is_finite() { rate } else { 10.0 };
        s.rate = Some(rate.max(MIN_RATE));
        s.last_cut = Some(now);
        s.next_slot = Some(now + Duration::from_secs_f64(1.0 / rate.max(MIN_RATE)));
        tracing::debug!(
            "rate limited: pacing at {:.1} requests/s",
            rate.max(MIN_RATE)
        );
    }

    /// The current pace, if any.
    #[cfg(test)]
    pub fn rate(&self) -> Option<f64> {
        self.0.lock().ok().and_then(|s| s.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_once_per_epoch_and_rises_on_success() {
        let p = Pacer::default();
        let before = Instant::now();
        for _ in 0..50 {
            p.succeeded();
        }
        p.throttled(before);
        let r1 = p.rate().unwrap();
        assert!((1.0..=250.0).contains(&r1), "{r1}");
        // An answer to a request sent before the cut does not cut again.
        p.throttled(before);
        assert_eq!(p.rate().unwrap(), r1);
        p.succeeded();
        assert!(p.rate().unwrap() > r1);
        p.throttled(Instant::now());
        assert!(p.rate().unwrap() < r1);
    }
}
