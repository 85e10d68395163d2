//! Command-line arguments (clap derive). `commands/` turns them into plain
//! options; no clap type goes deeper.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "tsmigrate",
    version,
    about = "Migrate ThoughtSpot cluster configuration: export, diff, plan, apply, verify",
    after_help = "Examples:\n  tsmigrate demo                                          the whole flow on two simulated clusters\n  tsmigrate init --env dev=https://dev.example.com --env prod=https://prod.example.com\n  tsmigrate export --cluster prod --out snapshots/prod\n  tsmigrate diff --source snapshots/dev --target prod --prune\n  tsmigrate plan --source snapshots/dev --target prod --out prod.plan.json\n  tsmigrate apply --target prod --plan prod.plan.json --yes\n\nExit codes: 0 ok · 1 bad input · 2 differences (--exit-code), drift (watch --cycles) · 3 stale plan · 4 apply failed, target restored · 5 apply failed, NOT restored · 6 cluster unreachable, credentials missing or refused"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Profiles file (default: ./tsmigrate.toml)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "TSMIGRATE_CONFIG",
        hide_env_values = true
    )]
    pub config: Option<PathBuf>,
    /// Mapping file {"guids": {...}, "replace": {...}} (default: the [[maps]] entry of the two sides)
    #[arg(long, global = true, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Use no mapping file, not even a [[maps]] entry
    #[arg(long, global = true, conflicts_with = "map")]
    pub no_map: bool,
    /// JSON Pointer to leave alone (`*` = any one segment, or any characters in one); repeatable
    #[arg(long, global = true, value_name = "PTR", action = ArgAction::Append)]
    pub ignore: Vec<String>,
    /// Only these JSON Pointers and what is under them take part (globs as --ignore); repeatable
    #[arg(long, global = true, value_name = "PTR", action = ArgAction::Append)]
    pub only: Vec<String>,
    /// Do not ignore the built-in cluster-specific paths (see README)
    #[arg(long, global = true)]
    pub no_default_ignores: bool,
    /// Secret values for placeholders: JSON {pointer: value}
    #[arg(long, global = true, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// More detail on stderr (-v, -vv)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Allow plain http:// to hosts that are not loopback
    #[arg(long, global = true)]
    pub allow_http: bool,
    /// Longest time one request may take, in seconds or with a unit (default 120s)
    #[arg(long, global = true, value_name = "DUR", env = "TSMIGRATE_HTTP_TIMEOUT", hide_env_values = true, value_parser = parse_seconds)]
    pub http_timeout: Option<std::time::Duration>,
    /// First wait before a retry, in milliseconds (default 200)
    #[arg(
        long,
        global = true,
        value_name = "MS",
        env = "TSMIGRATE_RETRY_BASE_MS",
        hide_env_values = true
    )]
    pub retry_base_ms: Option<u64>,
}

/// A duration: plain seconds (`120`) or with a unit (`2m`, `500ms`).
fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("must be longer than zero".into()),
        Ok(secs) => Ok(std::time::Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(s.trim()).map_err(|e| e.to_string()),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// What `diff` prints.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Patch,
    Json,
    Summary,
    Markdown,
    Html,
}

/// What `show PLAN` prints.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ShowFormat {
    Text,
    Markdown,
    Html,
    Json,
    Patch,
    Summary,
}

/// Text or JSON, for commands that report.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a simulated cluster
    #[command(
        after_help = "Example:\n  tsmigrate sim --state /tmp/dev.json --listen 127.0.0.1:8088"
    )]
    Sim(SimArgs),
    /// Print the canonical document of REF as JSON, or render a plan file
    #[command(
        after_help = "Examples:\n  tsmigrate show prod > prod.json\n  tsmigrate show prod.plan.json --format markdown"
    )]
    Show {
        /// Profile, URL or snapshot directory; or a plan file
        #[arg(value_name = "REF|PLAN")]
        cluster: String,
        /// For a plan: text (for people), markdown (a pull-request comment), html (a page), json (changes and notes), patch (RFC 6902 with guards) or summary (a commit message)
        #[arg(long, value_enum, hide_possible_values = true)]
        format: Option<ShowFormat>,
        /// markdown: at most N bytes (N >= 1024); whole sections are left out, last actions first, and a closing line says which (GitHub refuses comments over 65,536 characters)
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1024..))]
        max_bytes: Option<u32>,
        /// The Org: a name or numeric id (default: the profile's `org`, else the Primary Org)
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
    },
    /// Write a snapshot directory
    #[command(after_help = "Example:\n  tsmigrate export --cluster prod --out snapshots/prod")]
    Export {
        /// Profile, URL or snapshot directory

        #[arg(long, value_name = "REF")]
        cluster: String,
        /// Snapshot directory to write (new, empty, or an earlier snapshot of the same cluster)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Overwrite a snapshot that another cluster (or Org) was exported to
        #[arg(long)]
        force: bool,
        /// The Org: a name or numeric id (default: the profile's `org`, else the Primary Org)
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
    },
    /// Show what applying would change on the target
    #[command(
        after_help = "Example:\n  tsmigrate diff --source dev --target prod --format text --exit-code"
    )]
    Diff {
        /// Where the configuration comes from: profile, URL or snapshot directory

        #[arg(long, value_name = "REF")]
        source: String,
        /// The cluster to compare with or change: profile, URL (or snapshot directory, read-only); repeat it for one summary per target (text, summary, json, markdown)

        #[arg(long, value_name = "REF", required = true)]
        target: Vec<String>,
        #[command(flatten)]
        orgs: OrgFlags,
        /// text (for people), patch (RFC 6902), json (changes and notes), summary (a commit message), markdown (a pull-request comment) or html (a self-contained page)
        #[arg(long, value_enum, default_value_t = DiffFormat::Text, hide_possible_values = true)]
        format: DiffFormat,
        /// markdown: at most N bytes (N >= 1024); whole sections are left out, last actions first, and a closing line says which (GitHub refuses comments over 65,536 characters)
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1024..))]
        max_bytes: Option<u32>,
        /// Exit 2 when apply (with the same flags) would write something, 0 when not
        #[arg(long)]
        exit_code: bool,
        /// Count actions only on the target as deletions (as apply --prune would make them)
        #[arg(long)]
        prune: bool,
    },
    /// Write a plan file
    #[command(
        after_help = "Example:\n  tsmigrate plan --source snapshots/dev --target prod --out prod.plan.json"
    )]
    Plan {
        /// Where the configuration comes from: profile, URL or snapshot directory

        #[arg(long, value_name = "REF")]
        source: String,
        /// The cluster to compare with or change: profile, URL (or snapshot directory, read-only)

        #[arg(long, value_name = "REF")]
        target: String,
        #[command(flatten)]
        orgs: OrgFlags,
        /// Plan file to write
        #[arg(long, value_name = "PLAN")]
        out: PathBuf,
        /// Exit 2 when the plan changes something, 0 when it is empty
        #[arg(long)]
        exit_code: bool,
        /// Plan the deletion of actions only on the target
        #[arg(long)]
        prune: bool,
    },
    /// Make the target match a plan or a source
    #[command(
        after_help = "Examples:\n  tsmigrate apply --target prod --plan prod.plan.json --yes\n  tsmigrate apply --target prod --source dev --prune --dry-run"
    )]
    Apply(ApplyArgs),
    /// Undo an interrupted or failed apply from its journal
    #[command(
        after_help = "Example:\n  tsmigrate rollback --journal ~/.local/state/tsmigrate/journals/1700000000000-4242.jsonl"
    )]
    Rollback(RollbackArgs),
    /// Check a source against a target before writing anything
    #[command(
        after_help = "Example:\n  tsmigrate validate --source dev --target prod --map maps/prod.json"
    )]
    Validate {
        /// Where the configuration comes from: profile, URL or snapshot directory

        #[arg(long, value_name = "REF")]
        source: String,
        /// The cluster to compare with or change: profile, URL (or snapshot directory, read-only)

        #[arg(long, value_name = "REF")]
        target: String,
        #[command(flatten)]
        orgs: OrgFlags,
        /// Do not add associations to objects missing on the target (with a warning)
        #[arg(long)]
        skip_missing_associations: bool,
        /// text, or json (the problems as a JSON array on stdout)
        #[arg(long, value_enum, default_value_t = ReportFormat::Text, hide_possible_values = true)]
        format: ReportFormat,
    },
    /// Apply one source to many targets or Orgs: canary first, then in parallel
    #[command(
        after_help = "Examples:\n  tsmigrate rollout --source snapshots/prod --target staging --target prod-eu --target prod-us --yes\n  tsmigrate rollout --source dev --target cloud --all-orgs --canary 2 --max-failures 1 --dry-run"
    )]
    Rollout(RolloutArgs),
    /// Keep watching for drift; optionally repair it and push reports
    #[command(
        after_help = "Examples:\n  tsmigrate watch --source snapshots/prod --target prod --interval 5m --push-url https://hooks.example.com/drift --state-file /var/lib/tsmigrate/watch.json\n  tsmigrate watch --source dev --target staging --interval 1h --apply"
    )]
    Watch(WatchArgs),
    /// Run the whole flow on two built-in simulated clusters
    #[command(after_help = "Examples:\n  tsmigrate demo\n  tsmigrate demo --keep")]
    Demo {
        /// Leave both simulators running afterwards (their URLs and how to use them are printed) until Ctrl-C
        #[arg(long)]
        keep: bool,
    },
    /// Write a commented tsmigrate.toml, its schemas, a .gitignore and a CI workflow for a new snapshot repository; never replaces a file
    #[command(
        after_help = "Examples:\n  tsmigrate init --env dev=https://dev.example.com --env prod=https://prod.example.com\n  tsmigrate init --dir config-repo --env staging=https://staging.example.com --env prod=https://prod.example.com --ci gitlab"
    )]
    Init {
        /// Where to write (default: here)
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// An environment, as a profile: NAME=URL (repeatable; the first is the source of the CI diff; default dev and prod at example.com)
        #[arg(long = "env", value_name = "NAME=URL", action = ArgAction::Append)]
        envs: Vec<String>,
        /// The user name the profiles log in with (the password comes from TS_<NAME>_PASSWORD)
        #[arg(long, value_name = "NAME", default_value = "tsadmin")]
        username: String,
        /// The CI workflow to write: github (.github/workflows/tsmigrate.yml), gitlab (.gitlab-ci.yml) or none
        #[arg(long, value_enum, default_value = "github")]
        ci: CiKind,
    },
    /// Keep one comment per marker on the pull request (GitHub) or merge request (GitLab) up to date: created the first time, edited after; endpoints and token from the CI's variables
    #[command(
        after_help = "Examples:\n  tsmigrate diff --source snapshots/dev --target prod --format markdown --max-bytes 60000 > prod.md\n  tsmigrate comment --platform github --marker prod --body-file prod.md\n\nGitHub reads GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH and GITHUB_TOKEN; GitLab reads CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID and TSMIGRATE_GITLAB_TOKEN. The token is never printed."
    )]
    Comment {
        /// github (a pull request) or gitlab (a merge request)
        #[arg(long, value_enum)]
        platform: Platform,
        /// Tells this comment from the others of the request (say, the target's name)
        #[arg(long, default_value = "report")]
        marker: String,
        /// The comment's text (a Markdown report)
        #[arg(long, value_name = "FILE")]
        body_file: PathBuf,
    },
    /// Make or check the GUID map between two clusters (objects differ in GUID from one cluster to another)
    #[command(subcommand)]
    Map(MapCommand),
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  tsmigrate completions bash > ~/.local/share/bash-completion/completions/tsmigrate\n  tsmigrate completions zsh > ~/.zfunc/_tsmigrate"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    #[command(
        after_help = "Example:\n  tsmigrate manpage > /usr/local/share/man/man1/tsmigrate.1"
    )]
    Manpage,
}

/// `tsmigrate comment --platform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    Github,
    Gitlab,
}

/// `tsmigrate init --ci`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CiKind {
    Github,
    Gitlab,
    None,
}

/// `tsmigrate map`.
#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Match the objects the source's actions refer to (answers, worksheets, user groups) with the target's of the same kind and name, and write the map; what matches none or several is listed, never guessed
    #[command(
        after_help = "Examples:\n  tsmigrate map generate --source dev --target prod --out maps/dev-prod.json\n  tsmigrate map check --source dev --target prod --map maps/dev-prod.json\n\nExit 0 when every object was matched (or has the same GUID on both), 2 when some were not (the map holds those that were)."
    )]
    Generate {
        /// Where the actions and their objects are: profile or URL (object names are read from the cluster)
        #[arg(long, value_name = "REF")]
        source: String,
        /// The cluster to match them on: profile or URL
        #[arg(long, value_name = "REF")]
        target: String,
        #[command(flatten)]
        orgs: OrgFlags,
        /// The map file to write (default: stdout)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
    },
    /// Check the map given with --map FILE against both clusters: every object the source's actions refer to is on the target, as it is or through the map, with the same name
    #[command(
        after_help = "Example:\n  tsmigrate map check --source dev --target prod --map maps/dev-prod.json\n\nExit 0 when the map holds, 1 when it does not (each problem named by the map's JSON Pointer)."
    )]
    Check {
        /// profile or URL
        #[arg(long, value_name = "REF")]
        source: String,
        /// profile or URL
        #[arg(long, value_name = "REF")]
        target: String,
        #[command(flatten)]
        orgs: OrgFlags,
    },
}

/// The Orgs of the two sides.
#[derive(Debug, Clone, Default, Args)]
pub struct OrgFlags {
    /// The source's Org: a name or numeric id (default: the profile's `org`, else the Primary Org)
    #[arg(long, value_name = "ORG")]
    pub source_org: Option<String>,
    /// The target's Org: a name or numeric id (default: the profile's `org`, else the Primary Org)
    #[arg(long, value_name = "ORG")]
    pub target_org: Option<String>,
}

impl OrgFlags {
    pub(crate) fn sides(&self) -> crate::config::SideOrgs {
        crate::config::SideOrgs {
            source: self.source_org.clone(),
            target: self.target_org.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The cluster to compare with or change: profile, URL (or snapshot directory, read-only)

    #[arg(long, value_name = "REF")]
    pub target: String,
    /// Plan file written by `tsmigrate plan` (its guards are checked first)
    #[arg(
        long,
        value_name = "PLAN",
        conflicts_with = "source",
        required_unless_present = "source"
    )]
    pub plan: Option<PathBuf>,
    /// Where the configuration comes from: profile, URL or snapshot directory

    #[arg(long, value_name = "REF")]
    pub source: Option<String>,
    #[command(flatten)]
    pub orgs: OrgFlags,
    /// Apply without asking
    #[arg(long)]
    pub yes: bool,
    /// Print the requests that would be sent; send none
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: exit 2 when the apply would write something, 0 when not
    #[arg(long, requires = "dry_run")]
    pub exit_code: bool,
    /// Delete actions the source does not have
    #[arg(long)]
    pub prune: bool,
    /// Also write protected settings (identity providers, directory, mail, session length; [migrate] protected), which are refused otherwise
    #[arg(long, env = "TSMIGRATE_ALLOW_PROTECTED", hide_env_values = true)]
    pub allow_protected: bool,
    /// Concurrent writes (default: the profile's `parallel`, else [migrate] parallel, else 8)
    #[arg(long, value_name = "N", env = "TSMIGRATE_PARALLEL", hide_env_values = true, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: Option<u16>,
    /// Journal file (default: $XDG_STATE_HOME/tsmigrate/journals/<time>-<pid>.jsonl)
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Do not add associations to objects missing on the target (with a warning)
    #[arg(long)]
    pub skip_missing_associations: bool,
    /// Wait this long for another apply to the same target to end (default: refuse at once)
    #[arg(long, value_name = "DUR", value_parser = parse_seconds_or_zero)]
    pub lock_timeout: Option<std::time::Duration>,
    /// text, or json (a result object on stdout: counts, writes, seconds, verified, journal)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, hide_possible_values = true)]
    pub format: ReportFormat,
    /// With --format json: every event of the run (journaled, sent, answered, refused, created, undone, left alone), one JSON object per line on stdout, then the result on one line
    #[arg(long)]
    pub events: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Journal printed by the failed or interrupted apply
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    /// The cluster (default: the one the journal was written for)
    #[arg(long, value_name = "REF")]
    pub target: Option<String>,
    /// The Org (default: the one the journal was written in)
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// Also undo values someone changed since the apply
    #[arg(long)]
    pub force: bool,
    /// Concurrent writes
    #[arg(long, value_name = "N", env = "TSMIGRATE_PARALLEL", hide_env_values = true, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: Option<u16>,
    /// Wait this long for an apply to the same target to end (default: refuse at once)
    #[arg(long, value_name = "DUR", value_parser = parse_seconds_or_zero)]
    pub lock_timeout: Option<std::time::Duration>,
    /// text, or json (a result object on stdout)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, hide_possible_values = true)]
    pub format: ReportFormat,
}

fn parse_seconds_or_zero(s: &str) -> Result<std::time::Duration, String> {
    if s.trim() == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    parse_seconds(s)
}

#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Where the configuration comes from: profile, URL or snapshot directory
    #[arg(long, value_name = "REF")]
    pub source: String,
    /// A cluster to change: profile or URL; repeat it, in the order to roll out
    #[arg(long, value_name = "REF", required = true)]
    pub target: Vec<String>,
    #[command(flatten)]
    pub orgs: OrgFlags,
    /// Every Org of each target cluster (GET session/orgs), instead of its one Org
    #[arg(long, conflicts_with = "target_org")]
    pub all_orgs: bool,
    /// The first N targets go first, one at a time; if one fails, nothing else is touched
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub canary: usize,
    /// After N failed targets no new target starts
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_failures: u64,
    /// Targets applied at once after the canary
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub parallel_targets: u64,
    /// Concurrent writes per target (default: the profile's `parallel`, else [migrate] parallel, else 8)
    #[arg(long, value_name = "N", env = "TSMIGRATE_PARALLEL", hide_env_values = true, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: Option<u16>,
    /// Delete actions only on a target
    #[arg(long)]
    pub prune: bool,
    /// Also write protected settings (identity providers, directory, mail, session length; [migrate] protected), which are refused otherwise
    #[arg(long, env = "TSMIGRATE_ALLOW_PROTECTED", hide_env_values = true)]
    pub allow_protected: bool,
    /// Do not add associations to objects missing on a target (with a warning)
    #[arg(long)]
    pub skip_missing_associations: bool,
    /// Roll out without asking (required without a terminal)
    #[arg(long)]
    pub yes: bool,
    /// Show what each target would get; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// text (a table), or json (an array, one object per target)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, hide_possible_values = true)]
    pub format: ReportFormat,
}

/// `watch --push-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PushFormat {
    Json,
    Form,
    Slack,
    Teams,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Where the configuration comes from: profile, URL or snapshot directory

    #[arg(long, value_name = "REF")]
    pub source: String,
    /// The cluster to compare with or change: profile, URL (or snapshot directory, read-only)

    #[arg(long, value_name = "REF")]
    pub target: String,
    #[command(flatten)]
    pub orgs: OrgFlags,
    /// Time between two diffs, and the least time between two pushes (30s, 5m, 1h)
    #[arg(long, value_name = "DUR")]
    pub interval: humantime::Duration,
    /// Make the target match at every cycle (drift repair)
    #[arg(long)]
    pub apply: bool,
    /// Count actions only on the target as drift (and, with --apply, delete them)
    #[arg(long)]
    pub prune: bool,
    /// Also write protected settings (identity providers, directory, mail, session length; [migrate] protected), which are refused otherwise
    #[arg(long, env = "TSMIGRATE_ALLOW_PROTECTED", hide_env_values = true)]
    pub allow_protected: bool,
    /// POST each new drift report (the `diff --format json` document) here
    #[arg(long, value_name = "URL")]
    pub push_url: Option<String>,
    /// Send the report as the form parameter `json` instead of a JSON body (= --push-format form)
    #[arg(long, requires = "push_url", conflicts_with = "push_format")]
    pub push_form: bool,
    /// What a push sends: json (the `diff --format json` document), form (it as the form parameter `json`), slack or teams (a message for an incoming webhook)
    #[arg(long, value_enum, value_name = "FORMAT", requires = "push_url")]
    pub push_format: Option<PushFormat>,
    /// Header of every push, 'Name: value' or 'Name: env:VAR' (the value read from VAR, never printed); repeatable
    #[arg(long, value_name = "HEADER", requires = "push_url", action = ArgAction::Append)]
    pub push_header: Vec<String>,
    /// Keeps the last delivered report's fingerprint and time across restarts
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// Stop after N cycles (for cron jobs) and exit 0 (no drift), 2 (drift remained, or a push is undelivered) or 6 (a cluster was unreachable); default: until SIGINT/SIGTERM
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub cycles: Option<u64>,
    /// text, or json (one JSON object a cycle on stdout)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, hide_possible_values = true)]
    pub format: ReportFormat,
    /// Concurrent writes of --apply (default: the profile's `parallel`, else [migrate] parallel, else 8)
    #[arg(long, value_name = "N", env = "TSMIGRATE_PARALLEL", hide_env_values = true, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: Option<u16>,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// State file; created from the built-in example cluster if missing
    #[arg(long, value_name = "FILE")]
    pub state: PathBuf,
    /// Address to listen on (port 0: any free port, printed at start)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8088")]
    pub listen: std::net::SocketAddr,
    /// The one user that may log in
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// Its password
    #[arg(long, default_value = "admin")]
    pub password: String,
    /// Accept `Authorization: Bearer T`
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
    /// Delay every request by this many milliseconds
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of requests (not login) answered 503, 0..1
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    pub fail_rate: f64,
    /// Share of requests (not login) answered 429 with Retry-After: 1, 0..1
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    pub throttle_rate: f64,
    /// Every write after the Nth fails with 500 until restart
    #[arg(long, value_name = "N")]
    pub fail_after: Option<u64>,
    /// Every write to this action answers 400 (repeatable)
    #[arg(long, value_name = "NAME", action = ArgAction::Append)]
    pub reject_action: Vec<String>,
    /// Rate limit in requests per second (burst 10), then 429 without Retry-After, as ThoughtSpot Cloud
    #[arg(long, value_name = "RPS", value_parser = parse_positive)]
    pub rate_limit: Option<f64>,
    /// Sessions and the --token expire this long after they begin (30s, 5m)
    #[arg(long, value_name = "DUR")]
    pub session_ttl: Option<humantime::Duration>,
    /// The action list shows every actionAssociationMap empty (as the API page's example does)
    #[arg(long)]
    pub list_omits_associations: bool,
    /// A PUT replaces the whole action, associations included
    #[arg(long)]
    pub put_replaces: bool,
    /// The cluster has no Orgs feature: GET and PUT session/orgs answer 404, v2 orgs/search 403 (the state must have no orgs)
    #[arg(long)]
    pub no_orgs: bool,
    /// The current Org is the user's, not the session's: a switch in one session moves all of the user's sessions
    #[arg(long)]
    pub org_per_user: bool,
    /// PUT session/orgs answers with a new session cookie in the new Org; the old cookie stays in the old Org
    #[arg(long)]
    pub switch_new_session: bool,
    /// An association POST leaves an entry the action has already as it was ("appended")
    #[arg(long)]
    pub assoc_post_appends: bool,
    /// The cluster keeps its own action version: a create or update stores "v2" whatever it sends
    #[arg(long)]
    pub rewrites_version: bool,
    /// A REST v1 create adds the Org's administrators group (defaultAdminUserGroupId of session/orgs) to the action's userGroupList (a cluster with Orgs)
    #[arg(long)]
    pub adds_admin_group: bool,
    /// The cluster keeps fields its own way, as the docs' examples hint: --rewrites-version and --adds-admin-group, and availability stored as a sorted set, a link trimmed
    #[arg(long)]
    pub server_normalizes: bool,
    /// REST APIs served over the same state: v1 (/callosum/v1/tspublic/v1/), v2 (/api/rest/2.0/) or both; the other's paths answer 404
    #[arg(long, value_name = "API", default_value = "both", value_parser = ["v1", "v2", "both"])]
    pub api: String,
    /// v2 system/config-overrides answers keys nested as objects ({"samlConfiguration": {"enabled": true}}), not dotted
    #[arg(long)]
    pub v2_config_nested: bool,
    /// A v2 custom-action search for an unknown custom_action_identifier answers 400, not []
    #[arg(long)]
    pub v2_search_unknown_400: bool,
    /// auth/token/revoke also ends the token it is called with ("the current user session")
    #[arg(long)]
    pub v2_revoke_ends_caller: bool,
    /// v2 system/config-overrides answers its keys without the config_override_info wrapper (before 10.11.0.cl)
    #[arg(long)]
    pub v2_overrides_unwrapped: bool,
    /// v2 system/config-overrides lists only applied overrides (values that differ from the example cluster's, taken as the defaults)
    #[arg(long)]
    pub v2_overrides_applied_only: bool,
    /// Trusted authentication on with this secret key (v2 auth/token/full with secret_key)
    #[arg(long, value_name = "KEY")]
    pub secret_key: Option<String>,
    /// Multi-factor authentication on: every login with a password is refused
    #[arg(long)]
    pub mfa: bool,
    /// Longest request path and query served; longer ones answer 414 URI Too Long
    #[arg(long, value_name = "BYTES", default_value_t = 8192)]
    pub max_url_bytes: usize,
    /// Seed for repeatable faults
    #[arg(long)]
    pub seed: Option<u64>,
}

fn parse_positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{s:?} is not a positive number")),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1"))
    }
}

/// Parses the command line; `Err` carries the exit code after clap has
/// printed its message (0 for help and version, 1 for bad usage: never 2,
/// which means "differences").
pub fn parse<I, T>(args: I) -> Result<Cli, u8>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    <Cli as Parser>::try_parse_from(args).map_err(|e| {
        let _ = e.print();
        match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
            _ => 1,
        }
    })
}
