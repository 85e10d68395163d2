//! Making the target match: the one apply sequence (validate → compute →
//! confirm or dry run → execute → verify, and on failure undo → check),
//! used by `apply`, `watch --apply`, `demo` and `rollout`. It prints
//! nothing; the report says what happened.

pub mod changes;
pub mod events;
pub mod executor;
pub mod journal;
pub mod lock;
pub mod rollback;
pub mod verify;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde_json::Value;
use tokio::sync::watch;

pub use changes::{compute, Changes, Counts, Current};
pub use executor::{NoProgress, Progress};

use crate::error::Error;
use crate::fetch::Side;
use crate::select::Selection;
use crate::signals::Abort;
use crate::validate::{self, Missing, TargetFacts};
use crate::words::{agree, plural};
use changes::ActionChange;
use events::Event;
use journal::{Entry, Journal};

/// Asked before anything is written; an error cancels.
pub type Confirm<'a> = &'a (dyn Fn(&Changes) -> Result<(), Error> + Sync);

/// Everything one apply needs.
pub struct Request<'a> {
    /// The live target as read under its lock.
    pub target: lock::Locked<'a>,
    /// What the target should become (secrets resolved).
    pub desired: Value,
    /// Secret placeholders nobody gave a value for.
    pub unresolved: Vec<String>,
    /// What the comparison (or plan) leaves as it is.
    pub notes: crate::diff::Notes,
    pub prune: bool,
    pub skip_missing: bool,
    pub dry_run: bool,
    pub parallel: usize,
    pub journal: PathBuf,
    pub selection: &'a Selection,
    pub confirm: Option<Confirm<'a>>,
    pub progress: &'a dyn Progress,
    /// Set (by a signal) to stop starting writes and undo.
    pub interrupt: Abort,
    /// Actions compared as both APIs hold them (`Comparison::view`): the
    /// target is read back the same way.
    pub view: Option<crate::api::Api>,
}

/// What apply would not or could not do, to be told.
#[derive(Debug, Default)]
pub struct Notes {
    /// Differences left as they are (unremovable keys, kept actions).
    pub left: crate::diff::Notes,
    /// Associations not added: their object is not on the target.
    pub skipped: Vec<Missing>,
    /// VISUALIZATION associations, which cannot be looked up.
    pub unchecked: Vec<String>,
    /// Secrets without a value of actions that change: the target keeps its own.
    pub kept_secrets: Vec<String>,
    /// Every secret without a value.
    pub unresolved: Vec<String>,
    /// Things that happened along the way worth a note (a delete that
    /// found nothing, a stray removed from another Org).
    pub events: Vec<events::Event>,
}

#[derive(Debug)]
pub enum Report {
    /// The target already matches.
    Unchanged { notes: Notes },
    /// `--dry-run`: the requests that would be sent.
    DryRun {
        requests: Vec<String>,
        counts: Counts,
        notes: Notes,
    },
    Applied {
        counts: Counts,
        /// Requests sent (a retried request counts once).
        writes: usize,
        elapsed: Duration,
        notes: Notes,
    },
}

/// Runs one apply. Errors: a problem found before writing (exit 1), a
/// failure after which the target was restored (4) or not (5).
pub async fn apply(mut req: Request<'_>) -> Result<Report, Error> {
    let started = Instant::now();
    let target = req.target.side();
    let cluster = target.live()?.clone();
    let mut desired = std::mem::take(&mut req.desired);
    let checked = {
        // The config keys' metadata is as large as the config: dropped
        // once checked.
        let overrides = crate::fetch::overrides_for(target, &desired).await?;
        let facts = TargetFacts {
            doc: &target.doc,
            overrides: overrides.as_ref(),
        };
        validate::validate(
            &mut desired,
            &facts,
            Some(&cluster),
            &target.label,
            req.skip_missing,
        )
        .await?
    };
    let current = Current {
        doc: &target.doc,
        raw: &target.raw,
        ids: &target.ids,
        projected: req.view.is_some(),
    };
    let ch = compute(&current, &desired, req.selection, req.prune);
    refuse_unresolved_creates(&ch, &req.unresolved, &target.label)?;
    refuse_placeholders(&ch, &desired, &target.doc, &target.label)?;
    // From here on only what the apply writes is read of either document
    // (verification and the undo's check look at that part alone): the
    // rest of both, most of two whole clusters on a small change, goes.
    let desired = verify::written(std::mem::take(&mut desired), &ch);
    req.target.keep_only(|doc| verify::written(doc, &ch));
    let target = req.target.side();
    let cluster = &cluster;
    let merged = |a: &[String], b: &[String]| {
        let mut v: Vec<String> = a.iter().chain(b).cloned().collect();
        v.sort();
        v.dedup();
        v
    };
    let mut notes = Notes {
        left: crate::diff::Notes {
            unremovable: merged(&ch.unremovable, &req.notes.unremovable),
            unwritable: req.notes.unwritable.clone(),
            kept: merged(&ch.kept, &req.notes.kept),
            partial: req.notes.partial.clone(),
            shared_config: req.notes.shared_config,
            config_scope: req.notes.config_scope.clone(),
            // Written (allowed) or refused before this: nothing left.
            protected: Vec::new(),
            server_owned: req.notes.server_owned.clone(),
        },
        skipped: checked.skipped,
        unchecked: checked.unchecked,
        // Only where it matters: an action that changes keeps its value.
        kept_secrets: of_actions(&ch, &req.unresolved, changes::ActionOp::Update)
            .into_iter()
            .cloned()
            .collect(),
        unresolved: req.unresolved.clone(),
        events: Vec::new(),
    };
    if ch.is_empty() {
        return Ok(Report::Unchanged { notes });
    }
    if req.dry_run {
        return Ok(Report::DryRun {
            requests: ch.describe(),
            counts: ch.counts(),
            notes,
        });
    }
    if let Some(confirm) = req.confirm {
        confirm(&ch)?;
    }
    if req.interrupt.is_set() {
        return Err(Error::Usage(
            "interrupted by a signal; nothing was written".into(),
        ));
    }
    let journal = Journal::create(
        &req.journal,
        &target.url,
        target.org.as_ref(),
        &target.label,
    )?;
    req.progress.begin(ch.writes(), &journal.path);
    // This apply's own flag: its failure stops its writes, not those of
    // the other targets of a rollout; a signal (the parent) stops all.
    let stop = req.interrupt.child();
    // The journal reads the stream too, for its informational records.
    let both = executor::Both(&journal, req.progress);
    let recorder = executor::Recorder::new(&both);
    let run = execute(cluster, &ch, &journal, req.parallel, &stop, &recorder).await;
    let (events, unneeded) = recorder.finish();
    notes.events.extend(events);
    let failure = if let Some(f) = run.failure {
        Some(f)
    } else if stop.is_set() {
        Some("interrupted by a signal; no new writes were started".to_string())
    } else {
        match verify::applied(cluster, &target.doc, &desired, &ch, req.selection, req.view).await {
            Ok(()) => None,
            Err(remainder) => Some(format!(
                "verification found the target different from the plan:\n  {remainder}"
            )),
        }
    };
    let Some(failure) = failure else {
        let _ = journal.finish("applied").await;
        let files = journal::files_lock();
        let _ = std::fs::remove_file(&journal.path);
        drop(files);
        return Ok(Report::Applied {
            counts: ch.counts(),
            // What was sent: a POST not needed after a PUT was not.
            writes: ch.writes().saturating_sub(unneeded),
            elapsed: started.elapsed(),
            notes,
        });
    };
    let how = UndoHow {
        ch: &ch,
        selection: req.selection,
        parallel: req.parallel,
        progress: req.progress,
        view: req.view,
    };
    undo_after_failure(cluster, &journal, target, &how, &failure).await
}

/// How the undo after a failure writes and checks.
struct UndoHow<'a> {
    /// What the apply meant to write: the part the undo checks.
    ch: &'a Changes,
    selection: &'a Selection,
    parallel: usize,
    progress: &'a dyn Progress,
    view: Option<crate::api::Api>,
}

/// The secrets (pointers) of `pointers` that belong to an action this
/// apply changes by `op`.
fn of_actions<'a>(ch: &Changes, pointers: &'a [String], op: changes::ActionOp) -> Vec<&'a String> {
    let names = ch
        .actions
        .iter()
        .filter(|a| a.op == op)
        .map(|a| a.name.as_str())
        .collect();
    crate::secrets::of_actions(pointers, &names)
}

/// An action must never be created with a secret nobody gave.
fn refuse_unresolved_creates(
    ch: &Changes,
    unresolved: &[String],
    label: &str,
) -> Result<(), Error> {
    let missing = of_actions(ch, unresolved, changes::ActionOp::Create);
    if missing.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "{} of actions to create {} no value, and the target has none to keep; nothing was written. Give {} with --secrets FILE or TSMIGRATE_SECRET_* variables:",
        plural(missing.len(), "secret", "secrets"),
        agree(missing.len(), "has", "have"),
        agree(missing.len(), "it", "them"),
    );
    for p in missing {
        message.push_str(&format!(
            "\n  {p} (${})",
            crate::secrets::SecretValues::env_name(p)
        ));
    }
    Err(Error::input(label, message))
}

/// A placeholder is never sent: one left in what is to be written (not
/// at a secret path, inside a secret given whole, or naming another
/// pointer than its own) stops the apply before anything is written. A
/// value the target already holds is not a change and is let be.
fn refuse_placeholders(
    ch: &Changes,
    desired: &Value,
    target: &Value,
    label: &str,
) -> Result<(), Error> {
    let mut found = Vec::new();
    let mut look = |mut segs: Vec<String>| {
        if let Some(v) = crate::pointer::get(desired, &segs) {
            placeholders_in(&mut segs, v, target, &mut found);
        }
    };
    if ch.config.is_some() {
        look(vec!["config".to_string()]);
    }
    for a in &ch.actions {
        look(vec!["actions".to_string(), a.name.clone()]);
    }
    if found.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "{} to write {} secret {}, which no cluster may receive; nothing was written. Give each secret at its own pointer in --secrets FILE (JSON: pointer → value):",
        plural(found.len(), "value", "values"),
        agree(found.len(), "is a", "are"),
        agree(found.len(), "placeholder", "placeholders"),
    );
    for (at, text) in found {
        message.push_str(&format!("\n  {at} holds {text}"));
    }
    Err(Error::input(label, message))
}

fn placeholders_in(
    path: &mut Vec<String>,
    value: &Value,
    target: &Value,
    found: &mut Vec<(String, String)>,
) {
    match value {
        Value::String(s)
            if crate::secrets::placeholder_pointer(s).is_some()
                && crate::pointer::get(target, path) != Some(value) =>
        {
            found.push((crate::pointer::join(path), s.clone()));
        }
        Value::Object(m) => {
            for (k, v) in m {
                path.push(k.clone());
                placeholders_in(path, v, target, found);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(i.to_string());
                placeholders_in(path, v, target, found);
                path.pop();
            }
        }
        _ => {}
    }
}

struct Run {
    failure: Option<String>,
}

/// Sends every write of `ch` in phases (config; creates and updates; then
/// deletes), each object journaled first. Stops starting new objects at
/// the first failure that retries cannot cure, or when `stop` is set.
async fn execute(
    cluster: &crate::api::Cluster,
    ch: &Changes,
    journal: &Journal,
    parallel: usize,
    stop: &Abort,
    progress: &dyn Progress,
) -> Run {
    let mut run = Run { failure: None };
    if let Some(config) = &ch.config {
        let entry = Entry::Config {
            before: config.before.clone(),
            after: config.after.clone(),
        };
        let seq = match journal.before_write(entry).await {
            Ok(seq) => seq,
            Err(e) => {
                run.failure = Some(format!("cannot journal the config update: {e}"));
                return run;
            }
        };
        let (call, pointer) = (events::CallKind::Config, events::CONFIG_POINTER.to_string());
        progress.event(&Event::Journaled {
            seq,
            pointer: pointer.clone(),
        });
        progress.event(&Event::Sent {
            call,
            pointer: pointer.clone(),
        });
        match cluster.update_config(&config.after, Some(stop)).await {
            Ok(()) => {
                progress.event(&Event::Answered {
                    call,
                    pointer: pointer.clone(),
                });
                progress.event(&Event::Done { seq, pointer });
            }
            Err(e) => {
                let refused = e.attempts <= 1 && e.kind == crate::api::ErrorKind::Rejected;
                if refused {
                    let _ = journal.refused(seq, 0).await;
                }
                let message = e.to_string();
                progress.event(&match refused {
                    true => Event::Refused {
                        call,
                        pointer,
                        message,
                    },
                    false => Event::Failed {
                        call,
                        pointer,
                        message,
                    },
                });
                stop.set();
                run.failure = Some(format!("admin/configinfo/update: {e}"));
                return run;
            }
        }
    }
    let parallel = parallel.max(1);
    for phase in [&ch.actions, &ch.deletes] {
        if stop.is_set() {
            break;
        }
        let ahead = Ahead::new(phase.len());
        // Made batch by batch: the later ones while the first are in flight.
        let entries = phase.iter().map(entry_of);
        let writes = async {
            let results: Vec<Result<(), String>> = stream::iter(phase.iter().enumerate())
                .map(|(i, change)| run_object(cluster, change, i, &ahead, journal, stop, progress))
                .buffer_unordered(parallel)
                .collect()
                .await;
            ahead.all_started();
            results
        };
        let ((), results) =
            futures::join!(ahead.journal(journal, entries, 2 * parallel, stop), writes);
        let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        if !errors.is_empty() {
            run.failure = Some(errors.join("\n  "));
            break;
        }
    }
    run
}

fn entry_of(change: &ActionChange) -> Entry {
    Entry::Action {
        action: change.op,
        name: change.name.clone(),
        id: change.id.clone(),
        before: change.before.clone(),
        after: change.after.clone(),
    }
}

/// Journals the objects of one phase ahead of their writes, so that no
/// write waits for an fsync of its own (on a laptop's disk one costs
/// milliseconds, once per object): the entries of the next objects go to
/// disk in one batch while earlier writes are in flight. At most `window`
/// objects are journaled and not yet sent; a kill leaves those for
/// `rollback`, which finds them as they were and leaves them alone.
struct Ahead {
    /// How many objects have started (asked for their journal entry).
    started: watch::Sender<usize>,
    journaled: watch::Sender<Journaled>,
    seqs: std::sync::Mutex<Vec<u64>>,
}

#[derive(Default)]
struct Journaled {
    /// Objects `0..upto` are on disk.
    upto: usize,
    failed: Option<String>,
    /// No more entries will be written (stopped, failed or all done).
    closed: bool,
}

impl Ahead {
    fn new(len: usize) -> Ahead {
        Ahead {
            started: watch::channel(0).0,
            journaled: watch::channel(Journaled::default()).0,
            seqs: std::sync::Mutex::new(Vec::with_capacity(len)),
        }
    }

    /// Writes entries as objects start, `window` ahead of the last one
    /// started, until all are written, one fails, `stop` is set, or every
    /// object has started.
    async fn journal(
        &self,
        journal: &Journal,
        mut entries: impl ExactSizeIterator<Item = Entry>,
        window: usize,
        stop: &Abort,
    ) {
        let total = entries.len();
        let mut next = 0;
        let mut started = self.started.subscribe();
        while next < total && !stop.is_set() {
            let begun = *started.borrow_and_update();
            let want = (begun + window).min(total);
            // In batches of half the window, unless an object waits.
            if want > next && (want - next >= window / 2 || want == total || next < begun) {
                let batch: Vec<Entry> = entries.by_ref().take(want - next).collect();
                match journal.before_writes(batch).await {
                    Ok(seqs) => {
                        if let Ok(mut all) = self.seqs.lock() {
                            all.extend(seqs);
                        }
                        next = want;
                        self.journaled.send_modify(|j| j.upto = next);
                    }
                    Err(e) => {
                        self.journaled
                            .send_modify(|j| j.failed = Some(e.to_string()));
                        break;
                    }
                }
                continue;
            }
            tokio::select! {
                r = started.changed() => if r.is_err() { break },
                () = stop.wait() => break,
            }
        }
        self.journaled.send_modify(|j| j.closed = true);
    }

    /// Every object has had its turn: the journal writer may stop waiting.
    fn all_started(&self) {
        self.started.send_modify(|s| *s = usize::MAX / 2);
    }

    /// Object `i` starts: its journal number once its entry is on disk,
    /// `Ok(None)` if it will not be written (stopped first).
    async fn entry(&self, i: usize) -> Result<Option<u64>, String> {
        self.started.send_modify(|s| *s = (*s).max(i + 1));
        let mut rx = self.journaled.subscribe();
        let Ok(j) = rx
            .wait_for(|j| j.upto > i || j.failed.is_some() || j.closed)
            .await
        else {
            return Ok(None);
        };
        if j.upto > i {
            let seq = self.seqs.lock().ok().and_then(|s| s.get(i).copied());
            return Ok(seq);
        }
        match &j.failed {
            Some(e) => Err(e.clone()),
            None => Ok(None),
        }
    }
}

async fn run_object(
    cluster: &crate::api::Cluster,
    change: &ActionChange,
    i: usize,
    ahead: &Ahead,
    journal: &Journal,
    stop: &Abort,
    progress: &dyn Progress,
) -> Result<(), String> {
    if stop.is_set() {
        return Ok(()); // not started: nothing to undo
    }
    let seq = match ahead.entry(i).await {
        Ok(Some(seq)) if !stop.is_set() => seq,
        Ok(_) => return Ok(()), // stopped before it was sent
        Err(e) => {
            stop.set();
            return Err(format!("cannot journal {:?}: {e}", change.name));
        }
    };
    progress.event(&Event::Journaled {
        seq,
        pointer: events::action_pointer(&change.name),
    });
    let r = executor::run_action(cluster, change, stop, progress, Some((journal, seq))).await;
    for i in &r.no_effect {
        let _ = journal.refused(seq, *i).await;
    }
    match r.error {
        None => {
            progress.event(&Event::Done {
                seq,
                pointer: events::action_pointer(&change.name),
            });
            Ok(())
        }
        Some(e) => {
            if e.refused_first {
                let _ = journal.refused(seq, e.call).await;
            }
            stop.set();
            Err(e.message)
        }
    }
}

/// Undoes what the failed apply wrote and checks the whole target against
/// its state before: exit 4 only when it is exactly that again.
async fn undo_after_failure(
    cluster: &crate::api::Cluster,
    journal: &Journal,
    target: &Side,
    how: &UndoHow<'_>,
    failure: &str,
) -> Result<Report, Error> {
    let record = journal::read(&journal.path)?;
    let outcome = rollback::undo(
        cluster,
        Some(journal),
        &record,
        false,
        how.parallel,
        how.progress,
        // The apply's own session (gated where strays can happen).
        &[],
    )
    .await;
    let check = match &outcome {
        Ok(o) if o.failures.is_empty() && o.left_alone.is_empty() => {
            verify::restored(cluster, &target.doc, how.ch, how.selection, how.view).await
        }
        Ok(_) => Err(String::new()),
        Err(e) => Err(format!("the undo could not read the target: {e}")),
    };
    if check.is_ok() {
        let _ = journal.finish("rolled back").await;
        let files = journal::files_lock();
        let _ = std::fs::remove_file(&journal.path);
        drop(files);
        return Err(Error::ApplyRestored(format!(
            "apply failed; the target was restored to its state before the apply.\n  {failure}"
        )));
    }
    let mut message =
        format!("apply failed and the target could NOT be fully restored.\n  {failure}");
    if let Ok(o) = &outcome {
        for f in &o.failures {
            message.push_str(&format!("\n  undo: {f}"));
        }
        for c in &o.left_alone {
            message.push_str(&format!("\n  {c}"));
        }
    }
    if let Err(remainder) = &check {
        if !remainder.is_empty() {
            message.push_str(&format!("\n  still different from before: {remainder}"));
        }
    }
    Err(Error::ApplyNotRestored {
        message,
        journal: journal.path.clone(),
    })
}

/// A new journal path in `dir`: `<ms>-<pid>.jsonl`.
pub fn new_journal_path(dir: &std::path::Path) -> PathBuf {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    dir.join(format!("{ms}-{}.jsonl", std::process::id()))
}
