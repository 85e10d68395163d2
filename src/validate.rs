//! Checks before anything is written: the source's config against the
//! target's overrides metadata, the actions' own rules, and that every
//! object an action would newly be associated with (or shown to) exists on
//! the target, looked up by kind. All problems are reported at once.
//!
//! An object that cannot be looked up is never a reason to delete: a
//! VISUALIZATION association is not checked at all, and
//! `--skip-missing-associations` only declines to add what it cannot find.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::api::Cluster;
use crate::document;
use crate::error::Error;
use crate::model::{self, AssociationKind, ObjectQuery};
use crate::pointer;
use crate::secrets;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)
    }
}

/// What is known of the target.
pub struct TargetFacts<'a> {
    /// The target's canonical document.
    pub doc: &'a Value,
    pub overrides: Option<&'a Map<String, Value>>,
}

/// The outcome of a validation that found nothing blocking.
#[derive(Debug, Default)]
pub struct Report {
    /// Associations and groups left out because their object was not
    /// found (with `--skip-missing-associations`).
    pub skipped: Vec<Missing>,
    /// Pointers of VISUALIZATION associations, which cannot be looked up.
    pub unchecked: Vec<String>,
}

/// Everything checked before writing; with `skip_missing`, associations to
/// objects the target lacks are taken out of `desired` (unless the target
/// already has them). Problems are an `Error::Input` naming each pointer.
pub async fn validate(
    desired: &mut Value,
    target: &TargetFacts<'_>,
    cluster: Option<&Cluster>,
    target_label: &str,
    skip_missing: bool,
) -> Result<Report, Error> {
    match check_all(desired, target, cluster, skip_missing).await? {
        Ok(report) => Ok(report),
        Err(problems) => Err(problems_error(target_label, &problems)),
    }
}

/// `validate`, with the problems as data.
pub async fn check_all(
    desired: &mut Value,
    target: &TargetFacts<'_>,
    cluster: Option<&Cluster>,
    skip_missing: bool,
) -> Result<Result<Report, Vec<Problem>>, Error> {
    let mut report = Report::default();
    let mut wanted = new_references(desired, target.doc);
    // The target Org's administrators group is there: the cluster named it.
    if let Some(admin) = cluster.and_then(|c| c.org()).and_then(|o| o.admin_group) {
        for (_, refs) in wanted.by_query.values_mut() {
            refs.retain(|m| !(m.kind == "USER_GROUP" && m.guid == admin));
        }
    }
    report.unchecked = wanted.unchecked.clone();
    let mut problems = check(desired, target);
    let missing = match cluster {
        Some(c) => missing_objects(c, &wanted).await?,
        None => Vec::new(),
    };
    if skip_missing {
        drop_missing(desired, &missing);
        report.skipped = missing;
    } else {
        problems.extend(missing.iter().map(Missing::problem));
    }
    if problems.is_empty() {
        return Ok(Ok(report));
    }
    Ok(Err(problems))
}

pub fn problems_error(target_label: &str, problems: &[Problem]) -> Error {
    let mut message = format!(
        "{} found before writing; nothing was written:",
        crate::words::plural(problems.len(), "problem", "problems")
    );
    for p in problems {
        message.push_str(&format!("\n  {p}"));
    }
    Error::input(target_label, message)
}

/// The rules that need no look-up.
pub fn check(source: &Value, target: &TargetFacts) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_config(
        document::config(source),
        document::config(target.doc),
        target,
        &mut Vec::new(),
        &mut problems,
    );
    let existing = document::actions(target.doc);
    for (name, action) in document::actions(source) {
        check_action(name, action, existing.contains_key(name), &mut problems);
    }
    problems
}

/// The config `cfg` against the target's at the same place (`have`,
/// found key by key: a dotted key would not find a nested key that has a
/// '.' of its own).
fn check_config(
    cfg: &Map<String, Value>,
    have: &Map<String, Value>,
    target: &TargetFacts,
    path: &mut Vec<String>,
    out: &mut Vec<Problem>,
) {
    for (k, v) in cfg {
        path.push(k.clone());
        let key = path.join(".");
        let target_value = have.get(k);
        let ptr = || {
            let mut segs = vec!["config".to_string()];
            segs.extend(path.iter().cloned());
            segs
        };
        match (v, target_value, model::unwritable_config_key(path)) {
            (Value::Object(m), Some(Value::Object(t)), _) if !m.is_empty() => {
                check_config(m, t, target, path, out)
            }
            (_, t, Some(why)) if t != Some(v) => {
                out.push(Problem {
                    pointer: pointer::join(&ptr()),
                    message: why,
                });
            }
            (_, None, _) => {
                out.push(Problem {
                    pointer: pointer::join(&ptr()),
                    message: format!("the target has no configuration key {key}"),
                });
            }
            (_, Some(_), _) => {
                if let Some(meta) = target.overrides.and_then(|o| o.get(&key)) {
                    if let Err(why) = model::check_against_meta(v, meta) {
                        let segs = ptr();
                        // The value is shown unless it is a secret.
                        let why = match v {
                            Value::String(s)
                                if !secrets::is_secret(&segs, v) && why.starts_with("does not") =>
                            {
                                format!("{s:?} {why}")
                            }
                            _ => why,
                        };
                        out.push(Problem {
                            pointer: pointer::join(&segs),
                            message: format!("the target's overrides say: {why}"),
                        });
                    }
                }
            }
        }
        path.pop();
    }
}

/// The rules of one action. A field an existing action lacks here (not
/// selected, or ignored) keeps the target's value, so only a new action
/// must have a name and a type.
fn check_action(name: &str, action: &Value, exists: bool, out: &mut Vec<Problem>) {
    let at = |field: &[&str]| {
        let mut segs = vec!["actions", name];
        segs.extend_from_slice(field);
        pointer::join(&segs)
    };
    let mut push = |ptr: String, message: String| {
        out.push(Problem {
            pointer: ptr,
            message,
        })
    };
    let named = action.get("name");
    if (named.is_some() || !exists) && named.and_then(Value::as_str) != Some(name) {
        push(at(&["name"]), format!("must be {name:?}, the action's key"));
    }
    let t = action.get("type").and_then(Value::as_str);
    match t {
        Some(t) if model::ACTION_TYPES.contains(&t) => {}
        None if exists && action.get("type").is_none() => {}
        _ => push(
            at(&["type"]),
            format!("must be one of {}", model::ACTION_TYPES.join(", ")),
        ),
    }
    // An absent link is one an ignore rule keeps as the target has it.
    let link = action.get("detail").and_then(|d| d.get("link"));
    if let (Some("URL"), Some(link)) = (t, link) {
        let link = link.as_str().unwrap_or("");
        let valid = reqwest::Url::parse(link.trim())
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !valid {
            push(
                at(&["detail", "link"]),
                format!("a URL action needs an http(s) link, not {link:?}"),
            );
        }
    }
    if let Some(av) = action.get("availability") {
        let ok = av.as_array().is_some_and(|a| {
            a.iter()
                .all(|x| x.as_str().is_some_and(|s| model::AVAILABILITY.contains(&s)))
        });
        if !ok {
            push(
                at(&["availability"]),
                format!("must be a list of {}", model::AVAILABILITY.join(", ")),
            );
        }
    }
    if let Some(ctx) = action.get("context") {
        if !ctx.as_str().is_some_and(|s| model::CONTEXTS.contains(&s)) {
            push(
                at(&["context"]),
                format!("must be one of {}", model::CONTEXTS.join(", ")),
            );
        }
    }
    for (kind, guid, entry) in associations(action) {
        if let Some(ctx) = entry.get("context") {
            if !ctx.as_str().is_some_and(|s| model::CONTEXTS.contains(&s)) {
                push(
                    at(&[model::ASSOCIATION_MAP, kind, guid, "context"]),
                    format!("must be one of {}", model::CONTEXTS.join(", ")),
                );
            }
        }
    }
}

/// The (kind, guid, entry) triples of an action's association map.
pub fn associations(action: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
    action
        .get(model::ASSOCIATION_MAP)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(kind, objs)| {
            objs.as_object()
                .into_iter()
                .flatten()
                .map(move |(guid, entry)| (kind.as_str(), guid.as_str(), entry))
        })
}

/// An association (or user group) whose object the target does not have.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    pub action: String,
    /// `ANSWER`, `WORKSHEET` or `USER_GROUP`.
    pub kind: String,
    pub guid: String,
    pub pointer: String,
}

impl Missing {
    fn problem(&self) -> Problem {
        Problem {
            pointer: self.pointer.clone(),
            message: format!(
                "action {:?} refers to {} {} which the target does not have; map it with --map (guids) or pass --skip-missing-associations",
                self.action, self.kind, self.guid
            ),
        }
    }
}

/// References `desired` would add on the target, grouped by look-up.
#[derive(Debug, Default)]
struct References {
    by_query: BTreeMap<&'static str, (ObjectQuery, Vec<Missing>)>,
    unchecked: Vec<String>,
}

/// Every object the actions of `doc` refer to that a look-up can find, by
/// query: its GUIDs, each with the first pointer that names it.
pub(crate) fn referenced(
    doc: &Value,
) -> BTreeMap<&'static str, (ObjectQuery, BTreeMap<String, String>)> {
    let refs = new_references(doc, &Value::Null);
    refs.by_query
        .into_iter()
        .map(|(k, (q, list))| {
            let mut guids = BTreeMap::new();
            for m in list {
                guids.entry(m.guid).or_insert(m.pointer);
            }
            (k, (q, guids))
        })
        .collect()
}

/// The associations and groups of `desired` that the target's action of
/// the same name does not already have.
fn new_references(desired: &Value, target: &Value) -> References {
    let mut refs = References::default();
    let current = document::actions(target);
    for (name, action) in document::actions(desired) {
        let have = current.get(name);
        for (kind, guid, _) in associations(action) {
            let pointer = pointer::join(&["actions", name, model::ASSOCIATION_MAP, kind, guid]);
            let exists = have
                .and_then(|a| a.get(model::ASSOCIATION_MAP))
                .and_then(|m| m.get(kind))
                .and_then(|o| o.get(guid))
                .is_some();
            let query = match AssociationKind::parse(kind) {
                Some(k) => k.lookup(),
                None => None,
            };
            match query {
                None => refs.unchecked.push(pointer),
                Some(_) if exists => {}
                Some(q) => refs
                    .by_query
                    .entry(q.object_type)
                    .or_insert((q, Vec::new()))
                    .1
                    .push(Missing {
                        action: name.clone(),
                        kind: kind.to_string(),
                        guid: guid.to_string(),
                        pointer,
                    }),
            }
        }
        let had_groups: HashSet<&str> = have
            .and_then(|a| a.get(model::USER_GROUPS))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for (i, g) in action
            .get(model::USER_GROUPS)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let Some(guid) = g.as_str() else { continue };
            if had_groups.contains(guid) {
                continue;
            }
            let q = ObjectQuery::USER_GROUPS;
            refs.by_query
                .entry(q.object_type)
                .or_insert((q, Vec::new()))
                .1
                .push(Missing {
                    action: name.clone(),
                    kind: "USER_GROUP".into(),
                    guid: guid.to_string(),
                    pointer: pointer::join(&["actions", name, model::USER_GROUPS, &i.to_string()]),
                });
        }
    }
    refs
}

/// The references whose object the cluster does not show, one look-up per
/// kind for only the GUIDs referenced.
async fn missing_objects(cluster: &Cluster, refs: &References) -> Result<Vec<Missing>, Error> {
    let lookups = refs.by_query.values().map(|(query, list)| async move {
        let guids: Vec<String> = list
            .iter()
            .map(|m| m.guid.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let found = crate::fetch::find_objects(cluster, *query, &guids).await?;
        Ok::<_, Error>(
            list.iter()
                .filter(|m| !found.contains(&m.guid))
                .cloned()
                .collect::<Vec<_>>(),
        )
    });
    let mut out = Vec::new();
    for missing in futures::future::try_join_all(lookups).await? {
        out.extend(missing);
    }
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    Ok(out)
}

/// Takes the missing associations and groups out of `source`.
fn drop_missing(source: &mut Value, missing: &[Missing]) {
    let Some(actions) = source.get_mut("actions").and_then(Value::as_object_mut) else {
        return;
    };
    for m in missing {
        let Some(action) = actions.get_mut(&m.action) else {
            continue;
        };
        if m.kind == "USER_GROUP" {
            if let Some(list) = action
                .get_mut(model::USER_GROUPS)
                .and_then(Value::as_array_mut)
            {
                list.retain(|g| g.as_str() != Some(m.guid.as_str()));
            }
        } else if let Some(map) = action
            .get_mut(model::ASSOCIATION_MAP)
            .and_then(Value::as_object_mut)
        {
            // A kind left without objects is no kind: the API drops it too.
            let emptied = map
                .get_mut(&m.kind)
                .and_then(Value::as_object_mut)
                .is_some_and(|objs| {
                    objs.remove(&m.guid);
                    objs.is_empty()
                });
            if emptied {
                map.remove(&m.kind);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_every_problem_with_pointers() {
        let source = json!({
            "config": {"maxFilterValues": "many", "nope": 1, "sec": {"t": "25:00PM"}},
            "actions": {"a": {"name": "a", "type": "URL", "detail": {"link": "not a url"}, "context": "WEIRD"}}
        });
        let target =
            json!({"config": {"maxFilterValues": 1, "sec": {"t": "08:00PM"}}, "actions": {}});
        let overrides = json!({"maxFilterValues": {"dataType": "INTEGER"}, "sec.t": {"dataType": "STRING", "regex": "^(0[1-9]|1[0-2]):[0-5][0-9](AM|PM)$"}});
        let facts = TargetFacts {
            doc: &target,
            overrides: overrides.as_object(),
        };
        let problems: Vec<String> = check(&source, &facts)
            .iter()
            .map(|p| p.pointer.clone())
            .collect();
        assert_eq!(
            problems,
            vec![
                "/config/maxFilterValues",
                "/config/nope",
                "/config/sec/t",
                "/actions/a/detail/link",
                "/actions/a/context",
            ]
        );
    }

    #[test]
    fn only_new_references_are_looked_up_and_visualizations_never() {
        let desired = json!({"actions": {"a": {
            "actionAssociationMap": {"ANSWER": {"old": {}, "new": {}}, "WORKSHEET": {"w": {}}, "VISUALIZATION": {"v": {}}},
            "userGroupList": ["g1", "g2"]}}});
        let target = json!({"actions": {"a": {"actionAssociationMap": {"ANSWER": {"old": {}}}, "userGroupList": ["g1"]}}});
        let refs = new_references(&desired, &target);
        let looked: Vec<(&str, Vec<&str>)> = refs
            .by_query
            .values()
            .map(|(q, l)| (q.object_type, l.iter().map(|m| m.guid.as_str()).collect()))
            .collect();
        assert_eq!(
            looked,
            vec![
                ("LOGICAL_TABLE", vec!["w"]),
                ("QUESTION_ANSWER_BOOK", vec!["new"]),
                ("USER_GROUP", vec!["g2"]),
            ]
        );
        assert_eq!(
            refs.unchecked,
            vec!["/actions/a/actionAssociationMap/VISUALIZATION/v"]
        );
    }

    #[test]
    fn a_nested_key_with_a_dot_is_found_and_refused_only_where_it_changes() {
        // What a hand-edited plan could ask for: the same key checked as
        // apply checks a plan's desired document.
        let target = json!({"config": {"nest": {"in.ner": 1, "x.y": 1}}, "actions": {}});
        let facts = TargetFacts {
            doc: &target,
            overrides: None,
        };
        assert_eq!(check(&target, &facts), vec![]);
        let source = json!({"config": {"nest": {"in.ner": 2, "x.y": 1, "new.key": 1}}});
        let problems: Vec<String> = check(&source, &facts)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("/config/nest/in.ner: cannot be written through the admin API: its key contains a '.'"), "{problems:?}");
        assert!(
            problems[1].starts_with("/config/nest/new.key: cannot be written"),
            "{problems:?}"
        );
    }

    #[test]
    fn secret_values_are_not_echoed_by_the_regex_check() {
        let source =
            json!({"config": {"ldap": {"bindPassword": "hunter2-very-secret"}}, "actions": {}});
        let target = json!({"config": {"ldap": {"bindPassword": "x"}}, "actions": {}});
        let overrides = json!({"ldap.bindPassword": {"dataType": "STRING", "regex": "[a-z]+"}});
        let facts = TargetFacts {
            doc: &target,
            overrides: overrides.as_object(),
        };
        let text = check(&source, &facts)[0].to_string();
        assert!(!text.contains("hunter2"), "{text}");
        // Nor a string inside a secret that is an object.
        let source = json!({"config": {"sso": {"clientSecret": {"value": "hunter3-inside"}}}, "actions": {}});
        let target = json!({"config": {"sso": {"clientSecret": {"value": "x"}}}, "actions": {}});
        let overrides =
            json!({"sso.clientSecret.value": {"dataType": "STRING", "regex": "[a-z]+"}});
        let facts = TargetFacts {
            doc: &target,
            overrides: overrides.as_object(),
        };
        let text = check(&source, &facts)[0].to_string();
        assert!(text.contains("does not match"), "{text}");
        assert!(!text.contains("hunter3"), "{text}");
    }
}
