//! The live document reader: configinfo and the actions of one cluster,
//! read concurrently, into the canonical document. It does not trust any
//! single answer for associations: the action list may show them empty
//! (as the API page's example does), so they come from configinfo's action
//! list, and from each action's own endpoint where neither says.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::cluster_error;
use crate::api::{self, Cluster};
use crate::document;
use crate::error::Error;
use crate::json::value::read_answer_keeping;
use crate::model::{self, ObjectQuery};

/// Concurrent per-action reads when the list is not enough.
const READ_PARALLEL: usize = 8;

/// A live cluster's canonical document and action GUIDs.
pub struct LiveDocument {
    pub doc: Value,
    pub ids: BTreeMap<String, String>,
    /// When the read began: an apply may write only from a read begun
    /// under the target's lock (`apply::lock::TargetLock::vouch`).
    pub started: std::time::Instant,
}

/// Reads the canonical document (configinfo and actions with their
/// associations and user groups).
pub async fn read_document(cluster: &Cluster) -> Result<LiveDocument, Error> {
    read_document_of(cluster, None).await
}

/// `read_document`, of whose actions only those named in `names` (when
/// given) are kept, the others dropped as the list is read: what
/// verification reads (it checks only what an apply wrote), without
/// holding a second copy of every action.
pub async fn read_document_of(
    cluster: &Cluster,
    names: Option<&BTreeSet<&str>>,
) -> Result<LiveDocument, Error> {
    let started = std::time::Instant::now();
    let named = |a: &Value| {
        names.is_none_or(|names| {
            a.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| names.contains(n))
        })
    };
    let ((config, listed), list) = tokio::try_join!(
        async {
            cluster
                .configinfo()
                .await
                .map_err(|e| cluster_error(cluster, "admin/configinfo", e))
        },
        async {
            cluster
                .actions_where(&named)
                .await
                .map_err(|e| cluster_error(cluster, "admin/embed/actions", e))
        },
    )?;
    // REST v2 searches answer every action whole (associations and groups).
    let actions = if cluster.api() == api::Api::V2 {
        list
    } else {
        complete_actions(cluster, &listed, list).await?
    };
    let (doc, ids) = document::from_api(cluster.label(), config, actions)?;
    Ok(LiveDocument { doc, ids, started })
}

/// The action list made whole: associations from configinfo's list when
/// the action list shows none, and from the action itself when neither
/// says; user groups from the action itself when the list lacks them.
/// `listed`: the items of configinfo's own action list, as text.
async fn complete_actions(
    cluster: &Cluster,
    listed: &[Box<RawValue>],
    list: Vec<Value>,
) -> Result<Vec<Value>, Error> {
    let embedded = Embedded::of(listed, &list);
    let mut actions = Vec::with_capacity(list.len());
    let mut look_up: Vec<(usize, String, bool, bool)> = Vec::new();
    for (i, mut action) in list.into_iter().enumerate() {
        let id = action.get("id").and_then(Value::as_str).map(str::to_string);
        if let (Some(id), Some(obj)) = (&id, action.as_object_mut()) {
            let listed = obj
                .get(model::ASSOCIATION_MAP)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty());
            let has_groups = obj.get(model::USER_GROUPS).is_some_and(Value::is_array);
            // Configinfo's list is read only for what the action list lacks.
            let mut shown = match (listed, has_groups) {
                (true, true) => None,
                _ => embedded.get(id),
            };
            let mut from_config = |key: &str| shown.as_mut().and_then(|s| s.remove(key));
            let need_assoc = match (listed, from_config(model::ASSOCIATION_MAP)) {
                (true, _) => false,
                (false, Some(map)) if map.is_object() => {
                    obj.insert(model::ASSOCIATION_MAP.into(), map);
                    false
                }
                (false, _) => true,
            };
            if !has_groups {
                if let Some(groups) = from_config(model::USER_GROUPS) {
                    obj.insert(model::USER_GROUPS.into(), groups);
                }
            }
            let need_groups = !obj.get(model::USER_GROUPS).is_some_and(Value::is_array);
            if need_assoc || need_groups {
                look_up.push((i, id.clone(), need_assoc, need_groups));
            }
        }
        actions.push(action);
    }
    let found: Vec<(usize, Option<Value>, Option<Value>)> = stream::iter(look_up)
        .map(|(i, id, need_assoc, need_groups)| async move {
            let assoc = if need_assoc {
                let map = cluster.associations(&id).await.map_err(|e| {
                    cluster_error(cluster, "admin/embed/actions/{id}/associations", e)
                })?;
                Some(Value::Object(map))
            } else {
                None
            };
            let groups = if need_groups {
                let one = cluster
                    .action(&id)
                    .await
                    .map_err(|e| cluster_error(cluster, "admin/embed/actions/{id}", e))?;
                one.get(model::USER_GROUPS).cloned()
            } else {
                None
            };
            Ok::<_, Error>((i, assoc, groups))
        })
        .buffer_unordered(READ_PARALLEL)
        .try_collect()
        .await?;
    for (i, assoc, groups) in found {
        if let Some(obj) = actions.get_mut(i).and_then(Value::as_object_mut) {
            if let Some(a) = assoc {
                obj.insert(model::ASSOCIATION_MAP.into(), a);
            }
            if let Some(g) = groups {
                obj.insert(model::USER_GROUPS.into(), g);
            }
        }
    }
    Ok(actions)
}

/// Configinfo's own list of actions, by id, each read (the fields the
/// action list may lack) only when asked for.
struct Embedded<'a>(HashMap<String, &'a RawValue>);

impl<'a> Embedded<'a> {
    fn of(listed: &'a [Box<RawValue>], list: &[Value]) -> Embedded<'a> {
        let wanted: HashSet<&str> = list
            .iter()
            .filter_map(|a| a.get("id").and_then(Value::as_str))
            .collect();
        let id_only = ["id".to_string()];
        Embedded(
            listed
                .iter()
                .filter_map(|raw| {
                    // Read as any answer is (a key given twice: the last).
                    let item = read_answer_keeping(raw.get().as_bytes(), &id_only).ok()?;
                    let id = item.get("id")?.as_str()?;
                    wanted.contains(id).then(|| (id.to_string(), raw.as_ref()))
                })
                .collect(),
        )
    }

    /// The associations and groups configinfo's list shows of `id`, as
    /// it shows them (a `null` too).
    fn get(&self, id: &str) -> Option<Map<String, Value>> {
        // Sorted, as `read_answer_keeping` asks.
        let fields = [
            model::ASSOCIATION_MAP.to_string(),
            model::USER_GROUPS.to_string(),
        ];
        match read_answer_keeping(self.0.get(id)?.get().as_bytes(), &fields) {
            Ok(Value::Object(shown)) => Some(shown),
            _ => None,
        }
    }
}

/// Which of `guids` exist on the cluster as objects of `query`'s kind.
/// The headers of the objects of one kind among `ids` (every object of
/// the kind when `ids` is empty).
pub async fn object_headers(
    cluster: &Cluster,
    query: ObjectQuery,
    ids: &[String],
) -> Result<Vec<Value>, Error> {
    cluster
        .object_headers(query, ids)
        .await
        .map_err(|e| cluster_error(cluster, "metadata/listobjectheaders", e))
}

pub async fn find_objects(
    cluster: &Cluster,
    query: ObjectQuery,
    guids: &[String],
) -> Result<HashSet<String>, Error> {
    if guids.is_empty() {
        return Ok(HashSet::new());
    }
    let headers = cluster
        .object_headers(query, guids)
        .await
        .map_err(|e| cluster_error(cluster, "metadata/listobjectheaders", e))?;
    Ok(headers
        .iter()
        .filter_map(|h| h.get("id").and_then(Value::as_str).map(str::to_string))
        .collect())
}
