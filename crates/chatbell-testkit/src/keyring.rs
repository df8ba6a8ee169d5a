use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::PrivateBus;

/// A real Secret Service: `gnome-keyring-daemon`, unlocked, on a private bus, with its
/// keyrings in a folder of the test's.
pub struct SecretService {
    child: Child,
}

impl SecretService {
    pub async fn start(bus: &PrivateBus, home: &Path) -> SecretService {
        let data = home.join(".local/share");
        std::fs::create_dir_all(data.join("keyrings")).expect("keyrings folder");
        let child = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
            .env("HOME", home)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_RUNTIME_DIR", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian package gnome-keyring) must be installed: run `cargo xtask setup`");
        // Owned at once, so that a failed start below still kills and reaps the daemon.
        let mut service = SecretService { child };
        // The password that creates and unlocks the login keyring; then stdin must close.
        service
            .child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"test-password")
            .expect("password");
        let conn = bus.connect().await;
        let dbus = zbus::fdo::DBusProxy::new(&conn).await.expect("bus proxy");
        let name = zbus::names::BusName::try_from("org.freedesktop.secrets").expect("name");
        for _ in 0..200 {
            if dbus.name_has_owner(name.clone()).await.unwrap_or(false) {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("gnome-keyring-daemon did not take org.freedesktop.secrets within 5 s");
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
