//! `tsmigrate demo`: the whole flow on two simulated clusters started in
//! this process from built-in fixtures that differ the way real ones do.

use crate::api::{Credentials, Endpoint};
use crate::config::ClusterRef;
use crate::error::Error;
use crate::run::{applied_line, Context};
use crate::sim::{self, SimOptions, SimState};
use crate::{apply, cluster, diff, document, plan, secrets};

const DEMO_SOURCE: &str = include_str!("../fixtures/demo-source.json");

fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

pub async fn run(ctx: &Context) -> Result<u8, Error> {
    let dir = tempfile::tempdir()
        .map_err(|e| Error::Internal(format!("cannot make a scratch directory: {e}")))?;
    let source_state: SimState =
        crate::jsonfile::parse_named(DEMO_SOURCE.as_bytes(), "built-in demo source")?;
    let source_file = dir.path().join("source.json");
    let bytes = crate::jsonfile::to_pretty(&source_state)?;
    std::fs::write(&source_file, bytes).map_err(|e| Error::io(&source_file, e))?;
    let source_sim = sim::start(SimOptions::new(&source_file)).await?;
    let target_sim = sim::start(SimOptions::new(dir.path().join("target.json"))).await?;
    let endpoint = |label: &str, url: String| ClusterRef::Live {
        endpoint: Endpoint {
            label: label.into(),
            url,
            credentials: Credentials::Password {
                username: "admin".into(),
                password: "admin".into(),
            },
            insecure_tls: false,
            credentials_hint: "the demo simulators take admin/admin".into(),
        },
        parallel: None,
    };
    let source_ref = endpoint("dev (simulated)", source_sim.base_url());
    let target_ref = endpoint("prod (simulated)", target_sim.base_url());
    println!("tsmigrate demo: two simulated clusters on loopback");
    println!("  source  dev   {}", source_sim.base_url());
    println!("  target  prod  {}", target_sim.base_url());

    step(
        1,
        "show: read both clusters into canonical documents (secrets masked)",
    );
    let (source, target) = tokio::try_join!(
        cluster::load(&source_ref, &ctx.settings),
        cluster::load(&target_ref, &ctx.settings)
    )?;
    for side in [&source, &target] {
        let masked = secrets::redact(side.doc());
        let secrets_count = secrets::secrets_of(side.doc()).len();
        println!(
            "  {:<17} {} config sections, {} actions, {} secret values masked",
            side.label,
            document::config(&masked).len(),
            document::actions(&masked).len(),
            secrets_count
        );
    }
    let name = "Open in CRM";
    if let Some(token) = document::actions(&secrets::redact(source.doc()))
        .get(name)
        .and_then(|a| a["detail"].get("authToken"))
    {
        println!("  e.g. /actions/{name}/detail/authToken is shown as {token}");
    }

    step(2, "diff: what applying would change on prod");
    let pair = crate::run::pair(ctx, source, target)?;
    print!(
        "{}",
        diff::render::text(&pair.ops, &diff::render::Palette::new(ctx.color))
    );
    println!("  as an RFC 6902 patch: {} operations", pair.ops.len());

    step(3, "plan: the patch with test guards, saved for review");
    let plan_file = dir.path().join("prod.plan.json");
    let the_plan = plan::build(
        &pair.ops,
        &pair.source.label,
        &pair.target.label,
        pair.target.doc(),
        &pair.unresolved,
    );
    plan::write(&plan_file, &the_plan)?;
    let tests = the_plan.patch.iter().filter(|o| o["op"] == "test").count();
    println!(
        "  {} operations ({tests} guards), target fingerprint {}…",
        the_plan.patch.len(),
        &the_plan.target_fingerprint[..19]
    );

    step(
        4,
        "apply --prune: the plan's guards checked, then journaled concurrent writes and verification",
    );
    let plan = plan::read(&plan_file)?;
    let target = pair.target;
    let drift = plan::drift(&plan, target.doc());
    if !drift.is_empty() {
        return Err(Error::Stale(format!(
            "the plan is stale: {}",
            drift.join(", ")
        )));
    }
    // Live source: the secrets travel in memory, never through the plan file.
    let desired = pair.desired;
    let client = target
        .client
        .as_ref()
        .ok_or_else(|| Error::Internal("demo target is not live".into()))?;
    let current = apply::Current {
        doc: target.doc(),
        raw: &target.raw,
        ids: &target.canonical.action_ids,
    };
    let changes = apply::compute(&current, &desired, &ctx.settings.ignore, true);
    let opts = apply::ApplyOptions {
        parallel: 8,
        journal: dir.path().join("journal.jsonl"),
        progress: false,
        quiet: true,
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
    println!(
        "  {}",
        applied_line(&changes, report.writes, report.elapsed)
    );

    step(5, "verify: diff again");
    let again = cluster::load(&target_ref, &ctx.settings).await?;
    let source_again = cluster::load(&source_ref, &ctx.settings).await?;
    let after = crate::run::pair(ctx, source_again, again)?;
    print!(
        "  {}",
        diff::render::text(&after.ops, &diff::render::Palette::new(ctx.color))
    );
    if !after.ops.is_empty() {
        return Err(Error::Internal(
            "the demo's target does not match after apply".into(),
        ));
    }
    println!("\nDone. Try it on your own simulators: see the README's quickstart.");
    source_sim.stop().await;
    target_sim.stop().await;
    Ok(0)
}
