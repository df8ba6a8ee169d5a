//! The release app in a real window: a virtual display, a private D-Bus with a recording
//! notification server and a tray host (StatusNotifierWatcher), a real Secret Service, the
//! simulator as the server — driven through tauri-driver and WebKitWebDriver. The driver
//! starts the window process (`chatbell-window`), which starts the tray-resident `chatbell`
//! beside it, as a click on the menu entry's window would; a window the resident opens later
//! (a notification clicked, the tray's Open) is seen through its processes and the screen.
//!
//! Screenshots of every step are written to `target/tmp/e2e/` (look at them). They are taken
//! from the X server: WebKitWebDriver's own needs GPU compositing, which the window turns off.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use chatbell_sim::{SimConfig, SimHandle};
use chatbell_testkit::webdriver::WebDriver;
use chatbell_testkit::{
    NotificationServer, PrivateBus, SecretService, Spawned, TrayItem, TrayWatcher, VirtualDisplay,
    Weston, free_port,
};
use serde_json::{Value, json};

const APP: &str = env!("CARGO_BIN_EXE_chatbell-window");
const WAIT: Duration = Duration::from_secs(15);

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tauri_driver() -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_default();
    let installed = PathBuf::from(home).join(".cargo/bin/tauri-driver");
    if installed.exists() {
        installed
    } else {
        PathBuf::from("tauri-driver")
    }
}

/// A private desktop with Chatbell running in it.
struct Desktop {
    // Fields drop in order: the app (driver) goes before the buses it talks to.
    driver: WebDriver,
    _tauri_driver: Spawned,
    notifications: NotificationServer,
    /// None: a desktop without a tray host (GNOME without the AppIndicator extension).
    tray: Option<TrayWatcher>,
    _keyring: SecretService,
    sim: SimHandle,
    display: VirtualDisplay,
    /// Set: the app runs under this Wayland compositor instead of the X display.
    wayland: Option<Weston>,
    _bus: PrivateBus,
    home: tempfile::TempDir,
    name: &'static str,
    shots: usize,
}

impl Desktop {
    /// `settings: None` is a first run (no settings file); otherwise they are written with the
    /// simulator as the server and the welcome answered.
    async fn start(
        name: &'static str,
        sim: SimConfig,
        settings: Option<Value>,
        tray_host: bool,
    ) -> Desktop {
        Self::start_with(name, sim, settings, tray_host, &[]).await
    }

    /// The same, with more variables in the app's environment (e.g. a `PATH` with stand-ins).
    async fn start_with(
        name: &'static str,
        sim: SimConfig,
        settings: Option<Value>,
        tray_host: bool,
        env: &[(&str, String)],
    ) -> Desktop {
        Self::launch(name, sim, settings, tray_host, env, false).await
    }

    /// `wayland`: the app's window on a headless Wayland compositor (GTK's Wayland backend),
    /// not on the X display.
    async fn launch(
        name: &'static str,
        sim: SimConfig,
        settings: Option<Value>,
        tray_host: bool,
        env: &[(&str, String)],
        wayland: bool,
    ) -> Desktop {
        let sim = chatbell_sim::start(SimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            rate: 0.0,
            ..sim
        })
        .await
        .unwrap();
        let display = VirtualDisplay::start();
        let wayland = wayland.then(Weston::start);
        let bus = PrivateBus::start();
        let notifications =
            NotificationServer::start(&bus, &["body", "body-markup", "actions", "sound"]).await;
        let tray = if tray_host {
            Some(TrayWatcher::start(&bus).await)
        } else {
            None
        };
        let home = tempfile::tempdir().unwrap();
        let keyring = SecretService::start(&bus, home.path()).await;
        let config = home.path().join("config");
        std::fs::create_dir_all(&config).unwrap();
        if let Some(mut settings) = settings {
            settings["server"]["url"] = json!(sim.ws_url());
            settings["ui"]["welcome_done"] = json!(true);
            std::fs::write(config.join("settings.json"), settings.to_string()).unwrap();
        }

        let port = free_port();
        let mut command = Command::new(tauri_driver());
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &free_port().to_string(),
            ])
            .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
            .env("DISPLAY", display.display())
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_RUNTIME_DIR", home.path())
            .env("CHATBELL_DATA_DIR", home.path().join("data"))
            .env("CHATBELL_CONFIG_DIR", &config)
            .env("LANG", "en_US.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("WAYLAND_DISPLAY")
            .envs(env.iter().cloned());
        if let Some(weston) = &wayland {
            command
                .env("WAYLAND_DISPLAY", weston.socket())
                .env("GDK_BACKEND", "wayland")
                .env_remove("DISPLAY");
        }
        let tauri_driver = Spawned::spawn(command);
        let capabilities = json!({ "alwaysMatch": { "tauri:options": { "application": APP } } });
        let driver = tokio::task::block_in_place(|| {
            WebDriver::connect(port, capabilities, Duration::from_secs(30))
        })
        .unwrap_or_else(|e| {
            panic!(
                "no WebDriver session: {e}\ntauri-driver: {}",
                tauri_driver.stderr.text()
            )
        });
        let desktop = Desktop {
            driver,
            _tauri_driver: tauri_driver,
            notifications,
            tray,
            _keyring: keyring,
            sim,
            display,
            wayland,
            _bus: bus,
            home,
            name,
            shots: 0,
        };
        desktop.until("return document.body.dataset.ready === 'true'");
        desktop
    }

    /// Runs `script` until it returns something truthy (blocking: the WebDriver client is).
    fn until(&self, script: &str) -> Value {
        tokio::task::block_in_place(|| self.driver.wait_until(script, WAIT))
            .unwrap_or_else(|e| self.fail(e))
    }

    /// Presses a notification's button until `done` holds. The notifier starts listening for
    /// the press on the notification's own D-Bus connection just after `Notify` returns; a
    /// press in between is lost (as it would be for a person faster than a D-Bus round trip).
    async fn press(&self, id: u32, action: &str, done: impl Fn(&Self) -> bool) {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            self.notifications.invoke(id, action).await;
            let settle = std::time::Instant::now() + Duration::from_millis(500);
            while std::time::Instant::now() < settle {
                if done(self) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if std::time::Instant::now() >= deadline {
                self.fail(format!(
                    "pressing {action} on notification {id} had no effect"
                ));
            }
        }
    }

    fn js(&self, script: &str) -> Value {
        tokio::task::block_in_place(|| self.driver.execute(script, json!([])))
            .unwrap_or_else(|e| self.fail(e))
    }

    /// Fails the test with what the driver and the app printed.
    fn fail(&self, error: impl std::fmt::Display) -> ! {
        let app = self
            .app_pid()
            .map_or("not running".to_string(), |pid| format!("pid {pid}"));
        let ps = Command::new("ps")
            .args(["-e", "-o", "pid,ppid,stat,args"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let ps: Vec<&str> = ps
            .lines()
            .filter(|l| {
                l.contains("WebKit") || l.contains("chatbell") || l.contains("tauri-driver")
            })
            .collect();
        let logs = self.app_log();
        panic!(
            "{error}\napp: {app}\n{}\n--- tauri-driver and app output ---\n{}\n{}\n--- app log ---\n{logs}",
            ps.join("\n"),
            self._tauri_driver.stdout.text(),
            self._tauri_driver.stderr.text()
        )
    }

    /// Closes the window titled `title` as the window manager does when its close button is
    /// clicked (WebDriver's own "close window" ends the session and the app with it); false if
    /// there is no such window. The session's input is released first: WebKitWebDriver 2.50
    /// leaves a click's pointer pressed, and GTK delivers no close to a window while a press
    /// holds it. Until `handled` sees the app's answer the close is asked again each second, as
    /// a person clicks again (under load the first one is sometimes not delivered); after
    /// `WAIT` the caller's own check says what is wrong.
    async fn close(&self, title: &str, handled: impl Fn(&Self) -> bool) -> bool {
        tokio::task::block_in_place(|| self.driver.release_actions())
            .unwrap_or_else(|e| self.fail(format!("releasing the input: {e}")));
        if !self.display.close_window(title).unwrap() {
            return false;
        }
        let deadline = std::time::Instant::now() + WAIT;
        let mut again = std::time::Instant::now() + Duration::from_secs(1);
        while !handled(self) && std::time::Instant::now() < deadline {
            if std::time::Instant::now() >= again {
                self.display.close_window(title).unwrap();
                again += Duration::from_secs(1);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }

    fn shot(&mut self, step: &str) {
        self.shots += 1;
        let path = artifacts().join(format!("{}-{:02}-{step}.png", self.name, self.shots));
        if let Some(weston) = &self.wayland {
            assert!(
                weston.screenshot(&path),
                "a screenshot of the Wayland screen"
            );
            return;
        }
        let png = self.window_png();
        std::fs::write(&path, png).unwrap();
    }

    /// The window as the X server shows it.
    fn window_png(&self) -> Vec<u8> {
        self.display
            .screenshot_window("Chatbell")
            .unwrap_or_else(|e| self.fail(e))
    }

    /// The app's log so far (every file of `data/logs`).
    fn app_log(&self) -> String {
        chatbell_testkit::logs_in(&self.home.path().join("data/logs"))
    }

    /// Waits until the app's log has a line containing `text`.
    async fn logged(&self, text: &str) {
        let deadline = std::time::Instant::now() + WAIT;
        while !self.app_log().contains(text) {
            if std::time::Instant::now() > deadline {
                self.fail(format!("the app never logged {text:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn tray(&self) -> &TrayWatcher {
        self.tray.as_ref().expect("this desktop has a tray host")
    }

    fn click(&self, css: &str) {
        tokio::task::block_in_place(|| {
            let element = self.driver.find(css)?;
            self.driver.click(&element)
        })
        .unwrap_or_else(|e| self.fail(format!("clicking {css}: {e}")))
    }

    fn type_into(&self, css: &str, text: &str) {
        tokio::task::block_in_place(|| {
            let element = self.driver.find(css)?;
            self.driver.send_keys(&element, text)
        })
        .unwrap_or_else(|e| self.fail(format!("typing into {css}: {e}")))
    }

    /// Whether an element is shown (exists, not hidden, laid out).
    fn visible(&self, css: &str) -> bool {
        self.js(&format!(
            "const e = document.querySelector({}); return !!e && !e.closest('[hidden]') && e.offsetParent !== null",
            serde_json::to_string(css).unwrap()
        )) == json!(true)
    }

    fn settings_file(&self) -> Value {
        let text = std::fs::read_to_string(self.home.path().join("config/settings.json"))
            .expect("settings.json written");
        serde_json::from_str(&text).expect("settings.json is JSON")
    }

    /// Whether the app has a WebKit web process, i.e. a live window.
    fn has_web_process(&self, pid: u32) -> bool {
        let out = Command::new("pgrep")
            .args(["-P", &pid.to_string(), "-f", "WebKitWebProcess"])
            .output()
            .unwrap();
        !out.stdout.is_empty()
    }

    async fn send(&self, event: Value) {
        let delivered = self.sim.control().send_event(&event).await.unwrap();
        assert_eq!(delivered, 1, "the app is connected");
    }

    /// This desktop's processes running `exe` (found by the home folder in their environment:
    /// the resident and the windows it starts are no children of the driver).
    fn processes(&self, exe: &std::path::Path) -> Vec<u32> {
        chatbell_testkit::processes_of(exe, self.home.path())
    }

    /// The window process (the one the driver started, or one the resident started later).
    fn app_pid(&self) -> Option<u32> {
        self.processes(APP.as_ref()).first().copied()
    }

    /// The tray-resident `chatbell` the window started.
    fn resident_pid(&self) -> Option<u32> {
        self.processes(&resident_exe()).first().copied()
    }

    /// Waits for a window process (other than `not`) with a live web process.
    async fn until_window(&self, not: Option<u32>) -> u32 {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(pid) = self
                .processes(APP.as_ref())
                .into_iter()
                .find(|p| Some(*p) != not && self.has_web_process(*p))
            {
                return pid;
            }
            if std::time::Instant::now() >= deadline {
                self.fail("no window came up");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Desktop {
    /// The resident outlives the driver and its window, as it does on a desktop: ended here,
    /// with any window it started. Windows first (a window whose resident vanished starts
    /// another), then again until none is left.
    fn drop(&mut self) {
        for _ in 0..20 {
            let left: Vec<u32> = self
                .processes(APP.as_ref())
                .into_iter()
                .chain(self.processes(&resident_exe()))
                .filter(|p| !exited(*p))
                .collect();
            if left.is_empty() {
                return;
            }
            for pid in left {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The tray-resident program beside the window's.
fn resident_exe() -> PathBuf {
    std::path::Path::new(APP).with_file_name("chatbell")
}

fn new_chat(user: i64, name: &str, first: &str) -> Value {
    json!({"event": "new_chat", "data": {"user_id": user, "user_name": name, "username": "ivan_petrov", "source": "telegram", "first_message": first}, "timestamp": "2026-01-10T15:30:00Z"})
}

fn message(id: i64, user: i64, name: &str, text: &str) -> Value {
    json!({"event": "new_message", "data": {"message_id": id, "user_id": user, "user_name": name, "text": text, "file_path": null, "source": "telegram"}, "timestamp": "2026-01-10T15:31:00Z"})
}

/// The red of the tray badge (#E53935), somewhere in the top-right quarter of the pixels the
/// tray item shows (`IconPixmap`, ARGB32). An item without a whole picture fails here, rather
/// than reading as "no badge".
fn has_badge(item: &TrayItem) -> bool {
    let (w, h, argb) = item
        .icon_pixmap
        .first()
        .unwrap_or_else(|| panic!("the tray item shows no pixels: {item:?}"));
    let (w, h) = (*w as usize, *h as usize);
    assert_eq!(argb.len(), w * h * 4, "a whole picture");
    let near = |a: u8, b: u8| a.abs_diff(b) <= 31;
    let quarter: Vec<&[u8]> = (0..h / 2)
        .flat_map(|y| (w / 2..w).map(move |x| (y * w + x) * 4))
        .map(|at| &argb[at..at + 4])
        .collect();
    let red = quarter
        .iter()
        .filter(|p| p[0] > 128 && near(p[1], 0xE5) && near(p[2], 0x39) && near(p[3], 0x35))
        .count();
    red * 20 > quarter.len()
}

/// The tray item's icon, once `badge` (shown or not) is what it shows.
async fn until_badge(d: &Desktop, item: &TrayItem, badge: bool) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let now = d.tray().read(&item.service, &item.path).await.unwrap();
        if has_badge(&now) == badge {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the badge never became {badge}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_day_in_a_real_window() {
    let mut d = Desktop::start("day", SimConfig::default(), Some(json!({})), true).await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    d.shot("empty");

    // A new chat appears with one unread and raises a notification.
    d.send(new_chat(
        1001,
        "Иван Петров",
        "Привет! Когда будет доставка?",
    ))
    .await;
    d.until("const b = document.querySelector('[data-chat-id=\"1001\"] .unread-badge'); return b && b.textContent.trim() === '1'");
    let calls = d.notifications.wait_calls(1, WAIT).await;
    assert_eq!(calls[0].summary, "New chat: Иван Петров");
    assert_eq!(calls[0].body, "Привет! Когда будет доставка?");
    assert!(
        d.js("return document.title")
            .as_str()
            .unwrap()
            .contains("(1)"),
        "total unread in the title"
    );
    d.shot("new-chat");

    // The tray shows the count.
    let item = d
        .tray()
        .wait_item(WAIT)
        .await
        .expect("the tray item registered with the watcher");
    assert!(has_badge(&item), "a badge for 1 unread");

    // Opening the chat clears its unread and closes its notification.
    let row = tokio::task::block_in_place(|| d.driver.find("[data-chat-id=\"1001\"]")).unwrap();
    tokio::task::block_in_place(|| d.driver.click(&row)).unwrap();
    d.until("const b = document.querySelector('[data-chat-id=\"1001\"] .unread-badge'); return !b || b.offsetParent === null || b.textContent.trim() === ''");
    d.until("return document.querySelector('#chat-title') && document.querySelector('#chat-title').textContent.includes('Иван Петров')");
    let deadline = std::time::Instant::now() + WAIT;
    while !d.notifications.closed_by_client().contains(&calls[0].id) {
        assert!(
            std::time::Instant::now() < deadline,
            "reading the chat closed its notification"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until_badge(&d, &item, false).await;
    d.shot("chat-open");

    // Typing shows.
    d.send(json!({"event": "user_typing", "data": {"user_id": 1001, "user_name": "Иван Петров"}}))
        .await;
    d.until("const t = document.querySelector('[data-chat-id=\"1001\"] .typing'); return t && t.offsetParent !== null");
    d.shot("typing");

    // Hostile text is shown as text and runs nothing.
    let xss = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script><b>bold?</b>";
    d.send(message(501, 1001, "Иван Петров", xss)).await;
    let shown = d.until(&format!(
        "const m = [...document.querySelectorAll('#chat-view .message-text')].find(e => e.textContent === {}); return m ? m.textContent : null",
        serde_json::to_string(xss).unwrap()
    ));
    assert_eq!(shown, json!(xss));
    // Nowhere on the page: not in the chat, not in the list's preview.
    assert_eq!(d.js("return document.querySelectorAll('[onerror], #chat-view img, #chat-view b, body script').length"), json!(0));
    d.shot("xss-as-text");

    // A read receipt from the widget user.
    d.send(
        json!({"event": "message_read", "data": {"user_id": 1001, "last_read_message_id": 501}}),
    )
    .await;
    d.until("return document.querySelector('#chat-view .receipt') !== null");
    // The page has handled a later event: had the hostile text run, the title would say so.
    assert!(
        !d.js("return document.title")
            .as_str()
            .unwrap()
            .contains("pwned")
    );

    // Search finds Cyrillic text.
    let search = tokio::task::block_in_place(|| d.driver.find("#search-input")).unwrap();
    tokio::task::block_in_place(|| d.driver.send_keys(&search, "доставк")).unwrap();
    d.until("return document.querySelectorAll('#search-results [data-seq]').length > 0");
    d.shot("search");

    // Closing the window ends the window's process, WebKit with it; the resident `chatbell`
    // lives on with its notifications and its badge.
    let pid = d.app_pid().expect("the window runs");
    let resident = d.resident_pid().expect("the resident runs");
    assert!(
        d.close("Chatbell", |d| !d.has_web_process(pid)).await,
        "a Chatbell window to close"
    );
    let deadline = std::time::Instant::now() + WAIT;
    while d.app_pid() == Some(pid) && !exited(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "the window's process ends with the window"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        d.resident_pid(),
        Some(resident),
        "closing the window did not quit the app"
    );
    let before = d.notifications.calls().len();
    d.send(message(502, 2002, "Maria", "Are you there?")).await;
    let calls = d.notifications.wait_calls(before + 1, WAIT).await;
    assert_eq!(calls.last().unwrap().summary, "Maria");
    until_badge(&d, &item, true).await;
    d.display
        .screenshot(&artifacts().join("day-hidden-screen.png"));

    // The tray's Open brings a new window.
    assert!(
        d.tray().click(&item, "Open Chatbell").await,
        "the tray has Open"
    );
    let window = d.until_window(Some(pid)).await;
    // For the picture only: the new page is given time to paint.
    tokio::time::sleep(Duration::from_secs(2)).await;
    d.display
        .screenshot(&artifacts().join("day-reopened-screen.png"));
    // Killed, the window is noticed gone; nothing else is: notifications and the badge go on,
    // and the next Open works.
    Command::new("kill")
        .args(["-KILL", &window.to_string()])
        .status()
        .unwrap();
    d.logged("window gone").await;
    let before = d.notifications.calls().len();
    d.send(message(503, 2002, "Maria", "Hello?")).await;
    d.notifications.wait_calls(before + 1, WAIT).await;
    assert!(d.tray().click(&item, "Open Chatbell").await);
    d.until_window(Some(window)).await;
    assert_eq!(d.resident_pid(), Some(resident));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_resident_is_started_again_by_the_open_window_and_nothing_is_lost() {
    let mut d = Desktop::start(
        "resident-killed",
        SimConfig::default(),
        Some(json!({})),
        true,
    )
    .await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    d.send(new_chat(7001, "Анна", "Первый вопрос")).await;
    d.until("const b = document.querySelector('[data-chat-id=\"7001\"] .unread-badge'); return b && b.textContent.trim() === '1'");
    // The banner is up only while the resident is away: the page records that it showed.
    d.js("const b = document.querySelector('#service-lost'); window.lostShown = false; new MutationObserver(() => { if (!b.hidden) window.lostShown = true; }).observe(b, { attributes: true }); return true");

    let resident = d.resident_pid().expect("the resident runs");
    Command::new("kill")
        .args(["-KILL", &resident.to_string()])
        .status()
        .unwrap();
    d.until("return window.lostShown === true");
    d.logged("the resident went away; starting it again").await;
    let deadline = std::time::Instant::now() + WAIT;
    let restarted = loop {
        if let Some(pid) = d.resident_pid().filter(|p| *p != resident && !exited(*p)) {
            break pid;
        }
        if std::time::Instant::now() >= deadline {
            d.fail("the window did not start the resident again");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    d.until("return document.querySelector('#service-lost').hidden && document.querySelector('#status-bar').dataset.state === 'online'");
    d.shot("resident-restarted");

    // Nothing was lost, and the new resident carries on where the old one stopped.
    let db = d.home.path().join("data/chatbell.db");
    assert_eq!(
        chatbell_engine::store::integrity_check(&db).unwrap(),
        Vec::<String>::new()
    );
    let before = d.notifications.calls().len();
    d.send(message(7002, 7001, "Анна", "Второй вопрос")).await;
    d.until("const b = document.querySelector('[data-chat-id=\"7001\"] .unread-badge'); return b && b.textContent.trim() === '2'");
    let calls = d.notifications.wait_calls(before + 1, WAIT).await;
    assert_eq!(calls.last().unwrap().body, "Второй вопрос");
    assert_eq!(d.resident_pid(), Some(restarted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_day_under_wayland() {
    let mut d = Desktop::launch(
        "wayland",
        SimConfig::default(),
        Some(json!({})),
        true,
        &[],
        true,
    )
    .await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    d.shot("empty");
    // The window is GTK's Wayland one, and the page painted (the policy that left it blank
    // under Wayland is not set there).
    let pid = d.app_pid().expect("the window runs");
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    assert!(
        maps.contains("libwayland-client"),
        "the window talks Wayland"
    );

    // A new chat: the list, a notification, the tray's badge.
    d.send(new_chat(1001, "Иван Петров", "Привет!")).await;
    d.until("const b = document.querySelector('[data-chat-id=\"1001\"] .unread-badge'); return b && b.textContent.trim() === '1'");
    let calls = d.notifications.wait_calls(1, WAIT).await;
    assert_eq!(calls[0].summary, "New chat: Иван Петров");
    let item = d
        .tray()
        .wait_item(WAIT)
        .await
        .expect("the tray item registered");
    until_badge(&d, &item, true).await;
    // What the agent sees: the compositor shows the chat's avatar in the list.
    until_screen(&d, "the chat list painted", |s| {
        s.count(130..520, 180..300, saturated) > 400
    })
    .await;
    d.shot("new-chat");

    // The chat open in the window: its next message raises nothing, another chat's does. The
    // second notification is the barrier: the first message was decided before it.
    d.click("[data-chat-id=\"1001\"]");
    d.until("return document.querySelector('#chat-title') && document.querySelector('#chat-title').textContent.includes('Иван Петров')");
    until_badge(&d, &item, false).await;
    d.send(message(601, 1001, "Иван Петров", "Я тут, в открытом чате"))
        .await;
    d.until("return [...document.querySelectorAll('#chat-view .message-text')].some(e => e.textContent === 'Я тут, в открытом чате')");
    d.send(message(602, 2002, "Maria", "Hello from another chat"))
        .await;
    let calls = d.notifications.wait_calls(2, WAIT).await;
    assert_eq!(calls.last().unwrap().body, "Hello from another chat");
    assert!(
        calls.iter().all(|c| c.body != "Я тут, в открытом чате"),
        "the open chat's message was not notified: {calls:#?}"
    );
    // On the screen: the open chat's row selected (blue), its messages (white bubbles) in the
    // timeline.
    until_screen(&d, "the open chat painted", |s| {
        s.count(130..520, 180..340, |p| p[2] > 170 && p[0] < 90) > 2000
            && s.count(520..1230, 150..800, |p| p.iter().all(|c| *c >= 252)) > 8000
    })
    .await;
    d.shot("open-chat-quiet");
}

/// A screenshot's pixels, RGB(A) rows.
struct Screen {
    width: usize,
    channels: usize,
    data: Vec<u8>,
}

impl Screen {
    fn read(path: &std::path::Path) -> Option<Screen> {
        let mut decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).ok()?));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().ok()?;
        let mut data = vec![0; reader.output_buffer_size()?];
        let frame = reader.next_frame(&mut data).ok()?;
        data.truncate(frame.buffer_size());
        Some(Screen {
            width: frame.width as usize,
            channels: frame.color_type.samples(),
            data,
        })
    }

    /// How many pixels in the area are `like` (given RGB).
    fn count(
        &self,
        xs: std::ops::Range<usize>,
        ys: std::ops::Range<usize>,
        like: impl Fn(&[u8]) -> bool,
    ) -> usize {
        let height = self.data.len() / (self.width * self.channels);
        ys.filter(|y| *y < height)
            .flat_map(|y| xs.clone().filter(|x| *x < self.width).map(move |x| (x, y)))
            .filter(|(x, y)| {
                let at = (y * self.width + x) * self.channels;
                like(&self.data[at..at + 3])
            })
            .count()
    }
}

/// A colour, not a grey (the avatars, the badges; text and backgrounds are greys).
fn saturated(p: &[u8]) -> bool {
    p.iter().max().unwrap() - p.iter().min().unwrap() > 60
}

/// Waits until the Wayland compositor's screen shows what `seen` looks for: it shows a frame
/// some time after the page changed, and the screenshots are to show what the agent sees.
async fn until_screen(d: &Desktop, what: &str, seen: impl Fn(&Screen) -> bool) {
    let weston = d.wayland.as_ref().expect("a Wayland desktop");
    let path = artifacts().join(format!("{}-probe.png", d.name));
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if weston.screenshot(&path) && Screen::read(&path).is_some_and(|s| seen(&s)) {
            let _ = std::fs::remove_file(&path);
            return;
        }
        if std::time::Instant::now() >= deadline {
            d.fail(format!(
                "{what}: not on the screen (see {})",
                path.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether a process has ended (gone, or a zombie its parent has not reaped yet).
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_settings_diagnostics_and_notification_clicks() {
    let token = "s3cret-token";
    let mut d = Desktop::start(
        "first-run",
        SimConfig {
            token: Some(token.into()),
            ..SimConfig::default()
        },
        None,
        true,
    )
    .await;

    // Nothing configured: the welcome asks to connect or try the demo.
    d.until("return !document.querySelector('#welcome').hidden");
    assert!(d.visible("#welcome-demo"));
    d.shot("welcome");
    // A URL that is not a WebSocket address is refused in place, with a reason.
    d.type_into("#welcome-url", "https://support.example.com");
    d.type_into("#welcome-token", token);
    d.click("#welcome-connect");
    d.until("return !document.querySelector('#welcome-url-error').hidden");
    d.js("document.querySelector('#welcome-url').value = ''");
    d.type_into("#welcome-url", &d.sim.ws_url());
    d.click("#welcome-connect");
    d.until("return document.querySelector('#welcome').hidden");
    // The simulator demands the token: being online proves it went through.
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    let settings = d.settings_file();
    assert_eq!(settings["server"]["url"], json!(d.sim.ws_url()));
    assert_eq!(settings["ui"]["welcome_done"], json!(true));
    assert!(
        !settings.to_string().contains(token),
        "the token is in the keychain, not the settings file"
    );
    d.shot("connected");

    // "Test my alerts": the sample notification is shown and the list names the server that
    // showed it; this desktop has no audio server, so the sound check says there is no audio
    // device, and what would keep an alert away says so too.
    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-diagnostics");
    d.click("#test-alerts");
    let check = |name: &str| {
        format!(
            "const c = document.querySelector('#test-report [data-check=\"{name}\"]'); return c ? [c.dataset.ok, c.textContent] : null"
        )
    };
    let notification = d.until(&check("notification"));
    assert_eq!(
        notification,
        json!(["true", "Notification: shown by chatbell-test-server 1.0"])
    );
    let sound = d.js(&check("sound"));
    assert_eq!(sound[0], json!("false"), "{sound}");
    assert!(
        sound[1]
            .as_str()
            .is_some_and(|t| t.starts_with("Sound: not played: no audio device")),
        "{sound}"
    );
    assert_eq!(d.js(&check("tray"))[0], json!("true"), "a tray host runs");
    assert_eq!(
        d.js("return [...document.querySelectorAll('#test-report .blockers li')].map(li => li.dataset.kind)"),
        json!(["no_audio", "no_persistence"]),
        "the test server keeps no notifications"
    );
    let calls = d.notifications.wait_calls(1, WAIT).await;
    assert_eq!(calls.len(), 1, "the test notification reached the daemon");
    d.shot("test-alerts");

    // Start at login writes the XDG autostart entry (starting hidden) and removes it again.
    let autostart = d.home.path().join(".config/autostart/Chatbell.desktop");
    d.click("#tab-general");
    d.click("#setting-start-at-login");
    d.click("#settings-save");
    d.until("return !document.querySelector('#settings-dialog').open");
    let entry = std::fs::read_to_string(&autostart).expect("the autostart entry is written");
    assert!(entry.contains("--hidden"), "{entry}");
    assert_eq!(d.settings_file()["ui"]["start_at_login"], json!(true));
    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#setting-start-at-login");
    d.click("#settings-save");
    d.until("return !document.querySelector('#settings-dialog').open");
    assert!(!autostart.exists(), "the autostart entry is removed");

    // Do not disturb holds notifications back, and the diagnostic names it.
    d.click("#dnd-button");
    d.until("return document.querySelector('#dnd-button').getAttribute('aria-pressed') === 'true'");
    d.send(new_chat(3003, "Olga", "Hello, is anyone there?"))
        .await;
    d.until("return document.querySelector('[data-chat-id=\"3003\"]') !== null");
    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-diagnostics");
    d.click("#test-alerts");
    d.until("return [...document.querySelectorAll('#test-report .blockers li')].some(li => li.textContent === 'Do not disturb is on')");
    d.until("return [...document.querySelectorAll('#decisions-list li')].some(li => li.textContent.includes('Olga'))");
    d.shot("held-back-by-dnd");
    d.click("#settings-cancel");
    assert_eq!(
        d.notifications
            .calls()
            .iter()
            .filter(|c| c.summary.contains("Olga"))
            .count(),
        0,
        "nothing shown while do-not-disturb is on"
    );
    d.click("#dnd-button");
    d.until(
        "return document.querySelector('#dnd-button').getAttribute('aria-pressed') === 'false'",
    );

    // Clicking a notification opens its chat.
    let before = d.notifications.calls().len();
    d.send(message(3101, 3003, "Olga", "Still waiting for my order"))
        .await;
    let calls = d.notifications.wait_calls(before + 1, WAIT).await;
    let olga = calls.last().unwrap().clone();
    assert_eq!(olga.summary, "Olga");
    assert!(olga.actions.contains(&"default".to_string()));
    d.press(olga.id, "default", |d| {
        d.js("return !!document.querySelector('#chat-title') && document.querySelector('#chat-title').textContent.includes('Olga')") == json!(true)
    })
    .await;
    d.until("const b = document.querySelector('[data-chat-id=\"3003\"] .unread-badge'); return !b || b.hidden || b.textContent.trim() === ''");
    d.shot("opened-from-notification");

    // Closed to the tray, a click on a notification brings the window back (a new process).
    let pid = d.app_pid().expect("the app runs");
    assert!(d.close("Chatbell", |d| !d.has_web_process(pid)).await);
    let deadline = std::time::Instant::now() + WAIT;
    while d.has_web_process(pid) {
        if std::time::Instant::now() >= deadline {
            d.display
                .screenshot(&artifacts().join("first-run-not-closed-screen.png"));
            let children = Command::new("ps")
                .args(["--ppid", &pid.to_string(), "-o", "pid,stat,etime,args"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            d.fail(format!(
                "the window did not close; the app's children:\n{children}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = d.notifications.calls().len();
    d.send(message(3102, 3003, "Olga", "Hello?")).await;
    let calls = d.notifications.wait_calls(before + 1, WAIT).await;
    // A click on it reopens the window.
    d.press(calls.last().unwrap().id, "default", |d| {
        d.processes(APP.as_ref())
            .into_iter()
            .any(|p| p != pid && d.has_web_process(p))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    d.display
        .screenshot(&artifacts().join("first-run-reopened-screen.png"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tray_host_closing_minimizes_and_the_ui_says_how_to_get_a_tray() {
    let mut d = Desktop::start("no-tray", SimConfig::default(), Some(json!({})), false).await;
    d.until("return !document.querySelector('#tray-hint').hidden");
    d.shot("tray-hint");

    let pid = d.app_pid().expect("the app runs");
    let minimized = "window close requested tray=false";
    assert!(
        d.close("Chatbell", |d| d.app_log().contains(minimized))
            .await
    );
    // The app has handled the close (and minimized, not closed): the window lives on.
    d.logged(minimized).await;
    assert!(
        d.has_web_process(pid),
        "with nowhere to live but the taskbar, closing keeps the window"
    );
    assert_eq!(d.js("return document.body.dataset.ready"), json!("true"));

    // "Test my alerts" says there is no tray, and what that costs.
    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-diagnostics");
    d.click("#test-alerts");
    d.until("const c = document.querySelector('#test-report [data-check=\"tray\"]'); return !!c && c.dataset.ok === 'false' && c.textContent === 'Tray: this desktop has no tray'");
    d.until(
        "return !!document.querySelector('#test-report .blockers li[data-kind=\"no_tray_host\"]')",
    );
    d.shot("test-alerts-no-tray");
    d.click("#settings-cancel");
    d.until("return !document.querySelector('#settings-dialog').open");

    // Said once: dismissed, it stays dismissed.
    d.click("#tray-hint-dismiss");
    d.until("return document.querySelector('#tray-hint').hidden");
    let deadline = std::time::Instant::now() + WAIT;
    while d.settings_file()["ui"]["tray_hint_shown"] != json!(true) {
        assert!(
            std::time::Instant::now() < deadline,
            "the dismissal is saved"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_opens_settings_at_the_token() {
    // The server demands a token this agent never gave. Past the offline warning's threshold a
    // notification says the token was refused; its "Open Settings" brings up Settings at the
    // token (the address is set), through the engine's SettingsRequested and the shell.
    let mut d = Desktop::start(
        "token-refused",
        SimConfig {
            token: Some("the-right-token".into()),
            ..SimConfig::default()
        },
        Some(json!({"notifications": {"offline_alert_secs": 10}})),
        true,
    )
    .await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'unauthorized'");
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    let refused = loop {
        let calls = d.notifications.calls();
        if let Some(call) = calls
            .iter()
            .find(|c| c.actions.iter().any(|a| a == "settings"))
        {
            break call.clone();
        }
        if std::time::Instant::now() >= deadline {
            d.fail(format!(
                "no notification with \"Open Settings\": {calls:#?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(refused.summary, "The server refused the token");
    d.press(refused.id, "settings", |d| {
        d.js("return document.querySelector('#settings-dialog').open && !document.querySelector('#panel-connection').hidden && document.activeElement.id === 'setting-token'")
            == json!(true)
    })
    .await;
    d.shot("settings-at-the-token");
}

/// Waits until the tray menu's first line satisfies `pred`; returns the menu then.
async fn wait_tray_menu(
    d: &Desktop,
    item: &TrayItem,
    pred: impl Fn(&str) -> bool,
) -> Vec<(String, bool)> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let menu = d.tray().menu(item).await;
        if menu.first().is_some_and(|(label, _)| pred(label)) {
            return menu;
        }
        if std::time::Instant::now() >= deadline {
            d.fail(format!("the tray menu reads {menu:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Which chat the list shows first.
fn first_row(d: &Desktop) -> Value {
    d.js("const r = document.querySelector('#chat-list [data-chat-id]'); return r ? r.dataset.chatId : null")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_waits_shows_in_the_list_and_the_tray_and_the_web_panel_opens_in_the_browser() {
    // A stand-in for the browser: the opener plugin runs `xdg-open <url>`, found first on PATH;
    // this one writes each argument it gets on a line of its own.
    let stub = tempfile::tempdir().unwrap();
    let opened = stub.path().join("opened.txt");
    let bin = stub.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done\n",
        opened.display()
    );
    std::fs::write(bin.join("xdg-open"), script).unwrap();
    std::fs::set_permissions(
        bin.join("xdg-open"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let template = "https://support.example.com/chats/{user_id}?u={username}&s={source}";
    let mut d = Desktop::start_with(
        "waiting",
        SimConfig::default(),
        Some(json!({"server": {"web_panel": template}})),
        true,
        &[("PATH", path)],
    )
    .await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    let item = d
        .tray()
        .wait_item(WAIT)
        .await
        .expect("the tray item registered with the watcher");
    let menu = wait_tray_menu(&d, &item, |l| l == "Nobody waiting").await;
    assert!(!menu[0].1, "the waiting line is not a button: {menu:?}");

    // A chat nobody has opened yet waits: its row says so, and so does the tray's first line.
    d.send(new_chat(
        4001,
        "Анна Смирнова",
        "Здравствуйте, заказ не пришёл",
    ))
    .await;
    d.until("const w = document.querySelector('[data-chat-id=\"4001\"] .chat-waiting'); return !!w && !w.hidden && w.textContent.startsWith('waiting ')");
    let menu = wait_tray_menu(&d, &item, |l| l.starts_with("1 waiting · longest ")).await;
    assert!(!menu[0].1, "{menu:?}");
    d.shot("waiting");

    // A newer chat, opened at once (so read, not waiting), with a hostile username.
    let hostile = "../a b?x=\"q'&y=1";
    d.send(json!({"event": "new_chat", "data": {"user_id": 4002, "user_name": "Mallory", "username": hostile, "source": "telegram", "first_message": "hi"}, "timestamp": "2026-01-10T15:40:00Z"}))
        .await;
    d.until("return document.querySelector('[data-chat-id=\"4002\"]') !== null");
    d.click("[data-chat-id=\"4002\"]");
    d.until("return document.querySelector('#chat-title') && document.querySelector('#chat-title').textContent.includes('Mallory')");
    d.until("const w = document.querySelector('[data-chat-id=\"4002\"] .chat-waiting'); return !!w && w.hidden");
    // By activity (the default) the newer chat comes first.
    assert_eq!(first_row(&d), json!("4002"));
    wait_tray_menu(&d, &item, |l| l.starts_with("1 waiting · ")).await;

    // Sorted by the longest wait, the waiting chat comes first.
    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-notifications");
    d.click("#setting-sort-by-wait");
    d.click("#settings-save");
    d.until("return !document.querySelector('#settings-dialog').open");
    assert_eq!(d.settings_file()["ui"]["sort_by_wait"], json!(true));
    d.until("const r = document.querySelector('#chat-list [data-chat-id]'); return !!r && r.dataset.chatId === '4001'");
    d.shot("sorted-by-wait");

    // Settings show the link filled for a sample chat, and refuse a link that is not http(s).
    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-connection");
    let preview = d.until("const p = document.querySelector('#web-panel-preview'); return p && p.dataset.state === 'ok' && p.querySelector('.preview-url') ? p.querySelector('.preview-url').textContent : null");
    assert_eq!(
        preview,
        json!("https://support.example.com/chats/123456789?u=ivan_petrov&s=telegram")
    );
    d.js("const i = document.querySelector('#setting-web-panel'); i.value = ''");
    d.type_into("#setting-web-panel", "javascript:alert(1)");
    let refused = d.until("const p = document.querySelector('#web-panel-preview'); return p && p.dataset.state === 'error' ? p.textContent : null");
    // The engine's reason, as the settings screen words it (sentence case).
    assert!(
        refused
            .as_str()
            .is_some_and(|r| r.ends_with("ust start with https:// or http://")),
        "{refused}"
    );
    d.click("#settings-cancel");
    d.until("return !document.querySelector('#settings-dialog').open");

    // "Reply in web panel" opens the filled link in the browser, every character of the
    // username that is not unreserved percent-encoded: it cannot add a path, a parameter or
    // a quote.
    d.until("const b = document.querySelector('#web-panel-button'); return !!b && !b.hidden");
    d.click("#web-panel-button");
    let deadline = std::time::Instant::now() + WAIT;
    let recorded = loop {
        let text = std::fs::read_to_string(&opened).unwrap_or_default();
        if text.ends_with('\n') {
            break text;
        }
        if std::time::Instant::now() >= deadline {
            d.fail("the browser stand-in was not run");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        recorded,
        "https://support.example.com/chats/4002?u=..%2Fa%20b%3Fx%3D%22q%27%26y%3D1&s=telegram\n"
    );

    // The window's title carries the count (found by its title: closing it to the tray is
    // how the test looks it up).
    let deadline = std::time::Instant::now() + WAIT;
    while !d.close("Chatbell — 1 waiting", |_| true).await {
        if std::time::Instant::now() >= deadline {
            d.fail("no window titled \"Chatbell — 1 waiting\"");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The README's pictures: `cargo test --release -p chatbell-window --test e2e -- --ignored
/// docs_screenshots` rewrites `docs/screenshot-light.png`, `docs/screenshot-dark.png` and
/// `docs/screenshot-waiting.png` (this one takes two minutes: the waits are real).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes the README's screenshots into docs/"]
async fn docs_screenshots() {
    let panel = json!({"server": {"web_panel": "https://support.example.com/chats/{user_id}"}});
    let d = Desktop::start("docs", SimConfig::default(), Some(panel), true).await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    let at = |minute: u32| format!("2026-11-25T09:{minute:02}:00Z");
    let mut events = vec![
        json!({"event": "new_chat", "data": {"user_id": -4417, "user_name": "Emma Clarke", "username": null, "source": "widget", "first_message": "Hi! Is the 30-day trial available for teams?"}, "timestamp": at(2)}),
        json!({"event": "new_chat", "data": {"user_id": 7301, "user_name": "Дмитрий Соколов", "username": "dsokolov", "source": "telegram", "first_message": "Добрый день! Не пришёл чек после оплаты."}, "timestamp": at(5)}),
        json!({"event": "new_chat", "data": {"user_id": 1001, "user_name": "Иван Петров", "username": "ivan_petrov", "source": "telegram", "first_message": "Привет! Заказ №48213 ещё в пути?"}, "timestamp": at(10)}),
    ];
    let lines = [
        (
            1001,
            "Иван Петров",
            "Трекинг не обновлялся с понедельника.",
            None,
        ),
        (
            1001,
            "Иван Петров",
            "Вот фото квитанции.",
            Some("uploads/receipt-48213.jpg"),
        ),
        (
            -4417,
            "Emma Clarke",
            "We are 12 people, mostly on Linux.",
            None,
        ),
        (1001, "Иван Петров", "Когда будет доставка?", None),
        (7301, "Дмитрий Соколов", "Оплачивал картой в 10:40.", None),
    ];
    for (i, (user, name, text, file)) in lines.iter().enumerate() {
        events.push(json!({"event": "new_message", "data": {"message_id": 9001 + i as i64, "user_id": user, "user_name": name, "text": text, "file_path": file, "source": if *user < 0 { "widget" } else { "telegram" }}, "timestamp": at(12 + i as u32 * 3)}));
    }
    events.push(json!({"event": "message_read", "data": {"user_id": 1001, "last_read_message_id": 9002}, "timestamp": at(25)}));
    events.push(json!({"event": "user_online", "data": {"user_id": 1001}, "timestamp": at(25)}));
    events.push(json!({"event": "user_online", "data": {"user_id": -4417}, "timestamp": at(25)}));
    d.sim.control().post_events(&json!(events)).await.unwrap();
    d.until("return document.querySelectorAll('#chat-list [data-chat-id]').length === 3");
    d.click("[data-chat-id=\"1001\"]");
    d.until("return document.querySelectorAll('#chat-view .message-text').length >= 4");
    d.send(json!({"event": "user_typing", "data": {"user_id": -4417, "user_name": "Emma Clarke"}}))
        .await;
    d.until("const t = document.querySelector('[data-chat-id=\"-4417\"] .typing'); return t && t.offsetParent !== null");
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    for theme in ["light", "dark"] {
        d.js(&format!(
            "document.documentElement.dataset.theme = '{theme}'"
        ));
        tokio::time::sleep(Duration::from_millis(400)).await;
        let png = d.window_png();
        std::fs::write(docs.join(format!("screenshot-{theme}.png")), png).unwrap();
    }

    // Who waits: two chats left unopened for two minutes and one just arrived, the list sorted
    // by the longest wait (`docs/screenshot-waiting.png`). Waits are real time here.
    d.js("document.documentElement.dataset.theme = 'light'");
    tokio::time::sleep(Duration::from_secs(125)).await;
    d.send(json!({"event": "new_chat", "data": {"user_id": 5120, "user_name": "Лена Орлова", "username": "lena_o", "source": "telegram", "first_message": "Можно поменять адрес доставки?"}, "timestamp": at(40)}))
        .await;
    d.until("return document.querySelectorAll('#chat-list [data-chat-id]').length === 4");
    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-notifications");
    d.click("#setting-sort-by-wait");
    d.click("#settings-save");
    d.until("return !document.querySelector('#settings-dialog').open");
    d.until("const r = document.querySelector('#chat-list [data-chat-id]'); return !!r && r.dataset.chatId !== '1001' && r.querySelector('.chat-waiting').textContent.includes('2 min')");
    d.until("const t = document.querySelector('#toast'); return !t || t.hidden || getComputedStyle(t).opacity === '0'");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let png = d.window_png();
    std::fs::write(docs.join("screenshot-waiting.png"), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_in_use_at_launch_is_explained_and_try_again_opens_it() {
    // Another Chatbell engine (this test process) holds the database when the app starts: the
    // window says so, in words, instead of an empty app; once it lets go, "Try again" starts.
    let data = tempfile::tempdir().unwrap();
    let held = chatbell_engine::store::EngineLock::acquire(&data.path().join("chatbell.db"))
        .expect("the test holds the database");
    let mut d = Desktop::start_with(
        "database-in-use",
        SimConfig::default(),
        Some(json!({})),
        true,
        &[("CHATBELL_DATA_DIR", data.path().display().to_string())],
    )
    .await;
    d.until("return !document.querySelector('#store-problem').hidden");
    assert_eq!(
        d.js("return document.querySelector('#store-problem-what').textContent"),
        json!("Another Chatbell is using this database.")
    );
    let detail = d.js("return document.querySelector('#store-problem-detail').textContent");
    assert!(
        detail.as_str().is_some_and(|t| t.contains("chatbell.db")),
        "the file is named: {detail}"
    );
    assert_eq!(
        d.js("return document.querySelector('#status-bar').dataset.state"),
        json!("stopped")
    );
    d.shot("database-in-use");

    drop(held);
    d.click("#store-problem-retry");
    d.until("return document.querySelector('#store-problem').hidden");
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    d.send(new_chat(77, "Ivan", "Hello after the retry")).await;
    d.until("return !!document.querySelector('#chat-list [data-chat-id=\"77\"]')");
    d.shot("database-opened");
}
