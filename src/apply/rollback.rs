//! Undoing journaled writes, newest first. Every undo looks at the live
//! cluster first, so running it twice, or after a write whose outcome was
//! never known, is safe.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::journal::{Entry, Journal, Record};
use crate::api::Client;

/// Undoes every write of `record` not yet undone; returns what could not be.
pub async fn undo(client: &Client, journal: &Journal, record: &Record) -> Vec<String> {
    let mut failures = Vec::new();
    let mut live = match live_actions(client).await {
        Ok(l) => l,
        Err(e) => return vec![format!("cannot read the target's actions: {e}")],
    };
    for (seq, entry, _answered) in record.writes.iter().rev() {
        if record.undone.contains(seq) {
            continue;
        }
        match undo_one(client, entry, &mut live).await {
            Ok(()) => {
                if let Err(e) = journal.undone(*seq).await {
                    failures.push(format!(
                        "write {seq}: undone, but the journal could not record it: {e}"
                    ));
                }
            }
            Err(e) => failures.push(format!("write {seq} ({}): {e}", describe(entry))),
        }
    }
    failures
}

fn describe(entry: &Entry) -> String {
    match entry {
        Entry::Config { after, .. } => format!("config update of {} keys", after.len()),
        Entry::Create { name, .. } => format!("create of action {name:?}"),
        Entry::Update { name, .. } => format!("update of action {name:?}"),
        Entry::AssocAdd { name, .. } => format!("associations added to action {name:?}"),
        Entry::AssocRemove { name, .. } => format!("associations removed from action {name:?}"),
        Entry::Delete { name, .. } => format!("delete of action {name:?}"),
    }
}

/// Name → live action (API form, with id).
async fn live_actions(client: &Client) -> Result<BTreeMap<String, Value>, crate::api::ApiError> {
    Ok(client
        .actions()
        .await?
        .into_iter()
        .filter_map(|a| Some((a.get("name")?.as_str()?.to_string(), a)))
        .collect())
}

fn id_of(live: &BTreeMap<String, Value>, name: &str) -> Option<String> {
    live.get(name)
        .and_then(|a| a.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

async fn undo_one(
    client: &Client,
    entry: &Entry,
    live: &mut BTreeMap<String, Value>,
) -> Result<(), String> {
    match entry {
        Entry::Config { before, .. } => {
            if before.is_empty() {
                return Ok(());
            }
            client
                .update_config(before)
                .await
                .map_err(|e| e.to_string())
        }
        Entry::Create { name, .. } => match id_of(live, name) {
            Some(id) => {
                client.delete_action(&id).await.map_err(|e| e.to_string())?;
                live.remove(name);
                Ok(())
            }
            None => Ok(()), // never created, or already undone
        },
        Entry::Update { name, before, .. } => {
            let id = id_of(live, name)
                .ok_or_else(|| format!("action {name:?} is gone from the target"))?;
            let mut body = before.clone();
            if let Some(o) = body.as_object_mut() {
                o.insert("id".into(), Value::String(id.clone()));
                o.remove("actionAssociationMap");
            }
            client
                .update_action(&id, &body)
                .await
                .map_err(|e| e.to_string())
        }
        Entry::AssocAdd {
            name,
            map,
            replaced,
            ..
        } => {
            let id = id_of(live, name)
                .ok_or_else(|| format!("action {name:?} is gone from the target"))?;
            let current = client.actions().await.map_err(|e| e.to_string())?;
            let present = current
                .iter()
                .find(|a| a.get("id").and_then(Value::as_str) == Some(id.as_str()))
                .and_then(|a| a.get("actionAssociationMap").cloned())
                .unwrap_or(Value::Null);
            // Remove what the apply added (and what is still there), then
            // put back what it overwrote.
            let mut remove = Map::new();
            for (kind, objs) in map.as_object().into_iter().flatten() {
                for (guid, entry) in objs.as_object().into_iter().flatten() {
                    let was_there = replaced.get(kind).and_then(|o| o.get(guid)).is_some();
                    let is_there = present.get(kind).and_then(|o| o.get(guid)).is_some();
                    if !was_there && is_there {
                        remove
                            .entry(kind.clone())
                            .or_insert_with(|| Value::Object(Map::new()));
                        if let Some(Value::Object(o)) = remove.get_mut(kind) {
                            o.insert(guid.clone(), entry.clone());
                        }
                    }
                }
            }
            if !remove.is_empty() {
                client
                    .change_associations(&id, &Value::Object(remove), false)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if replaced.as_object().is_some_and(|m| !m.is_empty()) {
                client
                    .change_associations(&id, replaced, true)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Entry::AssocRemove { name, map, .. } => {
            let id = id_of(live, name)
                .ok_or_else(|| format!("action {name:?} is gone from the target"))?;
            client
                .change_associations(&id, map, true)
                .await
                .map_err(|e| e.to_string())
        }
        Entry::Delete { name, before, .. } => {
            if live.contains_key(name) {
                return Ok(());
            }
            let mut body = before.clone();
            if let Some(o) = body.as_object_mut() {
                o.remove("id");
            }
            let created = client
                .create_action(&body)
                .await
                .map_err(|e| e.to_string())?;
            live.insert(name.clone(), created);
            Ok(())
        }
    }
}
