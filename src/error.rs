//! The one error type of the library and the outcome of a command. Each
//! knows its exit code (DESIGN.md, "Exit codes"); `ExitStatus` is the one
//! mapping from either to the process's status.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments or a bad combination of them.
    #[error("{0}")]
    Usage(String),
    /// A file (or REF) whose content is wrong; the message names the JSON path.
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The plan's guarded values changed on the target.
    #[error("{0}")]
    Stale(String),
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
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::ClosedPipe => 0,
            Error::Usage(_) | Error::Input { .. } | Error::Io { .. } | Error::Internal(_) => 1,
            Error::Stale(_) => 3,
            Error::ApplyRestored(_) => 4,
            Error::ApplyNotRestored { .. } => 5,
            Error::Cluster { .. } => 6,
        }
    }

    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn input(file: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Error::Input {
            file: file.to_string(),
            message: message.into(),
        }
    }
}

/// A path as one shell word, so a printed command can be pasted as is.
pub fn shell_word(text: &str) -> String {
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
}
