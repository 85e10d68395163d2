//! Reading JSON files given by users: errors name the file and the JSON
//! path; a UTF-8 byte-order mark is accepted; nesting depth is bounded by
//! serde_json's recursion limit; a key given twice in one object is an
//! error in every file, whatever it is read into (`keys`).

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::Error;

/// Parses `bytes` (the content of `file`) into `T`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8], file: &Path) -> Result<T, Error> {
    parse_named(bytes, &file.display().to_string())
}

/// Like `parse`, for content that came from somewhere other than a file.
pub fn parse_named<T: DeserializeOwned>(bytes: &[u8], name: &str) -> Result<T, Error> {
    let text = text(bytes, name)?;
    // A map or a struct would silently keep one of a key's two values.
    if super::strict::check(text).is_none() {
        return explain::<super::value::FastValue>(text, name).and_then(|_| {
            // The strict check and the full read follow one rule: not reached.
            Err(Error::input(name, "not valid JSON"))
        });
    }
    // Fast path; the path-tracking parse runs only to explain an error.
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(_) => explain(text, name),
    }
}

/// A document read in full (`value::FastValue`, which checks its keys as
/// it reads them), with errors as `parse` words them.
pub fn parse_value(bytes: &[u8], file: &Path) -> Result<serde_json::Value, Error> {
    let name = file.display().to_string();
    let text = text(bytes, &name)?;
    match serde_json::from_str::<super::value::FastValue>(text) {
        Ok(value) => Ok(value.0),
        Err(_) => explain::<super::value::FastValue>(text, &name).map(|v| v.0),
    }
}

/// The text of a file: UTF-8, a byte-order mark dropped.
fn text<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        Error::parse(
            name,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
            e,
        )
    })
}

/// Reads `text` again, tracking where it is, to word what is wrong with
/// it: the line and column of a syntax error, else the JSON pointer.
fn explain<T: DeserializeOwned>(text: &str, name: &str) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = pointer_of(e.path());
        let inner = e.into_inner();
        let at = if inner.is_syntax() || inner.is_eof() {
            format!("line {} column {}", inner.line(), inner.column())
        } else {
            format!("at {path}")
        };
        Error::parse(
            name,
            format!("{at}: {}", strip_position(&inner.to_string())),
            inner,
        )
    })?;
    de.end().map_err(|e| {
        Error::parse(
            name,
            format!(
                "line {} column {}: trailing characters",
                e.line(),
                e.column()
            ),
            e,
        )
    })?;
    Ok(value)
}

/// serde_path_to_error's path as a JSON Pointer (`/a/0/b`), `/` for the root.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&crate::pointer::escape(key))
            }
            Segment::Unknown => out.push('?'),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Pretty JSON as every file we write has it: sorted keys (serde_json's
/// map is ordered), two-space indent, trailing newline.
pub fn to_pretty(value: &impl serde::Serialize) -> Result<Vec<u8>, Error> {
    let mut out = serde_json::to_vec_pretty(value).map_err(Error::Encode)?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Shape {
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn names_file_and_pointer() {
        let err =
            parse::<Shape>(br#"{"items":[{"n":1},{"n":"x"}]}"#, Path::new("f.json")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("f.json: at /items/1/n: invalid type"),
            "{msg}"
        );
        assert_eq!(err.exit_code(), 1);
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let msg = parse::<Value>(b"{\n  \"a\": tru\n}", Path::new("x.json"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("x.json: line ") && msg.contains("column"),
            "{msg}"
        );
    }

    #[test]
    fn a_key_twice_is_refused_in_any_file_with_its_pointer() {
        let text = br#"{"guids": {"a": "1", "c": "2", "b": "3", "a": "4"}}"#;
        let err = parse::<std::collections::BTreeMap<String, Value>>(text, Path::new("m.json"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "m.json: at /guids: the key \"a\" appears twice in one object"
        );
        let err = parse_value(br#"{"s": {"k": 1, "k": 2}}"#, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.json: at /s: the key \"k\" appears twice in one object"
        );
    }

    #[test]
    fn bom_is_accepted_and_bad_utf8_reported() {
        let v: Value = parse(b"\xEF\xBB\xBF{\"a\":1}", Path::new("b.json")).unwrap();
        assert_eq!(v["a"], 1);
        let msg = parse::<Value>(b"{\"a\":\"\xff\"}", Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not UTF-8"), "{msg}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(parse::<Value>(deep.as_bytes(), Path::new("d.json")).is_err());
    }
}
