//! Read side: show, export, snapshots as REFs, secrets, errors and exit codes.

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::snap;
use crate::support::*;

fn tricky_state() -> Value {
    let mut s = example();
    let base = s["actions"][1].clone();
    for (i, name) in ["a/b", "a_b", "tilde~name", "with spaces", "Überraschung ✓"]
        .iter()
        .enumerate()
    {
        let mut a = base.clone();
        a["name"] = json!(name);
        a["id"] = json!(format!("00000000-0000-4000-8000-00000000000{i}"));
        s["actions"].as_array_mut().unwrap().push(a);
    }
    s
}

#[test]
fn export_reads_back_as_show_and_is_deterministic() {
    let sim = TestSim::start(Some(&tricky_state()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let show = tsm_in(w, &["show", &sim.url, "-vv"]);
    assert_eq!(code(&show), 0, "{}", stderr(&show));
    assert_no_secrets("show", &stdout(&show));
    assert_no_secrets("show -vv logs", &stderr(&show));

    let out = tsm_in(
        w,
        &["export", "--cluster", &sim.url, "--out", "snap", "-vv"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_no_secrets("export logs", &stderr(&out));
    let first = all_text(&w.join("snap"));
    assert_no_secrets("snapshot", &first);
    assert_eq!(
        std::fs::read_dir(w.join("snap/actions")).unwrap().count(),
        8,
        "distinct files for names that slug alike"
    );

    let reread = tsm_in(w, &["show", "snap"]);
    assert_eq!(
        stdout(&reread),
        stdout(&show),
        "a snapshot reads back as the cluster's document"
    );

    let files_before: Vec<_> = walk(&w.join("snap"))
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    let again = tsm_in(w, &["export", "--cluster", &sim.url, "--out", "snap"]);
    assert_eq!(code(&again), 0);
    let files_after: Vec<_> = walk(&w.join("snap"))
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    assert_eq!(files_before, files_after, "byte-identical re-export");

    // Every placeholder's pointer resolves in the document.
    let doc: Value = serde_json::from_str(&stdout(&show)).unwrap();
    let text = stdout(&show);
    let re = regex::Regex::new(r"\$\{secret:([^}]*)\}").unwrap();
    let mut n = 0;
    for cap in re.captures_iter(&text) {
        let ptr = &cap[1];
        let ptr = serde_json::from_str::<String>(&format!("\"{ptr}\"")).unwrap();
        let v = doc
            .pointer(&ptr)
            .unwrap_or_else(|| panic!("{ptr} does not resolve"));
        assert_eq!(v, &json!(format!("${{secret:{ptr}}}")));
        n += 1;
    }
    assert!(n >= 5, "{n}");
}

#[test]
fn exported_files_of_the_example_cluster() {
    let sim = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let out = tsm_in(
        work.path(),
        &["export", "--cluster", &sim.url, "--out", "snap"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let dir = work.path().join("snap");
    let mut listing = String::new();
    for p in walk(&dir) {
        let rel = p.strip_prefix(&dir).unwrap().display().to_string();
        listing.push_str(&format!(
            "--- {rel}\n{}",
            std::fs::read_to_string(&p).unwrap()
        ));
    }
    snap!(
        "export_example_cluster",
        normalize(&listing, &[&sim.url], &[])
    );
}

#[test]
fn export_refuses_foreign_directories_and_keeps_extra_files() {
    let sim = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::create_dir(w.join("mine")).unwrap();
    std::fs::write(w.join("mine/notes.txt"), "keep me").unwrap();
    let out = tsm_in(w, &["export", "--cluster", &sim.url, "--out", "mine"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("not a tsmigrate snapshot"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(w.join("mine/notes.txt")).unwrap(),
        "keep me"
    );

    assert_eq!(
        code(&tsm_in(
            w,
            &["export", "--cluster", &sim.url, "--out", "snap"]
        )),
        0
    );
    std::fs::write(w.join("snap/README.md"), "ours").unwrap();
    assert_eq!(
        code(&tsm_in(
            w,
            &["export", "--cluster", &sim.url, "--out", "snap"]
        )),
        0
    );
    assert_eq!(
        std::fs::read_to_string(w.join("snap/README.md")).unwrap(),
        "ours"
    );
    let leftovers: Vec<_> = std::fs::read_dir(w)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn malformed_snapshots_name_file_and_path() {
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
    let action = walk(&w.join("snap/actions")).into_iter().next().unwrap();
    let mut a: Value = serde_json::from_str(&std::fs::read_to_string(&action).unwrap()).unwrap();
    a["name"] = json!(17);
    std::fs::write(&action, a.to_string()).unwrap();
    let out = tsm_in(w, &["show", "snap"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    let file = action.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        err.contains(&format!("snap/actions/{file}: at /name")),
        "{err}"
    );

    std::fs::write(w.join("snap/config.json"), "{\"a\": [1, 2,}").unwrap();
    let out = tsm_in(w, &["show", "snap"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("config.json: line 1 column"),
        "{}",
        stderr(&out)
    );

    std::fs::write(
        w.join("snap/tsmigrate.json"),
        r#"{"format": "tsmigrate-snapshot", "version": 99}"#,
    )
    .unwrap();
    let out = tsm_in(w, &["show", "snap"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("/version"), "{}", stderr(&out));
}

#[test]
fn unreachable_and_refused_exit_6() {
    let work = tempfile::tempdir().unwrap();
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = tsm_in(work.path(), &["show", &format!("http://127.0.0.1:{port}")]);
    assert_eq!(code(&out), 6, "{}", stderr(&out));
    assert!(stderr(&out).contains("unreachable"), "{}", stderr(&out));

    let sim = TestSim::start(None, Faults::default());
    let out = command(work.path())
        .args(["show", &sim.url])
        .env("TS_USERNAME", "admin")
        .env("TS_PASSWORD", "S3CRET-wrong-password-x1")
        .env_remove("TS_TOKEN")
        .output()
        .unwrap();
    assert_eq!(code(&out), 6);
    let err = stderr(&out);
    assert!(
        err.contains("TS_USERNAME") && !err.contains("S3CRET-wrong-password-x1"),
        "{err}"
    );

    // Profiles name the variable that holds the secret.
    std::fs::write(
        work.path().join("tsmigrate.toml"),
        format!("[clusters.prod]\nurl = \"{}\"\nusername = \"admin\"\npassword_env = \"TSM_TEST_PROD_PW\"\n", sim.url),
    )
    .unwrap();
    let out = command(work.path())
        .args(["show", "prod"])
        .env("TSM_TEST_PROD_PW", "nope")
        .output()
        .unwrap();
    assert_eq!(code(&out), 6);
    assert!(
        stderr(&out).contains("$TSM_TEST_PROD_PW"),
        "{}",
        stderr(&out)
    );
    let out = command(work.path())
        .args(["show", "prod"])
        .env_remove("TSM_TEST_PROD_PW")
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("TSM_TEST_PROD_PW is not set"),
        "{}",
        stderr(&out)
    );
    let out = command(work.path())
        .args(["show", "prod"])
        .env("TSM_TEST_PROD_PW", "admin")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn bearer_token_from_environment() {
    let sim = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let out = command(work.path())
        .args(["show", &sim.url])
        .env("TS_TOKEN", "test-token")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn reads_retry_transient_faults() {
    let sim = TestSim::start(
        None,
        Faults {
            fail_rate: 0.3,
            throttle_rate: 0.1,
            seed: Some(3),
            ..Faults::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let out = tsm_in(work.path(), &["show", &sim.url]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn duplicate_action_names_are_refused_by_name() {
    let mut s = example();
    let mut dup = s["actions"][1].clone();
    dup["id"] = json!("11111111-2222-4333-8444-555555555555");
    s["actions"].as_array_mut().unwrap().push(dup);
    let sim = TestSim::start(Some(&s), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let out = tsm_in(work.path(), &["show", &sim.url]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("Send to Slack") && err.contains("11111111-2222-4333-8444-555555555555"),
        "{err}"
    );
}

#[test]
fn argument_errors_exit_1() {
    let work = tempfile::tempdir().unwrap();
    let out = tsm_in(work.path(), &["diff", "--source"]);
    assert_eq!(code(&out), 1);
    let out = tsm_in(work.path(), &["show", "no-such-profile-or-dir"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("not a profile"), "{}", stderr(&out));
    let out = tsm_in(work.path(), &["show", "http://example.com"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("--allow-http"));
}
