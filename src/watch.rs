//! `tsmigrate watch`: diff source and target every interval; optionally
//! repair the drift (`--apply`) and push each new drift report to a URL.
//! A push counts as delivered only on a 2xx answer; the last delivered
//! report's fingerprint and time live in the state file, so a restart
//! neither loses nor repeats a push.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::apply::{self, ApplyOptions, Current};
use crate::diff::render;
use crate::error::Error;
use crate::run::{prepare, Context};

pub struct WatchOptions {
    pub source: String,
    pub target: String,
    pub interval: Duration,
    pub apply: bool,
    pub prune: bool,
    pub push_url: Option<String>,
    pub push_form: bool,
    pub state_file: Option<PathBuf>,
    /// Stop after this many cycles (cron jobs, tests); forever if `None`.
    pub cycles: Option<u64>,
    pub parallel: usize,
}

/// What survives a restart.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WatchState {
    /// Fingerprint of the last report a receiver accepted (`None` after a
    /// cycle found no drift, so that a drift that comes back is pushed).
    pub last_delivered: Option<String>,
    /// Unix seconds of the last delivery.
    pub delivered_at: Option<u64>,
}

impl WatchState {
    fn load(path: &Option<PathBuf>) -> Result<WatchState, Error> {
        let Some(path) = path else {
            return Ok(WatchState::default());
        };
        match std::fs::read(path) {
            Ok(bytes) => crate::jsonfile::parse(&bytes, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(WatchState::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    fn save(&self, path: &Option<PathBuf>) -> Result<(), Error> {
        let Some(path) = path else { return Ok(()) };
        let bytes = crate::jsonfile::to_pretty(self)?;
        crate::fsutil::write_atomic(path, &bytes).map_err(|e| Error::io(path, e))
    }
}

pub fn fingerprint(report: &Value) -> String {
    let digest = Sha256::digest(report.to_string().as_bytes());
    format!(
        "sha256:{}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn stamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

pub async fn run(ctx: &Context, opts: WatchOptions) -> Result<u8, Error> {
    if opts.interval.is_zero() {
        return Err(Error::Usage("--interval must be longer than zero".into()));
    }
    if let Some(url) = &opts.push_url {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| Error::Usage(format!("--push-url {url}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Usage(format!(
                "--push-url {url}: expected an http(s) URL"
            )));
        }
    }
    // Resolve both references once, so a typo fails now, not every interval.
    ctx.settings.resolve(&opts.source)?;
    ctx.settings.resolve(&opts.target)?;
    let mut state = WatchState::load(&opts.state_file)?;
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
    if opts
        .push_url
        .as_deref()
        .is_some_and(crate::api::is_loopback_url)
    {
        builder = builder.no_proxy();
    }
    let http = builder
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;

    let stop = Arc::new(AtomicBool::new(false));
    let wake = Arc::new(tokio::sync::Notify::new());
    {
        let (stop, wake) = (stop.clone(), wake.clone());
        tokio::spawn(async move {
            crate::signals::shutdown_requested().await;
            stop.store(true, Ordering::SeqCst);
            wake.notify_waiters();
        });
    }
    let mut cycle = 0u64;
    loop {
        cycle += 1;
        one_cycle(ctx, &opts, &mut state, &http).await;
        if stop.load(Ordering::SeqCst) || opts.cycles.is_some_and(|n| cycle >= n) {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(opts.interval) => {}
            _ = wake.notified() => {}
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
    }
    if !ctx.quiet {
        eprintln!("{} watch stopped after {cycle} cycle(s)", stamp());
    }
    Ok(0)
}

/// One diff (and push, and repair); problems are reported, never fatal.
async fn one_cycle(
    ctx: &Context,
    opts: &WatchOptions,
    state: &mut WatchState,
    http: &reqwest::Client,
) {
    let pair = match prepare(ctx, &opts.source, &opts.target).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{} error: {e} (retrying at the next interval)", stamp());
            return;
        }
    };
    let summary = render::Summary::of(&pair.ops);
    println!("{} {}", stamp(), summary.line());
    if pair.ops.is_empty() {
        if state.last_delivered.is_some() {
            state.last_delivered = None;
            if let Err(e) = state.save(&opts.state_file) {
                eprintln!("{} error: {e}", stamp());
            }
        }
        return;
    }
    if let Some(url) = &opts.push_url {
        let report = render::json_report(&pair.ops, &pair.source.label, &pair.target.label);
        push(opts, state, http, url, &report).await;
    }
    if opts.apply {
        repair(ctx, opts, pair).await;
    }
}

async fn push(
    opts: &WatchOptions,
    state: &mut WatchState,
    http: &reqwest::Client,
    url: &str,
    report: &Value,
) {
    let print = fingerprint(report);
    if state.last_delivered.as_deref() == Some(print.as_str()) {
        return;
    }
    // The interval is also the least time between two pushes, across restarts.
    if let Some(at) = state.delivered_at {
        if now_secs() < at + opts.interval.as_secs() {
            return;
        }
    }
    let body = report.to_string();
    let request = if opts.push_form {
        http.post(url).form(&[("json", body)])
    } else {
        http.post(url)
            .header("Content-Type", "application/json")
            .body(body)
    };
    match request.send().await {
        Ok(resp) if resp.status().is_success() => {
            state.last_delivered = Some(print);
            state.delivered_at = Some(now_secs());
            match state.save(&opts.state_file) {
                Ok(()) => eprintln!("{} pushed the drift report to {url}", stamp()),
                Err(e) => eprintln!(
                    "{} pushed, but the state file could not be written: {e}",
                    stamp()
                ),
            }
        }
        Ok(resp) => eprintln!(
            "{} push to {url} answered {}; retrying at the next interval",
            stamp(),
            resp.status()
        ),
        Err(e) => eprintln!(
            "{} push to {url} failed ({e}); retrying at the next interval",
            stamp()
        ),
    }
}

async fn repair(ctx: &Context, opts: &WatchOptions, pair: crate::run::Pair) {
    let Some(client) = pair.target.client.as_ref() else {
        eprintln!(
            "{} error: --apply needs a live target, {} is a snapshot",
            stamp(),
            pair.target.label
        );
        return;
    };
    let mut desired = pair.desired;
    if let Err(e) = crate::run::validate_against(ctx, &mut desired, &pair.target, false) {
        eprintln!("{} error: {e}", stamp());
        return;
    }
    let current = Current {
        doc: pair.target.doc(),
        raw: &pair.target.raw,
        ids: &pair.target.canonical.action_ids,
    };
    let changes = apply::compute(&current, &desired, &ctx.settings.ignore, opts.prune);
    if changes.is_empty() {
        return;
    }
    let apply_opts = ApplyOptions {
        parallel: opts.parallel,
        journal: crate::run::default_journal(),
        progress: false,
        quiet: true,
    };
    match apply::run(
        client,
        pair.target.doc(),
        &desired,
        &changes,
        &ctx.settings.ignore,
        &apply_opts,
    )
    .await
    {
        Ok(report) => println!(
            "{} repaired: {}",
            stamp(),
            crate::run::applied_line(&changes, report.writes, report.elapsed)
        ),
        Err(e) => eprintln!(
            "{} repair failed: {e} (retrying at the next interval)",
            stamp()
        ),
    }
}
