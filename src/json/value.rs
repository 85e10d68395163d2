//! The full read: a faster `serde_json::Value` deserializer for our own
//! files. Objects are built from all their entries at once (a bulk build,
//! linear for the sorted keys we write) instead of one B-tree insertion
//! per key; a key given twice is refused by the one rule of `keys`.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
