//! One apply at a time per target: an exclusive lock on a file named after
//! the target's identity (cluster URL and Org), in the state directory.
//! The holder writes who it is into the file, so a refused second apply
//! can name it. The lock goes with the process, however it ends.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Held while it lives.
#[derive(Debug)]
pub struct TargetLock {
    _file: File,
    /// When it was taken.
    taken: Instant,
}

/// A live target read while its lock was held: what an apply writes
/// from. Only `TargetLock::vouch` makes one, and it lives no longer than
/// the lock, so a read taken before the lock (stale by the time anything
/// is written) cannot become an apply. The apply may keep of the side's
/// document only the part it writes (`Locked::keep_only`), to hold less.
pub struct Locked<'a> {
    side: &'a mut crate::fetch::Side,
    _lock: &'a TargetLock,
}

impl Locked<'_> {
    pub fn side(&self) -> &crate::fetch::Side {
        self.side
    }

    /// Keeps of the side's document only the `part` of it (and nothing
    /// of its document before ignore rules): once the changes are known,
    /// an apply needs no more of the target than what it writes, and the
    /// rest may be large.
    pub fn keep_only(&mut self, part: impl FnOnce(serde_json::Value) -> serde_json::Value) {
        self.side.doc = part(std::mem::take(&mut self.side.doc));
        self.side.raw = serde_json::Value::Null;
    }
}

impl TargetLock {
    /// `side` as read under this lock; an error if it is a snapshot or
    /// its read began before the lock was taken.
    pub fn vouch<'a>(&'a self, side: &'a mut crate::fetch::Side) -> Result<Locked<'a>, Error> {
        match side.read_at {
            Some(at) if at >= self.taken => Ok(Locked { side, _lock: self }),
            Some(_) => Err(Error::Usage(format!(
                "{}: the target was read before its lock was taken; it must be read again under the lock before anything is written",
                side.label
            ))),
            None => Err(Error::Usage(format!(
                "{}: a snapshot directory cannot be written to; name a live cluster",
                side.label
            ))),
        }
    }
}

/// The lock file of a target identity.
pub fn lock_path(dir: &Path, identity: &str) -> PathBuf {
    let digest = Sha256::digest(identity.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.lock"))
}

/// Takes the lock of `identity`, waiting up to `timeout` for a holder to
/// finish; `label` names the target in messages.
pub async fn acquire(
    dir: &Path,
    identity: &str,
    label: &str,
    timeout: Duration,
    what: &str,
) -> Result<TargetLock, Error> {
    super::journal::make_private_dir(dir)?;
    let path = lock_path(dir, identity);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    let started = Instant::now();
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = holder(&mut file);
                if started.elapsed() >= timeout {
                    return Err(Error::Usage(format!(
                        "{label}: another tsmigrate is changing this target ({holder}); nothing was written. Wait for it to end, or pass --lock-timeout to wait"
                    )));
                }
                if !told {
                    tracing::warn!("{label}: waiting for another tsmigrate to finish ({holder})");
                    told = true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
    }
    let me = format!(
        "pid {} since {}: {what}\n",
        std::process::id(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
    );
    let _ = file
        .set_len(0)
        .and_then(|_| file.seek(SeekFrom::Start(0)).map(|_| ()))
        .and_then(|_| file.write_all(me.as_bytes()));
    Ok(TargetLock {
        _file: file,
        taken: Instant::now(),
    })
}

fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.take(400).read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "holder unknown".into()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn second_holder_is_refused_naming_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "http://h|0", "h", Duration::ZERO, "apply one")
            .await
            .unwrap();
        let err = acquire(dir.path(), "http://h|0", "h", Duration::ZERO, "apply two")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("apply one") && err.contains(&std::process::id().to_string()),
            "{err}"
        );
        // Another target is free.
        acquire(dir.path(), "http://other|0", "o", Duration::ZERO, "x")
            .await
            .unwrap();
        drop(first);
        acquire(dir.path(), "http://h|0", "h", Duration::ZERO, "apply three")
            .await
            .unwrap();
    }
}
