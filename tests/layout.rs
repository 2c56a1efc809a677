//! The engine's layout: modules depend one way (the order `engine/src/lib.rs` lists
//! them in), no two source files import each other in a circle, and no file grows past
//! what one reader takes in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Non-test lines a source file may have before it is usually two things.
const MAX_LINES: usize = 550;

fn engine_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/src")
}

/// Every `.rs` file under `dir`, by module path (`run::score`, `detect::surge`).
fn modules(dir: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                    parts.pop();
                }
                out.insert(parts.join("::"), p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The code of a file without its test module and without comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths named after `prefix` (`crate::` or `super::`): `a::b::c` for
/// `crate::a::b::c`, and each item of a brace group `crate::a::{b, c::d}`.
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(ident) {
            continue;
        }
        let mut path = String::new();
        let mut s = rest;
        loop {
            let n = s.find(|c: char| !ident(c)).unwrap_or(s.len());
            path.push_str(&s[..n]);
            s = &s[n..];
            if let Some(t) = s.strip_prefix("::") {
                path.push_str("::");
                s = t;
                if let Some(group) = s.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    for item in group[..end].split(',') {
                        let item = item.trim();
                        if !item.is_empty() && item != "self" {
                            out.push(format!("{path}{item}"));
                        }
                    }
                    path.pop();
                    path.pop();
                    break;
                }
            } else {
                break;
            }
        }
        out.push(path);
    }
    out
}

/// The modules each module's code names (the longest known module of each path).
fn imports(mods: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    let resolve = |segs: &[&str]| -> Option<String> {
        (1..=segs.len())
            .rev()
            .map(|k| segs[..k].join("::"))
            .find(|m| mods.contains_key(m))
    };
    mods.iter()
        .map(|(m, path)| {
            let code = code(path);
            let own: Vec<&str> = m.split("::").filter(|s| !s.is_empty()).collect();
            // `super` of a folder's mod.rs is the folder's parent, like any file's.
            let parent = &own[..own.len().saturating_sub(1)];
            let mut refs = BTreeSet::new();
            for p in paths_after(&code, "crate::") {
                let segs: Vec<&str> = p.split("::").collect();
                refs.extend(resolve(&segs));
            }
            for p in paths_after(&code, "super::") {
                let mut segs: Vec<&str> = parent.to_vec();
                segs.extend(p.split("::"));
                refs.extend(resolve(&segs));
            }
            // A module's own children and ancestors are not imports between modules.
            refs.retain(|r| {
                !r.is_empty()
                    && r != m
                    && !r.starts_with(&format!("{m}::"))
                    && !m.starts_with(&format!("{r}::"))
            });
            (m.clone(), refs)
        })
        .collect()
}

#[test]
fn top_level_modules_depend_one_way_in_lib_rs_order() {
    let src = engine_src();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let order: Vec<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    assert!(order.len() > 10, "lib.rs lists its modules: {order:?}");
    let rank = |m: &str| {
        let top = m.split("::").next().unwrap_or("");
        order.iter().position(|o| o == top)
    };
    let mods = modules(&src);
    let mut wrong = Vec::new();
    for (m, refs) in imports(&mods) {
        let Some(mine) = rank(&m) else { continue };
        for r in refs {
            if rank(&r).is_some_and(|theirs| theirs > mine) {
                wrong.push(format!("{m} uses {r}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "modules must only use modules listed above them in lib.rs:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other_in_a_circle() {
    let mods = modules(&engine_src());
    let graph = imports(&mods);
    // Depth-first search; a back edge closes a circle.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        circles: &mut Vec<String>,
    ) {
        state.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for r in graph.get(m).into_iter().flatten() {
            match state.get(r.as_str()) {
                Some(1) => {
                    let at = stack.iter().position(|s| s == r).unwrap_or(0);
                    circles.push(format!("{} -> {r}", stack[at..].join(" -> ")));
                }
                Some(_) => {}
                None => visit(r, graph, state, stack, circles),
            }
        }
        stack.pop();
        state.insert(m.to_string(), 2);
    }
    let (mut state, mut circles) = (BTreeMap::new(), Vec::new());
    for m in graph.keys() {
        if !state.contains_key(m.as_str()) {
            visit(m, &graph, &mut state, &mut Vec::new(), &mut circles);
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn no_engine_file_is_two_things() {
    let mut long = Vec::new();
    for (m, path) in modules(&engine_src()) {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines = text
            .lines()
            .take_while(|l| !l.starts_with("#[cfg(test)]"))
            .count();
        if lines > MAX_LINES {
            long.push(format!("{m}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (tests aside):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_import_scanner_reads_groups_and_paths() {
    let code = "use crate::a::{b, c::d};\nlet x = crate::e::f(1); notcrate::g;";
    assert_eq!(
        paths_after(code, "crate::"),
        vec!["a::b", "a::c::d", "a", "e::f"]
    );
}
