//! One file per command: each turns its arguments into a request to the
//! pipeline and prints the result through the `Printer`. `run` dispatches
//! and closes every session the command opened.

mod apply;
mod comment;
mod completions;
mod confirm;
mod demo;
mod diff;
mod export;
mod init;
mod map;
mod plan;
mod progress;
mod rollback;
mod rollout;
mod show;
mod sim;
mod validate;
mod watch;

use std::collections::HashSet;
use std::sync::Mutex;

use crate::apply::Notes;
use crate::cli::{Cli, Command, GlobalArgs};
use crate::compare::Comparison;
use crate::config::{self, Environment, Settings};
use crate::error::{Error, Outcome};
use crate::fetch::Connections;
use crate::output::Printer;
use crate::secrets::SecretValues;
use crate::words::{agree, plural};

/// What every command runs with.
pub(crate) struct Context {
    pub printer: Printer,
    pub env: Environment,
    options: config::Options,
    pub conns: Connections,
    /// Warnings already given (a watch gives each once per run).
    warned: Mutex<HashSet<String>>,
}

impl Context {
    /// Loads the settings (profiles, ignore rules, map, secrets): only the
    /// commands that use them call this.
    pub(crate) fn settings(&self) -> Result<Settings, Error> {
        Settings::load(&self.options, self.env.clone())
    }

    /// A warning given once per run.
    fn warn_once(&self, text: &str) {
        let new = self
            .warned
            .lock()
            .map(|mut w| w.insert(text.to_string()))
            .unwrap_or(true);
        if new {
            self.printer.warn(text);
        }
    }

    /// Secrets without a value: one line with the count of those that
    /// matter (of actions that change), once per run; with `-v` each one.
    fn warn_unresolved(&self, unresolved: &[String], matter: &[String]) {
        // The others were not compared at all: "no differences" says
        // nothing of them.
        let uncompared = unresolved.len().saturating_sub(matter.len());
        if uncompared > 0 {
            self.warn_once(&format!(
                "{} not compared: the source holds {} (snapshots never hold secret values), so the target's {} {}; give values with --secrets FILE or TSMIGRATE_SECRET_* variables to compare {}{}",
                plural(uncompared, "secret was", "secrets were"),
                agree(uncompared, "a placeholder for it", "placeholders for them"),
                agree(uncompared, "value", "values"),
                agree(uncompared, "stands", "stand"),
                agree(uncompared, "it", "them"),
                if self.printer.verbose > 0 { "" } else { " (-v lists them)" }
            ));
        }
        if !matter.is_empty() {
            self.warn_once(&format!(
                "{} of changed actions {} no value here (give {} with --secrets FILE or TSMIGRATE_SECRET_* variables); the target keeps its own{}",
                plural(matter.len(), "secret", "secrets"),
                agree(matter.len(), "has", "have"),
                agree(matter.len(), "it", "them"),
                if self.printer.verbose > 0 { "" } else { " (-v lists them)" }
            ));
        }
        if self.printer.verbose == 0 {
            return;
        }
        for p in unresolved {
            let line = format!(
                "  {p}: no value (${}); the target's is kept",
                SecretValues::env_name(p)
            );
            let new = self
                .warned
                .lock()
                .map(|mut w| w.insert(line.clone()))
                .unwrap_or(true);
            if new {
                self.printer.detail(&line);
            }
        }
    }

    /// Tells what a comparison found besides its ops: rules and secrets
    /// entries that match nothing, and secrets missing where it matters.
    fn report_comparison(&self, c: &Comparison) {
        self.report_rules(c);
        for line in &c.inexpressible {
            self.warn_once(&format!(
                "{line} ({} speaks {}); apply refuses until it is left out or changed",
                c.target.label,
                c.target.api.name()
            ));
        }
        self.warn_unresolved(
            &c.unresolved,
            &crate::diff::view::secrets_that_matter(&c.unresolved, &c.ops),
        );
    }

    /// Rules and secrets-file entries that match nothing.
    fn report_rules(&self, c: &Comparison) {
        for rule in &c.unmatched_rules {
            self.warn_once(&format!(
                "the {rule} matches nothing on either side (a typo?)"
            ));
        }
        let settings_file = self
            .options
            .secrets
            .as_ref()
            .map(|p| p.display().to_string());
        if let Some(file) = settings_file {
            if let Ok(settings) = self.settings() {
                for p in settings.secrets.file_pointers() {
                    if !c.placeholders.contains(p) {
                        self.warn_once(&format!(
                            "{file}: {p} matches no secret placeholder of the source"
                        ));
                    }
                }
            }
        }
    }

    /// Tells what an apply would not or could not do.
    fn print_notes(&self, notes: &Notes) {
        for line in notes.left.lines() {
            self.printer.info(&format!("note: {line}"));
        }
        for m in &notes.skipped {
            self.printer.warn(&format!(
                "{}: {} {} is not on the target; association not added",
                m.pointer, m.kind, m.guid
            ));
        }
        if !notes.unchecked.is_empty() {
            self.printer.info(&format!(
                "note: {} not checked (a visualization cannot be looked up): {}",
                plural(
                    notes.unchecked.len(),
                    "VISUALIZATION association",
                    "VISUALIZATION associations"
                ),
                notes.unchecked.join(", ")
            ));
        }
        for e in &notes.events {
            self.printer.info(&format!("note: {e}"));
        }
    }
}

/// The unresolved secrets of actions the ops change: only there does a
/// missing value make a difference.
fn options(g: &GlobalArgs) -> config::Options {
    config::Options {
        config: g.config.clone(),
        map: g.map.clone(),
        no_map: g.no_map,
        ignore: g.ignore.clone(),
        only: g.only.clone(),
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
        warned: Mutex::new(HashSet::new()),
    };
    let result = match cli.command {
        Command::Sim(args) => sim::run(&ctx, args).await,
        Command::Completions { shell } => completions::completions(&ctx, shell),
        Command::Manpage => completions::manpage(&ctx),
        Command::Show {
            cluster,
            format,
            max_bytes,
            org,
        } => {
            let report = (format, max_bytes.map(|n| n as usize));
            show::run(&ctx, &cluster, report, org.as_deref()).await
        }
        Command::Export {
            cluster,
            out,
            force,
            org,
        } => export::run(&ctx, &cluster, &out, force, org.as_deref()).await,
        Command::Diff {
            source,
            target,
            orgs,
            format,
            max_bytes,
            exit_code,
            prune,
        } => {
            let report = (format, max_bytes.map(|n| n as usize));
            diff::run(&ctx, &source, &target, &orgs, report, exit_code, prune).await
        }
        Command::Plan {
            source,
            target,
            orgs,
            out,
            exit_code,
            prune,
        } => plan::run(&ctx, &source, &target, &orgs, &out, exit_code, prune).await,
        Command::Apply(args) => apply::run(&ctx, args).await,
        Command::Rollback(args) => rollback::run(&ctx, args).await,
        Command::Validate {
            source,
            target,
            orgs,
            skip_missing_associations,
            format,
        } => {
            validate::run(
                &ctx,
                &source,
                &target,
                &orgs,
                skip_missing_associations,
                format,
            )
            .await
        }
        Command::Demo { keep } => demo::run(&ctx, keep).await,
        Command::Map(cmd) => map::run(&ctx, cmd).await,
        Command::Comment {
            platform,
            marker,
            body_file,
        } => {
            let allow_http = ctx.settings()?.allow_http;
            comment::run(&ctx, platform, &marker, &body_file, allow_http).await
        }
        Command::Init {
            dir,
            envs,
            username,
            ci,
        } => init::run(&ctx, &dir, &envs, &username, ci),
        Command::Watch(args) => watch::run(&ctx, args).await,
        Command::Rollout(args) => rollout::run(&ctx, args).await,
    };
    ctx.conns.close_all().await;
    result
}

/// The process ends right after this: freeing large documents node by
/// node would only delay the exit (a fifth of a large diff's run time).
fn exiting_with<T>(big: T) {
    std::mem::forget(big);
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
