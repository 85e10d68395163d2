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
    let lower = key.to_ascii_lowercase();
    if [
        "password",
        "passwd",
        "secret",
        "privatekey",
        "private_key",
        "private-key",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return true;
    }
    // "token" as the last word (authToken, api_token), not "addMixpanelTokens".
    lower.ends_with("token")
}

/// Whether the value at `segments` (canonical document) is a secret.
pub fn is_secret(segments: &[String], value: &Value) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["actions", _, "detail", "authToken" | "apiValue"] => return true,
        // Left as a string when it is not a JSON object: masked whole.
        ["actions", _, "detail", "additionalUrlHeaders"] => return value.is_string(),
        ["actions", _, "detail", "additionalUrlHeaders", _, "value"] => return true,
        _ => {}
    }
    value.is_string() && s.last().is_some_and(|k| key_names_secret(k))
}

/// Calls `f` with the segments of every secret leaf under `base`.
pub fn visit(base: &mut Vec<String>, value: &Value, f: &mut impl FnMut(&[String], &Value)) {
    if is_secret(base, value) {
        f(base, value);
        return;
    }
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                base.push(k.clone());
                visit(base, v, f);
                base.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                base.push(i.to_string());
                visit(base, v, f);
                base.pop();
            }
        }
        _ => {}
    }
}

/// Every secret pointer of a document, with its value.
pub fn secrets_of(doc: &Value) -> Vec<(Vec<String>, Value)> {
    let mut out = Vec::new();
    visit(&mut Vec::new(), doc, &mut |segs, v| {
        out.push((segs.to_vec(), v.clone()))
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
    let mut unresolved = Vec::new();
    for (segs, value) in secrets_of(source) {
        let Some(text) = value.as_str() else { continue };
        let Some(ptr) = placeholder_pointer(text) else {
            continue;
        };
        let ptr = ptr.to_string();
        let replacement = match values.get(&ptr) {
            Some(v) => Value::String(v),
            None => {
                unresolved.push(ptr);
                match pointer::get(target, &segs) {
                    Some(t) => t.clone(),
                    // Nothing to keep on the target: never send the placeholder.
                    None => Value::String(String::new()),
                }
            }
        };
        if let Some(slot) = pointer::get_mut(source, &segs) {
            *slot = replacement;
        }
    }
    // A masked target (a snapshot) cannot be compared: take it as equal.
    for (segs, value) in secrets_of(target) {
        if value.as_str().and_then(placeholder_pointer).is_some() {
            if let Some(slot) = pointer::get_mut(source, &segs) {
                *slot = value.clone();
            }
        }
    }
    unresolved
}

/// The secret values inside `value`, which sits at `base` in the document.
pub fn secrets_of_at(base: &[String], value: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    visit(&mut base.to_vec(), value, &mut |_, v| out.push(v.clone()));
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
