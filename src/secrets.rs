//! Which paths of the canonical document are secret, how they are masked
//! (`${secret:<pointer>}`), how placeholders are resolved at apply, and the
//! process-wide mask that keeps known secret values out of every message.
//! Secret paths are decided by path and key name only, never by values.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::RwLock;

use aho_corasick::AhoCorasick;
use serde_json::Value;

use crate::error::Error;
use crate::pointer;

const PREFIX: &str = "${secret:";

pub fn placeholder(pointer: &str) -> String {
    format!("{PREFIX}{pointer}}}")
}

/// The pointer inside a placeholder string, if it is one.
pub fn placeholder_pointer(text: &str) -> Option<&str> {
    text.strip_prefix(PREFIX)?.strip_suffix('}')
}

/// Whether a config or action key names a credential.
pub fn key_names_secret(key: &str) -> bool {
    const WORDS: [&str; 6] = [
        "password",
        "passwd",
        "secret",
        "privatekey",
        "private_key",
        "private-key",
    ];
    let k = key.as_bytes();
    let has = |w: &str| {
        k.windows(w.len())
            .any(|win| win.eq_ignore_ascii_case(w.as_bytes()))
    };
    if WORDS.iter().any(|w| has(w)) {
        return true;
    }
    // "token" as the last word (authToken, api_token), not "addMixpanelTokens".
    k.len() >= 5 && k[k.len() - 5..].eq_ignore_ascii_case(b"token")
}

/// Whether the value at `segs` (canonical document) is a secret: any
/// value (string, number, array, object) at a secret path or inside one.
/// Nothing to hide is not a secret, and nothing to ask for: an empty
/// string, array or object, `null`, and a boolean (a switch such as
/// `passwordLoginEnabled` carries no credential).
pub fn is_secret<S: AsRef<str>>(segs: &[S], value: &Value) -> bool {
    !nothing_to_hide(value) && (secret_here(segs, value) || inside_secret(segs))
}

fn nothing_to_hide(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Number(_) => false,
    }
}

/// What the key at the end of a path says of its value.
enum Slot {
    Secret,
    /// `additionalUrlHeaders` left as a string (not a JSON object): masked whole.
    SecretIfString,
    Plain,
}

fn slot<S: AsRef<str>>(segs: &[S]) -> Slot {
    let at = |i: usize| segs.get(i).map(|s| s.as_ref());
    if at(0) == Some("actions") {
        match (segs.len(), at(2), at(3)) {
            // The action's name is its owner's word, not a field.
            (0..=2, _, _) => return Slot::Plain,
            (4, Some("detail"), Some("authToken" | "apiValue")) => return Slot::Secret,
            (4, Some("detail"), Some("additionalUrlHeaders")) => return Slot::SecretIfString,
            (6, Some("detail"), Some("additionalUrlHeaders")) if at(5) == Some("value") => {
                return Slot::Secret
            }
            // A header's id (`Bearer_Token`) and an association's kind
            // and GUID are names, not fields.
            (5, Some("detail"), Some("additionalUrlHeaders"))
            | (4 | 5, Some("actionAssociationMap"), _) => return Slot::Plain,
            _ => {}
        }
    }
    match segs.last() {
        Some(k) if key_names_secret(k.as_ref()) => Slot::Secret,
        _ => Slot::Plain,
    }
}

fn secret_here<S: AsRef<str>>(segs: &[S], value: &Value) -> bool {
    match slot(segs) {
        Slot::Secret => true,
        Slot::SecretIfString => value.is_string(),
        Slot::Plain => false,
    }
}

/// Whether `segs` points inside the value of a secret path: that value
/// holds something (it has an inside), so it is a secret, masked whole.
fn inside_secret<S: AsRef<str>>(segs: &[S]) -> bool {
    (1..segs.len()).any(|n| matches!(slot(&segs[..n]), Slot::Secret))
}

/// `is_secret` for a walk from the top of a document, which stops at the
/// first secret and so never needs to look above the current key.
fn is_secret_in_walk<S: AsRef<str>>(segs: &[S], value: &Value) -> bool {
    !nothing_to_hide(value) && secret_here(segs, value)
}

/// Whether a key can make its value a secret, whatever lies above it: a
/// cheap test before building a path for `is_secret`.
pub fn key_may_name_secret(key: &str) -> bool {
    matches!(key, "apiValue" | "value" | "additionalUrlHeaders") || key_names_secret(key)
}

/// Calls `f` with the segments of every secret under `base` (a secret is
/// whole: nothing inside it is visited). Keys are borrowed: only array
/// indices are allocated on the way down.
pub fn visit<'a>(
    base: &mut Vec<std::borrow::Cow<'a, str>>,
    value: &'a Value,
    f: &mut impl FnMut(&[std::borrow::Cow<'a, str>], &Value),
) {
    if is_secret(base, value) {
        f(base, value);
        return;
    }
    visit_below(base, value, f);
}

fn visit_below<'a>(
    base: &mut Vec<std::borrow::Cow<'a, str>>,
    value: &'a Value,
    f: &mut impl FnMut(&[std::borrow::Cow<'a, str>], &Value),
) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                base.push(std::borrow::Cow::Borrowed(k.as_str()));
                if is_secret_in_walk(base, v) {
                    f(base, v);
                } else {
                    visit_below(base, v, f);
                }
                base.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                // A scalar item's key is its index, which names no secret.
                if v.is_object() || v.is_array() {
                    base.push(std::borrow::Cow::Owned(i.to_string()));
                    if is_secret_in_walk(base, v) {
                        f(base, v);
                    } else {
                        visit_below(base, v, f);
                    }
                    base.pop();
                }
            }
        }
        _ => {}
    }
}

/// Every secret pointer of a document, with its value.
pub fn secrets_of(doc: &Value) -> Vec<(Vec<String>, Value)> {
    let mut out = Vec::new();
    visit(&mut Vec::new(), doc, &mut |segs, v| {
        out.push((segs.iter().map(|s| s.to_string()).collect(), v.clone()))
    });
    out
}

/// A copy of `value` (found at `base` in the canonical document) with every
/// secret replaced by its placeholder.
pub fn redact_at(base: &[String], value: &Value) -> Value {
    let mut segs = base.to_vec();
    let mut out = value.clone();
    redact_in_place(&mut segs, &mut out);
    out
}

pub fn redact(doc: &Value) -> Value {
    redact_at(&[], doc)
}

/// The secrets (pointers) of `pointers` inside an action named in `names`:
/// each looked up once, as a cluster may hold thousands of secrets and a
/// change touch thousands of actions.
pub fn of_actions<'a>(
    pointers: &'a [String],
    names: &std::collections::HashSet<&str>,
) -> Vec<&'a String> {
    pointers
        .iter()
        .filter(|p| {
            let segs = pointer::split(p).unwrap_or_default();
            segs.len() > 2 && segs[0] == "actions" && names.contains(segs[1].as_str())
        })
        .collect()
}

fn redact_in_place(base: &mut Vec<String>, value: &mut Value) {
    if is_secret(base, value) {
        *value = Value::String(placeholder(&pointer::join(base)));
        return;
    }
    redact_below(base, value);
}

fn redact_below(base: &mut Vec<String>, value: &mut Value) {
    let one = |base: &mut Vec<String>, v: &mut Value| {
        if is_secret_in_walk(base, v) {
            *v = Value::String(placeholder(&pointer::join(base)));
        } else {
            redact_below(base, v);
        }
    };
    match value {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                base.push(k.clone());
                one(base, v);
                base.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter_mut().enumerate() {
                base.push(i.to_string());
                one(base, v);
                base.pop();
            }
        }
        _ => {}
    }
}

/// Values for placeholders: `--secrets FILE` first, then the variables
/// `TSMIGRATE_SECRET_<POINTER>` (see `env_name`), read once at start-up.
/// The file maps a pointer to any JSON value (a key list, an object);
/// a variable always gives a string.
#[derive(Debug, Clone, Default)]
pub struct SecretValues {
    file: BTreeMap<String, Value>,
    env: BTreeMap<String, String>,
}

impl SecretValues {
    /// `env` holds the `TSMIGRATE_SECRET_*` variables of the environment.
    pub fn new(
        file: Option<&std::path::Path>,
        env: BTreeMap<String, String>,
    ) -> Result<Self, Error> {
        let mut values = SecretValues {
            env,
            ..SecretValues::default()
        };
        if let Some(path) = file {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let mut map: BTreeMap<String, Value> = crate::json::file::parse(&bytes, path)?;
            // For editors (`docs/schemas/secrets.schema.json`): read past.
            map.remove("$schema");
            for key in map.keys() {
                if pointer::split(key).is_none() {
                    return Err(Error::input(
                        path.display(),
                        format!(
                            "at /{}: keys must be JSON Pointers such as /actions/Name/detail/authToken",
                            pointer::escape(key)
                        ),
                    ));
                }
            }
            values.file = map;
        }
        for v in values.file.values() {
            remember_value(v);
        }
        for v in values.env.values() {
            remember(v);
        }
        Ok(values)
    }

    /// The variable that carries the value of `pointer`: the pointer
    /// upper-cased, every other character `_`, after `TSMIGRATE_SECRET`
    /// (`/actions/Open in CRM/detail/authToken` →
    /// `TSMIGRATE_SECRET_ACTIONS_OPEN_IN_CRM_DETAIL_AUTHTOKEN`). Several
    /// pointers can share a name; `check_unambiguous` refuses that.
    pub fn env_name(pointer: &str) -> String {
        let mut name = String::from("TSMIGRATE_SECRET");
        for c in pointer.chars() {
            name.push(if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            });
        }
        name
    }

    pub fn get(&self, pointer: &str) -> Option<Value> {
        match self.file.get(pointer) {
            Some(v) => Some(v.clone()),
            None => self
                .env
                .get(&Self::env_name(pointer))
                .map(|s| Value::String(s.clone())),
        }
    }

    /// Entries of the secrets file, for the "matched nothing" report.
    pub fn file_pointers(&self) -> impl Iterator<Item = &String> {
        self.file.keys()
    }

    /// Refuses a variable that is set and would serve two pointers of
    /// this run (`Foo` and `foo` share one name): the value must not be
    /// applied to an action it was not meant for.
    pub fn check_unambiguous<'a>(
        &self,
        pointers: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        let mut by_name: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for p in pointers {
            if self.file.contains_key(p) {
                continue;
            }
            let name = Self::env_name(p);
            if self.env.contains_key(&name) {
                let list = by_name.entry(name).or_default();
                if !list.contains(&p) {
                    list.push(p);
                }
            }
        }
        match by_name.into_iter().find(|(_, ps)| ps.len() > 1) {
            None => Ok(()),
            Some((name, ps)) => Err(Error::Usage(format!(
                "${name} would be the value of {}; it is ambiguous, so it is not used. Give each value in --secrets FILE (JSON: pointer → value) instead",
                ps.join(" and ")
            ))),
        }
    }
}

/// Makes the secrets of `source` comparable with `target`: placeholders are
/// resolved, or else take the target's value (left untouched at apply).
/// Returns the pointers that stayed unresolved.
pub fn reconcile(
    source: &mut Value,
    target: &Value,
    values: &SecretValues,
) -> Result<Vec<String>, Error> {
    let (s, t) = (secret_paths(source), secret_paths(target));
    reconcile_at(source, target, &s, &t, &[], values).map(|r| r.unresolved)
}

/// The order of two paths in a document: keys by text, indices by number.
fn document_order(a: &[String], b: &[String]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (x.parse::<usize>(), y.parse::<usize>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            _ => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// The secret placeholders in `value` (found at `base` in the canonical
/// document): where each is, and the pointer it names.
pub fn placeholders_at(base: &[String], value: &Value) -> Vec<(Vec<String>, String)> {
    let mut segs: Vec<std::borrow::Cow<str>> = base
        .iter()
        .map(|s| std::borrow::Cow::Borrowed(s.as_str()))
        .collect();
    let mut out = Vec::new();
    visit(&mut segs, value, &mut |at, v| {
        if let Some(p) = v.as_str().and_then(placeholder_pointer) {
            out.push((at.iter().map(|s| s.to_string()).collect(), p.to_string()));
        }
    });
    out
}

/// What `reconcile_at` found.
#[derive(Debug, Default)]
pub struct Reconciled {
    /// Placeholders no value was given for.
    pub unresolved: Vec<String>,
    /// Every placeholder of the source.
    pub placeholders: Vec<String>,
}

/// The paths of every secret of a document.
pub fn secret_paths(doc: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    visit(&mut Vec::new(), doc, &mut |segs, _| {
        out.push(segs.iter().map(|s| s.to_string()).collect())
    });
    out
}

/// `reconcile` with the secret paths of both sides already known (they are
/// found while each side loads, in parallel). `left_out`: the source's
/// placeholders (where, and their pointer) in what was left out of both
/// documents as alike (`snapshot::read_pair`); they are counted and
/// reported like the others, and there is nothing to replace.
pub fn reconcile_at(
    source: &mut Value,
    target: &Value,
    source_paths: &[Vec<String>],
    target_paths: &[Vec<String>],
    left_out: &[(Vec<String>, String)],
    values: &SecretValues,
) -> Result<Reconciled, Error> {
    let mut placeholders: Vec<(&Vec<String>, String)> = source_paths
        .iter()
        .filter_map(|segs| {
            let text = pointer::get(source, segs)?.as_str()?;
            Some((segs, placeholder_pointer(text)?.to_string()))
        })
        .collect();
    if !left_out.is_empty() {
        placeholders.extend(left_out.iter().map(|(at, p)| (at, p.clone())));
        placeholders.sort_by(|a, b| document_order(a.0, b.0));
    }
    values.check_unambiguous(placeholders.iter().map(|(_, p)| p.as_str()))?;
    let all: Vec<String> = placeholders.iter().map(|(_, p)| p.clone()).collect();
    let mut unresolved = Vec::new();
    for (segs, ptr) in placeholders {
        let replacement = match values.get(&ptr) {
            Some(v) => v,
            None => {
                unresolved.push(ptr);
                match pointer::get(target, segs) {
                    Some(t) => t.clone(),
                    // Nothing to keep on the target: an empty value, which
                    // apply refuses to create with (it names the pointer).
                    None => Value::String(String::new()),
                }
            }
        };
        if let Some(slot) = pointer::get_mut(source, segs) {
            *slot = replacement;
        }
    }
    // A masked target (a snapshot) cannot be compared: take it as equal.
    for segs in target_paths {
        let Some(value) = pointer::get(target, segs) else {
            continue;
        };
        if value.as_str().and_then(placeholder_pointer).is_some() {
            if let Some(slot) = pointer::get_mut(source, segs) {
                *slot = value.clone();
            }
        }
    }
    Ok(Reconciled {
        unresolved,
        placeholders: all,
    })
}

/// Secret values shorter than this are not masked in free text: they
/// would hide ordinary words (they are still masked by path everywhere).
const MASK_MIN_LEN: usize = 6;

struct Known {
    values: std::collections::BTreeSet<String>,
    /// Built when text is first masked after a value was remembered: one
    /// build for the thousands of secrets a large cluster has, not one per
    /// secret (which was quadratic).
    matcher: Option<(AhoCorasick, usize)>,
    stale: bool,
}

static KNOWN: RwLock<Known> = RwLock::new(Known {
    values: std::collections::BTreeSet::new(),
    matcher: None,
    stale: false,
});

/// Remembers a secret value (and its URL- and JSON-encoded forms) so that
/// no message of this process can print it.
pub fn remember(value: &str) {
    if value.len() < MASK_MIN_LEN {
        return;
    }
    let forms = [
        value.to_string(),
        serde_urlencoded::to_string([("", value)])
            .map(|s| s.trim_start_matches('=').to_string())
            .unwrap_or_default(),
        serde_json::to_string(value)
            .map(|s| s.trim_matches('"').to_string())
            .unwrap_or_default(),
    ];
    let Ok(mut known) = KNOWN.write() else { return };
    for f in forms {
        if f.len() >= MASK_MIN_LEN && known.values.insert(f) {
            known.stale = true;
        }
    }
}

impl Known {
    fn rebuild(&mut self) {
        // Longest first, so a value that contains another is masked whole.
        let mut values: Vec<&String> = self.values.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        self.matcher = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(values)
            .ok()
            .map(|m| (m, self.values.len()));
        self.stale = false;
    }

    fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.matcher {
            Some((m, n)) if m.is_match(text) => Cow::Owned(m.replace_all(text, &vec!["***"; *n])),
            _ => Cow::Borrowed(text),
        }
    }
}

/// Remembers every secret value of a document.
pub fn remember_all(doc: &Value) {
    visit(&mut Vec::new(), doc, &mut |_, v| remember_value(v));
}

/// Remembers a secret that may be any JSON value: its strings (but
/// placeholders) and numbers, wherever they sit inside it.
pub fn remember_value(value: &Value) {
    match value {
        Value::String(s) if placeholder_pointer(s).is_none() => remember(s),
        Value::Number(n) => remember(&n.to_string()),
        Value::Array(a) => a.iter().for_each(remember_value),
        Value::Object(m) => m.values().for_each(remember_value),
        _ => {}
    }
}

/// `text` with every remembered secret value replaced by `***`.
pub fn mask_known(text: &str) -> Cow<'_, str> {
    if let Ok(known) = KNOWN.read() {
        if !known.stale {
            return known.mask(text);
        }
    }
    let Ok(mut known) = KNOWN.write() else {
        return Cow::Borrowed(text);
    };
    if known.stale {
        known.rebuild();
    }
    known.mask(text)
}

/// Text that came from a cluster (an error message may echo the request):
/// values of keys that name a secret, and remembered values, masked.
pub fn mask_cluster_text(text: &str) -> String {
    static KEYED: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = KEYED.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)((?:\\?")[^"\\]*(?:password|passwd|secret|privatekey|private_key|token|apivalue|value)(?:\\?")\s*:\s*(?:\\?"))((?:[^"\\]|\\[^"])*)"#,
        )
        .ok()
    });
    let keyed = match re {
        Some(re) => re.replace_all(text, "${1}***").into_owned(),
        None => text.to_string(),
    };
    mask_known(&keyed).into_owned()
}

/// The secret values inside `value`, which sits at `base` in the document.
pub fn secrets_of_at(base: &[String], value: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut segs: Vec<std::borrow::Cow<str>> = base.iter().map(|s| s.as_str().into()).collect();
    visit(&mut segs, value, &mut |_, v| out.push(v.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_names() {
        for k in [
            "bindPassword",
            "clientSecret",
            "authToken",
            "api_token",
            "sshPrivateKey",
            "private_key",
        ] {
            assert!(key_names_secret(k), "{k}");
        }
        for k in ["addMixpanelTokens", "apiKey", "enabled", "tokenCount2"] {
            assert!(!key_names_secret(k), "{k}");
        }
    }

    #[test]
    fn redacts_paths_and_keys_not_values() {
        let doc = json!({
            "config": {"ldap": {"bindPassword": "p1", "enabled": true}, "note": "p1"},
            "actions": {"a/b": {"detail": {"authToken": "t", "apiValue": "", "apiKey": "X-API-KEY",
                "additionalUrlHeaders": {"h": {"id": "i", "key": "k", "value": "v"}}}}}
        });
        let r = redact(&doc);
        assert_eq!(
            r["config"]["ldap"]["bindPassword"],
            json!("${secret:/config/ldap/bindPassword}")
        );
        assert_eq!(r["config"]["note"], json!("p1"), "values are never matched");
        assert_eq!(
            r["actions"]["a/b"]["detail"]["authToken"],
            json!("${secret:/actions/a~1b/detail/authToken}")
        );
        assert_eq!(r["actions"]["a/b"]["detail"]["apiKey"], json!("X-API-KEY"));
        assert_eq!(
            r["actions"]["a/b"]["detail"]["additionalUrlHeaders"]["h"]["key"],
            json!("k")
        );
        assert!(
            r["actions"]["a/b"]["detail"]["additionalUrlHeaders"]["h"]["value"]
                .as_str()
                .unwrap()
                .starts_with("${secret:")
        );
        // Every placeholder's pointer resolves in the document.
        for (segs, v) in secrets_of(&r) {
            let p = placeholder_pointer(v.as_str().unwrap()).unwrap();
            assert_eq!(pointer::split(p).unwrap(), segs);
        }
    }

    #[test]
    fn reconcile_keeps_target_when_unresolved() {
        let mut src = json!({"actions": {"a": {"detail": {"authToken": "${secret:/actions/a/detail/authToken}"}},
                                         "b": {"detail": {"authToken": "${secret:/actions/b/detail/authToken}"}}}});
        let tgt = json!({"actions": {"a": {"detail": {"authToken": "real"}}}});
        let un = reconcile(&mut src, &tgt, &SecretValues::default()).unwrap();
        assert_eq!(src["actions"]["a"]["detail"]["authToken"], json!("real"));
        assert_eq!(src["actions"]["b"]["detail"]["authToken"], json!(""));
        assert_eq!(un.len(), 2);
    }

    #[test]
    fn empty_values_are_not_secrets() {
        let doc = json!({"actions": {"a": {"detail": {"authToken": "", "apiValue": "x"}}}});
        let r = redact(&doc);
        assert_eq!(r["actions"]["a"]["detail"]["authToken"], json!(""));
        assert_eq!(secrets_of(&doc).len(), 1);
    }

    #[test]
    fn any_value_at_a_secret_key_is_masked_whole_and_nothing_to_hide_is_not() {
        let doc = json!({
            "config": {"sso": {"privateKey": ["-----BEGIN-----", "abc"], "pinSecret": 48151623,
                "clientSecret": {"value": "cs-inner-value", "rotated": "2024"},
                "passwordLoginEnabled": true, "emptySecret": [], "noSecret": {}, "nullToken": null}},
            "actions": {"Send token": {"name": "Send token", "detail": {
                "additionalUrlHeaders": {"Bearer_Token": {"id": "Bearer_Token", "key": "Authorization", "value": "hdr-val"}}},
                "actionAssociationMap": {"ANSWER": {"guid-token": {"enabled": "true"}}}}}
        });
        let r = redact(&doc);
        let sso = &r["config"]["sso"];
        for key in ["privateKey", "pinSecret", "clientSecret"] {
            assert_eq!(
                sso[key],
                json!(placeholder(&format!("/config/sso/{key}"))),
                "{key}"
            );
        }
        for key in [
            "passwordLoginEnabled",
            "emptySecret",
            "noSecret",
            "nullToken",
        ] {
            assert_eq!(
                sso[key], doc["config"]["sso"][key],
                "{key} has nothing to hide"
            );
        }
        // Names chosen by people are not fields: the action, the header's
        // id and the association's kind and GUID stay; the header's value goes.
        let action = &r["actions"]["Send token"];
        assert_eq!(action["name"], json!("Send token"));
        let header = &action["detail"]["additionalUrlHeaders"]["Bearer_Token"];
        assert_eq!(header["key"], json!("Authorization"));
        assert!(placeholder_pointer(header["value"].as_str().unwrap()).is_some());
        assert_eq!(
            action["actionAssociationMap"],
            doc["actions"]["Send token"]["actionAssociationMap"]
        );
        assert_eq!(secrets_of(&doc).len(), 4);
        // Inside a secret is secret too, wherever a walk starts.
        let inside = ["config", "sso", "clientSecret", "value"];
        assert!(is_secret(&inside, &json!("cs-inner-value")));
        let base: Vec<String> = inside.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            redact_at(&base, &json!("cs-inner-value")),
            json!(placeholder("/config/sso/clientSecret/value"))
        );
        assert_eq!(
            secrets_of_at(&base[..3], &json!({"value": "x"})),
            [json!({"value": "x"})]
        );
    }

    #[test]
    fn placeholders_resolve_to_any_json_value_of_the_secrets_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets.json");
        std::fs::write(
            &file,
            r#"{"/config/sso/privateKey": ["file-key-1", "file-key-2"], "/config/sso/pinSecret": 90817263,
                "/config/sso/clientSecret": {"value": "file-client-secret", "n": 2}}"#,
        )
        .unwrap();
        let values = SecretValues::new(Some(&file), BTreeMap::new()).unwrap();
        let real = json!({"config": {"sso": {"privateKey": ["t"], "pinSecret": 1, "clientSecret": {"value": "t"}}}});
        let mut src = redact(&real);
        let unresolved = reconcile(&mut src, &real, &values).unwrap();
        assert!(unresolved.is_empty(), "{unresolved:?}");
        assert_eq!(
            src["config"]["sso"],
            json!({"privateKey": ["file-key-1", "file-key-2"], "pinSecret": 90817263,
                "clientSecret": {"value": "file-client-secret", "n": 2}})
        );
        // Every string and number inside the file's values is kept out of messages.
        let masked = mask_known("a file-client-secret, file-key-2 and 90817263");
        assert_eq!(masked, "a ***, *** and ***");
    }

    #[test]
    fn known_values_and_echoed_keys_are_masked() {
        remember("S3CRET-unit-test-71c2");
        assert_eq!(mask_known("x S3CRET-unit-test-71c2 y"), "x *** y");
        assert_eq!(mask_known("url: S3CRET-unit-test-71c2"), "url: ***");
        let echoed = r#"bad value in {"ldapConfiguration.bindPassword":"pw-not-remembered","maxFilterValues":5}"#;
        let masked = mask_cluster_text(echoed);
        assert!(!masked.contains("pw-not-remembered"), "{masked}");
        assert!(masked.contains("maxFilterValues"), "{masked}");
        let escaped = r#"{\"authToken\":\"tok-not-remembered\"}"#;
        assert!(!mask_cluster_text(escaped).contains("tok-not-remembered"));
    }

    #[test]
    fn a_variable_serving_two_pointers_is_refused() {
        let env = [(
            SecretValues::env_name("/actions/foo/detail/authToken"),
            "v".to_string(),
        )]
        .into();
        let values = SecretValues::new(None, env).unwrap();
        assert!(values
            .check_unambiguous(["/actions/foo/detail/authToken"])
            .is_ok());
        let err = values
            .check_unambiguous([
                "/actions/foo/detail/authToken",
                "/actions/Foo/detail/authToken",
            ])
            .unwrap_err()
            .to_string();
        assert!(err.contains("/actions/Foo/detail/authToken"), "{err}");
    }
}
