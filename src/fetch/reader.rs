//! The live document reader: configinfo and the actions of one cluster,
//! read concurrently, into the canonical document. It does not trust any
//! single answer for associations: the action list may show them empty
//! (as the API page's example does), so they come from configinfo's action
//! list, and from each action's own endpoint where neither says.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use super::error::cluster_error;
use crate::api::{self, Cluster};
use crate::document;
use crate::error::Error;
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
/// associations and user groups): also what verification reads.
pub async fn read_document(cluster: &Cluster) -> Result<LiveDocument, Error> {
    let started = std::time::Instant::now();
    let (config, list) = tokio::try_join!(
        async {
            cluster
                .configinfo()
                .await
                .map_err(|e| cluster_error(cluster, "admin/configinfo", e))
        },
        async {
            cluster
                .actions()
                .await
                .map_err(|e| cluster_error(cluster, "admin/embed/actions", e))
        },
    )?;
    // REST v2 searches answer every action whole (associations and groups).
    let (config, actions) = if cluster.api() == api::Api::V2 {
        (config, list)
    } else {
        complete_actions(cluster, config, list).await?
    };
    let (doc, ids) = document::from_api(cluster.label(), config, actions)?;
    Ok(LiveDocument { doc, ids, started })
}

/// The action list made whole: associations from configinfo's list when
/// the action list shows none, and from the action itself when neither
/// says; user groups from the action itself when the list lacks them.
async fn complete_actions(
    cluster: &Cluster,
    mut config: Map<String, Value>,
    list: Vec<Value>,
) -> Result<(Map<String, Value>, Vec<Value>), Error> {
    let embedded: HashMap<String, Value> = match config.remove(model::ACTION_LIST_KEY) {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|a| {
                let id = a.get("id")?.as_str()?.to_string();
                Some((id, a))
            })
            .collect(),
        _ => HashMap::new(),
    };
    let mut actions = Vec::with_capacity(list.len());
    let mut look_up: Vec<(usize, String, bool, bool)> = Vec::new();
    for (i, mut action) in list.into_iter().enumerate() {
        let id = action.get("id").and_then(Value::as_str).map(str::to_string);
        if let (Some(id), Some(obj)) = (&id, action.as_object_mut()) {
            let listed = obj
                .get(model::ASSOCIATION_MAP)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty());
            let from_config = embedded
                .get(id)
                .and_then(|e| e.get(model::ASSOCIATION_MAP))
                .filter(|m| m.is_object());
            let need_assoc = match (listed, from_config) {
                (true, _) => false,
                (false, Some(map)) => {
                    obj.insert(model::ASSOCIATION_MAP.into(), map.clone());
                    false
                }
                (false, None) => true,
            };
            let need_groups = !obj.get(model::USER_GROUPS).is_some_and(Value::is_array);
            if need_groups {
                if let Some(groups) = embedded.get(id).and_then(|e| e.get(model::USER_GROUPS)) {
                    obj.insert(model::USER_GROUPS.into(), groups.clone());
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
    Ok((config, actions))
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
