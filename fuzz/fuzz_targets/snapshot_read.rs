//! Snapshot files: any bytes as `config.json` and as an action file must
//! give a document or an error, never a panic; what parses round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |b| *b == 0xff);
    let (config, action) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let config = tsmigrate::snapshot::parse_config(config, Path::new("config.json"));
    let action = tsmigrate::snapshot::parse_action(action, Path::new("actions/x.json"));
    if let (Ok(config), Ok((name, action))) = (config, action) {
        let mut actions = serde_json::Map::new();
        actions.insert(name, serde_json::Value::Object(action));
        let doc = tsmigrate::document::assemble(config, actions);
        let masked = tsmigrate::secrets::redact(&doc);
        let files = tsmigrate::snapshot::render(&masked, "http://fuzz.invalid").unwrap();
        // Written files parse back to the same document.
        let back = tsmigrate::snapshot::parse_config(&files["config.json"], Path::new("config.json")).unwrap();
        assert_eq!(serde_json::Value::Object(back), masked["config"]);
    }
});
