//! `--latency-ms` held to the tenth of a millisecond. The async runtime's
//! timer rounds each deadline up to a whole millisecond and adds its own
//! wake-up slack: about 2 ms a request on a small VM, which would be added
//! to every round trip an apply benchmark counts against its bound. Here a
//! thread of its own keeps the deadlines and wakes each answer when its
//! time comes, with the operating system's precise sleep.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Instant;

use tokio::sync::oneshot;

/// A waiting answer: woken at `at`; `seq` keeps equal deadlines in order.
struct Waiting {
    at: Instant,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The deadline keeper; its thread ends when this is dropped.
pub struct Deadlines {
    tx: Sender<(Instant, oneshot::Sender<()>)>,
}

impl Deadlines {
    pub fn start() -> std::io::Result<Deadlines> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sim-latency".into())
            .spawn(move || keep(rx))?;
        Ok(Deadlines { tx })
    }

    /// Returns at `at` (at once if it has passed).
    pub async fn until(&self, at: Instant) {
        if at <= Instant::now() {
            return;
        }
        let (wake, woken) = oneshot::channel();
        let sent = self.tx.send((at, wake)).is_ok();
        if !sent || woken.await.is_err() {
            // The keeper is gone (it never panics; this is for shutdown):
            // the runtime's timer is the fallback.
            tokio::time::sleep_until(at.into()).await;
        }
    }
}

fn keep(rx: Receiver<(Instant, oneshot::Sender<()>)>) {
    let mut heap: BinaryHeap<Reverse<Waiting>> = BinaryHeap::new();
    let mut seq = 0u64;
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|Reverse(w)| w.at <= now) {
            if let Some(Reverse(w)) = heap.pop() {
                // The request may have been dropped (client gone): fine.
                let _ = w.wake.send(());
            }
        }
        let next = match heap.peek() {
            Some(Reverse(w)) => rx.recv_timeout(w.at - now),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok((at, wake)) => {
                seq += 1;
                heap.push(Reverse(Waiting { at, seq, wake }));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                // No more requests: wake those still waiting, then stop.
                for Reverse(w) in heap.drain() {
                    let _ = w.wake.send(());
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn answers_wake_in_deadline_order_and_never_early() {
        let d = Deadlines::start().unwrap();
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let order = std::sync::Mutex::new(Vec::new());
        let wait = |ms: u64| {
            let (d, order) = (&d, &order);
            async move {
                d.until(at(ms)).await;
                assert!(Instant::now() >= at(ms), "woken before {ms} ms");
                order.lock().unwrap().push(ms);
            }
        };
        tokio::join!(wait(6), wait(2), wait(4), wait(0));
        assert_eq!(*order.lock().unwrap(), [0, 2, 4, 6]);
    }
}
