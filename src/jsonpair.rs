//! Two JSON documents read side by side: what both hold byte for byte is
//! checked as a full read would check it (syntax, no key twice in one
//! object) but never built into a tree. A diff of two snapshots then costs
//! what changed, not what they hold: snapshots are written canonically, so
//! an unchanged config section or action is the same bytes on both sides.
//!
//! Every function answers `None` where the pair is not simple to read this
//! way (bad syntax, a key given twice, text that may hide a secret
//! placeholder): the caller then reads both documents in full, which also
//! words the error.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::jsonvalue::FastValue;

/// Objects nested deeper than this are read in full.
const MAX_DEPTH: usize = 32;

/// Two JSON objects without the members whose values are the same bytes
/// on both sides. A member is left out only if it is in both; an object
/// that loses members is never left empty on one side only (an empty
/// object says "nothing here", which is not what the full one says), so
/// such an object is kept whole on both sides.
pub fn objects(a: &str, b: &str) -> Option<(Map<String, Value>, Map<String, Value>)> {
    // The top level in two halves (split at one key), read at once.
    let (ea, eb) = at_once(|| members(a), || members(b));
    let (ea, eb) = (ea?, eb?);
    let cut = ea.get(ea.len() / 2).map(|(k, _)| k);
    let (ia, ib) = (
        ea.partition_point(|(k, _)| Some(k) < cut),
        eb.partition_point(|(k, _)| Some(k) < cut),
    );
    let (first, second) = at_once(
        || pairs(&ea[..ia], &eb[..ib], 0),
        || pairs(&ea[ia..], &eb[ib..], 0),
    );
    let ((mut ma, mut mb), (sa, sb)) = (first?, second?);
    ma.extend(sa);
    mb.extend(sb);
    Some((ma.into_iter().collect(), mb.into_iter().collect()))
}

/// Runs `a` on a thread of its own and `b` on this one. A panic is a bug:
/// passed on, not turned into a short answer.
pub(crate) fn at_once<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let a = scope.spawn(a);
        let b = b();
        (a.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), b)
    })
}

/// Which of two sorted lists' next items comes first in a merge of them
/// (`Equal`: both, for the same key).
pub(crate) fn merge_order<K: Ord>(a: Option<K>, b: Option<K>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        _ => std::cmp::Ordering::Greater,
    }
}

fn objects_at(a: &str, b: &str, depth: usize) -> Option<(Map<String, Value>, Map<String, Value>)> {
    let (ma, mb) = pairs(&members(a)?, &members(b)?, depth)?;
    Some((ma.into_iter().collect(), mb.into_iter().collect()))
}

type Members<'a> = [(Cow<'a, str>, &'a RawValue)];
type Entries = Vec<(String, Value)>;

/// What is left of two objects' members (each sorted by key).
fn pairs(ea: &Members, eb: &Members, depth: usize) -> Option<(Entries, Entries)> {
    let (mut ma, mut mb) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < ea.len() || j < eb.len() {
        match merge_order(ea.get(i).map(|e| &e.0), eb.get(j).map(|e| &e.0)) {
            std::cmp::Ordering::Less => {
                ma.push((ea[i].0.to_string(), full(ea[i].1)?));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                mb.push((eb[j].0.to_string(), full(eb[j].1)?));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (key, ra, rb) = (&ea[i].0, ea[i].1.get(), eb[j].1.get());
                i += 1;
                j += 1;
                if ra == rb && prunable(ra) {
                    // Both sides hold it as it is; it must still be valid
                    // (a scalar's syntax was checked when it was found).
                    if ra.starts_with(['{', '[']) {
                        check(ra)?;
                    }
                    continue;
                }
                let nested = ra.starts_with('{') && rb.starts_with('{') && depth < MAX_DEPTH;
                let (va, vb) = match nested.then(|| objects_at(ra, rb, depth + 1)).flatten() {
                    // Equal in content (if not in bytes): nothing to compare.
                    Some((sa, sb)) if sa.is_empty() && sb.is_empty() => continue,
                    Some((sa, sb)) if !sa.is_empty() && !sb.is_empty() => {
                        (Value::Object(sa), Value::Object(sb))
                    }
                    _ => both_full(ea[i - 1].1, eb[j - 1].1)?,
                };
                ma.push((key.to_string(), va));
                mb.push((key.to_string(), vb));
            }
        }
    }
    Some((ma, mb))
}

/// Whether a value's text may be left out when both sides hold it. Not if
/// it could hold a secret placeholder: those are counted and reported on
/// every side that has them, and an escape (`\u0024{`) could spell one.
fn prunable(text: &str) -> bool {
    !text.contains("${secret:") && !text.contains("\\u")
}

/// Two values read in full: large ones (a long array) at once.
fn both_full(a: &RawValue, b: &RawValue) -> Option<(Value, Value)> {
    if a.get().len().min(b.get().len()) < 1 << 16 {
        return Some((full(a)?, full(b)?));
    }
    let (x, y) = at_once(|| full(a), || full(b));
    Some((x?, y?))
}

/// A value read in full.
fn full(raw: &RawValue) -> Option<Value> {
    serde_json::from_str::<FastValue>(raw.get())
        .ok()
        .map(|v| v.0)
}

/// The members of the object `text`, sorted by key; `None` if it is not
/// an object or gives a key twice.
fn members(text: &str) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    struct Collect;
    impl<'de> Visitor<'de> for Collect {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((Key(k), v)) = map.next_entry::<Key, &RawValue>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let mut out = de.deserialize_map(Collect).ok()?;
    de.end().ok()?;
    if !out.windows(2).all(|w| w[0].0 < w[1].0) {
        out.sort_by(|x, y| x.0.cmp(&y.0));
        if out.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
    }
    Some(out)
}

/// Checks `text` as the full read would (valid JSON, no key twice in one
/// object) without building it.
fn check(text: &str) -> Option<()> {
    let mut de = serde_json::Deserializer::from_str(text);
    Check.deserialize(&mut de).ok()?;
    de.end().ok()
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
            let mut keys = Keys::default();
            while let Some(Key(k)) = map.next_key::<Key>()? {
                match &*k {
                    "name" => name = Some(map.next_value::<Key>()?.0.into_owned()),
                    "detail" => detail_ok = map.next_value_seed(Check)? == Kind::Object,
                    _ => {
                        map.next_value_seed(Check)?;
                    }
                }
                keys.add(k).map_err(serde::de::Error::custom)?;
            }
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

/// The keys of one object so far: sorted as we write them, so a key
/// given twice shows as one not above the last; only an object out of
/// order is checked the slow way.
#[derive(Default)]
struct Keys<'de> {
    last: Option<Cow<'de, str>>,
    unsorted: Option<std::collections::HashSet<Cow<'de, str>>>,
}

impl<'de> Keys<'de> {
    fn add(&mut self, k: Cow<'de, str>) -> Result<(), &'static str> {
        const TWICE: &str = "a key appears twice in one object";
        if let Some(seen) = &mut self.unsorted {
            return if seen.insert(k) { Ok(()) } else { Err(TWICE) };
        }
        match self.last.take() {
            Some(last) if last >= k => {
                if last == k {
                    return Err(TWICE);
                }
                self.unsorted = Some(std::collections::HashSet::from([last, k]));
                Ok(())
            }
            _ => {
                self.last = Some(k);
                Ok(())
            }
        }
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
        let mut keys = Keys::default();
        while let Some(Key(k)) = map.next_key::<Key>()? {
            map.next_value_seed(Check)?;
            keys.add(k).map_err(serde::de::Error::custom)?;
        }
        Ok(Kind::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pretty(v: &Value) -> String {
        serde_json::to_string_pretty(v).unwrap_or_default()
    }

    #[test]
    fn members_both_hold_alike_are_left_out() {
        let a = pretty(&json!({"s1": {"k": 1, "j": 2}, "s2": {"k": 1}, "only_a": [1], "x": 1}));
        let b = pretty(&json!({"s1": {"k": 1, "j": 3}, "s2": {"k": 1}, "only_b": true, "x": 2}));
        let (ma, mb) = objects(&a, &b).expect("simple pair");
        assert_eq!(
            Value::Object(ma),
            json!({"s1": {"j": 2}, "only_a": [1], "x": 1})
        );
        assert_eq!(
            Value::Object(mb),
            json!({"s1": {"j": 3}, "only_b": true, "x": 2})
        );
    }

    #[test]
    fn an_object_is_never_emptied_on_one_side_only() {
        // `s` keeps `k` on the left only: left out, the left `s` would be
        // `{}`, which would say something else.
        let a = pretty(&json!({"s": {"k": 1}}));
        let b = pretty(&json!({"s": {"k": 1, "extra": 2}}));
        let (ma, mb) = objects(&a, &b).expect("simple pair");
        assert_eq!(Value::Object(ma), json!({"s": {"k": 1}}));
        assert_eq!(Value::Object(mb), json!({"s": {"k": 1, "extra": 2}}));
        // Equal content in other bytes is left out on both sides.
        let (ma, mb) = objects(r#"{"s": {"k": 1}}"#, r#"{"s":{"k":1}}"#).expect("simple pair");
        assert!(ma.is_empty() && mb.is_empty());
    }

    #[test]
    fn what_might_hide_a_secret_or_is_invalid_is_not_left_out() {
        let a = r#"{"p": {"password": "${secret:/config/p/password}"}, "e": "\u0024{x}"}"#;
        let (ma, mb) = objects(a, a).expect("simple pair");
        assert_eq!(ma.len(), 2);
        assert_eq!(ma, mb);
        // A key twice, even where both sides are alike: the full read says so.
        assert!(objects(r#"{"s": {"k": 1, "k": 2}}"#, r#"{"s": {"k": 1, "k": 2}}"#).is_none());
        assert!(objects(
            r#"{"s": {"b": 1, "a": 2, "b": 3}}"#,
            r#"{"s": {"b": 1, "a": 2, "b": 3}}"#
        )
        .is_none());
        assert!(objects(r#"{"s": 1"#, r#"{"s": 1}"#).is_none());
        assert!(objects(r#"[1]"#, r#"[1]"#).is_none());
        assert!(objects(r#"{"s": 1} x"#, r#"{"s": 1}"#).is_none());
    }

    #[test]
    fn long_arrays_that_differ_are_read_in_full_at_once() {
        let list = |last: u64| {
            let mut items: Vec<Value> = (0..5000u64).map(|i| json!({"id": i, "v": "x"})).collect();
            items.push(json!({"id": "last", "v": last}));
            json!({"l": items, "k": 1})
        };
        let (a, b) = (list(1), list(2));
        let (ta, tb) = (pretty(&a), pretty(&b));
        assert!(ta.len() > 1 << 16, "long enough to be read at once");
        let (ma, mb) = objects(&ta, &tb).expect("simple pair");
        assert_eq!(ma.get("l"), a.get("l"));
        assert_eq!(mb.get("l"), b.get("l"));
        assert!(!ma.contains_key("k"), "alike: left out");
        // Invalid on one side: no short answer.
        let broken = tb.replacen("\"v\": 2", "\"v\": 2,", 1);
        assert!(objects(&ta, &broken).is_none());
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
