//! Criterion benchmarks of the pure engine: diff, patch rendering, plan
//! guards, redaction, and snapshot reading, on the generated benchmark pair;
//! and diff and redaction on the shared corpus of clusters shaped like real
//! ones (`benchdata::corpus`: associated actions, groups, non-ASCII names,
//! secrets), the Primary Org of each side as its canonical document.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tsmigrate::benchdata::{self, corpus};
use tsmigrate::{diff, document, plan, secrets, snapshot};

fn engine(c: &mut Criterion) {
    let (target, source, changes) = benchdata::generate(1);
    let ops = diff::diff(&target, &source);
    assert_eq!(ops.len(), changes, "one op per real change");
    let mut g = c.benchmark_group("scale-1x");
    g.sample_size(20);
    g.bench_function("diff", |b| b.iter(|| diff::diff(&target, &source)));
    g.bench_function("patch_json", |b| b.iter(|| diff::patch_json(&ops)));
    g.bench_function("plan_guards", |b| {
        b.iter(|| plan::build(&ops, "s", "t", &target, None, &Default::default(), &[]).unwrap())
    });
    g.bench_function("redact", |b| b.iter(|| secrets::redact(&source)));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("snap/actions")).unwrap();
    for (rel, bytes) in snapshot::render(
        &source,
        &snapshot::Origin::new("http://bench.invalid", None),
    )
    .unwrap()
    {
        std::fs::write(dir.path().join("snap").join(rel), bytes).unwrap();
    }
    g.bench_function("snapshot_read", |b| {
        b.iter(|| snapshot::read(&dir.path().join("snap")).unwrap())
    });
    g.bench_function("snapshot_write", |b| {
        b.iter_batched(
            || dir.path().join(format!("out-{}", std::process::id())),
            |out| {
                snapshot::write(
                    &out,
                    &source,
                    &snapshot::Origin::new("http://bench.invalid", None),
                    false,
                )
                .unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// The Primary Org of a corpus state as its canonical document.
fn canonical(state: &serde_json::Value) -> serde_json::Value {
    let config = state["configinfo"].as_object().cloned().unwrap_or_default();
    let actions = state["actions"].as_array().cloned().unwrap_or_default();
    document::from_api("bench", config, actions)
        .expect("the corpus reads as a cluster")
        .0
}

fn corpus(c: &mut Criterion) {
    let shape = corpus::Shape {
        actions: 5000,
        changed: 50,
        association_changes: 10,
        created: 10,
        config_sections: 1000,
        orgs: 1,
        ..corpus::Shape::default()
    };
    let pair = corpus::generate(&shape);
    let (target, source) = (canonical(&pair.target), canonical(&pair.source));
    let ops = diff::diff(&target, &source);
    assert_eq!(ops.len(), pair.summary.changes, "one op per real change");
    let mut g = c.benchmark_group("corpus-1x");
    g.sample_size(20);
    g.bench_function("diff", |b| b.iter(|| diff::diff(&target, &source)));
    g.bench_function("redact", |b| b.iter(|| secrets::redact(&source)));
    g.finish();
}

criterion_group!(benches, engine, corpus);
criterion_main!(benches);
