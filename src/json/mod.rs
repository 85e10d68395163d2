//! One JSON reading layer, split by job. The full read builds a tree
//! (`value`; `file` for users' files, with errors that name the file and
//! pointer); the side-by-side read (`pair`, with `align` for id-keyed
//! arrays) builds only what two texts hold differently, and checks the
//! rest exactly as the full read would (`strict`). Both refuse a key
//! given twice by one rule (`keys`); `scan` finds structure in bytes.

mod align;
pub mod file;
mod keys;
pub mod pair;
mod scan;
pub mod strict;
pub mod value;

/// Whether text both sides hold alike may be left out of a side-by-side
/// read. Not if it could hold a secret placeholder: those are counted and
/// reported on every side that has them, and an escape (`\u0024{`) could
/// spell one. Bytes, not text: a run both sides share may end inside a
/// character.
fn may_leave_out(text: &[u8]) -> bool {
    memchr::memmem::find(text, b"${secret:").is_none()
        && memchr::memmem::find(text, b"\\u").is_none()
}
