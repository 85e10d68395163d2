//! Making the target match: from the desired document to API calls, run
//! concurrently with retries, every write journaled first; undone in reverse
//! on a failure that retries cannot cure; verified by reading back.

pub mod journal;
pub mod rollback;

use std::sync::atomic::{AtomicBool, Ordering};

use futures::stream::{self, StreamExt};
use serde_json::{json, Map, Value};

use crate::api::{Client, ErrorKind};
use crate::document::{self, action_to_api};
use crate::error::Error;
use crate::ignore::{self, IgnoreRule};
use crate::{pointer, secrets};
use journal::{Entry, Journal};

/// One action to change in place.
#[derive(Debug, Clone)]
pub struct ActionUpdate {
    pub name: String,
    pub id: String,
    /// The PUT body (API form, with id), when fields other than associations change.
    pub put: Option<Value>,
    /// The live action in API form (for the journal).
    pub before: Value,
    pub assoc_add: Map<String, Value>,
    /// Entries of `assoc_add` that existed before, with their old values.
    pub assoc_replaced: Map<String, Value>,
    pub assoc_remove: Map<String, Value>,
}

/// Everything apply will send, computed before anything is sent.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub config: Map<String, Value>,
    pub config_before: Map<String, Value>,
    /// Config keys the target has and the source does not: the API cannot remove them.
    pub unremovable: Vec<String>,
    /// Name and API body of each action to create.
    pub creates: Vec<(String, Value)>,
    pub updates: Vec<ActionUpdate>,
    /// Name, id and API body (with associations) of each action to delete.
    pub deletes: Vec<(String, String, Value)>,
    /// Actions only the target has, kept for lack of `--prune`.
    pub kept: Vec<String>,
}

impl Changes {
    pub fn writes(&self) -> usize {
        usize::from(!self.config.is_empty())
            + self.creates.len()
            + self.deletes.len()
            + self
                .updates
                .iter()
                .map(|u| {
                    usize::from(u.put.is_some())
                        + usize::from(!u.assoc_add.is_empty())
                        + usize::from(!u.assoc_remove.is_empty())
                })
                .sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.writes() == 0
    }
}

/// The target as it is: the canonical document without ignored paths, the
/// same with them (to fill PUT bodies), and the action GUIDs.
pub struct Current<'a> {
    pub doc: &'a Value,
    pub raw: &'a Value,
    pub ids: &'a std::collections::BTreeMap<String, String>,
}

/// Computes the calls that turn `current` into `desired`.
pub fn compute(current: &Current, desired: &Value, rules: &[IgnoreRule], prune: bool) -> Changes {
    let mut ch = Changes::default();
    config_changes(
        document::config(current.doc),
        document::config(desired),
        "",
        &mut Vec::new(),
        &mut ch,
    );
    let cur = document::actions(current.doc);
    let want = document::actions(desired);
    for (name, w) in want {
        let Some(c) = cur.get(name) else {
            ch.creates.push((name.clone(), action_to_api(w, None)));
            continue;
        };
        let id = current.ids.get(name).cloned().unwrap_or_default();
        let raw = current
            .raw
            .get("actions")
            .and_then(|a| a.get(name))
            .unwrap_or(c);
        let strip_assoc = |v: &Value| {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("actionAssociationMap");
            }
            v
        };
        let put = if strip_assoc(c) != strip_assoc(w) {
            let mut body = strip_assoc(w);
            ignore::restore(
                &mut body,
                &["actions".to_string(), name.clone()],
                raw,
                rules,
            );
            Some(action_to_api(&body, Some(&id)))
        } else {
            None
        };
        let (add, replaced, remove) =
            association_changes(c.get("actionAssociationMap"), w.get("actionAssociationMap"));
        if put.is_some() || !add.is_empty() || !remove.is_empty() {
            ch.updates.push(ActionUpdate {
                name: name.clone(),
                before: action_to_api(raw, Some(&id)),
                id,
                put,
                assoc_add: add,
                assoc_replaced: replaced,
                assoc_remove: remove,
            });
        }
    }
    for (name, c) in cur {
        if want.contains_key(name) {
            continue;
        }
        if prune {
            let id = current.ids.get(name).cloned().unwrap_or_default();
            let raw = current
                .raw
                .get("actions")
                .and_then(|a| a.get(name))
                .unwrap_or(c);
            ch.deletes
                .push((name.clone(), id.clone(), action_to_api(raw, Some(&id))));
        } else {
            ch.kept.push(name.clone());
        }
    }
    ch
}

fn config_changes(
    cur: &Map<String, Value>,
    want: &Map<String, Value>,
    prefix: &str,
    path: &mut Vec<String>,
    ch: &mut Changes,
) {
    for (k, w) in want {
        let key = format!("{prefix}{k}");
        path.push(k.clone());
        match cur.get(k) {
            Some(Value::Object(c)) if matches!(w, Value::Object(wm) if !wm.is_empty()) => {
                if let Value::Object(wm) = w {
                    config_changes(c, wm, &format!("{key}."), path, ch);
                }
            }
            Some(c) if c == w => {}
            Some(c) => {
                ch.config.insert(key.clone(), w.clone());
                ch.config_before.insert(key, c.clone());
            }
            None => {
                ch.config.insert(key, w.clone());
            }
        }
        path.pop();
    }
    for k in cur.keys() {
        if !want.contains_key(k) {
            let mut p = vec!["config".to_string()];
            p.extend(path.iter().cloned());
            p.push(k.clone());
            ch.unremovable.push(pointer::join(&p));
        }
    }
}

type AssocSplit = (Map<String, Value>, Map<String, Value>, Map<String, Value>);

/// Entries to POST (new or changed), their previous values, and entries to DELETE.
fn association_changes(cur: Option<&Value>, want: Option<&Value>) -> AssocSplit {
    let empty = Map::new();
    let cur = cur.and_then(Value::as_object).unwrap_or(&empty);
    let want = want.and_then(Value::as_object).unwrap_or(&empty);
    let (mut add, mut replaced, mut remove) = (Map::new(), Map::new(), Map::new());
    let put = |m: &mut Map<String, Value>, kind: &str, guid: &str, v: &Value| {
        if let Some(o) = m
            .entry(kind.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            o.insert(guid.to_string(), v.clone());
        }
    };
    for (kind, objs) in want {
        for (guid, entry) in objs.as_object().into_iter().flatten() {
            let before = cur.get(kind).and_then(|o| o.get(guid));
            if before != Some(entry) {
                put(&mut add, kind, guid, entry);
                if let Some(b) = before {
                    put(&mut replaced, kind, guid, b);
                }
            }
        }
    }
    for (kind, objs) in cur {
        for (guid, entry) in objs.as_object().into_iter().flatten() {
            if want.get(kind).and_then(|o| o.get(guid)).is_none() {
                put(&mut remove, kind, guid, entry);
            }
        }
    }
    (add, replaced, remove)
}

/// The requests apply would send, secrets masked (`--dry-run`).
pub fn describe(ch: &Changes) -> Vec<String> {
    let base = crate::api::API_PREFIX;
    let mut out = Vec::new();
    if !ch.config.is_empty() {
        let masked: Map<String, Value> = ch
            .config
            .iter()
            .map(|(k, v)| {
                let mut segs = vec!["config".to_string()];
                segs.extend(k.split('.').map(str::to_string));
                (k.clone(), secrets::redact_at(&segs, v))
            })
            .collect();
        out.push(format!(
            "POST {base}/admin/configinfo/update configchanges={}",
            Value::Object(masked)
        ));
    }
    let mask_action = |name: &str, body: &Value| {
        let canonical = reparse_headers(body);
        let masked = secrets::redact_at(&["actions".to_string(), name.to_string()], &canonical);
        action_to_api(&masked, None)
    };
    for (name, body) in &ch.creates {
        out.push(format!(
            "POST {base}/admin/embed/actions embedaction={}",
            mask_action(name, body)
        ));
    }
    for u in &ch.updates {
        if let Some(put) = &u.put {
            out.push(format!(
                "PUT {base}/admin/embed/actions/{} embedaction={}",
                u.id,
                mask_action(&u.name, put)
            ));
        }
        if !u.assoc_add.is_empty() {
            out.push(format!(
                "POST {base}/admin/embed/actions/{}/associations actionassociation={}",
                u.id,
                json!({"actionAssociationMap": u.assoc_add})
            ));
        }
        if !u.assoc_remove.is_empty() {
            out.push(format!(
                "DELETE {base}/admin/embed/actions/{}/associations actionassociation={}",
                u.id,
                json!({"actionAssociationMap": u.assoc_remove})
            ));
        }
    }
    for (_, id, _) in &ch.deletes {
        out.push(format!("DELETE {base}/admin/embed/actions/{id}"));
    }
    out
}

/// An API body back in canonical form (headers as an object) for masking.
fn reparse_headers(body: &Value) -> Value {
    let mut v = body.clone();
    if let Some(detail) = v.get_mut("detail").and_then(Value::as_object_mut) {
        if let Some(Value::String(raw)) = detail.get("additionalUrlHeaders") {
            if let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(raw) {
                detail.insert("additionalUrlHeaders".into(), parsed);
            }
        }
    }
    v
}

/// Reports progress of the writes (a bar on a terminal, nothing otherwise).
pub trait Progress: Sync {
    fn wrote(&self, what: &str);
}

impl Progress for indicatif::ProgressBar {
    fn wrote(&self, what: &str) {
        self.set_message(what.to_string());
        self.inc(1);
    }
}

pub struct NoProgress;
impl Progress for NoProgress {
    fn wrote(&self, _: &str) {}
}

/// Sends every write of `ch`; stops launching new ones at the first failure
/// that retries cannot cure and returns what failed.
pub async fn execute(
    client: &Client,
    ch: &Changes,
    journal: &Journal,
    parallel: usize,
    progress: &dyn Progress,
) -> Result<(), Vec<String>> {
    let failed = AtomicBool::new(false);
    if !ch.config.is_empty() {
        let entry = Entry::Config {
            before: ch.config_before.clone(),
            after: ch.config.clone(),
        };
        journaled(
            journal,
            entry,
            client.update_config(&ch.config),
            "admin/configinfo/update",
        )
        .await
        .map_err(|e| vec![e])?;
        progress.wrote("config");
    }
    let parallel = parallel.max(1);
    let creates = ch
        .creates
        .iter()
        .map(|(name, body)| Task::Create { name, body });
    let updates = ch.updates.iter().map(Task::Update);
    let mut errors: Vec<String> = stream::iter(creates.chain(updates))
        .map(|task| run_task(client, journal, task, &failed, progress))
        .buffer_unordered(parallel)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    if errors.is_empty() && !ch.deletes.is_empty() {
        errors = stream::iter(ch.deletes.iter().map(|(name, id, before)| Task::Delete {
            name,
            id,
            before,
        }))
        .map(|task| run_task(client, journal, task, &failed, progress))
        .buffer_unordered(parallel)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Records the outcome of a journaled write: answered, refused outright
/// (a 4xx changes nothing), or unknown (left for rollback to check).
async fn settle<T>(
    journal: &Journal,
    seq: u64,
    result: &Result<T, crate::api::ApiError>,
    id: Option<String>,
) {
    match result {
        Ok(_) => {
            let _ = journal.done(seq, id);
        }
        Err(e) if e.kind == ErrorKind::Rejected => {
            let _ = journal.refused(seq).await;
        }
        Err(_) => {}
    }
}

enum Task<'a> {
    Create {
        name: &'a str,
        body: &'a Value,
    },
    Update(&'a ActionUpdate),
    Delete {
        name: &'a str,
        id: &'a str,
        before: &'a Value,
    },
}

async fn run_task(
    client: &Client,
    journal: &Journal,
    task: Task<'_>,
    failed: &AtomicBool,
    progress: &dyn Progress,
) -> Result<(), String> {
    if failed.load(Ordering::SeqCst) {
        return Ok(()); // not started: nothing to undo
    }
    let result = match task {
        Task::Create { name, body } => create(client, journal, name, body).await,
        Task::Update(u) => update(client, journal, u, progress).await,
        Task::Delete { name, id, before } => {
            let entry = Entry::Delete {
                name: name.into(),
                id: id.into(),
                before: before.clone(),
            };
            journaled(
                journal,
                entry,
                client.delete_action(id),
                &format!("delete action {name:?}"),
            )
            .await
        }
    };
    match &result {
        Ok(()) => {
            if let Task::Create { name, .. } | Task::Delete { name, .. } = task {
                progress.wrote(name);
            }
        }
        Err(_) => failed.store(true, Ordering::SeqCst),
    }
    result
}

async fn create(
    client: &Client,
    journal: &Journal,
    name: &str,
    body: &Value,
) -> Result<(), String> {
    let seq = journal
        .before_write(Entry::Create {
            name: name.into(),
            action: body.clone(),
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match client.create_action(body).await {
            Ok(created) => {
                let id = created
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let _ = journal.done(seq, id);
                return Ok(());
            }
            Err(e) if e.kind == ErrorKind::Transient && attempt < client.policy.max_attempts => {
                // The create may have happened: look before sending it again.
                tokio::time::sleep(client.policy.delay(attempt)).await;
                if let Ok(actions) = client.actions().await {
                    let found = actions
                        .iter()
                        .find(|a| a.get("name").and_then(Value::as_str) == Some(name));
                    if let Some(a) = found {
                        let id = a.get("id").and_then(Value::as_str).map(str::to_string);
                        let _ = journal.done(seq, id);
                        return Ok(());
                    }
                }
            }
            Err(e) => {
                settle(journal, seq, &Err::<(), _>(e.clone()), None).await;
                return Err(format!("create action {name:?}: {e}"));
            }
        }
    }
}

/// Records `entry`, then sends the write, then records its outcome.
/// (`call` is lazy: nothing is sent before the journal line is on disk.)
async fn journaled(
    journal: &Journal,
    entry: Entry,
    call: impl std::future::Future<Output = Result<(), crate::api::ApiError>>,
    what: &str,
) -> Result<(), String> {
    let seq = journal
        .before_write(entry)
        .await
        .map_err(|e| e.to_string())?;
    let r = call.await;
    settle(journal, seq, &r, None).await;
    r.map_err(|e| format!("{what}: {e}"))
}

async fn update(
    client: &Client,
    journal: &Journal,
    u: &ActionUpdate,
    progress: &dyn Progress,
) -> Result<(), String> {
    let (name, id) = (u.name.clone(), u.id.clone());
    if let Some(put) = &u.put {
        let entry = Entry::Update {
            name: name.clone(),
            id: id.clone(),
            before: u.before.clone(),
        };
        journaled(
            journal,
            entry,
            client.update_action(&u.id, put),
            &format!("update action {name:?}"),
        )
        .await?;
        progress.wrote(&name);
    }
    if !u.assoc_add.is_empty() {
        let map = Value::Object(u.assoc_add.clone());
        let replaced = Value::Object(u.assoc_replaced.clone());
        let entry = Entry::AssocAdd {
            name: name.clone(),
            id: id.clone(),
            map: map.clone(),
            replaced,
        };
        let call = client.change_associations(&u.id, &map, true);
        journaled(journal, entry, call, &format!("associate action {name:?}")).await?;
        progress.wrote(&name);
    }
    if !u.assoc_remove.is_empty() {
        let map = Value::Object(u.assoc_remove.clone());
        let entry = Entry::AssocRemove {
            name: name.clone(),
            id,
            map: map.clone(),
        };
        let call = client.change_associations(&u.id, &map, false);
        journaled(
            journal,
            entry,
            call,
            &format!("remove associations of action {name:?}"),
        )
        .await?;
        progress.wrote(&name);
    }
    Ok(())
}

/// What the target should look like after the apply: `desired`, except
/// where the API cannot go (unremovable keys, actions kept without --prune).
pub fn intended(current: &Value, desired: &Value, ch: &Changes) -> Value {
    let mut out = desired.clone();
    for ptr in &ch.unremovable {
        if let Some(segs) = pointer::split(ptr) {
            if let Some(v) = pointer::get(current, &segs) {
                set_path(&mut out, &segs, v.clone());
            }
        }
    }
    for name in &ch.kept {
        if let Some(a) = current.get("actions").and_then(|a| a.get(name)) {
            if let Some(actions) = out.get_mut("actions").and_then(Value::as_object_mut) {
                actions.insert(name.clone(), a.clone());
            }
        }
    }
    out
}

/// Server-filled defaults of created actions (fields the target shows that
/// the source did not send) are not differences.
pub fn accept_server_defaults(intended: &mut Value, reread: &Value, ch: &Changes) {
    for (name, _) in &ch.creates {
        let (Some(want), Some(got)) = (
            intended
                .get_mut("actions")
                .and_then(|a| a.get_mut(name))
                .and_then(Value::as_object_mut),
            reread
                .get("actions")
                .and_then(|a| a.get(name))
                .and_then(Value::as_object),
        ) else {
            continue;
        };
        for (k, v) in got {
            want.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

pub fn set_path(doc: &mut Value, segs: &[String], value: Value) {
    let Some((last, parents)) = segs.split_last() else {
        *doc = value;
        return;
    };
    let mut cur = doc;
    for s in parents {
        if !cur.is_object() {
            *cur = json!({});
        }
        let Value::Object(m) = cur else { return };
        cur = m.entry(s.clone()).or_insert_with(|| json!({}));
    }
    if let Value::Object(m) = cur {
        m.insert(last.clone(), value);
    }
}

/// How one apply runs.
pub struct ApplyOptions {
    pub parallel: usize,
    pub journal: std::path::PathBuf,
    pub progress: bool,
    pub quiet: bool,
}

pub struct ApplyReport {
    pub writes: u64,
    pub elapsed: std::time::Duration,
}

/// Sends `ch`, verifies, and on any failure undoes what was written.
/// `current` is the target as read just before (ignored paths removed).
pub async fn run(
    client: &Client,
    current: &Value,
    desired: &Value,
    ch: &Changes,
    rules: &[IgnoreRule],
    opts: &ApplyOptions,
) -> Result<ApplyReport, Error> {
    let started = std::time::Instant::now();
    let writes_before = client.writes_sent();
    let journal = Journal::create(&opts.journal, &client.endpoint.url)?;
    if !opts.quiet {
        eprintln!("journal: {}", journal.path.display());
    }
    let bar: Box<dyn Progress> = if opts.progress {
        let bar = indicatif::ProgressBar::new(ch.writes() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} writes {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Box::new(bar)
    } else {
        Box::new(NoProgress)
    };
    let outcome = execute(client, ch, &journal, opts.parallel, bar.as_ref()).await;
    drop(bar);
    let failure = match outcome {
        Err(errors) => Some(errors.join("\n  ")),
        Ok(()) => match verify(client, current, desired, ch, rules).await {
            Ok(()) => None,
            Err(remainder) => Some(format!(
                "verification found the target different from the plan:\n  {remainder}"
            )),
        },
    };
    let Some(failure) = failure else {
        journal.finish("applied").await?;
        let _ = std::fs::remove_file(&journal.path);
        return Ok(ApplyReport {
            writes: client.writes_sent() - writes_before,
            elapsed: started.elapsed(),
        });
    };
    if !opts.quiet {
        eprintln!("apply failed: {failure}\nundoing the writes made so far…");
    }
    let record = journal::read(&journal.path)?;
    let undo_failures = rollback::undo(client, &journal, &record).await;
    // Only worth reading back when every undo went through.
    let check = if undo_failures.is_empty() {
        restored_to(client, current, rules).await
    } else {
        Err(String::new())
    };
    if check.is_ok() {
        journal.finish("rolled back").await?;
        let _ = std::fs::remove_file(&journal.path);
        return Err(Error::ApplyRestored(format!(
            "apply failed; the target was restored to its state before the apply.\n  {failure}"
        )));
    }
    let mut message =
        format!("apply failed and the target could NOT be fully restored.\n  {failure}");
    for f in &undo_failures {
        message.push_str(&format!("\n  undo: {f}"));
    }
    if let Err(remainder) = &check {
        if !remainder.is_empty() {
            message.push_str(&format!("\n  still different from before: {remainder}"));
        }
    }
    Err(Error::ApplyNotRestored {
        message,
        journal: journal.path.clone(),
    })
}

async fn reread(client: &Client, rules: &[IgnoreRule]) -> Result<Value, String> {
    let canonical = crate::cluster::read_document(client)
        .await
        .map_err(|e| e.to_string())?;
    let mut doc = canonical.doc;
    ignore::strip(&mut doc, rules);
    Ok(doc)
}

fn remainder(ops: &[crate::diff::Op]) -> String {
    let mut paths: Vec<String> = ops.iter().take(20).map(|o| o.pointer()).collect();
    if ops.len() > 20 {
        paths.push(format!("… and {} more", ops.len() - 20));
    }
    paths.join(", ")
}

/// Reads the target back and compares it with what the apply intended.
pub async fn verify(
    client: &Client,
    current: &Value,
    desired: &Value,
    ch: &Changes,
    rules: &[IgnoreRule],
) -> Result<(), String> {
    let got = reread(client, rules).await?;
    let mut want = intended(current, desired, ch);
    accept_server_defaults(&mut want, &got, ch);
    let ops = crate::diff::diff(&got, &want);
    if ops.is_empty() {
        Ok(())
    } else {
        Err(remainder(&ops))
    }
}

/// Whether the target is back to `before`.
pub async fn restored_to(
    client: &Client,
    before: &Value,
    rules: &[IgnoreRule],
) -> Result<(), String> {
    let got = reread(client, rules).await?;
    let ops = crate::diff::diff(&got, before);
    if ops.is_empty() {
        Ok(())
    } else {
        Err(remainder(&ops))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn association_split() {
        let cur = json!({"ANSWER": {"a": {"context": "MENU"}, "b": {"context": "MENU"}}});
        let want = json!({"ANSWER": {"a": {"context": "PRIMARY"}, "c": {"context": "MENU"}}});
        let (add, replaced, remove) = association_changes(Some(&cur), Some(&want));
        assert_eq!(
            Value::Object(add),
            json!({"ANSWER": {"a": {"context": "PRIMARY"}, "c": {"context": "MENU"}}})
        );
        assert_eq!(
            Value::Object(replaced),
            json!({"ANSWER": {"a": {"context": "MENU"}}})
        );
        assert_eq!(
            Value::Object(remove),
            json!({"ANSWER": {"b": {"context": "MENU"}}})
        );
    }

    #[test]
    fn config_keys_are_dotted_leaves_and_removals_reported() {
        let cur = json!({"config": {"a": {"b": 1, "c": [1]}, "gone": 1}, "actions": {}});
        let want = json!({"config": {"a": {"b": 2, "c": [1, 2]}}, "actions": {}});
        let ids = Default::default();
        let ch = compute(
            &Current {
                doc: &cur,
                raw: &cur,
                ids: &ids,
            },
            &want,
            &[],
            false,
        );
        assert_eq!(Value::Object(ch.config), json!({"a.b": 2, "a.c": [1, 2]}));
        assert_eq!(ch.unremovable, vec!["/config/gone"]);
    }
}
