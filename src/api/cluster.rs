//! Typed calls of the admin API on one session: reads, writes, object
//! look-ups. Answers are checked for the shape the API documents; bodies
//! are the API's (v1) shapes.

use std::sync::Arc;

use reqwest::Method;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::error::{bad_shape, not_json, parse_body};
use super::{Api, ApiError, Body, ErrorKind, Request, Retry, Session};
use crate::json::value::{read_answer_aside, read_answer_keeping, read_answer_where};
use crate::model::{self, ObjectQuery, Org};
use crate::signals::Abort;

/// Most bytes of one `fetchids` value, URL-encoded: with the rest of the
/// query the URL stays under 4 KiB, well inside the 8 KiB many servers
/// and proxies in front of a cluster allow.
const FETCHIDS_BYTES: usize = 3072;

/// `ids` in runs whose `fetchids` value (a JSON array, URL-encoded) takes
/// at most `limit` bytes; one id longer than that goes alone.
fn id_chunks(ids: &[String], limit: usize) -> Vec<&[String]> {
    // `["a","b"]` encodes as %5B%22a%22%2C%22b%22%5D: each id costs its
    // encoded self, two quotes (%22) and a comma (%2C); the brackets 6.
    let cost = |id: &String| {
        url::form_urlencoded::byte_serialize(id.as_bytes())
            .map(str::len)
            .sum::<usize>()
            + 9
    };
    let mut out = Vec::new();
    let (mut start, mut used) = (0, 6);
    for (i, id) in ids.iter().enumerate() {
        let c = cost(id);
        if i > start && used + c > limit {
            out.push(&ids[start..i]);
            (start, used) = (i, 6);
        }
        used += c;
    }
    if start < ids.len() {
        out.push(&ids[start..]);
    }
    out
}

/// Page size for `metadata/listobjectheaders`; a short page ends the list.
const OBJECT_PAGE: usize = 500;

/// One cluster as the tool talks to it.
#[derive(Clone)]
pub struct Cluster {
    pub session: Arc<Session>,
}

impl Cluster {
    pub fn new(session: Arc<Session>) -> Cluster {
        Cluster { session }
    }

    pub fn label(&self) -> &str {
        &self.session.endpoint.label
    }

    /// The API this cluster is spoken to in.
    pub fn api(&self) -> Api {
        self.session.api()
    }

    fn v2(&self) -> bool {
        self.api() == Api::V2
    }

    fn v1(path: &str) -> String {
        format!("{}{path}", model::V1_BASE)
    }

    async fn get_json(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ApiError> {
        self.get_read(path, query, crate::json::value::read_answer)
            .await
    }

    /// GET `path`, its answer read by `read` (what of it to build).
    async fn get_read<T>(
        &self,
        path: &str,
        query: &[(&str, String)],
        read: impl FnOnce(&[u8]) -> serde_json::Result<T>,
    ) -> Result<T, ApiError> {
        let full = Self::v1(path);
        let req = Request {
            query,
            ..Request::get(&full)
        };
        let body = self.session.call(&req, None).await?;
        read(&body).map_err(|e| not_json(path, e))
    }

    async fn get_object(&self, path: &str) -> Result<Map<String, Value>, ApiError> {
        object(path, self.get_json(path, &[]).await?)
    }

    async fn get_array(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<Value>, ApiError> {
        array(path, self.get_json(path, query).await?)
    }

    /// The config: v1's whole configinfo; on v2 only the keys
    /// `system/config-overrides` shows, nested. Beside it, the items of
    /// v1's list of every action in it (`model::ACTION_LIST_KEY`), as their
    /// JSON text: they are read only for what the action list may lack
    /// (associations, groups), action by action.
    pub async fn configinfo(&self) -> Result<(Map<String, Value>, Vec<Box<RawValue>>), ApiError> {
        if self.v2() {
            return Ok((self.v2_config().await?, Vec::new()));
        }
        let path = "/admin/configinfo";
        let read = |body: &[u8]| read_answer_aside(body, model::ACTION_LIST_KEY);
        let (config, listed) = self.get_read(path, &[], read).await?;
        Ok((object(path, config)?, listed))
    }

    /// v1's overrides metadata (types and patterns of config keys) of the
    /// dotted `keys` (sorted; the answer has every key, and is large); v2
    /// has none to give.
    pub async fn overrides(&self, keys: &[String]) -> Result<Map<String, Value>, ApiError> {
        if self.v2() {
            return Ok(Map::new());
        }
        let path = "/admin/configinfo/overrides";
        let read = |body: &[u8]| read_answer_keeping(body, keys);
        object(path, self.get_read(path, &[], read).await?)
    }

    /// Every action, in v1 form (on v2 with associations and groups).
    pub async fn actions(&self) -> Result<Vec<Value>, ApiError> {
        self.actions_where(&|_| true).await
    }

    /// The actions `keep` says yes to (v1 form), the others dropped as
    /// the answer is read.
    pub async fn actions_where(
        &self,
        keep: &dyn Fn(&Value) -> bool,
    ) -> Result<Vec<Value>, ApiError> {
        if self.v2() {
            let mut all = self.v2_actions().await?;
            all.retain(|a| keep(a));
            return Ok(all);
        }
        let path = "/admin/embed/actions";
        let read = |body: &[u8]| read_answer_where(body, keep);
        array(path, self.get_read(path, &[], read).await?)
    }

    pub async fn action(&self, id: &str) -> Result<Map<String, Value>, ApiError> {
        if self.v2() {
            return self.v2_action(id).await;
        }
        self.get_object(&action_path(id, "")?).await
    }

    pub async fn associations(&self, id: &str) -> Result<Map<String, Value>, ApiError> {
        if self.v2() {
            let one = self.v2_action(id).await?;
            return Ok(one
                .get(model::ASSOCIATION_MAP)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default());
        }
        self.get_object(&action_path(id, "/associations")?).await
    }

    /// The headers of the objects of one kind among `ids` (all of the kind
    /// when `ids` is empty), page by page.
    pub async fn object_headers(
        &self,
        query: ObjectQuery,
        ids: &[String],
    ) -> Result<Vec<Value>, ApiError> {
        if self.v2() {
            return self.v2_objects(query, ids).await;
        }
        if ids.is_empty() {
            return self.v1_object_headers(&query, None).await;
        }
        let mut out = Vec::new();
        for chunk in id_chunks(ids, FETCHIDS_BYTES) {
            out.extend(self.v1_object_headers(&query, Some(chunk)).await?);
        }
        Ok(out)
    }

    /// One `listobjectheaders` query, page by page.
    async fn v1_object_headers(
        &self,
        query: &ObjectQuery,
        ids: Option<&[String]>,
    ) -> Result<Vec<Value>, ApiError> {
        let mut out = Vec::new();
        let mut offset = 0usize;
        loop {
            let mut q = vec![
                ("type", query.object_type.to_string()),
                ("batchsize", OBJECT_PAGE.to_string()),
                ("offset", offset.to_string()),
            ];
            if !query.subtypes.is_empty() {
                q.push(("subtypes", json!(query.subtypes).to_string()));
            }
            if let Some(ids) = ids {
                q.push(("fetchids", json!(ids).to_string()));
            }
            let page = self.get_array("/metadata/listobjectheaders", &q).await?;
            let n = page.len();
            out.extend(page);
            if n < OBJECT_PAGE {
                return Ok(out);
            }
            offset += n;
        }
    }

    async fn write(
        &self,
        method: Method,
        path: &str,
        form: &[(&str, String)],
        retry: Retry,
        abort: Option<&Abort>,
    ) -> Result<bytes::Bytes, ApiError> {
        let full = Self::v1(path);
        let req = Request {
            method,
            path: &full,
            query: &[],
            body: if form.is_empty() {
                Body::None
            } else {
                Body::Form(form)
            },
            retry,
        };
        self.session.call(&req, abort).await
    }

    pub async fn update_config(
        &self,
        changes: &Map<String, Value>,
        abort: Option<&Abort>,
    ) -> Result<(), ApiError> {
        if self.v2() {
            return self.v2_update_config(changes, abort).await;
        }
        let form = [(
            model::CONFIG_CHANGES,
            Value::Object(changes.clone()).to_string(),
        )];
        self.write(
            Method::POST,
            "/admin/configinfo/update",
            &form,
            Retry::Transient,
            abort,
        )
        .await
        .map(|_| ())
    }

    /// Creates an action; after a transport failure the caller must look
    /// the name up before sending it again.
    pub async fn create_action(
        &self,
        action: &Value,
        abort: Option<&Abort>,
    ) -> Result<Value, ApiError> {
        if self.v2() {
            return self.v2_create(action, abort).await;
        }
        let form = [(model::EMBED_ACTION, action.to_string())];
        let body = self
            .write(
                Method::POST,
                "/admin/embed/actions",
                &form,
                Retry::OnlyThrottled,
                abort,
            )
            .await?;
        parse_body(&body, "/admin/embed/actions")
    }

    /// Writes the action's fields (v1: PUT the whole action). `before` is
    /// what it was (v2 changes user groups by adding and removing).
    pub async fn update_action(
        &self,
        id: &str,
        action: &Value,
        before: Option<&Value>,
        abort: Option<&Abort>,
    ) -> Result<(), ApiError> {
        if self.v2() {
            return self.v2_update(id, action, before, abort).await;
        }
        let form = [(model::EMBED_ACTION, action.to_string())];
        self.write(
            Method::PUT,
            &action_path(id, "")?,
            &form,
            Retry::Transient,
            abort,
        )
        .await
        .map(|_| ())
    }

    pub async fn delete_action(&self, id: &str, abort: Option<&Abort>) -> Result<(), ApiError> {
        if self.v2() {
            return self.v2_delete(id, abort).await;
        }
        self.write(
            Method::DELETE,
            &action_path(id, "")?,
            &[],
            Retry::Transient,
            abort,
        )
        .await
        .map(|_| ())
    }

    /// POST appends (or overwrites) the entries of `map`; DELETE removes them.
    pub async fn change_associations(
        &self,
        id: &str,
        map: &Map<String, Value>,
        add: bool,
        abort: Option<&Abort>,
    ) -> Result<(), ApiError> {
        if self.v2() {
            return self.v2_associations(id, map, add, abort).await;
        }
        let wrapper = json!({ model::ASSOCIATION_MAP: map });
        let form = [(model::ACTION_ASSOCIATION, wrapper.to_string())];
        let method = if add { Method::POST } else { Method::DELETE };
        self.write(
            method,
            &action_path(id, "/associations")?,
            &form,
            Retry::Transient,
            abort,
        )
        .await
        .map(|_| ())
    }

    /// Where the cluster keeps one Org per user: finds the action `id`
    /// that a create served while another session had moved the user
    /// left in another Org, and deletes it there. The Org it was found
    /// in, or `None` if no other Org has it.
    pub async fn remove_stray(&self, id: &str) -> Result<Option<i64>, ApiError> {
        let own = self.session.org_target();
        let orgs = self.org_list().await?.map(|l| l.orgs).unwrap_or_default();
        let path = Self::v1(&action_path(id, "")?);
        for org in orgs.iter().map(|o| o.id).filter(|o| Some(*o) != own) {
            match self.session.call_in_org(&Request::get(&path), org).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            }
            let delete = Request {
                method: Method::DELETE,
                ..Request::get(&path)
            };
            match self.session.call_in_org(&delete, org).await {
                Ok(_) => return Ok(Some(org)),
                // Gone meanwhile (proven in its Org): nothing left there.
                Err(e) if e.is_not_found() => return Ok(Some(org)),
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// `GET session/orgs`: the Orgs the user can see and the session's
    /// current one. `None` when the cluster has no Orgs: it does not know
    /// the endpoint (404) or lists none.
    pub async fn org_list(&self) -> Result<Option<OrgList>, ApiError> {
        if self.v2() {
            return self.v2_orgs().await;
        }
        let path = model::SESSION_ORGS;
        let q = [
            ("batchsize", "-1".to_string()),
            ("offset", "-1".to_string()),
        ];
        let answer = match self.get_json(path, &q).await {
            Ok(v) => v,
            Err(e) if e.status == Some(404) => return Ok(None),
            Err(e) => return Err(e),
        };
        parse_org_list(&answer).map_err(|why| bad_shape(path, why, &answer))
    }

    /// `PUT session/orgs` (form `orgid`): the session works in Org `id` from now on.
    pub async fn switch_org(&self, id: i64) -> Result<(), ApiError> {
        if self.v2() {
            return self.v2_switch(id).await;
        }
        self.write(
            Method::PUT,
            model::SESSION_ORGS,
            &[(model::PARAM_ORG_ID, id.to_string())],
            Retry::Transient,
            None,
        )
        .await
        .map(|_| ())
    }

    /// The Org the session works in (`None` on a cluster without Orgs).
    pub fn org(&self) -> Option<Org> {
        self.session.org()
    }
}

/// The answer of `GET session/orgs`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgList {
    pub orgs: Vec<Org>,
    pub current: i64,
}

pub(super) fn parse_org_list(v: &Value) -> Result<Option<OrgList>, &'static str> {
    const SHAPE: &str = "{\"orgs\": [{\"orgId\", \"orgName\"}], \"currentOrgId\"}";
    let list = v.get("orgs").and_then(Value::as_array).ok_or(SHAPE)?;
    let mut orgs = Vec::with_capacity(list.len());
    for o in list {
        let id = o.get("orgId").and_then(Value::as_i64).ok_or(SHAPE)?;
        let name = o.get("orgName").and_then(Value::as_str).ok_or(SHAPE)?;
        // An inactive Org cannot be worked in; the API lists only active ones.
        if o.get("isActive").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        orgs.push(Org {
            id,
            name: name.to_string(),
            admin_group: o
                .get("defaultAdminUserGroupId")
                .and_then(Value::as_str)
                .filter(|g| !g.is_empty())
                .map(str::to_string),
        });
    }
    if orgs.is_empty() {
        return Ok(None);
    }
    let current = v.get("currentOrgId").and_then(Value::as_i64).ok_or(SHAPE)?;
    Ok(Some(OrgList { orgs, current }))
}

/// `/admin/embed/actions/{id}{rest}`; an empty id is a bug upstream, never
/// a request to the collection.
fn action_path(id: &str, rest: &str) -> Result<String, ApiError> {
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
    Ok(format!("/admin/embed/actions/{escaped}{rest}"))
}

/// An answer that must be an object.
fn object(path: &str, v: Value) -> Result<Map<String, Value>, ApiError> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(bad_shape(path, "an object", &other)),
    }
}

/// An answer that must be an array.
fn array(path: &str, v: Value) -> Result<Vec<Value>, ApiError> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(bad_shape(path, "an array", &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetchids_go_in_chunks_that_fit_the_limit_and_keep_every_id_in_order() {
        let ids: Vec<String> = (0..500)
            .map(|i| format!("{i:08x}-0000-4000-8000-00000000ü{i}"))
            .collect();
        let chunks = id_chunks(&ids, FETCHIDS_BYTES);
        assert!(chunks.len() > 1);
        for c in &chunks {
            let value = json!(c).to_string();
            let encoded: usize = url::form_urlencoded::byte_serialize(value.as_bytes())
                .map(str::len)
                .sum();
            assert!(encoded <= FETCHIDS_BYTES, "{encoded}");
        }
        let back: Vec<&String> = chunks.iter().flat_map(|c| c.iter()).collect();
        assert_eq!(back, ids.iter().collect::<Vec<_>>());
        // One id longer than the limit goes alone; none is lost.
        let long = vec!["x".repeat(5000), "y".into()];
        assert_eq!(id_chunks(&long, 100).len(), 2);
        assert!(id_chunks(&[], 100).is_empty());
    }

    #[test]
    fn org_lists() {
        let v = json!({"orgs": [{"orgId": 0, "orgName": "Primary", "isActive": true,
                "defaultAdminUserGroupId": "d0326b56-ef23-4c8a-8327-a30e99bcc72b"},
            {"orgId": 7, "orgName": "Old", "isActive": false}, {"orgId": 9, "orgName": "Sales"}],
            "canAdministerAllOrgs": true, "currentOrgId": 9});
        let list = parse_org_list(&v).unwrap().unwrap();
        assert_eq!(list.current, 9);
        assert_eq!(
            list.orgs.iter().map(|o| o.id).collect::<Vec<_>>(),
            vec![0, 9],
            "inactive Orgs are not offered"
        );
        assert_eq!(
            list.orgs[0].admin_group.as_deref(),
            Some("d0326b56-ef23-4c8a-8327-a30e99bcc72b")
        );
        assert_eq!(list.orgs[1].admin_group, None);
        assert_eq!(parse_org_list(&json!({"orgs": []})), Ok(None));
        assert!(parse_org_list(&json!({"orgs": [{"orgId": "x"}]})).is_err());
        assert!(parse_org_list(&json!([])).is_err());
    }

    #[test]
    fn action_paths_need_an_id() {
        assert!(action_path("", "").is_err());
        assert_eq!(
            action_path("a-b", "/associations").unwrap(),
            "/admin/embed/actions/a-b/associations"
        );
    }
}
