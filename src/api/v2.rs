//! The calls of a cluster spoken to in REST v2 (`/api/rest/2.0/…`): JSON
//! bodies, searches instead of lists, updates and deletes as POSTs, the Org
//! carried by the login. Each returns what its v1 counterpart returns
//! (v2map.rs maps the shapes), so the rest of the tool sees one API.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::cluster::OrgList;
use super::error::{bad_shape, parse_body};
use super::v2map::{self, action_from_v2};
use super::{ApiError, Body, Cluster, ErrorKind, Request, Retry};
use crate::model::{self, v2, ObjectQuery, Org};
use crate::signals::Abort;

/// Records asked for per page of a paged search.
const PAGE: usize = 200;

/// `auth/token/full`'s answer: the token, and when to renew it (a fifth
/// of its life, at most `margin`, before it ends).
pub(super) fn parse_token(body: &[u8], margin: Duration) -> Result<(String, Instant), ApiError> {
    let v = parse_body(body, v2::TOKEN_FULL)?;
    let token = v
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad_shape(v2::TOKEN_FULL, "{\"token\": …}", &v))?;
    // Times are milliseconds (numbers, possibly with a fraction); the
    // validity is their difference, counted from now on our clock.
    let ms = |k: &str| v.get(k).and_then(Value::as_f64);
    let life = match (
        ms("creation_time_in_millis"),
        ms("expiration_time_in_millis"),
    ) {
        (Some(c), Some(e)) if e > c => Duration::from_millis((e - c) as u64),
        _ => Duration::from_secs(300),
    };
    Ok((
        token.to_string(),
        Instant::now() + life - margin.min(life / 5),
    ))
}

fn path(rest: &str) -> String {
    format!("{}{rest}", model::V2_BASE)
}

fn not_found(what: &str) -> ApiError {
    ApiError {
        kind: ErrorKind::Rejected,
        status: Some(404),
        message: format!("{what} is not there"),
        attempts: 1,
        answer: None,
    }
}

impl Cluster {
    async fn v2_call(
        &self,
        method: Method,
        rest: &str,
        body: Option<&Value>,
        retry: Retry,
        abort: Option<&Abort>,
    ) -> Result<bytes::Bytes, ApiError> {
        let full = path(rest);
        let req = Request {
            method,
            path: &full,
            query: &[],
            body: body.map_or(Body::None, Body::Json),
            retry,
        };
        self.session.call(&req, abort).await
    }

    async fn v2_json(
        &self,
        method: Method,
        rest: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let bytes = self
            .v2_call(method, rest, body, Retry::Transient, None)
            .await?;
        parse_body(&bytes, rest)
    }

    async fn v2_array(&self, rest: &str, body: &Value) -> Result<Vec<Value>, ApiError> {
        match self.v2_json(Method::POST, rest, Some(body)).await? {
            Value::Array(a) => Ok(a),
            other => Err(bad_shape(rest, "an array", &other)),
        }
    }

    /// `system/config-overrides`, as a nested config (the keys it shows).
    pub(super) async fn v2_config(&self) -> Result<Map<String, Value>, ApiError> {
        let v = self
            .v2_json(Method::GET, v2::CONFIG_OVERRIDES, None)
            .await?;
        if !v.is_object() {
            return Err(bad_shape(
                v2::CONFIG_OVERRIDES,
                "{\"config_override_info\": {…}}",
                &v,
            ));
        }
        // Before 10.11.0.cl the keys come without the wrapper.
        Ok(v2map::config_from_v2(
            v.get("config_override_info").unwrap_or(&v),
        ))
    }

    pub(super) async fn v2_update_config(
        &self,
        changes: &Map<String, Value>,
        abort: Option<&Abort>,
    ) -> Result<(), ApiError> {
        let body = json!({ "configuration": changes });
        self.v2_call(
            Method::POST,
            v2::CONFIG_UPDATE,
            Some(&body),
            Retry::Transient,
            abort,
        )
        .await
        .map(|_| ())
    }

    /// Custom actions (every one, or the one `identifier` names) with
    /// their associations and groups, in v1 form. Actions v2 cannot show
    /// (neither URL nor CALLBACK) are left out with a warning.
    async fn v2_search(&self, identifier: Option<&str>) -> Result<Vec<Value>, ApiError> {
        let mut body = json!({
            "include_group_associations": true,
            "include_metadata_associations": true,
        });
        if let Some(id) = identifier {
            body["custom_action_identifier"] = json!(id);
        }
        let found = match self.v2_array(v2::ACTIONS_SEARCH, &body).await {
            Ok(found) => found,
            // Some clusters answer an unknown identifier with a 400.
            Err(e) if identifier.is_some() && e.status == Some(400) => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut out = Vec::with_capacity(found.len());
        for a in &found {
            match action_from_v2(a) {
                Some(v1) => out.push(v1),
                None => {
                    let name = a.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                    tracing::warn!(
                        "{}: the action {name:?} has neither URL nor CALLBACK details in REST v2; it is left out (read it with api = \"v1\")",
                        self.label()
                    );
                }
            }
        }
        Ok(out)
    }

    pub(super) async fn v2_actions(&self) -> Result<Vec<Value>, ApiError> {
        self.v2_search(None).await
    }

    pub(super) async fn v2_action(&self, id: &str) -> Result<Map<String, Value>, ApiError> {
        let found = self.v2_search(Some(id)).await?;
        match found
            .into_iter()
            .find(|a| a.get("id").and_then(Value::as_str) == Some(id))
        {
            Some(Value::Object(m)) => Ok(m),
            _ => Err(not_found(&format!("the custom action {id}"))),
        }
    }

    /// `metadata/search` (and `groups/search` for groups), page by page,
    /// as `listobjectheaders` headers (`id`, `name`).
    pub(super) async fn v2_objects(
        &self,
        query: ObjectQuery,
        ids: &[String],
    ) -> Result<Vec<Value>, ApiError> {
        let kind = v2map::metadata_type(query.object_type);
        let mut items: Vec<Value> = if ids.is_empty() {
            let mut item = json!({ "type": kind });
            if !query.subtypes.is_empty() {
                item["subtypes"] = json!(query.subtypes);
            }
            vec![item]
        } else {
            ids.iter()
                .map(|id| json!({ "identifier": id, "type": kind }))
                .collect()
        };
        if items.is_empty() {
            items.push(json!({ "type": kind }));
        }
        let mut out = Vec::new();
        let mut offset = 0usize;
        loop {
            let body = json!({
                "metadata": items,
                "record_offset": offset,
                "record_size": PAGE,
                "sort_options": {"field_name": "NAME", "order": "ASC"},
            });
            let page = self.v2_array(v2::METADATA_SEARCH, &body).await?;
            let n = page.len();
            for h in page {
                let id = h
                    .get("metadata_id")
                    .or_else(|| h.get("metadata_header").and_then(|m| m.get("id")))
                    .cloned();
                let name = h
                    .get("metadata_name")
                    .or_else(|| h.get("metadata_header").and_then(|m| m.get("name")))
                    .cloned();
                if let Some(id) = id {
                    out.push(json!({ "id": id, "name": name }));
                }
            }
            if n < PAGE {
                return Ok(out);
            }
            offset += n;
        }
    }

    pub(super) async fn v2_create(
        &self,
        action: &Value,
        abort: Option<&Abort>,
    ) -> Result<Value, ApiError> {
        let body = v2map::create_body(action);
        let bytes = self
            .v2_call(
                Method::POST,
                v2::ACTIONS,
                Some(&body),
                Retry::OnlyThrottled,
                abort,
            )
            .await?;
        let created = parse_body(&bytes, v2::ACTIONS)?;
        action_from_v2(&created)
            .ok_or_else(|| bad_shape(v2::ACTIONS, "the created custom action", &created))
    }

    fn action_rest(id: &str, what: &str) -> Result<String, ApiError> {
        if id.trim().is_empty() {
            return Err(ApiError {
                kind: ErrorKind::BadResponse,
                status: None,
                message: "an action without an id cannot be addressed".into(),
                attempts: 0,
                answer: None,
            });
        }
        let escaped: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        Ok(format!("{}/{escaped}/{what}", v2::ACTIONS))
    }

    /// A 400 on an action's update or delete: v2 says "not found" so.
    /// Whether it is gone is read, not guessed from the text.
    async fn v2_gone(&self, id: &str, e: ApiError) -> ApiError {
        if e.status != Some(400) {
            return e;
        }
        match self.v2_action(id).await {
            Err(missing) if missing.is_not_found() => ApiError {
                attempts: e.attempts,
                ..not_found(&format!("the custom action {id}"))
            },
            _ => e,
        }
    }

    /// The action's own fields, then its user groups: added and removed
    /// against `before` (the groups it had), as v2 changes lists.
    pub(super) async fn v2_update(
        &self,
        id: &str,
        action: &Value,
        before: Option<&Value>,
        abort: Option<&Abort>,
    ) -> Result<(), ApiError> {
        let rest = Self::action_rest(id, "update")?;
        let body = v2map::update_body(action);
        if let Err(e) = self
            .v2_call(Method::POST, &rest, Some(&body), Retry::Transient, abort)
            .await
        {
            return Err(self.v2_gone(id, e).await);
        }
        let want = v2map::group_ids(action);
        let had = before.map(v2map::group_ids).unwrap_or_default();
        let add: Vec<&String> = want.iter().filter(|g| !had.contains(g)).collect();
        let remove: Vec<&String> = had.iter().filter(|g| !want.contains(g)).collect();
        for (groups, op) in [(add, "ADD"), (remove, "REMOVE")] {
            if groups.is_empty() {
                continue;
            }
            let body = json!({ "group_identifiers": groups, "operation": op });
            self.v2_call(Method::POST, &rest, Some(&body), Retry::Transient, abort)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn v2_delete(&self, id: &str, abort: Option<&Abort>) -> Result<(), ApiError> {
        let rest = Self::action_rest(id, "delete")?;
        match self
            .v2_call(Method::POST, &rest, None, Retry::Transient, abort)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(self.v2_gone(id, e).await),
        }
    }

    pub(super) async fn v2_associations(
        &self,
        id: &str,
        map: &Map<String, Value>,
        add: bool,
        abort: Option<&Abort>,
    ) -> Result<(), ApiError> {
        let rest = Self::action_rest(id, "update")?;
        let body = json!({
            "associate_metadata": v2map::associate_metadata(map),
            "operation": if add { "ADD" } else { "REMOVE" },
        });
        match self
            .v2_call(Method::POST, &rest, Some(&body), Retry::Transient, abort)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(self.v2_gone(id, e).await),
        }
    }

    /// The Orgs (`orgs/search`; for a user who may not search Orgs, the
    /// ones `auth/session/user` lists) and the one the login is in.
    pub(super) async fn v2_orgs(&self) -> Result<Option<OrgList>, ApiError> {
        let user = match self.v2_json(Method::GET, v2::SESSION_USER, None).await {
            Ok(u) => u,
            Err(e) if e.status == Some(404) => return Ok(None),
            Err(e) => return Err(e),
        };
        let org_of = |v: &Value| Some(Org::new(v.get("id")?.as_i64()?, v.get("name")?.as_str()?));
        let current = user.get("current_org").and_then(org_of);
        let searched = match self.v2_array(v2::ORGS_SEARCH, &json!({})).await {
            Ok(list) => Some(
                list.iter()
                    .filter(|o| o.get("status").and_then(Value::as_str) != Some("IN_ACTIVE"))
                    .filter_map(org_of)
                    .collect::<Vec<_>>(),
            ),
            Err(e) if matches!(e.status, Some(403) | Some(404)) => None,
            Err(e) => return Err(e),
        };
        let orgs = searched.unwrap_or_else(|| {
            user.get("orgs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(org_of)
                .collect()
        });
        match (orgs.is_empty(), current) {
            (true, None) => Ok(None),
            (_, current) => {
                let mut orgs = orgs;
                if let Some(c) = &current {
                    if !orgs.iter().any(|o| o.id == c.id) {
                        orgs.push(c.clone());
                    }
                }
                Ok(Some(OrgList {
                    orgs,
                    current: current.map_or(model::PRIMARY_ORG, |c| c.id),
                }))
            }
        }
    }

    /// REST v2 has no Org switch: log in again in Org `id` (a password
    /// is needed; a token carries its own Org).
    pub(super) async fn v2_switch(&self, id: i64) -> Result<(), ApiError> {
        if !self.session.endpoint.credentials.can_log_in() {
            return Err(ApiError {
                kind: ErrorKind::Rejected,
                status: None,
                message: format!(
                    "a REST v2 token carries its Org, and this one is not for Org {id}: use a token minted for that Org, or a username and password"
                ),
                attempts: 1,
                answer: None,
            });
        }
        self.session.login_in_org(id).await
    }
}
