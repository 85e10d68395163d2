//! `tsmigrate rollback --journal J`: undo what an apply wrote, where it
//! still holds; the target comes from the journal unless `--target` says.

use super::apply::{live_ref, lock_target};
use super::Context;
use crate::apply::{journal, rollback};
use crate::cli::RollbackArgs;
use crate::error::{Error, Outcome};

pub async fn run(ctx: &Context, args: RollbackArgs) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let record = journal::read(&args.journal)?;
    for line in &record.skipped {
        ctx.printer.warn(&format!(
            "{}: line {line} was cut short by a crash; skipped (its write was never sent)",
            args.journal.display()
        ));
    }
    let target_ref = match &args.target {
        Some(t) => settings.resolve(t)?,
        None => settings.resolve_url(&record.target)?,
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
    let _lock = lock_target(&settings, live, args.lock_timeout, "tsmigrate rollback").await?;
    let cluster = ctx.conns.cluster(live, &settings.net).await?;
    let writer = journal::Journal::reopen(&args.journal, record.next_seq());
    if let Err(e) = &writer {
        ctx.printer.warn(&format!(
            "the journal cannot be appended to ({e}); undoing anyway"
        ));
    }
    let parallel = settings.parallel_for(&target_ref, args.parallel.map(usize::from));
    let outcome = rollback::undo(
        &cluster,
        writer.as_ref().ok(),
        &record,
        args.force,
        parallel,
    )
    .await?;
    if outcome.complete() {
        if let Ok(w) = &writer {
            let _ = w.finish("rolled back").await;
        }
        if outcome.reverted == 0 {
            ctx.printer.line(&format!(
                "Nothing to undo: every object in {} is as it was before the apply.",
                args.journal.display()
            ))?;
        } else {
            ctx.printer.line(&format!(
                "Rolled back {} object(s) with {} write(s) on {}; verified.",
                outcome.reverted, outcome.writes, live.endpoint.label
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
