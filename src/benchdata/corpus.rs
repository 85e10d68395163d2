//! Clusters shaped like real ones, for benchmarks and tests: most actions
//! associated with answers or worksheets, user groups, non-ASCII names,
//! secrets, and several Orgs, each with actions and objects of its own.
//! The output is a pair of simulator state files (`sim --state`): a target
//! and a source that differs from it in `changed` actions of every Org.
//!
//! The same seed gives the same pair. Object GUIDs are shared by the two
//! sides (a source restored from the target's backup: no `[[maps]]`
//! needed); action GUIDs are not (actions are matched by name).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Actions per Org.
    pub actions: usize,
    /// Actions per Org that the source changes (at most `actions`);
    /// associated ones first.
    pub changed: usize,
    /// Of the changed actions, how many change an association (its
    /// context, or one more object); the rest change fields only.
    pub association_changes: usize,
    /// Actions per Org that only the source has (creates).
    pub created: usize,
    /// Orgs, the Primary Org included (1 to 3).
    pub orgs: usize,
    /// Config sections of 100 keys each beyond the example cluster's own,
    /// one key in a hundred changed.
    pub config_sections: usize,
    pub seed: u64,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            actions: 600,
            changed: 400,
            association_changes: 0,
            created: 0,
            orgs: 3,
            config_sections: 0,
            seed: 2026,
        }
    }
}

/// What was generated, counted: the figures a benchmark divides by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Actions per Org on the target.
    pub actions: usize,
    /// Of these, associated with at least one object.
    pub associated: usize,
    /// With user groups.
    pub with_groups: usize,
    /// With a secret (a token, an API key value or a header value).
    pub with_secrets: usize,
    /// With a name outside ASCII.
    pub non_ascii: usize,
    /// Changed actions per Org, of which associated, and of which with a
    /// changed association.
    pub changed: usize,
    pub changed_associated: usize,
    pub changed_associations: usize,
    pub created: usize,
    /// Config keys the source changes (the cluster's: Primary Org only).
    pub config_changed: usize,
    /// What a diff of the Primary Org's canonical documents must find: one
    /// operation per changed key, changed action (each changes one value)
    /// and created action.
    pub changes: usize,
    pub orgs: usize,
}

pub struct Corpus {
    pub target: Value,
    pub source: Value,
    pub summary: Summary,
}

/// Name stems as admins write them, in several scripts; the two "Café"
/// stems differ only in composition (NFC and NFD).
const STEMS: &[&str] = &[
    "Envoyer à Slack",
    "Öffnen im CRM",
    "顧客に通知",
    "Notificar al dueño",
    "Ζήτηση έγκρισης",
    "Отправить отчёт",
    "Café report",
    "Cafe\u{301} review",
    "Open ticket",
    "Export to S3",
];

const GROUP_NAMES: &[&str] = &[
    "Ventes Île-de-France",
    "Führungskräfte",
    "営業チーム",
    "Sales managers",
    "Équipe données",
    "Marketing — EMEA",
    "Support 24/7",
    "Finanças",
];

/// The simulator's built-in example cluster, for its config.
const EXAMPLE: &str = include_str!("../../fixtures/example-cluster.json");

const CONTEXTS: &[&str] = &["MENU", "PRIMARY", "CONTEXT_MENU"];

const ORGS: &[(i64, &str)] = &[(0, "Primary"), (1, "Marketing"), (2, "Sales")];

fn guid(rng: &mut StdRng) -> String {
    let a: u32 = rng.random();
    let b: u16 = rng.random();
    let c: u16 = rng.random::<u16>() & 0x0fff;
    let d: u16 = (rng.random::<u16>() & 0x3fff) | 0x8000;
    let e: u64 = rng.random::<u64>() & 0xffff_ffff_ffff;
    format!("{a:08x}-{b:04x}-4{c:03x}-{d:04x}-{e:012x}")
}

/// The objects of one Org: answers, worksheets, a Liveboard, user groups.
struct Objects {
    answers: Vec<String>,
    worksheets: Vec<String>,
    groups: Vec<String>,
    all: Vec<Value>,
}

fn objects(rng: &mut StdRng, actions: usize, org: &str) -> Objects {
    let mut o = Objects {
        answers: Vec::new(),
        worksheets: Vec::new(),
        groups: Vec::new(),
        all: Vec::new(),
    };
    for i in 0..actions / 4 + 10 {
        let id = guid(rng);
        o.all
            .push(json!({"id": id, "name": format!("Réponse {i} ({org})"), "type": "ANSWER"}));
        o.answers.push(id);
    }
    for i in 0..actions / 10 + 5 {
        let id = guid(rng);
        o.all.push(
            json!({"id": id, "name": format!("Arbeitsblatt {i} ({org})"), "type": "WORKSHEET"}),
        );
        o.worksheets.push(id);
    }
    let board = guid(rng);
    o.all.push(json!({"id": board, "name": format!("Tableau de bord ({org})"), "type": "PINBOARD_ANSWER_BOOK"}));
    for name in GROUP_NAMES {
        let id = guid(rng);
        o.all
            .push(json!({"id": id, "name": format!("{name} ({org})"), "type": "USER_GROUP"}));
        o.groups.push(id);
    }
    o
}

fn pick<'a>(rng: &mut StdRng, from: &'a [String]) -> &'a String {
    &from[rng.random_range(0..from.len())]
}

/// Action `i` of an Org, as the cluster stores it.
fn action(rng: &mut StdRng, i: usize, objs: &Objects) -> Value {
    let name = format!("{} {i:05}", STEMS[i % STEMS.len()]);
    let (kind, detail) = match i % 10 {
        0..=5 => {
            let auth = ["BEARER", "API_KEY", "NONE"][i % 3];
            let mut d = json!({
                "link": format!("https://hooks.example.test/{}/{i}", ["crm", "ticket", "s3"][i % 3]),
                "function": format!("fn-{i}"),
                "authSelect": auth,
                "authToken": if auth == "BEARER" { format!("S3CRET-token-{i:05}") } else { String::new() },
                "encodeUser": "",
                "apiKey": "X-API-KEY",
                "apiValue": if auth == "API_KEY" { format!("S3CRET-key-{i:05}") } else { String::new() },
                "additionalUrlHeaders": "{}",
            });
            if i.is_multiple_of(4) {
                let header = json!({"url_header1": {"id": guid(rng), "key": "X-Tenant", "value": format!("S3CRET-tenant-{i:05}")}});
                d["additionalUrlHeaders"] = json!(header.to_string());
            }
            ("URL", d)
        }
        6..=8 => (
            "CALLBACK",
            json!({"function": format!("callback-{i}"), "authSelect": "NONE", "authToken": "",
                   "encodeUser": "", "apiKey": "X-API-KEY", "apiValue": "", "link": "",
                   "additionalUrlHeaders": "{}"}),
        ),
        _ => (
            "APP",
            json!({"function": format!("app-{i}"), "authSelect": "NONE", "authToken": "",
                   "encodeUser": "", "apiKey": "X-API-KEY", "apiValue": "", "link": "",
                   "additionalUrlHeaders": "{}", "appActionType": "SLACK"}),
        ),
    };
    // Two in three are associated, with one to three objects.
    let mut map = Map::new();
    if !i.is_multiple_of(3) {
        for _ in 0..1 + i % 3 + usize::from(i.is_multiple_of(7)) {
            let (k, id) = if rng.random_bool(0.75) {
                ("ANSWER", pick(rng, &objs.answers).clone())
            } else {
                ("WORKSHEET", pick(rng, &objs.worksheets).clone())
            };
            let context = CONTEXTS[rng.random_range(0..CONTEXTS.len())];
            let entry = json!({"context": context, "enabled": if rng.random_bool(0.9) { "true" } else { "false" }});
            map.entry(k)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|m| m.insert(id, entry));
        }
    }
    // Half are limited to one or two user groups.
    let groups: Vec<String> = match i % 4 {
        0 | 1 => Vec::new(),
        2 => vec![pick(rng, &objs.groups).clone()],
        _ => {
            let mut g = vec![
                pick(rng, &objs.groups).clone(),
                pick(rng, &objs.groups).clone(),
            ];
            g.sort();
            g.dedup();
            g
        }
    };
    json!({
        "id": guid(rng),
        "name": name,
        "version": "v4",
        "type": kind,
        "detail": detail,
        "actionAssociationMap": map,
        "context": if kind == "CALLBACK" { "PRIMARY" } else { "NONE" },
        "availability": if i.is_multiple_of(5) { json!([]) } else { json!(["GLOBAL"]) },
        "application": "NONE",
        "userGroupList": groups,
    })
}

fn is_associated(a: &Value) -> bool {
    a["actionAssociationMap"].as_object().is_some_and(|m| {
        m.values()
            .any(|v| v.as_object().is_some_and(|o| !o.is_empty()))
    })
}

fn has_secret(a: &Value) -> bool {
    let d = &a["detail"];
    ["authToken", "apiValue"]
        .iter()
        .any(|k| d[*k].as_str().is_some_and(|s| !s.is_empty()))
        || d["additionalUrlHeaders"]
            .as_str()
            .is_some_and(|h| h.contains("S3CRET"))
}

/// Changes action `a` of the source: `n` is its rank among the changed.
fn change(rng: &mut StdRng, a: &mut Value, n: usize, assoc: bool, objs: &Objects) {
    if assoc {
        if let Some(map) = a["actionAssociationMap"].as_object_mut() {
            if n.is_multiple_of(2) {
                // One more answer.
                let id = pick(rng, &objs.answers).clone();
                let slot = map.entry("ANSWER").or_insert_with(|| json!({}));
                if let Some(m) = slot.as_object_mut() {
                    m.insert(id, json!({"context": "MENU", "enabled": "true"}));
                }
            } else if let Some(entry) = map
                .values_mut()
                .filter_map(Value::as_object_mut)
                .flat_map(|m| m.values_mut())
                .next()
            {
                // Another context for one it has.
                let now = entry["context"].as_str().unwrap_or("MENU");
                let next = if now == "MENU" {
                    "CONTEXT_MENU"
                } else {
                    "MENU"
                };
                entry["context"] = json!(next);
            }
        }
        return;
    }
    match n % 10 {
        0..=5 => {
            a["detail"]["function"] = json!(format!(
                "{}-v2",
                a["detail"]["function"].as_str().unwrap_or("fn")
            ))
        }
        6 | 7 => {
            if a["type"] == "URL" {
                a["detail"]["link"] = json!(format!("https://hooks-neu.example.test/{n}/é"));
            } else {
                a["detail"]["function"] = json!(format!("geändert-{n}"));
            }
        }
        8 => {
            // One more group (one of eight it does not have: it has two at most).
            if let Some(list) = a["userGroupList"].as_array_mut() {
                let start = rng.random_range(0..objs.groups.len());
                let add = (0..objs.groups.len())
                    .map(|k| &objs.groups[(start + k) % objs.groups.len()])
                    .find(|g| !list.iter().any(|x| x == *g));
                if let Some(g) = add {
                    list.push(json!(g));
                }
            }
        }
        _ => {
            a["availability"] = if a["availability"] == json!([]) {
                json!(["GLOBAL"])
            } else {
                json!([])
            }
        }
    }
}

/// One Org of a state: `None` for the Primary Org, its actions, its objects.
type OrgState<'a> = (Option<(i64, &'a str)>, Vec<Value>, Vec<Value>);

/// Generates the pair.
pub fn generate(shape: &Shape) -> Corpus {
    let mut rng = StdRng::seed_from_u64(shape.seed);
    // The example cluster's config and overrides (a unit test checks it parses).
    let base: Value = serde_json::from_str(EXAMPLE).unwrap_or_else(|_| json!({}));
    let mut t_cfg = base["configinfo"].as_object().cloned().unwrap_or_default();
    let mut s_cfg = t_cfg.clone();
    let mut summary = Summary {
        actions: shape.actions,
        orgs: shape.orgs.clamp(1, ORGS.len()),
        ..Summary::default()
    };
    for s in 0..shape.config_sections {
        let t: Map<String, Value> = (0..100)
            .map(|k| (format!("clé{k}"), json!(format!("valeur-{s}-{k}"))))
            .collect();
        let mut src = t.clone();
        src.insert("clé37".into(), json!(format!("changée-{s}")));
        summary.config_changed += 1;
        t_cfg.insert(format!("section{s}"), Value::Object(t));
        s_cfg.insert(format!("section{s}"), Value::Object(src));
    }
    let overrides = base["overrides"].clone();
    let mut t_orgs = Vec::new();
    let mut s_orgs = Vec::new();
    for (org_index, (org_id, org_name)) in ORGS.iter().take(summary.orgs).enumerate() {
        let objs = objects(&mut rng, shape.actions, org_name);
        let target: Vec<Value> = (0..shape.actions)
            .map(|i| action(&mut rng, i, &objs))
            .collect();
        // Changed: associated actions first, then the others.
        let mut order: Vec<usize> = (0..target.len())
            .filter(|i| is_associated(&target[*i]))
            .collect();
        order.extend((0..target.len()).filter(|i| !is_associated(&target[*i])));
        order.truncate(shape.changed);
        let mut source = target.clone();
        for (n, &i) in order.iter().enumerate() {
            let assoc = n < shape.association_changes && is_associated(&source[i]);
            change(&mut rng, &mut source[i], n, assoc, &objs);
            if org_index == 0 {
                summary.changed += 1;
                summary.changed_associated += usize::from(is_associated(&target[i]));
                summary.changed_associations += usize::from(assoc);
            }
        }
        // The source cluster has action GUIDs of its own.
        for a in source.iter_mut() {
            a["id"] = json!(guid(&mut rng));
        }
        for i in 0..shape.created {
            let mut a = action(&mut rng, shape.actions + i, &objs);
            a["name"] = json!(format!("Nouveau — {} {i:04}", STEMS[i % STEMS.len()]));
            source.push(a);
        }
        if org_index == 0 {
            summary.created = shape.created;
            summary.associated = target.iter().filter(|a| is_associated(a)).count();
            summary.with_groups = target
                .iter()
                .filter(|a| a["userGroupList"].as_array().is_some_and(|g| !g.is_empty()))
                .count();
            summary.with_secrets = target.iter().filter(|a| has_secret(a)).count();
            summary.non_ascii = target
                .iter()
                .filter(|a| a["name"].as_str().is_some_and(|n| !n.is_ascii()))
                .count();
        }
        if *org_id == 0 {
            t_orgs.push((None, target, objs.all.clone()));
            s_orgs.push((None, source, objs.all));
        } else {
            t_orgs.push((Some((*org_id, *org_name)), target, objs.all.clone()));
            s_orgs.push((Some((*org_id, *org_name)), source, objs.all));
        }
    }
    let state = |cfg: Map<String, Value>, orgs: Vec<OrgState>| {
        let mut out =
            json!({"configinfo": cfg, "overrides": overrides, "actions": [], "objects": []});
        let mut others = Vec::new();
        for (org, actions, objects) in orgs {
            match org {
                None => {
                    out["actions"] = Value::Array(actions);
                    out["objects"] = Value::Array(objects);
                }
                Some((id, name)) => others
                    .push(json!({"id": id, "name": name, "actions": actions, "objects": objects})),
            }
        }
        if !others.is_empty() {
            out["orgs"] = Value::Array(others);
        }
        out
    };
    summary.changes = summary.config_changed + summary.changed + summary.created;
    Corpus {
        target: state(t_cfg, t_orgs),
        source: state(s_cfg, s_orgs),
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_has_the_shapes_real_clusters_have() {
        assert!(serde_json::from_str::<Value>(EXAMPLE).is_ok());
        let shape = Shape {
            actions: 120,
            changed: 60,
            association_changes: 10,
            created: 5,
            config_sections: 3,
            ..Shape::default()
        };
        let c = generate(&shape);
        let s = &c.summary;
        assert_eq!((s.actions, s.orgs, s.changed, s.created), (120, 3, 60, 5));
        assert_eq!(s.associated, 80, "two in three associated");
        assert_eq!(s.changed_associated, 60, "associated actions change first");
        assert_eq!(s.changed_associations, 10);
        assert!(
            s.with_groups >= 50 && s.with_secrets >= 30 && s.non_ascii >= 60,
            "{s:?}"
        );
        assert_eq!(s.config_changed, 3);
        assert_eq!(s.changes, 3 + 60 + 5);
        // Three Orgs, each with actions and objects of its own.
        let orgs = c.target["orgs"].as_array().unwrap();
        assert_eq!(orgs.len(), 2);
        assert_eq!(orgs[0]["actions"].as_array().unwrap().len(), 120);
        assert_ne!(orgs[0]["objects"], c.target["objects"]);
        // The source differs in exactly the changed actions, by name.
        let by_name = |v: &Value| -> std::collections::BTreeMap<String, Value> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let mut a = a.clone();
                    a.as_object_mut().unwrap().remove("id");
                    (a["name"].as_str().unwrap().to_string(), a)
                })
                .collect()
        };
        let (t, src) = (by_name(&c.target["actions"]), by_name(&c.source["actions"]));
        assert_eq!(src.len(), 125);
        let differing = t.iter().filter(|(n, a)| src.get(*n) != Some(*a)).count();
        assert_eq!(differing, 60);
        // Deterministic.
        assert_eq!(generate(&shape).source, c.source);
    }
}
