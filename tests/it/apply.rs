//! Apply end to end over simulators: migration, idempotence, prune, faults,
//! rollback after failures and after SIGKILL.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use tsmigrate::sim::Faults;

use crate::snap;
use crate::support::*;

#[test]
fn migrates_end_to_end_then_reapply_sends_nothing() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let out = apply_in(w, &target, &source, &["--yes", "-vv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_converged(w, &source.url, &target.url, &[]);
    assert!(stdout(&out).contains("verified"), "{}", stdout(&out));
    assert!(stderr(&out).contains("DEBUG"), "-vv logs every request");
    assert_no_secrets("apply output", &(stdout(&out) + &stderr(&out)));
    // Secrets travel between live clusters.
    let t = target.state();
    let crm = t["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Open in CRM")
        .unwrap();
    assert!(crm["detail"]["authToken"] == json!("S3CRET-src-crm-bearer-77aa"));
    assert_eq!(
        t["configinfo"]["ldapConfiguration"]["bindPassword"],
        json!("S3CRET-src-ldap-bind-0b1d")
    );
    // Without --prune the target's own action stays (and is reported).
    assert!(t["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["name"] == "Notify owner"));
    assert!(stderr(&out).contains("--prune"));
    // The journal is gone after a verified success.
    assert!(
        !w.join(".tsmigrate/journals").exists()
            || std::fs::read_dir(w.join(".tsmigrate/journals"))
                .unwrap()
                .count()
                == 0
    );

    // Re-apply against a target that fails every write: it must send none.
    let mut target = target;
    target.restart(Faults {
        fail_after: Some(0),
        ..Faults::default()
    });
    let out = apply_in(w, &target, &source, &["--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("No changes"), "{}", stdout(&out));
}

#[test]
fn prune_deletes_last_and_diff_is_empty_after() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let out = apply_in(w, &target, &source, &["--yes", "--prune"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = compare_in(w, "diff", &source.url, &target.url, &["--exit-code"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let names: Vec<String> = target.state()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert!(!names.contains(&"Notify owner".to_string()));
}

#[test]
fn dry_run_prints_requests_masked_and_sends_none() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let before = target.state();
    let out = apply_in(work.path(), &target, &source, &["--prune", "--dry-run"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_no_secrets("dry run", &stdout(&out));
    assert_eq!(target.state(), before);
    let ids = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/")
        .unwrap();
    snap!(
        "apply_dry_run",
        ids.replace_all(
            &normalize(&stdout(&out), &[&source.url, &target.url], &[]),
            "[ID]/"
        )
        .into_owned()
    );
}

/// `--dry-run --exit-code`: 2 when the apply would write, 0 when not (as
/// `diff --exit-code`); nothing is sent either way; without `--dry-run`
/// the flag is refused.
#[test]
fn a_dry_run_can_say_by_its_exit_code_whether_it_would_write() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let before = target.state();
    let out = apply_in(work.path(), &target, &source, &["--dry-run", "--exit-code"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let out = apply_in(
        work.path(),
        &target,
        &source,
        &["--dry-run", "--exit-code", "--format", "json"],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert_eq!(target.state(), before);
    assert_eq!(target.writes(), 0);
    let same = apply_in(work.path(), &target, &target, &["--dry-run", "--exit-code"]);
    assert_eq!(code(&same), 0, "{}", stderr(&same));
    let out = apply_in(work.path(), &target, &source, &["--yes", "--exit-code"]);
    assert_eq!(code(&out), 1, "--exit-code needs --dry-run");
    assert_eq!(target.state(), before);
}

#[test]
fn refuses_without_yes_off_a_terminal() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let before = target.state();
    let out = apply_in(work.path(), &target, &source, &[]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("--yes"));
    assert_eq!(target.state(), before);
}

#[test]
fn plan_then_apply_with_secrets_file() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    assert_eq!(
        code(&compare_in(
            w,
            "plan",
            &source.url,
            &target.url,
            &["--out", "p.json"]
        )),
        0
    );
    std::fs::write(
        w.join("secrets.json"),
        json!({"/actions/Open in CRM/detail/authToken": "from-secrets-file"}).to_string(),
    )
    .unwrap();
    let out = tsm_in(
        w,
        &[
            "apply",
            "--target",
            &target.url,
            "--plan",
            "p.json",
            "--yes",
            "--secrets",
            "secrets.json",
            "-v",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let t = target.state();
    let crm = t["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Open in CRM")
        .unwrap();
    assert_eq!(crm["detail"]["authToken"], json!("from-secrets-file"));
    // The LDAP password had no value: the target's is kept, and it is said.
    assert_eq!(
        t["configinfo"]["ldapConfiguration"]["bindPassword"],
        json!("S3CRET-ldap-bind-4f9a1c")
    );
    assert!(
        stderr(&out).contains("/config/ldapConfiguration/bindPassword"),
        "{}",
        stderr(&out)
    );
    assert!(
        !all_text(target.dir.path()).contains("${secret:"),
        "a placeholder reached the cluster"
    );
}

#[test]
fn converges_under_fail_and_throttle_rates() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(
        None,
        Faults {
            fail_rate: 0.2,
            throttle_rate: 0.1,
            seed: Some(11),
            ..Faults::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let out = apply_in(work.path(), &target, &source, &["--yes", "--prune"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = compare_in(
        work.path(),
        "diff",
        &source.url,
        &target.url,
        &["--exit-code"],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn rejected_action_exits_4_with_target_exactly_as_before() {
    let (src, tgt) = bulk(12);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(
        Some(&tgt),
        Faults {
            reject_actions: vec!["bulk 007".into()],
            ..Faults::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let before = target.state();
    let out = apply_in(work.path(), &target, &source, &["--yes", "--parallel", "4"]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("bulk 007"), "{}", stderr(&out));
    assert_eq!(target.state(), before, "restored exactly");
}

#[test]
fn fail_after_exits_5_and_rollback_restores_twice_safely() {
    let (src, tgt) = bulk(12);
    let source = TestSim::start(Some(&src), Faults::default());
    let mut target = TestSim::start(
        Some(&tgt),
        Faults {
            fail_after: Some(5),
            ..Faults::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let before = target.state();
    let out = apply_in(
        w,
        &target,
        &source,
        &["--yes", "--parallel", "2", "--journal", "j.jsonl"],
    );
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(stderr(&out).contains("j.jsonl"), "{}", stderr(&out));
    assert_ne!(target.state(), before);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(w.join("j.jsonl"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    target.restart(Faults::default());
    let out = tsm_in(
        w,
        &["rollback", "--journal", "j.jsonl", "--target", &target.url],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(target.state(), before);
    let out = tsm_in(
        w,
        &["rollback", "--journal", "j.jsonl", "--target", &target.url],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("Nothing to undo"));
    assert_eq!(target.state(), before);
}

/// Objects are journaled in batches ahead of their writes, but never more
/// than twice `--parallel` ahead: a failed or killed apply leaves a short
/// list of unsent objects, which `rollback` finds unchanged and leaves be.
#[test]
fn journal_runs_at_most_two_waves_ahead_of_the_writes() {
    let (src, tgt) = bulk(40);
    let source = TestSim::start(Some(&src), Faults::default());
    let mut target = TestSim::start(
        Some(&tgt),
        Faults {
            fail_after: Some(5),
            ..Faults::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let before = target.state();
    let out = apply_in(
        w,
        &target,
        &source,
        &["--yes", "--parallel", "2", "--journal", "j.jsonl"],
    );
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    let journal = std::fs::read_to_string(w.join("j.jsonl")).unwrap();
    let entries = journal
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].is_u64())
        .count();
    // 5 accepted, at most 2 in flight when the 6th failed, at most
    // 2 x 2 journaled ahead of those.
    assert!((6..=11).contains(&entries), "{entries} entries:\n{journal}");
    target.restart(Faults::default());
    let out = tsm_in(
        w,
        &["rollback", "--journal", "j.jsonl", "--target", &target.url],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(target.state(), before);
}

#[test]
fn sigkill_mid_apply_is_undone_by_rollback() {
    let (src, tgt) = bulk(60);
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
    let before = state_doc(&target);
    let mut child = command(w)
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
        .env("TS_USERNAME", "admin")
        .env("TS_PASSWORD", "admin")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = w.join("k.jsonl");
    let started = Instant::now();
    loop {
        let writes = std::fs::read_to_string(&journal)
            .map(|t| t.matches("\"op\"").count())
            .unwrap_or(0);
        if writes >= 8 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "apply never got going"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_ne!(
        state_doc(&target),
        before,
        "the apply had written something"
    );
    let out = tsm_in(
        w,
        &["rollback", "--journal", "k.jsonl", "--target", &target.url],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(state_doc(&target), before);
}

#[test]
fn a_reapply_sends_no_write_and_every_session_is_closed() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let apply = |t: &TestSim| {
        Tsm::new(w).logged_in().args(&[
            "apply",
            "--target",
            &t.url,
            "--source",
            &source.url,
            "--yes",
            "--prune",
        ])
    };
    apply(&target)
        .status(0)
        .stdout_has(&[
            "Applied: 7 config keys, 1 action created, 1 updated, 1 deleted;",
            "verified.",
        ])
        .stderr_has(&["journal: "])
        .run();
    let written = target.writes();
    assert!(written > 0);
    apply(&target)
        .status(0)
        .stdout(Expect::Exact(format!(
            "No changes: {} already matches {}.\n",
            target.url, source.url
        )))
        .run();
    assert_eq!(target.writes(), written, "the second apply sent no write");
    assert_eq!(
        target.open_sessions(),
        0,
        "the target's sessions were closed"
    );
    assert_eq!(
        source.open_sessions(),
        0,
        "the source's sessions were closed"
    );
    // diff, plan and validate close theirs too.
    for verb in ["diff", "validate"] {
        compare_in(w, verb, &source.url, &target.url, &[]);
    }
    assert_eq!((target.open_sessions(), source.open_sessions()), (0, 0));
}
