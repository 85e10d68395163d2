//! A nested config key with a '.' of its own (`"nest": {"in.ner": 1}`):
//! `configchanges` names keys by dotted path, so no name reaches it. A
//! difference there is a note in the diff (not a change, so `--exit-code`
//! says what apply would write), and apply, plan and validate refuse it,
//! naming the pointer; an `--ignore` rule that leaves it out is matched.

use serde_json::{json, Value};
use tsmigrate::sim::Faults;

use crate::support::*;

const PTR: &str = "/config/nest/in.ner";
const WHY: &str = "cannot be written through the admin API: its key contains a '.'";

/// The example cluster with `nest` as given and `maxFilterValues` at `max`.
fn cluster(nest: Value, max: u64) -> Value {
    let mut c = example();
    c["configinfo"]["nest"] = nest;
    c["configinfo"]["maxFilterValues"] = json!(max);
    c
}

fn stored_config(sim: &TestSim) -> (Value, Value) {
    let c = &sim.state()["configinfo"];
    (c["nest"].clone(), c["maxFilterValues"].clone())
}

#[test]
fn a_difference_there_is_a_note_and_every_write_refuses() {
    let source = TestSim::start(
        Some(&cluster(json!({"in.ner": 1, "plain": 1}), 5000)),
        Faults::default(),
    );
    let target = TestSim::start(
        Some(&cluster(json!({"in.ner": 2, "plain": 1}), 5000)),
        Faults::default(),
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let sides = [
        "--source",
        source.url.as_str(),
        "--target",
        target.url.as_str(),
    ];
    let run = |verb: &str, extra: &[&str]| {
        let mut args = vec![verb];
        args.extend_from_slice(&sides);
        args.extend_from_slice(extra);
        Tsm::new(w).logged_in().args(&args)
    };

    let out = run("diff", &["--exit-code"])
        .status(0)
        .stdout_has(&[
            "notes (apply leaves these as they are)",
            PTR,
            WHY,
            "No differences.",
        ])
        .run();
    assert!(!stdout(&out).contains("~ in.ner"), "not a change");
    let out = run("diff", &["--format", "json"])
        .status(0)
        .stdout(Expect::Any)
        .run();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["notes"]["unwritable_config_keys"], json!([PTR]));
    assert_eq!(report["changes"], json!([]));

    for verb in ["validate", "plan", "apply"] {
        let extra: &[&str] = match verb {
            "plan" => &["--out", "p.json"],
            "apply" => &["--yes"],
            _ => &[],
        };
        run(verb, extra)
            .status(1)
            .stderr_has(&[PTR, WHY, "nothing was written"])
            .run();
    }
    assert!(!w.join("p.json").exists(), "no plan was written");
    assert_eq!(target.writes(), 0);
    assert_eq!(
        stored_config(&target),
        (json!({"in.ner": 2, "plain": 1}), json!(5000))
    );
}

#[test]
fn left_out_by_a_rule_that_counts_as_matched_the_rest_applies() {
    let source = TestSim::start(
        Some(&cluster(json!({"in.ner": 1, "plain": 1}), 1234)),
        Faults::default(),
    );
    let target = TestSim::start(
        Some(&cluster(json!({"in.ner": 2, "plain": 1}), 5000)),
        Faults::default(),
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let args = [
        "--source",
        source.url.as_str(),
        "--target",
        target.url.as_str(),
        "--ignore",
        PTR,
    ];
    let mut diff = vec!["diff", "--exit-code"];
    diff.extend_from_slice(&args);
    // Differences, no note, and no word of a rule that matches nothing.
    Tsm::new(w)
        .logged_in()
        .args(&diff)
        .status(2)
        .stdout_has(&["maxFilterValues: 5000 → 1234"])
        .run();
    let mut apply = vec!["apply", "--yes"];
    apply.extend_from_slice(&args);
    let out = Tsm::new(w)
        .logged_in()
        .args(&apply)
        .status(0)
        .stdout(Expect::Any) // the apply's report
        .stderr(Expect::Any)
        .run();
    assert!(
        !stderr(&out).contains("matches nothing"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        stored_config(&target),
        (json!({"in.ner": 2, "plain": 1}), json!(1234))
    );
    assert_converged(w, &source.url, &target.url, &["--ignore", PTR]);
}

/// Alike on both sides, the key is no obstacle: it was once taken for a
/// key the target lacks ("the target has no configuration key nest.in.ner").
#[test]
fn alike_on_both_sides_it_does_not_stand_in_the_way() {
    let nest = json!({"in.ner": 1, "plain": 1});
    let source = TestSim::start(Some(&cluster(nest.clone(), 1234)), Faults::default());
    let target = TestSim::start(Some(&cluster(nest.clone(), 5000)), Faults::default());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let sides = [
        "--source",
        source.url.as_str(),
        "--target",
        target.url.as_str(),
    ];
    let mut validate = vec!["validate"];
    validate.extend_from_slice(&sides);
    Tsm::new(w)
        .logged_in()
        .args(&validate)
        .status(0)
        .stderr_has(&["no problems found"])
        .run();
    let mut apply = vec!["apply", "--yes"];
    apply.extend_from_slice(&sides);
    Tsm::new(w)
        .logged_in()
        .args(&apply)
        .status(0)
        .stdout(Expect::Any) // the apply's report
        .stderr(Expect::Any)
        .run();
    assert_eq!(stored_config(&target), (nest, json!(1234)));
}
