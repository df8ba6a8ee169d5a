//! The one persistent WebSocket: connect, re-subscribe, read, ping, detect death and sleep,
//! reconnect with backoff. Frames go to the writer through a bounded channel: when the store
//! falls behind, reading pauses and TCP pushes back on the server, instead of memory growing.
//! Writes go through [`crate::outgoing`], so reading never waits for the server to read.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chatbell_protocol::{ClientAction, UserId, parse_frame};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tokio_util::sync::CancellationToken;

use crate::backoff::{Backoff, BackoffPolicy};
use crate::clock::{Clock, Steady};
use crate::liveness::{Heartbeat, Liveness, SleepDetector};
use crate::model::{ConnState, EngineEvent, OfflineCause};
use crate::net::{ConnectError, NetFailure, ServerConfig, Ws};
use crate::outbox::Outbox;
use crate::outgoing::{Outgoing, Stopped};
use crate::writer::{Inbound, WriterMsg};

/// Timings of the connection; the defaults are the product's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionTuning {
    pub heartbeat: Heartbeat,
    pub backoff: BackoffPolicy,
    pub connect_timeout: Duration,
    /// How far the wall clock may run ahead of the monotonic clock before it counts as a
    /// suspend. The clocks are compared at every heartbeat (`heartbeat.ping_interval`), online
    /// or waiting to retry: no timer of its own.
    pub sleep_threshold: Duration,
}

impl Default for ConnectionTuning {
    fn default() -> Self {
        ConnectionTuning {
            heartbeat: Heartbeat::default(),
            backoff: BackoffPolicy::default(),
            connect_timeout: Duration::from_secs(15),
            sleep_threshold: Duration::from_secs(10),
        }
    }
}

pub(crate) enum ConnCmd {
    Subscribe(UserId),
    Unsubscribe(UserId),
    SetServer(Box<Option<ServerConfig>>),
    ReconnectNow,
}

/// Why a live session ended.
#[derive(Debug)]
enum End {
    Cancelled,
    /// Reconnect at once: new server settings, a user request, or the machine woke up.
    Immediate(&'static str),
    Lost(String),
}

/// How a live session ended, and when the server was last heard.
struct Ended {
    end: End,
    last_heard: DateTime<Utc>,
}

pub(crate) struct Connection {
    pub server: Option<ServerConfig>,
    pub subscriptions: BTreeSet<UserId>,
    pub tuning: ConnectionTuning,
    pub clock: Arc<dyn Clock>,
    pub cmds: mpsc::Receiver<ConnCmd>,
    pub inbound: mpsc::Sender<WriterMsg>,
    pub state: watch::Sender<ConnState>,
    pub cancel: CancellationToken,
    /// Frames handed to the writer so far (read, not yet necessarily stored).
    pub received: Arc<AtomicU64>,
}

impl Connection {
    fn set_state(&self, state: ConnState) {
        self.state.send_replace(state);
    }

    async fn forward(&self, inbound: Inbound) -> bool {
        let frame = matches!(inbound, Inbound::Frame { .. });
        let sent = self.inbound.send(WriterMsg::Inbound(inbound)).await.is_ok();
        if sent && frame {
            self.received.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    fn retry_at(&self, delay: Duration) -> DateTime<Utc> {
        self.clock.utc() + chrono::Duration::from_std(delay).unwrap_or_default()
    }

    fn apply_cmd_offline(&mut self, cmd: ConnCmd) -> bool {
        match cmd {
            ConnCmd::Subscribe(user) => {
                self.subscriptions.insert(user);
                false
            }
            ConnCmd::Unsubscribe(user) => {
                self.subscriptions.remove(&user);
                false
            }
            ConnCmd::SetServer(server) => {
                self.server = *server;
                true
            }
            ConnCmd::ReconnectNow => true,
        }
    }

    pub async fn run(mut self) {
        let seed = self
            .clock
            .system()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut backoff = Backoff::new(self.tuning.backoff, fastrand::Rng::with_seed(seed));
        let mut sleep = SleepDetector::new(
            self.tuning.sleep_threshold,
            self.clock.mono(),
            self.clock.system(),
        );
        // Since when nothing has been heard: from a session's end (or the first failed attempt)
        // across the failed attempts after it; each session's end sets it anew. Kept with its
        // place on a steady timeline, so the gap's end is measured from it even when the wall
        // clock steps back meanwhile: the gap keeps its true length and never ends before it
        // starts (its end is then ahead of the wall clock, and the timeline shows the gap after
        // the first messages received once back, which are stamped by the wall clock).
        let steady = Steady::new(&*self.clock);
        let mut down_since: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        loop {
            let Some(server) = self.server.clone() else {
                down_since = None;
                self.set_state(ConnState::NotConfigured);
                tokio::select! {
                    _ = self.cancel.cancelled() => break,
                    cmd = self.cmds.recv() => match cmd {
                        Some(cmd) => { self.apply_cmd_offline(cmd); continue; }
                        None => break,
                    },
                }
            };
            self.set_state(ConnState::Connecting {
                attempt: backoff.attempt(),
            });
            let connected = tokio::select! {
                _ = self.cancel.cancelled() => break,
                r = tokio::time::timeout(self.tuning.connect_timeout, crate::net::open(&server)) => match r {
                    Ok(r) => r.map(|(ws, report)| {
                        tracing::info!(route = ?report.route.proxy.as_ref().map(ToString::to_string), source = ?report.route.source, issuer = ?report.issuer, "connected");
                        ws
                    }),
                    Err(_) => Err(ConnectError::Failed(NetFailure::Timeout { seconds: self.tuning.connect_timeout.as_secs().max(1) })),
                },
            };
            let delay = match connected {
                Ok(ws) => {
                    let since = match down_since {
                        Some((wall, placed)) => wall + (steady.now(&*self.clock) - placed),
                        None => self.clock.utc(),
                    };
                    let up = self.clock.mono();
                    if !self.forward(Inbound::Connected { at: since }).await {
                        break;
                    }
                    self.set_state(ConnState::Online { since });
                    tracing::info!(url = %server.url, subscriptions = self.subscriptions.len(), "online");
                    let Ended { end, last_heard } = self.session(ws, &server, &mut sleep).await;
                    // A lost connection may have been dead long before the verdict: anything
                    // sent after its last frame is missing, so the gap starts there. A session
                    // we ended ourselves was heard until now.
                    let down_at = match end {
                        End::Lost(_) => last_heard,
                        End::Cancelled | End::Immediate(_) => self.clock.utc(),
                    };
                    if !self.forward(Inbound::Disconnected { at: down_at }).await {
                        break;
                    }
                    down_since = Some((down_at, steady.place(down_at, &*self.clock)));
                    backoff.connection_ended(self.clock.mono().saturating_duration_since(up));
                    match end {
                        End::Cancelled => break,
                        End::Immediate(why) => {
                            tracing::info!(why, "reconnecting at once");
                            backoff.reset();
                            continue;
                        }
                        End::Lost(detail) => {
                            tracing::warn!(%detail, "connection lost");
                            let delay = backoff.next_delay();
                            let failure = NetFailure::Lost { detail };
                            self.set_state(ConnState::Offline {
                                attempt: backoff.attempt(),
                                retry_at: self.retry_at(delay),
                                cause: OfflineCause::of(&failure),
                                failure,
                                since: down_at,
                            });
                            delay
                        }
                    }
                }
                Err(ConnectError::Unauthorized(status)) => {
                    let delay = backoff.unauthorized_delay();
                    tracing::warn!(status, "the server refused the token");
                    let since = down_since
                        .get_or_insert_with(|| now_placed(&steady, &*self.clock))
                        .0;
                    self.set_state(ConnState::Unauthorized {
                        status,
                        retry_at: self.retry_at(delay),
                        since,
                    });
                    delay
                }
                Err(ConnectError::Failed(failure)) => {
                    // What only the agent can fix is retried as rarely as a refused token: a
                    // proxy that counts wrong passwords may lock the agent's account.
                    let delay = match failure.needs_the_agent() {
                        true => backoff.unauthorized_delay(),
                        false => backoff.next_delay(),
                    };
                    tracing::info!(%failure, ?delay, "cannot connect");
                    let since = down_since
                        .get_or_insert_with(|| now_placed(&steady, &*self.clock))
                        .0;
                    self.set_state(ConnState::Offline {
                        attempt: backoff.attempt(),
                        retry_at: self.retry_at(delay),
                        cause: OfflineCause::of(&failure),
                        failure,
                        since,
                    });
                    delay
                }
            };
            if !self.wait(delay, &mut sleep).await {
                break;
            }
        }
        self.set_state(ConnState::Stopped);
    }

    /// Waits out a retry delay; returns early on new settings, a reconnect request or a wake
    /// from sleep. Returns false when the engine is stopping.
    async fn wait(&mut self, delay: Duration, sleep: &mut SleepDetector) -> bool {
        let until = tokio::time::Instant::now() + delay;
        let mut check = tokio::time::interval(self.tuning.heartbeat.ping_interval);
        check.tick().await;
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return false,
                _ = tokio::time::sleep_until(until) => return true,
                cmd = self.cmds.recv() => match cmd {
                    Some(cmd) => if self.apply_cmd_offline(cmd) { return true },
                    None => return false,
                },
                _ = check.tick() => {
                    if sleep.sample(self.clock.mono(), self.clock.system()).is_some() {
                        tracing::info!("woke from sleep: retrying now");
                        return true;
                    }
                }
            }
        }
    }

    async fn session(&mut self, ws: Ws, server: &ServerConfig, sleep: &mut SleepDetector) -> Ended {
        let heartbeat = self.tuning.heartbeat;
        let (sink, mut stream) = ws.split();
        // The subscription set lives on the connection: send it again every time.
        let subscriptions = self
            .subscriptions
            .iter()
            .map(|&user_id| Message::text(ClientAction::Subscribe { user_id }.to_json()))
            .collect();
        // A send that does not complete within `dead_after` is a dead connection, as a
        // silence that long is.
        let mut out = Outgoing::start(sink, subscriptions, heartbeat.dead_after);
        let mut liveness = Liveness::new(heartbeat, self.clock.mono());
        let mut last_heard = self.clock.utc();
        // One timer for the ping and the sleep check: an idle connection wakes once per
        // heartbeat, not once for each.
        let mut beat = tokio::time::interval(heartbeat.ping_interval);
        // After a slow send, one ping is enough; a burst of the missed ones would only queue.
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        beat.tick().await;
        let end = loop {
            let deadline = tokio::time::Instant::from_std(liveness.deadline());
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break End::Cancelled,
                stopped = out.stopped() => break End::Lost(match stopped {
                    Stopped::TimedOut { what, after } => format!(
                        "the server stopped reading: a send did not complete within {after:?} ({what})"
                    ),
                    Stopped::Failed { what, error } => format!("sending {what}: {}", describe(&error)),
                    Stopped::Gone => "the sending task stopped".into(),
                }),
                // Taken only when the action can be queued, so a command is never dropped.
                cmd = self.cmds.recv(), if out.has_room() => {
                    let action = match cmd {
                        None => break End::Cancelled,
                        Some(ConnCmd::SetServer(new)) => {
                            if new.as_ref().as_ref() == Some(server) {
                                continue;
                            }
                            self.server = *new;
                            break End::Immediate("server settings changed");
                        }
                        Some(ConnCmd::ReconnectNow) => break End::Immediate("reconnect requested"),
                        Some(ConnCmd::Subscribe(user_id)) => {
                            if !self.subscriptions.insert(user_id) { continue; }
                            ClientAction::Subscribe { user_id }
                        }
                        Some(ConnCmd::Unsubscribe(user_id)) => {
                            if !self.subscriptions.remove(&user_id) { continue; }
                            ClientAction::Unsubscribe { user_id }
                        }
                    };
                    out.queue(Message::text(action.to_json()));
                }
                // Tungstenite answers a ping while reading and sends the pong when the socket
                // takes it; a socket that takes nothing does not stop this from reading.
                frame = stream.next() => {
                    liveness.heard(self.clock.mono());
                    let heard_at = self.clock.utc();
                    if matches!(frame, Some(Ok(_))) {
                        last_heard = heard_at;
                    }
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text,
                        // The protocol sends JSON text; a server that sends it as binary still
                        // gets its frames stored (and parsed if they are UTF-8 JSON).
                        Some(Ok(Message::Binary(bytes))) => Utf8Bytes::from(String::from_utf8_lossy(&bytes).into_owned()),
                        Some(Ok(Message::Close(frame))) => {
                            let why = frame.map_or("no close code".to_string(), |f| format!("close code {} {}", u16::from(f.code), f.reason));
                            break End::Lost(format!("server closed the connection ({why})"));
                        }
                        Some(Ok(_)) => continue, // ping, pong
                        Some(Err(e)) => break End::Lost(describe(&e)),
                        None => break End::Lost("connection closed".into()),
                    };
                    let parsed = Some(parse_frame(&text, heard_at));
                    if !self.forward(Inbound::Frame { text, received_at: heard_at, parsed }).await {
                        break End::Cancelled;
                    }
                    // Time spent waiting for a slow store is not the server's silence.
                    liveness.heard(self.clock.mono());
                }
                _ = tokio::time::sleep_until(deadline) => {
                    if liveness.is_dead(self.clock.mono()) {
                        break End::Lost(format!("no frame or pong for {:?}", heartbeat.dead_after));
                    }
                }
                _ = beat.tick() => {
                    if let Some(slept) = sleep.sample(self.clock.mono(), self.clock.system()) {
                        tracing::info!(?slept, "woke from sleep");
                        break End::Immediate("woke from sleep");
                    }
                    // A full queue is a send still under way: its own timeout decides.
                    if out.has_room() {
                        out.queue(Message::Ping(Default::default()));
                    }
                }
            }
        };
        if matches!(end, End::Cancelled | End::Immediate(_)) {
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "client going away".into(),
            };
            out.close(frame, Duration::from_secs(1)).await;
        }
        Ended { end, last_heard }
    }
}

fn describe(e: &WsError) -> String {
    match e {
        WsError::Io(io) => format!("network error: {io}"),
        WsError::Capacity(c) => format!("frame too large: {c}"),
        WsError::Protocol(p) => format!("protocol error: {p}"),
        WsError::Utf8(e) => format!("protocol error: a text frame is not UTF-8 ({e})"),
        other => other.to_string(),
    }
}

/// Tells the engine's subscribers each new connection state, once.
pub(crate) async fn forward_state(mut state: watch::Receiver<ConnState>, outbox: Outbox) {
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

/// Now, on the wall clock and on `steady`.
fn now_placed(steady: &Steady, clock: &dyn Clock) -> (DateTime<Utc>, DateTime<Utc>) {
    (clock.utc(), steady.now(clock))
}
