//! The diff: for any two JSON documents, the patch turns the target into the
//! source under json-patch, and every rendering works without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |b| *b == 0xff);
    let (a, b) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let (Ok(source), Ok(target)) = (serde_json::from_slice::<Value>(a), serde_json::from_slice::<Value>(b)) else {
        return;
    };
    let ops = tsmigrate::diff::diff(&target, &source);
    let patch: json_patch::Patch = serde_json::from_value(tsmigrate::diff::patch_json_unmasked(&ops)).unwrap();
    let mut doc = target.clone();
    json_patch::patch(&mut doc, &patch).unwrap();
    assert_eq!(doc, source);
    let _ = tsmigrate::diff::render::text(&ops, &tsmigrate::diff::render::Palette::new(false));
    let _ = tsmigrate::diff::render::json_report(&ops, &Default::default(), "s", "t");
    let _ = tsmigrate::diff::render::summary(&ops);
    let _ = tsmigrate::plan::build(&ops, "s", "t", &target, &[]);
});
