//! Mapping between environments (DESIGN.md): source GUIDs to target GUIDs in
//! associations and user groups, and string replacements (host names).
//! Applied to the source document before diffing, so diff, plan and apply agree.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Error;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub guids: BTreeMap<String, String>,
    #[serde(default)]
    pub replace: BTreeMap<String, String>,
    /// For editors (`docs/schemas/map.schema.json`): read past.
    #[serde(default, rename = "$schema")]
    pub _schema: Option<String>,
}

impl Mapping {
    pub fn from_file(path: &Path) -> Result<Mapping, Error> {
        Mapping::from_file_between(path, None)
    }

    /// Checks that `path` reads as a map, in any format, before anything
    /// is asked of a cluster (an environment mapping is read in full only
    /// once the two sides are known).
    pub fn check_file(path: &Path) -> Result<(), Error> {
        match Mapping::from_file(path) {
            Err(Error::Input { message, .. }) if message.starts_with("an environment mapping") => {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// Reads a map file in any of the formats it can be read in: this
    /// tool's (`{"guids", "replace"}`); ThoughtSpot's Git deploy mapping
    /// file (`org-<id>.json`: an array of `{originalGuid, mappedGuid,
    /// additionalMapping}`, source to destination); or the environment
    /// mapping of thoughtspot_tml / cs_tools (`{"g1__g2": {"DEV": "g1",
    /// "PROD": "g2"}}`), which needs the two environments' names (`envs`:
    /// source and target, matched without regard to case).
    pub fn from_file_between(path: &Path, envs: Option<(&str, &str)>) -> Result<Mapping, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let doc: Value = crate::json::file::parse(&bytes, path)?;
        if let Value::Array(items) = &doc {
            return deploy_mapping(items, path);
        }
        if let Some(envs_map) = environment_mapping(&doc) {
            return by_environments(&envs_map, envs, path);
        }
        let mapping: Mapping = crate::json::file::parse(&bytes, path)?;
        if let Some((k, _)) = mapping.replace.iter().find(|(k, _)| k.is_empty()) {
            return Err(Error::input(
                path.display(),
                format!("at /replace/{k}: an empty string cannot be replaced"),
            ));
        }
        Ok(mapping)
    }

    /// The map for the other direction; two entries with one value cannot
    /// be inverted (the message names them).
    pub fn inverted(&self) -> Result<Mapping, String> {
        fn flip(
            m: &BTreeMap<String, String>,
            what: &str,
        ) -> Result<BTreeMap<String, String>, String> {
            let mut out: BTreeMap<String, String> = BTreeMap::new();
            for (from, to) in m {
                if let Some(other) = out.insert(to.clone(), from.clone()) {
                    return Err(format!(
                        "{what} {other:?} and {from:?} both become {to:?}, so {to:?} cannot be mapped back"
                    ));
                }
            }
            Ok(out)
        }
        let replace = flip(&self.replace, "replace")?;
        if replace.contains_key("") {
            return Err(
                "a replace entry maps to an empty string, which cannot be replaced back".into(),
            );
        }
        Ok(Mapping {
            guids: flip(&self.guids, "guids")?,
            replace,
            _schema: None,
        })
    }

    pub fn map_guid<'a>(&'a self, guid: &'a str) -> &'a str {
        self.guids.get(guid).map(String::as_str).unwrap_or(guid)
    }

    /// Rewrites a source document in place.
    pub fn apply(&self, doc: &mut Value) {
        if !self.replace.is_empty() {
            // Longest first, so "dev.example.com" wins over "dev".
            let mut pairs: Vec<(&String, &String)> = self.replace.iter().collect();
            pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
            replace_strings(doc, &pairs);
        }
        if self.guids.is_empty() {
            return;
        }
        if let Some(actions) = doc.get_mut("actions").and_then(Value::as_object_mut) {
            for action in actions.values_mut() {
                if let Some(map) = action
                    .get_mut("actionAssociationMap")
                    .and_then(Value::as_object_mut)
                {
                    for objects in map.values_mut() {
                        if let Some(objs) = objects.as_object_mut() {
                            let renamed: Map<String, Value> = std::mem::take(objs)
                                .into_iter()
                                .map(|(g, v)| (self.map_guid(&g).to_string(), v))
                                .collect();
                            *objs = renamed;
                        }
                    }
                }
                if let Some(groups) = action
                    .get_mut("userGroupList")
                    .and_then(Value::as_array_mut)
                {
                    for g in groups.iter_mut() {
                        if let Some(s) = g.as_str() {
                            *g = Value::String(self.map_guid(s).to_string());
                        }
                    }
                }
            }
        }
    }
}

fn replace_strings(value: &mut Value, pairs: &[(&String, &String)]) {
    match value {
        Value::String(s) => {
            for (from, to) in pairs {
                if s.contains(from.as_str()) {
                    *s = s.replace(from.as_str(), to);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| replace_strings(v, pairs)),
        Value::Object(m) => m.values_mut().for_each(|v| replace_strings(v, pairs)),
        _ => {}
    }
}

/// ThoughtSpot's Git deploy mapping file: original (source) GUID to mapped
/// (destination) GUID, and each entry's `additionalMapping` (visualization
/// ids of a Liveboard) the same way.
fn deploy_mapping(items: &[Value], path: &Path) -> Result<Mapping, Error> {
    let mut guids = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let field = |k: &str| {
            item.get(k).and_then(Value::as_str).ok_or_else(|| {
                Error::input(
                    path.display(),
                    format!("at /{i}/{k}: expected a string (a Git deploy mapping file lists {{originalGuid, mappedGuid}})"),
                )
            })
        };
        let (from, to) = (field("originalGuid")?, field("mappedGuid")?);
        guids.insert(from.to_string(), to.to_string());
        if let Some(extra) = item.get("additionalMapping").and_then(Value::as_object) {
            for (k, v) in extra {
                let to = v.as_str().ok_or_else(|| {
                    Error::input(
                        path.display(),
                        format!(
                            "at /{i}/additionalMapping/{}: expected a string",
                            crate::pointer::escape(k)
                        ),
                    )
                })?;
                guids.insert(k.clone(), to.to_string());
            }
        }
    }
    Ok(Mapping {
        guids,
        ..Mapping::default()
    })
}

/// The environment mapping of thoughtspot_tml (cs_tools): every value an
/// object of environment name to GUID, and none of this tool's keys.
fn environment_mapping(doc: &Value) -> Option<BTreeMap<String, BTreeMap<String, String>>> {
    let m = doc.as_object()?;
    if m.is_empty()
        || m.keys()
            .any(|k| matches!(k.as_str(), "guids" | "replace" | "$schema"))
    {
        return None;
    }
    m.iter()
        .map(|(k, v)| {
            let envs = v
                .as_object()?
                .iter()
                .map(|(e, g)| Some((e.clone(), g.as_str()?.to_string())))
                .collect::<Option<BTreeMap<_, _>>>()?;
            Some((k.clone(), envs))
        })
        .collect()
}

fn by_environments(
    entries: &BTreeMap<String, BTreeMap<String, String>>,
    envs: Option<(&str, &str)>,
    path: &Path,
) -> Result<Mapping, Error> {
    let mut names: Vec<&str> = entries
        .values()
        .flat_map(|e| e.keys().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    let Some((from, to)) = envs else {
        return Err(Error::input(
            path.display(),
            format!(
                "an environment mapping (thoughtspot_tml, cs_tools) of {}: use it between two profiles named like two of them (a [[maps]] entry, or --map with profiles as --source and --target)",
                names.join(", ")
            ),
        ));
    };
    let find = |want: &str| {
        names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(want))
            .map(|n| n.to_string())
            .ok_or_else(|| {
                Error::input(
                    path.display(),
                    format!(
                        "maps the environments {}, not {want:?}: name the profiles like them",
                        names.join(", ")
                    ),
                )
            })
    };
    let (from, to) = (find(from)?, find(to)?);
    let guids = entries
        .values()
        .filter_map(|e| Some((e.get(&from)?.clone(), e.get(&to)?.clone())))
        .filter(|(a, b)| a != b)
        .collect();
    Ok(Mapping {
        guids,
        ..Mapping::default()
    })
}

/// An object as `metadata/listobjectheaders` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub id: String,
    pub name: String,
}

impl Header {
    /// From a header the cluster answered; `None` without an id.
    pub fn of(v: &Value) -> Option<Header> {
        Some(Header {
            id: v.get("id")?.as_str()?.to_string(),
            name: v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })
    }
}

/// What matching the source's objects to the target's found.
#[derive(Debug, Default, PartialEq)]
pub struct Matched {
    /// Source GUID → target GUID: one target object of that kind has the name.
    pub guids: BTreeMap<String, String>,
    /// On the target under the same GUID: nothing to map.
    pub same: Vec<String>,
    /// Source GUID and name: no target object of that kind has the name.
    pub unmatched: Vec<(String, String)>,
    /// Source GUID and name, and the target GUIDs with that name: never guessed.
    pub ambiguous: Vec<(String, String, Vec<String>)>,
    /// Referenced, but the source itself does not know the GUID.
    pub unknown: Vec<String>,
}

/// Matches `guids` (of one kind, referenced on the source) to the target's
/// objects of that kind by exact name: a GUID the target has too needs no
/// entry; a name no target object has, or several have, is listed.
pub fn match_by_name(guids: &[String], source: &[Header], target: &[Header], out: &mut Matched) {
    let by_id: BTreeMap<&str, &Header> = source.iter().map(|h| (h.id.as_str(), h)).collect();
    let target_ids: std::collections::BTreeSet<&str> =
        target.iter().map(|h| h.id.as_str()).collect();
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for h in target {
        by_name
            .entry(h.name.as_str())
            .or_default()
            .push(h.id.as_str());
    }
    for guid in guids {
        if target_ids.contains(guid.as_str()) {
            out.same.push(guid.clone());
            continue;
        }
        let Some(h) = by_id.get(guid.as_str()) else {
            out.unknown.push(guid.clone());
            continue;
        };
        match by_name.get(h.name.as_str()).map(Vec::as_slice) {
            Some([one]) => {
                out.guids.insert(guid.clone(), (*one).to_string());
            }
            Some(many) if many.len() > 1 => out.ambiguous.push((
                guid.clone(),
                h.name.clone(),
                many.iter().map(|s| s.to_string()).collect(),
            )),
            _ => out.unmatched.push((guid.clone(), h.name.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_guids_and_strings() {
        let m = Mapping {
            guids: [("s1".to_string(), "t1".to_string())].into(),
            replace: [("dev.example".to_string(), "prod.example".to_string())].into(),
            ..Mapping::default()
        };
        let mut doc = json!({"config": {"u": "https://dev.example/x"},
            "actions": {"a": {"actionAssociationMap": {"ANSWER": {"s1": {"enabled": "true"}, "s2": {}}}, "userGroupList": ["s1"]}}});
        m.apply(&mut doc);
        assert_eq!(doc["config"]["u"], json!("https://prod.example/x"));
        assert!(doc["actions"]["a"]["actionAssociationMap"]["ANSWER"]
            .get("t1")
            .is_some());
        assert!(doc["actions"]["a"]["actionAssociationMap"]["ANSWER"]
            .get("s2")
            .is_some());
        assert_eq!(doc["actions"]["a"]["userGroupList"], json!(["t1"]));
    }

    #[test]
    fn inverts_or_names_the_clash() {
        let m = Mapping {
            guids: [
                ("s1".to_string(), "t1".to_string()),
                ("s2".to_string(), "t2".to_string()),
            ]
            .into(),
            replace: [("dev".to_string(), "prod".to_string())].into(),
            ..Mapping::default()
        };
        let back = m.inverted().unwrap();
        assert_eq!(back.guids["t1"], "s1");
        assert_eq!(back.replace["prod"], "dev");
        let clash = Mapping {
            guids: [
                ("s1".to_string(), "t".to_string()),
                ("s2".to_string(), "t".to_string()),
            ]
            .into(),
            ..Mapping::default()
        };
        let why = clash.inverted().unwrap_err();
        assert!(why.contains("\"s1\" and \"s2\" both become \"t\""), "{why}");
    }

    #[test]
    fn objects_are_matched_by_exact_name_and_never_guessed() {
        let h = |id: &str, name: &str| Header {
            id: id.into(),
            name: name.into(),
        };
        let source = [
            h("s1", "Umsatz – Q1"),
            h("s2", "Churn"),
            h("s3", "Doppelt"),
            h("same", "Same"),
            h("s5", "cafe\u{301}"),
        ];
        let target = [
            h("t1", "Umsatz – Q1"),
            h("t3a", "Doppelt"),
            h("t3b", "Doppelt"),
            h("same", "Same"),
            h("t5", "café"),
        ];
        let guids: Vec<String> = ["s1", "s2", "s3", "same", "s5", "gone"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut m = Matched::default();
        match_by_name(&guids, &source, &target, &mut m);
        assert_eq!(m.guids, [("s1".to_string(), "t1".to_string())].into());
        assert_eq!(m.same, vec!["same"]);
        assert_eq!(
            m.unmatched,
            vec![
                ("s2".into(), "Churn".into()),
                ("s5".into(), "cafe\u{301}".into())
            ],
            "NFD and NFC are two names"
        );
        assert_eq!(
            m.ambiguous,
            vec![(
                "s3".into(),
                "Doppelt".into(),
                vec!["t3a".into(), "t3b".into()]
            )]
        );
        assert_eq!(m.unknown, vec!["gone"]);
    }

    #[test]
    fn git_deploy_and_environment_mappings_read_as_maps() {
        let dir = tempfile::tempdir().unwrap();
        let deploy = dir.path().join("org-0.json");
        std::fs::write(
            &deploy,
            json!([
                {"originalGuid": "d1", "mappedGuid": "p1", "counter": 0, "additionalMapping": {}},
                {"originalGuid": "d2", "mappedGuid": "p2", "counter": 1, "additionalMapping": {"v1": "w1"}}
            ])
            .to_string(),
        )
        .unwrap();
        let m = Mapping::from_file(&deploy).unwrap();
        assert_eq!(
            m.guids,
            [("d1", "p1"), ("d2", "p2"), ("v1", "w1")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .into()
        );
        std::fs::write(&deploy, json!([{"originalGuid": "d1"}]).to_string()).unwrap();
        let e = Mapping::from_file(&deploy).unwrap_err().to_string();
        assert!(
            e.contains("org-0.json") && e.contains("at /0/mappedGuid"),
            "{e}"
        );

        let envs = dir.path().join("mapping.json");
        std::fs::write(
            &envs,
            json!({"g1__g2": {"DEV": "g1", "PROD": "g2", "TEST": "g3"}, "g4": {"DEV": "g4"}})
                .to_string(),
        )
        .unwrap();
        let m = Mapping::from_file_between(&envs, Some(("dev", "prod"))).unwrap();
        assert_eq!(m.guids, [("g1".to_string(), "g2".to_string())].into());
        let back = Mapping::from_file_between(&envs, Some(("test", "dev"))).unwrap();
        assert_eq!(back.guids, [("g3".to_string(), "g1".to_string())].into());
        let e = Mapping::from_file(&envs).unwrap_err().to_string();
        assert!(e.contains("DEV, PROD, TEST"), "{e}");
        assert!(Mapping::check_file(&envs).is_ok());
        let e = Mapping::from_file_between(&envs, Some(("dev", "staging")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not \"staging\""), "{e}");
    }

    proptest::proptest! {
        /// Whatever the names (twins, NFC and NFD, on either side): every
        /// referenced GUID lands in exactly one list, a mapped pair has one
        /// name on both sides and that name is unique on the target, and a
        /// GUID the target has is never mapped.
        #[test]
        fn matching_never_guesses(
            source in proptest::collection::vec((0u8..12, 0u8..6), 0..20),
            target in proptest::collection::vec((0u8..12, 0u8..6), 0..20),
            refs in proptest::collection::btree_set(0u8..14, 0..12),
        ) {
            const NAMES: [&str; 6] = ["Café", "Cafe\u{301}", "顧客", "a", "A", ""];
            let h = |(id, n): &(u8, u8), side: &str| Header {
                id: format!("{side}{id}"),
                name: NAMES[*n as usize].to_string(),
            };
            // One header per GUID, as a cluster answers.
            let mut seen = std::collections::BTreeSet::new();
            let src: Vec<Header> = source
                .iter()
                .filter(|x| seen.insert(x.0))
                .map(|x| h(x, "g"))
                .collect();
            // Some target objects keep the source's GUID.
            let tgt: Vec<Header> = target
                .iter()
                .map(|x| h(x, if x.0 % 3 == 0 { "g" } else { "t" }))
                .collect();
            let guids: Vec<String> = refs.iter().map(|r| format!("g{r}")).collect();
            let mut m = Matched::default();
            match_by_name(&guids, &src, &tgt, &mut m);
            let total = m.guids.len() + m.same.len() + m.unmatched.len() + m.ambiguous.len() + m.unknown.len();
            proptest::prop_assert_eq!(total, guids.len());
            for (from, to) in &m.guids {
                let name = &src.iter().find(|x| &x.id == from).unwrap().name;
                let named: Vec<&Header> = tgt.iter().filter(|x| &x.name == name).collect();
                proptest::prop_assert_eq!(named.len(), 1);
                proptest::prop_assert_eq!(&named[0].id, to);
                proptest::prop_assert!(!tgt.iter().any(|x| &x.id == from));
            }
            for g in &m.same {
                proptest::prop_assert!(tgt.iter().any(|x| &x.id == g));
            }
        }
    }
}
