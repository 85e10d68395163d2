//! One login on a host: how it is opened (the API probed, a v1 login or a
//! minted v2 token), logged in again when the cluster forgets it, kept in
//! its Org (the after-login hook) and closed. Its login code is all here;
//! the retry loop (retry.rs) only asks it to log in again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;

use super::error::ApiError;
use super::host::Host;
use super::request::{cookie_header, Body, Request, Retry};
use super::v2;
use super::v2map::Api;
use crate::config::settings::{ApiChoice, Credentials, Endpoint, NetOptions, RetryPolicy};
use crate::model;

/// How long a token minted for REST v2 is asked to live.
const V2_TOKEN_SECONDS: u64 = 3600;
/// A minted token this close to its end (or a fifth of its life before,
/// if that is sooner) is renewed before the next request.
const V2_TOKEN_MARGIN: Duration = Duration::from_secs(60);

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
    pub(super) policy: RetryPolicy,
    auth: tokio::sync::Mutex<Auth>,
    pub(super) cookie_header: Mutex<Option<String>>,
    pub(super) generation: AtomicU64,
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
    pub(super) bearer: Mutex<Option<String>>,
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
    pub(super) async fn login(self: &Arc<Self>, seen_generation: u64) -> Result<(), ApiError> {
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
    pub(super) async fn token_ending(&self) -> bool {
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
