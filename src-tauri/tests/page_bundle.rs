//! The page the window ships (`gen/ui`, bundled by `build/page.rs` from `ui/`) is the page in
//! `ui/`, loaded in three requests: the same document with one stylesheet and one script, the
//! stylesheet carrying its icons, the script carrying its modules. Every end-to-end test runs
//! against this bundle, embedded in `chatbell-window`.

mod common;

use std::path::Path;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The document's lines that load something: stylesheets and scripts.
fn loads(html: &str) -> Vec<String> {
    html.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("<link rel=\"stylesheet\"") || l.starts_with("<script"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_shipped_page_is_the_source_page_in_three_requests() {
    let source = read("../ui/index.html");
    let shipped = read("gen/ui/index.html");
    assert_eq!(
        loads(&shipped),
        [
            "<link rel=\"stylesheet\" href=\"app.css\">",
            "<script type=\"module\" src=\"app.js\"></script>"
        ],
        "gen/ui/index.html loads one stylesheet and one script"
    );
    assert!(
        loads(&source).len() > 2,
        "ui/index.html loads its stylesheets and its module"
    );
    // Everything else is the source document, line for line.
    let rest = |html: &str| -> Vec<String> {
        html.lines()
            .filter(|l| loads(l).is_empty())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rest(&shipped), rest(&source));
}

#[test]
fn the_bundle_fetches_nothing_more() {
    let css = read("gen/ui/app.css");
    assert!(
        !css.contains("@import") && !css.contains("url(../img") && !css.contains("url(\"../img"),
        "app.css imports or links nothing: its icons are inlined"
    );
    assert!(
        css.contains("data:image/svg+xml"),
        "the icons are in app.css"
    );
    let js = read("gen/ui/app.js");
    let imports = js
        .lines()
        .filter(|l| l.starts_with("import ") || l.contains(" from \"./"))
        .count();
    assert_eq!(
        imports, 0,
        "app.js imports no module: all are bundled in it"
    );
    // Every module of the page is in it (esbuild heads each with its path).
    for module in common::modules() {
        let name = module
            .strip_prefix(common::ui())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        assert!(
            js.contains(&format!("// ui/{name}\n")),
            "app.js has ui/{name}"
        );
    }
}
