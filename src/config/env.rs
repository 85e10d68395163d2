//! The process environment, read once at start-up: the only place the tool
//! looks at environment variables (clap reads those of its own flags).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Variables that carry values of secret placeholders start with this.
pub const SECRET_PREFIX: &str = "TSMIGRATE_SECRET_";

#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The variables of this process (those that are valid UTF-8).
    pub fn capture() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment made of `pairs` only (tests, the demo).
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Environment {
        Environment {
            vars: pairs.into_iter().collect(),
        }
    }

    /// A set, non-empty variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn no_color(&self) -> bool {
        self.get("NO_COLOR").is_some()
    }

    /// The `TSMIGRATE_SECRET_*` variables.
    pub fn secret_vars(&self) -> BTreeMap<String, String> {
        self.vars
            .iter()
            .filter(|(k, _)| k.starts_with(SECRET_PREFIX))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Where the tool keeps its own state (journals, locks):
    /// `$XDG_STATE_HOME/tsmigrate`, else `$HOME/.local/state/tsmigrate`.
    /// Without either (cron, systemd units): under the home the password
    /// database gives this user, else `$TMPDIR/tsmigrate-<uid>`. Never a
    /// name shared by every user of a machine: `fsutil::private_dir` then
    /// refuses what this user does not own alone.
    pub fn state_dir(&self) -> PathBuf {
        let uid = crate::fsutil::current_uid();
        self.state_dir_of(uid, || home_from_passwd(uid))
    }

    /// `state_dir` for the user `uid`, whose home in the password
    /// database `passwd_home` looks up.
    fn state_dir_of(&self, uid: u32, passwd_home: impl FnOnce() -> Option<PathBuf>) -> PathBuf {
        let absolute = |v: &str| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
        if let Some(x) = self.get("XDG_STATE_HOME").and_then(absolute) {
            return x.join("tsmigrate");
        }
        let home = self.get("HOME").and_then(absolute).or_else(passwd_home);
        match home {
            Some(home) => home.join(".local/state/tsmigrate"),
            None => {
                let tmp = self.get("TMPDIR").and_then(absolute);
                tmp.unwrap_or_else(|| PathBuf::from("/tmp"))
                    .join(format!("tsmigrate-{uid}"))
            }
        }
    }
}

/// The home directory of the user `uid` in the password database, if it
/// names a directory that exists (a service account's `/nonexistent` or
/// `/` is no place for journals).
fn home_from_passwd(uid: u32) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: all-zero is a valid `passwd` (null pointers, zero ids).
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is to a live local; the strings `entry`
        // points to live in `buf`, which outlives their use below.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut entry,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || found.is_null() || entry.pw_dir.is_null() {
            return None;
        }
        // SAFETY: getpwuid_r succeeded: `pw_dir` is a NUL-terminated string in `buf`.
        let dir = unsafe { std::ffi::CStr::from_ptr(entry.pw_dir) };
        let home = PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes()));
        let usable = home.is_absolute() && home.parent().is_some() && home.is_dir();
        return usable.then_some(home);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn the_state_dir_is_the_users_own_without_home_too() {
        let none = || None;
        let passwd = || Some(PathBuf::from("/home/ops"));
        let xdg = env(&[("XDG_STATE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(xdg.state_dir_of(7, passwd), PathBuf::from("/x/tsmigrate"));
        let home = env(&[("XDG_STATE_HOME", "relative"), ("HOME", "/h")]);
        assert_eq!(
            home.state_dir_of(7, passwd),
            PathBuf::from("/h/.local/state/tsmigrate")
        );
        // cron, systemd: no HOME, no XDG_STATE_HOME.
        let bare = env(&[("TMPDIR", "/var/tmp")]);
        assert_eq!(
            bare.state_dir_of(7, passwd),
            PathBuf::from("/home/ops/.local/state/tsmigrate")
        );
        assert_eq!(
            bare.state_dir_of(7, none),
            PathBuf::from("/var/tmp/tsmigrate-7")
        );
        assert_eq!(
            env(&[]).state_dir_of(7, none),
            PathBuf::from("/tmp/tsmigrate-7")
        );
    }

    #[test]
    fn the_password_database_knows_this_user() {
        // The test runner's own entry: a home that exists, or none at all.
        if let Some(home) = home_from_passwd(crate::fsutil::current_uid()) {
            assert!(home.is_absolute() && home.is_dir(), "{}", home.display());
        }
        assert_eq!(home_from_passwd(u32::MAX - 1), None);
    }
}
