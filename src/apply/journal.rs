//! The apply journal: one JSON line per changed object (the config, an
//! action), fsynced before its first request is sent, with its value
//! before and after; then the GUIDs of created actions and the requests the
//! cluster refused outright. Rollback needs nothing else: it compares each
//! object's live value with both. Mode 0600 in a 0700 directory outside
//! the working tree: it holds the secrets an undo may need. Concurrent
//! writers share fsyncs (group commit).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::changes::ActionOp;
use crate::error::Error;
use crate::model::Org;

pub const FORMAT: &str = "tsmigrate-journal";
pub const VERSION: u64 = 2;

/// One object as recorded before it is written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Entry {
    /// `configinfo/update`: dotted keys and their values before and after.
    Config {
        before: Map<String, Value>,
        after: Map<String, Value>,
    },
    /// An action; `before`/`after` in API form without id (`None` where
    /// it does not exist). Journals of earlier versions also say `put`
    /// (whether a PUT is among the requests): rollback works that out from
    /// `before` and `after`, so the key is read past.
    Action {
        action: ActionOp,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        before: Option<Value>,
        after: Option<Value>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Line {
    Header {
        journal: String,
        version: u64,
        /// The cluster URL.
        target: String,
        /// The Org written in, on a cluster with Orgs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        org: Option<Org>,
        #[serde(default)]
        label: String,
        #[serde(default)]
        tool: String,
    },
    Write {
        seq: u64,
        #[serde(flatten)]
        entry: Entry,
    },
    /// The GUID a create got.
    Created {
        created: u64,
        id: String,
    },
    /// Request `call` of write `refused` changed nothing (the cluster
    /// refused it on its first attempt): rollback leaves what it covers.
    Refused {
        refused: u64,
        call: usize,
    },
    Done {
        done: u64,
    },
    /// An undo re-created a deleted action under this GUID.
    Recreated {
        recreated: u64,
        id: String,
    },
    Undone {
        undone: u64,
    },
    /// Write `stray`'s create was served in another Org (one Org per user,
    /// moved by another session): action `id` is there, to be removed.
    Stray {
        stray: u64,
        id: String,
    },
    /// The stray action `id` was deleted in Org `org`.
    StrayRemoved {
        stray_removed: u64,
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        org: Option<i64>,
    },
    Finished {
        finished: String,
    },
}

/// Held while a journal file is created or deleted, and by the second
/// signal's handler from looking at the file to the exit: what it says
/// (a journal left, or none) is then still true when the process ends.
static FILES: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The lock of `FILES` (a poisoned one is as good: it guards no data).
pub fn files_lock() -> std::sync::MutexGuard<'static, ()> {
    FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub struct Journal {
    pub path: PathBuf,
    file: Arc<File>,
    /// Informational records (`done`, `undone`) not yet written: they go
    /// out with the next record, or when the journal is dropped, instead
    /// of a write(2) each on the way from one answer to the next request.
    pending: std::sync::Mutex<String>,
    written: AtomicU64,
    synced: tokio::sync::Mutex<u64>,
    next_seq: AtomicU64,
}

/// Makes `dir` (mode 0700 when we create it).
pub fn make_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| Error::io(dir, e))
}

impl Journal {
    /// Creates a new journal (mode 0600) for the cluster at `url` (in `org`).
    pub fn create(
        path: &Path,
        url: &str,
        org: Option<&Org>,
        label: &str,
    ) -> Result<Journal, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            make_private_dir(dir)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        // A journal exists with its header or not at all, as the second
        // signal's handler sees it.
        let _files = files_lock();
        let file = opts.open(path).map_err(|e| Error::io(path, e))?;
        let j = Journal::from_file(path, file, 1);
        j.append_sync(&Line::Header {
            journal: FORMAT.into(),
            version: VERSION,
            target: url.into(),
            org: org.cloned(),
            label: label.into(),
            tool: format!("tsmigrate {}", env!("CARGO_PKG_VERSION")),
        })?;
        Ok(j)
    }

    /// Opens an existing journal to append (rollback); a record cut short
    /// by a crash is closed first, so new records start on a fresh line.
    pub fn reopen(path: &Path, next_seq: u64) -> Result<Journal, Error> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| Error::io(path, e))?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(|e| Error::io(path, e))?;
            }
        }
        Ok(Journal::from_file(path, file, next_seq))
    }

    fn from_file(path: &Path, file: File, next_seq: u64) -> Journal {
        Journal {
            path: path.to_path_buf(),
            file: Arc::new(file),
            pending: std::sync::Mutex::new(String::new()),
            written: AtomicU64::new(0),
            synced: tokio::sync::Mutex::new(0),
            next_seq: AtomicU64::new(next_seq),
        }
    }

    fn append(&self, line: &Line) -> Result<u64, Error> {
        self.append_all(std::slice::from_ref(line))
    }

    /// Appends whole records (after the pending informational ones);
    /// returns how many have been written in all.
    fn append_all(&self, lines: &[Line]) -> Result<u64, Error> {
        let mut text = String::new();
        for line in lines {
            push_line(&mut text, line)?;
        }
        let mut pending = self.pending.lock().map_err(|_| poisoned())?;
        let text = if pending.is_empty() {
            text
        } else {
            pending.push_str(&text);
            std::mem::take(&mut *pending)
        };
        // One write(2) through one handle, under the lock of the pending
        // records: records never interleave; a crash can only cut the
        // last one short.
        (&*self.file)
            .write_all(text.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        drop(pending);
        let n = lines.len() as u64;
        Ok(self.written.fetch_add(n, Ordering::SeqCst) + n)
    }

    /// Queues an informational record (lost if the process is killed:
    /// rollback reads the cluster, not these).
    fn note(&self, line: &Line) {
        if let Ok(mut pending) = self.pending.lock() {
            let _ = push_line(&mut pending, line);
        }
    }

    fn append_sync(&self, line: &Line) -> Result<(), Error> {
        self.append(line)?;
        self.file.sync_data().map_err(|e| Error::io(&self.path, e))
    }

    /// Records an object and waits until it is on disk; returns its number.
    pub async fn before_write(&self, entry: Entry) -> Result<u64, Error> {
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let n = self.append(&Line::Write { seq, entry })?;
        self.sync_until(n).await?;
        Ok(seq)
    }

    /// Records several objects sharing one write and one fsync; returns
    /// their numbers, in order.
    pub async fn before_writes(&self, entries: Vec<Entry>) -> Result<Vec<u64>, Error> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let first = self
            .next_seq
            .fetch_add(entries.len() as u64, Ordering::SeqCst);
        let seqs: Vec<u64> = (first..first + entries.len() as u64).collect();
        let lines: Vec<Line> = seqs
            .iter()
            .zip(entries)
            .map(|(seq, entry)| Line::Write { seq: *seq, entry })
            .collect();
        let n = self.append_all(&lines)?;
        self.sync_until(n).await?;
        Ok(seqs)
    }

    /// Records a create's GUID (on disk before the next request for it).
    pub async fn created(&self, seq: u64, id: &str) -> Result<(), Error> {
        let n = self.append(&Line::Created {
            created: seq,
            id: id.to_string(),
        })?;
        self.sync_until(n).await
    }

    pub async fn refused(&self, seq: u64, call: usize) -> Result<(), Error> {
        let n = self.append(&Line::Refused { refused: seq, call })?;
        self.sync_until(n).await
    }

    /// Records a stray create (on disk before it is looked for).
    pub async fn stray(&self, seq: u64, id: &str) -> Result<(), Error> {
        let n = self.append(&Line::Stray {
            stray: seq,
            id: id.to_string(),
        })?;
        self.sync_until(n).await
    }

    pub async fn stray_removed(&self, seq: u64, id: &str, org: Option<i64>) -> Result<(), Error> {
        let n = self.append(&Line::StrayRemoved {
            stray_removed: seq,
            id: id.to_string(),
            org,
        })?;
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
            .await?
            .map_err(|e| Error::io(&self.path, e))?;
        *synced = upto;
        Ok(())
    }
}

impl Drop for Journal {
    /// Writes the informational records still pending (best effort: a
    /// journal that outlives the command is read by people too).
    fn drop(&mut self) {
        if let Ok(pending) = self.pending.get_mut() {
            if !pending.is_empty() {
                let _ = (&*self.file).write_all(pending.as_bytes());
            }
        }
    }
}

fn push_line(text: &mut String, line: &Line) -> Result<(), Error> {
    text.push_str(&serde_json::to_string(line).map_err(Error::Encode)?);
    text.push('\n');
    Ok(())
}

/// The journal reads the event stream for its informational records
/// (what was done, undone or created again): they are for people reading
/// the journal, and go out with the next record (see `note`).
impl super::executor::Progress for Journal {
    fn event(&self, e: &super::events::Event) {
        use super::events::Event;
        match e {
            Event::Done { seq, .. } => self.note(&Line::Done { done: *seq }),
            Event::Undone { seq: Some(seq), .. } => self.note(&Line::Undone { undone: *seq }),
            Event::Recreated { seq, id, .. } => self.note(&Line::Recreated {
                recreated: *seq,
                id: id.clone(),
            }),
            _ => {}
        }
    }
}

fn poisoned() -> Error {
    Error::Internal("the journal's pending records are poisoned".into())
}

/// A journal read back.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// The cluster URL it was written for.
    pub target: String,
    /// The Org it was written in (`None`: a cluster without Orgs).
    pub org: Option<Org>,
    pub label: String,
    /// Objects in the order they were recorded.
    pub entries: Vec<(u64, Entry)>,
    pub created: BTreeMap<u64, String>,
    /// (write, call) pairs the cluster refused on their first attempt.
    pub refused: BTreeSet<(u64, usize)>,
    pub finished: Option<String>,
    /// Actions our creates left in another Org, by GUID: the write, and
    /// whether they were removed since.
    pub strays: BTreeMap<String, (u64, bool)>,
    /// Lines that could not be read (cut short by a crash), skipped.
    pub skipped: Vec<usize>,
}

impl Record {
    pub fn next_seq(&self) -> u64 {
        self.entries.iter().map(|(s, _)| *s).max().unwrap_or(0) + 1
    }
}

pub fn read(path: &Path) -> Result<Record, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut rec = Record::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = match serde_json::from_str::<Value>(line) {
            Ok(v) => v,
            // Not JSON: a record a crash cut short. A write record is
            // synced before its request is sent, so that request never was.
            Err(_) => {
                rec.skipped.push(i + 1);
                continue;
            }
        };
        let parsed: Line = serde_json::from_value(parsed).map_err(|e| {
            Error::parse(
                path.display(),
                format!("line {}: not a journal record ({e})", i + 1),
                e,
            )
        })?;
        match parsed {
            Line::Header {
                journal,
                version,
                target,
                org,
                label,
                ..
            } => {
                if journal != FORMAT {
                    return Err(Error::input(
                        path.display(),
                        "line 1: not a tsmigrate journal",
                    ));
                }
                if version != VERSION {
                    return Err(Error::input(
                        path.display(),
                        format!("line 1: journal format {version} is not supported (this tsmigrate reads version {VERSION}); use the tsmigrate that wrote it"),
                    ));
                }
                rec.target = target;
                rec.org = org;
                rec.label = label;
            }
            Line::Write { seq, entry } => rec.entries.push((seq, entry)),
            Line::Created { created, id } => {
                rec.created.insert(created, id);
            }
            Line::Refused { refused, call } => {
                rec.refused.insert((refused, call));
            }
            // For people reading the journal: rollback finds a re-created
            // action by its name.
            Line::Done { .. } | Line::Undone { .. } | Line::Recreated { .. } => {}
            Line::Finished { finished } => rec.finished = Some(finished),
            Line::Stray { stray, id } => {
                rec.strays.insert(id, (stray, false));
            }
            Line::StrayRemoved {
                stray_removed, id, ..
            } => {
                rec.strays.insert(id, (stray_removed, true));
            }
        }
    }
    if rec.target.is_empty() {
        return Err(Error::input(
            path.display(),
            "line 1: not a tsmigrate journal (no header)",
        ));
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::events::Event;
    use crate::apply::executor::Progress;

    #[tokio::test]
    async fn torn_records_are_skipped_and_appends_start_on_a_fresh_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::create(&path, "http://127.0.0.1:1", None, "t").unwrap();
        let seq = j
            .before_write(Entry::Config {
                before: Map::new(),
                after: Map::new(),
            })
            .await
            .unwrap();
        drop(j);
        // A crash cuts the next record short.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(br#"{"seq":2,"op":"act"#).unwrap();
        drop(f);
        let rec = read(&path).unwrap();
        assert_eq!(rec.entries.len(), 1);
        assert_eq!(rec.skipped, vec![3]);
        let j = Journal::reopen(&path, rec.next_seq()).unwrap();
        j.finish("rolled back").await.unwrap();
        j.event(&Event::Undone {
            seq: Some(seq),
            pointer: "/config".into(),
        });
        let rec = read(&path).unwrap();
        assert_eq!(rec.finished.as_deref(), Some("rolled back"));
        assert_eq!(rec.skipped, vec![3], "later records are intact");
        let rec = read(&path).unwrap();
        assert_eq!(rec.entries.len(), 1);
    }

    #[tokio::test]
    async fn informational_records_go_out_with_the_next_record_or_at_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let lines = || {
            std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        };
        let j = Journal::create(&path, "http://127.0.0.1:1", None, "t").unwrap();
        let entry = || Entry::Config {
            before: Map::new(),
            after: Map::new(),
        };
        let first = j.before_write(entry()).await.unwrap();
        let done = |seq| Event::Done {
            seq,
            pointer: "/config".into(),
        };
        j.event(&done(first));
        assert_eq!(lines().len(), 2, "a done record waits for the next one");
        let second = j.before_write(entry()).await.unwrap();
        let all = lines();
        assert_eq!(all.len(), 4);
        assert_eq!(all[2], serde_json::json!({ "done": first }));
        assert_eq!(all[3]["seq"], second, "the done record came first");
        j.event(&done(second));
        drop(j);
        assert_eq!(lines()[4], serde_json::json!({ "done": second }));
        let rec = read(&path).unwrap();
        assert_eq!(rec.entries.len(), 2);
        assert!(rec.skipped.is_empty());
    }

    #[test]
    fn journals_that_say_put_or_recreated_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.jsonl");
        let lines = [
            r#"{"journal":"tsmigrate-journal","version":2,"target":"http://127.0.0.1:1","label":"t","tool":"tsmigrate 0.1.0"}"#,
            r#"{"seq":1,"op":"action","action":"update","name":"x","id":"g","before":{"name":"x"},"after":{"name":"y"},"put":true}"#,
            r#"{"seq":2,"op":"action","action":"delete","name":"z","id":"g2","before":{"name":"z"},"after":null,"put":false}"#,
            r#"{"recreated":2,"id":"g3"}"#,
            r#"{"undone":2}"#,
        ];
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let rec = read(&path).unwrap();
        assert_eq!(rec.entries.len(), 2);
        assert!(rec.skipped.is_empty());
        assert!(matches!(&rec.entries[0].1, Entry::Action { name, .. } if name == "x"));
    }
}
