//! Real desktop notifications: `chatbell-cli listen` talks to a recording notification server
//! on a private D-Bus.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use chatbell_testkit::{HintValue, NotificationServer};
use common::{Desk, message, new_chat};

const CAPS: &[&str] = &["body", "body-markup", "actions", "sound"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_chat_raises_one_escaped_notification_then_updates_it_in_place() {
    let desk = Desk::new().await;
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let _listener = desk.listen(&[]).await;
    let hostile = "<b>Привет</b> & <a href=\"http://evil.example\">click</a>";
    desk.sim
        .control()
        .send_event(&new_chat(1, "Иван Петров", hostile))
        .await
        .unwrap();

    let calls = server.wait_calls(1, Duration::from_secs(5)).await;
    let first = &calls[0];
    assert_eq!(first.app_name, "Chatbell");
    assert_eq!(first.summary, "New chat: Иван Петров");
    assert_eq!(
        first.body,
        "&lt;b&gt;Привет&lt;/b&gt; &amp; &lt;a href=&quot;http://evil.example&quot;&gt;click&lt;/a&gt;"
    );
    assert_eq!(first.replaces_id, 0);
    assert_eq!(
        first.actions,
        [
            "default",
            "Open",
            "read",
            "Mark as read",
            "snooze",
            "Snooze"
        ],
        "no web panel link is set: no button for it"
    );
    assert_eq!(
        first.hints.get("desktop-entry"),
        Some(&HintValue::Str("chatbell".into()))
    );
    assert_eq!(
        first.hints.get("sound-name"),
        Some(&HintValue::Str("message-new-instant".into()))
    );
    assert_eq!(first.app_icon, "chatbell");

    // Three more messages at once: held, then one update of the same notification.
    for i in 1..=3 {
        desk.sim
            .control()
            .send_event(&message(i, 1, "Иван Петров", &format!("message {i}")))
            .await
            .unwrap();
    }
    let calls = server.wait_calls(2, Duration::from_secs(6)).await;
    assert_eq!(calls.len(), 2);
    let update = &calls[1];
    // Held until the chat's window (3 s from the first) ended: nothing reached the server
    // in between, since this is the second call of all.
    assert!(
        update.arrived.duration_since(first.arrived) >= Duration::from_millis(2900),
        "held within the coalescing window: updated after {:?}",
        update.arrived.duration_since(first.arrived)
    );
    assert_eq!(update.replaces_id, first.id, "updated in place");
    assert_eq!(update.summary, "Иван Петров · 4 new messages");
    assert_eq!(update.body, "message 3");
    assert_eq!(
        update.hints.get("suppress-sound"),
        Some(&HintValue::Bool(true)),
        "no second sound"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_body_markup_the_text_is_sent_as_typed() {
    let desk = Desk::new().await;
    let server = NotificationServer::start(&desk.bus, &["body", "actions"]).await;
    let _listener = desk.listen(&[]).await;
    desk.sim
        .control()
        .send_event(&message(1, 2, "Ann", "1 < 2 & <i>x</i>"))
        .await
        .unwrap();
    let calls = server.wait_calls(1, Duration::from_secs(5)).await;
    assert_eq!(calls[0].body, "1 < 2 & <i>x</i>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_mode_says_who_wrote_but_not_what() {
    let desk = Desk::new().await;
    desk.write_settings(serde_json::json!({"notifications": {"privacy": true}}));
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let _listener = desk.listen(&[]).await;
    desk.sim
        .control()
        .send_event(&message(1, 3, "Maria", "my card number is 4111 1111"))
        .await
        .unwrap();
    let calls = server.wait_calls(1, Duration::from_secs(5)).await;
    assert_eq!(
        (calls[0].summary.as_str(), calls[0].body.as_str()),
        ("Maria", "")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn russian_locale_speaks_russian() {
    let desk = Desk::new().await;
    desk.write_settings(serde_json::json!({"ui": {"language": "ru"}}));
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let _listener = desk.listen(&[]).await;
    desk.sim
        .control()
        .send_event(&new_chat(5, "Ольга", "Здравствуйте"))
        .await
        .unwrap();
    let calls = server.wait_calls(1, Duration::from_secs(5)).await;
    assert_eq!(calls[0].summary, "Новый чат: Ольга");
    assert_eq!(
        calls[0].actions,
        [
            "default",
            "Открыть",
            "read",
            "Прочитано",
            "snooze",
            "Отложить"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicking_a_notification_reports_the_chat_to_open() {
    let desk = Desk::new().await;
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let listener = desk.listen(&[]).await;
    desk.sim
        .control()
        .send_event(&message(7, -42, "Widget user", "hello"))
        .await
        .unwrap();
    let calls = server.wait_calls(1, Duration::from_secs(5)).await;
    let opened = common::press(&server, &listener, calls[0].id, "default", |v| {
        v["type"] == "notification_opened"
    })
    .await;
    assert_eq!(opened["user_id"], -42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_across_many_chats_becomes_one_digest() {
    let desk = Desk::new().await;
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let listener = desk.listen(&[]).await;
    let frames: Vec<_> = (1..=40)
        .map(|i| message(i, i % 8, &format!("User {}", i % 8), "flood"))
        .collect();
    desk.sim
        .control()
        .post_events(&serde_json::json!(frames))
        .await
        .unwrap();
    // The digest as it ends, once its window has passed: every call before it is in.
    listener
        .stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "delivery" && v["summary"] == "40 new messages in 8 chats"
        })
        .await
        .expect("the digest of all 40");
    let calls = server.wait_calls(1, Duration::from_secs(1)).await;
    assert!(
        calls.len() <= 6,
        "a flood of 40 messages in 8 chats made {} notifications",
        calls.len()
    );
    let digest = calls
        .iter()
        .rev()
        .find(|c| c.summary.contains("chats"))
        .expect("a digest");
    assert_eq!(digest.summary, "40 new messages in 8 chats");
    assert!(
        !server.closed_by_client().is_empty(),
        "per-chat notifications make way for the digest"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_notification_daemon_failures_are_reported_and_events_still_stored() {
    let desk = Desk::new().await;
    let listener = desk.listen(&[]).await;
    desk.sim
        .control()
        .send_event(&message(1, 9, "Z", "anyone?"))
        .await
        .unwrap();
    let failed = listener
        .stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "delivery" && v["result"] == "failed"
        })
        .await
        .expect("a visible failure");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("no notification server"),
        "{failed}"
    );
    let (ok, out, _) = desk.run(&["chats", "--json"]);
    assert!(ok && out.contains("anyone?"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_chat_is_held_back_and_the_reason_recorded() {
    let desk = Desk::new().await;
    desk.write_settings(serde_json::json!({"notifications": {"mutes": {"11": null}}}));
    let server = NotificationServer::start(&desk.bus, CAPS).await;
    let listener = desk.listen(&[]).await;
    desk.sim
        .control()
        .send_event(&message(1, 11, "Muted", "x"))
        .await
        .unwrap();
    desk.sim
        .control()
        .send_event(&message(2, 12, "Loud", "y"))
        .await
        .unwrap();
    let muted = listener
        .stdout
        .wait_json(Duration::from_secs(5), |v| {
            v["type"] == "decision" && v["user_id"] == 11
        })
        .await
        .unwrap();
    assert_eq!(
        (muted["outcome"].as_str(), muted["reason"].as_str()),
        (Some("suppressed"), Some("muted"))
    );
    let calls = server.wait_calls(1, Duration::from_secs(5)).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].summary, "Loud");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_not_disturb_holds_everything_back_and_says_so() {
    let desk = Desk::new().await;
    desk.write_settings(serde_json::json!({"notifications": {"do_not_disturb": true}}));
    let _server = NotificationServer::start(&desk.bus, CAPS).await;
    let listener = desk.listen(&[]).await;
    desk.sim
        .control()
        .send_event(&new_chat(21, "Quiet", "psst"))
        .await
        .unwrap();
    let decision = listener
        .stdout
        .wait_json(Duration::from_secs(5), |v| v["type"] == "decision")
        .await
        .unwrap();
    // That nothing reaches the server is the engine's test (`tests/notification_actions.rs`),
    // where a barrier through the notifier's queue proves it; here, the reason is told.
    assert_eq!(decision["reason"], "do_not_disturb");
}
