//! Review reports: Markdown and HTML pinned for the demo's pair, `show
//! PLAN` in every format, every `--format json` output checked against its
//! documented schema (docs/schemas), and the HTML page rendered by a real
//! headless Chromium: non-blank in light and dark schemes, the names in its
//! DOM, and no request to any network.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::snap;
use crate::support::*;

/// The demo's pair: its source against an empty simulator.
struct Pair {
    source: TestSim,
    target: TestSim,
    work: tempfile::TempDir,
}

fn pair() -> Pair {
    Pair {
        source: TestSim::start(Some(&demo_source()), Faults::default()),
        target: TestSim::start(None, Faults::default()),
        work: tempfile::tempdir().unwrap(),
    }
}

impl Pair {
    fn diff(&self, format: &str) -> String {
        let out = Tsm::new(self.work.path())
            .logged_in()
            .args(&[
                "diff",
                "--source",
                &self.source.url,
                "--target",
                &self.target.url,
                "--format",
                format,
            ])
            .status(0)
            .stdout(Expect::Any)
            .run();
        let text = stdout(&out);
        assert_no_secrets(format, &text);
        text
    }

    fn normalize(&self, text: &str) -> String {
        normalize(
            text,
            &[&self.source.url, &self.target.url],
            &[self.work.path()],
        )
    }
}

#[test]
fn markdown_and_html_for_the_demo_pair() {
    let p = pair();
    let md = p.diff("markdown");
    // GitHub renders Markdown tables and <details>; nothing may need a terminal.
    assert!(!md.contains('\u{1b}'), "no ANSI in Markdown");
    assert!(
        md.contains("<details><summary><code>+</code> <b>Open in Jira</b>"),
        "{md}"
    );
    assert!(md.contains("| | pointer | old | new |"), "{md}");
    snap!("report_markdown", p.normalize(&md));
    let page = p.diff("html");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    snap!("report_html", p.normalize(&page));
}

/// Every URL the page names: none may point off the page.
#[test]
fn the_html_page_names_no_outside_resource() {
    let p = pair();
    let page = p.diff("html");
    assert!(
        page.contains("Content-Security-Policy") && page.contains("default-src 'none'"),
        "the page forbids every load by policy"
    );
    let attr =
        regex::Regex::new(r#"(?i)\b(src|href|action|srcset|poster|data)\s*=\s*["']?([^"'\s>]+)"#)
            .unwrap();
    for m in attr.captures_iter(&page) {
        let url = &m[2];
        assert!(
            url.starts_with('#'),
            "{} = {url} points off the page",
            &m[1]
        );
    }
    for bad in ["@import", "url(", "<link", "<iframe", "<object", "<embed"] {
        assert!(!page.contains(bad), "the page has {bad}");
    }
}

#[test]
fn show_plan_in_every_format() {
    let p = pair();
    let w = p.work.path();
    let plan = w.join("prod.plan.json");
    Tsm::new(w)
        .logged_in()
        .args(&[
            "plan",
            "--source",
            &p.source.url,
            "--target",
            &p.target.url,
            "--out",
            plan.to_str().unwrap(),
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let show = |format: &str| {
        // Reading a plan needs no cluster and no credentials.
        let out = Tsm::new(w)
            .args(&["show", plan.to_str().unwrap(), "--format", format])
            .status(0)
            .stdout(Expect::Any)
            .run();
        let text = stdout(&out);
        assert_no_secrets(format, &text);
        text
    };
    let text = show("text");
    snap!("show_plan_text", p.normalize(&text));
    let md = show("markdown");
    assert!(
        md.contains(&format!("Plan for <code>{}</code> (Org 0)", p.target.url)),
        "{md}"
    );
    let guards = regex::Regex::new(r"(\d+) guards").unwrap();
    let n: usize = guards.captures(&md).expect("guard count")[1]
        .parse()
        .unwrap();
    let patch: Vec<Value> = serde_json::from_str(&show("patch")).unwrap();
    assert_eq!(
        n,
        patch.iter().filter(|o| o["op"] == "test").count(),
        "the guard count is the patch's test ops"
    );
    assert!(show("html").contains("Open in Jira"));
    let report: Value = serde_json::from_str(&show("json")).unwrap();
    conforms("diff", &report);
    // The plan's report is the diff's: same changes, same notes.
    let direct: Value = serde_json::from_str(&p.diff("json")).unwrap();
    assert_eq!(report["changes"], direct["changes"]);
    assert_eq!(report["notes"], direct["notes"]);
    let summary = show("summary");
    assert!(summary.contains("Open in Jira"), "{summary}");
}

// ---- JSON outputs against their documented schemas ----

fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schemas")
        .join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    closed(&mut schema);
    jsonschema::validator_for(&schema).unwrap()
}

/// The published schemas accept fields added within a version (for
/// consumers); the tests hold our own output to exactly the fields they
/// name: every object they allow more in is closed here.
fn closed(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("additionalProperties") == Some(&Value::Bool(true)) {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            m.values_mut().for_each(closed);
        }
        Value::Array(a) => a.iter_mut().for_each(closed),
        _ => {}
    }
}

#[test]
fn the_published_schemas_accept_fields_added_within_a_version() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas/rollback.schema.json");
    let published: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let doc = json!({
        "format": "tsmigrate-rollback", "version": 1, "target": "t", "journal": "j",
        "result": "nothing-to-undo", "objects": 0, "writes": 0,
        "left_alone": [], "failures": [], "remaining": [], "a_later_field": {"x": 1}
    });
    assert!(jsonschema::validator_for(&published)
        .unwrap()
        .is_valid(&doc));
    assert!(
        !schema("rollback").is_valid(&doc),
        "the tests' closed copy refuses it"
    );
}

/// Fails with every violation listed.
pub fn conforms(name: &str, doc: &Value) {
    let v = schema(name);
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} output breaks docs/schemas/{name}.schema.json:\n{}\n{doc:#}",
        errors.join("\n")
    );
}

#[test]
fn the_schemas_are_not_vacuous() {
    // Each schema rejects what its command must never print.
    assert!(!schema("diff").is_valid(&json!({"format": "tsmigrate-diff", "version": 1})));
    assert!(!schema("validate").is_valid(&json!([{"pointer": "/x"}])));
    assert!(
        !schema("apply").is_valid(&json!({
            "format": "tsmigrate-apply", "version": 1, "source": "s", "target": "t",
            "result": "applied", "config_keys": 1, "created": 0, "updated": 0, "deleted": 0,
            "writes": 1, "seconds": 0.1, "verified": false, "journal": null, "error": null,
            "notes": {"unremovable": [], "kept_without_prune": [], "partly_selected": [],
                      "associations_not_added": [], "unchecked": 0, "secrets_without_value": []}
        })),
        "applied without verification is not a success"
    );
    assert!(
        !schema("rollback").is_valid(&json!({
            "format": "tsmigrate-rollback", "version": 1, "target": "t", "journal": "j",
            "result": "rolled-back", "objects": 1, "writes": 1,
            "left_alone": ["/actions/A"], "failures": [], "remaining": []
        })),
        "rolled back with something left alone is incomplete"
    );
    assert!(!schema("watch").is_valid(&json!({
        "format": "tsmigrate-watch", "version": 1, "time": "yesterday", "cycle": 1,
        "drift": false, "summary": {"config_keys": 0, "actions_create": [], "actions_update": [], "actions_delete": []},
        "pushed": null, "repaired": null, "result": "clean", "error": null
    })));
}

fn json_out(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", stdout(out)))
}

#[test]
fn diff_json_marks_what_needs_prune() {
    let p = pair();
    let w = p.work.path();
    let report: Value = serde_json::from_str(&p.diff("json")).unwrap();
    conforms("diff", &report);
    assert_eq!(
        report["notes"]["kept_without_prune"],
        json!(["Notify owner"])
    );
    let out = compare_in(
        w,
        "diff",
        &p.source.url,
        &p.target.url,
        &["--format", "json", "--prune"],
    );
    let pruned = json_out(&out);
    conforms("diff", &pruned);
    let marked: Vec<&Value> = pruned["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["prune"] == json!(true))
        .collect();
    assert_eq!(marked.len(), 1, "{pruned:#}");
    assert_eq!(marked[0]["pointer"], "/actions/Notify owner");
    assert_eq!(marked[0]["kind"], "remove");
    assert_eq!(pruned["notes"]["kept_without_prune"], json!([]));
}

#[test]
fn validate_json_is_an_array_of_problems() {
    let source = TestSim::start(Some(&demo_source()), Faults::default());
    // The target lacks every worksheet the demo's actions are associated with.
    let mut lacking = example();
    lacking["objects"]
        .as_array_mut()
        .unwrap()
        .retain(|o| o["type"] != "WORKSHEET");
    let target = TestSim::start(Some(&lacking), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let validate = |target: &str, status: i32| {
        let out = Tsm::new(w)
            .logged_in()
            .args(&[
                "validate",
                "--source",
                &source.url,
                "--target",
                target,
                "--format",
                "json",
            ])
            .status(status)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        let problems = json_out(&out);
        conforms("validate", &problems);
        problems
    };
    let problems = validate(&target.url, 1);
    let pointers: Vec<&str> = problems
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pointer"].as_str().unwrap())
        .collect();
    assert!(
        pointers
            .iter()
            .any(|p| p.starts_with("/actions/Open in Jira/actionAssociationMap/WORKSHEET/")),
        "{problems:#}"
    );
    // Against a target with every object: an empty array, exit 0.
    let full = TestSim::start(None, Faults::default());
    assert_eq!(validate(&full.url, 0), json!([]));
}

#[test]
fn apply_json_results() {
    let source = TestSim::start(Some(&example_with_changes()), Faults::default());
    let target = TestSim::start(Some(&example()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let journal = w.join("j.jsonl");
    let apply = |extra: &[&str], status: i32| {
        let mut args = vec![
            "apply",
            "--target",
            target.url.as_str(),
            "--source",
            source.url.as_str(),
            "--yes",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = Tsm::new(w)
            .logged_in()
            .args(&args)
            .status(status)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        let doc = json_out(&out);
        conforms("apply", &doc);
        doc
    };
    let before = target.state();

    let dry = apply(&["--dry-run"], 0);
    assert_eq!(dry["result"], "dry-run");
    assert!(!dry["requests"].as_array().unwrap().is_empty());
    assert_eq!(target.state(), before, "a dry run writes nothing");

    let done = apply(&["--journal", journal.to_str().unwrap()], 0);
    assert_eq!(done["result"], "applied");
    assert_eq!(done["verified"], true);
    assert_eq!(done["updated"], 1);
    assert_eq!(done["config_keys"], 1);
    assert_eq!(
        done["writes"].as_u64().unwrap(),
        target.writes(),
        "the writes counted are the writes the cluster saw"
    );
    assert_converged(w, &source.url, &target.url, &[]);

    let again = apply(&[], 0);
    assert_eq!(again["result"], "unchanged");
    assert_eq!(again["writes"], 0);
    assert!(!journal.exists(), "a verified apply deletes its journal");
}

#[test]
fn not_restored_and_rollback_json_results() {
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
    let before = state_doc(&target);
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
            "--format",
            "json",
        ])
        .status(5)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let failed = json_out(&out);
    conforms("apply", &failed);
    assert_eq!(failed["result"], "not-restored");
    assert!(
        failed["journal"].as_str().unwrap().ends_with("j.jsonl"),
        "{failed:#}"
    );
    target.restart(Faults::default());
    let rollback = |status: i32| {
        let out = Tsm::new(w)
            .logged_in()
            .args(&["rollback", "--journal", "j.jsonl", "--format", "json"])
            .status(status)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        let doc = json_out(&out);
        conforms("rollback", &doc);
        doc
    };
    let undone = rollback(0);
    assert_eq!(undone["result"], "rolled-back");
    assert!(undone["objects"].as_u64().unwrap() > 0, "{undone:#}");
    assert_eq!(
        state_doc(&target),
        before,
        "the target is as before the apply"
    );
    let twice = rollback(0);
    assert_eq!(twice["result"], "nothing-to-undo");
    assert_eq!(twice["writes"], 0);
}

/// The example cluster with one config key and one action changed.
fn example_with_changes() -> Value {
    let mut s = example();
    s["configinfo"]["maxFilterValues"] = json!(4321);
    s["actions"][1]["detail"]["function"] = json!("changed-by-report-test");
    s
}

#[test]
fn a_failed_apply_reports_restored_in_json() {
    let source = TestSim::start(Some(&example_with_changes()), Faults::default());
    let name = source.state()["actions"][1]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let target = TestSim::start(
        Some(&example()),
        Faults {
            reject_actions: vec![name],
            ..Faults::default()
        },
    );
    let work = tempfile::tempdir().unwrap();
    let before = state_doc(&target);
    let out = apply_in(
        work.path(),
        &target,
        &source,
        &["--yes", "--format", "json", "--parallel", "1"],
    );
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let doc = json_out(&out);
    conforms("apply", &doc);
    assert_eq!(doc["result"], "restored");
    assert!(doc["error"].as_str().unwrap().contains("400"), "{doc:#}");
    assert_eq!(state_doc(&target), before, "the target is as before");
}

#[test]
fn watch_json_one_object_per_cycle() {
    let source = TestSim::start(Some(&example_with_changes()), Faults::default());
    let target = TestSim::start(Some(&example()), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let watch = |extra: &[&str], target: &str, status: i32| {
        let mut args = vec![
            "watch",
            "--source",
            source.url.as_str(),
            "--target",
            target,
            "--interval",
            "1h",
            "--cycles",
            "1",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = Tsm::new(w)
            .logged_in()
            .args(&args)
            .status(status)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        let lines: Vec<Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(lines.len(), 1, "one line a cycle: {}", stdout(&out));
        conforms("watch", &lines[0]);
        lines.into_iter().next().unwrap()
    };
    let drift = watch(&[], &target.url, 2);
    assert_eq!(
        (drift["drift"].clone(), drift["result"].clone()),
        (json!(true), json!("drift"))
    );
    assert_eq!(drift["summary"]["config_keys"], 1);
    let repaired = watch(&["--apply"], &target.url, 0);
    assert_eq!(repaired["repaired"], true);
    assert_eq!(repaired["result"], "clean");
    assert_converged(w, &source.url, &target.url, &[]);
    let clean = watch(&[], &target.url, 0);
    assert_eq!(clean["drift"], false);
    // A cluster that does not answer: the cycle failed, exit 6.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let failed = watch(&[], &gone, 6);
    assert_eq!(failed["result"], "failed");
    assert!(failed["error"].as_str().unwrap().contains("127.0.0.1"));
}

// ---- The page in a real browser ----

/// A headless Chromium: $TSMIGRATE_BROWSER, else the first of the usual
/// names on PATH.
fn browser() -> Option<PathBuf> {
    if let Some(b) = std::env::var_os("TSMIGRATE_BROWSER") {
        return Some(PathBuf::from(b));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

/// An HTTP proxy on loopback that answers every request 502 and keeps
/// its first line: the browser is pointed at it for every host, loopback
/// included, so any request the page makes is seen here and none leaves
/// the machine.
struct Trap {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Trap {
    fn start() -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let mut line = String::new();
                let mut reader = BufReader::new(&conn);
                if reader.read_line(&mut line).is_ok() && !line.is_empty() {
                    log.lock().unwrap().push(line.trim_end().to_string());
                }
                let mut conn = &conn;
                let _ = conn.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Trap { port, seen }
    }

    /// What the page asked for: every request but the browser's own
    /// background calls to its vendor (component updates, sign-in, network
    /// time), which no flag turns off in every build.
    fn page_requests(&self) -> Vec<String> {
        const BROWSER_OWN: [&str; 3] = [
            "update.googleapis.com",
            "accounts.google.com",
            "clients2.google.com/time/",
        ];
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|l| !BROWSER_OWN.iter().any(|h| l.contains(h)))
            .cloned()
            .collect()
    }
}

struct Browser {
    bin: PathBuf,
    profile: tempfile::TempDir,
    trap: Trap,
}

impl Browser {
    fn start(bin: PathBuf) -> Browser {
        Browser {
            bin,
            profile: tempfile::tempdir().unwrap(),
            trap: Trap::start(),
        }
    }

    fn run(&self, page: &Path, extra: &[&str]) -> std::process::Output {
        let url = format!("file://{}", page.display());
        let out = Command::new(&self.bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--window-size=1200,900",
                &format!("--user-data-dir={}", self.profile.path().display()),
                &format!("--proxy-server=http://127.0.0.1:{}", self.trap.port),
                // Loopback too goes through the trap.
                "--proxy-bypass-list=<-loopback>",
            ])
            .args(extra)
            .arg(&url)
            .env("HOME", self.profile.path())
            .output()
            .expect("the browser runs");
        assert!(
            out.status.success(),
            "{} failed: {}",
            self.bin.display(),
            stderr(&out)
        );
        out
    }

    fn screenshot(&self, page: &Path, file: &Path, extra: &[&str]) -> Picture {
        let mut args = vec![format!("--screenshot={}", file.display())];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(page, &args);
        Picture::read(file)
    }
}

/// A decoded screenshot, as RGB pixels.
struct Picture {
    width: usize,
    pixels: Vec<[u8; 3]>,
}

impl Picture {
    fn read(file: &Path) -> Picture {
        let decoder = png::Decoder::new(BufReader::new(std::fs::File::open(file).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let step = info.color_type.samples();
        assert!(step >= 3, "a colour screenshot: {:?}", info.color_type);
        let pixels = buf[..info.buffer_size()]
            .chunks(step)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        Picture {
            width: info.width as usize,
            pixels,
        }
    }

    fn luma(p: [u8; 3]) -> f64 {
        0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64
    }

    /// The page's background: its top-left corner.
    fn background(&self) -> f64 {
        Picture::luma(self.pixels[self.width * 4 + 4])
    }

    /// Share of pixels that stand out from the background (text, rules,
    /// coloured cells).
    fn ink(&self) -> f64 {
        let bg = self.background();
        let n = self
            .pixels
            .iter()
            .filter(|p| (Picture::luma(**p) - bg).abs() > 60.0)
            .count();
        n as f64 / self.pixels.len() as f64
    }

    /// Pixels where green clearly leads: added values' cells.
    fn greenish(&self) -> usize {
        self.pixels
            .iter()
            .filter(|p| p[1] as i32 > p[0] as i32 + 12 && p[1] as i32 > p[2] as i32 + 12)
            .count()
    }
}

#[test]
fn the_html_report_in_headless_chromium() {
    let Some(bin) = browser() else {
        if std::env::var_os("TSMIGRATE_REQUIRE_BROWSER").is_some() {
            panic!("TSMIGRATE_REQUIRE_BROWSER is set but no Chromium is on PATH");
        }
        eprintln!(
            "SKIPPED the_html_report_in_headless_chromium: no Chromium on PATH \
             (apt-get install chromium; .ci/run installs it)"
        );
        return;
    };
    let p = pair();
    let w = p.work.path();
    let page = w.join("report.html");
    std::fs::write(&page, p.diff("html")).unwrap();
    let b = Browser::start(bin);

    // The trap sees what a page asks for: a control page with one image
    // from a host that cannot resolve.
    let control = w.join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><p>control</p><img src=\"http://tsmigrate-probe.invalid/x.png\">",
    )
    .unwrap();
    b.run(&control, &["--dump-dom"]);
    assert!(
        b.trap
            .page_requests()
            .iter()
            .any(|l| l.contains("tsmigrate-probe.invalid")),
        "the trap sees page requests: {:?}",
        b.trap.seen.lock().unwrap()
    );
    b.trap.seen.lock().unwrap().clear();

    let dom = stdout(&b.run(&page, &["--dump-dom"]));
    for name in [
        "Open in Jira",
        "Open in CRM",
        "/config/maxFilterValues",
        "/config/samlConfiguration/groupMapping",
        "detail.link",
        "https://crm.example.test/v2/open",
        "Notify owner",
    ] {
        assert!(dom.contains(name), "the DOM lacks {name}:\n{dom}");
    }
    assert_no_secrets("the rendered DOM", &dom);

    let light = b.screenshot(&page, &w.join("light.png"), &[]);
    let dark = b.screenshot(&page, &w.join("dark.png"), &["--force-dark-mode"]);
    assert!(
        light.background() > 200.0,
        "light scheme: light background ({})",
        light.background()
    );
    assert!(
        dark.background() < 60.0,
        "dark scheme: dark background ({})",
        dark.background()
    );
    for (scheme, pic) in [("light", &light), ("dark", &dark)] {
        assert!(
            pic.ink() > 0.01,
            "{scheme}: the page shows text ({:.4} of pixels stand out)",
            pic.ink()
        );
        assert!(
            pic.greenish() > 1000,
            "{scheme}: styles applied (added values on green): {}",
            pic.greenish()
        );
    }
    let asked = b.trap.page_requests();
    assert!(asked.is_empty(), "the page made requests: {asked:?}");
}

#[test]
fn progress_lines_off_a_terminal_while_writing_and_undoing() {
    // A line per write (the interval set to zero), so no test waits.
    let (src, tgt) = bulk(6);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(Some(&tgt), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let out = Tsm::new(work.path())
        .logged_in()
        .env("TSMIGRATE_PROGRESS_EVERY", "0")
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
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let err = stderr(&out);
    let total = target.writes();
    assert!(
        err.contains(&format!("Still writing… 1/{total} writes, ")),
        "{err}"
    );
    assert!(
        err.contains(&format!("Still writing… {total}/{total} writes, ")),
        "{err}"
    );

    // A rejected write: the undo reports its progress too.
    let (src, tgt) = bulk(6);
    let source = TestSim::start(Some(&src), Faults::default());
    let target = TestSim::start(
        Some(&tgt),
        Faults {
            reject_actions: vec!["bulk 005".into()],
            ..Faults::default()
        },
    );
    let out = Tsm::new(work.path())
        .logged_in()
        .env("TSMIGRATE_PROGRESS_EVERY", "0")
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
        .status(4)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let err = stderr(&out);
    assert!(err.contains("Still writing… 1/"), "{err}");
    assert!(err.contains("Still undoing… 1/"), "{err}");

    // A bad interval is bad input, before anything is written.
    let writes = target.writes();
    Tsm::new(work.path())
        .logged_in()
        .env("TSMIGRATE_PROGRESS_EVERY", "soon")
        .args(&[
            "apply",
            "--target",
            &target.url,
            "--source",
            &source.url,
            "--yes",
        ])
        .status(1)
        .stderr_has(&["TSMIGRATE_PROGRESS_EVERY=\"soon\" is not a duration"])
        .run();
    assert_eq!(target.writes(), writes);
}
