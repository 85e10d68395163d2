//! The REST v2 views of the stored state: Orgs, metadata objects and user
//! groups (the paged searches), the system config and its overrides, and
//! the keys of a config update. Pure, over `SimState`; the HTTP side is in
//! `v2.rs`.

use serde_json::{json, Map, Value};

use super::custom_actions::{boolean, name_matches, text};
use super::state::{object_kind, SimError, SimState};
use crate::model::{self, lookup_key, Org, OrgSpec, ACTION_LIST_KEY, PRIMARY_ORG};

/// `type` values of `metadata/search` (`MetadataListItemInput.type`).
pub const METADATA_TYPES: &[&str] = &[
    "LIVEBOARD",
    "ANSWER",
    "LOGICAL_TABLE",
    "LOGICAL_COLUMN",
    "CONNECTION",
    "TAG",
    "USER",
    "USER_GROUP",
    "LOGICAL_RELATIONSHIP",
    "INSIGHT_SPEC",
    "COLLECTION",
];

pub const INVALID_ORG: &str =
    "The specified org_identifier does not refer to a valid or accessible org.";

/// The v2 name of a stored object's (v1) type; `None` for kinds v2 does
/// not list.
pub fn v2_type(v1_type: &str) -> Option<&'static str> {
    Some(match v1_type {
        "QUESTION_ANSWER_BOOK" => "ANSWER",
        "PINBOARD_ANSWER_BOOK" => "LIVEBOARD",
        "LOGICAL_TABLE" => "LOGICAL_TABLE",
        "LOGICAL_COLUMN" => "LOGICAL_COLUMN",
        "LOGICAL_RELATIONSHIP" => "LOGICAL_RELATIONSHIP",
        "USER_GROUP" => "USER_GROUP",
        "USER" => "USER",
        "TAG" => "TAG",
        "DATA_SOURCE" => "CONNECTION",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Paging

/// `record_offset` and `record_size` of a paged search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    pub size: usize,
}

impl Page {
    /// Defaults 0 and 10; `record_size: -1` ("all") is refused, as the spec
    /// tells clients not to send it.
    pub fn of(body: &Map<String, Value>) -> Result<Page, SimError> {
        let offset = integer(body.get("record_offset"), "record_offset")?.unwrap_or(0);
        let size = integer(body.get("record_size"), "record_size")?
            .unwrap_or(model::v2::DEFAULT_RECORD_SIZE as i64);
        if offset < 0 {
            return Err(SimError::bad_request("record_offset must not be negative"));
        }
        if size < 0 {
            return Err(SimError::bad_request(
                "record_size must not be negative: do not set record_size to -1, page through the records",
            ));
        }
        Ok(Page {
            offset: offset as usize,
            size: size as usize,
        })
    }

    pub fn take<T>(self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset)
            .take(self.size)
            .collect()
    }
}

/// An int32 field; a numeric string is read as the number (as Jackson does).
pub fn integer(v: Option<&Value>, at: &str) -> Result<Option<i64>, SimError> {
    let bad = || SimError::bad_request(format!("{at} must be an integer"));
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

// ---------------------------------------------------------------------------
// Orgs

/// The Orgs a user sees; only the Primary Org on a cluster without Orgs.
pub fn orgs(state: &SimState, no_orgs: bool) -> Vec<Org> {
    state
        .org_list()
        .into_iter()
        .filter(|(id, _)| !no_orgs || *id == PRIMARY_ORG)
        .map(|(id, name)| Org::new(id, name))
        .collect()
}

/// An Org by id or name (`org_identifier`).
pub fn find_org(state: &SimState, no_orgs: bool, ident: &str) -> Result<Org, SimError> {
    OrgSpec::parse(ident)
        .find(&orgs(state, no_orgs))
        .cloned()
        .ok_or_else(|| SimError::bad_request(INVALID_ORG))
}

/// `POST orgs/search`.
pub fn search_orgs(state: &SimState, body: &Map<String, Value>) -> Result<Vec<Value>, SimError> {
    let ident = text(body.get("org_identifier"), "org_identifier")?;
    let status = text(body.get("status"), "status")?;
    let visibility = text(body.get("visibility"), "visibility")?;
    if let Some(s) = status.as_deref() {
        if s != "ACTIVE" && s != "IN_ACTIVE" {
            return Err(SimError::bad_request("status must be ACTIVE or IN_ACTIVE"));
        }
    }
    if let Some(v) = visibility.as_deref() {
        if v != "SHOW" && v != "HIDDEN" {
            return Err(SimError::bad_request("visibility must be SHOW or HIDDEN"));
        }
    }
    let all = orgs(state, false);
    let chosen: Vec<&Org> = match &ident {
        Some(i) => OrgSpec::parse(i).find(&all).into_iter().collect(),
        None => all.iter().collect(),
    };
    // Every Org is active and shown.
    if status.as_deref() == Some("IN_ACTIVE") || visibility.as_deref() == Some("HIDDEN") {
        return Ok(Vec::new());
    }
    Ok(chosen
        .into_iter()
        .map(|o| {
            let description = if o.id == PRIMARY_ORG {
                "Primary Org".to_string()
            } else {
                o.name.clone()
            };
            json!({"id": o.id, "name": o.name, "description": description,
                   "status": "ACTIVE", "visibility": "SHOW"})
        })
        .collect())
}

// ---------------------------------------------------------------------------
// Metadata and groups

/// One item of `metadata/search`'s `metadata` list.
struct MetadataQuery {
    kind: Option<String>,
    identifier: Option<String>,
    name_pattern: Option<String>,
    subtypes: Option<Vec<String>>,
}

impl MetadataQuery {
    fn parse(item: &Value, at: &str) -> Result<MetadataQuery, SimError> {
        if !item.is_object() {
            return Err(SimError::bad_request(format!("{at} must be an object")));
        }
        let kind = text(item.get("type"), &format!("{at}.type"))?;
        if let Some(k) = &kind {
            if !METADATA_TYPES.contains(&k.as_str()) {
                return Err(SimError::bad_request(format!(
                    "{at}.type {k:?} is not one of {}",
                    METADATA_TYPES.join(", ")
                )));
            }
        }
        let subtypes = match item.get("subtypes") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => Some(
                list.iter()
                    .map(|s| {
                        s.as_str().map(str::to_string).ok_or_else(|| {
                            SimError::bad_request(format!("{at}.subtypes must be strings"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => {
                return Err(SimError::bad_request(format!(
                    "{at}.subtypes must be an array"
                )))
            }
        };
        Ok(MetadataQuery {
            kind,
            identifier: text(item.get("identifier"), &format!("{at}.identifier"))?,
            name_pattern: text(item.get("name_pattern"), &format!("{at}.name_pattern"))?,
            subtypes,
        })
    }

    fn matches(&self, o: &Value, v2: &str, subtype: Option<&str>) -> bool {
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        let name = o.get("name").and_then(Value::as_str).unwrap_or("");
        self.kind.as_deref().is_none_or(|k| k == v2)
            && self
                .identifier
                .as_deref()
                .is_none_or(|i| i == id || i == name)
            && self
                .name_pattern
                .as_deref()
                .is_none_or(|p| name_matches(name, p))
            // Subtypes apply to LOGICAL_TABLE objects only.
            && self.subtypes.as_ref().filter(|s| !s.is_empty()).is_none_or(|s| {
                v2 != "LOGICAL_TABLE" || subtype.is_some_and(|sub| s.iter().any(|x| x == sub))
            })
    }
}

/// `POST metadata/search` over an Org's objects: one entry per object that
/// any item of `metadata` matches (no `metadata`: every object), in stored
/// order unless `sort_options` names NAME, then paged.
pub fn search_metadata(
    state: &SimState,
    org: i64,
    body: &Map<String, Value>,
) -> Result<Vec<Value>, SimError> {
    let page = Page::of(body)?;
    let queries = match body.get("metadata") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| MetadataQuery::parse(item, &format!("metadata[{i}]")))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(SimError::bad_request("metadata must be an array")),
    };
    let mut found: Vec<Value> = Vec::new();
    for o in state.objects(org)? {
        let (v1, subtype) = object_kind(o);
        let Some(v2) = v2_type(v1) else { continue };
        if !queries.is_empty() && !queries.iter().any(|q| q.matches(o, v2, subtype)) {
            continue;
        }
        let mut header = o.as_object().cloned().unwrap_or_default();
        header.remove("subtype");
        // As a real header: a table's subtype (WORKSHEET), else the v1 type.
        header.insert("type".into(), json!(subtype.unwrap_or(v1)));
        found.push(json!({
            "metadata_id": o.get("id").cloned().unwrap_or(Value::Null),
            "metadata_name": o.get("name").cloned().unwrap_or(Value::Null),
            "metadata_type": v2,
            "metadata_header": header,
        }));
    }
    sort(&mut found, body.get("sort_options"), "metadata_name")?;
    Ok(page.take(found))
}

/// `sort_options: {field_name: NAME, order: ASC|DESC}`; other fields keep
/// the stored (creation) order.
fn sort(items: &mut [Value], options: Option<&Value>, name_field: &str) -> Result<(), SimError> {
    let Some(options) = options.filter(|o| !o.is_null()) else {
        return Ok(());
    };
    let field = text(options.get("field_name"), "sort_options.field_name")?;
    let order = text(options.get("order"), "sort_options.order")?;
    let descending = match order.as_deref() {
        None | Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => {
            return Err(SimError::bad_request(format!(
                "sort_options.order must be ASC or DESC, not {other:?}"
            )))
        }
    };
    if matches!(field.as_deref(), Some("NAME") | Some("DISPLAY_NAME")) {
        let key = |v: &Value| v[name_field].as_str().unwrap_or("").to_lowercase();
        items.sort_by_key(key);
    }
    if descending {
        items.reverse();
    }
    Ok(())
}

/// `POST groups/search` over an Org's USER_GROUP objects, paged.
pub fn search_groups(
    state: &SimState,
    org: i64,
    body: &Map<String, Value>,
) -> Result<Vec<Value>, SimError> {
    let page = Page::of(body)?;
    let ident = text(body.get("group_identifier"), "group_identifier")?;
    let pattern = text(body.get("name_pattern"), "name_pattern")?;
    let kind = text(body.get("type"), "type")?;
    let visibility = text(body.get("visibility"), "visibility")?;
    boolean(body.get("include_users"), "include_users")?;
    boolean(body.get("include_sub_groups"), "include_sub_groups")?;
    // Every group is a local, sharable one.
    if kind.as_deref().is_some_and(|k| k != "LOCAL_GROUP")
        || visibility.as_deref().is_some_and(|v| v != "SHARABLE")
    {
        return Ok(Vec::new());
    }
    let mut found: Vec<Value> = state
        .objects(org)?
        .iter()
        .filter(|o| object_kind(o).0 == "USER_GROUP")
        .filter(|o| {
            let field = |f: &str| o.get(f).and_then(Value::as_str).unwrap_or("");
            ident
                .as_deref()
                .is_none_or(|i| i == field("id") || i == field("name"))
                && pattern
                    .as_deref()
                    .is_none_or(|p| name_matches(field("name"), p))
        })
        .map(|o| {
            let name = o.get("name").cloned().unwrap_or(Value::Null);
            let display = o
                .get("display_name")
                .or_else(|| o.get("displayName"))
                .cloned()
                .unwrap_or_else(|| name.clone());
            json!({"id": o.get("id").cloned().unwrap_or(Value::Null), "name": name,
                   "display_name": display, "visibility": "SHARABLE", "type": "LOCAL_GROUP"})
        })
        .collect();
    sort(&mut found, body.get("sort_options"), "name")?;
    Ok(page.take(found))
}

// ---------------------------------------------------------------------------
// Config (the cluster's, the same in every Org)

/// `GET system/config`.
pub fn system_config(state: &SimState) -> Value {
    let saml = lookup_key(&state.configinfo, "samlConfiguration.enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    json!({"okta_enabled": false, "onboarding_content_url": "", "saml_enabled": saml})
}

/// `GET system/config-overrides`: every overridable key (as the overrides
/// metadata lists them, actions aside) with its current value; dotted keys,
/// or nested objects when `nested`.
pub fn config_overrides(state: &SimState, v2: super::V2Behaviour) -> Value {
    let nested = v2.config_nested;
    let defaults = v2
        .overrides_applied_only
        .then(|| SimState::example().configinfo);
    let mut out = Map::new();
    for key in state.overrides.keys() {
        if key == ACTION_LIST_KEY || key.starts_with("embedActionConfigList.") {
            continue;
        }
        let Some(value) = lookup_key(&state.configinfo, key) else {
            continue;
        };
        // Only what differs from the factory default is an applied override.
        if let Some(d) = &defaults {
            if lookup_key(d, key) == Some(value) {
                continue;
            }
        }
        if !nested {
            out.insert(key.clone(), value.clone());
            continue;
        }
        let mut parts: Vec<&str> = key.split('.').collect();
        let leaf = parts.pop().unwrap_or_default();
        let mut slot = &mut out;
        for part in parts {
            let next = slot.entry(part).or_insert_with(|| json!({}));
            if !next.is_object() {
                *next = json!({});
            }
            match next {
                Value::Object(m) => slot = m,
                _ => unreachable!("made an object above"),
            }
        }
        slot.insert(leaf.to_string(), value.clone());
    }
    match v2.overrides_unwrapped {
        true => Value::Object(out),
        false => json!({"config_override_info": out}),
    }
}

/// The dotted keys of `system/config-update`'s `configuration`: a nested
/// object where the config holds one is taken as its leaves, so the nested
/// and the dotted forms change the same keys.
pub fn config_changes(state: &SimState, configuration: &Map<String, Value>) -> Map<String, Value> {
    fn flatten(
        config: &Map<String, Value>,
        key: String,
        value: &Value,
        out: &mut Map<String, Value>,
    ) {
        match (value, lookup_key(config, &key)) {
            (Value::Object(inner), Some(Value::Object(_))) => {
                for (k, v) in inner {
                    flatten(config, format!("{key}.{k}"), v, out);
                }
            }
            _ => {
                out.insert(key, value.clone());
            }
        }
    }
    let mut out = Map::new();
    for (key, value) in configuration {
        flatten(&state.configinfo, key.clone(), value, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::state::OrgState;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn with_org() -> SimState {
        let mut s = SimState::example();
        s.orgs.push(OrgState {
            id: 7,
            name: "Marketing".into(),
            actions: Default::default(),
            objects: vec![json!({"id": "g7", "name": "Mkt", "type": "USER_GROUP"})],
        });
        s
    }

    #[test]
    fn metadata_types_paging_and_filters() {
        let s = SimState::example();
        let all = search_metadata(&s, 0, &body(json!({"record_size": 100}))).unwrap();
        let types: Vec<&str> = all
            .iter()
            .map(|m| m["metadata_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            vec![
                "ANSWER",
                "ANSWER",
                "LOGICAL_TABLE",
                "LIVEBOARD",
                "USER_GROUP"
            ]
        );
        assert_eq!(
            all[2]["metadata_header"],
            json!({"id": "8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02", "name": "Sales worksheet", "type": "WORKSHEET"})
        );
        let q = |v: Value| search_metadata(&s, 0, &body(v)).unwrap();
        assert_eq!(q(json!({"metadata": [{"type": "ANSWER"}]})).len(), 2);
        assert_eq!(
            q(json!({"metadata": [{"type": "ANSWER"}], "record_size": 1, "record_offset": 1}))[0]
                ["metadata_name"],
            json!("Churn by region")
        );
        assert_eq!(
            q(json!({"metadata": [{"type": "LOGICAL_TABLE", "subtypes": ["WORKSHEET"]}]})).len(),
            1
        );
        assert_eq!(
            q(json!({"metadata": [{"type": "LOGICAL_TABLE", "subtypes": ["ONE_TO_ONE_LOGICAL"]}]}))
                .len(),
            0
        );
        assert_eq!(
            q(json!({"metadata": [{"identifier": "Executive overview"}]}))[0]["metadata_type"],
            json!("LIVEBOARD")
        );
        assert_eq!(
            q(json!({"metadata": [{"name_pattern": "%REV%"}]}))[0]["metadata_name"],
            json!("Quarterly revenue")
        );
        assert_eq!(
            q(json!({"metadata": [{"type": "ANSWER"}, {"type": "ANSWER"}]})).len(),
            2,
            "no duplicates"
        );
        let sorted = q(
            json!({"metadata": [{"type": "ANSWER"}], "sort_options": {"field_name": "NAME", "order": "ASC"}}),
        );
        assert_eq!(sorted[0]["metadata_name"], json!("Churn by region"));
        assert_eq!(q(json!({})).len(), 5, "default record_size 10");
        for bad in [
            json!({"record_size": -1}),
            json!({"record_offset": -3}),
            json!({"metadata": [{"type": "QUESTION_ANSWER_BOOK"}]}),
            json!({"metadata": {}}),
        ] {
            assert_eq!(
                search_metadata(&s, 0, &body(bad.clone()))
                    .unwrap_err()
                    .status,
                400,
                "{bad}"
            );
        }
    }

    #[test]
    fn groups_per_org_and_paged() {
        let s = with_org();
        let g = |org, v: Value| search_groups(&s, org, &body(v)).unwrap();
        assert_eq!(
            g(0, json!({})),
            vec![
                json!({"id": "b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04", "name": "Sales managers",
                "display_name": "Sales managers", "visibility": "SHARABLE", "type": "LOCAL_GROUP"})
            ]
        );
        assert_eq!(g(7, json!({}))[0]["name"], json!("Mkt"));
        assert_eq!(g(7, json!({"name_pattern": "sales"})).len(), 0);
        assert_eq!(g(0, json!({"group_identifier": "Sales managers"})).len(), 1);
        assert_eq!(g(0, json!({"record_offset": 1})).len(), 0);
        assert_eq!(
            search_groups(&s, 0, &body(json!({"record_size": -1})))
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn orgs_by_id_or_name() {
        let s = with_org();
        let o = |v: Value| search_orgs(&s, &body(v)).unwrap();
        assert_eq!(o(json!({})).len(), 2);
        assert_eq!(
            o(json!({}))[0],
            json!({"id": 0, "name": "Primary", "description": "Primary Org", "status": "ACTIVE", "visibility": "SHOW"})
        );
        assert_eq!(o(json!({"org_identifier": "marketing"}))[0]["id"], json!(7));
        assert_eq!(
            o(json!({"org_identifier": "7"}))[0]["name"],
            json!("Marketing")
        );
        assert!(o(json!({"org_identifier": "Finance"})).is_empty());
        assert!(o(json!({"status": "IN_ACTIVE"})).is_empty());
        assert_eq!(find_org(&s, false, "7").unwrap().name, "Marketing");
        assert_eq!(find_org(&s, true, "7").unwrap_err().message, INVALID_ORG);
    }

    #[test]
    fn overrides_flat_or_nested_and_updates_either_way() {
        let mut s = SimState::example();
        let v2 = |nested, unwrapped, applied_only| crate::sim::V2Behaviour {
            config_nested: nested,
            overrides_unwrapped: unwrapped,
            overrides_applied_only: applied_only,
            ..Default::default()
        };
        // Before 10.11.0.cl: no wrapper. Applied only: what differs from
        // the example cluster (nothing, here; then maxFilterValues).
        let bare = config_overrides(&s, v2(false, true, false));
        assert_eq!(bare["maxFilterValues"], json!(10000));
        assert_eq!(
            config_overrides(&s, v2(false, false, true)),
            json!({"config_override_info": {}})
        );
        let mut changed = s.clone();
        if let Some(v) = changed.configinfo.get_mut("maxFilterValues") {
            *v = json!(4321);
        }
        assert_eq!(
            config_overrides(&changed, v2(false, false, true)),
            json!({"config_override_info": {"maxFilterValues": 4321}})
        );
        let flat = config_overrides(&s, v2(false, false, false));
        let info = flat["config_override_info"].as_object().unwrap();
        assert_eq!(info["maxFilterValues"], json!(10000));
        assert_eq!(info["samlConfiguration.groupMapping"], json!(""));
        assert!(!info.contains_key(ACTION_LIST_KEY));
        assert_eq!(info.len(), s.overrides.len() - 1);
        let nested = config_overrides(&s, v2(true, false, false));
        assert_eq!(
            nested["config_override_info"]["samlConfiguration"]["groupMapping"],
            json!("")
        );
        assert_eq!(
            nested["config_override_info"]["maxFilterValues"],
            json!(10000)
        );
        let changes = config_changes(
            &s,
            json!({"samlConfiguration": {"enabled": true}, "maxFilterValues": 5})
                .as_object()
                .unwrap(),
        );
        assert_eq!(
            changes,
            body(json!({"samlConfiguration.enabled": true, "maxFilterValues": 5}))
        );
        s.update_config(&changes).unwrap();
        assert_eq!(
            s.configinfo["samlConfiguration"]["forceAuthn"],
            json!(false),
            "siblings kept"
        );
        assert_eq!(system_config(&s)["saml_enabled"], json!(true));
    }
}
