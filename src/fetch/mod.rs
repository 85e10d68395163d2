//! One side of a migration: a live cluster or a snapshot directory, read
//! into its canonical document (`load`). The Org pool (connections.rs)
//! opens and enters the live ones, the reader (reader.rs) reads them, and
//! snapshot_side.rs makes the sides of snapshots.

mod connections;
mod error;
mod reader;
mod snapshot_side;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use connections::Connections;
pub use reader::{find_objects, object_headers, read_document, read_document_of, LiveDocument};
pub use snapshot_side::load_snapshot_pair;

use crate::api::{self, Cluster};
use crate::config::{ClusterRef, Settings};
use crate::error::Error;
use crate::model;
use error::cluster_error;
use snapshot_side::{snapshot_side, Selected};

/// A loaded side.
#[derive(Clone)]
pub struct Side {
    pub label: String,
    /// The canonical document, ignored paths removed.
    pub doc: Value,
    /// The actions as read, before ignore rules and before being seen as
    /// both APIs hold them (`{"actions": …}`, to fill PUT bodies with what
    /// the document leaves out); `Null` while the document holds them
    /// whole (no rule leaves part of them out, no `project`) and for a
    /// snapshot, which is never written to.
    pub raw: Value,
    /// Action name → GUID on this cluster (empty for snapshots).
    pub ids: BTreeMap<String, String>,
    pub cluster: Option<Cluster>,
    /// Where the document's secrets are (ignored paths removed).
    pub secret_paths: Vec<Vec<String>>,
    /// Which `--ignore`/`--only` rules match somewhere in the document
    /// as read (before ignored paths were removed).
    pub matched: crate::select::Matched,
    /// The secret placeholders (where, and the pointer each names) in what
    /// was left out of the document as alike on both sides
    /// (`load_snapshot_pair`); empty otherwise.
    pub left_out_placeholders: Vec<(Vec<String>, String)>,
    /// A snapshot's fingerprint (`snapshot::fingerprint`), from its
    /// files; `None` for a live cluster, whose is computed from its
    /// document when a plan needs it.
    pub fingerprint: Option<String>,
    /// On a target read side by side with its source
    /// (`load_snapshot_pair`): the arrays both documents hold reduced,
    /// which the diff and the plan's guards must know. Empty otherwise.
    pub reduced: crate::diff::Reduced,
    /// The cluster's URL (for a snapshot: the URL it was exported from).
    pub url: String,
    /// The profile it is (by name or URL), for `[[maps]]`.
    pub profile: Option<String>,
    /// The Org (for a snapshot: the one it was exported from); `None` on
    /// a cluster without Orgs.
    pub org: Option<model::Org>,
    /// The API it was read through (for a snapshot: the one it was
    /// exported through). On REST v2 the config holds only the keys
    /// `system/config-overrides` shows.
    pub api: api::Api,
    /// When a live cluster's read began (`None` for a snapshot).
    pub read_at: Option<std::time::Instant>,
}

impl Side {
    /// The Org's id: the Primary Org's (0) on a cluster without Orgs.
    pub fn org_id(&self) -> i64 {
        self.org.as_ref().map_or(model::PRIMARY_ORG, |o| o.id)
    }

    /// Where it came from, for the snapshot's `tsmigrate.json`.
    pub fn origin(&self) -> crate::snapshot::Origin {
        crate::snapshot::Origin {
            api: self.api,
            ..crate::snapshot::Origin::new(&self.url, self.org.clone())
        }
    }

    /// Whether its config holds only some keys (REST v2: the overridden
    /// ones), so that a key it lacks says nothing.
    pub fn partial_config(&self) -> bool {
        self.api == api::Api::V2
    }

    /// Its actions as both APIs hold them (between a v1 and a v2 side).
    /// A live side keeps its actions as read in `raw` first: the fields
    /// only its own API holds fill what is written back there.
    pub fn project(&mut self, to: api::Api) {
        if self.cluster.is_some() && self.raw.is_null() {
            let actions = self.doc.get("actions").cloned().unwrap_or(Value::Null);
            self.raw = serde_json::json!({ "actions": actions });
        }
        crate::api::v2map::project_doc(&mut self.doc, to);
    }

    /// The live cluster, or a usage error naming the snapshot.
    pub fn live(&self) -> Result<&Cluster, Error> {
        self.cluster.as_ref().ok_or_else(|| {
            Error::Usage(format!(
                "--target {}: a snapshot directory cannot be written to; name a live cluster",
                self.label
            ))
        })
    }
}

/// The target's `GET admin/configinfo/overrides`, which validation checks
/// config values against, for the keys `desired` changes: read when it
/// changes any, else not needed (`None`).
pub async fn overrides_for(
    side: &Side,
    desired: &Value,
) -> Result<Option<Map<String, Value>>, Error> {
    let Some(cluster) = &side.cluster else {
        return Ok(None);
    };
    let (Some(Value::Object(want)), have) = (desired.get("config"), side.doc.get("config")) else {
        return Ok(None);
    };
    let empty = Map::new();
    let have = have.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys = Vec::new();
    changed_keys(want, have, &mut Vec::new(), &mut keys);
    if keys.is_empty() {
        return Ok(None);
    }
    keys.sort();
    cluster
        .overrides(&keys)
        .await
        .map(Some)
        .map_err(|e| cluster_error(cluster, "admin/configinfo/overrides", e))
}

/// The dotted keys where `want` differs from `have`, at every depth (an
/// object that differs, and the keys below it that do).
fn changed_keys(
    want: &Map<String, Value>,
    have: &Map<String, Value>,
    path: &mut Vec<String>,
    out: &mut Vec<String>,
) {
    for (k, v) in want {
        let had = have.get(k);
        if had == Some(v) {
            continue;
        }
        path.push(k.clone());
        out.push(path.join("."));
        if let (Value::Object(w), Some(Value::Object(h))) = (v, had) {
            changed_keys(w, h, path, out);
        }
        path.pop();
    }
}

pub async fn load(r: &ClusterRef, settings: &Settings, conns: &Connections) -> Result<Side, Error> {
    match r {
        ClusterRef::Snapshot(dir, _) => {
            // Off the async threads, so that two sides load in parallel.
            let dir = dir.clone();
            let selection = settings.selection.clone();
            let (doc, origin) = tokio::task::spawn_blocking(move || {
                let (doc, origin, fingerprint) = crate::snapshot::read_fingerprinted(&dir)?;
                let mut selected = Selected::of(doc, &selection);
                selected.fingerprint = Some(fingerprint);
                Ok::<_, Error>((selected, origin))
            })
            .await??;
            snapshot_side(r, doc, origin, settings)
        }
        ClusterRef::Live(live) => {
            let cluster = conns.cluster(live, &settings.net).await?;
            let org = cluster.org();
            let api = cluster.api();
            // The overrides metadata is read when a config key is to
            // change (`overrides_for`): most applies to an Org change none.
            let document = match conns.take_read_ahead(live) {
                Some(read) => read,
                None => read_document(&cluster).await?,
            };
            crate::secrets::remember_all(&document.doc);
            // Kept only where the rules may leave something of an action
            // out: a second copy of every action is not free.
            let raw = if settings.selection.keeps_whole("actions") {
                Value::Null
            } else {
                serde_json::json!({"actions": document.doc.get("actions").cloned().unwrap_or(Value::Null)})
            };
            let document_started = document.started;
            let mut doc = document.doc;
            let matched = settings.selection.matched_in(&doc);
            settings.selection.strip(&mut doc);
            let secret_paths = crate::secrets::secret_paths(&doc);
            Ok(Side {
                label: r.label(),
                doc,
                raw,
                ids: document.ids,
                cluster: Some(cluster),
                secret_paths,
                matched,
                left_out_placeholders: Vec::new(),
                fingerprint: None,
                reduced: Default::default(),
                url: live.endpoint.url.clone(),
                profile: live.profile.clone(),
                org,
                api,
                read_at: Some(document_started),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_overrides_asked_for_are_those_of_the_keys_that_change() {
        let want = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": {"f": 1}, "g": [1], "new": true});
        let have = json!({"a": 1, "b": {"c": 2, "d": 4}, "e": {"f": 1}, "g": [2]});
        let mut keys = Vec::new();
        changed_keys(
            want.as_object().unwrap(),
            have.as_object().unwrap(),
            &mut Vec::new(),
            &mut keys,
        );
        assert_eq!(keys, ["b", "b.d", "g", "new"]);
    }
}
