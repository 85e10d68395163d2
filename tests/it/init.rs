//! `tsmigrate init` in an empty directory, then the files it wrote at
//! work: the profiles file conforms to its schema and takes a newcomer
//! from nothing to a diff between two simulators; a second `init`
//! replaces nothing.

use serde_json::Value;
use tsmigrate::sim::Faults;

use crate::support::*;

fn schema_ok(dir: &std::path::Path) {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(dir.join(".tsmigrate/tsmigrate-toml.schema.json")).unwrap(),
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.join("tsmigrate.toml")).unwrap();
    assert!(text.starts_with("#:schema .tsmigrate/tsmigrate-toml.schema.json"));
    let doc = serde_json::to_value(toml::from_str::<toml::Value>(&text).unwrap()).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
}

#[test]
fn init_then_export_and_diff_between_two_simulators() {
    let dev = TestSim::start(Some(&example()), Faults::default());
    let prod = TestSim::start(Some(&example()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (d, p) = (format!("dev={}", dev.url), format!("prod={}", prod.url));
    let out = Tsm::new(w)
        .args(&["init", "--env", &d, "--env", &p, "--username", "admin"])
        .status(0)
        .stdout_has(&["tsmigrate export --cluster dev --out snapshots/dev"])
        .stderr(Expect::Any)
        .run();
    assert!(stderr(&out).contains("wrote"));
    for f in [
        "tsmigrate.toml",
        ".gitignore",
        ".github/workflows/tsmigrate.yml",
        ".tsmigrate/map.schema.json",
        ".tsmigrate/secrets.schema.json",
    ] {
        assert!(w.join(f).is_file(), "{f}");
    }
    schema_ok(w);
    let gitignore = std::fs::read_to_string(w.join(".gitignore")).unwrap();
    assert!(gitignore.contains("secrets.json"));
    let workflow = std::fs::read_to_string(w.join(".github/workflows/tsmigrate.yml")).unwrap();
    assert!(
        workflow.contains("tsmigrate diff --source snapshots/dev --target prod --format markdown --max-bytes 60000")
            && workflow.contains("${{ secrets.TS_PROD_PASSWORD }}")
            && workflow.contains("GITHUB_STEP_SUMMARY"),
        "{workflow}"
    );

    // The newcomer's first commands, with the variables init named.
    let run = |args: &[&str], status: i32| {
        Tsm::new(w)
            .env("TS_DEV_PASSWORD", "admin")
            .env("TS_PROD_PASSWORD", "admin")
            .args(args)
            .status(status)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run()
    };
    run(
        &["export", "--cluster", "dev", "--out", "snapshots/dev", "-q"],
        0,
    );
    let diff = run(
        &[
            "diff",
            "--source",
            "snapshots/dev",
            "--target",
            "prod",
            "--exit-code",
        ],
        0,
    );
    assert!(
        stdout(&diff).contains("No differences"),
        "{}",
        stdout(&diff)
    );

    // Again: nothing replaced, every existing file named.
    let before = std::fs::read(w.join("tsmigrate.toml")).unwrap();
    let again = Tsm::new(w)
        .args(&[
            "init",
            "--env",
            "a=https://a.example.invalid",
            "--env",
            "b=https://b.example.invalid",
        ])
        .status(1)
        .stdout(Expect::Empty)
        .stderr_has(&[
            "never replaces",
            "tsmigrate.toml",
            ".gitignore",
            "nothing was written",
        ])
        .run();
    assert!(!stderr(&again).is_empty());
    assert_eq!(std::fs::read(w.join("tsmigrate.toml")).unwrap(), before);
}

#[test]
fn init_writes_a_gitlab_template_and_refuses_bad_environments() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    Tsm::new(w)
        .args(&["init", "--dir", "repo", "--ci", "gitlab"])
        .status(0)
        .stdout(Expect::Any)
        .stderr_has(&["example.com"])
        .run();
    let ci = std::fs::read_to_string(w.join("repo/.gitlab-ci.yml")).unwrap();
    assert!(ci.contains("--source snapshots/dev --target prod"), "{ci}");
    assert!(!w.join("repo/.github").exists());
    schema_ok(&w.join("repo"));
    for bad in [
        &["--env", "dev"][..],
        &["--env", "dev=ftp://x"],
        &["--env", "d v=https://x.example.invalid"],
        &["--env", "dev=https://x.example.invalid"],
    ] {
        let mut args = vec!["init", "--dir", "other"];
        args.extend_from_slice(bad);
        Tsm::new(w)
            .args(&args)
            .status(1)
            .stdout(Expect::Empty)
            .stderr(Expect::Any)
            .run();
        assert!(!w.join("other").exists(), "{bad:?}: nothing written");
    }
}
