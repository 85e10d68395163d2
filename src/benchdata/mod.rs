//! Generated data for benchmarks and tests: clusters like real ones
//! (`corpus`), and the diff benchmark's pair of documents (below).
//!
//! The diff benchmark's generated pair (used by `benches/` and
//! `examples/gen_bench.rs`): at scale 1, 100,000 config leaves with 1%
//! changed, an id-keyed array of 10,000 items with 100 changed, 50 inserted
//! and 50 removed, and 2,000 actions with 20 changed.

pub mod corpus;

use serde_json::{json, Map, Value};

/// Returns (target, source, number of real changes).
pub fn generate(scale: usize) -> (Value, Value, usize) {
    let mut changes = 0;
    let (sections, keys) = (1000 * scale, 100);
    let mut t_cfg = Map::new();
    let mut s_cfg = Map::new();
    for s in 0..sections {
        let mut t = Map::new();
        let mut src = Map::new();
        for k in 0..keys {
            let v = json!(format!("value-{s}-{k}"));
            t.insert(format!("key{k}"), v.clone());
            // 1% of the leaves change.
            if k == 37 {
                src.insert(format!("key{k}"), json!(format!("changed-{s}")));
                changes += 1;
            } else {
                src.insert(format!("key{k}"), v);
            }
        }
        t_cfg.insert(format!("section{s}"), Value::Object(t));
        s_cfg.insert(format!("section{s}"), Value::Object(src));
    }
    let n = 10_000 * scale;
    let items: Vec<Value> = (0..n).map(|i| json!({"id": format!("item-{i:08}"), "title": format!("Item {i}"), "enabled": true, "order": i})).collect();
    let mut src_items = Vec::with_capacity(n + 50 * scale);
    for (i, item) in items.iter().enumerate() {
        match i % 100 {
            // 1 in 100 changed (100 per 10,000).
            10 => {
                let mut c = item.clone();
                c["enabled"] = json!(false);
                src_items.push(c);
                changes += 1;
            }
            // 1 in 200 removed (50 per 10,000).
            50 if i % 200 == 50 => changes += 1,
            // 1 in 200 gets an item inserted after it (50 per 10,000).
            70 if i % 200 == 70 => {
                src_items.push(item.clone());
                src_items.push(json!({"id": format!("new-{i:08}"), "title": "New", "enabled": true, "order": -1}));
                changes += 1;
            }
            _ => src_items.push(item.clone()),
        }
    }
    t_cfg.insert("bigList".into(), Value::Array(items));
    s_cfg.insert("bigList".into(), Value::Array(src_items));

    let mut t_actions = Map::new();
    let mut s_actions = Map::new();
    for a in 0..2000 * scale {
        let name = format!("Action {a:05}");
        let action = json!({
            "name": name, "version": "v4", "type": "URL", "context": "NONE", "availability": ["GLOBAL"],
            "application": "NONE", "userGroupList": [],
            "detail": {"link": format!("https://example.test/{a}"), "function": format!("f-{a}"), "authSelect": "NONE",
                       "authToken": "", "encodeUser": "", "apiKey": "X-API-KEY", "apiValue": "", "additionalUrlHeaders": {}},
            "actionAssociationMap": {"ANSWER": {format!("guid-{a}"): {"enabled": "true", "context": "MENU"}}}
        });
        let mut src = action.clone();
        if a % 100 == 3 {
            src["detail"]["link"] = json!(format!("https://changed.example.test/{a}"));
            changes += 1;
        }
        t_actions.insert(name.clone(), action);
        s_actions.insert(name, src);
    }
    let target = json!({"config": t_cfg, "actions": t_actions});
    let source = json!({"config": s_cfg, "actions": s_actions});
    (target, source, changes)
}
