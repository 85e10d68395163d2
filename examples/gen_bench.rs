//! Generates the diff benchmark's pair at a scale factor: 100,000 config
//! leaves with 1% changed, an id-keyed array of 10,000 items with 100
//! changed, 50 inserted and 50 removed, 2,000 actions with 20 changed (all
//! times SCALE). Writes source/target snapshot directories and canonical
//! documents (for the peers), and prints the number of real changes.
//!
//! cargo run --release --example gen_bench -- OUT_DIR [SCALE [--corpus]]

fn main() {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().expect("usage: gen_bench OUT_DIR [SCALE]"));
    let scale: usize = args
        .next()
        .map(|s| s.parse().expect("SCALE is a number"))
        .unwrap_or(1);
    // `--corpus`: the Primary Org of the shared corpus (clusters shaped
    // like real ones) at SCALE x (5,000 actions, 100,000 config leaves).
    let (target, source, changes) = if args.next().as_deref() == Some("--corpus") {
        use tsmigrate::benchdata::corpus;
        let pair = corpus::generate(&corpus::Shape {
            actions: 5000 * scale,
            changed: 50 * scale,
            association_changes: 10 * scale,
            created: 10 * scale,
            config_sections: 1000 * scale,
            orgs: 1,
            ..corpus::Shape::default()
        });
        let canonical = |state: &serde_json::Value| {
            let config = state["configinfo"].as_object().cloned().unwrap_or_default();
            let actions = state["actions"].as_array().cloned().unwrap_or_default();
            tsmigrate::document::from_api("bench", config, actions)
                .expect("the corpus reads as a cluster")
                .0
        };
        (
            canonical(&pair.target),
            canonical(&pair.source),
            pair.summary.changes,
        )
    } else {
        tsmigrate::benchdata::generate(scale)
    };
    std::fs::create_dir_all(&out).unwrap();
    for (name, doc) in [("target", &target), ("source", &source)] {
        std::fs::write(
            out.join(format!("{name}.json")),
            serde_json::to_vec(doc).unwrap(),
        )
        .unwrap();
        let dir = out.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("actions")).unwrap();
        for (rel, bytes) in tsmigrate::snapshot::render(
            doc,
            &tsmigrate::snapshot::Origin::new("http://bench.invalid", None),
        )
        .unwrap()
        {
            std::fs::write(dir.join(rel), bytes).unwrap();
        }
    }
    println!("{changes}");
}
