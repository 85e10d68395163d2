//! The files a user writes (`tsmigrate.toml`, map files, secrets files)
//! against their published schemas (`docs/schemas/`): every example in the
//! README and in `examples/config/` conforms, the schema refuses what the
//! tool refuses, and the tool reads the examples as they are, `$schema`
//! keys included.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator(name: &str) -> jsonschema::Validator {
    let path = root().join(format!("docs/schemas/{name}.schema.json"));
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn conforms(name: &str, what: &str, doc: &Value) {
    let errors: Vec<String> = validator(name)
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} breaks {name}: {errors:#?}\n{doc:#}"
    );
}

/// The README's code blocks of `lang`, each with the line before its
/// fence's paragraph (to tell map files from secrets files).
fn readme_blocks(lang: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    let mut last_text = String::new();
    while let Some(line) = lines.next() {
        if line.trim() == format!("```{lang}") {
            let mut block = String::new();
            for l in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                block.push_str(l);
                block.push('\n');
            }
            out.push((last_text.clone(), block));
        } else if !line.trim().is_empty() {
            last_text = line.to_string();
        }
    }
    out
}

fn toml_as_json(text: &str, what: &str) -> Value {
    let v: toml::Value = toml::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    serde_json::to_value(v).unwrap()
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_example_conforms_to_its_schema() {
    let tomls = readme_blocks("toml");
    assert!(!tomls.is_empty());
    for (i, (_, block)) in tomls.iter().enumerate() {
        let what = format!("README toml block {i}");
        conforms("tsmigrate-toml", &what, &toml_as_json(block, &what));
    }
    let example = root().join("examples/config/tsmigrate.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    assert!(
        text.starts_with("#:schema ../../docs/schemas/tsmigrate-toml.schema.json"),
        "editors find the schema"
    );
    conforms(
        "tsmigrate-toml",
        "examples/config/tsmigrate.toml",
        &toml_as_json(&text, "example"),
    );

    let (mut maps, mut secrets) = (0, 0);
    for (before, block) in readme_blocks("json") {
        let doc: Value = match serde_json::from_str(&block) {
            Ok(v) => v,
            // The plan example carries comments: not a file a user writes.
            Err(_) => continue,
        };
        if before.starts_with("Map file") {
            conforms("map", "README map file", &doc);
            maps += 1;
        } else if before.starts_with("Secrets file") {
            conforms("secrets", "README secrets file", &doc);
            secrets += 1;
        }
    }
    assert_eq!((maps, secrets), (1, 1), "the README shows one of each");
    let map = json_file(&root().join("examples/config/maps/dev-prod.json"));
    assert_eq!(map["$schema"], "../../../docs/schemas/map.schema.json");
    conforms("map", "examples/config/maps/dev-prod.json", &map);
    let secrets = json_file(&root().join("examples/config/secrets.json"));
    conforms("secrets", "examples/config/secrets.json", &secrets);
}

/// What the schema refuses, the tool refuses too (exit 1, naming the
/// file), and the other way round for what it accepts.
/// A snapshot of the example cluster in `w/snap`.
fn snapshot(w: &Path) -> String {
    let sim = TestSim::start(Some(&example()), Faults::default());
    let snap = w.join("snap");
    Tsm::new(w)
        .logged_in()
        .args(&[
            "export",
            "--cluster",
            &sim.url,
            "--out",
            snap.to_str().unwrap(),
            "-q",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    snap.to_str().unwrap().to_string()
}

#[test]
fn the_schemas_refuse_what_the_tool_refuses() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let s = snapshot(w);
    let bad_tomls = [
        "[clusters.prod]\nurl = \"https://prod.example.invalid\"\npasword_env = \"X\"\n",
        "[clusters.prod]\nusername = \"a\"\n",
        "[migrate]\nmap = \"m.json\"\n",
        "[clusters.prod]\nurl = \"https://prod.example.invalid\"\napi = \"v3\"\n",
        "[[maps]]\nsource = \"a\"\ntarget = \"b\"\n",
        "[unknown]\n",
    ];
    for (i, text) in bad_tomls.iter().enumerate() {
        let doc = toml_as_json(text, "bad");
        assert!(
            !validator("tsmigrate-toml").is_valid(&doc),
            "the schema takes bad file {i}: {text}"
        );
        let file = w.join(format!("bad-{i}.toml"));
        std::fs::write(&file, text).unwrap();
        Tsm::new(w)
            .args(&[
                "--config",
                file.to_str().unwrap(),
                "diff",
                "--source",
                "a",
                "--target",
                "b",
            ])
            .status(1)
            .stdout(Expect::Empty)
            .stderr_has(&[&format!("bad-{i}.toml")])
            .run();
    }
    for (name, doc) in [
        ("map", json!({"guids": {}, "extra": 1})),
        ("map", json!({"replace": {"": "x"}})),
        ("secrets", json!({"actions/no-slash": "x"})),
    ] {
        assert!(!validator(name).is_valid(&doc), "{name}: {doc}");
        let file = w.join(format!("bad-{name}.json"));
        std::fs::write(&file, doc.to_string()).unwrap();
        let flag = if name == "map" { "--map" } else { "--secrets" };
        Tsm::new(w)
            .args(&[
                flag,
                file.to_str().unwrap(),
                "diff",
                "--source",
                &s,
                "--target",
                &s,
            ])
            .status(1)
            .stdout(Expect::Empty)
            .stderr_has(&[&format!("bad-{name}.json")])
            .run();
    }
}

/// The examples as they are, `$schema` keys and `#:schema` lines
/// included, are read by the tool: a diff of two snapshots with the
/// example profiles file, map file and secrets file.
#[test]
fn the_tool_reads_the_examples_as_they_are() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let s = snapshot(w);
    let s = s.as_str();
    let config = root().join("examples/config");
    Tsm::new(w)
        .args(&[
            "--config",
            config.join("tsmigrate.toml").to_str().unwrap(),
            "--map",
            config.join("maps/dev-prod.json").to_str().unwrap(),
            "--secrets",
            config.join("secrets.json").to_str().unwrap(),
            "diff",
            "--source",
            s,
            "--target",
            s,
        ])
        .status(0)
        .stdout_has(&["No differences"])
        .stderr(Expect::Any)
        .run();
}

/// A REF that is no profile lists the profiles there are.
#[test]
fn an_unknown_profile_lists_the_known_ones() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(
        w.join("tsmigrate.toml"),
        "[clusters.dev]\nurl = \"https://dev.example.invalid\"\n\n[clusters.prod]\nurl = \"https://prod.example.invalid\"\n",
    )
    .unwrap();
    Tsm::new(w)
        .args(&["diff", "--source", "staging", "--target", "prod"])
        .status(1)
        .stdout(Expect::Empty)
        .stderr_has(&[
            "\"staging\" is not a profile in tsmigrate.toml",
            "the profiles are: dev, prod",
        ])
        .run();
}

/// Every credential variable missing, and every unknown profile, is told
/// in one run, not one per run.
#[test]
fn everything_wrong_with_the_clusters_named_is_told_at_once() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(
        w.join("tsmigrate.toml"),
        "[clusters.dev]\nurl = \"https://dev.example.invalid\"\nusername = \"a\"\npassword_env = \"TS_DEV_PASSWORD\"\n\n[clusters.prod]\nurl = \"https://prod.example.invalid\"\ntoken_env = \"TS_PROD_TOKEN\"\n",
    )
    .unwrap();
    Tsm::new(w)
        .args(&[
            "diff", "--source", "dev", "--target", "prod", "--target", "staging",
        ])
        .status(1)
        .stdout(Expect::Empty)
        .stderr_has(&[
            "3 problems",
            "TS_DEV_PASSWORD",
            "TS_PROD_TOKEN",
            "\"staging\" is not a profile",
        ])
        .run();
}
