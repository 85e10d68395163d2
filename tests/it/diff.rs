//! Diff formats, exit codes, plans and their staleness.

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::snap;
use crate::support::*;

struct Pair {
    source: TestSim,
    target: TestSim,
    work: tempfile::TempDir,
}

fn pair() -> Pair {
    Pair {
        source: TestSim::start(Some(&demo_source()), Faults::default()),
        target: TestSim::start(None, Faults::default()),
        work: tempfile::tempdir().unwrap(),
    }
}

#[test]
fn every_format_on_the_example_clusters() {
    let p = pair();
    let w = p.work.path();
    for (format, name) in [
        ("text", "diff_text"),
        ("patch", "diff_patch"),
        ("json", "diff_json"),
        ("summary", "diff_summary"),
    ] {
        let out = compare_in(
            w,
            "diff",
            &p.source.url,
            &p.target.url,
            &["--format", format],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_no_secrets(format, &stdout(&out));
        assert_no_secrets(format, &stderr(&out));
        snap!(
            name,
            normalize(&stdout(&out), &[&p.source.url, &p.target.url], &[w])
        );
    }
}

#[test]
fn colour_follows_the_flag() {
    let p = pair();
    let w = p.work.path();
    let out = compare_in(
        w,
        "diff",
        &p.source.url,
        &p.target.url,
        &["--color", "always"],
    );
    assert!(stdout(&out).contains("\u{1b}["), "colour forced on");
    let out = compare_in(w, "diff", &p.source.url, &p.target.url, &[]);
    assert!(
        !stdout(&out).contains("\u{1b}["),
        "no colour off a terminal"
    );
}

#[test]
fn patch_turns_target_into_source_with_any_implementation() {
    let p = pair();
    let w = p.work.path();
    let patch: Value = serde_json::from_str(&stdout(&compare_in(
        w,
        "diff",
        &p.source.url,
        &p.target.url,
        &["--format", "patch", "--prune"],
    )))
    .unwrap();
    let mut target: Value =
        serde_json::from_str(&stdout(&tsm_in(w, &["show", &p.target.url]))).unwrap();
    let source: Value =
        serde_json::from_str(&stdout(&tsm_in(w, &["show", &p.source.url]))).unwrap();
    let patch: json_patch::Patch = serde_json::from_value(patch).unwrap();
    json_patch::patch(&mut target, &patch).unwrap();
    assert_eq!(target, source);
}

#[test]
fn exit_codes() {
    let p = pair();
    let w = p.work.path();
    let out = compare_in(w, "diff", &p.source.url, &p.target.url, &["--exit-code"]);
    assert_eq!(code(&out), 2);
    let out = compare_in(w, "diff", &p.target.url, &p.target.url, &["--exit-code"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "No differences.\n");
    let out = compare_in(
        w,
        "plan",
        &p.source.url,
        &p.target.url,
        &["--out", "p.json", "--exit-code"],
    );
    assert_eq!(code(&out), 2);
    let out = tsm_in(
        w,
        &[
            "diff",
            "--source",
            "nope/",
            "--target",
            &p.target.url,
            "--exit-code",
        ],
    );
    assert_eq!(code(&out), 1);
}

#[test]
fn snapshots_diff_like_live_clusters() {
    let p = pair();
    let w = p.work.path();
    assert_eq!(
        code(&tsm_in(
            w,
            &["export", "--cluster", &p.source.url, "--out", "src"]
        )),
        0
    );
    let live = compare_in(
        w,
        "diff",
        &p.source.url,
        &p.target.url,
        &["--format", "summary"],
    );
    let snap = tsm_in(
        w,
        &[
            "diff",
            "--source",
            "src",
            "--target",
            &p.target.url,
            "--format",
            "summary",
        ],
    );
    // From a snapshot, changed secrets are unknown (placeholders): the
    // target's values are kept and the diff says so on stderr.
    let strip = |s: String| {
        s.lines()
            .filter(|l| !l.contains("bindPassword") && !l.starts_with("tsmigrate:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(stdout(&snap)).replace(
            "detail, actionAssociationMap",
            "actionAssociationMap, detail"
        ),
        strip(stdout(&live)).replace(
            "detail, actionAssociationMap",
            "actionAssociationMap, detail"
        )
    );
    assert!(
        stderr(&snap).contains("have no value here"),
        "{}",
        stderr(&snap)
    );
}

/// A plan's target fingerprint is that of the target's snapshot: the same
/// whether the target is the live cluster, its snapshot read side by side
/// with the source's, or its snapshot read in full (an ignore rule).
#[test]
fn a_plans_target_fingerprint_is_that_of_its_snapshot() {
    let p = pair();
    let w = p.work.path();
    for (url, dir) in [(&p.source.url, "src"), (&p.target.url, "tgt")] {
        let out = tsm_in(w, &["export", "--cluster", url, "--out", dir]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let fingerprint = |target: &str, extra: &[&str]| {
        let mut args = vec!["--out", "p.json"];
        args.extend_from_slice(extra);
        let out = compare_in(w, "plan", "src", target, &args);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let plan: Value =
            serde_json::from_str(&std::fs::read_to_string(w.join("p.json")).unwrap()).unwrap();
        plan["target_fingerprint"].as_str().unwrap().to_string()
    };
    let live = fingerprint(&p.target.url, &[]);
    assert_eq!(fingerprint("tgt", &[]), live, "side by side");
    assert_eq!(
        fingerprint("tgt", &["--ignore", "/config/noSuchKey"]),
        live,
        "read in full"
    );
    assert_ne!(
        fingerprint("src", &[]),
        live,
        "another target, another print"
    );
}

#[test]
fn plan_file_guards_and_staleness() {
    let p = pair();
    let w = p.work.path();
    let out = compare_in(
        w,
        "plan",
        &p.source.url,
        &p.target.url,
        &["--out", "prod.plan.json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(w.join("prod.plan.json")).unwrap();
    assert_no_secrets("plan", &text);
    let plan: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(plan["format"], json!("tsmigrate-plan"));
    assert_eq!(plan["version"], json!(2));
    assert_eq!(plan["target_url"], json!(p.target.url));
    assert_eq!(plan["target_org"], json!(0));
    assert!(plan["target_fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    // What the plan adds to objects must still be absent at apply.
    assert_eq!(
        plan["absent"],
        json!([
            "/actions/Open in CRM/actionAssociationMap/ANSWER/0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62",
            "/actions/Open in Jira"
        ])
    );
    let ops = plan["patch"].as_array().unwrap();
    // Every replace and remove is preceded by a test of the value it changes.
    for (i, op) in ops.iter().enumerate() {
        if op["op"] == "replace" || op["op"] == "remove" {
            assert_eq!(ops[i - 1]["op"], json!("test"), "{op}");
            assert_eq!(ops[i - 1]["path"], op["path"]);
        }
    }
    snap!(
        "plan_example",
        normalize(&text, &[&p.source.url, &p.target.url], &[w])
    );

    // Drift on a guarded path: apply refuses with exit 3 and names it.
    let c = http();
    login(&c, &p.target);
    let r = c
        .post(p.target.api("/admin/configinfo/update"))
        .header("X-Requested-By", "t")
        .form(&[(
            "configchanges",
            r#"{"samlConfiguration.enabled": true, "maxFilterValues": 7}"#,
        )])
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let before = p.target.state();
    let out = tsm_in(
        w,
        &[
            "apply",
            "--target",
            &p.target.url,
            "--plan",
            "prod.plan.json",
            "--yes",
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("/config/samlConfiguration/enabled")
            && err.contains("/config/maxFilterValues"),
        "{err}"
    );
    assert_eq!(p.target.state(), before, "nothing written");
}

#[test]
fn plans_from_newer_tools_and_edited_secrets_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(
        w.join("new.json"),
        r#"{"format": "tsmigrate-plan", "version": 3}"#,
    )
    .unwrap();
    let out = tsm_in(
        w,
        &[
            "apply",
            "--target",
            "http://127.0.0.1:9",
            "--plan",
            "new.json",
            "--yes",
        ],
    );
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("plan format 3 is not supported"),
        "{}",
        stderr(&out)
    );
    let plan = json!({"format": "tsmigrate-plan", "version": 2, "tool": "x", "source": "a", "target": "b",
        "target_url": "http://127.0.0.1:9", "target_org": 0,
        "target_fingerprint": "sha256:0", "absent": [],
        "patch": [{"op": "replace", "path": "/actions/A/detail/authToken", "value": "S3CRET-smuggled"}]});
    std::fs::write(w.join("edited.json"), plan.to_string()).unwrap();
    let out = tsm_in(
        w,
        &[
            "apply",
            "--target",
            "http://127.0.0.1:9",
            "--plan",
            "edited.json",
            "--yes",
        ],
    );
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("/patch/0") && !err.contains("S3CRET-smuggled"),
        "{err}"
    );
}

/// A snapshot directory from its files, as a hand (or git) left them.
fn snapshot_files(dir: &std::path::Path, config: &str, actions: &[(&str, &str)]) {
    std::fs::create_dir_all(dir.join("actions")).unwrap();
    std::fs::write(
        dir.join("tsmigrate.json"),
        r#"{"format": "tsmigrate-snapshot", "version": 1, "source": "http://127.0.0.1:1"}"#,
    )
    .unwrap();
    std::fs::write(dir.join("config.json"), config).unwrap();
    for (file, text) in actions {
        std::fs::write(dir.join("actions").join(file), text).unwrap();
    }
}

/// A keyed array that differs between two snapshots read side by side:
/// an item changed is one op, and an item moved is carried whole by the
/// patch, as a full read (forced by an ignore rule) has it.
#[test]
fn a_keyed_array_read_side_by_side_diffs_as_read_in_full() {
    let w = tempfile::tempdir().unwrap();
    let item = |id: &str, v: &str| format!(r#"{{"id": "{id}", "v": "{v}", "more": [1, 2]}}"#);
    let list = |items: &[String]| format!(r#"{{"list": [{}]}}"#, items.join(", "));
    let (a1, a2, a3) = (item("a1", "x"), item("a2", "y"), item("a3", "z"));
    let patch = |source: &str, target: &str, extra: &[&str]| {
        let mut args = vec!["diff", "--source", source, "--target", target];
        args.extend_from_slice(&["--format", "patch"]);
        args.extend_from_slice(extra);
        let out = tsm_in(w.path(), &args);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };
    // One changed, one alike: the changed one only.
    snapshot_files(
        &w.path().join("t"),
        &list(&[a1.clone(), a2.clone(), a3.clone()]),
        &[],
    );
    snapshot_files(
        &w.path().join("s"),
        &list(&[a1.clone(), item("a2", "changed"), a3.clone()]),
        &[],
    );
    assert_eq!(
        patch("s", "t", &[]),
        json!([{"op": "replace", "path": "/config/list/1/v", "value": "changed"}])
    );
    // a3 moved to the front: its remove and add carry it whole.
    snapshot_files(
        &w.path().join("m"),
        &list(&[a3.clone(), a1.clone(), a2.clone()]),
        &[],
    );
    let moved = patch("m", "t", &[]);
    assert_eq!(moved, patch("m", "t", &["--ignore", "/config/noSuchKey"]));
    let text = moved.to_string();
    assert!(text.contains(r#""more":[1,2]"#), "{text}");
}

/// Two snapshots are read side by side, what both hold alike left out:
/// the diff still keeps a key only the target has inside an object the
/// source holds alike in part, and still refuses in what both hold alike
/// what a full read refuses.
#[test]
fn snapshots_read_side_by_side_keep_every_check() {
    let w = tempfile::tempdir().unwrap();
    let name = "Send";
    let file = format!("{}.json", tsmigrate::snapshot::slug(name));
    let action = r#"{"name": "Send", "detail": {"link": "https://example.test"}}"#;
    snapshot_files(
        &w.path().join("a"),
        r#"{"s": {"k": 1}, "same": {"x": [1, 2]}}"#,
        &[(&file, action)],
    );
    snapshot_files(
        &w.path().join("b"),
        r#"{"s": {"k": 1, "extra": 2}, "same": {"x": [1, 2]}}"#,
        &[(&file, action)],
    );
    let out = tsm_in(
        w.path(),
        &["diff", "--source", "a", "--target", "b", "--format", "json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["changes"], json!([]), "{report}");
    assert_eq!(
        report["notes"]["unremovable"],
        json!(["/config/s/extra"]),
        "{report}"
    );

    // A key twice in a file both sides hold alike.
    let twice = r#"{"name": "Send", "detail": {"link": "x", "link": "y"}}"#;
    for side in ["a", "b"] {
        std::fs::write(w.path().join(side).join("actions").join(&file), twice).unwrap();
    }
    let out = tsm_in(w.path(), &["diff", "--source", "a", "--target", "b"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&file) && stderr(&out).contains("twice"),
        "{}",
        stderr(&out)
    );

    // An action in a file its name does not belong in, on both sides.
    let other = r#"{"name": "Other", "detail": {}}"#;
    for side in ["a", "b"] {
        std::fs::write(w.path().join(side).join("actions").join(&file), other).unwrap();
    }
    let out = tsm_in(w.path(), &["diff", "--source", "a", "--target", "b"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("belongs in"), "{}", stderr(&out));

    // A config key twice inside a section both sides hold alike.
    std::fs::write(w.path().join("a/actions").join(&file), action).unwrap();
    std::fs::write(w.path().join("b/actions").join(&file), action).unwrap();
    for side in ["a", "b"] {
        std::fs::write(
            w.path().join(side).join("config.json"),
            r#"{"s": {"k": 1, "k": 1}, "t": 1}"#,
        )
        .unwrap();
    }
    let out = tsm_in(w.path(), &["diff", "--source", "a", "--target", "b"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("config.json") && stderr(&out).contains("twice"),
        "{}",
        stderr(&out)
    );
}

/// The placeholders of action files both sides hold alike still count:
/// listed with -v, and a secrets-file entry for one matches something.
#[test]
fn placeholders_in_what_both_hold_alike_still_count() {
    let w = tempfile::tempdir().unwrap();
    let name = "Send";
    let file = format!("{}.json", tsmigrate::snapshot::slug(name));
    let action = r#"{"name": "Send", "detail": {"authToken": "${secret:/actions/Send/detail/authToken}", "link": "x"}}"#;
    for side in ["a", "b"] {
        snapshot_files(&w.path().join(side), r#"{"k": 1}"#, &[(&file, action)]);
    }
    std::fs::write(
        w.path().join("secrets.json"),
        r#"{"/actions/Send/detail/authToken": "tok-value-1"}"#,
    )
    .unwrap();
    let out = tsm_in(w.path(), &["diff", "--source", "a", "--target", "b", "-v"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/actions/Send/detail/authToken: no value"),
        "{}",
        stderr(&out)
    );
    let out = tsm_in(
        w.path(),
        &[
            "diff",
            "--source",
            "a",
            "--target",
            "b",
            "--secrets",
            "secrets.json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("matches no secret placeholder"),
        "{}",
        stderr(&out)
    );
    assert_no_secrets("diff output", &(stdout(&out) + &stderr(&out)));
}

/// A Markdown report kept under GitHub's comment limit: whole sections
/// left out, said so; the flag is for markdown only.
#[test]
fn max_bytes_keeps_a_markdown_report_under_the_limit() {
    use tsmigrate::benchdata::corpus::{generate, Shape};
    let c = generate(&Shape {
        actions: 400,
        changed: 400,
        orgs: 1,
        ..Shape::default()
    });
    let source = TestSim::start(Some(&c.source), Faults::default());
    let target = TestSim::start(Some(&c.target), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let args = |extra: &[&str]| {
        let mut a = vec!["diff", "--source", &source.url, "--target", &target.url];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |extra: &[&str], status: i32| {
        let a = args(extra);
        Tsm::new(work.path())
            .logged_in()
            .args(&a.iter().map(String::as_str).collect::<Vec<_>>())
            .status(status)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run()
    };
    let whole = stdout(&run(&["--format", "markdown"], 0));
    assert!(whole.len() > 65_536, "{}", whole.len());
    let cut = stdout(&run(&["--format", "markdown", "--max-bytes", "65536"], 0));
    assert!(cut.len() <= 65_536, "{}", cut.len());
    assert!(cut.contains("Left out to stay under 65536 bytes"), "{cut}");
    assert!(
        cut.starts_with(whole.lines().next().unwrap()),
        "the heading stays"
    );
    let refused = run(&["--format", "text", "--max-bytes", "2000"], 1);
    assert!(stderr(&refused).contains("--max-bytes is for --format markdown"));
    let small = run(&["--format", "markdown", "--max-bytes", "100"], 1);
    assert!(stderr(&small).contains("1024"), "{}", stderr(&small));
}
