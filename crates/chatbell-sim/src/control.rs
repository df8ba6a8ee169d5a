//! The control API: inject events and faults, start bursts, list clients.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::http::HttpError;
use crate::hub::{ClientId, Fault, Hub};

/// The endpoints, for `GET /` and `--help`.
pub const ENDPOINTS: &str = "\
  GET  /ws        WebSocket endpoint (the protocol)
  GET  /clients   connected clients: id, peer, filters (subscription set), sent, dropped
  POST /events    one envelope or an array; delivered to every client whose filters match;
                  answers {\"delivered\": n} or {\"delivered\": [n, ...], \"total\": n}
  POST /faults    {\"kind\":\"reset\"} | {\"kind\":\"close\",\"code\":1011,\"reason\":\"...\"}
                  | {\"kind\":\"stall\",\"ms\":5000} | {\"kind\":\"malformed\",\"count\":5},
                  optional \"client\": id; answers {\"applied\": n}
  POST /burst     {\"count\": N, \"seed\": S?, \"client\": id?}: N generated events as fast as
                  each socket takes them; answers {\"clients\": n}
  GET  /health    {\"ok\": true, \"clients\": n}";

pub(crate) fn handle(
    hub: &Hub,
    default_seed: u64,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Value, HttpError> {
    match (method, path) {
        ("GET", "/") => {
            Ok(json!({ "endpoints": ENDPOINTS.lines().map(str::trim).collect::<Vec<_>>() }))
        }
        ("GET", "/health") => Ok(json!({ "ok": true, "clients": hub.len() })),
        ("GET", "/clients") => {
            Ok(serde_json::to_value(hub.clients()).expect("client list serializes"))
        }
        ("POST", "/events") => post_events(hub, body),
        ("POST", "/faults") => {
            let req: FaultRequest = parse_body(body)?;
            Ok(json!({ "applied": hub.fault(&req.fault, req.client) }))
        }
        ("POST", "/burst") => {
            let req: BurstRequest = parse_body(body)?;
            let clients = hub.burst(req.count, req.seed.unwrap_or(default_seed), req.client);
            Ok(json!({ "clients": clients, "count": req.count }))
        }
        (_, "/" | "/health" | "/clients" | "/events" | "/faults" | "/burst") => Err(
            HttpError::new(405, format!("{method} is not allowed on {path}")),
        ),
        _ => Err(HttpError::new(
            404,
            format!("no endpoint {path}; GET / lists them"),
        )),
    }
}

#[derive(Deserialize)]
struct FaultRequest {
    #[serde(flatten)]
    fault: Fault,
    client: Option<ClientId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BurstRequest {
    count: u64,
    seed: Option<u64>,
    client: Option<ClientId>,
}

fn parse_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|e| HttpError::new(400, format!("request body: {e}")))
}

/// Delivers each envelope as the exact text it was posted with, so integrators can send
/// anything JSON (including events that break the protocol on purpose).
fn post_events(hub: &Hub, body: &[u8]) -> Result<Value, HttpError> {
    let raw: &RawValue = parse_body(body)?;
    if raw.get().starts_with('[') {
        let items: Vec<&RawValue> = parse_body(body)?;
        let mut delivered = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let user_id =
                user_id_of(item).map_err(|e| HttpError::new(400, format!("events[{i}]: {e}")))?;
            delivered.push(hub.deliver(item.get().into(), user_id));
        }
        let total: usize = delivered.iter().sum();
        Ok(json!({ "delivered": delivered, "total": total }))
    } else {
        let user_id = user_id_of(raw).map_err(|e| HttpError::new(400, e))?;
        Ok(json!({ "delivered": hub.deliver(raw.get().into(), user_id) }))
    }
}

/// The user an envelope is about, for subscription filtering.
fn user_id_of(item: &RawValue) -> Result<Option<i64>, String> {
    match serde_json::from_str::<Value>(item.get()) {
        Ok(Value::Object(obj)) => Ok(obj
            .get("data")
            .and_then(|d| d.get("user_id"))
            .and_then(Value::as_i64)),
        Ok(_) => Err("expected a JSON object (an envelope)".into()),
        Err(e) => Err(e.to_string()),
    }
}
