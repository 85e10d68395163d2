//! Which paths of the canonical document are secret, how they are masked
//! (`${secret:<pointer>}`), and how placeholders are resolved at apply.
//! Decided by path and key name only, never by looking at values.

use std::collections::BTreeMap;

use serde_json::Value;

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

/// Whether the value at `segs` (canonical document) is a secret.
pub fn is_secret<S: AsRef<str>>(segs: &[S], value: &Value) -> bool {
    let at = |i: usize| segs.get(i).map(|s| s.as_ref());
    if at(0) == Some("actions") && at(2) == Some("detail") {
        match (segs.len(), at(3)) {
            (4, Some("authToken" | "apiValue")) => return true,
            // Left as a string when it is not a JSON object: masked whole.
            (4, Some("additionalUrlHeaders")) => return value.is_string(),
            (6, Some("additionalUrlHeaders")) if at(5) == Some("value") => return true,
            _ => {}
        }
    }
    value.is_string() && segs.last().is_some_and(|k| key_names_secret(k.as_ref()))
}

/// Calls `f` with the segments of every secret leaf under `base`. Keys are
/// borrowed: only array indices are allocated on the way down.
pub fn visit<'a>(
    base: &mut Vec<std::borrow::Cow<'a, str>>,
    value: &'a Value,
    f: &mut impl FnMut(&[std::borrow::Cow<'a, str>], &Value),
) {
    if is_secret(base, value) {
        f(base, value);
        return;
    }
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                base.push(std::borrow::Cow::Borrowed(k.as_str()));
                visit(base, v, f);
                base.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                // A scalar item's key is its index, which names no secret.
                if v.is_object() || v.is_array() {
                    base.push(std::borrow::Cow::Owned(i.to_string()));
                    visit(base, v, f);
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

fn redact_in_place(base: &mut Vec<String>, value: &mut Value) {
    if is_secret(base, value) {
        *value = Value::String(placeholder(&pointer::join(base)));
        return;
    }
    match value {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                base.push(k.clone());
                redact_in_place(base, v);
                base.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter_mut().enumerate() {
                base.push(i.to_string());
                redact_in_place(base, v);
                base.pop();
            }
        }
        _ => {}
    }
}

/// Values for placeholders: `--secrets FILE` first, then the environment
/// (`TSMIGRATE_SECRET_` + the pointer upper-cased, non-alphanumerics as `_`).
#[derive(Debug, Clone, Default)]
pub struct SecretValues {
    file: BTreeMap<String, String>,
}

impl SecretValues {
    pub fn from_file(path: &std::path::Path) -> Result<Self, crate::error::Error> {
        let bytes = std::fs::read(path).map_err(|e| crate::error::Error::io(path, e))?;
        let file: BTreeMap<String, String> = crate::jsonfile::parse(&bytes, path)?;
        for key in file.keys() {
            if pointer::split(key).is_none() {
                return Err(crate::error::Error::input(
                    path.display(),
                    format!(
                        "at /{}: keys must be JSON Pointers such as /actions/Name/detail/authToken",
                        pointer::escape(key)
                    ),
                ));
            }
        }
        Ok(SecretValues { file })
    }

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

    pub fn get(&self, pointer: &str) -> Option<String> {
        self.file
            .get(pointer)
            .cloned()
            .or_else(|| std::env::var(Self::env_name(pointer)).ok())
    }
}

/// Makes the secrets of `source` comparable with `target`: placeholders are
/// resolved, or else take the target's value (left untouched at apply).
/// Returns the pointers that stayed unresolved.
pub fn reconcile(source: &mut Value, target: &Value, values: &SecretValues) -> Vec<String> {
    let (s, t) = (secret_paths(source), secret_paths(target));
    reconcile_at(source, target, &s, &t, values)
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
/// found while each side loads, in parallel).
pub fn reconcile_at(
    source: &mut Value,
    target: &Value,
    source_paths: &[Vec<String>],
    target_paths: &[Vec<String>],
    values: &SecretValues,
) -> Vec<String> {
    let mut unresolved = Vec::new();
    for segs in source_paths {
        let Some(value) = pointer::get(source, segs) else {
            continue;
        };
        let Some(text) = value.as_str() else { continue };
        let Some(ptr) = placeholder_pointer(text) else {
            continue;
        };
        let ptr = ptr.to_string();
        let replacement = match values.get(&ptr) {
            Some(v) => Value::String(v),
            None => {
                unresolved.push(ptr);
                match pointer::get(target, segs) {
                    Some(t) => t.clone(),
                    // Nothing to keep on the target: never send the placeholder.
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
    unresolved
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
        let un = reconcile(&mut src, &tgt, &SecretValues::default());
        assert_eq!(src["actions"]["a"]["detail"]["authToken"], json!("real"));
        assert_eq!(src["actions"]["b"]["detail"]["authToken"], json!(""));
        assert_eq!(un.len(), 2);
    }
}
