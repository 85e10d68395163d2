//! Request pacing that adapts to a cluster's rate limit (ThoughtSpot Cloud:
//! 100 requests/s per client, burst 10, then 429, possibly without
//! `Retry-After`). Unpaced until the first 429; then requests are spaced
//! evenly. On a 429 the pace drops to what the cluster actually let
//! through since the last cut (at most 0.95× the pace): once the limit is
//! reached, that is the limit. Between 429s the pace rises, fast while well
//! below the measured limit and slowly near it. One cut per
//! epoch: answers to requests sent before a cut, or within a tenth of a
//! second after it, do not cut again.
//!
//! Measured on the simulator's token bucket (`scripts/bench-apply.sh`):
//! 1,000 writes at 100/s with 16 in flight, 20 ms away, take about 1.05×
//! the 10 s the limit allows, with 2% of requests meeting a 429.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A cut keeps at most this share of the pace.
const CUT: f64 = 0.95;
/// Near the measured limit the pace rises by this share of itself a second.
const RISE_NEAR: f64 = 0.03;
/// Below it the pace grows this many e-folds a second (×20 in one second).
const RISE_FAR: f64 = 3.0;
/// "Near": above this share of the measured limit.
const NEAR: f64 = 0.9;
/// The slow rise near the limit lasts this long after a cut; then the
/// pace probes upward again (e-folds a second), so that a limit measured
/// too low does not hold it down.
const HOLD: Duration = Duration::from_secs(2);
const RISE_PROBE: f64 = 1.0;
/// Successes are remembered this long.
const WINDOW: Duration = Duration::from_secs(1);
/// The limit is measured over at most this much of the recent past: long
/// enough to count, short enough to leave out a climb toward it.
const MEASURE: Duration = Duration::from_millis(300);
/// No second cut sooner than this after a cut (the bucket is still empty).
const MIN_SPAN: Duration = Duration::from_millis(100);
/// A measurement over less than this is noisy: it cuts to 0.6× at most.
const SHORT_MEASURE: Duration = Duration::from_millis(200);
const SHORT_FLOOR: f64 = 0.6;
const MIN_RATE: f64 = 1.0;

#[derive(Debug, Default)]
pub struct Pacer(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    /// Requests per second; `None` until the cluster first says 429.
    rate: Option<f64>,
    /// What the cluster let through while it said 429: its limit.
    limit: Option<f64>,
    next_slot: Option<Instant>,
    last_cut: Option<Instant>,
    /// Times of recent successes (within `WINDOW`).
    successes: VecDeque<Instant>,
    first_send: Option<Instant>,
}

impl State {
    fn trim(&mut self, now: Instant) {
        while self.successes.front().is_some_and(|t| now - *t > WINDOW) {
            self.successes.pop_front();
        }
    }

    /// Successes per second since `since` (over at most `WINDOW`), if that
    /// span is long enough to say.
    fn achieved_since(&self, since: Instant, now: Instant) -> Option<f64> {
        let span = (now - since).min(MEASURE);
        if span < MIN_SPAN {
            return None;
        }
        let from = now - span;
        let n = self.successes.iter().filter(|t| **t >= from).count();
        let achieved = n as f64 / span.as_secs_f64();
        match self.rate {
            Some(rate) if span < SHORT_MEASURE => Some(achieved.max(rate * SHORT_FLOOR)),
            _ => Some(achieved),
        }
    }
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
        s.trim(now);
        if let Some(rate) = s.rate {
            let holding = s.last_cut.is_some_and(|c| now - c < HOLD);
            let per_second = match s.limit {
                Some(l) if rate > NEAR * l && holding => (RISE_NEAR * rate).max(0.5),
                Some(_) => RISE_PROBE * rate,
                None => RISE_FAR * rate,
            };
            s.rate = Some(rate + per_second / rate);
        }
    }

    /// A 429 for a request sent at `sent`.
    pub fn throttled(&self, sent: Instant) {
        let Ok(mut s) = self.0.lock() else { return };
        let now = Instant::now();
        // Sent before the last cut: that cut already counted it. Soon after
        // a cut the bucket is still empty; the next cut waits until what
        // gets through can be measured.
        if s.last_cut
            .is_some_and(|cut| sent < cut || now - cut < MIN_SPAN)
        {
            return;
        }
        s.trim(now);
        let first = s.first_send.unwrap_or(now);
        let rate = match s.rate {
            // The unpaced start: what got through in the last moment (the
            // burst and the refill); too high at worst, and cut again soon.
            None => {
                let from = now - MIN_SPAN;
                let recent = s.successes.iter().filter(|t| **t >= from).count();
                recent as f64 / MIN_SPAN.as_secs_f64()
            }
            Some(rate) => {
                let since = s.last_cut.unwrap_or(first);
                match s.achieved_since(since, now) {
                    Some(achieved) => {
                        s.limit = Some(achieved);
                        (rate * CUT).min(achieved)
                    }
                    None => rate * CUT,
                }
            }
        };
        let rate = rate.max(MIN_RATE);
        s.rate = Some(rate);
        s.last_cut = Some(now);
        // Slots already handed out stand; a cut never brings them forward.
        let spaced = now + Duration::from_secs_f64(1.0 / rate);
        s.next_slot = Some(s.next_slot.map_or(spaced, |n| n.max(spaced)));
        tracing::debug!("rate limited: pacing at {rate:.1} requests/s");
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
        if let Ok(mut s) = p.0.lock() {
            s.first_send = Some(Instant::now() - Duration::from_millis(500));
        }
        let before = Instant::now();
        for _ in 0..10 {
            p.succeeded();
        }
        p.throttled(before);
        let r1 = p.rate().unwrap();
        assert!(
            (90.0..=110.0).contains(&r1),
            "{r1}: the first cut paces at what got through in the last tenth of a second"
        );
        // An answer to a request sent before the cut does not cut again.
        p.throttled(before);
        assert_eq!(p.rate().unwrap(), r1);
        p.succeeded();
        assert!(p.rate().unwrap() > r1);
        // Too soon after the cut to measure: no second cut.
        p.throttled(Instant::now());
        assert!(p.rate().unwrap() > r1);
        if let Ok(mut s) = p.0.lock() {
            s.last_cut = Some(Instant::now() - Duration::from_millis(300));
        }
        p.throttled(Instant::now());
        assert!(p.rate().unwrap() < r1);
    }
}
