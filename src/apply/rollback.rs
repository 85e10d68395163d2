//! Undoing an apply from its journal. Each object is compared three ways:
//! its live value, the value the apply wrote, the value before. Only what
//! still holds the apply's value is written back; what is already back is
//! left; what someone changed since is left alone and listed (unless
//! `force`). Nothing is trusted from earlier undo runs: every run reads
//! the cluster, so running it twice, or after a crash at any point, is
//! safe.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};
use serde_json::{Map, Value};

use super::changes::{
    association_map, converge, same_without_associations, ActionChange, ActionOp, Call,
    ConfigChange,
};
use super::events::Event;
use super::executor::{self, Progress};
use super::journal::{Entry, Journal, Record};
use crate::api::Cluster;
use crate::document::action_to_api;
use crate::error::Error;
use crate::fetch::{self, LiveDocument};
use crate::model;
use crate::pointer;
use crate::signals::Abort;

/// What an undo did.
#[derive(Debug, Default)]
pub struct UndoOutcome {
    /// Requests sent.
    pub writes: usize,
    /// Objects written back.
    pub reverted: usize,
    /// Values someone changed since the apply: left as they are.
    pub left_alone: Vec<String>,
    /// Writes back that failed.
    pub failures: Vec<String>,
    /// What the check afterwards still found not as before.
    pub remaining: Vec<String>,
    /// Actions the apply created in another Org (served there while the
    /// user's Org was moved), deleted there now.
    pub strays_removed: Vec<String>,
}

impl UndoOutcome {
    /// Every object is as it was before the apply.
    pub fn complete(&self) -> bool {
        self.left_alone.is_empty() && self.failures.is_empty() && self.remaining.is_empty()
    }
}

/// The writes that put the journal's objects back.
#[derive(Debug, Default)]
struct Plan {
    config: Option<ConfigChange>,
    /// (write number, change) per action.
    actions: Vec<(u64, ActionChange)>,
    /// `Event::LeftAlone` each.
    conflicts: Vec<Event>,
    already: usize,
}

/// Undoes `record` on `cluster`; `journal` gets the GUIDs of re-created
/// actions. Reads the cluster before and after.
/// The other Orgs of the cluster, each with a session of its own, where a
/// stray of the journal is looked for; empty: the undo's own session
/// looks (which only a cluster with one Org per user allows, and only
/// there can strays happen during an apply).
pub type OtherOrgs = [(i64, Cluster)];

pub async fn undo(
    cluster: &Cluster,
    journal: Option<&Journal>,
    record: &Record,
    force: bool,
    parallel: usize,
    progress: &dyn Progress,
    others: &OtherOrgs,
) -> Result<UndoOutcome, Error> {
    // The journal reads the stream too, for its informational records.
    let both;
    let progress: &dyn Progress = match journal {
        Some(j) => {
            both = executor::Both(j, progress);
            &both
        }
        None => progress,
    };
    let live = fetch::read_document(cluster).await?;
    let plan = plan(record, &live, force);
    for e in &plan.conflicts {
        progress.event(e);
    }
    let mut out = UndoOutcome {
        left_alone: plan.conflicts.iter().map(Event::to_string).collect(),
        ..UndoOutcome::default()
    };
    let abort = Abort::default();
    progress.begin_undo(
        usize::from(plan.config.is_some())
            + plan
                .actions
                .iter()
                .map(|(_, a)| a.calls.len())
                .sum::<usize>(),
    );
    if let Some(config) = &plan.config {
        out.writes += 1;
        let (call, pointer) = (
            super::events::CallKind::Config,
            super::events::CONFIG_POINTER.to_string(),
        );
        progress.event(&Event::Sent {
            call,
            pointer: pointer.clone(),
        });
        match cluster.update_config(&config.after, Some(&abort)).await {
            Ok(()) => {
                out.reverted += 1;
                progress.event(&Event::Answered {
                    call,
                    pointer: pointer.clone(),
                });
                progress.event(&Event::Undone { seq: None, pointer });
            }
            Err(e) => {
                let message = format!(
                    "config update of {}: {e}",
                    crate::words::plural(config.after.len(), "key", "keys")
                );
                progress.event(&Event::Failed {
                    call,
                    pointer,
                    message: message.clone(),
                });
                out.failures.push(message);
            }
        }
    }
    let results: Vec<(u64, &ActionChange, executor::ObjectResult)> = stream::iter(&plan.actions)
        .map(|(seq, change)| {
            let abort = abort.clone();
            async move {
                let r = executor::run_action(cluster, change, &abort, progress, None).await;
                (*seq, change, r)
            }
        })
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    for (seq, change, r) in results {
        out.writes += change.calls.len();
        let pointer = super::events::action_pointer(&change.name);
        if let Some(id) = &r.created {
            progress.event(&Event::Recreated {
                seq,
                pointer: pointer.clone(),
                id: id.clone(),
            });
        }
        match r.error {
            None => {
                out.reverted += 1;
                progress.event(&Event::Undone {
                    seq: Some(seq),
                    pointer,
                });
            }
            Some(e) => out.failures.push(e.message),
        }
    }
    remove_strays(cluster, others, journal, record, &mut out, progress).await;
    // Look again: the only proof that the objects are back.
    let after = fetch::read_document(cluster).await?;
    let check = plan_check(record, &after);
    out.remaining = check;
    Ok(out)
}

/// The journal's strays not yet removed (the apply's own removal failed,
/// or it was killed before it): each looked for in the other Orgs and
/// deleted there; one that cannot be is a failure of the undo.
async fn remove_strays(
    cluster: &Cluster,
    others: &OtherOrgs,
    journal: Option<&Journal>,
    record: &Record,
    out: &mut UndoOutcome,
    progress: &dyn Progress,
) {
    for (id, (seq, removed)) in &record.strays {
        if *removed {
            continue;
        }
        out.writes += 1;
        let found = if others.is_empty() {
            cluster.remove_stray(id).await
        } else {
            remove_in_other_orgs(others, id).await
        };
        match found {
            Ok(Some(org)) => {
                if let Some(j) = journal {
                    let _ = j.stray_removed(*seq, id, Some(org)).await;
                }
                progress.event(&Event::StrayRemoved {
                    id: id.clone(),
                    org: Some(org),
                });
                out.strays_removed.push(format!(
                    "the action {id} that write {seq} created in Org {org} (not its own) was deleted there"
                ));
            }
            // No other Org has it (deleted meanwhile): nothing is left.
            Ok(None) => {
                if let Some(j) = journal {
                    let _ = j.stray_removed(*seq, id, None).await;
                }
            }
            Err(e) => out.failures.push(format!(
                "the action {id} that write {seq} created in another Org could not be removed: {e}"
            )),
        }
    }
}

/// Looks for action `id` in each Org of `others` and deletes it where
/// found: the Org it was in, or `None` if none has it.
async fn remove_in_other_orgs(
    others: &OtherOrgs,
    id: &str,
) -> Result<Option<i64>, crate::api::ApiError> {
    for (org, c) in others {
        match c.action(id).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        }
        return match c.delete_action(id, None).await {
            Ok(()) => Ok(Some(*org)),
            Err(e) if e.is_not_found() => Ok(Some(*org)),
            Err(e) => Err(e),
        };
    }
    Ok(None)
}

/// Objects of `record` that are not as they were before (empty when the
/// undo is complete).
fn plan_check(record: &Record, live: &LiveDocument) -> Vec<String> {
    let p = plan(record, live, true);
    let mut out: Vec<String> = Vec::new();
    if let Some(c) = &p.config {
        out.extend(c.after.keys().map(|k| config_pointer(k)));
    }
    out.extend(
        p.actions
            .iter()
            .map(|(_, a)| pointer::join(&["actions", &a.name])),
    );
    out
}

fn config_pointer(key: &str) -> String {
    pointer::join(&super::changes::config_segments(key))
}

/// Live actions by name and by GUID, in API form without id.
struct LiveActions {
    by_name: BTreeMap<String, (String, Value)>,
    name_of: BTreeMap<String, String>,
}

impl LiveActions {
    fn new(live: &LiveDocument) -> LiveActions {
        let mut by_name = BTreeMap::new();
        let mut name_of = BTreeMap::new();
        for (name, action) in crate::document::actions(&live.doc) {
            if let Some(id) = live.ids.get(name) {
                by_name.insert(name.clone(), (id.clone(), action_to_api(action, None)));
                name_of.insert(id.clone(), name.clone());
            }
        }
        LiveActions { by_name, name_of }
    }

    fn by_id(&self, id: &str) -> Option<(&str, &Value)> {
        let name = self.name_of.get(id)?;
        self.by_name.get(name).map(|(id, v)| (id.as_str(), v))
    }

    fn by_name(&self, name: &str) -> Option<(&str, &Value)> {
        self.by_name.get(name).map(|(id, v)| (id.as_str(), v))
    }
}

fn plan(record: &Record, live: &LiveDocument, force: bool) -> Plan {
    let mut plan = Plan::default();
    let actions = LiveActions::new(live);
    // The Org's administrators group, which the cluster may have added to
    // what a create sent (the journal's Org tells it, where known).
    let admin = record.org.as_ref().and_then(|o| o.admin_group.as_deref());
    let config = crate::document::config(&live.doc);
    let mut revert = ConfigChange::default();
    for (seq, entry) in record.entries.iter().rev() {
        match entry {
            Entry::Config { before, after } => {
                let mut touched = false;
                for (key, a) in after {
                    let Some(b) = before.get(key) else { continue };
                    let l = model::lookup_key(config, key);
                    if l == Some(b) {
                        continue;
                    }
                    if l == Some(a) || force {
                        revert.after.insert(key.clone(), b.clone());
                        if let Some(l) = l {
                            revert.before.insert(key.clone(), l.clone());
                        }
                        touched = true;
                    } else {
                        plan.conflicts.push(left_alone(config_pointer(key)));
                    }
                }
                if !touched {
                    plan.already += 1;
                }
            }
            Entry::Action {
                action,
                name,
                id,
                before,
                after,
                ..
            } => {
                let refused: BTreeSet<usize> = record
                    .refused
                    .range((*seq, 0)..(*seq + 1, 0))
                    .map(|(_, c)| *c)
                    .collect();
                let change = match action {
                    ActionOp::Create => undo_create(
                        name,
                        record.created.get(seq).map(String::as_str),
                        after.as_ref(),
                        &actions,
                        (force, admin),
                        &mut plan.conflicts,
                    ),
                    ActionOp::Update => undo_update(
                        name,
                        id.as_deref(),
                        before.as_ref(),
                        after.as_ref(),
                        &refused,
                        &actions,
                        force,
                        &mut plan.conflicts,
                    ),
                    ActionOp::Delete => undo_delete(
                        name,
                        before.as_ref(),
                        !refused.is_empty(),
                        &actions,
                        &mut plan.conflicts,
                    ),
                };
                match change {
                    Some(c) if !c.calls.is_empty() => plan.actions.push((*seq, c)),
                    _ => plan.already += 1,
                }
            }
        }
    }
    if !revert.after.is_empty() {
        plan.config = Some(revert);
    }
    plan
}

/// The fields of an action (API form) for comparison: top-level keys but
/// the GUID, associations and the cluster's own fields, and each `detail`
/// key on its own.
fn fields(action: &Value) -> BTreeMap<Vec<String>, Value> {
    let mut out = BTreeMap::new();
    for (k, v) in action.as_object().into_iter().flatten() {
        // The cluster's own fields say nothing of who changed the action.
        if k == "id"
            || k == model::ASSOCIATION_MAP
            || model::SERVER_OWNED_ACTION_FIELDS.contains(&k.as_str())
        {
            continue;
        }
        match (k.as_str(), v) {
            ("detail", Value::Object(d)) => {
                for (dk, dv) in d {
                    out.insert(vec![k.clone(), dk.clone()], dv.clone());
                }
            }
            _ => {
                out.insert(vec![k.clone()], v.clone());
            }
        }
    }
    // In the form the cluster may keep them: a value it rewrote that way
    // is not someone else's change.
    for path in model::NORMALIZED_ACTION_FIELDS {
        let key: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if let Some(v) = out.get_mut(&key) {
            *v = model::server_form(path, v);
        }
    }
    out
}

fn set_field(action: &mut Value, path: &[String], value: Option<&Value>) {
    match value {
        Some(v) => pointer::set(action, path, v.clone()),
        None => {
            if let Some((last, parent)) = path.split_last() {
                if let Some(m) = pointer::get_mut(action, parent).and_then(Value::as_object_mut) {
                    m.remove(last);
                }
            }
        }
    }
}

fn entry_at<'a>(map: &'a Map<String, Value>, kind: &str, guid: &str) -> Option<&'a Value> {
    map.get(kind).and_then(|o| o.get(guid))
}

fn set_entry(action: &mut Value, kind: &str, guid: &str, value: Option<&Value>) {
    let Some(obj) = action.as_object_mut() else {
        return;
    };
    let map = obj
        .entry(model::ASSOCIATION_MAP)
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(map) = map.as_object_mut() else {
        return;
    };
    match value {
        Some(v) => super::changes::insert_entry(map, kind, guid, v.clone()),
        None => {
            if let Some(o) = map.get_mut(kind).and_then(Value::as_object_mut) {
                o.remove(guid);
                if o.is_empty() {
                    map.remove(kind);
                }
            }
        }
    }
}

fn field_pointer(name: &str, path: &[String]) -> String {
    let mut segs = vec!["actions".to_string(), name.to_string()];
    segs.extend(path.iter().cloned());
    pointer::join(&segs)
}

/// Changed by someone else since the apply: the undo leaves it be.
fn left_alone(pointer: String) -> Event {
    Event::LeftAlone {
        pointer,
        why: "changed on the target since the apply; left as it is".into(),
    }
}

/// Deletes the action the apply created, if it is still as created.
fn undo_create(
    name: &str,
    created_id: Option<&str>,
    after: Option<&Value>,
    live: &LiveActions,
    (force, admin): (bool, Option<&str>),
    conflicts: &mut Vec<Event>,
) -> Option<ActionChange> {
    let (id, l) = match created_id {
        Some(id) => live.by_id(id)?,
        // The answer with the GUID was lost: the action of that name, if
        // it is exactly what the apply sent.
        None => live.by_name(name)?,
    };
    let after = after?;
    // As created: with the group the cluster adds, if it added one.
    let mut as_created = l.clone();
    if let (Some(stored), Some(sent)) = (l.get(model::USER_GROUPS), after.get(model::USER_GROUPS)) {
        as_created[model::USER_GROUPS] = model::without_added_admin(stored, sent, admin);
    }
    let l = &as_created;
    let live_fields = fields(l);
    let ours_fields = fields(after)
        .iter()
        .all(|(p, v)| live_fields.get(p) == Some(v));
    let am = association_map(after);
    let ours_assoc =
        super::changes::entries(association_map(l)).all(|(k, g, e)| entry_at(am, k, g) == Some(e));
    if !(force || ours_fields && ours_assoc) {
        conflicts.push(left_alone(pointer::join(&["actions", name])));
        return None;
    }
    Some(ActionChange {
        op: ActionOp::Delete,
        name: name.to_string(),
        id: Some(id.to_string()),
        before: Some(l.clone()),
        after: None,
        calls: vec![Call::Delete],
    })
}

#[allow(clippy::too_many_arguments)]
fn undo_update(
    name: &str,
    id: Option<&str>,
    before: Option<&Value>,
    after: Option<&Value>,
    refused: &BTreeSet<usize>,
    live: &LiveActions,
    force: bool,
    conflicts: &mut Vec<Event>,
) -> Option<ActionChange> {
    let (b, a) = (before?, after?);
    let found = id
        .and_then(|id| live.by_id(id))
        .or_else(|| live.by_name(name));
    let Some((live_id, l)) = found else {
        conflicts.push(Event::LeftAlone {
            pointer: pointer::join(&["actions", name]),
            why: "the action is gone from the target; it was not restored".into(),
        });
        return None;
    };
    // The requests the apply planned; refused ones changed nothing.
    let calls = converge(Some(b), Some(a), id);
    let mut put = false;
    let mut untouched: Vec<(String, String)> = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let was_refused = refused.contains(&i);
        match call {
            Call::Put(_) if !was_refused => put = true,
            Call::AddAssociations(m) | Call::RemoveAssociations(m) if was_refused => {
                untouched
                    .extend(super::changes::entries(m).map(|(k, g, _)| (k.clone(), g.clone())));
            }
            _ => {}
        }
    }
    let mut target = l.clone();
    let (bf, af, lf) = (fields(b), fields(a), fields(l));
    if put {
        let paths: BTreeSet<&Vec<String>> = bf.keys().chain(af.keys()).collect();
        for p in paths {
            let (bv, av, lv) = (bf.get(p), af.get(p), lf.get(p));
            if bv == av || lv == bv {
                continue;
            }
            if lv == av || force {
                set_field(&mut target, p, bv);
            } else {
                conflicts.push(left_alone(field_pointer(name, p)));
            }
        }
    }
    let (bm, am, lm) = (association_map(b), association_map(a), association_map(l));
    let mut keys: BTreeSet<(String, String)> = BTreeSet::new();
    for (k, g, _) in super::changes::entries(bm).chain(super::changes::entries(am)) {
        keys.insert((k.clone(), g.clone()));
    }
    for (kind, guid) in keys {
        if untouched.contains(&(kind.clone(), guid.clone())) {
            continue;
        }
        let (bv, av, lv) = (
            entry_at(bm, &kind, &guid),
            entry_at(am, &kind, &guid),
            entry_at(lm, &kind, &guid),
        );
        if lv == bv || (bv == av && !put) {
            continue;
        }
        // A PUT may have cleared associations the apply meant to keep.
        if lv == av || (put && lv.is_none()) || force {
            set_entry(&mut target, &kind, &guid, bv);
        } else {
            let p = pointer::join(&["actions", name, model::ASSOCIATION_MAP, &kind, &guid]);
            conflicts.push(left_alone(p));
        }
    }
    let calls = converge(Some(l), Some(&target), Some(live_id));
    Some(ActionChange {
        op: ActionOp::Update,
        name: name.to_string(),
        id: Some(live_id.to_string()),
        before: Some(l.clone()),
        after: Some(target),
        calls,
    })
}

/// Re-creates the action the apply deleted, unless someone made another
/// one of that name since.
fn undo_delete(
    name: &str,
    before: Option<&Value>,
    not_ours: bool,
    live: &LiveActions,
    conflicts: &mut Vec<Event>,
) -> Option<ActionChange> {
    let b = before?;
    match live.by_name(name) {
        None if not_ours => None,
        None => Some(ActionChange {
            op: ActionOp::Create,
            name: name.to_string(),
            id: None,
            before: None,
            after: Some(b.clone()),
            calls: converge(None, Some(b), None),
        }),
        Some((id, l)) => {
            if !same_without_associations(l, b) {
                conflicts.push(left_alone(pointer::join(&["actions", name])));
                return None;
            }
            // Re-created (by an earlier undo, perhaps cut short): finish it.
            Some(ActionChange {
                op: ActionOp::Update,
                name: name.to_string(),
                id: Some(id.to_string()),
                before: Some(l.clone()),
                after: Some(b.clone()),
                calls: converge(Some(l), Some(b), Some(id)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(actions: Value, config: Value) -> LiveDocument {
        let mut ids = BTreeMap::new();
        let mut by_name = Map::new();
        for a in actions.as_array().unwrap() {
            let name = a["name"].as_str().unwrap().to_string();
            ids.insert(name.clone(), a["id"].as_str().unwrap().to_string());
            let mut a = a.clone();
            a.as_object_mut().unwrap().remove("id");
            by_name.insert(name, a);
        }
        LiveDocument {
            doc: json!({"config": config, "actions": by_name}),
            ids,
            started: std::time::Instant::now(),
        }
    }

    fn record(entries: Vec<Entry>) -> Record {
        Record {
            target: "t".into(),
            entries: entries
                .into_iter()
                .enumerate()
                .map(|(i, e)| (i as u64 + 1, e))
                .collect(),
            ..Record::default()
        }
    }

    #[test]
    fn reverts_only_what_still_holds_the_applied_value() {
        let rec = record(vec![
            Entry::Config {
                before: json!({"a": 1, "b": 1, "c": 1}).as_object().unwrap().clone(),
                after: json!({"a": 2, "b": 2, "c": 2}).as_object().unwrap().clone(),
            },
            Entry::Action {
                action: ActionOp::Update,
                name: "x".into(),
                id: Some("g".into()),
                before: Some(json!({"name": "x", "detail": {"link": "old", "f": "f0"}})),
                after: Some(json!({"name": "x", "detail": {"link": "new", "f": "f1"}})),
            },
        ]);
        // a: ours (revert) · b: already back · c: someone else's edit.
        let l = live(
            json!([{"id": "g", "name": "x", "detail": {"link": "new", "f": "someone"}}]),
            json!({"a": 2, "b": 1, "c": 9}),
        );
        let p = plan(&rec, &l, false);
        assert_eq!(
            Value::Object(p.config.unwrap().after),
            json!({"a": 1}),
            "only the key that still holds the applied value"
        );
        assert_eq!(p.actions.len(), 1);
        let put = p.actions[0].1.calls.iter().find_map(|c| match c {
            Call::Put(b) => Some(b.clone()),
            _ => None,
        });
        assert_eq!(
            put.unwrap()["detail"],
            json!({"link": "old", "f": "someone"})
        );
        assert_eq!(p.conflicts.len(), 2, "{:?}", p.conflicts);
        assert!(p
            .conflicts
            .iter()
            .any(|c| c.pointer().is_some_and(|p| p.starts_with("/config/c"))));
        assert!(p.conflicts.iter().any(|c| c
            .pointer()
            .is_some_and(|p| p.starts_with("/actions/x/detail/f"))));
        // --force restores everything.
        let p = plan(&rec, &l, true);
        assert!(p.conflicts.is_empty());
        assert_eq!(
            Value::Object(p.config.unwrap().after),
            json!({"a": 1, "c": 1})
        );
    }

    #[test]
    fn deletes_come_back_once_and_creates_go_only_if_unchanged() {
        let mut rec = record(vec![
            Entry::Action {
                action: ActionOp::Delete,
                name: "gone".into(),
                id: Some("g1".into()),
                before: Some(json!({"name": "gone", "type": "URL"})),
                after: None,
            },
            Entry::Action {
                action: ActionOp::Create,
                name: "new".into(),
                id: None,
                before: None,
                after: Some(json!({"name": "new", "type": "URL"})),
            },
        ]);
        rec.created.insert(2, "g2".into());
        let l = live(
            json!([{"id": "g2", "name": "new", "type": "URL", "context": "NONE"}]),
            json!({}),
        );
        let p = plan(&rec, &l, false);
        let ops: Vec<ActionOp> = p.actions.iter().map(|(_, a)| a.op).collect();
        assert_eq!(ops, vec![ActionOp::Delete, ActionOp::Create]);
        // After the undo ran: nothing left to do.
        let l = live(
            json!([{"id": "g3", "name": "gone", "type": "URL"}]),
            json!({}),
        );
        let p = plan(&rec, &l, false);
        assert!(p.actions.is_empty() && p.conflicts.is_empty(), "{p:?}");
        // A create someone edited since is left alone.
        let l = live(
            json!([{"id": "g2", "name": "new", "type": "CALLBACK"}, {"id": "g3", "name": "gone", "type": "URL"}]),
            json!({}),
        );
        let p = plan(&rec, &l, false);
        assert!(p.actions.is_empty());
        assert_eq!(p.conflicts.len(), 1);
    }
}
