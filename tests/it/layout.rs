//! The shape of `src/`, checked: every module has its place in `LAYERS`
//! and imports nothing of a layer above its own; modules (the top-level
//! ones, and those of `OWN_MODULES`) import each other without a cycle;
//! clap stays at the edge; the simulator imports the API model and leaf utilities
//! only (so it can disagree with the tool's pipeline); only the `sim` and
//! `demo` commands import the simulator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of `src/`, highest first (STYLE.md, "Dependency
/// direction"): a module imports modules of its own layer (without a
/// cycle) and of the layers below, never of one above.
const LAYERS: &[(&str, &[&str])] = &[
    // Arguments in, output out: what the binary calls.
    ("edge", &["cli", "commands", "output"]),
    // The steps of a command, and what runs beside them (the simulator,
    // which only the `sim` and `demo` commands start).
    (
        "pipeline",
        &[
            "compare", "apply", "plan", "validate", "snapshot", "fetch", "config", "mapping",
            "select", "sim",
        ],
    ),
    // The client, the document and its diff, secrets, the API's words.
    (
        "primitives",
        &["api", "diff", "document", "secrets", "model"],
    ),
    // Knows nothing of the pipeline: plain values and utilities
    // (`config::settings`: what config decides and the client reads).
    (
        "leaves",
        &[
            "error",
            "json",
            "pointer",
            "parallel",
            "fsutil",
            "net",
            "signals",
            "benchdata",
            "words",
            "config::settings",
        ],
    ),
];

/// The layer of a module: 0 for the lowest.
fn layer(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
        .map(|i| LAYERS.len() - 1 - i)
}

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

/// Modules below the top level that count as modules of their own: what
/// they import, and who imports them, is checked apart from their parent
/// (settings types live with config but are read by the HTTP client).
const OWN_MODULES: &[&str] = &["config::settings"];

/// The module a path under `crate::` names: the longest of
/// `OWN_MODULES` it starts with, else its top-level module.
fn module_of(path: &str) -> String {
    OWN_MODULES
        .iter()
        .filter(|m| path == **m || path.starts_with(&format!("{m}::")))
        .max_by_key(|m| m.len())
        .map_or_else(
            || path.split("::").next().unwrap_or_default().to_string(),
            |m| m.to_string(),
        )
}

/// The paths a use tree names: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`,
/// `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| match prefix {
            "" => p,
            _ => format!("{prefix}::{p}"),
        })
        .collect()
}

/// The modules a piece of code refers to through `crate::` (and, in a
/// module of `OWN_MODULES`, through `super::`: its parent).
fn references(text: &str, own: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let path = regex::Regex::new(r"crate::([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)").unwrap();
    for c in path.captures_iter(text) {
        out.insert(module_of(&c[1]));
    }
    let group = regex::Regex::new(r"use crate::(\{[^;]*\});").unwrap();
    for g in group.captures_iter(text) {
        for p in expand(&g[1]) {
            out.insert(module_of(&p));
        }
    }
    if let Some((parent, _)) = own.rsplit_once("::") {
        if text.contains("super::") {
            out.insert(parent.to_string());
        }
    }
    out.remove(own);
    out.remove("self");
    out
}

/// Module → the modules it refers to; and file → references.
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
        let path = rel
            .trim_end_matches(".rs")
            .trim_end_matches("/mod")
            .replace('/', "::");
        let module = module_of(&path);
        if module == "main" || module == "lib" {
            continue;
        }
        let refs = references(&code(&f), &module);
        modules
            .entry(module)
            .or_default()
            .extend(refs.iter().cloned());
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
    let refs = references(
        "use crate::{config::{settings::Endpoint, Settings}, model};\nuse crate::config::settings::{A, B};",
        "me",
    );
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        vec!["config", "config::settings", "model"]
    );
    let refs = references("use super::Settings;", "config::settings");
    assert_eq!(refs.into_iter().collect::<Vec<_>>(), vec!["config"]);
}

#[test]
fn every_module_has_a_layer_and_no_module_imports_upward() {
    let (modules, files) = graph();
    let placeless: Vec<&String> = modules.keys().filter(|m| layer(m).is_none()).collect();
    assert!(
        placeless.is_empty(),
        "give {placeless:?} a place in LAYERS (tests/it/layout.rs)"
    );
    let mut upward = Vec::new();
    for (file, refs) in &files {
        let path = file
            .trim_end_matches(".rs")
            .trim_end_matches("/mod")
            .replace('/', "::");
        let own = module_of(&path);
        for r in refs.iter().filter(|r| modules.contains_key(*r)) {
            if layer(r) > layer(&own) {
                upward.push(format!("{file} ({own}) imports {r}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a higher layer:\n{}",
        upward.join("\n")
    );
    // The check sees an upward import where there is one.
    assert!(layer("commands") > layer("fetch") && layer("fetch") > layer("api"));
    assert!(layer("config::settings") < layer("api") && layer("api") < layer("config"));
}

#[test]
fn clap_stays_at_the_edge() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let users: Vec<String> = rust_files(&src)
        .into_iter()
        .filter(|f| {
            let text = code(f);
            text.contains("clap::") || text.contains("use clap")
        })
        .map(|f| {
            f.strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .filter(|f| f != "cli.rs" && !f.starts_with("commands/"))
        .collect();
    assert!(users.is_empty(), "clap below the edge: {users:?}");
}
