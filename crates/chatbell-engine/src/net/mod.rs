//! The way to the server: the route (directly or through a proxy, [`system`] and [`proxy`]),
//! the trust ([`trust`]), the WebSocket handshake on top, and why it failed ([`failure`]), in
//! words the agent can act on. `docs/network.md` tells how the route and the trust are chosen.

mod failure;
mod proxy;
pub mod system;
mod trust;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, http};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use failure::{FileProblem, FileRole, NetFailure};
pub use system::{Route, RouteSource};
pub use trust::{Store, TrustUsed};

pub use crate::settings::{ProxyProblem, ProxyScheme, ProxySetting, ProxyUrl, TlsSettings};

use crate::secret::Secret;
use crate::settings::AuthMode;

/// Where to connect, which way, and how to present the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub url: String,
    pub token: Option<Secret>,
    pub auth: AuthMode,
    pub query_param: String,
    pub proxy: ProxySetting,
    pub tls: TlsSettings,
    /// The password of a proxy from the settings (from the keychain).
    pub proxy_password: Option<Secret>,
    /// The passphrase of an encrypted client key (from the keychain).
    pub key_passphrase: Option<Secret>,
}

impl ServerConfig {
    /// A server reached the desktop's way, with nothing but a URL and a token.
    pub fn new(url: impl Into<String>, token: Option<Secret>) -> Self {
        ServerConfig {
            url: url.into(),
            token,
            auth: AuthMode::Header,
            query_param: "token".into(),
            proxy: ProxySetting::System,
            tls: TlsSettings::default(),
            proxy_password: None,
            key_passphrase: None,
        }
    }
}

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The largest frame accepted from the server. Larger ones break the connection (tungstenite
/// cannot skip them); the protocol crate's own, smaller bound rejects and logs the rest.
const MAX_MESSAGE: usize = 1024 * 1024;
/// The most bytes waiting to be written to a server that does not read.
const MAX_UNSENT: usize = 1024 * 1024;

/// How a connect went, for `doctor` and Settings' *Check connection*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub route: Route,
    /// Which roots verified the server (`None` for `ws://`).
    pub trust: Option<TrustUsed>,
    /// The server certificate's issuer (common name).
    pub issuer: Option<String>,
}

#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The server refused the token (HTTP 401/403).
    Unauthorized(u16),
    Failed(NetFailure),
}

impl From<NetFailure> for ConnectError {
    fn from(f: NetFailure) -> Self {
        ConnectError::Failed(f)
    }
}

/// Where the URL points.
struct Target {
    host: String,
    port: u16,
    tls: bool,
}

/// The schemes an address may have: the chat server's WebSocket, or a forwarding target's
/// HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schemes {
    WebSocket,
    Http,
}

fn target(url: &str, schemes: Schemes) -> Result<Target, NetFailure> {
    let bad = |detail: &str| NetFailure::BadUrl {
        detail: detail.into(),
    };
    let url = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let tls = match (schemes, url.scheme()) {
        (Schemes::WebSocket, "wss") | (Schemes::Http, "https") => true,
        (Schemes::WebSocket, "ws") | (Schemes::Http, "http") => false,
        (Schemes::WebSocket, _) => return Err(bad("the address must start with ws:// or wss://")),
        (Schemes::Http, _) => return Err(bad("the address must start with https:// or http://")),
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("the address names no host"))?;
    Ok(Target {
        host: host.trim_matches(['[', ']']).to_string(),
        port: url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 }),
        tls,
    })
}

/// The route `server` takes.
pub async fn route(server: &ServerConfig) -> Result<Route, NetFailure> {
    let t = target(&server.url, Schemes::WebSocket)?;
    route_to(&t, &server.proxy).await
}

async fn route_to(t: &Target, proxy: &ProxySetting) -> Result<Route, NetFailure> {
    Ok(match proxy {
        ProxySetting::None => Route::direct(RouteSource::Setting),
        ProxySetting::Url(url) => Route {
            proxy: Some(url.clone()),
            source: RouteSource::Setting,
            password: None,
        },
        ProxySetting::System => system::resolve(&t.host, t.port, t.tls).await,
    })
}

/// How to reach an address: the route's proxy and its password, and the trust for TLS.
pub struct Way<'a> {
    pub proxy: &'a ProxySetting,
    pub proxy_password: Option<&'a Secret>,
    pub tls: &'a TlsSettings,
    pub key_passphrase: Option<&'a Secret>,
}

/// An open connection to an address, and what it went through.
pub(crate) struct Opened {
    pub stream: MaybeTlsStream<TcpStream>,
    pub route: Route,
    pub trust: Option<TrustUsed>,
    seen: Option<Arc<Mutex<trust::Seen>>>,
    /// The address's host, as the TLS name and the `Host` header.
    pub host: String,
}

impl Opened {
    /// The certificate's issuer the TLS handshake saw.
    fn issuer(&self) -> Option<String> {
        self.seen
            .as_ref()
            .and_then(|s| crate::sync::lock(s).issuer.clone())
    }
}

/// Opens a connection to `url` the company's way: the route, the tunnel, TLS with the trust
/// of `way` (the chat server's and the forwarding targets' alike).
pub(crate) async fn open_stream(
    url: &str,
    schemes: Schemes,
    way: &Way<'_>,
) -> Result<Opened, NetFailure> {
    let t = target(url, schemes)?;
    let route = route_to(&t, way.proxy).await?;
    let tcp = match &route.proxy {
        None => {
            let tcp = TcpStream::connect((t.host.as_str(), t.port))
                .await
                .map_err(|e| direct_failure(&e, &t.host))?;
            let _ = tcp.set_nodelay(true);
            tcp
        }
        Some(proxy) => {
            // A password the agent saved wins over one that came with the address.
            let password = way.proxy_password.or(route.password.as_ref());
            proxy::tunnel(proxy, password, &t.host, t.port).await?
        }
    };
    let proxy_name = route.proxy.as_ref().map(ToString::to_string);
    let (stream, trust, seen) = if t.tls {
        // Files and perhaps a key to decrypt: off the runtime's thread (the resident has one),
        // and inside the connect's timeout, which a hung network folder would otherwise defeat.
        let (settings, passphrase) = (way.tls.clone(), way.key_passphrase.cloned());
        let tls =
            tokio::task::spawn_blocking(move || trust::configure(&settings, passphrase.as_ref()))
                .await
                .map_err(|e| NetFailure::Other {
                    detail: e.to_string(),
                })??;
        let name = rustls::pki_types::ServerName::try_from(t.host.clone()).map_err(|_| {
            NetFailure::BadUrl {
                detail: "the host is not a valid name".into(),
            }
        })?;
        let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
        let stream = connector.connect(name, tcp).await.map_err(|e| {
            let issuer = crate::sync::lock(&tls.seen).issuer.clone();
            // A proxy re-signing the server's certificate can be told only where the server's
            // own CA is known (the CA file) and someone else signed what came through.
            let inspecting = proxy_name.as_deref().filter(|_| {
                !tls.server_cas.is_empty()
                    && issuer.as_ref().is_none_or(|i| !tls.server_cas.contains(i))
            });
            io_or_tls(&e, &t.host, issuer, inspecting)
        })?;
        (
            MaybeTlsStream::Rustls(stream),
            Some(tls.used),
            Some(tls.seen),
        )
    } else {
        (MaybeTlsStream::Plain(tcp), None, None)
    };
    Ok(Opened {
        stream,
        route,
        trust,
        seen,
        host: t.host,
    })
}

/// Opens the WebSocket: the route, the tunnel, TLS, the handshake with the token (inside TLS
/// and inside the tunnel: the proxy sees only `CONNECT host:port`).
pub(crate) async fn open(server: &ServerConfig) -> Result<(Ws, CheckReport), ConnectError> {
    let request = request(server)?;
    let t = target(&server.url, Schemes::WebSocket)?;
    let way = Way {
        proxy: &server.proxy,
        proxy_password: server.proxy_password.as_ref(),
        tls: &server.tls,
        key_passphrase: server.key_passphrase.as_ref(),
    };
    let opened = open_stream(&server.url, Schemes::WebSocket, &way).await?;
    if let Some(proxy) = &opened.route.proxy
        && !t.tls
        && server.token.is_some()
    {
        tracing::warn!(proxy = %proxy, "a ws:// address through a proxy: the proxy can read the token; use wss://");
    }
    let issuer = opened.issuer();
    let (route, trust, stream) = (opened.route, opened.trust, opened.stream);
    // A server that floods pings and never reads would otherwise grow the buffer of unsent
    // pongs without bound until the send timeout ends the session; past this bound tungstenite
    // keeps only the newest pong.
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
        .max_write_buffer_size(MAX_UNSENT);
    match tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await {
        Ok((ws, _)) => Ok((
            ws,
            CheckReport {
                route,
                trust,
                issuer,
            },
        )),
        Err(WsError::Http(response)) => {
            let status = response.status().as_u16();
            if status == 401 || status == 403 {
                Err(ConnectError::Unauthorized(status))
            } else {
                Err(NetFailure::HttpStatus { status }.into())
            }
        }
        // Under TLS 1.3 the server judges the client certificate after the client's side of
        // the handshake is done: its refusal arrives with the first read.
        Err(WsError::Io(e)) => Err(io_or_tls(&e, &t.host, issuer, None).into()),
        Err(WsError::Tls(e)) => Err(NetFailure::Tls {
            detail: e.to_string(),
        }
        .into()),
        Err(e) => Err(NetFailure::Other {
            detail: e.to_string(),
        }
        .into()),
    }
}

/// The handshake request: the URL (with the token in the query, in that mode), the token's
/// header, our name.
fn request(server: &ServerConfig) -> Result<http::Request<()>, NetFailure> {
    let bad = |e: &dyn std::fmt::Display| NetFailure::BadUrl {
        detail: e.to_string(),
    };
    let url = match (&server.token, server.auth) {
        (Some(token), AuthMode::Query) => {
            with_query(&server.url, &server.query_param, token.expose()).map_err(|e| bad(&e))?
        }
        _ => server.url.clone(),
    };
    let mut request = url.into_client_request().map_err(|e| bad(&e))?;
    let headers = request.headers_mut();
    if let (Some(token), AuthMode::Header) = (&server.token, server.auth) {
        let value = format!("Bearer {}", token.expose())
            .parse()
            .map_err(|_| NetFailure::TokenHeader)?;
        headers.insert("Authorization", value);
    }
    headers.insert(
        "User-Agent",
        concat!("Chatbell/", env!("CARGO_PKG_VERSION"))
            .parse()
            .expect("ascii"),
    );
    Ok(request)
}

fn direct_failure(e: &std::io::Error, host: &str) -> NetFailure {
    // The resolver's failure is an I/O error of no particular kind; its words are the mark.
    if e.to_string().contains("failed to lookup address") {
        return NetFailure::Dns { host: host.into() };
    }
    failure::io_failure(e, host)
}

/// An I/O error of a TLS stream: the TLS failure inside it, if there is one. `inspecting`:
/// the proxy on the route, when an unknown issuer is to be read as that proxy's.
fn io_or_tls(
    e: &std::io::Error,
    host: &str,
    issuer: Option<String>,
    proxy: Option<&str>,
) -> NetFailure {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => failure::tls_failure(tls, host, issuer, proxy),
        None => match e.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                NetFailure::Lost {
                    detail: "the server closed the connection during the handshake".into(),
                }
            }
            _ => failure::io_failure(e, host),
        },
    }
}

/// Adds `name=value` to a URL's query, the value percent-encoded (all but RFC 3986's
/// unreserved characters: a space is `%20`, never `+`, which not every server decodes).
fn with_query(url: &str, name: &str, value: &str) -> Result<String, url::ParseError> {
    let mut url = url::Url::parse(url)?;
    let pair = format!(
        "{name}={}",
        percent_encoding::utf8_percent_encode(value, crate::web_panel::VALUE)
    );
    let query = match url.query().filter(|q| !q.is_empty()) {
        Some(q) => format!("{q}&{pair}"),
        None => pair,
    };
    url.set_query(Some(&query));
    Ok(url.into())
}

/// Connects once and reports the route, the trust and the issuer, or why it failed: for
/// `doctor` and Settings' *Check connection*.
pub async fn check(server: &ServerConfig, timeout: Duration) -> Result<CheckReport, NetFailure> {
    match tokio::time::timeout(timeout, open(server)).await {
        Err(_) => Err(NetFailure::Timeout {
            seconds: timeout.as_secs().max(1),
        }),
        Ok(Err(ConnectError::Unauthorized(status))) => Err(NetFailure::TokenRefused { status }),
        Ok(Err(ConnectError::Failed(f))) => Err(f),
        Ok(Ok((mut ws, report))) => {
            // A polite close, but not a wait on a server that does not answer it.
            let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
            Ok(report)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn token_goes_into_the_query_encoded() {
        let q = |url, name, value| with_query(url, name, value).unwrap();
        assert_eq!(
            q("ws://h/ws", "token", "a b&c"),
            "ws://h/ws?token=a%20b%26c"
        );
        assert_eq!(q("ws://h/ws?org=1", "key", "x"), "ws://h/ws?org=1&key=x");
        assert_eq!(q("ws://h/ws#f", "t", "é"), "ws://h/ws?t=%C3%A9#f");
        assert_eq!(
            q("wss://h:8443/a/b?", "t", "+=/?#%"),
            "wss://h:8443/a/b?t=%2B%3D%2F%3F%23%25"
        );
        assert!(with_query("not a url", "t", "x").is_err());
    }
}
