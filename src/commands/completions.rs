//! `tsmigrate completions SHELL` and `tsmigrate manpage`.

use super::Context;
use crate::cli::Cli;
use crate::error::{Error, Outcome};

pub fn completions(ctx: &Context, shell: clap_complete::Shell) -> Result<Outcome, Error> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tsmigrate", &mut out);
    ctx.printer.out(&String::from_utf8_lossy(&out))?;
    Ok(Outcome::Success)
}

pub fn manpage(ctx: &Context) -> Result<Outcome, Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
        .render(&mut out)
        .map_err(|e| Error::Internal(e.to_string()))?;
    ctx.printer.out(&String::from_utf8_lossy(&out))?;
    Ok(Outcome::Success)
}
