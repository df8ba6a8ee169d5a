//! `chatbell-sim`: a protocol-true support-chat events server for loopback.
//!
//! It serves the WebSocket protocol on `/ws` and a small HTTP control API on the same port.
//! It is Chatbell's demo server (embedded in the desktop app's demo mode), the real peer of the
//! engine's and the app's tests, and a tool for integrators. Traffic is realistic and
//! deterministic per seed; subscriptions follow the protocol exactly; faults (reset, close,
//! stall, malformed frames) can be injected through the API. With [`SimTls`] it serves `wss://`,
//! and with a client CA it requires client certificates (mutual TLS).

mod client;
mod control;
mod control_client;
mod http;
mod hub;
mod tls;
mod traffic;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

pub use control::ENDPOINTS;
pub use control_client::{ControlClient, ControlError};
pub use hub::{ClientId, ClientInfo, Fault, Hub};
pub use tls::{SimTls, TlsError};
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
    /// When set, `/ws` takes TLS only (`wss://`), with this certificate and key, and client
    /// certificates when it names a client CA. The control API answers plain HTTP too.
    pub tls: Option<SimTls>,
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
            tls: None,
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
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A running simulator.
pub struct SimHandle {
    addr: SocketAddr,
    tls: bool,
    hub: Arc<Hub>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://addr/ws`, or with TLS `wss://localhost:PORT/ws` on loopback (the name a test
    /// certificate is made for), `wss://addr/ws` elsewhere.
    pub fn ws_url(&self) -> String {
        if !self.tls {
            return format!("ws://{}/ws", self.addr);
        }
        let ip = self.addr.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            format!("wss://localhost:{}/ws", self.addr.port())
        } else {
            format!("wss://{}/ws", self.addr)
        }
    }

    /// True when `/ws` takes TLS only.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// `http://addr`: the control API, in plain HTTP also on a TLS port.
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
    // Files first: a bad certificate is reported before the port is taken.
    let acceptor = config.tls.as_ref().map(tls::acceptor).transpose()?;
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
    let tls = acceptor.is_some();
    let mut tasks = vec![tokio::spawn(accept_loop(
        listener,
        acceptor,
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
        tls,
        hub,
        cancel,
        tasks,
    })
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
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
            acceptor.clone(),
            peer,
            hub.clone(),
            config.clone(),
            cancel.clone(),
        ));
    }
}

/// Completes the TLS handshake when the client opens one; None when that fails (logged).
async fn open(
    stream: TcpStream,
    acceptor: Option<TlsAcceptor>,
    peer: SocketAddr,
) -> Option<tls::Conn> {
    let Some(acceptor) = acceptor else {
        return Some(tls::Conn::Plain(stream));
    };
    let handshake = async {
        if !tls::starts_tls(&stream).await? {
            return Ok(tls::Conn::Plain(stream));
        }
        let tls = acceptor.accept(stream).await?;
        Ok::<_, std::io::Error>(tls::Conn::Tls(Box::new(tls)))
    };
    match tokio::time::timeout(Duration::from_secs(10), handshake).await {
        Ok(Ok(conn)) => Some(conn),
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::info!(%peer, "TLS handshake timed out");
            None
        }
    }
}

/// Reads the request head and hands the connection to the WebSocket or the control API.
async fn route(
    stream: TcpStream,
    acceptor: Option<TlsAcceptor>,
    peer: SocketAddr,
    hub: Arc<Hub>,
    config: Arc<SimConfig>,
    cancel: CancellationToken,
) {
    let Some(mut stream) = open(stream, acceptor, peer).await else {
        return;
    };
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
        if config.tls.is_some() && !stream.is_tls() {
            let body = serde_json::json!({ "error": "this server takes wss:// (TLS) only on /ws" });
            let _ = http::respond_json(&mut stream, 400, &body).await;
        } else if !head.is_websocket_upgrade() {
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
