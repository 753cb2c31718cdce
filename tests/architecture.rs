//! The module map of ARCHITECTURE.md, checked: the `crate::` imports between `src/`'s
//! top-level modules form no cycle, and the core pipeline modules reach no runtime,
//! file system, network or screen; the device crate never depends on the lab (`lab/`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code names through `crate::`.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
            let module = first.trim_end_matches(".rs").to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let targets = graph.entry(module.clone()).or_default();
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue; // doc links are not dependencies
                }
                for used in crate_paths(code) {
                    if used != module {
                        targets.insert(used);
                    }
                }
            }
        }
    }
    graph
}

/// The first segment after each `crate::` in a line, `crate::{a, b::c}` included.
fn crate_paths(line: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
    };
    let mut found = Vec::new();
    for (i, _) in line.match_indices("crate::") {
        let rest = &line[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group only: `a`, `b` in `{a, b::{c, d}}`.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(ident(&item));
                        item.clear();
                    }
                    _ if depth == 0 => item.push(c),
                    _ => {}
                }
            }
            found.push(ident(&item));
        } else {
            found.push(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

/// A cycle through `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                return Some([path.clone(), vec![start.to_string()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn the_parser_reads_grouped_and_nested_imports() {
    assert_eq!(crate_paths("use crate::store::{Store, StoreError};"), ["store"]);
    assert_eq!(
        crate_paths("use crate::{answer, kiosk::flow::{Shot, Screen}};"),
        ["answer", "kiosk"]
    );
    assert_eq!(crate_paths("let x = crate::a::f(crate::b::g());"), ["a", "b"]);
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(cycle_from(&graph, "a"), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
}

#[test]
fn modules_import_each_other_without_cycles() {
    let graph = import_graph();
    assert!(graph.len() > 15, "read the modules: {graph:?}");
    let cycles: Vec<Vec<String>> = graph.keys().filter_map(|m| cycle_from(&graph, m)).collect();
    assert!(cycles.is_empty(), "import cycles: {cycles:?}");
}

#[test]
fn the_pipeline_core_reaches_no_edge() {
    let graph = import_graph();
    let edges =
        ["inference", "store", "api", "sync", "tls", "camera", "ui", "cli", "kiosk", "contract"];
    for core in [
        "verify",
        "detection",
        "alignment",
        "quality",
        "embedding",
        "matching",
        "calibration",
        "liveness",
    ] {
        let mut reach = BTreeSet::new();
        let mut todo = vec![core.to_string()];
        while let Some(m) = todo.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if reach.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        let touched: Vec<_> = edges.iter().filter(|e| reach.contains(**e)).collect();
        assert!(touched.is_empty(), "{core} reaches {touched:?}");
    }
}

#[test]
fn the_device_never_depends_on_the_lab() {
    // The lab (lab/, facematch-lab) depends on the device's library; Cargo refuses the reverse as
    // a cycle for normal dependencies, but would allow it as a dev-dependency: no table names it.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table =
        std::fs::read_to_string(root.join("Cargo.toml")).unwrap().parse().unwrap();
    let mut tables: Vec<(&str, &toml::Table)> = Vec::new();
    for name in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = manifest.get(name).and_then(|t| t.as_table()) {
            tables.push((name, t));
        }
    }
    assert!(tables.len() >= 2, "read the manifest: {manifest:?}");
    for (name, table) in tables {
        for (dep, spec) in table {
            let package = spec.get("package").and_then(|p| p.as_str()).unwrap_or(dep);
            let path = spec.get("path").and_then(|p| p.as_str()).unwrap_or("");
            assert!(
                package != "facematch-lab" && !path.contains("lab"),
                "[{name}] {dep}: the device must not depend on the lab"
            );
        }
    }
    // Nor does its code name the lab's crate.
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(!text.contains("facematch_lab::"), "{} names the lab", path.display());
            }
        }
    }
}
