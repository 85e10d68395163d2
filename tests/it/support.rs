//! Test support: simulators on 127.0.0.1:0, the tsmigrate binary in a
//! scratch directory, and insta settings for the top-level `snapshots/`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{json, Value};
use tsmigrate::sim::{self, Behaviour, Faults, RunningSim, SimOptions};

pub const BIN: &str = env!("CARGO_BIN_EXE_tsmigrate");
pub const API: &str = "/callosum/v1/tspublic/v1";

/// Distinctive secrets of the example cluster: none may ever be printed.
pub const SECRETS: &[&str] = &[
    "S3CRET-ldap-bind-4f9a1c",
    "S3CRET-oidc-client-8e2b7d",
    "S3CRET-crm-bearer-2c6d0e",
    "S3CRET-header-tenant-91ab",
    "S3CRET-apivalue-notify-5d3e",
    "S3CRET-src-ldap-bind-0b1d",
    "S3CRET-src-crm-bearer-77aa",
];

pub fn example() -> Value {
    serde_json::from_str(include_str!("../../fixtures/example-cluster.json")).unwrap()
}

pub fn demo_source() -> Value {
    serde_json::from_str(include_str!("../../fixtures/demo-source.json")).unwrap()
}

/// A simulator served by its own runtime in this process.
pub struct TestSim {
    pub rt: tokio::runtime::Runtime,
    pub running: Option<RunningSim>,
    pub dir: tempfile::TempDir,
    pub state_file: PathBuf,
    pub url: String,
    pub opts: SimOptions,
}

impl TestSim {
    pub fn start(state: Option<&Value>, faults: Faults) -> TestSim {
        Self::start_with(state, faults, Behaviour::default())
    }

    /// A simulator that behaves as `behaviour` says where the docs are open.
    pub fn start_with(state: Option<&Value>, faults: Faults, behaviour: Behaviour) -> TestSim {
        let dir = tempfile::tempdir().unwrap();
        let state_file = dir.path().join("state.json");
        if let Some(s) = state {
            std::fs::write(&state_file, serde_json::to_vec_pretty(s).unwrap()).unwrap();
        }
        let mut opts = SimOptions::new(&state_file);
        opts.faults = faults;
        opts.behaviour = behaviour;
        opts.token = Some("test-token".into());
        Self::with_options(dir, state_file, opts)
    }

    pub fn running(&self) -> &RunningSim {
        self.running.as_ref().expect("the simulator is running")
    }

    pub fn with_options(dir: tempfile::TempDir, state_file: PathBuf, opts: SimOptions) -> TestSim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let running = rt.block_on(sim::start(opts.clone())).unwrap();
        let url = running.base_url();
        TestSim {
            rt,
            running: Some(running),
            dir,
            state_file,
            url,
            opts,
        }
    }

    /// Stops and starts again on the same state file (a restart).
    pub fn restart(&mut self, faults: Faults) {
        if let Some(r) = self.running.take() {
            self.rt.block_on(r.stop());
        }
        let mut opts = self.opts.clone();
        opts.faults = faults;
        opts.listen = self.running_addr();
        let running = self.rt.block_on(sim::start(opts)).unwrap();
        self.url = running.base_url();
        self.running = Some(running);
    }

    fn running_addr(&self) -> std::net::SocketAddr {
        self.url.trim_start_matches("http://").parse().unwrap()
    }

    /// The cluster's stored state: the state file and the changes logged
    /// since it was written (what a restarted simulator would serve).
    pub fn state(&self) -> Value {
        serde_json::to_value(sim::load_state(&self.state_file).unwrap()).unwrap()
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}{API}{path}", self.url)
    }

    /// Writes the simulator received (refused ones too).
    pub fn writes(&self) -> u64 {
        self.running.as_ref().map_or(0, |r| r.writes_seen())
    }

    /// Logins the simulator accepted.
    pub fn logins(&self) -> u64 {
        self.running.as_ref().map_or(0, |r| r.logins_seen())
    }

    /// Requests the simulator received, of any kind.
    pub fn requests_seen(&self) -> u64 {
        self.running.as_ref().map_or(0, |r| r.requests_seen())
    }

    /// REST v2 tokens the simulator minted that still work.
    pub fn live_tokens(&self) -> usize {
        self.running.as_ref().map_or(0, |r| r.live_tokens())
    }

    /// Sessions open on the simulator now.
    pub fn open_sessions(&self) -> usize {
        self.running.as_ref().map_or(0, |r| r.open_sessions())
    }
}

/// A simulator as a child process (`tsmigrate sim`), for kill tests.
pub struct ChildSim {
    pub child: Child,
    pub url: String,
}

impl ChildSim {
    pub fn spawn(state_file: &Path, extra: &[&str]) -> ChildSim {
        let mut child = Command::new(BIN)
            .args(["sim", "--state"])
            .arg(state_file)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("first line names the address")
            .to_string();
        ChildSim { child, url }
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs tsmigrate in `cwd` with the simulator's default credentials, in
/// the hermetic environment of `Tsm` (streams are the caller's to check).
pub fn tsm_in(cwd: &Path, args: &[&str]) -> Output {
    Tsm::new(cwd).args(args).logged_in().output()
}

/// What a stream must hold.
#[derive(Debug, Clone)]
pub enum Expect {
    Empty,
    Exact(String),
    /// Every piece, in any order.
    Contains(Vec<String>),
    /// Anything (say why in the test): e.g. timings.
    Any,
}

/// A tsmigrate run that states everything (as casey/just's tests do): the
/// exit code, stdout and stderr; a stream not stated must be empty. The
/// environment is cleared: no TS_*, no TSMIGRATE_* but
/// TSMIGRATE_ALLOW_PROTECTED, HOME and the state directory inside the
/// scratch directory.
pub struct Tsm {
    cmd: Command,
    status: Option<i32>,
    stdout: Expect,
    stderr: Expect,
}

/// The tsmigrate binary in `cwd`, in the hermetic environment `Tsm` runs
/// it in: for tests that spawn it themselves (signals, streamed output).
/// Journals and locks go under `cwd`, never into the real home.
pub fn command(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd.join(".home"))
        .env("XDG_STATE_HOME", cwd.join(".state"))
        .env("TSMIGRATE_RETRY_BASE_MS", "2")
        // The end-to-end tests migrate the demo's identity, directory and
        // mail settings: protected settings are allowed here, and refused
        // where they are the subject (`protected.rs` unsets this).
        .env("TSMIGRATE_ALLOW_PROTECTED", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

impl Tsm {
    pub fn new(cwd: &Path) -> Tsm {
        Tsm {
            cmd: command(cwd),
            status: None,
            stdout: Expect::Empty,
            stderr: Expect::Empty,
        }
    }

    pub fn args(mut self, args: &[&str]) -> Tsm {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Tsm {
        self.cmd.env(key, value);
        self
    }

    pub fn unset(mut self, key: &str) -> Tsm {
        self.cmd.env_remove(key);
        self
    }

    /// The simulators' default credentials, as TS_USERNAME/TS_PASSWORD.
    pub fn logged_in(self) -> Tsm {
        self.env("TS_USERNAME", "admin").env("TS_PASSWORD", "admin")
    }

    pub fn status(mut self, code: i32) -> Tsm {
        self.status = Some(code);
        self
    }

    pub fn stdout(mut self, e: Expect) -> Tsm {
        self.stdout = e;
        self
    }

    pub fn stderr(mut self, e: Expect) -> Tsm {
        self.stderr = e;
        self
    }

    pub fn stdout_has(self, pieces: &[&str]) -> Tsm {
        self.stdout(Expect::Contains(
            pieces.iter().map(|s| s.to_string()).collect(),
        ))
    }

    pub fn stderr_has(self, pieces: &[&str]) -> Tsm {
        self.stderr(Expect::Contains(
            pieces.iter().map(|s| s.to_string()).collect(),
        ))
    }

    /// `bash SCRIPT` in this run's directory and hermetic environment (for
    /// the CI scripts, which call tsmigrate themselves).
    pub fn into_bash(self, script: &Path) -> Command {
        let mut cmd = Command::new("bash");
        cmd.arg(script).env_clear().stdin(Stdio::null());
        if let Some(dir) = self.cmd.get_current_dir() {
            cmd.current_dir(dir);
        }
        for (k, v) in self.cmd.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd
    }

    /// The command, for a caller that runs it as a child (to signal it).
    pub fn into_command(self) -> Command {
        self.cmd
    }

    /// Runs without checking (for the older helpers).
    pub fn output(mut self) -> Output {
        self.cmd.output().unwrap()
    }

    /// Runs and checks the status and both streams; returns the output.
    pub fn run(mut self) -> Output {
        let out = self.cmd.output().unwrap();
        let (so, se) = (stdout(&out), stderr(&out));
        let context = format!(
            "status {:?}\n--- stdout\n{so}\n--- stderr\n{se}",
            out.status.code()
        );
        let want = self.status.expect("a Tsm test states the exit code");
        assert_eq!(code(&out), want, "{context}");
        check("stdout", &self.stdout, &so, &context);
        check("stderr", &self.stderr, &se, &context);
        out
    }
}

fn check(name: &str, e: &Expect, got: &str, context: &str) {
    match e {
        Expect::Empty => assert!(got.is_empty(), "{name} should be empty\n{context}"),
        Expect::Exact(want) => assert_eq!(got, want, "{name}\n{context}"),
        Expect::Contains(pieces) => {
            for p in pieces {
                assert!(got.contains(p.as_str()), "{name} lacks {p:?}\n{context}");
            }
        }
        Expect::Any => {}
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Asserts that no distinctive secret appears in `text`.
pub fn assert_no_secrets(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} leaks the secret {s}:\n{text}");
    }
}

/// Every file under `dir`, concatenated (for leak checks).
pub fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    for entry in walk(dir) {
        out.push_str(&String::from_utf8_lossy(&std::fs::read(&entry).unwrap()));
    }
    out
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Replaces loopback URLs and temp paths so snapshots are stable.
pub fn normalize(text: &str, sims: &[&str], dirs: &[&Path]) -> String {
    let mut out = text.to_string();
    for (i, url) in sims.iter().enumerate() {
        out = out.replace(url, &format!("http://SIM{i}"));
    }
    for d in dirs {
        out = out.replace(&d.display().to_string(), "[TMP]");
    }
    let re = regex::Regex::new(r"in \d+\.\d\ds").unwrap();
    let out = re.replace_all(&out, "in [T]s").into_owned();
    let time = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    time.replace_all(&out, "[TIME]").into_owned()
}

#[macro_export]
macro_rules! snap {
    ($name:expr, $value:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!($name, $value));
    }};
}

/// A blocking HTTP client with the cookie jar a browser or curl would keep.
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .build()
        .unwrap()
}

pub fn login(c: &reqwest::blocking::Client, sim: &TestSim) {
    login_at(c, &sim.url);
}

/// The v1 API address of `path` on the simulator at `url`.
pub fn api_at(url: &str, path: &str) -> String {
    format!("{url}{API}{path}")
}

/// `login` by the simulator's address (where the `TestSim` is not at hand).
pub fn login_at(c: &reqwest::blocking::Client, url: &str) {
    let r = c
        .post(api_at(url, "/session/login"))
        .header("X-Requested-By", "ThoughtSpot")
        .form(&[
            ("username", "admin"),
            ("password", "admin"),
            ("rememberme", "true"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
}

/// `tsmigrate apply --target TARGET --source SOURCE --yes` in `dir`,
/// logged in, for the caller to state its outcome.
pub fn apply_yes(dir: &Path, target: &str, source: &str) -> Tsm {
    Tsm::new(dir)
        .logged_in()
        .args(&["apply", "--target", target, "--source", source, "--yes"])
}

/// `tsmigrate apply --target TARGET --source SOURCE EXTRA…` in `dir`.
pub fn apply_in(dir: &Path, target: &TestSim, source: &TestSim, extra: &[&str]) -> Output {
    let mut args = vec![
        "apply",
        "--target",
        target.url.as_str(),
        "--source",
        source.url.as_str(),
    ];
    args.extend_from_slice(extra);
    tsm_in(dir, &args)
}

/// `tsmigrate VERB --source SOURCE --target TARGET EXTRA…` in `dir`
/// (diff, plan, validate).
pub fn compare_in(dir: &Path, verb: &str, source: &str, target: &str, extra: &[&str]) -> Output {
    let mut args = vec![verb, "--source", source, "--target", target];
    args.extend_from_slice(extra);
    tsm_in(dir, &args)
}

/// A source and target with `n` actions that differ in one field each.
pub fn bulk(n: usize) -> (Value, Value) {
    let mut target = example();
    let template = target["actions"][1].clone();
    for i in 0..n {
        let mut a = template.clone();
        a["name"] = json!(format!("bulk {i:03}"));
        a["id"] = json!(format!("00000000-0000-4000-8000-{i:012}"));
        target["actions"].as_array_mut().unwrap().push(a);
    }
    let mut source = target.clone();
    for a in source["actions"].as_array_mut().unwrap().iter_mut().skip(3) {
        a["detail"]["function"] = json!("changed");
        a["id"] = json!(a["id"].as_str().unwrap().replace("00000000", "11111111"));
    }
    source["configinfo"]["maxFilterValues"] = json!(1234);
    (source, target)
}

/// The cluster as the tool sees it: actions sorted by name, GUIDs aside
/// (an undone delete comes back under a new one).
pub fn state_doc(sim: &TestSim) -> Value {
    // The cluster as the tool sees it, ids aside.
    let mut s = sim.state();
    for a in s["actions"].as_array_mut().unwrap() {
        a.as_object_mut().unwrap().remove("id");
    }
    s["actions"]
        .as_array_mut()
        .unwrap()
        .sort_by_key(|a| a["name"].as_str().unwrap().to_string());
    s
}

/// After a successful apply, `diff --exit-code` with the same flags finds
/// nothing apply would write: exit 0.
pub fn assert_converged(dir: &Path, source: &str, target: &str, flags: &[&str]) {
    let mut args = vec![
        "diff",
        "--source",
        source,
        "--target",
        target,
        "--exit-code",
    ];
    args.extend_from_slice(flags);
    let out = Tsm::new(dir).logged_in().args(&args).output();
    assert_eq!(
        code(&out),
        0,
        "diff {flags:?} after the apply:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

impl TestSim {
    /// A simulator serving `api` (v1, v2 or both), with the v2 switches.
    pub fn start_api(
        state: Option<&Value>,
        faults: Faults,
        behaviour: Behaviour,
        api: tsmigrate::sim::ApiChoice,
        v2: tsmigrate::sim::V2Behaviour,
    ) -> TestSim {
        let dir = tempfile::tempdir().unwrap();
        let state_file = dir.path().join("state.json");
        if let Some(s) = state {
            std::fs::write(&state_file, serde_json::to_vec_pretty(s).unwrap()).unwrap();
        }
        let mut opts = SimOptions::new(&state_file);
        opts.faults = faults;
        opts.behaviour = behaviour;
        opts.api = api;
        opts.v2 = v2;
        opts.token = Some("test-token".into());
        Self::with_options(dir, state_file, opts)
    }
}
