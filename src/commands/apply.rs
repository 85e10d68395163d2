//! `tsmigrate apply`: make the target match a plan or a source, under the
//! target's lock, with the journal, undo and verification of `apply::apply`.

use std::io::IsTerminal;
use std::time::Duration;

use super::progress::Writes;
use super::{applied_line, Context};
use crate::apply::{self, lock, Changes, Report};
use crate::cli::{ApplyArgs, ReportFormat};
use crate::config::{ClusterRef, LiveRef, Settings};
use crate::diff::{self, render};
use crate::error::{shell_word, Error, Outcome};
use crate::fetch::{self, Side};
use crate::model::OrgSpec;
use crate::output::Printer;
use crate::signals::{self, Abort};
use crate::words::plural;
use crate::{compare, plan};

/// What a target's lock is named after: the cluster and the Org's id (so
/// that a name and an id of one Org share the lock). The Primary Org is
/// the cluster's own name, as on a cluster without Orgs, so that the lock
/// of an Org given by id is known before the cluster is asked.
pub fn lock_identity(url: &str, org: Option<i64>) -> String {
    match org {
        None | Some(crate::model::PRIMARY_ORG) => url.to_string(),
        Some(id) => format!("{url}#org={id}"),
    }
}

/// Connects to a live target (in its Org) and takes its lock. With
/// `read_ahead`, for a caller that loads the target next, the target's
/// document is read while the Org is checked (see
/// `Connections::cluster_reading_ahead`); that needs the lock first, so it
/// is only done when the Org is given by id.
pub async fn lock_target(
    ctx: &Context,
    settings: &Settings,
    live: &LiveRef,
    timeout: Option<Duration>,
    what: &str,
    read_ahead: bool,
) -> Result<lock::TargetLock, Error> {
    let take = |org: Option<i64>, label: String| async move {
        lock::acquire(
            &settings.lock_dir()?,
            &lock_identity(&live.endpoint.url, org),
            &label,
            timeout.unwrap_or(Duration::ZERO),
            what,
        )
        .await
    };
    if let (true, OrgSpec::Id(id)) = (read_ahead, live.org_spec()) {
        let label = match id {
            crate::model::PRIMARY_ORG => live.endpoint.label.clone(),
            id => format!("{} (Org {id})", live.endpoint.label),
        };
        let lock = take(Some(id), label).await?;
        ctx.conns.cluster_reading_ahead(live, &settings.net).await?;
        return Ok(lock);
    }
    let cluster = ctx.conns.cluster(live, &settings.net).await?;
    let org = cluster.org();
    let label = match &org {
        Some(o) => format!("{} (Org {o})", live.endpoint.label),
        None => live.endpoint.label.clone(),
    };
    take(org.map(|o| o.id), label).await
}

pub fn live_ref<'a>(r: &'a ClusterRef, flag: &str) -> Result<&'a LiveRef, Error> {
    match r {
        ClusterRef::Live(l) => Ok(l),
        ClusterRef::Snapshot(p, _) => Err(Error::Usage(format!(
            "{flag} {}: a snapshot directory cannot be written to; name a live cluster",
            p.display()
        ))),
    }
}

pub async fn run(ctx: &Context, args: ApplyArgs) -> Result<Outcome, Error> {
    if args.events && args.format != ReportFormat::Json {
        return Err(Error::Usage(
            "--events needs --format json (the events are JSON lines on stdout)".into(),
        ));
    }
    let settings = ctx.settings()?;
    let mut refs = vec![(args.target.as_str(), args.orgs.target_org.as_deref())];
    if let (None, Some(source)) = (&args.plan, &args.source) {
        refs.push((source.as_str(), args.orgs.source_org.as_deref()));
    }
    let mut resolved = settings.resolve_all(&refs)?;
    let source_ref = (resolved.len() > 1).then(|| resolved.remove(1));
    let target_ref = resolved.remove(0);
    let live = live_ref(&target_ref, "--target")?;
    // A plan that cannot be read is bad input before any cluster is asked.
    let plan = args.plan.as_deref().map(plan::read).transpose()?;
    // The source needs no lock: it is read while the target is locked and
    // read.
    let (locked, source) = tokio::join!(
        lock_target(
            ctx,
            &settings,
            live,
            args.lock_timeout,
            "tsmigrate apply",
            true,
        ),
        async {
            match &source_ref {
                Some(r) => Some(fetch::load(r, &settings, &ctx.conns).await),
                None => None,
            }
        }
    );
    let lock = locked?;
    let (mut target, desired, unresolved, source_label, notes, view) = match (
        plan, &args.plan, source,
    ) {
        (Some(plan), Some(plan_path), _) => {
            let org = ctx.conns.cluster(live, &settings.net).await?.org();
            plan.check_target(
                &live.endpoint.url,
                org.as_ref(),
                &live.endpoint.label,
                plan_path,
            )?;
            let mut target = fetch::load(&target_ref, &settings, &ctx.conns).await?;
            // Seen as the plan saw it: between APIs, as both hold actions.
            if let Some(api) = plan.view {
                target.project(api);
            }
            let drifted = plan::drift(&plan, &target.doc);
            if !drifted.is_empty() {
                return Err(Error::Stale(format!(
                    "the plan is stale: {} changed since the plan was made; nothing was written. Drifted paths:\n  {}\nmake a new plan",
                    target.label,
                    drifted.join("\n  ")
                )));
            }
            // From the plan's own operations and today's settings (a plan
            // made before a path was protected is no way around it).
            let touched = plan
                .patch
                .iter()
                .filter(|o| o["op"] != "test")
                .filter_map(|o| o["path"].as_str());
            let protected = crate::select::protected_changes(
                touched,
                &settings.protected,
                &settings.selection.only,
            );
            crate::compare::refuse_protected(&protected, args.allow_protected, &target.label)?;
            let (desired, unresolved) = plan::desired(&plan, &target.doc, &settings.secrets)?;
            (
                target,
                desired,
                unresolved,
                plan.source.clone(),
                plan.notes.clone(),
                plan.view,
            )
        }
        (_, None, Some(source)) => {
            let s = source?;
            let t = fetch::load(&target_ref, &settings, &ctx.conns).await?;
            t.live()?;
            let c = compare::compare(
                &settings,
                s,
                t,
                compare::Options {
                    prune: args.prune,
                    orgs: args.orgs.sides(),
                    keep_config: false,
                },
            )?;
            ctx.report_rules(&c);
            c.check_expressible()?;
            c.check_protected(args.allow_protected)?;
            (
                c.target,
                c.desired,
                c.unresolved,
                c.source.label,
                c.notes,
                c.view,
            )
        }
        _ => {
            return Err(Error::Usage(
                "apply needs --plan PLAN or --source REF".into(),
            ))
        }
    };
    let journal = match &args.journal {
        Some(path) => path.clone(),
        None => apply::new_journal_path(&settings.journal_dir()?),
    };
    let preview = (!args.yes).then(|| preview(ctx, &target, &desired));
    let target_label = target.label.clone();
    let confirm = |_: &Changes| confirm(preview.as_ref(), &target_label);
    let writes = Writes::new(&ctx.printer, "writing", super::progress::every(&ctx.env)?);
    let lines = JsonEvents {
        printer: &ctx.printer,
        org: target.org.clone(),
    };
    let both = crate::apply::executor::Both(&writes, &lines);
    let progress: &dyn crate::apply::Progress = if args.events { &both } else { &writes };
    let interrupt = Abort::default();
    let watcher = watch_signals(&ctx.printer, &interrupt, &journal);
    let result = apply::apply(apply::Request {
        target: lock.vouch(&mut target)?,
        desired,
        unresolved,
        notes,
        prune: args.prune,
        skip_missing: args.skip_missing_associations,
        dry_run: args.dry_run,
        parallel: settings.parallel_for(&target_ref, args.parallel.map(usize::from)),
        journal,
        selection: &settings.selection,
        confirm: if args.yes { None } else { Some(&confirm) },
        progress,
        interrupt,
        view,
    })
    .await;
    watcher.abort();
    writes.finish();
    if args.format == ReportFormat::Json {
        let doc = result_json(&result, &source_label, &target.label);
        if args.events {
            ctx.printer.json_line(&doc)?;
        } else {
            ctx.printer.json(&doc)?;
        }
        if let Ok(report) = &result {
            print_notes_of(ctx, report);
        }
        return result.map(|r| outcome(&r, args.exit_code));
    }
    let report = result?;
    print_report(ctx, &report, &target.label, &source_label)?;
    Ok(outcome(&report, args.exit_code))
}

/// `--dry-run --exit-code`: 2 when the apply would write something.
fn outcome(report: &Report, exit_code: bool) -> Outcome {
    match report {
        Report::DryRun { requests, .. } if exit_code && !requests.is_empty() => {
            Outcome::Differences
        }
        _ => Outcome::Success,
    }
}

/// `--events`: each event as one JSON object on stdout, with the Org.
/// Messages are masked like every message; pointers and GUIDs are data.
struct JsonEvents<'a> {
    printer: &'a crate::output::Printer,
    org: Option<crate::model::Org>,
}

impl crate::apply::Progress for JsonEvents<'_> {
    fn event(&self, e: &crate::apply::events::Event) {
        let Ok(serde_json::Value::Object(mut line)) = serde_json::to_value(e) else {
            return;
        };
        for key in ["message", "why"] {
            if let Some(serde_json::Value::String(m)) = line.get_mut(key) {
                *m = crate::secrets::mask_known(m).into_owned();
            }
        }
        line.insert("org".into(), serde_json::json!(self.org));
        // A closed stdout ends nothing here: the result says the rest.
        let _ = self.printer.json_line(&serde_json::Value::Object(line));
    }
}

fn print_notes_of(ctx: &Context, report: &Report) {
    match report {
        Report::Unchanged { notes }
        | Report::DryRun { notes, .. }
        | Report::Applied { notes, .. } => {
            ctx.print_notes(notes);
            ctx.warn_unresolved(&notes.unresolved, &notes.kept_secrets);
        }
    }
}

/// The `--format json` result of an apply (shared with `rollout`).
pub fn result_json(
    result: &Result<Report, Error>,
    source: &str,
    target: &str,
) -> serde_json::Value {
    use serde_json::json;
    let mut out = json!({
        "format": "tsmigrate-apply",
        "version": 1,
        "source": source,
        "target": target,
        "config_keys": null, "created": null, "updated": null, "deleted": null,
        "writes": 0, "seconds": null, "verified": false, "journal": null, "error": null,
    });
    let counts = |out: &mut serde_json::Value, c: &crate::apply::Counts| {
        out["config_keys"] = json!(c.config_keys);
        out["created"] = json!(c.created);
        out["updated"] = json!(c.updated);
        out["deleted"] = json!(c.deleted);
    };
    let notes = |out: &mut serde_json::Value, n: &crate::apply::Notes| {
        out["notes"] = json!({
            "unremovable": n.left.unremovable,
            "kept_without_prune": n.left.kept,
            "partly_selected": n.left.partial,
            "config_shared_by_orgs": n.left.shared_config,
            "config_scope": n.left.config_scope,
            "associations_not_added": n.skipped.iter().map(|m| m.pointer.clone()).collect::<Vec<_>>(),
            "unchecked": n.unchecked,
            "secrets_without_value": n.kept_secrets,
        });
    };
    match result {
        Ok(Report::Unchanged { notes: n }) => {
            out["result"] = json!("unchanged");
            counts(&mut out, &Default::default());
            out["verified"] = json!(true);
            notes(&mut out, n);
        }
        Ok(Report::DryRun {
            requests,
            counts: c,
            notes: n,
        }) => {
            out["result"] = json!("dry-run");
            counts(&mut out, c);
            out["requests"] = json!(requests);
            notes(&mut out, n);
        }
        Ok(Report::Applied {
            counts: c,
            writes,
            elapsed,
            notes: n,
        }) => {
            out["result"] = json!("applied");
            counts(&mut out, c);
            out["writes"] = json!(writes);
            out["seconds"] = json!((elapsed.as_secs_f64() * 1000.0).round() / 1000.0);
            out["verified"] = json!(true);
            notes(&mut out, n);
        }
        Err(e) => {
            out["result"] = json!(match e {
                Error::ApplyRestored(_) => "restored",
                Error::ApplyNotRestored { .. } => "not-restored",
                Error::Stale(_) | Error::PlanStale(_) => "stale",
                _ => "refused",
            });
            if let Error::ApplyNotRestored { journal, .. } = e {
                out["journal"] = json!(journal.display().to_string());
            }
            out["error"] = json!(crate::secrets::mask_known(&e.to_string()));
        }
    }
    out
}

/// Prints what an apply did (shared with `watch --apply` and `demo`).
pub fn print_report(
    ctx: &Context,
    report: &Report,
    target: &str,
    source: &str,
) -> Result<(), Error> {
    match report {
        Report::Unchanged { notes } => {
            ctx.print_notes(notes);
            ctx.printer
                .text_line(&format!("No changes: {target} already matches {source}."))
        }
        Report::DryRun {
            requests, notes, ..
        } => {
            ctx.print_notes(notes);
            ctx.warn_unresolved(&notes.unresolved, &notes.kept_secrets);
            let mut text = format!(
                "dry run: {} would be sent to {target}; none sent\n",
                plural(requests.len(), "request", "requests")
            );
            for r in requests {
                text.push_str(r);
                text.push('\n');
            }
            ctx.printer.text(&text)
        }
        Report::Applied {
            counts,
            writes,
            elapsed,
            notes,
        } => {
            ctx.print_notes(notes);
            ctx.warn_unresolved(&notes.unresolved, &notes.kept_secrets);
            ctx.printer
                .text_line(&applied_line(counts, *writes, *elapsed))
        }
    }
}

/// The diff shown before asking (only where someone can answer).
fn preview(ctx: &Context, target: &Side, desired: &serde_json::Value) -> Option<String> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let ops = diff::diff(&target.doc, desired);
    Some(render::text(
        &ops,
        &render::Palette::new(ctx.printer.color_err()),
    ))
}

fn confirm(preview: Option<&Option<String>>, label: &str) -> Result<(), Error> {
    let text = preview.and_then(Option::as_deref).unwrap_or_default();
    super::confirm::ask(
        &format!("{text}\nApply these changes to {label}? "),
        "apply needs --yes when no terminal is attached (review the change with `tsmigrate diff` first)",
        "apply cancelled; nothing was written",
    )
}

/// First signal: stop starting writes, undo, say so. Second: leave the
/// journal and exit 5 with the command that finishes the undo.
pub fn watch_signals(
    printer: &Printer,
    interrupt: &Abort,
    journal: &std::path::Path,
) -> tokio::task::JoinHandle<()> {
    let (p1, p2) = (printer.clone(), printer.clone());
    let journal = journal.to_path_buf();
    signals::on_signals(
        interrupt.clone(),
        move || {
            p1.warn("interrupted: no new writes; waiting for those in flight, then undoing (a second signal exits at once and leaves the journal)");
        },
        move || {
            // Held to the exit: the journal is neither created nor
            // deleted between this look and the exit code it decides.
            let _files = crate::apply::journal::files_lock();
            if journal.exists() {
                p2.error(&Error::ApplyNotRestored {
                    message: "interrupted twice: the undo did not finish; the target may hold part of the apply".into(),
                    journal: journal.clone(),
                });
                std::process::exit(5);
            }
            p2.error(&Error::Usage(format!(
                "interrupted twice before anything was written (no journal at {})",
                shell_word(&journal.display().to_string())
            )));
            std::process::exit(1);
        },
    )
}
