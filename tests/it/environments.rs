//! Between environments: GUID and string mapping, ignore rules that hold at
//! apply, and validation before anything is written.

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::snap;
use crate::support::*;

/// A target whose objects have other GUIDs than the source's.
fn prod_state() -> Value {
    let mut s = example();
    let ids = [
        (
            "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35",
            "aaaaaaaa-0000-4000-8000-000000000001",
        ),
        (
            "0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62",
            "aaaaaaaa-0000-4000-8000-000000000002",
        ),
        (
            "8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02",
            "aaaaaaaa-0000-4000-8000-000000000003",
        ),
        (
            "b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04",
            "aaaaaaaa-0000-4000-8000-000000000004",
        ),
    ];
    let mut text = s.to_string();
    for (from, to) in ids {
        text = text.replace(from, to);
    }
    s = serde_json::from_str(&text).unwrap();
    s
}

fn full_map() -> Value {
    json!({
        "guids": {
            "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35": "aaaaaaaa-0000-4000-8000-000000000001",
            "0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62": "aaaaaaaa-0000-4000-8000-000000000002",
            "8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02": "aaaaaaaa-0000-4000-8000-000000000003",
            "b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04": "aaaaaaaa-0000-4000-8000-000000000004"
        },
        "replace": {"crm.example.test": "crm.prod.example.test"}
    })
}

#[test]
fn complete_map_migrates_associations_groups_and_strings() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(Some(&prod_state()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(w.join("map.json"), full_map().to_string()).unwrap();
    let out = apply_in(
        w,
        &target,
        &source,
        &["--map", "map.json", "--yes", "--prune"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let t = target.state();
    let by_name = |n: &str| {
        t["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == n)
            .unwrap()
            .clone()
    };
    let crm = by_name("Open in CRM");
    assert_eq!(
        crm["detail"]["link"],
        json!("https://crm.prod.example.test/v2/open")
    );
    let answers = crm["actionAssociationMap"]["ANSWER"].as_object().unwrap();
    assert!(
        answers.contains_key("aaaaaaaa-0000-4000-8000-000000000001")
            && answers.contains_key("aaaaaaaa-0000-4000-8000-000000000002")
    );
    assert_eq!(
        by_name("Open in Jira")["actionAssociationMap"]["WORKSHEET"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap(),
        "aaaaaaaa-0000-4000-8000-000000000003"
    );
    let out = compare_in(
        w,
        "diff",
        &source.url,
        &target.url,
        &["--map", "map.json", "--exit-code"],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn incomplete_map_is_refused_before_writing() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(Some(&prod_state()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut map = full_map();
    map["guids"]
        .as_object_mut()
        .unwrap()
        .remove("0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62");
    std::fs::write(w.join("map.json"), map.to_string()).unwrap();
    let before = target.state();
    let out = apply_in(w, &target, &source, &["--map", "map.json", "--yes"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(target.state(), before);
    snap!(
        "missing_association_report",
        normalize(&stderr(&out), &[&source.url, &target.url], &[w])
    );
    // --skip-missing-associations drops it with a warning instead.
    let out = apply_in(
        w,
        &target,
        &source,
        &["--map", "map.json", "--yes", "--skip-missing-associations"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62"));
}

#[test]
fn malformed_map_names_file_and_path() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(w.join("map.json"), r#"{"guids": {"a": 3}}"#).unwrap();
    let out = tsm_in(w, &["show", "http://127.0.0.1:9", "--map", "map.json"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("map.json: at /guids/a"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ignored_paths_survive_apply() {
    let mut src = demo_source();
    src["configinfo"]["samlConfiguration"]["forceAuthn"] = json!(true);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(
        w.join("tsmigrate.toml"),
        "[migrate]\nignore = [\"/config/samlConfiguration/groupMapping\"]\n",
    )
    .unwrap();
    let out = compare_in(
        w,
        "diff",
        &source.url,
        &target.url,
        &["--ignore", "/actions/*/detail/link"],
    );
    assert!(
        !stdout(&out).contains("groupMapping") && !stdout(&out).contains("detail.link"),
        "{}",
        stdout(&out)
    );
    let out = apply_in(
        w,
        &target,
        &source,
        &["--ignore", "/actions/*/detail/link", "--yes"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let t = target.state();
    // Other fields of the same objects changed…
    assert_eq!(t["configinfo"]["samlConfiguration"]["enabled"], json!(true));
    assert_eq!(
        t["configinfo"]["samlConfiguration"]["forceAuthn"],
        json!(true)
    );
    let crm = t["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Open in CRM")
        .unwrap();
    assert_eq!(
        crm["detail"]["authToken"],
        json!("S3CRET-src-crm-bearer-77aa")
    );
    // …the ignored ones kept the target's values.
    assert_eq!(
        t["configinfo"]["samlConfiguration"]["groupMapping"],
        json!("")
    );
    assert_eq!(
        crm["detail"]["link"],
        json!("https://crm.example.test/open")
    );
}

#[test]
fn bad_values_are_refused_before_writing() {
    let mut src = example();
    src["configinfo"]["maxFilterValues"] = json!("lots");
    src["configinfo"]["materializationConfig"]["refreshWindowStartTime"] = json!("25:99PM");
    src["configinfo"]["brandNewKey"] = json!(true);
    src["actions"][0]["detail"]["link"] = json!("not a link");
    src["actions"][1]["type"] = json!("WEBHOOK");
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let before = target.state();
    let out = apply_in(work.path(), &target, &source, &["--yes"]);
    assert_eq!(code(&out), 1);
    assert_eq!(target.state(), before);
    snap!(
        "validation_report",
        normalize(&stderr(&out), &[&source.url, &target.url], &[])
    );
    let out = compare_in(work.path(), "validate", &source.url, &target.url, &[]);
    assert_eq!(code(&out), 1);
    let out = compare_in(work.path(), "validate", &target.url, &target.url, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}
