//! The page as it ships: `ui/` bundled by esbuild (from npm, `package.json`) into one script
//! and one stylesheet, so WebKit fetches three files over the app's scheme instead of
//! twenty-odd, module after module (`docs/benchmarks-method.md`, figure 10). The sources in
//! `ui/` stay as they are, and the page runs from them unbundled as well; `index.html` is the
//! one list of what the page loads.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Bundles `<repo>/ui` into the `frontendDist` of `tauri.conf.json` (`gen/ui`). Files are
/// rewritten only when their bytes change, and files no longer made are removed: the folder is
/// watched by Tauri's own build step (and by this one, so a deleted folder is made again), and
/// a rewrite would make every build a new one.
pub fn bundle() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = here.parent().expect("src-tauri is in the repository");
    let ui = root.join("ui");
    let config: serde_json::Value = serde_json::from_str(&read(&here.join("tauri.conf.json")))
        .expect("tauri.conf.json is JSON");
    let out = here.join(
        config["build"]["frontendDist"]
            .as_str()
            .expect("tauri.conf.json names build.frontendDist"),
    );
    println!("cargo:rerun-if-changed={}", ui.display());
    println!(
        "cargo:rerun-if-changed={}",
        root.join("package-lock.json").display()
    );
    println!("cargo:rerun-if-changed={}", out.display());

    let html = read(&ui.join("index.html"));
    let (styles, script) = assets(&html);
    let work = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("ui");
    std::fs::create_dir_all(&work).expect("creating the bundle's folder");

    // esbuild resolves standard input's imports from its working folder, the repository's.
    let imports: String = styles
        .iter()
        .map(|s| format!("@import \"./ui/{s}\";\n"))
        .collect();
    esbuild(
        root,
        &[
            "--bundle",
            "--loader=css",
            "--loader:.svg=dataurl",
            &format!("--outfile={}", work.join("app.css").display()),
        ],
        Some(&imports),
    );
    esbuild(
        root,
        &[
            &ui.join(&script).display().to_string(),
            "--bundle",
            "--format=esm",
            "--charset=utf8",
            &format!("--outfile={}", work.join("app.js").display()),
        ],
        None,
    );

    std::fs::create_dir_all(out.join("img")).expect("creating the bundle's folder");
    let mut made = vec![out.join("img"), out.join("index.html")];
    write_if_changed(&made[1], shipped_html(&html, &styles, &script).as_bytes());
    for name in ["app.js", "app.css"] {
        made.push(out.join(name));
        write_if_changed(
            &out.join(name),
            &std::fs::read(work.join(name)).expect("esbuild wrote it"),
        );
    }
    for entry in std::fs::read_dir(ui.join("img")).expect("ui/img").flatten() {
        let bytes = std::fs::read(entry.path()).expect("reading ui/img");
        made.push(out.join("img").join(entry.file_name()));
        write_if_changed(&out.join("img").join(entry.file_name()), &bytes);
    }
    // What an earlier build made and this one did not (an icon renamed) would still ship.
    for folder in [out.clone(), out.join("img")] {
        for entry in std::fs::read_dir(&folder)
            .expect("the bundle's folder")
            .flatten()
        {
            let path = entry.path();
            if made.contains(&path) {
                continue;
            }
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.unwrap_or_else(|e| panic!("removing {}: {e}", path.display()));
        }
    }
}

/// The stylesheets (in order) and the module script `index.html` loads.
fn assets(html: &str) -> (Vec<String>, String) {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        Some(tag[start..].split('"').next()?.to_string())
    };
    let mut styles = Vec::new();
    let mut script = None;
    for line in html.lines().map(str::trim) {
        if line.starts_with("<link rel=\"stylesheet\"") {
            styles.push(attribute(line, "href").expect("a stylesheet link has an href"));
        } else if line.starts_with("<script type=\"module\"") {
            script = attribute(line, "src");
        }
    }
    let script = script.expect("ui/index.html loads one module script");
    assert!(!styles.is_empty(), "ui/index.html links no stylesheet");
    (styles, script)
}

/// `index.html` with its stylesheet links replaced by the bundle's one, in the first one's
/// place, and the module script pointed at the bundle.
fn shipped_html(html: &str, styles: &[String], script: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut linked = false;
    for line in html.lines() {
        let trimmed = line.trim();
        if styles
            .iter()
            .any(|s| trimmed == format!("<link rel=\"stylesheet\" href=\"{s}\">"))
        {
            if !linked {
                out.push_str(&line.replace(trimmed, "<link rel=\"stylesheet\" href=\"app.css\">"));
                out.push('\n');
                linked = true;
            }
            continue;
        }
        out.push_str(&line.replace(&format!("src=\"{script}\""), "src=\"app.js\""));
        out.push('\n');
    }
    out
}

fn esbuild(root: &Path, args: &[&str], stdin: Option<&str>) {
    // npm's shim: a shell script, and a `.cmd` beside it on Windows.
    let shim = if cfg!(windows) {
        "esbuild.cmd"
    } else {
        "esbuild"
    };
    let program = root.join("node_modules/.bin").join(shim);
    if !program.exists() {
        panic!(
            "{} is missing: the page is bundled with esbuild from npm; run `npm ci` in {} \
             (every `cargo xtask` command does)",
            program.display(),
            root.display()
        );
    }
    let mut command = Command::new(&program);
    command
        .args(args)
        .arg("--log-level=warning")
        .current_dir(root)
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        });
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
    if let Some(text) = stdin {
        use std::io::Write;
        // An esbuild that stopped early closed its input: its status below says why.
        let _ = child
            .stdin
            .take()
            .expect("piped")
            .write_all(text.as_bytes());
    }
    let status = child.wait().expect("waiting for esbuild");
    assert!(status.success(), "esbuild {args:?} failed ({status})");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
