//! The apply journal: one JSON line per write, fsynced before the write is
//! sent, holding what it replaces. Mode 0600: it may hold secrets needed
//! for the undo. Concurrent writers share fsyncs (group commit).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

pub const FORMAT: &str = "tsmigrate-journal";

/// One write, as recorded before it is sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Entry {
    /// `configinfo/update`: dotted keys and their values before.
    Config {
        before: Map<String, Value>,
        after: Map<String, Value>,
    },
    Create {
        name: String,
        action: Value,
    },
    /// PUT of a whole action; `before` is the live action (API form, with id).
    Update {
        name: String,
        id: String,
        before: Value,
    },
    /// Associations POSTed; `replaced` holds entries that existed before.
    AssocAdd {
        name: String,
        id: String,
        map: Value,
        replaced: Value,
    },
    AssocRemove {
        name: String,
        id: String,
        map: Value,
    },
    /// DELETE; `before` is the live action with its associations.
    Delete {
        name: String,
        id: String,
        before: Value,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Line {
    Header {
        journal: String,
        version: u64,
        target: String,
    },
    Write {
        seq: u64,
        #[serde(flatten)]
        entry: Entry,
    },
    Done {
        seq: u64,
        done: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// The cluster refused the write (4xx): nothing changed, nothing to undo.
    Refused {
        seq: u64,
        refused: bool,
    },
    Undone {
        undone: u64,
    },
    Finished {
        finished: String,
    },
}

pub struct Journal {
    pub path: PathBuf,
    file: Arc<File>,
    written: AtomicU64,
    synced: tokio::sync::Mutex<u64>,
    next_seq: AtomicU64,
}

impl Journal {
    /// Creates a new journal (mode 0600) for `target`.
    pub fn create(path: &Path, target: &str) -> Result<Journal, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path).map_err(|e| Error::io(path, e))?;
        let j = Journal::from_file(path, file, 1);
        j.append_sync(&Line::Header {
            journal: FORMAT.into(),
            version: 1,
            target: target.into(),
        })?;
        Ok(j)
    }

    /// Opens an existing journal to append (rollback).
    pub fn reopen(path: &Path, next_seq: u64) -> Result<Journal, Error> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(Journal::from_file(path, file, next_seq))
    }

    fn from_file(path: &Path, file: File, next_seq: u64) -> Journal {
        Journal {
            path: path.to_path_buf(),
            file: Arc::new(file),
            written: AtomicU64::new(0),
            synced: tokio::sync::Mutex::new(0),
            next_seq: AtomicU64::new(next_seq),
        }
    }

    fn append(&self, line: &Line) -> Result<u64, Error> {
        let mut text = serde_json::to_string(line).map_err(|e| Error::Internal(e.to_string()))?;
        text.push('\n');
        // One write(2) per line with O_APPEND semantics of a single writer
        // handle: lines never interleave.
        (&*self.file)
            .write_all(text.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(self.written.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn append_sync(&self, line: &Line) -> Result<(), Error> {
        self.append(line)?;
        self.file.sync_data().map_err(|e| Error::io(&self.path, e))
    }

    /// Records a write and waits until it is on disk; returns its number.
    pub async fn before_write(&self, entry: Entry) -> Result<u64, Error> {
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let n = self.append(&Line::Write { seq, entry })?;
        self.sync_until(n).await?;
        Ok(seq)
    }

    /// Marks a write as answered; not fsynced (rollback treats an unmarked
    /// write as possibly done and undoes it idempotently).
    pub fn done(&self, seq: u64, id: Option<String>) -> Result<(), Error> {
        self.append(&Line::Done {
            seq,
            done: true,
            id,
        })
        .map(|_| ())
    }

    /// Marks a write the cluster refused outright (nothing to undo).
    pub async fn refused(&self, seq: u64) -> Result<(), Error> {
        let n = self.append(&Line::Refused { seq, refused: true })?;
        self.sync_until(n).await
    }

    pub async fn undone(&self, seq: u64) -> Result<(), Error> {
        let n = self.append(&Line::Undone { undone: seq })?;
        self.sync_until(n).await
    }

    pub async fn finish(&self, how: &str) -> Result<(), Error> {
        let n = self.append(&Line::Finished {
            finished: how.into(),
        })?;
        self.sync_until(n).await
    }

    async fn sync_until(&self, n: u64) -> Result<(), Error> {
        let mut synced = self.synced.lock().await;
        if *synced >= n {
            return Ok(());
        }
        let upto = self.written.load(Ordering::SeqCst);
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(|e| Error::io(&self.path, e))?;
        *synced = upto;
        Ok(())
    }
}

/// A journal read back for rollback.
#[derive(Debug, Default)]
pub struct Record {
    pub target: String,
    /// Writes in the order they were recorded, with whether they were answered.
    pub writes: Vec<(u64, Entry, Option<String>)>,
    pub undone: std::collections::BTreeSet<u64>,
    pub finished: Option<String>,
}

pub fn read(path: &Path) -> Result<Record, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut rec = Record::default();
    let mut done_ids: std::collections::BTreeMap<u64, Option<String>> = Default::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<Line, _> = serde_json::from_str(line);
        let parsed = match parsed {
            Ok(l) => l,
            // A process killed mid-line leaves a torn last line: that write
            // was never sent (the line is synced before sending).
            Err(_) if i + 1 == text.lines().count() => break,
            Err(e) => return Err(Error::input(path.display(), format!("line {}: {e}", i + 1))),
        };
        match parsed {
            Line::Header {
                journal, target, ..
            } => {
                if journal != FORMAT {
                    return Err(Error::input(
                        path.display(),
                        "line 1: not a tsmigrate journal",
                    ));
                }
                rec.target = target;
            }
            Line::Write { seq, entry } => rec.writes.push((seq, entry, None)),
            Line::Done { seq, id, .. } => {
                done_ids.insert(seq, id);
            }
            Line::Undone { undone } => {
                rec.undone.insert(undone);
            }
            Line::Refused { seq, .. } => {
                rec.undone.insert(seq);
            }
            Line::Finished { finished } => rec.finished = Some(finished),
        }
    }
    if rec.target.is_empty() {
        return Err(Error::input(
            path.display(),
            "line 1: not a tsmigrate journal (no header)",
        ));
    }
    for (seq, _, id) in rec.writes.iter_mut() {
        if let Some(done) = done_ids.remove(seq) {
            *id = done.or_else(|| Some(String::new()));
        }
    }
    Ok(rec)
}
