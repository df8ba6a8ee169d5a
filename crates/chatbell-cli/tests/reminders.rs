//! Who waits, and the buttons on a notification, in `chatbell-cli`: `listen` with a recording
//! notification server on a private D-Bus that presses the buttons, and a stand-in browser on
//! `PATH` that writes down the URL it was asked to open.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use chatbell_testkit::{NotificationServer, eventually};
use common::{Desk, new_chat, press, until_online, wait_stored};

const WITHIN: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buttons_on_a_notification_work_in_listen() {
    let desk = Desk::new().await;
    let server = NotificationServer::start(&desk.bus, &["body", "actions"]).await;
    desk.write_settings(serde_json::json!({
        "server": {"web_panel": "https://support.example.com/chats/{user_id}?u={username}&s={source}"},
        "notifications": {"snooze_minutes": 15}
    }));
    // The browser: a stand-in `xdg-open` first on PATH that records its argument.
    let bin = desk.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let opened = desk.home.path().join("opened.txt");
    let stub = bin.join("xdg-open");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            opened.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut listen = desk.cli();
    listen
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .args(["listen", "--json", "--url", &desk.sim.ws_url()]);
    let listener = until_online(listen).await;

    let hostile = serde_json::json!({"event": "new_chat", "data": {"user_id": -7, "user_name": "Eve", "username": "../a b?x=\"q'&y=1", "source": "widget", "first_message": "hi"}, "timestamp": "2026-01-10T15:30:00Z"});
    desk.sim.control().send_event(&hostile).await.unwrap();
    let call = &server.wait_calls(1, WITHIN).await[0];
    assert_eq!(
        call.actions,
        [
            "default",
            "Open",
            "read",
            "Mark as read",
            "snooze",
            "Snooze",
            "web-panel",
            "Open in web panel"
        ]
    );
    press(&server, &listener, call.id, "web-panel", |v| {
        v["type"] == "web_panel_requested"
    })
    .await;
    let url = eventually(
        "the browser is asked",
        WITHIN,
        async || match std::fs::read_to_string(&opened) {
            Ok(text) if text.ends_with('\n') => Ok(text),
            other => Err(other),
        },
    )
    .await;
    assert_eq!(
        url,
        "https://support.example.com/chats/-7?u=..%2Fa%20b%3Fx%3D%22q%27%26y%3D1&s=widget\n"
    );

    // Snooze, for the minutes in the settings: in the store, seen by another process.
    desk.sim
        .control()
        .send_event(&new_chat(8, "Bob", "hello"))
        .await
        .unwrap();
    let bob = server.wait_calls(2, WITHIN).await[1].clone();
    let snoozed = press(&server, &listener, bob.id, "snooze", |v| {
        v["type"] == "snoozed" && v["user_id"] == 8
    })
    .await;
    let until: chrono::DateTime<chrono::Utc> = snoozed["until"].as_str().unwrap().parse().unwrap();
    let minutes = (until - chrono::Utc::now()).num_seconds() as f64 / 60.0;
    assert!((14.0..=15.0).contains(&minutes), "{minutes} minutes");
    let (_, out, _) = desk.run(&["chats", "--json"]);
    let bob_row = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|c| c["user_id"] == 8)
        .unwrap();
    assert_eq!(bob_row["snoozed_until"], snoozed["until"]);

    // Mark as read: stored. (A notification answers one press: a third chat's.)
    desk.sim
        .control()
        .send_event(&new_chat(9, "Cid", "hey"))
        .await
        .unwrap();
    let cid = server.wait_calls(3, WITHIN).await[2].clone();
    let read = press(&server, &listener, cid.id, "read", |v| {
        v["type"] == "chat_read" && v["user_id"] == 9
    })
    .await;
    assert_eq!(
        read["unread_total"], 2,
        "Eve's and Bob's messages are still unread"
    );
    let (_, out, _) = desk.run(&["chats", "--waiting", "--json"]);
    let waiting: Vec<i64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["user_id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        waiting,
        [-7, 8],
        "the longest wait first; snoozed is still waiting"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_waiting_lists_who_waits_the_longest_first() {
    let desk = Desk::new().await;
    let listener = desk.listen(&["--no-notify"]).await;
    for (user, id) in [(1, 100), (2, 200), (3, 300)] {
        let frame = common::message(id, user, &format!("User {user}"), "hello");
        desk.sim.control().send_event(&frame).await.unwrap();
        wait_stored(&listener, id).await;
    }
    let (ok, _, err) = desk.run(&["read", "2"]);
    assert!(ok, "{err}");
    let (ok, out, err) = desk.run(&["chats", "--waiting", "--json"]);
    assert!(ok, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r["user_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [1, 3],
        "the longest wait first, the read chat left out"
    );
    let since = |r: &serde_json::Value| {
        r["waiting_since"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    assert!(since(&rows[0]) <= since(&rows[1]));

    // For people: a column with the wait.
    let (_, out, _) = desk.run(&["chats", "--waiting"]);
    let header = out.lines().next().unwrap();
    assert!(header.contains("waiting"), "{out}");
    assert!(out.lines().nth(1).unwrap().contains("<1 min"), "{out}");
    desk.run(&["read", "1"]);
    desk.run(&["read", "3"]);
    let (_, out, _) = desk.run(&["chats", "--waiting"]);
    assert_eq!(out.trim(), "Nobody is waiting.");
}
