//! The sides of snapshot directories: a document with its ignored paths
//! removed, checked to be of the Org its REF asks for; and two snapshots
//! read side by side, for their diff only.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Side;
use crate::api;
use crate::config::{ClusterRef, Settings};
use crate::error::Error;
use crate::model;

/// Two snapshot directories read for their diff only
/// (`snapshot::read_pair`: what both hold byte for byte is left out of
/// both documents). `None` where that would not give the diff, notes and
/// warnings of the full read: a REF that is not a snapshot, ignore or
/// only rules (one that matches nothing is reported, and it may match
/// only what was left out), a side read through REST v2 (its partial
/// config is compared by counting keys), or a mapping between the two
/// (it changes the source, so bytes alike may not stay alike). With
/// `fingerprint`, the target side has its snapshot's fingerprint.
pub async fn load_snapshot_pair(
    source: &ClusterRef,
    target: &ClusterRef,
    settings: &Settings,
    fingerprint: bool,
) -> Result<Option<(Side, Side)>, Error> {
    let (ClusterRef::Snapshot(a, _), ClusterRef::Snapshot(b, _)) = (source, target) else {
        return Ok(None);
    };
    if settings.selection.has_rules() {
        return Ok(None);
    }
    let (oa, ob) = (crate::snapshot::origin(a)?, crate::snapshot::origin(b)?);
    let id = |o: &crate::snapshot::Origin| o.org.as_ref().map_or(model::PRIMARY_ORG, |o| o.id);
    let mapping = settings.mapping_between(
        (
            settings.profile_for_url(&oa.url).as_deref(),
            &oa.url,
            id(&oa),
        ),
        (
            settings.profile_for_url(&ob.url).as_deref(),
            &ob.url,
            id(&ob),
        ),
    )?;
    if mapping.is_some() || oa.api != api::Api::V1 || ob.api != api::Api::V1 {
        return Ok(None);
    }
    let (a, b, selection) = (a.clone(), b.clone(), settings.selection.clone());
    let ([(da, oa), (db, ob)], reduced) = tokio::task::spawn_blocking(move || {
        let pair = crate::snapshot::read_pair(&a, &b, fingerprint)?;
        // Alike on both sides: the same placeholders, where not ignored.
        let left_out: Vec<(Vec<String>, String)> = pair
            .left_out_placeholders
            .into_iter()
            .filter(|(at, _)| selection.visibility(at) != crate::select::Visibility::Hidden)
            .collect();
        let [(da, oa), (db, ob)] = pair.sides;
        let mut sa = Selected::of(da, &selection);
        let mut sb = Selected::of(db, &selection);
        sa.left_out_placeholders.clone_from(&left_out);
        sb.left_out_placeholders = left_out;
        sb.fingerprint = pair.target_fingerprint;
        Ok::<_, Error>(([(sa, oa), (sb, ob)], pair.reduced))
    })
    .await??;
    let source_side = snapshot_side(source, da, oa, settings)?;
    let mut target_side = snapshot_side(target, db, ob, settings)?;
    target_side.reduced = reduced;
    Ok(Some((source_side, target_side)))
}

/// A document with its ignored paths removed, and where its secrets are.
pub(super) struct Selected {
    doc: Value,
    matched: crate::select::Matched,
    secret_paths: Vec<Vec<String>>,
    left_out_placeholders: Vec<(Vec<String>, String)>,
    /// The snapshot's fingerprint, where it was read.
    pub(super) fingerprint: Option<String>,
}

impl Selected {
    pub(super) fn of(mut doc: Value, selection: &crate::select::Selection) -> Selected {
        let matched = selection.matched_in(&doc);
        selection.strip(&mut doc);
        let secret_paths = crate::secrets::secret_paths(&doc);
        Selected {
            doc,
            matched,
            secret_paths,
            left_out_placeholders: Vec::new(),
            fingerprint: None,
        }
    }
}

/// The side of a snapshot read as `doc`: ignored paths removed, and
/// checked to be of the Org its REF asks for.
pub(super) fn snapshot_side(
    r: &ClusterRef,
    doc: Selected,
    origin: crate::snapshot::Origin,
    settings: &Settings,
) -> Result<Side, Error> {
    if let ClusterRef::Snapshot(_, Some(spec)) = r {
        let primary = model::Org::new(model::PRIMARY_ORG, "");
        let org = origin.org.as_ref().unwrap_or(&primary);
        if !spec.matches(org) {
            return Err(Error::Usage(format!(
                "{}: the snapshot is of {}, not of Org {spec}",
                r.label(),
                origin.describe()
            )));
        }
    }
    let Selected {
        doc,
        matched,
        secret_paths,
        left_out_placeholders,
        fingerprint,
    } = doc;
    let url = origin.url;
    Ok(Side {
        api: origin.api,
        org: origin.org,
        label: r.label(),
        doc,
        raw: Value::Null,
        ids: BTreeMap::new(),
        cluster: None,
        secret_paths,
        matched,
        left_out_placeholders,
        fingerprint,
        reduced: Default::default(),
        profile: settings.profile_for_url(&url),
        url,
        read_at: None,
    })
}
