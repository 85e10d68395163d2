//! The shape of `src/`, checked: top-level modules import each other
//! without a cycle; the simulator imports the API model and leaf utilities
//! only (so it can disagree with the tool's pipeline); only the `sim` and
//! `demo` commands import the simulator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What the simulator may import: the API's vocabulary and utilities
/// that know nothing of the pipeline.
const SIM_MAY_USE: &[&str] = &[
    "model", "error", "fsutil", "json", "parallel", "pointer", "signals",
];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The code of a file without its test module (tests may use anything).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Top-level module names a piece of code refers to through `crate::`.
fn references(text: &str, own: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let word = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    for c in word.captures_iter(text) {
        out.insert(c[1].to_string());
    }
    let group = regex::Regex::new(r"use crate::\{([^}]*)\}").unwrap();
    let ident = regex::Regex::new(r"(?:^|[,{\s])([a-z_]+)(?:::|\s*,|\s*$)").unwrap();
    for g in group.captures_iter(text) {
        for i in ident.captures_iter(&g[1]) {
            out.insert(i[1].to_string());
        }
    }
    out.remove(own);
    out.remove("self");
    out
}

/// Top-level module → the modules it refers to; and file → references.
fn graph() -> (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, BTreeSet<String>>,
) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = BTreeMap::new();
    for f in rust_files(&src) {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || top == "lib" {
            continue;
        }
        let refs = references(&code(&f), &top);
        modules.entry(top).or_default().extend(refs.iter().cloned());
        files.insert(rel, refs);
    }
    (modules, files)
}

#[test]
fn top_level_modules_have_no_cycle() {
    let (modules, _) = graph();
    // Depth-first search with colours: grey on the stack, black done.
    fn visit(
        m: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) {
        match colour.get(m) {
            Some(2) => return,
            Some(1) => panic!("module cycle: {} -> {m}", stack.join(" -> ")),
            _ => {}
        }
        colour.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for d in g.get(m).into_iter().flatten() {
            if g.contains_key(d) {
                visit(d, g, colour, stack);
            }
        }
        stack.pop();
        colour.insert(m.to_string(), 2);
    }
    let mut colour = BTreeMap::new();
    for m in modules.keys() {
        visit(m, &modules, &mut colour, &mut Vec::new());
    }
    assert!(modules.len() > 15, "the graph was read: {modules:?}");
}

#[test]
fn the_simulator_shares_only_the_model_and_nothing_but_sim_and_demo_use_it() {
    let (modules, files) = graph();
    let sim_uses = &modules["sim"];
    let extra: Vec<&String> = sim_uses
        .iter()
        .filter(|m| !SIM_MAY_USE.contains(&m.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "the simulator imports {extra:?}; it may only use {SIM_MAY_USE:?}"
    );
    assert!(sim_uses.contains("model"), "{sim_uses:?}");
    let users: Vec<&String> = files
        .iter()
        .filter(|(f, refs)| !f.starts_with("sim") && refs.contains("sim"))
        .map(|(f, _)| f)
        .collect();
    assert_eq!(users, vec!["commands/demo.rs", "commands/sim.rs"]);
}

#[test]
fn the_reference_scanner_sees_grouped_imports() {
    let refs = references(
        "use crate::{apply, diff::render, model};\nlet x = crate::plan::build();",
        "me",
    );
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        vec!["apply", "diff", "model", "plan"]
    );
}
