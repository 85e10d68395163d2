//! The whole promise, tested at random (issue 29): seeded sequences of
//! `apply --target-org`, `rollout --all-orgs`, `watch --apply --cycles 1`
//! and `rollback` against a three-Org simulator (behind a fault proxy),
//! under expiring sessions, latency, another session of the same user
//! switching Orgs, lost answers and SIGINT. After every step the stored
//! state of each Org is compared with a model that follows from the exit
//! code alone:
//! - nothing is written outside the Org(s) the step was for;
//! - 0: each Org written holds the source's actions (by name, GUIDs aside;
//!   without --prune its own stay) and the config is the source's;
//! - 4 (watch: 2 without a journal): each Org is as before the step;
//! - 5 (watch: 2 with a journal): a journal is printed, and
//!   `rollback --journal J`, run as the next step, brings back the state
//!   before; a rollout says per Org (its JSON rows) which of these it is.
//!
//! Environment (a failure prints the seed, its steps and the line that
//! replays it: the same steps under the same conditions; where the
//! outcome hangs on timing, as with a competing session or a signal, it
//! may fail at another step or pass):
//! - `TSMIGRATE_MODEL_SEED=N`: run this seed only (default: random seeds
//!   until the time budget is spent);
//! - `TSMIGRATE_MODEL_STEPS=N`: planned steps per seed (default 8; the
//!   rollbacks a step needs come on top);
//! - `TSMIGRATE_MODEL_SECS=N`: no new seed (nor planned step of a later
//!   seed) starts after N seconds (default 45, so that CI stays near a
//!   minute; `scripts/model-test.sh` runs longer);
//! - `TSMIGRATE_MODEL_ONLY=f,g,...`: draw only these features;
//!   `TSMIGRATE_MODEL_OFF=f,g,...`: never draw these. Features: the steps
//!   `apply`, `rollout`, `watch`, and `canary0` (a rollout with
//!   `--canary 0`: every Org at once); the conditions `ttl` (sessions expire
//!   after 250 ms-1.2 s), `latency`, `competitor` (another session of the
//!   user switches Orgs), `lost` (the answer of one write is lost),
//!   `sigint`, `prune`; the simulator behaviours `per-session`, `per-user`
//!   (`--org-per-user`), `new-session` (`--switch-new-session`). Every
//!   feature is drawn by default: when this test was written the tool
//!   failed with `ttl`, `competitor`, `per-user`, `new-session` and
//!   `canary0` (the faults of issue 29); with them fixed, 86 seeds of
//!   every feature passed in 240 s (`scripts/model-test.sh`, SECS=240);
//! - `TSMIGRATE_MODEL_KEEP_GOING=1`: after a failing seed go on with the
//!   next; all failures are listed at the end;
//! - `TSMIGRATE_MODEL_SAFETY_ONLY=1`: accept a failed step (4, 5) even
//!   where nothing excuses it. By default a step without SIGINT and
//!   without a competing session must succeed: expiring sessions and lost
//!   answers are faults the tool promises to survive.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Map, Value};
use tsmigrate::sim::{Behaviour, Faults};

use crate::org_races::Competitor;
use crate::orgs::{actions_of, three_orgs, MARKETING, SALES};
use crate::proxy::{Fault, FaultProxy, Rule};
use crate::support::*;

const ORGS: [i64; 3] = [0, MARKETING, SALES];
const ORG_NAMES: [&str; 3] = ["Primary", "Marketing", "Sales"];

/// Objects every Org of `three_orgs()` holds, for associations that
/// resolve wherever an action goes.
const ANSWERS: [&str; 2] = [
    "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35",
    "0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62",
];
const WORKSHEET: &str = "8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02";
const GROUP: &str = "b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04";
const POSITIONS: [&str; 3] = ["MENU", "PRIMARY", "CONTEXT_MENU"];

/// Name stems in several scripts; NFC "Café" and NFD "Café" are two
/// actions, and `/` and `~` need escaping in a JSON Pointer.
const STEMS: [&str; 10] = [
    "Rüstung 日本",
    "Café",
    "Cafe\u{301}",
    "Ελληνικά",
    "中文 动作",
    "Ñandú",
    "עברית",
    "Start 🚀",
    "Pfad/mit ~Tilde",
    "Zitat \"x\"",
];

/// A tool run that takes longer is hung: killed, and the seed fails.
const STEP_DEADLINE: Duration = Duration::from_secs(90);

const FEATURES: [&str; 13] = [
    "apply",
    "rollout",
    "watch",
    "canary0",
    "ttl",
    "latency",
    "competitor",
    "lost",
    "sigint",
    "prune",
    "per-session",
    "per-user",
    "new-session",
];

/// The run's bounds and the features it may draw (see the module's docs).
struct Settings {
    seed: Option<u64>,
    steps: usize,
    budget: Duration,
    keep_going: bool,
    /// Whether a step without SIGINT and without a competing session must
    /// succeed (the other faults are ones the tool promises to survive).
    liveness: bool,
    features: BTreeSet<&'static str>,
    /// The switches as given, for the replay line.
    given: Vec<String>,
}

impl Settings {
    fn from_env() -> Settings {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let num = |k: &str| {
            var(k).map(|v| {
                v.trim()
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("{k}={v:?} is not a number"))
            })
        };
        let list = |k: &str| -> Option<Vec<String>> {
            let v = var(k)?;
            let names: Vec<String> = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            for n in &names {
                assert!(
                    FEATURES.contains(&n.as_str()),
                    "{k}: {n:?} is not a feature; the features are {FEATURES:?}"
                );
            }
            Some(names)
        };
        let mut features: BTreeSet<&'static str> = FEATURES.into_iter().collect();
        let mut given = Vec::new();
        if let Some(only) = list("TSMIGRATE_MODEL_ONLY") {
            features.retain(|f| only.iter().any(|o| o == f));
            given.push(format!("TSMIGRATE_MODEL_ONLY={}", only.join(",")));
        }
        if let Some(off) = list("TSMIGRATE_MODEL_OFF") {
            features.retain(|f| !off.iter().any(|o| o == f));
            given.push(format!("TSMIGRATE_MODEL_OFF={}", off.join(",")));
        }
        let has = |group: &[&str]| group.iter().any(|f| features.contains(f));
        assert!(
            has(&["apply", "rollout", "watch"]),
            "no step left to draw: keep one of apply, rollout, watch"
        );
        assert!(
            has(&["per-session", "per-user", "new-session"]),
            "no simulator behaviour left: keep one of per-session, per-user, new-session"
        );
        let steps = num("TSMIGRATE_MODEL_STEPS").unwrap_or(8) as usize;
        if steps != 8 {
            given.push(format!("TSMIGRATE_MODEL_STEPS={steps}"));
        }
        if var("TSMIGRATE_MODEL_SAFETY_ONLY").is_some_and(|v| v != "0") {
            given.push("TSMIGRATE_MODEL_SAFETY_ONLY=1".into());
        }
        Settings {
            seed: num("TSMIGRATE_MODEL_SEED"),
            steps,
            budget: Duration::from_secs(num("TSMIGRATE_MODEL_SECS").unwrap_or(45)),
            keep_going: var("TSMIGRATE_MODEL_KEEP_GOING").is_some_and(|v| v != "0"),
            liveness: var("TSMIGRATE_MODEL_SAFETY_ONLY").is_none_or(|v| v == "0"),
            features,
            given,
        }
    }

    fn on(&self, feature: &str) -> bool {
        self.features.contains(feature)
    }

    fn replay(&self, seed: u64) -> String {
        let mut line = format!("TSMIGRATE_MODEL_SEED={seed}");
        for g in &self.given {
            line.push(' ');
            line.push_str(g);
        }
        line + " cargo test --test it model::"
    }
}

/// SplitMix64: a seed gives the same steps on every machine and with any
/// version of the rand crate, so that a printed seed replays.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The stream of one step: the same whatever earlier steps returned
    /// (a rollback after an exit 5 does not shift later plans).
    fn for_step(seed: u64, step: usize, salt: u64) -> Rng {
        let mut r = Rng(seed ^ (step as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407) ^ salt);
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// `n` distinct items, in a random order.
    fn sample<T: Clone>(&mut self, items: &[T], n: usize) -> Vec<T> {
        let mut left: Vec<T> = items.to_vec();
        let mut out = Vec::new();
        while out.len() < n && !left.is_empty() {
            out.push(left.remove(self.below(left.len())));
        }
        out
    }
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    Rng::new(nanos ^ u64::from(std::process::id()) << 32).next()
}

// ---- clusters ----

/// GUIDs unique within a run.
struct Ids(u64);

impl Ids {
    fn next(&mut self, tag: u32) -> String {
        self.0 += 1;
        format!("{tag:08x}-0000-4000-8000-{:012x}", self.0)
    }
}

/// Every name a source may give an action: each stem twice.
fn pool() -> Vec<String> {
    STEMS
        .iter()
        .flat_map(|s| [format!("{s} 0"), format!("{s} 1")])
        .collect()
}

/// An action with random content (no secrets: any source may carry it)
/// and associations to objects every Org has.
fn action(rng: &mut Rng, ids: &mut Ids, name: &str) -> Value {
    let mut assoc = Map::new();
    let entry = |rng: &mut Rng| json!({"enabled": rng.pick(&["true", "false"]), "context": rng.pick(&POSITIONS)});
    let mut answers = Map::new();
    for a in ANSWERS {
        if rng.chance(40) {
            answers.insert(a.to_string(), entry(rng));
        }
    }
    if !answers.is_empty() {
        assoc.insert("ANSWER".into(), Value::Object(answers));
    }
    if rng.chance(35) {
        assoc.insert("WORKSHEET".into(), json!({ WORKSHEET: entry(rng) }));
    }
    let function = format!(
        "{}-{}",
        rng.pick(&["ƒ", "fn", "関数", "λ"]),
        rng.below(1000)
    );
    let app = rng.chance(50);
    let mut detail = json!({
        "additionalUrlHeaders": "{}",
        "encodeUser": "",
        "apiKey": "X-API-KEY",
        "apiValue": "",
        "function": function,
        "authToken": "",
        "link": "",
        "authSelect": "NONE",
    });
    if app {
        detail["appActionType"] = json!("SLACK");
    }
    json!({
        "id": ids.next(0x5eed),
        "name": name,
        "version": "v4",
        "type": if app { "APP" } else { "CALLBACK" },
        "detail": detail,
        "actionAssociationMap": assoc,
        "context": "NONE",
        "availability": if rng.chance(50) { json!(["GLOBAL"]) } else { json!([]) },
        "application": "NONE",
        "userGroupList": if rng.chance(25) { json!([GROUP]) } else { json!([]) },
    })
}

/// The example's config with the keys a source may change set at random
/// (none of them an identity provider's or another protected one).
fn config(rng: &mut Rng) -> Value {
    let mut c = example()["configinfo"].clone();
    c["maxFilterValues"] = json!(1000 + rng.below(9000));
    c["defaultChartDataSize"] = json!(rng.pick(&[1000, 2500, 5000, 7500]));
    c["enablePendo"] = json!(rng.chance(50));
    c["disableFeedback"] = json!(rng.chance(50));
    c
}

fn push_actions(state: &mut Value, rng: &mut Rng, ids: &mut Ids, names: &[String]) {
    let list = state["actions"]
        .as_array_mut()
        .expect("a state has actions");
    for n in names {
        let a = action(rng, ids, n);
        list.push(a);
    }
}

/// The target: `three_orgs()` where each Org also has actions of its own
/// and some named as a source names them, with other content.
fn target_state(rng: &mut Rng, ids: &mut Ids) -> Value {
    let mut s = three_orgs();
    let pool = pool();
    for (i, org) in ORGS.iter().enumerate() {
        let mut names: Vec<String> = (0..2 + rng.below(3))
            .map(|k| format!("{} eigene Aktion {k}", ORG_NAMES[i]))
            .collect();
        names.extend(rng.sample(&pool, 3));
        let extra: Vec<Value> = names.iter().map(|n| action(rng, ids, n)).collect();
        let list = if *org == 0 {
            &mut s["actions"]
        } else {
            &mut s["orgs"][i - 1]["actions"]
        };
        list.as_array_mut()
            .expect("an Org has actions")
            .extend(extra);
    }
    s
}

/// The source clusters (each one Org), by the name steps are logged with.
fn source_states(rng: &mut Rng, ids: &mut Ids) -> Vec<(&'static str, Value)> {
    let pool = pool();
    // The example's actions and a dozen new ones.
    let mut new = example();
    new["configinfo"] = config(rng);
    let count = 10 + rng.below(5);
    let names = rng.sample(&pool, count);
    push_actions(&mut new, rng, ids, &names);

    // The example's actions changed: fields, associations added and
    // dropped, a user group; and a few new ones.
    let mut changed = example();
    changed["configinfo"] = config(rng);
    {
        let list = changed["actions"].as_array_mut().expect("example actions");
        list[0]["detail"]["function"] = json!("open-in-crm-ü2");
        list[0]["actionAssociationMap"]["ANSWER"][ANSWERS[1]] =
            json!({"enabled": "true", "context": "PRIMARY"});
        list[1]["availability"] = json!([]);
        list[1]["userGroupList"] = json!([GROUP]);
        list[1]["actionAssociationMap"] =
            json!({"WORKSHEET": {WORKSHEET: {"enabled": "true", "context": "MENU"}}});
        list[2]["actionAssociationMap"] = json!({});
        list[2]["detail"]["function"] = json!("notify-owner-→");
    }
    let names = rng.sample(&pool, 4);
    push_actions(&mut changed, rng, ids, &names);

    // Pool names only (with other content), without "Send to Slack".
    let mut mixed = example();
    mixed["configinfo"] = config(rng);
    mixed["actions"]
        .as_array_mut()
        .expect("example actions")
        .retain(|a| a["name"] != "Send to Slack");
    let names = rng.sample(&pool, 8);
    push_actions(&mut mixed, rng, ids, &names);

    // For a snapshot directory: the example's actions without secrets
    // (an unresolved placeholder would refuse the create) and new ones.
    let mut snap = example();
    snap["configinfo"] = config(rng);
    for a in snap["actions"].as_array_mut().expect("example actions") {
        a["detail"]["authToken"] = json!("");
        a["detail"]["apiValue"] = json!("");
        a["detail"]["additionalUrlHeaders"] = json!("{}");
        if a["detail"]["authSelect"] != "NONE" {
            a["detail"]["authSelect"] = json!("NONE");
        }
    }
    let names = rng.sample(&pool, 6);
    push_actions(&mut snap, rng, ids, &names);

    vec![
        ("new", new),
        ("changed", changed),
        ("mixed", mixed),
        ("snapshot", snap),
    ]
}

/// One source: what a step names, and what it holds.
struct Source {
    name: &'static str,
    reference: String,
    actions: Value,
    config: Value,
    _sim: TestSim,
}

// ---- the model ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Org(i64),
    Config,
}

/// What the stored state must be.
#[derive(Debug, Clone)]
struct Model {
    /// Each Org's actions by name, without GUIDs: what it may hold (one
    /// value; two where the exit code leaves open whether the Org was
    /// written, as when a second SIGINT ends a rollout before its rows),
    /// or for an Org a journal is pending for, what its rollback restores.
    actions: BTreeMap<i64, Vec<Value>>,
    config: Vec<Value>,
    /// Journals of exit 5, and what each may have left half-written.
    pending: Vec<(PathBuf, Vec<Scope>)>,
}

impl Model {
    fn of(state: &Value) -> Model {
        Model {
            actions: ORGS
                .iter()
                .map(|o| (*o, vec![actions_of(state, *o)]))
                .collect(),
            config: vec![state["configinfo"].clone()],
            pending: Vec::new(),
        }
    }

    fn is_pending(&self, scope: Scope) -> bool {
        self.pending.iter().any(|(_, s)| s.contains(&scope))
    }

    /// What `org` holds once `source` is written to it.
    fn written(&self, org: i64, source: &Source, prune: bool) -> Value {
        if prune {
            return source.actions.clone();
        }
        // Checked after every step: one value.
        let mut want = self.actions[&org][0]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (name, a) in source.actions.as_object().into_iter().flatten() {
            want.insert(name.clone(), a.clone());
        }
        Value::Object(want)
    }

    /// The step wrote `source` to `org` (and, if it owns it, the config).
    fn applied(&mut self, org: i64, source: &Source, prune: bool, config: bool) {
        let want = self.written(org, source, prune);
        self.actions.insert(org, vec![want]);
        if config {
            self.config = vec![source.config.clone()];
        }
    }

    /// The step may or may not have written `source` to `org`, whole.
    fn maybe_applied(&mut self, org: i64, source: &Source, prune: bool, config: bool) {
        let want = self.written(org, source, prune);
        if let Some(c) = self.actions.get_mut(&org) {
            c.push(want);
        }
        if config {
            self.config.push(source.config.clone());
        }
    }

    fn leave(&mut self, journal: PathBuf, scopes: Vec<Scope>) -> Result<(), String> {
        if !journal.is_file() {
            return Err(format!(
                "the journal {} it names does not exist",
                journal.display()
            ));
        }
        self.pending.push((journal, scopes));
        Ok(())
    }

    /// Every Org and the config as the model says (what is pending aside);
    /// where two values were possible, the one found is kept. With
    /// `lost_create_strays`, an action of the source's name found in an
    /// Org that should not have it is the known limit (README, "Every
    /// write in its Org"): a create whose answer was lost (or whose
    /// process a second signal ended) while another session moved the
    /// user's Org may be served there with no GUID to find it by. It is
    /// taken out of that Org before the comparison.
    fn check(
        &mut self,
        state: &Value,
        source: Option<&Source>,
        lost_create_strays: bool,
    ) -> Result<(), String> {
        let mut problems = Vec::new();
        for (i, org) in ORGS.iter().enumerate() {
            if self.is_pending(Scope::Org(*org)) {
                continue;
            }
            let stored = actions_of(state, *org);
            let mut got = stored.clone();
            if let (true, Some(s), Some(found)) = (lost_create_strays, source, got.as_object_mut())
            {
                // Known: the Org had it before the step (the first
                // candidate; a later one is the step's writing).
                let known = |n: &String| {
                    self.actions[org]
                        .first()
                        .is_some_and(|w| w.get(n).is_some())
                };
                found.retain(|n, _| s.actions.get(n.as_str()).is_none() || known(n));
            }
            let want = &self.actions[org];
            if want.contains(&got) {
                // The Org as stored, an excused stray included: the next
                // steps start from it. A stray whose GUID a pending journal
                // holds is removed by that journal's rollback (as the
                // README says): until then either is right.
                let keep = if got != stored && !self.pending.is_empty() {
                    vec![stored, got]
                } else {
                    vec![stored]
                };
                self.actions.insert(*org, keep);
                continue;
            }
            let either = match want.len() {
                1 => String::new(),
                _ => " (as before the step, and as written, differ: either was right)".into(),
            };
            problems.push(format!(
                "Org {} ({org}): {}{either}",
                ORG_NAMES[i],
                describe(&got, want.last().unwrap_or(&Value::Null), source)
            ));
        }
        let config = &state["configinfo"];
        if !self.is_pending(Scope::Config) {
            if self.config.contains(config) {
                self.config = vec![config.clone()];
            } else {
                let mut at = Vec::new();
                let want = self.config.last().unwrap_or(&Value::Null);
                differences(config, want, "/config", &mut at);
                problems.push(format!("config differs at {}", at.join(", ")));
            }
        }
        match problems.is_empty() {
            true => Ok(()),
            false => Err(problems.join("\n")),
        }
    }
}

/// Up to five JSON Pointers where two values differ.
fn differences(got: &Value, want: &Value, at: &str, out: &mut Vec<String>) {
    if out.len() >= 5 || got == want {
        return;
    }
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let keys: BTreeSet<&String> = g.keys().chain(w.keys()).collect();
            for k in keys {
                let next = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (g.get(k), w.get(k)) {
                    (Some(a), Some(b)) => differences(a, b, &next, out),
                    (Some(a), None) => out.push(format!("{next} is {a} (should be absent)")),
                    (None, Some(b)) => out.push(format!("{next} is absent (should be {b})")),
                    (None, None) => {}
                }
                if out.len() >= 5 {
                    return;
                }
            }
        }
        _ => out.push(format!("{at} is {got} (should be {want})")),
    }
}

/// What is wrong with an Org's actions, naming those that came from the
/// step's source (written where they do not belong).
fn describe(got: &Value, want: &Value, source: Option<&Source>) -> String {
    let names = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect()
    };
    let (g, w) = (names(got), names(want));
    let from_source =
        |n: &String| source.is_some_and(|s| s.actions.get(n.as_str()) == got.get(n.as_str()));
    let mut out = Vec::new();
    let stray: Vec<&String> = g.difference(&w).collect();
    if !stray.is_empty() {
        let written = stray.iter().filter(|n| from_source(n)).count();
        out.push(format!(
            "{} stray action(s) {:?} ({written} as the step's source has them)",
            stray.len(),
            stray.iter().take(4).collect::<Vec<_>>()
        ));
    }
    let missing: Vec<&String> = w.difference(&g).collect();
    if !missing.is_empty() {
        out.push(format!(
            "{} missing {:?}",
            missing.len(),
            missing.iter().take(4).collect::<Vec<_>>()
        ));
    }
    let changed: Vec<&String> = g.intersection(&w).filter(|n| got[*n] != want[*n]).collect();
    if !changed.is_empty() {
        let mut at = Vec::new();
        for n in &changed {
            differences(&got[*n], &want[*n], &format!("/actions/{n}"), &mut at);
        }
        let written = changed.iter().filter(|n| from_source(n)).count();
        out.push(format!(
            "{} differ ({written} as the step's source has them): {}",
            changed.len(),
            at.join(", ")
        ));
    }
    out.join("; ")
}

// ---- steps ----

#[derive(Debug, Clone, Copy)]
enum Kind {
    Apply {
        org: usize,
        parallel: u8,
    },
    Rollout {
        parallel_targets: u8,
        parallel: u8,
        canary0: bool,
    },
    Watch {
        org: usize,
    },
}

/// The faults of one step.
#[derive(Debug, Clone, Copy, Default)]
struct Conditions {
    ttl_ms: Option<u64>,
    latency_ms: u64,
    /// The Org another session of the user keeps switching to.
    competitor: Option<usize>,
    /// (kind of write, matching writes let through first).
    lose: Option<(usize, usize)>,
    /// SIGINT once the journals hold this many entries…
    sigint: Option<Sigint>,
}

#[derive(Debug, Clone, Copy)]
struct Sigint {
    entries: usize,
    /// …this many milliseconds after that…
    delay_ms: u64,
    /// …and again this long after the first (which leaves the journal).
    second_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    kind: Kind,
    source: usize,
    prune: bool,
    /// The Org named by its id, not its name.
    by_id: bool,
    cond: Conditions,
}

const LOSE_KINDS: [&str; 6] = [
    "action create",
    "action PUT",
    "action DELETE",
    "association POST",
    "association DELETE",
    "config update",
];

fn lose_rule(kind: usize, skip: usize) -> Rule {
    let rule = match kind {
        0 => Rule::new(Method::POST, Fault::LoseAnswer).ends_with("/admin/embed/actions"),
        1 => Rule::new(Method::PUT, Fault::LoseAnswer).containing("/admin/embed/actions/"),
        2 => Rule::new(Method::DELETE, Fault::LoseAnswer)
            .containing("/admin/embed/actions/")
            .not_containing("/associations"),
        3 => Rule::new(Method::POST, Fault::LoseAnswer).ends_with("/associations"),
        4 => Rule::new(Method::DELETE, Fault::LoseAnswer).ends_with("/associations"),
        _ => Rule::new(Method::POST, Fault::LoseAnswer).ends_with("/admin/configinfo/update"),
    };
    rule.skip(skip)
}

fn draw_conditions(rng: &mut Rng, s: &Settings, target: Option<usize>) -> Conditions {
    // Drawn whether on or not, so that switching a feature off leaves the
    // other draws of a seed as they were.
    let ttl = rng.chance(45).then(|| rng.pick(&[250, 400, 700, 1200]));
    let latency = rng.pick(&[0, 1, 3, 6, 10]);
    let others: Vec<usize> = (0..ORGS.len()).filter(|i| Some(*i) != target).collect();
    let competitor = rng.chance(45).then(|| rng.pick(&others));
    let lose = rng
        .chance(40)
        .then(|| (rng.pick(&[0, 0, 1, 1, 1, 2, 2, 3, 4, 5]), rng.below(4)));
    let sigint = rng.chance(30).then(|| Sigint {
        entries: 1 + rng.below(8),
        delay_ms: rng.below(25) as u64,
        second_ms: rng.chance(35).then(|| rng.below(30) as u64),
    });
    Conditions {
        ttl_ms: ttl.filter(|_| s.on("ttl")),
        latency_ms: if s.on("latency") { latency } else { 0 },
        competitor: competitor.filter(|_| s.on("competitor")),
        lose: lose.filter(|_| s.on("lost")),
        sigint: sigint.filter(|_| s.on("sigint")),
    }
}

fn draw_plan(seed: u64, step: usize, s: &Settings, sources: usize) -> Plan {
    let mut rng = Rng::for_step(seed, step, 0);
    let kinds: Vec<&str> = [
        "apply", "apply", "apply", "rollout", "rollout", "watch", "watch",
    ]
    .into_iter()
    .filter(|k| s.on(k))
    .collect();
    let which = rng.pick(&kinds);
    let org = rng.below(ORGS.len());
    let kind = match which {
        "apply" => Kind::Apply {
            org,
            parallel: rng.pick(&[1, 2, 4, 8]),
        },
        "rollout" => Kind::Rollout {
            parallel_targets: rng.pick(&[1, 2, 3]),
            parallel: rng.pick(&[1, 3, 8]),
            canary0: rng.chance(40) && s.on("canary0"),
        },
        _ => Kind::Watch { org },
    };
    let target = match kind {
        Kind::Rollout { .. } => None,
        _ => Some(org),
    };
    let source = rng.below(sources);
    let prune = rng.chance(25) && s.on("prune");
    let by_id = rng.chance(50);
    let cond = draw_conditions(&mut rng, s, target);
    Plan {
        kind,
        source,
        prune,
        by_id,
        cond,
    }
}

fn org_flag(org: usize, by_id: bool) -> String {
    match by_id {
        true => ORGS[org].to_string(),
        false => ORG_NAMES[org].to_string(),
    }
}

fn conditions_text(c: &Conditions) -> String {
    let mut parts = Vec::new();
    if let Some(t) = c.ttl_ms {
        parts.push(format!("sessions expire after {t} ms"));
    }
    if c.latency_ms > 0 {
        parts.push(format!("latency {} ms", c.latency_ms));
    }
    if let Some(o) = c.competitor {
        parts.push(format!("a competing session switches to {}", ORG_NAMES[o]));
    }
    if let Some((k, skip)) = c.lose {
        parts.push(format!(
            "the answer of {} #{} is lost",
            LOSE_KINDS[k],
            skip + 1
        ));
    }
    if let Some(sig) = c.sigint {
        parts.push(format!(
            "SIGINT after {} journal entries +{} ms",
            sig.entries, sig.delay_ms
        ));
        if let Some(ms) = sig.second_ms {
            parts.push(format!("again {ms} ms later"));
        }
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!(" [{}]", parts.join("; ")),
    }
}

/// What one tool run gave.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
    /// SIGINTs sent.
    signals: u8,
}

/// Kills and reaps the child if the test leaves early: no process
/// outlives the test.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn journal_files(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Entries written to journals that were not there before the step.
fn journal_entries(dir: &Path, before: &BTreeSet<PathBuf>) -> usize {
    journal_files(dir)
        .difference(before)
        .map(|p| {
            std::fs::read_to_string(p)
                .map(|t| t.matches("\"op\"").count())
                .unwrap_or(0)
        })
        .sum()
}

fn drain(stream: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stream {
            let mut bytes = Vec::new();
            let _ = s.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// Runs tsmigrate in the run's scratch directory (its HOME and state
/// directory there), with SIGINT once its journals hold enough entries.
fn run_tool(work: &Path, args: &[String], sigint: Option<Sigint>) -> Result<Ran, String> {
    let journals = work.join(".state/tsmigrate/journals");
    let before = journal_files(&journals);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = Tsm::new(work).logged_in().args(&argv).into_command();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = Reaped(cmd.spawn().expect("tsmigrate starts"));
    let out = drain(child.0.stdout.take());
    let err = drain(child.0.stderr.take());
    let started = Instant::now();
    let mut signals = 0u8;
    let mut first_at = None;
    // Not reaped yet: the pid is still this child's.
    let interrupt = |child: &Child| {
        let _ = std::process::Command::new("sh")
            .args(["-c", &format!("kill -INT {}", child.id())])
            .status();
    };
    let status = loop {
        if let Some(s) = child.0.try_wait().expect("waiting for tsmigrate") {
            break s;
        }
        match (sigint, signals, first_at) {
            // Its signal handler is in place once it journals.
            (Some(sig), 0, _) if journal_entries(&journals, &before) >= sig.entries => {
                std::thread::sleep(Duration::from_millis(sig.delay_ms));
                interrupt(&child.0);
                signals = 1;
                first_at = Some(Instant::now());
            }
            (
                Some(Sigint {
                    second_ms: Some(ms),
                    ..
                }),
                1,
                Some(at),
            ) if at.elapsed() >= Duration::from_millis(ms) => {
                interrupt(&child.0);
                signals = 2;
            }
            _ => {}
        }
        if started.elapsed() > STEP_DEADLINE {
            return Err(format!(
                "tsmigrate {} still ran after {STEP_DEADLINE:?}: killed",
                args.join(" ")
            ));
        }
        std::thread::sleep(Duration::from_millis(3));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(Ran {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
        signals,
    })
}

/// The journal an exit 5 names (`journal: PATH`).
fn journal_in(text: &str) -> Option<PathBuf> {
    journals_in(text).into_iter().next()
}

/// Every journal a text names (`journal: PATH`, or the rollback command).
fn journals_in(text: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for line in text.lines() {
        let path = line
            .split_once("journal: ")
            .or_else(|| line.split_once("rollback --journal "))
            .map(|(_, p)| p.split(" (removed once").next().unwrap_or(p))
            .map(|p| p.trim().trim_matches('\''));
        if let Some(p) = path.filter(|p| p.ends_with(".jsonl")) {
            if !out.iter().any(|o| o == Path::new(p)) {
                out.push(PathBuf::from(p));
            }
        }
    }
    out
}

/// The Org a journal was written in (its header says).
fn journal_org(journal: &Path) -> Result<i64, String> {
    let text =
        std::fs::read_to_string(journal).map_err(|e| format!("{}: {e}", journal.display()))?;
    let header: Value = text
        .lines()
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("{}: no header line", journal.display()))?;
    Ok(header["org"]["id"].as_i64().unwrap_or(0))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// One seed: its simulators, its model and its log.
struct Run<'a> {
    seed: u64,
    settings: &'a Settings,
    behaviour: &'static str,
    work: tempfile::TempDir,
    target: TestSim,
    proxy: FaultProxy,
    sources: Vec<Source>,
    model: Model,
    /// The target's (session TTL, latency) now.
    faults: (Option<u64>, u64),
    log: Vec<String>,
    exits: Vec<String>,
}

/// A failed seed, said so that it can be replayed.
struct Failure {
    seed: u64,
    text: String,
}

impl<'a> Run<'a> {
    fn start(seed: u64, settings: &'a Settings) -> Run<'a> {
        let mut rng = Rng::new(seed);
        let behaviours: Vec<&str> = ["per-session", "per-user", "new-session"]
            .into_iter()
            .filter(|b| settings.on(b))
            .collect();
        let behaviour = rng.pick(&behaviours);
        let mut ids = Ids(0);
        let target_doc = target_state(&mut rng, &mut ids);
        let work = tempfile::tempdir().expect("a scratch directory");
        let mut sources = Vec::new();
        for (name, state) in source_states(&mut rng, &mut ids) {
            let sim = TestSim::start(Some(&state), Faults::default());
            let stored = sim.state();
            let reference = if name == "snapshot" {
                let dir = work.path().join("snapshot");
                Tsm::new(work.path())
                    .logged_in()
                    .args(&["export", "--cluster", &sim.url, "--out", "snapshot"])
                    .status(0)
                    .stdout(Expect::Any)
                    .stderr(Expect::Any)
                    .run();
                dir.display().to_string()
            } else {
                sim.url.clone()
            };
            sources.push(Source {
                name,
                reference,
                actions: actions_of(&stored, 0),
                config: stored["configinfo"].clone(),
                _sim: sim,
            });
        }
        let target = TestSim::start_with(
            Some(&target_doc),
            Faults::default(),
            Behaviour {
                org_per_user: behaviour == "per-user",
                switch_new_session: behaviour == "new-session",
                ..Behaviour::default()
            },
        );
        let proxy = FaultProxy::start(&target.url, Vec::new());
        let model = Model::of(&target.state());
        Run {
            seed,
            settings,
            behaviour,
            work,
            target,
            proxy,
            sources,
            model,
            faults: (None, 0),
            log: Vec::new(),
            exits: Vec::new(),
        }
    }

    fn set_faults(&mut self, ttl_ms: Option<u64>, latency_ms: u64) {
        if self.faults != (ttl_ms, latency_ms) {
            self.target.restart(Faults {
                latency_ms,
                session_ttl: ttl_ms.map(Duration::from_millis),
                ..Faults::default()
            });
            self.faults = (ttl_ms, latency_ms);
        }
    }

    fn fail(&self, step: &str, problem: &str, ran: Option<&Ran>) -> Failure {
        let mut text = format!(
            "model test: seed {} ({} simulator) failed at step {step}:\n{problem}\nsteps:\n  {}\n",
            self.seed,
            self.behaviour,
            self.log.join("\n  ")
        );
        if let Some(r) = ran {
            if !r.stdout.trim().is_empty() {
                text.push_str(&format!(
                    "tsmigrate's stdout at step {step} (last lines):\n{}\n",
                    tail(&r.stdout, 60)
                ));
            }
            text.push_str(&format!(
                "tsmigrate's stderr at step {step} (last lines):\n{}\n",
                tail(&r.stderr, 30)
            ));
        }
        text.push_str(&format!("replay: {}\n", self.settings.replay(self.seed)));
        Failure {
            seed: self.seed,
            text,
        }
    }

    /// Runs `args` under `cond` and returns what came of it.
    fn run(&mut self, args: &[String], cond: &Conditions) -> Result<(Ran, bool), String> {
        self.set_faults(cond.ttl_ms, cond.latency_ms);
        if let Some((kind, skip)) = cond.lose {
            self.proxy.arm(vec![lose_rule(kind, skip)]);
        }
        let competitor = cond
            .competitor
            .map(|o| Competitor::start(&self.target, ORGS[o]));
        let ran = run_tool(self.work.path(), args, cond.sigint);
        if let Some(c) = competitor {
            c.stop();
        }
        let lost = cond.lose.is_some() && self.proxy.all_fired();
        self.proxy.arm(Vec::new());
        ran.map(|r| (r, lost))
    }

    fn step(&mut self, n: usize, plan: Plan) -> Result<(), Failure> {
        let source = &self.sources[plan.source];
        let mut args: Vec<String> = Vec::new();
        let mut push = |a: &[&str]| args.extend(a.iter().map(|s| s.to_string()));
        let text = match plan.kind {
            Kind::Apply { org, parallel } => {
                let flag = org_flag(org, plan.by_id);
                push(&["apply", "--yes", "--source", &source.reference]);
                push(&["--target", &self.proxy.url, "--target-org", &flag]);
                push(&["--parallel", &parallel.to_string()]);
                format!("apply {} → {flag} --parallel {parallel}", source.name)
            }
            Kind::Rollout {
                parallel_targets,
                parallel,
                canary0,
            } => {
                push(&["rollout", "--yes", "--format", "json", "--all-orgs"]);
                push(&["--source", &source.reference, "--target", &self.proxy.url]);
                push(&["--parallel-targets", &parallel_targets.to_string()]);
                push(&["--parallel", &parallel.to_string()]);
                if canary0 {
                    push(&["--canary", "0"]);
                }
                format!(
                    "rollout {} → all Orgs --parallel-targets {parallel_targets} --parallel {parallel}{}",
                    source.name,
                    if canary0 { " --canary 0" } else { "" }
                )
            }
            Kind::Watch { org } => {
                let flag = org_flag(org, plan.by_id);
                push(&["watch", "--apply", "--cycles", "1", "--interval", "1s"]);
                push(&["--source", &source.reference]);
                push(&["--target", &self.proxy.url, "--target-org", &flag]);
                format!("watch --apply {} → {flag}", source.name)
            }
        };
        if plan.prune {
            args.push("--prune".into());
        }
        let text = format!(
            "{n}. {text}{}{}",
            if plan.prune { " --prune" } else { "" },
            conditions_text(&plan.cond)
        );
        self.log.push(text);
        let label = n.to_string();
        let (ran, lost) = self
            .run(&args, &plan.cond)
            .map_err(|e| self.fail(&label, &e, None))?;
        self.note(&ran, lost);
        let state = self.target.state();
        let judged = self.judge(&plan, &ran);
        let source = &self.sources[plan.source];
        let checked = judged.and_then(|mut m| {
            // The known limit: a create answer lost while a competing
            // session moves the user's Org (per-user Orgs only) — by the
            // network, or by a second signal that ends the process while
            // a create is out.
            let limit = self.behaviour == "per-user"
                && plan.cond.competitor.is_some()
                && (matches!(plan.cond.lose, Some((0, _)))
                    || plan.cond.sigint.is_some_and(|s| s.second_ms.is_some()));
            m.check(&state, Some(source), limit)
                .map_err(|e| {
                    format!(
                        "exit {}, but the stored state is not what it means:\n{e}",
                        ran.code
                    )
                })
                .map(|()| m)
        });
        let checked = checked.and_then(|m| {
            let excused = ran.signals > 0 || plan.cond.competitor.is_some();
            match (self.settings.liveness, excused, ran.code) {
                (true, false, c) if c != 0 => Err(format!(
                    "exit {c}, and the state is as that means, but nothing excuses a failure: \
                     no SIGINT, no competing session; expiring sessions and lost answers are \
                     to be survived (DESIGN.md, Apply; TSMIGRATE_MODEL_SAFETY_ONLY=1 skips this)"
                )),
                _ => Ok(m),
            }
        });
        match checked {
            Ok(m) => self.model = m,
            Err(e) => return Err(self.fail(&label, &e, Some(&ran))),
        }
        // A journal left is rolled back now, one step per journal.
        let mut k = 0;
        while let Some((journal, _)) = self.model.pending.first().cloned() {
            k += 1;
            self.rollback(n, k, &journal)?;
        }
        Ok(())
    }

    fn note(&mut self, ran: &Ran, lost: bool) {
        let mut end = format!(" → exit {}", ran.code);
        if lost {
            end.push_str(" (an answer was lost)");
        }
        match ran.signals {
            0 => {}
            1 => end.push_str(" (SIGINT sent)"),
            _ => end.push_str(" (SIGINT sent twice)"),
        }
        if ran.code != 0 {
            // Why, in a word: the first error (a rollout's rows say it per Org).
            let why = ran
                .stderr
                .lines()
                .chain(ran.stdout.lines())
                .find(|l| l.contains("error"))
                .unwrap_or("");
            let why: String = why.trim().chars().take(240).collect();
            if !why.is_empty() {
                end.push_str(&format!("\n       {why}"));
            }
            let rows: Value = serde_json::from_str(&ran.stdout).unwrap_or(Value::Null);
            for (i, row) in rows.as_array().into_iter().flatten().enumerate() {
                if let Some(e) = row["error"].as_str() {
                    let e: String = e.lines().next().unwrap_or("").chars().take(200).collect();
                    end.push_str(&format!("\n       row {i}: {}: {e}", row["result"]));
                }
            }
        }
        if let Some(last) = self.log.last_mut() {
            last.push_str(&end);
        }
        self.exits.push(ran.code.to_string());
    }

    /// The model after a step, from its exit code (and a rollout's rows).
    fn judge(&self, plan: &Plan, ran: &Ran) -> Result<Model, String> {
        let mut m = self.model.clone();
        let source = &self.sources[plan.source];
        match plan.kind {
            Kind::Apply { org, .. } => match ran.code {
                0 => m.applied(ORGS[org], source, plan.prune, true),
                4 => {}
                5 => {
                    let j = journal_in(&ran.stderr).ok_or("exit 5 names no journal")?;
                    m.leave(j, vec![Scope::Org(ORGS[org]), Scope::Config])?;
                }
                // A second signal with no journal (yet, or any more).
                1 if ran.signals == 2
                    && ran
                        .stderr
                        .contains("interrupted twice before anything was written") => {}
                c => return Err(format!("exit {c}: an apply ends 0, 4 or 5 here")),
            },
            Kind::Watch { org } => match ran.code {
                0 => m.applied(ORGS[org], source, plan.prune, true),
                // The repair failed: restored, or not (with its journal).
                2 => {
                    if let Some(j) = journal_in(&ran.stderr) {
                        m.leave(j, vec![Scope::Org(ORGS[org]), Scope::Config])?;
                    }
                }
                c => {
                    return Err(format!(
                        "exit {c}: watch --apply --cycles 1 ends 0 or 2 here"
                    ))
                }
            },
            Kind::Rollout { .. } => {
                if !matches!(ran.code, 0 | 4 | 5) {
                    return Err(format!("exit {}: a rollout ends 0, 4 or 5 here", ran.code));
                }
                if ran.signals == 2 && ran.stdout.trim().is_empty() {
                    return self.cut_short(m, plan, ran);
                }
                let rows: Value = serde_json::from_str(&ran.stdout)
                    .map_err(|e| format!("the rows are not JSON ({e}):\n{}", ran.stdout))?;
                let rows = rows.as_array().cloned().unwrap_or_default();
                if rows.len() != ORGS.len() {
                    return Err(format!(
                        "{} rows for three Orgs:\n{}",
                        rows.len(),
                        ran.stdout
                    ));
                }
                let mut results = Vec::new();
                for (i, row) in rows.iter().enumerate() {
                    let org = ORGS[i];
                    // Every row of --all-orgs names its Org, failed or not.
                    let named = row["org"]["id"] == json!(org);
                    if !named {
                        return Err(format!("row {i} is not Org {org}: {row}"));
                    }
                    let result = row["result"].as_str().unwrap_or("");
                    // The first target of the cluster writes its config.
                    let owns_config = i == 0;
                    match result {
                        "applied" | "unchanged" => m.applied(org, source, plan.prune, owns_config),
                        "restored" | "skipped" => {}
                        "NOT RESTORED" => {
                            let j = row["journal"]
                                .as_str()
                                .ok_or_else(|| format!("NOT RESTORED without a journal: {row}"))?;
                            let mut scopes = vec![Scope::Org(org)];
                            if owns_config {
                                scopes.push(Scope::Config);
                            }
                            m.leave(PathBuf::from(j), scopes)?;
                        }
                        other => return Err(format!("row {i}: result {other:?}")),
                    }
                    results.push(result);
                }
                let all_ok = results
                    .iter()
                    .all(|r| matches!(*r, "applied" | "unchanged"));
                let any_left = results.contains(&"NOT RESTORED");
                let consistent = match ran.code {
                    0 => all_ok,
                    4 => !all_ok && !any_left,
                    _ => any_left,
                };
                if !consistent {
                    return Err(format!("exit {} with rows {results:?}", ran.code));
                }
            }
        }
        Ok(m)
    }

    /// A rollout ended by a second SIGINT, before its rows: the journals it
    /// names are pending (each says its Org); every other Org was either
    /// written whole or not at all.
    fn cut_short(&self, mut m: Model, plan: &Plan, ran: &Ran) -> Result<Model, String> {
        let source = &self.sources[plan.source];
        let journals = journals_in(&ran.stderr);
        if (ran.code == 5) == journals.is_empty() {
            return Err(format!(
                "exit {} after a second SIGINT, naming {} journal(s)",
                ran.code,
                journals.len()
            ));
        }
        let mut left = BTreeSet::new();
        for j in journals {
            let org = journal_org(&j)?;
            let mut scopes = vec![Scope::Org(org)];
            // The first target of the cluster writes its config.
            if org == ORGS[0] {
                scopes.push(Scope::Config);
            }
            m.leave(j, scopes)?;
            left.insert(org);
        }
        for (i, org) in ORGS.iter().enumerate() {
            if !left.contains(org) {
                m.maybe_applied(*org, source, plan.prune, i == 0);
            }
        }
        Ok(m)
    }

    /// `rollback --journal J`: exit 0, and what it covers as before.
    fn rollback(&mut self, n: usize, k: usize, journal: &Path) -> Result<(), Failure> {
        let mut rng = Rng::for_step(self.seed, n, 0x70_11_ba_c0 + k as u64);
        let mut cond = draw_conditions(&mut rng, self.settings, None);
        cond.lose = None;
        cond.sigint = None;
        let label = format!("{n}r{k}");
        self.log.push(format!(
            "{label}. rollback --journal {}{}",
            journal
                .file_name()
                .map_or(String::new(), |f| f.to_string_lossy().into_owned()),
            conditions_text(&cond)
        ));
        let args: Vec<String> = ["rollback", "--journal"]
            .iter()
            .map(|s| s.to_string())
            .chain([journal.display().to_string()])
            .collect();
        let (ran, lost) = self
            .run(&args, &cond)
            .map_err(|e| self.fail(&label, &e, None))?;
        self.note(&ran, lost);
        let mut m = self.model.clone();
        m.pending.retain(|(j, _)| j != journal);
        let state = self.target.state();
        let checked = match ran.code {
            0 => m.check(&state, None, false),
            c => Err(format!(
                "rollback exit {c}: it should have restored the state before"
            )),
        };
        match checked {
            Ok(()) => {
                self.model = m;
                Ok(())
            }
            Err(e) => Err(self.fail(&label, &e, Some(&ran))),
        }
    }
}

fn run_seed(
    seed: u64,
    settings: &Settings,
    clock: Instant,
    first: bool,
) -> Result<String, Failure> {
    let started = Instant::now();
    let mut run = Run::start(seed, settings);
    let mut steps = 0;
    for n in 1..=settings.steps {
        if !first && clock.elapsed() >= settings.budget {
            break;
        }
        let plan = draw_plan(seed, n, settings, run.sources.len());
        run.step(n, plan)?;
        steps += 1;
    }
    Ok(format!(
        "seed {seed} ({} simulator): {steps} steps, exits {} in {:.1} s\n  {}",
        run.behaviour,
        run.exits.join(" "),
        started.elapsed().as_secs_f64(),
        run.log.join("\n  ")
    ))
}

#[test]
fn random_steps_keep_every_promise_in_every_org() {
    let settings = Settings::from_env();
    let clock = Instant::now();
    let mut next = settings.seed.unwrap_or_else(random_seed);
    let mut failures: Vec<Failure> = Vec::new();
    let mut seeds = 0;
    loop {
        let seed = next;
        next = Rng::new(seed).next();
        seeds += 1;
        match run_seed(seed, &settings, clock, seeds == 1) {
            Ok(summary) => eprintln!("{summary}"),
            Err(f) if settings.keep_going => {
                eprintln!("seed {} FAILED", f.seed);
                failures.push(f);
            }
            Err(f) => panic!("{}", f.text),
        }
        if settings.seed.is_some() || clock.elapsed() >= settings.budget {
            break;
        }
    }
    eprintln!("{seeds} seed(s) in {:.1} s", clock.elapsed().as_secs_f64());
    assert!(
        failures.is_empty(),
        "{} of {seeds} seeds failed ({:?}):\n\n{}",
        failures.len(),
        failures.iter().map(|f| f.seed).collect::<Vec<_>>(),
        failures
            .iter()
            .map(|f| f.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
