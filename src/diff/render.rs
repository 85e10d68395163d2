//! Renderings of a diff for people and machines: `text` (grouped, coloured),
//! `json` (a list of changes with counts) and `summary` (a commit message).
//! Secrets are `***` in text and placeholders in json. Config keys are
//! counted as apply writes them: dotted keys, an array whole.

use std::fmt::Write;

use console::Style;
use serde_json::{json, Value};

use super::{Notes, Op, OpKind};
use crate::secrets;

/// The config key an op under `/config` writes: the dotted path down to
/// the first array index (an array is written whole). `None` outside.
pub(crate) fn config_key(path: &[String]) -> Option<String> {
    if path.first().map(String::as_str) != Some("config") || path.len() < 2 {
        return None;
    }
    let end = path[1..]
        .iter()
        .position(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .map_or(path.len(), |i| i + 1);
    Some(path[1..end].join("."))
}

/// "1 key", "2 keys".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a diff means for the target, counted.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Summary {
    pub config_keys: usize,
    pub create: Vec<String>,
    pub update: Vec<String>,
    pub delete: Vec<String>,
}

impl Summary {
    pub(crate) fn of(ops: &[Op]) -> Summary {
        let mut s = Summary::default();
        let mut keys = std::collections::HashSet::new();
        for op in ops {
            match op.path.first().map(String::as_str) {
                Some("config") => {
                    if let Some(k) = config_key(&op.path) {
                        if keys.insert(k) {
                            s.config_keys += 1;
                        }
                    }
                }
                Some("actions") if op.path.len() >= 2 => {
                    let name = op.path[1].clone();
                    let list = match (op.path.len(), op.kind) {
                        (2, OpKind::Add) => &mut s.create,
                        (2, OpKind::Remove) => &mut s.delete,
                        _ => &mut s.update,
                    };
                    if list.last() != Some(&name) && !list.contains(&name) {
                        list.push(name);
                    }
                }
                _ => {}
            }
        }
        s
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.config_keys == 0
            && self.create.is_empty()
            && self.update.is_empty()
            && self.delete.is_empty()
    }

    pub(crate) fn line(&self) -> String {
        if self.is_empty() {
            return "No differences.".into();
        }
        format!(
            "Plan: {} to change; actions: {} to create, {} to update, {} to delete.",
            count(self.config_keys, "config key", "config keys"),
            self.create.len(),
            self.update.len(),
            self.delete.len()
        )
    }
}

pub struct Palette {
    add: Style,
    remove: Style,
    change: Style,
    head: Style,
    dim: Style,
}

impl Palette {
    pub fn new(color: bool) -> Palette {
        let s = |st: Style| {
            if color {
                st.force_styling(true)
            } else {
                Style::new()
            }
        };
        Palette {
            add: s(Style::new().green()),
            remove: s(Style::new().red()),
            change: s(Style::new().yellow()),
            head: s(Style::new().bold()),
            dim: s(Style::new().dim()),
        }
    }
}

/// A value for display: compact JSON, secrets as `***`.
pub(crate) fn show_value(path: &[String], value: &Value) -> String {
    show(path, value)
}

fn show(path: &[String], value: &Value) -> String {
    if secrets::is_secret(path, value) {
        return "***".into();
    }
    let masked = secrets::redact_at(path, value);
    mask_placeholders(&masked).to_string()
}

fn mask_placeholders(v: &Value) -> Value {
    match v {
        Value::String(s) if secrets::placeholder_pointer(s).is_some() => json!("***"),
        Value::Array(a) => Value::Array(a.iter().map(mask_placeholders).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), mask_placeholders(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn dotted(segs: &[String]) -> String {
    segs.join(".")
}

/// The leaves of `value` (found at `base`), objects walked through and
/// anything else (arrays, scalars, empty objects) whole; a secret whole too.
fn leaves<'a>(base: &[String], value: &'a Value) -> Vec<(Vec<String>, &'a Value)> {
    let mut out = Vec::new();
    fn walk<'a>(path: &mut Vec<String>, v: &'a Value, out: &mut Vec<(Vec<String>, &'a Value)>) {
        match v {
            Value::Object(m) if !m.is_empty() && !secrets::is_secret(path, v) => {
                for (k, child) in m {
                    path.push(k.clone());
                    walk(path, child, out);
                    path.pop();
                }
            }
            _ => out.push((path.clone(), v)),
        }
    }
    walk(&mut base.to_vec(), value, &mut out);
    out
}

/// `text`, then the notes (what apply leaves as it is), then the summary.
pub(crate) fn text_with_notes(ops: &[Op], notes: &Notes, p: &Palette) -> String {
    let mut out = body(ops, p);
    if !notes.protected.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.head.apply_to("PROTECTED settings, which should not travel between environments (apply refuses them without --allow-protected)")
        );
        for pointer in &notes.protected {
            let _ = writeln!(out, "  {pointer}");
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.head.apply_to("notes (apply leaves these as they are)")
        );
        for line in notes.lines() {
            let _ = writeln!(out, "  {}", p.dim.apply_to(line));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", Summary::of(ops).line());
    out
}

/// The grouped, human-readable diff, ending with the summary line.
pub fn text(ops: &[Op], p: &Palette) -> String {
    text_with_notes(ops, &Notes::default(), p)
}

fn body(ops: &[Op], p: &Palette) -> String {
    let mut out = String::new();
    let config_ops: Vec<&Op> = ops
        .iter()
        .filter(|o| o.path.first().is_some_and(|s| s == "config"))
        .collect();
    let action_ops: Vec<&Op> = ops
        .iter()
        .filter(|o| o.path.first().is_some_and(|s| s == "actions"))
        .collect();
    if !config_ops.is_empty() {
        let _ = writeln!(out, "{}", p.head.apply_to("config"));
        let mut section: Option<&str> = None;
        for op in config_ops {
            let Some(sec) = op.path.get(1) else { continue };
            if op.path.len() == 2 {
                section = None;
                line(&mut out, p, "  ", op, sec);
                continue;
            }
            if section != Some(sec.as_str()) {
                let _ = writeln!(out, "  {}", p.head.apply_to(sec));
                section = Some(sec.as_str());
            }
            line(&mut out, p, "    ", op, &dotted(&op.path[2..]));
        }
    }
    if !action_ops.is_empty() {
        let _ = writeln!(out, "{}", p.head.apply_to("actions"));
        let mut current: Option<&str> = None;
        for op in action_ops {
            let Some(name) = op.path.get(1) else { continue };
            match (op.path.len(), op.kind) {
                (2, OpKind::Add) => {
                    current = None;
                    let _ = writeln!(out, "  {}", p.add.apply_to(format!("+ {name:?} (create)")));
                    if let Some(value) = &op.value {
                        // One field a line, nested ones dotted, as for updates.
                        for (path, v) in leaves(&op.path, value) {
                            let _ = writeln!(
                                out,
                                "      {}",
                                p.add.apply_to(format!(
                                    "{}: {}",
                                    dotted(&path[2..]),
                                    show(&path, v)
                                ))
                            );
                        }
                    }
                }
                (2, OpKind::Remove) => {
                    current = None;
                    let _ = writeln!(
                        out,
                        "  {}",
                        p.remove.apply_to(format!("- {name:?} (delete)"))
                    );
                }
                _ => {
                    if current != Some(name.as_str()) {
                        let _ = writeln!(
                            out,
                            "  {}",
                            p.change.apply_to(format!("~ {name:?} (update)"))
                        );
                        current = Some(name.as_str());
                    }
                    line(&mut out, p, "      ", op, &dotted(&op.path[2..]));
                }
            }
        }
    }
    out
}

const LONG: usize = 60;

fn line(out: &mut String, p: &Palette, indent: &str, op: &Op, label: &str) {
    match op.kind {
        OpKind::Add => {
            let v = op
                .value
                .as_ref()
                .map(|v| show(&op.path, v))
                .unwrap_or_default();
            let _ = writeln!(out, "{indent}{}", p.add.apply_to(format!("+ {label}: {v}")));
        }
        OpKind::Remove => {
            let v = op
                .old
                .as_ref()
                .map(|v| show(&op.path, v))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{indent}{}",
                p.remove.apply_to(format!("- {label}: {v}"))
            );
        }
        OpKind::Replace => {
            let (old, new) = (op.old.as_ref(), op.value.as_ref());
            let secret = super::view::secret_changes(op);
            if let (Some(Value::String(a)), Some(Value::String(b)), false) = (old, new, secret) {
                if a.len() > LONG || b.len() > LONG || a.contains('\n') || b.contains('\n') {
                    let _ = writeln!(out, "{indent}{}", p.change.apply_to(format!("~ {label}:")));
                    string_diff(out, p, &format!("{indent}    "), a, b);
                    return;
                }
            }
            let a = old.map(|v| show(&op.path, v)).unwrap_or_default();
            let b = new.map(|v| show(&op.path, v)).unwrap_or_default();
            let note = if secret { " (secret changed)" } else { "" };
            let _ = writeln!(
                out,
                "{indent}{}",
                p.change.apply_to(format!("~ {label}: {a} → {b}{note}"))
            );
        }
        OpKind::Test => {}
    }
}

/// A unified diff of two long strings (line by line; one-line strings show
/// as a removed and an added line).
fn string_diff(out: &mut String, p: &Palette, indent: &str, a: &str, b: &str) {
    let diff = similar::TextDiff::from_lines(a, b);
    for hunk in diff.unified_diff().context_radius(2).iter_hunks() {
        let _ = writeln!(out, "{indent}{}", p.dim.apply_to(hunk.header().to_string()));
        for change in hunk.iter_changes() {
            let text = change.value().trim_end_matches('\n');
            let styled = match change.tag() {
                similar::ChangeTag::Delete => p.remove.apply_to(format!("-{text}")),
                similar::ChangeTag::Insert => p.add.apply_to(format!("+{text}")),
                similar::ChangeTag::Equal => p.dim.apply_to(format!(" {text}")),
            };
            let _ = writeln!(out, "{indent}{styled}");
        }
    }
}

/// The machine-readable report (`diff --format json`, watch pushes): the
/// changes (a deletion of an action marked `"prune": true`: made only
/// with `--prune`), their counts, and the notes.
pub fn json_report(ops: &[Op], notes: &Notes, source: &str, target: &str) -> Value {
    let s = Summary::of(ops);
    let changes: Vec<Value> = ops
        .iter()
        .filter(|o| o.kind != OpKind::Test)
        .map(|o| {
            let mut c = json!({
                "pointer": o.pointer(),
                "kind": o.kind.name(),
                "before": o.old.as_ref().map(|v| secrets::redact_at(&o.path, v)),
                "after": o.value.as_ref().map(|v| secrets::redact_at(&o.path, v)),
            });
            if o.kind == OpKind::Remove && o.path.len() == 2 && o.path[0] == "actions" {
                c["prune"] = json!(true);
            }
            c
        })
        .collect();
    json!({
        "format": "tsmigrate-diff",
        "version": 1,
        "source": source,
        "target": target,
        "summary": {
            "changes": changes.len(),
            "config_keys": s.config_keys,
            "actions_create": s.create,
            "actions_update": s.update,
            "actions_delete": s.delete,
        },
        "changes": changes,
        "notes": {
            "unremovable": notes.unremovable,
            "unwritable_config_keys": notes.unwritable,
            "protected_changes": notes.protected,
            "server_owned_differences": notes.server_owned,
            "kept_without_prune": notes.kept,
            "partly_selected": notes.partial,
            "config_shared_by_orgs": notes.shared_config,
            "config_scope": notes.config_scope,
        },
    })
}

/// A value for one line of a summary: compact, secrets masked, cut short.
fn brief(path: &[String], v: &Value) -> String {
    let text = show(path, v);
    if text.chars().count() > LONG {
        let cut: String = text.chars().take(LONG - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// One line per changed config key and action, after a title line: fit
/// for `git commit -F`.
pub fn summary(ops: &[Op]) -> String {
    let s = Summary::of(ops);
    if s.is_empty() {
        return "tsmigrate: no differences\n".into();
    }
    let mut keys: Vec<(String, Vec<&Op>)> = Vec::new();
    for op in ops.iter().filter(|o| o.kind != OpKind::Test) {
        let Some(key) = config_key(&op.path) else {
            continue;
        };
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(op),
            None => keys.push((key, vec![op])),
        }
    }
    let mut lines = Vec::new();
    for (key, list) in &keys {
        let whole = list.len() == 1 && list[0].path.len() == key.split('.').count() + 1;
        let line = match (whole, list[0].kind) {
            (true, OpKind::Replace) => {
                let op = list[0];
                let old = op
                    .old
                    .as_ref()
                    .map(|v| brief(&op.path, v))
                    .unwrap_or_default();
                let new = op
                    .value
                    .as_ref()
                    .map(|v| brief(&op.path, v))
                    .unwrap_or_default();
                format!("config {key}: {old} → {new}")
            }
            (true, OpKind::Add) => {
                let op = list[0];
                format!(
                    "config {key}: set to {}",
                    op.value
                        .as_ref()
                        .map(|v| brief(&op.path, v))
                        .unwrap_or_default()
                )
            }
            (true, _) => format!("config {key}: removed"),
            (false, _) => format!(
                "config {key}: {} changed",
                count(list.len(), "item", "items")
            ),
        };
        lines.push(line);
    }
    for name in &s.create {
        lines.push(format!("action {name:?}: created"));
    }
    for name in &s.update {
        let mut fields: Vec<String> = ops
            .iter()
            .filter(|o| o.path.len() > 2 && o.path[0] == "actions" && &o.path[1] == name)
            .map(|o| o.path[2].clone())
            .collect();
        fields.dedup();
        lines.push(format!("action {name:?}: updated ({})", fields.join(", ")));
    }
    for name in &s.delete {
        lines.push(format!("action {name:?}: deleted"));
    }
    let title = format!(
        "tsmigrate: {}, {} changed",
        count(s.config_keys, "config key", "config keys"),
        count(
            s.create.len() + s.update.len() + s.delete.len(),
            "action",
            "actions"
        )
    );
    format!("{title}\n\n{}\n", lines.join("\n"))
}
