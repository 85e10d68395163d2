//! `tsmigrate map generate` and `map check`: the GUID map between two
//! clusters, made by matching the objects the source's actions refer to
//! with the target's of the same kind and name, and checked against both.
//! Object names come from `metadata/listobjectheaders`, so both sides are
//! live clusters.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::apply::live_ref;
use super::Context;
use crate::api::Cluster;
use crate::cli::{MapCommand, OrgFlags};
use crate::config::{MapChoice, Settings};
use crate::error::{Error, Outcome};
use crate::fetch::{self, Side};
use crate::mapping::{match_by_name, Header, Mapping, Matched};
use crate::model::ObjectQuery;

pub async fn run(ctx: &Context, cmd: MapCommand) -> Result<Outcome, Error> {
    match cmd {
        MapCommand::Generate {
            source,
            target,
            orgs,
            out,
            force,
        } => generate(ctx, (&source, &target, &orgs), out.as_deref(), force).await,
        MapCommand::Check {
            source,
            target,
            orgs,
        } => check(ctx, (&source, &target, &orgs)).await,
    }
}

/// Both sides read: the source's document, and a session on each.
struct Sides {
    source: Side,
    source_cluster: Cluster,
    target_cluster: Cluster,
}

async fn connect(
    ctx: &Context,
    settings: &Settings,
    (source, target, orgs): (&str, &str, &OrgFlags),
) -> Result<Sides, Error> {
    let mut refs = settings.resolve_all(&[
        (source, orgs.source_org.as_deref()),
        (target, orgs.target_org.as_deref()),
    ])?;
    let t = refs.remove(1);
    let s = refs.remove(0);
    let why = "map reads object names from the clusters: name a profile or a URL, not a snapshot";
    let (sl, tl) = (
        live_ref(&s, "--source").map_err(|_| Error::Usage(format!("--source {source}: {why}")))?,
        live_ref(&t, "--target").map_err(|_| Error::Usage(format!("--target {target}: {why}")))?,
    );
    let (side, target_cluster) = tokio::try_join!(
        fetch::load(&s, settings, &ctx.conns),
        ctx.conns.cluster(tl, &settings.net)
    )?;
    let source_cluster = ctx.conns.cluster(sl, &settings.net).await?;
    Ok(Sides {
        source: side,
        source_cluster,
        target_cluster,
    })
}

/// The headers of `ids` on `cluster` (every object of the kind when
/// `ids` is empty).
async fn headers(
    cluster: &Cluster,
    query: ObjectQuery,
    ids: &[String],
) -> Result<Vec<Header>, Error> {
    let answer = fetch::object_headers(cluster, query, ids).await?;
    Ok(answer.iter().filter_map(Header::of).collect())
}

/// Every referenced object, matched kind by kind.
async fn matched(sides: &Sides) -> Result<(Matched, BTreeMap<String, String>), Error> {
    let mut out = Matched::default();
    // GUID → the pointer that first names it, for messages.
    let mut pointers = BTreeMap::new();
    for (_, (query, guids)) in crate::validate::referenced(&sides.source.doc) {
        let ids: Vec<String> = guids.keys().cloned().collect();
        let (theirs, ours) = tokio::try_join!(
            headers(&sides.source_cluster, query, &ids),
            headers(&sides.target_cluster, query, &[])
        )?;
        match_by_name(&ids, &theirs, &ours, &mut out);
        pointers.extend(guids);
    }
    Ok((out, pointers))
}

async fn generate(
    ctx: &Context,
    refs: (&str, &str, &OrgFlags),
    out: Option<&Path>,
    force: bool,
) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    if let Some(path) = out {
        crate::fsutil::check_replaceable(path)
            .map_err(|why| Error::Usage(format!("--out {}: {why}", path.display())))?;
        if path.exists() && !force {
            return Err(Error::Usage(format!(
                "--out {}: the file exists; pass --force to replace it (or check it with tsmigrate map check --map {})",
                path.display(),
                path.display()
            )));
        }
    }
    let sides = connect(ctx, &settings, refs).await?;
    let (m, pointers) = matched(&sides).await?;
    let mut doc = json!({ "guids": m.guids });
    if let Some(schema) = out.and_then(schema_beside) {
        doc["$schema"] = json!(schema);
    }
    let text = crate::json::file::to_pretty(&doc)?;
    match out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            crate::fsutil::write_atomic(path, &text).map_err(|e| Error::io(path, e))?;
        }
        None => ctx.printer.text(&String::from_utf8_lossy(&text))?,
    }
    let p = &ctx.printer;
    p.info(&format!(
        "map: {} matched by name, {} with the same GUID on both, {} not matched, {} matched more than once{}",
        m.guids.len(),
        m.same.len(),
        m.unmatched.len(),
        m.ambiguous.len(),
        match m.unknown.len() {
            0 => String::new(),
            n => format!(", {n} not found on the source"),
        }
    ));
    let at = |g: &str| pointers.get(g).cloned().unwrap_or_default();
    for (guid, name) in &m.unmatched {
        p.warn(&format!(
            "not matched: {guid} {name:?} ({}): the target has no object of that kind with that name",
            at(guid)
        ));
    }
    for (guid, name, candidates) in &m.ambiguous {
        p.warn(&format!(
            "not matched: {guid} {name:?} ({}): the target has {} objects of that kind with that name ({}); add the right one to the map by hand",
            at(guid),
            candidates.len(),
            candidates.join(", ")
        ));
    }
    for guid in &m.unknown {
        p.warn(&format!(
            "not matched: {guid} ({}): the source itself has no such object",
            at(guid)
        ));
    }
    if m.unmatched.is_empty() && m.ambiguous.is_empty() && m.unknown.is_empty() {
        Ok(Outcome::Success)
    } else {
        Ok(Outcome::Differences)
    }
}

/// Where a map file written at `out` finds the map schema `tsmigrate init`
/// puts in `.tsmigrate/` of the working directory (relative to the file,
/// as editors resolve `$schema`); `None` without it, or for a file
/// outside the working directory.
fn schema_beside(out: &Path) -> Option<String> {
    if !Path::new(".tsmigrate/map.schema.json").is_file() {
        return None;
    }
    let mut up = String::new();
    for part in out.parent()?.components() {
        match part {
            std::path::Component::Normal(_) => up.push_str("../"),
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    Some(format!("{up}.tsmigrate/map.schema.json"))
}

async fn check(ctx: &Context, refs: (&str, &str, &OrgFlags)) -> Result<Outcome, Error> {
    let settings = ctx.settings()?;
    let MapChoice::Given(file) = &settings.maps else {
        return Err(Error::Usage(
            "map check needs the map to check: --map FILE".into(),
        ));
    };
    let map = Mapping::from_file_between(file, Some((refs.0, refs.1)))?;
    let sides = connect(ctx, &settings, refs).await?;
    let mut problems = Vec::new();
    let mut checked = 0;
    for (_, (query, guids)) in crate::validate::referenced(&sides.source.doc) {
        let ids: Vec<String> = guids.keys().cloned().collect();
        let mapped: Vec<String> = ids.iter().map(|g| map.map_guid(g).to_string()).collect();
        let (theirs, ours) = tokio::try_join!(
            headers(&sides.source_cluster, query, &ids),
            headers(&sides.target_cluster, query, &mapped)
        )?;
        let name_of =
            |hs: &[Header], id: &str| hs.iter().find(|h| h.id == id).map(|h| h.name.clone());
        for (guid, to) in ids.iter().zip(&mapped) {
            checked += 1;
            let entry = format!("/guids/{}", crate::pointer::escape(guid));
            let Some(there) = name_of(&ours, to) else {
                problems.push(match map.guids.get(guid) {
                    Some(_) => format!(
                        "at {entry}: the target has no {} {to} (referred to at {})",
                        query.object_type, guids[guid]
                    ),
                    None => format!(
                        "{guid} ({}) is neither on the target nor in the map",
                        guids[guid]
                    ),
                });
                continue;
            };
            if let Some(here) = name_of(&theirs, guid) {
                if here != there && guid != to {
                    problems.push(format!(
                        "at {entry}: {here:?} on the source becomes {there:?} on the target: another object?"
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        ctx.printer.info(&format!(
            "map {}: holds for {} the source's actions refer to",
            file.display(),
            match checked {
                1 => "the 1 object".to_string(),
                n => format!("all {n} objects"),
            }
        ));
        return Ok(Outcome::Success);
    }
    Err(Error::input(
        file.display(),
        format!(
            "{}:\n  {}",
            crate::words::plural(problems.len(), "problem", "problems"),
            problems.join("\n  ")
        ),
    ))
}
