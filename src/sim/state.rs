//! The simulated cluster's data and the rules the admin API enforces on it.
//! Pure logic over `SimState`: the HTTP layer (`routes.rs`) only parses
//! requests and maps `SimError` to status codes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::model::{self, lookup_key, lookup_key_mut, ACTION_LIST_KEY as CONFIG_ACTION_LIST};

/// The state file of DESIGN.md ("The simulator").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimState {
    pub configinfo: Map<String, Value>,
    #[serde(default)]
    pub overrides: Map<String, Value>,
    #[serde(default)]
    pub actions: Vec<Value>,
    #[serde(default)]
    pub objects: Vec<Value>,
}

/// A refusal with the HTTP status the API documents for it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimError {
    pub status: u16,
    pub message: String,
}

impl SimError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        SimError {
            status: 400,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        SimError {
            status: 404,
            message: message.into(),
        }
    }
    pub fn parse_error(message: impl Into<String>) -> Self {
        // The page documents "500 Request parsing error" for association
        // payloads; we keep that quirk.
        SimError {
            status: 500,
            message: message.into(),
        }
    }
}

/// The built-in example cluster (values our own, shapes from the API page).
pub const EXAMPLE_CLUSTER: &str = include_str!("../../fixtures/example-cluster.json");

impl SimState {
    pub fn example() -> SimState {
        // The fixture is compiled in and covered by a unit test below.
        serde_json::from_str(EXAMPLE_CLUSTER).expect("built-in example cluster parses")
    }

    /// Checks what serde cannot: unique ids, object-shaped actions.
    pub fn validate(&self) -> Result<(), String> {
        let mut ids = HashMap::new();
        for (i, action) in self.actions.iter().enumerate() {
            let Some(obj) = action.as_object() else {
                return Err(format!("/actions/{i}: an action must be an object"));
            };
            let Some(id) = obj.get("id").and_then(Value::as_str) else {
                return Err(format!("/actions/{i}/id: missing or not a string"));
            };
            if obj.get("name").and_then(Value::as_str).is_none() {
                return Err(format!("/actions/{i}/name: missing or not a string"));
            }
            if let Some(prev) = ids.insert(id.to_string(), i) {
                return Err(format!(
                    "/actions/{i}/id: duplicates /actions/{prev}/id ({id})"
                ));
            }
        }
        if self.configinfo.contains_key(CONFIG_ACTION_LIST) {
            return Err(format!(
                "/configinfo/{CONFIG_ACTION_LIST}: actions belong in /actions, not in configinfo"
            ));
        }
        Ok(())
    }

    pub fn configinfo_response(&self) -> Value {
        let mut body = self.configinfo.clone();
        body.insert(
            CONFIG_ACTION_LIST.into(),
            Value::Array(self.actions.clone()),
        );
        Value::Object(body)
    }

    pub fn overrides_response(&self) -> Value {
        let mut out = Map::new();
        for (key, meta) in &self.overrides {
            let mut entry = meta.as_object().cloned().unwrap_or_default();
            let current = if key == CONFIG_ACTION_LIST {
                Some(Value::Array(self.actions.clone()))
            } else {
                lookup_key(&self.configinfo, key).cloned()
            };
            if let Some(current) = current {
                entry.insert("current".into(), current);
            }
            out.insert(key.clone(), Value::Object(entry));
        }
        Value::Object(out)
    }

    /// `configinfo/update`: validate every key first, then change only those.
    pub fn update_config(&mut self, changes: &Map<String, Value>) -> Result<(), SimError> {
        if changes.is_empty() {
            return Err(SimError::bad_request("configchanges names no key"));
        }
        let mut problems = Vec::new();
        for (key, value) in changes {
            if key == CONFIG_ACTION_LIST || key.starts_with("embedActionConfigList.") {
                problems.push(format!(
                    "{key}: custom actions are changed through admin/embed/actions"
                ));
                continue;
            }
            let Some(current) = lookup_key(&self.configinfo, key) else {
                problems.push(format!("{key}: no such configuration key"));
                continue;
            };
            if let Err(why) = self.check_value(key, current, value) {
                problems.push(format!("{key}: {why}"));
            }
        }
        if !problems.is_empty() {
            return Err(SimError::bad_request(problems.join("; ")));
        }
        for (key, value) in changes {
            if let Some(slot) = lookup_key_mut(&mut self.configinfo, key) {
                *slot = value.clone();
            }
        }
        Ok(())
    }

    fn check_value(&self, key: &str, current: &Value, value: &Value) -> Result<(), String> {
        let Some(meta) = self.overrides.get(key).and_then(Value::as_object) else {
            // Without metadata the cluster still keeps the key's JSON type.
            return if current.is_null() || model::kind_of(current) == model::kind_of(value) {
                Ok(())
            } else {
                Err(format!(
                    "expected {}, got {}",
                    model::kind_of(current),
                    model::kind_of(value)
                ))
            };
        };
        model::check_against_meta(value, &Value::Object(meta.clone()))
    }

    pub fn action_index(&self, id: &str) -> Result<usize, SimError> {
        self.actions
            .iter()
            .position(|a| a.get("id").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| SimError::not_found(format!("Invalid action ID: {id}")))
    }

    pub fn action_name(&self, id: &str) -> Option<&str> {
        let i = self.action_index(id).ok()?;
        self.actions[i].get("name").and_then(Value::as_str)
    }

    fn name_taken(&self, name: &str, except_id: Option<&str>) -> bool {
        self.actions.iter().any(|a| {
            a.get("name").and_then(Value::as_str) == Some(name)
                && a.get("id").and_then(Value::as_str) != except_id
        })
    }

    pub fn create_action(&mut self, body: Value) -> Result<Value, SimError> {
        let mut action = check_action_body(body)?;
        let name = action["name"].as_str().unwrap_or_default().to_string();
        if self.name_taken(&name, None) {
            return Err(SimError::bad_request(format!(
                "a custom action named {name:?} exists already"
            )));
        }
        for (field, default) in [
            ("actionAssociationMap", json!({})),
            ("userGroupList", json!([])),
            ("availability", json!([])),
            ("context", json!("NONE")),
            ("application", json!("NONE")),
        ] {
            action.entry(field).or_insert(default);
        }
        if let Some(map) = action.get("actionAssociationMap") {
            model::check_association_map(map).map_err(SimError::bad_request)?;
        }
        action.insert("id".into(), Value::String(new_guid()));
        let stored = Value::Object(action);
        self.actions.push(stored.clone());
        // Quirk from the page: the create answer carries a schemaVersion
        // that later reads do not show.
        let mut answer = stored;
        answer["schemaVersion"] = json!("4");
        Ok(answer)
    }

    /// PUT (and the POST that clients send instead): fields present replace
    /// the stored ones; associations only change through their endpoint.
    pub fn update_action(&mut self, id: &str, body: Value) -> Result<Value, SimError> {
        let i = self.action_index(id)?;
        let update = check_action_body(body)?;
        if let Some(body_id) = update.get("id") {
            if body_id.as_str() != Some(id) {
                return Err(SimError::bad_request(format!(
                    "embedaction id {body_id} does not match the path's action id {id}"
                )));
            }
        }
        let name = update["name"].as_str().unwrap_or_default();
        if self.name_taken(name, Some(id)) {
            return Err(SimError::bad_request(format!(
                "a custom action named {name:?} exists already"
            )));
        }
        let stored = self.actions[i]
            .as_object_mut()
            .ok_or_else(|| SimError::bad_request("stored action is not an object"))?;
        for (field, value) in update {
            if field != "actionAssociationMap" && field != "id" {
                stored.insert(field, value);
            }
        }
        Ok(self.actions[i].clone())
    }

    pub fn delete_action(&mut self, id: &str) -> Result<Value, SimError> {
        let i = self.action_index(id)?;
        let mut gone = self.actions.remove(i);
        // The page's delete answer shows the action without its associations.
        if let Some(obj) = gone.as_object_mut() {
            obj.remove("actionAssociationMap");
            obj.remove("userGroupList");
        }
        Ok(gone)
    }

    pub fn associations(&self, id: &str) -> Result<Value, SimError> {
        let i = self.action_index(id)?;
        Ok(self.actions[i]
            .get("actionAssociationMap")
            .cloned()
            .unwrap_or_else(|| json!({})))
    }

    pub fn add_associations(&mut self, id: &str, map: &Value) -> Result<Value, SimError> {
        let i = self.action_index(id)?;
        model::check_association_map(map).map_err(SimError::parse_error)?;
        let stored = association_map_mut(&mut self.actions[i]);
        for (kind, objects) in map.as_object().into_iter().flatten() {
            let slot = stored.entry(kind.clone()).or_insert_with(|| json!({}));
            if let (Some(slot), Some(objects)) = (slot.as_object_mut(), objects.as_object()) {
                for (guid, entry) in objects {
                    slot.insert(guid.clone(), entry.clone());
                }
            }
        }
        Ok(map.clone())
    }

    pub fn remove_associations(&mut self, id: &str, map: &Value) -> Result<Value, SimError> {
        let i = self.action_index(id)?;
        model::check_association_map(map).map_err(SimError::bad_request)?;
        let stored = association_map_mut(&mut self.actions[i]);
        // All or nothing: removing an association that is not there is an
        // "Invalid operation" (400) and changes nothing.
        for (kind, objects) in map.as_object().into_iter().flatten() {
            for guid in objects.as_object().into_iter().flatten().map(|(g, _)| g) {
                let present = stored.get(kind).and_then(|o| o.get(guid)).is_some();
                if !present {
                    return Err(SimError::bad_request(format!(
                        "Invalid operation: {kind} {guid} is not associated with action {id}"
                    )));
                }
            }
        }
        for (kind, objects) in map.as_object().into_iter().flatten() {
            if let Some(slot) = stored.get_mut(kind).and_then(Value::as_object_mut) {
                for guid in objects.as_object().into_iter().flatten().map(|(g, _)| g) {
                    slot.remove(guid);
                }
                if slot.is_empty() {
                    stored.remove(kind);
                }
            }
        }
        Ok(map.clone())
    }

    /// `metadata/listobjectheaders`: one `type` per call (none: Liveboards),
    /// `subtypes` honoured, headers without their type; an unknown type is
    /// the cluster's 500.
    pub fn object_headers(
        &self,
        kind: Option<&str>,
        subtypes: Option<&[String]>,
        ids: Option<&[String]>,
    ) -> Result<Vec<Value>, SimError> {
        let kind = kind.unwrap_or(model::DEFAULT_OBJECT_TYPE);
        if !model::OBJECT_TYPES.contains(&kind) {
            return Err(SimError {
                status: 500,
                message: format!("Invalid metadata type: {kind}"),
            });
        }
        Ok(self
            .objects
            .iter()
            .filter(|o| {
                let (t, sub) = object_kind(o);
                t == kind
                    && subtypes
                        .filter(|s| !s.is_empty())
                        .is_none_or(|s| sub.is_some_and(|sub| s.iter().any(|x| x == sub)))
            })
            .filter(|o| {
                ids.is_none_or(|ids| {
                    o.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|id| ids.iter().any(|x| x == id))
                })
            })
            .map(|o| {
                let mut header = o.as_object().cloned().unwrap_or_default();
                header.remove("type");
                header.remove("subtype");
                Value::Object(header)
            })
            .collect())
    }
}

/// An object's type and subtype as the API names them; older state files
/// say `ANSWER` and `WORKSHEET`.
fn object_kind(o: &Value) -> (&str, Option<&str>) {
    let t = o.get("type").and_then(Value::as_str).unwrap_or("");
    let sub = o.get("subtype").and_then(Value::as_str);
    match t {
        "ANSWER" => ("QUESTION_ANSWER_BOOK", None),
        "WORKSHEET" => ("LOGICAL_TABLE", Some("WORKSHEET")),
        other => (other, sub),
    }
}

fn association_map_mut(action: &mut Value) -> &mut Map<String, Value> {
    if !action
        .get("actionAssociationMap")
        .is_some_and(Value::is_object)
    {
        action["actionAssociationMap"] = json!({});
    }
    match action.get_mut("actionAssociationMap") {
        Some(Value::Object(map)) => map,
        // Just made an object above.
        _ => unreachable!("actionAssociationMap was set to an object"),
    }
}

fn check_action_body(body: Value) -> Result<Map<String, Value>, SimError> {
    let Value::Object(action) = body else {
        return Err(SimError::bad_request("embedaction must be a JSON object"));
    };
    match action.get("name").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() => {}
        _ => {
            return Err(SimError::bad_request(
                "embedaction.name must be a non-empty string",
            ))
        }
    }
    match action.get("type").and_then(Value::as_str) {
        Some(t) if model::ACTION_TYPES.contains(&t) => {}
        other => {
            return Err(SimError::bad_request(format!(
                "embedaction.type must be one of URL, CALLBACK, APP (got {})",
                other.unwrap_or("nothing")
            )))
        }
    }
    if let Some(detail) = action.get("detail") {
        if !detail.is_object() {
            return Err(SimError::bad_request(
                "embedaction.detail must be an object",
            ));
        }
    }
    Ok(action)
}

/// A random version-4 GUID, formatted as ThoughtSpot shows them.
pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn example_parses_and_validates() {
        let s = SimState::example();
        s.validate().unwrap();
        assert!(s.actions.len() >= 3);
    }

    #[test]
    fn dotted_and_top_level_keys() {
        let mut s = SimState::example();
        let changes = json!({"samlConfiguration.enabled": true, "maxFilterValues": 7});
        s.update_config(changes.as_object().unwrap()).unwrap();
        assert_eq!(s.configinfo["samlConfiguration"]["enabled"], json!(true));
        assert_eq!(s.configinfo["maxFilterValues"], json!(7));
    }

    #[test]
    fn update_refuses_unknown_wrong_type_regex_and_actions_all_or_nothing() {
        let mut s = SimState::example();
        let before = s.configinfo.clone();
        for bad in [
            json!({"nope.key": 1, "maxFilterValues": 3}),
            json!({"maxFilterValues": "ten"}),
            json!({"materializationConfig.refreshWindowStartTime": "25:00PM"}),
            json!({"embedActionConfigList": []}),
            json!({"samlConfiguration.enabled": "yes"}),
        ] {
            let err = s.update_config(bad.as_object().unwrap()).unwrap_err();
            assert_eq!(err.status, 400, "{bad}");
        }
        assert_eq!(s.configinfo, before);
    }

    #[test]
    fn guid_shape() {
        let g = new_guid();
        let re =
            Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
                .unwrap();
        assert!(re.is_match(&g), "{g}");
    }

    #[test]
    fn associations_append_and_remove() {
        let mut s = SimState::example();
        let id = s.actions[1]["id"].as_str().unwrap().to_string();
        let add = json!({"ANSWER": {"g1": {"enabled": "true", "context": "MENU"}}});
        s.add_associations(&id, &add).unwrap();
        s.add_associations(&id, &json!({"ANSWER": {"g2": {"enabled": "true"}}}))
            .unwrap();
        assert_eq!(
            s.associations(&id).unwrap()["ANSWER"]
                .as_object()
                .unwrap()
                .len(),
            2
        );
        let err = s
            .remove_associations(&id, &json!({"ANSWER": {"zz": {}}}))
            .unwrap_err();
        assert_eq!(err.status, 400);
        s.remove_associations(&id, &json!({"ANSWER": {"g1": {}, "g2": {}}}))
            .unwrap();
        assert_eq!(s.associations(&id).unwrap(), json!({}));
        assert_eq!(
            s.add_associations(&id, &json!([1])).unwrap_err().status,
            500
        );
    }
}
