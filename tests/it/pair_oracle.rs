//! What the side-by-side read of two snapshot directories must answer:
//! what reading each in full answers. Shared by the generated-pair test
//! (`oracle`) and the fuzz target `pair_read` (which includes this file).

use std::path::Path;

use serde_json::Value;
use tsmigrate::{diff, secrets, snapshot};

/// The placeholders of a document, sorted.
fn placeholders(doc: &Value, left_out: &[(Vec<String>, String)]) -> Vec<(Vec<String>, String)> {
    let mut all = secrets::placeholders_at(&[], doc);
    all.extend(left_out.iter().cloned());
    all.sort();
    all
}

/// One case: `None` if both reads agree, else what differs.
pub fn disagreement(a: &Path, b: &Path) -> Option<String> {
    let (fa, fb) = (
        snapshot::read_fingerprinted(a),
        snapshot::read_fingerprinted(b),
    );
    let pair = snapshot::read_pair(a, b, true);
    match (fa, fb, pair) {
        (Ok(fa), Ok(fb), Ok(p)) => {
            let full = diff::diff(&fb.0, &fa.0);
            let [(pa, oa), (pb, ob)] = &p.sides;
            let side_by_side = diff::diff_reduced(pb, pa, &p.reduced);
            if full != side_by_side {
                return Some(format!(
                    "the changes differ:\nfull: {full:#?}\nside by side: {side_by_side:#?}"
                ));
            }
            if (oa, ob) != (&fa.1, &fb.1) {
                return Some("the origins differ".into());
            }
            for (doc, full_doc) in [(pa, &fa.0), (pb, &fb.0)] {
                let (x, y) = (
                    placeholders(doc, &p.left_out_placeholders),
                    placeholders(full_doc, &[]),
                );
                if x != y {
                    return Some(format!("the placeholders differ: {x:?} vs {y:?}"));
                }
            }
            if p.target_fingerprint.as_ref() != Some(&fb.2) {
                return Some("the target's fingerprint differs".into());
            }
            None
        }
        (Ok(_), Ok(_), Err(e)) => Some(format!("refused side by side only: {e}")),
        (ra, rb, Ok(_)) => Some(format!(
            "read side by side, refused in full: {:?} / {:?}",
            ra.err().map(|e| e.to_string()),
            rb.err().map(|e| e.to_string())
        )),
        (ra, rb, Err(e)) => {
            let said = e.to_string();
            let full: Vec<String> = [ra.err(), rb.err()]
                .into_iter()
                .flatten()
                .map(|e| e.to_string())
                .collect();
            (!full.contains(&said)).then(|| {
                format!("refused in other words:\nside by side: {said}\nin full: {full:?}")
            })
        }
    }
}
