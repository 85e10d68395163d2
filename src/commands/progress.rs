//! Progress of long writes: a bar on a terminal; off a terminal a line
//! every few seconds ("Still writing… 120/301 writes, 12 s"), as terraform
//! prints "Still creating…".

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::apply::events::Event;
use crate::apply::Progress;
use crate::config::Environment;
use crate::error::Error;
use crate::output::Printer;

/// Time between two "Still writing…" lines, unless
/// `TSMIGRATE_PROGRESS_EVERY` says otherwise.
const EVERY: Duration = Duration::from_secs(10);

/// The time between two progress lines: `TSMIGRATE_PROGRESS_EVERY`
/// (seconds or with a unit; `0` for a line per write), else 10 s.
pub fn every(env: &Environment) -> Result<Duration, Error> {
    match env.get("TSMIGRATE_PROGRESS_EVERY") {
        None => Ok(EVERY),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(secs) => Ok(Duration::from_secs(secs)),
            Err(_) => humantime::parse_duration(v.trim()).map_err(|e| {
                Error::Usage(format!(
                    "TSMIGRATE_PROGRESS_EVERY={v:?} is not a duration ({e})"
                ))
            }),
        },
    }
}

pub struct Writes {
    printer: Printer,
    bar: Mutex<Option<indicatif::ProgressBar>>,
    total: AtomicUsize,
    done: AtomicUsize,
    started: Mutex<Instant>,
    last_line: Mutex<Instant>,
    /// "writing" or "undoing", for the lines.
    verb: &'static str,
    /// An undo began (after a failed apply): the lines say "undoing".
    undoing: AtomicBool,
    every: Duration,
}

impl Writes {
    pub fn new(printer: &Printer, verb: &'static str, every: Duration) -> Writes {
        Writes {
            printer: printer.clone(),
            bar: Mutex::new(None),
            total: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            started: Mutex::new(Instant::now()),
            last_line: Mutex::new(Instant::now()),
            verb,
            undoing: AtomicBool::new(false),
            every,
        }
    }

    fn verb(&self) -> &'static str {
        if self.undoing.load(Ordering::Relaxed) {
            "undoing"
        } else {
            self.verb
        }
    }

    /// Counting starts again from zero for `total` requests.
    fn restart(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        if let Ok(mut s) = self.started.lock() {
            *s = Instant::now();
        }
        if let Ok(mut l) = self.last_line.lock() {
            *l = Instant::now();
        }
        if !self.printer.draws_progress() {
            return;
        }
        if let Ok(mut slot) = self.bar.lock() {
            let bar = slot.get_or_insert_with(|| {
                indicatif::ProgressBar::new(total as u64).with_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} [{bar:30}] {pos}/{len} writes {msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                )
            });
            bar.set_length(total as u64);
            bar.set_position(0);
            bar.set_message(self.verb());
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
        self.printer.info(&format!(
            "journal: {} (removed once the apply is verified; kept for rollback otherwise)",
            journal.display()
        ));
        self.restart(total);
    }

    fn begin_undo(&self, total: usize) {
        self.undoing.store(true, Ordering::Relaxed);
        self.restart(total);
    }

    fn event(&self, e: &Event) {
        if !e.ends_request() {
            return;
        }
        let what = e.pointer().unwrap_or_default();
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = self.bar.lock().ok().and_then(|b| b.clone()) {
            bar.set_message(what.to_string());
            bar.inc(1);
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed() >= self.every {
            *last = Instant::now();
            let secs = self
                .started
                .lock()
                .map(|s| s.elapsed().as_secs())
                .unwrap_or(0);
            self.printer.info(&format!(
                "Still {}… {done}/{} writes, {secs} s",
                self.verb(),
                self.total.load(Ordering::Relaxed)
            ));
        }
    }
}
