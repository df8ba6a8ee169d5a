//! Imports run one way along the data path: no module of a crate uses one that uses it back,
//! directly or around a longer circle (each crate's `tests/layering.rs` asks). Read from the
//! source, as a reviewer would: every
//! `crate::a` in a top-level module `b` is an arrow b → a, and every `super::a` in a file of a
//! folder module an arrow between two siblings. A module and its own children (`mod.rs` and
//! the files beside it) are one piece.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The arrows between the modules of one level: `crate::` paths between top-level modules, and
/// `super::` paths between the files of each folder module.
fn arrows(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut arrows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut visit = |file: &Path| {
        let rel = file.strip_prefix(src).unwrap().with_extension("");
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if parts == ["lib"] {
            return;
        }
        let text = std::fs::read_to_string(file).unwrap();
        // Tests inside a file may reach anywhere; comments name modules without using them.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        let text: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = text.as_str();
        let top = parts[0].clone();
        let top_module = |name: &str| {
            src.join(format!("{name}.rs")).exists() || src.join(name).join("mod.rs").exists()
        };
        for target in referenced(text, "crate::", &top_module) {
            if target != top {
                arrows.entry(top.clone()).or_default().insert(target);
            }
        }
        // A file in a folder module: its siblings are `super::x` (not `super::` items of mod.rs).
        if parts.len() == 2 && parts[1] != "mod" {
            let folder = &parts[0];
            let me = format!("{folder}/{}", parts[1]);
            let sibling = |name: &str| {
                src.join(folder).join(format!("{name}.rs")).exists()
                    || src.join(folder).join(name).join("mod.rs").exists()
            };
            for target in referenced(text, "super::", &sibling) {
                arrows
                    .entry(me.clone())
                    .or_default()
                    .insert(format!("{folder}/{target}"));
            }
        }
    };
    walk(src, &mut visit);
    arrows
}

fn walk(dir: &Path, visit: &mut impl FnMut(&Path)) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, visit);
        } else if path.extension().is_some_and(|e| e == "rs") {
            visit(&path);
        }
    }
}

/// The names after `prefix` (`crate::store::…` → `store`), also inside `use prefix{a, b::c}`
/// groups, that `is_module` says are modules (not items like `crate::Engine`).
fn referenced(text: &str, prefix: &str, is_module: &dyn Fn(&str) -> bool) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices(prefix) {
        // `crate::` inside a longer path (`$crate::`, `my_crate::`) is not ours.
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &text[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(group.split(',').map(|item| ident(item.trim())));
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|name| !name.is_empty() && is_module(name));
    out
}

/// A circle of arrows, if there is one.
fn circle(arrows: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        arrows: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in arrows.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, arrows, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in arrows.keys() {
        if let Some(c) = visit(node, arrows, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

/// Fails with the circle if the crate whose manifest is in `crate_dir` has one. `sample` is an
/// arrow known to be there (`(from, to)`), so a reading that found nothing cannot pass.
pub fn assert_one_way(crate_dir: &str, sample: (&str, &str)) {
    let arrows = arrows(&Path::new(crate_dir).join("src"));
    assert!(
        arrows.get(sample.0).is_some_and(|a| a.contains(sample.1)),
        "the reading of imports found the {} → {} arrow: {arrows:#?}",
        sample.0,
        sample.1
    );
    if let Some(circle) = circle(&arrows) {
        panic!("imports go round in a circle: {}", circle.join(" → "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circle_is_found() {
        let arrows: BTreeMap<String, BTreeSet<String>> = [
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a"]),
            ("d", vec!["a"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(circle(&arrows).unwrap(), ["a", "b", "c", "a"]);
        let text = "use crate::store::{Reader, x};\nuse crate::{model::A, notifier};\nlet y = crate::typing::T;\n$crate::nope::x";
        let modules = |name: &str| ["model", "store", "typing", "notifier", "nope"].contains(&name);
        assert_eq!(
            referenced(text, "crate::", &modules),
            ["model", "notifier", "store", "typing"]
                .map(String::from)
                .into()
        );
    }
}
