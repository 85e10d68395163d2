//! REST v2 in the tool's terms. The canonical document stays the v1 shape
//! whichever API a cluster speaks; this is the one mapping between a v1
//! action and a v2 custom action (README, "REST API v2"), pure and tested:
//!
//! | v1 | v2 |
//! |---|---|
//! | `type` URL / CALLBACK | `action_details.URL` / `.CALLBACK` |
//! | `detail.link` | `URL.url` |
//! | `detail.function` | `URL.reference` / `CALLBACK.reference` |
//! | `detail.authSelect` NONE, BEARER + `authToken`, API_KEY + `apiKey`/`apiValue` | `authentication` `No_Auth`, `Bearer_Token`, `API_Key {key, value}` |
//! | `availability` `["GLOBAL"]` / else | `default_action_config.visibility` true / false |
//! | `actionAssociationMap[T][guid] {enabled, context}` | `metadata_association [{identifier, type, action_config {visibility, position}}]` |
//! | `userGroupList` | `group_identifiers` / `user_groups[].id` |
//!
//! What one side cannot hold is named, never dropped: APP actions,
//! `additionalUrlHeaders`, `encodeUser`, an association context NONE and
//! any `detail` field this table does not name go nowhere in v2; URL
//! `parameters` and `Basic_Auth` go nowhere in v1 (`detail.parameters`,
//! `authSelect` BASIC_AUTH here). Basic authentication's user and password
//! are undocumented in v1: `username`/`password` (what a v2 action shows
//! through v1, and what this tool writes) and
//! `basicAuthUsername`/`basicAuthPassword` are both read; two spellings
//! that disagree are refused. `version`, `application`, the action-level
//! `context` and `schemaVersion` are the server's own and are not compared
//! between APIs.

use serde_json::{json, Map, Value};

use crate::model;

/// `detail.authSelect` for an API-key action (no v1 page shows the literal).
pub const AUTH_API_KEY: &str = "API_KEY";
/// `detail.authSelect` for v2's `Basic_Auth`, which v1 cannot hold.
pub const AUTH_BASIC: &str = "BASIC_AUTH";

/// The two spellings of basic authentication in a v1 `detail`, the first
/// the one written.
const BASIC_SPELLINGS: [(&str, &str); 2] = [
    ("username", "password"),
    ("basicAuthUsername", "basicAuthPassword"),
];

/// The `detail` fields this mapping knows; any other has no place in v2.
const KNOWN_DETAIL: [&str; 14] = [
    "link",
    "function",
    "authSelect",
    "authToken",
    "apiKey",
    "apiValue",
    "encodeUser",
    "additionalUrlHeaders",
    "appActionType",
    "parameters",
    "username",
    "password",
    "basicAuthUsername",
    "basicAuthPassword",
];

/// Basic authentication's user and password in `d`, whichever spelling
/// holds them (the written one when it holds anything); `Err` with the
/// pointer and why where the two spellings disagree.
fn basic_auth(d: &Map<String, Value>) -> Result<(Value, Value), (String, String)> {
    let set = |k: &str| {
        d.get(k)
            .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
    };
    let mut found: Option<(Value, Value)> = None;
    for (user, pass) in BASIC_SPELLINGS {
        if set(user).is_none() && set(pass).is_none() {
            continue;
        }
        let pair = (
            d.get(user).cloned().unwrap_or_else(|| json!("")),
            d.get(pass).cloned().unwrap_or_else(|| json!("")),
        );
        match &found {
            None => found = Some(pair),
            Some(first) if *first == pair => {}
            Some(_) => {
                return Err((
                    format!("/detail/{user}"),
                    format!(
                        "basic authentication is spelt twice with different values ({} and {user}/{pass})",
                        BASIC_SPELLINGS[0].0
                    ),
                ))
            }
        }
    }
    Ok(found.unwrap_or_else(|| (json!(""), json!(""))))
}

/// Fields a v1 server keeps on its own, never compared between APIs.
const SERVER_FIELDS: &[&str] = &["version", "application", "context", "schemaVersion", "id"];

/// Which API a side speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    #[default]
    V1,
    V2,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::V1 => "REST v1",
            Api::V2 => "REST v2",
        }
    }
}

/// A v2 custom action (as search or create answer it) as the v1 API would
/// show it, id included. `None` for an action whose details are neither
/// URL nor CALLBACK (v2 cannot show what it is).
pub fn action_from_v2(v: &Value) -> Option<Value> {
    let name = v.get("name")?.as_str()?;
    let details = v.get("action_details").unwrap_or(&Value::Null);
    let callback = details.get("CALLBACK").filter(|c| !c.is_null());
    let url = details.get("URL").filter(|u| !u.is_null());
    let reference = |x: &Value| {
        x.get("reference")
            .and_then(Value::as_str)
            .unwrap_or(name)
            .to_string()
    };
    let mut detail = Map::new();
    let kind = if let Some(c) = callback {
        detail.insert("link".into(), json!(""));
        detail.insert("function".into(), json!(reference(c)));
        detail.insert("authSelect".into(), json!("NONE"));
        "CALLBACK"
    } else if let Some(u) = url {
        detail.insert(
            "link".into(),
            u.get("url").cloned().unwrap_or_else(|| json!("")),
        );
        detail.insert("function".into(), json!(reference(u)));
        auth_from_v2(u.get("authentication"), &mut detail);
        if let Some(params) = u
            .get("parameters")
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty())
        {
            detail.insert("parameters".into(), Value::Array(params.clone()));
        }
        "URL"
    } else {
        return None;
    };
    let visibility = v
        .get("default_action_config")
        .and_then(|d| d.get("visibility"))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let mut associations: Map<String, Value> = Map::new();
    for item in v
        .get("metadata_association")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(id), Some(kind)) = (
            item.get("identifier").and_then(Value::as_str),
            item.get("type").and_then(Value::as_str),
        ) else {
            continue;
        };
        let config = item.get("action_config").unwrap_or(&Value::Null);
        let enabled = config
            .get("visibility")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let context = config
            .get("position")
            .and_then(Value::as_str)
            .unwrap_or("MENU");
        let of_kind = associations
            .entry(kind.to_string())
            .or_insert_with(|| json!({}));
        if let Some(m) = of_kind.as_object_mut() {
            m.insert(
                id.to_string(),
                json!({"enabled": enabled.to_string(), "context": context}),
            );
        }
    }
    let groups: Vec<Value> = v
        .get("user_groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("id").and_then(Value::as_str).map(|s| json!(s)))
        .collect();
    let mut out = json!({
        "name": name,
        "type": kind,
        "detail": detail,
        "availability": if visibility { json!(["GLOBAL"]) } else { json!(["LOCAL"]) },
        (model::ASSOCIATION_MAP): associations,
        (model::USER_GROUPS): groups,
    });
    if let Some(id) = v.get("id").and_then(Value::as_str) {
        out["id"] = json!(id);
    }
    Some(out)
}

fn auth_from_v2(auth: Option<&Value>, detail: &mut Map<String, Value>) {
    let auth = auth.filter(|a| a.is_object());
    let pick = |k: &str| auth.and_then(|a| a.get(k)).filter(|v| !v.is_null());
    if let Some(token) = pick("Bearer_Token") {
        detail.insert("authSelect".into(), json!("BEARER"));
        detail.insert("authToken".into(), token.clone());
    } else if let Some(key) = pick("API_Key") {
        detail.insert("authSelect".into(), json!(AUTH_API_KEY));
        detail.insert(
            "apiKey".into(),
            key.get("key").cloned().unwrap_or_else(|| json!("")),
        );
        detail.insert(
            "apiValue".into(),
            key.get("value").cloned().unwrap_or_else(|| json!("")),
        );
    } else if let Some(basic) = pick("Basic_Auth") {
        detail.insert("authSelect".into(), json!(AUTH_BASIC));
        let (user, pass) = BASIC_SPELLINGS[0];
        detail.insert(
            user.into(),
            basic.get("username").cloned().unwrap_or_else(|| json!("")),
        );
        detail.insert(
            pass.into(),
            basic.get("password").cloned().unwrap_or_else(|| json!("")),
        );
    } else {
        detail.insert("authSelect".into(), json!("NONE"));
    }
}

/// What an action (canonical form) becomes where only what both APIs hold
/// is compared, and what of it `to` cannot hold: relative pointers with
/// the reason.
pub fn project(action: &Value, to: Api) -> (Value, Vec<(String, String)>) {
    let mut lost = Vec::new();
    let Some(obj) = action.as_object() else {
        return (action.clone(), lost);
    };
    let mut out = Map::new();
    for (k, v) in obj {
        if SERVER_FIELDS.contains(&k.as_str()) {
            continue;
        }
        match k.as_str() {
            "type" => {
                let t = v.as_str().unwrap_or("");
                if to == Api::V2 && t != "URL" && t != "CALLBACK" {
                    lost.push((
                        "/type".into(),
                        format!("REST v2 has no {t} actions (only URL and CALLBACK)"),
                    ));
                }
                out.insert(k.clone(), v.clone());
            }
            "detail" => {
                let callback = obj.get("type").and_then(Value::as_str) == Some("CALLBACK");
                out.insert(k.clone(), project_detail(v, callback, to, &mut lost));
            }
            "availability" => {
                let global = v
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("GLOBAL")));
                out.insert(
                    k.clone(),
                    if global {
                        json!(["GLOBAL"])
                    } else {
                        json!(["LOCAL"])
                    },
                );
            }
            model::ASSOCIATION_MAP => {
                out.insert(k.clone(), project_associations(v, to, &mut lost));
            }
            // No groups means everyone in REST v1 and the UI, but only
            // administrators and developers on a REST v2 action: the
            // same `[]` read on both sides would hide the change.
            model::USER_GROUPS if v.as_array().is_some_and(Vec::is_empty) => {
                lost.push((
                    format!("/{}", model::USER_GROUPS),
                    match to {
                        Api::V2 => "no groups means everyone in REST v1, but a REST v2 action with no groups is visible to administrators and developers only: give it the groups that should see it (for everyone, the Org's All group) on the source",
                        Api::V1 => "no groups means administrators and developers only on REST v2, but everyone in REST v1: give it the groups that should see it on the source",
                    }
                    .into(),
                ));
                out.insert(k.clone(), v.clone());
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    (Value::Object(out), lost)
}

/// Every action of `doc` as both APIs can hold it; what `to` cannot hold
/// of them, as "pointer: why".
pub fn project_doc(doc: &mut Value, to: Api) -> Vec<String> {
    let mut lost = Vec::new();
    let Some(actions) = doc.get_mut("actions").and_then(Value::as_object_mut) else {
        return lost;
    };
    for (name, action) in actions.iter_mut() {
        let (projected, missing) = project(action, to);
        *action = projected;
        for (rel, why) in missing {
            lost.push(format!(
                "{}{rel}: {why}",
                crate::pointer::join(&["actions", name])
            ));
        }
    }
    lost
}

fn project_detail(
    detail: &Value,
    callback: bool,
    to: Api,
    lost: &mut Vec<(String, String)>,
) -> Value {
    let Some(d) = detail.as_object() else {
        return detail.clone();
    };
    let text = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
    let mut out = Map::new();
    if !callback {
        out.insert(
            "link".into(),
            d.get("link").cloned().unwrap_or_else(|| json!("")),
        );
    }
    if let Some(f) = d.get("function") {
        out.insert("function".into(), f.clone());
    }
    // A v2 callback holds a reference and nothing else: a link or an
    // authentication on a v1 callback would be lost on the way there.
    if callback && to == Api::V2 {
        if !text("link").is_empty() {
            lost.push((
                "/detail/link".into(),
                "REST v2 has no link for CALLBACK actions".into(),
            ));
        }
        if !matches!(text("authSelect"), "" | "NONE") {
            lost.push((
                "/detail/authSelect".into(),
                "REST v2 has no authentication for CALLBACK actions".into(),
            ));
        }
    }
    let select = if callback { "NONE" } else { text("authSelect") };
    let select = if select.is_empty() { "NONE" } else { select };
    out.insert("authSelect".into(), json!(select));
    match select {
        "NONE" => {}
        "BEARER" => {
            out.insert(
                "authToken".into(),
                d.get("authToken").cloned().unwrap_or_else(|| json!("")),
            );
        }
        AUTH_API_KEY => {
            for k in ["apiKey", "apiValue"] {
                out.insert(k.into(), d.get(k).cloned().unwrap_or_else(|| json!("")));
            }
        }
        AUTH_BASIC => {
            let (user, pass) = match basic_auth(d) {
                Ok(pair) => pair,
                Err(why) => {
                    lost.push(why);
                    (json!(""), json!(""))
                }
            };
            let (u, p) = BASIC_SPELLINGS[0];
            out.insert(u.into(), user);
            out.insert(p.into(), pass);
            if to == Api::V1 {
                lost.push((
                    "/detail/authSelect".into(),
                    "REST v1 has no basic authentication for actions".into(),
                ));
            }
        }
        other => {
            out.insert("authSelect".into(), json!(other));
            lost.push((
                "/detail/authSelect".into(),
                format!("{other:?} is not an authentication both APIs know"),
            ));
        }
    }
    let headers_set = match d.get("additionalUrlHeaders") {
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::String(s)) => !s.trim().is_empty() && s.trim() != "{}",
        Some(Value::Null) | None => false,
        Some(_) => true,
    };
    if headers_set {
        out.insert(
            "additionalUrlHeaders".into(),
            d.get("additionalUrlHeaders").cloned().unwrap_or_default(),
        );
        if to == Api::V2 {
            lost.push((
                "/detail/additionalUrlHeaders".into(),
                "REST v2 has no custom URL headers".into(),
            ));
        }
    }
    for (key, why) in [
        ("encodeUser", "REST v2 has no encodeUser"),
        ("appActionType", "REST v2 has no APP actions"),
    ] {
        if !text(key).is_empty() {
            out.insert(key.into(), d[key].clone());
            if to == Api::V2 {
                lost.push((format!("/detail/{key}"), why.into()));
            }
        }
    }
    // Fields no table row names: kept (so a difference shows) and, on
    // the way to v2, refused by pointer.
    for (k, v) in d
        .iter()
        .filter(|(k, _)| !KNOWN_DETAIL.contains(&k.as_str()))
    {
        out.insert(k.clone(), v.clone());
        if to == Api::V2 {
            lost.push((
                format!("/detail/{}", crate::pointer::escape(k)),
                format!("REST v2 has no place for the detail field {k:?}"),
            ));
        }
    }
    if let Some(p) = d
        .get("parameters")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    {
        out.insert("parameters".into(), Value::Array(p.clone()));
        if to == Api::V1 {
            lost.push((
                "/detail/parameters".into(),
                "REST v1 has no URL parameters for actions".into(),
            ));
        }
    }
    Value::Object(out)
}

fn project_associations(map: &Value, to: Api, lost: &mut Vec<(String, String)>) -> Value {
    let Some(m) = map.as_object() else {
        return map.clone();
    };
    let mut out = Map::new();
    for (kind, entries) in m {
        // A kind neither API documents (v2 answers `type` as a free
        // string) is kept verbatim and refused on the way to either: it
        // is never written as some other kind.
        let known = model::AssociationKind::parse(kind).is_some();
        if !known {
            lost.push((
                format!(
                    "/{}/{}",
                    model::ASSOCIATION_MAP,
                    crate::pointer::escape(kind)
                ),
                format!(
                    "REST {} cannot associate an action with {kind:?} (not a kind both APIs know)",
                    to.name()
                ),
            ));
        }
        let mut of_kind = Map::new();
        for (guid, entry) in entries.as_object().into_iter().flatten() {
            let enabled = match entry.get("enabled") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s != "false",
                _ => true,
            };
            let context = entry
                .get("context")
                .and_then(Value::as_str)
                .unwrap_or("MENU");
            if context == "NONE" && to == Api::V2 {
                lost.push((
                    format!(
                        "/{}/{}/{}/context",
                        model::ASSOCIATION_MAP,
                        crate::pointer::escape(kind),
                        crate::pointer::escape(guid)
                    ),
                    "REST v2 has no association position NONE".into(),
                ));
            }
            of_kind.insert(
                guid.clone(),
                json!({"enabled": enabled.to_string(), "context": context}),
            );
        }
        out.insert(kind.clone(), Value::Object(of_kind));
    }
    Value::Object(out)
}

/// `action_details` of an action (v1 API form).
fn details(action: &Value) -> Value {
    let d = action.get("detail").unwrap_or(&Value::Null);
    let text = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let name = action.get("name").and_then(Value::as_str).unwrap_or("");
    let reference = match text("function") {
        f if f.is_empty() => name.to_string(),
        f => f,
    };
    if action.get("type").and_then(Value::as_str) == Some("CALLBACK") {
        return json!({"CALLBACK": {"reference": reference}});
    }
    let authentication = match text("authSelect").as_str() {
        "BEARER" => json!({"Bearer_Token": text("authToken")}),
        AUTH_API_KEY => json!({"API_Key": {"key": text("apiKey"), "value": text("apiValue")}}),
        AUTH_BASIC => {
            let (user, pass) = d
                .as_object()
                .and_then(|d| basic_auth(d).ok())
                .unwrap_or_else(|| (json!(""), json!("")));
            json!({"Basic_Auth": {"username": user, "password": pass}})
        }
        _ => json!({"No_Auth": ""}),
    };
    let mut url =
        json!({"url": text("link"), "reference": reference, "authentication": authentication});
    if let Some(p) = d.get("parameters").filter(|p| p.is_array()) {
        url["parameters"] = p.clone();
    }
    json!({"URL": url})
}

fn visibility(action: &Value) -> bool {
    action
        .get("availability")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("GLOBAL")))
}

/// `associate_metadata` items of an association map.
pub fn associate_metadata(map: &Map<String, Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for (kind, entries) in map {
        for (guid, entry) in entries.as_object().into_iter().flatten() {
            let enabled = match entry.get("enabled") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s != "false",
                _ => true,
            };
            let position = entry
                .get("context")
                .and_then(Value::as_str)
                .unwrap_or("MENU");
            out.push(json!({
                "identifier": guid, "type": kind,
                "action_config": {"position": position, "visibility": enabled},
            }));
        }
    }
    out
}

/// The body of `POST custom-actions` for an action (v1 API form).
pub fn create_body(action: &Value) -> Value {
    let mut body = json!({
        "name": action.get("name").cloned().unwrap_or_default(),
        "action_details": details(action),
        "default_action_config": {"visibility": visibility(action)},
    });
    if let Some(map) = action
        .get(model::ASSOCIATION_MAP)
        .and_then(Value::as_object)
    {
        let items = associate_metadata(map);
        if !items.is_empty() {
            body["associate_metadata"] = Value::Array(items);
        }
    }
    let groups = group_ids(action);
    if !groups.is_empty() {
        body["group_identifiers"] = json!(groups);
    }
    body
}

/// The body of `POST custom-actions/{id}/update` for the action's own
/// fields (name, details, default visibility): lists are changed apart.
pub fn update_body(action: &Value) -> Value {
    json!({
        "name": action.get("name").cloned().unwrap_or_default(),
        "action_details": details(action),
        "default_action_config": {"visibility": visibility(action)},
    })
}

/// The user group GUIDs of an action (v1 API form).
pub fn group_ids(action: &Value) -> Vec<String> {
    action
        .get(model::USER_GROUPS)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.as_str().map(str::to_string))
        .collect()
}

/// `config_override_info` as a nested config: dotted keys split, v1-style
/// metadata wrappers (`{"current": …, "dataType": …}`) unwrapped, the
/// action list left out. `null` is no keys.
pub fn config_from_v2(info: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in info.as_object().into_iter().flatten() {
        if key == model::ACTION_LIST_KEY {
            continue;
        }
        let value = match value {
            Value::Object(m) if m.contains_key("current") && m.contains_key("dataType") => {
                m["current"].clone()
            }
            v => v.clone(),
        };
        insert_dotted(&mut out, key, value);
    }
    out
}

fn insert_dotted(into: &mut Map<String, Value>, key: &str, value: Value) {
    match key.split_once('.') {
        None => match (into.get_mut(key), value) {
            (Some(Value::Object(have)), Value::Object(more)) => {
                for (k, v) in more {
                    insert_dotted(have, &k, v);
                }
            }
            (_, value) => {
                into.insert(key.to_string(), value);
            }
        },
        Some((head, rest)) => {
            let slot = into
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(m) = slot {
                insert_dotted(m, rest, value);
            }
        }
    }
}

/// v1 `listobjectheaders` type (and subtypes) → v2 `metadata/search` type.
pub fn metadata_type(object_type: &str) -> &'static str {
    match object_type {
        "QUESTION_ANSWER_BOOK" => "ANSWER",
        "PINBOARD_ANSWER_BOOK" => "LIVEBOARD",
        "LOGICAL_TABLE" => "LOGICAL_TABLE",
        "USER_GROUP" => "USER_GROUP",
        "USER" => "USER",
        "TAG" => "TAG",
        "LOGICAL_COLUMN" => "LOGICAL_COLUMN",
        "LOGICAL_RELATIONSHIP" => "LOGICAL_RELATIONSHIP",
        "DATA_SOURCE" => "CONNECTION",
        _ => "LIVEBOARD",
    }
}

/// The message of a v2 error body (`{"error": {"message": {"debug": …}}}`),
/// or `None` where the body is not one.
pub fn error_text(body: &Value) -> Option<String> {
    let message = body.get("error")?.get("message")?;
    match message {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => {
            let debug = m.get("debug").and_then(Value::as_str);
            let code = m.get("code").and_then(Value::as_i64);
            match (debug, code) {
                (Some(d), Some(c)) => Some(format!("{d} (code {c})")),
                (Some(d), None) => Some(d.to_string()),
                (None, Some(c)) => Some(format!("error code {c}")),
                (None, None) => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1_url() -> Value {
        json!({"name": "unpkg test", "version": "v2", "type": "URL",
            "detail": {"link": "https://unpkg.com", "function": "unpkg-test", "authSelect": "BEARER",
                "authToken": "AbCdEf123456", "encodeUser": "", "apiKey": "X-API-KEY", "apiValue": "",
                "additionalUrlHeaders": {}, "appActionType": ""},
            "actionAssociationMap": {"ANSWER": {"e78": {"enabled": "true", "context": "MENU"}}},
            "context": "NONE", "availability": ["GLOBAL"], "application": "NONE", "userGroupList": ["g1"]})
    }

    #[test]
    fn a_url_action_goes_to_v2_and_back_as_its_projection() {
        let a = v1_url();
        let body = create_body(&a);
        assert_eq!(body["action_details"]["URL"]["url"], "https://unpkg.com");
        assert_eq!(
            body["action_details"]["URL"]["authentication"],
            json!({"Bearer_Token": "AbCdEf123456"})
        );
        assert_eq!(
            body["associate_metadata"][0]["action_config"]["position"],
            "MENU"
        );
        assert_eq!(body["group_identifiers"], json!(["g1"]));
        // As a v2 cluster would answer it (both includes).
        let answer = json!({"id": "x", "name": body["name"], "action_details": body["action_details"],
            "default_action_config": body["default_action_config"],
            "metadata_association": body["associate_metadata"],
            "user_groups": [{"id": "g1", "name": "Sales"}]});
        let back = action_from_v2(&answer).unwrap();
        let (want, lost) = project(&a, Api::V2);
        assert!(lost.is_empty(), "{lost:?}");
        let (got, _) = project(&crate::document::action_from_api(&back), Api::V2);
        assert_eq!(got, want);
    }

    #[test]
    fn what_v2_cannot_hold_is_named() {
        let mut a = v1_url();
        a["type"] = json!("APP");
        a["detail"]["additionalUrlHeaders"] = json!({"h": {"key": "k", "value": "v"}});
        a["detail"]["encodeUser"] = json!("x");
        a["actionAssociationMap"]["ANSWER"]["e78"]["context"] = json!("NONE");
        let (_, lost) = project(&a, Api::V2);
        let pointers: Vec<&str> = lost.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            vec![
                "/actionAssociationMap/ANSWER/e78/context",
                "/detail/additionalUrlHeaders",
                "/detail/encodeUser",
                "/type"
            ]
        );
        // Nothing is lost going to v1 from a v1 action.
        assert!(project(&v1_url(), Api::V1).1.is_empty());
    }

    #[test]
    fn what_v1_cannot_hold_is_named() {
        let answer = json!({"id": "x", "name": "p", "default_action_config": {"visibility": false},
            "user_groups": [{"id": "g1", "name": "Sales"}],
            "action_details": {"URL": {"url": "https://x.example.test", "parameters": [{"key": "a", "value": "b"}],
                "authentication": {"Basic_Auth": {"username": "u", "password": "p"}}}}});
        let a = crate::document::action_from_api(&action_from_v2(&answer).unwrap());
        assert_eq!(a["availability"], json!(["LOCAL"]));
        assert_eq!(
            a["detail"]["function"], "p",
            "reference defaults to the name"
        );
        let (_, lost) = project(&a, Api::V1);
        let pointers: Vec<&str> = lost.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(pointers, vec!["/detail/authSelect", "/detail/parameters"]);
    }

    #[test]
    fn basic_auth_in_either_spelling_travels_and_unknown_fields_are_refused() {
        for (user, pass) in BASIC_SPELLINGS {
            let mut a = v1_url();
            a["detail"]["authSelect"] = json!(AUTH_BASIC);
            a["detail"][user] = json!("jürgen");
            a["detail"][pass] = json!("S3CRET-pw");
            let (projected, lost) = project(&a, Api::V2);
            assert!(
                lost.iter().all(|(p, _)| p != "/detail/username"),
                "{lost:?}"
            );
            assert_eq!(projected["detail"]["username"], "jürgen");
            let body = create_body(&a);
            assert_eq!(
                body["action_details"]["URL"]["authentication"],
                json!({"Basic_Auth": {"username": "jürgen", "password": "S3CRET-pw"}})
            );
            // Back from v2: the same projection.
            let mut back = body.clone();
            back["name"] = a["name"].clone();
            let read = crate::document::action_from_api(&action_from_v2(&back).unwrap());
            assert_eq!(project(&read, Api::V2).0["detail"], projected["detail"]);
        }
        // Two spellings that disagree, and a field v2 has no place for.
        let mut a = v1_url();
        a["detail"]["authSelect"] = json!(AUTH_BASIC);
        a["detail"]["username"] = json!("a");
        a["detail"]["basicAuthUsername"] = json!("b");
        a["detail"]["customHeaderMode"] = json!("X");
        let pointers: Vec<String> = project(&a, Api::V2).1.into_iter().map(|(p, _)| p).collect();
        assert!(
            pointers.contains(&"/detail/basicAuthUsername".to_string()),
            "{pointers:?}"
        );
        assert!(
            pointers.contains(&"/detail/customHeaderMode".to_string()),
            "{pointers:?}"
        );
        // The same action read from v1 and compared with v1 loses nothing.
        assert!(project(&a, Api::V1)
            .1
            .iter()
            .all(|(p, _)| p != "/detail/customHeaderMode"));
    }

    #[test]
    fn an_unknown_association_kind_from_v2_is_kept_and_refused_both_ways() {
        let answer = json!({"id": "x", "name": "n", "action_details": {"URL": {"url": "https://x.example.test"}},
            "metadata_association": [{"identifier": "g1", "type": "SPOTTER_MODEL",
                "action_config": {"visibility": true, "position": "MENU"}}]});
        let a = crate::document::action_from_api(&action_from_v2(&answer).unwrap());
        assert!(
            a["actionAssociationMap"]["SPOTTER_MODEL"]["g1"].is_object(),
            "{a}"
        );
        for to in [Api::V1, Api::V2] {
            let (_, lost) = project(&a, to);
            assert!(
                lost.iter()
                    .any(|(p, _)| p == "/actionAssociationMap/SPOTTER_MODEL"),
                "{to:?}: {lost:?}"
            );
        }
    }

    #[test]
    fn no_groups_is_refused_between_apis_where_it_changes_who_sees_the_action() {
        let mut a = v1_url();
        a["userGroupList"] = json!([]);
        for (to, says) in [
            (Api::V2, "administrators and developers only"),
            (Api::V1, "everyone in REST v1"),
        ] {
            let (_, lost) = project(&a, to);
            let why = lost
                .iter()
                .find(|(p, _)| p == "/userGroupList")
                .map(|(_, w)| w.as_str())
                .unwrap_or_default();
            assert!(why.contains(says), "{to:?}: {lost:?}");
        }
        a["userGroupList"] = json!(["g1"]);
        assert!(project(&a, Api::V2)
            .1
            .iter()
            .all(|(p, _)| p != "/userGroupList"));
    }

    #[test]
    fn a_callback_with_a_link_or_authentication_is_refused_on_its_way_to_v2() {
        let mut a = v1_url();
        a["type"] = json!("CALLBACK");
        a["detail"]["link"] = json!("https://x.example.test");
        a["detail"]["authSelect"] = json!("BEARER");
        let pointers: Vec<String> = project(&a, Api::V2).1.into_iter().map(|(p, _)| p).collect();
        assert!(
            pointers.contains(&"/detail/link".to_string()),
            "{pointers:?}"
        );
        assert!(
            pointers.contains(&"/detail/authSelect".to_string()),
            "{pointers:?}"
        );
        a["detail"]["link"] = json!("");
        a["detail"]["authSelect"] = json!("NONE");
        assert!(project(&a, Api::V2).1.is_empty());
    }

    #[test]
    fn availability_and_enabled_forms_compare_equal() {
        let mut a = v1_url();
        a["availability"] = json!([]);
        a["actionAssociationMap"]["ANSWER"]["e78"]["enabled"] = json!(true);
        let mut b = v1_url();
        b["availability"] = json!(["LOCAL"]);
        assert_eq!(project(&a, Api::V2).0, project(&b, Api::V2).0);
    }

    #[test]
    fn callbacks_and_unknown_details() {
        let cb = json!({"id": "c", "name": "LEDE", "action_details": {"CALLBACK": {"reference": "LEDE"}},
            "default_action_config": {"visibility": true}});
        let a = action_from_v2(&cb).unwrap();
        assert_eq!(
            (a["type"].as_str(), a["detail"]["function"].as_str()),
            (Some("CALLBACK"), Some("LEDE"))
        );
        assert_eq!(
            create_body(&a)["action_details"],
            json!({"CALLBACK": {"reference": "LEDE"}})
        );
        assert!(
            action_from_v2(&json!({"id": "a", "name": "Slack", "action_details": {}})).is_none()
        );
    }

    #[test]
    fn config_shapes() {
        let flat = config_from_v2(
            &json!({"samlConfiguration.enabled": true, "maxFilterValues": 500,
            "embedActionConfigList": [], "a.b.c": 1, "a.d": {"dataType": "INTEGER", "current": 2}}),
        );
        assert_eq!(
            Value::Object(flat),
            json!({"samlConfiguration": {"enabled": true}, "maxFilterValues": 500, "a": {"b": {"c": 1}, "d": 2}})
        );
        let nested = config_from_v2(&json!({"samlConfiguration": {"enabled": true}}));
        assert_eq!(nested["samlConfiguration"]["enabled"], true);
        assert!(config_from_v2(&Value::Null).is_empty());
    }

    #[test]
    fn v2_errors() {
        let body = json!({"error": {"message": {"code": 10002, "debug": "Custom action with the specified identifier was not found."}}});
        assert_eq!(
            error_text(&body).unwrap(),
            "Custom action with the specified identifier was not found. (code 10002)"
        );
        assert_eq!(
            error_text(&json!({"error": {"message": "plain"}})).unwrap(),
            "plain"
        );
        assert!(error_text(&json!({"message": "v1"})).is_none());
    }
}
