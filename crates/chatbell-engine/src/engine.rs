//! The engine: wires the connection, the writer thread, the notifier service and the readers,
//! and is the one handle the app and the CLI hold.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatbell_protocol::UserId;
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use chrono::{DateTime, Utc};

use crate::alert_test::{AlertTest, NotificationCheck, SoundCheck};
use crate::clock::{Clock, SystemClock};
use crate::coalesce::{CoalesceConfig, Coalescer};
use crate::connection::{ConnCmd, Connection, ConnectionTuning, ServerConfig};
use crate::escalation::Escalator;
use crate::model::{
    ChatOrder, ChatSummary, ConnState, EngineEvent, Focus, HistoryPage, SearchHit, Seq,
    WaitingSummary,
};
use crate::notifier::text::Lang;
use crate::notifier::{
    Action, Notifier, NotifyError, NotifyService, ServiceMsg, SoundSetup, TestShown,
};
use crate::outage;
use crate::outbox::Outbox;
use crate::secret::Secret;
use crate::settings::{NotificationSettings, Settings, SoundSettings};
use crate::sound::{AudioStatus, PlayReport, Player, SoundError, Tone};
use crate::store::{EngineLock, Reader, Removed, StoreCounts, StoreError};
use crate::typing::Typing;
use crate::web_panel::{ChatFields, WebPanel};
use crate::writer::{WriterExit, WriterLoop, WriterMsg, WriterShared, supervised};

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
    /// The service's web panel, for the notifications' "Open in web panel".
    pub web_panel: Option<WebPanel>,
    /// Play Chatbell's own sounds on the audio device (else the notification server is asked
    /// for its sound). Off unless asked for: tests and tools leave the audio device alone.
    pub audio: bool,
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
            web_panel: None,
            audio: false,
        }
    }

    /// The engine as the agent's settings describe it: the server (with `token`, which lives in
    /// the keychain, not in the settings) and its subscriptions, notifications, language,
    /// retention and the web panel link. The one mapping from settings to an engine: the app,
    /// `chatbell-cli listen` and the benchmarks start from it and change only what they
    /// override (a demo server, flags). Chatbell's own sounds are on: the settings say when
    /// they play.
    pub fn from_settings(
        db_path: impl Into<PathBuf>,
        settings: &Settings,
        token: Option<Secret>,
    ) -> Self {
        EngineConfig {
            server: crate::server_config(&settings.server, token),
            subscriptions: settings.server.subscriptions.clone(),
            notifications: settings.notifications.clone(),
            lang: crate::notification_lang(settings.ui.language),
            retention_days: settings.store.retention_days,
            web_panel: settings.server.web_panel(),
            audio: true,
            ..EngineConfig::new(db_path)
        }
    }
}

/// How long the start waits for the audio device to say whether it is there.
const PROBE_WITHIN: Duration = Duration::from_millis(500);

/// Frames (and commands) queued for the writer before the connection stops reading.
pub const WRITER_QUEUE: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the engine has stopped")]
    Stopped,
    #[error("there is no chat with user id {0}")]
    NoSuchChat(UserId),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Sound(#[from] SoundError),
}

pub struct Engine {
    db_path: PathBuf,
    ops: Ops,
    player: Option<Player>,
    received: Arc<AtomicU64>,
    state: watch::Receiver<ConnState>,
    waiting: watch::Receiver<WaitingSummary>,
    conn_tx: mpsc::Sender<ConnCmd>,
    typing: Arc<Mutex<Typing>>,
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
        // Started first: the device is asked whether it is there while the store opens.
        let (player, probed) = match config.audio {
            true => match Player::start(clock.clone()) {
                Ok((player, probed)) => (Some(player), Some(probed)),
                Err(e) => {
                    tracing::warn!(error = %e, "no thread for sounds: the notification server's sound is used");
                    (None, None)
                }
            },
            false => (None, None),
        };
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
        if let Some(probed) = probed {
            // So the first alert knows whether our sound or the server's plays; a sound server
            // that hangs costs the start this much at most (sounds then count as not working).
            let _ = tokio::time::timeout(PROBE_WITHIN, probed).await;
        }
        let outbox = Outbox::new();
        let cancel = CancellationToken::new();
        let typing = Arc::new(Mutex::new(Typing::default()));
        let typing_changed = Arc::new(Notify::new());
        let waiting_changed = Arc::new(Notify::new());
        let (settings_tx, settings_rx) = watch::channel(config.notifications.clone());
        let (writer_tx, writer_rx) = mpsc::channel(WRITER_QUEUE);
        let (conn_tx, conn_rx) = mpsc::channel(64);
        let initial = if config.server.is_some() {
            ConnState::Connecting { attempt: 0 }
        } else {
            ConnState::NotConfigured
        };
        let (state_tx, state) = watch::channel(initial);
        let mut tasks = Vec::new();

        let (actions_tx, actions_rx) = mpsc::channel(64);
        let notify_tx = notifier.map(|notifier| {
            let (tx, rx) = mpsc::channel(1024);
            let mut service = NotifyService::new(
                notifier,
                Coalescer::new(config.coalesce),
                config.lang,
                config.notifications.privacy,
                outbox.clone(),
                clock.clone(),
                actions_tx,
            );
            service.set_web_panel(config.web_panel.is_some());
            service.set_sounds(SoundSetup {
                player: player.clone(),
                sound: config.notifications.sound,
                sounds: config.notifications.sounds,
            });
            tasks.push(tokio::spawn(service.run(rx)));
            tx
        });

        let reader = Arc::new(Mutex::new(reader));
        let ops = Ops {
            writer_tx: writer_tx.clone(),
            notify_tx: notify_tx.clone(),
            outbox: outbox.clone(),
            reader: reader.clone(),
            clock: clock.clone(),
            settings: settings_tx,
            web_panel: Arc::new(Mutex::new(config.web_panel)),
        };
        tasks.push(tokio::spawn(run_actions(ops.clone(), actions_rx)));

        let shared = WriterShared {
            outbox: outbox.clone(),
            typing: typing.clone(),
            typing_changed: typing_changed.clone(),
            notify: notify_tx.clone(),
            clock: clock.clone(),
            runtime: tokio::runtime::Handle::current(),
            stopping: cancel.clone(),
            waiting_changed: waiting_changed.clone(),
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
        let outage_tx = notify_tx.clone();
        tasks.push(tokio::spawn(outage::run(
            state.clone(),
            settings_rx.clone(),
            clock.clone(),
            move |notice| {
                if let Some(tx) = &outage_tx
                    && tx.try_send(ServiceMsg::Outage(notice)).is_err()
                {
                    tracing::warn!(
                        ?notice,
                        "the connection warning was dropped: the notifier is busy"
                    );
                }
            },
            cancel.clone(),
        )));
        let (summary_tx, waiting) = watch::channel(WaitingSummary::default());
        let escalator = Escalator {
            reader,
            outbox: outbox.clone(),
            clock: clock.clone(),
            notify: notify_tx,
            changed: waiting_changed,
            settings: settings_rx,
            summary: summary_tx,
            cancel: cancel.clone(),
        };
        tasks.push(tokio::spawn(escalator.run()));

        let received = Arc::new(AtomicU64::new(0));
        let connection = Connection {
            server: config.server,
            subscriptions: config.subscriptions.into_iter().collect::<BTreeSet<_>>(),
            tuning: config.tuning,
            clock: clock.clone(),
            cmds: conn_rx,
            inbound: writer_tx,
            state: state_tx,
            cancel: cancel.clone(),
            received: received.clone(),
        };
        // Last: closing waits for it to hand its final disconnect to the writer.
        tasks.push(tokio::spawn(connection.run()));

        let engine = Engine {
            db_path,
            ops,
            player,
            received,
            state,
            waiting,
            conn_tx,
            typing,
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
        self.ops.outbox.subscribe()
    }

    pub fn state(&self) -> watch::Receiver<ConnState> {
        self.state.clone()
    }

    /// The latest notification decisions and deliveries, oldest first.
    pub fn recent_decisions(&self) -> Vec<crate::model::Diagnostic> {
        self.ops.outbox.recent()
    }

    fn typing_fn(&self) -> impl Fn(UserId) -> bool + Send + 'static {
        let typing = self.typing.clone();
        let clock = self.ops.clock.clone();
        move |user| {
            typing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_typing(user, clock.mono())
        }
    }

    /// Chats by last activity, newest first.
    pub async fn chats(&self, limit: u32, offset: u32) -> Result<Vec<ChatSummary>, EngineError> {
        self.chats_by(ChatOrder::Activity, limit, offset).await
    }

    /// Chats in the given order (the longest wait first, or the newest activity).
    pub async fn chats_by(
        &self,
        order: ChatOrder,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ChatSummary>, EngineError> {
        let typing = self.typing_fn();
        self.ops
            .read(move |r| r.chats_by(order, limit, offset, &typing))
            .await
    }

    pub async fn chat(&self, user_id: UserId) -> Result<Option<ChatSummary>, EngineError> {
        let typing = self.typing_fn();
        self.ops.read(move |r| r.chat(user_id, &typing)).await
    }

    pub async fn history(
        &self,
        user_id: UserId,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<HistoryPage, EngineError> {
        self.ops
            .read(move |r| r.history(user_id, before, limit))
            .await
    }

    pub async fn search(&self, query: String, limit: u32) -> Result<Vec<SearchHit>, EngineError> {
        self.ops.read(move |r| r.search(&query, limit)).await
    }

    pub async fn unread_total(&self) -> Result<u64, EngineError> {
        self.ops.read(|r| r.unread_total()).await
    }

    /// Who is waiting, as last told by a `Waiting` event (read from the store by the
    /// reminders' task after every change; until its first read at start, nobody).
    pub async fn waiting(&self) -> Result<WaitingSummary, EngineError> {
        Ok(self.waiting.borrow().clone())
    }

    /// [`Engine::waiting`] as a watch, to wait for a change.
    pub fn waiting_changes(&self) -> watch::Receiver<WaitingSummary> {
        self.waiting.clone()
    }

    /// Row counts (scans every table: for diagnostics, not for polling).
    pub async fn counts(&self) -> Result<StoreCounts, EngineError> {
        self.ops.read(|r| r.counts()).await
    }

    /// Frames read from the server and handed to the store's writer since the start (stored
    /// or about to be: `shutdown` writes them all).
    pub fn frames_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// How many frames the raw log holds, cheaply (the newest row id).
    pub async fn frames_stored(&self) -> Result<u64, EngineError> {
        self.ops.read(|r| r.frames_stored()).await
    }

    /// The agent has seen this chat: unread to zero (persisted) and its notification closed.
    pub async fn mark_read(&self, user_id: UserId) -> Result<u64, EngineError> {
        self.ops.mark_read(user_id).await
    }

    /// Puts a chat aside for `minutes` (`None`: the configured snooze): no notifications or
    /// reminders about it until then, and a reminder when it ends if it still waits.
    pub async fn snooze(
        &self,
        user_id: UserId,
        minutes: Option<u32>,
    ) -> Result<DateTime<Utc>, EngineError> {
        self.ops.snooze(user_id, minutes).await
    }

    pub async fn unsnooze(&self, user_id: UserId) -> Result<(), EngineError> {
        self.ops.set_snooze(user_id, None).await
    }

    /// Sets (or removes) the web panel link the notifications offer.
    pub async fn set_web_panel(&self, panel: Option<WebPanel>) {
        let configured = panel.is_some();
        *self.ops.web_panel.lock().unwrap_or_else(|p| p.into_inner()) = panel;
        if let Some(tx) = &self.ops.notify_tx {
            let _ = tx.send(ServiceMsg::WebPanel(configured)).await;
        }
    }

    /// The web panel link of a chat; `None` when no link is configured or there is no such
    /// chat.
    pub async fn web_panel_url(&self, user_id: UserId) -> Result<Option<String>, EngineError> {
        self.ops.web_panel_url(user_id).await
    }

    /// What the UI shows and whether its window has focus.
    pub fn set_focus(&self, focus: Focus) {
        let _ = self.ops.writer_tx.try_send(WriterMsg::Focus(focus));
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
        self.ops.settings.send_replace(settings.clone());
        if let Some(tx) = &self.ops.notify_tx {
            let _ = tx
                .send(ServiceMsg::Prefs {
                    lang,
                    privacy: settings.privacy,
                    sound: settings.sound,
                    sounds: settings.sounds,
                })
                .await;
        }
        let _ = self.ops.writer_tx.send(WriterMsg::Policy(settings)).await;
    }

    /// Deletes what is older than `days` and compacts the file.
    pub async fn apply_retention(&self, days: u32) -> Result<Removed, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.ops
            .writer_tx
            .send(WriterMsg::Retention { days, reply })
            .await
            .map_err(|_| EngineError::Stopped)?;
        Ok(answer.await.map_err(|_| EngineError::Stopped)??)
    }

    /// Plays a tone now, at `volume`, and answers once it has played (Settings' preview).
    pub async fn preview_sound(&self, tone: Tone, volume: u8) -> Result<PlayReport, EngineError> {
        let player = self.player.as_ref().ok_or(SoundError::Off)?;
        Ok(player.play_now(tone, volume).await?)
    }

    /// Whether sounds reach the audio device, as the last sound found.
    pub fn audio_status(&self) -> AudioStatus {
        self.player
            .as_ref()
            .map_or(AudioStatus::Unknown, Player::status)
    }

    /// "Test my alerts": plays the new-chat sound, shows a sample notification, and lists
    /// what would keep a real alert from the agent right now.
    pub async fn test_alerts(&self) -> AlertTest {
        let settings = self.ops.settings.borrow().clone();
        let tone = settings.sounds.new_chat.unwrap_or(Tone::Chime);
        let volume = match settings.sounds.volume {
            0 => SoundSettings::default().volume,
            v => v,
        };
        let sound = match self.preview_sound(tone, volume).await {
            Ok(report) => SoundCheck {
                played: true,
                report: Some(report),
                error: None,
            },
            Err(e) => SoundCheck {
                played: false,
                report: None,
                error: Some(e.to_string()),
            },
        };
        let notification = self.test_notification().await;
        let blockers = crate::alert_test::blockers(
            &sound,
            &notification,
            &settings,
            self.ops.clock.local_time(),
        );
        AlertTest {
            sound,
            notification,
            blockers,
        }
    }

    async fn test_notification(&self) -> NotificationCheck {
        let failed = |error: &str| NotificationCheck {
            shown: false,
            error: Some(error.into()),
            server: None,
        };
        let Some(tx) = &self.ops.notify_tx else {
            return failed("notifications are not available in this process");
        };
        let (reply, answer) = oneshot::channel();
        if tx.send(ServiceMsg::Test { reply }).await.is_err() {
            return failed("the notifier has stopped");
        }
        match answer.await {
            Ok(TestShown {
                result: Ok(()),
                server,
            }) => NotificationCheck {
                shown: true,
                error: None,
                server,
            },
            Ok(TestShown { result: Err(e), .. }) => failed(&e.to_string()),
            Err(_) => failed("the notifier has stopped"),
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
        if tokio::time::timeout_at(deadline, self.ops.writer_tx.send(WriterMsg::Shutdown))
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
        let _ = self.ops.writer_tx.try_send(WriterMsg::Shutdown);
    }
}

/// What the engine does on the agent's behalf, from its own methods and from the buttons of a
/// notification (which work with no window: in the tray, in `chatbell-cli listen`).
#[derive(Clone)]
struct Ops {
    writer_tx: mpsc::Sender<WriterMsg>,
    notify_tx: Option<mpsc::Sender<ServiceMsg>>,
    outbox: Outbox,
    reader: Arc<Mutex<Reader>>,
    clock: Arc<dyn Clock>,
    settings: watch::Sender<NotificationSettings>,
    web_panel: Arc<Mutex<Option<WebPanel>>>,
}

impl Ops {
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

    async fn mark_read(&self, user_id: UserId) -> Result<u64, EngineError> {
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

    async fn snooze(
        &self,
        user_id: UserId,
        minutes: Option<u32>,
    ) -> Result<DateTime<Utc>, EngineError> {
        let minutes = minutes.unwrap_or_else(|| self.settings.borrow().snooze_minutes);
        let minutes = minutes.clamp(
            *crate::settings::SNOOZE_MINUTES.start(),
            *crate::settings::SNOOZE_MINUTES.end(),
        );
        let until = self.clock.utc() + chrono::TimeDelta::minutes(minutes.into());
        // The store keeps milliseconds: tell the same time it will read back.
        let until = crate::store::from_ms(crate::store::to_ms(until));
        self.set_snooze(user_id, Some(until)).await?;
        if let Some(tx) = &self.notify_tx {
            let _ = tx.try_send(ServiceMsg::Dismiss(user_id));
        }
        Ok(until)
    }

    async fn set_snooze(
        &self,
        user_id: UserId,
        until: Option<DateTime<Utc>>,
    ) -> Result<(), EngineError> {
        let (reply, answer) = oneshot::channel();
        self.writer_tx
            .send(WriterMsg::Snooze {
                user_id,
                until,
                reply,
            })
            .await
            .map_err(|_| EngineError::Stopped)?;
        if !answer.await.map_err(|_| EngineError::Stopped)?? {
            return Err(EngineError::NoSuchChat(user_id));
        }
        self.outbox.send(EngineEvent::Snoozed { user_id, until });
        Ok(())
    }

    async fn web_panel_url(&self, user_id: UserId) -> Result<Option<String>, EngineError> {
        let panel = self
            .web_panel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(panel) = panel else { return Ok(None) };
        let chat = self.read(move |r| r.chat(user_id, &|_| false)).await?;
        Ok(chat.map(|c| {
            panel.url_for(ChatFields {
                user_id: c.user_id,
                username: c.username.as_deref(),
                source: c.source.as_deref(),
            })
        }))
    }
}

/// Carries out the buttons pressed on notifications.
async fn run_actions(ops: Ops, mut actions: mpsc::Receiver<(UserId, Action)>) {
    while let Some((user_id, action)) = actions.recv().await {
        let done = match action {
            Action::Read => ops.mark_read(user_id).await.map(|_| ()),
            Action::Snooze => ops.snooze(user_id, None).await.map(|_| ()),
            Action::Settings => {
                ops.outbox.send(EngineEvent::SettingsRequested {
                    section: crate::model::SettingsSection::Server,
                });
                Ok(())
            }
            Action::WebPanel => match ops.web_panel_url(user_id).await {
                Ok(Some(url)) => {
                    ops.outbox
                        .send(EngineEvent::WebPanelRequested { user_id, url });
                    Ok(())
                }
                Ok(None) => {
                    tracing::warn!(user_id, "web panel asked for, but no link is configured");
                    Ok(())
                }
                Err(e) => Err(e),
            },
        };
        if let Err(e) = done {
            tracing::warn!(user_id, ?action, error = %e, "a notification's button failed");
        }
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
            _ = async { match next { Some(t) => clock.sleep_until(t).await, None => std::future::pending().await } } => {}
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

#[cfg(test)]
mod config_tests {
    use super::*;
    use crate::settings::{AuthMode, Language};

    #[test]
    fn settings_configure_every_part_of_the_engine_they_name() {
        let mut settings = Settings::default();
        settings.server.url = Some("wss://support.example/ws".into());
        settings.server.auth = AuthMode::Query;
        settings.server.query_param = "key".into();
        settings.server.subscriptions = vec![7, 9];
        settings.server.web_panel = Some("https://panel.example/chat/{user_id}".into());
        settings.notifications.do_not_disturb = true;
        settings.ui.language = Language::Ru;
        settings.store.retention_days = Some(30);
        let config = EngineConfig::from_settings("/tmp/x.db", &settings, Some(Secret::new("t")));
        assert_eq!(
            config.server,
            Some(ServerConfig {
                url: "wss://support.example/ws".into(),
                token: Some(Secret::new("t")),
                auth: AuthMode::Query,
                query_param: "key".into(),
            })
        );
        assert_eq!(config.db_path, PathBuf::from("/tmp/x.db"));
        assert_eq!(config.subscriptions, vec![7, 9]);
        assert_eq!(config.notifications, settings.notifications);
        assert_eq!(config.lang, Lang::Ru);
        assert_eq!(config.retention_days, Some(30));
        assert_eq!(
            config.web_panel,
            WebPanel::parse("https://panel.example/chat/{user_id}").ok()
        );
        assert!(config.audio, "the settings say when sounds play");
    }

    #[test]
    fn no_server_and_a_bad_web_panel_link_still_make_an_engine() {
        let mut settings = Settings::default();
        settings.server.web_panel = Some("javascript:alert(1)".into());
        let config = EngineConfig::from_settings("/tmp/x.db", &settings, Some(Secret::new("t")));
        assert_eq!(
            config.server, None,
            "no URL, no connection, whatever the token"
        );
        assert_eq!(config.web_panel, None, "a bad link is left off, not fatal");
    }
}
