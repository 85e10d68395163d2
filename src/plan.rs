//! Plan files: the patch with RFC 6902 `test` guards, the names of both
//! sides and a fingerprint of the target; the staleness check used by apply.
//! A plan never holds a secret: every value in it is masked.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::diff::{Op, OpKind};
use crate::error::Error;
use crate::{pointer, secrets};

pub const FORMAT: &str = "tsmigrate-plan";
pub const VERSION: u64 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format: String,
    pub version: u64,
    /// The tsmigrate that wrote it (information only).
    pub tool: String,
    pub source: String,
    pub target: String,
    /// SHA-256 of the target's masked canonical document when planned.
    pub target_fingerprint: String,
    /// Paths the patch creates: they must still be absent at apply.
    pub absent: Vec<String>,
    /// Secrets the plan could not carry and no value was given for.
    #[serde(default)]
    pub unresolved_secrets: Vec<String>,
    /// RFC 6902 operations, `test` guards included.
    pub patch: Vec<Value>,
}

/// SHA-256 over the masked canonical document (sorted keys, compact).
pub fn fingerprint(doc: &Value) -> String {
    let masked = secrets::redact(doc);
    let digest = Sha256::digest(masked.to_string().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Guards every op: a `test` of the value it replaces or removes, of the
/// item an array insert lands next to; object members it adds go to `absent`.
pub fn guarded(ops: &[Op], target: &Value) -> (Vec<Value>, Vec<String>) {
    let mut work = secrets::redact(target);
    let mut patch = Vec::with_capacity(ops.len() * 2);
    let mut absent = Vec::new();
    for op in ops {
        let ptr = op.pointer();
        let (parent_segs, last) = op.path.split_at(op.path.len().saturating_sub(1));
        match op.kind {
            OpKind::Replace | OpKind::Remove => {
                if let Some(cur) = pointer::get(&work, &op.path) {
                    patch.push(json!({"op": "test", "path": ptr, "value": cur}));
                }
            }
            OpKind::Add => match pointer::get(&work, parent_segs) {
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
                            _ => item.clone(),
                        };
                        patch.push(
                            json!({"op": "test", "path": pointer::join(&segs), "value": value}),
                        );
                    }
                }
                _ => absent.push(ptr.clone()),
            },
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

pub fn build(
    ops: &[Op],
    source: &str,
    target: &str,
    target_doc: &Value,
    unresolved: &[String],
) -> Plan {
    let (patch, absent) = guarded(ops, target_doc);
    Plan {
        format: FORMAT.into(),
        version: VERSION,
        tool: format!("tsmigrate {}", env!("CARGO_PKG_VERSION")),
        source: source.into(),
        target: target.into(),
        target_fingerprint: fingerprint(target_doc),
        absent,
        unresolved_secrets: unresolved.to_vec(),
        patch,
    }
}

pub fn read(path: &Path) -> Result<Plan, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse(&bytes, path)
}

/// A plan file's content, checked: format, version, operations, no secrets.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Plan, Error> {
    let raw: Value = crate::jsonfile::parse(bytes, path)?;
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
    let plan: Plan = crate::jsonfile::parse(bytes, path)?;
    for (i, op) in plan.patch.iter().enumerate() {
        let valid = serde_json::from_value::<json_patch::PatchOperation>(op.clone());
        if let Err(e) = valid {
            return Err(Error::input(
                path.display(),
                format!("at /patch/{i}: not an RFC 6902 operation ({e})"),
            ));
        }
        if contains_secret_value(op) {
            return Err(Error::input(
                path.display(),
                format!("at /patch/{i}: holds a secret value; plans carry only placeholders"),
            ));
        }
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

pub fn write(path: &Path, plan: &Plan) -> Result<(), Error> {
    let bytes = crate::jsonfile::to_pretty(plan)?;
    crate::fsutil::write_atomic(path, &bytes).map_err(|e| Error::io(path, e))
}

/// The paths whose guarded values no longer hold on `target`; empty when
/// the plan can be applied.
pub fn drift(plan: &Plan, target: &Value) -> Vec<String> {
    let mut work = secrets::redact(target);
    let mut drifted = Vec::new();
    for p in &plan.absent {
        if pointer::split(p).is_some_and(|segs| pointer::get(&work, &segs).is_some()) {
            drifted.push(p.clone());
        }
    }
    for op in &plan.patch {
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if op.get("op").and_then(Value::as_str) == Some("test") {
            let segs = pointer::split(&path).unwrap_or_default();
            if pointer::get(&work, &segs) != op.get("value") && !drifted.contains(&path) {
                drifted.push(path);
            }
            continue;
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
        .map_err(|e| Error::input("plan", e.to_string()))?;
    let mut doc = target.clone();
    json_patch::patch(&mut doc, &patch)
        .map_err(|e| Error::Stale(format!("the plan no longer applies to the target: {e}")))?;
    let unresolved = secrets::reconcile(&mut doc, target, values)?;
    Ok((doc, unresolved))
}
