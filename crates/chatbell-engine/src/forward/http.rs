//! One HTTP POST the company's way: the route and the trust of [`crate::net`] (the proxy from
//! the settings or the desktop, the system's CAs and `server.tls.ca_file`), HTTP/1.1 written by
//! hand (`Connection: close`, one request per connection: a forward is rare), the answer's
//! status read with `httparse`, nothing of its body kept.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::request::HttpRequest;
use crate::net::{NetFailure, Schemes, Way, open_stream};

/// How long a POST may take, from connecting to the answer's status.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The most of an answer's head that is read: a status line and ordinary headers.
const MAX_HEAD: usize = 16 * 1024;

/// How a POST went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    #[error("{0}")]
    Net(#[from] NetFailure),
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("the connection failed: {0}")]
    Io(String),
    /// A header value with a line break (a secret pasted with one): it would be a second
    /// header.
    #[error("the {0} header has a line break")]
    BadHeader(&'static str),
    #[error("the answer is not HTTP")]
    NotHttp,
    #[error("the server answered {0}")]
    Status(u16),
}

impl PostError {
    /// Worth another try later: the network, a timeout, the server's own trouble (5xx, 429).
    /// A refusal (4xx) stays a refusal.
    pub fn retry(&self) -> bool {
        match self {
            PostError::Status(status) => *status >= 500 || *status == 429,
            PostError::NotHttp | PostError::BadHeader(_) => false,
            // What only the agent can fix (the address, trust, a proxy's password, a file)
            // fails the same way every time.
            PostError::Net(failure) => !failure.needs_the_agent(),
            PostError::Timeout(_) | PostError::Io(_) => true,
        }
    }
}

/// POSTs `request`, within `timeout` from connecting to the answer's status; the status when
/// it is a success (2xx).
pub async fn post(
    request: &HttpRequest,
    way: &Way<'_>,
    timeout: Duration,
) -> Result<u16, PostError> {
    match tokio::time::timeout(timeout, post_now(request, way)).await {
        Ok(result) => result,
        Err(_) => Err(PostError::Timeout(timeout)),
    }
}

async fn post_now(request: &HttpRequest, way: &Way<'_>) -> Result<u16, PostError> {
    let url = url::Url::parse(&request.url).map_err(|e| NetFailure::BadUrl {
        detail: e.to_string(),
    })?;
    let mut opened = open_stream(&request.url, Schemes::Http, way).await?;
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or(&opened.host)),
        None => url.host_str().unwrap_or(&opened.host).to_string(),
    };
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let mut head = format!(
        "POST {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Chatbell/{}\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        env!("CARGO_PKG_VERSION"),
        request.body.len()
    );
    for (name, value) in &request.headers {
        // A value is ours (built in `request`), but a name or value with a line break would
        // be a second header: refused rather than sent.
        if value.contains(['\r', '\n']) {
            return Err(PostError::BadHeader(name));
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let io = |e: std::io::Error| PostError::Io(e.to_string());
    opened.stream.write_all(head.as_bytes()).await.map_err(io)?;
    opened.stream.write_all(&request.body).await.map_err(io)?;
    opened.stream.flush().await.map_err(io)?;
    let mut answer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = opened.stream.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            return Err(PostError::NotHttp);
        }
        answer.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&answer) {
            Ok(httparse::Status::Complete(_)) => {
                let status = response.code.ok_or(PostError::NotHttp)?;
                return if (200..300).contains(&status) {
                    Ok(status)
                } else {
                    Err(PostError::Status(status))
                };
            }
            Ok(httparse::Status::Partial) if answer.len() < MAX_HEAD => {}
            _ => return Err(PostError::NotHttp),
        }
    }
}
