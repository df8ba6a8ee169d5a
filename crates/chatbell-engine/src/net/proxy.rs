//! Proxies: the setting, and the tunnel through one. HTTP proxies get `CONNECT host:port`
//! (with Basic credentials when the URL names a user), SOCKS5 proxies the SOCKS handshake; the
//! WebSocket's own request, and with it the token, goes inside the tunnel only.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::failure::{NetFailure, io_failure};
use crate::secret::Secret;
use crate::settings::{ProxyScheme, ProxyUrl};

/// The largest answer to `CONNECT` read before the tunnel (headers only).
const MAX_ANSWER: usize = 16 * 1024;

/// Opens a tunnel through `proxy` to `host:port`.
pub(crate) async fn tunnel(
    proxy: &ProxyUrl,
    password: Option<&Secret>,
    host: &str,
    port: u16,
) -> Result<TcpStream, NetFailure> {
    let name = proxy.to_string();
    let tcp = TcpStream::connect((proxy.host.as_str(), proxy.port))
        .await
        .map_err(|e| match io_failure(&e, &proxy.host) {
            NetFailure::NoNetwork => NetFailure::NoNetwork,
            _ => NetFailure::ProxyUnreachable {
                proxy: name.clone(),
            },
        })?;
    let _ = tcp.set_nodelay(true);
    match proxy.scheme {
        ProxyScheme::Http => connect_http(tcp, proxy, password, host, port).await,
        ProxyScheme::Socks5 => connect_socks(tcp, proxy, password, host, port).await,
    }
}

async fn connect_http(
    mut tcp: TcpStream,
    proxy: &ProxyUrl,
    password: Option<&Secret>,
    host: &str,
    port: u16,
) -> Result<TcpStream, NetFailure> {
    let name = proxy.to_string();
    let failed = |detail: String| NetFailure::ProxyFailed {
        proxy: name.clone(),
        detail,
    };
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let (Some(user), Some(password)) = (&proxy.user, password) {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{user}:{}", password.expose()));
        request.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| failed(e.to_string()))?;

    // Read exactly the answer's head: what follows belongs to the tunnel.
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_ANSWER {
            return Err(failed("the proxy's answer is too long".into()));
        }
        match tcp.read(&mut byte).await {
            Ok(0) => return Err(failed("the proxy closed the connection".into())),
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(failed(e.to_string())),
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut answer = httparse::Response::new(&mut headers);
    match answer.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(failed("the proxy's answer is not HTTP".into())),
    }
    match answer.code.unwrap_or(0) {
        200..=299 => Ok(tcp),
        // 407 is the standard's; some proxies (tinyproxy 1.11) answer wrong credentials with
        // 401.
        401 | 407 if password.is_none() || proxy.user.is_none() => {
            Err(NetFailure::ProxyAuthRequired { proxy: name })
        }
        401 | 407 => Err(NetFailure::ProxyAuthFailed { proxy: name }),
        // The proxy tried and the server did not answer it (refused, no such name, timed out):
        // the server's trouble, not the proxy's policy. Squid says 502–504, tinyproxy 500.
        status @ (500 | 502..=504) => Err(NetFailure::ProxyNoServer {
            proxy: name,
            status,
        }),
        status => Err(NetFailure::ProxyRefused {
            proxy: name,
            status,
        }),
    }
}

async fn connect_socks(
    tcp: TcpStream,
    proxy: &ProxyUrl,
    password: Option<&Secret>,
    host: &str,
    port: u16,
) -> Result<TcpStream, NetFailure> {
    use tokio_socks::Error as S;
    use tokio_socks::tcp::Socks5Stream;
    let name = proxy.to_string();
    let stream = match (&proxy.user, password) {
        (Some(user), Some(password)) => {
            Socks5Stream::connect_with_password_and_socket(
                tcp,
                (host, port),
                user,
                password.expose(),
            )
            .await
        }
        _ => Socks5Stream::connect_with_socket(tcp, (host, port)).await,
    };
    match stream {
        Ok(stream) => Ok(stream.into_inner()),
        Err(S::NoAcceptableAuthMethods) if password.is_none() || proxy.user.is_none() => {
            Err(NetFailure::ProxyAuthRequired { proxy: name })
        }
        Err(S::PasswordAuthFailure(_) | S::NoAcceptableAuthMethods) => {
            Err(NetFailure::ProxyAuthFailed { proxy: name })
        }
        Err(S::ConnectionNotAllowedByRuleset) => Err(NetFailure::ProxyRefused {
            proxy: name,
            status: 0,
        }),
        Err(S::ConnectionRefused | S::HostUnreachable | S::NetworkUnreachable | S::TtlExpired) => {
            Err(NetFailure::ProxyNoServer {
                proxy: name,
                status: 0,
            })
        }
        Err(e) => Err(NetFailure::ProxyFailed {
            proxy: name,
            detail: e.to_string(),
        }),
    }
}
