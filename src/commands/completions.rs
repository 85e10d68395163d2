//! `tsmigrate completions SHELL` and `tsmigrate manpage`. The man page is
//! one page: every command with its options (no references to per-command
//! pages that nothing generates), then ENVIRONMENT, EXIT STATUS and FILES.

use std::fmt::Write;

use super::Context;
use crate::cli::Cli;
use crate::error::{Error, Outcome};

pub fn completions(ctx: &Context, shell: clap_complete::Shell) -> Result<Outcome, Error> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tsmigrate", &mut out);
    ctx.printer.text(&String::from_utf8_lossy(&out))?;
    Ok(Outcome::Success)
}

/// The variables the tool reads, for ENVIRONMENT.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("TS_TOKEN", "Bearer token for clusters named by URL."),
    ("TS_USERNAME, TS_PASSWORD", "User and password for clusters named by URL (a session login). Profiles name their own variables (password_env, token_env)."),
    ("TSMIGRATE_CONFIG", "The profiles file, as --config."),
    ("TSMIGRATE_SECRET_<POINTER>", "The value of the secret placeholder at POINTER: the pointer upper-cased, every other character _ (/actions/Open in CRM/detail/authToken is TSMIGRATE_SECRET_ACTIONS_OPEN_IN_CRM_DETAIL_AUTHTOKEN)."),
    ("TSMIGRATE_HTTP_TIMEOUT", "Longest time one request may take (seconds, or with a unit), as --http-timeout. Default 120."),
    ("TSMIGRATE_RETRY_BASE_MS", "First wait before a retry, in milliseconds, as --retry-base-ms. Default 200."),
    ("TSMIGRATE_PARALLEL", "Concurrent writes, as --parallel."),
    ("TSMIGRATE_ALLOW_PROTECTED", "true: write protected settings (identity providers, directory, mail, session length), as --allow-protected."),
    ("TSMIGRATE_PROGRESS_EVERY", "Off a terminal, time between two \"Still writing…\" lines of apply and rollback (seconds, or with a unit; 0 for a line per write). Default 10."),
    ("GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_TOKEN", "comment --platform github: the API, the repository, the pull-request event and the token (never printed), as GitHub Actions sets them."),
    ("CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID, TSMIGRATE_GITLAB_TOKEN", "comment --platform gitlab: the API, the project and merge request (as GitLab CI sets them), and a token with the api scope (never printed)."),
    ("XDG_STATE_HOME", "Journals and locks live in $XDG_STATE_HOME/tsmigrate (else ~/.local/state/tsmigrate)."),
    ("NO_COLOR", "When set and not empty, no colour unless --color always."),
];

const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success; with --exit-code, no differences."),
    ("1", "Bad input or usage; the message names the file and JSON path."),
    ("2", "With --exit-code (diff, plan, apply --dry-run): apply would write something. watch --cycles: drift remained, or a push is undelivered. map generate: some objects were not matched."),
    ("3", "The plan is stale: the target changed since it was made; nothing written."),
    ("4", "Apply failed; the target was restored to its state before the apply."),
    ("5", "Apply failed and the target could NOT be fully restored; the journal path is printed."),
    ("6", "A cluster was unreachable, or its credentials are missing or were refused."),
];

const FILES: &[(&str, &str)] = &[
    ("tsmigrate.toml", "Profiles, [migrate] settings and [[maps]] entries, in the working directory unless --config or TSMIGRATE_CONFIG says otherwise."),
    ("$XDG_STATE_HOME/tsmigrate/journals/", "Apply journals (mode 0600): what each apply wrote, for rollback."),
    ("$XDG_STATE_HOME/tsmigrate/locks/", "One lock per target: one apply, rollback or watch --apply at a time."),
];

pub fn manpage(ctx: &Context) -> Result<Outcome, Error> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    // Built, so that every argument knows how many values it takes.
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    let render = |r: std::io::Result<()>| r.map_err(Error::Manpage);
    render(man.render_title(&mut out))?;
    render(man.render_name_section(&mut out))?;
    render(man.render_synopsis_section(&mut out))?;
    render(man.render_description_section(&mut out))?;
    render(man.render_options_section(&mut out))?;
    let mut text = String::from_utf8_lossy(&out).into_owned();
    text.push_str(".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        let _ = writeln!(text, ".SS \"tsmigrate {}\"", roff(sub.get_name()));
        if let Some(about) = sub.get_about() {
            let _ = writeln!(text, "{}", roff(&about.to_string()));
        }
        for arg in sub
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
        {
            let _ = writeln!(text, ".TP\n{}", roff(&arg_name(arg)));
            if let Some(help) = arg.get_help() {
                let _ = writeln!(text, "{}", roff(&help.to_string()));
            }
        }
        let lines = examples(sub);
        if !lines.is_empty() {
            let _ = writeln!(
                text,
                ".PP
Examples:
.nf
.RS
{}
.RE
.fi",
                roff(&lines.join("\n"))
            );
        }
    }
    text.push_str(".SH EXAMPLES\n.nf\n");
    let _ = writeln!(text, "{}", roff(&examples(&cmd).join("\n")));
    text.push_str(".fi\n");
    text.push_str(".SH ENVIRONMENT\n");
    for (name, what) in ENVIRONMENT {
        let _ = writeln!(text, ".TP\n\\fB{}\\fR\n{}", roff(name), roff(what));
    }
    text.push_str(".SH \"EXIT STATUS\"\n");
    for (code, what) in EXIT_STATUS {
        let _ = writeln!(text, ".TP\n\\fB{code}\\fR\n{}", roff(what));
    }
    text.push_str(".SH FILES\n");
    for (file, what) in FILES {
        let _ = writeln!(text, ".TP\n\\fI{}\\fR\n{}", roff(file), roff(what));
    }
    let mut version = Vec::new();
    render(man.render_version_section(&mut version))?;
    // The section alone, without the preamble each render repeats.
    for line in String::from_utf8_lossy(&version).lines() {
        if !line.starts_with(".ie ") && !line.starts_with(".el ") {
            text.push_str(line);
            text.push('\n');
        }
    }
    ctx.printer.text(&text)?;
    Ok(Outcome::Success)
}

/// The example lines of a command's help (`after_help`: the indented
/// lines under "Example:" or "Examples:"), unindented.
fn examples(cmd: &clap::Command) -> Vec<String> {
    let Some(after) = cmd.get_after_help() else {
        return Vec::new();
    };
    after
        .to_string()
        .lines()
        .skip_while(|l| !l.starts_with("Example"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_string())
        .collect()
}

/// `--long <VALUE>` of an argument, or its value name for a positional.
fn arg_name(arg: &clap::Arg) -> String {
    let value = arg
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| format!(" <{v}>"))
        .unwrap_or_default();
    match (arg.get_long(), arg.get_short()) {
        (Some(l), Some(s)) => format!(
            "-{s}, --{l}{}",
            if arg.get_num_args().is_some_and(|n| n.takes_values()) {
                value
            } else {
                String::new()
            }
        ),
        (Some(l), None) => format!(
            "--{l}{}",
            if arg.get_num_args().is_some_and(|n| n.takes_values()) {
                value
            } else {
                String::new()
            }
        ),
        _ => value.trim().to_string(),
    }
}

/// Text safe in roff: backslashes, hyphens and leading dots escaped.
fn roff(s: &str) -> String {
    let escaped = s.replace('\\', "\\e").replace('-', "\\-");
    escaped
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
