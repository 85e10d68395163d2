//! HTTP routes of the simulator: request parsing, the cross-cutting checks
//! (latency, faults, `X-Requested-By`, authentication) and status codes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::faults::Injected;
use super::state::SimError;
use super::Sim;

use crate::model::V1_BASE as BASE;

const LOGIN: &str = "/callosum/v1/tspublic/v1/session/login";
/// Largest request body the simulator reads.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

pub(crate) fn router(sim: Arc<Sim>) -> Router {
    let api = Router::new()
        .route("/session/login", post(login))
        .route("/session/logout", post(logout))
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
        .nest(BASE, api)
        .fallback(|| async { error(SimError::not_found("no such endpoint")) })
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

fn error(e: SimError) -> Response {
    e.into_response()
}

fn json_ok(v: &Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

/// Latency, faults, the CSRF header and authentication, in that order.
async fn checks(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    sim.requests_seen
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let faults = &sim.opts.faults;
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let injected = if path == LOGIN {
        None
    } else {
        sim.faults.draw()
    };
    let response = if let Some(Injected::Unavailable) = injected {
        error(SimError {
            status: 503,
            message: "Service Unavailable (injected)".into(),
        })
    } else if let Some(Injected::Throttled) = injected {
        let mut r = error(SimError {
            status: 429,
            message: "Too Many Requests (injected)".into(),
        });
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        r
    } else if !req.headers().contains_key("x-requested-by") {
        error(SimError::bad_request(
            "the X-Requested-By header is required",
        ))
    } else if path != LOGIN && !authenticated(&sim, req.headers()) {
        error(SimError {
            status: 401,
            message: "Unauthorized request".into(),
        })
    } else {
        next.run(req).await
    };
    if sim.opts.log_requests {
        tracing::info!(
            "{method} {path} -> {} ({} ms)",
            response.status().as_u16(),
            started.elapsed().as_millis()
        );
    }
    response
}

fn authenticated(sim: &Sim, headers: &HeaderMap) -> bool {
    if let Some(token) = &sim.opts.token {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if bearer == Some(token.as_str()) {
            return true;
        }
    }
    match session_cookie(headers) {
        Some(id) => sim
            .sessions
            .lock()
            .map(|s| s.contains(&id))
            .unwrap_or(false),
        None => false,
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix("JSESSIONID="))
        .map(str::to_string)
        .next()
}

fn form(body: &Bytes) -> Result<Vec<(String, String)>, SimError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| SimError::bad_request(format!("malformed form body: {e}")))
}

/// A form parameter holding JSON.
fn json_param(body: &Bytes, name: &str) -> Result<Value, SimError> {
    let fields = form(body)?;
    let raw = fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .ok_or_else(|| SimError::bad_request(format!("missing form parameter {name}")))?;
    serde_json::from_str(raw)
        .map_err(|e| SimError::bad_request(format!("form parameter {name} is not valid JSON: {e}")))
}

async fn login(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let fields = match form(&body) {
        Ok(f) => f,
        Err(e) => return error(e),
    };
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("username") != Some(sim.opts.username.as_str())
        || get("password") != Some(sim.opts.password.as_str())
    {
        return error(SimError {
            status: 401,
            message: "Unauthorized: bad username or password".into(),
        });
    }
    let id = super::state::new_guid().replace('-', "");
    if let Ok(mut sessions) = sim.sessions.lock() {
        sessions.insert(id.clone());
    }
    let cookie = format!("JSESSIONID={id}; Path=/; HttpOnly");
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn logout(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    if let (Some(id), Ok(mut sessions)) = (session_cookie(&headers), sim.sessions.lock()) {
        sessions.remove(&id);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn configinfo(State(sim): State<Arc<Sim>>) -> Response {
    let cached = sim.configinfo_cache.lock().ok().and_then(|c| c.clone());
    let bytes = match cached {
        Some(b) => b,
        None => {
            let b = Bytes::from(sim.read(|s| s.configinfo_response().to_string()).await);
            if let Ok(mut cache) = sim.configinfo_cache.lock() {
                *cache = Some(b.clone());
            }
            b
        }
    };
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

async fn overrides(State(sim): State<Arc<Sim>>) -> Response {
    json_ok(&sim.read(|s| s.overrides_response()).await)
}

/// Counts a write and applies `--fail-after` and `--reject-action`.
async fn admit_write(sim: &Sim, action_names: &[Option<String>]) -> Result<(), SimError> {
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
        let changes = json_param(&body, "configchanges")?;
        let Value::Object(changes) = changes else {
            return Err(SimError::bad_request("configchanges must be a JSON object"));
        };
        admit_write(&sim, &[]).await?;
        sim.write(|s| s.update_config(&changes)).await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}

async fn list_actions(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let tags = match q.iter().find(|(k, _)| k == "tags") {
        None => None,
        Some((_, raw)) => match serde_json::from_str::<Vec<String>>(raw) {
            Ok(t) if t.is_empty() => None,
            Ok(t) => Some(t),
            Err(e) => {
                return error(SimError::bad_request(format!(
                    "tags must be a JSON array of GUIDs: {e}"
                )))
            }
        },
    };
    let list = sim
        .read(|s| match &tags {
            None => s.actions.clone(),
            Some(tags) => {
                // Actions associated with an object that carries one of the tags.
                let tagged: Vec<&str> = s
                    .objects
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
                s.actions
                    .iter()
                    .filter(|a| {
                        a.get("actionAssociationMap")
                            .and_then(Value::as_object)
                            .is_some_and(|m| {
                                m.values()
                                    .filter_map(Value::as_object)
                                    .any(|objs| objs.keys().any(|g| tagged.contains(&g.as_str())))
                            })
                    })
                    .cloned()
                    .collect()
            }
        })
        .await;
    json_ok(&Value::Array(list))
}

async fn create_action(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let result = async {
        let action = json_param(&body, "embedaction")?;
        let name = action
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        admit_write(&sim, &[name]).await?;
        sim.write(|s| s.create_action(action)).await
    }
    .await;
    match result {
        Ok(v) => json_ok(&v),
        Err(e) => error(e),
    }
}

async fn get_action(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match sim
        .read(|s| s.action_index(&id).map(|i| s.actions[i].clone()))
        .await
    {
        Ok(v) => json_ok(&v),
        Err(e) => error(e),
    }
}

async fn current_name(sim: &Sim, id: &str) -> Result<Option<String>, SimError> {
    sim.read(|s| {
        s.action_index(id)
            .map(|_| s.action_name(id).map(str::to_string))
    })
    .await
}

async fn update_action(
    State(sim): State<Arc<Sim>>,
    method: Method,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let action = json_param(&body, "embedaction")?;
        let old = current_name(&sim, &id).await?;
        let new = action
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        admit_write(&sim, &[old, new]).await?;
        sim.write(|s| s.update_action(&id, action)).await
    }
    .await;
    if method == Method::POST {
        tracing::debug!("POST to an action id taken as an update");
    }
    match result {
        Ok(v) => json_ok(&v),
        Err(e) => error(e),
    }
}

async fn delete_action(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let result = async {
        let old = current_name(&sim, &id).await?;
        admit_write(&sim, &[old]).await?;
        sim.write(|s| s.delete_action(&id)).await
    }
    .await;
    match result {
        Ok(v) => json_ok(&v),
        Err(e) => error(e),
    }
}

async fn get_associations(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match sim.read(|s| s.associations(&id)).await {
        Ok(v) => json_ok(&v),
        Err(e) => error(e),
    }
}

fn association_param(body: &Bytes, parse_status: u16) -> Result<Value, SimError> {
    let fail = |m: String| SimError {
        status: parse_status,
        message: m,
    };
    let wrapper = json_param(body, "actionassociation").map_err(|e| fail(e.message))?;
    wrapper
        .get("actionAssociationMap")
        .cloned()
        .ok_or_else(|| fail("actionassociation must hold an actionAssociationMap".into()))
}

async fn add_associations(sim: State<Arc<Sim>>, id: Path<String>, body: Bytes) -> Response {
    change_associations(sim, id, body, true).await
}

async fn remove_associations(sim: State<Arc<Sim>>, id: Path<String>, body: Bytes) -> Response {
    change_associations(sim, id, body, false).await
}

/// POST appends associations, DELETE removes them. A malformed payload is
/// the page's 500 "Request parsing error" on POST and 400 on DELETE.
async fn change_associations(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
    add: bool,
) -> Response {
    let result = async {
        let old = current_name(&sim, &id).await?;
        let map = association_param(&body, if add { 500 } else { 400 })?;
        admit_write(&sim, &[old]).await?;
        sim.write(|s| {
            if add {
                s.add_associations(&id, &map)
            } else {
                s.remove_associations(&id, &map)
            }
        })
        .await
    }
    .await;
    match result {
        Ok(v) => json_ok(&v),
        Err(e) => error(e),
    }
}

async fn list_object_headers(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let param = |name: &str| q.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let ids = match param("fetchids") {
        None => None,
        Some(raw) => match serde_json::from_str::<Vec<String>>(&raw) {
            Ok(ids) => Some(ids),
            Err(e) => {
                return error(SimError::bad_request(format!(
                    "fetchids must be a JSON array: {e}"
                )))
            }
        },
    };
    let number = |name: &str, default: i64| -> Result<i64, SimError> {
        match param(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| SimError::bad_request(format!("{name} must be an integer"))),
        }
    };
    let (offset, batch) = match (number("offset", 0), number("batchsize", -1)) {
        (Ok(o), Ok(b)) => (o.max(0) as usize, b),
        (Err(e), _) | (_, Err(e)) => return error(e),
    };
    let kind = param("type");
    let subtypes = match param("subtypes") {
        None => None,
        Some(raw) => match serde_json::from_str::<Vec<String>>(&raw) {
            Ok(s) => Some(s),
            Err(e) => {
                return error(SimError::bad_request(format!(
                    "subtypes must be a JSON array of strings: {e}"
                )))
            }
        },
    };
    let headers = match sim
        .read(|s| s.object_headers(kind.as_deref(), subtypes.as_deref(), ids.as_deref()))
        .await
    {
        Ok(h) => h,
        Err(e) => return error(e),
    };
    let page: Vec<Value> = headers
        .into_iter()
        .skip(offset)
        .take(if batch < 0 {
            usize::MAX
        } else {
            batch as usize
        })
        .collect();
    json_ok(&Value::Array(page))
}
