//! `tsmigrate export --cluster REF --out DIR`: a snapshot directory.

use std::path::Path;

use super::Context;
use crate::error::{Error, Outcome};
use crate::words::plural;
use crate::{document, fetch, secrets, snapshot};

pub async fn run(
    ctx: &Context,
    reference: &str,
    out: &Path,
    force: bool,
    org: Option<&str>,
) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let side = fetch::load(&settings.resolve_in(reference, org)?, &settings, &ctx.conns).await?;
    snapshot::write(out, &secrets::redact(&side.doc), &side.origin(), force)?;
    ctx.printer.info(&format!(
        "exported {}{} to {} ({})",
        side.label,
        side.org
            .as_ref()
            .map(|o| format!(" (Org {o})"))
            .unwrap_or_default(),
        out.display(),
        plural(document::actions(&side.doc).len(), "action", "actions")
    ));
    Ok(Outcome::Success)
}
