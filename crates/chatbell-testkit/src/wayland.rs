//! A headless Wayland compositor of the test's own: Debian's `weston` with its headless backend
//! and the software renderer, in a private runtime folder. Clients reach it by the socket's
//! full path in `WAYLAND_DISPLAY`, so their own `XDG_RUNTIME_DIR` stays theirs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SOCKET: &str = "wayland-chatbell";

pub struct Weston {
    child: Child,
    runtime: tempfile::TempDir,
}

impl Weston {
    pub fn start() -> Weston {
        let runtime = tempfile::tempdir().expect("a runtime folder");
        let child = Command::new("weston")
            .args([
                "--backend=headless-backend.so",
                "--use-pixman",
                "--width=1280",
                "--height=800",
                &format!("--socket={SOCKET}"),
                // Lets weston-screenshooter take pictures.
                "--debug",
            ])
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("weston (Debian package weston) must be installed: run `cargo xtask setup`");
        let weston = Weston { child, runtime };
        crate::eventually_blocking("weston's socket", Duration::from_secs(15), || match weston
            .socket()
            .exists()
        {
            true => Ok(()),
            false => Err("absent: weston did not start"),
        });
        weston
    }

    /// The value for `WAYLAND_DISPLAY`: the socket's full path.
    pub fn socket(&self) -> PathBuf {
        self.runtime.path().join(SOCKET)
    }

    /// A picture of the whole screen (`weston-screenshooter`), written to `path`.
    pub fn screenshot(&self, path: &Path) -> bool {
        let Ok(shots) = tempfile::tempdir() else {
            return false;
        };
        let taken = Command::new("weston-screenshooter")
            .current_dir(shots.path())
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("WAYLAND_DISPLAY", SOCKET)
            .status()
            .is_ok_and(|s| s.success());
        let shot = std::fs::read_dir(shots.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "png"));
        taken && shot.is_some_and(|shot| std::fs::copy(shot, path).is_ok())
    }
}

impl Drop for Weston {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
