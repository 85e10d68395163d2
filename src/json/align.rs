//! Id-keyed arrays read side by side: the items of two arrays whose
//! items are all objects with a unique string `id` are aligned by their
//! ids (as the diff aligns them), and an item both hold alike where
//! aligned is kept as its id alone.

use std::time::{Duration, Instant};

use serde_json::Value;
use similar::{Algorithm, DiffOp};

use super::scan::{nested, next_mark, skip_ws, string_close, string_end};
use super::strict::check_all;
use super::value::read as full;
use crate::parallel::at_once_if;

/// Two id-keyed arrays with each item both hold byte for byte where the
/// alignment of their ids pairs them reduced to its id, a string, on
/// both sides, and that alignment (as the diff turning `b` into `a`
/// aligns them: `diff::Reduced`). `None` for any other pair of arrays,
/// which is then read in full. Every item is checked as the full read
/// checks it: each reduced pair once (its bytes are the same on both
/// sides), every other item as it is read.
pub fn keyed_arrays(a: &str, b: &str) -> Option<(Vec<Value>, Vec<Value>, Vec<DiffOp>)> {
    // A placeholder (in an id, say) is reconciled before the diff: the
    // ids aligned here would not be the ones the diff sees.
    if a.contains("${secret:") || b.contains("${secret:") {
        return None;
    }
    let (ka, kb) = (keyed_items(a)?, keyed_items(b)?);
    let (na, nb) = numbered(&ka.ids, &kb.ids)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let ops = similar::capture_diff_slices_deadline(Algorithm::Myers, &nb, &na, Some(deadline));
    let (mut va, mut vb) = (Vec::with_capacity(ka.len()), Vec::with_capacity(kb.len()));
    let mut alike = Vec::with_capacity(ka.len());
    for op in &ops {
        let (old, new) = (op.old_range(), op.new_range());
        if let DiffOp::Equal { len, .. } = *op {
            for k in 0..len {
                let (x, y) = (ka.items[new.start + k], kb.items[old.start + k]);
                if x == y && super::may_leave_out(x.as_bytes()) {
                    alike.push(x);
                    va.push(Value::String(ka.ids[new.start + k].to_string()));
                    vb.push(Value::String(kb.ids[old.start + k].to_string()));
                } else {
                    va.push(full(x)?);
                    vb.push(full(y)?);
                }
            }
            continue;
        }
        for x in &ka.items[new] {
            va.push(full(x)?);
        }
        for y in &kb.items[old] {
            vb.push(full(y)?);
        }
    }
    let (first, second) = alike.split_at(alike.len() / 2);
    let checks = at_once_if(
        alike.len() >= 1024,
        || check_all(first),
        || check_all(second),
    );
    checks.0.and(checks.1)?;
    Some((va, vb, ops))
}

/// The items of an id-keyed array, as texts, and their ids.
struct Keyed<'a> {
    items: Vec<&'a str>,
    ids: Vec<&'a str>,
}

impl Keyed<'_> {
    fn len(&self) -> usize {
        self.items.len()
    }
}

/// The items of the array `text` and the `id` of each: `None` unless
/// every item is an object whose first `id` member is a string without
/// escapes (`numbered` finds an id given twice). What lies between the
/// items is checked here; inside one, only the nesting is followed: each
/// item is then checked or read on its own.
fn keyed_items(text: &str) -> Option<Keyed<'_>> {
    let b = text.as_bytes();
    let ws = |at: usize| skip_ws(b, at);
    let mut out = Keyed {
        items: Vec::new(),
        ids: Vec::new(),
    };
    let mut at = ws(0);
    if b.get(at) != Some(&b'[') {
        return None;
    }
    at = ws(at + 1);
    if b.get(at) == Some(&b']') {
        return (ws(at + 1) == b.len()).then_some(out);
    }
    loop {
        if b.get(at) != Some(&b'{') {
            return None;
        }
        let (start, mut depth, mut id) = (at, 0usize, None);
        loop {
            at = next_mark(b, at)?;
            match *b.get(at)? {
                b'"' => {
                    let from = at + 1;
                    at = string_close(b, from)?;
                    if depth == 1 && id.is_none() && b.get(from..at) == Some(b"id") {
                        let colon = ws(at + 1);
                        if b.get(colon) == Some(&b':') {
                            let v = ws(colon + 1);
                            if b.get(v) != Some(&b'"') {
                                return None;
                            }
                            let plain;
                            (at, plain) = string_end(b, v + 1)?;
                            if !plain {
                                return None;
                            }
                            id = Some(text.get(v + 1..at)?);
                        }
                    }
                }
                c @ (b'{' | b'[' | b'}' | b']') => {
                    depth = nested(depth, c)?;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            at += 1;
        }
        out.items.push(text.get(start..=at)?);
        out.ids.push(id?);
        at = ws(at + 1);
        match b.get(at)? {
            b',' => at = ws(at + 1),
            b']' => break,
            _ => return None,
        }
    }
    (ws(at + 1) == b.len()).then_some(out)
}

/// The ids of two keyed arrays as numbers, one per distinct id, so that
/// aligning them compares numbers, not strings; `None` if one side gives
/// an id twice.
fn numbered(a: &[&str], b: &[&str]) -> Option<(Vec<u32>, Vec<u32>)> {
    let mut number = std::collections::HashMap::with_capacity_and_hasher(
        a.len() + b.len() / 8,
        foldhash::fast::RandomState::default(),
    );
    let mut na = Vec::with_capacity(a.len());
    for id in a {
        let n = u32::try_from(number.len()).ok()?;
        if number.insert(*id, n).is_some() {
            return None;
        }
        na.push(n);
    }
    // Which numbers `b` has given: an id of `a` once, one of its own once.
    let mut given = vec![false; number.len()];
    let mut nb = Vec::with_capacity(b.len());
    for id in b {
        let next = u32::try_from(number.len()).ok()?;
        let n = *number.entry(*id).or_insert(next);
        let at = usize::try_from(n).ok()?;
        if at == given.len() {
            given.push(false);
        }
        if std::mem::replace(given.get_mut(at)?, true) {
            return None;
        }
        nb.push(n);
    }
    Some((na, nb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pretty(v: &Value) -> String {
        serde_json::to_string_pretty(v).unwrap_or_default()
    }

    #[test]
    fn keyed_arrays_keep_only_the_ids_of_items_alike_where_aligned() {
        let a = pretty(&json!([{"id": "x", "v": 1}, {"id": "y", "v": 2}, {"id": "n", "v": 0}]));
        let b = pretty(&json!([{"id": "x", "v": 1}, {"id": "y", "v": 3}, {"id": "z", "v": 4}]));
        let (va, vb, ops) = keyed_arrays(&a, &b).expect("keyed pair");
        assert_eq!(
            Value::Array(va),
            json!(["x", {"id": "y", "v": 2}, {"id": "n", "v": 0}])
        );
        assert_eq!(
            Value::Array(vb),
            json!(["x", {"id": "y", "v": 3}, {"id": "z", "v": 4}])
        );
        // Aligned as the diff from `b` to `a` aligns them: `z` out, `n` in.
        assert_eq!(ops.iter().map(|op| op.old_range().len()).sum::<usize>(), 3);
        assert!(matches!(
            ops[0],
            DiffOp::Equal {
                old_index: 0,
                new_index: 0,
                len: 2
            }
        ));
        // Alike but moved: not paired, so held whole on both sides.
        let a = r#"[{"id": "p"}, {"id": "q"}]"#;
        let b = r#"[{"id": "q"}, {"id": "p"}]"#;
        let (va, vb, _) = keyed_arrays(a, b).expect("keyed pair");
        assert_eq!(va.iter().filter(|v| v.is_string()).count(), 1);
        assert_eq!(vb.iter().filter(|v| v.is_string()).count(), 1);
        assert!(va.iter().chain(&vb).any(Value::is_object));
    }

    #[test]
    fn ids_are_numbered_alike_on_both_sides_and_once_on_each() {
        assert_eq!(
            numbered(&["x", "y", "z"], &["z", "w", "x", "v"]),
            Some((vec![0, 1, 2], vec![2, 3, 0, 4]))
        );
        assert_eq!(numbered(&[], &[]), Some((vec![], vec![])));
        assert_eq!(numbered(&["x", "x"], &[]), None);
        assert_eq!(numbered(&["x"], &["x", "x"]), None);
        assert_eq!(numbered(&["x"], &["w", "w"]), None);
    }

    #[test]
    fn arrays_not_simply_keyed_are_read_in_full() {
        let full = |a: &str, b: &str| keyed_arrays(a, b).is_none();
        // Not objects, a number id, an id with an escape, no id, one id twice.
        assert!(full("[1, 2]", "[1, 3]"));
        assert!(full(r#"[{"id": 1}]"#, r#"[{"id": 2}]"#));
        assert!(full(r#"[{"id": "a\"b"}]"#, r#"[{"id": "c"}]"#));
        assert!(full(r#"[{"k": "a"}]"#, r#"[{"id": "c"}]"#));
        assert!(full(r#"[{"id": "a"}, {"id": "a"}]"#, r#"[{"id": "c"}]"#));
        assert!(full(r#"[{"id": "a"}]"#, r#"[{"id": "a"}, {"id": "a"}]"#));
        assert!(full(r#"[{"id": "a"}]"#, r#"[{"id": "c"}, {"id": "c"}]"#));
        // A placeholder anywhere: reconciled before the diff.
        assert!(full(
            r#"[{"id": "a", "p": "${secret:/x}"}]"#,
            r#"[{"id": "a"}]"#
        ));
        // An item alike on both sides is still checked: a key twice in it,
        // near or after keys out of order.
        for twice in [
            r#"{"id": "a", "k": 1, "k": 1}"#,
            r#"{"id": "a", "k": 1, "c": 1, "b": 1, "k": 1}"#,
            r#"{"id": "a", "id": "a"}"#,
        ] {
            assert!(full(
                &format!("[{twice}, {{\"id\": \"b\"}}]"),
                &format!("[{twice}]")
            ));
        }
        // Both empty, or only white space apart: keyed, and nothing to reduce.
        let (va, vb, _) = keyed_arrays("[ ]", "[]").expect("keyed pair");
        assert!(va.is_empty() && vb.is_empty());
    }

    #[test]
    fn ids_in_any_script_are_aligned() {
        let a = r#"[{"id": "café", "v": 1}, {"id": "日本", "v": 2}, {"id": "🙂", "v": 3}]"#;
        let b = r#"[{"id": "café", "v": 1}, {"id": "日本", "v": 9}, {"id": "🙃", "v": 3}]"#;
        let (va, vb, _) = keyed_arrays(a, b).expect("keyed pair");
        assert_eq!(va[0], json!("café"));
        assert_eq!(vb[1], json!({"id": "日本", "v": 9}));
        assert_eq!(va[2], json!({"id": "🙂", "v": 3}));
    }
}
