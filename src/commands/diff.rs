//! `tsmigrate diff`: what applying (with the same flags) would change on
//! the target, and what it would not (notes).

use super::{exiting_with, pretty, Context};
use crate::cli::DiffFormat;
use crate::compare;
use crate::diff::view::{secrets_that_matter, View};
use crate::diff::{self, render};
use crate::error::{Error, Outcome};

pub async fn run(
    ctx: &Context,
    source: &str,
    target: &str,
    format: DiffFormat,
    exit_code: bool,
    prune: bool,
) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let c = compare::compare_refs(
        &settings,
        &ctx.conns,
        source,
        target,
        compare::Options { prune },
    )
    .await?;
    ctx.report_comparison(&c);
    let text = match format {
        DiffFormat::Text => render::text_with_notes(
            &c.ops,
            &c.notes,
            &render::Palette::new(ctx.printer.color_out()),
        ),
        DiffFormat::Patch => pretty(&diff::patch_json(&c.ops))?,
        DiffFormat::Json => pretty(&render::json_report(
            &c.ops,
            &c.notes,
            &c.source.label,
            &c.target.label,
        ))?,
        DiffFormat::Summary => render::summary(&c.ops),
        DiffFormat::Markdown => diff::markdown::render(&review(&c)),
        DiffFormat::Html => diff::html::render(&review(&c)),
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

/// What a review report shows of a comparison.
fn review(c: &compare::Comparison) -> View {
    View::of(&c.ops, &c.notes, &c.source.label, &c.target.label)
        .with_unresolved(&secrets_that_matter(&c.unresolved, &c.ops))
}
