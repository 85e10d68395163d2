//! Ignore rules: JSON Pointers where `*` stands for any one segment. An
//! ignored path is removed from both documents before diffing, and apply
//! keeps the target's value there.

use serde_json::Value;

use crate::error::Error;
use crate::pointer;

#[derive(Debug, Clone, PartialEq)]
pub struct IgnoreRule {
    pub text: String,
    segments: Vec<String>,
}

impl IgnoreRule {
    pub fn parse(text: &str) -> Result<IgnoreRule, Error> {
        match pointer::split(text) {
            Some(segments) if !segments.is_empty() => Ok(IgnoreRule { text: text.to_string(), segments }),
            _ => Err(Error::Usage(format!(
                "ignore rule {text:?} is not a JSON Pointer (e.g. /config/demoDataConfiguration or /actions/*/detail/link)"
            ))),
        }
    }

    /// Whether `segments` is this rule's path or lies below it.
    pub fn covers(&self, segments: &[String]) -> bool {
        segments.len() >= self.segments.len()
            && self
                .segments
                .iter()
                .zip(segments)
                .all(|(r, s)| r == "*" || r == s)
    }
}

/// Removes every ignored path from `doc`.
pub fn strip(doc: &mut Value, rules: &[IgnoreRule]) {
    for rule in rules {
        strip_rule(doc, &rule.segments);
    }
}

fn strip_rule(value: &mut Value, segs: &[String]) {
    let Some((first, rest)) = segs.split_first() else {
        return;
    };
    match value {
        Value::Object(m) => {
            if rest.is_empty() {
                if first == "*" {
                    m.clear();
                } else {
                    m.remove(first);
                }
            } else if first == "*" {
                for v in m.values_mut() {
                    strip_rule(v, rest);
                }
            } else if let Some(v) = m.get_mut(first) {
                strip_rule(v, rest);
            }
        }
        Value::Array(a) => {
            if rest.is_empty() {
                if first == "*" {
                    a.clear();
                } else if let Ok(i) = first.parse::<usize>() {
                    if i < a.len() {
                        a.remove(i);
                    }
                }
            } else if first == "*" {
                for v in a.iter_mut() {
                    strip_rule(v, rest);
                }
            } else if let Some(v) = first.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                strip_rule(v, rest);
            }
        }
        _ => {}
    }
}

/// Paths whose values belong to one cluster by nature; `--no-default-ignores`
/// turns them off. Each is documented in the README.
pub const DEFAULT_IGNORES: &[(&str, &str)] = &[(
    "/config/demoDataConfiguration",
    "GUIDs of the sample connection, tables, worksheet and Liveboard installed on this cluster; another cluster's GUIDs mean nothing here",
)];

pub fn default_rules() -> Vec<IgnoreRule> {
    DEFAULT_IGNORES
        .iter()
        .filter_map(|(p, _)| IgnoreRule::parse(p).ok())
        .collect()
}

/// Copies the values of ignored paths under `base` from `raw` (the live
/// object, ignored paths included) into `into`, so that a write of the
/// whole object keeps what the target has there.
pub fn restore(into: &mut Value, base: &[String], raw: &Value, rules: &[IgnoreRule]) {
    for rule in rules {
        if rule.segments.len() <= base.len() {
            continue;
        }
        if !rule
            .segments
            .iter()
            .zip(base)
            .all(|(r, s)| r == "*" || r == s)
        {
            continue;
        }
        copy_matches(into, raw, &rule.segments[base.len()..]);
    }
}

fn copy_matches(into: &mut Value, raw: &Value, segs: &[String]) {
    let Some((first, rest)) = segs.split_first() else {
        *into = raw.clone();
        return;
    };
    let Value::Object(raw_map) = raw else { return };
    for (k, v) in raw_map {
        if first != "*" && first != k {
            continue;
        }
        if !into.is_object() {
            *into = Value::Object(Default::default());
        }
        if let Value::Object(m) = into {
            let slot = m.entry(k.clone()).or_insert(Value::Null);
            copy_matches(slot, v, rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_match_one_segment() {
        let mut doc = json!({"config": {"a": 1, "b": {"c": 2}}, "actions": {"x": {"detail": {"link": "l", "k": 1}}, "y": {"detail": {"link": "m"}}}});
        let rules = vec![
            IgnoreRule::parse("/config/b").unwrap(),
            IgnoreRule::parse("/actions/*/detail/link").unwrap(),
        ];
        strip(&mut doc, &rules);
        assert_eq!(
            doc,
            json!({"config": {"a": 1}, "actions": {"x": {"detail": {"k": 1}}, "y": {"detail": {}}}})
        );
        assert!(rules[1].covers(&["actions".into(), "q".into(), "detail".into(), "link".into()]));
        assert!(IgnoreRule::parse("config").is_err());
    }
}

#[cfg(test)]
mod restore_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn restores_wildcard_ignored_fields() {
        let rules = vec![IgnoreRule::parse("/actions/*/detail/link").unwrap()];
        let mut body = json!({"name": "a", "detail": {"function": "f2"}});
        let raw = json!({"name": "a", "detail": {"function": "f", "link": "https://keep"}});
        restore(&mut body, &["actions".into(), "a".into()], &raw, &rules);
        assert_eq!(
            body,
            json!({"name": "a", "detail": {"function": "f2", "link": "https://keep"}})
        );
    }
}
