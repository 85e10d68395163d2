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
//!
//! Each part of a text is checked once: `members` reads one level of an
//! object strictly (keys, scalars, what lies between them), and every
//! object or array it finds is either checked (`check`, where both sides
//! hold it alike, once for both), read in full, or read the same way one
//! level down. No part goes unchecked.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, Instant};

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use similar::{Algorithm, DiffOp};

use crate::jsonvalue::FastValue;

/// Objects nested deeper than this are read in full.
const MAX_DEPTH: usize = 32;

/// A value nested deeper than this inside one member or item is not
/// followed here: it is read in full, where serde's own limit applies.
const MAX_NESTING: usize = 64;

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

/// Two objects read side by side (`objects`).
#[derive(Debug)]
pub struct Pruned<M = Map<String, Value>> {
    pub a: M,
    pub b: M,
    /// Where both hold an id-keyed array whose items alike on both sides
    /// are reduced to their ids (`keyed_arrays`), as paths of keys, and
    /// the alignment of its ids that the diff turning `b` into `a` uses.
    pub reduced: Vec<(Vec<String>, Vec<DiffOp>)>,
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

/// `at_once` if `worth_it`, else one after the other on this thread.
fn at_once_if<A: Send, B>(
    worth_it: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B,
) -> (A, B) {
    match worth_it {
        true => at_once(a, b),
        false => (a(), b()),
    }
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
fn alike_ends(a: &str, b: &str, ea: &Members, eb: &Members) -> Option<(usize, usize)> {
    let in_text_order =
        |t: &str, e: &Members| e.windows(2).all(|w| span(t, w[0].1).1 < span(t, w[1].1).0);
    if !in_text_order(a, ea) || !in_text_order(b, eb) {
        return Some((0, 0));
    }
    let (ba, bb) = (a.as_bytes(), b.as_bytes());
    let (head, tail) = (common(ba, bb, true), common(ba, bb, false));
    // Only what may be left out (`prunable`) is.
    let head = if prunable(&a[..head]) { head } else { 0 };
    let tail = if prunable(&a[a.len() - tail..]) {
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

/// Where `raw`, a part of `text`, lies in it (start and end).
fn span(text: &str, raw: &str) -> (usize, usize) {
    let start = raw.as_ptr() as usize - text.as_ptr() as usize;
    (start, start + raw.len())
}

/// How many bytes two texts begin with alike (`forward`) or end with.
fn common(a: &[u8], b: &[u8], forward: bool) -> usize {
    const CHUNK: usize = 32;
    let n = a.len().min(b.len());
    let at = |t: &[u8], i: usize, len: usize| match forward {
        true => i..i + len,
        false => t.len() - i - len..t.len() - i,
    };
    let mut i = 0;
    while i + CHUNK <= n && a[at(a, i, CHUNK)] == b[at(b, i, CHUNK)] {
        i += CHUNK;
    }
    while i < n && a[at(a, i, 1)] == b[at(b, i, 1)] {
        i += 1;
    }
    i
}

type Members<'a> = [(Cow<'a, str>, &'a str)];
type Entries = Vec<(String, Value)>;

/// What is left of two objects' members (each sorted by key).
fn pairs(ea: &Members, eb: &Members, depth: usize) -> Option<Pruned<Entries>> {
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
                if ra == rb && prunable(ra) {
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
                        None => both_full(ea[i - 1].1, eb[j - 1].1)?,
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
                        _ => both_full(ea[i - 1].1, eb[j - 1].1)?,
                    }
                };
                out.a.push((key.to_string(), va));
                out.b.push((key.to_string(), vb));
            }
        }
    }
    Some(out)
}

/// Whether a value's text may be left out when both sides hold it. Not if
/// it could hold a secret placeholder: those are counted and reported on
/// every side that has them, and an escape (`\u0024{`) could spell one.
fn prunable(text: &str) -> bool {
    !text.contains("${secret:") && !text.contains("\\u")
}

/// Two id-keyed arrays (every item an object with a unique string `id`)
/// with each item both hold byte for byte where the alignment of their
/// ids pairs them reduced to its id, a string, on both sides, and that
/// alignment (as the diff turning `b` into `a` aligns them:
/// `diff::Reduced`). `None` for any other pair of arrays, which is then
/// read in full. Every item is checked as the full read checks it: each
/// reduced pair once (its bytes are the same on both sides), every other
/// item as it is read.
fn keyed_arrays(a: &str, b: &str) -> Option<(Vec<Value>, Vec<Value>, Vec<DiffOp>)> {
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
                if x == y && prunable(x) {
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

fn check_all(texts: &[&str]) -> Option<()> {
    texts.iter().try_for_each(|t| check(t))
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

/// Where the string whose text starts at `from` ends (its closing
/// quote), and whether it is plain: no escape, no control character.
fn string_end(b: &[u8], from: usize) -> Option<(usize, bool)> {
    string_scan(b, from, true)
}

/// `string_end` where only the end matters (control characters are not
/// looked for).
fn string_close(b: &[u8], from: usize) -> Option<usize> {
    string_scan(b, from, false).map(|(end, _)| end)
}

#[inline(always)]
fn string_scan(b: &[u8], mut from: usize, controls: bool) -> Option<(usize, bool)> {
    let mut plain = true;
    loop {
        from = find(b, from, |w| {
            let marks = zero_bytes(w ^ repeat(b'"')) | zero_bytes(w ^ repeat(b'\\'));
            if controls {
                marks | below(w, 0x20)
            } else {
                marks
            }
        })?;
        match *b.get(from)? {
            b'"' => return Some((from, plain)),
            b'\\' => from += 2,
            _ => from += 1,
        }
        plain = false;
    }
}

/// The depth of a nesting after the bracket `c`; `None` past
/// `MAX_NESTING`, or for a bracket that closes what was not opened.
fn nested(depth: usize, c: u8) -> Option<usize> {
    match c {
        b'{' | b'[' => Some(depth + 1).filter(|d| *d <= MAX_NESTING),
        _ => depth.checked_sub(1),
    }
}

/// The next quote or bracket at or after `at`, or one of a few bytes that
/// share a bracket's pattern (`Y`, `_`, `y`, DEL: looked at and passed).
fn next_mark(b: &[u8], at: usize) -> Option<usize> {
    // `{`, `}`, `[` and `]` are 0x59 once the bits 0x20, 0x04, 0x02 are cleared.
    find(b, at, |w| {
        zero_bytes(w ^ repeat(b'"')) | zero_bytes((w & repeat(0xD9)) ^ repeat(0x59))
    })
}

/// The first byte at or after `at` that `flags` marks, looked for eight
/// at a time: `flags` marks a byte of a word by its high bit (where the
/// lowest mark is always right; above it, one may be wrong).
fn find(b: &[u8], mut at: usize, flags: impl Fn(u64) -> u64) -> Option<usize> {
    while let Some(word) = b.get(at..at + 8) {
        let mut w = [0; 8];
        w.copy_from_slice(word);
        let marks = flags(u64::from_le_bytes(w));
        if marks != 0 {
            return Some(at + (marks.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    // The last few bytes, each as a word of its own.
    while let Some(&c) = b.get(at) {
        if flags(u64::from(c)) & 0x80 != 0 {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// `byte` in each of a word's eight bytes.
const fn repeat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The zero bytes of `w`, marked by their high bits.
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(repeat(1)) & !w & repeat(0x80)
}

/// The bytes of `w` below `n` (at most 0x80), marked by their high bits.
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(repeat(n)) & !w & repeat(0x80)
}

/// Two values read in full: large ones (a long array) at once.
fn both_full(a: &str, b: &str) -> Option<(Value, Value)> {
    let big = a.len().min(b.len()) >= 1 << 16;
    let (x, y) = at_once_if(big, || full(a), || full(b));
    Some((x?, y?))
}

/// A value read in full.
fn full(text: &str) -> Option<Value> {
    serde_json::from_str::<FastValue>(text).ok().map(|v| v.0)
}

/// The members of the object `text`, sorted by key; `None` if it is not
/// one object, gives a key twice, or is not valid JSON as far as it is
/// read here. Only one level is read, but strictly: the keys, what lies
/// between the members and every value that is not an object or array
/// are checked as the full read checks them. A nested object or array is
/// only followed (its brackets counted, at most `MAX_NESTING` deep): who
/// takes it checks it or reads it in full (`pairs` does).
fn members(text: &str) -> Option<Vec<(Cow<'_, str>, &str)>> {
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
    sorted_unique(out)
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

/// Members sorted by key (as written, they mostly are already); `None`
/// if a key is given twice.
fn sorted_unique<V>(mut out: Vec<(Cow<'_, str>, V)>) -> Option<Vec<(Cow<'_, str>, V)>> {
    if !out.windows(2).all(|w| w[0].0 < w[1].0) {
        out.sort_by(|x, y| x.0.cmp(&y.0));
        if out.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
    }
    Some(out)
}

/// The first byte at or after `at` that is not JSON white space.
fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while b
        .get(at)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        at += 1;
    }
    at
}

/// Where the value that starts at `at` ends (one past its last byte),
/// following only its nesting (checked by whoever takes it); `None` past
/// `MAX_NESTING`.
fn value_end(b: &[u8], mut at: usize) -> Option<usize> {
    match *b.get(at)? {
        b'"' => string_close(b, at + 1).map(|end| end + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                at = next_mark(b, at)?;
                match *b.get(at)? {
                    b'"' => at = string_close(b, at + 1)?,
                    c @ (b'{' | b'[' | b'}' | b']') => {
                        depth = nested(depth, c)?;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
        }
        // A number, `true`, `false` or `null`.
        _ => {
            let rest = b.get(at..)?;
            let len = rest
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                .unwrap_or(rest.len());
            (len > 0).then_some(at + len)
        }
    }
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

    /// One level of an object as serde reads it (sorted, keys decoded).
    fn serde_members(text: &str) -> Vec<(String, String)> {
        let map: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_str(text).expect("valid");
        map.into_iter()
            .map(|(k, v)| (k, v.get().to_string()))
            .collect()
    }

    fn owned(m: Option<Vec<(Cow<'_, str>, &str)>>) -> Option<Vec<(String, String)>> {
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
        let deep = format!(
            r#"{{"a": {}{}}}"#,
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        );
        assert_eq!(owned(members(&deep)), None);
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
    fn word_at_a_time_search_finds_what_a_byte_loop_finds() {
        let string_end_bytewise = |b: &[u8], mut from: usize| {
            let mut plain = true;
            while let Some(&c) = b.get(from) {
                match c {
                    b'"' => return Some((from, plain)),
                    b'\\' => from += 2,
                    _ => {
                        from += 1;
                        if c >= 0x20 {
                            continue;
                        }
                    }
                }
                plain = false;
            }
            None
        };
        let next_mark_bytewise = |b: &[u8], at: usize| {
            let rest = b.get(at..)?;
            let i = rest.iter().position(|&c| c == b'"' || c & 0xD9 == 0x59)?;
            Some(at + i)
        };
        let alphabet = b"\"\\{}[]Yy_\x7f\x00\x01\x1f ~a\xc3\xa9\xff\x80";
        let mut rng = Rng(7);
        for _ in 0..20_000 {
            let len = rng.below(40);
            let t: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            let from = rng.below(len + 2);
            let end = string_end_bytewise(&t, from);
            assert_eq!(string_end(&t, from), end, "{t:?} {from}");
            assert_eq!(
                string_close(&t, from),
                end.map(|(at, _)| at),
                "{t:?} {from}"
            );
            assert_eq!(
                next_mark(&t, from),
                next_mark_bytewise(&t, from),
                "{t:?} {from}"
            );
        }
        // Deep, but not too deep; and where a value closes, however far.
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes();
        let at_limit = deep(MAX_NESTING);
        assert_eq!(value_end(&at_limit, 0), Some(at_limit.len()));
        assert_eq!(value_end(&deep(MAX_NESTING + 1), 0), None);
        let long = format!("{{\"k\": \"{}\\\"}}\"}} tail", "x".repeat(1000)).into_bytes();
        assert_eq!(value_end(&long, 0), Some(long.len() - 5));
        assert_eq!(value_end(b"-1.5e3, 2", 0), Some(6));
        assert_eq!(value_end(b"\"a\\\"b\"}", 0), Some(6));
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
        // An item alike on both sides is still checked: a key twice in it.
        let twice = r#"{"id": "a", "k": 1, "k": 1}"#;
        assert!(full(
            &format!("[{twice}, {{\"id\": \"b\"}}]"),
            &format!("[{twice}]")
        ));
        let twice_id = r#"{"id": "a", "id": "a"}"#;
        assert!(full(
            &format!("[{twice_id}, {{\"id\": \"b\"}}]"),
            &format!("[{twice_id}]")
        ));
        // Both empty, or only white space apart: keyed, and nothing to reduce.
        let (va, vb, _) = keyed_arrays("[ ]", "[]").expect("keyed pair");
        assert!(va.is_empty() && vb.is_empty());
        // Through `objects`: where the reduced array is, under its keys.
        let a = pretty(&json!({"s": {"l": [{"id": "x", "v": 1}, {"id": "y"}]}}));
        let b = pretty(&json!({"s": {"l": [{"id": "x", "v": 1}]}}));
        let p = objects(&a, &b).expect("simple pair");
        assert_eq!(p.reduced.len(), 1);
        assert_eq!(p.reduced[0].0, ["s", "l"]);
        assert_eq!(Value::Object(p.a), json!({"s": {"l": ["x", {"id": "y"}]}}));
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
