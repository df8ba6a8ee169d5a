//! Just enough HTTP/1.1 to route one port between the WebSocket endpoint and the control API.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::tls::Conn;

/// The most a request head may take; a larger one is refused.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most a control API request body may take (a large `POST /events` array fits).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A request head, read off the socket before deciding who serves it.
#[derive(Debug)]
pub struct Head {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// Bytes read from the socket so far: the head and whatever followed it.
    pub buffered: Vec<u8>,
    /// Where the head ends in `buffered`.
    pub head_len: usize,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_websocket_upgrade(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("connection closed before a full request head")]
    Closed,
    #[error("request head over {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    #[error("malformed request head: {0}")]
    Malformed(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

pub async fn read_head(stream: &mut Conn) -> Result<Head, HeadError> {
    let mut buffered = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        buffered.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buffered) {
            Ok(httparse::Status::Complete(head_len)) => {
                let target = req.path.unwrap_or("/");
                let path = target
                    .split_once('?')
                    .map_or(target, |(p, _)| p)
                    .to_string();
                let headers = req
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                let method = req.method.unwrap_or("GET").to_string();
                return Ok(Head {
                    method,
                    path,
                    headers,
                    buffered,
                    head_len,
                });
            }
            Ok(httparse::Status::Partial) if buffered.len() > MAX_HEAD_BYTES => {
                return Err(HeadError::TooLarge);
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(HeadError::Malformed(e.to_string())),
        }
    }
}

/// Reads the body that follows `head` (by `Content-Length`).
pub async fn read_body(stream: &mut Conn, head: &Head) -> Result<Vec<u8>, HttpError> {
    let len = match head.header("content-length") {
        None => 0,
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|_| HttpError::new(400, format!("Content-Length {v:?} is not a number")))?,
    };
    if len > MAX_BODY_BYTES {
        return Err(HttpError::new(
            413,
            format!("body of {len} bytes is over {MAX_BODY_BYTES}"),
        ));
    }
    let mut body = head.buffered[head.head_len..].to_vec();
    body.truncate(len);
    let mut rest = vec![0u8; len - body.len()];
    stream
        .read_exact(&mut rest)
        .await
        .map_err(|e| HttpError::new(400, format!("body: {e}")))?;
    body.extend_from_slice(&rest);
    Ok(body)
}

/// An error answered to the HTTP client as `{"error": message}` with a status.
#[derive(Debug)]
pub struct HttpError {
    pub status: u16,
    pub message: String,
}

impl HttpError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        HttpError {
            status,
            message: message.into(),
        }
    }
}

pub async fn respond_json(
    stream: &mut Conn,
    status: u16,
    body: &serde_json::Value,
) -> io::Result<()> {
    let body = body.to_string();
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// A connection whose first bytes were already read; they are served again before the rest,
/// so the WebSocket handshake can read the request we peeked at.
pub struct Replayed {
    prefix: Vec<u8>,
    pos: usize,
    pub inner: Conn,
}

impl Replayed {
    pub fn new(prefix: Vec<u8>, inner: Conn) -> Self {
        Replayed {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl AsyncRead for Replayed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = buf.remaining().min(self.prefix.len() - self.pos);
            let start = self.pos;
            buf.put_slice(&self.prefix[start..start + n]);
            self.pos += n;
            if self.pos == self.prefix.len() {
                self.prefix = Vec::new();
                self.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Replayed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Splits `a=1&b=2` and finds one parameter's (percent-decoded) value.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::query_param;

    #[test]
    fn finds_and_decodes_query_parameters() {
        assert_eq!(
            query_param(Some("a=1&token=s%20e%2Bc"), "token").as_deref(),
            Some("s e+c")
        );
        assert_eq!(query_param(Some("token"), "token").as_deref(), Some(""));
        assert_eq!(query_param(Some("x=%zz&t=%4"), "x").as_deref(), Some("%zz"));
        assert_eq!(query_param(Some("t=%4"), "t").as_deref(), Some("%4"));
        assert_eq!(query_param(None, "token"), None);
        assert_eq!(query_param(Some("tok=1"), "token"), None);
    }
}
