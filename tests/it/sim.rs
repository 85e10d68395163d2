//! The simulator: every endpoint and method, status codes, sessions and
//! tokens, persistence (restart, SIGKILL), and each fault flag.

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::support::*;

const XRB: (&str, &str) = ("X-Requested-By", "ThoughtSpot");

#[test]
fn curl_examples_of_the_api_page_work() {
    // Each request is shaped as the page's curl example: Accept and
    // X-Requested-By headers, form-encoded parameters, the session cookie.
    let sim = TestSim::start(None, Faults::default());
    let c = http();
    login(&c, &sim);
    let get = |path: &str| {
        c.get(sim.api(path))
            .header("Accept", "application/json")
            .header(XRB.0, XRB.1)
            .send()
            .unwrap()
    };

    let r = get("/admin/configinfo");
    assert_eq!(r.status(), 200);
    let info: Value = r.json().unwrap();
    assert_eq!(info["embedActionConfigList"].as_array().unwrap().len(), 3);
    assert_eq!(info["samlConfiguration"]["enabled"], json!(false));

    let overrides: Value = get("/admin/configinfo/overrides").json().unwrap();
    assert_eq!(overrides["maxFilterValues"]["current"], json!(10000));
    assert_eq!(overrides["maxFilterValues"]["dataType"], json!("INTEGER"));
    assert_eq!(
        overrides["embedActionConfigList"]["current"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let r = c
        .post(sim.api("/admin/configinfo/update"))
        .header("Accept", "application/json")
        .header(XRB.0, XRB.1)
        .form(&[(
            "configchanges",
            r#"{"samlConfiguration.enabled": true, "maxFilterValues": 42}"#,
        )])
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let info: Value = get("/admin/configinfo").json().unwrap();
    assert_eq!(info["samlConfiguration"]["enabled"], json!(true));
    assert_eq!(info["maxFilterValues"], json!(42));

    let actions: Value = get("/admin/embed/actions").json().unwrap();
    assert_eq!(actions.as_array().unwrap().len(), 3);
    let tagged: Value = get(r#"/admin/embed/actions?tags=["none"]"#).json().unwrap();
    assert_eq!(tagged, json!([]));

    // Create, exactly the page's example map.
    let embedaction = json!({"availability": ["GLOBAL"], "context": "NONE",
        "detail": {"link": "", "encodeUser": "", "authToken": "", "apiKey": "X-API-KEY", "apiValue": "",
                   "authSelect": "NONE", "additionalUrlHeaders": "{}", "function": "test", "appActionType": "SLACK"},
        "name": "test", "type": "APP", "version": "v4", "userGroupList": []});
    let r = c
        .post(sim.api("/admin/embed/actions"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .header(XRB.0, XRB.1)
        .form(&[("embedaction", embedaction.to_string())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let created: Value = r.json().unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["name"], json!("test"));
    assert_eq!(
        created["schemaVersion"],
        json!("4"),
        "the create answer's quirk"
    );
    let one: Value = get(&format!("/admin/embed/actions/{id}")).json().unwrap();
    assert_eq!(one["detail"]["function"], json!("test"));
    assert!(one.get("schemaVersion").is_none());

    // Update with PUT, and with the POST a popular Python client sends.
    for method in [reqwest::Method::PUT, reqwest::Method::POST] {
        let body = json!({"id": id, "name": "test", "type": "APP", "version": "v4", "context": "NONE",
            "detail": {"function": format!("f-{method}")}, "availability": ["LOCAL"], "userGroupList": []});
        let r = c
            .request(
                method.clone(),
                sim.api(&format!("/admin/embed/actions/{id}")),
            )
            .header("Accept", "application/json")
            .header(XRB.0, XRB.1)
            .form(&[("embedaction", body.to_string())])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{method}");
        let one: Value = get(&format!("/admin/embed/actions/{id}")).json().unwrap();
        assert_eq!(one["detail"]["function"], json!(format!("f-{method}")));
        assert_eq!(one["availability"], json!(["LOCAL"]));
    }

    // Associations: POST appends, GET shows, DELETE removes.
    let assoc = |guid: &str, ctx: &str| {
        json!({"actionAssociationMap": {"ANSWER": {guid: {"enabled": "true", "context": ctx}}}})
            .to_string()
    };
    let path = format!("/admin/embed/actions/{id}/associations");
    for (guid, ctx) in [("a1", "PRIMARY"), ("a2", "MENU")] {
        let r = c
            .post(sim.api(&path))
            .header(XRB.0, XRB.1)
            .form(&[("actionassociation", assoc(guid, ctx))])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let echoed: Value = r.json().unwrap();
        assert_eq!(echoed["ANSWER"][guid]["context"], json!(ctx));
    }
    let map: Value = get(&path).json().unwrap();
    assert_eq!(map["ANSWER"].as_object().unwrap().len(), 2);
    let r = c
        .delete(sim.api(&path))
        .header(XRB.0, XRB.1)
        .form(&[("actionassociation", assoc("a1", "PRIMARY"))])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let map: Value = get(&path).json().unwrap();
    assert_eq!(
        map,
        json!({"ANSWER": {"a2": {"enabled": "true", "context": "MENU"}}})
    );

    // Delete answers the deleted action.
    let r = c
        .delete(sim.api(&format!("/admin/embed/actions/{id}")))
        .header(XRB.0, XRB.1)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let gone: Value = r.json().unwrap();
    assert_eq!(gone["id"], json!(id));
    assert_eq!(get(&format!("/admin/embed/actions/{id}")).status(), 404);

    // Object headers: one type per call, as a real cluster answers them.
    // Without a type only Liveboards come back; headers carry no type;
    // an unknown type is a 500.
    let liveboards: Value = get("/metadata/listobjectheaders").json().unwrap();
    assert_eq!(liveboards.as_array().unwrap().len(), 1);
    assert_eq!(liveboards[0]["name"], json!("Executive overview"));
    let answers: Value = get("/metadata/listobjectheaders?type=QUESTION_ANSWER_BOOK&batchsize=-1")
        .json()
        .unwrap();
    assert_eq!(answers.as_array().unwrap().len(), 2);
    assert!(answers[0].get("type").is_none(), "{answers}");
    let worksheets: Value =
        get("/metadata/listobjectheaders?type=LOGICAL_TABLE&subtypes=%5B%22WORKSHEET%22%5D")
            .json()
            .unwrap();
    assert_eq!(worksheets[0]["name"], json!("Sales worksheet"));
    let paged: Value =
        get("/metadata/listobjectheaders?type=QUESTION_ANSWER_BOOK&batchsize=1&offset=1")
            .json()
            .unwrap();
    assert_eq!(paged.as_array().unwrap().len(), 1);
    assert_eq!(paged[0], answers[1]);
    assert_eq!(get("/metadata/listobjectheaders?type=ANSWER").status(), 500);

    // Logout ends the session.
    let r = c
        .post(sim.api("/session/logout"))
        .header(XRB.0, XRB.1)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get("/admin/configinfo").status(), 401);
}

#[test]
fn error_statuses() {
    let sim = TestSim::start(None, Faults::default());
    let anon = http();
    // 401 without a session or token; 401 for bad credentials.
    assert_eq!(
        anon.get(sim.api("/admin/configinfo"))
            .header(XRB.0, XRB.1)
            .send()
            .unwrap()
            .status(),
        401
    );
    let bad = anon
        .post(sim.api("/session/login"))
        .header(XRB.0, XRB.1)
        .form(&[("username", "admin"), ("password", "wrong")])
        .send()
        .unwrap();
    assert_eq!(bad.status(), 401);
    // Bearer tokens.
    let r = anon
        .get(sim.api("/admin/configinfo"))
        .header(XRB.0, XRB.1)
        .bearer_auth("test-token")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = anon
        .get(sim.api("/admin/configinfo"))
        .header(XRB.0, XRB.1)
        .bearer_auth("other")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);

    let c = http();
    login(&c, &sim);
    // X-Requested-By is required.
    assert_eq!(
        c.get(sim.api("/admin/configinfo")).send().unwrap().status(),
        400
    );
    // 404 for unknown action ids, on every method.
    let unknown = sim.api("/admin/embed/actions/00000000-0000-4000-8000-000000000000");
    assert_eq!(
        c.get(&unknown)
            .header(XRB.0, XRB.1)
            .send()
            .unwrap()
            .status(),
        404
    );
    let body = [(
        "embedaction",
        json!({"name": "x", "type": "URL"}).to_string(),
    )];
    assert_eq!(
        c.put(&unknown)
            .header(XRB.0, XRB.1)
            .form(&body)
            .send()
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.delete(&unknown)
            .header(XRB.0, XRB.1)
            .send()
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.get(format!("{unknown}/associations"))
            .header(XRB.0, XRB.1)
            .send()
            .unwrap()
            .status(),
        404
    );

    let post = |path: &str, name: &str, value: &str| {
        c.post(sim.api(path))
            .header(XRB.0, XRB.1)
            .form(&[(name, value)])
            .send()
            .unwrap()
    };
    let msg = |r: reqwest::blocking::Response| {
        r.json::<Value>().unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // configinfo/update: unknown keys named, wrong types, regex, actions, malformed.
    let r = post(
        "/admin/configinfo/update",
        "configchanges",
        r#"{"noSuchKey.really": 1}"#,
    );
    assert_eq!(r.status(), 400);
    assert!(msg(r).contains("noSuchKey.really"));
    assert_eq!(
        post(
            "/admin/configinfo/update",
            "configchanges",
            r#"{"maxFilterValues": "many"}"#
        )
        .status(),
        400
    );
    assert_eq!(
        post(
            "/admin/configinfo/update",
            "configchanges",
            r#"{"materializationConfig.refreshWindowStartTime": "13:99XX"}"#
        )
        .status(),
        400
    );
    assert_eq!(
        post(
            "/admin/configinfo/update",
            "configchanges",
            r#"{"embedActionConfigList": []}"#
        )
        .status(),
        400
    );
    assert_eq!(
        post("/admin/configinfo/update", "configchanges", "{not json").status(),
        400
    );
    assert_eq!(
        post("/admin/configinfo/update", "other", "{}").status(),
        400
    );
    // Malformed actions; duplicate names.
    assert_eq!(
        post(
            "/admin/embed/actions",
            "embedaction",
            r#"{"name": "x", "type": "NOPE"}"#
        )
        .status(),
        400
    );
    assert_eq!(
        post("/admin/embed/actions", "embedaction", "[]").status(),
        400
    );
    assert_eq!(
        post(
            "/admin/embed/actions",
            "embedaction",
            r#"{"name": "Send to Slack", "type": "APP"}"#
        )
        .status(),
        400
    );
    // Associations: the page's 500 "Request parsing error" on POST, 400 on DELETE.
    let id = sim.state()["actions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        post(
            &format!("/admin/embed/actions/{id}/associations"),
            "actionassociation",
            "{bad"
        )
        .status(),
        500
    );
    let r = c
        .delete(sim.api(&format!("/admin/embed/actions/{id}/associations")))
        .header(XRB.0, XRB.1)
        .form(&[(
            "actionassociation",
            r#"{"actionAssociationMap": {"ANSWER": {"not-associated": {}}}}"#,
        )])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    // Nothing above changed the state.
    let state = sim.state();
    assert_eq!(state, example());
}

#[test]
fn state_survives_restart_and_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("s.json");
    let child = ChildSim::spawn(&state_file, &[]);
    let c = http();
    let api = |p: &str| format!("{}{API}{p}", child.url);
    let r = c
        .post(api("/session/login"))
        .header(XRB.0, XRB.1)
        .form(&[("username", "admin"), ("password", "admin")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    for i in 0..20 {
        let changes = json!({"maxFilterValues": i});
        let r = c
            .post(api("/admin/configinfo/update"))
            .header(XRB.0, XRB.1)
            .form(&[("configchanges", changes.to_string())])
            .send()
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let created: Value = c
        .post(api("/admin/embed/actions"))
        .header(XRB.0, XRB.1)
        .form(&[(
            "embedaction",
            json!({"name": "kept", "type": "CALLBACK"}).to_string(),
        )])
        .send()
        .unwrap()
        .json()
        .unwrap();
    // SIGKILL right after the last acknowledged write: nothing is lost
    // (the state file and the log of changes since it was written).
    child.kill();
    let saved = serde_json::to_value(tsmigrate::sim::load_state(&state_file).unwrap()).unwrap();
    assert_eq!(saved["configinfo"]["maxFilterValues"], json!(19));
    assert!(saved["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == created["id"]));
    // A restarted simulator serves the saved state.
    let child = ChildSim::spawn(&state_file, &["--token", "t"]);
    let info: Value = http()
        .get(format!("{}{API}/admin/configinfo", child.url))
        .header(XRB.0, XRB.1)
        .bearer_auth("t")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["maxFilterValues"], json!(19));
    // No temporary files are left beside the state and its log.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["s.json", "s.json.log"]);
}

#[test]
fn concurrent_writes_are_all_saved() {
    let sim = TestSim::start(None, Faults::default());
    let url = sim.url.clone();
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let c = http();
                let r = c
                    .post(format!("{url}{API}/session/login"))
                    .header(XRB.0, XRB.1)
                    .form(&[("username", "admin"), ("password", "admin")])
                    .send()
                    .unwrap();
                assert_eq!(r.status(), 204);
                let body = json!({"name": format!("concurrent {i}"), "type": "CALLBACK"});
                let r = c
                    .post(format!("{url}{API}/admin/embed/actions"))
                    .header(XRB.0, XRB.1)
                    .form(&[("embedaction", body.to_string())])
                    .send()
                    .unwrap();
                assert_eq!(r.status(), 200);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(sim.state()["actions"].as_array().unwrap().len(), 3 + 16);
}

fn count_statuses(sim: &TestSim, n: usize) -> std::collections::BTreeMap<u16, usize> {
    let c = http();
    login(&c, sim);
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..n {
        let r = c
            .get(sim.api("/admin/configinfo"))
            .header(XRB.0, XRB.1)
            .send()
            .unwrap();
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "1");
        }
        *seen.entry(r.status().as_u16()).or_insert(0) += 1;
    }
    seen
}

#[test]
fn fault_fail_and_throttle_rates_are_seeded() {
    let faults = Faults {
        fail_rate: 0.3,
        throttle_rate: 0.2,
        seed: Some(7),
        ..Faults::default()
    };
    let a = count_statuses(&TestSim::start(None, faults.clone()), 200);
    let b = count_statuses(&TestSim::start(None, faults), 200);
    assert_eq!(a, b, "same seed, same faults");
    let (ok, unavailable, throttled) = (a[&200], a[&503], a[&429]);
    assert_eq!(ok + unavailable + throttled, 200);
    assert!((30..=90).contains(&unavailable), "{a:?}");
    assert!((15..=70).contains(&throttled), "{a:?}");
}

#[test]
fn fault_latency() {
    let sim = TestSim::start(
        None,
        Faults {
            latency_ms: 60,
            ..Faults::default()
        },
    );
    let c = http();
    let started = std::time::Instant::now();
    login(&c, &sim);
    assert!(started.elapsed() >= std::time::Duration::from_millis(60));
}

#[test]
fn fault_fail_after_until_restart() {
    let mut sim = TestSim::start(
        None,
        Faults {
            fail_after: Some(2),
            ..Faults::default()
        },
    );
    let c = http();
    login(&c, &sim);
    let update = |c: &reqwest::blocking::Client, sim: &TestSim, v: i64| {
        c.post(sim.api("/admin/configinfo/update"))
            .header(XRB.0, XRB.1)
            .form(&[("configchanges", json!({"maxFilterValues": v}).to_string())])
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(update(&c, &sim, 1), 204);
    assert_eq!(update(&c, &sim, 2), 204);
    assert_eq!(update(&c, &sim, 3), 500);
    assert_eq!(update(&c, &sim, 4), 500);
    // Reads are not writes.
    assert_eq!(
        c.get(sim.api("/admin/configinfo"))
            .header(XRB.0, XRB.1)
            .send()
            .unwrap()
            .status(),
        200
    );
    assert_eq!(sim.state()["configinfo"]["maxFilterValues"], json!(2));
    sim.restart(Faults::default());
    let c = http();
    login(&c, &sim);
    assert_eq!(update(&c, &sim, 5), 204);
}

#[test]
fn fault_reject_action() {
    let sim = TestSim::start(
        None,
        Faults {
            reject_actions: vec!["Send to Slack".into(), "brand new".into()],
            ..Faults::default()
        },
    );
    let c = http();
    login(&c, &sim);
    let state = sim.state();
    let slack = state["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Send to Slack")
        .unwrap()
        .clone();
    let crm = state["actions"][0].clone();
    let put = |a: &Value| {
        c.put(sim.api(&format!(
            "/admin/embed/actions/{}",
            a["id"].as_str().unwrap()
        )))
        .header(XRB.0, XRB.1)
        .form(&[("embedaction", a.to_string())])
        .send()
        .unwrap()
        .status()
    };
    assert_eq!(put(&slack), 400);
    assert_eq!(put(&crm), 200);
    let create = c
        .post(sim.api("/admin/embed/actions"))
        .header(XRB.0, XRB.1)
        .form(&[(
            "embedaction",
            json!({"name": "brand new", "type": "URL"}).to_string(),
        )])
        .send()
        .unwrap();
    assert_eq!(create.status(), 400);
    let del = c
        .delete(sim.api(&format!(
            "/admin/embed/actions/{}",
            slack["id"].as_str().unwrap()
        )))
        .header(XRB.0, XRB.1)
        .send()
        .unwrap();
    assert_eq!(del.status(), 400);
}

#[test]
fn sim_refuses_non_loopback_and_bad_state() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"configinfo": {}, "actions": [{"id": 1}]}"#).unwrap();
    let out = tsm_in(
        dir.path(),
        &[
            "sim",
            "--state",
            bad.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("bad.json"), "{}", stderr(&out));
    let out = tsm_in(
        dir.path(),
        &["sim", "--state", "x.json", "--listen", "0.0.0.0:0"],
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("loopback"));
}

// ---------------------------------------------------------------------------
// REST v2 over the same state

const V2: &str = "/api/rest/2.0";

fn v2(sim: &TestSim, path: &str) -> String {
    format!("{}{V2}{path}", sim.url)
}

/// POST a JSON body to a v2 path, with a bearer token unless `None`.
fn v2_post(
    sim: &TestSim,
    token: Option<&str>,
    path: &str,
    body: Value,
) -> reqwest::blocking::Response {
    let mut r = http().post(v2(sim, path)).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().unwrap()
}

fn v2_get(sim: &TestSim, token: &str, path: &str) -> reqwest::blocking::Response {
    http().get(v2(sim, path)).bearer_auth(token).send().unwrap()
}

/// A full-access token in `org` (none: the Org the user last used).
fn v2_token(sim: &TestSim, org: Option<i64>) -> String {
    let mut body = json!({"username": "admin", "password": "admin", "validity_time_in_sec": 600});
    if let Some(org) = org {
        body["org_id"] = json!(org);
    }
    let r = v2_post(sim, None, "/auth/token/full", body);
    assert_eq!(r.status(), 200);
    let t: Value = r.json().unwrap();
    assert_eq!(t["scope"]["access_type"], json!("FULL"));
    if let Some(org) = org {
        assert_eq!(t["scope"]["org_id"], json!(org));
    }
    t["token"].as_str().unwrap().to_string()
}

fn v2_actions(sim: &TestSim, token: &str) -> Vec<Value> {
    let r = v2_post(
        sim,
        Some(token),
        "/customization/custom-actions/search",
        json!({"include_group_associations": true, "include_metadata_associations": true}),
    );
    assert_eq!(r.status(), 200);
    r.json::<Vec<Value>>().unwrap()
}

fn named<'a>(actions: &'a [Value], name: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no action {name:?} in {actions:?}"))
}

/// The v2 error body: `{"error": {"message": {"code", "debug"}}}`.
fn v2_error(r: reqwest::blocking::Response, status: u16, code: u64) -> String {
    assert_eq!(r.status(), status);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"]["message"]["code"], json!(code), "{body}");
    body["error"]["message"]["debug"]
        .as_str()
        .unwrap()
        .to_string()
}

fn with_marketing() -> Value {
    let mut s = example();
    s["orgs"] = json!([{"id": 1, "name": "Marketing",
        "actions": [{"id": "a1000000-0000-4000-8000-000000000001", "name": "Mkt launch",
                     "type": "CALLBACK", "version": "v4", "context": "NONE", "application": "NONE",
                     "detail": {"function": "mkt-launch", "link": "", "authSelect": "NONE"},
                     "actionAssociationMap": {}, "availability": ["GLOBAL"], "userGroupList": []}],
        "objects": [{"id": "91000000-0000-4000-8000-000000000001", "name": "Campaigns", "type": "QUESTION_ANSWER_BOOK"},
                    {"id": "92000000-0000-4000-8000-000000000001", "name": "Marketing team", "type": "USER_GROUP"}]}]);
    s
}

#[test]
fn v2_sees_v1_changes_and_v1_sees_v2_changes() {
    let sim = TestSim::start(None, Faults::default());
    let token = v2_token(&sim, Some(0));
    let c = http();
    login(&c, &sim);

    // The stored actions, as v2 answers them.
    let actions = v2_actions(&sim, &token);
    assert_eq!(actions.len(), 3);
    let crm = named(&actions, "Open in CRM");
    assert_eq!(
        crm["action_details"]["URL"]["authentication"],
        json!({"Bearer_Token": "S3CRET-crm-bearer-2c6d0e"})
    );
    assert_eq!(
        crm["metadata_association"][0]["action_config"],
        json!({"position": "MENU", "visibility": true})
    );
    assert_eq!(
        named(&actions, "Send to Slack")["action_details"],
        json!({})
    );
    assert_eq!(
        named(&actions, "Notify owner")["user_groups"],
        json!([{"id": "b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04", "name": "Sales managers"}])
    );

    // v1 creates: v2 sees it.
    let embedaction = json!({"name": "From v1", "type": "URL", "availability": ["LOCAL"],
        "detail": {"link": "https://v1.test", "function": "from-v1", "authSelect": "API_KEY",
                   "apiKey": "X-K", "apiValue": "val", "authToken": "", "additionalUrlHeaders": "{}"},
        "actionAssociationMap": {"ANSWER": {"0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62": {"enabled": "false", "context": "PRIMARY"}}}});
    let r = c
        .post(sim.api("/admin/embed/actions"))
        .header(XRB.0, XRB.1)
        .form(&[("embedaction", embedaction.to_string())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let actions = v2_actions(&sim, &token);
    assert_eq!(
        named(&actions, "From v1"),
        &json!({"id": id, "name": "From v1",
            "action_details": {"URL": {"url": "https://v1.test", "reference": "from-v1",
                "authentication": {"API_Key": {"key": "X-K", "value": "val"}}, "parameters": []}},
            "default_action_config": {"visibility": false},
            "metadata_association": [{"identifier": "0a7e9c35-d2b4-4f16-8e3a-5b1c7d9f0e62", "type": "ANSWER",
                "action_config": {"position": "PRIMARY", "visibility": false}}],
            "user_groups": []})
    );

    // v2 updates it (by name): v1 sees the change.
    let r = v2_post(
        &sim,
        Some(&token),
        "/customization/custom-actions/From%20v1/update",
        json!({"name": "From v2", "default_action_config": {"visibility": true},
            "associate_metadata": [{"identifier": "Sales worksheet", "type": "WORKSHEET",
                "action_config": {"position": "CONTEXT_MENU"}}],
            "group_identifiers": ["Sales managers"]}),
    );
    assert_eq!(r.status(), 204);
    let one: Value = c
        .get(sim.api(&format!("/admin/embed/actions/{id}")))
        .header(XRB.0, XRB.1)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(one["name"], json!("From v2"));
    assert_eq!(one["availability"], json!(["GLOBAL"]));
    assert_eq!(
        one["actionAssociationMap"]["WORKSHEET"]["8f4c2a6e-0b9d-4e13-a57c-1d3e5f7a9b02"],
        json!({"enabled": "true", "context": "CONTEXT_MENU"})
    );
    assert_eq!(
        one["userGroupList"],
        json!(["b7e3a9c1-4d2f-4a60-9e85-3c1b7d9f2e04"])
    );
    assert_eq!(
        one["detail"]["apiValue"],
        json!("val"),
        "untouched by the update"
    );

    // v2 creates: v1 sees the stored form; v2 deletes: v1 sees it gone.
    let r = v2_post(
        &sim,
        Some(&token),
        "/customization/custom-actions",
        json!({"name": "From v2 create", "action_details": {"URL": {"url": "https://v2.test",
            "authentication": {"Bearer_Token": "tok"}, "parameters": [{"key": "a", "value": "b"}]}}}),
    );
    assert_eq!(r.status(), 200);
    let created: Value = r.json().unwrap();
    assert_eq!(
        created["action_details"]["URL"]["reference"],
        json!("From v2 create")
    );
    assert_eq!(created["metadata_association"], json!([]));
    assert_eq!(created["user_groups"], json!([]));
    let new_id = created["id"].as_str().unwrap();
    let stored: Value = c
        .get(sim.api(&format!("/admin/embed/actions/{new_id}")))
        .header(XRB.0, XRB.1)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        stored,
        json!({"id": new_id, "name": "From v2 create", "version": "v2", "type": "URL",
            "detail": {"link": "https://v2.test", "function": "From v2 create", "authSelect": "BEARER",
                "authToken": "tok", "apiKey": "", "apiValue": "", "encodeUser": "",
                "additionalUrlHeaders": "{}", "parameters": [{"key": "a", "value": "b"}]},
            "actionAssociationMap": {}, "context": "NONE", "availability": ["GLOBAL"],
            "application": "NONE", "userGroupList": []})
    );
    let r = v2_post(
        &sim,
        Some(&token),
        &format!("/customization/custom-actions/{new_id}/delete"),
        json!({}),
    );
    assert_eq!(r.status(), 204);
    let gone = c
        .get(sim.api(&format!("/admin/embed/actions/{new_id}")))
        .header(XRB.0, XRB.1)
        .send()
        .unwrap();
    assert_eq!(gone.status(), 404);

    // Config: v1 writes, v2 reads; v2 writes (dotted), v1 reads.
    let r = c
        .post(sim.api("/admin/configinfo/update"))
        .header(XRB.0, XRB.1)
        .form(&[("configchanges", r#"{"maxFilterValues": 77}"#)])
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let overrides: Value = v2_get(&sim, &token, "/system/config-overrides")
        .json()
        .unwrap();
    let info = overrides["config_override_info"].as_object().unwrap();
    assert_eq!(info["maxFilterValues"], json!(77));
    assert_eq!(
        info["samlConfiguration.updateUserGroupsFromSAML"],
        json!(false)
    );
    assert!(!info.contains_key("embedActionConfigList"));
    let r = v2_post(
        &sim,
        Some(&token),
        "/system/config-update",
        json!({"configuration": {"samlConfiguration.enabled": true, "emailConfig.fromEmail": "a@b.test"}}),
    );
    assert_eq!(r.status(), 204);
    let info: Value = c
        .get(sim.api("/admin/configinfo"))
        .header(XRB.0, XRB.1)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["samlConfiguration"]["enabled"], json!(true));
    assert_eq!(info["emailConfig"]["fromEmail"], json!("a@b.test"));
    let config: Value = v2_get(&sim, &token, "/system/config").json().unwrap();
    assert_eq!(
        config,
        json!({"okta_enabled": false, "onboarding_content_url": "", "saml_enabled": true})
    );

    // A v2 token is accepted by v1 endpoints too (--api both).
    let r = http()
        .get(sim.api("/admin/embed/actions"))
        .header(XRB.0, XRB.1)
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // Every v2 write is one logged write, in the state file's log.
    let state = sim.state();
    assert_eq!(state["configinfo"]["maxFilterValues"], json!(77));
    assert_eq!(state["actions"].as_array().unwrap().len(), 4);
}

#[test]
fn v2_tokens_and_sessions_are_bound_to_an_org() {
    let sim = TestSim::start(Some(&with_marketing()), Faults::default());
    let primary = v2_token(&sim, Some(0));
    let marketing = v2_token(&sim, Some(1));
    let names = |t: &str| -> Vec<String> {
        v2_actions(&sim, t)
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&marketing), vec!["Mkt launch"]);
    assert_eq!(names(&primary).len(), 3);
    // Written in one Org, seen only there.
    let r = v2_post(
        &sim,
        Some(&marketing),
        "/customization/custom-actions",
        json!({"name": "Mkt only", "action_details": {"CALLBACK": {}},
               "associate_metadata": [{"identifier": "Campaigns", "type": "ANSWER"}],
               "group_identifiers": ["Marketing team"]}),
    );
    assert_eq!(r.status(), 200);
    let created: Value = r.json().unwrap();
    assert_eq!(
        created["metadata_association"][0]["identifier"],
        json!("91000000-0000-4000-8000-000000000001")
    );
    assert_eq!(
        created["user_groups"],
        json!([{"id": "92000000-0000-4000-8000-000000000001", "name": "Marketing team"}])
    );
    assert_eq!(names(&marketing), vec!["Mkt launch", "Mkt only"]);
    assert!(!names(&primary).contains(&"Mkt only".to_string()));
    let stored = sim.state();
    assert_eq!(stored["orgs"][0]["actions"].as_array().unwrap().len(), 2);
    // An action of another Org is not found (400), and not changed.
    let r = v2_post(
        &sim,
        Some(&primary),
        "/customization/custom-actions/Mkt%20only/delete",
        json!({}),
    );
    assert_eq!(
        v2_error(r, 400, 10002),
        "Custom action with the specified identifier was not found."
    );
    // Metadata and groups are the Org's.
    let groups: Vec<Value> = v2_post(&sim, Some(&marketing), "/groups/search", json!({}))
        .json()
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["name"], json!("Marketing team"));
    // The user's Orgs, and the one each token is in.
    let me: Value = v2_get(&sim, &marketing, "/auth/session/user")
        .json()
        .unwrap();
    assert_eq!(me["current_org"], json!({"id": 1, "name": "Marketing"}));
    assert_eq!(me["orgs"].as_array().unwrap().len(), 2);
    assert_eq!(me["visibility"], json!("SHARABLE"));
    let orgs: Vec<Value> = v2_post(&sim, Some(&primary), "/orgs/search", json!({}))
        .json()
        .unwrap();
    assert_eq!(
        orgs[1],
        json!({"id": 1, "name": "Marketing", "description": "Marketing", "status": "ACTIVE", "visibility": "SHOW"})
    );
    let one: Vec<Value> = v2_post(
        &sim,
        Some(&primary),
        "/orgs/search",
        json!({"org_identifier": "marketing"}),
    )
    .json()
    .unwrap();
    assert_eq!(one.len(), 1);
    // Without org_id, a token lands in the Org the user last used (the
    // last token was minted in Marketing).
    let unnamed = v2_token(&sim, None);
    assert_eq!(names(&unnamed), vec!["Mkt launch", "Mkt only"]);
    // A session login names its Org by id or name (or lands in the last).
    for (ident, org) in [(json!("0"), 0), (json!("Marketing"), 1), (json!(0), 0)] {
        let c = http();
        let r = c
            .post(v2(&sim, "/auth/session/login"))
            .json(&json!({"username": "admin", "password": "admin", "org_identifier": ident, "remember_me": true}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 204);
        let me: Value = c
            .get(v2(&sim, "/auth/session/user"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(me["current_org"]["id"], json!(org), "{ident}");
        let r = c.post(v2(&sim, "/auth/session/logout")).send().unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(
            c.get(v2(&sim, "/auth/session/user"))
                .send()
                .unwrap()
                .status(),
            401
        );
    }
    assert_eq!(sim.open_sessions(), 0);
    // Unknown Orgs are a 400, in the v2 shape.
    let r = v2_post(
        &sim,
        None,
        "/auth/token/full",
        json!({"username": "admin", "password": "admin", "org_id": 99}),
    );
    v2_error(r, 400, 10002);
    let r = v2_post(
        &sim,
        None,
        "/auth/session/login",
        json!({"username": "admin", "password": "admin", "org_identifier": "Finance"}),
    );
    assert_eq!(
        v2_error(r, 400, 10002),
        "The specified org_identifier does not refer to a valid or accessible org."
    );
}

#[test]
fn v2_searches_page_with_record_size() {
    let mut state = example();
    let objects = state["objects"].as_array_mut().unwrap();
    for i in 0..23 {
        objects.push(json!({"id": format!("a{i:07}-0000-4000-8000-000000000000"),
                            "name": format!("Answer {i:02}"), "type": "QUESTION_ANSWER_BOOK"}));
        objects.push(json!({"id": format!("g{i:07}-0000-4000-8000-000000000000"),
                            "name": format!("Group {i:02}"), "type": "USER_GROUP"}));
    }
    let sim = TestSim::start(Some(&state), Faults::default());
    let token = v2_token(&sim, Some(0));
    let page = |path: &str, body: Value| -> Vec<Value> {
        let r = v2_post(&sim, Some(&token), path, body);
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    };
    // Default record_size: 10.
    assert_eq!(page("/metadata/search", json!({})).len(), 10);
    assert_eq!(page("/groups/search", json!({})).len(), 10);
    // Paging until a short page: 2 + 23 answers, 1 + 23 groups.
    for (path, query, total) in [
        ("/metadata/search", json!([{"type": "ANSWER"}]), 25),
        ("/groups/search", Value::Null, 24),
    ] {
        let mut all = Vec::new();
        let mut offset = 0;
        loop {
            let mut body = json!({"record_offset": offset, "record_size": 7});
            if !query.is_null() {
                body["metadata"] = query.clone();
            }
            let got = page(path, body);
            let n = got.len();
            all.extend(got);
            if n < 7 {
                break;
            }
            offset += 7;
        }
        assert_eq!(all.len(), total, "{path}");
        let ids: std::collections::BTreeSet<String> = all
            .iter()
            .map(|m| m.get("metadata_id").or(m.get("id")).unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), total, "{path}: no record twice");
    }
    let answers = page(
        "/metadata/search",
        json!({"metadata": [{"type": "ANSWER"}], "record_size": 1}),
    );
    assert_eq!(
        answers[0],
        json!({"metadata_id": "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35", "metadata_name": "Quarterly revenue",
            "metadata_type": "ANSWER",
            "metadata_header": {"id": "3d8b1f60-5a2c-4e97-b4d1-0c6a9e2f7b35", "name": "Quarterly revenue",
                "type": "QUESTION_ANSWER_BOOK"}})
    );
    let worksheets = page(
        "/metadata/search",
        json!({"metadata": [{"type": "LOGICAL_TABLE", "subtypes": ["WORKSHEET"]}]}),
    );
    assert_eq!(worksheets.len(), 1);
    assert_eq!(worksheets[0]["metadata_header"]["type"], json!("WORKSHEET"));
    // record_size -1 is refused, as the spec tells clients not to send it.
    for path in ["/metadata/search", "/groups/search"] {
        let r = v2_post(&sim, Some(&token), path, json!({"record_size": -1}));
        v2_error(r, 400, 10002);
    }
}

#[test]
fn v2_errors_have_the_v2_shape() {
    let sim = TestSim::start(None, Faults::default());
    // 401: no auth, an unknown token, bad credentials.
    let r = v2_post(
        &sim,
        None,
        "/customization/custom-actions/search",
        json!({}),
    );
    v2_error(r, 401, 10097);
    let r = v2_post(&sim, Some("nope"), "/orgs/search", json!({}));
    v2_error(r, 401, 10097);
    let r = v2_post(
        &sim,
        None,
        "/auth/token/full",
        json!({"username": "admin", "password": "wrong"}),
    );
    v2_error(r, 401, 10097);
    let r = v2_post(&sim, None, "/auth/token/full", json!({"username": "admin"}));
    assert_eq!(
        v2_error(r, 400, 10002),
        "Either secret_key or password must be provided."
    );
    let token = v2_token(&sim, None);
    // 400: unknown actions, duplicates, malformed bodies, config refusals.
    let r = v2_post(
        &sim,
        Some(&token),
        "/customization/custom-actions/00000000-0000-4000-8000-000000000000/update",
        json!({"name": "x"}),
    );
    assert_eq!(
        v2_error(r, 400, 10002),
        "Custom action with the specified identifier was not found."
    );
    let r = v2_post(
        &sim,
        Some(&token),
        "/customization/custom-actions",
        json!({"name": "Open in CRM", "action_details": {"CALLBACK": {}}}),
    );
    assert!(v2_error(r, 400, 10002).contains("same name already exists"));
    for bad in [
        json!({"name": "x"}),
        json!({"name": "x", "action_details": {"URL": {}}}),
        json!({"name": "x", "action_details": {"URL": {"url": "u"}, "CALLBACK": {}}}),
    ] {
        let r = v2_post(&sim, Some(&token), "/customization/custom-actions", bad);
        v2_error(r, 400, 10002);
    }
    for configuration in [
        json!({"noSuchKey.really": 1}),
        json!({"maxFilterValues": "many"}),
        json!({"embedActionConfigList": []}),
    ] {
        let r = v2_post(
            &sim,
            Some(&token),
            "/system/config-update",
            json!({ "configuration": configuration }),
        );
        v2_error(r, 400, 10002);
    }
    let r = v2_post(&sim, Some(&token), "/system/config-update", json!({}));
    v2_error(r, 400, 10002);
    let r = http()
        .post(v2(&sim, "/orgs/search"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    v2_error(r, 400, 10002);
    let r = http()
        .post(v2(&sim, "/system/config-update"))
        .bearer_auth(&token)
        .form(&[("configuration", "{}")])
        .send()
        .unwrap();
    v2_error(r, 415, 10002);
    let r = http()
        .get(v2(&sim, "/no/such/endpoint"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    v2_error(r, 404, 10002);
    // An unknown identifier: [] by default.
    let r = v2_post(
        &sim,
        Some(&token),
        "/customization/custom-actions/search",
        json!({"custom_action_identifier": "nope"}),
    );
    assert_eq!(r.json::<Value>().unwrap(), json!([]));
    // Nothing above changed the state.
    assert_eq!(sim.state(), example());
    // A revoked token is refused; revoking needs a token or a user.
    let r = v2_post(&sim, Some(&token), "/auth/token/revoke", json!({}));
    assert_eq!(
        v2_error(r, 400, 10002),
        "Either user_identifier or token must be provided."
    );
    assert_eq!(sim.running().live_tokens(), 1);
    let r = v2_post(
        &sim,
        Some(&token),
        "/auth/token/revoke",
        json!({ "token": token }),
    );
    assert_eq!(r.status(), 204);
    assert_eq!(sim.running().live_tokens(), 0);
    let r = v2_post(&sim, Some(&token), "/orgs/search", json!({}));
    v2_error(r, 401, 10097);
    // An expired token is refused, on v2 and on v1.
    let r = v2_post(
        &sim,
        None,
        "/auth/token/full",
        json!({"username": "admin", "password": "admin", "validity_time_in_sec": 1}),
    );
    let t: Value = r.json().unwrap();
    assert_eq!(
        t["expiration_time_in_millis"].as_u64().unwrap()
            - t["creation_time_in_millis"].as_u64().unwrap(),
        1000
    );
    let short = t["token"].as_str().unwrap();
    assert_eq!(
        v2_post(&sim, Some(short), "/orgs/search", json!({})).status(),
        200
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    v2_error(
        v2_post(&sim, Some(short), "/orgs/search", json!({})),
        401,
        10097,
    );
    let r = http()
        .get(sim.api("/admin/configinfo"))
        .header(XRB.0, XRB.1)
        .bearer_auth(short)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn v2_switches_and_session_ttl() {
    use tsmigrate::sim::{ApiChoice, Behaviour, V2Behaviour};
    let sim = TestSim::start_api(
        None,
        Faults {
            session_ttl: Some(std::time::Duration::from_secs(2)),
            ..Faults::default()
        },
        Behaviour::default(),
        ApiChoice::Both,
        V2Behaviour {
            config_nested: true,
            search_unknown_400: true,
            ..V2Behaviour::default()
        },
    );
    // The token lives as long as --session-ttl when that is shorter.
    let r = v2_post(
        &sim,
        None,
        "/auth/token/full",
        json!({"username": "admin", "password": "admin", "validity_time_in_sec": 3600}),
    );
    let t: Value = r.json().unwrap();
    assert_eq!(
        t["expiration_time_in_millis"].as_u64().unwrap()
            - t["creation_time_in_millis"].as_u64().unwrap(),
        2000
    );
    let token = t["token"].as_str().unwrap();
    let overrides: Value = v2_get(&sim, token, "/system/config-overrides")
        .json()
        .unwrap();
    let info = &overrides["config_override_info"];
    assert_eq!(info["samlConfiguration"]["groupMapping"], json!(""));
    assert_eq!(
        info["analystOnboardingConfig"]["setupV2Enabled"],
        json!(true)
    );
    assert!(info.get("samlConfiguration.groupMapping").is_none());
    // A nested configuration changes the leaves it names.
    let r = v2_post(
        &sim,
        Some(token),
        "/system/config-update",
        json!({"configuration": {"samlConfiguration": {"groupMapping": "g"}}}),
    );
    assert_eq!(r.status(), 204);
    let saml = &sim.state()["configinfo"]["samlConfiguration"];
    assert_eq!(saml["groupMapping"], json!("g"));
    assert_eq!(saml["emailAttributeKey"], json!("mail"), "siblings kept");
    let r = v2_post(
        &sim,
        Some(token),
        "/customization/custom-actions/search",
        json!({"custom_action_identifier": "nope"}),
    );
    assert_eq!(
        v2_error(r, 400, 10002),
        "Custom action identifier is invalid or malformed."
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    v2_error(v2_get(&sim, token, "/system/config"), 401, 10097);
}

#[test]
fn v2_writes_meet_the_faults() {
    let sim = TestSim::start(
        None,
        Faults {
            reject_actions: vec!["Notify owner".into(), "brand new".into()],
            fail_after: Some(3),
            ..Faults::default()
        },
    );
    let token = v2_token(&sim, None);
    let path = "/customization/custom-actions/Notify%20owner/update";
    let r = v2_post(&sim, Some(&token), path, json!({}));
    assert!(v2_error(r, 400, 10002).contains("rejected (injected)"));
    let r = v2_post(
        &sim,
        Some(&token),
        "/customization/custom-actions",
        json!({"name": "brand new", "action_details": {"CALLBACK": {}}}),
    );
    v2_error(r, 400, 10002);
    // Renaming an action to a rejected name is a write to it, too.
    let r = v2_post(
        &sim,
        Some(&token),
        "/customization/custom-actions/Open%20in%20CRM/update",
        json!({"name": "brand new"}),
    );
    v2_error(r, 400, 10002);
    assert_eq!(sim.writes(), 3);
    // The 4th write and after: 500, in the v2 shape.
    let r = v2_post(
        &sim,
        Some(&token),
        "/system/config-update",
        json!({"configuration": {"maxFilterValues": 1}}),
    );
    v2_error(r, 500, 10038);
    // Reads are not writes.
    let r = v2_post(
        &sim,
        Some(&token),
        "/customization/custom-actions/search",
        json!({}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(sim.writes(), 4);
    assert_eq!(sim.state(), example());
    // Injected 503s and 429s come in the v2 shape on v2 paths.
    let sim = TestSim::start(
        None,
        Faults {
            fail_rate: 0.5,
            throttle_rate: 0.5,
            seed: Some(3),
            ..Faults::default()
        },
    );
    let token = v2_token(&sim, None);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let r = v2_get(&sim, &token, "/system/config");
        let status = r.status().as_u16();
        let code = if status == 503 { 10038 } else { 10002 };
        v2_error(r, status, code);
        seen.insert(status);
    }
    assert_eq!(seen, [429, 503].into_iter().collect());
}

#[test]
fn the_api_switch_hides_the_other_api() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("s.json");
    let login_v1 = |url: &str| {
        http()
            .post(format!("{url}{API}/session/login"))
            .header(XRB.0, XRB.1)
            .form(&[("username", "admin"), ("password", "admin")])
            .send()
            .unwrap()
            .status()
    };
    let token_v2 = |url: &str| {
        http()
            .post(format!("{url}{V2}/auth/token/full"))
            .json(&json!({"username": "admin", "password": "admin"}))
            .send()
            .unwrap()
            .status()
    };
    let v1_only = ChildSim::spawn(&state_file, &["--api", "v1"]);
    assert_eq!(login_v1(&v1_only.url), 204);
    assert_eq!(token_v2(&v1_only.url), 404);
    for path in [
        "/orgs/search",
        "/customization/custom-actions/search",
        "/nope",
    ] {
        let r = http()
            .post(format!("{}{V2}{path}", v1_only.url))
            .send()
            .unwrap();
        assert_eq!(r.status(), 404, "{path} without auth: 404, not 401");
    }
    drop(v1_only);
    let v2_only = ChildSim::spawn(&state_file, &["--api", "v2", "--token", "t"]);
    assert_eq!(login_v1(&v2_only.url), 404);
    assert_eq!(token_v2(&v2_only.url), 200);
    let r = http()
        .get(format!("{}{API}/admin/configinfo", v2_only.url))
        .header(XRB.0, XRB.1)
        .bearer_auth("t")
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    // The --token works on v2 too.
    let r = http()
        .post(format!("{}{V2}/orgs/search", v2_only.url))
        .bearer_auth("t")
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(v2_only);
    let out = tsm_in(
        dir.path(),
        &[
            "sim",
            "--state",
            "x.json",
            "--listen",
            "127.0.0.1:0",
            "--api",
            "v3",
        ],
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("v3"), "{}", stderr(&out));
}

#[test]
fn v2_on_a_cluster_without_orgs() {
    use tsmigrate::sim::{ApiChoice, Behaviour, V2Behaviour};
    let sim = TestSim::start_api(
        None,
        Faults::default(),
        Behaviour {
            no_orgs: true,
            ..Behaviour::default()
        },
        ApiChoice::V2,
        V2Behaviour::default(),
    );
    let token = v2_token(&sim, Some(0));
    v2_error(
        v2_post(&sim, Some(&token), "/orgs/search", json!({})),
        403,
        10023,
    );
    let me: Value = v2_get(&sim, &token, "/auth/session/user").json().unwrap();
    assert_eq!(me["current_org"], json!({"id": 0, "name": "Primary"}));
    assert_eq!(me["orgs"], json!([{"id": 0, "name": "Primary"}]));
    let r = v2_post(
        &sim,
        None,
        "/auth/token/full",
        json!({"username": "admin", "password": "admin", "org_id": 1}),
    );
    v2_error(r, 400, 10002);
}
