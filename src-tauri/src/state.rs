//! What the shell keeps between commands: the running session (or why it could not start), the
//! settings, and what the window shows. Locks here are std mutexes held for a copy or an
//! assignment, never across an `.await`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use chatbell_engine::model::{Focus, SettingsSection};
use chatbell_engine::settings::{Settings, SettingsOwner};
use chatbell_ipc::contract::{CommandError, CommandResult, Mode};
use chatbell_protocol::UserId;

use crate::session::Session;

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

pub struct AppState {
    pub options: Options,
    tray_available: AtomicBool,
    session: Mutex<Option<Arc<Session>>>,
    /// Why the last session asked for did not start; cleared when one starts. Kept so the
    /// window can say why (every command answers with it while there is no session) and try
    /// again in the same mode.
    start_failure: Mutex<Option<StartFailure>>,
    /// Set once the app runs (its owner applies changes through the app).
    settings: OnceLock<SettingsOwner<CommandError>>,
    view: Mutex<View>,
    notice: Mutex<Option<String>>,
    /// The window's title ("Chatbell — 3 waiting"), kept for when it is created again.
    title: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a copy or an assignment: a poisoned value is still whole.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    pub fn new(options: Options, notice: Option<String>) -> Self {
        AppState {
            options,
            tray_available: AtomicBool::new(true),
            session: Mutex::new(None),
            start_failure: Mutex::new(None),
            settings: OnceLock::new(),
            view: Mutex::new(View::default()),
            notice: Mutex::new(notice),
            title: Mutex::new(None),
        }
    }

    pub fn title(&self) -> Option<String> {
        lock(&self.title).clone()
    }

    pub fn set_title(&self, title: &str) {
        *lock(&self.title) = Some(title.to_string());
    }

    /// The running session; without one, why it could not start (a store error keeps its
    /// reason, so the window can say what to do).
    pub fn session(&self) -> CommandResult<Arc<Session>> {
        if let Some(session) = lock(&self.session).clone() {
            return Ok(session);
        }
        Err(lock(&self.start_failure)
            .as_ref()
            .map(|f| f.error.clone())
            .unwrap_or_else(|| CommandError::engine("Chatbell is still starting")))
    }

    pub fn start_failure(&self) -> Option<StartFailure> {
        lock(&self.start_failure).clone()
    }

    pub fn set_start_failure(&self, failure: Option<StartFailure>) {
        *lock(&self.start_failure) = failure;
    }

    /// Installs a new session; returns the one it replaces (for the caller to stop).
    pub fn replace_session(&self, session: Option<Arc<Session>>) -> Option<Arc<Session>> {
        std::mem::replace(&mut *lock(&self.session), session)
    }

    /// The settings' one owner: change them through it (`prefs::update`).
    pub fn settings_owner(&self) -> &SettingsOwner<CommandError> {
        self.settings
            .get()
            .expect("the settings' owner starts before anything reads them")
    }

    pub fn set_settings_owner(&self, owner: SettingsOwner<CommandError>) {
        if self.settings.set(owner).is_err() {
            tracing::error!("the settings' owner was started twice; the first one stays");
        }
    }

    /// The settings as they are now.
    pub fn settings(&self) -> Settings {
        self.settings_owner().current()
    }

    pub fn view(&self) -> View {
        *lock(&self.view)
    }

    pub fn update_view<T>(&self, f: impl FnOnce(&mut View) -> T) -> T {
        f(&mut lock(&self.view))
    }

    /// The open chat counts as watched only while the window exists and has focus.
    pub fn focus(&self) -> Focus {
        let v = self.view();
        Focus {
            window_focused: v.window_alive && v.focused,
            open_chat: v.open_chat,
        }
    }

    pub fn take_notice(&self) -> Option<String> {
        lock(&self.notice).take()
    }

    /// Something to say once, at the window's next look (replacing one not yet said).
    pub fn set_notice(&self, notice: String) {
        *lock(&self.notice) = Some(notice);
    }

    pub fn tray_available(&self) -> bool {
        self.tray_available.load(Ordering::Relaxed)
    }

    pub fn set_tray_available(&self, available: bool) {
        self.tray_available.store(available, Ordering::Relaxed);
    }
}
