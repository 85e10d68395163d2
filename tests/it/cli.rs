//! The command line itself: help texts (pinned), version, completions, man page.

use crate::snap;
use crate::support::*;

#[test]
fn help_texts_are_pinned_and_carry_examples() {
    let work = tempfile::tempdir().unwrap();
    let commands = [
        "",
        "sim",
        "show",
        "export",
        "diff",
        "plan",
        "apply",
        "rollback",
        "validate",
        "watch",
        "rollout",
        "demo",
        "completions",
        "manpage",
    ];
    for cmd in commands {
        let mut args: Vec<&str> = cmd.split_whitespace().collect();
        args.push("--help");
        let out = tsm_in(work.path(), &args);
        assert_eq!(code(&out), 0, "{cmd}");
        let text = stdout(&out);
        if !cmd.is_empty() {
            assert!(text.contains("Example"), "`{cmd} --help` shows an example");
        }
        let name = if cmd.is_empty() {
            "help".to_string()
        } else {
            format!("help_{cmd}")
        };
        snap!(name.as_str(), text);
    }
}

#[test]
fn version_completions_and_man_page() {
    let work = tempfile::tempdir().unwrap();
    let out = tsm_in(work.path(), &["--version"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        format!("tsmigrate {}\n", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = tsm_in(work.path(), &["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}");
        assert!(
            stdout(&out).contains("rollback"),
            "{shell} completions know the commands"
        );
    }
    let out = tsm_in(work.path(), &["manpage"]);
    assert_eq!(code(&out), 0);
    assert!(
        stdout(&out).starts_with(".ie") || stdout(&out).contains(".TH tsmigrate"),
        "{}",
        &stdout(&out)[..200]
    );
    let page = stdout(&out);
    for section in [
        "COMMANDS",
        "EXAMPLES",
        "ENVIRONMENT",
        "\"EXIT STATUS\"",
        "FILES",
    ] {
        assert!(
            page.contains(&format!(".SH {section}\n")),
            "man page lacks {section}"
        );
    }
    assert!(
        page.contains("tsmigrate diff \\-\\-source snapshots/dev \\-\\-target prod \\-\\-prune\n")
            && page.contains("tsmigrate export \\-\\-cluster prod \\-\\-out snapshots/prod\n"),
        "the examples of the top-level help and of each command"
    );
    assert!(
        page.contains(".TP\n\\-\\-state <FILE>\n"),
        "arguments with their values"
    );
    for command in [
        "sim", "show", "export", "diff", "plan", "validate", "apply", "rollback", "watch",
        "rollout", "demo",
    ] {
        assert!(
            page.contains(&format!("tsmigrate {command}"))
                || page.contains(&format!("\\fB{command}\\fR")),
            "man page lacks the command {command}"
        );
    }
    // Every variable the source reads is described.
    let var = regex::Regex::new(r#""((?:TS|TSMIGRATE)_[A-Z_]*[A-Z])_?""#).unwrap();
    for file in walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")) {
        let code = std::fs::read_to_string(&file).unwrap();
        for m in var.captures_iter(&code) {
            let name = m[1].replace('_', "\\_");
            assert!(
                page.contains(&m[1]) || page.contains(&name),
                "{} reads {} but the man page's ENVIRONMENT does not name it",
                file.display(),
                &m[1]
            );
        }
    }
    // One page: no references to pages that are not generated.
    let subpage = regex::Regex::new(r"tsmigrate\\?-[a-z]+\\?\(1\\?\)").unwrap();
    assert!(!subpage.is_match(&page), "the man page refers to a subpage");
    let out = tsm_in(work.path(), &["completions", "tcsh"]);
    assert_eq!(code(&out), 1, "an unknown shell is a usage error");
}
