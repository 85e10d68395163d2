//! One cluster URL: the connection pool and what every request to it
//! shares (the pause after a 429 with `Retry-After`, the request pacing,
//! counters), and the reading of an answer's body within a bound.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::{describe_transport, ApiError, ErrorKind};
use super::org_gate::OrgMode;
use super::pace;
use super::retry::PoolPause;
use crate::config::settings::NetOptions;

/// Largest answer we read; a larger one is an error, never a partial document.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// Counters of one host, for reports and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    /// Logical writes (a retried write counts once).
    pub writes: AtomicU64,
    /// Every request sent, retries included.
    pub requests: AtomicU64,
    /// Requests answered 429.
    pub throttled: AtomicU64,
}

/// One cluster URL: the pool, and what every request to it shares.
pub struct Host {
    pub(super) http: reqwest::Client,
    /// The cluster URL without a trailing slash.
    pub url: String,
    pub(super) pause: PoolPause,
    pub(super) pacer: pace::Pacer,
    pub stats: Stats,
    /// Per user: the waves of a cluster that keeps one Org per user.
    pub(super) gates: super::org_gate::Gates,
    /// Per user: how the cluster keeps the current Org, once found out.
    org_modes: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<OrgMode>>>>,
    /// Whether a PUT of an action keeps its associations (the docs do not
    /// say), once an apply has seen it: then the associations need not be
    /// POSTed again after every PUT.
    pub put_keeps_associations: tokio::sync::OnceCell<bool>,
}

impl Host {
    pub fn new(url: &str, insecure_tls: bool, net: &NetOptions) -> Result<Arc<Host>, ApiError> {
        let url = url.trim_end_matches('/').to_string();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10).min(net.timeout))
            .timeout(net.timeout)
            .user_agent(concat!("tsmigrate/", env!("CARGO_PKG_VERSION")));
        if insecure_tls {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        if let Some(u) = reqwest::Url::parse(&url)
            .ok()
            .filter(crate::net::is_loopback)
        {
            builder = builder.no_proxy();
            if u.scheme() == "http" {
                // Plain HTTP on this machine needs no certificate: loading
                // the system's roots (a file per CA) cost a local apply 15 ms
                // before its first request.
                builder = builder.tls_certs_only(Vec::new());
            }
        }
        let http = builder.build().map_err(|e| {
            ApiError::new(
                ErrorKind::BadResponse,
                None,
                format!("cannot build an HTTP client: {e}"),
            )
        })?;
        Ok(Arc::new(Host {
            http,
            url,
            pause: PoolPause::default(),
            pacer: pace::Pacer::default(),
            stats: Stats::default(),
            gates: Default::default(),
            org_modes: Mutex::new(HashMap::new()),
            put_keeps_associations: tokio::sync::OnceCell::new(),
        }))
    }
}

pub(super) async fn read_bounded(resp: &mut reqwest::Response) -> Result<bytes::Bytes, ApiError> {
    if resp
        .content_length()
        .is_some_and(|n| n as usize > MAX_RESPONSE_BYTES)
    {
        return Err(too_large());
    }
    let mut buf = bytes::BytesMut::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf.freeze()),
            Err(e) => {
                return Err(ApiError::new(
                    ErrorKind::Transient,
                    Some(resp.status().as_u16()),
                    format!("the answer broke off: {}", describe_transport(&e)),
                ))
            }
        }
    }
}

impl Host {
    /// Where `user`'s way of keeping the current Org is found out once.
    pub fn org_mode_of(&self, user: &str) -> Arc<tokio::sync::OnceCell<OrgMode>> {
        match self.org_modes.lock() {
            Ok(mut m) => m.entry(user.to_string()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    /// The gate of `user` (waves of one Org at a time).
    pub fn gate_of(&self, user: &str) -> Arc<super::org_gate::OrgGate> {
        self.gates.of(user)
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorKind::BadResponse,
        None,
        format!("the answer is larger than {} MiB", MAX_RESPONSE_BYTES >> 20),
    )
}
