//! The one error type of the library and the outcome of a command. Each
//! knows its exit code (DESIGN.md, "Exit codes"); `ExitStatus` is the one
//! mapping from either to the process's status. A failure of another
//! crate is kept as the error's source, not only as words.

use std::path::{Path, PathBuf};

/// Any error kept as the source of ours.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments or a bad combination of them.
    #[error("{0}")]
    Usage(String),
    /// A file (or REF) whose content is wrong; the message names the JSON path.
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    /// The same, worded around what the parser said, which is its source.
    #[error("{file}: {message}")]
    Parse {
        file: String,
        message: String,
        source: Source,
    },
    /// A URL given on the command line or in a profile that does not parse.
    #[error("{what}: not a URL ({source})")]
    Url {
        what: String,
        source: url::ParseError,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The plan's guarded values changed on the target.
    #[error("{0}")]
    Stale(String),
    /// The plan's patch does not apply to the target any more.
    #[error("the plan no longer applies to the target: {0}")]
    PlanStale(#[source] json_patch::PatchError),
    /// Apply failed and the target was restored.
    #[error("{0}")]
    ApplyRestored(String),
    /// Apply failed and the target could not be fully restored.
    #[error("{message}\njournal: {}\nrun: tsmigrate rollback --journal {}", journal.display(), shell_word(&journal.display().to_string()))]
    ApplyNotRestored { message: String, journal: PathBuf },
    /// A cluster was unreachable or refused the credentials.
    #[error("{cluster}: {message}")]
    Cluster { cluster: String, message: String },
    /// stdout was closed by its reader (`| head`): not a failure of ours.
    #[error("stdout closed")]
    ClosedPipe,
    /// A bug or an environment failure we did not foresee.
    #[error("internal error: {0}")]
    Internal(String),
    /// A blocking task of ours panicked or was cancelled.
    #[error("internal error: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A value of ours that JSON cannot hold. Not `From`: JSON that a user
    /// wrote and that does not parse is `Input`.
    #[error("internal error: {0}")]
    Encode(#[source] serde_json::Error),
    /// The HTTP client (of `watch`'s pushes) could not be built.
    #[error("internal error: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The manual page could not be rendered.
    #[error("internal error: {0}")]
    Manpage(#[source] std::io::Error),
    /// `demo` found no place for its simulators' files.
    #[error("internal error: cannot make a scratch directory: {0}")]
    Scratch(#[source] std::io::Error),
    /// The binary could not start its async runtime.
    #[error("internal error: cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl Error {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::ClosedPipe => 0,
            Error::Usage(_)
            | Error::Input { .. }
            | Error::Parse { .. }
            | Error::Url { .. }
            | Error::Io { .. }
            | Error::Internal(_)
            | Error::Task(_)
            | Error::Encode(_)
            | Error::HttpClient(_)
            | Error::Manpage(_)
            | Error::Scratch(_)
            | Error::Runtime(_) => 1,
            Error::Stale(_) | Error::PlanStale(_) => 3,
            Error::ApplyRestored(_) => 4,
            Error::ApplyNotRestored { .. } => 5,
            Error::Cluster { .. } => 6,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn input(file: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Error::Input {
            file: file.to_string(),
            message: message.into(),
        }
    }

    /// An input error worded around the parser's own, which it keeps.
    pub(crate) fn parse(
        file: impl std::fmt::Display,
        message: impl Into<String>,
        source: impl Into<Source>,
    ) -> Self {
        Error::Parse {
            file: file.to_string(),
            message: message.into(),
            source: source.into(),
        }
    }
}

/// A path as one shell word, so a printed command can be pasted as is.
pub(crate) fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%,=".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a command that did its job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// `--exit-code` found differences; `watch --cycles` ended with drift.
    Differences,
}

/// The process's exit status, from a command's outcome or error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus(pub u8);

impl From<&Result<Outcome>> for ExitStatus {
    fn from(result: &Result<Outcome>) -> Self {
        ExitStatus(match result {
            Ok(Outcome::Success) => 0,
            Ok(Outcome::Differences) => 2,
            Err(e) => e.exit_code(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        let code = |r: Result<Outcome>| ExitStatus::from(&r).0;
        assert_eq!(code(Ok(Outcome::Success)), 0);
        assert_eq!(code(Ok(Outcome::Differences)), 2);
        assert_eq!(code(Err(Error::Usage("x".into()))), 1);
        assert_eq!(code(Err(Error::Stale("x".into()))), 3);
        assert_eq!(code(Err(Error::ApplyRestored("x".into()))), 4);
        let journal = PathBuf::from("/tmp/a b.jsonl");
        let e = Error::ApplyNotRestored {
            message: "m".into(),
            journal,
        };
        assert!(e
            .to_string()
            .ends_with("run: tsmigrate rollback --journal '/tmp/a b.jsonl'"));
        assert_eq!(code(Err(e)), 5);
        assert_eq!(code(Err(Error::ClosedPipe)), 0);
    }

    #[test]
    fn foreign_errors_are_kept_as_sources_and_worded_as_before() {
        use std::error::Error as _;
        let source = url::Url::parse("no url").unwrap_err();
        let e = Error::Url {
            what: "--push-url".into(),
            source,
        };
        assert_eq!(e.to_string(), format!("--push-url: not a URL ({source})"));
        assert!(e.source().is_some());
        assert_eq!(e.exit_code(), 1);
        let json = serde_json::from_str::<u8>("x").unwrap_err();
        let e = Error::parse("f.json", "line 1 column 1: bad", json);
        assert_eq!(e.to_string(), "f.json: line 1 column 1: bad");
        assert!(e.source().is_some());
        assert_eq!(e.exit_code(), 1);
        let json = serde_json::from_str::<u8>("x").unwrap_err();
        assert!(Error::Encode(json)
            .to_string()
            .starts_with("internal error: "));
    }
}
