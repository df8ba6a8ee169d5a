//! A client for the control API, for tests and tools that drive a simulator.

use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::hub::{ClientInfo, Fault};

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control API at {addr}: {source}")]
    Io {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("control API answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("control API answered something that is not HTTP/JSON: {0}")]
    Garbled(String),
}

/// Talks to a simulator's control API over plain HTTP/1.1.
#[derive(Debug, Clone, Copy)]
pub struct ControlClient {
    addr: SocketAddr,
}

impl ControlClient {
    pub fn new(addr: SocketAddr) -> Self {
        ControlClient { addr }
    }

    /// Sends one request; returns the status and the JSON body.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ControlError> {
        let io = |source| ControlError::Io {
            addr: self.addr,
            source,
        };
        let mut stream = TcpStream::connect(self.addr).await.map_err(io)?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).await.map_err(io)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.map_err(io)?;
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| ControlError::Garbled(text.to_string()))?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ControlError::Garbled(head.to_string()))?;
        let json =
            serde_json::from_str(body).map_err(|_| ControlError::Garbled(body.to_string()))?;
        Ok((status, json))
    }

    async fn ok(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ControlError> {
        match self.request(method, path, body).await? {
            (200, json) => Ok(json),
            (status, json) => Err(ControlError::Status {
                status,
                body: json.to_string(),
            }),
        }
    }

    /// `POST /events` with one envelope (or an array); returns the answer.
    pub async fn post_events(&self, events: &Value) -> Result<Value, ControlError> {
        self.ok("POST", "/events", Some(events)).await
    }

    /// `POST /events` with one frame; returns how many clients got it.
    pub async fn send_event(&self, event: &Value) -> Result<u64, ControlError> {
        let answer = self.post_events(event).await?;
        answer["delivered"]
            .as_u64()
            .ok_or_else(|| ControlError::Garbled(answer.to_string()))
    }

    pub async fn clients(&self) -> Result<Vec<ClientInfo>, ControlError> {
        let json = self.ok("GET", "/clients", None).await?;
        serde_json::from_value(json.clone()).map_err(|_| ControlError::Garbled(json.to_string()))
    }

    /// Injects a fault into every client; returns how many.
    pub async fn fault(&self, fault: &Fault) -> Result<u64, ControlError> {
        let body = serde_json::to_value(fault).expect("faults serialize");
        let answer = self.ok("POST", "/faults", Some(&body)).await?;
        Ok(answer["applied"].as_u64().unwrap_or(0))
    }

    /// Starts a burst of `count` generated events to every client; returns how many.
    pub async fn burst(&self, count: u64, seed: u64) -> Result<u64, ControlError> {
        let body = serde_json::json!({ "count": count, "seed": seed });
        let answer = self.ok("POST", "/burst", Some(&body)).await?;
        Ok(answer["clients"].as_u64().unwrap_or(0))
    }

    /// Waits until `pred` holds for the client list (the server registers clients
    /// asynchronously), up to `timeout`.
    pub async fn wait_clients(
        &self,
        timeout: std::time::Duration,
        pred: impl Fn(&[ClientInfo]) -> bool,
    ) -> Result<Vec<ClientInfo>, ControlError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let clients = self.clients().await?;
            if pred(&clients) || tokio::time::Instant::now() >= deadline {
                return Ok(clients);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}
