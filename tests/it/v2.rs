//! REST v2: migrations between clusters that speak v1 only, v2 only or
//! both, each pair checked on the target's stored state; what a v2 target
//! cannot hold refused before anything is written; Orgs over v2 logins.

use serde_json::{json, Value};
use tsmigrate::sim::{ApiChoice, Behaviour, Faults, V2Behaviour};

use crate::report::conforms;
use crate::support::*;

fn sim(state: &Value, api: ApiChoice) -> TestSim {
    sim_with(state, api, V2Behaviour::default())
}

fn sim_with(state: &Value, api: ApiChoice, v2: V2Behaviour) -> TestSim {
    TestSim::start_api(
        Some(state),
        Faults::default(),
        Behaviour::default(),
        api,
        v2,
    )
}

/// What both APIs can hold of a state: no APP actions, no custom URL
/// headers.
fn clean(mut s: Value) -> Value {
    let actions = s["actions"].as_array_mut().unwrap();
    actions.retain(|a| a["type"] != "APP");
    for a in actions.iter_mut() {
        a["detail"]["additionalUrlHeaders"] = json!("{}");
        // No groups means everyone in v1, admins and developers in v2.
        if a["userGroupList"].as_array().is_none_or(Vec::is_empty) {
            a["userGroupList"] = json!([SALES_MANAGERS]);
        }
        // A v2 callback has no authentication.
        if a["type"] == "CALLBACK" {
            a["detail"]["authSelect"] = json!("NONE");
        }
    }
    s
}

/// The example cluster's user group.
const SALES_MANAGERS: &str = "b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04";

/// The stored actions of an Org as both APIs hold them, by name: type,
/// link, function, authentication, visibility, associations, groups.
fn actions_view(state: &Value, org: i64) -> Value {
    let list = if org == 0 {
        state["actions"].clone()
    } else {
        state["orgs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == org)
            .unwrap()["actions"]
            .clone()
    };
    let mut out = serde_json::Map::new();
    for a in list.as_array().unwrap() {
        let d = &a["detail"];
        // A callback has no authentication of its own (v2 has none for it).
        let select = match a["type"].as_str() {
            Some("CALLBACK") => "NONE",
            _ => d["authSelect"].as_str().unwrap_or("NONE"),
        };
        let mut assoc = serde_json::Map::new();
        for (kind, entries) in a["actionAssociationMap"].as_object().into_iter().flatten() {
            let mut e = serde_json::Map::new();
            for (guid, x) in entries.as_object().into_iter().flatten() {
                let enabled = x["enabled"] != json!("false") && x["enabled"] != json!(false);
                e.insert(
                    guid.clone(),
                    json!({"enabled": enabled, "context": x["context"].as_str().unwrap_or("MENU")}),
                );
            }
            if !e.is_empty() {
                assoc.insert(kind.clone(), Value::Object(e));
            }
        }
        let mut groups: Vec<String> = a["userGroupList"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect();
        groups.sort();
        out.insert(
            a["name"].as_str().unwrap().to_string(),
            json!({
                "type": a["type"],
                "link": if a["type"] == "CALLBACK" { json!("") } else { d["link"].clone() },
                "function": d["function"],
                "auth": select,
                "token": if select == "BEARER" { d["authToken"].clone() } else { Value::Null },
                "global": a["availability"].as_array().is_some_and(|v| v.iter().any(|x| x == "GLOBAL")),
                "associations": assoc,
                "groups": groups,
            }),
        );
    }
    Value::Object(out)
}

/// The overridable config keys (what v2 shows) and their stored values.
fn overridable(state: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in state["overrides"].as_object().unwrap().keys() {
        if key == "embedActionConfigList" {
            continue;
        }
        let mut cur = &state["configinfo"];
        for part in key.split('.') {
            cur = &cur[part];
        }
        out.insert(key.clone(), cur.clone());
    }
    Value::Object(out)
}

fn apply(w: &std::path::Path, source: &TestSim, target: &TestSim, status: i32) -> String {
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--yes",
            "--prune",
        ])
        .status(status)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    format!("{}{}", stdout(&out), stderr(&out))
}

fn migrates(from: ApiChoice, to: ApiChoice, v2: V2Behaviour) {
    let mut src = clean(demo_source());
    // A change in an overridable key, so that it reaches v2 too.
    src["configinfo"]["defaultChartDataSize"] = json!(777);
    let source = sim_with(&src, from, v2);
    let target = sim_with(&clean(example()), to, v2);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let text = apply(w, &source, &target, 0);
    let (want, got) = (source.state(), target.state());
    assert_eq!(
        actions_view(&got, 0),
        actions_view(&want, 0),
        "{from:?} -> {to:?}: the target's stored actions are the source's\n{text}"
    );
    assert_eq!(
        overridable(&got),
        overridable(&want),
        "{from:?} -> {to:?}: every key both APIs show is the source's"
    );
    if from == ApiChoice::V2 && to == ApiChoice::V1 {
        // A v2 source says nothing of the keys it does not show.
        assert_eq!(
            got["configinfo"]["samlConfiguration"]["enabled"],
            example()["configinfo"]["samlConfiguration"]["enabled"]
        );
    }
    assert_converged(w, &source.url, &target.url, &["--prune"]);
    let writes = target.writes();
    assert!(
        apply(w, &source, &target, 0).contains("already matches"),
        "{from:?} -> {to:?}: a second apply finds nothing"
    );
    assert_eq!(target.writes(), writes);
}

#[test]
fn v1_to_v1() {
    migrates(ApiChoice::V1, ApiChoice::V1, V2Behaviour::default());
}

#[test]
fn v1_to_v2_only() {
    migrates(ApiChoice::V1, ApiChoice::V2, V2Behaviour::default());
}

#[test]
fn v2_only_to_v1() {
    migrates(ApiChoice::V2, ApiChoice::V1, V2Behaviour::default());
}

#[test]
fn v2_to_v2() {
    migrates(ApiChoice::V2, ApiChoice::V2, V2Behaviour::default());
}

#[test]
fn v2_clusters_that_nest_config_keys_and_refuse_unknown_searches() {
    let quirks = V2Behaviour {
        config_nested: true,
        search_unknown_400: true,
        revoke_ends_caller: true,
        ..V2Behaviour::default()
    };
    migrates(ApiChoice::V1, ApiChoice::V2, quirks);
    migrates(ApiChoice::V2, ApiChoice::V2, quirks);
    // Before 10.11.0.cl: the overrides come without their wrapper (read
    // as no keys, this migrated no config at all, silently).
    let old = V2Behaviour {
        overrides_unwrapped: true,
        ..V2Behaviour::default()
    };
    migrates(ApiChoice::V1, ApiChoice::V2, old);
    migrates(ApiChoice::V2, ApiChoice::V2, old);
}

/// A v2 cluster that lists only applied overrides: a key set back to its
/// default leaves the list, which is no verification failure; the keys it
/// cannot compare are named.
#[test]
fn a_key_set_back_to_its_default_on_v2_is_not_a_failure() {
    let applied_only = V2Behaviour {
        overrides_applied_only: true,
        ..V2Behaviour::default()
    };
    let mut tgt = clean(example());
    tgt["configinfo"]["maxFilterValues"] = json!(4321);
    tgt["configinfo"]["defaultChartDataSize"] = json!(999);
    let mut src = clean(example());
    src["configinfo"]["defaultChartDataSize"] = json!(1234);
    // maxFilterValues: the source has the default (the example's).
    let source = sim(&src, ApiChoice::V1);
    let target = sim_with(&tgt, ApiChoice::V2, applied_only);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let text = apply(w, &source, &target, 0);
    assert!(text.contains("verified"), "{text}");
    assert!(
        text.contains("were not (their value there is unknown): "),
        "the keys not compared are named:\n{text}"
    );
    let got = target.state();
    assert_eq!(
        got["configinfo"]["maxFilterValues"],
        src["configinfo"]["maxFilterValues"]
    );
    assert_eq!(got["configinfo"]["defaultChartDataSize"], json!(1234));
    assert!(
        apply(w, &source, &target, 0).contains("already matches"),
        "no drift after"
    );
}

/// Basic authentication in either v1 spelling reaches a v2 cluster whole
/// (user and password as stored there) and comes back to v1; a detail
/// field v2 has no place for is refused by pointer, nothing written.
#[test]
fn basic_auth_travels_both_ways_and_unknown_detail_fields_are_refused() {
    let mut src = clean(example());
    let template = src["actions"][0].clone();
    let mut add = |name: &str, fields: Value| {
        let mut a = template.clone();
        a["name"] = json!(name);
        a["id"] = json!(format!(
            "70000000-0000-4000-8000-{:012}",
            src["actions"].as_array().unwrap().len()
        ));
        a["actionAssociationMap"] = json!({});
        a["detail"]["authSelect"] = json!("BASIC_AUTH");
        for (k, v) in fields.as_object().unwrap() {
            a["detail"][k] = v.clone();
        }
        src["actions"].as_array_mut().unwrap().push(a);
    };
    add(
        "Basic lang",
        json!({"basicAuthUsername": "jürgen", "basicAuthPassword": "S3CRET-basic-1"}),
    );
    add(
        "Basic kurz",
        json!({"username": "anna", "password": "S3CRET-basic-2"}),
    );
    let source = sim(&src, ApiChoice::V1);
    let v2 = sim(&clean(example()), ApiChoice::V2);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    apply(w, &source, &v2, 0);
    let stored = |sim: &TestSim, name: &str| -> Value {
        sim.state()["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("{name} stored"))["detail"]
            .clone()
    };
    for (name, user, pass) in [
        ("Basic lang", "jürgen", "S3CRET-basic-1"),
        ("Basic kurz", "anna", "S3CRET-basic-2"),
    ] {
        let d = stored(&v2, name);
        assert_eq!(
            (
                d["authSelect"].as_str(),
                d["username"].as_str(),
                d["password"].as_str()
            ),
            (Some("BASIC_AUTH"), Some(user), Some(pass)),
            "{name} on v2: {d}"
        );
    }
    // v2 → v1 cannot hold basic authentication: refused by pointer.
    let v1 = sim(&clean(example()), ApiChoice::V1);
    let text = apply(w, &v2, &v1, 1);
    assert!(
        text.contains("/actions/Basic lang/detail/authSelect: REST v1 has no basic authentication"),
        "{text}"
    );
    assert_eq!(v1.writes(), 0);
    // A field v2 has no place for, on its way there.
    let mut odd = clean(example());
    odd["actions"][0]["detail"]["customHeaderMode"] = json!("X-Mode");
    let source = sim(&odd, ApiChoice::V1);
    let target = sim(&clean(example()), ApiChoice::V2);
    let before = target.state();
    let text = apply(w, &source, &target, 1);
    assert!(
        text.contains("/actions/Open in CRM/detail/customHeaderMode: REST v2 has no place for the detail field"),
        "{text}"
    );
    assert_eq!(target.writes(), 0);
    assert_eq!(target.state(), before);
}

#[test]
fn what_v2_cannot_hold_is_refused_before_writing() {
    // The example has custom URL headers on "Open in CRM" and an APP action.
    let source = sim(&example(), ApiChoice::V1);
    let target = sim(&clean(example()), ApiChoice::V2);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let before = target.state();
    let text = apply(w, &source, &target, 1);
    for pointer in [
        "/actions/Open in CRM/detail/additionalUrlHeaders: REST v2 has no custom URL headers",
        "/actions/Send to Slack/type: REST v2 has no APP actions",
        "/actions/Open in CRM/userGroupList: no groups means everyone in REST v1, but a REST v2 action with no groups is visible to administrators and developers only",
        "/actions/Notify owner/detail/authSelect: REST v2 has no authentication for CALLBACK actions",
        "nothing was written",
    ] {
        assert!(text.contains(pointer), "{pointer}\n{text}");
    }
    assert_eq!(target.writes(), 0);
    assert_eq!(target.state(), before);
    // validate lists them as problems; diff shows them and goes on.
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "validate",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--format",
            "json",
        ])
        .status(1)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let problems: Value = serde_json::from_str(&stdout(&out)).unwrap();
    conforms("validate", &problems);
    let pointers: Vec<&str> = problems
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pointer"].as_str().unwrap())
        .collect();
    assert!(pointers.contains(&"/actions/Open in CRM/detail/additionalUrlHeaders"));
    assert!(pointers.contains(&"/actions/Send to Slack/type"));
    Tsm::new(w)
        .logged_in()
        .args(&["diff", "--source", &source.url, "--target", &target.url])
        .status(0)
        .stdout(Expect::Any)
        .stderr_has(&["apply refuses until it is left out or changed"])
        .run();
    // Left out, the rest migrates.
    Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--yes",
            "--ignore",
            "/actions/Send to Slack",
            "--ignore",
            "/actions/Open in CRM/detail/additionalUrlHeaders",
            // The target's groups stay (those of the clean example), and
            // its callback's authentication (none).
            "--ignore",
            "/actions/Open in CRM/userGroupList",
            "--ignore",
            "/actions/Notify owner/detail/authSelect",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let got = actions_view(&target.state(), 0);
    assert_eq!(
        got["Open in CRM"]["link"],
        source.state()["actions"][0]["detail"]["link"]
    );
}

#[test]
fn what_v1_cannot_hold_is_refused_too() {
    // A v2 action with URL parameters, created through the v2 API.
    let source = sim(&clean(example()), ApiChoice::V2);
    let c = http();
    let token: Value = c
        .post(format!("{}/api/rest/2.0/auth/token/full", source.url))
        .json(&json!({"username": "admin", "password": "admin", "org_id": 0}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let r = c
        .post(format!("{}/api/rest/2.0/customization/custom-actions", source.url))
        .bearer_auth(token["token"].as_str().unwrap())
        .json(&json!({"name": "With params", "action_details": {"URL": {"url": "https://p.example.test",
            "parameters": [{"key": "tenant", "value": "acme"}]}}}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let target = sim(&clean(example()), ApiChoice::V1);
    let work = tempfile::tempdir().unwrap();
    let text = apply(work.path(), &source, &target, 1);
    assert!(
        text.contains("/actions/With params/detail/parameters: REST v1 has no URL parameters"),
        "{text}"
    );
    assert_eq!(target.writes(), 0);
}

#[test]
fn a_rollout_to_every_org_of_a_v2_cluster() {
    let mut state = clean(example());
    let objects = state["objects"].clone();
    state["orgs"] = json!([
        {"id": 5, "name": "East", "actions": [], "objects": objects},
        {"id": 9, "name": "West", "actions": [], "objects": objects},
    ]);
    let target = sim(&state, ApiChoice::V2);
    let mut src = clean(demo_source());
    src["actions"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["name"] != "Open in CRM");
    let source = sim(&src, ApiChoice::V1);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "rollout",
            "--source",
            &source.url,
            "--target",
            &target.url,
            "--all-orgs",
            "--prune",
            "--yes",
            "--format",
            "json",
        ])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    let rows: Value = serde_json::from_str(&stdout(&out)).unwrap();
    conforms("rollout", &rows);
    let orgs: Vec<Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["org"]["name"].clone())
        .collect();
    assert_eq!(orgs, vec![json!("Primary"), json!("East"), json!("West")]);
    let want = actions_view(&source.state(), 0);
    let got = target.state();
    for org in [0, 5, 9] {
        assert_eq!(actions_view(&got, org), want, "Org {org}");
    }
    assert_eq!(target.open_sessions(), 0);
    assert_eq!(target.live_tokens(), 0, "every token minted was revoked");
}

#[test]
fn a_profile_says_which_api() {
    let both = sim(&clean(example()), ApiChoice::Both);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(
        w.join("tsmigrate.toml"),
        format!(
            "[clusters.v2]\nurl = \"{url}\"\nusername = \"admin\"\npassword_env = \"P\"\napi = \"v2\"\n\n[clusters.v1]\nurl = \"{url}\"\nusername = \"admin\"\npassword_env = \"P\"\napi = \"v1\"\n\n[clusters.bad]\nurl = \"{url}\"\napi = \"v3\"\n",
            url = both.url
        ),
    )
    .unwrap();
    let show = |profile: &str| {
        let out = Tsm::new(w)
            .env("P", "admin")
            .args(&["show", profile])
            .status(0)
            .stdout(Expect::Any)
            .run();
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };
    let (v1, v2) = (show("v1"), show("v2"));
    // The same actions through either API, as both hold them.
    let names = |d: &Value| {
        d["actions"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&v1), names(&v2));
    // v2 shows only the overridable config keys.
    assert!(v1["config"].as_object().unwrap().len() > v2["config"].as_object().unwrap().len());
    Tsm::new(w)
        .env("P", "admin")
        .args(&["show", "bad"])
        .status(1)
        .stderr_has(&["clusters.bad.api: \"v3\" is not \"v1\", \"v2\" or \"auto\""])
        .run();
}

/// Whether a revoke ends the token it is called with too or not, the
/// tokens a run mints are revoked at its end only, each by itself: the run
/// never loses its own session, and no token it minted outlives it.
#[test]
fn an_apply_longer_than_a_v2_token_lives_mints_another() {
    for revoke_ends_caller in [false, true] {
        longer_than_a_token(V2Behaviour {
            revoke_ends_caller,
            ..V2Behaviour::default()
        });
    }
}

fn longer_than_a_token(v2: V2Behaviour) {
    // 30 URL actions that the source changes.
    let mut tgt = clean(example());
    let template = tgt["actions"][0].clone();
    for i in 0..30 {
        let mut a = template.clone();
        a["name"] = json!(format!("bulk {i:03}"));
        a["id"] = json!(format!("00000000-0000-4000-8000-{i:012}"));
        tgt["actions"].as_array_mut().unwrap().push(a);
    }
    let mut src = tgt.clone();
    for a in src["actions"].as_array_mut().unwrap() {
        a["detail"]["function"] = json!("changed");
    }
    let source = sim(&src, ApiChoice::V1);
    let target = TestSim::start_api(
        Some(&tgt),
        Faults {
            latency_ms: 25,
            session_ttl: Some(std::time::Duration::from_millis(400)),
            ..Faults::default()
        },
        Behaviour::default(),
        ApiChoice::V2,
        v2,
    );
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
        .stdout_has(&["32 updated", "verified."])
        .stderr(Expect::Any)
        .run();
    assert!(
        target.logins() >= 2,
        "the token ended mid-run and another was minted"
    );
    assert_eq!(
        actions_view(&target.state(), 0),
        actions_view(&source.state(), 0)
    );
    assert_eq!(target.live_tokens(), 0);
}

/// Trusted authentication: on a cluster with multi-factor authentication
/// every password login is refused; a profile with `secret_key_env` gets
/// a token for its Org with the secret key (again when it expires), and
/// the key is never printed nor written.
#[test]
fn a_secret_key_profile_reaches_an_mfa_cluster_in_its_org() {
    const KEY: &str = "S3CRET-trusted-key-7f3a";
    let mut src = clean(example());
    src["actions"][0]["detail"]["function"] = json!("vertrauenswürdig");
    let source = sim(&src, ApiChoice::V1);
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.json");
    let mut orgs = crate::orgs::three_orgs();
    for a in orgs["orgs"][0]["actions"].as_array_mut().unwrap() {
        a["detail"]["additionalUrlHeaders"] = json!("{}");
    }
    std::fs::write(&state_file, serde_json::to_vec_pretty(&orgs).unwrap()).unwrap();
    let mut opts = tsmigrate::sim::SimOptions::new(&state_file);
    opts.secret_key = Some(KEY.into());
    opts.mfa = true;
    opts.faults.session_ttl = Some(std::time::Duration::from_millis(60));
    opts.faults.latency_ms = 5;
    let target = TestSim::with_options(dir, state_file, opts);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let profiles = |api: &str| {
        format!(
            "[clusters.src]\nurl = \"{}\"\nusername = \"admin\"\npassword_env = \"SRC_PW\"\n\n\
             [clusters.prod]\nurl = \"{}\"\nusername = \"admin\"\nsecret_key_env = \"PROD_KEY\"\norg = \"Marketing\"\n{api}\n\n\
             [clusters.prodpw]\nurl = \"{}\"\nusername = \"admin\"\npassword_env = \"SRC_PW\"\n",
            source.url, target.url, target.url
        )
    };
    std::fs::write(w.join("tsmigrate.toml"), profiles("")).unwrap();
    let tsm = || {
        Tsm::new(w)
            .env("TSMIGRATE_CONFIG", w.join("tsmigrate.toml"))
            .env("SRC_PW", "admin")
            .env("PROD_KEY", KEY)
    };
    let out = tsm()
        .args(&["apply", "--source", "src", "--target", "prod", "--yes"])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    assert!(!stdout(&out).contains(KEY) && !stderr(&out).contains(KEY));
    assert!(
        !all_text(w).contains(KEY),
        "the key is in a file under the work directory"
    );
    assert!(
        target.logins() >= 2,
        "the token was minted again when it ended"
    );
    assert_eq!(target.live_tokens(), 0, "every token minted was revoked");
    let got = actions_view(&target.state(), crate::orgs::MARKETING);
    assert_eq!(got["Open in CRM"]["function"], json!("vertrauenswürdig"));
    assert_eq!(
        actions_view(&target.state(), 0)["Open in CRM"]["function"],
        actions_view(&crate::orgs::three_orgs(), 0)["Open in CRM"]["function"],
        "only Marketing was written"
    );
    // A password is refused there, with a hint; api = "v1" cannot be.
    tsm()
        .args(&["show", "prodpw"])
        .status(6)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    std::fs::write(w.join("tsmigrate.toml"), profiles("api = \"v1\"")).unwrap();
    tsm()
        .args(&["show", "prod"])
        .status(1)
        .stderr_has(&["clusters.prod.api", "trusted authentication"])
        .run();
}

/// Between the APIs actions are compared as both can hold them, and what
/// only v1 holds (a detail's other fields, `context`, `application`) is
/// the target's: a change of one field writes that field and keeps the
/// rest, whether the target's PUT merges fields or replaces the action.
#[test]
fn a_v2_source_changes_only_what_it_changed_on_a_v1_target() {
    for put_replaces in [false, true] {
        let target_state = clean(example());
        let mut src = target_state.clone();
        let crm = src["actions"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|a| a["name"] == "Open in CRM")
            .unwrap();
        crm["detail"]["link"] = json!("https://crm.example.test/v2/öffnen");
        let source = sim(&src, ApiChoice::V2);
        let target = TestSim::start_api(
            Some(&target_state),
            Faults::default(),
            Behaviour {
                put_replaces,
                ..Behaviour::default()
            },
            ApiChoice::V1,
            V2Behaviour::default(),
        );
        let work = tempfile::tempdir().unwrap();
        let text = apply(work.path(), &source, &target, 0);
        let by_name = |s: &Value| -> serde_json::Map<String, Value> {
            s["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["name"].as_str().unwrap().to_string(), a.clone()))
                .collect()
        };
        let (before, after) = (by_name(&target_state), by_name(&target.state()));
        for (name, was) in &before {
            let mut want = was.clone();
            if name == "Open in CRM" {
                want["detail"]["link"] = json!("https://crm.example.test/v2/öffnen");
            }
            assert_eq!(
                after.get(name),
                Some(&want),
                "put_replaces {put_replaces}: {name:?} holds the target's own fields and the one change\n{text}"
            );
        }
    }
}
