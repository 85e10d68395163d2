//! Where the simulator keeps its state: the state file (a snapshot) and
//! beside it `<state file>.log`, one line per accepted change since the
//! snapshot, fsynced before the change is answered. A write costs its own
//! size, not the state's. The log's first line names the snapshot it
//! follows (by hash), so a log left over from an older snapshot is never
//! replayed onto a newer one; compaction (at start, at stop, and when the
//! log outgrows the snapshot) writes a new snapshot, then a new log.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::state::{Mutation, SimState};
use crate::error::Error;

/// The log is compacted once it is larger than the snapshot and this.
const COMPACT_AT: u64 = 16 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct LogHeader {
    base: String,
}

pub struct Store {
    path: PathBuf,
    log: File,
    log_bytes: u64,
    snapshot_bytes: u64,
}

pub fn log_path(state_file: &Path) -> PathBuf {
    let mut name = state_file.as_os_str().to_os_string();
    name.push(".log");
    PathBuf::from(name)
}

fn digest(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The state a state file holds: its snapshot and the changes logged
/// since (what a restarted simulator would serve).
pub fn read(path: &Path) -> Result<Option<SimState>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut state: SimState = crate::json::file::parse(&bytes, path)?;
    state.validate().map_err(|why| Error::Input {
        file: path.display().to_string(),
        message: why,
    })?;
    for m in logged_changes(&log_path(path), &digest(&bytes))? {
        state.apply(&m);
    }
    Ok(Some(state))
}

/// The changes of the log that follows the snapshot with hash `base`; a
/// line cut short by a crash (never acknowledged) ends it.
fn logged_changes(log: &Path, base: &str) -> Result<Vec<Mutation>, Error> {
    let file = match File::open(log) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(log, e)),
    };
    let mut lines = BufReader::new(file).lines();
    let header: Option<LogHeader> = match lines.next() {
        Some(Ok(l)) => serde_json::from_str(&l).ok(),
        _ => None,
    };
    if header.is_none_or(|h| h.base != base) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for line in lines {
        let Ok(line) = line else { break };
        match serde_json::from_str::<Mutation>(&line) {
            Ok(m) => out.push(m),
            Err(_) => break,
        }
    }
    Ok(out)
}

impl Store {
    /// Opens the state at `path` (made from `initial` if missing) and
    /// compacts it: the snapshot holds everything, the log starts empty.
    pub fn open(
        path: &Path,
        initial: impl FnOnce() -> SimState,
    ) -> Result<(SimState, Store), Error> {
        let state = match read(path)? {
            Some(s) => s,
            None => initial(),
        };
        let mut store = Store {
            path: path.to_path_buf(),
            log: File::create(log_path(path)).map_err(|e| Error::io(&log_path(path), e))?,
            log_bytes: 0,
            snapshot_bytes: 0,
        };
        store.compact(&state).map_err(|e| Error::io(path, e))?;
        Ok((state, store))
    }

    /// Appends changes with one fsync.
    pub fn append(&mut self, changes: &[Mutation]) -> std::io::Result<()> {
        let mut text = String::new();
        for m in changes {
            text.push_str(&serde_json::to_string(m).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        self.log.write_all(text.as_bytes())?;
        self.log.sync_data()?;
        self.log_bytes += text.len() as u64;
        Ok(())
    }

    pub fn wants_compaction(&self) -> bool {
        self.log_bytes > COMPACT_AT.max(self.snapshot_bytes)
    }

    /// Writes `state` as the snapshot, then a fresh log that follows it.
    pub fn compact(&mut self, state: &SimState) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        self.compact_to(&bytes)
    }

    /// `compact` with the state already serialized.
    pub fn compact_to(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        crate::fsutil::write_atomic(&self.path, bytes)?;
        let header = serde_json::to_string(&LogHeader {
            base: digest(bytes),
        })
        .map_err(std::io::Error::other)?;
        let log = log_path(&self.path);
        crate::fsutil::write_atomic(&log, format!("{header}\n").as_bytes())?;
        self.log = std::fs::OpenOptions::new().append(true).open(&log)?;
        self.log_bytes = 0;
        self.snapshot_bytes = bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_survive_in_the_log_and_a_stale_log_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let (mut state, mut store) = Store::open(&path, SimState::example).unwrap();
        let m = state
            .update_config(json!({"maxFilterValues": 3}).as_object().unwrap())
            .unwrap();
        store.append(&[m]).unwrap();
        let snapshot = std::fs::read(&path).unwrap();
        // A crash cuts a line short: the acknowledged change is kept.
        std::fs::OpenOptions::new()
            .append(true)
            .open(log_path(&path))
            .unwrap()
            .write_all(b"{\"config\":{\"maxFi")
            .unwrap();
        assert_eq!(
            read(&path).unwrap().unwrap().configinfo["maxFilterValues"],
            json!(3)
        );
        // After a compaction the old log would not match the snapshot.
        store.compact(&state).unwrap();
        let old_log = format!(
            "{}\n{}\n",
            serde_json::to_string(&LogHeader {
                base: digest(&snapshot)
            })
            .unwrap(),
            serde_json::to_string(&Mutation::Config(
                json!({"maxFilterValues": 99}).as_object().unwrap().clone()
            ))
            .unwrap()
        );
        std::fs::write(log_path(&path), old_log).unwrap();
        assert_eq!(
            read(&path).unwrap().unwrap().configinfo["maxFilterValues"],
            json!(3)
        );
    }
}
