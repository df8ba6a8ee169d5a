//! A private desktop for each test: its own D-Bus, home, data and config folders, simulator.
//! On Windows (the tests run under Wine) there is no bus: the keychain is the Wine prefix's
//! Credential Manager and notifications are Windows' own.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use chatbell_sim::{SimConfig, SimHandle};
#[cfg(target_os = "linux")]
use chatbell_testkit::PrivateBus;
#[cfg(target_os = "linux")]
use chatbell_testkit::eventually;
use chatbell_testkit::{Spawned, Text};

pub const BIN: &str = env!("CARGO_BIN_EXE_chatbell-cli");

pub struct Desk {
    #[cfg(target_os = "linux")]
    pub bus: PrivateBus,
    pub home: tempfile::TempDir,
    pub sim: SimHandle,
}

impl Desk {
    pub async fn new() -> Desk {
        Desk::with_sim(SimConfig::default()).await
    }

    pub async fn with_sim(config: SimConfig) -> Desk {
        let sim = chatbell_sim::start(SimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            rate: 0.0,
            ..config
        })
        .await
        .unwrap();
        Desk {
            #[cfg(target_os = "linux")]
            bus: PrivateBus::start(),
            home: tempfile::tempdir().unwrap(),
            sim,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    pub fn db(&self) -> PathBuf {
        self.data_dir().join("chatbell.db")
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join("config")
    }

    /// Where this desk's organization's file is (none until a test writes it): never the
    /// machine's `/etc/chatbell/settings.json`.
    pub fn org_settings(&self) -> PathBuf {
        self.home.path().join("org/settings.json")
    }

    /// Writes the organization's file as configuration tools do.
    pub fn write_org_settings(&self, json: serde_json::Value) {
        chatbell_testkit::write_into_place(&self.org_settings(), &json.to_string());
    }

    pub fn write_settings(&self, json: serde_json::Value) {
        std::fs::create_dir_all(self.config_dir()).unwrap();
        std::fs::write(self.config_dir().join("settings.json"), json.to_string()).unwrap();
    }

    /// `chatbell-cli` in this private desktop, English locale.
    pub fn cli(&self) -> Command {
        let mut c = Command::new(BIN);
        #[cfg(target_os = "linux")]
        c.env("DBUS_SESSION_BUS_ADDRESS", self.bus.address());
        c.env("HOME", self.home.path())
            .env("XDG_DATA_HOME", self.home.path().join(".local/share"))
            .env("CHATBELL_DATA_DIR", self.data_dir())
            .env("CHATBELL_CONFIG_DIR", self.config_dir())
            .env("CHATBELL_ORG_SETTINGS", self.org_settings())
            .env("CHATBELL_RUNTIME_DIR", self.home.path().join("run"))
            .env("LANG", "en_US.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("CHATBELL_LOG");
        // The machine's proxy is not the test's: each test names its own.
        for var in chatbell_testkit::PROXY_ENV {
            c.env_remove(var);
        }
        c
    }

    /// Stores `secret` with `chatbell-cli <what> set`, typed on standard input; returns what
    /// the command printed (its standard output and error).
    pub fn store_secret(&self, what: &str, secret: &str) -> String {
        use std::io::Write;
        let mut set = self.cli();
        set.args([what, "set"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = set.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{secret}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{what} set: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    /// `chatbell-cli listen --json` against the simulator; returns once online.
    pub async fn listen(&self, extra: &[&str]) -> Spawned {
        let mut c = self.cli();
        c.args(["listen", "--json", "--url", &self.sim.ws_url()])
            .args(extra);
        until_online(c).await
    }

    /// Runs a command to completion; returns (success, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.cli().args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }
}

/// Ends a `listen`: on Unix with SIGTERM, and it must exit cleanly; on Windows it is ended
/// (console and shutdown events cannot be sent to it from here).
pub fn quit(listener: Spawned) {
    #[cfg(unix)]
    {
        let mut listener = listener;
        listener.signal("TERM");
        assert!(
            listener.wait(Duration::from_secs(10)).success(),
            "clean exit on SIGTERM"
        );
    }
    #[cfg(windows)]
    drop(listener);
}

pub fn message(id: i64, user: i64, name: &str, text: &str) -> serde_json::Value {
    serde_json::json!({"event": "new_message", "data": {"message_id": id, "user_id": user, "user_name": name, "text": text, "file_path": null, "source": "telegram"}, "timestamp": "2026-01-10T15:31:00Z"})
}

pub fn new_chat(user: i64, name: &str, first: &str) -> serde_json::Value {
    serde_json::json!({"event": "new_chat", "data": {"user_id": user, "user_name": name, "username": "u", "source": "telegram", "first_message": first}, "timestamp": "2026-01-10T15:30:00Z"})
}

/// Starts a prepared `chatbell-cli … listen --json`; returns once it is online.
pub async fn until_online(listen: Command) -> Spawned {
    let listener = Spawned::spawn(listen);
    let online = listener
        .stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "connection" && v["state"] == "online"
        })
        .await;
    expect_online(listener, online.is_some())
}

fn expect_online(listener: Spawned, online: bool) -> Spawned {
    assert!(
        online,
        "never online; stdout:\n{}\nstderr:\n{}",
        listener.stdout.text(),
        listener.stderr.text()
    );
    listener
}

/// Waits until the listener's `--json` output says message `message_id` is stored.
pub async fn wait_stored(listener: &Spawned, message_id: i64) {
    listener
        .stdout
        .wait_json(Duration::from_secs(5), |v| {
            v["type"] == "stored"
                && v["messages"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m["message_id"] == message_id))
        })
        .await
        .unwrap_or_else(|| panic!("message {message_id} never stored"));
}

/// `chatbell-cli listen` with its human output (not `--json`); returns once online.
pub async fn listen_human(desk: &Desk, extra: &[&str]) -> Spawned {
    let mut c = desk.cli();
    c.args(["listen", "--url", &desk.sim.ws_url()]).args(extra);
    let listener = Spawned::spawn(c);
    let online = listener
        .stdout
        .wait_for(Duration::from_secs(10), |l| l == "online")
        .await;
    expect_online(listener, online.is_some())
}

/// The threads a process has now, from `/proc/<pid>/task`.
pub fn thread_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("the process is alive")
        .count()
}

/// Waits until `n` JSON lines satisfy `pred`; returns how many do (fewer after `timeout`).
pub async fn wait_json_count(
    lines: &chatbell_testkit::Lines,
    n: usize,
    timeout: Duration,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> usize {
    let count = || lines.json().iter().filter(|v| pred(v)).count();
    let what = format!("{n} such JSON lines");
    chatbell_testkit::try_eventually(&what, timeout, async || match count() {
        c if c >= n => Ok(c),
        c => Err(c),
    })
    .await
    .unwrap_or_else(|_| count())
}

/// Presses a button until the listener prints what it did (the notifier listens for presses
/// on the notification's own connection from just after `Notify` returns).
#[cfg(target_os = "linux")]
pub async fn press(
    server: &chatbell_testkit::NotificationServer,
    listener: &Spawned,
    id: u32,
    action: &str,
    heard: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let what = format!("the listener hears {action} pressed on notification {id}");
    eventually(&what, Duration::from_secs(10), async || {
        server.invoke(id, action).await;
        listener
            .stdout
            .wait_json(Duration::from_millis(300), &heard)
            .await
            .ok_or_else(|| output(listener))
    })
    .await
}

/// What a process printed, for a failed wait: its stdout and stderr.
pub fn output(process: &Spawned) -> Text {
    Text(format!(
        "stdout:\n{}\nstderr:\n{}",
        process.stdout.text(),
        process.stderr.text()
    ))
}
