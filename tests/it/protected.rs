//! Protected settings: the identity providers, the directory, the mail
//! server and session length (and `[migrate] protected`) are flagged by
//! diff and refused by apply, plan or not, and by rollout, unless
//! `--allow-protected` or an `--only` that names them. Every check reads
//! the stored state. (The harness allows protected settings for the other
//! tests; here it is unset.)

use std::path::Path;

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::support::*;

const ALLOW: &str = "TSMIGRATE_ALLOW_PROTECTED";

fn tsm(dir: &Path) -> Tsm {
    Tsm::new(dir).logged_in().unset(ALLOW)
}

/// `apply --yes --source S --target T EXTRA…` as `cmd` runs it.
fn apply(cmd: Tsm, source: &str, target: &str, extra: &[&str]) -> Tsm {
    let mut args = vec!["apply", "--yes", "--source", source, "--target", target];
    args.extend_from_slice(extra);
    cmd.args(&args)
}

/// The demo source's config, which changes SAML, LDAP and mail settings
/// and one unprotected key (maxFilterValues) of the example cluster.
fn pair() -> (TestSim, TestSim) {
    (
        TestSim::start(Some(&demo_source()), Faults::default()),
        TestSim::start(Some(&example()), Faults::default()),
    )
}

#[test]
fn apply_refuses_protected_changes_and_writes_nothing() {
    let (source, target) = pair();
    let work = tempfile::tempdir().unwrap();
    let before = target.state();
    let out = apply(tsm(work.path()), &source.url, &target.url, &[])
        .status(1)
        .stderr_has(&[
            "protected settings",
            "nothing was written",
            "/config/samlConfiguration/enabled",
            "/config/ldapConfiguration/bindPassword",
            "--allow-protected",
        ])
        .run();
    assert_no_secrets("the refusal", &stderr(&out));
    assert_eq!(target.writes(), 0);
    assert_eq!(target.state(), before);

    // diff flags them, in text and JSON.
    tsm(work.path())
        .args(&["diff", "--source", &source.url, "--target", &target.url])
        .status(0)
        .stdout_has(&["PROTECTED settings", "/config/samlConfiguration/enabled"])
        .stderr(Expect::Any)
        .run();
    let out = tsm(work.path())
        .args(&[
            "diff",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--format",
            "json",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    crate::report::conforms("diff", &report);
    let flagged = report["notes"]["protected_changes"].as_array().unwrap();
    assert!(flagged.contains(&json!("/config/samlConfiguration/enabled")));
    assert!(!flagged.contains(&json!("/config/maxFilterValues")));

    // A plan of them is refused the same way at apply.
    tsm(work.path())
        .args(&[
            "plan",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--out",
            "p.json",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    tsm(work.path())
        .args(&[
            "apply",
            "--yes",
            "--plan",
            "p.json",
            "--target",
            &target.url,
        ])
        .status(1)
        .stderr_has(&["protected settings", "nothing was written"])
        .run();
    assert_eq!(target.writes(), 0);

    // Allowed: everything lands.
    tsm(work.path())
        .args(&[
            "apply",
            "--yes",
            "--plan",
            "p.json",
            "--target",
            &target.url,
            "--allow-protected",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    // (A plan carries no secret: the bind password stays the target's.)
    let (got, want) = (target.state(), source.state());
    for key in ["samlConfiguration", "emailConfig", "maxFilterValues"] {
        assert_eq!(got["configinfo"][key], want["configinfo"][key], "{key}");
    }
}

#[test]
fn an_only_that_names_a_protected_setting_writes_it_and_nothing_else_protected() {
    let (source, target) = pair();
    let work = tempfile::tempdir().unwrap();
    let before = target.state();
    apply(
        tsm(work.path()),
        &source.url,
        &target.url,
        &["--only", "/config/samlConfiguration"],
    )
    .status(0)
    .stdout(Expect::Any)
    .stderr(Expect::Any)
    .run();
    let (got, want) = (target.state(), source.state());
    assert_eq!(
        got["configinfo"]["samlConfiguration"],
        want["configinfo"]["samlConfiguration"]
    );
    assert_eq!(
        got["configinfo"]["ldapConfiguration"],
        before["configinfo"]["ldapConfiguration"]
    );
    // --only /config is not a name for them: still refused.
    let target = TestSim::start(Some(&example()), Faults::default());
    apply(
        tsm(work.path()),
        &source.url,
        &target.url,
        &["--only", "/config"],
    )
    .status(1)
    .stderr_has(&[
        "protected settings",
        "/config/ldapConfiguration/bindPassword",
    ])
    .run();
    assert_eq!(target.writes(), 0);
}

#[test]
fn migrate_protected_in_the_profiles_file_adds_paths_and_rollout_obeys() {
    let (source, target) = pair();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(
        w.join("tsmigrate.toml"),
        "[migrate]\nprotected = [\"/config/maxFilterValues\"]\n",
    )
    .unwrap();
    let before = target.state();
    // Without the demo's identity settings, only maxFilterValues differs.
    let out = tsm(w)
        .env("TSMIGRATE_CONFIG", w.join("tsmigrate.toml"))
        .args(&[
            "rollout",
            "--yes",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--ignore",
            "/config/samlConfiguration",
            "--ignore",
            "/config/ldapConfiguration",
            "--ignore",
            "/config/emailConfig",
            "--format",
            "json",
        ])
        .status(4)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let rows: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let error = rows[0]["error"].as_str().unwrap();
    assert!(error.contains("/config/maxFilterValues"), "{error}");
    assert_eq!(target.writes(), 0);
    assert_eq!(target.state(), before);
    // A bad pointer there is a clear error naming the file and key.
    std::fs::write(
        w.join("tsmigrate.toml"),
        "[migrate]\nprotected = [\"maxFilterValues\"]\n",
    )
    .unwrap();
    tsm(w)
        .env("TSMIGRATE_CONFIG", w.join("tsmigrate.toml"))
        .args(&["diff", "--source", &source.url, "--target", &target.url])
        .status(1)
        .stderr_has(&["migrate.protected:", "is not a JSON Pointer"])
        .run();
}
