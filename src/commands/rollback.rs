//! `tsmigrate rollback --journal J`: undo what an apply wrote, where it
//! still holds; the target comes from the journal unless `--target` says.

use super::apply::{live_ref, lock_target};
use super::Context;
use crate::apply::{journal, rollback};
use crate::cli::{ReportFormat, RollbackArgs};
use crate::error::{Error, Outcome};
use crate::words::plural;

pub async fn run(ctx: &Context, args: RollbackArgs) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let record = journal::read(&args.journal)?;
    for line in &record.skipped {
        ctx.printer.warn(&format!(
            "{}: line {line} was cut short by a crash; skipped (its write was never sent)",
            args.journal.display()
        ));
    }
    let journal_org = record.org.as_ref().map(|o| o.id.to_string());
    // The Org is the journal's unless --org says otherwise (then the
    // check below refuses a mismatch), with --target given or not.
    let org = args.org.as_deref().or(journal_org.as_deref());
    let target_ref = match &args.target {
        Some(t) => settings.resolve_in(t, org)?,
        None => settings.resolve_in(&settings.resolve_url(&record.target)?.label(), org)?,
    };
    let live = live_ref(&target_ref, "--target")?;
    if record.target.trim_end_matches('/') != live.endpoint.url.trim_end_matches('/') {
        return Err(Error::Usage(format!(
            "{}: the journal was written for {}, not {}",
            args.journal.display(),
            record.target,
            live.endpoint.url
        )));
    }
    let cluster = ctx.conns.cluster(live, &settings.net).await?;
    let (was, is) = (
        record
            .org
            .as_ref()
            .map_or(crate::model::PRIMARY_ORG, |o| o.id),
        cluster.org().map_or(crate::model::PRIMARY_ORG, |o| o.id),
    );
    if was != is {
        return Err(Error::Usage(format!(
            "{}: the journal was written in Org {}, not in Org {} of {}; nothing was written",
            args.journal.display(),
            record
                .org
                .as_ref()
                .map_or(was.to_string(), |o| o.to_string()),
            cluster.org().map_or(is.to_string(), |o| o.to_string()),
            live.endpoint.label
        )));
    }
    let _lock = lock_target(
        ctx,
        &settings,
        live,
        args.lock_timeout,
        "tsmigrate rollback",
        false,
    )
    .await?;
    let writer = journal::Journal::reopen(&args.journal, record.next_seq());
    if let Err(e) = &writer {
        ctx.printer.warn(&format!(
            "the journal cannot be appended to ({e}); undoing anyway"
        ));
    }
    let parallel = settings.parallel_for(&target_ref, args.parallel.map(usize::from));
    let progress =
        super::progress::Writes::new(&ctx.printer, "undoing", super::progress::every(&ctx.env)?);
    let others = other_orgs(ctx, &settings, live, &cluster, &record).await?;
    let outcome = rollback::undo(
        &cluster,
        writer.as_ref().ok(),
        &record,
        args.force,
        parallel,
        &progress,
        &others,
    )
    .await;
    progress.finish();
    let outcome = outcome?;
    if args.format == ReportFormat::Json {
        let result = if !outcome.complete() {
            "incomplete"
        } else if outcome.reverted == 0 && outcome.strays_removed.is_empty() {
            "nothing-to-undo"
        } else {
            "rolled-back"
        };
        // Data, printed as is: its lists are messages, masked here.
        let messages = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|m| crate::secrets::mask_known(m).into_owned())
                .collect()
        };
        ctx.printer.json(&serde_json::json!({
            "format": "tsmigrate-rollback",
            "version": 1,
            "target": live.endpoint.label,
            "journal": args.journal.display().to_string(),
            "result": result,
            "objects": outcome.reverted,
            "writes": outcome.writes,
            "left_alone": messages(&outcome.left_alone),
            "failures": messages(&outcome.failures),
            "remaining": messages(&outcome.remaining),
            "strays_removed": messages(&outcome.strays_removed),
        }))?;
    }
    for line in &outcome.strays_removed {
        ctx.printer.warn(line);
    }
    if outcome.complete() {
        if let Ok(w) = &writer {
            let _ = w.finish("rolled back").await;
        }
        if args.format == ReportFormat::Json {
            // The result is on stdout already.
        } else if outcome.reverted == 0 && outcome.strays_removed.is_empty() {
            ctx.printer.text_line(&format!(
                "Nothing to undo: every object in {} is as it was before the apply.",
                args.journal.display()
            ))?;
        } else {
            ctx.printer.text_line(&format!(
                "Rolled back {}{} with {} on {}; verified.",
                plural(outcome.reverted, "object", "objects"),
                match outcome.strays_removed.len() {
                    0 => String::new(),
                    n => format!(
                        " and removed {} created in another Org",
                        plural(n, "action", "actions")
                    ),
                },
                plural(outcome.writes, "write", "writes"),
                live.endpoint.label
            ))?;
        }
        ctx.printer.info(&format!(
            "the journal {} may now be deleted",
            args.journal.display()
        ));
        return Ok(Outcome::Success);
    }
    let mut message = String::from("rollback could not restore everything:");
    for line in outcome.left_alone.iter().chain(&outcome.failures) {
        message.push_str(&format!("\n  {line}"));
    }
    if !outcome.remaining.is_empty() {
        message.push_str(&format!(
            "\n  still not as before: {}",
            outcome.remaining.join(", ")
        ));
    }
    if !outcome.left_alone.is_empty() {
        message.push_str("\n  (--force undoes values someone changed since the apply too)");
    }
    Err(Error::ApplyNotRestored {
        message,
        journal: args.journal.clone(),
    })
}

/// Where the journal has strays still to remove: a session in each other
/// Org of the cluster to look for them in (whether the cluster keeps the
/// Org per session or per user). None otherwise.
async fn other_orgs(
    ctx: &Context,
    settings: &crate::config::Settings,
    live: &crate::config::LiveRef,
    cluster: &crate::api::Cluster,
    record: &journal::Record,
) -> Result<Vec<(i64, crate::api::Cluster)>, Error> {
    if record.strays.values().all(|(_, removed)| *removed) {
        return Ok(Vec::new());
    }
    let own = cluster.org().map(|o| o.id);
    let orgs = cluster
        .org_list()
        .await
        .map_err(|e| {
            Error::Usage(format!(
                "{}: listing the Orgs to find the strays in: {e}",
                live.endpoint.label
            ))
        })?
        .map(|l| l.orgs)
        .unwrap_or_default();
    let mut out = Vec::new();
    for org in orgs.iter().map(|o| o.id).filter(|id| Some(*id) != own) {
        let there = crate::config::LiveRef {
            org: Some(crate::model::OrgSpec::Id(org)),
            ..live.clone()
        };
        out.push((org, ctx.conns.cluster(&there, &settings.net).await?));
    }
    Ok(out)
}
