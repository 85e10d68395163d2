//! Peer for the diff benchmark: the json-patch crate's own `diff`, as a
//! whole process over two canonical documents.
//!
//! cargo run --release --example peer_json_patch -- TARGET.json SOURCE.json

fn main() {
    let mut args = std::env::args().skip(1);
    let (t, s) = (
        args.next().expect("TARGET.json"),
        args.next().expect("SOURCE.json"),
    );
    let target: serde_json::Value = serde_json::from_slice(&std::fs::read(t).unwrap()).unwrap();
    let source: serde_json::Value = serde_json::from_slice(&std::fs::read(s).unwrap()).unwrap();
    let patch = json_patch::diff(&target, &source);
    println!("{}", serde_json::to_string(&patch).unwrap());
}
