//! Orgs: a session works in the Org it is named for (never the one the
//! user last used), snapshots, plans and journals carry the Org, two Orgs
//! of one cluster share its config; `rollout` to many clusters and Orgs
//! with its canary and failure limits; the fleet view of `diff`. Every
//! check reads the simulators' stored state.

use std::path::Path;

use serde_json::{json, Value};
use tsmigrate::sim::{Behaviour, Faults};

use crate::report::conforms;
use crate::support::*;

pub const MARKETING: i64 = 1;
pub const SALES: i64 = 2;

/// The example cluster with two more Orgs: Marketing (its own action
/// "Mkt launch") and Sales (its own "Sales call"), each with the example's
/// objects so that associations resolve.
pub fn three_orgs() -> Value {
    let mut s = example();
    let objects = s["objects"].clone();
    let mut mkt = s["actions"][1].clone();
    mkt["name"] = json!("Mkt launch");
    mkt["id"] = json!("10000000-0000-4000-8000-000000000001");
    let mut sales = s["actions"][1].clone();
    sales["name"] = json!("Sales call");
    sales["id"] = json!("20000000-0000-4000-8000-000000000001");
    s["orgs"] = json!([
        {"id": MARKETING, "name": "Marketing", "actions": [mkt], "objects": objects},
        {"id": SALES, "name": "Sales", "actions": [sales], "objects": objects},
    ]);
    s
}

/// The example cluster with one config key and one action changed.
fn changed_source() -> Value {
    let mut s = example();
    s["configinfo"]["maxFilterValues"] = json!(4321);
    s["actions"][1]["detail"]["function"] = json!("changed-by-rollout");
    s
}

/// The actions of one Org as stored, by name, without GUIDs.
pub fn actions_of(state: &Value, org: i64) -> Value {
    let list = if org == 0 {
        state["actions"].clone()
    } else {
        state["orgs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == org)
            .unwrap()["actions"]
            .clone()
    };
    let mut by_name = serde_json::Map::new();
    for mut a in list.as_array().unwrap().iter().cloned() {
        a.as_object_mut().unwrap().remove("id");
        by_name.insert(a["name"].as_str().unwrap().to_string(), a);
    }
    Value::Object(by_name)
}

fn names(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// A tsmigrate.toml with a profile per Org of `sim` (and `extra` lines).
fn profiles(dir: &Path, sim: &TestSim, extra: &str) {
    std::fs::write(
        dir.join("tsmigrate.toml"),
        format!(
            r#"
[clusters.primary]
url = "{url}"
username = "admin"
password_env = "SIM_PASSWORD"

[clusters.mkt]
url = "{url}"
username = "admin"
password_env = "SIM_PASSWORD"
org = "Marketing"

[clusters.sales]
url = "{url}"
username = "admin"
password_env = "SIM_PASSWORD"
org = {SALES}
{extra}
"#,
            url = sim.url
        ),
    )
    .unwrap();
}

fn tsm(dir: &Path) -> Tsm {
    Tsm::new(dir).env("SIM_PASSWORD", "admin").logged_in()
}

/// `diff --exit-code` after an apply: nothing left to write (exit 0).
fn converged(dir: &Path, source: &str, target: &str, flags: &[&str]) {
    let mut args = vec![
        "diff",
        "--source",
        source,
        "--target",
        target,
        "--exit-code",
    ];
    args.extend_from_slice(flags);
    tsm(dir)
        .args(&args)
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
}

fn show(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["show"];
    all.extend_from_slice(args);
    let out = tsm(dir).args(&all).status(0).stdout(Expect::Any).run();
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// Puts the user's last-used Org (where a login lands) at `org`, as a
/// person switching Orgs in the UI would.
pub fn last_used(sim: &TestSim, org: i64) {
    let c = http();
    login(&c, sim);
    let r = c
        .put(sim.api("/session/orgs"))
        .header("X-Requested-By", "ThoughtSpot")
        .form(&[("orgid", org.to_string())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[test]
fn each_profile_sees_only_its_orgs_actions() {
    let sim = TestSim::start(Some(&three_orgs()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    profiles(w, &sim, "");
    // The user was last in Sales: a login lands there, and the tool must
    // still read the Org it was asked for.
    last_used(&sim, SALES);
    let actions = |doc: &Value| names(&doc["actions"]);
    assert_eq!(
        actions(&show(w, &["primary"])),
        vec!["Notify owner", "Open in CRM", "Send to Slack"]
    );
    assert_eq!(actions(&show(w, &["mkt"])), vec!["Mkt launch"]);
    assert_eq!(actions(&show(w, &["sales"])), vec!["Sales call"]);
    // A URL without a profile works in the Primary Org, whatever was last used.
    assert_eq!(actions(&show(w, &[&sim.url])).len(), 3);
    // --org overrides the profile's org, by name (any case) or by id.
    assert_eq!(
        actions(&show(w, &["sales", "--org", "marketing"])),
        vec!["Mkt launch"]
    );
    assert_eq!(
        actions(&show(w, &["primary", "--org", "2"])),
        vec!["Sales call"]
    );
    // The config is the cluster's: every Org shows the same.
    assert_eq!(show(w, &["mkt"])["config"], show(w, &["primary"])["config"]);
    // An Org the user cannot see: exit 1, the Orgs listed, nothing read.
    tsm(w)
        .args(&["show", "primary", "--org", "Finance"])
        .status(1)
        .stderr_has(&[
            "there is no Org \"Finance\"",
            "Primary (0), Marketing (1), Sales (2)",
        ])
        .run();
}

#[test]
fn export_records_the_org_and_another_orgs_snapshot_needs_force() {
    let sim = TestSim::start(Some(&three_orgs()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    profiles(w, &sim, "");
    tsm(w)
        .args(&["export", "--cluster", "mkt", "--out", "snap"])
        .status(0)
        .stderr_has(&["(Org Marketing (1))"])
        .run();
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("snap/tsmigrate.json")).unwrap())
            .unwrap();
    assert_eq!(meta["org"], json!({"id": MARKETING, "name": "Marketing"}));
    assert!(w.join("snap/actions").read_dir().unwrap().count() == 1);
    // Another Org of the same cluster is another snapshot.
    tsm(w)
        .args(&["export", "--cluster", "sales", "--out", "snap"])
        .status(1)
        .stderr_has(&["Org Marketing (1)", "Org Sales (2)", "--force"])
        .run();
    // A snapshot read for an Org it is not of: exit 1.
    tsm(w)
        .args(&[
            "diff",
            "--source",
            "snap",
            "--source-org",
            "Sales",
            "--target",
            "sales",
        ])
        .status(1)
        .stderr_has(&[
            "the snapshot is of",
            "Org Marketing (1)",
            "not of Org \"Sales\"",
        ])
        .run();
}

#[test]
fn between_two_orgs_of_one_cluster_actions_move_and_config_stays() {
    let mut state = three_orgs();
    // The config differs from nothing between Orgs; make the source Org's
    // document differ from the target's in actions only.
    state["configinfo"]["maxFilterValues"] = json!(777);
    let sim = TestSim::start(Some(&state), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    profiles(w, &sim, "");
    let out = tsm(w)
        .args(&["diff", "--source", "mkt", "--target", "sales", "--prune"])
        .status(0)
        .stdout(Expect::Any)
        .run();
    let text = stdout(&out);
    assert!(
        text.contains("config: the config is the cluster's, shared by its Orgs"),
        "{text}"
    );
    assert!(!text.contains("maxFilterValues"), "{text}");
    let before = sim.state();
    tsm(w)
        .args(&[
            "apply", "--source", "mkt", "--target", "sales", "--prune", "--yes",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let after = sim.state();
    assert_eq!(actions_of(&after, SALES), actions_of(&before, MARKETING));
    assert_eq!(
        actions_of(&after, MARKETING),
        actions_of(&before, MARKETING)
    );
    assert_eq!(
        actions_of(&after, 0),
        actions_of(&before, 0),
        "Primary untouched"
    );
    assert_eq!(
        after["configinfo"], before["configinfo"],
        "config untouched"
    );
    converged(w, "mkt", "sales", &["--prune"]);
}

/// An apply to an Org given by id reads the target while it checks the
/// Org (a round trip saved): what it read is used only if the login landed
/// in that Org, and read again after the switch if it landed elsewhere.
#[test]
fn an_apply_reads_its_org_wherever_the_login_lands() {
    // The source's Sales action changed; the target's Sales has one more.
    let mut source = three_orgs();
    source["orgs"][1]["actions"][0]["detail"]["function"] = json!("new-sales-call");
    let mut target = three_orgs();
    let mut stale = target["orgs"][1]["actions"][0].clone();
    stale["name"] = json!("Stale call");
    stale["id"] = json!("20000000-0000-4000-8000-000000000002");
    target["orgs"][1]["actions"]
        .as_array_mut()
        .unwrap()
        .push(stale);
    let src = TestSim::start(Some(&source), Faults::default());
    let mut requests = Vec::new();
    for landed in [MARKETING, SALES] {
        let sim = TestSim::start(Some(&target), Faults::default());
        let work = tempfile::tempdir().unwrap();
        let w = work.path();
        let extra = format!(
            "[clusters.src]\nurl = \"{}\"\nusername = \"admin\"\npassword_env = \"SIM_PASSWORD\"\norg = {SALES}\n",
            src.url
        );
        profiles(w, &sim, &extra);
        last_used(&sim, landed);
        let before = sim.state();
        let seen = sim.requests_seen();
        tsm(w)
            .args(&[
                "apply", "--source", "src", "--target", "sales", "--prune", "--yes",
            ])
            .status(0)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        requests.push(sim.requests_seen() - seen);
        let after = sim.state();
        assert_eq!(
            actions_of(&after, SALES),
            actions_of(&src.state(), SALES),
            "landed in Org {landed}"
        );
        for untouched in [0, MARKETING] {
            assert_eq!(
                actions_of(&after, untouched),
                actions_of(&before, untouched),
                "landed in Org {landed}"
            );
        }
        converged(w, "src", "sales", &["--prune"]);
    }
    // Landed elsewhere: at least the switch and its check more (the reads
    // ahead stop at the switch, and are made again after it).
    assert!(requests[0] >= requests[1] + 2, "{requests:?}");
}

#[test]
fn a_plan_for_one_org_is_refused_in_another() {
    let sim = TestSim::start(Some(&three_orgs()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    profiles(w, &sim, "");
    // Sales' action, planned into Marketing.
    tsm(w)
        .args(&[
            "plan",
            "--source",
            "sales",
            "--target",
            "mkt",
            "--out",
            "mkt.plan.json",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("mkt.plan.json")).unwrap()).unwrap();
    assert_eq!(plan["target_org"], MARKETING);
    assert_eq!(plan["target_org_name"], "Marketing");
    let before = sim.state();
    let writes = sim.writes();
    for target in [vec!["sales"], vec!["mkt", "--target-org", "0"]] {
        let mut args = vec!["apply", "--target"];
        args.extend(target);
        args.extend(["--plan", "mkt.plan.json", "--yes"]);
        tsm(w)
            .args(&args)
            .status(1)
            .stderr_has(&[
                "the plan was made for",
                "Org Marketing (1)",
                "nothing was written",
            ])
            .run();
    }
    assert_eq!(sim.state(), before);
    assert_eq!(sim.writes(), writes, "not one write");
    // Where it was made for, it applies.
    tsm(w)
        .args(&[
            "apply",
            "--target",
            "mkt",
            "--plan",
            "mkt.plan.json",
            "--yes",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let got = actions_of(&sim.state(), MARKETING);
    assert_eq!(names(&got), vec!["Mkt launch", "Sales call"]);
    assert_eq!(got["Sales call"], actions_of(&before, SALES)["Sales call"]);
}

#[test]
fn a_cluster_without_orgs() {
    let sim = TestSim::start_with(
        Some(&example()),
        Faults::default(),
        Behaviour {
            no_orgs: true,
            ..Behaviour::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let doc = show(w, &[&sim.url]);
    assert_eq!(names(&doc["actions"]).len(), 3);
    tsm(w)
        .args(&["export", "--cluster", &sim.url, "--out", "snap"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("snap/tsmigrate.json")).unwrap())
            .unwrap();
    assert!(meta.get("org").is_none(), "no Org to record: {meta}");
    tsm(w)
        .args(&["show", &sim.url, "--org", "Sales"])
        .status(1)
        .stderr_has(&["Org \"Sales\" was asked for, but the cluster has no Orgs"])
        .run();
}

// ---- rollout ----

fn rollout(dir: &Path, args: &[&str], status: i32) -> (Value, String) {
    let mut all = vec!["rollout", "--yes", "--format", "json"];
    all.extend_from_slice(args);
    let out = tsm(dir)
        .args(&all)
        .status(status)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let rows: Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    conforms("rollout", &rows);
    (rows, stderr(&out))
}

fn results(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rollout_to_two_clusters_converges() {
    let source = TestSim::start(Some(&changed_source()), Faults::default());
    let a = TestSim::start(Some(&example()), Faults::default());
    let b = TestSim::start(Some(&example()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (rows, _) = rollout(
        w,
        &[
            "--source",
            &source.url,
            "--target",
            &a.url,
            "--target",
            &b.url,
        ],
        0,
    );
    assert_eq!(results(&rows), vec!["applied", "applied"]);
    let want = source.state();
    for t in [&a, &b] {
        let got = t.state();
        assert_eq!(actions_of(&got, 0), actions_of(&want, 0));
        assert_eq!(got["configinfo"], want["configinfo"]);
        assert_converged(w, &source.url, &t.url, &[]);
    }
    // Again: nothing to do anywhere.
    let (rows, _) = rollout(
        w,
        &[
            "--source",
            &source.url,
            "--target",
            &a.url,
            "--target",
            &b.url,
        ],
        0,
    );
    assert_eq!(results(&rows), vec!["unchanged", "unchanged"]);
}

#[test]
fn rollout_to_all_orgs_converges_and_writes_the_config_once() {
    let source = TestSim::start(Some(&changed_source()), Faults::default());
    let target = TestSim::start(Some(&three_orgs()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // A dry run first: each Org's summary, nothing written.
    let before = target.state();
    let (rows, _) = rollout(
        w,
        &[
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--all-orgs",
            "--prune",
            "--dry-run",
        ],
        0,
    );
    assert_eq!(results(&rows), vec!["dry-run"; 3]);
    // Each target's changes, request by request, secrets masked.
    for r in rows.as_array().unwrap() {
        let requests = r["requests"].as_array().unwrap();
        assert_eq!(
            requests.len() as u64,
            r["writes"].as_u64().unwrap(),
            "{r:#}"
        );
    }
    assert_no_secrets("rollout --dry-run", &rows.to_string());
    assert_eq!(rows[0]["counts"]["config_keys"], 1, "{rows:#}");
    assert_eq!(
        rows[1]["counts"]["config_keys"], 0,
        "the config is written with the first Org only"
    );
    assert_eq!(target.state(), before);
    assert_eq!(target.writes(), 0);

    let logins = target.logins();
    let (rows, err) = rollout(
        w,
        &[
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--all-orgs",
            "--prune",
        ],
        0,
    );
    assert_eq!(results(&rows), vec!["applied"; 3], "{err}");
    // Sessions are reused from Org to Org, and all are closed at the end.
    // Canary alone, then two Orgs at once: two sessions at most.
    let logins = target.logins() - logins;
    assert!(logins <= 2, "logins: {logins}");
    assert_eq!(target.open_sessions(), 0);
    let orgs: Vec<Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["org"]["id"].clone())
        .collect();
    assert_eq!(orgs, vec![json!(0), json!(MARKETING), json!(SALES)]);
    // Rows name Orgs one way: name and id.
    for r in rows.as_array().unwrap() {
        let want = format!(
            " (Org {} ({}))",
            r["org"]["name"].as_str().unwrap(),
            r["org"]["id"]
        );
        assert!(r["target"].as_str().unwrap().ends_with(&want), "{r:#}");
    }
    let want = actions_of(&source.state(), 0);
    let got = target.state();
    for org in [0, MARKETING, SALES] {
        assert_eq!(actions_of(&got, org), want, "Org {org}");
    }
    assert_eq!(got["configinfo"], source.state()["configinfo"]);
    for org in ["0", "1", "2"] {
        assert_converged(
            w,
            &source.url,
            &target.url,
            &["--prune", "--target-org", org],
        );
    }
}

#[test]
fn a_failing_target_stops_the_rollout_after_max_failures() {
    let source = TestSim::start(Some(&changed_source()), Faults::default());
    let name = source.state()["actions"][1]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let good = TestSim::start(Some(&example()), Faults::default());
    let bad = TestSim::start(
        Some(&example()),
        Faults {
            reject_actions: vec![name],
            ..Faults::default()
        },
    );
    let later = TestSim::start(Some(&example()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let bad_before = bad.state();
    let later_before = later.state();
    let (rows, _) = rollout(
        w,
        &[
            "--source",
            &source.url,
            "--target",
            &good.url,
            "--target",
            &bad.url,
            "--target",
            &later.url,
            "--max-failures",
            "1",
            "--parallel-targets",
            "1",
        ],
        4,
    );
    assert_eq!(results(&rows), vec!["applied", "restored", "skipped"]);
    assert!(
        rows[1]["error"].as_str().unwrap().contains("400"),
        "{rows:#}"
    );
    assert_eq!(bad.state(), bad_before, "the failed target is as before");
    // The failed row counts what its apply and its undo sent, as the
    // cluster saw it.
    let ev = &rows[1]["events"];
    assert_eq!(ev["refused"], 1, "{rows:#}");
    assert_eq!(rows[1]["writes"], ev["sent"]);
    let (sent, undo) = (
        ev["sent"].as_u64().unwrap(),
        ev["undo_sent"].as_u64().unwrap(),
    );
    assert_eq!(bad.writes(), sent + undo, "{rows:#}");
    assert_eq!(
        ev["undone"].as_u64().unwrap() > 0,
        ev["answered"].as_u64().unwrap() > 0
    );
    assert_eq!(rows[2]["events"], Value::Null, "skipped: nothing sent");
    assert_eq!(rows[0]["events"]["sent"], rows[0]["writes"]);
    assert_eq!(rows[0]["events"]["undo_sent"], 0);
    assert_eq!(later.writes(), 0, "the skipped target was not touched");
    assert_eq!(later.state(), later_before);
    assert_eq!(actions_of(&good.state(), 0), actions_of(&source.state(), 0));
}

/// Without a canary all Orgs run at once: the first writes the cluster's
/// config while the others write their actions. Each checks (and would
/// undo) only what it wrote, so the config written by another Org is no
/// failure of theirs.
#[test]
fn orgs_applied_at_once_do_not_check_the_config_another_org_wrote() {
    let source = TestSim::start(Some(&changed_source()), Faults::default());
    let target = TestSim::start(
        Some(&three_orgs()),
        Faults {
            latency_ms: 10,
            ..Faults::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let (rows, err) = rollout(
        work.path(),
        &[
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--all-orgs",
            "--canary",
            "0",
            "--parallel-targets",
            "3",
            "--prune",
        ],
        0,
    );
    assert_eq!(results(&rows), vec!["applied"; 3], "{err}");
    let got = target.state();
    assert_eq!(got["configinfo"], source.state()["configinfo"]);
    let want = actions_of(&source.state(), 0);
    for org in [0, MARKETING, SALES] {
        assert_eq!(actions_of(&got, org), want, "Org {org}");
    }
}

/// One target's failure is its own: the next targets still run until
/// `--max-failures` is reached, and the skipped rows say why (not "a
/// signal", which each failing apply used to raise for every target).
#[test]
fn max_failures_counts_failures_and_a_failure_stops_no_other_target() {
    let source = TestSim::start(Some(&changed_source()), Faults::default());
    let name = source.state()["actions"][1]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let bad = || {
        TestSim::start(
            Some(&example()),
            Faults {
                reject_actions: vec![name.clone()],
                ..Faults::default()
            },
        )
    };
    let targets = [
        bad(),
        TestSim::start(Some(&example()), Faults::default()),
        bad(),
        TestSim::start(Some(&example()), Faults::default()),
    ];
    let work = tempfile::tempdir().unwrap();
    let mut args = vec!["--source", source.url.as_str()];
    for t in &targets {
        args.extend(["--target", t.url.as_str()]);
    }
    args.extend([
        "--canary",
        "0",
        "--max-failures",
        "2",
        "--parallel-targets",
        "1",
    ]);
    let (rows, err) = rollout(work.path(), &args, 4);
    assert_eq!(
        results(&rows),
        vec!["restored", "applied", "restored", "skipped"],
        "{err}"
    );
    assert_eq!(
        rows[3]["error"], "--max-failures 2 reached: 2 targets failed",
        "{rows:#}"
    );
    assert!(!err.contains("signal"), "{err}");
    assert_eq!(
        actions_of(&targets[1].state(), 0),
        actions_of(&source.state(), 0)
    );
    assert_eq!(targets[3].writes(), 0);
}

#[test]
fn a_failing_canary_stops_before_any_other_target() {
    let source = TestSim::start(Some(&changed_source()), Faults::default());
    let name = source.state()["actions"][1]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let canary = TestSim::start(
        Some(&example()),
        Faults {
            reject_actions: vec![name],
            ..Faults::default()
        },
    );
    let rest: Vec<TestSim> = (0..3)
        .map(|_| TestSim::start(Some(&example()), Faults::default()))
        .collect();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut args = vec![
        "--source",
        source.url.as_str(),
        "--target",
        canary.url.as_str(),
    ];
    for t in &rest {
        args.extend(["--target", t.url.as_str()]);
    }
    args.extend(["--max-failures", "3"]);
    let (rows, _) = rollout(w, &args, 4);
    assert_eq!(
        results(&rows),
        vec!["restored", "skipped", "skipped", "skipped"]
    );
    for t in &rest {
        assert_eq!(t.writes(), 0, "nothing after a failed canary is touched");
        assert_eq!(t.requests_seen(), 0, "not even read");
    }
    // The table says the same, for people.
    tsm(w)
        .args(&[
            "rollout",
            "--yes",
            "--source",
            &source.url,
            "--target",
            &canary.url,
            "--target",
            &rest[0].url,
        ])
        .status(4)
        .stdout_has(&[
            "TARGET",
            "RESULT",
            "restored",
            "skipped",
            "Rollout: 0 applied, 0 unchanged, 1 restored, 0 NOT RESTORED, 1 skipped.",
        ])
        .stderr(Expect::Any)
        .run();
}

#[test]
fn rollout_needs_yes_without_a_terminal_and_checks_refs_first() {
    let source = TestSim::start(Some(&changed_source()), Faults::default());
    let target = TestSim::start(Some(&example()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    tsm(w)
        .args(&["rollout", "--source", &source.url, "--target", &target.url])
        .status(1)
        .stderr_has(&["pass --yes"])
        .run();
    tsm(w)
        .args(&[
            "rollout",
            "--yes",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--target",
            "no-such-profile",
        ])
        .status(1)
        .stderr_has(&["\"no-such-profile\" is not"])
        .run();
    assert_eq!(target.writes(), 0);
    assert_eq!(
        target.requests_seen(),
        0,
        "a bad REF fails before any request"
    );
}

// ---- the fleet view ----

#[test]
fn diff_against_many_targets_summarizes_each() {
    let source = TestSim::start(Some(&changed_source()), Faults::default());
    let same = TestSim::start(Some(&changed_source()), Faults::default());
    let drifted = TestSim::start(Some(&example()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let diff = |format: &str, status: i32| {
        let out = tsm(w)
            .args(&[
                "diff",
                "--source",
                &source.url,
                "--target",
                &same.url,
                "--target",
                &drifted.url,
                "--format",
                format,
                "--exit-code",
            ])
            .status(status)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        stdout(&out)
    };
    let summary = diff("summary", 2);
    assert!(
        summary.starts_with(&format!(
            "tsmigrate: 1 of 2 targets drift from {}",
            source.url
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("{}: no differences", same.url)),
        "{summary}"
    );
    assert!(
        summary.contains("1 config key to change; actions: 0 to create, 1 to update, 0 to delete"),
        "{summary}"
    );
    assert!(
        summary.contains("config maxFilterValues: 10000 → 4321"),
        "{summary}"
    );
    let doc: Value = serde_json::from_str(&diff("json", 2)).unwrap();
    conforms("fleet", &doc);
    for t in doc["targets"].as_array().unwrap() {
        conforms("diff", &t["diff"]);
    }
    assert_eq!(doc["drifting"], 1);
    assert_eq!(doc["targets"][0]["drift"], false);
    assert_eq!(doc["targets"][1]["drift"], true);
    assert_eq!(doc["targets"][1]["diff"]["format"], "tsmigrate-diff");
    let md = diff("markdown", 2);
    assert!(md.contains("| target | drift |"), "{md}");
    assert!(md.contains("| **yes** | 1 | 0 | 1 | 0 |"), "{md}");
    // A patch is for one target.
    tsm(w)
        .args(&[
            "diff",
            "--source",
            &source.url,
            "--target",
            &same.url,
            "--target",
            &drifted.url,
            "--format",
            "patch",
        ])
        .status(1)
        .stderr_has(&["a patch or a page is for one target"])
        .run();
}

#[test]
fn a_signal_stops_new_targets_and_undoes_the_one_in_flight() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let (src, tgt) = bulk(40);
    let source = TestSim::start(Some(&src), Faults::default());
    let targets: Vec<TestSim> = (0..3)
        .map(|_| {
            TestSim::start(
                Some(&tgt),
                Faults {
                    latency_ms: 30,
                    ..Faults::default()
                },
            )
        })
        .collect();
    let before: Vec<Value> = targets.iter().map(state_doc).collect();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut args = vec![
        "rollout",
        "--yes",
        "--source",
        source.url.as_str(),
        "--canary",
        "0",
        "--parallel-targets",
        "1",
        "--parallel",
        "2",
    ];
    for t in &targets {
        args.extend(["--target", t.url.as_str()]);
    }
    let child = Command::new(BIN)
        .args(&args)
        .current_dir(w)
        .env_clear()
        .env("XDG_STATE_HOME", w.join(".state"))
        .env("TS_USERNAME", "admin")
        .env("TS_PASSWORD", "admin")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first target's journal has a few writes in it.
    let journals = w.join(".state/tsmigrate/journals");
    let started = Instant::now();
    loop {
        let ops: usize = std::fs::read_dir(&journals)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        std::fs::read_to_string(e.path())
                            .map(|t| t.matches("\"op\"").count())
                            .unwrap_or(0)
                    })
                    .sum()
            })
            .unwrap_or(0);
        if ops >= 4 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "rollout never got going"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let (so, se) = (stdout(&out), stderr(&out));
    assert_eq!(code(&out), 4, "{so}{se}");
    assert!(se.contains("interrupted: no new target starts"), "{se}");
    let rows: Vec<&str> = so.lines().skip(1).take(3).collect();
    assert!(rows[0].contains("restored"), "{so}");
    assert!(
        rows[1].contains("skipped") && rows[2].contains("skipped"),
        "{so}"
    );
    for (t, b) in targets.iter().zip(&before) {
        assert_eq!(&state_doc(t), b, "every target is as before");
    }
    assert_eq!(targets[1].writes() + targets[2].writes(), 0);
}
