//! Checks before anything is written: the source's config against the
//! target's overrides metadata, the actions' own rules, and that every
//! associated object exists on the target. All problems are reported at once.

use std::fmt;

use regex::Regex;
use serde_json::{Map, Value};

use crate::document;
use crate::pointer;

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)
    }
}

pub const ACTION_TYPES: &[&str] = &["URL", "CALLBACK", "APP"];
pub const AVAILABILITY: &[&str] = &["GLOBAL", "LOCAL"];
pub const CONTEXTS: &[&str] = &["NONE", "PRIMARY", "MENU", "CONTEXT_MENU"];

/// What is known of the target.
pub struct TargetFacts<'a> {
    pub config: &'a Map<String, Value>,
    pub overrides: Option<&'a Map<String, Value>>,
    pub objects: Option<&'a [Value]>,
}

pub fn check(source: &Value, target: &TargetFacts) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_config(
        document::config(source),
        target,
        &mut Vec::new(),
        &mut problems,
    );
    for (name, action) in document::actions(source) {
        check_action(name, action, &mut problems);
    }
    problems.extend(
        missing_objects(source, target.objects)
            .into_iter()
            .map(|m| m.problem()),
    );
    problems
}

fn check_config(
    cfg: &Map<String, Value>,
    target: &TargetFacts,
    path: &mut Vec<String>,
    out: &mut Vec<Problem>,
) {
    for (k, v) in cfg {
        path.push(k.clone());
        let key = path.join(".");
        let target_value = crate::sim::state::lookup_key(target.config, &key);
        match (v, target_value) {
            (Value::Object(m), Some(Value::Object(_))) if !m.is_empty() => {
                check_config(m, target, path, out)
            }
            (_, None) => {
                let mut segs = vec!["config".to_string()];
                segs.extend(path.iter().cloned());
                out.push(Problem {
                    pointer: pointer::join(&segs),
                    message: format!("the target has no configuration key {key}"),
                });
            }
            (_, Some(_)) => {
                if let Some(meta) = target.overrides.and_then(|o| o.get(&key)) {
                    if let Err(why) = check_against_meta(v, meta) {
                        let mut segs = vec!["config".to_string()];
                        segs.extend(path.iter().cloned());
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

/// A value against `{dataType, regex}` of the overrides metadata.
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
            crate::jsonfile::kind_of(v)
        ));
    }
    if let (Some(pattern), Some(text)) = (meta.get("regex").and_then(Value::as_str), v.as_str()) {
        match Regex::new(&format!("^(?:{pattern})$")) {
            Ok(re) if !re.is_match(text) => {
                return Err(format!("{text:?} does not match the regex {pattern}"))
            }
            Ok(_) => {}
            Err(_) => return Err(format!("the regex {pattern} does not compile")),
        }
    }
    Ok(())
}

fn check_action(name: &str, action: &Value, out: &mut Vec<Problem>) {
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
    if action.get("name").and_then(Value::as_str) != Some(name) {
        push(at(&["name"]), format!("must be {name:?}, the action's key"));
    }
    let t = action.get("type").and_then(Value::as_str);
    match t {
        Some(t) if ACTION_TYPES.contains(&t) => {}
        _ => push(
            at(&["type"]),
            format!("must be one of {}", ACTION_TYPES.join(", ")),
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
                .all(|x| x.as_str().is_some_and(|s| AVAILABILITY.contains(&s)))
        });
        if !ok {
            push(
                at(&["availability"]),
                format!("must be a list of {}", AVAILABILITY.join(", ")),
            );
        }
    }
    if let Some(ctx) = action.get("context") {
        if !ctx.as_str().is_some_and(|s| CONTEXTS.contains(&s)) {
            push(
                at(&["context"]),
                format!("must be one of {}", CONTEXTS.join(", ")),
            );
        }
    }
    for (kind, objs) in action
        .get("actionAssociationMap")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (guid, entry) in objs.as_object().into_iter().flatten() {
            if let Some(ctx) = entry.get("context") {
                if !ctx.as_str().is_some_and(|s| CONTEXTS.contains(&s)) {
                    push(
                        at(&["actionAssociationMap", kind, guid, "context"]),
                        format!("must be one of {}", CONTEXTS.join(", ")),
                    );
                }
            }
        }
    }
}

/// An association (or user group) whose object the target does not have.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    pub action: String,
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

pub fn missing_objects(source: &Value, objects: Option<&[Value]>) -> Vec<Missing> {
    let Some(objects) = objects else {
        return Vec::new();
    };
    let known: std::collections::HashSet<&str> = objects
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str))
        .collect();
    let mut out = Vec::new();
    for (name, action) in document::actions(source) {
        for (kind, objs) in action
            .get("actionAssociationMap")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for guid in objs.as_object().into_iter().flatten().map(|(g, _)| g) {
                if !known.contains(guid.as_str()) {
                    out.push(Missing {
                        action: name.clone(),
                        kind: kind.clone(),
                        guid: guid.clone(),
                        pointer: pointer::join(&[
                            "actions",
                            name,
                            "actionAssociationMap",
                            kind,
                            guid,
                        ]),
                    });
                }
            }
        }
        for (i, g) in action
            .get("userGroupList")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(guid) = g.as_str() {
                if !known.contains(guid) {
                    out.push(Missing {
                        action: name.clone(),
                        kind: "USER_GROUP".into(),
                        guid: guid.to_string(),
                        pointer: pointer::join(&["actions", name, "userGroupList", &i.to_string()]),
                    });
                }
            }
        }
    }
    out
}

/// Drops the missing associations and groups from `source`.
pub fn drop_missing(source: &mut Value, missing: &[Missing]) {
    let Some(actions) = source.get_mut("actions").and_then(Value::as_object_mut) else {
        return;
    };
    for m in missing {
        let Some(action) = actions.get_mut(&m.action) else {
            continue;
        };
        if m.kind == "USER_GROUP" {
            if let Some(list) = action
                .get_mut("userGroupList")
                .and_then(Value::as_array_mut)
            {
                list.retain(|g| g.as_str() != Some(m.guid.as_str()));
            }
        } else if let Some(objs) = action
            .get_mut("actionAssociationMap")
            .and_then(|a| a.get_mut(&m.kind))
            .and_then(Value::as_object_mut)
        {
            objs.remove(&m.guid);
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
            "actions": {"a": {"name": "a", "type": "URL", "detail": {"link": "not a url"}, "context": "WEIRD",
                              "actionAssociationMap": {"ANSWER": {"g-missing": {"context": "MENU"}}}}}
        });
        let target_cfg = json!({"maxFilterValues": 1, "sec": {"t": "08:00PM"}});
        let overrides = json!({"maxFilterValues": {"dataType": "INTEGER"}, "sec.t": {"dataType": "STRING", "regex": "^(0[1-9]|1[0-2]):[0-5][0-9](AM|PM)$"}});
        let objects = vec![json!({"id": "g-other", "type": "ANSWER"})];
        let facts = TargetFacts {
            config: target_cfg.as_object().unwrap(),
            overrides: overrides.as_object(),
            objects: Some(&objects),
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
                "/actions/a/actionAssociationMap/ANSWER/g-missing"
            ]
        );
    }
}
