//! The state directory (journals, locks): made private to the user, and
//! refused, with nothing written, where another user could have made it
//! or can enter it. The directory comes from XDG_STATE_HOME here; where
//! it comes from without HOME (the password database, `$TMPDIR`) is
//! unit-tested in `config::env`, and another owner in `fsutil`.

use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::json;
use tsmigrate::sim::Faults;

use crate::support::*;

/// A source and a target one config value apart: apply has one write to make.
fn sims() -> (TestSim, TestSim) {
    let mut changed = example();
    changed["configinfo"]["maxFilterValues"] = json!(1234);
    let source = TestSim::start(Some(&changed), Faults::default());
    let target = TestSim::start(None, Faults::default());
    (source, target)
}

fn apply(w: &Path, state: &Path, source: &TestSim, target: &TestSim) -> Tsm {
    Tsm::new(w).logged_in().env("XDG_STATE_HOME", state).args(&[
        "apply",
        "--source",
        &source.url,
        "--target",
        &target.url,
        "--yes",
    ])
}

/// Makes the unfit directory under a state home, and returns its path.
type MakeUnfit = fn(&Path) -> PathBuf;

fn private(p: &Path) {
    std::fs::create_dir_all(p).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).unwrap();
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

#[test]
fn made_private_when_missing() {
    let (source, target) = sims();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let state = w.join("xdg");
    apply(w, &state, &source, &target)
        .status(0)
        .stdout(Expect::Any) // the apply's report
        .stderr(Expect::Any)
        .run();
    assert_eq!(target.state()["configinfo"]["maxFilterValues"], json!(1234));
    for dir in ["tsmigrate", "tsmigrate/journals", "tsmigrate/locks"] {
        assert_eq!(mode(&state.join(dir)), 0o700, "{dir}");
    }
}

/// Each way a directory can be unfit, at each level the tool uses: the
/// apply is refused (exit 1) naming the directory and what is wrong, and
/// the target is left as it was.
#[test]
fn refused_when_others_can_enter_or_it_is_a_link() {
    let (source, target) = sims();
    let before = target.state();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let cases: Vec<(&str, MakeUnfit, &str)> = vec![
        (
            "a shared directory another user could have made",
            |state| {
                let dir = state.join("tsmigrate");
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
                dir
            },
            "has mode 0777",
        ),
        (
            "journals readable by the group",
            |state| {
                private(&state.join("tsmigrate"));
                let dir = state.join("tsmigrate/journals");
                std::fs::create_dir(&dir).unwrap();
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
                dir
            },
            "has mode 0750",
        ),
        (
            "the state directory a link to a private one",
            |state| {
                let real = state.with_extension("real");
                private(&real);
                std::fs::create_dir_all(state).unwrap();
                let dir = state.join("tsmigrate");
                symlink(&real, &dir).unwrap();
                dir
            },
            "is a symbolic link",
        ),
        (
            "locks a link",
            |state| {
                private(&state.join("tsmigrate"));
                private(&state.join("elsewhere"));
                let dir = state.join("tsmigrate/locks");
                symlink(state.join("elsewhere"), &dir).unwrap();
                dir
            },
            "is a symbolic link",
        ),
        (
            "a file in its place",
            |state| {
                std::fs::create_dir_all(state).unwrap();
                let dir = state.join("tsmigrate");
                std::fs::write(&dir, b"").unwrap();
                dir
            },
            "is not a directory",
        ),
    ];
    for (i, (what, make, why)) in cases.iter().enumerate() {
        let state = w.join(format!("case{i}"));
        let dir = make(&state);
        let shown = dir.display().to_string();
        apply(w, &state, &source, &target)
            .status(1)
            .stderr_has(&[
                &shown,
                why,
                "refused as tsmigrate's state directory",
                "XDG_STATE_HOME",
            ])
            .run();
        assert_eq!(target.state(), before, "{what}: the target changed");
    }
    assert_eq!(target.writes(), 0);
}
