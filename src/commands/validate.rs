//! `tsmigrate validate`: the checks apply makes before writing, alone.
//! `--format json` prints the problems as a JSON array.

use super::Context;
use crate::apply::Notes;
use crate::cli::{OrgFlags, ReportFormat};
use crate::compare;
use crate::error::{Error, Outcome};
use crate::validate::{self, TargetFacts};

pub async fn run(
    ctx: &Context,
    source: &str,
    target: &str,
    orgs: &OrgFlags,
    skip_missing: bool,
    format: ReportFormat,
) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let mut c = compare::compare_refs(
        &settings,
        &ctx.conns,
        source,
        target,
        compare::Options {
            prune: false,
            orgs: orgs.sides(),
            keep_config: false,
        },
    )
    .await?;
    ctx.report_comparison(&c);
    let overrides = crate::fetch::overrides_for(&c.target, &c.desired).await?;
    let facts = TargetFacts {
        doc: &c.target.doc,
        overrides: overrides.as_ref(),
    };
    let checked = validate::check_all(
        &mut c.desired,
        &facts,
        c.target.cluster.as_ref(),
        skip_missing,
    )
    .await?;
    // What the target's API cannot hold is a problem too.
    let checked = match (checked, inexpressible(&c)) {
        (r, more) if more.is_empty() => r,
        (Ok(_), more) => Err(more),
        (Err(mut p), more) => {
            p.extend(more);
            Err(p)
        }
    };
    if format == ReportFormat::Json {
        // Pointers are data; each message is text, masked as messages are.
        let problems: Vec<validate::Problem> = match &checked {
            Ok(_) => Vec::new(),
            Err(p) => p
                .iter()
                .map(|p| validate::Problem {
                    pointer: p.pointer.clone(),
                    message: crate::secrets::mask_known(&p.message).into_owned(),
                })
                .collect(),
        };
        ctx.printer.json(&problems)?;
    }
    let report = match checked {
        Ok(r) => r,
        Err(problems) => return Err(validate::problems_error(&c.target.label, &problems)),
    };
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

/// `Comparison::inexpressible`, and the config keys it cannot write
/// (`Notes::unwritable`), as problems (pointer, message).
fn inexpressible(c: &compare::Comparison) -> Vec<validate::Problem> {
    let unwritable = c.notes.unwritable.iter().map(|p| validate::Problem {
        pointer: p.clone(),
        message: crate::diff::unwritable_why(p),
    });
    let inexpressible = c.inexpressible.iter().map(|line| {
        let (pointer, why) = line.split_once(": ").unwrap_or((line.as_str(), ""));
        validate::Problem {
            pointer: pointer.to_string(),
            message: format!(
                "{} ({}) cannot hold this: {why}",
                c.target.label,
                c.target.api.name()
            ),
        }
    });
    unwritable.chain(inexpressible).collect()
}
