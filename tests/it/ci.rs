//! The CI integrations against a fake GitHub and GitLab API on loopback:
//! `tsmigrate comment` keeps one comment per marker (created once, edited
//! after, found past the first page, other people's comments untouched,
//! the token never printed); the Action's script (`ci/diff-and-comment.sh`)
//! and the GitLab template's script run end to end against two
//! simulators, with the step summary and outputs GitHub reads.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::routing::{get, put};
use axum::Json;
use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::support::*;

const TOKEN: &str = "ghp-S3CRET-token-0123456789";

#[derive(Default)]
struct Api {
    comments: Vec<(u64, String)>,
    /// (method, path, authorization header)
    log: Vec<(String, String, String)>,
    next: u64,
}

type Shared = Arc<Mutex<Api>>;

fn record(api: &Shared, method: &Method, path: &str, headers: &HeaderMap) {
    let auth = headers
        .get("authorization")
        .or_else(|| headers.get("private-token"))
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    api.lock()
        .unwrap()
        .log
        .push((method.to_string(), path.to_string(), auth));
}

async fn list(
    State(api): State<Shared>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    record(&api, &method, uri.path(), &headers);
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let per: usize = q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(30);
    let a = api.lock().unwrap();
    let items: Vec<Value> = a
        .comments
        .iter()
        .skip((page - 1) * per)
        .take(per)
        .map(|(id, body)| json!({"id": id, "body": body}))
        .collect();
    Json(Value::Array(items))
}

async fn create(
    State(api): State<Shared>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    record(&api, &method, uri.path(), &headers);
    let mut a = api.lock().unwrap();
    a.next += 1;
    let id = 1000 + a.next;
    a.comments
        .push((id, body["body"].as_str().unwrap().to_string()));
    (axum::http::StatusCode::CREATED, Json(json!({"id": id})))
}

async fn edit(
    State(api): State<Shared>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Path(params): Path<Vec<(String, String)>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    record(&api, &method, uri.path(), &headers);
    let id: u64 = params.last().unwrap().1.parse().unwrap();
    let mut a = api.lock().unwrap();
    let slot = a.comments.iter_mut().find(|(i, _)| *i == id).unwrap();
    slot.1 = body["body"].as_str().unwrap().to_string();
    Json(json!({"id": id}))
}

/// The fake API, with `others` comments by other people already there.
struct Fake {
    _rt: tokio::runtime::Runtime,
    url: String,
    api: Shared,
}

impl Fake {
    fn start(others: usize) -> Fake {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let api: Shared = Arc::default();
        for i in 0..others {
            api.lock().unwrap().comments.push((
                i as u64 + 1,
                format!("LGTM {i}, but see <!-- tsmigrate:prod --> above"),
            ));
        }
        let app = axum::Router::new()
            .route("/repos/{o}/{r}/issues/{n}/comments", get(list).post(create))
            .route(
                "/repos/{o}/{r}/issues/comments/{id}",
                axum::routing::patch(edit),
            )
            .route(
                "/projects/{p}/merge_requests/{iid}/notes",
                get(list).post(create),
            )
            .route("/projects/{p}/merge_requests/{iid}/notes/{id}", put(edit))
            .with_state(api.clone());
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fake { _rt: rt, url, api }
    }

    fn writes(&self) -> Vec<(String, String)> {
        self.api
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(m, _, _)| m != "GET")
            .map(|(m, p, _)| (m.clone(), p.clone()))
            .collect()
    }

    fn ours(&self) -> Vec<String> {
        self.api
            .lock()
            .unwrap()
            .comments
            .iter()
            .filter(|(_, b)| b.starts_with("<!-- tsmigrate:"))
            .map(|(_, b)| b.clone())
            .collect()
    }
}

fn github_env(t: Tsm, fake: &Fake, w: &std::path::Path) -> Tsm {
    std::fs::write(
        w.join("event.json"),
        json!({"pull_request": {"number": 7}}).to_string(),
    )
    .unwrap();
    t.env("GITHUB_API_URL", &fake.url)
        .env("GITHUB_REPOSITORY", "acme/config")
        .env("GITHUB_EVENT_PATH", w.join("event.json"))
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_TOKEN", TOKEN)
}

#[test]
fn one_sticky_comment_per_marker_created_once_then_edited() {
    // 105 comments by others: ours lands on the second page.
    let fake = Fake::start(105);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    for (i, text) in ["first report", "second report", "third report"]
        .iter()
        .enumerate()
    {
        std::fs::write(w.join("r.md"), text).unwrap();
        let out = github_env(Tsm::new(w), &fake, w)
            .args(&[
                "comment",
                "--platform",
                "github",
                "--marker",
                "prod",
                "--body-file",
                "r.md",
            ])
            .status(0)
            .stdout(Expect::Empty)
            .stderr(Expect::Any)
            .run();
        let err = stderr(&out);
        assert!(!err.contains("S3CRET"), "{err}");
        assert!(
            err.contains(if i == 0 { "created" } else { "edited" }),
            "{err}"
        );
    }
    let writes = fake.writes();
    assert_eq!(
        writes[0],
        ("POST".into(), "/repos/acme/config/issues/7/comments".into())
    );
    assert_eq!(writes.len(), 3, "{writes:?}");
    assert!(writes[1..]
        .iter()
        .all(|(m, p)| m == "PATCH" && p == "/repos/acme/config/issues/comments/1001"));
    assert_eq!(
        fake.ours(),
        vec!["<!-- tsmigrate:prod -->\nthird report".to_string()]
    );
    let a = fake.api.lock().unwrap();
    assert!(a
        .log
        .iter()
        .all(|(_, _, auth)| auth == &format!("Bearer {TOKEN}")));
    assert_eq!(a.comments.len(), 106, "others' comments untouched");
    drop(a);

    // Not a pull request: refused, naming the event file's pointer.
    std::fs::write(w.join("push.json"), "{\"ref\": \"refs/heads/main\"}").unwrap();
    github_env(Tsm::new(w), &fake, w)
        .env("GITHUB_EVENT_PATH", w.join("push.json"))
        .args(&["comment", "--platform", "github", "--body-file", "r.md"])
        .status(1)
        .stdout(Expect::Empty)
        .stderr_has(&["push.json", "/pull_request/number"])
        .run();
    // A non-loopback API over plain http is refused before any request.
    github_env(Tsm::new(w), &fake, w)
        .env("GITHUB_API_URL", "http://api.example.invalid")
        .args(&["comment", "--platform", "github", "--body-file", "r.md"])
        .status(1)
        .stdout(Expect::Empty)
        .stderr_has(&["GITHUB_API_URL"])
        .run();
}

/// The Action's script against two simulators: one comment per target,
/// edited on the second run; the summary and outputs GitHub reads.
#[test]
fn the_action_script_diffs_each_target_and_keeps_its_comment() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let same = TestSim::start(Some(&demo_source()), Faults::default());
    let other = TestSim::start(None, Faults::default());
    let fake = Fake::start(0);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/diff-and-comment.sh");
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    for run in 0..2 {
        let _ = std::fs::remove_file(w.join("out.txt"));
        let out = github_env(Tsm::new(w), &fake, w)
            .logged_in()
            .env(
                "PATH",
                format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
            )
            .env("PLATFORM", "github")
            .env("TSMIGRATE_SOURCE", &source.url)
            .env(
                "TSMIGRATE_TARGETS",
                format!("{}\n{}\n", same.url, other.url),
            )
            .env("TSMIGRATE_ARGS", "--prune")
            .env("TSMIGRATE_PLAN", "true")
            .env("GITHUB_STEP_SUMMARY", w.join("summary.md"))
            .env("GITHUB_OUTPUT", w.join("out.txt"))
            .into_bash(&script)
            .output()
            .unwrap();
        assert_eq!(
            code(&out),
            0,
            "run {run}: {}\n{}",
            stdout(&out),
            stderr(&out)
        );
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains("S3CRET"), "{all}");
        let outputs = std::fs::read_to_string(w.join("out.txt")).unwrap();
        assert!(
            outputs.contains("changes=true\n") && outputs.contains("exit-code=2\n"),
            "{outputs}"
        );
        let plan = outputs
            .lines()
            .find_map(|l| l.strip_prefix("plan-path="))
            .unwrap();
        assert!(w.join(plan).is_file(), "{outputs}");
    }
    let writes = fake.writes();
    let methods: Vec<&str> = writes.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        methods,
        vec!["POST", "POST", "PATCH", "PATCH"],
        "{writes:?}"
    );
    let ours = fake.ours();
    assert_eq!(ours.len(), 2);
    assert!(
        ours.iter()
            .any(|b| b.contains("No differences") || b.contains("no differences")),
        "{ours:?}"
    );
    assert!(ours.iter().any(|b| b.contains("#### Config")), "{ours:?}");
    let summary = std::fs::read_to_string(w.join("summary.md")).unwrap();
    assert_eq!(
        summary.matches("### tsmigrate:").count(),
        4,
        "two targets, two runs"
    );
    assert!(std::fs::read_dir(w.join("tsmigrate-reports"))
        .unwrap()
        .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "html")));
}

/// The GitLab template's script, as the runner would run it: notes on the
/// merge request, created then edited.
#[test]
fn the_gitlab_template_keeps_one_note_per_target() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    let other = TestSim::start(None, Faults::default());
    let fake = Fake::start(3);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/gitlab/tsmigrate.yml"),
    )
    .unwrap();
    // The `script:` items, as the runner joins them.
    let mut script = String::new();
    let mut inside = false;
    let mut block = false;
    for line in template.lines() {
        if line == "  script:" {
            inside = true;
            continue;
        }
        if inside {
            if let Some(item) = line.strip_prefix("    - ") {
                block = item == "|";
                if !block {
                    script.push_str(item);
                    script.push('\n');
                }
            } else if block && (line.starts_with("      ") || line.is_empty()) {
                script.push_str(line.get(6..).unwrap_or(""));
                script.push('\n');
            } else {
                break;
            }
        }
    }
    assert!(
        script.contains("tsmigrate comment --platform gitlab"),
        "{script}"
    );
    std::fs::write(w.join("job.sh"), &script).unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    for _ in 0..2 {
        let out = Tsm::new(w)
            .logged_in()
            .env(
                "PATH",
                format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
            )
            .env("CI_API_V4_URL", &fake.url)
            .env("CI_PROJECT_ID", "42")
            .env("CI_MERGE_REQUEST_IID", "9")
            .env("TSMIGRATE_GITLAB_TOKEN", TOKEN)
            .env("TSMIGRATE_SOURCE", &source.url)
            .env("TSMIGRATE_TARGETS", &other.url)
            .env("TSMIGRATE_ARGS", "")
            .env("TSMIGRATE_MAX_BYTES", "60000")
            .env("TSMIGRATE_REPORT_DIR", "tsmigrate-reports")
            .into_bash(&w.join("job.sh"))
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}\n{}", stdout(&out), stderr(&out));
        assert!(!format!("{}{}", stdout(&out), stderr(&out)).contains("S3CRET"));
    }
    let writes = fake.writes();
    assert_eq!(
        writes,
        vec![
            (
                "POST".to_string(),
                "/projects/42/merge_requests/9/notes".to_string()
            ),
            (
                "PUT".to_string(),
                "/projects/42/merge_requests/9/notes/1001".to_string()
            ),
        ]
    );
    assert!(fake
        .api
        .lock()
        .unwrap()
        .log
        .iter()
        .all(|(_, _, auth)| auth == TOKEN));
}
