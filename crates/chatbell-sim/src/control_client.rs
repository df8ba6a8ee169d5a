//! A client for the control API, for tests and tools that drive a simulator.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use ureq::http;

use crate::hub::{ClientInfo, Fault};

/// A stuck simulator fails a test instead of hanging it; a large `POST /events` still fits.
const TIMEOUT: Duration = Duration::from_secs(60);

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

/// Talks to a simulator's control API over HTTP/1.1.
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
        let addr = self.addr;
        let (method, path) = (method.to_string(), path.to_string());
        let body = body.map(Value::to_string).unwrap_or_default();
        // ureq blocks; on a runtime thread it would stall the simulator serving this very
        // request when both share a current-thread runtime (as `#[tokio::test]`s do).
        tokio::task::spawn_blocking(move || request_blocking(addr, &method, &path, body))
            .await
            .map_err(|e| ControlError::Io {
                addr,
                source: std::io::Error::other(e),
            })?
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

fn request_blocking(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: String,
) -> Result<(u16, Value), ControlError> {
    let fail = |e: ureq::Error| match e {
        ureq::Error::Protocol(_) => ControlError::Garbled(e.to_string()),
        e => ControlError::Io {
            addr,
            source: e.into_io(),
        },
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    // An empty body is still sent (as `Content-Length: 0`): the simulator reads no chunked
    // bodies, and a body-less POST would go out chunked.
    let request = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
        .map_err(|e| fail(e.into()))?;
    let mut response = agent.run(request).map_err(fail)?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().map_err(fail)?;
    let json = serde_json::from_str(&text).map_err(|_| ControlError::Garbled(text))?;
    Ok((status, json))
}
