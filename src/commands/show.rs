//! `tsmigrate show REF`: the canonical document, secrets masked.

use super::{pretty, Context};
use crate::error::{Error, Outcome};
use crate::{fetch, secrets};

pub async fn run(ctx: &Context, reference: &str) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let side = fetch::load(&settings.resolve(reference)?, &settings, &ctx.conns).await?;
    ctx.printer.out(&pretty(&secrets::redact(&side.doc))?)?;
    Ok(Outcome::Success)
}
