//! The simulator over real loopback sockets.

use std::time::Duration;

use chatbell_protocol::{ClientAction, Event, parse_frame};
use chatbell_sim::{Fault, SimConfig, SimHandle};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn sim(rate: f64) -> SimHandle {
    sim_with(SimConfig {
        rate,
        ..test_config()
    })
    .await
}

fn test_config() -> SimConfig {
    SimConfig::quiet()
}

async fn sim_with(config: SimConfig) -> SimHandle {
    chatbell_sim::start(config).await.expect("simulator starts")
}

async fn connect(sim: &SimHandle) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(sim.ws_url())
        .await
        .expect("connects");
    ws
}

/// The next text frame, skipping control frames; None on timeout or close.
async fn next_text(ws: &mut Ws, within: Duration) -> Option<String> {
    tokio::time::timeout(within, async {
        loop {
            match ws.next().await? {
                Ok(Message::Text(t)) => return Some(t.to_string()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .flatten()
}

fn message(id: i64, user_id: i64) -> serde_json::Value {
    json!({"event": "new_message", "data": {"message_id": id, "user_id": user_id, "user_name": "U", "text": "hi", "file_path": null, "source": "telegram"}, "timestamp": "2026-01-10T15:31:00Z"})
}

#[tokio::test]
async fn generated_traffic_reaches_clients_and_follows_the_protocol() {
    let sim = sim(500.0).await;
    let mut ws = connect(&sim).await;
    for _ in 0..50 {
        let frame = next_text(&mut ws, Duration::from_secs(5))
            .await
            .expect("a generated event");
        let env = parse_frame(&frame, chrono::Utc::now()).expect("generated frames are valid");
        assert!(!matches!(env.event, Event::Unknown { .. }));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn subscribe_and_unsubscribe_filter_delivery_per_connection() {
    let sim = sim(0.0).await;
    let control = sim.control();
    let mut all = connect(&sim).await;
    let mut one = connect(&sim).await;
    one.send(Message::text(
        ClientAction::Subscribe { user_id: 1 }.to_json(),
    ))
    .await
    .unwrap();
    one.send(Message::text(
        ClientAction::Subscribe { user_id: -2 }.to_json(),
    ))
    .await
    .unwrap();
    let clients = control
        .wait_clients(Duration::from_secs(5), |c| {
            c.len() == 2 && c.iter().any(|c| c.filters.len() == 2)
        })
        .await
        .unwrap();
    assert_eq!(
        clients
            .iter()
            .map(|c| c.filters.clone())
            .collect::<Vec<_>>(),
        vec![vec![], vec![-2, 1]]
    );

    assert_eq!(control.send_event(&message(1, 1)).await.unwrap(), 2);
    assert_eq!(
        control.send_event(&message(2, 3)).await.unwrap(),
        1,
        "user 3 is outside the filter"
    );
    assert_eq!(control.send_event(&message(3, -2)).await.unwrap(), 2);
    let got: Vec<_> = [
        next_text(&mut one, Duration::from_secs(2)).await,
        next_text(&mut one, Duration::from_secs(2)).await,
    ]
    .into_iter()
    .map(|f| {
        parse_frame(&f.unwrap(), chrono::Utc::now())
            .unwrap()
            .event
            .user_id()
            .unwrap()
    })
    .collect();
    assert_eq!(got, vec![1, -2]);
    for want in [1, 3, -2] {
        let f = next_text(&mut all, Duration::from_secs(2)).await.unwrap();
        assert_eq!(
            parse_frame(&f, chrono::Utc::now()).unwrap().event.user_id(),
            Some(want)
        );
    }

    // Unsubscribing the last filter returns to all events.
    one.send(Message::text(
        ClientAction::Unsubscribe { user_id: 1 }.to_json(),
    ))
    .await
    .unwrap();
    one.send(Message::text(
        ClientAction::Unsubscribe { user_id: -2 }.to_json(),
    ))
    .await
    .unwrap();
    // A malformed action is ignored and does not break the connection.
    one.send(Message::text("{\"action\":\"subscribe\"}"))
        .await
        .unwrap();
    control
        .wait_clients(Duration::from_secs(5), |c| {
            c.iter().all(|c| c.filters.is_empty())
        })
        .await
        .unwrap();
    assert_eq!(control.send_event(&message(4, 3)).await.unwrap(), 2);
    let f = next_text(&mut one, Duration::from_secs(2)).await.unwrap();
    assert_eq!(
        parse_frame(&f, chrono::Utc::now()).unwrap().event.user_id(),
        Some(3)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_token_is_required_when_configured() {
    let sim = sim_with(SimConfig {
        token: Some("s3cret".into()),
        ..test_config()
    })
    .await;
    let status_of = |r: Result<_, WsError>| match r {
        Ok(_) => 101,
        Err(WsError::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected {e}"),
    };
    let plain = tokio_tungstenite::connect_async(sim.ws_url()).await;
    assert_eq!(status_of(plain.map(|_| ())), 401);
    let wrong = tokio_tungstenite::connect_async(format!("{}?token=nope", sim.ws_url())).await;
    assert_eq!(status_of(wrong.map(|_| ())), 401);
    let mut req = sim.ws_url().into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", "Bearer wrong".parse().unwrap());
    assert_eq!(
        status_of(tokio_tungstenite::connect_async(req).await.map(|_| ())),
        401
    );

    let mut req = sim.ws_url().into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", "Bearer s3cret".parse().unwrap());
    assert_eq!(
        status_of(tokio_tungstenite::connect_async(req).await.map(|_| ())),
        101
    );
    let query =
        tokio_tungstenite::connect_async(format!("{}?x=1&token=s3cret", sim.ws_url())).await;
    assert_eq!(status_of(query.map(|_| ())), 101);
    sim.shutdown().await;
}

#[tokio::test]
async fn post_events_delivers_the_exact_text_and_answers_counts() {
    let sim = sim(0.0).await;
    let control = sim.control();
    let mut a = connect(&sim).await;
    let _b = connect(&sim).await;
    control
        .wait_clients(Duration::from_secs(5), |c| c.len() == 2)
        .await
        .unwrap();

    // Protocol-breaking but valid JSON goes through untouched: integrators test their clients.
    let odd = json!({"event": "new_message", "data": {"message_id": "x"}, "zzz": 1});
    let answer = control
        .post_events(&json!([message(1, 5), odd, {"event": "custom"}]))
        .await
        .unwrap();
    assert_eq!(answer, json!({"delivered": [2, 2, 2], "total": 6}));
    assert_eq!(
        next_text(&mut a, Duration::from_secs(2)).await.unwrap(),
        message(1, 5).to_string()
    );
    assert_eq!(
        next_text(&mut a, Duration::from_secs(2)).await.unwrap(),
        odd.to_string()
    );

    let (status, body) = control.request("POST", "/events", None).await.unwrap();
    assert_eq!(status, 400, "{body}");
    let (status, body) = control
        .request("POST", "/events", Some(&json!([message(1, 1), 7])))
        .await
        .unwrap();
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("events[1]: expected a JSON object"),
        "{body}"
    );
    let (status, _) = control.request("GET", "/events", None).await.unwrap();
    assert_eq!(status, 405);
    let (status, body) = control.request("GET", "/nope", None).await.unwrap();
    assert_eq!(status, 404, "{body}");
    let (status, body) = control
        .request("POST", "/faults", Some(&json!({"kind": "explode"})))
        .await
        .unwrap();
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("explode"),
        "{body}"
    );
    let (status, _) = control.request("GET", "/ws", None).await.unwrap();
    assert_eq!(status, 400, "/ws without an upgrade is refused");
    let (status, body) = control.request("GET", "/health", None).await.unwrap();
    assert_eq!((status, body), (200, json!({"ok": true, "clients": 2})));
    sim.shutdown().await;
}

#[tokio::test]
async fn fault_reset_drops_the_connection_without_a_close_frame() {
    let sim = sim(0.0).await;
    let mut ws = connect(&sim).await;
    sim.control()
        .wait_clients(Duration::from_secs(5), |c| c.len() == 1)
        .await
        .unwrap();
    assert_eq!(sim.control().fault(&Fault::Reset).await.unwrap(), 1);
    let end = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("ends promptly");
    match end {
        Some(Err(WsError::Io(e))) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        Some(Err(WsError::Protocol(_))) => {} // reset observed as a closed stream without handshake
        other => panic!("expected a reset, got {other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn fault_close_sends_the_requested_close_code() {
    let sim = sim(0.0).await;
    let mut ws = connect(&sim).await;
    sim.control()
        .wait_clients(Duration::from_secs(5), |c| c.len() == 1)
        .await
        .unwrap();
    sim.control()
        .fault(&Fault::Close {
            code: 4001,
            reason: "maintenance".into(),
        })
        .await
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
    {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(frame.code, CloseCode::from(4001));
            assert_eq!(frame.reason.as_str(), "maintenance");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn fault_stall_stops_answering_pings_then_resumes() {
    let sim = sim(0.0).await;
    let mut ws = connect(&sim).await;
    let control = sim.control();
    control
        .wait_clients(Duration::from_secs(5), |c| c.len() == 1)
        .await
        .unwrap();

    let pong_within = async |ws: &mut Ws, ms: u64| {
        ws.send(Message::Ping("p".into())).await.unwrap();
        tokio::time::timeout(Duration::from_millis(ms), async {
            loop {
                if let Some(Ok(Message::Pong(_))) = ws.next().await {
                    return;
                }
            }
        })
        .await
        .is_ok()
    };
    assert!(pong_within(&mut ws, 2000).await, "answers pings normally");
    control.fault(&Fault::Stall { ms: 800 }).await.unwrap();
    control
        .wait_clients(Duration::from_secs(2), |c| c[0].stalled)
        .await
        .expect("the stall began");
    control.send_event(&message(1, 1)).await.unwrap();
    ws.send(Message::Ping("p".into())).await.unwrap();
    // The pong and the queued event come, and only once the stall is over.
    let (mut pong, mut event) = (false, None);
    tokio::time::timeout(Duration::from_secs(3), async {
        while !pong || event.is_none() {
            match ws.next().await {
                Some(Ok(Message::Pong(_))) => pong = true,
                Some(Ok(Message::Text(text))) => event = Some(text.to_string()),
                Some(Ok(_)) => {}
                other => panic!("the connection ended: {other:?}"),
            }
            let clients = control.clients().await.unwrap();
            assert!(!clients[0].stalled, "answered while stalled");
        }
    })
    .await
    .expect("a pong and the event after the stall");
    assert_eq!(event.unwrap(), message(1, 1).to_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn fault_malformed_sends_frames_that_all_fail_to_parse() {
    let sim = sim(0.0).await;
    let mut ws = connect(&sim).await;
    sim.control()
        .wait_clients(Duration::from_secs(5), |c| c.len() == 1)
        .await
        .unwrap();
    sim.control()
        .fault(&Fault::Malformed { count: 20 })
        .await
        .unwrap();
    let mut got = 0;
    while got < 20 {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Text(t))) => {
                assert!(parse_frame(&t, chrono::Utc::now()).is_err(), "{t}")
            }
            Some(Ok(Message::Binary(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
        got += 1;
    }
    // The connection survives the fault.
    assert_eq!(sim.control().send_event(&message(9, 9)).await.unwrap(), 1);
    assert!(next_text(&mut ws, Duration::from_secs(2)).await.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn burst_sends_generated_events_as_fast_as_the_socket_takes_them() {
    let sim = sim(0.0).await;
    let mut ws = connect(&sim).await;
    sim.control()
        .wait_clients(Duration::from_secs(5), |c| c.len() == 1)
        .await
        .unwrap();
    assert_eq!(sim.control().burst(20_000, 3).await.unwrap(), 1);
    let mut last_id = 0;
    for _ in 0..20_000 {
        let f = next_text(&mut ws, Duration::from_secs(5))
            .await
            .expect("burst frame");
        if let Event::NewMessage(m) = parse_frame(&f, chrono::Utc::now()).unwrap().event {
            assert!(m.message_id > last_id);
            last_id = m.message_id;
        }
    }
    assert!(last_id > 5_000, "a realistic share of messages: {last_id}");
    let clients = sim
        .control()
        .wait_clients(Duration::from_secs(2), |c| c[0].sent == 20_000)
        .await
        .unwrap();
    assert_eq!(clients[0].sent, 20_000);
    sim.shutdown().await;
}

#[tokio::test]
async fn serves_hundreds_of_concurrent_clients() {
    const N: usize = 300;
    let sim = sim(0.0).await;
    let mut clients = Vec::new();
    for _ in 0..N {
        clients.push(connect(&sim).await);
    }
    sim.control()
        .wait_clients(Duration::from_secs(10), |c| c.len() == N)
        .await
        .unwrap();
    assert_eq!(
        sim.control().send_event(&message(1, 1)).await.unwrap(),
        N as u64
    );
    for ws in &mut clients {
        assert!(next_text(ws, Duration::from_secs(5)).await.is_some());
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_clients_with_going_away() {
    let sim = sim(0.0).await;
    let mut ws = connect(&sim).await;
    sim.control()
        .wait_clients(Duration::from_secs(5), |c| c.len() == 1)
        .await
        .unwrap();
    sim.shutdown().await;
    match tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
    {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away),
        other => panic!("expected close 1001, got {other:?}"),
    }
}
