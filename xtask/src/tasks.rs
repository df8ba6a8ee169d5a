//! The tasks themselves.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::process::{exec, target_dir};
use crate::setup::{self, Need};

fn run(program: &str, args: &[&str]) -> Result<()> {
    let mut command = Command::new(program);
    command.args(args);
    exec(command)
}

fn cargo(args: &[&str]) -> Result<()> {
    let mut cargo = crate::process::cargo();
    cargo.args(args);
    exec(cargo)
}

pub fn demo() -> Result<()> {
    setup::run(Need::Demo)?;
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!("no display: run `cargo xtask demo` in a desktop session (or under `xvfb-run`)");
    }
    // The resident and the window it starts, from the build the tests use (so after `cargo
    // xtask test` nothing compiles again), run from where cargo put them.
    build_release()?;
    run(
        release_binary("chatbell")
            .to_str()
            .context("a UTF-8 target path")?,
        &["--demo"],
    )
}

/// Everything CI runs: Linux, then (unless `cross` is off) Windows and macOS.
pub fn test(cross: bool) -> Result<()> {
    setup::run(Need::Bundle)?;
    if cross {
        setup::run(Need::Cross)?;
    }
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--release",
        "--",
        "-D",
        "warnings",
    ])?;
    build_release()?;
    cargo(&["test", "--workspace", "--release", "--no-fail-fast"])?;
    run_bench(true)?;
    bundle_and_check_deb()?;
    if cross {
        crate::cross::run()
    } else {
        println!("xtask: --no-cross: Windows and macOS were not built or tested");
        Ok(())
    }
}

/// One release build of every package and target: the tests, the benchmarks, the demo and the
/// `.deb` all use these binaries, so the app that is tested is the app that ships, and nothing
/// compiles twice. Building the tests in the same invocation matters: cargo enables a crate's
/// features for the whole build, and a build without the test targets (`cargo build -p`, the
/// Tauri CLI's `tauri build`) would pick a different set and recompile the engine and
/// everything under it.
fn build_release() -> Result<()> {
    cargo(&["build", "--workspace", "--all-targets", "--release"])
}

/// A binary of that build, where cargo put it.
fn release_binary(name: &str) -> PathBuf {
    target_dir().join("release").join(name)
}

/// The fuzz targets (`fuzz/fuzz_targets/`), each with the dictionary of tokens its inputs are
/// made of. Each is seeded from its committed corpus, `fuzz/corpus/<target>/`.
const FUZZ_TARGETS: &[(&str, &str)] = &[
    ("parse_frame", "fuzz/dict/frames.dict"),
    ("store_batch", "fuzz/dict/frames.dict"),
    ("settings_load", "fuzz/dict/settings.dict"),
];

/// `cargo xtask fuzz [--seconds N] [TARGET...]`: every target (or those named), 60 s each.
pub fn fuzz(args: &[String]) -> Result<()> {
    let names = || {
        FUZZ_TARGETS
            .iter()
            .map(|(t, _)| *t)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut seconds = 60;
    let mut only = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            seconds = args
                .next()
                .and_then(|n| n.parse().ok())
                .context("--seconds needs a whole number of seconds")?;
        } else if let Some((target, _)) = FUZZ_TARGETS.iter().find(|(t, _)| t == arg) {
            only.push(*target);
        } else {
            bail!(
                "fuzz: unknown argument {arg:?}; expected --seconds N and target names ({})",
                names()
            );
        }
    }
    setup::run(Need::Fuzz)?;
    run_fuzz(&only, seconds)
}

/// Builds the fuzz targets and runs each (all when `only` is empty) for `seconds`. New inputs
/// go to `fuzz/target/corpus/`, never into the committed corpus; a crash fails the task and
/// names the file that reproduces it.
fn run_fuzz(only: &[&str], seconds: u32) -> Result<()> {
    // No sanitizer: with AddressSanitizer the targets ran 2–5× fewer inputs a second and reached
    // less coverage in the same time, and the workspace forbids unsafe code (fuzz/README.md).
    // Without a sanitizer cargo-fuzz needs only stable flags, so the toolchain that builds
    // everything else builds the targets too (no nightly to install or to break).
    cargo(&["fuzz", "build", "--sanitizer", "none"])?;
    let root = std::env::current_dir().context("reading the project root")?;
    // The targets' temporary files (the store's database, settings files) land here, so none
    // outlive a run elsewhere.
    let tmp = root.join("fuzz/target/tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut failed = Vec::new();
    for (target, dict) in FUZZ_TARGETS
        .iter()
        .filter(|(t, _)| only.is_empty() || only.contains(t))
    {
        let work = format!("fuzz/target/corpus/{target}");
        std::fs::create_dir_all(&work).with_context(|| format!("creating {work}"))?;
        let artifacts = root.join("fuzz/artifacts").join(target);
        let before = files_in(&artifacts);
        // libFuzzer adds what it finds to the first folder only; the committed corpus seeds it.
        let args = [
            "fuzz".to_string(),
            "run".into(),
            "--sanitizer".into(),
            "none".into(),
            target.to_string(),
            work,
            format!("fuzz/corpus/{target}"),
            "--".into(),
            format!("-max_total_time={seconds}"),
            format!("-dict={dict}"),
            "-timeout=20".into(),
            "-verbosity=0".into(),
            "-print_final_stats=1".into(),
        ];
        println!("xtask: cargo {}", args.join(" "));
        let status = crate::process::cargo()
            .args(&args)
            .env("TMPDIR", &tmp)
            .status()
            .context("starting cargo fuzz run")?;
        if !status.success() {
            let new: Vec<String> = files_in(&artifacts)
                .into_iter()
                .filter(|f| !before.contains(f))
                .map(|f| f.display().to_string())
                .collect();
            failed.push(if new.is_empty() {
                format!("{target}: failed ({status}) without saving an input")
            } else {
                format!("{target}: {}", new.join(" "))
            });
        }
    }
    if !failed.is_empty() {
        bail!(
            "fuzzing found inputs that fail:\n  {}\nReproduce one with `cargo fuzz run --sanitizer none \
             <target> <file>`, shrink it with `cargo fuzz tmin --sanitizer none <target> \
             <file>`, and add it as a regression test in the crate \
             it breaks",
            failed.join("\n  ")
        );
    }
    Ok(())
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

pub fn bench(quick: bool) -> Result<()> {
    setup::run(Need::Test)?;
    run_bench(quick)
}

fn run_bench(quick: bool) -> Result<()> {
    build_release()?;
    let bench = release_binary("chatbell-bench");
    let bench = bench
        .to_str()
        .context("the target folder's path is not UTF-8")?;
    if quick {
        run(bench, &["--quick"])
    } else {
        run(bench, &["--write", "docs/BENCHMARKS.md"])
    }
}

pub fn bundle() -> Result<()> {
    setup::run(Need::Bundle)?;
    bundle_and_check_deb()
}

/// Packs the release build's binaries into the .deb (`tauri bundle`, which compiles nothing),
/// checks what it contains, and, as root, installs it, starts it and removes it again.
fn bundle_and_check_deb() -> Result<()> {
    build_release()?;
    // The Tauri CLI is in node_modules: `setup::run(Need::Bundle)` installed it.
    run(
        "npx",
        &["--no-install", "tauri", "bundle", "--bundles", "deb"],
    )?;
    // `--workspace` keeps the features of the build above (one package alone would differ).
    let mut args = vec![
        "test",
        "--workspace",
        "--release",
        "--test",
        "deb",
        "--",
        "--include-ignored",
    ];
    if !setup::is_root() {
        println!(
            "xtask: not root: checking the package's contents only (installing it needs dpkg as root)"
        );
        args.extend(["--skip", "the_installed_app"]);
    }
    cargo(&args)
}

pub fn icons() -> Result<()> {
    run("sh", &["icons/generate.sh"])
}
