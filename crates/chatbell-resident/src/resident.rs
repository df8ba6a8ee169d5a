//! The resident: what Chatbell keeps while it lives in the tray — the running session (or why
//! it could not start), the settings' owner, what the window shows, the tray's state — and the
//! shell it shows them through (`Desktop`). Locks here are std mutexes held for a copy or an
//! assignment, never across an `.await`.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chatbell_engine::model::{Focus, SettingsSection, WaitingSummary};
use chatbell_engine::settings::organization::{self, Organization};
use chatbell_engine::settings::{Settings, SettingsOwner};
use chatbell_engine::sync::lock;
use chatbell_ipc::contract::{CommandError, CommandResult, Mode, OrganizationInfo, UiEvent};
use chatbell_protocol::UserId;
use tokio::runtime::Handle;
use tokio::sync::{Notify, watch};

use crate::desktop::Desktop;
use crate::session::{self, Session};
use crate::tray::{Menu, Picture, Tray};
use crate::tray_host::TrayHost;

/// How the app was started.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Start with the embedded simulator.
    pub demo: bool,
    /// Start in the tray, without a window (start at login).
    pub hidden: bool,
}

/// The window, as far as the engine cares.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    pub window_alive: bool,
    pub focused: bool,
    pub open_chat: Option<UserId>,
    /// A chat to open once the UI has loaded (a notification clicked while hidden).
    pub pending_open: Option<UserId>,
    /// Settings to open once the UI has loaded (a notification's "Open Settings" while hidden).
    pub pending_settings: Option<SettingsSection>,
}

/// A session that could not start: the mode it was asked for, and why.
#[derive(Debug, Clone)]
pub struct StartFailure {
    pub mode: Mode,
    pub error: CommandError,
}

/// A handle on the resident; clones share it.
#[derive(Clone)]
pub struct Resident(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) options: Options,
    desktop: Arc<dyn Desktop>,
    /// Where its tasks run: the shell may call in from a thread of its own (a toolkit's).
    runtime: Handle,
    settings: SettingsOwner<CommandError>,
    tray: Tray,
    tray_host: TrayHost,
    session: Mutex<Option<Arc<Session>>>,
    /// Why the last session asked for did not start; cleared when one starts. Kept so the
    /// window can say why (every command answers with it while there is no session) and try
    /// again in the same mode.
    start_failure: Mutex<Option<StartFailure>>,
    view: Mutex<View>,
    notice: Mutex<Option<String>>,
    /// The organization's file as last read (`prefs::follow_organization`), and whether its
    /// problem is still to be said in a window.
    organization: Mutex<(OrganizationInfo, bool)>,
    /// The window's title ("Chatbell — 3 waiting"), kept for when it is opened again.
    title: Mutex<Option<String>>,
    /// Who waits, as the engine last said: shown by `waiting`'s task.
    pub(crate) waiting: watch::Sender<WaitingSummary>,
    /// The engine failed (reported by the bridge, acted on by `switch`'s restarts).
    failed: Notify,
}

impl Resident {
    /// The resident, with the owner of its settings made by `settings` (given a way back to
    /// the resident, for applying changes). Called on the tokio runtime its tasks are to run
    /// on. `notice` is said once, at the window's first look (settings that could not be read).
    pub(crate) fn with_settings(
        options: Options,
        notice: Option<String>,
        desktop: Arc<dyn Desktop>,
        settings: impl FnOnce(
            Box<dyn Fn() -> Option<Resident> + Send + Sync>,
        ) -> SettingsOwner<CommandError>,
    ) -> Resident {
        let runtime = Handle::current();
        let inner = Arc::new_cyclic(|me: &Weak<Inner>| {
            let me = me.clone();
            Inner {
                options,
                desktop,
                runtime: runtime.clone(),
                settings: settings(Box::new(move || me.upgrade().map(Resident))),
                tray: Tray::default(),
                tray_host: TrayHost::default(),
                session: Mutex::new(None),
                start_failure: Mutex::new(None),
                view: Mutex::new(View::default()),
                notice: Mutex::new(notice),
                organization: Mutex::new((
                    OrganizationInfo::of(&Organization {
                        path: organization::path(),
                        ..Organization::default()
                    }),
                    false,
                )),
                title: Mutex::new(None),
                waiting: watch::channel(WaitingSummary::default()).0,
                failed: Notify::new(),
            }
        });
        Resident(inner)
    }

    /// Stops the session: everything received is written and the stop time recorded. Gives up
    /// after 5 s (logged).
    pub async fn shutdown(&self) {
        if let Some(session) = self.replace_session(None) {
            let stopped = tokio::time::timeout(Duration::from_secs(5), session.stop()).await;
            if stopped.is_err() {
                tracing::warn!("the engine did not stop within 5 s");
            }
        }
    }

    pub(crate) fn desktop(&self) -> &dyn Desktop {
        &*self.0.desktop
    }

    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.0.runtime.spawn(task);
    }

    pub fn title(&self) -> Option<String> {
        lock(&self.0.title).clone()
    }

    /// Sets the window's title, now if it is open and whenever it is opened.
    pub(crate) fn set_title(&self, title: &str) {
        *lock(&self.0.title) = Some(title.to_string());
        self.desktop().set_title(title);
    }

    /// The running session; without one, why it could not start (a store error keeps its
    /// reason, so the window can say what to do).
    pub fn session(&self) -> CommandResult<Arc<Session>> {
        if let Some(session) = lock(&self.0.session).clone() {
            return Ok(session);
        }
        Err(lock(&self.0.start_failure)
            .as_ref()
            .map(|f| f.error.clone())
            .unwrap_or_else(|| CommandError::engine("Chatbell is still starting")))
    }

    /// The store the session keeps (or would keep, had it started): what a window reads.
    pub fn database(&self) -> std::path::PathBuf {
        if let Ok(session) = self.session() {
            return session.engine.db_path().to_path_buf();
        }
        let mode = self.start_failure().map_or(
            if self.0.options.demo {
                Mode::Demo
            } else {
                Mode::Unconfigured
            },
            |f| f.mode,
        );
        session::db_path(mode)
    }

    /// The engine failed: its session is to be started again.
    pub(crate) fn report_failure(&self) {
        self.0.failed.notify_one();
    }

    /// Until the engine is reported failed (at once if it was since the last call).
    pub(crate) async fn engine_failed(&self) {
        self.0.failed.notified().await;
    }

    pub(crate) fn start_failure(&self) -> Option<StartFailure> {
        lock(&self.0.start_failure).clone()
    }

    pub(crate) fn set_start_failure(&self, failure: Option<StartFailure>) {
        *lock(&self.0.start_failure) = failure;
    }

    /// Installs a new session; returns the one it replaces (for the caller to stop).
    pub(crate) fn replace_session(&self, session: Option<Arc<Session>>) -> Option<Arc<Session>> {
        std::mem::replace(&mut *lock(&self.0.session), session)
    }

    /// The settings' one owner: change them through it (`prefs::update`).
    pub fn settings_owner(&self) -> &SettingsOwner<CommandError> {
        &self.0.settings
    }

    /// The settings as they are now.
    pub fn settings(&self) -> Settings {
        self.0.settings.current()
    }

    pub fn view(&self) -> View {
        *lock(&self.0.view)
    }

    pub(crate) fn update_view<T>(&self, f: impl FnOnce(&mut View) -> T) -> T {
        f(&mut lock(&self.0.view))
    }

    /// The open chat counts as watched only while the window exists and has focus.
    pub(crate) fn focus(&self) -> Focus {
        let v = self.view();
        Focus {
            window_focused: v.window_alive && v.focused,
            open_chat: v.open_chat,
        }
    }

    /// Tells the engine whether the open chat is being watched.
    pub(crate) fn refocus_engine(&self) {
        if let Ok(session) = self.session() {
            session.engine.set_focus(self.focus());
        }
    }

    /// The window opened or closed, or gained or lost the keyboard focus.
    pub fn window_changed(&self, alive: bool, focused: bool) {
        self.update_view(|v| {
            v.window_alive = alive;
            v.focused = alive && focused;
            if !alive {
                v.open_chat = None;
            }
        });
        self.refocus_engine();
    }

    /// The organization's file as last read, for a window: its problem is announced the first
    /// time a window is told of it.
    pub(crate) fn organization(&self) -> OrganizationInfo {
        let mut now = lock(&self.0.organization);
        let (info, untold) = &mut *now;
        OrganizationInfo {
            announce: std::mem::take(untold),
            ..info.clone()
        }
    }

    /// The organization's file as read now; a window is told when that changes (and a new
    /// problem announced, now or when a window next asks).
    pub(crate) fn set_organization(&self, info: OrganizationInfo) {
        let window = self.view().window_alive;
        let told = {
            let mut now = lock(&self.0.organization);
            if now.0 == info {
                return;
            }
            let fresh = info.problem.is_some();
            *now = (info.clone(), fresh && !window);
            OrganizationInfo {
                announce: fresh,
                ..info
            }
        };
        self.desktop().emit(UiEvent::Organization(told));
    }

    pub(crate) fn take_notice(&self) -> Option<String> {
        lock(&self.0.notice).take()
    }

    /// Something to say once, at the window's next look (replacing one not yet said).
    pub(crate) fn set_notice(&self, notice: String) {
        *lock(&self.0.notice) = Some(notice);
    }

    pub fn tray_available(&self) -> bool {
        self.0.tray_host.available()
    }

    pub(crate) fn set_tray_available(&self, available: bool) {
        self.0.tray_host.set(available);
    }

    /// Asks again in the background whether there is a tray, for the next close of the window.
    pub fn refresh_tray_host(&self) {
        self.spawn(self.0.tray_host.refresh());
    }

    /// The tray's picture as it is now, for a shell creating its tray.
    pub fn tray_picture(&self) -> Picture {
        self.0.tray.picture_now()
    }

    /// The tray menu's words last sent, if any were.
    pub(crate) fn tray_menu_shown(&self) -> Option<Menu> {
        self.0.tray.menu_now()
    }

    /// Changes what the tray's icon shows; drawn only if the picture changes.
    pub(crate) fn change_tray(&self, change: impl FnOnce(&mut crate::tray::Look)) {
        if let Some(picture) = self.0.tray.change(change) {
            self.desktop().draw_tray(&picture);
        }
    }

    /// New words for the tray's menu; sent only if they change.
    pub(crate) fn relabel_tray(&self, menu: Menu) {
        if let Some(menu) = self.0.tray.relabel(menu) {
            self.desktop().label_tray(&menu);
        }
    }

    /// Brings the window up (the tray's Open, a second launch).
    pub fn show_window(&self) {
        self.refresh_tray_host();
        self.desktop().show_window();
    }

    /// A notification was clicked: show the window on that chat.
    pub(crate) fn open_chat(&self, user_id: Option<UserId>) {
        if self.desktop().window_open() {
            self.show_window();
            self.desktop().emit(chatbell_ipc::UiEvent::OpenChat(
                chatbell_ipc::contract::OpenChat { user_id },
            ));
        } else {
            // The new page asks for it once it has loaded.
            self.update_view(|v| v.pending_open = user_id);
            self.show_window();
        }
    }

    /// A notification asked for Settings (the token was refused): show the window there.
    pub(crate) fn open_settings(&self, section: SettingsSection) {
        if self.desktop().window_open() {
            self.show_window();
            self.desktop().emit(chatbell_ipc::UiEvent::OpenSettings(
                chatbell_ipc::contract::OpenSettings { section },
            ));
        } else {
            // The new page asks for it once it has loaded.
            self.update_view(|v| v.pending_settings = Some(section));
            self.show_window();
        }
    }
}
