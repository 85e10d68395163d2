//! What a review report shows, whatever its format (Markdown, HTML): the
//! headline counts, the config changes by key, each changed action with
//! its field changes, and the notes. Built from a diff, or from a plan
//! file (whose guards carry the values the patch replaces). Every value is
//! masked here: the renderers never see a secret.

use serde_json::Value;

use super::render::{show_value, Summary};
use super::{Notes, Op, OpKind};
use crate::model;
use crate::pointer;
use crate::words::plural;

/// One changed value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    /// What it is called in its section: a dotted config key, an action field.
    pub label: String,
    pub pointer: String,
    pub kind: OpKind,
    /// Display forms (compact JSON, secrets `***`); `None` where absent.
    pub old: Option<String>,
    pub new: Option<String>,
    /// What `*** → ***` cannot show: "secret changed".
    pub note: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionKind {
    Create,
    Update,
    Delete,
}

impl ActionKind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Update => "update",
            ActionKind::Delete => "delete",
        }
    }

    pub(crate) fn sign(self) -> &'static str {
        match self {
            ActionKind::Create => "+",
            ActionKind::Update => "~",
            ActionKind::Delete => "-",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActionChanges {
    pub name: String,
    pub kind: ActionKind,
    pub changes: Vec<Change>,
}

/// Where a plan came from, for `show PLAN`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlanFacts {
    pub target_url: String,
    pub target_org: i64,
    pub made_at: Option<String>,
    pub guards: usize,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub(crate) source: String,
    pub(crate) target: String,
    pub(crate) summary: Summary,
    pub(crate) config: Vec<Change>,
    pub(crate) actions: Vec<ActionChanges>,
    /// Notes, one sentence each.
    pub(crate) notes: Vec<String>,
    /// Actions only on the target that apply keeps without `--prune`.
    pub(crate) kept: usize,
    pub(crate) plan: Option<PlanFacts>,
}

impl View {
    pub fn of(ops: &[Op], notes: &Notes, source: &str, target: &str) -> View {
        let mut config = Vec::new();
        let mut actions: Vec<ActionChanges> = Vec::new();
        let mut unchecked = 0;
        for op in ops.iter().filter(|o| o.kind != OpKind::Test) {
            match op.path.first().map(String::as_str) {
                Some("config") => config.push(change(op, op.pointer())),
                Some("actions") if op.path.len() >= 2 => {
                    let name = &op.path[1];
                    let kind = match (op.path.len(), op.kind) {
                        (2, OpKind::Add) => ActionKind::Create,
                        (2, OpKind::Remove) => ActionKind::Delete,
                        _ => ActionKind::Update,
                    };
                    if op.path.get(2).map(String::as_str) == Some(model::ASSOCIATION_MAP)
                        && op.path.get(3).map(String::as_str) == Some("VISUALIZATION")
                        && op.kind != OpKind::Remove
                    {
                        unchecked += 1;
                    }
                    let changes = match kind {
                        ActionKind::Update => {
                            vec![change(op, dotted(&op.path[2..]))]
                        }
                        // A created action, field by field; a deleted one as it was.
                        ActionKind::Create => leaves(&op.path, op.value.as_ref(), false),
                        ActionKind::Delete => leaves(&op.path, op.old.as_ref(), true),
                    };
                    match actions.iter_mut().find(|a| &a.name == name) {
                        Some(a) => a.changes.extend(changes),
                        None => actions.push(ActionChanges {
                            name: name.clone(),
                            kind,
                            changes,
                        }),
                    }
                }
                _ => {}
            }
        }
        let mut lines = notes.protected_lines();
        lines.extend(notes.lines());
        if unchecked > 0 {
            lines.push(format!(
                "{} not checked: a visualization's id cannot be looked up on the target",
                plural(
                    unchecked,
                    "VISUALIZATION association",
                    "VISUALIZATION associations"
                )
            ));
        }
        View {
            source: source.into(),
            target: target.into(),
            summary: Summary::of(ops),
            config,
            actions,
            notes: lines,
            kept: notes.kept.len(),
            plan: None,
        }
    }

    /// Adds the notes on secrets the source has no value for (of the
    /// `unresolved` placeholders): one per secret of an action `ops`
    /// change (apply leaves the target's own), and how many others were
    /// not compared at all (a report without changes says so too).
    pub(crate) fn with_unresolved(mut self, unresolved: &[String], ops: &[Op]) -> View {
        let matter = secrets_that_matter(unresolved, ops);
        for p in &matter {
            self.notes.push(format!(
                "{p}: secret placeholder without a value; apply keeps the target's value"
            ));
        }
        let uncompared = unresolved.len().saturating_sub(matter.len());
        if uncompared > 0 {
            self.notes.push(format!(
                "{} not compared: the source holds no value for {} (snapshots never hold secret values)",
                plural(uncompared, "secret was", "secrets were"),
                crate::words::agree(uncompared, "it", "them")
            ));
        }
        self
    }

    /// The headline: what changes, counted, and what only `--prune` would delete.
    pub fn headline(&self) -> String {
        let s = &self.summary;
        let kept = match self.kept {
            0 => None,
            1 => Some("1 action only on the target (kept; --prune deletes it)".to_string()),
            n => Some(format!(
                "{n} actions only on the target (kept; --prune deletes them)"
            )),
        };
        if s.is_empty() {
            return match kept {
                None => "No differences.".into(),
                Some(k) => format!("Nothing for apply to write: {k}."),
            };
        }
        let keys = if s.config_keys == 1 {
            "config key"
        } else {
            "config keys"
        };
        let mut line = format!(
            "{} {keys} to change; actions: {} to create, {} to update, {} to delete",
            s.config_keys,
            s.create.len(),
            s.update.len(),
            s.delete.len()
        );
        if let Some(k) = kept {
            line.push_str("; ");
            line.push_str(&k);
        }
        line
    }
}

/// The unresolved secret placeholders that matter: those of actions the
/// ops change (a config secret is never written from a placeholder).
pub(crate) fn secrets_that_matter(unresolved: &[String], ops: &[Op]) -> Vec<String> {
    let touched = ops
        .iter()
        .filter(|o| o.path.len() >= 2 && o.path[0] == "actions")
        .map(|o| o.path[1].as_str())
        .collect();
    crate::secrets::of_actions(unresolved, &touched)
        .into_iter()
        .cloned()
        .collect()
}

/// The ops of a plan's patch (masked values), each with the value its
/// guard says it replaces.
pub(crate) fn plan_ops(patch: &[Value]) -> Vec<Op> {
    let mut out = Vec::new();
    let mut guard: Option<(&str, &Value)> = None;
    for op in patch {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        let segs = pointer::split(path).unwrap_or_default();
        let value = op.get("value");
        let kind = match kind {
            "test" => {
                guard = value.map(|v| (path, v));
                continue;
            }
            "add" => OpKind::Add,
            "remove" => OpKind::Remove,
            _ => OpKind::Replace,
        };
        let old = guard.filter(|(p, _)| *p == path).map(|(_, v)| v.clone());
        guard = None;
        out.push(Op {
            kind,
            path: segs,
            value: value.cloned(),
            old,
        });
    }
    out
}

/// A field path for people: `detail.link`, `list[3].enabled`.
pub(crate) fn dotted(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) && !out.is_empty() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

fn change(op: &Op, label: String) -> Change {
    Change {
        label,
        pointer: op.pointer(),
        kind: op.kind,
        old: op.old.as_ref().map(|v| show_value(&op.path, v)),
        new: op.value.as_ref().map(|v| show_value(&op.path, v)),
        note: (op.kind == OpKind::Replace && secret_changes(op)).then_some("secret changed"),
    }
}

/// Whether `op` replaces a secret (on either side): both show as `***`.
pub(crate) fn secret_changes(op: &Op) -> bool {
    [op.old.as_ref(), op.value.as_ref()]
        .into_iter()
        .flatten()
        .any(|v| crate::secrets::is_secret(&op.path, v))
}

/// The leaves of a whole action (objects walked through), as changes from
/// nothing (a create) or to nothing (a delete).
fn leaves(base: &[String], value: Option<&Value>, removed: bool) -> Vec<Change> {
    let mut out = Vec::new();
    let Some(value) = value else { return out };
    fn walk(path: &mut Vec<String>, v: &Value, removed: bool, out: &mut Vec<Change>) {
        match v {
            Value::Object(m) if !m.is_empty() && !crate::secrets::is_secret(path, v) => {
                for (k, child) in m {
                    path.push(k.clone());
                    walk(path, child, removed, out);
                    path.pop();
                }
            }
            _ => {
                let shown = Some(show_value(path, v));
                out.push(Change {
                    label: dotted(&path[2..]),
                    pointer: pointer::join(path),
                    kind: if removed { OpKind::Remove } else { OpKind::Add },
                    old: if removed { shown.clone() } else { None },
                    new: if removed { None } else { shown },
                    note: None,
                });
            }
        }
    }
    walk(&mut base.to_vec(), value, removed, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plan_view_matches_the_diff_view() {
        let target = json!({"config": {"a": 1, "s": {"bindPassword": "x1"}}, "actions": {"A": {"name": "A", "type": "URL"}}});
        let source = json!({"config": {"a": 2, "s": {"bindPassword": "x2"}}, "actions": {"B": {"name": "B", "type": "URL"}}});
        let ops = crate::diff::diff(&target, &source);
        let plan =
            crate::plan::build(&ops, "s", "t", &target, None, &Default::default(), &[]).unwrap();
        let from_diff = View::of(&ops, &Notes::default(), "s", "t");
        let from_plan = plan.view();
        assert_eq!(from_plan.config, from_diff.config);
        assert_eq!(from_plan.actions, from_diff.actions);
        assert_eq!(from_plan.plan.as_ref().unwrap().guards, 3);
        let secret = from_diff
            .config
            .iter()
            .find(|c| c.label == "/config/s/bindPassword")
            .unwrap();
        assert_eq!(
            (secret.old.as_deref(), secret.new.as_deref()),
            (Some("***"), Some("***"))
        );
    }
}
