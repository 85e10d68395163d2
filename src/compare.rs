//! The comparison step: both sides loaded, the source made comparable
//! with the target (mapped, secrets reconciled) and diffed. What diff,
//! plan, validate, apply and watch all start from.

use serde_json::{Map, Value};

use crate::api::{v2map, Api};
use crate::config::{Settings, SideOrgs};
use crate::diff::{self, Notes, Op};
use crate::error::Error;
use crate::fetch::{self, Connections, Side};
use crate::model;
use crate::secrets;

/// Both sides and what turns the target into the source.
pub struct Comparison {
    pub source: Side,
    pub target: Side,
    /// The source's document as the target should become: mapped, with
    /// secret values (real ones between live clusters) in place.
    pub desired: Value,
    /// The ops that turn the target's document into `desired`.
    pub ops: Vec<Op>,
    /// Secret placeholders no value was given for.
    pub unresolved: Vec<String>,
    /// Differences apply would not make: notes, not ops.
    pub notes: Notes,
    /// `--ignore`/`--only` rules that match nothing on either side.
    pub unmatched_rules: Vec<String>,
    /// Every secret placeholder of the source.
    pub placeholders: Vec<String>,
    /// Between a v1 and a v2 side, actions are compared as both APIs can
    /// hold them (`v2map::project`); `Some(target API)` then.
    pub view: Option<Api>,
    /// What the target's API cannot hold of the source: pointer and why.
    /// Apply, plan and validate refuse while there is any.
    pub inexpressible: Vec<String>,
}

impl Comparison {
    /// Refuses (exit 1, before anything is written) changes under
    /// protected settings, unless `allow`.
    pub fn check_protected(&self, allow: bool) -> Result<(), Error> {
        refuse_protected(&self.notes.protected, allow, &self.target.label)
    }

    /// Refuses (exit 1, before anything is written) what the target's API
    /// cannot hold or cannot write, naming each pointer.
    pub fn check_expressible(&self) -> Result<(), Error> {
        if !self.notes.unwritable.is_empty() {
            let lines: Vec<String> = self
                .notes
                .unwritable
                .iter()
                .map(|p| format!("{p}: {}", diff::unwritable_why(p)))
                .collect();
            return Err(Error::Usage(format!(
                "{}: the config differs where it cannot be written; nothing was written (leave these out with --ignore, or make them alike on {}):\n  {}",
                self.target.label,
                self.source.label,
                lines.join("\n  ")
            )));
        }
        if self.inexpressible.is_empty() {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "{} ({}) cannot hold what {} has; nothing was written (leave these out with --ignore, or change them on the source):\n  {}",
            self.target.label,
            self.target.api.name(),
            self.source.label,
            self.inexpressible.join("\n  ")
        )))
    }
}

/// How two sides are compared.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Actions only on the target are deletions (else notes).
    pub prune: bool,
    /// `--source-org`, `--target-org`.
    pub orgs: SideOrgs,
    /// Leave the target's config as it is: another target of the same
    /// cluster writes it (rollout to several Orgs of one cluster).
    pub keep_config: bool,
}

/// Loads both REFs concurrently, each in its Org.
pub async fn load_pair(
    settings: &Settings,
    conns: &Connections,
    source: &str,
    target: &str,
    orgs: &SideOrgs,
) -> Result<(Side, Side), Error> {
    let (sr, tr) = (
        settings.resolve_in(source, orgs.source.as_deref())?,
        settings.resolve_in(target, orgs.target.as_deref())?,
    );
    tokio::try_join!(
        fetch::load(&sr, settings, conns),
        fetch::load(&tr, settings, conns)
    )
}

/// Loads and compares two REFs.
pub async fn compare_refs(
    settings: &Settings,
    conns: &Connections,
    source: &str,
    target: &str,
    opts: Options,
) -> Result<Comparison, Error> {
    let (s, t) = load_pair(settings, conns, source, target, &opts.orgs).await?;
    compare(settings, s, t, opts)
}

/// Like `compare_refs`, where only the ops, the notes and the warnings of
/// the comparison are used (`tsmigrate diff`), and the target's values
/// where the ops are, and its fingerprint (`tsmigrate plan`, with
/// `fingerprint`). Two snapshot directories are then read side by side,
/// and what both hold byte for byte is left out of both
/// (`fetch::load_snapshot_pair`): the ops and notes are those of the full
/// documents, but `desired` and the sides' documents hold only what
/// differs.
pub async fn diff_refs(
    settings: &Settings,
    conns: &Connections,
    (source, target): (&str, &str),
    opts: Options,
    fingerprint: bool,
) -> Result<Comparison, Error> {
    let (sr, tr) = (
        settings.resolve_in(source, opts.orgs.source.as_deref())?,
        settings.resolve_in(target, opts.orgs.target.as_deref())?,
    );
    match fetch::load_snapshot_pair(&sr, &tr, settings, fingerprint).await? {
        Some((s, t)) => compare(settings, s, t, opts),
        None => compare_refs(settings, conns, source, target, opts).await,
    }
}

/// Compares two loaded sides.
pub fn compare(
    settings: &Settings,
    mut source: Side,
    target: Side,
    opts: Options,
) -> Result<Comparison, Error> {
    let unmatched_rules = settings
        .selection
        .unmatched(&[&source.matched, &target.matched]);
    // The source's document becomes the desired one: moved, not copied.
    let mut desired = std::mem::take(&mut source.doc);
    let mapping = settings.mapping_between(
        (source.profile.as_deref(), &source.url, source.org_id()),
        (target.profile.as_deref(), &target.url, target.org_id()),
    )?;
    if let Some(mapping) = &mapping {
        mapping.apply(&mut desired);
    }
    let admin_notes = admin_groups(&mut desired, &source, &target);
    let secrets::Reconciled {
        unresolved,
        placeholders,
    } = secrets::reconcile_at(
        &mut desired,
        &target.doc,
        &source.secret_paths,
        &target.secret_paths,
        &source.left_out_placeholders,
        &settings.secrets,
    )?;
    let mut target = target;
    let view = (source.api != target.api).then_some(target.api);
    let mut inexpressible = Vec::new();
    if let Some(api) = view {
        inexpressible = v2map::project_doc(&mut desired, api);
        target.project(api);
    }
    let config_scope = partial_config(&mut desired, &source, &target);
    let mut notes = what_apply_leaves(
        &mut desired,
        &target.doc,
        settings,
        &opts,
        opts.keep_config || (same_cluster(&source, &target) && source.org_id() != target.org_id()),
    );
    notes.config_scope = config_scope;
    notes.server_owned.extend(admin_notes);
    let ops = diff::diff_reduced(&target.doc, &desired, &target.reduced);
    let pointers: Vec<String> = ops.iter().map(diff::Op::pointer).collect();
    notes.protected = crate::select::protected_changes(
        pointers.iter().map(String::as_str),
        &settings.protected,
        &settings.selection.only,
    );
    Ok(Comparison {
        source,
        target,
        desired,
        ops,
        unresolved,
        notes,
        unmatched_rules,
        placeholders,
        view,
        inexpressible,
    })
}

/// The Orgs' administrators groups (`model::Org::admin_group`), which a
/// cluster may add to an action it creates: the source Org's stands for
/// the target Org's, and on an action both sides have, the target's where
/// the source lacks it is the cluster's, kept, and told in the returned
/// notes (else every diff after such a create would remove it).
fn admin_groups(desired: &mut Value, source: &Side, target: &Side) -> Vec<String> {
    let admin = |side: &Side| side.org.as_ref().and_then(|o| o.admin_group.clone());
    let (theirs, ours) = (admin(source), admin(target));
    let mut notes = Vec::new();
    let Some(want) = desired.get_mut("actions").and_then(Value::as_object_mut) else {
        return notes;
    };
    let have = crate::document::actions(&target.doc);
    for (name, action) in want.iter_mut() {
        let Some(list) = action
            .get_mut(model::USER_GROUPS)
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        if let (Some(theirs), Some(ours)) = (&theirs, &ours) {
            for g in list.iter_mut() {
                if g.as_str() == Some(theirs.as_str()) {
                    *g = Value::String(ours.clone());
                }
            }
        }
        let (Some(ours), Some(had)) = (
            &ours,
            have.get(name)
                .and_then(|a| a.get(model::USER_GROUPS))
                .and_then(Value::as_array),
        ) else {
            continue;
        };
        let is_ours = |g: &Value| g.as_str() == Some(ours.as_str());
        if list.iter().any(is_ours) {
            continue;
        }
        if let Some(at) = had.iter().position(is_ours) {
            list.insert(at.min(list.len()), Value::String(ours.clone()));
            notes.push(format!(
                "{}: the Org's administrators group {ours}, which the cluster adds, is on the target only; kept",
                crate::pointer::join(&["actions", name.as_str(), model::USER_GROUPS])
            ));
        }
    }
    notes
}

/// Config where a side shows only some keys (REST v2: the overridden
/// ones): a key it does not show says nothing. A partial source sets only
/// the keys it shows; a full source sets only the keys a partial target
/// shows (the target's value of any other is unknown). Returns the note
/// that says what was compared, if anything was left out.
fn partial_config(desired: &mut Value, source: &Side, target: &Side) -> Option<String> {
    if !source.partial_config() && !target.partial_config() {
        return None;
    }
    let have = target
        .doc
        .get("config")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let want = desired
        .get("config")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut merged = have.clone();
    let mut left_out: Vec<String> = Vec::new();
    if target.partial_config() && !source.partial_config() {
        let mut shown = Vec::new();
        leaves(&have, &mut Vec::new(), &mut shown);
        let mut all = Vec::new();
        leaves(&want, &mut Vec::new(), &mut all);
        for path in &all {
            if shown.contains(path) {
                if let Some(v) = crate::pointer::get(&want, path) {
                    crate::pointer::set(&mut merged, path, v.clone());
                }
            } else {
                left_out.push(path.join("."));
            }
        }
    } else {
        overlay(&mut merged, &want);
    }
    desired["config"] = merged;
    let partial = if source.partial_config() {
        source
    } else {
        target
    };
    Some(if target.partial_config() && !source.partial_config() {
        format!(
            "config: {} speaks REST v2, which shows only overridden config keys: the {} it shows {} compared; {} more of {} {} not (their value there is unknown){}",
            partial.label,
            crate::words::plural(count_leaves(&have), "key", "keys"),
            crate::words::agree(count_leaves(&have), "was", "were"),
            left_out.len(),
            source.label,
            crate::words::agree(left_out.len(), "was", "were"),
            named(&left_out)
        )
    } else {
        format!(
            "config: {} speaks REST v2, which shows only overridden config keys: those {} are compared; every other key of {} is left as it is",
            partial.label,
            count_leaves(&want),
            target.label
        )
    })
}

/// ": a, b, c" naming up to 20 keys, then how many more.
fn named(keys: &[String]) -> String {
    const SHOWN: usize = 20;
    match keys.len() {
        0 => String::new(),
        n if n <= SHOWN => format!(": {}", keys.join(", ")),
        n => format!(": {} and {} more", keys[..SHOWN].join(", "), n - SHOWN),
    }
}

/// The paths of the leaves of a config (arrays are leaves).
fn leaves(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                path.push(k.clone());
                leaves(child, path, out);
                path.pop();
            }
        }
        _ if path.is_empty() => {}
        _ => out.push(path.clone()),
    }
}

fn count_leaves(v: &Value) -> usize {
    let mut out = Vec::new();
    leaves(v, &mut Vec::new(), &mut out);
    out.len()
}

/// `top`'s leaves written over `base`.
fn overlay(base: &mut Value, top: &Value) {
    match (base, top) {
        (Value::Object(b), Value::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => overlay(slot, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, t) => *b = t.clone(),
    }
}

/// Whether two sides are (Orgs of) one cluster.
pub fn same_cluster(a: &Side, b: &Side) -> bool {
    let norm = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
    !a.url.is_empty() && norm(&a.url) == norm(&b.url)
}

/// Makes `desired` what apply would make of the target: config keys only
/// the target has stay (the API cannot remove them), actions only the
/// target has stay without `--prune`, and an action selected only in part
/// is neither created nor deleted. Returns what was left, as notes.
fn what_apply_leaves(
    desired: &mut Value,
    target: &Value,
    settings: &Settings,
    opts: &Options,
    shared_config: bool,
) -> Notes {
    let mut notes = Notes {
        shared_config,
        ..Notes::default()
    };
    if shared_config {
        // Two Orgs of one cluster: its config is one, so it stays as it is.
        if let Some(config) = target.get("config") {
            desired["config"] = config.clone();
        }
    }
    if let (Some(want), Some(have)) = (
        desired.get_mut("config").and_then(Value::as_object_mut),
        target.get("config").and_then(Value::as_object),
    ) {
        keep_unremovable(want, have, &mut vec!["config"], &mut notes.unremovable);
        keep_unwritable(want, have, &mut Vec::new(), &mut notes.unwritable);
    }
    let have = crate::document::actions(target);
    let Some(want) = desired.get_mut("actions").and_then(Value::as_object_mut) else {
        return notes;
    };
    let partial = |name: &str| {
        settings.selection.visibility(&["actions", name]) != crate::select::Visibility::Full
    };
    want.retain(|name, _| {
        let keep = have.contains_key(name) || !partial(name);
        if !keep {
            notes.partial.push(name.clone());
        }
        keep
    });
    // The cluster's own fields of an action it has: not compared, told.
    for (name, action) in want.iter_mut() {
        let Some(theirs) = have.get(name) else {
            continue;
        };
        for field in crate::model::SERVER_OWNED_ACTION_FIELDS {
            let (Some(w), Some(h)) = (action.get(*field), theirs.get(*field)) else {
                continue;
            };
            if w != h {
                notes.server_owned.push(format!(
                    "{}: {w} on the source, {h} here",
                    crate::pointer::join(&["actions", name.as_str(), field])
                ));
                action[*field] = h.clone();
            }
        }
        // Fields the cluster keeps in a form of its own: the same in that
        // form, the target's stays (else every diff would rewrite it).
        for path in crate::model::NORMALIZED_ACTION_FIELDS {
            let owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            let (Some(w), Some(h)) = (
                crate::pointer::get(action, &owned),
                crate::pointer::get(theirs, &owned),
            ) else {
                continue;
            };
            if w != h && model::server_form(path, w) == model::server_form(path, h) {
                let mut segs = vec!["actions", name.as_str()];
                segs.extend_from_slice(path);
                notes.server_owned.push(format!(
                    "{}: {w} on the source, {h} here: the same to the cluster, which keeps its own form",
                    crate::pointer::join(&segs)
                ));
                let h = h.clone();
                crate::pointer::set(action, &owned, h);
            }
        }
    }
    for (name, action) in have {
        if want.contains_key(name) {
            continue;
        }
        if !opts.prune {
            notes.kept.push(name.clone());
        } else if partial(name) {
            notes.partial.push(name.clone());
        } else {
            continue;
        }
        want.insert(name.clone(), action.clone());
    }
    notes
}

/// Puts the target's value back (or takes the key out, where the target
/// has none) wherever `want` differs at a config key the API cannot
/// write, listing its pointer in `out`: the diff is then what apply
/// could write, and the rest is a note. `path` is below the config, and
/// the recursion is `changes::config_changes`', which writes leaves.
fn keep_unwritable(
    want: &mut Map<String, Value>,
    have: &Map<String, Value>,
    path: &mut Vec<String>,
    out: &mut Vec<String>,
) {
    let keys: Vec<String> = want.keys().cloned().collect();
    for k in keys {
        path.push(k.clone());
        let h = have.get(&k);
        match (want.get_mut(&k), h) {
            (Some(Value::Object(w)), Some(Value::Object(h))) if !w.is_empty() => {
                keep_unwritable(w, h, path, out);
            }
            (Some(w), h) if h != Some(w) && crate::model::unwritable_config_key(path).is_some() => {
                match h {
                    Some(h) => *w = h.clone(),
                    None => {
                        want.remove(&k);
                    }
                }
                let mut p = vec!["config".to_string()];
                p.extend(path.iter().cloned());
                out.push(crate::pointer::join(&p));
            }
            _ => {}
        }
        path.pop();
    }
}

fn keep_unremovable<'a>(
    want: &mut Map<String, Value>,
    have: &'a Map<String, Value>,
    path: &mut Vec<&'a str>,
    out: &mut Vec<String>,
) {
    for (k, h) in have {
        match want.get_mut(k) {
            None => {
                path.push(k);
                out.push(crate::pointer::join(path));
                path.pop();
                want.insert(k.clone(), h.clone());
            }
            Some(Value::Object(w)) if !w.is_empty() => {
                if let Value::Object(h) = h {
                    path.push(k);
                    keep_unremovable(w, h, path, out);
                    path.pop();
                }
            }
            Some(_) => {}
        }
    }
}

/// Refuses `protected` changes unless `allow` (`apply --plan` checks a
/// plan's notes with it too).
pub fn refuse_protected(protected: &[String], allow: bool, target: &str) -> Result<(), Error> {
    if allow || protected.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{target}: the changes touch protected settings, which should not travel between environments (an identity provider, directory credentials, the mail server, session length); nothing was written. Pass --allow-protected to write them, name them with --only, or leave them out with --ignore:\n  {}",
        protected.join("\n  ")
    )))
}
