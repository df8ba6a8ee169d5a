//! The tray-resident `chatbell` as it runs on a desktop: its own process on a private session
//! bus (with a notification server, a tray host and a keyring), the simulator as the server,
//! and this test as the window process — connecting over the real socket, asking what the page
//! asks, and going away as a killed window does. The real window across the split is in
//! `src-tauri/tests/e2e.rs`.
#![cfg(freedesktop)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use chatbell_engine::store::{Reader, integrity_check};
use chatbell_ipc::socket::{self, ConnectError, Receiver, Sender};
use chatbell_ipc::wire::Hello;
use chatbell_ipc::{PROTOCOL, Role, ToResident, ToWindow, Welcome};
use chatbell_resident::tray::{self, Look};
use chatbell_sim::{SimConfig, SimHandle};
use chatbell_testkit::{
    NotificationServer, PrivateBus, SecretService, Spawned, TrayWatcher, logs_in,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_chatbell");
const WITHIN: Duration = Duration::from_secs(15);

struct Desk {
    sim: SimHandle,
    notifications: NotificationServer,
    tray: TrayWatcher,
    _keyring: SecretService,
    bus: PrivateBus,
    home: tempfile::TempDir,
}

impl Desk {
    async fn new() -> Desk {
        let sim = chatbell_sim::start(SimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            rate: 0.0,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let bus = PrivateBus::start();
        let notifications = NotificationServer::start(&bus, &["body", "actions"]).await;
        let tray = TrayWatcher::start(&bus).await;
        let home = tempfile::tempdir().unwrap();
        let keyring = SecretService::start(&bus, home.path()).await;
        let config = home.path().join("config");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("settings.json"),
            json!({"server": {"url": sim.ws_url()}, "ui": {"welcome_done": true}}).to_string(),
        )
        .unwrap();
        Desk {
            sim,
            notifications,
            tray,
            _keyring: keyring,
            bus,
            home,
        }
    }

    /// A program of this workspace in this desktop's environment.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DBUS_SESSION_BUS_ADDRESS", self.bus.address())
            // logind is looked for on the system bus: this desktop's (a stand-in, if any).
            .env("DBUS_SYSTEM_BUS_ADDRESS", self.bus.address())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("XDG_RUNTIME_DIR", self.home.path())
            .env("CHATBELL_DATA_DIR", self.home.path().join("data"))
            .env("CHATBELL_CONFIG_DIR", self.home.path().join("config"))
            .env("LANG", "en_US.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("CHATBELL_LOG")
            .env_remove("CHATBELL_RUNTIME_DIR")
            // The organization's file of this desktop (none unless a test writes it).
            .env(
                "CHATBELL_ORG_SETTINGS",
                self.home.path().join("org/settings.json"),
            );
        c
    }

    /// `chatbell --hidden`, once its socket answers.
    async fn resident(&self) -> Spawned {
        let mut c = self.command(BIN);
        c.arg("--hidden");
        let resident = Spawned::spawn(c);
        let deadline = tokio::time::Instant::now() + WITHIN;
        while std::os::unix::net::UnixStream::connect(self.socket()).is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the resident never listened: {}\n{}",
                resident.stderr.text(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        resident
    }

    fn socket(&self) -> PathBuf {
        self.home.path().join("chatbell/chatbell.sock")
    }

    fn db(&self) -> PathBuf {
        self.home.path().join("data/chatbell.db")
    }

    fn log(&self) -> String {
        logs_in(&self.home.path().join("data/logs"))
    }

    async fn logged(&self, text: &str) {
        let deadline = tokio::time::Instant::now() + WITHIN;
        while !self.log().contains(text) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "never logged {text:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn window(&self) -> Window {
        let (welcome, receiver, sender) =
            socket::connect(&self.socket(), Role::Window).await.unwrap();
        Window {
            welcome,
            receiver,
            sender,
            next_id: 1,
        }
    }

    async fn send(&self, event: Value) {
        let delivered = self.sim.control().send_event(&event).await.unwrap();
        assert_eq!(delivered, 1, "the resident is connected");
    }

    /// Waits until the tray shows `look`, pixel for pixel.
    async fn until_tray(&self, look: Look) {
        let item = self.tray.wait_item(WITHIN).await.expect("a tray item");
        let want: Vec<u8> = tray::picture(look)
            .icon
            .rgba
            .chunks_exact(4)
            .flat_map(|p| [p[3], p[0], p[1], p[2]])
            .collect();
        let deadline = tokio::time::Instant::now() + WITHIN;
        loop {
            let now = self.tray.read(&item.service, &item.path).await.unwrap();
            if now.icon_pixmap.first().map(|p| &p.2) == Some(&want) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the tray never showed {look:?}; it says {:?}\n{}",
                now.tool_tip,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// This test, as the window process.
struct Window {
    welcome: Welcome,
    receiver: Receiver,
    sender: Sender,
    next_id: u64,
}

impl Window {
    async fn next(&mut self) -> ToWindow {
        tokio::time::timeout(WITHIN, self.receiver.recv::<ToWindow>())
            .await
            .expect("a message from the resident")
            .expect("the resident is there")
    }

    /// The first message that `pick` accepts (others are events the page would handle).
    async fn until<T>(&mut self, pick: impl Fn(ToWindow) -> Option<T>) -> T {
        loop {
            if let Some(found) = pick(self.next().await) {
                return found;
            }
        }
    }

    async fn call(&mut self, name: &str, args: Value) -> Result<Value, chatbell_ipc::CommandError> {
        let id = self.next_id;
        self.next_id += 1;
        let command = chatbell_ipc::Command::parse(name, args).unwrap();
        self.sender
            .send(&ToResident::Call { id, command })
            .await
            .unwrap();
        self.until(|m| match m {
            ToWindow::Reply { id: got, result } if got == id => Some(result),
            _ => None,
        })
        .await
    }
}

fn new_chat(user: i64, name: &str, first: &str) -> Value {
    json!({"event": "new_chat", "data": {"user_id": user, "user_name": name, "source": "telegram", "first_message": first}, "timestamp": "2026-01-10T15:30:00Z"})
}

fn message(id: i64, user: i64, text: &str) -> Value {
    json!({"event": "new_message", "data": {"message_id": id, "user_id": user, "user_name": format!("User {user}"), "text": text, "file_path": null, "source": "web"}, "timestamp": "2026-01-10T15:31:00Z"})
}

fn look(unread: u64) -> Look {
    Look {
        unread,
        connected: true,
        alert: false,
    }
}

/// The libraries a process has mapped, by file name.
fn mapped(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap()
}

/// A binary the workspace's build put beside this test's (`target/release/chatbell-cli`).
fn sibling(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let path = deps.parent().unwrap().parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace first",
        path.display()
    );
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resident_alone_notifies_badges_and_serves_one_window_at_a_time() {
    let desk = Desk::new().await;
    let mut resident = desk.resident().await;

    // No window toolkit in the process that stays all day.
    desk.until_tray(look(0)).await;
    let maps = mapped(resident.pid());
    for lib in ["libgtk", "libgdk", "libwebkit2gtk", "libjavascriptcore"] {
        assert!(!maps.contains(lib), "the resident maps {lib}");
    }
    assert!(maps.contains("libc"), "the maps were read");

    // With no window: a notification, and the badge.
    desk.send(new_chat(1001, "Иван Петров", "Привет!")).await;
    let calls = desk.notifications.wait_calls(1, WITHIN).await;
    assert_eq!(calls[0].summary, "New chat: Иван Петров");
    desk.until_tray(look(1)).await;

    // A window connects: told where the store is and what the count is; the page's commands
    // are answered.
    let mut window = desk.window().await;
    assert_eq!(window.welcome.db, desk.db());
    assert_eq!(window.welcome.protocol, PROTOCOL);
    let total = window
        .until(|m| match m {
            ToWindow::Unread { total } => Some(total),
            _ => None,
        })
        .await;
    assert_eq!(total, 1);
    let info = window.call("app_info", json!({})).await.unwrap();
    assert_eq!(info["unread_total"], 1);
    assert_eq!(info["mode"], "server");
    let chats = window
        .call("list_chats", json!({"limit": 10, "offset": 0}))
        .await
        .unwrap();
    assert_eq!(chats[0]["user_id"], 1001);
    // What the window reads itself, it can: the store beside the resident's writer.
    let reader = Reader::open(&window.welcome.db).unwrap();
    assert_eq!(reader.unread_total().unwrap(), 1);

    // Launched again: the running one shows its window, and the launch ends.
    let relaunch = desk.command(BIN).output().unwrap();
    assert!(relaunch.status.success(), "{relaunch:?}");
    window
        .until(|m| matches!(m, ToWindow::Show).then_some(()))
        .await;

    // A second window process: the first comes up, the second is told to close.
    let mut second = desk.window().await;
    second
        .until(|m| matches!(m, ToWindow::Quit).then_some(()))
        .await;
    window
        .until(|m| matches!(m, ToWindow::Show).then_some(()))
        .await;

    // A window of another protocol is refused in words.
    let other = Hello {
        protocol: PROTOCOL + 1,
        version: "9.9.9".into(),
        role: Role::Window,
    };
    match socket::connect_with(&desk.socket(), &other).await {
        Err(ConnectError::Refused(reason)) => {
            assert!(reason.contains("different versions"), "{reason}")
        }
        other => panic!("not refused: {:?}", other.map(|w| w.0)),
    }

    // The window killed: the resident notices, notifications and the badge carry on.
    drop(window);
    desk.logged("window gone").await;
    desk.send(message(2, 2002, "Are you there?")).await;
    let calls = desk.notifications.wait_calls(2, WITHIN).await;
    assert_eq!(calls[1].body, "Are you there?");
    desk.until_tray(look(2)).await;
    // And the next window is served.
    let mut window = desk.window().await;
    let total = window
        .until(|m| match m {
            ToWindow::Unread { total } => Some(total),
            _ => None,
        })
        .await;
    assert_eq!(total, 2);

    // One writer: `chatbell-cli listen` on the same store refuses, in words; reading works.
    let cli = sibling("chatbell-cli");
    let listen = desk
        .command(cli.to_str().unwrap())
        .args(["listen", "--url", &desk.sim.ws_url()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&listen.stderr);
    assert!(!listen.status.success(), "listen ran beside the resident");
    assert!(
        said.contains("in use by another running Chatbell"),
        "{said}"
    );
    let chats = desk
        .command(cli.to_str().unwrap())
        .arg("chats")
        .output()
        .unwrap();
    assert!(chats.status.success(), "{chats:?}");
    assert!(String::from_utf8_lossy(&chats.stdout).contains("Иван Петров"));

    // SIGTERM: the window is told, the resident ends cleanly and takes its socket with it.
    resident.signal("TERM");
    window
        .until(|m| matches!(m, ToWindow::Quit).then_some(()))
        .await;
    assert!(resident.wait(WITHIN).success());
    desk.logged("bye").await;
    assert!(!desk.socket().exists(), "the socket is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_resident_loses_nothing_it_notified_and_the_next_one_takes_over() {
    let desk = Desk::new().await;
    let mut resident = desk.resident().await;
    desk.tray.wait_item(WITHIN).await.expect("a tray item");
    let control = desk.sim.control();
    // Connected first: an event sent before reaches nobody (the tray comes up sooner).
    control
        .wait_clients(WITHIN, |c| c.len() == 1)
        .await
        .expect("the resident connects");
    for user in 1..=40 {
        control
            .send_event(&message(user, user, &format!("question {user}")))
            .await
            .unwrap();
    }
    // A first notification, then digests (many chats at once): at least three raised.
    desk.notifications.wait_calls(3, WITHIN).await;
    resident.signal("KILL");
    resident.wait(WITHIN);

    assert_eq!(integrity_check(&desk.db()).unwrap(), Vec::<String>::new());
    let reader = Reader::open(&desk.db()).unwrap();
    // Each notification names its users: one message ("User 7" / "question 7"), or a digest
    // ("4 new messages in 4 chats" / "User 4, User 3, User 2").
    let mut notified = Vec::new();
    for call in desk.notifications.calls() {
        let text = format!("{} {}", call.summary, call.body);
        let named: Vec<i64> = text
            .match_indices("User ")
            .chain(text.match_indices("question "))
            .filter_map(|(at, word)| {
                let rest = &text[at + word.len()..];
                rest[..rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len())]
                    .parse()
                    .ok()
            })
            .collect();
        assert!(!named.is_empty(), "{call:?}");
        notified.extend(named);
    }
    assert!(notified.len() >= 3, "{notified:?}");
    for user in notified {
        let history = reader.history(user, None, 10).unwrap();
        assert!(
            format!("{history:?}").contains(&format!("question {user}\"")),
            "user {user} was notified, and their message is not in the store"
        );
    }

    // The killed one left its socket; the next resident replaces it.
    assert!(desk.socket().exists());
    let _next = desk.resident().await;
    desk.logged("replacing a stale socket").await;
    let window = desk.window().await;
    assert_eq!(window.welcome.db, desk.db());
}

/// The connection's secrets go to the keychain and nowhere else, and *Check connection* tries
/// a draft without saving it: refused as Save would refuse it, a proxy that is not there, the
/// proxy that wants the saved password, and a wrong one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_in_the_keychain_and_a_draft_is_checked_before_it_is_saved() {
    use chatbell_ipc::CommandError;
    use chatbell_testkit::Proxy;
    let desk = Desk::new().await;
    let _resident = desk.resident().await;
    let mut window = desk.window().await;
    let password = "s3cret-proxy-pw";

    let info = window.call("app_info", json!({})).await.unwrap();
    assert_eq!(info["has_proxy_password"], json!(false));
    assert_eq!(info["has_key_passphrase"], json!(false));
    let saved = window.call("app_info", json!({})).await.unwrap()["settings"]["server"].clone();

    // Saved to the keychain; AppInfo says so, the settings file does not hold it.
    window
        .call(
            "set_secret",
            json!({"name": "proxy_password", "value": password}),
        )
        .await
        .unwrap();
    window
        .call(
            "set_secret",
            json!({"name": "key_passphrase", "value": "pass phrase"}),
        )
        .await
        .unwrap();
    let info = window.call("app_info", json!({})).await.unwrap();
    assert_eq!(info["has_proxy_password"], json!(true));
    assert_eq!(info["has_key_passphrase"], json!(true));
    let file = std::fs::read_to_string(desk.home.path().join("config/settings.json")).unwrap();
    assert!(!file.contains(password), "{file}");
    assert!(
        !desk.log().contains(password),
        "the password is never logged"
    );
    match window
        .call(
            "set_secret",
            json!({"name": "proxy_password", "value": "two\nlines"}),
        )
        .await
    {
        Err(CommandError::Invalid { message }) => assert!(!message.contains("two"), "{message}"),
        other => panic!("{other:?}"),
    }
    window
        .call("clear_secret", json!({"name": "key_passphrase"}))
        .await
        .unwrap();
    let info = window.call("app_info", json!({})).await.unwrap();
    assert_eq!(info["has_key_passphrase"], json!(false));

    let check = |proxy: String| {
        let mut server = saved.clone();
        server["proxy"] = json!(proxy);
        json!({ "server": server })
    };
    // A password in the proxy's address is refused as Save refuses it, naming the field.
    match window
        .call(
            "check_connection",
            check("http://agent:pw@127.0.0.1:3128".into()),
        )
        .await
    {
        Err(CommandError::Setting { field, problem, .. }) => {
            assert_eq!(field, "server.proxy");
            assert_eq!(
                serde_json::to_value(problem).unwrap(),
                json!({"kind": "proxy_password"})
            );
        }
        other => panic!("{other:?}"),
    }
    // A proxy that is not there.
    let nowhere = format!("http://agent@127.0.0.1:{}", chatbell_testkit::free_port());
    match window
        .call("check_connection", check(nowhere.clone()))
        .await
    {
        Err(CommandError::Net { failure, message }) => {
            assert_eq!(
                serde_json::to_value(&failure).unwrap(),
                json!({"kind": "proxy_unreachable", "proxy": nowhere})
            );
            assert!(message.contains("cannot be reached"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // The proxy that wants the saved password: through it, with the route named.
    let proxy = Proxy::http_with_auth("agent", password);
    let report = window
        .call("check_connection", check(proxy.url_with_user()))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", proxy.log()));
    assert_eq!(
        report["route"],
        json!({"proxy": proxy.url_with_user(), "source": "setting"})
    );
    assert_eq!(report["trust"], json!(null), "ws://: nothing to verify");
    // Nothing was saved: the settings are as they were.
    let info = window.call("app_info", json!({})).await.unwrap();
    assert_eq!(info["settings"]["server"], saved);
}

/// A proxy password stored while the app runs (with `chatbell-cli`, not the window) is the one
/// tried at *Try again*: the keychain is read again then.
#[tokio::test]
async fn try_again_reads_the_keychain_again() {
    use chatbell_testkit::Proxy;
    let desk = Desk::new().await;
    let password = "stored-later-pw";
    let proxy = Proxy::http_with_auth("agent", password);
    std::fs::write(
        desk.home.path().join("config/settings.json"),
        json!({
            "server": {"url": desk.sim.ws_url(), "proxy": proxy.url_with_user()},
            "ui": {"welcome_done": true}
        })
        .to_string(),
    )
    .unwrap();
    let _resident = desk.resident().await;
    let mut window = desk.window().await;
    let asked = connection(&mut window, |c| c["state"] == "offline").await;
    assert_eq!(
        asked["failure"],
        json!({"kind": "proxy_auth_required", "proxy": proxy.url_with_user()})
    );

    let mut set = desk.command(sibling("chatbell-cli").to_str().unwrap());
    set.args(["proxy-password", "set"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = set.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());

    window.call("reconnect_now", json!({})).await.unwrap();
    connection(&mut window, |c| c["state"] == "online").await;
}

/// The connection as `app_info` tells it, asked until `pick` accepts it (the test kit's wait).
async fn connection(window: &mut Window, pick: impl Fn(&Value) -> bool) -> Value {
    chatbell_testkit::eventually("the connection's state", WITHIN, async || {
        let info = window.call("app_info", json!({})).await.unwrap();
        let connection = info["connection"].clone();
        if pick(&connection) {
            Ok(connection)
        } else {
            Err(connection)
        }
    })
    .await
}

/// The organization's file: its defaults and locks hold in the running resident, a change of it
/// is followed within 2 s and told to the window, a save or a `chatbell-cli settings set` that
/// changes a locked field is refused naming it, the CLI's change of another field goes through
/// the resident, and a bad file is set aside with its field named, once.
#[tokio::test]
async fn the_organization_s_file_is_followed_and_its_locks_hold() {
    use chatbell_ipc::{CommandError, OrganizationInfo, UiEvent};
    let desk = Desk::new().await;
    let org = desk.home.path().join("org");
    let write_org = |json: Value| {
        chatbell_testkit::write_into_place(&org.join("settings.json"), &json.to_string())
    };
    write_org(json!({"defaults": {"notifications": {"snooze_minutes": 20}}}));
    let _resident = desk.resident().await;
    let mut window = desk.window().await;
    let info = window.call("app_info", json!({})).await.unwrap();
    assert_eq!(info["settings"]["notifications"]["snooze_minutes"], 20);
    assert_eq!(
        info["organization"],
        json!({"path": org.join("settings.json"), "present": true, "locked": [], "problem": null, "announce": false})
    );

    write_org(json!({"locked": {"notifications": {"snooze_minutes": 45}}}));
    let told = |pick: fn(&OrganizationInfo) -> bool| {
        move |m| match m {
            ToWindow::Event(UiEvent::Organization(info)) if pick(&info) => Some(info),
            _ => None,
        }
    };
    tokio::time::timeout(
        Duration::from_secs(2),
        window.until(told(|info| info.locked == ["notifications.snooze_minutes"])),
    )
    .await
    .expect("the change was followed and told within 2 s");
    let info = window.call("app_info", json!({})).await.unwrap();
    let settings = info["settings"].clone();
    assert_eq!(settings["notifications"]["snooze_minutes"], 45);

    let mut changed = settings.clone();
    changed["notifications"]["snooze_minutes"] = json!(10);
    match window
        .call("save_settings", json!({ "settings": changed }))
        .await
    {
        Err(CommandError::Setting { field, problem, .. }) => {
            assert_eq!(field, "notifications.snooze_minutes");
            assert_eq!(
                serde_json::to_value(problem).unwrap(),
                json!({"kind": "locked"})
            );
        }
        other => panic!("{other:?}"),
    }
    // Another field is the agent's to change, and only it is kept in the agent's file.
    let mut mine = settings;
    mine["notifications"]["privacy"] = json!(true);
    window
        .call("save_settings", json!({ "settings": mine }))
        .await
        .unwrap();
    let user_file = desk.home.path().join("config/settings.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&user_file).unwrap()).unwrap();
    assert_eq!(file["notifications"], json!({"privacy": true}), "{file}");

    // chatbell-cli goes through the running resident: the one owner applies and publishes.
    let cli = |args: &[&str]| {
        let out = desk
            .command(sibling("chatbell-cli").to_str().unwrap())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = cli(&["settings", "set", "notifications.sound", "false"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("your file\t"), "{out}");
    window
        .until(|m| match m {
            ToWindow::Event(UiEvent::Settings(s)) if !s.notifications.sound => Some(()),
            _ => None,
        })
        .await;
    let (ok, _, err) = cli(&["settings", "set", "notifications.snooze_minutes", "10"]);
    assert!(!ok);
    assert!(
        err.contains("notifications.snooze_minutes: is set by your organization"),
        "{err}"
    );
    desk.logged("chatbell-cli asked to change a setting").await;

    // A bad file: set aside as a whole (the lock goes), its field named, its value never.
    write_org(json!({"locked": {"notifications": {"snooze_minutes": "hunter2"}}}));
    let bad = window.until(told(|info| info.problem.is_some())).await;
    assert_eq!(
        serde_json::to_value(&bad.problem).unwrap(),
        json!({"kind": "setting", "field": "notifications.snooze_minutes", "problem": {"kind": "wrong_type"}})
    );
    assert!(bad.locked.is_empty());
    assert!(bad.announce, "a new problem is said");
    let info = window.call("app_info", json!({})).await.unwrap();
    assert_eq!(
        info["organization"]["announce"], false,
        "once: the window was told"
    );
    assert_eq!(
        info["settings"]["notifications"]["snooze_minutes"], 10,
        "the built-in value"
    );
    assert_eq!(
        info["organization"]["problem"]["field"],
        "notifications.snooze_minutes"
    );
    desk.logged("the organization's settings are set aside")
        .await;
    assert!(org.join("settings.json").exists(), "never moved");
    // Fixed: followed too; by then the log has said the problem once.
    write_org(json!({}));
    window
        .until(told(|info| info.problem.is_none() && info.present))
        .await;
    desk.logged("the organization's settings changed").await;
    let log = desk.log();
    assert_eq!(
        log.matches("the organization's settings are set aside")
            .count(),
        1,
        "said once:\n{log}"
    );
    assert!(!log.contains("hunter2"));
}

/// Start at login turned on outside Chatbell (the Windows installer; here the desktop's own
/// autostart folder, as a startup-apps tool writes it): the setting follows at start, so the
/// switch in Settings shows what is, and the agent's file says so.
#[tokio::test]
async fn start_at_login_turned_on_outside_chatbell_is_what_the_setting_says() {
    let desk = Desk::new().await;
    let entry = desk.home.path().join(".config/autostart/Chatbell.desktop");
    std::fs::create_dir_all(entry.parent().unwrap()).unwrap();
    std::fs::write(
        &entry,
        "[Desktop Entry]\nType=Application\nName=Chatbell\nExec=chatbell --hidden\n",
    )
    .unwrap();
    let _resident = desk.resident().await;
    let mut window = desk.window().await;
    chatbell_testkit::eventually("the setting says start at login", WITHIN, async || {
        let info = window.call("app_info", json!({})).await.unwrap();
        match info["settings"]["ui"]["start_at_login"].as_bool() {
            Some(true) => Ok(()),
            other => Err(other),
        }
    })
    .await;
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(desk.home.path().join("config/settings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["ui"]["start_at_login"], true, "{saved}");
    assert!(entry.is_file(), "the entry stays");
}

/// Forwarding from the page's side: a target's secret goes to the keychain under its id (and
/// AppInfo says which are stored), *Send test* tries a draft with it and says why not in the
/// service's words, and while the screen is locked the tray's first line says where reminders
/// go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_secrets_send_test_and_the_tray_while_away() {
    use chatbell_ipc::CommandError;
    use chatbell_testkit::{Answer, FakeScreenSaver, RecordingHttp};
    let desk = Desk::new().await;
    let ntfy = RecordingHttp::start().await;
    let saver = FakeScreenSaver::start(&desk.bus).await;
    let _resident = desk.resident().await;
    let mut window = desk.window().await;
    let token = "tk_phone_secret";

    let draft = json!({"id": "phone", "kind": "ntfy", "url": ntfy.url(), "topic": "ann"});
    window
        .call("set_forward_secret", json!({"id": "phone", "value": token}))
        .await
        .unwrap();
    match window
        .call("set_forward_secret", json!({"id": "a b", "value": "x"}))
        .await
    {
        Err(CommandError::Setting { field, .. }) => assert_eq!(field, "notifications.forward.id"),
        other => panic!("{other:?}"),
    }
    // A draft: sent with the stored token, nothing saved.
    let check = window
        .call("test_forward", json!({"target": draft}))
        .await
        .unwrap();
    assert_eq!(
        check,
        json!({"id": "phone", "delivered": true, "error": null})
    );
    let got = ntfy.wait_for(1, WITHIN).await.remove(0);
    assert_eq!(got.path, "/ann");
    assert_eq!(got.header("Authorization"), Some("Bearer tk_phone_secret"));
    ntfy.answer(Answer::Status(401));
    let check = window
        .call("test_forward", json!({"target": draft}))
        .await
        .unwrap();
    assert_eq!(check["error"], "ntfy refused the access token");
    // A draft Save would refuse is refused the same way, naming its field.
    let mut bad = draft.clone();
    bad["url"] = json!("ftp://ntfy.example");
    match window.call("test_forward", json!({"target": bad})).await {
        Err(CommandError::Setting { field, .. }) => {
            assert_eq!(field, "notifications.forward.0.url")
        }
        other => panic!("{other:?}"),
    }

    // Saved: AppInfo names the target whose secret is stored, never the secret.
    let mut settings = window.call("app_info", json!({})).await.unwrap()["settings"].clone();
    settings["notifications"]["forward"] = json!([draft]);
    settings["notifications"]["away"] = json!({"idle_minutes": null});
    let info = window
        .call("save_settings", json!({"settings": settings}))
        .await
        .unwrap();
    assert_eq!(info["forward_secrets"], json!(["phone"]));
    assert_eq!(info["away"], json!(false));
    let file = std::fs::read_to_string(desk.home.path().join("config/settings.json")).unwrap();
    assert!(!file.contains(token), "{file}");
    assert!(!desk.log().contains(token), "the token is never logged");

    // Locked: the tray's first line says where reminders go; unlocked, who waits again.
    let item = desk.tray.wait_item(WITHIN).await.expect("a tray item");
    let first_line = async |want: &str| {
        chatbell_testkit::eventually(
            &format!("the tray's first line {want:?}"),
            WITHIN,
            async || {
                let menu = desk.tray.menu(&item).await;
                menu.first()
                    .filter(|(label, _)| label == want)
                    .map(|_| ())
                    .ok_or_else(|| format!("{menu:?}"))
            },
        )
        .await
    };
    saver.lock(true).await;
    first_line("Away — forwarding to phone").await;
    assert_eq!(
        window.call("app_info", json!({})).await.unwrap()["away"],
        json!(true)
    );
    saver.lock(false).await;
    first_line("Nobody waiting").await;
    window
        .call("clear_forward_secret", json!({"id": "phone"}))
        .await
        .unwrap();
    let info = window.call("app_info", json!({})).await.unwrap();
    assert_eq!(info["forward_secrets"], json!([]));
}
