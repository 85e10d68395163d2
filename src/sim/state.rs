//! The simulated cluster's data and the rules the admin API enforces on it.
//! Pure logic over `SimState`: the HTTP layer (`routes.rs`) parses requests
//! and maps `SimError` to status codes. Every change returns the
//! `Mutation` that the store writes to its log.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::action_list::ActionList;
use crate::model::{self, lookup_key, lookup_key_mut, ACTION_LIST_KEY, PRIMARY_ORG};

/// The state file of DESIGN.md ("The simulator").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimState {
    pub configinfo: Map<String, Value>,
    #[serde(default)]
    pub overrides: Map<String, Value>,
    /// The Primary Org's actions.
    #[serde(default)]
    pub actions: ActionList,
    /// The Primary Org's objects.
    #[serde(default)]
    pub objects: Vec<Value>,
    /// The other Orgs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orgs: Vec<OrgState>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OrgState {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub actions: ActionList,
    #[serde(default)]
    pub objects: Vec<Value>,
}

/// One accepted change, as the store logs it: each sets something to a
/// value, so replaying a change twice is harmless.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Mutation {
    /// Dotted configinfo keys and their new values.
    Config(Map<String, Value>),
    /// An action (with id) as it now is, in an Org.
    PutAction {
        org: i64,
        action: Value,
    },
    DeleteAction {
        org: i64,
        id: String,
    },
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

/// Behaviours the documentation leaves open, chosen per simulator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Behaviour {
    /// The action list shows every `actionAssociationMap` empty.
    pub list_omits_associations: bool,
    /// A PUT replaces the whole action, associations included.
    pub put_replaces: bool,
    /// The cluster has no Orgs feature: `session/orgs` answers 404.
    pub no_orgs: bool,
    /// The current Org is the user's, not the session's: an Org switch in
    /// one session moves every session of the user (documented for
    /// logins that name no Org). Tokens minted for an Org keep theirs.
    pub org_per_user: bool,
    /// `PUT session/orgs` establishes a new session: it answers with a new
    /// `JSESSIONID` in the new Org, and the old cookie stays in the old Org.
    pub switch_new_session: bool,
    /// An association POST "appends" (the docs' word): an entry for an
    /// object the action is associated with already is left as it was.
    pub assoc_post_appends: bool,
    /// The cluster keeps its own `version` of an action: whatever a create
    /// or an update sends, it stores (and answers) `"v2"`, as the docs'
    /// examples suggest ("v4" written, "v2" answered).
    pub rewrites_version: bool,
    /// A REST v1 create adds the Org's administrators group
    /// (`defaultAdminUserGroupId`) to the action's `userGroupList`, as the
    /// docs' example suggests (an action created with `[]` is answered
    /// with that group). Not without Orgs (`no_orgs`).
    pub adds_admin_group: bool,
    /// A write stores `availability` as a set (upper case, sorted, no
    /// repeats) and `detail.link` trimmed (`model::server_form`).
    pub normalizes_fields: bool,
}

/// The GUID of Org `org`'s default administrators group, as `session/orgs`
/// names it (`defaultAdminUserGroupId`).
pub fn admin_group_of(org: i64) -> String {
    format!("ad0ad0ad-0000-4000-8000-{:012x}", org.unsigned_abs())
}

/// The GUID of Org `org`'s all-users group (`allUserGroupId`).
pub fn all_users_group_of(org: i64) -> String {
    format!("a11a11a1-0000-4000-8000-{:012x}", org.unsigned_abs())
}

/// The built-in example cluster (values our own, shapes from the API page).
pub const EXAMPLE_CLUSTER: &str = include_str!("../../fixtures/example-cluster.json");

impl SimState {
    pub fn example() -> SimState {
        // The fixture is compiled in and covered by a unit test below.
        serde_json::from_str(EXAMPLE_CLUSTER).expect("built-in example cluster parses")
    }

    /// Checks what serde cannot: unique ids, object-shaped actions, Orgs.
    pub fn validate(&self) -> Result<(), String> {
        check_actions("/actions", &self.actions)?;
        let mut org_ids = HashMap::new();
        for (i, org) in self.orgs.iter().enumerate() {
            if org.id == PRIMARY_ORG {
                return Err(format!(
                    "/orgs/{i}/id: Org 0 is the Primary Org, given by the top-level actions and objects"
                ));
            }
            if let Some(prev) = org_ids.insert(org.id, i) {
                return Err(format!(
                    "/orgs/{i}/id: duplicates /orgs/{prev}/id ({})",
                    org.id
                ));
            }
            check_actions(&format!("/orgs/{i}/actions"), &org.actions)?;
        }
        if self.configinfo.contains_key(ACTION_LIST_KEY) {
            return Err(format!(
                "/configinfo/{ACTION_LIST_KEY}: actions belong in /actions, not in configinfo"
            ));
        }
        Ok(())
    }

    /// Org ids and names, the Primary Org first.
    pub fn org_list(&self) -> Vec<(i64, String)> {
        let mut out = vec![(PRIMARY_ORG, "Primary".to_string())];
        out.extend(self.orgs.iter().map(|o| (o.id, o.name.clone())));
        out
    }

    pub fn has_org(&self, org: i64) -> bool {
        org == PRIMARY_ORG || self.orgs.iter().any(|o| o.id == org)
    }

    pub fn actions(&self, org: i64) -> Result<&ActionList, SimError> {
        if org == PRIMARY_ORG {
            return Ok(&self.actions);
        }
        self.orgs
            .iter()
            .find(|o| o.id == org)
            .map(|o| &o.actions)
            .ok_or_else(|| no_org(org))
    }

    fn actions_mut(&mut self, org: i64) -> Result<&mut ActionList, SimError> {
        if org == PRIMARY_ORG {
            return Ok(&mut self.actions);
        }
        self.orgs
            .iter_mut()
            .find(|o| o.id == org)
            .map(|o| &mut o.actions)
            .ok_or_else(|| no_org(org))
    }

    pub fn objects(&self, org: i64) -> Result<&Vec<Value>, SimError> {
        if org == PRIMARY_ORG {
            return Ok(&self.objects);
        }
        self.orgs
            .iter()
            .find(|o| o.id == org)
            .map(|o| &o.objects)
            .ok_or_else(|| no_org(org))
    }

    /// `GET admin/configinfo`: the cluster's config, with the Org's actions
    /// listed as the API page shows them (without their user groups).
    pub fn configinfo_response(&self, org: i64) -> Value {
        let mut body = self.configinfo.clone();
        let listed: Vec<Value> = self
            .actions(org)
            .into_iter()
            .flat_map(ActionList::iter)
            .map(|a| {
                let mut a = a.clone();
                if let Some(o) = a.as_object_mut() {
                    o.remove(model::USER_GROUPS);
                }
                a
            })
            .collect();
        body.insert(ACTION_LIST_KEY.into(), Value::Array(listed));
        Value::Object(body)
    }

    /// `GET admin/embed/actions`.
    pub fn action_list(&self, org: i64, behaviour: Behaviour) -> Result<Vec<Value>, SimError> {
        let mut list = self.actions(org)?.to_vec();
        if behaviour.list_omits_associations {
            for a in &mut list {
                a[model::ASSOCIATION_MAP] = json!({});
            }
        }
        Ok(list)
    }

    pub fn overrides_response(&self, org: i64) -> Value {
        let mut out = Map::new();
        for (key, meta) in &self.overrides {
            let mut entry = meta.as_object().cloned().unwrap_or_default();
            let current = if key == ACTION_LIST_KEY {
                self.actions(org).ok().map(|a| Value::Array(a.to_vec()))
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
    pub fn update_config(&mut self, changes: &Map<String, Value>) -> Result<Mutation, SimError> {
        if changes.is_empty() {
            return Err(SimError::bad_request("configchanges names no key"));
        }
        let mut problems = Vec::new();
        for (key, value) in changes {
            if key == ACTION_LIST_KEY || key.starts_with("embedActionConfigList.") {
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
        let m = Mutation::Config(changes.clone());
        self.apply(&m);
        Ok(m)
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

    /// Applies a logged change (replaying a log, or after a rule passed).
    pub fn apply(&mut self, m: &Mutation) {
        match m {
            Mutation::Config(changes) => {
                for (key, value) in changes {
                    if let Some(slot) = lookup_key_mut(&mut self.configinfo, key) {
                        *slot = value.clone();
                    }
                }
            }
            Mutation::PutAction { org, action } => {
                if let Ok(list) = self.actions_mut(*org) {
                    list.put(action.clone());
                }
            }
            Mutation::DeleteAction { org, id } => {
                if let Ok(list) = self.actions_mut(*org) {
                    list.remove(id);
                }
            }
        }
    }

    pub fn action(&self, org: i64, id: &str) -> Result<&Value, SimError> {
        self.actions(org)?
            .by_id(id)
            .ok_or_else(|| SimError::not_found(format!("Invalid action ID: {id}")))
    }

    pub fn action_name(&self, org: i64, id: &str) -> Option<&str> {
        self.action(org, id)
            .ok()?
            .get("name")
            .and_then(Value::as_str)
    }

    fn name_taken(&self, org: i64, name: &str, except_id: Option<&str>) -> bool {
        self.actions(org)
            .is_ok_and(|list| list.name_taken(name, except_id))
    }

    pub fn create_action(&mut self, org: i64, body: Value) -> Result<(Value, Mutation), SimError> {
        let mut action = check_action_body(body)?;
        let name = action["name"].as_str().unwrap_or_default().to_string();
        if self.name_taken(org, &name, None) {
            return Err(SimError::bad_request(format!(
                "a custom action named {name:?} exists already"
            )));
        }
        fill_defaults(&mut action);
        if let Some(map) = action.get(model::ASSOCIATION_MAP) {
            model::check_association_map(map).map_err(SimError::bad_request)?;
        }
        action.insert("id".into(), Value::String(new_guid()));
        let stored = Value::Object(action);
        let m = Mutation::PutAction {
            org,
            action: stored.clone(),
        };
        self.actions(org)?;
        self.apply(&m);
        // Quirk from the page: the create answer carries a schemaVersion
        // that later reads do not show.
        let mut answer = stored;
        answer["schemaVersion"] = json!("4");
        Ok((answer, m))
    }

    /// PUT (and the POST that clients send instead). By default fields
    /// present replace the stored ones and associations only change through
    /// their endpoint; with `put_replaces` the body replaces the whole
    /// action, associations included (absent ones are gone).
    pub fn update_action(
        &mut self,
        org: i64,
        id: &str,
        body: Value,
        behaviour: Behaviour,
    ) -> Result<(Value, Mutation), SimError> {
        let update = check_action_body(body)?;
        if let Some(body_id) = update.get("id") {
            if body_id.as_str() != Some(id) {
                return Err(SimError::bad_request(format!(
                    "embedaction id {body_id} does not match the path's action id {id}"
                )));
            }
        }
        let name = update["name"].as_str().unwrap_or_default();
        if self.name_taken(org, name, Some(id)) {
            return Err(SimError::bad_request(format!(
                "a custom action named {name:?} exists already"
            )));
        }
        let stored = self.action(org, id)?.clone();
        let new = if behaviour.put_replaces {
            let mut whole = update;
            fill_defaults(&mut whole);
            if let Some(map) = whole.get(model::ASSOCIATION_MAP) {
                model::check_association_map(map).map_err(SimError::bad_request)?;
            }
            whole.insert("id".into(), Value::String(id.to_string()));
            whole
        } else {
            let mut merged = stored.as_object().cloned().unwrap_or_default();
            for (field, value) in update {
                if field != model::ASSOCIATION_MAP && field != "id" {
                    merged.insert(field, value);
                }
            }
            merged
        };
        let m = Mutation::PutAction {
            org,
            action: Value::Object(new.clone()),
        };
        self.apply(&m);
        Ok((Value::Object(new), m))
    }

    pub fn delete_action(&mut self, org: i64, id: &str) -> Result<(Value, Mutation), SimError> {
        let mut gone = self.action(org, id)?.clone();
        let m = Mutation::DeleteAction {
            org,
            id: id.to_string(),
        };
        self.apply(&m);
        // The page's delete answer shows the action without its associations.
        if let Some(obj) = gone.as_object_mut() {
            obj.remove(model::ASSOCIATION_MAP);
            obj.remove(model::USER_GROUPS);
        }
        Ok((gone, m))
    }

    pub fn associations(&self, org: i64, id: &str) -> Result<Value, SimError> {
        Ok(self
            .action(org, id)?
            .get(model::ASSOCIATION_MAP)
            .cloned()
            .unwrap_or_else(|| json!({})))
    }

    /// POST appends (or overwrites) the entries of `map`.
    pub fn add_associations(
        &mut self,
        org: i64,
        id: &str,
        map: &Value,
        appends: bool,
    ) -> Result<(Value, Mutation), SimError> {
        let mut action = self.action(org, id)?.clone();
        model::check_association_map(map).map_err(SimError::parse_error)?;
        let stored = association_map_mut(&mut action);
        for (kind, objects) in map.as_object().into_iter().flatten() {
            let slot = stored.entry(kind.clone()).or_insert_with(|| json!({}));
            if let (Some(slot), Some(objects)) = (slot.as_object_mut(), objects.as_object()) {
                for (guid, entry) in objects {
                    if appends {
                        slot.entry(guid.clone()).or_insert_with(|| entry.clone());
                    } else {
                        slot.insert(guid.clone(), entry.clone());
                    }
                }
            }
        }
        let m = Mutation::PutAction { org, action };
        self.apply(&m);
        Ok((map.clone(), m))
    }

    /// DELETE removes the entries of `map`: all or nothing, so removing
    /// one that is not there is an "Invalid operation" (400).
    pub fn remove_associations(
        &mut self,
        org: i64,
        id: &str,
        map: &Value,
    ) -> Result<(Value, Mutation), SimError> {
        let mut action = self.action(org, id)?.clone();
        model::check_association_map(map).map_err(SimError::bad_request)?;
        let stored = association_map_mut(&mut action);
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
        let m = Mutation::PutAction { org, action };
        self.apply(&m);
        Ok((map.clone(), m))
    }

    /// `metadata/listobjectheaders`: one `type` per call (none: Liveboards),
    /// `subtypes` honoured, headers without their type; an unknown type is
    /// the cluster's 500.
    pub fn object_headers(
        &self,
        org: i64,
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
            .objects(org)?
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

fn no_org(org: i64) -> SimError {
    SimError::bad_request(format!("Invalid parameter: there is no Org {org}"))
}

fn check_actions(at: &str, actions: &ActionList) -> Result<(), String> {
    let mut ids = HashMap::new();
    for (i, action) in actions.iter().enumerate() {
        let Some(obj) = action.as_object() else {
            return Err(format!("{at}/{i}: an action must be an object"));
        };
        let Some(id) = obj.get("id").and_then(Value::as_str) else {
            return Err(format!("{at}/{i}/id: missing or not a string"));
        };
        if obj.get("name").and_then(Value::as_str).is_none() {
            return Err(format!("{at}/{i}/name: missing or not a string"));
        }
        if let Some(prev) = ids.insert(id.to_string(), i) {
            return Err(format!("{at}/{i}/id: duplicates {at}/{prev}/id ({id})"));
        }
    }
    Ok(())
}

/// What the cluster fills in when a create (or a replacing PUT) omits it.
fn fill_defaults(action: &mut Map<String, Value>) {
    for (field, default) in [
        (model::ASSOCIATION_MAP, json!({})),
        (model::USER_GROUPS, json!([])),
        ("availability", json!([])),
        ("context", json!("NONE")),
        ("application", json!("NONE")),
    ] {
        action.entry(field).or_insert(default);
    }
}

/// An object's type and subtype as the API names them; older state files
/// say `ANSWER` and `WORKSHEET`.
pub(super) fn object_kind(o: &Value) -> (&str, Option<&str>) {
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
        .get(model::ASSOCIATION_MAP)
        .is_some_and(Value::is_object)
    {
        action[model::ASSOCIATION_MAP] = json!({});
    }
    match action.get_mut(model::ASSOCIATION_MAP) {
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
        let id = s.actions.iter().nth(1).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let add = json!({"ANSWER": {"g1": {"enabled": "true", "context": "MENU"}}});
        s.add_associations(0, &id, &add, false).unwrap();
        s.add_associations(
            0,
            &id,
            &json!({"ANSWER": {"g2": {"enabled": "true"}}}),
            false,
        )
        .unwrap();
        assert_eq!(
            s.associations(0, &id).unwrap()["ANSWER"]
                .as_object()
                .unwrap()
                .len(),
            2
        );
        let err = s
            .remove_associations(0, &id, &json!({"ANSWER": {"zz": {}}}))
            .unwrap_err();
        assert_eq!(err.status, 400);
        s.remove_associations(0, &id, &json!({"ANSWER": {"g1": {}, "g2": {}}}))
            .unwrap();
        assert_eq!(s.associations(0, &id).unwrap(), json!({}));
        assert_eq!(
            s.add_associations(0, &id, &json!([1]), false)
                .unwrap_err()
                .status,
            500
        );
    }

    #[test]
    fn put_merges_or_replaces() {
        let mut s = SimState::example();
        let crm = s.actions.iter().next().unwrap().clone();
        let id = crm["id"].as_str().unwrap().to_string();
        assert!(!crm[model::ASSOCIATION_MAP].as_object().unwrap().is_empty());
        let body =
            json!({"name": crm["name"], "type": "URL", "detail": {"link": "https://x.invalid"}});
        let (merged, _) = s
            .update_action(0, &id, body.clone(), Behaviour::default())
            .unwrap();
        assert_eq!(merged[model::ASSOCIATION_MAP], crm[model::ASSOCIATION_MAP]);
        assert_eq!(merged["version"], crm["version"], "other fields kept");
        let replace = Behaviour {
            put_replaces: true,
            ..Behaviour::default()
        };
        let (whole, _) = s.update_action(0, &id, body, replace).unwrap();
        assert_eq!(
            whole[model::ASSOCIATION_MAP],
            json!({}),
            "associations gone"
        );
        assert!(whole.get("version").is_none(), "absent fields gone");
    }

    #[test]
    fn replaying_a_change_twice_changes_nothing_more() {
        let mut s = SimState::example();
        let (_, put) = s
            .create_action(0, json!({"name": "n", "type": "CALLBACK"}))
            .unwrap();
        let id = s.actions.iter().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, del) = s.delete_action(0, &id).unwrap();
        let after = s.clone();
        s.apply(&put);
        s.apply(&del);
        assert_eq!(s, after);
    }

    #[test]
    fn orgs_keep_their_own_actions() {
        let mut s = SimState::example();
        s.orgs.push(OrgState {
            id: 7,
            name: "Marketing".into(),
            actions: Default::default(),
            objects: Vec::new(),
        });
        s.validate().unwrap();
        s.create_action(7, json!({"name": "Open in CRM", "type": "CALLBACK"}))
            .unwrap();
        assert_eq!(s.actions(7).unwrap().len(), 1);
        assert_eq!(s.actions.len(), 3, "the Primary Org's are untouched");
        assert_eq!(
            s.create_action(9, json!({"name": "x", "type": "URL"}))
                .unwrap_err()
                .status,
            400
        );
        assert!(s.configinfo_response(7)[ACTION_LIST_KEY][0]
            .get(model::USER_GROUPS)
            .is_none());
    }
}
