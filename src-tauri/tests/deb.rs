//! The built `.deb`, installed for real: `dpkg -i`, the installed `chatbell --demo` started
//! under Xvfb in a private D-Bus session (the resident must register its tray item, raise
//! notifications for the demo's chats and open its window in a process of its own), then
//! `dpkg -r`.
//!
//! Ignored by default: it needs the package from `cargo xtask bundle` and root (dpkg). The
//! bundle task runs it with `--include-ignored`.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use chatbell_testkit::{
    NotificationServer, PrivateBus, Spawned, TrayWatcher, VirtualDisplay, eventually, processes_of,
};

const PACKAGE: &str = "chatbell";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The newest `.deb` the Tauri CLI wrote.
fn built_deb() -> PathBuf {
    let dir = workspace().join("target/release/bundle/deb");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask bundle`)", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("no .deb in {}", dir.display()))
}

fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {}: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Removes the package even when an assertion fails halfway.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["-r", PACKAGE]).output();
    }
}

/// The installed window process of the desktop whose home is `home`, once it runs.
async fn until_window(home: &Path) -> u32 {
    let what = "the installed resident opens a window";
    eventually(what, Duration::from_secs(30), async || {
        let windows = processes_of(Path::new("/usr/bin/chatbell-window"), home);
        windows.first().copied().ok_or("no chatbell-window process")
    })
    .await
}

#[test]
#[ignore = "needs `cargo xtask bundle`"]
fn the_package_declares_what_it_needs_and_ships_its_three_programs() {
    let deb = built_deb();
    let deb = deb.to_str().unwrap();
    let depends = text(&run("dpkg-deb", &["-f", deb, "Depends"]));
    for dependency in [
        "libwebkit2gtk-4.1-0",
        "libgtk-3-0",
        "libayatana-appindicator3-1",
        // The sounds: cpal reaches the audio system through ALSA.
        "libasound2",
    ] {
        assert!(depends.contains(dependency), "Depends: {depends}");
    }
    let listing = text(&run("dpkg-deb", &["-c", deb]));
    // The last column of each line is the path, with or without a leading "./".
    let files: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(|p| p.trim_start_matches("./"))
        .collect();
    for file in [
        "usr/bin/chatbell",
        "usr/bin/chatbell-window",
        "usr/bin/chatbell-cli",
        "usr/share/applications/Chatbell.desktop",
        // The organization's file to start from (docs/deployment.md).
        "usr/share/doc/chatbell/examples/settings.json",
    ] {
        assert!(files.contains(&file), "{file} in:\n{listing}");
    }
    for size in [
        "16x16", "32x32", "48x48", "64x64", "128x128", "256x256", "512x512",
    ] {
        let icon = format!("usr/share/icons/hicolor/{size}/apps/chatbell.png");
        assert!(files.contains(&icon.as_str()), "{icon} in:\n{listing}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs `cargo xtask bundle` and root"]
async fn the_installed_app_starts_in_demo_mode_and_is_removed_cleanly() {
    let deb = built_deb();
    run("dpkg", &["-i", deb.to_str().unwrap()]);
    let installed = Installed;

    let version = text(&run("/usr/bin/chatbell", &["--version"]));
    assert!(
        version.contains(env!("CARGO_PKG_VERSION")),
        "chatbell --version: {version}"
    );
    run("/usr/bin/chatbell-cli", &["--version"]);
    // The shipped example, put where IT puts the organization's file, is read as it should be.
    let example = "/usr/share/doc/chatbell/examples/settings.json";
    let config = tempfile::tempdir().unwrap();
    let shown = Command::new("/usr/bin/chatbell-cli")
        .args(["settings", "show", "--origin"])
        .env("CHATBELL_ORG_SETTINGS", example)
        .env("CHATBELL_CONFIG_DIR", config.path())
        .output()
        .unwrap();
    let shown_text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.status.success() && shown.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(
        shown_text.lines().any(|l| l
            == format!(
                "locked by the organization\t{example}\tserver.url=\"wss://support.example.com/events\""
            )),
        "{shown_text}"
    );
    let entry = std::fs::read_to_string("/usr/share/applications/Chatbell.desktop").unwrap();
    // The menu entry starts the resident, which opens the window.
    assert!(entry.lines().any(|l| l == "Exec=chatbell"), "{entry}");
    assert!(entry.contains("Icon=chatbell"), "{entry}");

    let display = VirtualDisplay::start();
    let bus = PrivateBus::start();
    let notifications = NotificationServer::start(&bus, &["body", "actions"]).await;
    let tray = TrayWatcher::start(&bus).await;
    let home = tempfile::tempdir().unwrap();
    let mut app = Command::new("/usr/bin/chatbell");
    app.arg("--demo")
        .env("DISPLAY", display.display())
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_STATE_HOME", home.path().join(".local/state"))
        .env("XDG_RUNTIME_DIR", home.path())
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("WAYLAND_DISPLAY");
    let mut app = Spawned::spawn(app);

    let item = tray.wait_item(Duration::from_secs(30)).await;
    assert!(
        item.is_some(),
        "the installed app registered no tray item\n{}",
        app.stderr.text()
    );
    // The demo's simulator starts new chats within seconds; the window is open but not
    // showing them, so each raises a notification.
    let calls = notifications.wait_calls(1, Duration::from_secs(30)).await;
    assert!(
        !calls.is_empty(),
        "no notification from the demo\n{}",
        app.stderr.text()
    );
    assert_eq!(calls[0].app_name, "Chatbell");
    // Not started hidden: the resident opened its window, in a process of its own.
    let window = until_window(home.path()).await;
    assert!(
        !std::fs::read_to_string(format!("/proc/{}/maps", app.pid()))
            .unwrap()
            .contains("libwebkit2gtk"),
        "the resident maps no WebKit"
    );
    display.screenshot(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("deb-installed-demo.png"));

    // Stopped as a session ends: the app quits cleanly, its store closed.
    app.signal("TERM");
    let status = app.wait(Duration::from_secs(10));
    let logs = std::fs::read_dir(home.path().join(".local/state/chatbell/logs"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|f| std::fs::read_to_string(f.path()).ok())
                .collect::<String>()
        })
        .unwrap_or_default();
    assert!(
        status.success() && logs.contains("asked to quit") && logs.contains("bye"),
        "SIGTERM: {status}; log:\n{logs}\nstderr:\n{}",
        app.stderr.text()
    );
    // The window went with it.
    let what = "the window ends with the resident";
    eventually(what, Duration::from_secs(10), async || {
        match Path::new(&format!("/proc/{window}/exe")).exists() {
            true => Err(format!("window {window} runs")),
            false => Ok(()),
        }
    })
    .await;
    drop(installed);
    let status = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", PACKAGE])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&status.stdout).contains("install ok installed"),
        "the package is removed"
    );
    assert!(!Path::new("/usr/bin/chatbell").exists());
    assert!(!Path::new("/usr/bin/chatbell-window").exists());
    assert!(!Path::new("/usr/bin/chatbell-cli").exists());
}
