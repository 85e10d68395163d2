//! The one layering point of settings (flag, then environment, then
//! `tsmigrate.toml`, then the default) for every setting and command;
//! profiles and cluster references (REF); ignore rules, mapping and secret
//! values. Nothing from clap reaches below here: commands hand over plain
//! `Options`.

pub(crate) mod env;
pub(crate) mod file;
pub(crate) mod settings;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use env::Environment;
pub(crate) use file::{ConfigFile, Profile};

use settings::{ApiChoice, Credentials, Endpoint, NetOptions, RetryPolicy};

use crate::error::Error;
use crate::mapping::Mapping;
use crate::model::OrgSpec;
use crate::secrets::SecretValues;
use crate::select::{Rule, Selection};

/// Default concurrent writes.
pub(crate) const DEFAULT_PARALLEL: usize = 8;

/// Options shared by every command, as given on the command line (flags,
/// and the variables clap reads for them).
#[derive(Debug, Default, Clone)]
pub(crate) struct Options {
    pub config: Option<PathBuf>,
    pub map: Option<PathBuf>,
    pub no_map: bool,
    pub ignore: Vec<String>,
    pub only: Vec<String>,
    pub secrets: Option<PathBuf>,
    pub allow_http: bool,
    pub no_default_ignores: bool,
    pub http_timeout: Option<Duration>,
    pub retry_base: Option<Duration>,
}

/// The checked settings.
#[derive(Debug)]
pub(crate) struct Settings {
    pub config_path: Option<PathBuf>,
    pub file: ConfigFile,
    pub selection: Selection,
    pub maps: MapChoice,
    pub secrets: SecretValues,
    /// Settings apply writes only when asked (`select::DEFAULT_PROTECTED`
    /// and `[migrate] protected`).
    pub protected: Vec<Rule>,
    pub allow_http: bool,
    pub net: NetOptions,
    /// Concurrent writes when neither a flag nor a profile says.
    pub parallel: usize,
    /// Journals and locks live under here.
    pub state_dir: PathBuf,
    pub env: Environment,
}

/// Which mapping file applies between two sides.
#[derive(Debug, Clone)]
pub(crate) enum MapChoice {
    /// `--map FILE`.
    Given(PathBuf),
    /// `--no-map`.
    Disabled,
    /// The `[[maps]]` entries, files resolved against the config file.
    ByProfiles(Vec<file::MapEntry>),
}

/// The Orgs the two sides are named in (`--source-org`, `--target-org`):
/// each overrides the profile's `org`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SideOrgs {
    pub source: Option<String>,
    pub target: Option<String>,
}

/// A live cluster named by a REF.
#[derive(Debug, Clone)]
pub(crate) struct LiveRef {
    pub endpoint: Endpoint,
    /// The profile's `parallel`.
    pub parallel: Option<usize>,
    /// The profile it is (by name, or by URL), for `[[maps]]`.
    pub profile: Option<String>,
    /// The Org (`--source-org`/`--target-org`/`--org`, else the profile's
    /// `org`); `None` is the Primary Org.
    pub org: Option<OrgSpec>,
}

impl LiveRef {
    /// The Org to work in: the one named, else the Primary Org.
    pub(crate) fn org_spec(&self) -> OrgSpec {
        self.org
            .clone()
            .unwrap_or(OrgSpec::Id(crate::model::PRIMARY_ORG))
    }
}

/// What a REF names.
#[derive(Debug, Clone)]
pub(crate) enum ClusterRef {
    Live(LiveRef),
    /// A snapshot directory, and the Org a flag says it must be of.
    Snapshot(PathBuf, Option<OrgSpec>),
}

impl ClusterRef {
    pub(crate) fn label(&self) -> String {
        match self {
            ClusterRef::Live(l) => l.endpoint.label.clone(),
            ClusterRef::Snapshot(p, _) => p.display().to_string(),
        }
    }
}

impl Settings {
    pub(crate) fn load(opts: &Options, env: Environment) -> Result<Settings, Error> {
        let config_path = opts
            .config
            .clone()
            .or_else(|| Some(PathBuf::from("tsmigrate.toml")).filter(|p| p.is_file()));
        let file = match &config_path {
            Some(path) => file::read(path)?,
            None => ConfigFile::default(),
        };
        let file_name = config_path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let base = config_path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if file.migrate.map.is_some() {
            return Err(Error::input(
                &file_name,
                "migrate.map: a map now belongs to a pair of environments; write a [[maps]] entry instead (source = \"dev\", target = \"prod\", file = \"maps/dev-prod.json\"), or pass --map FILE",
            ));
        }
        let mut selection = Selection::default();
        if !opts.no_default_ignores {
            selection.ignore.extend(crate::select::default_rules());
            selection.defaults = selection.ignore.len();
        }
        let rule = |text: &String, key: &str| {
            Rule::parse(text).map_err(|e| match e {
                Error::Usage(m) => Error::Usage(format!("{key} {m}")),
                other => other,
            })
        };
        for text in &file.migrate.ignore {
            selection
                .ignore
                .push(rule(text, &format!("{file_name}: migrate.ignore:"))?);
        }
        for text in &opts.ignore {
            selection.ignore.push(rule(text, "--ignore")?);
        }
        for text in &file.migrate.only {
            selection
                .only
                .push(rule(text, &format!("{file_name}: migrate.only:"))?);
        }
        for text in &opts.only {
            selection.only.push(rule(text, "--only")?);
        }
        let mut protected = crate::select::default_protected();
        for text in &file.migrate.protected {
            protected.push(rule(text, &format!("{file_name}: migrate.protected:"))?);
        }
        let maps = match (&opts.map, opts.no_map) {
            (Some(p), _) => MapChoice::Given(p.clone()),
            (None, true) => MapChoice::Disabled,
            (None, false) => MapChoice::ByProfiles(
                file.maps
                    .iter()
                    .map(|m| file::MapEntry {
                        file: base.join(&m.file),
                        ..m.clone()
                    })
                    .collect(),
            ),
        };
        for (i, m) in file.maps.iter().enumerate() {
            for (key, name) in [("source", &m.source), ("target", &m.target)] {
                if !file.clusters.contains_key(name) {
                    return Err(Error::input(
                        &file_name,
                        format!("maps[{i}].{key}: {name:?} is not a profile of [clusters]"),
                    ));
                }
            }
        }
        if let MapChoice::Given(p) = &maps {
            Mapping::check_file(p)?;
        }
        let secrets = SecretValues::new(opts.secrets.as_deref(), env.secret_vars())?;
        let duration = |value: &Option<String>, key: &str| -> Result<Option<Duration>, Error> {
            match value {
                None => Ok(None),
                Some(text) => humantime::parse_duration(text).map(Some).map_err(|e| {
                    Error::parse(
                        &file_name,
                        format!("migrate.{key}: {text:?} is not a duration ({e})"),
                        e,
                    )
                }),
            }
        };
        let timeout = opts
            .http_timeout
            .or(duration(&file.migrate.http_timeout, "http_timeout")?)
            .unwrap_or(Duration::from_secs(120));
        let retry_base = opts
            .retry_base
            .or(duration(&file.migrate.retry_base, "retry_base")?)
            .unwrap_or(Duration::from_millis(200));
        if file.migrate.parallel == Some(0) {
            return Err(Error::input(
                &file_name,
                "migrate.parallel: must be at least 1",
            ));
        }
        Ok(Settings {
            config_path,
            selection,
            maps,
            secrets,
            protected,
            allow_http: opts.allow_http,
            net: NetOptions {
                timeout,
                retry: RetryPolicy::with_base(retry_base),
            },
            parallel: file.migrate.parallel.unwrap_or(DEFAULT_PARALLEL),
            state_dir: env.state_dir(),
            file,
            env,
        })
    }

    /// Concurrent writes for `target`: the flag, else the profile's, else
    /// `[migrate] parallel`, else 8.
    pub(crate) fn parallel_for(&self, target: &ClusterRef, flag: Option<usize>) -> usize {
        let profile = match target {
            ClusterRef::Live(l) => l.parallel,
            ClusterRef::Snapshot(..) => None,
        };
        flag.or(profile).unwrap_or(self.parallel).max(1)
    }

    /// Where apply journals go by default: made, and checked private to
    /// this user, with the state directory (`state_subdir`).
    pub(crate) fn journal_dir(&self) -> Result<PathBuf, Error> {
        self.state_subdir("journals")
    }

    /// Where the targets' locks are: see `journal_dir`.
    pub(crate) fn lock_dir(&self) -> Result<PathBuf, Error> {
        self.state_subdir("locks")
    }

    /// The state directory's `name`, both made (mode 0700) if missing and
    /// refused unless a directory of this user's alone: journals hold
    /// secrets, and a lock another user can replace guards nothing.
    fn state_subdir(&self, name: &str) -> Result<PathBuf, Error> {
        let sub = self.state_dir.join(name);
        for dir in [&self.state_dir, &sub] {
            crate::fsutil::private_dir(dir).map_err(|why| {
                Error::input(
                    dir.display(),
                    format!("refused as tsmigrate's state directory: it {why}. Journals hold secrets and locks guard applies, so it must be a directory of its own, owned by this user, mode 0700: fix it, or set XDG_STATE_HOME to another place"),
                )
            })?;
        }
        Ok(sub)
    }

    /// Resolves every REF of a command at once, so that what is wrong with
    /// each (an unset variable, an unknown profile) is told in one run,
    /// not one per run.
    pub(crate) fn resolve_all(
        &self,
        refs: &[(&str, Option<&str>)],
    ) -> Result<Vec<ClusterRef>, Error> {
        let mut out = Vec::with_capacity(refs.len());
        let mut errors: Vec<Error> = Vec::new();
        for (text, org) in refs {
            match self.resolve_in(text, *org) {
                Ok(r) => out.push(r),
                Err(e) => errors.push(e),
            }
        }
        match errors.len() {
            0 => Ok(out),
            1 => Err(errors.remove(0)),
            n => {
                let mut lines: Vec<String> = errors.iter().map(Error::to_string).collect();
                lines.dedup();
                Err(Error::Usage(format!(
                    "{n} problems with the clusters named:\n  {}",
                    lines.join("\n  ")
                )))
            }
        }
    }

    /// Resolves a REF in an Org: `org` (a flag) overrides the profile's.
    pub(crate) fn resolve_in(&self, text: &str, org: Option<&str>) -> Result<ClusterRef, Error> {
        let r = self.resolve(text)?;
        let Some(flag) = org else { return Ok(r) };
        let spec = OrgSpec::parse(flag);
        Ok(match r {
            ClusterRef::Live(mut l) => {
                l.org = Some(spec);
                ClusterRef::Live(l)
            }
            ClusterRef::Snapshot(p, _) => ClusterRef::Snapshot(p, Some(spec)),
        })
    }

    /// Resolves a REF: a profile, a URL, or a snapshot directory.
    pub(crate) fn resolve(&self, text: &str) -> Result<ClusterRef, Error> {
        if let Some(profile) = self.file.clusters.get(text) {
            return self.profile_ref(text, profile);
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            let credentials = if let Some(token) = self.env.get("TS_TOKEN") {
                Credentials::Token {
                    token: token.to_string(),
                    source: "$TS_TOKEN".into(),
                }
            } else if let (Some(username), Some(password)) =
                (self.env.get("TS_USERNAME"), self.env.get("TS_PASSWORD"))
            {
                Credentials::Password {
                    username: username.to_string(),
                    password: password.to_string(),
                }
            } else {
                Credentials::None
            };
            remember_credentials(&credentials);
            let url = check_url(text, text, self.allow_http)?;
            let credentials_hint = match &credentials {
                Credentials::Token { .. } => {
                    "the token in $TS_TOKEN was refused; it may have expired: set a fresh one"
                        .into()
                }
                Credentials::Password { .. } => "check $TS_USERNAME and $TS_PASSWORD".into(),
                // Only profiles hold a secret key.
                Credentials::SecretKey { .. } => "check the secret key".into(),
                Credentials::None => "set TS_TOKEN, or TS_USERNAME and TS_PASSWORD (or name a profile of tsmigrate.toml, which has its own)".into(),
            };
            let endpoint = Endpoint {
                label: url.clone(),
                url,
                credentials,
                insecure_tls: false,
                credentials_hint,
                api: ApiChoice::Auto,
            };
            let profile = self.profile_for_url(&endpoint.url);
            return Ok(ClusterRef::Live(LiveRef {
                endpoint,
                parallel: None,
                profile,
                org: None,
            }));
        }
        let path = PathBuf::from(text);
        if path.is_dir() {
            if !crate::snapshot::is_snapshot(&path) {
                return Err(Error::Usage(format!(
                    "{text}: the directory is not a tsmigrate snapshot (no {})",
                    crate::snapshot::META_FILE
                )));
            }
            return Ok(ClusterRef::Snapshot(path, None));
        }
        let where_ = match &self.config_path {
            Some(p) => format!("a profile in {}", p.display()),
            None => "a profile (no tsmigrate.toml found)".into(),
        };
        let known: Vec<&str> = self.file.clusters.keys().map(String::as_str).collect();
        let listed = match known.is_empty() {
            true => String::new(),
            false => format!("; the profiles are: {}", known.join(", ")),
        };
        Err(Error::Usage(format!(
            "{text:?} is not {where_}, a URL (http[s]://host[:port]) or a snapshot directory{listed}"
        )))
    }

    /// The profile whose URL is `url`, if one is.
    pub(crate) fn profile_for_url(&self, url: &str) -> Option<String> {
        let norm = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
        self.file
            .clusters
            .iter()
            .find(|(_, p)| norm(&p.url) == norm(url))
            .map(|(name, _)| name.clone())
    }

    /// The mapping between two sides (profile names and URLs): `--map`
    /// as given; else the `[[maps]]` entry for that pair, inverted when
    /// used the other way; never between a side and itself.
    pub(crate) fn mapping_between(
        &self,
        source: (Option<&str>, &str, i64),
        target: (Option<&str>, &str, i64),
    ) -> Result<Option<Mapping>, Error> {
        let norm = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
        // A side is a cluster and an Org: two Orgs of one cluster are two
        // sides (their objects' GUIDs differ), one Org is never mapped
        // against itself.
        let same_url = !source.1.is_empty() && norm(source.1) == norm(target.1);
        let same_side = same_url && source.2 == target.2;
        let same_profile = source.0.is_some() && source.0 == target.0 && source.2 == target.2;
        if same_side || same_profile {
            return Ok(None);
        }
        match &self.maps {
            MapChoice::Given(p) => Mapping::from_file_between(p, source.0.zip(target.0)).map(Some),
            MapChoice::Disabled => Ok(None),
            MapChoice::ByProfiles(entries) => {
                let (Some(s), Some(t)) = (source.0, target.0) else {
                    return Ok(None);
                };
                if let Some(m) = entries.iter().find(|m| m.source == s && m.target == t) {
                    return Mapping::from_file_between(&m.file, Some((s, t))).map(Some);
                }
                if let Some(m) = entries.iter().find(|m| m.source == t && m.target == s) {
                    let forward = Mapping::from_file_between(&m.file, Some((t, s)))?;
                    return forward
                        .inverted()
                        .map(Some)
                        .map_err(|why| Error::input(m.file.display(), format!("used from {s} to {t}, the map must be inverted, and it cannot be: {why}")));
                }
                Ok(None)
            }
        }
    }

    /// A cluster by its URL (from a journal): the profile with that URL if
    /// there is one, for its credentials, else the URL itself.
    pub(crate) fn resolve_url(&self, url: &str) -> Result<ClusterRef, Error> {
        let norm = |u: &str| u.trim_end_matches('/').to_string();
        for (name, p) in &self.file.clusters {
            if norm(&p.url) == norm(url) {
                return self.profile_ref(name, p);
            }
        }
        self.resolve(url)
    }

    fn profile_ref(&self, name: &str, p: &Profile) -> Result<ClusterRef, Error> {
        let file = self
            .config_path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let url = check_url(
            &p.url,
            &format!("{file}: clusters.{name}.url"),
            self.allow_http,
        )?;
        let env = |var: &str, field: &str| {
            self.env.get(var).map(str::to_string).ok_or_else(|| {
                Error::input(
                    &file,
                    format!("clusters.{name}.{field}: the environment variable {var} is not set"),
                )
            })
        };
        let (credentials, hint) = if let Some(var) = &p.token_env {
            (
                Credentials::Token {
                    token: env(var, "token_env")?,
                    source: format!("${var}"),
                },
                format!("the token in ${var} was refused; it may have expired: set a fresh one"),
            )
        } else if let Some(var) = &p.secret_key_env {
            let username = p.username.clone().ok_or_else(|| {
                Error::input(
                    &file,
                    format!("clusters.{name}.username: needed with secret_key_env"),
                )
            })?;
            (
                Credentials::SecretKey {
                    username: username.clone(),
                    secret_key: env(var, "secret_key_env")?,
                },
                format!("check the user {username} and the secret key in ${var} (trusted authentication must be on for the cluster, and the key be the Org's where each Org has its own)"),
            )
        } else if let Some(var) = &p.password_env {
            let username = p.username.clone().ok_or_else(|| {
                Error::input(
                    &file,
                    format!("clusters.{name}.username: needed with password_env"),
                )
            })?;
            (
                Credentials::Password {
                    username: username.clone(),
                    password: env(var, "password_env")?,
                },
                format!("check the user {username} and the password in ${var}"),
            )
        } else {
            (
                Credentials::None,
                format!("give clusters.{name} a token_env or username and password_env"),
            )
        };
        remember_credentials(&credentials);
        if p.insecure_tls {
            tracing::warn!(
                "profile {name}: insecure_tls = true, the TLS certificate of {url} is NOT verified"
            );
        }
        if p.parallel == Some(0) {
            return Err(Error::input(
                &file,
                format!("clusters.{name}.parallel: must be at least 1"),
            ));
        }
        let api = match p.api.as_deref() {
            None => ApiChoice::Auto,
            Some(text) => ApiChoice::parse(text).ok_or_else(|| {
                Error::input(
                    &file,
                    format!("clusters.{name}.api: {text:?} is not \"v1\", \"v2\" or \"auto\""),
                )
            })?,
        };
        // The secret key mints a REST v2 token (auth/token/full).
        let api = match (&credentials, api) {
            (Credentials::SecretKey { .. }, ApiChoice::V1) => {
                return Err(Error::input(
                    &file,
                    format!("clusters.{name}.api: trusted authentication (secret_key_env) speaks REST v2; set api = \"v2\" or leave it out"),
                ))
            }
            (Credentials::SecretKey { .. }, _) => ApiChoice::V2,
            (_, api) => api,
        };
        let endpoint = Endpoint {
            label: name.to_string(),
            url,
            credentials,
            insecure_tls: p.insecure_tls,
            credentials_hint: hint,
            api,
        };
        let org = match &p.org {
            None => None,
            Some(toml::Value::Integer(id)) => Some(OrgSpec::Id(*id)),
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(OrgSpec::parse(s)),
            Some(other) => {
                return Err(Error::input(
                    &file,
                    format!(
                        "clusters.{name}.org: an Org name or numeric id, not {}",
                        other.type_str()
                    ),
                ))
            }
        };
        Ok(ClusterRef::Live(LiveRef {
            endpoint,
            parallel: p.parallel,
            profile: Some(name.to_string()),
            org,
        }))
    }
}

/// Passwords and tokens are secrets of every message too.
fn remember_credentials(c: &Credentials) {
    match c {
        Credentials::Token { token, .. } => crate::secrets::remember(token),
        Credentials::Password { password, .. } => crate::secrets::remember(password),
        Credentials::SecretKey { secret_key, .. } => crate::secrets::remember(secret_key),
        Credentials::None => {}
    }
}

/// Checks a cluster URL and returns it without a trailing slash (a path,
/// for a cluster behind a reverse proxy, is kept); plain http is for
/// loopback addresses unless allowed.
pub(crate) fn check_url(url: &str, what: &str, allow_http: bool) -> Result<String, Error> {
    let parsed = reqwest::Url::parse(url).map_err(|source| Error::Url {
        what: what.to_string(),
        source,
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::Usage(format!(
            "{}: credentials do not belong in the URL; use TS_TOKEN, TS_USERNAME/TS_PASSWORD or a profile",
            crate::net::display(&parsed)
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::Usage(format!(
            "{}: a cluster URL has no query or fragment",
            crate::net::display(&parsed)
        )));
    }
    crate::net::check_scheme(&parsed, what, allow_http).map_err(Error::Usage)?;
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            check_url("http://127.0.0.1:99/x", "u", false).unwrap(),
            "http://127.0.0.1:99/x"
        );
        assert_eq!(
            check_url("https://ts.example.invalid/", "u", false).unwrap(),
            "https://ts.example.invalid"
        );
        assert!(check_url("http://prod.example.com", "u", false).is_err());
        assert!(check_url("http://prod.example.com", "u", true).is_ok());
        assert!(check_url("http://127.attacker.invalid", "u", false).is_err());
        let err = check_url("https://a:hunter2@prod.example.com", "u", false)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(check_url("ftp://x", "u", false).is_err());
    }
}
