//! The engine: wires the connection, the writer thread, the notifier service and the tasks
//! that act on time, and is the one handle the app and the CLI hold. It only wires: reads are
//! [`Queries`], what the agent does to a chat is `actions.rs`, the settings are one published
//! value each task reads what it needs from.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatbell_protocol::UserId;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::actions::Actions;
use crate::alert_test::AlertTest;
use crate::clock::{Clock, SystemClock};
use crate::coalesce::{CoalesceConfig, Coalescer};
use crate::connection::{ConnCmd, Connection, ConnectionTuning};
use crate::error::EngineError;
use crate::escalation::Escalator;
use crate::forwarder::ForwardMsg;
use crate::model::{ConnState, EngineEvent, Focus, WaitingSummary};
use crate::net::ServerConfig;
use crate::notifier::{Notifier, NotifyService, ServiceMsg, ServiceParts};
use crate::outbox::Outbox;
use crate::queries::Queries;
use crate::settings::Settings;
use crate::sound::{AudioStatus, PlayReport, Player, SoundError, Tone};
use crate::store::{EngineLock, Reader, Removed, StoreError};
use crate::sync::lock;
use crate::typing::Typing;
use crate::writer::{WriterExit, WriterLoop, WriterMsg, WriterShared, supervised};

/// Everything the engine needs to start.
pub struct EngineConfig {
    pub db_path: PathBuf,
    /// The agent's settings, published to every task; [`Engine::set_settings`] publishes new
    /// ones. A task reads what it uses, so a new setting touches its type and its one user.
    pub settings: Settings,
    /// Where to connect: the settings' server with the keychain's token, or another (the
    /// demo's simulator, the CLI's flags). [`Engine::set_server`] changes it.
    pub server: Option<ServerConfig>,
    pub subscriptions: Vec<UserId>,
    pub tuning: ConnectionTuning,
    pub coalesce: CoalesceConfig,
    /// Play Chatbell's own sounds on the audio device (else the notification server is asked
    /// for its sound). Off unless asked for: tests and tools leave the audio device alone.
    pub audio: bool,
    /// Where the agent's being away is read (`away::Source::desktop()` for the desktop's);
    /// none unless asked for.
    pub away: crate::away::Source,
    /// How forwarding targets' secrets are read: the keychain unless a tool says otherwise.
    pub secrets: crate::forwarder::Secrets,
}

impl EngineConfig {
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        EngineConfig {
            db_path: db_path.into(),
            settings: Settings::default(),
            server: None,
            subscriptions: Vec::new(),
            tuning: ConnectionTuning::default(),
            coalesce: CoalesceConfig::default(),
            audio: false,
            away: crate::away::Source::None,
            secrets: crate::forwarder::Secrets::Keychain,
        }
    }

    /// The engine as the agent's settings describe it, connecting to their server with `token`
    /// (which lives in the keychain, not in the settings). The app, `chatbell-cli listen` and
    /// the benchmarks start from it and change only what they override (a demo server, flags).
    /// Chatbell's own sounds are on: the settings say when they play.
    pub fn from_settings(
        db_path: impl Into<PathBuf>,
        settings: &Settings,
        credentials: crate::Credentials,
    ) -> Self {
        EngineConfig {
            server: crate::server_config(&settings.server, credentials),
            subscriptions: settings.server.subscriptions.clone(),
            settings: settings.clone(),
            audio: true,
            ..EngineConfig::new(db_path)
        }
    }
}

/// How long the start waits for the audio device to say whether it is there.
const PROBE_WITHIN: Duration = Duration::from_millis(500);

/// Frames (and commands) queued for the writer before the connection stops reading.
pub const WRITER_QUEUE: usize = 8192;

/// What runs until the engine closes, taken out once by [`Engine::close`].
struct Running {
    /// The connection last: closing waits for it to hand its final disconnect to the writer.
    tasks: Vec<JoinHandle<()>>,
    writer: std::thread::JoinHandle<WriterExit>,
    /// Released when the engine closes, so a new engine may open the file at once.
    lock: EngineLock,
}

pub struct Engine {
    db_path: PathBuf,
    actions: Actions,
    queries: Queries,
    player: Option<Player>,
    settings: watch::Sender<Settings>,
    received: Arc<AtomicU64>,
    state: watch::Receiver<ConnState>,
    waiting: watch::Receiver<WaitingSummary>,
    away: watch::Receiver<bool>,
    secrets: crate::forwarder::Secrets,
    conn_tx: mpsc::Sender<ConnCmd>,
    cancel: CancellationToken,
    running: Mutex<Option<Running>>,
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
        let (writer, reader, reminders_reader) = {
            let path = db_path.clone();
            tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
                let writer = crate::store::Writer::open(&path)?;
                Ok((writer, Reader::open(&path)?, Reader::open(&path)?))
            })
            .await
            .map_err(|_| EngineError::Stopped)??
        };
        if let Some(probed) = probed {
            // So the first alert knows whether our sound or the server's plays; a sound server
            // that hangs costs the start this much at most (sounds then count as not working).
            let _ = tokio::time::timeout(PROBE_WITHIN, probed).await;
        }
        let retention_days = config.settings.store.retention_days;
        let (settings, settings_rx) = watch::channel(config.settings);
        let outbox = Outbox::new();
        let cancel = CancellationToken::new();
        let typing = Arc::new(Mutex::new(Typing::default()));
        let typing_changed = Arc::new(Notify::new());
        let waiting_changed = Arc::new(Notify::new());
        let (writer_tx, writer_rx) = mpsc::channel(WRITER_QUEUE);
        let (conn_tx, conn_rx) = mpsc::channel(64);
        let initial = match config.server {
            Some(_) => ConnState::Connecting { attempt: 0 },
            None => ConnState::NotConfigured,
        };
        let (state_tx, state) = watch::channel(initial);
        let queries = Queries::new(reader, typing.clone(), clock.clone());
        let mut tasks = Vec::new();

        let (pressed_tx, pressed) = mpsc::channel(64);
        let notify_tx = notifier.map(|notifier| {
            let (tx, rx) = mpsc::channel(1024);
            let service = NotifyService::new(ServiceParts {
                notifier,
                coalescer: Coalescer::new(config.coalesce),
                outbox: outbox.clone(),
                clock: clock.clone(),
                actions: pressed_tx,
                player: player.clone(),
                settings: settings_rx.clone(),
            });
            tasks.push(tokio::spawn(service.run(rx)));
            tx
        });
        let away = crate::away::follow(config.away, settings_rx.clone(), clock.clone());
        let (forward_tx, forward_rx) = mpsc::channel(256);
        let (waiting_ids, waiting_ids_rx) = watch::channel(Arc::default());
        tasks.push(tokio::spawn(
            crate::forwarder::Forwarder {
                settings: settings_rx.clone(),
                away: away.clone(),
                waiting: waiting_ids_rx,
                inbox: forward_rx,
                outbox: outbox.clone(),
                clock: clock.clone(),
                notify: notify_tx.clone(),
                secrets: config.secrets.clone(),
                cancel: cancel.clone(),
            }
            .run(),
        ));
        let actions = Actions {
            writer: writer_tx.clone(),
            notifier: notify_tx.clone(),
            outbox: outbox.clone(),
            queries: queries.clone(),
            clock: clock.clone(),
            settings: settings_rx.clone(),
        };
        tasks.push(tokio::spawn(actions.clone().run(pressed)));

        let shared = WriterShared {
            outbox: outbox.clone(),
            typing: typing.clone(),
            typing_changed: typing_changed.clone(),
            notify: notify_tx.clone(),
            forward: Some(forward_tx.clone()),
            clock: clock.clone(),
            runtime: tokio::runtime::Handle::current(),
            stopping: cancel.clone(),
            waiting_changed: waiting_changed.clone(),
        };
        let writer_loop = WriterLoop::new(writer, shared, settings_rx.clone(), writer_rx);
        let writer_outbox = outbox.clone();
        let writer_thread = std::thread::Builder::new()
            .name("chatbell-writer".into())
            .spawn(move || supervised(|| writer_loop.run(), &writer_outbox))
            .map_err(|_| EngineError::Stopped)?;

        tasks.push(tokio::spawn(crate::writer::keep_forwards(
            outbox.subscribe(),
            writer_tx.clone(),
            cancel.clone(),
        )));
        tasks.push(tokio::spawn(crate::typing::expire(
            typing,
            typing_changed,
            outbox.clone(),
            clock.clone(),
            cancel.clone(),
        )));
        tasks.push(tokio::spawn(crate::connection::forward_state(
            state.clone(),
            outbox.clone(),
        )));
        let (outage_tx, outage_forward) = (notify_tx.clone(), forward_tx.clone());
        tasks.push(tokio::spawn(crate::outage::run(
            state.clone(),
            settings_rx.clone(),
            clock.clone(),
            move |notice, failure| {
                let _ = outage_forward.try_send(ForwardMsg::Outage(notice, failure.clone()));
                if let Some(tx) = &outage_tx
                    && tx.try_send(ServiceMsg::Outage(notice, failure)).is_err()
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
            reader: Arc::new(Mutex::new(reminders_reader)),
            outbox: outbox.clone(),
            clock: clock.clone(),
            notify: notify_tx,
            forward: Some(forward_tx),
            away: away.clone(),
            changed: waiting_changed,
            settings: settings_rx,
            summary: summary_tx,
            waiting_ids,
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
            actions,
            queries,
            player,
            settings,
            received,
            state,
            waiting,
            away,
            secrets: config.secrets,
            conn_tx,
            cancel,
            running: Mutex::new(Some(Running {
                tasks,
                writer: writer_thread,
                lock,
            })),
        };
        if let Some(days) = retention_days {
            // At start, then by the settings' owner when it changes (so a refusal answers the
            // save); a daily pass is the app's to schedule.
            let _ = engine.apply_retention(days).await;
        }
        Ok(engine)
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The store, read for display.
    pub fn queries(&self) -> &Queries {
        &self.queries
    }

    /// Every event from now on. A subscriber that falls more than `EVENT_BUFFER` events
    /// behind gets `RecvError::Lagged` and should reload its views from the store.
    pub fn events(&self) -> broadcast::Receiver<EngineEvent> {
        self.actions.outbox.subscribe()
    }

    pub fn state(&self) -> watch::Receiver<ConnState> {
        self.state.clone()
    }

    /// The latest notification decisions and deliveries, oldest first.
    pub fn recent_decisions(&self) -> Vec<crate::model::Diagnostic> {
        self.actions.outbox.recent()
    }

    /// Who is waiting, as last told by a `Waiting` event (read from the store by the
    /// reminders' task after every change; until its first read at start, nobody).
    pub fn waiting(&self) -> WaitingSummary {
        self.waiting.borrow().clone()
    }

    /// [`Engine::waiting`] as a watch, to wait for a change.
    pub fn waiting_changes(&self) -> watch::Receiver<WaitingSummary> {
        self.waiting.clone()
    }

    /// Publishes new settings to every task (each takes what it uses: the policy, sounds,
    /// language, privacy, reminders, the offline alarm, the web panel link). The server to
    /// connect to is [`Engine::set_server`]'s; a new retention is [`Engine::apply_retention`]'s,
    /// which answers whether the store took it.
    pub fn set_settings(&self, settings: Settings) {
        self.settings.send_replace(settings);
    }

    /// Whether the agent is away (the screen locked, or idle past `notifications.away`), as
    /// the engine's source says; read only while a forwarding target is set.
    pub fn away(&self) -> watch::Receiver<bool> {
        // A clone starts from the version its original last saw; this one is never read, so
        // without this a clone would report a change long past at once, again and again.
        let mut away = self.away.clone();
        away.borrow_and_update();
        away
    }

    /// Sends a test to `target` now (a draft's *Send test*: its secret is the keychain's under
    /// its id), the company's way; delivered, or why not in the agent's words.
    pub async fn test_forward(
        &self,
        target: &crate::settings::forward::ForwardTarget,
    ) -> crate::forwarder::ForwardCheck {
        let settings = self.settings.borrow().clone();
        let forward = crate::forwarder::test_forward(
            crate::i18n::Lang::of(settings.ui.language),
            self.actions.clock.utc(),
        );
        crate::forwarder::check(target, &settings, &self.secrets, &forward).await
    }

    /// The settings as last published.
    pub fn settings(&self) -> Settings {
        self.settings.borrow().clone()
    }

    /// Frames read from the server and handed to the store's writer since the start (stored
    /// or about to be: `shutdown` writes them all).
    pub fn frames_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// The agent has seen this chat: unread to zero (persisted) and its notification closed.
    pub async fn mark_read(&self, user_id: UserId) -> Result<u64, EngineError> {
        self.actions.mark_read(user_id).await
    }

    /// Puts a chat aside for `minutes` (`None`: the configured snooze): no notifications or
    /// reminders about it until then, and a reminder when it ends if it still waits.
    pub async fn snooze(
        &self,
        user_id: UserId,
        minutes: Option<u32>,
    ) -> Result<DateTime<Utc>, EngineError> {
        self.actions.snooze(user_id, minutes).await
    }

    pub async fn unsnooze(&self, user_id: UserId) -> Result<(), EngineError> {
        self.actions.set_snooze(user_id, None).await
    }

    /// The web panel link of a chat; `None` when no link is configured or there is no such
    /// chat.
    pub async fn web_panel_url(&self, user_id: UserId) -> Result<Option<String>, EngineError> {
        self.actions.web_panel_url(user_id).await
    }

    /// What the UI shows and whether its window has focus.
    pub fn set_focus(&self, focus: Focus) {
        let _ = self.actions.writer.try_send(WriterMsg::Focus(focus));
    }

    pub fn subscribe(&self, user_id: UserId) {
        let _ = self.conn_tx.try_send(ConnCmd::Subscribe(user_id));
    }

    pub fn unsubscribe(&self, user_id: UserId) {
        let _ = self.conn_tx.try_send(ConnCmd::Unsubscribe(user_id));
    }

    /// New server settings: reconnects if they differ.
    pub async fn set_server(&self, server: Option<ServerConfig>) {
        let _ = self
            .conn_tx
            .send(ConnCmd::SetServer(Box::new(server)))
            .await;
    }

    /// Skips the remaining backoff (the "retry now" button, or a token just fixed).
    pub async fn reconnect_now(&self) {
        let _ = self.conn_tx.send(ConnCmd::ReconnectNow).await;
    }

    /// Deletes what is older than `days` and compacts the file.
    pub async fn apply_retention(&self, days: u32) -> Result<Removed, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.actions
            .writer
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
        let settings = self.settings.borrow().clone();
        let forwards = futures_util::future::join_all(
            settings
                .notifications
                .forward
                .iter()
                .map(|target| self.test_forward(target)),
        );
        let (mut test, forwards) = tokio::join!(
            crate::alert_test::run(
                &settings.notifications,
                self.player.as_ref(),
                self.actions.notifier.as_ref(),
                self.actions.clock.local_time(),
            ),
            forwards
        );
        test.forwards = forwards;
        test
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
        let mut report = ShutdownReport::default();
        let Some(Running {
            mut tasks,
            writer,
            lock: file_lock,
        }) = lock(&self.running).take()
        else {
            return report;
        };
        // The connection task is last: it sends its final Disconnected to the writer.
        if let Some(connection) = tasks.pop() {
            let _ = tokio::time::timeout(Duration::from_secs(3), connection).await;
        }
        if tokio::time::timeout_at(deadline, self.actions.writer.send(WriterMsg::Shutdown))
            .await
            .is_err()
        {
            report.error = Some(StopError::WriterTimedOut);
        }
        let join = tokio::task::spawn_blocking(move || writer.join());
        match tokio::time::timeout_at(deadline, join).await {
            Ok(Ok(Ok(exit))) => {
                report.unwritten = exit.unwritten;
                report.error = report.error.or(exit.error.map(StopError::Refused));
            }
            Ok(_) => report.error = Some(StopError::WriterCrashed),
            Err(_) => report.error = Some(StopError::WriterTimedOut),
        }
        for task in tasks {
            task.abort();
        }
        drop(file_lock);
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
    pub error: Option<StopError>,
}

impl ShutdownReport {
    pub fn is_clean(&self) -> bool {
        self.unwritten == 0 && self.error.is_none()
    }
}

/// Why stopping did not store everything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "reason", rename_all = "snake_case")]
pub enum StopError {
    #[error("the store writer did not stop in time")]
    WriterTimedOut,
    #[error("the store writer crashed")]
    WriterCrashed,
    /// The store refused a write (its own words: a full disk, a read-only file).
    #[error("the store refused to write: {0}")]
    Refused(String),
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(running) = lock(&self.running).as_ref() {
            for task in &running.tasks {
                task.abort();
            }
        }
        let _ = self.actions.writer.try_send(WriterMsg::Shutdown);
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;
    use crate::secret::Secret;
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
        settings.server.proxy = "http://bob@proxy:3128".into();
        settings.server.tls.ca_file = Some("/etc/corp-ca.pem".into());
        let credentials = crate::Credentials {
            token: Some(Secret::new("t")),
            proxy_password: Some(Secret::new("p")),
            key_passphrase: None,
        };
        let config = EngineConfig::from_settings("/tmp/x.db", &settings, credentials);
        assert_eq!(
            config.server,
            Some(ServerConfig {
                url: "wss://support.example/ws".into(),
                token: Some(Secret::new("t")),
                auth: AuthMode::Query,
                query_param: "key".into(),
                proxy: crate::net::ProxySetting::parse("http://bob@proxy:3128").unwrap(),
                tls: settings.server.tls.clone(),
                proxy_password: Some(Secret::new("p")),
                key_passphrase: None,
            })
        );
        assert_eq!(config.db_path, PathBuf::from("/tmp/x.db"));
        assert_eq!(config.subscriptions, vec![7, 9]);
        assert_eq!(config.settings, settings, "published as they are");
        assert!(config.audio, "the settings say when sounds play");
    }

    #[test]
    fn no_server_and_a_bad_web_panel_link_still_make_an_engine() {
        let mut settings = Settings::default();
        settings.server.web_panel = Some("javascript:alert(1)".into());
        let credentials = crate::Credentials::token(Some(Secret::new("t")));
        let config = EngineConfig::from_settings("/tmp/x.db", &settings, credentials);
        assert_eq!(
            config.server, None,
            "no URL, no connection, whatever the token"
        );
        assert_eq!(
            config.settings.server.web_panel(),
            None,
            "a bad link is left off, not fatal"
        );
    }
}
