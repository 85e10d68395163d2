//! The process environment, read once at start-up: the only place the tool
//! looks at environment variables (clap reads those of its own flags).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Variables that carry values of secret placeholders start with this.
pub const SECRET_PREFIX: &str = "TSMIGRATE_SECRET_";

#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The variables of this process (those that are valid UTF-8).
    pub fn capture() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment made of `pairs` only (tests, the demo).
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Environment {
        Environment {
            vars: pairs.into_iter().collect(),
        }
    }

    /// A set, non-empty variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn no_color(&self) -> bool {
        self.get("NO_COLOR").is_some()
    }

    /// The `TSMIGRATE_SECRET_*` variables.
    pub fn secret_vars(&self) -> BTreeMap<String, String> {
        self.vars
            .iter()
            .filter(|(k, _)| k.starts_with(SECRET_PREFIX))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Where the tool keeps its own state (journals, locks):
    /// `$XDG_STATE_HOME/tsmigrate`, else `~/.local/state/tsmigrate`.
    pub fn state_dir(&self) -> PathBuf {
        match (self.get("XDG_STATE_HOME"), self.get("HOME")) {
            (Some(x), _) if PathBuf::from(x).is_absolute() => PathBuf::from(x).join("tsmigrate"),
            (_, Some(home)) => PathBuf::from(home).join(".local/state/tsmigrate"),
            _ => std::env::temp_dir().join("tsmigrate-state"),
        }
    }
}
