//! A fault-injecting HTTP proxy in front of a simulator, on 127.0.0.1:0.
//! Rules pick requests by method and path; each fires a number of times:
//! - `LoseAnswer`: the request reaches the cluster (which applies it), but
//!   the answer breaks off after its headers, as a lost response looks;
//! - `Echo400`: the cluster never sees it; the answer is a 400 whose
//!   message echoes the request body, as some servers do;
//! - `Hang`: the cluster never sees it; no answer comes.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    LoseAnswer,
    Echo400,
    Hang,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Method,
    /// The path (under the API base) ends with this…
    pub ends_with: String,
    /// …or contains this (empty: not checked).
    pub contains: String,
    /// …and does not contain this (empty: not checked).
    pub not_containing: String,
    pub fault: Fault,
    pub times: usize,
    /// Matching requests let through before the rule fires.
    pub skip: usize,
}

impl Rule {
    pub fn new(method: Method, fault: Fault) -> Rule {
        Rule {
            method,
            ends_with: String::new(),
            contains: String::new(),
            not_containing: String::new(),
            fault,
            times: 1,
            skip: 0,
        }
    }

    pub fn ends_with(mut self, s: &str) -> Rule {
        self.ends_with = s.into();
        self
    }

    pub fn containing(mut self, s: &str) -> Rule {
        self.contains = s.into();
        self
    }

    pub fn not_containing(mut self, s: &str) -> Rule {
        self.not_containing = s.into();
        self
    }

    pub fn times(mut self, n: usize) -> Rule {
        self.times = n;
        self
    }

    /// Fires at the (n+1)th matching request, not the first.
    pub fn skip(mut self, n: usize) -> Rule {
        self.skip = n;
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.times > 0
            && self.method == method
            && (self.ends_with.is_empty() || path.ends_with(&self.ends_with))
            && (self.contains.is_empty() || path.contains(&self.contains))
            && (self.not_containing.is_empty() || !path.contains(&self.not_containing))
    }
}

struct Shared {
    upstream: String,
    /// A path prefix the proxy serves the cluster under (a reverse proxy
    /// at `/thoughtspot`), taken off before forwarding.
    prefix: String,
    http: reqwest::Client,
    rules: Mutex<Vec<Rule>>,
    /// (method, path, fault applied)
    log: Mutex<Vec<(Method, String, Option<Fault>)>>,
}

pub struct FaultProxy {
    _rt: tokio::runtime::Runtime,
    pub url: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    pub fn start(upstream: &str, rules: Vec<Rule>) -> FaultProxy {
        Self::start_under(upstream, "", rules)
    }

    /// A proxy that serves the cluster under `prefix` only.
    pub fn start_under(upstream: &str, prefix: &str, rules: Vec<Rule>) -> FaultProxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            prefix: prefix.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            rules: Mutex::new(rules),
            log: Mutex::new(Vec::new()),
        });
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(handle).with_state(shared.clone());
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FaultProxy {
            _rt: rt,
            url,
            shared,
        }
    }

    /// The faults applied so far.
    pub fn faults_applied(&self) -> Vec<(Method, String, Fault)> {
        self.shared
            .log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(m, p, f)| f.map(|f| (m.clone(), p.clone(), f)))
            .collect()
    }

    /// Replaces the rules (those not fired yet are dropped).
    pub fn arm(&self, rules: Vec<Rule>) {
        *self.shared.rules.lock().unwrap() = rules;
    }

    /// Every rule fired as many times as it was meant to.
    pub fn all_fired(&self) -> bool {
        self.shared
            .rules
            .lock()
            .unwrap()
            .iter()
            .all(|r| r.times == 0)
    }
}

async fn handle(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let path = req.uri().path().to_string();
    let Some(path_and_query) = path_and_query.strip_prefix(&s.prefix).map(str::to_string) else {
        return (StatusCode::NOT_FOUND, "not under the prefix").into_response();
    };
    let path = path.strip_prefix(&s.prefix).unwrap_or(&path).to_string();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    let fault = {
        let mut rules = s.rules.lock().unwrap();
        rules
            .iter_mut()
            .find(|r| r.matches(&method, &path))
            .and_then(|r| {
                if r.skip > 0 {
                    r.skip -= 1;
                    return None;
                }
                r.times -= 1;
                Some(r.fault)
            })
    };
    s.log
        .lock()
        .unwrap()
        .push((method.clone(), path.clone(), fault));
    match fault {
        Some(Fault::Hang) => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        Some(Fault::Echo400) => {
            let text: String = url::form_urlencoded::parse(&body)
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            let msg =
                serde_json::json!({"code": 400, "message": format!("Invalid request: {text}")});
            (StatusCode::BAD_REQUEST, msg.to_string()).into_response()
        }
        Some(Fault::LoseAnswer) => {
            // The cluster does the work; the answer is lost on the way.
            let _ = forward(&s, &method, &path_and_query, &headers, body).await;
            let broken = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("connection reset"))
            });
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .body(Body::from_stream(broken))
                .unwrap()
        }
        None => forward(&s, &method, &path_and_query, &headers, body)
            .await
            .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e).into_response()),
    }
}

async fn forward(
    s: &Shared,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, String> {
    let mut req = s
        .http
        .request(method.clone(), format!("{}{path_and_query}", s.upstream))
        .body(body);
    for (k, v) in headers {
        if k != "host" && k != "content-length" {
            req = req.header(k, v);
        }
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let mut out = Response::builder().status(status);
    for (k, v) in resp.headers() {
        if k != "content-length" && k != "transfer-encoding" {
            out = out.header(k, v);
        }
    }
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    Ok(out.body(Body::from(bytes)).unwrap())
}
