//! The release app in a private desktop, driven as a person would: a virtual display (or a
//! headless Wayland compositor), a private D-Bus with a recording notification server and a
//! tray host (StatusNotifierWatcher), a real Secret Service, optionally a desktop portal that
//! names the desktop's proxy, the simulator as the server, and
//! tauri-driver with WebKitWebDriver. The driver starts the window process
//! (`chatbell-window`), which starts the tray-resident `chatbell` beside it, as a click on the
//! menu entry's window would; a window the resident opens later (a notification clicked, the
//! tray's Open) is seen through its processes and the screen.
//!
//! Screenshots are taken from the X server (or the compositor): WebKitWebDriver's own need GPU
//! compositing, which the window turns off. A failed step says what it waited for, what it saw
//! last, and what the driver and the app printed and logged.

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chatbell_sim::{SimConfig, SimHandle};
use serde_json::{Value, json};

use crate::screen::Screen;
use crate::wait::try_eventually;
use crate::webdriver::WebDriver;
use crate::{
    FakePortal, NotificationServer, PrivateBus, SecretService, Spawned, TrayWatcher,
    VirtualDisplay, Weston, free_port, logs_in, processes_of,
};

/// How long a step of the app may take: loaded CI machines are slow, and each wait ends as
/// soon as its check holds.
pub const WAIT: Duration = Duration::from_secs(15);

/// A notification's button is pressed again after this, until the press has an effect.
const PRESS_AGAIN: Duration = Duration::from_millis(500);
/// A window's close is asked again after this, until the app has answered it.
const CLOSE_AGAIN: Duration = Duration::from_secs(1);

/// What a desktop starts with; [`Launch::start`] starts it.
pub struct Launch {
    app: PathBuf,
    artifacts: PathBuf,
    name: &'static str,
    sim: SimConfig,
    settings: Option<Value>,
    tray_host: bool,
    env: Vec<(String, String)>,
    wayland: bool,
    portal: Option<Vec<String>>,
    organization: Option<OrgFile>,
}

/// The organization's file of a launch: its text, given the simulator's address.
type OrgFile = Box<dyn FnOnce(&str) -> String + Send>;

impl Launch {
    /// The window program `app` (`chatbell-window`; the resident `chatbell` is beside it) on a
    /// first run (no settings file), with a tray host, on X. Screenshots are named after
    /// `name` and written to `artifacts`.
    pub fn new(app: impl Into<PathBuf>, artifacts: impl Into<PathBuf>, name: &'static str) -> Self {
        Launch {
            app: app.into(),
            artifacts: artifacts.into(),
            name,
            sim: SimConfig::default(),
            settings: None,
            tray_host: true,
            env: Vec::new(),
            wayland: false,
            portal: None,
            organization: None,
        }
    }

    /// The organization's settings file (`docs/deployment.md`) written before the start: its
    /// text, made from the simulator's address. Without it there is none (never the machine's
    /// `/etc/chatbell/settings.json`).
    pub fn organization(mut self, text: impl FnOnce(&str) -> String + Send + 'static) -> Self {
        self.organization = Some(Box::new(text));
        self
    }

    /// The simulator's configuration (its address and traffic are set by the desktop).
    pub fn sim(mut self, sim: SimConfig) -> Self {
        self.sim = sim;
        self
    }

    /// Settings written before the start, with the simulator as the server and the welcome
    /// answered.
    pub fn settings(mut self, settings: Value) -> Self {
        self.settings = Some(settings);
        self
    }

    /// A desktop without a tray host (GNOME without the AppIndicator extension).
    pub fn no_tray_host(mut self) -> Self {
        self.tray_host = false;
        self
    }

    /// One more variable in the app's environment (e.g. a `PATH` with stand-ins).
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.to_string(), value.into()));
        self
    }

    /// A desktop portal on the private bus whose `ProxyResolver.Lookup` answers `answer`
    /// (e.g. `["http://127.0.0.1:3128"]`): the desktop's proxy settings, as GNOME or KDE give
    /// them.
    pub fn portal(mut self, answer: &[&str]) -> Self {
        self.portal = Some(answer.iter().map(|a| a.to_string()).collect());
        self
    }

    /// The window on a headless Wayland compositor (GTK's Wayland backend), not on X.
    pub fn wayland(mut self) -> Self {
        self.wayland = true;
        self
    }

    pub async fn start(self) -> Desktop {
        let sim = chatbell_sim::start(SimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            rate: 0.0,
            ..self.sim
        })
        .await
        .unwrap();
        let display = VirtualDisplay::start();
        let wayland = self.wayland.then(Weston::start);
        let bus = PrivateBus::start();
        let notifications =
            NotificationServer::start(&bus, &["body", "body-markup", "actions", "sound"]).await;
        let portal = match &self.portal {
            Some(answer) => {
                let answer: Vec<&str> = answer.iter().map(String::as_str).collect();
                Some(FakePortal::start(&bus, &answer).await)
            }
            None => None,
        };
        let tray = match self.tray_host {
            true => Some(TrayWatcher::start(&bus).await),
            false => None,
        };
        let home = tempfile::tempdir().unwrap();
        let keyring = SecretService::start(&bus, home.path()).await;
        let config = home.path().join("config");
        std::fs::create_dir_all(&config).unwrap();
        if let Some(mut settings) = self.settings {
            settings["server"]["url"] = json!(sim.ws_url());
            settings["ui"]["welcome_done"] = json!(true);
            std::fs::write(config.join("settings.json"), settings.to_string()).unwrap();
        }
        if let Some(text) = self.organization {
            write_organization(home.path(), &text(&sim.ws_url()));
        }
        std::fs::create_dir_all(&self.artifacts).unwrap();

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
            .env("CHATBELL_ORG_SETTINGS", organization_path(home.path()))
            .env("LANG", "en_US.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("WAYLAND_DISPLAY");
        for var in crate::PROXY_ENV {
            command.env_remove(var);
        }
        command.envs(self.env.iter().cloned());
        if let Some(weston) = &wayland {
            command
                .env("WAYLAND_DISPLAY", weston.socket())
                .env("GDK_BACKEND", "wayland")
                .env_remove("DISPLAY");
        }
        let tauri_driver = Spawned::spawn(command);
        let capabilities =
            json!({ "alwaysMatch": { "tauri:options": { "application": &self.app } } });
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
            tauri_driver,
            notifications,
            tray,
            _keyring: keyring,
            sim,
            display,
            wayland,
            portal,
            _bus: bus,
            home,
            app: self.app,
            artifacts: self.artifacts,
            name: self.name,
            shots: 0,
        };
        desktop.until("return document.body.dataset.ready === 'true'");
        desktop
    }
}

/// Where a desktop's organization's file is.
fn organization_path(home: &Path) -> PathBuf {
    home.join("org/settings.json")
}

/// Writes the organization's file as configuration tools do.
fn write_organization(home: &Path, text: &str) {
    crate::write_into_place(&organization_path(home), text);
}

/// tauri-driver where `cargo install` puts it, else from `PATH`.
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
pub struct Desktop {
    // Fields drop in order: the app (driver) goes before the buses it talks to.
    pub driver: WebDriver,
    tauri_driver: Spawned,
    pub notifications: NotificationServer,
    /// None: a desktop without a tray host.
    tray: Option<TrayWatcher>,
    _keyring: SecretService,
    pub sim: SimHandle,
    pub display: VirtualDisplay,
    /// Set: the app runs under this Wayland compositor instead of the X display.
    wayland: Option<Weston>,
    /// Set by [`Launch::portal`].
    portal: Option<FakePortal>,
    _bus: PrivateBus,
    /// The app's home: `config/` holds its settings, `data/` its database and logs.
    pub home: tempfile::TempDir,
    app: PathBuf,
    artifacts: PathBuf,
    name: &'static str,
    shots: usize,
}

impl Desktop {
    /// Asks `check` until it answers `Ok` (returned); after `within` (mostly [`WAIT`]) fails
    /// the test with `what`, the last thing seen, and what the app printed and logged.
    pub async fn eventually<T, S: Debug>(
        &self,
        what: &str,
        within: Duration,
        check: impl AsyncFnMut() -> Result<T, S>,
    ) -> T {
        try_eventually(what, within, check)
            .await
            .unwrap_or_else(|e| self.fail(e))
    }

    /// Runs `script` until it returns something truthy (blocking: the WebDriver client is).
    pub fn until(&self, script: &str) -> Value {
        tokio::task::block_in_place(|| self.driver.wait_until(script, WAIT))
            .unwrap_or_else(|e| self.fail(e))
    }

    /// Runs `script` once and returns its value.
    pub fn js(&self, script: &str) -> Value {
        tokio::task::block_in_place(|| self.driver.execute(script, json!([])))
            .unwrap_or_else(|e| self.fail(e))
    }

    pub fn click(&self, css: &str) {
        tokio::task::block_in_place(|| {
            let element = self.driver.find(css)?;
            self.driver.click(&element)
        })
        .unwrap_or_else(|e| self.fail(format!("clicking {css}: {e}")))
    }

    pub fn type_into(&self, css: &str, text: &str) {
        tokio::task::block_in_place(|| {
            let element = self.driver.find(css)?;
            self.driver.send_keys(&element, text)
        })
        .unwrap_or_else(|e| self.fail(format!("typing into {css}: {e}")))
    }

    /// Whether an element is shown (exists, not hidden, laid out).
    pub fn visible(&self, css: &str) -> bool {
        self.js(&format!(
            "const e = document.querySelector({}); return !!e && !e.closest('[hidden]') && e.offsetParent !== null",
            serde_json::to_string(css).unwrap()
        )) == json!(true)
    }

    /// Presses a notification's button until `done` holds. The notifier starts listening for
    /// the press on the notification's own D-Bus connection just after `Notify` returns; a
    /// press in between is lost (as it would be for a person faster than a D-Bus round trip).
    pub async fn press(&self, id: u32, action: &str, done: impl Fn(&Self) -> bool) {
        let mut presses = 0;
        let mut pressed = None::<Instant>;
        self.eventually(
            &format!("pressing {action} on notification {id} has an effect"),
            WAIT,
            async || {
                if pressed.is_none_or(|at| at.elapsed() >= PRESS_AGAIN) {
                    self.notifications.invoke(id, action).await;
                    pressed = Some(Instant::now());
                    presses += 1;
                }
                match done(self) {
                    true => Ok(()),
                    false => Err(format!("no effect after {presses} press(es)")),
                }
            },
        )
        .await
    }

    /// Closes the window titled `title` as the window manager does when its close button is
    /// clicked (WebDriver's own "close window" ends the session and the app with it); false if
    /// there is no such window. The session's input is released first: WebKitWebDriver 2.50
    /// leaves a click's pointer pressed, and GTK delivers no close to a window while a press
    /// holds it. Until `handled` sees the app's answer the close is asked again each second, as
    /// a person clicks again (under load the first one is sometimes not delivered).
    pub async fn close(&self, title: &str, handled: impl Fn(&Self) -> bool) -> bool {
        tokio::task::block_in_place(|| self.driver.release_actions())
            .unwrap_or_else(|e| self.fail(format!("releasing the input: {e}")));
        if !self.display.close_window(title).unwrap() {
            return false;
        }
        let mut asked = Instant::now();
        let answered = try_eventually(
            &format!("the app answers closing {title:?}"),
            WAIT,
            async || {
                if handled(self) {
                    return Ok(());
                }
                if asked.elapsed() >= CLOSE_AGAIN {
                    self.display.close_window(title).unwrap();
                    asked = Instant::now();
                }
                Err(self.window_children())
            },
        )
        .await;
        if let Err(e) = answered {
            let screen = self
                .artifacts
                .join(format!("{}-not-closed-screen.png", self.name));
            self.display.screenshot(&screen);
            self.fail(format!("{e}\n(the screen: {})", screen.display()));
        }
        true
    }

    /// The window process's children (its WebKit processes), as `ps` lists them.
    fn window_children(&self) -> String {
        let Some(pid) = self.app_pid() else {
            return "no window process".into();
        };
        Command::new("ps")
            .args(["--ppid", &pid.to_string(), "-o", "pid,stat,etime,args"])
            .output()
            .map(|o| {
                format!(
                    "the window's children:\n{}",
                    String::from_utf8_lossy(&o.stdout)
                )
            })
            .unwrap_or_default()
    }

    /// Fails the test with what the driver and the app printed and logged.
    pub fn fail(&self, error: impl std::fmt::Display) -> ! {
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
            self.tauri_driver.stdout.text(),
            self.tauri_driver.stderr.text()
        )
    }

    /// Where this desktop's screenshots go.
    pub fn artifacts(&self) -> &Path {
        &self.artifacts
    }

    /// A screenshot of the window (of the Wayland screen), numbered, named after `step`.
    pub fn shot(&mut self, step: &str) {
        self.shots += 1;
        let path = self
            .artifacts
            .join(format!("{}-{:02}-{step}.png", self.name, self.shots));
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

    /// The screen, saved as `artifacts/<name>-<suffix>.png`.
    pub fn screen_shot(&self, suffix: &str) {
        let path = self.artifacts.join(format!("{}-{suffix}.png", self.name));
        self.display.screenshot(&path);
    }

    /// The window as the X server shows it.
    pub fn window_png(&self) -> Vec<u8> {
        self.display
            .screenshot_window("Chatbell")
            .unwrap_or_else(|e| self.fail(e))
    }

    /// Waits until the Wayland compositor's screen shows what `seen` looks for: it shows a
    /// frame some time after the page changed, and the screenshots are to show what the agent
    /// sees.
    pub async fn until_screen(&self, what: &str, seen: impl Fn(&Screen) -> bool) {
        let weston = self.wayland.as_ref().expect("a Wayland desktop");
        let path = self.artifacts.join(format!("{}-probe.png", self.name));
        self.eventually(&format!("{what}: on the screen"), WAIT, async || {
            match weston.screenshot(&path) && Screen::read(&path).is_some_and(|s| seen(&s)) {
                true => Ok(()),
                false => Err(format!("not yet: see {}", path.display())),
            }
        })
        .await;
        let _ = std::fs::remove_file(&path);
    }

    /// The app's log so far (every file of `data/logs`).
    pub fn app_log(&self) -> String {
        logs_in(&self.home.path().join("data/logs"))
    }

    /// Waits until the app's log has a line containing `text`.
    pub async fn logged(&self, text: &str) {
        self.eventually(&format!("the app logs {text:?}"), WAIT, async || {
            let log = self.app_log();
            match log.contains(text) {
                true => Ok(()),
                false => Err(format!("{} lines logged", log.lines().count())),
            }
        })
        .await
    }

    /// The desktop portal [`Launch::portal`] started: what it was asked.
    pub fn portal(&self) -> &FakePortal {
        self.portal
            .as_ref()
            .expect("this desktop has a portal: Launch::portal")
    }

    pub fn tray(&self) -> &TrayWatcher {
        self.tray.as_ref().expect("this desktop has a tray host")
    }

    /// Where the organization's file of this desktop is.
    pub fn organization_path(&self) -> PathBuf {
        organization_path(self.home.path())
    }

    /// Writes (or replaces) the organization's file while the app runs.
    pub fn write_organization(&self, text: &str) {
        write_organization(self.home.path(), text);
    }

    /// The settings file as the app last wrote it.
    pub fn settings_file(&self) -> Value {
        let text = std::fs::read_to_string(self.home.path().join("config/settings.json"))
            .expect("settings.json written");
        serde_json::from_str(&text).expect("settings.json is JSON")
    }

    /// Sends `event` from the simulator to the app.
    pub async fn send(&self, event: Value) {
        let delivered = self.sim.control().send_event(&event).await.unwrap();
        assert_eq!(delivered, 1, "the app is connected");
    }

    /// Whether the window process `pid` has a WebKit web process, i.e. a live window.
    pub fn has_web_process(&self, pid: u32) -> bool {
        let out = Command::new("pgrep")
            .args(["-P", &pid.to_string(), "-f", "WebKitWebProcess"])
            .output()
            .unwrap();
        !out.stdout.is_empty()
    }

    /// This desktop's window processes (found by the home folder in their environment: the
    /// resident and the windows it starts are no children of the driver).
    pub fn windows(&self) -> Vec<u32> {
        processes_of(&self.app, self.home.path())
    }

    /// The window process (the one the driver started, or one the resident started later).
    pub fn app_pid(&self) -> Option<u32> {
        self.windows().first().copied()
    }

    /// The tray-resident `chatbell` the window started.
    pub fn resident_pid(&self) -> Option<u32> {
        processes_of(&self.resident_exe(), self.home.path())
            .first()
            .copied()
    }

    /// The tray-resident program beside the window's.
    fn resident_exe(&self) -> PathBuf {
        self.app.with_file_name("chatbell")
    }

    /// Waits for a window process (other than `not`) with a live web process.
    pub async fn until_window(&self, not: Option<u32>) -> u32 {
        self.eventually("a window comes up", WAIT, async || {
            let windows = self.windows();
            windows
                .iter()
                .copied()
                .find(|p| Some(*p) != not && self.has_web_process(*p))
                .ok_or_else(|| format!("window processes {windows:?}, not {not:?}"))
        })
        .await
    }
}

impl Drop for Desktop {
    /// The resident outlives the driver and its window, as it does on a desktop: ended here,
    /// with any window it started. Windows first (a window whose resident vanished starts
    /// another), then again until none is left.
    fn drop(&mut self) {
        for _ in 0..20 {
            let left: Vec<u32> = self
                .windows()
                .into_iter()
                .chain(processes_of(&self.resident_exe(), self.home.path()))
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

/// Whether a process has ended (gone, or a zombie its parent has not reaped yet).
pub fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}
