//! Files that must never be half-written.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it
/// over `path` and fsyncs the directory: readers see the old or the new file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tsmigrate-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Best effort: not every filesystem lets a directory be fsynced.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Reads a file that must be a regular file of at most `cap` bytes, inside
/// `root` (a symlink is followed only where it stays inside). A FIFO, a
/// device, a directory, a link out of `root` or a larger file is an error
/// that says which.
pub fn read_regular(path: &Path, root: &Path, cap: u64) -> Result<Vec<u8>, String> {
    // The common case in four system calls (open, fstat, read, close): a
    // file that is not a link is opened without following one and checked
    // on its descriptor. Opening does not wait on a FIFO (O_NONBLOCK); the
    // check then refuses it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        match opts.open(path) {
            Ok(file) => return read_open(file, cap),
            // A symbolic link: followed only where it stays inside `root`.
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        let real = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
        let root = std::fs::canonicalize(root).map_err(|e| e.to_string())?;
        if !real.starts_with(&root) {
            return Err(format!(
                "a symbolic link to {}, outside the snapshot; refused",
                real.display()
            ));
        }
    }
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a FIFO, device or directory); refused".into());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    read_open(opts.open(path).map_err(|e| e.to_string())?, cap)
}

/// An open file, checked to be regular and at most `cap` bytes, read whole.
/// A directory opened once, whose files `read_regular_in` opens by name:
/// the kernel then walks one name per file, not the whole path.
pub struct Dir {
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
    path: std::path::PathBuf,
}

impl Dir {
    /// Opens the directory `path`; a symbolic link in its place is refused
    /// (a snapshot's `actions` must be a directory of its own, which is
    /// checked before it is opened: this closes the gap in between).
    pub fn open(path: &Path) -> std::io::Result<Dir> {
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::open(path, flags, Mode::empty())?;
            Ok(Dir {
                fd,
                path: path.to_path_buf(),
            })
        }
        #[cfg(not(unix))]
        Ok(Dir {
            path: path.to_path_buf(),
        })
    }

    /// `read_regular` of the file `name` in this directory.
    pub fn read_regular_in(
        &self,
        name: &std::ffi::OsStr,
        root: &Path,
        cap: u64,
    ) -> Result<Vec<u8>, String> {
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
            match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
                Ok(fd) => return read_open(std::fs::File::from(fd), cap),
                // A symbolic link: `read_regular` says where it may lead.
                Err(rustix::io::Errno::LOOP) => {}
                Err(e) => return Err(std::io::Error::from(e).to_string()),
            }
        }
        read_regular(&self.path.join(name), root, cap)
    }
}

fn read_open(mut file: std::fs::File, cap: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a FIFO, device or directory); refused".into());
    }
    if meta.len() > cap {
        return Err(format!(
            "{} bytes, more than the {} MiB a snapshot file may have",
            meta.len(),
            cap >> 20
        ));
    }
    let len = usize::try_from(meta.len()).map_err(|e| e.to_string())?;
    let mut bytes = vec![0u8; len];
    file.read_exact(&mut bytes)
        .map_err(|e| format!("changed while it was read ({e})"))?;
    Ok(bytes)
}

/// Refuses to write over anything but a regular file (a symlink, a FIFO, a
/// device): `write_atomic` would replace it by a rename.
pub fn check_replaceable(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.to_string()),
        Ok(m) if m.file_type().is_file() => Ok(()),
        Ok(m) if m.file_type().is_symlink() => {
            Err("is a symbolic link; refusing to replace it (name the file itself)".into())
        }
        Ok(_) => Err("exists and is not a regular file; refusing to replace it".into()),
    }
}

/// The effective uid: the owner of what this process creates.
#[cfg(unix)]
pub fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Makes the directory `dir` (mode 0700, with any missing parents) unless
/// it exists, then checks it as `check_private` does. Journals hold
/// secrets: a directory someone else made, or can enter, is refused
/// rather than used.
pub fn private_dir(dir: &Path) -> Result<(), String> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder.create(dir).map_err(|e| e.to_string())?;
            // Looked at again: someone may have put a link there first.
            std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };
    #[cfg(unix)]
    return check_private(&meta, current_uid());
    #[cfg(not(unix))]
    return check_private(&meta);
}

/// Why `meta` (from `symlink_metadata`) is not a directory private to
/// the user `uid`: a symbolic link, not a directory, another owner, or
/// access for group or others.
#[cfg(unix)]
pub fn check_private(meta: &std::fs::Metadata, uid: u32) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if meta.file_type().is_symlink() {
        return Err("is a symbolic link, not a directory of its own".into());
    }
    if !meta.is_dir() {
        return Err("exists and is not a directory".into());
    }
    if meta.uid() != uid {
        return Err(format!(
            "is owned by uid {}, not by this user (uid {uid})",
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "has mode {mode:04o}: group or others have access (it must be 0700)"
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check_private(meta: &std::fs::Metadata) -> Result<(), String> {
    if meta.file_type().is_symlink() {
        return Err("is a symbolic link, not a directory of its own".into());
    }
    if !meta.is_dir() {
        return Err("exists and is not a directory".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_the_root_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("snap");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("a.json"), b"{}").unwrap();
        std::fs::write(dir.path().join("outside.json"), b"{}").unwrap();
        assert_eq!(
            read_regular(&root.join("a.json"), &root, 10).unwrap(),
            b"{}"
        );
        assert!(read_regular(&root.join("a.json"), &root, 1)
            .unwrap_err()
            .contains("more than"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("outside.json"), root.join("out.json"))
                .unwrap();
            assert!(read_regular(&root.join("out.json"), &root, 10)
                .unwrap_err()
                .contains("outside"));
            std::os::unix::fs::symlink(root.join("a.json"), root.join("in.json")).unwrap();
            assert!(read_regular(&root.join("in.json"), &root, 10).is_ok());
            assert!(read_regular(Path::new("/dev/zero"), Path::new("/dev"), 10)
                .unwrap_err()
                .contains("regular"));
            assert!(check_replaceable(&root.join("out.json")).is_err());
            assert!(check_replaceable(Path::new("/dev/null")).is_err());
            assert!(check_replaceable(&root.join("a.json")).is_ok());
            assert!(check_replaceable(&root.join("new.json")).is_ok());
            // A directory opened for its files: not through a link.
            assert!(Dir::open(&root).is_ok());
            std::os::unix::fs::symlink(&root, dir.path().join("linked")).unwrap();
            assert!(Dir::open(&dir.path().join("linked")).is_err());
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_private_dir_is_made_0700_and_anything_else_is_refused() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("a/b/tsmigrate");
        private_dir(&state).unwrap();
        let meta = std::fs::symlink_metadata(&state).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o700);
        // Made once, then found as it is.
        private_dir(&state).unwrap();

        // Another owner, without root: the same directory seen by another uid.
        let why = check_private(&meta, meta.uid().wrapping_add(1)).unwrap_err();
        assert!(
            why.contains(&format!("owned by uid {}", meta.uid())),
            "{why}"
        );

        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o750)).unwrap();
        let why = private_dir(&state).unwrap_err();
        assert!(why.contains("mode 0750"), "{why}");
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let why = private_dir(&state).unwrap_err();
        assert!(why.contains("mode 1777"), "{why}");

        let link = dir.path().join("link");
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::symlink(&state, &link).unwrap();
        let why = private_dir(&link).unwrap_err();
        assert!(why.contains("symbolic link"), "{why}");
        // A dangling link is not followed to make a directory where it points.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(private_dir(&dangling)
            .unwrap_err()
            .contains("symbolic link"));
        assert!(!dir.path().join("nowhere").exists());

        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        assert!(private_dir(&file).unwrap_err().contains("not a directory"));
    }
}
