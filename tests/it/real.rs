//! Correct on a real cluster whichever way the documentation's open
//! questions fall: the same migrations against simulators that omit
//! associations from the action list, replace whole actions on PUT, expire
//! sessions and rate-limit, and against ones that do none of that. Every
//! test checks what the cluster stored.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use tsmigrate::sim::{Behaviour, Faults};

use crate::support::*;

const GROUP: &str = "b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04";
const ANSWER_1: &str = "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35";
const WORKSHEET: &str = "8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02";

/// The demo source, with a user group and an association-only change too.
fn source_state() -> Value {
    let mut s = demo_source();
    for a in s["actions"].as_array_mut().unwrap() {
        match a["name"].as_str().unwrap() {
            "Open in CRM" => a["userGroupList"] = json!([GROUP]),
            "Send to Slack" => {
                a["actionAssociationMap"] =
                    json!({"ANSWER": {ANSWER_1: {"enabled": "true", "context": "MENU"}}})
            }
            _ => {}
        }
    }
    s
}

/// Name → action without its GUID, as the cluster stored it.
fn stored_actions(state: &Value) -> BTreeMap<String, Value> {
    state["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.as_object_mut().unwrap().remove("id");
            (a["name"].as_str().unwrap().to_string(), a)
        })
        .collect()
}

fn all_switches() -> (Faults, Behaviour) {
    (
        Faults {
            rate_limit: Some(100.0),
            session_ttl: Some(Duration::from_secs(3)),
            ..Faults::default()
        },
        Behaviour {
            list_omits_associations: true,
            put_replaces: true,
            no_orgs: true,
            // No Orgs: these two have nothing to move.
            org_per_user: true,
            switch_new_session: true,
            assoc_post_appends: true,
            rewrites_version: true,
            // The Org's group: nothing to add without Orgs.
            adds_admin_group: true,
            normalizes_fields: true,
        },
    )
}

#[test]
fn migrations_land_whichever_way_the_docs_fall() {
    let (faults, behaviour) = all_switches();
    for (name, faults, behaviour) in [
        ("all switches off", Faults::default(), Behaviour::default()),
        ("all switches on", faults, behaviour),
    ] {
        let source = TestSim::start_with(Some(&source_state()), faults.clone(), behaviour);
        let target = TestSim::start_with(None, faults, behaviour);
        let work = tempfile::tempdir().unwrap();
        let w = work.path();
        Tsm::new(w)
            .logged_in()
            .args(&[
                "apply",
                "--target",
                &target.url,
                "--source",
                &source.url,
                "--yes",
                "--prune",
            ])
            .status(0)
            .stdout_has(&["1 action created, 2 updated, 1 deleted", "verified."])
            .stderr_has(&["journal: "])
            .run();
        // What the cluster stored: the source's actions, associations
        // (ANSWER and WORKSHEET), user groups and secrets, nothing else.
        // A cluster that keeps its own version: the rest is the source's.
        let strip = |mut m: BTreeMap<String, Value>| {
            if behaviour.rewrites_version {
                for a in m.values_mut() {
                    a.as_object_mut().unwrap().remove("version");
                }
            }
            m
        };
        let want = strip(stored_actions(&source.state()));
        let got = strip(stored_actions(&target.state()));
        assert_eq!(got, want, "{name}");
        assert_converged(w, &source.url, &target.url, &["--prune"]);
        assert_eq!(
            got["Open in CRM"]["userGroupList"],
            json!([GROUP]),
            "{name}"
        );
        assert_eq!(
            got["Open in Jira"]["actionAssociationMap"]["WORKSHEET"][WORKSHEET]["context"],
            json!("MENU"),
            "{name}"
        );
        assert_eq!(
            got["Open in CRM"]["detail"]["authToken"],
            json!("S3CRET-src-crm-bearer-77aa"),
            "{name}: secrets travel between live clusters"
        );
        assert_eq!(
            target.state()["configinfo"]["maxFilterValues"],
            source.state()["configinfo"]["maxFilterValues"]
        );
        // Nothing is left to do.
        Tsm::new(w)
            .logged_in()
            .args(&[
                "diff",
                "--source",
                &source.url,
                "--target",
                &target.url,
                "--exit-code",
            ])
            .status(0)
            .stdout(if behaviour.rewrites_version {
                // The version the cluster keeps is a note, not a change.
                Expect::Contains(vec![
                    "\"v4\" on the source, \"v2\" here: the cluster's own field".into(),
                    "No differences.".into(),
                ])
            } else {
                Expect::Exact("No differences.\n".into())
            })
            .run();
    }
}

#[test]
fn validate_names_a_missing_object_and_skipping_never_deletes() {
    let source = TestSim::start(Some(&source_state()), Faults::default());
    let mut target_state = example();
    // The target lacks the worksheet "Open in Jira" is associated with.
    target_state["objects"]
        .as_array_mut()
        .unwrap()
        .retain(|o| o["id"] != json!(WORKSHEET));
    let target = TestSim::start(Some(&target_state), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // Against a target that has every object: nothing to report.
    let full = TestSim::start(None, Faults::default());
    Tsm::new(w)
        .logged_in()
        .args(&["validate", "--source", &source.url, "--target", &full.url])
        .status(0)
        .stderr(Expect::Exact(format!(
            "no problems found: {} can be applied to {}\n",
            source.url, full.url
        )))
        .run();
    Tsm::new(w)
        .logged_in()
        .args(&["validate", "--source", &source.url, "--target", &target.url])
        .status(1)
        .stderr_has(&[
            "1 problem found before writing",
            &format!("/actions/Open in Jira/actionAssociationMap/WORKSHEET/{WORKSHEET}"),
            &format!("refers to WORKSHEET {WORKSHEET} which the target does not have"),
        ])
        .run();
    // Skipping leaves every association the target has alone, even one
    // whose object the look-up cannot find.
    let mut t = example();
    t["objects"]
        .as_array_mut()
        .unwrap()
        .retain(|o| o["id"] != json!(ANSWER_1));
    let target = TestSim::start(Some(&t), Faults::default());
    let before = stored_actions(&target.state());
    assert!(before["Open in CRM"]["actionAssociationMap"]["ANSWER"]
        .get(ANSWER_1)
        .is_some());
    Tsm::new(w)
        .logged_in()
        .args(&[
            "apply", "--target", &target.url, "--source", &source.url, "--yes",
            "--skip-missing-associations",
        ])
        .status(0)
        .stdout_has(&["verified."])
        .stderr_has(&[&format!("/actions/Send to Slack/actionAssociationMap/ANSWER/{ANSWER_1}: ANSWER {ANSWER_1} is not on the target; association not added")])
        .run();
    let after = stored_actions(&target.state());
    assert_eq!(
        after["Open in CRM"]["actionAssociationMap"]["ANSWER"][ANSWER_1],
        json!({"enabled": "true", "context": "PRIMARY"}),
        "the existing association was kept (and its change applied)"
    );
    assert_eq!(
        after["Send to Slack"]["actionAssociationMap"],
        json!({}),
        "the unverifiable one was not added"
    );
    assert_eq!(
        after["Notify owner"], before["Notify owner"],
        "other associations untouched"
    );
}

#[test]
fn visualization_associations_are_never_missing_nor_dropped() {
    let mut s = source_state();
    let viz = "5f1e2d3c-4b5a-4978-8877-665544332211";
    s["actions"][0]["actionAssociationMap"]["VISUALIZATION"] =
        json!({viz: {"enabled": "true", "context": "MENU"}});
    let source = TestSim::start(Some(&s), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    Tsm::new(work.path())
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
            "--skip-missing-associations",
        ])
        .status(0)
        .stdout_has(&["verified."])
        .stderr_has(&["1 VISUALIZATION association not checked", "journal: "])
        .run();
    let got = stored_actions(&target.state());
    let name = s["actions"][0]["name"].as_str().unwrap();
    assert!(got[name]["actionAssociationMap"]["VISUALIZATION"]
        .get(viz)
        .is_some());
}

#[test]
fn an_apply_longer_than_the_session_lives_logs_in_again() {
    let (src, tgt) = bulk(30);
    let faults = Faults {
        latency_ms: 25,
        session_ttl: Some(Duration::from_millis(400)),
        ..Faults::default()
    };
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(Some(&tgt), faults);
    let work = tempfile::tempdir().unwrap();
    Tsm::new(work.path())
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
            "--parallel",
            "1",
        ])
        .status(0)
        .stdout_has(&["30 updated", "verified."])
        .stderr(Expect::Any)
        .run();
    assert!(
        target.running().logins_seen() >= 2,
        "the session expired mid-run"
    );
    assert_eq!(
        stored_actions(&target.state()),
        stored_actions(&source.state())
    );
    assert_eq!(target.open_sessions(), 0, "the last session was closed");
}

#[test]
fn an_expired_static_token_names_its_variable() {
    let target = TestSim::start(
        None,
        Faults {
            session_ttl: Some(Duration::ZERO),
            ..Faults::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    Tsm::new(work.path())
        .env("TS_TOKEN", "test-token")
        .args(&["show", &target.url])
        .status(6)
        .stderr_has(&["$TS_TOKEN", "refused"])
        .run();
}

#[test]
fn a_500_is_the_clusters_answer_and_tried_twice_more_at_most() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(
        None,
        Faults {
            fail_after: Some(0),
            ..Faults::default()
        },
    );
    let before = target.state();
    let work = tempfile::tempdir().unwrap();
    apply_yes(work.path(), &target.url, &source.url)
        .status(4)
        .stderr_has(&["HTTP 500", "refused (injected after 0)", "restored"])
        .run();
    assert_eq!(
        target.writes(),
        3,
        "the config update was sent three times, no more"
    );
    assert_eq!(target.state(), before);
}

/// A create answered 500 is looked up by name (not there) and sent again,
/// three times in all, as every request answered 500.
#[test]
fn a_create_answered_500_is_sent_three_times_at_most() {
    let mut with_new = example();
    let mut extra = with_new["actions"][1].clone();
    extra["id"] = json!("30000000-0000-4000-8000-000000000099");
    extra["name"] = json!("Neue Aktion für Zürich");
    with_new["actions"].as_array_mut().unwrap().push(extra);
    let source = TestSim::start(Some(&with_new), Faults::default());
    let target = TestSim::start(
        Some(&example()),
        Faults {
            fail_after: Some(0),
            ..Faults::default()
        },
    );
    let before = target.state();
    let work = tempfile::tempdir().unwrap();
    apply_yes(work.path(), &target.url, &source.url)
        .status(4)
        .stderr_has(&["HTTP 500", "restored"])
        .run();
    assert_eq!(
        target.writes(),
        3,
        "the create was sent three times, no more"
    );
    assert_eq!(target.state(), before);
}

/// 300 new actions, each associated with its own answer: the look-up of
/// the referenced answers on the target (`fetchids`) would need a URL of
/// about 14 KB, which the simulator (as a server with an 8 KiB limit)
/// answers 414; it goes in chunks, and every association is stored.
#[test]
fn referenced_objects_are_looked_up_in_urls_a_server_accepts() {
    let mut source = example();
    let mut target = example();
    let template = source["actions"][0].clone();
    for i in 0..300 {
        let answer = format!("50000000-0000-4000-8000-{i:012}");
        let mut a = template.clone();
        a["id"] = json!(format!("60000000-0000-4000-8000-{i:012}"));
        a["name"] = json!(format!("Aktion {i:03} – 東京"));
        a["actionAssociationMap"] =
            json!({"ANSWER": {answer.clone(): {"enabled": "true", "context": "MENU"}}});
        source["actions"].as_array_mut().unwrap().push(a);
        for s in [&mut source, &mut target] {
            s["objects"].as_array_mut().unwrap().push(
                json!({"id": answer.clone(), "name": format!("Antwort {i}"), "type": "ANSWER"}),
            );
        }
    }
    let source = TestSim::start(Some(&source), Faults::default());
    let target = TestSim::start(Some(&target), Faults::default());
    let work = tempfile::tempdir().unwrap();
    apply_yes(work.path(), &target.url, &source.url)
        .status(0)
        .stderr(Expect::Any)
        .stdout(Expect::Any)
        .run();
    let stored = target.state();
    let associated = stored["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["name"].as_str().unwrap().starts_with("Aktion ")
                && a["actionAssociationMap"]["ANSWER"]
                    .as_object()
                    .is_some_and(|m| m.len() == 1)
        })
        .count();
    assert_eq!(associated, 300);
}

/// An association whose context changes (MENU → PRIMARY) and one that is
/// switched off: whether the cluster's association POST overwrites an
/// entry or leaves it ("appended"), and whatever a PUT does, the target
/// ends with the source's entries, as stored.
#[test]
fn a_changed_association_context_lands_whether_a_post_overwrites_or_appends() {
    let mut source = example();
    source["actions"][0]["actionAssociationMap"]["ANSWER"]
        ["3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35"]["context"] = json!("PRIMARY");
    source["actions"][0]["detail"]["function"] = json!("changed-too");
    source["actions"][2]["actionAssociationMap"]["WORKSHEET"]
        ["8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02"]["enabled"] = json!("false");
    let behaviours = [
        Behaviour::default(),
        Behaviour {
            assoc_post_appends: true,
            ..Behaviour::default()
        },
        Behaviour {
            assoc_post_appends: true,
            put_replaces: true,
            list_omits_associations: true,
            ..Behaviour::default()
        },
    ];
    let src = TestSim::start(Some(&source), Faults::default());
    for b in behaviours {
        let target = TestSim::start_with(Some(&example()), Faults::default(), b);
        let work = tempfile::tempdir().unwrap();
        apply_yes(work.path(), &target.url, &src.url)
            .status(0)
            .stderr(Expect::Any)
            .stdout_has(&["verified."])
            .run();
        let (got, want) = (target.state(), src.state());
        for i in [0, 2] {
            assert_eq!(
                got["actions"][i]["actionAssociationMap"],
                want["actions"][i]["actionAssociationMap"],
                "{b:?}"
            );
        }
        assert_eq!(got["actions"][0]["detail"], want["actions"][0]["detail"]);
    }
}

/// One write per change where the cluster keeps associations on a PUT:
/// 40 changed actions, each associated with an answer, take 40 PUTs once
/// the first PUT was read back (one GET) and showed its associations kept;
/// a cluster whose PUT clears them gets them POSTed again (80 writes), and
/// both end with every association stored.
#[test]
fn a_put_is_one_write_where_the_cluster_keeps_associations() {
    let answers = [
        "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35",
        "0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62",
    ];
    let with = |function: &str| {
        let mut s = example();
        let template = s["actions"][0].clone();
        for i in 0..40 {
            let mut a = template.clone();
            a["id"] = json!(format!("80000000-0000-4000-8000-{i:012}"));
            a["name"] = json!(format!("Verknüpft {i:02} – 関連"));
            a["detail"]["function"] = json!(format!("{function}-{i}"));
            a["actionAssociationMap"] =
                json!({"ANSWER": {answers[i % 2]: {"enabled": "true", "context": "MENU"}}});
            s["actions"].as_array_mut().unwrap().push(a);
        }
        s
    };
    let source = TestSim::start(Some(&with("neu")), Faults::default());
    let cases = [
        (Behaviour::default(), 40),
        (
            Behaviour {
                put_replaces: true,
                ..Behaviour::default()
            },
            80,
        ),
        (
            Behaviour {
                put_replaces: true,
                list_omits_associations: true,
                ..Behaviour::default()
            },
            80,
        ),
    ];
    for (b, writes) in cases {
        let target = TestSim::start_with(Some(&with("alt")), Faults::default(), b);
        let work = tempfile::tempdir().unwrap();
        apply_yes(work.path(), &target.url, &source.url)
            .status(0)
            .stderr(Expect::Any)
            .stdout_has(&["40 updated", "verified."])
            .run();
        assert_eq!(target.writes(), writes, "{b:?}");
        let (got, want) = (target.state(), source.state());
        assert_eq!(
            got["actions"], want["actions"],
            "{b:?}: every action as the source's, associations too"
        );
    }
}

/// A cluster that keeps its own action `version` ("v4" written, "v2"
/// stored): the apply converges without a verification failure or an
/// undo, and no diff after it drifts; the difference is a note.
#[test]
fn a_version_the_cluster_keeps_its_own_way_neither_fails_nor_drifts() {
    let mut src = example();
    src["actions"][1]["detail"]["function"] = json!("geändert");
    let mut extra = src["actions"][1].clone();
    extra["id"] = json!("90000000-0000-4000-8000-000000000001");
    extra["name"] = json!("Neu – v4");
    src["actions"].as_array_mut().unwrap().push(extra);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start_with(
        Some(&example()),
        Faults::default(),
        Behaviour {
            rewrites_version: true,
            ..Behaviour::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    apply_yes(w, &target.url, &source.url)
        .status(0)
        .stderr(Expect::Any)
        .stdout_has(&["1 action created, 1 updated", "verified."])
        .run();
    let stored = target.state();
    let by_name = |n: &str| {
        stored["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("Send to Slack")["detail"]["function"], "geändert");
    assert_eq!(by_name("Neu – v4")["version"], "v2", "the cluster's own");
    Tsm::new(w)
        .logged_in()
        .args(&["diff", "--source", &source.url, "--target", &target.url, "--exit-code"])
        .status(0)
        .stdout_has(&[
            "/actions/Send to Slack/version: \"v4\" on the source, \"v2\" here: the cluster's own field",
            "No differences",
        ])
        .stderr(Expect::Any)
        .run();
}

#[test]
fn watch_keeps_one_session_per_cluster() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    Tsm::new(work.path())
        .logged_in()
        .args(&[
            "watch",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--interval",
            "20ms",
            "--cycles",
            "5",
        ])
        .status(2)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    assert_eq!(
        source.running().logins_seen(),
        1,
        "one login for five cycles"
    );
    assert_eq!(
        target.running().logins_seen(),
        1,
        "one login for five cycles"
    );
    assert_eq!((source.open_sessions(), target.open_sessions()), (0, 0));
}

#[test]
fn at_the_cloud_rate_limit_300_actions_converge_with_few_429s() {
    let (src, tgt) = bulk(300);
    let limited = Faults {
        rate_limit: Some(100.0),
        ..Faults::default()
    };
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(Some(&tgt), limited);
    let work = tempfile::tempdir().unwrap();
    Tsm::new(work.path())
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
            "--parallel",
            "16",
        ])
        .status(0)
        .stdout_has(&["300 updated", "verified."])
        .stderr(Expect::Any)
        .run();
    let writes = target.writes() as f64;
    let throttled = target.running().throttled_seen() as f64;
    assert!(writes >= 301.0);
    assert!(
        throttled / writes < 0.10,
        "{throttled} of {writes} writes met a 429"
    );
    assert_eq!(
        stored_actions(&target.state()),
        stored_actions(&source.state())
    );
}

/// The shared corpus (`benchdata::corpus`) on both association
/// behaviours, in two Orgs of three: every change is stored as the
/// source has it, associations and groups included; the simulator is sent
/// exactly the planned requests less those the event stream says were not
/// needed, and those are all the POSTs after a PUT of a field-only change,
/// only where the cluster showed that a PUT keeps associations.
#[test]
fn the_corpus_converges_on_both_association_behaviours_in_every_org() {
    use tsmigrate::benchdata::corpus::{generate, Shape};
    let c = generate(&Shape {
        actions: 45,
        changed: 24,
        association_changes: 6,
        created: 3,
        orgs: 3,
        ..Shape::default()
    });
    let s = &c.summary;
    assert_eq!((s.changed_associated, s.changed_associations), (24, 6));
    let source = TestSim::start(Some(&c.source), Faults::default());
    let by_name = |actions: &Value| -> BTreeMap<String, Value> {
        actions
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let mut a = a.clone();
                a.as_object_mut().unwrap().remove("id");
                (a["name"].as_str().unwrap().to_string(), a)
            })
            .collect()
    };
    let org_actions = |state: &Value, org: &str| match org {
        "Primary" => by_name(&state["actions"]),
        _ => by_name(
            &state["orgs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["name"] == org)
                .unwrap()["actions"],
        ),
    };
    let behaviours = [
        Behaviour::default(),
        Behaviour {
            put_replaces: true,
            ..Behaviour::default()
        },
        Behaviour {
            put_replaces: true,
            list_omits_associations: true,
            ..Behaviour::default()
        },
    ];
    for b in behaviours {
        let target = TestSim::start_with(Some(&c.target), Faults::default(), b);
        let work = tempfile::tempdir().unwrap();
        for org in ["Primary", "Sales"] {
            let args = |extra: &[&str]| {
                let mut a = vec![
                    "apply",
                    "--source",
                    source.url.as_str(),
                    "--source-org",
                    org,
                    "--target",
                    target.url.as_str(),
                    "--target-org",
                    org,
                    "--format",
                    "json",
                ];
                a.extend_from_slice(extra);
                a.into_iter().map(String::from).collect::<Vec<_>>()
            };
            let dry = Tsm::new(work.path())
                .logged_in()
                .args(
                    &args(&["--dry-run"])
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                )
                .status(0)
                .stderr(Expect::Any)
                .stdout(Expect::Any)
                .run();
            let planned = serde_json::from_str::<Value>(&stdout(&dry)).unwrap()["requests"]
                .as_array()
                .unwrap()
                .len() as u64;
            let writes_before = target.writes();
            let out = Tsm::new(work.path())
                .logged_in()
                .args(
                    &args(&["--yes", "--events"])
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                )
                .status(0)
                .stderr(Expect::Any)
                .stdout(Expect::Any)
                .run();
            let lines: Vec<Value> = stdout(&out)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let (result, events) = lines.split_last().unwrap();
            assert_eq!(result["verified"], true, "{b:?} {org}: {result:#}");
            let unneeded = events.iter().filter(|e| e["event"] == "unneeded").count() as u64;
            let sent = target.writes() - writes_before;
            assert_eq!(sent, planned - unneeded, "{b:?} {org}");
            let keeps = !b.put_replaces;
            assert_eq!(
                unneeded,
                if keeps { 24 - 6 } else { 0 },
                "{b:?} {org}: one write per field-only change, and only where a PUT keeps associations"
            );
            let (got, want) = (target.state(), source.state());
            assert_eq!(
                org_actions(&got, org),
                org_actions(&want, org),
                "{b:?} {org}: stored as the source's"
            );
        }
        // The Org left alone is as it was.
        assert_eq!(
            org_actions(&target.state(), "Marketing"),
            org_actions(&c.target, "Marketing"),
            "{b:?}"
        );
    }
}

/// A cluster that adds its Org's administrators group to an action it
/// creates (`--adds-admin-group`, as the docs' example answers a create
/// sent with `[]`): the apply converges without a verification failure,
/// no later diff wants the group removed (a note says it is the
/// cluster's), and an undo deletes such a create rather than leaving it
/// as "changed by someone else"; with `--rewrites-version` too, whose
/// `version` no longer stops an undo either. Off: the groups are as sent.
#[test]
fn an_admin_group_the_cluster_adds_on_create_neither_fails_nor_drifts() {
    let admin = tsmigrate::sim::state::admin_group_of(0);
    let mut src = example();
    let mut extra = src["actions"][1].clone();
    extra["id"] = json!("90000000-0000-4000-8000-000000000002");
    extra["name"] = json!("Neu – für alle");
    extra["userGroupList"] = json!([]);
    src["actions"].as_array_mut().unwrap().push(extra);
    let source = TestSim::start(Some(&src), Faults::default());
    for on in [false, true] {
        let target = TestSim::start_with(
            Some(&example()),
            Faults::default(),
            Behaviour {
                adds_admin_group: on,
                ..Behaviour::default()
            },
        );
        let work = tempfile::tempdir().unwrap();
        let w = work.path();
        apply_yes(w, &target.url, &source.url)
            .status(0)
            .stderr(Expect::Any)
            .stdout_has(&["1 action created", "verified."])
            .run();
        let stored = target.state();
        let created = stored["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "Neu – für alle")
            .unwrap();
        let want = if on { json!([admin]) } else { json!([]) };
        assert_eq!(created["userGroupList"], want, "on: {on}");
        let diff = Tsm::new(w)
            .logged_in()
            .args(&[
                "diff",
                "--source",
                &source.url,
                "--target",
                &target.url,
                "--exit-code",
            ])
            .status(0)
            .stdout_has(&["No differences"])
            .stderr(Expect::Any)
            .run();
        let note = format!("the Org's administrators group {admin}, which the cluster adds");
        assert_eq!(stdout(&diff).contains(&note), on, "{}", stdout(&diff));
    }

    // A failed apply whose create the cluster stored its own way (group
    // added, version rewritten): the undo deletes it.
    let mut failing = src.clone();
    failing["actions"][0]["detail"]["function"] = json!("abgelehnt");
    let source = TestSim::start(Some(&failing), Faults::default());
    let target = TestSim::start_with(
        Some(&example()),
        Faults {
            reject_actions: vec!["Open in CRM".into()],
            ..Faults::default()
        },
        Behaviour {
            adds_admin_group: true,
            rewrites_version: true,
            ..Behaviour::default()
        },
    );
    let before = target.state();
    let work = tempfile::tempdir().unwrap();
    apply_yes(work.path(), &target.url, &source.url)
        .args(&["--parallel", "1"])
        .status(4)
        .stderr(Expect::Any)
        .stdout(Expect::Any)
        .run();
    assert_eq!(
        target.state()["actions"],
        before["actions"],
        "the create was undone, not left as someone else's"
    );
}

/// A cluster that keeps `availability` as a sorted set and a link trimmed
/// (`--server-normalizes`): an apply that sends them otherwise verifies,
/// no later diff rewrites them (a note says why), and an undo deletes a
/// create stored that way.
#[test]
fn fields_the_cluster_normalizes_neither_fail_nor_drift() {
    let mut src = example();
    src["actions"][0]["detail"]["link"] = json!("  https://crm.example.test/öffnen ");
    let mut extra = src["actions"][0].clone();
    extra["id"] = json!("90000000-0000-4000-8000-000000000003");
    extra["name"] = json!("Normalisiert – neu");
    extra["availability"] = json!(["LOCAL", "GLOBAL", "GLOBAL"]);
    src["actions"].as_array_mut().unwrap().push(extra);
    let source = TestSim::start(Some(&src), Faults::default());
    let normalizing = Behaviour {
        normalizes_fields: true,
        ..Behaviour::default()
    };
    let target = TestSim::start_with(Some(&example()), Faults::default(), normalizing);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    apply_yes(w, &target.url, &source.url)
        .status(0)
        .stderr(Expect::Any)
        .stdout_has(&["1 action created, 1 updated", "verified."])
        .run();
    let stored = stored_actions(&target.state());
    assert_eq!(
        stored["Open in CRM"]["detail"]["link"],
        "https://crm.example.test/öffnen"
    );
    assert_eq!(
        stored["Normalisiert – neu"]["availability"],
        json!(["GLOBAL", "LOCAL"])
    );
    Tsm::new(w)
        .logged_in()
        .args(&[
            "diff",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--exit-code",
        ])
        .status(0)
        .stdout_has(&[
            "No differences",
            "the same to the cluster, which keeps its own form",
        ])
        .stderr(Expect::Any)
        .run();

    // Undone although stored in the cluster's form.
    let mut failing = src.clone();
    failing["actions"][1]["detail"]["function"] = json!("abgelehnt");
    let source = TestSim::start(Some(&failing), Faults::default());
    let target = TestSim::start_with(
        Some(&example()),
        Faults {
            reject_actions: vec!["Send to Slack".into()],
            ..Faults::default()
        },
        normalizing,
    );
    let before = target.state();
    apply_yes(w, &target.url, &source.url)
        .args(&["--parallel", "1"])
        .status(4)
        .stderr(Expect::Any)
        .stdout(Expect::Any)
        .run();
    assert_eq!(stored_actions(&target.state()), stored_actions(&before));
}
