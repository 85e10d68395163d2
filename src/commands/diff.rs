//! `tsmigrate diff`: what applying (with the same flags) would change on
//! the target, and what it would not (notes). With several `--target`s,
//! one summary per target: which of them drift from the source, and by
//! how much (the fleet view).

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::{exiting_with, Context};
use crate::cli::{DiffFormat, OrgFlags};
use crate::compare::{self, Comparison};
use crate::diff::render::Summary;
use crate::diff::view::View;
use crate::diff::{self, render};
use crate::error::{Error, Outcome};
use crate::fetch;

/// Targets read at once in the fleet view.
const FLEET_PARALLEL: usize = 4;

pub async fn run(
    ctx: &Context,
    source: &str,
    targets: &[String],
    orgs: &OrgFlags,
    (format, max_bytes): (DiffFormat, Option<usize>),
    exit_code: bool,
    prune: bool,
) -> Result<Outcome, Error> {
    if max_bytes.is_some() && format != DiffFormat::Markdown {
        return Err(Error::Usage(
            "--max-bytes is for --format markdown (a pull-request comment)".into(),
        ));
    }
    let opts = compare::Options {
        prune,
        orgs: orgs.sides(),
        keep_config: false,
    };
    match targets {
        [target] => one(ctx, source, target, opts, (format, max_bytes), exit_code).await,
        _ => fleet(ctx, source, targets, opts, (format, max_bytes), exit_code).await,
    }
}

async fn one(
    ctx: &Context,
    source: &str,
    target: &str,
    opts: compare::Options,
    (format, max_bytes): (DiffFormat, Option<usize>),
    exit_code: bool,
) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let c = compare::diff_refs(&settings, &ctx.conns, (source, target), opts, false).await?;
    ctx.report_comparison(&c);
    // Patch and report mask secrets by path; the other formats are text.
    match format {
        DiffFormat::Patch => ctx.printer.json(&diff::patch_json(&c.ops))?,
        DiffFormat::Json => ctx.printer.json(&render::json_report(
            &c.ops,
            &c.notes,
            &c.source.label,
            &c.target.label,
        ))?,
        DiffFormat::Text => ctx.printer.text(&render::text_with_notes(
            &c.ops,
            &c.notes,
            &render::Palette::new(ctx.printer.color_out()),
        ))?,
        DiffFormat::Summary => ctx.printer.text(&render::summary(&c.ops))?,
        DiffFormat::Markdown => ctx
            .printer
            .text(&diff::markdown::render_within(&review(&c), max_bytes))?,
        DiffFormat::Html => ctx.printer.text(&diff::html::render(&review(&c)))?,
    }
    let outcome = if exit_code && !c.ops.is_empty() {
        Outcome::Differences
    } else {
        Outcome::Success
    };
    exiting_with(c);
    Ok(outcome)
}

/// What a review report shows of a comparison.
fn review(c: &Comparison) -> View {
    View::of(&c.ops, &c.notes, &c.source.label, &c.target.label)
        .with_unresolved(&c.unresolved, &c.ops)
}

/// One target of the fleet view: its comparison, or why there is none.
struct Row {
    target: String,
    result: Result<Comparison, Error>,
    /// Another target is an Org of the same cluster.
    shared: bool,
}

impl Row {
    fn label(&self) -> String {
        match &self.result {
            Ok(c) => side_label(&c.target, self.shared),
            Err(_) => self.target.clone(),
        }
    }
}

/// "prod", or "prod (Org Sales (3))" where the Org tells sides apart: it
/// is not the Primary Org, or `shared` (several Orgs of one cluster).
fn side_label(side: &fetch::Side, shared: bool) -> String {
    match &side.org {
        Some(o) if o.id != crate::model::PRIMARY_ORG || shared => {
            format!("{} (Org {o})", side.label)
        }
        _ => side.label.clone(),
    }
}

async fn fleet(
    ctx: &Context,
    source: &str,
    targets: &[String],
    opts: compare::Options,
    (format, max_bytes): (DiffFormat, Option<usize>),
    exit_code: bool,
) -> Result<Outcome, Error> {
    if matches!(format, DiffFormat::Patch | DiffFormat::Html) {
        return Err(Error::Usage(
            "with several --target, --format is text, summary, json or markdown (one summary per target); a patch or a page is for one target"
                .into(),
        ));
    }
    let settings = ctx.settings()?;
    // Every REF first: a typo fails before any cluster is asked.
    let mut refs = vec![(source, opts.orgs.source.as_deref())];
    refs.extend(
        targets
            .iter()
            .map(|t| (t.as_str(), opts.orgs.target.as_deref())),
    );
    let mut resolved = settings.resolve_all(&refs)?;
    let target_refs = resolved.split_off(1);
    let source_ref = resolved.remove(0);
    let source_side = fetch::load(&source_ref, &settings, &ctx.conns).await?;
    let rows: Vec<Row> = stream::iter(targets.iter().zip(&target_refs))
        .map(|(text, r)| {
            let (settings, source, opts) = (&settings, source_side.clone(), opts.clone());
            async move {
                let result = match fetch::load(r, settings, &ctx.conns).await {
                    Ok(t) => compare::compare(settings, source, t, opts),
                    Err(e) => Err(e),
                };
                Row {
                    target: text.clone(),
                    result,
                    shared: false,
                }
            }
        })
        .buffered(FLEET_PARALLEL)
        .collect()
        .await;
    let mut rows = rows;
    let urls: Vec<Option<String>> = rows
        .iter()
        .map(|r| {
            r.result
                .as_ref()
                .ok()
                .map(|c| c.target.url.trim_end_matches('/').to_ascii_lowercase())
        })
        .collect();
    for (row, url) in rows.iter_mut().zip(&urls) {
        row.shared = url.is_some() && urls.iter().filter(|u| *u == url).count() > 1;
    }
    for row in &rows {
        match &row.result {
            Ok(c) => ctx.report_comparison(c),
            Err(e) => ctx.printer.error(e),
        }
    }
    let source_label = side_label(&source_side, false);
    match format {
        DiffFormat::Json => ctx.printer.json(&fleet_json(&source_label, &rows))?,
        DiffFormat::Markdown => {
            ctx.printer
                .text(&fleet_markdown(&source_label, &rows, max_bytes))?
        }
        DiffFormat::Summary => ctx
            .printer
            .text(&fleet_summary(&source_label, &rows, true))?,
        _ => ctx
            .printer
            .text(&fleet_summary(&source_label, &rows, false))?,
    }
    let failed = rows.iter().find_map(|r| r.result.as_ref().err());
    let drifting = rows
        .iter()
        .any(|r| r.result.as_ref().is_ok_and(|c| !c.ops.is_empty()));
    match failed {
        // Every target was reported; the first failure sets the exit code.
        Some(first) => {
            let message = format!(
                "{} of {} targets could not be compared (the first: {first})",
                rows.iter().filter(|r| r.result.is_err()).count(),
                rows.len()
            );
            Err(match first {
                Error::Cluster { .. } => Error::Cluster {
                    cluster: "diff".into(),
                    message,
                },
                _ => Error::Usage(message),
            })
        }
        None if exit_code && drifting => Ok(Outcome::Differences),
        None => Ok(Outcome::Success),
    }
}

/// How far one target is from the source, in one line.
fn drift_line(c: &Comparison) -> String {
    let s = Summary::of(&c.ops);
    if s.is_empty() {
        "no differences".into()
    } else {
        let line = s.line();
        line.trim_start_matches("Plan: ")
            .trim_end_matches('.')
            .to_string()
    }
}

fn fleet_summary(source: &str, rows: &[Row], details: bool) -> String {
    let drifting = rows
        .iter()
        .filter(|r| r.result.as_ref().is_ok_and(|c| !c.ops.is_empty()))
        .count();
    let failed = rows.iter().filter(|r| r.result.is_err()).count();
    let mut out = format!(
        "tsmigrate: {drifting} of {} targets drift from {source}{}\n",
        rows.len(),
        if failed > 0 {
            format!(", {failed} could not be compared")
        } else {
            String::new()
        }
    );
    for row in rows {
        match &row.result {
            Ok(c) => {
                out.push_str(&format!("\n{}: {}\n", row.label(), drift_line(c)));
                if details && !c.ops.is_empty() {
                    // The single target's summary, without its title.
                    for line in render::summary(&c.ops).lines().skip(1) {
                        if !line.trim().is_empty() {
                            out.push_str(&format!("  {line}\n"));
                        }
                    }
                }
                if !c.notes.kept.is_empty() {
                    out.push_str(&format!(
                        "  {} only on the target (kept; --prune deletes)\n",
                        c.notes.kept.len()
                    ));
                }
            }
            Err(e) => out.push_str(&format!("\n{}: FAILED: {e}\n", row.label())),
        }
    }
    out
}

fn fleet_json(source: &str, rows: &[Row]) -> Value {
    let targets: Vec<Value> = rows
        .iter()
        .map(|row| match &row.result {
            Ok(c) => json!({
                "target": c.target.label,
                "org": c.target.org,
                "drift": !c.ops.is_empty(),
                "error": null,
                "diff": render::json_report(&c.ops, &c.notes, &c.source.label, &c.target.label),
            }),
            Err(e) => json!({
                "target": row.target,
                "org": null,
                "drift": null,
                "error": crate::secrets::mask_known(&e.to_string()),
                "diff": null,
            }),
        })
        .collect();
    json!({
        "format": "tsmigrate-fleet",
        "version": 1,
        "source": source,
        "drifting": rows.iter().filter(|r| r.result.as_ref().is_ok_and(|c| !c.ops.is_empty())).count(),
        "failed": rows.iter().filter(|r| r.result.is_err()).count(),
        "targets": targets,
    })
}

/// `max`: the report's bytes, shared evenly by the targets' own reports
/// (each cut as `markdown::render_within` cuts).
fn fleet_markdown(source: &str, rows: &[Row], max: Option<usize>) -> String {
    use crate::diff::markdown::html;
    let mut out = format!(
        "### tsmigrate: <code>{}</code> → {} targets\n\n",
        html(source),
        rows.len()
    );
    out.push_str("| target | drift | config keys | create | update | delete | kept (no --prune) |\n|---|---|---|---|---|---|---|\n");
    for row in rows {
        match &row.result {
            Ok(c) => {
                let s = Summary::of(&c.ops);
                out.push_str(&format!(
                    "| <code>{}</code> | {} | {} | {} | {} | {} | {} |\n",
                    html(&row.label()),
                    if c.ops.is_empty() { "no" } else { "**yes**" },
                    s.config_keys,
                    s.create.len(),
                    s.update.len(),
                    s.delete.len(),
                    c.notes.kept.len()
                ));
            }
            Err(e) => out.push_str(&format!(
                "| <code>{}</code> | failed: {} | | | | | |\n",
                html(&row.label()),
                html(&e.to_string())
                    .replace('|', "&#124;")
                    .replace('\n', " ")
            )),
        }
    }
    out.push('\n');
    for row in rows {
        if let Ok(c) = &row.result {
            if c.ops.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "<details><summary><code>{}</code>: {}</summary>\n\n",
                html(&row.label()),
                html(&drift_line(c))
            ));
            // The target's own report, its headings a level down.
            let share = max.map(|m| (m / rows.len().max(1)).max(1024));
            let report = diff::markdown::render_within(&review(c), share);
            for line in report.lines() {
                if line.starts_with("### ") {
                    continue;
                }
                out.push_str(&line.replacen("#### ", "##### ", 1));
                out.push('\n');
            }
            out.push_str("</details>\n\n");
        }
    }
    out
}
