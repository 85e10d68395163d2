//! Plan files: any bytes give a plan or an error; a parsed plan's staleness
//! check and desired document never panic on a real target document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(plan) = tsmigrate::plan::parse(data, Path::new("plan.json")) {
        let target: serde_json::Value =
            serde_json::from_str(include_str!("../../fixtures/example-cluster.json")).unwrap();
        let doc = serde_json::json!({"config": target["configinfo"], "actions": {}});
        let _ = tsmigrate::plan::drift(&plan, &doc);
        let _ = tsmigrate::plan::desired(&plan, &doc, &Default::default());
    }
});
