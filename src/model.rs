//! The ThoughtSpot admin API's vocabulary, shared by the client, the
//! canonical document, validation and the simulator: base paths, parameter
//! names, enumerations, dotted configuration keys, the overrides check and
//! the shape of an association map. Pure data and pure functions.

use regex::Regex;
use serde_json::{Map, Value};

/// REST v1 base path under the cluster URL.
pub const V1_BASE: &str = "/callosum/v1/tspublic/v1";
/// REST v2 base path under the cluster URL.
pub const V2_BASE: &str = "/api/rest/2.0";

/// REST v2 endpoints, under `V2_BASE`: JSON bodies, `GET` and `POST` only.
pub mod v2 {
    /// `POST` `{username, password, org_id, validity_time_in_sec}` → `{token, …}`.
    pub const TOKEN_FULL: &str = "/auth/token/full";
    /// `POST` `{token}` → 204.
    pub const TOKEN_REVOKE: &str = "/auth/token/revoke";
    /// `POST` `{username, password, org_identifier, remember_me}` → 204 and cookies.
    pub const SESSION_LOGIN: &str = "/auth/session/login";
    pub const SESSION_LOGOUT: &str = "/auth/session/logout";
    /// `GET` → the user, with `current_org: {id, name}` and `orgs`.
    pub const SESSION_USER: &str = "/auth/session/user";
    /// `GET` → `{okta_enabled, onboarding_content_url, saml_enabled}`.
    pub const SYSTEM_CONFIG: &str = "/system/config";
    /// `GET` → `{"config_override_info": {…}}`.
    pub const CONFIG_OVERRIDES: &str = "/system/config-overrides";
    /// `POST` `{"configuration": {…}}` → 204.
    pub const CONFIG_UPDATE: &str = "/system/config-update";
    /// `POST` a new custom action → 200 the action; `{id}/update`,
    /// `{id}/delete` under it → 204.
    pub const ACTIONS: &str = "/customization/custom-actions";
    pub const ACTIONS_SEARCH: &str = "/customization/custom-actions/search";
    pub const ORGS_SEARCH: &str = "/orgs/search";
    pub const METADATA_SEARCH: &str = "/metadata/search";
    pub const GROUPS_SEARCH: &str = "/groups/search";
    /// Records a paged search answers when it is not told (`record_size`).
    pub const DEFAULT_RECORD_SIZE: usize = 10;
}

/// The header every v1 call carries (CSRF protection).
pub const REQUESTED_BY: (&str, &str) = ("X-Requested-By", "ThoughtSpot");

/// Form parameters of the admin API.
pub const CONFIG_CHANGES: &str = "configchanges";
pub const EMBED_ACTION: &str = "embedaction";
pub const ACTION_ASSOCIATION: &str = "actionassociation";
/// Key of the association map, in actions and in the association wrapper.
pub const ASSOCIATION_MAP: &str = "actionAssociationMap";
pub const USER_GROUPS: &str = "userGroupList";

/// The configinfo key that lists the actions; never written through
/// `configinfo/update`.
pub const ACTION_LIST_KEY: &str = "embedActionConfigList";

pub const ACTION_TYPES: &[&str] = &["URL", "CALLBACK", "APP"];
pub const AVAILABILITY: &[&str] = &["GLOBAL", "LOCAL"];
pub const CONTEXTS: &[&str] = &["NONE", "PRIMARY", "MENU", "CONTEXT_MENU"];

/// Fields of an action that the cluster may keep its own way whatever is
/// written (the docs' examples write "v4" and answer "v2"): not compared
/// where both sides have the action; a create sends the source's.
pub const SERVER_OWNED_ACTION_FIELDS: &[&str] = &["version"];

/// The Primary Org: where everything lives on a cluster without Orgs.
pub const PRIMARY_ORG: i64 = 0;

/// `GET`/`PUT session/orgs`: list the Orgs, switch the session's Org
/// (form parameter `orgid`).
pub const SESSION_ORGS: &str = "/session/orgs";
pub const PARAM_ORG_ID: &str = "orgid";

/// An Org as a cluster names it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Org {
    pub id: i64,
    pub name: String,
    /// The Org's default administrators group (`defaultAdminUserGroupId`
    /// of REST v1's `session/orgs`), where the cluster tells it: a group
    /// the cluster may add to an action it creates, so it is the
    /// cluster's (see `admin_group_list`). Not part of the Org's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_group: Option<String>,
}

impl Org {
    pub fn new(id: i64, name: impl Into<String>) -> Org {
        Org {
            id,
            name: name.into(),
            admin_group: None,
        }
    }
}

/// Fields of an action a cluster may keep in a form of its own, as the
/// docs' examples hint (`sim --server-normalizes`): `availability` as a
/// set (upper case, sorted, no repeats) and `detail.link` trimmed. Paths
/// are from the action.
pub const NORMALIZED_ACTION_FIELDS: &[&[&str]] = &[&["availability"], &["detail", "link"]];

/// `v` at `path` (one of `NORMALIZED_ACTION_FIELDS`) in the form a cluster
/// may keep it: two values with one form are one value to the cluster.
pub fn server_form(path: &[&str], v: &Value) -> Value {
    match (path, v) {
        (["availability"], Value::Array(items)) => {
            let mut words: Vec<String> = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map_or_else(|| i.to_string(), str::to_ascii_uppercase)
                })
                .collect();
            words.sort();
            words.dedup();
            Value::Array(words.into_iter().map(Value::String).collect())
        }
        (["detail", "link"], Value::String(s)) => Value::String(s.trim().to_string()),
        _ => v.clone(),
    }
}

/// `list` (a `userGroupList`) as it reads without the group `admin`
/// where `admin` is one the cluster added: `reference` (what was sent,
/// or the other side) lacks it. Otherwise `list` as it is.
pub fn without_added_admin(list: &Value, reference: &Value, admin: Option<&str>) -> Value {
    let (Some(admin), Some(items)) = (admin, list.as_array()) else {
        return list.clone();
    };
    let has = |v: &Value| {
        v.as_array()
            .is_some_and(|a| a.iter().any(|g| g.as_str() == Some(admin)))
    };
    if has(list) && !has(reference) {
        Value::Array(
            items
                .iter()
                .filter(|g| g.as_str() != Some(admin))
                .cloned()
                .collect(),
        )
    } else {
        list.clone()
    }
}

/// Two Orgs are the same Org when id and name agree; what is known of
/// their groups does not count.
impl PartialEq for Org {
    fn eq(&self, other: &Org) -> bool {
        self.id == other.id && self.name == other.name
    }
}

impl Eq for Org {}

impl std::fmt::Display for Org {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.id)
    }
}

/// An Org as a user names it: by numeric id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgSpec {
    Id(i64),
    Name(String),
}

impl OrgSpec {
    /// A number is an id, anything else a name.
    pub fn parse(text: &str) -> OrgSpec {
        match text.trim().parse::<i64>() {
            Ok(id) => OrgSpec::Id(id),
            Err(_) => OrgSpec::Name(text.trim().to_string()),
        }
    }

    /// Whether `org` is the one meant: by id, or by name (case-insensitive).
    pub fn matches(&self, org: &Org) -> bool {
        match self {
            OrgSpec::Id(id) => org.id == *id,
            OrgSpec::Name(name) => org.name.eq_ignore_ascii_case(name),
        }
    }

    /// The Org among `orgs`: an exact name wins over one that differs in case.
    pub fn find<'a>(&self, orgs: &'a [Org]) -> Option<&'a Org> {
        if let OrgSpec::Name(name) = self {
            if let Some(o) = orgs.iter().find(|o| &o.name == name) {
                return Some(o);
            }
        }
        orgs.iter().find(|o| self.matches(o))
    }
}

impl std::fmt::Display for OrgSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrgSpec::Id(id) => write!(f, "{id}"),
            OrgSpec::Name(name) => write!(f, "{name:?}"),
        }
    }
}

/// The kinds of object an action can be associated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssociationKind {
    Answer,
    Worksheet,
    Visualization,
}

impl AssociationKind {
    pub const ALL: [AssociationKind; 3] = [
        AssociationKind::Answer,
        AssociationKind::Worksheet,
        AssociationKind::Visualization,
    ];

    pub fn parse(key: &str) -> Option<AssociationKind> {
        AssociationKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The key in `actionAssociationMap`.
    pub fn key(self) -> &'static str {
        match self {
            AssociationKind::Answer => "ANSWER",
            AssociationKind::Worksheet => "WORKSHEET",
            AssociationKind::Visualization => "VISUALIZATION",
        }
    }

    /// How `metadata/listobjectheaders` finds objects of this kind; `None`
    /// where it cannot (a visualization id is internal to its Liveboard).
    pub fn lookup(self) -> Option<ObjectQuery> {
        match self {
            AssociationKind::Answer => Some(ObjectQuery::ANSWERS),
            AssociationKind::Worksheet => Some(ObjectQuery::WORKSHEETS),
            AssociationKind::Visualization => None,
        }
    }
}

/// One `type` (and optional subtypes) of `metadata/listobjectheaders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectQuery {
    pub object_type: &'static str,
    pub subtypes: &'static [&'static str],
}

impl ObjectQuery {
    pub const ANSWERS: ObjectQuery = ObjectQuery {
        object_type: "QUESTION_ANSWER_BOOK",
        subtypes: &[],
    };
    /// Worksheets, and Models since 10.12 (same subtype).
    pub const WORKSHEETS: ObjectQuery = ObjectQuery {
        object_type: "LOGICAL_TABLE",
        subtypes: &["WORKSHEET"],
    };
    pub const USER_GROUPS: ObjectQuery = ObjectQuery {
        object_type: "USER_GROUP",
        subtypes: &[],
    };
}

/// The `type` values `metadata/listobjectheaders` accepts.
pub const OBJECT_TYPES: &[&str] = &[
    "QUESTION_ANSWER_BOOK",
    "PINBOARD_ANSWER_BOOK",
    "QUESTION_ANSWER_SHEET",
    "PINBOARD_ANSWER_SHEET",
    "LOGICAL_COLUMN",
    "LOGICAL_TABLE",
    "LOGICAL_RELATIONSHIP",
    "TAG",
    "DATA_SOURCE",
    "USER",
    "USER_GROUP",
];

/// What `metadata/listobjectheaders` answers without a `type`: Liveboards.
pub const DEFAULT_OBJECT_TYPE: &str = "PINBOARD_ANSWER_BOOK";

/// Why `configchanges` cannot write the config key at `path` (its
/// segments below the config), or `None` where it can. It names a key by
/// its dotted path (`lookup_key`): a top-level key is found whole, but a
/// nested key whose path holds a '.' has no name there.
pub fn unwritable_config_key<S: AsRef<str>>(path: &[S]) -> Option<String> {
    let (last, above) = path.split_last()?;
    let dotted = |s: &S| s.as_ref().contains('.');
    if above.is_empty() || !(dotted(last) || above.iter().any(dotted)) {
        return None;
    }
    let whose = if dotted(last) {
        "its key contains a '.'".to_string()
    } else {
        let key = above.iter().find(|s| dotted(s)).map_or("", |s| s.as_ref());
        format!("the key {key:?} above it contains a '.'")
    };
    Some(format!(
        "cannot be written through the admin API: {whose}, and {CONFIG_CHANGES} names a nested key by its dotted path"
    ))
}

/// A configinfo key: a top-level key, or a dotted path to a nested one.
pub fn lookup_key<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if let Some(v) = config.get(key) {
        return Some(v);
    }
    let mut parts = key.split('.');
    let mut cur = config.get(parts.next()?)?;
    for part in parts {
        cur = cur.as_object()?.get(part)?;
    }
    Some(cur)
}

pub fn lookup_key_mut<'a>(config: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Value> {
    if config.contains_key(key) {
        return config.get_mut(key);
    }
    let mut parts = key.split('.');
    let mut cur = config.get_mut(parts.next()?)?;
    for part in parts {
        cur = cur.as_object_mut()?.get_mut(part)?;
    }
    Some(cur)
}

/// A value against `{dataType, regex}` of the overrides metadata. The
/// message never repeats the value (it may be a secret); callers that know
/// it is not one put it in front.
pub fn check_against_meta(v: &Value, meta: &Value) -> Result<(), String> {
    let data_type = meta.get("dataType").and_then(Value::as_str).unwrap_or("");
    let ok = match data_type {
        "BOOLEAN" => v.is_boolean(),
        "INTEGER" | "LONG" => v.is_i64() || v.is_u64(),
        "DOUBLE" | "FLOAT" => v.is_number(),
        "STRING" => v.is_string(),
        "ARRAYLIST" => v.is_array(),
        _ => true,
    };
    if !ok {
        return Err(format!(
            "dataType is {data_type}, the value is {}",
            kind_of(v)
        ));
    }
    if let (Some(pattern), Some(text)) = (meta.get("regex").and_then(Value::as_str), v.as_str()) {
        match Regex::new(&format!("^(?:{pattern})$")) {
            Ok(re) if !re.is_match(text) => {
                return Err(format!("does not match the regex {pattern}"))
            }
            Ok(_) => {}
            Err(_) => return Err(format!("the regex {pattern} does not compile")),
        }
    }
    Ok(())
}

/// `{KIND: {guid: {...}}}`, each level an object.
pub fn check_association_map(map: &Value) -> Result<(), String> {
    let Some(kinds) = map.as_object() else {
        return Err(format!("{ASSOCIATION_MAP} must be an object"));
    };
    for (kind, objects) in kinds {
        let Some(objects) = objects.as_object() else {
            return Err(format!("{ASSOCIATION_MAP}.{kind} must be an object"));
        };
        for (guid, entry) in objects {
            if !entry.is_object() {
                return Err(format!("{ASSOCIATION_MAP}.{kind}.{guid} must be an object"));
            }
        }
    }
    Ok(())
}

/// "a string", "an object", ...: a value's JSON type, for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_and_top_level_keys() {
        let cfg = json!({"a": {"b": 1}, "c.d": 2});
        let cfg = cfg.as_object().unwrap();
        assert_eq!(lookup_key(cfg, "a.b"), Some(&json!(1)));
        assert_eq!(lookup_key(cfg, "c.d"), Some(&json!(2)));
        assert_eq!(lookup_key(cfg, "a.x"), None);
    }

    #[test]
    fn a_nested_key_with_a_dot_has_no_dotted_name() {
        assert_eq!(unwritable_config_key(&["c.d"]), None);
        assert_eq!(unwritable_config_key(&["a", "b"]), None);
        let why = unwritable_config_key(&["nest", "in.ner"]).unwrap();
        assert!(why.contains("its key contains a '.'"), "{why}");
        let why = unwritable_config_key(&["a.b", "c"]).unwrap();
        assert!(why.contains("the key \"a.b\" above it"), "{why}");
    }

    #[test]
    fn meta_checks_type_and_regex_without_echoing_the_value() {
        let meta = json!({"dataType": "STRING", "regex": "[0-9]+"});
        assert!(check_against_meta(&json!("12"), &meta).is_ok());
        let err = check_against_meta(&json!("hunter2-secret"), &meta).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(check_against_meta(&json!(1), &json!({"dataType": "BOOLEAN"})).is_err());
    }

    #[test]
    fn association_kinds_and_lookups() {
        assert_eq!(
            AssociationKind::parse("WORKSHEET").unwrap().lookup(),
            Some(ObjectQuery::WORKSHEETS)
        );
        assert_eq!(AssociationKind::Visualization.lookup(), None);
        assert!(check_association_map(&json!({"ANSWER": {"g": {}}})).is_ok());
        assert!(check_association_map(&json!({"ANSWER": []})).is_err());
    }
}
