//! Generates the diff benchmark's pair at a scale factor: 100,000 config
//! leaves with 1% changed, an id-keyed array of 10,000 items with 100
//! changed, 50 inserted and 50 removed, 2,000 actions with 20 changed (all
//! times SCALE). Writes source/target snapshot directories and canonical
//! documents (for the peers), and prints the number of real changes.
//!
//! cargo run --release --example gen_bench -- OUT_DIR [SCALE]

fn main() {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().expect("usage: gen_bench OUT_DIR [SCALE]"));
    let scale: usize = args
        .next()
        .map(|s| s.parse().expect("SCALE is a number"))
        .unwrap_or(1);
    let (target, source, changes) = tsmigrate::benchdata::generate(scale);
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
