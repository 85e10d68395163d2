//! Runs one command: arguments → settings → the steps of the data flow.
//! Returns the process exit code; the only place that prints errors.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::apply::{self, ApplyOptions, Changes, Current};
use crate::cli::{ApplyArgs, Cli, ColorChoice, Command, DiffFormat, SimArgs};
use crate::cluster::{self, Side};
use crate::config::{ClusterRef, GlobalOptions, Settings};
use crate::diff::{self, render, Op};
use crate::error::Error;
use crate::{plan, secrets, sim, snapshot, validate};

/// Exit code for "differences found" with `--exit-code`.
pub const DIFFERENCES: u8 = 2;

/// Parses `args`, runs the command, returns the exit code.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match <Cli as clap::Parser>::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are successes; any other argument error is
            // bad usage (1), never clap's 2, which means "differences".
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 1,
            };
        }
    };
    init_logging(cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(execute(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    // Our crate only: dependencies' debug output could echo request data.
    let filter = tracing_subscriber::EnvFilter::new(format!("warn,tsmigrate={level}"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Everything a command needs besides its own arguments.
pub struct Context {
    pub settings: Settings,
    pub color: bool,
    pub quiet: bool,
}

impl Context {
    fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }
}

fn color_enabled(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

async fn execute(cli: Cli) -> Result<u8, Error> {
    let g = &cli.global;
    // Settings (profiles, map, secrets) are read only by commands that use them.
    let ctx = || -> Result<Context, Error> {
        let opts = GlobalOptions {
            config: g.config.clone(),
            map: g.map.clone(),
            ignore: g.ignore.clone(),
            secrets: g.secrets.clone(),
            allow_http: g.allow_http,
            no_default_ignores: g.no_default_ignores,
        };
        Ok(Context {
            settings: Settings::load(&opts)?,
            color: color_enabled(g.color),
            quiet: g.quiet,
        })
    };
    match cli.command {
        Command::Sim(args) => run_sim(args, g.verbose > 0).await,
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "tsmigrate", &mut out);
            print_stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Manpage => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(|e| Error::Internal(e.to_string()))?;
            print_stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Show { cluster } => show(&ctx()?, &cluster).await,
        Command::Export { cluster, out } => export(&ctx()?, &cluster, &out).await,
        Command::Diff {
            source,
            target,
            format,
            exit_code,
        } => diff_cmd(&ctx()?, &source, &target, format, exit_code).await,
        Command::Plan {
            source,
            target,
            out,
            exit_code,
        } => plan_cmd(&ctx()?, &source, &target, &out, exit_code).await,
        Command::Apply(args) => apply_cmd(&ctx()?, args).await,
        Command::Rollback { journal, target } => rollback_cmd(&ctx()?, &journal, &target).await,
        Command::Validate {
            source,
            target,
            skip_missing_associations,
        } => validate_cmd(&ctx()?, &source, &target, skip_missing_associations).await,
        Command::Demo => crate::demo::run(&ctx()?).await,
        Command::Watch(args) => {
            let opts = crate::watch::WatchOptions {
                source: args.source,
                target: args.target,
                interval: args.interval.into(),
                apply: args.apply,
                prune: args.prune,
                push_url: args.push_url,
                push_form: args.push_form,
                state_file: args.state_file,
                cycles: args.cycles,
                parallel: usize::from(args.parallel),
            };
            crate::watch::run(&ctx()?, opts).await
        }
    }
}

async fn run_sim(args: SimArgs, verbose: bool) -> Result<u8, Error> {
    let opts = sim::SimOptions {
        state_file: args.state,
        listen: args.listen,
        username: args.username,
        password: args.password,
        token: args.token,
        faults: sim::Faults {
            latency_ms: args.latency_ms,
            fail_rate: args.fail_rate,
            throttle_rate: args.throttle_rate,
            fail_after: args.fail_after,
            reject_actions: args.reject_action,
            seed: args.seed,
        },
        log_requests: verbose,
    };
    sim::serve(opts).await?;
    Ok(0)
}

fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Io {
            path: PathBuf::from("<stdout>"),
            source: e,
        }),
    }
}

async fn load(ctx: &Context, reference: &str) -> Result<Side, Error> {
    let r = ctx.settings.resolve(reference)?;
    cluster::load(&r, &ctx.settings).await
}

async fn show(ctx: &Context, reference: &str) -> Result<u8, Error> {
    let side = load(ctx, reference).await?;
    let text = String::from_utf8_lossy(&crate::jsonfile::to_pretty(&secrets::redact(side.doc()))?)
        .into_owned();
    print_stdout(&text)?;
    Ok(0)
}

async fn export(ctx: &Context, reference: &str, out: &std::path::Path) -> Result<u8, Error> {
    let side = load(ctx, reference).await?;
    snapshot::write(out, &secrets::redact(side.doc()), &side.url)?;
    if !ctx.quiet {
        eprintln!(
            "exported {} to {} ({} actions)",
            side.label,
            out.display(),
            crate::document::actions(side.doc()).len()
        );
    }
    Ok(0)
}

/// Both sides loaded and the source made comparable: mapped, secrets
/// reconciled; `ops` turn the target into the source.
pub struct Pair {
    pub source: Side,
    pub target: Side,
    pub desired: Value,
    pub ops: Vec<Op>,
    pub unresolved: Vec<String>,
}

pub async fn prepare(ctx: &Context, source: &str, target: &str) -> Result<Pair, Error> {
    let (sr, tr) = (ctx.settings.resolve(source)?, ctx.settings.resolve(target)?);
    let (source, target) = tokio::try_join!(
        cluster::load(&sr, &ctx.settings),
        cluster::load(&tr, &ctx.settings)
    )?;
    pair(ctx, source, target)
}

pub fn pair(ctx: &Context, mut source: Side, target: Side) -> Result<Pair, Error> {
    // The source's document becomes the desired one: moved, not copied.
    let mut desired = std::mem::take(&mut source.canonical.doc);
    if let Some(mapping) = &ctx.settings.mapping {
        mapping.apply(&mut desired);
    }
    let unresolved = secrets::reconcile_at(
        &mut desired,
        target.doc(),
        &source.secret_paths,
        &target.secret_paths,
        &ctx.settings.secrets,
    );
    for p in &unresolved {
        ctx.warn(&format!(
            "{p}: secret not given (--secrets or ${}); the target's value is kept",
            secrets::SecretValues::env_name(p)
        ));
    }
    let ops = diff::diff(target.doc(), &desired);
    Ok(Pair {
        source,
        target,
        desired,
        ops,
        unresolved,
    })
}

async fn diff_cmd(
    ctx: &Context,
    source: &str,
    target: &str,
    format: DiffFormat,
    exit_code: bool,
) -> Result<u8, Error> {
    let p = prepare(ctx, source, target).await?;
    let text = match format {
        DiffFormat::Text => render::text(&p.ops, &render::Palette::new(ctx.color)),
        DiffFormat::Patch => pretty(&diff::patch_json(&p.ops))?,
        DiffFormat::Json => pretty(&render::json_report(
            &p.ops,
            &p.source.label,
            &p.target.label,
        ))?,
        DiffFormat::Summary => render::summary(&p.ops),
    };
    print_stdout(&text)?;
    let code = if exit_code && !p.ops.is_empty() {
        DIFFERENCES
    } else {
        0
    };
    exiting_with(p);
    Ok(code)
}

/// The process ends right after this: freeing two large documents node by
/// node would only delay the exit (a fifth of a large diff's run time).
fn exiting_with<T>(big: T) {
    std::mem::forget(big);
}

fn pretty(v: &Value) -> Result<String, Error> {
    Ok(String::from_utf8_lossy(&crate::jsonfile::to_pretty(v)?).into_owned())
}

async fn plan_cmd(
    ctx: &Context,
    source: &str,
    target: &str,
    out: &std::path::Path,
    exit_code: bool,
) -> Result<u8, Error> {
    let p = prepare(ctx, source, target).await?;
    let plan = plan::build(
        &p.ops,
        &p.source.label,
        &p.target.label,
        p.target.doc(),
        &p.unresolved,
    );
    plan::write(out, &plan)?;
    print_stdout(&render::text(&p.ops, &render::Palette::new(ctx.color)))?;
    if !ctx.quiet {
        eprintln!("plan written to {}", out.display());
    }
    Ok(if exit_code && !p.ops.is_empty() {
        DIFFERENCES
    } else {
        0
    })
}

fn live_target(target: &Side) -> Result<&crate::api::Client, Error> {
    target.client.as_ref().ok_or_else(|| {
        Error::Usage(format!(
            "--target {}: a snapshot directory cannot be written to; name a live cluster",
            target.label
        ))
    })
}

/// Checks the desired document against the target; drops missing
/// associations when asked to.
pub fn validate_against(
    ctx: &Context,
    desired: &mut Value,
    target: &Side,
    skip_missing: bool,
) -> Result<(), Error> {
    let facts = validate::TargetFacts {
        config: crate::document::config(&target.raw),
        overrides: target.overrides.as_ref(),
        objects: target.objects.as_deref(),
    };
    if skip_missing {
        let missing = validate::missing_objects(desired, facts.objects);
        for m in &missing {
            ctx.warn(&format!(
                "{}: {} {} is not on the target; association dropped",
                m.pointer, m.kind, m.guid
            ));
        }
        validate::drop_missing(desired, &missing);
    }
    let problems = validate::check(desired, &facts);
    if problems.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "{} problem(s) found before writing; nothing was written:",
        problems.len()
    );
    for p in &problems {
        message.push_str(&format!("\n  {p}"));
    }
    Err(Error::input(&target.label, message))
}

async fn validate_cmd(
    ctx: &Context,
    source: &str,
    target: &str,
    skip_missing: bool,
) -> Result<u8, Error> {
    let mut p = prepare(ctx, source, target).await?;
    validate_against(ctx, &mut p.desired, &p.target, skip_missing)?;
    if !ctx.quiet {
        eprintln!(
            "no problems found: {} can be applied to {}",
            p.source.label, p.target.label
        );
    }
    Ok(0)
}

pub fn default_journal() -> PathBuf {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    PathBuf::from(".tsmigrate")
        .join("journals")
        .join(format!("{ms}-{}.jsonl", std::process::id()))
}

async fn apply_cmd(ctx: &Context, args: ApplyArgs) -> Result<u8, Error> {
    let target_ref = ctx.settings.resolve(&args.target)?;
    let profile_parallel = match &target_ref {
        ClusterRef::Live { parallel, .. } => *parallel,
        ClusterRef::Snapshot(_) => None,
    };
    let (target, mut desired, source_label) = match (&args.plan, &args.source) {
        (Some(plan_path), _) => {
            let plan = plan::read(plan_path)?;
            let target = cluster::load(&target_ref, &ctx.settings).await?;
            live_target(&target)?;
            let drifted = plan::drift(&plan, target.doc());
            if !drifted.is_empty() {
                return Err(Error::Stale(format!(
                    "the plan is stale: {} changed since the plan was made; nothing was written. Drifted paths:\n  {}\nmake a new plan",
                    target.label,
                    drifted.join("\n  ")
                )));
            }
            let (desired, unresolved) = plan::desired(&plan, target.doc(), &ctx.settings.secrets)?;
            for p in &unresolved {
                ctx.warn(&format!(
                    "{p}: secret not given (--secrets or ${}); the target's value is kept",
                    secrets::SecretValues::env_name(p)
                ));
            }
            (target, desired, plan.source.clone())
        }
        (None, Some(source)) => {
            let source_ref = ctx.settings.resolve(source)?;
            let (s, t) = tokio::try_join!(
                cluster::load(&source_ref, &ctx.settings),
                cluster::load(&target_ref, &ctx.settings)
            )?;
            live_target(&t)?;
            let p = pair(ctx, s, t)?;
            (p.target, p.desired, p.source.label)
        }
        (None, None) => {
            return Err(Error::Usage(
                "apply needs --plan PLAN or --source REF".into(),
            ))
        }
    };
    validate_against(ctx, &mut desired, &target, args.skip_missing_associations)?;
    let client = live_target(&target)?;
    let current = Current {
        doc: target.doc(),
        raw: &target.raw,
        ids: &target.canonical.action_ids,
    };
    let changes = apply::compute(&current, &desired, &ctx.settings.ignore, args.prune);
    report_limits(ctx, &changes);
    if changes.is_empty() {
        print_stdout(&format!(
            "No changes: {} already matches {source_label}.\n",
            target.label
        ))?;
        return Ok(0);
    }
    if args.dry_run {
        let mut text = format!(
            "dry run: {} request(s) would be sent to {}; none sent\n",
            changes.writes(),
            target.label
        );
        for line in apply::describe(&changes) {
            text.push_str(&line);
            text.push('\n');
        }
        print_stdout(&text)?;
        return Ok(0);
    }
    if !args.yes {
        confirm(ctx, target.doc(), &desired, &target.label)?;
    }
    let opts = ApplyOptions {
        parallel: args
            .parallel
            .map(usize::from)
            .or(profile_parallel)
            .unwrap_or(8),
        journal: args.journal.clone().unwrap_or_else(default_journal),
        progress: std::io::stderr().is_terminal() && !ctx.quiet,
        quiet: ctx.quiet,
    };
    let report = apply::run(
        client,
        target.doc(),
        &desired,
        &changes,
        &ctx.settings.ignore,
        &opts,
    )
    .await?;
    print_stdout(&format!(
        "{}\n",
        applied_line(&changes, report.writes, report.elapsed)
    ))?;
    client.logout().await;
    Ok(0)
}

fn report_limits(ctx: &Context, ch: &Changes) {
    for p in &ch.unremovable {
        ctx.warn(&format!("{p}: the target has this config key and the source does not; the API cannot remove it, so it stays"));
    }
    if !ch.kept.is_empty() {
        ctx.warn(&format!(
            "{} action(s) only on the target are kept; --prune deletes them: {}",
            ch.kept.len(),
            ch.kept.join(", ")
        ));
    }
}

pub fn applied_line(ch: &Changes, writes: u64, elapsed: Duration) -> String {
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    format!(
        "Applied: {}, {} created, {} updated, {} deleted; {} in {:.2}s; verified.",
        n(ch.config.len(), "config key", "config keys"),
        n(ch.creates.len(), "action", "actions"),
        ch.updates.len(),
        ch.deletes.len(),
        n(writes as usize, "write", "writes"),
        elapsed.as_secs_f64()
    )
}

fn confirm(ctx: &Context, current: &Value, desired: &Value, label: &str) -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "apply needs --yes when no terminal is attached (review the change with `tsmigrate diff` first)".into(),
        ));
    }
    let ops = diff::diff(current, desired);
    eprint!("{}", render::text(&ops, &render::Palette::new(ctx.color)));
    eprint!("\nApply these changes to {label}? Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::Io {
            path: PathBuf::from("<stdin>"),
            source: e,
        })?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::Usage("apply cancelled; nothing was written".into()))
    }
}

async fn rollback_cmd(
    ctx: &Context,
    journal_path: &std::path::Path,
    target: &str,
) -> Result<u8, Error> {
    let record = apply::journal::read(journal_path)?;
    let r = ctx.settings.resolve(target)?;
    let client = cluster::connect(&r).await?;
    if record.target.trim_end_matches('/') != client.endpoint.url.trim_end_matches('/') {
        return Err(Error::Usage(format!(
            "{}: the journal was written for {}, not {}",
            journal_path.display(),
            record.target,
            client.endpoint.url
        )));
    }
    let pending = record
        .writes
        .iter()
        .filter(|(seq, _, _)| !record.undone.contains(seq))
        .count();
    if pending == 0 {
        print_stdout(&format!(
            "Nothing to undo: every write in {} is already undone.\n",
            journal_path.display()
        ))?;
        return Ok(0);
    }
    let next = record.writes.iter().map(|(s, _, _)| *s).max().unwrap_or(0) + 1;
    let journal = apply::journal::Journal::reopen(journal_path, next)?;
    let failures = apply::rollback::undo(&client, &journal, &record).await;
    if failures.is_empty() {
        journal.finish("rolled back").await?;
        print_stdout(&format!(
            "Rolled back {pending} write(s) on {}.\n",
            client.endpoint.label
        ))?;
        if !ctx.quiet {
            eprintln!("the journal {} may now be deleted", journal_path.display());
        }
        Ok(0)
    } else {
        Err(Error::ApplyNotRestored {
            message: format!(
                "rollback could not undo everything:\n  {}",
                failures.join("\n  ")
            ),
            journal: journal_path.to_path_buf(),
        })
    }
}
