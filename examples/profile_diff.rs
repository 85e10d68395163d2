//! Times snapshot rendering and writing (development aid).
fn main() {
    let (_, source, _) = tsmigrate::benchdata::generate(1);
    let t = std::time::Instant::now();
    let files = tsmigrate::snapshot::render(&source, "http://x.invalid").unwrap();
    eprintln!("render {:?} ({} files)", t.elapsed(), files.len());
    let dir = tempfile::tempdir().unwrap();
    for i in 0..2 {
        let t = std::time::Instant::now();
        tsmigrate::snapshot::write(&dir.path().join("s"), &source, "http://x.invalid").unwrap();
        eprintln!("write #{i} {:?}", t.elapsed());
    }
}
