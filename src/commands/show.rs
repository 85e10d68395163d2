//! `tsmigrate show REF`: the canonical document, secrets masked; and
//! `tsmigrate show PLAN`: a plan file rendered, like `terraform show`.

use std::path::Path;

use super::Context;
use crate::cli::ShowFormat;
use crate::diff::view::plan_ops;
use crate::diff::{self, render};
use crate::error::{Error, Outcome};
use crate::{fetch, plan, secrets};

pub async fn run(
    ctx: &Context,
    reference: &str,
    (format, max_bytes): (Option<ShowFormat>, Option<usize>),
    org: Option<&str>,
) -> Result<Outcome, Error> {
    if max_bytes.is_some() && format != Some(ShowFormat::Markdown) {
        return Err(Error::Usage(
            "--max-bytes is for --format markdown (a pull-request comment)".into(),
        ));
    }
    if let Some(p) = plan_file(reference) {
        if org.is_some() {
            return Err(Error::Usage(format!(
                "{reference}: --org is for a cluster; a plan names its own Org"
            )));
        }
        return show_plan(ctx, &p, (format.unwrap_or(ShowFormat::Text), max_bytes));
    }
    if !matches!(format, None | Some(ShowFormat::Json)) {
        return Err(Error::Usage(format!(
            "{reference}: --format text, markdown, html, patch and summary are for a plan file; a cluster or snapshot is shown as JSON"
        )));
    }
    let settings = ctx.settings()?;
    let side = fetch::load(&settings.resolve_in(reference, org)?, &settings, &ctx.conns).await?;
    ctx.printer.json(&secrets::redact(&side.doc))?;
    Ok(Outcome::Success)
}

/// `reference` as a plan file: a regular file that says it is a plan.
fn plan_file(reference: &str) -> Option<std::path::PathBuf> {
    let p = Path::new(reference);
    if !p.is_file() {
        return None;
    }
    let head = std::fs::read(p).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&head).ok()?;
    (v.get("format").and_then(serde_json::Value::as_str) == Some(plan::FORMAT))
        .then(|| p.to_path_buf())
}

fn show_plan(
    ctx: &Context,
    path: &Path,
    (format, max_bytes): (ShowFormat, Option<usize>),
) -> Result<Outcome, Error> {
    let the_plan = plan::read(path)?;
    let view = the_plan.view();
    let ops = plan_ops(&the_plan.patch);
    // A plan's values are placeholders already (`plan::read` refuses one
    // that holds a secret): its JSON forms are data, printed as they are.
    match format {
        ShowFormat::Json => {
            let mut report =
                render::json_report(&ops, &the_plan.notes, &the_plan.source, &the_plan.target);
            if let Some(f) = &view.plan {
                report["plan"] = serde_json::json!({
                    "target_url": f.target_url, "target_org": f.target_org, "made_at": f.made_at,
                    "guards": f.guards, "target_fingerprint": f.fingerprint,
                });
            }
            ctx.printer.json(&report)?;
        }
        ShowFormat::Patch => ctx.printer.json(&the_plan.patch)?,
        ShowFormat::Text => {
            let mut head = format!("Plan: {} → {}\n", the_plan.source, the_plan.target);
            if let Some(f) = view.plan.as_ref() {
                head.push_str(&format!(
                    "  target   {} (Org {})\n",
                    f.target_url, f.target_org
                ));
                if let Some(t) = &f.made_at {
                    head.push_str(&format!("  made     {t}\n"));
                }
                head.push_str(&format!(
                    "  guards   {}\n  target fingerprint {}\n\n",
                    f.guards, f.fingerprint
                ));
            }
            ctx.printer.text(
                &(head
                    + &render::text_with_notes(
                        &ops,
                        &the_plan.notes,
                        &render::Palette::new(ctx.printer.color_out()),
                    )),
            )?;
        }
        ShowFormat::Markdown => ctx
            .printer
            .text(&diff::markdown::render_within(&view, max_bytes))?,
        ShowFormat::Html => ctx.printer.text(&diff::html::render(&view))?,
        ShowFormat::Summary => ctx.printer.text(&render::summary(&ops))?,
    }
    Ok(Outcome::Success)
}
