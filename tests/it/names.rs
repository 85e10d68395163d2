//! Action names that differ only in Unicode normalization, case, width or
//! a trailing space are different actions: each its own snapshot file
//! (distinct even to a case-insensitive filesystem), its own action on
//! the cluster a migration writes to.

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::support::*;

/// Near-twins: each pair looks alike to a person, or to a filesystem that
/// folds case, normalizes or trims.
const NAMES: &[&str] = &[
    "Caf\u{e9}",   // NFC: é as one code point
    "Cafe\u{301}", // NFD: e and a combining acute accent
    "Send",        // case only
    "send",
    "\u{ff33}end", // a full-width S
    "Send ",       // a trailing space
    "caf\u{c9}",   // case of the NFC spelling
    "CAFE\u{301}", // case of the NFD spelling
];

fn cluster_with_names() -> Value {
    let mut state = example();
    let template = state["actions"][1].clone();
    let actions: Vec<Value> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut a = template.clone();
            a["name"] = json!(name);
            a["id"] = json!(format!("00000000-0000-4000-8000-{i:012}"));
            a["detail"]["function"] = json!(format!("function-{i}"));
            a
        })
        .collect();
    state["actions"] = Value::Array(actions);
    state
}

/// The example cluster with no actions: a migration's empty target.
fn without_actions() -> Value {
    let mut state = example();
    state["actions"] = json!([]);
    state
}

/// The stored actions' names, each with the field that tells them apart.
fn stored(sim: &TestSim) -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = sim.state()["actions"]
        .as_array()
        .expect("the state holds actions")
        .iter()
        .map(|a| {
            let name = a["name"].as_str().unwrap_or_default().to_string();
            let function = a["detail"]["function"].as_str().unwrap_or_default();
            (name, function.to_string())
        })
        .collect();
    names.sort();
    names
}

fn expected() -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), format!("function-{i}")))
        .collect();
    names.sort();
    names
}

#[test]
fn near_twin_names_are_distinct_actions_and_files() {
    let source = TestSim::start(Some(&cluster_with_names()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();

    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &source.url, "--out", "snap"])
        .status(0)
        .stderr_has(&["to snap (8 actions)"])
        .run();
    let files: Vec<String> = std::fs::read_dir(w.join("snap/actions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), NAMES.len(), "one file per action: {files:?}");
    // What a case-insensitive filesystem compares.
    let mut folded: Vec<String> = files.iter().map(|f| f.to_lowercase()).collect();
    folded.sort();
    folded.dedup();
    assert_eq!(
        folded.len(),
        files.len(),
        "file names alike but for case: {files:?}"
    );

    let show = Tsm::new(w)
        .args(&["show", "snap"])
        .status(0)
        .stdout(Expect::Any)
        .run();
    let doc: Value = serde_json::from_slice(&show.stdout).unwrap();
    let mut shown: Vec<&str> = doc["actions"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    shown.sort();
    let mut want = NAMES.to_vec();
    want.sort();
    assert_eq!(shown, want);

    Tsm::new(w)
        .logged_in()
        .args(&[
            "diff",
            "--source",
            "snap",
            "--target",
            &source.url,
            "--exit-code",
        ])
        .status(0)
        .stdout(Expect::Exact("No differences.\n".into()))
        .stderr(Expect::Any)
        .run();

    let target = TestSim::start(Some(&without_actions()), Faults::default());
    Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--yes",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    assert_eq!(stored(&target), expected());
    // And again from the snapshot, to a second empty cluster.
    let again = TestSim::start(Some(&without_actions()), Faults::default());
    Tsm::new(w)
        .logged_in()
        .args(&["apply", "--source", "snap", "--target", &again.url, "--yes"])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    assert_eq!(stored(&again), expected());
}
