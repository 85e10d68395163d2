//! Criterion benchmarks of the pure engine: diff, patch rendering, plan
//! guards, redaction, and snapshot reading, on the generated benchmark pair.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tsmigrate::{benchdata, diff, plan, secrets, snapshot};

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

criterion_group!(benches, engine);
criterion_main!(benches);
