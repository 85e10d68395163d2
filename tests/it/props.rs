//! Property tests: the patch turns target into source for any documents;
//! minimality on single changes; redaction never lets a secret through;
//! slugs are distinct and stable; a plan is stale exactly when a guarded
//! value changed.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tsmigrate::diff;

const KEYS: &[&str] = &["a", "b/c", "~d", "é", "x~1y", "日本", "n"];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(|n| json!(n)),
        prop::sample::select(vec!["", "x", "y/z", "~0", "ü"]).prop_map(|s| json!(s)),
    ]
}

fn keyed_array(inner: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Value> {
    prop::collection::btree_map(0u8..12, inner, 0..8).prop_flat_map(|items| {
        let items: Vec<(u8, Value)> = items.into_iter().collect();
        Just(items).prop_shuffle().prop_map(|items| {
            Value::Array(
                items
                    .into_iter()
                    .map(|(id, v)| {
                        let mut m = Map::new();
                        m.insert("id".into(), json!(format!("id{id}")));
                        m.insert("v".into(), v);
                        Value::Object(m)
                    })
                    .collect(),
            )
        })
    })
}

/// One side of a keyed array made from a shared list: each item kept,
/// changed or removed, and two items may swap places (a move).
fn keyed_side(base: Vec<(u8, Value)>) -> impl Strategy<Value = Value> {
    let n = base.len();
    (prop::collection::vec(0u8..4, n), 0..=n, 0..=n).prop_map(move |(fates, i, j)| {
        let mut items: Vec<Value> = base
            .iter()
            .zip(fates)
            .filter_map(|((id, v), fate)| {
                let v = match fate {
                    0 => return None,
                    1 => json!("changed"),
                    _ => v.clone(),
                };
                Some(json!({"id": format!("id{id}"), "v": v, "w": [1, {"x": 2}]}))
            })
            .collect();
        if i < items.len() && j < items.len() {
            items.swap(i, j);
        }
        Value::Array(items)
    })
}

/// Two keyed arrays from one list (`keyed_side`).
fn keyed_pair() -> impl Strategy<Value = (Value, Value)> {
    prop::collection::btree_map(0u8..12, scalar(), 0..10).prop_flat_map(|m| {
        let base: Vec<(u8, Value)> = m.into_iter().collect();
        (keyed_side(base.clone()), keyed_side(base))
    })
}

fn doc() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(KEYS.to_vec()).prop_map(String::from),
                inner.clone(),
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
            keyed_array(inner),
        ]
    })
}

fn apply_ops(target: &Value, ops: &[diff::Op]) -> Value {
    let patch: json_patch::Patch = serde_json::from_value(diff::patch_json_unmasked(ops)).unwrap();
    let mut out = target.clone();
    json_patch::patch(&mut out, &patch).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn patch_turns_target_into_source(a in doc(), b in doc()) {
        let ops = diff::diff(&b, &a);
        prop_assert_eq!(apply_ops(&b, &ops), a);
    }

    #[test]
    fn equal_documents_give_no_ops(a in doc()) {
        prop_assert!(diff::diff(&a, &a).is_empty());
    }

    #[test]
    fn one_changed_item_field_is_one_op(n in 1usize..300, pick in 0usize..300, v in -100i64..100) {
        let items: Vec<Value> = (0..n).map(|i| json!({"id": format!("g{i}"), "x": i, "y": "same"})).collect();
        let mut changed = items.clone();
        let i = pick % n;
        changed[i]["x"] = json!(v + 1000);
        let ops = diff::diff(&json!({"list": items}), &json!({"list": changed}));
        prop_assert_eq!(ops.len(), 1);
        prop_assert_eq!(ops[0].pointer(), format!("/list/{i}/x"));
    }

    #[test]
    fn inserted_items_are_single_adds(n in 1usize..200, at in 0usize..200, k in 1usize..5) {
        let items: Vec<Value> = (0..n).map(|i| json!({"id": format!("g{i}"), "x": i})).collect();
        let mut grown = items.clone();
        let at = at % (n + 1);
        for j in 0..k {
            grown.insert(at, json!({"id": format!("new{j}"), "x": -1}));
        }
        let ops = diff::diff(&Value::Array(items.clone()), &Value::Array(grown.clone()));
        prop_assert_eq!(ops.len(), k);
        prop_assert!(ops.iter().all(|o| o.kind == diff::OpKind::Add));
        prop_assert_eq!(apply_ops(&Value::Array(items), &ops), Value::Array(grown));
    }

    #[test]
    fn redaction_never_lets_a_secret_through(token in "[A-Za-z0-9]{12,20}", pw in "[A-Za-z0-9]{12,20}", hv in "[A-Za-z0-9]{12,20}", key in prop::sample::select(vec!["bindPassword", "clientSecret", "api_token", "sshPrivateKey"])) {
        let headers = json!({"h1": {"id": "i", "key": "k", "value": hv}});
        let doc = json!({
            "config": {"section": {key: pw.clone(), "other": "visible"}},
            "actions": {"a/b~c": {"detail": {"authToken": token, "apiValue": token, "additionalUrlHeaders": headers}}}
        });
        let masked = tsmigrate::secrets::redact(&doc).to_string();
        prop_assert!(!masked.contains(&token) && !masked.contains(&pw) && !masked.contains(&hv));
        prop_assert!(masked.contains("visible"));
        // The diff's masked patch and JSON report hold no secret either.
        let ops = diff::diff(&json!({"config": {}, "actions": {}}), &doc);
        let out = diff::patch_json(&ops).to_string() + &diff::render::json_report(&ops, &Default::default(), "s", "t").to_string()
            + &diff::render::text(&ops, &diff::render::Palette::new(false));
        prop_assert!(!out.contains(&token) && !out.contains(&pw) && !out.contains(&hv));
    }

    #[test]
    fn slugs_are_distinct_and_stable(names in prop::collection::btree_set("[a-zA-Z0-9 /_~.éü-]{1,24}", 1..40)) {
        let slugs: std::collections::BTreeSet<String> = names.iter().map(|n| tsmigrate::snapshot::slug(n).to_lowercase()).collect();
        prop_assert_eq!(slugs.len(), names.len());
        for n in &names {
            prop_assert_eq!(tsmigrate::snapshot::slug(n), tsmigrate::snapshot::slug(n));
        }
    }

    #[test]
    fn plan_is_stale_exactly_when_a_guarded_value_changed(a in doc(), b in doc(), drift in doc(), where_ in 0usize..64) {
        let (target, source) = (json!({"config": {"x": b}}), json!({"config": {"x": a}}));
        let ops = diff::diff(&target, &source);
        let plan = tsmigrate::plan::build(&ops, "s", "t", &target, None, &Default::default(), &[]).unwrap();
        prop_assert!(tsmigrate::plan::drift(&plan, &target).is_empty(), "fresh plan");
        // Change one value somewhere in the target.
        let mut changed = target.clone();
        let mut leaves = Vec::new();
        collect_paths(&changed, &mut Vec::new(), &mut leaves);
        let path = &leaves[where_ % leaves.len()];
        let slot = pointer_mut(&mut changed, path);
        *slot = drift;
        let drifted = !tsmigrate::plan::drift(&plan, &changed).is_empty();
        let guarded_changed = guards_fail(&plan, &changed);
        prop_assert_eq!(drifted, guarded_changed);
    }
}

fn collect_paths(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(path.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                path.push(k.clone());
                collect_paths(x, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(i.to_string());
                collect_paths(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn pointer_mut<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    tsmigrate::pointer::get_mut(v, path).unwrap()
}

/// Independent oracle: a plan is stale iff applying its patch (tests
/// included) with json-patch fails, or an `absent` path exists.
fn guards_fail(plan: &tsmigrate::plan::Plan, target: &Value) -> bool {
    let absent_present = plan.absent.iter().any(|p| target.pointer(p).is_some());
    let patch: json_patch::Patch =
        serde_json::from_value(Value::Array(plan.patch.clone())).unwrap();
    let mut doc = target.clone();
    absent_present || json_patch::patch(&mut doc, &patch).is_err()
}

/// `x` with `top` written over it, objects merged key by key.
fn overlay(x: &Value, top: &Value) -> Value {
    match (x, top) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = a.clone();
            for (k, v) in b {
                let merged = out.get(k).map_or_else(|| v.clone(), |old| overlay(old, v));
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        _ => top.clone(),
    }
}

/// A config: an object of sections (objects), so that two configs built
/// on one shared base hold members alike at every level.
fn config() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop::sample::select(KEYS.to_vec()).prop_map(String::from),
        prop_oneof![doc(), doc().prop_map(|d| json!({"s": d, "t": {"u": d}}))],
        0..6,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// Actions by name: a few names, each a small object of fields.
fn actions() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec((0u8..6, doc()), 0..6).prop_map(|v| {
        v.into_iter()
            .map(|(n, d)| {
                let name = format!("Action {n}");
                (
                    name.clone(),
                    json!({"name": name, "detail": {"link": d}, "type": "URL"}),
                )
            })
            .collect()
    })
}

fn snapshot_of(dir: &std::path::Path, config: &Value, actions: &[(String, Value)]) {
    let actions: Map<String, Value> = actions.iter().cloned().collect();
    let doc = json!({"config": config, "actions": actions});
    let origin = tsmigrate::snapshot::Origin::new("http://127.0.0.1:1", None);
    tsmigrate::snapshot::write(dir, &doc, &origin, true).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Two snapshots read side by side (what both hold alike left out)
    /// give the diff of the two read in full, the same plan guards, and
    /// the target's fingerprint as its full read and its rendering give.
    #[test]
    fn snapshots_read_side_by_side_diff_as_read_in_full(
        base in config(), sa in config(), sb in config(), lists in keyed_pair(),
        shared in actions(), only_a in actions(), only_b in actions(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let with = |x: &[(String, Value)], y: &[(String, Value)]| -> Vec<(String, Value)> {
            let mut m: std::collections::BTreeMap<String, Value> = x.iter().cloned().collect();
            m.extend(y.iter().cloned());
            m.into_iter().collect()
        };
        let with_list = |config: Value, list: &Value| {
            let mut config = config;
            config["list"] = list.clone();
            config
        };
        snapshot_of(&a, &with_list(overlay(&base, &sa), &lists.0), &with(&shared, &only_a));
        snapshot_of(&b, &with_list(overlay(&base, &sb), &lists.1), &with(&shared, &only_b));
        let (full_a, _) = tsmigrate::snapshot::read(&a).unwrap();
        let (full_b, _, print_b) = tsmigrate::snapshot::read_fingerprinted(&b).unwrap();
        let read = tsmigrate::snapshot::read_pair(&a, &b, true).unwrap();
        let [(pa, _), (pb, _)] = read.sides;
        let full_ops = diff::diff(&full_b, &full_a);
        let pair_ops = diff::diff_reduced(&pb, &pa, &read.reduced);
        prop_assert_eq!(
            diff::patch_json_unmasked(&full_ops),
            diff::patch_json_unmasked(&pair_ops)
        );
        let full_plan =
            tsmigrate::plan::build(&full_ops, "s", "t", &full_b, None, &Default::default(), &[])
                .unwrap();
        let pair_plan = tsmigrate::plan::build(
            &pair_ops, "s", "t", &pb, read.target_fingerprint.as_deref(), &read.reduced, &[],
        )
        .unwrap();
        prop_assert_eq!(&full_plan.patch, &pair_plan.patch);
        prop_assert_eq!(&full_plan.absent, &pair_plan.absent);
        prop_assert_eq!(Some(&full_plan.target_fingerprint), read.target_fingerprint.as_ref());
        prop_assert_eq!(Some(&print_b), read.target_fingerprint.as_ref());
    }
}

/// Action names as users write them: any script, combining marks, HTML
/// and Markdown metacharacters.
fn action_name() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "Café",
            "cafe\u{301}",
            "顧客",
            "<b>",
            "|",
            "`",
            "*",
            " ",
            "Ω",
            "😀",
            "a",
            "&amp;",
            "\n",
        ]),
        1..6,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `--max-bytes`: whatever the report holds, it stays under the limit,
    /// keeps its heading and counts, is valid UTF-8 cut only between whole
    /// sections, and says what it left out exactly when it left something.
    #[test]
    fn a_markdown_report_always_fits_its_byte_limit(
        names in prop::collection::btree_set(action_name(), 1..60),
        long in 0usize..400,
        max in 1024usize..40_000,
    ) {
        let mut actions = Map::new();
        for (i, n) in names.iter().enumerate() {
            actions.insert(n.clone(), json!({"name": n, "type": "URL",
                "detail": {"link": format!("https://x.example/{i}/{}", "ü".repeat(long))}}));
        }
        let target = json!({"config": {"k": 1}, "actions": {}});
        let source = json!({"config": {"k": "x".repeat(long)}, "actions": actions});
        let ops = diff::diff(&target, &source);
        let view = diff::view::View::of(&ops, &diff::Notes::default(), "dev", "prod");
        let whole = diff::markdown::render(&view);
        let cut = diff::markdown::render_within(&view, Some(max));
        prop_assert!(cut.len() <= max, "{} > {max}", cut.len());
        let headline = format!("**{}**", view.headline());
        prop_assert!(cut.contains(&headline), "the headline stays");
        let left_out = cut.contains("Left out to stay under");
        prop_assert_eq!(left_out, whole.len() > max);
        if !left_out {
            prop_assert_eq!(&cut, &whole);
        }
        // Whole sections only: every block that opens, closes.
        prop_assert_eq!(cut.matches("<details>").count(), cut.matches("</details>").count());
    }
}
