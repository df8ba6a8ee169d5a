use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `dbus-daemon --session` of the test's own, killed when dropped.
pub struct PrivateBus {
    address: String,
    child: Child,
}

impl PrivateBus {
    pub fn start() -> PrivateBus {
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon) must be installed: run `cargo xtask setup`");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("bus address");
        let address = line.trim().to_string();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        PrivateBus { address, child }
    }

    /// The value for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    pub async fn connect(&self) -> zbus::Connection {
        zbus::connection::Builder::address(self.address.as_str())
            .expect("a bus address")
            .build()
            .await
            .expect("connects to the private bus")
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const CHILD: &str = "CHATBELL_TEST_IN_PRIVATE_DESKTOP";

/// Runs the test named `name` again in a child process of the test binary on a private session
/// bus. Returns true in that child (run the test), false in the parent (done: the child
/// passed).
///
/// What talks to the session bus named by `DBUS_SESSION_BUS_ADDRESS` (the notifier, the tray)
/// cannot be pointed elsewhere by a test: the tests of a binary share one environment.
pub fn in_private_desktop(name: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let bus = PrivateBus::start();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
    false
}
