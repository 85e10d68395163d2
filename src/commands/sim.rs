//! `tsmigrate sim`: a simulated cluster until SIGINT/SIGTERM.

use super::Context;
use crate::cli::SimArgs;
use crate::error::{Error, Outcome};
use crate::words::plural;
use crate::{signals, sim};

pub async fn run(ctx: &Context, args: SimArgs) -> Result<Outcome, Error> {
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
            rate_limit: args.rate_limit,
            session_ttl: args.session_ttl.map(Into::into),
            seed: args.seed,
        },
        behaviour: sim::Behaviour {
            list_omits_associations: args.list_omits_associations,
            put_replaces: args.put_replaces,
            no_orgs: args.no_orgs,
            org_per_user: args.org_per_user,
            switch_new_session: args.switch_new_session,
            assoc_post_appends: args.assoc_post_appends,
            rewrites_version: args.rewrites_version || args.server_normalizes,
            adds_admin_group: args.adds_admin_group || args.server_normalizes,
            normalizes_fields: args.server_normalizes,
        },
        api: args
            .api
            .parse()
            .map_err(|e| Error::Usage(format!("--api: {e}")))?,
        v2: sim::V2Behaviour {
            config_nested: args.v2_config_nested,
            search_unknown_400: args.v2_search_unknown_400,
            revoke_ends_caller: args.v2_revoke_ends_caller,
            overrides_unwrapped: args.v2_overrides_unwrapped,
            overrides_applied_only: args.v2_overrides_applied_only,
        },
        log_requests: ctx.printer.verbose > 0,
        max_url_bytes: args.max_url_bytes,
        secret_key: args.secret_key,
        mfa: args.mfa,
    };
    let running = sim::start(opts).await?;
    ctx.printer
        .text_line(&format!("listening on {}", running.base_url()))?;
    signals::shutdown_requested().await;
    // What it served, for benchmarks and anyone watching a test: on stderr,
    // so stdout stays the one line scripts read.
    let served = format!(
        "served {}: {}, {}, {} answered 429",
        plural(running.requests_seen(), "request", "requests"),
        plural(running.logins_seen(), "login", "logins"),
        plural(running.writes_seen(), "write", "writes"),
        running.throttled_seen()
    );
    running.stop().await;
    ctx.printer.info(&served);
    Ok(Outcome::Success)
}
