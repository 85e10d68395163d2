//! The safety promises under faults (DESIGN.md, "Apply", wave 2), each
//! checked on the target's stored state and on exit codes: lost answers,
//! someone else's edits, outages, signals, two applies at once, torn and
//! full journals, hand-edited plans, secrets in messages, hostile
//! snapshot directories and output paths.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::proxy::{Fault, FaultProxy, Rule};
use crate::support::*;

const ANSWER_2: &str = "0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62";

/// The demo source, where "Open in CRM" also drops an association (so
/// that every kind of write is needed: config, create, PUT, association
/// POST and DELETE, and with --prune a DELETE).
fn source_state() -> Value {
    let mut s = demo_source();
    let crm = s["actions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["name"] == "Open in CRM")
        .unwrap();
    crm["actionAssociationMap"]["ANSWER"]
        .as_object_mut()
        .unwrap()
        .remove(ANSWER_2);
    s
}

/// The example cluster, where "Open in CRM" has the association the
/// source drops.
fn target_state() -> Value {
    let mut t = example();
    let crm = t["actions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["name"] == "Open in CRM")
        .unwrap();
    crm["actionAssociationMap"]["ANSWER"][ANSWER_2] = json!({"enabled": "true", "context": "MENU"});
    t
}

/// Every write kind, by rule.
fn write_kinds() -> Vec<(&'static str, Rule)> {
    vec![
        (
            "config update",
            Rule::new(Method::POST, Fault::LoseAnswer).ends_with("/admin/configinfo/update"),
        ),
        (
            "action create",
            Rule::new(Method::POST, Fault::LoseAnswer).ends_with("/admin/embed/actions"),
        ),
        (
            "action PUT",
            Rule::new(Method::PUT, Fault::LoseAnswer).containing("/admin/embed/actions/"),
        ),
        (
            "association POST",
            Rule::new(Method::POST, Fault::LoseAnswer).ends_with("/associations"),
        ),
        (
            "association DELETE",
            Rule::new(Method::DELETE, Fault::LoseAnswer).ends_with("/associations"),
        ),
        (
            "action DELETE",
            Rule::new(Method::DELETE, Fault::LoseAnswer)
                .containing("/admin/embed/actions/")
                .not_containing("/associations"),
        ),
    ]
}

#[test]
fn a_lost_answer_of_any_write_kind_still_converges_without_doing_it_twice() {
    for (kind, rule) in write_kinds() {
        let source = TestSim::start(Some(&source_state()), Faults::default());
        let target = TestSim::start(Some(&target_state()), Faults::default());
        let proxy = FaultProxy::start(&target.url, vec![rule]);
        let work = tempfile::tempdir().unwrap();
        Tsm::new(work.path())
            .logged_in()
            .args(&[
                "apply",
                "--target",
                &proxy.url,
                "--source",
                &source.url,
                "--yes",
                "--prune",
            ])
            .status(0)
            .stdout_has(&["1 action created, 1 updated, 1 deleted", "verified."])
            .stderr(Expect::Any)
            .run();
        assert!(proxy.all_fired(), "{kind}: the answer was lost once");
        let mut want = state_doc(&source);
        let got = state_doc(&target);
        want["objects"] = got["objects"].clone();
        assert_eq!(
            got["actions"], want["actions"],
            "{kind}: nothing done twice, nothing missing"
        );
        assert_eq!(got["configinfo"], want["configinfo"], "{kind}");
    }
}

#[test]
fn a_delete_whose_answer_was_lost_is_undone_when_the_apply_fails() {
    // Two actions only on the target; the DELETE of one is answered 404 on
    // its retry (the cluster did it), the other is refused outright.
    let mut t = target_state();
    let mut obsolete = t["actions"][2].clone();
    obsolete["name"] = json!("Obsolete");
    obsolete["id"] = json!("0bb0bb0b-0000-4000-8000-000000000001");
    t["actions"].as_array_mut().unwrap().push(obsolete);
    let source = TestSim::start(Some(&source_state()), Faults::default());
    let target = TestSim::start(
        Some(&t),
        Faults {
            reject_actions: vec!["Obsolete".into()],
            ..Faults::default()
        },
    );
    let before = state_doc(&target);
    let notify_id = t["actions"][2]["id"].as_str().unwrap().to_string();
    let proxy = FaultProxy::start(
        &target.url,
        vec![Rule::new(Method::DELETE, Fault::LoseAnswer).ends_with(&notify_id)],
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &proxy.url,
            "--source",
            &source.url,
            "--yes",
            "--prune",
            "--journal",
            "j.jsonl",
        ])
        .status(4)
        .stderr_has(&["restored to its state before the apply", "Obsolete"])
        .run();
    assert!(proxy.all_fired());
    assert_eq!(
        state_doc(&target),
        before,
        "the deleted action is back, the rest as before"
    );
    // Rolling back again (twice) finds nothing to do and changes nothing.
    assert!(
        !w.join("j.jsonl").exists(),
        "a verified undo deletes its journal"
    );
}

/// A logged-in client for editing a simulator by hand, as someone else would.
fn someone(sim: &TestSim) -> reqwest::blocking::Client {
    let c = http();
    login(&c, sim);
    c
}

fn put_action(c: &reqwest::blocking::Client, sim: &TestSim, action: &Value) {
    let id = action["id"].as_str().unwrap();
    let r = c
        .put(sim.api(&format!("/admin/embed/actions/{id}")))
        .header("X-Requested-By", "ThoughtSpot")
        .form(&[("embedaction", action.to_string())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
}

fn stored(sim: &TestSim, name: &str) -> Value {
    sim.state()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
        .clone()
}

#[test]
fn rollback_leaves_someone_elses_later_edits_alone_unless_forced() {
    let (src, tgt) = bulk(6);
    let source = TestSim::start(Some(&src), Faults::default());
    // Writes after the fourth fail: the apply and its undo stop half-way.
    let mut target = TestSim::start(
        Some(&tgt),
        Faults {
            fail_after: Some(4),
            ..Faults::default()
        },
    );
    let before = target.state();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let out = Tsm::new(w)
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
            "--journal",
            "j.jsonl",
        ])
        .status(5)
        .stderr_has(&[
            "could NOT be fully restored",
            "run: tsmigrate rollback --journal j.jsonl",
        ])
        .run();
    assert!(!stderr(&out).contains("<REF>"));
    target.restart(Faults::default());
    // Someone edits one of the actions the apply changed, in a field the
    // apply also changed, and another field of another changed action.
    let changed: Vec<Value> = target.state()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["detail"]["function"] == "changed")
        .cloned()
        .collect();
    assert!(
        changed.len() >= 2,
        "the apply had changed actions: {}",
        changed.len()
    );
    let c = someone(&target);
    let mut theirs = changed[0].clone();
    theirs["detail"]["function"] = json!("edited by someone else");
    put_action(&c, &target, &theirs);
    let mut other = changed[1].clone();
    other["context"] = json!("PRIMARY");
    put_action(&c, &target, &other);
    let theirs_name = theirs["name"].as_str().unwrap().to_string();
    let other_name = other["name"].as_str().unwrap().to_string();
    // Rollback undoes only what still holds the apply's value; it lists the
    // rest and says so with exit 5, twice the same.
    for _ in 0..2 {
        Tsm::new(w)
            .logged_in()
            .args(&["rollback", "--journal", "j.jsonl"])
            .status(5)
            .stderr_has(&[
                &format!("/actions/{theirs_name}/detail/function: changed on the target since the apply; left as it is"),
                "--force",
            ])
            .stdout(Expect::Any)
            .run();
        assert_eq!(
            stored(&target, &theirs_name)["detail"]["function"],
            json!("edited by someone else")
        );
        let o = stored(&target, &other_name);
        assert_eq!(
            o["context"],
            json!("PRIMARY"),
            "their edit of another field stays"
        );
        let original = before["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == other_name.as_str())
            .unwrap()["detail"]["function"]
            .clone();
        assert_eq!(
            o["detail"]["function"], original,
            "the apply's own change is undone"
        );
    }
    // --force undoes everything the apply did, their edit included.
    Tsm::new(w)
        .logged_in()
        .args(&["rollback", "--journal", "j.jsonl", "--force"])
        .status(0)
        .stdout_has(&["Rolled back"])
        .stderr(Expect::Any)
        .run();
    let mut want = before.clone();
    // Their edit of a field the apply never touched is theirs to keep.
    for a in want["actions"].as_array_mut().unwrap() {
        if a["name"] == other_name.as_str() {
            a["context"] = json!("PRIMARY");
        }
    }
    assert_eq!(target.state(), want);
}

#[test]
fn an_outage_from_the_first_write_ends_in_exit_4_quickly_and_writes_nothing_back() {
    // Default retry settings (no shortened waits).
    let (src, tgt) = bulk(8);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(
        Some(&tgt),
        Faults {
            fail_after: Some(0),
            ..Faults::default()
        },
    );
    let before = target.state();
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    Tsm::new(work.path())
        .logged_in()
        .unset("TSMIGRATE_RETRY_BASE_MS")
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
        ])
        .status(4)
        .stderr_has(&["restored to its state before the apply", "HTTP 500"])
        .run();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(target.state(), before);
    assert_eq!(
        target.writes(),
        3,
        "the config update, tried three times; no undo writes"
    );
    // The same with actions only: the writes in flight stop retrying.
    let mut src2 = src.clone();
    src2["configinfo"] = tgt["configinfo"].clone();
    let source = TestSim::start(Some(&src2), Faults::default());
    let target = TestSim::start(
        Some(&tgt),
        Faults {
            fail_after: Some(0),
            ..Faults::default()
        },
    );
    let started = Instant::now();
    Tsm::new(work.path())
        .logged_in()
        .unset("TSMIGRATE_RETRY_BASE_MS")
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
        ])
        .status(4)
        .stderr(Expect::Any)
        .run();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(target.state(), before);
    assert!(target.writes() <= 8 * 3, "{} writes", target.writes());
}

/// Starts `tsmigrate apply` as a child and waits until its journal holds
/// `entries` objects.
fn apply_child(
    w: &std::path::Path,
    target: &TestSim,
    source: &TestSim,
    entries: usize,
) -> std::process::Child {
    let child = Command::new(BIN)
        .args([
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
            "--parallel",
            "2",
            "--journal",
            "k.jsonl",
        ])
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
    let journal = w.join("k.jsonl");
    let started = Instant::now();
    while std::fs::read_to_string(&journal)
        .map(|t| t.matches("\"op\"").count())
        .unwrap_or(0)
        < entries
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "apply never got going"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

fn signal(child: &std::process::Child, sig: &str) {
    // The shell's builtin `kill`: no procps needed on a minimal machine.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -{sig} {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_signal_stops_new_writes_and_undoes_the_apply() {
    let (src, tgt) = bulk(40);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(
        Some(&tgt),
        Faults {
            latency_ms: 30,
            ..Faults::default()
        },
    );
    let before = state_doc(&target);
    let work = tempfile::tempdir().unwrap();
    let child = apply_child(work.path(), &target, &source, 6);
    signal(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 4, "{err}");
    assert!(
        err.contains("interrupted") && err.contains("restored"),
        "{err}"
    );
    assert_eq!(state_doc(&target), before);
}

#[test]
fn a_second_signal_leaves_the_journal_and_says_how_to_finish() {
    let (src, tgt) = bulk(40);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(
        Some(&tgt),
        Faults {
            latency_ms: 150,
            ..Faults::default()
        },
    );
    let before = state_doc(&target);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let child = apply_child(w, &target, &source, 4);
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(50));
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 5, "{err}");
    assert!(
        err.contains("run: tsmigrate rollback --journal k.jsonl"),
        "{err}"
    );
    assert_ne!(state_doc(&target), before, "it stopped half-way");
    for _ in 0..2 {
        Tsm::new(w)
            .logged_in()
            .args(&["rollback", "--journal", "k.jsonl"])
            .status(0)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        assert_eq!(state_doc(&target), before);
    }
}

#[test]
fn a_second_apply_to_the_same_target_refuses_or_waits_never_interleaves() {
    let (src, tgt) = bulk(30);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(
        Some(&tgt),
        Faults {
            latency_ms: 25,
            ..Faults::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let first = apply_child(w, &target, &source, 1);
    let pid = first.id().to_string();
    Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
        ])
        .status(1)
        .stderr_has(&[
            "another tsmigrate is changing this target",
            &format!("pid {pid}"),
            "nothing was written",
        ])
        .run();
    // One that waits runs after the first, and finds nothing left to do.
    let waiting = Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
            "--lock-timeout",
            "60s",
        ])
        .status(0)
        .stdout(Expect::Exact(format!(
            "No changes: {} already matches {}.\n",
            target.url, source.url
        )))
        .stderr(Expect::Any)
        .run();
    assert!(
        stderr(&waiting).contains("waiting for another tsmigrate"),
        "{}",
        stderr(&waiting)
    );
    let out = first.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(state_doc(&target)["actions"], state_doc(&source)["actions"]);
}
