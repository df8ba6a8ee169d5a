//! The window's link to the resident process (Linux): the page's commands go over the local
//! socket and their answers come back; the page's reads of the store are answered here, from a
//! read-only connection of this process (SQLite's WAL lets it read beside the resident's
//! writer, with nothing copied over the socket); the resident's events, title and requests
//! arrive here and are shown through the `TauriDesktop`, as the resident in this process would
//! show them. If the resident is not running it is started, and if it dies it is started again
//! while the window says so.
//!
//! Locks here are std mutexes held for a look, an assignment or one read of the store, never
//! across an `.await`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatbell_engine::store::Reader;
use chatbell_engine::sync::lock;
use chatbell_ipc::contract::{CommandError, CommandResult, Service};
use chatbell_ipc::socket::{self, ConnectError, Receiver, Sender};
use chatbell_ipc::{Command, Role, ToResident, ToWindow, UiEvent, Welcome};
use chatbell_protocol::UserId;
use chatbell_resident::{Desktop, TrayHost};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::desktop::TauriDesktop;

/// How long a resident just started may take to answer.
const START_WITHIN: Duration = Duration::from_secs(15);

/// Where the link is.
enum Link {
    Connected(mpsc::UnboundedSender<ToResident>),
    /// Gone; being restored.
    Lost,
    /// The running resident is of another version and said no, in words.
    Refused(String),
    /// Quitting with the resident: nothing is restored.
    Quitting,
}

/// The store as this process reads it.
struct Store {
    db: PathBuf,
    /// Opened at the first read, and again after a read failed (the file may have been
    /// replaced, or not exist yet).
    reader: Option<Reader>,
    /// Who types now, as the resident's events said (the chat list shows it).
    typing: HashSet<UserId>,
}

impl Store {
    /// The read-only connection, opened if it is not.
    fn reader(&mut self) -> Result<&Reader, chatbell_engine::store::StoreError> {
        if self.reader.is_none() {
            self.reader = Some(Reader::open(&self.db)?);
        }
        Ok(self.reader.as_ref().expect("opened above"))
    }
}

pub struct Remote {
    desktop: Arc<TauriDesktop>,
    /// Start the resident with the demo (this window was started with `--demo`).
    demo: bool,
    link: Mutex<Link>,
    replies: Mutex<HashMap<u64, oneshot::Sender<CommandResult<Value>>>>,
    next_id: AtomicU64,
    store: Arc<Mutex<Store>>,
    focused: AtomicBool,
    tray_host: TrayHost,
}

impl Remote {
    /// Connects to the resident, starting it first if it is not running. A resident that
    /// cannot be reached is tried again in the background; one of another version leaves every
    /// command answering with its refusal.
    pub async fn start(desktop: Arc<TauriDesktop>, demo: bool) -> Arc<Remote> {
        let remote = Arc::new(Remote {
            desktop,
            demo,
            link: Mutex::new(Link::Lost),
            replies: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            store: Arc::new(Mutex::new(Store {
                db: PathBuf::new(),
                reader: None,
                typing: HashSet::new(),
            })),
            focused: AtomicBool::new(false),
            tray_host: TrayHost::default(),
        });
        remote.refresh_tray_host();
        match remote.reach().await {
            Ok((welcome, receiver, sender)) => remote.install(welcome, receiver, sender),
            Err(ConnectError::Refused(reason)) => {
                tracing::error!(%reason, "the resident refused this window");
                *lock(&remote.link) = Link::Refused(reason);
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot reach the resident; trying again");
                tauri::async_runtime::spawn(remote.clone().restore());
            }
        }
        remote
    }

    /// Connects to the running resident, or starts one and connects once it listens.
    async fn reach(&self) -> Result<(Welcome, Receiver, Sender), ConnectError> {
        let path = socket::socket_path();
        match socket::connect(&path, Role::Window).await {
            Err(ConnectError::NotRunning { .. }) => {}
            other => return other,
        }
        self.start_resident();
        let deadline = tokio::time::Instant::now() + START_WITHIN;
        loop {
            match socket::connect(&path, Role::Window).await {
                Err(ConnectError::NotRunning { source })
                    if tokio::time::Instant::now() < deadline =>
                {
                    tracing::debug!(error = %source, "the resident does not listen yet");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    /// Starts `chatbell --hidden` beside this program, in a process group of its own so that
    /// what ends this window (a terminal's Ctrl+C) leaves it running.
    fn start_resident(&self) {
        let exe = chatbell_resident::process::sibling("chatbell");
        let mut command = tokio::process::Command::new(&exe);
        command.arg("--hidden");
        if self.demo {
            command.arg("--demo");
        }
        command
            .stdin(std::process::Stdio::null())
            // A WebDriver session's marker: windows the resident starts later are not driven.
            .env_remove("TAURI_WEBVIEW_AUTOMATION")
            .process_group(0);
        match command.spawn() {
            Ok(mut child) => {
                tracing::info!(pid = ?child.id(), "started the resident");
                // Reaped when it ends, so no zombie is left while this window lives.
                tauri::async_runtime::spawn(async move {
                    let status = child.wait().await;
                    tracing::info!(?status, "the resident this window started exited");
                });
            }
            Err(e) => {
                tracing::error!(exe = %exe.display(), error = %e, "cannot start the resident")
            }
        }
    }

    /// A connection made: commands flow, and the resident's messages are handled until it goes.
    fn install(self: &Arc<Self>, welcome: Welcome, receiver: Receiver, sender: Sender) {
        tracing::info!(version = %welcome.version, db = %welcome.db.display(), "connected to the resident");
        self.use_database(&welcome.db);
        // Opened now, while the webview starts, rather than by the page's first read.
        let store = self.store.clone();
        tauri::async_runtime::spawn_blocking(move || {
            // A failure here is met again, and answered, by the page's first read.
            let _ = lock(&store).reader();
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(ToResident::Focus {
            focused: self.focused.load(Ordering::Relaxed),
        });
        *lock(&self.link) = Link::Connected(tx);
        tauri::async_runtime::spawn(sender.pump(rx));
        tauri::async_runtime::spawn(self.clone().listen(receiver));
    }

    async fn listen(self: Arc<Self>, mut receiver: Receiver) {
        let reason = loop {
            match receiver.recv::<ToWindow>().await {
                Ok(message) => self.handle(message),
                Err(e) => break e,
            }
        };
        {
            let mut link = lock(&self.link);
            if matches!(*link, Link::Quitting) {
                return;
            }
            *link = Link::Lost;
        }
        tracing::warn!(%reason, "the resident went away; starting it again");
        // Every command waiting for an answer hears that there will be none.
        lock(&self.replies).clear();
        self.desktop
            .emit(UiEvent::Service(Service { running: false }));
        self.restore().await;
    }

    /// Until connected again: start the resident, connect, and tell the page to reload.
    async fn restore(self: Arc<Self>) {
        let mut pause = Duration::from_millis(500);
        loop {
            match self.reach().await {
                Ok((welcome, receiver, sender)) => {
                    self.install(welcome, receiver, sender);
                    self.desktop
                        .emit(UiEvent::Service(Service { running: true }));
                    self.desktop.emit(UiEvent::Resync);
                    return;
                }
                Err(ConnectError::Refused(reason)) => {
                    tracing::error!(%reason, "the resident refused this window");
                    *lock(&self.link) = Link::Refused(reason);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, ?pause, "the resident is not back yet");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    fn handle(&self, message: ToWindow) {
        match message {
            ToWindow::Reply { id, result } => {
                if let Some(reply) = lock(&self.replies).remove(&id) {
                    let _ = reply.send(result);
                }
            }
            ToWindow::Event(event) => {
                if let UiEvent::Typing(t) = &event {
                    let mut store = lock(&self.store);
                    if t.typing {
                        store.typing.insert(t.user_id);
                    } else {
                        store.typing.remove(&t.user_id);
                    }
                }
                self.desktop.emit(event);
            }
            ToWindow::Show => {
                self.refresh_tray_host();
                self.desktop.show_window();
            }
            ToWindow::Attention => self.desktop.ask_attention(),
            ToWindow::Title { title } => self.desktop.set_title(&title),
            ToWindow::Unread { total } => self.desktop.set_badge(total),
            ToWindow::Database { db } => self.use_database(&db),
            ToWindow::Quit => {
                tracing::info!("the resident quits: closing");
                *lock(&self.link) = Link::Quitting;
                self.desktop.quit();
            }
        }
    }

    fn use_database(&self, db: &Path) {
        let mut store = lock(&self.store);
        if store.db != db {
            store.db = db.to_path_buf();
            store.reader = None;
        }
    }

    /// Carries out one of the page's commands: a read here, anything else by the resident.
    pub async fn call(&self, command: Command) -> CommandResult<Value> {
        if command.is_read() {
            let store = self.store.clone();
            return tokio::task::spawn_blocking(move || read(&mut lock(&store), &command))
                .await
                .unwrap_or_else(|e| Err(CommandError::engine(format!("reading the store: {e}"))));
        }
        let (reply, answer) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let link = lock(&self.link);
            let link = match &*link {
                Link::Connected(link) => link,
                Link::Refused(reason) => return Err(CommandError::engine(reason.clone())),
                Link::Lost | Link::Quitting => return Err(restarting()),
            };
            lock(&self.replies).insert(id, reply);
            if link.send(ToResident::Call { id, command }).is_err() {
                lock(&self.replies).remove(&id);
                return Err(restarting());
            }
        }
        answer.await.unwrap_or_else(|_| Err(restarting()))
    }

    /// The window gained or lost the keyboard focus (the open chat counts as watched only
    /// while it has it).
    pub fn focus_changed(&self, focused: bool) {
        self.focused.store(focused, Ordering::Relaxed);
        if focused {
            self.refresh_tray_host();
        }
        if let Link::Connected(link) = &*lock(&self.link) {
            let _ = link.send(ToResident::Focus { focused });
        }
    }

    pub fn tray_available(&self) -> bool {
        self.tray_host.available()
    }

    /// Asks the bus again in the background whether there is a tray, for the next close.
    fn refresh_tray_host(&self) {
        tauri::async_runtime::spawn(self.tray_host.refresh());
    }
}

fn restarting() -> CommandError {
    CommandError::engine("Chatbell's background service is restarting: try again in a moment")
}

/// One read of the store, on this process's connection.
fn read(store: &mut Store, command: &Command) -> CommandResult<Value> {
    store.reader()?;
    let Store { reader, typing, .. } = store;
    let reader = reader.as_ref().expect("opened above");
    let result = chatbell_resident::reads::on_reader(reader, command, &|u| typing.contains(&u))
        .unwrap_or_else(|| Err(CommandError::invalid("not a read of the store")));
    if matches!(result, Err(CommandError::Store { .. })) {
        store.reader = None;
    }
    result
}
