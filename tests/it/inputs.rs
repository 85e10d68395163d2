//! Hand-edited inputs: every bad file is an error naming the file and the
//! path inside it, exit 1, nothing written.

use serde_json::json;
use tsmigrate::sim::Faults;

use crate::support::*;

fn fails_with(dir: &std::path::Path, args: &[&str], needles: &[&str]) {
    let out = tsm_in(dir, args);
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: expected {n:?} in: {err}");
    }
    assert!(stdout(&out).is_empty(), "{args:?} printed a result");
}

#[test]
fn config_file_errors_name_the_file_and_key() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(w.join("syntax.toml"), "[clusters.prod\nurl = 1\n").unwrap();
    fails_with(
        w,
        &["--config", "syntax.toml", "show", "prod"],
        &["syntax.toml"],
    );
    std::fs::write(
        w.join("unknown.toml"),
        "[clusters.prod]\nurl = \"https://x.example\"\npasword_env = \"X\"\n",
    )
    .unwrap();
    fails_with(
        w,
        &["--config", "unknown.toml", "show", "prod"],
        &["unknown.toml", "clusters.prod", "pasword_env"],
    );
    std::fs::write(w.join("type.toml"), "[migrate]\nignore = \"/config/a\"\n").unwrap();
    fails_with(
        w,
        &["--config", "type.toml", "show", "prod"],
        &["type.toml", "migrate.ignore"],
    );
    std::fs::write(w.join("ptr.toml"), "[migrate]\nignore = [\"config/a\"]\n").unwrap();
    fails_with(
        w,
        &["--config", "ptr.toml", "show", "prod"],
        &["not a JSON Pointer"],
    );
    std::fs::write(
        w.join("zero.toml"),
        "[clusters.prod]\nurl = \"https://x.example\"\nparallel = 0\n",
    )
    .unwrap();
    fails_with(
        w,
        &["--config", "zero.toml", "show", "prod"],
        &["clusters.prod.parallel"],
    );
}

#[test]
fn secrets_file_errors() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // A value may be any JSON (a list of key lines, a number); the file
    // must map pointers to values.
    std::fs::write(
        w.join("s.json"),
        json!(["/actions/A/detail/authToken", 5]).to_string(),
    )
    .unwrap();
    fails_with(
        w,
        &["--secrets", "s.json", "show", "http://127.0.0.1:9"],
        &["s.json", "expected a map"],
    );
    std::fs::write(w.join("k.json"), json!({"actions/A": "x"}).to_string()).unwrap();
    fails_with(
        w,
        &["--secrets", "k.json", "show", "http://127.0.0.1:9"],
        &["k.json", "JSON Pointer"],
    );
    fails_with(
        w,
        &["--secrets", "missing.json", "show", "http://127.0.0.1:9"],
        &["missing.json"],
    );
}

#[test]
fn snapshot_files_with_bom_are_read_and_duplicate_keys_refused() {
    let sim = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    assert_eq!(
        code(&tsm_in(
            w,
            &["export", "--cluster", &sim.url, "--out", "snap"]
        )),
        0
    );
    let config = w.join("snap/config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
    )
    .unwrap();
    let out = tsm_in(w, &["show", "snap"]);
    assert_eq!(code(&out), 0, "a BOM is accepted: {}", stderr(&out));
    std::fs::write(
        &config,
        text.replacen(
            "\"adminPortalDevEnabled\": false,",
            "\"adminPortalDevEnabled\": false,\n  \"adminPortalDevEnabled\": true,",
            1,
        ),
    )
    .unwrap();
    fails_with(
        w,
        &["show", "snap"],
        &["config.json", "\"adminPortalDevEnabled\" appears twice"],
    );
    std::fs::write(&config, [text.as_bytes(), b"\xff"].concat()).unwrap();
    fails_with(w, &["show", "snap"], &["config.json", "not UTF-8"]);
    std::fs::write(&config, "{\"n\": 1e999}").unwrap();
    fails_with(w, &["show", "snap"], &["config.json"]);
}
