//! The comparison step: both sides loaded, the source made comparable
//! with the target (mapped, secrets reconciled) and diffed. What diff,
//! plan, validate, apply and watch all start from.

use serde_json::Value;

use crate::config::Settings;
use crate::diff::{self, Op};
use crate::error::Error;
use crate::fetch::{self, Connections, Side};
use crate::secrets;

/// Both sides and what turns the target into the source.
pub struct Comparison {
    pub source: Side,
    pub target: Side,
    /// The source's document as the target should become: mapped, with
    /// secret values (real ones between live clusters) in place.
    pub desired: Value,
    /// The ops that turn the target's document into `desired`.
    pub ops: Vec<Op>,
    /// Secret placeholders no value was given for.
    pub unresolved: Vec<String>,
}

/// Loads both REFs concurrently.
pub async fn load_pair(
    settings: &Settings,
    conns: &Connections,
    source: &str,
    target: &str,
) -> Result<(Side, Side), Error> {
    let (sr, tr) = (settings.resolve(source)?, settings.resolve(target)?);
    tokio::try_join!(
        fetch::load(&sr, settings, conns),
        fetch::load(&tr, settings, conns)
    )
}

/// Loads and compares two REFs.
pub async fn compare_refs(
    settings: &Settings,
    conns: &Connections,
    source: &str,
    target: &str,
) -> Result<Comparison, Error> {
    let (s, t) = load_pair(settings, conns, source, target).await?;
    compare(settings, s, t)
}

/// Compares two loaded sides.
pub fn compare(settings: &Settings, mut source: Side, target: Side) -> Result<Comparison, Error> {
    // The source's document becomes the desired one: moved, not copied.
    let mut desired = std::mem::take(&mut source.doc);
    if let Some(mapping) = &settings.mapping {
        mapping.apply(&mut desired);
    }
    let unresolved = secrets::reconcile_at(
        &mut desired,
        &target.doc,
        &source.secret_paths,
        &target.secret_paths,
        &settings.secrets,
    )?;
    let ops = diff::diff(&target.doc, &desired);
    Ok(Comparison {
        source,
        target,
        desired,
        ops,
        unresolved,
    })
}
