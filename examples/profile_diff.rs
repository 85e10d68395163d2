//! Times the stages of `diff` over two snapshot directories (development aid).
fn main() {
    let mut a = std::env::args().skip(1);
    let (s, t) = (a.next().unwrap(), a.next().unwrap());
    let c = std::fs::read(format!("{s}/config.json")).unwrap();
    let t5 = std::time::Instant::now();
    let v: serde_json::Value = serde_json::from_slice(&c).unwrap();
    let t6 = t5.elapsed();
    let t7 = std::time::Instant::now();
    drop(v);
    eprintln!("config.json parse {t6:?} drop {:?}", t7.elapsed());
    let t0 = std::time::Instant::now();
    let (sd, _) = tsmigrate::snapshot::read(std::path::Path::new(&s)).unwrap();
    let t1 = t0.elapsed();
    let (td, _) = tsmigrate::snapshot::read(std::path::Path::new(&t)).unwrap();
    let t2 = t0.elapsed();
    let ops = tsmigrate::diff::diff(&td, &sd);
    let t3 = t0.elapsed();
    let out = serde_json::to_string_pretty(&tsmigrate::diff::patch_json(&ops)).unwrap();
    let t4 = t0.elapsed();
    eprintln!(
        "read src {t1:?} read tgt {:?} diff {:?} render {:?} ({} bytes)",
        t2 - t1,
        t3 - t2,
        t4 - t3,
        out.len()
    );
}
