//! The one error type of the library. Each variant knows its exit code
//! (DESIGN.md, "Exit codes"); `main.rs` maps it in one place.

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
    #[error("{message}\njournal: {}\nrun: tsmigrate rollback --journal {} --target <REF>", journal.display(), journal.display())]
    ApplyNotRestored { message: String, journal: PathBuf },
    /// A cluster was unreachable or refused the credentials.
    #[error("{cluster}: {message}")]
    Cluster { cluster: String, message: String },
    /// A bug or an environment failure we did not foresee.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
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

pub type Result<T, E = Error> = std::result::Result<T, E>;
