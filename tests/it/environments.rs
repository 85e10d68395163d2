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
    assert_converged(
        w,
        &source.url,
        &target.url,
        &["--ignore", "/actions/*/detail/link"],
    );
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

/// A config directory `conf/` with profiles dev and prod (and a map file
/// for them, relative to it), in `w`.
fn profiles(w: &std::path::Path, dev: &TestSim, prod: &TestSim, map: &Value, extra: &str) {
    std::fs::create_dir_all(w.join("conf/maps")).unwrap();
    std::fs::write(w.join("conf/maps/dev-prod.json"), map.to_string()).unwrap();
    std::fs::write(
        w.join("conf/tsmigrate.toml"),
        format!(
            r#"
[clusters.dev]
url = "{}"
username = "admin"
password_env = "DEV_PW"

[clusters.prod]
url = "{}"
username = "admin"
password_env = "PROD_PW"

[[maps]]
source = "dev"
target = "prod"
file = "maps/dev-prod.json"
{extra}"#,
            dev.url, prod.url
        ),
    )
    .unwrap();
}

fn tsm(w: &std::path::Path) -> Tsm {
    Tsm::new(w)
        .env("TSMIGRATE_CONFIG", w.join("conf/tsmigrate.toml"))
        .env("DEV_PW", "admin")
        .env("PROD_PW", "admin")
}

#[test]
fn maps_belong_to_a_pair_of_environments() {
    let dev = TestSim::start(Some(&demo_source()), Faults::default());
    let prod = TestSim::start(Some(&prod_state()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    profiles(w, &dev, &prod, &full_map(), "");
    // dev → prod: the map as written.
    tsm(w)
        .args(&[
            "apply", "--source", "dev", "--target", "prod", "--yes", "--prune",
        ])
        .status(0)
        .stdout_has(&["verified."])
        .stderr(Expect::Any)
        .run();
    let crm = prod.state()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Open in CRM")
        .unwrap()
        .clone();
    assert!(crm["actionAssociationMap"]["ANSWER"]
        .get("aaaaaaaa-0000-4000-8000-000000000001")
        .is_some());
    assert_eq!(
        crm["detail"]["link"],
        json!("https://crm.prod.example.test/v2/open")
    );
    let converged = |args: &[&str]| {
        tsm(w)
            .args(args)
            .status(0)
            .stdout(Expect::Exact("No differences.\n".into()))
            // Snapshots hold placeholders: said, not hidden.
            .stderr(Expect::Any)
            .run();
    };
    converged(&[
        "diff",
        "--source",
        "dev",
        "--target",
        "prod",
        "--exit-code",
        "--prune",
    ]);
    // prod → dev: the same map, inverted.
    converged(&[
        "diff",
        "--source",
        "prod",
        "--target",
        "dev",
        "--exit-code",
        "--prune",
    ]);
    // A snapshot counts as the profile whose URL it came from: never
    // mapped against itself, mapped against the other side.
    tsm(w)
        .args(&["export", "--cluster", "dev", "--out", "snaps/dev"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    converged(&[
        "diff",
        "--source",
        "snaps/dev",
        "--target",
        "dev",
        "--exit-code",
        "--prune",
    ]);
    converged(&[
        "diff",
        "--source",
        "snaps/dev",
        "--target",
        "prod",
        "--exit-code",
        "--prune",
    ]);
    // --no-map: none, so the GUIDs differ.
    tsm(w)
        .args(&[
            "diff",
            "--source",
            "dev",
            "--target",
            "prod",
            "--exit-code",
            "--no-map",
        ])
        .status(2)
        .stdout_has(&["aaaaaaaa-0000-4000-8000-000000000001"])
        .run();
    // A map that cannot be inverted says why, naming the entries.
    let mut clash = full_map();
    clash["guids"]["0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62"] =
        json!("aaaaaaaa-0000-4000-8000-000000000001");
    profiles(w, &dev, &prod, &clash, "");
    tsm(w)
        .args(&["diff", "--source", "prod", "--target", "dev"])
        .status(1)
        .stderr_has(&[
            "dev-prod.json: used from prod to dev, the map must be inverted",
            "both become \"aaaaaaaa-0000-4000-8000-000000000001\"",
        ])
        .run();
    // The first release's [migrate] map is an error that says what to write.
    profiles(
        w,
        &dev,
        &prod,
        &full_map(),
        "[migrate]\nmap = \"maps/dev-prod.json\"\n",
    );
    tsm(w)
        .args(&["diff", "--source", "dev", "--target", "prod"])
        .status(1)
        .stderr_has(&["migrate.map: a map now belongs to a pair of environments; write a [[maps]] entry instead"])
        .run();
}

#[test]
fn exit_code_2_means_exactly_that_apply_would_write() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let mut t = example();
    t["configinfo"]["onlyOnTheTarget"] = json!(true);
    let target = TestSim::start(Some(&t), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &source.url, "--out", "snap"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    Tsm::new(w)
        .logged_in()
        .env("TSMIGRATE_SECRET_ACTIONS_OPEN_IN_CRM_DETAIL_AUTHTOKEN", "t0k3n-from-env")
        .args(&["apply", "--source", "snap", "--target", &target.url, "--yes"])
        .status(0)
        .stdout_has(&["verified."])
        .stderr_has(&[
            "note: /config/onlyOnTheTarget: only the target has this config key; the API cannot remove it, so it stays",
            "note: \"Notify owner\": only on the target; kept (--prune deletes it)",
        ])
        .run();
    // After the apply, nothing is left that apply would write…
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "diff",
            "--source",
            "snap",
            "--target",
            &target.url,
            "--exit-code",
        ])
        .status(0)
        .stdout_has(&[
            "notes (apply leaves these as they are)",
            "/config/onlyOnTheTarget",
            "No differences.",
        ])
        .stderr_has(&["4 secrets were not compared"])
        .run();
    assert!(!stdout(&out).contains("~ "), "{}", stdout(&out));
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "diff",
            "--source",
            "snap",
            "--target",
            &target.url,
            "--format",
            "json",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr_has(&["4 secrets were not compared"])
        .run();
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        report["notes"]["unremovable"],
        json!(["/config/onlyOnTheTarget"])
    );
    assert_eq!(
        report["notes"]["kept_without_prune"],
        json!(["Notify owner"])
    );
    assert_eq!(report["changes"], json!([]));
    // …and with --prune, the action only on the target counts.
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "diff",
            "--source",
            "snap",
            "--target",
            &target.url,
            "--exit-code",
            "--prune",
            "--format",
            "json",
        ])
        .status(2)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        report["changes"][0]["pointer"],
        json!("/actions/Notify owner")
    );
    assert_eq!(report["changes"][0]["prune"], json!(true));
}

#[test]
fn only_selects_with_wildcards_and_rules_matching_nothing_are_reported() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "diff",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--only",
            "/actions/Open*",
            "--only",
            "/config/saml*/enabled",
        ])
        .status(0)
        .stdout_has(&[
            "\"Open in CRM\" (update)",
            "\"Open in Jira\" (create)",
            "~ enabled: false → true",
        ])
        .run();
    let text = stdout(&out);
    assert!(
        !text.contains("maxFilterValues")
            && !text.contains("groupMapping")
            && !text.contains("Notify owner"),
        "{text}"
    );
    // Apply of a part of actions: only the links change; the rest stays.
    let before = target.state();
    Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--yes",
            "--prune",
            "--only",
            "/actions/*/detail/link",
        ])
        .status(0)
        .stdout_has(&[
            "0 config keys, 0 actions created, 1 updated, 0 deleted",
            "verified.",
        ])
        .stderr_has(&[
            "\"Open in Jira\": only on one side and only part of it is selected",
            "\"Notify owner\": only on one side",
        ])
        .run();
    let after = target.state();
    assert_eq!(after["configinfo"], before["configinfo"]);
    let crm = |s: &Value| {
        s["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "Open in CRM")
            .unwrap()
            .clone()
    };
    assert_eq!(
        crm(&after)["detail"]["link"],
        json!("https://crm.example.test/v2/open")
    );
    let mut unchanged = crm(&after);
    unchanged["detail"]["link"] = crm(&before)["detail"]["link"].clone();
    assert_eq!(unchanged, crm(&before), "nothing but the link changed");
    // A typo is said, not silently nothing.
    std::fs::write(
        w.join("secrets.json"),
        json!({"/actions/Nope/detail/authToken": "x"}).to_string(),
    )
    .unwrap();
    Tsm::new(w)
        .logged_in()
        .args(&["diff", "--source", &source.url, "--target", &target.url, "--only", "/actions/Sned*", "--ignore", "/config/nope", "--secrets", "secrets.json"])
        .status(0)
        .stdout(Expect::Exact("No differences.\n".into()))
        .stderr_has(&[
            "the only rule /actions/Sned* matches nothing on either side",
            "the ignore rule /config/nope matches nothing on either side",
            "secrets.json: /actions/Nope/detail/authToken matches no secret placeholder of the source",
        ])
        .run();
}

#[test]
fn secret_warnings_come_once_and_only_where_they_matter() {
    let sim = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &sim.url, "--out", "snap"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    // No differences, and one line says the secrets were not compared:
    // every one of them is a placeholder.
    let out = Tsm::new(w)
        .logged_in()
        .args(&["diff", "--source", "snap", "--target", &sim.url])
        .status(0)
        .stdout(Expect::Exact("No differences.\n".into()))
        .stderr_has(&["secrets were not compared", "-v lists them"])
        .run();
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    // A changed action with a secret: one line; -v lists them.
    let c = http();
    login(&c, &sim);
    let crm = sim.state()["actions"][0].clone();
    let mut edited = crm.clone();
    edited["detail"]["link"] = json!("https://elsewhere.example.test/");
    let r = c
        .put(sim.api(&format!(
            "/admin/embed/actions/{}",
            crm["id"].as_str().unwrap()
        )))
        .header("X-Requested-By", "ThoughtSpot")
        .form(&[("embedaction", edited.to_string())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let out = Tsm::new(w)
        .logged_in()
        .args(&["diff", "--source", "snap", "--target", &sim.url])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.contains("of changed actions have no value here")
            && err.contains("secrets were not compared")
            && err.contains("-v lists them"),
        "{err}"
    );
    let out = Tsm::new(w)
        .logged_in()
        .args(&["diff", "--source", "snap", "--target", &sim.url, "-v"])
        .status(0)
        .stdout(Expect::Any)
        .stderr_has(&["/actions/Open in CRM/detail/authToken: no value ($TSMIGRATE_SECRET_ACTIONS_OPEN_IN_CRM_DETAIL_AUTHTOKEN)"])
        .run();
    assert_no_secrets("warnings", &stderr(&out));
}

#[test]
fn credentials_urls_and_exports_say_what_is_wrong() {
    let sim = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // No credentials at all: exit 6 before any request, naming the variables.
    let requests = sim.running().requests_seen();
    Tsm::new(w)
        .args(&["show", &sim.url])
        .status(6)
        .stderr_has(&[
            "no credentials to log in with: set TS_TOKEN, or TS_USERNAME and TS_PASSWORD",
        ])
        .run();
    assert_eq!(sim.running().requests_seen(), requests, "nothing was sent");
    // A cluster behind a reverse proxy at a path: the path is kept.
    let proxy = crate::proxy::FaultProxy::start_under(&sim.url, "/thoughtspot", vec![]);
    Tsm::new(w)
        .logged_in()
        .args(&["show", &format!("{}/thoughtspot", proxy.url)])
        .status(0)
        .stdout_has(&["\"Open in CRM\""])
        .run();
    // Exporting another cluster over a snapshot is refused without --force.
    let other = TestSim::start(Some(&demo_source()), Faults::default());
    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &sim.url, "--out", "snap"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &other.url, "--out", "snap"])
        .status(1)
        .stderr_has(&[&format!(
            "it is the snapshot of {}, not of {}; pass --force",
            sim.url, other.url
        )])
        .run();
    Tsm::new(w)
        .logged_in()
        .args(&[
            "export",
            "--cluster",
            &other.url,
            "--out",
            "snap",
            "--force",
        ])
        .status(0)
        .stderr(Expect::Any)
        .run();
}
