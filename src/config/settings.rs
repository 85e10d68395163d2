//! The settings of a connection: how to reach a cluster (`Endpoint`,
//! `Credentials`, `ApiChoice`) and what every request may spend
//! (`NetOptions`, `RetryPolicy`). Plain values, decided by config and
//! read by the HTTP client, so this file imports nothing of the crate:
//! the client (a primitive) reads its settings here without importing the
//! layering point above it (`config/mod.rs` imports the pipeline).

use std::time::Duration;

#[derive(Clone)]
pub(crate) enum Credentials {
    None,
    /// A bearer token and where it came from (`$TS_TOKEN`), for messages.
    Token {
        token: String,
        source: String,
    },
    Password {
        username: String,
        password: String,
    },
    /// Trusted authentication: a token minted for `username` with the
    /// cluster's (or Org's) secret key (REST v2 `auth/token/full`), as
    /// MFA clusters need.
    SecretKey {
        username: String,
        secret_key: String,
    },
}

impl Credentials {
    /// Whether a session can log in again by itself (an expired one).
    pub(crate) fn can_log_in(&self) -> bool {
        matches!(
            self,
            Credentials::Password { .. } | Credentials::SecretKey { .. }
        )
    }
}

impl std::fmt::Debug for Credentials {
    // Never prints the secret, whatever the verbosity.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => write!(f, "none"),
            Credentials::Token { source, .. } => write!(f, "bearer token from {source}"),
            Credentials::Password { username, .. } => write!(f, "password of {username}"),
            Credentials::SecretKey { username, .. } => write!(f, "secret key for {username}"),
        }
    }
}

/// Which API to speak to a cluster (profile key `api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ApiChoice {
    /// v1 where the cluster answers it, else v2.
    #[default]
    Auto,
    V1,
    V2,
}

impl ApiChoice {
    pub(crate) fn parse(text: &str) -> Option<ApiChoice> {
        match text {
            "auto" => Some(ApiChoice::Auto),
            "v1" => Some(ApiChoice::V1),
            "v2" => Some(ApiChoice::V2),
            _ => None,
        }
    }
}

/// How to reach one cluster.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// What the user called it (profile name or URL), for messages.
    pub label: String,
    /// `scheme://host[:port][/path]`, without the API base path.
    pub url: String,
    pub credentials: Credentials,
    pub insecure_tls: bool,
    /// Where to look when the credentials are refused.
    pub credentials_hint: String,
    pub api: ApiChoice,
}

/// Network settings of every request.
#[derive(Debug, Clone)]
pub(crate) struct NetOptions {
    /// Longest time one request may take, body included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
        }
    }
}

/// When a failed call is sent again: the budget in attempts and in time,
/// and the first wait (the schedule is `api::retry`'s).
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    /// Attempts for a transient failure (connection, 429, 502/503/504).
    pub max_attempts: u32,
    /// Attempts for a 500: it is the cluster's answer, so two more at most.
    pub max_attempts_500: u32,
    /// Attempts for a 429: it promises the request was not processed, and
    /// the pacer slows down, so more tries are safe (time still bounds them).
    pub max_attempts_429: u32,
    pub base: Duration,
    pub max_delay: Duration,
    /// No retry starts later than this after the first attempt.
    pub max_total: Duration,
}

impl RetryPolicy {
    /// The policy with `base` as the first wait (tests and benchmarks
    /// shorten it; the default is 200 ms).
    pub(crate) fn with_base(base: Duration) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            max_attempts_500: 3,
            max_attempts_429: 40,
            base,
            max_delay: base.saturating_mul(40).max(Duration::from_millis(1)),
            max_total: Duration::from_secs(120),
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::with_base(Duration::from_millis(200))
    }
}
