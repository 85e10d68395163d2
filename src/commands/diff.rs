//! `tsmigrate diff`: what applying would change on the target.

use super::{exiting_with, pretty, Context};
use crate::cli::DiffFormat;
use crate::compare;
use crate::diff::{self, render};
use crate::error::{Error, Outcome};

pub async fn run(
    ctx: &Context,
    source: &str,
    target: &str,
    format: DiffFormat,
    exit_code: bool,
) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let c = compare::compare_refs(&settings, &ctx.conns, source, target).await?;
    ctx.warn_unresolved(&c.unresolved);
    let text = match format {
        DiffFormat::Text => render::text(&c.ops, &render::Palette::new(ctx.printer.color_out())),
        DiffFormat::Patch => pretty(&diff::patch_json(&c.ops))?,
        DiffFormat::Json => pretty(&render::json_report(
            &c.ops,
            &c.source.label,
            &c.target.label,
        ))?,
        DiffFormat::Summary => render::summary(&c.ops),
    };
    ctx.printer.out(&text)?;
    let outcome = if exit_code && !c.ops.is_empty() {
        Outcome::Differences
    } else {
        Outcome::Success
    };
    exiting_with(c);
    Ok(outcome)
}
