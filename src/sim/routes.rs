//! HTTP routes of the simulator: the REST v1 endpoints (request parsing
//! and status codes) and the cross-cutting checks of every request, v1 or
//! v2 (the API choice, latency, rate limit, faults, `X-Requested-By` on v1,
//! authentication and the caller's Org). The v2 endpoints are in `v2.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{json, Value};

use super::faults::Injected;
use super::state::{self, SimError};
use super::v2::V2Error;
use super::{SessionInfo, Sim, TOKEN_KEY};
use crate::model::{self, V1_BASE, V2_BASE};

/// Largest request body the simulator reads.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Who is calling, as the checks found out: their session (or token) and
/// its Org.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub key: String,
    pub org: i64,
}

/// Which API a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V1,
    V2,
    Other,
}

fn family(path: &str) -> Family {
    let under = |base: &str| path.strip_prefix(base).is_some_and(|r| r.starts_with('/'));
    if under(V1_BASE) {
        Family::V1
    } else if under(V2_BASE) {
        Family::V2
    } else {
        Family::Other
    }
}

/// A refusal in the error shape of the path's API.
fn refusal(family: Family, e: SimError) -> Response {
    match family {
        Family::V2 => V2Error(e).into_response(),
        _ => e.into_response(),
    }
}

pub(crate) fn router(sim: Arc<Sim>) -> Router {
    let api = Router::new()
        .route("/session/login", post(login))
        .route("/session/logout", post(logout))
        .route("/session/orgs", get(orgs).put(switch_org))
        .route("/admin/configinfo", get(configinfo))
        .route("/admin/configinfo/overrides", get(overrides))
        .route("/admin/configinfo/update", post(update_config))
        .route(
            "/admin/embed/actions",
            get(list_actions).post(create_action),
        )
        .route(
            "/admin/embed/actions/{id}",
            get(get_action)
                .put(update_action)
                .post(update_action)
                .delete(delete_action),
        )
        .route(
            "/admin/embed/actions/{id}/associations",
            get(get_associations)
                .post(add_associations)
                .delete(remove_associations),
        )
        .route("/metadata/listobjectheaders", get(list_object_headers));
    Router::new()
        .nest(V1_BASE, api)
        .nest(V2_BASE, super::v2::router())
        .fallback(no_such_endpoint)
        .layer(middleware::from_fn_with_state(sim.clone(), checks))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(sim)
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({"code": self.status, "message": self.message});
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

async fn no_such_endpoint(uri: Uri) -> Response {
    refusal(family(uri.path()), SimError::not_found("no such endpoint"))
}

pub(super) fn json_ok(v: &Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

fn respond(r: Result<Value, SimError>) -> Response {
    match r {
        Ok(v) => json_ok(&v),
        Err(e) => e.into_response(),
    }
}

/// The requests that log in: no session needed, and no injected faults.
fn is_login(path: &str) -> bool {
    let v2 = |p: &str| path.strip_prefix(V2_BASE) == Some(p);
    path.strip_prefix(V1_BASE) == Some("/session/login")
        || v2(model::v2::SESSION_LOGIN)
        || v2(model::v2::TOKEN_FULL)
}

/// Latency, the API choice, the rate limit, faults, the CSRF header (v1)
/// and authentication, in that order; the caller goes to the handler as an
/// extension.
async fn checks(State(sim): State<Arc<Sim>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    sim.requests_seen
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let family = family(&path);
    let faults = &sim.opts.faults;
    // Latency is the time from a request's arrival to its answer, work
    // included: the work is done at once and the answer waits out the
    // rest. (Waiting first and working after would put the simulator's own
    // work, serialised on a small machine, on top of every round trip.)
    let answer_at = started + Duration::from_millis(faults.latency_ms);
    let served = match family {
        Family::V1 => sim.opts.api.serves_v1(),
        Family::V2 => sim.opts.api.serves_v2(),
        Family::Other => true,
    };
    let injected = if is_login(&path) || !served {
        None
    } else {
        sim.faults.draw()
    };
    let target_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let response = if target_len > sim.opts.max_url_bytes {
        SimError {
            status: 414,
            message: format!(
                "URI Too Long: {target_len} bytes of path and query, {} at most",
                sim.opts.max_url_bytes
            ),
        }
        .into_response()
    } else if !served {
        // A cluster that does not speak this API knows none of its paths.
        SimError::not_found("no such endpoint").into_response()
    } else if !sim.faults.admit() {
        // As ThoughtSpot Cloud: 429 and no Retry-After.
        refusal(
            family,
            SimError {
                status: 429,
                message: "Too Many Requests".into(),
            },
        )
    } else if let Some(Injected::Unavailable) = injected {
        refusal(
            family,
            SimError {
                status: 503,
                message: "Service Unavailable (injected)".into(),
            },
        )
    } else if let Some(Injected::Throttled) = injected {
        let mut r = refusal(
            family,
            SimError {
                status: 429,
                message: "Too Many Requests (injected)".into(),
            },
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        r
    } else if family != Family::V2 && !req.headers().contains_key("x-requested-by") {
        // v1 wants it (CSRF); the v2 page does not.
        SimError::bad_request("the X-Requested-By header is required").into_response()
    } else if is_login(&path) {
        next.run(req).await
    } else {
        match caller(&sim, req.headers()) {
            Some(c) => {
                req.extensions_mut().insert(c);
                next.run(req).await
            }
            None => refusal(
                family,
                SimError {
                    status: 401,
                    message: "Unauthorized request: no session, or an unknown or expired token"
                        .into(),
                },
            ),
        }
    };
    if let Some(deadlines) = &sim.latency {
        deadlines.until(answer_at).await;
    }
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        sim.throttled_seen
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    if sim.opts.log_requests {
        tracing::info!(
            "{method} {path} -> {} ({} ms)",
            response.status().as_u16(),
            started.elapsed().as_millis()
        );
    }
    response
}

/// The session (or token) of a request, unless unknown or expired: the
/// `--token`, a token minted by v2 `auth/token/full`, or a session cookie.
pub(super) fn caller(sim: &Sim, headers: &HeaderMap) -> Option<Caller> {
    let ttl = sim.opts.faults.session_ttl;
    let mut sessions = sim.sessions.lock().ok()?;
    if let Some(bearer) = bearer_token(headers) {
        let key = format!("{TOKEN_KEY}{bearer}");
        if sim.opts.token.as_deref() == Some(bearer) {
            if ttl.is_some_and(|t| sim.started.elapsed() >= t) {
                return None;
            }
            let info = *sessions.entry(key.clone()).or_insert(SessionInfo {
                began: sim.started,
                org: model::PRIMARY_ORG,
                expires: None,
            });
            return Some(Caller { key, org: info.org });
        }
        if let Some(info) = sessions.get(&key).copied() {
            if info.expires.is_some_and(|e| Instant::now() >= e) {
                sessions.remove(&key);
                return None;
            }
            return Some(Caller { key, org: info.org });
        }
    }
    let id = session_cookie(headers).filter(|id| !id.starts_with(TOKEN_KEY))?;
    let info = *sessions.get(&id)?;
    if ttl.is_some_and(|t| info.began.elapsed() >= t) {
        sessions.remove(&id);
        return None;
    }
    let org = match sim.opts.behaviour.org_per_user {
        true => last_org(sim),
        false => info.org,
    };
    Some(Caller { key: id, org })
}

pub(super) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

pub(super) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix("JSESSIONID="))
        .map(str::to_string)
        .next()
}

/// The Org a login lands in when it names none: the one the user last
/// used, as on a real cluster.
pub(super) fn last_org(sim: &Sim) -> i64 {
    sim.last_org
        .lock()
        .map(|o| *o)
        .unwrap_or(model::PRIMARY_ORG)
}

/// A new session in `org` (counted as a login, remembered as the user's
/// last Org): 204 and its cookies.
pub(super) fn open_session(sim: &Sim, org: i64) -> Response {
    sim.logins_seen
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    session_in(sim, org)
}

/// 204 with the cookies of a new session in `org`.
fn session_in(sim: &Sim, org: i64) -> Response {
    let id = super::state::new_guid().replace('-', "");
    if let Ok(mut sessions) = sim.sessions.lock() {
        sessions.insert(
            id.clone(),
            SessionInfo {
                began: Instant::now(),
                org,
                expires: None,
            },
        );
    }
    if let Ok(mut last) = sim.last_org.lock() {
        *last = org;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    for cookie in [
        format!("JSESSIONID={id}; Path=/; HttpOnly"),
        format!("clientId={}; Path=/", super::state::new_guid()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

fn form(body: &Bytes) -> Result<Vec<(String, String)>, SimError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| SimError::bad_request(format!("malformed form body: {e}")))
}

fn form_field(body: &Bytes, name: &str) -> Result<String, SimError> {
    form(body)?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .ok_or_else(|| SimError::bad_request(format!("missing form parameter {name}")))
}

/// A form parameter holding JSON.
fn json_param(body: &Bytes, name: &str) -> Result<Value, SimError> {
    let raw = form_field(body, name)?;
    serde_json::from_str(&raw)
        .map_err(|e| SimError::bad_request(format!("form parameter {name} is not valid JSON: {e}")))
}

async fn login(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let fields = match form(&body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if sim.opts.mfa {
        return SimError {
            status: 401,
            message: "Multi-factor authentication is enabled: a login with a password is refused"
                .into(),
        }
        .into_response();
    }
    if get("username") != Some(sim.opts.username.as_str())
        || get("password") != Some(sim.opts.password.as_str())
    {
        return SimError {
            status: 401,
            message: "Unauthorized: bad username or password".into(),
        }
        .into_response();
    }
    // A login lands in the Org the user last used, as on a real cluster.
    open_session(&sim, last_org(&sim))
}

async fn logout(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    if let (Some(id), Ok(mut sessions)) = (session_cookie(&headers), sim.sessions.lock()) {
        sessions.remove(&id);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET session/orgs`: the Orgs, and the session's current one.
async fn orgs(State(sim): State<Arc<Sim>>, Extension(caller): Extension<Caller>) -> Response {
    if sim.opts.behaviour.no_orgs {
        return StatusCode::NOT_FOUND.into_response();
    }
    let list = sim.read(|s| s.org_list()).await;
    let orgs: Vec<Value> = list
        .into_iter()
        .map(|(id, name)| {
            json!({"orgId": id, "orgName": name, "description": "", "isActive": true,
                "allUserGroupId": state::all_users_group_of(id),
                "defaultAdminUserGroupId": state::admin_group_of(id)})
        })
        .collect();
    json_ok(&json!({"orgs": orgs, "canAdministerAllOrgs": true, "currentOrgId": caller.org}))
}

/// `PUT session/orgs` (form `orgid`): switches the session's Org.
async fn switch_org(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    if sim.opts.behaviour.no_orgs {
        return StatusCode::NOT_FOUND.into_response();
    }
    let result = async {
        let raw = form_field(&body, "orgid")?;
        let org: i64 = raw
            .trim()
            .parse()
            .map_err(|_| SimError::bad_request(format!("Invalid parameter: orgid {raw:?}")))?;
        if !sim.read(|s| s.has_org(org)).await {
            return Err(SimError::bad_request(format!(
                "Invalid parameter: there is no Org {org}"
            )));
        }
        if sim.opts.behaviour.switch_new_session && !caller.key.starts_with(TOKEN_KEY) {
            // A new session in the new Org; the old one stays where it was.
            return Ok(session_in(&sim, org));
        }
        if let Ok(mut sessions) = sim.sessions.lock() {
            if let Some(s) = sessions.get_mut(&caller.key) {
                s.org = org;
            }
        }
        if let Ok(mut last) = sim.last_org.lock() {
            *last = org;
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    result.unwrap_or_else(|e| e.into_response())
}

async fn configinfo(State(sim): State<Arc<Sim>>, Extension(caller): Extension<Caller>) -> Response {
    let cached = sim
        .configinfo_cache
        .lock()
        .ok()
        .and_then(|c| c.get(&caller.org).cloned());
    let bytes = match cached {
        Some(b) => b,
        None => {
            let b = Bytes::from(
                sim.read(|s| s.configinfo_response(caller.org).to_string())
                    .await,
            );
            if let Ok(mut cache) = sim.configinfo_cache.lock() {
                cache.insert(caller.org, b.clone());
            }
            b
        }
    };
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

async fn overrides(State(sim): State<Arc<Sim>>, Extension(caller): Extension<Caller>) -> Response {
    json_ok(&sim.read(|s| s.overrides_response(caller.org)).await)
}

/// Counts a write and applies `--fail-after` and `--reject-action`.
pub(super) async fn admit_write(
    sim: &Sim,
    action_names: &[Option<String>],
) -> Result<(), SimError> {
    let n = sim.count_write();
    if let Some(limit) = sim.opts.faults.fail_after {
        if n > limit {
            return Err(SimError {
                status: 500,
                message: format!("write {n} refused (injected after {limit})"),
            });
        }
    }
    for name in action_names.iter().flatten() {
        if sim.opts.faults.reject_actions.iter().any(|r| r == name) {
            return Err(SimError::bad_request(format!(
                "action {name:?} is rejected (injected)"
            )));
        }
    }
    Ok(())
}

async fn update_config(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let result = async {
        let changes = json_param(&body, model::CONFIG_CHANGES)?;
        let Value::Object(changes) = changes else {
            return Err(SimError::bad_request("configchanges must be a JSON object"));
        };
        admit_write(&sim, &[]).await?;
        sim.write(|s| s.update_config(&changes).map(|m| ((), m)))
            .await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn list_actions(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let tags = match q.iter().find(|(k, _)| k == "tags") {
        None => None,
        Some((_, raw)) => match serde_json::from_str::<Vec<String>>(raw) {
            Ok(t) if t.is_empty() => None,
            Ok(t) => Some(t),
            Err(e) => {
                return SimError::bad_request(format!("tags must be a JSON array of GUIDs: {e}"))
                    .into_response()
            }
        },
    };
    let behaviour = sim.opts.behaviour;
    let list = sim
        .read(|s| {
            let all = s.action_list(caller.org, behaviour)?;
            let Some(tags) = &tags else { return Ok(all) };
            // Actions associated with an object that carries one of the tags.
            let objects = s.objects(caller.org)?;
            let tagged: Vec<&str> = objects
                .iter()
                .filter(|o| {
                    o.get("tags").and_then(Value::as_array).is_some_and(|ts| {
                        ts.iter()
                            .filter_map(Value::as_str)
                            .any(|t| tags.iter().any(|x| x == t))
                    })
                })
                .filter_map(|o| o.get("id").and_then(Value::as_str))
                .collect();
            let associated = |a: &Value| {
                s.action(
                    caller.org,
                    a.get("id").and_then(Value::as_str).unwrap_or(""),
                )
                .ok()
                .and_then(|full| full.get(model::ASSOCIATION_MAP))
                .and_then(Value::as_object)
                .is_some_and(|m| {
                    m.values()
                        .filter_map(Value::as_object)
                        .any(|objs| objs.keys().any(|g| tagged.contains(&g.as_str())))
                })
            };
            Ok(all.into_iter().filter(|a| associated(a)).collect())
        })
        .await;
    respond(list.map(Value::Array))
}

async fn create_action(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    let result = async {
        let mut action = server_version(&sim, json_param(&body, model::EMBED_ACTION)?);
        // The Org's administrators group: a cluster without Orgs has none
        // that `session/orgs` names.
        if sim.opts.behaviour.adds_admin_group && !sim.opts.behaviour.no_orgs {
            let admin = Value::String(state::admin_group_of(caller.org));
            if let Some(list) = action
                .get_mut(model::USER_GROUPS)
                .and_then(Value::as_array_mut)
            {
                if !list.contains(&admin) {
                    list.push(admin);
                }
            } else if let Some(a) = action.as_object_mut() {
                a.insert(model::USER_GROUPS.into(), json!([admin]));
            }
        }
        let name = action
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        admit_write(&sim, &[name]).await?;
        sim.write(|s| s.create_action(caller.org, action)).await
    }
    .await;
    respond(result)
}

/// `--rewrites-version` and `--server-normalizes`: the action as the
/// cluster keeps it.
fn server_version(sim: &Sim, mut action: Value) -> Value {
    if sim.opts.behaviour.rewrites_version {
        if let Some(a) = action.as_object_mut() {
            a.insert("version".into(), json!("v2"));
        }
    }
    if sim.opts.behaviour.normalizes_fields {
        for path in model::NORMALIZED_ACTION_FIELDS {
            let mut at = Some(&mut action);
            for k in *path {
                at = at.and_then(|v| v.get_mut(*k));
            }
            if let Some(v) = at {
                *v = model::server_form(path, v);
            }
        }
    }
    action
}

async fn get_action(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    respond(sim.read(|s| s.action(caller.org, &id).cloned()).await)
}

async fn current_name(sim: &Sim, org: i64, id: &str) -> Result<Option<String>, SimError> {
    sim.read(|s| {
        s.action(org, id)
            .map(|a| a.get("name").and_then(Value::as_str).map(str::to_string))
    })
    .await
}

async fn update_action(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    method: Method,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let behaviour = sim.opts.behaviour;
    let result = async {
        let action = server_version(&sim, json_param(&body, model::EMBED_ACTION)?);
        let old = current_name(&sim, caller.org, &id).await?;
        let new = action
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        admit_write(&sim, &[old, new]).await?;
        sim.write(|s| s.update_action(caller.org, &id, action, behaviour))
            .await
    }
    .await;
    if method == Method::POST {
        tracing::debug!("POST to an action id taken as an update");
    }
    respond(result)
}

async fn delete_action(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let old = current_name(&sim, caller.org, &id).await?;
        admit_write(&sim, &[old]).await?;
        sim.write(|s| s.delete_action(caller.org, &id)).await
    }
    .await;
    respond(result)
}

async fn get_associations(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    respond(sim.read(|s| s.associations(caller.org, &id)).await)
}

fn association_param(body: &Bytes, parse_status: u16) -> Result<Value, SimError> {
    let fail = |m: String| SimError {
        status: parse_status,
        message: m,
    };
    let wrapper = json_param(body, model::ACTION_ASSOCIATION).map_err(|e| fail(e.message))?;
    wrapper
        .get(model::ASSOCIATION_MAP)
        .cloned()
        .ok_or_else(|| fail("actionassociation must hold an actionAssociationMap".into()))
}

async fn add_associations(
    sim: State<Arc<Sim>>,
    caller: Extension<Caller>,
    id: Path<String>,
    body: Bytes,
) -> Response {
    change_associations(sim, caller, id, body, true).await
}

async fn remove_associations(
    sim: State<Arc<Sim>>,
    caller: Extension<Caller>,
    id: Path<String>,
    body: Bytes,
) -> Response {
    change_associations(sim, caller, id, body, false).await
}

/// POST appends associations, DELETE removes them. A malformed payload is
/// the page's 500 "Request parsing error" on POST and 400 on DELETE.
async fn change_associations(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
    add: bool,
) -> Response {
    let result = async {
        let old = current_name(&sim, caller.org, &id).await?;
        let map = association_param(&body, if add { 500 } else { 400 })?;
        admit_write(&sim, &[old]).await?;
        sim.write(|s| {
            if add {
                s.add_associations(caller.org, &id, &map, sim.opts.behaviour.assoc_post_appends)
            } else {
                s.remove_associations(caller.org, &id, &map)
            }
        })
        .await
    }
    .await;
    respond(result)
}

async fn list_object_headers(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let param = |name: &str| q.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let list = |name: &str| -> Result<Option<Vec<String>>, SimError> {
        match param(name) {
            None => Ok(None),
            Some(raw) => serde_json::from_str::<Vec<String>>(&raw)
                .map(Some)
                .map_err(|e| {
                    SimError::bad_request(format!("{name} must be a JSON array of strings: {e}"))
                }),
        }
    };
    let number = |name: &str, default: i64| -> Result<i64, SimError> {
        match param(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| SimError::bad_request(format!("{name} must be an integer"))),
        }
    };
    let result = async {
        let ids = list("fetchids")?;
        let subtypes = list("subtypes")?;
        let offset = number("offset", -1)?.max(0) as usize;
        let batch = number("batchsize", -1)?;
        let kind = param("type");
        let headers = sim
            .read(|s| {
                s.object_headers(
                    caller.org,
                    kind.as_deref(),
                    subtypes.as_deref(),
                    ids.as_deref(),
                )
            })
            .await?;
        let take = if batch < 0 {
            usize::MAX
        } else {
            batch as usize
        };
        Ok(Value::Array(
            headers.into_iter().skip(offset).take(take).collect(),
        ))
    }
    .await;
    respond(result)
}
