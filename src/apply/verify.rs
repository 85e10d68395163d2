//! Reading the target back after writing: does it hold what the apply
//! intended, or (after an undo) exactly what it held before?

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::changes::{intended, ActionOp, Changes};
use crate::api::{Api, Cluster};
use crate::diff::{self, Op};
use crate::fetch;
use crate::select::Selection;

/// The part of the target's document `ch` writes (`written`) as it is
/// now, ignored paths removed (and its actions as both APIs hold them,
/// with a `view`). The other actions are dropped as they are read.
async fn reread(
    cluster: &Cluster,
    ch: &Changes,
    selection: &Selection,
    view: Option<Api>,
) -> Result<Value, String> {
    let names = written_names(ch);
    let live = fetch::read_document_of(cluster, Some(&names))
        .await
        .map_err(|e| e.to_string())?;
    let mut doc = live.doc;
    selection.strip(&mut doc);
    if let Some(api) = view {
        crate::api::v2map::project_doc(&mut doc, api);
    }
    Ok(written(doc, ch))
}

/// The first paths of a remainder, for messages.
pub fn remainder(ops: &[Op]) -> String {
    let mut paths: Vec<String> = ops.iter().take(20).map(|o| o.pointer()).collect();
    if ops.len() > 20 {
        paths.push(format!("… and {} more", ops.len() - 20));
    }
    paths.join(", ")
}

/// The part of a document an apply of `ch` writes: the config if it
/// writes the config, and the actions it creates, updates or deletes (by
/// each name they have before and after). Only that part is checked
/// after writing and after an undo: what someone else changed meanwhile
/// elsewhere (another Org of a rollout writing the shared config,
/// another admin editing another action) is neither the apply's failure
/// nor for its undo to "restore".
/// Taken out of `doc`: the rest of it is dropped, not copied.
pub fn written(doc: Value, ch: &Changes) -> Value {
    let names = written_names(ch);
    let mut doc = match doc {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut out = Map::new();
    if ch.config.is_some() {
        if let Some(c) = doc.remove("config") {
            out.insert("config".into(), c);
        }
    }
    let actions: Map<String, Value> = match doc.remove("actions") {
        Some(Value::Object(all)) => all
            .into_iter()
            .filter(|(name, _)| names.contains(name.as_str()))
            .collect(),
        _ => Map::new(),
    };
    out.insert("actions".into(), Value::Object(actions));
    Value::Object(out)
}

/// The names of the actions `ch` writes: each by the name it has before
/// and after.
fn written_names(ch: &Changes) -> BTreeSet<&str> {
    let mut names = BTreeSet::new();
    for a in ch.actions.iter().chain(&ch.deletes) {
        names.insert(a.name.as_str());
        for side in [&a.before, &a.after] {
            if let Some(n) = side
                .as_ref()
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
            {
                names.insert(n);
            }
        }
    }
    names
}

/// REST v2 shows only the overridden config keys, and a key set back to
/// its default may leave the list: a config key `got` does not show is
/// unknown there, not different, so it leaves `want` too.
fn unshown_unknown(want: &mut Value, got: &Value) {
    fn prune(want: &mut Value, got: Option<&Value>) -> bool {
        match (want, got) {
            (_, None) => false,
            (Value::Object(w), Some(Value::Object(g))) => {
                w.retain(|k, v| prune(v, g.get(k)));
                true
            }
            _ => true,
        }
    }
    if let (Some(w), Some(g)) = (want.get_mut("config"), got.get("config")) {
        prune(w, Some(g));
    }
}

/// Server-filled defaults of created actions (fields the target shows that
/// the source did not send) are not differences, nor are the cluster's
/// own fields of any action written.
fn accept_server_defaults(want: &mut Value, got: &Value, ch: &Changes, admin: Option<&str>) {
    for a in &ch.actions {
        let (Some(w), Some(g)) = (
            want.get_mut("actions")
                .and_then(|x| x.get_mut(&a.name))
                .and_then(Value::as_object_mut),
            got.get("actions")
                .and_then(|x| x.get(&a.name))
                .and_then(Value::as_object),
        ) else {
            continue;
        };
        for field in crate::model::SERVER_OWNED_ACTION_FIELDS {
            if let Some(v) = g.get(*field) {
                w.insert((*field).to_string(), v.clone());
            }
        }
        // Kept in a form of the cluster's own: what was sent, in that form.
        for path in crate::model::NORMALIZED_ACTION_FIELDS {
            let at = |o: &Map<String, Value>| -> Option<Value> {
                let (first, rest) = path.split_first()?;
                rest.iter()
                    .try_fold(o.get(*first)?, |v, k| v.get(*k))
                    .cloned()
            };
            if let (Some(sent), Some(stored)) = (at(w), at(g)) {
                if sent != stored
                    && crate::model::server_form(path, &sent)
                        == crate::model::server_form(path, &stored)
                {
                    let mut doc = Value::Object(std::mem::take(w));
                    let owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                    crate::pointer::set(&mut doc, &owned, stored);
                    if let Value::Object(m) = doc {
                        *w = m;
                    }
                }
            }
        }
        // The Org's administrators group, added by the cluster to what
        // was sent.
        if let (Some(sent), Some(stored)) = (
            w.get(crate::model::USER_GROUPS),
            g.get(crate::model::USER_GROUPS),
        ) {
            if &crate::model::without_added_admin(stored, sent, admin) == sent {
                w.insert(crate::model::USER_GROUPS.to_string(), stored.clone());
            }
        }
        if a.op == ActionOp::Create {
            for (k, v) in g {
                w.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
}

/// `Ok` if what was read back (`got`) is `want`, else the paths that
/// differ. On REST v2 a config key the re-read does not show is unknown.
fn compare_back(cluster: &Cluster, got: &Value, mut want: Value) -> Result<(), String> {
    if cluster.api() == Api::V2 {
        unshown_unknown(&mut want, got);
    }
    let ops = diff::diff(got, &want);
    if ops.is_empty() {
        Ok(())
    } else {
        Err(remainder(&ops))
    }
}

/// Reads the target back and compares it with what the apply intended.
pub async fn applied(
    cluster: &Cluster,
    current: &Value,
    desired: &Value,
    ch: &Changes,
    selection: &Selection,
    view: Option<Api>,
) -> Result<(), String> {
    let got = reread(cluster, ch, selection, view).await?;
    let mut want = written(intended(current, desired, ch), ch);
    let admin = cluster.org().and_then(|o| o.admin_group);
    accept_server_defaults(&mut want, &got, ch, admin.as_deref());
    compare_back(cluster, &got, want)
}

/// Whether what the apply wrote is back to `before`.
pub async fn restored(
    cluster: &Cluster,
    before: &Value,
    ch: &Changes,
    selection: &Selection,
    view: Option<Api>,
) -> Result<(), String> {
    let got = reread(cluster, ch, selection, view).await?;
    compare_back(cluster, &got, written(before.clone(), ch))
}
