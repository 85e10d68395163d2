//! SIGINT and SIGTERM: a future for clean shutdowns, and `Abort`, the flag
//! long operations check to stop starting new work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Resolves at the next SIGINT or SIGTERM.
pub async fn shutdown_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A flag set once (by a signal, or by a failure that must stop new work)
/// and awaited by whoever waits for it.
#[derive(Clone, Default, Debug)]
pub struct Abort(Arc<AbortInner>);

#[derive(Default, Debug)]
struct AbortInner {
    set: AtomicBool,
    notify: Notify,
}

impl Abort {
    pub fn set(&self) {
        self.0.set.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_set(&self) -> bool {
        self.0.set.load(Ordering::SeqCst)
    }

    pub async fn wait(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

/// Sets `interrupt` and calls `on_first` at the first SIGINT/SIGTERM, and
/// calls `on_second` at the second (which is expected to end the process).
pub fn on_signals(
    interrupt: Abort,
    on_first: impl FnOnce() + Send + 'static,
    on_second: impl FnOnce() + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        shutdown_requested().await;
        interrupt.set();
        on_first();
        shutdown_requested().await;
        on_second();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn abort_wakes_waiters() {
        let a = Abort::default();
        let b = a.clone();
        let waiter = tokio::spawn(async move { b.wait().await });
        a.set();
        waiter.await.unwrap();
        assert!(a.is_set());
    }
}
