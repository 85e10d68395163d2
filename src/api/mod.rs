//! The HTTP client of the ThoughtSpot APIs. A `Host` is one cluster URL:
//! the connection pool and what all requests to it share (the pause after a
//! 429, the request pacing, counters). A `Session` is one login on a host,
//! with its own cookies, so several Orgs of one cluster can be open at once;
//! it logs in again when the cluster forgets it. `Cluster` (cluster.rs) has
//! the typed calls.

pub mod cluster;
pub mod pace;
pub mod retry;
mod v2;
pub mod v2map;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

pub use cluster::{Cluster, OrgList};
pub use retry::PoolPause;
pub use v2map::Api;

use crate::config::settings::{ApiChoice, Credentials, Endpoint, NetOptions, RetryPolicy};
use crate::model;
use crate::signals::Abort;

/// Largest answer we read; a larger one is an error, never a partial document.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// How long a token minted for REST v2 is asked to live.
const V2_TOKEN_SECONDS: u64 = 3600;
/// A minted token this close to its end (or a fifth of its life before,
/// if that is sooner) is renewed before the next request.
const V2_TOKEN_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Could not connect, timed out, 429, 502, 503, 504: worth another try.
    Transient,
    /// 500: the cluster's own answer, often deterministic; two more tries.
    Server,
    /// 401/403: credentials refused.
    Refused,
    /// Any other 4xx: the cluster will not do this, retries do not help.
    Rejected,
    /// The answer was not what the API documents.
    BadResponse,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    /// The cluster's message, secrets masked.
    pub message: String,
    /// How many times the request was sent (a 404 on a retried DELETE
    /// means an earlier attempt did it).
    pub attempts: u32,
}

impl ApiError {
    fn new(kind: ErrorKind, status: Option<u16>, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            status,
            message: message.into(),
            attempts: 1,
        }
    }

    /// Whether the cluster answered that the thing asked for is not there.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// Which failures a call may simply send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    Transient,
    /// A create whose outcome is unknown after a transport failure: the
    /// caller looks before sending it again. 429 promises the request was
    /// not processed, so it is still retried.
    OnlyThrottled,
}

pub enum Body<'a> {
    None,
    Form(&'a [(&'a str, String)]),
    Json(&'a Value),
}

/// One API call.
pub struct Request<'a> {
    pub method: Method,
    /// Path under the cluster URL, base path included.
    pub path: &'a str,
    pub query: &'a [(&'a str, String)],
    pub body: Body<'a>,
    pub retry: Retry,
}

impl<'a> Request<'a> {
    pub fn get(path: &'a str) -> Request<'a> {
        Request {
            method: Method::GET,
            path,
            query: &[],
            body: Body::None,
            retry: Retry::Transient,
        }
    }

    /// Whether the request changes the cluster (sessions and searches do
    /// not count).
    pub fn is_write(&self) -> bool {
        self.method != Method::GET
            && !self.path.contains("/session/")
            && !self.path.contains("/auth/")
            && !self.path.ends_with("/search")
    }
}

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
    http: reqwest::Client,
    /// The cluster URL without a trailing slash.
    pub url: String,
    pause: PoolPause,
    pacer: pace::Pacer,
    pub stats: Stats,
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
        }))
    }
}

/// Cookies of one login, or the token a v2 login minted.
#[derive(Debug, Default)]
struct Auth {
    cookies: Vec<(String, String)>,
    /// A REST v2 token we minted (`auth/token/full`), and when to renew it.
    minted: Option<(String, Instant)>,
    /// Bumped by every login, so that concurrent 401s log in only once.
    generation: u64,
    logged_in: bool,
}

/// One login on a host. Cheap to share (`Arc`).
pub struct Session {
    pub host: Arc<Host>,
    pub endpoint: Endpoint,
    policy: RetryPolicy,
    auth: tokio::sync::Mutex<Auth>,
    cookie_header: Mutex<Option<String>>,
    generation: AtomicU64,
    /// Runs after every login (switching to the Org): `Cluster` sets it.
    after_login: Mutex<Option<AfterLogin>>,
    /// The Org the session works in, once entered (`None`: no Orgs).
    org: Mutex<Option<model::Org>>,
    /// The API the cluster is spoken to in (decided at `open`).
    api: Mutex<Api>,
    /// REST v2: the Org a login asks for (v2 has no switch; a login or a
    /// token carries the Org).
    login_org: Mutex<Option<i64>>,
    /// `Authorization` of every request: the user's token, or one minted.
    bearer: Mutex<Option<String>>,
}

pub type AfterLogin = Arc<
    dyn Fn(Arc<Session>) -> futures::future::BoxFuture<'static, Result<(), ApiError>> + Send + Sync,
>;

impl Session {
    /// A session on `host`; for password credentials, logs in.
    pub async fn open(
        host: Arc<Host>,
        endpoint: Endpoint,
        net: &NetOptions,
    ) -> Result<Arc<Session>, ApiError> {
        let session = Arc::new(Session {
            host,
            endpoint,
            policy: net.retry.clone(),
            auth: tokio::sync::Mutex::new(Auth::default()),
            cookie_header: Mutex::new(None),
            generation: AtomicU64::new(0),
            after_login: Mutex::new(None),
            org: Mutex::new(None),
            api: Mutex::new(Api::V1),
            login_org: Mutex::new(None),
            bearer: Mutex::new(None),
        });
        if let Credentials::Token { token, .. } = &session.endpoint.credentials {
            session.set_bearer(Some(token.clone()));
        }
        let api = match session.endpoint.api {
            ApiChoice::V1 => Api::V1,
            ApiChoice::V2 => Api::V2,
            ApiChoice::Auto => session.probe().await?,
        };
        session.set_api(api);
        if matches!(session.endpoint.credentials, Credentials::Password { .. }) {
            session.login(0).await?;
        }
        Ok(session)
    }

    /// `auto`: REST v1 where the cluster answers it, else v2. A cluster
    /// that answers v1 with 404 does not speak it.
    async fn probe(self: &Arc<Self>) -> Result<Api, ApiError> {
        let path = match &self.endpoint.credentials {
            Credentials::Password { .. } => format!("{}/session/login", model::V1_BASE),
            _ => format!("{}/admin/configinfo/overrides", model::V1_BASE),
        };
        let form;
        let req = match &self.endpoint.credentials {
            Credentials::Password { username, password } => {
                form = [
                    ("username", username.clone()),
                    ("password", password.clone()),
                    ("rememberme", "false".to_string()),
                ];
                Request {
                    method: Method::POST,
                    path: &path,
                    query: &[],
                    body: Body::Form(&form),
                    retry: Retry::Transient,
                }
            }
            _ => Request::get(&path),
        };
        match self.send_with_retries(&req, None, false).await {
            Ok(answer) => {
                // The v1 login worked: keep its session rather than log in twice.
                if matches!(self.endpoint.credentials, Credentials::Password { .. }) {
                    self.adopt_login(answer.cookies).await;
                }
                Ok(Api::V1)
            }
            Err(e) if e.status == Some(404) => Ok(Api::V2),
            Err(e) => Err(e),
        }
    }

    async fn adopt_login(&self, cookies: Vec<(String, String)>) {
        let mut auth = self.auth.lock().await;
        auth.cookies = cookies;
        auth.generation += 1;
        auth.logged_in = true;
        let header = cookie_header(&auth.cookies);
        if let Ok(mut slot) = self.cookie_header.lock() {
            *slot = header;
        }
        self.generation.store(auth.generation, Ordering::SeqCst);
    }

    /// The API this session speaks.
    pub fn api(&self) -> Api {
        self.api.lock().map(|a| *a).unwrap_or_default()
    }

    fn set_api(&self, api: Api) {
        if let Ok(mut slot) = self.api.lock() {
            *slot = api;
        }
    }

    fn set_bearer(&self, token: Option<String>) {
        if let Ok(mut slot) = self.bearer.lock() {
            *slot = token;
        }
    }

    /// REST v2: logs in again, now in Org `id` (a v2 session or token
    /// carries its Org; there is no switch).
    pub async fn login_in_org(self: &Arc<Self>, id: i64) -> Result<(), ApiError> {
        if let Ok(mut slot) = self.login_org.lock() {
            *slot = Some(id);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        self.login(generation).await
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub fn org(&self) -> Option<model::Org> {
        self.org.lock().ok().and_then(|o| o.clone())
    }

    pub fn set_org(&self, org: Option<model::Org>) {
        if let Ok(mut slot) = self.org.lock() {
            *slot = org;
        }
    }

    /// How many logins this session has made: a read that saw it change
    /// may have been answered by a session in another Org.
    pub fn logins(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Sets what runs after each later login.
    pub fn set_after_login(&self, hook: AfterLogin) {
        if let Ok(mut slot) = self.after_login.lock() {
            *slot = Some(hook);
        }
    }

    /// Logs in unless another task did since `seen_generation`.
    async fn login(self: &Arc<Self>, seen_generation: u64) -> Result<(), ApiError> {
        let mut auth = self.auth.lock().await;
        if auth.generation != seen_generation {
            return Ok(());
        }
        let Credentials::Password { username, password } = &self.endpoint.credentials else {
            return Ok(());
        };
        if self.api() == Api::V2 {
            let org = self
                .login_org
                .lock()
                .ok()
                .and_then(|o| *o)
                .unwrap_or(model::PRIMARY_ORG);
            let body = serde_json::json!({
                "username": username, "password": password,
                "org_id": org, "validity_time_in_sec": V2_TOKEN_SECONDS,
            });
            let path = format!("{}{}", model::V2_BASE, model::v2::TOKEN_FULL);
            let req = Request {
                method: Method::POST,
                path: &path,
                query: &[],
                body: Body::Json(&body),
                retry: Retry::Transient,
            };
            let resp = self.send_with_retries(&req, None, false).await?;
            let token = v2::parse_token(&resp.body, V2_TOKEN_MARGIN)?;
            self.set_bearer(Some(token.0.clone()));
            let replaced = auth.minted.replace(token);
            auth.generation += 1;
            auth.logged_in = true;
            self.generation.store(auth.generation, Ordering::SeqCst);
            drop(auth);
            // The token it replaces is of no more use: revoked (best effort).
            if let Some((old, _)) = replaced {
                self.revoke(&old).await;
            }
            // No after-login hook: a v2 login carries its Org (`login_org`).
            return Ok(());
        }
        let form = [
            ("username", username.clone()),
            ("password", password.clone()),
            ("rememberme", "false".to_string()),
        ];
        let path = format!("{}/session/login", model::V1_BASE);
        let req = Request {
            method: Method::POST,
            path: &path,
            query: &[],
            body: Body::Form(&form),
            retry: Retry::Transient,
        };
        let resp = self.send_with_retries(&req, None, false).await?;
        auth.cookies = resp.cookies;
        auth.generation += 1;
        auth.logged_in = true;
        let header = cookie_header(&auth.cookies);
        if let Ok(mut slot) = self.cookie_header.lock() {
            *slot = header;
        }
        self.generation.store(auth.generation, Ordering::SeqCst);
        drop(auth);
        let hook = self.after_login.lock().ok().and_then(|h| h.clone());
        if let Some(hook) = hook {
            hook(self.clone()).await?;
        }
        Ok(())
    }

    /// One API call with retries and, when the session has expired and we
    /// hold a password, a new login; returns the body of a 2xx answer.
    pub async fn call(
        self: &Arc<Self>,
        req: &Request<'_>,
        abort: Option<&Abort>,
    ) -> Result<bytes::Bytes, ApiError> {
        if req.is_write() {
            self.host.stats.writes.fetch_add(1, Ordering::Relaxed);
        }
        self.send_with_retries(req, abort, true)
            .await
            .map(|r| r.body)
    }

    async fn send_with_retries(
        self: &Arc<Self>,
        req: &Request<'_>,
        abort: Option<&Abort>,
        may_relogin: bool,
    ) -> Result<Answer, ApiError> {
        let started = Instant::now();
        let mut delays = retry::delays(&self.policy);
        let mut attempt = 0u32;
        let mut relogins = 0u32;
        loop {
            attempt += 1;
            if may_relogin && self.token_ending().await {
                let generation = self.generation.load(Ordering::SeqCst);
                Box::pin(self.login(generation)).await?;
            }
            self.host.pause.wait().await;
            let sent = self.host.pacer.wait().await;
            let generation = self.generation.load(Ordering::SeqCst);
            let result = self.send_once(req).await;
            let mut err = match result {
                Ok(answer) => {
                    self.host.pacer.succeeded();
                    return Ok(answer);
                }
                Err(e) => e,
            };
            err.attempts = attempt;
            if err.status == Some(429) {
                self.host.stats.throttled.fetch_add(1, Ordering::Relaxed);
                self.host.pacer.throttled(sent);
            }
            let expired = err.status == Some(401)
                && may_relogin
                && relogins < 2
                && matches!(self.endpoint.credentials, Credentials::Password { .. });
            if expired {
                relogins += 1;
                tracing::info!(
                    "{}: the session expired; logging in again",
                    self.endpoint.label
                );
                Box::pin(self.login(generation)).await?;
                attempt -= 1;
                continue;
            }
            let budget = match (err.kind, req.retry) {
                (ErrorKind::Transient, _) if err.status == Some(429) => {
                    self.policy.max_attempts_429
                }
                (ErrorKind::Transient, Retry::Transient) => self.policy.max_attempts,
                (ErrorKind::Server, Retry::Transient) => self.policy.max_attempts_500,
                _ => 1,
            };
            let aborted = abort.is_some_and(Abort::is_set);
            if attempt >= budget || started.elapsed() >= self.policy.max_total || aborted {
                return Err(err);
            }
            // A 429 without Retry-After has slowed the pacer, which spaces
            // the retry; with Retry-After the pool pause does. No backoff.
            let wait = if err.status == Some(429) {
                Duration::ZERO
            } else {
                delays.next().unwrap_or(self.policy.max_delay)
            };
            tracing::debug!(
                "{} {}: {err}; retry {attempt} in {wait:?}",
                req.method,
                req.path
            );
            match abort {
                Some(a) => {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = a.wait() => return Err(err),
                    }
                }
                None => tokio::time::sleep(wait).await,
            }
        }
    }

    async fn send_once(&self, req: &Request<'_>) -> Result<Answer, ApiError> {
        self.host.stats.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{}", self.host.url, req.path);
        let mut builder = self
            .host
            .http
            .request(req.method.clone(), url)
            .header("Accept", "application/json")
            .header(model::REQUESTED_BY.0, model::REQUESTED_BY.1);
        if !req.query.is_empty() {
            builder = builder.query(req.query);
        }
        builder = match &req.body {
            Body::None => builder,
            Body::Form(form) => builder.form(form),
            Body::Json(v) => builder.json(v),
        };
        let bearer = self.bearer.lock().ok().and_then(|b| b.clone());
        if let Some(token) = bearer {
            builder = builder.bearer_auth(token);
        }
        let cookies = self.cookie_header.lock().ok().and_then(|c| c.clone());
        if let Some(c) = cookies {
            builder = builder.header(reqwest::header::COOKIE, c);
        }
        tracing::debug!("{} {}", req.method, req.path);
        let mut resp = builder
            .send()
            .await
            .map_err(|e| ApiError::new(ErrorKind::Transient, None, describe_transport(&e)))?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if let Some(secs) = wait {
                self.host
                    .pause
                    .extend(Instant::now() + Duration::from_secs(secs.min(300)));
            }
        }
        let cookies = set_cookies(resp.headers());
        let body = read_bounded(&mut resp).await?;
        if status.is_success() {
            return Ok(Answer { body, cookies });
        }
        let kind = match status.as_u16() {
            429 | 502 | 503 | 504 => ErrorKind::Transient,
            500 => ErrorKind::Server,
            401 | 403 => ErrorKind::Refused,
            s if s >= 500 => ErrorKind::Transient,
            _ => ErrorKind::Rejected,
        };
        Err(ApiError::new(
            kind,
            Some(status.as_u16()),
            error_message(&body),
        ))
    }

    /// `auth/token/revoke` of a token we minted (best effort, once).
    async fn revoke(&self, token: &str) {
        let body = serde_json::json!({ "token": token });
        let path = format!("{}{}", model::V2_BASE, model::v2::TOKEN_REVOKE);
        let req = Request {
            method: Method::POST,
            path: &path,
            query: &[],
            body: Body::Json(&body),
            retry: Retry::Transient,
        };
        let _ = self.send_once(&req).await;
    }

    /// Whether a token we minted is about to end (renewed before use).
    async fn token_ending(&self) -> bool {
        let auth = self.auth.lock().await;
        auth.minted
            .as_ref()
            .is_some_and(|(_, renew_at)| Instant::now() >= *renew_at)
    }

    /// Ends the session on the cluster (best effort) if we opened one: a
    /// v1 logout, or the revocation of a v2 token we minted (never of the
    /// user's own token).
    pub async fn close(&self) {
        let mut auth = self.auth.lock().await;
        if !auth.logged_in {
            return;
        }
        auth.logged_in = false;
        if let Some((token, _)) = auth.minted.take() {
            drop(auth);
            self.revoke(&token).await;
            return;
        }
        let path = format!("{}/session/logout", model::V1_BASE);
        let req = Request {
            method: Method::POST,
            path: &path,
            query: &[],
            body: Body::None,
            retry: Retry::Transient,
        };
        let _ = self.send_once(&req).await;
    }
}

struct Answer {
    body: bytes::Bytes,
    cookies: Vec<(String, String)>,
}

fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let pair = v.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            Some((name.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

fn cookie_header(cookies: &[(String, String)]) -> Option<String> {
    if cookies.is_empty() {
        return None;
    }
    Some(
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// The sessions a command opened; all are closed when it ends.
#[derive(Default)]
pub struct Sessions(Mutex<Vec<Arc<Session>>>);

impl Sessions {
    pub fn register(&self, s: &Arc<Session>) {
        if let Ok(mut list) = self.0.lock() {
            list.push(s.clone());
        }
    }

    pub async fn close_all(&self) {
        let list: Vec<Arc<Session>> = match self.0.lock() {
            Ok(mut l) => std::mem::take(&mut *l),
            Err(_) => return,
        };
        futures::future::join_all(list.iter().map(|s| s.close())).await;
    }
}

async fn read_bounded(resp: &mut reqwest::Response) -> Result<bytes::Bytes, ApiError> {
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

fn too_large() -> ApiError {
    ApiError::new(
        ErrorKind::BadResponse,
        None,
        format!("the answer is larger than {} MiB", MAX_RESPONSE_BYTES >> 20),
    )
}

pub(crate) fn parse_body(body: &[u8], path: &str) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorKind::BadResponse,
            None,
            format!("{path} answered something that is not the JSON the API documents ({e})"),
        )
    })
}

pub(crate) fn bad_shape(path: &str, expected: &str, got: &Value) -> ApiError {
    ApiError::new(
        ErrorKind::BadResponse,
        None,
        format!(
            "{path} answered {} where the API documents {expected}",
            model::kind_of(got)
        ),
    )
}

/// The message of an error answer (v1 `{"message"}`, v2
/// `{"error": {"message": {...}}}`, or text), secrets masked.
fn error_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v2map::error_text(&v).or_else(|| json_message(&v)),
        Err(_) => None,
    };
    let text = text.unwrap_or_else(|| {
        let raw = String::from_utf8_lossy(body);
        let raw = raw.trim();
        if raw.is_empty() {
            "no details in the answer".into()
        } else {
            raw.chars().take(300).collect()
        }
    });
    crate::secrets::mask_cluster_text(&text)
}

fn json_message(v: &Value) -> Option<String> {
    for key in ["message", "description", "debug"] {
        match v.get(key) {
            Some(Value::String(m)) => return Some(m.clone()),
            Some(inner @ Value::Object(_)) => {
                if let Some(m) = json_message(inner) {
                    return Some(m);
                }
            }
            _ => {}
        }
    }
    match v.get("error") {
        Some(Value::String(m)) => Some(m.clone()),
        Some(inner @ Value::Object(_)) => json_message(inner),
        _ => None,
    }
}

fn describe_transport(e: &reqwest::Error) -> String {
    // reqwest's messages can carry the URL, never credentials: those are
    // in form bodies and headers, which it does not print.
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        let mut msg = "could not connect".to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            msg = format!("could not connect: {s}");
            src = s.source();
        }
        msg
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_of_v1_and_v2_errors() {
        let v1 = json!({"code": 400, "message": "bad"});
        assert_eq!(json_message(&v1).unwrap(), "bad");
        let v2 = json!({"error": {"message": {"code": 10002, "debug": "Invalid parameter"}}});
        assert_eq!(json_message(&v2).unwrap(), "Invalid parameter");
        assert_eq!(error_message(b""), "no details in the answer");
    }

    #[test]
    fn cookies_round_trip() {
        let mut h = reqwest::header::HeaderMap::new();
        h.append(
            reqwest::header::SET_COOKIE,
            "JSESSIONID=abc; Path=/; HttpOnly".parse().unwrap(),
        );
        h.append(reqwest::header::SET_COOKIE, "clientId=x".parse().unwrap());
        let c = set_cookies(&h);
        assert_eq!(cookie_header(&c).unwrap(), "JSESSIONID=abc; clientId=x");
    }
}
