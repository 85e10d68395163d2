//! Writes a pair of simulator state files shaped like real clusters (see
//! `tsmigrate::benchdata::corpus`): OUT_DIR/target.json and
//! OUT_DIR/source.json, and prints what they hold as JSON.
//!
//! cargo run --release --example gen_corpus -- OUT_DIR [--actions N]
//!   [--changed N] [--association-changes N] [--created N] [--orgs N]
//!   [--config-sections N] [--seed N]

use tsmigrate::benchdata::corpus::{generate, Shape};

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: gen_corpus OUT_DIR [--actions N] [--changed N] [--association-changes N] [--created N] [--orgs N] [--config-sections N] [--seed N]";
    let out = std::path::PathBuf::from(args.next().expect(usage));
    let mut shape = Shape::default();
    while let Some(flag) = args.next() {
        let value: u64 = args
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a number; {usage}"));
        let n = value as usize;
        match flag.as_str() {
            "--actions" => shape.actions = n,
            "--changed" => shape.changed = n,
            "--association-changes" => shape.association_changes = n,
            "--created" => shape.created = n,
            "--orgs" => shape.orgs = n,
            "--config-sections" => shape.config_sections = n,
            "--seed" => shape.seed = value,
            _ => panic!("unknown flag {flag}; {usage}"),
        }
    }
    let corpus = generate(&shape);
    std::fs::create_dir_all(&out).expect("OUT_DIR can be made");
    for (name, state) in [("target", &corpus.target), ("source", &corpus.source)] {
        std::fs::write(
            out.join(format!("{name}.json")),
            serde_json::to_vec(state).expect("a JSON value serializes"),
        )
        .expect("OUT_DIR is writable");
    }
    println!(
        "{}",
        serde_json::to_string(&corpus.summary).expect("a summary serializes")
    );
}
