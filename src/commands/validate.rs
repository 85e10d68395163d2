//! `tsmigrate validate`: the checks apply makes before writing, alone.

use super::Context;
use crate::apply::Notes;
use crate::compare;
use crate::error::{Error, Outcome};
use crate::validate::{self, TargetFacts};

pub async fn run(
    ctx: &Context,
    source: &str,
    target: &str,
    skip_missing: bool,
) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let mut c = compare::compare_refs(
        &settings,
        &ctx.conns,
        source,
        target,
        compare::Options::default(),
    )
    .await?;
    ctx.report_comparison(&c);
    let facts = TargetFacts {
        doc: &c.target.doc,
        overrides: c.target.overrides.as_ref(),
    };
    let report = validate::validate(
        &mut c.desired,
        &facts,
        c.target.cluster.as_ref(),
        &c.target.label,
        skip_missing,
    )
    .await?;
    ctx.print_notes(&Notes {
        skipped: report.skipped,
        unchecked: report.unchecked,
        ..Notes::default()
    });
    ctx.printer.info(&format!(
        "no problems found: {} can be applied to {}",
        c.source.label, c.target.label
    ));
    Ok(Outcome::Success)
}
