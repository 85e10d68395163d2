//! `watch`: pushes to a receiver that fails its first request, no repeats,
//! changed drift re-sent, restarts remembered, drift repair, SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::support::*;

/// An HTTP receiver on loopback: answers 500 to its first request, 200 after.
struct Receiver {
    _rt: tokio::runtime::Runtime,
    url: String,
    got: Arc<Mutex<Vec<(String, String, u16)>>>,
}

/// Run (off the async threads) when a push arrives, before it is answered.
type OnPush = Arc<dyn Fn() + Send + Sync>;

impl Receiver {
    fn start() -> Receiver {
        Receiver::start_with(true, Arc::new(|| {}))
    }

    /// Answers 500 to the first request if `fail_first`; runs `on_push`
    /// at each request before answering.
    fn start_with(fail_first: bool, on_push: OnPush) -> Receiver {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let got: Arc<Mutex<Vec<(String, String, u16)>>> = Arc::default();
        let log = got.clone();
        let app = axum::Router::new().route(
            "/drift",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let log = log.clone();
                let on_push = on_push.clone();
                async move {
                    tokio::task::spawn_blocking(move || on_push())
                        .await
                        .unwrap();
                    let mut log = log.lock().unwrap();
                    let status = if log.is_empty() && fail_first {
                        500
                    } else {
                        200
                    };
                    let ct = headers
                        .get("content-type")
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default();
                    log.push((ct, body, status));
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/drift", listener.local_addr().unwrap());
        rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { _rt: rt, url, got }
    }

    fn requests(&self) -> Vec<(String, String, u16)> {
        self.got.lock().unwrap().clone()
    }
}

fn watch(
    dir: &std::path::Path,
    source: &str,
    target: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "watch",
        "--source",
        source,
        "--target",
        target,
        "--interval",
        "1s",
    ];
    args.extend_from_slice(extra);
    tsm_in(dir, &args)
}

fn set_config(sim: &TestSim, changes: Value) {
    let c = http();
    login(&c, sim);
    let r = c
        .post(sim.api("/admin/configinfo/update"))
        .header("X-Requested-By", "t")
        .form(&[("configchanges", changes.to_string())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[test]
fn pushes_once_retries_failures_and_remembers_across_restarts() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let rx = Receiver::start();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let push = ["--push-url", rx.url.as_str(), "--state-file", "watch.json"];

    // Cycle 1: the receiver fails; cycle 2: delivered; cycle 3: same drift, not re-sent.
    let out = watch(
        w,
        &source.url,
        &target.url,
        &[&push[..], &["--cycles", "3"]].concat(),
    );
    assert_eq!(code(&out), 2, "drift remained: {}", stderr(&out));
    let got = rx.requests();
    assert_eq!(
        got.iter().map(|r| r.2).collect::<Vec<_>>(),
        vec![500, 200],
        "{}",
        stderr(&out)
    );
    assert_eq!(got[1].0, "application/json");
    let report: Value = serde_json::from_str(&got[1].1).unwrap();
    assert_eq!(
        report["summary"]["config_keys"],
        json!(7),
        "counted as apply writes them"
    );
    assert_no_secrets("pushed report", &got[1].1);
    assert_eq!(
        stdout(&out).lines().count(),
        3,
        "one summary line per cycle:\n{}",
        stdout(&out)
    );
    let state: Value =
        serde_json::from_slice(&std::fs::read(w.join("watch.json")).unwrap()).unwrap();
    assert!(state["last_delivered"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));

    // A restart does not re-send the delivered drift.
    let out = watch(
        w,
        &source.url,
        &target.url,
        &[&push[..], &["--cycles", "1"]].concat(),
    );
    assert_eq!(code(&out), 2, "drift remained");
    assert_eq!(rx.requests().len(), 2);

    // A changed drift is sent (once the interval since the last push passed).
    set_config(&target, json!({"maxFilterValues": 77}));
    std::thread::sleep(Duration::from_millis(1100));
    let out = watch(
        w,
        &source.url,
        &target.url,
        &[&push[..], &["--cycles", "1"]].concat(),
    );
    assert_eq!(code(&out), 2, "drift remained: {}", stderr(&out));
    let got = rx.requests();
    assert_eq!(got.len(), 3);
    assert!(got[2].1.contains("77"));
}

#[test]
fn push_form_sends_the_json_parameter() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let rx = Receiver::start();
    let work = tempfile::tempdir().unwrap();
    let out = watch(
        work.path(),
        &source.url,
        &target.url,
        &["--push-url", &rx.url, "--push-form", "--cycles", "2"],
    );
    assert_eq!(code(&out), 2, "drift remained: {}", stderr(&out));
    let got = rx.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].0, "application/x-www-form-urlencoded");
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(&got[1].1).unwrap();
    assert_eq!(fields[0].0, "json");
    let report: Value = serde_json::from_str(&fields[0].1).unwrap();
    assert!(report["changes"].as_array().unwrap().len() > 5);
}

#[test]
fn apply_repairs_drift_made_on_the_target() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let out = watch(
        w,
        &source.url,
        &target.url,
        &["--apply", "--prune", "--cycles", "1"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("repaired"), "{}", stdout(&out));
    let diff = compare_in(w, "diff", &source.url, &target.url, &["--exit-code"]);
    assert_eq!(code(&diff), 0, "{}", stdout(&diff));
    // New drift on the target is repaired at the next cycle.
    set_config(&target, json!({"samlConfiguration.enabled": false}));
    let out = watch(w, &source.url, &target.url, &["--apply", "--cycles", "1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        target.state()["configinfo"]["samlConfiguration"]["enabled"],
        json!(true)
    );
}

/// The cycle's read says what drifted; the repair writes from a read
/// taken under the target's lock. Here someone creates one of the
/// source's actions on the target while the drift report is pushed: a
/// repair from the cycle's read would create it again ("exists already")
/// and fail; from a read under the lock it updates it.
#[test]
fn apply_writes_from_a_read_under_the_lock_not_from_the_cycle_before_the_push() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    // One of the source's actions that the target lacks.
    let on_target = target.state()["actions"].clone();
    let theirs = source.state()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            !on_target
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == a["name"])
        })
        .expect("the source has an action the target lacks")
        .clone();
    let name = theirs["name"].as_str().unwrap().to_string();
    let target_url = target.url.clone();
    let created = Arc::new(Mutex::new(false));
    let rx = {
        let created = created.clone();
        let theirs = theirs.clone();
        Receiver::start_with(
            false,
            Arc::new(move || {
                let mut once = created.lock().unwrap();
                if *once {
                    return;
                }
                *once = true;
                let mut action = theirs.clone();
                action.as_object_mut().unwrap().remove("id");
                action["detail"]["function"] = json!("someone-elses-function");
                let c = http();
                login_at(&c, &target_url);
                let r = c
                    .post(api_at(&target_url, "/admin/embed/actions"))
                    .header("X-Requested-By", "t")
                    .form(&[("embedaction", action.to_string())])
                    .send()
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.text().unwrap());
            }),
        )
    };
    let work = tempfile::tempdir().unwrap();
    let out = watch(
        work.path(),
        &source.url,
        &target.url,
        &["--apply", "--cycles", "1", "--push-url", &rx.url],
    );
    assert!(*created.lock().unwrap(), "the push arrived");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let stored: Vec<Value> = target.state()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == name.as_str())
        .cloned()
        .collect();
    assert_eq!(stored.len(), 1, "one action of that name: {stored:#?}");
    assert_eq!(
        stored[0]["detail"]["function"],
        theirs["detail"]["function"]
    );
    let diff = compare_in(
        work.path(),
        "diff",
        &source.url,
        &target.url,
        &["--exit-code"],
    );
    assert_eq!(code(&diff), 0, "{}", stdout(&diff));
}

#[test]
fn a_cluster_that_is_down_is_reported_and_watch_goes_on() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let work = tempfile::tempdir().unwrap();
    let out = watch(work.path(), &source.url, &down, &["--cycles", "2"]);
    assert_eq!(
        code(&out),
        6,
        "the target was unreachable at the last cycle"
    );
    assert_eq!(
        stderr(&out)
            .matches("retrying at the next interval")
            .count(),
        2,
        "{}",
        stderr(&out)
    );
}

#[test]
fn sigterm_ends_it_cleanly() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    let mut child = command(work.path())
        .args([
            "watch",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--interval",
            "1h",
        ])
        .env("TS_USERNAME", "admin")
        .env("TS_PASSWORD", "admin")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("Plan:"), "{line}");
    // The shell's builtin `kill`: no procps needed on a minimal machine.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "watch did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn pushes_carry_the_user_agent_and_given_headers_never_printed() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let seen: Arc<Mutex<Vec<axum::http::HeaderMap>>> = Arc::default();
    let log = seen.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(headers);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!(
        "http://{}/hook?token=q-S3CRET-in-query",
        listener.local_addr().unwrap()
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let work = tempfile::tempdir().unwrap();
    let out = Tsm::new(work.path())
        .logged_in()
        .env("HOOK_TOKEN", "hook-S3CRET-value")
        .args(&[
            "watch",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--interval",
            "1h",
            "--cycles",
            "1",
            "--push-url",
            &url,
            "--push-header",
            "Authorization: env:HOOK_TOKEN",
            "--push-header",
            "X-Team: ops",
        ])
        .status(2)
        .stdout(Expect::Any)
        .stderr_has(&["pushed the drift report to http://127.0.0.1:", "/hook?…"])
        .run();
    let all = stdout(&out) + &stderr(&out);
    assert!(
        !all.contains("hook-S3CRET-value") && !all.contains("q-S3CRET-in-query"),
        "{all}"
    );
    let headers = seen.lock().unwrap().clone();
    assert_eq!(headers.len(), 1);
    let h = &headers[0];
    assert_eq!(
        h["user-agent"],
        format!("tsmigrate/{}", env!("CARGO_PKG_VERSION")).as_str()
    );
    assert_eq!(h["authorization"], "hook-S3CRET-value");
    assert_eq!(h["x-team"], "ops");
    // A variable that is not set is a usage error at start.
    Tsm::new(work.path())
        .logged_in()
        .args(&[
            "watch",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--interval",
            "1h",
            "--cycles",
            "1",
            "--push-url",
            &url,
            "--push-header",
            "Authorization: env:NOT_SET",
        ])
        .status(1)
        .stderr_has(&["--push-header Authorization: the environment variable NOT_SET is not set"])
        .run();
}

/// `--push-format slack|teams`: a message for an incoming webhook, naming
/// what drifted by pointer (never a value); when the drift clears (here
/// repaired by `--apply`), the receiver is told so once. A push that
/// cannot be delivered says why, not only "error sending request".
#[test]
fn chat_pushes_say_what_drifted_and_when_it_cleared() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let target = TestSim::start(None, Faults::default());
    let rx = Receiver::start_with(false, Arc::new(|| {}));
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let out = watch(
        w,
        &source.url,
        &target.url,
        &[
            "--push-url",
            &rx.url,
            "--push-format",
            "slack",
            "--apply",
            "--prune",
            "--cycles",
            "3",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let got = rx.requests();
    assert_eq!(
        got.len(),
        2,
        "one for the drift, one when it cleared: {got:?}"
    );
    let drift: Value = serde_json::from_str(&got[0].1).unwrap();
    let text = drift["text"].as_str().unwrap();
    assert!(
        text.contains("drifted from") && text.contains("/config/"),
        "{text}"
    );
    assert_no_secrets("slack push", &got[0].1);
    let cleared: Value = serde_json::from_str(&got[1].1).unwrap();
    assert!(
        cleared["text"]
            .as_str()
            .unwrap()
            .contains("the drift cleared"),
        "{cleared}"
    );

    // Teams: a message card.
    let target = TestSim::start(None, Faults::default());
    let rx = Receiver::start_with(false, Arc::new(|| {}));
    let out = watch(
        w,
        &source.url,
        &target.url,
        &[
            "--push-url",
            &rx.url,
            "--push-format",
            "teams",
            "--cycles",
            "1",
        ],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let card: Value = serde_json::from_str(&rx.requests()[0].1).unwrap();
    assert_eq!(card["@type"], "MessageCard");
    assert!(
        card["title"].as_str().unwrap().contains("drifted"),
        "{card}"
    );

    // Nobody listens there: the reason is given.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/drift", closed.local_addr().unwrap());
    drop(closed);
    let out = watch(
        w,
        &source.url,
        &target.url,
        &["--push-url", &url, "--cycles", "1"],
    );
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("failed ("))
        .unwrap_or_default();
    assert!(
        line.len() > "failed (error sending request)".len() + 20
            && line.contains("error sending request: "),
        "{err}"
    );
}
