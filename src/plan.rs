//! Plan files: the patch with RFC 6902 `test` guards, the names of both
//! sides, the target it is bound to (cluster URL and Org) and a fingerprint
//! of it; the integrity and staleness checks used by apply. A plan never
//! holds a secret: every value in it is masked.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::diff::{Op, OpKind, Reduced};
use crate::error::Error;
use crate::model::Org;
use crate::{pointer, secrets};

pub(crate) const FORMAT: &str = "tsmigrate-plan";
pub(crate) const VERSION: u64 = 2;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format: String,
    pub version: u64,
    /// The tsmigrate that wrote it (information only).
    pub tool: String,
    pub source: String,
    /// The target's name (profile or URL).
    pub target: String,
    /// The cluster URL the plan was made for: it applies there only.
    pub target_url: String,
    /// The Org the plan was made for (0: the Primary Org).
    pub target_org: i64,
    /// Its name, on a cluster with Orgs (information only: the id binds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_org_name: Option<String>,
    /// Made between a v1 and a v2 side: actions compared as both APIs
    /// hold them, for this target API (the target is read so at apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<crate::api::Api>,
    /// When the plan was made (RFC 3339), if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_at: Option<String>,
    /// The target's fingerprint when planned: that of its snapshot
    /// (`snapshot::fingerprint_of`; for a live target, of the snapshot
    /// `export` would have written then).
    pub target_fingerprint: String,
    /// Paths the patch creates: they must still be absent at apply.
    pub absent: Vec<String>,
    /// Secrets the plan could not carry and no value was given for.
    #[serde(default)]
    pub unresolved_secrets: Vec<String>,
    /// Differences the plan leaves as they are (apply cannot or will not
    /// make them).
    #[serde(default, skip_serializing_if = "crate::diff::Notes::is_empty")]
    pub notes: crate::diff::Notes,
    /// RFC 6902 operations, `test` guards included.
    pub patch: Vec<Value>,
}

/// Guards every op: a `test` of the value it replaces or removes, of the
/// item an array insert lands next to; object members it adds go to
/// `absent`. `work` is a masked copy of the target, in which the arrays
/// `reduced` says hold a reduced item's id in its place.
fn guarded_on(ops: &[Op], mut work: Value, reduced: &Reduced) -> (Vec<Value>, Vec<String>) {
    let mut patch = Vec::with_capacity(ops.len() * 2);
    let mut absent = Vec::new();
    for op in ops {
        let ptr = op.pointer();
        let (parent_segs, last) = op.path.split_at(op.path.len().saturating_sub(1));
        match op.kind {
            OpKind::Replace | OpKind::Remove => {
                if let Some(cur) = pointer::get(&work, &op.path) {
                    // Masked again where it is now: an insert before it in
                    // an array moved it from where its placeholders name.
                    let cur = secrets::redact_at(&op.path, cur);
                    patch.push(json!({"op": "test", "path": ptr, "value": cur}));
                }
            }
            OpKind::Add => {
                match pointer::get(&work, parent_segs) {
                    Some(Value::Array(items)) => {
                        let idx = last
                            .first()
                            .and_then(|s| s.parse::<usize>().ok())
                            .unwrap_or(0);
                        let neighbour = if idx > 0 {
                            Some(idx - 1)
                        } else if !items.is_empty() {
                            Some(0)
                        } else {
                            None
                        };
                        if let Some(n) = neighbour {
                            let mut segs = parent_segs.to_vec();
                            segs.push(n.to_string());
                            let item = &items[n];
                            let value = match item.get("id") {
                                Some(id) if item.is_object() => {
                                    segs.push("id".into());
                                    id.clone()
                                }
                                // An item alike on both sides, reduced to its id.
                                _ if item.is_string() && reduced.holds(parent_segs) => {
                                    segs.push("id".into());
                                    item.clone()
                                }
                                _ => secrets::redact_at(&segs, item),
                            };
                            patch.push(
                                json!({"op": "test", "path": pointer::join(&segs), "value": value}),
                            );
                        } else {
                            // The first item of an empty array: it must still be empty.
                            patch.push(json!({"op": "test", "path": pointer::join(parent_segs), "value": []}));
                        }
                    }
                    _ => absent.push(ptr.clone()),
                }
            }
            OpKind::Test => {}
        }
        let masked = op.to_json_masked();
        if let Ok(p) = serde_json::from_value::<json_patch::Patch>(json!([masked.clone()])) {
            let _ = json_patch::patch(&mut work, &p);
        }
        patch.push(masked);
    }
    (patch, absent)
}

/// The plan of `ops` against `target_doc` (whose reduced arrays `reduced`
/// names), with the target's fingerprint as known (a snapshot's, from its
/// files) or else computed from it.
pub fn build(
    ops: &[Op],
    source: &str,
    target: &str,
    target_doc: &Value,
    target_fingerprint: Option<&str>,
    reduced: &Reduced,
    unresolved: &[String],
) -> Result<Plan, Error> {
    // One masked copy serves the fingerprint, then the guards.
    let masked = secrets::redact(target_doc);
    let target_fingerprint = match target_fingerprint {
        Some(known) => known.to_string(),
        None => crate::snapshot::fingerprint_of(&masked)?,
    };
    let (patch, absent) = guarded_on(ops, masked, reduced);
    Ok(Plan {
        format: FORMAT.into(),
        version: VERSION,
        tool: format!("tsmigrate {}", env!("CARGO_PKG_VERSION")),
        source: source.into(),
        target: target.into(),
        target_url: String::new(),
        target_org: crate::model::PRIMARY_ORG,
        target_org_name: None,
        view: None,
        made_at: None,
        target_fingerprint,
        absent,
        unresolved_secrets: unresolved.to_vec(),
        notes: Default::default(),
        patch,
    })
}

impl Plan {
    /// What a review report shows of this plan: its ops, with the values
    /// their guards hold, and where it is bound.
    pub fn view(&self) -> crate::diff::view::View {
        use crate::diff::view::{plan_ops, PlanFacts, View};
        let ops = plan_ops(&self.patch);
        let mut v = View::of(&ops, &self.notes, &self.source, &self.target)
            .with_unresolved(&self.unresolved_secrets, &ops);
        v.plan = Some(PlanFacts {
            target_url: self.target_url.clone(),
            target_org: self.target_org,
            made_at: self.made_at.clone(),
            guards: self
                .patch
                .iter()
                .filter(|o| o.get("op").and_then(Value::as_str) == Some("test"))
                .count(),
            fingerprint: self.target_fingerprint.clone(),
        });
        v
    }

    pub(crate) fn with_notes(mut self, notes: crate::diff::Notes) -> Plan {
        self.notes = notes;
        self
    }

    /// Binds the plan to the cluster at `url` and its Org `org`.
    /// Made between APIs: the target is read as both hold actions.
    pub(crate) fn viewed(mut self, view: Option<crate::api::Api>) -> Plan {
        self.view = view;
        self
    }

    pub(crate) fn bound_to(mut self, url: &str, org: Option<&Org>) -> Plan {
        self.target_url = url.trim_end_matches('/').to_string();
        self.target_org = org.map_or(crate::model::PRIMARY_ORG, |o| o.id);
        self.target_org_name = org.map(|o| o.name.clone());
        self.made_at =
            Some(humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string());
        self
    }

    /// Refuses to apply the plan anywhere but where it was made for.
    pub(crate) fn check_target(
        &self,
        url: &str,
        org: Option<&Org>,
        label: &str,
        file: &Path,
    ) -> Result<(), Error> {
        let here = url.trim_end_matches('/');
        let org_id = org.map_or(crate::model::PRIMARY_ORG, |o| o.id);
        let there = match &self.target_org_name {
            Some(name) => format!("Org {name} ({})", self.target_org),
            None => format!("Org {}", self.target_org),
        };
        let this = match org {
            Some(o) => format!("Org {o}"),
            None => format!("Org {org_id}"),
        };
        if self.target_url.is_empty() {
            return Err(Error::input(
                file.display(),
                "at /target_url: the plan is bound to no cluster; nothing was written (make it again)",
            ));
        }
        if self.target_url != here || self.target_org != org_id {
            return Err(Error::input(
                file.display(),
                format!(
                    "the plan was made for {} ({there}), not for {label} at {here} ({this}); nothing was written",
                    self.target_url
                ),
            ));
        }
        Ok(())
    }
}

pub(crate) fn read(path: &Path) -> Result<Plan, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse(&bytes, path)
}

/// A plan file's content, checked: format, version, operations, no secrets.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Plan, Error> {
    let raw: Value = crate::json::file::parse(bytes, path)?;
    match raw.get("format").and_then(Value::as_str) {
        Some(FORMAT) => {}
        _ => {
            return Err(Error::input(
                path.display(),
                format!("at /format: not a tsmigrate plan (expected \"{FORMAT}\")"),
            ))
        }
    }
    match raw.get("version").and_then(Value::as_u64) {
        Some(VERSION) => {}
        Some(v) => {
            return Err(Error::input(
                path.display(),
                format!("at /version: plan format {v} is not supported (this tsmigrate reads version {VERSION}); make the plan again with this tsmigrate"),
            ))
        }
        None => return Err(Error::input(path.display(), "at /version: expected a number")),
    }
    let plan: Plan = crate::json::file::parse(bytes, path)?;
    for (i, op) in plan.patch.iter().enumerate() {
        let valid = serde_json::from_value::<json_patch::PatchOperation>(op.clone());
        if let Err(e) = valid {
            return Err(Error::parse(
                path.display(),
                format!("at /patch/{i}: not an RFC 6902 operation ({e})"),
                e,
            ));
        }
        if contains_secret_value(op) {
            return Err(Error::input(
                path.display(),
                format!("at /patch/{i}: holds a secret value; plans carry only placeholders"),
            ));
        }
    }
    if let Err((i, why)) = check_integrity(&plan) {
        return Err(Error::input(
            path.display(),
            format!(
                "at /patch/{i}: {why}; the plan was edited, nothing was written (make it again)"
            ),
        ));
    }
    for (i, p) in plan.absent.iter().enumerate() {
        if pointer::split(p).is_none() {
            return Err(Error::input(
                path.display(),
                format!("at /absent/{i}: not a JSON Pointer"),
            ));
        }
    }
    Ok(plan)
}

/// The rules every plan `build` writes holds, so that a hand-edited one
/// that breaks them is refused before anything is written: only `add`,
/// `remove`, `replace` and `test`; paths under `/config/` and `/actions/`;
/// every changing op right after its guard (a `test` of the value it
/// changes, of an array neighbour for an insert, or its path in `absent`
/// for a new member); a `${secret:P}` placeholder only at pointer P.
/// Returns the index of the first op that breaks one, and which.
pub fn check_integrity(plan: &Plan) -> Result<(), (usize, String)> {
    let absent: std::collections::HashSet<&str> = plan.absent.iter().map(String::as_str).collect();
    for (i, op) in plan.patch.iter().enumerate() {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        if !matches!(kind, "add" | "remove" | "replace" | "test") {
            return Err((i, format!("the operation {kind:?} is not one a plan holds")));
        }
        let segs = pointer::split(path).unwrap_or_default();
        let inside = segs.len() >= 2 && matches!(segs[0].as_str(), "config" | "actions");
        if !inside {
            return Err((i, format!("{path:?} is outside /config/ and /actions/")));
        }
        if let Some(value) = op.get("value") {
            misplaced_placeholder(&segs, value).map_err(|why| (i, why))?;
        }
        let guard = i
            .checked_sub(1)
            .and_then(|j| plan.patch.get(j))
            .filter(|g| g.get("op").and_then(Value::as_str) == Some("test"));
        let guard_path = guard.and_then(|g| g.get("path")).and_then(Value::as_str);
        let guarded = match kind {
            "test" => true,
            "replace" | "remove" => guard_path == Some(path),
            // An insert into an array is guarded by a neighbour (or the
            // empty array); a new member of an object by `absent`.
            _ => {
                absent.contains(path)
                    || guard_path.is_some_and(|g| {
                        let parent = pointer::join(&segs[..segs.len() - 1]);
                        g.strip_prefix(&parent)
                            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                    })
            }
        };
        if !guarded {
            return Err((i, format!("the {kind} of {path} has no guard")));
        }
    }
    Ok(())
}

/// Every placeholder inside `value` (found at `segs`) names its own pointer.
fn misplaced_placeholder(segs: &[String], value: &Value) -> Result<(), String> {
    match value {
        Value::String(s) => match secrets::placeholder_pointer(s) {
            Some(p) if p != pointer::join(segs) => Err(format!(
                "the placeholder for {p} stands at {}",
                pointer::join(segs)
            )),
            _ => Ok(()),
        },
        Value::Object(m) => m.iter().try_for_each(|(k, v)| {
            let mut s = segs.to_vec();
            s.push(k.clone());
            misplaced_placeholder(&s, v)
        }),
        Value::Array(a) => a.iter().enumerate().try_for_each(|(i, v)| {
            let mut s = segs.to_vec();
            s.push(i.to_string());
            misplaced_placeholder(&s, v)
        }),
        _ => Ok(()),
    }
}

/// A hand-edited plan must not smuggle a secret in at a secret path.
fn contains_secret_value(op: &Value) -> bool {
    let (Some(path), Some(value)) = (op.get("path").and_then(Value::as_str), op.get("value"))
    else {
        return false;
    };
    let Some(segs) = pointer::split(path) else {
        return false;
    };
    secrets::secrets_of_at(&segs, value).iter().any(|v| {
        v.as_str()
            .is_none_or(|s| secrets::placeholder_pointer(s).is_none())
    })
}

pub(crate) fn write(path: &Path, plan: &Plan) -> Result<(), Error> {
    crate::fsutil::check_replaceable(path)
        .map_err(|why| Error::Usage(format!("--out {}: {why}", path.display())))?;
    let bytes = crate::json::file::to_pretty(plan)?;
    crate::fsutil::write_atomic(path, &bytes).map_err(|e| Error::io(path, e))
}

/// The paths whose guarded values no longer hold on `target`; empty when
/// the plan can be applied.
pub fn drift(plan: &Plan, target: &Value) -> Vec<String> {
    let mut work = secrets::redact(target);
    let mut drifted = Vec::new();
    let exists = |work: &Value, p: &str| {
        pointer::split(p).is_some_and(|segs| pointer::get(work, &segs).is_some())
    };
    // An absent path is where its add puts a member, in the document as
    // patched so far: an insert into an array before it shifts what its
    // indices name. One no add names is checked on the target as it is.
    let added: std::collections::HashSet<&str> = plan
        .patch
        .iter()
        .filter(|op| op.get("op").and_then(Value::as_str) == Some("add"))
        .filter_map(|op| op.get("path").and_then(Value::as_str))
        .collect();
    let absent: std::collections::HashSet<&str> = plan.absent.iter().map(String::as_str).collect();
    for p in &plan.absent {
        if !added.contains(p.as_str()) && exists(&work, p) {
            drifted.push(p.clone());
        }
    }
    for op in &plan.patch {
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match op.get("op").and_then(Value::as_str) {
            Some("test") => {
                let segs = pointer::split(&path).unwrap_or_default();
                // Masked where it is now, as its guard was made.
                let now = pointer::get(&work, &segs).map(|v| secrets::redact_at(&segs, v));
                if now.as_ref() != op.get("value") && !drifted.contains(&path) {
                    drifted.push(path);
                }
                continue;
            }
            Some("add")
                if absent.contains(path.as_str())
                    && exists(&work, &path)
                    && !drifted.contains(&path) =>
            {
                drifted.push(path.clone());
            }
            _ => {}
        }
        let applied = serde_json::from_value::<json_patch::Patch>(json!([op]))
            .map_err(|e| e.to_string())
            .and_then(|p| json_patch::patch(&mut work, &p).map_err(|e| e.to_string()));
        if applied.is_err() && !drifted.contains(&path) {
            drifted.push(path);
        }
    }
    drifted
}

/// The target as the plan wants it, with real values: the plan's ops on the
/// live document, placeholders resolved from `values` or else left as the
/// target has them. Returns the document and the unresolved pointers.
pub fn desired(
    plan: &Plan,
    target: &Value,
    values: &secrets::SecretValues,
) -> Result<(Value, Vec<String>), Error> {
    let ops: Vec<Value> = plan
        .patch
        .iter()
        .filter(|o| o.get("op").and_then(Value::as_str) != Some("test"))
        .cloned()
        .collect();
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops))
        .map_err(|e| Error::parse("plan", e.to_string(), e))?;
    let mut doc = target.clone();
    json_patch::patch(&mut doc, &patch).map_err(Error::PlanStale)?;
    let unresolved = secrets::reconcile(&mut doc, target, values)?;
    Ok((doc, unresolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(target: Value, source: Value) -> Plan {
        let ops = crate::diff::diff(&target, &source);
        build(&ops, "s", "t", &target, None, &Reduced::default(), &[]).unwrap()
    }

    #[test]
    fn plans_as_built_hold_and_edits_are_caught() {
        let target = json!({"config": {"a": 1, "list": [], "ldap": {"bindPassword": "x"}},
            "actions": {"A": {"detail": {"authToken": "t1"}}, "B": {"detail": {"authToken": "t2"}}}});
        let source = json!({"config": {"a": 2, "list": [{"id": "n"}], "ldap": {"bindPassword": "y"}},
            "actions": {"A": {"detail": {"authToken": "t3"}}, "B": {"detail": {"authToken": "t2"}}, "C": {"x": 1}}});
        let plan = plan_of(target, source);
        check_integrity(&plan).unwrap();
        let broken = |f: &dyn Fn(&mut Vec<Value>)| {
            let mut p = plan.clone();
            f(&mut p.patch);
            check_integrity(&p).unwrap_err().1
        };
        // A removed guard.
        let why = broken(&|ops| {
            let i = ops.iter().position(|o| o["op"] == "replace").unwrap();
            ops.remove(i - 1);
        });
        assert!(why.contains("has no guard"), "{why}");
        // copy/move and paths outside the document.
        let why = broken(&|ops| {
            ops.push(
                json!({"op": "copy", "from": "/config/ldap/bindPassword", "path": "/config/a"}),
            )
        });
        assert!(why.contains("\"copy\""), "{why}");
        let why =
            broken(&|ops| ops.push(json!({"op": "test", "path": "/elsewhere/x", "value": 1})));
        assert!(why.contains("outside"), "{why}");
        // One action's token placed on another.
        let why = broken(&|ops| {
            ops.push(json!({"op": "test", "path": "/actions/B/detail/authToken", "value": "${secret:/actions/B/detail/authToken}"}));
            ops.push(json!({"op": "replace", "path": "/actions/B/detail/authToken", "value": "${secret:/actions/A/detail/authToken}"}));
        });
        assert!(
            why.contains("placeholder for /actions/A/detail/authToken stands at /actions/B"),
            "{why}"
        );
    }

    #[test]
    fn secrets_of_any_type_are_placeholders_and_a_real_one_is_refused() {
        let target = json!({"config": {"sso": {"privateKey": ["k-old"], "pinSecret": 1111,
            "clientSecret": {"value": "old"}}}});
        let source = json!({"config": {"sso": {"privateKey": ["k-new"], "pinSecret": 2222,
            "clientSecret": {"value": "new"}}}});
        let plan = plan_of(target, source);
        let text = serde_json::to_string(&plan).unwrap();
        for value in ["k-old", "k-new", "1111", "2222", "\"old\"", "\"new\""] {
            assert!(!text.contains(value), "{value}: {text}");
        }
        check_integrity(&plan).unwrap();
        // Edited in: a real value at a secret key, or inside a secret.
        for op in [
            json!({"op": "replace", "path": "/config/sso/pinSecret", "value": 3333}),
            json!({"op": "replace", "path": "/config/sso/clientSecret/value", "value": "x"}),
            json!({"op": "add", "path": "/config/sso/privateKey/0", "value": "k"}),
        ] {
            assert!(contains_secret_value(&op), "{op}");
        }
        let placeholder = json!({"op": "replace", "path": "/config/sso/pinSecret", "value": "${secret:/config/sso/pinSecret}"});
        assert!(!contains_secret_value(&placeholder));
    }

    #[test]
    fn a_member_added_after_an_insert_is_looked_for_where_the_insert_moved_it() {
        // The third item gains a field once a new second item is in: the
        // field's path names the item after the insert, not the target's
        // third item (which has that field).
        let item = |id: &str, extra: Value| {
            let mut v = json!({"id": id, "enabled": true});
            if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
                m.extend(e);
            }
            v
        };
        let target = json!({"config": {"list": [
            item("a", json!({"icon": ""})), item("k", json!({})), item("c", json!({"icon": ""}))
        ]}});
        let source = json!({"config": {"list": [
            item("a", json!({"icon": ""})), item("r", json!({"icon": ""})),
            item("k", json!({"icon": ""})), item("c", json!({"icon": ""}))
        ]}});
        let plan = plan_of(target.clone(), source);
        assert!(
            plan.absent.contains(&"/config/list/2/icon".to_string()),
            "{:?}",
            plan.absent
        );
        assert_eq!(drift(&plan, &target), Vec::<String>::new());
        // Someone gave that item the field since: the plan is stale.
        let mut changed = target.clone();
        changed["config"]["list"][1]["icon"] = json!("x");
        assert_eq!(drift(&plan, &changed), vec!["/config/list/2/icon"]);
        // An absent path no add names is looked for in the target as it is.
        let mut extra = plan.clone();
        extra.absent.push("/config/list/0/icon".into());
        assert_eq!(drift(&extra, &target), vec!["/config/list/0/icon"]);
    }

    #[test]
    fn a_secret_moved_by_an_insert_is_guarded_where_it_is_then() {
        // The item holding a secret moves from /1 to /2 as another is
        // inserted before it; its guard names the secret at /2, and the
        // plan passes its own integrity check and has not drifted.
        let target = json!({"config": {"list": [
            {"id": "a"}, {"id": "c", "clientSecret": "S3CRET-x", "n": 1}
        ]}});
        let source = json!({"config": {"list": [
            {"id": "a"}, {"id": "b"}, {"id": "c", "n": 2}
        ]}});
        let plan = plan_of(target.clone(), source);
        check_integrity(&plan).unwrap();
        assert_eq!(drift(&plan, &target), Vec::<String>::new());
        let text = serde_json::to_string(&plan.patch).unwrap();
        assert!(!text.contains("S3CRET"), "{text}");
        assert!(
            text.contains("${secret:/config/list/2/clientSecret}"),
            "{text}"
        );
        let mut changed = target.clone();
        changed["config"]["list"][1]["n"] = json!(3);
        assert_eq!(drift(&plan, &changed), vec!["/config/list/2/n"]);
    }

    #[test]
    fn a_plan_applies_only_to_its_target() {
        let plan = plan_of(json!({"config": {"a": 1}}), json!({"config": {"a": 2}}))
            .bound_to("https://prod.example.invalid/", None);
        let f = Path::new("p.json");
        plan.check_target("https://prod.example.invalid", None, "prod", f)
            .unwrap();
        let primary = Org::new(0, "Primary");
        plan.check_target("https://prod.example.invalid", Some(&primary), "prod", f)
            .unwrap();
        let err = plan
            .check_target("https://dev.example.invalid", None, "dev", f)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("https://prod.example.invalid")
                && err.contains("https://dev.example.invalid"),
            "{err}"
        );
        let sales = Org::new(7, "Sales");
        let err = plan
            .check_target("https://prod.example.invalid", Some(&sales), "prod", f)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("(Org 0)") && err.contains("Org Sales (7)"),
            "{err}"
        );
        let for_sales = plan_of(json!({"config": {"a": 1}}), json!({"config": {"a": 2}}))
            .bound_to("https://prod.example.invalid", Some(&sales));
        let err = for_sales
            .check_target("https://prod.example.invalid", Some(&primary), "prod", f)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Org Sales (7)") && err.contains("Org Primary (0)"),
            "{err}"
        );
        assert!(plan.made_at.is_some());
    }
}
