//! The canonical document (DESIGN.md): `{"config": ..., "actions": {name: ...}}`,
//! built from API payloads and turned back into them.
//!
//! One deliberate difference from the wire: `detail.additionalUrlHeaders`,
//! which the API carries as a JSON string, is an object here whenever it
//! parses as one, so that header values can be diffed and masked one by one
//! and their secret pointers resolve in the document.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::model::ACTION_LIST_KEY;

/// Action name → GUID on one cluster.
pub(crate) type ActionIds = BTreeMap<String, String>;

/// Builds the canonical document from `GET admin/configinfo` and the
/// actions (with ids, associations and groups), and returns it with the
/// actions' GUIDs. `label` names the cluster in errors.
pub fn from_api(
    label: &str,
    mut configinfo: Map<String, Value>,
    actions: Vec<Value>,
) -> Result<(Value, ActionIds), Error> {
    configinfo.remove(ACTION_LIST_KEY);
    let mut by_name = Map::new();
    let mut action_ids = BTreeMap::new();
    for (i, action) in actions.into_iter().enumerate() {
        let Value::Object(mut action) = action else {
            return Err(Error::Cluster {
                cluster: label.to_string(),
                message: format!("admin/embed/actions: item /{i} is not an object"),
            });
        };
        let Some(name) = action
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Err(Error::Cluster {
                cluster: label.to_string(),
                message: format!("admin/embed/actions: item /{i}/name is missing or not a string"),
            });
        };
        let id = match action.remove("id") {
            Some(Value::String(id)) => id,
            _ => {
                return Err(Error::Cluster {
                    cluster: label.to_string(),
                    message: format!(
                        "admin/embed/actions: item /{i}/id ({name:?}) is missing or not a string"
                    ),
                })
            }
        };
        if let Some(other) = action_ids.get(&name) {
            return Err(Error::input(
                label,
                format!("two actions are named {name:?} (ids {other} and {id}); rename one on the cluster, names must be unique to migrate"),
            ));
        }
        parse_headers(&mut action);
        action_ids.insert(name.clone(), id);
        by_name.insert(name, Value::Object(action));
    }
    Ok((assemble(configinfo, by_name), action_ids))
}

/// `{"config": ..., "actions": ...}` without copying (`json!` would
/// serialize its interpolated values into new ones).
pub fn assemble(config: Map<String, Value>, actions: Map<String, Value>) -> Value {
    let mut doc = Map::new();
    doc.insert("config".into(), Value::Object(config));
    doc.insert("actions".into(), Value::Object(actions));
    Value::Object(doc)
}

fn parse_headers(action: &mut Map<String, Value>) {
    let Some(detail) = action.get_mut("detail").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(Value::String(raw)) = detail.get("additionalUrlHeaders") else {
        return;
    };
    if let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(raw) {
        detail.insert("additionalUrlHeaders".into(), parsed);
    }
}

/// An action in API form back in canonical form (headers as an object).
pub(crate) fn action_from_api(body: &Value) -> Value {
    let mut v = body.clone();
    if let Some(o) = v.as_object_mut() {
        parse_headers(o);
    }
    v
}

/// The action as the API takes it (`embedaction`): headers back to a string.
pub(crate) fn action_to_api(action: &Value, id: Option<&str>) -> Value {
    action_into_api(action.clone(), id)
}

/// `action_to_api` of an action the caller gives up.
pub(crate) fn action_into_api(mut out: Value, id: Option<&str>) -> Value {
    if let Some(obj) = out.as_object_mut() {
        if let Some(id) = id {
            obj.insert("id".into(), Value::String(id.to_string()));
        }
        if let Some(detail) = obj.get_mut("detail").and_then(Value::as_object_mut) {
            if let Some(headers @ Value::Object(_)) = detail.get("additionalUrlHeaders") {
                let text = headers.to_string();
                detail.insert("additionalUrlHeaders".into(), Value::String(text));
            }
        }
    }
    out
}

/// The config part of a document (an empty object if absent).
pub(crate) fn config(doc: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    doc.get("config")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

pub(crate) fn actions(doc: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    doc.get("actions")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_and_round_trips_actions() {
        let cfg = json!({"a": 1, "embedActionConfigList": [1]})
            .as_object()
            .unwrap()
            .clone();
        let actions = vec![
            json!({"id": "g1", "name": "n", "detail": {"additionalUrlHeaders": "{\"h\":{\"key\":\"k\",\"value\":\"v\"}}"}}),
        ];
        let (doc, ids) = from_api("c", cfg, actions).unwrap();
        assert_eq!(doc["config"], json!({"a": 1}));
        assert_eq!(
            doc["actions"]["n"]["detail"]["additionalUrlHeaders"]["h"]["value"],
            json!("v")
        );
        assert_eq!(ids["n"], "g1");
        let back = action_to_api(&doc["actions"]["n"], Some("g1"));
        assert_eq!(back["id"], json!("g1"));
        assert!(back["detail"]["additionalUrlHeaders"].is_string());
    }

    #[test]
    fn duplicate_names_are_named() {
        let actions = vec![
            json!({"id": "g1", "name": "n"}),
            json!({"id": "g2", "name": "n"}),
        ];
        let err = from_api("prod", Map::new(), actions)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("g1") && err.contains("g2") && err.contains("\"n\""),
            "{err}"
        );
    }
}
