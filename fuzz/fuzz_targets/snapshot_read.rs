//! Snapshot files: any bytes as `config.json` and as an action file give
//! a document or an error, never a panic; what parses, redacted and
//! written again, reads back the same from files of the expected names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tsmigrate::snapshot;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |b| *b == 0xff);
    let (config, action) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let config = snapshot::parse_config(config, Path::new("config.json"));
    let action = snapshot::parse_action(action, Path::new("actions/x.json"));
    let (Ok(config), Ok((name, action))) = (config, action) else {
        return;
    };
    let mut actions = serde_json::Map::new();
    actions.insert(name.clone(), serde_json::Value::Object(action));
    let doc = tsmigrate::document::assemble(config, actions);
    let masked = tsmigrate::secrets::redact(&doc);
    assert_eq!(
        tsmigrate::secrets::redact(&masked),
        masked,
        "redaction is idempotent"
    );
    let origin = snapshot::Origin::new("http://fuzz.invalid", None);
    let files = snapshot::render(&masked, &origin).expect("one action renders");

    let config_file = &files[snapshot::CONFIG_FILE];
    let back = snapshot::parse_config(config_file, Path::new("config.json"))
        .expect("a written config.json parses");
    assert_eq!(serde_json::Value::Object(back), masked["config"]);

    let rel = format!("{}/{}.json", snapshot::ACTIONS_DIR, snapshot::slug(&name));
    let Some(action_file) = files.get(&rel) else {
        panic!("no file {rel} for the action {name:?}");
    };
    let (back_name, back) =
        snapshot::parse_action(action_file, Path::new(&rel)).expect("a written action file parses");
    assert_eq!(back_name, name);
    assert_eq!(serde_json::Value::Object(back), masked["actions"][&name]);
    assert_eq!(
        files.len(),
        3,
        "tsmigrate.json, config.json and one action file"
    );
});
