//! REST v2 custom actions over the stored (v1-shaped) actions: the
//! `ResponseCustomAction` a search answers for a stored action, and the
//! stored action a v2 create or update makes. Written from the v2 spec on
//! its own, not shared with the client, so the two can disagree.
//!
//! Stored forms chosen where v1 shows none: API-key authentication is
//! `authSelect: "API_KEY"` (with `apiKey`/`apiValue`), basic authentication
//! `authSelect: "BASIC_AUTH"` (with `username`/`password` in `detail`), URL
//! query parameters `detail.parameters` (`[{key, value}]`). An APP action
//! (v2 knows only URL and CALLBACK) is answered with `action_details: {}`.

use serde_json::{json, Map, Value};

use super::action_list::ActionList;
use super::state::{new_guid, object_kind, Mutation, SimError, SimState};
use crate::model::{self, AssociationKind, ASSOCIATION_MAP, USER_GROUPS};

/// `authSelect` as stored for each v2 authentication.
pub const AUTH_NONE: &str = "NONE";
pub const AUTH_BEARER: &str = "BEARER";
pub const AUTH_API_KEY: &str = "API_KEY";
pub const AUTH_BASIC: &str = "BASIC_AUTH";

/// `action_config.position` values a request may name (v1 `context`).
pub const POSITIONS: &[&str] = &["MENU", "PRIMARY", "CONTEXT_MENU"];
const DEFAULT_POSITION: &str = "MENU";

pub const NOT_FOUND: &str = "Custom action with the specified identifier was not found.";
pub const MALFORMED_IDENTIFIER: &str = "Custom action identifier is invalid or malformed.";
pub const DUPLICATE_NAME: &str =
    "A custom action with the same name already exists. The custom action name must be unique.";

/// What a search answer carries beyond the action itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Includes {
    pub groups: bool,
    pub metadata: bool,
}

impl Includes {
    pub const ALL: Includes = Includes {
        groups: true,
        metadata: true,
    };
}

// ---------------------------------------------------------------------------
// Stored → v2

/// A stored action as v2 answers it. `objects` are the Org's metadata
/// objects, for the names of user groups.
pub fn to_v2(action: &Value, objects: &[Value], include: Includes) -> Value {
    let mut out = Map::new();
    out.insert(
        "id".into(),
        action.get("id").cloned().unwrap_or(Value::Null),
    );
    out.insert(
        "name".into(),
        action.get("name").cloned().unwrap_or(Value::Null),
    );
    out.insert("action_details".into(), action_details(action));
    out.insert(
        "default_action_config".into(),
        json!({"visibility": is_global(action)}),
    );
    if include.metadata {
        out.insert(
            "metadata_association".into(),
            Value::Array(metadata_association(action)),
        );
    }
    if include.groups {
        let groups = group_ids(action)
            .into_iter()
            .map(|id| {
                let name = group_name(objects, &id).unwrap_or(&id).to_string();
                json!({"id": id, "name": name})
            })
            .collect();
        out.insert("user_groups".into(), Value::Array(groups));
    }
    Value::Object(out)
}

fn detail(action: &Value) -> Option<&Map<String, Value>> {
    action.get("detail").and_then(Value::as_object)
}

fn detail_str<'a>(action: &'a Value, field: &str) -> &'a str {
    detail(action)
        .and_then(|d| d.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn action_type(action: &Value) -> &str {
    action.get("type").and_then(Value::as_str).unwrap_or("")
}

/// `{"URL": {…}}`, `{"CALLBACK": {…}}`, or `{}` for an APP action.
fn action_details(action: &Value) -> Value {
    let reference = detail_str(action, "function");
    match action_type(action) {
        "URL" => {
            let mut url = Map::new();
            url.insert("url".into(), json!(detail_str(action, "link")));
            url.insert("reference".into(), json!(reference));
            if let Some(auth) = authentication(action) {
                url.insert("authentication".into(), auth);
            }
            let parameters = detail(action)
                .and_then(|d| d.get("parameters"))
                .filter(|p| p.is_array())
                .cloned()
                .unwrap_or_else(|| json!([]));
            url.insert("parameters".into(), parameters);
            json!({"URL": url})
        }
        "CALLBACK" => json!({"CALLBACK": {"reference": reference}}),
        _ => json!({}),
    }
}

/// The v2 authentication of a URL action; `None` for an `authSelect` that
/// v2 cannot name.
fn authentication(action: &Value) -> Option<Value> {
    let field = |f: &str| json!(detail_str(action, f));
    match detail_str(action, "authSelect") {
        "" | AUTH_NONE => Some(json!({"No_Auth": ""})),
        AUTH_BEARER => Some(json!({"Bearer_Token": field("authToken")})),
        AUTH_API_KEY => {
            Some(json!({"API_Key": {"key": field("apiKey"), "value": field("apiValue")}}))
        }
        AUTH_BASIC => Some(json!({"Basic_Auth": {
            "username": field("username"), "password": field("password")}})),
        _ => None,
    }
}

/// `availability: ["GLOBAL"]` is v2's `visibility: true`; anything else false.
fn is_global(action: &Value) -> bool {
    action.get("availability") == Some(&json!(["GLOBAL"]))
}

/// v1 stores `enabled` as a string; read a boolean too. Absent: enabled.
fn enabled(entry: &Value) -> bool {
    match entry.get("enabled") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.eq_ignore_ascii_case("false"),
        _ => true,
    }
}

fn metadata_association(action: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let map = action.get(ASSOCIATION_MAP).and_then(Value::as_object);
    for (kind, objects) in map.into_iter().flatten() {
        for (guid, entry) in objects.as_object().into_iter().flatten() {
            let position = entry
                .get("context")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_POSITION);
            out.push(json!({
                "identifier": guid,
                "type": kind,
                "action_config": {"position": position, "visibility": enabled(entry)},
            }));
        }
    }
    out
}

fn group_ids(action: &Value) -> Vec<String> {
    action
        .get(USER_GROUPS)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn is_group(o: &Value) -> bool {
    object_kind(o).0 == "USER_GROUP"
}

fn group_name<'a>(objects: &'a [Value], id: &str) -> Option<&'a str> {
    objects
        .iter()
        .filter(|o| is_group(o))
        .find(|o| o.get("id").and_then(Value::as_str) == Some(id))
        .and_then(|o| o.get("name").and_then(Value::as_str))
}

// ---------------------------------------------------------------------------
// Search

/// `POST customization/custom-actions/search` over an Org's actions.
pub fn search(
    state: &SimState,
    org: i64,
    body: &Map<String, Value>,
    unknown_is_400: bool,
) -> Result<Vec<Value>, SimError> {
    let actions = state.actions(org)?;
    let objects = state.objects(org)?;
    let include = Includes {
        groups: boolean(
            body.get("include_group_associations"),
            "include_group_associations",
        )?
        .unwrap_or(false),
        metadata: boolean(
            body.get("include_metadata_associations"),
            "include_metadata_associations",
        )?
        .unwrap_or(false),
    };
    let identifier = text(
        body.get("custom_action_identifier"),
        "custom_action_identifier",
    )?;
    let pattern = text(body.get("name_pattern"), "name_pattern")?;
    let kind = text(body.get("type"), "type")?;
    if let Some(k) = &kind {
        if k != "URL" && k != "CALLBACK" {
            return Err(SimError::bad_request(format!(
                "type must be URL or CALLBACK, not {k:?}"
            )));
        }
    }
    let visibility = match body.get("default_action_config") {
        None | Some(Value::Null) => None,
        Some(Value::Object(c)) => boolean(c.get("visibility"), "default_action_config.visibility")?,
        Some(_) => {
            return Err(SimError::bad_request(
                "default_action_config must be an object",
            ))
        }
    };
    let metadata = metadata_filter(body.get("metadata"), objects)?;

    let selected: Vec<&Value> = match &identifier {
        Some(ident) => match find(actions, ident) {
            Some(a) => vec![a],
            None if unknown_is_400 => return Err(SimError::bad_request(MALFORMED_IDENTIFIER)),
            None => Vec::new(),
        },
        None => actions.iter().collect(),
    };
    Ok(selected
        .into_iter()
        .filter(|a| {
            pattern.as_deref().is_none_or(|p| {
                name_matches(a.get("name").and_then(Value::as_str).unwrap_or(""), p)
            })
        })
        .filter(|a| kind.as_deref().is_none_or(|k| action_type(a) == k))
        .filter(|a| visibility.is_none_or(|v| is_global(a) == v))
        .filter(|a| {
            metadata.as_ref().is_none_or(|guids| {
                metadata_association(a).iter().any(|m| {
                    m["identifier"]
                        .as_str()
                        .is_some_and(|g| guids.iter().any(|x| x == g))
                })
            })
        })
        .map(|a| to_v2(a, objects, include))
        .collect())
}

/// The GUIDs of a search's `metadata` list (identifiers may be names).
fn metadata_filter(v: Option<&Value>, objects: &[Value]) -> Result<Option<Vec<String>>, SimError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(SimError::bad_request("metadata must be an array")),
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("metadata[{i}]");
        let Some(ident) = text(item.get("identifier"), &format!("{at}.identifier"))? else {
            return Err(SimError::bad_request(format!(
                "{at}.identifier is required"
            )));
        };
        let kind = text(item.get("type"), &format!("{at}.type"))?;
        out.push(resolve_target(objects, &ident, kind.as_deref(), &at)?.1);
    }
    Ok(Some(out))
}

/// Case-insensitive substring match where `%` matches anything.
pub fn name_matches(name: &str, pattern: &str) -> bool {
    let name = name.to_lowercase();
    let mut rest = name.as_str();
    for piece in pattern.to_lowercase().split('%') {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    true
}

/// An action by id, else by name.
fn find<'a>(actions: &'a ActionList, ident: &str) -> Option<&'a Value> {
    actions.by_id(ident).or_else(|| actions.first_named(ident))
}

/// The stored id of the action a path names (id or name).
pub fn resolve(state: &SimState, org: i64, ident: &str) -> Result<String, SimError> {
    find(state.actions(org)?, ident)
        .and_then(|a| a.get("id").and_then(Value::as_str))
        .map(str::to_string)
        .ok_or_else(|| SimError::bad_request(NOT_FOUND))
}

// ---------------------------------------------------------------------------
// v2 → stored

/// `POST customization/custom-actions`: the stored action and its answer.
pub fn create(
    state: &mut SimState,
    org: i64,
    body: &Map<String, Value>,
) -> Result<(Value, Mutation), SimError> {
    let name = match text(body.get("name"), "name")? {
        Some(n) if !n.trim().is_empty() => n,
        _ => return Err(SimError::bad_request("name is required")),
    };
    if name_taken(state, org, &name, None)? {
        return Err(SimError::bad_request(DUPLICATE_NAME));
    }
    let Some(details) = body.get("action_details").filter(|d| !d.is_null()) else {
        return Err(SimError::bad_request(
            "action_details is required: one of URL or CALLBACK",
        ));
    };
    let mut action = Map::new();
    action.insert("id".into(), json!(new_guid()));
    action.insert("name".into(), json!(name));
    action.insert("version".into(), json!("v2"));
    action.insert("context".into(), json!("NONE"));
    action.insert("application".into(), json!("NONE"));
    action.insert(ASSOCIATION_MAP.into(), json!({}));
    action.insert(USER_GROUPS.into(), json!([]));
    action.insert("detail".into(), json!({}));
    apply_details(&mut action, details, &name)?;
    let global = match body.get("default_action_config") {
        None | Some(Value::Null) => true,
        Some(c) => visibility(c)?.unwrap_or(true),
    };
    set_availability(&mut action, global);
    let objects = state.objects(org)?.clone();
    let mut stored = Value::Object(action);
    if let Some(list) = body.get("associate_metadata") {
        add_associations(&mut stored, list, &objects)?;
    }
    if let Some(list) = body.get("group_identifiers") {
        add_groups(&mut stored, list, &objects)?;
    }
    let m = Mutation::PutAction {
        org,
        action: stored.clone(),
    };
    state.apply(&m);
    Ok((to_v2(&stored, &objects, Includes::ALL), m))
}

/// `POST customization/custom-actions/{id}/update`. `name`, `action_details`
/// and `default_action_config` replace what they name; `operation` (ADD, the
/// default, or REMOVE) applies to `associate_metadata` and
/// `group_identifiers`: ADD upserts, REMOVE removes (what is not there is
/// ignored).
pub fn update(
    state: &mut SimState,
    org: i64,
    ident: &str,
    body: &Map<String, Value>,
) -> Result<((), Mutation), SimError> {
    let id = resolve(state, org, ident)?;
    let mut stored = state.action(org, &id)?.clone();
    let remove = match text(body.get("operation"), "operation")?.as_deref() {
        None | Some("ADD") => false,
        Some("REMOVE") => true,
        Some(other) => {
            return Err(SimError::bad_request(format!(
                "operation must be ADD or REMOVE, not {other:?}"
            )))
        }
    };
    let Some(action) = stored.as_object_mut() else {
        return Err(SimError::bad_request(NOT_FOUND));
    };
    if let Some(name) = text(body.get("name"), "name")? {
        if name.trim().is_empty() {
            return Err(SimError::bad_request("name must not be empty"));
        }
        if name_taken(state, org, &name, Some(&id))? {
            return Err(SimError::bad_request(DUPLICATE_NAME));
        }
        action.insert("name".into(), json!(name));
    }
    if let Some(details) = body.get("action_details").filter(|d| !d.is_null()) {
        let name = action
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        apply_details(action, details, &name)?;
    }
    if let Some(c) = body.get("default_action_config").filter(|c| !c.is_null()) {
        if let Some(global) = visibility(c)? {
            set_availability(action, global);
        }
    }
    let objects = state.objects(org)?.clone();
    if let Some(list) = body.get("associate_metadata").filter(|l| !l.is_null()) {
        if remove {
            remove_associations(&mut stored, list, &objects)?;
        } else {
            add_associations(&mut stored, list, &objects)?;
        }
    }
    if let Some(list) = body.get("group_identifiers").filter(|l| !l.is_null()) {
        if remove {
            remove_groups(&mut stored, list, &objects)?;
        } else {
            add_groups(&mut stored, list, &objects)?;
        }
    }
    let m = Mutation::PutAction {
        org,
        action: stored,
    };
    state.apply(&m);
    Ok(((), m))
}

/// `POST customization/custom-actions/{id}/delete`.
pub fn delete(state: &mut SimState, org: i64, ident: &str) -> Result<((), Mutation), SimError> {
    let id = resolve(state, org, ident)?;
    let m = Mutation::DeleteAction { org, id };
    state.apply(&m);
    Ok(((), m))
}

fn name_taken(
    state: &SimState,
    org: i64,
    name: &str,
    except_id: Option<&str>,
) -> Result<bool, SimError> {
    Ok(state.actions(org)?.name_taken(name, except_id))
}

fn set_availability(action: &mut Map<String, Value>, global: bool) {
    let availability = if global { "GLOBAL" } else { "LOCAL" };
    action.insert("availability".into(), json!([availability]));
}

fn visibility(config: &Value) -> Result<Option<bool>, SimError> {
    match config {
        Value::Object(c) => boolean(c.get("visibility"), "default_action_config.visibility"),
        _ => Err(SimError::bad_request(
            "default_action_config must be an object",
        )),
    }
}

/// Writes `action_details` into a stored action: its type, and the detail
/// fields v2 can name (link, function, authentication, parameters). What v2
/// cannot name (`additionalUrlHeaders`, `encodeUser`) is kept, or set to its
/// "none" form on a new action. A URL action left without `url` keeps its
/// stored link; `reference` left out is the action's name.
fn apply_details(
    action: &mut Map<String, Value>,
    details: &Value,
    name: &str,
) -> Result<(), SimError> {
    let Some(details) = details.as_object() else {
        return Err(SimError::bad_request("action_details must be an object"));
    };
    let present = |k: &str| details.get(k).filter(|v| !v.is_null());
    let (kind, input) = match (present("URL"), present("CALLBACK")) {
        (Some(u), None) => ("URL", u),
        (None, Some(c)) => ("CALLBACK", c),
        (Some(_), Some(_)) => {
            return Err(SimError::bad_request(
                "action_details must hold one of URL or CALLBACK, not both",
            ))
        }
        (None, None) => {
            return Err(SimError::bad_request(
                "action_details must hold one of URL or CALLBACK",
            ))
        }
    };
    let Some(input) = input.as_object() else {
        return Err(SimError::bad_request(format!(
            "action_details.{kind} must be an object"
        )));
    };
    for key in details.keys() {
        if key != "URL" && key != "CALLBACK" {
            return Err(SimError::bad_request(format!(
                "action_details.{key} is not URL or CALLBACK"
            )));
        }
    }
    let was_url = action.get("type").and_then(Value::as_str) == Some("URL");
    let mut detail = action
        .get("detail")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let at = |f: &str| format!("action_details.{kind}.{f}");
    let reference = text(input.get("reference"), &at("reference"))?.unwrap_or(name.to_string());
    let mut auth = Auth::None;
    let mut link = String::new();
    let mut parameters = None;
    if kind == "URL" {
        link = match text(input.get("url"), &at("url"))? {
            Some(url) if !url.is_empty() => url,
            _ if was_url => detail
                .get("link")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => return Err(SimError::bad_request(format!("{} is required", at("url")))),
        };
        auth = Auth::parse(input.get("authentication"), &at("authentication"))?;
        parameters = Some(params(input.get("parameters"), &at("parameters"))?);
    }
    detail.insert("link".into(), json!(link));
    detail.insert("function".into(), json!(reference));
    auth.store(&mut detail);
    detail.entry("encodeUser").or_insert(json!(""));
    detail.entry("additionalUrlHeaders").or_insert(json!("{}"));
    detail.remove("appActionType");
    match parameters {
        Some(p) if !p.is_empty() => {
            detail.insert("parameters".into(), Value::Array(p));
        }
        _ => {
            detail.remove("parameters");
        }
    }
    action.insert("type".into(), json!(kind));
    action.insert("detail".into(), Value::Object(detail));
    Ok(())
}

/// A v2 `authentication` (one key of four).
#[derive(Debug, Clone, PartialEq)]
enum Auth {
    None,
    Bearer(String),
    ApiKey { key: String, value: String },
    Basic { username: String, password: String },
}

impl Auth {
    fn parse(v: Option<&Value>, at: &str) -> Result<Auth, SimError> {
        let obj = match v {
            None | Some(Value::Null) => return Ok(Auth::None),
            Some(Value::Object(o)) => o,
            Some(_) => return Err(SimError::bad_request(format!("{at} must be an object"))),
        };
        let set: Vec<(&String, &Value)> = obj.iter().filter(|(_, v)| !v.is_null()).collect();
        let [(key, value)] = set.as_slice() else {
            if set.is_empty() {
                return Ok(Auth::None);
            }
            return Err(SimError::bad_request(format!(
                "{at} must hold one of No_Auth, Bearer_Token, API_Key, Basic_Auth"
            )));
        };
        let field = |name: &str| -> Result<String, SimError> {
            Ok(text(value.get(name), &format!("{at}.{key}.{name}"))?.unwrap_or_default())
        };
        match key.as_str() {
            "No_Auth" => Ok(Auth::None),
            "Bearer_Token" => Ok(Auth::Bearer(
                text(Some(value), &format!("{at}.Bearer_Token"))?.unwrap_or_default(),
            )),
            "API_Key" if value.is_object() => Ok(Auth::ApiKey {
                key: field("key")?,
                value: field("value")?,
            }),
            "Basic_Auth" if value.is_object() => Ok(Auth::Basic {
                username: field("username")?,
                password: field("password")?,
            }),
            "API_Key" | "Basic_Auth" => Err(SimError::bad_request(format!(
                "{at}.{key} must be an object"
            ))),
            other => Err(SimError::bad_request(format!(
                "{at}.{other} is not No_Auth, Bearer_Token, API_Key or Basic_Auth"
            ))),
        }
    }

    /// Sets `authSelect` and the credentials of that mode; the others are
    /// cleared (v2 keeps only the selected mode's).
    fn store(&self, detail: &mut Map<String, Value>) {
        let (select, token, key, value) = match self {
            Auth::None => (AUTH_NONE, "", "", ""),
            Auth::Bearer(t) => (AUTH_BEARER, t.as_str(), "", ""),
            Auth::ApiKey { key, value } => (AUTH_API_KEY, "", key.as_str(), value.as_str()),
            Auth::Basic { .. } => (AUTH_BASIC, "", "", ""),
        };
        detail.insert("authSelect".into(), json!(select));
        detail.insert("authToken".into(), json!(token));
        detail.insert("apiKey".into(), json!(key));
        detail.insert("apiValue".into(), json!(value));
        match self {
            Auth::Basic { username, password } => {
                detail.insert("username".into(), json!(username));
                detail.insert("password".into(), json!(password));
            }
            _ => {
                detail.remove("username");
                detail.remove("password");
            }
        }
    }
}

fn params(v: Option<&Value>, at: &str) -> Result<Vec<Value>, SimError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(SimError::bad_request(format!("{at} must be an array"))),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if !p.is_object() {
                return Err(SimError::bad_request(format!(
                    "{at}[{i}] must be an object {{key, value}}"
                )));
            }
            let key = text(p.get("key"), &format!("{at}[{i}].key"))?.unwrap_or_default();
            let value = text(p.get("value"), &format!("{at}[{i}].value"))?.unwrap_or_default();
            Ok(json!({"key": key, "value": value}))
        })
        .collect()
}

/// The association key (`ANSWER`, `WORKSHEET`) of a metadata object.
fn association_kind_of(o: &Value) -> Option<AssociationKind> {
    match object_kind(o).0 {
        "QUESTION_ANSWER_BOOK" => Some(AssociationKind::Answer),
        "LOGICAL_TABLE" => Some(AssociationKind::Worksheet),
        _ => None,
    }
}

/// The association kind and GUID an `{identifier, type}` names. A GUID
/// the Org does not hold (a visualization's, say) is taken as given when
/// the type is.
fn resolve_target(
    objects: &[Value],
    ident: &str,
    kind: Option<&str>,
    at: &str,
) -> Result<(AssociationKind, String), SimError> {
    let by_id = objects
        .iter()
        .find(|o| o.get("id").and_then(Value::as_str) == Some(ident));
    let Some(kind) = kind else {
        return match by_id.and_then(association_kind_of) {
            Some(k) => Ok((k, ident.to_string())),
            None => Err(SimError::bad_request(format!(
                "{at}.type is required unless the identifier is the GUID of an Answer or Worksheet"
            ))),
        };
    };
    let Some(kind) = AssociationKind::parse(kind) else {
        return Err(SimError::bad_request(format!(
            "{at}.type must be VISUALIZATION, ANSWER or WORKSHEET, not {kind:?}"
        )));
    };
    if by_id.is_some() {
        return Ok((kind, ident.to_string()));
    }
    let by_name = objects.iter().find(|o| {
        o.get("name").and_then(Value::as_str) == Some(ident) && association_kind_of(o) == Some(kind)
    });
    let guid = by_name
        .and_then(|o| o.get("id").and_then(Value::as_str))
        .unwrap_or(ident);
    Ok((kind, guid.to_string()))
}

fn association_items(list: &Value) -> Result<&Vec<Value>, SimError> {
    list.as_array()
        .ok_or_else(|| SimError::bad_request("associate_metadata must be an array"))
}

fn association_map(action: &mut Value) -> &mut Map<String, Value> {
    if !action.get(ASSOCIATION_MAP).is_some_and(Value::is_object) {
        action[ASSOCIATION_MAP] = json!({});
    }
    match action.get_mut(ASSOCIATION_MAP) {
        Some(Value::Object(map)) => map,
        _ => unreachable!("actionAssociationMap was set to an object"),
    }
}

/// ADD: a new association takes the create defaults (MENU, visible); an
/// existing one takes the fields `action_config` names.
fn add_associations(action: &mut Value, list: &Value, objects: &[Value]) -> Result<(), SimError> {
    let mut parsed = Vec::new();
    for (i, item) in association_items(list)?.iter().enumerate() {
        let at = format!("associate_metadata[{i}]");
        let Some(ident) = text(item.get("identifier"), &format!("{at}.identifier"))? else {
            return Err(SimError::bad_request(format!(
                "{at}.identifier is required"
            )));
        };
        let kind = text(item.get("type"), &format!("{at}.type"))?;
        let (kind, guid) = resolve_target(objects, &ident, kind.as_deref(), &at)?;
        let (position, visible) = match item.get("action_config") {
            None | Some(Value::Null) => (None, None),
            Some(Value::Object(c)) => {
                let position = text(c.get("position"), &format!("{at}.action_config.position"))?;
                if let Some(p) = &position {
                    if !POSITIONS.contains(&p.as_str()) {
                        return Err(SimError::bad_request(format!(
                            "{at}.action_config.position must be MENU, PRIMARY or CONTEXT_MENU, not {p:?}"
                        )));
                    }
                }
                let visible = boolean(
                    c.get("visibility"),
                    &format!("{at}.action_config.visibility"),
                )?;
                (position, visible)
            }
            Some(_) => {
                return Err(SimError::bad_request(format!(
                    "{at}.action_config must be an object"
                )))
            }
        };
        parsed.push((kind, guid, position, visible));
    }
    let map = association_map(action);
    for (kind, guid, position, visible) in parsed {
        let slot = map.entry(kind.key()).or_insert_with(|| json!({}));
        let Some(slot) = slot.as_object_mut() else {
            continue;
        };
        let entry = slot
            .entry(guid)
            .or_insert_with(|| json!({"enabled": "true", "context": DEFAULT_POSITION}));
        if let Some(p) = position {
            entry["context"] = json!(p);
        }
        if let Some(v) = visible {
            entry["enabled"] = json!(v.to_string());
        }
    }
    Ok(())
}

fn remove_associations(
    action: &mut Value,
    list: &Value,
    objects: &[Value],
) -> Result<(), SimError> {
    let mut targets = Vec::new();
    for (i, item) in association_items(list)?.iter().enumerate() {
        let at = format!("associate_metadata[{i}]");
        let Some(ident) = text(item.get("identifier"), &format!("{at}.identifier"))? else {
            return Err(SimError::bad_request(format!(
                "{at}.identifier is required"
            )));
        };
        let kind = text(item.get("type"), &format!("{at}.type"))?;
        // Without a type, the identifier goes wherever it is.
        match resolve_target(objects, &ident, kind.as_deref(), &at) {
            Ok((k, guid)) => targets.push((Some(k), guid)),
            Err(_) if kind.is_none() => targets.push((None, ident)),
            Err(e) => return Err(e),
        }
    }
    let map = association_map(action);
    for (kind, guid) in targets {
        for (k, objects) in map.iter_mut() {
            if kind.is_none_or(|kind| kind.key() == k) {
                if let Some(objects) = objects.as_object_mut() {
                    objects.remove(&guid);
                }
            }
        }
    }
    map.retain(|_, objects| objects.as_object().is_none_or(|o| !o.is_empty()));
    Ok(())
}

/// Group identifiers (ids or names) as stored: ids; one the Org does not
/// know is kept as given.
fn group_list(list: &Value, objects: &[Value]) -> Result<Vec<String>, SimError> {
    let Some(items) = list.as_array() else {
        return Err(SimError::bad_request("group_identifiers must be an array"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let Some(ident) = text(Some(v), &format!("group_identifiers[{i}]"))? else {
                return Err(SimError::bad_request(format!(
                    "group_identifiers[{i}] must be a string"
                )));
            };
            let groups = || objects.iter().filter(|o| is_group(o));
            let field = |o: &Value, f: &str| o.get(f).and_then(Value::as_str) == Some(&ident);
            let id = groups()
                .find(|o| field(o, "id"))
                .or_else(|| groups().find(|o| field(o, "name")))
                .and_then(|o| o.get("id").and_then(Value::as_str))
                .map(str::to_string);
            Ok(id.unwrap_or(ident))
        })
        .collect()
}

fn add_groups(action: &mut Value, list: &Value, objects: &[Value]) -> Result<(), SimError> {
    let mut ids = group_ids(action);
    for id in group_list(list, objects)? {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    action[USER_GROUPS] = json!(ids);
    Ok(())
}

fn remove_groups(action: &mut Value, list: &Value, objects: &[Value]) -> Result<(), SimError> {
    let gone = group_list(list, objects)?;
    let ids: Vec<String> = group_ids(action)
        .into_iter()
        .filter(|id| !gone.contains(id))
        .collect();
    action[USER_GROUPS] = json!(ids);
    Ok(())
}

// ---------------------------------------------------------------------------
// Lenient scalars, as a Java (Jackson) server reads them: a number where a
// string is declared, "true"/"false" where a boolean is.

pub fn text(v: Option<&Value>, at: &str) -> Result<Option<String>, SimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(SimError::bad_request(format!(
            "{at} must be a string, not {}",
            model::kind_of(other)
        ))),
    }
}

pub fn boolean(v: Option<&Value>, at: &str) -> Result<Option<bool>, SimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(SimError::bad_request(format!(
            "{at} must be a boolean, not {}",
            model::kind_of(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> SimState {
        SimState::example()
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn by_name<'a>(s: &'a SimState, name: &str) -> &'a Value {
        s.actions.iter().find(|a| a["name"] == name).unwrap()
    }

    #[test]
    fn stored_actions_as_v2_answers_them() {
        let s = state();
        let crm = to_v2(by_name(&s, "Open in CRM"), &s.objects, Includes::ALL);
        assert_eq!(
            crm["action_details"],
            json!({"URL": {"url": "https://crm.example.test/open", "reference": "open-in-crm",
                "authentication": {"Bearer_Token": "S3CRET-crm-bearer-2c6d0e"}, "parameters": []}})
        );
        assert_eq!(crm["default_action_config"], json!({"visibility": true}));
        assert_eq!(
            crm["metadata_association"],
            json!([{"identifier": "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35", "type": "ANSWER",
                "action_config": {"position": "MENU", "visibility": true}}])
        );
        let notify = to_v2(by_name(&s, "Notify owner"), &s.objects, Includes::ALL);
        assert_eq!(
            notify["action_details"],
            json!({"CALLBACK": {"reference": "notify-owner"}})
        );
        assert_eq!(notify["default_action_config"]["visibility"], json!(false));
        assert_eq!(
            notify["user_groups"],
            json!([{"id": "b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04", "name": "Sales managers"}])
        );
        let slack = to_v2(
            by_name(&s, "Send to Slack"),
            &s.objects,
            Includes::default(),
        );
        assert_eq!(
            slack["action_details"],
            json!({}),
            "APP: neither URL nor CALLBACK"
        );
        assert!(slack.get("metadata_association").is_none());
        assert!(slack.get("user_groups").is_none());
    }

    #[test]
    fn a_v2_create_round_trips_through_the_stored_form() {
        let mut s = state();
        let request = json!({
            "name": "unpkg test",
            "action_details": {"URL": {"url": "https://unpkg.com", "reference": "unpkg-test",
                "authentication": {"API_Key": {"key": "X-K", "value": "v"}},
                "parameters": [{"key": "src", "value": "ts"}]}},
            "default_action_config": {"visibility": false},
            "associate_metadata": [
                {"identifier": "Quarterly revenue", "type": "ANSWER",
                 "action_config": {"position": "PRIMARY", "visibility": false}},
                {"identifier": "8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02"}],
            "group_identifiers": ["Sales managers", "unknown-group"]});
        let (answer, _) = create(&mut s, 0, &body(request)).unwrap();
        let stored = by_name(&s, "unpkg test").clone();
        assert_eq!(stored["version"], json!("v2"));
        assert_eq!(stored["availability"], json!(["LOCAL"]));
        assert_eq!(stored["detail"]["authSelect"], json!("API_KEY"));
        assert_eq!(stored["detail"]["apiKey"], json!("X-K"));
        assert_eq!(stored["detail"]["additionalUrlHeaders"], json!("{}"));
        assert_eq!(stored["detail"]["encodeUser"], json!(""));
        assert_eq!(
            stored[ASSOCIATION_MAP],
            json!({"ANSWER": {"3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35": {"enabled": "false", "context": "PRIMARY"}},
                   "WORKSHEET": {"8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02": {"enabled": "true", "context": "MENU"}}})
        );
        assert_eq!(
            stored[USER_GROUPS],
            json!(["b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04", "unknown-group"])
        );
        assert_eq!(answer, to_v2(&stored, &s.objects, Includes::ALL));
        assert_eq!(
            answer["action_details"]["URL"],
            json!({"url": "https://unpkg.com", "reference": "unpkg-test",
                "authentication": {"API_Key": {"key": "X-K", "value": "v"}},
                "parameters": [{"key": "src", "value": "ts"}]})
        );
        assert_eq!(
            answer["user_groups"][1],
            json!({"id": "unknown-group", "name": "unknown-group"})
        );
    }

    #[test]
    fn create_defaults_and_refusals() {
        let mut s = state();
        let (answer, _) = create(
            &mut s,
            0,
            &body(json!({"name": "cb", "action_details": {"CALLBACK": {}},
                "associate_metadata": [{"identifier": "0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62"}]})),
        )
        .unwrap();
        assert_eq!(
            answer["action_details"],
            json!({"CALLBACK": {"reference": "cb"}})
        );
        assert_eq!(answer["default_action_config"], json!({"visibility": true}));
        assert_eq!(
            answer["metadata_association"][0]["action_config"],
            json!({"position": "MENU", "visibility": true})
        );
        let stored = by_name(&s, "cb");
        assert_eq!(stored["availability"], json!(["GLOBAL"]));
        assert_eq!(stored["context"], json!("NONE"));
        assert_eq!(stored["application"], json!("NONE"));
        for bad in [
            json!({"name": "cb", "action_details": {"CALLBACK": {}}}),
            json!({"action_details": {"CALLBACK": {}}}),
            json!({"name": "x"}),
            json!({"name": "x", "action_details": {}}),
            json!({"name": "x", "action_details": {"URL": {"url": "u"}, "CALLBACK": {}}}),
            json!({"name": "x", "action_details": {"URL": {}}}),
            json!({"name": "x", "action_details": {"URL": {"url": "u",
                "authentication": {"No_Auth": "", "Bearer_Token": "t"}}}}),
            json!({"name": "x", "action_details": {"CALLBACK": {}},
                "associate_metadata": [{"identifier": "not-a-known-guid"}]}),
            json!({"name": "x", "action_details": {"CALLBACK": {}},
                "associate_metadata": [{"identifier": "g", "type": "LIVEBOARD"}]}),
            json!({"name": "x", "action_details": {"CALLBACK": {}},
                "associate_metadata": [{"identifier": "g", "type": "ANSWER",
                    "action_config": {"position": "NONE"}}]}),
        ] {
            let before = s.clone();
            let err = create(&mut s, 0, &body(bad.clone())).unwrap_err();
            assert_eq!(err.status, 400, "{bad}");
            assert_eq!(s, before, "{bad}");
        }
    }

    #[test]
    fn stored_auth_modes_round_trip() {
        for auth in [
            json!({"No_Auth": ""}),
            json!({"Bearer_Token": "tok"}),
            json!({"API_Key": {"key": "k", "value": "v"}}),
            json!({"Basic_Auth": {"username": "u", "password": "p"}}),
        ] {
            let mut s = state();
            let request = json!({"name": "a", "action_details": {"URL": {"url": "https://x.test",
                "authentication": auth}}});
            let (answer, _) = create(&mut s, 0, &body(request)).unwrap();
            assert_eq!(answer["action_details"]["URL"]["authentication"], auth);
            assert_eq!(answer["action_details"]["URL"]["reference"], json!("a"));
        }
    }

    #[test]
    fn update_replaces_scalars_and_upserts_or_removes_lists() {
        let mut s = state();
        let id = by_name(&s, "Open in CRM")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let answer = "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35";
        update(
            &mut s,
            0,
            "Open in CRM",
            &body(json!({"name": "CRM", "default_action_config": {"visibility": false},
                "action_details": {"URL": {"authentication": {"No_Auth": ""}}},
                "associate_metadata": [{"identifier": answer, "action_config": {"position": "CONTEXT_MENU"}},
                                       {"identifier": "Sales worksheet", "type": "WORKSHEET"}],
                "group_identifiers": ["Sales managers"]})),
        )
        .unwrap();
        let a = s.action(0, &id).unwrap().clone();
        assert_eq!(a["name"], json!("CRM"));
        assert_eq!(a["availability"], json!(["LOCAL"]));
        assert_eq!(
            a["detail"]["link"],
            json!("https://crm.example.test/open"),
            "url kept"
        );
        assert_eq!(a["detail"]["function"], json!("CRM"), "reference: the name");
        assert_eq!(a["detail"]["authSelect"], json!("NONE"));
        assert_eq!(a["detail"]["authToken"], json!(""));
        assert!(
            a["detail"]["additionalUrlHeaders"]
                .as_str()
                .unwrap()
                .contains("X-Tenant"),
            "what v2 cannot name is kept"
        );
        assert_eq!(
            a[ASSOCIATION_MAP]["ANSWER"][answer],
            json!({"enabled": "true", "context": "CONTEXT_MENU"}),
            "upserted: the named field changes, the other stays"
        );
        assert_eq!(
            a[ASSOCIATION_MAP]["WORKSHEET"].as_object().unwrap().len(),
            1
        );
        assert_eq!(
            a[USER_GROUPS],
            json!(["b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04"])
        );
        update(
            &mut s,
            0,
            &id,
            &body(json!({"operation": "REMOVE",
                "associate_metadata": [{"identifier": answer}, {"identifier": "never-there", "type": "ANSWER"}],
                "group_identifiers": ["b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04"]})),
        )
        .unwrap();
        let a = s.action(0, &id).unwrap().clone();
        assert!(a[ASSOCIATION_MAP].get("ANSWER").is_none());
        assert_eq!(a[USER_GROUPS], json!([]));
        assert_eq!(
            update(&mut s, 0, "nope", &body(json!({}))).unwrap_err(),
            SimError::bad_request(NOT_FOUND)
        );
        assert_eq!(
            update(&mut s, 0, &id, &body(json!({"name": "Notify owner"})))
                .unwrap_err()
                .message,
            DUPLICATE_NAME
        );
        assert_eq!(
            update(&mut s, 0, &id, &body(json!({"operation": "SET"})))
                .unwrap_err()
                .status,
            400
        );
        delete(&mut s, 0, "CRM").unwrap();
        assert!(s.action(0, &id).is_err());
        assert_eq!(delete(&mut s, 0, "CRM").unwrap_err().message, NOT_FOUND);
    }

    #[test]
    fn a_v1_action_survives_a_v2_round_trip() {
        // What v2 answers, sent back as a create, stores the same v1 fields
        // that v2 can name.
        let mut s = state();
        let crm = by_name(&s, "Notify owner").clone();
        let mut request = to_v2(&crm, &s.objects, Includes::ALL);
        let o = request.as_object_mut().unwrap();
        o.remove("id");
        o.insert("name".into(), json!("copy"));
        o.insert(
            "associate_metadata".into(),
            o["metadata_association"].clone(),
        );
        o.insert(
            "group_identifiers".into(),
            json!(o["user_groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["id"].clone())
                .collect::<Vec<_>>()),
        );
        create(&mut s, 0, &body(request)).unwrap();
        let copy = by_name(&s, "copy");
        for field in [
            ASSOCIATION_MAP,
            USER_GROUPS,
            "type",
            "context",
            "application",
        ] {
            assert_eq!(copy[field], crm[field], "{field}");
        }
        assert_eq!(copy["detail"]["function"], crm["detail"]["function"]);
        assert_eq!(
            copy["availability"],
            json!(["LOCAL"]),
            "[] is stored as LOCAL"
        );
    }

    #[test]
    fn search_filters() {
        let s = state();
        let names = |b: Value| -> Vec<String> {
            search(&s, 0, &body(b), false)
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(json!({})).len(), 3);
        assert_eq!(names(json!({"name_pattern": "crm"})), vec!["Open in CRM"]);
        assert_eq!(
            names(json!({"name_pattern": "n%r"})),
            vec!["Open in CRM", "Notify owner"]
        );
        assert_eq!(names(json!({"type": "CALLBACK"})), vec!["Notify owner"]);
        assert_eq!(
            names(json!({"custom_action_identifier": "Send to Slack"})),
            vec!["Send to Slack"]
        );
        assert_eq!(
            names(json!({"custom_action_identifier": "5e92b0a7-6d1c-4f3e-a8b5-2c7d9e0f1a46"})),
            vec!["Notify owner"]
        );
        assert_eq!(
            names(json!({"default_action_config": {"visibility": false}})),
            vec!["Notify owner"]
        );
        assert_eq!(
            names(json!({"metadata": [{"identifier": "Quarterly revenue", "type": "ANSWER"}]})),
            vec!["Open in CRM"]
        );
        assert!(names(json!({"custom_action_identifier": "nope"})).is_empty());
        assert_eq!(
            search(
                &s,
                0,
                &body(json!({"custom_action_identifier": "nope"})),
                true
            )
            .unwrap_err()
            .message,
            MALFORMED_IDENTIFIER
        );
        assert_eq!(
            search(&s, 0, &body(json!({"type": "APP"})), false)
                .unwrap_err()
                .status,
            400
        );
        assert!(name_matches("Open in CRM", "OPEN%crm"));
        assert!(!name_matches("Open in CRM", "crm%open"));
    }

    #[test]
    fn lenient_scalars() {
        assert_eq!(boolean(Some(&json!("true")), "x").unwrap(), Some(true));
        assert_eq!(boolean(Some(&json!(false)), "x").unwrap(), Some(false));
        assert!(boolean(Some(&json!(1)), "x").is_err());
        assert_eq!(text(Some(&json!(7)), "x").unwrap().as_deref(), Some("7"));
        assert!(text(Some(&json!([])), "x").is_err());
    }
}
