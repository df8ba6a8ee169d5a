//! What only Windows has, run under Wine here: toasts that fail (Wine has no WinRT toast
//! classes) are said once and backed off, a machine without an audio device is said once, and
//! `doctor` finds Windows' own parts (the Credential Manager, Windows' notifications).

#![cfg(windows)]

mod common;

use std::time::Duration;

use common::{Desk, new_chat, wait_json_count};

fn failed(v: &serde_json::Value) -> bool {
    v["type"] == "delivery" && v["result"] == "failed"
}

/// Lines of the listener's log (stderr) that contain `text`.
fn logged(listener: &chatbell_testkit::Spawned, text: &str) -> usize {
    listener
        .stderr
        .all()
        .iter()
        .filter(|l| l.contains(text))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_toast_and_a_missing_audio_device_are_each_said_once() {
    let desk = Desk::new().await;
    let listener = desk.listen(&[]).await;
    let control = desk.sim.control();
    for user in [101, 102, 103] {
        control
            .send_event(&new_chat(user, "Ann", "hello"))
            .await
            .unwrap();
    }
    // Each chat's notification is answered: the first by the failing call, the others at once
    // by the backoff, without a call.
    let answered = wait_json_count(&listener.stdout, 3, Duration::from_secs(20), failed).await;
    assert_eq!(answered, 3, "stdout:\n{}", listener.stdout.text());
    // The log is read on a thread of its own: each line is waited for before it is counted.
    for line in [
        "the notification server is failing",
        "sounds cannot be played",
    ] {
        listener
            .stderr
            .wait_for(Duration::from_secs(5), |l| l.contains(line))
            .await
            .unwrap_or_else(|| panic!("never logged {line:?}:\n{}", listener.stderr.text()));
    }
    assert_eq!(
        logged(&listener, "the notification server is failing"),
        1,
        "said once:\n{}",
        listener.stderr.text()
    );
    assert_eq!(
        logged(&listener, "sounds cannot be played"),
        1,
        "said once:\n{}",
        listener.stderr.text()
    );
    let (ok, out, err) = desk.run(&["chats", "--json"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 3, "every chat is stored: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_finds_windows_own_parts() {
    let desk = Desk::new().await;
    desk.write_settings(serde_json::json!({"server": {"url": desk.sim.ws_url()}}));
    let (_, out, err) = desk.run(&["doctor", "--json"]);
    let checks: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let detail = |name: &str| {
        checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} check: {out}{err}"))["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        detail("keychain").starts_with("Windows Credential Manager: reachable"),
        "{out}"
    );
    assert!(
        detail("notification daemon").contains("Windows notifications"),
        "{out}"
    );
    assert!(detail("audio").contains("no audio device"), "{out}");
    assert!(detail("store").contains(r"\chatbell.db"), "{out}");
}
