//! What apply will send, computed before anything is sent: per object
//! (the config, each action) its value before and after, and the calls
//! that take it from one to the other. Pure: no I/O.
//!
//! `converge` is the one rule for an action, used by apply and by undo:
//! removed associations first, then the PUT, then the associations POSTed
//! (all of them after a PUT, because the API does not say whether a PUT
//! keeps or clears them), so the result is right either way.

use serde_json::{json, Map, Value};

use crate::document::{self, action_to_api, ActionIds};
use crate::model::{self, V1_BASE};
use crate::select::Selection;
use crate::{pointer, secrets};

/// One request of the admin API, for an action whose GUID is known when
/// it is sent (a create's follow-up calls use the GUID it got).
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// POST actions: the action without its associations.
    Create(Value),
    /// PUT actions/{id}: the whole action (with id), without associations.
    Put(Value),
    /// POST actions/{id}/associations.
    AddAssociations(Map<String, Value>),
    /// DELETE actions/{id}/associations.
    RemoveAssociations(Map<String, Value>),
    /// DELETE actions/{id}.
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionOp {
    Create,
    Update,
    Delete,
}

/// One action to change.
#[derive(Debug, Clone)]
pub struct ActionChange {
    pub op: ActionOp,
    pub name: String,
    /// The GUID on the target (`None` for a create).
    pub id: Option<String>,
    /// The action before, in API form without id (`None` for a create).
    pub before: Option<Value>,
    /// The action after, in API form without id (`None` for a delete).
    pub after: Option<Value>,
    pub calls: Vec<Call>,
}

/// The config update: dotted leaf keys with their values after and before.
#[derive(Debug, Clone, Default)]
pub struct ConfigChange {
    pub after: Map<String, Value>,
    pub before: Map<String, Value>,
}

/// Everything apply will send.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub config: Option<ConfigChange>,
    /// Creates and updates (run concurrently, after the config).
    pub actions: Vec<ActionChange>,
    /// Deletes (run last).
    pub deletes: Vec<ActionChange>,
    /// Config keys the target has and the source does not: the API cannot remove them.
    pub unremovable: Vec<String>,
    /// Actions only the target has, kept for lack of `--prune`.
    pub kept: Vec<String>,
}

/// How many of each change (for summaries and JSON reports).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub config_keys: usize,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

impl Changes {
    /// Requests apply sends (each call is one request).
    pub fn writes(&self) -> usize {
        usize::from(self.config.is_some())
            + self
                .actions
                .iter()
                .chain(&self.deletes)
                .map(|a| a.calls.len())
                .sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.writes() == 0
    }

    pub fn counts(&self) -> Counts {
        let n = |op| {
            self.actions
                .iter()
                .chain(&self.deletes)
                .filter(|a| a.op == op)
                .count()
        };
        Counts {
            config_keys: self.config.as_ref().map_or(0, |c| c.after.len()),
            created: n(ActionOp::Create),
            updated: n(ActionOp::Update),
            deleted: n(ActionOp::Delete),
        }
    }

    /// The requests in the order apply sends them (concurrent ones in
    /// list order), secrets masked: the dry-run listing.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(c) = &self.config {
            let masked: Map<String, Value> = c
                .after
                .iter()
                .map(|(k, v)| (k.clone(), secrets::redact_at(&config_segments(k), v)))
                .collect();
            out.push(format!(
                "POST {V1_BASE}/admin/configinfo/update {}={}",
                model::CONFIG_CHANGES,
                Value::Object(masked)
            ));
        }
        for a in self.actions.iter().chain(&self.deletes) {
            let id = match &a.id {
                Some(id) => id.clone(),
                None => format!("<id of {:?}>", a.name),
            };
            for call in &a.calls {
                out.push(describe_call(&a.name, &id, call));
            }
        }
        out
    }
}

fn describe_call(name: &str, id: &str, call: &Call) -> String {
    let base = format!("{V1_BASE}/admin/embed/actions");
    let mask = |body: &Value| {
        let canonical = document::action_from_api(body);
        let masked = secrets::redact_at(&["actions".to_string(), name.to_string()], &canonical);
        action_to_api(&masked, None)
    };
    let assoc = |m: &Map<String, Value>| json!({ model::ASSOCIATION_MAP: m });
    match call {
        Call::Create(body) => format!("POST {base} {}={}", model::EMBED_ACTION, mask(body)),
        Call::Put(body) => format!("PUT {base}/{id} {}={}", model::EMBED_ACTION, mask(body)),
        Call::AddAssociations(m) => format!(
            "POST {base}/{id}/associations {}={}",
            model::ACTION_ASSOCIATION,
            assoc(m)
        ),
        Call::RemoveAssociations(m) => format!(
            "DELETE {base}/{id}/associations {}={}",
            model::ACTION_ASSOCIATION,
            assoc(m)
        ),
        Call::Delete => format!("DELETE {base}/{id}"),
    }
}

/// The document segments of a dotted config key.
pub fn config_segments(key: &str) -> Vec<String> {
    let mut segs = vec!["config".to_string()];
    segs.extend(key.split('.').map(str::to_string));
    segs
}

/// The target as it is: the canonical document without ignored paths,
/// the same with them (to fill PUT bodies), and the action GUIDs.
pub struct Current<'a> {
    pub doc: &'a Value,
    pub raw: &'a Value,
    pub ids: &'a ActionIds,
    /// `doc` shows actions as both APIs hold them (a v1 target of a v2
    /// source): fields it leaves out keep the target's values in bodies.
    pub projected: bool,
}

/// Fields of `raw` (and of its `detail`) that `body` lacks, kept: what a
/// projection leaves out is the target's own.
fn keep_unshown(body: &mut Value, raw: &Value) {
    let (Some(b), Some(r)) = (body.as_object_mut(), raw.as_object()) else {
        return;
    };
    for (k, v) in r {
        match (b.get_mut(k), v) {
            (Some(Value::Object(bd)), Value::Object(rd)) if k == "detail" => {
                for (dk, dv) in rd {
                    bd.entry(dk.clone()).or_insert_with(|| dv.clone());
                }
            }
            (None, v) => {
                b.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
}

/// Computes the changes that turn `current` into `desired`.
pub fn compute(current: &Current, desired: &Value, selection: &Selection, prune: bool) -> Changes {
    let mut ch = Changes::default();
    let mut config = ConfigChange::default();
    config_changes(
        document::config(current.doc),
        document::config(desired),
        "",
        &mut Vec::new(),
        &mut config,
        &mut ch.unremovable,
    );
    if !config.after.is_empty() {
        ch.config = Some(config);
    }
    let cur = document::actions(current.doc);
    let want = document::actions(desired);
    let raw_of = |name: &str| {
        current
            .raw
            .get("actions")
            .and_then(|a| a.get(name))
            .or_else(|| cur.get(name))
    };
    for (name, w) in want {
        let Some(c) = cur.get(name) else {
            let after = action_to_api(w, None);
            ch.actions.push(ActionChange {
                op: ActionOp::Create,
                name: name.clone(),
                id: None,
                calls: converge(None, Some(&after), None),
                before: None,
                after: Some(after),
            });
            continue;
        };
        if c == w {
            continue;
        }
        let raw = raw_of(name).unwrap_or(c);
        // Fields an ignore rule hides keep the target's values in the body.
        let mut body = w.clone();
        selection.restore(&mut body, &["actions".to_string(), name.clone()], raw);
        if current.projected {
            keep_unshown(&mut body, raw);
        }
        let before = action_to_api(raw, None);
        let after = document::action_into_api(body, None);
        let id = current.ids.get(name).cloned();
        let calls = converge(Some(&before), Some(&after), id.as_deref());
        if calls.is_empty() {
            continue;
        }
        ch.actions.push(ActionChange {
            op: ActionOp::Update,
            name: name.clone(),
            id,
            before: Some(before),
            after: Some(after),
            calls,
        });
    }
    for (name, c) in cur {
        if want.contains_key(name) {
            continue;
        }
        if prune {
            let raw = raw_of(name).unwrap_or(c);
            ch.deletes.push(ActionChange {
                op: ActionOp::Delete,
                name: name.clone(),
                id: current.ids.get(name).cloned(),
                before: Some(action_to_api(raw, None)),
                after: None,
                calls: vec![Call::Delete],
            });
        } else {
            ch.kept.push(name.clone());
        }
    }
    ch
}

fn config_changes(
    cur: &Map<String, Value>,
    want: &Map<String, Value>,
    prefix: &str,
    path: &mut Vec<String>,
    ch: &mut ConfigChange,
    unremovable: &mut Vec<String>,
) {
    for (k, w) in want {
        let key = format!("{prefix}{k}");
        path.push(k.clone());
        match cur.get(k) {
            Some(Value::Object(c)) if matches!(w, Value::Object(wm) if !wm.is_empty()) => {
                if let Value::Object(wm) = w {
                    config_changes(c, wm, &format!("{key}."), path, ch, unremovable);
                }
            }
            Some(c) if c == w => {}
            Some(c) => {
                ch.after.insert(key.clone(), w.clone());
                ch.before.insert(key, c.clone());
            }
            None => {
                ch.after.insert(key, w.clone());
            }
        }
        path.pop();
    }
    for k in cur.keys() {
        if !want.contains_key(k) {
            let mut p = vec!["config".to_string()];
            p.extend(path.iter().cloned());
            p.push(k.clone());
            unremovable.push(pointer::join(&p));
        }
    }
}

/// The association map of an action in API form (empty if none).
pub fn association_map(action: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    action
        .get(model::ASSOCIATION_MAP)
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// The action without its associations (what POST and PUT carry).
pub fn without_associations(action: &Value) -> Value {
    // A copy, then one key out: cheaper than building a map key by key.
    let mut v = action.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove(model::ASSOCIATION_MAP);
    }
    v
}

/// Whether two actions are equal but for their associations (what a PUT
/// would change), compared in place.
pub fn same_without_associations(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let fields =
        |m: &Map<String, Value>| m.len() - usize::from(m.contains_key(model::ASSOCIATION_MAP));
    fields(a) == fields(b)
        && a.iter()
            .filter(|(k, _)| k.as_str() != model::ASSOCIATION_MAP)
            .all(|(k, v)| b.get(k) == Some(v))
}

/// (kind, guid) → entry of an association map.
pub fn entries(map: &Map<String, Value>) -> impl Iterator<Item = (&String, &String, &Value)> {
    map.iter().flat_map(|(kind, objs)| {
        objs.as_object()
            .into_iter()
            .flatten()
            .map(move |(guid, entry)| (kind, guid, entry))
    })
}

/// Puts `entry` at `kind/guid` of `map`.
pub fn insert_entry(map: &mut Map<String, Value>, kind: &str, guid: &str, entry: Value) {
    if let Some(o) = map
        .entry(kind.to_string())
        .or_insert_with(|| json!({}))
        .as_object_mut()
    {
        o.insert(guid.to_string(), entry);
    }
}

/// The calls that take an action from `before` to `after` (API form,
/// without ids); `id` goes into the PUT body.
pub fn converge(before: Option<&Value>, after: Option<&Value>, id: Option<&str>) -> Vec<Call> {
    match (before, after) {
        (None, None) => Vec::new(),
        (Some(_), None) => vec![Call::Delete],
        (None, Some(a)) => {
            let mut calls = vec![Call::Create(without_associations(a))];
            let map = association_map(a);
            if entries(map).next().is_some() {
                calls.push(Call::AddAssociations(map.clone()));
            }
            calls
        }
        (Some(b), Some(a)) => {
            let (bm, am) = (association_map(b), association_map(a));
            let mut calls = Vec::new();
            // Removed: entries the source lacks, and those whose content
            // (context, enabled) changes, which are added again below. A
            // POST over an existing entry may overwrite it or leave it
            // ("appended", the docs say): removed first, either is right.
            let mut remove = Map::new();
            for (kind, guid, entry) in entries(bm) {
                if am.get(kind).and_then(|o| o.get(guid)) != Some(entry) {
                    insert_entry(&mut remove, kind, guid, entry.clone());
                }
            }
            if !remove.is_empty() {
                calls.push(Call::RemoveAssociations(remove));
            }
            let put = !same_without_associations(b, a);
            if put {
                let mut body = without_associations(a);
                if let (Some(o), Some(id)) = (body.as_object_mut(), id) {
                    o.insert("id".into(), Value::String(id.to_string()));
                }
                calls.push(Call::Put(body));
            }
            let mut add = Map::new();
            for (kind, guid, entry) in entries(am) {
                let unchanged = bm.get(kind).and_then(|o| o.get(guid)) == Some(entry);
                if put || !unchanged {
                    insert_entry(&mut add, kind, guid, entry.clone());
                }
            }
            if !add.is_empty() {
                calls.push(Call::AddAssociations(add));
            }
            calls
        }
    }
}

/// What the target should look like after the apply: `desired`, except
/// where the API cannot go (unremovable keys, actions kept without --prune).
pub fn intended(current: &Value, desired: &Value, ch: &Changes) -> Value {
    let mut out = desired.clone();
    for ptr in &ch.unremovable {
        if let Some(segs) = pointer::split(ptr) {
            if let Some(v) = pointer::get(current, &segs) {
                pointer::set(&mut out, &segs, v.clone());
            }
        }
    }
    for name in &ch.kept {
        if let Some(a) = current.get("actions").and_then(|a| a.get(name)) {
            if let Some(actions) = out.get_mut("actions").and_then(Value::as_object_mut) {
                actions.insert(name.clone(), a.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compared_in_place_as_if_the_associations_were_cut_off() {
        let assoc = json!({"ANSWER": {"g1": {}}});
        let cases = [
            (json!({"a": 1}), json!({"a": 1})),
            (
                json!({"a": 1, model::ASSOCIATION_MAP: assoc}),
                json!({"a": 1}),
            ),
            (
                json!({"a": 1}),
                json!({"a": 2, model::ASSOCIATION_MAP: assoc}),
            ),
            (
                json!({"a": 1, "b": 2}),
                json!({"a": 1, model::ASSOCIATION_MAP: assoc}),
            ),
            (
                json!({"a": 1, model::ASSOCIATION_MAP: assoc}),
                json!({"a": 1, model::ASSOCIATION_MAP: {}}),
            ),
            (json!({model::ASSOCIATION_MAP: assoc}), json!({"b": 1})),
            (json!([1]), json!([1])),
            (json!("x"), json!({"a": 1})),
        ];
        for (a, b) in &cases {
            let expected = without_associations(a) == without_associations(b);
            assert_eq!(same_without_associations(a, b), expected, "{a} vs {b}");
            assert_eq!(same_without_associations(b, a), expected, "{b} vs {a}");
        }
        assert_eq!(association_map(&cases[1].0), assoc.as_object().unwrap());
        assert!(association_map(&json!({"a": 1})).is_empty());
    }

    #[test]
    fn converge_removes_first_and_reposts_everything_after_a_put() {
        let before = json!({"name": "a", "x": 1, "actionAssociationMap": {"ANSWER": {"keep": {"c": 1}, "gone": {"c": 1}}}});
        let after = json!({"name": "a", "x": 2, "actionAssociationMap": {"ANSWER": {"keep": {"c": 1}, "new": {"c": 2}}}});
        let calls = converge(Some(&before), Some(&after), Some("g"));
        assert_eq!(
            calls,
            vec![
                Call::RemoveAssociations(
                    json!({"ANSWER": {"gone": {"c": 1}}})
                        .as_object()
                        .unwrap()
                        .clone()
                ),
                Call::Put(json!({"name": "a", "x": 2, "id": "g"})),
                Call::AddAssociations(
                    json!({"ANSWER": {"keep": {"c": 1}, "new": {"c": 2}}})
                        .as_object()
                        .unwrap()
                        .clone()
                ),
            ]
        );
        // Without a PUT only what changed is posted; an entry whose
        // content changes is removed first (a POST may only append).
        let after2 = json!({"name": "a", "x": 1, "actionAssociationMap": {"ANSWER": {"keep": {"c": 9}, "gone": {"c": 1}}}});
        let map = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            converge(Some(&before), Some(&after2), Some("g")),
            vec![
                Call::RemoveAssociations(map(json!({"ANSWER": {"keep": {"c": 1}}}))),
                Call::AddAssociations(map(json!({"ANSWER": {"keep": {"c": 9}}}))),
            ]
        );
        assert!(converge(Some(&before), Some(&before), Some("g")).is_empty());
    }

    #[test]
    fn config_keys_are_dotted_leaves_and_removals_reported() {
        let cur = json!({"config": {"a": {"b": 1, "c": [1]}, "gone": 1}, "actions": {}});
        let want = json!({"config": {"a": {"b": 2, "c": [1, 2]}}, "actions": {}});
        let ids = Default::default();
        let ch = compute(
            &Current {
                doc: &cur,
                raw: &cur,
                ids: &ids,
                projected: false,
            },
            &want,
            &Selection::default(),
            false,
        );
        assert_eq!(
            Value::Object(ch.config.unwrap().after),
            json!({"a.b": 2, "a.c": [1, 2]})
        );
        assert_eq!(ch.unremovable, vec!["/config/gone"]);
    }
}
