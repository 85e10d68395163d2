//! Snapshot directories (DESIGN.md, "Snapshot directory"): deterministic
//! files for git, written through a temporary directory so a failure never
//! leaves half a snapshot.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::api::Api;
use crate::error::Error;
use crate::fsutil::Dir;
use crate::json;
use crate::model::Org;

pub(crate) const META_FILE: &str = "tsmigrate.json";
pub const CONFIG_FILE: &str = "config.json";
pub const ACTIONS_DIR: &str = "actions";
pub(crate) const FORMAT: &str = "tsmigrate-snapshot";
pub(crate) const VERSION: u64 = 1;

/// A file name for an action: readable ASCII from the name plus a short
/// hash of the exact name, so that names which slug alike (`a/b`, `a_b`,
/// `A b`) stay distinct on every filesystem, case-insensitive ones too, and
/// a file's name never depends on the other actions.
pub fn slug(name: &str) -> String {
    let mut base = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            base.push(c.to_ascii_lowercase());
        } else if !base.ends_with('-') && !base.is_empty() {
            base.push('-');
        }
        if base.len() >= 48 {
            break;
        }
    }
    let base = base.trim_end_matches('-');
    let base = if base.is_empty() { "action" } else { base };
    let hash = Sha256::digest(name.as_bytes());
    format!(
        "{base}-{:02x}{:02x}{:02x}{:02x}",
        hash[0], hash[1], hash[2], hash[3]
    )
}

/// The origin URL without user info, query or fragment.
fn clean_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => String::new(),
    }
}

pub(crate) fn is_snapshot(dir: &Path) -> bool {
    dir.join(META_FILE).is_file()
}

/// Where a snapshot was exported from: the cluster URL and, on a cluster
/// with Orgs, the Org.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub url: String,
    pub org: Option<Org>,
    /// The API it was read through: on v2 its config is the overridden keys.
    pub api: Api,
}

impl Origin {
    pub fn new(url: &str, org: Option<Org>) -> Origin {
        Origin {
            url: url.to_string(),
            org,
            api: Api::V1,
        }
    }

    /// "URL" or "URL, Org NAME (ID)".
    pub(crate) fn describe(&self) -> String {
        match &self.org {
            Some(o) => format!("{}, Org {o}", clean_url(&self.url)),
            None => clean_url(&self.url),
        }
    }
}

/// Writes the (already redacted) document as a snapshot at `dir`.
pub fn write(dir: &Path, doc: &Value, origin: &Origin, force: bool) -> Result<(), Error> {
    let files = render(doc, origin)?;
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::Usage(format!(
            "--out {}: is a symbolic link; name the directory itself",
            dir.display()
        )));
    }
    if dir.exists() {
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "--out {}: exists and is not a directory",
                dir.display()
            )));
        }
        let empty = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .next()
            .is_none();
        if !empty && !is_snapshot(dir) {
            return Err(Error::Usage(format!(
                "--out {}: the directory is not empty and is not a tsmigrate snapshot; choose an empty or new directory",
                dir.display()
            )));
        }
        // Another cluster's (or Org's) snapshot is not silently switched
        // to this one.
        if let (Ok(was), false) = (read_meta(dir), force) {
            let same_url = clean_url(&was.url) == clean_url(&origin.url);
            let org_id = |o: &Origin| o.org.as_ref().map_or(crate::model::PRIMARY_ORG, |o| o.id);
            let same_org = org_id(&was) == org_id(origin);
            let another = !same_url || !same_org;
            if !was.url.is_empty() && another {
                let (a, b) = if same_org {
                    (clean_url(&was.url), clean_url(&origin.url))
                } else {
                    (was.describe(), origin.describe())
                };
                return Err(Error::Usage(format!(
                    "--out {}: it is the snapshot of {a}, not of {b}; pass --force to replace it",
                    dir.display()
                )));
            }
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".tsmigrate-export-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    std::fs::create_dir(staging.path().join(ACTIONS_DIR))
        .map_err(|e| Error::io(staging.path(), e))?;
    for (rel, bytes) in &files {
        let path = staging.path().join(rel);
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
    }
    swap_into_place(staging, dir)
}

/// Replaces `dir` by the staged snapshot; files of the old directory that
/// are not ours (a README, `.git`) are carried over.
fn swap_into_place(staging: tempfile::TempDir, dir: &Path) -> Result<(), Error> {
    let staged = staging.keep();
    if !dir.exists() {
        return std::fs::rename(&staged, dir).map_err(|e| Error::io(dir, e));
    }
    let old = dir.with_file_name(format!(
        ".{}.old-{}",
        dir.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("snapshot"),
        std::process::id()
    ));
    std::fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
    if let Err(e) = std::fs::rename(&staged, dir) {
        // Put the old snapshot back; nothing is lost.
        let _ = std::fs::rename(&old, dir);
        return Err(Error::io(dir, e));
    }
    if let Ok(entries) = std::fs::read_dir(&old) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name != META_FILE && name != CONFIG_FILE && name != ACTIONS_DIR {
                let _ = std::fs::rename(entry.path(), dir.join(&name));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&old);
    crate::fsutil::sync_dir(dir);
    Ok(())
}

/// The files of a snapshot: relative path → bytes.
pub fn render(doc: &Value, origin: &Origin) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    let mut files = BTreeMap::new();
    let mut meta = json!({"format": FORMAT, "version": VERSION, "source": clean_url(&origin.url)});
    if let Some(org) = &origin.org {
        meta["org"] = json!({"id": org.id, "name": org.name});
    }
    if origin.api == Api::V2 {
        // Recorded only where it matters: the config is partial.
        meta["api"] = json!("v2");
    }
    files.insert(META_FILE.to_string(), json::file::to_pretty(&meta)?);
    files.append(&mut render_doc(doc)?);
    Ok(files)
}

/// The files of a snapshot that hold the document (all but `tsmigrate.json`).
fn render_doc(doc: &Value) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    let mut files = BTreeMap::new();
    each_doc_file(doc, |rel, bytes| {
        files.insert(rel, bytes);
    })?;
    Ok(files)
}

/// Renders the document's files one at a time, each handed to `f` with
/// its relative path (so that a fingerprint holds one file at a time).
fn each_doc_file(doc: &Value, mut f: impl FnMut(String, Vec<u8>)) -> Result<(), Error> {
    let empty = json!({});
    let config = doc.get("config").unwrap_or(&empty);
    f(CONFIG_FILE.to_string(), json::file::to_pretty(config)?);
    let mut seen = std::collections::HashSet::new();
    for (name, action) in crate::document::actions(doc) {
        let rel = format!("{ACTIONS_DIR}/{}.json", slug(name));
        if !seen.insert(rel.clone()) {
            return Err(Error::Internal(format!(
                "two action names share the file {rel}"
            )));
        }
        f(rel, json::file::to_pretty(action)?);
    }
    Ok(())
}

/// A snapshot file's SHA-256.
type FileDigest = [u8; 32];

fn file_digest(bytes: &[u8]) -> FileDigest {
    Sha256::digest(bytes).into()
}

/// The relative path of an action file (`/`-separated, as `render` names it).
fn action_rel(file: &ActionFile) -> String {
    format!("{ACTIONS_DIR}/{}", file.name.to_string_lossy())
}

/// A snapshot's fingerprint: SHA-256 over the paths and SHA-256s of the
/// files that hold its document (`config.json` and the action files, by
/// path; not `tsmigrate.json`, which says where it came from). A live
/// cluster's is that of the snapshot `export` would write of it now
/// (`fingerprint_of`), so one made from either can be told apart or alike.
fn fingerprint(mut files: Vec<(String, FileDigest)>) -> String {
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (path, digest) in &files {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(digest);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The fingerprint of the snapshot of `doc` (already masked), as `write`
/// would write it.
pub(crate) fn fingerprint_of(doc: &Value) -> Result<String, Error> {
    let mut digests = Vec::new();
    each_doc_file(doc, |rel, bytes| digests.push((rel, file_digest(&bytes))))?;
    Ok(fingerprint(digests))
}

/// Largest `tsmigrate.json` read.
const MAX_META: u64 = 1 << 20;
/// Largest `config.json` read.
const MAX_CONFIG: u64 = 512 << 20;
/// Largest action file read.
const MAX_ACTION: u64 = 64 << 20;

/// A file of the snapshot at `dir`, read safely (see `fsutil::read_regular`).
fn read_file(path: &Path, dir: &Path, cap: u64) -> Result<Vec<u8>, Error> {
    crate::fsutil::read_regular(path, dir, cap).map_err(|why| Error::input(path.display(), why))
}

/// `read_file` of an action file: opened by name in the actions directory
/// (`open_actions`, once for all of them), or by its path where none was
/// opened (there were no files to open it for).
fn read_action(actions: Option<&Dir>, file: &ActionFile, dir: &Path) -> Result<Vec<u8>, Error> {
    match actions {
        Some(d) => d
            .read_regular_in(&file.name, dir, MAX_ACTION)
            .map_err(|why| Error::input(file.path.display(), why)),
        None => read_file(&file.path, dir, MAX_ACTION),
    }
}

/// The actions directory of the snapshot at `dir`, opened if `files` are
/// to be read from it.
fn open_actions(dir: &Path, files: &[ActionFile]) -> Result<Option<Dir>, Error> {
    if files.is_empty() {
        return Ok(None);
    }
    let path = dir.join(ACTIONS_DIR);
    Dir::open(&path).map(Some).map_err(|e| Error::io(&path, e))
}

/// Where the snapshot at `dir` was exported from (its `tsmigrate.json`).
pub(crate) fn origin(dir: &Path) -> Result<Origin, Error> {
    read_meta(dir)
}

/// `tsmigrate.json` of a snapshot, checked: where it was exported from.
fn read_meta(dir: &Path) -> Result<Origin, Error> {
    let meta_path = dir.join(META_FILE);
    let bytes = read_file(&meta_path, dir, MAX_META)?;
    let meta: Value = json::file::parse(&bytes, &meta_path)?;
    match meta.get("format").and_then(Value::as_str) {
        Some(FORMAT) => {}
        _ => {
            return Err(Error::input(
                meta_path.display(),
                format!("at /format: expected \"{FORMAT}\""),
            ))
        }
    }
    match meta.get("version").and_then(Value::as_u64) {
        Some(VERSION) => {}
        Some(v) => {
            return Err(Error::input(
                meta_path.display(),
                format!("at /version: snapshot format {v} is not supported by this tsmigrate (it reads version {VERSION}); use a matching tsmigrate"),
            ))
        }
        None => return Err(Error::input(meta_path.display(), "at /version: expected a number")),
    }
    let source = meta
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let org = match meta.get("org") {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value::<Org>(v.clone()).map_err(|e| {
            Error::parse(
                meta_path.display(),
                format!("at /org: expected {{\"id\": <number>, \"name\": <string>}} ({e})"),
                e,
            )
        })?),
    };
    let api = match meta.get("api").and_then(Value::as_str) {
        None | Some("v1") => Api::V1,
        Some("v2") => Api::V2,
        Some(other) => {
            return Err(Error::input(
                meta_path.display(),
                format!("at /api: {other:?} is not \"v1\" or \"v2\""),
            ))
        }
    };
    Ok(Origin {
        url: source,
        org,
        api,
    })
}

/// Reads a snapshot directory back into a canonical document. Never
/// follows a link out of `dir`, reads no special file, caps file sizes,
/// and refuses an action file whose `name` is not the one its file name
/// says.
pub fn read(dir: &Path) -> Result<(Value, Origin), Error> {
    read_fingerprinted(dir).map(|(doc, origin, _)| (doc, origin))
}

/// `read`, and the snapshot's fingerprint (`fingerprint`).
pub fn read_fingerprinted(dir: &Path) -> Result<(Value, Origin, String), Error> {
    let source = read_meta(dir)?;
    let config_path = dir.join(CONFIG_FILE);
    let config_bytes = read_file(&config_path, dir, MAX_CONFIG)?;
    let config = parse_config(&config_bytes, &config_path)?;
    let files = action_files(dir)?;
    let mut digests = Vec::with_capacity(files.len() + 1);
    digests.push((CONFIG_FILE.to_string(), file_digest(&config_bytes)));
    let mut actions = Map::new();
    let actions_in = open_actions(dir, &files)?;
    for file in files {
        let bytes = read_action(actions_in.as_ref(), &file, dir)?;
        let (name, action) = parse_action(&bytes, &file.path)?;
        check_file_name(&name, &file)?;
        digests.push((action_rel(&file), file_digest(&bytes)));
        actions.insert(name, Value::Object(action));
    }
    let doc = crate::document::assemble(config, actions);
    Ok((doc, source, fingerprint(digests)))
}

/// Two snapshot directories read side by side (`read_pair`).
pub struct Pair {
    pub sides: [(Value, Origin); 2],
    /// The secret placeholders in what was left out (alike on both
    /// sides): where each is, and the pointer it names.
    pub left_out_placeholders: Vec<(Vec<String>, String)>,
    /// The fingerprint of the second snapshot (the target), from all of
    /// its files, when asked for.
    pub target_fingerprint: Option<String>,
    /// Where both documents hold an id-keyed array whose items alike on
    /// both sides are reduced to their ids (`diff::Reduced`).
    pub reduced: crate::diff::Reduced,
}

/// Two snapshot directories read for a comparison: what both hold byte
/// for byte (an action file, a config member) is checked as `read` checks
/// it but left out of both documents (`json::pair`). Only the differences
/// between the two documents are then whole: a diff of them is the diff
/// of the full ones, but nothing else is.
pub fn read_pair(a: &Path, b: &Path, fingerprint_b: bool) -> Result<Pair, Error> {
    let origins = [read_meta(a)?, read_meta(b)?];
    // The configs on a thread of their own, the action files on this one.
    let (configs, actions) = crate::parallel::at_once(
        || config_pair(a, b, fingerprint_b),
        || action_pair(a, b, fingerprint_b),
    );
    let ((ca, cb, reduced, config_digest), ([aa, ab], left_out_placeholders, mut digests)) =
        (configs?, actions?);
    digests.push((CONFIG_FILE.to_string(), config_digest));
    let [oa, ob] = origins;
    Ok(Pair {
        sides: [
            (crate::document::assemble(ca, aa), oa),
            (crate::document::assemble(cb, ab), ob),
        ],
        left_out_placeholders,
        target_fingerprint: fingerprint_b.then(|| fingerprint(digests)),
        reduced: crate::diff::Reduced::at(
            reduced
                .into_iter()
                .map(|(at, ops)| {
                    let at = ["config".to_string()].into_iter().chain(at).collect();
                    (at, ops)
                })
                .collect(),
        ),
    })
}

type Config = Map<String, Value>;
type Reductions = Vec<(Vec<String>, Vec<similar::DiffOp>)>;

/// The `config.json` of two snapshots, without what both hold alike, where
/// both hold a reduced keyed array, and the digest of the second.
fn config_pair(
    a: &Path,
    b: &Path,
    digest_b: bool,
) -> Result<(Config, Config, Reductions, FileDigest), Error> {
    let (pa, pb) = (a.join(CONFIG_FILE), b.join(CONFIG_FILE));
    let (ta, tb) = crate::parallel::at_once(
        || read_file(&pa, a, MAX_CONFIG),
        || read_file(&pb, b, MAX_CONFIG),
    );
    let (ta, tb) = (ta?, tb?);
    let pruned = match (as_text(&ta), as_text(&tb)) {
        (Some(x), Some(y)) => crate::json::pair::objects(x, y),
        _ => None,
    };
    let digest = if digest_b { file_digest(&tb) } else { [0; 32] };
    match pruned {
        Some(p) => Ok((p.a, p.b, p.reduced, digest)),
        None => Ok((
            parse_config(&ta, &pa)?,
            parse_config(&tb, &pb)?,
            Vec::new(),
            digest,
        )),
    }
}

/// The actions of two snapshots, without the files both hold alike: two
/// halves (split at one file name) read at once.
fn action_pair(a: &Path, b: &Path, digest_b: bool) -> Result<Actions, Error> {
    let (fa, fb) = (action_files(a)?, action_files(b)?);
    let cut = fa.get(fa.len() / 2).map(|f| &f.name);
    let (ia, ib) = (
        fa.partition_point(|f| Some(&f.name) < cut),
        fb.partition_point(|f| Some(&f.name) < cut),
    );
    let (first, second) = crate::parallel::at_once(
        || action_run(a, b, &fa[..ia], &fb[..ib], digest_b),
        || action_run(a, b, &fa[ia..], &fb[ib..], digest_b),
    );
    let (([mut xa, mut xb], mut found, mut digests), ([ya, yb], more, more_digests)) =
        (first?, second?);
    xa.extend(ya);
    xb.extend(yb);
    found.extend(more);
    digests.extend(more_digests);
    Ok(([xa, xb], found, digests))
}

/// The actions of both sides, the placeholders of the files left out, and
/// the digests of the second side's files.
type Actions = (
    [Map<String, Value>; 2],
    Vec<(Vec<String>, String)>,
    Vec<(String, FileDigest)>,
);

/// The actions of the files `fa` of `a` and `fb` of `b` (both sorted).
fn action_run(
    a: &Path,
    b: &Path,
    fa: &[ActionFile],
    fb: &[ActionFile],
    digest_b: bool,
) -> Result<Actions, Error> {
    let mut actions = [Map::new(), Map::new()];
    let mut found = Vec::new();
    let mut digests = Vec::with_capacity(fb.len());
    let secret = memchr::memmem::Finder::new(b"${secret:");
    let (da, db) = (open_actions(a, fa)?, open_actions(b, fb)?);
    let (mut i, mut j) = (0, 0);
    while i < fa.len() || j < fb.len() {
        let order =
            crate::parallel::merge_order(fa.get(i).map(|f| &f.name), fb.get(j).map(|f| &f.name));
        let (pa, pb) = match order {
            std::cmp::Ordering::Less => (fa.get(i), None),
            std::cmp::Ordering::Greater => (None, fb.get(j)),
            std::cmp::Ordering::Equal => (fa.get(i), fb.get(j)),
        };
        i += usize::from(pa.is_some());
        j += usize::from(pb.is_some());
        let ba = pa.map(|f| read_action(da.as_ref(), f, a)).transpose()?;
        let bb = pb.map(|f| read_action(db.as_ref(), f, b)).transpose()?;
        if let (true, Some(file), Some(bytes)) = (digest_b, pb, &bb) {
            digests.push((action_rel(file), file_digest(bytes)));
        }
        if let (Some(pa), Some(_), Some(x), Some(y)) = (pa, pb, &ba, &bb) {
            if let Some(name) = alike_action(x, y) {
                // One file name on both sides: one check.
                check_file_name(&name, pa)?;
                if secret.find(x).is_some() {
                    // Its placeholders still count (read once, not kept).
                    let (_, action) = parse_action(x, &pa.path)?;
                    let at = ["actions".to_string(), name];
                    found.extend(crate::secrets::placeholders_at(&at, &Value::Object(action)));
                }
                continue;
            }
        }
        for (k, (file, bytes)) in [(pa, &ba), (pb, &bb)].into_iter().enumerate() {
            if let (Some(file), Some(bytes)) = (file, bytes) {
                let (name, action) = parse_action(bytes, &file.path)?;
                check_file_name(&name, file)?;
                actions[k].insert(name, Value::Object(action));
            }
        }
    }
    Ok((actions, found, digests))
}

/// A file's bytes as text, if they are UTF-8 (a byte-order mark dropped).
fn as_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).ok()
}

/// The name of an action file both sides hold byte for byte, once checked
/// as `parse_action` checks it; `None` where it must be read in full
/// (which also words any error).
fn alike_action(a: &[u8], b: &[u8]) -> Option<String> {
    if a != b {
        return None;
    }
    let text = as_text(a)?;
    // An escape could spell a placeholder that would go uncounted.
    if text.contains("\\u") {
        return None;
    }
    let (name, detail_ok) = crate::json::strict::check_action(text)?;
    (!name.is_empty() && detail_ok).then_some(name)
}

/// An action file of a snapshot: its name in the actions directory, and
/// its path.
struct ActionFile {
    name: std::ffi::OsString,
    path: PathBuf,
}

/// The action files of a snapshot, sorted; none if it has no `actions`.
fn action_files(dir: &Path) -> Result<Vec<ActionFile>, Error> {
    let actions_dir = dir.join(ACTIONS_DIR);
    let Ok(m) = std::fs::symlink_metadata(&actions_dir) else {
        return Ok(Vec::new());
    };
    if !m.is_dir() {
        return Err(Error::input(
            actions_dir.display(),
            "not a directory (a link or a file); refused",
        ));
    }
    // One directory: sorted by file name (cheaper to compare than paths).
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&actions_dir).map_err(|e| Error::io(&actions_dir, e))? {
        let entry = entry.map_err(|e| Error::io(&actions_dir, e))?;
        let name = entry.file_name();
        if Path::new(&name).extension().is_some_and(|x| x == "json") {
            files.push(ActionFile {
                path: entry.path(),
                name,
            });
        }
    }
    files.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Checks that the action `name` is in the file its slug says. No two
/// files then hold one name: a name has one slug, and a directory one
/// file of each name.
fn check_file_name(name: &str, file: &ActionFile) -> Result<(), Error> {
    let expected = format!("{}.json", slug(name));
    if file.name.as_encoded_bytes() != expected.as_bytes() {
        return Err(Error::input(
            file.path.display(),
            format!("at /name: {name:?} belongs in {ACTIONS_DIR}/{expected}, not in this file; rename the file or the action"),
        ));
    }
    Ok(())
}

/// A snapshot's `config.json`.
pub fn parse_config(bytes: &[u8], path: &Path) -> Result<Map<String, Value>, Error> {
    match json::file::parse_value(bytes, path)? {
        Value::Object(m) => Ok(m),
        _ => Err(Error::input(path.display(), "at /: expected an object")),
    }
}

/// One `actions/*.json` file: its name and content.
pub fn parse_action(bytes: &[u8], path: &Path) -> Result<(String, Map<String, Value>), Error> {
    let action = match json::file::parse_value(bytes, path)? {
        Value::Object(m) => m,
        _ => return Err(Error::input(path.display(), "at /: expected an object")),
    };
    let name = match action.get("name") {
        Some(Value::String(n)) if !n.is_empty() => n.clone(),
        _ => {
            return Err(Error::input(
                path.display(),
                "at /name: an action needs a non-empty string name",
            ))
        }
    };
    if let Some(detail) = action.get("detail") {
        if !detail.is_object() {
            return Err(Error::input(
                path.display(),
                "at /detail: expected an object",
            ));
        }
    }
    Ok((name, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_distinct_stable_and_safe() {
        let names = [
            "a/b",
            "a_b",
            "A b",
            "a~b",
            "日本語",
            "CON",
            "x".repeat(300).as_str(),
            "",
        ]
        .map(str::to_string);
        let slugs: Vec<String> = names.iter().map(|n| slug(n)).collect();
        let unique: std::collections::BTreeSet<_> =
            slugs.iter().map(|s| s.to_lowercase()).collect();
        assert_eq!(unique.len(), names.len());
        for s in &slugs {
            assert!(
                s.len() <= 60
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{s}"
            );
        }
        assert_eq!(slug("Send to Slack"), slug("Send to Slack"));
        assert!(slug("Send to Slack").starts_with("send-to-slack-"));
    }

    #[test]
    fn urls_lose_credentials() {
        assert_eq!(
            clean_url("https://u:p@h.example:8443/x?token=1#f"),
            "https://h.example:8443/x"
        );
    }
}
