//! Secrets masked by path in data (show, diff json and patch, plans, exports)
//! and by value in text and messages: a value that merely contains a
//! secret's value is data and travels exactly; a secret of any JSON type is
//! a placeholder whole and resolves from `--secrets FILE` at apply.

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::snap;
use crate::support::*;

/// The source's token of "Open in CRM", also inside its link.
const HOOK_TOKEN: &str = "S3CRET-hook-token-3f7a91";
/// The source's LDAP bind password, also inside the action's function.
const BIND: &str = "S3CRET-src-bind-ff66";
/// A private key given as a list of lines.
const PRIVATE_KEY: [&str; 2] = ["S3CRET-pk-line-1-aa11", "S3CRET-pk-line-2-bb22"];
/// A number under a key that names a secret.
const PIN: u64 = 73915284;
/// A string inside an object under a key that names a secret, also inside
/// the company name.
const OBJECT_SECRET: &str = "S3CRET-obj-client-cc33";
/// The target's own values of the same secrets.
const OLD_KEY: &str = "S3CRET-old-pk-dd44";
const OLD_PIN: u64 = 11112222;
const OLD_OBJECT_SECRET: &str = "S3CRET-old-obj-ee55";

const CRM: &str = "Open in CRM";

fn link() -> String {
    format!("https://hooks.example.com/x?t={HOOK_TOKEN}")
}

fn function() -> String {
    format!("crm-{BIND}")
}

fn company() -> String {
    format!("Corp {OBJECT_SECRET}")
}

/// Every secret value either side holds, as it would be printed.
fn all_secrets() -> Vec<String> {
    let mut out: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    out.extend(
        [HOOK_TOKEN, BIND, OBJECT_SECRET, OLD_KEY, OLD_OBJECT_SECRET]
            .iter()
            .chain(&PRIVATE_KEY)
            .map(|s| s.to_string()),
    );
    out.extend([PIN.to_string(), OLD_PIN.to_string()]);
    out
}

/// `text` holds no secret value at all.
fn assert_masked(what: &str, text: &str) {
    for s in all_secrets() {
        assert!(!text.contains(&s), "{what} leaks {s}:\n{text}");
    }
}

/// `text` holds no secret value but inside the three values that merely
/// contain one, which data outputs print exactly.
fn assert_masked_but_verbatim(what: &str, text: &str) {
    let mut rest = text.to_string();
    for v in [link(), function(), company()] {
        rest = rest.replace(&v, "");
    }
    assert_masked(what, &rest);
}

fn sso(private_key: Value, pin: u64, object_secret: &str) -> Value {
    json!({
        "enabled": true,
        "privateKey": private_key,
        "pinSecret": pin,
        "clientSecret": {"value": object_secret, "issuer": "idp.example.test"},
        "passwordLoginEnabled": false,
    })
}

fn source_state() -> Value {
    let mut s = example();
    let config = &mut s["configinfo"];
    config["ssoConfig"] = sso(json!(PRIVATE_KEY), PIN, OBJECT_SECRET);
    config["ldapConfiguration"]["bindPassword"] = json!(BIND);
    config["emailConfig"]["companyName"] = json!(company());
    let crm = s["actions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["name"] == CRM)
        .unwrap();
    crm["detail"]["authToken"] = json!(HOOK_TOKEN);
    crm["detail"]["link"] = json!(link());
    crm["detail"]["function"] = json!(function());
    s
}

fn target_state() -> Value {
    let mut t = example();
    t["configinfo"]["ssoConfig"] = sso(json!([OLD_KEY]), OLD_PIN, OLD_OBJECT_SECRET);
    t
}

struct Pair {
    source: TestSim,
    target: TestSim,
    work: tempfile::TempDir,
}

fn pair() -> Pair {
    Pair {
        source: TestSim::start(Some(&source_state()), Faults::default()),
        target: TestSim::start(Some(&target_state()), Faults::default()),
        work: tempfile::tempdir().unwrap(),
    }
}

fn crm_of(state: &Value) -> Value {
    state["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == CRM)
        .unwrap()
        .clone()
}

/// What a value is in the stored state, text and all: never a `***`.
fn assert_stored_exactly(state: &Value) {
    let crm = crm_of(state);
    assert_eq!(crm["detail"]["link"], json!(link()));
    assert_eq!(crm["detail"]["function"], json!(function()));
    assert_eq!(
        state["configinfo"]["emailConfig"]["companyName"],
        json!(company())
    );
    assert!(
        !state.to_string().contains("***"),
        "a mask was stored: {state}"
    );
}

fn plan_to_stdout(p: &Pair) -> String {
    let out = Tsm::new(p.work.path())
        .logged_in()
        .args(&[
            "plan",
            "--source",
            &p.source.url,
            "--target",
            &p.target.url,
            "--out",
            "-",
        ])
        .status(0)
        .stdout(Expect::Any)
        // The diff: the plan is the output.
        .stderr_has(&["Plan: "])
        .run();
    assert_masked("the diff on stderr", &stderr(&out));
    stdout(&out)
}

#[test]
fn a_plan_printed_on_stdout_applies_values_that_contain_secrets_exactly() {
    let p = pair();
    let w = p.work.path();
    let plan = plan_to_stdout(&p);
    std::fs::write(w.join("p.json"), &plan).unwrap();
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &p.target.url,
            "--plan",
            "p.json",
            "--yes",
        ])
        .status(0)
        .stdout_has(&["verified."])
        .stderr(Expect::Any)
        .run();
    assert_masked("apply", &(stdout(&out) + &stderr(&out)));
    let state = p.target.state();
    assert_stored_exactly(&state);
    // No value was given for the secrets: the target keeps its own.
    assert_eq!(
        state["configinfo"]["ssoConfig"],
        target_state()["configinfo"]["ssoConfig"]
    );
    assert_eq!(
        crm_of(&state)["detail"]["authToken"],
        json!("S3CRET-crm-bearer-2c6d0e")
    );
    assert_masked_but_verbatim("plan --out -", &plan);
    for v in [link(), function(), company()] {
        assert!(plan.contains(&v), "the plan lacks {v}:\n{plan}");
    }
}

#[test]
fn a_plan_on_stdout_is_the_plan_file_byte_for_byte_but_made_at() {
    let p = pair();
    let w = p.work.path();
    let printed = plan_to_stdout(&p);
    Tsm::new(w)
        .logged_in()
        .args(&[
            "plan",
            "--source",
            &p.source.url,
            "--target",
            &p.target.url,
            "--out",
            "p.json",
        ])
        .status(0)
        .stdout_has(&["Plan: "])
        .stderr(Expect::Any)
        .run();
    let written = std::fs::read_to_string(w.join("p.json")).unwrap();
    let made_at = regex::Regex::new(r#""made_at": "[^"]*""#).unwrap();
    assert_eq!(made_at.find_iter(&printed).count(), 1);
    assert_eq!(
        made_at.replace(&printed, "MADE_AT"),
        made_at.replace(&written, "MADE_AT")
    );
}

#[test]
fn diff_json_and_patch_and_show_print_values_as_they_are_and_secrets_as_placeholders() {
    let p = pair();
    let w = p.work.path();
    let run = |args: &[&str]| {
        let out = Tsm::new(w)
            .logged_in()
            .args(args)
            .status(0)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        assert_masked(&format!("{args:?} on stderr"), &stderr(&out));
        let text = stdout(&out);
        assert_masked_but_verbatim(&format!("{args:?}"), &text);
        text
    };
    let diff = |format: &str| {
        run(&[
            "diff",
            "--source",
            &p.source.url,
            "--target",
            &p.target.url,
            "--format",
            format,
        ])
    };

    let printed = diff("patch");
    let patch: Value = serde_json::from_str(&printed).unwrap();
    let value_at = |path: &str| {
        patch
            .as_array()
            .unwrap()
            .iter()
            .find(|op| op["path"] == path)
            .unwrap_or_else(|| panic!("no op at {path}: {patch:#}"))["value"]
            .clone()
    };
    assert_eq!(value_at("/actions/Open in CRM/detail/link"), json!(link()));
    assert_eq!(
        value_at("/actions/Open in CRM/detail/function"),
        json!(function())
    );
    assert_eq!(
        value_at("/config/emailConfig/companyName"),
        json!(company())
    );
    for key in ["privateKey", "pinSecret", "clientSecret"] {
        let at = format!("/config/ssoConfig/{key}");
        assert_eq!(value_at(&at), json!(format!("${{secret:{at}}}")), "{key}");
    }
    assert!(
        patch.as_array().unwrap().iter().all(|op| !op["path"]
            .as_str()
            .unwrap()
            .starts_with("/config/ssoConfig/clientSecret/")),
        "a secret changes whole: {patch:#}"
    );
    snap!(
        "masking_diff_patch",
        normalize(&printed, &[&p.source.url, &p.target.url], &[w])
    );

    let report: Value = serde_json::from_str(&diff("json")).unwrap();
    let change = |pointer: &str| {
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["pointer"] == pointer)
            .unwrap_or_else(|| panic!("no change at {pointer}: {report:#}"))
            .clone()
    };
    assert_eq!(
        change("/actions/Open in CRM/detail/link")["after"],
        json!(link())
    );
    assert_eq!(
        change("/config/ssoConfig/pinSecret")["before"],
        json!("${secret:/config/ssoConfig/pinSecret}")
    );

    let shown: Value = serde_json::from_str(&run(&["show", &p.source.url])).unwrap();
    let crm = &shown["actions"][CRM]["detail"];
    assert_eq!(crm["link"], json!(link()));
    assert_eq!(crm["function"], json!(function()));
    assert_eq!(
        crm["authToken"],
        json!("${secret:/actions/Open in CRM/detail/authToken}")
    );
    assert_eq!(
        shown["config"]["emailConfig"]["companyName"],
        json!(company())
    );
    let sso = &shown["config"]["ssoConfig"];
    assert_eq!(
        sso["privateKey"],
        json!("${secret:/config/ssoConfig/privateKey}")
    );
    assert_eq!(
        sso["passwordLoginEnabled"],
        json!(false),
        "a switch is no secret"
    );
}

#[test]
fn text_outputs_and_messages_mask_every_known_secret_value() {
    let p = pair();
    let w = p.work.path();
    let out = Tsm::new(w)
        .logged_in()
        .args(&["diff", "--source", &p.source.url, "--target", &p.target.url])
        .status(0)
        .stdout_has(&["→ \"https://hooks.example.com/x?t=***\""])
        .stderr(Expect::Any)
        .run();
    assert_masked("diff --format text", &(stdout(&out) + &stderr(&out)));
    snap!(
        "masking_diff_text",
        normalize(&stdout(&out), &[&p.source.url, &p.target.url], &[w])
    );
    for format in ["summary", "markdown", "html"] {
        let out = Tsm::new(w)
            .logged_in()
            .args(&[
                "diff",
                "--source",
                &p.source.url,
                "--target",
                &p.target.url,
                "--format",
                format,
            ])
            .status(0)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        assert_masked(format, &(stdout(&out) + &stderr(&out)));
    }
    // A validation message quotes a value that holds a secret: masked in
    // the message, on stderr and in the JSON problems alike.
    let mut t = target_state();
    t["overrides"]["emailConfig.companyName"] =
        json!({"category": "MAIN", "dataType": "STRING", "regex": "[A-Za-z ]+"});
    let strict = TestSim::start(Some(&t), Faults::default());
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "validate",
            "--source",
            &p.source.url,
            "--target",
            &strict.url,
        ])
        .status(1)
        .stderr_has(&["/config/emailConfig/companyName: the target's overrides say: \"Corp ***\" does not match"])
        .run();
    assert_masked("validate", &stderr(&out));
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "validate",
            "--source",
            &p.source.url,
            "--target",
            &strict.url,
            "--format",
            "json",
        ])
        .status(1)
        .stdout_has(&[
            "\"pointer\": \"/config/emailConfig/companyName\"",
            "\"Corp ***\\\" does not match",
        ])
        .stderr(Expect::Any)
        .run();
    assert_masked("validate --format json", &(stdout(&out) + &stderr(&out)));
}

#[test]
fn secrets_of_any_type_are_placeholders_in_every_output_and_resolve_from_the_secrets_file() {
    let p = pair();
    let w = p.work.path();
    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &p.source.url, "--out", "snap"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    let exported = all_text(&w.join("snap"));
    assert_masked_but_verbatim("the snapshot", &exported);
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("snap/config.json")).unwrap())
            .unwrap();
    assert_eq!(
        config["ssoConfig"]["clientSecret"],
        json!("${secret:/config/ssoConfig/clientSecret}")
    );
    assert_eq!(config["ssoConfig"]["enabled"], json!(true));

    // The values of the snapshot's placeholders, of every JSON type.
    let secrets = json!({
        "/config/ssoConfig/privateKey": PRIVATE_KEY,
        "/config/ssoConfig/pinSecret": PIN,
        "/config/ssoConfig/clientSecret": {"value": OBJECT_SECRET, "issuer": "idp.example.test"},
        "/config/ldapConfiguration/bindPassword": BIND,
        "/actions/Open in CRM/detail/authToken": HOOK_TOKEN,
    });
    std::fs::write(w.join("secrets.json"), secrets.to_string()).unwrap();

    // Text and data outputs of the snapshot against the live target.
    let run = |args: &[&str]| {
        let out = Tsm::new(w)
            .logged_in()
            .args(args)
            .status(0)
            .stdout(Expect::Any)
            .stderr(Expect::Any)
            .run();
        assert_masked(&format!("{args:?} on stderr"), &stderr(&out));
        stdout(&out)
    };
    // Text masks the values this run knows. Without their values the
    // secrets are the target's (no change), and the values inside plain
    // fields stand as exported; with them, both are masked.
    let text = run(&["diff", "--source", "snap", "--target", &p.target.url]);
    assert_masked_but_verbatim("diff text", &text);
    assert!(!text.contains("ssoConfig"), "{text}");
    let text = run(&[
        "diff",
        "--source",
        "snap",
        "--target",
        &p.target.url,
        "--secrets",
        "secrets.json",
    ]);
    assert_masked("diff text with --secrets", &text);
    for line in [
        "privateKey: *** → *** (secret changed)",
        "pinSecret: *** → *** (secret changed)",
        "clientSecret: *** → *** (secret changed)",
        "→ \"https://hooks.example.com/x?t=***\"",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    assert_masked_but_verbatim("show snap", &run(&["show", "snap"]));
    // The plan sees the secrets change only with their values; it holds
    // placeholders all the same.
    run(&[
        "plan",
        "--source",
        "snap",
        "--target",
        &p.target.url,
        "--secrets",
        "secrets.json",
        "--out",
        "p.json",
    ]);
    assert_masked_but_verbatim(
        "the plan",
        &std::fs::read_to_string(w.join("p.json")).unwrap(),
    );
    for format in ["json", "patch", "text", "markdown"] {
        let shown = run(&["show", "p.json", "--format", format]);
        assert_masked_but_verbatim(format, &shown);
    }

    // At apply each placeholder takes the file's JSON value, whatever its type.
    let out = Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &p.target.url,
            "--plan",
            "p.json",
            "--secrets",
            "secrets.json",
            "--yes",
        ])
        .status(0)
        .stdout_has(&["verified."])
        .stderr(Expect::Any)
        .run();
    assert_masked("apply", &(stdout(&out) + &stderr(&out)));
    let state = p.target.state();
    assert_stored_exactly(&state);
    assert_eq!(
        state["configinfo"]["ssoConfig"],
        source_state()["configinfo"]["ssoConfig"]
    );
    assert_eq!(
        state["configinfo"]["ldapConfiguration"]["bindPassword"],
        json!(BIND)
    );
    assert_eq!(crm_of(&state)["detail"]["authToken"], json!(HOOK_TOKEN));
    assert_converged(w, &p.source.url, &p.target.url, &[]);
}

#[test]
fn a_placeholder_inside_a_secret_is_never_sent() {
    let p = pair();
    let w = p.work.path();
    Tsm::new(w)
        .logged_in()
        .args(&["export", "--cluster", &p.source.url, "--out", "snap"])
        .status(0)
        .stderr(Expect::Any)
        .run();
    // Edited by hand: the key's lines as placeholders of their own.
    let file = w.join("snap/config.json");
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    config["ssoConfig"]["privateKey"] = json!(["${secret:/config/ssoConfig/privateKey/0}"]);
    std::fs::write(&file, serde_json::to_string_pretty(&config).unwrap() + "\n").unwrap();
    let before = p.target.state();
    Tsm::new(w)
        .logged_in()
        .args(&[
            "apply",
            "--target",
            &p.target.url,
            "--source",
            "snap",
            "--yes",
        ])
        .status(1)
        .stderr_has(&[
            "value to write is a secret placeholder",
            "/config/ssoConfig/privateKey/0 holds ${secret:/config/ssoConfig/privateKey/0}",
            "nothing was written",
        ])
        .run();
    assert_eq!(p.target.state(), before);
}
