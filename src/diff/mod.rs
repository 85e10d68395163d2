//! Structural diff of two canonical documents into RFC 6902 operations.
//! Minimal by construction: objects member by member; arrays of objects
//! with unique ids matched by id (Myers on the id sequence, then recursion
//! into matched pairs); other arrays by an LCS over their items. Indices in
//! emitted paths refer to the array as already patched, so the ops apply in
//! order with any conforming implementation.

pub mod html;
pub mod markdown;
pub mod render;
pub mod view;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use similar::{Algorithm, DiffOp};

use crate::pointer;
use crate::secrets;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
    Test,
}

impl OpKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::Replace => "replace",
            OpKind::Test => "test",
        }
    }
}

/// Differences that are not ops because apply cannot or will not make
/// them; shown as notes, never counted by `--exit-code`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Notes {
    /// Config keys only the target has: the API cannot remove them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unremovable: Vec<String>,
    /// Config keys that differ where the API cannot write them
    /// (`model::unwritable_config_key`): apply, plan and validate refuse.
    #[serde(
        default,
        rename = "unwritable_config_keys",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unwritable: Vec<String>,
    /// Actions only the target has, kept without `--prune`.
    #[serde(
        default,
        rename = "kept_without_prune",
        alias = "kept",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub kept: Vec<String>,
    /// Actions selected only in part (`--only`) that exist on one side:
    /// neither created nor deleted.
    #[serde(
        default,
        rename = "partly_selected",
        alias = "partial",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub partial: Vec<String>,
    /// Both sides are Orgs of one cluster: the config is the cluster's,
    /// so it is neither compared nor written.
    #[serde(
        default,
        rename = "config_shared_by_orgs",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub shared_config: bool,
    /// One side speaks REST v2, whose config shows only overridden keys:
    /// what was compared of the config, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_scope: Option<String>,
    /// Changes under protected settings (identity providers, mail,
    /// sessions; `[migrate] protected`): apply refuses them without
    /// `--allow-protected` or an `--only` that names them.
    #[serde(
        default,
        rename = "protected_changes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub protected: Vec<String>,
    /// Fields the cluster keeps its own way (`model::SERVER_OWNED_ACTION_FIELDS`)
    /// that differ: "pointer: source value, here value"; not compared.
    #[serde(
        default,
        rename = "server_owned_differences",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub server_owned: Vec<String>,
}

impl Notes {
    pub(crate) fn is_empty(&self) -> bool {
        self.unremovable.is_empty()
            && self.unwritable.is_empty()
            && self.kept.is_empty()
            && self.partial.is_empty()
            && !self.shared_config
            && self.config_scope.is_none()
            && self.server_owned.is_empty()
    }

    /// One line per protected change, for every output that shows notes.
    pub(crate) fn protected_lines(&self) -> Vec<String> {
        self.protected
            .iter()
            .map(|p| format!("{p}: a protected setting (it should not travel between environments); apply writes it only with --allow-protected"))
            .collect()
    }

    /// One line each, for text outputs (what apply leaves as it is).
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.shared_config {
            out.push("config: the config is the cluster's, shared by its Orgs; it is neither compared nor written for this Org".to_string());
        } else if let Some(scope) = &self.config_scope {
            out.push(scope.clone());
        }
        for p in &self.unremovable {
            out.push(format!(
                "{p}: only the target has this config key; the API cannot remove it, so it stays"
            ));
        }
        for p in &self.unwritable {
            out.push(unwritable_line(p));
        }

        for d in &self.server_owned {
            out.push(format!(
                "{d}: the cluster's own field, not compared (a create sends the source's)"
            ));
        }
        for name in &self.kept {
            out.push(format!(
                "{name:?}: only on the target; kept (--prune deletes it)"
            ));
        }
        for name in &self.partial {
            out.push(format!("{name:?}: only on one side and only part of it is selected (--only); neither created nor deleted"));
        }
        out
    }
}

/// Why the config key at the pointer `p` (`/config/...`) cannot be written.
pub fn unwritable_why(p: &str) -> String {
    pointer::split(p)
        .and_then(|segs| crate::model::unwritable_config_key(segs.get(1..).unwrap_or_default()))
        .unwrap_or_else(|| "cannot be written through the admin API".into())
}

/// The note of a config key at `p` that differs and cannot be written:
/// why, and what lets an apply go ahead.
fn unwritable_line(p: &str) -> String {
    format!(
        "{p}: {}; apply refuses while it differs (leave it out with --ignore {p}, or make it alike on the source)",
        unwritable_why(p)
    )
}

/// One operation, with the value it replaces kept for rendering and guards.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub kind: OpKind,
    pub path: Vec<String>,
    /// The new value (add, replace, test).
    pub value: Option<Value>,
    /// The value before (replace, remove).
    pub old: Option<Value>,
}

impl Op {
    pub fn pointer(&self) -> String {
        pointer::join(&self.path)
    }

    /// The RFC 6902 form; secret values are replaced by placeholders.
    pub(crate) fn to_json_masked(&self) -> Value {
        let mut m = Map::new();
        m.insert("op".into(), json!(self.kind.name()));
        m.insert("path".into(), json!(self.pointer()));
        if let Some(v) = &self.value {
            m.insert("value".into(), secrets::redact_at(&self.path, v));
        }
        Value::Object(m)
    }
}

/// The ops that turn `target` into `source`.
/// A path segment borrowed from the documents while diffing; owned
/// strings are made only for the ops emitted.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn owned(path: &[Seg]) -> Vec<String> {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => (*k).to_string(),
            Seg::Index(i) => i.to_string(),
        })
        .collect()
}

pub fn diff(target: &Value, source: &Value) -> Vec<Op> {
    diff_reduced(target, source, &Reduced::default())
}

/// Where two documents hold an id-keyed array whose items alike on both
/// sides are reduced to their ids (a string in place of each), with the
/// alignment of the two arrays' ids (target to source) that said they
/// are alike: `json::pair::objects` on a snapshot pair read side by side.
/// The diff uses that alignment, so a reduced item is only ever paired
/// with its reduced twin (nothing to emit) and never carried by an op;
/// the plan's guard of an insert next to one tests the id it holds.
#[derive(Debug, Clone, Default)]
pub struct Reduced(Vec<(Vec<String>, Vec<DiffOp>)>);

impl Reduced {
    pub(crate) fn at(arrays: Vec<(Vec<String>, Vec<DiffOp>)>) -> Reduced {
        Reduced(arrays)
    }

    /// Whether the array at `path` is a reduced one.
    pub(crate) fn holds(&self, path: &[String]) -> bool {
        self.0.iter().any(|(at, _)| at == path)
    }

    /// The alignment of the reduced arrays `old` and `new` at `path`, if
    /// they are (still) what it aligned: every id it pairs the same on
    /// both sides, every item it does not pair whole.
    fn alignment(&self, path: &[Seg], old: &[Value], new: &[Value]) -> Option<&[DiffOp]> {
        let (_, ops) = self.0.iter().find(|(at, _)| {
            at.len() == path.len()
                && at
                    .iter()
                    .zip(path)
                    .all(|(a, p)| matches!(p, Seg::Key(k) if k == a))
        })?;
        let (mut i, mut j) = (0, 0);
        for op in ops {
            let (o, n) = (op.old_range(), op.new_range());
            if o.start != i || n.start != j || o.end > old.len() || n.end > new.len() {
                return None;
            }
            let (o, n) = (&old[o], &new[n]);
            let fits = match op {
                DiffOp::Equal { .. } => o
                    .iter()
                    .zip(n)
                    .all(|(x, y)| reduced_id(x).is_some_and(|id| reduced_id(y) == Some(id))),
                _ => o.iter().chain(n).all(Value::is_object),
            };
            if !fits {
                return None;
            }
            (i, j) = (i + o.len(), j + n.len());
        }
        (i == old.len() && j == new.len()).then_some(ops.as_slice())
    }
}

/// The id of an item of a reduced array: the string standing for it, or
/// the `id` of an item held whole.
fn reduced_id(item: &Value) -> Option<&str> {
    match item {
        Value::String(id) => Some(id),
        Value::Object(m) => m.get("id")?.as_str(),
        _ => None,
    }
}

/// `diff`, where `reduced` says which arrays are reduced.
pub fn diff_reduced(target: &Value, source: &Value, reduced: &Reduced) -> Vec<Op> {
    let cx = Cx {
        deadline: Instant::now() + Duration::from_secs(10),
        reduced,
    };
    let cx = &cx;
    // Split the work at the second level (config sections, actions by
    // name) into jobs listed in the order a sequential walk emits them,
    // run them on every core, and concatenate the results in that order.
    let mut jobs = Vec::new();
    plan_jobs(&mut Vec::new(), target, source, 2, &mut jobs);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads == 1 || jobs.len() < 64 {
        let mut out = Vec::new();
        for job in &jobs {
            job.run(&mut out, cx);
        }
        return out;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<Op>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        let mut ops = Vec::new();
                        job.run(&mut ops, cx);
                        if !ops.is_empty() {
                            mine.push((i, ops));
                        }
                    }
                    mine
                })
            })
            .collect();
        // A worker only panics on a bug; its jobs' ops would be missing,
        // so the panic is passed on rather than returning a short patch.
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().flat_map(|(_, ops)| ops).collect()
}

/// What every step of one diff knows.
struct Cx<'r> {
    deadline: Instant,
    reduced: &'r Reduced,
}

/// A piece of a diff that can run on its own.
enum Job<'a> {
    Diff(Vec<Seg<'a>>, &'a Value, &'a Value),
    Remove(Vec<Seg<'a>>, &'a Value),
    Add(Vec<Seg<'a>>, &'a Value),
}

impl Job<'_> {
    fn run(&self, out: &mut Vec<Op>, cx: &Cx) {
        match self {
            Job::Diff(path, old, new) => diff_value(&mut path.clone(), old, new, out, cx),
            Job::Remove(path, old) => out.push(Op {
                kind: OpKind::Remove,
                path: owned(path),
                value: None,
                old: Some((*old).clone()),
            }),
            Job::Add(path, new) => out.push(Op {
                kind: OpKind::Add,
                path: owned(path),
                value: Some((*new).clone()),
                old: None,
            }),
        }
    }
}

/// The jobs of `diff_value(path, old, new)`, in its emission order, split
/// `depth` levels down through objects present on both sides.
fn plan_jobs<'a>(
    path: &mut Vec<Seg<'a>>,
    old: &'a Value,
    new: &'a Value,
    depth: usize,
    jobs: &mut Vec<Job<'a>>,
) {
    let (Value::Object(o), Value::Object(n), true) = (old, new, depth > 0) else {
        jobs.push(Job::Diff(path.clone(), old, new));
        return;
    };
    if holds_secret(path, old, new) {
        jobs.push(Job::Diff(path.clone(), old, new));
        return;
    }
    for (k, ov) in o {
        path.push(Seg::Key(k));
        match n.get(k) {
            Some(nv) => plan_jobs(path, ov, nv, depth - 1, jobs),
            None => jobs.push(Job::Remove(path.clone(), ov)),
        }
        path.pop();
    }
    for (k, nv) in n {
        if !o.contains_key(k) {
            path.push(Seg::Key(k));
            jobs.push(Job::Add(path.clone(), nv));
            path.pop();
        }
    }
}

fn diff_value<'a>(
    path: &mut Vec<Seg<'a>>,
    old: &'a Value,
    new: &'a Value,
    out: &mut Vec<Op>,
    cx: &Cx,
) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) if !holds_secret(path, old, new) => {
            diff_objects(path, o, n, out, cx)
        }
        (Value::Array(o), Value::Array(n)) if !holds_secret(path, old, new) => {
            diff_arrays(path, o, n, out, cx)
        }
        _ => {
            if old != new {
                out.push(Op {
                    kind: OpKind::Replace,
                    path: owned(path),
                    value: Some(new.clone()),
                    old: Some(old.clone()),
                });
            }
        }
    }
}

/// Whether either side holds a secret at `path`. A secret changes whole:
/// an op inside one would carry a piece of it that no placeholder names.
/// The walk from the top stops at the first secret, so only the last key
/// needs looking at.
fn holds_secret(path: &[Seg], old: &Value, new: &Value) -> bool {
    match path.last() {
        Some(Seg::Key(k)) if secrets::key_may_name_secret(k) => {
            let owned = owned(path);
            secrets::is_secret(&owned, old) || secrets::is_secret(&owned, new)
        }
        _ => false,
    }
}

fn diff_objects<'a>(
    path: &mut Vec<Seg<'a>>,
    old: &'a Map<String, Value>,
    new: &'a Map<String, Value>,
    out: &mut Vec<Op>,
    cx: &Cx,
) {
    for (k, ov) in old {
        path.push(Seg::Key(k));
        match new.get(k) {
            Some(nv) => diff_value(path, ov, nv, out, cx),
            None => out.push(Op {
                kind: OpKind::Remove,
                path: owned(path),
                value: None,
                old: Some(ov.clone()),
            }),
        }
        path.pop();
    }
    for (k, nv) in new {
        if !old.contains_key(k) {
            path.push(Seg::Key(k));
            out.push(Op {
                kind: OpKind::Add,
                path: owned(path),
                value: Some(nv.clone()),
                old: None,
            });
            path.pop();
        }
    }
}

/// The ids of an array whose items are all objects with a unique scalar
/// `"id"`, as comparable keys; `None` for any other array.
pub(crate) fn keyed_ids(items: &[Value]) -> Option<Vec<ItemId<'_>>> {
    let mut ids = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        let id = match item.as_object()?.get("id")? {
            Value::String(s) => ItemId::Str(s),
            Value::Number(n) => ItemId::Num(n.to_string()),
            _ => return None,
        };
        if !seen.insert(id.clone()) {
            return None;
        }
        ids.push(id);
    }
    Some(ids)
}

/// The `id` of an item of an id-keyed array.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ItemId<'a> {
    Str(&'a str),
    Num(String),
}

fn diff_arrays<'a>(
    path: &mut Vec<Seg<'a>>,
    old: &'a [Value],
    new: &'a [Value],
    out: &mut Vec<Op>,
    cx: &Cx,
) {
    if old == new {
        return;
    }
    let deadline = Some(cx.deadline);
    let (ops, keyed) = if let Some(ops) = cx.reduced.alignment(path, old, new) {
        (ops.to_vec(), true)
    } else if let (Some(o), Some(n)) = (keyed_ids(old), keyed_ids(new)) {
        let ops = similar::capture_diff_slices_deadline(Algorithm::Myers, &o, &n, deadline);
        (ops, true)
    } else {
        let (o, n) = intern(old, new);
        let ops = similar::capture_diff_slices_deadline(Algorithm::Myers, &o, &n, deadline);
        (ops, false)
    };
    let mut cur = 0usize;
    for op in ops {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                if keyed {
                    // Same ids: the items may still differ inside.
                    for i in 0..len {
                        path.push(Seg::Index(cur + i));
                        diff_value(path, &old[old_index + i], &new[new_index + i], out, cx);
                        path.pop();
                    }
                }
                cur += len;
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                remove_run(path, &old[old_index..old_index + old_len], cur, out);
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                add_run(path, &new[new_index..new_index + new_len], &mut cur, out);
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let paired = if keyed { 0 } else { old_len.min(new_len) };
                for i in 0..paired {
                    path.push(Seg::Index(cur));
                    diff_value(path, &old[old_index + i], &new[new_index + i], out, cx);
                    path.pop();
                    cur += 1;
                }
                remove_run(
                    path,
                    &old[old_index + paired..old_index + old_len],
                    cur,
                    out,
                );
                add_run(
                    path,
                    &new[new_index + paired..new_index + new_len],
                    &mut cur,
                    out,
                );
            }
        }
    }
}

fn remove_run(path: &mut Vec<Seg>, items: &[Value], at: usize, out: &mut Vec<Op>) {
    for item in items {
        path.push(Seg::Index(at));
        out.push(Op {
            kind: OpKind::Remove,
            path: owned(path),
            value: None,
            old: Some(item.clone()),
        });
        path.pop();
    }
}

fn add_run(path: &mut Vec<Seg>, items: &[Value], cur: &mut usize, out: &mut Vec<Op>) {
    for item in items {
        path.push(Seg::Index(*cur));
        out.push(Op {
            kind: OpKind::Add,
            path: owned(path),
            value: Some(item.clone()),
            old: None,
        });
        path.pop();
        *cur += 1;
    }
}

/// Numbers standing for items: equal items get equal numbers.
fn intern(old: &[Value], new: &[Value]) -> (Vec<u32>, Vec<u32>) {
    let mut table: HashMap<String, u32> = HashMap::new();
    let mut id_of = |v: &Value| {
        let key = v.to_string();
        let next = table.len() as u32;
        *table.entry(key).or_insert(next)
    };
    let o = old.iter().map(&mut id_of).collect();
    let n = new.iter().map(&mut id_of).collect();
    (o, n)
}

/// The RFC 6902 array of `ops` with real values: for in-process use
/// (tests, fuzzing), never for output.
pub fn patch_json_unmasked(ops: &[Op]) -> Value {
    let ops = ops.iter().map(|o| {
        let mut m = Map::new();
        m.insert("op".into(), json!(o.kind.name()));
        m.insert("path".into(), json!(o.pointer()));
        if let Some(v) = &o.value {
            m.insert("value".into(), v.clone());
        }
        Value::Object(m)
    });
    Value::Array(ops.collect())
}

/// The RFC 6902 array of `ops`, secrets masked.
pub fn patch_json(ops: &[Op]) -> Value {
    Value::Array(ops.iter().map(Op::to_json_masked).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(target: Value, source: Value) -> Vec<Op> {
        let ops = diff(&target, &source);
        let patch: json_patch::Patch = serde_json::from_value(patch_json_unmasked(&ops)).unwrap();
        let mut doc = target.clone();
        json_patch::patch(&mut doc, &patch).unwrap();
        assert_eq!(doc, source);
        ops
    }

    #[test]
    fn a_reduced_array_is_diffed_by_its_alignment_only_where_it_fits() {
        let at = vec!["l".to_string()];
        let aligned = vec![
            DiffOp::Equal {
                old_index: 0,
                new_index: 0,
                len: 1,
            },
            DiffOp::Insert {
                old_index: 1,
                new_index: 1,
                new_len: 1,
            },
        ];
        let reduced = Reduced::at(vec![(at.clone(), aligned)]);
        let target = json!({"l": ["a"]});
        let source = json!({"l": ["a", {"id": "b"}]});
        let ops = diff_reduced(&target, &source, &reduced);
        assert_eq!(
            patch_json_unmasked(&ops),
            json!([{"op": "add", "path": "/l/1", "value": {"id": "b"}}])
        );
        // Arrays that are not what it aligned (another length, another id
        // where it pairs two, a reduced item where it inserts): not used.
        let r = |old: Value, new: Value| {
            let (Value::Array(o), Value::Array(n)) = (old, new) else {
                unreachable!("arrays")
            };
            reduced.alignment(&[Seg::Key("l")], &o, &n).is_some()
        };
        assert!(r(json!(["a"]), json!(["a", {"id": "b"}])));
        assert!(!r(json!(["a", "x"]), json!(["a", {"id": "b"}])));
        assert!(!r(json!(["c"]), json!(["a", {"id": "b"}])));
        assert!(!r(json!(["a"]), json!(["a", "b"])));
        assert!(!reduced.holds(&["m".to_string()]) && reduced.holds(&at));
    }

    #[test]
    fn objects_and_scalars() {
        let ops = check(
            json!({"a": 1, "b": {"c": true}, "d": "x"}),
            json!({"a": 2, "b": {"c": true, "e": null}, "f": 1}),
        );
        assert_eq!(ops.len(), 4);
    }

    #[test]
    fn keyed_array_one_field_is_one_op() {
        let old: Vec<Value> = (0..10_000)
            .map(|i| json!({"id": format!("i{i}"), "v": i}))
            .collect();
        let mut new = old.clone();
        new[5000]["v"] = json!(-1);
        let ops = check(Value::Array(old.clone()), Value::Array(new));
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].pointer(), "/5000/v");
        let mut ins = old.clone();
        ins.insert(3, json!({"id": "new", "v": 0}));
        let ops = check(Value::Array(old), Value::Array(ins));
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].kind, OpKind::Add);
    }

    #[test]
    fn keyed_inserts_removes_and_changes_mixed() {
        let old = json!([{"id": 1, "x": 1}, {"id": 2, "x": 2}, {"id": 3, "x": 3}, {"id": 4}]);
        let new =
            json!([{"id": 0}, {"id": 2, "x": 20}, {"id": 5}, {"id": 3, "x": 3}, {"id": 4, "y": 1}]);
        let ops = check(old, new);
        assert_eq!(ops.len(), 5, "{ops:#?}");
    }

    #[test]
    fn scalar_arrays_and_unkeyed_objects() {
        check(
            json!(["a", "b", "c", "d"]),
            json!(["a", "c", "x", "d", "e"]),
        );
        let ops = check(
            json!([{"n": 1}, {"n": 2}, {"n": 3}]),
            json!([{"n": 1}, {"n": 9}, {"n": 3}]),
        );
        assert_eq!(ops.len(), 1);
        check(json!([1, 2]), json!([]));
        check(json!([]), json!([{"id": 1}]));
        check(json!([{"id": 1}, {"id": 1}]), json!([{"id": 1, "a": 2}]));
    }

    #[test]
    fn special_keys_are_escaped() {
        let ops = check(json!({"a/b": {"~x": 1}, "é": 1}), json!({"a/b": {"~x": 2}}));
        assert_eq!(ops[0].pointer(), "/a~1b/~0x");
    }

    #[test]
    fn a_secret_changes_whole_and_its_op_carries_a_placeholder() {
        let target = json!({"config": {"oidc": {"clientSecret": {"value": "old-val", "n": 1}},
            "sso": {"privateKey": ["k1", "k2"]}, "note": "k3"}});
        let source = json!({"config": {"oidc": {"clientSecret": {"value": "new-val", "n": 1}},
            "sso": {"privateKey": ["k1", "k3"]}, "note": "k3"}});
        let ops = check(target, source);
        let pointers: Vec<String> = ops.iter().map(Op::pointer).collect();
        assert_eq!(
            pointers,
            ["/config/oidc/clientSecret", "/config/sso/privateKey"]
        );
        let patch = patch_json(&ops).to_string();
        for leaked in ["new-val", "old-val", "k1"] {
            assert!(!patch.contains(leaked), "{patch}");
        }
        assert!(
            patch.contains("${secret:/config/sso/privateKey}"),
            "{patch}"
        );
    }
}
