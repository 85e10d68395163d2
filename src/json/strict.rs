//! Checking JSON text exactly as the full read (`value`) checks it —
//! syntax, escapes, numbers in range, no key twice (`keys`) — without
//! building a tree: one level of an object read strictly (`members`), a
//! whole value walked (`check`), an action file asked for its name.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::keys;
use super::scan::{skip_ws, string_end, value_end};

/// One level of an object: its members' keys (decoded) and values (as
/// text, in the object's text), sorted by key.
pub type Members<'a> = Vec<(Cow<'a, str>, &'a str)>;

/// The members of the object `text`, sorted by key; `None` if it is not
/// one object, gives a key twice, or is not valid JSON as far as it is
/// read here. Only one level is read, but strictly: the keys, what lies
/// between the members and every value that is not an object or array
/// are checked as the full read checks them. A nested object or array is
/// only followed (its brackets counted, at most `scan::MAX_NESTING`
/// deep): who takes it checks it or reads it in full.
pub fn members(text: &str) -> Option<Members<'_>> {
    let b = text.as_bytes();
    let mut at = skip_ws(b, 0);
    if b.get(at) != Some(&b'{') {
        return None;
    }
    // Room for a member in every 32 bytes, up to a point.
    let mut out = Vec::with_capacity((text.len() / 32).min(1024));
    at = skip_ws(b, at + 1);
    if b.get(at) == Some(&b'}') {
        return (skip_ws(b, at + 1) == b.len()).then_some(out);
    }
    loop {
        if b.get(at) != Some(&b'"') {
            return None;
        }
        let (end, key) = string_at(text, at)?;
        at = skip_ws(b, end + 1);
        if b.get(at) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, at + 1);
        let stop = match b.get(start)? {
            // A string: checked as it is found.
            b'"' => string_at(text, start)?.0 + 1,
            b'{' | b'[' => value_end(b, start)?,
            _ => {
                let stop = value_end(b, start)?;
                scalar(text.get(start..stop)?)?;
                stop
            }
        };
        out.push((key, text.get(start..stop)?));
        at = skip_ws(b, stop);
        match b.get(at)? {
            b',' => at = skip_ws(b, at + 1),
            b'}' => break,
            _ => return None,
        }
    }
    if skip_ws(b, at + 1) != b.len() {
        return None;
    }
    keys::distinct(&out, |(k, _)| k).ok()?;
    // As written, they mostly are sorted already.
    if !out.windows(2).all(|w| w[0].0 < w[1].0) {
        out.sort_unstable_by(|x, y| x.0.cmp(&y.0));
    }
    Some(out)
}

/// The string whose opening quote is at `open` in `text`: where it
/// closes, and the string, checked as the full read checks one (no
/// control character in it, only valid escapes) and its escapes decoded.
fn string_at(text: &str, open: usize) -> Option<(usize, Cow<'_, str>)> {
    let (close, plain) = string_end(text.as_bytes(), open + 1)?;
    let string = match plain {
        true => Cow::Borrowed(text.get(open + 1..close)?),
        false => Cow::Owned(serde_json::from_str::<String>(text.get(open..=close)?).ok()?),
    };
    Some((close, string))
}

/// Checks a number, `true`, `false` or `null` (as `value_end` found it)
/// as the full read checks it; a string is checked by `string_at`.
fn scalar(text: &str) -> Option<()> {
    match text.as_bytes() {
        b"true" | b"false" | b"null" => Some(()),
        // A number: serde says which it takes (and their range).
        [b'-' | b'0'..=b'9', ..] => check(text),
        _ => None,
    }
}

/// Checks `text` as the full read would (valid JSON, no key twice in one
/// object) without building it.
pub fn check(text: &str) -> Option<()> {
    let mut de = serde_json::Deserializer::from_str(text);
    Check.deserialize(&mut de).ok()?;
    de.end().ok()
}

/// Each of `texts` checked (`check`).
pub fn check_all(texts: &[&str]) -> Option<()> {
    texts.iter().try_for_each(|t| check(t))
}

/// What a checked action file says of itself: its name, and whether its
/// `detail` (if any) is an object. `None` if it is not an object, is
/// invalid, or its `name` is not a string.
pub fn check_action(text: &str) -> Option<(String, bool)> {
    struct Action;
    impl<'de> Visitor<'de> for Action {
        type Value = (Option<String>, bool);
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let (mut name, mut detail_ok) = (None, true);
            let mut seen = Vec::new();
            while let Some(Key(k)) = map.next_key::<Key>()? {
                match &*k {
                    "name" => name = Some(map.next_value::<Key>()?.0.into_owned()),
                    "detail" => detail_ok = map.next_value_seed(Check)? == Kind::Object,
                    _ => {
                        map.next_value_seed(Check)?;
                    }
                }
                seen.push(k);
            }
            keys::distinct(&seen, |k| k).map_err(serde::de::Error::custom)?;
            Ok((name, detail_ok))
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let (name, detail_ok) = de.deserialize_map(Action).ok()?;
    de.end().ok()?;
    Some((name?, detail_ok))
}

/// A key (or a string), borrowed from the text where it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    Other,
}

/// Walks a value, checking what the full read checks.
struct Check;

impl<'de> DeserializeSeed<'de> for Check {
    type Value = Kind;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = Kind;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        while seq.next_element_seed(Check)?.is_some() {}
        Ok(Kind::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut seen = Vec::new();
        while let Some(Key(k)) = map.next_key::<Key>()? {
            map.next_value_seed(Check)?;
            seen.push(k);
        }
        keys::distinct(&seen, |k| k).map_err(serde::de::Error::custom)?;
        Ok(Kind::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn pretty(v: &Value) -> String {
        serde_json::to_string_pretty(v).unwrap_or_default()
    }

    /// One level of an object as serde reads it (sorted, keys decoded).
    fn serde_members(text: &str) -> Vec<(String, String)> {
        let map: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_str(text).expect("valid");
        map.into_iter()
            .map(|(k, v)| (k, v.get().to_string()))
            .collect()
    }

    fn owned(m: Option<Members<'_>>) -> Option<Vec<(String, String)>> {
        m.map(|m| {
            m.into_iter()
                .map(|(k, v)| (k.into_owned(), v.to_string()))
                .collect()
        })
    }

    #[test]
    fn members_reads_one_level_as_serde_does() {
        let texts = [
            "{}".to_string(),
            " { } ".to_string(),
            r#"{"z": 1, "a": [1, {"x": "]"}], "c": {"d": "}\"{", "e": []}, "n": null}"#.to_string(),
            r#"{"f":-1.5e3,"g":true,"h":false,"s":"a\\b","i":0,"j":-0.25E-2}"#.to_string(),
            "{\n\t\"k\\u0041\": 1,\r\n \"k\\\\\": \"\\\\\", \"\\u00e9\": {}\n}".to_string(),
            pretty(&json!({"s": {"k": [1, {"a": "{["}], "j": "x"}, "t": 2.5, "u": "é\u{1F600}"})),
        ];
        for t in &texts {
            assert_eq!(owned(members(t)), Some(serde_members(t)), "{t}");
        }
        // Not one object, a key twice, or not valid at this level.
        for t in [
            "[1]",
            "1",
            r#"{"a": 1} x"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 1, "c": 2, "b": 3, "a": 4}"#,
            r#"{"A": 1, "\u0041": 2}"#,
            r#"{"a": {"b": 1}"#,
            r#"{"a": 1,}"#,
            r#"{"a" 1}"#,
            r#"{a: 1}"#,
            "{\"a\": 1\u{c}}",
            "{\"a\": \"x\u{1}y\"}",
            "{\"a\u{9}\": 1}",
            r#"{"a": "\x"}"#,
            r#"{"a": 01}"#,
            r#"{"a": 1.}"#,
            r#"{"a": +1}"#,
            r#"{"a": 1e400}"#,
            r#"{"a": tru}"#,
            r#"{"a": nul}"#,
            r#"{"a": "x}"#,
            r#"{"a": }"#,
        ] {
            assert_eq!(owned(members(t)), None, "{t}");
        }
        // Nested deeper than `MAX_NESTING`: left to the full read.
        let n = super::super::scan::MAX_NESTING + 1;
        let deep = format!(r#"{{"a": {}{}}}"#, "[".repeat(n), "]".repeat(n));
        assert_eq!(owned(members(&deep)), None);
    }

    #[test]
    fn a_key_twice_is_refused_however_far_apart() {
        // The keys go out of order before the second "a": the first
        // must still be remembered.
        for t in [
            r#"{"a":1,"c":2,"b":3,"a":4}"#,
            r#"{"s": {"a":1,"c":2,"b":3,"a":4}}"#,
            r#"[{"z": 0, "y": 0, "x": 0, "z": 0}]"#,
        ] {
            assert_eq!(check(t), None, "{t}");
        }
        assert_eq!(check(r#"{"c":1,"b":2,"a":3}"#), Some(()));
        assert_eq!(check_action(r#"{"name":"x","c":2,"b":3,"name":"y"}"#), None);
    }

    #[test]
    fn action_files_say_their_name() {
        let text =
            pretty(&json!({"name": "Send", "detail": {"link": "x"}, "z": [{"b": 1, "a": 2}]}));
        assert_eq!(check_action(&text), Some(("Send".into(), true)));
        assert_eq!(
            check_action(r#"{"detail": 1, "name": "S"}"#),
            Some(("S".into(), false))
        );
        assert_eq!(check_action(r#"{"name": 1}"#), None);
        assert_eq!(check_action(r#"{"name": "a", "name": "b"}"#), None);
        assert_eq!(check_action(r#"{"detail": {}}"#), None);
        assert_eq!(
            check_action(r#"{"name": "a", "d": {"k": 1, "k": 1}}"#),
            None
        );
    }
}
