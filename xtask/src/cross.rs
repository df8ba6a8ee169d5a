//! The other platforms, from this Linux machine: Windows built (`x86_64-pc-windows-gnu`, mingw),
//! its tests run under Wine, its installer made with Debian's `makensis` and round-tripped
//! under Wine; macOS type-checked (`aarch64-apple-darwin`, with zig's C compiler for the C in
//! the dependencies). What each can and cannot prove is in README.md's platform table.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, ensure};

use crate::process::{cargo, exec, shown, target_dir};

pub const WINDOWS: &str = "x86_64-pc-windows-gnu";
pub const MACOS: &str = "aarch64-apple-darwin";

/// Everything: Windows, then macOS.
pub fn run() -> Result<()> {
    windows()?;
    macos()
}

/// The Windows build's binaries.
fn windows_release() -> PathBuf {
    target_dir().join(WINDOWS).join("release")
}

/// Every package but the benchmarks, which measure Linux's processes (/proc, D-Bus peers,
/// PulseAudio); the same selection for each step, so that cargo's features, and so the
/// compiled crates, are the same for all three.
const WINDOWS_PACKAGES: &[&str] = &["--workspace", "--exclude", "chatbell-bench"];

/// clippy, one release build of every package and target, the tests under Wine, the
/// installer and its round trip.
pub fn windows() -> Result<()> {
    let mut clippy = cargo();
    clippy.arg("clippy").args(WINDOWS_PACKAGES);
    clippy.args(["--all-targets", "--release", "--target", WINDOWS]);
    clippy.args(["--", "-D", "warnings"]);
    exec(clippy)?;
    // The tests' build is the programs' build: `cargo test` builds each package's programs
    // for its tests, so the installer packs what was tested, compiled once (a separate
    // `cargo build --all-targets` unifies features differently and compiles much again).
    let test = || {
        let mut test = cargo();
        test.arg("test").args(WINDOWS_PACKAGES);
        test.args(["--release", "--target", WINDOWS, "--no-fail-fast"]);
        test
    };
    let mut build = test();
    build.arg("--no-run");
    exec(build)?;
    let release = windows_release();
    // Test programs start from `deps/`; the window crate's need the loader beside them too.
    copy(
        &release.join("WebView2Loader.dll"),
        &release.join("deps/WebView2Loader.dll"),
    )?;
    let wine = Wine::fresh(&target_dir().join("wine"))?;
    let mut test = test();
    wine.env(&mut test);
    test.env(
        format!(
            "CARGO_TARGET_{}_RUNNER",
            WINDOWS.to_uppercase().replace('-', "_")
        ),
        "wine",
    );
    exec(test)?;
    let product = product()?;
    let installer = installer(&release, &product)?;
    round_trip(&wine, &installer, &product)
}

/// The installer from the last Windows build, and its round trip in a fresh prefix.
pub fn windows_installer() -> Result<()> {
    let product = product()?;
    let installer = installer(&windows_release(), &product)?;
    let wine = Wine::fresh(&target_dir().join("wine"))?;
    round_trip(&wine, &installer, &product)
}

/// A private Wine prefix, made anew for each run, with the one DLL Debian's Wine 8 lacks.
struct Wine {
    prefix: PathBuf,
}

impl Wine {
    fn fresh(dir: &Path) -> Result<Wine> {
        let prefix = std::path::absolute(dir.join("prefix")).context("the Wine prefix's path")?;
        if prefix.exists() {
            std::fs::remove_dir_all(&prefix)
                .with_context(|| format!("removing {}", prefix.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let wine = Wine { prefix };
        let mut boot = wine.command("wineboot");
        boot.arg("--init");
        exec(boot)?;
        wine.wait()?;
        // Rust's standard library calls `ProcessPrng` (bcryptprimitives.dll, Windows 10 and
        // later), which Wine 8 does not have: a shim built here, for the tests only.
        let shim = dir.join("bcryptprimitives.dll");
        let mut gcc = Command::new("x86_64-w64-mingw32-gcc");
        gcc.args(["-shared", "-O2", "-o"])
            .arg(&shim)
            .arg("xtask/windows/bcryptprimitives.c")
            .args(["-ladvapi32", "-Wl,--kill-at"]);
        exec(gcc)?;
        copy(
            &shim,
            &wine.c().join("windows/system32/bcryptprimitives.dll"),
        )?;
        // No sound driver: the tests expect a machine without an audio device, whatever the
        // host's sound server.
        let mut no_audio = wine.command("wine");
        no_audio.args(["reg", "add", r"HKCU\Software\Wine\Drivers"]);
        no_audio.args(["/v", "Audio", "/d", "", "/f"]);
        exec(no_audio)?;
        wine.wait()?;
        Ok(wine)
    }

    /// Wine's variables: this prefix, quiet, no display, no offer to download Mono or Gecko
    /// (nothing here needs .NET or Internet Explorer's engine), and no menu entries made on
    /// the host's desktop for the shortcuts made inside.
    fn env(&self, command: &mut Command) {
        command
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=;winemenubuilder.exe=d")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        self.env(&mut command);
        command
    }

    /// A Windows program, run to its end; its output.
    fn output(&self, exe: &Path, args: &[&str]) -> Result<Output> {
        let mut command = self.command("wine");
        command.arg(exe).args(args);
        println!("xtask: {}", shown(&command));
        command
            .output()
            .with_context(|| format!("running {}", exe.display()))
    }

    /// Until every program of the prefix has ended (an uninstaller re-runs itself from a
    /// temporary copy and returns at once).
    fn wait(&self) -> Result<()> {
        let mut wait = self.command("wineserver");
        wait.arg("-w");
        exec(wait)
    }

    /// The prefix's `C:\`.
    fn c(&self) -> PathBuf {
        self.prefix.join("drive_c")
    }

    /// The prefix's user's profile folder (`C:\users\<name>`).
    fn profile(&self) -> Result<PathBuf> {
        let users = self.c().join("users");
        std::fs::read_dir(&users)
            .with_context(|| format!("reading {}", users.display()))?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| n != "Public") && p.is_dir())
            .context("the Wine prefix has no user profile")
    }

    /// A registry value (a string), or `None` when there is no such key or value; an error
    /// when `reg` fails otherwise, so that "gone" is never a failure misread.
    fn reg_value(&self, key: &str, name: &str) -> Result<Option<String>> {
        let out = self.output(Path::new("reg"), &["query", key, "/v", name])?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let said = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
            ensure!(
                said.contains("Unable to find"),
                "reg query {key} /v {name}: {out:?}"
            );
            return Ok(None);
        }
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .and_then(|l| l.split_once("REG_SZ"))
            .map(|(_, v)| Some(v.trim().to_string()))
            .with_context(|| format!("reg query {key} /v {name} said: {text}"))
    }
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// What the installer says of the product.
struct Product {
    version: String,
    aumid: String,
}

/// The workspace's version and the AppUserModelID, from the one place each is written.
fn product() -> Result<Product> {
    let cargo_toml = std::fs::read_to_string("Cargo.toml").context("reading Cargo.toml")?;
    let version = cargo_toml
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .context("no version in the workspace's Cargo.toml")?
        .to_string();
    let conf = std::fs::read_to_string("src-tauri/tauri.conf.json")
        .context("reading src-tauri/tauri.conf.json")?;
    let aumid = conf
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"identifier\": \""))
        .and_then(|v| v.strip_suffix("\","))
        .context("no identifier in src-tauri/tauri.conf.json")?
        .to_string();
    Ok(Product { version, aumid })
}

/// `Chatbell_<version>_x64-setup.exe` from `xtask/windows/installer.nsi`; the window's program
/// is installed as `chatbell.exe`, the app (docs/architecture.md: one process on Windows).
fn installer(release: &Path, product: &Product) -> Result<PathBuf> {
    let Product { version, aumid } = product;
    let stage = release.join("installer");
    for (from, to) in [
        ("chatbell-window.exe", "chatbell.exe"),
        ("chatbell-cli.exe", "chatbell-cli.exe"),
        ("chatbell-sim.exe", "chatbell-sim.exe"),
        ("WebView2Loader.dll", "WebView2Loader.dll"),
    ] {
        copy(&release.join(from), &stage.join(to))?;
    }
    copy(Path::new("icons/icon.ico"), &stage.join("chatbell.ico"))?;
    let out = std::path::absolute(release.join(format!("bundle/Chatbell_{version}_x64-setup.exe")))
        .context("the installer's path")?;
    std::fs::create_dir_all(out.parent().context("a bundle folder")?)?;
    let stage = std::path::absolute(&stage).context("the staging folder's path")?;
    let mut nsis = Command::new("makensis");
    nsis.args(["-V2", "-INPUTCHARSET", "UTF8"])
        .arg(format!("-DVERSION={version}"))
        .arg(format!("-DAUMID={aumid}"))
        .arg(format!("-DSRC={}", stage.display()))
        .arg(format!("-DOUT={}", out.display()))
        .arg("xtask/windows/installer.nsi");
    exec(nsis)?;
    let size = std::fs::metadata(&out)?.len();
    println!(
        "xtask: {} ({:.1} MiB)",
        out.display(),
        size as f64 / 1048576.0
    );
    Ok(out)
}

const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";
const UNINSTALL_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Chatbell";

/// Installs silently under Wine, uses what was installed, uninstalls silently, and checks what
/// is left: nothing of the program, all of the agent's data.
fn round_trip(wine: &Wine, installer: &Path, product: &Product) -> Result<()> {
    let profile = wine.profile()?;
    let dir = profile.join("AppData/Local/Programs/Chatbell");
    let shortcut =
        profile.join("AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Chatbell.lnk");
    let version = &product.version;

    let out = wine.output(installer, &["/S"])?;
    ensure!(out.status.success(), "the silent install failed: {out:?}");
    wine.wait()?;
    for file in [
        "chatbell.exe",
        "chatbell-cli.exe",
        "chatbell-sim.exe",
        "WebView2Loader.dll",
        "uninstall.exe",
    ] {
        ensure!(dir.join(file).is_file(), "not installed: {file}");
    }

    let cli = dir.join("chatbell-cli.exe");
    let out = wine.output(&cli, &["--version"])?;
    let said = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success() && said.trim() == format!("chatbell-cli {version}"),
        "the installed chatbell-cli.exe --version: {out:?}"
    );
    // The agent's own data, as a day's use leaves it: a setting and the database's folder.
    let out = wine.output(
        &cli,
        &["settings", "set", "notifications.snooze_minutes", "20"],
    )?;
    ensure!(out.status.success(), "settings set: {out:?}");
    let settings = profile.join("AppData/Roaming/chatbell/settings.json");
    ensure!(settings.is_file(), "no {}", settings.display());
    let data = profile.join("AppData/Local/chatbell");
    std::fs::create_dir_all(&data)?;
    std::fs::write(data.join("kept.txt"), "the agent's")?;
    // `doctor` runs every check; with no server configured it fails that one, so its exit
    // code is not the point: that it runs, finds Windows' parts and says so.
    let out = wine.output(&cli, &["doctor"])?;
    let said = String::from_utf8_lossy(&out.stdout);
    println!("{said}");
    for expected in [
        "keychain",
        "Windows Credential Manager",
        "store",
        "organization",
    ] {
        ensure!(
            said.contains(expected),
            "doctor does not say {expected:?}: {out:?}"
        );
    }

    let lnk = std::fs::read(&shortcut)
        .with_context(|| format!("the Start-menu shortcut {}", shortcut.display()))?;
    let target = r"\AppData\Local\Programs\Chatbell\chatbell.exe";
    ensure!(
        contains_text(&lnk, target),
        "the shortcut does not start {target}"
    );
    // The AppUserModelID cannot be read back here: Wine's shell link takes properties and keeps
    // none (its property store's SetValue and Commit are stubs). The installer checks every
    // step of stamping it and exits non-zero when one fails, which the install above rules out.
    let run_value = wine.reg_value(RUN_KEY, "Chatbell")?;
    ensure!(
        run_value
            .as_deref()
            .is_some_and(|v| v.ends_with(r#"\chatbell.exe" --hidden"#) && v.starts_with('"')),
        "start at login: {run_value:?}"
    );
    ensure!(
        wine.reg_value(UNINSTALL_KEY, "DisplayVersion")?.as_deref() == Some(version.as_str()),
        "Apps & features does not list Chatbell {version}"
    );

    let out = wine.output(&dir.join("uninstall.exe"), &["/S"])?;
    ensure!(out.status.success(), "the silent uninstall failed: {out:?}");
    wine.wait()?;
    ensure!(!dir.exists(), "left after uninstalling: {}", dir.display());
    ensure!(!shortcut.exists(), "the shortcut is left");
    ensure!(
        wine.reg_value(RUN_KEY, "Chatbell")?.is_none(),
        "start at login is left"
    );
    ensure!(
        wine.reg_value(UNINSTALL_KEY, "DisplayVersion")?.is_none(),
        "Apps & features still lists Chatbell"
    );
    ensure!(
        settings.is_file() && data.join("kept.txt").is_file(),
        "the agent's data went with the program"
    );
    println!(
        "xtask: the installer installed, ran and uninstalled Chatbell; the agent's data is kept"
    );
    Ok(())
}

/// `text` in the file as UTF-16 (what Windows writes) or as bytes, ignoring ASCII case (paths).
fn contains_text(bytes: &[u8], text: &str) -> bool {
    let lower = |b: &u8| b.to_ascii_lowercase();
    let wide: Vec<u8> = text
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    let narrow: Vec<u8> = text.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let hay: Vec<u8> = bytes.iter().map(lower).collect();
    [wide, narrow]
        .iter()
        .any(|needle| hay.windows(needle.len()).any(|w| w == needle.as_slice()))
}

/// clippy for macOS on every package and target but the benchmarks (Linux's /proc and D-Bus
/// peers): nothing is linked, so Tauri's AppKit parts are type-checked without Apple's SDK.
pub fn macos() -> Result<()> {
    let zig = zig_wrapper()?;
    let mut check = cargo();
    check.args([
        "clippy",
        "--workspace",
        "--exclude",
        "chatbell-bench",
        "--all-targets",
    ]);
    check.args(["--release", "--target", MACOS]);
    check.args(["--", "-D", "warnings"]);
    check
        .env("CC_aarch64_apple_darwin", &zig.cc)
        .env("AR_aarch64_apple_darwin", &zig.ar)
        // mac-notification-sys compiles its Objective-C file unless it is a docs build.
        .env("DOCS_RS", "1");
    exec(check)
}

struct Zig {
    cc: PathBuf,
    ar: PathBuf,
}

/// zig's C compiler and archiver (the `ziglang` wheel from PyPI, in a virtualenv under
/// target/), wrapped so that the flags cc-rs adds for Apple's clang are dropped.
fn zig_wrapper() -> Result<Zig> {
    let dir = std::path::absolute(target_dir().join("zig")).context("zig's folder")?;
    let python = dir.join("venv/bin/python3");
    let has_zig = Command::new(&python)
        .args(["-c", "import ziglang"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_zig {
        let mut venv = Command::new("python3");
        venv.args(["-m", "venv"]).arg(dir.join("venv"));
        exec(venv)?;
        let mut pip = Command::new(&python);
        pip.args(["-m", "pip", "install", "--quiet", "ziglang==0.14.1"]);
        exec(pip)?;
    }
    // Quoted for sh: the target folder may have spaces (or quotes) in its path.
    let python = format!(
        "'{}'",
        python
            .to_str()
            .context("the target folder's path is not UTF-8")?
            .replace('\'', r"'\''")
    );
    let cc = dir.join("cc");
    std::fs::write(
        &cc,
        format!(
            "#!/bin/sh\n\
             # cc-rs's flags for Apple's clang (the target, the architecture, the oldest macOS),\n\
             # which zig takes from its own -target.\n\
             skip=\n\
             for a in \"$@\"; do\n\
             \x20 shift\n\
             \x20 if [ -n \"$skip\" ]; then skip=; continue; fi\n\
             \x20 case \"$a\" in\n\
             \x20   --target=*|-mmacosx-version-min=*) ;;\n\
             \x20   -arch) skip=1 ;;\n\
             \x20   *) set -- \"$@\" \"$a\" ;;\n\
             \x20 esac\n\
             done\n\
             exec {python} -m ziglang cc -target aarch64-macos \"$@\"\n"
        ),
    )?;
    let ar = dir.join("ar");
    std::fs::write(
        &ar,
        format!("#!/bin/sh\nexec {python} -m ziglang ar \"$@\"\n"),
    )?;
    // xtask runs on Linux; it is also compiled for Windows with the rest of the workspace.
    #[cfg(unix)]
    for f in [&cc, &ar] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(Zig { cc, ar })
}
