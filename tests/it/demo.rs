//! `tsmigrate demo` end to end, and what any command owes its output: a
//! closed stdout is not a failure; `--color never` means no escape codes,
//! log lines included.

use std::process::{Command, Stdio};

use crate::support::*;

#[test]
fn demo_runs_the_whole_flow() {
    let work = tempfile::tempdir().unwrap();
    let out = Tsm::new(work.path())
        .args(&["demo"])
        .status(0)
        .stdout_has(&[
            "== 1. show",
            "== 4. apply --prune",
            "Plan: 7 config keys to change; actions: 1 to create, 1 to update, 1 to delete.",
            "Applied: 7 config keys, 1 action created, 1 updated, 1 deleted;",
            "verified.",
            "== 5. verify",
            "No differences.",
            "Done.",
        ])
        .run();
    assert_no_secrets("demo", &stdout(&out));
}

#[test]
fn a_closed_stdout_is_not_a_failure() {
    let work = tempfile::tempdir().unwrap();
    // `tsmigrate demo | head -1`, with the demo's own exit status.
    let out = Command::new("bash")
        .args(["-c", r#"set -o pipefail; "$0" demo | head -1"#, BIN])
        .current_dir(work.path())
        .env("XDG_STATE_HOME", work.path().join(".state"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "tsmigrate demo: two simulated clusters on loopback\n"
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn color_never_leaves_no_escape_codes_even_in_debug_logs() {
    let work = tempfile::tempdir().unwrap();
    let out = Tsm::new(work.path())
        .env("NO_COLOR", "")
        .args(&["demo", "-vv", "--color", "never"])
        .status(0)
        .stdout_has(&["Done."])
        .stderr_has(&["DEBUG", "POST /callosum/v1/tspublic/v1/session/login"])
        .run();
    assert!(!stdout(&out).contains('\u{1b}'));
    assert!(!stderr(&out).contains('\u{1b}'), "{}", stderr(&out));
    let out = Tsm::new(work.path())
        .env("NO_COLOR", "")
        .args(&["demo", "-v", "--color", "always"])
        .status(0)
        .stdout(Expect::Any)
        .stderr(Expect::Any)
        .run();
    assert!(stdout(&out).contains('\u{1b}'), "--color always colours");
}
