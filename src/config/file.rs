//! `tsmigrate.toml`: what the file may say, and reading it with errors that
//! name the file and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    pub clusters: BTreeMap<String, Profile>,
    #[serde(default)]
    pub migrate: MigrateSection,
    /// Mapping files, each for one pair of environments.
    #[serde(default)]
    pub maps: Vec<MapEntry>,
}

/// `[[maps]]`: the mapping file for `source` → `target` (profile names).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MapEntry {
    pub source: String,
    pub target: String,
    /// Relative to the config file's directory.
    pub file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    pub url: String,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub token_env: Option<String>,
    /// Trusted authentication: the variable holding the secret key (with
    /// `username`); REST v2 only.
    pub secret_key_env: Option<String>,
    #[serde(default)]
    pub insecure_tls: bool,
    pub parallel: Option<usize>,
    /// The Org: a name or a numeric id (default: the Primary Org, 0).
    pub org: Option<toml::Value>,
    /// "v1", "v2" or "auto" (default): v1 where the cluster answers it.
    pub api: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MigrateSection {
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Only these pointers (and what is under them) take part.
    #[serde(default)]
    pub only: Vec<String>,
    /// More settings that apply writes only with --allow-protected.
    #[serde(default)]
    pub protected: Vec<String>,
    /// The first release's map for every command: now an error that says
    /// to write a `[[maps]]` entry.
    pub map: Option<toml::Value>,
    /// Concurrent writes when neither the flag nor the profile says.
    pub parallel: Option<usize>,
    /// Longest time one request may take (`"120s"`).
    pub http_timeout: Option<String>,
    /// First wait before a retry (`"200ms"`).
    pub retry_base: Option<String>,
}

pub(crate) fn read(path: &Path) -> Result<ConfigFile, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let de = toml::Deserializer::parse(&text).map_err(|e| {
        let message = e.to_string().trim_end().to_string();
        Error::parse(path.display(), message, e)
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        Error::parse(
            path.display(),
            format!("at {at}: {}", inner.message()),
            inner,
        )
    })
}
