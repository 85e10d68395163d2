//! `tsmigrate.toml` profiles, cluster references (REF), and the checked
//! settings every command runs with. Nothing from clap reaches below here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::api::{Credentials, Endpoint};
use crate::error::Error;
use crate::ignore::IgnoreRule;
use crate::mapping::Mapping;
use crate::secrets::SecretValues;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub clusters: BTreeMap<String, Profile>,
    #[serde(default)]
    pub migrate: MigrateSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub url: String,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub token_env: Option<String>,
    #[serde(default)]
    pub insecure_tls: bool,
    pub parallel: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrateSection {
    #[serde(default)]
    pub ignore: Vec<String>,
    pub map: Option<PathBuf>,
}

/// Options shared by every command, as given on the command line.
#[derive(Debug, Default, Clone)]
pub struct GlobalOptions {
    pub config: Option<PathBuf>,
    pub map: Option<PathBuf>,
    pub ignore: Vec<String>,
    pub secrets: Option<PathBuf>,
    pub allow_http: bool,
    pub no_default_ignores: bool,
}

/// The checked settings.
#[derive(Debug, Default)]
pub struct Settings {
    pub config_path: Option<PathBuf>,
    pub file: ConfigFile,
    pub ignore: Vec<IgnoreRule>,
    pub mapping: Option<Mapping>,
    pub secrets: SecretValues,
    pub allow_http: bool,
}

/// What a REF names.
#[derive(Debug, Clone)]
pub enum ClusterRef {
    Live {
        endpoint: Endpoint,
        parallel: Option<usize>,
    },
    Snapshot(PathBuf),
}

impl ClusterRef {
    pub fn label(&self) -> String {
        match self {
            ClusterRef::Live { endpoint, .. } => endpoint.label.clone(),
            ClusterRef::Snapshot(p) => p.display().to_string(),
        }
    }
}

impl Settings {
    pub fn load(opts: &GlobalOptions) -> Result<Settings, Error> {
        let config_path = opts
            .config
            .clone()
            .or_else(|| std::env::var_os("TSMIGRATE_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("tsmigrate.toml")).filter(|p| p.is_file()));
        let file = match &config_path {
            Some(path) => read_config(path)?,
            None => ConfigFile::default(),
        };
        let base = config_path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut ignore = Vec::new();
        if !opts.no_default_ignores {
            ignore.extend(crate::ignore::default_rules());
        }
        for text in file.migrate.ignore.iter().chain(&opts.ignore) {
            ignore.push(IgnoreRule::parse(text)?);
        }
        let map_path = opts
            .map
            .clone()
            .or_else(|| file.migrate.map.as_ref().map(|m| base.join(m)));
        let mapping = match map_path {
            Some(p) => Some(Mapping::from_file(&p)?),
            None => None,
        };
        let secrets = match &opts.secrets {
            Some(p) => SecretValues::from_file(p)?,
            None => SecretValues::default(),
        };
        Ok(Settings {
            config_path,
            file,
            ignore,
            mapping,
            secrets,
            allow_http: opts.allow_http,
        })
    }

    /// Resolves a REF: a profile, a URL, or a snapshot directory.
    pub fn resolve(&self, text: &str) -> Result<ClusterRef, Error> {
        if let Some(profile) = self.file.clusters.get(text) {
            return self.profile_ref(text, profile);
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            let credentials = if let Ok(token) = std::env::var("TS_TOKEN") {
                Credentials::Token(token)
            } else if let (Ok(username), Ok(password)) =
                (std::env::var("TS_USERNAME"), std::env::var("TS_PASSWORD"))
            {
                Credentials::Password { username, password }
            } else {
                Credentials::None
            };
            let url = check_url(text, text, self.allow_http)?;
            let endpoint = Endpoint {
                label: url.clone(),
                url,
                credentials,
                insecure_tls: false,
                credentials_hint: "set TS_TOKEN, or TS_USERNAME and TS_PASSWORD".into(),
            };
            return Ok(ClusterRef::Live {
                endpoint,
                parallel: None,
            });
        }
        let path = PathBuf::from(text);
        if path.is_dir() {
            if !crate::snapshot::is_snapshot(&path) {
                return Err(Error::Usage(format!(
                    "{text}: the directory is not a tsmigrate snapshot (no {})",
                    crate::snapshot::META_FILE
                )));
            }
            return Ok(ClusterRef::Snapshot(path));
        }
        let where_ = match &self.config_path {
            Some(p) => format!("a profile in {}", p.display()),
            None => "a profile (no tsmigrate.toml found)".into(),
        };
        Err(Error::Usage(format!(
            "{text:?} is not {where_}, a URL (http[s]://host[:port]) or a snapshot directory"
        )))
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
            std::env::var(var).map_err(|_| {
                Error::input(
                    &file,
                    format!("clusters.{name}.{field}: the environment variable {var} is not set"),
                )
            })
        };
        let (credentials, hint) = if let Some(var) = &p.token_env {
            (
                Credentials::Token(env(var, "token_env")?),
                format!("check the token in ${var}"),
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
        let endpoint = Endpoint {
            label: name.to_string(),
            url,
            credentials,
            insecure_tls: p.insecure_tls,
            credentials_hint: hint,
        };
        Ok(ClusterRef::Live {
            endpoint,
            parallel: p.parallel,
        })
    }
}

fn read_config(path: &Path) -> Result<ConfigFile, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let de = toml::Deserializer::parse(&text)
        .map_err(|e| Error::input(path.display(), e.to_string().trim_end().to_string()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        Error::input(
            path.display(),
            format!("at {at}: {}", e.into_inner().message()),
        )
    })
}

/// Checks a cluster URL; plain http is for loopback unless allowed.
fn check_url(url: &str, what: &str, allow_http: bool) -> Result<String, Error> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| Error::Usage(format!("{what}: not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(Error::Usage(format!(
            "{what}: expected http(s)://host[:port]"
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::Usage(format!(
            "{what}: credentials do not belong in the URL; use TS_TOKEN, TS_USERNAME/TS_PASSWORD or a profile"
        )));
    }
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host == "localhost" || host == "[::1]" || host.starts_with("127.");
    if parsed.scheme() == "http" && !loopback && !allow_http {
        return Err(Error::Usage(format!(
            "{what}: plain http to {host} would send credentials unencrypted; use https, or --allow-http if you must"
        )));
    }
    let mut base = format!("{}://{}", parsed.scheme(), host);
    if let Some(port) = parsed.port() {
        base.push_str(&format!(":{port}"));
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            check_url("http://127.0.0.1:99/x", "u", false).unwrap(),
            "http://127.0.0.1:99"
        );
        assert!(check_url("http://prod.example.com", "u", false).is_err());
        assert!(check_url("http://prod.example.com", "u", true).is_ok());
        assert!(check_url("https://a:b@prod.example.com", "u", false).is_err());
        assert!(check_url("ftp://x", "u", false).is_err());
    }
}
