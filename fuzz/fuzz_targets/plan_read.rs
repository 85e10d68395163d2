//! Plan files: any bytes give a plan or an error, never a panic. A plan
//! that parses passes the integrity check and reads back the same once
//! written; on the example cluster (the seed's target), one that has not
//! drifted gives the desired document.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The example cluster's canonical document.
fn example() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let state: Value =
            serde_json::from_str(include_str!("../../fixtures/example-cluster.json"))
                .expect("the example cluster is JSON");
        let config = state["configinfo"].as_object().cloned().unwrap_or_default();
        let actions = state["actions"].as_array().cloned().unwrap_or_default();
        tsmigrate::document::from_api("example", config, actions)
            .expect("the example cluster's actions are well formed")
            .0
    })
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("plan.json");
    let Ok(plan) = tsmigrate::plan::parse(data, path) else {
        return;
    };
    if let Err((i, why)) = tsmigrate::plan::check_integrity(&plan) {
        panic!("a parsed plan fails its integrity check at op {i}: {why}");
    }
    let written = serde_json::to_vec_pretty(&plan).expect("a plan serializes");
    match tsmigrate::plan::parse(&written, path) {
        Ok(back) => assert_eq!(back, plan, "a written plan reads back the same"),
        Err(e) => panic!("a written plan does not parse again: {e}"),
    }
    let _ = plan.view();
    let target = example();
    let drifted = tsmigrate::plan::drift(&plan, target);
    let desired = tsmigrate::plan::desired(&plan, target, &Default::default());
    if drifted.is_empty() {
        if let Err(e) = desired {
            panic!("a plan that has not drifted does not apply: {e}");
        }
    }
});
