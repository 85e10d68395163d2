//! The comparison step: both sides loaded, the source made comparable
//! with the target (mapped, secrets reconciled) and diffed. What diff,
//! plan, validate, apply and watch all start from.

use serde_json::{Map, Value};

use crate::config::{Settings, SideOrgs};
use crate::diff::{self, Notes, Op};
use crate::error::Error;
use crate::fetch::{self, Connections, Side};
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

/// Compares two loaded sides.
pub fn compare(
    settings: &Settings,
    mut source: Side,
    target: Side,
    opts: Options,
) -> Result<Comparison, Error> {
    let unmatched_rules = settings.selection.unmatched(&[&source.doc, &target.doc]);
    // The source's document becomes the desired one: moved, not copied.
    let mut desired = std::mem::take(&mut source.doc);
    let mapping = settings.mapping_between(
        (source.profile.as_deref(), &source.url, source.org_id()),
        (target.profile.as_deref(), &target.url, target.org_id()),
    )?;
    if let Some(mapping) = &mapping {
        mapping.apply(&mut desired);
    }
    let secrets::Reconciled {
        unresolved,
        placeholders,
    } = secrets::reconcile_at(
        &mut desired,
        &target.doc,
        &source.secret_paths,
        &target.secret_paths,
        &settings.secrets,
    )?;
    let notes = what_apply_leaves(
        &mut desired,
        &target.doc,
        settings,
        &opts,
        opts.keep_config || (same_cluster(&source, &target) && source.org_id() != target.org_id()),
    );
    let ops = diff::diff(&target.doc, &desired);
    Ok(Comparison {
        source,
        target,
        desired,
        ops,
        unresolved,
        notes,
        unmatched_rules,
        placeholders,
    })
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
        keep_unremovable(
            want,
            have,
            &mut vec!["config".to_string()],
            &mut notes.unremovable,
        );
    }
    let have = crate::document::actions(target).clone();
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
    for (name, action) in have {
        if want.contains_key(&name) {
            continue;
        }
        if !opts.prune {
            notes.kept.push(name.clone());
        } else if partial(&name) {
            notes.partial.push(name.clone());
        } else {
            continue;
        }
        want.insert(name, action);
    }
    notes
}

fn keep_unremovable(
    want: &mut Map<String, Value>,
    have: &Map<String, Value>,
    path: &mut Vec<String>,
    out: &mut Vec<String>,
) {
    for (k, h) in have {
        path.push(k.clone());
        match want.get_mut(k) {
            None => {
                out.push(crate::pointer::join(path));
                want.insert(k.clone(), h.clone());
            }
            Some(Value::Object(w)) if !w.is_empty() => {
                if let Value::Object(h) = h {
                    keep_unremovable(w, h, path, out);
                }
            }
            Some(_) => {}
        }
        path.pop();
    }
}
