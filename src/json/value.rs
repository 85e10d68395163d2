//! The full read: a faster `serde_json::Value` deserializer for our own
//! files. Objects are built from all their entries at once (a bulk build,
//! linear for the sorted keys we write) instead of one B-tree insertion
//! per key; a key given twice is refused by the one rule of `keys`.

use std::cell::RefCell;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

pub struct FastValue(pub Value);

/// `text` read in full; `None` where the full read refuses it (the caller
/// then reads it again through `file`, which words the error).
pub fn read(text: &str) -> Option<Value> {
    serde_json::from_str::<FastValue>(text).ok().map(|v| v.0)
}

impl<'de> Deserialize<'de> for FastValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(FastValue)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(FastValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some((k, FastValue(v))) = map.next_entry::<String, FastValue>()? {
            entries.push((k, v));
        }
        super::keys::distinct(&entries, |(k, _)| k).map_err(serde::de::Error::custom)?;
        Ok(Value::Object(
            entries.into_iter().collect::<Map<String, Value>>(),
        ))
    }
}

/// A server's answer read in full, its objects bulk-built like our own
/// files' (a tree about half the size of one built key by key, which
/// leaves B-tree nodes half full). Unlike our files, a key given twice is
/// not refused: its last value stands, as `serde_json::Value` has it.
pub fn read_answer(bytes: &[u8]) -> serde_json::Result<Value> {
    read_shaped(bytes, Shape::Any)
}

/// `read_answer` of an object where the array at its top-level `key` is
/// large and seldom needed: its items are set aside as their JSON text
/// (returned beside the rest, which lacks `key`), to be read one by one
/// where needed. A `key` that holds no array sets nothing aside.
pub fn read_answer_aside(
    bytes: &[u8],
    key: &str,
) -> serde_json::Result<(Value, Vec<Box<RawValue>>)> {
    let aside = RefCell::new(Vec::new());
    let value = read_shaped(bytes, Shape::Aside { key, into: &aside })?;
    Ok((value, aside.into_inner()))
}

/// `read_answer` of an object of which only the top-level `keys` (sorted)
/// are wanted: the others are skipped as they are read, never built.
pub fn read_answer_keeping(bytes: &[u8], keys: &[String]) -> serde_json::Result<Value> {
    read_shaped(bytes, Shape::Keys(keys))
}

/// `read_answer` of an array of which only the items `keep` says yes to
/// are wanted: each is built, asked and dropped in turn, so the whole
/// array is never held.
pub fn read_answer_where(bytes: &[u8], keep: &dyn Fn(&Value) -> bool) -> serde_json::Result<Value> {
    read_shaped(bytes, Shape::Where(keep))
}

fn read_shaped(bytes: &[u8], shape: Shape) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = de.deserialize_any(AnswerVisitor(shape))?;
    de.end()?;
    Ok(value)
}

/// Where in an answer a value is: what of it to build.
#[derive(Clone, Copy)]
enum Shape<'a> {
    Any,
    /// The whole answer, of which only these keys (sorted) are built.
    Keys(&'a [String]),
    /// The whole answer, the items of the array at `key` set aside as text.
    Aside {
        key: &'a str,
        into: &'a RefCell<Vec<Box<RawValue>>>,
    },
    /// The whole answer, an array of which only some items are kept.
    Where(&'a dyn Fn(&Value) -> bool),
}

struct AnswerVisitor<'a>(Shape<'a>);

impl<'de> serde::de::DeserializeSeed<'de> for AnswerVisitor<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AnswerVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        ValueVisitor.visit_bool(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        ValueVisitor.visit_i64(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        ValueVisitor.visit_u64(v)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        ValueVisitor.visit_f64(v)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        ValueVisitor.visit_str(v)
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        ValueVisitor.visit_string(v)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        ValueVisitor.visit_unit()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        ValueVisitor.visit_none()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let keep = match self.0 {
            Shape::Where(keep) => Some(keep),
            _ => None,
        };
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(AnswerVisitor(Shape::Any))? {
            if keep.is_none_or(|keep| keep(&v)) {
                items.push(v);
            }
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            match self.0 {
                Shape::Keys(keys) if keys.binary_search(&k).is_err() => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Shape::Aside { key, into } if k == key => {
                    // Anything but an array sets nothing aside (as the
                    // reader of the whole would ignore it); given twice,
                    // the last stands, as for any key.
                    let raw = map.next_value::<Box<RawValue>>()?;
                    *into.borrow_mut() = serde_json::from_str(raw.get()).unwrap_or_default();
                }
                _ => {
                    let v = map.next_value_seed(AnswerVisitor(Shape::Any))?;
                    entries.push((k, v));
                }
            }
        }
        // A bulk build; of equal keys (the sort is stable) the last stays.
        Ok(Value::Object(
            entries.into_iter().collect::<Map<String, Value>>(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_as_serde_json_reads_it_last_key_winning() {
        let texts = [
            r#"{"b": [1, -2, 3.5, "x", null, true, {"z": {}, "a": []}], "a": {"k": "v"}, "big": 18446744073709551615}"#,
            r#"{"a": 1, "c": {"x": 1, "x": [2]}, "b": 3, "a": 4}"#,
            r#"[{"é": "ü\u00e9", "\ud83d\ude00": 1}, "tab\tquote\""]"#,
            "  7  ",
        ];
        for text in texts {
            let ours = read_answer(text.as_bytes()).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
        for bad in ["{\"a\": 1} x", "[1,]", "{\"a\" 1}", "\"\\ud800\""] {
            assert_eq!(
                read_answer(bad.as_bytes()).is_ok(),
                serde_json::from_str::<Value>(bad).is_ok(),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_answer_can_set_aside_a_list_keep_some_keys_or_some_items() {
        let text = r#"{"list": [{"id": "1", "big": {"x": [1, 2]}}, {"id": "2"}, 3],
            "other": {"list": [{"big": 1}]}, "id": "top"}"#;
        let (rest, aside) = read_answer_aside(text.as_bytes(), "list").unwrap();
        assert_eq!(
            rest,
            serde_json::json!({"other": {"list": [{"big": 1}]}, "id": "top"})
        );
        let aside: Vec<&str> = aside.iter().map(|r| r.get()).collect();
        assert_eq!(
            aside,
            [
                r#"{"id": "1", "big": {"x": [1, 2]}}"#,
                r#"{"id": "2"}"#,
                "3"
            ]
        );
        let (_, none) = read_answer_aside(br#"{"list": null}"#, "list").unwrap();
        assert!(none.is_empty());
        let keys = ["a".to_string(), "c.d".to_string()];
        let got = read_answer_keeping(br#"{"b": {"x": 1}, "c.d": [1], "a": 2, "e": 3}"#, &keys);
        assert_eq!(got.unwrap(), serde_json::json!({"a": 2, "c.d": [1]}));
        let odd = |v: &Value| v.as_i64().is_some_and(|n| n % 2 == 1);
        let got = read_answer_where(b"[1, 2, 3, {\"a\": 4}]", &odd).unwrap();
        assert_eq!(got, serde_json::json!([1, 3]));
        // A syntax error in what is skipped or set aside is still one.
        let bad = r#"{"list": [{"id": "1", "big": {"x": [1, 2}}]}"#;
        assert!(read_answer_aside(bad.as_bytes(), "list").is_err());
        assert!(read_answer_keeping(br#"{"b": [1,}, "a": 1}"#, &keys).is_err());
    }

    #[test]
    fn same_as_serde_json() {
        let text = r#"{"b": [1, -2, 3.5, "x", null, true, {"z": {}, "a": []}], "a": {"k": "v"}, "big": 18446744073709551615}"#;
        let fast: FastValue = serde_json::from_str(text).unwrap();
        let slow: Value = serde_json::from_str(text).unwrap();
        assert_eq!(fast.0, slow);
    }

    #[test]
    fn duplicate_keys_and_huge_numbers_are_errors() {
        let err = serde_json::from_str::<FastValue>(r#"{"b": 1, "a": {"x": 1, "x": 2}}"#)
            .err()
            .unwrap();
        assert!(err.to_string().contains("\"x\" appears twice"), "{err}");
        // However far apart, after keys out of order.
        let far = r#"{"a": 1, "c": 2, "b": 3, "a": 4}"#;
        assert!(serde_json::from_str::<FastValue>(far).is_err());
        assert!(serde_json::from_str::<FastValue>("[1e400]").is_err());
        assert!(serde_json::from_str::<FastValue>(&"[".repeat(10_000)).is_err());
    }

    /// JSON text of the kind servers send: non-ASCII and escaped keys,
    /// keys given twice, odd spacing, nested to a few levels.
    fn answer_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop::sample::select(vec![
            "\"id\"",
            "\"name\"",
            "\"caf\\u00e9\"",
            "\"café\"",
            "\"日本\"",
            "\"a\\\"b\"",
            "\"\"",
        ]);
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            (-1000i64..1000).prop_map(|n| n.to_string()),
            Just("1.5e3".to_string()),
            Just("18446744073709551615".to_string()),
            Just("\"x\\u0041\\n\"".to_string()),
            Just("\"ü😀\"".to_string()),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6)
                    .prop_map(|v| format!("[{}]", v.join(" ,"))),
                prop::collection::vec((key.clone(), inner), 0..6).prop_map(|v| {
                    let pairs: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("{k} :{v}")).collect();
                    format!("{{ {} }}", pairs.join(",\n"))
                }),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn answers_read_as_serde_json_reads_them(text in answer_text()) {
            let theirs: Value = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(read_answer(text.as_bytes()).unwrap(), theirs.clone());
            // Kept items are those the predicate wants, in order.
            let small = |v: &Value| v.to_string().len() < 20;
            let got = read_answer_where(text.as_bytes(), &small).unwrap();
            let want = match &theirs {
                Value::Array(a) => Value::Array(a.iter().filter(|v| small(v)).cloned().collect()),
                other => other.clone(),
            };
            proptest::prop_assert_eq!(got, want);
            if let Value::Object(all) = &theirs {
                let keys = vec!["café".to_string(), "id".to_string()];
                let got = read_answer_keeping(text.as_bytes(), &keys).unwrap();
                let kept: Map<String, Value> = all
                    .iter()
                    .filter(|(k, _)| keys.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                proptest::prop_assert_eq!(got, Value::Object(kept));
                let (rest, aside) = read_answer_aside(text.as_bytes(), "name").unwrap();
                let mut without = all.clone();
                let set_aside = without.remove("name");
                proptest::prop_assert_eq!(rest, Value::Object(without));
                let items: Vec<Value> = aside
                    .iter()
                    .map(|r| serde_json::from_str(r.get()).unwrap())
                    .collect();
                let want = match set_aside {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                proptest::prop_assert_eq!(items, want);
            }
        }
    }
}
