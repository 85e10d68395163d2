//! REST v2 endpoints of the simulator (`/api/rest/2.0/`): JSON bodies,
//! `GET` and `POST` only, the v2 error shape, bearer tokens bound to an
//! Org. They serve the same stored state, sessions and faults as v1 (the
//! checks in `routes.rs` run first); what they answer is computed in
//! `v2_state.rs` and `custom_actions.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::custom_actions::{self, boolean, text};
use super::routes::{self, admit_write, json_ok, Caller};
use super::state::{new_guid, SimError};
use super::v2_state::{self, integer};
use super::{SessionInfo, Sim, TOKEN_KEY};
use crate::model::v2::*;

/// `GET` → a 24-hour token for the current session (not in `model::v2`:
/// the tool does not call it).
const SESSION_TOKEN: &str = "/auth/session/token";

/// Validity of a token from `auth/token/full` when the request names none.
const DEFAULT_VALIDITY_SECS: i64 = 300;
/// Validity of a token from `auth/session/token`.
const SESSION_TOKEN_SECS: u64 = 24 * 3600;

/// A refusal in the v2 shape: `{"error": {"message": {"code", "debug"}}}`.
pub(crate) struct V2Error(pub SimError);

/// The v2 error code of a status: those the spec's examples use, else
/// 10002 for a client error and 10038 for a server error.
pub fn error_code(status: u16) -> u32 {
    match status {
        401 => 10097,
        403 => 10023,
        500.. => 10038,
        _ => 10002,
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({"error": {"message": {
            "code": error_code(self.0.status),
            "debug": self.0.message,
        }}});
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

fn status_error(status: u16, message: &str) -> SimError {
    SimError {
        status,
        message: message.into(),
    }
}

fn answer(r: Result<Value, SimError>) -> Response {
    match r {
        Ok(v) => json_ok(&v),
        Err(e) => V2Error(e).into_response(),
    }
}

fn no_content(r: Result<(), SimError>) -> Response {
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => V2Error(e).into_response(),
    }
}

pub(super) fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route(TOKEN_FULL, post(token_full))
        .route(TOKEN_REVOKE, post(token_revoke))
        .route(SESSION_LOGIN, post(session_login))
        .route(SESSION_LOGOUT, post(session_logout))
        .route(SESSION_USER, get(session_user))
        .route(SESSION_TOKEN, get(session_token))
        .route(SYSTEM_CONFIG, get(system_config))
        .route(CONFIG_OVERRIDES, get(config_overrides))
        .route(CONFIG_UPDATE, post(config_update))
        .route(ACTIONS_SEARCH, post(search_actions))
        .route(ACTIONS, post(create_action))
        .route(&format!("{ACTIONS}/{{id}}/update"), post(update_action))
        .route(&format!("{ACTIONS}/{{id}}/delete"), post(delete_action))
        .route(ORGS_SEARCH, post(search_orgs))
        .route(METADATA_SEARCH, post(search_metadata))
        .route(GROUPS_SEARCH, post(search_groups))
}

/// A JSON object body; an empty body is `{}`. Another media type is the
/// documented 415.
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, SimError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !media.starts_with("application/json") {
        return Err(status_error(415, "Content-Type must be application/json"));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(SimError::bad_request("the body must be a JSON object")),
        Err(e) => Err(SimError::bad_request(format!("malformed JSON body: {e}"))),
    }
}

/// The one user's GUID, the same on every start (from its name).
fn user_id(username: &str) -> String {
    let d = Sha256::digest(format!("tsmigrate-sim-user:{username}").as_bytes());
    let h: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn millis_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A new bearer token in `org`, valid for `validity` (and no longer than
/// `--session-ttl`): the token, and its creation and expiry in ms.
fn mint(sim: &Sim, org: i64, validity: Duration) -> (String, u64, u64) {
    let life = sim
        .opts
        .faults
        .session_ttl
        .map_or(validity, |ttl| ttl.min(validity));
    let token = format!(
        "{}{}",
        new_guid().replace('-', ""),
        new_guid().replace('-', "")
    );
    let now = Instant::now();
    if let Ok(mut sessions) = sim.sessions.lock() {
        sessions.insert(
            format!("{TOKEN_KEY}{token}"),
            SessionInfo {
                began: now,
                org,
                expires: Some(now + life),
            },
        );
    }
    let created = millis_now();
    (token, created, created + life.as_millis() as u64)
}

/// A password login; never with multi-factor authentication on.
fn credentials_match(sim: &Sim, username: Option<&str>, password: Option<&str>) -> bool {
    !sim.opts.mfa
        && username == Some(sim.opts.username.as_str())
        && password == Some(sim.opts.password.as_str())
}

/// `POST auth/token/full`: a token bound to `org_id`, else to the Org the
/// user last used (as the spec says).
async fn token_full(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let b = json_body(&headers, &body)?;
        let username = text(b.get("username"), "username")?
            .ok_or_else(|| SimError::bad_request("username is required"))?;
        let password = text(b.get("password"), "password")?.filter(|p| !p.is_empty());
        let secret = text(b.get("secret_key"), "secret_key")?.filter(|s| !s.is_empty());
        // A password, if given, takes precedence (as the docs say).
        let trusted = match (&password, &secret, &sim.opts.secret_key) {
            (Some(_), _, _) => false,
            (None, None, _) => {
                return Err(SimError::bad_request(
                    "Either secret_key or password must be provided.",
                ))
            }
            (None, Some(_), None) => {
                return Err(status_error(
                    403,
                    "Trusted authentication is not enabled for this cluster or org.",
                ))
            }
            (None, Some(given), Some(key)) => given == key && username == sim.opts.username,
        };
        if !trusted && !credentials_match(&sim, Some(&username), password.as_deref()) {
            return Err(status_error(
                401,
                "Invalid credentials. The provided secret key or password is incorrect.",
            ));
        }
        let no_orgs = sim.opts.behaviour.no_orgs;
        let org = match integer(b.get("org_id"), "org_id")? {
            None => routes::last_org(&sim),
            Some(id) => {
                let known = sim
                    .read(|s| v2_state::orgs(s, no_orgs).iter().any(|o| o.id == id))
                    .await;
                if !known {
                    return Err(SimError::bad_request(
                        "The specified org_id does not refer to a valid or accessible org.",
                    ));
                }
                id
            }
        };
        let validity = integer(b.get("validity_time_in_sec"), "validity_time_in_sec")?
            .unwrap_or(DEFAULT_VALIDITY_SECS);
        if validity <= 0 {
            return Err(SimError::bad_request(
                "validity_time_in_sec must be a positive number of seconds",
            ));
        }
        let (token, created, expires) = mint(&sim, org, Duration::from_secs(validity as u64));
        sim.logins_seen
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut last) = sim.last_org.lock() {
            *last = org;
        }
        Ok(json!({
            "token": token,
            "creation_time_in_millis": created,
            "expiration_time_in_millis": expires,
            "scope": {"access_type": "FULL", "org_id": org, "metadata_id": null},
            "valid_for_user_id": user_id(&sim.opts.username),
            "valid_for_username": sim.opts.username,
        }))
    }
    .await;
    answer(result)
}

/// `POST auth/session/login`: a session (cookie) in `org_identifier` (id
/// or name), else in the Org the user last used. Username and password,
/// or a valid bearer token in the `Authorization` header.
async fn session_login(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let b = json_body(&headers, &body)?;
        let username = text(b.get("username"), "username")?;
        let password = text(b.get("password"), "password")?;
        boolean(b.get("remember_me"), "remember_me")?;
        let named = text(b.get("org_identifier"), "org_identifier")?;
        let token_org = if username.is_none() && password.is_none() {
            match routes::bearer_token(&headers) {
                Some(_) => match routes::caller(&sim, &headers) {
                    Some(c) => Some(c.org),
                    None => {
                        return Err(status_error(401, "The bearer token is invalid or expired."))
                    }
                },
                None => {
                    return Err(SimError::bad_request(
                        "Either username and password or a bearer token must be provided.",
                    ))
                }
            }
        } else if credentials_match(&sim, username.as_deref(), password.as_deref()) {
            None
        } else {
            return Err(status_error(
                401,
                "Authentication failed. Verify that the username and password are correct.",
            ));
        };
        let no_orgs = sim.opts.behaviour.no_orgs;
        let org = match named {
            Some(ident) => {
                sim.read(|s| v2_state::find_org(s, no_orgs, &ident))
                    .await?
                    .id
            }
            None => token_org.unwrap_or_else(|| routes::last_org(&sim)),
        };
        Ok(org)
    }
    .await;
    match result {
        Ok(org) => routes::open_session(&sim, org),
        Err(e) => V2Error(e).into_response(),
    }
}

/// `POST auth/session/logout`: ends the cookie session (a token is
/// revoked with `auth/token/revoke`).
async fn session_logout(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    if !caller.key.starts_with(TOKEN_KEY) {
        if let Ok(mut sessions) = sim.sessions.lock() {
            sessions.remove(&caller.key);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET auth/session/user`: the user, its current Org and its Orgs.
async fn session_user(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let no_orgs = sim.opts.behaviour.no_orgs;
    let orgs = sim.read(|s| v2_state::orgs(s, no_orgs)).await;
    let current = orgs
        .iter()
        .find(|o| o.id == caller.org)
        .map(|o| json!({"id": o.id, "name": o.name}))
        .unwrap_or_else(|| json!({"id": caller.org, "name": ""}));
    let list: Vec<Value> = orgs
        .iter()
        .map(|o| json!({"id": o.id, "name": o.name}))
        .collect();
    let name = &sim.opts.username;
    json_ok(&json!({
        "id": user_id(name),
        "name": name,
        "display_name": name,
        "visibility": "SHARABLE",
        "account_type": "LOCAL_USER",
        "account_status": "ACTIVE",
        "privileges": ["ADMINISTRATION", "DEVELOPER"],
        "current_org": current,
        "orgs": list,
    }))
}

/// `GET auth/session/token`: a token for the caller's session and Org.
async fn session_token(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let (token, created, expires) = mint(&sim, caller.org, Duration::from_secs(SESSION_TOKEN_SECS));
    json_ok(&json!({
        "token": token,
        "creation_time_in_millis": created,
        "expiration_time_in_millis": expires,
        "valid_for_user_id": user_id(&sim.opts.username),
        "valid_for_username": sim.opts.username,
    }))
}

/// `POST auth/token/revoke` `{token}` (or `{user_identifier}`: all of the
/// user's tokens). Only minted tokens are revoked, never the `--token`;
/// an unknown token is already as good as revoked.
async fn token_revoke(
    State(sim): State<Arc<Sim>>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let b = json_body(&headers, &body)?;
        let token = text(b.get("token"), "token")?;
        let user = text(b.get("user_identifier"), "user_identifier")?;
        let mut sessions = sim
            .sessions
            .lock()
            .map_err(|_| status_error(500, "session table poisoned"))?;
        if sim.opts.v2.revoke_ends_caller {
            if let Some(Extension(c)) = &caller {
                if c.key.starts_with(TOKEN_KEY) {
                    sessions.remove(&c.key);
                }
            }
        }
        match (token, user) {
            (Some(t), _) => {
                let key = format!("{TOKEN_KEY}{t}");
                if sessions.get(&key).is_some_and(|s| s.expires.is_some()) {
                    sessions.remove(&key);
                }
                Ok(())
            }
            (None, Some(u)) if u == sim.opts.username || u == user_id(&sim.opts.username) => {
                sessions.retain(|k, s| !(k.starts_with(TOKEN_KEY) && s.expires.is_some()));
                Ok(())
            }
            (None, Some(_)) => Err(SimError::bad_request(
                "The specified user_identifier does not refer to a known user.",
            )),
            (None, None) => Err(SimError::bad_request(
                "Either user_identifier or token must be provided.",
            )),
        }
    })();
    no_content(result)
}

async fn system_config(State(sim): State<Arc<Sim>>) -> Response {
    json_ok(&sim.read(v2_state::system_config).await)
}

async fn config_overrides(State(sim): State<Arc<Sim>>) -> Response {
    let v2 = sim.opts.v2;
    let answer = sim.read(|s| v2_state::config_overrides(s, v2)).await;
    json_ok(&answer)
}

/// `POST system/config-update` `{"configuration": {…}}`: the cluster's
/// config, validated as v1's `configinfo/update`.
async fn config_update(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let b = json_body(&headers, &body)?;
        let Some(Value::Object(configuration)) = b.get("configuration") else {
            return Err(SimError::bad_request(
                "configuration is required: a JSON object of configuration keys and values",
            ));
        };
        admit_write(&sim, &[]).await?;
        sim.write(|s| {
            let changes = v2_state::config_changes(s, configuration);
            s.update_config(&changes).map(|m| ((), m))
        })
        .await
    }
    .await;
    no_content(result)
}

async fn search_actions(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let unknown_is_400 = sim.opts.v2.search_unknown_400;
    let result = async {
        let b = json_body(&headers, &body)?;
        sim.read(|s| custom_actions::search(s, caller.org, &b, unknown_is_400))
            .await
            .map(Value::Array)
    }
    .await;
    answer(result)
}

async fn create_action(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let b = json_body(&headers, &body)?;
        let name = text(b.get("name"), "name")?;
        admit_write(&sim, &[name]).await?;
        sim.write(|s| custom_actions::create(s, caller.org, &b))
            .await
    }
    .await;
    answer(result)
}

/// The stored name of the action a path names (id or name); 400 when none.
async fn named_action(sim: &Sim, org: i64, ident: &str) -> Result<Option<String>, SimError> {
    sim.read(|s| {
        let id = custom_actions::resolve(s, org, ident)?;
        Ok(s.action_name(org, &id).map(str::to_string))
    })
    .await
}

async fn update_action(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(ident): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let b = json_body(&headers, &body)?;
        let old = named_action(&sim, caller.org, &ident).await?;
        let new = text(b.get("name"), "name")?;
        admit_write(&sim, &[old, new]).await?;
        sim.write(|s| custom_actions::update(s, caller.org, &ident, &b))
            .await
    }
    .await;
    no_content(result)
}

async fn delete_action(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(ident): Path<String>,
) -> Response {
    let result = async {
        let old = named_action(&sim, caller.org, &ident).await?;
        admit_write(&sim, &[old]).await?;
        sim.write(|s| custom_actions::delete(s, caller.org, &ident))
            .await
    }
    .await;
    no_content(result)
}

/// `POST orgs/search`. On a cluster without Orgs, a 403 (the caller may
/// not administer Orgs there); `auth/session/user` still names the Primary
/// Org.
async fn search_orgs(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let b = json_body(&headers, &body)?;
        if sim.opts.behaviour.no_orgs {
            return Err(status_error(403, "Orgs are not enabled on this cluster."));
        }
        sim.read(|s| v2_state::search_orgs(s, &b))
            .await
            .map(Value::Array)
    }
    .await;
    answer(result)
}

async fn search_metadata(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    search_in_org(&sim, caller.org, &headers, &body, v2_state::search_metadata).await
}

async fn search_groups(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    search_in_org(&sim, caller.org, &headers, &body, v2_state::search_groups).await
}

/// A search of one Org's state by a JSON body.
type OrgSearch = fn(&super::SimState, i64, &Map<String, Value>) -> Result<Vec<Value>, SimError>;

/// A search over the caller's Org: its JSON body, then `search`'s list.
async fn search_in_org(
    sim: &Sim,
    org: i64,
    headers: &HeaderMap,
    body: &Bytes,
    search: OrgSearch,
) -> Response {
    let result = match json_body(headers, body) {
        Ok(b) => sim.read(|s| search(s, org, &b)).await.map(Value::Array),
        Err(e) => Err(e),
    };
    answer(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_and_shape() {
        assert_eq!(
            [400, 401, 403, 404, 415, 429, 500, 503].map(error_code),
            [10002, 10097, 10023, 10002, 10002, 10002, 10038, 10038]
        );
        let id = user_id("admin");
        assert_eq!(id, user_id("admin"));
        assert_eq!(id.len(), 36);
        assert_ne!(id, user_id("other"));
    }
}
