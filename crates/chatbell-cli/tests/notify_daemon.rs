//! A notification daemon that hangs, fails or is missing (issue 9): `chatbell-cli listen` keeps
//! its threads bounded, asks a failing daemon again only after a backoff, says so once rather
//! than per notification, uses the daemon again when it is back, and prints the daemon's error
//! text harmlessly.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use chatbell_testkit::{Behaviour, NotificationServer, Spawned};
use common::{Desk, listen_human, message, thread_count, wait_json_count};

const CAPS: &[&str] = &["body", "body-markup", "actions", "sound"];

fn failed(v: &serde_json::Value) -> bool {
    v["type"] == "delivery" && v["result"] == "failed"
}

fn shown(v: &serde_json::Value) -> bool {
    v["type"] == "delivery" && v["result"] == "shown"
}

/// What the notifier logged on stderr (the default filter shows warnings and errors).
fn notifier_log(listener: &Spawned) -> Vec<String> {
    listener
        .stderr
        .all()
        .into_iter()
        .filter(|l| l.contains("chatbell_engine::notifier"))
        .collect()
}

/// Sends `count` messages of one chat, `gap` apart: each one finds the chat's notification
/// gone (it failed), so each is a notification of its own.
async fn send_messages(desk: &Desk, user: i64, count: i64, gap: Duration) {
    for i in 1..=count {
        desk.sim
            .control()
            .send_event(&message(i, user, "Ann", &format!("message {i}")))
            .await
            .unwrap();
        tokio::time::sleep(gap).await;
    }
}

/// Waits for the decision about message `id` of `user`: after it, the notifier has that
/// notification in hand.
async fn wait_decision(listener: &Spawned, user: i64, id: i64) {
    let decision = listener
        .stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "decision" && v["user_id"] == user && v["message_id"] == id
        })
        .await;
    assert!(
        decision.is_some(),
        "no decision for message {id}; stdout:\n{}",
        listener.stdout.text()
    );
}

/// Waits for `count` failed deliveries, then checks each names `cause`.
async fn all_failed_with(listener: &Spawned, count: usize, cause: &str) {
    let answered = wait_json_count(&listener.stdout, count, Duration::from_secs(10), failed).await;
    assert_eq!(answered, count, "stdout:\n{}", listener.stdout.text());
    let failures: Vec<_> = listener.stdout.json().into_iter().filter(failed).collect();
    assert!(
        failures
            .iter()
            .all(|f| f["error"].as_str().unwrap().contains(cause)),
        "{failures:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_that_never_answers_leaves_no_thread_behind() {
    let desk = Desk::new().await;
    let server = NotificationServer::start_with(&desk.bus, CAPS, Behaviour::HangCapabilities).await;
    let listener = desk.listen(&[]).await;
    let before = thread_count(listener.pid());

    send_messages(&desk, 1, 30, Duration::from_millis(100)).await;
    wait_decision(&listener, 1, 30).await;
    // Every notification gets its answer: the hung daemon holds up one call at a time, for
    // CALL_TIMEOUT (3 s), and the rest fail at once while it is known to be down.
    let answered = wait_json_count(&listener.stdout, 30, Duration::from_secs(20), failed).await;
    let after = thread_count(listener.pid());
    let requests = server.requests();

    assert!(
        after <= before + 2,
        "threads grew from {before} to {after} ({answered} of 30 notifications answered; the \
         daemon got {} calls)",
        requests.len()
    );
    assert_eq!(
        answered,
        30,
        "each hung call held up the next; stdout:\n{}",
        listener.stdout.text()
    );
    assert!(
        requests.len() <= 3,
        "30 notifications made {} calls to a hung daemon: {requests:?}",
        requests.len()
    );
    let error = listener.stdout.json().into_iter().rfind(failed).unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("did not answer"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erroring_daemon_is_asked_again_only_after_a_backoff() {
    let desk = Desk::new().await;
    let server = NotificationServer::start_with(
        &desk.bus,
        CAPS,
        Behaviour::ErrorEverything("the daemon is broken".into()),
    )
    .await;
    let listener = desk.listen(&[]).await;

    // 50 notifications over 2 s.
    send_messages(&desk, 2, 50, Duration::from_millis(40)).await;
    wait_decision(&listener, 2, 50).await;
    // Every one is reported failed, with the daemon's own words, while the daemon itself is
    // asked once, then once per backoff step (1 s, 2 s …).
    all_failed_with(&listener, 50, "the daemon is broken").await;
    let requests = server.requests();
    assert!(
        requests.len() <= 4,
        "50 notifications in 2 s made {} calls to a failing daemon: {requests:?}",
        requests.len()
    );
    let log = notifier_log(&listener);
    assert!(
        log.len() <= 2,
        "{} log lines about the daemon:\n{}",
        log.len(),
        log[..log.len().min(3)].join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_daemon_the_failure_is_logged_once_not_per_notification() {
    let desk = Desk::new().await;
    let listener = desk.listen(&[]).await;

    send_messages(&desk, 3, 50, Duration::from_millis(40)).await;
    wait_decision(&listener, 3, 50).await;
    all_failed_with(&listener, 50, "no notification server").await;
    let log = notifier_log(&listener);
    assert!(
        (1..=2).contains(&log.len()),
        "{} log lines about the missing daemon:\n{}",
        log.len(),
        log[..log.len().min(3)].join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_that_appears_later_gets_the_next_notification() {
    let desk = Desk::new().await;
    let listener = desk.listen(&[]).await;
    desk.sim
        .control()
        .send_event(&message(1, 4, "Ann", "anyone?"))
        .await
        .unwrap();
    let failure = listener
        .stdout
        .wait_json(Duration::from_secs(10), failed)
        .await;
    assert!(failure.is_some(), "stdout:\n{}", listener.stdout.text());

    let server = NotificationServer::start(&desk.bus, CAPS).await;
    // Until the backoff ends a notification fails at once; the first after it reaches the new
    // daemon. One message every 300 ms until one is shown.
    let mut sent = 1;
    let mut delivered = None;
    while delivered.is_none() && sent < 50 {
        sent += 1;
        desk.sim
            .control()
            .send_event(&message(sent, 4, "Ann", &format!("message {sent}")))
            .await
            .unwrap();
        delivered = listener
            .stdout
            .wait_json(Duration::from_millis(300), shown)
            .await;
    }
    assert!(
        delivered.is_some(),
        "the daemon that appeared was never used; stdout:\n{}",
        listener.stdout.text()
    );
    let calls = server.wait_calls(1, Duration::from_secs(5)).await;
    assert!(calls[0].body.starts_with("message "), "{:?}", calls[0].body);
    assert!(
        sent <= 15,
        "{sent} messages before one reached the daemon that appeared"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_error_with_escape_codes_is_printed_harmlessly() {
    let desk = Desk::new().await;
    let _server = NotificationServer::start_with(
        &desk.bus,
        CAPS,
        Behaviour::ErrorEverything("\x1b[31mred\x1b[0m \x1b]0;retitled\x07".into()),
    )
    .await;
    let listener = listen_human(&desk, &[]).await;
    desk.sim
        .control()
        .send_event(&message(1, 5, "Ann", "hello"))
        .await
        .unwrap();
    let line = listener
        .stdout
        .wait_for(Duration::from_secs(10), |l| {
            l.starts_with("notification not shown")
        })
        .await;
    let Some(line) = line else {
        panic!("no failure shown; stdout:\n{}", listener.stdout.text());
    };
    assert!(!line.contains('\x1b') && !line.contains('\x07'), "{line:?}");
    assert!(
        line.contains(r"\u{1b}[31mred\u{1b}[0m \u{1b}]0;retitled\u{7}"),
        "{line}"
    );
}
