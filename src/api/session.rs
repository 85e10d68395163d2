//! One login on a host: how it is opened (the API probed, a v1 login or a
//! minted v2 token), put in its Org, logged in again when the cluster
//! forgets it, and closed. A session is usable only in its Org: a login
//! (or a switch) is switched, read back and checked under the session's
//! lock, and only then are its cookies published to the requests that
//! wait for them; a new cookie a switch answers with is followed. The
//! retry loop (retry.rs) only asks it to log in again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;

use super::error::{ApiError, ErrorKind};
use super::host::Host;
use super::org_gate::OrgGate;
use super::request::{cookie_header, merge_cookies, Body, Cookies, Request, Retry};
use super::v2;
use super::v2map::Api;
use crate::config::settings::{ApiChoice, Credentials, Endpoint, NetOptions, RetryPolicy};
use crate::model;

/// Switches tried before an Org that will not stay is an error.
const SWITCH_ATTEMPTS: u32 = 4;

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
    /// Tokens we minted and replaced: revoked at the end, before the
    /// current one. Never mid-run, as a revoke may end the session it is
    /// called with ("the current user session").
    retired: Vec<String>,
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
    /// REST v1: the Org every login and every request must be in, once
    /// entered (`enter_org`).
    org_target: Mutex<Option<i64>>,
    /// Where the cluster keeps one Org per user: the user's gate, through
    /// which every request goes in a wave of its Org (org_gate.rs).
    gate: Mutex<Option<Arc<OrgGate>>>,
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
            org_target: Mutex::new(None),
            gate: Mutex::new(None),
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
        if session.endpoint.credentials.can_log_in() {
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
        self.publish(&mut auth, cookies, true);
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

    /// The Org every request must be in (REST v1), once entered.
    pub fn org_target(&self) -> Option<i64> {
        self.org_target.lock().ok().and_then(|o| *o)
    }

    pub fn set_org_target(&self, org: i64) {
        if let Ok(mut slot) = self.org_target.lock() {
            *slot = Some(org);
        }
    }

    /// The user's gate, where the cluster keeps one Org per user.
    pub(super) fn gate(&self) -> Option<Arc<OrgGate>> {
        self.gate.lock().ok().and_then(|g| g.clone())
    }

    /// From now on every request of this session goes through `gate`.
    pub fn set_gate(&self, gate: Arc<OrgGate>) {
        if let Ok(mut slot) = self.gate.lock() {
            *slot = Some(gate);
        }
    }

    /// REST v1: puts the session in Org `org` and proves it (switched and
    /// read back, under the session's lock, a new session cookie followed)
    /// before any request may use it; every later login does the same.
    /// Unless `blind`, a session already there is not switched. With a
    /// gate the first wave of the Org switches, not this.
    pub async fn enter_org(self: &Arc<Self>, org: i64, blind: bool) -> Result<(), ApiError> {
        self.set_org_target(org);
        if self.gate().is_some() {
            return Ok(());
        }
        let mut auth = self.auth.lock().await;
        let mut cookies = auth.cookies.clone();
        match self.switch_with(&mut cookies, org, blind).await {
            Ok(()) => {
                self.publish(&mut auth, cookies, false);
                Ok(())
            }
            // The session ended (it waited in the pool past its life): a
            // new login, which switches to `org` and proves it before it
            // is published, as every login does.
            Err(e)
                if e.status == Some(401)
                    && matches!(self.endpoint.credentials, Credentials::Password { .. }) =>
            {
                let generation = auth.generation;
                drop(auth);
                Box::pin(self.login(generation)).await
            }
            Err(e) => Err(e),
        }
    }

    /// Switches the session whose cookies are `cookies` to `org` and reads
    /// the current Org back; `cookies` take any new session cookie the
    /// switch answers with. Nothing is published here.
    async fn switch_with(
        self: &Arc<Self>,
        cookies: &mut Vec<(String, String)>,
        org: i64,
        blind: bool,
    ) -> Result<(), ApiError> {
        // Never a login inside a login (nor while the lock is held).
        let relogin = false;
        if !blind {
            let header = cookie_header(cookies);
            if self.current_org(Cookies::These(header.as_deref())).await? == Some(org) {
                return Ok(());
            }
        }
        let form = [(model::PARAM_ORG_ID, org.to_string())];
        let path = format!("{}{}", model::V1_BASE, model::SESSION_ORGS);
        let req = Request {
            method: Method::PUT,
            path: &path,
            query: &[],
            body: Body::Form(&form),
            retry: Retry::Transient,
        };
        // Where the Org is the user's, another session of the user may
        // switch between our switch and its read-back: switched again, a
        // few times, then OrgMoved (never a session taken as in `org`).
        let mut now = None;
        for attempt in 0..SWITCH_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
            }
            let header = cookie_header(cookies);
            let answer = self
                .send_with_retries_as(&req, None, relogin, Cookies::These(header.as_deref()))
                .await?;
            merge_cookies(cookies, answer.cookies);
            let header = cookie_header(cookies);
            now = self.current_org(Cookies::These(header.as_deref())).await?;
            if now == Some(org) {
                return Ok(());
            }
        }
        let now = now.map_or("no Org".to_string(), |o| format!("Org {o}"));
        Err(ApiError::new(
            ErrorKind::OrgMoved,
            None,
            format!(
                "PUT session/orgs answered success {SWITCH_ATTEMPTS} times, but the session was then in {now}, not Org {org} (another session of the user switching Orgs?)"
            ),
        ))
    }

    /// The current Org of the session with `cookies` (`None`: the cluster
    /// has no Orgs), read now.
    pub(super) async fn current_org(
        self: &Arc<Self>,
        cookies: Cookies<'_>,
    ) -> Result<Option<i64>, ApiError> {
        let path = format!("{}{}", model::V1_BASE, model::SESSION_ORGS);
        let query = [
            ("batchsize", "-1".to_string()),
            ("offset", "-1".to_string()),
        ];
        let req = Request {
            query: &query,
            ..Request::get(&path)
        };
        // With the published cookies an expired session logs in again; a
        // login being proven has nothing to fall back on.
        let relogin = matches!(cookies, Cookies::Published);
        let answer = match self
            .send_with_retries_as(&req, None, relogin, cookies)
            .await
        {
            Ok(a) => a,
            Err(e) if e.status == Some(404) => return Ok(None),
            Err(e) => return Err(e),
        };
        let v = super::error::parse_body(&answer.body, model::SESSION_ORGS)?;
        Ok(super::cluster::parse_org_list(&v)
            .map_err(|why| super::error::bad_shape(model::SESSION_ORGS, why, &v))?
            .map(|l| l.current))
    }

    /// Switches the session (its published cookies) to `org` for the
    /// gate and proves it; a new cookie is published.
    pub(super) async fn switch_published(self: &Arc<Self>, org: i64) -> Result<(), ApiError> {
        let mut relogins = 0;
        loop {
            let generation = self.generation.load(Ordering::SeqCst);
            let switched = {
                let mut auth = self.auth.lock().await;
                let mut cookies = auth.cookies.clone();
                let r = self.switch_with(&mut cookies, org, true).await;
                if r.is_ok() {
                    self.publish(&mut auth, cookies, false);
                }
                r
            };
            match switched {
                // The session expired: logged in again (not under the
                // lock), then switched.
                Err(e) if e.status == Some(401) && relogins < 2 => {
                    relogins += 1;
                    Box::pin(self.login(generation)).await?;
                }
                other => return other,
            }
        }
    }

    /// The user's current Org as this session's published cookies see it.
    pub async fn current_org_now(self: &Arc<Self>) -> Result<Option<i64>, ApiError> {
        self.current_org(Cookies::Published).await
    }

    /// Makes `cookies` the session's: every request from now on carries
    /// them. `login` counts it as a login.
    fn publish(&self, auth: &mut Auth, cookies: Vec<(String, String)>, login: bool) {
        auth.cookies = cookies;
        if login {
            auth.generation += 1;
            auth.logged_in = true;
        }
        let header = cookie_header(&auth.cookies);
        if let Ok(mut slot) = self.cookie_header.lock() {
            *slot = header;
        }
        self.generation.store(auth.generation, Ordering::SeqCst);
    }

    /// Logs in unless another task did since `seen_generation`.
    pub(super) async fn login(self: &Arc<Self>, seen_generation: u64) -> Result<(), ApiError> {
        let mut auth = self.auth.lock().await;
        if auth.generation != seen_generation {
            return Ok(());
        }
        let (username, secret) = match &self.endpoint.credentials {
            Credentials::Password { username, password } => (username, ("password", password)),
            Credentials::SecretKey {
                username,
                secret_key,
            } => (username, ("secret_key", secret_key)),
            _ => return Ok(()),
        };
        if self.api() == Api::V2 {
            let org = self
                .login_org
                .lock()
                .ok()
                .and_then(|o| *o)
                .unwrap_or(model::PRIMARY_ORG);
            let body = serde_json::json!({
                "username": username, (secret.0): secret.1,
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
            if let Some((old, _)) = auth.minted.replace(token) {
                auth.retired.push(old);
            }
            auth.generation += 1;
            auth.logged_in = true;
            self.generation.store(auth.generation, Ordering::SeqCst);
            drop(auth);
            // No after-login hook: a v2 login carries its Org (`login_org`).
            return Ok(());
        }
        // REST v1: a session login with the password (a secret key speaks
        // v2 only, which the profile's settings made sure of).
        let form = [
            ("username", username.clone()),
            ("password", secret.1.clone()),
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
        let mut cookies = resp.cookies;
        // A login lands in whatever Org the user last used: the session
        // is put back in its Org and checked before anyone may use it.
        // With a gate, the next wave of its Org does that.
        let gate = self.gate();
        if let (Some(org), None) = (self.org_target(), &gate) {
            Box::pin(self.switch_with(&mut cookies, org, true)).await?;
        }
        self.publish(&mut auth, cookies, true);
        drop(auth);
        if let Some(gate) = gate {
            gate.forget();
        }
        Ok(())
    }

    /// `auth/token/revoke` of a token we minted (best effort, once), with
    /// whatever token the session calls with.
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
        let retired = std::mem::take(&mut auth.retired);
        if let Some((token, _)) = auth.minted.take() {
            drop(auth);
            // Each revoked with itself as the caller (a revoke may end the
            // token it is called with), the current one last.
            for t in retired.iter().chain([&token]) {
                self.set_bearer(Some(t.clone()));
                self.revoke(t).await;
            }
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
