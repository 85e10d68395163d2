//! `map generate` and `map check` between two simulators whose objects
//! have other GUIDs but the same names (as between two real clusters):
//! the generated map makes a migration validate and land with the
//! target's GUIDs; a name found twice is listed, never guessed; a wrong
//! entry is named by its JSON Pointer.

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::support::*;

/// The example cluster with every object under another GUID, its actions
/// referring to them.
fn elsewhere() -> (Value, Vec<(String, String)>) {
    let mut s = example();
    let text = s.to_string();
    let mut pairs = Vec::new();
    let mut out = text.clone();
    for (i, o) in s["objects"].as_array().unwrap().iter().enumerate() {
        let old = o["id"].as_str().unwrap().to_string();
        let new = format!("e15e0000-0000-4000-8000-{i:012}");
        out = out.replace(&old, &new);
        pairs.push((old, new));
    }
    s = serde_json::from_str(&out).unwrap();
    (s, pairs)
}

fn tsm(w: &std::path::Path, args: &[&str], status: i32) -> std::process::Output {
    Tsm::new(w)
        .logged_in()
        .args(args)
        .status(status)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run()
}

#[test]
fn a_generated_map_makes_a_migration_between_clusters_land() {
    let mut src = example();
    // A change to migrate: the CRM action on another answer.
    src["actions"][0]["actionAssociationMap"] = json!({"ANSWER": {"0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62": {"enabled": "true", "context": "MENU"}}});
    let source = TestSim::start(Some(&src), Faults::default());
    let (there, pairs) = elsewhere();
    let target = TestSim::start(Some(&there), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (s, t) = (source.url.as_str(), target.url.as_str());
    let generate = [
        "map",
        "generate",
        "--source",
        s,
        "--target",
        t,
        "--out",
        "maps/dev-prod.json",
        "--force",
    ];
    // Without a map the source's GUIDs are not on the target.
    tsm(w, &["validate", "--source", s, "--target", t], 1);

    let out = tsm(w, &generate[..8], 0);
    assert!(
        stderr(&out).contains("not matched, 0 matched more than once"),
        "{}",
        stderr(&out)
    );
    let map: Value =
        serde_json::from_slice(&std::fs::read(w.join("maps/dev-prod.json")).unwrap()).unwrap();
    let guids = map["guids"].as_object().unwrap();
    for (old, new) in &pairs {
        if let Some(v) = guids.get(old) {
            assert_eq!(v, new, "{old}");
        }
    }
    // Every object the source's actions refer to: the (new) answer, the
    // worksheet, the group.
    assert_eq!(guids.len(), 3, "{map:#}");
    // No schema to point at (no `tsmigrate init` here): none named.
    assert!(map.get("$schema").is_none(), "{map:#}");
    // Not replaced without --force.
    tsm(w, &generate[..8], 1);
    tsm(
        w,
        &[
            "map",
            "check",
            "--source",
            s,
            "--target",
            t,
            "--map",
            "maps/dev-prod.json",
        ],
        0,
    );
    // Where `tsmigrate init` left the schemas, a generated map names its
    // schema relative to itself (as editors resolve it), conforms to it,
    // and still reads.
    std::fs::create_dir_all(w.join(".tsmigrate")).unwrap();
    let schema_text = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas/map.schema.json"),
    )
    .unwrap();
    std::fs::write(w.join(".tsmigrate/map.schema.json"), &schema_text).unwrap();
    tsm(w, &generate, 0);
    let map: Value =
        serde_json::from_slice(&std::fs::read(w.join("maps/dev-prod.json")).unwrap()).unwrap();
    assert_eq!(map["$schema"], json!("../.tsmigrate/map.schema.json"));
    let schema: Value = serde_json::from_slice(&schema_text).unwrap();
    let errors: Vec<String> = jsonschema::validator_for(&schema)
        .unwrap()
        .iter_errors(&map)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{map:#}");
    tsm(
        w,
        &[
            "map",
            "check",
            "--source",
            s,
            "--target",
            t,
            "--map",
            "maps/dev-prod.json",
        ],
        0,
    );
    // The same map as ThoughtSpot's Git deploy writes it (org-0.json),
    // and as thoughtspot_tml / cs_tools keep it (environment names, here
    // the profiles'), through a [[maps]] entry.
    let deploy: Vec<Value> = guids
        .iter()
        .map(|(a, b)| json!({"originalGuid": a, "mappedGuid": b, "counter": 0, "additionalMapping": {}}))
        .collect();
    std::fs::write(w.join("org-0.json"), Value::Array(deploy).to_string()).unwrap();
    tsm(
        w,
        &[
            "validate",
            "--source",
            s,
            "--target",
            t,
            "--map",
            "org-0.json",
        ],
        0,
    );
    let envs: serde_json::Map<String, Value> = guids
        .iter()
        .map(|(a, b)| {
            (
                format!("{a}__{}", b.as_str().unwrap()),
                json!({"DEV": a, "PROD": b}),
            )
        })
        .collect();
    std::fs::write(w.join("cs-tools.json"), Value::Object(envs).to_string()).unwrap();
    std::fs::write(
        w.join("tsmigrate.toml"),
        format!("[clusters.dev]\nurl = \"{s}\"\nusername = \"admin\"\npassword_env = \"TS_PASSWORD\"\n\n[clusters.prod]\nurl = \"{t}\"\nusername = \"admin\"\npassword_env = \"TS_PASSWORD\"\n\n[[maps]]\nsource = \"dev\"\ntarget = \"prod\"\nfile = \"cs-tools.json\"\n"),
    )
    .unwrap();
    tsm(w, &["validate", "--source", "dev", "--target", "prod"], 0);
    std::fs::remove_file(w.join("tsmigrate.toml")).unwrap();
    tsm(
        w,
        &[
            "validate",
            "--source",
            s,
            "--target",
            t,
            "--map",
            "maps/dev-prod.json",
        ],
        0,
    );
    tsm(
        w,
        &[
            "apply",
            "--source",
            s,
            "--target",
            t,
            "--map",
            "maps/dev-prod.json",
            "--yes",
        ],
        0,
    );
    let stored = target.state();
    let crm = stored["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Open in CRM")
        .unwrap();
    let churn = pairs
        .iter()
        .find(|(o, _)| o == "0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62")
        .unwrap();
    assert_eq!(
        crm["actionAssociationMap"]["ANSWER"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec![&churn.1],
        "stored with the target's GUID"
    );
}

#[test]
fn names_found_twice_are_listed_and_wrong_entries_named() {
    let source = TestSim::start(Some(&example()), Faults::default());
    let (mut there, _) = elsewhere();
    there["objects"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "d0b1e000-0000-4000-8000-000000000001", "name": "Quarterly revenue", "type": "ANSWER"}));
    let target = TestSim::start(Some(&there), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (s, t) = (source.url.as_str(), target.url.as_str());
    let out = tsm(w, &["map", "generate", "--source", s, "--target", t], 2);
    let map: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        map["guids"]
            .get("3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35")
            .is_none(),
        "never guessed: {map:#}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("\"Quarterly revenue\"")
            && err.contains("d0b1e000-0000-4000-8000-000000000001"),
        "{err}"
    );

    // A hand-edited entry that points nowhere.
    std::fs::write(
        w.join("wrong.json"),
        json!({"guids": {"3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35": "00000000-0000-4000-8000-00000000dead"}})
            .to_string(),
    )
    .unwrap();
    let out = tsm(
        w,
        &[
            "map",
            "check",
            "--source",
            s,
            "--target",
            t,
            "--map",
            "wrong.json",
        ],
        1,
    );
    let err = stderr(&out);
    assert!(
        err.contains("wrong.json")
            && err.contains("at /guids/3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35"),
        "{err}"
    );
    // Snapshots carry no object names.
    tsm(w, &["export", "--cluster", s, "--out", "snap", "-q"], 0);
    let out = tsm(
        w,
        &["map", "generate", "--source", "snap", "--target", t],
        1,
    );
    assert!(stderr(&out).contains("not a snapshot"), "{}", stderr(&out));
}
