//! `tsmigrate rollout`: one source to many targets (clusters, or with
//! `--all-orgs` every Org of each). The canary targets go first, one at a
//! time, and a failure among them stops everything; the rest run
//! `--parallel-targets` at a time until `--max-failures` targets failed.
//! Each target is a whole `apply` (lock, validation, journal, undo,
//! verification) through `apply::apply`; requests to one cluster share its
//! connection pool and pacing, whichever Org they are for.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::apply::{live_ref, lock_target};
use super::Context;
use crate::apply::events::{Event, Tally, Tallying};
use crate::apply::executor::Progress;
use crate::apply::{self, Counts, Report};
use crate::cli::{ReportFormat, RolloutArgs};
use crate::compare;
use crate::config::{ClusterRef, LiveRef, Settings};
use crate::error::{shell_word, Error, Outcome};
use crate::fetch::{self, Side};
use crate::model::{Org, OrgSpec};
use crate::signals::{self, Abort};
use crate::words::{agree, plural};

/// One target of the rollout.
struct Target {
    live: LiveRef,
    /// Whether this target writes its cluster's config: the first target
    /// of each cluster does; the config is one for all its Orgs.
    owns_config: bool,
    /// Another target is an Org of the same cluster.
    shared: bool,
    /// The Org as the cluster listed it (`--all-orgs`), before it is read.
    listed: Option<Org>,
}

impl Target {
    /// The target as named, with its Org where it tells targets apart:
    /// not the Primary Org, or one of several Orgs of one cluster.
    /// One form for every row: the Org's name and id once known (read, or
    /// listed by `--all-orgs`), else the Org as the user named it.
    fn label(&self, org: Option<&Org>) -> String {
        let name = &self.live.endpoint.label;
        match (org.or(self.listed.as_ref()), &self.live.org) {
            (Some(o), _) if o.id != crate::model::PRIMARY_ORG || self.shared => {
                format!("{name} (Org {o})")
            }
            (None, Some(spec)) => format!("{name} (Org {spec})"),
            _ => name.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Result_ {
    Applied,
    Unchanged,
    DryRun,
    /// Failed; the target is as it was (undone, or nothing was written).
    Restored,
    NotRestored,
    /// Not started: the rollout stopped before it.
    Skipped,
}

impl Result_ {
    fn word(self) -> &'static str {
        match self {
            Result_::Applied => "applied",
            Result_::Unchanged => "unchanged",
            Result_::DryRun => "dry-run",
            Result_::Restored => "restored",
            Result_::NotRestored => "NOT RESTORED",
            Result_::Skipped => "skipped",
        }
    }

    fn failed(self) -> bool {
        matches!(self, Result_::Restored | Result_::NotRestored)
    }
}

/// What happened to one target.
struct Row {
    label: String,
    org: Option<Org>,
    result: Result_,
    counts: Option<Counts>,
    /// Requests sent (for a dry run: that would be sent).
    writes: Option<usize>,
    /// What its apply's event stream told, failed runs included (`None`:
    /// skipped, or a dry run).
    events: Option<Tally>,
    /// A dry run: the requests its apply would send.
    requests: Option<Vec<String>>,
    elapsed: Option<Duration>,
    journal: Option<PathBuf>,
    error: Option<String>,
}

impl Row {
    fn skipped(t: &Target, why: &str) -> Row {
        Row {
            label: t.label(None),
            org: t.listed.clone(),
            result: Result_::Skipped,
            counts: None,
            writes: None,
            events: None,
            requests: None,
            elapsed: None,
            journal: None,
            error: Some(why.to_string()),
        }
    }
}

pub async fn run(ctx: &Context, args: RolloutArgs) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    if args.canary == 0 && args.target.len() > 1 {
        ctx.printer
            .warn("--canary 0: no target goes first; the rollout starts in parallel");
    }
    // Every REF first: bad input fails before any cluster is asked.
    let mut refs = vec![(args.source.as_str(), args.orgs.source_org.as_deref())];
    refs.extend(
        args.target
            .iter()
            .map(|t| (t.as_str(), args.orgs.target_org.as_deref())),
    );
    let mut resolved = settings.resolve_all(&refs)?;
    let targets = resolved.split_off(1);
    let source_ref = resolved.remove(0);
    let mut lives = Vec::new();
    for r in &targets {
        lives.push(live_ref(r, "--target")?.clone());
    }
    // Refused, the state directory would fail every target alike.
    settings.journal_dir()?;
    let source = fetch::load(&source_ref, &settings, &ctx.conns).await?;
    let targets = expand(ctx, &settings, lives, args.all_orgs).await?;
    if targets.is_empty() {
        return Err(Error::Usage("rollout: no targets".into()));
    }
    if !args.yes && !args.dry_run {
        confirm(&source, &targets)?;
    }
    let interrupt = Abort::default();
    let journals: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let watcher = watch_signals(ctx, &interrupt, journals.clone());
    let rows = roll_out(
        ctx, &settings, &args, &source, &targets, &interrupt, &journals,
    )
    .await;
    watcher.abort();
    print(ctx, &args, &rows)?;
    outcome(&rows)
}

/// The targets in order: each REF, or with `--all-orgs` each Org of its
/// cluster; one target per cluster and Org.
async fn expand(
    ctx: &Context,
    settings: &Settings,
    lives: Vec<LiveRef>,
    all_orgs: bool,
) -> Result<Vec<Target>, Error> {
    let mut out: Vec<Target> = Vec::new();
    let mut seen = HashSet::new();
    let mut clusters = HashSet::new();
    let norm = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
    for live in lives {
        let per_org: Vec<(LiveRef, Option<Org>)> = if all_orgs {
            let orgs = ctx.conns.org_list(&live, &settings.net).await?;
            // The session that asked serves the first target of the cluster.
            ctx.conns.release(&live);
            match orgs {
                None => vec![(live, None)],
                Some(orgs) => orgs
                    .iter()
                    .map(|o| {
                        let l = LiveRef {
                            org: Some(OrgSpec::Id(o.id)),
                            ..live.clone()
                        };
                        (l, Some(o.clone()))
                    })
                    .collect(),
            }
        } else {
            vec![(live, None)]
        };
        for (l, listed) in per_org {
            let key = format!("{}\n{}", norm(&l.endpoint.url), l.org_spec());
            if !seen.insert(key) {
                continue;
            }
            let owns_config = clusters.insert(norm(&l.endpoint.url));
            out.push(Target {
                live: l,
                owns_config,
                shared: false,
                listed,
            });
        }
    }
    for i in 0..out.len() {
        let url = norm(&out[i].live.endpoint.url);
        out[i].shared = out
            .iter()
            .filter(|t| norm(&t.live.endpoint.url) == url)
            .count()
            > 1;
    }
    Ok(out)
}

/// Without `--yes`: asked on a terminal, refused without one.
fn confirm(source: &Side, targets: &[Target]) -> Result<(), Error> {
    let mut question = format!("Roll out {} to:\n", source.label);
    for t in targets {
        question.push_str(&format!("  {}\n", t.label(None)));
    }
    super::confirm::ask(
        &question,
        &format!(
            "rollout writes to {}; pass --yes (review with --dry-run first), as no terminal is attached to ask",
            plural(targets.len(), "target", "targets")
        ),
        "rollout cancelled; nothing was written",
    )
}

/// First signal: no new target starts; those in flight stop writing and
/// undo. Second: exit at once, naming the journals left.
fn watch_signals(
    ctx: &Context,
    interrupt: &Abort,
    journals: Arc<Mutex<Vec<PathBuf>>>,
) -> tokio::task::JoinHandle<()> {
    let (p1, p2) = (ctx.printer.clone(), ctx.printer.clone());
    signals::on_signals(
        interrupt.clone(),
        move || {
            p1.warn("interrupted: no new target starts; those in flight stop writing and undo (a second signal exits at once and leaves their journals)");
        },
        move || {
            // Held to the exit, as for apply.
            let _files = crate::apply::journal::files_lock();
            let left: Vec<PathBuf> = journals
                .lock()
                .map(|j| j.iter().filter(|p| p.exists()).cloned().collect())
                .unwrap_or_default();
            let mut message = String::from("interrupted twice: the undos did not finish");
            for j in &left {
                message.push_str(&format!(
                    "\nrun: tsmigrate rollback --journal {}",
                    shell_word(&j.display().to_string())
                ));
            }
            p2.error(&Error::Usage(message));
            std::process::exit(if left.is_empty() { 4 } else { 5 });
        },
    )
}

async fn roll_out(
    ctx: &Context,
    settings: &Settings,
    args: &RolloutArgs,
    source: &Side,
    targets: &[Target],
    interrupt: &Abort,
    journals: &Mutex<Vec<PathBuf>>,
) -> Vec<Row> {
    let mut rows: Vec<Option<Row>> = (0..targets.len()).map(|_| None).collect();
    let canary = args.canary.min(targets.len());
    let failures = AtomicUsize::new(0);
    let max_failures = usize::try_from(args.max_failures).unwrap_or(usize::MAX);
    let mut stopped: Option<String> = None;
    for (i, t) in targets.iter().enumerate().take(canary) {
        if interrupt.is_set() {
            stopped = Some("interrupted by a signal".into());
            break;
        }
        let row = one(ctx, settings, args, source, t, i, interrupt, journals).await;
        let failed = row.result.failed();
        rows[i] = Some(row);
        if failed {
            failures.fetch_add(1, Ordering::SeqCst);
            stopped = Some(format!("canary {} failed", t.label(None)));
            break;
        }
    }
    if stopped.is_none() {
        let rest: Vec<(usize, Row)> = stream::iter(targets.iter().enumerate().skip(canary))
            .map(|(i, t)| {
                let failures = &failures;
                async move {
                    // Checked as the target would start, not before.
                    if interrupt.is_set() {
                        return (i, Row::skipped(t, "interrupted by a signal"));
                    }
                    if failures.load(Ordering::SeqCst) >= max_failures {
                        return (
                            i,
                            Row::skipped(
                                t,
                                &format!(
                                    "--max-failures {max_failures} reached: {} failed",
                                    plural(max_failures, "target", "targets")
                                ),
                            ),
                        );
                    }
                    let row = one(ctx, settings, args, source, t, i, interrupt, journals).await;
                    if row.result.failed() {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                    (i, row)
                }
            })
            .buffer_unordered(usize::try_from(args.parallel_targets).unwrap_or(1).max(1))
            .collect()
            .await;
        for (i, row) in rest {
            rows[i] = Some(row);
        }
    }
    let why = stopped.unwrap_or_else(|| "not started".into());
    rows.into_iter()
        .zip(targets)
        .map(|(r, t)| r.unwrap_or_else(|| Row::skipped(t, &why)))
        .collect()
}

/// One target: lock, read, compare, apply, and the row that says how it went.
#[allow(clippy::too_many_arguments)]
async fn one(
    ctx: &Context,
    settings: &Settings,
    args: &RolloutArgs,
    source: &Side,
    t: &Target,
    index: usize,
    interrupt: &Abort,
    journals: &Mutex<Vec<PathBuf>>,
) -> Row {
    let started = Instant::now();
    let label = t.label(None);
    ctx.printer.info(&format!("rollout: {label}: starting"));
    // The target's row is told by its apply's event stream.
    let stream = Notes {
        ctx,
        label: &label,
        tally: Tallying::default(),
    };
    let result = match journal_path(settings, index) {
        Ok(journal) => {
            if let Ok(mut j) = journals.lock() {
                j.push(journal.clone());
            }
            let job = Job {
                journal,
                interrupt,
                progress: &stream,
            };
            apply_one(ctx, settings, args, source, t, job).await
        }
        Err(e) => Err(e),
    };
    let elapsed = started.elapsed();
    let tally = stream.tally.tally();
    let events = (!args.dry_run).then_some(tally);
    let row = match result {
        Ok((org, report)) => {
            let (result, counts, writes) = match &report {
                Report::Unchanged { .. } => (Result_::Unchanged, Counts::default(), 0),
                Report::DryRun {
                    requests, counts, ..
                } => (Result_::DryRun, *counts, requests.len()),
                Report::Applied { counts, .. } => (Result_::Applied, *counts, tally.sent),
            };
            let (Report::Applied { notes, .. }
            | Report::DryRun { notes, .. }
            | Report::Unchanged { notes }) = &report;
            for line in notes.left.lines() {
                ctx.printer.info(&format!("rollout: {label}: note: {line}"));
            }
            Row {
                label: t.label(org.as_ref()),
                org,
                result,
                counts: Some(counts),
                writes: Some(writes),
                events,
                requests: match &report {
                    Report::DryRun { requests, .. } => Some(requests.clone()),
                    _ => None,
                },
                elapsed: Some(elapsed),
                journal: None,
                error: None,
            }
        }
        Err(e) => {
            let (result, journal) = match &e {
                Error::ApplyNotRestored { journal, .. } => {
                    (Result_::NotRestored, Some(journal.clone()))
                }
                // Undone and checked, or failed before writing anything.
                _ => (Result_::Restored, None),
            };
            Row {
                label: label.clone(),
                org: t.listed.clone(),
                result,
                counts: None,
                // A failed apply's requests, as its stream counted them.
                writes: events.map(|t| t.sent),
                events,
                requests: None,
                elapsed: Some(elapsed),
                journal,
                error: Some(crate::secrets::mask_known(&e.to_string()).into_owned()),
            }
        }
    };
    ctx.printer.info(&format!(
        "rollout: {label}: {}{}",
        row.result.word(),
        match (&row.writes, &row.error) {
            (_, Some(e)) => format!(
                ": {}{}",
                first_line(e),
                row.events
                    .filter(|t| t.sent > 0)
                    .map(|t| format!(
                        " ({} sent, {} undone, {} left alone)",
                        plural(t.sent, "write", "writes"),
                        t.undone,
                        t.left_alone
                    ))
                    .unwrap_or_default()
            ),
            (Some(w), None) if row.result == Result_::DryRun =>
                format!(" (would send {})", plural(*w, "write", "writes")),
            (Some(w), None) => format!(
                " ({}, {:.1} s)",
                plural(*w, "write", "writes"),
                elapsed.as_secs_f64()
            ),
            (None, None) => String::new(),
        }
    ));
    row
}

async fn apply_one(
    ctx: &Context,
    settings: &Settings,
    args: &RolloutArgs,
    source: &Side,
    t: &Target,
    job: Job<'_>,
) -> Result<(Option<Org>, Report), Error> {
    let result = apply_locked(ctx, settings, args, source, t, job).await;
    // Its session may now serve another Org of the cluster.
    ctx.conns.release(&t.live);
    result
}

async fn apply_locked(
    ctx: &Context,
    settings: &Settings,
    args: &RolloutArgs,
    source: &Side,
    t: &Target,
    job: Job<'_>,
) -> Result<(Option<Org>, Report), Error> {
    let Job {
        journal,
        interrupt,
        progress,
    } = job;
    let lock = lock_target(ctx, settings, &t.live, None, "tsmigrate rollout", false).await?;
    let target_ref = ClusterRef::Live(t.live.clone());
    let target = fetch::load(&target_ref, settings, &ctx.conns).await?;
    let org = target.org.clone();
    let mut c = compare::compare(
        settings,
        source.clone(),
        target,
        compare::Options {
            prune: args.prune,
            keep_config: !t.owns_config,
            ..Default::default()
        },
    )?;
    c.check_expressible()?;
    c.check_protected(args.allow_protected)?;
    let view = c.view;
    let report = apply::apply(apply::Request {
        target: lock.vouch(&mut c.target)?,
        desired: c.desired,
        unresolved: c.unresolved,
        notes: c.notes,
        prune: args.prune,
        skip_missing: args.skip_missing_associations,
        dry_run: args.dry_run,
        parallel: settings.parallel_for(&target_ref, args.parallel.map(usize::from)),
        journal,
        selection: &settings.selection,
        confirm: None,
        progress,
        interrupt: interrupt.clone(),
        view,
    })
    .await?;
    Ok((org, report))
}

/// One target's apply: its journal, the rollout's signal flag, and where
/// its events go.
struct Job<'a> {
    journal: PathBuf,
    interrupt: &'a Abort,
    progress: &'a dyn Progress,
}

/// A target's event stream: counted for its row, and what is worth a
/// note (a stray removed from another Org, a delete someone else had
/// done) told as it happens.
struct Notes<'a> {
    ctx: &'a Context,
    label: &'a str,
    tally: Tallying,
}

impl Progress for Notes<'_> {
    fn begin_undo(&self, total: usize) {
        self.tally.begin_undo(total);
    }
    fn event(&self, e: &Event) {
        self.tally.event(e);
        if e.is_note() || matches!(e, Event::LeftAlone { .. }) {
            self.ctx
                .printer
                .info(&format!("rollout: {}: note: {e}", self.label));
        }
    }
}

/// A journal of its own for each target.
fn journal_path(settings: &Settings, index: usize) -> Result<PathBuf, Error> {
    let base = apply::new_journal_path(&settings.journal_dir()?);
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(base.with_file_name(format!("{stem}-{index}.jsonl")))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn changes_text(c: &Option<Counts>) -> String {
    match c {
        None => "-".into(),
        Some(c) => format!(
            "{} {}, +{} ~{} -{}",
            c.config_keys,
            if c.config_keys == 1 { "key" } else { "keys" },
            c.created,
            c.updated,
            c.deleted
        ),
    }
}

fn print(ctx: &Context, args: &RolloutArgs, rows: &[Row]) -> Result<(), Error> {
    if args.format == ReportFormat::Json {
        let doc: Vec<Value> = rows.iter().map(row_json).collect();
        return ctx.printer.json(&Value::Array(doc));
    }
    let header = ["TARGET", "RESULT", "CHANGES", "WRITES", "TIME", "JOURNAL"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.label.clone(),
                r.result.word().to_string(),
                changes_text(&r.counts),
                r.writes.map_or("-".into(), |w| w.to_string()),
                r.elapsed
                    .map_or("-".into(), |d| format!("{:.1}s", d.as_secs_f64())),
                r.journal
                    .as_ref()
                    .map_or("-".into(), |j| j.display().to_string()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String; 6]| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            if i == 3 {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                if i + 1 < cols.len() {
                    s.push_str(&" ".repeat(pad));
                }
            }
            if i + 1 < cols.len() {
                s.push_str("  ");
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&header.map(String::from));
    for row in &cells {
        out.push_str(&line(row));
    }
    for r in rows.iter().filter(|r| r.result != Result_::Skipped) {
        if let Some(e) = &r.error {
            out.push_str(&format!("\n{}: {e}\n", r.label));
        }
        // A dry run reviews each target's changes, request by request.
        if let Some(requests) = r.requests.as_ref().filter(|q| !q.is_empty()) {
            out.push_str(&format!("\n{} would get:\n", r.label));
            for q in requests {
                out.push_str(&format!("  {q}\n"));
            }
        }
    }
    let count = |k: Result_| rows.iter().filter(|r| r.result == k).count();
    out.push_str(&format!(
        "\nRollout: {} applied, {} unchanged{}, {} restored, {} NOT RESTORED, {} skipped.\n",
        count(Result_::Applied),
        count(Result_::Unchanged),
        if args.dry_run {
            format!(", {} dry-run", count(Result_::DryRun))
        } else {
            String::new()
        },
        count(Result_::Restored),
        count(Result_::NotRestored),
        count(Result_::Skipped)
    ));
    ctx.printer.text(&out)
}

fn row_json(r: &Row) -> Value {
    json!({
        "target": r.label,
        "org": r.org,
        "result": r.result.word(),
        "counts": r.counts.as_ref().map(|c| json!({
            "config_keys": c.config_keys, "created": c.created,
            "updated": c.updated, "deleted": c.deleted,
        })),
        "writes": r.writes,
        "events": r.events,
        "requests": r.requests,
        "seconds": r.elapsed.map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0),
        "journal": r.journal.as_ref().map(|j| j.display().to_string()),
        "error": r.error,
    })
}

/// 0: every target applied or unchanged; 4: some failed, each restored;
/// 5: at least one not restored.
fn outcome(rows: &[Row]) -> Result<Outcome, Error> {
    let not_restored: Vec<&Row> = rows
        .iter()
        .filter(|r| r.result == Result_::NotRestored)
        .collect();
    if let Some(first) = not_restored.first() {
        let journal = first.journal.clone().unwrap_or_default();
        let mut message = format!(
            "rollout: {} could NOT be fully restored",
            plural(not_restored.len(), "target", "targets")
        );
        for r in &not_restored[1..] {
            if let Some(j) = &r.journal {
                message.push_str(&format!(
                    "\n{}: run: tsmigrate rollback --journal {}",
                    r.label,
                    shell_word(&j.display().to_string())
                ));
            }
        }
        return Err(Error::ApplyNotRestored { message, journal });
    }
    let failed = rows
        .iter()
        .filter(|r| r.result == Result_::Restored)
        .count();
    let skipped = rows.iter().filter(|r| r.result == Result_::Skipped).count();
    if failed > 0 {
        return Err(Error::ApplyRestored(format!(
            "rollout: {} failed and {} restored; {skipped} skipped",
            plural(failed, "target", "targets"),
            agree(failed, "was", "were")
        )));
    }
    if skipped > 0 {
        // Only an interruption before they started skips targets.
        return Err(Error::ApplyRestored(format!(
            "rollout: interrupted; {} skipped",
            plural(skipped, "target", "targets")
        )));
    }
    Ok(Outcome::Success)
}
