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
        assert_converged(work.path(), &source.url, &target.url, &["--prune"]);
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

#[test]
fn a_torn_journal_is_read_and_rolled_back_twice() {
    let (src, tgt) = bulk(8);
    let source = TestSim::start(Some(&src), Faults::default());
    let mut target = TestSim::start(
        Some(&tgt),
        Faults {
            fail_after: Some(3),
            ..Faults::default()
        },
    );
    let before = target.state();
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
            "--parallel",
            "1",
            "--journal",
            "j.jsonl",
        ])
        .status(5)
        .stderr(Expect::Any)
        .run();
    // A crash cut the last record short.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(w.join("j.jsonl"))
        .unwrap();
    std::io::Write::write_all(&mut f, br#"{"seq":99,"op":"action","act"#).unwrap();
    drop(f);
    target.restart(Faults::default());
    for expect in ["Rolled back", "Nothing to undo"] {
        Tsm::new(w)
            .logged_in()
            .args(&["rollback", "--journal", "j.jsonl"])
            .status(0)
            .stdout_has(&[expect])
            .stderr_has(&["was cut short by a crash; skipped"])
            .run();
        assert_eq!(target.state(), before);
    }
    let text = std::fs::read_to_string(w.join("j.jsonl")).unwrap();
    assert!(
        text.contains("\"act\n{"),
        "the next record starts on a fresh line:\n{text}"
    );
}

#[test]
fn a_full_disk_while_journaling_still_ends_restored_with_exit_4() {
    let (src, tgt) = bulk(12);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(
        Some(&tgt),
        Faults {
            reject_actions: vec!["bulk 009".into()],
            ..Faults::default()
        },
    );
    let before = target.state();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // Files of this process may not grow past 3 KiB: the journal fills up
    // after a few records, and the undo's own records fail too.
    let script = format!(
        "trap '' XFSZ; ulimit -f 6; exec '{BIN}' apply --target {} --source {} --yes --parallel 1 --journal j.jsonl",
        target.url, source.url
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .current_dir(w)
        .env_clear()
        .env("XDG_STATE_HOME", w.join(".state"))
        .env("TS_USERNAME", "admin")
        .env("TS_PASSWORD", "admin")
        .env("TSMIGRATE_RETRY_BASE_MS", "2")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 4, "{err}");
    assert!(err.contains("restored"), "{err}");
    assert!(
        err.contains("cannot journal"),
        "the journal did fill up: {err}"
    );
    assert_eq!(target.state(), before);
}

/// A plan of the demo pair, as JSON, and the pair.
fn demo_plan(w: &std::path::Path) -> (TestSim, TestSim, Value) {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    Tsm::new(w)
        .logged_in()
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
    let plan = serde_json::from_str(&std::fs::read_to_string(w.join("p.json")).unwrap()).unwrap();
    (source, target, plan)
}

#[test]
fn edited_plans_and_plans_for_another_target_are_refused_before_writing() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (_source, target, plan) = demo_plan(w);
    let before = target.state();
    let apply = |file: &str, name: &str, plan: &Value, needles: &[&str]| {
        std::fs::write(w.join(file), plan.to_string()).unwrap();
        let out = Tsm::new(w)
            .logged_in()
            .args(&["apply", "--target", &target.url, "--plan", file, "--yes"])
            .status(1)
            .stderr_has(needles)
            .run();
        assert_no_secrets(name, &stderr(&out));
        assert_eq!(target.state(), before, "{name}: nothing written");
    };
    let ops = plan["patch"].as_array().unwrap().clone();
    let with = |f: &dyn Fn(&mut Vec<Value>)| {
        let mut p = plan.clone();
        let mut o = ops.clone();
        f(&mut o);
        p["patch"] = Value::Array(o);
        p
    };
    // A removed guard: drift would be overwritten silently.
    let i = ops.iter().position(|o| o["op"] == "replace").unwrap();
    apply(
        "noguard.json",
        "removed guard",
        &with(&|o| {
            o.remove(i - 1);
        }),
        &[&format!("at /patch/{}", i - 1), "has no guard"],
    );
    // copy of the LDAP password into a visible field.
    apply(
        "copy.json",
        "copy",
        &with(&|o| {
            o.push(json!({"op": "copy", "from": "/config/ldapConfiguration/bindPassword", "path": "/config/emailConfig/companyName"}))
        }),
        &["\"copy\" is not one a plan holds"],
    );
    // An op outside the document.
    apply(
        "outside.json",
        "outside",
        &with(&|o| o.push(json!({"op": "test", "path": "/elsewhere", "value": 1}))),
        &["is outside /config/ and /actions/"],
    );
    // One action's token placed on another.
    apply(
        "moved.json",
        "moved placeholder",
        &with(&|o| {
            o.push(json!({"op": "test", "path": "/actions/Send to Slack/detail/authToken", "value": ""}));
            o.push(json!({"op": "replace", "path": "/actions/Send to Slack/detail/authToken", "value": "${secret:/actions/Open in CRM/detail/authToken}"}));
        }),
        &["the placeholder for /actions/Open in CRM/detail/authToken stands at /actions/Send to Slack/detail/authToken"],
    );
    // A plan for another cluster, or another Org.
    let other = TestSim::start(None, Faults::default());
    let mut p = plan.clone();
    p["target_url"] = json!(other.url);
    apply(
        "other.json",
        "other target",
        &p,
        &[&format!("the plan was made for {}", other.url), &target.url],
    );
    let mut p = plan.clone();
    p["target_org"] = json!(7);
    apply(
        "org.json",
        "other org",
        &p,
        &["(Org Primary (7))", "(Org Primary (0))"],
    );
}

#[test]
fn no_secret_value_reaches_any_message() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // A cluster whose 400 echoes the request: the config update carries
    // the LDAP bind password.
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let proxy = FaultProxy::start(
        &target.url,
        vec![Rule::new(Method::POST, Fault::Echo400).ends_with("/admin/configinfo/update")],
    );
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &proxy.url,
            "--source",
            &source.url,
            "--yes",
            "-vv",
        ])
        .status(4)
        .stderr_has(&["Invalid request: configchanges=", "bindPassword", "***"])
        .run();
    assert_no_secrets("an echoed request", &(stdout(&out) + &stderr(&out)));
    // The overrides' regex check names the key, not the secret value.
    let mut t = example();
    t["overrides"]["ldapConfiguration.bindPassword"] =
        json!({"category": "MAIN", "dataType": "STRING", "regex": "[a-z]+"});
    let target = TestSim::start(Some(&t), Faults::default());
    let out = Tsm::new(w)
        .logged_in()
        .args(&["validate", "--source", &source.url, "--target", &target.url])
        .status(1)
        .stderr_has(&["/config/ldapConfiguration/bindPassword: the target's overrides say: does not match the regex"])
        .run();
    assert_no_secrets("validation", &stderr(&out));
    // A URL with user info: the password is not echoed.
    let out = Tsm::new(w)
        .args(&["show", "http://admin:S3CRET-ldap-bind-4f9a1c@127.0.0.1:9"])
        .status(1)
        .stderr_has(&["credentials do not belong in the URL"])
        .run();
    assert_no_secrets("a URL with user info", &stderr(&out));
}

#[test]
fn a_secret_variable_that_would_serve_two_actions_is_refused() {
    let mut s = example();
    let mut lower = s["actions"][0].clone();
    lower["name"] = json!("open in crm");
    lower["id"] = json!("11111111-0000-4000-8000-000000000001");
    s["actions"].as_array_mut().unwrap().push(lower);
    let source = TestSim::start(Some(&s), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &source.url, "--out", "snap"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    let target = TestSim::start(None, Faults::default());
    let before = target.state();
    Tsm::new(w)
        .logged_in()
        .env(
            "TSMIGRATE_SECRET_ACTIONS_OPEN_IN_CRM_DETAIL_AUTHTOKEN",
            "would-go-to-both",
        )
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            "snap",
            "--yes",
        ])
        .status(1)
        .stderr_has(&[
            "$TSMIGRATE_SECRET_ACTIONS_OPEN_IN_CRM_DETAIL_AUTHTOKEN would be the value of",
            "/actions/Open in CRM/detail/authToken",
            "/actions/open in crm/detail/authToken",
        ])
        .run();
    assert_eq!(target.state(), before);
}

#[test]
fn an_action_is_never_created_with_a_missing_secret() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut s = demo_source();
    for a in s["actions"].as_array_mut().unwrap() {
        if a["name"] == "Open in Jira" {
            a["detail"]["authToken"] = json!("S3CRET-src-crm-bearer-77aa");
        }
    }
    let source = TestSim::start(Some(&s), Faults::default());
    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &source.url, "--out", "snap"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    let target = TestSim::start(None, Faults::default());
    let before = target.state();
    Tsm::new(w)
        .logged_in()
        .args(&["apply", "--target", &target.url, "--source", "snap", "--yes"])
        .status(1)
        .stderr_has(&[
            "secret of actions to create has no value",
            "/actions/Open in Jira/detail/authToken ($TSMIGRATE_SECRET_ACTIONS_OPEN_IN_JIRA_DETAIL_AUTHTOKEN)",
            "nothing was written",
        ])
        .run();
    assert_eq!(target.state(), before);
    // With the value given, it is created with it; empty secrets need none.
    Tsm::new(w)
        .logged_in()
        .env(
            "TSMIGRATE_SECRET_ACTIONS_OPEN_IN_JIRA_DETAIL_AUTHTOKEN",
            "jira-token-given",
        )
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            "snap",
            "--yes",
        ])
        .status(0)
        .stdout_has(&["1 action created", "verified."])
        .stderr(Expect::Any)
        .run();
    let jira = target.state()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Open in Jira")
        .unwrap()
        .clone();
    assert_eq!(jira["detail"]["authToken"], json!("jira-token-given"));
    assert_eq!(
        jira["detail"]["apiValue"],
        json!(""),
        "an empty secret stays empty"
    );
}

#[test]
fn snapshot_reading_refuses_links_out_special_files_and_misnamed_actions() {
    let sim = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &sim.url, "--out", "snap"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    let snap = w.join("snap");
    let pristine = w.join("pristine");
    std::fs::create_dir(&pristine).unwrap();
    for f in walk(&snap) {
        let rel = f.strip_prefix(&snap).unwrap();
        std::fs::create_dir_all(pristine.join(rel).parent().unwrap()).unwrap();
        std::fs::copy(&f, pristine.join(rel)).unwrap();
    }
    let reset = || {
        std::fs::remove_dir_all(&snap).unwrap();
        std::fs::create_dir_all(snap.join("actions")).unwrap();
        for f in walk(&pristine) {
            let rel = f.strip_prefix(&pristine).unwrap();
            std::fs::copy(&f, snap.join(rel)).unwrap();
        }
    };
    let refused = |what: &str, needles: &[&str]| {
        Tsm::new(w)
            .args(&["show", "snap"])
            .status(1)
            .stderr_has(needles)
            .run();
        let _ = what;
    };
    let action_file = walk(&snap.join("actions"))[0].clone();
    // A link out of the snapshot.
    std::fs::write(w.join("outside.json"), b"{}").unwrap();
    std::fs::remove_file(snap.join("config.json")).unwrap();
    std::os::unix::fs::symlink(w.join("outside.json"), snap.join("config.json")).unwrap();
    refused(
        "link out",
        &[
            "config.json: a symbolic link to",
            "outside the snapshot; refused",
        ],
    );
    reset();
    // /dev/zero as config.json: a link out, and not a regular file.
    std::fs::remove_file(snap.join("config.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", snap.join("config.json")).unwrap();
    refused("/dev/zero", &["config.json:", "refused"]);
    reset();
    // A FIFO among the actions.
    let fifo = snap.join("actions/zz-fifo.json");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    refused("FIFO", &["zz-fifo.json: not a regular file"]);
    reset();
    // An oversized file (sparse: nothing is written).
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(snap.join("config.json"))
        .unwrap();
    f.set_len(600 << 20).unwrap();
    drop(f);
    refused("oversized", &["config.json:", "more than the 512 MiB"]);
    reset();
    // An action file whose name says another action.
    let mut a: Value =
        serde_json::from_str(&std::fs::read_to_string(&action_file).unwrap()).unwrap();
    a["name"] = json!("Renamed by hand");
    std::fs::write(&action_file, serde_json::to_string_pretty(&a).unwrap()).unwrap();
    refused(
        "misnamed",
        &["at /name: \"Renamed by hand\" belongs in actions/renamed-by-hand-"],
    );
    reset();
    Tsm::new(w)
        .args(&["show", "snap"])
        .status(0)
        .stdout(Expect::Any)
        .run();
}

#[test]
fn output_files_never_replace_links_or_devices() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    std::fs::write(w.join("precious.txt"), b"keep me").unwrap();
    std::os::unix::fs::symlink(w.join("precious.txt"), w.join("link.json")).unwrap();
    for out in ["link.json", "/dev/null"] {
        Tsm::new(w)
            .logged_in()
            .args(&[
                "plan",
                "--source",
                &source.url,
                "--target",
                &target.url,
                "--out",
                out,
            ])
            .status(1)
            .stderr_has(&[&format!("--out {out}:"), "refusing to replace it"])
            .run();
    }
    assert_eq!(std::fs::read(w.join("precious.txt")).unwrap(), b"keep me");
    assert!(std::fs::symlink_metadata(w.join("link.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    // `--out -`: the plan on stdout.
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "plan",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--out",
            "-",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr_has(&["Plan: 7 config keys"])
        .run();
    let plan: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(plan["format"], json!("tsmigrate-plan"));
    assert_no_secrets("plan on stdout", &stdout(&out));
}

#[test]
fn journals_live_outside_the_working_tree_private_and_go_after_success() {
    let (src, tgt) = bulk(6);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(
        Some(&tgt),
        Faults {
            fail_after: Some(3),
            ..Faults::default()
        },
    );
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
        ])
        .status(5)
        .stderr(Expect::Any)
        .run();
    let err = stderr(&out);
    let dir = w.join(".state/tsmigrate/journals");
    let journal = walk(&dir);
    assert_eq!(journal.len(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "run: tsmigrate rollback --journal {}",
            journal[0].display()
        )),
        "{err}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&journal[0]), 0o600);
    // Nothing in the working directory but what the test made.
    let mut names: Vec<String> = std::fs::read_dir(w)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec![".state"]);
    // A successful apply leaves no journal.
    let target = TestSim::start(Some(&tgt), Faults::default());
    let w2 = tempfile::tempdir().unwrap();
    Tsm::new(w2.path())
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    assert!(walk(&w2.path().join(".state/tsmigrate/journals")).is_empty());
}

#[test]
fn a_cluster_that_hangs_is_cut_off_by_the_request_timeout() {
    let source = TestSim::start(Some(&source_state()), Faults::default());
    let target = TestSim::start(Some(&target_state()), Faults::default());
    let proxy = FaultProxy::start(
        &target.url,
        vec![Rule::new(Method::PUT, Fault::Hang)
            .containing("/admin/embed/actions/")
            .times(2)],
    );
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
            "--http-timeout",
            "1",
        ])
        .status(0)
        .stdout_has(&["verified."])
        .stderr(Expect::Any)
        .run();
    let hung: Vec<_> = proxy
        .faults_applied()
        .into_iter()
        .map(|(m, _, f)| (m, f))
        .collect();
    assert_eq!(
        hung,
        vec![(Method::PUT, Fault::Hang), (Method::PUT, Fault::Hang)]
    );
    assert_eq!(state_doc(&target)["actions"], {
        let mut want = state_doc(&source);
        want["actions"].as_array_mut().unwrap().push(
            state_doc(&target)["actions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == "Notify owner")
                .unwrap()
                .clone(),
        );
        want["actions"]
            .as_array_mut()
            .unwrap()
            .sort_by_key(|a| a["name"].as_str().unwrap().to_string());
        want["actions"].clone()
    });
}
