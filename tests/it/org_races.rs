//! Every write lands in the Org it was meant for: while sessions expire,
//! a fresh login lands in the Org the user last switched to, the tool's
//! own parallel targets work in several Orgs of one user, and another
//! session of the same user switches Orgs now and then — whether the
//! server keeps the current Org per session or per user, and whether a
//! switch gives a new session. Every check reads the stored state.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tsmigrate::sim::{Behaviour, Faults};

use crate::orgs::{actions_of, three_orgs, MARKETING, SALES};
use crate::support::*;

/// The example cluster with `n` more actions, named in several scripts.
fn with_new_actions(n: usize) -> Value {
    let mut s = example();
    let template = s["actions"][1].clone();
    let list = s["actions"].as_array_mut().expect("example actions");
    for i in 0..n {
        let mut a = template.clone();
        a["id"] = json!(format!("30000000-0000-4000-8000-{i:012}"));
        a["name"] = json!(format!("Rüstung 日本 {i:03}"));
        a["detail"]["function"] = json!(format!("race-{i}"));
        list.push(a);
    }
    s
}

/// A cluster where sessions expire after 2 s and every request takes
/// 20 ms, with the given behaviour where the docs are open.
fn slow_target(behaviour: Behaviour) -> TestSim {
    let faults = Faults {
        latency_ms: 20,
        session_ttl: Some(Duration::from_secs(2)),
        ..Faults::default()
    };
    TestSim::start_with(Some(&three_orgs()), faults, behaviour)
}

fn behaviours() -> Vec<(&'static str, Behaviour)> {
    vec![
        ("per session", Behaviour::default()),
        (
            "per user",
            Behaviour {
                org_per_user: true,
                ..Behaviour::default()
            },
        ),
        (
            "new session on switch",
            Behaviour {
                switch_new_session: true,
                ..Behaviour::default()
            },
        ),
    ]
}

/// Another session of the same user that switches to `org` now and
/// then, until dropped.
pub(crate) struct Competitor {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u32>>,
}

impl Competitor {
    pub(crate) fn start(sim: &TestSim, org: i64) -> Competitor {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, api) = (stop.clone(), sim.api("/session/orgs"));
        let login_url = sim.api("/session/login");
        let thread = std::thread::spawn(move || {
            let mut switches = 0;
            let mut pause = 40;
            while !flag.load(Ordering::SeqCst) {
                let c = http();
                let logged_in = c
                    .post(&login_url)
                    .header("X-Requested-By", "ThoughtSpot")
                    .form(&[("username", "admin"), ("password", "admin")])
                    .send()
                    .is_ok_and(|r| r.status() == 204);
                let switched = logged_in
                    && c.put(&api)
                        .header("X-Requested-By", "ThoughtSpot")
                        .form(&[("orgid", org.to_string())])
                        .send()
                        .is_ok_and(|r| r.status().is_success());
                switches += u32::from(switched);
                std::thread::sleep(Duration::from_millis(pause));
                pause = 40 + (pause * 7 + 13) % 160;
            }
            switches
        });
        Competitor {
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn stop(mut self) -> u32 {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .map_or(0, |t| t.join().expect("the competitor ends"))
    }
}

impl Drop for Competitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// What an Org must hold after an apply of `source` to it: its own
/// actions before, and the source's.
fn applied(before: &Value, source: &Value) -> Value {
    let mut want = before.as_object().cloned().unwrap_or_default();
    for (name, a) in source.as_object().into_iter().flatten() {
        want.insert(name.clone(), a.clone());
    }
    Value::Object(want)
}

/// Names in `got` that are not in `want`, and the reverse.
fn differences(got: &Value, want: &Value) -> String {
    let names = |v: &Value| -> std::collections::BTreeSet<String> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect()
    };
    let (g, w) = (names(got), names(want));
    let extra: Vec<_> = g.difference(&w).take(5).collect();
    let missing: Vec<_> = w.difference(&g).take(5).collect();
    format!(
        "{} stray (e.g. {extra:?}), {} missing (e.g. {missing:?})",
        g.difference(&w).count(),
        w.difference(&g).count()
    )
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    // The exit code is the test's to judge (0, or 4 with nothing changed).
    Tsm::new(dir).logged_in().args(args).output()
}

#[test]
fn rollout_to_all_orgs_of_one_user_writes_each_org_only_its_own() {
    let source = TestSim::start(Some(&with_new_actions(300)), Faults::default());
    let wanted = actions_of(&source.state(), 0);
    for (what, behaviour) in behaviours() {
        let target = slow_target(behaviour);
        let before = target.state();
        let work = tempfile::tempdir().expect("scratch");
        let out = run(
            work.path(),
            &[
                "rollout",
                "--yes",
                "--source",
                &source.url,
                "--target",
                &target.url,
                "--all-orgs",
                "--parallel-targets",
                "3",
            ],
        );
        let after = target.state();
        let context = format!("{what}: exit {:?}\n{}", out.status.code(), stderr(&out));
        assert_eq!(code(&out), 0, "{context}");
        for org in [0, MARKETING, SALES] {
            let want = applied(&actions_of(&before, org), &wanted);
            let got = actions_of(&after, org);
            assert!(
                got == want,
                "{what}: Org {org}: {}\n{context}",
                differences(&got, &want)
            );
        }
    }
}

#[test]
fn apply_in_one_org_while_another_session_switches_lands_only_there() {
    let source = TestSim::start(Some(&with_new_actions(60)), Faults::default());
    let wanted = actions_of(&source.state(), 0);
    for (what, behaviour) in behaviours() {
        let target = slow_target(behaviour);
        let before = target.state();
        let work = tempfile::tempdir().expect("scratch");
        let competitor = Competitor::start(&target, SALES);
        let out = run(
            work.path(),
            &[
                "apply",
                "--yes",
                "--source",
                &source.url,
                "--target",
                &target.url,
                "--target-org",
                "Marketing",
                "--parallel",
                "4",
            ],
        );
        let switches = competitor.stop();
        let after = target.state();
        let context = format!(
            "{what}: exit {:?} ({switches} competing switches)\n{}",
            out.status.code(),
            stderr(&out)
        );
        assert!(switches > 0, "{context}");
        // Nothing anywhere but in Marketing; there, all of it or none.
        for org in [0, SALES] {
            let (got, want) = (actions_of(&after, org), actions_of(&before, org));
            assert!(
                got == want,
                "{what}: Org {org}: {}\n{context}",
                differences(&got, &want)
            );
        }
        let got = actions_of(&after, MARKETING);
        let want = match code(&out) {
            0 => applied(&actions_of(&before, MARKETING), &wanted),
            4 => actions_of(&before, MARKETING),
            _ => panic!("neither applied nor restored\n{context}"),
        };
        assert!(
            got == want,
            "{what}: Marketing: {}\n{context}",
            differences(&got, &want)
        );
    }
}

/// A journal that records a create served in another Org and not removed
/// there (the apply's removal failed, or it was killed first): `rollback`
/// of the Org the apply was for finds the stray in the other Org and
/// deletes it, says so, and leaves everything else of both Orgs alone.
#[test]
fn rollback_removes_a_stray_the_apply_left_in_another_org() {
    for (what, behaviour) in behaviours() {
        let mut state = three_orgs();
        let stray_id = "40000000-0000-4000-8000-000000000001";
        let sales = state["orgs"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|o| o["id"] == SALES)
            .unwrap();
        let mut stray = sales["actions"][0].clone();
        stray["id"] = json!(stray_id);
        stray["name"] = json!("Rüstung 日本 stray");
        sales["actions"].as_array_mut().unwrap().push(stray);
        let sim = TestSim::start_with(Some(&state), Faults::default(), behaviour);
        let work = tempfile::tempdir().unwrap();
        let lines = [
            json!({"journal": "tsmigrate-journal", "version": 2, "target": sim.url,
                   "org": {"id": MARKETING, "name": "Marketing"}, "label": "t", "tool": "test"}),
            json!({"stray": 1, "id": stray_id}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(work.path().join("j.jsonl"), text).unwrap();
        let before = sim.state();
        let out = tsm_in(
            work.path(),
            &[
                "rollback",
                "--journal",
                "j.jsonl",
                "--target",
                &sim.url,
                "--format",
                "json",
            ],
        );
        assert_eq!(code(&out), 0, "{what}: {}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let said = report["strays_removed"].to_string();
        assert!(
            said.contains(stray_id) && said.contains(&format!("Org {SALES}")),
            "{what}: {report:#}"
        );
        assert!(stderr(&out).contains(stray_id), "{what}: {}", stderr(&out));
        let after = sim.state();
        let mut sales_want = actions_of(&before, SALES);
        sales_want
            .as_object_mut()
            .unwrap()
            .remove("Rüstung 日本 stray");
        assert_eq!(actions_of(&after, SALES), sales_want, "{what}");
        for org in [0, MARKETING] {
            assert_eq!(actions_of(&after, org), actions_of(&before, org), "{what}");
        }
        assert_eq!(after["configinfo"], before["configinfo"], "{what}");
        // Again: the journal says it is removed; nothing more is done.
        let again = tsm_in(
            work.path(),
            &["rollback", "--journal", "j.jsonl", "--target", &sim.url],
        );
        assert_eq!(code(&again), 0, "{what}: {}", stderr(&again));
        assert_eq!(sim.state(), after, "{what}");
    }
}

/// `apply --format json --events`: one JSON object per line, each with the
/// Org and the pointer, the GUID of every create as stored in that Org,
/// one answer per write the result counts, and the result last.
#[test]
fn apply_events_are_json_lines_with_org_pointer_and_the_stored_guids() {
    let source = TestSim::start(Some(&with_new_actions(5)), Faults::default());
    let target = TestSim::start(Some(&three_orgs()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let out = Tsm::new(work.path())
        .logged_in()
        .args(&[
            "apply",
            "--yes",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--target-org",
            "Marketing",
            "--format",
            "json",
            "--events",
        ])
        .status(0)
        .stderr(Expect::Any)
        .stdout(Expect::Any)
        .run();
    let text = stdout(&out);
    assert_no_secrets("apply --events", &text);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let (result, events) = lines.split_last().expect("lines");
    crate::report::conforms("apply", result);
    assert_eq!(result["verified"], true, "{result:#}");
    for e in events {
        assert_eq!(e["org"]["id"], MARKETING, "{e}");
        assert!(e["event"].is_string(), "{e}");
        assert!(
            e["pointer"].as_str().is_some_and(|p| p.starts_with('/')),
            "{e}"
        );
    }
    let count = |kind: &str| events.iter().filter(|e| e["event"] == kind).count();
    assert_eq!(
        count("answered") as u64,
        result["writes"].as_u64().unwrap(),
        "one answer per write"
    );
    assert_eq!(count("sent"), count("answered"), "nothing failed");
    assert_eq!(
        count("journaled") as u64,
        result["created"].as_u64().unwrap() + result["updated"].as_u64().unwrap()
    );
    // Each created GUID is the one stored in Marketing for that name.
    let stored = target.state()["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == MARKETING)
        .unwrap()["actions"]
        .clone();
    let created: Vec<&Value> = events.iter().filter(|e| e["event"] == "created").collect();
    assert_eq!(created.len() as u64, result["created"].as_u64().unwrap());
    for c in created {
        let name = c["pointer"]
            .as_str()
            .unwrap()
            .strip_prefix("/actions/")
            .unwrap()
            .replace("~1", "/")
            .replace("~0", "~");
        let there = stored
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} stored in Marketing"));
        assert_eq!(there["id"], c["id"], "{c}");
    }
    // --events is for JSON only.
    Tsm::new(work.path())
        .logged_in()
        .args(&[
            "apply",
            "--yes",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--events",
        ])
        .status(1)
        .stderr_has(&["--events needs --format json"])
        .run();
}
