//! One file per command: each turns its arguments into a request to the
//! pipeline and prints the result through the `Printer`. `run` dispatches
//! and closes every session the command opened.

mod apply;
mod completions;
mod demo;
mod diff;
mod export;
mod plan;
mod progress;
mod rollback;
mod show;
mod sim;
mod validate;
mod watch;

use crate::apply::Notes;
use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{self, Environment, Settings};
use crate::error::{Error, Outcome};
use crate::fetch::Connections;
use crate::output::Printer;
use crate::secrets::SecretValues;

/// What every command runs with.
pub struct Context {
    pub printer: Printer,
    pub env: Environment,
    options: config::Options,
    pub conns: Connections,
}

impl Context {
    /// Loads the settings (profiles, ignore rules, map, secrets): only the
    /// commands that use them call this.
    pub fn settings(&self) -> Result<Settings, Error> {
        Settings::load(&self.options, self.env.clone())
    }

    /// Warns once per unresolved secret, with where a value could come from.
    fn warn_unresolved(&self, unresolved: &[String]) {
        for p in unresolved {
            self.printer.warn(&format!(
                "{p}: secret not given (--secrets or ${}); the target's value is kept",
                SecretValues::env_name(p)
            ));
        }
    }

    /// Tells what an apply would not or could not do.
    fn print_notes(&self, notes: &Notes) {
        for p in &notes.unremovable {
            self.printer.warn(&format!("{p}: the target has this config key and the source does not; the API cannot remove it, so it stays"));
        }
        if !notes.kept.is_empty() {
            self.printer.warn(&format!(
                "{} action(s) only on the target are kept; --prune deletes them: {}",
                notes.kept.len(),
                notes.kept.join(", ")
            ));
        }
        for m in &notes.skipped {
            self.printer.warn(&format!(
                "{}: {} {} is not on the target; association not added",
                m.pointer, m.kind, m.guid
            ));
        }
        if !notes.unchecked.is_empty() {
            self.printer.info(&format!(
                "note: {} VISUALIZATION association(s) not checked (a visualization cannot be looked up): {}",
                notes.unchecked.len(),
                notes.unchecked.join(", ")
            ));
        }
        for e in &notes.events {
            self.printer.info(&format!("note: {e}"));
        }
    }
}

fn options(g: &GlobalArgs) -> config::Options {
    config::Options {
        config: g.config.clone(),
        map: g.map.clone(),
        ignore: g.ignore.clone(),
        secrets: g.secrets.clone(),
        allow_http: g.allow_http,
        no_default_ignores: g.no_default_ignores,
        http_timeout: g.http_timeout,
        retry_base: g.retry_base_ms.map(std::time::Duration::from_millis),
    }
}

/// Runs the command of `cli`.
pub async fn run(cli: Cli, printer: Printer, env: Environment) -> Result<Outcome, Error> {
    let ctx = Context {
        printer,
        env,
        options: options(&cli.global),
        conns: Connections::default(),
    };
    let result = match cli.command {
        Command::Sim(args) => sim::run(&ctx, args).await,
        Command::Completions { shell } => completions::completions(&ctx, shell),
        Command::Manpage => completions::manpage(&ctx),
        Command::Show { cluster } => show::run(&ctx, &cluster).await,
        Command::Export { cluster, out } => export::run(&ctx, &cluster, &out).await,
        Command::Diff {
            source,
            target,
            format,
            exit_code,
        } => diff::run(&ctx, &source, &target, format, exit_code).await,
        Command::Plan {
            source,
            target,
            out,
            exit_code,
        } => plan::run(&ctx, &source, &target, &out, exit_code).await,
        Command::Apply(args) => apply::run(&ctx, args).await,
        Command::Rollback(args) => rollback::run(&ctx, args).await,
        Command::Validate {
            source,
            target,
            skip_missing_associations,
        } => validate::run(&ctx, &source, &target, skip_missing_associations).await,
        Command::Demo => demo::run(&ctx).await,
        Command::Watch(args) => watch::run(&ctx, args).await,
    };
    ctx.conns.close_all().await;
    result
}

/// The process ends right after this: freeing large documents node by
/// node would only delay the exit (a fifth of a large diff's run time).
fn exiting_with<T>(big: T) {
    std::mem::forget(big);
}

/// Pretty JSON text, as every JSON output has it.
fn pretty(v: &impl serde::Serialize) -> Result<String, Error> {
    Ok(String::from_utf8_lossy(&crate::jsonfile::to_pretty(v)?).into_owned())
}

/// "1 write", "2 writes".
fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The summary line of an apply.
fn applied_line(
    counts: &crate::apply::Counts,
    writes: usize,
    elapsed: std::time::Duration,
) -> String {
    format!(
        "Applied: {}, {} created, {} updated, {} deleted; {} in {:.2}s; verified.",
        plural(counts.config_keys, "config key", "config keys"),
        plural(counts.created, "action", "actions"),
        counts.updated,
        counts.deleted,
        plural(writes, "write", "writes"),
        elapsed.as_secs_f64()
    )
}
