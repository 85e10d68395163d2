//! `tsmigrate demo`: the whole flow on two simulated clusters started in
//! this process from built-in fixtures that differ the way real ones do.
//! It runs the same steps as the commands: compare, plan, apply, verify.

use super::apply::print_report;
use super::Context;
use crate::apply;
use crate::compare;
use crate::config::settings::{Credentials, Endpoint};
use crate::config::{ClusterRef, LiveRef};
use crate::diff::render;
use crate::error::{Error, Outcome};
use crate::signals::Abort;
use crate::sim::{self, SimOptions, SimState};
use crate::words::plural;
use crate::{document, fetch, plan, secrets};

const DEMO_SOURCE: &str = include_str!("../../fixtures/demo-source.json");

fn live(label: &str, url: String) -> ClusterRef {
    ClusterRef::Live(LiveRef {
        endpoint: Endpoint {
            label: label.into(),
            url,
            credentials: Credentials::Password {
                username: "admin".into(),
                password: "admin".into(),
            },
            insecure_tls: false,
            credentials_hint: "the demo simulators take admin/admin".into(),
            api: Default::default(),
        },
        parallel: None,
        profile: Some(label.into()),
        org: None,
    })
}

pub async fn run(ctx: &Context, keep: bool) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let out = |text: &str| ctx.printer.text_line(text);
    let step = |n: u32, title: &str| ctx.printer.text_line(&format!("\n== {n}. {title}"));
    let dir = tempfile::tempdir().map_err(Error::Scratch)?;
    let source_state: SimState =
        crate::json::file::parse_named(DEMO_SOURCE.as_bytes(), "built-in demo source")?;
    let source_file = dir.path().join("source.json");
    let bytes = crate::json::file::to_pretty(&source_state)?;
    std::fs::write(&source_file, bytes).map_err(|e| Error::io(&source_file, e))?;
    let source_sim = sim::start(SimOptions::new(&source_file)).await?;
    let target_sim = sim::start(SimOptions::new(dir.path().join("target.json"))).await?;
    let source_ref = live("dev (simulated)", source_sim.base_url());
    let target_ref = live("prod (simulated)", target_sim.base_url());
    out("tsmigrate demo: two simulated clusters on loopback")?;
    out(&format!("  source  dev   {}", source_sim.base_url()))?;
    out(&format!("  target  prod  {}", target_sim.base_url()))?;

    // Held from the first read of prod to the end of the apply, as
    // `apply` holds it: only a target read under its lock is written to.
    let lock = apply::lock::acquire(
        &dir.path().join("locks"),
        &target_sim.base_url(),
        "prod (simulated)",
        std::time::Duration::ZERO,
        "tsmigrate demo",
    )
    .await?;

    step(
        1,
        "show: read both clusters into canonical documents (secrets masked)",
    )?;
    let (source, target) = tokio::try_join!(
        fetch::load(&source_ref, &settings, &ctx.conns),
        fetch::load(&target_ref, &settings, &ctx.conns)
    )?;
    for side in [&source, &target] {
        let masked = secrets::redact(&side.doc);
        out(&format!(
            "  {:<17} {} config sections, {} actions, {} secret values masked",
            side.label,
            document::config(&masked).len(),
            document::actions(&masked).len(),
            secrets::secrets_of(&side.doc).len()
        ))?;
    }
    let name = "Open in CRM";
    if let Some(token) = document::actions(&secrets::redact(&source.doc))
        .get(name)
        .and_then(|a| a["detail"].get("authToken"))
    {
        out(&format!(
            "  e.g. /actions/{name}/detail/authToken is shown as {token}"
        ))?;
    }

    step(2, "diff: what applying would change on prod")?;
    let opts = compare::Options {
        prune: true,
        ..Default::default()
    };
    let mut c = compare::compare(&settings, source, target, opts.clone())?;
    let palette = render::Palette::new(ctx.printer.color_out());
    ctx.printer.text(&render::text(&c.ops, &palette))?;
    out(&format!(
        "  as an RFC 6902 patch: {}",
        plural(c.ops.len(), "operation", "operations")
    ))?;
    if !c.notes.protected.is_empty() {
        out(&format!(
            "  {} under protected settings (SAML, LDAP, mail): `apply` refuses them without --allow-protected; this demo allows them",
            plural(c.notes.protected.len(), "change", "changes")
        ))?;
    }

    step(3, "plan: the patch with test guards, saved for review")?;
    let plan_file = dir.path().join("prod.plan.json");
    let the_plan = super::plan::save(&c, &plan_file)?;
    let guards = the_plan.patch.iter().filter(|o| o["op"] == "test").count();
    out(&format!(
        "  {} operations ({guards} guards), target fingerprint {}…",
        the_plan.patch.len(),
        &the_plan.target_fingerprint[..19]
    ))?;

    step(
        4,
        "apply --prune: the plan's guards checked, then validation, journaled concurrent writes and verification",
    )?;
    let plan = plan::read(&plan_file)?;
    let drift = plan::drift(&plan, &c.target.doc);
    if !drift.is_empty() {
        return Err(Error::Stale(format!(
            "the plan is stale: {}",
            drift.join(", ")
        )));
    }
    // Live source: the secrets travel in memory, never through the plan file.
    let report = apply::apply(apply::Request {
        target: lock.vouch(&mut c.target)?,
        desired: c.desired,
        unresolved: c.unresolved,
        notes: c.notes,
        prune: true,
        skip_missing: false,
        dry_run: false,
        parallel: settings.parallel,
        journal: dir.path().join("journal.jsonl"),
        selection: &settings.selection,
        confirm: None,
        progress: &apply::NoProgress,
        interrupt: Abort::default(),
        view: c.view,
    })
    .await?;
    drop(lock);
    ctx.printer.text("  ")?;
    print_report(ctx, &report, &c.target.label, &c.source.label)?;

    step(5, "verify: diff again")?;
    let again = compare::compare(
        &settings,
        fetch::load(&source_ref, &settings, &ctx.conns).await?,
        fetch::load(&target_ref, &settings, &ctx.conns).await?,
        opts,
    )?;
    ctx.printer.text("  ")?;
    ctx.printer.text(&render::text(&again.ops, &palette))?;
    if !again.ops.is_empty() {
        return Err(Error::Internal(
            "the demo's target does not match after apply".into(),
        ));
    }
    ctx.conns.close_all().await;
    if keep {
        let (dev, prod) = (source_sim.base_url(), target_sim.base_url());
        out(&format!(
            "\nDone. Both simulators keep running (user admin, password admin):\n  \
             dev   {dev}\n  prod  {prod}\n\
             Try, in another terminal:\n  \
             export TS_USERNAME=admin TS_PASSWORD=admin\n  \
             tsmigrate diff --source {dev} --target {prod}\n  \
             tsmigrate export --cluster {prod} --out prod-snapshot\n\
             Press Ctrl-C here to stop them (their state goes with them)."
        ))?;
        crate::signals::shutdown_requested().await;
        out("stopping the simulators")?;
    } else {
        out("\nDone. Try it on your own simulators: see the README's quickstart (or run tsmigrate demo --keep).")?;
    }
    source_sim.stop().await;
    target_sim.stop().await;
    Ok(Outcome::Success)
}
