//! The side-by-side read of two snapshot directories: for any bytes as
//! each side's `config.json` and action file, it answers what reading
//! each directory in full answers (the same changes, values and
//! placeholders, or the same refusal in the same words). The oracle is
//! the one the generated-pair test in the test suite uses.
#![no_main]

use std::fs;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use tsmigrate::snapshot;

#[path = "../../tests/it/pair_oracle.rs"]
mod pair_oracle;

fuzz_target!(|data: &[u8]| {
    // Config A, config B, action A, action B, split by 0xff (which no
    // UTF-8 text holds); a missing or empty action part writes no file.
    let mut parts = data.splitn(4, |b| *b == 0xff);
    let mut next = || parts.next().unwrap_or_default();
    let (config_a, config_b, action_a, action_b) = (next(), next(), next(), next());
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write_side(&a, config_a, action_a);
    write_side(&b, config_b, action_b);
    if let Some(why) = pair_oracle::disagreement(&a, &b) {
        panic!("the side-by-side read disagrees with the full read: {why}");
    }
});

/// A snapshot directory: the tool's own `tsmigrate.json`, the given
/// `config.json`, and the action file named as the tool would name it
/// (`x.json` when the bytes give no name).
fn write_side(dir: &Path, config: &[u8], action: &[u8]) {
    let origin = snapshot::Origin::new("http://fuzz.invalid", None);
    let files = snapshot::render(&json!({"config": {}, "actions": {}}), &origin)
        .expect("an empty document renders");
    let actions = dir.join(snapshot::ACTIONS_DIR);
    fs::create_dir_all(&actions).expect("a temporary directory takes folders");
    for (rel, bytes) in files
        .iter()
        .filter(|(rel, _)| !rel.ends_with(snapshot::CONFIG_FILE))
    {
        fs::write(dir.join(rel), bytes).expect("a temporary directory takes files");
    }
    fs::write(dir.join(snapshot::CONFIG_FILE), config).expect("a temporary directory takes files");
    if action.is_empty() {
        return;
    }
    let file = match snapshot::parse_action(action, Path::new("actions/x.json")) {
        Ok((name, _)) => format!("{}.json", snapshot::slug(&name)),
        Err(_) => "x.json".to_string(),
    };
    fs::write(actions.join(file), action).expect("a temporary directory takes files");
}
