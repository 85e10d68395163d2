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
