//! Progress of long writes: a bar on a terminal; off a terminal a line
//! every few seconds ("Still writing… 120/301 writes, 12 s"), as terraform
//! prints "Still creating…".

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::apply::Progress;
use crate::output::Printer;

/// Time between two "Still writing…" lines.
const EVERY: Duration = Duration::from_secs(10);

pub struct Writes {
    printer: Printer,
    bar: Mutex<Option<indicatif::ProgressBar>>,
    total: AtomicUsize,
    done: AtomicUsize,
    started: Mutex<Instant>,
    last_line: Mutex<Instant>,
    /// "writing" or "undoing", for the lines.
    verb: &'static str,
}

impl Writes {
    pub fn new(printer: &Printer, verb: &'static str) -> Writes {
        Writes {
            printer: printer.clone(),
            bar: Mutex::new(None),
            total: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            started: Mutex::new(Instant::now()),
            last_line: Mutex::new(Instant::now()),
            verb,
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Writes {
    fn begin(&self, total: usize, journal: &Path) {
        self.printer
            .info(&format!("journal: {}", journal.display()));
        self.total.store(total, Ordering::Relaxed);
        if let Ok(mut s) = self.started.lock() {
            *s = Instant::now();
        }
        if let Ok(mut l) = self.last_line.lock() {
            *l = Instant::now();
        }
        if self.printer.draws_progress() {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {pos}/{len} writes {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            if let Ok(mut slot) = self.bar.lock() {
                *slot = Some(bar);
            }
        }
    }

    fn wrote(&self, what: &str) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = self.bar.lock().ok().and_then(|b| b.clone()) {
            bar.set_message(what.to_string());
            bar.inc(1);
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed() >= EVERY {
            *last = Instant::now();
            let secs = self
                .started
                .lock()
                .map(|s| s.elapsed().as_secs())
                .unwrap_or(0);
            self.printer.info(&format!(
                "Still {}… {done}/{} writes, {secs} s",
                self.verb,
                self.total.load(Ordering::Relaxed)
            ));
        }
    }
}
