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

/// `demo --keep`: both simulators stay up, with their URLs printed, until
/// a signal; meanwhile the tool works against them as it would against any
/// cluster, and they hold what the demo applied.
#[test]
fn demo_keep_leaves_both_simulators_running_until_a_signal() {
    use std::io::{BufRead, BufReader};
    let work = tempfile::tempdir().unwrap();
    let mut child = Tsm::new(work.path())
        .args(&["demo", "--keep", "--color", "never"])
        .into_command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut dev, mut prod) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        let url = |l: &str| l.split_whitespace().last().map(str::to_string);
        if line.trim_start().starts_with("dev   http") {
            dev = url(&line);
        } else if line.trim_start().starts_with("prod  http") {
            prod = url(&line);
        } else if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let (dev, prod) = (dev.expect("dev's URL"), prod.expect("prod's URL"));
    assert!(dev.starts_with("http://127.0.0.1:") && prod.starts_with("http://127.0.0.1:"));
    Tsm::new(work.path())
        .logged_in()
        .args(&["diff", "--source", &dev, "--target", &prod, "--prune"])
        .status(0)
        .stdout_has(&["No differences"])
        .stderr(Expect::Any)
        .run();
    Command::new("bash")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("stopping the simulators")),
        "{rest:?}"
    );
    // Gone: nothing answers there any more.
    Tsm::new(work.path())
        .logged_in()
        .env("TSMIGRATE_RETRY_BASE_MS", "5")
        .args(&["diff", "--source", &dev, "--target", &prod])
        .status(6)
        .stdout(Expect::Empty)
        .stderr(Expect::Any)
        .run();
}
