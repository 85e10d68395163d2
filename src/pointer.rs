//! RFC 6901 JSON Pointers, on the `jsonptr` crate: building, splitting and
//! resolving by unescaped segments (the form the diff and the document
//! walkers carry).

use jsonptr::{Pointer, PointerBuf};
use serde_json::Value;

/// Escapes one reference token (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape(token: &str) -> String {
    jsonptr::Token::new(token).encoded().to_string()
}

/// Builds a pointer from unescaped segments.
pub fn join<S: AsRef<str>>(segments: &[S]) -> String {
    PointerBuf::from_tokens(segments.iter().map(|s| s.as_ref())).to_string()
}

/// Splits a pointer into unescaped segments; `None` if it is not a pointer.
pub(crate) fn split(pointer: &str) -> Option<Vec<String>> {
    let p = Pointer::parse(pointer).ok()?;
    Some(p.tokens().map(|t| t.decoded().into_owned()).collect())
}

pub(crate) fn get<'a>(value: &'a Value, segments: &[String]) -> Option<&'a Value> {
    PointerBuf::from_tokens(segments).resolve(value).ok()
}

pub fn get_mut<'a>(value: &'a mut Value, segments: &[String]) -> Option<&'a mut Value> {
    PointerBuf::from_tokens(segments).resolve_mut(value).ok()
}

/// Sets the value at `segments`, making the objects on the way.
pub(crate) fn set(doc: &mut Value, segments: &[String], value: Value) {
    let Some((last, parents)) = segments.split_last() else {
        *doc = value;
        return;
    };
    let mut cur = doc;
    for s in parents {
        if !cur.is_object() {
            *cur = Value::Object(Default::default());
        }
        let Value::Object(m) = cur else { return };
        cur = m
            .entry(s.clone())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    if let Value::Object(m) = cur {
        m.insert(last.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip() {
        let segs = ["actions", "a/b~c", "détail"];
        let p = join(&segs);
        assert_eq!(p, "/actions/a~1b~0c/détail");
        assert_eq!(split(&p).unwrap(), segs);
        assert_eq!(split("nope"), None);
        assert_eq!(split("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn resolves_and_sets() {
        let mut doc = json!({"a": [{"b": 1}]});
        let segs = |s: &str| split(s).unwrap();
        assert_eq!(get(&doc, &segs("/a/0/b")), Some(&json!(1)));
        assert_eq!(get(&doc, &segs("/a/1")), None);
        *get_mut(&mut doc, &segs("/a/0/b")).unwrap() = json!(2);
        set(&mut doc, &segs("/x/y"), json!(3));
        assert_eq!(doc, json!({"a": [{"b": 2}], "x": {"y": 3}}));
    }
}
