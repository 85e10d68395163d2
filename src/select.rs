//! Which parts of the canonical document take part: ignore rules (left
//! alone) and only rules (nothing else takes part). Both are JSON Pointers
//! where a `*` segment matches any one segment and a `*` inside a segment
//! matches any characters in it (`/actions/Send*`), case-sensitively.
//! What is not selected is removed from both documents before diffing, and
//! apply keeps the target's values there (a PUT of an action fills them in
//! from the live action).

use serde_json::Value;

use crate::error::Error;
use crate::pointer;

/// A pointer pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub text: String,
    segments: Vec<String>,
}

impl Rule {
    pub fn parse(text: &str) -> Result<Rule, Error> {
        match pointer::split(text) {
            Some(segments) if !segments.is_empty() => Ok(Rule { text: text.to_string(), segments }),
            _ => Err(Error::Usage(format!(
                "{text:?} is not a JSON Pointer (e.g. /config/demoDataConfiguration or /actions/*/detail/link)"
            ))),
        }
    }

    /// Whether `path` is this rule's path or lies below it.
    pub fn covers<S: AsRef<str>>(&self, path: &[S]) -> bool {
        path.len() >= self.segments.len()
            && self
                .segments
                .iter()
                .zip(path)
                .all(|(r, s)| segment_matches(r, s.as_ref()))
    }

    /// Whether `path` is a strict ancestor of what the rule can match.
    fn leads_to<S: AsRef<str>>(&self, path: &[S]) -> bool {
        path.len() < self.segments.len()
            && self
                .segments
                .iter()
                .zip(path)
                .all(|(r, s)| segment_matches(r, s.as_ref()))
    }
}

/// One segment of a pattern against one of a path: `*` is any segment; a
/// `*` inside a segment is any characters there.
pub fn segment_matches(pattern: &str, segment: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if !pattern.contains('*') {
        return pattern == segment;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().unwrap_or((&"", &[]));
    let Some(mut tail) = segment.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for part in middle {
        match tail.find(part) {
            Some(i) => tail = &tail[i + part.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last)
}

/// How a path takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Taken part in, with everything below.
    Full,
    /// Some of what is below is selected.
    Partial,
    /// Left alone (ignored, or not selected).
    Hidden,
}

/// Ignore rules and only rules together.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub ignore: Vec<Rule>,
    pub only: Vec<Rule>,
    /// How many of `ignore` are built-in defaults (the first ones): those
    /// are not reported when they match nothing.
    pub defaults: usize,
}

impl Selection {
    /// Whether the user gave any rule (besides the built-in defaults).
    pub fn has_rules(&self) -> bool {
        self.ignore.len() > self.defaults || !self.only.is_empty()
    }

    pub fn is_everything(&self) -> bool {
        self.ignore.is_empty() && self.only.is_empty()
    }

    pub fn visibility<S: AsRef<str>>(&self, path: &[S]) -> Visibility {
        if self.ignore.iter().any(|r| r.covers(path)) {
            return Visibility::Hidden;
        }
        if self.only.is_empty() || self.only.iter().any(|r| r.covers(path)) {
            return if self.ignore.iter().any(|r| r.leads_to(path)) {
                Visibility::Partial
            } else {
                Visibility::Full
            };
        }
        if self.only.iter().any(|r| r.leads_to(path)) {
            Visibility::Partial
        } else {
            Visibility::Hidden
        }
    }

    /// Whether nothing under the top-level `section` is left out.
    pub fn keeps_whole(&self, section: &str) -> bool {
        matches!(self.visibility(&[section]), Visibility::Full)
    }

    /// Removes everything that does not take part from `doc` (the two
    /// top-level sections stay, even when nothing in them is selected).
    pub fn strip(&self, doc: &mut Value) {
        if self.is_everything() {
            return;
        }
        let Value::Object(root) = doc else { return };
        for (section, v) in root.iter_mut() {
            match self.visibility(&[section.as_str()]) {
                Visibility::Full => {}
                Visibility::Partial => strip_below(self, &mut vec![section.clone()], v),
                Visibility::Hidden => *v = Value::Object(Default::default()),
            }
        }
    }

    /// Copies what does not take part under `base` from `raw` (the live
    /// object, whole) into `into`, so that a write of the whole object
    /// keeps what the target has there.
    pub fn restore(&self, into: &mut Value, base: &[String], raw: &Value) {
        // Nothing below a fully selected path is left out (no ignore rule
        // covers or leads below it, and an `only` rule covers it).
        if self.is_everything() || matches!(self.visibility(base), Visibility::Full) {
            return;
        }
        restore_below(self, &mut base.to_vec(), into, raw);
    }

    /// The rules given (not the built-in defaults), with their kind.
    fn given(&self) -> impl Iterator<Item = (&'static str, &Rule)> {
        let ignore = &self.ignore[self.defaults.min(self.ignore.len())..];
        let ignore = ignore.iter().map(|r| ("ignore", r));
        ignore.chain(self.only.iter().map(|r| ("only", r)))
    }

    /// Which of the rules given match somewhere in `doc`: looked for
    /// before `strip`, which takes out what an ignore rule matches.
    pub fn matched_in(&self, doc: &Value) -> Matched {
        Matched(
            self.given()
                .map(|(_, r)| matches_somewhere(&r.segments, doc))
                .collect(),
        )
    }

    /// The rules given that match nothing on any side (`matched_in` of
    /// each; a typo would otherwise silently do nothing), as
    /// "ignore rule /x" / "only rule /y".
    pub fn unmatched(&self, sides: &[&Matched]) -> Vec<String> {
        self.given()
            .enumerate()
            .filter(|(i, _)| !sides.iter().any(|m| m.0.get(*i).copied().unwrap_or(false)))
            .map(|(_, (kind, r))| format!("{kind} rule {}", r.text))
            .collect()
    }
}

/// Which of a selection's rules given match somewhere in one document
/// (`Selection::matched_in`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matched(Vec<bool>);

fn strip_below(sel: &Selection, path: &mut Vec<String>, value: &mut Value) {
    match value {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                path.push(k.clone());
                match sel.visibility(path) {
                    Visibility::Full => {}
                    Visibility::Hidden => {
                        m.remove(&k);
                    }
                    Visibility::Partial => {
                        if let Some(v) = m.get_mut(&k) {
                            if v.is_object() || v.is_array() {
                                strip_below(sel, path, v);
                            } else {
                                m.remove(&k);
                            }
                        }
                    }
                }
                path.pop();
            }
        }
        Value::Array(a) => {
            let mut kept = Vec::with_capacity(a.len());
            for (i, mut v) in std::mem::take(a).into_iter().enumerate() {
                path.push(i.to_string());
                match sel.visibility(path) {
                    Visibility::Full => kept.push(v),
                    Visibility::Hidden => {}
                    Visibility::Partial => {
                        strip_below(sel, path, &mut v);
                        kept.push(v);
                    }
                }
                path.pop();
            }
            *a = kept;
        }
        _ => {}
    }
}

fn restore_below(sel: &Selection, path: &mut Vec<String>, into: &mut Value, raw: &Value) {
    let Value::Object(raw_map) = raw else { return };
    if !into.is_object() {
        *into = Value::Object(Default::default());
    }
    let Value::Object(m) = into else { return };
    for (k, v) in raw_map {
        path.push(k.clone());
        match sel.visibility(path) {
            Visibility::Full => {}
            Visibility::Hidden => {
                m.insert(k.clone(), v.clone());
            }
            Visibility::Partial => {
                if v.is_object() {
                    let slot = m.entry(k.clone()).or_insert(Value::Null);
                    restore_below(sel, path, slot, v);
                } else {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        path.pop();
    }
}

/// Whether some path of `value` matches the whole pattern.
fn matches_somewhere(pattern: &[String], value: &Value) -> bool {
    let Some((first, rest)) = pattern.split_first() else {
        return true;
    };
    match value {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| segment_matches(first, k) && matches_somewhere(rest, v)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .any(|(i, v)| segment_matches(first, &i.to_string()) && matches_somewhere(rest, v)),
        _ => false,
    }
}

/// Paths whose values belong to one cluster by nature; `--no-default-ignores`
/// turns them off. Each is documented in the README.
pub const DEFAULT_IGNORES: &[(&str, &str)] = &[(
    "/config/demoDataConfiguration",
    "GUIDs of the sample connection, tables, worksheet and Liveboard installed on this cluster; another cluster's GUIDs mean nothing here",
)];

/// Settings that must not travel between environments unless asked for:
/// the identity providers (a dev IdP on prod locks everyone out), the
/// directory's bind credentials, the mail server, how long sessions last.
pub const DEFAULT_PROTECTED: &[(&str, &str)] = &[
    ("/config/samlConfiguration", "the SAML identity provider"),
    (
        "/config/oidcConfiguration",
        "the OpenID Connect identity provider",
    ),
    (
        "/config/ldapConfiguration",
        "the LDAP directory and its bind credentials",
    ),
    ("/config/emailConfig", "the mail server and sender"),
    (
        "/config/rememberedSessionIdleTimeoutMs",
        "how long sessions last",
    ),
];

pub fn default_protected() -> Vec<Rule> {
    DEFAULT_PROTECTED
        .iter()
        .filter_map(|(p, _)| Rule::parse(p).ok())
        .collect()
}

/// The pointers of `changed` that lie under a `protected` rule (or above
/// one: a change that replaces it whole), except those an `only` rule
/// names explicitly (an only rule at or under the protected one).
pub fn protected_changes<'a>(
    changed: impl IntoIterator<Item = &'a str>,
    protected: &[Rule],
    only: &[Rule],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in changed {
        let Some(path) = pointer::split(p) else {
            continue;
        };
        let hit = protected
            .iter()
            .find(|r| r.covers(&path) || r.leads_to(&path));
        let Some(rule) = hit else { continue };
        let released = only.iter().any(|o| rule.covers(&o.segments));
        if !released && !out.iter().any(|q| q == p) {
            out.push(p.to_string());
        }
    }
    out
}

pub fn default_rules() -> Vec<Rule> {
    DEFAULT_IGNORES
        .iter()
        .filter_map(|(p, _)| Rule::parse(p).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(ignore: &[&str], only: &[&str]) -> Selection {
        Selection {
            ignore: ignore.iter().map(|t| Rule::parse(t).unwrap()).collect(),
            only: only.iter().map(|t| Rule::parse(t).unwrap()).collect(),
            defaults: 0,
        }
    }

    #[test]
    fn globs_inside_segments() {
        for (p, s, want) in [
            ("Send*", "Send to Slack", true),
            ("Send*", "send", false),
            ("*Slack", "Send to Slack", true),
            ("S*to*k", "Send to Slack", true),
            ("S*x*k", "Send to Slack", false),
            ("a*a", "a", false),
            ("*", "", true),
        ] {
            assert_eq!(segment_matches(p, s), want, "{p} ~ {s}");
        }
    }

    #[test]
    fn ignore_removes_and_restores() {
        let mut doc = json!({"config": {"a": 1, "b": {"c": 2}}, "actions": {"x": {"detail": {"link": "l", "k": 1}}, "y": {"detail": {"link": "m"}}}});
        let s = sel(&["/config/b", "/actions/*/detail/link"], &[]);
        s.strip(&mut doc);
        assert_eq!(
            doc,
            json!({"config": {"a": 1}, "actions": {"x": {"detail": {"k": 1}}, "y": {"detail": {}}}})
        );
        let mut body = json!({"name": "a", "detail": {"function": "f2"}});
        let raw = json!({"name": "a", "detail": {"function": "f", "link": "https://keep"}});
        s.restore(&mut body, &["actions".into(), "a".into()], &raw);
        assert_eq!(
            body,
            json!({"name": "a", "detail": {"function": "f2", "link": "https://keep"}})
        );
        assert!(Rule::parse("config").is_err());
    }

    #[test]
    fn a_fully_selected_object_restores_nothing_as_the_walk_would() {
        let raw = json!({"name": "o", "type": "URL", "detail": {"link": "old", "function": "f", "authToken": "t"}});
        let body = json!({"name": "o", "detail": {"link": "new"}});
        let base = ["actions".to_string(), "o".to_string()];
        for (ignore, only) in [
            (&["/config/demoDataConfiguration"][..], &[][..]),
            (&["/actions/p"], &[]),
            (&["/actions/*/detail/authToken"], &[]),
            (&["/actions/o/type"], &[]),
            (&[], &["/actions"]),
            (&[], &["/actions/o/detail"]),
            (&["/config"], &["/actions/*"]),
        ] {
            let s = sel(ignore, only);
            let mut fast = body.clone();
            s.restore(&mut fast, &base, &raw);
            let mut walked = body.clone();
            restore_below(&s, &mut base.to_vec(), &mut walked, &raw);
            assert_eq!(fast, walked, "ignore {ignore:?} only {only:?}");
        }
    }

    #[test]
    fn only_keeps_the_selection_and_what_leads_to_it() {
        let mut doc = json!({"config": {"a": 1, "saml": {"enabled": true, "x": 2}},
            "actions": {"Send to Slack": {"name": "s", "detail": {"link": "l"}}, "Open in CRM": {"name": "o"}}});
        let s = sel(&[], &["/config/saml/enabled", "/actions/Send*"]);
        s.strip(&mut doc);
        assert_eq!(
            doc,
            json!({"config": {"saml": {"enabled": true}}, "actions": {"Send to Slack": {"name": "s", "detail": {"link": "l"}}}})
        );
        // A PUT body of a partly selected action gets the rest from the live one.
        let s = sel(&[], &["/actions/*/detail/link"]);
        let mut body = json!({"detail": {"link": "new"}});
        let raw = json!({"name": "o", "type": "URL", "detail": {"link": "old", "function": "f"}});
        s.restore(&mut body, &["actions".into(), "o".into()], &raw);
        assert_eq!(
            body,
            json!({"name": "o", "type": "URL", "detail": {"link": "new", "function": "f"}})
        );
    }

    #[test]
    fn rules_that_match_nothing_are_found() {
        let doc = json!({"config": {"a": 1}, "actions": {"Send": {}}});
        let s = sel(
            &["/config/nope", "/config/a"],
            &["/actions/Sned*", "/actions/Se*"],
        );
        assert_eq!(
            s.unmatched(&[&s.matched_in(&doc)]),
            vec!["ignore rule /config/nope", "only rule /actions/Sned*"]
        );
        // What a rule matched on either side, before either was stripped.
        let other = json!({"config": {"nope": {"in.ner": 1}}});
        assert_eq!(
            s.unmatched(&[&s.matched_in(&doc), &s.matched_in(&other)]),
            vec!["only rule /actions/Sned*"]
        );
        let mut stripped = doc.clone();
        s.strip(&mut stripped);
        assert_eq!(
            s.unmatched(&[&s.matched_in(&doc)]),
            s.unmatched(&[&s.matched_in(&doc), &s.matched_in(&stripped)])
        );
    }
}
