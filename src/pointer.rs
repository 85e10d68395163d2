//! RFC 6901 JSON Pointers: escaping, splitting, and lookups by segments.

use serde_json::Value;

/// Escapes one reference token (`~` → `~0`, `/` → `~1`).
pub fn escape(token: &str) -> String {
    jsonptr::Token::new(token).encoded().to_string()
}

/// Builds a pointer from unescaped segments.
pub fn join<S: AsRef<str>>(segments: &[S]) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        out.push_str(&escape(s.as_ref()));
    }
    out
}

/// Splits a pointer into unescaped segments; `None` if it is not a pointer.
pub fn split(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/')
        .map(|raw| {
            jsonptr::Token::from_encoded(raw)
                .ok()
                .map(|t| t.decoded().into_owned())
        })
        .collect()
}

pub fn get<'a>(mut value: &'a Value, segments: &[String]) -> Option<&'a Value> {
    for s in segments {
        value = match value {
            Value::Object(m) => m.get(s)?,
            Value::Array(a) => a.get(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

pub fn get_mut<'a>(mut value: &'a mut Value, segments: &[String]) -> Option<&'a mut Value> {
    for s in segments {
        value = match value {
            Value::Object(m) => m.get_mut(s)?,
            Value::Array(a) => a.get_mut(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let segs = ["actions", "a/b~c", "détail"];
        let p = join(&segs);
        assert_eq!(p, "/actions/a~1b~0c/détail");
        assert_eq!(split(&p).unwrap(), segs);
        assert_eq!(split("nope"), None);
    }
}
