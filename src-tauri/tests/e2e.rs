//! The release app in a real window: a virtual display, a private D-Bus with a recording
//! notification server and a tray host (StatusNotifierWatcher), a real Secret Service, the
//! simulator as the server — driven through tauri-driver and WebKitWebDriver. The driver
//! starts the window process (`chatbell-window`), which starts the tray-resident `chatbell`
//! beside it, as a click on the menu entry's window would; a window the resident opens later
//! (a notification clicked, the tray's Open) is seen through its processes and the screen.
//!
//! This file is the scenarios; the desktop they run in, and the waits, are the test kit's
//! (`chatbell_testkit::desktop`). Screenshots of every step are written to `target/tmp/e2e/`
//! (look at them). They are taken from the X server: WebKitWebDriver's own needs GPU
//! compositing, which the window turns off.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use chatbell_sim::SimConfig;
use chatbell_testkit::desktop::{Desktop, Launch, WAIT, exited};
use chatbell_testkit::{Pki, Proxy, SERVER_CA, TrayItem, saturated};
use serde_json::{Value, json};

const APP: &str = env!("CARGO_BIN_EXE_chatbell-window");

/// A desktop for the test `name` (a first run with a tray host, unless told otherwise); its
/// screenshots go to `target/tmp/e2e/`.
fn launch(name: &'static str) -> Launch {
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    Launch::new(APP, artifacts, name)
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
    let what = format!("the tray shows a badge: {badge}");
    d.eventually(&what, WAIT, async || {
        let now = d.tray().read(&item.service, &item.path).await.unwrap();
        match has_badge(&now) == badge {
            true => Ok(()),
            false => Err(format!("badge: {}", !badge)),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_day_in_a_real_window() {
    let mut d = launch("day").settings(json!({})).start().await;
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
    d.eventually(
        "reading the chat closes its notification",
        WAIT,
        async || {
            let closed = d.notifications.closed_by_client();
            match closed.contains(&calls[0].id) {
                true => Ok(()),
                false => Err(format!("closed: {closed:?}")),
            }
        },
    )
    .await;
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
    d.eventually(
        "the window's process ends with the window",
        WAIT,
        async || match d.app_pid() {
            Some(p) if p == pid && !exited(pid) => Err(format!("window process {pid} runs")),
            _ => Ok(()),
        },
    )
    .await;
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
    d.screen_shot("hidden-screen");

    // The tray's Open brings a new window.
    assert!(
        d.tray().click(&item, "Open Chatbell").await,
        "the tray has Open"
    );
    let window = d.until_window(Some(pid)).await;
    // For the picture only: the new page is given time to paint.
    tokio::time::sleep(Duration::from_secs(2)).await;
    d.screen_shot("reopened-screen");
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
    let mut d = launch("resident-killed").settings(json!({})).start().await;
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
    let restarted = d
        .eventually("the window starts the resident again", WAIT, async || {
            let now = d.resident_pid();
            now.filter(|p| *p != resident && !exited(*p))
                .ok_or(format!("resident {now:?}, killed {resident}"))
        })
        .await;
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
    let mut d = launch("wayland")
        .settings(json!({}))
        .wayland()
        .start()
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
    d.until_screen("the chat list painted", |s| {
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
    d.until_screen("the open chat painted", |s| {
        s.count(130..520, 180..340, |p| p[2] > 170 && p[0] < 90) > 2000
            && s.count(520..1230, 150..800, |p| p.iter().all(|c| *c >= 252)) > 8000
    })
    .await;
    d.shot("open-chat-quiet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_settings_diagnostics_and_notification_clicks() {
    let token = "s3cret-token";
    let mut d = launch("first-run")
        .sim(SimConfig {
            token: Some(token.into()),
            ..SimConfig::default()
        })
        .start()
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
    let before = d.notifications.calls().len();
    d.send(message(3102, 3003, "Olga", "Hello?")).await;
    let calls = d.notifications.wait_calls(before + 1, WAIT).await;
    // A click on it reopens the window.
    d.press(calls.last().unwrap().id, "default", |d| {
        d.windows()
            .into_iter()
            .any(|p| p != pid && d.has_web_process(p))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    d.screen_shot("reopened-screen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tray_host_closing_minimizes_and_the_ui_says_how_to_get_a_tray() {
    let mut d = launch("no-tray")
        .settings(json!({}))
        .no_tray_host()
        .start()
        .await;
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
    d.eventually("the dismissal is saved", WAIT, async || {
        let ui = d.settings_file()["ui"].clone();
        match ui["tray_hint_shown"] == json!(true) {
            true => Ok(()),
            false => Err(ui),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_opens_settings_at_the_token() {
    // The server demands a token this agent never gave. Past the offline warning's threshold a
    // notification says the token was refused; its "Open Settings" brings up Settings at the
    // token (the address is set), through the engine's SettingsRequested and the shell.
    let mut d = launch("token-refused")
        .sim(SimConfig {
            token: Some("the-right-token".into()),
            ..SimConfig::default()
        })
        .settings(json!({"notifications": {"offline_alert_secs": 10}}))
        .start()
        .await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'unauthorized'");
    let what = "a notification with \"Open Settings\"";
    let refused = d
        .eventually(what, Duration::from_secs(40), async || {
            let calls = d.notifications.calls();
            calls
                .iter()
                .find(|c| c.actions.iter().any(|a| a == "settings"))
                .cloned()
                .ok_or(calls)
        })
        .await;
    assert_eq!(refused.summary, "The server refused the token");
    d.press(refused.id, "settings", |d| {
        d.js("return document.querySelector('#settings-dialog').open && !document.querySelector('#panel-connection').hidden && document.activeElement.id === 'setting-token'")
            == json!(true)
    })
    .await;
    d.shot("settings-at-the-token");
}

/// Waits until the tray menu's first line satisfies `pred` (`what` says how it should read);
/// returns the menu then.
async fn wait_tray_menu(
    d: &Desktop,
    item: &TrayItem,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> Vec<(String, bool)> {
    d.eventually(what, WAIT, async || {
        let menu = d.tray().menu(item).await;
        match menu.first().is_some_and(|(label, _)| pred(label)) {
            true => Ok(menu),
            false => Err(menu),
        }
    })
    .await
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
    let mut d = launch("waiting")
        .settings(json!({"server": {"web_panel": template}}))
        .env("PATH", path)
        .start()
        .await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    let item = d
        .tray()
        .wait_item(WAIT)
        .await
        .expect("the tray item registered with the watcher");
    let menu = wait_tray_menu(&d, &item, "Nobody waiting", |l| l == "Nobody waiting").await;
    assert!(!menu[0].1, "the waiting line is not a button: {menu:?}");

    // A chat nobody has opened yet waits: its row says so, and so does the tray's first line.
    d.send(new_chat(
        4001,
        "Анна Смирнова",
        "Здравствуйте, заказ не пришёл",
    ))
    .await;
    d.until("const w = document.querySelector('[data-chat-id=\"4001\"] .chat-waiting'); return !!w && !w.hidden && w.textContent.startsWith('waiting ')");
    let menu = wait_tray_menu(&d, &item, "1 waiting · longest …", |l| {
        l.starts_with("1 waiting · longest ")
    })
    .await;
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
    wait_tray_menu(&d, &item, "1 waiting · …", |l| {
        l.starts_with("1 waiting · ")
    })
    .await;

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
    let recorded = d
        .eventually("the browser stand-in runs", WAIT, async || {
            let text = std::fs::read_to_string(&opened).unwrap_or_default();
            match text.ends_with('\n') {
                true => Ok(text),
                false => Err(text),
            }
        })
        .await;
    assert_eq!(
        recorded,
        "https://support.example.com/chats/4002?u=..%2Fa%20b%3Fx%3D%22q%27%26y%3D1&s=telegram\n"
    );

    // The window's title carries the count (found by its title: closing it to the tray is
    // how the test looks it up).
    let title = "Chatbell — 1 waiting";
    d.eventually(
        &format!("a window titled {title:?}"),
        WAIT,
        async || match d.close(title, |_| true).await {
            true => Ok(()),
            false => Err(d.js("return document.title")),
        },
    )
    .await;
}

/// The README's pictures: `cargo test --workspace --release --test e2e -- --ignored
/// docs_screenshots` rewrites `docs/screenshot-light.png`, `docs/screenshot-dark.png` and
/// `docs/screenshot-waiting.png` (this one takes two minutes: the waits are real).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes the README's screenshots into docs/"]
async fn docs_screenshots() {
    let panel = json!({"server": {"web_panel": "https://support.example.com/chats/{user_id}"}});
    let d = launch("docs").settings(panel).start().await;
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
    let mut d = launch("database-in-use")
        .settings(json!({}))
        .env("CHATBELL_DATA_DIR", data.path().display().to_string())
        .start()
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
    assert!(
        detail.as_str().is_some_and(|t| !t.contains("--db")),
        "no command-line advice in the app: {detail}"
    );
    assert_eq!(
        d.js("return document.querySelector('#status-bar').dataset.state"),
        json!("stopped")
    );
    // One state, one message: the status bar and the chat list say what the banner says.
    assert_eq!(
        d.js("return document.querySelector('#status-text').textContent"),
        json!("Not connected: Another Chatbell is using this database.")
    );
    d.until(
        "const e = document.querySelector('#list-footer .list-error'); \
         return !!e && e.dataset.reason === 'in_use'",
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

/// The status bar's words, as the agent reads them: what is wrong, then what to do.
fn status_words(d: &Desktop) -> Value {
    d.js("return [document.querySelector('#status-text').textContent, document.querySelector('#status-todo').textContent]")
}

/// Chooses `value` in the `<select>` `css` as a person does (the form hears the change).
fn choose(d: &Desktop, css: &str, value: &str) {
    d.js(&format!(
        "const s = document.querySelector({}); s.value = {}; s.dispatchEvent(new Event('change', {{ bubbles: true }}))",
        serde_json::to_string(css).unwrap(),
        serde_json::to_string(value).unwrap()
    ));
}

/// A service behind the company's CA, reached through a proxy that wants a password, set up
/// from Settings → Connection alone: the CA file typed, the proxy's address with the user, the
/// password saved in its field (to the keychain), *Check connection* saying the route, the
/// trust and the issuer; then the chat list fills over `wss://` through the proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_private_ca_and_a_proxy_with_a_password() {
    let pki = Pki::new();
    let password = "pr0xy-Pa55-word";
    let proxy = Proxy::http_with_auth("agent", password);
    let mut d = launch("corp-network")
        .sim(SimConfig {
            tls: Some(pki.sim_tls(&pki.server(), false)),
            ..SimConfig::default()
        })
        .settings(json!({}))
        .start()
        .await;
    assert!(
        d.sim.ws_url().starts_with("wss://localhost:"),
        "{}",
        d.sim.ws_url()
    );

    // Directly, with only this computer's trust: the company's CA is unknown, and named.
    d.until("return document.querySelector('#status-bar').dataset.state === 'offline'");
    let words = status_words(&d);
    assert!(
        words[0].as_str().unwrap().contains(&format!(
            "The server's certificate is signed by “{SERVER_CA}”, which this computer does not trust."
        )),
        "{words}"
    );
    assert_eq!(
        words[1],
        json!("Ask your IT for the CA certificate, or add it under Certificate authority.")
    );
    d.shot("unknown-issuer");

    // "Open settings" opens Settings → Connection at the certificate authority.
    assert!(d.visible("#status-settings"));
    assert!(!d.visible("#status-proxy-password"));
    d.click("#status-settings");
    d.until("return document.querySelector('#settings-dialog').open && document.activeElement.id === 'setting-ca-file'");
    d.type_into("#setting-ca-file", pki.ca().cert_file().to_str().unwrap());
    choose(&d, "#setting-proxy-mode", "url");
    d.until("return !document.querySelector('#proxy-url-field').hidden");
    d.type_into("#setting-proxy", &proxy.url_with_user());

    // Checked before the password is saved: the proxy asks for one.
    d.click("#check-connection");
    let failed = d.until("const r = document.querySelector('#check-result'); return r.dataset.state === 'failed' ? [r.dataset.kind, r.textContent] : null");
    assert_eq!(failed[0], json!("proxy_auth_required"), "{failed}");
    assert!(
        failed[1].as_str().unwrap().starts_with(&format!(
            "The proxy {} asks for a password.",
            proxy.url_with_user()
        )),
        "{failed}"
    );
    d.shot("check-proxy-wants-a-password");

    // The password goes to the keychain at once, never into the settings.
    d.type_into("#setting-proxy-password", password);
    d.click("#save-proxy-password");
    d.until("return document.querySelector('#proxy-password-status').dataset.stored === 'true' && document.querySelector('#setting-proxy-password').value === ''");

    // Checked again: through the proxy, trusting the CA file, the issuer named.
    d.click("#check-connection");
    let report = d.until("const r = document.querySelector('#check-result'); return r.dataset.state === 'ok' ? [...r.querySelectorAll('.check-line')].map(l => l.textContent) : null");
    let ca = pki.ca().cert_file().display().to_string();
    assert_eq!(
        report,
        json!([
            "Chatbell reached the server.",
            format!(
                "Route: via proxy {} from Chatbell's settings",
                proxy.url_with_user()
            ),
            format!("Certificate verified with this computer's trusted certificates and {ca}."),
            format!("The server's certificate is issued by “{SERVER_CA}”."),
        ])
    );
    d.shot("check-ok");

    d.click("#settings-save");
    d.until("return !document.querySelector('#settings-dialog').open");
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    let settings = d.settings_file();
    assert_eq!(settings["server"]["proxy"], json!(proxy.url_with_user()));
    assert_eq!(settings["server"]["tls"]["ca_file"], json!(ca));
    assert!(
        !settings.to_string().contains(password),
        "the proxy password is in the keychain, not the settings file"
    );

    // The chat list fills, over wss:// through the proxy.
    d.send(new_chat(4004, "Анна", "Здравствуйте! Заказ не пришёл."))
        .await;
    d.until("return document.querySelector('[data-chat-id=\"4004\"]') !== null");
    let log = proxy.log();
    assert!(
        log.contains(&format!("localhost:{}", d.sim.addr().port())),
        "the proxy carried the tunnel: {log}"
    );
    assert!(
        !log.contains(password),
        "the password is not in the proxy's log"
    );
    assert!(!d.app_log().contains(password), "nor in the app's");
    d.shot("online-through-the-proxy");
}

/// A proxy that wants a password: the status bar says so in words and offers the field; a
/// wrong password is said to be wrong, with the same button; the right one connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_password_asked_for_refused_then_right() {
    let proxy = Proxy::http_with_auth("agent", "the-right-one");
    let user_url = proxy.url_with_user();
    let mut d = launch("proxy-password")
        .settings(json!({ "server": { "proxy": user_url } }))
        .start()
        .await;

    let offline_with = |kind: &str| {
        format!(
            "return document.querySelector('#status-bar').dataset.state === 'offline' && !document.querySelector('#status-proxy-password').hidden && document.querySelector('#status-text').textContent.includes({})",
            serde_json::to_string(kind).unwrap()
        )
    };
    // No password saved: the proxy asks for one.
    d.until(&offline_with(&format!(
        "The proxy {user_url} asks for a password."
    )));
    assert_eq!(
        status_words(&d)[1],
        json!(
            "Put your user name in the proxy address (http://name@host:port) and save the proxy password in Settings → Connection."
        )
    );
    assert!(!d.visible("#status-settings"), "one button: the password's");
    d.shot("proxy-wants-a-password");

    // The button opens Settings → Connection at the proxy password.
    d.click("#status-proxy-password");
    d.until("return document.querySelector('#settings-dialog').open && !document.querySelector('#panel-connection').hidden && document.activeElement.id === 'setting-proxy-password'");
    d.shot("settings-at-the-proxy-password");
    d.type_into("#setting-proxy-password", "a-wrong-one");
    d.click("#save-proxy-password");
    d.until("return document.querySelector('#proxy-password-status').dataset.stored === 'true'");
    d.click("#settings-cancel");
    d.until("return !document.querySelector('#settings-dialog').open");

    // Refused: said, with the same button.
    d.until(&offline_with(&format!(
        "The proxy {user_url} refused the password."
    )));
    assert_eq!(
        status_words(&d)[1],
        json!("Save the right proxy password in Settings → Connection.")
    );
    d.shot("proxy-refused-the-password");

    d.click("#status-proxy-password");
    d.until("return document.querySelector('#settings-dialog').open && document.activeElement.id === 'setting-proxy-password'");
    d.type_into("#setting-proxy-password", "the-right-one");
    d.click("#save-proxy-password");
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    d.click("#settings-cancel");
    d.send(new_chat(5005, "Pavel", "Hello through the proxy"))
        .await;
    d.until("return document.querySelector('[data-chat-id=\"5005\"]') !== null");
    d.shot("online-with-the-right-password");
}

/// Whether the input `id` is disabled, and the lock's words beside its label (null: none).
fn lock_of(d: &Desktop, id: &str) -> Value {
    d.js(&format!(
        "const i = document.getElementById('{id}'); const b = document.querySelector('label[for=\"{id}\"] + .lock-badge'); return [i.disabled, b ? b.textContent : null]"
    ))
}

/// Set up by the organization's file (`docs/deployment.md`): with the server's address locked
/// the first run asks only for the token; Settings shows the locked address and the locked
/// reminder timing disabled, with the lock, and saves what is the agent's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_up_by_the_organization_the_first_run_asks_only_the_token_and_locks_show() {
    let token = "org-token";
    let mut d = launch("organization")
        .sim(SimConfig {
            token: Some(token.into()),
            ..SimConfig::default()
        })
        .organization(|sim| {
            json!({
                "defaults": {"notifications": {"snooze_minutes": 20}},
                "locked": {
                    "server": {"url": sim},
                    "notifications": {"escalation": {"new_chat": {"every_min": 5}}}
                }
            })
            .to_string()
        })
        .start()
        .await;
    d.until("return !document.querySelector('#welcome').hidden");
    assert!(!d.visible("#welcome-url"), "a locked address is not asked");
    assert_eq!(
        d.js("return document.querySelector('#welcome-url-locked').textContent"),
        json!(format!(
            "Server: {}. Set by your organization.",
            d.sim.ws_url()
        ))
    );
    assert_eq!(
        d.js("return document.activeElement.id"),
        json!("welcome-token")
    );
    d.shot("first-run-token-only");
    d.type_into("#welcome-token", token);
    d.click("#welcome-connect");
    d.until("return document.querySelector('#welcome').hidden");
    // The simulator demands the token: being online proves it went through.
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    let file = d.settings_file();
    assert_eq!(file["ui"]["welcome_done"], json!(true));
    assert!(
        file.get("server").is_none() && file.get("notifications").is_none(),
        "the organization's values are not the agent's: {file}"
    );

    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-connection");
    assert_eq!(
        lock_of(&d, "setting-url"),
        json!([true, "Set by your organization"])
    );
    assert_eq!(
        d.js("return document.getElementById('setting-url').value"),
        json!(d.sim.ws_url())
    );
    assert_eq!(lock_of(&d, "setting-web-panel"), json!([false, null]));
    d.shot("connection-locked");
    d.click("#tab-notifications");
    assert_eq!(
        d.js("return [document.getElementById('setting-esc-new-chat-every').disabled, document.getElementById('setting-esc-new-chat-every').value, document.getElementById('setting-esc-new-chat-realert').disabled, (document.querySelector('#ladder-general .ladder-table + .lock-badge') || {}).textContent]"),
        json!([true, "5", false, "Set by your organization"])
    );
    assert_eq!(
        d.js("return document.getElementById('setting-snooze-minutes').value"),
        json!("20"),
        "the organization's default"
    );
    d.shot("reminders-locked");
    // What is the agent's is saved, with the locks in the form.
    d.js("const s = document.getElementById('setting-snooze-minutes'); s.value = '30'; s.dispatchEvent(new Event('input', { bubbles: true }))");
    d.click("#settings-save");
    d.until("return !document.querySelector('#settings-dialog').open");
    assert_eq!(
        d.settings_file()["notifications"],
        json!({"snooze_minutes": 30})
    );
}

/// A broken organization's file never stops Chatbell: it connects with the agent's settings and
/// the banner names the file and the field (never the value); fixed while the app runs, the
/// banner goes and the file's new lock holds in the open Settings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_organization_file_is_explained_and_the_app_connects_all_the_same() {
    let mut d = launch("organization-broken")
        .settings(json!({}))
        .organization(|_| {
            json!({"locked": {"notifications": {"snooze_minutes": "hunter2"}}}).to_string()
        })
        .start()
        .await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    d.until("return !document.querySelector('#org-problem').hidden");
    let said = d.js("return document.querySelector('#org-problem-text').textContent");
    assert_eq!(
        said,
        json!(format!(
            "Your organization's settings file {} is not in use: notifications.snooze_minutes: This setting does not take a value of this kind. Chatbell goes on with your own and its built-in settings. Tell whoever manages your computer.",
            d.organization_path().display()
        ))
    );
    d.shot("organization-file-broken");

    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-notifications");
    assert_eq!(lock_of(&d, "setting-privacy"), json!([false, null]));
    d.write_organization(&json!({"locked": {"notifications": {"privacy": true}}}).to_string());
    d.until("return document.querySelector('#org-problem').hidden");
    d.until("return document.getElementById('setting-privacy').disabled");
    assert_eq!(
        lock_of(&d, "setting-privacy"),
        json!([true, "Set by your organization"])
    );
    assert_eq!(
        d.js("return document.getElementById('setting-privacy').checked"),
        json!(true)
    );
    d.shot("organization-lock-followed");
}

/// Settings → Notifications → When I'm away: an ntfy target added, its token saved to the
/// keychain (never the settings file), *Send test* reaching a recording ntfy as its
/// documentation shows, and the target saved with what it receives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_i_m_away_a_target_is_set_up_and_send_test_reaches_it() {
    let ntfy = chatbell_testkit::RecordingHttp::start().await;
    let token = "tk_Phone-0f-Ann";
    let mut d = launch("forwarding").settings(json!({})).start().await;
    d.until("return document.querySelector('#status-bar').dataset.state === 'online'");
    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-notifications");
    d.js("document.querySelector('#away-settings').scrollIntoView()");
    d.click("#forward-add-ntfy");
    let row = ".forward-target[data-index=\"0\"]";
    d.until(&format!("return document.querySelector('{row}') !== null"));
    assert_eq!(
        d.js(&format!(
            "return document.querySelector('{row} [data-field=\"id\"]').value"
        )),
        json!("phone")
    );
    d.js(&format!(
        "document.querySelector('{row} [data-field=\"url\"]').value = ''"
    ));
    d.type_into(&format!("{row} [data-field=\"url\"]"), ntfy.url());
    d.type_into(&format!("{row} [data-field=\"topic\"]"), "ann-support");
    d.type_into(&format!("{row} [data-part=\"secret\"]"), token);
    d.click(&format!("{row} [data-part=\"save-secret\"]"));
    d.until(&format!("return document.querySelector('{row} [data-part=\"secret-status\"]').dataset.stored === 'true'"));
    d.shot("when-away-target");

    // Send test: the draft, with the stored token, before anything is saved.
    d.click(&format!("{row} [data-part=\"test\"]"));
    d.until(&format!("return document.querySelector('{row} [data-part=\"test-result\"]').dataset.delivered === 'true'"));
    let got = ntfy.wait_for(1, WAIT).await.remove(0);
    assert_eq!(
        (got.method.as_str(), got.path.as_str()),
        ("POST", "/ann-support")
    );
    assert_eq!(got.header("Title"), Some("Chatbell test notification"));
    assert_eq!(
        got.header("Authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    d.shot("when-away-test-delivered");

    d.click("#settings-save");
    d.until("return !document.querySelector('#settings-dialog').open");
    let settings = d.settings_file();
    let target = &settings["notifications"]["forward"][0];
    assert_eq!(target["id"], json!("phone"));
    assert_eq!(target["kind"], json!("ntfy"));
    assert_eq!(target["url"], json!(ntfy.url()));
    assert_eq!(target["topic"], json!("ann-support"));
    assert!(!settings.to_string().contains(token), "{settings}");
    assert!(!d.app_log().contains(token), "the token is never logged");

    // Why didn't I get a notification? says where reminders go now: here (nobody locked).
    d.click("#settings-button");
    d.until("return document.querySelector('#settings-dialog').open");
    d.click("#tab-diagnostics");
    let why = d.until("const w = document.querySelector('#why-away'); return w && !w.hidden ? w.textContent : null");
    assert_eq!(
        why,
        json!("Right now Chatbell counts you as at the desk: reminders play here.")
    );
}
