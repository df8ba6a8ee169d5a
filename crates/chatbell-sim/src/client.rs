//! One WebSocket client: handshake with the token check, then a loop that sends what the hub
//! queues, reads subscription actions, and carries out injected faults.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chatbell_protocol::parse_action;
use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_util::sync::CancellationToken;

use crate::SimConfig;
use crate::http::{Head, Replayed, query_param};
use crate::hub::{ClientStats, Fault, Hub, Outgoing, Registration};
use crate::tls::Conn;
use crate::traffic::{MALFORMED, Traffic};

type Ws = WebSocketStream<Replayed>;

/// Completes the handshake (refusing a wrong token with 401) and serves the client until it
/// leaves, a fault ends it, or the server shuts down.
pub(crate) async fn serve(
    stream: Conn,
    head: Head,
    peer: String,
    hub: Arc<Hub>,
    config: &SimConfig,
    cancel: CancellationToken,
) {
    // The callback's signature is tungstenite's: its error type is the HTTP response itself.
    #[allow(clippy::result_large_err)]
    let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        if token_allows(config, req) {
            Ok(resp)
        } else {
            let mut err = ErrorResponse::new(Some("missing or wrong token".into()));
            *err.status_mut() = StatusCode::UNAUTHORIZED;
            Err(err)
        }
    };
    // Clients send only small actions.
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024));
    let replayed = Replayed::new(head.buffered, stream);
    let ws = match tokio_tungstenite::accept_hdr_async_with_config(replayed, check, Some(ws_config))
        .await
    {
        Ok(ws) => ws,
        Err(e) => {
            tracing::info!(%peer, error = %e, "handshake refused");
            return;
        }
    };
    let reg = hub.register(peer.clone());
    let id = reg.id;
    if config.burst_on_connect > 0 {
        hub.burst(config.burst_on_connect, config.seed, Some(id));
    }
    tracing::info!(%peer, id, "client connected");
    let end = run(ws, reg, &hub, cancel).await;
    hub.unregister(id);
    tracing::info!(%peer, id, end, "client gone");
}

async fn run(
    mut ws: Ws,
    mut reg: Registration,
    hub: &Hub,
    cancel: CancellationToken,
) -> &'static str {
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                let frame = CloseFrame { code: CloseCode::Away, reason: "simulator shutting down".into() };
                let _ = ws.close(Some(frame)).await;
                return "server shutdown";
            }
            Some(fault) = reg.faults.recv() => {
                if let Some(end) = inject(&mut ws, fault, &reg.stats, &cancel).await {
                    return end;
                }
            }
            Some(out) = reg.frames.recv() => {
                if send(&mut ws, out, &reg.stats).await.is_err() {
                    return "write failed";
                }
            }
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => match parse_action(&text) {
                    Ok(action) => {
                        tracing::debug!(id = reg.id, ?action, "action");
                        hub.apply(reg.id, action);
                    }
                    // The protocol defines no error reply; a bad action is logged and ignored.
                    Err(e) => tracing::warn!(id = reg.id, error = %e, "ignored malformed action"),
                },
                Some(Ok(Message::Ping(_))) => {
                    // The pong is queued by tungstenite; push it out now rather than with the
                    // next event, which may be minutes away on a quiet server.
                    if ws.flush().await.is_err() {
                        return "write failed";
                    }
                }
                Some(Ok(Message::Close(_))) | None => return "closed by client",
                Some(Ok(_)) => {}
                Some(Err(_)) => return "read failed",
            },
        }
    }
}

async fn send(
    ws: &mut Ws,
    out: Outgoing,
    stats: &ClientStats,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    match out {
        Outgoing::Frame(frame) => {
            ws.send(Message::Text(frame)).await?;
            stats.sent.fetch_add(1, Ordering::Relaxed);
        }
        Outgoing::Burst { count, seed } => {
            let mut traffic = Traffic::new(seed);
            let now = Utc::now();
            for i in 0..count {
                ws.feed(Message::text(traffic.next_frame(now))).await?;
                if i % 256 == 255 {
                    ws.flush().await?;
                    stats.sent.fetch_add(256, Ordering::Relaxed);
                }
            }
            ws.flush().await?;
            stats.sent.fetch_add(count % 256, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// Carries out a fault; returns why the connection ended if it did.
async fn inject(
    ws: &mut Ws,
    fault: Fault,
    stats: &ClientStats,
    cancel: &CancellationToken,
) -> Option<&'static str> {
    tracing::info!(?fault, "injecting fault");
    match fault {
        Fault::Reset => {
            // SO_LINGER 0 makes close() send RST instead of FIN.
            let _ = ws.get_ref().inner.tcp().set_zero_linger();
            Some("fault: reset")
        }
        Fault::Close { code, reason } => {
            let frame = CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            };
            let _ = ws.close(Some(frame)).await;
            Some("fault: close")
        }
        Fault::Stall { ms } => {
            // Neither reading nor writing: pings go unanswered and events queue (then drop)
            // exactly as behind a dead NAT mapping.
            stats.stalled.store(true, Ordering::Relaxed);
            let end = tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ms)) => None,
                _ = cancel.cancelled() => Some("server shutdown"),
            };
            stats.stalled.store(false, Ordering::Relaxed);
            end
        }
        Fault::Malformed { count } => {
            for i in 0..count as usize {
                let msg = match i % (MALFORMED.len() + 1) {
                    0 => Message::Binary(Bytes::from_static(b"\x00\x01binary frame")),
                    n => Message::text(MALFORMED[n - 1]),
                };
                if ws.send(msg).await.is_err() {
                    return Some("write failed");
                }
                stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            None
        }
    }
}

fn token_allows(config: &SimConfig, req: &Request) -> bool {
    let Some(token) = &config.token else {
        return true;
    };
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == token);
    let query = query_param(req.uri().query(), &config.token_param).is_some_and(|t| &t == token);
    bearer || query
}
