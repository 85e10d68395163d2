//! Two JSON objects read side by side: what both hold byte for byte is
//! checked as the full read checks it (`strict`) but never built into a
//! tree, so a diff of two snapshots costs what changed, not what they
//! hold. Every function answers `None` where the pair is not simple to
//! read this way (bad syntax, a key twice, text that may hide a secret
//! placeholder): the caller then reads both in full, which also words
//! the error. No part of either text goes unchecked.

use serde_json::{Map, Value};
use similar::DiffOp;

use super::align::keyed_arrays;
use super::scan::{common, span};
use super::strict::{check, members, Members};
use super::value::read as full;
use crate::parallel::{at_once_if, merge_order};

/// Objects nested deeper than this are read in full.
const MAX_DEPTH: usize = 32;

/// Two objects read side by side (`objects`).
#[derive(Debug)]
pub struct Pruned<M = Map<String, Value>> {
    pub a: M,
    pub b: M,
    /// Where both hold an id-keyed array whose items alike on both sides
    /// are reduced to their ids (`align`), as paths of keys, and the
    /// alignment of its ids that the diff turning `b` into `a` uses.
    pub reduced: Vec<(Vec<String>, Vec<DiffOp>)>,
}

/// Two JSON objects without the members whose values are the same bytes
/// on both sides. A member is left out only if it is in both; an object
/// that loses members is never left empty on one side only (an empty
/// object says "nothing here", which is not what the full one says), so
/// such an object is kept whole on both sides.
pub fn objects(a: &str, b: &str) -> Option<Pruned> {
    // The top level in two halves (split at one key), read at once where
    // that is worth a thread.
    let big = a.len().max(b.len()) >= 1 << 16;
    let (ea, eb) = at_once_if(big, || members(a), || members(b));
    let (ea, eb) = (ea?, eb?);
    // Cut where half of the first side's bytes are behind.
    let total: usize = ea.iter().map(|(_, v)| v.len()).sum();
    let mut behind = 0;
    let half = ea.iter().position(|(_, v)| {
        behind += v.len();
        behind * 2 >= total
    });
    let cut = half.and_then(|i| ea.get(i + 1)).map(|(k, _)| k);
    let (ia, ib) = (
        ea.partition_point(|(k, _)| Some(k) < cut),
        eb.partition_point(|(k, _)| Some(k) < cut),
    );
    let (first, second) = at_once_if(
        big,
        || pairs(&ea[..ia], &eb[..ib], 0),
        || pairs(&ea[ia..], &eb[ib..], 0),
    );
    let (mut left, right) = (first?, second?);
    left.a.extend(right.a);
    left.b.extend(right.b);
    left.reduced.extend(right.reduced);
    Some(Pruned {
        a: left.a.into_iter().collect(),
        b: left.b.into_iter().collect(),
        reduced: left.reduced,
    })
}

fn objects_at(a: &str, b: &str, depth: usize) -> Option<Pruned> {
    let (ea, eb) = (members(a)?, members(b)?);
    let (lo, hi) = alike_ends(a, b, &ea, &eb)?;
    let p = pairs(&ea[lo..ea.len() - hi], &eb[lo..eb.len() - hi], depth)?;
    Some(Pruned {
        a: p.a.into_iter().collect(),
        b: p.b.into_iter().collect(),
        reduced: p.reduced,
    })
}

/// How many members two objects' texts begin with, and end with, that
/// are the same bytes at the same place, each checked as `pairs` checks
/// a member both hold alike: these are left out without comparing them
/// one by one (an object that changed in one member is mostly such). Both
/// member lists must be in the order of their texts (sorted as written).
///
/// The bytes both texts begin or end with may stop inside a character
/// (`é` and `è` share their first byte): they are looked at as bytes
/// only, and a member counts only if it ends (or, from the end, starts)
/// inside them, at a structural byte.
fn alike_ends(a: &str, b: &str, ea: &Members, eb: &Members) -> Option<(usize, usize)> {
    let in_text_order =
        |t: &str, e: &Members| e.windows(2).all(|w| span(t, w[0].1).1 < span(t, w[1].1).0);
    if !in_text_order(a, ea) || !in_text_order(b, eb) {
        return Some((0, 0));
    }
    let (ba, bb) = (a.as_bytes(), b.as_bytes());
    let (head, tail) = (common(ba, bb, true), common(ba, bb, false));
    // Only what may be left out is.
    let head = if super::may_leave_out(&ba[..head]) {
        head
    } else {
        0
    };
    let tail = if super::may_leave_out(&ba[ba.len() - tail..]) {
        tail
    } else {
        0
    };
    // A member of the head: its key and value (and the byte after it)
    // lie in the bytes both begin with, at the same place in both.
    let mut lo = 0;
    while lo < ea.len().min(eb.len()) && span(a, ea[lo].1) == span(b, eb[lo].1) {
        if span(a, ea[lo].1).1 >= head {
            break;
        }
        lo += 1;
    }
    // A member of the tail: from the end of the value before it (so its
    // key too) to the end, the bytes both end with, at the same distance
    // from the end in both.
    let from_end = |t: &str, e: &Members, i: usize| {
        let before = if i == 0 { 0 } else { span(t, e[i - 1].1).1 };
        let (start, end) = span(t, e[i].1);
        (t.len() - before, t.len() - start, t.len() - end)
    };
    let mut hi = 0;
    while hi < (ea.len() - lo).min(eb.len() - lo) {
        let (i, j) = (ea.len() - 1 - hi, eb.len() - 1 - hi);
        let at = from_end(a, ea, i);
        if at != from_end(b, eb, j) || at.0 > tail {
            break;
        }
        hi += 1;
    }
    // Alike, but still checked as a full read checks it (a scalar was
    // when `members` found it).
    for (_, raw) in ea[..lo].iter().chain(&ea[ea.len() - hi..]) {
        if raw.starts_with(['{', '[']) {
            check(raw)?;
        }
    }
    Some((lo, hi))
}

type Entries = Vec<(String, Value)>;

/// What is left of two objects' members (each sorted by key).
fn pairs(
    ea: &[(std::borrow::Cow<str>, &str)],
    eb: &[(std::borrow::Cow<str>, &str)],
    depth: usize,
) -> Option<Pruned<Entries>> {
    let mut out = Pruned {
        a: Vec::new(),
        b: Vec::new(),
        reduced: Vec::new(),
    };
    let (mut i, mut j) = (0, 0);
    while i < ea.len() || j < eb.len() {
        match merge_order(ea.get(i).map(|e| &e.0), eb.get(j).map(|e| &e.0)) {
            std::cmp::Ordering::Less => {
                out.a.push((ea[i].0.to_string(), full(ea[i].1)?));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.b.push((eb[j].0.to_string(), full(eb[j].1)?));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (key, ra, rb) = (&ea[i].0, ea[i].1, eb[j].1);
                i += 1;
                j += 1;
                if ra == rb && super::may_leave_out(ra.as_bytes()) {
                    // Both sides hold it as it is; it must still be valid
                    // (a scalar was checked when `members` found it).
                    if ra.starts_with(['{', '[']) {
                        check(ra)?;
                    }
                    continue;
                }
                let (va, vb) = if ra.starts_with('[') && rb.starts_with('[') {
                    match keyed_arrays(ra, rb) {
                        Some((x, y, aligned)) => {
                            out.reduced.push((vec![key.to_string()], aligned));
                            (Value::Array(x), Value::Array(y))
                        }
                        None => both_full(ra, rb)?,
                    }
                } else {
                    let nested = ra.starts_with('{') && rb.starts_with('{') && depth < MAX_DEPTH;
                    match nested.then(|| objects_at(ra, rb, depth + 1)).flatten() {
                        // Equal in content (if not in bytes): nothing to compare.
                        Some(p) if p.a.is_empty() && p.b.is_empty() => continue,
                        Some(p) if !p.a.is_empty() && !p.b.is_empty() => {
                            out.reduced
                                .extend(p.reduced.into_iter().map(|(mut at, ops)| {
                                    at.insert(0, key.to_string());
                                    (at, ops)
                                }));
                            (Value::Object(p.a), Value::Object(p.b))
                        }
                        _ => both_full(ra, rb)?,
                    }
                };
                out.a.push((key.to_string(), va));
                out.b.push((key.to_string(), vb));
            }
        }
    }
    Some(out)
}

/// Two values read in full: large ones (a long array) at once.
fn both_full(a: &str, b: &str) -> Option<(Value, Value)> {
    let big = a.len().min(b.len()) >= 1 << 16;
    let (x, y) = at_once_if(big, || full(a), || full(b));
    Some((x?, y?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::value::FastValue;
    use serde_json::json;

    fn pretty(v: &Value) -> String {
        serde_json::to_string_pretty(v).unwrap_or_default()
    }

    /// A small deterministic generator (xorshift), for the mutation test.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    #[test]
    fn whatever_is_read_side_by_side_is_valid_in_full() {
        // Two snapshots' configs, one byte changed at random in either or both:
        // where the side-by-side read answers, both texts are what the full
        // read takes (valid JSON, no key twice), and it says what that says.
        let doc = json!({
            "list": [{"id": "a", "v": 1, "o": {"k": [true, null]}}, {"id": "b", "v": "x"}, {"id": "c", "v": -2.5}],
            "s1": {"k1": "v1", "k2": {"x": [1, 2, {"y": "z"}]}, "k3": 3},
            "s2": {"k": "v", "n": {"m": {}}, "e": []},
            "x": "plain",
        });
        let base = pretty(&doc);
        let bytes: &[u8] = b" \t\n\x0c\x01\"\\,:{}[]0-.eEtrunlfx1";
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut answered, mut tried) = (0, 0);
        for _ in 0..5_000 {
            let mut t = base.clone().into_bytes();
            let at = rng.below(t.len());
            match rng.below(3) {
                0 => t[at] = bytes[rng.below(bytes.len())],
                1 => t.insert(at, bytes[rng.below(bytes.len())]),
                _ => {
                    t.remove(at);
                }
            }
            let Ok(changed) = String::from_utf8(t) else {
                continue;
            };
            tried += 1;
            // The change on one side, or on both (then another change on
            // one side only, so that there is something to compare).
            let other = changed.replace("plain", "other");
            let (a, b) = match rng.below(3) {
                0 => (base.as_str(), changed.as_str()),
                1 => (changed.as_str(), base.as_str()),
                _ => (changed.as_str(), other.as_str()),
            };
            let full = |t: &str| serde_json::from_str::<FastValue>(t).map(|v| v.0);
            // No answer: the caller reads both in full (and words the error).
            if let Some(p) = objects(a, b) {
                answered += 1;
                let (fa, fb) = (full(a), full(b));
                assert!(
                    fa.is_ok() && fb.is_ok(),
                    "read side by side, invalid in full:\n{changed}"
                );
                // What is left differs if and only if the full texts do.
                let (fa, fb) = (fa.unwrap_or_default(), fb.unwrap_or_default());
                assert_eq!(p.a == p.b, fa == fb, "{changed}");
            }
        }
        assert!(
            tried > 4_000 && answered > 500,
            "{tried} tried, {answered} answered"
        );
    }

    #[test]
    fn values_that_differ_inside_a_character_are_compared_not_cut() {
        // Pairs of characters that share their first bytes or their last.
        let pairs = [
            ("Café Zürich", "Cafè Zöln"),
            ("日本", "明日"),
            ("🙂", "🙃"),
            ("é", "©"),
            ("x é", "x ©"),
            ("ü", "ü"),
        ];
        for (x, y) in pairs {
            for (before, after) in [("", ""), ("a", ""), ("", "z"), ("a\u{5d0}", "\u{5d1}z")] {
                let (vx, vy) = (format!("{before}{x}{after}"), format!("{before}{y}{after}"));
                let doc = |v: &str| {
                    pretty(&json!({"a": 1, "emailConfig": {"companyName": v, "k": "日本"}, "z": v}))
                };
                let (a, b) = (doc(&vx), doc(&vy));
                let p = objects(&a, &b).expect("simple pair");
                let expected_a = json!({"emailConfig": {"companyName": vx}, "z": vx});
                let expected_b = json!({"emailConfig": {"companyName": vy}, "z": vy});
                if vx == vy {
                    assert!(p.a.is_empty() && p.b.is_empty(), "{x} {y}");
                } else {
                    assert_eq!(Value::Object(p.a), expected_a, "{x} {y}");
                    assert_eq!(Value::Object(p.b), expected_b, "{x} {y}");
                }
            }
        }
    }

    #[test]
    fn members_both_hold_alike_are_left_out() {
        let a = pretty(&json!({"s1": {"k": 1, "j": 2}, "s2": {"k": 1}, "only_a": [1], "x": 1}));
        let b = pretty(&json!({"s1": {"k": 1, "j": 3}, "s2": {"k": 1}, "only_b": true, "x": 2}));
        let Pruned { a: ma, b: mb, .. } = objects(&a, &b).expect("simple pair");
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
        let Pruned { a: ma, b: mb, .. } = objects(&a, &b).expect("simple pair");
        assert_eq!(Value::Object(ma), json!({"s": {"k": 1}}));
        assert_eq!(Value::Object(mb), json!({"s": {"k": 1, "extra": 2}}));
        // Equal content in other bytes is left out on both sides.
        let Pruned { a: ma, b: mb, .. } =
            objects(r#"{"s": {"k": 1}}"#, r#"{"s":{"k":1}}"#).expect("simple pair");
        assert!(ma.is_empty() && mb.is_empty());
    }

    #[test]
    fn what_might_hide_a_secret_or_is_invalid_is_not_left_out() {
        let a = r#"{"p": {"password": "${secret:/config/p/password}"}, "e": "\u0024{x}"}"#;
        let Pruned { a: ma, b: mb, .. } = objects(a, a).expect("simple pair");
        assert_eq!(ma.len(), 2);
        assert_eq!(ma, mb);
        // A key twice, even where both sides are alike: the full read says
        // so, however far apart the two are.
        for twice in [
            r#"{"s": {"k": 1, "k": 2}}"#,
            r#"{"s": {"b": 1, "a": 2, "b": 3}}"#,
            r#"{"s": {"a": 1, "c": 2, "b": 3, "a": 4}}"#,
            r#"{"s": {"x": {"a": 1, "c": 2, "b": 3, "a": 4}}, "t": 1}"#,
        ] {
            assert!(objects(twice, twice).is_none(), "{twice}");
            let other = twice.replace('}', ", \"zz\": 0}");
            assert!(objects(twice, &other).is_none(), "{twice}");
        }
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
        let Pruned { a: ma, b: mb, .. } = objects(&ta, &tb).expect("simple pair");
        assert_eq!(ma.get("l"), a.get("l"));
        assert_eq!(mb.get("l"), b.get("l"));
        assert!(!ma.contains_key("k"), "alike: left out");
        // Invalid on one side: no short answer.
        let broken = tb.replacen("\"v\": 2", "\"v\": 2,", 1);
        assert!(objects(&ta, &broken).is_none());
    }

    #[test]
    fn members_at_the_alike_ends_of_two_objects_are_left_out_only_if_whole() {
        // The bytes alike run into a value that goes on on one side only.
        let a = r#"{"s": {"a": 1, "k": 12, "z": "x"}}"#;
        let b = r#"{"s": {"a": 1, "k": 123, "z": "x"}}"#;
        let p = objects(a, b).expect("simple pair");
        assert_eq!(Value::Object(p.a), json!({"s": {"k": 12}}));
        assert_eq!(Value::Object(p.b), json!({"s": {"k": 123}}));
        // And from the end: a value that begins on one side only.
        let a = r#"{"s": {"a": 1, "k": 2, "z": "x"}}"#;
        let b = r#"{"s": {"a": 1, "k": 32, "z": "x"}}"#;
        let p = objects(a, b).expect("simple pair");
        assert_eq!(Value::Object(p.a), json!({"s": {"k": 2}}));
        assert_eq!(Value::Object(p.b), json!({"s": {"k": 32}}));
        // A member moved, a key renamed at either end.
        let a = r#"{"s": {"a": 1, "b": 2, "m": 0}}"#;
        let b = r#"{"s": {"a": 1, "c": 2, "m": 0}}"#;
        let p = objects(a, b).expect("simple pair");
        assert_eq!(Value::Object(p.a), json!({"s": {"b": 2}}));
        assert_eq!(Value::Object(p.b), json!({"s": {"c": 2}}));
        // Alike ends are still checked, and may not hide a placeholder.
        let twice = r#"{"s": {"a": {"q": 1, "q": 1}, "k": 1}}"#;
        assert!(objects(twice, &twice.replace("\"k\": 1", "\"k\": 2")).is_none());
        let secret = r#"{"s": {"a": "${secret:/x}", "k": 1}}"#;
        let p = objects(secret, &secret.replace("\"k\": 1", "\"k\": 2")).expect("pair");
        assert_eq!(
            Value::Object(p.a),
            json!({"s": {"a": "${secret:/x}", "k": 1}})
        );
    }

    #[test]
    fn a_value_too_deep_for_the_full_read_is_not_read_side_by_side() {
        let deep = |n: usize, leaf: u8| {
            let (open, close) = ("[".repeat(n), "]".repeat(n));
            format!(r#"{{"k": {open}{leaf}{close}, "s": {{"x": {open}1{close}}}}}"#)
        };
        let full = |t: &str| serde_json::from_str::<FastValue>(t).is_ok();
        // Within the limits: read side by side, and valid in full.
        assert!(objects(&deep(40, 1), &deep(40, 2)).is_some() && full(&deep(40, 1)));
        // Too deep for serde: no answer here, so the full read refuses it.
        assert!(!full(&deep(200, 1)));
        assert!(objects(&deep(200, 1), &deep(200, 2)).is_none());
        assert!(objects(&deep(200, 1), &deep(200, 1)).is_none());
    }

    #[test]
    fn reduced_arrays_are_found_under_their_keys() {
        let a = pretty(&json!({"s": {"l": [{"id": "x", "v": 1}, {"id": "y"}]}}));
        let b = pretty(&json!({"s": {"l": [{"id": "x", "v": 1}]}}));
        let p = objects(&a, &b).expect("simple pair");
        assert_eq!(p.reduced.len(), 1);
        assert_eq!(p.reduced[0].0, ["s", "l"]);
        assert_eq!(Value::Object(p.a), json!({"s": {"l": ["x", {"id": "y"}]}}));
    }
}
