//! `tsmigrate plan`: a plan file with guards, and the diff it holds.

use std::path::Path;

use super::Context;
use crate::cli::OrgFlags;
use crate::compare::{self, Comparison};
use crate::diff::render;
use crate::error::{Error, Outcome};
use crate::plan;

/// Builds the plan of a comparison and writes it to `out`.
pub fn save(c: &Comparison, out: &Path) -> Result<plan::Plan, Error> {
    let the_plan = build(c)?;
    plan::write(out, &the_plan)?;
    Ok(the_plan)
}

fn build(c: &Comparison) -> Result<plan::Plan, Error> {
    Ok(plan::build(
        &c.ops,
        &c.source.label,
        &c.target.label,
        &c.target.doc,
        c.target.fingerprint.as_deref(),
        &c.target.reduced,
        &c.unresolved,
    )?
    .with_notes(c.notes.clone())
    .bound_to(&c.target.url, c.target.org.as_ref())
    .viewed(c.view))
}

pub async fn run(
    ctx: &Context,
    source: &str,
    target: &str,
    orgs: &OrgFlags,
    out: &Path,
    exit_code: bool,
    prune: bool,
) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    // Two snapshots are read side by side, as `diff` reads them: the
    // target's fingerprint comes from its files.
    let c = compare::diff_refs(
        &settings,
        &ctx.conns,
        (source, target),
        compare::Options {
            prune,
            orgs: orgs.sides(),
            keep_config: false,
        },
        true,
    )
    .await?;
    ctx.report_comparison(&c);
    c.check_expressible()?;
    if out == Path::new("-") {
        // The plan is the output; the diff goes to stderr.
        // The same bytes as `--out FILE` (`plan::write`): masked by path.
        ctx.printer.json(&build(&c)?)?;
        ctx.printer.info(
            render::text_with_notes(
                &c.ops,
                &c.notes,
                &render::Palette::new(ctx.printer.color_err()),
            )
            .trim_end(),
        );
    } else {
        save(&c, out)?;
        ctx.printer.text(&render::text_with_notes(
            &c.ops,
            &c.notes,
            &render::Palette::new(ctx.printer.color_out()),
        ))?;
        ctx.printer
            .info(&format!("plan written to {}", out.display()));
    }
    Ok(if exit_code && !c.ops.is_empty() {
        Outcome::Differences
    } else {
        Outcome::Success
    })
}
