//! The HTTP client of the ThoughtSpot v1 API: authentication (session or
//! bearer), the headers every call needs, bounded bodies, and retries.

pub mod retry;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

pub use retry::{PoolPause, RetryPolicy};

/// The API's base path under the cluster URL.
pub const API_PREFIX: &str = "/callosum/v1/tspublic/v1";
/// Largest answer we read; a larger one is an error, never a partial document.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

#[derive(Clone)]
pub enum Credentials {
    None,
    Token(String),
    Password { username: String, password: String },
}

impl std::fmt::Debug for Credentials {
    // Never prints the secret, whatever the verbosity.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => write!(f, "none"),
            Credentials::Token(_) => write!(f, "bearer token"),
            Credentials::Password { username, .. } => write!(f, "password of {username}"),
        }
    }
}

/// How to reach one cluster.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// What the user called it (profile name or URL), for messages.
    pub label: String,
    /// `scheme://host[:port]`, without the API prefix.
    pub url: String,
    pub credentials: Credentials,
    pub insecure_tls: bool,
    /// Where to look when the credentials are refused.
    pub credentials_hint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Could not connect, timed out, or the server was overloaded (5xx, 429).
    Transient,
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
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// Whether a failed call may simply be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    Transient,
    /// The outcome of a create is unknown after a transport failure: the
    /// caller must look before sending it again. 429 is still retried, as
    /// it promises the request was not processed.
    OnlyThrottled,
}

pub struct Client {
    http: reqwest::Client,
    pub endpoint: Endpoint,
    api: String,
    pub policy: RetryPolicy,
    pause: PoolPause,
    writes: Arc<AtomicU64>,
}

pub type Form<'a> = &'a [(&'a str, String)];

impl Client {
    /// Builds the client and, for password credentials, logs in.
    pub async fn connect(endpoint: Endpoint) -> Result<Client, ApiError> {
        let url = endpoint.url.trim_end_matches('/').to_string();
        let mut builder = reqwest::Client::builder()
            .cookie_store(true)
            .connect_timeout(Duration::from_secs(10))
            .timeout(request_timeout())
            .user_agent(concat!("tsmigrate/", env!("CARGO_PKG_VERSION")));
        if endpoint.insecure_tls {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        if is_loopback_url(&url) {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| ApiError {
            kind: ErrorKind::BadResponse,
            status: None,
            message: format!("cannot build an HTTP client: {e}"),
        })?;
        let client = Client {
            http,
            api: format!("{url}{API_PREFIX}"),
            endpoint,
            policy: RetryPolicy::default(),
            pause: PoolPause::default(),
            writes: Arc::new(AtomicU64::new(0)),
        };
        if let Credentials::Password { username, password } = &client.endpoint.credentials {
            let form = [
                ("username", username.clone()),
                ("password", password.clone()),
                ("rememberme", "false".to_string()),
            ];
            client
                .call(
                    Method::POST,
                    "/session/login",
                    Some(&form),
                    &[],
                    Retry::Transient,
                )
                .await?;
        }
        Ok(client)
    }

    /// Writes sent so far (requests that change the cluster).
    pub fn writes_sent(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// One API call with retries; returns the body of a 2xx answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        form: Option<Form<'_>>,
        query: &[(&str, String)],
        retry: Retry,
    ) -> Result<bytes::Bytes, ApiError> {
        let started = Instant::now();
        let is_write = method != Method::GET && !path.starts_with("/session/");
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.pause.wait().await;
            if is_write {
                self.writes.fetch_add(1, Ordering::Relaxed);
            }
            let result = self.send_once(&method, path, form, query).await;
            let err = match result {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            let retriable = match (err.kind, retry) {
                (ErrorKind::Transient, Retry::Transient) => true,
                (ErrorKind::Transient, Retry::OnlyThrottled) => err.status == Some(429),
                _ => false,
            };
            if !retriable
                || attempt >= self.policy.max_attempts
                || started.elapsed() >= self.policy.max_total
            {
                return Err(err);
            }
            let wait = self.policy.delay(attempt);
            tracing::debug!("{method} {path}: {err}; retry {attempt} in {wait:?}");
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        form: Option<Form<'_>>,
        query: &[(&str, String)],
    ) -> Result<bytes::Bytes, ApiError> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.api))
            .header("Accept", "application/json")
            .header("X-Requested-By", "ThoughtSpot");
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(form) = form {
            req = req.form(form);
        }
        if let Credentials::Token(token) = &self.endpoint.credentials {
            req = req.bearer_auth(token);
        }
        tracing::debug!("{method} {path}");
        let mut resp = req.send().await.map_err(|e| ApiError {
            kind: ErrorKind::Transient,
            status: None,
            message: describe_transport(&e),
        })?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(1);
            self.pause
                .extend(Instant::now() + Duration::from_secs(wait.min(300)));
        }
        let body = read_bounded(&mut resp).await?;
        if status.is_success() {
            return Ok(body);
        }
        let kind = if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            ErrorKind::Transient
        } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            ErrorKind::Refused
        } else {
            ErrorKind::Rejected
        };
        Err(ApiError {
            kind,
            status: Some(status.as_u16()),
            message: error_message(&body),
        })
    }

    async fn get_json(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ApiError> {
        let body = self
            .call(Method::GET, path, None, query, Retry::Transient)
            .await?;
        parse_body(&body, path)
    }

    pub async fn configinfo(&self) -> Result<Map<String, Value>, ApiError> {
        match self.get_json("/admin/configinfo", &[]).await? {
            Value::Object(m) => Ok(m),
            other => Err(bad_shape("/admin/configinfo", "an object", &other)),
        }
    }

    pub async fn overrides(&self) -> Result<Map<String, Value>, ApiError> {
        match self.get_json("/admin/configinfo/overrides", &[]).await? {
            Value::Object(m) => Ok(m),
            other => Err(bad_shape(
                "/admin/configinfo/overrides",
                "an object",
                &other,
            )),
        }
    }

    pub async fn actions(&self) -> Result<Vec<Value>, ApiError> {
        match self.get_json("/admin/embed/actions", &[]).await? {
            Value::Array(a) => Ok(a),
            other => Err(bad_shape("/admin/embed/actions", "an array", &other)),
        }
    }

    pub async fn object_headers(&self) -> Result<Vec<Value>, ApiError> {
        match self.get_json("/metadata/listobjectheaders", &[]).await? {
            Value::Array(a) => Ok(a),
            other => Err(bad_shape("/metadata/listobjectheaders", "an array", &other)),
        }
    }

    pub async fn update_config(&self, changes: &Map<String, Value>) -> Result<(), ApiError> {
        let form = [("configchanges", Value::Object(changes.clone()).to_string())];
        self.call(
            Method::POST,
            "/admin/configinfo/update",
            Some(&form),
            &[],
            Retry::Transient,
        )
        .await
        .map(|_| ())
    }

    /// Creates an action; on a transport failure the caller must look the
    /// name up before sending it again.
    pub async fn create_action(&self, action: &Value) -> Result<Value, ApiError> {
        let form = [("embedaction", action.to_string())];
        let body = self
            .call(
                Method::POST,
                "/admin/embed/actions",
                Some(&form),
                &[],
                Retry::OnlyThrottled,
            )
            .await?;
        parse_body(&body, "/admin/embed/actions")
    }

    pub async fn update_action(&self, id: &str, action: &Value) -> Result<(), ApiError> {
        let form = [("embedaction", action.to_string())];
        let path = format!("/admin/embed/actions/{id}");
        self.call(Method::PUT, &path, Some(&form), &[], Retry::Transient)
            .await
            .map(|_| ())
    }

    pub async fn delete_action(&self, id: &str) -> Result<(), ApiError> {
        let path = format!("/admin/embed/actions/{id}");
        self.call(Method::DELETE, &path, None, &[], Retry::Transient)
            .await
            .map(|_| ())
    }

    pub async fn change_associations(
        &self,
        id: &str,
        map: &Value,
        add: bool,
    ) -> Result<(), ApiError> {
        let wrapper = serde_json::json!({ "actionAssociationMap": map });
        let form = [("actionassociation", wrapper.to_string())];
        let path = format!("/admin/embed/actions/{id}/associations");
        let method = if add { Method::POST } else { Method::DELETE };
        self.call(method, &path, Some(&form), &[], Retry::Transient)
            .await
            .map(|_| ())
    }

    pub async fn logout(&self) {
        if matches!(self.endpoint.credentials, Credentials::Password { .. }) {
            let _ = self
                .send_once(&Method::POST, "/session/logout", None, &[])
                .await;
        }
    }
}

/// Longest time one request may take, body included (a slow endless
/// answer is cut off): `TSMIGRATE_HTTP_TIMEOUT` seconds, default 120.
fn request_timeout() -> Duration {
    let secs = std::env::var("TSMIGRATE_HTTP_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0);
    Duration::from_secs(secs.unwrap_or(120))
}

pub(crate) fn is_loopback_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_string()))
        .is_some_and(|h| h == "localhost" || h == "[::1]" || h.starts_with("127."))
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
                return Err(ApiError {
                    kind: ErrorKind::Transient,
                    status: Some(resp.status().as_u16()),
                    message: format!("the answer broke off: {}", describe_transport(&e)),
                })
            }
        }
    }
}

fn too_large() -> ApiError {
    ApiError {
        kind: ErrorKind::BadResponse,
        status: None,
        message: format!("the answer is larger than {} MiB", MAX_RESPONSE_BYTES >> 20),
    }
}

fn parse_body(body: &[u8], path: &str) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError {
        kind: ErrorKind::BadResponse,
        status: None,
        message: format!("{path} answered something that is not the JSON the API documents ({e})"),
    })
}

fn bad_shape(path: &str, expected: &str, got: &Value) -> ApiError {
    let kind = crate::jsonfile::kind_of(got);
    ApiError {
        kind: ErrorKind::BadResponse,
        status: None,
        message: format!("{path} answered {kind} where the API documents {expected}"),
    }
}

fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        for key in ["message", "description", "debug", "error"] {
            if let Some(m) = v.get(key).and_then(Value::as_str) {
                return m.to_string();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "no details in the answer".into()
    } else {
        text.chars().take(200).collect()
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
