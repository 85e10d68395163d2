//! `tsmigrate watch`: diff source and target every interval; optionally
//! repair the drift (`--apply`) and push each new drift report to a URL.
//! A push counts as delivered only on a 2xx answer; the last delivered
//! report's fingerprint and time live in the state file, so a restart
//! neither loses nor repeats a push. Sessions are opened once and reused.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::apply::{live_ref, lock_target, print_report};
use super::Context;
use crate::apply;
use crate::cli::{PushFormat, WatchArgs};
use crate::compare;
use crate::config::settings::Credentials;
use crate::config::Settings;
use crate::diff::render;
use crate::error::{Error, Outcome};
use crate::signals::{self, Abort};
use crate::words::plural;

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
    fn load(path: Option<&Path>) -> Result<WatchState, Error> {
        let Some(path) = path else {
            return Ok(WatchState::default());
        };
        match std::fs::read(path) {
            Ok(bytes) => crate::json::file::parse(&bytes, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(WatchState::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    fn save(&self, path: Option<&Path>) -> Result<(), Error> {
        let Some(path) = path else { return Ok(()) };
        crate::fsutil::check_replaceable(path)
            .map_err(|why| Error::Usage(format!("--state-file {}: {why}", path.display())))?;
        let bytes = crate::json::file::to_pretty(self)?;
        crate::fsutil::write_atomic(path, &bytes).map_err(|e| Error::io(path, e))
    }
}

/// Whether a drift report is pushed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushDecision {
    Push,
    /// This very report was delivered already.
    AlreadyDelivered,
    /// The last push was less than an interval ago.
    TooSoon,
}

/// The push rule, without clocks or I/O: a report is pushed unless it was
/// delivered already, and never sooner than `interval` after the last push.
pub fn push_decision(
    state: &WatchState,
    fingerprint: &str,
    now: u64,
    interval: Duration,
) -> PushDecision {
    if state.last_delivered.as_deref() == Some(fingerprint) {
        return PushDecision::AlreadyDelivered;
    }
    match state.delivered_at {
        Some(at) if now < at.saturating_add(interval.as_secs()) => PushDecision::TooSoon,
        _ => PushDecision::Push,
    }
}

pub fn fingerprint(report: &Value) -> String {
    let digest = Sha256::digest(report.to_string().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn stamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

struct Watch<'a> {
    ctx: &'a Context,
    settings: Settings,
    args: WatchArgs,
    interval: Duration,
    http: reqwest::Client,
    headers: reqwest::header::HeaderMap,
    state: WatchState,
    cycle: u64,
}

/// One cycle as a JSON object (`watch --format json`).
fn cycle_json(
    cycle: u64,
    summary: &render::Summary,
    end: &CycleEnd,
    pushed: Option<bool>,
    repaired: Option<bool>,
) -> Value {
    serde_json::json!({
        "format": "tsmigrate-watch",
        "version": 1,
        "time": stamp(),
        "cycle": cycle,
        "drift": !summary.is_empty(),
        "summary": {
            "config_keys": summary.config_keys,
            "actions_create": summary.create,
            "actions_update": summary.update,
            "actions_delete": summary.delete,
        },
        "pushed": pushed,
        "repaired": repaired,
        "result": match end { CycleEnd::Clean => "clean", CycleEnd::Drift => "drift", CycleEnd::Failed(_) => "failed" },
        "error": match end { CycleEnd::Failed(e) => Some(crate::secrets::mask_known(&e.to_string()).into_owned()), _ => None },
    })
}

/// How a cycle ended.
enum CycleEnd {
    /// Source and target match, and every report is delivered.
    Clean,
    /// Drift remained (not repaired), or a push is undelivered.
    Drift,
    /// The comparison failed (a cluster unreachable: exit 6).
    Failed(Error),
}

/// An error with its causes ("error sending request: connection refused"),
/// not only its first words.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// A message for a Slack or Teams incoming webhook from a drift report:
/// what drifted, pointer by pointer (the first 20), never a value.
pub fn chat_message(format: PushFormat, report: &Value) -> Value {
    let source = report["source"].as_str().unwrap_or("the source");
    let target = report["target"].as_str().unwrap_or("the target");
    let changes: Vec<String> = report["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some(format!(
                "{} {}",
                c["kind"].as_str()?,
                c["pointer"].as_str()?
            ))
        })
        .collect();
    let title = if changes.is_empty() {
        format!("tsmigrate: {target} matches {source} again; the drift cleared")
    } else {
        format!(
            "tsmigrate: {target} drifted from {source}: {}",
            plural(changes.len(), "change", "changes")
        )
    };
    let mut lines: Vec<String> = changes.iter().take(20).map(|c| format!("• {c}")).collect();
    if changes.len() > 20 {
        lines.push(format!("… and {} more", changes.len() - 20));
    }
    match format {
        PushFormat::Teams => serde_json::json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": title,
            "title": title,
            "text": lines.join("<br>"),
        }),
        _ => {
            let mut text = title;
            if !lines.is_empty() {
                text.push('\n');
                text.push_str(&lines.join("\n"));
            }
            serde_json::json!({ "text": text })
        }
    }
}

/// `--push-header` values: `Name: value`, or `Name: env:VAR` read from the
/// environment. Values are secrets: never printed.
fn push_headers(texts: &[String], ctx: &Context) -> Result<reqwest::header::HeaderMap, Error> {
    let mut map = reqwest::header::HeaderMap::new();
    for text in texts {
        let bad = || {
            Error::Usage(format!(
                "--push-header {text:?}: expected 'Name: value' or 'Name: env:VAR'"
            ))
        };
        let (name, value) = text.split_once(':').ok_or_else(bad)?;
        let value = value.trim();
        let value = match value.strip_prefix("env:") {
            Some(var) => ctx.env.get(var.trim()).map(str::to_string).ok_or_else(|| {
                Error::Usage(format!(
                    "--push-header {}: the environment variable {} is not set",
                    name.trim(),
                    var.trim()
                ))
            })?,
            None => value.to_string(),
        };
        crate::secrets::remember(&value);
        let name =
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad())?;
        let mut value = reqwest::header::HeaderValue::from_str(&value).map_err(|_| {
            Error::Usage(format!(
                "--push-header {name}: the value is not a valid header value"
            ))
        })?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}

pub async fn run(ctx: &Context, args: WatchArgs) -> Result<Outcome, Error> {
    let interval: Duration = args.interval.into();
    if interval.is_zero() {
        return Err(Error::Usage("--interval must be longer than zero".into()));
    }
    let settings = ctx.settings()?;
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("tsmigrate/", env!("CARGO_PKG_VERSION")));
    if let Some(url) = &args.push_url {
        let parsed = reqwest::Url::parse(url).map_err(|source| Error::Url {
            what: "--push-url".into(),
            source,
        })?;
        crate::net::check_scheme(&parsed, "--push-url", settings.allow_http)
            .map_err(Error::Usage)?;
        if crate::net::is_loopback(&parsed) {
            builder = builder.no_proxy();
        }
    }
    // Resolve both references once, so a typo (or missing credentials)
    // fails now, not every interval.
    let mut refs = settings.resolve_all(&[
        (&args.source, args.orgs.source_org.as_deref()),
        (&args.target, args.orgs.target_org.as_deref()),
    ])?;
    let target_ref = refs.remove(1);
    let source_ref = refs.remove(0);
    for r in [&source_ref, &target_ref] {
        if let crate::config::ClusterRef::Live(l) = r {
            if matches!(l.endpoint.credentials, Credentials::None) {
                return Err(Error::Cluster {
                    cluster: l.endpoint.label.clone(),
                    message: format!(
                        "no credentials to log in with: {}",
                        l.endpoint.credentials_hint
                    ),
                });
            }
        }
    }
    if args.apply {
        live_ref(&target_ref, "--target")?;
    }
    let http = builder.build().map_err(Error::HttpClient)?;
    let state = WatchState::load(args.state_file.as_deref())?;
    let headers = push_headers(&args.push_header, ctx)?;
    let mut watch = Watch {
        ctx,
        settings,
        interval,
        http,
        headers,
        state,
        args,
        cycle: 0,
    };
    let stop = Abort::default();
    let watcher = signals::on_signals(stop.clone(), || {}, || {});
    let mut cycle = 0u64;
    let last = loop {
        cycle += 1;
        watch.cycle = cycle;
        let end = watch.one_cycle(&stop).await;
        if stop.is_set() || watch.args.cycles.is_some_and(|n| cycle >= n) {
            break end;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait() => {}
        }
        if stop.is_set() {
            break end;
        }
    };
    watcher.abort();
    ctx.printer.info(&format!(
        "{} watch stopped after {}",
        stamp(),
        plural(cycle, "cycle", "cycles")
    ));
    // For cron and alerting: what the last cycle found.
    if watch.args.cycles.is_none() {
        return Ok(Outcome::Success);
    }
    match last {
        CycleEnd::Clean => Ok(Outcome::Success),
        CycleEnd::Drift => Ok(Outcome::Differences),
        CycleEnd::Failed(e) => Err(e),
    }
}

impl Watch<'_> {
    /// One diff (and push, and repair); problems are reported, never fatal.
    async fn one_cycle(&mut self, stop: &Abort) -> CycleEnd {
        let printer = &self.ctx.printer;
        let c = match compare::compare_refs(
            &self.settings,
            &self.ctx.conns,
            &self.args.source,
            &self.args.target,
            self.compare_options(),
        )
        .await
        {
            Ok(c) => {
                self.ctx.report_comparison(&c);
                c
            }
            Err(e) => {
                printer.error(&Error::Usage(format!(
                    "{} {e} (retrying at the next interval)",
                    stamp()
                )));
                let end = CycleEnd::Failed(e);
                self.json_line(&render::Summary::default(), &end, None, None);
                return end;
            }
        };
        let summary = render::Summary::of(&c.ops);
        if !self.json() {
            // What drifted, not only how much: the first pointers.
            let pointers: Vec<String> = c
                .ops
                .iter()
                .filter(|o| o.kind != crate::diff::OpKind::Test)
                .map(crate::diff::Op::pointer)
                .collect();
            let what = match pointers.len() {
                0 => String::new(),
                n if n <= 3 => format!(" ({})", pointers.join(", ")),
                n => format!(" ({}, and {} more)", pointers[..3].join(", "), n - 3),
            };
            if let Err(e) = printer.text_line(&format!("{} {}{what}", stamp(), summary.line())) {
                return CycleEnd::Failed(e);
            }
        }
        if c.ops.is_empty() {
            let mut pushed = None;
            if self.state.last_delivered.is_some() {
                // The receiver was told of drift: it is told it cleared.
                let cleared = match self.args.push_url.clone() {
                    Some(url) => {
                        let report =
                            render::json_report(&c.ops, &c.notes, &c.source.label, &c.target.label);
                        let ok = self.send(&url, &report, "the drift cleared").await;
                        pushed = Some(ok);
                        ok
                    }
                    None => true,
                };
                if cleared {
                    self.state.last_delivered = None;
                    if let Err(e) = self.state.save(self.args.state_file.as_deref()) {
                        printer.error(&e);
                    }
                }
            }
            let end = match pushed {
                Some(false) => CycleEnd::Drift,
                _ => CycleEnd::Clean,
            };
            self.json_line(&summary, &end, pushed, None);
            return end;
        }
        let mut delivered = true;
        let mut pushed = None;
        if let Some(url) = self.args.push_url.clone() {
            let report = render::json_report(&c.ops, &c.notes, &c.source.label, &c.target.label);
            delivered = self.push(&url, &report).await;
            pushed = Some(delivered);
        }
        let repaired = if self.args.apply {
            Some(self.repair(stop).await)
        } else {
            None
        };
        let end = if repaired == Some(true) && delivered {
            CycleEnd::Clean
        } else {
            CycleEnd::Drift
        };
        self.json_line(&summary, &end, pushed, repaired);
        end
    }

    fn compare_options(&self) -> compare::Options {
        compare::Options {
            prune: self.args.prune,
            orgs: self.args.orgs.sides(),
            keep_config: false,
        }
    }

    fn json(&self) -> bool {
        self.args.format == crate::cli::ReportFormat::Json
    }

    /// With `--format json`, the cycle's line (a JSON object on one line).
    fn json_line(
        &self,
        summary: &render::Summary,
        end: &CycleEnd,
        pushed: Option<bool>,
        repaired: Option<bool>,
    ) {
        if self.json() {
            let record = cycle_json(self.cycle, summary, end, pushed, repaired);
            let _ = self.ctx.printer.json_line(&record);
        }
    }

    /// Pushes a drift report unless delivered already; whether the
    /// receiver has it now.
    async fn push(&mut self, url: &str, report: &Value) -> bool {
        let printer = &self.ctx.printer;
        let print = fingerprint(report);
        match push_decision(&self.state, &print, now_secs(), self.interval) {
            PushDecision::AlreadyDelivered => return true,
            PushDecision::TooSoon => return false,
            PushDecision::Push => {}
        }
        if !self.send(url, report, "the drift report").await {
            return false;
        }
        self.state.last_delivered = Some(print);
        self.state.delivered_at = Some(now_secs());
        if let Err(e) = self.state.save(self.args.state_file.as_deref()) {
            printer.warn(&format!(
                "{} pushed, but the state file could not be written: {e}",
                stamp()
            ));
        }
        true
    }

    /// POSTs `report` in the chosen push format; whether it was taken.
    async fn send(&self, url: &str, report: &Value, what: &str) -> bool {
        let printer = &self.ctx.printer;
        let shown = reqwest::Url::parse(url)
            .map_or_else(|_| "the push URL".to_string(), |u| crate::net::display(&u));
        let format = match (self.args.push_format, self.args.push_form) {
            (Some(f), _) => f,
            (None, true) => PushFormat::Form,
            (None, false) => PushFormat::Json,
        };
        let request = self.http.post(url).headers(self.headers.clone());
        let request = match format {
            PushFormat::Form => request.form(&[("json", report.to_string())]),
            PushFormat::Json => request
                .header("Content-Type", "application/json")
                .body(report.to_string()),
            PushFormat::Slack | PushFormat::Teams => request
                .header("Content-Type", "application/json")
                .body(chat_message(format, report).to_string()),
        };
        match request.send().await {
            Ok(resp) if resp.status().is_success() => {
                printer.info(&format!("{} pushed {what} to {shown}", stamp()));
                true
            }
            Ok(resp) => {
                printer.warn(&format!(
                    "{} push to {shown} answered {}; retrying at the next interval",
                    stamp(),
                    resp.status()
                ));
                false
            }
            Err(e) => {
                printer.warn(&format!(
                    "{} push to {shown} failed ({}); retrying at the next interval",
                    stamp(),
                    error_chain(&e.without_url())
                ));
                false
            }
        }
    }

    /// Makes the target match; whether it now does. The cycle's read
    /// (taken before the lock, and maybe before a slow push) only says
    /// that something drifted: the target is read again under its lock,
    /// and that read is what is applied.
    async fn repair(&self, stop: &Abort) -> bool {
        let ctx = self.ctx;
        let Ok(target_ref) = self
            .settings
            .resolve_in(&self.args.target, self.args.orgs.target_org.as_deref())
        else {
            return false;
        };
        let Ok(live) = live_ref(&target_ref, "--target") else {
            return false;
        };
        let lock = match lock_target(
            self.ctx,
            &self.settings,
            live,
            None,
            "tsmigrate watch --apply",
            false,
        )
        .await
        {
            Ok(l) => l,
            Err(e) => {
                ctx.printer.error(&e);
                return false;
            }
        };
        let mut c = match compare::compare_refs(
            &self.settings,
            &self.ctx.conns,
            &self.args.source,
            &self.args.target,
            self.compare_options(),
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                ctx.printer.error(&Error::Usage(format!(
                    "{} repair: {e} (retrying at the next interval)",
                    stamp()
                )));
                return false;
            }
        };
        if c.ops.is_empty() {
            ctx.printer.info(&format!(
                "{} repair: the target matches the source now; nothing to write",
                stamp()
            ));
            return true;
        }
        if let Err(e) = c
            .check_expressible()
            .and_then(|()| c.check_protected(self.args.allow_protected))
        {
            ctx.printer.error(&e);
            return false;
        }
        let target = match lock.vouch(&mut c.target) {
            Ok(t) => t,
            Err(e) => {
                ctx.printer.error(&e);
                return false;
            }
        };
        let journal_dir = match self.settings.journal_dir() {
            Ok(dir) => dir,
            Err(e) => {
                ctx.printer.error(&e);
                return false;
            }
        };
        let view = c.view;
        let result = apply::apply(apply::Request {
            target,
            desired: c.desired,
            unresolved: c.unresolved,
            notes: c.notes,
            prune: self.args.prune,
            skip_missing: false,
            dry_run: false,
            parallel: self
                .settings
                .parallel_for(&target_ref, self.args.parallel.map(usize::from)),
            journal: apply::new_journal_path(&journal_dir),
            selection: &self.settings.selection,
            confirm: None,
            progress: &apply::NoProgress,
            interrupt: stop.clone(),
            view,
        })
        .await;
        drop(lock);
        match result {
            Ok(report) => {
                if !self.json() {
                    let _ = ctx.printer.text(&format!("{} repaired: ", stamp()));
                    let _ = print_report(ctx, &report, &c.target.label, &c.source.label);
                }
                true
            }
            Err(e) => {
                ctx.printer.error(&Error::Usage(format!(
                    "{} repair failed: {e} (retrying at the next interval)",
                    stamp()
                )));
                false
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_rule() {
        let iv = Duration::from_secs(300);
        let fresh = WatchState::default();
        assert_eq!(push_decision(&fresh, "a", 1000, iv), PushDecision::Push);
        let delivered = WatchState {
            last_delivered: Some("a".into()),
            delivered_at: Some(1000),
        };
        assert_eq!(
            push_decision(&delivered, "a", 5000, iv),
            PushDecision::AlreadyDelivered
        );
        assert_eq!(
            push_decision(&delivered, "b", 1100, iv),
            PushDecision::TooSoon
        );
        assert_eq!(push_decision(&delivered, "b", 1300, iv), PushDecision::Push);
        // After a clean cycle the same drift is new again (once the interval passed).
        let cleared = WatchState {
            last_delivered: None,
            delivered_at: Some(1000),
        };
        assert_eq!(push_decision(&cleared, "a", 1300, iv), PushDecision::Push);
    }
}
