//! The resident's desktop when the window lives in a process of its own (Linux): the tray is
//! drawn here, without a toolkit (`sni`), and the window's part goes over the local socket to
//! the window process (`chatbell-window`), which is started when the window is wanted and
//! ends when it is closed, so every byte of WebKit goes with it.
//!
//! Locks here are std mutexes held for a look or an assignment, never across an `.await`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chatbell_engine::sync::lock;
use chatbell_ipc::socket::{Receiver, Sender};
use chatbell_ipc::{ToResident, ToWindow, UiEvent};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::desktop::Desktop;
use crate::resident::Resident;
use crate::sni::Sni;
use crate::tray::{Action, Menu, Picture};

/// Where the window is.
enum Window {
    Closed,
    /// Its process was started then and has not connected yet: asking again starts no second
    /// one, unless it has taken longer than `START_WITHIN` (hung: the agent gets a window).
    Starting(Instant),
    /// Connected: what to send it.
    Open(mpsc::UnboundedSender<ToWindow>),
}

/// A change for the tray, applied in order by the one task that owns it.
enum TrayChange {
    Draw(Picture),
    Label(Menu),
}

pub struct Split {
    window: Mutex<Window>,
    /// The program started for the window.
    window_exe: PathBuf,
    tray: mpsc::UnboundedSender<TrayChange>,
    tray_changes: Mutex<Option<mpsc::UnboundedReceiver<TrayChange>>>,
    quit: Arc<Notify>,
}

/// How long a window process may take to connect before another is started.
const START_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

impl Split {
    /// `window_exe` is started whenever the window is wanted and none is open; `quit` is
    /// notified when the agent chooses Quit.
    pub fn new(window_exe: PathBuf, quit: Arc<Notify>) -> Arc<Split> {
        let (tray, changes) = mpsc::unbounded_channel();
        Arc::new(Split {
            window: Mutex::new(Window::Closed),
            window_exe,
            tray,
            tray_changes: Mutex::new(Some(changes)),
            quit,
        })
    }

    /// Sends the window a message if one is connected.
    fn tell(&self, message: ToWindow) -> bool {
        match &*lock(&self.window) {
            Window::Open(window) => window.send(message).is_ok(),
            _ => false,
        }
    }

    /// Starts the window's process (the caller has marked it `Starting`); the window shows
    /// itself once it has connected.
    fn start_window(self: &Arc<Self>, since: Instant) {
        let mut command = tokio::process::Command::new(&self.window_exe);
        command.stdin(std::process::Stdio::null());
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                tracing::error!(exe = %self.window_exe.display(), error = %e, "cannot start the window");
                *lock(&self.window) = Window::Closed;
                return;
            }
        };
        tracing::info!(pid = ?child.id(), "window process started");
        let me = self.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            tracing::info!(?status, "window process exited");
            let mut window = lock(&me.window);
            // Gone before it connected (it failed to start): the next Open starts another.
            if matches!(*window, Window::Starting(at) if at == since) {
                *window = Window::Closed;
            }
        });
    }

    /// Puts the tray on the session bus showing what `resident` shows, and applies every change
    /// from then on; the agent's choices go to `resident`. Without a bus the tray is logged
    /// as missing and the rest runs on.
    pub async fn show_tray(self: &Arc<Self>, resident: &Resident) {
        let Some(mut changes) = lock(&self.tray_changes).take() else {
            return;
        };
        let (actions, mut chosen) = mpsc::unbounded_channel::<Action>();
        let sni = match Sni::spawn(resident.tray_picture(), resident.tray_menu(), actions).await {
            Ok(sni) => sni,
            Err(e) => {
                tracing::error!(error = %e, "cannot put the tray icon on the session bus");
                return;
            }
        };
        let on_choice = resident.clone();
        tokio::spawn(async move {
            while let Some(action) = chosen.recv().await {
                on_choice.tray_action(action);
            }
        });
        tokio::spawn(async move {
            while let Some(change) = changes.recv().await {
                match change {
                    TrayChange::Draw(picture) => sni.draw(picture).await,
                    TrayChange::Label(menu) => sni.label(menu).await,
                }
            }
        });
    }
}

impl Desktop for Arc<Split> {
    fn emit(&self, event: UiEvent) {
        self.tell(ToWindow::Event(event));
    }

    fn window_open(&self) -> bool {
        matches!(*lock(&self.window), Window::Open(_))
    }

    fn show_window(&self) {
        let now = Instant::now();
        let start = {
            let mut window = lock(&self.window);
            match &*window {
                Window::Open(open) => {
                    let _ = open.send(ToWindow::Show);
                    false
                }
                Window::Starting(since) if since.elapsed() < START_WITHIN => false,
                // Marked in the same look, so two asks at once start one window.
                Window::Starting(_) | Window::Closed => {
                    *window = Window::Starting(now);
                    true
                }
            }
        };
        if start {
            self.start_window(now);
        }
    }

    fn set_title(&self, title: &str) {
        self.tell(ToWindow::Title {
            title: title.into(),
        });
    }

    fn ask_attention(&self) {
        self.tell(ToWindow::Attention);
    }

    fn draw_tray(&self, picture: &Picture) {
        self.tell(ToWindow::Unread {
            total: picture.look.unread,
        });
        let _ = self.tray.send(TrayChange::Draw(picture.clone()));
    }

    fn label_tray(&self, menu: &Menu) {
        let _ = self.tray.send(TrayChange::Label(menu.clone()));
    }

    fn database(&self, db: &Path) {
        self.tell(ToWindow::Database { db: db.into() });
    }

    fn quit(&self) {
        self.tell(ToWindow::Quit);
        self.quit.notify_one();
    }
}

/// The window process, connected: its commands carried out, everything for it sent, until it
/// goes (closed, crashed or killed).
pub async fn window(
    mut receiver: Receiver,
    mut sender: Sender,
    resident: Resident,
    split: Arc<Split>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let second = {
        let mut window = lock(&split.window);
        match &*window {
            Window::Open(open) => Some(open.clone()),
            _ => {
                *window = Window::Open(tx.clone());
                None
            }
        }
    };
    if let Some(open) = second {
        // One window: the one open comes up, the newcomer closes.
        let _ = open.send(ToWindow::Show);
        let _ = sender.send(&ToWindow::Quit).await;
        tracing::info!("a second window process was told to close");
        return;
    }
    tracing::info!("window connected");
    if let Some(title) = resident.title() {
        let _ = tx.send(ToWindow::Title { title });
    }
    let _ = tx.send(ToWindow::Unread {
        total: resident.tray_picture().look.unread,
    });
    resident.window_changed(true, false);
    let writer = tokio::spawn(sender.pump(rx));
    loop {
        match receiver.recv::<ToResident>().await {
            Ok(ToResident::Call { id, command }) => {
                let (resident, tx) = (resident.clone(), tx.clone());
                tokio::spawn(async move {
                    let result = resident.call(command).await;
                    let _ = tx.send(ToWindow::Reply { id, result });
                });
            }
            Ok(ToResident::Focus { focused }) => resident.window_changed(true, focused),
            Ok(ToResident::Open) => resident.show_window(),
            Err(e) => {
                tracing::info!(reason = %e, "window gone");
                break;
            }
        }
    }
    {
        let mut window = lock(&split.window);
        if matches!(&*window, Window::Open(open) if open.same_channel(&tx)) {
            *window = Window::Closed;
        }
    }
    writer.abort();
    resident.window_changed(false, false);
}
