//! The engine: wires the connection, the writer thread, the notifier service and the readers,
//! and is the one handle the app and the CLI hold.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatbell_protocol::UserId;
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, SystemClock};
use crate::coalesce::{CoalesceConfig, Coalescer};
use crate::connection::{ConnCmd, Connection, ConnectionTuning, Inbound, ServerConfig};
use crate::model::{
    ChatSummary, ConnState, EngineEvent, Focus, HistoryPage, Outcome, SearchHit, Seq,
    SuppressReason,
};
use crate::notifier::text::Lang;
use crate::notifier::{Notifier, NotifyError, NotifyService, ServiceMsg};
use crate::outbox::Outbox;
use crate::settings::NotificationSettings;
use crate::store::{EngineLock, Reader, Removed, StoreCounts, StoreError};
use crate::typing::Typing;
use crate::writer::{WriterExit, WriterLoop, WriterShared, supervised};

/// Everything the engine needs to start.
pub struct EngineConfig {
    pub db_path: PathBuf,
    pub server: Option<ServerConfig>,
    pub subscriptions: Vec<UserId>,
    pub notifications: NotificationSettings,
    pub lang: Lang,
    pub retention_days: Option<u32>,
    pub tuning: ConnectionTuning,
    pub coalesce: CoalesceConfig,
}

impl EngineConfig {
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        EngineConfig {
            db_path: db_path.into(),
            server: None,
            subscriptions: Vec::new(),
            notifications: NotificationSettings::default(),
            lang: Lang::En,
            retention_days: None,
            tuning: ConnectionTuning::default(),
            coalesce: CoalesceConfig::default(),
        }
    }
}

/// Frames (and commands) queued for the writer before the connection stops reading.
pub const WRITER_QUEUE: usize = 8192;

pub(crate) enum WriterMsg {
    Inbound(Inbound),
    MarkRead {
        user_id: UserId,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    Focus(Focus),
    Policy(NotificationSettings),
    Retention {
        days: u32,
        reply: oneshot::Sender<Result<Removed, StoreError>>,
    },
    Shutdown,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the engine has stopped")]
    Stopped,
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

/// What the test-notification button learns.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TestReport {
    /// Whether the notification server accepted the sample.
    pub shown: bool,
    pub error: Option<String>,
    /// Settings that would hold back real notifications right now.
    pub held_back_by: Vec<SuppressReason>,
}

pub struct Engine {
    db_path: PathBuf,
    outbox: Outbox,
    state: watch::Receiver<ConnState>,
    conn_tx: mpsc::Sender<ConnCmd>,
    writer_tx: mpsc::Sender<WriterMsg>,
    notify_tx: Option<mpsc::Sender<ServiceMsg>>,
    reader: Arc<Mutex<Reader>>,
    typing: Arc<Mutex<Typing>>,
    clock: Arc<dyn Clock>,
    settings: Arc<Mutex<NotificationSettings>>,
    cancel: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<WriterExit>>>,
    /// Released when the engine closes, so a new engine may open the file at once.
    lock: Mutex<Option<EngineLock>>,
}

impl Engine {
    /// Opens the store (creating or migrating it), then starts connecting. Must be called
    /// inside a tokio runtime. With `notifier: None` decisions are still made and published,
    /// but nothing is shown.
    pub async fn start(
        config: EngineConfig,
        notifier: Option<Box<dyn Notifier>>,
    ) -> Result<Engine, EngineError> {
        Self::start_with_clock(config, notifier, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(
        config: EngineConfig,
        notifier: Option<Box<dyn Notifier>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, EngineError> {
        let lock = EngineLock::acquire(&config.db_path)?;
        let db_path = config.db_path.clone();
        let (writer, reader) = {
            let path = db_path.clone();
            tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
                let writer = crate::store::Writer::open(&path)?;
                let reader = Reader::open(&path)?;
                Ok((writer, reader))
            })
            .await
            .map_err(|_| EngineError::Stopped)??
        };
        let outbox = Outbox::new();
        let cancel = CancellationToken::new();
        let typing = Arc::new(Mutex::new(Typing::default()));
        let typing_changed = Arc::new(Notify::new());
        let settings = Arc::new(Mutex::new(config.notifications.clone()));
        let (writer_tx, writer_rx) = mpsc::channel(WRITER_QUEUE);
        let (conn_tx, conn_rx) = mpsc::channel(64);
        let initial = if config.server.is_some() {
            ConnState::Connecting { attempt: 0 }
        } else {
            ConnState::NotConfigured
        };
        let (state_tx, state) = watch::channel(initial);
        let mut tasks = Vec::new();

        let notify_tx = notifier.map(|notifier| {
            let (tx, rx) = mpsc::channel(1024);
            let service = NotifyService::new(
                notifier,
                Coalescer::new(config.coalesce),
                config.lang,
                config.notifications.privacy,
                outbox.clone(),
                clock.clone(),
            );
            tasks.push(tokio::spawn(service.run(rx)));
            tx
        });

        let shared = WriterShared {
            outbox: outbox.clone(),
            typing: typing.clone(),
            typing_changed: typing_changed.clone(),
            notify: notify_tx.clone(),
            clock: clock.clone(),
            stopping: cancel.clone(),
        };
        let writer_loop = WriterLoop::new(writer, shared, config.notifications.clone(), writer_rx);
        let writer_outbox = outbox.clone();
        let writer_thread = std::thread::Builder::new()
            .name("chatbell-writer".into())
            .spawn(move || supervised(|| writer_loop.run(), &writer_outbox))
            .map_err(|_| EngineError::Stopped)?;

        tasks.push(tokio::spawn(expire_typing(
            typing.clone(),
            typing_changed,
            outbox.clone(),
            clock.clone(),
            cancel.clone(),
        )));
        tasks.push(tokio::spawn(forward_state(state.clone(), outbox.clone())));

        let connection = Connection {
            server: config.server,
            subscriptions: config.subscriptions.into_iter().collect::<BTreeSet<_>>(),
            tuning: config.tuning,
            clock: clock.clone(),
            cmds: conn_rx,
            inbound: writer_tx.clone(),
            state: state_tx,
            cancel: cancel.clone(),
        };
        tasks.push(tokio::spawn(connection.run()));

        let engine = Engine {
            db_path,
            outbox,
            state,
            conn_tx,
            writer_tx,
            notify_tx,
            reader: Arc::new(Mutex::new(reader)),
            typing,
            clock,
            settings,
            cancel,
            tasks: Mutex::new(tasks),
            writer_thread: Mutex::new(Some(writer_thread)),
            lock: Mutex::new(Some(lock)),
        };
        if let Some(days) = config.retention_days {
            // At start, then whenever settings change; a daily pass is the app's to schedule.
            let _ = engine.apply_retention(days).await;
        }
        Ok(engine)
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Every event from now on. A subscriber that falls more than `EVENT_BUFFER` events
    /// behind gets `RecvError::Lagged` and should reload its views from the store.
    pub fn events(&self) -> broadcast::Receiver<EngineEvent> {
        self.outbox.subscribe()
    }

    pub fn state(&self) -> watch::Receiver<ConnState> {
        self.state.clone()
    }

    /// The latest notification decisions and deliveries, oldest first.
    pub fn recent_decisions(&self) -> Vec<crate::model::Diagnostic> {
        self.outbox.recent()
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Reader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let reader = reader.lock().unwrap_or_else(|p| p.into_inner());
            f(&reader)
        })
        .await
        .map_err(|_| EngineError::Stopped)?
        .map_err(EngineError::from)
    }

    fn typing_fn(&self) -> impl Fn(UserId) -> bool + Send + 'static {
        let typing = self.typing.clone();
        let clock = self.clock.clone();
        move |user| {
            typing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_typing(user, clock.mono())
        }
    }

    /// Chats by last activity, newest first.
    pub async fn chats(&self, limit: u32, offset: u32) -> Result<Vec<ChatSummary>, EngineError> {
        let typing = self.typing_fn();
        self.read(move |r| r.chats(limit, offset, &typing)).await
    }

    pub async fn chat(&self, user_id: UserId) -> Result<Option<ChatSummary>, EngineError> {
        let typing = self.typing_fn();
        self.read(move |r| r.chat(user_id, &typing)).await
    }

    pub async fn history(
        &self,
        user_id: UserId,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<HistoryPage, EngineError> {
        self.read(move |r| r.history(user_id, before, limit)).await
    }

    pub async fn search(&self, query: String, limit: u32) -> Result<Vec<SearchHit>, EngineError> {
        self.read(move |r| r.search(&query, limit)).await
    }

    pub async fn unread_total(&self) -> Result<u64, EngineError> {
        self.read(|r| r.unread_total()).await
    }

    /// Row counts (scans every table: for diagnostics, not for polling).
    pub async fn counts(&self) -> Result<StoreCounts, EngineError> {
        self.read(|r| r.counts()).await
    }

    /// How many frames the raw log holds, cheaply (the newest row id).
    pub async fn frames_stored(&self) -> Result<u64, EngineError> {
        self.read(|r| r.frames_stored()).await
    }

    /// The agent has seen this chat: unread to zero (persisted) and its notification closed.
    pub async fn mark_read(&self, user_id: UserId) -> Result<u64, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.writer_tx
            .send(WriterMsg::MarkRead { user_id, reply })
            .await
            .map_err(|_| EngineError::Stopped)?;
        let total = answer.await.map_err(|_| EngineError::Stopped)??;
        if let Some(tx) = &self.notify_tx {
            let _ = tx.try_send(ServiceMsg::Dismiss(user_id));
        }
        self.outbox.send(EngineEvent::ChatRead {
            user_id,
            unread_total: total,
        });
        Ok(total)
    }

    /// What the UI shows and whether its window has focus.
    pub fn set_focus(&self, focus: Focus) {
        let _ = self.writer_tx.try_send(WriterMsg::Focus(focus));
    }

    pub fn subscribe(&self, user_id: UserId) {
        let _ = self.conn_tx.try_send(ConnCmd::Subscribe(user_id));
    }

    pub fn unsubscribe(&self, user_id: UserId) {
        let _ = self.conn_tx.try_send(ConnCmd::Unsubscribe(user_id));
    }

    /// New server settings: reconnects if they differ.
    pub async fn set_server(&self, server: Option<ServerConfig>) {
        let _ = self.conn_tx.send(ConnCmd::SetServer(server)).await;
    }

    /// Skips the remaining backoff (the "retry now" button, or a token just fixed).
    pub async fn reconnect_now(&self) {
        let _ = self.conn_tx.send(ConnCmd::ReconnectNow).await;
    }

    pub async fn set_notifications(&self, settings: NotificationSettings, lang: Lang) {
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings.clone();
        if let Some(tx) = &self.notify_tx {
            let _ = tx
                .send(ServiceMsg::Prefs {
                    lang,
                    privacy: settings.privacy,
                })
                .await;
        }
        let _ = self.writer_tx.send(WriterMsg::Policy(settings)).await;
    }

    /// Deletes what is older than `days` and compacts the file.
    pub async fn apply_retention(&self, days: u32) -> Result<Removed, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.writer_tx
            .send(WriterMsg::Retention { days, reply })
            .await
            .map_err(|_| EngineError::Stopped)?;
        Ok(answer.await.map_err(|_| EngineError::Stopped)??)
    }

    /// Shows a sample notification and says what, if anything, holds real ones back.
    pub async fn test_notification(&self) -> TestReport {
        let settings = self
            .settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let kind = crate::model::NotifyKind::NewMessage;
        let outcome = crate::policy::decide(
            kind,
            0,
            false,
            &settings,
            Focus::default(),
            self.clock.utc(),
            self.clock.local_time(),
        );
        let held_back_by = match outcome {
            Outcome::Suppressed { reason } => vec![reason],
            Outcome::Allowed => Vec::new(),
        };
        let Some(tx) = &self.notify_tx else {
            return TestReport {
                shown: false,
                error: Some("notifications are not available in this process".into()),
                held_back_by,
            };
        };
        let (reply, answer) = oneshot::channel();
        if tx.send(ServiceMsg::Test { reply }).await.is_err() {
            return TestReport {
                shown: false,
                error: Some("the notifier has stopped".into()),
                held_back_by,
            };
        }
        match answer.await {
            Ok(Ok(())) => TestReport {
                shown: true,
                error: None,
                held_back_by,
            },
            Ok(Err(e)) => TestReport {
                shown: false,
                error: Some(e.to_string()),
                held_back_by,
            },
            Err(_) => TestReport {
                shown: false,
                error: Some("the notifier has stopped".into()),
                held_back_by,
            },
        }
    }

    /// Stops listening, writes everything received, records where listening stopped, and
    /// closes the store. Nothing received is lost — unless the store refuses it (a full
    /// disk): then stopping still ends within [`STOP_WITHIN`], and the report says how many
    /// frames were not stored and why.
    pub async fn shutdown(self) -> ShutdownReport {
        self.close().await
    }

    /// [`Engine::shutdown`] through a shared handle: afterwards every call answers
    /// `EngineError::Stopped`. Closing twice is harmless.
    pub async fn close(&self) -> ShutdownReport {
        let deadline = tokio::time::Instant::now() + STOP_WITHIN;
        self.cancel.cancel();
        let mut tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        // The connection task is last: it sends its final Disconnected to the writer.
        if let Some(connection) = tasks.pop() {
            let _ = tokio::time::timeout(Duration::from_secs(3), connection).await;
        }
        let mut report = ShutdownReport::default();
        if tokio::time::timeout_at(deadline, self.writer_tx.send(WriterMsg::Shutdown))
            .await
            .is_err()
        {
            report.error = Some("the store writer did not stop in time".into());
        }
        let thread = self
            .writer_thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(thread) = thread {
            let join = tokio::task::spawn_blocking(move || thread.join());
            match tokio::time::timeout_at(deadline, join).await {
                Ok(Ok(Ok(exit))) => {
                    report.unwritten = exit.unwritten;
                    report.error = report.error.or(exit.error);
                }
                Ok(_) => report.error = Some("the store writer crashed".into()),
                Err(_) => {
                    report.error = Some("the store writer did not stop in time".into());
                }
            }
        }
        for task in tasks {
            task.abort();
        }
        self.lock.lock().unwrap_or_else(|p| p.into_inner()).take();
        report
    }
}

/// How long stopping may take at most, even with a store that refuses every write.
pub const STOP_WITHIN: Duration = Duration::from_secs(5);

/// What [`Engine::shutdown`] could not do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Frames received but not stored (the store refused them while stopping).
    pub unwritten: usize,
    /// Why the store did not take everything, if it did not.
    pub error: Option<String>,
}

impl ShutdownReport {
    pub fn is_clean(&self) -> bool {
        self.unwritten == 0 && self.error.is_none()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.cancel.cancel();
        for task in self
            .tasks
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            task.abort();
        }
        let _ = self.writer_tx.try_send(WriterMsg::Shutdown);
    }
}

/// Turns typing indicators off when they run out.
async fn expire_typing(
    typing: Arc<Mutex<Typing>>,
    changed: Arc<Notify>,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
) {
    loop {
        let next = typing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_expiry();
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = changed.notified() => continue,
            _ = async { match next { Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await, None => std::future::pending().await } } => {}
        }
        let expired = typing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .expire(clock.mono());
        for user_id in expired {
            outbox.send(EngineEvent::Typing {
                user_id,
                typing: false,
            });
        }
    }
}

async fn forward_state(mut state: watch::Receiver<ConnState>, outbox: Outbox) {
    let mut last = None;
    loop {
        let current = state.borrow_and_update().clone();
        // The watch wakes on every send, also of the same state (the first connect attempt
        // is announced at start and again by the connection): tell subscribers once.
        if last.as_ref() != Some(&current) {
            outbox.send(EngineEvent::Connection(current.clone()));
            last = Some(current);
        }
        if state.changed().await.is_err() {
            return;
        }
    }
}
