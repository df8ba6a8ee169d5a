//! `chatbell-sim`: a protocol-true support-chat events server for loopback.
//!
//! It serves the WebSocket protocol on `/ws` and a small HTTP control API on the same port.
//! It is Chatbell's demo server (embedded in the desktop app's demo mode), the real peer of the
//! engine's and the app's tests, and a tool for integrators. Traffic is realistic and
//! deterministic per seed; subscriptions follow the protocol exactly; faults (reset, close,
//! stall, malformed frames) can be injected through the API.

mod client;
mod control;
mod control_client;
mod http;
mod hub;
mod traffic;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use control::ENDPOINTS;
pub use control_client::{ControlClient, ControlError};
pub use hub::{ClientId, ClientInfo, Fault, Hub};
pub use traffic::{MALFORMED, Traffic};

/// How the simulator runs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub listen: SocketAddr,
    /// When set, the handshake must carry `Authorization: Bearer <token>` or `?<param>=<token>`.
    pub token: Option<String>,
    pub token_param: String,
    /// Generated events per second across all users; 0 sends only what the API injects.
    pub rate: f64,
    pub seed: u64,
    pub max_clients: usize,
    /// Bound of each client's outgoing queue.
    pub client_queue: usize,
    /// Events sent as fast as the socket takes them to every client right after it connects.
    pub burst_on_connect: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8765)),
            token: None,
            token_param: "token".into(),
            rate: 1.0,
            seed: 1,
            max_clients: 10_000,
            client_queue: 4096,
            burst_on_connect: 0,
        }
    }
}

impl SimConfig {
    /// A free loopback port and no generated traffic (events only when posted): the
    /// simulator tests and benchmarks drive.
    pub fn quiet() -> SimConfig {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            rate: 0.0,
            ..SimConfig::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "cannot listen on {addr}: {source} (is another server on that port? choose one with --listen)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("rate {0} is not a number of events per second >= 0")]
    BadRate(f64),
}

/// A running simulator.
pub struct SimHandle {
    addr: SocketAddr,
    hub: Arc<Hub>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://addr/ws`
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// `http://addr`
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    pub fn control(&self) -> ControlClient {
        ControlClient::new(self.addr)
    }

    /// Closes every client with "going away" and stops listening.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
        // Let client tasks send their close frames.
        for _ in 0..50 {
            if self.hub.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Binds and starts serving on the current tokio runtime.
pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    if !(config.rate.is_finite() && config.rate >= 0.0) {
        return Err(SimError::BadRate(config.rate));
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.listen,
        source,
    })?;
    let hub = Arc::new(Hub::new(config.client_queue));
    let cancel = CancellationToken::new();
    let config = Arc::new(config);
    let mut tasks = vec![tokio::spawn(accept_loop(
        listener,
        hub.clone(),
        config.clone(),
        cancel.clone(),
    ))];
    if config.rate > 0.0 {
        tasks.push(tokio::spawn(generate(
            hub.clone(),
            config.rate,
            config.seed,
            cancel.clone(),
        )));
    }
    Ok(SimHandle {
        addr,
        hub,
        cancel,
        tasks,
    })
}

async fn accept_loop(
    listener: TcpListener,
    hub: Arc<Hub>,
    config: Arc<SimConfig>,
    cancel: CancellationToken,
) {
    loop {
        let (stream, peer) = tokio::select! {
            _ = cancel.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(route(
            stream,
            peer,
            hub.clone(),
            config.clone(),
            cancel.clone(),
        ));
    }
}

/// Reads the request head and hands the connection to the WebSocket or the control API.
async fn route(
    mut stream: TcpStream,
    peer: SocketAddr,
    hub: Arc<Hub>,
    config: Arc<SimConfig>,
    cancel: CancellationToken,
) {
    let head =
        match tokio::time::timeout(Duration::from_secs(10), http::read_head(&mut stream)).await {
            Ok(Ok(head)) => head,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "bad request");
                let body = serde_json::json!({ "error": e.to_string() });
                let _ = http::respond_json(&mut stream, 400, &body).await;
                return;
            }
            Err(_) => return,
        };
    if head.path == "/ws" {
        if !head.is_websocket_upgrade() {
            let body = serde_json::json!({ "error": "/ws is a WebSocket endpoint; send an Upgrade request" });
            let _ = http::respond_json(&mut stream, 400, &body).await;
        } else if hub.len() >= config.max_clients {
            let body =
                serde_json::json!({ "error": format!("at most {} clients", config.max_clients) });
            let _ = http::respond_json(&mut stream, 503, &body).await;
        } else {
            client::serve(stream, head, peer.to_string(), hub, &config, cancel).await;
        }
        return;
    }
    let result = match http::read_body(&mut stream, &head).await {
        Ok(body) => control::handle(&hub, config.seed, &head.method, &head.path, &body),
        Err(e) => Err(e),
    };
    let (status, body) = match result {
        Ok(value) => (200, value),
        Err(e) => (e.status, serde_json::json!({ "error": e.message })),
    };
    let _ = http::respond_json(&mut stream, status, &body).await;
}

/// The live traffic: `rate` events per second from a seeded generator, to matching clients.
async fn generate(hub: Arc<Hub>, rate: f64, seed: u64, cancel: CancellationToken) {
    let mut traffic = Traffic::new(seed);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let envelope = traffic.next_event(Utc::now());
        hub.deliver(envelope.to_json().into(), envelope.event.user_id());
    }
}
