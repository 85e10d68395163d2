//! `tsmigrate init`: a new snapshot repository's files — a commented
//! `tsmigrate.toml` with one profile per environment, the schemas editors
//! check it with, a `.gitignore`, and a CI workflow that posts the diff —
//! never replacing a file that exists.

use std::path::{Path, PathBuf};

use super::Context;
use crate::cli::CiKind;
use crate::error::{Error, Outcome};

const TOML_SCHEMA: &str = include_str!("../../docs/schemas/tsmigrate-toml.schema.json");
const MAP_SCHEMA: &str = include_str!("../../docs/schemas/map.schema.json");
const SECRETS_SCHEMA: &str = include_str!("../../docs/schemas/secrets.schema.json");

/// One environment: its profile name and URL.
struct Env {
    name: String,
    url: String,
}

fn parse_env(text: &str) -> Result<Env, Error> {
    let bad = || {
        Error::Usage(format!(
            "--env {text:?}: expected NAME=URL, a name of letters, digits, '-' or '_' (dev=https://dev.example.com)"
        ))
    };
    let (name, url) = text.split_once('=').ok_or_else(bad)?;
    let ok_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok_name || !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(bad());
    }
    Ok(Env {
        name: name.to_string(),
        url: url.to_string(),
    })
}

/// `TS_<NAME>_PASSWORD` for profile `name`.
fn password_var(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_uppercase(),
            false => '_',
        })
        .collect();
    format!("TS_{upper}_PASSWORD")
}

/// TOML's basic string.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

fn config_file(envs: &[Env], username: &str) -> String {
    let mut out = String::from(
        "#:schema .tsmigrate/tsmigrate-toml.schema.json\n\
         # tsmigrate.toml, written by `tsmigrate init`. One profile per environment;\n\
         # a profile's name stands for its cluster wherever a REF is asked for:\n\
         #   tsmigrate export --cluster prod --out snapshots/prod\n\
         #   tsmigrate diff --source snapshots/dev --target prod\n\
         # Secrets never go here: each profile names the variable that holds one.\n",
    );
    for e in envs {
        out.push_str(&format!(
            "\n[clusters.{}]\nurl = {}\nusername = {}\npassword_env = {}   # or token_env = \"...\" (a bearer token), or secret_key_env (trusted authentication)\n# org = \"Primary\"                 # an Org name or numeric id; default: the Primary Org (0)\n# api = \"auto\"                     # \"v1\", \"v2\" or \"auto\"\n",
            quoted_key(&e.name),
            quoted(&e.url),
            quoted(username),
            quoted(&password_var(&e.name)),
        ));
    }
    out.push_str(
        "\n[migrate]\n\
         # ignore = [\"/actions/*/detail/link\"]          # left out of every comparison and write\n\
         # protected = [\"/config/notificationConfig\"]   # refused by apply without --allow-protected, besides the built-in ones\n",
    );
    if let [first, second, ..] = envs {
        out.push_str(&format!(
            "\n# Objects have other GUIDs on each cluster: make the map with\n#   tsmigrate map generate --source {a} --target {b} --out maps/{a}-{b}.json\n# [[maps]]\n# source = {qa}\n# target = {qb}\n# file = \"maps/{a}-{b}.json\"\n",
            a = first.name,
            b = second.name,
            qa = quoted(&first.name),
            qb = quoted(&second.name),
        ));
    }
    out
}

/// A table key: bare where TOML allows it.
fn quoted_key(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        name.to_string()
    } else {
        quoted(name)
    }
}

const GITIGNORE: &str = "\
# Written by `tsmigrate init`.
# Secret values never belong in git (snapshots hold placeholders only).
secrets.json
*.secrets.json
.env
# An export's staging directory, if one is ever left behind.
.tsmigrate-export-*/
";

fn github_workflow(source: &Env, targets: &[Env]) -> String {
    let mut steps = String::new();
    for t in targets {
        let var = password_var(&t.name);
        steps.push_str(&format!(
            "      - name: diff snapshots/{s} -> {t}\n        env:\n          {var}: ${{{{ secrets.{var} }}}}\n        run: |\n          set +e\n          tsmigrate diff --source snapshots/{s} --target {t} --format markdown --max-bytes 60000 --exit-code > diff-{t}.md\n          code=$?\n          cat diff-{t}.md >> \"$GITHUB_STEP_SUMMARY\"\n          # 0: no differences, 2: differences (shown above); anything else failed.\n          [ \"$code\" = 0 ] || [ \"$code\" = 2 ]\n",
            s = source.name,
            t = t.name,
        ));
    }
    format!(
        "# Written by `tsmigrate init`: on every pull request, the diff of the\n\
         # snapshot of {s} against each other environment, in the job's summary.\n\
         # Give each cluster's password as a repository secret of the same name.\n\
         name: tsmigrate\n\
         on:\n  pull_request:\n  workflow_dispatch:\n\
         permissions:\n  contents: read\n\
         jobs:\n  diff:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - name: install tsmigrate\n        run: cargo install --locked tsmigrate\n{steps}",
        s = source.name,
    )
}

fn gitlab_ci(source: &Env, targets: &[Env]) -> String {
    let mut script = String::new();
    for t in targets {
        script.push_str(&format!(
            "    - tsmigrate diff --source snapshots/{s} --target {t} --format markdown --max-bytes 60000 --exit-code > diff-{t}.md || [ $? = 2 ]\n",
            s = source.name,
            t = t.name,
        ));
    }
    format!(
        "# Written by `tsmigrate init`: on every merge request, the diff of the\n\
         # snapshot of {s} against each other environment, kept as artifacts.\n\
         # Give each cluster's password as a CI/CD variable (TS_<NAME>_PASSWORD, masked).\n\
         tsmigrate-diff:\n  image: rust:latest\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n  script:\n    - cargo install --locked tsmigrate\n{script}  artifacts:\n    paths:\n      - diff-*.md\n",
        s = source.name,
    )
}

pub fn run(
    ctx: &Context,
    dir: &Path,
    envs: &[String],
    username: &str,
    ci: CiKind,
) -> Result<Outcome, Error> {
    let mut parsed = Vec::new();
    for e in envs {
        parsed.push(parse_env(e)?);
    }
    if parsed.is_empty() {
        parsed = vec![
            parse_env("dev=https://dev.example.com")?,
            parse_env("prod=https://prod.example.com")?,
        ];
        ctx.printer.warn(
            "no --env NAME=URL given: the profiles dev and prod point at example.com; edit their URLs",
        );
    }
    let [source, targets @ ..] = parsed.as_slice() else {
        return Err(Error::Usage("no environment".into()));
    };
    if targets.is_empty() {
        return Err(Error::Usage(
            "give two environments or more (--env dev=URL --env prod=URL): a migration goes from one to another".into(),
        ));
    }
    for (i, e) in parsed.iter().enumerate() {
        if parsed[..i].iter().any(|o| o.name == e.name) {
            return Err(Error::Usage(format!("--env {}: named twice", e.name)));
        }
    }
    let mut files: Vec<(PathBuf, String)> = vec![
        (dir.join("tsmigrate.toml"), config_file(&parsed, username)),
        (dir.join(".gitignore"), GITIGNORE.to_string()),
        (
            dir.join(".tsmigrate/tsmigrate-toml.schema.json"),
            TOML_SCHEMA.to_string(),
        ),
        (
            dir.join(".tsmigrate/map.schema.json"),
            MAP_SCHEMA.to_string(),
        ),
        (
            dir.join(".tsmigrate/secrets.schema.json"),
            SECRETS_SCHEMA.to_string(),
        ),
    ];
    match ci {
        CiKind::Github => files.push((
            dir.join(".github/workflows/tsmigrate.yml"),
            github_workflow(source, targets),
        )),
        CiKind::Gitlab => files.push((dir.join(".gitlab-ci.yml"), gitlab_ci(source, targets))),
        CiKind::None => {}
    }
    // Nothing is written if anything would be replaced.
    let existing: Vec<String> = files
        .iter()
        .filter(|(p, _)| std::fs::symlink_metadata(p).is_ok())
        .map(|(p, _)| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Error::Usage(format!(
            "init never replaces a file, and these exist: {}; nothing was written",
            existing.join(", ")
        )));
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .map_err(|e| Error::io(path, e))?;
        ctx.printer.info(&format!("wrote {}", path.display()));
    }
    let first = &source.name;
    ctx.printer.text(&format!(
        "Next: set {} (and the others' variables), then\n  tsmigrate export --cluster {first} --out snapshots/{first}\n  tsmigrate diff --source snapshots/{first} --target {}\n",
        password_var(first),
        targets[0].name
    ))?;
    Ok(Outcome::Success)
}
