//! `cargo xtask <task>`: the project's commands, so that a fresh Debian/Ubuntu machine with Rust
//! needs exactly two: `cargo xtask demo` and `cargo xtask test`.

mod cross;
mod process;
mod setup;
mod tasks;

use anyhow::{Context, Result, bail};

const HELP: &str = "\
cargo xtask <task>

  demo           set up this machine, build Chatbell and run it in demo mode
  test [--no-cross]  set up this machine and run every check and test (what CI runs): Linux,
                 then Windows (built, tests under Wine, the installer's round trip) and macOS
                 (type-checked); --no-cross: Linux only
  cross [windows|installer|macos]  only the Windows and macOS part of `test` (or one of them;
                 installer: the Windows installer from the last Windows build, and its round trip)
  bench [--quick]  measure throughput, latency, store, footprint, idle, recovery, fan-out;
                 writes docs/BENCHMARKS.md (--quick: a short run that only proves it works)
  fuzz [--seconds N] [TARGET...]  run the fuzz targets (parse_frame, store_batch,
                 settings_load), 60 s each by default
  bundle         build the .deb (Tauri CLI from npm), install it, start it, remove it
  icons          regenerate every icon PNG from icons/*.svg
  setup [--for demo|test|bundle|fuzz|cross]  only install what the task needs (apt,
                 tauri-driver, cargo-fuzz for fuzz; rustup targets, mingw, Wine, NSIS for cross)
";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let root = project_root()?;
    std::env::set_current_dir(&root).context("entering the project root")?;
    match task.as_str() {
        "demo" => tasks::demo(),
        "test" => tasks::test(!rest.iter().any(|a| a == "--no-cross")),
        "cross" => {
            setup::run(setup::Need::Cross)?;
            match rest.first().map(String::as_str) {
                None => cross::run(),
                Some("windows") => cross::windows(),
                Some("macos") => cross::macos(),
                Some("installer") => cross::windows_installer(),
                Some(other) => bail!("cross {other}: expected windows, installer or macos"),
            }
        }
        "bench" => tasks::bench(rest.iter().any(|a| a == "--quick")),
        "fuzz" => tasks::fuzz(&rest),
        "bundle" => tasks::bundle(),
        "icons" => tasks::icons(),
        "setup" => {
            let need = match rest
                .iter()
                .position(|a| a == "--for")
                .and_then(|i| rest.get(i + 1))
                .map(String::as_str)
            {
                Some("demo") => setup::Need::Demo,
                Some("bundle") => setup::Need::Bundle,
                Some("fuzz") => setup::Need::Fuzz,
                Some("cross") => setup::Need::Cross,
                Some("test") | None => setup::Need::Test,
                Some(other) => {
                    bail!("setup --for {other}: expected demo, test, bundle, fuzz or cross")
                }
            };
            setup::run(need)
        }
        "" | "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        other => bail!("unknown task {other:?}\n\n{HELP}"),
    }
}

fn project_root() -> Result<std::path::PathBuf> {
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest
        .parent()
        .context("xtask lives one level below the root")?
        .to_path_buf())
}
